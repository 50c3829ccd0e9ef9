/*
 * cmd_score.c - `winclip score`: WinCLIP / WinCLIP+ scores and maps for a list of images.
 *
 * Does: parse options and method settings (--config through config.h, --set overrides), expand
 * folders and image lists and decode every input before any compute (harness/score_io.h), run
 * pipeline.c on every image in the order given, print `PATH<TAB>score`, optionally write every
 * map to an HDF5 file and a heat-map overlay PNG per image; with --out DIR: scores.csv (with a
 * decision column under a threshold given or taken from a run), threshold.txt, overlays/ and
 * with --masks the binary anomaly masks.
 * Does not: compute metrics or walk datasets (`winclip run`).
 * Reference: shared/spec/winclip.md §7; conventions.md §2.13 (configs).
 */
#define _POSIX_C_SOURCE 200809L /* open_memstream */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "harness/config.h"
#include "util/fsutil.h"
#include "util/h5.h"
#include "winclip/pipeline.h"
#include "harness/overlay.h"
#include "harness/results.h"
#include "harness/score_io.h"
#include "winclip/winclip.h"

extern const Command cmd_score;

typedef struct {
    const char *model, *category, *config, *maps_out, *png_dir, *cache;
    const char *out_dir, *threshold, *pixel_threshold, *threshold_from;
    int masks;          /* --masks: DIR/masks/NNNN_<name>.png (needs a pixel threshold) */
    int timings;        /* --timings: per-stage seconds to stderr at the end */
    const char **refs;  /* (n_refs) */
    int n_refs, max_refs;
    char *run_refs;     /* --threshold-from a K > 0 unit: its references.txt (refs point into it) */
    const char **sets;  /* (n_sets) "key=value" */
    int n_sets;
    const char **args;   /* (n_args) FOLDER | LIST | IMAGE as given */
    int n_args;
    const char **images; /* (n_images) the expanded inputs (image_list owns them) */
    int n_images;
    char **image_list;
    size_t n_image_list;
    ScoreThresholds thr;
} ScoreArgs;

/* ---- settings from --config / --set ---- */

/* Apply every config entry to s. class_name.<category> entries (per-category overrides of a
 * dataset config) apply when <category> is this run's class. Returns 0 or ERR_USAGE. */
static int apply_config(Config *cfg, WinclipSettings *s, const char *category, int *k_shot_set,
                        Error *err)
{
    int n_keys = 0;
    const char *const *keys = winclip_settings_keys(&n_keys);
    for (int i = 0; i < n_keys; i++) config_declare(cfg, keys[i]);
    for (size_t i = 0; i < cfg->count; i++) {
        const ConfigEntry *e = &cfg->entries[i];
        if (strncmp(e->key, "class_name.", 11) == 0) {
            config_mark_used(cfg, e->key);
            if (strcmp(e->key + 11, category) != 0) continue;
        }
        const char *key = strncmp(e->key, "class_name.", 11) == 0 ? "class_name" : e->key;
        int rc = winclip_settings_set(s, key, e->value, err);
        if (rc == ERR_MISSING) continue; /* reported below, with the known keys */
        if (rc != 0) return err_prefixf(err, "%s: ", e->origin), err->code = ERR_USAGE;
        config_mark_used(cfg, e->key);
        if (strcmp(key, "k_shot") == 0) *k_shot_set = 1;
    }
    if (config_check_unused(cfg, err) != 0) return err->code = ERR_USAGE;
    return 0;
}

/* ---- heat-map overlay ---- */

/* PNG via overlay_write (heat map over the image, colour bar with the range): the range is
 * min..max of this map. Returns 0 or an error; *lo / *hi get the range. */
static int write_overlay(const Pipeline *p, const char *image_path, const WinclipMaps *m,
                         const char *png_path, double *lo, double *hi, Error *err)
{
    size_t n = (size_t)m->out_w * (size_t)m->out_h;
    float mn = m->map[0], mx = m->map[0];
    for (size_t i = 0; i < n; i++) {
        mn = fminf(mn, m->map[i]);
        mx = fmaxf(mx, m->map[i]);
    }
    *lo = mn;
    *hi = mx;
    return overlay_write(p, image_path, m->map, NULL, m->out_w, m->out_h, mn, mx, png_path, err);
}

