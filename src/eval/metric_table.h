/*
 * metric_table.h - the one table of metrics: name, label, how it is computed, how it is
 * printed. `winclip run` (unit metrics.tsv), `winclip report` (summary and paper tables),
 * the plots and `winclip metrics` all read it; no other file spells a metric name.
 *
 *     MetricValues v = {0};
 *     metrics_image(scores, labels, n, &v.image, &err);  metric_values_set_pixel(&v, &pm);
 *     for (int i = 0; i < METRIC_COUNT; i++)
 *         if (METRIC_TABLE[i].flags & METRIC_UNIT) add(METRIC_TABLE[i].name, metric_value(i, &v));
 *
 * Reference: shared/spec/metrics.md §1-§6 (definitions; tables print percent, one decimal).
 */
#ifndef WINCLIP_EVAL_METRIC_TABLE_H
#define WINCLIP_EVAL_METRIC_TABLE_H

#include <stddef.h>

#include "eval/metrics.h"

/* Every metric, in the order of a unit's metrics.tsv. */
typedef enum {
    METRIC_IMAGE_AUROC,
    METRIC_IMAGE_AP,
    METRIC_IMAGE_F1MAX,
    METRIC_PIXEL_AUROC,
    METRIC_PIXEL_AP,
    METRIC_PIXEL_F1MAX,
    METRIC_AUPRO,
    METRIC_IMAGE_AUPR_TRAPZ,
    METRIC_PIXEL_AUPR_TRAPZ,
    METRIC_AUPRO_CFLOW200,
    METRIC_IMAGE_AUROC_MAXMAP,
    METRIC_IMAGE_F1_THRESHOLD,
    METRIC_PIXEL_F1_THRESHOLD,
    METRIC_N_IMAGES,
    METRIC_N_ANOMALOUS,
    METRIC_MAP_HEIGHT,
    METRIC_MAP_WIDTH,
    METRIC_PRO_LIMIT,    /* `winclip metrics --all` only: the AUPRO FPR limit used */
    METRIC_CONNECTIVITY, /* `winclip metrics --all` only */
    METRIC_N_POS_PIXELS, /* `winclip metrics --all` only */
    METRIC_N_REGIONS,    /* `winclip metrics --all` only */
    METRIC_COUNT
} MetricId;

/* How a value is printed: a fraction (tables: percent, one decimal), a score threshold, or an
 * integer (count, size). */
typedef enum { METRIC_RATIO, METRIC_SCORE, METRIC_INTEGER } MetricKind;

/* Flags: where a metric appears. */
enum {
    METRIC_UNIT = 1,     /* a unit's metrics.tsv / metrics.json (`winclip run`)          */
    METRIC_SUMMARY = 2,  /* a column of summary.tsv (`winclip report`)                   */
    METRIC_PIXEL = 4,    /* needs maps and masks (`winclip metrics` prints it only then) */
    METRIC_CLI_ALL = 8   /* `winclip metrics` prints it only with --all                  */
};

/* Every value one evaluation computes; metric_value reads the table's field from it. */
typedef struct {
    ImageMetrics image;        /* over the image scores                         */
    ImageMetrics image_maxmap; /* over the maximum of each map as the score     */
    PixelMetrics pixel;        /* over every pixel of every map                 */
    double n_images, n_anomalous, map_height, map_width;
    double pro_limit, connectivity, n_pos_pixels, n_regions;
} MetricValues;

typedef struct {
    const char *name;     /* key in metrics.tsv, summary.tsv, the paper tables' `metric` column */
    const char *label;    /* short label in tables and the run's line ("i-AUROC"); NULL: none */
    const char *cli_name; /* key printed by `winclip metrics`; NULL: not printed there */
    size_t offset;        /* offsetof(MetricValues, the double it reads)                 */
    MetricKind kind;
    unsigned flags;       /* METRIC_UNIT | METRIC_SUMMARY | METRIC_PIXEL | METRIC_CLI_ALL */
    const char *computed; /* how it is computed (one line, for help and docs)            */
    const char *headline; /* label on `winclip run`'s one line per unit; NULL: not shown   */
} MetricInfo;

extern const MetricInfo METRIC_TABLE[METRIC_COUNT];

/* Column orders that the paper fixes (views of the table, by id). */
#define METRIC_N_MAIN 6
extern const MetricId METRIC_MAIN_COLUMNS[METRIC_N_MAIN];   /* tables 1, 2, 5: i-AUROC ... p-F1max */
#define METRIC_N_CATEGORY 4
extern const MetricId METRIC_CATEGORY_COLUMNS[METRIC_N_CATEGORY]; /* table 3 per category      */
#define METRIC_N_CLI 18
extern const MetricId METRIC_CLI_ORDER[METRIC_N_CLI];       /* `winclip metrics` output order  */

/* The name of id (METRIC_TABLE[id].name). */
const char *metric_name(MetricId id);
/* The short label of id (METRIC_TABLE[id].label, NULL when it has none). */
const char *metric_label(MetricId id);
/* The value of id in v. */
double metric_value(MetricId id, const MetricValues *v);
/* v->pixel = *pm and the counts it carries (n_pos_pixels, n_regions). */
void metric_values_set_pixel(MetricValues *v, const PixelMetrics *pm);

#endif
