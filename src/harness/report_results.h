/*
 * report_results.h - one experiment's finished units, read back from the results root.
 *
 * Reference: harness/results.h (unit folder layout), shared/spec/metrics.md §6.
 */
#ifndef WINCLIP_HARNESS_REPORT_RESULTS_H
#define WINCLIP_HARNESS_REPORT_RESULTS_H

#include "harness/config.h"
#include "harness/results.h"
#include "util/base.h"

typedef struct {
    char dataset[32], category[64];
    int k, seed; /* k 0: zero-shot (seed 0) */
    MetricSet m;
} ReportUnit;

/* What the experiment's plan (categories x k_shots x seeds) says of its results. */
typedef enum {
    REPORT_RUN_COMPLETE, /* every planned unit of the row is finished                     */
    REPORT_RUN_PARTIAL,  /* some finished, some not: numbers are means over those present   */
    REPORT_RUN_NOT_RUN,  /* no finished unit (or no results folder)                       */
    REPORT_RUN_UNKNOWN   /* finished units but no plan (no config.resolved in the units)   */
} ReportRunState;

#define REPORT_MAX_PLAN_K 16
typedef struct {
    char name[128];      /* folder name under the results root */
    char title[256];     /* experiment.conf `title` (default: name) */
    char table[32];      /* main | ablation | preset | demo (default main) */
    char ablation[64];   /* ablation group (table4) */
    char variant[64];    /* variant inside the group (default: name) */
    char preset[32];     /* anomalib | mala | paper (table5) */
    ReportUnit *units;   /* (n_units), sorted by dataset, k, seed, category */
    int n_units, cap;
    /* The plan: from the first finished unit's config.resolved (what was run, --set included),
     * or, for an experiment without results, from experiments/<name>.conf. */
    int has_plan;
    char plan_dataset[32];
    int plan_n_categories, plan_n_seeds, plan_n_k;
    int plan_k[REPORT_MAX_PLAN_K];
    Config plan;         /* that resolved config (config_get for keys like a subset size) */
} ReportExperiment;

/* Scan <root>/<name>/<dataset>/<category>/<k0|kK_sS>/ for finished units. ERR_MISSING when
 * the folder is absent or has no finished unit. name may also be a path to
 * experiments/<name>.conf (the basename without .conf is used). */
int report_load_experiment(ReportExperiment *e, const char *root, const char *name, Error *err);
void report_experiment_free(ReportExperiment *e);

/* report_load_experiment, and when it finds no finished unit (ERR_MISSING), a not-run entry:
 * metadata and plan from <experiments_dir>/<name>.conf (or name itself when it is a .conf
 * path), n_units = 0. ERR_MISSING only when neither results nor the experiment file exist. */
int report_load_or_plan(ReportExperiment *e, const char *root, const char *experiments_dir, const char *name,
                        Error *err);

/* The state of row (dataset, k) against the plan; *n_done / *n_planned get the unit counts
 * (n_planned 0 when unknown). */
ReportRunState report_row_state(const ReportExperiment *e, const char *dataset, int k, int *n_done, int *n_planned);

/* One line saying so: "complete (15 categories)", "complete (15 categories x 5 seeds)",
 * "PARTIAL: 3 of 15 units (`winclip run NAME` finishes it)", "not run (`winclip run NAME`)",
 * "4 units (plan unknown: no config.resolved)". Returns the state. */
ReportRunState report_row_status(const ReportExperiment *e, const char *dataset, int k, char *buf, size_t cap);

#endif
