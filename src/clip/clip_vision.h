/*
 * clip_vision.h - the ViT image tower of OpenCLIP, for full images and WinCLIP windows.
 *
 * Does: pixels (3, S, S), already resized and normalised, -> image embedding, patch tokens
 * (before and after ln_post) and the embeddings of every k x k patch window of the requested
 * scales (WinCLIP), all in one call (or only some of them: clip_vision_features_part) with no
 * allocation: the encoder owns one activation arena
 * sized at init for the worst case. Lower-level entry points (embed, encode_tokens with
 * per-stage capture) serve the parity tests.
 * Does not: load or resize images (image.h), load weights (clip_model.h), score anomalies.
 * Reference: shared/spec/clip.md §2.1, §2.2; shared/spec/winclip.md §4 (windows);
 * open_clip transformer.py VisionTransformer.
 *
 *     ClipVision v = {0};
 *     int scales[2] = {2, 3};
 *     if (clip_vision_init(&v, &model, scales, 2, 1, &err)) goto fail;  // v.geom: G, W, E, scales
 *     ClipImageFeatures f;
 *     clip_features_init(&f, &v.geom);
 *     if (clip_vision_features(&v, pixels, &f, &err)) goto fail;  // f.windows[1]: (169, E)
 *     clip_features_free(&f); clip_vision_free(&v);
 */
#ifndef WINCLIP_CLIP_VISION_H
#define WINCLIP_CLIP_VISION_H

#include "util/base.h"
#include "clip/clip_model.h"
#include "clip/windows.h"

/* Legend: G grid side, W vision width, E embed dim, T tokens per sequence (G*G + 1 for the full
 * image, 1 + k*k for a window), B sequences, S image side. */

#define CLIP_MAX_SCALES WINDOW_MAX_SCALES

/* ---- per-image outputs (caller-owned) ---- */

typedef struct {
    WindowGeometry geom;        /* G, W, E, window scales and stride */
    int n_windows[CLIP_MAX_SCALES]; /* windows of scale slot s */
    float *image_embedding;     /* (E) ln_post(CLS) @ proj, unnormalised */
    float *tokens_ln_post;      /* (G*G, W) patch tokens after ln_post, unprojected (rows 1..G*G) */
    float *tokens_pre_ln_post;  /* (G*G, W) last block output of the patch tokens */
    float *windows[CLIP_MAX_SCALES]; /* windows[s]: (n_windows[s], E) window embeddings,
                                        window order of windows.h, unnormalised */
    float *dense_tokens;        /* (G*G, E) or NULL: projected per-patch tokens of the dense
                                   ablations (winclip/dense.h); never cached, freed here */
} ClipImageFeatures;

/* Allocate (zeroed) every array of f for geometry g (window_geometry_init, or an encoder's
 * v.geom); sets f->geom and n_windows. */
void clip_features_init(ClipImageFeatures *f, const WindowGeometry *g);
/* Safe on a zeroed struct. */
void clip_features_free(ClipImageFeatures *f);

/* ---- the encoder ---- */

typedef struct ClipVision {
    const ClipModel *model;     /* borrowed, must outlive the encoder */
    WindowGeometry geom;        /* G, W, E, window scales and stride */
    int heads, n_tok;           /* NH, G*G + 1 */
    int n_windows[CLIP_MAX_SCALES];
    int *win_index[CLIP_MAX_SCALES]; /* (n_windows[s], k*k) patch indices, windows.h order */
    int max_rows;               /* rows of the arena buffers (>= every batch's B*T) */
    int max_len;                /* longest sequence the scratch allows */
    float *arena;               /* the one activation allocation */
    float *patches;             /* (G*G, 3*P*P) unrolled patches */
    float *embed;               /* (G*G + 1, W) tokens after the positional embedding */
    float *x;                   /* (max_rows, W) residual stream */
    float *h;                   /* (max_rows, W) LayerNorm / attention output */
    float *qkv;                 /* (max_rows, 3W) */
    float *mlp;                 /* (max_rows, 4W) */
    float *att;                 /* (att_len) attention scratch                   */
    size_t att_len;             /* ops_attention_scratch(max_len, W, NH) at init */
    float *x0_full;             /* (G*G + 1, W) full image after ln_pre (window block 0 input) */
    float *qkv0_full;           /* (G*G + 1, 3W) full image block-0 qkv (gathered for windows) */
    float *cls;                 /* (max windows, W) CLS rows of the windows' last block */
} ClipVision;

/* Prepare an encoder for m and the window scales (k values 1..G, n_scales 0..CLIP_MAX_SCALES,
 * stride >= 1; v->geom holds them with m's G, W, E); sizes the arena for the largest batch (the
 * full image, or all windows of one scale). Returns 0, or ERR_USAGE for bad scales/stride. */
int clip_vision_init(ClipVision *v, const ClipModel *m, const int *scales, int n_scales, int stride, Error *err);

/* Everything for one image: pixels (3, S, S) normalised, S = cfg.vision.image_size. out must be
 * initialised with v's geometry (clip_features_init(out, &v->geom)). Window sequences are [CLS row; the
 * window's k*k patch rows] of the embedded tokens (positions of the full image), encoded as
 * independent sequences; the full-image block-0 qkv rows are reused and only the CLS row is
 * computed in the last block. Returns 0 or ERR_USAGE (mismatched out). */
int clip_vision_features(ClipVision *v, const float *pixels, ClipImageFeatures *out, Error *err);

/* Only some components of one image: the full image (image_embedding, both token variants)
 * when full, and the windows of scale slot s when bit s of scale_mask is set; the other arrays
 * of out are not touched. Each component is its own batch (the full image's T rows, or all
 * windows of one scale), and a window needs only the full image's block-0 input and qkv, so a
 * component's numbers are bit-identical whichever others are asked with it and whatever
 * scales the encoder was made for (check_clip tests it). clip_vision_features = full + every
 * scale. */
int clip_vision_features_part(ClipVision *v, const float *pixels, int full, unsigned scale_mask,
                              ClipImageFeatures *out, Error *err);

void clip_vision_free(ClipVision *v);

/* ---- stages (tests, tools) ---- */

/* tokens (G*G + 1, W) = [class_embedding; patches @ conv1^T] + positional_embedding. */
void clip_vision_embed(ClipVision *v, const float *pixels, float *tokens);

/* Optional per-stage outputs of clip_vision_encode_tokens; each NULL or (B*T, W) per stage. */
typedef struct {
    float *ln_pre;  /* (B*T, W) after ln_pre */
    float *blocks;  /* (layers, B*T, W) output of each residual block */
    float *ln_post; /* (B*T, W) ln_post of every token */
} ClipVisionCapture;

/* Encode B independent sequences of T embedded tokens each (rows of clip_vision_embed output,
 * token 0 of each sequence pooled): tokens (B*T, W) -> embeddings (B, E) = ln_post(token 0) @
 * proj. cap may be NULL. Returns 0, or ERR_USAGE if B*T or T exceed the arena. */
int clip_vision_encode_tokens(ClipVision *v, const float *tokens, int B, int T, float *embeddings,
                              const ClipVisionCapture *cap, Error *err);

#endif
