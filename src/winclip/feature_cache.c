/*
 * feature_cache.c - per-image WinCLIP feature cache in HDF5 (see feature_cache.h).
 *
 * Does: bind a file to (weights, preprocessing, geometry), look up / store entries keyed by the
 * image path and validated by mtime + size, with a `complete` flag written last.
 * Does not: compute features.
 * Reference: shared/spec/winclip.md §4.
 */
#define _XOPEN_SOURCE 700 /* realpath, st_mtim */
#include "winclip/feature_cache.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/fsutil.h"
#include "util/sha256.h"
#include "clip/windows.h"

#define FORMAT_NAME "winclip-features-1"

/* ---- helpers ---- */

static int file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* 1 if the root attributes of an open file equal the key strings. */
static int attrs_match(const H5File *f, const char *sha, const char *pre, const char *geo)
{
    const char *names[4] = {"format", "weights_sha256", "preprocess", "geometry"};
    const char *want[4] = {FORMAT_NAME, sha, pre, geo};
    for (int i = 0; i < 4; i++) {
        char *got = NULL;
        Error e = {0};
        if (h5_read_attr_string(f, "/", names[i], &got, &e) != 0) return 0;
        int same = strcmp(got, want[i]) == 0;
        free(got);
        if (!same) return 0;
    }
    return 1;
}

/* Open path if it belongs to the key (1), create it if absent (1), or report another
 * key's file (0). Corrupt files are moved aside and recreated. Negative on error. */
static int open_for_key(FeatureCache *c, const char *path, const char *sha, const char *pre,
                        const char *geo, Error *err)
{
    if (file_exists(path)) {
        Error e = {0};
        if (h5_open_rw(&c->file, path, &e) == 0) {
            if (attrs_match(&c->file, sha, pre, geo)) return 1;
            h5_close(&c->file);
            return 0;
        }
        char aside[1100];
        snprintf(aside, sizeof aside, "%s.corrupt", path);
        if (rename(path, aside) != 0)
            return err_setf(err, ERR_IO, "feature cache %s: unreadable (%s) and cannot be moved "
                            "aside: %s", path, e.msg, strerror(errno));
        snprintf(c->note, sizeof c->note, "feature cache %s was unreadable; moved to %s and "
                 "started afresh", path, aside);
    }
    if (fs_mkdirs_parent(path, err) != 0) return err->code;
    if (h5_create(&c->file, path, err) != 0) return err_prefixf(err, "feature cache: ");
    if (h5_write_attr_string(&c->file, "/", "weights_sha256", sha, err) ||
        h5_write_attr_string(&c->file, "/", "preprocess", pre, err) ||
        h5_write_attr_string(&c->file, "/", "geometry", geo, err) ||
        h5_ensure_group(&c->file, "/entries", err) ||
        h5_write_attr_string(&c->file, "/", "format", FORMAT_NAME, err) || h5_flush(&c->file, err)) {
        h5_close(&c->file);
        return err->code;
    }
    return 1;
}

/* ---- open / close ---- */

int feature_cache_open(FeatureCache *c, const char *path, const FeatureCacheKey *key, Error *err)
{
    memset(c, 0, sizeof *c);
    if (key->geom.n_scales < 0 || key->geom.n_scales > WINCLIP_MAX_SCALES)
        return err_setf(err, ERR_VALUE, "feature cache: %d scales (at most %d)", key->geom.n_scales,
                        WINCLIP_MAX_SCALES);
    char geo[256];
    window_geometry_string(&key->geom, geo, sizeof geo);
    c->geom = key->geom;

    snprintf(c->path, sizeof c->path, "%s", path);
    int rc = open_for_key(c, path, key->weights_sha256, key->preprocess, geo, err);
    if (rc < 0) return rc;
    if (rc == 0) {
        /* the file belongs to other weights / preprocessing: use a name carrying our key */
        char *all = xasprintf("%s\n%s\n%s", key->weights_sha256, key->preprocess, geo);
        char hex[65];
        sha256_hex_string(all, hex);
        free(all);
        size_t n = strlen(path);
        int stem = (n > 3 && strcmp(path + n - 3, ".h5") == 0) ? (int)(n - 3) : (int)n;
        snprintf(c->path, sizeof c->path, "%.*s-%.12s.h5", stem, path, hex);
        snprintf(c->note, sizeof c->note, "feature cache %s was made with other weights or "
                 "preprocessing; using %s", path, c->path);
        rc = open_for_key(c, c->path, key->weights_sha256, key->preprocess, geo, err);
        if (rc < 0) return rc;
        if (rc == 0) {
            /* same 48-bit name, other key: never reuse, start that file afresh */
            if (remove(c->path) != 0)
                return err_setf(err, ERR_IO, "feature cache %s: key mismatch and cannot remove: %s",
                                c->path, strerror(errno));
            rc = open_for_key(c, c->path, key->weights_sha256, key->preprocess, geo, err);
            if (rc <= 0) return rc < 0 ? rc : err_setf(err, ERR_INTERNAL, "feature cache %s", c->path);
        }
    }
    return 0;
}

