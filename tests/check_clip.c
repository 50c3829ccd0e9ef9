/*
 * check_clip.c - tests for the CLIP core: clip_config.c, clip_weights.c (loader, random
 * writer), clip_vision.c and clip_text.c against the tiny open_clip fixture
 * (shared/fixtures/tiny_clip, tolerance 1e-4 on every stage).
 */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/base.h"
#include "clip/clip_config.h"
#include "clip/clip_model.h"
#include "clip/clip_text.h"
#include "clip/clip_vision.h"
#include "util/h5.h"
#include "clip/ops.h"
#include "clip/windows.h"
#include "check_suites.h"
#include "test_util.h"

/* ---- config ---- */

static const char *TINY_JSON =
    "{\"embed_dim\": 32, \"model_name\": \"tiny-ViT-B-16-plus-240-like\", \"open_clip_version\": \"2.24.0\", "
    "\"quick_gelu\": false, \"seed\": 1234, \"text_cfg\": {\"context_length\": 77, \"heads\": 3, \"layers\": 2, "
    "\"vocab_size\": 49408, \"width\": 48}, \"vision_cfg\": {\"head_width\": 32, \"image_size\": 240, \"layers\": 2, "
    "\"patch_size\": 16, \"width\": 64}}";

START_TEST(config_presets_and_json)
{
    ClipConfig a, b, p;
    Error err = {0};
    ck_assert_int_eq(clip_config_preset(&a, "tiny", &err), 0);
    ck_assert_int_eq(clip_config_from_json(&b, TINY_JSON, &err), 0);
    ck_assert_mem_eq(&a, &b, sizeof a);
    ck_assert_int_eq(clip_config_grid(&a), 15);
    ck_assert_int_eq(clip_config_vision_heads(&a), 2);

    ck_assert_int_eq(clip_config_preset(&p, "ViT-B-16-plus-240", &err), 0);
    char *js = clip_config_to_json(&p, "\"pretrained\": \"laion400m_e31\"");
    ck_assert_str_eq(js, "{\"embed_dim\": 640, \"model_name\": \"ViT-B-16-plus-240\", \"quick_gelu\": false, "
                         "\"text_cfg\": {\"context_length\": 77, \"heads\": 10, \"layers\": 12, \"vocab_size\": 49408, "
                         "\"width\": 640}, \"vision_cfg\": {\"head_width\": 64, \"image_size\": 240, \"layers\": 12, "
                         "\"patch_size\": 16, \"width\": 896}, \"pretrained\": \"laion400m_e31\"}");
    ClipConfig back;
    ck_assert_int_eq(clip_config_from_json(&back, js, &err), 0);
    ck_assert_mem_eq(&back, &p, sizeof p);
    free(js);

    ck_assert_int_eq(clip_config_preset(&p, "ViT-B-16-quickgelu", &err), 0);
    ck_assert_int_eq(p.quick_gelu, 1);
    js = clip_config_to_json(&p, NULL);
    ck_assert_int_eq(clip_config_from_json(&back, js, &err), 0);
    ck_assert_int_eq(back.quick_gelu, 1);
    ck_assert_int_eq(back.vision.width, 768);
    free(js);

    /* head_width defaults to 64 when absent */
    const char *no_hw = "{\"embed_dim\": 512, \"quick_gelu\": true, \"text_cfg\": {\"context_length\": 77, \"heads\": 8,"
                        " \"layers\": 12, \"vocab_size\": 49408, \"width\": 512}, \"vision_cfg\": {\"image_size\": 224,"
                        " \"layers\": 12, \"patch_size\": 16, \"width\": 768}}";
    ck_assert_int_eq(clip_config_from_json(&back, no_hw, &err), 0);
    ck_assert_int_eq(back.vision.head_width, 64);
    ck_assert_int_eq(back.quick_gelu, 1);
}
END_TEST

START_TEST(config_tensor_table)
{
    ClipConfig c;
    ck_assert_int_eq(clip_config_preset(&c, "ViT-B-16-plus-240", NULL), 0);
    ClipTensorSpec *t;
    int n;
    clip_config_tensors(&c, &t, &n);
    ck_assert_int_eq(n, 302);
    size_t total = 0;
    for (int i = 0; i < n; i++) total += clip_tensor_numel(&t[i]);
    ck_assert_uint_eq(total, 208377345u); /* clip.md §1 */
    ck_assert_str_eq(t[0].key, "positional_embedding");
    ck_assert_str_eq(t[2].key, "logit_scale");
    ck_assert_int_eq(t[2].rank, 0);
    ck_assert_str_eq(t[6].key, "visual.conv1.weight");
    ck_assert(t[6].dims[0] == 896 && t[6].dims[1] == 3 && t[6].dims[3] == 16);
    ck_assert_str_eq(t[n - 1].key, "ln_final.bias");
    char path[128];
    clip_tensor_h5_path(path, sizeof path, t[11].key);
    ck_assert_str_eq(path, "visual/transformer/resblocks/0/attn/in_proj_weight");
    ck_assert(t[11].dims[0] == 2688 && t[11].dims[1] == 896);
    free(t);

    ck_assert_int_eq(clip_config_preset(&c, "ViT-B-16", NULL), 0);
    clip_config_tensors(&c, &t, &n);
    total = 0;
    for (int i = 0; i < n; i++) total += clip_tensor_numel(&t[i]);
    ck_assert_uint_eq(total, 149620737u);
    free(t);

    ck_assert_int_eq(clip_config_preset(&c, "tiny", NULL), 0);
    clip_config_tensors(&c, &t, &n);
    ck_assert_int_eq(n, 62);
    free(t);
}
END_TEST

/* Shape lookup over a tensor table (what a file without a config would hold). */
typedef struct {
    const ClipTensorSpec *t;
    int n;
} TableCtx;

static int table_lookup(void *ctx, const char *key, int *rank, int64_t dims[8])
{
    const TableCtx *c = ctx;
    for (int i = 0; i < c->n; i++) {
        if (strcmp(c->t[i].key, key) == 0) {
            *rank = c->t[i].rank;
            for (int j = 0; j < c->t[i].rank; j++) dims[j] = c->t[i].dims[j];
            return 0;
        }
    }
    return -1;
}

