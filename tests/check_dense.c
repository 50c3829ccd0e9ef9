/*
 * check_dense.c - tests for the ablation scoring paths of issue 10: the one-class and two-class
 * prompt sets, the one-class score, WinCLIP+ without language, the dense-token map
 * (patch_tokens / maskclip), MaskCLIP tokens, tiling's crop geometry and crop-resize, and the
 * tiling window embeddings. Each path is checked against a direct reimplementation written here
 * (double precision loops), and against ../shared/fixtures/tiny_clip where a stage exists there
 * (gelu/vision_tokens_ln_post_proj: patch tokens after ln_post and the projection).
 * Reference: shared/spec/winclip.md §14.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clip/clip_block.h"
#include "clip/clip_maskclip.h"
#include "clip/clip_model.h"
#include "clip/ops.h"
#include "util/h5.h"
#include "winclip/dense.h"
#include "winclip/prompts.h"
#include "winclip/winclip.h"
#include "check_suites.h"
#include "test_util.h"

/* ---- direct reimplementations ---- */

static double ref_cos(const float *a, const float *b, int n)
{
    double ab = 0, aa = 0, bb = 0;
    for (int i = 0; i < n; i++) ab += (double)a[i] * b[i], aa += (double)a[i] * a[i], bb += (double)b[i] * b[i];
    return ab / (sqrt(aa) * sqrt(bb));
}

/* softmax([cos_n, cos_a] / tau)[1] written as the two exponentials of Eq. (1) */
static double ref_ascore(const float *f, const float *tn, const float *ta, int n, double tau)
{
    double en = exp(ref_cos(f, tn, n) / tau), ea = exp(ref_cos(f, ta, n) / tau);
    return ea / (en + ea);
}

static unsigned long long lcg_state = 12345;
static float frand(void) /* uniform in [-1, 1) */
{
    lcg_state = lcg_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (float)((double)(lcg_state >> 11) / 9007199254740992.0 * 2.0 - 1.0);
}

static void fill(float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) x[i] = frand();
}

/* ---- prompts ---- */

START_TEST(prompts_one_and_two_class)
{
    PromptList p = {0};
    Error err = {0};
    ck_assert_int_eq(prompts_build(&p, PROMPTS_ONE_CLASS, "metal nut", NULL, 0, NULL, 0, &err), 0);
    ck_assert_int_eq(p.n_normal, 1);
    ck_assert_int_eq(p.n_anomalous, 0);
    ck_assert_str_eq(p.normal[0], "normal metal nut");
    prompts_free(&p);
    ck_assert_int_eq(prompts_build(&p, PROMPTS_TWO_CLASS, "bottle", NULL, 0, NULL, 0, &err), 0);
    ck_assert_int_eq(p.n_normal, 1);
    ck_assert_int_eq(p.n_anomalous, 1);
    ck_assert_str_eq(p.normal[0], "normal bottle");
    ck_assert_str_eq(p.anomalous[0], "anomalous bottle");
    prompts_free(&p);
    const char *extra[] = {"bent"};
    ck_assert_int_eq(prompts_build(&p, PROMPTS_ONE_CLASS, "bottle", NULL, 0, extra, 1, &err), ERR_VALUE);
    ck_assert_ptr_nonnull(strstr(err.msg, "one_class"));
    ck_assert_int_eq(prompts_set_parse("one_class"), PROMPTS_ONE_CLASS);
    ck_assert_str_eq(prompts_set_name(PROMPTS_TWO_CLASS), "two_class");
}
END_TEST

/* ---- one-class score ---- */

