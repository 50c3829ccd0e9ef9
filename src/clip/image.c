/*
 * image.c - image/mask decoding (stb_image), Pillow and torch bicubic resizes, CLIP preprocessing.
 *
 * Does: what image.h promises. The Pillow path reproduces Resample.c's arithmetic (double
 * coefficients, 22-bit fixed point, uint8 intermediate); the torch path reproduces
 * UpSampleKernel.cpp's float32 weights (with its float/double promotions) and float sums.
 * Does not: composite alpha or colour-manage (16-bit images are reduced to 8 bits, v >> 8, by stb).
 * Reference: shared/spec/clip.md §4.2-4.4; Pillow 9.4 Resample.c / Geometry.c; PyTorch 1.13
 * UpSampleKernel.cpp (_compute_weights_aa, aa_filter); torchvision 0.14 functional.py.
 */
#include "clip/image.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stb_image.h>

#include "util/imghdr.h"

const float IMAGE_CLIP_MEAN[3] = {0.48145466f, 0.4578275f, 0.40821073f};
const float IMAGE_CLIP_STD[3] = {0.26862954f, 0.26130258f, 0.27577711f};

/* ---- decoding ---- */

int image_load(Image *img, const char *path, Error *err)
{
    image_free(img);
    if (imghdr_check("image", path, NULL, NULL, err)) return err->code;
    int w, h, n; /* grey, grey+alpha, RGB, RGBA; 8 or 16 bits (stbi_load converts 16 -> 8: v >> 8) */
    uint8_t *px = stbi_load(path, &w, &h, &n, 3);
    if (!px) return err_setf(err, ERR_FORMAT, "image: cannot decode %s: %s", path, stbi_failure_reason());
    size_t bytes = (size_t)w * (size_t)h * 3;
    img->rgb = xmalloc(bytes);
    memcpy(img->rgb, px, bytes);
    stbi_image_free(px);
    img->width = w;
    img->height = h;
    return 0;
}

void image_free(Image *img)
{
    free(img->rgb);
    memset(img, 0, sizeof *img);
}

int image_mask_load(Mask *m, const char *path, Error *err)
{
    image_mask_free(m);
    if (imghdr_check("mask", path, NULL, NULL, err)) return err->code;
    int w, h, n;
    int wide = stbi_is_16_bit(path);
    void *px = wide ? (void *)stbi_load_16(path, &w, &h, &n, 0) : (void *)stbi_load(path, &w, &h, &n, 0);
    if (!px) return err_setf(err, ERR_FORMAT, "mask: cannot decode %s: %s", path, stbi_failure_reason());
    size_t count = (size_t)w * (size_t)h;
    m->data = xmalloc(count);
    for (size_t i = 0; i < count; i++) {
        int on = 0;
        for (int c = 0; c < n; c++)
            on |= wide ? ((const uint16_t *)px)[i * (size_t)n + (size_t)c] != 0
                       : ((const uint8_t *)px)[i * (size_t)n + (size_t)c] != 0;
        m->data[i] = (uint8_t)on;
    }
    stbi_image_free(px);
    m->width = w;
    m->height = h;
    return 0;
}

void image_mask_free(Mask *m)
{
    free(m->data);
    memset(m, 0, sizeof *m);
}

/* ---- Pillow NEAREST ---- */

void image_mask_nearest_index(int in_size, int out_size, int32_t *idx)
{
    double scale = (double)in_size / out_size;
    double xo = scale * 0.5; /* Geometry.c affine: a[2] + a[1]*0.5 + a[0]*0.5 with a[1] = a[2] = 0 */
    for (int i = 0; i < out_size; i++) {
        int v = xo < 0.0 ? -1 : (int)xo;
        idx[i] = v < 0 ? 0 : (v >= in_size ? in_size - 1 : v);
        xo += scale;
    }
}

