/*
 * pipeline.h - WinCLIP / WinCLIP+ end to end for one model: image file -> WinclipMaps.
 *
 * Does: load the CLIP model (and its sha256, once per file version: util/sha_cache.h) and the
 * BPE tokenizer; build the text prototypes of a class (prompts -> tokens -> text tower ->
 * prototypes, kept in memory per class and on disk: winclip/text_cache.h); image file -> pre-processing (settings resize / geometry / image_size) -> features
 * (image embedding, patch tokens, window embeddings), through an optional HDF5 feature cache;
 * few-shot memories from K reference images; score one image. Both `winclip score` and the
 * harness's `winclip run` call it.
 * Does not: parse configs or command lines, choose references (dataset.c / rng.c), compute
 * metrics or write results files.
 * Reference: shared/spec/winclip.md §7 (per-image pseudocode), fixtures/winclip_paper/README.md.
 *
 *     WinclipSettings s;  winclip_settings_default(&s);      // then winclip_settings_set(...)
 *     Pipeline p = {0};
 *     if (pipeline_init(&p, "datasets/weights/vit_b_16_plus_240_e31.h5", &s, &err)) goto fail;
 *     if (pipeline_open_cache(&p, "results/cache/mvtec_bottle.h5", &err)) goto fail; // optional
 *     if (pipeline_set_references(&p, refs, k_shot, &err)) goto fail;                // K = 0: zero-shot
 *     WinclipMaps maps = {0};
 *     if (pipeline_score(&p, "bottle/test/broken_large/000.png", "bottle", &maps, &err)) goto fail;
 *     printf("%f\n", maps.image_score);          // maps.map is (maps.out_h, maps.out_w)
 *     winclip_maps_free(&maps);  pipeline_free(&p);
 */
#ifndef WINCLIP_PIPELINE_H
#define WINCLIP_PIPELINE_H

#include "util/base.h"
#include "winclip/winclip.h"

typedef struct PipelinePriv PipelinePriv;

typedef struct {
    WinclipSettings settings;  /* copy given to pipeline_init                              */
    char model_path[1024];
    char weights_sha256[65];   /* hex sha256 of the model file                             */
    int image_size;            /* model input side used (settings.image_size or the model's) */
    double logit_scale;        /* from the checkpoint                                      */
    double tau;                /* winclip_settings_temperature(settings, logit_scale)               */
    int k_shot;                /* references in the current memory                         */
    /* statistics since init (the benchmark reads them) */
    long images_scored, cache_hits, cache_misses;
    long backbone_passes;      /* vision tower runs: 0 when every feature came from the cache */
    long text_cache_hits, text_cache_misses; /* classes whose prototypes came from / went to disk */
    int sha256_cached;         /* 1: weights_sha256 came from the sha cache (util/sha_cache.h) */
    double seconds_init;       /* pipeline_init: model load, sha256, tokenizer             */
    double seconds_load;       /* image decode + pre-processing                            */
    double seconds_backbone;   /* vision tower: full image + all windows                   */
    double seconds_text;       /* prompts -> prototypes                                    */
    double seconds_memory;     /* building few-shot memories (features excluded)           */
    double seconds_scoring;    /* winclip_score: aggregation, memory search, upsampling    */
    double seconds_cache;      /* feature cache reads and writes                           */
    double seconds_dense;      /* dense ablation features (dense.h; never cached)          */
    long dense_images;         /* images that went through dense_apply                     */
    PipelinePriv *priv;        /* model, tokenizer, cache, class prototypes, memory        */
} Pipeline;

/* Load the model file (HDF5 or safetensors, as clip_model_load accepts), hash it, find and
 * load the tokenizer vocabulary (tokenizer_find_vocab). settings is copied. Returns 0, or the
 * loader's error (ERR_IO / ERR_FORMAT / ERR_SHAPE / ERR_MISSING naming the file). */
int pipeline_init(Pipeline *p, const char *model_path, const WinclipSettings *settings,
                  Error *err);
void pipeline_free(Pipeline *p); /* safe on a zeroed struct */

/* Use (create) the HDF5 feature cache at path for every later feature computation (see
 * feature_cache.h: a file of other weights / preprocessing is never used). NULL closes it. */
int pipeline_open_cache(Pipeline *p, const char *path, Error *err);

/* Folder of the on-disk text prototype cache (winclip/text_cache.h); NULL turns it off. The
 * default is <user cache>/text (util/sha_cache.h: WINCLIP_CACHE_DIR, off disables it) and
 * pipeline_open_cache moves it beside the feature cache file ("<its folder>/text"). */
void pipeline_set_text_cache(Pipeline *p, const char *dir);

/* Text prototypes of category (class word: winclip_settings_class_name(settings, category)); computed
 * once per class and kept until pipeline_free. *out stays owned by p. */
int pipeline_text(Pipeline *p, const char *category, const WinclipText **out, Error *err);

/* Features of one image file (through the cache when open). *f is allocated (free with
 * clip_features_free); image_width / image_height (may be NULL) get the original size. */
int pipeline_features(Pipeline *p, const char *image_path, ClipImageFeatures *f,
                      int *image_width, int *image_height, Error *err);

/* Replace the few-shot memory with the features of paths[0..k_shot) (K = 0 clears it:
 * zero-shot). Returns 0 or the first image's error. */
int pipeline_set_references(Pipeline *p, const char *const *paths, int k_shot, Error *err);

/* Score one image of category: WinCLIP with K = 0, WinCLIP+ otherwise. maps is overwritten;
 * its arrays belong to p (one WinclipScratch reused image after image) and stay valid until
 * the next pipeline_score or pipeline_free (winclip_maps_free just forgets them); maps->map
 * has the settings' output size over the pixels it covers (maps->region, eval_region.h). */
int pipeline_score(Pipeline *p, const char *image_path, const char *category, WinclipMaps *maps,
                   Error *err);

#endif
