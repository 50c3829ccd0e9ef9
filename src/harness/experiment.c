/*
 * experiment.c - one experiment of `winclip run` (see experiment.h): the .conf resolved and read
 * (method keys to winclip_settings_set, run / dataset / model keys here, unknown keys are
 * errors), every problem found before any compute, experiment.conf written, then per category
 * every unit (unit_eval.c) with the shared feature cache, optionally in forked processes.
 *
 * Reference: shared/spec/winclip.md §7, §9; conventions.md §2.13-§2.14.
 */
#define _POSIX_C_SOURCE 200809L
#include "harness/experiment.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness/results.h"
#include "harness/run_lock.h"
#include "harness/unit_eval.h"
#include "util/fsutil.h"
#include "util/h5.h"
#include "util/json.h"

/* Keys read by `winclip run` itself (the rest go to winclip_settings_set). */
static const char *const RUN_KEYS[] = {"k_shots",  "seeds",     "save_maps", "title",      "table",
                                       "ablation", "variant",   "preset",    "dataset",    "layout",
                                       "root",     "split_csv", "categories", "eval_size", "mask_resize",
                                       "weights",  "arch",      "source_url", "expected_sha256"};

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

void experiment_free(ExperimentPlan *pl)
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
int experiment_resolve(ExperimentPlan *pl, const char *spec, Error *err)
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
int experiment_read(ExperimentPlan *pl, Error *err)
{
    Config *c = &pl->cfg;
    winclip_settings_default(&pl->settings);
    int n_keys = 0;
    const char *const *keys = winclip_settings_keys(&n_keys);
    for (int i = 0; i < n_keys; i++) config_declare(c, keys[i]);
    for (size_t i = 0; i < ARRAY_LEN(RUN_KEYS); i++) config_declare(c, RUN_KEYS[i]);
    for (size_t i = 0; i < c->count; i++) {
        const ConfigEntry *e = &c->entries[i];
        const char *per_cat = strncmp(e->key, "class_name.", 11) == 0 ? "class_name"
                              : strncmp(e->key, "extra_anomalous_states.", 23) == 0 ? "extra_anomalous_states"
                                                                                   : NULL;
        if (per_cat) { /* <key>.<category>: checked here, applied by category_settings */
            Error tmp = {0};
            WinclipSettings probe = pl->settings;
            if (winclip_settings_set(&probe, per_cat, e->value, &tmp) != 0)
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
int experiment_restrict(ExperimentPlan *pl, const char *const *only, int n_only, Error *err)
{
    if (n_only == 0) return 0;
    for (int j = 0; j < n_only; j++) {
        int found = 0;
        for (int i = 0; i < pl->n_categories; i++) found |= strcmp(pl->categories[i], only[j]) == 0;
        if (!found)
            return err_setf(err, ERR_USAGE, "--only %s: not a category of %s (categories = %s)", only[j],
                            pl->name, config_find(&pl->cfg, "categories")->value);
    }
    int kept = 0;
    for (int i = 0; i < pl->n_categories; i++) {
        int keep = 0;
        for (int j = 0; j < n_only; j++) keep |= strcmp(pl->categories[i], only[j]) == 0;
        if (keep) pl->categories[kept++] = pl->categories[i];
        else free(pl->categories[i]);
    }
    pl->n_categories = kept;
    return 0;
}

int experiment_load_category(const ExperimentPlan *pl, const char *category, CategoryData *cd, Error *err)
{
    int rc = dataset_load(cd, pl->layout, pl->root, category, pl->split_csv[0] ? pl->split_csv : NULL, err);
    if (rc == 0) dataset_set_name(cd, pl->dataset);
    return rc;
}

/* Every problem before any compute: datasets, weights, vocabulary, sha256. On success p holds
 * the loaded pipeline. Returns 0, or 1 after printing every problem. */
int experiment_validate(const ExperimentPlan *pl, Pipeline *p)
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
        if (experiment_load_category(pl, pl->categories[i], &cd, &e) != 0 || dataset_validate(&cd, &e) != 0)
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

/* p->settings for category: the experiment's, with its class_name.<category> word and its
 * extra_anomalous_states.<category> words (appended to extra_anomalous_states) if any. */
static int category_settings(const ExperimentPlan *pl, Pipeline *p, const char *category, Error *err)
{
    char key[160];
    snprintf(key, sizeof key, "class_name.%s", category);
    const ConfigEntry *cn = config_find(&pl->cfg, key);
    p->settings = pl->settings;
    if (cn && winclip_settings_set(&p->settings, "class_name", cn->value, err) != 0) return err->code;
    snprintf(key, sizeof key, "extra_anomalous_states.%s", category);
    const ConfigEntry *ea = config_find(&pl->cfg, key);
    if (!ea) return 0;
    const char *general = pl->settings.extra_anomalous_states;
    char *words = general[0] ? xasprintf("%s, %s", general, ea->value) : xstrdup(ea->value);
    int rc = winclip_settings_set(&p->settings, "extra_anomalous_states", words, err);
    free(words);
    return rc;
}

/* The units of a category in run order: (k, seed) pairs into ks/seeds (n_k * n_seeds + 1). */
int experiment_category_units(const ExperimentPlan *pl, int *ks, int *seeds)
{
    int n = 0;
    for (int i = 0; i < pl->n_k; i++)
        if (pl->k_shots[i] == 0) {
            ks[n] = 0, seeds[n++] = 0;
            break;
        }
    for (int i = 0; i < pl->n_k; i++)
        for (int j = 0; j < pl->n_seeds && pl->k_shots[i] > 0; j++) ks[n] = pl->k_shots[i], seeds[n++] = pl->seeds[j];
    return n;
}

/* 1 when some unit of cd is not done (new, broken, stale): the category needs its lock and cache. */
static int category_to_compute(const UnitJob *job, const char *results, Pipeline *p,
                               const CategoryData *cd, const int *ks, const int *seeds, int n, int *to_compute,
                               Error *err)
{
    int rc = 0;
    *to_compute = 0;
    for (int i = 0; i < n && !rc && !*to_compute; i++) {
        UnitStatus st;
        rc = unit_eval_status(&st, job, results, p, cd, ks[i], seeds[i], err);
        *to_compute = !rc && st.state != UNIT_DONE;
        unit_status_free(&st);
    }
    return rc;
}

/* The category's lock: with something to compute, taken (waiting when blocking, else 1 =
 * deferred); with nothing, only tried, and job->keep_temps set when another process holds it
 * (its temp files may be live on another machine, where their pids mean nothing here). */
static int lock_category(RunLock *lk, const ExperimentPlan *pl, const char *results, const char *category,
                         int to_compute, int blocking, UnitJob *job, Error *err)
{
    char *path = run_lock_category_path(results, pl->dataset, category);
    char holder[160];
    Error ignore = {0};
    int rc = run_lock_take(lk, path, 0, holder, sizeof holder, to_compute ? err : &ignore);
    if (!to_compute) {
        job->keep_temps = rc == 1; /* an unusable lock file (read-only results): nothing is written anyway */
        rc = 0;
    } else if (rc == 1 && !blocking) {
        printf("winclip run: %s %s/%s: being computed by %s: deferred\n", pl->name, pl->dataset, category, holder);
    } else if (rc == 1) {
        printf("winclip run: %s %s/%s: being computed by %s: waiting for it\n", pl->name, pl->dataset, category,
               holder);
        fflush(stdout);
        rc = run_lock_take(lk, path, 1, NULL, 0, err);
    }
    free(path);
    return rc;
}

int experiment_run_category(const ExperimentPlan *pl, const char *results, Pipeline *p, const char *category,
                            int blocking, UnitCounts *counts, int *plots_skipped, Error *err)
{
    CategoryData cd = {0};
    int rc = experiment_load_category(pl, category, &cd, err);
    if (!rc) rc = category_settings(pl, p, category, err);
    UnitJob job = {pl->name, pl->dataset, pl->weights, &pl->cfg, pl->save_maps, pl->rerun, 0, counts};
    int *ks = xcalloc((size_t)(pl->n_k * pl->n_seeds + 1), sizeof *ks);
    int *seeds = xcalloc((size_t)(pl->n_k * pl->n_seeds + 1), sizeof *seeds);
    int n = experiment_category_units(pl, ks, seeds), to_compute = 0;
    RunLock lk = {-1};
    if (!rc) rc = category_to_compute(&job, results, p, &cd, ks, seeds, n, &to_compute, err);
    if (!rc) rc = lock_category(&lk, pl, results, category, to_compute, blocking, &job, err);
    /* the cache only when something is computed: a finished run in a read-only folder needs none */
    /* the feature cache: $WINCLIP_CACHE_DIR (the user's one cache folder, util/sha_cache.h;
     * "off" turns only the shared location off) or <results>/cache */
    const char *root = getenv("WINCLIP_CACHE_DIR");
    char *cache = root && root[0] && strcmp(root, "off") != 0 ? xasprintf("%s/%s_%s", root, pl->dataset, category)
                                  : xasprintf("%s/cache/%s_%s", results, pl->dataset, category);
    if (!rc && to_compute) rc = pipeline_open_cache(p, cache, err);
    free(cache);
    for (int i = 0; i < n && !rc; i++) rc = unit_eval_run(&job, results, p, &cd, ks[i], seeds[i], plots_skipped, err);
    free(ks);
    free(seeds);
    Error ignore = {0};
    pipeline_open_cache(p, NULL, &ignore);
    run_lock_release(&lk);
    dataset_free(&cd);
    return rc;
}

int experiment_check_stale(const ExperimentPlan *pl, const char *results, Pipeline *p)
{
    Problems pr = {0};
    UnitJob job = {pl->name, pl->dataset, pl->weights, &pl->cfg, pl->save_maps, pl->rerun, 0, NULL};
    int *ks = xcalloc((size_t)(pl->n_k * pl->n_seeds + 1), sizeof *ks);
    int *seeds = xcalloc((size_t)(pl->n_k * pl->n_seeds + 1), sizeof *seeds);
    int n = experiment_category_units(pl, ks, seeds), n_stale = 0;
    for (int c = 0; c < pl->n_categories; c++) {
        CategoryData cd = {0};
        Error e = {0};
        int rc = experiment_load_category(pl, pl->categories[c], &cd, &e);
        if (!rc) rc = category_settings(pl, p, pl->categories[c], &e);
        for (int i = 0; i < n && !rc; i++) {
            UnitStatus st;
            rc = unit_eval_status(&st, &job, results, p, &cd, ks[i], seeds[i], &e);
            if (!rc && st.state == UNIT_STALE) n_stale++;
            if (!rc && st.state == UNIT_STALE && !pl->rerun) problems_add(&pr, "%s: %s", st.dir, st.why);
            unit_status_free(&st);
        }
        if (rc) problems_add(&pr, "category %s: %s", pl->categories[c], e.msg);
        dataset_free(&cd);
    }
    free(ks);
    free(seeds);
    p->settings = pl->settings;
    if (pl->rerun && n_stale)
        printf("winclip run: %s: --rerun: %d unit%s computed with other settings will be recomputed\n", pl->name,
               n_stale, n_stale == 1 ? "" : "s");
    if (pr.count == 0) return 0;
    fprintf(stderr, "winclip run: %s: %d finished unit%s computed with other settings (nothing was run; --rerun "
                    "recomputes exactly these, or use another --results folder):\n%s",
            pl->name, pr.count, pr.count == 1 ? " was" : "s were", pr.text);
    free(pr.text);
    return 1;
}

/* experiment.conf: what `winclip report` files the experiment under. */
int experiment_write_conf(const ExperimentPlan *pl, const char *results, Error *err)
{
    char *dir = xasprintf("%s/%s", results, pl->name);
    int rc = fs_is_dir(dir) ? 0 : fs_mkdirs(dir, err);
    if (!rc) {
        char *path = xasprintf("%s/experiment.conf", dir);
        char *old = results_read_text(path);
        char *text = xasprintf("# written by winclip run from %s\ntitle = \"%s\"\ntable = %s\n%s%s%s%s%s%s%s%s%s",
                               pl->conf_path, pl->title, pl->table, pl->ablation[0] ? "ablation = " : "", pl->ablation,
                               pl->ablation[0] ? "\n" : "", pl->variant[0] ? "variant = " : "", pl->variant,
                               pl->variant[0] ? "\n" : "", pl->preset[0] ? "preset = " : "", pl->preset,
                               pl->preset[0] ? "\n" : "");
        /* unchanged: not rewritten, so a read-only results folder of a finished run still works */
        if (!old || strcmp(old, text) != 0) rc = fs_write_atomic(path, text, strlen(text), err);
        free(old);
        free(text);
        free(path);
    }
    free(dir);
    return rc;
}

/* What a forked child sends its parent when it ends (one write, under PIPE_BUF: atomic). */
typedef struct {
    long computed, skipped, waited, passes, hits, misses;
} ChildTally;

static void tally_add_pipeline(RunTally *t, const Pipeline *p)
{
    t->backbone_passes += p->backbone_passes;
    t->cache_hits += p->cache_hits;
    t->cache_misses += p->cache_misses;
}

static void run_child(const ExperimentPlan *pl, const char *results, Pipeline *p, int c, int fd)
{
    Error err = {0};
    int skipped = 0;
    UnitCounts uc = {0};
    long passes0 = p->backbone_passes, hits0 = p->cache_hits, misses0 = p->cache_misses;
    int rc = experiment_run_category(pl, results, p, pl->categories[c], 1, &uc, &skipped, &err);
    if (rc) fprintf(stderr, "winclip run: %s\n", err.msg);
    if (!rc && skipped) fprintf(stderr, "winclip run: gnuplot not found: curve plots skipped (.dat/.gp kept)\n");
    ChildTally ct = {uc.computed, uc.skipped, uc.waited, p->backbone_passes - passes0, p->cache_hits - hits0,
                     p->cache_misses - misses0};
    if (write(fd, &ct, sizeof ct) != (ssize_t)sizeof ct) fprintf(stderr, "winclip run: tally not sent\n");
    fflush(stdout);
    fflush(stderr);
    _exit(rc ? 1 : 0);
}

/* --jobs N: one child process per category (each waits for its category's lock), at most N at once. */
static int run_forked(const ExperimentPlan *pl, const char *results, Pipeline *p, int jobs, RunTally *t)
{
    pid_t *pids = xcalloc((size_t)pl->n_categories, sizeof *pids);
    int running = 0, failed = 0, next = 0, fds[2];
    if (pipe(fds) != 0) {
        fprintf(stderr, "winclip run: pipe: %s\n", strerror(errno));
        free(pids);
        return 1;
    }
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
            if (pid == 0) close(fds[0]), run_child(pl, results, p, next, fds[1]);
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
        ChildTally ct; /* the child wrote before exiting: its tally is in the pipe now */
        if (read(fds[0], &ct, sizeof ct) == (ssize_t)sizeof ct) {
            t->units.computed += ct.computed, t->units.skipped += ct.skipped, t->units.waited += ct.waited;
            t->backbone_passes += ct.passes, t->cache_hits += ct.hits, t->cache_misses += ct.misses;
        }
    }
    close(fds[0]);
    close(fds[1]);
    free(pids);
    return failed;
}

int experiment_run_all(const ExperimentPlan *pl, const char *results, Pipeline *p, int jobs, RunTally *t,
                       int *plots_skipped, Error *err)
{
    memset(t, 0, sizeof *t);
    if (jobs > 1 && pl->n_categories > 1) {
        if (run_forked(pl, results, p, jobs, t) != 0)
            return err_setf(err, ERR_INTERNAL, "%s: a category failed (see above)", pl->name);
        return 0;
    }
    int *deferred = xcalloc((size_t)pl->n_categories + 1, sizeof *deferred), rc = 0;
    for (int c = 0; c < pl->n_categories && rc >= 0; c++) {
        rc = experiment_run_category(pl, results, p, pl->categories[c], 0, &t->units, plots_skipped, err);
        deferred[c] = rc == 1;
    }
    for (int c = 0; c < pl->n_categories && rc >= 0; c++)
        if (deferred[c]) rc = experiment_run_category(pl, results, p, pl->categories[c], 1, &t->units, plots_skipped, err);
    free(deferred);
    tally_add_pipeline(t, p);
    return rc < 0 ? rc : 0;
}
