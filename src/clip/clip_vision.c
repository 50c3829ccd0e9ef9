/*
 * clip_vision.c - ViT image tower of OpenCLIP (ViT-B-16-plus-240, ViT-B/16) with WinCLIP windows.
 *
 * Does: patch embedding (embed) and the pre-LN transformer over batches of independent token
 * sequences, so WinCLIP windows reuse the full-image code. Every linear layer is one GEMM over
 * all rows of all sequences of a batch; attention runs per sequence. One batch is one
 * component: the full image, or every window of one scale (so a component's numbers never
 * depend on which others are computed with it: a GEMM backend's rounding may depend on the
 * row count, as oneDNN's does at full size, and the feature cache stores components
 * separately). Two exact savings for
 * windows: block 0's ln_pre/ln_1/qkv are per-token, so the windows gather those rows from the
 * full-image pass; in the last block only the CLS row is needed, so its query, attention,
 * out_proj and MLP run on the CLS rows only.
 * Does not: resize or normalise images (image.c), load weights (clip_weights.c).
 * Reference: shared/spec/clip.md §2.1, §2.2; shared/spec/winclip.md §4; open_clip
 * transformer.py VisionTransformer, ResidualAttentionBlock.
 */
#include "clip/clip_vision.h"

#include "clip/clip_block.h"
#include "clip/gemm.h"
#include "clip/ops.h"
#include "clip/windows.h"

#include <stdlib.h>
#include <string.h>

/* ---- features ---- */

void clip_features_init(ClipImageFeatures *f, const WindowGeometry *g)
{
    memset(f, 0, sizeof *f);
    CHECK(g->n_scales >= 0 && g->n_scales <= CLIP_MAX_SCALES);
    f->geom = *g;
    const size_t gg = (size_t)g->grid * (size_t)g->grid;
    f->image_embedding = xcalloc((size_t)g->embed_dim, sizeof(float));
    f->tokens_ln_post = xcalloc(gg * (size_t)g->width, sizeof(float));
    f->tokens_pre_ln_post = xcalloc(gg * (size_t)g->width, sizeof(float));
    for (int s = 0; s < g->n_scales; s++) {
        f->n_windows[s] = window_geometry_count(g, s);
        f->windows[s] = xcalloc((size_t)f->n_windows[s] * (size_t)g->embed_dim, sizeof(float));
    }
}

void clip_features_free(ClipImageFeatures *f)
{
    if (!f) return;
    free(f->image_embedding);
    free(f->tokens_ln_post);
    free(f->tokens_pre_ln_post);
    for (int s = 0; s < CLIP_MAX_SCALES; s++) free(f->windows[s]);
    free(f->dense_tokens);
    memset(f, 0, sizeof *f);
}

/* ---- init / free ---- */

int clip_vision_init(ClipVision *v, const ClipModel *m, const int *scales, int n_scales, int stride, Error *err)
{
    memset(v, 0, sizeof *v);
    const ClipConfig *cfg = &m->cfg;
    const int G = clip_config_grid(cfg), W = cfg->vision.width, P = cfg->vision.patch_size;
    int rc = window_geometry_init(&v->geom, G, W, cfg->embed_dim, scales, n_scales, stride, err);
    if (rc) return rc;
    v->model = m;
    v->heads = clip_config_vision_heads(cfg);
    v->n_tok = G * G + 1;
    v->max_rows = v->n_tok;
    v->max_len = v->n_tok;
    int max_windows = 0;
    for (int s = 0; s < n_scales; s++) {
        const int k = scales[s];
        v->n_windows[s] = windows_count(G, k, stride);
        v->win_index[s] = xmalloc((size_t)v->n_windows[s] * (size_t)(k * k) * sizeof(int));
        windows_patch_index(G, k, stride, v->win_index[s]);
        /* one batch per component: the full image, or every window of one scale */
        const int window_rows = v->n_windows[s] * (1 + k * k);
        if (window_rows > v->max_rows) v->max_rows = window_rows;
        if (v->n_windows[s] > max_windows) max_windows = v->n_windows[s];
    }
    v->att_len = ops_attention_scratch(v->max_len, W, v->heads);
    const size_t R = (size_t)v->max_rows, Wz = (size_t)W, T = (size_t)v->n_tok;
    const size_t sizes[] = {
        T * 3 * P * P,                   /* patches   */
        T * Wz,                          /* embed     */
        R * Wz,                          /* x         */
        R * Wz,                          /* h         */
        R * 3 * Wz,                      /* qkv       */
        R * 4 * Wz,                      /* mlp       */
        v->att_len,                      /* att       */
        T * Wz,                          /* x0_full   */
        T * 3 * Wz,                      /* qkv0_full */
        (size_t)max_windows * Wz,        /* cls       */
    };
    float **slots[] = {&v->patches, &v->embed, &v->x, &v->h, &v->qkv, &v->mlp, &v->att, &v->x0_full, &v->qkv0_full, &v->cls};
    size_t total = 0;
    for (size_t i = 0; i < ARRAY_LEN(sizes); i++) total += sizes[i];
    v->arena = xmalloc(total * sizeof(float));
    size_t off = 0;
    for (size_t i = 0; i < ARRAY_LEN(sizes); i++) {
        *slots[i] = v->arena + off;
        off += sizes[i];
    }
    return 0;
}

