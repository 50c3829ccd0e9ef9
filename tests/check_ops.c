/*
 * check_ops.c - tests for ops.c, the CLIP kernels: exact GELU and QuickGELU (clip.md §1.1),
 * LayerNorm eps, masked softmax, L2 normalisation, attention (full and causal) against a naive
 * double-precision reference, patchify layout; and every kernel path (scalar, AVX2+FMA,
 * AVX-512) against the scalar one.
 *
 * The path tests run the kernels on the scalar path, then switch (ops_isa_set) to each vector
 * path the CPU can execute and compare: GELU/QuickGELU within float rounding of the double
 * definitions and bit-identical between the two vector paths, LayerNorm, softmax, bias adds,
 * the fused bias add + LayerNorm, and attention (full, causal, CLS rows; lengths with and
 * without tails) within 1e-6..1e-5; the qkv bias fused into the attention and a chain of blocks
 * that hand on their next ln_1 bit-identical to the separate steps. They print which paths ran and which were skipped because
 * the CPU (or a WINCLIP_NO_SIMD build) cannot execute them. The golden fixtures run on each
 * path through the whole suite with WINCLIP_ISA=avx2 / a WINCLIP_NO_SIMD build (.ci/run).
 * Reference: ops.h, ops_isa.h; shared/spec/clip.md §1.1, §1.2, §2.1.
 */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/base.h"
#include "clip/clip_block.h"
#include "clip/ops.h"
#include "clip/ops_isa.h"
#include "check_suites.h"
#include "test_util.h"

START_TEST(kernel_gelu_vs_quick_gelu)
{
    const float xs[] = {-6.0f, -3.0f, -1.0f, -0.5f, -1e-3f, 0.0f, 1e-3f, 0.5f, 1.0f, 2.0f, 3.0f, 6.0f};
    const size_t n = ARRAY_LEN(xs);
    float g[ARRAY_LEN(xs)], q[ARRAY_LEN(xs)], want_g[ARRAY_LEN(xs)], want_q[ARRAY_LEN(xs)];
    for (size_t i = 0; i < n; i++) {
        const double x = xs[i];
        want_g[i] = (float)(0.5 * x * (1.0 + erf(x / sqrt(2.0))));
        want_q[i] = (float)(x / (1.0 + exp(-1.702 * x)));
    }
    memcpy(g, xs, sizeof g);
    memcpy(q, xs, sizeof q);
    ops_gelu(g, n);
    ops_quick_gelu(q, n);
    ck_assert(test_allclose(g, want_g, n, 1e-6, "gelu (erf)"));
    ck_assert(test_allclose(q, want_q, n, 1e-6, "quick_gelu"));
    /* the two differ visibly (clip.md §1.1): 0.8413 vs 0.8458 at x = 1 */
    ck_assert(fabsf(g[8] - q[8]) > 4e-3f);
    /* not the tanh approximation: at x = -3 exact GELU is -0.004050, tanh gives -0.003638 */
    ck_assert(fabsf(g[1] - (-0.0040496f)) < 1e-6f);
    /* fused bias + activation == add then activate, for both activations */
    const float bias[4] = {0.5f, -0.25f, 1.0f, -2.0f};
    for (int quick = 0; quick <= 1; quick++) {
        float a[12], b[12];
        for (int i = 0; i < 12; i++) a[i] = b[i] = xs[i] * 0.7f;
        ops_bias_act(a, bias, 3, 4, quick);
        for (int i = 0; i < 12; i++) b[i] += bias[i % 4];
        if (quick) ops_quick_gelu(b, 12);
        else ops_gelu(b, 12);
        ck_assert(test_allclose(a, b, 12, 0.0, quick ? "bias+quick_gelu" : "bias+gelu"));
    }
}
END_TEST

START_TEST(kernel_layernorm_eps)
{
    /* a row whose variance (5e-7) is far below eps: eps 1e-5 matters at the 1e-1 level */
    const float x[8] = {1.0f, 1.001f, 0.999f, 1.0f, 3.0f, -1.0f, 0.5f, 2.5f};
    const float w[4] = {1.0f, 2.0f, 0.5f, -1.0f}, b[4] = {0.1f, 0.0f, -0.2f, 0.3f};
    float y[8], want[8], wrong_eps[8];
    for (int r = 0; r < 2; r++) {
        double mean = 0, var = 0;
        for (int i = 0; i < 4; i++) mean += x[r * 4 + i] / 4.0;
        for (int i = 0; i < 4; i++) var += (x[r * 4 + i] - mean) * (x[r * 4 + i] - mean) / 4.0;
        for (int i = 0; i < 4; i++) {
            want[r * 4 + i] = (float)((x[r * 4 + i] - mean) / sqrt(var + 1e-5) * w[i] + b[i]);
            wrong_eps[r * 4 + i] = (float)((x[r * 4 + i] - mean) / sqrt(var + 1e-6) * w[i] + b[i]);
        }
    }
    ops_layernorm(y, x, w, b, 2, 4);
    ck_assert(test_allclose(y, want, 8, 1e-6, "layernorm eps 1e-5"));
    ck_assert(fabsf(y[1] - wrong_eps[1]) > 0.05f);
    /* in place, and a constant row gives exactly the bias */
    float c[4] = {7.0f, 7.0f, 7.0f, 7.0f};
    ops_layernorm(c, c, w, b, 1, 4);
    ck_assert(test_allclose(c, b, 4, 0.0, "layernorm constant row"));
}
END_TEST

