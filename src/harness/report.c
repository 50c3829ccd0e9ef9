/*
 * report.c - aggregate results/ into summaries and paper-layout tables (see report.h).
 *
 * Does: TSV reading, unit discovery, category means, seed mean ± population std, one small
 * table builder rendered as Markdown and LaTeX, the ±1-point tally.
 * Does not: recompute anything from maps or scores.
 * Reference: shared/spec/metrics.md §6, winclip.md §10-§12.
 */
#define _XOPEN_SOURCE 700
#include "harness/report.h"

#include "harness/config.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Table cells and labels are display strings in fixed buffers: truncation is intended and
 * harmless, and GCC's estimates through inlined helpers are far off. */
#pragma GCC diagnostic ignored "-Wformat-truncation"

const char *const REPORT_MAIN_METRICS[REPORT_N_MAIN] = {"image_auroc", "image_ap",  "image_f1max",
                                                        "pixel_auroc", "aupro_0.3", "pixel_f1max"};
const char *const REPORT_MAIN_LABELS[REPORT_N_MAIN] = {"i-AUROC", "i-AUPR", "i-F1max", "p-AUROC", "PRO", "p-F1max"};

/* Per-category table 3 metrics (the four the paper gives per category). */
static const char *const CAT_METRICS[4] = {"image_auroc", "pixel_auroc", "image_f1max", "pixel_f1max"};
static const char *const CAT_LABELS[4] = {"i-AUROC", "p-AUROC", "i-F1max", "p-F1max"};

/* Every metric written to summary.tsv, in this order (others in metrics.tsv are ignored). */
static const char *const ALL_METRICS[] = {"image_auroc", "image_ap",           "image_f1max",       "pixel_auroc",
                                          "pixel_ap",    "pixel_f1max",        "aupro_0.3",         "image_aupr_trapz",
                                          "pixel_aupr_trapz", "aupro_cflow200", "image_auroc_maxmap"};

static const char *dataset_label(const char *d)
{
    if (strcmp(d, "mvtec") == 0) return "MVTec AD";
    if (strcmp(d, "visa") == 0) return "VisA";
    return d;
}

void report_pct(char *buf, size_t cap, double fraction)
{
    if (isnan(fraction))
        snprintf(buf, cap, "–");
    else
        snprintf(buf, cap, "%.1f", 100.0 * fraction);
}

/* ---- TSV ---- */

static char **split_tabs(char *line, int *n)
{
    int count = 1;
    for (char *p = line; *p; p++) count += *p == '\t';
    char **cells = xmalloc((size_t)count * sizeof *cells);
    char *p = line;
    for (int i = 0; i < count; i++) {
        char *tab = strchr(p, '\t');
        if (tab) *tab = 0;
        cells[i] = xstrdup(p);
        p = tab ? tab + 1 : p + strlen(p);
    }
    *n = count;
    return cells;
}

static void free_cells(char **cells, int n)
{
    for (int i = 0; i < n; i++) free(cells[i]);
    free(cells);
}

