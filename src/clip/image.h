/*
 * image.h - image and mask I/O and the CLIP image preprocessing (resize, crop, normalise).
 *
 * Does: decode PNG/JPEG/... to 8-bit RGB (stb_image, as PIL convert("RGB")), Pillow's 8-bit
 * BICUBIC resize bit-exactly, torch's antialiased float bicubic, squash or shortest-side + centre
 * crop geometry, CLIP mean/std normalisation to (3, S, S) float32; masks: load, binarise,
 * Pillow NEAREST resize. PNG output is util/fsutil.h fs_write_png (one writer, atomic).
 * Does not: batch images, cache features (features.c), or know about datasets (dataset.c).
 * Reference: shared/spec/clip.md §4; Pillow src/libImaging/Resample.c (precompute_coeffs,
 * normalize_coeffs_8bpc, ResampleHorizontal/Vertical_8bpc) and Geometry.c (affine NEAREST);
 * PyTorch aten/src/ATen/native/cpu/UpSampleKernel.cpp (antialiased bicubic);
 * torchvision transforms/functional.py (resize, center_crop).
 *
 *     Image img = {0};
 *     float *x = xmalloc(3 * 240 * 240 * sizeof *x);                  // (3, 240, 240)
 *     if (image_load(&img, "000.png", &err) ||
 *         image_preprocess(&img, 240, RESIZE_PIL_BICUBIC, GEOMETRY_SQUASH, x, &err)) goto fail;
 *     image_free(&img);
 *
 * Decoding notes: 16-bit PNGs are reduced to 8 bits by stb_image (the high byte, v >> 8; Pillow
 * itself treats them inconsistently: gray I;16 is clipped to 255, RGB is truncated to the high byte). JPEG decoding by
 * stb_image may differ from Pillow/libjpeg-turbo by a few LSB (IDCT and chroma upsampling); PNG is
 * exact. Palette images are expanded through the palette; alpha is dropped, not composited.
 */
#ifndef WINCLIP_IMAGE_H
#define WINCLIP_IMAGE_H

#include "util/base.h"

#include <stdint.h>

/* CLIP normalisation constants (RGB order), OpenAI / open_clip constants.py. */
extern const float IMAGE_CLIP_MEAN[3];
extern const float IMAGE_CLIP_STD[3];

/* ---- images ---- */

typedef struct {
    int width, height;
    uint8_t *rgb; /* (height, width, 3) interleaved RGB, xmalloc'ed, owned by the struct */
} Image;

/* Decode path into img (zeroed or freed before). 8- or 16-bit gray, gray+alpha, RGB, RGBA and
 * palette images become 8-bit RGB (gray replicated, alpha dropped, 16 bits -> high byte). Returns 0,
 * ERR_IO (cannot open) or ERR_FORMAT (not an image / truncated / corrupt: stb's reason given);
 * every message names the file. */
int image_load(Image *img, const char *path, Error *err); /* header checked first: util/imghdr.h */

/* Safe on a zeroed struct; leaves it zeroed. */
void image_free(Image *img);

/* ---- preprocessing ---- */

typedef enum { RESIZE_PIL_BICUBIC = 0, RESIZE_TORCH_BICUBIC_AA = 1 } ResizeMode;
typedef enum { GEOMETRY_SQUASH = 0, GEOMETRY_SHORTEST_CROP = 1 } Geometry;

/* "pil-bicubic" | "torch-bicubic-aa" -> *out; ERR_USAGE listing the choices otherwise. */
int image_parse_resize(const char *s, ResizeMode *out, Error *err);
/* "squash" | "shortest-crop" -> *out; ERR_USAGE listing the choices otherwise. */
int image_parse_geometry(const char *s, Geometry *out, Error *err);
const char *image_resize_name(ResizeMode mode);
const char *image_geometry_name(Geometry geom);

/* Resized size before the crop: squash -> (size, size); shortest-crop -> torchvision
 * Resize(size): short side = size, long side = int(size * long / short); an image whose short
 * side is already size keeps its size. */
void image_resized_size(int width, int height, int size, Geometry geom, int *out_w, int *out_h);
/* The box [x0, x0 + w) x [y0, y0 + h) of the original width x height image that the
 * preprocessed (size, size) input covers: squash -> the whole image; shortest-crop -> the
 * centre crop mapped back through the resize (edges rounded to the nearest pixel). */
