/*
 * report_ablations.c - Table 4 (every ablation, six metrics, ms per image, our value beside the
 * paper's) and one grouped-bar figure per ablation group (see report.h).
 *
 * Does: build the ablation rows once: every paper_ablations.tsv row (its `experiment` column
 * names the experiment that computes it, `undefined` when no source defines the method), then
 * every named experiment with `table = ablation` that no paper row names (its `ablation` and
 * `variant` label it); order them by group, then experiment; write table4_ablations (.md,
 * .tex) with a status per row (complete / PARTIAL / not run / not in this report / not
 * implemented) and footnotes from the `our_definition` column; write
 * figures/ablation_<group>_<metric> (.dat, .gp, .png) through plot_bars.
 * Does not: compute anything (the units' metrics.tsv), draw (plot.c).
 * Reference: shared/spec/winclip.md §10.4, §14; paper-tables/README.md.
 */
#include "harness/report.h"

#include "harness/plot.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Display strings in fixed buffers: truncation is intended. */
#pragma GCC diagnostic ignored "-Wformat-truncation"

/* Groups in the order of the paper's discussion; others follow alphabetically. */
static const char *const GROUP_ORDER[] = {"cpe",      "aggregation",  "scales",   "dense",    "tau",
                                          "templates", "patch_tokens", "eval_size", "fewshot8", "defect_states"};

typedef struct {
    const char *group, *variant, *exp; /* exp: "" for a paper row no experiment computes */
    const char *category;              /* "" = the dataset mean; else one category's number */
    int paper_row;                     /* row of paper->ablations or -1                  */
    const ReportExperiment *e;         /* NULL: not named in this report (or undefined)  */
    char dataset[32];
    int k;             /* -1: unknown (experiment not in this report) */
    int other_dataset; /* the experiment ran on another dataset than the paper row's (e.g. synthetic) */
    int order;
} AbRow;

typedef struct {
    AbRow *rows;
    int n;
} AbRows;

static int group_rank(const char *g)
{
    for (size_t i = 0; i < ARRAY_LEN(GROUP_ORDER); i++)
        if (strcmp(GROUP_ORDER[i], g) == 0) return (int)i;
    return (int)ARRAY_LEN(GROUP_ORDER);
}

static int cmp_rows(const void *a, const void *b)
{
    const AbRow *x = a, *y = b;
    int gx = group_rank(x->group), gy = group_rank(y->group);
    if (gx != gy) return gx < gy ? -1 : 1;
    int c = strcmp(x->group, y->group);
    if (c) return c;
    if (!x->exp[0] != !y->exp[0]) return !x->exp[0] ? 1 : -1; /* not-implemented rows last */
    c = strcmp(x->exp, y->exp);
    if (c) return c;
    c = strcmp(x->dataset, y->dataset);
    if (c) return c;
    c = strcmp(x->category, y->category);
    if (c) return c;
    if (x->k != y->k) return x->k < y->k ? -1 : 1;
    return x->order - y->order;
}

static AbRow *add_row(AbRows *r)
{
    r->rows = xrealloc(r->rows, (size_t)(r->n + 1) * sizeof *r->rows);
    AbRow *a = &r->rows[r->n];
    memset(a, 0, sizeof *a);
    a->paper_row = -1;
    a->k = -1;
    a->category = "";
    a->order = r->n++;
    return a;
}

/* The K of e's first row on a->dataset; when e has none there (run on another dataset, e.g.
 * the synthetic one), its first row's dataset and K with other_dataset set. */
static void exp_row(AbRow *a)
{
    ReportDsK dk[64];
    int n = report_rows_of(a->e, dk, 64);
    for (int i = 0; i < n; i++)
        if (strcmp(dk[i].dataset, a->dataset) == 0) {
            a->k = dk[i].k;
            return;
        }
    if (n == 0) return;
    report_copy_str(a->dataset, sizeof a->dataset, dk[0].dataset);
    a->k = dk[0].k;
    a->other_dataset = 1;
}

/* Every ablation row (see the file header); *n_named: rows whose experiment is in exps and
 * has `table = ablation`. */
