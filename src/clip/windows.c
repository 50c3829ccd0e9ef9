/*
 * windows.c - window index tables and the window geometry for WinCLIP (see windows.h).
 * Reference: shared/spec/winclip.md §4.
 */
#include "clip/windows.h"

#include <stdio.h>
#include <string.h>

int window_geometry_init(WindowGeometry *g, int grid, int width, int embed_dim, const int *scales,
                         int n_scales, int stride, Error *err)
{
    memset(g, 0, sizeof *g);
    if (n_scales < 0 || n_scales > WINDOW_MAX_SCALES)
        return err_setf(err, ERR_USAGE, "window scales: expected 0..%d scales, found %d",
                        WINDOW_MAX_SCALES, n_scales);
    if (n_scales > 0 && stride < 1)
        return err_setf(err, ERR_USAGE, "window stride: expected >= 1, found %d", stride);
    for (int s = 0; s < n_scales; s++)
        if (scales[s] < 1 || scales[s] > grid)
            return err_setf(err, ERR_USAGE, "window scale k = %d: expected 1..%d (the patch grid)",
                            scales[s], grid);
    g->grid = grid;
    g->width = width;
    g->embed_dim = embed_dim;
    g->n_scales = n_scales;
    for (int s = 0; s < n_scales; s++) g->scales[s] = scales[s];
    g->stride = stride;
    return 0;
}

int window_geometry_equal(const WindowGeometry *a, const WindowGeometry *b)
{
    if (a->grid != b->grid || a->width != b->width || a->embed_dim != b->embed_dim ||
        a->n_scales != b->n_scales || a->stride != b->stride)
        return 0;
    for (int s = 0; s < a->n_scales; s++)
        if (a->scales[s] != b->scales[s]) return 0;
    return 1;
}

int window_geometry_scale(const WindowGeometry *g, int k)
{
    for (int s = 0; s < g->n_scales && s < WINDOW_MAX_SCALES; s++)
        if (g->scales[s] == k) return s;
    return -1;
}

int window_geometry_count(const WindowGeometry *g, int s)
{
    return windows_count(g->grid, g->scales[s], g->stride);
}

void window_geometry_string(const WindowGeometry *g, char *buf, size_t cap)
{
    int n = snprintf(buf, cap, "grid=%d;width=%d;embed_dim=%d;scales=", g->grid, g->width,
                     g->embed_dim);
    for (int i = 0; i < g->n_scales && n > 0 && (size_t)n < cap; i++)
        n += snprintf(buf + n, cap - (size_t)n, i ? ",%d" : "%d", g->scales[i]);
    if (n > 0 && (size_t)n < cap) snprintf(buf + n, cap - (size_t)n, ";stride=%d", g->stride);
}

int windows_per_side(int grid, int k, int stride)
{
    CHECK(grid > 0 && k > 0 && stride > 0);
    return k > grid ? 0 : (grid - k) / stride + 1;
}

int windows_count(int grid, int k, int stride)
{
    int n = windows_per_side(grid, k, stride);
    return n * n;
}

void windows_patch_index(int grid, int k, int stride, int *index)
{
    int n = windows_per_side(grid, k, stride);
    for (int r = 0; r < n; r++)
        for (int c = 0; c < n; c++) {
            int *row = index + (size_t)(r * n + c) * (size_t)(k * k);
            for (int u = 0; u < k; u++)
                for (int v = 0; v < k; v++) row[u * k + v] = (r * stride + u) * grid + (c * stride + v);
        }
}

void windows_coverage(int grid, int k, int stride, int *coverage)
{
    int n = windows_per_side(grid, k, stride);
    for (int i = 0; i < grid * grid; i++) coverage[i] = 0;
    for (int r = 0; r < n; r++)
        for (int c = 0; c < n; c++)
            for (int u = 0; u < k; u++)
                for (int v = 0; v < k; v++) coverage[(r * stride + u) * grid + (c * stride + v)]++;
}
