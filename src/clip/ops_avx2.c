/*
 * ops_avx2.c - the AVX2 + FMA path of the element-wise CLIP kernels (ops_kernels.h).
 *
 * Chosen at run time by ops_isa.c on CPUs with AVX2 and FMA but no AVX-512 (or when
 * WINCLIP_ISA=avx2 caps the choice); every function carries target("avx2,fma"), so the binary
 * still runs without them. The same formulas as ops_avx512.c, 8 lanes wide: the GELU is the
 * interval-Taylor erf (16 intervals, ops_erf_coef; the 16-entry lookup is two 8-lane
 * permutes and a blend), exp is the same range reduction and polynomial with 2^n built in
 * two exact steps (what scalef does in one), so GELU, QuickGELU and exp give the same bits
 * as the AVX-512 path; dot products, value sums and attention scores use the same per-lane
 * chains and sums (long sequences: transposed keys, two queries per key load; up to 16 tokens:
 * a 16-lane accumulator per key as two halves, reduced by the AVX-512 path's tree).
 * Masked tails use maskload/maskstore (never touching memory past the end).
 * Reference: shared/spec/clip.md §1.1, §1.2, §2.1; Intel intrinsics guide (AVX2, FMA).
 */
#include "clip/ops_kernels.h"

#include "clip/ops.h"

#ifdef OPS_X86_SIMD
#include <immintrin.h>
#include <math.h>
#include <stdint.h>

#define AVX2 __attribute__((target("avx2,fma")))

static const int32_t mask_src[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};

/* The first min(max(n, 0), 8) lanes set. */
AVX2 static inline __m256i lane_mask(int n)
{
    n = n < 0 ? 0 : n > 8 ? 8 : n;
    return _mm256_loadu_si256((const __m256i *)(mask_src + 8 - n));
}

/* Store the first n lanes (all 8 when n >= 8): a plain store where it can (a masked store is
 * slow on AMD cores). */
AVX2 static inline void store_n(float *p, __m256 v, int n)
{
    if (n >= 8) _mm256_storeu_ps(p, v);
    else _mm256_maskstore_ps(p, lane_mask(n), v);
}

AVX2 static inline float hsum(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_add_ss(s, _mm_shuffle_ps(s, s, 1)));
}

AVX2 static inline double hsum_pd(__m256d v)
{
    __m128d s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
}

AVX2 static float dot_avx2(const float *a, const float *b, int n)
{
    __m256 acc = _mm256_setzero_ps();
    int i = 0;
    for (; i + 8 <= n; i += 8) acc = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc);
    if (i < n) {
        const __m256i m = lane_mask(n - i);
        acc = _mm256_fmadd_ps(_mm256_maskload_ps(a + i, m), _mm256_maskload_ps(b + i, m), acc);
    }
    return hsum(acc);
}

AVX2 static void axpy_avx2(float *y, float alpha, const float *x, int n)
{
    const __m256 a = _mm256_set1_ps(alpha);
    int i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, _mm256_fmadd_ps(a, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
    if (i < n) {
        const __m256i m = lane_mask(n - i);
        _mm256_maskstore_ps(y + i, m, _mm256_fmadd_ps(a, _mm256_maskload_ps(x + i, m), _mm256_maskload_ps(y + i, m)));
    }
}

AVX2 static void add_avx2(float *y, const float *x, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_add_ps(_mm256_loadu_ps(y + i), _mm256_loadu_ps(x + i)));
    for (; i < n; i++) y[i] += x[i];
}

/* gelu(v) with the interval-Taylor erf; the 16-entry coefficient lookup is an 8-lane permute
 * of each half of the table (ops_erf_coef) and a blend on idx > 7. */
