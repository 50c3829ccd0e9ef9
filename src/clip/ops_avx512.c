/*
 * ops_avx512.c - the AVX-512 (avx512f) path of the element-wise CLIP kernels (ops_kernels.h).
 *
 * Chosen at run time by ops_isa.c; every function carries target("avx512f"), the file is
 * built with the project's ordinary flags, so the binary still runs on CPUs without it.
 * Exact GELU needs erf on ~125 M values per WinCLIP image: glibc's scalar erff alone would
 * cost ~0.6 s. The vector erf uses 16 intervals of width 1/4 on [0, 4) and the degree-7
 * Taylor polynomial of erf around each interval's centre (ops_erf_coef, filled by ops_isa.c);
 * truncation error < 1e-9, so results stay within float rounding of erff (tested); erf = 1 in
 * float beyond 4. Dot products use a fixed lane order, so results are deterministic. Attention
 * per head: up to 16 tokens one accumulator per key, 16 keys finished by one shuffle tree
 * (sum_lanes16); longer sequences from the head's keys transposed, four queries per key load.
 * Reference: shared/spec/clip.md §1.1, §1.2, §2.1; Intel intrinsics guide (AVX-512F).
 */
#include "clip/ops_kernels.h"

#include "clip/ops.h"

#ifdef OPS_X86_SIMD
#include <immintrin.h>
#include <math.h>

#define AVX512 __attribute__((target("avx512f")))

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

/* x (N) = gelu(x + bias) with the interval-Taylor erf; bias (N) or NULL. */
AVX512 static void bias_gelu_avx512(float *x, const float *bias, int N)
{
    __m512 c[8];
    for (int k = 0; k < 8; k++) c[k] = _mm512_loadu_ps(ops_erf_coef[k]);
    const __m512 rsqrt2 = _mm512_set1_ps(0.70710678118654752f), four = _mm512_set1_ps(4.0f);
    const __m512 quarter = _mm512_set1_ps(0.25f), eighth = _mm512_set1_ps(0.125f), one = _mm512_set1_ps(1.0f);
    const __m512 half = _mm512_set1_ps(0.5f);
    const __m512i fifteen = _mm512_set1_epi32(15), sign = _mm512_set1_epi32((int)0x80000000u);
    for (int i = 0; i < N; i += 16) {
        const __mmask16 m = N - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (N - i)) - 1u);
        const __m512 b = bias ? _mm512_maskz_loadu_ps(m, bias + i) : _mm512_setzero_ps();
        const __m512 v = _mm512_add_ps(_mm512_maskz_loadu_ps(m, x + i), b);
        const __m512 z = _mm512_abs_ps(_mm512_mul_ps(v, rsqrt2));
        const __m512i idx = _mm512_min_epi32(_mm512_cvttps_epi32(_mm512_mul_ps(z, four)), fifteen);
        const __m512 t = _mm512_sub_ps(z, _mm512_fmadd_ps(_mm512_cvtepi32_ps(idx), quarter, eighth));
        __m512 p = _mm512_permutexvar_ps(idx, c[7]);
        for (int k = 6; k >= 0; k--) p = _mm512_fmadd_ps(p, t, _mm512_permutexvar_ps(idx, c[k]));
        p = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(z, four, _CMP_GE_OQ), p, one);
        const __m512 e = _mm512_castsi512_ps(
            _mm512_or_si512(_mm512_castps_si512(p), _mm512_and_si512(_mm512_castps_si512(v), sign)));
        _mm512_mask_storeu_ps(x + i, m, _mm512_mul_ps(_mm512_mul_ps(half, v), _mm512_add_ps(one, e)));
    }
}