void image_mask_resize_nearest(const uint8_t *in, int iw, int ih, uint8_t *out, int ow, int oh)
{
    if (iw == ow && ih == oh) { /* Pillow copies when the size is unchanged */
        memcpy(out, in, (size_t)iw * (size_t)ih);
        return;
    }
    int32_t *xi = xmalloc((size_t)ow * sizeof *xi), *yi = xmalloc((size_t)oh * sizeof *yi);
    image_mask_nearest_index(iw, ow, xi);
    image_mask_nearest_index(ih, oh, yi);
    for (int y = 0; y < oh; y++)
        for (int x = 0; x < ow; x++) out[(size_t)y * ow + x] = in[(size_t)yi[y] * iw + xi[x]];
    free(xi);
    free(yi);
}

/* ---- Pillow BICUBIC (8 bpc) ---- */

#define PIL_PRECISION_BITS 22

static double pil_bicubic(double x)
{
    const double a = -0.5;
    if (x < 0.0) x = -x;
    if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
    if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
    return 0.0;
}

/* Pillow precompute_coeffs + normalize_coeffs_8bpc for one axis. bounds (2*out): xmin, taps;
 * kk (out*ksize) fixed-point weights. Returns ksize; the caller frees *bounds and *kk. */
static int pil_coeffs(int in_size, int out_size, int **bounds_out, int32_t **kk_out)
{
    double scale = (double)in_size / out_size;
    double filterscale = scale < 1.0 ? 1.0 : scale;
    double support = 2.0 * filterscale;
    int ksize = (int)ceil(support) * 2 + 1;
    double *pre = xmalloc((size_t)out_size * (size_t)ksize * sizeof *pre);
    int *bounds = xmalloc((size_t)out_size * 2 * sizeof *bounds);
    int32_t *kk = xmalloc((size_t)out_size * (size_t)ksize * sizeof *kk);
    double ss = 1.0 / filterscale;
    for (int xx = 0; xx < out_size; xx++) {
        double center = (xx + 0.5) * scale;
        double ww = 0.0;
        int xmin = (int)(center - support + 0.5);
        if (xmin < 0) xmin = 0;
        int xmax = (int)(center + support + 0.5);
        if (xmax > in_size) xmax = in_size;
        xmax -= xmin;
        double *k = pre + (size_t)xx * ksize;
        int x;
        for (x = 0; x < xmax; x++) {
            double w = pil_bicubic((x + xmin - center + 0.5) * ss);
            k[x] = w;
            ww += w;
        }
        for (x = 0; x < xmax; x++)
            if (ww != 0.0) k[x] /= ww;
        for (; x < ksize; x++) k[x] = 0;
        bounds[xx * 2] = xmin;
        bounds[xx * 2 + 1] = xmax;
    }
    for (size_t i = 0; i < (size_t)out_size * (size_t)ksize; i++)
        kk[i] = pre[i] < 0 ? (int32_t)(-0.5 + pre[i] * (1 << PIL_PRECISION_BITS))
                           : (int32_t)(0.5 + pre[i] * (1 << PIL_PRECISION_BITS));
    free(pre);
    *bounds_out = bounds;
    *kk_out = kk;
    return ksize;
}

static uint8_t pil_clip8(int32_t ss)
{
    if (ss >= (1 << PIL_PRECISION_BITS << 8)) return 255;
    if (ss <= 0) return 0;
    return (uint8_t)(ss >> PIL_PRECISION_BITS);
}