/* ---- --maps-out ---- */

static int write_map(H5File *f, const char *group, const char *name, const float *data, int rank,
                     int64_t d0, int64_t d1, Error *err)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", group, name);
    int64_t dims[2] = {d0, d1};
    return h5_write_f32(f, path, data, rank, dims, err);
}

static int write_image_maps(H5File *f, int index, const WinclipMaps *m, Error *err)
{
    const int G = m->geom.grid;
    char g[64], sub[96], name[32];
    snprintf(g, sizeof g, "/images/%d", index);
    int rc = write_map(f, g, "map15", m->map15, 2, G, G, err);
    if (rc == 0) rc = write_map(f, g, "map", m->map, 2, m->out_h, m->out_w, err);
    snprintf(sub, sizeof sub, "%s/zero_shot", g);
    double cosv[2] = {m->image_cos[0], m->image_cos[1]};
    int64_t two = 2;
    char path[160];
    snprintf(path, sizeof path, "%s/image_cos", sub);
    if (rc == 0) rc = h5_write_f64(f, path, cosv, 1, &two, err);
    snprintf(path, sizeof path, "%s/a0", sub);
    if (rc == 0) rc = h5_write_f64(f, path, &m->a0, 0, NULL, err);
    if (rc == 0) rc = write_map(f, sub, "M0", m->m0, 2, G, G, err);
    for (int s = 0; s < m->geom.n_scales && rc == 0; s++) {
        snprintf(name, sizeof name, "M%d", m->geom.scales[s]);
        rc = write_map(f, sub, name, m->zs_scale_maps[s], 2, G, G, err);
        snprintf(name, sizeof name, "window_scores_k%d", m->geom.scales[s]);
        if (rc == 0) rc = write_map(f, sub, name, m->window_scores[s], 1, m->n_windows[s], 0, err);
    }
    if (m->k_shot > 0) {
        snprintf(sub, sizeof sub, "%s/few_shot", g);
        if (rc == 0) rc = write_map(f, sub, "Mp", m->mp, 2, G, G, err);
        if (rc == 0) rc = write_map(f, sub, "Mvision", m->mfs, 2, G, G, err);
        for (int s = 0; s < m->geom.n_scales && rc == 0; s++) {
            snprintf(name, sizeof name, "M%d", m->geom.scales[s]);
            rc = write_map(f, sub, name, m->fs_scale_maps[s], 2, G, G, err);
            snprintf(name, sizeof name, "window_dist_k%d", m->geom.scales[s]);
            if (rc == 0) rc = write_map(f, sub, name, m->window_dist[s], 1, m->n_windows[s], 0, err);
        }
    }
    return rc;
}

/* Root datasets and attributes once all images are scored: /scores, /paths, /maps (when every
 * map has the same size), /references, settings. */
static int write_summary(H5File *f, const ScoreArgs *a, const Pipeline *p, const double *scores,
                         const float *const *maps, const int *hw, Error *err)
{
    int64_t n = a->n_images;
    int rc = h5_write_f64(f, "/scores", scores, 1, &n, err);
    if (rc == 0) rc = h5_write_strings(f, "/paths", a->images, (size_t)a->n_images, err);
    if (rc == 0 && a->n_refs > 0) rc = h5_write_strings(f, "/references", a->refs, (size_t)a->n_refs, err);
    int same = 1;
    for (int i = 1; i < a->n_images; i++) same &= hw[2 * i] == hw[0] && hw[2 * i + 1] == hw[1];
    if (rc == 0 && same && a->n_images > 0) {
        size_t per = (size_t)hw[0] * (size_t)hw[1];
        float *all = xmalloc(per * (size_t)a->n_images * sizeof *all);
        for (int i = 0; i < a->n_images; i++) memcpy(all + per * i, maps[i], per * sizeof *all);
        int64_t dims[3] = {n, hw[0], hw[1]};
        rc = h5_write_f32(f, "/maps", all, 3, dims, err);
        free(all);
    }
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    winclip_settings_write(&p->settings, mem);
    fclose(mem);
    if (rc == 0) rc = h5_write_attr_string(f, "/", "settings", text, err);
    free(text);
    if (rc == 0) rc = h5_write_attr_string(f, "/", "class", a->category, err);
    if (rc == 0) rc = h5_write_attr_string(f, "/", "model", p->model_path, err);
    if (rc == 0) rc = h5_write_attr_string(f, "/", "weights_sha256", p->weights_sha256, err);
    if (rc == 0) rc = h5_write_attr_f64(f, "/", "k_shot", p->k_shot, err);
    if (rc == 0) rc = h5_write_attr_f64(f, "/", "tau", p->tau, err);
    return rc;
}

