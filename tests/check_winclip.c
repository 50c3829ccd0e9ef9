/*
 * check_winclip.c - tests for winclip.c: settings, the spec's unit
 * cases (§5.1 harmonic 3x3, §6.2 distance), and parity with fixtures/winclip_paper/reference.h5
 * (zero-shot and K = 1, 2, 4 from its STORED features and text embeddings) and with the
 * anomalib-style arrays of fixtures/tiny_clip/reference.h5 (gelu/winclip_*_bottle).
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/base.h"
#include "util/h5.h"
#include "winclip/prompts.h"
#include "winclip/winclip.h"
#include "clip/windows.h"
#include "check_suites.h"
#include "test_util.h"

#define PAPER_FIXTURE "fixtures/winclip_paper/reference.h5"
#define TINY_FIXTURE "fixtures/tiny_clip/reference.h5"

static const char *const TEST_IMAGES[] = {"gradient", "checkerboard", "noise", "grid_test_good_000",
                                          "grid_test_bent_000", "grid_test_broken_000",
                                          "grid_test_glue_000"};
static const char *const REF_IMAGES[] = {"grid_train_good_000", "grid_train_good_001",
                                         "grid_train_good_002", "grid_train_good_003"};

/* ---- fixture helpers ---- */

static float *read_f32(const H5File *f, const char *path, size_t want)
{
    Error err = {0};
    float *data = NULL;
    int64_t dims[H5_MAX_RANK];
    int rank = 0;
    ck_assert_msg(h5_read_f32_alloc(f, path, &data, &rank, dims, &err) == 0, "%s", err.msg);
    int64_t n = 1;
    for (int i = 0; i < rank; i++) n *= dims[i];
    ck_assert_msg((size_t)n == want, "%s: %lld elements, want %zu", path, (long long)n, want);
    return data;
}

static double read_scalar(const H5File *f, const char *path)
{
    Error err = {0};
    double v = 0;
    ck_assert_msg(h5_read_f64(f, path, &v, 1, &err) == 0, "%s", err.msg);
    return v;
}

/* Stored features of one fixture image (paper fixture layout). */
static void load_features(ClipImageFeatures *feat, const H5File *f, const char *name)
{
    char path[256];
    memset(feat, 0, sizeof *feat);
    feat->geom = (WindowGeometry){.grid = 15, .width = 64, .embed_dim = 32, .n_scales = 2,
                                  .scales = {2, 3}, .stride = 1};
    feat->n_windows[0] = 196;
    feat->n_windows[1] = 169;
    snprintf(path, sizeof path, "/inputs/%s/image_embedding", name);
    feat->image_embedding = read_f32(f, path, 32);
    snprintf(path, sizeof path, "/inputs/%s/patch_tokens", name);
    feat->tokens_ln_post = read_f32(f, path, 225 * 64);
    snprintf(path, sizeof path, "/inputs/%s/window_embeddings_k2", name);
    feat->windows[0] = read_f32(f, path, 196 * 32);
    snprintf(path, sizeof path, "/inputs/%s/window_embeddings_k3", name);
    feat->windows[1] = read_f32(f, path, 169 * 32);
}

static void free_features(ClipImageFeatures *feat)
{
    free(feat->image_embedding);
    free(feat->tokens_ln_post);
    free(feat->tokens_pre_ln_post);
    for (int i = 0; i < 4; i++) free(feat->windows[i]);
    memset(feat, 0, sizeof *feat);
}

/* Paper-fixture text prototypes from the stored per-prompt embeddings, optionally using only
 * the prompts of anomalib's 21-template list (a negative control). */
static void paper_text(WinclipText *text, const H5File *f, int mode, int anomalib_templates)
{
    float *normal = read_f32(f, "/text/normal_embeddings", 154 * 32);
    float *anom = read_f32(f, "/text/anomalous_embeddings", 88 * 32);
    Error err = {0};
    if (!anomalib_templates) {
        ck_assert_int_eq(winclip_text_init(text, normal, 154, anom, 88, 32, mode, &err), 0);
    } else {
        /* anomalib's list as indices into the paper list (every entry appears there) */
        int np, na;
        const char *const *paper = prompts_paper_templates(&np);
        const char *const *alib = prompts_anomalib_templates(&na);
        float *sn = xmalloc((size_t)7 * na * 32 * sizeof(float));
        float *sa = xmalloc((size_t)4 * na * 32 * sizeof(float));
        for (int t = 0; t < na; t++) {
            int idx = -1;
            for (int u = 0; u < np; u++)
                if (strcmp(alib[t], paper[u]) == 0) idx = u;
            ck_assert_int_ge(idx, 0);
            for (int s = 0; s < 7; s++)
                memcpy(sn + (size_t)(s * na + t) * 32, normal + (size_t)(s * 22 + idx) * 32, 32 * sizeof(float));
            for (int s = 0; s < 4; s++)
                memcpy(sa + (size_t)(s * na + t) * 32, anom + (size_t)(s * 22 + idx) * 32, 32 * sizeof(float));
        }
        ck_assert_int_eq(winclip_text_init(text, sn, 7 * na, sa, 4 * na, 32, mode, &err), 0);
        free(sn);
        free(sa);
    }
    free(normal);
    free(anom);
}

static double tau_from(const H5File *f)
{
    Error err = {0};
    double logit_scale = 0;
    ck_assert_msg(h5_read_attr_f64(f, "/", "logit_scale", &logit_scale, &err) == 0, "%s", err.msg);
    WinclipSettings s;
    winclip_settings_default(&s);
    return winclip_settings_temperature(&s, logit_scale);
}

static double max_abs_diff(const float *a, const float *b, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (d > m) m = d;
    }
    return m;
}