AVX2 static inline __m256 gelu8(__m256 v)
{
    const __m256 sign = _mm256_castsi256_ps(_mm256_set1_epi32((int)0x80000000u)), four = _mm256_set1_ps(4.0f);
    const __m256 one = _mm256_set1_ps(1.0f);
    const __m256 z = _mm256_andnot_ps(sign, _mm256_mul_ps(v, _mm256_set1_ps(0.70710678118654752f)));
    const __m256i idx = _mm256_min_epi32(_mm256_cvttps_epi32(_mm256_mul_ps(z, four)), _mm256_set1_epi32(15));
    const __m256 upper = _mm256_castsi256_ps(_mm256_cmpgt_epi32(idx, _mm256_set1_epi32(7)));
    const __m256 t = _mm256_sub_ps(z, _mm256_fmadd_ps(_mm256_cvtepi32_ps(idx), _mm256_set1_ps(0.25f), _mm256_set1_ps(0.125f)));
#define ERF_LUT(k)                                                                                                    \
    _mm256_blendv_ps(_mm256_permutevar8x32_ps(_mm256_loadu_ps(ops_erf_coef[k]), idx),                                \
                     _mm256_permutevar8x32_ps(_mm256_loadu_ps(ops_erf_coef[k] + 8), idx), upper)
    __m256 p = ERF_LUT(7);
    for (int k = 6; k >= 0; k--) p = _mm256_fmadd_ps(p, t, ERF_LUT(k));
#undef ERF_LUT
    p = _mm256_blendv_ps(p, one, _mm256_cmp_ps(z, four, _CMP_GE_OQ));
    const __m256 e = _mm256_or_ps(p, _mm256_and_ps(v, sign));
    return _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(0.5f), v), _mm256_add_ps(one, e));
}

/* x (N) = gelu(x + bias); bias (N) or NULL. Full vectors with plain loads and stores (a
 * masked store is slow on AMD cores), the tail masked. */
AVX2 static void bias_gelu_avx2(float *x, const float *bias, int N)
{
    int i = 0;
    for (; i + 8 <= N; i += 8) {
        const __m256 v = _mm256_loadu_ps(x + i);
        _mm256_storeu_ps(x + i, gelu8(bias ? _mm256_add_ps(v, _mm256_loadu_ps(bias + i)) : v));
    }
    if (i < N) {
        const __m256i m = lane_mask(N - i);
        const __m256 b = bias ? _mm256_maskload_ps(bias + i, m) : _mm256_setzero_ps();
        _mm256_maskstore_ps(x + i, m, gelu8(_mm256_add_ps(_mm256_maskload_ps(x + i, m), b)));
    }
}

/* exp(y) as exp_avx512: y = n ln2 + r, |r| <= ln2/2, degree-7 Taylor polynomial of e^r, times
 * 2^n as 2^(n>>1) (exact) then 2^(n - (n>>1)) (one rounding): the same result as scalef;
 * underflows to 0 below -104, overflows to inf above ~88.7. */
AVX2 static __m256 exp_avx2(__m256 y)
{
    y = _mm256_min_ps(_mm256_max_ps(y, _mm256_set1_ps(-104.0f)), _mm256_set1_ps(100.0f));
    const __m256 n = _mm256_round_ps(_mm256_mul_ps(y, _mm256_set1_ps(1.44269504088896341f)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693145751953125f), y);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(1.428606765330187e-06f), r);
    static const float inv_fact[8] = {1.0f, 1.0f, 0.5f, 1.0f / 6, 1.0f / 24, 1.0f / 120, 1.0f / 720, 1.0f / 5040};
    __m256 p = _mm256_set1_ps(inv_fact[7]);
    for (int k = 6; k >= 0; k--) p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(inv_fact[k]));
    const __m256i ni = _mm256_cvtps_epi32(n), n1 = _mm256_srai_epi32(ni, 1), n2 = _mm256_sub_epi32(ni, n1);
    const __m256i bias = _mm256_set1_epi32(127);
    const __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n1, bias), 23));
    const __m256 s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n2, bias), 23));
    return _mm256_mul_ps(_mm256_mul_ps(p, s1), s2);
}

/* x (N) = quick_gelu(x + bias) = v / (1 + e^(-1.702 v)); bias (N) or NULL; tail masked. */
AVX2 static inline __m256 quick_gelu8(__m256 v)
{
    return _mm256_div_ps(v, _mm256_add_ps(_mm256_set1_ps(1.0f), exp_avx2(_mm256_mul_ps(_mm256_set1_ps(-1.702f), v))));
}

AVX2 static void bias_quick_gelu_avx2(float *x, const float *bias, int N)
{
    int i = 0;
    for (; i + 8 <= N; i += 8) {
        const __m256 v = _mm256_loadu_ps(x + i);
        _mm256_storeu_ps(x + i, quick_gelu8(bias ? _mm256_add_ps(v, _mm256_loadu_ps(bias + i)) : v));
    }
    if (i < N) {
        const __m256i m = lane_mask(N - i);
        const __m256 b = bias ? _mm256_maskload_ps(bias + i, m) : _mm256_setzero_ps();
        _mm256_maskstore_ps(x + i, m, quick_gelu8(_mm256_add_ps(_mm256_maskload_ps(x + i, m), b)));
    }
}