void clip_vision_free(ClipVision *v)
{
    if (!v) return;
    free(v->arena);
    for (int s = 0; s < CLIP_MAX_SCALES; s++) free(v->win_index[s]);
    memset(v, 0, sizeof *v);
}

/* ---- building blocks ---- */

static ClipBlockScratch scratch(const ClipVision *v)
{
    const ClipBlockScratch s = {v->h, v->qkv, v->mlp, v->att, v->att_len};
    return s;
}

/* Residual block l over every row of the groups, in place on x (rows, W): qkv_ready: block 0's
 * qkv is the caller's; ln1_ready: v->h holds ln_1(x), computed by the block before (its
 * pass_next); pass_next: compute block l + 1's ln_1 in this block's last pass. */
static void block_forward(ClipVision *v, int l, float *x, const ClipSeqGroup *g, int ng, int qkv_ready, int ln1_ready,
                          int pass_next)
{
    const ClipBlock *blocks = v->model->visual.blocks;
    const ClipBlockScratch s = scratch(v);
    clip_block_forward(&blocks[l], x, g, ng, v->geom.width, v->heads,
                       (v->model->cfg.quick_gelu ? CLIP_BLOCK_QUICK_GELU : 0u) | (qkv_ready ? CLIP_BLOCK_QKV_READY : 0u) |
                           (ln1_ready ? CLIP_BLOCK_LN1_READY : 0u),
                       pass_next ? &blocks[l + 1] : NULL, &s);
}

/* The last block when only token 0 of each sequence is needed: keys and values for all rows,
 * the query, attention, out_proj and MLP for the CLS rows only. x (rows, W) is read; qkv
 * (rows, 3W), a part of v->qkv, is written (or read when qkv_ready); ln1_ready: v->h already
 * holds ln_1(x), from the block before; cls (B, W) gets the block output of each sequence's
 * token 0 (B = total sequences). */