START_TEST(one_class_score)
{
    enum { E = 7, N = 3 };
    float normal[N * E], f[E];
    fill(normal, N * E);
    fill(f, E);
    Error err = {0};
    WinclipText t = {0}, s = {0};
    ck_assert_int_eq(winclip_text_init_one_class(&t, normal, N, E, WINCLIP_PROTO_NORMALIZE,
                                                 WINCLIP_ONE_CLASS_DISTANCE, &err), 0);
    ck_assert_ptr_null(t.anomalous);
    /* prototype: mean of the unit rows (normalize), then renormalised */
    float proto[E];
    for (int d = 0; d < E; d++) {
        double acc = 0;
        for (int i = 0; i < N; i++) {
            double norm = 0;
            for (int j = 0; j < E; j++) norm += (double)normal[i * E + j] * normal[i * E + j];
            acc += normal[i * E + d] / sqrt(norm);
        }
        proto[d] = (float)(acc / N);
    }
    double cn = ref_cos(f, proto, E), cos2[2];
    ck_assert(fabs(winclip_ascore(f, &t, 0.01, cos2) - (1.0 - cn)) < 1e-6);
    ck_assert(fabs(cos2[0] - cn) < 1e-6 && cos2[1] == 0.0);
    ck_assert_int_eq(winclip_text_init_one_class(&s, normal, N, E, WINCLIP_PROTO_NORMALIZE,
                                                 WINCLIP_ONE_CLASS_SIMILARITY, &err), 0);
    ck_assert(fabs(winclip_ascore(f, &s, 0.07, NULL) - (1.0 + cn) / 2.0) < 1e-6);
    /* through winclip_score (image scale only): the image score is the one-class score */
    WindowGeometry g;
    ck_assert_int_eq(window_geometry_init(&g, 3, 4, E, NULL, 0, 1, &err), 0);
    ClipImageFeatures feat;
    clip_features_init(&feat, &g);
    memcpy(feat.image_embedding, f, sizeof f);
    WinclipSettings set;
    winclip_settings_default(&set);
    ck_assert_int_eq(winclip_settings_set(&set, "scales", "none", &err), 0);
    WinclipScratch sc = {0};
    WinclipMaps maps;
    ck_assert_int_eq(winclip_score(&maps, &sc, &set, &t, 0.01, &feat, NULL, 5, 5, &err), 0);
    ck_assert(fabs(maps.image_score - (1.0 - cn)) < 1e-6);
    ck_assert(fabs(maps.map[12] - (1.0 - cn)) < 1e-6); /* one scale: M_0 = a0 everywhere */
    WinclipText none = {0};
    ck_assert_int_eq(winclip_text_init_one_class(&none, normal, 0, E, 0, 0, &err), ERR_VALUE);
    winclip_scratch_free(&sc);
    clip_features_free(&feat);
    winclip_text_free(&t);
    winclip_text_free(&s);
}
END_TEST

/* ---- WinCLIP+ without language: map = M_fs, image score = max M_fs ---- */