/* LayerNorm of one row (see ops_layernorm): statistics in double, 4 lanes at a time. */
AVX2 static void layernorm_row_avx2(float *y, const float *x, const float *w, const float *b, int C)
{
    __m256d a0 = _mm256_setzero_pd(), a1 = a0;
    int i = 0;
    for (; i + 8 <= C; i += 8) {
        a0 = _mm256_add_pd(a0, _mm256_cvtps_pd(_mm_loadu_ps(x + i)));
        a1 = _mm256_add_pd(a1, _mm256_cvtps_pd(_mm_loadu_ps(x + i + 4)));
    }
    double sum = hsum_pd(_mm256_add_pd(a0, a1));
    for (int j = i; j < C; j++) sum += x[j];
    const double mean = sum / C;
    const __m256d vm = _mm256_set1_pd(mean);
    a0 = a1 = _mm256_setzero_pd();
    for (i = 0; i + 8 <= C; i += 8) {
        const __m256d d0 = _mm256_sub_pd(_mm256_cvtps_pd(_mm_loadu_ps(x + i)), vm);
        const __m256d d1 = _mm256_sub_pd(_mm256_cvtps_pd(_mm_loadu_ps(x + i + 4)), vm);
        a0 = _mm256_fmadd_pd(d0, d0, a0);
        a1 = _mm256_fmadd_pd(d1, d1, a1);
    }
    double var = hsum_pd(_mm256_add_pd(a0, a1));
    for (int j = i; j < C; j++) var += (x[j] - mean) * (x[j] - mean);
    var /= C;
    const double rstd = 1.0 / sqrt(var + OPS_LN_EPS);
    const __m256d vr = _mm256_set1_pd(rstd);
    for (i = 0; i + 8 <= C; i += 8) {
        const __m128 n0 = _mm256_cvtpd_ps(_mm256_mul_pd(_mm256_sub_pd(_mm256_cvtps_pd(_mm_loadu_ps(x + i)), vm), vr));
        const __m128 n1 = _mm256_cvtpd_ps(_mm256_mul_pd(_mm256_sub_pd(_mm256_cvtps_pd(_mm_loadu_ps(x + i + 4)), vm), vr));
        const __m256 n = _mm256_set_m128(n1, n0);
        _mm256_storeu_ps(y + i, _mm256_add_ps(_mm256_mul_ps(n, _mm256_loadu_ps(w + i)), _mm256_loadu_ps(b + i)));
    }
    for (; i < C; i++) y[i] = (float)((x[i] - mean) * rstd) * w[i] + b[i];
}

/* ops_softmax_row with vector max/exp; the sum is accumulated in double. */
AVX2 static void softmax_avx2(float *x, int N, int valid)
{
    const __m256 ninf = _mm256_set1_ps(-INFINITY);
    __m256 vmax = ninf;
    for (int j = 0; j < valid; j += 8) {
        const __m256i m = lane_mask(valid - j);
        vmax = _mm256_max_ps(vmax, _mm256_blendv_ps(ninf, _mm256_maskload_ps(x + j, m), _mm256_castsi256_ps(m)));
    }
    __m128 h = _mm_max_ps(_mm256_castps256_ps128(vmax), _mm256_extractf128_ps(vmax, 1));
    h = _mm_max_ps(h, _mm_movehl_ps(h, h));
    h = _mm_max_ss(h, _mm_shuffle_ps(h, h, 1));
    const __m256 mx = _mm256_set1_ps(_mm_cvtss_f32(h));
    __m256d sum = _mm256_setzero_pd();
    for (int j = 0; j < valid; j += 8) {
        const __m256i m = lane_mask(valid - j);
        const __m256 e = _mm256_and_ps(_mm256_castsi256_ps(m), exp_avx2(_mm256_sub_ps(_mm256_maskload_ps(x + j, m), mx)));
        store_n(x + j, e, valid - j);
        sum = _mm256_add_pd(sum, _mm256_cvtps_pd(_mm256_castps256_ps128(e)));
        sum = _mm256_add_pd(sum, _mm256_cvtps_pd(_mm256_extractf128_ps(e, 1)));
    }
    const __m256 inv = _mm256_set1_ps((float)(1.0 / hsum_pd(sum)));
    for (int j = 0; j < valid; j += 8) {
        const __m256i m = lane_mask(valid - j);
        store_n(x + j, _mm256_mul_ps(_mm256_maskload_ps(x + j, m), inv), valid - j);
    }
    for (int j = valid; j < N; j++) x[j] = 0.0f;
}

