/*
 * clip_text.c - OpenCLIP text tower (causal transformer, EOT pooling, text_projection).
 *
 * Does: see clip_text.h. Prompts are concatenated row-wise, each over its own length
 * (EOT position + 1), so the linear layers are single GEMMs and attention runs per prompt with
 * the causal mask.
 * Does not: tokenize, normalise.
 * Reference: shared/spec/clip.md §2.1, §2.3; open_clip model.py CLIP.encode_text,
 * transformer.py (build_causal_mask).
 */
#include "clip/clip_text.h"

#include "clip/clip_block.h"
#include "clip/ops.h"

#include <stdlib.h>
#include <string.h>

int clip_text_init(ClipText *t, const ClipModel *m, int max_batch, Error *err)
{
    memset(t, 0, sizeof *t);
    if (max_batch < 1) return err_setf(err, ERR_USAGE, "text encoder: max_batch must be >= 1, found %d", max_batch);
    t->model = m;
    t->width = m->cfg.text.width;
    t->heads = m->cfg.text.heads;
    t->context_length = m->cfg.text.context_length;
    t->embed_dim = m->cfg.embed_dim;
    t->max_batch = max_batch;
    const size_t R = (size_t)max_batch * t->context_length, W = (size_t)t->width, L = (size_t)t->context_length;
    t->att_len = ops_attention_scratch((int)L, t->width, t->heads);
    const size_t sizes[] = {R * W, R * W, R * 3 * W, R * 4 * W, t->att_len,
                            (size_t)max_batch * W};
    float **slots[] = {&t->x, &t->h, &t->qkv, &t->mlp, &t->att, &t->pooled};
    size_t total = 0;
    for (size_t i = 0; i < ARRAY_LEN(sizes); i++) total += sizes[i];
    t->arena = xmalloc(total * sizeof(float));
    size_t off = 0;
    for (size_t i = 0; i < ARRAY_LEN(sizes); i++) {
        *slots[i] = t->arena + off;
        off += sizes[i];
    }
    t->groups = xmalloc((size_t)max_batch * sizeof *t->groups);
    return 0;
}

void clip_text_free(ClipText *t)
{
    if (!t) return;
    free(t->arena);
    free(t->groups);
    memset(t, 0, sizeof *t);
}

/* Shared by both entry points: all_positions != 0 runs every prompt over L positions. */
static int encode(ClipText *t, const int32_t *ids, int B, float *out, float *tokens_ln_final, int all_positions,
                  Error *err)
{
    const ClipTextWeights *w = &t->model->text;
    const int W = t->width, L = t->context_length, V = t->model->cfg.text.vocab_size;
    if (B < 1 || B > t->max_batch)
        return err_setf(err, ERR_USAGE, "text encoder: batch of %d prompts, expected 1..%d", B, t->max_batch);
    /* lengths (EOT = first maximal id) and embedding lookup */
    size_t rows = 0;
    for (int b = 0; b < B; b++) {
        const int32_t *p = ids + (size_t)b * L;
        int eot = 0;
        for (int i = 0; i < L; i++) {
            if (p[i] < 0 || p[i] >= V)
                return err_setf(err, ERR_VALUE, "text encoder: prompt %d position %d: token id %d outside [0, %d)", b,
                                i, (int)p[i], V);
            if (p[i] > p[eot]) eot = i;
        }
        t->groups[b].count = 1;
        t->groups[b].len = all_positions ? L : eot + 1;
        for (int i = 0; i < t->groups[b].len; i++) {
            float *x = t->x + (rows + (size_t)i) * W;
            const float *tok = w->token_embedding + (size_t)p[i] * W, *pos = w->positional_embedding + (size_t)i * W;
            for (int c = 0; c < W; c++) x[c] = tok[c] + pos[c];
        }
        rows += (size_t)t->groups[b].len;
    }
    /* causal blocks: one GEMM per linear layer over all rows, attention per prompt */
    const ClipBlockScratch s = {t->h, t->qkv, t->mlp, t->att, t->att_len};
    const int layers = t->model->cfg.text.layers;
    for (int l = 0; l < layers; l++) /* each block's c_proj pass also computes the next one's ln_1 */
        clip_block_forward(&w->blocks[l], t->x, t->groups, B, W, t->heads,
                           CLIP_BLOCK_CAUSAL | (t->model->cfg.quick_gelu ? CLIP_BLOCK_QUICK_GELU : 0u) |
                               (l > 0 ? CLIP_BLOCK_LN1_READY : 0u),
                           l + 1 < layers ? &w->blocks[l + 1] : NULL, &s);
    /* ln_final (all rows when asked for, else only the EOT rows), pool, project */
    if (tokens_ln_final) ops_layernorm(tokens_ln_final, t->x, w->ln_final_w, w->ln_final_b, (int)rows, W);
    size_t r = 0;
    for (int b = 0; b < B; b++) {
        const int32_t *p = ids + (size_t)b * L;
        int eot = 0;
        for (int i = 1; i < L; i++)
            if (p[i] > p[eot]) eot = i;
        ops_layernorm(t->pooled + (size_t)b * W, t->x + (r + (size_t)eot) * W, w->ln_final_w, w->ln_final_b, 1, W);
        r += (size_t)t->groups[b].len;
    }
    ops_project(out, t->pooled, W, w->text_projection, B, W, t->embed_dim);
    return 0;
}

int clip_text_encode(ClipText *t, const int32_t *ids, int B, float *out, Error *err)
{
    return encode(t, ids, B, out, NULL, 0, err);
}

int clip_text_encode_all_positions(ClipText *t, const int32_t *ids, int B, float *out, float *tokens_ln_final,
                                   Error *err)
{
    return encode(t, ids, B, out, tokens_ln_final, 1, err);
}