int tsv_load(Tsv *t, const char *path, Error *err)
{
    memset(t, 0, sizeof *t);
    FILE *f = fopen(path, "r");
    if (!f) return err_setf(err, ERR_MISSING, "cannot open %s: %s", path, strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    int line_no = 0, rc = 0, cap_rows = 0;
    while (getline(&line, &cap, f) >= 0) {
        line_no++;
        line[strcspn(line, "\r\n")] = 0;
        if (!line[0]) continue;
        int n;
        char **cells = split_tabs(line, &n);
        if (!t->header) {
            t->header = cells;
            t->n_cols = n;
            continue;
        }
        if (n != t->n_cols) {
            free_cells(cells, n);
            rc = err_setf(err, ERR_FORMAT, "%s:%d: expected %d tab-separated columns, found %d", path, line_no,
                          t->n_cols, n);
            break;
        }
        if (t->n_rows == cap_rows) {
            cap_rows = cap_rows ? 2 * cap_rows : 64;
            t->rows = xrealloc(t->rows, (size_t)cap_rows * sizeof *t->rows);
        }
        t->rows[t->n_rows++] = cells;
    }
    free(line);
    fclose(f);
    if (!rc && !t->header) rc = err_setf(err, ERR_FORMAT, "%s: empty file (expected a header line)", path);
    if (rc) tsv_free(t);
    return rc;
}

void tsv_free(Tsv *t)
{
    if (!t) return;
    for (int r = 0; r < t->n_rows; r++) free_cells(t->rows[r], t->n_cols);
    free(t->rows);
    if (t->header) free_cells(t->header, t->n_cols);
    memset(t, 0, sizeof *t);
}

int tsv_col(const Tsv *t, const char *name)
{
    for (int c = 0; c < t->n_cols; c++)
        if (strcmp(t->header[c], name) == 0) return c;
    return -1;
}

/* First row whose columns names[i] equal values[i] (NULL value: any), or -1. */
static int tsv_find(const Tsv *t, int n, const char *const *names, const char *const *values)
{
    for (int r = 0; r < t->n_rows; r++) {
        int ok = 1;
        for (int i = 0; i < n && ok; i++) {
            int c = tsv_col(t, names[i]);
            ok = c >= 0 && (!values[i] || strcmp(t->rows[r][c], values[i]) == 0);
        }
        if (ok) return r;
    }
    return -1;
}

static double cell_num(const Tsv *t, int row, const char *col)
{
    int c = tsv_col(t, col);
    if (c < 0 || !t->rows[row][c][0]) return NAN;
    char *end;
    double v = strtod(t->rows[row][c], &end);
    return *end ? NAN : v;
}

static int cell_unverified(const Tsv *t, int row)
{
    int c = tsv_col(t, "verified");
    return c >= 0 && strcmp(t->rows[row][c], "UNVERIFIED") == 0;
}

/* ---- paper numbers ---- */

static int need_cols(const Tsv *t, const char *path, const char *const *cols, int n, Error *err)
{
    for (int i = 0; i < n; i++)
        if (tsv_col(t, cols[i]) < 0) return err_setf(err, ERR_FORMAT, "%s: missing column '%s'", path, cols[i]);
    return 0;
}

int report_paper_load(PaperTables *p, const char *dir, Error *err)
{
    memset(p, 0, sizeof *p);
    struct {
        Tsv *t;
        const char *file;
        const char *cols[6];
        int n;
    } files[] = {
        {&p->zero_shot, "paper_zero_shot.tsv", {"dataset", "metric", "value", "source", "verified"}, 5},
        {&p->few_shot, "paper_few_shot.tsv", {"dataset", "k", "metric", "mean", "std", "verified"}, 6},
        {&p->per_category, "paper_per_category.tsv", {"dataset", "category", "metric", "value", "verified"}, 5},
        {&p->ablations, "paper_ablations.tsv", {"ablation", "variant", "metric", "value", "kind", "verified"}, 6},
        {&p->reproductions, "public_reproductions.tsv", {"reproduction", "preset", "k", "dataset", "metric", "value"},
         6},
    };
    for (size_t i = 0; i < ARRAY_LEN(files); i++) {
        char *path = xasprintf("%s/%s", dir, files[i].file);
        int rc = tsv_load(files[i].t, path, err);
        if (!rc) rc = need_cols(files[i].t, path, files[i].cols, files[i].n, err);
        free(path);
        if (rc) {
            report_paper_free(p);
            return rc;
        }
    }
    return 0;
}

void report_paper_free(PaperTables *p)
{
    if (!p) return;
    tsv_free(&p->zero_shot);
    tsv_free(&p->few_shot);
    tsv_free(&p->per_category);
    tsv_free(&p->ablations);
    tsv_free(&p->reproductions);
}

int report_paper_mean(const PaperTables *p, const char *dataset, int k, const char *metric, double *value,
                      double *std, int *unverified)
{
    const Tsv *t = k == 0 ? &p->zero_shot : &p->few_shot;
    char kbuf[16];
    snprintf(kbuf, sizeof kbuf, "%d", k);
    const char *names[] = {"dataset", "metric", "k"};
    const char *values[] = {dataset, metric, kbuf};
    int r = tsv_find(t, k == 0 ? 2 : 3, names, values);
    if (r < 0) return 0;
    *value = cell_num(t, r, k == 0 ? "value" : "mean");
    if (std) *std = k == 0 ? NAN : cell_num(t, r, "std");
    if (unverified) *unverified = cell_unverified(t, r);
    return !isnan(*value);
}

int report_paper_category(const PaperTables *p, const char *dataset, const char *category, const char *metric,
                          double *value, int *unverified)
{
    const char *names[] = {"dataset", "category", "metric"};
    const char *values[] = {dataset, category, metric};
    int r = tsv_find(&p->per_category, 3, names, values);
    if (r < 0) return 0;
    *value = cell_num(&p->per_category, r, "value");
    if (unverified) *unverified = cell_unverified(&p->per_category, r);
    return !isnan(*value);
}

/* ---- experiment results ---- */

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Sorted subfolder names of dir (malloc'ed array of malloc'ed names). */
static char **list_dirs(const char *dir, int *n)
{
    *n = 0;
    DIR *d = opendir(dir);
    if (!d) return NULL;
    char **names = NULL;
    int cap = 0;
    struct dirent *ent;
    while ((ent = readdir(d))) {
        if (ent->d_name[0] == '.') continue;
        char *p = xasprintf("%s/%s", dir, ent->d_name);
        int ok = is_dir(p);
        free(p);
        if (!ok) continue;
        if (*n == cap) names = xrealloc(names, (size_t)(cap = cap ? 2 * cap : 16) * sizeof *names);
        names[(*n)++] = xstrdup(ent->d_name);
    }
    closedir(d);
    for (int i = 1; i < *n; i++)
        for (int j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
            char *tmp = names[j];
            names[j] = names[j - 1];
            names[j - 1] = tmp;
        }
    return names;
}

static void free_names(char **names, int n)
{
    for (int i = 0; i < n; i++) free(names[i]);
    free(names);
}

static int parse_unit_name(const char *s, int *k, int *seed)
{
    char extra;
    if (strcmp(s, "k0") == 0) {
        *k = 0;
        *seed = 0;
        return 1;
    }
    return sscanf(s, "k%d_s%d%c", k, seed, &extra) == 2 && *k > 0 && *seed >= 0;
}

static int cmp_unit(const void *a, const void *b)
{
    const ReportUnit *x = a, *y = b;
    int c = strcmp(x->dataset, y->dataset);
    if (c) return c;
    if (x->k != y->k) return x->k < y->k ? -1 : 1;
    if (x->seed != y->seed) return x->seed < y->seed ? -1 : 1;
    return strcmp(x->category, y->category);
}

static void copy_str(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

static int load_meta(ReportExperiment *e, const char *dir, Error *err)
{
    char *path = xasprintf("%s/experiment.conf", dir);
    Config cfg;
    config_init(&cfg);
    int rc = 0;
    FILE *f = fopen(path, "r");
    if (f) {
        fclose(f);
        rc = config_load(&cfg, path, err);
        const char *v;
        if (!rc && (v = config_get(&cfg, "title"))) copy_str(e->title, sizeof e->title, v);
        if (!rc && (v = config_get(&cfg, "table"))) copy_str(e->table, sizeof e->table, v);
        if (!rc && (v = config_get(&cfg, "ablation"))) copy_str(e->ablation, sizeof e->ablation, v);
        if (!rc && (v = config_get(&cfg, "variant"))) copy_str(e->variant, sizeof e->variant, v);
        if (!rc && (v = config_get(&cfg, "preset"))) copy_str(e->preset, sizeof e->preset, v);
    }
    config_free(&cfg);
    free(path);
    return rc;
}

int report_load_experiment(ReportExperiment *e, const char *root, const char *name, Error *err)
{
    memset(e, 0, sizeof *e);
    const char *slash = strrchr(name, '/');
    const char *base = slash ? slash + 1 : name;
    size_t len = strlen(base);
    if (len > 5 && strcmp(base + len - 5, ".conf") == 0) len -= 5;
    if (len == 0 || len >= sizeof e->name) return err_setf(err, ERR_USAGE, "bad experiment name '%s'", name);
    memcpy(e->name, base, len);
    e->name[len] = 0;
    copy_str(e->title, sizeof e->title, e->name);
    copy_str(e->table, sizeof e->table, "main");
    copy_str(e->variant, sizeof e->variant, e->name);

    char *exp_dir = xasprintf("%s/%s", root, e->name);
    if (!is_dir(exp_dir)) {
        err_setf(err, ERR_MISSING, "no results for experiment '%s': folder %s does not exist (run `winclip run %s` first)",
                 e->name, exp_dir, e->name);
        free(exp_dir);
        return ERR_MISSING;
    }
    int rc = load_meta(e, exp_dir, err);
    int n_ds = 0;
    char **datasets = rc ? NULL : list_dirs(exp_dir, &n_ds);
    for (int d = 0; d < n_ds && !rc; d++) {
        char *ds_dir = xasprintf("%s/%s", exp_dir, datasets[d]);
        int n_cat = 0;
        char **cats = list_dirs(ds_dir, &n_cat);
        for (int c = 0; c < n_cat && !rc; c++) {
            char *cat_dir = xasprintf("%s/%s", ds_dir, cats[c]);
            int n_units = 0;
            char **units = list_dirs(cat_dir, &n_units);
            for (int u = 0; u < n_units && !rc; u++) {
                int k, seed;
                if (!parse_unit_name(units[u], &k, &seed)) continue;
                char *unit_dir = xasprintf("%s/%s", cat_dir, units[u]);
                if (results_is_done(unit_dir)) {
                    if (e->n_units == e->cap) {
                        e->cap = e->cap ? 2 * e->cap : 64;
                        e->units = xrealloc(e->units, (size_t)e->cap * sizeof *e->units);
                    }
                    ReportUnit *ru = &e->units[e->n_units];
                    memset(ru, 0, sizeof *ru);
                    copy_str(ru->dataset, sizeof ru->dataset, datasets[d]);
                    copy_str(ru->category, sizeof ru->category, cats[c]);
                    ru->k = k;
                    ru->seed = seed;
                    char *mpath = xasprintf("%s/metrics.tsv", unit_dir);
                    rc = results_read_metrics(mpath, &ru->m, err);
                    free(mpath);
                    if (!rc) e->n_units++;
                }
                free(unit_dir);
            }
            free_names(units, n_units);
            free(cat_dir);
        }
        free_names(cats, n_cat);
        free(ds_dir);
    }
    free_names(datasets, n_ds);
    if (!rc && e->n_units == 0)
        rc = err_setf(err, ERR_MISSING, "experiment '%s': no finished unit (no <dataset>/<category>/k*/done) under %s",
                      e->name, exp_dir);
    free(exp_dir);
    if (rc) {
        report_experiment_free(e);
        return rc;
    }
    qsort(e->units, (size_t)e->n_units, sizeof *e->units, cmp_unit);
    return 0;
}

void report_experiment_free(ReportExperiment *e)
{
    if (!e) return;
    free(e->units);
    e->units = NULL;
    e->n_units = e->cap = 0;
}

double report_category_mean(const ReportExperiment *e, const char *dataset, int k, int seed, const char *metric,
                            int *n_categories)
{
    double sum = 0;
    int n = 0;
    for (int i = 0; i < e->n_units; i++) {
        const ReportUnit *u = &e->units[i];
        if (u->k != k || u->seed != seed || strcmp(u->dataset, dataset) != 0) continue;
        double v = results_metric_get(&u->m, metric);
        if (isnan(v)) continue;
        sum += v;
        n++;
    }
    if (n_categories) *n_categories = n;
    return n ? sum / n : NAN;
}

/* Distinct seeds present for (dataset, k), ascending; returns the count (<= cap). */
static int seeds_of(const ReportExperiment *e, const char *dataset, int k, int *seeds, int cap)
{
    int n = 0;
    for (int i = 0; i < e->n_units; i++) {
        const ReportUnit *u = &e->units[i];
        if (u->k != k || strcmp(u->dataset, dataset) != 0) continue;
        int seen = 0;
        for (int j = 0; j < n; j++) seen |= seeds[j] == u->seed;
        if (!seen && n < cap) seeds[n++] = u->seed;
    }
    return n;
}

/* Mean and population std (ddof = 0, metrics.md §6) of v[0..n), two-pass; NaN for both when n == 0.
 * The one std every table uses. Returns n. */
int report_mean_std(const double *v, int n, double *mean, double *std)
{
    *mean = *std = NAN;
    if (n <= 0) return 0;
    double sum = 0;
    for (int i = 0; i < n; i++) sum += v[i];
    *mean = sum / n;
    double ss = 0;
    for (int i = 0; i < n; i++) ss += (v[i] - *mean) * (v[i] - *mean);
    *std = sqrt(ss / n);
    return n;
}

int report_seed_stats(const ReportExperiment *e, const char *dataset, int k, const char *metric, double *mean,
                      double *std)
{
    int seeds[256];
    int n_seeds = seeds_of(e, dataset, k, seeds, 256);
    double vals[256];
    int n = 0;
    for (int s = 0; s < n_seeds; s++) {
        double v = report_category_mean(e, dataset, k, seeds[s], metric, NULL);
        if (!isnan(v)) vals[n++] = v;
    }
    return report_mean_std(vals, n, mean, std);
}

/* Distinct (dataset, k) pairs in unit order. */
typedef struct {
    char dataset[32];
    int k;
} DsK;

static int dataset_ks(const ReportExperiment *e, DsK *out, int cap)
{
    int n = 0;
    for (int i = 0; i < e->n_units; i++) {
        const ReportUnit *u = &e->units[i];
        if (n > 0 && out[n - 1].k == u->k && strcmp(out[n - 1].dataset, u->dataset) == 0) continue;
        if (n == cap) break;
        copy_str(out[n].dataset, sizeof out[n].dataset, u->dataset);
        out[n].k = u->k;
        n++;
    }
    return n;
}

/* ---- a tiny table builder rendered as Markdown or LaTeX ---- */

#define TBL_MAX_COLS 16
typedef struct {
    char caption[256];
    int n_cols, n_rows, cap;
    char *header[TBL_MAX_COLS];
    char **cells; /* (n_rows * n_cols) */
    char notes[1024];
} Table;

static void tbl_init(Table *t, const char *caption, int n_cols, const char *const *header)
{
    memset(t, 0, sizeof *t);
    CHECK(n_cols <= TBL_MAX_COLS);
    copy_str(t->caption, sizeof t->caption, caption);
    t->n_cols = n_cols;
    for (int c = 0; c < n_cols; c++) t->header[c] = xstrdup(header[c]);
}

/* Append a row; cells copied. */
static void tbl_row(Table *t, char **cells)
{
    if (t->n_rows == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 32;
        t->cells = xrealloc(t->cells, (size_t)t->cap * (size_t)t->n_cols * sizeof *t->cells);
    }
    for (int c = 0; c < t->n_cols; c++) t->cells[(size_t)t->n_rows * (size_t)t->n_cols + (size_t)c] = xstrdup(cells[c]);
    t->n_rows++;
}

static void tbl_free(Table *t)
{
    for (int c = 0; c < t->n_cols; c++) free(t->header[c]);
    for (size_t i = 0; i < (size_t)t->n_rows * (size_t)t->n_cols; i++) free(t->cells[i]);
    free(t->cells);
    memset(t, 0, sizeof *t);
}

static void tbl_md(const Table *t, FILE *f)
{
    fprintf(f, "**%s**\n\n|", t->caption);
    for (int c = 0; c < t->n_cols; c++) fprintf(f, " %s |", t->header[c]);
    fprintf(f, "\n|");
    for (int c = 0; c < t->n_cols; c++) fprintf(f, " --- |");
    fprintf(f, "\n");
    for (int r = 0; r < t->n_rows; r++) {
        fprintf(f, "|");
        for (int c = 0; c < t->n_cols; c++) fprintf(f, " %s |", t->cells[(size_t)r * (size_t)t->n_cols + (size_t)c]);
        fprintf(f, "\n");
    }
    if (t->notes[0]) fprintf(f, "\n%s\n", t->notes);
    fprintf(f, "\n");
}

static void tex_escaped(FILE *f, const char *s)
{
    for (const char *p = s; *p; p++) {
        if (strncmp(p, "±", strlen("±")) == 0) {
            fputs("$\\pm$", f);
            p += strlen("±") - 1;
        } else if (strncmp(p, "–", strlen("–")) == 0) {
            fputs("--", f);
            p += strlen("–") - 1;
        } else if (strncmp(p, "**", 2) == 0) {
            p++; /* Markdown bold markers are dropped */
        } else if (*p == '_' || *p == '%' || *p == '&' || *p == '#' || *p == '$') {
            fprintf(f, "\\%c", *p);
        } else {
            fputc(*p, f);
        }
    }
}

static void tbl_tex(const Table *t, FILE *f)
{
    fprintf(f, "%% generated by `winclip report`; do not edit\n\\begin{table}[t]\n\\centering\n\\caption{");
    tex_escaped(f, t->caption);
    fprintf(f, "}\n\\begin{tabular}{l");
    for (int c = 1; c < t->n_cols; c++) fprintf(f, "c");
    fprintf(f, "}\n\\hline\n");
    for (int c = 0; c < t->n_cols; c++) {
        if (c) fputs(" & ", f);
        tex_escaped(f, t->header[c]);
    }
    fprintf(f, " \\\\\n\\hline\n");
    for (int r = 0; r < t->n_rows; r++) {
        for (int c = 0; c < t->n_cols; c++) {
            if (c) fputs(" & ", f);
            tex_escaped(f, t->cells[(size_t)r * (size_t)t->n_cols + (size_t)c]);
        }
        fprintf(f, " \\\\\n");
    }
    fprintf(f, "\\hline\n\\end{tabular}\n");
    if (t->notes[0]) {
        fprintf(f, "\\\\[2pt]{\\footnotesize ");
        tex_escaped(f, t->notes);
        fprintf(f, "}\n");
    }
    fprintf(f, "\\end{table}\n");
}

/* Write out_dir/<stem>.md and .tex atomically. */
static int tbl_write(const Table *t, const char *out_dir, const char *stem, Error *err)
{
    const char *ext[2] = {"md", "tex"};
    for (int i = 0; i < 2; i++) {
        char *path = xasprintf("%s/%s.%s", out_dir, stem, ext[i]);
        AtomicFile af;
        int rc = fsutil_atomic_open(&af, path, err);
        free(path);
        if (rc) return rc;
        if (i == 0) {
            fprintf(af.f, "<!-- generated by `winclip report`; do not edit -->\n\n");
            tbl_md(t, af.f);
        } else {
            tbl_tex(t, af.f);
        }
        if (fsutil_atomic_commit(&af, err)) return err->code;
    }
    return 0;
}

/* "ours (paper*, +d.d)" into buf; tallies when both exist. ours is a fraction, paper percent. */
static void compare_cell(char *buf, size_t cap, double ours, const char *ours_std, int have_paper, double paper,
                         const char *paper_std, int unverified, ReportTally *tally, const char *what)
{
    char o[32];
    report_pct(o, sizeof o, ours);
    if (!have_paper) {
        snprintf(buf, cap, "%s%s", o, ours_std ? ours_std : "");
        return;
    }
    if (isnan(ours)) {
        snprintf(buf, cap, "– (%.1f%s%s)", paper, paper_std ? paper_std : "", unverified ? "*" : "");
        return;
    }
    double d = 100.0 * ours - paper;
    snprintf(buf, cap, "%s%s (%.1f%s%s, %+.1f)", o, ours_std ? ours_std : "", paper, paper_std ? paper_std : "",
             unverified ? "*" : "", d);
    if (tally) {
        tally->n_compared++;
        if (fabs(d) <= 1.0 + 1e-9) {
            tally->n_within++;
        } else {
            size_t len = strlen(tally->misses);
            if (len + 100 < sizeof tally->misses)
                snprintf(tally->misses + len, sizeof tally->misses - len, "%s  %s: %s vs %.1f (%+.1f)\n",
                         len ? "" : "", what, o, paper, d);
        }
    }
}

static const char *UNVERIFIED_NOTE =
    "Cells: ours (paper, difference in points); `*` = paper value UNVERIFIED (secondary source, "
    "paper-tables/README.md).";

/* ---- summary.tsv / summary.md ---- */

int report_write_summary(const ReportExperiment *e, const char *root, const PaperTables *paper, Error *err)
{
    char *path = xasprintf("%s/%s/summary.tsv", root, e->name);
    AtomicFile af;
    int rc = fsutil_atomic_open(&af, path, err);
    free(path);
    if (rc) return rc;
    FILE *f = af.f;
    fprintf(f, "dataset\tk\tseed\tcategory\tn_categories");
    for (size_t m = 0; m < ARRAY_LEN(ALL_METRICS); m++) fprintf(f, "\t%s", ALL_METRICS[m]);
    fprintf(f, "\n");
    DsK dk[64];
    int n_dk = dataset_ks(e, dk, 64);
    for (int p = 0; p < n_dk; p++) {
        int seeds[256];
        int n_seeds = seeds_of(e, dk[p].dataset, dk[p].k, seeds, 256);
        for (int s = 0; s < n_seeds; s++) {
            for (int i = 0; i < e->n_units; i++) {
                const ReportUnit *u = &e->units[i];
                if (u->k != dk[p].k || u->seed != seeds[s] || strcmp(u->dataset, dk[p].dataset)) continue;
                fprintf(f, "%s\t%d\t%d\t%s\t1", u->dataset, u->k, u->seed, u->category);
                for (size_t m = 0; m < ARRAY_LEN(ALL_METRICS); m++)
                    fprintf(f, "\t%.10g", results_metric_get(&u->m, ALL_METRICS[m]));
                fprintf(f, "\n");
            }
            int n_cat = 0;
            report_category_mean(e, dk[p].dataset, dk[p].k, seeds[s], ALL_METRICS[0], &n_cat);
            fprintf(f, "%s\t%d\t%d\tmean\t%d", dk[p].dataset, dk[p].k, seeds[s], n_cat);
            for (size_t m = 0; m < ARRAY_LEN(ALL_METRICS); m++)
                fprintf(f, "\t%.10g", report_category_mean(e, dk[p].dataset, dk[p].k, seeds[s], ALL_METRICS[m], NULL));
            fprintf(f, "\n");
        }
        if (dk[p].k > 0) {
            for (int which = 0; which < 2; which++) {
                fprintf(f, "%s\t%d\t%s\tmean\t%d", dk[p].dataset, dk[p].k, which ? "std_pop" : "mean_over_seeds",
                        n_seeds);
                for (size_t m = 0; m < ARRAY_LEN(ALL_METRICS); m++) {
                    double mean, sd;
                    report_seed_stats(e, dk[p].dataset, dk[p].k, ALL_METRICS[m], &mean, &sd);
                    fprintf(f, "\t%.10g", which ? sd : mean);
                }
                fprintf(f, "\n");
            }
        }
    }
    if (fsutil_atomic_commit(&af, err)) return err->code;

    /* summary.md */
    path = xasprintf("%s/%s/summary.md", root, e->name);
    rc = fsutil_atomic_open(&af, path, err);
    free(path);
    if (rc) return rc;
    f = af.f;
    fprintf(f, "<!-- generated by `winclip report`; do not edit -->\n\n# %s\n\n", e->title);
    fprintf(f, "Experiment `%s`. Percent, one decimal. Dataset rows are unweighted means over categories. %s\n\n",
            e->name, UNVERIFIED_NOTE);
    for (int p = 0; p < n_dk; p++) {
        const char *ds = dk[p].dataset;
        int k = dk[p].k;
        int seeds[256];
        int n_seeds = seeds_of(e, ds, k, seeds, 256);
        char caption[256];
        if (k == 0)
            snprintf(caption, sizeof caption, "%s, zero-shot, per category", dataset_label(ds));
        else
            snprintf(caption, sizeof caption, "%s, K = %d, per category (mean ± population std over %d seed%s)",
                     dataset_label(ds), k, n_seeds, n_seeds == 1 ? "" : "s");
        const char *hdr[1 + REPORT_N_MAIN];
        hdr[0] = "category";
        for (int m = 0; m < REPORT_N_MAIN; m++) hdr[1 + m] = REPORT_MAIN_LABELS[m];
        Table t;
        tbl_init(&t, caption, 1 + REPORT_N_MAIN, hdr);
        char cells[1 + REPORT_N_MAIN][96];
        char *ptrs[1 + REPORT_N_MAIN];
        for (int c = 0; c <= REPORT_N_MAIN; c++) ptrs[c] = cells[c];
        /* categories of this (dataset, k) */
        for (int i = 0; i < e->n_units; i++) {
            const ReportUnit *u = &e->units[i];
            if (u->k != k || strcmp(u->dataset, ds) || u->seed != seeds[0]) continue;
            copy_str(cells[0], sizeof cells[0], u->category);
            for (int m = 0; m < REPORT_N_MAIN; m++) {
                const char *metric = REPORT_MAIN_METRICS[m];
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
                compare_cell(cells[1 + m], sizeof cells[1 + m], mean, sd, have, pv, NULL, unv, NULL, NULL);
            }
            tbl_row(&t, ptrs);
        }
        copy_str(cells[0], sizeof cells[0], "**mean**");
        for (int m = 0; m < REPORT_N_MAIN; m++) {
            double mean, sd, pv = NAN, psd = NAN;
            int unv = 0;
            char sds[32] = "", psds[32] = "";
            if (k == 0) {
                mean = report_category_mean(e, ds, 0, 0, REPORT_MAIN_METRICS[m], NULL);
            } else {
                report_seed_stats(e, ds, k, REPORT_MAIN_METRICS[m], &mean, &sd);
                if (!isnan(sd)) snprintf(sds, sizeof sds, "±%.1f", 100.0 * sd);
            }
            int have = report_paper_mean(paper, ds, k, REPORT_MAIN_METRICS[m], &pv, &psd, &unv);
            if (have && !isnan(psd)) snprintf(psds, sizeof psds, "±%.1f", psd);
            compare_cell(cells[1 + m], sizeof cells[1 + m], mean, sds, have, pv, psds, unv, NULL, NULL);
        }
        tbl_row(&t, ptrs);
        if (k > 0)
            snprintf(t.notes, sizeof t.notes,
                     "Category rows: mean ± population std over seeds of that category; the mean row: mean ± "
                     "population std (ddof = 0) over seeds of the category mean.");
        tbl_md(&t, f);
        tbl_free(&t);
    }
    return fsutil_atomic_commit(&af, err);
}

/* ---- paper tables ---- */

static int table1_2(const ReportExperiment *exps, int n_exps, const PaperTables *paper, const char *out_dir,
                    int few_shot, ReportTally *tally, Error *err)
{
    const char *hdr[2 + REPORT_N_MAIN];
    hdr[0] = "dataset";
    hdr[1] = few_shot ? "K" : "experiment";
    for (int m = 0; m < REPORT_N_MAIN; m++) hdr[2 + m] = REPORT_MAIN_LABELS[m];
    Table t;
    tbl_init(&t,
             few_shot ? "Table 2: WinCLIP+ few-shot, mean ± population std over seeds of the category mean"
                      : "Table 1: WinCLIP zero-shot, unweighted mean over categories",
             2 + REPORT_N_MAIN, hdr);
    char cells[2 + REPORT_N_MAIN][128];
    char *ptrs[2 + REPORT_N_MAIN];
    for (int c = 0; c < 2 + REPORT_N_MAIN; c++) ptrs[c] = cells[c];
    for (int x = 0; x < n_exps; x++) {
        const ReportExperiment *e = &exps[x];
        if (strcmp(e->table, "main") != 0) continue;
        DsK dk[64];
        int n_dk = dataset_ks(e, dk, 64);
        for (int p = 0; p < n_dk; p++) {
            if ((dk[p].k > 0) != few_shot) continue;
            copy_str(cells[0], sizeof cells[0], dataset_label(dk[p].dataset));
            if (few_shot)
                snprintf(cells[1], sizeof cells[1], "%d", dk[p].k);
            else
                copy_str(cells[1], sizeof cells[1], e->name);
            for (int m = 0; m < REPORT_N_MAIN; m++) {
                double mean, sd = NAN, pv = NAN, psd = NAN;
                int unv = 0;
                char sds[32] = "", psds[32] = "", what[160];
                if (few_shot) {
                    report_seed_stats(e, dk[p].dataset, dk[p].k, REPORT_MAIN_METRICS[m], &mean, &sd);
                    if (!isnan(sd)) snprintf(sds, sizeof sds, "±%.1f", 100.0 * sd);
                } else {
                    mean = report_category_mean(e, dk[p].dataset, 0, 0, REPORT_MAIN_METRICS[m], NULL);
                }
                int have = report_paper_mean(paper, dk[p].dataset, dk[p].k, REPORT_MAIN_METRICS[m], &pv, &psd, &unv);
                if (have && !isnan(psd)) snprintf(psds, sizeof psds, "±%.1f", psd);
                snprintf(what, sizeof what, "table%d %s K=%d %s", few_shot ? 2 : 1, dataset_label(dk[p].dataset),
                         dk[p].k, REPORT_MAIN_LABELS[m]);
                compare_cell(cells[2 + m], sizeof cells[2 + m], mean, sds, have, pv, psds, unv, tally, what);
            }
            tbl_row(&t, ptrs);
        }
    }
    copy_str(t.notes, sizeof t.notes, UNVERIFIED_NOTE);
    int rc = t.n_rows ? tbl_write(&t, out_dir, few_shot ? "table2_few_shot" : "table1_zero_shot", err) : 0;
    tbl_free(&t);
    return rc;
}

static int table3(const ReportExperiment *exps, int n_exps, const PaperTables *paper, const char *out_dir,
                  ReportTally *tally, Error *err)
{
    const char *hdr[6] = {"dataset", "category", CAT_LABELS[0], CAT_LABELS[1], CAT_LABELS[2], CAT_LABELS[3]};
    Table t;
    tbl_init(&t, "Table 3: WinCLIP zero-shot per category", 6, hdr);
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
                copy_str(cells[0], sizeof cells[0], dataset_label(last_ds));
                copy_str(cells[1], sizeof cells[1], "**mean**");
                for (int m = 0; m < 4; m++) {
                    double pv;
                    int unv = 0;
                    double mean = report_category_mean(e, last_ds, 0, 0, CAT_METRICS[m], NULL);
                    int have = report_paper_category(paper, last_ds, "mean", CAT_METRICS[m], &pv, &unv);
                    compare_cell(cells[2 + m], sizeof cells[2 + m], mean, NULL, have, pv, NULL, unv, NULL, NULL);
                }
                tbl_row(&t, ptrs);
            }
            if (!u) break;
            last_ds = u->dataset;
            copy_str(cells[0], sizeof cells[0], dataset_label(u->dataset));
            copy_str(cells[1], sizeof cells[1], u->category);
            for (int m = 0; m < 4; m++) {
                double pv;
                int unv = 0;
                char what[200];
                snprintf(what, sizeof what, "table3 %s %s %s", dataset_label(u->dataset), u->category, CAT_LABELS[m]);
                int have = report_paper_category(paper, u->dataset, u->category, CAT_METRICS[m], &pv, &unv);
                compare_cell(cells[2 + m], sizeof cells[2 + m], results_metric_get(&u->m, CAT_METRICS[m]), NULL, have, pv,
                             NULL, unv, tally, what);
            }
            tbl_row(&t, ptrs);
        }
    }
    copy_str(t.notes, sizeof t.notes, UNVERIFIED_NOTE);
    int rc = t.n_rows ? tbl_write(&t, out_dir, "table3_per_category", err) : 0;
    tbl_free(&t);
    return rc;
}

