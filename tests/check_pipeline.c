/*
 * check_pipeline.c - end-to-end parity of pipeline.c on the tiny model: image files ->
 * pre-processing -> vision / text towers -> WinCLIP / WinCLIP+ reproduce
 * fixtures/winclip_paper/reference.h5 (paper settings, zero-shot and K = 1, 2, 4) and the
 * anomalib-style gelu/winclip_*_bottle arrays of fixtures/tiny_clip/reference.h5; the feature
 * cache gives identical results warm; error paths.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/base.h"
#include "clip/clip_config.h"
#include "clip/clip_model.h"
#include "util/h5.h"
#include "winclip/pipeline.h"
#include "check_suites.h"
#include "test_util.h"

#define PAPER_FIXTURE "fixtures/winclip_paper/reference.h5"
#define TINY_FIXTURE "fixtures/tiny_clip/reference.h5"
#define TINY_MODEL "fixtures/tiny_clip/model.h5"

static const char *const NAMES[] = {"gradient", "checkerboard", "noise", "grid_test_good_000",
                                    "grid_test_bent_000", "grid_test_broken_000",
                                    "grid_test_glue_000"};
static const char *const SOURCES[] = {"fixtures/tiny_clip/images/gradient.png",
                                      "fixtures/tiny_clip/images/checkerboard.png",
                                      "fixtures/tiny_clip/images/noise.png",
                                      "data/mvtec_ad_mini/grid/test/good/000.png",
                                      "data/mvtec_ad_mini/grid/test/bent/000.png",
                                      "data/mvtec_ad_mini/grid/test/broken/000.png",
                                      "data/mvtec_ad_mini/grid/test/glue/000.png"};
static const char *const REFS[] = {"data/mvtec_ad_mini/grid/train/good/000.png",
                                   "data/mvtec_ad_mini/grid/train/good/001.png",
                                   "data/mvtec_ad_mini/grid/train/good/002.png",
                                   "data/mvtec_ad_mini/grid/train/good/003.png"};

static double worst;
static char worst_label[256];

/* max |got - want| of a fixture dataset, asserting <= tol; tracks the worst for the report. */
static void expect(const H5File *f, const char *path, const float *got, size_t n, double tol)
{
    Error err = {0};
    float *want = NULL;
    int64_t dims[H5_MAX_RANK];
    int rank = 0;
    ck_assert_msg(h5_read_f32_alloc(f, path, &want, &rank, dims, &err) == 0, "%s", err.msg);
    int64_t numel = 1;
    for (int i = 0; i < rank; i++) numel *= dims[i];
    ck_assert_int_eq((int)numel, (int)n);
    double m = 0;
    for (size_t i = 0; i < n; i++) m = fmax(m, fabs((double)got[i] - (double)want[i]));
    if (m >= worst) {
        worst = m;
        snprintf(worst_label, sizeof worst_label, "%s", path);
    }
    ck_assert(test_allclose(got, want, n, tol, path));
    free(want);
}

static void expect_scalar(const H5File *f, const char *path, double got, double tol)
{
    Error err = {0};
    double want = 0;
    ck_assert_msg(h5_read_f64(f, path, &want, 1, &err) == 0, "%s", err.msg);
    if (fabs(got - want) >= worst) {
        worst = fabs(got - want);
        snprintf(worst_label, sizeof worst_label, "%s", path);
    }
    ck_assert_msg(fabs(got - want) <= tol, "%s: got %.9g want %.9g", path, got, want);
}

static void report(const char *what)
{
    printf("%s: max abs diff %.3g (%s)\n", what, worst, worst_label);
    worst = 0;
}

static int shared(char *buf, size_t cap, const char *rel)
{
    return test_shared_path(buf, cap, rel);
}

/* One pass over the paper fixture, zero-shot and K = 1, 2, 4, through the feature cache at
 * cache_path. The cold pass (warm = 0) computes each of the 11 distinct images once (and checks
 * the embeddings); the warm pass reads every feature back from the cache and runs no backbone. */
