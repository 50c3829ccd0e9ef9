/*
 * check_ops.c - tests for ops.c, the CLIP kernels: exact GELU and QuickGELU (clip.md §1.1),
 * LayerNorm eps, masked softmax, L2 normalisation, attention (full and causal) against a naive
 * double-precision reference, patchify layout.
 */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/base.h"
#include "clip/ops.h"
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
    return s;
}
