/*
 * check_image.c - tests for image.c: Pillow bicubic bit-exact (open_clip crop, WinCLIP paper
 * fixture), torch antialiased bicubic vs torch, CLIP normalisation, masks (Pillow NEAREST),
 * PNG round trip, and the error paths of the loaders.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/base.h"
#include "util/fsutil.h"
#include "util/h5.h"
#include "clip/image.h"
#include <stb_image_write.h>
#include "util/imghdr.h"
#include "check_suites.h"
#include "test_util.h"

static void load_ok(Image *img, const char *path)
{
    Error err = {0};
    ck_assert_msg(image_load(img, path, &err) == 0, "%s", err.msg);
}

/* Count of differing bytes; prints the first. */
static size_t bytes_differ(const uint8_t *got, const uint8_t *want, size_t n, const char *label)
{
    size_t bad = 0;
    for (size_t i = 0; i < n; i++)
        if (got[i] != want[i] && bad++ == 0) printf("%s: first difference at [%zu]: got %d want %d\n", label, i, got[i], want[i]);
    printf("%s: %zu of %zu bytes differ\n", label, bad, n);
    return bad;
}

/* max |got - want|, printed with label (the parity number reported by the suite). */
static double print_maxdiff(const float *got, const float *want, size_t n, const char *label)
{
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - want[i]);
        m = d > m ? d : m;
    }
    printf("%s: maxdiff %.3g\n", label, m);
    return m;
}

START_TEST(pil_openclip_crop)
{
    char in_path[1024], want_path[1024];
    if (!test_shared_path(in_path, sizeof in_path, "fixtures/tiny_clip/images/input_400x300.png") ||
        !test_shared_path(want_path, sizeof want_path, "fixtures/tiny_clip/images/openclip_resized_cropped_240.png"))
        return;
    Image img = {0}, want = {0};
    load_ok(&img, in_path);
    load_ok(&want, want_path);
    ck_assert_int_eq(img.width, 400);
    ck_assert_int_eq(img.height, 300);
    int rw, rh;
    image_resized_size(400, 300, 240, GEOMETRY_SHORTEST_CROP, &rw, &rh);
    ck_assert_int_eq(rw, 320);
    ck_assert_int_eq(rh, 240);
    uint8_t *got = xmalloc(240 * 240 * 3);
    Error err = {0};
    ck_assert_int_eq(image_resize_crop_u8(&img, 240, GEOMETRY_SHORTEST_CROP, got, &err), 0);
    ck_assert_int_eq(bytes_differ(got, want.rgb, 240 * 240 * 3, "open_clip resize+crop"), 0);
    /* the float pipeline normalises exactly those bytes */
    float *x = xmalloc(3 * 240 * 240 * sizeof *x), *y = xmalloc(3 * 240 * 240 * sizeof *y);
    ck_assert_int_eq(image_preprocess(&img, 240, RESIZE_PIL_BICUBIC, GEOMETRY_SHORTEST_CROP, x, &err), 0);
    image_normalize_u8(want.rgb, 240, 240, y);
    ck_assert(test_allclose(x, y, 3 * 240 * 240, 0.0, "preprocess shortest-crop"));
    free(x);
    free(y);
    free(got);
    image_free(&img);
    image_free(&want);
}
END_TEST

