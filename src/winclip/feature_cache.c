/*
 * feature_cache.c - per-image, per-component WinCLIP feature cache (see feature_cache.h).
 *
 * Does: one HDF5 file per (image, component) in a folder per (weights, pre-processing, G W E);
 * components described by one table (kinds: their arrays, shapes, and where they live in
 * ClipImageFeatures); entries written under a temp name and rename()d into place; every read
 * validated (attributes, Fletcher-32 checksum, shapes, finite values).
 * Does not: compute features; take locks (none are needed: files are immutable once renamed).
 * Reference: shared/spec/winclip.md §4.
 */
#define _XOPEN_SOURCE 700 /* realpath, st_mtim, kill */
#include "winclip/feature_cache.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clip/numerics.h"
#include "clip/windows.h"
#include "util/fsutil.h"
#include "util/h5.h"
#include "util/sha256.h"

#define FORMAT_NAME "winclip-feature-2"

/* ---- the component table ---- */

/* One array of a component: its dataset name, rank, shape for geometry g (scale slot s) and
 * where it lives in ClipImageFeatures. */
typedef struct {
    const char *name;
    int rank;
    void (*dims)(const WindowGeometry *g, int s, int64_t *dims);
    float *(*slot)(const ClipImageFeatures *f, int s);
} ComponentArray;

typedef struct {
    const char *name;  /* "full", "windows" (file name part and `component` attribute) */
    int per_scale;     /* one component per window scale slot (bit FEATURE_SCALE(s))  */
    const ComponentArray *arrays;
    int n_arrays;
} ComponentKind;

static void dims_embedding(const WindowGeometry *g, int s, int64_t *d) { (void)s, d[0] = g->embed_dim; }
static void dims_tokens(const WindowGeometry *g, int s, int64_t *d) { (void)s, d[0] = (int64_t)g->grid * g->grid, d[1] = g->width; }
static void dims_windows(const WindowGeometry *g, int s, int64_t *d) { d[0] = window_geometry_count(g, s), d[1] = g->embed_dim; }
static float *slot_embedding(const ClipImageFeatures *f, int s) { return (void)s, f->image_embedding; }
static float *slot_ln_post(const ClipImageFeatures *f, int s) { return (void)s, f->tokens_ln_post; }
static float *slot_pre_ln_post(const ClipImageFeatures *f, int s) { return (void)s, f->tokens_pre_ln_post; }
static float *slot_windows(const ClipImageFeatures *f, int s) { return f->windows[s]; }

static const ComponentArray FULL_ARRAYS[] = {
    {"image_embedding", 1, dims_embedding, slot_embedding},   /* (E)      */
    {"tokens_ln_post", 2, dims_tokens, slot_ln_post},         /* (G*G, W) */
    {"tokens_pre_ln_post", 2, dims_tokens, slot_pre_ln_post}, /* (G*G, W) */
};
static const ComponentArray WINDOW_ARRAYS[] = {
    {"windows", 2, dims_windows, slot_windows}, /* (n_windows, E) */
};
static const ComponentKind KIND_FULL = {"full", 0, FULL_ARRAYS, (int)ARRAY_LEN(FULL_ARRAYS)};
static const ComponentKind KIND_WINDOWS = {"windows", 1, WINDOW_ARRAYS, (int)ARRAY_LEN(WINDOW_ARRAYS)};

/* The kind and scale slot of one component bit (NULL if the bit means nothing for g). */
static const ComponentKind *component_kind(const WindowGeometry *g, unsigned bit, int *slot)
{
    *slot = 0;
    if (bit == FEATURE_FULL) return &KIND_FULL;
    for (int s = 0; s < g->n_scales; s++)
        if (bit == FEATURE_SCALE(s)) {
            *slot = s;
            return &KIND_WINDOWS;
        }
    return NULL;
}

unsigned feature_components_all(const WindowGeometry *g)
{
    unsigned m = FEATURE_FULL;
    for (int s = 0; s < g->n_scales; s++) m |= FEATURE_SCALE(s);
    return m;
}

int feature_components_count(unsigned mask)
{
    int n = 0;
    for (; mask; mask &= mask - 1) n++;
    return n;
}

/* ---- open / close ---- */

/* The writer's pid of a temp name ".NAME.PID.SUFFIX" (fs_temp_reserve), or 0. */
static long temp_owner(const char *name)
{
    if (name[0] != '.') return 0;
    const char *last = strrchr(name, '.'), *p = last;
    if (!last || last == name) return 0;
    while (p > name + 1 && p[-1] >= '0' && p[-1] <= '9') p--;
    if (p == last || p[-1] != '.' || p - 1 == name) return 0;
    return strtol(p, NULL, 10);
}

