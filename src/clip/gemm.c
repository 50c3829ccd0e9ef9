/*
 * gemm.c - row-major sgemm through oneDNN or OpenBLAS (chosen at build time).
 *
 * Reference: oneDNN 2.6 `dnnl_sgemm` (row-major, 'N'/'T'), `dnnl_get_effective_cpu_isa`; CBLAS
 * `cblas_sgemm`, OpenBLAS `openblas_get_corename`, `openblas_get_num_threads`,
 * `openblas_get_parallel` (0 serial, 1 pthreads, 2 OpenMP).
 */
#include "clip/gemm.h"

#include "util/base.h"

#if defined(WINCLIP_GEMM_ONEDNN)
#include <dnnl.h>
#include <omp.h>
#else
#include <cblas.h>
#endif

void gemm(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A, int lda,
          const float *B, int ldb, float beta, float *C, int ldc)
{
    if (M <= 0 || N <= 0) return;
#if defined(WINCLIP_GEMM_ONEDNN)
    dnnl_status_t st = dnnl_sgemm(trans_a ? 'T' : 'N', trans_b ? 'T' : 'N', M, N, K, alpha, A, lda, B, ldb,
                                  beta, C, ldc);
    CHECK(st == dnnl_success);
#else
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, M, N,
                K, alpha, A, lda, B, ldb, beta, C, ldc);
#endif
}

const char *gemm_backend(void)
{
#if defined(WINCLIP_GEMM_ONEDNN)
    return "onednn";
#else
    return "openblas";
#endif
}

#if defined(WINCLIP_GEMM_ONEDNN)
static const char *onednn_isa_name(dnnl_cpu_isa_t isa)
{
    switch (isa) {
    case dnnl_cpu_isa_sse41: return "sse41";
    case dnnl_cpu_isa_avx: return "avx";
    case dnnl_cpu_isa_avx2: return "avx2";
    case dnnl_cpu_isa_avx2_vnni: return "avx2_vnni";
    case dnnl_cpu_isa_avx512_mic: return "avx512_mic";
    case dnnl_cpu_isa_avx512_mic_4ops: return "avx512_mic_4ops";
    case dnnl_cpu_isa_avx512_core: return "avx512_core";
    case dnnl_cpu_isa_avx512_core_vnni: return "avx512_core_vnni";
    case dnnl_cpu_isa_avx512_core_bf16: return "avx512_core_bf16";
    case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx";
    default: return "other";
    }
}
#endif

const char *gemm_kernels(void)
{
#if defined(WINCLIP_GEMM_ONEDNN)
    return onednn_isa_name(dnnl_get_effective_cpu_isa());
#else
    const char *core = openblas_get_corename();
    return core && *core ? core : "unknown";
#endif
}

int gemm_threads(void)
{
#if defined(WINCLIP_GEMM_ONEDNN)
    return omp_get_max_threads();
#else
    return openblas_get_num_threads();
#endif
}

const char *gemm_threading(void)
{
#if defined(WINCLIP_GEMM_ONEDNN)
    return "openmp";
#else
    switch (openblas_get_parallel()) {
    case 0: return "serial";
    case 1: return "pthreads";
    default: return "openmp";
    }
#endif
}

int gemm_one_thread_in_parallel(void)
{
#if defined(WINCLIP_GEMM_ONEDNN)
    return 1;
#else
    return openblas_get_parallel() != 1; /* OpenMP's build runs one thread inside a parallel region */
#endif
}
