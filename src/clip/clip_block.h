/*
 * clip_block.h - one pre-LN residual attention block over batches of independent sequences.
 *
 * Does: the block of clip.md §2.1 for both towers: ln_1 -> qkv (one GEMM over all rows) ->
 * attention per sequence (optionally causal) -> out_proj + residual -> ln_2 -> MLP + residual.
 * Sequences are described as groups of equal length, rows stored consecutively.
 * Does not: allocate (the caller's arena provides the scratch), embed, pool or project.
 * Reference: shared/spec/clip.md §2.1; open_clip transformer.py ResidualAttentionBlock.
 *
 *     ClipSeqGroup g = {196, 5};                       // 196 windows of 5 tokens
 *     ClipBlockScratch s = {h, qkv, mlp, att, att_len};
 *     clip_block_forward(&model.visual.blocks[l], x, &g, 1, W, NH, CLIP_BLOCK_DEFAULT, NULL, &s);
 */
#ifndef WINCLIP_CLIP_BLOCK_H
#define WINCLIP_CLIP_BLOCK_H

#include "clip/clip_model.h"
#include "clip/ops.h" /* ClipSeqGroup */

/* Legend: C width, NH heads, rows = sum over groups of count * len. */

/* Scratch for `rows` rows: h (rows, C), qkv (rows, 3C), mlp (rows, 4C), att of att_len floats
 * (ops_attention_scratch(longest len, C, NH)). */
typedef struct {
    float *h, *qkv, *mlp, *att;
    size_t att_len;
} ClipBlockScratch;

/* Total rows of the groups. */
int clip_seq_rows(const ClipSeqGroup *g, int ng);

/* x (rows, C) += MLP(ln_2(x)): c_fc, activation (quick_gelu: QuickGELU, else exact GELU), c_proj. */
void clip_block_mlp(const ClipBlock *b, float *x, int rows, int C, int quick_gelu, const ClipBlockScratch *s);

/* Options of clip_block_forward, OR-ed together. */
typedef enum {
    CLIP_BLOCK_DEFAULT = 0,        /* exact GELU, full attention, qkv computed here        */
    CLIP_BLOCK_QUICK_GELU = 1 << 0, /* MLP activation x * sigmoid(1.702 x)                  */
    CLIP_BLOCK_CAUSAL = 1 << 1,    /* mask later keys (text tower)                          */
    CLIP_BLOCK_QKV_READY = 1 << 2, /* s->qkv already holds ln_1(x) @ in_proj^T + b (caller)  */
    CLIP_BLOCK_LN1_READY = 1 << 3, /* s->h already holds ln_1(x) (the previous block's next) */
} ClipBlockOptions;

/* One block in place on x (rows, C); options: ClipBlockOptions flags. next: the block that
 * follows on the same rows, or NULL: its ln_1 is computed into s->h in the pass that adds
 * c_proj's bias (one trip over the rows, not two), and its call then passes
 * CLIP_BLOCK_LN1_READY. The qkv bias is added in the attention pass. Same results as the
 * separate steps. */
void clip_block_forward(const ClipBlock *b, float *x, const ClipSeqGroup *g, int ng, int C, int NH,
                        unsigned options, const ClipBlock *next, const ClipBlockScratch *s);

/* clip_block_forward over causal sequences sharing their prefixes (ops.h OpsPrefixSeqs): x
 * (rows, C) holds each distinct prefix once, rows = the number of shared rows; options must
 * include CLIP_BLOCK_CAUSAL; s->att_len as ops_attention_prefix_scratch. Each row gets what
 * the block computes for it in any sequence it is in (the text tower's prompts of one
 * template run their common words once). */
void clip_block_forward_prefix(const ClipBlock *b, float *x, const OpsPrefixSeqs *p, int rows, int C, int NH,
                               unsigned options, const ClipBlock *next, const ClipBlockScratch *s);

#endif