START_TEST(kernel_softmax_and_normalize)
{
    float a[4] = {1.0f, 2.0f, 3.0f, 99.0f};
    ops_softmax_row(a, 4, 3); /* column 3 masked */
    const double z = exp(1.0) + exp(2.0) + exp(3.0);
    const float want[4] = {(float)(exp(1.0) / z), (float)(exp(2.0) / z), (float)(exp(3.0) / z), 0.0f};
    ck_assert(test_allclose(a, want, 4, 1e-7, "softmax masked"));
    float big[2] = {1000.0f, 1001.0f}; /* max subtracted: no overflow */
    ops_softmax_row(big, 2, 2);
    ck_assert(fabsf(big[1] - (float)(1.0 / (1.0 + exp(-1.0)))) < 1e-6f);
    float v[6] = {3.0f, 4.0f, 0.0f, 0.0f, 0.0f, 0.0f};
    ops_l2_normalize(v, 2, 3);
    ck_assert(v[0] == 0.6f && v[1] == 0.8f && v[3] == 0.0f);
}
END_TEST

/* Naive double attention of one sequence: q/k/v from qkv (T, 3C). */
static void attention_ref(float *out, const float *qkv, int T, int C, int NH, int causal)
{
    const int HS = C / NH;
    for (int h = 0; h < NH; h++)
        for (int i = 0; i < T; i++) {
            double sc[64], mx = -1e300, sum = 0;
            const int valid = causal ? i + 1 : T;
            for (int j = 0; j < valid; j++) {
                double d = 0;
                for (int c = 0; c < HS; c++) d += (double)qkv[i * 3 * C + h * HS + c] * qkv[j * 3 * C + C + h * HS + c];
                sc[j] = d / sqrt((double)HS);
                mx = fmax(mx, sc[j]);
            }
            for (int j = 0; j < valid; j++) sum += (sc[j] = exp(sc[j] - mx));
            for (int c = 0; c < HS; c++) {
                double o = 0;
                for (int j = 0; j < valid; j++) o += sc[j] / sum * qkv[j * 3 * C + 2 * C + h * HS + c];
                out[i * C + h * HS + c] = (float)o;
            }
        }
}

START_TEST(kernel_attention_causal)
{
    const int C = 24, NH = 3;
    const int lens[2] = {6, 40}; /* direct loops and the GEMM path */
    for (int li = 0; li < 2; li++) {
        const int T = lens[li];
        float *qkv = malloc((size_t)2 * T * 3 * C * sizeof *qkv), *out = malloc((size_t)2 * T * C * sizeof *out);
        float *want = malloc((size_t)T * C * sizeof *want), *att = malloc(ops_attention_scratch(T, C, NH) * sizeof *att);
        const size_t att_len = ops_attention_scratch(T, C, NH);
        uint64_t st = 42 + (uint64_t)li;
        for (int i = 0; i < 2 * T * 3 * C; i++) {
            st = st * 6364136223846793005ULL + 1442695040888963407ULL;
            qkv[i] = (float)((double)(st >> 11) / 9007199254740992.0 * 4.0 - 2.0);
        }
        for (int causal = 0; causal <= 1; causal++) {
            ops_attention(out, qkv, att, att_len, 2, T, C, NH, causal); /* two sequences, never mixed */
            for (int b = 0; b < 2; b++) {
                attention_ref(want, qkv + (size_t)b * T * 3 * C, T, C, NH, causal);
                ck_assert(test_allclose(out + (size_t)b * T * C, want, (size_t)T * C, 1e-5,
                                        causal ? "attention causal" : "attention full"));
            }
            if (causal) {
                /* row 0 sees only key 0: its output is v row 0 */
                ck_assert(test_allclose(out, qkv + 2 * C, (size_t)C, 1e-6, "causal row 0 = v0"));
                /* changing the last token does not change earlier rows */
                float *before = malloc((size_t)T * C * sizeof *before);
                memcpy(before, out, (size_t)T * C * sizeof *before);
                for (int c = 0; c < 3 * C; c++) qkv[(size_t)(T - 1) * 3 * C + c] += 1.0f;
                ops_attention(out, qkv, att, att_len, 1, T, C, NH, 1);
                ck_assert(test_allclose(out, before, (size_t)(T - 1) * C, 0.0, "causal: future token ignored"));
                free(before);
            }
        }
        /* the single-row variant equals row 0 (and row T-1) of the full attention */
        ops_attention(out, qkv, att, att_len, 1, T, C, NH, 0);
        const int rows[2] = {0, T - 1};
        float two[2 * 24];
        ops_attention_rows(two, qkv, att, T, rows, 2, C, NH);
        ck_assert(test_allclose(two, out, (size_t)C, 1e-6, "attention_rows row 0"));
        ck_assert(test_allclose(two + C, out + (size_t)(T - 1) * C, (size_t)C, 1e-6, "attention_rows row T-1"));
        free(qkv), free(out), free(want), free(att);
    }
}
END_TEST

