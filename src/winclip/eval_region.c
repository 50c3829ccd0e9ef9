/*
 * eval_region.c - the pixels an anomaly map covers and the mask cut to them (see eval_region.h).
 *
 * Reference: shared/spec/metrics.md §2 (Pillow NEAREST mask resize); torchvision Resize +
 * CenterCrop for the crop box (clip/image.c image_crop_box).
 */
#include <stdlib.h>
#include <string.h>

#include "winclip/eval_region.h"
#include "clip/image.h"

void eval_region_compute(EvalRegion *r, const WinclipSettings *s, int input_size, int image_w, int image_h)
{
    r->image_w = image_w;
    r->image_h = image_h;
    image_crop_box(image_w, image_h, input_size, (Geometry)s->geometry, &r->x0, &r->y0, &r->w, &r->h);
    winclip_settings_output_dims(s, r->w, r->h, &r->out_h, &r->out_w);
}

int eval_region_mask(const EvalRegion *r, const char *mask_path, uint8_t *out, Error *err)
{
    size_t n = (size_t)r->out_h * (size_t)r->out_w;
    if (!mask_path) {
        memset(out, 0, n);
        return 0;
    }
    Mask m = {0};
    if (image_mask_load(&m, mask_path, err) != 0) return err->code;
    int whole = r->x0 == 0 && r->y0 == 0 && r->w == r->image_w && r->h == r->image_h;
    int rc = 0;
    if (whole) { /* squash (or a crop that keeps everything): the whole mask, any size */
        if (m.width == r->out_w && m.height == r->out_h) memcpy(out, m.data, n);
        else image_mask_resize_nearest(m.data, m.width, m.height, out, r->out_w, r->out_h);
    } else if (m.width != r->image_w || m.height != r->image_h) {
        rc = err_setf(err, ERR_SHAPE, "%s: mask is %dx%d, expected the image's %dx%d (geometry = shortest-crop cuts "
                                      "the mask like the image)",
                      mask_path, m.width, m.height, r->image_w, r->image_h);
    } else {
        uint8_t *box = xmalloc((size_t)r->w * (size_t)r->h);
        for (int y = 0; y < r->h; y++)
            memcpy(box + (size_t)y * r->w, m.data + (size_t)(r->y0 + y) * m.width + r->x0, (size_t)r->w);
        if (r->w == r->out_w && r->h == r->out_h) memcpy(out, box, n);
        else image_mask_resize_nearest(box, r->w, r->h, out, r->out_w, r->out_h);
        free(box);
    }
    image_mask_free(&m);
    return rc;
}
