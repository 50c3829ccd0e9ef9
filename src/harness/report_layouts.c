/*
 * report_layouts.c - the five paper-layout tables (table1..table5, .md and .tex) from the
 * experiments' `table` kinds, our numbers beside the paper's (see report.h).
 *
 * Reference: shared/spec/winclip.md §10-§12 (tables 1-5), metrics.md §6.
 */
#include "harness/report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Display strings in fixed buffers: truncation is intended. */
#pragma GCC diagnostic ignored "-Wformat-truncation"

/* Column names and labels come from the metric table (eval/metric_table.h). */
#define MAIN_METRIC(m) metric_name(METRIC_MAIN_COLUMNS[m])
#define MAIN_LABEL(m) metric_label(METRIC_MAIN_COLUMNS[m])
#define CAT_METRIC(m) metric_name(METRIC_CATEGORY_COLUMNS[m])
#define CAT_LABEL(m) metric_label(METRIC_CATEGORY_COLUMNS[m])

#define T12_COLS (4 + METRIC_N_MAIN)

/* A metric cell of a row that was not run: says so, with the paper's number when it has one. */
static void not_run_cell(char *buf, size_t cap, int have_paper, double paper, const char *paper_std, int unverified)
{
    if (have_paper)
        snprintf(buf, cap, "not run (paper %.1f%s%s)", paper, paper_std ? paper_std : "", unverified ? "*" : "");
    else
        snprintf(buf, cap, "not run");
}

/* The status cell of (e, dataset, k); returns 1 when the numbers may be tallied (not partial). */
static int status_cell(const ReportExperiment *e, const char *dataset, int k, char *buf, size_t cap)
{
    ReportRunState st = report_row_status(e, dataset, k, buf, cap);
    return st == REPORT_RUN_COMPLETE || st == REPORT_RUN_UNKNOWN;
}

/* WinCLIP(+) rows of the main experiments: (dataset, K) rows of e with K = 0 (Table 1) or > 0. */
static void winclip_rows(ReportTable *t, const ReportExperiment *e, const PaperTables *paper, int few_shot,
                         ReportTally *tally, char cells[][160], char **ptrs)
{
    ReportDsK dk[64];
    int n_dk = report_rows_of(e, dk, 64);
    for (int p = 0; p < n_dk; p++) {
        if ((dk[p].k > 0) != few_shot) continue;
        report_copy_str(cells[0], sizeof cells[0], report_dataset_label(dk[p].dataset));
        if (few_shot)
            snprintf(cells[1], sizeof cells[1], "WinCLIP+ (%s)", e->name);
        else
            report_copy_str(cells[1], sizeof cells[1], e->name);
        snprintf(cells[2], sizeof cells[2], "%d", dk[p].k);
        int tally_ok = status_cell(e, dk[p].dataset, dk[p].k, cells[3 + METRIC_N_MAIN], sizeof cells[3 + METRIC_N_MAIN]);
        for (int m = 0; m < METRIC_N_MAIN; m++) {
            double sd, pv = NAN, psd = NAN;
            int unv = 0;
            char sds[32] = "", psds[32] = "", what[160];
            double mean = report_row_value(e, dk[p].dataset, dk[p].k, MAIN_METRIC(m), &sd);
            if (few_shot && !isnan(sd)) snprintf(sds, sizeof sds, "±%.1f", 100.0 * sd);
            int have = report_paper_mean(paper, dk[p].dataset, dk[p].k, MAIN_METRIC(m), &pv, &psd, &unv);
            if (have && !isnan(psd)) snprintf(psds, sizeof psds, "±%.1f", psd);
            snprintf(what, sizeof what, "table%d %s K=%d %s", few_shot ? 2 : 1, report_dataset_label(dk[p].dataset),
                     dk[p].k, MAIN_LABEL(m));
            if (report_row_state(e, dk[p].dataset, dk[p].k, NULL, NULL) == REPORT_RUN_NOT_RUN)
                not_run_cell(cells[3 + m], sizeof cells[3 + m], have, pv, psds, unv);
            else
                report_compare_cell(cells[3 + m], sizeof cells[3 + m], mean, sds, have, pv, psds, unv,
                                    tally_ok ? tally : NULL, what);
        }
        report_table_row(t, ptrs);
    }
}