void image_resize_pil_bicubic(const uint8_t *in, int iw, int ih, int channels, uint8_t *out, int ow, int oh)
{
    CHECK(iw > 0 && ih > 0 && ow > 0 && oh > 0 && channels > 0);
    const int C = channels;
    int need_h = ow != iw, need_v = oh != ih;
    if (!need_h && !need_v) {
        memcpy(out, in, (size_t)iw * (size_t)ih * (size_t)C);
        return;
    }
    int *bh = NULL, *bv = NULL;
    int32_t *kh = NULL, *kv = NULL;
    int ksh = pil_coeffs(iw, ow, &bh, &kh);
    int ksv = pil_coeffs(ih, oh, &bv, &kv);
    int yfirst = bv[0], ylast = bv[2 * (oh - 1)] + bv[2 * (oh - 1) + 1];
    const uint8_t *src = in; /* (rows, sw, C) input of the vertical pass */
    int sw = iw, row0 = 0;   /* row0: source row of src's first row */
    uint8_t *tmp = NULL;
    if (need_h) {
        int rows = ylast - yfirst;
        uint8_t *dst = need_v ? (tmp = xmalloc((size_t)ow * (size_t)rows * (size_t)C)) : out;
        for (int y = 0; y < rows; y++) {
            const uint8_t *line = in + (size_t)(y + yfirst) * iw * C;
            uint8_t *o = dst + (size_t)y * ow * C;
            for (int xx = 0; xx < ow; xx++) {
                int xmin = bh[2 * xx], xmax = bh[2 * xx + 1];
                const int32_t *k = kh + (size_t)xx * ksh;
                for (int c = 0; c < C; c++) {
                    int32_t ss = 1 << (PIL_PRECISION_BITS - 1);
                    for (int x = 0; x < xmax; x++) ss += (int32_t)line[(size_t)(x + xmin) * C + c] * k[x];
                    o[(size_t)xx * C + c] = pil_clip8(ss);
                }
            }
        }
        src = dst;
        sw = ow;
        row0 = yfirst;
    }
    if (need_v) {
        for (int yy = 0; yy < oh; yy++) {
            int ymin = bv[2 * yy] - row0, ymax = bv[2 * yy + 1];
            const int32_t *k = kv + (size_t)yy * ksv;
            uint8_t *o = out + (size_t)yy * sw * C;
            for (int xc = 0; xc < sw * C; xc++) {
                int32_t ss = 1 << (PIL_PRECISION_BITS - 1);
                for (int y = 0; y < ymax; y++) ss += (int32_t)src[(size_t)(y + ymin) * sw * C + xc] * k[y];
                o[xc] = pil_clip8(ss);
            }
        }
    }
    free(tmp);
    free(bh);
    free(bv);
    free(kh);
    free(kv);
}

/* ---- torch antialiased bicubic (float) ---- */

static float torch_aa_cubic(float x)
{
    const float A = -0.5f;
    if (x < 0.0f) x = -x;
    if (x < 1.0f) return ((A + 2) * x - (A + 3)) * x * x + 1;
    if (x < 2.0f) return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A;
    return 0.0f;
}

/* torch _compute_indices_weights_aa for one axis, float32 weights with torch's promotions.
 * bounds (2*out): xmin, taps; w (out*ksize). Returns ksize; the caller frees both. */
static int torch_coeffs(int in_size, int out_size, int **bounds_out, float **w_out)
{
    float scale = (float)in_size / (float)out_size;
    float support = scale >= 1.0f ? (float)((4 * 0.5) * (double)scale) : (float)(4 * 0.5);
    int ksize = (int)ceil((double)support) * 2 + 1;
    int *bounds = xmalloc((size_t)out_size * 2 * sizeof *bounds);
    float *w = xcalloc((size_t)out_size * (size_t)ksize, sizeof *w);
    for (int i = 0; i < out_size; i++) {
        float center = (float)((double)scale * (i + 0.5));
        float invscale = scale >= 1.0f ? (float)(1.0 / (double)scale) : 1.0f;
        long xmin = (long)((double)(center - support) + 0.5);
        if (xmin < 0) xmin = 0;
        long xend = (long)((double)(center + support) + 0.5);
        if (xend > in_size) xend = in_size;
        long xsize = xend - xmin;
        float total = 0.0f;
        float *k = w + (size_t)i * ksize;
        for (long j = 0; j < xsize; j++) {
            float d = (float)(j + xmin) - center;
            k[j] = torch_aa_cubic((float)(((double)d + 0.5) * (double)invscale));
            total += k[j];
        }
        for (long j = 0; j < xsize; j++)
            if (total != 0.0f) k[j] /= total;
        bounds[2 * i] = (int)xmin;
        bounds[2 * i + 1] = (int)xsize;
    }
    *bounds_out = bounds;
    *w_out = w;
    return ksize;
}

