/*
 * windows.c - window index tables for WinCLIP (see windows.h).
 */
#include "clip/windows.h"

#include "util/base.h"

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