/* Baseline rows from paper_baselines.tsv, one per (method, k, dataset) in file order: K = 0
 * rows (Table 1) are computed by us (the `experiment` column, ours beside the paper's); K > 0
 * rows (Table 2) are the paper's quoted numbers. Returns how many rows had a named experiment. */
static int baseline_rows(ReportTable *t, const ReportExperiment *exps, int n_exps, const PaperTables *paper,
                         int few_shot, ReportFootnotes *fn, ReportTally *tally, char cells[][160], char **ptrs)
{
    const Tsv *b = &paper->baselines;
    int c_method = tsv_col(b, "method"), c_k = tsv_col(b, "k"), c_ds = tsv_col(b, "dataset");
    int c_exp = tsv_col(b, "experiment"), c_def = tsv_col(b, "our_definition"), named = 0;
    for (int r = 0; r < b->n_rows; r++) {
        const char *method = b->rows[r][c_method], *kstr = b->rows[r][c_k], *paper_ds = b->rows[r][c_ds];
        const char *ds = paper_ds;
        int k = atoi(kstr);
        if ((k > 0) != few_shot) continue;
        int first = 1; /* first row of its (method, k, dataset) group */
        for (int q = 0; q < r && first; q++)
            first = !(strcmp(b->rows[q][c_method], method) == 0 && strcmp(b->rows[q][c_k], kstr) == 0 &&
                      strcmp(b->rows[q][c_ds], ds) == 0);
        if (!first) continue;
        const char *exp = b->rows[r][c_exp];
        int quoted = strcmp(exp, REPORT_EXP_QUOTED) == 0 || strcmp(exp, REPORT_EXP_UNDEFINED) == 0;
        const ReportExperiment *e = quoted ? NULL : report_find(exps, n_exps, exp);
        named += e != NULL;
        int other_ds = 0; /* run on another dataset (e.g. synthetic): ours shown, not compared */
        char own_ds[32] = "";
        if (e && e->n_units > 0 && report_row_state(e, ds, k, NULL, NULL) == REPORT_RUN_NOT_RUN) {
            report_copy_str(own_ds, sizeof own_ds, e->units[0].dataset);
            ds = own_ds;
            other_ds = 1;
        }
        char mark[16];
        report_footnote(fn, c_def >= 0 ? b->rows[r][c_def] : "", mark, sizeof mark);
        report_copy_str(cells[0], sizeof cells[0], report_dataset_label(ds));
        if (quoted)
            snprintf(cells[1], sizeof cells[1], "%s (paper's number) %s", method, mark);
        else
            snprintf(cells[1], sizeof cells[1], "%s (ours: %s) %s", method, exp, mark);
        snprintf(cells[2], sizeof cells[2], "%d", k);
        char *status = cells[3 + METRIC_N_MAIN];
        int tally_ok = 0;
        if (quoted)
            report_copy_str(status, sizeof cells[0], "quoted from the paper (not run here)");
        else if (!e)
            snprintf(status, sizeof cells[0], "not in this report (add %s to `winclip report`)", exp);
        else
            tally_ok = status_cell(e, ds, k, status, sizeof cells[0]);
        for (int m = 0; m < METRIC_N_MAIN; m++) {
            const char *names[] = {"method", "k", "dataset", "metric"};
            const char *values[] = {method, kstr, paper_ds, MAIN_METRIC(m)};
            int pr = tsv_find(b, 4, names, values);
            double pv = pr >= 0 ? tsv_cell_num(b, pr, "mean") : NAN, psd = pr >= 0 ? tsv_cell_num(b, pr, "std") : NAN;
            int unv = pr >= 0 && tsv_cell_unverified(b, pr);
            char psds[32] = "", what[200];
            if (!isnan(psd)) snprintf(psds, sizeof psds, "±%.1f", psd);
            if (quoted) {
                if (isnan(pv)) report_copy_str(cells[3 + m], sizeof cells[3 + m], "–");
                else snprintf(cells[3 + m], sizeof cells[3 + m], "paper %.1f%s%s", pv, psds, unv ? "*" : "");
                continue;
            }
            double ours = e ? report_row_value(e, ds, k, MAIN_METRIC(m), NULL) : NAN;
            if (other_ds) {
                char o[32];
                report_pct(o, sizeof o, ours);
                if (isnan(pv)) snprintf(cells[3 + m], sizeof cells[3 + m], "%s", o);
                else snprintf(cells[3 + m], sizeof cells[3 + m], "%s (paper %.1f%s on %s)", o, pv, unv ? "*" : "",
                              report_dataset_label(paper_ds));
                continue;
            }
            snprintf(what, sizeof what, "table%d %s %s %s", few_shot ? 2 : 1, method, report_dataset_label(ds),
                     MAIN_LABEL(m));
            if (e && report_row_state(e, ds, k, NULL, NULL) == REPORT_RUN_NOT_RUN)
                not_run_cell(cells[3 + m], sizeof cells[3 + m], !isnan(pv), pv, psds, unv);
            else
                report_compare_cell(cells[3 + m], sizeof cells[3 + m], ours, NULL, !isnan(pv), pv, psds, unv,
                                    tally_ok ? tally : NULL, what);
        }
        report_table_row(t, ptrs);
    }
    return named;
}