START_TEST(config_infer)
{
    const char *archs[] = {"ViT-B-16-plus-240", "ViT-B-16", "tiny"};
    for (size_t a = 0; a < ARRAY_LEN(archs); a++) {
        ClipConfig c, got;
        Error err = {0};
        ck_assert_int_eq(clip_config_preset(&c, archs[a], NULL), 0);
        TableCtx ctx;
        clip_config_tensors(&c, (ClipTensorSpec **)&ctx.t, &ctx.n);
        char note[512];
        int rc = clip_config_infer(&got, table_lookup, &ctx, note, sizeof note, &err);
        if (a < 2) {
            ck_assert_msg(rc == 0, "%s", err.msg);
            ck_assert_mem_eq(&got, &c, sizeof c);
            ck_assert(strstr(note, "head_width 64") != NULL);
            ck_assert(strstr(note, archs[a]) != NULL);
        } else {
            /* tiny: shapes cannot tell head counts, so the defaults (head_width 64) give 1 vision head
             * and max(48 / 64, 1) = 1 text head; every shape-determined dim is right. */
            ck_assert_msg(rc == 0, "%s", err.msg);
            ck_assert_int_eq(got.vision.width, 64);
            ck_assert_int_eq(got.vision.layers, 2);
            ck_assert_int_eq(got.vision.head_width, 64);
            ck_assert_int_eq(got.text.width, 48);
            ck_assert_int_eq(got.text.heads, 1);
            ck_assert_int_eq(got.text.layers, 2);
            ck_assert_int_eq(got.embed_dim, 32);
            ck_assert_int_eq(got.vision.image_size, 240);
            ck_assert_str_eq(got.model_name, "a custom architecture");
        }
        free((void *)ctx.t);
    }
    /* a missing key is named */
    TableCtx empty = {NULL, 0};
    ClipConfig got;
    Error err = {0};
    ck_assert_int_eq(clip_config_infer(&got, table_lookup, &empty, NULL, 0, &err), ERR_MISSING);
    ck_assert(strstr(err.msg, "visual.conv1.weight") != NULL);
}
END_TEST

START_TEST(config_json_errors)
{
    struct {
        const char *json, *needle;
        int code;
    } cases[] = {
        {"{\"embed_dim\": 32", "JSON", ERR_FORMAT},
        {"[1, 2]", "object", ERR_FORMAT},
        {"{\"embed_dim\": 32}", "quick_gelu", ERR_MISSING},
        {"{\"embed_dim\": 32, \"quick_gelu\": \"no\"}", "quick_gelu", ERR_FORMAT},
        {"{\"embed_dim\": 32.5, \"quick_gelu\": false}", "embed_dim", ERR_FORMAT},
        {"{\"embed_dim\": 32, \"quick_gelu\": false, \"text_cfg\": {}}", "vision_cfg.image_size", ERR_MISSING},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        ClipConfig c;
        Error err = {0};
        ck_assert_int_eq(clip_config_from_json(&c, cases[i].json, &err), cases[i].code);
        ck_assert_msg(strstr(err.msg, cases[i].needle) != NULL, "case %zu: %s", i, err.msg);
    }
    /* issue 9 fault 1: a text context other than the tokenizer's 77 ids is refused at load */
    const char *ctx_lengths[] = {"\"context_length\": 10,", "\"context_length\": 78,"};
    for (size_t i = 0; i < ARRAY_LEN(ctx_lengths); i++) {
        char js[1024];
        const char *at = strstr(TINY_JSON, "\"context_length\": 77,");
        snprintf(js, sizeof js, "%.*s%s%s", (int)(at - TINY_JSON), TINY_JSON, ctx_lengths[i],
                 at + strlen("\"context_length\": 77,"));
        ClipConfig cc;
        Error e = {0};
        ck_assert_int_eq(clip_config_from_json(&cc, js, &e), ERR_UNSUPPORTED);
        ck_assert_msg(strstr(e.msg, "context_length: expected 77") != NULL, "%s", e.msg);
    }
    /* inconsistent dims: width not a multiple of head_width; image not a multiple of patch */
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", TINY_JSON);
    char *hw = strstr(buf, "\"head_width\": 32");
    memcpy(hw, "\"head_width\": 48", 16);
    ClipConfig c;
    Error err = {0};
    ck_assert_int_eq(clip_config_from_json(&c, buf, &err), ERR_VALUE);
    ck_assert_msg(strstr(err.msg, "head_width 48") != NULL, "%s", err.msg);
    snprintf(buf, sizeof buf, "%s", TINY_JSON);
    char *ps = strstr(buf, "\"patch_size\": 16");
    memcpy(ps, "\"patch_size\": 17", 16);
    ck_assert_int_eq(clip_config_from_json(&c, buf, &err), ERR_VALUE);
    ck_assert_msg(strstr(err.msg, "patch_size 17") != NULL, "%s", err.msg);
    ck_assert_int_eq(clip_config_preset(&c, "ViT-L-14", &err), ERR_USAGE);
    ck_assert(strstr(err.msg, "ViT-L-14") != NULL);
}
END_TEST

/* ---- tiny fixture parity ---- */

#define TOL 1e-4

/* test_allclose, also printing the max abs diff of every stage when CLIP_TEST_VERBOSE is set. */
static int close_to(const float *got, const float *want, size_t n, double tol, const char *label)
{
    if (getenv("CLIP_TEST_VERBOSE")) {
        double m = 0;
        for (size_t i = 0; i < n; i++) m = fmax(m, fabs((double)got[i] - want[i]));
        printf("maxdiff %-40s %.3g\n", label, m);
    }
    return test_allclose(got, want, n, tol, label);
}

typedef struct {
    H5File ref;
    ClipModel model;
    int ok;
} Tiny;

/* Open reference.h5 and load model.h5; ok = 0 (and SKIP printed) without the shared folder. */
static void tiny_open(Tiny *t)
{
    char ref[1024], model[1024];
    memset(t, 0, sizeof *t);
    if (!test_shared_path(ref, sizeof ref, "fixtures/tiny_clip/reference.h5")) return;
    if (!test_shared_path(model, sizeof model, "fixtures/tiny_clip/model.h5")) return;
    Error err = {0};
    ck_assert_msg(h5_open_read(&t->ref, ref, &err) == 0, "%s", err.msg);
    ck_assert_msg(clip_model_load(&t->model, model, &err) == 0, "%s", err.msg);
    ck_assert_str_eq(t->model.config_note, "");
    t->ok = 1;
}

static void tiny_close(Tiny *t)
{
    h5_close(&t->ref);
    clip_model_free(&t->model);
}

static float *ref_read(Tiny *t, const char *name, size_t want)
{
    float *buf;
    int rank;
    int64_t dims[H5_MAX_RANK];
    Error err = {0};
    ck_assert_msg(h5_read_f32_alloc(&t->ref, name, &buf, &rank, dims, &err) == 0, "%s", err.msg);
    size_t n = 1;
    for (int i = 0; i < rank; i++) n *= (size_t)dims[i];
    ck_assert_uint_eq(n, want);
    return buf;
}

