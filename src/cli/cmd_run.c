/*
 * cmd_run.c - `winclip run EXPERIMENT`: evaluate one experiment file into results/, resumably.
 *
 * Does: load the experiment config (includes, --set), hand method keys to winclip_settings_set
 * and read the run / dataset / model keys (unknown keys are errors); validate every category,
 * the weights (file, loadable, expected_sha256) and the vocabulary BEFORE any compute, reporting
 * every problem in one error; write results/<exp>/experiment.conf; per category, per unit
 * (k0, k<K>_s<seed>): score every test image through pipeline.c with the shared feature cache,
 * compute image + pixel metrics, write the unit files (results.h, atomic) and plots (plot.h),
 * then the `done` marker. Finished units are skipped, so an interrupted run resumes.
 * `--jobs N` forks one process per category, N at a time.
 * Does not: aggregate over categories or seeds (`winclip report`), download anything.
 * Reference: shared/spec/winclip.md §7, §9; conventions.md §2.13-§2.14; metrics.md §2 (masks).
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"
#include "harness/config.h"
#include "data/dataset.h"
#include "util/fsutil.h"
#include "util/h5.h"
#include "clip/image.h"
#include "util/json.h"
#include "eval/metrics.h"
#include "winclip/pipeline.h"
#include "harness/plot.h"
#include "util/progress.h"
#include "harness/results.h"
#include "winclip/winclip.h"

extern const Command cmd_run;

enum { OVERLAYS_PER_UNIT = 3, CURVE_POINTS = 200 };

/* Keys read by `winclip run` itself (the rest go to winclip_settings_set). */
static const char *const RUN_KEYS[] = {"k_shots",  "seeds",     "save_maps", "title",      "table",
                                       "ablation", "variant",   "preset",    "dataset",    "layout",
                                       "root",     "split_csv", "categories", "eval_size", "mask_resize",
                                       "weights",  "arch",      "source_url", "expected_sha256"};

typedef struct {
    const char *spec;        /* EXPERIMENT as given */
    const char *results;     /* results root */
    const char **only;       /* (n_only) */
    int n_only, jobs;
    const char **sets;       /* (n_sets) */
    int n_sets;
} RunArgs;

typedef struct {
    char *conf_path, *name;
    Config cfg;
    WinclipSettings settings;
    int *k_shots, n_k, *seeds, n_seeds, save_maps;
    const char *title, *table, *ablation, *variant, *preset;
    const char *dataset, *root, *split_csv, *weights, *arch, *expected_sha256;
    DatasetLayout layout;
    char **categories;
    int n_categories;
} Plan;

/* ---- growing message buffer (validation collects every problem) ---- */

typedef struct {
    char *text;
    size_t len;
    int count;
} Problems;