static void build_rows(AbRows *r, const ReportExperiment *exps, int n_exps, const PaperTables *paper, int *n_named)
{
    const Tsv *ab = &paper->ablations;
    int c_g = tsv_col(ab, "ablation"), c_v = tsv_col(ab, "variant"), c_d = tsv_col(ab, "dataset");
    int c_e = tsv_col(ab, "experiment"), c_c = tsv_col(ab, "category");
    *n_named = 0;
    for (int i = 0; i < ab->n_rows; i++) {
        AbRow *a = add_row(r);
        a->group = ab->rows[i][c_g];
        a->variant = ab->rows[i][c_v];
        const char *exp = ab->rows[i][c_e];
        a->exp = strcmp(exp, REPORT_EXP_UNDEFINED) == 0 || strcmp(exp, REPORT_EXP_QUOTED) == 0 ? "" : exp;
        a->paper_row = i;
        if (c_c >= 0) a->category = ab->rows[i][c_c];
        a->e = a->exp[0] ? report_find(exps, n_exps, a->exp) : NULL;
        report_copy_str(a->dataset, sizeof a->dataset, ab->rows[i][c_d]);
        if (a->e) exp_row(a);
        if (!a->exp[0]) a->k = 0;
        *n_named += a->e && strcmp(a->e->table, "ablation") == 0;
    }
    for (int x = 0; x < n_exps; x++) {
        const ReportExperiment *e = &exps[x];
        if (strcmp(e->table, "ablation") != 0) continue;
        int in_paper = 0;
        for (int i = 0; i < ab->n_rows && !in_paper; i++) in_paper = strcmp(ab->rows[i][c_e], e->name) == 0;
        if (in_paper) continue;
        ReportDsK dk[64];
        int n_dk = report_rows_of(e, dk, 64);
        for (int p = 0; p < n_dk; p++) {
            AbRow *a = add_row(r);
            a->group = e->ablation[0] ? e->ablation : "-";
            a->variant = e->variant;
            a->exp = e->name;
            a->e = e;
            report_copy_str(a->dataset, sizeof a->dataset, dk[p].dataset);
            a->k = dk[p].k;
            (*n_named)++;
        }
    }
    qsort(r->rows, (size_t)r->n, sizeof *r->rows, cmp_rows);
}

/* The units of a's category (every seed of its K); returns the count, sum of metric in *sum
 * (NaN values skipped and not counted). */
static int category_units(const AbRow *a, const char *metric, double *sum)
{
    int n = 0;
    *sum = 0;
    for (int i = 0; a->e && i < a->e->n_units; i++) {
        const ReportUnit *u = &a->e->units[i];
        if (u->k != a->k || strcmp(u->dataset, a->dataset) || strcmp(u->category, a->category)) continue;
        double v = metric ? results_metric_get(&u->m, metric) : 0.0;
        if (isnan(v)) continue;
        *sum += v;
        n++;
    }
    return n;
}

/* Our value of row a (fraction; NaN when absent): the dataset row's number, or for a category
 * row that category's (mean over seeds). */
static double row_value(const AbRow *a, const char *metric)
{
    if (!a->e || a->k < 0) return NAN;
    if (!a->category[0]) return report_row_value(a->e, a->dataset, a->k, metric, NULL);
    double sum;
    int n = category_units(a, metric, &sum);
    return n ? sum / n : NAN;
}

/* Delta rows: our value minus the reference experiment's (paper `reference` column), NaN when
 * either is absent; *ref_state gets a status word for the reference. */
static double row_delta(const AbRow *a, const ReportExperiment *exps, int n_exps, const PaperTables *paper,
                        const char *metric, const char **ref_name)
{
    const Tsv *ab = &paper->ablations;
    int c_ref = tsv_col(ab, "reference");
    *ref_name = c_ref >= 0 ? ab->rows[a->paper_row][c_ref] : "";
    const ReportExperiment *ref = report_find(exps, n_exps, *ref_name);
    double ours = row_value(a, metric);
    if (!ref || isnan(ours)) return NAN;
    return ours - report_row_value(ref, a->dataset, a->k < 0 ? 0 : a->k, metric, NULL);
}

