/*
 * report_summary.c - results/<exp>/summary.tsv (fractions, full precision) and summary.md
 * (percent, the paper's number beside ours) for one experiment (see report.h).
 *
 * Reference: shared/spec/metrics.md §6.
 */
#include "harness/report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/fsutil.h"

/* Display strings in fixed buffers: truncation is intended. */
#pragma GCC diagnostic ignored "-Wformat-truncation"


/* <root>/<experiment>/summary.<ext>, opened for an atomic write. */
static int open_summary(AtomicFile *af, const char *root, const char *experiment, const char *ext, Error *err)
{
    char *path = xasprintf("%s/%s/summary.%s", root, experiment, ext);
    int rc = fsutil_atomic_open(af, path, err);
    free(path);
    return rc;
}

/* The summary.tsv columns: every METRIC_SUMMARY metric in table order. Returns the count. */
static int summary_metrics(const char **names)
{
    int n = 0;
    for (int m = 0; m < METRIC_COUNT; m++)
        if (METRIC_TABLE[m].flags & METRIC_SUMMARY) names[n++] = metric_name((MetricId)m);
    return n;
}

/* summary.tsv: per category, category means per (K, seed), and for K > 0 mean_over_seeds /
 * std_pop rows (fractions, full precision). */
static int write_summary_tsv(const ReportExperiment *e, const char *root, Error *err)
{
    const char *names[METRIC_COUNT];
    int n_sum = summary_metrics(names);
    AtomicFile af;
    if (open_summary(&af, root, e->name, "tsv", err)) return err->code;
    FILE *f = af.f;
    fprintf(f, "dataset\tk\tseed\tcategory\tn_categories");
    for (size_t m = 0; m < (size_t)n_sum; m++) fprintf(f, "\t%s", names[m]);
    fprintf(f, "\n");
    ReportDsK dk[64];
    int n_dk = report_dataset_ks(e, dk, 64);
    for (int p = 0; p < n_dk; p++) {
    int seeds[256];
        int n_seeds = report_seeds_of(e, dk[p].dataset, dk[p].k, seeds, 256);
        for (int s = 0; s < n_seeds; s++) {
            for (int i = 0; i < e->n_units; i++) {
                const ReportUnit *u = &e->units[i];
                if (u->k != dk[p].k || u->seed != seeds[s] || strcmp(u->dataset, dk[p].dataset)) continue;
                fprintf(f, "%s\t%d\t%d\t%s\t1", u->dataset, u->k, u->seed, u->category);
                for (size_t m = 0; m < (size_t)n_sum; m++)
                    fprintf(f, "\t%.10g", results_metric_get(&u->m, names[m]));
                fprintf(f, "\n");
            }
            int n_cat = 0;
            report_category_mean(e, dk[p].dataset, dk[p].k, seeds[s], names[0], &n_cat);
            fprintf(f, "%s\t%d\t%d\tmean\t%d", dk[p].dataset, dk[p].k, seeds[s], n_cat);
            for (size_t m = 0; m < (size_t)n_sum; m++)
                fprintf(f, "\t%.10g", report_category_mean(e, dk[p].dataset, dk[p].k, seeds[s], names[m], NULL));
            fprintf(f, "\n");
        }
        if (dk[p].k > 0) {
            for (int which = 0; which < 2; which++) {
                fprintf(f, "%s\t%d\t%s\tmean\t%d", dk[p].dataset, dk[p].k, which ? "std_pop" : "mean_over_seeds",
                        n_seeds);
                for (size_t m = 0; m < (size_t)n_sum; m++) {
                    double mean, sd;
                    report_seed_stats(e, dk[p].dataset, dk[p].k, names[m], &mean, &sd);
                    fprintf(f, "\t%.10g", which ? sd : mean);
                }
                fprintf(f, "\n");
            }
        }
    }
    return fsutil_atomic_commit(&af, err);
}

/* One row per category of (ds, k) (the seed0 units name them): mean ± std over seeds; the
 * paper's per-category number beside zero-shot rows. cells / ptrs are the caller's row buffers. */
static void category_rows(ReportTable *t, const ReportExperiment *e, const PaperTables *paper, const char *ds, int k,
                          int seed0, char cells[][96], char **ptrs)
{
/* categories of this (dataset, k) */
for (int i = 0; i < e->n_units; i++) {
    const ReportUnit *u = &e->units[i];
    if (u->k != k || strcmp(u->dataset, ds) || u->seed != seed0) continue;
    report_copy_str(cells[0], sizeof cells[0], u->category);
    for (int m = 0; m < METRIC_N_MAIN; m++) {
        const char *metric = metric_name(METRIC_MAIN_COLUMNS[m]);
        double vals[256], mean, std;
        int n = 0;
        for (int j = 0; j < e->n_units && n < 256; j++) {
            const ReportUnit *v = &e->units[j];
            if (v->k != k || strcmp(v->dataset, ds) || strcmp(v->category, u->category)) continue;
            double x = results_metric_get(&v->m, metric);
            if (!isnan(x)) vals[n++] = x;
        }
        report_mean_std(vals, n, &mean, &std);
        double pv;
        int unv = 0;
        int have = k == 0 && report_paper_category(paper, ds, u->category, metric, &pv, &unv);
        char sd[32] = "";
        if (k > 0 && n > 1) snprintf(sd, sizeof sd, "±%.1f", 100.0 * std);
        report_compare_cell(cells[1 + m], sizeof cells[1 + m], mean, sd, have, pv, NULL, unv, NULL, NULL);
    }
    report_table_row(t, ptrs);
}
}

