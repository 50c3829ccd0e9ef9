/*
 * check_cmd_score.c - `winclip score` through the built binary: output order and scores,
 * --maps-out content against fixtures/winclip_paper (K = 2), --png-dir, --config/--set and
 * their errors (unknown key, bad value), missing model.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/base.h"
#include "util/h5.h"
#include "check_suites.h"
#include "test_util.h"

#define PAPER_FIXTURE "fixtures/winclip_paper/reference.h5"

typedef struct {
    char model[1024], ref[1024], img[3][1024], train[2][1024];
} Paths;

static const char *const IMG_NAMES[3] = {"noise", "gradient", "grid_test_glue_000"};

static int paths(Paths *p)
{
    return test_shared_path(p->model, sizeof p->model, "fixtures/tiny_clip/model.h5") &&
           test_shared_path(p->ref, sizeof p->ref, PAPER_FIXTURE) &&
           test_shared_path(p->img[0], sizeof p->img[0], "fixtures/tiny_clip/images/noise.png") &&
           test_shared_path(p->img[1], sizeof p->img[1], "fixtures/tiny_clip/images/gradient.png") &&
           test_shared_path(p->img[2], sizeof p->img[2], "data/mvtec_ad_mini/grid/test/glue/000.png") &&
           test_shared_path(p->train[0], sizeof p->train[0], "data/mvtec_ad_mini/grid/train/good/000.png") &&
           test_shared_path(p->train[1], sizeof p->train[1], "data/mvtec_ad_mini/grid/train/good/001.png");
}

static double fixture_scalar(const H5File *f, const char *path)
{
    Error err = {0};
    double v = 0;
    ck_assert_msg(h5_read_f64(f, path, &v, 1, &err) == 0, "%s", err.msg);
    return v;
}

/* Lines "PATH\tSCORE" in order; checks paths and scores against want (n). */
static void check_lines(const char *out, const Paths *p, const double *want, int n)
{
    const char *line = out;
    for (int i = 0; i < n; i++) {
        ck_assert_ptr_nonnull(line);
        const char *tab = strchr(line, '\t');
        ck_assert_ptr_nonnull(tab);
        ck_assert_int_eq((int)(tab - line), (int)strlen(p->img[i]));
        ck_assert(strncmp(line, p->img[i], strlen(p->img[i])) == 0);
        double got = strtod(tab + 1, NULL);
        ck_assert_msg(fabs(got - want[i]) <= 1e-5, "image %d: score %.9g want %.9g", i, got, want[i]);
        line = strchr(tab, '\n');
        if (line) line++;
    }
    ck_assert(line == NULL || *line == '\0');
}

START_TEST(score_zero_shot_order)
{
    Paths p;
    if (!paths(&p)) return;
    char *args = xasprintf("score -m '%s' --class grid '%s' '%s' '%s'", p.model, p.img[0], p.img[1], p.img[2]);
    char *out = NULL, *errs = NULL;
    int rc = test_run_winclip(args, &out, &errs);
    ck_assert_msg(rc == 0, "rc %d: %s", rc, errs);
    Error err = {0};
    H5File f = {0};
    ck_assert_int_eq(h5_open_read(&f, p.ref, &err), 0);
    double want[3];
    for (int i = 0; i < 3; i++) {
        char ds[128];
        snprintf(ds, sizeof ds, "/zero_shot/%s/image_score", IMG_NAMES[i]);
        want[i] = fixture_scalar(&f, ds);
    }
    check_lines(out, &p, want, 3);
    h5_close(&f);
    free(args);
    free(out);
    free(errs);
}
END_TEST