static void problems_add(Problems *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problems_add(Problems *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char line[2048];
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    size_t n = strlen(line);
    p->text = xrealloc(p->text, p->len + n + 4);
    memcpy(p->text + p->len, "  ", 2);
    memcpy(p->text + p->len + 2, line, n);
    p->len += n + 2;
    p->text[p->len++] = '\n';
    p->text[p->len] = '\0';
    p->count++;
}

/* ---- the experiment ---- */

static void plan_free(Plan *pl)
{
    free(pl->conf_path);
    free(pl->name);
    free(pl->k_shots);
    free(pl->seeds);
    config_list_free(pl->categories, pl->n_categories);
    config_free(&pl->cfg);
    memset(pl, 0, sizeof *pl);
}

/* EXPERIMENT: a path to a .conf file, or a name looked up as experiments/NAME.conf. */
static int resolve_experiment(Plan *pl, const char *spec, Error *err)
{
    size_t n = strlen(spec);
    if (fs_is_file(spec)) pl->conf_path = xstrdup(spec);
    else {
        char *cand = n > 5 && strcmp(spec + n - 5, ".conf") == 0 ? xasprintf("experiments/%s", spec)
                                                                  : xasprintf("experiments/%s.conf", spec);
        if (!fs_is_file(cand)) {
            err_setf(err, ERR_MISSING, "experiment '%s' not found: neither a file nor %s (see experiments/README.md)",
                     spec, cand);
            free(cand);
            return err->code;
        }
        pl->conf_path = cand;
    }
    const char *base = strrchr(pl->conf_path, '/');
    base = base ? base + 1 : pl->conf_path;
    size_t bl = strlen(base);
    if (bl > 5 && strcmp(base + bl - 5, ".conf") == 0) bl -= 5;
    pl->name = xasprintf("%.*s", (int)bl, base);
    return 0;
}

static int is_run_key(const char *key)
{
    for (size_t i = 0; i < ARRAY_LEN(RUN_KEYS); i++)
        if (strcmp(key, RUN_KEYS[i]) == 0) return 1;
    return 0;
}

/* Every key: method keys to the settings, run keys into pl, then the unknown-key check. */
static int plan_read(Plan *pl, Error *err)
{
    Config *c = &pl->cfg;
    winclip_settings_default(&pl->settings);
    int n_keys = 0;
    const char *const *keys = winclip_settings_keys(&n_keys);
    for (int i = 0; i < n_keys; i++) config_declare(c, keys[i]);
    for (size_t i = 0; i < ARRAY_LEN(RUN_KEYS); i++) config_declare(c, RUN_KEYS[i]);
    for (size_t i = 0; i < c->count; i++) {
        const ConfigEntry *e = &c->entries[i];
        if (strncmp(e->key, "class_name.", 11) == 0) {
            Error tmp = {0};
            WinclipSettings probe = pl->settings;
            if (winclip_settings_set(&probe, "class_name", e->value, &tmp) != 0)
                return err_setf(err, ERR_VALUE, "%s: %s: %s", e->origin, e->key, tmp.msg);
            config_mark_used(c, e->key);
            continue;
        }
        if (is_run_key(e->key) || strcmp(e->key, "output_size") == 0 || strcmp(e->key, "k_shot") == 0) continue;
        int rc = winclip_settings_set(&pl->settings, e->key, e->value, err);
        if (rc == ERR_MISSING) continue; /* reported by config_check_unused with the known keys */
        if (rc != 0) return err_prefixf(err, "%s: ", e->origin), err->code;
        config_mark_used(c, e->key);
    }
    int rc = 0;
    const char *eval = NULL, *mask_resize = NULL, *layout = NULL;
    if (!rc) rc = config_get_int_list(c, "k_shots", &pl->k_shots, &pl->n_k, err);
    if (!rc && config_find(c, "seeds")) rc = config_get_int_list(c, "seeds", &pl->seeds, &pl->n_seeds, err);
    if (!rc && !pl->seeds) {
        pl->seeds = xcalloc(1, sizeof *pl->seeds);
        pl->n_seeds = 1;
    }
    if (!rc) rc = config_opt_bool(c, "save_maps", 0, &pl->save_maps, err);
    if (!rc) rc = config_opt_str(c, "title", pl->name, &pl->title, err);
    if (!rc) rc = config_opt_str(c, "table", "main", &pl->table, err);
    if (!rc) rc = config_opt_str(c, "ablation", "", &pl->ablation, err);
    if (!rc) rc = config_opt_str(c, "variant", "", &pl->variant, err);
    if (!rc) rc = config_opt_str(c, "preset", "", &pl->preset, err);
    if (!rc) rc = config_get_str(c, "dataset", &pl->dataset, err);
    if (!rc) rc = config_opt_str(c, "layout", "mvtec", &layout, err);
    if (!rc) rc = config_get_str(c, "root", &pl->root, err);
    if (!rc) rc = config_opt_str(c, "split_csv", "", &pl->split_csv, err);
    if (!rc) rc = config_get_list(c, "categories", &pl->categories, &pl->n_categories, err);
    if (!rc) rc = config_opt_str(c, "eval_size", "240", &eval, err);
    if (!rc) rc = config_opt_str(c, "mask_resize", "nearest", &mask_resize, err);
    if (!rc) rc = config_get_str(c, "weights", &pl->weights, err);
    if (!rc) rc = config_opt_str(c, "arch", "", &pl->arch, err);
    if (!rc) rc = config_opt_str(c, "expected_sha256", "", &pl->expected_sha256, err);
    if (!rc) (void)config_get(c, "source_url"); /* documentation for `make weights` */
    if (rc) return rc;
    if (config_find(c, "output_size"))
        return err_setf(err, ERR_USAGE, "%s: output_size is set by the dataset key eval_size in `winclip run`",
                        config_origin(c, "output_size"));
    if (config_find(c, "k_shot"))
        return err_setf(err, ERR_USAGE, "%s: k_shot is set per unit from k_shots in `winclip run`",
                        config_origin(c, "k_shot"));
    if (winclip_settings_set(&pl->settings, "output_size", eval, err) != 0)
        return err_prefixf(err, "%s: eval_size: ", config_origin(c, "eval_size")), err->code;
    if (strcmp(mask_resize, "nearest") != 0)
        return err_setf(err, ERR_VALUE, "%s: mask_resize = '%s': only 'nearest' is implemented",
                        config_origin(c, "mask_resize"), mask_resize);
    if (dataset_parse_layout(layout, &pl->layout, err) != 0)
        return err_prefixf(err, "%s: layout: ", config_origin(c, "layout")), err->code;
    if (pl->n_k == 0) return err_setf(err, ERR_VALUE, "%s: k_shots is empty", config_origin(c, "k_shots"));
    for (int i = 0; i < pl->n_k; i++)
        if (pl->k_shots[i] < 0 || pl->k_shots[i] > 64)
            return err_setf(err, ERR_VALUE, "%s: k_shots: %d is not in 0..64", config_origin(c, "k_shots"), pl->k_shots[i]);
    for (int i = 0; i < pl->n_seeds; i++)
        if (pl->seeds[i] < 0) return err_setf(err, ERR_VALUE, "%s: seeds: %d < 0", config_origin(c, "seeds"), pl->seeds[i]);
    if (pl->n_categories == 0) return err_setf(err, ERR_VALUE, "%s: categories is empty", config_origin(c, "categories"));
    if (config_check_unused(c, err) != 0) return err->code;
    return 0;
}

/* The model file's recorded safetensors hash (root attribute config -> source_sha256). */
static int model_source_sha256(const char *path, char out[65], Error *err)
{
    H5File f = {0};
    char *json = NULL;
    JsonValue root = {0};
    int rc = h5_open_read(&f, path, err);
    if (!rc) rc = h5_read_attr_string(&f, "/", "config", &json, err);
    if (!rc) rc = json_parse(&root, json, strlen(json), err);
    if (!rc) {
        const JsonValue *v = json_get(&root, "source_sha256");
        if (!v || v->type != JSON_STRING || v->length != 64)
            rc = err_setf(err, ERR_MISSING, "%s: the config attribute has no source_sha256 (not written by "
                                            "`winclip convert`?)", path);
        else memcpy(out, v->string, 65);
    }
    json_free(&root);
    free(json);
    h5_close(&f);
    return rc;
}

/* Only the --only categories, in the experiment's order; an --only name not in the list is an error. */
static int plan_restrict(Plan *pl, const RunArgs *a, Error *err)
{
    if (a->n_only == 0) return 0;
    for (int j = 0; j < a->n_only; j++) {
        int found = 0;
        for (int i = 0; i < pl->n_categories; i++) found |= strcmp(pl->categories[i], a->only[j]) == 0;
        if (!found)
            return err_setf(err, ERR_USAGE, "--only %s: not a category of %s (categories = %s)", a->only[j],
                            pl->name, config_find(&pl->cfg, "categories")->value);
    }
    int kept = 0;
    for (int i = 0; i < pl->n_categories; i++) {
        int keep = 0;
        for (int j = 0; j < a->n_only; j++) keep |= strcmp(pl->categories[i], a->only[j]) == 0;
        if (keep) pl->categories[kept++] = pl->categories[i];
        else free(pl->categories[i]);
    }
    pl->n_categories = kept;
    return 0;
}

static int load_category(const Plan *pl, const char *category, CategoryData *cd, Error *err)
{
    int rc = dataset_load(cd, pl->layout, pl->root, category, pl->split_csv[0] ? pl->split_csv : NULL, err);
    if (rc == 0) dataset_set_name(cd, pl->dataset);
    return rc;
}

/* Every problem before any compute: datasets, weights, vocabulary, sha256. On success p holds
 * the loaded pipeline. Returns 0, or 1 after printing every problem. */
static int validate(const Plan *pl, Pipeline *p)
{
    Problems pr = {0};
    int max_k = 0;
    for (int i = 0; i < pl->n_k; i++) max_k = pl->k_shots[i] > max_k ? pl->k_shots[i] : max_k;
    if (!fs_is_dir(pl->root))
        problems_add(&pr, "dataset %s: root folder %s (%s) not found: run `make datasets` (datasets/README.md) "
                          "or set root = PATH", pl->dataset, pl->root, config_origin(&pl->cfg, "root"));
    for (int i = 0; i < pl->n_categories && fs_is_dir(pl->root); i++) {
        CategoryData cd = {0};
        Error e = {0};
        if (load_category(pl, pl->categories[i], &cd, &e) != 0 || dataset_validate(&cd, &e) != 0)
            problems_add(&pr, "dataset %s, category %s: %s", pl->dataset, pl->categories[i], e.msg);
        else if ((size_t)max_k > cd.n_train)
            problems_add(&pr, "dataset %s, category %s: k_shots asks for %d references but train/good has %zu images",
                         pl->dataset, pl->categories[i], max_k, cd.n_train);
        dataset_free(&cd);
    }
    Error e = {0};
    if (!fs_is_file(pl->weights)) {
        problems_add(&pr, "weights file %s (%s) not found: run `make weights`, or set weights = PATH", pl->weights,
                     config_origin(&pl->cfg, "weights"));
    } else if (pipeline_init(p, pl->weights, &pl->settings, &e) != 0) {
        problems_add(&pr, "model %s: %s", pl->weights, e.msg);
    } else if (pl->expected_sha256[0]) {
        char have[65];
        if (model_source_sha256(pl->weights, have, &e) != 0)
            problems_add(&pr, "expected_sha256 (%s) cannot be checked: %s", config_origin(&pl->cfg, "expected_sha256"),
                         e.msg);
        else if (strcasecmp(have, pl->expected_sha256) != 0)
            problems_add(&pr, "weights %s were converted from a file with sha256 %s, but expected_sha256 = %s (%s): "
                              "wrong download or stale conversion (make weights)",
                         pl->weights, have, pl->expected_sha256, config_origin(&pl->cfg, "expected_sha256"));
    }
    if (pr.count == 0) return 0;
    fprintf(stderr, "winclip run: %s: %d problem%s found before any compute (nothing was run):\n%s", pl->name, pr.count,
            pr.count == 1 ? "" : "s", pr.text);
    free(pr.text);
    return 1;
}

/* ---- one unit ---- */

typedef struct {
    int n, h, w;
    char **paths;     /* (n) borrowed from CategoryData */
    int *labels;      /* (n) */
    float *scores;    /* (n) */
    float *maps;      /* (n, h, w) */
    uint8_t *masks;   /* (n, h, w) */
} UnitData;

static void unit_data_free(UnitData *u)
{
    free(u->paths);
    free(u->labels);
    free(u->scores);
    free(u->maps);
    free(u->masks);
    memset(u, 0, sizeof *u);
}

/* Ground truth at the map size: nearest-neighbour resize of the mask (metrics.md §2). */
static int load_mask(const Sample *s, int h, int w, uint8_t *out, Error *err)
{
    if (!s->mask_path) {
        memset(out, 0, (size_t)h * (size_t)w);
        return 0;
    }
    Mask m = {0};
    if (image_mask_load(&m, s->mask_path, err) != 0) return err->code;
    if (m.width == w && m.height == h) memcpy(out, m.data, (size_t)h * (size_t)w);
    else image_mask_resize_nearest(m.data, m.width, m.height, out, w, h);
    image_mask_free(&m);
    return 0;
}

static int score_all(Pipeline *p, const CategoryData *cd, const char *label, UnitData *u, Error *err)
{
    u->n = (int)cd->n_test;
    u->paths = xcalloc((size_t)u->n, sizeof *u->paths);
    u->labels = xcalloc((size_t)u->n, sizeof *u->labels);
    u->scores = xcalloc((size_t)u->n, sizeof *u->scores);
    Progress prog;
    progress_start(&prog, stderr, label, u->n, PROGRESS_AUTO);
    int rc = 0;
    for (int i = 0; i < u->n && rc == 0; i++) {
        const Sample *s = &cd->test[i];
        WinclipMaps m;
        memset(&m, 0, sizeof m);
        rc = pipeline_score(p, s->image_path, cd->category, &m, err);
        if (rc == 0 && i == 0) {
            u->h = m.out_h;
            u->w = m.out_w;
            size_t per = (size_t)u->h * (size_t)u->w;
            u->maps = xmalloc(per * (size_t)u->n * sizeof *u->maps);
            u->masks = xmalloc(per * (size_t)u->n);
        }
        if (rc == 0 && (m.out_h != u->h || m.out_w != u->w))
            rc = err_setf(err, ERR_SHAPE, "%s: map %dx%d differs from the first image's %dx%d: pixel metrics need one "
                                          "size per category (eval_size = original with mixed image sizes)",
                          s->image_path, m.out_w, m.out_h, u->w, u->h);
        if (rc == 0) {
            size_t per = (size_t)u->h * (size_t)u->w;
            memcpy(u->maps + per * (size_t)i, m.map, per * sizeof *u->maps);
            rc = load_mask(s, u->h, u->w, u->masks + per * (size_t)i, err);
            u->paths[i] = s->image_path;
            u->labels[i] = s->label;
            u->scores[i] = (float)m.image_score;
        }
        winclip_maps_free(&m);
        progress_update(&prog, i + 1);
    }
    progress_finish(&prog);
    return rc;
}

static int compute_metrics(const UnitData *u, MetricSet *ms, Error *err)
{
    uint8_t *lab = xmalloc((size_t)u->n);
    float *maxmap = xmalloc((size_t)u->n * sizeof *maxmap);
    size_t per = (size_t)u->h * (size_t)u->w;
    int n_anom = 0;
    for (int i = 0; i < u->n; i++) {
        lab[i] = (uint8_t)u->labels[i];
        n_anom += u->labels[i];
        float mx = u->maps[per * (size_t)i];
        for (size_t j = 1; j < per; j++) mx = fmaxf(mx, u->maps[per * (size_t)i + j]);
        maxmap[i] = mx;
    }
    ImageMetrics im, imx;
    PixelMetrics pm;
    int rc = metrics_image(u->scores, lab, (size_t)u->n, &im, err);
    if (!rc) rc = metrics_image(maxmap, lab, (size_t)u->n, &imx, err);
    if (!rc) rc = metrics_pixel(u->maps, u->masks, (size_t)u->n, u->h, u->w, 0.3, &pm, err);
    if (!rc) {
        memset(ms, 0, sizeof *ms);
        results_metric_add(ms, "image_auroc", im.auroc);
        results_metric_add(ms, "image_ap", im.ap);
        results_metric_add(ms, "image_f1max", im.f1max);
        results_metric_add(ms, "pixel_auroc", pm.auroc);
        results_metric_add(ms, "pixel_ap", pm.ap);
        results_metric_add(ms, "pixel_f1max", pm.f1max);
        results_metric_add(ms, "aupro_0.3", pm.aupro);
        results_metric_add(ms, "image_aupr_trapz", im.aupr_trapz);
        results_metric_add(ms, "pixel_aupr_trapz", pm.aupr_trapz);
        results_metric_add(ms, "aupro_cflow200", pm.aupro_cflow200);
        results_metric_add(ms, "image_auroc_maxmap", imx.auroc);
        results_metric_add(ms, "image_f1_threshold", im.f1_threshold);
        results_metric_add(ms, "pixel_f1_threshold", pm.f1_threshold);
        results_metric_add(ms, "n_images", u->n);
        results_metric_add(ms, "n_anomalous", n_anom);
        results_metric_add(ms, "map_height", u->h);
        results_metric_add(ms, "map_width", u->w);
    }
    free(lab);
    free(maxmap);
    return rc;
}

/* roc.png (image + pixel ROC) and pr.png in the unit folder. */
static int write_curves(const char *dir, const char *title, const UnitData *u, int *skipped, Error *err)
{
    double *sc = xmalloc((size_t)u->n * sizeof *sc);
    uint8_t *lab = xmalloc((size_t)u->n);
    for (int i = 0; i < u->n; i++) {
        sc[i] = u->scores[i];
        lab[i] = (uint8_t)u->labels[i];
    }
    int rc = 0;
    for (int kind = 0; kind < 2 && rc == 0; kind++) {
        Curve ci = {0}, cp = {0};
        rc = metrics_image_curve(sc, lab, (size_t)u->n, (CurveKind)kind, CURVE_POINTS, &ci, err);
        if (!rc) rc = metrics_pixel_curve(u->maps, u->masks, (size_t)u->n, u->h, u->w, (CurveKind)kind, CURVE_POINTS,
                                          &cp, err);
        if (!rc) {
            PlotSeries s[2] = {{"image", (int)ci.n, ci.x, ci.y}, {"pixel", (int)cp.n, cp.x, cp.y}};
            char *stem = xasprintf("%s/%s", dir, kind == CURVE_ROC ? "roc" : "pr");
            char *t = xasprintf("%s: %s", title, kind == CURVE_ROC ? "ROC" : "precision-recall");
            rc = kind == CURVE_ROC ? plot_curves(stem, t, "false positive rate", "true positive rate", s, 2, 1, skipped, err)
                                   : plot_curves(stem, t, "recall", "precision", s, 2, 0, skipped, err);
            free(stem);
            free(t);
        }
        metrics_curve_free(&ci);
        metrics_curve_free(&cp);
    }
    free(sc);
    free(lab);
    return rc;
}

/* overlays/<defect>_<stem>.png for the first anomalous images and the first normal one; colour
 * range = min..max over every map of the unit so the overlays compare. The image is squashed
 * to the map size (the map covers the whole image with geometry = squash). */
static int write_overlays(const char *dir, const CategoryData *cd, const UnitData *u, Error *err)
{
    size_t per = (size_t)u->h * (size_t)u->w;
    float lo = u->maps[0], hi = u->maps[0];
    for (size_t j = 0; j < per * (size_t)u->n; j++) {
        lo = fminf(lo, u->maps[j]);
        hi = fmaxf(hi, u->maps[j]);
    }
    int picked[OVERLAYS_PER_UNIT], n_picked = 0;
    for (int want = 1; want >= 0; want--)
        for (int i = 0; i < u->n && n_picked < (want ? OVERLAYS_PER_UNIT - 1 : OVERLAYS_PER_UNIT); i++)
            if (u->labels[i] == want) {
                picked[n_picked++] = i;
                if (!want) break;
            }
    char *odir = xasprintf("%s/overlays", dir);
    int rc = fs_mkdirs(odir, err);
    uint8_t *rgb = xmalloc(per * 3);
    for (int k = 0; k < n_picked && rc == 0; k++) {
        const Sample *s = &cd->test[picked[k]];
        Image img = {0};
        rc = image_load(&img, s->image_path, err);
        if (rc) break;
        image_resize_pil_bicubic(img.rgb, img.width, img.height, 3, rgb, u->w, u->h);
        image_free(&img);
        char *name = xstrdup(s->name);
        for (char *c = name; *c; c++)
            if (*c == '/') *c = '_';
        char *png = xasprintf("%s/%s.png", odir, name);
        rc = plot_overlay(png, rgb, u->maps + per * (size_t)picked[k], u->masks + per * (size_t)picked[k], u->w, u->h,
                          lo, hi, err);
        free(png);
        free(name);
    }
    free(rgb);
    free(odir);
    return rc;
}

/* The unit's resolved config: every experiment key plus what the unit fixed. */
static void unit_config(const Plan *pl, const char *category, const char *class_word, int k, int seed, Config *out)
{
    config_init(out);
    for (size_t i = 0; i < pl->cfg.count; i++)
        config_put(out, pl->cfg.entries[i].key, pl->cfg.entries[i].value, pl->cfg.entries[i].origin);
    char buf[32];
    config_put(out, "unit.category", category, "(winclip run)");
    config_put(out, "unit.class_word", class_word, "(winclip run)");
    snprintf(buf, sizeof buf, "%d", k);
    config_put(out, "unit.k_shot", buf, "(winclip run)");
    snprintf(buf, sizeof buf, "%d", k > 0 ? seed : 0);
    config_put(out, "unit.seed", buf, "(winclip run)");
}

static int run_unit(const Plan *pl, const char *results, Pipeline *p, const CategoryData *cd, int k, int seed,
                    int *plots_skipped, Error *err)
{
    char *dir = results_unit_dir(results, pl->name, pl->dataset, cd->category, k, seed);
    if (results_is_done(dir)) {
        fprintf(stderr, "winclip run: %s: done, skipped\n", dir);
        free(dir);
        return 0;
    }
    double t0 = time_now();
    size_t *idx = xcalloc((size_t)(k > 0 ? k : 1), sizeof *idx);
    const char **refs = xcalloc((size_t)(k > 0 ? k : 1), sizeof *refs);
    UnitData u = {0};
    Config ucfg;
    char class_word[256];
    winclip_settings_class_name(&p->settings, cd->category, class_word, sizeof class_word);
    unit_config(pl, cd->category, class_word, k, seed, &ucfg);
    int rc = k > 0 ? dataset_sample_shots(cd, seed, k, idx, err) : 0;
    for (int i = 0; i < k && rc == 0; i++) refs[i] = cd->train_good[idx[i]];
    if (!rc) rc = pipeline_set_references(p, refs, k, err);
    char label[160];
    if (k > 0) snprintf(label, sizeof label, "%s %s k%d s%d", pl->name, cd->category, k, seed);
    else snprintf(label, sizeof label, "%s %s k0", pl->name, cd->category);
    if (!rc) rc = score_all(p, cd, label, &u, err);
    MetricSet ms;
    if (!rc) rc = compute_metrics(&u, &ms, err);
    if (!rc) rc = fs_mkdirs(dir, err);
    if (!rc) rc = results_write_scores(dir, u.n, (const char *const *)u.paths, u.labels, u.scores, err);
    if (!rc) rc = results_write_metrics(dir, &ms, err);
    if (!rc) rc = results_write_config(dir, &ucfg, err);
    if (!rc) rc = results_write_references(dir, k, refs, err);
    if (!rc && pl->save_maps)
        rc = results_write_maps(dir, u.n, u.h, u.w, u.scores, u.maps, u.masks, u.labels,
                                (const char *const *)u.paths, err);
    if (!rc) rc = write_curves(dir, label, &u, plots_skipped, err);
    if (!rc) rc = write_overlays(dir, cd, &u, err);
    if (!rc) {
        char hash[65];
        config_hash(&ucfg, hash);
        Provenance pv = {pl->name, pl->dataset, cd->category, k, k > 0 ? seed : 0, pl->weights, p->weights_sha256,
                         hash, time_now() - t0};
        rc = results_write_provenance(dir, &pv, err);
    }
    if (!rc) rc = results_mark_done(dir, err);
    if (!rc)
        printf("%s  i-AUROC %.1f  p-AUROC %.1f  AUPRO %.1f  (%d images, %.1f s)\n", dir,
               100 * results_metric_get(&ms, "image_auroc"), 100 * results_metric_get(&ms, "pixel_auroc"),
               100 * results_metric_get(&ms, "aupro_0.3"), u.n, time_now() - t0);
    else err_prefixf(err, "%s: ", label);
    fflush(stdout);
    config_free(&ucfg);
    unit_data_free(&u);
    free(idx);
    free(refs);
    free(dir);
    return rc;
}

/* Every unit of one category with the shared feature cache. */
static int run_category(const Plan *pl, const char *results, Pipeline *p, const char *category, int *plots_skipped,
                        Error *err)
{
    CategoryData cd = {0};
    int rc = load_category(pl, category, &cd, err);
    /* per-category prompt word (class_name.<category>), else the experiment's class_name */
    const ConfigEntry *cn = NULL;
    char key[128];
    snprintf(key, sizeof key, "class_name.%s", category);
    cn = config_find(&pl->cfg, key);
    p->settings = pl->settings;
    if (!rc && cn) rc = winclip_settings_set(&p->settings, "class_name", cn->value, err);
    char *cache = xasprintf("%s/cache/%s_%s.h5", results, pl->dataset, category);
    if (!rc) rc = pipeline_open_cache(p, cache, err);
    free(cache);
    int has_zero = 0;
    for (int i = 0; i < pl->n_k; i++) has_zero |= pl->k_shots[i] == 0;
    if (!rc && has_zero) rc = run_unit(pl, results, p, &cd, 0, 0, plots_skipped, err);
    for (int i = 0; i < pl->n_k && !rc; i++) {
        if (pl->k_shots[i] == 0) continue;
        for (int j = 0; j < pl->n_seeds && !rc; j++)
            rc = run_unit(pl, results, p, &cd, pl->k_shots[i], pl->seeds[j], plots_skipped, err);
    }
    Error ignore = {0};
    pipeline_open_cache(p, NULL, &ignore);
    dataset_free(&cd);
    return rc;
}

/* experiment.conf: what `winclip report` files the experiment under. */
static int write_experiment_conf(const Plan *pl, const char *results, Error *err)
{
    char *dir = xasprintf("%s/%s", results, pl->name);
    int rc = fs_mkdirs(dir, err);
    if (!rc) {
        char *path = xasprintf("%s/experiment.conf", dir);
        char *text = xasprintf("# written by winclip run from %s\ntitle = \"%s\"\ntable = %s\n%s%s%s%s%s%s%s%s%s",
                               pl->conf_path, pl->title, pl->table, pl->ablation[0] ? "ablation = " : "", pl->ablation,
                               pl->ablation[0] ? "\n" : "", pl->variant[0] ? "variant = " : "", pl->variant,
                               pl->variant[0] ? "\n" : "", pl->preset[0] ? "preset = " : "", pl->preset,
                               pl->preset[0] ? "\n" : "");
        rc = fs_write_atomic(path, text, strlen(text), err);
        free(text);
        free(path);
    }
    free(dir);
    return rc;
}

/* --jobs N: one child process per category, at most N at once. Returns 0 when all succeed. */
static int run_forked(const Plan *pl, const char *results, Pipeline *p, int jobs)
{
    pid_t *pids = xcalloc((size_t)pl->n_categories, sizeof *pids);
    int running = 0, failed = 0, next = 0;
    fflush(stdout);
    fflush(stderr);
    while (next < pl->n_categories || running > 0) {
        if (next < pl->n_categories && running < jobs && !failed) {
            pid_t pid = fork();
            if (pid < 0) {
                fprintf(stderr, "winclip run: fork: %s\n", strerror(errno));
                failed = 1;
                next = pl->n_categories;
                continue;
            }
            if (pid == 0) {
                Error err = {0};
                int skipped = 0;
                int rc = run_category(pl, results, p, pl->categories[next], &skipped, &err);
                if (rc) fprintf(stderr, "winclip run: %s\n", err.msg);
                if (!rc && skipped) fprintf(stderr, "winclip run: gnuplot not found: curve plots skipped (.dat/.gp kept)\n");
                fflush(stdout);
                fflush(stderr);
                _exit(rc ? 1 : 0);
            }
            pids[next++] = pid;
            running++;
            continue;
        }
        int status = 0;
        pid_t done = wait(&status);
        if (done < 0) break;
        running--;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            for (int i = 0; i < pl->n_categories; i++)
                if (pids[i] == done) fprintf(stderr, "winclip run: category %s failed\n", pl->categories[i]);
            failed = 1;
        }
    }
    free(pids);
    return failed;
}

