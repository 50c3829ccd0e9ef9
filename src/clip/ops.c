/*
 * ops.c - fp32 transformer kernels (see ops.h for shapes).
 *
 * Matrix products use gemm.h; the small loops are written so the compiler can vectorise them
 * without -ffast-math (fixed-width partial sums, restrict pointers). Statistics (LayerNorm
 * mean/variance, softmax sums, L2 norms) are accumulated in double.
 * Reference: shared/spec/clip.md §1.1, §1.2, §2.1, §2.2; PyTorch nn.LayerNorm, nn.GELU,
 * open_clip QuickGELU and Attention.
 */
#include "clip/ops.h"

#include "util/base.h"
#include "clip/gemm.h"

#include <math.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

/* ---- threads ----
 * With OpenMP (-fopenmp) the row loops below run on the same libgomp threads as oneDNN's
 * GEMM (OMP_NUM_THREADS), so the cores are not left idle between products. Every row is
 * computed by one thread with the same code: results do not depend on the thread count.
 * Without OpenMP the loops are serial. */

int ops_threads(void)
{
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

/* Threads worth starting for `work` floats of elementwise work. */
static int threads_for(size_t work) { return work >= ((size_t)1 << 15) ? ops_threads() : 1; }

static int thread_id(void)
{
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

/* ---- AVX-512 paths (x86-64 with GCC/Clang; chosen at run time, scalar code elsewhere) ----
 *
 * Exact GELU needs erf on ~125 M values per WinCLIP image: glibc's scalar erff alone would
 * cost ~0.6 s. The vector erf below uses 16 intervals of width 1/4 on [0, 4) and the degree-7
 * Taylor polynomial of erf around each interval's centre (coefficients computed from the
 * Hermite-polynomial form of erf's derivatives, erf^(n)(c) = 2/sqrt(pi) (-1)^(n-1) H_(n-1)(c)
 * e^(-c^2)); truncation error < 1e-9, so results stay within float rounding of erff (tested);
 * erf = 1 in float beyond 4. Dot products use a fixed lane order, so results are deterministic.
 * Build with -DWINCLIP_NO_SIMD (make CFLAGS=-DWINCLIP_NO_SIMD BUILD=build-nosimd) to test the
 * scalar paths. */

#if defined(__x86_64__) && defined(__GNUC__) && !defined(WINCLIP_NO_SIMD)
#include <immintrin.h>
#define OPS_AVX512 1
#define AVX512 __attribute__((target("avx512f")))
static int have_avx512(void) { return __builtin_cpu_supports("avx512f"); }

/* coef[n][i]: n-th Taylor coefficient of erf around c_i = (i + 0.5) / 4, i = 0..15. */
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

AVX512 static float dot_avx512(const float *a, const float *b, int n)
{
    __m512 acc = _mm512_setzero_ps();
    int i = 0;
    for (; i + 16 <= n; i += 16) acc = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), acc);
    if (i < n) {
        const __mmask16 m = (__mmask16)((1u << (n - i)) - 1u);
        acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i), acc);
    }
    return _mm512_reduce_add_ps(acc);
}

AVX512 static void axpy_avx512(float *y, float alpha, const float *x, int n)
{
    const __m512 a = _mm512_set1_ps(alpha);
    int i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(y + i, _mm512_fmadd_ps(a, _mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i)));
    if (i < n) {
        const __mmask16 m = (__mmask16)((1u << (n - i)) - 1u);
        _mm512_mask_storeu_ps(y + i, m, _mm512_fmadd_ps(a, _mm512_maskz_loadu_ps(m, x + i), _mm512_maskz_loadu_ps(m, y + i)));
    }
}

AVX512 static void add_avx512(float *y, const float *x, size_t n)
{
    size_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, _mm512_add_ps(_mm512_loadu_ps(y + i), _mm512_loadu_ps(x + i)));
    for (; i < n; i++) y[i] += x[i];
}

