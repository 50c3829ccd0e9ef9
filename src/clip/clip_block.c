/*
 * clip_block.c - the pre-LN residual attention block shared by the image and text towers.
 *
 * Reference: shared/spec/clip.md §2.1; open_clip transformer.py ResidualAttentionBlock.
 */
#include "clip/clip_block.h"

#include "clip/ops.h"

int clip_seq_rows(const ClipSeqGroup *g, int ng)
{
    int rows = 0;
    for (int i = 0; i < ng; i++) rows += g[i].count * g[i].len;
    return rows;
}

/* x (rows, C) += MLP of s->h, which already holds ln_2(x); with next, c_proj's bias and next's
 * ln_1 (into s->h) in one pass over the rows. */
static void mlp_of_normed(const ClipBlock *b, float *x, int rows, int C, int quick_gelu, const ClipBlock *next,
                          const ClipBlockScratch *s)
{
    ops_linear(s->mlp, s->h, b->c_fc_w, NULL, rows, C, 4 * C);
    ops_bias_act(s->mlp, b->c_fc_b, (size_t)rows, 4 * C, quick_gelu);
    if (next) {
        ops_linear_residual(x, s->mlp, b->c_proj_w, NULL, rows, 4 * C, C);
        ops_bias_add_layernorm(s->h, x, b->c_proj_b, next->ln_1_w, next->ln_1_b, rows, C);
    } else {
        ops_linear_residual(x, s->mlp, b->c_proj_w, b->c_proj_b, rows, 4 * C, C);
    }
}

void clip_block_mlp(const ClipBlock *b, float *x, int rows, int C, int quick_gelu, const ClipBlockScratch *s)
{
    ops_layernorm(s->h, x, b->ln_2_w, b->ln_2_b, rows, C);
    mlp_of_normed(b, x, rows, C, quick_gelu, NULL, s);
}

void clip_block_forward(const ClipBlock *b, float *x, const ClipSeqGroup *g, int ng, int C, int NH,
                        unsigned options, const ClipBlock *next, const ClipBlockScratch *s)
{
    const int rows = clip_seq_rows(g, ng);
    const int quick_gelu = (options & CLIP_BLOCK_QUICK_GELU) != 0;
    const int causal = (options & CLIP_BLOCK_CAUSAL) != 0;
    const int qkv_here = !(options & CLIP_BLOCK_QKV_READY);
    if (qkv_here) {
        if (!(options & CLIP_BLOCK_LN1_READY)) ops_layernorm(s->h, x, b->ln_1_w, b->ln_1_b, rows, C);
        ops_linear(s->qkv, s->h, b->in_proj_w, NULL, rows, C, 3 * C); /* its bias: in the attention pass */
    }
    ops_attention_groups(s->h, s->qkv, qkv_here ? b->in_proj_b : NULL, s->att, s->att_len, g, ng, C, NH, causal);
    /* out_proj's bias and ln_2 in one pass over the rows (one trip through OpenMP, not two) */
    ops_linear_residual(x, s->h, b->out_proj_w, NULL, rows, C, C);
    ops_bias_add_layernorm(s->h, x, b->out_proj_b, b->ln_2_w, b->ln_2_b, rows, C);
    mlp_of_normed(b, x, rows, C, quick_gelu, next, s);
}