static void paper_pass(const char *cache_path, int warm, const char *label)
{
    char model[1024], ref[1024];
    if (!shared(model, sizeof model, TINY_MODEL) || !shared(ref, sizeof ref, PAPER_FIXTURE)) return;
    Error err = {0};
    H5File f = {0};
    ck_assert_int_eq(h5_open_read(&f, ref, &err), 0);
    WinclipSettings s;
    winclip_settings_default(&s);
    Pipeline p = {0};
    ck_assert_msg(pipeline_init(&p, model, &s, &err) == 0, "%s", err.msg);
    ck_assert(fabs(p.tau - 0.070000000166) < 1e-9);
    ck_assert_msg(pipeline_open_cache(&p, cache_path, &err) == 0, "%s", err.msg);

    const WinclipText *text = NULL;
    ck_assert_msg(pipeline_text(&p, "grid", &text, &err) == 0, "%s", err.msg);
    float proto[64];
    memcpy(proto, text->normal, 32 * sizeof(float));
    memcpy(proto + 32, text->anomalous, 32 * sizeof(float));
    expect(&f, "/text/prototypes", proto, 64, 1e-4);

    char path[1024], ds[256];
    for (size_t i = 0; i < ARRAY_LEN(NAMES); i++) {
        ck_assert(shared(path, sizeof path, SOURCES[i]));
        ClipImageFeatures feat;
        int w, h;
        ck_assert_msg(pipeline_features(&p, path, &feat, &w, &h, &err) == 0, "%s", err.msg);
        snprintf(ds, sizeof ds, "/inputs/%s/image_embedding", NAMES[i]);
        expect(&f, ds, feat.image_embedding, 32, 1e-4);
        snprintf(ds, sizeof ds, "/inputs/%s/patch_tokens", NAMES[i]);
        expect(&f, ds, feat.tokens_ln_post, 225 * 64, 1e-4);
        snprintf(ds, sizeof ds, "/inputs/%s/window_embeddings_k2", NAMES[i]);
        expect(&f, ds, feat.windows[0], 196 * 32, 1e-4);
        snprintf(ds, sizeof ds, "/inputs/%s/window_embeddings_k3", NAMES[i]);
        expect(&f, ds, feat.windows[1], 169 * 32, 1e-4);
        clip_features_free(&feat);

        WinclipMaps maps;
        ck_assert_msg(pipeline_score(&p, path, "grid", &maps, &err) == 0, "%s", err.msg);
        ck_assert_int_eq(maps.out_h, 240);
        snprintf(ds, sizeof ds, "/zero_shot/%s/image_score", NAMES[i]);
        expect_scalar(&f, ds, maps.image_score, 1e-5);
        snprintf(ds, sizeof ds, "/zero_shot/%s/M2", NAMES[i]);
        expect(&f, ds, maps.zs_scale_maps[0], 225, 1e-5);
        snprintf(ds, sizeof ds, "/zero_shot/%s/M3", NAMES[i]);
        expect(&f, ds, maps.zs_scale_maps[1], 225, 1e-5);
        snprintf(ds, sizeof ds, "/zero_shot/%s/M0", NAMES[i]);
        expect(&f, ds, maps.m0, 225, 1e-5);
        snprintf(ds, sizeof ds, "/zero_shot/%s/anomaly_map_240", NAMES[i]);
        expect(&f, ds, maps.map, 240 * 240, 1e-5);
        winclip_maps_free(&maps);
    }
    char what[128];
    snprintf(what, sizeof what, "pipeline %s zero-shot + embeddings", label);
    report(what);

    static const int KS[] = {1, 2, 4};
    for (size_t k = 0; k < ARRAY_LEN(KS); k++) {
        const char *refs[4];
        char ref_paths[4][1024];
        for (int r = 0; r < KS[k]; r++) {
            ck_assert(shared(ref_paths[r], sizeof ref_paths[r], REFS[r]));
            refs[r] = ref_paths[r];
        }
        ck_assert_msg(pipeline_set_references(&p, refs, KS[k], &err) == 0, "%s", err.msg);
        for (size_t i = 0; i < ARRAY_LEN(NAMES); i++) {
            ck_assert(shared(path, sizeof path, SOURCES[i]));
            WinclipMaps maps;
            ck_assert_msg(pipeline_score(&p, path, "grid", &maps, &err) == 0, "%s", err.msg);
            const char *pre = "/few_shot/k";
            snprintf(ds, sizeof ds, "%s%d/%s/image_score", pre, KS[k], NAMES[i]);
            expect_scalar(&f, ds, maps.image_score, 1e-5);
            snprintf(ds, sizeof ds, "%s%d/%s/Mp", pre, KS[k], NAMES[i]);
            expect(&f, ds, maps.mp, 225, 1e-5);
            snprintf(ds, sizeof ds, "%s%d/%s/M2_fs", pre, KS[k], NAMES[i]);
            expect(&f, ds, maps.fs_scale_maps[0], 225, 1e-5);
            snprintf(ds, sizeof ds, "%s%d/%s/M3_fs", pre, KS[k], NAMES[i]);
            expect(&f, ds, maps.fs_scale_maps[1], 225, 1e-5);
            snprintf(ds, sizeof ds, "%s%d/%s/Mfs", pre, KS[k], NAMES[i]);
            expect(&f, ds, maps.mfs, 225, 1e-5);
            snprintf(ds, sizeof ds, "%s%d/%s/anomaly_map_15", pre, KS[k], NAMES[i]);
            expect(&f, ds, maps.map15, 225, 1e-5);
            snprintf(ds, sizeof ds, "%s%d/%s/anomaly_map_240", pre, KS[k], NAMES[i]);
            expect(&f, ds, maps.map, 240 * 240, 1e-5);
            winclip_maps_free(&maps);
        }
        snprintf(what, sizeof what, "pipeline %s K=%d", label, KS[k]);
        report(what);
    }
    /* feature requests: per image one pipeline_features + one zero-shot score, then per K the
     * K references and one score per image */
    const long distinct = (long)ARRAY_LEN(NAMES) + (long)ARRAY_LEN(REFS);
    const long requests = 2 * (long)ARRAY_LEN(NAMES) + (1 + 2 + 4) + 3 * (long)ARRAY_LEN(NAMES);
    printf("pipeline %s: cache hits %ld misses %ld, backbone passes %ld\n", label, p.cache_hits, p.cache_misses,
           p.backbone_passes);
    const long parts = 3; /* hits and misses count components: full image, k = 2, k = 3 */
    if (warm) { /* nothing recomputed */
        ck_assert_int_eq(p.cache_misses, 0);
        ck_assert_int_eq(p.backbone_passes, 0);
        ck_assert_int_eq(p.cache_hits, parts * requests);
    } else { /* each image computed once, then read back */
        ck_assert_int_eq(p.cache_misses, parts * distinct);
        ck_assert_int_eq(p.backbone_passes, distinct);
        ck_assert_int_eq(p.cache_hits, parts * (requests - distinct));
    }
    pipeline_free(&p);
    h5_close(&f);
}