START_TEST(no_language_scores)
{
    enum { G = 4, W = 6, E = 5, K = 2, CELLS = G * G };
    Error err = {0};
    WindowGeometry g;
    ck_assert_int_eq(window_geometry_init(&g, G, W, E, NULL, 0, 1, &err), 0);
    ClipImageFeatures refs[K], test;
    for (int r = 0; r < K; r++) {
        clip_features_init(&refs[r], &g);
        fill(refs[r].image_embedding, E);
        fill(refs[r].tokens_ln_post, (size_t)CELLS * W);
    }
    clip_features_init(&test, &g);
    fill(test.image_embedding, E);
    fill(test.tokens_ln_post, (size_t)CELLS * W);
    float tn[E], ta[E];
    fill(tn, E);
    fill(ta, E);
    WinclipText text = {0};
    ck_assert_int_eq(winclip_text_init(&text, tn, 1, ta, 1, E, WINCLIP_PROTO_NORMALIZE, &err), 0);
    WinclipSettings s;
    winclip_settings_default(&s);
    ck_assert_int_eq(winclip_settings_set(&s, "scales", "none", &err), 0);
    WinclipMemory mem = {0};
    ck_assert_int_eq(winclip_memory_init(&mem, &s, refs, K, &err), 0);
    /* direct: M_p(c) = min_r (1 - cos(P_c, R_r)) / 2 over the K*CELLS reference patch tokens */
    double mp[CELLS], max_mp = -1;
    for (int c = 0; c < CELLS; c++) {
        double best = 1e9;
        for (int r = 0; r < K; r++)
            for (int j = 0; j < CELLS; j++) {
                double d = 0.5 * (1 - ref_cos(test.tokens_ln_post + c * W, refs[r].tokens_ln_post + j * W, W));
                if (d < best) best = d;
            }
        mp[c] = best < 0 ? 0 : best;
        if (mp[c] > max_mp) max_mp = mp[c];
    }
    double a0 = ref_ascore(test.image_embedding, tn, ta, E, 0.05);
    WinclipScratch sc = {0};
    WinclipMaps maps;
    ck_assert_int_eq(winclip_settings_set(&s, "language", "false", &err), 0);
    ck_assert_int_eq(winclip_score(&maps, &sc, &s, &text, 0.05, &test, &mem, G, G, &err), 0);
    ck_assert(fabs(maps.image_score - max_mp) < 1e-5);
    for (int c = 0; c < CELLS; c++) ck_assert(fabs(maps.map15[c] - mp[c]) < 1e-5);
    ck_assert_int_eq(winclip_settings_set(&s, "language", "true", &err), 0);
    ck_assert_int_eq(winclip_score(&maps, &sc, &s, &text, 0.05, &test, &mem, G, G, &err), 0);
    ck_assert(fabs(maps.image_score - (a0 + max_mp) / 2) < 1e-5);
    for (int c = 0; c < CELLS; c++) ck_assert(fabs(maps.map15[c] - (a0 + mp[c]) / 2) < 1e-5);
    /* language = false without references is refused */
    ck_assert_int_eq(winclip_settings_set(&s, "language", "false", &err), 0);
    ck_assert_int_eq(winclip_score(&maps, &sc, &s, &text, 0.05, &test, NULL, G, G, &err), ERR_VALUE);
    ck_assert_ptr_nonnull(strstr(err.msg, "language"));
    winclip_scratch_free(&sc);
    winclip_memory_free(&mem);
    winclip_text_free(&text);
    for (int r = 0; r < K; r++) clip_features_free(&refs[r]);
    clip_features_free(&test);
}
END_TEST

/* ---- dense tokens (patch_tokens / maskclip): one ascore_0 per token, fused with a0 ---- */

START_TEST(dense_token_map)
{
    enum { G = 3, W = 4, E = 6, CELLS = G * G };
    Error err = {0};
    WindowGeometry g;
    int scales[1] = {2};
    ck_assert_int_eq(window_geometry_init(&g, G, W, E, scales, 1, 1, &err), 0);
    ClipImageFeatures f;
    clip_features_init(&f, &g);
    fill(f.image_embedding, E);
    fill(f.windows[0], (size_t)f.n_windows[0] * E);
    float tn[E], ta[E];
    fill(tn, E);
    fill(ta, E);
    WinclipText text = {0};
    ck_assert_int_eq(winclip_text_init(&text, tn, 1, ta, 1, E, WINCLIP_PROTO_NORMALIZE, &err), 0);
    WinclipSettings s;
    winclip_settings_default(&s);
    ck_assert_int_eq(winclip_settings_set(&s, "scales", "2", &err), 0);
    ck_assert_int_eq(winclip_settings_set(&s, "dense", "patch_tokens", &err), 0);
    WinclipScratch sc = {0};
    WinclipMaps maps;
    ck_assert_int_eq(winclip_score(&maps, &sc, &s, &text, 0.1, &f, NULL, G, G, &err), ERR_SHAPE);
    ck_assert_ptr_nonnull(strstr(err.msg, "dense tokens"));
    f.dense_tokens = malloc((size_t)CELLS * E * sizeof *f.dense_tokens);
    fill(f.dense_tokens, (size_t)CELLS * E);
    const double a0 = ref_ascore(f.image_embedding, tn, ta, E, 0.1);
    for (int pass = 0; pass < 2; pass++) { /* image_scale true, then false */
        ck_assert_int_eq(winclip_settings_set(&s, "image_scale", pass ? "false" : "true", &err), 0);
        ck_assert_int_eq(winclip_score(&maps, &sc, &s, &text, 0.1, &f, NULL, G, G, &err), 0);
        ck_assert_ptr_nonnull(maps.dense_scores);
        ck_assert(fabs(maps.image_score - a0) < 1e-6);
        for (int c = 0; c < CELLS; c++) {
            double d = ref_ascore(f.dense_tokens + c * E, tn, ta, E, 0.1);
            double want = pass ? d : 2.0 / (1.0 / a0 + 1.0 / d); /* the window scale is not used */
            ck_assert(fabs(maps.dense_scores[c] - d) < 1e-6);
            ck_assert_msg(fabs(maps.map15[c] - want) < 1e-6, "cell %d: %g vs %g", c, maps.map15[c], want);
            ck_assert(fabs(maps.map[c] - want) < 1e-6); /* G x G output: the identity resize */
        }
    }
    /* windows: no dense scores */
    ck_assert_int_eq(winclip_settings_set(&s, "dense", "windows", &err), 0);
    ck_assert_int_eq(winclip_score(&maps, &sc, &s, &text, 0.1, &f, NULL, G, G, &err), 0);
    ck_assert_ptr_null(maps.dense_scores);
    winclip_scratch_free(&sc);
    winclip_text_free(&text);
    clip_features_free(&f);
}
END_TEST