/* Worst max-abs diff seen by expect_array / expect_scalar since the last report. */
static double worst_diff;
static char worst_label[256];

static void note_diff(double d, const char *label)
{
    if (d >= worst_diff) {
        worst_diff = d;
        snprintf(worst_label, sizeof worst_label, "%s", label);
    }
}

static void report_worst(const char *what)
{
    printf("%s: max abs diff %.3g (%s)\n", what, worst_diff, worst_label);
    worst_diff = 0;
    worst_label[0] = '\0';
}

/* Compare maps->field with the fixture dataset at prefix/name. */
static void expect_array(const H5File *f, const char *prefix, const char *name, const float *got,
                         size_t n, double tol)
{
    char path[256], label[256];
    snprintf(path, sizeof path, "%s/%s", prefix, name);
    snprintf(label, sizeof label, "%s", path);
    float *want = read_f32(f, path, n);
    note_diff(max_abs_diff(got, want, n), label);
    ck_assert(test_allclose(got, want, n, tol, label));
    free(want);
}

static void expect_scalar(const H5File *f, const char *prefix, const char *name, double got,
                          double tol)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", prefix, name);
    double want = read_scalar(f, path);
    note_diff(fabs(got - want), path);
    ck_assert_msg(fabs(got - want) <= tol, "%s: got %.9g want %.9g (diff %.3g)", path, got, want,
                  fabs(got - want));
}

/* ---- unit cases of the spec ---- */

START_TEST(harmonic_3x3_k2)
{
    const float win[4] = {1.0f, 0.75f, 0.5f, 0.25f};
    const float want[9] = {1.0f, 0.857143f, 0.75f, 0.666667f, 0.48f, 0.375f, 0.5f, 0.333333f, 0.25f};
    float got[9];
    winclip_aggregate(got, win, 3, 2, 1, WINCLIP_AGG_HARMONIC);
    ck_assert(test_allclose(got, want, 9, 1e-5, "harmonic 3x3 k2"));
    /* zero rule: a zero window zeroes every patch it covers, no NaN */
    const float winz[4] = {0.0f, 0.75f, 0.5f, 0.25f};
    winclip_aggregate(got, winz, 3, 2, 1, WINCLIP_AGG_HARMONIC);
    ck_assert(got[0] == 0.0f && got[1] == 0.0f && got[4] == 0.0f);
    ck_assert_float_eq_tol(got[2], 0.75f, 1e-6f);
    /* arithmetic alternative: centre = mean of all four */
    winclip_aggregate(got, win, 3, 2, 1, WINCLIP_AGG_MEAN);
    ck_assert_float_eq_tol(got[4], 0.625f, 1e-6f);
    ck_assert_float_eq_tol(got[1], 0.875f, 1e-6f);
    /* stride 2 on a 5x5 grid: windows at rows/cols 0 and 2 leave row/col 4 uncovered (0);
     * window w's value 1+w: each patch gets the harmonic mean of the windows covering it */
    float vals[4] = {1, 2, 3, 4}, map[25];
    int cov[25];
    windows_coverage(5, 2, 2, cov);
    winclip_aggregate(map, vals, 5, 2, 2, WINCLIP_AGG_HARMONIC);
    for (int i = 0; i < 25; i++) ck_assert_int_eq(map[i] > 0, cov[i] > 0);
    ck_assert_float_eq_tol(map[0 * 5 + 3], 2.0f, 1e-6f);
    ck_assert_float_eq_tol(map[2 * 5 + 2], 4.0f, 1e-6f);
    ck_assert(map[4 * 5 + 1] == 0.0f);
    /* stride 1, k 3 on 4x4: centre patches covered by all 4 windows */
    float v4[4] = {1, 1, 0.5f, 0.5f}, m4[16];
    winclip_aggregate(m4, v4, 4, 3, 1, WINCLIP_AGG_HARMONIC);
    ck_assert_float_eq_tol(m4[1 * 4 + 1], (float)(4.0 / 6.0), 1e-6f);
}
END_TEST

START_TEST(distance_unit)
{
    const float emb[6] = {1, 0, 0, 0, 1, 0};
    const float refs[6] = {0, 1, 0, 1, 1, 0};
    float q[6], r[6], out[2], scratch[4];
    winclip_l2_normalize_rows(q, emb, 2, 3);
    winclip_l2_normalize_rows(r, refs, 2, 3);
    winclip_min_distance(out, q, 2, r, 2, 3, scratch, 2);
    const float want[2] = {0.1464466f, 0.0f};
    ck_assert(test_allclose(out, want, 2, 1e-6, "distance §6.2"));
    ck_assert(out[1] >= 0.0f); /* clamp of a tiny negative 1 - cos */
    /* chunk of 1 column: same answer through several GEMM blocks */
    winclip_min_distance(out, q, 2, r, 2, 3, scratch, 1);
    ck_assert(test_allclose(out, want, 2, 1e-6, "distance chunked"));
}
END_TEST

START_TEST(fuse_and_upsample)
{
    const float a[2] = {0.5f, 0.2f}, b[2] = {0.25f, 0.0f};
    const float *maps[2] = {a, b};
    const double c = 1.0;
    float out[2];
    winclip_fuse(out, maps, 2, &c, 2, WINCLIP_AGG_HARMONIC);
    ck_assert_float_eq_tol(out[0], (float)(3.0 / (2 + 4 + 1)), 1e-7f);
    ck_assert(out[1] == 0.0f);
    winclip_fuse(out, maps, 2, NULL, 2, WINCLIP_AGG_MEAN);
    ck_assert_float_eq_tol(out[0], 0.375f, 1e-7f);
    /* 2 -> 4 bilinear, align_corners=False: [a, .75a+.25b, .25a+.75b, b] */
    const float in[2] = {0.0f, 1.0f};
    float up[4];
    winclip_upsample_bilinear(up, 1, 4, in, 1, 2);
    const float want[4] = {0.0f, 0.25f, 0.75f, 1.0f};
    ck_assert(test_allclose(up, want, 4, 1e-7, "bilinear 2->4"));
}
END_TEST