/* ---- main ---- */

static int parse_args(RunArgs *a, int argc, char **argv)
{
    a->results = "results";
    a->jobs = 1;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        if (strcmp(o, "--only") == 0) {
            if (i + 1 >= argc || argv[i + 1][0] == '-') return cli_usage_error(&cmd_run, "--only needs a category");
            while (i + 1 < argc && argv[i + 1][0] != '-') a->only[a->n_only++] = argv[++i];
        } else if (strcmp(o, "--jobs") == 0 || strcmp(o, "-j") == 0) {
            if (i + 1 >= argc) return cli_usage_error(&cmd_run, "%s needs a number", o);
            char *end = NULL;
            long v = strtol(argv[++i], &end, 10);
            if (!end || *end || end == argv[i] || v < 1 || v > 256)
                return cli_usage_error(&cmd_run, "--jobs '%s': expected an integer in 1..256", argv[i]);
            a->jobs = (int)v;
        } else if (strcmp(o, "--results") == 0 || strcmp(o, "--set") == 0) {
            if (i + 1 >= argc) return cli_usage_error(&cmd_run, "%s needs a value", o);
            if (o[2] == 'r') a->results = argv[++i];
            else a->sets[a->n_sets++] = argv[++i];
        } else if (o[0] == '-' && o[1]) {
            return cli_usage_error(&cmd_run, "unknown option %s (see winclip help run)", o);
        } else if (a->spec) {
            return cli_usage_error(&cmd_run, "one EXPERIMENT expected, got '%s' and '%s'", a->spec, o);
        } else {
            a->spec = o;
        }
    }
    if (!a->spec) return cli_usage_error(&cmd_run, "missing EXPERIMENT (a name in experiments/ or a .conf file)");
    return 0;
}