/* x (rows, N) = gelu(x + bias) with the interval-Taylor erf; bias (N) or NULL. */
AVX512 static void bias_gelu_avx512(float *x, const float *bias, size_t rows, int N)
{
    float coef[8][16];
    erf_taylor_table(coef);
    __m512 c[8];
    for (int k = 0; k < 8; k++) c[k] = _mm512_loadu_ps(coef[k]);
    const __m512 rsqrt2 = _mm512_set1_ps(0.70710678118654752f), four = _mm512_set1_ps(4.0f);
    const __m512 quarter = _mm512_set1_ps(0.25f), eighth = _mm512_set1_ps(0.125f), one = _mm512_set1_ps(1.0f);
    const __m512 half = _mm512_set1_ps(0.5f);
    const __m512i fifteen = _mm512_set1_epi32(15), sign = _mm512_set1_epi32((int)0x80000000u);
    for (size_t r = 0; r < rows; r++) {
        float *row = x + r * (size_t)N;
        for (int i = 0; i < N; i += 16) {
            const __mmask16 m = N - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (N - i)) - 1u);
            const __m512 b = bias ? _mm512_maskz_loadu_ps(m, bias + i) : _mm512_setzero_ps();
            const __m512 v = _mm512_add_ps(_mm512_maskz_loadu_ps(m, row + i), b);
            const __m512 z = _mm512_abs_ps(_mm512_mul_ps(v, rsqrt2));
            const __m512i idx = _mm512_min_epi32(_mm512_cvttps_epi32(_mm512_mul_ps(z, four)), fifteen);
            const __m512 t = _mm512_sub_ps(z, _mm512_fmadd_ps(_mm512_cvtepi32_ps(idx), quarter, eighth));
            __m512 p = _mm512_permutexvar_ps(idx, c[7]);
            for (int k = 6; k >= 0; k--) p = _mm512_fmadd_ps(p, t, _mm512_permutexvar_ps(idx, c[k]));
            p = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(z, four, _CMP_GE_OQ), p, one);
            const __m512 e = _mm512_castsi512_ps(
                _mm512_or_si512(_mm512_castps_si512(p), _mm512_and_si512(_mm512_castps_si512(v), sign)));
            _mm512_mask_storeu_ps(row + i, m, _mm512_mul_ps(_mm512_mul_ps(half, v), _mm512_add_ps(one, e)));
        }
    }
}

/* x (rows, N) = quick_gelu(x + bias) = v / (1 + e^(-1.702 v)); bias (N) or NULL. */
AVX512 static __m512 exp_avx512(__m512 y);
AVX512 static void bias_quick_gelu_avx512(float *x, const float *bias, size_t rows, int N)
{
    const __m512 k = _mm512_set1_ps(-1.702f), one = _mm512_set1_ps(1.0f);
    for (size_t r = 0; r < rows; r++) {
        float *row = x + r * (size_t)N;
        for (int i = 0; i < N; i += 16) {
            const __mmask16 m = N - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (N - i)) - 1u);
            const __m512 b = bias ? _mm512_maskz_loadu_ps(m, bias + i) : _mm512_setzero_ps();
            const __m512 v = _mm512_add_ps(_mm512_maskz_loadu_ps(m, row + i), b);
            const __m512 d = _mm512_add_ps(one, exp_avx512(_mm512_mul_ps(k, v)));
            _mm512_mask_storeu_ps(row + i, m, _mm512_div_ps(v, d));
        }
    }
}

/* LayerNorm of one row (see ops_layernorm): statistics in double, 8 lanes at a time. */
AVX512 static void layernorm_row_avx512(float *y, const float *x, const float *w, const float *b, int C)
{
    __m512d acc = _mm512_setzero_pd();
    int i = 0;
    for (; i + 8 <= C; i += 8) acc = _mm512_add_pd(acc, _mm512_cvtps_pd(_mm256_loadu_ps(x + i)));
    double sum = _mm512_reduce_add_pd(acc);
    for (int j = i; j < C; j++) sum += x[j];
    const double mean = sum / C;
    const __m512d vm = _mm512_set1_pd(mean);
    acc = _mm512_setzero_pd();
    for (i = 0; i + 8 <= C; i += 8) {
        const __m512d d = _mm512_sub_pd(_mm512_cvtps_pd(_mm256_loadu_ps(x + i)), vm);
        acc = _mm512_fmadd_pd(d, d, acc);
    }
    double var = _mm512_reduce_add_pd(acc);
    for (int j = i; j < C; j++) var += (x[j] - mean) * (x[j] - mean);
    var /= C;
    const double rstd = 1.0 / sqrt(var + OPS_LN_EPS);
    const __m512d vr = _mm512_set1_pd(rstd);
    for (i = 0; i + 8 <= C; i += 8) {
        const __m256 n = _mm512_cvtpd_ps(_mm512_mul_pd(_mm512_sub_pd(_mm512_cvtps_pd(_mm256_loadu_ps(x + i)), vm), vr));
        _mm256_storeu_ps(y + i, _mm256_add_ps(_mm256_mul_ps(n, _mm256_loadu_ps(w + i)), _mm256_loadu_ps(b + i)));
    }
    for (; i < C; i++) y[i] = (float)((x[i] - mean) * rstd) * w[i] + b[i];
}