static int table1_2(const ReportExperiment *exps, int n_exps, const PaperTables *paper, const char *out_dir,
                    int few_shot, ReportTally *tally, Error *err)
{
    const char *hdr[T12_COLS];
    hdr[0] = "dataset";
    hdr[1] = few_shot ? "method" : "experiment";
    hdr[2] = "K";
    for (int m = 0; m < METRIC_N_MAIN; m++) hdr[3 + m] = MAIN_LABEL(m);
    hdr[3 + METRIC_N_MAIN] = "status";
    ReportTable t;
    report_table_init(&t,
                      few_shot ? "Table 2: WinCLIP+ few-shot, mean ± population std over seeds of the category mean"
                               : "Table 1: WinCLIP zero-shot, unweighted mean over categories",
                      T12_COLS, hdr);
    char cells[T12_COLS][160];
    char *ptrs[T12_COLS];
    for (int c = 0; c < T12_COLS; c++) ptrs[c] = cells[c];
    for (int x = 0; x < n_exps; x++)
        if (strcmp(exps[x].table, "main") == 0) winclip_rows(&t, &exps[x], paper, few_shot, tally, cells, ptrs);
    int n_winclip = t.n_rows;
    ReportFootnotes fn = {0};
    int named = baseline_rows(&t, exps, n_exps, paper, few_shot, &fn, tally, cells, ptrs);
    snprintf(t.notes, sizeof t.notes, "%s %s Status: `complete` = every planned unit finished; a PARTIAL row is "
             "the mean over the units present and is not counted in the ±1-point tally.",
             REPORT_UNVERIFIED_NOTE,
             few_shot ? "SPADE, PaDiM and PatchCore rows are the paper's numbers (we do not run their backbones)."
                      : "CLIP-AC and MaskCLIP rows are computed by us with our CLIP, the paper's number beside ours.");
    report_footnotes_append(&fn, t.notes, sizeof t.notes);
    report_footnotes_free(&fn);
    int rc = n_winclip || named ? report_table_write(&t, out_dir, few_shot ? "table2_few_shot" : "table1_zero_shot", err)
                                : 0;
    report_table_free(&t);
    return rc;
}

