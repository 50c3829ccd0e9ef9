/*
 * feature_cache.h - per-image WinCLIP feature cache in HDF5 (one file per dataset category).
 * (Named feature_cache, not features: a src/features.h would shadow glibc's <features.h>.)
 *
 * Does: store and look up, per image file, the full-image embedding, the patch tokens before
 * and after ln_post and every window embedding of every scale (ClipImageFeatures), plus the
 * image's original size. A file is bound to one (weights sha256, preprocessing key, geometry):
 * root attributes record them and a file made with anything else is never read. An entry is
 * keyed by the image path and validated by the file's mtime and size; its `complete`
 * attribute is written last and flushed, so an entry left by an interrupted run is detected
 * and recomputed.
 * Does not: compute features (pipeline.c), decide where cache files live (the caller does,
 * e.g. results/cache/<dataset>_<category>.h5).
 * Reference: shared/spec/winclip.md §4 ("cache per test image"); conventions.md §3.
 *
 *     FeatureCache c = {0};
 *     FeatureCacheKey key = {sha_hex, "resize=pil-bicubic;geometry=squash;image_size=240",
 *                            vision.geom};   // G 15, W 896, E 640, scales 2,3, stride 1
 *     if (feature_cache_open(&c, "results/cache/mvtec_bottle.h5", &key, &err)) return err.code;
 *     ClipImageFeatures f; int w, h;
 *     int hit = feature_cache_get(&c, "bottle/test/good/000.png", &f, &w, &h, &err); // 1, 0, <0
 *     if (hit == 0) { ...compute f...; feature_cache_put(&c, path, &f, w, h, &err); }
 *     clip_features_free(&f); feature_cache_close(&c);
 *
 * File layout (format version 1):
 *   /  attrs format = "winclip-features-1", weights_sha256, preprocess, geometry
 *      ("grid=15;width=896;embed_dim=640;scales=2,3;stride=1")
 *   /entries/<first 32 hex of sha256(image path)>/
 *      attrs path, mtime (f64 seconds), size (f64 bytes), image_width, image_height (f64),
 *            complete = "1" (written last)
 *      image_embedding (E), tokens_ln_post (G*G, W), tokens_pre_ln_post (G*G, W),
 *      windows_k<k> (n_windows, E) for every scale
 * When the file at the requested path belongs to another key, the cache uses
 * "<path without .h5>-<12 hex of sha256(key)>.h5" instead (so settings can alternate without
 * recomputing); c->path is the file in use. A file HDF5 cannot open is moved aside to
 * "<file>.corrupt" and started afresh (c->note says so).
 */
#ifndef WINCLIP_FEATURE_CACHE_H
#define WINCLIP_FEATURE_CACHE_H

#include "util/base.h"
#include "util/h5.h"
#include "winclip/winclip.h"

typedef struct {
    const char *weights_sha256; /* hex of the model file                                */
    const char *preprocess;     /* winclip_settings_preprocess_key()                    */
    WindowGeometry geom;        /* G, W, E, window scales, stride (ClipVision.geom)     */
} FeatureCacheKey;

typedef struct {
    H5File file;
    char path[1024];  /* file in use                                         */
    char note[1200];  /* "" or what happened (fallback name, corrupt file)  */
    WindowGeometry geom;
    long hits, misses, stored;
} FeatureCache;

/* Open (or create, with parent folders) the cache for key. Returns 0, or ERR_IO when the file
 * cannot be created. */
int feature_cache_open(FeatureCache *c, const char *path, const FeatureCacheKey *key, Error *err);
void feature_cache_close(FeatureCache *c); /* safe on a zeroed struct */

/* Look up image_path (stat()ed for mtime and size). Returns 1 and fills *f (allocated,
 * free with clip_features_free) and the original size on a hit; 0 on a miss (absent, stale,
 * incomplete); ERR_IO when the image cannot be stat()ed, or a read error. f is allocated with
 * clip_features_init(f, &c->geom). */
int feature_cache_get(FeatureCache *c, const char *image_path, ClipImageFeatures *f,
                       int *image_width, int *image_height, Error *err);

/* Store f for image_path (replacing any old entry), then mark it complete and flush.
 * f must match the cache geometry and have both token variants. Returns 0 or ERR_*. */
int feature_cache_put(FeatureCache *c, const char *image_path, const ClipImageFeatures *f,
                       int image_width, int image_height, Error *err);

/* HDF5 group of image_path's entry ("/entries/<hex>"). For tests and diagnostics. */
void feature_cache_entry(const char *image_path, char *group, size_t cap);

#endif