START_TEST(tiny_model_loads)
{
    Tiny t;
    tiny_open(&t);
    if (!t.ok) return;
    const ClipModel *m = &t.model;
    ck_assert_int_eq(m->cfg.vision.width, 64);
    ck_assert_int_eq(m->cfg.text.heads, 3);
    ck_assert_uint_eq(m->n_params, 2599409u); /* sum of the 62 tensors (h5dump) */
    ck_assert(*m->logit_scale > 2.6592 && *m->logit_scale < 2.6593);
    ck_assert_ptr_nonnull(strstr(m->path, "model.h5"));
    /* a value read straight from the file lands in the right field */
    float pe[48];
    Error err = {0};
    H5File f = {0};
    ck_assert_int_eq(h5_open_read(&f, m->path, &err), 0);
    int64_t d2[2] = {77, 48};
    float *all = malloc(77 * 48 * sizeof *all);
    ck_assert_int_eq(h5_read_f32_shape(&f, "positional_embedding", all, 2, d2, &err), 0);
    memcpy(pe, all + 5 * 48, sizeof pe);
    ck_assert(memcmp(pe, m->text.positional_embedding + 5 * 48, sizeof pe) == 0);
    float b[256];
    ck_assert_int_eq(h5_read_f32(&f, "visual/transformer/resblocks/1/mlp/c_fc/bias", b, 256, &err), 0);
    ck_assert(memcmp(b, m->visual.blocks[1].c_fc_b, sizeof b) == 0);
    free(all);
    h5_close(&f);
    tiny_close(&t);
}
END_TEST

START_TEST(tiny_vision_stages)
{
    Tiny t;
    tiny_open(&t);
    if (!t.ok) return;
    const int N = 3, T = 226, W = 64, E = 32, S = 240, L = 2;
    float *pix = ref_read(&t, "inputs/images_preprocessed", (size_t)N * 3 * S * S);
    float *r_embed = ref_read(&t, "inputs/vision_embed", (size_t)N * T * W);
    float *r_lnpre = ref_read(&t, "inputs/vision_ln_pre", (size_t)N * T * W);
    float *r_blocks = ref_read(&t, "gelu/vision_blocks", (size_t)N * L * T * W);
    float *r_pre = ref_read(&t, "gelu/vision_tokens_pre_ln_post", (size_t)N * T * W);
    float *r_post = ref_read(&t, "gelu/vision_tokens_ln_post", (size_t)N * T * W);
    float *r_proj = ref_read(&t, "gelu/vision_tokens_ln_post_proj", (size_t)N * T * E);
    float *r_img = ref_read(&t, "gelu/image_embedding", (size_t)N * E);
    float *r_imgn = ref_read(&t, "gelu/image_embedding_normalized", (size_t)N * E);
    ClipVision v;
    Error err = {0};
    ck_assert_int_eq(clip_vision_init(&v, &t.model, NULL, 0, 1, &err), 0);
    float *embed = malloc((size_t)T * W * sizeof *embed), *lnpre = malloc((size_t)T * W * sizeof *lnpre);
    float *blocks = malloc((size_t)L * T * W * sizeof *blocks), *post = malloc((size_t)T * W * sizeof *post);
    float *proj = malloc((size_t)T * E * sizeof *proj), img[3 * 32];
    for (int i = 0; i < N; i++) {
        char label[64];
        clip_vision_embed(&v, pix + (size_t)i * 3 * S * S, embed);
        snprintf(label, sizeof label, "vision_embed[%d]", i);
        ck_assert(close_to(embed, r_embed + (size_t)i * T * W, (size_t)T * W, TOL, label));
        ClipVisionCapture cap = {lnpre, blocks, post};
        ck_assert_int_eq(clip_vision_encode_tokens(&v, embed, 1, T, img + i * E, &cap, &err), 0);
        snprintf(label, sizeof label, "vision_ln_pre[%d]", i);
        ck_assert(close_to(lnpre, r_lnpre + (size_t)i * T * W, (size_t)T * W, TOL, label));
        for (int l = 0; l < L; l++) {
            snprintf(label, sizeof label, "vision_blocks[%d][%d]", i, l);
            ck_assert(close_to(blocks + (size_t)l * T * W, r_blocks + ((size_t)i * L + l) * T * W, (size_t)T * W,
                                    TOL, label));
        }
        snprintf(label, sizeof label, "vision_tokens_pre_ln_post[%d]", i);
        ck_assert(close_to(blocks + (size_t)(L - 1) * T * W, r_pre + (size_t)i * T * W, (size_t)T * W, TOL, label));
        snprintf(label, sizeof label, "vision_tokens_ln_post[%d]", i);
        ck_assert(close_to(post, r_post + (size_t)i * T * W, (size_t)T * W, TOL, label));
        ops_project(proj, post, W, t.model.visual.proj, T, W, E);
        snprintf(label, sizeof label, "vision_tokens_ln_post_proj[%d]", i);
        ck_assert(close_to(proj, r_proj + (size_t)i * T * E, (size_t)T * E, TOL, label));
    }
    ck_assert(close_to(img, r_img, (size_t)N * E, TOL, "image_embedding"));
    ops_l2_normalize(img, N, E);
    ck_assert(close_to(img, r_imgn, (size_t)N * E, TOL, "image_embedding_normalized"));
    free(embed), free(lnpre), free(blocks), free(post), free(proj);
    free(pix), free(r_embed), free(r_lnpre), free(r_blocks), free(r_pre), free(r_post), free(r_proj), free(r_img),
        free(r_imgn);
    clip_vision_free(&v);
    tiny_close(&t);
}
END_TEST

/* The one-call path (full image + windows k = 2, 3 with the exact savings) and the generic
 * path (each window as a plain sequence through encode_tokens) against the fixture. */
