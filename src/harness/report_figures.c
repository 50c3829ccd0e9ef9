/*
 * report_figures.c - the cross-experiment figures in <tables>/figures/: one grouped-bar figure
 * per ablation group (report_ablations.c) and, per dataset and main metric, few-shot
 * fewshot_<dataset>_<metric>: the metric vs K = 0, 1, 2, 4, 8, ours as mean ± population std
 * over seeds (error bars), the paper's mean ± std beside it (see report.h).
 *
 * Does: pick each K's experiment (a `table = main` experiment with that (dataset, K) row, else
 * for K = 8 the experiment of the paper's fewshot8/with_language row); the paper's K = 0 from
 * paper_zero_shot.tsv, K = 1..4 from paper_few_shot.tsv, K = 8 from that ablation row.
 * Does not: compute metrics or draw (plot.c).
 * Reference: shared/spec/metrics.md §6 (population std), winclip.md §10.2, §10.4.
 */
#define _POSIX_C_SOURCE 200809L
#include "harness/report.h"

#include "harness/plot.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Names in fixed buffers: truncation is intended. */
#pragma GCC diagnostic ignored "-Wformat-truncation"

static const int FEWSHOT_K[] = {0, 1, 2, 4, 8};
#define N_FEWSHOT_K ((int)ARRAY_LEN(FEWSHOT_K))

/* The paper row index of the K = 8 with-language ablation, or -1. */
static int k8_paper_row(const PaperTables *paper, const char *dataset)
{
    const char *names[] = {"ablation", "variant", "dataset"};
    const char *values[] = {"fewshot8", "with_language", dataset};
    return tsv_find(&paper->ablations, 3, names, values);
}

/* The experiment that gives (dataset, k) for the few-shot figure, or NULL. */
static const ReportExperiment *k_source(const ReportExperiment *exps, int n_exps, const PaperTables *paper,
                                        const char *dataset, int k)
{
    for (int x = 0; x < n_exps; x++) {
        if (strcmp(exps[x].table, "main") != 0) continue;
        int done;
        report_row_state(&exps[x], dataset, k, &done, NULL);
        if (done > 0) return &exps[x];
    }
    int r = k == 8 ? k8_paper_row(paper, dataset) : -1;
    if (r < 0) return NULL;
    const ReportExperiment *e = report_find(exps, n_exps, paper->ablations.rows[r][tsv_col(&paper->ablations, "experiment")]);
    int done = 0;
    if (e) report_row_state(e, dataset, k, &done, NULL);
    return done > 0 ? e : NULL;
}

static int fewshot_figure(const ReportExperiment *exps, int n_exps, const PaperTables *paper, const char *dir,
                          const char *dataset, MetricId metric, ReportPlotTally *tally, Error *err)
{
    double ox[N_FEWSHOT_K], oy[N_FEWSHOT_K], oe[N_FEWSHOT_K], px[N_FEWSHOT_K], py[N_FEWSHOT_K], pe[N_FEWSHOT_K];
    int no = 0, np = 0;
    const char *mname = metric_name(metric);
    for (int i = 0; i < N_FEWSHOT_K; i++) {
        int k = FEWSHOT_K[i];
        const ReportExperiment *e = k_source(exps, n_exps, paper, dataset, k);
        if (e) {
            double sd;
            double v = report_row_value(e, dataset, k, mname, &sd);
            if (!isnan(v)) {
                ox[no] = k, oy[no] = 100.0 * v, oe[no] = isnan(sd) ? 0.0 : 100.0 * sd;
                no++;
            }
        }
        double pv, psd = NAN;
        int have = report_paper_mean(paper, dataset, k, mname, &pv, &psd, NULL);
        int r = k == 8 ? k8_paper_row(paper, dataset) : -1;
        if (!have && r >= 0 && strcmp(paper->ablations.rows[r][tsv_col(&paper->ablations, "metric")], mname) == 0) {
            pv = tsv_cell_num(&paper->ablations, r, "value");
            have = !isnan(pv);
        }
        if (have) {
            px[np] = k, py[np] = pv, pe[np] = isnan(psd) ? 0.0 : psd;
            np++;
        }
    }
    PlotErrSeries s[2] = {{"ours (mean ± population std over seeds)", no, ox, oy, oe},
                          {"paper (mean ± std)", np, px, py, pe}};
    char *stem = xasprintf("%s/fewshot_%s_%s", dir, dataset, mname);
    char *title = xasprintf("%s: %s vs K (0 = zero-shot)", report_dataset_label(dataset), metric_label(metric));
    int skipped = 0;
    int rc = plot_errorbars(stem, title, "K (normal shots)", "percent", s, 2, 0.12, &skipped, err);
    if (!rc) {
        tally->n_figures++;
        tally->n_skipped += skipped;
    }
    free(stem);
    free(title);
    return rc;
}

int report_write_figures(const ReportExperiment *exps, int n_exps, const PaperTables *paper, const char *out_dir,
                         ReportPlotTally *tally, Error *err)
{
    char *dir = xasprintf("%s/figures", out_dir);
    int rc = fs_mkdirs(dir, err);
    if (!rc) rc = report_write_ablation_figures(exps, n_exps, paper, dir, tally, err);
    /* datasets of the main experiments, each once */
    char seen_ds[16][32];
    int n_seen = 0;
    for (int x = 0; x < n_exps && !rc; x++) {
        if (strcmp(exps[x].table, "main") != 0) continue;
        ReportDsK dk[64];
        int n_dk = report_rows_of(&exps[x], dk, 64);
        for (int p = 0; p < n_dk && !rc; p++) {
            int seen = 0;
            for (int j = 0; j < n_seen; j++) seen |= strcmp(seen_ds[j], dk[p].dataset) == 0;
            if (seen || n_seen == 16) continue;
            snprintf(seen_ds[n_seen++], sizeof seen_ds[0], "%s", dk[p].dataset);
            for (int m = 0; m < METRIC_N_MAIN && !rc; m++)
                rc = fewshot_figure(exps, n_exps, paper, dir, dk[p].dataset, METRIC_MAIN_COLUMNS[m], tally, err);
        }
    }
    if (!rc) rmdir(dir); /* nothing written (e.g. `make demo`): no empty folder left; fails if not empty */
    free(dir);
    return rc;
}
