/*
 * clip_config.h - the dimensions of an OpenCLIP model and the state-dict table they imply.
 *
 * Does: presets for the supported architectures, parse/validate/write the `config` JSON of the
 * project's HDF5 model files (clip.md §6.2), infer a config from tensor shapes when a file has
 * none, and list every state-dict key with its expected shape (the one table that drives the
 * loader, the converter and the random-model writer; conventions §2.6).
 * Does not: read files (clip_weights.c, safetensors.c) or run anything.
 * Reference: shared/spec/clip.md §1 (configs, defaults), §3 (state dict), §6.2 (config JSON).
 *
 *     ClipConfig cfg;
 *     if (clip_config_from_json(&cfg, json_text, &err)) return err.code;
 *     ClipTensorSpec *t; int n;
 *     clip_config_tensors(&cfg, &t, &n);      // 302 entries for ViT-B-16-plus-240
 *     ...; free(t);
 */
#ifndef WINCLIP_CLIP_CONFIG_H
#define WINCLIP_CLIP_CONFIG_H

#include "util/base.h"

#include <stddef.h>
#include <stdint.h>

typedef struct {
    int embed_dim;  /* E: joint embedding space */
    int quick_gelu; /* 0: exact erf GELU, 1: x * sigmoid(1.702 x) */
    struct {
        int image_size, patch_size, width, layers, head_width; /* heads = width / head_width */
    } vision;
    struct {
        int context_length, vocab_size, width, heads, layers;
    } text;
    char model_name[64]; /* informative ("ViT-B-16-plus-240"); may be empty */
} ClipConfig;

/* 1 when a and b describe the same architecture, compared field by field (model_name up to
 * its NUL), else 0. */
int clip_config_equal(const ClipConfig *a, const ClipConfig *b);

/* ---- presets and JSON ---- */

/* Fill cfg for "ViT-B-16-plus-240" | "ViT-B-16" | "ViT-B-16-quickgelu" | "tiny" (the shared
 * fixture's tiny model: embed 32, vision 240/16 width 64 x 2 layers head_width 32, text width 48,
 * 3 heads, 2 layers, GELU). Returns 0, or ERR_USAGE naming the known names. */
int clip_config_preset(ClipConfig *cfg, const char *arch, Error *err);

/* Parse the open_clip style config JSON (the root attribute `config` of a model file).
 * Required: embed_dim, quick_gelu (bool or 0/1), text_cfg.{context_length, vocab_size, width,
 * heads, layers}, vision_cfg.{image_size, patch_size, width, layers}; vision_cfg.head_width
 * defaults to 64; model_name optional; unknown keys ignored. Validated with
 * clip_config_validate. Returns 0, ERR_FORMAT (bad JSON / wrong type), ERR_MISSING (a key) or
 * ERR_VALUE (inconsistent dims), the message naming the key, expected and found. */
int clip_config_from_json(ClipConfig *cfg, const char *json, Error *err);

/* Check the dimensions are positive and consistent (width % head_width, width % heads,
 * image_size % patch_size, sane upper bounds). Returns 0 or ERR_VALUE. */
int clip_config_validate(const ClipConfig *cfg, Error *err);

/* The config as JSON text (xmalloc'ed, caller frees) in the form of clip.md §6.2, keys sorted:
 * embed_dim, model_name, quick_gelu, text_cfg, vision_cfg, then extra_members verbatim (e.g.
 * "\"pretrained\": \"laion400m_e31\"") when non-NULL and non-empty. */
char *clip_config_to_json(const ClipConfig *cfg, const char *extra_members);

/* ---- inference from tensor shapes ---- */

/* lookup(ctx, key, &rank, dims) returns 0 and fills rank/dims if the state-dict key exists. */
typedef int (*ClipShapeLookup)(void *ctx, const char *key, int *rank, int64_t dims[8]);

/* Derive a config from tensor shapes (for files without a `config`): widths, patch, grid,
 * embed_dim, context, vocab and layer counts are read from shapes; what shapes cannot tell
 * uses open_clip defaults: head_width 64 (vision and text heads = width / 64) and exact GELU.
 * note (may be NULL) gets a one-line description of those assumptions. Returns 0, or
 * ERR_MISSING / ERR_SHAPE naming the key. */
int clip_config_infer(ClipConfig *cfg, ClipShapeLookup lookup, void *ctx, char *note, size_t note_cap,
                      Error *err);

/* ---- derived quantities ---- */

int clip_config_grid(const ClipConfig *cfg);        /* G = image_size / patch_size */
int clip_config_vision_heads(const ClipConfig *cfg); /* vision width / head_width */

/* One state-dict tensor: key in PyTorch dot form ("visual.proj"; the HDF5 dataset path is the
 * key with '.' -> '/'), rank 0..4 (0 = scalar: logit_scale), dims[0..rank). */
typedef struct {
    char key[96];
    int rank;
    int64_t dims[4];
} ClipTensorSpec;

/* Every tensor of the model in state_dict() order (clip.md §3): 302 for the 12+12-layer
 * models, 62 for tiny. *out is xmalloc'ed (caller frees), *count entries. Returns 0. */
int clip_config_tensors(const ClipConfig *cfg, ClipTensorSpec **out, int *count);

/* Number of elements of one spec (1 for a scalar). */
size_t clip_tensor_numel(const ClipTensorSpec *spec);

/* HDF5 dataset path of a key: '.' -> '/' ("visual/proj"). out must hold strlen(key) + 1. */
void clip_tensor_h5_path(char *out, size_t cap, const char *key);

#endif