START_TEST(tiny_vision_features_and_windows)
{
    Tiny t;
    tiny_open(&t);
    if (!t.ok) return;
    const int N = 3, T = 226, W = 64, E = 32, S = 240, GG = 225;
    const int scales[2] = {2, 3}, nwin[2] = {196, 169};
    float *pix = ref_read(&t, "inputs/images_preprocessed", (size_t)N * 3 * S * S);
    float *r_embed = ref_read(&t, "inputs/vision_embed", (size_t)N * T * W);
    float *r_pre = ref_read(&t, "gelu/vision_tokens_pre_ln_post", (size_t)N * T * W);
    float *r_post = ref_read(&t, "gelu/vision_tokens_ln_post", (size_t)N * T * W);
    float *r_img = ref_read(&t, "gelu/image_embedding", (size_t)N * E);
    float *r_win[2] = {ref_read(&t, "gelu/winclip_window_embeddings_k2", (size_t)N * 196 * E),
                       ref_read(&t, "gelu/winclip_window_embeddings_k3", (size_t)N * 169 * E)};
    ClipVision v;
    Error err = {0};
    ck_assert_int_eq(clip_vision_init(&v, &t.model, scales, 2, 1, &err), 0);
    ClipImageFeatures f;
    clip_features_init(&f, &v.geom);
    ck_assert_int_eq(f.n_windows[0], 196);
    ck_assert_int_eq(f.n_windows[1], 169);
    float *seq = malloc((size_t)169 * 10 * W * sizeof *seq), *emb = malloc((size_t)196 * E * sizeof *emb);
    for (int i = 0; i < N; i++) {
        char label[80];
        ck_assert_int_eq(clip_vision_features(&v, pix + (size_t)i * 3 * S * S, &f, &err), 0);
        snprintf(label, sizeof label, "features.image_embedding[%d]", i);
        ck_assert(close_to(f.image_embedding, r_img + (size_t)i * E, (size_t)E, TOL, label));
        snprintf(label, sizeof label, "features.tokens_pre_ln_post[%d]", i);
        ck_assert(close_to(f.tokens_pre_ln_post, r_pre + ((size_t)i * T + 1) * W, (size_t)GG * W, TOL, label));
        snprintf(label, sizeof label, "features.tokens_ln_post[%d]", i);
        ck_assert(close_to(f.tokens_ln_post, r_post + ((size_t)i * T + 1) * W, (size_t)GG * W, TOL, label));
        for (int s = 0; s < 2; s++) {
            snprintf(label, sizeof label, "features.windows k=%d [%d]", scales[s], i);
            ck_assert(close_to(f.windows[s], r_win[s] + (size_t)i * nwin[s] * E, (size_t)nwin[s] * E, TOL, label));
            /* generic path: gather [CLS; window patches] rows of the reference embedding */
            const int k = scales[s], kk = k * k;
            int *idx = malloc((size_t)nwin[s] * kk * sizeof *idx);
            windows_patch_index(15, k, 1, idx);
            for (int w = 0; w < nwin[s]; w++)
                for (int j = 0; j <= kk; j++) {
                    const int src = j == 0 ? 0 : 1 + idx[w * kk + j - 1];
                    memcpy(seq + ((size_t)w * (kk + 1) + j) * W, r_embed + ((size_t)i * T + src) * W, W * sizeof *seq);
                }
            free(idx);
            ck_assert_int_eq(clip_vision_encode_tokens(&v, seq, nwin[s], kk + 1, emb, NULL, &err), 0);
            snprintf(label, sizeof label, "encode_tokens windows k=%d [%d]", k, i);
            ck_assert(close_to(emb, r_win[s] + (size_t)i * nwin[s] * E, (size_t)nwin[s] * E, TOL, label));
        }
    }
    free(seq), free(emb), free(pix), free(r_embed), free(r_pre), free(r_post), free(r_img), free(r_win[0]),
        free(r_win[1]);
    clip_features_free(&f);
    clip_vision_free(&v);
    tiny_close(&t);
}
END_TEST

/* Bit-identity of the components (the feature cache stores them separately): the full image
 * alone, each scale alone, and encoders made for a subset of the scales give exactly the
 * numbers of the combined {2,3} call. Returns the number of mismatching arrays. */
static int bits_differ(const float *a, const float *b, size_t n, const char *label)
{
    if (memcmp(a, b, n * sizeof *a) == 0) return 0;
    double m = 0, r = 0;
    for (size_t i = 0; i < n; i++) { m = fmax(m, fabs((double)a[i] - b[i])); r = fmax(r, fabs((double)b[i])); }
    printf("not bit-identical: %s maxdiff %.3g (max |x| %.3g)\n", label, m, r);
    return 1;
}

static int components_bit_identical(const ClipModel *m, const float *pix)
{
    const int all[2] = {2, 3}, G = clip_config_grid(&m->cfg), W = m->cfg.vision.width, E = m->cfg.embed_dim;
    const size_t tok = (size_t)G * G * W;
    Error err = {0};
    ClipVision v;
    ck_assert_int_eq(clip_vision_init(&v, m, all, 2, 1, &err), 0);
    ClipImageFeatures ref, part;
    clip_features_init(&ref, &v.geom);
    ck_assert_int_eq(clip_vision_features(&v, pix, &ref, &err), 0);
    int bad = 0;
    /* one encoder, one component per call */
    for (int c = 0; c < 3; c++) {
        clip_features_init(&part, &v.geom);
        ck_assert_int_eq(clip_vision_features_part(&v, pix, c == 0, c == 0 ? 0u : 1u << (c - 1), &part, &err), 0);
        if (c == 0) {
            bad += bits_differ(part.image_embedding, ref.image_embedding, (size_t)E, "full alone: image embedding");
            bad += bits_differ(part.tokens_ln_post, ref.tokens_ln_post, tok, "full alone: ln_post tokens");
            bad += bits_differ(part.tokens_pre_ln_post, ref.tokens_pre_ln_post, tok, "full alone: pre_ln_post");
            bad += part.windows[0][0] != 0.0f || part.windows[1][0] != 0.0f; /* untouched */
        } else {
            const int s = c - 1;
            bad += bits_differ(part.windows[s], ref.windows[s], (size_t)ref.n_windows[s] * E, "one scale alone");
            bad += part.image_embedding[0] != 0.0f || part.windows[1 - s][0] != 0.0f;
        }
        clip_features_free(&part);
    }
    /* encoders for {2}, {3} and {3,2}: what E10 / E11 would compute */
    const int subsets[3][2] = {{2, 0}, {3, 0}, {3, 2}}, n_sub[3] = {1, 1, 2};
    for (int i = 0; i < 3; i++) {
        ClipVision vs;
        ck_assert_int_eq(clip_vision_init(&vs, m, subsets[i], n_sub[i], 1, &err), 0);
        clip_features_init(&part, &vs.geom);
        ck_assert_int_eq(clip_vision_features(&vs, pix, &part, &err), 0);
        bad += bits_differ(part.image_embedding, ref.image_embedding, (size_t)E, "subset encoder: image embedding");
        bad += bits_differ(part.tokens_ln_post, ref.tokens_ln_post, tok, "subset encoder: ln_post tokens");
        for (int s = 0; s < n_sub[i]; s++) {
            const int r = window_geometry_scale(&v.geom, subsets[i][s]);
            bad += bits_differ(part.windows[s], ref.windows[r], (size_t)ref.n_windows[r] * E, "subset encoder: windows");
        }
        clip_features_free(&part);
        clip_vision_free(&vs);
    }
    ClipImageFeatures none;
    clip_features_init(&none, &v.geom);
    ck_assert_int_eq(clip_vision_features_part(&v, pix, 0, 0u, &none, &err), 0); /* nothing asked: nothing done */
    bad += none.image_embedding[0] != 0.0f;
    clip_features_free(&none);
    clip_features_free(&ref);
    clip_vision_free(&v);
    return bad;
}