START_TEST(pipeline_paper_cache)
{
    char *dir = test_mkdtemp();
    char cache[1024];
    snprintf(cache, sizeof cache, "%s/cache/grid", dir);
    paper_pass(cache, 0, "(cold cache)");
    paper_pass(cache, 1, "(warm cache)");
    test_rmtree(dir);
    free(dir);
}
END_TEST

/* anomalib preset on tiny_clip: 21 templates, raw mean, tau 0.07, class "bottle". */
START_TEST(pipeline_anomalib_tiny)
{
    char model[1024], ref[1024], path[1024];
    if (!shared(model, sizeof model, TINY_MODEL) || !shared(ref, sizeof ref, TINY_FIXTURE)) return;
    Error err = {0};
    WinclipSettings s;
    winclip_settings_default(&s);
    ck_assert_int_eq(winclip_settings_set(&s, "prompts", "anomalib21", &err), 0);
    ck_assert_int_eq(winclip_settings_set(&s, "prototypes", "mean", &err), 0);
    ck_assert_int_eq(winclip_settings_set(&s, "temperature", "0.07", &err), 0);
    Pipeline p = {0};
    ck_assert_msg(pipeline_init(&p, model, &s, &err) == 0, "%s", err.msg);
    H5File f = {0};
    ck_assert_int_eq(h5_open_read(&f, ref, &err), 0);
    const WinclipText *text = NULL;
    ck_assert_msg(pipeline_text(&p, "bottle", &text, &err) == 0, "%s", err.msg);
    float proto[64];
    memcpy(proto, text->normal, 32 * sizeof(float));
    memcpy(proto + 32, text->anomalous, 32 * sizeof(float));
    expect(&f, "/gelu/winclip_text_embeddings_bottle", proto, 64, 1e-4);
    float scores[3], scale_maps[3 * 3 * 225], m0[3 * 225];
    for (int i = 0; i < 3; i++) {
        ck_assert(shared(path, sizeof path, SOURCES[i]));
        WinclipMaps maps;
        ck_assert_msg(pipeline_score(&p, path, "bottle", &maps, &err) == 0, "%s", err.msg);
        scores[i] = (float)maps.image_score;
        for (int c = 0; c < 225; c++) scale_maps[i * 675 + c] = (float)maps.a0;
        memcpy(scale_maps + i * 675 + 225, maps.zs_scale_maps[0], 225 * sizeof(float));
        memcpy(scale_maps + i * 675 + 450, maps.zs_scale_maps[1], 225 * sizeof(float));
        memcpy(m0 + i * 225, maps.m0, 225 * sizeof(float));
        winclip_maps_free(&maps);
    }
    expect(&f, "/gelu/winclip_image_scores_bottle", scores, 3, 1e-4);
    expect(&f, "/gelu/winclip_zero_shot_scale_maps_bottle", scale_maps, 3 * 675, 1e-4);
    expect(&f, "/gelu/winclip_zero_shot_map_bottle", m0, 3 * 225, 1e-4);
    report("pipeline anomalib21/mean/0.07 tiny_clip bottle");
    h5_close(&f);
    pipeline_free(&p);
}
END_TEST