static inline __mmask16 AVX512 lane_mask(int n) /* first min(max(n, 0), 16) lanes */
{
    return n >= 16 ? (__mmask16)0xFFFF : n <= 0 ? (__mmask16)0 : (__mmask16)((1u << n) - 1u);
}

/* exp(y): y = n ln2 + r, |r| <= ln2/2, degree-7 Taylor polynomial of e^r (error < 1e-8
 * relative), times 2^n by scalef (underflows to 0 below -104, overflows to inf above ~88.7). */
AVX512 static __m512 exp_avx512(__m512 y)
{
    y = _mm512_min_ps(_mm512_max_ps(y, _mm512_set1_ps(-104.0f)), _mm512_set1_ps(100.0f));
    const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(y, _mm512_set1_ps(1.44269504088896341f)),
                                          _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693145751953125f), y);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(1.428606765330187e-06f), r);
    static const float inv_fact[8] = {1.0f, 1.0f, 0.5f, 1.0f / 6, 1.0f / 24, 1.0f / 120, 1.0f / 720, 1.0f / 5040};
    __m512 p = _mm512_set1_ps(inv_fact[7]);
    for (int k = 6; k >= 0; k--) p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(inv_fact[k]));
    return _mm512_scalef_ps(p, n);
}

/* ops_softmax_row with vector max/exp; the sum is accumulated in double. */
AVX512 static void softmax_avx512(float *x, int N, int valid)
{
    __m512 vmax = _mm512_set1_ps(-INFINITY);
    for (int j = 0; j < valid; j += 16)
        vmax = _mm512_max_ps(vmax, _mm512_mask_loadu_ps(_mm512_set1_ps(-INFINITY), lane_mask(valid - j), x + j));
    const __m512 mx = _mm512_set1_ps(_mm512_reduce_max_ps(vmax));
    __m512d sum = _mm512_setzero_pd();
    for (int j = 0; j < valid; j += 16) {
        const __mmask16 m = lane_mask(valid - j);
        const __m512 e = _mm512_maskz_mov_ps(m, exp_avx512(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + j), mx)));
        _mm512_mask_storeu_ps(x + j, m, e);
        sum = _mm512_add_pd(sum, _mm512_cvtps_pd(_mm512_castps512_ps256(e)));
        sum = _mm512_add_pd(sum, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(e), 1))));
    }
    const __m512 inv = _mm512_set1_ps((float)(1.0 / _mm512_reduce_add_pd(sum)));
    for (int j = 0; j < valid; j += 16) {
        const __mmask16 m = lane_mask(valid - j);
        _mm512_mask_storeu_ps(x + j, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, x + j), inv));
    }
    for (int j = valid; j < N; j++) x[j] = 0.0f;
}

/* One head of one sequence (see attend_head). Scores from k_h transposed to (HS, T) so 16 keys
 * form one register accumulated over the head dims; the weighted sum of values keeps 64 output
 * columns in four registers over the keys. att: T*T + HS*T floats. */
