/*
 * cmd_run.c - `winclip run EXPERIMENT`: evaluate one experiment file into results/, resumably.
 *
 * Does: parse the options (--only, --jobs, --results, --set, --rerun, --shard, --plan,
 * --shards), then call the harness: the experiment is resolved, read and validated before any
 * compute (harness/experiment.h), restricted to its shard (harness/shard.h), every unit of
 * every category is evaluated under its lock (harness/unit_eval.h, run_lock.h; `--jobs N`
 * forks one process per category), finished units are skipped; --plan prints partitions.
 * Does not: aggregate over categories or seeds (`winclip report`), download anything.
 * Reference: shared/spec/winclip.md §7, §9; conventions.md §2.13-§2.14; metrics.md §2 (masks).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "harness/experiment.h"
#include "harness/shard.h"

extern const Command cmd_run;

typedef struct {
    const char *spec;        /* EXPERIMENT as given */
    const char *results;     /* results root */
    const char **only;       /* (n_only) */
    int n_only, jobs, rerun;
    const char **sets;       /* (n_sets) */
    int n_sets;
    const char *shard;       /* --shard I/N or NULL */
    int plan, shards;        /* --plan (specs: every EXPERIMENT), --shards N */
    const char **specs;      /* (n_specs) */
    int n_specs;
} RunArgs;

/* ---- main ---- */

static int parse_args(RunArgs *a, int argc, char **argv)
{
    a->results = "results";
    a->jobs = 1;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        if (strcmp(o, "--only") == 0) {
            if (i + 1 >= argc || argv[i + 1][0] == '-') return cli_usage_error(&cmd_run, "--only needs a category");
            while (i + 1 < argc && argv[i + 1][0] != '-') a->only[a->n_only++] = argv[++i];
        } else if (strcmp(o, "--rerun") == 0) {
            a->rerun = 1;
        } else if (strcmp(o, "--jobs") == 0 || strcmp(o, "-j") == 0) {
            if (i + 1 >= argc) return cli_usage_error(&cmd_run, "%s needs a number", o);
            char *end = NULL;
            long v = strtol(argv[++i], &end, 10);
            if (!end || *end || end == argv[i] || v < 1 || v > 256)
                return cli_usage_error(&cmd_run, "--jobs '%s': expected an integer in 1..256", argv[i]);
            a->jobs = (int)v;
        } else if (strcmp(o, "--plan") == 0) {
            a->plan = 1;
        } else if (strcmp(o, "--shard") == 0) {
            if (i + 1 >= argc) return cli_usage_error(&cmd_run, "--shard needs I/N (e.g. 0/3)");
            a->shard = argv[++i];
            ShardSpec spec;
            Error e = {0};
            if (shard_parse(a->shard, &spec, &e) != 0) return cli_usage_error(&cmd_run, "%s", e.msg);
        } else if (strcmp(o, "--shards") == 0) {
            char *end = NULL;
            long v = i + 1 < argc ? strtol(argv[++i], &end, 10) : 0;
            if (!end || *end || end == argv[i] || v < 1 || v > 4096)
                return cli_usage_error(&cmd_run, "--shards: expected an integer in 1..4096");
            a->shards = (int)v;
        } else if (strcmp(o, "--results") == 0 || strcmp(o, "--set") == 0) {
            if (i + 1 >= argc) return cli_usage_error(&cmd_run, "%s needs a value", o);
            if (o[2] == 'r') a->results = argv[++i];
            else a->sets[a->n_sets++] = argv[++i];
        } else if (o[0] == '-' && o[1]) {
            return cli_usage_error(&cmd_run, "unknown option %s (see winclip help run)", o);
        } else {
            a->specs[a->n_specs++] = o;
        }
    }
    if (a->n_specs == 0) return cli_usage_error(&cmd_run, "missing EXPERIMENT (a name in experiments/ or a .conf file)");
    if (!a->plan && a->n_specs > 1)
        return cli_usage_error(&cmd_run, "one EXPERIMENT expected, got '%s' and '%s' (several only with --plan)",
                               a->specs[0], a->specs[1]);
    if (a->plan && a->shard) return cli_usage_error(&cmd_run, "--plan prints every shard: use --shards N, not --shard");
    if (a->shards && !a->plan) return cli_usage_error(&cmd_run, "--shards N goes with --plan (to run one: --shard I/N)");
    a->spec = a->specs[0];
    return 0;
}

