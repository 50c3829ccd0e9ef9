/*
 * clip_maskclip.h - MaskCLIP dense tokens (Zhou, Loy, Dai, ECCV 2022, arXiv 2112.01071) from the
 * OpenCLIP ViT image tower: the full image through every block but the last; in the last block
 * each token's attention output is replaced by its own value path (query / key attention
 * skipped, as if every token attended only to itself), then ln_post and the projection.
 *
 * Does: pixels (3, S, S) -> (G*G, E) projected per-patch tokens, in the encoder's arena.
 * Does not: score against text (winclip/dense.c), load or pre-process images, cache anything.
 * Residual handling (our reading of the public code, volgachen/MaskCLIP mmseg/models/backbones/
 * vit.py, both the `attn2ffn` and the `return_qkv` / `skip_last_attn` versions): the residual
 * (+ x) and the MLP with its residual are KEPT in the last block, i.e.
 *     x_L = x + out_proj(v_proj(ln_1(x)));  x_L += MLP(ln_2(x_L));  token = ln_post(x_L) @ proj
 * which equals running the last block on each token as a sequence of length 1 (attention over
 * one key returns its value). Reference: shared/spec/winclip.md §14 (MaskCLIP).
 *
 *     float *tok = xmalloc((size_t)G * G * E * sizeof *tok);
 *     if (clip_vision_maskclip(&vision, pixels, tok, &err)) goto fail;   // (G*G, E)
 */
#ifndef WINCLIP_CLIP_MASKCLIP_H
#define WINCLIP_CLIP_MASKCLIP_H

#include "util/base.h"
#include "clip/clip_vision.h"

/* tokens (G*G, E) = MaskCLIP tokens of pixels (3, S, S), S = v's model image size, rows in
 * patch order (row * G + col). Uses v's activation arena (v's last features are not touched:
 * they live in the caller's ClipImageFeatures). Returns 0. */
int clip_vision_maskclip(ClipVision *v, const float *pixels, float *tokens, Error *err);

#endif
