/*
 * experiment.h - one experiment of `winclip run`: read experiments/NAME.conf into a plan,
 * validate everything before any compute, and evaluate every unit of every category into the
 * results root, resumably.
 *
 *     ExperimentPlan pl = {0};  config_init(&pl.cfg);
 *     if (experiment_resolve(&pl, "demo", &err) || config_load(&pl.cfg, pl.conf_path, &err) ||
 *         experiment_read(&pl, &err)) goto fail;
 *     if (experiment_validate(&pl, &pipeline)) goto done;     // problems printed
 *     experiment_write_conf(&pl, "results", &err);
 *     RunTally tally;
 *     experiment_run_all(&pl, "results", &pipeline, 1, &tally, &skipped, &err);
 *     experiment_free(&pl);
 *
 * Reference: shared/spec/winclip.md §7, §9; conventions.md §2.13-§2.14.
 */
#ifndef WINCLIP_HARNESS_EXPERIMENT_H
#define WINCLIP_HARNESS_EXPERIMENT_H

#include "data/dataset.h"
#include "harness/config.h"
#include "harness/unit_eval.h"
#include "util/base.h"
#include "winclip/pipeline.h"
#include "winclip/winclip.h"

/* The experiment as read: its config and every key `winclip run` uses (strings borrowed from cfg). */
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
    int rerun; /* --rerun: recompute units finished with other settings */
} ExperimentPlan;

/* Safe on a zeroed plan; leaves it zeroed. */
void experiment_free(ExperimentPlan *pl);

/* EXPERIMENT: a path to a .conf file, or a name looked up as experiments/NAME.conf; fills
 * conf_path and name. ERR_MISSING naming both candidates. */
int experiment_resolve(ExperimentPlan *pl, const char *spec, Error *err);

/* Every key of pl->cfg (loaded, --set applied): method keys to the settings, run keys into pl,
 * then the unknown-key check. */
int experiment_read(ExperimentPlan *pl, Error *err);

/* Keep only the categories in only (n_only > 0), in the experiment's order; a name not in the
 * list is ERR_USAGE. */
int experiment_restrict(ExperimentPlan *pl, const char *const *only, int n_only, Error *err);

/* Every problem before any compute: datasets, weights, vocabulary, sha256. On success p holds
 * the loaded pipeline and 0 is returned; else every problem is printed to stderr and 1 returned. */
int experiment_validate(const ExperimentPlan *pl, Pipeline *p);

/* Every finished unit of the plan under results whose settings differ from the current ones
 * (unit_eval_status, no compute): without pl->rerun, one error naming each unit and the keys
 * that differ (old -> new) is printed and 1 returned; else 0. Uses p (validated) for the model
 * sha256; restores p->settings. */
int experiment_check_stale(const ExperimentPlan *pl, const char *results, Pipeline *p);

/* <results>/<name>/experiment.conf: what `winclip report` files the experiment under. */
int experiment_write_conf(const ExperimentPlan *pl, const char *results, Error *err);

/* The category's listing (dataset_load with the experiment's layout, root, split_csv; the
 * dataset name set). */
int experiment_load_category(const ExperimentPlan *pl, const char *category, CategoryData *cd, Error *err);

/* The units of a category in run order (k0 once, then k<K>_s<seed> for K > 0 and every seed):
 * (k, seed) into ks / seeds (capacity n_k * n_seeds + 1). Returns how many. */
int experiment_category_units(const ExperimentPlan *pl, int *ks, int *seeds);

/* Every unit of one category (unit_eval_run) with the shared feature cache
 * <results>/cache/<dataset>_<category>.h5, holding the category's lock (run_lock.h) while
 * anything is computed: blocking = 1 waits for it (said so), blocking = 0 returns 1 at once when
 * another process holds it (said so: "deferred"). counts (may be NULL) are added to;
 * *plots_skipped set when gnuplot is missing. Returns 0, 1 (deferred) or ERR_*. */
int experiment_run_category(const ExperimentPlan *pl, const char *results, Pipeline *p, const char *category,
                            int blocking, UnitCounts *counts, int *plots_skipped, Error *err);

/* What a run did: units, and the pipeline's backbone passes and cache hits / misses (summed
 * over forked children). */
typedef struct {
    UnitCounts units;
    long backbone_passes, cache_hits, cache_misses;
} RunTally;

/* Every category of pl, in order. One process (jobs 1): a category another process is computing
 * is deferred and, after the others, waited for; so two runs on one results folder share the
 * work and both end with every unit done. jobs > 1: one forked child per category (each waits
 * for its category's lock), at most jobs at once. Returns 0 when every category succeeded. */
int experiment_run_all(const ExperimentPlan *pl, const char *results, Pipeline *p, int jobs, RunTally *tally,
                       int *plots_skipped, Error *err);

#endif