/* Remove the temp files of writers that are gone (kill -9 during a put). */
static void clean_dead_temps(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return;
    for (struct dirent *e; (e = readdir(d));) {
        long pid = temp_owner(e->d_name);
        if (pid <= 0 || pid == (long)getpid()) continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue; /* running (or not ours to ask) */
        char *full = xasprintf("%s/%s", dir, e->d_name);
        unlink(full);
        free(full);
    }
    closedir(d);
}

int feature_cache_open(FeatureCache *c, const char *root, const FeatureCacheKey *key, Error *err)
{
    memset(c, 0, sizeof *c);
    if (!key->weights_sha256 || !key->preprocess || strlen(key->weights_sha256) >= sizeof c->weights_sha256 ||
        strlen(key->preprocess) >= sizeof c->preprocess || key->grid < 1 || key->width < 1 || key->embed_dim < 1)
        return err_setf(err, ERR_VALUE, "feature cache %s: bad key (weights sha256, pre-processing, G W E)", root);
    snprintf(c->weights_sha256, sizeof c->weights_sha256, "%s", key->weights_sha256);
    snprintf(c->preprocess, sizeof c->preprocess, "%s", key->preprocess);
    c->grid = key->grid, c->width = key->width, c->embed_dim = key->embed_dim;
    char *text = xasprintf("format = %s\nweights_sha256 = %s\npreprocess = %s\ngrid = %d\nwidth = %d\nembed_dim = %d\n",
                           FORMAT_NAME, c->weights_sha256, c->preprocess, c->grid, c->width, c->embed_dim);
    char hex[65];
    sha256_hex_string(text, hex);
    int n = snprintf(c->dir, sizeof c->dir, "%s/%.16s", root, hex);
    int rc = n < 0 || (size_t)n >= sizeof c->dir ? err_setf(err, ERR_VALUE, "feature cache %s: path too long", root) : 0;
    if (!rc) rc = fs_mkdirs(c->dir, err);
    char *key_txt = xasprintf("%s/key.txt", c->dir);
    if (!rc && !fs_is_file(key_txt)) rc = fs_write_atomic(key_txt, text, strlen(text), err);
    free(key_txt);
    free(text);
    if (rc) return err_prefixf(err, "feature cache: ");
    clean_dead_temps(c->dir);
    return 0;
}

void feature_cache_close(FeatureCache *c)
{
    memset(c, 0, sizeof *c);
}

/* ---- image identity ---- */

typedef struct {
    char path[PATH_MAX + 1]; /* real path when it resolves, else as given */
    char hex[65];            /* sha256 of path */
    double mtime, size;
} ImageId;

static int image_id(const char *image_path, ImageId *id, Error *err)
{
    struct stat st;
    if (stat(image_path, &st) != 0)
        return err_setf(err, ERR_IO, "%s: cannot stat image: %s", image_path, strerror(errno));
    id->mtime = (double)st.st_mtim.tv_sec + 1e-9 * (double)st.st_mtim.tv_nsec;
    id->size = (double)st.st_size;
    char *real = realpath(image_path, NULL);
    snprintf(id->path, sizeof id->path, "%s", real ? real : image_path);
    free(real);
    sha256_hex_string(id->path, id->hex);
    return 0;
}

static void component_file(const FeatureCache *c, const ImageId *id, const WindowGeometry *g,
                           const ComponentKind *k, int s, char *out, size_t cap)
{
    if (k->per_scale) snprintf(out, cap, "%s/%.32s-%s-k%d-s%d.h5", c->dir, id->hex, k->name, g->scales[s], g->stride);
    else snprintf(out, cap, "%s/%.32s-%s.h5", c->dir, id->hex, k->name);
}

void feature_cache_file(const FeatureCache *c, const char *image_path, const WindowGeometry *g,
                        unsigned component, char *path, size_t cap)
{
    ImageId id;
    Error e = {0};
    int s;
    const ComponentKind *k = component_kind(g, component, &s);
    if (image_id(image_path, &id, &e) != 0 || !k) {
        snprintf(path, cap, "%s", "");
        return;
    }
    component_file(c, &id, g, k, s, path, cap);
}

/* ---- reading one component ---- */

/* 1 when every attribute of an entry file says it is this component of this image version,
 * 0 when it is another version of the image (mtime or size changed), -1 (why set) otherwise. */