START_TEST(kernel_patchify)
{
    /* S = 4, P = 2: patch (r, c) holds img[ch][2r+ky][2c+kx] in (ch, ky, kx) order */
    float img[3 * 16], out[4 * 12];
    for (int i = 0; i < 48; i++) img[i] = (float)i;
    ops_patchify(out, img, 4, 2);
    for (int r = 0; r < 2; r++)
        for (int c = 0; c < 2; c++)
            for (int ch = 0; ch < 3; ch++)
                for (int ky = 0; ky < 2; ky++)
                    for (int kx = 0; kx < 2; kx++)
                        ck_assert(out[(r * 2 + c) * 12 + (ch * 2 + ky) * 2 + kx] ==
                                  img[ch * 16 + (2 * r + ky) * 4 + 2 * c + kx]);
}
END_TEST

/* The vector GELU (interval-Taylor erf) and vector softmax stay within float rounding of the
 * double-precision definitions over a dense grid (exactness is the point of exact GELU). */
START_TEST(kernel_gelu_softmax_dense)
{
    const int n = 20481;
    float *g = malloc((size_t)n * sizeof *g), *b = malloc((size_t)n * sizeof *b);
    double worst = 0.0;
    for (int i = 0; i < n; i++) g[i] = b[i] = -10.0f + (float)i / 1024.0f;
    ops_gelu(g, (size_t)n);
    const float zero[1] = {0.0f};
    for (int i = 0; i < n; i++) ops_bias_act(b + i, zero, 1, 1, 0); /* the masked tail path */
    for (int i = 0; i < n; i++) {
        const double x = -10.0 + i / 1024.0, want = 0.5 * x * (1.0 + erf(x / sqrt(2.0)));
        /* float rounding of 1 + erf costs up to 0.5 |x| ulp(1) in the far negative tail, as in
         * any float erf formula (PyTorch's included) */
        const double tol = 2.5e-7 * fabs(want) + 6e-8 * fabs(x) + 1e-12;
        ck_assert_msg(fabs(g[i] - want) <= tol, "gelu(%g) = %.9g, want %.9g", x, g[i], want);
        ck_assert_msg(g[i] == b[i], "gelu(%g): bulk %.9g vs tail %.9g", x, g[i], b[i]);
        worst = fmax(worst, fabs(g[i] - want));
    }
    if (getenv("CLIP_TEST_VERBOSE")) printf("gelu dense: max abs error %.3g\n", worst);
    /* QuickGELU the same way */
    for (int i = 0; i < n; i++) g[i] = b[i] = -10.0f + (float)i / 1024.0f;
    ops_quick_gelu(g, (size_t)n);
    for (int i = 0; i < n; i++) ops_bias_act(b + i, zero, 1, 1, 1);
    for (int i = 0; i < n; i++) {
        const double x = -10.0 + i / 1024.0, want = x / (1.0 + exp((double)(-1.702f * (float)x))); /* float product */
        ck_assert_msg(fabs(g[i] - want) <= 3e-7 * fabs(want) + 1e-12, "quick_gelu(%g) = %.9g, want %.9g", x, g[i], want);
        ck_assert(g[i] == b[i]);
    }
    free(g), free(b);
    /* softmax over 300 values spread over [-50, 50], 290 valid */
    float row[300];
    double e[300], z = 0.0, mx = -1e300;
    for (int j = 0; j < 300; j++) row[j] = (float)(((j * 7919) % 1001) / 10.0 - 50.0);
    for (int j = 0; j < 290; j++) mx = fmax(mx, row[j]);
    for (int j = 0; j < 290; j++) z += (e[j] = exp((double)(row[j] - (float)mx))); /* float difference, as computed */
    ops_softmax_row(row, 300, 290);
    for (int j = 0; j < 300; j++) {
        const double want = j < 290 ? e[j] / z : 0.0;
        ck_assert_msg(fabs(row[j] - want) <= 3e-7 * want + 1e-30, "softmax[%d] = %.9g, want %.9g", j, row[j], want);
    }
}
END_TEST

