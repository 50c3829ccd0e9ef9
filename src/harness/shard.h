/*
 * shard.h - `winclip run EXPERIMENT --shard I/N`: a deterministic partition of an experiment's
 * units into N parts of about equal cost, so that N processes (a Slurm array, or N terminals)
 * together do exactly what one run does, each unit once.
 *
 * Does: estimate each category's cost from its listing (backbone passes on a cold feature cache
 * = test images + distinct few-shot reference images over every K and seed; image scorings =
 * units x test images), then assign whole categories to shards, longest-processing-time first
 * by test images (they drive both costs; categories by test images descending, ties in config
 * order; each to the shard with the fewest test images so far, ties to the lowest index).
 * Whole categories: the test images of a category are encoded by one shard, the feature cache
 * of a category (one file per category) has one writer, and a category's units share its
 * features at once. Keyed on test images only, the partition is the same for every experiment
 * over the same categories (E01, E03 and the ablations), so one task computes a category's
 * features and finds them in the cache for its later experiments.
 * Print the partition and its cost per shard (`winclip run --plan ... --shards N`).
 * Does not: run anything (experiment.c), lock (run_lock.h). A shard with no category
 * (N > categories) has nothing to do and says so.
 * Reference: issue "Past one machine" (Slurm arrays); Graham 1969 (LPT scheduling).
 *
 *     ShardPlan sp = {0};
 *     if (shard_plan_make(&sp, &pl, 3, &err)) goto fail;      // pl read (experiment_read)
 *     shard_plan_print(&sp, &pl, stdout);
 *     if (shard_plan_restrict(&sp, &pl, 1, &err)) goto fail;  // pl keeps shard 1's categories
 *     shard_plan_free(&sp);
 */
#ifndef WINCLIP_HARNESS_SHARD_H
#define WINCLIP_HARNESS_SHARD_H

#include <stdio.h>

#include "harness/experiment.h"
#include "util/base.h"

/* --shard I/N: shard index (0 .. count-1, as SLURM_ARRAY_TASK_ID) of count. */
typedef struct {
    int index, count;
} ShardSpec;

/* Parse "I/N" (0 <= I < N <= 4096). ERR_USAGE naming the text and what is expected. */
int shard_parse(const char *text, ShardSpec *spec, Error *err);

/* One category's cost and its shard. */
typedef struct {
    char *category;
    long test_images;      /* encoded once: backbone passes */
    long reference_images; /* distinct train/good images over every K > 0 and seed */
    long units;            /* k0 + K x seeds */
    long scorings;         /* units x test images */
    int shard;
} ShardCategory;

typedef struct {
    int n_shards, n_categories;
    ShardCategory *categories; /* (n_categories) in the experiment's order */
} ShardPlan;

/* Partition pl's categories (listed with dataset_load: ERR_* naming the category when one
 * cannot be listed) into n_shards (>= 1). */
int shard_plan_make(ShardPlan *sp, const ExperimentPlan *pl, int n_shards, Error *err);
void shard_plan_free(ShardPlan *sp); /* safe on a zeroed plan */

/* Totals of one shard. */
typedef struct {
    int categories;
    long units, passes, test_images, reference_images, scorings;
} ShardCost;
ShardCost shard_plan_cost(const ShardPlan *sp, int shard);

/* "shard I/N: ..." per shard with its categories and units, then the total; to out. */
void shard_plan_print(const ShardPlan *sp, const ExperimentPlan *pl, FILE *out);

/* Keep only shard's categories in pl (experiment_restrict); 0 or ERR_*. */
int shard_plan_restrict(const ShardPlan *sp, ExperimentPlan *pl, int shard, Error *err);

/* ---- several experiments (`--plan E... --shards N`) ---- */

/* The cost per shard over several experiments' plans, each feature the experiments share through
 * the cache (same dataset, category, weights, pre-processing, window scales and stride) counted
 * once: what N array tasks running the experiments one after another compute in all. */
typedef struct {
    int n_shards, n_experiments;
    ShardCost *shards; /* (n_shards) */
    char **seen;       /* (n_seen) feature keys counted */
    long *seen_refs;   /* (n_seen) reference images counted for each */
    int n_seen;
} ShardSum;

void shard_sum_init(ShardSum *sum, int n_shards);
void shard_sum_free(ShardSum *sum); /* safe on a zeroed value */
/* Add one experiment's plan (same n_shards). */
void shard_sum_add(ShardSum *sum, const ShardPlan *sp, const ExperimentPlan *pl);
/* "plan: E experiments, N shards, ...", a line per shard, the total. */
void shard_sum_print(const ShardSum *sum, FILE *out);

#endif