/* ---- tiling geometry ---- */

START_TEST(tiling_geometry)
{
    int y0, x0, side;
    dense_tile_rect(0, 15, 2, 1, 16, &y0, &x0, &side);
    ck_assert(y0 == 0 && x0 == 0 && side == 32);
    dense_tile_rect(13, 15, 2, 1, 16, &y0, &x0, &side); /* last of the first row: column 13 */
    ck_assert(y0 == 0 && x0 == 208);
    dense_tile_rect(14, 15, 2, 1, 16, &y0, &x0, &side); /* first of the second row */
    ck_assert(y0 == 16 && x0 == 0);
    dense_tile_rect(195, 15, 2, 1, 16, &y0, &x0, &side);
    ck_assert(y0 == 208 && x0 == 208 && y0 + side == 240);
    dense_tile_rect(168, 15, 3, 1, 16, &y0, &x0, &side);
    ck_assert(y0 == 192 && x0 == 192 && side == 48);
    dense_tile_rect(7, 15, 3, 2, 16, &y0, &x0, &side); /* stride 2: 7 per side -> (1, 0) */
    ck_assert(y0 == 32 && x0 == 0 && side == 48);
    /* every window's square is the union of its patches (windows.h order) */
    int idx[196 * 4];
    windows_patch_index(15, 2, 1, idx);
    for (int w = 0; w < 196; w++) {
        dense_tile_rect(w, 15, 2, 1, 16, &y0, &x0, &side);
        ck_assert_int_eq(idx[w * 4], (y0 / 16) * 15 + x0 / 16);
    }
    ck_assert_uint_eq(dense_subset_index(0, 8, 2), 0);
    ck_assert_uint_eq(dense_subset_index(1, 8, 2), 4);
    ck_assert_uint_eq(dense_subset_index(9, 115, 10), 103);
    for (size_t i = 0; i < 5; i++) ck_assert_uint_eq(dense_subset_index(i, 5, 5), i);
}
END_TEST

START_TEST(tiling_crop_resize)
{
    enum { S = 24 };
    float *img = malloc((size_t)3 * S * S * sizeof *img), *out = malloc((size_t)3 * S * S * sizeof *out);
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < S; y++)
            for (int x = 0; x < S; x++) img[(c * S + y) * S + x] = (float)(100 * c + 3 * y + 0.5 * x);
    /* the whole image: identity */
    dense_crop_resize(out, img, S, 0, 0, S);
    for (int i = 0; i < 3 * S * S; i++) ck_assert(out[i] == img[i]);
    /* a square of side 6 at (8, 12): bilinear of a linear ramp is the ramp at the clamped source */
    const int y0 = 8, x0 = 12, side = 6;
    dense_crop_resize(out, img, S, y0, x0, side);
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < S; y++)
            for (int x = 0; x < S; x++) {
                double sy = (y + 0.5) * side / S - 0.5, sx = (x + 0.5) * side / S - 0.5;
                sy = sy < 0 ? 0 : sy > side - 1 ? side - 1 : sy;
                sx = sx < 0 ? 0 : sx > side - 1 ? side - 1 : sx;
                double want = 100 * c + 3 * (y0 + sy) + 0.5 * (x0 + sx);
                ck_assert_msg(fabs(out[(c * S + y) * S + x] - want) < 1e-4, "(%d,%d,%d) %g vs %g", c, y, x,
                              out[(c * S + y) * S + x], want);
            }
    /* only pixels inside the square are read */
    for (int i = 0; i < 3 * S * S; i++) img[i] = NAN;
    for (int c = 0; c < 3; c++)
        for (int y = y0; y < y0 + side; y++)
            for (int x = x0; x < x0 + side; x++) img[(c * S + y) * S + x] = 1.0f;
    dense_crop_resize(out, img, S, y0, x0, side);
    for (int i = 0; i < 3 * S * S; i++) ck_assert(out[i] == 1.0f);
    free(img);
    free(out);
}
END_TEST