void image_crop_box(int width, int height, int size, Geometry geom, int *x0, int *y0, int *w, int *h);

/* The 8-bit stage of the Pillow path: rgb_out (size, size, 3) = Pillow BICUBIC resize to the
 * geometry's size, then (shortest-crop) torchvision CenterCrop(size) (offsets round-half-even).
 * Returns 0 or ERR_VALUE (size < 1). */
int image_resize_crop_u8(const Image *img, int size, Geometry geom, uint8_t *rgb_out, Error *err);

/* Full CLIP preprocessing: out (3, size, size) float32 = (v - mean[c]) / std[c], where
 * v = u8/255 after the Pillow 8-bit resize (RESIZE_PIL_BICUBIC), or v = antialiased float
 * bicubic of u8/255 (RESIZE_TORCH_BICUBIC_AA, unclamped), then the geometry's crop.
 * Allocates and frees its own scratch. Returns 0 or ERR_VALUE (size < 1, bad mode). */
int image_preprocess(const Image *img, int size, ResizeMode mode, Geometry geom, float *out, Error *err);

/* out (size, size, 3) -> out (3, size, size) float: ((float)u8 / 255 - mean[c]) / std[c]. */
void image_normalize_u8(const uint8_t *rgb, int width, int height, float *out);

/* ---- resize kernels (exposed for tests) ----
 * Both allocate their coefficient tables and intermediate buffer once per call (never inside a
 * loop) and free them before returning; no state is kept, so they are re-entrant. */

/* Pillow Image.resize((ow, oh), BICUBIC) on 8-bit data: in (ih, iw, channels) interleaved ->
 * out (oh, ow, channels). Horizontal pass first over only the rows the vertical pass reads,
 * uint8 intermediate, 22-bit fixed point; an axis whose size is unchanged is not resampled. */
void image_resize_pil_bicubic(const uint8_t *in, int iw, int ih, int channels, uint8_t *out, int ow, int oh);

/* torch interpolate(mode="bicubic", antialias=True, align_corners=False) in float32 (weights
 * computed with torch's float/double mix): in (channels, ih, iw) planar -> out (channels, oh, ow).
 * Width pass first, then height; no clamping; unchanged axes skipped. */
void image_resize_torch_aa(const float *in, int iw, int ih, int channels, float *out, int ow, int oh);

/* A window of a resize's (ow, oh) output: columns [x0, x0 + w), rows [y0, y0 + h). */
typedef struct {
    int x0, y0, w, h;
} ResizeWindow;

/* The window win of the resizes above, computed alone: out (win.h, win.w, channels) for Pillow,
 * (channels, win.h, win.w) for torch, bit-identical to cropping the whole resize (every output's
 * taps depend only on its index), with memory for the window and the input rows it reads only.
 * This is how the centre crop of shortest-crop is done (crop before resize). win must lie inside
 * the output. */
void image_resize_pil_bicubic_window(const uint8_t *in, int iw, int ih, int channels, int ow, int oh,
                                     ResizeWindow win, uint8_t *out);
void image_resize_torch_aa_window(const float *in, int iw, int ih, int channels, int ow, int oh, ResizeWindow win,
                                  float *out);

/* ---- masks ---- */

typedef struct {
    int width, height;
    uint8_t *data; /* (height, width) values 0/1, xmalloc'ed, owned by the struct */
} Mask;

/* Load any channel count (8- or 16-bit): a pixel is 1 when any channel is nonzero. Errors as
 * image_load. */
int image_mask_load(Mask *m, const char *path, Error *err);
/* Safe on a zeroed struct; leaves it zeroed. */
void image_mask_free(Mask *m);
/* Pillow resize NEAREST: out (oh, ow) from in (ih, iw); source index int(xo) with
 * xo = 0.5 * scale, then xo += scale accumulated in double, per axis (scale = in / out). */
void image_mask_resize_nearest(const uint8_t *in, int iw, int ih, uint8_t *out, int ow, int oh);
/* The source indices mask_resize_nearest uses along one axis: idx (out_size). */
void image_mask_nearest_index(int in_size, int out_size, int32_t *idx);

#endif