START_TEST(torch_aa_anomalib)
{
    char in_path[1024], ref_path[1024];
    if (!test_shared_path(in_path, sizeof in_path, "fixtures/tiny_clip/images/input_400x300.png") ||
        !test_shared_path(ref_path, sizeof ref_path, "fixtures/tiny_clip/reference.h5"))
        return;
    Image img = {0};
    load_ok(&img, in_path);
    size_t hw = (size_t)img.width * img.height;
    float *planar = xmalloc(3 * hw * sizeof *planar);
    for (int c = 0; c < 3; c++)
        for (size_t i = 0; i < hw; i++) planar[c * hw + i] = (float)img.rgb[i * 3 + c] / 255.0f;
    float *got = xmalloc(3 * 240 * 240 * sizeof *got), *want = xmalloc(3 * 240 * 240 * sizeof *want);
    image_resize_torch_aa(planar, img.width, img.height, 3, got, 240, 240);
    H5File f = {0};
    Error err = {0};
    ck_assert_msg(h5_open_read(&f, ref_path, &err) == 0, "%s", err.msg);
    const int64_t dims[3] = {3, 240, 240};
    ck_assert_msg(h5_read_f32_shape(&f, "resize/anomalib_resized_float", want, 3, dims, &err) == 0, "%s", err.msg);
    double maxdiff = 0, lo = 1, hi = 0;
    for (size_t i = 0; i < 3 * 240 * 240; i++) {
        double d = fabs((double)got[i] - want[i]);
        maxdiff = d > maxdiff ? d : maxdiff;
        lo = got[i] < lo ? got[i] : lo;
        hi = got[i] > hi ? got[i] : hi;
    }
    printf("torch AA bicubic 400x300 -> 240x240: maxdiff %.3g (output range %.5f .. %.5f, unclamped)\n", maxdiff, lo, hi);
    ck_assert(test_allclose(got, want, 3 * 240 * 240, 1e-5, "torch antialiased bicubic"));
    ck_assert(lo < 0.0 && hi > 1.0); /* not clamped */
    /* image_preprocess in torch mode = this resize then normalise */
    float *x = xmalloc(3 * 240 * 240 * sizeof *x);
    ck_assert_int_eq(image_preprocess(&img, 240, RESIZE_TORCH_BICUBIC_AA, GEOMETRY_SQUASH, x, &err), 0);
    for (int c = 0; c < 3; c++)
        for (size_t i = 0; i < 240 * 240; i++) want[c * 240 * 240 + i] = (want[c * 240 * 240 + i] - IMAGE_CLIP_MEAN[c]) / IMAGE_CLIP_STD[c];
    print_maxdiff(x, want, 3 * 240 * 240, "torch-bicubic-aa squash, normalised");
    ck_assert(test_allclose(x, want, 3 * 240 * 240, 1e-5, "torch-bicubic-aa squash, normalised"));
    h5_close(&f);
    free(x);
    free(got);
    free(want);
    free(planar);
    image_free(&img);
}
END_TEST

START_TEST(tiny_clip_preprocessed)
{
    static const char *const names[] = {"gradient", "checkerboard", "noise"};
    char ref_path[1024];
    if (!test_shared_path(ref_path, sizeof ref_path, "fixtures/tiny_clip/reference.h5")) return;
    H5File f = {0};
    Error err = {0};
    ck_assert_msg(h5_open_read(&f, ref_path, &err) == 0, "%s", err.msg);
    const size_t per = 3 * 240 * 240;
    float *want = xmalloc(3 * per * sizeof *want), *got = xmalloc(per * sizeof *got);
    const int64_t dims[4] = {3, 3, 240, 240};
    ck_assert_msg(h5_read_f32_shape(&f, "inputs/images_preprocessed", want, 4, dims, &err) == 0, "%s", err.msg);
    for (int i = 0; i < 3; i++) {
        char rel[256], path[1024];
        snprintf(rel, sizeof rel, "fixtures/tiny_clip/images/%s.png", names[i]);
        ck_assert(test_shared_path(path, sizeof path, rel));
        Image img = {0};
        load_ok(&img, path);
        for (int mode = 0; mode < 2; mode++) { /* 240x240 input: both resizes are the identity */
            ck_assert_int_eq(image_preprocess(&img, 240, (ResizeMode)mode, GEOMETRY_SQUASH, got, &err), 0);
            print_maxdiff(got, want + i * per, per, names[i]);
            ck_assert(test_allclose(got, want + i * per, per, 1e-6, names[i]));
        }
        image_free(&img);
    }
    h5_close(&f);
    free(want);
    free(got);
}
END_TEST

