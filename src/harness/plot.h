/*
 * plot.h - figures: gnuplot scripts run through popen (ROC / PR curves, bar charts) and
 * anomaly-map overlays rendered in C (image + heat map + ground-truth contour).
 *
 * Does: write <stem>.dat (data) and <stem>.gp (a readable script users can restyle) beside
 * <stem>.png, then run gnuplot in that folder; check once whether gnuplot and a PNG terminal
 * (pngcairo, else png) exist. A missing gnuplot is not an error: *skipped is set, the .dat and
 * .gp files are still written and the caller says plots were skipped.
 * Does not: compute curves (metrics.c) or aggregate results (report.c).
 * Reference: the reproduction-harness issue, item 6; conventions.md §2.14 (figures from results).
 *
 *     PlotSeries s = {"bottle", n, fpr, tpr};
 *     int skipped = 0;
 *     if (plot_curves("results/E01/mvtec/bottle/k0/roc_image", "bottle: image ROC", "FPR", "TPR",
 *                     &s, 1, 1, &skipped, &err)) goto fail;
 */
#ifndef WINCLIP_PLOT_H
#define WINCLIP_PLOT_H

#include "util/base.h"

#include <stdint.h>

/* The gnuplot terminal to use: "pngcairo", "png", or NULL when gnuplot is missing or has no
 * PNG terminal (probed once per process; WINCLIP_GNUPLOT overrides the program name). */
const char *plot_terminal(void);

typedef struct {
    const char *label;
    int n;
    const double *x, *y; /* (n) each */
} PlotSeries;

/* Line plot of n_series curves, x and y in [0, 1]; diagonal adds the y = x chance line (ROC).
 * Writes <stem>.dat, <stem>.gp and (gnuplot present) <stem>.png. ERR_IO when a file cannot be
 * written or gnuplot fails; *skipped = 1 (return 0) when gnuplot is unavailable. */
int plot_curves(const char *stem, const char *title, const char *xlabel, const char *ylabel,
                const PlotSeries *series, int n_series, int diagonal, int *skipped, Error *err);

/* The series of a <stem>.dat written by plot_curves ("# label" line, then "x y" lines, blocks
 * separated by blank lines). Owns every array; free with plot_dat_free (safe when zeroed). */
typedef struct {
    int n_series;
    PlotSeries *series; /* (n_series); x, y owned */
    char **labels;      /* (n_series), series[i].label points here */
} PlotDat;

/* ERR_MISSING when path cannot be opened, ERR_FORMAT (file:line) on a malformed line. */
int plot_dat_load(PlotDat *d, const char *path, Error *err);
void plot_dat_free(PlotDat *d);

/* Grouped bar chart, percent: ours (n) beside paper (n, NaN = no paper value; NULL: ours
 * alone), one group per label. Same files and return codes as plot_curves. */
int plot_bars(const char *stem, const char *title, int n, const char *const *labels,
              const double *ours, const double *paper, int *skipped, Error *err);

/* A series with error bars: y (n) ± err (n; NaN or 0 = no bar) at x (n). */
typedef struct {
    const char *label;
    int n;
    const double *x, *y, *err;
} PlotErrSeries;

/* Points joined by lines with vertical error bars (gnuplot yerrorlines), percent on y; each
 * series drawn shifted by dx * (its index - (n_series - 1) / 2) on x so bars at one x stay
 * apart; xtics at the x values of the first non-empty series. Series with n = 0 are listed in
 * the .dat as an empty block comment only and not drawn. Same files and return codes as
 * plot_curves. */
int plot_errorbars(const char *stem, const char *title, const char *xlabel, const char *ylabel,
                   const PlotErrSeries *series, int n_series, double dx, int *skipped, Error *err);

/* Overlay PNG (plot_overlay_width(width, height) x height): the image darkened 50% under a
 * jet-like heat map of map (scaled from [vmin, vmax]), alpha 0.5, the ground-truth contour in
 * white (mask pixels with a 4-neighbour outside the mask), and on the right a colour bar
 * (vmax at the top row, vmin at the bottom row) with vmax / vmin printed beside it in small
 * digits ("%.3g"; omitted when the image is under 12 rows). rgb (h, w, 3), map (h, w),
 * mask (h, w) 0/1 or NULL. ERR_VALUE for a non-positive size, ERR_IO when the PNG fails. */
int plot_overlay_width(int width, int height);

int plot_overlay(const char *png_path, const uint8_t *rgb, const float *map, const uint8_t *mask,
                 int width, int height, float vmin, float vmax, Error *err);

#endif
