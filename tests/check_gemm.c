/*
 * check_gemm.c - tests for gemm.c: the row-major sgemm of the built backend (oneDNN or OpenBLAS)
 * against a naive double-precision triple loop, for every transpose combination, row strides
 * wider than the matrices, alpha/beta scaling and beta = 0 ignoring what C held.
 * Reference: the CBLAS sgemm contract (row-major), as documented in gemm.h.
 */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/base.h"
#include "clip/gemm.h"
#include "clip/numerics.h"
#include "clip/ops_isa.h"

#ifdef _OPENMP
#include <omp.h>
#endif
#include "check_suites.h"
#include "test_util.h"

/* Deterministic values in [-1, 1) (LCG, high bits). */
static void fill(float *x, size_t n, uint64_t seed)
{
    for (size_t i = 0; i < n; i++) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        x[i] = (float)((double)(seed >> 11) / 9007199254740992.0 * 2.0 - 1.0);
    }
}

/* want (M, N) = alpha * op(A) @ op(B) + beta * C0 in double, same storage conventions as gemm. */
static void gemm_ref(int ta, int tb, int M, int N, int K, double alpha, const float *A, int lda, const float *B,
                     int ldb, double beta, const float *C0, int ldc, float *want)
{
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double s = 0;
            for (int k = 0; k < K; k++) {
                const double a = ta ? A[(size_t)k * lda + i] : A[(size_t)i * lda + k];
                const double b = tb ? B[(size_t)j * ldb + k] : B[(size_t)k * ldb + j];
                s += a * b;
            }
            want[(size_t)i * N + j] = (float)(alpha * s + (beta != 0.0 ? beta * C0[(size_t)i * ldc + j] : 0.0));
        }
}

typedef struct {
    int M, N, K, pad; /* pad: extra columns in every row stride */
    float alpha, beta;
} Shape;

/* Runs one product; checks every element of C (the padding columns too: they must be untouched). */
static void check_one(const Shape *s, int ta, int tb, uint64_t seed)
{
    const int M = s->M, N = s->N, K = s->K;
    const int a_rows = ta ? K : M, a_cols = ta ? M : K, b_rows = tb ? N : K, b_cols = tb ? K : N;
    const int lda = a_cols + s->pad, ldb = b_cols + s->pad, ldc = N + s->pad;
    float *A = malloc((size_t)a_rows * lda * sizeof *A), *B = malloc((size_t)b_rows * ldb * sizeof *B);
    float *C = malloc((size_t)M * ldc * sizeof *C), *C0 = malloc((size_t)M * ldc * sizeof *C0);
    float *want = malloc((size_t)M * N * sizeof *want), *got = malloc((size_t)M * N * sizeof *got);
    fill(A, (size_t)a_rows * lda, seed);
    fill(B, (size_t)b_rows * ldb, seed + 1);
    fill(C0, (size_t)M * ldc, seed + 2);
    if (s->beta == 0.0f)
        for (size_t i = 0; i < (size_t)M * ldc; i++)
            if (i % (size_t)ldc < (size_t)N) C0[i] = NAN; /* beta = 0: C is written, never read */
    memcpy(C, C0, (size_t)M * ldc * sizeof *C);
    gemm(ta, tb, M, N, K, s->alpha, A, lda, B, ldb, s->beta, C, ldc);
    gemm_ref(ta, tb, M, N, K, s->alpha, A, lda, B, ldb, s->beta, C0, ldc, want);
    for (int i = 0; i < M; i++) {
        memcpy(got + (size_t)i * N, C + (size_t)i * ldc, (size_t)N * sizeof *got);
        for (int j = N; j < ldc; j++)
            ck_assert_msg(C[(size_t)i * ldc + j] == C0[(size_t)i * ldc + j], "padding C[%d][%d] written", i, j);
    }
    char label[128];
    snprintf(label, sizeof label, "gemm %s M=%d N=%d K=%d ta=%d tb=%d pad=%d alpha=%g beta=%g", gemm_backend(), M,
             N, K, ta, tb, s->pad, (double)s->alpha, (double)s->beta);
    /* |terms| <= 1: fp32 accumulation error stays well below 1e-6 * K */
    ck_assert(test_allclose(got, want, (size_t)M * N, 2e-6 * K + 1e-6, label));
    free(A), free(B), free(C), free(C0), free(want), free(got);
}

START_TEST(gemm_vs_naive)
{
    const Shape shapes[] = {
        {1, 1, 1, 0, 1.0f, 0.0f},     {3, 5, 7, 0, 1.0f, 0.0f},     {7, 3, 5, 2, 0.5f, 1.0f},
        {17, 33, 65, 3, 1.0f, -0.5f}, {64, 48, 80, 0, -2.0f, 0.0f}, {1, 257, 96, 1, 1.0f, 0.25f},
        {200, 1, 31, 0, 1.0f, 0.0f},  {50, 64, 768, 5, 0.125f, 1.0f},
    };
    uint64_t seed = 7;
    for (size_t i = 0; i < ARRAY_LEN(shapes); i++)
        for (int ta = 0; ta <= 1; ta++)
            for (int tb = 0; tb <= 1; tb++) check_one(&shapes[i], ta, tb, seed += 3);
}
END_TEST

