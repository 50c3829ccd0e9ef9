/*
 * unit_eval.c - one evaluation unit of `winclip run`: score every test image of a category,
 * compute the image + pixel metrics, write the unit folder (results.h), curves (plot.h) and
 * overlays (overlay.h), then the `done` marker.
 *
 * Reference: shared/spec/winclip.md §7, §9; metrics.md §2 (masks cut to the map's pixels and resized
 * nearest-neighbour: winclip/eval_region.h);
 * conventions.md §2.14 (atomic, resumable result folders).
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/unit_eval.h"
#include "eval/metric_table.h"
#include "eval/metrics.h"
#include "harness/overlay.h"
#include "harness/plot.h"
#include "harness/run_lock.h"
#include "util/fsutil.h"
#include "util/progress.h"
#include "util/sha256.h"
#include "winclip/dense.h"

enum { CURVE_POINTS = 200 };

void unit_eval_free(UnitEval *u)
{
    free(u->paths);
    free(u->labels);
    free(u->scores);
    free(u->maps);
    free(u->masks);
    memset(u, 0, sizeof *u);
}

int unit_eval_score(UnitEval *u, Pipeline *p, const CategoryData *cd, const char *label, Error *err)
{
    u->n = (int)cd->n_test;
    u->paths = xcalloc((size_t)u->n, sizeof *u->paths);
    u->labels = xcalloc((size_t)u->n, sizeof *u->labels);
    u->scores = xcalloc((size_t)u->n, sizeof *u->scores);
    u->has_masks = cd->has_masks;
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
            rc = eval_region_mask(&m.region, s->mask_path, u->masks + per * (size_t)i, err);
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

int unit_eval_metrics(const UnitEval *u, MetricSet *ms, Error *err)
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
    MetricValues v = {0};
    PixelMetrics pm;
    int rc = metrics_image(u->scores, lab, (size_t)u->n, &v.image, err);
    if (!rc) rc = metrics_image(maxmap, lab, (size_t)u->n, &v.image_maxmap, err);
    if (!rc && u->has_masks) rc = metrics_pixel(u->maps, u->masks, (size_t)u->n, u->h, u->w, 0.3, &pm, err);
    if (!rc && !u->has_masks) { /* no ground truth: every pixel metric is not available */
        pm.auroc = pm.ap = pm.f1max = pm.f1_threshold = pm.aupro = pm.aupr_trapz = pm.aupro_cflow200 = NAN;
        pm.n_regions = pm.n_pos_pixels = 0;
    }
    if (!rc) {
        metric_values_set_pixel(&v, &pm);
        v.n_images = u->n;
        v.n_anomalous = n_anom;
        v.map_height = u->h;
        v.map_width = u->w;
        memset(ms, 0, sizeof *ms);
        for (int m = 0; m < METRIC_COUNT; m++)
            if (METRIC_TABLE[m].flags & METRIC_UNIT) results_metric_add(ms, metric_name((MetricId)m), metric_value((MetricId)m, &v));
    }
    free(lab);
    free(maxmap);
    return rc;
}