/* The metric cell of row a that the paper compares (paper row r, metric column m). */
static void paper_cell(char *buf, size_t cap, const AbRow *a, const ReportExperiment *exps, int n_exps,
                       const PaperTables *paper, const char *metric, int tally_ok, ReportTally *tally)
{
    const Tsv *ab = &paper->ablations;
    int r = a->paper_row;
    double pv = tsv_cell_num(ab, r, "value");
    int unv = tsv_cell_unverified(ab, r);
    int delta = strcmp(ab->rows[r][tsv_col(ab, "kind")], "delta") == 0;
    char what[200];
    snprintf(what, sizeof what, "table4 %s %s %s%s%s %s", a->group, a->variant, report_dataset_label(a->dataset),
             a->category[0] ? " " : "", a->category, metric);
    if (!a->exp[0]) {
        snprintf(buf, cap, "not implemented (paper %.1f%s)", pv, unv ? "*" : "");
        return;
    }
    if (!a->e || a->e->n_units == 0) {
        snprintf(buf, cap, "%s (paper %s%.1f%s)", a->e ? "not run" : "not in report", delta ? "Δ " : "", pv,
                 unv ? "*" : "");
        return;
    }
    if (a->other_dataset) { /* ours on another dataset: shown (our Δ too), not compared */
        char o[32], ds[48] = "";
        report_pct(o, sizeof o, row_value(a, metric));
        const char *ref_name;
        double d = delta ? row_delta(a, exps, n_exps, paper, metric, &ref_name) : NAN;
        if (!isnan(d)) snprintf(ds, sizeof ds, "Δ %+.1f; ", 100.0 * d);
        snprintf(buf, cap, "%s (%spaper %s%.1f%s on %s)", o, ds, delta ? "Δ " : "", pv, unv ? "*" : "",
                 report_dataset_label(ab->rows[r][tsv_col(ab, "dataset")]));
        return;
    }
    if (!delta) {
        report_compare_cell(buf, cap, row_value(a, metric), NULL, 1, pv, NULL, unv, tally_ok ? tally : NULL, what);
        return;
    }
    const char *ref_name;
    double d = row_delta(a, exps, n_exps, paper, metric, &ref_name);
    char o[32];
    report_pct(o, sizeof o, row_value(a, metric));
    if (isnan(d)) {
        snprintf(buf, cap, "%s (Δ vs %s: not available; paper Δ %.1f%s)", o, ref_name, pv, unv ? "*" : "");
        return;
    }
    double diff = 100.0 * d - pv;
    snprintf(buf, cap, "%s (Δ %+.1f vs paper Δ %.1f%s, %+.1f)", o, 100.0 * d, pv, unv ? "*" : "", diff);
    if (tally_ok && tally) {
        tally->n_compared++;
        if (fabs(diff) <= 1.0 + 1e-9) {
            tally->n_within++;
        } else {
            size_t len = strlen(tally->misses);
            if (len + 120 < sizeof tally->misses)
                snprintf(tally->misses + len, sizeof tally->misses - len, "  %s: Δ %+.1f vs %.1f (%+.1f)\n", what,
                         100.0 * d, pv, diff);
        }
    }
}

/* The status cell of row a; returns 1 when its numbers may be tallied. */
static int row_status(const AbRow *a, char *buf, size_t cap)
{
    if (!a->exp[0]) {
        snprintf(buf, cap, "not implemented: no source defines it");
        return 0;
    }
    if (!a->e) {
        snprintf(buf, cap, "not in this report (add %s to `winclip report`)", a->exp);
        return 0;
    }
    ReportRunState st = report_row_status(a->e, a->dataset, a->k < 0 ? 0 : a->k, buf, cap);
    if (a->category[0] && st != REPORT_RUN_NOT_RUN) {
        double sum;
        int n = category_units(a, NULL, &sum), want = a->k > 0 && a->e->has_plan ? a->e->plan_n_seeds : 1;
        if (n == 0) {
            snprintf(buf, cap, "not run for %s (`winclip run %s --only %s`)", a->category, a->exp, a->category);
            return 0;
        }
        if (n < want) {
            snprintf(buf, cap, "PARTIAL: %s has %d of %d seeds", a->category, n, want);
            return 0;
        }
        snprintf(buf, cap, "complete (%s)", a->category);
        return 1;
    }
    return st == REPORT_RUN_COMPLETE || st == REPORT_RUN_UNKNOWN;
}