/* ---- main ---- */

/* A strictly parsed finite number. */
static int parse_number(const char *text, double *out)
{
    char *end = NULL;
    *out = strtod(text, &end);
    return end != text && *end == 0 && isfinite(*out);
}

/* --threshold / --pixel-threshold / --threshold-from / --masks against each other and --out. */
static int parse_thresholds(ScoreArgs *a)
{
    score_thresholds_init(&a->thr);
    if (a->threshold && a->threshold_from)
        return cli_usage_error(&cmd_score, "--threshold and --threshold-from exclude each other");
    if (a->pixel_threshold && a->threshold_from)
        return cli_usage_error(&cmd_score, "--pixel-threshold and --threshold-from exclude each other");
    if ((a->threshold || a->pixel_threshold || a->threshold_from || a->masks) && !a->out_dir)
        return cli_usage_error(&cmd_score, "--threshold, --pixel-threshold, --threshold-from and --masks need --out DIR");
    if (a->threshold && !parse_number(a->threshold, &a->thr.image))
        return cli_usage_error(&cmd_score, "--threshold '%s': expected a number (an image score)", a->threshold);
    if (a->pixel_threshold && !parse_number(a->pixel_threshold, &a->thr.pixel))
        return cli_usage_error(&cmd_score, "--pixel-threshold '%s': expected a number (a map value)", a->pixel_threshold);
    if (a->threshold || a->pixel_threshold) snprintf(a->thr.source, sizeof a->thr.source, "command line");
    if (a->masks && !a->pixel_threshold && !a->threshold_from)
        return cli_usage_error(&cmd_score, "--masks needs a pixel threshold: --pixel-threshold V or --threshold-from RUN_DIR");
    return 0;
}

static int parse_args(ScoreArgs *a, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        const char **slot = NULL;
        if (strcmp(o, "-m") == 0 || strcmp(o, "--model") == 0) slot = &a->model;
        else if (strcmp(o, "--class") == 0) slot = &a->category;
        else if (strcmp(o, "--config") == 0) slot = &a->config;
        else if (strcmp(o, "--maps-out") == 0) slot = &a->maps_out;
        else if (strcmp(o, "--png-dir") == 0) slot = &a->png_dir;
        else if (strcmp(o, "--cache") == 0) slot = &a->cache;
        else if (strcmp(o, "--out") == 0) slot = &a->out_dir;
        else if (strcmp(o, "--threshold") == 0) slot = &a->threshold;
        else if (strcmp(o, "--pixel-threshold") == 0) slot = &a->pixel_threshold;
        else if (strcmp(o, "--threshold-from") == 0) slot = &a->threshold_from;
        else if (strcmp(o, "--masks") == 0) {
            a->masks = 1;
            continue;
        } else if (strcmp(o, "--timings") == 0) {
            a->timings = 1;
            continue;
        } else if (strcmp(o, "--ref") == 0 || strcmp(o, "--set") == 0) {
            if (i + 1 >= argc) return cli_usage_error(&cmd_score, "%s needs a value", o);
            if (o[2] == 'r') a->refs[a->n_refs++] = argv[++i];
            else a->sets[a->n_sets++] = argv[++i];
            continue;
        } else if (o[0] == '-' && o[1] != '\0') {
            return cli_usage_error(&cmd_score, "unknown option %s (see winclip help score)", o);
        } else {
            a->args[a->n_args++] = o;
            continue;
        }
        if (i + 1 >= argc) return cli_usage_error(&cmd_score, "%s needs a value", o);
        *slot = argv[++i];
    }
    if (!a->model) return cli_usage_error(&cmd_score, "missing -m MODEL.h5");
    if (!a->category) return cli_usage_error(&cmd_score, "missing --class NAME");
    if (a->n_args == 0) return cli_usage_error(&cmd_score, "no images given");
    return parse_thresholds(a);
}