/* ---- every kernel path against the scalar one ---- */

static void fill(float *x, size_t n, uint64_t seed, double lo, double hi)
{
    for (size_t i = 0; i < n; i++) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        x[i] = (float)(lo + (hi - lo) * ((double)(seed >> 11) / 9007199254740992.0));
    }
}

/* Results of every kernel on one path, for comparison between paths. */
enum { NG = 20481, LN_T = 3, LN_C = 77, SM_N = 300, AT_C = 128, AT_NH = 2, AT_T = 77, BA_N = 13, N_ATT = 7 };
/* attention lengths: the vector paths' short kernel (T <= 16) and long kernel (T >= 17) on both
 * sides of the boundary, full and causal */
static const int att_lens[N_ATT] = {5, 10, 16, 17, 77, 12, 77};
#define ATT_CAUSAL(l) ((l) >= N_ATT - 2)
typedef struct {
    float gelu[NG], quick[NG], ln[LN_T * LN_C], sm[SM_N], bias_act[2][3 * BA_N], add[BA_N];
    float att[N_ATT][2 * AT_T * AT_C]; /* att_lens[l]; the last two causal */
    float rows[2 * AT_C];          /* ops_attention_rows, rows 0 and 9 of T = 10 */
} Outputs;

static void run_kernels(Outputs *o)
{
    for (int i = 0; i < NG; i++) o->gelu[i] = o->quick[i] = -10.0f + (float)i / 1024.0f;
    ops_gelu(o->gelu, NG);
    ops_quick_gelu(o->quick, NG);
    float x[LN_T * LN_C], w[LN_C], b[LN_C];
    fill(x, LN_T * LN_C, 1, -3.0, 5.0), fill(w, LN_C, 2, -1.0, 2.0), fill(b, LN_C, 3, -0.5, 0.5);
    ops_layernorm(o->ln, x, w, b, LN_T, LN_C);
    for (int j = 0; j < SM_N; j++) o->sm[j] = (float)(((j * 7919) % 1001) / 10.0 - 50.0);
    ops_softmax_row(o->sm, SM_N, 290);
    float bias[BA_N];
    fill(bias, BA_N, 4, -1.0, 1.0);
    for (int q = 0; q < 2; q++) {
        fill(o->bias_act[q], 3 * BA_N, 5, -4.0, 4.0);
        ops_bias_act(o->bias_act[q], bias, 3, BA_N, q);
    }
    fill(o->add, BA_N, 6, -1.0, 1.0);
    ops_add(o->add, bias, BA_N);
    float *qkv = malloc((size_t)2 * AT_T * 3 * AT_C * sizeof *qkv);
    const size_t att_len = ops_attention_scratch(AT_T, AT_C, AT_NH);
    float *att = malloc(att_len * sizeof *att);
    for (int l = 0; l < N_ATT; l++) {
        fill(qkv, (size_t)2 * att_lens[l] * 3 * AT_C, 7 + (uint64_t)l, -2.0, 2.0);
        ops_attention(o->att[l], qkv, att, att_len, 2, att_lens[l], AT_C, AT_NH, ATT_CAUSAL(l));
        if (l == 1) {
            const int r[2] = {0, 9};
            ops_attention_rows(o->rows, qkv, att, 10, r, 2, AT_C, AT_NH);
        }
    }
    free(qkv), free(att);
}