static void block_forward_cls(ClipVision *v, const ClipBlock *b, const float *x, float *qkv, const ClipSeqGroup *g,
                              int ng, int qkv_ready, int ln1_ready, float *cls)
{
    const int W = v->geom.width, rows = clip_seq_rows(g, ng);
    if (!qkv_ready) {
        if (!ln1_ready) ops_layernorm(v->h, x, b->ln_1_w, b->ln_1_b, rows, W);
        /* k, v for every row, written straight into columns [W, 3W) of qkv */
        gemm(0, 1, rows, 2 * W, W, 1.0f, v->h, W, b->in_proj_w + (size_t)W * W, W, 0.0f, qkv + W, 3 * W);
        for (int r = 0; r < rows; r++) {
            float *kv = qkv + (size_t)r * 3 * W + W;
            for (int c = 0; c < 2 * W; c++) kv[c] += b->in_proj_b[W + c];
        }
        /* q for the CLS rows only (every len-th row of a group): columns [0, W) */
        size_t row = 0;
        for (int i = 0; i < ng; i++) {
            const int ld = g[i].len * W;
            gemm(0, 1, g[i].count, W, W, 1.0f, v->h + row * W, ld, b->in_proj_w, W, 0.0f, qkv + row * 3 * W, 3 * ld);
            for (int s = 0; s < g[i].count; s++) {
                float *q = qkv + (row + (size_t)s * g[i].len) * 3 * W;
                for (int c = 0; c < W; c++) q[c] += b->in_proj_b[c];
            }
            row += (size_t)g[i].count * g[i].len;
        }
    }
    const int zero = 0;
    size_t row = 0, seq = 0;
    for (int i = 0; i < ng; i++)
        for (int s = 0; s < g[i].count; s++, seq++, row += (size_t)g[i].len) {
            ops_attention_rows(v->h + seq * W, qkv + row * 3 * W, v->att, g[i].len, &zero, 1, W, v->heads);
            memcpy(cls + seq * W, x + row * W, (size_t)W * sizeof(float));
        }
    ops_linear_residual(cls, v->h, b->out_proj_w, b->out_proj_b, (int)seq, W, W);
    const ClipBlockScratch s = scratch(v);
    clip_block_mlp(b, cls, (int)seq, W, v->model->cfg.quick_gelu, &s);
}

void clip_vision_embed(ClipVision *v, const float *pixels, float *tokens)
{
    const ClipVisionWeights *w = &v->model->visual;
    const int W = v->geom.width, P = v->model->cfg.vision.patch_size, S = v->model->cfg.vision.image_size;
    const int GG = v->geom.grid * v->geom.grid;
    ops_patchify(v->patches, pixels, S, P);
    memcpy(tokens, w->class_embedding, (size_t)W * sizeof(float));
    ops_linear(tokens + W, v->patches, w->conv1_w, NULL, GG, 3 * P * P, W);
    ops_add(tokens, w->positional_embedding, (size_t)(GG + 1) * W);
}

int clip_vision_encode_tokens(ClipVision *v, const float *tokens, int B, int T, float *embeddings,
                              const ClipVisionCapture *cap, Error *err)
{
    const ClipVisionWeights *w = &v->model->visual;
    const int W = v->geom.width, L = v->model->cfg.vision.layers;
    if (B < 1 || T < 1 || T > v->max_len || (size_t)B * T > (size_t)v->max_rows)
        return err_setf(err, ERR_USAGE, "vision encoder: %d sequences of %d tokens exceed the arena (%d rows, length <= %d)",
                        B, T, v->max_rows, v->max_len);
    const size_t rows = (size_t)B * T, n = rows * W;
    const ClipSeqGroup g = {B, T};
    ops_layernorm(v->x, tokens, w->ln_pre_w, w->ln_pre_b, (int)rows, W);
    if (cap && cap->ln_pre) memcpy(cap->ln_pre, v->x, n * sizeof(float));
    for (int l = 0; l < L; l++) {
        block_forward(v, l, v->x, &g, 1, 0, l > 0, l + 1 < L);
        if (cap && cap->blocks) memcpy(cap->blocks + (size_t)l * n, v->x, n * sizeof(float));
    }
    ops_layernorm(v->h, v->x, w->ln_post_w, w->ln_post_b, (int)rows, W);
    if (cap && cap->ln_post) memcpy(cap->ln_post, v->h, n * sizeof(float));
    ops_project(embeddings, v->h, T * W, w->proj, B, W, v->geom.embed_dim);
    return 0;
}

/* ---- one image: full pass + windows ---- */

static int features_match(const ClipVision *v, const ClipImageFeatures *f)
{
    if (!window_geometry_equal(&f->geom, &v->geom)) return 0;
    for (int s = 0; s < v->geom.n_scales; s++)
        if (f->n_windows[s] != v->n_windows[s]) return 0;
    return 1;
}

