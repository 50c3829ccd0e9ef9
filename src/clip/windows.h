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
 */
#ifndef WINCLIP_WINDOWS_H
#define WINCLIP_WINDOWS_H

/* Windows per side, (grid - k) / stride + 1, or 0 if k > grid. */
int windows_per_side(int grid, int k, int stride);
/* Total windows: windows_per_side^2. */
int windows_count(int grid, int k, int stride);
/* index (n_windows, k*k): patch indices (0-based, no CLS offset) of every window. */
void windows_patch_index(int grid, int k, int stride, int *index);
/* coverage (grid*grid): number of windows containing each patch. */
void windows_coverage(int grid, int k, int stride, int *coverage);

#endif
