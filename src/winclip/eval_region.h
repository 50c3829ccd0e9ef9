/*
 * eval_region.h - the pixels an anomaly map covers, and the ground truth on those pixels.
 *
 * One rule for `winclip run` (unit_eval.c) and `winclip score` (pipeline.c's map size): the map
 * covers the region of the original image the model's input shows (squash: all of it;
 * shortest-crop: the centre crop mapped back through the resize); its size is eval_size x
 * eval_size, or the region's own size when eval_size = original. The mask is cut to the same
 * region, then resized to the map by Pillow NEAREST.
 * Reference: shared/spec/metrics.md §2 (masks resized nearest-neighbour, Pillow's rule);
 * shared/spec/winclip.md §7 (output map covers the pre-processed image).
 */
#ifndef WINCLIP_WINCLIP_EVAL_REGION_H
#define WINCLIP_WINCLIP_EVAL_REGION_H

#include <stdint.h>

#include "util/base.h"
#include "winclip/settings.h"

typedef struct {
    int image_w, image_h; /* original image size                              */
    int x0, y0, w, h;     /* box of the original image the map covers          */
    int out_w, out_h;     /* map size                                          */
} EvalRegion;

/* Region and map size for an image of image_w x image_h fed at input_size (the model's input
 * side) under the settings' geometry and output_size. */
void eval_region_compute(EvalRegion *r, const WinclipSettings *s, int input_size, int image_w, int image_h);

/* Ground truth on the map's pixels: out (out_h, out_w) 0/1 from the mask at mask_path (NULL:
 * all 0). Squash resizes a mask of any size; shortest-crop needs the mask at the image's size
 * (ERR_SHAPE naming the file otherwise). Returns 0 or the load error. */
int eval_region_mask(const EvalRegion *r, const char *mask_path, uint8_t *out, Error *err);

#endif
