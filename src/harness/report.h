/*
 * report.h - tables from results/ without recomputing: category means, seed mean ± std,
 * our numbers beside the paper's (Markdown, LaTeX, TSV).
 *
 * Does: read every finished unit (`done` + metrics.tsv) of an experiment, the experiment's
 * `experiment.conf` (title, table, ablation, variant, preset: written by `winclip run`), the
 * paper's numbers (paper-tables/paper_*.tsv); write results/<exp>/summary.tsv + summary.md and
 * the paper-layout tables table1..table5 (.md, .tex); count numbers within ±1 point.
 * Does not: compute metrics (they come from metrics.tsv), run gnuplot (plot.c).
 * Modules: tsv.c (TSV reading), report_paper.c (paper numbers), report_results.c (unit
 * discovery), report_stats.c (aggregation, the one std), report_table.c (Markdown/LaTeX table
 * builder, cell formats), report_summary.c (summary.tsv/.md), report_layouts.c (table1..5),
 * report_plots.c (per-experiment figures), report_ablations.c (Table 4, ablation figures),
 * report_figures.c (few-shot figures). This header includes them all.
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
#include "harness/report_paper.h"
#include "harness/report_results.h"
#include "harness/report_stats.h"
#include "harness/report_table.h"
#include "harness/results.h"
#include "harness/tsv.h"
#include "eval/metric_table.h"

#include <stdio.h>

/* ---- outputs ---- */

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

/* Table 4 (report_ablations.c): every paper_ablations.tsv row and every named `table = ablation`
 * experiment, six metrics, ms per image, status and footnotes; written when at least one named
 * experiment is an ablation. Called by report_write_paper_tables. */
int report_write_table4(const ReportExperiment *exps, int n_exps, const PaperTables *paper, const char *out_dir,
                        ReportTally *tally, Error *err);

/* Cross-experiment figures in <out_dir>/figures/ (.dat + .gp, + .png with gnuplot):
 *   ablation_<group>_<metric>: grouped bars, ours per variant beside the paper's (a delta row
 *     drawn on the paper's full-method number), one per ablation group and metric
 *     (report_ablations.c; only when an ablation experiment is named);
 *   fewshot_<dataset>_<metric>: metric vs K = 0, 1, 2, 4, 8, ours mean ± population std over
 *     seeds beside the paper's, per dataset of the named main experiments (report_figures.c). */
int report_write_figures(const ReportExperiment *exps, int n_exps, const PaperTables *paper, const char *out_dir,
                         ReportPlotTally *tally, Error *err);
int report_write_ablation_figures(const ReportExperiment *exps, int n_exps, const PaperTables *paper, const char *dir,
                                  ReportPlotTally *tally, Error *err);

#endif
