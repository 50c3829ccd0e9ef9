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

/* Pillow precompute_coeffs + normalize_coeffs_8bpc for the outputs [first, first + count) of
 * one axis resized in_size -> out_size. bounds (2*count): xmin, taps; kk (count*ksize) fixed-point
 * weights. Each output's coefficients depend only on (in_size, out_size, its index), so a window
 * of outputs is bit-identical to the same outputs of the whole axis. Returns ksize; the caller
 * frees *bounds and *kk. */
static int pil_coeffs(int in_size, int out_size, int first, int count, int **bounds_out, int32_t **kk_out)
{
    double scale = (double)in_size / out_size;
    double filterscale = scale < 1.0 ? 1.0 : scale;
    double support = 2.0 * filterscale;
    int ksize = (int)ceil(support) * 2 + 1;
    double *pre = xmalloc((size_t)count * (size_t)ksize * sizeof *pre);
    int *bounds = xmalloc((size_t)count * 2 * sizeof *bounds);
    int32_t *kk = xmalloc((size_t)count * (size_t)ksize * sizeof *kk);
    double ss = 1.0 / filterscale;
    for (int i = 0; i < count; i++) {
        int xx = first + i;
        double center = (xx + 0.5) * scale;
        double ww = 0.0;
        int xmin = (int)(center - support + 0.5);
        if (xmin < 0) xmin = 0;
        int xmax = (int)(center + support + 0.5);
        if (xmax > in_size) xmax = in_size;
        xmax -= xmin;
        double *k = pre + (size_t)i * ksize;
        int x;
        for (x = 0; x < xmax; x++) {
            double w = pil_bicubic((x + xmin - center + 0.5) * ss);
            k[x] = w;
            ww += w;
        }
        for (x = 0; x < xmax; x++)
            if (ww != 0.0) k[x] /= ww;
        for (; x < ksize; x++) k[x] = 0;
        bounds[i * 2] = xmin;
        bounds[i * 2 + 1] = xmax;
    }
    for (size_t i = 0; i < (size_t)count * (size_t)ksize; i++)
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

static int window_ok(int ow, int oh, ResizeWindow win)
{
    return win.w > 0 && win.h > 0 && win.x0 >= 0 && win.y0 >= 0 && win.x0 <= ow - win.w && win.y0 <= oh - win.h;
}

void image_resize_pil_bicubic_window(const uint8_t *in, int iw, int ih, int channels, int ow, int oh,
                                     ResizeWindow win, uint8_t *out)
{
    CHECK(iw > 0 && ih > 0 && ow > 0 && oh > 0 && channels > 0 && window_ok(ow, oh, win));
    const int C = channels;
    const size_t row_out = (size_t)win.w * C;
    int need_h = ow != iw, need_v = oh != ih;
    int *bh = NULL, *bv = NULL;
    int32_t *kh = NULL, *kv = NULL;
    int ksh = need_h ? pil_coeffs(iw, ow, win.x0, win.w, &bh, &kh) : 0;
    int ksv = need_v ? pil_coeffs(ih, oh, win.y0, win.h, &bv, &kv) : 0;
    /* input rows [yfirst, ylast) that the vertical pass reads (bounds are monotone in the output) */
    int yfirst = need_v ? bv[0] : win.y0;
    int ylast = need_v ? bv[2 * (win.h - 1)] + bv[2 * (win.h - 1) + 1] : win.y0 + win.h;
    int rows = ylast - yfirst;
    /* horizontal pass (or the column window) over those rows: (rows, win.w, C), uint8 as Pillow */
    uint8_t *mid = need_v ? xmalloc((size_t)rows * row_out) : out;
    for (int y = 0; y < rows; y++) {
        const uint8_t *line = in + (size_t)(y + yfirst) * iw * C;
        uint8_t *o = mid + (size_t)y * row_out;
        if (!need_h) {
            memcpy(o, line + (size_t)win.x0 * C, row_out);
            continue;
        }
        for (int xx = 0; xx < win.w; xx++) {
            int xmin = bh[2 * xx], xmax = bh[2 * xx + 1];
            const int32_t *k = kh + (size_t)xx * ksh;
            for (int c = 0; c < C; c++) {
                int32_t ss = 1 << (PIL_PRECISION_BITS - 1);
                for (int x = 0; x < xmax; x++) ss += (int32_t)line[(size_t)(x + xmin) * C + c] * k[x];
                o[(size_t)xx * C + c] = pil_clip8(ss);
            }
        }
    }
    if (need_v) {
        for (int yy = 0; yy < win.h; yy++) {
            int ymin = bv[2 * yy] - yfirst, ymax = bv[2 * yy + 1];
            const int32_t *k = kv + (size_t)yy * ksv;
            uint8_t *o = out + (size_t)yy * row_out;
            for (size_t xc = 0; xc < row_out; xc++) {
                int32_t ss = 1 << (PIL_PRECISION_BITS - 1);
                for (int y = 0; y < ymax; y++) ss += (int32_t)mid[(size_t)(y + ymin) * row_out + xc] * k[y];
                o[xc] = pil_clip8(ss);
            }
        }
        free(mid);
    }
    free(bh);
    free(bv);
    free(kh);
    free(kv);
}

void image_resize_pil_bicubic(const uint8_t *in, int iw, int ih, int channels, uint8_t *out, int ow, int oh)
{
    ResizeWindow all = {0, 0, ow, oh};
    image_resize_pil_bicubic_window(in, iw, ih, channels, ow, oh, all, out);
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

/* torch _compute_indices_weights_aa for the outputs [first, first + count) of one axis, float32
 * weights with torch's promotions (per output, so a window equals the same outputs of the whole
 * axis). bounds (2*count): xmin, taps; w (count*ksize). Returns ksize; the caller frees both. */
static int torch_coeffs(int in_size, int out_size, int first, int count, int **bounds_out, float **w_out)
{
    float scale = (float)in_size / (float)out_size;
    float support = scale >= 1.0f ? (float)((4 * 0.5) * (double)scale) : (float)(4 * 0.5);
    int ksize = (int)ceil((double)support) * 2 + 1;
    int *bounds = xmalloc((size_t)count * 2 * sizeof *bounds);
    float *w = xcalloc((size_t)count * (size_t)ksize, sizeof *w);
    for (int n = 0; n < count; n++) {
        int i = first + n;
        float center = (float)((double)scale * (i + 0.5));
        float invscale = scale >= 1.0f ? (float)(1.0 / (double)scale) : 1.0f;
        long xmin = (long)((double)(center - support) + 0.5);
        if (xmin < 0) xmin = 0;
        long xend = (long)((double)(center + support) + 0.5);
        if (xend > in_size) xend = in_size;
        long xsize = xend - xmin;
        float total = 0.0f;
        float *k = w + (size_t)n * ksize;
        for (long j = 0; j < xsize; j++) {
            float d = (float)(j + xmin) - center;
            k[j] = torch_aa_cubic((float)(((double)d + 0.5) * (double)invscale));
            total += k[j];
        }
        for (long j = 0; j < xsize; j++)
            if (total != 0.0f) k[j] /= total;
        bounds[2 * n] = (int)xmin;
        bounds[2 * n + 1] = (int)xsize;
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

/* Input rows [*first, *last) of an ih -> oh resize that the output rows win.y0 .. win.y0 + win.h
 * read (all of them when the height is unchanged). */
static void torch_rows_needed(int ih, int oh, ResizeWindow win, int *first, int *last)
{
    if (oh == ih) {
        *first = win.y0;
        *last = win.y0 + win.h;
        return;
    }
    int *b;
    float *w;
    torch_coeffs(ih, oh, win.y0, win.h, &b, &w);
    *first = b[0];
    *last = b[2 * (win.h - 1)] + b[2 * (win.h - 1) + 1];
    free(b);
    free(w);
}

/* The window resize over an input that holds only rows [row0, row0 + rows) of the (channels,
 * ih, iw) image (rows covering torch_rows_needed). */
static void torch_aa_window(const float *in, int iw, int ih, int row0, int rows, int channels, int ow, int oh,
                            ResizeWindow win, float *out)
{
    int need_h = ow != iw, need_v = oh != ih;
    int yfirst, ylast;
    torch_rows_needed(ih, oh, win, &yfirst, &ylast);
    CHECK(yfirst >= row0 && ylast <= row0 + rows);
    int nrows = ylast - yfirst;
    /* width pass (or the column window) over the rows needed: (channels, nrows, win.w) */
    float *mid = need_v ? xmalloc((size_t)channels * nrows * win.w * sizeof *mid) : out;
    int *b = NULL;
    float *w = NULL;
    int ks = need_h ? torch_coeffs(iw, ow, win.x0, win.w, &b, &w) : 0;
    for (int c = 0; c < channels; c++)
        for (int y = 0; y < nrows; y++) {
            const float *line = in + ((size_t)c * rows + (y + yfirst - row0)) * iw;
            float *o = mid + ((size_t)c * nrows + y) * win.w;
            for (int x = 0; x < win.w; x++)
                o[x] = need_h ? aa_dot(line + b[2 * x], 1, w + (size_t)x * ks, b[2 * x + 1]) : line[win.x0 + x];
        }
    free(b);
    free(w);
    if (!need_v) return;
    ks = torch_coeffs(ih, oh, win.y0, win.h, &b, &w);
    for (int c = 0; c < channels; c++)
        for (int y = 0; y < win.h; y++)
            for (int x = 0; x < win.w; x++)
                out[((size_t)c * win.h + y) * win.w + x] =
                    aa_dot(mid + ((size_t)c * nrows + (b[2 * y] - yfirst)) * win.w + x, (size_t)win.w,
                           w + (size_t)y * ks, b[2 * y + 1]);
    free(b);
    free(w);
    free(mid);
}

void image_resize_torch_aa_window(const float *in, int iw, int ih, int channels, int ow, int oh, ResizeWindow win,
                                  float *out)
{
    CHECK(iw > 0 && ih > 0 && ow > 0 && oh > 0 && channels > 0 && window_ok(ow, oh, win));
    torch_aa_window(in, iw, ih, 0, ih, channels, ow, oh, win, out);
}

void image_resize_torch_aa(const float *in, int iw, int ih, int channels, float *out, int ow, int oh)
{
    ResizeWindow all = {0, 0, ow, oh};
    image_resize_torch_aa_window(in, iw, ih, channels, ow, oh, all, out);
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

/* The output window of the geometry's resize that its centre crop keeps. */
static ResizeWindow crop_window(int rw, int rh, int size)
{
    ResizeWindow win = {crop_offset(rw, size), crop_offset(rh, size), size, size};
    return win;
}

int image_resize_crop_u8(const Image *img, int size, Geometry geom, uint8_t *rgb_out, Error *err)
{
    if (size < 1) return err_setf(err, ERR_VALUE, "image: preprocessing size must be >= 1, found %d", size);
    int rw, rh;
    image_resized_size(img->width, img->height, size, geom, &rw, &rh);
    /* crop before resizing: only the (size, size) window the crop keeps is computed, so a very
     * long image never allocates its whole resized size (bit-identical to resize-then-crop) */
    image_resize_pil_bicubic_window(img->rgb, img->width, img->height, 3, rw, rh, crop_window(rw, rh, size), rgb_out);
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
    ResizeWindow win = crop_window(rw, rh, size);
    int row0, row_end; /* only the input rows the crop's rows read are converted to float */
    torch_rows_needed(img->height, rh, win, &row0, &row_end);
    int rows = row_end - row0, W = img->width;
    size_t plane = (size_t)rows * W;
    float *planar = xmalloc(plane * 3 * sizeof *planar);         /* (3, rows, W) v/255 */
    float *cropped = xmalloc(n * 3 * sizeof *cropped);           /* (3, size, size) */
    const uint8_t *px = img->rgb + (size_t)row0 * W * 3;
    for (int c = 0; c < 3; c++)
        for (size_t i = 0; i < plane; i++) planar[c * plane + i] = (float)px[i * 3 + c] / 255.0f;
    torch_aa_window(planar, W, img->height, row0, rows, 3, rw, rh, win, cropped);
    for (int c = 0; c < 3; c++)
        for (size_t i = 0; i < n; i++) out[c * n + i] = (cropped[c * n + i] - IMAGE_CLIP_MEAN[c]) / IMAGE_CLIP_STD[c];
    free(planar);
    free(cropped);
    return 0;
}