/* fixture source name -> path under the shared folder */
static void paper_source(char *out, size_t cap, const char *src)
{
    char rel[512];
    snprintf(rel, sizeof rel, "%s%s", strncmp(src, "tiny_clip/", 10) == 0 ? "fixtures/" : "data/", src);
    ck_assert(test_shared_path(out, cap, rel));
}

START_TEST(winclip_paper_inputs)
{
    char ref_path[1024];
    if (!test_shared_path(ref_path, sizeof ref_path, "fixtures/winclip_paper/reference.h5")) return;
    H5File f = {0};
    Error err = {0};
    ck_assert_msg(h5_open_read(&f, ref_path, &err) == 0, "%s", err.msg);
    int32_t idx[240];
    int64_t idx_ref[240];
    ck_assert_msg(h5_read_i64(&f, "meta/mask_nearest_src_index", idx_ref, 240, &err) == 0, "%s", err.msg);
    image_mask_nearest_index(1024, 240, idx);
    for (int i = 0; i < 240; i++) ck_assert_int_eq(idx[i], (int)idx_ref[i]);

    const char *lists[2][2] = {{"meta/test_images", "meta/test_image_sources"},
                               {"meta/reference_images", "meta/reference_image_sources"}};
    uint8_t *rgb = xmalloc(240 * 240 * 3), *want_rgb = xmalloc(240 * 240 * 3);
    uint8_t *mask = xmalloc(240 * 240), *want_mask = xmalloc(240 * 240);
    float *x = xmalloc(3 * 240 * 240 * sizeof *x), *want_x = xmalloc(3 * 240 * 240 * sizeof *want_x);
    int checked = 0, masks = 0;
    for (int l = 0; l < 2; l++) {
        char **names = NULL, **sources = NULL;
        size_t n = 0, ns = 0;
        ck_assert_msg(h5_read_strings(&f, lists[l][0], &names, &n, &err) == 0, "%s", err.msg);
        ck_assert_msg(h5_read_strings(&f, lists[l][1], &sources, &ns, &err) == 0, "%s", err.msg);
        ck_assert_int_eq((int)n, (int)ns);
        for (size_t i = 0; i < n; i++) {
            char path[1024], ds[512];
            paper_source(path, sizeof path, sources[i]);
            Image img = {0};
            load_ok(&img, path);
            ck_assert_int_eq(image_resize_crop_u8(&img, 240, GEOMETRY_SQUASH, rgb, &err), 0);
            snprintf(ds, sizeof ds, "inputs/%s/image_rgb8", names[i]);
            ck_assert_msg(h5_read_u8(&f, ds, want_rgb, 240 * 240 * 3, &err) == 0, "%s", err.msg);
            ck_assert_int_eq(bytes_differ(rgb, want_rgb, 240 * 240 * 3, ds), 0);
            ck_assert_int_eq(image_preprocess(&img, 240, RESIZE_PIL_BICUBIC, GEOMETRY_SQUASH, x, &err), 0);
            snprintf(ds, sizeof ds, "inputs/%s/preprocessed", names[i]);
            ck_assert_msg(h5_read_f32(&f, ds, want_x, 3 * 240 * 240, &err) == 0, "%s", err.msg);
            print_maxdiff(x, want_x, 3 * 240 * 240, ds);
            ck_assert(test_allclose(x, want_x, 3 * 240 * 240, 1e-6, ds));
            image_free(&img);
            checked++;
            /* masks of the MVTec test images: test/<defect>/NNN.png -> ground_truth/<defect>/NNN_mask.png */
            snprintf(ds, sizeof ds, "inputs/%s/mask", names[i]);
            const char *t = strstr(sources[i], "/test/");
            if (l != 0 || !t || !h5_exists(&f, ds)) continue;
            ck_assert_msg(h5_read_u8(&f, ds, want_mask, 240 * 240, &err) == 0, "%s", err.msg);
            if (strstr(t, "/test/good/")) {
                memset(mask, 0, 240 * 240);
            } else {
                char rel[512], mpath[1024];
                snprintf(rel, sizeof rel, "%.*s/ground_truth/%.*s_mask.png", (int)(t - sources[i]), sources[i],
                         (int)(strlen(t) - 6 - 4), t + 6);
                paper_source(mpath, sizeof mpath, rel);
                Mask m = {0};
                ck_assert_msg(image_mask_load(&m, mpath, &err) == 0, "%s", err.msg);
                ck_assert_int_eq(m.width, 1024);
                image_mask_resize_nearest(m.data, m.width, m.height, mask, 240, 240);
                image_mask_free(&m);
            }
            ck_assert_int_eq(bytes_differ(mask, want_mask, 240 * 240, ds), 0);
            masks++;
        }
        h5_strings_free(names, n);
        h5_strings_free(sources, ns);
    }
    ck_assert_int_eq(checked, 11);
    ck_assert_int_eq(masks, 4);
    h5_close(&f);
    free(rgb);
    free(want_rgb);
    free(mask);
    free(want_mask);
    free(x);
    free(want_x);
}
END_TEST

