/*
 * gemm.h - the one matrix-product interface; backend chosen at build time.
 *
 * Backends: oneDNN `dnnl_sgemm` (WINCLIP_GEMM_ONEDNN, the fast one here) or OpenBLAS
 * `cblas_sgemm` (WINCLIP_GEMM_OPENBLAS, portable). `make GEMM=openblas` forces the latter.
 * Row-major only, fp32, never allocates (beyond what the backend does internally).
 * Reference: shared/spec/clip.md §2 (PyTorch weight layouts), oneDNN dnnl_sgemm, CBLAS sgemm.
 *
 *     // out (T, OC) = inp (T, C) @ w^T, w stored (OC, C) as in PyTorch
 *     gemm(0, 1, T, OC, C, 1.0f, inp, C, w, C, 0.0f, out, OC);
 */
#ifndef WINCLIP_GEMM_H
#define WINCLIP_GEMM_H

/* C (M, N) = alpha * op(A) @ op(B) + beta * C, row-major.
 * op(A) is (M, K): A stored (M, K) with row stride lda, or (K, M) when trans_a.
 * op(B) is (K, N): B stored (K, N) with row stride ldb, or (N, K) when trans_b. */
void gemm(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A, int lda,
          const float *B, int ldb, float beta, float *C, int ldc);

/* "onednn" or "openblas". */
const char *gemm_backend(void);

/* The kernels the backend chose on this CPU: oneDNN's effective ISA ("avx512_core_amx",
 * "avx2", ...: DNNL_MAX_CPU_ISA caps it), OpenBLAS's core ("SkylakeX", "Haswell", ...:
 * OPENBLAS_CORETYPE sets it). For provenance (clip/numerics.h). */
const char *gemm_kernels(void);

/* The threads one product may use: OpenMP's (oneDNN), OpenBLAS's own. */
int gemm_threads(void);

/* How the backend runs its threads: "openmp" (oneDNN; OpenBLAS's OpenMP build, which the
 * Makefile links where libopenblas-openmp-dev is installed), "pthreads" (OpenBLAS's own pool:
 * Debian's default libopenblas0-pthread) or "serial". For provenance (clip/numerics.h): it
 * decides gemm_one_thread_in_parallel, and so which attention kernels run. */
const char *gemm_threading(void);

/* 1 when a product called inside an OpenMP parallel region runs on the calling thread alone,
 * so a parallel loop may call it per item (oneDNN and OpenBLAS's OpenMP build: OpenMP-aware;
 * serial OpenBLAS); 0 when the backend runs its own threads whatever the caller does (the
 * pthreads OpenBLAS: such a loop over 14 heads took 26-30 ms for what the one-thread products
 * do in 1.6 ms). */
int gemm_one_thread_in_parallel(void);

#endif