/* x (N) = quick_gelu(x + bias) = v / (1 + e^(-1.702 v)); bias (N) or NULL. */
AVX512 static __m512 exp_avx512(__m512 y);
AVX512 static void bias_quick_gelu_avx512(float *x, const float *bias, int N)
{
    const __m512 k = _mm512_set1_ps(-1.702f), one = _mm512_set1_ps(1.0f);
    for (int i = 0; i < N; i += 16) {
        const __mmask16 m = N - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (N - i)) - 1u);
        const __m512 b = bias ? _mm512_maskz_loadu_ps(m, bias + i) : _mm512_setzero_ps();
        const __m512 v = _mm512_add_ps(_mm512_maskz_loadu_ps(m, x + i), b);
        const __m512 d = _mm512_add_ps(one, exp_avx512(_mm512_mul_ps(k, v)));
        _mm512_mask_storeu_ps(x + i, m, _mm512_div_ps(v, d));
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

/* Lane j of the result: the sum of the 16 lanes of a[j], j = 0..15, by one fixed tree (lane
 * pairs within 128-bit quarters, then quarters, then halves): 16 dot products finished at once. */
AVX512 static inline __m512 sum_lanes16(const __m512 *a)
{
    __m512 b[8], c[4], d[2];
    for (int k = 0; k < 8; k++) b[k] = _mm512_add_ps(_mm512_unpacklo_ps(a[2 * k], a[2 * k + 1]), _mm512_unpackhi_ps(a[2 * k], a[2 * k + 1]));
    for (int k = 0; k < 4; k++)
        c[k] = _mm512_add_ps(_mm512_shuffle_ps(b[2 * k], b[2 * k + 1], 0x44), _mm512_shuffle_ps(b[2 * k], b[2 * k + 1], 0xEE));
    for (int k = 0; k < 2; k++)
        d[k] = _mm512_add_ps(_mm512_shuffle_f32x4(c[2 * k], c[2 * k + 1], 0x44), _mm512_shuffle_f32x4(c[2 * k], c[2 * k + 1], 0xEE));
    return _mm512_add_ps(_mm512_shuffle_f32x4(d[0], d[1], 0x88), _mm512_shuffle_f32x4(d[0], d[1], 0xDD));
}

/* Short sequences (T <= ATTN_SHORT_T): the scores a (valid) of query qi against keys k_0 ..
 * k_valid-1 (rows ld apart) without transposing k: one accumulator per key over the head
 * dims, 16 lanes at a time, finished together by sum_lanes16. */
#define ATTN_SHORT_T 16
AVX512 static void scores_short(float *a, const float *qi, const float *k, int valid, int ld, int HS, __m512 vscale)
{
    __m512 acc[16];
    for (int j = 0; j < 16; j++) acc[j] = _mm512_setzero_ps();
    for (int d0 = 0; d0 < HS; d0 += 16) {
        const __mmask16 m = lane_mask(HS - d0);
        const __m512 qv = _mm512_maskz_loadu_ps(m, qi + d0);
        /* unrolled with a fixed trip count, so the 16 accumulators stay in registers */
#pragma GCC unroll 16
        for (int j = 0; j < 16; j++)
            if (j < valid) acc[j] = _mm512_fmadd_ps(qv, _mm512_maskz_loadu_ps(m, k + (size_t)j * ld + d0), acc[j]);
    }
    _mm512_mask_storeu_ps(a, lane_mask(valid), _mm512_mul_ps(sum_lanes16(acc), vscale));
}

/* Long sequences: the scores of every query from k_h transposed to kt (HS, T), so 16 keys form
 * one register accumulated over the head dims in four chains. */