/* out[o * ostride] = sum_j in[(xmin + j) * istride] * w[j], in float, j in order. */
static float aa_dot(const float *in, size_t istride, const float *w, int taps)
{
    float acc = in[0] * w[0];
    for (int j = 1; j < taps; j++) acc += in[(size_t)j * istride] * w[j];
    return acc;
}

void image_resize_torch_aa(const float *in, int iw, int ih, int channels, float *out, int ow, int oh)
{
    CHECK(iw > 0 && ih > 0 && ow > 0 && oh > 0 && channels > 0);
    int need_h = ow != iw, need_v = oh != ih;
    if (!need_h && !need_v) {
        memcpy(out, in, (size_t)iw * (size_t)ih * (size_t)channels * sizeof *out);
        return;
    }
    const float *src = in;
    float *tmp = NULL;
    if (need_h) {
        int *b;
        float *w;
        int ks = torch_coeffs(iw, ow, &b, &w);
        float *dst = need_v ? (tmp = xmalloc((size_t)channels * ih * ow * sizeof *tmp)) : out;
        for (size_t row = 0; row < (size_t)channels * ih; row++)
            for (int x = 0; x < ow; x++)
                dst[row * ow + x] = aa_dot(in + row * iw + b[2 * x], 1, w + (size_t)x * ks, b[2 * x + 1]);
        free(b);
        free(w);
        src = dst;
    }
    if (need_v) {
        int *b;
        float *w;
        int ks = torch_coeffs(ih, oh, &b, &w);
        for (int c = 0; c < channels; c++)
            for (int y = 0; y < oh; y++)
                for (int x = 0; x < ow; x++)
                    out[((size_t)c * oh + y) * ow + x] = aa_dot(src + ((size_t)c * ih + b[2 * y]) * ow + x, (size_t)ow,
                                                               w + (size_t)y * ks, b[2 * y + 1]);
        free(b);
        free(w);
    }
    free(tmp);
}

/* ---- geometry and the full pipeline ---- */

int image_parse_resize(const char *s, ResizeMode *out, Error *err)
{
    if (strcmp(s, "pil-bicubic") == 0) *out = RESIZE_PIL_BICUBIC;
    else if (strcmp(s, "torch-bicubic-aa") == 0) *out = RESIZE_TORCH_BICUBIC_AA;
    else return err_setf(err, ERR_USAGE, "resize: expected pil-bicubic or torch-bicubic-aa, found '%s'", s);
    return 0;
}

int image_parse_geometry(const char *s, Geometry *out, Error *err)
{
    if (strcmp(s, "squash") == 0) *out = GEOMETRY_SQUASH;
    else if (strcmp(s, "shortest-crop") == 0) *out = GEOMETRY_SHORTEST_CROP;
    else return err_setf(err, ERR_USAGE, "geometry: expected squash or shortest-crop, found '%s'", s);
    return 0;
}

const char *image_resize_name(ResizeMode mode) { return mode == RESIZE_PIL_BICUBIC ? "pil-bicubic" : "torch-bicubic-aa"; }

const char *image_geometry_name(Geometry geom) { return geom == GEOMETRY_SQUASH ? "squash" : "shortest-crop"; }

void image_resized_size(int width, int height, int size, Geometry geom, int *out_w, int *out_h)
{
    if (geom == GEOMETRY_SQUASH) {
        *out_w = *out_h = size;
        return;
    }
    int shorter = width < height ? width : height, longer = width < height ? height : width;
    if (shorter == size) { /* torchvision: already the requested short side, no-op */
        *out_w = width;
        *out_h = height;
        return;
    }
    int new_long = (int)((double)size * longer / shorter); /* Python int(S * long / short) */
    *out_w = width <= height ? size : new_long;
    *out_h = width <= height ? new_long : size;
}

/* torchvision center_crop offset: int(round((in - size) / 2.0)), round half to even. */
static int crop_offset(int in_size, int size) { return (int)nearbyint((in_size - size) / 2.0); }

/* One axis of image_crop_box: the crop [off, off + size) of the resized axis (resized) mapped
 * back onto the original axis (orig). */