START_TEST(gaussian_smoothing)
{
    enum { H = 21, W = 21 };
    float map[H * W] = {0};
    map[10 * W + 10] = 1.0f;
    float scratch[H * W + 64];
    ck_assert(winclip_smooth_scratch_len(H, W, 1.0) <= ARRAY_LEN(scratch));
    winclip_gaussian_smooth(map, H, W, 1.0, scratch);
    double total = 0;
    for (int i = 0; i < H * W; i++) total += map[i];
    ck_assert_msg(fabs(total - 1.0) < 1e-6, "mass %g", total);
    /* separable: centre = k0^2 with k0 = 1 / sum_{|t|<=4} exp(-t^2/2) */
    double z = 0;
    for (int t = -4; t <= 4; t++) z += exp(-0.5 * t * t);
    ck_assert_float_eq_tol(map[10 * W + 10], (float)(1.0 / (z * z)), 1e-7f);
    ck_assert(map[10 * W + 15] == 0.0f); /* truncated at radius int(4*sigma+0.5) = 4 */
    /* reflect padding keeps a constant map constant; sigma 0 is a no-op */
    for (int i = 0; i < H * W; i++) map[i] = 0.3f;
    winclip_gaussian_smooth(map, H, W, 2.5, scratch);
    for (int i = 0; i < H * W; i++) ck_assert_float_eq_tol(map[i], 0.3f, 1e-6f);
    map[0] = 7.0f;
    winclip_gaussian_smooth(map, H, W, 0.0, NULL);
    ck_assert(map[0] == 7.0f);
}
END_TEST

/* ---- settings ---- */

START_TEST(settings_roundtrip)
{
    WinclipSettings s, t;
    Error err = {0};
    winclip_settings_default(&s);
    const char *kv[][2] = {{"prompts", "anomalib21"}, {"prototypes", "mean"}, {"temperature", "0.07"},
                           {"scales", " 2, 3 ,5"}, {"stride", "2"}, {"image_scale", "false"},
                           {"aggregation", "mean"}, {"fusion", "mean"},
                           {"patch_tokens", "pre_ln_post"}, {"resize", "torch-bicubic-aa"},
                           {"geometry", "shortest-crop"}, {"image_size", "224"},
                           {"output_size", "original"}, {"smoothing_sigma", "4"}, {"k_shot", "2"},
                           {"extra_normal_states", "clean"}, {"class_name", "metal nut"},
                           {"one_class_score", "similarity"}, {"dense", "tiling"}, {"language", "false"},
                           {"tiling_subset", "3"}};
    for (size_t i = 0; i < ARRAY_LEN(kv); i++)
        ck_assert_msg(winclip_settings_set(&s, kv[i][0], kv[i][1], &err) == 0, "%s", err.msg);
    ck_assert_int_eq(s.n_scales, 3);
    ck_assert_int_eq(s.scales[2], 5);
    ck_assert(s.temperature == 0.07);
    /* write -> parse back -> identical struct */
    char *dir = test_mkdtemp();
    char path[1024];
    snprintf(path, sizeof path, "%s/s.conf", dir);
    FILE *fp = fopen(path, "w");
    winclip_settings_write(&s, fp);
    fclose(fp);
    winclip_settings_default(&t);
    fp = fopen(path, "r");
    char line[2048];
    int lines = 0;
    while (fgets(line, sizeof line, fp)) {
        line[strcspn(line, "\n")] = '\0';
        char *eq = strstr(line, " = ");
        ck_assert_ptr_nonnull(eq);
        *eq = '\0';
        ck_assert_msg(winclip_settings_set(&t, line, eq + 3, &err) == 0, "%s", err.msg);
        lines++;
    }
    fclose(fp);
    int n_keys = 0;
    winclip_settings_keys(&n_keys);
    ck_assert_int_eq(lines, n_keys);
    ck_assert(winclip_settings_equal(&s, &t));
    test_rmtree(dir);
    free(dir);
    char key[128];
    winclip_settings_preprocess_key(&s, 240, key, sizeof key);
    ck_assert_str_eq(key, "resize=torch-bicubic-aa;geometry=shortest-crop;image_size=224");
    winclip_settings_default(&s);
    ck_assert(fabs(winclip_settings_temperature(&s, log(100.0)) - 0.01) < 1e-15);
}
END_TEST

