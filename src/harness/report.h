/*
 * report.h - tables from results/ without recomputing: category means, seed mean ± std,
 * our numbers beside the paper's (Markdown, LaTeX, TSV).
 *
 * Does: read every finished unit (`done` + metrics.tsv) of an experiment, the experiment's
 * `experiment.conf` (title, table, ablation, variant, preset: written by `winclip run`), the
 * paper's numbers (paper-tables/paper_*.tsv); write results/<exp>/summary.tsv + summary.md and
 * the paper-layout tables table1..table5 (.md, .tex); count numbers within ±1 point.
 * Does not: compute metrics (they come from metrics.tsv), run gnuplot (plot.c); the figures
 * (report_write_plots) are in report_plots.c.
 * Reference: shared/spec/metrics.md §6 (dataset row = unweighted category mean; few-shot:
 * category mean per seed, then mean ± population std over seeds), winclip.md §10-§12.
 *
 *     ReportExperiment e;
 *     if (report_load_experiment(&e, "results", "E01_zero_shot", &err)) goto fail;
 *     report_write_summary(&e, "results", &paper, &err);
 *     report_experiment_free(&e);
 */
#ifndef WINCLIP_REPORT_H
#define WINCLIP_REPORT_H

#include "util/base.h"
#include "harness/results.h"

#include <stdio.h>

/* The six metrics of the paper's tables (table 1 order) and their short labels. */
#define REPORT_N_MAIN 6
extern const char *const REPORT_MAIN_METRICS[REPORT_N_MAIN]; /* image_auroc, image_ap, ... */
extern const char *const REPORT_MAIN_LABELS[REPORT_N_MAIN];  /* i-AUROC, i-AUPR, ...       */

/* ---- a generic TSV table (header + string cells) ---- */

typedef struct {
    int n_cols, n_rows;
    char **header; /* (n_cols) */
    char ***rows;  /* (n_rows, n_cols) */
} Tsv;

/* Load a tab-separated file with a header line; rows with a different column count are
 * ERR_FORMAT naming file:line. */
int tsv_load(Tsv *t, const char *path, Error *err);
void tsv_free(Tsv *t);
/* Column index of name or -1. */
int tsv_col(const Tsv *t, const char *name);

/* ---- the paper's numbers ---- */

typedef struct {
    Tsv zero_shot, few_shot, per_category, ablations, reproductions;
} PaperTables;

/* Load paper-tables/paper_*.tsv and public_reproductions.tsv from dir. */
int report_paper_load(PaperTables *p, const char *dir, Error *err);
void report_paper_free(PaperTables *p);

/* Look-ups in percent; return 1 and fill *value (and *std, *unverified when non-NULL) if
 * the paper has the number, else 0. k = 0 is zero-shot (paper_zero_shot.tsv). */
int report_paper_mean(const PaperTables *p, const char *dataset, int k, const char *metric, double *value,
                      double *std, int *unverified);
int report_paper_category(const PaperTables *p, const char *dataset, const char *category, const char *metric,
                          double *value, int *unverified);

/* ---- one experiment's results ---- */

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

/* Unweighted mean over categories of metric for (dataset, k, seed); *n_categories filled;
 * NaN when no category has the metric (NaN categories are skipped and not counted). */
double report_category_mean(const ReportExperiment *e, const char *dataset, int k, int seed, const char *metric,
                            int *n_categories);
/* Mean and population std (ddof 0) over seeds of the category mean; returns the seed count. */
/* Mean and population std (ddof = 0) of v[0..n); both NaN when n == 0. Returns n. */
int report_mean_std(const double *v, int n, double *mean, double *std);
int report_seed_stats(const ReportExperiment *e, const char *dataset, int k, const char *metric, double *mean,
                      double *std);

/* ---- outputs ---- */

/* Accumulates |ours - paper| <= 1 point comparisons for the final summary. */
typedef struct {
    int n_compared, n_within;
    char misses[4096]; /* "table1 MVTec AD i-AUROC: 88.0 vs 91.8 (-3.8); ..." */
} ReportTally;

/* results/<exp>/summary.tsv (fractions, full precision) and summary.md (percent, paper beside). */
int report_write_summary(const ReportExperiment *e, const char *root, const PaperTables *paper, Error *err);

/* table1..table5 (.md, .tex) in out_dir from the experiments (by their `table` kind); a table
 * with no data is not written. Comparisons are added to tally. */
int report_write_paper_tables(const ReportExperiment *exps, int n_exps, const PaperTables *paper,
                              const char *out_dir, ReportTally *tally, Error *err);

/* What report_write_plots did: figures written (PNG or, without gnuplot, .dat + .gp only). */
typedef struct {
    int n_figures, n_skipped; /* n_skipped: PNG not drawn (gnuplot missing) */
    int n_missing;            /* unit roc.dat / pr.dat files absent (category left out) */
    char first_missing[512];
} ReportPlotTally;

/* Figures in <root>/<exp>/plots/ (report_plots.c), per dataset and K:
 *   <ds>_roc_image_k<K>, <ds>_roc_pixel_k<K>, <ds>_pr_image_k<K>, <ds>_pr_pixel_k<K>: one panel
 *     with every category's curve (from the units' roc.dat / pr.dat; few-shot: each category's
 *     lowest seed, named in the title), AUROC / AP in the key;
 *   <ds>_bars_image_auroc_k<K>, <ds>_bars_pixel_auroc_k<K>: per-category AUROC in percent
 *     (few-shot: mean over seeds) beside the paper's per-category zero-shot number (K = 0 only).
 * Each as .dat + .gp (+ .png when gnuplot exists). Adds to tally; ERR_IO on a write failure. */
int report_write_plots(const ReportExperiment *e, const char *root, const PaperTables *paper, ReportPlotTally *tally,
                       Error *err);

/* Percent with one decimal ("91.8"), "–" for NaN. */
void report_pct(char *buf, size_t cap, double fraction);

#endif
