/*
 * ops.c - fp32 transformer kernels (see ops.h for shapes).
 *
 * Matrix products use gemm.h; the small loops are written so the compiler can vectorise them
 * without -ffast-math (fixed-width partial sums, restrict pointers). Statistics (LayerNorm
 * mean/variance, softmax sums, L2 norms) are accumulated in double.
 * Reference: shared/spec/clip.md §1.1, §1.2, §2.1, §2.2; PyTorch nn.LayerNorm, nn.GELU,
 * open_clip QuickGELU and Attention.
 */
#include "ops.h"

#include "base.h"
#include "gemm.h"

#include <math.h>
#include <string.h>

/* ---- small vector helpers ---- */

/* sum_i a[i] * b[i] with 8 interleaved partial sums (a fixed order, so results are
 * deterministic; the inner loop vectorises). */
static float dot(const float *restrict a, const float *restrict b, int n)
{
    float acc[8] = {0};
    int i = 0;
    for (; i + 8 <= n; i += 8)
        for (int l = 0; l < 8; l++) acc[l] += a[i + l] * b[i + l];
    float s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
    for (; i < n; i++) s += a[i] * b[i];
    return s;
}

/* y (n) += alpha * x (n). */
static void axpy(float *restrict y, float alpha, const float *restrict x, int n)
{
    for (int i = 0; i < n; i++) y[i] += alpha * x[i];
}

static void add_bias_rows(float *out, const float *bias, int T, int OC)
{
    for (int t = 0; t < T; t++) {
        float *restrict row = out + (size_t)t * OC;
        for (int o = 0; o < OC; o++) row[o] += bias[o];
    }
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

void ops_layernorm(float *out, const float *inp, const float *w, const float *b, int T, int C)
{
    for (int t = 0; t < T; t++) {
        const float *x = inp + (size_t)t * C;
        float *y = out + (size_t)t * C;
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
}

static inline float gelu1(float x) { return 0.5f * x * (1.0f + erff(x * 0.70710678118654752f)); }
static inline float quick_gelu1(float x) { return x / (1.0f + expf(-1.702f * x)); }

void ops_gelu(float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) x[i] = gelu1(x[i]);
}

void ops_quick_gelu(float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) x[i] = quick_gelu1(x[i]);
}

void ops_bias_act(float *x, const float *bias, size_t rows, int N, int quick)
{
    for (size_t r = 0; r < rows; r++) {
        float *row = x + r * (size_t)N;
        if (quick)
            for (int i = 0; i < N; i++) row[i] = quick_gelu1(row[i] + bias[i]);
        else
            for (int i = 0; i < N; i++) row[i] = gelu1(row[i] + bias[i]);
    }
}

void ops_softmax_row(float *x, int N, int valid)
{
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

/* Below this length the score and value products are done with direct loops: a GEMM call per
 * head costs more than the work (WinCLIP windows have T = 5 or 10). */
#define ATTN_GEMM_MIN_T 32

/* One head of one sequence: out_h (T, HS; row stride C) from q/k/v (row stride 3C). */
static void attend_head(float *out, const float *q, const float *k, const float *v, float *att, int T, int C,
                        int HS, int causal)
{
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

void ops_attention(float *out, const float *qkv, float *att, int B, int T, int C, int NH, int causal)
{
    CHECK(C % NH == 0);
    const int HS = C / NH;
    for (int b = 0; b < B; b++) {
        const float *base = qkv + (size_t)b * T * 3 * C;
        float *o = out + (size_t)b * T * C;
        for (int h = 0; h < NH; h++)
            attend_head(o + h * HS, base + h * HS, base + C + h * HS, base + 2 * C + h * HS, att, T, C, HS, causal);
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
