/*
 * check_feature_cache.c - tests for feature_cache.c: per-component hits and misses (a subset of
 * the scales served from a superset's entries, a superset completed from subsets), a miss after
 * the image changes (mtime, size), other weights / pre-processing never read, invalid entries
 * (flipped data bytes: Fletcher-32; truncated file; wrong shape; no checksum; non-finite values)
 * reported and recomputed, concurrent writers and readers, dead temp files removed, errors.
 */
#define _XOPEN_SOURCE 700 /* utimensat, kill, truncate */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/base.h"
#include "clip/numerics.h"
#include "clip/ops_isa.h"
#include "winclip/feature_cache.h"
#include "util/sha256.h"
#include "util/h5.h"
#include "check_suites.h"
#include "test_util.h"

static const int SCALES[2] = {2, 3};

static FeatureCacheKey test_key(const char *sha)
{
    FeatureCacheKey k = {sha, "resize=pil-bicubic;geometry=squash;image_size=240", 15, 8, 4};
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

#define ALL (FEATURE_FULL | FEATURE_SCALE(0) | FEATURE_SCALE(1))

/* get into fresh features of scales (n), returning the bits found. */
static unsigned get_scales(FeatureCache *c, const char *img, const int *scales, int n, ClipImageFeatures *g)
{
    alloc_features(g, 8, scales, n);
    unsigned have = 0;
    Error err = {0};
    ck_assert_msg(feature_cache_get(c, img, g, feature_components_all(&g->geom), &have, NULL, NULL, &err) == 0, "%s",
                  err.msg);
    return have;
}

/* The numerics attribute of image's entry "full" or "windows-k<k>-s<s>" in c's folder (static
 * buffer; "" when absent). */
static const char *entry_numerics(const FeatureCache *c, const char *image, const char *component)
{
    static char out[CLIP_NUMERICS_CAP + 1];
    char *real = realpath(image, NULL), hex[65];
    ck_assert(real != NULL);
    sha256_hex_string(real, hex);
    free(real);
    char *path = xasprintf("%s/%.32s-%s.h5", c->dir, hex, component);
    H5File hf = {0};
    Error err = {0};
    ck_assert_msg(h5_open_read(&hf, path, &err) == 0, "%s", err.msg);
    char *got = NULL;
    out[0] = 0;
    if (h5_read_attr_string(&hf, "/", "numerics", &got, &err) == 0) snprintf(out, sizeof out, "%s", got);
    free(got);
    h5_close(&hf);
    free(path);
    return out;
}

START_TEST(cache_components)
{
    Scratch t;
    scratch_init(&t, "cache/sub/mvtec_bottle", "image-bytes"); /* parents created */
    Error err = {0};
    FeatureCacheKey key = test_key("aa11");
    FeatureCache c;
    ck_assert_msg(feature_cache_open(&c, t.cache, &key, &err) == 0, "%s", err.msg);
    ClipImageFeatures f, g;
    fake_features(&f, 1.0f);
    unsigned have = 1234;
    int w = 0, h = 0;
    ck_assert_int_eq(feature_cache_get(&c, t.img, &f, ALL, &have, &w, &h, &err), 0);
    ck_assert_uint_eq(have, 0); /* empty: three misses */
    ck_assert_int_eq(c.misses, 3);
    ck_assert_int_eq(c.rejected, 0);
    ck_assert_msg(feature_cache_put(&c, t.img, &f, ALL, 400, 300, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(c.stored, 3);
    ck_assert_int_eq(test_count_entries(c.dir), 4); /* key.txt + full + k2 + k3 */
    /* the same scales: everything back, bit for bit */
    alloc_features(&g, 8, SCALES, 2);
    ck_assert_int_eq(feature_cache_get(&c, t.img, &g, ALL, &have, &w, &h, &err), 0);
    ck_assert_uint_eq(have, ALL);
    ck_assert(w == 400 && h == 300);
    assert_same(&f, &g);
    clip_features_free(&g);
    /* each entry records the numerics that computed it ... */
    char numerics[CLIP_NUMERICS_CAP];
    clip_numerics(numerics, sizeof numerics);
    ck_assert_str_eq(entry_numerics(&c, t.img, "full"), numerics);
    /* ... which is not part of the key: another kernel path reads the same entries */
    const OpsIsa isa_before = ops_isa_active();
    ops_isa_set(isa_before == OPS_ISA_SCALAR ? OPS_ISA_AVX512 : OPS_ISA_SCALAR);
    char other_numerics[CLIP_NUMERICS_CAP];
    clip_numerics(other_numerics, sizeof other_numerics);
    alloc_features(&g, 8, SCALES, 2);
    ck_assert_int_eq(feature_cache_get(&c, t.img, &g, ALL, &have, &w, &h, &err), 0);
    ops_isa_set(isa_before);
    ck_assert_uint_eq(have, ALL);
    assert_same(&f, &g);
    clip_features_free(&g);
    if (ops_isa_detected() != OPS_ISA_SCALAR) ck_assert_str_ne(other_numerics, numerics);
    /* a subset of the scales is served from the superset's entries */
    const int only2[1] = {2}, only3[1] = {3}, three[3] = {3, 2, 4};
    ck_assert_uint_eq(get_scales(&c, t.img, only2, 1, &g), FEATURE_FULL | FEATURE_SCALE(0));
    ck_assert(memcmp(g.windows[0], f.windows[0], 196 * 4 * sizeof(float)) == 0);
    ck_assert(memcmp(g.tokens_pre_ln_post, f.tokens_pre_ln_post, 225 * 8 * sizeof(float)) == 0);
    clip_features_free(&g);
    ck_assert_uint_eq(get_scales(&c, t.img, only3, 1, &g), FEATURE_FULL | FEATURE_SCALE(0));
    ck_assert(memcmp(g.windows[0], f.windows[1], 169 * 4 * sizeof(float)) == 0);
    clip_features_free(&g);
    /* {3,2,4}: k4 is the one miss; storing it alone completes the entry */
    long hits = c.hits, misses = c.misses;
    ck_assert_uint_eq(get_scales(&c, t.img, three, 3, &g), FEATURE_FULL | FEATURE_SCALE(0) | FEATURE_SCALE(1));
    ck_assert_int_eq(c.hits - hits, 3);
    ck_assert_int_eq(c.misses - misses, 1);
    for (int i = 0; i < g.n_windows[2] * 4; i++) g.windows[2][i] = 0.5f * (float)i;
    ck_assert_int_eq(g.image_embedding[1], f.image_embedding[1]);
    ck_assert_int_eq(feature_cache_put(&c, t.img, &g, FEATURE_SCALE(2), 400, 300, &err), 0);
    ClipImageFeatures g2;
    ck_assert_uint_eq(get_scales(&c, t.img, three, 3, &g2), FEATURE_FULL | FEATURE_SCALE(0) | FEATURE_SCALE(1) |
                                                                 FEATURE_SCALE(2));
    ck_assert(memcmp(g2.windows[2], g.windows[2], (size_t)g.n_windows[2] * 4 * sizeof(float)) == 0);
    clip_features_free(&g);
    clip_features_free(&g2);
    /* another stride is another component */
    WindowGeometry gs;
    ck_assert_int_eq(window_geometry_init(&gs, 15, 8, 4, SCALES, 2, 2, NULL), 0);
    clip_features_init(&g, &gs);
    ck_assert_int_eq(feature_cache_get(&c, t.img, &g, ALL, &have, NULL, NULL, &err), 0);
    ck_assert_uint_eq(have, FEATURE_FULL);
    clip_features_free(&g);
    /* a new version of the image (mtime, then size): plain misses, nothing reported */
    set_mtime(t.img, 1000000);
    ck_assert_uint_eq(get_scales(&c, t.img, SCALES, 2, &g), 0);
    clip_features_free(&g);
    ck_assert_int_eq(feature_cache_put(&c, t.img, &f, ALL, 400, 300, &err), 0);
    ck_assert_uint_eq(get_scales(&c, t.img, SCALES, 2, &g), ALL);
    clip_features_free(&g);
    ck_assert_int_eq(test_write_file(t.img, "image-bytes-longer", 18), 0);
    set_mtime(t.img, 1000000);
    ck_assert_uint_eq(get_scales(&c, t.img, SCALES, 2, &g), 0);
    clip_features_free(&g);
    ck_assert_int_eq(c.rejected, 0);
    feature_cache_close(&c);
    /* other weights, other pre-processing: another folder, never read */
    FeatureCacheKey other = test_key("bb22"), pre = test_key("aa11");
    pre.preprocess = "resize=torch-bicubic-aa;geometry=squash;image_size=240";
    ck_assert_int_eq(feature_cache_open(&c, t.cache, &key, &err), 0);
    ck_assert_int_eq(feature_cache_put(&c, t.img, &f, ALL, 400, 300, &err), 0);
    char dir1[1024];
    snprintf(dir1, sizeof dir1, "%s", c.dir);
    feature_cache_close(&c);
    ck_assert_int_eq(feature_cache_open(&c, t.cache, &other, &err), 0);
    ck_assert_str_ne(c.dir, dir1);
    ck_assert_uint_eq(get_scales(&c, t.img, SCALES, 2, &g), 0);
    clip_features_free(&g);
    feature_cache_close(&c);
    ck_assert_int_eq(feature_cache_open(&c, t.cache, &pre, &err), 0);
    ck_assert_str_ne(c.dir, dir1);
    ck_assert_uint_eq(get_scales(&c, t.img, SCALES, 2, &g), 0);
    clip_features_free(&g);
    feature_cache_close(&c);
    clip_features_free(&f);
    scratch_free(&t);
}
END_TEST

/* Offset of the first occurrence of needle in the file, or -1. */
static long find_bytes(const char *path, const void *needle, size_t n)
{
    size_t len = 0;
    char *data = test_read_file(path, &len);
    ck_assert(data != NULL);
    long at = -1;
    for (size_t i = 0; i + n <= len && at < 0; i++)
        if (memcmp(data + i, needle, n) == 0) at = (long)i;
    free(data);
    return at;
}

static void flip_byte(const char *path, long at)
{
    FILE *fp = fopen(path, "r+b");
    ck_assert(fp != NULL);
    ck_assert_int_eq(fseek(fp, at, SEEK_SET), 0);
    int b = fgetc(fp);
    ck_assert_int_eq(fseek(fp, at, SEEK_SET), 0);
    fputc(b ^ 0x10, fp);
    fclose(fp);
}

/* One invalid full-image entry is reported (rejected), missed, and replaced by the next put. */
static void expect_rejected(FeatureCache *c, const char *img, const ClipImageFeatures *f)
{
    long before = c->rejected;
    ClipImageFeatures g;
    ck_assert_uint_eq(get_scales(c, img, SCALES, 2, &g), FEATURE_SCALE(0) | FEATURE_SCALE(1));
    ck_assert_int_eq(c->rejected, before + 1);
    clip_features_free(&g);
    Error err = {0};
    ck_assert_int_eq(feature_cache_put(c, img, f, FEATURE_FULL, 240, 240, &err), 0); /* recomputed */
    ck_assert_uint_eq(get_scales(c, img, SCALES, 2, &g), ALL);
    assert_same(f, &g);
    clip_features_free(&g);
    ck_assert_int_eq(c->rejected, before + 1);
}

START_TEST(cache_invalid_entries)
{
    Scratch t;
    scratch_init(&t, "c", "x");
    Error err = {0};
    FeatureCacheKey key = test_key("aa11");
    FeatureCache c;
    ck_assert_int_eq(feature_cache_open(&c, t.cache, &key, &err), 0);
    ClipImageFeatures f;
    fake_features(&f, 4.0f);
    ck_assert_int_eq(feature_cache_put(&c, t.img, &f, ALL, 240, 240, &err), 0);
    char full[1200];
    feature_cache_file(&c, t.img, &f.geom, FEATURE_FULL, full, sizeof full);
    ck_assert(strstr(full, "-full.h5") != NULL);

    /* fault 7: one flipped bit in the stored data (the Fletcher-32 checksum catches it) */
    long at = find_bytes(full, f.tokens_ln_post + 100, 64);
    ck_assert(at > 0);
    flip_byte(full, at + 17);
    expect_rejected(&c, t.img, &f);
    /* a truncated file */
    struct stat st;
    ck_assert_int_eq(stat(full, &st), 0);
    ck_assert_int_eq(truncate(full, st.st_size / 2), 0);
    expect_rejected(&c, t.img, &f);
    /* a dataset of the wrong shape, a dataset without checksum, a non-finite value */
    H5File raw = {0};
    int64_t wrong[2] = {225, 4}, right[2] = {225, 8};
    ck_assert_int_eq(h5_open_rw(&raw, full, &err), 0);
    ck_assert_int_eq(h5_write_f32_checked(&raw, "tokens_ln_post", f.tokens_ln_post, 2, wrong, &err), 0);
    h5_close(&raw);
    expect_rejected(&c, t.img, &f);
    ck_assert_int_eq(h5_open_rw(&raw, full, &err), 0);
    ck_assert_int_eq(h5_write_f32(&raw, "tokens_pre_ln_post", f.tokens_pre_ln_post, 2, right, &err), 0);
    h5_close(&raw);
    expect_rejected(&c, t.img, &f);
    float keep = f.tokens_ln_post[7];
    f.tokens_ln_post[7] = 0.0f / 0.0f;
    ck_assert_int_eq(feature_cache_put(&c, t.img, &f, FEATURE_FULL, 240, 240, &err), 0);
    f.tokens_ln_post[7] = keep;
    expect_rejected(&c, t.img, &f);
    /* not HDF5 at all; an attribute of another model */
    ck_assert_int_eq(test_write_file(full, "not hdf5", 8), 0);
    expect_rejected(&c, t.img, &f);
    ck_assert_int_eq(h5_open_rw(&raw, full, &err), 0);
    ck_assert_int_eq(h5_write_attr_f64(&raw, "/", "width", 9, &err), 0);
    h5_close(&raw);
    expect_rejected(&c, t.img, &f);
    /* nothing moved aside, nothing left over */
    ck_assert_int_eq(test_count_entries(c.dir), 4);
    feature_cache_close(&c);
    clip_features_free(&f);
    scratch_free(&t);
}
END_TEST

/* Two processes writing the same entries while a third reads: never an invalid entry. */
START_TEST(cache_concurrent_writers)
{
    Scratch t;
    scratch_init(&t, "c", "x");
    Error err = {0};
    FeatureCacheKey key = test_key("aa11");
    pid_t kids[2];
    for (int k = 0; k < 2; k++) {
        kids[k] = fork();
        ck_assert(kids[k] >= 0);
        if (kids[k] == 0) {
            FeatureCache c;
            ClipImageFeatures f;
            fake_features(&f, 2.0f);
            int bad = feature_cache_open(&c, t.cache, &key, &err) != 0;
            for (int i = 0; i < 40 && !bad; i++) bad = feature_cache_put(&c, t.img, &f, ALL, 240, 240, &err) != 0;
            clip_features_free(&f);
            _exit(bad);
        }
    }
    FeatureCache c;
    ck_assert_int_eq(feature_cache_open(&c, t.cache, &key, &err), 0);
    ClipImageFeatures f, g;
    fake_features(&f, 2.0f);
    for (int i = 0; i < 200; i++) {
        unsigned have = get_scales(&c, t.img, SCALES, 2, &g);
        for (int s = 0; s < 2; s++)
            if (have & FEATURE_SCALE(s))
                ck_assert(memcmp(g.windows[s], f.windows[s], (size_t)f.n_windows[s] * 4 * sizeof(float)) == 0);
        clip_features_free(&g);
    }
    for (int k = 0; k < 2; k++) {
        int status = 0;
        ck_assert_int_eq(waitpid(kids[k], &status, 0), kids[k]);
        ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    ck_assert_int_eq(c.rejected, 0);
    ck_assert_uint_eq(get_scales(&c, t.img, SCALES, 2, &g), ALL);
    assert_same(&f, &g);
    clip_features_free(&g);
    ck_assert_int_eq(test_count_entries(c.dir), 4); /* no temp file left */
    feature_cache_close(&c);
    clip_features_free(&f);
    scratch_free(&t);
}
END_TEST

START_TEST(cache_temps_and_errors)
{
    Scratch t;
    scratch_init(&t, "c", "x");
    Error err = {0};
    FeatureCacheKey key = test_key("aa11");
    FeatureCache c;
    ck_assert_int_eq(feature_cache_open(&c, t.cache, &key, &err), 0);
    /* temp files: of a writer that is gone (removed at the next open), of a live one (kept) */
    long dead = 4194000;
    while (kill((pid_t)dead, 0) == 0 || errno != ESRCH) dead--;
    char tmp_dead[1300], tmp_live[1300];
    snprintf(tmp_dead, sizeof tmp_dead, "%s/.x-full.h5.%ld.AbCdEf", c.dir, dead);
    snprintf(tmp_live, sizeof tmp_live, "%s/.x-full.h5.%ld.AbCdEf", c.dir, (long)getppid());
    ck_assert_int_eq(test_write_file(tmp_dead, "half", 4), 0);
    ck_assert_int_eq(test_write_file(tmp_live, "half", 4), 0);
    feature_cache_close(&c);
    ck_assert_int_eq(feature_cache_open(&c, t.cache, &key, &err), 0);
    struct stat st;
    ck_assert_int_ne(stat(tmp_dead, &st), 0);
    ck_assert_int_eq(stat(tmp_live, &st), 0);

    ClipImageFeatures f;
    unsigned have;
    /* a missing image */
    fake_features(&f, 1.0f);
    ck_assert_int_eq(feature_cache_get(&c, "/nonexistent/a.png", &f, ALL, &have, NULL, NULL, &err), ERR_IO);
    ck_assert(strstr(err.msg, "/nonexistent/a.png") != NULL);
    clip_features_free(&f);
    /* features of another width */
    alloc_features(&f, 16, SCALES, 2);
    ck_assert_int_eq(feature_cache_put(&c, t.img, &f, ALL, 240, 240, &err), ERR_SHAPE);
    ck_assert(strstr(err.msg, "width 16") != NULL);
    ck_assert_int_eq(feature_cache_get(&c, t.img, &f, ALL, &have, NULL, NULL, &err), ERR_SHAPE);
    clip_features_free(&f);
    /* a component bit the features do not have */
    fake_features(&f, 1.0f);
    ck_assert_int_eq(feature_cache_put(&c, t.img, &f, FEATURE_SCALE(3), 240, 240, &err), ERR_USAGE);
    clip_features_free(&f);
    feature_cache_close(&c);
    /* an uncreatable location, a bad key */
    ck_assert_int_ne(feature_cache_open(&c, "/proc/winclip-no/c", &key, &err), 0);
    ck_assert(strstr(err.msg, "/proc/winclip-no") != NULL);
    FeatureCacheKey bad = key;
    bad.grid = 0;
    ck_assert_int_eq(feature_cache_open(&c, t.cache, &bad, &err), ERR_VALUE);
    ck_assert_int_eq(feature_components_count(ALL), 3);
    scratch_free(&t);
}
END_TEST

Suite *feature_cache_suite(void)
{
    Suite *s = suite_create("feature_cache");
    TCase *core = tcase_create("Core");
    tcase_add_test(core, cache_components);
    tcase_add_test(core, cache_invalid_entries);
    tcase_add_test(core, cache_concurrent_writers);
    suite_add_tcase(s, core);
    TCase *limits = tcase_create("Limits");
    tcase_add_test(limits, cache_temps_and_errors);
    suite_add_tcase(s, limits);
    return s;
}
