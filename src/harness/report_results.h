/*
 * report_results.h - one experiment's finished units, read back from the results root.
 *
 * Reference: harness/results.h (unit folder layout), shared/spec/metrics.md §6.
 */
#ifndef WINCLIP_HARNESS_REPORT_RESULTS_H
#define WINCLIP_HARNESS_REPORT_RESULTS_H

#include "harness/results.h"
#include "util/base.h"

typedef struct {
    char dataset[32], category[64];
    int k, seed; /* k 0: zero-shot (seed 0) */
    MetricSet m;
} ReportUnit;

typedef struct {
    char name[128];      /* folder name under the results root */
    char title[256];     /* experiment.conf `title` (default: name) */
    char table[32];      /* main | ablation | preset | demo (default main) */
    char ablation[64];   /* ablation group (table4) */
    char variant[64];    /* variant inside the group (default: name) */
    char preset[32];     /* anomalib | mala | paper (table5) */
    ReportUnit *units;   /* (n_units), sorted by dataset, k, seed, category */
    int n_units, cap;
} ReportExperiment;

/* Scan <root>/<name>/<dataset>/<category>/<k0|kK_sS>/ for finished units. ERR_MISSING when
 * the folder is absent or has no finished unit. name may also be a path to
 * experiments/<name>.conf (the basename without .conf is used). */
int report_load_experiment(ReportExperiment *e, const char *root, const char *name, Error *err);
void report_experiment_free(ReportExperiment *e);

#endif
