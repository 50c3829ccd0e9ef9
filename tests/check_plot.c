/*
 * check_plot.c - tests for plot.c: .dat/.gp/.png files, soft skip without gnuplot, overlay
 * pixels (heat map, contour, colour bar and its labels), .dat read-back.
 */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clip/image.h"
#include "harness/plot.h"
#include "check_suites.h"
#include "test_util.h"


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
    char *stem = xasprintf("%s/roc_image", test_tmp);
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
    stem = xasprintf("%s/bars", test_tmp);
    const char *labels[2] = {"bottle", "cable"};
    double ours[2] = {91.0, 80.0}, paper[2] = {99.2, NAN};
    ck_assert_msg(plot_bars(stem, "i-AUROC vs paper", 2, labels, ours, paper, &skipped, &err) == 0, "%s", err.msg);
    char *dat = xasprintf("%s.dat", stem);
    text = test_read_file(dat, NULL);
    ck_assert_msg(strstr(text, "\"cable\" 80.0000 NaN\n") != NULL, "%s", text);
    free(text);
    /* no finite value at all (every variant not run, no paper number): an empty frame gnuplot accepts */
    double none[2] = {NAN, NAN};
    ck_assert_msg(plot_bars(stem, "nothing", 2, labels, none, NULL, &skipped, &err) == 0, "%s", err.msg);
    char *gpf = xasprintf("%s.gp", stem);
    text = test_read_file(gpf, NULL);
    ck_assert_msg(strstr(text, "'no data'") && !strstr(text, "histograms"), "%s", text);
    free(text);
    free(gpf);
    free(dat);
    free(stem);
}
END_TEST

