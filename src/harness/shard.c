/*
 * shard.c - the partition behind `winclip run --shard I/N` and `--plan` (see shard.h): cost of
 * each category from its listing, longest-processing-time-first assignment of whole
 * categories, printing.
 *
 * Reference: issue "Past one machine"; R. L. Graham, "Bounds on multiprocessing timing
 * anomalies" (1969) for LPT.
 */
#define _POSIX_C_SOURCE 200809L
#include "harness/shard.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "winclip/settings.h"

int shard_parse(const char *text, ShardSpec *spec, Error *err)
{
    char *end = NULL;
    long i = strtol(text, &end, 10), n = -1;
    if (end != text && *end == '/' && end[1] >= '0' && end[1] <= '9') {
        const char *rest = end + 1;
        n = strtol(rest, &end, 10);
        if (*end) n = -1;
    }
    if (n < 1 || n > 4096 || i < 0 || i >= n)
        return err_setf(err, ERR_USAGE, "--shard '%s': expected I/N with 0 <= I < N <= 4096 (e.g. 0/3, as "
                                        "SLURM_ARRAY_TASK_ID/number of tasks)", text);
    spec->index = (int)i;
    spec->count = (int)n;
    return 0;
}

void shard_plan_free(ShardPlan *sp)
{
    for (int i = 0; i < sp->n_categories; i++) free(sp->categories[i].category);
    free(sp->categories);
    memset(sp, 0, sizeof *sp);
}

/* Test images, distinct reference images over every unit, units and scorings of one category. */
static int category_cost(ShardCategory *sc, const ExperimentPlan *pl, const char *category, Error *err)
{
    CategoryData cd = {0};
    int rc = experiment_load_category(pl, category, &cd, err);
    int cap = pl->n_k * pl->n_seeds + 1;
    int *ks = xcalloc((size_t)cap, sizeof *ks), *seeds = xcalloc((size_t)cap, sizeof *seeds);
    int n = experiment_category_units(pl, ks, seeds);
    unsigned char *used = xcalloc(cd.n_train + 1, 1);
    size_t *idx = NULL;
    sc->category = xstrdup(category);
    sc->test_images = (long)cd.n_test;
    sc->units = n;
    sc->scorings = (long)n * (long)cd.n_test;
    for (int u = 0; u < n && rc == 0; u++) {
        if (ks[u] == 0) continue;
        idx = xrealloc(idx, (size_t)ks[u] * sizeof *idx);
        rc = dataset_sample_shots(&cd, seeds[u], ks[u], idx, err);
        for (int r = 0; r < ks[u] && rc == 0; r++) {
            sc->reference_images += !used[idx[r]];
            used[idx[r]] = 1;
        }
    }
    if (rc) err_prefixf(err, "category %s: ", category);
    free(idx);
    free(used);
    free(ks);
    free(seeds);
    dataset_free(&cd);
    return rc;
}

static long passes_of(const ShardCategory *c)
{
    return c->test_images + c->reference_images;
}

/* a before b: more test images, then earlier in the config. Test images drive every cost (one
 * backbone pass each; one scoring per unit each) and, unlike the reference images, do not depend
 * on K and the seeds, so every experiment over the same categories gets the same assignment: a
 * category's features, shared through the cache by E01, E03 and the ablations, are computed by
 * one task, which then finds them in the cache for its later experiments. */
static int runs_before(const ShardCategory *cats, int a, int b)
{
    if (cats[a].test_images != cats[b].test_images) return cats[a].test_images > cats[b].test_images;
    return a < b;
}

/* Where a dataset's partition starts (FNV-1a of its name mod n_shards): the experiments of two
 * datasets (MVTec AD, VisA) then do not all put their largest category on shard 0. */
static int dataset_offset(const char *dataset, int n_shards)
{
    uint32_t h = 2166136261u;
    for (const char *c = dataset; *c; c++) h = (h ^ (uint8_t)*c) * 16777619u;
    return (int)(h % (uint32_t)n_shards);
}

