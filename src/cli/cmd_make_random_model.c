/*
 * cmd_make_random_model.c - `winclip make-random-model`: an HDF5 model file with random
 * weights for a named architecture (demos and smoke runs without downloads).
 *
 * Does: clip_config_preset + clip_model_write_random (clip_model.h) into OUT, atomically
 * (OUT.tmp renamed). Does not: produce anything resembling CLIP: the weights are noise.
 * Reference: shared/spec/clip.md §1 (architectures), §6 (HDF5 layout).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "clip/clip_config.h"
#include "clip/clip_model.h"

extern const Command cmd_make_random_model;

static int run(int argc, char **argv)
{
    const char *arch = "tiny", *out = NULL;
    unsigned long long seed = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-' && !out) { /* OUT.h5 may also be given as the last plain argument */
            out = a;
            continue;
        }
        if (strcmp(a, "--arch") != 0 && strcmp(a, "--out") != 0 && strcmp(a, "--seed") != 0)
            return cli_usage_error(&cmd_make_random_model, "unknown argument '%s'", a);
        if (i + 1 >= argc) return cli_usage_error(&cmd_make_random_model, "%s needs a value", a);
        const char *v = argv[++i];
        if (a[2] == 'a') arch = v;
        else if (a[2] == 'o') out = v;
        else {
            char *end = NULL;
            errno = 0;
            seed = strtoull(v, &end, 10);
            if (errno || end == v || *end || v[0] == '-')
                return cli_usage_error(&cmd_make_random_model, "--seed '%s': expected a non-negative integer", v);
        }
    }
    if (!out) return cli_usage_error(&cmd_make_random_model, "--out FILE.h5 is required");
    Error err = {0};
    ClipConfig cfg;
    if (clip_config_preset(&cfg, arch, &err) != 0) return cli_usage_error(&cmd_make_random_model, "%s", err.msg);
    char *tmp = xasprintf("%s.tmp", out);
    int rc = clip_model_write_random(tmp, &cfg, (uint64_t)seed, &err);
    if (rc == 0 && rename(tmp, out) != 0) rc = err_setf(&err, ERR_IO, "%s: cannot rename to %s: %s", tmp, out, strerror(errno));
    if (rc != 0) {
        remove(tmp);
        free(tmp);
        fprintf(stderr, "winclip make-random-model: %s\n", err.msg);
        return 1;
    }
    free(tmp);
    printf("make-random-model: %s, random weights (seed %llu) -> %s (NOT CLIP: for demos and smoke runs only)\n",
           arch, seed, out);
    return 0;
}

const Command cmd_make_random_model = {
    "make-random-model", "write a model file with RANDOM weights (demos, smoke runs; not CLIP)",
    "usage: winclip make-random-model [--arch NAME] [--seed N] --out FILE.h5\n"
    "       winclip make-random-model [--arch NAME] [--seed N] FILE.h5\n"
    "\n"
    "Writes an HDF5 model file (the layout `winclip convert` writes, with its `config`\n"
    "attribute plus random_seed) whose weights are random: deterministic for a seed, finite\n"
    "activations, but it is NOT CLIP and its anomaly scores mean nothing. `make demo` uses it\n"
    "to run the whole pipeline without downloading weights.\n"
    "\n"
    "Options:\n"
    "  --out FILE.h5   output (written as FILE.h5.tmp, renamed when complete)\n"
    "  --arch NAME     tiny (default: the test fixture's shape, 240 px input, 2 layers) |\n"
    "                  ViT-B-16-plus-240 | ViT-B-16 | ViT-B-16-quickgelu (full size, ~800 MB)\n"
    "  --seed N        random seed (default 0)\n"
    "\n"
    "Example:\n"
    "  winclip make-random-model --arch tiny --out results/demo/model.h5\n",
    run};