static int table3(const ReportExperiment *exps, int n_exps, const PaperTables *paper, const char *out_dir,
                  ReportTally *tally, Error *err)
{
    const char *hdr[6] = {"dataset", "category", CAT_LABEL(0), CAT_LABEL(1), CAT_LABEL(2), CAT_LABEL(3)};
    ReportTable t;
    report_table_init(&t, "Table 3: WinCLIP zero-shot per category", 6, hdr);
    char cells[6][128];
    char *ptrs[6];
    for (int c = 0; c < 6; c++) ptrs[c] = cells[c];
    for (int x = 0; x < n_exps; x++) {
        const ReportExperiment *e = &exps[x];
        if (strcmp(e->table, "main") != 0) continue;
        const char *last_ds = NULL;
        for (int i = 0; i <= e->n_units; i++) {
            const ReportUnit *u = i < e->n_units ? &e->units[i] : NULL;
            if (u && u->k != 0) continue;
            if (last_ds && (!u || strcmp(u->dataset, last_ds))) {
                report_copy_str(cells[0], sizeof cells[0], report_dataset_label(last_ds));
                char status[256];
                ReportRunState st = report_row_status(e, last_ds, 0, status, sizeof status);
                if (st == REPORT_RUN_PARTIAL) /* never a mean of a partial run without saying so */
                    snprintf(cells[1], sizeof cells[1], "**mean** (%s)", status);
                else
                    report_copy_str(cells[1], sizeof cells[1], "**mean**");
                for (int m = 0; m < 4; m++) {
                    double pv;
                    int unv = 0;
                    double mean = report_category_mean(e, last_ds, 0, 0, CAT_METRIC(m), NULL);
                    int have = report_paper_category(paper, last_ds, "mean", CAT_METRIC(m), &pv, &unv);
                    report_compare_cell(cells[2 + m], sizeof cells[2 + m], mean, NULL, have, pv, NULL, unv, NULL, NULL);
                }
                report_table_row(&t, ptrs);
            }
            if (!u) break;
            last_ds = u->dataset;
            report_copy_str(cells[0], sizeof cells[0], report_dataset_label(u->dataset));
            report_copy_str(cells[1], sizeof cells[1], u->category);
            for (int m = 0; m < 4; m++) {
                double pv;
                int unv = 0;
                char what[200];
                snprintf(what, sizeof what, "table3 %s %s %s", report_dataset_label(u->dataset), u->category, CAT_LABEL(m));
                int have = report_paper_category(paper, u->dataset, u->category, CAT_METRIC(m), &pv, &unv);
                report_compare_cell(cells[2 + m], sizeof cells[2 + m], results_metric_get(&u->m, CAT_METRIC(m)), NULL, have, pv,
                             NULL, unv, tally, what);
            }
            report_table_row(&t, ptrs);
        }
    }
    report_copy_str(t.notes, sizeof t.notes, REPORT_UNVERIFIED_NOTE);
    int rc = t.n_rows ? report_table_write(&t, out_dir, "table3_per_category", err) : 0;
    report_table_free(&t);
    return rc;
}

/* Table 5: presets vs the public reproduction each preset mimics (public_reproductions.tsv
 * rows with the same `preset` and K) and vs the paper. */
