/*
 * overlay.c - heat-map overlay PNG of one scored image (see overlay.h).
 *
 * Reference: shared/spec/winclip.md §7 (the output map covers the pre-processed image, so the
 * base image follows the settings' geometry); the drawing is plot.c's plot_overlay.
 */
#include <stdlib.h>

#include "harness/overlay.h"
#include "clip/image.h"
#include "harness/plot.h"

int overlay_base_image(const Pipeline *p, const char *image_path, int w, int h, uint8_t *rgb_out, Error *err)
{
    Image img = {0};
    if (image_load(&img, image_path, err) != 0) return err->code;
    int rc = 0;
    if (p->settings.geometry == GEOMETRY_SQUASH) {
        image_resize_pil_bicubic(img.rgb, img.width, img.height, 3, rgb_out, w, h);
    } else {
        int s = p->image_size;
        uint8_t *crop = xmalloc((size_t)s * s * 3);
        rc = image_resize_crop_u8(&img, s, (Geometry)p->settings.geometry, crop, err);
        if (rc == 0) image_resize_pil_bicubic(crop, s, s, 3, rgb_out, w, h);
        free(crop);
    }
    image_free(&img);
    return rc;
}

int overlay_write(const Pipeline *p, const char *image_path, const float *map, const uint8_t *mask, int w, int h,
                  float lo, float hi, const char *png_path, Error *err)
{
    uint8_t *rgb = xmalloc((size_t)w * (size_t)h * 3);
    int rc = overlay_base_image(p, image_path, w, h, rgb, err);
    if (rc == 0) rc = plot_overlay(png_path, rgb, map, mask, w, h, lo, hi, err);
    free(rgb);
    return rc;
}