/* The full image's blocks on its T rows (block 0's qkv from qkv0_full), then ln_post and proj. */
static void encode_full(ClipVision *v, ClipImageFeatures *out)
{
    const ClipVisionWeights *w = &v->model->visual;
    const int W = v->geom.width, L = v->model->cfg.vision.layers, T = v->n_tok, GG = T - 1;
    const ClipSeqGroup g = {1, T};
    memcpy(v->x, v->x0_full, (size_t)T * W * sizeof(float));
    memcpy(v->qkv, v->qkv0_full, (size_t)T * 3 * W * sizeof(float));
    for (int l = 0; l < L; l++) block_forward(v, l, v->x, &g, 1, l == 0, l > 0, l + 1 < L);
    memcpy(out->tokens_pre_ln_post, v->x + W, (size_t)GG * W * sizeof(float));
    ops_layernorm(v->h, v->x, w->ln_post_w, w->ln_post_b, T, W);
    memcpy(out->tokens_ln_post, v->h + W, (size_t)GG * W * sizeof(float));
    ops_project(out->image_embedding, v->h, W, w->proj, 1, W, v->geom.embed_dim);
}

/* Every window of scale slot s as one batch: [CLS; patches] rows of the block-0 input and qkv
 * gathered from the full image, blocks 0 .. L-2, the last block on the CLS rows only. */
static void encode_windows(ClipVision *v, int s, ClipImageFeatures *out)
{
    const ClipVisionWeights *w = &v->model->visual;
    const int W = v->geom.width, L = v->model->cfg.vision.layers, kk = v->geom.scales[s] * v->geom.scales[s];
    const ClipSeqGroup g = {v->n_windows[s], 1 + kk};
    size_t row = 0;
    for (int wi = 0; wi < v->n_windows[s]; wi++)
        for (int j = 0; j <= kk; j++, row++) {
            const size_t src = j == 0 ? 0 : 1 + (size_t)v->win_index[s][(size_t)wi * kk + j - 1];
            memcpy(v->x + row * W, v->x0_full + src * W, (size_t)W * sizeof(float));
            memcpy(v->qkv + row * 3 * W, v->qkv0_full + src * 3 * W, (size_t)3 * W * sizeof(float));
        }
    for (int l = 0; l < L - 1; l++) block_forward(v, l, v->x, &g, 1, l == 0, l > 0, 1);
    block_forward_cls(v, &w->blocks[L - 1], v->x, v->qkv, &g, 1, L == 1, L >= 2, v->cls);
    ops_layernorm(v->h, v->cls, w->ln_post_w, w->ln_post_b, v->n_windows[s], W);
    ops_project(out->windows[s], v->h, W, w->proj, v->n_windows[s], W, v->geom.embed_dim);
}

int clip_vision_features(ClipVision *v, const float *pixels, ClipImageFeatures *out, Error *err)
{
    return clip_vision_features_part(v, pixels, 1, (1u << v->geom.n_scales) - 1u, out, err);
}

int clip_vision_features_part(ClipVision *v, const float *pixels, int full, unsigned scale_mask,
                              ClipImageFeatures *out, Error *err)
{
    if (!features_match(v, out))
        return err_setf(err, ERR_USAGE, "clip_vision_features: the features were initialised for another model, scales or stride");
    scale_mask &= (1u << v->geom.n_scales) - 1u;
    if (!full && scale_mask == 0) return 0;
    const ClipVisionWeights *w = &v->model->visual;
    const int W = v->geom.width, T = v->n_tok;
    /* full image: embed, ln_pre, block 0's ln_1/qkv (block 0's input and qkv of every window) */
    clip_vision_embed(v, pixels, v->embed);
    ops_layernorm(v->x0_full, v->embed, w->ln_pre_w, w->ln_pre_b, T, W);
    ops_layernorm(v->h, v->x0_full, w->blocks[0].ln_1_w, w->blocks[0].ln_1_b, T, W);
    ops_linear(v->qkv0_full, v->h, w->blocks[0].in_proj_w, w->blocks[0].in_proj_b, T, W, 3 * W);
    if (full) encode_full(v, out);
    for (int s = 0; s < v->geom.n_scales; s++)
        if (scale_mask & (1u << s)) encode_windows(v, s, out);
    return 0;
}