START_TEST(tiny_components_bit_identical)
{
    Tiny t;
    tiny_open(&t);
    if (!t.ok) return;
    const int S = 240;
    float *pix = ref_read(&t, "inputs/images_preprocessed", (size_t)3 * 3 * S * S);
    for (int i = 0; i < 3; i++) ck_assert_int_eq(components_bit_identical(&t.model, pix + (size_t)i * 3 * S * S), 0);
    free(pix);
    tiny_close(&t);
}
END_TEST

/* Other scales and a stride > 1: the one-call path (gathered block-0 qkv, CLS-only last block)
 * equals the plain path (each window an independent sequence through encode_tokens). */
START_TEST(tiny_windows_stride_consistency)
{
    Tiny t;
    tiny_open(&t);
    if (!t.ok) return;
    const int W = 64, E = 32, S = 240, T = 226, G = 15;
    const int scales[3] = {1, 4, 15}, stride = 2;
    float *pix = ref_read(&t, "inputs/images_preprocessed", (size_t)3 * 3 * S * S);
    ClipVision v;
    Error err = {0};
    ck_assert_int_eq(clip_vision_init(&v, &t.model, scales, 3, stride, &err), 0);
    ClipImageFeatures f;
    clip_features_init(&f, &v.geom);
    ck_assert_int_eq(f.n_windows[0], 64); /* (15 - 1) / 2 + 1 = 8 per side */
    ck_assert_int_eq(f.n_windows[1], 36);
    ck_assert_int_eq(f.n_windows[2], 1);
    ck_assert_int_eq(clip_vision_features(&v, pix + (size_t)2 * 3 * S * S, &f, &err), 0);
    float *tok = malloc((size_t)T * W * sizeof *tok), *seq = malloc((size_t)T * W * 64 * sizeof *seq);
    float *emb = malloc((size_t)64 * E * sizeof *emb);
    clip_vision_embed(&v, pix + (size_t)2 * 3 * S * S, tok);
    for (int s = 0; s < 3; s++) {
        const int k = scales[s], kk = k * k, n = f.n_windows[s];
        int *idx = malloc((size_t)n * kk * sizeof *idx);
        windows_patch_index(G, k, stride, idx);
        for (int w = 0; w < n; w++)
            for (int j = 0; j <= kk; j++)
                memcpy(seq + ((size_t)w * (kk + 1) + j) * W, tok + (size_t)(j == 0 ? 0 : 1 + idx[w * kk + j - 1]) * W,
                       W * sizeof *seq);
        ck_assert_int_eq(clip_vision_encode_tokens(&v, seq, n, kk + 1, emb, NULL, &err), 0);
        char label[64];
        snprintf(label, sizeof label, "windows k=%d stride %d", k, stride);
        ck_assert(close_to(f.windows[s], emb, (size_t)n * E, 1e-5, label));
        free(idx);
    }
    /* k = 15 covers the whole grid: that window is the full image */
    ck_assert(close_to(f.windows[2], f.image_embedding, (size_t)E, 1e-5, "k=15 window = image embedding"));
    /* features initialised for other scales are refused */
    ClipImageFeatures other;
    WindowGeometry g2;
    ck_assert_int_eq(window_geometry_init(&g2, v.geom.grid, v.geom.width, v.geom.embed_dim, scales, 2,
                                          stride, &err), 0);
    clip_features_init(&other, &g2);
    ck_assert_int_eq(clip_vision_features(&v, pix, &other, &err), ERR_USAGE);
    clip_features_free(&other);
    /* bad scales */
    ClipVision bad;
    const int k16 = 16;
    ck_assert_int_eq(clip_vision_init(&bad, &t.model, &k16, 1, 1, &err), ERR_USAGE);
    ck_assert_msg(strstr(err.msg, "k = 16") != NULL, "%s", err.msg);
    ck_assert_int_eq(clip_vision_encode_tokens(&v, tok, 1, 300, emb, NULL, &err), ERR_USAGE);
    clip_vision_free(&bad);
    free(tok), free(seq), free(emb), free(pix);
    clip_features_free(&f);
    clip_vision_free(&v);
    tiny_close(&t);
}
END_TEST

START_TEST(tiny_text_and_logits)
{
    Tiny t;
    tiny_open(&t);
    if (!t.ok) return;
    const int P = 5, L = 77, W = 48, E = 32, N = 3, S = 240;
    int64_t ids64[5 * 77];
    Error err = {0};
    ck_assert_int_eq(h5_read_i64(&t.ref, "inputs/text_tokens", ids64, (size_t)P * L, &err), 0);
    int32_t ids[5 * 77];
    for (int i = 0; i < P * L; i++) ids[i] = (int32_t)ids64[i];
    float *r_tok = ref_read(&t, "gelu/text_tokens_ln_final", (size_t)P * L * W);
    float *r_txt = ref_read(&t, "gelu/text_embedding", (size_t)P * E);
    float *r_txtn = ref_read(&t, "gelu/text_embedding_normalized", (size_t)P * E);
    float *r_logits = ref_read(&t, "gelu/logits_per_image", (size_t)N * P);
    float *pix = ref_read(&t, "inputs/images_preprocessed", (size_t)N * 3 * S * S);
    ClipText tx;
    ck_assert_int_eq(clip_text_init(&tx, &t.model, 4, &err), 0);
    float *tok = malloc((size_t)4 * L * W * sizeof *tok), emb[5 * 32], fast[5 * 32];
    /* all positions (the stage test), in two batches to exercise batching */
    ck_assert_int_eq(clip_text_encode_all_positions(&tx, ids, 4, emb, tok, &err), 0);
    ck_assert(close_to(tok, r_tok, (size_t)4 * L * W, TOL, "text_tokens_ln_final[0..3]"));
    ck_assert_int_eq(clip_text_encode_all_positions(&tx, ids + 4 * L, 1, emb + 4 * E, tok, &err), 0);
    ck_assert(close_to(tok, r_tok + (size_t)4 * L * W, (size_t)L * W, TOL, "text_tokens_ln_final[4]"));
    ck_assert(close_to(emb, r_txt, (size_t)P * E, TOL, "text_embedding (all positions)"));
    /* the fast path: each prompt only up to its EOT */
    ck_assert_int_eq(clip_text_encode(&tx, ids + L, 4, fast + E, &err), 0);
    ck_assert_int_eq(clip_text_encode(&tx, ids, 1, fast, &err), 0);
    ck_assert(close_to(fast, r_txt, (size_t)P * E, TOL, "text_embedding"));
    ops_l2_normalize(fast, P, E);
    ck_assert(close_to(fast, r_txtn, (size_t)P * E, TOL, "text_embedding_normalized"));
    /* logits = exp(logit_scale) * img_n @ txt_n^T */
    ClipVision v;
    ck_assert_int_eq(clip_vision_init(&v, &t.model, NULL, 0, 1, &err), 0);
    ClipImageFeatures f;
    clip_features_init(&f, &v.geom);
    float logits[3 * 5];
    for (int i = 0; i < N; i++) {
        ck_assert_int_eq(clip_vision_features(&v, pix + (size_t)i * 3 * S * S, &f, &err), 0);
        ops_l2_normalize(f.image_embedding, 1, E);
        for (int p = 0; p < P; p++) {
            double d = 0;
            for (int c = 0; c < E; c++) d += (double)f.image_embedding[c] * fast[p * E + c];
            logits[i * P + p] = (float)(exp((double)*t.model.logit_scale) * d);
        }
    }
    ck_assert(close_to(logits, r_logits, (size_t)N * P, TOL, "logits_per_image"));
    clip_features_free(&f);
    clip_vision_free(&v);
    free(tok), free(r_tok), free(r_txt), free(r_txtn), free(r_logits), free(pix);
    clip_text_free(&tx);
    tiny_close(&t);
}
END_TEST

