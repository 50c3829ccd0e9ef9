/*
 * report_plots.c - figures of one experiment from its results (no recompute): per dataset and
 * K, one ROC / PR panel with every category (image and pixel, from the units' roc.dat /
 * pr.dat) and per-category AUROC bar charts beside the paper's zero-shot numbers.
 *
 * Does: read <unit>/roc.dat and pr.dat (written by `winclip run` through plot_curves: index 0
 * image, index 1 pixel) and the metrics already loaded by report_load_experiment; write
 * <root>/<exp>/plots/<dataset>_{roc,pr}_{image,pixel}_k<K> and
 * <dataset>_bars_{image,pixel}_auroc_k<K> (.dat, .gp, .png) through plot.c.
 * Does not: compute curves or metrics, run gnuplot itself (plot.c), print.
 * Reference: the reproduction-harness issue, "Plots (gnuplot through a pipe)"; conventions.md
 * §2.14 (figures from results).
 */
#define _POSIX_C_SOURCE 200809L
#include "harness/report.h"

#include "harness/plot.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The area under each curve, shown in the key: [ROC, PR][image, pixel]. */
static const MetricId CURVE_METRIC[2][2] = {{METRIC_IMAGE_AUROC, METRIC_PIXEL_AUROC},
                                            {METRIC_IMAGE_AP, METRIC_PIXEL_AP}};

/* The categories of (dataset, k) in unit order (sorted), each with its first (lowest) seed's unit. */
static int category_units(const ReportExperiment *e, const char *ds, int k, const ReportUnit **out)
{
    int n = 0;
    for (int i = 0; i < e->n_units; i++) {
        const ReportUnit *u = &e->units[i];
        if (strcmp(u->dataset, ds) != 0 || u->k != k) continue;
        int seen = 0;
        for (int j = 0; j < n && !seen; j++) seen = strcmp(out[j]->category, u->category) == 0;
        if (!seen) out[n++] = u;
    }
    return n;
}

static void note_missing(ReportPlotTally *t, const char *path)
{
    if (t->n_missing++ == 0) snprintf(t->first_missing, sizeof t->first_missing, "%s", path);
}

static void count_figure(ReportPlotTally *t, int skipped)
{
    t->n_figures++;
    if (skipped) t->n_skipped++;
}

/* roc_* and pr_* panels of (ds, k): n categories. */
static int curve_panels(const ReportExperiment *e, const char *root, const char *plots, const char *ds, int k,
                        const ReportUnit *const *cats, int n, ReportPlotTally *tally, Error *err)
{
    int same_seed = 1;
    for (int c = 1; c < n; c++) same_seed &= cats[c]->seed == cats[0]->seed;
    char seed_note[64] = "";
    if (k > 0 && same_seed) snprintf(seed_note, sizeof seed_note, ", seed %d", cats[0]->seed);
    else if (k > 0) snprintf(seed_note, sizeof seed_note, ", lowest seed per category");
    int rc = 0;
    for (int kind = 0; kind < 2 && !rc; kind++) { /* 0 ROC, 1 PR */
        const char *file = kind == 0 ? "roc" : "pr";
        PlotDat *dat = xcalloc((size_t)n, sizeof *dat);
        int *have = xcalloc((size_t)n, sizeof *have);
        for (int c = 0; c < n; c++) {
            const ReportUnit *u = cats[c];
            char *dir = results_unit_dir(root, e->name, u->dataset, u->category, u->k, u->seed);
            char *path = xasprintf("%s/%s.dat", dir, file);
            Error e2 = {0};
            have[c] = plot_dat_load(&dat[c], path, &e2) == 0 && dat[c].n_series >= 1; /* 1: no masks, image only */
            if (!have[c]) note_missing(tally, path);
            free(path);
            free(dir);
        }
        for (int level = 0; level < 2 && !rc; level++) { /* 0 image, 1 pixel */
            const char *lname = level == 0 ? "image" : "pixel";
            PlotSeries *s = xcalloc((size_t)n, sizeof *s);
            char **labels = xcalloc((size_t)n, sizeof *labels);
            int m = 0;
            for (int c = 0; c < n; c++) {
                if (!have[c] || dat[c].n_series <= level) continue;
                double v = results_metric_get(&cats[c]->m, metric_name(CURVE_METRIC[kind][level]));
                labels[m] = isnan(v) ? xstrdup(cats[c]->category) : xasprintf("%s (%.1f)", cats[c]->category, 100 * v);
                s[m] = dat[c].series[level];
                s[m].label = labels[m];
                m++;
            }
            if (m > 0) {
                char *stem = xasprintf("%s/%s_%s_%s_k%d", plots, ds, file, lname, k);
                char *title = k == 0 ? xasprintf("%s %s zero-shot: %s %s (key: %s)", e->name, ds, lname,
                                                 kind == 0 ? "ROC" : "PR", kind == 0 ? "AUROC" : "AP")
                                     : xasprintf("%s %s K=%d%s: %s %s (key: %s)", e->name, ds, k, seed_note, lname,
                                                 kind == 0 ? "ROC" : "PR", kind == 0 ? "AUROC" : "AP");
                int skipped = 0;
                rc = kind == 0 ? plot_curves(stem, title, "false positive rate", "true positive rate", s, m, 1, &skipped, err)
                               : plot_curves(stem, title, "recall", "precision", s, m, 0, &skipped, err);
                if (!rc) count_figure(tally, skipped);
                free(title);
                free(stem);
            }
            for (int c = 0; c < m; c++) free(labels[c]);
            free(labels);
            free(s);
        }
        for (int c = 0; c < n; c++) plot_dat_free(&dat[c]);
        free(dat);
        free(have);
    }
    return rc;
}