START_TEST(settings_errors)
{
    WinclipSettings s;
    Error err = {0};
    winclip_settings_default(&s);
    ck_assert_int_eq(winclip_settings_set(&s, "dataset", "mvtec", &err), ERR_MISSING);
    ck_assert(strstr(err.msg, "dataset") != NULL);
    const struct { const char *key, *value, *allowed; } bad[] = {
        {"prompts", "paper21", "paper22 | anomalib21 | single | states | templates"},
        {"prototypes", "norm", "normalize | mean"},
        {"temperature", "0.07x", "checkpoint"},
        {"temperature", "0", "checkpoint"},
        {"temperature", "nan", "checkpoint"},
        {"temperature", "1e999", "checkpoint"},
        {"scales", "3,2", "ascending"},
        {"scales", "2,,3", "ascending"},
        {"scales", "1,2,3,4,5", "ascending"},
        {"scales", "", "ascending"},
        {"stride", "1.5", "1..32"},
        {"image_scale", "yes", "false | true"},
        {"aggregation", "geometric", "harmonic | mean"},
        {"fusion", "max", "harmonic | mean"},
        {"patch_tokens", "post_proj", "ln_post | pre_ln_post"},
        {"resize", "bicubic", "pil-bicubic | torch-bicubic-aa"},
        {"geometry", "crop", "squash | shortest-crop"},
        {"image_size", "8", "model"},
        {"output_size", "0", "original"},
        {"smoothing_sigma", "-1", ">= 0"},
        {"k_shot", "-1", "0..1024"},
        {"extra_anomalous_states", "{} with {}", "exactly one {}"},
        {"class_name", "{}", "auto"},
    };
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        WinclipSettings before;
        memcpy(&before, &s, sizeof s);
        int rc = winclip_settings_set(&s, bad[i].key, bad[i].value, &err);
        ck_assert_msg(rc == ERR_VALUE, "%s = %s accepted (rc %d)", bad[i].key, bad[i].value, rc);
        ck_assert_msg(strstr(err.msg, bad[i].key) != NULL, "message lacks key: %s", err.msg);
        ck_assert_msg(strstr(err.msg, bad[i].allowed) != NULL, "message lacks allowed: %s", err.msg);
        ck_assert_msg(winclip_settings_equal(&before, &s), "%s changed on error", bad[i].key);
    }
    PromptList p = {0};
    ck_assert_int_eq(prompts_build(&p, PROMPTS_PAPER22, "", NULL, 0, NULL, 0, &err), ERR_VALUE);
    const char *odd[] = {"{x}"};
    ck_assert_int_eq(prompts_build(&p, PROMPTS_PAPER22, "x", odd, 1, NULL, 0, &err), ERR_VALUE);
    ck_assert(strstr(err.msg, "extra_normal_states") != NULL);
    ck_assert_ptr_null(p.normal);
}
END_TEST

/* ---- paper fixture parity (stored features and text embeddings) ---- */

START_TEST(paper_prototypes)
{
    char path[1024];
    if (!test_shared_path(path, sizeof path, PAPER_FIXTURE)) return;
    H5File f = {0};
    Error err = {0};
    ck_assert_int_eq(h5_open_read(&f, path, &err), 0);
    WinclipText text = {0};
    paper_text(&text, &f, WINCLIP_PROTO_NORMALIZE, 0);
    float *want = read_f32(&f, "/text/prototypes", 64);
    ck_assert(test_allclose(text.normal, want, 32, 1e-6, "prototype normal"));
    ck_assert(test_allclose(text.anomalous, want + 32, 32, 1e-6, "prototype anomalous"));
    /* negative control: raw mean is not the paper prototype (direction differs) */
    WinclipText raw = {0};
    paper_text(&raw, &f, WINCLIP_PROTO_MEAN, 0);
    float unit[32];
    winclip_l2_normalize_rows(unit, raw.normal, 1, 32);
    ck_assert(max_abs_diff(unit, want, 32) > 1e-4);
    ck_assert(fabs(tau_from(&f) - 0.070000000166) < 1e-10);
    free(want);
    winclip_text_free(&text);
    winclip_text_free(&raw);
    h5_close(&f);
}
END_TEST

START_TEST(paper_zero_shot)
{
    char path[1024];
    if (!test_shared_path(path, sizeof path, PAPER_FIXTURE)) return;
    H5File f = {0};
    Error err = {0};
    ck_assert_int_eq(h5_open_read(&f, path, &err), 0);
    WinclipSettings s;
    winclip_settings_default(&s);
    WinclipText text = {0};
    paper_text(&text, &f, s.prototypes, 0);
    double tau = tau_from(&f);
    WinclipScratch sc = {0}; /* one scratch for every image: nothing stale may leak through */
    for (size_t i = 0; i < ARRAY_LEN(TEST_IMAGES); i++) {
        ClipImageFeatures feat;
        load_features(&feat, &f, TEST_IMAGES[i]);
        WinclipMaps maps = {0};
        ck_assert_msg(winclip_score(&maps, &sc, &s, &text, tau, &feat, NULL, 240, 240, &err) == 0, "%s",
                      err.msg);
        char pre[128];
        snprintf(pre, sizeof pre, "/zero_shot/%s", TEST_IMAGES[i]);
        double cosw[2];
        snprintf(path, sizeof path, "%s/image_cos", pre);
        ck_assert_int_eq(h5_read_f64(&f, path, cosw, 2, &err), 0);
        ck_assert(test_allclose_f64(maps.image_cos, cosw, 2, 1e-6, path));
        expect_scalar(&f, pre, "a0", maps.a0, 1e-5);
        expect_scalar(&f, pre, "image_score", maps.image_score, 1e-5);
        expect_array(&f, pre, "window_scores_k2", maps.window_scores[0], 196, 1e-5);
        expect_array(&f, pre, "window_scores_k3", maps.window_scores[1], 169, 1e-5);
        expect_array(&f, pre, "M2", maps.zs_scale_maps[0], 225, 1e-5);
        expect_array(&f, pre, "M3", maps.zs_scale_maps[1], 225, 1e-5);
        expect_array(&f, pre, "M0", maps.m0, 225, 1e-5);
        expect_array(&f, pre, "anomaly_map_15", maps.map15, 225, 1e-5);
        expect_array(&f, pre, "anomaly_map_240", maps.map, 240 * 240, 1e-5);
        ck_assert_ptr_null(maps.mfs);
        winclip_maps_free(&maps);
        free_features(&feat);
    }
    winclip_scratch_free(&sc);
    report_worst("winclip_paper zero-shot (stored features)");
    winclip_text_free(&text);
    h5_close(&f);
}
END_TEST