/* Synthetic checks of the geometry and the kernels' invariants. */
START_TEST(geometry_and_kernels)
{
    int w, h;
    image_resized_size(300, 400, 240, GEOMETRY_SHORTEST_CROP, &w, &h);
    ck_assert(w == 240 && h == 320);
    image_resized_size(1000, 333, 240, GEOMETRY_SHORTEST_CROP, &w, &h); /* int(240*1000/333) = 720 */
    ck_assert(w == 720 && h == 240);
    image_resized_size(240, 243, 240, GEOMETRY_SHORTEST_CROP, &w, &h);  /* already short = 240: no-op */
    ck_assert(w == 240 && h == 243);
    image_resized_size(300, 400, 240, GEOMETRY_SQUASH, &w, &h);
    ck_assert(w == 240 && h == 240);
    /* crop offset round-half-even: 243 - 240 = 3 -> 1.5 -> 2; 245 -> 2.5 -> 2 */
    const int heights[2] = {243, 245};
    for (int k = 0; k < 2; k++) {
        Image img = {240, heights[k], xmalloc((size_t)240 * heights[k] * 3)};
        for (int y = 0; y < img.height; y++) memset(img.rgb + (size_t)y * 240 * 3, y, 240 * 3);
        uint8_t *out = xmalloc(240 * 240 * 3);
        Error err = {0};
        ck_assert_int_eq(image_resize_crop_u8(&img, 240, GEOMETRY_SHORTEST_CROP, out, &err), 0);
        ck_assert_int_eq(out[0], 2);
        ck_assert_int_eq(out[239 * 240 * 3], 241);
        free(out);
        image_free(&img);
    }
    /* a constant image stays constant under both resizes (weights sum to one) */
    uint8_t in8[37 * 23 * 3], out8[11 * 50 * 3];
    memset(in8, 173, sizeof in8);
    image_resize_pil_bicubic(in8, 37, 23, 3, out8, 11, 50);
    for (size_t i = 0; i < sizeof out8; i++) ck_assert_int_eq(out8[i], 173);
    float inf[2 * 23 * 37], outf[2 * 50 * 11];
    for (size_t i = 0; i < ARRAY_LEN(inf); i++) inf[i] = 0.25f;
    image_resize_torch_aa(inf, 37, 23, 2, outf, 11, 50);
    for (size_t i = 0; i < ARRAY_LEN(outf); i++) ck_assert_float_eq_tol(outf[i], 0.25f, 1e-6f);
    /* only the vertical axis changes: each column is resampled independently */
    uint8_t col[4 * 8], colout[4 * 3];
    for (int y = 0; y < 8; y++)
        for (int x = 0; x < 4; x++) col[y * 4 + x] = (uint8_t)(x * 60);
    image_resize_pil_bicubic(col, 4, 8, 1, colout, 4, 3);
    for (int y = 0; y < 3; y++)
        for (int x = 0; x < 4; x++) ck_assert_int_eq(colout[y * 4 + x], x * 60);
    /* nearest: identity at equal size, and upsampling repeats pixels */
    const uint8_t m[4] = {1, 0, 0, 1};
    uint8_t mo[16];
    image_mask_resize_nearest(m, 2, 2, mo, 4, 4);
    const uint8_t mo_want[16] = {1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1};
    ck_assert_mem_eq(mo, mo_want, 16);
}
END_TEST