static int table5(const ReportExperiment *exps, int n_exps, const PaperTables *paper, const char *out_dir,
                  ReportTally *tally, Error *err)
{
    const char *hdr[3 + METRIC_N_MAIN] = {"preset", "dataset / K"};
    for (int m = 0; m < METRIC_N_MAIN; m++) hdr[2 + m] = MAIN_LABEL(m);
    hdr[2 + METRIC_N_MAIN] = "status";
    ReportTable t;
    report_table_init(&t, "Table 5: variant presets: ours (reproduction or paper value, difference)", 3 + METRIC_N_MAIN, hdr);
    char cells[3 + METRIC_N_MAIN][160];
    char *ptrs[3 + METRIC_N_MAIN];
    for (int c = 0; c < 3 + METRIC_N_MAIN; c++) ptrs[c] = cells[c];
    const Tsv *rp = &paper->reproductions;
    for (int x = 0; x < n_exps; x++) {
        const ReportExperiment *e = &exps[x];
        if (strcmp(e->table, "preset") != 0) continue;
        ReportDsK dk[64];
        int n_dk = report_rows_of(e, dk, 64);
        for (int p = 0; p < n_dk; p++) {
            snprintf(cells[0], sizeof cells[0], "%s", e->preset[0] ? e->preset : e->name);
            snprintf(cells[1], sizeof cells[1], "%s / %d", report_dataset_label(dk[p].dataset), dk[p].k);
            int tally_ok = status_cell(e, dk[p].dataset, dk[p].k, cells[2 + METRIC_N_MAIN], sizeof cells[0]);
            char kbuf[16];
            snprintf(kbuf, sizeof kbuf, "%d", dk[p].k);
            for (int m = 0; m < METRIC_N_MAIN; m++) {
                double mean = report_row_value(e, dk[p].dataset, dk[p].k, MAIN_METRIC(m), NULL);
                double pv = NAN;
                int unv = 0, have = 0;
                const char *label = "";
                if (strcmp(e->preset, "paper") == 0) {
                    have = report_paper_mean(paper, dk[p].dataset, dk[p].k, MAIN_METRIC(m), &pv, NULL, &unv);
                } else {
                    const char *names[] = {"preset", "k", "dataset", "metric"};
                    const char *values[] = {e->preset, kbuf, dk[p].dataset, MAIN_METRIC(m)};
                    int r = tsv_find(rp, 4, names, values);
                    if (r >= 0) {
                        pv = tsv_cell_num(rp, r, "value");
                        have = !isnan(pv);
                        label = rp->rows[r][tsv_col(rp, "reproduction")];
                    }
                }
                char what[160];
                snprintf(what, sizeof what, "table5 %s %s K=%d %s", e->preset, report_dataset_label(dk[p].dataset), dk[p].k,
                         MAIN_LABEL(m));
                if (report_row_state(e, dk[p].dataset, dk[p].k, NULL, NULL) == REPORT_RUN_NOT_RUN)
                    not_run_cell(cells[2 + m], sizeof cells[2 + m], have, pv, NULL, unv);
                else
                    report_compare_cell(cells[2 + m], sizeof cells[2 + m], mean, NULL, have, pv, NULL, unv,
                                        tally_ok ? tally : NULL, what);
                if (have && label[0]) {
                    size_t len = strlen(cells[2 + m]);
                    snprintf(cells[2 + m] + len, sizeof cells[2 + m] - len, " %s", label);
                }
            }
            report_table_row(&t, ptrs);
        }
    }
    report_copy_str(t.notes, sizeof t.notes,
                    "anomalib/mala presets are compared with the public reproduction they mimic (letter after the cell, "
                    "winclip.md §11); the paper preset with the paper (`*` = UNVERIFIED).");
    int rc = t.n_rows ? report_table_write(&t, out_dir, "table5_presets", err) : 0;
    report_table_free(&t);
    return rc;
}

int report_write_paper_tables(const ReportExperiment *exps, int n_exps, const PaperTables *paper, const char *out_dir,
                              ReportTally *tally, Error *err)
{
    if (fs_mkdirs(out_dir, err)) return err->code;
    if (table1_2(exps, n_exps, paper, out_dir, 0, tally, err)) return err->code;
    if (table1_2(exps, n_exps, paper, out_dir, 1, tally, err)) return err->code;
    if (table3(exps, n_exps, paper, out_dir, tally, err)) return err->code;
    if (report_write_table4(exps, n_exps, paper, out_dir, tally, err)) return err->code;
    if (table5(exps, n_exps, paper, out_dir, tally, err)) return err->code;
    return 0;
}