/* Method settings from --config / --set into s. Returns 0, or the exit status after printing
 * the error (1: the config file cannot be read; 2: usage). */
/* --threshold-from: the run's method settings (settings.txt) are the starting point (its class
 * word when --class is its category), and a K > 0 run's references (references.txt) are used when
 * no --ref is given, so the scores are those the thresholds were chosen on. */
static int adopt_run(ScoreArgs *a, WinclipSettings *s, Error *err)
{
    if (score_thresholds_from_run(&a->thr, a->threshold_from, err) != 0) return err->code;
    if (!a->thr.run_settings) return 0;
    int run_k = score_adopt_run_settings(&a->thr, a->category, s);
    if (run_k <= 0 || a->n_refs > 0) return 0;
    char *path = xasprintf("%s/references.txt", a->thr.run_dir);
    char *refs = results_read_text(path);
    if (!refs) {
        err_setf(err, ERR_MISSING, "--threshold-from: %s not found (a K = %d unit lists its references there)", path, run_k);
        free(path);
        return err->code;
    }
    free(path);
    a->run_refs = refs;
    for (char *line = strtok(refs, "\n"); line && a->n_refs < a->max_refs; line = strtok(NULL, "\n")) a->refs[a->n_refs++] = line;
    if (a->n_refs != run_k)
        return err_setf(err, ERR_FORMAT, "--threshold-from: references.txt lists %d images, the run has K = %d", a->n_refs, run_k);
    return 0;
}

static int resolve_settings(ScoreArgs *a, Config *cfg, WinclipSettings *s)
{
    Error err = {0};
    winclip_settings_default(s);
    int k_shot_set = 0;
    if (a->threshold_from && adopt_run(a, s, &err) != 0) {
        fprintf(stderr, "winclip score: %s\n", err.msg);
        return 1;
    }
    if (a->config && config_load(cfg, a->config, &err) != 0) {
        fprintf(stderr, "winclip score: %s\n", err.msg);
        return err.code == ERR_IO || err.code == ERR_MISSING ? 1 : 2;
    }
    for (int i = 0; i < a->n_sets; i++)
        if (config_set(cfg, a->sets[i], &err) != 0)
            return cli_usage_error(&cmd_score, "--set %s: %s", a->sets[i], err.msg);
    if (apply_config(cfg, s, a->category, &k_shot_set, &err) != 0) return cli_usage_error(&cmd_score, "%s", err.msg);
    if (k_shot_set && s->k_shot != a->n_refs)
        return cli_usage_error(&cmd_score, "k_shot = %d but %d --ref images given", s->k_shot, a->n_refs);
    s->k_shot = a->n_refs;
    return 0;
}

/* --png-dir: the folder and its index.tsv (header written). NULL + err on failure. */
static FILE *open_png_index(const char *png_dir, Error *err)
{
    if (fs_mkdirs(png_dir, err) != 0) return NULL;
    char ipath[1200];
    snprintf(ipath, sizeof ipath, "%s/index.tsv", png_dir);
    FILE *index = fopen(ipath, "w");
    if (!index) {
        err_setf(err, ERR_IO, "%s: cannot create", ipath);
        return NULL;
    }
    fprintf(index, "png\timage\tmap_min\tmap_max\n");
    return index;
}

/* "<dir>/<sub>/NNNN_<stem>.png" (the --png-dir naming); malloc'ed. */
static char *output_png_name(const char *dir, const char *sub, const char *image, int i)
{
    const char *base = strrchr(image, '/');
    base = base ? base + 1 : image;
    const char *dot = strrchr(base, '.');
    return xasprintf("%s/%s/%04d_%.*s.png", dir, sub, i, (int)(dot ? dot - base : (long)strlen(base)), base);
}

/* What the per-image loop keeps: scores, and with --maps-out every map and its size. */
typedef struct {
    H5File out;
    FILE *index;
    FILE *csv;        /* --out: scores.csv in memory, written atomically at the end */
    char *csv_text;
    size_t csv_len;
    double *scores; /* (n_images) */
    float **maps;   /* (n_images) kept for /maps when --maps-out */
    int *hw;        /* (n_images, 2) */
} ScoreOutputs;