static int check_attrs(const FeatureCache *c, const H5File *hf, const ImageId *id, const WindowGeometry *g,
                       const ComponentKind *k, int s, int *w, int *h, char *why, size_t cap)
{
    const char *snames[5] = {"format", "component", "weights_sha256", "preprocess", "path"};
    const char *swant[5] = {FORMAT_NAME, k->name, c->weights_sha256, c->preprocess, id->path};
    for (int i = 0; i < 5; i++) {
        char *got = NULL;
        Error e = {0};
        if (h5_read_attr_string(hf, "/", snames[i], &got, &e) != 0) {
            snprintf(why, cap, "attribute %s: %s", snames[i], e.msg);
            return -1;
        }
        int same = strcmp(got, swant[i]) == 0;
        if (!same) snprintf(why, cap, "attribute %s: expected '%.200s', found '%.200s'", snames[i], swant[i], got);
        free(got);
        if (!same) return -1;
    }
    const char *nnames[9] = {"grid", "width", "embed_dim", "scale", "stride", "mtime", "size", "image_width", "image_height"};
    double nwant[5] = {c->grid, c->width, c->embed_dim, k->per_scale ? g->scales[s] : 0, k->per_scale ? g->stride : 0};
    double v[9];
    for (int i = 0; i < 9; i++) {
        Error e = {0};
        if ((i == 3 || i == 4) && !k->per_scale) continue;
        if (h5_read_attr_f64(hf, "/", nnames[i], &v[i], &e) != 0) {
            snprintf(why, cap, "attribute %s: %s", nnames[i], e.msg);
            return -1;
        }
        if (i < 5 && v[i] != nwant[i]) {
            snprintf(why, cap, "attribute %s: expected %g, found %g", nnames[i], nwant[i], v[i]);
            return -1;
        }
    }
    if (v[5] != id->mtime || v[6] != id->size) return 0; /* the image changed since */
    if (!(v[7] >= 1 && v[7] <= (1 << 24) && v[8] >= 1 && v[8] <= (1 << 24))) {
        snprintf(why, cap, "attribute image_width x image_height: expected 1..%d, found %g x %g", 1 << 24, v[7], v[8]);
        return -1;
    }
    *w = (int)v[7];
    *h = (int)v[8];
    return 1;
}

/* Every array of the component: checksum filter present (the read verifies it), exact shape,
 * finite values. 0, or -1 with why set. */
static int read_arrays(const H5File *hf, const WindowGeometry *g, const ComponentKind *k, int s,
                       ClipImageFeatures *f, char *why, size_t cap)
{
    for (int a = 0; a < k->n_arrays; a++) {
        const ComponentArray *arr = &k->arrays[a];
        int64_t dims[H5_MAX_RANK];
        arr->dims(g, s, dims);
        Error e = {0};
        int sum = h5_checksummed(hf, arr->name, &e);
        if (sum <= 0) {
            snprintf(why, cap, "%s", sum < 0 ? e.msg : "");
            if (sum == 0) snprintf(why, cap, "dataset %s: no Fletcher-32 checksum", arr->name);
            return -1;
        }
        float *out = arr->slot(f, s);
        if (h5_read_f32_shape(hf, arr->name, out, arr->rank, dims, &e) != 0) {
            if (e.code == ERR_IO) snprintf(why, cap, "dataset %s: read failed: checksum mismatch or truncated data", arr->name);
            else snprintf(why, cap, "%s", e.msg);
            return -1;
        }
        size_t n = 1;
        for (int i = 0; i < arr->rank; i++) n *= (size_t)dims[i];
        for (size_t i = 0; i < n; i++)
            if (!isfinite(out[i])) {
                snprintf(why, cap, "dataset %s: non-finite value at element %zu", arr->name, i);
                return -1;
            }
    }
    return 0;
}

/* 1 hit, 0 absent or another image version, -1 invalid (why set). */
static int read_component(const FeatureCache *c, const char *file, const ImageId *id, const WindowGeometry *g,
                          const ComponentKind *k, int s, ClipImageFeatures *f, int *w, int *h, char *why, size_t cap)
{
    struct stat st;
    if (stat(file, &st) != 0) return 0;
    H5File hf = {0};
    Error e = {0};
    if (h5_open_read(&hf, file, &e) != 0) {
        snprintf(why, cap, "%s", e.msg);
        return -1;
    }
    int rc = check_attrs(c, &hf, id, g, k, s, w, h, why, cap);
    if (rc == 1 && read_arrays(&hf, g, k, s, f, why, cap) != 0) rc = -1;
    h5_close(&hf);
    return rc;
}

static int geometry_matches(const FeatureCache *c, const ClipImageFeatures *f)
{
    return f->geom.grid == c->grid && f->geom.width == c->width && f->geom.embed_dim == c->embed_dim;
}