static void crop_axis(int orig, int resized, int size, int *start, int *len)
{
    int off = crop_offset(resized, size);
    int a = (int)nearbyint((double)off * orig / resized), b = (int)nearbyint((double)(off + size) * orig / resized);
    *start = a;
    *len = b - a;
}

void image_crop_box(int width, int height, int size, Geometry geom, int *x0, int *y0, int *w, int *h)
{
    if (geom == GEOMETRY_SQUASH || width < 1 || height < 1 || size < 1) {
        *x0 = *y0 = 0;
        *w = width;
        *h = height;
        return;
    }
    int rw, rh;
    image_resized_size(width, height, size, geom, &rw, &rh);
    crop_axis(width, rw, size, x0, w);
    crop_axis(height, rh, size, y0, h);
}

int image_resize_crop_u8(const Image *img, int size, Geometry geom, uint8_t *rgb_out, Error *err)
{
    if (size < 1) return err_setf(err, ERR_VALUE, "image: preprocessing size must be >= 1, found %d", size);
    int rw, rh;
    image_resized_size(img->width, img->height, size, geom, &rw, &rh);
    uint8_t *tmp = (rw == size && rh == size) ? rgb_out : xmalloc((size_t)rw * rh * 3);
    image_resize_pil_bicubic(img->rgb, img->width, img->height, 3, tmp, rw, rh);
    if (tmp != rgb_out) {
        int top = crop_offset(rh, size), left = crop_offset(rw, size);
        for (int y = 0; y < size; y++)
            memcpy(rgb_out + (size_t)y * size * 3, tmp + ((size_t)(y + top) * rw + left) * 3, (size_t)size * 3);
        free(tmp);
    }
    return 0;
}

void image_normalize_u8(const uint8_t *rgb, int width, int height, float *out)
{
    size_t hw = (size_t)width * height;
    for (int c = 0; c < 3; c++)
        for (size_t i = 0; i < hw; i++) {
            float v = (float)rgb[i * 3 + c] / 255.0f;
            out[c * hw + i] = (v - IMAGE_CLIP_MEAN[c]) / IMAGE_CLIP_STD[c];
        }
}

int image_preprocess(const Image *img, int size, ResizeMode mode, Geometry geom, float *out, Error *err)
{
    if (size < 1) return err_setf(err, ERR_VALUE, "image: preprocessing size must be >= 1, found %d", size);
    size_t n = (size_t)size * size;
    if (mode == RESIZE_PIL_BICUBIC) {
        uint8_t *rgb = xmalloc(n * 3);
        int rc = image_resize_crop_u8(img, size, geom, rgb, err);
        if (rc == 0) image_normalize_u8(rgb, size, size, out);
        free(rgb);
        return rc;
    }
    if (mode != RESIZE_TORCH_BICUBIC_AA) return err_setf(err, ERR_VALUE, "image: unknown resize mode %d", (int)mode);
    int rw, rh;
    image_resized_size(img->width, img->height, size, geom, &rw, &rh);
    size_t in_hw = (size_t)img->width * img->height;
    float *planar = xmalloc(in_hw * 3 * sizeof *planar);     /* (3, H, W) v/255 */
    float *resized = xmalloc((size_t)rw * rh * 3 * sizeof *resized); /* (3, rh, rw) */
    for (int c = 0; c < 3; c++)
        for (size_t i = 0; i < in_hw; i++) planar[c * in_hw + i] = (float)img->rgb[i * 3 + c] / 255.0f;
    image_resize_torch_aa(planar, img->width, img->height, 3, resized, rw, rh);
    int top = crop_offset(rh, size), left = crop_offset(rw, size);
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < size; y++)
            for (int x = 0; x < size; x++) {
                float v = resized[((size_t)c * rh + y + top) * rw + x + left];
                out[c * n + (size_t)y * size + x] = (v - IMAGE_CLIP_MEAN[c]) / IMAGE_CLIP_STD[c];
            }
    free(planar);
    free(resized);
    return 0;
}