START_TEST(score_few_shot_maps_out)
{
    Paths p;
    if (!paths(&p)) return;
    char *dir = test_mkdtemp();
    char *conf = xasprintf("%s/m.conf", dir);
    /* the fixture's settings spelled out (defaults), plus a per-category entry of another class */
    const char *text = "prompts = paper22\nprototypes = normalize\ntemperature = checkpoint\n"
                       "class_name.bottle = glass bottle\n";
    ck_assert_int_eq(test_write_file(conf, text, strlen(text)), 0);
    char *args = xasprintf("score -m '%s' --class grid --config '%s' --set output_size=240 --ref '%s' --ref '%s'"
                           " --maps-out '%s/maps.h5' --png-dir '%s/png' '%s' '%s' '%s'",
                           p.model, conf, p.train[0], p.train[1], dir, dir, p.img[0], p.img[1], p.img[2]);
    char *out = NULL, *errs = NULL;
    int rc = test_run_winclip(args, &out, &errs);
    ck_assert_msg(rc == 0, "rc %d: %s", rc, errs);

    Error err = {0};
    H5File f = {0}, m = {0};
    ck_assert_int_eq(h5_open_read(&f, p.ref, &err), 0);
    char mpath[1100];
    snprintf(mpath, sizeof mpath, "%s/maps.h5", dir);
    ck_assert_msg(h5_open_read(&m, mpath, &err) == 0, "%s", err.msg);
    double want[3], got[3];
    ck_assert_int_eq(h5_read_f64(&m, "/scores", got, 3, &err), 0);
    float *maps = xmalloc(3 * 240 * 240 * sizeof(float));
    int64_t dims[3] = {3, 240, 240};
    ck_assert_msg(h5_read_f32_shape(&m, "/maps", maps, 3, dims, &err) == 0, "%s", err.msg);
    for (int i = 0; i < 3; i++) {
        char ds[128], ms[128];
        snprintf(ds, sizeof ds, "/few_shot/k2/%s/image_score", IMG_NAMES[i]);
        want[i] = fixture_scalar(&f, ds);
        ck_assert(fabs(got[i] - want[i]) <= 1e-5);
        float *a = NULL, *b = NULL;
        snprintf(ds, sizeof ds, "/few_shot/k2/%s/anomaly_map_240", IMG_NAMES[i]);
        ck_assert_int_eq(h5_read_f32_alloc(&f, ds, &a, NULL, NULL, &err), 0);
        ck_assert(test_allclose(maps + (size_t)i * 240 * 240, a, 240 * 240, 1e-5, ds));
        free(a);
        const char *pairs[][2] = {{"few_shot/Mvision", "Mfs"}, {"few_shot/Mp", "Mp"},
                                  {"few_shot/M3", "M3_fs"}, {"few_shot/window_dist_k2", "window_dist_k2"},
                                  {"zero_shot/M0", "../../../zero_shot/%s/M0"},
                                  {"zero_shot/window_scores_k3", "../../../zero_shot/%s/window_scores_k3"}};
        for (size_t j = 0; j < ARRAY_LEN(pairs); j++) {
            snprintf(ms, sizeof ms, "/images/%d/%s", i, pairs[j][0]);
            if (strncmp(pairs[j][1], "../", 3) == 0) {
                char tail[96];
                snprintf(tail, sizeof tail, pairs[j][1] + 9, IMG_NAMES[i]);
                snprintf(ds, sizeof ds, "/%s", tail);
            } else {
                snprintf(ds, sizeof ds, "/few_shot/k2/%s/%s", IMG_NAMES[i], pairs[j][1]);
            }
            int64_t n = h5_numel(&f, ds, &err);
            ck_assert_int_gt((int)n, 0);
            ck_assert_int_eq((int)h5_numel(&m, ms, &err), (int)n);
            ck_assert_int_eq(h5_read_f32_alloc(&f, ds, &a, NULL, NULL, &err), 0);
            ck_assert_int_eq(h5_read_f32_alloc(&m, ms, &b, NULL, NULL, &err), 0);
            ck_assert(test_allclose(b, a, (size_t)n, 1e-5, ms));
            free(a);
            free(b);
        }
    }
    check_lines(out, &p, want, 3);
    char **names = NULL;
    size_t n_names = 0;
    ck_assert_int_eq(h5_read_strings(&m, "/paths", &names, &n_names, &err), 0);
    ck_assert_int_eq((int)n_names, 3);
    ck_assert_str_eq(names[2], p.img[2]);
    h5_strings_free(names, n_names);
    double k = 0;
    ck_assert_int_eq(h5_read_attr_f64(&m, "/", "k_shot", &k, &err), 0);
    ck_assert(k == 2);
    char *settings = NULL;
    ck_assert_int_eq(h5_read_attr_string(&m, "/", "settings", &settings, &err), 0);
    ck_assert(strstr(settings, "prompts = paper22\n") != NULL);
    ck_assert(strstr(settings, "class_name = auto\n") != NULL); /* class_name.bottle not applied */
    free(settings);
    free(maps);
    h5_close(&m);
    h5_close(&f);

    struct stat st;
    char png[1200];
    snprintf(png, sizeof png, "%s/png/0002_000.png", dir);
    ck_assert_msg(stat(png, &st) == 0 && st.st_size > 1000, "%s", png);
    snprintf(png, sizeof png, "%s/png/index.tsv", dir);
    char *index = test_read_file(png, NULL);
    ck_assert_ptr_nonnull(index);
    ck_assert(strstr(index, "0000_noise.png") != NULL);
    free(index);
    test_rmtree(dir);
    free(dir);
    free(conf);
    free(args);
    free(out);
    free(errs);
}
END_TEST