/* Prompts with common prefixes share their rows (clip_text.h): in one batch, each embedding
 * equals the prompt encoded alone within the GEMM's row-count rounding (8.3e-7 here), a
 * duplicate prompt reuses every row and gets the same bits, and the batch's order does not
 * matter beyond rounding; clip_text_sort puts shared prefixes next to each other. */
START_TEST(tiny_text_shared_prefixes)
{
    Tiny t;
    tiny_open(&t);
    if (!t.ok) return;
    enum { P = 6, L = 77, E = 32 };
    int64_t ids64[5 * 77];
    Error err = {0};
    ck_assert_int_eq(h5_read_i64(&t.ref, "inputs/text_tokens", ids64, (size_t)5 * L, &err), 0);
    /* p0 "a photo of a ..."; p2 shares 4 tokens with it, p4 5; p0 again; p3; p0 with its word
     * changed to p4's (so 6 tokens in common with p4, 5 with p0) */
    const int pick[P - 1] = {0, 2, 4, 0, 3};
    int32_t ids[P * L], rev[P * L];
    for (int b = 0; b < P - 1; b++)
        for (int i = 0; i < L; i++) ids[b * L + i] = (int32_t)ids64[pick[b] * L + i];
    memcpy(ids + (P - 1) * L, ids, L * sizeof *ids);
    ids[(P - 1) * L + 5] = 1070; /* the word before "." */
    ClipText tx;
    ck_assert_int_eq(clip_text_init(&tx, &t.model, P, &err), 0);
    float batch[P * E], alone[P * E], back[P * E];
    ck_assert_int_eq(clip_text_encode(&tx, ids, P, batch, &err), 0);
    ck_assert_int_eq(tx.seq_own[1], 4);          /* "SOT a photo of" from p0 */
    ck_assert_int_eq(tx.seq_own[2], 5);          /* "SOT a photo of a" */
    ck_assert_int_eq(tx.seq_own[3], tx.seq_len[3]); /* the duplicate: every row shared */
    ck_assert_int_eq(tx.seq_own[5], 6);          /* the longest common prefix: 6 tokens, with p4 */
    for (int b = 0; b < P; b++) ck_assert_int_eq(clip_text_encode(&tx, ids + b * L, 1, alone + b * E, &err), 0);
    ck_assert(test_allclose(batch, alone, (size_t)P * E, 4e-6, "text embeddings: shared prefixes vs alone"));
    ck_assert(test_allclose(batch + 3 * E, batch, E, 0.0, "duplicate prompt"));
    for (int b = 0; b < P; b++) memcpy(rev + b * L, ids + (P - 1 - b) * L, L * sizeof *ids);
    ck_assert_int_eq(clip_text_encode(&tx, rev, P, back, &err), 0);
    for (int b = 0; b < P; b++)
        ck_assert(test_allclose(back + (P - 1 - b) * E, batch + b * E, E, 4e-6, "text embeddings: reversed batch"));
    int order[P];
    clip_text_sort(ids, P, L, order);
    for (int i = 1; i < P; i++) { /* non-decreasing ids, ties by index */
        const int a = order[i - 1], b = order[i];
        int c = memcmp(ids + a * L, ids + b * L, L * sizeof *ids) == 0 ? 0 : 1, k = 0;
        while (c && ids[a * L + k] == ids[b * L + k]) k++;
        ck_assert_msg(c == 0 ? a < b : ids[a * L + k] < ids[b * L + k], "sort: prompt %d before %d", a, b);
    }
    clip_text_free(&tx);
    tiny_close(&t);
}
END_TEST

/* ---- loader: variants and errors ---- */

/* Copy the tiny model into dir/name; returns the malloc'ed path (NULL without shared folder). */
static char *tiny_copy(const char *dir, const char *name)
{
    char src[1024];
    if (!test_shared_path(src, sizeof src, "fixtures/tiny_clip/model.h5")) return NULL;
    size_t len;
    char *bytes = test_read_file(src, &len);
    ck_assert_ptr_nonnull(bytes);
    char *dst = xasprintf("%s/%s", dir, name);
    ck_assert_int_eq(test_write_file(dst, bytes, len), 0);
    free(bytes);
    return dst;
}

/* Load path expecting failure with code and every needle in the message. */
static void expect_load_error(const char *path, int code, const char *needle1, const char *needle2)
{
    ClipModel m = {0};
    Error err = {0};
    int rc = clip_model_load(&m, path, &err);
    ck_assert_msg(rc == code, "%s: expected code %d, got %d (%s)", path, code, rc, err.msg);
    ck_assert_msg(strstr(err.msg, needle1) != NULL, "message lacks '%s': %s", needle1, err.msg);
    if (needle2) ck_assert_msg(strstr(err.msg, needle2) != NULL, "message lacks '%s': %s", needle2, err.msg);
    ck_assert_ptr_null(m.params); /* left freed */
    clip_model_free(&m);
}

