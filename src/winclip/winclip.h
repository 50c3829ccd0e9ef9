/*
 * winclip.h - WinCLIP (zero-shot) and WinCLIP+ (few-normal-shot) scoring on cached features.
 *
 * Does: text prototypes from prompt embeddings, the zero-shot
 * score ascore_0, window scores, per-scale harmonic (or mean) aggregation, multi-scale fusion,
 * few-shot memories and nearest-neighbour distances (GEMMs on L2-normalised rows), language +
 * vision fusion, bilinear upsampling (align_corners=False) and optional Gaussian smoothing.
 * Does not: the method settings (settings.h), any I/O, image pre-processing or CLIP forward passes (clip_vision.c, pipeline.c);
 * features come in as ClipImageFeatures, text as raw encode_text embeddings.
 * Reference: shared/spec/winclip.md §2-§7; anomalib winclip torch_model.py / utils.py;
 * fixtures/winclip_paper/README.md (exact formulas of the parity fixture).
 *
 *     WinclipSettings s;  winclip_settings_default(&s);
 *     WinclipText text = {0};  winclip_text_init(&text, normal_emb, 154, anom_emb, 88, 640, s.prototypes);
 *     WinclipMemory mem = {0}; winclip_memory_init(&mem, &s, refs, 4, &err);       // K = 4 (K = 0: skip)
 *     WinclipScratch sc = {0}; winclip_scratch_init(&sc, &feat.geom, &s, 4, 240, 240); // once
 *     WinclipMaps maps;        winclip_score(&maps, &sc, &s, &text, tau, &feat, &mem, 240, 240, &err);
 *     printf("%f\n", maps.image_score);  winclip_scratch_free(&sc);       // maps.* point into sc
 */
#ifndef WINCLIP_WINCLIP_H
#define WINCLIP_WINCLIP_H

#include <stdio.h>

#include "util/base.h"
#include "clip/clip_vision.h"
#include "winclip/eval_region.h"
#include "winclip/settings.h"

/* ---- text prototypes (§2.4) ---- */

/* How winclip_ascore scores against a WinclipText. */
enum {
    WINCLIP_TEXT_TWO_CLASS = 0,           /* softmax over [cos_n, cos_a] / tau (§3)          */
    WINCLIP_TEXT_ONE_CLASS_DISTANCE = 1,  /* no t_a: 1 - cos_n (ours, winclip.md §14)        */
    WINCLIP_TEXT_ONE_CLASS_SIMILARITY = 2 /* no t_a: (1 + cos_n) / 2, the raw similarity's order */
};

typedef struct {
    int embed_dim;     /* E                                                   */
    float *normal;     /* (E) t_n: unit norm (normalize) or raw mean (mean)   */
    float *anomalous;  /* (E) t_a; NULL for a one-class text                  */
    int score;         /* WINCLIP_TEXT_*                                      */
} WinclipText;

/* out (dim) = prototype of embeddings (n, dim): WINCLIP_PROTO_NORMALIZE: L2-normalise each row,
 * mean, renormalise; WINCLIP_PROTO_MEAN: raw mean (normalised later inside the cosine). Double
 * accumulation. Kernel: no allocation. */
void winclip_prototype(float *out, const float *embeddings, int n, int dim, int mode);

/* Build both prototypes from raw encode_text outputs normal (n_normal, dim) and anomalous
 * (n_anomalous, dim). Returns 0 (ERR_VALUE for empty lists). Free with winclip_text_free. */
int winclip_text_init(WinclipText *t, const float *normal, int n_normal, const float *anomalous,
                      int n_anomalous, int dim, int mode, Error *err);
/* One-class text (prompts = one_class): only t_n, from normal (n_normal, dim); one_class_score
 * is WINCLIP_ONE_CLASS_DISTANCE or _SIMILARITY (settings.h). Returns 0 or ERR_VALUE. */
int winclip_text_init_one_class(WinclipText *t, const float *normal, int n_normal, int dim, int mode,
                                int one_class_score, Error *err);
void winclip_text_free(WinclipText *t);

/* ascore_0(f) = softmax([cos_n, cos_a] / tau)[1] = 1 / (1 + exp(-(cos_a - cos_n) / tau)), in
 * double. f (E) need not be normalised. cos_out (2) or NULL gets [cos_n, cos_a].
 * One-class text: 1 - cos_n (distance) or (1 + cos_n) / 2 (similarity); tau unused, cos_a = 0. */
double winclip_ascore(const float *f, const WinclipText *t, double tau, double cos_out[2]);

/* ---- kernels (no allocation) ---- */