/* Crop before resize: every window of both resizes equals the same window of the whole resize,
 * bit for bit (Pillow) and exactly (torch), for up- and down-scaling, unchanged axes and the
 * shortest-crop windows of long images; and a 4 x 16384 image under shortest-crop (whole resized
 * image 240 x 983040) is pre-processed through the window only. */
START_TEST(window_equals_crop)
{
    const int shapes[][4] = {{37, 23, 50, 11}, {300, 120, 240, 96}, {64, 64, 64, 200}, {90, 13, 21, 13}, {7, 500, 240, 17142}};
    uint32_t seed = 12345u;
    for (size_t t = 0; t < sizeof shapes / sizeof shapes[0]; t++) {
        int iw = shapes[t][0], ih = shapes[t][1], ow = shapes[t][2], oh = shapes[t][3];
        size_t nin = (size_t)iw * ih * 3;
        uint8_t *in = xmalloc(nin);
        float *fin = xmalloc(nin * sizeof *fin);
        for (size_t i = 0; i < nin; i++) {
            seed = seed * 1664525u + 1013904223u;
            in[i] = (uint8_t)(seed >> 24);
            fin[i] = (float)in[i] / 255.0f;
        }
        uint8_t *full = xmalloc((size_t)ow * oh * 3);
        float *ffull = xmalloc((size_t)ow * oh * 3 * sizeof *ffull);
        image_resize_pil_bicubic(in, iw, ih, 3, full, ow, oh);
        image_resize_torch_aa(fin, iw, ih, 3, ffull, ow, oh);
        ResizeWindow wins[] = {{0, 0, ow, oh}, {ow / 3, oh / 4, ow - ow / 3, oh / 2 + 1}, {ow - 1, oh - 1, 1, 1},
                               {(ow - (ow < 17 ? ow : 17)) / 2, (oh - (oh < 17 ? oh : 17)) / 2, ow < 17 ? ow : 17,
                                oh < 17 ? oh : 17}};
        for (size_t k = 0; k < sizeof wins / sizeof wins[0]; k++) {
            ResizeWindow w = wins[k];
            uint8_t *got = xmalloc((size_t)w.w * w.h * 3);
            float *fgot = xmalloc((size_t)w.w * w.h * 3 * sizeof *fgot);
            image_resize_pil_bicubic_window(in, iw, ih, 3, ow, oh, w, got);
            image_resize_torch_aa_window(fin, iw, ih, 3, ow, oh, w, fgot);
            size_t bad = 0, fbad = 0;
            for (int y = 0; y < w.h; y++)
                for (int x = 0; x < w.w; x++)
                    for (int c = 0; c < 3; c++) {
                        bad += got[((size_t)y * w.w + x) * 3 + c] != full[((size_t)(y + w.y0) * ow + x + w.x0) * 3 + c];
                        fbad += fgot[((size_t)c * w.h + y) * w.w + x] !=
                                ffull[((size_t)c * oh + y + w.y0) * ow + x + w.x0];
                    }
            ck_assert_msg(bad == 0 && fbad == 0, "%dx%d -> %dx%d window %d,%d %dx%d: %zu pil and %zu torch values differ",
                          iw, ih, ow, oh, w.x0, w.y0, w.w, w.h, bad, fbad);
            free(got);
            free(fgot);
        }
        free(in);
        free(fin);
        free(full);
        free(ffull);
    }
    /* 4 x 16384 under shortest-crop: through the window only (the whole resize would be 700 MB) */
    Image img = {4, 16384, xcalloc((size_t)4 * 16384 * 3, 1)};
    for (size_t i = 0; i < (size_t)4 * 16384 * 3; i++) img.rgb[i] = (uint8_t)(i * 7 % 251);
    float *x = xmalloc((size_t)3 * 240 * 240 * sizeof *x);
    Error err = {0};
    ck_assert_msg(image_preprocess(&img, 240, RESIZE_PIL_BICUBIC, GEOMETRY_SHORTEST_CROP, x, &err) == 0, "%s", err.msg);
    ck_assert_msg(image_preprocess(&img, 240, RESIZE_TORCH_BICUBIC_AA, GEOMETRY_SHORTEST_CROP, x, &err) == 0, "%s",
                  err.msg);
    for (size_t i = 0; i < (size_t)3 * 240 * 240; i++) ck_assert(isfinite(x[i]));
    free(x);
    image_free(&img);
}
END_TEST