START_TEST(loader_errors)
{
    char *dir = test_mkdtemp();
    char *p = tiny_copy(dir, "missing.h5");
    if (!p) {
        test_rmtree(dir);
        free(dir);
        return;
    }
    H5File f = {0};
    Error err = {0};
    /* missing dataset */
    ck_assert_int_eq(h5_open_rw(&f, p, &err), 0);
    ck_assert_int_eq(h5_delete(&f, "visual/proj", &err), 0);
    h5_close(&f);
    expect_load_error(p, ERR_MISSING, "/visual/proj' is missing", "missing.h5");
    free(p);
    /* wrong shape */
    p = tiny_copy(dir, "shape.h5");
    float z[64 * 32] = {0};
    ck_assert_int_eq(h5_open_rw(&f, p, &err), 0);
    ck_assert_int_eq(h5_write_f32(&f, "visual/proj", z, 2, (int64_t[]){32, 64}, &err), 0);
    h5_close(&f);
    expect_load_error(p, ERR_SHAPE, "expected shape (64, 32), found (32, 64)", "visual/proj");
    free(p);
    /* integer dtype */
    p = tiny_copy(dir, "int.h5");
    int64_t iz[48] = {0};
    ck_assert_int_eq(h5_open_rw(&f, p, &err), 0);
    ck_assert_int_eq(h5_write_i64(&f, "ln_final/bias", iz, 1, (int64_t[]){48}, &err), 0);
    h5_close(&f);
    expect_load_error(p, ERR_FORMAT, "ln_final/bias", "integers");
    free(p);
    /* NaN and Inf */
    const char *names[2] = {"nan.h5", "inf.h5"};
    for (int k = 0; k < 2; k++) {
        p = tiny_copy(dir, names[k]);
        float w[64];
        for (int i = 0; i < 64; i++) w[i] = 1.0f;
        w[7] = k == 0 ? NAN : INFINITY;
        ck_assert_int_eq(h5_open_rw(&f, p, &err), 0);
        ck_assert_int_eq(h5_write_f32(&f, "visual/ln_pre/weight", w, 1, (int64_t[]){64}, &err), 0);
        h5_close(&f);
        expect_load_error(p, ERR_VALUE, "visual/ln_pre/weight': element 7", k == 0 ? "NaN" : "Inf");
        free(p);
    }
    /* a bad config attribute */
    p = tiny_copy(dir, "config.h5");
    ck_assert_int_eq(h5_open_rw(&f, p, &err), 0);
    ck_assert_int_eq(h5_write_attr_string(&f, "/", "config", "{\"embed_dim\": 32, \"quick_gelu\": false}", &err), 0);
    h5_close(&f);
    expect_load_error(p, ERR_MISSING, "root attribute 'config'", "vision_cfg.image_size");
    free(p);
    /* truncated copy */
    char src[1024];
    ck_assert(test_shared_path(src, sizeof src, "fixtures/tiny_clip/model.h5"));
    size_t len;
    char *bytes = test_read_file(src, &len);
    p = xasprintf("%s/truncated.h5", dir);
    ck_assert_int_eq(test_write_file(p, bytes, len / 2), 0);
    ClipModel m = {0};
    ck_assert_int_ne(clip_model_load(&m, p, &err), 0);
    ck_assert_msg(strstr(err.msg, "truncated.h5") != NULL, "%s", err.msg);
    ck_assert_ptr_null(m.params);
    free(bytes);
    free(p);
    /* not HDF5, and no file at all */
    p = xasprintf("%s/text.h5", dir);
    ck_assert_int_eq(test_write_file(p, "hello, not hdf5\n", 16), 0);
    expect_load_error(p, ERR_FORMAT, "text.h5", "not an HDF5 file");
    free(p);
    p = xasprintf("%s/absent.h5", dir);
    expect_load_error(p, ERR_MISSING, "absent.h5", NULL);
    free(p);
    test_rmtree(dir);
    free(dir);
}
END_TEST

/* A file without `config` loads with inferred dims and a note; a variable-length config and
 * float16 datasets load too (HDF5 widens them). */
START_TEST(loader_variants)
{
    char *dir = test_mkdtemp();
    char *p = tiny_copy(dir, "noconfig.h5");
    if (!p) {
        test_rmtree(dir);
        free(dir);
        return;
    }
    ClipModel ref = {0}, m = {0};
    Error err = {0};
    char src[1024];
    ck_assert(test_shared_path(src, sizeof src, "fixtures/tiny_clip/model.h5"));
    ck_assert_int_eq(clip_model_load(&ref, src, &err), 0);
    H5File f = {0};
    ck_assert_int_eq(h5_open_rw(&f, p, &err), 0);
    ck_assert_int_eq(h5_delete_attr(&f, "/", "config", &err), 0);
    h5_close(&f);
    ck_assert_msg(clip_model_load(&m, p, &err) == 0, "%s", err.msg);
    ck_assert_msg(strstr(m.config_note, "head_width 64") != NULL, "%s", m.config_note);
    ck_assert_int_eq(m.cfg.vision.width, 64);
    ck_assert_int_eq(m.cfg.text.layers, 2);
    ck_assert(memcmp(m.params, ref.params, ref.n_params * sizeof(float)) == 0);
    clip_model_free(&m);
    /* variable-length config string */
    ck_assert_int_eq(h5_open_rw(&f, p, &err), 0);
    ck_assert_int_eq(h5_write_attr_string_vlen(&f, "/", "config", TINY_JSON, &err), 0);
    h5_close(&f);
    ck_assert_msg(clip_model_load(&m, p, &err) == 0, "%s", err.msg);
    ck_assert_str_eq(m.config_note, "");
    ck_assert_mem_eq(&m.cfg, &ref.cfg, sizeof m.cfg);
    clip_model_free(&m);
    free(p);
    /* float16 copy of every tensor */
    p = xasprintf("%s/f16.h5", dir);
    ck_assert_int_eq(h5_create(&f, p, &err), 0);
    ck_assert_int_eq(h5_write_attr_string(&f, "/", "config", TINY_JSON, &err), 0);
    ClipTensorSpec *t;
    int n;
    clip_config_tensors(&ref.cfg, &t, &n);
    size_t off = 0;
    for (int i = 0; i < n; i++) {
        char path[128];
        clip_tensor_h5_path(path, sizeof path, t[i].key);
        ck_assert_int_eq(h5_write_f16(&f, path, ref.params + off, t[i].rank, t[i].dims, &err), 0);
        off += clip_tensor_numel(&t[i]);
    }
    h5_close(&f);
    ck_assert_int_eq(h5_open_read(&f, p, &err), 0);
    int cls;
    size_t esize;
    ck_assert_int_eq(h5_dtype(&f, "visual/proj", &cls, &esize, &err), 0);
    ck_assert(cls == H5_CLASS_FLOAT && esize == 2);
    h5_close(&f);
    ck_assert_msg(clip_model_load(&m, p, &err) == 0, "%s", err.msg);
    size_t rounded = 0;
    for (size_t i = 0; i < ref.n_params; i++) {
        const float a = m.params[i], b = ref.params[i];
        ck_assert_msg(fabsf(a - b) <= 4.9e-4f * fabsf(b) + 3e-8f, "param %zu: f16 %g vs f32 %g", i, a, b);
        rounded += a != b;
    }
    ck_assert(rounded > ref.n_params / 2); /* really stored as float16 */
    clip_model_free(&m);
    free(t);
    free(p);
    clip_model_free(&ref);
    test_rmtree(dir);
    free(dir);
}
END_TEST