START_TEST(errorbars)
{
    double x[3] = {0, 1, 8}, y[3] = {60.5, 74.8, 78.5}, e[3] = {NAN, 0.1, 2.5};
    PlotErrSeries s[3] = {{"ours", 3, x, y, e}, {"empty", 0, NULL, NULL, NULL}, {"paper", 1, x + 2, y + 2, e}};
    char *stem = xasprintf("%s/fewshot", test_tmp);
    int skipped = -1;
    Error err = {0};
    ck_assert_msg(plot_errorbars(stem, "i-AUROC vs K", "K", "percent", s, 3, 0.1, &skipped, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(skipped, plot_terminal() ? 0 : 1);
    if (plot_terminal()) ck_assert(exists(stem, ".png"));
    char *dat = xasprintf("%s.dat", stem), *gp = xasprintf("%s.gp", stem);
    char *text = test_read_file(dat, NULL);
    /* NaN error = no bar (0); the empty series is a comment only; blocks apart by two blank lines */
    ck_assert_msg(strstr(text, "# ours\n0 60.5 0\n1 74.8 0.1\n8 78.5 2.5\n\n\n# (empty: no data, not drawn)\n# paper\n"
                               "8 78.5 0\n") != NULL, "%s", text);
    free(text);
    text = test_read_file(gp, NULL);
    /* two blocks drawn, shifted by -0.1 and +0.1 (3 series, dx 0.1), xtics at the first series' x */
    ck_assert_msg(strstr(text, "'fewshot.dat' index 0 using ($1-0.1000):2:3 with yerrorlines") &&
                      strstr(text, "'fewshot.dat' index 1 using ($1+0.1000):2:3 with yerrorlines") &&
                      !strstr(text, "index 2") && strstr(text, "set xtics (\"0\" 0, \"1\" 1, \"8\" 8)"),
                  "%s", text);
    free(text);
    /* nothing to draw: still a valid script (an empty frame that says so) */
    ck_assert_int_eq(plot_errorbars(stem, "none", "K", "percent", s + 1, 1, 0.1, &skipped, &err), 0);
    text = test_read_file(gp, NULL);
    ck_assert_msg(strstr(text, "'no data'") && !strstr(text, "yerrorlines"), "%s", text);
    free(text);
    free(dat);
    free(gp);
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
    char *png = xasprintf("%s/ov.png", test_tmp);
    Error err = {0};
    ck_assert_msg(plot_overlay(png, rgb, map, mask, W, H, 0.0f, 1.0f, &err) == 0, "%s", err.msg);
    Image img = {0};
    ck_assert_int_eq(image_load(&img, png, &err), 0);
    ck_assert_int_eq(img.width, plot_overlay_width(W, H));
    ck_assert(img.width > W + 10 && img.height == H);
    /* pixel 0: t = 0 -> dark blue (0, 0, 128) blended with 100 gray */
    ck_assert_int_eq(img.rgb[0], 50);
    ck_assert_int_eq(img.rgb[2], 114);
    /* (1,1) is on the mask border -> white */
    size_t i = (size_t)(1 * img.width + 1) * 3;
    ck_assert(img.rgb[i] == 255 && img.rgb[i + 1] == 255 && img.rgb[i + 2] == 255);
    /* colour bar: a white gap, then the strip: top row = vmax = dark red, bottom row = dark blue */
    const uint8_t *top = img.rgb + 3 * (size_t)(W + 6), *bottom = img.rgb + 3 * ((size_t)(H - 1) * img.width + W + 6);
    ck_assert_msg(top[0] == 128 && top[1] == 0 && top[2] == 0, "top %d %d %d", top[0], top[1], top[2]);
    ck_assert_msg(bottom[0] == 0 && bottom[1] == 0 && bottom[2] == 128, "bottom %d %d %d", bottom[0], bottom[1], bottom[2]);
    ck_assert_int_eq(img.rgb[3 * (size_t)W], 255);
    image_free(&img);
    free(png);
}
END_TEST

/* A taller overlay gets the value labels: black digit pixels right of the strip, top and bottom. */
START_TEST(overlay_colour_bar_labels)
{
    enum { W = 20, H = 40 };
    uint8_t rgb[W * H * 3] = {0};
    float map[W * H];
    for (int i = 0; i < W * H; i++) map[i] = 0.25f + 0.5f * (float)i / (W * H - 1);
    char *png = xasprintf("%s/ov.png", test_tmp);
    Error err = {0};
    ck_assert_msg(plot_overlay(png, rgb, map, NULL, W, H, 0.25f, 0.75f, &err) == 0, "%s", err.msg);
    Image img = {0};
    ck_assert_int_eq(image_load(&img, png, &err), 0);
    int black_top = 0, black_bottom = 0, black_middle = 0;
    for (int y = 0; y < H; y++)
        for (int x = W + 14; x < img.width; x++) {
            const uint8_t *p = img.rgb + 3 * ((size_t)y * img.width + x);
            if (p[0] || p[1] || p[2]) continue;
            if (y < 5) black_top++;
            else if (y >= H - 5) black_bottom++;
            else black_middle++;
        }
    ck_assert_msg(black_top > 10 && black_bottom > 10 && black_middle == 0, "%d %d %d", black_top, black_bottom,
                  black_middle);
    image_free(&img);
    free(png);
}
END_TEST

/* plot_dat_load reads back what plot_curves wrote. */
START_TEST(dat_round_trip)
{
    double x[3] = {0, 0.25, 1}, y[3] = {0, 0.75, 1};
    PlotSeries s[2] = {{"image", 3, x, y}, {"pixel", 2, y, x}};
    char *stem = xasprintf("%s/roc", test_tmp), *dat = xasprintf("%s/roc.dat", test_tmp);
    int skipped = 0;
    Error err = {0};
    ck_assert_msg(plot_curves(stem, "t", "x", "y", s, 2, 1, &skipped, &err) == 0, "%s", err.msg);
    PlotDat d;
    ck_assert_msg(plot_dat_load(&d, dat, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(d.n_series, 2);
    ck_assert_str_eq(d.series[1].label, "pixel");
    ck_assert_int_eq(d.series[0].n, 3);
    ck_assert_int_eq(d.series[1].n, 2);
    ck_assert(test_allclose_f64(d.series[0].y, y, 3, 0, "image y"));
    ck_assert(test_allclose_f64(d.series[1].x, y, 2, 0, "pixel x"));
    plot_dat_free(&d);
    plot_dat_free(&d); /* safe twice */
    free(stem);
    free(dat);
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
        char *stem = xasprintf("%s/pr", test_tmp);
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
    ck_assert_int_eq(plot_overlay("/test_tmp/x.png", rgb, map, NULL, 0, 1, 0, 1, &err), ERR_VALUE);
    PlotDat d;
    char *bad = xasprintf("%s/bad.dat", test_tmp);
    test_write_file(bad, "# image\n0 0\n0.5 oops\n", strlen("# image\n0 0\n0.5 oops\n"));
    ck_assert_int_eq(plot_dat_load(&d, bad, &err), ERR_FORMAT);
    ck_assert_msg(strstr(err.msg, "bad.dat:3") != NULL, "%s", err.msg);
    ck_assert_int_eq(d.n_series, 0);
    test_write_file(bad, "0 0\n", 4);
    ck_assert_int_eq(plot_dat_load(&d, bad, &err), ERR_FORMAT);
    ck_assert_int_eq(plot_dat_load(&d, "/nonexistent/roc.dat", &err), ERR_MISSING);
    ck_assert(strstr(err.msg, "/nonexistent/roc.dat") != NULL);
    free(bad);
}
END_TEST

Suite *plot_suite(void)
{
    Suite *s = suite_create("plot");
    TCase *core = tcase_create("Core");
    tcase_add_checked_fixture(core, test_tmp_setup, test_tmp_teardown);
    tcase_add_test(core, curves_and_bars);
    tcase_add_test(core, errorbars);
    tcase_add_test(core, overlay_pixels);
    tcase_add_test(core, overlay_colour_bar_labels);
    tcase_add_test(core, dat_round_trip);
    suite_add_tcase(s, core);
    TCase *lim = tcase_create("Limits");
    tcase_add_checked_fixture(lim, test_tmp_setup, test_tmp_teardown);
    tcase_add_test(lim, gnuplot_missing_and_errors);
    suite_add_tcase(s, lim);
    return s;
}