/* The footnote text of row a: the paper row's `our_definition`, with our number under the other
 * sign for the one-class row (AUROC of the negated score = 100 - AUROC). */
static void row_footnote(const AbRow *a, const PaperTables *paper, char *buf, size_t cap)
{
    buf[0] = 0;
    if (a->paper_row < 0) return;
    const Tsv *ab = &paper->ablations;
    int c = tsv_col(ab, "our_definition");
    if (c < 0) return;
    report_copy_str(buf, cap, ab->rows[a->paper_row][c]);
    if (!buf[0] || !a->e) return;
    size_t len = strlen(buf);
    double v = row_value(a, metric_name(METRIC_IMAGE_AUROC));
    /* the run's own settings (config.resolved), or the defaults of winclip/settings.h */
    const ConfigEntry *ce_sign = config_find(&a->e->plan, "one_class_score");
    const ConfigEntry *ce_subset = config_find(&a->e->plan, "tiling_subset");
    const char *sign = ce_sign ? ce_sign->value : NULL, *subset = ce_subset ? ce_subset->value : NULL;
    if (strcmp(a->variant, "one_class") == 0 && !isnan(v)) {
        int sim = sign && strcmp(sign, "similarity") == 0;
        snprintf(buf + len, cap - len, "; ours: i-AUROC %.1f with %s, %.1f with %s", 100.0 * v,
                 sim ? "the raw similarity" : "1 - cos", 100.0 - 100.0 * v, sim ? "1 - cos" : "the raw similarity");
    } else if (strcmp(a->variant, "tiling") == 0) {
        snprintf(buf + len, cap - len, "; this run: tiling_subset = %s images per category (evenly spaced over the "
                 "sorted test list; 0 = all)", subset ? subset : "10 (default)");
    }
}

/* ms per image cell: ours (metric ms_per_image of the units, category mean) and the paper's. */
static void ms_cell(const AbRow *a, const PaperTables *paper, char *buf, size_t cap)
{
    /* only the dense rows: elsewhere the feature cache makes the time meaningless */
    double ours = strcmp(a->group, "dense") == 0 ? row_value(a, "ms_per_image") : NAN;
    double pv = a->paper_row >= 0 ? tsv_cell_num(&paper->ablations, a->paper_row, "ms_per_image") : NAN;
    char o[32] = "–";
    if (!isnan(ours)) snprintf(o, sizeof o, "%.0f", ours);
    if (isnan(pv)) snprintf(buf, cap, "%s", o);
    else snprintf(buf, cap, "%s (paper %.0f*)", o, pv);
}

#define T4_COLS (8 + METRIC_N_MAIN)