START_TEST(paper_few_shot)
{
    static const int KS[] = {1, 2, 4};
    int k_shot = KS[_i];
    char path[1024];
    if (!test_shared_path(path, sizeof path, PAPER_FIXTURE)) return;
    H5File f = {0};
    Error err = {0};
    ck_assert_int_eq(h5_open_read(&f, path, &err), 0);
    WinclipSettings s;
    winclip_settings_default(&s);
    WinclipText text = {0};
    paper_text(&text, &f, s.prototypes, 0);
    double tau = tau_from(&f);
    /* references: the first K of /meta/reference_images */
    char **names = NULL;
    size_t n_names = 0;
    ck_assert_int_eq(h5_read_strings(&f, "/meta/reference_images", &names, &n_names, &err), 0);
    ClipImageFeatures refs[4];
    for (int r = 0; r < k_shot; r++) {
        ck_assert_str_eq(names[r], REF_IMAGES[r]);
        load_features(&refs[r], &f, names[r]);
    }
    WinclipMemory mem = {0};
    ck_assert_msg(winclip_memory_init(&mem, &s, refs, k_shot, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(mem.n_patch, k_shot * 225);
    ck_assert_int_eq(mem.n_windows[0], k_shot * 196);
    WinclipScratch sc = {0};
    winclip_scratch_init(&sc, &refs[0].geom, &s, k_shot, 240, 240);
    for (size_t i = 0; i < ARRAY_LEN(TEST_IMAGES); i++) {
        ClipImageFeatures feat;
        load_features(&feat, &f, TEST_IMAGES[i]);
        WinclipMaps maps = {0};
        ck_assert_msg(winclip_score(&maps, &sc, &s, &text, tau, &feat, &mem, 240, 240, &err) == 0, "%s",
                      err.msg);
        char pre[128];
        snprintf(pre, sizeof pre, "/few_shot/k%d/%s", k_shot, TEST_IMAGES[i]);
        expect_array(&f, pre, "window_dist_k2", maps.window_dist[0], 196, 1e-5);
        expect_array(&f, pre, "window_dist_k3", maps.window_dist[1], 169, 1e-5);
        expect_array(&f, pre, "Mp", maps.mp, 225, 1e-5);
        expect_array(&f, pre, "M2_fs", maps.fs_scale_maps[0], 225, 1e-5);
        expect_array(&f, pre, "M3_fs", maps.fs_scale_maps[1], 225, 1e-5);
        expect_array(&f, pre, "Mfs", maps.mfs, 225, 1e-5);
        expect_array(&f, pre, "anomaly_map_15", maps.map15, 225, 1e-5);
        expect_array(&f, pre, "anomaly_map_240", maps.map, 240 * 240, 1e-5);
        expect_scalar(&f, pre, "image_score", maps.image_score, 1e-5);
        winclip_maps_free(&maps);
        free_features(&feat);
    }
    winclip_scratch_free(&sc);
    char what[64];
    snprintf(what, sizeof what, "winclip_paper K=%d (stored features)", k_shot);
    report_worst(what);
    winclip_memory_free(&mem);
    for (int r = 0; r < k_shot; r++) free_features(&refs[r]);
    h5_strings_free(names, n_names);
    winclip_text_free(&text);
    h5_close(&f);
}
END_TEST

/* Wrong variants must land far (>= 1e-3) from the fixture, so the parity tests can fail. */
START_TEST(paper_negative_controls)
{
    char path[1024];
    if (!test_shared_path(path, sizeof path, PAPER_FIXTURE)) return;
    H5File f = {0};
    Error err = {0};
    ck_assert_int_eq(h5_open_read(&f, path, &err), 0);
    double tau = tau_from(&f);
    ClipImageFeatures feat, ref;
    load_features(&feat, &f, "grid_test_glue_000");
    load_features(&ref, &f, "grid_train_good_000");
    float *want_m0 = read_f32(&f, "/zero_shot/grid_test_glue_000/M0", 225);
    float *want_m2 = read_f32(&f, "/zero_shot/grid_test_glue_000/M2", 225);
    float *want_fs = read_f32(&f, "/few_shot/k1/grid_test_glue_000/anomaly_map_15", 225);
    double want_a0 = read_scalar(&f, "/zero_shot/grid_test_glue_000/a0");
    double want_k1 = read_scalar(&f, "/few_shot/k1/grid_test_glue_000/image_score");
    struct { int anomalib, mode; double tau; int agg; const char *what; } variants[] = {
        {1, WINCLIP_PROTO_NORMALIZE, tau, WINCLIP_AGG_HARMONIC, "21 templates"},
        {0, WINCLIP_PROTO_MEAN, tau, WINCLIP_AGG_HARMONIC, "mean prototypes"},
        {0, WINCLIP_PROTO_NORMALIZE, 0.01, WINCLIP_AGG_HARMONIC, "tau 0.01"},
        {0, WINCLIP_PROTO_NORMALIZE, tau, WINCLIP_AGG_MEAN, "arithmetic windows"},
    };
    for (size_t v = 0; v < ARRAY_LEN(variants); v++) {
        WinclipSettings s;
        winclip_settings_default(&s);
        s.aggregation = variants[v].agg;
        WinclipText text = {0};
        paper_text(&text, &f, variants[v].mode, variants[v].anomalib);
        WinclipMemory mem = {0};
        ck_assert_int_eq(winclip_memory_init(&mem, &s, &ref, 1, &err), 0);
        WinclipMaps zs = {0}, fs = {0}; /* alive together: two scratches */
        WinclipScratch sc_zs = {0}, sc_fs = {0};
        ck_assert_int_eq(winclip_score(&zs, &sc_zs, &s, &text, variants[v].tau, &feat, NULL, 15, 15, &err), 0);
        ck_assert_int_eq(winclip_score(&fs, &sc_fs, &s, &text, variants[v].tau, &feat, &mem, 15, 15, &err), 0);
        double d_m2 = max_abs_diff(zs.zs_scale_maps[0], want_m2, 225);
        double d_m0 = max_abs_diff(zs.m0, want_m0, 225);
        double d_fs = max_abs_diff(fs.map15, want_fs, 225);
        double d_a0 = fabs(zs.a0 - want_a0), d_k1 = fabs(fs.image_score - want_k1);
        printf("negative control %-20s: |M2| %.3g |M0| %.3g |a0| %.3g |fs map| %.3g |fs score| %.3g\n",
               variants[v].what, d_m2, d_m0, d_a0, d_fs, d_k1);
        /* >= 20x the 1e-5 parity tolerance on one image (README: >= 1e-3 over all images) */
        ck_assert_msg(d_m2 > 2e-4 && d_m0 > 2e-4 && d_fs > 2e-4,
                      "%s is indistinguishable from the fixture", variants[v].what);
        if (variants[v].agg == WINCLIP_AGG_HARMONIC) ck_assert(d_a0 > 2e-4 && d_k1 > 2e-4);
        winclip_maps_free(&zs);
        winclip_scratch_free(&sc_zs);
        winclip_maps_free(&fs);
        winclip_scratch_free(&sc_fs);
        winclip_memory_free(&mem);
        winclip_text_free(&text);
    }
    free(want_m0);
    free(want_m2);
    free(want_fs);
    free_features(&feat);
    free_features(&ref);
    h5_close(&f);
}
END_TEST

/* anomalib-style arrays of tiny_clip (21 templates, raw mean, tau 0.07) from the stored text
 * prototypes and features; the prompts -> text-tower half is in the pipeline tests. */
START_TEST(anomalib_tiny_zero_shot)
{
    char path[1024];
    if (!test_shared_path(path, sizeof path, TINY_FIXTURE)) return;
    H5File f = {0};
    Error err = {0};
    ck_assert_int_eq(h5_open_read(&f, path, &err), 0);
    WinclipSettings s;
    winclip_settings_default(&s);
    ck_assert_int_eq(winclip_settings_set(&s, "prototypes", "mean", &err), 0);
    ck_assert_int_eq(winclip_settings_set(&s, "temperature", "0.07", &err), 0);
    float *proto = read_f32(&f, "/gelu/winclip_text_embeddings_bottle", 64);
    WinclipText text = {32, proto, proto + 32, WINCLIP_TEXT_TWO_CLASS}; /* rows are already the prototypes */
    float *img = read_f32(&f, "/gelu/image_embedding", 3 * 32);
    float *tok = read_f32(&f, "/gelu/vision_tokens_ln_post", 3 * 226 * 64);
    float *w2 = read_f32(&f, "/gelu/winclip_window_embeddings_k2", 3 * 196 * 32);
    float *w3 = read_f32(&f, "/gelu/winclip_window_embeddings_k3", 3 * 169 * 32);
    float *scores = read_f32(&f, "/gelu/winclip_image_scores_bottle", 3);
    float *scale_maps = read_f32(&f, "/gelu/winclip_zero_shot_scale_maps_bottle", 3 * 3 * 225);
    float *m0 = read_f32(&f, "/gelu/winclip_zero_shot_map_bottle", 3 * 225);
    double tau = winclip_settings_temperature(&s, 0.0);
    ck_assert(tau == 0.07);
    WinclipScratch sc = {0};
    for (int i = 0; i < 3; i++) {
        ClipImageFeatures feat = {.geom = {.grid = 15, .width = 64, .embed_dim = 32, .n_scales = 2,
                                           .scales = {2, 3}, .stride = 1},
                                  .n_windows = {196, 169},
                                  .image_embedding = img + i * 32,
                                  .tokens_ln_post = tok + (size_t)i * 226 * 64 + 64,
                                  .windows = {w2 + (size_t)i * 196 * 32, w3 + (size_t)i * 169 * 32}};
        WinclipMaps maps = {0};
        ck_assert_int_eq(winclip_score(&maps, &sc, &s, &text, tau, &feat, NULL, 240, 240, &err), 0);
        float a0 = (float)maps.a0;
        ck_assert(test_allclose(&a0, scores + i, 1, 1e-5, "winclip_image_scores_bottle"));
        const float *sm = scale_maps + (size_t)i * 3 * 225;
        for (int c = 0; c < 225; c++) ck_assert_float_eq_tol(sm[c], a0, 1e-6f);
        ck_assert(test_allclose(maps.zs_scale_maps[0], sm + 225, 225, 1e-5, "scale map k2"));
        ck_assert(test_allclose(maps.zs_scale_maps[1], sm + 450, 225, 1e-5, "scale map k3"));
        ck_assert(test_allclose(maps.m0, m0 + i * 225, 225, 1e-5, "winclip_zero_shot_map_bottle"));
        winclip_maps_free(&maps);
    }
    winclip_scratch_free(&sc);
    free(proto);
    free(img);
    free(tok);
    free(w2);
    free(w3);
    free(scores);
    free(scale_maps);
    free(m0);
    h5_close(&f);
}
END_TEST

START_TEST(score_errors)
{
    Error err = {0};
    WinclipSettings s;
    winclip_settings_default(&s);
    float emb[4] = {1, 0, 0, 0}, win[196 * 4] = {0}, tok[225 * 8] = {0};
    WinclipText text = {0};
    ck_assert_int_eq(winclip_text_init(&text, emb, 1, emb, 0, 4, 0, &err), ERR_VALUE);
    ck_assert_int_eq(winclip_text_init(&text, emb, 1, emb, 1, 4, 0, &err), 0);
    /* features without the k = 3 scale */
    ClipImageFeatures feat = {.geom = {.grid = 15, .width = 8, .embed_dim = 4, .n_scales = 1,
                                       .scales = {2}, .stride = 1},
                              .n_windows = {196}, .image_embedding = emb,
                              .tokens_ln_post = tok, .windows = {win}};
    WinclipMaps maps = {0};
    WinclipScratch sc = {0};
    ck_assert_int_eq(winclip_score(&maps, &sc, &s, &text, 0.07, &feat, NULL, 240, 240, &err), ERR_SHAPE);
    ck_assert(strstr(err.msg, "scale 3") != NULL);
    ck_assert_ptr_null(maps.map);
    winclip_maps_free(&maps);
    winclip_scratch_free(&sc);
    /* memory asking for pre_ln_post tokens the features lack */
    ck_assert_int_eq(winclip_settings_set(&s, "scales", "2", &err), 0);
    ck_assert_int_eq(winclip_settings_set(&s, "patch_tokens", "pre_ln_post", &err), 0);
    WinclipMemory mem = {0};
    ck_assert_int_eq(winclip_memory_init(&mem, &s, &feat, 1, &err), ERR_SHAPE);
    ck_assert(strstr(err.msg, "pre_ln_post") != NULL);
    winclip_memory_free(&mem);
    /* text of another dimension */
    WinclipText wide = {0};
    float emb8[8] = {1, 0, 0, 0, 0, 0, 0, 0};
    ck_assert_int_eq(winclip_text_init(&wide, emb8, 1, emb8, 1, 8, 0, &err), 0);
    ck_assert_int_eq(winclip_score(&maps, &sc, &s, &wide, 0.07, &feat, NULL, 240, 240, &err), ERR_SHAPE);
    /* nothing left to fuse */
    ck_assert_int_eq(winclip_settings_set(&s, "scales", "none", &err), 0);
    ck_assert_int_eq(winclip_settings_set(&s, "image_scale", "false", &err), 0);
    ck_assert_int_eq(winclip_score(&maps, &sc, &s, &text, 0.07, &feat, NULL, 240, 240, &err), ERR_VALUE);
    winclip_text_free(&text);
    winclip_text_free(&wide);
}
END_TEST

/* winclip_settings_equal sees every field, and ignores scale slots past n_scales. */
START_TEST(settings_equal_fields)
{
    WinclipSettings a, b;
    winclip_settings_default(&a);
    Error err = {0};
    const struct { const char *key, *value; } change[] = {
        {"prompts", "single"}, {"extra_normal_states", "shiny"}, {"extra_anomalous_states", "dented"},
        {"class_name", "bolt"}, {"prototypes", "mean"}, {"temperature", "0.5"}, {"scales", "2"},
        {"scales", "2,4"}, {"stride", "2"}, {"image_scale", "false"}, {"aggregation", "mean"},
        {"fusion", "mean"}, {"patch_tokens", "pre_ln_post"}, {"resize", "torch-bicubic-aa"},
        {"geometry", "shortest-crop"}, {"image_size", "224"}, {"output_size", "64"},
        {"smoothing_sigma", "2"}, {"k_shot", "4"}, {"one_class_score", "similarity"},
        {"dense", "patch_tokens"}, {"dense", "tiling"}, {"dense", "maskclip"}, {"language", "false"},
        {"tiling_subset", "0"}, {"prompts", "one_class"}, {"prompts", "two_class"},
    };
    for (size_t i = 0; i < ARRAY_LEN(change); i++) {
        b = a;
        ck_assert(winclip_settings_equal(&a, &b));
        ck_assert_msg(winclip_settings_set(&b, change[i].key, change[i].value, &err) == 0, "%s", err.msg);
        ck_assert_msg(!winclip_settings_equal(&a, &b) && !winclip_settings_equal(&b, &a),
                      "%s = %s not seen", change[i].key, change[i].value);
    }
    b = a;
    b.scales[WINCLIP_MAX_SCALES - 1] = 77; /* a slot past n_scales is not part of the value */
    ck_assert(winclip_settings_equal(&a, &b));
}
END_TEST

/* A memory built from one parse of the settings is accepted by scoring under another parse,
 * even when the scale slots past n_scales differ (the old memcmp refused it). */
START_TEST(memory_reparsed_settings)
{
    Error err = {0};
    float emb[4] = {1, 0, 0, 0}, win[196 * 4] = {0}, tok[225 * 8] = {0};
    for (int i = 0; i < 196; i++) win[i * 4 + (i % 4)] = 1;
    for (int i = 0; i < 225; i++) tok[i * 8 + (i % 8)] = 1;
    ClipImageFeatures feat = {.geom = {.grid = 15, .width = 8, .embed_dim = 4, .n_scales = 1,
                                       .scales = {2}, .stride = 1},
                              .n_windows = {196}, .image_embedding = emb,
                              .tokens_ln_post = tok, .windows = {win}};
    WinclipSettings s, t;
    winclip_settings_default(&s);
    winclip_settings_default(&t);
    for (int i = 0; i < WINCLIP_MAX_SCALES; i++) s.scales[i] = 1000 + i, t.scales[i] = -1 - i;
    ck_assert_int_eq(winclip_settings_set(&s, "scales", "2", &err), 0);
    ck_assert_int_eq(winclip_settings_set(&t, "scales", " 2 ", &err), 0);
    for (int i = 1; i < WINCLIP_MAX_SCALES; i++) ck_assert_int_eq(s.scales[i], 0);
    s.scales[2] = 99, t.scales[2] = -99; /* even garbage past n_scales must not matter */
    ck_assert(winclip_settings_equal(&s, &t));
    WinclipText text = {0};
    ck_assert_int_eq(winclip_text_init(&text, emb, 1, emb, 1, 4, 0, &err), 0);
    WinclipMemory mem = {0};
    ck_assert_msg(winclip_memory_init(&mem, &s, &feat, 1, &err) == 0, "%s", err.msg);
    WinclipMaps maps = {0};
    WinclipScratch sc = {0};
    ck_assert_msg(winclip_score(&maps, &sc, &t, &text, 0.07, &feat, &mem, 15, 15, &err) == 0, "%s", err.msg);
    ck_assert_ptr_nonnull(maps.map);
    winclip_maps_free(&maps);
    winclip_scratch_free(&sc);
    /* a real difference in the scales is still refused */
    ck_assert_int_eq(winclip_settings_set(&t, "stride", "2", &err), 0);
    ck_assert_int_ne(winclip_score(&maps, &sc, &t, &text, 0.07, &feat, &mem, 15, 15, &err), 0);
    winclip_maps_free(&maps);
    winclip_scratch_free(&sc);
    winclip_memory_free(&mem);
    winclip_text_free(&text);
}
END_TEST

/* The caller's scratch: scoring reuses its buffers image after image (no reallocation, maps point
 * into it), grows it for a larger output map or more references, and a scratch reused from a
 * few-shot image gives the same zero-shot maps as a fresh one. */
START_TEST(scratch_reuse)
{
    Error err = {0};
    float emb[4] = {1, 0, 0, 0}, win[196 * 4] = {0}, tok[225 * 8] = {0};
    for (int i = 0; i < 196; i++) win[i * 4 + (i % 4)] = 1.0f + 0.01f * (float)i;
    for (int i = 0; i < 225; i++) tok[i * 8 + (i % 8)] = 1.0f + 0.02f * (float)i;
    ClipImageFeatures feat = {.geom = {.grid = 15, .width = 8, .embed_dim = 4, .n_scales = 1,
                                       .scales = {2}, .stride = 1},
                              .n_windows = {196}, .image_embedding = emb,
                              .tokens_ln_post = tok, .windows = {win}};
    WinclipSettings s;
    winclip_settings_default(&s);
    ck_assert_int_eq(winclip_settings_set(&s, "scales", "2", &err), 0);
    ck_assert_int_eq(winclip_settings_set(&s, "smoothing_sigma", "1.5", &err), 0);
    float anom[4] = {0, 1, 0, 0};
    WinclipText text = {0};
    ck_assert_int_eq(winclip_text_init(&text, emb, 1, anom, 1, 4, 0, &err), 0);
    WinclipMemory mem = {0};
    ck_assert_msg(winclip_memory_init(&mem, &s, &feat, 1, &err) == 0, "%s", err.msg);
    WinclipScratch sc = {0}, fresh = {0};
    winclip_scratch_init(&sc, &feat.geom, &s, 1, 20, 20);
    float *map = sc.map, *block = sc.block;
    WinclipMaps maps, ref;
    ck_assert_int_eq(winclip_score(&maps, &sc, &s, &text, 0.07, &feat, &mem, 20, 20, &err), 0);
    ck_assert_int_eq(winclip_score(&maps, &sc, &s, &text, 0.07, &feat, NULL, 20, 20, &err), 0);
    ck_assert(sc.map == map && sc.block == block && maps.map == map); /* nothing reallocated */
    ck_assert_ptr_null(maps.mp);
    ck_assert_int_eq(winclip_score(&ref, &fresh, &s, &text, 0.07, &feat, NULL, 20, 20, &err), 0);
    ck_assert(memcmp(maps.map, ref.map, 20 * 20 * sizeof(float)) == 0);
    ck_assert(memcmp(maps.m0, ref.m0, 225 * sizeof(float)) == 0);
    /* a larger output map grows the scratch */
    ck_assert_int_eq(winclip_score(&maps, &sc, &s, &text, 0.07, &feat, &mem, 40, 30, &err), 0);
    ck_assert(sc.map_cap >= 40 * 30 && maps.out_h == 40 && maps.out_w == 30);
    winclip_scratch_free(&sc);
    winclip_scratch_free(&fresh);
    winclip_scratch_free(&sc); /* safe on a zeroed struct */
    winclip_memory_free(&mem);
    winclip_text_free(&text);
}
END_TEST

Suite *winclip_suite(void)
{
    Suite *s = suite_create("winclip");
    TCase *core = tcase_create("Core");
    tcase_set_timeout(core, 60);
    tcase_add_test(core, harmonic_3x3_k2);
    tcase_add_test(core, distance_unit);
    tcase_add_test(core, fuse_and_upsample);
    tcase_add_test(core, gaussian_smoothing);
    tcase_add_test(core, settings_roundtrip);
    tcase_add_test(core, settings_equal_fields);
    tcase_add_test(core, memory_reparsed_settings);
    tcase_add_test(core, paper_prototypes);
    tcase_add_test(core, paper_zero_shot);
    tcase_add_loop_test(core, paper_few_shot, 0, 3);
    tcase_add_test(core, paper_negative_controls);
    tcase_add_test(core, anomalib_tiny_zero_shot);
    suite_add_tcase(s, core);
    TCase *limits = tcase_create("Limits");
    tcase_add_test(limits, settings_errors);
    tcase_add_test(limits, score_errors);
    tcase_add_test(limits, scratch_reuse);
    suite_add_tcase(s, limits);
    return s;
}