START_TEST(png_round_trip)
{
    char *dir = test_mkdtemp();
    char path[1200];
    snprintf(path, sizeof path, "%s/rt.png", dir);
    const int W = 37, H = 19;
    uint8_t *rgb = xmalloc((size_t)W * H * 3);
    uint32_t s = 12345;
    for (size_t i = 0; i < (size_t)W * H * 3; i++) rgb[i] = (uint8_t)((s = s * 1103515245u + 12345u) >> 24);
    Error err = {0};
    ck_assert_msg(fs_write_png(path, W, H, 3, rgb, &err) == 0, "%s", err.msg);
    Image img = {0};
    load_ok(&img, path);
    ck_assert(img.width == W && img.height == H);
    ck_assert_mem_eq(img.rgb, rgb, (size_t)W * H * 3);
    /* as a mask: nonzero in any channel is 1 */
    Mask m = {0};
    ck_assert_msg(image_mask_load(&m, path, &err) == 0, "%s", err.msg);
    for (size_t i = 0; i < (size_t)W * H; i++)
        ck_assert_int_eq(m.data[i], rgb[3 * i] || rgb[3 * i + 1] || rgb[3 * i + 2]);
    image_mask_free(&m);
    image_free(&img);
    /* gray+alpha PNG (written through stb directly) becomes RGB: gray replicated, alpha dropped */
    snprintf(path, sizeof path, "%s/ga.png", dir);
    const uint8_t ga[4] = {0, 255, 200, 0}; /* 2x1: (gray 0, alpha 255), (gray 200, alpha 0) */
    ck_assert(stbi_write_png(path, 2, 1, 2, ga, 4) != 0);
    load_ok(&img, path);
    const uint8_t ga_rgb[6] = {0, 0, 0, 200, 200, 200};
    ck_assert(img.width == 2 && img.height == 1);
    ck_assert_mem_eq(img.rgb, ga_rgb, 6);
    ck_assert_msg(image_mask_load(&m, path, &err) == 0, "%s", err.msg);
    ck_assert(m.data[0] == 1 && m.data[1] == 1); /* alpha-only and gray-only pixels are both "on" */
    image_mask_free(&m);
    image_free(&img);
    free(rgb);
    test_rmtree(dir);
    free(dir);
}
END_TEST

/* ---- Limits ---- */