/* Score image i: print PATH<TAB>score, write its maps group and overlay PNG. */
static int score_one(const ScoreArgs *a, Pipeline *p, ScoreOutputs *o, int i, Error *err)
{
    WinclipMaps m;
    if (pipeline_score(p, a->images[i], a->category, &m, err) != 0) return err->code;
    printf("%s\t%.9g\n", a->images[i], m.image_score);
    fflush(stdout);
    o->scores[i] = m.image_score;
    int rc = 0;
    if (a->maps_out) {
        rc = write_image_maps(&o->out, i, &m, err);
        size_t per = (size_t)m.out_h * (size_t)m.out_w; /* m.map belongs to the pipeline's scratch */
        o->maps[i] = xmalloc(per * sizeof *o->maps[i]);
        memcpy(o->maps[i], m.map, per * sizeof *o->maps[i]); /* kept for /maps */
        o->hw[2 * i] = m.out_h;
        o->hw[2 * i + 1] = m.out_w;
    }
    if (rc == 0 && o->csv) {
        /* float32 as in a run's scores.tsv, whose values the thresholds of --threshold-from are */
        double score32 = (double)(float)m.image_score;
        score_csv_field(o->csv, a->images[i]);
        fprintf(o->csv, ",%.9g", score32);
        if (!isnan(a->thr.image)) fprintf(o->csv, ",%s", score32 >= a->thr.image ? "anomalous" : "normal");
        fputc('\n', o->csv);
    }
    if (rc == 0 && a->masks) {
        char *png = output_png_name(a->out_dir, "masks", a->images[i], i);
        rc = score_write_mask(png, m.map, m.out_w, m.out_h, a->thr.pixel, err);
        free(png);
    }
    if (rc == 0 && a->png_dir) {
        const char *base = strrchr(a->images[i], '/');
        base = base ? base + 1 : a->images[i];
        char png[1400];
        snprintf(png, sizeof png, "%s/%04d_%.*s.png", a->png_dir, i,
                 (int)(strrchr(base, '.') ? strrchr(base, '.') - base : (long)strlen(base)), base);
        double lo, hi;
        WinclipMaps view = m;
        view.map = o->maps[i] ? o->maps[i] : m.map;
        rc = write_overlay(p, a->images[i], &view, png, &lo, &hi, err);
        if (rc == 0) fprintf(o->index, "%s\t%s\t%.9g\t%.9g\n", png, a->images[i], lo, hi);
    }
    winclip_maps_free(&m);
    return rc;
}

/* Expand FOLDER | LIST | IMAGE arguments, decode every image, read --threshold-from. */
static int prepare_inputs(ScoreArgs *a, Error *err)
{
    if (score_inputs_expand(a->args, a->n_args, &a->image_list, &a->n_image_list, err) != 0) return err->code;
    if (a->n_image_list > (size_t)1 << 24) return err_setf(err, ERR_VALUE, "%zu images: at most 16M", a->n_image_list);
    a->n_images = (int)a->n_image_list;
    a->images = xcalloc(a->n_image_list, sizeof *a->images);
    for (size_t i = 0; i < a->n_image_list; i++) a->images[i] = a->image_list[i];
    if (score_inputs_validate(a->image_list, a->n_image_list, err) != 0) return err->code;
    if (a->masks && isnan(a->thr.pixel))
        return err_setf(err, ERR_VALUE, "--masks: %s has no pixel threshold (pixel_f1_threshold n/a: a run without "
                        "masks); give --pixel-threshold V", a->threshold_from);
    return 0;
}

/* --threshold-from: the run's settings.txt must match this command's settings and model. */
static int check_run_settings(const ScoreArgs *a, const Pipeline *p, Error *err)
{
    if (!a->threshold_from) return 0;
    WinclipSettings s = p->settings;
    s.k_shot = a->n_refs;
    return score_check_run_settings(&a->thr, &s, p->weights_sha256, a->threshold_from, err);
}

/* --out: scores.csv and threshold.txt (when a threshold is set), atomically. */
static int write_out_files(const ScoreArgs *a, ScoreOutputs *o, Error *err)
{
    fflush(o->csv);
    char *path = xasprintf("%s/scores.csv", a->out_dir);
    int rc = fs_write_atomic(path, o->csv_text, o->csv_len, err);
    free(path);
    if (rc == 0 && (!isnan(a->thr.image) || !isnan(a->thr.pixel)))
        rc = score_write_threshold_file(a->out_dir, &a->thr, err);
    return rc;
}