/* spec resolved, loaded, --set applied, read and --only applied into pl (config_init'ed). */
static int load_plan(const RunArgs *a, const char *spec, ExperimentPlan *pl, Error *err)
{
    if (experiment_resolve(pl, spec, err) != 0 || config_load(&pl->cfg, pl->conf_path, err) != 0) return err->code;
    for (int i = 0; i < a->n_sets; i++)
        if (config_set(&pl->cfg, a->sets[i], err) != 0) return err_prefixf(err, "--set %s: ", a->sets[i]), err->code;
    if (experiment_read(pl, err) != 0 || experiment_restrict(pl, a->only, a->n_only, err) != 0)
        return err_prefixf(err, "%s: ", pl->conf_path), err->code;
    pl->rerun = a->rerun;
    return 0;
}

/* --plan EXPERIMENT... --shards N: each experiment's partition, then the sum per shard. */
static int print_plans(const RunArgs *a, Error *err)
{
    int n_shards = a->shards ? a->shards : 1, rc = 0;
    ShardSum sum;
    shard_sum_init(&sum, n_shards);
    for (int e = 0; e < a->n_specs && !rc; e++) {
        ExperimentPlan pl;
        memset(&pl, 0, sizeof pl);
        config_init(&pl.cfg);
        ShardPlan sp = {0};
        rc = load_plan(a, a->specs[e], &pl, err);
        if (!rc) rc = shard_plan_make(&sp, &pl, n_shards, err);
        if (!rc) shard_plan_print(&sp, &pl, stdout);
        if (!rc) shard_sum_add(&sum, &sp, &pl);
        shard_plan_free(&sp);
        experiment_free(&pl);
    }
    if (!rc && a->n_specs > 1) shard_sum_print(&sum, stdout);
    shard_sum_free(&sum);
    return rc;
}

/* --shard I/N: keep this shard's categories in pl (said so). 1 when it has none (nothing to do). */
static int apply_shard(const RunArgs *a, ExperimentPlan *pl, Error *err)
{
    ShardSpec spec;
    ShardPlan sp = {0};
    int rc = shard_parse(a->shard, &spec, err);
    if (!rc) rc = shard_plan_make(&sp, pl, spec.count, err);
    ShardCost c = shard_plan_cost(&sp, spec.index);
    if (!rc) rc = shard_plan_restrict(&sp, pl, spec.index, err);
    if (!rc) {
        printf("winclip run: %s shard %d/%d: %d categor%s (%ld units, about %ld backbone passes):", pl->name, spec.index,
               spec.count, c.categories, c.categories == 1 ? "y" : "ies", c.units, c.passes);
        for (int i = 0; i < pl->n_categories; i++) printf(" %s", pl->categories[i]);
        printf("%s\n", pl->n_categories ? "" : " none, nothing to do (more shards than categories)");
    }
    shard_plan_free(&sp);
    return rc ? rc : pl->n_categories == 0;
}