START_TEST(score_errors)
{
    Paths p;
    if (!paths(&p)) return;
    char *dir = test_mkdtemp();
    struct {
        const char *extra;
        int status;
        const char *needles[3];
    } cases[] = {
        {"--set foo=1", 2, {"foo", "known keys", "temperature"}},
        {"--set prototypes=norm", 2, {"prototypes", "normalize | mean", "--set"}},
        {"--set temperature=0.07x", 2, {"temperature", "checkpoint", NULL}},
        {"--set scales=3,2", 2, {"scales", "ascending", NULL}},
        {"--set k_shot=1", 2, {"k_shot", "--ref", NULL}},
        {"--bogus", 2, {"--bogus", NULL, NULL}},
        {"--config /nonexistent/x.conf", 1, {"/nonexistent/x.conf", NULL, NULL}},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        char *args = xasprintf("score -m '%s' --class grid %s '%s'", p.model, cases[i].extra, p.img[0]);
        char *out = NULL, *errs = NULL;
        int rc = test_run_winclip(args, &out, &errs);
        ck_assert_msg(rc == cases[i].status, "%s: rc %d (%s)", cases[i].extra, rc, errs);
        for (int j = 0; j < 3 && cases[i].needles[j]; j++)
            ck_assert_msg(strstr(errs, cases[i].needles[j]) != NULL, "%s: stderr lacks '%s': %s",
                          cases[i].extra, cases[i].needles[j], errs);
        ck_assert(out == NULL || out[0] == '\0');
        free(args);
        free(out);
        free(errs);
    }
    /* a bad value inside a config file names file and line */
    char *conf = xasprintf("%s/bad.conf", dir);
    ck_assert_int_eq(test_write_file(conf, "# x\nfusion = max\n", 17), 0);
    char *args = xasprintf("score -m '%s' --class grid --config '%s' '%s'", p.model, conf, p.img[0]);
    char *errs = NULL;
    ck_assert_int_eq(test_run_winclip(args, NULL, &errs), 2);
    ck_assert_msg(strstr(errs, "bad.conf:2") && strstr(errs, "harmonic | mean"), "%s", errs);
    free(args);
    free(errs);
    /* missing model: runtime error naming it, no partial --maps-out left */
    args = xasprintf("score -m /nonexistent/model.h5 --class grid --maps-out '%s/m.h5' '%s'", dir, p.img[0]);
    ck_assert_int_eq(test_run_winclip(args, NULL, &errs), 1);
    ck_assert(strstr(errs, "/nonexistent/model.h5") != NULL);
    free(args);
    free(errs);
    /* a missing image after a good one: every input is checked before any compute (issue 11):
     * exit 1 naming the image, nothing scored */
    char *out = NULL;
    args = xasprintf("score -m '%s' --class grid '%s' /nonexistent/img.png", p.model, p.img[0]);
    ck_assert_int_eq(test_run_winclip(args, &out, &errs), 1);
    ck_assert(strstr(errs, "/nonexistent/img.png") != NULL);
    ck_assert(out == NULL || strstr(out, p.img[0]) == NULL);
    free(args);
    free(out);
    free(errs);
    ck_assert_int_eq(test_run_winclip("score --class grid x.png", NULL, &errs), 2);
    ck_assert(strstr(errs, "-m") != NULL);
    free(errs);
    free(conf);
    test_rmtree(dir);
    free(dir);
}
END_TEST

Suite *cmd_score_suite(void)
{
    Suite *s = suite_create("cmd_score");
    TCase *core = tcase_create("Core");
    tcase_set_timeout(core, 120);
    tcase_add_test(core, score_zero_shot_order);
    tcase_add_test(core, score_few_shot_maps_out);
    suite_add_tcase(s, core);
    TCase *limits = tcase_create("Limits");
    tcase_set_timeout(limits, 120);
    tcase_add_test(limits, score_errors);
    suite_add_tcase(s, limits);
    return s;
}
