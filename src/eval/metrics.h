/*
 * metrics.h - exact anomaly-detection metrics: image and pixel AUROC, AP, F1-max, AUPRO.
 *
 * Does: image-level AUROC / AP / F1-max (+ trapezoidal AUPR) over one score per image, and
 * pixel-level AUROC / AP / F1-max / AUPRO (official MVTec AD definition) over every pixel of
 * every test image of a category, plus informational variants (trapezoidal AUPR, AUPRO with
 * 4-connectivity, cflow-200 PRO). ROC / PR / PRO curve points for plots.
 * Does not: resize maps or masks, read files (cmd_metrics.c), average over categories.
 * Reference: shared/spec/metrics.md (sklearn roc_auc_score / average_precision_score /
 * precision_recall_curve 1.2; MVTec AD evaluation code compute_pro + trapezoid; cflow-ad
 * cal_pro_score).
 *
 *     ImageMetrics im;  PixelMetrics pm;  Error err = {0};
 *     if (metrics_image(scores, labels, n_images, &im, &err)) goto fail;        // scores (N)
 *     if (metrics_pixel(maps, masks, n_images, 240, 240, 0.3, &pm, &err)) goto fail;
 *     printf("i-AUROC %.1f  p-AUROC %.1f  AUPRO %.1f\n", 100*im.auroc, 100*pm.auroc, 100*pm.aupro);
 *
 * Rules shared by every function (spec §0): higher score = more anomalous; label/mask nonzero =
 * anomalous; every distinct score is a threshold (`score >= t` is anomalous); equal scores
 * (-0.0 == +0.0) form one tie group and give one curve point; NaN or +-Inf anywhere is
 * ERR_VALUE naming the image and index; a set without positives or negatives (or, for PRO,
 * without defect regions) is ERR_VALUE - a metric is never silently NaN. Counts are integers,
 * ratios and areas double. No threshold sampling: results equal sklearn / the official code to
 * round-off.
 *
 * Cost (pixels): O(n + P log P) time with P anomalous pixels (one radix sort of the anomalous
 * pixels; each normal pixel is located among them by a bucket table + short binary search,
 * never sorted); extra memory 16-18 bytes per ANOMALOUS pixel (+ 4 per defect region) and
 * nothing per normal pixel (plus scratch for one image's connected components): ~0.5 B per
 * pixel on MVTec-like data, <= 12 B per pixel while defects are < ~70% of all pixels, so a
 * category at original MVTec resolution needs no special mode. 10 M pixels take ~0.2 s on
 * one core. Total pixels per call must be < 2^32 (ERR_UNSUPPORTED otherwise).
 *
 * Return codes: 0, or a negative ERR_* with err filled (err may be NULL).
 */
#ifndef WINCLIP_METRICS_H
#define WINCLIP_METRICS_H

#include "util/base.h"

#include <stddef.h>
#include <stdint.h>

/* ---- results ---- */

typedef struct {
    double auroc;        /* sklearn roc_auc_score                                   */
    double ap;           /* step-wise average precision (sklearn average_precision) */
    double f1max;        /* max over thresholds of 2TP / (2TP + FP + FN)            */
    double f1_threshold; /* the (highest) score threshold reaching f1max            */
    double aupr_trapz;   /* informational: sklearn auc(recall, precision), spec §3  */
} ImageMetrics;

typedef struct {
    double auroc, ap, f1max, f1_threshold; /* over all pixels pooled, as ImageMetrics      */
    double aupro;          /* official MVTec AUPRO to pro_limit, divided by pro_limit       */
    double aupr_trapz;     /* informational: trapezoidal AUPR (spec §3)                      */
    double aupro_cflow200; /* informational: cflow-ad cal_pro_score (spec §5.1); NaN where
                              that recipe is undefined (constant maps, < 2 points < 0.3)  */
    int64_t n_regions;     /* connected defect regions over all images                      */
    int64_t n_pos_pixels;  /* anomalous pixels                                              */
} PixelMetrics;

typedef struct {
    double pro_limit; /* FPR limit of AUPRO, in (0, 1]; 0.3 is the standard              */
    int connectivity; /* 8 (official, scipy structure ones((3,3))) or 4                  */
} PixelOptions;

/* ---- image level ---- */

/* scores (n) float32 or float64, labels (n) 0 = normal, nonzero = anomalous. */
int metrics_image(const float *scores, const uint8_t *labels, size_t n, ImageMetrics *out,
                  Error *err);
int metrics_image_f64(const double *scores, const uint8_t *labels, size_t n, ImageMetrics *out,
                      Error *err);

/* ---- pixel level ---- */

/* maps (n_images, height, width) float32 row-major; masks (n_images, height, width) uint8,
 * nonzero = defect (normal images have all-zero masks and are included: all their pixels are
 * negatives). AUPRO with 8-connected regions per image, integrated to pro_limit in (0, 1]. */
int metrics_pixel(const float *maps, const uint8_t *masks, size_t n_images, int height, int width,
                  double pro_limit, PixelMetrics *out, Error *err);
/* Same with options (4-connectivity is an informational variant, spec §7 fixture column). */
int metrics_pixel_opts(const float *maps, const uint8_t *masks, size_t n_images, int height,
                       int width, const PixelOptions *opt, PixelMetrics *out, Error *err);

/* ---- curves (for plots; the metric values above never depend on max_points) ---- */

typedef struct {
    size_t n;      /* number of points                                        */
    double *x, *y; /* (n) each, xmalloc'ed; free with curve_free              */
} Curve;

void metrics_curve_free(Curve *c); /* safe on a zeroed struct */

/* Which curve: ROC x = FPR, y = TPR from (0, 0) to (1, 1); PR x = recall, y = precision from
 * (0, 1) (sklearn's end point) to recall 1; PRO x = FPR, y = PRO from (0, 0) to (1, 1)
 * (pixels only, 8-connected regions). Points in order of decreasing threshold. */
typedef enum { CURVE_ROC = 0, CURVE_PR = 1, CURVE_PRO = 2 } CurveKind;

/* Every curve vertex is kept when the curve has at most max_points points (max_points <= 0:
 * all); otherwise points are picked evenly along the curve's length, always keeping the
 * first and last, so the plot stays faithful. Collinear points of runs of normal-only
 * thresholds are never emitted. *out must be zeroed or freed; caller frees it. */
int metrics_image_curve(const double *scores, const uint8_t *labels, size_t n, CurveKind kind,
                        int max_points, Curve *out, Error *err);
int metrics_pixel_curve(const float *maps, const uint8_t *masks, size_t n_images, int height,
                        int width, CurveKind kind, int max_points, Curve *out, Error *err);

/* ---- helpers ---- */

/* Down-sample a curve in place to at most max_points (>= 2) points along its L1 length,
 * keeping the first and last point. */
void metrics_curve_downsample(Curve *c, int max_points);

#endif