static int run(int argc, char **argv)
{
    RunArgs a = {0};
    a.only = xcalloc((size_t)argc, sizeof *a.only);
    a.sets = xcalloc((size_t)argc, sizeof *a.sets);
    Plan pl;
    memset(&pl, 0, sizeof pl);
    config_init(&pl.cfg);
    Pipeline p = {0};
    Error err = {0};
    int status = parse_args(&a, argc, argv);
    if (status) goto done;
    status = 1;
    if (resolve_experiment(&pl, a.spec, &err) != 0 || config_load(&pl.cfg, pl.conf_path, &err) != 0) goto fail;
    for (int i = 0; i < a.n_sets; i++)
        if (config_set(&pl.cfg, a.sets[i], &err) != 0) {
            err_prefixf(&err, "--set %s: ", a.sets[i]);
            goto fail;
        }
    if (plan_read(&pl, &err) != 0 || plan_restrict(&pl, &a, &err) != 0) {
        err_prefixf(&err, "%s: ", pl.conf_path);
        goto fail;
    }
    if (validate(&pl, &p) != 0) goto done;
    if (write_experiment_conf(&pl, a.results, &err) != 0) goto fail;
    printf("winclip run: %s: %d categor%s of %s, k_shots", pl.name, pl.n_categories, pl.n_categories == 1 ? "y" : "ies",
           pl.dataset);
    for (int i = 0; i < pl.n_k; i++) printf("%s%d", i ? "," : " ", pl.k_shots[i]);
    printf(", seeds");
    for (int i = 0; i < pl.n_seeds; i++) printf("%s%d", i ? "," : " ", pl.seeds[i]);
    printf(", weights %s -> %s/%s/\n", pl.weights, a.results, pl.name);
    fflush(stdout);
    double t0 = time_now();
    int plots_skipped = 0;
    if (a.jobs > 1 && pl.n_categories > 1) {
        if (run_forked(&pl, a.results, &p, a.jobs) != 0) goto done;
    } else {
        for (int i = 0; i < pl.n_categories; i++)
            if (run_category(&pl, a.results, &p, pl.categories[i], &plots_skipped, &err) != 0) goto fail;
        if (plots_skipped) printf("winclip run: gnuplot not found: curve plots skipped (their .dat/.gp files are kept)\n");
    }
    printf("winclip run: %s finished in %.1f s; tables: winclip report%s%s %s\n", pl.name, time_now() - t0,
           strcmp(a.results, "results") ? " --results " : "", strcmp(a.results, "results") ? a.results : "", pl.name);
    status = 0;
    goto done;
fail:
    fprintf(stderr, "winclip run: %s\n", err.msg);
done:
    pipeline_free(&p);
    plan_free(&pl);
    free(a.only);
    free(a.sets);
    return status;
}