/* roc.png (image + pixel ROC) and pr.png in the unit folder. */
int unit_eval_write_curves(const UnitEval *u, const char *dir, const char *title, int *skipped, Error *err)
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
        if (!rc && u->has_masks)
            rc = metrics_pixel_curve(u->maps, u->masks, (size_t)u->n, u->h, u->w, (CurveKind)kind, CURVE_POINTS, &cp,
                                     err);
        if (!rc) {
            PlotSeries s[2] = {{"image", (int)ci.n, ci.x, ci.y}, {"pixel", (int)cp.n, cp.x, cp.y}};
            int n_series = u->has_masks ? 2 : 1;
            char *stem = xasprintf("%s/%s", dir, kind == CURVE_ROC ? "roc" : "pr");
            char *t = xasprintf("%s: %s", title, kind == CURVE_ROC ? "ROC" : "precision-recall");
            rc = kind == CURVE_ROC
                     ? plot_curves(stem, t, "false positive rate", "true positive rate", s, n_series, 1, skipped, err)
                     : plot_curves(stem, t, "recall", "precision", s, n_series, 0, skipped, err);
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

/* Up to UNIT_OVERLAYS_EACH indices of images labelled label, by score (highest first when
 * highest, else lowest first; ties keep dataset order) into out; returns how many. */
static int pick_extremes(const UnitEval *u, int label, int highest, int *out)
{
    int n = 0;
    for (int i = 0; i < u->n; i++) {
        if (u->labels[i] != label) continue;
        int pos = n < UNIT_OVERLAYS_EACH ? n++ : UNIT_OVERLAYS_EACH;
        while (pos > 0) { /* insertion into the kept, sorted prefix */
            float prev = u->scores[out[pos - 1]];
            if (!(highest ? u->scores[i] > prev : u->scores[i] < prev)) break;
            if (pos < UNIT_OVERLAYS_EACH) out[pos] = out[pos - 1];
            pos--;
        }
        if (pos < UNIT_OVERLAYS_EACH) out[pos] = i;
    }
    return n;
}

int unit_eval_write_overlays(const UnitEval *u, const Pipeline *p, const CategoryData *cd, const char *dir,
                             Error *err)
{
    size_t per = (size_t)u->h * (size_t)u->w;
    float lo = u->maps[0], hi = u->maps[0];
    for (size_t j = 0; j < per * (size_t)u->n; j++) {
        lo = fminf(lo, u->maps[j]);
        hi = fmaxf(hi, u->maps[j]);
    }
    int picked[2 * UNIT_OVERLAYS_EACH], n_picked = 0;
    for (int want = 0; want <= 1; want++) /* normal: highest scores first; defective: lowest first */
        n_picked += pick_extremes(u, want, want == 0, picked + n_picked);
    char *odir = xasprintf("%s/overlays", dir);
    int rc = fs_mkdirs(odir, err);
    char *index = NULL; /* overlays/index.tsv: what the report page's gallery shows */
    size_t index_len = 0;
    FILE *ix = open_memstream(&index, &index_len);
    CHECK(ix != NULL);
    fprintf(ix, "png\tname\tlabel\tscore\tpath\n");
    for (int k = 0; k < n_picked && rc == 0; k++) {
        const Sample *s = &cd->test[picked[k]];
        char *name = xstrdup(s->name);
        for (char *c = name; *c; c++)
            if (*c == '/') *c = '_';
        char *png = xasprintf("%s/%s.png", odir, name);
        rc = overlay_write(p, s->image_path, u->maps + per * (size_t)picked[k],
                           u->has_masks ? u->masks + per * (size_t)picked[k] : NULL,
                           u->w, u->h, lo, hi, png, err);
        fprintf(ix, "%s.png\t%s\t%d\t%.9g\t%s\n", name, s->name, u->labels[picked[k]], u->scores[picked[k]],
                s->image_path);
        free(png);
        free(name);
    }
    fclose(ix);
    char *ipath = xasprintf("%s/index.tsv", odir);
    if (rc == 0) rc = fs_write_atomic(ipath, index, index_len, err);
    free(ipath);
    free(index);
    free(odir);
    return rc;
}

/* "DIR  i-AUROC 91.8  p-AUROC 85.1  AUPRO 64.6  (N images, S s)" on stdout. */
static void print_headline(const char *dir, const MetricSet *ms, int n, double seconds)
{
    printf("%s", dir);
    for (int m = 0; m < METRIC_COUNT; m++)
        if (METRIC_TABLE[m].headline) {
            double v = results_metric_get(ms, metric_name((MetricId)m));
            if (isnan(v)) printf("  %s n/a", METRIC_TABLE[m].headline);
            else printf("  %s %.1f", METRIC_TABLE[m].headline, 100 * v);
        }
    printf("  (%d images, %.1f s)\n", n, seconds);
}

/* The unit's resolved config: every experiment key plus what the unit fixed. */
static void unit_config(const UnitJob *job, const char *category, const char *class_word, int k, int seed, Config *out)
{
    config_init(out);
    for (size_t i = 0; i < job->cfg->count; i++)
        config_put(out, job->cfg->entries[i].key, job->cfg->entries[i].value, job->cfg->entries[i].origin);
    char buf[32];
    config_put(out, "unit.category", category, "(winclip run)");
    config_put(out, "unit.class_word", class_word, "(winclip run)");
    snprintf(buf, sizeof buf, "%d", k);
    config_put(out, "unit.k_shot", buf, "(winclip run)");
    snprintf(buf, sizeof buf, "%d", k > 0 ? seed : 0);
    config_put(out, "unit.seed", buf, "(winclip run)");
}

/* settings.txt of a unit: every value that changes its numbers, one "key = value" a line. */
static char *unit_settings_text(const UnitJob *job, const Pipeline *p, const CategoryData *cd, const char *class_word,
                                int k, int seed, const char *const *refs)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    CHECK(f != NULL);
    WinclipSettings s = p->settings;
    s.k_shot = k;
    winclip_settings_write(&s, f);
    fprintf(f, "model_sha256 = %s\ndataset = %s\ncategory = %s\nclass_word = %s\nseed = %d\nreferences = ",
            p->weights_sha256, job->dataset, cd->category, class_word, k > 0 ? seed : 0);
    for (int i = 0; i < k; i++) fprintf(f, "%s%s", i ? "," : "", fs_basename(refs[i]));
    fprintf(f, "%s\n", k > 0 ? "" : "none");
    fclose(f);
    return text;
}