AVX512 static void attend_head_avx512(float *out, const float *q, const float *k, const float *v, float *att, int T,
                                      int C, int HS, int causal)
{
    const int ld = 3 * C;
    const float scale = (float)(1.0 / sqrt((double)HS));
    float *kt = att + (size_t)T * T;
    /* transpose k_h (T, HS; row stride 3C) into kt (HS, T), 16 keys per gather */
    const __m512i rows16 = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                              _mm512_set1_epi32(ld));
    for (int j0 = 0; j0 < T; j0 += 16) {
        const __mmask16 m = lane_mask(T - j0);
        const float *kj = k + (size_t)j0 * ld;
        for (int d = 0; d < HS; d++)
            _mm512_mask_storeu_ps(kt + (size_t)d * T + j0, m,
                                  _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, rows16, kj + d, 4));
    }
    const __m512 vscale = _mm512_set1_ps(scale);
    for (int i = 0; i < T; i++) {
        float *a = att + (size_t)i * T;
        const float *qi = q + (size_t)i * ld;
        const int valid = causal ? i + 1 : T;
        for (int j0 = 0; j0 < valid; j0 += 16) {
            const __mmask16 m = lane_mask(valid - j0);
            /* four independent chains over the head dims (one chain would be latency-bound) */
            __m512 acc0 = _mm512_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
            const float *kc = kt + j0;
            int d = 0;
            for (; d + 4 <= HS; d += 4, kc += 4 * (size_t)T) {
                acc0 = _mm512_fmadd_ps(_mm512_set1_ps(qi[d]), _mm512_maskz_loadu_ps(m, kc), acc0);
                acc1 = _mm512_fmadd_ps(_mm512_set1_ps(qi[d + 1]), _mm512_maskz_loadu_ps(m, kc + T), acc1);
                acc2 = _mm512_fmadd_ps(_mm512_set1_ps(qi[d + 2]), _mm512_maskz_loadu_ps(m, kc + 2 * (size_t)T), acc2);
                acc3 = _mm512_fmadd_ps(_mm512_set1_ps(qi[d + 3]), _mm512_maskz_loadu_ps(m, kc + 3 * (size_t)T), acc3);
            }
            for (; d < HS; d++, kc += T) acc0 = _mm512_fmadd_ps(_mm512_set1_ps(qi[d]), _mm512_maskz_loadu_ps(m, kc), acc0);
            const __m512 sum = _mm512_add_ps(_mm512_add_ps(acc0, acc1), _mm512_add_ps(acc2, acc3));
            _mm512_mask_storeu_ps(a + j0, m, _mm512_mul_ps(sum, vscale));
        }
        softmax_avx512(a, T, valid);
        float *o = out + (size_t)i * C;
        for (int c0 = 0; c0 < HS; c0 += 64) {
            const __mmask16 m0 = lane_mask(HS - c0), m1 = lane_mask(HS - c0 - 16), m2 = lane_mask(HS - c0 - 32),
                            m3 = lane_mask(HS - c0 - 48);
            /* two keys per step into separate accumulators: 8 independent FMA chains */
            __m512 o0 = _mm512_setzero_ps(), o1 = o0, o2 = o0, o3 = o0, p0 = o0, p1 = o0, p2 = o0, p3 = o0;
            int j = 0;
            for (; j + 2 <= valid; j += 2) {
                const __m512 w = _mm512_set1_ps(a[j]), w2 = _mm512_set1_ps(a[j + 1]);
                const float *vj = v + (size_t)j * ld + c0, *vj2 = vj + ld;
                o0 = _mm512_fmadd_ps(w, _mm512_maskz_loadu_ps(m0, vj), o0);
                o1 = _mm512_fmadd_ps(w, _mm512_maskz_loadu_ps(m1, vj + 16), o1);
                o2 = _mm512_fmadd_ps(w, _mm512_maskz_loadu_ps(m2, vj + 32), o2);
                o3 = _mm512_fmadd_ps(w, _mm512_maskz_loadu_ps(m3, vj + 48), o3);
                p0 = _mm512_fmadd_ps(w2, _mm512_maskz_loadu_ps(m0, vj2), p0);
                p1 = _mm512_fmadd_ps(w2, _mm512_maskz_loadu_ps(m1, vj2 + 16), p1);
                p2 = _mm512_fmadd_ps(w2, _mm512_maskz_loadu_ps(m2, vj2 + 32), p2);
                p3 = _mm512_fmadd_ps(w2, _mm512_maskz_loadu_ps(m3, vj2 + 48), p3);
            }
            if (j < valid) {
                const __m512 w = _mm512_set1_ps(a[j]);
                const float *vj = v + (size_t)j * ld + c0;
                o0 = _mm512_fmadd_ps(w, _mm512_maskz_loadu_ps(m0, vj), o0);
                o1 = _mm512_fmadd_ps(w, _mm512_maskz_loadu_ps(m1, vj + 16), o1);
                o2 = _mm512_fmadd_ps(w, _mm512_maskz_loadu_ps(m2, vj + 32), o2);
                o3 = _mm512_fmadd_ps(w, _mm512_maskz_loadu_ps(m3, vj + 48), o3);
            }
            o0 = _mm512_add_ps(o0, p0);
            o1 = _mm512_add_ps(o1, p1);
            o2 = _mm512_add_ps(o2, p2);
            o3 = _mm512_add_ps(o3, p3);
            _mm512_mask_storeu_ps(o + c0, m0, o0);
            _mm512_mask_storeu_ps(o + c0 + 16, m1, o1);
            _mm512_mask_storeu_ps(o + c0 + 32, m2, o2);
            _mm512_mask_storeu_ps(o + c0 + 48, m3, o3);
        }
    }
}
#endif