START_TEST(bad_files)
{
    char *dir = test_mkdtemp();
    char path[1200];
    Image img = {0};
    Mask m = {0};
    Error err = {0};
    snprintf(path, sizeof path, "%s/missing.png", dir);
    ck_assert_int_eq(image_load(&img, path, &err), ERR_IO);
    ck_assert_msg(strstr(err.msg, path) != NULL, "%s", err.msg);
    err = (Error){0};
    ck_assert_int_eq(image_mask_load(&m, path, &err), ERR_IO);
    ck_assert_msg(strstr(err.msg, path) != NULL, "%s", err.msg);

    snprintf(path, sizeof path, "%s/text.png", dir);
    ck_assert_int_eq(test_write_file(path, "not an image\n", 13), 0);
    err = (Error){0};
    ck_assert_int_eq(image_load(&img, path, &err), ERR_FORMAT);
    ck_assert_msg(strstr(err.msg, path) != NULL, "%s", err.msg);
    printf("non-image: %s\n", err.msg);
    err = (Error){0};
    ck_assert_int_eq(image_mask_load(&m, path, &err), ERR_FORMAT);

    char real[1024];
    if (test_shared_path(real, sizeof real, "fixtures/tiny_clip/images/noise.png")) {
        size_t len;
        char *data = test_read_file(real, &len);
        ck_assert_ptr_nonnull(data);
        snprintf(path, sizeof path, "%s/cut.png", dir);
        ck_assert_int_eq(test_write_file(path, data, len / 2), 0);
        err = (Error){0};
        ck_assert_int_eq(image_load(&img, path, &err), ERR_FORMAT);
        ck_assert_msg(strstr(err.msg, path) != NULL, "%s", err.msg);
        printf("truncated PNG: %s\n", err.msg);
        free(data);
    }
    ck_assert_ptr_null(img.rgb);
    ck_assert_ptr_null(m.data);
    image_free(&img); /* safe on zeroed structs */
    image_mask_free(&m);

    snprintf(path, sizeof path, "%s/nodir/out.png", dir);
    uint8_t px[3] = {1, 2, 3};
    err = (Error){0};
    ck_assert_int_eq(fs_write_png(path, 1, 1, 3, px, &err), ERR_IO);
    ck_assert_msg(strstr(err.msg, path) != NULL, "%s", err.msg);

    ResizeMode mode;
    Geometry geom;
    ck_assert_int_eq(image_parse_resize("pil-bicubic", &mode, &err), 0);
    ck_assert_int_eq(mode, RESIZE_PIL_BICUBIC);
    ck_assert_int_eq(image_parse_resize("torch-bicubic-aa", &mode, &err), 0);
    ck_assert_int_eq(mode, RESIZE_TORCH_BICUBIC_AA);
    ck_assert_int_eq(image_parse_resize("bilinear", &mode, &err), ERR_USAGE);
    ck_assert(strstr(err.msg, "bilinear") && strstr(err.msg, "pil-bicubic"));
    ck_assert_int_eq(image_parse_geometry("shortest-crop", &geom, &err), 0);
    ck_assert_int_eq(geom, GEOMETRY_SHORTEST_CROP);
    ck_assert_int_eq(image_parse_geometry("crop", &geom, &err), ERR_USAGE);
    ck_assert(strstr(err.msg, "squash"));
    test_rmtree(dir);
    free(dir);
}
END_TEST

/* Issue 9 faults 2 and 3: a header declaring a zero or an absurd size is refused from the header
 * alone, naming the file and the size, before anything is decoded or allocated. */
static void put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