/* The k references of a unit (dataset_sample_shots(seed, k)) into refs (k). */
static int draw_refs(const CategoryData *cd, int k, int seed, const char **refs, Error *err)
{
    if (k == 0) return 0;
    size_t *idx = xcalloc((size_t)k, sizeof *idx);
    int rc = dataset_sample_shots(cd, seed, k, idx, err);
    for (int i = 0; i < k && rc == 0; i++) refs[i] = cd->train_good[idx[i]];
    free(idx);
    return rc;
}

void unit_status_free(UnitStatus *st)
{
    free(st->dir);
    free(st->settings);
    free(st->why);
    free(st->refs);
    memset(st, 0, sizeof *st);
}

int unit_eval_status(UnitStatus *st, const UnitJob *job, const char *results, const Pipeline *p,
                     const CategoryData *cd, int k, int seed, Error *err)
{
    memset(st, 0, sizeof *st);
    st->dir = results_unit_dir(results, job->experiment, job->dataset, cd->category, k, seed);
    st->refs = xcalloc((size_t)(k > 0 ? k : 1), sizeof *st->refs);
    if (draw_refs(cd, k, seed, st->refs, err) != 0) return err->code;
    char class_word[256];
    winclip_settings_class_name(&p->settings, cd->category, class_word, sizeof class_word);
    st->settings = unit_settings_text(job, p, cd, class_word, k, seed, st->refs);
    sha256_hex_string(st->settings, st->hash);
    char recorded[65], why[600];
    ResultsUnitState rs = results_check_done(st->dir, recorded, why, sizeof why);
    st->state = rs == RESULTS_UNIT_NEW ? UNIT_NEW : rs == RESULTS_UNIT_BROKEN ? UNIT_BROKEN : UNIT_DONE;
    if (rs == RESULTS_UNIT_BROKEN) st->why = xstrdup(why);
    if (rs == RESULTS_UNIT_DONE && strcmp(recorded, st->hash) != 0) {
        char *path = xasprintf("%s/settings.txt", st->dir);
        char *old = results_read_text(path);
        st->why = old ? results_settings_diff(old, st->settings, NULL) : NULL;
        if (!st->why) st->why = xstrdup(old ? "settings hash differs" : "no settings.txt");
        st->state = UNIT_STALE;
        free(old);
        free(path);
    }
    return 0;
}

/* The test images a unit scores: all of cd, or for dense = tiling the fixed subset of
 * tiling_subset images (dense_subset_index: evenly spaced over the sorted list) in *sub, whose
 * test array *picked the caller frees. */
static const CategoryData *unit_images(const Pipeline *p, const CategoryData *cd, CategoryData *sub, Sample **picked)
{
    size_t n = (size_t)p->settings.tiling_subset;
    *picked = NULL;
    if (p->settings.dense != WINCLIP_DENSE_TILING || n == 0 || n >= cd->n_test) return cd;
    *sub = *cd;
    *picked = xcalloc(n, sizeof **picked);
    for (size_t i = 0; i < n; i++) (*picked)[i] = cd->test[dense_subset_index(i, cd->n_test, n)];
    sub->test = *picked;
    sub->n_test = n;
    return sub;
}

