/*
 * check_ops.c - every kernel path (scalar, AVX2+FMA, AVX-512) against the scalar reference.
 *
 * Each test runs the kernels on the scalar path, then switches (ops_isa_set) to each vector
 * path the CPU can execute and compares: GELU/QuickGELU within float rounding of the double
 * definitions and bit-identical between the two vector paths, LayerNorm, softmax, bias adds
 * the fused bias add + LayerNorm, and attention (full, causal, CLS rows; lengths with and without tails) within 1e-6..1e-5.
 * It prints which paths ran and which it skipped because the CPU (or a WINCLIP_NO_SIMD build)
 * cannot execute them. The golden fixtures run on each path through the whole suite with
 * WINCLIP_ISA=avx2 / a WINCLIP_NO_SIMD build (.ci/run).
 * Reference: ops.h, ops_isa.h; shared/spec/clip.md §1.1, §1.2, §2.1.
 */
#include "check_suites.h"
#include "test_util.h"

#include "util/base.h"
#include "clip/ops.h"
#include "clip/ops_isa.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void fill(float *x, size_t n, uint64_t seed, double lo, double hi)
{
    for (size_t i = 0; i < n; i++) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        x[i] = (float)(lo + (hi - lo) * ((double)(seed >> 11) / 9007199254740992.0));
    }
}

/* Results of every kernel on one path, for comparison between paths. */
enum { NG = 20481, LN_T = 3, LN_C = 77, SM_N = 300, AT_C = 128, AT_NH = 2, AT_T = 77, BA_N = 13 };
typedef struct {
    float gelu[NG], quick[NG], ln[LN_T * LN_C], sm[SM_N], bias_act[2][3 * BA_N], add[BA_N];
    float att[4][2 * AT_T * AT_C]; /* T = 5, 10, 77 full; 77 causal */
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
    const int lens[4] = {5, 10, 77, 77};
    float *qkv = malloc((size_t)2 * AT_T * 3 * AT_C * sizeof *qkv);
    const size_t att_len = ops_attention_scratch(AT_T, AT_C, AT_NH);
    float *att = malloc(att_len * sizeof *att);
    for (int l = 0; l < 4; l++) {
        fill(qkv, (size_t)2 * lens[l] * 3 * AT_C, 7 + (uint64_t)l, -2.0, 2.0);
        ops_attention(o->att[l], qkv, att, att_len, 2, lens[l], AT_C, AT_NH, l == 3);
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
    const int lens[4] = {5, 10, 77, 77};
    for (int l = 0; l < 4; l++) {
        snprintf(label, sizeof label, "%s attention T=%d%s", path, lens[l], l == 3 ? " causal" : "");
        ck_assert(test_allclose(got->att[l], ref->att[l], (size_t)2 * lens[l] * AT_C, 2e-6, label));
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
    TCase *tc = tcase_create("Core");
    tcase_add_test(tc, ops_every_path_vs_scalar);
    tcase_add_test(tc, ops_bias_add_layernorm_fused);
    tcase_add_test(tc, ops_isa_names_and_cap);
    suite_add_tcase(s, tc);
    return s;
}