static int v_heads(const ClipModel *m) { return m->cfg.vision.width / m->cfg.vision.head_width; }

/* ---- with the tiny model (../shared/fixtures/tiny_clip) ---- */

typedef struct {
    H5File ref;
    ClipModel model;
    float *pixels; /* (3, 3, 240, 240) */
    int ok;
} Tiny;

static void tiny_open(Tiny *t)
{
    char ref[1024], model[1024];
    memset(t, 0, sizeof *t);
    if (!test_shared_path(ref, sizeof ref, "fixtures/tiny_clip/reference.h5")) return;
    if (!test_shared_path(model, sizeof model, "fixtures/tiny_clip/model.h5")) return;
    Error err = {0};
    ck_assert_msg(h5_open_read(&t->ref, ref, &err) == 0, "%s", err.msg);
    ck_assert_msg(clip_model_load(&t->model, model, &err) == 0, "%s", err.msg);
    int rank;
    int64_t dims[H5_MAX_RANK];
    ck_assert_msg(h5_read_f32_alloc(&t->ref, "inputs/images_preprocessed", &t->pixels, &rank, dims, &err) == 0,
                  "%s", err.msg);
    t->ok = 1;
}

static void tiny_close(Tiny *t)
{
    free(t->pixels);
    h5_close(&t->ref);
    clip_model_free(&t->model);
}

/* Golden: dense = patch_tokens gives the fixture's ln_post(tokens) @ proj rows 1..225. */
START_TEST(golden_patch_tokens)
{
    Tiny t;
    tiny_open(&t);
    if (!t.ok) return;
    const int S = 240, T = 226, GG = 225, E = 32;
    float *want;
    int rank;
    int64_t dims[H5_MAX_RANK];
    Error err = {0};
    ck_assert_int_eq(h5_read_f32_alloc(&t.ref, "gelu/vision_tokens_ln_post_proj", &want, &rank, dims, &err), 0);
    ck_assert(rank == 3 && dims[0] == 3 && dims[1] == T && dims[2] == E);
    ClipVision v;
    ck_assert_int_eq(clip_vision_init(&v, &t.model, NULL, 0, 1, &err), 0);
    WinclipSettings s;
    winclip_settings_default(&s);
    ck_assert_int_eq(winclip_settings_set(&s, "dense", "patch_tokens", &err), 0);
    ClipImageFeatures f;
    clip_features_init(&f, &v.geom);
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(clip_vision_features(&v, t.pixels + (size_t)i * 3 * S * S, &f, &err), 0);
        ck_assert_int_eq(dense_apply(&s, &v, NULL, &f, &err), 0);
        char label[64];
        snprintf(label, sizeof label, "patch_tokens[%d]", i);
        ck_assert(test_allclose(f.dense_tokens, want + ((size_t)i * T + 1) * E, (size_t)GG * E, 1e-4, label));
    }
    clip_features_free(&f);
    clip_vision_free(&v);
    free(want);
    tiny_close(&t);
}
END_TEST

/* MaskCLIP tokens == the last block run on every token as its own length-1 sequence (attention
 * over one key returns its value), then ln_post and proj written out here. */