static int run(int argc, char **argv)
{
    RunArgs a = {0};
    a.only = xcalloc((size_t)argc, sizeof *a.only);
    a.sets = xcalloc((size_t)argc, sizeof *a.sets);
    a.specs = xcalloc((size_t)argc, sizeof *a.specs);
    ExperimentPlan pl;
    memset(&pl, 0, sizeof pl);
    config_init(&pl.cfg);
    Pipeline p = {0};
    Error err = {0};
    RunTally t = {0};
    int started = 0, rc = 0;
    int status = parse_args(&a, argc, argv);
    if (status) goto done;
    status = 1;
    if (a.plan) {
        if (print_plans(&a, &err) != 0) goto fail;
        status = 0;
        goto done;
    }
    if (load_plan(&a, a.spec, &pl, &err) != 0) goto fail;
    if (experiment_validate(&pl, &p) != 0) goto done;
    if (a.shard && (rc = apply_shard(&a, &pl, &err)) != 0) {
        if (rc < 0) goto fail;
        status = 0;
        goto done;
    }
    if (experiment_check_stale(&pl, a.results, &p) != 0) goto done;
    if (experiment_write_conf(&pl, a.results, &err) != 0) goto fail;
    printf("winclip run: %s: %d categor%s of %s, k_shots", pl.name, pl.n_categories, pl.n_categories == 1 ? "y" : "ies",
           pl.dataset);
    for (int i = 0; i < pl.n_k; i++) printf("%s%d", i ? "," : " ", pl.k_shots[i]);
    printf(", seeds");
    for (int i = 0; i < pl.n_seeds; i++) printf("%s%d", i ? "," : " ", pl.seeds[i]);
    printf(", weights %s -> %s/%s/\n", pl.weights, a.results, pl.name);
    fflush(stdout);
    double t0 = time_now();
    int plots_skipped = 0;
    started = 1;
    rc = experiment_run_all(&pl, a.results, &p, a.jobs, &t, &plots_skipped, &err);
    if (plots_skipped) printf("winclip run: gnuplot not found: curve plots skipped (their .dat/.gp files are kept)\n");
    printf("winclip run: units computed: %ld, skipped: %ld (done before or by another process)\n", t.units.computed,
           t.units.skipped);
    if (rc) goto fail;
    printf("winclip run: %s finished in %.1f s; tables: winclip report%s%s %s\n", pl.name, time_now() - t0,
           strcmp(a.results, "results") ? " --results " : "", strcmp(a.results, "results") ? a.results : "", pl.name);
    status = 0;
    goto counts;
fail:
    fprintf(stderr, "winclip run: %s\n", err.msg);
counts: /* the last line, also after a failure once compute started (summed over --jobs children) */
    if (started)
        printf("winclip run: backbone passes: %ld, cache hits: %ld, cache misses: %ld\n", t.backbone_passes,
               t.cache_hits, t.cache_misses);
done:
    pipeline_free(&p);
    experiment_free(&pl);
    free(a.only);
    free(a.sets);
    free(a.specs);
    return status;
}

