/*
 * check_feature_cache.c - tests for feature_cache.c: hit, miss after the image changes (mtime,
 * size), other weights / preprocessing never read, an interrupted entry recomputed, a corrupt
 * file moved aside, geometry errors.
 */
#define _XOPEN_SOURCE 700 /* utimensat */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/base.h"
#include "winclip/feature_cache.h"
#include "util/h5.h"
#include "check_suites.h"
#include "test_util.h"

static const int SCALES[2] = {2, 3};

static FeatureCacheKey test_key(const char *sha)
{
    FeatureCacheKey k = {sha, "resize=pil-bicubic;geometry=squash;image_size=240", {0}};
    ck_assert_int_eq(window_geometry_init(&k.geom, 15, 8, 4, SCALES, 2, 1, NULL), 0);
    return k;
}

/* Zeroed features of grid 15, embed dim 4, stride 1 and the given width and scales. */
static void alloc_features(ClipImageFeatures *f, int width, const int *scales, int n_scales)
{
    WindowGeometry g;
    ck_assert_int_eq(window_geometry_init(&g, 15, width, 4, scales, n_scales, 1, NULL), 0);
    clip_features_init(f, &g);
}

/* Features with distinct deterministic values (seed shifts them). */
static void fake_features(ClipImageFeatures *f, float seed)
{
    alloc_features(f, 8, SCALES, 2);
    for (int i = 0; i < 4; i++) f->image_embedding[i] = seed + (float)i;
    for (int i = 0; i < 225 * 8; i++) {
        f->tokens_ln_post[i] = seed * 0.5f + (float)i;
        f->tokens_pre_ln_post[i] = seed * 0.25f - (float)i;
    }
    for (int s = 0; s < 2; s++)
        for (int i = 0; i < f->n_windows[s] * 4; i++) f->windows[s][i] = seed + 0.001f * (float)(i + s);
}

static void assert_same(const ClipImageFeatures *a, const ClipImageFeatures *b)
{
    ck_assert(window_geometry_equal(&a->geom, &b->geom));
    ck_assert(memcmp(a->image_embedding, b->image_embedding, 4 * sizeof(float)) == 0);
    ck_assert(memcmp(a->tokens_ln_post, b->tokens_ln_post, 225 * 8 * sizeof(float)) == 0);
    ck_assert(memcmp(a->tokens_pre_ln_post, b->tokens_pre_ln_post, 225 * 8 * sizeof(float)) == 0);
    for (int s = 0; s < 2; s++) {
        ck_assert_int_eq(a->n_windows[s], b->n_windows[s]);
        ck_assert(memcmp(a->windows[s], b->windows[s], (size_t)a->n_windows[s] * 4 * sizeof(float)) == 0);
    }
}

/* A temporary folder with an image file "a.png" (content given) and a cache path in it. */
typedef struct {
    char *dir;
    char img[1024], cache[1024];
} Scratch;

static void scratch_init(Scratch *t, const char *cache_rel, const char *content)
{
    t->dir = test_mkdtemp();
    snprintf(t->img, sizeof t->img, "%s/a.png", t->dir);
    snprintf(t->cache, sizeof t->cache, "%s/%s", t->dir, cache_rel);
    ck_assert_int_eq(test_write_file(t->img, content, strlen(content)), 0);
}

static void scratch_free(Scratch *t)
{
    test_rmtree(t->dir);
    free(t->dir);
}

static void set_mtime(const char *path, long sec)
{
    struct timespec times[2] = {{sec, 0}, {sec, 0}};
    ck_assert_int_eq(utimensat(AT_FDCWD, path, times, 0), 0);
}