/* out (HS columns of one row) = sum_j a[j] v_j over `valid` keys, v rows ld floats apart:
 * 32 columns at a time in four registers, two keys per step into separate accumulators. */
AVX2 static void weighted_values(float *o, const float *a, const float *v, int valid, int ld, int HS)
{
    for (int c0 = 0; c0 < HS; c0 += 32) {
        const __m256i m0 = lane_mask(HS - c0), m1 = lane_mask(HS - c0 - 8), m2 = lane_mask(HS - c0 - 16),
                      m3 = lane_mask(HS - c0 - 24);
        __m256 o0 = _mm256_setzero_ps(), o1 = o0, o2 = o0, o3 = o0, p0 = o0, p1 = o0, p2 = o0, p3 = o0;
        int j = 0;
        for (; j + 2 <= valid; j += 2) {
            const __m256 w = _mm256_set1_ps(a[j]), w2 = _mm256_set1_ps(a[j + 1]);
            const float *vj = v + (size_t)j * ld + c0, *vj2 = vj + ld;
            o0 = _mm256_fmadd_ps(w, _mm256_maskload_ps(vj, m0), o0);
            o1 = _mm256_fmadd_ps(w, _mm256_maskload_ps(vj + 8, m1), o1);
            o2 = _mm256_fmadd_ps(w, _mm256_maskload_ps(vj + 16, m2), o2);
            o3 = _mm256_fmadd_ps(w, _mm256_maskload_ps(vj + 24, m3), o3);
            p0 = _mm256_fmadd_ps(w2, _mm256_maskload_ps(vj2, m0), p0);
            p1 = _mm256_fmadd_ps(w2, _mm256_maskload_ps(vj2 + 8, m1), p1);
            p2 = _mm256_fmadd_ps(w2, _mm256_maskload_ps(vj2 + 16, m2), p2);
            p3 = _mm256_fmadd_ps(w2, _mm256_maskload_ps(vj2 + 24, m3), p3);
        }
        if (j < valid) {
            const __m256 w = _mm256_set1_ps(a[j]);
            const float *vj = v + (size_t)j * ld + c0;
            o0 = _mm256_fmadd_ps(w, _mm256_maskload_ps(vj, m0), o0);
            o1 = _mm256_fmadd_ps(w, _mm256_maskload_ps(vj + 8, m1), o1);
            o2 = _mm256_fmadd_ps(w, _mm256_maskload_ps(vj + 16, m2), o2);
            o3 = _mm256_fmadd_ps(w, _mm256_maskload_ps(vj + 24, m3), o3);
        }
        store_n(o + c0, _mm256_add_ps(o0, p0), HS - c0);
        if (HS - c0 > 8) store_n(o + c0 + 8, _mm256_add_ps(o1, p1), HS - c0 - 8);
        if (HS - c0 > 16) store_n(o + c0 + 16, _mm256_add_ps(o2, p2), HS - c0 - 16);
        if (HS - c0 > 24) store_n(o + c0 + 24, _mm256_add_ps(o3, p3), HS - c0 - 24);
    }
}

/* The lane sums of four 16-lane accumulators held as 8-lane halves (lo: lanes 0-7, hi: 8-15),
 * by the same tree as the AVX-512 path's sum_lanes16 (lane pairs within 128-bit quarters, then
 * quarters 0 + 2 and 1 + 3, then the two), so the scores have the same bits on both paths. */
