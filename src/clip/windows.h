/*
 * windows.h - WinCLIP's sliding k x k patch windows on the G x G token grid.
 *
 * Window w of scale k and stride s: n = (G - k) / s + 1 windows per side, w = r * n + c,
 * top-left patch (r * s, c * s), its k*k patches listed row-major. For G = 15, s = 1:
 * 196 windows at k = 2, 169 at k = 3. Patch p = row * G + col (add 1 for the CLS slot).
 * Reference: shared/spec/winclip.md §4 (anomalib make_masks / unfold).
 *
 *     int n = windows_count(15, 2, 1);             // 196
 *     int *idx = xmalloc(n * 4 * sizeof *idx);     // (n, k*k)
 *     windows_patch_index(15, 2, 1, idx);          // idx[0..3] = {0, 1, 15, 16}
 *
 * WindowGeometry is the one value that says how an image's features are laid out (patch grid,
 * token width, embedding dim, window scales and stride): the vision tower, its features, the
 * feature cache, the few-shot memories and the scoring inputs all carry it and compare it with
 * window_geometry_equal.
 */
#ifndef WINCLIP_WINDOWS_H
#define WINCLIP_WINDOWS_H

#include "util/base.h"

#define WINDOW_MAX_SCALES 4

typedef struct {
    int grid;                       /* G: patches per side                                  */
    int width;                      /* W: vision width (patch tokens)                       */
    int embed_dim;                  /* E: image and window embeddings                       */
    int n_scales;                   /* window scales, 0..WINDOW_MAX_SCALES (0: image only)  */
    int scales[WINDOW_MAX_SCALES];  /* k values 1..G; slots past n_scales are 0             */
    int stride;                     /* window stride in patches (>= 1)                      */
} WindowGeometry;

/* Fill g (unused scale slots zeroed). Returns 0, or ERR_USAGE naming the bad count, scale
 * (expected 1..grid) or stride (expected >= 1); g is then left zeroed. */
int window_geometry_init(WindowGeometry *g, int grid, int width, int embed_dim, const int *scales,
                         int n_scales, int stride, Error *err);

/* 1 when a and b hold the same geometry (field by field, scales up to n_scales), else 0. */
int window_geometry_equal(const WindowGeometry *a, const WindowGeometry *b);

/* Index of scale k in g, or -1. */
int window_geometry_scale(const WindowGeometry *g, int k);

/* Windows of scale slot s: windows_count(grid, scales[s], stride). */
int window_geometry_count(const WindowGeometry *g, int s);

/* "grid=15;width=896;embed_dim=640;scales=2,3;stride=1" (the feature cache's identity). */
void window_geometry_string(const WindowGeometry *g, char *buf, size_t cap);

/* Windows per side, (grid - k) / stride + 1, or 0 if k > grid. */
int windows_per_side(int grid, int k, int stride);
/* Total windows: windows_per_side^2. */
int windows_count(int grid, int k, int stride);
/* index (n_windows, k*k): patch indices (0-based, no CLS offset) of every window. */
void windows_patch_index(int grid, int k, int stride, int *index);
/* coverage (grid*grid): number of windows containing each patch. */
void windows_coverage(int grid, int k, int stride, int *coverage);

#endif