/* bars_{image,pixel}_auroc of (ds, k): ours = mean over the seeds present, paper = zero-shot only. */
static int bar_charts(const ReportExperiment *e, const char *plots, const PaperTables *paper, const char *ds, int k,
                      const ReportUnit *const *cats, int n, ReportPlotTally *tally, Error *err)
{
    const char **labels = xcalloc((size_t)n, sizeof *labels);
    double *ours = xmalloc((size_t)n * sizeof *ours), *pap = xmalloc((size_t)n * sizeof *pap);
    int rc = 0;
    for (int level = 0; level < 2 && !rc; level++) {
        const char *metric = metric_name(CURVE_METRIC[0][level]);
        int any_paper = 0, max_seeds = 0;
        for (int c = 0; c < n; c++) {
            labels[c] = cats[c]->category;
            double sum = 0;
            int cnt = 0;
            for (int i = 0; i < e->n_units; i++) {
                const ReportUnit *u = &e->units[i];
                if (u->k != k || strcmp(u->dataset, ds) != 0 || strcmp(u->category, cats[c]->category) != 0) continue;
                double v = results_metric_get(&u->m, metric);
                if (!isnan(v)) sum += v, cnt++;
            }
            if (cnt > max_seeds) max_seeds = cnt;
            ours[c] = cnt ? 100.0 * sum / cnt : NAN;
            pap[c] = NAN;
            double pv;
            if (k == 0 && paper && report_paper_category(paper, ds, cats[c]->category, metric, &pv, NULL)) {
                pap[c] = pv;
                any_paper = 1;
            }
        }
        int any_ours = 0;
        for (int c = 0; c < n; c++) any_ours |= !isnan(ours[c]);
        if (!any_ours && !any_paper) continue; /* e.g. pixel AUROC of data without masks: n/a, no chart */
        char *stem = xasprintf("%s/%s_bars_%s_k%d", plots, ds, metric, k);
        char kdesc[32] = "zero-shot";
        if (k > 0) snprintf(kdesc, sizeof kdesc, "K=%d", k);
        char *title = xasprintf("%s %s %s: %s-AUROC per category%s%s", e->name, ds, kdesc, level == 0 ? "image" : "pixel",
                                k > 0 && max_seeds > 1 ? " (mean over seeds)" : "", any_paper ? " vs paper" : "");
        int skipped = 0;
        rc = plot_bars(stem, title, n, labels, ours, any_paper ? pap : NULL, &skipped, err);
        if (!rc) count_figure(tally, skipped);
        free(title);
        free(stem);
    }
    free(labels);
    free(ours);
    free(pap);
    return rc;
}

int report_write_plots(const ReportExperiment *e, const char *root, const PaperTables *paper, ReportPlotTally *tally,
                       Error *err)
{
    char *plots = xasprintf("%s/%s/plots", root, e->name);
    int rc = fs_mkdirs(plots, err);
    const ReportUnit **cats = xcalloc((size_t)e->n_units + 1, sizeof *cats);
    /* units are sorted by dataset, k: each new (dataset, k) pair starts a group */
    for (int i = 0; i < e->n_units && !rc; i++) {
        const ReportUnit *u = &e->units[i];
        if (i > 0 && strcmp(u->dataset, e->units[i - 1].dataset) == 0 && u->k == e->units[i - 1].k) continue;
        int n = category_units(e, u->dataset, u->k, cats);
        rc = curve_panels(e, root, plots, u->dataset, u->k, cats, n, tally, err);
        if (!rc) rc = bar_charts(e, plots, paper, u->dataset, u->k, cats, n, tally, err);
    }
    free(cats);
    free(plots);
    return rc;
}