/* Pipeline time counters, to take a unit's share as a difference. */
typedef struct {
    double load, backbone, dense, scoring, cache;
    long passes, hits;
} Clocks;

static Clocks clocks_of(const Pipeline *p)
{
    Clocks c = {p->seconds_load, p->seconds_backbone, p->seconds_dense, p->seconds_scoring, p->seconds_cache,
                p->backbone_passes, p->cache_hits};
    return c;
}

/* dir/timing.tsv: milliseconds per test image of the unit (wall, and per pipeline stage), so the
 * report can show the cost of the dense variants. Not part of the metrics (it is not deterministic).
 * Backbone time is only spent on feature-cache misses (cache_hits says how many images were read
 * from the cache); the dense features (dense.h) bypass the cache and are always timed. */
static int write_timing(const char *dir, const Pipeline *p, const Clocks *c0, int n, double wall, Error *err)
{
    Clocks c1 = clocks_of(p);
    double per = n > 0 ? 1000.0 / n : 0.0;
    char *text = xasprintf("key\tvalue\ndense\t%s\nimages\t%d\nms_per_image\t%.3f\nms_per_image_load\t%.3f\n"
                           "ms_per_image_backbone\t%.3f\nms_per_image_dense\t%.3f\nms_per_image_scoring\t%.3f\n"
                           "ms_per_image_cache\t%.3f\nbackbone_passes\t%ld\ncache_hits\t%ld\n",
                           winclip_settings_dense_name(p->settings.dense), n, wall * per, (c1.load - c0->load) * per,
                           (c1.backbone - c0->backbone) * per, (c1.dense - c0->dense) * per,
                           (c1.scoring - c0->scoring) * per, (c1.cache - c0->cache) * per, c1.passes - c0->passes,
                           c1.hits - c0->hits);
    char *path = xasprintf("%s/timing.tsv", dir);
    int rc = fs_write_atomic(path, text, strlen(text), err);
    free(path);
    free(text);
    return rc;
}

/* Score, measure and write every file of a unit into dir (a fresh temp folder); `done` last. */
static int unit_compute(const UnitJob *job, const UnitStatus *st, const char *dir, Pipeline *p,
                        const CategoryData *cd, int k, int seed, int *plots_skipped, Error *err)
{
    double t0 = time_now();
    UnitEval u = {0};
    Config ucfg;
    char class_word[256];
    winclip_settings_class_name(&p->settings, cd->category, class_word, sizeof class_word);
    unit_config(job, cd->category, class_word, k, seed, &ucfg);
    int rc = pipeline_set_references(p, st->refs, k, err);
    char label[160];
    if (k > 0) snprintf(label, sizeof label, "%s %s k%d s%d", job->experiment, cd->category, k, seed);
    else snprintf(label, sizeof label, "%s %s k0", job->experiment, cd->category);
    CategoryData sub;
    Sample *picked = NULL;
    const CategoryData *images = unit_images(p, cd, &sub, &picked);
    Clocks c0 = clocks_of(p);
    double ts = time_now();
    if (!rc) rc = unit_eval_score(&u, p, images, label, err);
    double t_score = time_now() - ts;
    MetricSet ms;
    if (!rc) rc = unit_eval_metrics(&u, &ms, err);
    if (!rc) rc = fs_mkdirs(dir, err);
    if (!rc) rc = results_write_scores(dir, u.n, (const char *const *)u.paths, u.labels, u.scores, err);
    if (!rc) rc = results_write_metrics(dir, &ms, err);
    if (!rc) rc = results_write_config(dir, &ucfg, err);
    if (!rc) rc = results_write_references(dir, k, st->refs, err);
    if (!rc) {
        char *path = xasprintf("%s/settings.txt", dir);
        rc = fs_write_atomic(path, st->settings, strlen(st->settings), err);
        free(path);
    }
    if (!rc && job->save_maps)
        rc = results_write_maps(dir, u.n, u.h, u.w, u.scores, u.maps, u.masks, u.labels,
                                (const char *const *)u.paths, err);
    if (!rc) rc = unit_eval_write_curves(&u, dir, label, plots_skipped, err);
    if (!rc) rc = unit_eval_write_overlays(&u, p, images, dir, err);
    if (!rc) rc = write_timing(dir, p, &c0, u.n, t_score, err);
    if (!rc) {
        Provenance pv = {job->experiment, job->dataset, cd->category, k, k > 0 ? seed : 0, job->weights, p->weights_sha256,
                         st->hash, time_now() - t0};
        rc = results_write_provenance(dir, &pv, err);
    }
    if (!rc) rc = results_mark_done(dir, st->hash, err);
    if (!rc) rc = results_unit_commit(dir, st->dir, err);
    if (!rc) print_headline(st->dir, &ms, u.n, time_now() - t0);
    else err_prefixf(err, "%s: ", label);
    fflush(stdout);
    config_free(&ucfg);
    unit_eval_free(&u);
    free(picked);
    return rc;
}