int shard_plan_make(ShardPlan *sp, const ExperimentPlan *pl, int n_shards, Error *err)
{
    CHECK(n_shards >= 1);
    memset(sp, 0, sizeof *sp);
    sp->n_shards = n_shards;
    sp->categories = xcalloc((size_t)pl->n_categories + 1, sizeof *sp->categories);
    for (int i = 0; i < pl->n_categories; i++) {
        sp->n_categories++;
        if (category_cost(&sp->categories[i], pl, pl->categories[i], err) != 0) return err->code;
    }
    int *order = xcalloc((size_t)sp->n_categories + 1, sizeof *order);
    for (int i = 0; i < sp->n_categories; i++) order[i] = i;
    for (int i = 1; i < sp->n_categories; i++) /* insertion sort: a few dozen categories */
        for (int j = i; j > 0 && runs_before(sp->categories, order[j], order[j - 1]); j--) {
            int t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    long *load = xcalloc((size_t)n_shards, sizeof *load); /* test images per shard */
    int first = dataset_offset(pl->dataset, n_shards);
    for (int j = 0; j < sp->n_categories; j++) {
        ShardCategory *c = &sp->categories[order[j]];
        int best = first;
        for (int t = 1; t < n_shards; t++) {
            int s = (first + t) % n_shards;
            if (load[s] < load[best]) best = s;
        }
        c->shard = best;
        load[best] += c->test_images;
    }
    free(load);
    free(order);
    return 0;
}

ShardCost shard_plan_cost(const ShardPlan *sp, int shard)
{
    ShardCost t = {0};
    for (int i = 0; i < sp->n_categories; i++) {
        const ShardCategory *c = &sp->categories[i];
        if (c->shard != shard) continue;
        t.categories++;
        t.units += c->units;
        t.test_images += c->test_images;
        t.reference_images += c->reference_images;
        t.passes += passes_of(c);
        t.scorings += c->scorings;
    }
    return t;
}

void shard_plan_print(const ShardPlan *sp, const ExperimentPlan *pl, FILE *out)
{
    ShardCost all = {0};
    long most = 0;
    for (int i = 0; i < sp->n_categories; i++) {
        all.units += sp->categories[i].units;
        all.passes += passes_of(&sp->categories[i]);
        all.scorings += sp->categories[i].scorings;
    }
    fprintf(out, "plan: %s (%s), %d categor%s, %ld units, %d shard%s (whole categories per shard)\n", pl->name,
            pl->dataset, sp->n_categories, sp->n_categories == 1 ? "y" : "ies", all.units, sp->n_shards,
            sp->n_shards == 1 ? "" : "s");
    for (int s = 0; s < sp->n_shards; s++) {
        ShardCost t = shard_plan_cost(sp, s);
        most = t.passes > most ? t.passes : most;
        fprintf(out, "  shard %d/%d: %d categor%s, %ld units, %ld backbone passes (%ld test + %ld reference images), "
                     "%ld image scorings\n",
                s, sp->n_shards, t.categories, t.categories == 1 ? "y" : "ies", t.units, t.passes, t.test_images,
                t.reference_images, t.scorings);
        for (int i = 0; i < sp->n_categories; i++) {
            const ShardCategory *c = &sp->categories[i];
            if (c->shard != s) continue;
            fprintf(out, "    %s/%s:", pl->dataset, c->category);
            int cap = pl->n_k * pl->n_seeds + 1;
            int *ks = xcalloc((size_t)cap, sizeof *ks), *seeds = xcalloc((size_t)cap, sizeof *seeds);
            int n = experiment_category_units(pl, ks, seeds);
            for (int u = 0; u < n; u++)
                if (ks[u] == 0) fprintf(out, " k0");
                else fprintf(out, " k%d_s%d", ks[u], seeds[u]);
            fprintf(out, "  (%ld passes, %ld scorings)\n", passes_of(c), c->scorings);
            free(ks);
            free(seeds);
        }
    }
    fprintf(out, "  total: %ld backbone passes, %ld image scorings (estimated on a cold feature cache: features "
                 "already cached are not recomputed); largest shard %.0f%% of the passes\n",
            all.passes, all.scorings, all.passes ? 100.0 * (double)most / (double)all.passes : 0.0);
}

int shard_plan_restrict(const ShardPlan *sp, ExperimentPlan *pl, int shard, Error *err)
{
    const char **only = xcalloc((size_t)sp->n_categories + 1, sizeof *only);
    int n = 0;
    for (int i = 0; i < sp->n_categories; i++)
        if (sp->categories[i].shard == shard) only[n++] = sp->categories[i].category;
    int rc = 0;
    if (n > 0) rc = experiment_restrict(pl, only, n, err);
    else {
        config_list_free(pl->categories, pl->n_categories);
        pl->categories = NULL;
        pl->n_categories = 0;
    }
    free(only);
    return rc;
}

/* ---- several experiments: the sum per shard ---- */

/* The feature-cache components a category's units need, as the cache keys them
 * (winclip/feature_cache.h: one entry per image and component): the full image, and each window
 * scale with its stride, each under dataset, category, weights and pre-processing. keys gets
 * n_scales + 1 malloc'ed strings; returns their count. */
static int feature_keys(const ExperimentPlan *pl, const char *category, char **keys)
{
    char pre[256];
    winclip_settings_preprocess_key(&pl->settings, 0, pre, sizeof pre);
    int n = 0;
    keys[n++] = xasprintf("%s|%s|%s|%s|full", pl->dataset, category, pl->weights, pre);
    for (int i = 0; i < pl->settings.n_scales; i++)
        keys[n++] = xasprintf("%s|%s|%s|%s|windows-k%d-s%d", pl->dataset, category, pl->weights, pre,
                              pl->settings.scales[i], pl->settings.stride);
    return n;
}

/* Index of key in sum->seen, adding it (with no reference images yet) when new; *is_new says. */
static int seen_index(ShardSum *sum, char *key, int *is_new)
{
    int i = 0;
    while (i < sum->n_seen && strcmp(sum->seen[i], key) != 0) i++;
    *is_new = i == sum->n_seen;
    if (*is_new) {
        sum->seen = xrealloc(sum->seen, (size_t)(sum->n_seen + 1) * sizeof *sum->seen);
        sum->seen_refs = xrealloc(sum->seen_refs, (size_t)(sum->n_seen + 1) * sizeof *sum->seen_refs);
        sum->seen[sum->n_seen] = key;
        sum->seen_refs[sum->n_seen++] = 0;
    } else {
        free(key);
    }
    return i;
}

void shard_sum_init(ShardSum *sum, int n_shards)
{
    memset(sum, 0, sizeof *sum);
    sum->n_shards = n_shards;
    sum->shards = xcalloc((size_t)n_shards, sizeof *sum->shards);
}

void shard_sum_free(ShardSum *sum)
{
    for (int i = 0; i < sum->n_seen; i++) free(sum->seen[i]);
    free(sum->seen);
    free(sum->seen_refs);
    free(sum->shards);
    memset(sum, 0, sizeof *sum);
}

/* Category c of experiment pl into its shard's sum, each cached component counted once: a test
 * image costs a backbone pass when one of its components is new (the pass computes only the
 * missing ones), a reference image likewise (nested draws: the larger set holds the smaller). */
static void sum_category(ShardSum *sum, const ExperimentPlan *pl, const ShardCategory *c)
{
    ShardCost *s = &sum->shards[c->shard];
    char *keys[WINCLIP_MAX_SCALES + 1];
    int n = feature_keys(pl, c->category, keys), any_new = 0;
    long new_refs = 0;
    for (int k = 0; k < n; k++) {
        int is_new, i = seen_index(sum, keys[k], &is_new);
        any_new |= is_new;
        if (c->reference_images > sum->seen_refs[i]) {
            if (c->reference_images - sum->seen_refs[i] > new_refs) new_refs = c->reference_images - sum->seen_refs[i];
            sum->seen_refs[i] = c->reference_images;
        }
    }
    if (any_new) {
        s->test_images += c->test_images;
        s->passes += c->test_images;
    }
    s->reference_images += new_refs;
    s->passes += new_refs;
    s->categories++;
    s->units += c->units;
    s->scorings += c->scorings;
}

void shard_sum_add(ShardSum *sum, const ShardPlan *sp, const ExperimentPlan *pl)
{
    CHECK(sp->n_shards == sum->n_shards);
    for (int c = 0; c < sp->n_categories; c++) sum_category(sum, pl, &sp->categories[c]);
    sum->n_experiments++;
}

void shard_sum_print(const ShardSum *sum, FILE *out)
{
    fprintf(out, "plan: %d experiments, %d shard%s, per shard over all of them (features the experiments share "
                 "through the cache counted once):\n", sum->n_experiments, sum->n_shards, sum->n_shards == 1 ? "" : "s");
    long all = 0, most = 0;
    for (int s = 0; s < sum->n_shards; s++) {
        const ShardCost *c = &sum->shards[s];
        fprintf(out, "  shard %d/%d: %ld units, %ld backbone passes (%ld test + %ld reference images), %ld image "
                     "scorings\n", s, sum->n_shards, c->units, c->passes, c->test_images, c->reference_images,
                c->scorings);
        all += c->passes;
        most = c->passes > most ? c->passes : most;
    }
    fprintf(out, "  total: %ld backbone passes; largest shard %.0f%% of them\n", all,
            all ? 100.0 * (double)most / (double)all : 0.0);
}