/* ---- full size (smoke): a random ViT-B-16-plus-240 file, one image and one prompt ---- */

static int all_finite(const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i])) return 0;
    return 1;
}

START_TEST(full_size_smoke)
{
    char *dir = test_mkdtemp();
    char *path = xasprintf("%s/random_b16plus.h5", dir);
    ClipConfig cfg;
    Error err = {0};
    ck_assert_int_eq(clip_config_preset(&cfg, "ViT-B-16-plus-240", &err), 0);
    ck_assert_msg(clip_model_write_random(path, &cfg, 3, &err) == 0, "%s", err.msg);
    ClipModel m = {0};
    const int rc = clip_model_load(&m, path, &err);
    remove(path); /* ~834 MB: gone as soon as it is loaded */
    test_rmtree(dir);
    ck_assert_msg(rc == 0, "%s", err.msg);
    ck_assert_uint_eq(m.n_params, 208377345u);
    const int scales[2] = {2, 3}, S = 240, E = 640, W = 896;
    ClipVision v;
    ck_assert_int_eq(clip_vision_init(&v, &m, scales, 2, 1, &err), 0);
    ClipImageFeatures f;
    clip_features_init(&f, &v.geom);
    ck_assert(f.geom.grid == 15 && f.geom.width == W && f.geom.embed_dim == E && f.n_windows[0] == 196 && f.n_windows[1] == 169);
    float *pix = malloc((size_t)3 * S * S * sizeof *pix);
    for (int i = 0; i < 3 * S * S; i++) pix[i] = (float)((i * 7919) % 4001) / 1000.0f - 2.0f;
    ck_assert_int_eq(clip_vision_features(&v, pix, &f, &err), 0);
    ck_assert_int_eq(components_bit_identical(&m, pix), 0); /* the real geometry's GEMM sizes */
    ck_assert(all_finite(f.image_embedding, E));
    ck_assert(all_finite(f.tokens_ln_post, (size_t)225 * W));
    ck_assert(all_finite(f.tokens_pre_ln_post, (size_t)225 * W));
    ck_assert(all_finite(f.windows[0], (size_t)196 * E));
    ck_assert(all_finite(f.windows[1], (size_t)169 * E));
    double norm = 0;
    for (int i = 0; i < E; i++) norm += (double)f.image_embedding[i] * f.image_embedding[i];
    ck_assert(norm > 0);
    /* "a photo of a bottle." by hand (clip.md §5.3) */
    int32_t ids[77] = {49406, 320, 1125, 539, 320, 5392, 269, 49407};
    ClipText t;
    float txt[640];
    ck_assert_int_eq(clip_text_init(&t, &m, 1, &err), 0);
    ck_assert_int_eq(clip_text_encode(&t, ids, 1, txt, &err), 0);
    ck_assert(all_finite(txt, E));
    clip_text_free(&t);
    free(pix);
    clip_features_free(&f);
    clip_vision_free(&v);
    clip_model_free(&m);
    free(path);
    free(dir);
}
END_TEST

START_TEST(text_errors)
{
    Tiny t;
    tiny_open(&t);
    if (!t.ok) return;
    ClipText tx;
    Error err = {0};
    ck_assert_int_eq(clip_text_init(&tx, &t.model, 0, &err), ERR_USAGE);
    ck_assert_int_eq(clip_text_init(&tx, &t.model, 2, &err), 0);
    int32_t ids[3 * 77] = {49406, 320, 49407};
    float out[3 * 32];
    ck_assert_int_eq(clip_text_encode(&tx, ids, 3, out, &err), ERR_USAGE);
    ck_assert_msg(strstr(err.msg, "1..2") != NULL, "%s", err.msg);
    ids[77 + 5] = 49408; /* prompt 1, position 5: outside the vocabulary */
    ck_assert_int_eq(clip_text_encode(&tx, ids, 2, out, &err), ERR_VALUE);
    ck_assert_msg(strstr(err.msg, "prompt 1 position 5") != NULL, "%s", err.msg);
    ids[77 + 5] = -1;
    ck_assert_int_eq(clip_text_encode(&tx, ids, 2, out, &err), ERR_VALUE);
    clip_text_free(&tx);
    clip_text_free(&tx); /* free twice / on a zeroed struct is safe */
    ClipVision v = {0};
    clip_vision_free(&v);
    ClipImageFeatures f = {0};
    clip_features_free(&f);
    ClipModel m = {0};
    clip_model_free(&m);
    tiny_close(&t);
}
END_TEST

Suite *clip_suite(void)
{
    Suite *s = suite_create("clip");
    TCase *core = tcase_create("Core");
    tcase_add_test(core, config_presets_and_json);
    tcase_add_test(core, config_tensor_table);
    tcase_add_test(core, config_infer);
    tcase_add_test(core, tiny_model_loads);
    tcase_add_test(core, tiny_vision_stages);
    tcase_add_test(core, tiny_vision_features_and_windows);
    tcase_add_test(core, tiny_windows_stride_consistency);
    tcase_add_test(core, tiny_components_bit_identical);
    tcase_add_test(core, tiny_text_and_logits);
    tcase_add_test(core, tiny_text_shared_prefixes);
    tcase_add_test(core, loader_variants);
    tcase_add_test(core, full_size_smoke);
    tcase_set_timeout(core, 120); /* the full-size smoke test writes and reads ~834 MB */
    suite_add_tcase(s, core);
    TCase *limits = tcase_create("Limits");
    tcase_add_test(limits, config_json_errors);
    tcase_add_test(limits, loader_errors);
    tcase_add_test(limits, text_errors);
    suite_add_tcase(s, limits);
    return s;
}
