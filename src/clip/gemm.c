/*
 * gemm.c - row-major sgemm through oneDNN or OpenBLAS (chosen at build time).
 *
 * Reference: oneDNN 2.6 `dnnl_sgemm` (row-major, 'N'/'T'); CBLAS `cblas_sgemm`.
 */
#include "clip/gemm.h"

#include "util/base.h"

#if defined(WINCLIP_GEMM_ONEDNN)
#include <dnnl.h>
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
