/*
 * imghdr.c - the size an image file declares, read from its header alone (stb_image's stbi_info)
 * and bounded before anything is decoded: a tiny file may declare a huge or an empty image.
 *
 * Reference: issue 9 faults 2 and 3; stb_image 2.x stbi_info.
 */
#include "util/imghdr.h"

#include <stdio.h>

#include <stb_image.h>

int imghdr_check(const char *what, const char *path, int *width, int *height, Error *err)
{
    int w = 0, h = 0, c = 0;
    FILE *fp = fopen(path, "rb");
    if (!fp) return err_setf(err, ERR_IO, "%s: cannot open %s", what, path);
    fclose(fp);
    if (!stbi_info(path, &w, &h, &c)) {
        const char *why = stbi_failure_reason();
        return err_setf(err, ERR_FORMAT, "%s: %s is not a readable PNG/JPEG/BMP/PNM image (%s)", what, path,
                        why ? why : "unknown");
    }
    if (w <= 0 || h <= 0)
        return err_setf(err, ERR_FORMAT, "%s: %s declares a size of %dx%d; expected a width and height of at least 1",
                        what, path, w, h);
    if (w > IMGHDR_MAX_SIDE || h > IMGHDR_MAX_SIDE || (int64_t)w * h > IMGHDR_MAX_PIXELS)
        return err_setf(err, ERR_FORMAT, "%s: %s declares a size of %dx%d; expected at most %d px a side and %lld pixels",
                        what, path, w, h, IMGHDR_MAX_SIDE, (long long)IMGHDR_MAX_PIXELS);
    if (width) *width = w;
    if (height) *height = h;
    return 0;
}

int imghdr_decode(const char *what, const char *path, Error *err)
{
    if (imghdr_check(what, path, NULL, NULL, err)) return err->code;
    int w = 0, h = 0, c = 0;
    unsigned char *px = stbi_load(path, &w, &h, &c, 0);
    if (!px) {
        const char *why = stbi_failure_reason();
        return err_setf(err, ERR_FORMAT, "%s: %s cannot be decoded (%s)", what, path, why ? why : "unknown");
    }
    stbi_image_free(px);
    return 0;
}
