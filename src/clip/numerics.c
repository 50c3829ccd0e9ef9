/*
 * numerics.c - the run-time arithmetic choices of a forward pass as one string (numerics.h).
 *
 * Reference: issue 13; oneDNN dnnl_get_effective_cpu_isa, OpenBLAS openblas_get_corename, openblas_get_parallel.
 */
#include "clip/numerics.h"

#include "clip/gemm.h"
#include "clip/ops_isa.h"

#include <stdio.h>

void clip_numerics(char *buf, size_t cap)
{
    if (cap == 0) return;
    snprintf(buf, cap, "kernels=%s;gemm=%s/%s;threads=%d/%s", ops_isa_name(ops_isa_active()), gemm_backend(),
             gemm_kernels(), gemm_threads(), gemm_threading());
}
