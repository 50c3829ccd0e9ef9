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
    t->att_len = ops_attention_prefix_scratch((int)L, t->width, t->heads);
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
    t->seq_len = xcalloc((size_t)max_batch, sizeof *t->seq_len);
    t->seq_own = xcalloc((size_t)max_batch, sizeof *t->seq_own);
    t->row_of = xcalloc((size_t)max_batch * L, sizeof *t->row_of);
    return 0;
}

void clip_text_free(ClipText *t)
{
    if (!t) return;
    free(t->arena);
    free(t->seq_len);
    free(t->seq_own);
    free(t->row_of);
    memset(t, 0, sizeof *t);
}

/* EOT position of one prompt: its first maximal id. */
static int eot_of(const int32_t *p, int L)
{
    int eot = 0;
    for (int i = 1; i < L; i++)
        if (p[i] > p[eot]) eot = i;
    return eot;
}

/* Rows of the batch with shared prefixes: prompt b's positions 0 .. len-1 map to the rows of
 * the earlier prompt with the longest common prefix, then to new rows. Returns the row count. */
static size_t share_prefixes(ClipText *t, const int32_t *ids, int B)
{
    const int L = t->context_length;
    size_t rows = 0;
    for (int b = 0; b < B; b++) {
        const int32_t *p = ids + (size_t)b * L;
        int best = 0, from = -1;
        for (int a = 0; a < b && best < t->seq_len[b]; a++) {
            const int32_t *q = ids + (size_t)a * L;
            const int n = t->seq_len[a] < t->seq_len[b] ? t->seq_len[a] : t->seq_len[b];
            int c = 0;
            while (c < n && p[c] == q[c]) c++;
            if (c > best) best = c, from = a;
        }
        int *row = t->row_of + (size_t)b * L;
        for (int i = 0; i < best; i++) row[i] = t->row_of[(size_t)from * L + i];
        for (int i = best; i < t->seq_len[b]; i++) row[i] = (int)rows++;
        t->seq_own[b] = best;
    }
    return rows;
}

/* Shared by both entry points: all_positions != 0 runs every prompt over L positions. */
static int encode(ClipText *t, const int32_t *ids, int B, float *out, float *tokens_ln_final, int all_positions,
                  Error *err)
{
    const ClipTextWeights *w = &t->model->text;
    const int W = t->width, L = t->context_length, V = t->model->cfg.text.vocab_size;
    if (B < 1 || B > t->max_batch)
        return err_setf(err, ERR_USAGE, "text encoder: batch of %d prompts, expected 1..%d", B, t->max_batch);
    for (int b = 0; b < B; b++) {
        const int32_t *p = ids + (size_t)b * L;
        for (int i = 0; i < L; i++)
            if (p[i] < 0 || p[i] >= V)
                return err_setf(err, ERR_VALUE, "text encoder: prompt %d position %d: token id %d outside [0, %d)", b,
                                i, (int)p[i], V);
        t->seq_len[b] = all_positions ? L : eot_of(p, L) + 1;
    }
    const size_t rows = share_prefixes(t, ids, B);
    /* embedding lookup, once per row */
    for (int b = 0; b < B; b++) {
        const int32_t *p = ids + (size_t)b * L;
        const int *row = t->row_of + (size_t)b * L;
        for (int i = t->seq_own[b]; i < t->seq_len[b]; i++) {
            float *x = t->x + (size_t)row[i] * W;
            const float *tok = w->token_embedding + (size_t)p[i] * W, *pos = w->positional_embedding + (size_t)i * W;
            for (int c = 0; c < W; c++) x[c] = tok[c] + pos[c];
        }
    }
    /* causal blocks: one GEMM per linear layer over all rows, attention per prompt over its rows */
    const ClipBlockScratch s = {t->h, t->qkv, t->mlp, t->att, t->att_len};
    const OpsPrefixSeqs seqs = {B, L, t->seq_len, t->seq_own, t->row_of};
    const int layers = t->model->cfg.text.layers;
    for (int l = 0; l < layers; l++) /* each block's c_proj pass also computes the next one's ln_1 */
        clip_block_forward_prefix(&w->blocks[l], t->x, &seqs, (int)rows, W, t->heads,
                                  CLIP_BLOCK_CAUSAL | (t->model->cfg.quick_gelu ? CLIP_BLOCK_QUICK_GELU : 0u) |
                                      (l > 0 ? CLIP_BLOCK_LN1_READY : 0u),
                                  l + 1 < layers ? &w->blocks[l + 1] : NULL, &s);
    /* ln_final (every position when asked for, else only the EOT rows), pool, project */
    if (tokens_ln_final) {
        ops_layernorm(t->h, t->x, w->ln_final_w, w->ln_final_b, (int)rows, W);
        for (int b = 0; b < B; b++)
            for (int i = 0; i < L; i++)
                memcpy(tokens_ln_final + ((size_t)b * L + i) * W, t->h + (size_t)t->row_of[(size_t)b * L + i] * W,
                       (size_t)W * sizeof(float));
    }
    for (int b = 0; b < B; b++) {
        const int eot = eot_of(ids + (size_t)b * L, L);
        ops_layernorm(t->pooled + (size_t)b * W, t->x + (size_t)t->row_of[(size_t)b * L + eot] * W, w->ln_final_w,
                      w->ln_final_b, 1, W);
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

typedef struct {
    const int32_t *ids;
    int L, index;
} SortKey;

static int sort_key_cmp(const void *pa, const void *pb)
{
    const SortKey *a = pa, *b = pb;
    for (int i = 0; i < a->L; i++)
        if (a->ids[i] != b->ids[i]) return a->ids[i] < b->ids[i] ? -1 : 1;
    return (a->index > b->index) - (a->index < b->index);
}

void clip_text_sort(const int32_t *ids, int n, int L, int *order)
{
    if (n <= 0) return;
    SortKey *k = xmalloc((size_t)n * sizeof *k);
    for (int i = 0; i < n; i++) k[i] = (SortKey){ids + (size_t)i * L, L, i};
    qsort(k, (size_t)n, sizeof *k, sort_key_cmp);
    for (int i = 0; i < n; i++) order[i] = k[i].index;
    free(k);
}
