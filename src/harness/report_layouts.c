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

static int table1_2(const ReportExperiment *exps, int n_exps, const PaperTables *paper, const char *out_dir,
                    int few_shot, ReportTally *tally, Error *err)
{
    const char *hdr[2 + METRIC_N_MAIN];
    hdr[0] = "dataset";
    hdr[1] = few_shot ? "K" : "experiment";
    for (int m = 0; m < METRIC_N_MAIN; m++) hdr[2 + m] = MAIN_LABEL(m);
    ReportTable t;
    report_table_init(&t,
             few_shot ? "Table 2: WinCLIP+ few-shot, mean ± population std over seeds of the category mean"
                      : "Table 1: WinCLIP zero-shot, unweighted mean over categories",
             2 + METRIC_N_MAIN, hdr);
    char cells[2 + METRIC_N_MAIN][128];
    char *ptrs[2 + METRIC_N_MAIN];
    for (int c = 0; c < 2 + METRIC_N_MAIN; c++) ptrs[c] = cells[c];
    for (int x = 0; x < n_exps; x++) {
        const ReportExperiment *e = &exps[x];
        if (strcmp(e->table, "main") != 0) continue;
        ReportDsK dk[64];
        int n_dk = report_dataset_ks(e, dk, 64);
        for (int p = 0; p < n_dk; p++) {
            if ((dk[p].k > 0) != few_shot) continue;
            report_copy_str(cells[0], sizeof cells[0], report_dataset_label(dk[p].dataset));
            if (few_shot)
                snprintf(cells[1], sizeof cells[1], "%d", dk[p].k);
            else
                report_copy_str(cells[1], sizeof cells[1], e->name);
            for (int m = 0; m < METRIC_N_MAIN; m++) {
                double mean, sd = NAN, pv = NAN, psd = NAN;
                int unv = 0;
                char sds[32] = "", psds[32] = "", what[160];
                if (few_shot) {
                    report_seed_stats(e, dk[p].dataset, dk[p].k, MAIN_METRIC(m), &mean, &sd);
                    if (!isnan(sd)) snprintf(sds, sizeof sds, "±%.1f", 100.0 * sd);
                } else {
                    mean = report_category_mean(e, dk[p].dataset, 0, 0, MAIN_METRIC(m), NULL);
                }
                int have = report_paper_mean(paper, dk[p].dataset, dk[p].k, MAIN_METRIC(m), &pv, &psd, &unv);
                if (have && !isnan(psd)) snprintf(psds, sizeof psds, "±%.1f", psd);
                snprintf(what, sizeof what, "table%d %s K=%d %s", few_shot ? 2 : 1, report_dataset_label(dk[p].dataset),
                         dk[p].k, MAIN_LABEL(m));
                report_compare_cell(cells[2 + m], sizeof cells[2 + m], mean, sds, have, pv, psds, unv, tally, what);
            }
            report_table_row(&t, ptrs);
        }
    }
    report_copy_str(t.notes, sizeof t.notes, REPORT_UNVERIFIED_NOTE);
    int rc = t.n_rows ? report_table_write(&t, out_dir, few_shot ? "table2_few_shot" : "table1_zero_shot", err) : 0;
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

/* Table 4: one row per ablation experiment: zero-shot (or the first K) i-AUROC and p-AUROC means
 * per dataset, and the paper's number for that (ablation, variant) when it has one. Delta-kind
 * paper rows are compared with ours minus the group's `full` variant. */
static int table4(const ReportExperiment *exps, int n_exps, const PaperTables *paper, const char *out_dir,
                  ReportTally *tally, Error *err)
{
    const char *hdr[8] = {"ablation", "variant", "dataset", "K", "i-AUROC", "p-AUROC", "paper", "ours vs paper"};
    ReportTable t;
    report_table_init(&t, "Table 4: ablations (paper numbers all UNVERIFIED, S1)", 8, hdr);
    char cells[8][160];
    char *ptrs[8];
    for (int c = 0; c < 8; c++) ptrs[c] = cells[c];
    const Tsv *ab = &paper->ablations;
    for (int x = 0; x < n_exps; x++) {
        const ReportExperiment *e = &exps[x];
        if (strcmp(e->table, "ablation") != 0) continue;
        ReportDsK dk[64];
        int n_dk = report_dataset_ks(e, dk, 64);
        for (int p = 0; p < n_dk; p++) {
            report_copy_str(cells[0], sizeof cells[0], e->ablation[0] ? e->ablation : "-");
            report_copy_str(cells[1], sizeof cells[1], e->variant);
            report_copy_str(cells[2], sizeof cells[2], report_dataset_label(dk[p].dataset));
            snprintf(cells[3], sizeof cells[3], "%d", dk[p].k);
            double ours[2], sd;
            const char *mm[2] = {metric_name(METRIC_IMAGE_AUROC), metric_name(METRIC_PIXEL_AUROC)};
            for (int m = 0; m < 2; m++) {
                report_seed_stats(e, dk[p].dataset, dk[p].k, mm[m], &ours[m], &sd);
                if (dk[p].k == 0) ours[m] = report_category_mean(e, dk[p].dataset, 0, 0, mm[m], NULL);
                report_pct(cells[4 + m], sizeof cells[4 + m], ours[m]);
            }
            const char *names[] = {"ablation", "variant", "dataset"};
            const char *values[] = {e->ablation, e->variant, dk[p].dataset};
            int r = tsv_find(ab, 3, names, values);
            report_copy_str(cells[6], sizeof cells[6], "–");
            report_copy_str(cells[7], sizeof cells[7], "–");
            if (r >= 0) {
                const char *metric = ab->rows[r][tsv_col(ab, "metric")];
                int delta = strcmp(ab->rows[r][tsv_col(ab, "kind")], "delta") == 0;
                double pv = tsv_cell_num(ab, r, "value");
                int mi = strcmp(metric, mm[1]) == 0;
                double mine = ours[mi];
                if (delta) {
                    /* ours relative to the group's `full` variant, when it was run */
                    mine = NAN;
                    for (int y = 0; y < n_exps; y++)
                        if (strcmp(exps[y].table, "ablation") == 0 && strcmp(exps[y].ablation, e->ablation) == 0 &&
                            strcmp(exps[y].variant, "full") == 0)
                            mine = ours[mi] - report_category_mean(&exps[y], dk[p].dataset, 0, 0, metric, NULL);
                }
                snprintf(cells[6], sizeof cells[6], "%s %s%.1f*", metric, delta ? "Δ " : "", pv);
                if (!isnan(mine)) {
                    double d = 100.0 * mine - pv;
                    snprintf(cells[7], sizeof cells[7], "%s%.1f vs %.1f (%+.1f)", delta ? "Δ " : "", 100.0 * mine, pv,
                             d);
                    if (tally) {
                        tally->n_compared++;
                        tally->n_within += fabs(d) <= 1.0 + 1e-9;
                    }
                }
            }
            report_table_row(&t, ptrs);
        }
    }
    report_copy_str(t.notes, sizeof t.notes,
                    "`*` = UNVERIFIED paper value (S1). Δ rows compare the change vs the group's `full` variant. "
                    "The paper's ablation table layout is unknown (winclip.md §10.4).");
    int rc = t.n_rows ? report_table_write(&t, out_dir, "table4_ablations", err) : 0;
    report_table_free(&t);
    return rc;
}

/* Table 5: presets vs the public reproduction each preset mimics (public_reproductions.tsv
 * rows with the same `preset` and K) and vs the paper. */
static int table5(const ReportExperiment *exps, int n_exps, const PaperTables *paper, const char *out_dir,
                  ReportTally *tally, Error *err)
{
    const char *hdr[2 + METRIC_N_MAIN] = {"preset", "dataset / K"};
    for (int m = 0; m < METRIC_N_MAIN; m++) hdr[2 + m] = MAIN_LABEL(m);
    ReportTable t;
    report_table_init(&t, "Table 5: variant presets: ours (reproduction or paper value, difference)", 2 + METRIC_N_MAIN, hdr);
    char cells[2 + METRIC_N_MAIN][160];
    char *ptrs[2 + METRIC_N_MAIN];
    for (int c = 0; c < 2 + METRIC_N_MAIN; c++) ptrs[c] = cells[c];
    const Tsv *rp = &paper->reproductions;
    for (int x = 0; x < n_exps; x++) {
        const ReportExperiment *e = &exps[x];
        if (strcmp(e->table, "preset") != 0) continue;
        ReportDsK dk[64];
        int n_dk = report_dataset_ks(e, dk, 64);
        for (int p = 0; p < n_dk; p++) {
            snprintf(cells[0], sizeof cells[0], "%s", e->preset[0] ? e->preset : e->name);
            snprintf(cells[1], sizeof cells[1], "%s / %d", report_dataset_label(dk[p].dataset), dk[p].k);
            char kbuf[16];
            snprintf(kbuf, sizeof kbuf, "%d", dk[p].k);
            for (int m = 0; m < METRIC_N_MAIN; m++) {
                double mean, sd;
                report_seed_stats(e, dk[p].dataset, dk[p].k, MAIN_METRIC(m), &mean, &sd);
                if (dk[p].k == 0) mean = report_category_mean(e, dk[p].dataset, 0, 0, MAIN_METRIC(m), NULL);
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
                report_compare_cell(cells[2 + m], sizeof cells[2 + m], mean, NULL, have, pv, NULL, unv, tally, what);
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
    if (table4(exps, n_exps, paper, out_dir, tally, err)) return err->code;
    if (table5(exps, n_exps, paper, out_dir, tally, err)) return err->code;
    return 0;
}