/* out (n, dim) = rows of in (n, dim) divided by their L2 norm (double); zero rows stay zero.
 * out may alias in. */
void winclip_l2_normalize_rows(float *out, const float *in, int n, int dim);

/* Window values (n_windows(grid, k, stride)) -> patch map out (grid*grid), §5.1:
 * WINCLIP_AGG_HARMONIC: N(i,j) / sum_{w covers (i,j)} 1/v[w], 0 if any covering v is 0 (or
 * negative); WINCLIP_AGG_MEAN: arithmetic mean over covering windows. Patches covered by no
 * window (stride > 1) get 0. */
void winclip_aggregate(float *out, const float *window_values, int grid, int k, int stride,
                       int mode);

/* out (n_cells) = fusion of n_maps maps (n_cells each) plus, when constant != NULL, the scalar
 * *constant as one more map (§5.2): harmonic n / sum 1/x (0 if any x <= 0) or arithmetic mean. */
void winclip_fuse(float *out, const float *const *maps, int n_maps, const double *constant,
                  int n_cells, int mode);

/* out (n_query) = min_r max(0, ½(1 - q·r)) for unit rows query (n_query, dim) and memory
 * (n_memory, dim) (§6.2). The max cosine is found with GEMMs over column blocks of at most
 * `chunk` memory rows; scratch holds (n_query, chunk) floats. */
void winclip_min_distance(float *out, const float *query, int n_query, const float *memory,
                          int n_memory, int dim, float *scratch, int chunk);

/* Bilinear resize in (in_h, in_w) -> out (out_h, out_w), align_corners=False (torch
 * F.interpolate): src = max((d + 0.5) * in/out - 0.5, 0), upper neighbour clamped. */
void winclip_upsample_bilinear(float *out, int out_h, int out_w, const float *in, int in_h,
                               int in_w);

/* In-place separable Gaussian filter of map (h, w) with sigma (pixels), as scipy.ndimage
 * gaussian_filter(mode="reflect", truncate=4.0): radius int(4*sigma + 0.5), edge-including
 * mirror padding (d c b a | a b c d | d c b a), weights normalised to sum 1.
 * scratch: winclip_smooth_scratch_len(h, w, sigma) floats. sigma <= 0: no-op. */
size_t winclip_smooth_scratch_len(int h, int w, double sigma);
void winclip_gaussian_smooth(float *map, int h, int w, double sigma, float *scratch);

/* ---- few-shot memories (§6.1) ---- */

typedef struct {
    int k_shot;                          /* K reference images                        */
    WindowGeometry geom;                 /* G, W (patch tokens), E (windows), scales  */
    int patch_tokens;                    /* WINCLIP_PATCH_* used                      */
    int n_patch;                         /* K*G*G                                     */
    float *patch;                        /* (n_patch, W) unit rows, reference order   */
    int n_windows[WINCLIP_MAX_SCALES];   /* K * windows per image of scale s          */
    float *windows[WINCLIP_MAX_SCALES];  /* (n_windows[s], E) unit rows               */
} WinclipMemory;

/* Flat, position-agnostic memories from refs[0..k_shot) (K feature sets of equal geometry),
 * scales and patch variant taken from the settings. Returns 0, ERR_SHAPE when a reference
 * lacks a scale / the patch variant, or its geometry differs. Free with winclip_memory_free. */
int winclip_memory_init(WinclipMemory *m, const WinclipSettings *s, const ClipImageFeatures *refs,
                        int k_shot, Error *err);
void winclip_memory_free(WinclipMemory *m); /* safe on a zeroed struct */

/* ---- per-image maps ---- */