AVX2 static inline __m128 sum_lanes16x4(const __m256 *lo, const __m256 *hi)
{
    __m256 c[2];
    for (int h = 0; h < 2; h++) {
        const __m256 *a = h ? hi : lo;
        const __m256 b0 = _mm256_add_ps(_mm256_unpacklo_ps(a[0], a[1]), _mm256_unpackhi_ps(a[0], a[1]));
        const __m256 b1 = _mm256_add_ps(_mm256_unpacklo_ps(a[2], a[3]), _mm256_unpackhi_ps(a[2], a[3]));
        c[h] = _mm256_add_ps(_mm256_shuffle_ps(b0, b1, 0x44), _mm256_shuffle_ps(b0, b1, 0xEE));
    }
    const __m256 s = _mm256_add_ps(c[0], c[1]);
    return _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
}

/* Short sequences (T <= ATTN_SHORT_T): the scores a (valid) of query qi against keys k_0 ..
 * k_valid-1 (rows ld apart) without transposing k: four keys at a time, each with a 16-lane
 * accumulator over the head dims (two 8-lane halves, lane l holding dims = l mod 16, as the
 * AVX-512 path's one register), finished by sum_lanes16x4. */
#define ATTN_SHORT_T 16
AVX2 static void scores_short(float *a, const float *qi, const float *k, int valid, int ld, int HS, __m256 vscale)
{
    const __m128 vs = _mm256_castps256_ps128(vscale);
    for (int j0 = 0; j0 < valid; j0 += 4) {
        const int nj = valid - j0 < 4 ? valid - j0 : 4;
        const float *kj = k + (size_t)j0 * ld;
        __m256 lo[4], hi[4];
        for (int j = 0; j < 4; j++) lo[j] = hi[j] = _mm256_setzero_ps();
        for (int d0 = 0; d0 < HS; d0 += 16) {
            const int full = d0 + 16 <= HS;
            const __m256i ml = lane_mask(HS - d0), mh = lane_mask(HS - d0 - 8);
            const __m256 ql = full ? _mm256_loadu_ps(qi + d0) : _mm256_maskload_ps(qi + d0, ml);
            const __m256 qh = full ? _mm256_loadu_ps(qi + d0 + 8) : _mm256_maskload_ps(qi + d0 + 8, mh);
            /* unrolled with a fixed trip count, so the accumulators stay in registers */
#pragma GCC unroll 4
            for (int j = 0; j < 4; j++)
                if (j < nj) {
                    const float *kr = kj + (size_t)j * ld + d0;
                    lo[j] = _mm256_fmadd_ps(ql, full ? _mm256_loadu_ps(kr) : _mm256_maskload_ps(kr, ml), lo[j]);
                    hi[j] = _mm256_fmadd_ps(qh, full ? _mm256_loadu_ps(kr + 8) : _mm256_maskload_ps(kr + 8, mh), hi[j]);
                }
        }
        const __m128 sc = _mm_mul_ps(sum_lanes16x4(lo, hi), vs);
        if (nj == 4) _mm_storeu_ps(a + j0, sc);
        else _mm_maskstore_ps(a + j0, _mm256_castsi256_si128(lane_mask(nj)), sc);
    }
}

/* Long sequences: the scores of every query from k_h transposed to kt (HS, T), so 8 keys form
 * one register accumulated over the head dims in four chains. */
