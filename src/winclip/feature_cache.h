/*
 * feature_cache.h - per-image WinCLIP feature cache: one small HDF5 file per (image, component).
 * (Named feature_cache, not features: a src/features.h would shadow glibc's <features.h>.)
 *
 * Does: store and look up, per image file, each component of its features separately: the
 * full-image component (image embedding, patch tokens after and before ln_post: what one
 * full-image pass yields) and, per window scale k and stride s, the window embeddings of that
 * scale. So a run asking for scales {2} after a run with {2,3} finds everything, and {2,3}
 * after {2} and {3} too: only missing components are computed (clip_vision_features_part).
 * Entries are keyed by the weights sha256 and the pre-processing key (one folder per key) and
 * by the image (its real path; validated by its mtime and size), and every read is validated.
 * Does not: compute features (pipeline.c), decide where the cache lives (the caller does, e.g.
 * results/cache/<dataset>_<category>/), delete anything but its own dead temp files.
 * Reference: shared/spec/winclip.md §4 ("cache per test image"); conventions.md §3.
 *
 *     FeatureCache c;
 *     FeatureCacheKey key = {sha_hex, "resize=pil-bicubic;geometry=squash;image_size=240",
 *                            15, 896, 640};                    // G, W, E of the model
 *     if (feature_cache_open(&c, "results/cache/mvtec_bottle", &key, &err)) return err.code;
 *     ClipImageFeatures f;  clip_features_init(&f, &vision.geom);   // scales 2,3, stride 1
 *     unsigned want = feature_components_all(&f.geom), have = 0; int w, h;
 *     if (feature_cache_get(&c, "bottle/test/good/000.png", &f, want, &have, &w, &h, &err) < 0) ...
 *     if (have != want) { ...compute the components want & ~have into f...;
 *                         feature_cache_put(&c, path, &f, want & ~have, w, h, &err); }
 *     clip_features_free(&f); feature_cache_close(&c);
 *
 * Layout (format "winclip-feature-2"):
 *   ROOT/<16 hex of sha256(weights sha256, pre-processing, G, W, E)>/
 *     key.txt                          what the folder is for (weights, pre-processing, G W E)
 *     <32 hex of sha256(image real path)>-full.h5
 *         image_embedding (E), tokens_ln_post (G*G, W), tokens_pre_ln_post (G*G, W)
 *     <32 hex>-windows-k<k>-s<stride>.h5
 *         windows (n_windows, E)        window order of windows.h
 *   each file: root attrs format, component, weights_sha256, preprocess, path, mtime, size,
 *   image_width, image_height, grid, width, embed_dim (+ scale, stride for windows), and
 *   numerics (clip/numerics.h: what computed it; recorded, not part of the key: a component
 *   is reused whatever path reads it, so runs on one cache agree to the bit); every dataset is
 *   chunked with HDF5's Fletcher-32 checksum filter.
 *
 * Validation on read: a file that cannot be opened or read (truncated), lacks an attribute or
 * the checksum filter, has a bad checksum (HDF5 refuses the read), a shape other than the
 * expected geometry or a non-finite value is reported on stderr (one line naming the file)
 * and treated as a miss: the caller recomputes it and the put replaces the file. A file of
 * another image version (mtime or size changed) is a plain miss.
 *
 * Concurrency: an entry file is written whole under a temp name in the same folder
 * (".NAME.<pid>.XXXXXX", fs_temp_reserve), fsynced and rename()d over its final name. Readers
 * never see a partial file, nothing is ever opened for writing twice, and two processes (two
 * `winclip run`, two shards) writing the same entry write identical, complete files: the last
 * rename wins. No lock is needed and none is taken; an HDF5 lock held by another process is
 * never taken for corruption (no file is ever moved aside). Temp files of dead writers
 * (kill -9) are removed when a folder is opened.
 *
 * To add a component kind (e.g. value-path tokens): one row in the kinds table of
 * feature_cache.c (name, per-scale or not, its arrays with their shapes and where they live
 * in ClipImageFeatures), a FEATURE_* bit, and its computation in the vision tower.
 */
#ifndef WINCLIP_FEATURE_CACHE_H
#define WINCLIP_FEATURE_CACHE_H

#include "util/base.h"
#include "winclip/winclip.h"

/* Component bits of one image's features (for a geometry g): FEATURE_FULL, and
 * FEATURE_SCALE(s) for the windows of g's scale slot s. */
#define FEATURE_FULL 1u
#define FEATURE_SCALE(s) (2u << (s))

/* Every component of g: FEATURE_FULL | FEATURE_SCALE(0..n_scales-1). */
unsigned feature_components_all(const WindowGeometry *g);
/* Number of components in a mask. */
int feature_components_count(unsigned mask);

typedef struct {
    const char *weights_sha256; /* hex of the model file                          */
    const char *preprocess;     /* winclip_settings_preprocess_key()              */
    int grid, width, embed_dim; /* G, W, E of the model (ClipVision.geom)         */
} FeatureCacheKey;

typedef struct {
    char dir[1024];            /* ROOT/<key hex>: the folder in use              */
    char weights_sha256[65];
    char preprocess[256];
    int grid, width, embed_dim;
    long hits, misses, stored; /* component lookups and writes                   */
    long rejected;             /* entries found invalid (reported, recomputed)   */
} FeatureCache;

/* Open (or create, with parent folders) the cache folder for key under root. Returns 0, or
 * ERR_IO when the folder cannot be created, ERR_VALUE for a bad key. */
int feature_cache_open(FeatureCache *c, const char *root, const FeatureCacheKey *key, Error *err);
void feature_cache_close(FeatureCache *c); /* safe on a zeroed struct; nothing stays open */

/* Look up the components `want` of image_path (stat()ed for mtime and size) into f, which
 * must be allocated with clip_features_init for a geometry of the cache's G, W, E (its scales
 * and stride say which window components the bits mean). *have gets the bits found (and
 * valid); their arrays of f are filled, the others untouched. image_width / image_height (may
 * be NULL) get the original size when any component was found. Returns 0, or ERR_IO when the
 * image cannot be stat()ed, ERR_SHAPE when f does not match the cache. Invalid entries are
 * reported on stderr and counted as misses (and in c->rejected). */
int feature_cache_get(FeatureCache *c, const char *image_path, ClipImageFeatures *f, unsigned want,
                      unsigned *have, int *image_width, int *image_height, Error *err);

/* Store the components `which` of f for image_path, each as one file written atomically
 * (replacing any old one). Returns 0 or ERR_* (nothing partial is left behind). */
int feature_cache_put(FeatureCache *c, const char *image_path, const ClipImageFeatures *f, unsigned which,
                      int image_width, int image_height, Error *err);

/* The file of one component of image_path: component FEATURE_FULL or FEATURE_SCALE(s) of
 * geometry g. For tests and diagnostics. */
void feature_cache_file(const FeatureCache *c, const char *image_path, const WindowGeometry *g,
                        unsigned component, char *path, size_t cap);

#endif
