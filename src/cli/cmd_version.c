/*
 * cmd_version.c - `winclip version`: the build's version, GEMM backend and compiler flags.
 */
#include "cli/cli.h"

#include "clip/numerics.h"
#include "clip/ops_isa.h"

#include <stdio.h>

#ifndef WINCLIP_VERSION
#define WINCLIP_VERSION "unknown"
#endif
#ifndef WINCLIP_GEMM_NAME
#define WINCLIP_GEMM_NAME "unknown"
#endif
#ifndef WINCLIP_CFLAGS
#define WINCLIP_CFLAGS "unknown"
#endif

static int run(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    char numerics[CLIP_NUMERICS_CAP];
    clip_numerics(numerics, sizeof numerics);
    printf("winclip %s\ngemm %s\ncflags %s\nkernels %s (cpu: %s; WINCLIP_ISA caps it)\nnumerics %s\n", WINCLIP_VERSION,
           WINCLIP_GEMM_NAME, WINCLIP_CFLAGS, ops_isa_name(ops_isa_active()), ops_isa_name(ops_isa_detected()),
           numerics);
    return 0;
}

const Command cmd_version = {"version", "print the version, GEMM backend, build flags and kernel path",
                             "usage: winclip version\n\nPrints the git version the binary was built from, the matrix-product\n"
                             "backend (onednn or openblas), the compiler flags and the kernel path taken\n"
                             "(scalar, avx2 or avx512: the CPU's widest, capped by WINCLIP_ISA), then the numerics\n"
                             "line that provenance.txt and the feature cache record: the kernel path, the\n"
                             "GEMM's kernels on this CPU and its threads (what decides the last bits).\n",
                             run};