static void compare(const Outputs *got, const Outputs *ref, const char *path)
{
    char label[64];
    for (int i = 0; i < NG; i++) {
        const double xv = -10.0 + i / 1024.0, want = 0.5 * xv * (1.0 + erf(xv / sqrt(2.0)));
        const double tol = 2.5e-7 * fabs(want) + 6e-8 * fabs(xv) + 1e-12;
        ck_assert_msg(fabs(got->gelu[i] - want) <= tol, "%s gelu(%g) = %.9g, want %.9g", path, xv, got->gelu[i], want);
        ck_assert_msg(fabs(got->quick[i] - ref->quick[i]) <= 3e-7 * fabs(ref->quick[i]) + 1e-12,
                      "%s quick_gelu(%g) = %.9g, scalar %.9g", path, xv, got->quick[i], ref->quick[i]);
    }
    snprintf(label, sizeof label, "%s layernorm", path);
    ck_assert(test_allclose(got->ln, ref->ln, LN_T * LN_C, 2e-6, label));
    for (int j = 0; j < SM_N; j++)
        ck_assert_msg(fabs(got->sm[j] - ref->sm[j]) <= 3e-7 * ref->sm[j] + 1e-30, "%s softmax[%d] = %.9g, scalar %.9g",
                      path, j, got->sm[j], ref->sm[j]);
    snprintf(label, sizeof label, "%s bias+gelu", path);
    ck_assert(test_allclose(got->bias_act[0], ref->bias_act[0], 3 * BA_N, 1e-6, label));
    snprintf(label, sizeof label, "%s bias+quick_gelu", path);
    ck_assert(test_allclose(got->bias_act[1], ref->bias_act[1], 3 * BA_N, 1e-6, label));
    snprintf(label, sizeof label, "%s add", path);
    ck_assert(test_allclose(got->add, ref->add, BA_N, 0.0, label));
    for (int l = 0; l < N_ATT; l++) {
        snprintf(label, sizeof label, "%s attention T=%d%s", path, att_lens[l], ATT_CAUSAL(l) ? " causal" : "");
        ck_assert(test_allclose(got->att[l], ref->att[l], (size_t)2 * att_lens[l] * AT_C, 2e-6, label));
    }
    snprintf(label, sizeof label, "%s attention_rows", path);
    ck_assert(test_allclose(got->rows, ref->rows, 2 * AT_C, 2e-6, label));
    /* the rows variant equals rows 0 and 9 of the full attention of the first sequence */
    ck_assert(test_allclose(got->rows, got->att[1], AT_C, 1e-6, label));
    ck_assert(test_allclose(got->rows + AT_C, got->att[1] + 9 * AT_C, AT_C, 1e-6, label));
}

START_TEST(ops_every_path_vs_scalar)
{
    Outputs *ref = calloc(1, sizeof *ref), *got = calloc(1, sizeof *got), *first_vec = NULL;
    const OpsIsa before = ops_isa_active();
    ck_assert(ops_isa_set(OPS_ISA_SCALAR) == OPS_ISA_SCALAR);
    run_kernels(ref);
    compare(ref, ref, "scalar");
    char ran[64] = "scalar", skipped[128] = "";
    for (OpsIsa isa = OPS_ISA_AVX2; isa <= OPS_ISA_AVX512; isa++) {
        if (ops_isa_set(isa) != isa) {
            snprintf(skipped + strlen(skipped), sizeof skipped - strlen(skipped), " %s (this CPU or build offers %s)",
                     ops_isa_name(isa), ops_isa_name(ops_isa_detected()));
            continue;
        }
        run_kernels(got);
        compare(got, ref, ops_isa_name(isa));
        if (first_vec) {
            /* one formula on every vector path: the same bits for GELU and QuickGELU */
            ck_assert(memcmp(got->gelu, first_vec->gelu, sizeof got->gelu) == 0);
            ck_assert(memcmp(got->quick, first_vec->quick, sizeof got->quick) == 0);
            /* and for attention (the same chains and sums): text prototypes cached on disk by
             * one path are what the other computes */
            for (int l = 0; l < N_ATT; l++)
                ck_assert_msg(memcmp(got->att[l], first_vec->att[l], (size_t)2 * att_lens[l] * AT_C * sizeof(float)) == 0,
                              "attention T=%d%s: %s differs from %s", att_lens[l], ATT_CAUSAL(l) ? " causal" : "",
                              ops_isa_name(isa), ops_isa_name(OPS_ISA_AVX2));
            /* (not ops_attention_rows: its dot products reduce 8 lanes on AVX2, 16 on AVX-512) */
        } else {
            first_vec = malloc(sizeof *first_vec);
            memcpy(first_vec, got, sizeof *got);
        }
        snprintf(ran + strlen(ran), sizeof ran - strlen(ran), " %s", ops_isa_name(isa));
    }
    printf("ops paths ran: %s; skipped:%s\n", ran, *skipped ? skipped : " none");
    ops_isa_set(before);
    free(ref), free(got), free(first_vec);
}
END_TEST