/* The summary.md table of one (dataset, K): categories, then the dataset mean row. */
static void summary_md_table(FILE *f, const ReportExperiment *e, const PaperTables *paper, const char *ds, int k)
{
    int seeds[256];
    int n_seeds = report_seeds_of(e, ds, k, seeds, 256);
    char caption[256];
    if (k == 0)
        snprintf(caption, sizeof caption, "%s, zero-shot, per category", report_dataset_label(ds));
    else
        snprintf(caption, sizeof caption, "%s, K = %d, per category (mean ± population std over %d seed%s)",
                 report_dataset_label(ds), k, n_seeds, n_seeds == 1 ? "" : "s");
    char status[256];
    ReportRunState st = report_row_status(e, ds, k, status, sizeof status);
    if (st == REPORT_RUN_PARTIAL || st == REPORT_RUN_UNKNOWN) { /* never a partial mean without saying so */
        size_t len = strlen(caption);
        snprintf(caption + len, sizeof caption - len, " [%s]", status);
    }
    const char *hdr[1 + METRIC_N_MAIN];
    hdr[0] = "category";
    for (int m = 0; m < METRIC_N_MAIN; m++) hdr[1 + m] = metric_label(METRIC_MAIN_COLUMNS[m]);
    ReportTable t;
    report_table_init(&t, caption, 1 + METRIC_N_MAIN, hdr);
    char cells[1 + METRIC_N_MAIN][96];
    char *ptrs[1 + METRIC_N_MAIN];
    for (int c = 0; c <= METRIC_N_MAIN; c++) ptrs[c] = cells[c];
    category_rows(&t, e, paper, ds, k, seeds[0], cells, ptrs);
    report_copy_str(cells[0], sizeof cells[0], "**mean**");
    for (int m = 0; m < METRIC_N_MAIN; m++) {
        double mean, sd, pv = NAN, psd = NAN;
        int unv = 0;
        char sds[32] = "", psds[32] = "";
        if (k == 0) {
            mean = report_category_mean(e, ds, 0, 0, metric_name(METRIC_MAIN_COLUMNS[m]), NULL);
        } else {
            report_seed_stats(e, ds, k, metric_name(METRIC_MAIN_COLUMNS[m]), &mean, &sd);
            if (!isnan(sd)) snprintf(sds, sizeof sds, "±%.1f", 100.0 * sd);
        }
        int have = report_paper_mean(paper, ds, k, metric_name(METRIC_MAIN_COLUMNS[m]), &pv, &psd, &unv);
        if (have && !isnan(psd)) snprintf(psds, sizeof psds, "±%.1f", psd);
        report_compare_cell(cells[1 + m], sizeof cells[1 + m], mean, sds, have, pv, psds, unv, NULL, NULL);
    }
    report_table_row(&t, ptrs);
    if (k > 0)
        snprintf(t.notes, sizeof t.notes,
                 "Category rows: mean ± population std over seeds of that category; the mean row: mean ± "
                 "population std (ddof = 0) over seeds of the category mean.");
    report_table_md(&t, f);
    report_table_free(&t);
}

/* summary.md: the same in percent with the paper's numbers beside ours. */
static int write_summary_md(const ReportExperiment *e, const char *root, const PaperTables *paper, Error *err)
{
    AtomicFile af;
    if (open_summary(&af, root, e->name, "md", err)) return err->code;
    FILE *f = af.f;
    fprintf(f, "<!-- generated by `winclip report`; do not edit -->\n\n# %s\n\n", e->title);
    fprintf(f, "Experiment `%s`. Percent, one decimal. Dataset rows are unweighted means over categories. %s\n\n",
            e->name, REPORT_UNVERIFIED_NOTE);
    ReportDsK dk[64];
    int n_dk = report_dataset_ks(e, dk, 64);
    for (int p = 0; p < n_dk; p++) summary_md_table(f, e, paper, dk[p].dataset, dk[p].k);
    char with[2048], without[2048];
    report_mask_categories(e, with, without, sizeof with);
    if (without[0]) /* a user's own data without masks: say which rows have no pixel metrics */
        fprintf(f, "Categories with ground-truth masks (pixel metrics): %s. Without masks (image-level metrics "
                   "only; pixel metrics n/a): %s.\n\n", with[0] ? with : "none", without);
    return fsutil_atomic_commit(&af, err);
}

int report_write_summary(const ReportExperiment *e, const char *root, const PaperTables *paper, Error *err)
{
    int rc = write_summary_tsv(e, root, err);
    return rc ? rc : write_summary_md(e, root, paper, err);
}