/* sum_i a[i] * b[i]. */
static float dot(const float *restrict a, const float *restrict b, int n)
{
#ifdef OPS_AVX512
    if (have_avx512()) return dot_avx512(a, b, n);
#endif
    float s = 0.0f;
    for (int i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

/* y (n) += alpha * x (n). */
static void axpy(float *restrict y, float alpha, const float *restrict x, int n)
{
#ifdef OPS_AVX512
    if (have_avx512()) {
        axpy_avx512(y, alpha, x, n);
        return;
    }
#endif
    for (int i = 0; i < n; i++) y[i] += alpha * x[i];
}

static void add_bias_rows(float *out, const float *bias, int T, int OC)
{
    const int nt = threads_for((size_t)T * OC);
    (void)nt;
#ifdef _OPENMP
#pragma omp parallel for num_threads(nt) schedule(static)
#endif
    for (int t = 0; t < T; t++) ops_add(out + (size_t)t * OC, bias, (size_t)OC);
}

/* ---- linear layers ---- */

void ops_linear(float *out, const float *inp, const float *w, const float *bias, int T, int C, int OC)
{
    gemm(0, 1, T, OC, C, 1.0f, inp, C, w, C, 0.0f, out, OC);
    if (bias) add_bias_rows(out, bias, T, OC);
}

void ops_linear_residual(float *x, const float *inp, const float *w, const float *bias, int T, int C, int OC)
{
    gemm(0, 1, T, OC, C, 1.0f, inp, C, w, C, 1.0f, x, OC);
    if (bias) add_bias_rows(x, bias, T, OC);
}

void ops_project(float *out, const float *inp, int ld_inp, const float *w, int T, int C, int OC)
{
    gemm(0, 0, T, OC, C, 1.0f, inp, ld_inp, w, OC, 0.0f, out, OC);
}

/* ---- normalisation and activations ---- */

/* One row of ops_layernorm, scalar. */
static void layernorm_row(float *y, const float *x, const float *w, const float *b, int C)
{
    double s[4] = {0, 0, 0, 0};
    int i = 0;
    for (; i + 4 <= C; i += 4)
        for (int l = 0; l < 4; l++) s[l] += x[i + l];
    for (; i < C; i++) s[0] += x[i];
    const double mean = ((s[0] + s[1]) + (s[2] + s[3])) / C;
    double v[4] = {0, 0, 0, 0};
    for (i = 0; i + 4 <= C; i += 4)
        for (int l = 0; l < 4; l++) {
            double d = x[i + l] - mean;
            v[l] += d * d;
        }
    for (; i < C; i++) v[0] += (x[i] - mean) * (x[i] - mean);
    const double var = ((v[0] + v[1]) + (v[2] + v[3])) / C;
    const double rstd = 1.0 / sqrt(var + OPS_LN_EPS);
    for (i = 0; i < C; i++) y[i] = (float)((x[i] - mean) * rstd) * w[i] + b[i];
}

void ops_layernorm(float *out, const float *inp, const float *w, const float *b, int T, int C)
{
    int simd = 0;
#ifdef OPS_AVX512
    simd = have_avx512();
#endif
    const int nt = threads_for((size_t)T * C);
    (void)nt;
#ifdef _OPENMP
#pragma omp parallel for num_threads(nt) schedule(static)
#endif
    for (int t = 0; t < T; t++) {
        const float *x = inp + (size_t)t * C;
        float *y = out + (size_t)t * C;
#ifdef OPS_AVX512
        if (simd) {
            layernorm_row_avx512(y, x, w, b, C);
            continue;
        }
#endif
        (void)simd;
        layernorm_row(y, x, w, b, C);
    }
}

static inline float gelu1(float x) { return 0.5f * x * (1.0f + erff(x * 0.70710678118654752f)); }
static inline float quick_gelu1(float x) { return x / (1.0f + expf(-1.702f * x)); }

/* In-place GELU (quick = 0) or QuickGELU (quick = 1) over a flat array; the AVX-512 kernel
 * takes an int length, so it runs in chunks of 2^20. */
static void act_flat(float *x, size_t n, int quick)
{
#ifdef OPS_AVX512
    if (have_avx512()) {
        for (size_t off = 0; off < n; off += 1u << 20) {
            int len = (int)(n - off < (1u << 20) ? n - off : (1u << 20));
            if (quick) bias_quick_gelu_avx512(x + off, NULL, 1, len);
            else bias_gelu_avx512(x + off, NULL, 1, len);
        }
        return;
    }
#endif
    for (size_t i = 0; i < n; i++) x[i] = quick ? quick_gelu1(x[i]) : gelu1(x[i]);
}

void ops_gelu(float *x, size_t n) { act_flat(x, n, 0); }

void ops_quick_gelu(float *x, size_t n) { act_flat(x, n, 1); }

void ops_bias_act(float *x, const float *bias, size_t rows, int N, int quick)
{
    int simd = 0;
#ifdef OPS_AVX512
    simd = have_avx512();
#endif
    const int nt = threads_for(rows * (size_t)N);
    (void)nt;
#ifdef _OPENMP
#pragma omp parallel for num_threads(nt) schedule(static)
#endif
    for (size_t r = 0; r < rows; r++) {
        float *row = x + r * (size_t)N;
#ifdef OPS_AVX512
        if (simd) {
            if (quick) bias_quick_gelu_avx512(row, bias, 1, N);
            else bias_gelu_avx512(row, bias, 1, N);
            continue;
        }
#endif
        (void)simd;
        if (quick)
            for (int i = 0; i < N; i++) row[i] = quick_gelu1(row[i] + bias[i]);
        else
            for (int i = 0; i < N; i++) row[i] = gelu1(row[i] + bias[i]);
    }
}

void ops_softmax_row(float *x, int N, int valid)
{
#ifdef OPS_AVX512
    if (have_avx512()) {
        softmax_avx512(x, N, valid);
        return;
    }
#endif
    float mx = x[0];
    for (int j = 1; j < valid; j++) mx = x[j] > mx ? x[j] : mx;
    double sum = 0.0;
    for (int j = 0; j < valid; j++) {
        x[j] = expf(x[j] - mx);
        sum += x[j];
    }
    const float inv = (float)(1.0 / sum);
    for (int j = 0; j < valid; j++) x[j] *= inv;
    for (int j = valid; j < N; j++) x[j] = 0.0f;
}

void ops_add(float *x, const float *y, size_t n)
{
#ifdef OPS_AVX512
    if (have_avx512()) {
        add_avx512(x, y, n);
        return;
    }
#endif
    for (size_t i = 0; i < n; i++) x[i] += y[i];
}

void ops_l2_normalize(float *x, int R, int C)
{
    for (int r = 0; r < R; r++) {
        float *row = x + (size_t)r * C;
        double s = 0.0;
        for (int i = 0; i < C; i++) s += (double)row[i] * row[i];
        if (s == 0.0) continue;
        const double inv = 1.0 / sqrt(s);
        for (int i = 0; i < C; i++) row[i] = (float)(row[i] * inv);
    }
}

/* ---- attention ---- */

/* Without AVX-512, below this length the score and value products are direct loops: a GEMM
 * call per head costs more than the work for WinCLIP windows (T = 5 or 10). (With AVX-512 the
 * vector kernel serves every length: a multi-threaded GEMM backend is slow on many small
 * products such as 226 x 226 x 64 per head.) */
#define ATTN_GEMM_MIN_T 32

size_t ops_attention_scratch(int T, int C, int NH)
{
    return ((size_t)T * T + (size_t)T * (C / NH)) * (size_t)ops_threads();
}

/* One head of one sequence: out_h (T, HS; row stride C) from q/k/v (row stride 3C); att
 * scratch as ops_attention_scratch. AVX-512: attend_head_avx512; otherwise two GEMMs for long
 * sequences and dot products for short ones (windows). */
static void attend_head(float *out, const float *q, const float *k, const float *v, float *att, int T, int C,
                        int HS, int causal)
{
#ifdef OPS_AVX512
    if (have_avx512()) {
        attend_head_avx512(out, q, k, v, att, T, C, HS, causal);
        return;
    }
#endif
    const int ld = 3 * C;
    const float scale = (float)(1.0 / sqrt((double)HS));
    if (T >= ATTN_GEMM_MIN_T) {
        gemm(0, 1, T, T, HS, scale, q, ld, k, ld, 0.0f, att, T);
        for (int i = 0; i < T; i++) ops_softmax_row(att + (size_t)i * T, T, causal ? i + 1 : T);
        gemm(0, 0, T, HS, T, 1.0f, att, T, v, ld, 0.0f, out, C);
        return;
    }
    for (int i = 0; i < T; i++) {
        float *a = att + (size_t)i * T;
        const int valid = causal ? i + 1 : T;
        for (int j = 0; j < valid; j++) a[j] = dot(q + (size_t)i * ld, k + (size_t)j * ld, HS) * scale;
        ops_softmax_row(a, T, valid);
        float *o = out + (size_t)i * C;
        memset(o, 0, (size_t)HS * sizeof *o);
        for (int j = 0; j < valid; j++) axpy(o, a[j], v + (size_t)j * ld, HS);
    }
}

void ops_attention(float *out, const float *qkv, float *att, size_t att_len, int B, int T, int C, int NH, int causal)
{
    CHECK(C % NH == 0);
    const int HS = C / NH;
    const size_t per = (size_t)T * T + (size_t)T * HS;
    CHECK(att_len >= per);
    int nt = (int)(att_len / per < (size_t)ops_threads() ? att_len / per : (size_t)ops_threads());
    if ((size_t)B * NH * per < ((size_t)1 << 14)) nt = 1;
    (void)nt;
#ifdef _OPENMP
#pragma omp parallel for num_threads(nt) schedule(static)
#endif
    for (int it = 0; it < B * NH; it++) {
        const int b = it / NH, h = it % NH;
        const float *base = qkv + (size_t)b * T * 3 * C;
        float *o = out + (size_t)b * T * C;
        attend_head(o + h * HS, base + h * HS, base + C + h * HS, base + 2 * C + h * HS, att + (size_t)thread_id() * per,
                    T, C, HS, causal);
    }
}

void ops_attention_rows(float *out, const float *qkv, float *att, int T, const int *q_rows, int Q, int C, int NH)
{
    CHECK(C % NH == 0);
    const int HS = C / NH, ld = 3 * C;
    const float scale = (float)(1.0 / sqrt((double)HS));
    for (int r = 0; r < Q; r++) {
        const float *q = qkv + (size_t)q_rows[r] * ld;
        for (int h = 0; h < NH; h++) {
            const float *k = qkv + C + h * HS, *v = qkv + 2 * C + h * HS;
            for (int j = 0; j < T; j++) att[j] = dot(q + h * HS, k + (size_t)j * ld, HS) * scale;
            ops_softmax_row(att, T, T);
            float *o = out + (size_t)r * C + h * HS;
            memset(o, 0, (size_t)HS * sizeof *o);
            for (int j = 0; j < T; j++) axpy(o, att[j], v + (size_t)j * ld, HS);
        }
    }
}

/* ---- patch embedding ---- */

void ops_patchify(float *out, const float *img, int S, int P)
{
    const int G = S / P;
    for (int r = 0; r < G; r++)
        for (int c = 0; c < G; c++) {
            float *row = out + ((size_t)r * G + c) * 3 * P * P;
            for (int ch = 0; ch < 3; ch++)
                for (int ky = 0; ky < P; ky++) {
                    const float *src = img + ((size_t)ch * S + (size_t)(r * P + ky)) * S + (size_t)c * P;
                    memcpy(row + ((size_t)ch * P + ky) * P, src, (size_t)P * sizeof *src);
                }
        }
}
