/*
 * cmd_synth.c - `winclip synth`: write a synthetic MVTec-layout dataset (synth.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/base.h"
#include "cli/cli.h"
#include "data/synth.h"

extern const Command cmd_synth;

static int parse_int(const char *opt, const char *s, long long lo, long long hi, long long *out)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || !end || end == s || *end || v < lo || v > hi)
        return cli_usage_error(&cmd_synth, "%s '%s': expected an integer in %lld..%lld", opt, s, lo, hi);
    *out = v;
    return 0;
}

static int run(int argc, char **argv)
{
    SynthOptions opt = synth_default_options();
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--out") == 0 && i + 1 < argc) {
            opt.out = argv[++i];
            continue;
        }
        static const char *const names[] = {"--categories", "--size", "--train", "--test", "--test-bad", "--seed"};
        size_t k = 0;
        while (k < ARRAY_LEN(names) && strcmp(a, names[k]) != 0) k++;
        if (k == ARRAY_LEN(names)) return cli_usage_error(&cmd_synth, "unknown argument '%s'", a);
        if (i + 1 >= argc) return cli_usage_error(&cmd_synth, "%s needs a value", a);
        long long v = 0;
        if (parse_int(a, argv[++i], 0, k == 5 ? 0x7fffffffffffffffLL : 100000, &v) != 0) return 2;
        switch (k) {
        case 0: opt.n_categories = (int)v; break;
        case 1: opt.size = (int)v; break;
        case 2: opt.n_train = (int)v; break;
        case 3: opt.n_test_good = opt.n_test_bad = (int)v; break;
        case 4: opt.n_test_bad = (int)v; break;
        default: opt.seed = (uint64_t)v; break;
        }
    }
    if (!opt.out) return cli_usage_error(&cmd_synth, "--out DIR is required");
    Error err = {0};
    double t0 = time_now();
    int rc = synth_write_dataset(&opt, &err);
    if (rc != 0) {
        fprintf(stderr, "winclip synth: %s\n", err.msg);
        return rc == ERR_USAGE ? 2 : 1;
    }
    printf("synth: %d categories, %dx%d, %d train + %d good + %d defective test images each, seed %llu, %.2f s -> %s\n",
           opt.n_categories, opt.size, opt.size, opt.n_train, opt.n_test_good, opt.n_test_bad,
           (unsigned long long)opt.seed, time_now() - t0, opt.out);
    return 0;
}

const Command cmd_synth = {
    "synth", "write a synthetic MVTec-layout dataset (textures/objects with exact defect masks)",
    "usage: winclip synth --out DIR [--categories N] [--size S] [--train N] [--test N] [--test-bad N] [--seed X]\n"
    "\n"
    "Writes procedural anomaly-detection data in the MVTec AD layout, for demos, smoke runs and\n"
    "tests without downloads:\n"
    "  DIR/README.txt                              says the data is synthetic\n"
    "  DIR/<category>/train/good/000.png ...       defect-free training images\n"
    "  DIR/<category>/test/good/000.png ...        defect-free test images\n"
    "  DIR/<category>/test/<defect>/000.png ...    defective test images\n"
    "  DIR/<category>/ground_truth/<defect>/000_mask.png   {0,255}: exactly the changed pixels\n"
    "Categories, in order: synth_grid (grayscale woven grid: hole, scratch, stain),\n"
    "synth_fabric (RGB weave: hole, scratch, stain), synth_disc (a nut on a background: missing,\n"
    "scratch, spot), synth_wood (RGB wood grain: hole, scratch, stain). Defective images are spread\n"
    "round-robin over the defect types. Output is byte-identical for the same options.\n"
    "Load it with layout = mvtec (configs/dataset/synthetic.conf).\n"
    "\n"
    "options:\n"
    "  --out DIR         output folder (created; existing files are overwritten)\n"
    "  --categories N    first N categories, 1..4 (default 3)\n"
    "  --size S          image side in pixels, 32..2048 (default 256)\n"
    "  --train N         train/good images per category (default 8)\n"
    "  --test N          test/good AND defective test images per category (default 6 each)\n"
    "  --test-bad N      defective test images only (after --test)\n"
    "  --seed X          non-negative integer (default 0)\n"
    "\n"
    "example:\n"
    "  winclip synth --out datasets/synthetic --categories 3 --size 256 --seed 0\n",
    run};
