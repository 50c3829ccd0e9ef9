/*
 * dense.c - dense-feature ablations: patch tokens, MaskCLIP tokens, tiling (see dense.h).
 *
 * Does: crop geometry and bilinear crop-resize, projection of patch tokens, the batched full
 * passes of the tiling crops, the evenly spaced test subset.
 * Does not: score, load images, touch the feature cache.
 * Reference: shared/spec/winclip.md §14; §5.3 (the bilinear rule reused for the crop resize).
 */
#include "winclip/dense.h"

#include <stdlib.h>
#include <string.h>

#include "clip/clip_maskclip.h"
#include "clip/ops.h"
#include "clip/windows.h"

void dense_tile_rect(int w, int grid, int k, int stride, int patch, int *y0, int *x0, int *side)
{
    int n = windows_per_side(grid, k, stride);
    int r = w / n, c = w % n;
    *y0 = r * stride * patch;
    *x0 = c * stride * patch;
    *side = k * patch;
}

/* Source pair and weight of output d (of n_out) inside a span of n_in input samples. */
static void src_of(int d, int n_out, int n_in, int *i0, int *i1, double *wt)
{
    double s = ((double)d + 0.5) * ((double)n_in / (double)n_out) - 0.5;
    if (s < 0) s = 0;
    int lo = (int)s;
    if (lo > n_in - 1) lo = n_in - 1;
    *i0 = lo;
    *i1 = lo + 1 < n_in ? lo + 1 : n_in - 1;
    *wt = s - lo;
}

void dense_crop_resize(float *out, const float *pixels, int S, int y0, int x0, int side)
{
    /* the column sources are the same for every row: computed once */
    int *xa = xmalloc((size_t)S * 2 * sizeof *xa), *xb = xa + S;
    double *wx = xmalloc((size_t)S * sizeof *wx);
    for (int x = 0; x < S; x++) src_of(x, S, side, &xa[x], &xb[x], &wx[x]);
    for (int ch = 0; ch < 3; ch++) {
        const float *in = pixels + (size_t)ch * S * S;
        float *dst = out + (size_t)ch * S * S;
        for (int y = 0; y < S; y++) {
            int ya, yb;
            double wy;
            src_of(y, S, side, &ya, &yb, &wy);
            const float *ra = in + (size_t)(y0 + ya) * S + x0, *rb = in + (size_t)(y0 + yb) * S + x0;
            for (int x = 0; x < S; x++) {
                double top = (1 - wx[x]) * ra[xa[x]] + wx[x] * ra[xb[x]];
                double bot = (1 - wx[x]) * rb[xa[x]] + wx[x] * rb[xb[x]];
                dst[(size_t)y * S + x] = (float)((1 - wy) * top + wy * bot);
            }
        }
    }
    free(xa);
    free(wx);
}

void dense_project_tokens(float *out, const float *tokens, const float *proj, int n, int W, int E)
{
    ops_project(out, tokens, W, proj, n, W, E);
}

int dense_needs_pixels(const WinclipSettings *s)
{
    return s->dense == WINCLIP_DENSE_TILING || s->dense == WINCLIP_DENSE_MASKCLIP;
}

size_t dense_subset_index(size_t i, size_t n_total, size_t n_subset)
{
    return n_subset > 0 ? i * n_total / n_subset : i;
}

/* f->windows[s] = image embedding of every crop of scale slot s, in batches of full passes. */
static int tiling_windows(ClipVision *v, const float *pixels, ClipImageFeatures *f, Error *err)
{
    const ClipConfig *cfg = &v->model->cfg;
    const int S = cfg->vision.image_size, P = cfg->vision.patch_size, W = v->geom.width;
    const int T = v->n_tok, E = v->geom.embed_dim;
    int batch = v->max_rows / T;
    if (batch < 1) batch = 1;
    float *crop = xmalloc((size_t)3 * S * S * sizeof *crop);
    float *tokens = xmalloc((size_t)batch * T * W * sizeof *tokens);
    int rc = 0;
    for (int s = 0; s < v->geom.n_scales && rc == 0; s++) {
        const int k = v->geom.scales[s], n = f->n_windows[s];
        for (int w0 = 0; w0 < n && rc == 0; w0 += batch) {
            int nb = n - w0 < batch ? n - w0 : batch;
            for (int b = 0; b < nb; b++) {
                int y0, x0, side;
                dense_tile_rect(w0 + b, v->geom.grid, k, v->geom.stride, P, &y0, &x0, &side);
                dense_crop_resize(crop, pixels, S, y0, x0, side);
                clip_vision_embed(v, crop, tokens + (size_t)b * T * W);
            }
            rc = clip_vision_encode_tokens(v, tokens, nb, T, f->windows[s] + (size_t)w0 * E, NULL, err);
        }
    }
    free(crop);
    free(tokens);
    return rc;
}

int dense_apply(const WinclipSettings *s, ClipVision *v, const float *pixels, ClipImageFeatures *f,
                Error *err)
{
    const int GG = v->geom.grid * v->geom.grid, W = v->geom.width, E = v->geom.embed_dim;
    if (s->dense == WINCLIP_DENSE_WINDOWS) return 0;
    if (dense_needs_pixels(s) && pixels == NULL)
        return err_setf(err, ERR_USAGE, "dense = %s needs the pre-processed image",
                        winclip_settings_dense_name(s->dense));
    if (s->dense == WINCLIP_DENSE_TILING) return tiling_windows(v, pixels, f, err);
    free(f->dense_tokens);
    f->dense_tokens = xmalloc((size_t)GG * E * sizeof *f->dense_tokens);
    if (s->dense == WINCLIP_DENSE_PATCH_TOKENS) {
        dense_project_tokens(f->dense_tokens, f->tokens_ln_post, v->model->visual.proj, GG, W, E);
        return 0;
    }
    return clip_vision_maskclip(v, pixels, f->dense_tokens, err);
}