static void print_timings(const Pipeline *p)
{
    fprintf(stderr, "timings: images %ld cache_hits %ld cache_misses %ld init %.3f load %.3f "
            "backbone %.3f text %.3f memory %.3f scoring %.3f cache %.3f seconds\n",
            p->images_scored, p->cache_hits, p->cache_misses, p->seconds_init, p->seconds_load, p->seconds_backbone,
            p->seconds_text, p->seconds_memory, p->seconds_scoring, p->seconds_cache);
    fprintf(stderr, "timings: text_cache_hits %ld text_cache_misses %ld sha256_cached %d\n", p->text_cache_hits,
            p->text_cache_misses, p->sha256_cached);
}

static int run(int argc, char **argv)
{
    ScoreArgs a = {0};
    a.refs = xcalloc((size_t)argc + 64, sizeof *a.refs);
    a.max_refs = argc + 64;
    a.sets = xcalloc((size_t)argc, sizeof *a.sets);
    a.args = xcalloc((size_t)argc, sizeof *a.args);
    char *overlay_dir = NULL;
    Error err = {0};
    Config cfg;
    config_init(&cfg);
    Pipeline p = {0};
    ScoreOutputs o = {0};
    WinclipSettings s;
    int status = parse_args(&a, argc, argv);
    if (status == 0) status = resolve_settings(&a, &cfg, &s);
    if (status != 0) goto done;

    status = 1;
    /* inputs, thresholds and outputs first: a bad input or output path fails before any compute */
    if (prepare_inputs(&a, &err) != 0) goto fail;
    if (a.out_dir) {
        if (!a.png_dir) a.png_dir = overlay_dir = xasprintf("%s/overlays", a.out_dir);
        char *masks = xasprintf("%s/masks", a.out_dir);
        int rc = fs_mkdirs(a.out_dir, &err) != 0 || (a.masks && fs_mkdirs(masks, &err) != 0);
        free(masks);
        if (rc) goto fail;
        o.csv = open_memstream(&o.csv_text, &o.csv_len);
        fprintf(o.csv, "path,score%s\n", isnan(a.thr.image) ? "" : ",decision");
    }
    if (a.maps_out && (fs_mkdirs_parent(a.maps_out, &err) != 0 || h5_create(&o.out, a.maps_out, &err) != 0)) goto fail;
    if (pipeline_init(&p, a.model, &s, &err) != 0 || (a.cache && pipeline_open_cache(&p, a.cache, &err) != 0))
        goto fail;
    if (check_run_settings(&a, &p, &err) != 0) {
        status = 2;
        goto fail;
    }
    if (pipeline_set_references(&p, a.refs, a.n_refs, &err) != 0) goto fail;
    if (a.png_dir && !(o.index = open_png_index(a.png_dir, &err))) goto fail;
    o.scores = xcalloc((size_t)a.n_images, sizeof *o.scores);
    o.maps = xcalloc((size_t)a.n_images, sizeof *o.maps);
    o.hw = xcalloc((size_t)a.n_images * 2, sizeof *o.hw);
    for (int i = 0; i < a.n_images; i++)
        if (score_one(&a, &p, &o, i, &err) != 0) goto fail;
    if (a.maps_out && write_summary(&o.out, &a, &p, o.scores, (const float *const *)o.maps, o.hw, &err) != 0)
        goto fail;
    if (o.csv && write_out_files(&a, &o, &err) != 0) goto fail;
    if (a.timings) print_timings(&p);
    status = 0;
    goto done;
fail:
    fprintf(stderr, "winclip score: %s\n", err.msg);
done:
    if (o.index) fclose(o.index);
    if (o.csv) fclose(o.csv);
    free(o.csv_text);
    free(overlay_dir);
    fs_list_free(a.image_list, a.n_image_list);
    free(a.images);
    free(a.args);
    score_thresholds_free(&a.thr);
    free(a.run_refs);
    h5_close(&o.out);
    if (status != 0 && a.maps_out && o.out.path[0]) remove(a.maps_out);
    for (int i = 0; o.maps && i < a.n_images; i++) free(o.maps[i]);
    free(o.maps);
    free(o.scores);
    free(o.hw);
    pipeline_free(&p);
    config_free(&cfg);
    free(a.refs);
    free(a.sets);
    return status;
}

