/*
 * results.h - the files one evaluation unit leaves in results/, all written atomically.
 *
 * Does: atomic file writes (temp file in the same folder + fflush + fsync + rename + fsync of
 * the folder), `scores.tsv`, `metrics.tsv` + `metrics.json`, `config.resolved`,
 * `provenance.txt`, `references.txt`, the optional `maps.h5`, and the `done` marker written
 * last so that a rerun skips finished units; reading metrics.tsv back for reports.
 * Does not: compute metrics (metrics.c) or decide the folder layout beyond results_unit_dir.
 * Reference: shared/spec/conventions.md §2.14 and §3 (results/ layout).
 *
 *     char *dir = results_unit_dir("results", "E01_zero_shot_mvtec", "mvtec", "bottle", 0, 0);
 *     if (results_is_done(dir)) skip;
 *     if (fs_mkdirs(dir, &err) || results_write_scores(dir, n, paths, labels, scores, &err) ||
 *         ... || results_mark_done(dir, &err)) goto fail;
 *     free(dir);
 */
#ifndef WINCLIP_RESULTS_H
#define WINCLIP_RESULTS_H

#include "util/base.h"
#include "harness/config.h"
#include "util/fsutil.h"

#include <stdint.h>
#include <stdio.h>

/* ---- units ---- */

/* "<root>/<experiment>/<dataset>/<category>/k0" for k_shot 0, else ".../k<K>_s<seed>"; malloc'ed. */
char *results_unit_dir(const char *root, const char *experiment, const char *dataset,
                       const char *category, int k_shot, int seed);
/* 1 when <dir>/done exists. */
int results_is_done(const char *dir);
/* Write <dir>/done (last file of a unit): "done", "settings_hash: HEX" (the sha256 of the unit's
 * settings.txt, everything that changes its numbers), then "file: SIZE SHA256 NAME" for every
 * other non-hidden file of the unit (overlays/ included). */
int results_mark_done(const char *dir, const char *settings_hash, Error *err);

/* The keys of a unit's settings.txt that legitimately differ between the units of one report
 * row (NULL-terminated): category, class_name, class_word, seed, references. */
extern const char *const RESULTS_PER_UNIT_KEYS[];

typedef enum {
    RESULTS_UNIT_NEW,    /* no done marker */
    RESULTS_UNIT_DONE,   /* done marker, every file it lists there with its size and sha256 */
    RESULTS_UNIT_BROKEN  /* done marker, but a file is missing or changed (or an old marker) */
} ResultsUnitState;

/* The state of the unit folder dir; settings_hash gets the recorded hash ("" when none), why
 * (cap bytes) says what is wrong for RESULTS_UNIT_BROKEN. */
ResultsUnitState results_check_done(const char *dir, char settings_hash[65], char *why, size_t cap);

/* A unit is computed into results_unit_temp_dir(dir) (".<unit>.<pid>.new" beside it, malloc'ed),
 * then results_unit_commit moves it over dir: an old folder is first renamed aside
 * (".<unit>.<pid>.old") and removed once the new one is in place. */
char *results_unit_temp_dir(const char *dir);
int results_unit_commit(const char *tmp_dir, const char *dir, Error *err);

/* rm -rf path (no links followed); quiet. */
void results_remove_folder(const char *path);

/* Remove the hidden temp entries ".NAME.PID.SUFFIX" of folder whose writer PID is no longer
 * running (left by kill -9); returns how many were removed. */
int results_clean_temps(const char *folder);

/* The whole text file path (NUL-terminated, malloc'ed; at most 16 MiB read), NULL when absent. */
char *results_read_text(const char *path);

/* The keys whose values differ between two "key = value" texts, as "key old -> new, ..."
 * ("(none)" for a key only one has), skipping the NULL-terminated names in skip (may be NULL);
 * malloc'ed, NULL when they agree. */
char *results_settings_diff(const char *old_text, const char *new_text, const char *const *skip);

/* ---- per-unit files ---- */

/* scores.tsv: header `path\tlabel\tscore`, one row per test image (n), score printed with
 * %.9g (round-trips float32). paths (n), labels (n) 0/1, scores (n). */
int results_write_scores(const char *dir, int n, const char *const *paths, const int *labels,
                         const float *scores, Error *err);

/* Metric names and values of one unit (metrics.md §6 names: image_auroc, image_ap, ...). */
#define RESULTS_MAX_METRICS 32
typedef struct {
    int n;
    char names[RESULTS_MAX_METRICS][40];
    double values[RESULTS_MAX_METRICS]; /* NaN where undefined */
} MetricSet;

/* Append (name, value); CHECKs the capacity. */
void results_metric_add(MetricSet *m, const char *name, double value);
/* Value of name, or NaN when absent. */
double results_metric_get(const MetricSet *m, const char *name);

/* metrics.tsv (`metric\tvalue`, %.17g, `n/a` for NaN: not available, e.g. pixel metrics without
 * masks) and metrics.json ({"name": value|null, ...}). The reader also accepts `nan` (older files). */
int results_write_metrics(const char *dir, const MetricSet *m, Error *err);
/* Parse a metrics.tsv written by results_write_metrics. ERR_FORMAT naming file:line. */
int results_read_metrics(const char *path, MetricSet *m, Error *err);

/* config.resolved: config_write_resolved of cfg. */
int results_write_config(const char *dir, const Config *cfg, Error *err);

/* references.txt: one reference image path per line (the k-shot draw); n may be 0. */
int results_write_references(const char *dir, int n, const char *const *paths, Error *err);

typedef struct {
    const char *experiment, *dataset, *category;
    int k_shot, seed;
    const char *weights_path;
    const char *weights_sha256; /* hex or NULL ("unknown") */
    const char *settings_hash;  /* config_hash of the resolved config */
    double wall_time_s;         /* this unit's compute time */
} Provenance;

/* provenance.txt, `key: value` lines: version (git describe at build), dirty (yes/no),
 * compiler, cflags, gemm backend, numerics (clip/numerics.h: kernel path, GEMM kernels and
 * threads), BLAS thread settings, weights + sha256, settings hash, unit,
 * then the two run-dependent lines `wall_time_s:` and `date:` (UTC) last. */
int results_write_provenance(const char *dir, const Provenance *p, Error *err);

/* maps.h5 (atomic): /scores (n) f32, /maps (n, h, w) f32, /masks (n, h, w) u8 0/1,
 * /labels (n) i64, /paths (n) strings; what `winclip metrics FILE.h5` reads. */
int results_write_maps(const char *dir, int n, int h, int w, const float *scores, const float *maps,
                       const uint8_t *masks, const int *labels, const char *const *paths, Error *err);

#endif