START_TEST(maskclip_tokens)
{
    Tiny t;
    tiny_open(&t);
    if (!t.ok) return;
    const ClipModel *m = &t.model;
    const int S = 240, T = 226, GG = 225, W = m->cfg.vision.width, E = m->cfg.embed_dim;
    const int L = m->cfg.vision.layers, NH = v_heads(m);
    Error err = {0};
    ClipVision v;
    ck_assert_int_eq(clip_vision_init(&v, m, NULL, 0, 1, &err), 0);
    float *embed = malloc((size_t)T * W * sizeof *embed), *blocks = malloc((size_t)L * T * W * sizeof *blocks);
    float *x = malloc((size_t)T * W * sizeof *x), *img = malloc((size_t)E * sizeof *img);
    float *got = malloc((size_t)GG * E * sizeof *got);
    ClipBlockScratch bs = {malloc((size_t)T * W * sizeof(float)), malloc((size_t)T * 3 * W * sizeof(float)),
                           malloc((size_t)T * 4 * W * sizeof(float)), NULL, ops_attention_scratch(1, W, NH)};
    bs.att = malloc((bs.att_len ? bs.att_len : 1) * sizeof(float));
    for (int i = 0; i < 3; i++) {
        const float *pix = t.pixels + (size_t)i * 3 * S * S;
        clip_vision_embed(&v, pix, embed);
        ClipVisionCapture cap = {NULL, blocks, NULL};
        ck_assert_int_eq(clip_vision_encode_tokens(&v, embed, 1, T, img, &cap, &err), 0);
        memcpy(x, blocks + (size_t)(L - 2) * T * W, (size_t)T * W * sizeof *x); /* input of the last block */
        const ClipSeqGroup g = {T, 1};
        clip_block_forward(&m->visual.blocks[L - 1], x, &g, 1, W, NH,
                           m->cfg.quick_gelu ? CLIP_BLOCK_QUICK_GELU : CLIP_BLOCK_DEFAULT, NULL, &bs);
        ck_assert_int_eq(clip_vision_maskclip(&v, pix, got, &err), 0);
        double maxdiff = 0;
        for (int p = 0; p < GG; p++) {
            const float *row = x + (size_t)(p + 1) * W;
            double mean = 0, var = 0;
            for (int c = 0; c < W; c++) mean += row[c];
            mean /= W;
            for (int c = 0; c < W; c++) var += (row[c] - mean) * (row[c] - mean);
            var /= W;
            for (int e = 0; e < E; e++) {
                double acc = 0;
                for (int c = 0; c < W; c++) {
                    double ln = (row[c] - mean) / sqrt(var + 1e-5) * m->visual.ln_post_w[c] + m->visual.ln_post_b[c];
                    acc += ln * m->visual.proj[(size_t)c * E + e];
                }
                double d = fabs(acc - got[(size_t)p * E + e]);
                if (d > maxdiff) maxdiff = d;
            }
        }
        ck_assert_msg(maxdiff < 1e-4, "maskclip image %d: maxdiff %g", i, maxdiff);
        if (getenv("CLIP_TEST_VERBOSE")) fprintf(stderr, "maskclip tokens image %d: maxdiff %.3g\n", i, maxdiff);
    }
    /* and they are not the ordinary patch tokens */
    float *want;
    int rank;
    int64_t dims[H5_MAX_RANK];
    ck_assert_int_eq(h5_read_f32_alloc(&t.ref, "gelu/vision_tokens_ln_post_proj", &want, &rank, dims, &err), 0);
    double diff = 0;
    for (int j = 0; j < GG * E; j++) diff += fabs(got[j] - want[(size_t)2 * T * E + E + j]);
    ck_assert(diff > 1e-2);
    free(want);
    free(bs.h), free(bs.qkv), free(bs.mlp), free(bs.att);
    free(embed), free(blocks), free(x), free(img), free(got);
    clip_vision_free(&v);
    tiny_close(&t);
}
END_TEST

