/*
 * check_plot.c - tests for plot.c: .dat/.gp/.png files, soft skip without gnuplot, overlay
 * pixels (heat map, contour).
 */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../src/image.h"
#include "../src/plot.h"
#include "check_suites.h"
#include "test_util.h"

static char *tmp;

static void setup(void)
{
    tmp = test_mkdtemp();
}

static void teardown(void)
{
    test_rmtree(tmp);
    free(tmp);
}

static int exists(const char *stem, const char *ext)
{
    char *p = xasprintf("%s%s", stem, ext);
    int ok = access(p, F_OK) == 0;
    free(p);
    return ok;
}

START_TEST(curves_and_bars)
{
    double x[3] = {0, 0.5, 1}, y[3] = {0, 0.8, 1};
    PlotSeries s[2] = {{"bottle_a", 3, x, y}, {"carpet", 3, y, x}};
    char *stem = xasprintf("%s/roc_image", tmp);
    int skipped = -1;
    Error err = {0};
    ck_assert_msg(plot_curves(stem, "image ROC", "FPR", "TPR", s, 2, 1, &skipped, &err) == 0, "%s", err.msg);
    ck_assert(exists(stem, ".dat") && exists(stem, ".gp"));
    if (plot_terminal()) {
        ck_assert_int_eq(skipped, 0);
        ck_assert(exists(stem, ".png"));
    } else {
        ck_assert_int_eq(skipped, 1);
    }
    char *gp = xasprintf("%s.gp", stem);
    char *text = test_read_file(gp, NULL);
    ck_assert_msg(strstr(text, "'roc_image.dat' index 1") && strstr(text, "set output 'roc_image.png'"), "%s", text);
    free(text);
    free(gp);
    free(stem);
    stem = xasprintf("%s/bars", tmp);
    const char *labels[2] = {"bottle", "cable"};
    double ours[2] = {91.0, 80.0}, paper[2] = {99.2, NAN};
    ck_assert_msg(plot_bars(stem, "i-AUROC vs paper", 2, labels, ours, paper, &skipped, &err) == 0, "%s", err.msg);
    char *dat = xasprintf("%s.dat", stem);
    text = test_read_file(dat, NULL);
    ck_assert_msg(strstr(text, "\"cable\" 80.0000 NaN\n") != NULL, "%s", text);
    free(text);
    free(dat);
    free(stem);
}
END_TEST

START_TEST(overlay_pixels)
{
    enum { W = 5, H = 4 };
    uint8_t rgb[W * H * 3];
    float map[W * H];
    uint8_t mask[W * H] = {0};
    for (int i = 0; i < W * H; i++) {
        rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = 200;
        map[i] = (float)i / (W * H - 1);
    }
    for (int y = 1; y <= 2; y++)
        for (int x = 1; x <= 3; x++) mask[y * W + x] = 1;
    char *png = xasprintf("%s/ov.png", tmp);
    Error err = {0};
    ck_assert_msg(plot_overlay(png, rgb, map, mask, W, H, 0.0f, 1.0f, &err) == 0, "%s", err.msg);
    Image img = {0};
    ck_assert_int_eq(image_load(&img, png, &err), 0);
    ck_assert(img.width == W && img.height == H);
    /* pixel 0: t = 0 -> dark blue (0, 0, 128) blended with 100 gray */
    ck_assert_int_eq(img.rgb[0], 50);
    ck_assert_int_eq(img.rgb[2], 114);
    /* (1,1) is on the mask border -> white */
    size_t i = (size_t)(1 * W + 1) * 3;
    ck_assert(img.rgb[i] == 255 && img.rgb[i + 1] == 255 && img.rgb[i + 2] == 255);
    image_free(&img);
    free(png);
}
END_TEST

START_TEST(gnuplot_missing_and_errors)
{
    Error err = {0};
    int skipped = 0;
    const char *fork_mode = getenv("CK_FORK");
    if (!fork_mode || strcmp(fork_mode, "no") != 0) { /* the terminal probe is per process */
        setenv("WINCLIP_GNUPLOT", "/nonexistent/gnuplot", 1);
        ck_assert_ptr_null(plot_terminal());
        double x[2] = {0, 1};
        PlotSeries s = {"a", 2, x, x};
        char *stem = xasprintf("%s/pr", tmp);
        ck_assert_int_eq(plot_curves(stem, "t", "x", "y", &s, 1, 0, &skipped, &err), 0);
        ck_assert_int_eq(skipped, 1);
        ck_assert(exists(stem, ".gp") && !exists(stem, ".png"));
        free(stem);
    }
    double x[2] = {0, 1};
    PlotSeries s = {"a", 2, x, x};
    ck_assert_int_eq(plot_curves("/nonexistent/dir/roc", "t", "x", "y", &s, 1, 0, &skipped, &err), ERR_IO);
    ck_assert(strstr(err.msg, "/nonexistent/dir") != NULL);
    float map[1] = {0};
    uint8_t rgb[3] = {0};
    ck_assert_int_eq(plot_overlay("/tmp/x.png", rgb, map, NULL, 0, 1, 0, 1, &err), ERR_VALUE);
}
END_TEST

Suite *plot_suite(void)
{
    Suite *s = suite_create("plot");
    TCase *core = tcase_create("Core");
    tcase_add_checked_fixture(core, setup, teardown);
    tcase_add_test(core, curves_and_bars);
    tcase_add_test(core, overlay_pixels);
    suite_add_tcase(s, core);
    TCase *lim = tcase_create("Limits");
    tcase_add_checked_fixture(lim, setup, teardown);
    tcase_add_test(lim, gnuplot_missing_and_errors);
    suite_add_tcase(s, lim);
    return s;
}
