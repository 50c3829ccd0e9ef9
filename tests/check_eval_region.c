/*
 * check_eval_region.c - the pixels a map covers (winclip/eval_region.h): the crop box of a
 * non-square image under shortest-crop and squash, the mask cut to it, and `winclip run` ==
 * `winclip score --maps-out` map for map on a non-square synthetic category, with the run's
 * masks equal to the mask cut to the map's region (independent Pillow NEAREST formula).
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/base.h"
#include "util/fsutil.h"
#include "util/h5.h"
#include "winclip/eval_region.h"
#include "check_suites.h"
#include "test_util.h"

enum { IMG_W = 120, IMG_H = 80, EVAL = 240 };

/* Defect rectangle of the synthetic mask (original pixels): partly left of the centre crop. */
static int in_defect(int x, int y) { return x >= 10 && x < 30 && y >= 40 && y < 60; }

/* Expected ground truth at EVAL x EVAL for the box [x0, x0 + w) x [y0, y0 + h): Pillow NEAREST
 * src = x0 + floor((dst + 0.5) * w / EVAL). */
static void want_mask(int x0, int y0, int w, int h, uint8_t *out)
{
    for (int y = 0; y < EVAL; y++)
        for (int x = 0; x < EVAL; x++) {
            int sx = x0 + (int)floor((x + 0.5) * w / EVAL), sy = y0 + (int)floor((y + 0.5) * h / EVAL);
            out[y * EVAL + x] = (uint8_t)in_defect(sx, sy);
        }
}

START_TEST(region_box)
{
    WinclipSettings s;
    winclip_settings_default(&s);
    Error err = {0};
    EvalRegion r;
    ck_assert_int_eq(winclip_settings_set(&s, "geometry", "shortest-crop", &err), 0);
    s.output_size = 0;
    /* 120x80 at 240: resized 360x240, crop left 60 -> original x 20..100 */
    eval_region_compute(&r, &s, 240, IMG_W, IMG_H);
    ck_assert_int_eq(r.x0, 20);
    ck_assert_int_eq(r.y0, 0);
    ck_assert_int_eq(r.w, 80);
    ck_assert_int_eq(r.h, 80);
    ck_assert_int_eq(r.out_w, 80); /* eval_size = original: the region's own size */
    ck_assert_int_eq(r.out_h, 80);
    eval_region_compute(&r, &s, 240, 80, 120); /* portrait: the rows are cut */
    ck_assert_int_eq(r.x0, 0);
    ck_assert_int_eq(r.y0, 20);
    ck_assert_int_eq(r.h, 80);
    s.output_size = EVAL;
    ck_assert_int_eq(winclip_settings_set(&s, "geometry", "squash", &err), 0);
    eval_region_compute(&r, &s, 240, IMG_W, IMG_H);
    ck_assert(r.x0 == 0 && r.y0 == 0 && r.w == IMG_W && r.h == IMG_H && r.out_w == EVAL && r.out_h == EVAL);
}
END_TEST

/* MVTec layout root/cat/{train/good,test/good,test/bad,ground_truth/bad} with 120x80 images. */
static void write_dataset(const char *root)
{
    Error err = {0};
    uint8_t *rgb = xmalloc((size_t)IMG_W * IMG_H * 3), *mask = xmalloc((size_t)IMG_W * IMG_H);
    const char *const imgs[3] = {"train/good/000.png", "test/good/000.png", "test/bad/000.png"};
    for (int k = 0; k < 3; k++) {
        for (int i = 0; i < IMG_W * IMG_H * 3; i++) rgb[i] = (uint8_t)((i * (7 + k) + (i / 360) * 13) & 255);
        if (k == 2)
            for (int y = 0; y < IMG_H; y++)
                for (int x = 0; x < IMG_W; x++)
                    if (in_defect(x, y)) memset(rgb + ((size_t)y * IMG_W + x) * 3, 255, 3);
        char *p = xasprintf("%s/cat/%s", root, imgs[k]);
        ck_assert_msg(fs_mkdirs_parent(p, &err) == 0 && fs_write_png(p, IMG_W, IMG_H, 3, rgb, &err) == 0, "%s", err.msg);
        free(p);
    }
    for (int y = 0; y < IMG_H; y++)
        for (int x = 0; x < IMG_W; x++) mask[y * IMG_W + x] = in_defect(x, y) ? 255 : 0;
    char *p = xasprintf("%s/cat/ground_truth/bad/000_mask.png", root);
    ck_assert_msg(fs_mkdirs_parent(p, &err) == 0 && fs_write_png(p, IMG_W, IMG_H, 1, mask, &err) == 0, "%s", err.msg);
    free(p);
    free(rgb);
    free(mask);
}

/* `winclip run` and `winclip score --maps-out` under geometry; masks of the run checked against
 * the box [x0, x0 + w) x [y0, y0 + h). */