int report_write_table4(const ReportExperiment *exps, int n_exps, const PaperTables *paper, const char *out_dir,
                        ReportTally *tally, Error *err)
{
    AbRows r = {0};
    int n_named;
    build_rows(&r, exps, n_exps, paper, &n_named);
    const char *hdr[T4_COLS] = {"ablation", "variant", "experiment", "dataset", "K"};
    for (int m = 0; m < METRIC_N_MAIN; m++) hdr[5 + m] = metric_label(METRIC_MAIN_COLUMNS[m]);
    hdr[5 + METRIC_N_MAIN] = "ms/img";
    hdr[6 + METRIC_N_MAIN] = "status";
    hdr[7 + METRIC_N_MAIN] = "notes";
    ReportTable t;
    report_table_init(&t, "Table 4: ablations, six metrics (paper numbers all UNVERIFIED, S1)", T4_COLS, hdr);
    char cells[T4_COLS][256];
    char *ptrs[T4_COLS];
    for (int c = 0; c < T4_COLS; c++) ptrs[c] = cells[c];
    ReportFootnotes fn = {0};
    const Tsv *ab = &paper->ablations;
    for (int i = 0; i < r.n; i++) {
        const AbRow *a = &r.rows[i];
        report_copy_str(cells[0], sizeof cells[0], a->group);
        report_copy_str(cells[1], sizeof cells[1], a->variant);
        report_copy_str(cells[2], sizeof cells[2], a->exp[0] ? a->exp : "–");
        if (a->category[0])
            snprintf(cells[3], sizeof cells[3], "%s / %s", report_dataset_label(a->dataset), a->category);
        else
            report_copy_str(cells[3], sizeof cells[3], report_dataset_label(a->dataset));
        if (a->k >= 0) snprintf(cells[4], sizeof cells[4], "%d", a->k);
        else report_copy_str(cells[4], sizeof cells[4], "–");
        int tally_ok = row_status(a, cells[6 + METRIC_N_MAIN], sizeof cells[0]);
        const char *pmetric = a->paper_row >= 0 ? ab->rows[a->paper_row][tsv_col(ab, "metric")] : "";
        for (int m = 0; m < METRIC_N_MAIN; m++) {
            const char *metric = metric_name(METRIC_MAIN_COLUMNS[m]);
            if (strcmp(metric, pmetric) == 0)
                paper_cell(cells[5 + m], sizeof cells[5 + m], a, exps, n_exps, paper, metric, tally_ok, tally);
            else
                report_pct(cells[5 + m], sizeof cells[5 + m], row_value(a, metric));
        }
        ms_cell(a, paper, cells[5 + METRIC_N_MAIN], sizeof cells[0]);
        char note[1024];
        row_footnote(a, paper, note, sizeof note);
        report_footnote(&fn, note, cells[7 + METRIC_N_MAIN], sizeof cells[0]);
        report_table_row(&t, ptrs);
    }
    snprintf(t.notes, sizeof t.notes,
             "Cells: ours (paper, difference in points); the paper's number sits in the metric it reports. `*` = "
             "UNVERIFIED paper value (S1). Δ rows: our change vs the reference experiment (paper_ablations.tsv "
             "`reference`) beside the paper's change. ms/img (dense rows): our wall time per test image "
             "(`ms_per_image` of the units' timing.tsv, category mean; – when not recorded; this machine, not the "
             "paper's GPU), the paper's on its GPU in parentheses. Status: "
             "`complete` = every planned unit finished; a PARTIAL row is the mean over the units present and is not "
             "counted in the ±1-point tally; `not run` / `not in this report` rows have no numbers of ours. The "
             "paper's ablation table layout is unknown (winclip.md §10.4).");
    report_footnotes_append(&fn, t.notes, sizeof t.notes);
    report_footnotes_free(&fn);
    int rc = n_named ? report_table_write(&t, out_dir, "table4_ablations", err) : 0;
    report_table_free(&t);
    free(r.rows);
    return rc;
}

/* The metrics a group's figures show: the metrics of its paper rows, else i-AUROC and p-AUROC
 * (and PRO, p-F1max for the groups that move them). Returns the count (<= 4). */
static int group_metrics(const AbRows *r, const PaperTables *paper, const char *group, const char **out)
{
    int n = 0;
    const Tsv *ab = &paper->ablations;
    for (int i = 0; i < r->n; i++) {
        const AbRow *a = &r->rows[i];
        if (strcmp(a->group, group) != 0 || a->paper_row < 0) continue;
        const char *m = ab->rows[a->paper_row][tsv_col(ab, "metric")];
        int seen = 0;
        for (int j = 0; j < n; j++) seen |= strcmp(out[j], m) == 0;
        if (!seen && n < 4) out[n++] = m;
    }
    if (n) return n;
    out[n++] = metric_name(METRIC_IMAGE_AUROC);
    out[n++] = metric_name(METRIC_PIXEL_AUROC);
    if (strcmp(group, "patch_tokens") == 0 || strcmp(group, "eval_size") == 0) {
        out[n++] = metric_name(METRIC_AUPRO);
        out[n++] = metric_name(METRIC_PIXEL_F1MAX);
    }
    return n;
}

/* The paper's bar for row a and metric: an absolute row's value; a delta row drawn on the
 * paper's full-method number (its zero-/few-shot table value) plus the delta; a reference
 * experiment of a delta row gets that full-method number. NaN when the paper has none. */
