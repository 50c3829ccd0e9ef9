/*
 * ops_kernels.h - internal: the table of element-wise kernels behind ops.c, one per ISA path.
 *
 * Does: names the row kernels every path implements (scalar in ops.c, AVX2+FMA in
 * ops_avx2.c, AVX-512 in ops_avx512.c) so ops.c dispatches through one pointer chosen by
 * ops_isa.c. All paths follow one accuracy contract: the scalar kernel's definition, within
 * float rounding (the vector GELU and exp are the same polynomials on every vector path).
 * Does not: pick a path (ops_isa.c) or thread (ops.c). Included only by src/clip/ops*.c.
 * Reference: ops.h for shapes; shared/spec/clip.md §1.1, §1.2, §2.1.
 */
#ifndef WINCLIP_OPS_KERNELS_H
#define WINCLIP_OPS_KERNELS_H

#include <stddef.h>

typedef struct OpsKernels {
    float (*dot)(const float *a, const float *b, int n);             /* sum a[i] b[i] */
    void (*axpy)(float *y, float alpha, const float *x, int n);      /* y += alpha x */
    void (*add)(float *y, const float *x, size_t n);                 /* y += x */
    void (*bias_gelu)(float *x, const float *bias, int N);           /* x (N) = gelu(x + bias); bias or NULL */
    void (*bias_quick_gelu)(float *x, const float *bias, int N);     /* x (N) = quick_gelu(x + bias) */
    void (*layernorm_row)(float *y, const float *x, const float *w, const float *b, int C);
    void (*softmax)(float *x, int N, int valid);                     /* ops_softmax_row */
    /* one head of one sequence (ops.c attend_head); NULL: ops.c's generic GEMM / dot path */
    void (*attend_head)(float *out, const float *q, const float *k, const float *v, float *att, int T, int C,
                        int HS, int causal);
} OpsKernels;

extern const OpsKernels ops_kernels_scalar;
#if defined(__x86_64__) && defined(__GNUC__) && !defined(WINCLIP_NO_SIMD)
#define OPS_X86_SIMD 1
extern const OpsKernels ops_kernels_avx2, ops_kernels_avx512;
#endif

/* The path in use (ops_isa.c): chosen once from the CPU and WINCLIP_ISA, or by ops_isa_set. */
const OpsKernels *ops_kernels(void);

/* ops_erf_coef[n][i]: n-th Taylor coefficient of erf around c_i = (i + 0.5) / 4, i = 0..15,
 * filled before any vector path is chosen (ops_isa.c). */
extern float ops_erf_coef[8][16];

#endif
