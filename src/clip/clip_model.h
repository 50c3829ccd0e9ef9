/*
 * clip_model.h - CLIP weights in memory: one struct per group, one allocation, HDF5 loader.
 *
 * Does: load the project's HDF5 model file (clip.md §6.2) into named pointers with every
 * tensor checked (present, rank and dims from the config, floating point, finite); write a
 * random-weight model file of any config (tests, benchmarks, demo).
 * Does not: run the towers (clip_vision.h, clip_text.h) or read safetensors (safetensors.h).
 * Reference: shared/spec/clip.md §3 (state dict), §6.2 (HDF5 layout); conventions §2.5, §2.6.
 *
 *     ClipModel m = {0};
 *     if (clip_model_load(&m, "datasets/weights/vit_b_16_plus_240_e31.h5", &err)) { ...; }
 *     if (m.config_note[0]) fprintf(stderr, "winclip: %s\n", m.config_note);   // config inferred
 *     ... m.visual.blocks[3].c_fc_w ...
 *     clip_model_free(&m);
 */
#ifndef WINCLIP_CLIP_MODEL_H
#define WINCLIP_CLIP_MODEL_H

#include "util/base.h"
#include "clip/clip_config.h"

#include <stddef.h>
#include <stdint.h>

/* Legend: C block width (vision W or text Wt), E embed_dim, G grid, P patch, V vocab, L context. */

/* One pre-LN residual attention block (clip.md §2.1); fields named after the checkpoint keys. */
typedef struct {
    float *ln_1_w, *ln_1_b;     /* (C), (C)                                */
    float *in_proj_w;           /* (3C, C)  rows [Wq; Wk; Wv], PyTorch [out, in] */
    float *in_proj_b;           /* (3C)                                    */
    float *out_proj_w;          /* (C, C)                                  */
    float *out_proj_b;          /* (C)                                     */
    float *ln_2_w, *ln_2_b;     /* (C), (C)                                */
    float *c_fc_w, *c_fc_b;     /* (4C, C), (4C)                           */
    float *c_proj_w, *c_proj_b; /* (C, 4C), (C)                            */
} ClipBlock;

/* `visual.*` */
typedef struct {
    float *conv1_w;              /* (W, 3, P, P)  patch embedding, no bias        */
    float *class_embedding;      /* (W)                                           */
    float *positional_embedding; /* (G*G + 1, W)  row 0 = CLS                     */
    float *ln_pre_w, *ln_pre_b;  /* (W), (W)                                      */
    ClipBlock *blocks;           /* (vision.layers) blocks of width C = W         */
    float *ln_post_w, *ln_post_b; /* (W), (W)                                     */
    float *proj;                 /* (W, E): y = x @ proj, NOT transposed          */
} ClipVisionWeights;

/* text tower (top-level keys without prefix) */
typedef struct {
    float *token_embedding;          /* (V, Wt)  `token_embedding.weight`                 */
    float *positional_embedding;     /* (L, Wt)                                           */
    ClipBlock *blocks;               /* (text.layers) blocks of width C = Wt              */
    float *ln_final_w, *ln_final_b;  /* (Wt), (Wt)                                        */
    float *text_projection;          /* (Wt, E): y = x @ text_projection, NOT transposed  */
} ClipTextWeights;

typedef struct {
    ClipConfig cfg;
    ClipVisionWeights visual;
    ClipTextWeights text;
    float *logit_scale;     /* (scalar) logits = exp(*logit_scale) * cos         */
    float *params;          /* the one allocation every pointer above points into */
    size_t n_params;        /* floats in params                                   */
    char *path;             /* file it was loaded from (xmalloc'ed)               */
    char config_note[512];  /* non-empty when the file had no `config` and it was inferred
                               from shapes: what was assumed (the CLI prints it)  */
} ClipModel;

/* Allocate zero weights for cfg (all pointers bound); path stays NULL. Returns 0. */
int clip_model_alloc(ClipModel *m, const ClipConfig *cfg);

/* Load an HDF5 model file. The root attribute `config` (fixed- or variable-length string) gives
 * the dims; without it they are inferred from shapes and m->config_note says what was assumed.
 * Every tensor is checked: dataset present, rank and dims as the config implies, floating-point
 * (float16/float64 are converted to float32 by HDF5), all values finite. Errors name the file,
 * the dataset, expected and found: ERR_MISSING (file or dataset), ERR_FORMAT (not HDF5, bad
 * config, integer data), ERR_SHAPE, ERR_VALUE (NaN/Inf), ERR_IO (truncated). On failure the
 * model is left freed (zeroed). */
int clip_model_load(ClipModel *m, const char *path, Error *err);

/* Free everything; safe on a zeroed or half-loaded struct; leaves it zeroed. */
void clip_model_free(ClipModel *m);

/* Write an HDF5 model file with the right names, shapes and `config` (plus "random_seed") for
 * cfg and random weights from seed: LayerNorm gains ~1 (1 + U(-0.1, 0.1)), biases and embeddings
 * small, linear weights ~ U scaled to std 0.02, proj/text_projection std width^-0.5, logit_scale
 * ln(1/0.07), so activations stay finite through 12 layers. Deterministic for a seed.
 * Returns 0 or ERR_IO naming the path. */
int clip_model_write_random(const char *path, const ClipConfig *cfg, uint64_t seed, Error *err);

#endif