AVX512 static void scores_long(float *att, const float *q, const float *k, float *kt, int T, int ld, int HS, int causal,
                               __m512 vscale)
{
    /* transpose k_h (T, HS; row stride ld) into kt (HS, T), 16 keys per gather */
    const __m512i rows16 = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                              _mm512_set1_epi32(ld));
    for (int j0 = 0; j0 < T; j0 += 16) {
        const __mmask16 m = lane_mask(T - j0);
        const float *kj = k + (size_t)j0 * ld;
        for (int d = 0; d < HS; d++)
            _mm512_mask_storeu_ps(kt + (size_t)d * T + j0, m,
                                  _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, rows16, kj + d, 4));
    }
    int i = 0;
    if (!causal) /* four queries at a time share each key load; per score the same four chains */
        for (; i + 4 <= T; i += 4) {
            const float *q0 = q + (size_t)i * ld;
            for (int j0 = 0; j0 < T; j0 += 16) {
                const __mmask16 m = lane_mask(T - j0);
                __m512 acc[4][4];
                for (int r = 0; r < 4; r++)
                    for (int c = 0; c < 4; c++) acc[r][c] = _mm512_setzero_ps();
                const float *kc = kt + j0;
                int d = 0;
                for (; d + 4 <= HS; d += 4, kc += 4 * (size_t)T) {
                    const __m512 k0 = _mm512_maskz_loadu_ps(m, kc), k1 = _mm512_maskz_loadu_ps(m, kc + T);
                    const __m512 k2 = _mm512_maskz_loadu_ps(m, kc + 2 * (size_t)T), k3 = _mm512_maskz_loadu_ps(m, kc + 3 * (size_t)T);
                    for (int r = 0; r < 4; r++) {
                        const float *qr = q0 + (size_t)r * ld + d;
                        acc[r][0] = _mm512_fmadd_ps(_mm512_set1_ps(qr[0]), k0, acc[r][0]);
                        acc[r][1] = _mm512_fmadd_ps(_mm512_set1_ps(qr[1]), k1, acc[r][1]);
                        acc[r][2] = _mm512_fmadd_ps(_mm512_set1_ps(qr[2]), k2, acc[r][2]);
                        acc[r][3] = _mm512_fmadd_ps(_mm512_set1_ps(qr[3]), k3, acc[r][3]);
                    }
                }
                for (; d < HS; d++, kc += T) {
                    const __m512 k0 = _mm512_maskz_loadu_ps(m, kc);
                    for (int r = 0; r < 4; r++)
                        acc[r][0] = _mm512_fmadd_ps(_mm512_set1_ps(q0[(size_t)r * ld + d]), k0, acc[r][0]);
                }
                for (int r = 0; r < 4; r++) {
                    const __m512 sum = _mm512_add_ps(_mm512_add_ps(acc[r][0], acc[r][1]), _mm512_add_ps(acc[r][2], acc[r][3]));
                    _mm512_mask_storeu_ps(att + (size_t)(i + r) * T + j0, m, _mm512_mul_ps(sum, vscale));
                }
            }
        }
    for (; i < T; i++) {
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
    }
}

/* o (HS columns of one row) = sum_j a[j] v_j over `valid` keys, v rows ld floats apart: 64
 * columns at a time in four registers, two keys per step into separate accumulators. */
AVX512 static void weighted_values(float *o, const float *a, const float *v, int valid, int ld, int HS)
{
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
        _mm512_mask_storeu_ps(o + c0, m0, _mm512_add_ps(o0, p0));
        _mm512_mask_storeu_ps(o + c0 + 16, m1, _mm512_add_ps(o1, p1));
        _mm512_mask_storeu_ps(o + c0 + 32, m2, _mm512_add_ps(o2, p2));
        _mm512_mask_storeu_ps(o + c0 + 48, m3, _mm512_add_ps(o3, p3));
    }
}

/* weighted_values for two rows with the same keys (o0 from a0, o1 from a1): each v load serves
 * both; per output the same two chains as weighted_values. HS <= 64 (else weighted_values). */