static double paper_bar(const AbRows *r, const AbRow *a, const PaperTables *paper, const char *metric)
{
    const Tsv *ab = &paper->ablations;
    double full = NAN, pv;
    int k = a->k < 0 ? 0 : a->k;
    if (a->other_dataset) return NAN;
    if (report_paper_mean(paper, a->dataset, k, metric, &pv, NULL, NULL)) full = pv;
    if (a->paper_row >= 0) {
        if (strcmp(ab->rows[a->paper_row][tsv_col(ab, "metric")], metric) != 0) return NAN;
        double v = tsv_cell_num(ab, a->paper_row, "value");
        return strcmp(ab->rows[a->paper_row][tsv_col(ab, "kind")], "delta") == 0 ? full + v : v;
    }
    int c_ref = tsv_col(ab, "reference");
    for (int i = 0; i < r->n && c_ref >= 0; i++)
        if (r->rows[i].paper_row >= 0 && strcmp(ab->rows[r->rows[i].paper_row][c_ref], a->exp) == 0 &&
            strcmp(ab->rows[r->rows[i].paper_row][tsv_col(ab, "metric")], metric) == 0)
            return full;
    return NAN;
}

/* figures/ablation_<group>_<metric>: the rows of group [g0, g1) of r. */
static int group_figure(const AbRows *r, int g0, int g1, const PaperTables *paper, const char *dir, const char *metric,
                        ReportPlotTally *tally, Error *err)
{
    int n = g1 - g0, any_paper = 0;
    char **labels = xcalloc((size_t)n, sizeof *labels);
    double *ours = xmalloc((size_t)n * sizeof *ours), *pap = xmalloc((size_t)n * sizeof *pap);
    for (int i = 0; i < n; i++) {
        const AbRow *a = &r->rows[g0 + i];
        double v = row_value(a, metric);
        ours[i] = 100.0 * v;
        pap[i] = paper_bar(r, a, paper, metric);
        any_paper |= !isnan(pap[i]);
        const char *why = !a->exp[0] ? " (not implemented)" : !a->e ? " (not in report)"
                          : isnan(v)  ? (a->e->n_units ? " (no value)" : " (not run)")
                                      : "";
        labels[i] = xasprintf("%s%s%s%s", a->variant, a->category[0] ? " " : "", a->category, why);
    }
    char *stem = xasprintf("%s/ablation_%s_%s", dir, r->rows[g0].group, metric);
    const char *label = metric;
    for (int m = 0; m < METRIC_COUNT; m++)
        if (strcmp(metric_name((MetricId)m), metric) == 0 && metric_label((MetricId)m)) label = metric_label((MetricId)m);
    int any_delta = 0;
    for (int i = g0; i < g1; i++)
        any_delta |= r->rows[i].paper_row >= 0 &&
                     strcmp(paper->ablations.rows[r->rows[i].paper_row][tsv_col(&paper->ablations, "kind")], "delta") == 0;
    char *title = xasprintf("ablation %s: %s, ours%s%s", r->rows[g0].group, label, any_paper ? " vs paper" : "",
                            any_delta ? " (paper Δ drawn on its full method)" : "");
    int skipped = 0;
    int rc = plot_bars(stem, title, n, (const char *const *)labels, ours, any_paper ? pap : NULL, &skipped, err);
    if (!rc) {
        tally->n_figures++;
        tally->n_skipped += skipped;
    }
    for (int i = 0; i < n; i++) free(labels[i]);
    free(labels);
    free(ours);
    free(pap);
    free(stem);
    free(title);
    return rc;
}

int report_write_ablation_figures(const ReportExperiment *exps, int n_exps, const PaperTables *paper, const char *dir,
                                  ReportPlotTally *tally, Error *err)
{
    AbRows r = {0};
    int n_named, rc = 0;
    build_rows(&r, exps, n_exps, paper, &n_named);
    for (int g0 = 0; g0 < r.n && n_named && !rc;) {
        int g1 = g0 + 1;
        while (g1 < r.n && strcmp(r.rows[g1].group, r.rows[g0].group) == 0) g1++;
        const char *metrics[4];
        int nm = group_metrics(&r, paper, r.rows[g0].group, metrics);
        for (int m = 0; m < nm && !rc; m++) rc = group_figure(&r, g0, g1, paper, dir, metrics[m], tally, err);
        g0 = g1;
    }
    free(r.rows);
    return rc;
}
