/*
 * imghdr.c - the size an image file declares, read from its header alone (stb_image's stbi_info)
 * and bounded before anything is decoded: a tiny file may declare a huge or an empty image.
 *
 * PNG files also have every chunk's declared length checked against the bytes that remain:
 * stb_image allocates an IDAT chunk's declared length before reading it (a 65-byte file found
 * by fuzz_image declared 1.29 GB).
 * Reference: issue 9 faults 2 and 3; stb_image 2.x stbi_info; PNG 1.2 §3.2 (chunk layout).
 */
#include "util/imghdr.h"

#include <stdio.h>
#include <string.h>

#include <stb_image.h>

static uint32_t be32(const unsigned char *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | (uint32_t)b[3];
}

/* For a PNG (else nothing): each chunk (length, type, data, CRC) must fit in the file, up to IEND
 * or the end of the file (a truncated stream is stb's to report). Seeks only. */
static int png_chunks_check(const char *what, const char *path, FILE *fp, Error *err)
{
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    unsigned char b[8];
    if (fread(b, 1, 8, fp) != 8 || memcmp(b, sig, 8) != 0) return 0;
    if (fseek(fp, 0, SEEK_END) != 0) return err_setf(err, ERR_IO, "%s: cannot seek in %s", what, path);
    const long size = ftell(fp);
    long pos = 8;
    while (size - pos >= 8) {
        if (fseek(fp, pos, SEEK_SET) != 0 || fread(b, 1, 8, fp) != 8)
            return err_setf(err, ERR_IO, "%s: cannot read %s at offset %ld", what, path, pos);
        const uint32_t len = be32(b);
        for (int i = 4; i < 8; i++)
            if (!((b[i] >= 'A' && b[i] <= 'Z') || (b[i] >= 'a' && b[i] <= 'z'))) b[i] = '?';
        if (len > 0x7fffffffu || (long)len > size - pos - 12)
            return err_setf(err, ERR_FORMAT,
                            "%s: %s cannot be decoded: PNG chunk '%.4s' at offset %ld declares %lu data bytes; "
                            "only %ld remain in the file (truncated or corrupt)",
                            what, path, (const char *)b + 4, pos, (unsigned long)len, size - pos - 12 > 0 ? size - pos - 12 : 0L);
        if (memcmp(b + 4, "IEND", 4) == 0) break;
        pos += 12 + (long)len;
    }
    return 0;
}

int imghdr_check(const char *what, const char *path, int *width, int *height, Error *err)
{
    int w = 0, h = 0, c = 0;
    FILE *fp = fopen(path, "rb");
    if (!fp) return err_setf(err, ERR_IO, "%s: cannot open %s", what, path);
    const int rc = png_chunks_check(what, path, fp, err);
    fclose(fp);
    if (rc) return rc;
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