#pragma GCC diagnostic ignored "-Woverlength-strings"
const Command cmd_run = {
    "run", "evaluate an experiment (experiments/NAME.conf) into results/, resumably",
    "usage: winclip run EXPERIMENT [--only CATEGORY...] [--jobs N] [--results DIR]\n"
    "                   [--set key=value]... [--rerun] [--shard I/N]\n"
    "       winclip run --plan EXPERIMENT... [--shards N] [--only CATEGORY...] [--set key=value]...\n"
    "\n"
    "EXPERIMENT is a name in experiments/ (E01_zero_shot_mvtec, demo, ...) or a path to a\n"
    ".conf file. Its keys (includes resolved, --set applied last) are: the method settings of\n"
    "`winclip help score`; the dataset keys dataset, layout, root, split_csv, categories,\n"
    "class_name.<category>, extra_anomalous_states.<category> (state words added for that\n"
    "category only, comma list), eval_size (the map side metrics use: 240 | original | N),\n"
    "mask_resize (nearest); the model keys weights, arch, source_url, expected_sha256; the run\n"
    "keys k_shots (e.g. 0,1,2,4; 0 = zero-shot WinCLIP), seeds (few-shot draws, default 0),\n"
    "save_maps (true writes maps.h5), title, table, ablation, variant, preset (how\n"
    "`winclip report` files it). An unknown key is an error naming it and the known keys.\n"
    "\n"
    "Before any compute, every category is validated (folders, images, masks, enough\n"
    "train/good images for the largest K), the weights file is loaded, the tokenizer\n"
    "vocabulary found and, when expected_sha256 is set, compared with the source_sha256 the\n"
    "converter recorded in the model file; all problems are reported at once (exit 1) and\n"
    "nothing is written.\n"
    "\n"
    "Then, per category (in the config's order) and per unit (k0 once; k<K>_s<seed> for every\n"
    "K > 0 and seed; references drawn by dataset_sample_shots, nested across K):\n"
    "  DIR/<exp>/<dataset>/<category>/<unit>/\n"
    "    scores.tsv, metrics.tsv, metrics.json   image + pixel metrics over every test image\n"
    "                                   at the eval size (masks resized nearest-neighbour)\n"
    "    config.resolved, settings.txt, provenance.txt, references.txt, maps.h5 (save_maps; readable by\n"
    "    `winclip metrics`), roc.png / pr.png (image and pixel curves, with .dat and .gp;\n"
    "    skipped with a note when gnuplot is missing), overlays/*.png (heat maps of a few test\n"
    "    images, ground-truth contour in white), done (written last)\n"
    "  DIR/<exp>/experiment.conf          title, table, ablation, variant, preset\n"
    "  DIR/cache/<dataset>_<category>/    per-image features, one file per image and component\n"
    "                                     (full image; each window scale + stride), shared by\n"
    "                                     every experiment and process with the same weights and\n"
    "                                     pre-processing; validated when read (README: Cache);\n"
    "                                     WINCLIP_CACHE_DIR=DIR puts it in DIR/<dataset>_<category>/\n"
    "Every file is written atomically (a unit is computed into a hidden temp folder that then\n"
    "replaces the unit folder); a finished unit is reused only when its done marker lists\n"
    "every file intact (size + sha256) and its settings.txt (method settings, model sha256,\n"
    "pre-processing, dataset, category, eval size, K, seed, references) hashes as now. A unit\n"
    "with a missing or changed file is recomputed (said so); a unit finished with other\n"
    "settings stops the run before any compute with an error naming it and the keys that\n"
    "differ (old -> new): --rerun recomputes exactly those. So rerunning after an\n"
    "interruption (Ctrl-C, kill, power loss) continues where it stopped and gives identical\n"
    "files; temp files a killed run left are removed. Progress (images/s, ETA) goes to stderr.\n"
    "The run ends with the units it computed and skipped, and one line\n"
    "`backbone passes: N, cache hits: H, cache misses: M` (summed over --jobs children):\n"
    "images through the vision tower, and feature cache lookups of one component each (the\n"
    "full image, one window scale).\n"
    "\n"
    "Several processes may share one results folder (two terminals, --jobs, the shards of a\n"
    "Slurm array on a shared filesystem): a unit is computed under its lock and a category\n"
    "under its features' lock (flock(2) on files in DIR/.locks/, released by the kernel when a\n"
    "process dies, kill -9 included), so no unit is computed twice or half-written and no image\n"
    "is encoded twice. A category another process is computing is deferred, then waited for\n"
    "(said so, with that process's pid and host); its units are then skipped as done.\n"
    "\n"
    "Sharding: --shard I/N runs part I (0..N-1, as SLURM_ARRAY_TASK_ID) of a deterministic\n"
    "partition: whole categories, longest first by test images (each test image costs one\n"
    "backbone pass and one scoring per unit) to the least loaded shard. N shards together do\n"
    "exactly what one run does, each unit once, and give identical files; the partition is the\n"
    "same for every experiment over the same categories, so a category's cached features are\n"
    "computed by one shard. A shard with no category (N > categories) exits 0 at once. A shard\n"
    "that died is simply rerun. --plan prints the partition of each EXPERIMENT for --shards N\n"
    "(default 1) with its cost per shard (backbone passes on a cold cache: test + distinct\n"
    "reference images; image scorings), then, for several experiments, the sum per shard with\n"
    "the features they share counted once; it needs the datasets' listings only and computes\n"
    "nothing. experiments/slurm/ submits an experiment as a Slurm array (make reproduce-slurm).\n"
    "\n"
    "Options:\n"
    "  --only CAT...     only these categories (one or more names of the experiment's list)\n"
    "  --jobs N          run N categories at once, one forked process each (default 1); each\n"
    "                    process uses its own GEMM threads: set OPENBLAS_NUM_THREADS /\n"
    "                    OMP_NUM_THREADS so that N x threads fits the cores\n"
    "  --results DIR     results root (default results)\n"
    "  --set key=value   override a key after the file (repeatable)\n"
    "  --rerun           recompute the units finished with other settings (replaced atomically)\n"
    "  --shard I/N       only part I of N (see Sharding); with --jobs, its categories forked\n"
    "  --plan            print the partition and its cost, compute nothing (several EXPERIMENTs)\n"
    "  --shards N        the number of parts --plan shows (1..4096)\n"
    "\n"
    "Exit status: 0 ok, 1 config / validation / runtime error, 2 command-line usage error.\n"
    "\n"
    "Examples:\n"
    "  winclip run E01_zero_shot_mvtec --only bottle\n"
    "  winclip run E03_few_shot_mvtec --set seeds=0 --set k_shots=1\n"
    "  winclip run demo --results results/demo/runs && winclip report --results results/demo/runs demo\n"
    "  winclip run --plan E01_zero_shot_mvtec E03_few_shot_mvtec --shards 8\n"
    "  winclip run E03_few_shot_mvtec --shard 2/8     # as task 2 of an 8-task array\n",
    run};
