/*
 * check_results.c - tests for results.c: unit folders (no temp files left), metrics round trip,
 * provenance fields, maps.h5; error paths.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/h5.h"
#include "clip/numerics.h"
#include "harness/results.h"
#include "check_suites.h"
#include "test_util.h"

/* The done marker lists every file with size + sha256: a deleted or changed file is caught. */
START_TEST(done_marker_checks_files)
{
    Error err = {0};
    char *dir = results_unit_dir(test_tmp, "E", "d", "c", 0, 0);
    ck_assert_int_eq(fs_mkdirs(dir, &err), 0);
    char hash[65], why[600];
    ck_assert_int_eq(results_check_done(dir, hash, why, sizeof why), RESULTS_UNIT_NEW);
    MetricSet m = {0};
    results_metric_add(&m, "image_auroc", 0.5);
    ck_assert_int_eq(results_write_metrics(dir, &m, &err), 0);
    char *sub = xasprintf("%s/overlays", dir);
    ck_assert_int_eq(fs_mkdirs(sub, &err), 0);
    char *png = xasprintf("%s/a.png", sub);
    ck_assert_int_eq(fs_write_atomic(png, "xy", 2, &err), 0);
    ck_assert_int_eq(results_mark_done(dir, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", &err), 0);
    ck_assert_int_eq(results_check_done(dir, hash, why, sizeof why), RESULTS_UNIT_DONE);
    ck_assert_str_eq(hash, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
    /* a changed overlay (same size) */
    ck_assert_int_eq(fs_write_atomic(png, "xz", 2, &err), 0);
    ck_assert_int_eq(results_check_done(dir, hash, why, sizeof why), RESULTS_UNIT_BROKEN);
    ck_assert_msg(strstr(why, "overlays/a.png changed") != NULL, "%s", why);
    ck_assert_int_eq(fs_write_atomic(png, "xy", 2, &err), 0);
    char *met = xasprintf("%s/metrics.tsv", dir);
    ck_assert_int_eq(unlink(met), 0);
    ck_assert_int_eq(results_check_done(dir, hash, why, sizeof why), RESULTS_UNIT_BROKEN);
    ck_assert_msg(strstr(why, "metrics.tsv is missing") != NULL, "%s", why);
    /* an old marker without a file list is not trusted */
    char *done = xasprintf("%s/done", dir);
    ck_assert_int_eq(fs_write_atomic(done, "done\n", 5, &err), 0);
    ck_assert_int_eq(results_check_done(dir, hash, why, sizeof why), RESULTS_UNIT_BROKEN);
    free(done);
    free(met);
    free(png);
    free(sub);
    free(dir);
}
END_TEST

START_TEST(settings_diff_and_temps)
{
    char *d = results_settings_diff("a = 1\nb = 2\nc = x\n", "a = 1\nb = 3\nd = y\n", NULL);
    ck_assert_str_eq(d, "b 2 -> 3, c x -> (none), d (none) -> y");
    free(d);
    ck_assert_ptr_null(results_settings_diff("a = 1\n", "a = 1\n", NULL));
    const char *skip[] = {"b", NULL};
    ck_assert_ptr_null(results_settings_diff("a = 1\nb = 2\n", "a = 1\nb = 3\n", skip));
    /* a temp entry of a process that is gone is removed; ours and other names stay */
    Error err = {0};
    char *dead = xasprintf("%s/.k0.2147483646.new", test_tmp);
    char *deadf = xasprintf("%s/.metrics.tsv.2147483646.AbC123", test_tmp);
    char *mine = xasprintf("%s/.k1_s0.%ld.new", test_tmp, (long)getpid());
    char *plain = xasprintf("%s/.hidden", test_tmp);
    ck_assert_int_eq(fs_mkdirs(dead, &err), 0);
    char *inside = xasprintf("%s/scores.tsv", dead);
    ck_assert_int_eq(fs_write_atomic(inside, "x", 1, &err), 0);
    free(inside);
    ck_assert_int_eq(fs_write_atomic(deadf, "x", 1, &err), 0);
    ck_assert_int_eq(fs_mkdirs(mine, &err), 0);
    ck_assert_int_eq(fs_write_atomic(plain, "x", 1, &err), 0);
    ck_assert_int_eq(results_clean_temps(test_tmp), 2);
    ck_assert(!fs_is_dir(dead) && !fs_is_file(deadf) && fs_is_dir(mine) && fs_is_file(plain));
    free(dead);
    free(deadf);
    free(mine);
    free(plain);
}
END_TEST

START_TEST(unit_files)
{
    Error err = {0};
    char *dir = results_unit_dir(test_tmp, "E01", "mvtec", "bottle", 2, 3);
    ck_assert(strstr(dir, "/E01/mvtec/bottle/k2_s3") != NULL);
    char *z = results_unit_dir("r", "E", "d", "c", 0, 4);
    ck_assert_str_eq(z, "r/E/d/c/k0");
    free(z);
    ck_assert_int_eq(fs_mkdirs(dir, &err), 0);
    ck_assert_int_eq(fs_mkdirs(dir, &err), 0);
    ck_assert_int_eq(results_is_done(dir), 0);

    const char *paths[] = {"test/good/000.png", "test/crack/001.png"};
    int labels[] = {0, 1};
    float scores[] = {0.1f, 0.72345678f};
    ck_assert_int_eq(results_write_scores(dir, 2, paths, labels, scores, &err), 0);
    MetricSet m = {0}, back;
    results_metric_add(&m, "image_auroc", 0.9375);
    results_metric_add(&m, "pixel_auroc", 1.0 / 3.0);
    results_metric_add(&m, "aupro_0.3", NAN);
    ck_assert_int_eq(results_write_metrics(dir, &m, &err), 0);
    Config cfg;
    config_init(&cfg);
    config_put(&cfg, "tau", "0.01", "x.conf:1");
    ck_assert_int_eq(results_write_config(dir, &cfg, &err), 0);
    ck_assert_int_eq(results_write_references(dir, 1, paths, &err), 0);
    Provenance p = {"E01", "mvtec", "bottle", 2, 3, "w.h5", "abcd", "ef01", 1.5};
    ck_assert_int_eq(results_write_provenance(dir, &p, &err), 0);
    float maps[2 * 2 * 3] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
    uint8_t masks[12] = {0};
    masks[11] = 1;
    ck_assert_int_eq(results_write_maps(dir, 2, 2, 3, scores, maps, masks, labels, paths, &err), 0);
    ck_assert_int_eq(results_mark_done(dir, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", &err), 0);
    ck_assert_int_eq(results_is_done(dir), 1);
    /* exactly the files, no temp leftovers */
    ck_assert_int_eq(test_count_entries(dir), 8);

    char *path = xasprintf("%s/scores.tsv", dir);
    char *text = test_read_file(path, NULL);
    ck_assert_str_eq(text, "path\tlabel\tscore\ntest/good/000.png\t0\t0.100000001\ntest/crack/001.png\t1\t0.7234568\n");
    free(text);
    free(path);
    path = xasprintf("%s/metrics.tsv", dir);
    ck_assert_int_eq(results_read_metrics(path, &back, &err), 0);
    ck_assert_int_eq(back.n, 3);
    ck_assert(results_metric_get(&back, "pixel_auroc") == 1.0 / 3.0);
    ck_assert(isnan(results_metric_get(&back, "aupro_0.3")));
    ck_assert(isnan(results_metric_get(&back, "absent")));
    free(path);
    path = xasprintf("%s/metrics.json", dir);
    text = test_read_file(path, NULL);
    ck_assert_msg(strstr(text, "\"image_auroc\": 0.9375,") && strstr(text, "\"aupro_0.3\": null"), "%s", text);
    free(text);
    free(path);
    path = xasprintf("%s/provenance.txt", dir);
    text = test_read_file(path, NULL);
    char numerics[CLIP_NUMERICS_CAP + 16];
    snprintf(numerics, sizeof numerics, "\nnumerics: ");
    clip_numerics(numerics + strlen(numerics), CLIP_NUMERICS_CAP);
    strcat(numerics, "\n");
    ck_assert_msg(strstr(text, numerics) && strstr(text, "\nnumerics: kernels="), "%s", text);
    ck_assert_msg(strstr(text, "version: ") && strstr(text, "gemm: ") && strstr(text, "weights_sha256: abcd\n") &&
                      strstr(text, "settings_hash: ef01\n") && strstr(text, "wall_time_s: 1.500\ndate: 20"),
                  "%s", text);
    free(text);
    free(path);
    path = xasprintf("%s/maps.h5", dir);
    H5File f = {0};
    ck_assert_int_eq(h5_open_read(&f, path, &err), 0);
    float got[12];
    ck_assert_int_eq(h5_read_f32_shape(&f, "maps", got, 3, (const int64_t[]){2, 2, 3}, &err), 0);
    ck_assert(test_allclose(got, maps, 12, 0, "maps"));
    int64_t lab[2];
    ck_assert_int_eq(h5_read_i64(&f, "labels", lab, 2, &err), 0);
    ck_assert(lab[1] == 1);
    h5_close(&f);
    free(path);
    config_free(&cfg);
    free(dir);
}
END_TEST

/* ---- Limits ---- */

START_TEST(errors)
{
    Error err = {0};
    char *bad = xasprintf("%s/no/such/dir/f.txt", test_tmp);
    ck_assert_int_eq(fs_write_atomic(bad, "x", 1, &err), ERR_IO);
    ck_assert_msg(strstr(err.msg, "no/such/dir") != NULL, "%s", err.msg);
    free(bad);
    /* mkdir through a file */
    char *file = xasprintf("%s/plain", test_tmp);
    ck_assert_int_eq(test_write_file(file, "x", 1), 0);
    char *sub = xasprintf("%s/plain/sub", test_tmp);
    ck_assert_int_eq(fs_mkdirs(sub, &err), ERR_IO);
    ck_assert_msg(strstr(err.msg, "plain") != NULL, "%s", err.msg);
    free(sub);
    free(file);
    /* malformed metrics.tsv files */
    const char *cases[] = {"", "name\tvalue\nx\t1\n", "metric\tvalue\nx 1\n", "metric\tvalue\nx\t1.0abc\n",
                           "metric\tvalue\n\t1\n"};
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        char *p = xasprintf("%s/m%zu.tsv", test_tmp, i);
        test_write_file(p, cases[i], strlen(cases[i]));
        MetricSet m;
        ck_assert_msg(results_read_metrics(p, &m, &err) == ERR_FORMAT, "accepted case %zu", i);
        ck_assert_msg(strstr(err.msg, p) != NULL, "%s", err.msg);
        free(p);
    }
    MetricSet m;
    ck_assert_int_eq(results_read_metrics("/nonexistent/metrics.tsv", &m, &err), ERR_MISSING);
}
END_TEST

Suite *results_suite(void)
{
    Suite *s = suite_create("results");
    TCase *core = tcase_create("Core");
    tcase_add_checked_fixture(core, test_tmp_setup, test_tmp_teardown);
    tcase_add_test(core, unit_files);
    tcase_add_test(core, done_marker_checks_files);
    tcase_add_test(core, settings_diff_and_temps);
    suite_add_tcase(s, core);
    TCase *lim = tcase_create("Limits");
    tcase_add_checked_fixture(lim, test_tmp_setup, test_tmp_teardown);
    tcase_add_test(lim, errors);
    suite_add_tcase(s, lim);
    return s;
}
