/*
 * cmd_make_random_model.c - `winclip make-random-model`: a random-weight CLIP model file.
 *
 * Writes the project's HDF5 model layout (clip.md §6.2) with the right keys, shapes and
 * `config` for an architecture, filled with seeded random weights (clip_model_write_random).
 * For tests, benchmarks and the demo; its embeddings mean nothing.
 */
#include "cli.h"

#include "base.h"
#include "clip_config.h"
#include "clip_model.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const Command cmd_make_random_model;

static int run(int argc, char **argv)
{
    const char *arch = "ViT-B-16-plus-240", *out = NULL;
    unsigned long long seed = 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--arch") == 0 && i + 1 < argc) {
            arch = argv[++i];
        } else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
            char *end;
            errno = 0;
            seed = strtoull(argv[++i], &end, 10);
            if (errno || *end || argv[i][0] == '-' || !argv[i][0])
                return cli_usage_error(&cmd_make_random_model, "--seed: expected a non-negative integer, found '%s'", argv[i]);
        } else if (argv[i][0] == '-') {
            return cli_usage_error(&cmd_make_random_model, "unknown or incomplete option '%s'", argv[i]);
        } else if (!out) {
            out = argv[i];
        } else {
            return cli_usage_error(&cmd_make_random_model, "more than one output file ('%s', '%s')", out, argv[i]);
        }
    }
    if (!out) return cli_usage_error(&cmd_make_random_model, "missing the output file OUT.h5");
    ClipConfig cfg;
    Error err = {0};
    if (clip_config_preset(&cfg, arch, &err)) return cli_usage_error(&cmd_make_random_model, "--arch: %s", err.msg);
    const double t0 = time_now();
    if (clip_model_write_random(out, &cfg, (uint64_t)seed, &err)) {
        fprintf(stderr, "winclip make-random-model: %s\n", err.msg);
        return 1;
    }
    printf("wrote %s: random %s weights (seed %llu) in %.1f s\n", out, cfg.model_name, seed, time_now() - t0);
    return 0;
}

const Command cmd_make_random_model = {
    "make-random-model", "write a random-weight CLIP model file (tests, benchmarks, demo)",
    "usage: winclip make-random-model [--arch ARCH] [--seed N] OUT.h5\n"
    "\n"
    "Writes OUT.h5 in the project's model layout (one float32 dataset per open_clip\n"
    "state-dict key, root attribute `config`) with seeded random weights: LayerNorm gains\n"
    "near 1, small biases, linear weights with std 0.02, so activations stay finite. The\n"
    "embeddings are meaningless; use it to test or time the pipeline without real weights.\n"
    "\n"
    "options:\n"
    "  --arch ARCH   ViT-B-16-plus-240 (default, ~834 MB), ViT-B-16, ViT-B-16-quickgelu\n"
    "                (~599 MB) or tiny (the shared fixture's dimensions, ~10 MB)\n"
    "  --seed N      random seed (default 1); the same seed gives the same file\n"
    "\n"
    "example:\n"
    "  winclip make-random-model --arch tiny --seed 7 /tmp/tiny.h5\n",
    run};