#pragma GCC diagnostic ignored "-Woverlength-strings"
const Command cmd_run = {
    "run", "evaluate an experiment (experiments/NAME.conf) into results/, resumably",
    "usage: winclip run EXPERIMENT [--only CATEGORY...] [--jobs N] [--results DIR]\n"
    "                   [--set key=value]...\n"
    "\n"
    "EXPERIMENT is a name in experiments/ (E01_zero_shot_mvtec, demo, ...) or a path to a\n"
    ".conf file. Its keys (includes resolved, --set applied last) are: the method settings of\n"
    "`winclip help score`; the dataset keys dataset, layout, root, split_csv, categories,\n"
    "class_name.<category>, eval_size (the map side metrics use: 240 | original | N),\n"
    "mask_resize (nearest); the model keys weights, arch, source_url, expected_sha256; the run\n"
    "keys k_shots (e.g. 0,1,2,4; 0 = zero-shot WinCLIP), seeds (few-shot draws, default 0),\n"
    "save_maps (true writes maps.h5), title, table, ablation, variant, preset (how\n"
    "`winclip report` files it). An unknown key is an error naming it and the known keys.\n"
    "\n"
    "Before any compute, every category is validated (folders, images, masks, enough\n"
    "train/good images for the largest K), the weights file is loaded, the tokenizer\n"
    "vocabulary found and, when expected_sha256 is set, compared with the source_sha256 the\n"
    "converter recorded in the model file; all problems are reported at once (exit 1) and\n"
    "nothing is written.\n"
    "\n"
    "Then, per category (in the config's order) and per unit (k0 once; k<K>_s<seed> for every\n"
    "K > 0 and seed; references drawn by dataset_sample_shots, nested across K):\n"
    "  DIR/<exp>/<dataset>/<category>/<unit>/\n"
    "    scores.tsv, metrics.tsv, metrics.json   image + pixel metrics over every test image\n"
    "                                   at the eval size (masks resized nearest-neighbour)\n"
    "    config.resolved, provenance.txt, references.txt, maps.h5 (save_maps; readable by\n"
    "    `winclip metrics`), roc.png / pr.png (image and pixel curves, with .dat and .gp;\n"
    "    skipped with a note when gnuplot is missing), overlays/*.png (heat maps of a few test\n"
    "    images, ground-truth contour in white), done (written last)\n"
    "  DIR/<exp>/experiment.conf          title, table, ablation, variant, preset\n"
    "  DIR/cache/<dataset>_<category>.h5  per-image features, shared by every experiment with\n"
    "                                     the same weights and pre-processing\n"
    "Every file is written atomically; a unit with `done` is skipped, so rerunning after an\n"
    "interruption (Ctrl-C, kill, power loss) continues where it stopped and gives identical\n"
    "files. Progress (images/s, ETA) goes to stderr.\n"
    "\n"
    "Options:\n"
    "  --only CAT...     only these categories (one or more names of the experiment's list)\n"
    "  --jobs N          run N categories at once, one forked process each (default 1); each\n"
    "                    process uses its own GEMM threads: set OPENBLAS_NUM_THREADS /\n"
    "                    OMP_NUM_THREADS so that N x threads fits the cores\n"
    "  --results DIR     results root (default results)\n"
    "  --set key=value   override a key after the file (repeatable)\n"
    "\n"
    "Exit status: 0 ok, 1 config / validation / runtime error, 2 command-line usage error.\n"
    "\n"
    "Examples:\n"
    "  winclip run E01_zero_shot_mvtec --only bottle\n"
    "  winclip run E03_few_shot_mvtec --set seeds=0 --set k_shots=1\n"
    "  winclip run demo --results results/demo/runs && winclip report --results results/demo/runs demo\n",
    run};