START_TEST(pipeline_errors)
{
    Error err = {0};
    WinclipSettings s;
    winclip_settings_default(&s);
    Pipeline p = {0};
    ck_assert_int_ne(pipeline_init(&p, "/nonexistent/model.h5", &s, &err), 0);
    ck_assert(strstr(err.msg, "/nonexistent/model.h5") != NULL);
    pipeline_free(&p);
    char model[1024];
    if (!shared(model, sizeof model, TINY_MODEL)) return;
    s.image_size = 224;
    ck_assert_int_eq(pipeline_init(&p, model, &s, &err), ERR_VALUE);
    ck_assert(strstr(err.msg, "image_size") != NULL);
    winclip_settings_default(&s);
    ck_assert_int_eq(pipeline_init(&p, model, &s, &err), 0);
    WinclipMaps maps;
    ck_assert_int_ne(pipeline_score(&p, "/nonexistent/x.png", "grid", &maps, &err), 0);
    ck_assert(strstr(err.msg, "/nonexistent/x.png") != NULL);
    const char *refs[1] = {"/nonexistent/ref.png"};
    ck_assert_int_ne(pipeline_set_references(&p, refs, 1, &err), 0);
    ck_assert(strstr(err.msg, "few-shot references") != NULL);
    ck_assert_int_eq(p.k_shot, 0);
    pipeline_free(&p);
}
END_TEST

/* Full-size ViT-B-16-plus-240 with random weights: one test image, K = 1. Runs, every value
 * finite, shapes of the real model (896-d tokens, 640-d embeddings, 196 / 169 windows). */