/* Table 4: one row per ablation experiment: zero-shot (or the first K) i-AUROC and p-AUROC means
 * per dataset, and the paper's number for that (ablation, variant) when it has one. Delta-kind
 * paper rows are compared with ours minus the group's `full` variant. */
static int table4(const ReportExperiment *exps, int n_exps, const PaperTables *paper, const char *out_dir,
                  ReportTally *tally, Error *err)
{
    const char *hdr[8] = {"ablation", "variant", "dataset", "K", "i-AUROC", "p-AUROC", "paper", "ours vs paper"};
    Table t;
    tbl_init(&t, "Table 4: ablations (paper numbers all UNVERIFIED, S1)", 8, hdr);
    char cells[8][160];
    char *ptrs[8];
    for (int c = 0; c < 8; c++) ptrs[c] = cells[c];
    const Tsv *ab = &paper->ablations;
    for (int x = 0; x < n_exps; x++) {
        const ReportExperiment *e = &exps[x];
        if (strcmp(e->table, "ablation") != 0) continue;
        DsK dk[64];
        int n_dk = dataset_ks(e, dk, 64);
        for (int p = 0; p < n_dk; p++) {
            copy_str(cells[0], sizeof cells[0], e->ablation[0] ? e->ablation : "-");
            copy_str(cells[1], sizeof cells[1], e->variant);
            copy_str(cells[2], sizeof cells[2], dataset_label(dk[p].dataset));
            snprintf(cells[3], sizeof cells[3], "%d", dk[p].k);
            double ours[2], sd;
            const char *mm[2] = {"image_auroc", "pixel_auroc"};
            for (int m = 0; m < 2; m++) {
                report_seed_stats(e, dk[p].dataset, dk[p].k, mm[m], &ours[m], &sd);
                if (dk[p].k == 0) ours[m] = report_category_mean(e, dk[p].dataset, 0, 0, mm[m], NULL);
                report_pct(cells[4 + m], sizeof cells[4 + m], ours[m]);
            }
            const char *names[] = {"ablation", "variant", "dataset"};
            const char *values[] = {e->ablation, e->variant, dk[p].dataset};
            int r = tsv_find(ab, 3, names, values);
            copy_str(cells[6], sizeof cells[6], "–");
            copy_str(cells[7], sizeof cells[7], "–");
            if (r >= 0) {
                const char *metric = ab->rows[r][tsv_col(ab, "metric")];
                int delta = strcmp(ab->rows[r][tsv_col(ab, "kind")], "delta") == 0;
                double pv = cell_num(ab, r, "value");
                int mi = strcmp(metric, "pixel_auroc") == 0;
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
            tbl_row(&t, ptrs);
        }
    }
    copy_str(t.notes, sizeof t.notes,
             "`*` = UNVERIFIED paper value (S1). Δ rows compare the change vs the group's `full` variant. "
             "The paper's ablation table layout is unknown (winclip.md §10.4).");
    int rc = t.n_rows ? tbl_write(&t, out_dir, "table4_ablations", err) : 0;
    tbl_free(&t);
    return rc;
}

/* Table 5: presets vs the public reproduction each preset mimics (public_reproductions.tsv
 * rows with the same `preset` and K) and vs the paper. */
static int table5(const ReportExperiment *exps, int n_exps, const PaperTables *paper, const char *out_dir,
                  ReportTally *tally, Error *err)
{
    const char *hdr[2 + REPORT_N_MAIN] = {"preset", "dataset / K"};
    for (int m = 0; m < REPORT_N_MAIN; m++) hdr[2 + m] = REPORT_MAIN_LABELS[m];
    Table t;
    tbl_init(&t, "Table 5: variant presets: ours (reproduction or paper value, difference)", 2 + REPORT_N_MAIN, hdr);
    char cells[2 + REPORT_N_MAIN][160];
    char *ptrs[2 + REPORT_N_MAIN];
    for (int c = 0; c < 2 + REPORT_N_MAIN; c++) ptrs[c] = cells[c];
    const Tsv *rp = &paper->reproductions;
    for (int x = 0; x < n_exps; x++) {
        const ReportExperiment *e = &exps[x];
        if (strcmp(e->table, "preset") != 0) continue;
        DsK dk[64];
        int n_dk = dataset_ks(e, dk, 64);
        for (int p = 0; p < n_dk; p++) {
            snprintf(cells[0], sizeof cells[0], "%s", e->preset[0] ? e->preset : e->name);
            snprintf(cells[1], sizeof cells[1], "%s / %d", dataset_label(dk[p].dataset), dk[p].k);
            char kbuf[16];
            snprintf(kbuf, sizeof kbuf, "%d", dk[p].k);
            for (int m = 0; m < REPORT_N_MAIN; m++) {
                double mean, sd;
                report_seed_stats(e, dk[p].dataset, dk[p].k, REPORT_MAIN_METRICS[m], &mean, &sd);
                if (dk[p].k == 0) mean = report_category_mean(e, dk[p].dataset, 0, 0, REPORT_MAIN_METRICS[m], NULL);
                double pv = NAN;
                int unv = 0, have = 0;
                const char *label = "";
                if (strcmp(e->preset, "paper") == 0) {
                    have = report_paper_mean(paper, dk[p].dataset, dk[p].k, REPORT_MAIN_METRICS[m], &pv, NULL, &unv);
                } else {
                    const char *names[] = {"preset", "k", "dataset", "metric"};
                    const char *values[] = {e->preset, kbuf, dk[p].dataset, REPORT_MAIN_METRICS[m]};
                    int r = tsv_find(rp, 4, names, values);
                    if (r >= 0) {
                        pv = cell_num(rp, r, "value");
                        have = !isnan(pv);
                        label = rp->rows[r][tsv_col(rp, "reproduction")];
                    }
                }
                char what[160];
                snprintf(what, sizeof what, "table5 %s %s K=%d %s", e->preset, dataset_label(dk[p].dataset), dk[p].k,
                         REPORT_MAIN_LABELS[m]);
                compare_cell(cells[2 + m], sizeof cells[2 + m], mean, NULL, have, pv, NULL, unv, tally, what);
                if (have && label[0]) {
                    size_t len = strlen(cells[2 + m]);
                    snprintf(cells[2 + m] + len, sizeof cells[2 + m] - len, " %s", label);
                }
            }
            tbl_row(&t, ptrs);
        }
    }
    copy_str(t.notes, sizeof t.notes,
             "anomalib/mala presets are compared with the public reproduction they mimic (letter after the cell, "
             "winclip.md §11); the paper preset with the paper (`*` = UNVERIFIED).");
    int rc = t.n_rows ? tbl_write(&t, out_dir, "table5_presets", err) : 0;
    tbl_free(&t);
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
