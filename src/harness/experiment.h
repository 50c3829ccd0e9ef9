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
 *     for (int i = 0; i < pl.n_categories; i++)
 *         experiment_run_category(&pl, "results", &pipeline, pl.categories[i], &skipped, &err);
 *     experiment_free(&pl);
 *
 * Reference: shared/spec/winclip.md §7, §9; conventions.md §2.13-§2.14.
 */
#ifndef WINCLIP_HARNESS_EXPERIMENT_H
#define WINCLIP_HARNESS_EXPERIMENT_H

#include "data/dataset.h"
#include "harness/config.h"
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

/* Every unit of one category (k0, then k<K>_s<seed>) with the shared feature cache
 * <results>/cache/<dataset>_<category>.h5; *plots_skipped set when gnuplot is missing. */
int experiment_run_category(const ExperimentPlan *pl, const char *results, Pipeline *p, const char *category,
                            int *plots_skipped, Error *err);

/* --jobs N: one child process per category, at most N at once. Returns 0 when all succeed. */
int experiment_run_forked(const ExperimentPlan *pl, const char *results, Pipeline *p, int jobs);

#endif
