/*
 * imghdr.h - check the size an image file declares before decoding it.
 *
 *     int w, h;
 *     if (imghdr_check("image", path, &w, &h, &err)) return err.code;   // then decode
 *
 * Used by clip/image.c (image_load, image_mask_load) and data/dataset.c (validation reads only
 * headers). Reference: issue 9 faults 2 and 3.
 */
#ifndef WINCLIP_IMGHDR_H
#define WINCLIP_IMGHDR_H

#include <stdint.h>

#include "util/base.h"

/* At most IMGHDR_MAX_SIDE px a side and IMGHDR_MAX_PIXELS pixels (64 Mpx: 192 MiB decoded as RGB,
 * e.g. 8192 x 8192 or a 16384 x 4096 line-scan image; the resize then only computes the crop's
 * window, clip/image.h). A tiny file declaring more is refused before any decoding. */
#define IMGHDR_MAX_SIDE 16384
#define IMGHDR_MAX_PIXELS ((int64_t)1 << 26)

/* Reads only the header of path: readable, a known format, 1 <= width, height <= IMGHDR_MAX_SIDE,
 * width * height <= IMGHDR_MAX_PIXELS; else ERR_IO / ERR_FORMAT naming what ("image", "mask"),
 * the file and the size found. width/height may be NULL. */
int imghdr_check(const char *what, const char *path, int *width, int *height, Error *err);

/* imghdr_check, then a full decode of the pixels (stbi_load, 8 or 16 bits, any channel count),
 * freed at once: a truncated or corrupt file is found here. ERR_FORMAT naming what and the file. */
int imghdr_decode(const char *what, const char *path, Error *err);

#endif
