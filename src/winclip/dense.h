/*
 * dense.h - the dense-feature ablations of WinCLIP's zero-shot map and the MaskCLIP baseline
 * (winclip.md §14): what takes the place of the window embeddings for `dense` != windows.
 *
 * Does: dense = patch_tokens: each last-layer patch token through ln_post and the projection
 * (G*G, E), scored by winclip.c like a window embedding, one score per patch (no aggregation);
 * dense = maskclip: MaskCLIP tokens (clip/clip_maskclip.h), scored the same way;
 * dense = tiling: each k x k window's pixel square cropped from the pre-processed image, resized
 * to the input size and encoded as a whole image: its image embedding replaces the window
 * embedding F_k[w], so scores, aggregation and fusion are exactly the windows'. Tiling costs one
 * full pass per window (365 per image at G = 15, k = 2, 3), so `winclip run` scores it on a fixed
 * subset of the test images (dense_subset_index, setting tiling_subset).
 * Does not: score (winclip.c), load images (pipeline.c), cache: dense features bypass the feature
 * cache (they are recomputed for every image; the cached windows / tokens are untouched).
 * Reference: shared/spec/winclip.md §14 (definitions; ours where the paper is silent: the crop is
 * resized bilinearly, align_corners = False, on the normalised pixels).
 *
 *     if (dense_apply(&settings, &vision, pixels, &features, &err)) goto fail;
 *     winclip_score(&maps, &sc, &settings, &text, tau, &features, NULL, 240, 240, &err);
 */
#ifndef WINCLIP_DENSE_H
#define WINCLIP_DENSE_H

#include "util/base.h"
#include "clip/clip_vision.h"
#include "winclip/settings.h"

/* Pixel square of window w (windows.h order) of scale k, stride (patches), on a grid of `grid`
 * patches of `patch` pixels: top-left (*y0, *x0) and side *side = k * patch. */
void dense_tile_rect(int w, int grid, int k, int stride, int patch, int *y0, int *x0, int *side);

/* out (3, S, S) = the square (y0, x0, side) of pixels (3, S, S) resized to S x S, bilinear with
 * align_corners = False (src = (d + 0.5) * side / S - 0.5, clamped to the square). */
void dense_crop_resize(float *out, const float *pixels, int S, int y0, int x0, int side);

/* out (n, E) = tokens (n, W) @ proj (W, E): patch tokens after ln_post -> the embedding space. */
void dense_project_tokens(float *out, const float *tokens, const float *proj, int n, int W, int E);

/* Fill what s->dense needs into f (features of the same image, geometry of v):
 * patch_tokens: f->dense_tokens from f->tokens_ln_post; maskclip: f->dense_tokens from pixels;
 * tiling: f->windows[s] (every scale of v) re-encoded from the crops of pixels; windows: nothing.
 * pixels (3, S, S) pre-processed: needed for tiling and maskclip (NULL allowed otherwise).
 * Returns 0, ERR_USAGE (pixels missing) or the encoder's error. */
int dense_apply(const WinclipSettings *s, ClipVision *v, const float *pixels, ClipImageFeatures *f,
                Error *err);

/* 1 when s->dense needs the pre-processed pixels of the image (tiling, maskclip). */
int dense_needs_pixels(const WinclipSettings *s);

/* Index of the i-th of n_subset images picked from n_total (0 <= i < n_subset <= n_total):
 * floor(i * n_total / n_subset), evenly spaced over the sorted test list, starting at 0. */
size_t dense_subset_index(size_t i, size_t n_total, size_t n_subset);

#endif
