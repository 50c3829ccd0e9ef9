/*
 * check_synth.c - synth.c / `winclip synth`: layout loads and validates, masks are exactly the
 * changed pixels, output is deterministic and seed-dependent.
 */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stb_image.h>

#include "util/base.h"
#include "data/dataset.h"
#include "util/fsutil.h"
#include "data/synth.h"
#include "check_suites.h"
#include "test_util.h"

START_TEST(render_masks_exact)
{
    /* every category and defect, straight from the renderer */
    size_t n_cat;
    const SynthCategory *cats = synth_categories(&n_cat);
    ck_assert_uint_eq(n_cat, 4);
    const int size = 64;
    uint8_t *img = xmalloc(size * size * 3), *clean = xmalloc(size * size * 3), *mask = xmalloc(size * size);
    for (size_t c = 0; c < n_cat; c++)
        for (int d = 0; d < cats[c].n_defects; d++)
            for (int j = 0; j < 3; j++) {
                uint64_t seed = synth_image_seed(11, cats[c].name, 2, j);
                size_t count = synth_render(c, size, seed, d, img, mask);
                ck_assert_uint_eq(synth_render(c, size, seed, -1, clean, NULL), 0);
                size_t changed = 0, marked = 0;
                for (int i = 0; i < size * size; i++) {
                    int diff = memcmp(img + i * cats[c].channels, clean + i * cats[c].channels, (size_t)cats[c].channels) != 0;
                    ck_assert(mask[i] == 0 || mask[i] == 255);
                    ck_assert_msg(diff == (mask[i] != 0), "%s/%s pixel %d: diff %d mask %d", cats[c].name, cats[c].defects[d],
                                  i, diff, mask[i]);
                    changed += (size_t)diff;
                    marked += mask[i] != 0;
                }
                ck_assert_uint_eq(changed, count);
                ck_assert_msg(marked >= 4 && marked < (size_t)size * size / 4, "%s/%s: %zu defect pixels", cats[c].name,
                              cats[c].defects[d], marked);
            }
    free(img);
    free(clean);
    free(mask);
}
END_TEST

