/*
 * report_stats.c - aggregation over an experiment's units: category means, the one population
 * std, seed statistics (see report_stats.h).
 *
 * Reference: shared/spec/metrics.md §6 (dataset row = unweighted category mean; few-shot:
 * category mean per seed, then mean ± population std over seeds).
 */
#include "harness/report_stats.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

double report_category_mean(const ReportExperiment *e, const char *dataset, int k, int seed, const char *metric,
                            int *n_categories)
{
    double sum = 0;
    int n = 0;
    for (int i = 0; i < e->n_units; i++) {
        const ReportUnit *u = &e->units[i];
        if (u->k != k || u->seed != seed || strcmp(u->dataset, dataset) != 0) continue;
        double v = results_metric_get(&u->m, metric);
        if (isnan(v)) continue;
        sum += v;
        n++;
    }
    if (n_categories) *n_categories = n;
    return n ? sum / n : NAN;
}

/* Distinct seeds present for (dataset, k), ascending; returns the count (<= cap). */
int report_seeds_of(const ReportExperiment *e, const char *dataset, int k, int *seeds, int cap)
{
    int n = 0;
    for (int i = 0; i < e->n_units; i++) {
        const ReportUnit *u = &e->units[i];
        if (u->k != k || strcmp(u->dataset, dataset) != 0) continue;
        int seen = 0;
        for (int j = 0; j < n; j++) seen |= seeds[j] == u->seed;
        if (!seen && n < cap) seeds[n++] = u->seed;
    }
    return n;
}

/* Mean and population std (ddof = 0, metrics.md §6) of v[0..n), two-pass; NaN for both when n == 0.
 * The one std every table uses. Returns n. */
int report_mean_std(const double *v, int n, double *mean, double *std)
{
    *mean = *std = NAN;
    if (n <= 0) return 0;
    double sum = 0;
    for (int i = 0; i < n; i++) sum += v[i];
    *mean = sum / n;
    double ss = 0;
    for (int i = 0; i < n; i++) ss += (v[i] - *mean) * (v[i] - *mean);
    *std = sqrt(ss / n);
    return n;
}

int report_seed_stats(const ReportExperiment *e, const char *dataset, int k, const char *metric, double *mean,
                      double *std)
{
    int seeds[256];
    int n_seeds = report_seeds_of(e, dataset, k, seeds, 256);
    double vals[256];
    int n = 0;
    for (int s = 0; s < n_seeds; s++) {
        double v = report_category_mean(e, dataset, k, seeds[s], metric, NULL);
        if (!isnan(v)) vals[n++] = v;
    }
    return report_mean_std(vals, n, mean, std);
}


int report_dataset_ks(const ReportExperiment *e, ReportDsK *out, int cap)
{
    int n = 0;
    for (int i = 0; i < e->n_units; i++) {
        const ReportUnit *u = &e->units[i];
        if (n > 0 && out[n - 1].k == u->k && strcmp(out[n - 1].dataset, u->dataset) == 0) continue;
        if (n == cap) break;
        snprintf(out[n].dataset, sizeof out[n].dataset, "%s", u->dataset);
        out[n].k = u->k;
        n++;
    }
    return n;
}

int report_rows_of(const ReportExperiment *e, ReportDsK *out, int cap)
{
    int n = report_dataset_ks(e, out, cap);
    for (int i = 0; e->has_plan && i < e->plan_n_k && n < cap; i++) {
        int seen = 0;
        for (int j = 0; j < n; j++) seen |= out[j].k == e->plan_k[i] && strcmp(out[j].dataset, e->plan_dataset) == 0;
        if (seen) continue;
        snprintf(out[n].dataset, sizeof out[n].dataset, "%s", e->plan_dataset);
        out[n].k = e->plan_k[i];
        n++;
    }
    return n;
}

const ReportExperiment *report_find(const ReportExperiment *exps, int n, const char *name)
{
    for (int i = 0; i < n && name; i++)
        if (strcmp(exps[i].name, name) == 0) return &exps[i];
    return NULL;
}

double report_row_value(const ReportExperiment *e, const char *dataset, int k, const char *metric, double *std)
{
    double mean, sd = NAN;
    if (k == 0)
        mean = report_category_mean(e, dataset, 0, 0, metric, NULL);
    else
        report_seed_stats(e, dataset, k, metric, &mean, &sd);
    if (std) *std = sd;
    return mean;
}

void report_mask_categories(const ReportExperiment *e, char *with, char *without, size_t cap)
{
    with[0] = without[0] = 0;
    for (int i = 0; i < e->n_units; i++) {
        const ReportUnit *u = &e->units[i];
        int seen = 0, masks = 0;
        for (int j = 0; j < e->n_units; j++) {
            const ReportUnit *v = &e->units[j];
            if (strcmp(v->dataset, u->dataset) || strcmp(v->category, u->category)) continue;
            if (j < i) seen = 1;
            masks |= !isnan(results_metric_get(&v->m, "pixel_auroc"));
        }
        if (seen) continue;
        char *list = masks ? with : without;
        size_t len = strlen(list);
        if (len < cap) snprintf(list + len, cap - len, "%s%s/%s", len ? ", " : "", u->dataset, u->category);
    }
}