/* Remove what a killed run left: temp folders beside the unit, temp files inside it. */
static void clean_stale_temps(const char *dir)
{
    const char *base = fs_basename(dir);
    char *parent = xasprintf("%.*s", (int)(base - dir > 1 ? base - dir - 1 : 1), base - dir > 0 ? dir : ".");
    int n = results_clean_temps(parent) + results_clean_temps(dir);
    if (n) fprintf(stderr, "winclip run: %s: removed %d temp file%s left by an interrupted run\n", dir, n, n == 1 ? "" : "s");
    free(parent);
}

/* Take the unit's lock (waiting, said so, while another process holds it), then read its state
 * again into st: another process may have finished it meanwhile. */
static int lock_unit(RunLock *lk, UnitStatus *st, const UnitJob *job, const char *results, const Pipeline *p,
                     const CategoryData *cd, int k, int seed, Error *err)
{
    char *path = run_lock_unit_path(results, job->experiment, job->dataset, cd->category, k, seed);
    char holder[160];
    int rc = run_lock_take(lk, path, 0, holder, sizeof holder, err);
    if (rc == 1) {
        fprintf(stderr, "winclip run: %s: being computed by %s: waiting for it\n", st->dir, holder);
        if (job->counts) job->counts->waited++;
        rc = run_lock_take(lk, path, 1, NULL, 0, err);
    }
    free(path);
    if (rc) return rc;
    unit_status_free(st);
    rc = unit_eval_status(st, job, results, p, cd, k, seed, err);
    if (!rc && st->state == UNIT_DONE) fprintf(stderr, "winclip run: %s: done by another process, skipped\n", st->dir);
    return rc;
}

int unit_eval_run(const UnitJob *job, const char *results, Pipeline *p, const CategoryData *cd, int k, int seed,
                  int *plots_skipped, Error *err)
{
    if (!job->keep_temps) {
        char *dir = results_unit_dir(results, job->experiment, job->dataset, cd->category, k, seed);
        clean_stale_temps(dir);
        free(dir);
    }
    UnitStatus st;
    RunLock lk = {-1};
    int rc = unit_eval_status(&st, job, results, p, cd, k, seed, err);
    if (!rc && st.state == UNIT_DONE) fprintf(stderr, "winclip run: %s: done, skipped\n", st.dir);
    else if (!rc) rc = lock_unit(&lk, &st, job, results, p, cd, k, seed, err);
    if (!rc && st.state == UNIT_STALE && !job->rerun)
        rc = err_setf(err, ERR_USAGE, "%s was computed with other settings (%s): --rerun recomputes it", st.dir, st.why);
    if (!rc && st.state == UNIT_STALE)
        fprintf(stderr, "winclip run: %s: settings changed (%s): recomputed (--rerun)\n", st.dir, st.why);
    if (!rc && st.state == UNIT_BROKEN)
        fprintf(stderr, "winclip run: %s: not intact (%s): recomputed\n", st.dir, st.why);
    if (!rc && st.state != UNIT_DONE) {
        char *tmp = results_unit_temp_dir(st.dir);
        rc = unit_compute(job, &st, tmp, p, cd, k, seed, plots_skipped, err);
        if (rc) results_remove_folder(tmp);
        free(tmp);
        if (!rc && job->counts) job->counts->computed++;
    } else if (!rc && job->counts) {
        job->counts->skipped++;
    }
    run_lock_release(&lk);
    unit_status_free(&st);
    return rc;
}