void feature_cache_close(FeatureCache *c)
{
    h5_close(&c->file);
    memset(c, 0, sizeof *c);
}

/* ---- entries ---- */

/* The key string of an image: its real path when it resolves, else the path as given. */
static void image_key(const char *image_path, char *out, size_t cap)
{
    char *real = realpath(image_path, NULL);
    snprintf(out, cap, "%s", real ? real : image_path);
    free(real);
}

void feature_cache_entry(const char *image_path, char *group, size_t cap)
{
    char key[PATH_MAX + 1], hex[65];
    image_key(image_path, key, sizeof key);
    sha256_hex_string(key, hex);
    snprintf(group, cap, "/entries/%.32s", hex);
}

static int stat_image(const char *image_path, double *mtime, double *size, Error *err)
{
    struct stat st;
    if (stat(image_path, &st) != 0)
        return err_setf(err, ERR_IO, "%s: cannot stat image: %s", image_path, strerror(errno));
    *mtime = (double)st.st_mtim.tv_sec + 1e-9 * (double)st.st_mtim.tv_nsec;
    *size = (double)st.st_size;
    return 0;
}

/* Dataset path of one array of an entry. */
static void entry_path(char *buf, size_t cap, const char *group, const char *name)
{
    snprintf(buf, cap, "%s/%s", group, name);
}

int feature_cache_get(FeatureCache *c, const char *image_path, ClipImageFeatures *f,
                       int *image_width, int *image_height, Error *err)
{
    memset(f, 0, sizeof *f);
    double mtime, size;
    if (stat_image(image_path, &mtime, &size, err) != 0) return err->code;
    char group[128], key[PATH_MAX + 1];
    feature_cache_entry(image_path, group, sizeof group);
    image_key(image_path, key, sizeof key);
    if (!h5_exists(&c->file, group)) goto miss;
    char *flag = NULL, *stored_path = NULL;
    Error e = {0};
    double smtime = -1, ssize = -1, w = 0, h = 0;
    int ok = h5_read_attr_string(&c->file, group, "complete", &flag, &e) == 0 &&
             strcmp(flag, "1") == 0 &&
             h5_read_attr_string(&c->file, group, "path", &stored_path, &e) == 0 &&
             strcmp(stored_path, key) == 0 &&
             h5_read_attr_f64(&c->file, group, "mtime", &smtime, &e) == 0 && smtime == mtime &&
             h5_read_attr_f64(&c->file, group, "size", &ssize, &e) == 0 && ssize == size &&
             h5_read_attr_f64(&c->file, group, "image_width", &w, &e) == 0 &&
             h5_read_attr_f64(&c->file, group, "image_height", &h, &e) == 0;
    free(flag);
    free(stored_path);
    if (!ok) goto miss;

    clip_features_init(f, &c->geom);
    char path[256];
    int64_t cells = (int64_t)c->geom.grid * c->geom.grid;
    int64_t d_emb[1] = {c->geom.embed_dim}, d_tok[2] = {cells, c->geom.width};
    entry_path(path, sizeof path, group, "image_embedding");
    if (h5_read_f32_shape(&c->file, path, f->image_embedding, 1, d_emb, err)) goto fail;
    entry_path(path, sizeof path, group, "tokens_ln_post");
    if (h5_read_f32_shape(&c->file, path, f->tokens_ln_post, 2, d_tok, err)) goto fail;
    entry_path(path, sizeof path, group, "tokens_pre_ln_post");
    if (h5_read_f32_shape(&c->file, path, f->tokens_pre_ln_post, 2, d_tok, err)) goto fail;
    for (int i = 0; i < c->geom.n_scales; i++) {
        char name[32];
        snprintf(name, sizeof name, "windows_k%d", c->geom.scales[i]);
        entry_path(path, sizeof path, group, name);
        int64_t d_win[2] = {f->n_windows[i], c->geom.embed_dim};
        if (h5_read_f32_shape(&c->file, path, f->windows[i], 2, d_win, err)) goto fail;
    }
    if (image_width) *image_width = (int)w;
    if (image_height) *image_height = (int)h;
    c->hits++;
    return 1;
miss:
    c->misses++;
    return 0;
fail:
    clip_features_free(f);
    return err_prefixf(err, "feature cache %s: ", c->path);
}