START_TEST(cache_hit_and_stale)
{
    Scratch t;
    scratch_init(&t, "cache/sub/mvtec_bottle.h5", "image-bytes"); /* parents created */
    const char *dir = t.dir, *img = t.img, *cpath = t.cache;
    set_mtime(img, 1000000);
    Error err = {0};
    FeatureCacheKey key = test_key("aa11");
    FeatureCache c = {0};
    ck_assert_msg(feature_cache_open(&c, cpath, &key, &err) == 0, "%s", err.msg);
    ClipImageFeatures f, g;
    int w = 0, h = 0;
    ck_assert_int_eq(feature_cache_get(&c, img, &g, &w, &h, &err), 0); /* empty: miss */
    fake_features(&f, 1.0f);
    ck_assert_msg(feature_cache_put(&c, img, &f, 400, 300, &err) == 0, "%s", err.msg);
    feature_cache_close(&c);

    /* reopen: hit with identical arrays and the original size */
    ck_assert_int_eq(feature_cache_open(&c, cpath, &key, &err), 0);
    ck_assert_str_eq(c.path, cpath);
    ck_assert_int_eq(feature_cache_get(&c, img, &g, &w, &h, &err), 1);
    ck_assert_int_eq(w, 400);
    ck_assert_int_eq(h, 300);
    assert_same(&f, &g);
    clip_features_free(&g);
    /* same file through another relative spelling of the path is the same entry */
    char other[1100];
    snprintf(other, sizeof other, "%s/./a.png", dir);
    ck_assert_int_eq(feature_cache_get(&c, other, &g, NULL, NULL, &err), 1);
    clip_features_free(&g);

    /* touching the image (mtime) invalidates the entry; so does a size change */
    set_mtime(img, 1000001);
    ck_assert_int_eq(feature_cache_get(&c, img, &g, &w, &h, &err), 0);
    ck_assert_int_eq(feature_cache_put(&c, img, &f, 400, 300, &err), 0);
    ck_assert_int_eq(feature_cache_get(&c, img, &g, &w, &h, &err), 1);
    clip_features_free(&g);
    ck_assert_int_eq(test_write_file(img, "image-bytes!", 12), 0);
    set_mtime(img, 1000001);
    ck_assert_int_eq(feature_cache_get(&c, img, &g, &w, &h, &err), 0);
    ck_assert_int_eq((int)c.hits, 3);
    ck_assert_int_eq((int)c.misses, 2); /* counters restart at open */
    feature_cache_close(&c);
    clip_features_free(&f);
    scratch_free(&t);
}
END_TEST

START_TEST(cache_other_weights)
{
    Scratch t;
    scratch_init(&t, "c.h5", "x");
    const char *img = t.img, *cpath = t.cache;
    Error err = {0};
    FeatureCacheKey key = test_key("aa11"), other = test_key("bb22");
    FeatureCache c = {0};
    ClipImageFeatures f, g;
    fake_features(&f, 2.0f);
    ck_assert_int_eq(feature_cache_open(&c, cpath, &key, &err), 0);
    ck_assert_int_eq(feature_cache_put(&c, img, &f, 240, 240, &err), 0);
    feature_cache_close(&c);

    /* other weights: the file is not used, a keyed sibling is */
    ck_assert_int_eq(feature_cache_open(&c, cpath, &other, &err), 0);
    ck_assert_str_ne(c.path, cpath);
    ck_assert(strstr(c.note, "other weights") != NULL);
    ck_assert_int_eq(feature_cache_get(&c, img, &g, NULL, NULL, &err), 0);
    ClipImageFeatures f2;
    fake_features(&f2, 3.0f);
    ck_assert_int_eq(feature_cache_put(&c, img, &f2, 240, 240, &err), 0);
    char sibling[1024];
    snprintf(sibling, sizeof sibling, "%s", c.path);
    feature_cache_close(&c);
    /* other preprocessing, same weights: also a different file */
    FeatureCacheKey pre = key;
    pre.preprocess = "resize=torch-bicubic-aa;geometry=squash;image_size=240";
    ck_assert_int_eq(feature_cache_open(&c, cpath, &pre, &err), 0);
    ck_assert_str_ne(c.path, cpath);
    ck_assert_str_ne(c.path, sibling);
    ck_assert_int_eq(feature_cache_get(&c, img, &g, NULL, NULL, &err), 0);
    feature_cache_close(&c);

    /* both original entries are intact */
    ck_assert_int_eq(feature_cache_open(&c, cpath, &key, &err), 0);
    ck_assert_str_eq(c.path, cpath);
    ck_assert_int_eq(feature_cache_get(&c, img, &g, NULL, NULL, &err), 1);
    assert_same(&f, &g);
    clip_features_free(&g);
    feature_cache_close(&c);
    ck_assert_int_eq(feature_cache_open(&c, cpath, &other, &err), 0);
    ck_assert_str_eq(c.path, sibling);
    ck_assert_int_eq(feature_cache_get(&c, img, &g, NULL, NULL, &err), 1);
    assert_same(&f2, &g);
    clip_features_free(&g);
    feature_cache_close(&c);
    clip_features_free(&f);
    clip_features_free(&f2);
    scratch_free(&t);
}
END_TEST