START_TEST(pipeline_full_size_random)
{
    char img[1024], ref[1024];
    if (!shared(img, sizeof img, SOURCES[4]) || !shared(ref, sizeof ref, REFS[0])) return;
    char *dir = test_mkdtemp();
    char model[1100];
    snprintf(model, sizeof model, "%s/vit_b_16_plus_240_random.h5", dir);
    Error err = {0};
    ClipConfig cfg;
    ck_assert_int_eq(clip_config_preset(&cfg, "ViT-B-16-plus-240", &err), 0);
    ck_assert_msg(clip_model_write_random(model, &cfg, 7, &err) == 0, "%s", err.msg);
    WinclipSettings s;
    winclip_settings_default(&s);
    Pipeline p = {0};
    int rc = pipeline_init(&p, model, &s, &err);
    remove(model); /* loaded into memory: the 834 MB file is no longer needed */
    ck_assert_msg(rc == 0, "%s", err.msg);
    ck_assert_int_eq(p.image_size, 240);
    char cache[1100];
    snprintf(cache, sizeof cache, "%s/cache", dir); /* the score below reuses these features */
    ck_assert_msg(pipeline_open_cache(&p, cache, &err) == 0, "%s", err.msg);
    ClipImageFeatures f;
    ck_assert_int_eq(pipeline_features(&p, img, &f, NULL, NULL, &err), 0);
    ck_assert_int_eq(f.geom.width, 896);
    ck_assert_int_eq(f.geom.embed_dim, 640);
    ck_assert_int_eq(f.n_windows[0], 196);
    ck_assert_int_eq(f.n_windows[1], 169);
    clip_features_free(&f);
    const char *refs[1] = {ref};
    ck_assert_msg(pipeline_set_references(&p, refs, 1, &err) == 0, "%s", err.msg);
    WinclipMaps m;
    ck_assert_msg(pipeline_score(&p, img, "grid", &m, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(m.geom.grid, 15);
    ck_assert_int_eq(m.k_shot, 1);
    ck_assert(m.out_h == 240 && m.out_w == 240);
    ck_assert(isfinite(m.image_score) && m.image_score >= 0 && m.image_score <= 1);
    const float *arrays[] = {m.m0, m.mp, m.mfs, m.map15, m.zs_scale_maps[0], m.zs_scale_maps[1],
                             m.fs_scale_maps[0], m.fs_scale_maps[1]};
    for (size_t a = 0; a < ARRAY_LEN(arrays); a++)
        for (int i = 0; i < 225; i++) ck_assert(isfinite(arrays[a][i]) && arrays[a][i] >= 0);
    for (int i = 0; i < 240 * 240; i++) ck_assert(isfinite(m.map[i]));
    ck_assert_int_eq((int)p.cache_hits, 3);      /* the image's three components */
    ck_assert_int_eq((int)p.backbone_passes, 2); /* the image and the reference, once each */
    printf("full-size random ViT-B-16-plus-240: K=1 score %.6f; backbone %.1f s for %ld images\n",
           m.image_score, p.seconds_backbone, p.backbone_passes);
    winclip_maps_free(&m);
    pipeline_free(&p);
    test_rmtree(dir);
    free(dir);
}
END_TEST

Suite *pipeline_suite(void)
{
    Suite *s = suite_create("pipeline");
    TCase *core = tcase_create("Core");
    tcase_set_timeout(core, 300);
    tcase_add_test(core, pipeline_paper_cache);
    tcase_add_test(core, pipeline_anomalib_tiny);
    suite_add_tcase(s, core);
    TCase *full = tcase_create("Full");
    tcase_set_timeout(full, 900);
    tcase_add_test(full, pipeline_full_size_random);
    suite_add_tcase(s, full);
    TCase *limits = tcase_create("Limits");
    tcase_set_timeout(limits, 60);
    tcase_add_test(limits, pipeline_errors);
    suite_add_tcase(s, limits);
    return s;
}
