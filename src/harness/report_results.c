/*
 * report_results.c - find an experiment's finished units under the results root and read their
 * metrics (see report_results.h).
 *
 * Reference: harness/results.h (the unit folder layout: <exp>/<dataset>/<category>/<unit>/).
 */
#include "harness/report_results.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/config.h"
#include "harness/tsv.h"
#include "util/fsutil.h"

/* Names and labels are copied into fixed buffers: truncation is intended. */
#pragma GCC diagnostic ignored "-Wformat-truncation"

static void copy_str(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
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

/* The first unit seen of each report row (dataset, k), with its settings.txt: every later unit
 * of the row must agree with it outside RESULTS_PER_UNIT_KEYS. */
typedef struct {
    char dataset[32];
    int k;
    char *dir, *settings;
} RowFirst;

typedef struct {
    RowFirst *rows;
    int n;
} RowChecks;

static void row_checks_free(RowChecks *rc)
{
    for (int i = 0; i < rc->n; i++) free(rc->rows[i].dir), free(rc->rows[i].settings);
    free(rc->rows);
    memset(rc, 0, sizeof *rc);
}

/* unit_dir's settings.txt against the first unit of its row. */
static int check_row(RowChecks *rows, const char *unit_dir, const char *dataset, int k, Error *err)
{
    char *path = xasprintf("%s/settings.txt", unit_dir);
    char *text = results_read_text(path);
    free(path);
    if (!text) text = xstrdup("");
    for (int i = 0; i < rows->n; i++) {
        RowFirst *r = &rows->rows[i];
        if (r->k != k || strcmp(r->dataset, dataset) != 0) continue;
        char *diff = results_settings_diff(r->settings, text, RESULTS_PER_UNIT_KEYS);
        int rc = 0;
        if (diff)
            rc = err_setf(err, ERR_VALUE, "%s and %s belong to one row (%s, K = %d) but were computed with different "
                          "settings (%s): recompute one with `winclip run ... --rerun`", r->dir, unit_dir, dataset, k, diff);
        free(diff);
        free(text);
        return rc;
    }
    rows->rows = xrealloc(rows->rows, (size_t)(rows->n + 1) * sizeof *rows->rows);
    RowFirst *r = &rows->rows[rows->n++];
    copy_str(r->dataset, sizeof r->dataset, dataset);
    r->k = k;
    r->dir = xstrdup(unit_dir);
    r->settings = text;
    return 0;
}

/* <unit>/timing.tsv (key, value; written by `winclip run`): its ms_per_image joins the unit's
 * metrics under that name (unless metrics.tsv has it). An absent file is not an error. */
static int read_timing(const char *unit_dir, MetricSet *m, Error *err)
{
    char *path = xasprintf("%s/timing.tsv", unit_dir);
    int rc = 0;
    if (fs_is_file(path) && isnan(results_metric_get(m, "ms_per_image"))) {
        Tsv t;
        rc = tsv_load(&t, path, err);
        if (!rc) {
            const char *names[] = {"key"};
            const char *values[] = {"ms_per_image"};
            int r = tsv_find(&t, 1, names, values);
            double v = r >= 0 ? tsv_cell_num(&t, r, "value") : NAN;
            if (r >= 0 && isnan(v))
                rc = err_setf(err, ERR_FORMAT, "%s: ms_per_image: expected a number, found '%s'", path,
                              t.rows[r][tsv_col(&t, "value")]);
            else if (r >= 0 && m->n < RESULTS_MAX_METRICS)
                results_metric_add(m, "ms_per_image", v);
            tsv_free(&t);
        }
    }
    free(path);
    return rc;
}

/* Append the finished unit unit_dir (dataset, category, k, seed) with its metrics.tsv. */
static int add_unit(ReportExperiment *e, RowChecks *rows, const char *unit_dir, const char *dataset,
                    const char *category, int k, int seed, Error *err)
{
    if (e->n_units == e->cap) {
        e->cap = e->cap ? 2 * e->cap : 64;
        e->units = xrealloc(e->units, (size_t)e->cap * sizeof *e->units);
    }
    ReportUnit *ru = &e->units[e->n_units];
    memset(ru, 0, sizeof *ru);
    copy_str(ru->dataset, sizeof ru->dataset, dataset);
    copy_str(ru->category, sizeof ru->category, category);
    ru->k = k;
    ru->seed = seed;
    char *mpath = xasprintf("%s/metrics.tsv", unit_dir);
    int rc = results_read_metrics(mpath, &ru->m, err);
    free(mpath);
    if (!rc) rc = read_timing(unit_dir, &ru->m, err);
    if (!rc) rc = check_row(rows, unit_dir, dataset, k, err);
    if (!rc) e->n_units++;
    return rc;
}

/* Every finished unit folder (k0, k<K>_s<seed> with `done`) of cat_dir; a done unit that is not
 * intact is an error naming it. */
static int scan_category(ReportExperiment *e, RowChecks *rows, const char *cat_dir, const char *dataset,
                         const char *category, Error *err)
{
    char **units = NULL;
    size_t n_units = 0;
    int rc = fs_list(cat_dir, FS_LIST_DIRS, &units, &n_units, err);
    for (size_t u = 0; u < n_units && !rc; u++) {
        int k, seed;
        if (!parse_unit_name(units[u], &k, &seed)) continue;
        char *unit_dir = xasprintf("%s/%s", cat_dir, units[u]);
        char hash[65], why[600];
        ResultsUnitState st = results_check_done(unit_dir, hash, why, sizeof why);
        if (st == RESULTS_UNIT_BROKEN)
            rc = err_setf(err, ERR_FORMAT, "unit %s is not intact (%s): `winclip run` recomputes it", unit_dir, why);
        if (st == RESULTS_UNIT_DONE) rc = add_unit(e, rows, unit_dir, dataset, category, k, seed, err);
        free(unit_dir);
    }
    fs_list_free(units, n_units);
    return rc;
}

/* <exp_dir>/<dataset>/<category>/ for every dataset and category folder. */
static int scan_experiment(ReportExperiment *e, RowChecks *rows, const char *exp_dir, Error *err)
{
    char **datasets = NULL;
    size_t n_ds = 0;
    int rc = fs_list(exp_dir, FS_LIST_DIRS, &datasets, &n_ds, err);
    for (size_t d = 0; d < n_ds && !rc; d++) {
        char *ds_dir = xasprintf("%s/%s", exp_dir, datasets[d]);
        char **cats = NULL;
        size_t n_cat = 0;
        rc = fs_list(ds_dir, FS_LIST_DIRS, &cats, &n_cat, err);
        for (size_t c = 0; c < n_cat && !rc; c++) {
            char *cat_dir = xasprintf("%s/%s", ds_dir, cats[c]);
            rc = scan_category(e, rows, cat_dir, datasets[d], cats[c], err);
            free(cat_dir);
        }
        fs_list_free(cats, n_cat);
        free(ds_dir);
    }
    fs_list_free(datasets, n_ds);
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
    if (!fs_is_dir(exp_dir)) {
        err_setf(err, ERR_MISSING, "no results for experiment '%s': folder %s does not exist (run `winclip run %s` first)",
                 e->name, exp_dir, e->name);
        free(exp_dir);
        return ERR_MISSING;
    }
    int rc = load_meta(e, exp_dir, err);
    RowChecks rows = {0};
    if (!rc) rc = scan_experiment(e, &rows, exp_dir, err);
    row_checks_free(&rows);
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
    config_free(&e->plan);
    memset(&e->plan, 0, sizeof e->plan);
    e->has_plan = 0;
}

/* The plan keys of e->plan (loaded): dataset, categories, k_shots, seeds (default one seed). */
static int plan_read(ReportExperiment *e, const char *path, Error *err)
{
    char **cats = NULL;
    int n_cat = 0, *ks = NULL, n_k = 0, *seeds = NULL, n_seeds = 1;
    const char *ds = config_get(&e->plan, "dataset");
    if (!ds || !config_find(&e->plan, "categories") || !config_find(&e->plan, "k_shots"))
        return 0; /* no plan: rows say how many units they have, never "complete" */
    int rc = config_get_list(&e->plan, "categories", &cats, &n_cat, err);
    if (!rc) rc = config_get_int_list(&e->plan, "k_shots", &ks, &n_k, err);
    if (!rc && config_find(&e->plan, "seeds")) rc = config_get_int_list(&e->plan, "seeds", &seeds, &n_seeds, err);
    if (!rc && n_k > REPORT_MAX_PLAN_K)
        rc = err_setf(err, ERR_VALUE, "%s: k_shots: %d values, at most %d expected", path, n_k, REPORT_MAX_PLAN_K);
    if (!rc) {
        copy_str(e->plan_dataset, sizeof e->plan_dataset, ds);
        e->plan_n_categories = n_cat;
        e->plan_n_seeds = n_seeds;
        e->plan_n_k = n_k;
        for (int i = 0; i < n_k; i++) e->plan_k[i] = ks[i];
        e->has_plan = ds != NULL && n_cat > 0 && n_k > 0;
    }
    if (rc) err_prefixf(err, "%s: ", path);
    config_list_free(cats, n_cat);
    free(ks);
    free(seeds);
    return rc;
}

/* The plan from the first unit's config.resolved; absent file: no plan (has_plan 0). */
static int plan_from_units(ReportExperiment *e, const char *root, Error *err)
{
    const ReportUnit *u = &e->units[0];
    char *dir = results_unit_dir(root, e->name, u->dataset, u->category, u->k, u->seed);
    char *path = xasprintf("%s/config.resolved", dir);
    int rc = 0;
    if (fs_is_file(path)) {
        rc = config_load(&e->plan, path, err);
        if (!rc) rc = plan_read(e, path, err);
    }
    free(path);
    free(dir);
    return rc;
}

int report_load_or_plan(ReportExperiment *e, const char *root, const char *experiments_dir, const char *name,
                        Error *err)
{
    int rc = report_load_experiment(e, root, name, err);
    if (rc == 0) {
        rc = plan_from_units(e, root, err);
        if (rc) report_experiment_free(e);
        return rc;
    }
    if (rc != ERR_MISSING) return rc;
    size_t len = strlen(name);
    char *conf = len > 5 && strcmp(name + len - 5, ".conf") == 0 ? xstrdup(name)
                                                                  : xasprintf("%s/%s.conf", experiments_dir, name);
    if (!fs_is_file(conf)) {
        err_setf(err, ERR_MISSING, "no results for experiment '%s' under %s and no experiment file %s", name, root, conf);
        free(conf);
        return ERR_MISSING;
    }
    memset(e, 0, sizeof *e);
    const char *slash = strrchr(conf, '/');
    const char *base = slash ? slash + 1 : conf;
    snprintf(e->name, sizeof e->name, "%.*s", (int)(strlen(base) - 5), base);
    rc = config_load(&e->plan, conf, err);
    if (!rc) {
        const char *v;
        copy_str(e->title, sizeof e->title, (v = config_get(&e->plan, "title")) ? v : e->name);
        copy_str(e->table, sizeof e->table, (v = config_get(&e->plan, "table")) ? v : "main");
        copy_str(e->ablation, sizeof e->ablation, config_get(&e->plan, "ablation"));
        copy_str(e->variant, sizeof e->variant, (v = config_get(&e->plan, "variant")) ? v : e->name);
        copy_str(e->preset, sizeof e->preset, config_get(&e->plan, "preset"));
        rc = plan_read(e, conf, err);
    }
    free(conf);
    if (rc) report_experiment_free(e);
    return rc;
}

static int plan_has_k(const ReportExperiment *e, int k)
{
    for (int i = 0; i < e->plan_n_k; i++)
        if (e->plan_k[i] == k) return 1;
    return 0;
}

ReportRunState report_row_state(const ReportExperiment *e, const char *dataset, int k, int *n_done, int *n_planned)
{
    int done = 0;
    for (int i = 0; i < e->n_units; i++) done += e->units[i].k == k && strcmp(e->units[i].dataset, dataset) == 0;
    int planned = 0;
    if (e->has_plan && strcmp(e->plan_dataset, dataset) == 0 && plan_has_k(e, k))
        planned = e->plan_n_categories * (k > 0 ? e->plan_n_seeds : 1);
    if (n_done) *n_done = done;
    if (n_planned) *n_planned = planned;
    if (done == 0) return REPORT_RUN_NOT_RUN;
    if (planned == 0) return REPORT_RUN_UNKNOWN;
    return done >= planned ? REPORT_RUN_COMPLETE : REPORT_RUN_PARTIAL;
}

ReportRunState report_row_status(const ReportExperiment *e, const char *dataset, int k, char *buf, size_t cap)
{
    int done, planned;
    ReportRunState st = report_row_state(e, dataset, k, &done, &planned);
    switch (st) {
    case REPORT_RUN_COMPLETE:
        if (k > 0)
            snprintf(buf, cap, "complete (%d categor%s x %d seed%s)", e->plan_n_categories,
                     e->plan_n_categories == 1 ? "y" : "ies", e->plan_n_seeds, e->plan_n_seeds == 1 ? "" : "s");
        else
            snprintf(buf, cap, "complete (%d categor%s)", e->plan_n_categories, e->plan_n_categories == 1 ? "y" : "ies");
        break;
    case REPORT_RUN_PARTIAL:
        snprintf(buf, cap, "PARTIAL: %d of %d units (`winclip run %s` finishes it)", done, planned, e->name);
        break;
    case REPORT_RUN_NOT_RUN:
        snprintf(buf, cap, "not run (`winclip run %s`)", e->name);
        break;
    default:
        snprintf(buf, cap, "%d units (plan unknown: no config.resolved)", done);
    }
    return st;
}