START_TEST(cache_interrupted_entry)
{
    Scratch t;
    scratch_init(&t, "c.h5", "x");
    const char *img = t.img, *cpath = t.cache;
    Error err = {0};
    FeatureCacheKey key = test_key("aa11");
    FeatureCache c = {0};
    ClipImageFeatures f, g;
    fake_features(&f, 4.0f);
    ck_assert_int_eq(feature_cache_open(&c, cpath, &key, &err), 0);
    feature_cache_close(&c);

    /* what a run killed during feature_cache_put leaves: arrays and attributes, no flag */
    char group[128], path[256];
    feature_cache_entry(img, group, sizeof group);
    struct stat st;
    ck_assert_int_eq(stat(img, &st), 0);
    H5File raw = {0};
    ck_assert_int_eq(h5_open_rw(&raw, cpath, &err), 0);
    snprintf(path, sizeof path, "%s/image_embedding", group);
    int64_t d4[1] = {4};
    ck_assert_int_eq(h5_write_f32(&raw, path, f.image_embedding, 1, d4, &err), 0);
    char *real = realpath(img, NULL);
    ck_assert_int_eq(h5_write_attr_string(&raw, group, "path", real, &err), 0);
    free(real);
    ck_assert_int_eq(h5_write_attr_f64(&raw, group, "mtime",
                                       (double)st.st_mtim.tv_sec + 1e-9 * (double)st.st_mtim.tv_nsec, &err), 0);
    ck_assert_int_eq(h5_write_attr_f64(&raw, group, "size", (double)st.st_size, &err), 0);
    h5_close(&raw);

    ck_assert_int_eq(feature_cache_open(&c, cpath, &key, &err), 0);
    ck_assert_int_eq(feature_cache_get(&c, img, &g, NULL, NULL, &err), 0); /* detected: miss */
    ck_assert_int_eq(feature_cache_put(&c, img, &f, 240, 240, &err), 0);   /* recomputed */
    ck_assert_int_eq(feature_cache_get(&c, img, &g, NULL, NULL, &err), 1);
    assert_same(&f, &g);
    clip_features_free(&g);
    feature_cache_close(&c);
    clip_features_free(&f);
    scratch_free(&t);
}
END_TEST

START_TEST(cache_corrupt_and_errors)
{
    char *dir = test_mkdtemp();
    char img[1024], cpath[1024], aside[1100];
    snprintf(img, sizeof img, "%s/a.png", dir);
    snprintf(cpath, sizeof cpath, "%s/c.h5", dir);
    snprintf(aside, sizeof aside, "%s.corrupt", cpath);
    ck_assert_int_eq(test_write_file(cpath, "not hdf5 at all", 15), 0);
    Error err = {0};
    FeatureCacheKey key = test_key("aa11");
    FeatureCache c = {0};
    ck_assert_msg(feature_cache_open(&c, cpath, &key, &err) == 0, "%s", err.msg);
    ck_assert(strstr(c.note, "unreadable") != NULL);
    struct stat st;
    ck_assert_int_eq(stat(aside, &st), 0);

    ClipImageFeatures f, g;
    /* missing image */
    ck_assert_int_eq(feature_cache_get(&c, img, &g, NULL, NULL, &err), ERR_IO);
    ck_assert(strstr(err.msg, "a.png") != NULL);
    /* features of another geometry */
    ck_assert_int_eq(test_write_file(img, "x", 1), 0);
    alloc_features(&f, 16, SCALES, 2);
    ck_assert_int_eq(feature_cache_put(&c, img, &f, 240, 240, &err), ERR_SHAPE);
    ck_assert(strstr(err.msg, "geometry") != NULL);
    clip_features_free(&f);
    const int only2[1] = {2};
    alloc_features(&f, 8, only2, 1);
    ck_assert_int_eq(feature_cache_put(&c, img, &f, 240, 240, &err), ERR_SHAPE);
    ck_assert(strstr(err.msg, "scale 3") != NULL);
    clip_features_free(&f);
    feature_cache_close(&c);
    /* an uncreatable location */
    ck_assert_int_ne(feature_cache_open(&c, "/proc/winclip-no/c.h5", &key, &err), 0);
    ck_assert(strstr(err.msg, "/proc/winclip-no") != NULL);
    feature_cache_close(&c);
    test_rmtree(dir);
    free(dir);
}
END_TEST

Suite *feature_cache_suite(void)
{
    Suite *s = suite_create("feature_cache");
    TCase *core = tcase_create("Core");
    tcase_add_test(core, cache_hit_and_stale);
    tcase_add_test(core, cache_other_weights);
    tcase_add_test(core, cache_interrupted_entry);
    suite_add_tcase(s, core);
    TCase *limits = tcase_create("Limits");
    tcase_add_test(limits, cache_corrupt_and_errors);
    suite_add_tcase(s, limits);
    return s;
}