/* Tiling: window w's embedding == the full-image embedding of its crop resized here. */
START_TEST(tiling_window_embeddings)
{
    Tiny t;
    tiny_open(&t);
    if (!t.ok) return;
    const int S = 240, T = 226, E = t.model.cfg.embed_dim, W = t.model.cfg.vision.width;
    const int scales[2] = {2, 3};
    Error err = {0};
    ClipVision v;
    ck_assert_int_eq(clip_vision_init(&v, &t.model, scales, 2, 1, &err), 0);
    ClipImageFeatures f;
    clip_features_init(&f, &v.geom);
    const float *pix = t.pixels + (size_t)1 * 3 * S * S;
    ck_assert_int_eq(clip_vision_features(&v, pix, &f, &err), 0);
    float *token_windows = malloc((size_t)f.n_windows[1] * E * sizeof(float));
    memcpy(token_windows, f.windows[1], (size_t)f.n_windows[1] * E * sizeof(float));
    WinclipSettings s;
    winclip_settings_default(&s);
    ck_assert_int_eq(winclip_settings_set(&s, "dense", "tiling", &err), 0);
    ck_assert_int_eq(dense_apply(&s, &v, NULL, &f, &err), ERR_USAGE); /* needs the pixels */
    ck_assert_int_eq(dense_apply(&s, &v, pix, &f, &err), 0);
    float *crop = malloc((size_t)3 * S * S * sizeof *crop), *tok = malloc((size_t)T * W * sizeof *tok), emb[64];
    const int check[][2] = {{0, 0}, {0, 195}, {1, 0}, {1, 100}, {1, 168}};
    for (size_t c = 0; c < ARRAY_LEN(check); c++) {
        int si = check[c][0], w = check[c][1], k = scales[si];
        int n = 16 - k, r = w / n, col = w % n, y0 = r * 16, x0 = col * 16, side = 16 * k;
        for (int ch = 0; ch < 3; ch++) /* bilinear, align_corners = False, written out */
            for (int y = 0; y < S; y++)
                for (int x = 0; x < S; x++) {
                    double sy = fmax((y + 0.5) * side / S - 0.5, 0), sx = fmax((x + 0.5) * side / S - 0.5, 0);
                    int ya = (int)sy, xa = (int)sx, yb = ya + 1 < side ? ya + 1 : side - 1, xb = xa + 1 < side ? xa + 1 : side - 1;
                    double wy = sy - ya, wx = sx - xa;
                    const float *p = pix + (size_t)ch * S * S;
#define PX(yy, xx) p[(size_t)(y0 + (yy)) * S + x0 + (xx)]
                    double v0 = (1 - wx) * PX(ya, xa) + wx * PX(ya, xb), v1 = (1 - wx) * PX(yb, xa) + wx * PX(yb, xb);
#undef PX
                    crop[((size_t)ch * S + y) * S + x] = (float)((1 - wy) * v0 + wy * v1);
                }
        clip_vision_embed(&v, crop, tok);
        ck_assert_int_eq(clip_vision_encode_tokens(&v, tok, 1, T, emb, NULL, &err), 0);
        char label[64];
        snprintf(label, sizeof label, "tiling k=%d w=%d", k, w);
        ck_assert(test_allclose(f.windows[si] + (size_t)w * E, emb, (size_t)E, 1e-4, label));
    }
    /* the tiled embeddings are not the token-selection windows */
    double diff = 0;
    for (int j = 0; j < f.n_windows[1] * E; j++) diff += fabs(f.windows[1][j] - token_windows[j]);
    ck_assert(diff > 1e-2);
    free(crop), free(tok), free(token_windows);
    clip_features_free(&f);
    clip_vision_free(&v);
    tiny_close(&t);
}
END_TEST

Suite *dense_suite(void)
{
    Suite *s = suite_create("dense");
    TCase *core = tcase_create("Core");
    tcase_add_test(core, prompts_one_and_two_class);
    tcase_add_test(core, one_class_score);
    tcase_add_test(core, no_language_scores);
    tcase_add_test(core, dense_token_map);
    tcase_add_test(core, tiling_geometry);
    tcase_add_test(core, tiling_crop_resize);
    tcase_add_test(core, golden_patch_tokens);
    tcase_add_test(core, maskclip_tokens);
    tcase_add_test(core, tiling_window_embeddings);
    tcase_set_timeout(core, 120);
    suite_add_tcase(s, core);
    return s;
}
