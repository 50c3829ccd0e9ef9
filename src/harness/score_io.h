/*
 * score_io.h - what `winclip score --out DIR` reads and writes around the pipeline: the input
 * list (folders, image lists, images), their validation before any compute, thresholds given or
 * taken from a finished run, DIR/scores.csv, DIR/threshold.txt and the binary anomaly masks.
 *
 * Does: expand and check inputs, read a unit folder's F1-max thresholds (metrics.tsv:
 * image_f1_threshold, pixel_f1_threshold) and its settings.txt, write the CSV and mask PNGs.
 * Does not: score (pipeline.h), draw overlays (overlay.h), parse the command line (cmd_score.c).
 * Reference: README "Your own images"; eval/metric_table.h (the thresholds: the highest score
 * reaching F1max, a score >= the threshold is anomalous).
 *
 *     char **paths; size_t n;
 *     if (score_inputs_expand(argv_images, n_args, &paths, &n, &err) || score_inputs_validate(paths, n, &err)) ...
 *     ScoreThresholds t; score_thresholds_init(&t);
 *     if (score_thresholds_from_run(&t, "results/E/custom/widget/k0", &err)) ...
 */
#ifndef WINCLIP_HARNESS_SCORE_IO_H
#define WINCLIP_HARNESS_SCORE_IO_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "util/base.h"
#include "winclip/settings.h"

/* Each arg: a folder (its image files, sub-folders included, sorted by path, hidden entries
 * skipped), a list (.csv or .txt: first field of each line is an image path relative to the list's
 * folder; an optional `path,...` header, blank and '#' lines skipped; a path may not leave the
 * folder), or an image. *paths (malloc'ed, fs_list_free) in argument order. ERR_MISSING when an
 * arg does not exist or a folder holds no image, ERR_FORMAT naming list:line:field. */
int score_inputs_expand(const char *const *args, int n_args, char ***paths, size_t *n, Error *err);

/* Decode every image (util/imghdr.h imghdr_decode); one ERR_FORMAT listing every unreadable file
 * (as many as fit, then "... and N more"). */
int score_inputs_validate(char *const *paths, size_t n, Error *err);

typedef struct {
    double image, pixel;        /* NaN when not set */
    double image_f1, pixel_f1;  /* F1max at those thresholds (from a run), else NaN */
    char source[1200];          /* "--threshold" or the metrics.tsv read */
    char *run_settings;         /* the unit's settings.txt (malloc'ed) or NULL */
    char run_dir[1024];         /* the unit folder read (--threshold-from) */
} ScoreThresholds;

void score_thresholds_init(ScoreThresholds *t);
void score_thresholds_free(ScoreThresholds *t);

/* From a unit folder (or its metrics.tsv): image_f1_threshold, pixel_f1_threshold ("n/a" stays
 * NaN: a unit without masks), the F1max values and settings.txt. ERR_MISSING / ERR_FORMAT naming the
 * file; ERR_VALUE when the image threshold is not available. */
int score_thresholds_from_run(ScoreThresholds *t, const char *run_dir, Error *err);

/* The run's method settings (t->run_settings) applied to s (non-method keys ignored; its class
 * word when category is the run's category). Returns the run's k_shot. */
int score_adopt_run_settings(const ScoreThresholds *t, const char *category, WinclipSettings *s);

/* 0 when the run's settings.txt agrees with s (k_shot included) and weights_sha256, per-unit keys
 * aside; else ERR_USAGE naming the keys ("key old -> new"). No settings.txt: 0. */
int score_check_run_settings(const ScoreThresholds *t, const WinclipSettings *s, const char *weights_sha256,
                             const char *run_label, Error *err);

/* DIR/threshold.txt: "key = value" lines (image_threshold, pixel_threshold, source, image_f1max,
 * pixel_f1max, rule). */
int score_write_threshold_file(const char *dir, const ScoreThresholds *t, Error *err);

/* One CSV field, quoted ("...", "" inside) when it holds a comma, quote or newline. */
void score_csv_field(FILE *f, const char *s);

/* PNG (w, h) grey: 255 where map >= threshold, else 0. */
int score_write_mask(const char *png_path, const float *map, int w, int h, double threshold, Error *err);

#endif