#pragma GCC diagnostic ignored "-Woverlength-strings"
const Command cmd_score = {
    "score", "WinCLIP / WinCLIP+ anomaly scores and maps for images",
    "usage: winclip score -m MODEL.h5 --class NAME [--ref IMG]... [--config FILE]\n"
    "                     [--set key=value]... [--cache DIR] [--maps-out OUT.h5]\n"
    "                     [--png-dir DIR] [--timings]\n"
    "                     [--out DIR [--threshold V | --threshold-from RUN_DIR]\n"
    "                      [--pixel-threshold V] [--masks]] FOLDER|LIST|IMG...\n"
    "\n"
    "Scores every image with WinCLIP (zero-shot) or, with --ref, WinCLIP+ (K = number of --ref\n"
    "normal reference images) and prints one line per image, in the order given:\n"
    "    PATH<TAB>image_score\n"
    "image_score is ascore_0 of the full image (zero-shot) or (ascore_0 + max M_vision) / 2.\n"
    "\n"
    "Inputs: an image; a FOLDER (its .png/.jpg/.jpeg/.bmp files, sub-folders included, sorted);\n"
    "a LIST (.csv or .txt: the first field of each line is an image path relative to the list's\n"
    "folder, a `path,...` header allowed). Every image is decoded before any compute: an\n"
    "unreadable one is named and nothing is scored (exit 1). Grey or RGB, 8- or 16-bit, any size.\n"
    "\n"
    "Options:\n"
    "  -m, --model FILE   CLIP weights (HDF5, see `winclip convert`); its sha256 is computed\n"
    "                     once per file version (kept in the user cache, see below).\n"
    "  --class NAME       the object class; the prompt word is NAME with '_' -> ' ' unless\n"
    "                     class_name (or class_name.NAME) is set.\n"
    "  --ref IMG          a normal reference image (repeat for K > 1).\n"
    "  --config FILE      `key = value` file (include = other.conf allowed; later keys win).\n"
    "  --set key=value    override one key (repeatable, applied after --config).\n"
    "  --cache DIR        per-image feature cache folder (created if missing): one file per\n"
    "                     image and component (full image, each window scale), in a subfolder\n"
    "                     per weights + pre-processing; validated when read (README: Cache).\n"
    "  --maps-out FILE    write every map to HDF5 (layout below).\n"
    "  --png-dir DIR      write DIR/NNNN_<name>.png: the image (as the model saw it, at the map\n"
    "                     size) blended with the map in a jet colormap scaled from this map's\n"
    "                     minimum to maximum, colour bar on the right (max at the top);\n"
    "                     DIR/index.tsv lists png, image, map_min, map_max.\n"
    "  --out DIR          write DIR/scores.csv (path,score[,decision]), DIR/overlays/ (as\n"
    "                     --png-dir, unless given) and, with a threshold, DIR/threshold.txt\n"
    "                     (the thresholds used, their source and the rule).\n"
    "  --threshold V      decision = anomalous when score >= V, else normal (scores.csv holds\n"
    "                     the score as float32, as a run's scores.tsv, and decides on it).\n"
    "  --threshold-from RUN_DIR   the F1-max thresholds of a finished unit of `winclip run`\n"
    "                     (RUN_DIR/metrics.tsv: image_f1_threshold, pixel_f1_threshold), e.g.\n"
    "                     results/E/custom/widget/k0. Its settings.txt is the starting point\n"
    "                     of the method settings (then --config, --set), a K > 0 unit's\n"
    "                     references.txt gives the --ref images when none is given; the\n"
    "                     result must match the run's settings and model (else exit 2\n"
    "                     naming the keys).\n"
    "  --pixel-threshold V   map threshold of --masks (instead of the run's).\n"
    "  --masks            DIR/masks/NNNN_<name>.png: 255 where map >= the pixel threshold.\n"
    "  --timings          print seconds per stage to stderr at the end: init (model load,\n"
    "                     sha256, tokenizer), load (image decoding), backbone, text,\n"
    "                     memory, scoring, cache (feature cache I/O).\n"
    "\n"
    "Method keys (--config / --set; default first):\n"
    "  prompts = paper22 | anomalib21 | single | states | templates\n"
    "      paper22: 7 normal + 4 anomalous states x the paper's 22 templates (154 / 88);\n"
    "      anomalib21: anomalib's 21-entry list (duplicate kept, 147 / 84); single: \"a photo\n"
    "      of a {}.\" vs \"a photo of a damaged {}.\"; states: the state phrases alone;\n"
    "      templates: 22 templates with the bare class vs \"damaged {}\".\n"
    "  extra_normal_states, extra_anomalous_states = none | phrase[,phrase...]\n"
    "      added states: a phrase with {} is used as is (\"{} with bad soldering\"), words\n"
    "      without {} go before the class (\"bent\" -> \"bent {}\").\n"
    "  class_name = auto | WORDS          prompt word (auto: --class with '_' -> ' ');\n"
    "      class_name.CATEGORY = WORDS applies only when --class is CATEGORY.\n"
    "  prototypes = normalize | mean     normalise each prompt -> mean -> renormalise, or the\n"
    "      raw mean (anomalib).\n"
    "  temperature = checkpoint | NUMBER tau; checkpoint = 1 / exp(logit_scale).\n"
    "  scales = 2,3 | K[,K...] | none    window sides in patches (at most 4, ascending).\n"
    "  stride = 1 | N                    window stride in patches.\n"
    "  image_scale = true | false        the full-image score as a zero-shot scale.\n"
    "  aggregation = harmonic | mean     windows -> patches (zero-shot and few-shot).\n"
    "  fusion = harmonic | mean          across the zero-shot scales.\n"
    "  patch_tokens = ln_post | pre_ln_post   few-shot patch memory features.\n"
    "  resize = pil-bicubic | torch-bicubic-aa   geometry = squash | shortest-crop\n"
    "  image_size = model | N            must equal the model's input size.\n"
    "  output_size = 240 | original | N  side of the final map (original: image size).\n"
    "  smoothing_sigma = 0 | SIGMA       Gaussian smoothing of the final map (pixels;\n"
    "      radius int(4 sigma + 0.5), mirror padding as scipy's reflect).\n"
    "  k_shot = N                        optional; must equal the number of --ref.\n"
    "An unknown key or a bad value is an error naming the key and the allowed values.\n"
    "\n"
    "--maps-out layout (G = 15 grid, S x S map; i = image index in the order given):\n"
    "  /scores [N] f64, /paths [N] strings, /references [K] strings (K > 0),\n"
    "  /maps [N,S,S] f32 (only when all maps have one size; else use /images/i/map),\n"
    "  /images/i/map [S,S], /images/i/map15 [G,G] (final 15x15 map),\n"
    "  /images/i/zero_shot/{a0, image_cos [2], M0, M2, M3 [G,G], window_scores_k2 [196],\n"
    "                       window_scores_k3 [169]},\n"
    "  /images/i/few_shot/{Mp, M2, M3, Mvision [G,G], window_dist_k2, window_dist_k3}\n"
    "      (K > 0; M<k> are the per-scale harmonic maps of the window distances),\n"
    "  root attributes: settings (resolved key = value lines), class, model, weights_sha256,\n"
    "  k_shot, tau.\n"
    "\n"
    "Caches: text prototypes are kept on disk per (model, vocabulary, prompt tokens, prototype\n"
    "mode) in the folder of --cache FILE (FILE's folder/text), else in the user cache\n"
    "($WINCLIP_CACHE_DIR, else $XDG_CACHE_HOME/winclip, else ~/.cache/winclip; `text/` and\n"
    "`sha256/`); WINCLIP_CACHE_DIR=off turns the user cache off. A cache file that fails its\n"
    "checks is recomputed.\n"
    "\n"
    "Exit status: 0 ok, 1 runtime error (model, image, output), 2 usage / config error.\n"
    "\n"
    "Examples:\n"
    "  winclip score -m vit_b_16_plus_240_e31.h5 --class bottle test/broken_large/*.png\n"
    "  winclip score -m model.h5 --class metal_nut --ref train/good/000.png \\\n"
    "      --config configs/method/preset_anomalib.conf --set temperature=0.01 \\\n"
    "      --maps-out maps.h5 --png-dir overlays test/*/000.png\n"
    "  winclip score -m model.h5 --class widget --out scored \\\n"
    "      --threshold-from results/custom/custom/widget/k0 --masks new_images/\n",
    run};
