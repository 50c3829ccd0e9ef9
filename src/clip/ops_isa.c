/*
 * ops_isa.c - run-time choice of the kernel path (see ops_isa.h).
 *
 * The choice is made once (pthread_once) on first use: the CPU's features
 * (__builtin_cpu_supports), capped by WINCLIP_ISA. The erf coefficient table of the vector
 * GELU is filled at the same time, so the kernels never compute it per call.
 * Reference: GCC x86 built-in functions (__builtin_cpu_supports); ops_kernels.h.
 */
#include "clip/ops_isa.h"

#include "clip/ops_kernels.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

float ops_erf_coef[8][16];

static pthread_once_t once = PTHREAD_ONCE_INIT;
static OpsIsa detected = OPS_ISA_SCALAR, active = OPS_ISA_SCALAR;
static const OpsKernels *table = &ops_kernels_scalar;

static const char *const names[] = {"scalar", "avx2", "avx512"};

const char *ops_isa_name(OpsIsa isa) { return (unsigned)isa < 3u ? names[isa] : "unknown"; }

/* The Taylor coefficients of erf around 16 centres (Hermite form of the derivatives,
 * erf^(n)(c) = 2/sqrt(pi) (-1)^(n-1) H_(n-1)(c) e^(-c^2)); see ops_avx512.c. */
static void erf_taylor_table(float coef[8][16])
{
    for (int i = 0; i < 16; i++) {
        const double c = (i + 0.5) / 4.0, g = 1.1283791670955126 * exp(-c * c); /* 2/sqrt(pi) e^-c^2 */
        double h[8] = {1.0, 2.0 * c};                                              /* Hermite H_0.. */
        for (int n = 1; n < 7; n++) h[n + 1] = 2.0 * c * h[n] - 2.0 * n * h[n - 1];
        coef[0][i] = (float)erf(c);
        double fact = 1.0;
        for (int n = 1; n < 8; n++) {
            fact *= n;
            coef[n][i] = (float)(((n - 1) % 2 ? -1.0 : 1.0) * g * h[n - 1] / fact);
        }
    }
}

static const OpsKernels *table_of(OpsIsa isa)
{
#ifdef OPS_X86_SIMD
    if (isa == OPS_ISA_AVX512) return &ops_kernels_avx512;
    if (isa == OPS_ISA_AVX2) return &ops_kernels_avx2;
#endif
    (void)isa;
    return &ops_kernels_scalar;
}

static void choose(void)
{
    erf_taylor_table(ops_erf_coef);
#ifdef OPS_X86_SIMD
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) detected = OPS_ISA_AVX2;
    if (detected == OPS_ISA_AVX2 && __builtin_cpu_supports("avx512f")) detected = OPS_ISA_AVX512;
#endif
    OpsIsa cap = OPS_ISA_AVX512;
    const char *env = getenv("WINCLIP_ISA");
    if (env && *env) {
        int found = 0;
        for (int i = 0; i < 3; i++)
            if (strcmp(env, names[i]) == 0) cap = (OpsIsa)i, found = 1;
        if (!found)
            fprintf(stderr, "winclip: environment WINCLIP_ISA: expected scalar, avx2 or avx512, found '%s'; ignored\n",
                    env);
    }
    active = cap < detected ? cap : detected;
    table = table_of(active);
}

OpsIsa ops_isa_detected(void)
{
    pthread_once(&once, choose);
    return detected;
}

OpsIsa ops_isa_active(void)
{
    pthread_once(&once, choose);
    return active;
}

OpsIsa ops_isa_set(OpsIsa isa)
{
    pthread_once(&once, choose);
    active = isa < detected ? isa : detected;
    table = table_of(active);
    return active;
}

const OpsKernels *ops_kernels(void)
{
    pthread_once(&once, choose);
    return table;
}