int feature_cache_put(FeatureCache *c, const char *image_path, const ClipImageFeatures *f,
                       int image_width, int image_height, Error *err)
{
    if (f->geom.grid != c->geom.grid || f->geom.width != c->geom.width ||
        f->geom.embed_dim != c->geom.embed_dim ||
        f->tokens_ln_post == NULL || f->tokens_pre_ln_post == NULL || f->image_embedding == NULL)
        return err_setf(err, ERR_SHAPE, "feature cache %s: features of %s do not match the cache "
                        "geometry (grid %d width %d embed %d, both token variants)", c->path,
                        image_path, c->geom.grid, c->geom.width, c->geom.embed_dim);
    int fscale[WINCLIP_MAX_SCALES];
    for (int i = 0; i < c->geom.n_scales; i++) {
        int j = f->geom.stride == c->geom.stride ? window_geometry_scale(&f->geom, c->geom.scales[i]) : -1;
        fscale[i] = j >= 0 && f->windows[j] ? j : -1;
        if (fscale[i] < 0)
            return err_setf(err, ERR_SHAPE, "feature cache %s: features of %s lack scale %d",
                            c->path, image_path, c->geom.scales[i]);
    }
    double mtime, size;
    if (stat_image(image_path, &mtime, &size, err) != 0) return err->code;
    char group[128], key[PATH_MAX + 1], path[256];
    feature_cache_entry(image_path, group, sizeof group);
    image_key(image_path, key, sizeof key);
    if (h5_delete(&c->file, group, err) || h5_ensure_group(&c->file, group, err)) goto fail;
    int64_t cells = (int64_t)c->geom.grid * c->geom.grid;
    int64_t d_emb[1] = {c->geom.embed_dim}, d_tok[2] = {cells, c->geom.width};
    entry_path(path, sizeof path, group, "image_embedding");
    if (h5_write_f32(&c->file, path, f->image_embedding, 1, d_emb, err)) goto fail;
    entry_path(path, sizeof path, group, "tokens_ln_post");
    if (h5_write_f32(&c->file, path, f->tokens_ln_post, 2, d_tok, err)) goto fail;
    entry_path(path, sizeof path, group, "tokens_pre_ln_post");
    if (h5_write_f32(&c->file, path, f->tokens_pre_ln_post, 2, d_tok, err)) goto fail;
    for (int i = 0; i < c->geom.n_scales; i++) {
        char name[32];
        snprintf(name, sizeof name, "windows_k%d", c->geom.scales[i]);
        entry_path(path, sizeof path, group, name);
        int64_t d_win[2] = {f->n_windows[fscale[i]], c->geom.embed_dim};
        if (h5_write_f32(&c->file, path, f->windows[fscale[i]], 2, d_win, err)) goto fail;
    }
    if (h5_write_attr_string(&c->file, group, "path", key, err) ||
        h5_write_attr_f64(&c->file, group, "mtime", mtime, err) ||
        h5_write_attr_f64(&c->file, group, "size", size, err) ||
        h5_write_attr_f64(&c->file, group, "image_width", image_width, err) ||
        h5_write_attr_f64(&c->file, group, "image_height", image_height, err))
        goto fail;
    /* everything above is flushed before the flag, and the flag itself after */
    if (h5_flush(&c->file, err) || h5_write_attr_string(&c->file, group, "complete", "1", err) ||
        h5_flush(&c->file, err))
        goto fail;
    c->stored++;
    return 0;
fail:
    return err_prefixf(err, "feature cache %s (%s): ", c->path, image_path);
}