/* The fused bias add + LayerNorm equals the two steps apart, on every path. */
START_TEST(ops_bias_add_layernorm_fused)
{
    const OpsIsa before = ops_isa_active();
    enum { T = 5, C = 45 };
    float x[T * C], x2[T * C], h[T * C], h2[T * C], bias[C], w[C], b[C];
    for (OpsIsa isa = OPS_ISA_SCALAR; isa <= ops_isa_detected(); isa++) {
        ck_assert(ops_isa_set(isa) == isa);
        fill(x, T * C, 11, -2.0, 3.0), fill(bias, C, 12, -1.0, 1.0), fill(w, C, 13, 0.5, 1.5), fill(b, C, 14, -0.1, 0.1);
        memcpy(x2, x, sizeof x);
        ops_bias_add_layernorm(h, x, bias, w, b, T, C);
        for (int r = 0; r < T; r++) ops_add(x2 + r * C, bias, C);
        ops_layernorm(h2, x2, w, b, T, C);
        ck_assert(test_allclose(x, x2, T * C, 0.0, ops_isa_name(isa)));
        ck_assert(test_allclose(h, h2, T * C, 0.0, ops_isa_name(isa)));
    }
    ops_isa_set(before);
}
END_TEST

/* The qkv bias added inside the attention, and blocks that compute the next block's ln_1 in
 * their c_proj pass, give the same bits as the separate steps, on every path. */
START_TEST(ops_block_fusions_exact)
{
    const OpsIsa before = ops_isa_active();
    enum { C = 24, NH = 3, T = 7, B = 3, R = B * T, L = 3 };
    const size_t att_len = ops_attention_scratch(T, C, NH);
    float *att = malloc(att_len * sizeof *att);
    static float qkv[R * 3 * C], qkv2[R * 3 * C], bias[3 * C], out[R * C], out2[R * C];
    /* L random blocks */
    ClipBlock blk[L];
    float *wts = malloc((size_t)L * (12 * C * C + 13 * C) * sizeof *wts), *p = wts;
    for (int l = 0; l < L; l++) {
        float **f[] = {&blk[l].ln_1_w, &blk[l].ln_1_b, &blk[l].in_proj_w, &blk[l].in_proj_b, &blk[l].out_proj_w,
                       &blk[l].out_proj_b, &blk[l].ln_2_w, &blk[l].ln_2_b, &blk[l].c_fc_w, &blk[l].c_fc_b,
                       &blk[l].c_proj_w, &blk[l].c_proj_b};
        const size_t n[] = {C, C, 3 * C * C, 3 * C, C * C, C, C, C, 4 * C * C, 4 * C, 4 * C * C, C};
        for (int i = 0; i < 12; i++) {
            *f[i] = p;
            fill(p, n[i], 100 + (uint64_t)(l * 12 + i), i == 0 || i == 6 ? 0.5 : -0.3, i == 0 || i == 6 ? 1.5 : 0.3);
            p += n[i];
        }
    }
    float *x = malloc(R * C * sizeof *x), *x2 = malloc(R * C * sizeof *x2);
    float *h = malloc(R * C * sizeof *h), *q3 = malloc(R * 3 * C * sizeof *q3), *mlp = malloc(R * 4 * C * sizeof *mlp);
    const ClipBlockScratch sc = {h, q3, mlp, att, att_len};
    const ClipSeqGroup g = {B, T};
    for (OpsIsa isa = OPS_ISA_SCALAR; isa <= ops_isa_detected(); isa++) {
        ck_assert(ops_isa_set(isa) == isa);
        fill(qkv, R * 3 * C, 21, -2.0, 2.0), fill(bias, 3 * C, 22, -1.0, 1.0);
        memcpy(qkv2, qkv, sizeof qkv);
        for (int causal = 0; causal <= 1; causal++) {
            memcpy(qkv, qkv2, sizeof qkv);
            ops_attention_bias(out, qkv, bias, att, att_len, B, T, C, NH, causal);
            float biased[R * 3 * C];
            memcpy(biased, qkv2, sizeof biased);
            for (int r = 0; r < R; r++) ops_add(biased + r * 3 * C, bias, 3 * C);
            ops_attention(out2, biased, att, att_len, B, T, C, NH, causal);
            ck_assert(test_allclose(qkv, biased, R * 3 * C, 0.0, "qkv after the fused bias"));
            ck_assert(test_allclose(out, out2, R * C, 0.0, "attention with the fused qkv bias"));
        }
        /* L blocks chained (each hands its ln_1 on) against L blocks on their own */
        fill(x, R * C, 31, -1.0, 1.0);
        memcpy(x2, x, R * C * sizeof *x);
        for (int l = 0; l < L; l++)
            clip_block_forward(&blk[l], x, &g, 1, C, NH, l > 0 ? CLIP_BLOCK_LN1_READY : 0u, l + 1 < L ? &blk[l + 1] : NULL,
                               &sc);
        for (int l = 0; l < L; l++) clip_block_forward(&blk[l], x2, &g, 1, C, NH, 0u, NULL, &sc);
        ck_assert(test_allclose(x, x2, R * C, 0.0, ops_isa_name(isa)));
    }
    ops_isa_set(before);
    free(att), free(wts), free(x), free(x2), free(h), free(q3), free(mlp);
}
END_TEST

