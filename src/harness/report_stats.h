/*
 * report_stats.h - aggregation over an experiment's units: category means, mean ± population
 * std over seeds, the (dataset, K) pairs present.
 *
 * Reference: shared/spec/metrics.md §6.
 */
#ifndef WINCLIP_HARNESS_REPORT_STATS_H
#define WINCLIP_HARNESS_REPORT_STATS_H

#include "harness/report_results.h"

/* Unweighted mean over categories of metric for (dataset, k, seed); *n_categories filled;
 * NaN when no category has the metric (NaN categories are skipped and not counted). */
double report_category_mean(const ReportExperiment *e, const char *dataset, int k, int seed, const char *metric,
                            int *n_categories);

/* Distinct seeds present for (dataset, k), ascending; returns the count (<= cap). */
int report_seeds_of(const ReportExperiment *e, const char *dataset, int k, int *seeds, int cap);

/* Mean and population std (ddof = 0) of v[0..n), two-pass; both NaN when n == 0. Returns n.
 * The one std every table uses. */
int report_mean_std(const double *v, int n, double *mean, double *std);

/* Mean and population std over seeds of the category mean; returns the seed count. */
int report_seed_stats(const ReportExperiment *e, const char *dataset, int k, const char *metric, double *mean,
                      double *std);

/* Distinct (dataset, k) pairs in unit order. */
typedef struct {
    char dataset[32];
    int k;
} ReportDsK;
int report_dataset_ks(const ReportExperiment *e, ReportDsK *out, int cap);

/* The rows a table shows for e: the (dataset, k) pairs present, then the planned pairs with no
 * finished unit (e's plan), so a row that was not run is still printed and says so. */
int report_rows_of(const ReportExperiment *e, ReportDsK *out, int cap);

/* The categories of e as "dataset/category, ..." lists: with (some unit has a pixel AUROC, i.e.
 * ground-truth masks) and without masks (image-level metrics only). Each list is cut to cap. */
void report_mask_categories(const ReportExperiment *e, char *with, char *without, size_t cap);

/* The experiment named name among exps[0..n), or NULL. */
const ReportExperiment *report_find(const ReportExperiment *exps, int n, const char *name);

/* The number a table row (dataset, k) shows: K = 0 the category mean, K > 0 the mean over
 * seeds of the category mean (*std: population std over seeds; NaN for K = 0). NaN when absent. */
double report_row_value(const ReportExperiment *e, const char *dataset, int k, const char *metric, double *std);

#endif
