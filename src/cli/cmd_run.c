/*
 * cmd_run.c - `winclip run EXPERIMENT`: evaluate one experiment file into results/, resumably.
 *
 * Does: parse the options (--only, --jobs, --results, --set), then call the harness: the
 * experiment is resolved, read and validated before any compute (harness/experiment.h), every
 * unit of every category is evaluated (harness/unit_eval.h; `--jobs N` forks one process per
 * category), finished units are skipped.
 * Does not: aggregate over categories or seeds (`winclip report`), download anything.
 * Reference: shared/spec/winclip.md §7, §9; conventions.md §2.13-§2.14; metrics.md §2 (masks).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "harness/experiment.h"

extern const Command cmd_run;

typedef struct {
    const char *spec;        /* EXPERIMENT as given */
    const char *results;     /* results root */
    const char **only;       /* (n_only) */
    int n_only, jobs, rerun;
    const char **sets;       /* (n_sets) */
    int n_sets;
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
        } else if (strcmp(o, "--results") == 0 || strcmp(o, "--set") == 0) {
            if (i + 1 >= argc) return cli_usage_error(&cmd_run, "%s needs a value", o);
            if (o[2] == 'r') a->results = argv[++i];
            else a->sets[a->n_sets++] = argv[++i];
        } else if (o[0] == '-' && o[1]) {
            return cli_usage_error(&cmd_run, "unknown option %s (see winclip help run)", o);
        } else if (a->spec) {
            return cli_usage_error(&cmd_run, "one EXPERIMENT expected, got '%s' and '%s'", a->spec, o);
        } else {
            a->spec = o;
        }
    }
    if (!a->spec) return cli_usage_error(&cmd_run, "missing EXPERIMENT (a name in experiments/ or a .conf file)");
    return 0;
}

static int run(int argc, char **argv)
{
    RunArgs a = {0};
    a.only = xcalloc((size_t)argc, sizeof *a.only);
    a.sets = xcalloc((size_t)argc, sizeof *a.sets);
    ExperimentPlan pl;
    memset(&pl, 0, sizeof pl);
    config_init(&pl.cfg);
    Pipeline p = {0};
    Error err = {0};
    int started = 0;
    int status = parse_args(&a, argc, argv);
    if (status) goto done;
    status = 1;
    if (experiment_resolve(&pl, a.spec, &err) != 0 || config_load(&pl.cfg, pl.conf_path, &err) != 0) goto fail;
    for (int i = 0; i < a.n_sets; i++)
        if (config_set(&pl.cfg, a.sets[i], &err) != 0) {
            err_prefixf(&err, "--set %s: ", a.sets[i]);
            goto fail;
        }
    if (experiment_read(&pl, &err) != 0 || experiment_restrict(&pl, a.only, a.n_only, &err) != 0) {
        err_prefixf(&err, "%s: ", pl.conf_path);
        goto fail;
    }
    pl.rerun = a.rerun;
    if (experiment_validate(&pl, &p) != 0 || experiment_check_stale(&pl, a.results, &p) != 0) goto done;
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
    if (a.jobs > 1 && pl.n_categories > 1) {
        if (experiment_run_forked(&pl, a.results, &p, a.jobs) != 0) goto counts;
    } else {
        for (int i = 0; i < pl.n_categories; i++)
            if (experiment_run_category(&pl, a.results, &p, pl.categories[i], &plots_skipped, &err) != 0) goto fail;
        if (plots_skipped) printf("winclip run: gnuplot not found: curve plots skipped (their .dat/.gp files are kept)\n");
    }
    printf("winclip run: %s finished in %.1f s; tables: winclip report%s%s %s\n", pl.name, time_now() - t0,
           strcmp(a.results, "results") ? " --results " : "", strcmp(a.results, "results") ? a.results : "", pl.name);
    status = 0;
    goto counts;
fail:
    fprintf(stderr, "winclip run: %s\n", err.msg);
counts: /* the last line, also after a failure once compute started (summed over --jobs children) */
    if (started)
        printf("winclip run: backbone passes: %ld, cache hits: %ld, cache misses: %ld\n", p.backbone_passes, p.cache_hits,
               p.cache_misses);
done:
    pipeline_free(&p);
    experiment_free(&pl);
    free(a.only);
    free(a.sets);
    return status;
}

#pragma GCC diagnostic ignored "-Woverlength-strings"
const Command cmd_run = {
    "run", "evaluate an experiment (experiments/NAME.conf) into results/, resumably",
    "usage: winclip run EXPERIMENT [--only CATEGORY...] [--jobs N] [--results DIR]\n"
    "                   [--set key=value]... [--rerun]\n"
    "\n"
    "EXPERIMENT is a name in experiments/ (E01_zero_shot_mvtec, demo, ...) or a path to a\n"
    ".conf file. Its keys (includes resolved, --set applied last) are: the method settings of\n"
    "`winclip help score`; the dataset keys dataset, layout, root, split_csv, categories,\n"
    "class_name.<category>, eval_size (the map side metrics use: 240 | original | N),\n"
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
    "The last line says what the run computed: backbone passes (images through the vision\n"
    "tower), cache hits and misses (component lookups).\n"
    "\n"
    "Options:\n"
    "  --only CAT...     only these categories (one or more names of the experiment's list)\n"
    "  --jobs N          run N categories at once, one forked process each (default 1); each\n"
    "                    process uses its own GEMM threads: set OPENBLAS_NUM_THREADS /\n"
    "                    OMP_NUM_THREADS so that N x threads fits the cores\n"
    "  --results DIR     results root (default results)\n"
    "  --set key=value   override a key after the file (repeatable)\n"
    "  --rerun           recompute the units finished with other settings (replaced atomically)\n"
    "\n"
    "Exit status: 0 ok, 1 config / validation / runtime error, 2 command-line usage error.\n"
    "\n"
    "Examples:\n"
    "  winclip run E01_zero_shot_mvtec --only bottle\n"
    "  winclip run E03_few_shot_mvtec --set seeds=0 --set k_shots=1\n"
    "  winclip run demo --results results/demo/runs && winclip report --results results/demo/runs demo\n",
    run};