/* Causal sequences sharing their prefixes' rows (ops_attention_prefix) against the same
 * sequences stored one after another in full (ops_attention_groups, the qkv bias fused): every
 * row a sequence owns has the same bits, the rows it shares agree within rounding, qkv is only
 * read; on every path, for short (<= 16) and long sequences, head sizes 8 and 64. */
START_TEST(ops_attention_prefix_exact)
{
    const OpsIsa before = ops_isa_active();
    enum { B = 5, LMAX = 24, ROWS = 48, CMAX = 128 };
    /* seq 0: rows 0..19; 1: 0..11 + 20..31; 2: 0..8 (all shared); 3: 32..36; 4: 32..34 + 37..47 */
    const int len[B] = {20, 24, 9, 5, 14}, own[B] = {0, 12, 9, 0, 3};
    int row_of[B * LMAX];
    for (int t = 0; t < LMAX; t++) {
        row_of[0 * LMAX + t] = t;
        row_of[1 * LMAX + t] = t < 12 ? t : 20 + t - 12;
        row_of[2 * LMAX + t] = t;
        row_of[3 * LMAX + t] = 32 + t;
        row_of[4 * LMAX + t] = t < 3 ? 32 + t : 37 + t - 3;
    }
    const OpsPrefixSeqs p = {B, LMAX, len, own, row_of};
    const int Cs[2] = {24, CMAX}, NHs[2] = {3, 2};
    int dup_rows = 0;
    for (int b = 0; b < B; b++) dup_rows += len[b];
    float *qkv = malloc((size_t)ROWS * 3 * CMAX * sizeof *qkv), *qkv0 = malloc((size_t)ROWS * 3 * CMAX * sizeof *qkv0);
    float *dup = malloc((size_t)dup_rows * 3 * CMAX * sizeof *dup), *bias = malloc(3 * CMAX * sizeof *bias);
    float *out = malloc((size_t)ROWS * CMAX * sizeof *out), *out_dup = malloc((size_t)dup_rows * CMAX * sizeof *out_dup);
    ClipSeqGroup g[B];
    for (int b = 0; b < B; b++) g[b] = (ClipSeqGroup){1, len[b]};
    for (OpsIsa isa = OPS_ISA_SCALAR; isa <= ops_isa_detected(); isa++) {
        ck_assert(ops_isa_set(isa) == isa);
        for (int v = 0; v < 4; v++) {
            const int C = Cs[v & 1], NH = NHs[v & 1];
            const float *bi = v & 2 ? bias : NULL;
            const size_t att_len = ops_attention_prefix_scratch(LMAX, C, NH);
            float *att = malloc(att_len * sizeof *att);
            fill(qkv, (size_t)ROWS * 3 * C, 51 + (uint64_t)v, -2.0, 2.0), fill(bias, 3 * C, 52, -1.0, 1.0);
            memcpy(qkv0, qkv, (size_t)ROWS * 3 * C * sizeof *qkv);
            for (size_t i = 0; i < (size_t)ROWS * C; i++) out[i] = NAN;
            size_t r = 0;
            for (int b = 0; b < B; b++)
                for (int t = 0; t < len[b]; t++, r++)
                    memcpy(dup + r * 3 * C, qkv + (size_t)row_of[b * LMAX + t] * 3 * C, (size_t)3 * C * sizeof *dup);
            ops_attention_prefix(out, qkv, bi, att, att_len, &p, C, NH);
            ops_attention_groups(out_dup, dup, bi, att, att_len, g, B, C, NH, 1);
            ck_assert(test_allclose(qkv, qkv0, (size_t)ROWS * 3 * C, 0.0, "qkv is only read"));
            char label[96];
            r = 0;
            for (int b = 0; b < B; b++)
                for (int t = 0; t < len[b]; t++, r++) {
                    snprintf(label, sizeof label, "%s C=%d%s seq %d pos %d (%s)", ops_isa_name(isa), C,
                             bi ? " bias" : "", b, t, t >= own[b] ? "own row" : "shared row");
                    ck_assert(test_allclose(out + (size_t)row_of[b * LMAX + t] * C, out_dup + r * C, (size_t)C,
                                            t >= own[b] ? 0.0 : 1e-6, label));
                }
            free(att);
        }
    }
    ops_isa_set(before);
    free(qkv), free(qkv0), free(dup), free(bias), free(out), free(out_dup);
}
END_TEST

/* Many sequences are attended one item per sequence (its heads inside), few one item per
 * (sequence, head): the same bits either way, with and without the fused qkv bias, full and
 * causal, on every path (B = 9 small sequences take the first layout, B = 1 the second), and
 * for groups of mixed lengths in one call (the text tower's prompts). */