/* One image's results. The arrays are views into the WinclipScratch given to winclip_score. */
typedef struct {
    WindowGeometry geom;                        /* of the features (G 15), the settings' scales */
    int n_windows[WINCLIP_MAX_SCALES];          /* windows per scale (196, 169)             */
    int k_shot;                                 /* 0: the few-shot fields are NULL          */
    int out_h, out_w;                           /* size of `map`                            */
    EvalRegion region;                          /* pixels `map` covers (set by pipeline_score) */
    double tau;                                 /* temperature used                         */
    double image_cos[2];                        /* [cos(f, t_n), cos(f, t_a)]               */
    double a0;                                  /* ascore_0 of the full image               */
    double image_score;                         /* a0, or (a0 + max Mfs) / 2 when K > 0
                                                   (max Mfs with language = false)          */
    /* zero-shot (§5) */
    float *window_scores[WINCLIP_MAX_SCALES];   /* (n_windows[s]) A_k[w]                    */
    float *zs_scale_maps[WINCLIP_MAX_SCALES];   /* (G*G) M_k                                */
    float *m0;                                  /* (G*G) fused zero-shot map M_0            */
    float *dense_scores;                        /* (G*G) dense = patch_tokens | maskclip:
                                                   ascore_0 of each dense token; else NULL  */
    /* few-shot (§6), K > 0 only */
    float *window_dist[WINCLIP_MAX_SCALES];     /* (n_windows[s]) d(F_k[w], R_k)            */
    float *fs_scale_maps[WINCLIP_MAX_SCALES];   /* (G*G) M'_k                               */
    float *mp;                                  /* (G*G) patch distance map M_p             */
    float *mfs;                                 /* (G*G) M_fs = mean(M_p, M'_k...) (Mvision) */
    /* final */
    float *map15;                               /* (G*G) M_0, or (M_0 + M_fs) / 2 (K > 0),
                                                   or M_fs (K > 0, language = false)       */
    float *map;                                 /* (out_h, out_w) upsampled (+ smoothed)    */
} WinclipMaps;

/* Per-image buffers of winclip_score, owned by the caller and reused image after image:
 * every map of WinclipMaps, the normalised query rows and the GEMM block of the memory search,
 * the smoothing buffer. Sized by winclip_scratch_init for a geometry, K and output size; a
 * scratch too small for a call (other geometry, more references, a larger output map) is
 * resized by that call, so after the first image the per-image path never allocates. */
typedef struct {
    WindowGeometry geom;                        /* scoring geometry it is sized for          */
    int k_shot;                                 /* references it is sized for (0: zero-shot) */
    float *window_scores[WINCLIP_MAX_SCALES];   /* (n_windows[s])                            */
    float *zs_scale_maps[WINCLIP_MAX_SCALES];   /* (G*G)                                     */
    float *window_dist[WINCLIP_MAX_SCALES];     /* (n_windows[s]), K > 0                     */
    float *fs_scale_maps[WINCLIP_MAX_SCALES];   /* (G*G), K > 0                              */
    float *m0, *map15, *mp, *mfs;               /* (G*G) each; mp, mfs when K > 0            */
    float *dense_map;                           /* (G*G) per-token scores, dense tokens      */
    float *unit;                                /* (max rows, dim) unit query rows, K > 0    */
    float *block;                               /* (max rows, chunk) query @ memory^T, K > 0 */
    int chunk;                                  /* memory rows per GEMM block                */
    float *map;                                 /* (map_cap) upsampled map                   */
    size_t map_cap;
    float *smooth;                              /* (smooth_cap) winclip_gaussian_smooth      */
    size_t smooth_cap;
} WinclipScratch;

/* Size sc for images of features geometry (G, W, E; the scales and stride are taken from s),
 * K = k_shot references (0: zero-shot) and out_h x out_w maps. Free with winclip_scratch_free
 * (safe on a zeroed struct). A zeroed scratch is also valid: the first winclip_score sizes it. */
void winclip_scratch_init(WinclipScratch *sc, const WindowGeometry *features,
                          const WinclipSettings *s, int k_shot, int out_h, int out_w);
void winclip_scratch_free(WinclipScratch *sc);

/* Score one image. f: its features (the settings' scales must be present; the patch variant
 * too when mem has K > 0; f->dense_tokens when dense = patch_tokens | maskclip, which then
 * replace the window scales: M_0 = fuse(ascore_0 per token [, a0]); dense = tiling comes as
 * window embeddings, dense.h). mem: NULL or K = 0 for zero-shot. tau: winclip_settings_temperature().
 * out_h, out_w: size of maps->map (winclip_settings_output_dims). sc: the caller's scratch
 * (zeroed or winclip_scratch_init'ed). maps is overwritten; its arrays point into sc and stay
 * valid until the next winclip_score with sc or winclip_scratch_free (two maps alive at once
 * need two scratches). language = false (K > 0): map = M_fs, image score = max M_fs (ours,
 * winclip.md §14). Returns 0, ERR_SHAPE (missing scale or dense tokens, dims of text / memory /
 * features differ) or ERR_VALUE (language = false without references). */
int winclip_score(WinclipMaps *maps, WinclipScratch *sc, const WinclipSettings *s,
                  const WinclipText *text, double tau, const ClipImageFeatures *f,
                  const WinclipMemory *mem, int out_h, int out_w, Error *err);
/* Forget the views (the arrays belong to the scratch); safe on a zeroed struct. */
void winclip_maps_free(WinclipMaps *maps);

#endif