AVX512 static void weighted_values2(float *o0, float *o1, const float *a0, const float *a1, const float *v, int valid,
                                    int ld, int HS)
{
    const __mmask16 m[4] = {lane_mask(HS), lane_mask(HS - 16), lane_mask(HS - 32), lane_mask(HS - 48)};
    __m512 e[2][4], p[2][4];
    for (int r = 0; r < 2; r++)
        for (int c = 0; c < 4; c++) e[r][c] = p[r][c] = _mm512_setzero_ps();
    int j = 0;
    for (; j + 2 <= valid; j += 2) {
        const float *vj = v + (size_t)j * ld, *vj2 = vj + ld;
        const __m512 w0 = _mm512_set1_ps(a0[j]), w0b = _mm512_set1_ps(a0[j + 1]);
        const __m512 w1 = _mm512_set1_ps(a1[j]), w1b = _mm512_set1_ps(a1[j + 1]);
        for (int c = 0; c < 4; c++) {
            const __m512 x = _mm512_maskz_loadu_ps(m[c], vj + 16 * c), y = _mm512_maskz_loadu_ps(m[c], vj2 + 16 * c);
            e[0][c] = _mm512_fmadd_ps(w0, x, e[0][c]);
            e[1][c] = _mm512_fmadd_ps(w1, x, e[1][c]);
            p[0][c] = _mm512_fmadd_ps(w0b, y, p[0][c]);
            p[1][c] = _mm512_fmadd_ps(w1b, y, p[1][c]);
        }
    }
    if (j < valid) {
        const float *vj = v + (size_t)j * ld;
        const __m512 w0 = _mm512_set1_ps(a0[j]), w1 = _mm512_set1_ps(a1[j]);
        for (int c = 0; c < 4; c++) {
            const __m512 x = _mm512_maskz_loadu_ps(m[c], vj + 16 * c);
            e[0][c] = _mm512_fmadd_ps(w0, x, e[0][c]);
            e[1][c] = _mm512_fmadd_ps(w1, x, e[1][c]);
        }
    }
    for (int c = 0; c < 4; c++) {
        _mm512_mask_storeu_ps(o0 + 16 * c, m[c], _mm512_add_ps(e[0][c], p[0][c]));
        _mm512_mask_storeu_ps(o1 + 16 * c, m[c], _mm512_add_ps(e[1][c], p[1][c]));
    }
}

/* One head of one sequence (see ops.c attend_head): scores (scores_short or scores_long), the
 * row softmax, then the weighted sum of values per row. att: T*T + HS*T floats. */
AVX512 static void attend_head_avx512(float *out, const float *q, const float *k, const float *v, float *att, int T,
                                      int C, int HS, int causal)
{
    const int ld = 3 * C;
    const __m512 vscale = _mm512_set1_ps((float)(1.0 / sqrt((double)HS)));
    if (T > ATTN_SHORT_T && !causal && HS <= 64) {
        /* long and full: every row's scores and softmax, then the values two rows at a time */
        scores_long(att, q, k, att + (size_t)T * T, T, ld, HS, causal, vscale);
        for (int i = 0; i < T; i++) softmax_avx512(att + (size_t)i * T, T, T);
        int i = 0;
        for (; i + 2 <= T; i += 2)
            weighted_values2(out + (size_t)i * C, out + (size_t)(i + 1) * C, att + (size_t)i * T, att + (size_t)(i + 1) * T, v,
                             T, ld, HS);
        if (i < T) weighted_values(out + (size_t)i * C, att + (size_t)i * T, v, T, ld, HS);
        return;
    }
    if (T > ATTN_SHORT_T) scores_long(att, q, k, att + (size_t)T * T, T, ld, HS, causal, vscale);
    for (int i = 0; i < T; i++) {
        float *a = att + (size_t)i * T;
        const int valid = causal ? i + 1 : T;
        if (T <= ATTN_SHORT_T) scores_short(a, q + (size_t)i * ld, k, valid, ld, HS, vscale);
        softmax_avx512(a, T, valid);
        weighted_values(out + (size_t)i * C, a, v, valid, ld, HS);
    }
}

const OpsKernels ops_kernels_avx512 = {dot_avx512,    axpy_avx512,          add_avx512,      bias_gelu_avx512,
                                       bias_quick_gelu_avx512, layernorm_row_avx512, softmax_avx512, attend_head_avx512};
#else
typedef int ops_avx512_unused; /* built with -DWINCLIP_NO_SIMD or not for x86-64: scalar only */
#endif