static void run_vs_score(const char *geometry, int x0, int y0, int w, int h)
{
    char model[1024];
    if (!test_shared_path(model, sizeof model, "fixtures/tiny_clip/model.h5")) return;
    char *root = xasprintf("%s/data", test_tmp);
    write_dataset(root);
    char *conf = xasprintf("%s/crop.conf", test_tmp);
    char *text = xasprintf("title = crop\ntable = demo\ndataset = synthetic\nlayout = mvtec\nroot = %s\n"
                           "categories = cat\neval_size = %d\nmask_resize = nearest\nweights = %s\nk_shots = 0\n"
                           "seeds = 0\nsave_maps = true\ngeometry = %s\n",
                           root, EVAL, model, geometry);
    ck_assert_int_eq(test_write_file(conf, text, strlen(text)), 0);
    char *args = xasprintf("run '%s' --results '%s/res'", conf, test_tmp);
    char *errs = NULL;
    int rc = test_run_winclip(args, NULL, &errs);
    ck_assert_msg(rc == 0, "run rc %d: %s", rc, errs);
    free(errs);
    free(args);
    char *bad = xasprintf("%s/cat/test/bad/000.png", root), *good = xasprintf("%s/cat/test/good/000.png", root);
    args = xasprintf("score -m '%s' --class cat --set geometry=%s --set output_size=%d --maps-out '%s/s.h5' '%s' '%s'",
                     model, geometry, EVAL, test_tmp, bad, good);
    rc = test_run_winclip(args, NULL, &errs);
    ck_assert_msg(rc == 0, "score rc %d: %s", rc, errs);

    Error err = {0};
    H5File fr = {0}, fs = {0};
    char *maps_h5 = xasprintf("%s/res/crop/synthetic/cat/k0/maps.h5", test_tmp), *score_h5 = xasprintf("%s/s.h5", test_tmp);
    ck_assert_msg(h5_open_read(&fr, maps_h5, &err) == 0, "%s", err.msg);
    ck_assert_msg(h5_open_read(&fs, score_h5, &err) == 0, "%s", err.msg);
    char **names = NULL;
    size_t n = 0;
    ck_assert_int_eq(h5_read_strings(&fr, "paths", &names, &n, &err), 0);
    ck_assert_int_eq((int)n, 2);
    size_t per = (size_t)EVAL * EVAL;
    float *run_maps = NULL, *score_maps = NULL;
    int64_t dims[H5_MAX_RANK];
    uint8_t *masks = xmalloc(2 * per), *want = xmalloc(per);
    int rank = 0;
    ck_assert_msg(h5_read_f32_alloc(&fr, "maps", &run_maps, &rank, dims, &err) == 0, "%s", err.msg);
    ck_assert(rank == 3 && dims[0] == 2 && dims[1] == EVAL && dims[2] == EVAL);
    ck_assert_msg(h5_read_f32_alloc(&fs, "/maps", &score_maps, NULL, NULL, &err) == 0, "%s", err.msg);
    ck_assert_msg(h5_read_u8(&fr, "masks", masks, 2 * per, &err) == 0, "%s", err.msg);
    for (size_t i = 0; i < n; i++) {
        int is_bad = strcmp(names[i], bad) == 0;
        ck_assert(is_bad || strcmp(names[i], good) == 0);
        int j = is_bad ? 0 : 1; /* index in score's order */
        ck_assert_msg(memcmp(run_maps + per * i, score_maps + per * (size_t)j, per * sizeof(float)) == 0,
                      "%s: run map != score map (%s)", names[i], geometry);
        if (is_bad) want_mask(x0, y0, w, h, want);
        else memset(want, 0, per);
        ck_assert_msg(memcmp(masks + per * i, want, per) == 0, "%s: run mask is not the map's region", names[i]);
    }
    h5_strings_free(names, n);
    h5_close(&fr);
    h5_close(&fs);
    free(run_maps);
    free(score_maps);
    free(masks);
    free(want);
    free(maps_h5);
    free(score_h5);
    free(bad);
    free(good);
    free(errs);
    free(args);
    free(text);
    free(conf);
    free(root);
}

START_TEST(run_equals_score_shortest_crop) { run_vs_score("shortest-crop", 20, 0, 80, 80); }
END_TEST

START_TEST(run_equals_score_squash) { run_vs_score("squash", 0, 0, IMG_W, IMG_H); }
END_TEST

Suite *eval_region_suite(void)
{
    Suite *s = suite_create("eval_region");
    TCase *core = tcase_create("core");
    tcase_add_checked_fixture(core, test_tmp_setup, test_tmp_teardown);
    tcase_set_timeout(core, 300);
    tcase_add_test(core, region_box);
    tcase_add_test(core, run_equals_score_shortest_crop);
    tcase_add_test(core, run_equals_score_squash);
    suite_add_tcase(s, core);
    return s;
}