START_TEST(declared_sizes)
{
    char *dir = test_mkdtemp();
    char path[1200];
    struct {
        const char *name, *data, *needle;
    } cases[] = {
        {"zero_w.pgm", "P5\n0 4\n255\n", "0x4"},
        {"zero_h.ppm", "P6\n4 0\n255\n", "4x0"},
        {"tall.pgm", "P5\n4 95140\n255\nabcdefgh", "4x95140"},
        {"many.pgm", "P5\n16384 16385\n255\nab", "16384x16385"},
        {"area.pgm", "P5\n8200 8200\n255\nab", "8200x8200"}, /* each side fine, 67.2 Mpx too many */
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        snprintf(path, sizeof path, "%s/%s", dir, cases[i].name);
        ck_assert_int_eq(test_write_file(path, cases[i].data, strlen(cases[i].data)), 0);
        Image img = {0};
        Mask m = {0};
        Error err = {0};
        ck_assert_int_eq(image_load(&img, path, &err), ERR_FORMAT);
        ck_assert_msg(strstr(err.msg, path) && strstr(err.msg, cases[i].needle), "%s", err.msg);
        err = (Error){0};
        ck_assert_int_eq(image_mask_load(&m, path, &err), ERR_FORMAT);
        ck_assert_msg(strstr(err.msg, path) && strstr(err.msg, cases[i].needle), "%s", err.msg);
        ck_assert_ptr_null(img.rgb);
        ck_assert_ptr_null(m.data);
    }
    /* a 55-byte 24-bit BMP declaring 16777200x12 */
    uint8_t bmp[55] = {'B', 'M'};
    put_le32(bmp + 2, sizeof bmp);
    put_le32(bmp + 10, 54);
    put_le32(bmp + 14, 40);
    put_le32(bmp + 18, 16777200);
    put_le32(bmp + 22, 12);
    bmp[26] = 1;
    bmp[28] = 24;
    snprintf(path, sizeof path, "%s/wide.bmp", dir);
    ck_assert_int_eq(test_write_file(path, bmp, sizeof bmp), 0);
    Image img = {0};
    Error err = {0};
    ck_assert_int_ne(image_load(&img, path, &err), 0);
    ck_assert_msg(strstr(err.msg, path) != NULL, "%s", err.msg);
    /* a 65-byte PNG (found by fuzz_image) whose IDAT chunk declares 0x4d00001b bytes: stb_image
     * would allocate 1.29 GB for it before reading */
    static const uint8_t png[65] = {
        0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
        0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x02, 0x08, 0x02, 0x00, 0x00, 0x00, 0x12, 0x16, 0xf1,
        0x00, 0x4d, 0x00, 0x00, 0x1b, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x05, 0xc1, 0x01, 0x3a, 0xd1,
        0x29, 0x4d, 0x0d, 0x7d, 0xa4, 0x11, 0x98, 0x89, 0x50, 0x35, 0x3b, 0x30, 0x4e, 0xa4, 0x05, 0xd1,
        0xc2};
    snprintf(path, sizeof path, "%s/chunk.png", dir);
    ck_assert_int_eq(test_write_file(path, png, sizeof png), 0);
    err = (Error){0};
    ck_assert_int_eq(image_load(&img, path, &err), ERR_FORMAT);
    ck_assert_msg(strstr(err.msg, path) && strstr(err.msg, "'IDAT' at offset 33 declares 1291845659"), "%s", err.msg);
    ck_assert_ptr_null(img.rgb);
    Mask m = {0};
    err = (Error){0};
    ck_assert_int_eq(image_mask_load(&m, path, &err), ERR_FORMAT);
    ck_assert_ptr_null(m.data);
    /* the bound is not too tight: a small valid PGM loads */
    snprintf(path, sizeof path, "%s/ok.pgm", dir);
    ck_assert_int_eq(test_write_file(path, "P5\n2 1\n255\n\x10\x20", 13), 0);
    err = (Error){0};
    ck_assert_int_eq(image_load(&img, path, &err), 0);
    ck_assert(img.width == 2 && img.height == 1 && img.rgb[0] == 0x10 && img.rgb[3] == 0x20);
    image_free(&img);
    int w = 0, h = 0;
    ck_assert_int_eq(imghdr_check("image", path, &w, &h, &err), 0);
    ck_assert(w == 2 && h == 1);
    test_rmtree(dir);
    free(dir);
}
END_TEST

Suite *image_suite(void)
{
    Suite *s = suite_create("image");
    TCase *core = tcase_create("Core");
    tcase_set_timeout(core, 60);
    tcase_add_test(core, pil_openclip_crop);
    tcase_add_test(core, torch_aa_anomalib);
    tcase_add_test(core, tiny_clip_preprocessed);
    tcase_add_test(core, winclip_paper_inputs);
    tcase_add_test(core, geometry_and_kernels);
    tcase_add_test(core, window_equals_crop);
    tcase_add_test(core, png_round_trip);
    suite_add_tcase(s, core);
    TCase *limits = tcase_create("Limits");
    tcase_set_timeout(limits, 60);
    tcase_add_test(limits, bad_files);
    tcase_add_test(limits, declared_sizes);
    suite_add_tcase(s, limits);
    return s;
}
