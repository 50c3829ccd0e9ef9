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
#include "clip/ops_kernels.h"

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

/* ---- the scalar path (ops_kernels_scalar); the vector paths are ops_avx2.c and
 * ops_avx512.c, chosen once at run time by ops_isa.c (capped by WINCLIP_ISA, or scalar only
 * when built with -DWINCLIP_NO_SIMD: make CFLAGS=-DWINCLIP_NO_SIMD BUILD=build-nosimd). ---- */

static float dot_scalar(const float *restrict a, const float *restrict b, int n)
{
    float s = 0.0f;
    for (int i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

static void axpy_scalar(float *restrict y, float alpha, const float *restrict x, int n)
{
    for (int i = 0; i < n; i++) y[i] += alpha * x[i];
}

static void add_scalar(float *restrict y, const float *restrict x, size_t n)
{
    for (size_t i = 0; i < n; i++) y[i] += x[i];
}

static inline float gelu1(float x) { return 0.5f * x * (1.0f + erff(x * 0.70710678118654752f)); }
static inline float quick_gelu1(float x) { return x / (1.0f + expf(-1.702f * x)); }

static void bias_gelu_scalar(float *x, const float *bias, int N)
{
    for (int i = 0; i < N; i++) x[i] = gelu1(bias ? x[i] + bias[i] : x[i]);
}

static void bias_quick_gelu_scalar(float *x, const float *bias, int N)
{
    for (int i = 0; i < N; i++) x[i] = quick_gelu1(bias ? x[i] + bias[i] : x[i]);
}

/* One row of ops_layernorm. */
static void layernorm_row_scalar(float *y, const float *x, const float *w, const float *b, int C)
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

static void softmax_scalar(float *x, int N, int valid)
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

const OpsKernels ops_kernels_scalar = {dot_scalar,     axpy_scalar,          add_scalar,     bias_gelu_scalar,
                                       bias_quick_gelu_scalar, layernorm_row_scalar, softmax_scalar, NULL};

static void add_bias_rows(float *out, const float *bias, int T, int OC)
{
    const OpsKernels *k = ops_kernels();
    const int nt = threads_for((size_t)T * OC);
    (void)nt;
#ifdef _OPENMP
#pragma omp parallel for num_threads(nt) schedule(static)
#endif
    for (int t = 0; t < T; t++) k->add(out + (size_t)t * OC, bias, (size_t)OC);
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
    const OpsKernels *k = ops_kernels();
    const int nt = threads_for((size_t)T * C);
    (void)nt;
#ifdef _OPENMP
#pragma omp parallel for num_threads(nt) schedule(static)
#endif
    for (int t = 0; t < T; t++) k->layernorm_row(out + (size_t)t * C, inp + (size_t)t * C, w, b, C);
}

void ops_bias_add_layernorm(float *h, float *x, const float *bias, const float *w, const float *b, int T, int C)
{
    const OpsKernels *k = ops_kernels();
    const int nt = threads_for((size_t)T * C);
    (void)nt;
#ifdef _OPENMP
#pragma omp parallel for num_threads(nt) schedule(static)
#endif
    for (int t = 0; t < T; t++) {
        float *row = x + (size_t)t * C;
        k->add(row, bias, (size_t)C);
        k->layernorm_row(h + (size_t)t * C, row, w, b, C);
    }
}

/* In-place GELU (quick = 0) or QuickGELU (quick = 1) over a flat array; the row kernels take
 * an int length, so it runs in chunks of 2^20. */
static void act_flat(float *x, size_t n, int quick)
{
    const OpsKernels *k = ops_kernels();
    for (size_t off = 0; off < n; off += 1u << 20) {
        const int len = (int)(n - off < (1u << 20) ? n - off : (1u << 20));
        if (quick) k->bias_quick_gelu(x + off, NULL, len);
        else k->bias_gelu(x + off, NULL, len);
    }
}

void ops_gelu(float *x, size_t n) { act_flat(x, n, 0); }

void ops_quick_gelu(float *x, size_t n) { act_flat(x, n, 1); }

void ops_bias_act(float *x, const float *bias, size_t rows, int N, int quick)
{
    const OpsKernels *k = ops_kernels();
    void (*act)(float *, const float *, int) = quick ? k->bias_quick_gelu : k->bias_gelu;
    const int nt = threads_for(rows * (size_t)N);
    (void)nt;
#ifdef _OPENMP
#pragma omp parallel for num_threads(nt) schedule(static)
#endif
    for (size_t r = 0; r < rows; r++) act(x + r * (size_t)N, bias, N);
}

void ops_softmax_row(float *x, int N, int valid) { ops_kernels()->softmax(x, N, valid); }

void ops_add(float *x, const float *y, size_t n) { ops_kernels()->add(x, y, n); }

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

/* On the scalar path, below this length the score and value products are direct loops: a GEMM
 * call per head costs more than the work for WinCLIP windows (T = 5 or 10). */
#define ATTN_GEMM_MIN_T 32
/* On the vector paths, non-causal sequences this long (the full image: 197 or 226 tokens) also
 * take the two GEMMs per head, with the path's softmax: inside the parallel loop over heads each
 * product runs on one thread, and oneDNN's kernels outrun our score and value kernels there
 * (one block's attention, 14 heads of 64, 2 threads, warm, Intel: T = 226 4.0-4.8 ms with the
 * kernels, 1.55-1.76 ms with the GEMMs; AVX2 5.7-6.2 and 2.6-2.8; T = 64 0.43 and 0.21).
 * Shorter and causal ones (windows, prompts) keep the kernels, whose bits are the same on both
 * vector paths, and so does everything when the backend runs its own threads inside the loop
 * (the pthreads OpenBLAS: gemm_one_thread_in_parallel). */
#define ATTN_GEMM_MIN_T_VECTOR 64

/* 1 when attend_head runs GEMMs for a sequence of T tokens. */
static int attend_takes_gemm(const OpsKernels *kern, int T, int causal)
{
    if (kern->attend_head) return !causal && T >= ATTN_GEMM_MIN_T_VECTOR && gemm_one_thread_in_parallel();
    return T >= ATTN_GEMM_MIN_T;
}

/* Threads for a parallel loop of attend_head items over sequences of up to Tmax tokens: one
 * when its GEMMs would run their own threads inside the loop (the scalar path on the pthreads
 * OpenBLAS: the items then run one after another, each product on OpenBLAS's threads, the same
 * products as before, without two pools fighting for the cores). */
static int attend_threads(const OpsKernels *kern, int nt, int Tmax, int causal)
{
    return attend_takes_gemm(kern, Tmax, causal) && !gemm_one_thread_in_parallel() ? 1 : nt;
}

size_t ops_attention_scratch(int T, int C, int NH)
{
    return ((size_t)T * T + (size_t)T * (C / NH)) * (size_t)ops_threads();
}

/* One head of one sequence: out_h (T, HS; row stride C) from q/k/v (row stride 3C); att
 * scratch as ops_attention_scratch. Vector paths: their attend_head kernel, but two GEMMs for
 * long non-causal sequences; scalar: two GEMMs for long sequences and dot products for short
 * ones (windows). */
static void attend_head(const OpsKernels *kern, float *out, const float *q, const float *k, const float *v,
                        float *att, int T, int C, int HS, int causal)
{
    if (kern->attend_head && !attend_takes_gemm(kern, T, causal)) {
        kern->attend_head(out, q, k, v, att, T, C, HS, causal);
        return;
    }
    const int ld = 3 * C;
    const float scale = (float)(1.0 / sqrt((double)HS));
    if (T >= ATTN_GEMM_MIN_T) {
        gemm(0, 1, T, T, HS, scale, q, ld, k, ld, 0.0f, att, T);
        for (int i = 0; i < T; i++) kern->softmax(att + (size_t)i * T, T, causal ? i + 1 : T);
        gemm(0, 0, T, HS, T, 1.0f, att, T, v, ld, 0.0f, out, C);
        return;
    }
    for (int i = 0; i < T; i++) {
        float *a = att + (size_t)i * T;
        const int valid = causal ? i + 1 : T;
        for (int j = 0; j < valid; j++) a[j] = kern->dot(q + (size_t)i * ld, k + (size_t)j * ld, HS) * scale;
        kern->softmax(a, T, valid);
        float *o = out + (size_t)i * C;
        memset(o, 0, (size_t)HS * sizeof *o);
        for (int j = 0; j < valid; j++) kern->axpy(o, a[j], v + (size_t)j * ld, HS);
    }
}

void ops_attention(float *out, const float *qkv, float *att, size_t att_len, int B, int T, int C, int NH, int causal)
{
    ops_attention_bias(out, (float *)qkv, NULL, att, att_len, B, T, C, NH, causal); /* bias NULL: qkv only read */
}

void ops_attention_bias(float *out, float *qkv, const float *bias, float *att, size_t att_len, int B, int T, int C,
                        int NH, int causal)
{
    const ClipSeqGroup g = {B, T};
    ops_attention_groups(out, qkv, bias, att, att_len, &g, 1, C, NH, causal);
}

/* Sequence s of the groups: its group's length and its first row. */
static int group_seq(const ClipSeqGroup *g, int ng, int s, size_t *row)
{
    size_t r = 0;
    for (int i = 0; i < ng; i++) {
        if (s < g[i].count) {
            *row = r + (size_t)s * g[i].len;
            return g[i].len;
        }
        s -= g[i].count;
        r += (size_t)g[i].count * g[i].len;
    }
    CHECK(0);
    return 0;
}

void ops_attention_groups(float *out, float *qkv, const float *bias, float *att, size_t att_len, const ClipSeqGroup *g,
                          int ng, int C, int NH, int causal)
{
    CHECK(C % NH == 0);
    const int HS = C / NH;
    int S = 0, Tmax = 0;
    size_t work = 0;
    for (int i = 0; i < ng; i++) {
        S += g[i].count;
        Tmax = g[i].len > Tmax ? g[i].len : Tmax;
        work += (size_t)g[i].count * NH * ((size_t)g[i].len * g[i].len + (size_t)g[i].len * HS);
    }
    const size_t per = (size_t)Tmax * Tmax + (size_t)Tmax * HS;
    CHECK(att_len >= per);
    const OpsKernels *kern = ops_kernels();
    int nt = (int)(att_len / per < (size_t)ops_threads() ? att_len / per : (size_t)ops_threads());
    if (work < ((size_t)1 << 14)) nt = 1;
    nt = attend_threads(kern, nt, Tmax, causal);
    (void)nt;
    if (S >= 4 * nt) {
        /* many short sequences (windows, prompts): one item per sequence, its heads inside, so
         * an item reads its rows of qkv from end to end (one head's columns alone are 64 floats
         * of every 3C-float row) */
#ifdef _OPENMP
#pragma omp parallel for num_threads(nt) schedule(static)
#endif
        for (int s = 0; s < S; s++) {
            size_t row;
            const int T = group_seq(g, ng, s, &row);
            float *base = qkv + row * 3 * C;
            if (bias)
                for (int t = 0; t < T; t++) kern->add(base + (size_t)t * 3 * C, bias, (size_t)3 * C);
            float *o = out + row * C, *a = att + (size_t)thread_id() * per;
            for (int h = 0; h < NH; h++)
                attend_head(kern, o + h * HS, base + h * HS, base + C + h * HS, base + 2 * C + h * HS, a, T, C, HS, causal);
        }
        return;
    }
#ifdef _OPENMP
#pragma omp parallel for num_threads(nt) schedule(static)
#endif
    for (int it = 0; it < S * NH; it++) {
        const int h = it % NH;
        size_t row;
        const int T = group_seq(g, ng, it / NH, &row);
        float *base = qkv + row * 3 * C;
        if (bias) /* this item's q, k, v columns of its own rows: no other item touches them */
            for (int t = 0; t < T; t++)
                for (int part = 0; part < 3; part++)
                    kern->add(base + (size_t)t * 3 * C + (size_t)part * C + h * HS, bias + (size_t)part * C + h * HS,
                              (size_t)HS);
        attend_head(kern, out + row * C + h * HS, base + h * HS, base + C + h * HS, base + 2 * C + h * HS,
                    att + (size_t)thread_id() * per, T, C, HS, causal);
    }
}

size_t ops_attention_prefix_scratch(int T, int C, int NH)
{
    return ((size_t)T * T + (size_t)T * (C / NH) + (size_t)T * 4 * C) * (size_t)ops_threads();
}

void ops_attention_prefix(float *out, const float *qkv, const float *bias, float *att, size_t att_len,
                          const OpsPrefixSeqs *p, int C, int NH)
{
    CHECK(C % NH == 0);
    const int HS = C / NH, B = p->n_seq;
    int Tmax = 0;
    size_t work = 0;
    for (int b = 0; b < B; b++) {
        CHECK(p->len[b] >= 1 && p->len[b] <= p->stride && p->own[b] >= 0 && p->own[b] <= p->len[b]);
        Tmax = p->len[b] > Tmax ? p->len[b] : Tmax;
        work += (size_t)NH * ((size_t)p->len[b] * p->len[b] + (size_t)p->len[b] * HS);
    }
    const size_t head = (size_t)Tmax * Tmax + (size_t)Tmax * HS, per = head + (size_t)Tmax * 4 * C;
    CHECK(att_len >= per);
    const OpsKernels *kern = ops_kernels();
    int nt = (int)(att_len / per < (size_t)ops_threads() ? att_len / per : (size_t)ops_threads());
    if (work < ((size_t)1 << 14)) nt = 1;
    nt = attend_threads(kern, nt, Tmax, 1);
    (void)nt;
#ifdef _OPENMP
#pragma omp parallel for num_threads(nt) schedule(static)
#endif
    for (int b = 0; b < B; b++) {
        const int T = p->len[b];
        const int *rows = p->row_of + (size_t)b * p->stride;
        if (p->own[b] == T) continue; /* every row is an earlier sequence's: nothing to write */
        float *a = att + (size_t)thread_id() * per, *seq = a + head, *o = seq + (size_t)T * 3 * C;
        for (int t = 0; t < T; t++) { /* q, k, v of position t, plus the bias as ops_attention_bias adds it */
            float *dst = seq + (size_t)t * 3 * C;
            memcpy(dst, qkv + (size_t)rows[t] * 3 * C, (size_t)3 * C * sizeof *dst);
            if (bias) kern->add(dst, bias, (size_t)3 * C);
        }
        for (int h = 0; h < NH; h++)
            attend_head(kern, o + h * HS, seq + h * HS, seq + C + h * HS, seq + 2 * C + h * HS, a, T, C, HS, 1);
        for (int t = p->own[b]; t < T; t++)
            memcpy(out + (size_t)rows[t] * C, o + (size_t)t * C, (size_t)C * sizeof *out);
    }
}

void ops_attention_rows(float *out, const float *qkv, float *att, int T, const int *q_rows, int Q, int C, int NH)
{
    CHECK(C % NH == 0);
    const int HS = C / NH, ld = 3 * C;
    const float scale = (float)(1.0 / sqrt((double)HS));
    const OpsKernels *kern = ops_kernels();
    for (int r = 0; r < Q; r++) {
        const float *q = qkv + (size_t)q_rows[r] * ld;
        for (int h = 0; h < NH; h++) {
            const float *k = qkv + C + h * HS, *v = qkv + 2 * C + h * HS;
            for (int j = 0; j < T; j++) att[j] = kern->dot(q + h * HS, k + (size_t)j * ld, HS) * scale;
            kern->softmax(att, T, T);
            float *o = out + (size_t)r * C + h * HS;
            memset(o, 0, (size_t)HS * sizeof *o);
            for (int j = 0; j < T; j++) kern->axpy(o, att[j], v + (size_t)j * ld, HS);
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