START_TEST(ops_attention_item_layouts_agree)
{
    const OpsIsa before = ops_isa_active();
    enum { C = 24, NH = 3, T = 6, B = 9, R = B * T };
    const size_t att_len = ops_attention_scratch(T, C, NH);
    float *att = malloc(att_len * sizeof *att);
    static float qkv[R * 3 * C], qkv1[R * 3 * C], bias[3 * C], out[R * C], out1[R * C];
    fill(bias, 3 * C, 41, -1.0, 1.0);
    for (OpsIsa isa = OPS_ISA_SCALAR; isa <= ops_isa_detected(); isa++) {
        ck_assert(ops_isa_set(isa) == isa);
        for (int variant = 0; variant < 4; variant++) {
            const int causal = variant & 1;
            const float *b = variant & 2 ? bias : NULL;
            fill(qkv, R * 3 * C, 42, -2.0, 2.0);
            memcpy(qkv1, qkv, sizeof qkv);
            ops_attention_bias(out, qkv, b, att, att_len, B, T, C, NH, causal);
            for (int s = 0; s < B; s++)
                ops_attention_bias(out1 + (size_t)s * T * C, qkv1 + (size_t)s * T * 3 * C, b, att, att_len, 1, T, C, NH,
                                   causal);
            ck_assert(test_allclose(out, out1, R * C, 0.0, ops_isa_name(isa)));
            ck_assert(test_allclose(qkv, qkv1, R * 3 * C, 0.0, ops_isa_name(isa)));
            /* groups of mixed lengths in one call (10 sequences; then 2, one item per head)
             * equal one call per sequence */
            const ClipSeqGroup mixed[2][4] = {{{2, 6}, {1, 3}, {3, 5}, {4, 2}}, {{1, 6}, {1, 3}}};
            const int n_groups[2] = {4, 2};
            for (int m = 0; m < 2; m++) {
                fill(qkv, R * 3 * C, 43 + (uint64_t)m, -2.0, 2.0);
                memcpy(qkv1, qkv, sizeof qkv);
                ops_attention_groups(out, qkv, b, att, att_len, mixed[m], n_groups[m], C, NH, causal);
                size_t row = 0;
                for (int i = 0; i < n_groups[m]; i++)
                    for (int q = 0; q < mixed[m][i].count; q++, row += (size_t)mixed[m][i].len)
                        ops_attention_bias(out1 + row * C, qkv1 + row * 3 * C, b, att, att_len, 1, mixed[m][i].len, C,
                                           NH, causal);
                ck_assert(test_allclose(out, out1, row * C, 0.0, "mixed groups"));
                ck_assert(test_allclose(qkv, qkv1, row * 3 * C, 0.0, "mixed groups, qkv"));
            }
        }
    }
    ops_isa_set(before);
    free(att);
}
END_TEST

START_TEST(ops_isa_names_and_cap)
{
    ck_assert_str_eq(ops_isa_name(OPS_ISA_SCALAR), "scalar");
    ck_assert_str_eq(ops_isa_name(OPS_ISA_AVX2), "avx2");
    ck_assert_str_eq(ops_isa_name(OPS_ISA_AVX512), "avx512");
    const OpsIsa before = ops_isa_active();
    ck_assert(ops_isa_active() <= ops_isa_detected());
    /* never above what the CPU can execute */
    ck_assert(ops_isa_set(OPS_ISA_AVX512) == ops_isa_detected());
    ck_assert(ops_isa_set(OPS_ISA_SCALAR) == OPS_ISA_SCALAR);
    ck_assert(ops_isa_active() == OPS_ISA_SCALAR);
    ops_isa_set(before);
}
END_TEST

Suite *ops_suite(void)
{
    Suite *s = suite_create("ops");
    TCase *core = tcase_create("Core");
    tcase_add_test(core, kernel_gelu_vs_quick_gelu);
    tcase_add_test(core, kernel_gelu_softmax_dense);
    tcase_add_test(core, kernel_layernorm_eps);
    tcase_add_test(core, kernel_softmax_and_normalize);
    tcase_add_test(core, kernel_attention_causal);
    tcase_add_test(core, kernel_patchify);
    suite_add_tcase(s, core);
    TCase *paths = tcase_create("Paths");
    tcase_add_test(paths, ops_every_path_vs_scalar);
    tcase_add_test(paths, ops_bias_add_layernorm_fused);
    tcase_add_test(paths, ops_block_fusions_exact);
    tcase_add_test(paths, ops_attention_item_layouts_agree);
    tcase_add_test(paths, ops_attention_prefix_exact);
    tcase_add_test(paths, ops_isa_names_and_cap);
    suite_add_tcase(s, paths);
    return s;
}
