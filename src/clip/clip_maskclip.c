/*
 * clip_maskclip.c - MaskCLIP dense tokens from the ViT image tower (see clip_maskclip.h).
 *
 * Does: embed -> ln_pre -> blocks 0 .. L-2 (clip_block_forward) -> the last block with the value
 * path only (value projection, output projection, residual, MLP + residual) -> ln_post -> proj.
 * Does not: allocate (the encoder's arena holds every activation), score, cache.
 * Reference: shared/spec/winclip.md §14; clip.md §2.1; MaskCLIP (arXiv 2112.01071) §3.2.
 */
#include "clip/clip_maskclip.h"

#include <string.h>

#include "clip/clip_block.h"
#include "clip/ops.h"

int clip_vision_maskclip(ClipVision *v, const float *pixels, float *tokens, Error *err)
{
    (void)err;
    const ClipVisionWeights *w = &v->model->visual;
    const int W = v->geom.width, L = v->model->cfg.vision.layers, T = v->n_tok, GG = T - 1;
    const int quick = v->model->cfg.quick_gelu;
    const ClipBlockScratch s = {v->h, v->qkv, v->mlp, v->att, v->att_len};
    const ClipSeqGroup g = {1, T};

    clip_vision_embed(v, pixels, v->embed);
    ops_layernorm(v->x, v->embed, w->ln_pre_w, w->ln_pre_b, T, W);
    for (int l = 0; l < L - 1; l++)
        clip_block_forward(&w->blocks[l], v->x, &g, 1, W, v->heads,
                           quick ? CLIP_BLOCK_QUICK_GELU : CLIP_BLOCK_DEFAULT, NULL, &s);
    /* last block, value path: vv (T, W) = ln_1(x) @ Wv^T + bv (rows [2W, 3W) of in_proj) */
    const ClipBlock *b = &w->blocks[L - 1];
    ops_layernorm(v->h, v->x, b->ln_1_w, b->ln_1_b, T, W);
    ops_linear(v->qkv, v->h, b->in_proj_w + (size_t)2 * W * W, b->in_proj_b + (size_t)2 * W, T, W, W);
    ops_linear_residual(v->x, v->qkv, b->out_proj_w, b->out_proj_b, T, W, W); /* x += out_proj(vv) */
    clip_block_mlp(b, v->x, T, W, quick, &s);                                  /* x += MLP(ln_2(x)) */
    ops_layernorm(v->h, v->x, w->ln_post_w, w->ln_post_b, T, W);
    ops_project(tokens, v->h + W, W, w->proj, GG, W, v->geom.embed_dim); /* patch rows 1..GG */
    return 0;
}
