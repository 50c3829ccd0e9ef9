/*
 * overlay.h - heat-map overlay PNG of one scored image: the image as the map sees it, the map
 * in colour over it, an optional ground-truth contour and a colour bar (plot_overlay draws it).
 *
 * One overlay writer for `winclip run` (unit overlays) and `winclip score --png-dir`.
 * Reference: shared/spec/winclip.md §7 (output map covers the pre-processed image).
 */
#ifndef WINCLIP_HARNESS_OVERLAY_H
#define WINCLIP_HARNESS_OVERLAY_H

#include <stdint.h>

#include "util/base.h"
#include "winclip/pipeline.h"

/* The image at image_path as the map sees it at (w, h), rgb_out (h, w, 3): squash -> resized;
 * shortest-crop -> the model's crop, resized. */
int overlay_base_image(const Pipeline *p, const char *image_path, int w, int h, uint8_t *rgb_out, Error *err);

/* png_path: map (h, w) over the image, mask (h, w) contour when not NULL, colours over lo..hi. */
int overlay_write(const Pipeline *p, const char *image_path, const float *map, const uint8_t *mask, int w, int h,
                  float lo, float hi, const char *png_path, Error *err);

#endif
