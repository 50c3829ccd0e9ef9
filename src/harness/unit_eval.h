/*
 * unit_eval.h - one evaluation unit (a category at one K and seed): score every test image,
 * image + pixel metrics, curves, overlays and the unit's result folder.
 *
 *     UnitJob job = {"E01", "mvtec", "weights.h5", &cfg, 0};
 *     if (unit_eval_run(&job, "results", &pipeline, &category, k, seed, &skipped, &err)) goto fail;
 *
 * The pieces are public so a command or a test can score and measure without the folder.
 * Reference: shared/spec/winclip.md §7, §9; metrics.md §2.
 */
#ifndef WINCLIP_HARNESS_UNIT_EVAL_H
#define WINCLIP_HARNESS_UNIT_EVAL_H

#include <stdint.h>

#include "data/dataset.h"
#include "harness/config.h"
#include "harness/results.h"
#include "util/base.h"
#include "winclip/pipeline.h"

/* Every test image of a unit, scored. Caller-owned; unit_eval_free is safe on a zeroed value. */
typedef struct {
    int n, h, w;
    char **paths;     /* (n) borrowed from CategoryData */
    int *labels;      /* (n) */
    float *scores;    /* (n) */
    float *maps;      /* (n, h, w) */
    uint8_t *masks;   /* (n, h, w) ground truth at the map size (all zero when !has_masks) */
    int has_masks;    /* cd->has_masks: 0 = no ground truth, pixel metrics not available (NaN, "n/a") */
} UnitEval;

/* How many units a run computed and skipped (finished before, or by another process). */
typedef struct {
    long computed, skipped, waited; /* waited: units another process held when this one came */
} UnitCounts;

/* What a unit folder records about its experiment; all borrowed. */
typedef struct {
    const char *experiment, *dataset, *weights;
    const Config *cfg;   /* the experiment's resolved keys (config.resolved) */
    int save_maps;       /* write maps.h5 */
    int rerun;           /* recompute units done with other settings (else an error) */
    int keep_temps;      /* 1: another process may be writing this category: leave temp files */
    UnitCounts *counts;  /* updated when not NULL */
} UnitJob;

typedef enum {
    UNIT_NEW,    /* not computed */
    UNIT_DONE,   /* finished, intact, same settings: reused */
    UNIT_STALE,  /* finished with other settings: an error, or recomputed under --rerun */
    UNIT_BROKEN  /* done marker but a file missing or changed: recomputed */
} UnitState;

/* What a unit folder holds against what it would be computed with now. unit_status_free is safe
 * on a zeroed value. */
typedef struct {
    UnitState state;
    char *dir;          /* results_unit_dir */
    char *settings;     /* settings.txt it would be written with: "key = value" lines */
    char hash[65];      /* sha256 of settings */
    char *why;          /* STALE: "key old -> new, ..."; BROKEN: what is wrong; else NULL */
    const char **refs;  /* (k) the reference images drawn */
} UnitStatus;

void unit_status_free(UnitStatus *st);

/* The state of unit (k, seed) of cd under results with p's current settings (no compute). */
int unit_eval_status(UnitStatus *st, const UnitJob *job, const char *results, const Pipeline *p,
                     const CategoryData *cd, int k, int seed, Error *err);

void unit_eval_free(UnitEval *u);

/* Score every test image of cd through p (references already set); progress to stderr under
 * label. Every map must have the first map's size. */
int unit_eval_score(UnitEval *u, Pipeline *p, const CategoryData *cd, const char *label, Error *err);

/* Image + pixel metrics of u (results.tsv names). */
int unit_eval_metrics(const UnitEval *u, MetricSet *ms, Error *err);

/* dir/roc.png and dir/pr.png (image + pixel curves, with .dat / .gp); *skipped set when gnuplot
 * is missing. */
int unit_eval_write_curves(const UnitEval *u, const char *dir, const char *title, int *skipped, Error *err);

/* dir/overlays/<defect>_<stem>.png for the UNIT_OVERLAYS_EACH highest-scoring normal images and
 * the UNIT_OVERLAYS_EACH lowest-scoring defective ones (the false positives and negatives a user
 * looks at first; ties: dataset order); colour range = min..max over every map of the unit so
 * the overlays compare. overlays/index.tsv lists them: png, name, label, score, path. */
#define UNIT_OVERLAYS_EACH 3
int unit_eval_write_overlays(const UnitEval *u, const Pipeline *p, const CategoryData *cd, const char *dir,
                             Error *err);

/* The whole unit: results_unit_dir(results, ...) is skipped when done, intact and computed with
 * the same settings (settings.txt hash); done with other settings is an error unless job->rerun;
 * else the unit's lock is taken (run_lock.h; waiting, said so, while another process holds it),
 * the state read again (another process may have finished it meanwhile: then skipped), and
 * references drawn (dataset_sample_shots(seed, k)), scored, measured and written into a temp
 * folder, `done` last, which then replaces the unit folder. Prints one line. */
int unit_eval_run(const UnitJob *job, const char *results, Pipeline *p, const CategoryData *cd, int k, int seed,
                  int *plots_skipped, Error *err);

#endif