START_TEST(dataset_layout_and_files)
{
    char *dir = test_mkdtemp();
    SynthOptions opt = synth_default_options();
    ck_assert_int_eq(opt.n_categories, 3);
    ck_assert_int_eq(opt.size, 256);
    opt.out = dir;
    opt.n_categories = 4;
    opt.size = 48;
    opt.n_train = 3;
    opt.n_test_good = 2;
    opt.n_test_bad = 4;
    opt.seed = 5;
    Error err = {0};
    ck_assert_msg(synth_write_dataset(&opt, &err) == 0, "%s", err.msg);
    char *readme = xasprintf("%s/README.txt", dir);
    char *text = test_read_file(readme, NULL);
    ck_assert(text && strstr(text, "SYNTHETIC"));
    free(text);
    free(readme);
    size_t n_cat;
    const SynthCategory *cats = synth_categories(&n_cat);
    for (size_t c = 0; c < n_cat; c++) {
        CategoryData cd = {0};
        ck_assert_msg(dataset_load(&cd, DATASET_MVTEC, dir, cats[c].name, NULL, &err) == 0, "%s", err.msg);
        ck_assert_msg(dataset_validate(&cd, &err) == 0, "%s", err.msg);
        ck_assert_uint_eq(cd.n_train, 3);
        ck_assert_uint_eq(cd.n_test, 6);
        size_t n_bad = 0;
        for (size_t i = 0; i < cd.n_test; i++) {
            const Sample *s = &cd.test[i];
            int w, h, ch, mw, mh, mc;
            uint8_t *img = stbi_load(s->image_path, &w, &h, &ch, 0);
            ck_assert(img && w == 48 && h == 48 && ch == cats[c].channels);
            uint8_t *clean = xmalloc(48 * 48 * 3);
            int k = atoi(fs_basename(s->image_path));
            if (!s->label) {
                synth_render(c, 48, synth_image_seed(5, cats[c].name, 1, k), -1, clean, NULL);
                ck_assert(memcmp(img, clean, (size_t)48 * 48 * (size_t)ch) == 0);
            } else {
                n_bad++;
                int d = 0;
                while (strcmp(cats[c].defects[d], s->defect) != 0) d++;
                synth_render(c, 48, synth_image_seed(5, cats[c].name, 2, k * cats[c].n_defects + d), -1, clean, NULL);
                uint8_t *mask = stbi_load(s->mask_path, &mw, &mh, &mc, 0);
                ck_assert(mask && mw == 48 && mh == 48 && mc == 1);
                size_t marked = 0;
                for (int p = 0; p < 48 * 48; p++) {
                    int diff = memcmp(img + p * ch, clean + p * ch, (size_t)ch) != 0;
                    ck_assert(mask[p] == 0 || mask[p] == 255);
                    ck_assert_msg(diff == (mask[p] != 0), "%s pixel %d", s->image_path, p);
                    marked += mask[p] != 0;
                }
                ck_assert_msg(marked > 0, "%s: empty mask", s->mask_path);
                stbi_image_free(mask);
            }
            free(clean);
            stbi_image_free(img);
        }
        ck_assert_uint_eq(n_bad, 4);
        /* 4 defective over 3 types: folders hold 2, 1, 1 images */
        size_t first = 0;
        for (size_t i = 0; i < cd.n_test; i++) first += strcmp(cd.test[i].defect, cats[c].defects[0]) == 0;
        ck_assert_uint_eq(first, 2);
        dataset_free(&cd);
    }
    test_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(cli_deterministic)
{
    char *dir = test_mkdtemp();
    char *args[3], *err_out = NULL;
    const char *seeds[3] = {"7", "7", "8"};
    for (int i = 0; i < 3; i++) {
        args[i] = xasprintf("synth --out '%s/run%d' --size 40 --train 2 --test 2 --seed %s", dir, i, seeds[i]);
        int rc = test_run_winclip(args[i], NULL, &err_out);
        ck_assert_msg(rc == 0, "rc %d: %s", rc, err_out ? err_out : "");
        free(err_out);
        free(args[i]);
    }
    char *cmd = xasprintf("diff -r '%s/run0' '%s/run1' >/dev/null", dir, dir);
    ck_assert_msg(system(cmd) == 0, "two runs with the same seed differ");
    free(cmd);
    cmd = xasprintf("diff -r -q '%s/run0/synth_fabric/test' '%s/run2/synth_fabric/test' >/dev/null", dir, dir);
    ck_assert_msg(system(cmd) != 0, "different seeds give identical images");
    free(cmd);
    char *p = xasprintf("%s/run0/synth_disc/ground_truth/missing/000_mask.png", dir);
    ck_assert(fs_is_file(p));
    free(p);
    test_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(bad_options)
{
    SynthOptions opt = synth_default_options();
    Error err = {0};
    ck_assert_int_eq(synth_write_dataset(&opt, &err), ERR_USAGE);
    opt.out = "/tmp/never-written";
    opt.n_categories = 5;
    ck_assert_int_eq(synth_write_dataset(&opt, &err), ERR_USAGE);
    ck_assert(strstr(err.msg, "categories 5") != NULL);
    opt.n_categories = 1;
    opt.size = 8;
    ck_assert_int_eq(synth_write_dataset(&opt, &err), ERR_USAGE);
    ck_assert(strstr(err.msg, "size 8") != NULL);
    opt.size = 64;
    opt.n_test_bad = 0;
    ck_assert_int_eq(synth_write_dataset(&opt, &err), ERR_USAGE);
    char *e = NULL;
    ck_assert_int_eq(test_run_winclip("synth --size 64", NULL, &e), 2);
    ck_assert(strstr(e, "--out DIR is required") != NULL);
    free(e);
    ck_assert_int_eq(test_run_winclip("synth --out /tmp/x --size abc", NULL, &e), 2);
    ck_assert(strstr(e, "--size 'abc'") != NULL);
    free(e);
    ck_assert_int_eq(test_run_winclip("synth --out /tmp/x --bogus 1", NULL, &e), 2);
    free(e);
    ck_assert_int_eq(test_run_winclip("synth --out /proc/forbidden/x --size 32", NULL, &e), 1);
    ck_assert(strstr(e, "/proc/forbidden") != NULL);
    free(e);
}
END_TEST

Suite *synth_suite(void)
{
    Suite *s = suite_create("synth");
    TCase *core = tcase_create("Core");
    tcase_set_timeout(core, 120);
    tcase_add_test(core, render_masks_exact);
    tcase_add_test(core, dataset_layout_and_files);
    tcase_add_test(core, cli_deterministic);
    suite_add_tcase(s, core);
    TCase *limits = tcase_create("Limits");
    tcase_add_test(limits, bad_options);
    suite_add_tcase(s, limits);
    return s;
}
