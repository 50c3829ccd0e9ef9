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

/* ln_1 (unless LN1_READY) and the qkv product without its bias (unless QKV_READY); 1 when the
 * bias is still to be added (by the attention pass). */
static int qkv_of(const ClipBlock *b, const float *x, int rows, int C, unsigned options, const ClipBlockScratch *s)
{
    if (options & CLIP_BLOCK_QKV_READY) return 0;
    if (!(options & CLIP_BLOCK_LN1_READY)) ops_layernorm(s->h, x, b->ln_1_w, b->ln_1_b, rows, C);
    ops_linear(s->qkv, s->h, b->in_proj_w, NULL, rows, C, 3 * C); /* its bias: in the attention pass */
    return 1;
}

/* After the attention (s->h): out_proj + residual, its bias and ln_2 in one pass over the rows
 * (one trip through OpenMP, not two), the MLP. */
static void after_attention(const ClipBlock *b, float *x, int rows, int C, unsigned options, const ClipBlock *next,
                            const ClipBlockScratch *s)
{
    ops_linear_residual(x, s->h, b->out_proj_w, NULL, rows, C, C);
    ops_bias_add_layernorm(s->h, x, b->out_proj_b, b->ln_2_w, b->ln_2_b, rows, C);
    mlp_of_normed(b, x, rows, C, (options & CLIP_BLOCK_QUICK_GELU) != 0, next, s);
}

void clip_block_forward(const ClipBlock *b, float *x, const ClipSeqGroup *g, int ng, int C, int NH,
                        unsigned options, const ClipBlock *next, const ClipBlockScratch *s)
{
    const int rows = clip_seq_rows(g, ng);
    const int bias_here = qkv_of(b, x, rows, C, options, s);
    ops_attention_groups(s->h, s->qkv, bias_here ? b->in_proj_b : NULL, s->att, s->att_len, g, ng, C, NH,
                         (options & CLIP_BLOCK_CAUSAL) != 0);
    after_attention(b, x, rows, C, options, next, s);
}

void clip_block_forward_prefix(const ClipBlock *b, float *x, const OpsPrefixSeqs *p, int rows, int C, int NH,
                               unsigned options, const ClipBlock *next, const ClipBlockScratch *s)
{
    CHECK(options & CLIP_BLOCK_CAUSAL);
    const int bias_here = qkv_of(b, x, rows, C, options, s);
    ops_attention_prefix(s->h, s->qkv, bias_here ? b->in_proj_b : NULL, s->att, s->att_len, p, C, NH);
    after_attention(b, x, rows, C, options, next, s);
}