int feature_cache_get(FeatureCache *c, const char *image_path, ClipImageFeatures *f, unsigned want,
                      unsigned *have, int *image_width, int *image_height, Error *err)
{
    *have = 0;
    if (!geometry_matches(c, f))
        return err_setf(err, ERR_SHAPE, "feature cache %s: features of grid %d width %d embed %d, expected %d %d %d",
                        c->dir, f->geom.grid, f->geom.width, f->geom.embed_dim, c->grid, c->width, c->embed_dim);
    ImageId id;
    if (image_id(image_path, &id, err) != 0) return err->code;
    want &= feature_components_all(&f->geom);
    for (unsigned bit = 1; bit && bit <= want; bit <<= 1) {
        if (!(want & bit)) continue;
        int s, w = 0, h = 0;
        const ComponentKind *k = component_kind(&f->geom, bit, &s);
        char file[1200], why[1400] = "";
        component_file(c, &id, &f->geom, k, s, file, sizeof file);
        int rc = read_component(c, file, &id, &f->geom, k, s, f, &w, &h, why, sizeof why);
        if (rc == 1) {
            *have |= bit;
            c->hits++;
            if (image_width) *image_width = w;
            if (image_height) *image_height = h;
            continue;
        }
        c->misses++;
        if (rc < 0) {
            c->rejected++;
            size_t n = strlen(file); /* h5 messages start with the file name: said once */
            const char *reason = strncmp(why, file, n) == 0 && strncmp(why + n, ": ", 2) == 0 ? why + n + 2 : why;
            fprintf(stderr, "winclip: feature cache: %s (%s of %s): invalid, recomputed: %s\n", file, k->name,
                    image_path, reason);
        }
    }
    return 0;
}

/* ---- writing one component ---- */

static int write_component(const FeatureCache *c, H5File *hf, const ImageId *id, const ClipImageFeatures *f,
                           const ComponentKind *k, int s, int w, int h, Error *err)
{
    const WindowGeometry *g = &f->geom;
    /* numerics: what computed it (provenance only; not part of the key, never checked) */
    char numerics[CLIP_NUMERICS_CAP];
    clip_numerics(numerics, sizeof numerics);
    const char *snames[6] = {"format", "component", "weights_sha256", "preprocess", "path", "numerics"};
    const char *svals[6] = {FORMAT_NAME, k->name, c->weights_sha256, c->preprocess, id->path, numerics};
    for (int i = 0; i < 6; i++)
        if (h5_write_attr_string(hf, "/", snames[i], svals[i], err)) return err->code;
    const char *nnames[9] = {"grid", "width", "embed_dim", "mtime", "size", "image_width", "image_height", "scale", "stride"};
    double nvals[9] = {c->grid, c->width, c->embed_dim, id->mtime, id->size, w, h, k->per_scale ? g->scales[s] : 0,
                       k->per_scale ? g->stride : 0};
    for (int i = 0; i < (k->per_scale ? 9 : 7); i++)
        if (h5_write_attr_f64(hf, "/", nnames[i], nvals[i], err)) return err->code;
    for (int a = 0; a < k->n_arrays; a++) {
        int64_t dims[H5_MAX_RANK];
        k->arrays[a].dims(g, s, dims);
        const float *data = k->arrays[a].slot(f, s);
        if (!data) return err_setf(err, ERR_SHAPE, "%s: no %s array to store", id->path, k->arrays[a].name);
        if (h5_write_f32_checked(hf, k->arrays[a].name, data, k->arrays[a].rank, dims, err)) return err->code;
    }
    return 0;
}

int feature_cache_put(FeatureCache *c, const char *image_path, const ClipImageFeatures *f, unsigned which,
                      int image_width, int image_height, Error *err)
{
    if (!geometry_matches(c, f))
        return err_setf(err, ERR_SHAPE, "feature cache %s: features of %s have grid %d width %d embed %d, expected "
                        "%d %d %d", c->dir, image_path, f->geom.grid, f->geom.width, f->geom.embed_dim, c->grid,
                        c->width, c->embed_dim);
    if (which & ~feature_components_all(&f->geom))
        return err_setf(err, ERR_USAGE, "feature cache %s: component bits 0x%x not in the features' geometry", c->dir,
                        which);
    ImageId id;
    if (image_id(image_path, &id, err) != 0) return err->code;
    for (unsigned bit = 1; bit && bit <= which; bit <<= 1) {
        if (!(which & bit)) continue;
        int s;
        const ComponentKind *k = component_kind(&f->geom, bit, &s);
        char file[1200];
        component_file(c, &id, &f->geom, k, s, file, sizeof file);
        char *tmp = fs_temp_reserve(file, err);
        if (!tmp) return err_prefixf(err, "feature cache: ");
        H5File hf = {0};
        int rc = h5_create(&hf, tmp, err);
        if (!rc) rc = write_component(c, &hf, &id, f, k, s, image_width, image_height, err);
        h5_close(&hf);
        /* complete and closed: only now does it get its name (readers never see a partial file) */
        if (!rc) rc = fs_rename_durable(tmp, file, err);
        if (rc) unlink(tmp);
        free(tmp);
        if (rc) return err_prefixf(err, "feature cache (%s, %s): ", image_path, k->name);
        c->stored++;
    }
    return 0;
}