/* The layouts the CLIP code uses, written out by hand on a 2x3 @ 3x2 case. */
START_TEST(gemm_known_values)
{
    const float A[6] = {1, 2, 3, 4, 5, 6};       /* (2, 3) */
    const float At[6] = {1, 4, 2, 5, 3, 6};      /* the same, stored (3, 2) */
    const float B[6] = {7, 8, 9, 10, 11, 12};    /* (3, 2) */
    const float Bt[6] = {7, 9, 11, 8, 10, 12};   /* the same, stored (2, 3) */
    const float want[4] = {58, 64, 139, 154};    /* A @ B */
    const float *as[2] = {A, At}, *bs[2] = {B, Bt};
    for (int ta = 0; ta <= 1; ta++)
        for (int tb = 0; tb <= 1; tb++) {
            float C[4] = {1, 1, 1, 1};
            gemm(ta, tb, 2, 2, 3, 1.0f, as[ta], ta ? 2 : 3, bs[tb], tb ? 3 : 2, 0.0f, C, 2);
            ck_assert(test_allclose(C, want, 4, 0.0, ta ? (tb ? "AtBt" : "AtB") : (tb ? "ABt" : "AB")));
        }
    /* accumulate: C = 2 * A @ B + 1 * C */
    float C[4] = {1, 2, 3, 4};
    gemm(0, 0, 2, 2, 3, 2.0f, A, 3, B, 2, 1.0f, C, 2);
    const float acc[4] = {117, 130, 281, 312};
    ck_assert(test_allclose(C, acc, 4, 0.0, "alpha 2, beta 1"));
    /* an empty product leaves C alone */
    gemm(0, 0, 0, 2, 3, 1.0f, A, 3, B, 2, 0.0f, C, 2);
    ck_assert(test_allclose(C, acc, 4, 0.0, "M = 0"));
    ck_assert(strcmp(gemm_backend(), WINCLIP_GEMM_NAME) == 0);
}
END_TEST

/* The numerics string names the kernel path in use, the backend with its kernels on this CPU
 * and its threads with their kind; switching the kernel path changes it. */
START_TEST(gemm_numerics_names_the_path)
{
    ck_assert(gemm_threads() >= 1);
    /* only the pthreads OpenBLAS runs its own threads inside a parallel loop */
    ck_assert_int_eq(gemm_one_thread_in_parallel(), strcmp(gemm_threading(), "pthreads") != 0);
#if defined(WINCLIP_OPENBLAS_OPENMP)
    /* the Makefile linked OpenBLAS's OpenMP build: the binary must load it, not the default */
    ck_assert_str_eq(gemm_threading(), "openmp");
#endif
    ck_assert(gemm_kernels()[0] != 0);
    char want[CLIP_NUMERICS_CAP], got[CLIP_NUMERICS_CAP], prev[CLIP_NUMERICS_CAP] = "";
    const OpsIsa before = ops_isa_active();
    for (int i = OPS_ISA_SCALAR; i <= (int)ops_isa_detected(); i++) {
        const OpsIsa isa = ops_isa_set((OpsIsa)i);
        snprintf(want, sizeof want, "kernels=%s;gemm=%s/%s;threads=%d/%s", ops_isa_name(isa), gemm_backend(),
                 gemm_kernels(), gemm_threads(), gemm_threading());
        clip_numerics(got, sizeof got);
        ck_assert_str_eq(got, want);
        ck_assert_str_ne(got, prev); /* each path its own string */
        snprintf(prev, sizeof prev, "%s", got);
    }
    ops_isa_set(before);
#ifdef _OPENMP
    if (strcmp(gemm_backend(), "onednn") == 0) { /* oneDNN's threads are OpenMP's: the string follows them */
        const int threads = omp_get_max_threads();
        omp_set_num_threads(threads + 1);
        clip_numerics(got, sizeof got);
        omp_set_num_threads(threads);
        snprintf(want, sizeof want, ";threads=%d/openmp", threads + 1);
        ck_assert_msg(strstr(got, want) != NULL, "%s lacks %s", got, want);
    }
#endif
    clip_numerics(got, 8); /* truncated, terminated */
    ck_assert_int_eq((int)strlen(got), 7);
}
END_TEST

Suite *gemm_suite(void)
{
    Suite *s = suite_create("gemm");
    TCase *core = tcase_create("Core");
    tcase_add_test(core, gemm_known_values);
    tcase_add_test(core, gemm_vs_naive);
    tcase_add_test(core, gemm_numerics_names_the_path);
    suite_add_tcase(s, core);
    return s;
}