AVX2 static void scores_long(float *att, const float *q, const float *k, float *kt, int T, int ld, int HS, int causal,
                             __m256 vscale)
{
    for (int j = 0; j < T; j++)
        for (int d = 0; d < HS; d++) kt[(size_t)d * T + j] = k[(size_t)j * ld + d];
    int i = 0;
    if (!causal) /* two queries at a time share each key load; per score the same four chains */
        for (; i + 2 <= T; i += 2) {
            const float *q0 = q + (size_t)i * ld, *q1 = q0 + ld;
            for (int j0 = 0; j0 < T; j0 += 8) {
                const __m256i m = lane_mask(T - j0);
                __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
                const float *kc = kt + j0;
                int d = 0;
                for (; d + 4 <= HS; d += 4, kc += 4 * (size_t)T) {
                    const __m256 k0 = _mm256_maskload_ps(kc, m), k1 = _mm256_maskload_ps(kc + T, m);
                    const __m256 k2 = _mm256_maskload_ps(kc + 2 * (size_t)T, m), k3 = _mm256_maskload_ps(kc + 3 * (size_t)T, m);
                    a0 = _mm256_fmadd_ps(_mm256_set1_ps(q0[d]), k0, a0);
                    a1 = _mm256_fmadd_ps(_mm256_set1_ps(q0[d + 1]), k1, a1);
                    a2 = _mm256_fmadd_ps(_mm256_set1_ps(q0[d + 2]), k2, a2);
                    a3 = _mm256_fmadd_ps(_mm256_set1_ps(q0[d + 3]), k3, a3);
                    b0 = _mm256_fmadd_ps(_mm256_set1_ps(q1[d]), k0, b0);
                    b1 = _mm256_fmadd_ps(_mm256_set1_ps(q1[d + 1]), k1, b1);
                    b2 = _mm256_fmadd_ps(_mm256_set1_ps(q1[d + 2]), k2, b2);
                    b3 = _mm256_fmadd_ps(_mm256_set1_ps(q1[d + 3]), k3, b3);
                }
                for (; d < HS; d++, kc += T) {
                    const __m256 k0 = _mm256_maskload_ps(kc, m);
                    a0 = _mm256_fmadd_ps(_mm256_set1_ps(q0[d]), k0, a0);
                    b0 = _mm256_fmadd_ps(_mm256_set1_ps(q1[d]), k0, b0);
                }
                store_n(att + (size_t)i * T + j0, _mm256_mul_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)), vscale),
                        T - j0);
                store_n(att + (size_t)(i + 1) * T + j0,
                        _mm256_mul_ps(_mm256_add_ps(_mm256_add_ps(b0, b1), _mm256_add_ps(b2, b3)), vscale), T - j0);
            }
        }
    for (; i < T; i++) {
        float *a = att + (size_t)i * T;
        const float *qi = q + (size_t)i * ld;
        const int valid = causal ? i + 1 : T;
        for (int j0 = 0; j0 < valid; j0 += 8) {
            const __m256i m = lane_mask(valid - j0);
            __m256 acc0 = _mm256_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
            const float *kc = kt + j0;
            int d = 0;
            for (; d + 4 <= HS; d += 4, kc += 4 * (size_t)T) {
                acc0 = _mm256_fmadd_ps(_mm256_set1_ps(qi[d]), _mm256_maskload_ps(kc, m), acc0);
                acc1 = _mm256_fmadd_ps(_mm256_set1_ps(qi[d + 1]), _mm256_maskload_ps(kc + T, m), acc1);
                acc2 = _mm256_fmadd_ps(_mm256_set1_ps(qi[d + 2]), _mm256_maskload_ps(kc + 2 * (size_t)T, m), acc2);
                acc3 = _mm256_fmadd_ps(_mm256_set1_ps(qi[d + 3]), _mm256_maskload_ps(kc + 3 * (size_t)T, m), acc3);
            }
            for (; d < HS; d++, kc += T) acc0 = _mm256_fmadd_ps(_mm256_set1_ps(qi[d]), _mm256_maskload_ps(kc, m), acc0);
            const __m256 sum = _mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3));
            store_n(a + j0, _mm256_mul_ps(sum, vscale), valid - j0);
        }
    }
}

/* One head of one sequence (see ops.c attend_head): scores (scores_short or scores_long), the
 * row softmax, then the weighted sum of values per row. att: T*T + HS*T floats. */
AVX2 static void attend_head_avx2(float *out, const float *q, const float *k, const float *v, float *att, int T, int C,
                                  int HS, int causal)
{
    const int ld = 3 * C;
    const __m256 vscale = _mm256_set1_ps((float)(1.0 / sqrt((double)HS)));
    if (T > ATTN_SHORT_T) scores_long(att, q, k, att + (size_t)T * T, T, ld, HS, causal, vscale);
    for (int i = 0; i < T; i++) {
        float *a = att + (size_t)i * T;
        const int valid = causal ? i + 1 : T;
        if (T <= ATTN_SHORT_T) scores_short(a, q + (size_t)i * ld, k, valid, ld, HS, vscale);
        softmax_avx2(a, T, valid);
        weighted_values(out + (size_t)i * C, a, v, valid, ld, HS);
    }
}

const OpsKernels ops_kernels_avx2 = {dot_avx2,          axpy_avx2,          add_avx2,     bias_gelu_avx2,
                                     bias_quick_gelu_avx2, layernorm_row_avx2, softmax_avx2, attend_head_avx2};
#else
typedef int ops_avx2_unused; /* built with -DWINCLIP_NO_SIMD or not for x86-64: scalar only */
#endif
