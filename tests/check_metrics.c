/*
 * check_metrics.c - tests for metrics.c: the shared reference cases (fixtures/metrics), the
 * WinCLIP paper-mode metrics (fixtures/winclip_paper), hand-derived cases (ties, extremes,
 * an exact FPR-0.3 vertex, curves) and every error path.
 */
#define _GNU_SOURCE
#include <check.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/base.h"
#include "util/h5.h"

#include <hdf5.h>
#include "eval/metrics.h"
#include "check_suites.h"
#include "test_util.h"

/* ---- helpers ---- */

/* |got - want| <= tol (NaN == NaN); prints the difference on failure or when verbose. */
static int near(double got, double want, double tol, const char *what, double *maxdiff)
{
    if (isnan(want) && isnan(got)) return 1;
    double d = fabs(got - want);
    if (maxdiff && d > *maxdiff) *maxdiff = d;
    if (!(d <= tol)) {
        printf("%s: got %.17g want %.17g diff %.3g > tol %.3g\n", what, got, want, d, tol);
        return 0;
    }
    if (getenv("WINCLIP_TEST_VERBOSE")) printf("%s: diff %.3g\n", what, d);
    return 1;
}

typedef struct {
    size_t n;
    int h, w;
    float *scores;   /* (n) */
    uint8_t *labels; /* (n) */
    float *maps;     /* (n, h, w) */
    uint8_t *masks;  /* (n, h, w) */
} Case;

static void case_free(Case *c)
{
    free(c->scores);
    free(c->labels);
    free(c->maps);
    free(c->masks);
    memset(c, 0, sizeof *c);
}

/* Binary PGM P5 "P5\n<w> <h>\n255\n" + bytes into dst (h*w). */
static int read_pgm(const char *path, uint8_t *dst, int w, int h)
{
    size_t len = 0;
    char *data = test_read_file(path, &len);
    if (!data) return -1;
    int pw, ph, maxv, off = 0;
    int ok = sscanf(data, "P5 %d %d %d%n", &pw, &ph, &maxv, &off) == 3 && pw == w && ph == h && maxv == 255 &&
             (size_t)off + 1 + (size_t)w * (size_t)h == len;
    if (ok) memcpy(dst, data + off + 1, (size_t)w * (size_t)h);
    free(data);
    return ok ? 0 : -1;
}

static void case_load(const char *dir, Case *c)
{
    char path[2048];
    snprintf(path, sizeof path, "%s/images.tsv", dir);
    char *tsv = test_read_file(path, NULL);
    ck_assert_msg(tsv != NULL, "cannot read %s", path);
    memset(c, 0, sizeof *c);
    size_t cap = 0;
    char *save = NULL;
    int first = 1;
    for (char *line = strtok_r(tsv, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (first) { /* header: index label score height width map mask */
            ck_assert(strncmp(line, "index\tlabel\tscore\theight\twidth\tmap\tmask", 39) == 0);
            first = 0;
            continue;
        }
        char *end;
        long idx = strtol(line, &end, 10);
        long label = strtol(end, &end, 10);
        double score = strtod(end, &end);
        long h = strtol(end, &end, 10), w = strtol(end, &end, 10);
        char map_rel[256], mask_rel[256];
        ck_assert(sscanf(end, "%255s %255s", map_rel, mask_rel) == 2);
        ck_assert_int_eq(idx, (long)c->n);
        if (c->n == 0) {
            c->h = (int)h;
            c->w = (int)w;
        }
        ck_assert(h == c->h && w == c->w);
        size_t hw = (size_t)h * (size_t)w;
        if (c->n == cap) {
            cap = cap ? 2 * cap : 16;
            c->scores = xrealloc(c->scores, cap * sizeof *c->scores);
            c->labels = xrealloc(c->labels, cap);
            c->maps = xrealloc(c->maps, cap * hw * sizeof *c->maps);
            c->masks = xrealloc(c->masks, cap * hw);
        }
        c->scores[c->n] = (float)score;
        ck_assert((double)c->scores[c->n] == score); /* printed exactly */
        c->labels[c->n] = (uint8_t)label;
        snprintf(path, sizeof path, "%s/%s", dir, map_rel);
        size_t len = 0;
        char *raw = test_read_file(path, &len);
        ck_assert_msg(raw && len == hw * 4, "bad map %s", path);
        memcpy(c->maps + c->n * hw, raw, len); /* little-endian host */
        free(raw);
        snprintf(path, sizeof path, "%s/%s", dir, mask_rel);
        ck_assert_msg(read_pgm(path, c->masks + c->n * hw, c->w, c->h) == 0, "bad mask %s", path);
        c->n++;
    }
    free(tsv);
}

/* Column `col` of the row `name` of a TSV with a header line. */
static double tsv_value(const char *tsv, const char *name, const char *col)
{
    const char *nl = strchr(tsv, '\n');
    ck_assert(nl);
    int want = -1, k = 0;
    for (const char *p = tsv; p < nl; k++) {
        size_t len = strcspn(p, "\t\n");
        if (len == strlen(col) && strncmp(p, col, len) == 0) want = k;
        p += len + (p[len] == '\t');
        if (p[-1] != '\t') break;
    }
    ck_assert_msg(want >= 0, "column %s missing", col);
    for (const char *line = nl + 1; *line; line = strchr(line, '\n') + 1) {
        size_t len = strcspn(line, "\t");
        if (len == strlen(name) && strncmp(line, name, len) == 0) {
            const char *p = line;
            for (int i = 0; i < want; i++) p = strchr(p, '\t') + 1;
            return strtod(p, NULL);
        }
        if (!strchr(line, '\n')) break;
    }
    ck_abort_msg("row %s missing", name);
    return NAN;
}

/* ---- shared reference cases ---- */

static const char *const CASES[] = {"random_uniform", "quantized_ties", "perfect", "tiny_defects",
                                    "diagonal_connectivity"};

START_TEST(fixture_cases)
{
    char dir[1024], path[1100];
    if (!test_shared_path(dir, sizeof dir, "fixtures/metrics")) return;
    snprintf(path, sizeof path, "%s/expected.tsv", dir);
    char *exp = test_read_file(path, NULL);
    ck_assert(exp);
    int ok = 1;
    for (size_t ci = 0; ci < ARRAY_LEN(CASES); ci++) {
        const char *name = CASES[ci];
        char cdir[1200], lab[128];
        snprintf(cdir, sizeof cdir, "%s/%s", dir, name);
        Case c;
        case_load(cdir, &c);
        Error err = {0};
        ImageMetrics im;
        PixelMetrics pm, pm1, pm4;
        ck_assert_msg(metrics_image(c.scores, c.labels, c.n, &im, &err) == 0, "%s", err.msg);
        ck_assert_msg(metrics_pixel(c.maps, c.masks, c.n, c.h, c.w, 0.3, &pm, &err) == 0, "%s", err.msg);
        ck_assert_msg(metrics_pixel(c.maps, c.masks, c.n, c.h, c.w, 1.0, &pm1, &err) == 0, "%s", err.msg);
        PixelOptions o4 = {0.3, 4};
        ck_assert_msg(metrics_pixel_opts(c.maps, c.masks, c.n, c.h, c.w, &o4, &pm4, &err) == 0, "%s", err.msg);
        /* image AUROC of max(map) (spec §1 note) */
        size_t hw = (size_t)c.h * (size_t)c.w;
        float *maxmap = xmalloc(c.n * sizeof *maxmap);
        for (size_t i = 0; i < c.n; i++) {
            maxmap[i] = -FLT_MAX;
            for (size_t p = 0; p < hw; p++) maxmap[i] = fmaxf(maxmap[i], c.maps[i * hw + p]);
        }
        ImageMetrics imax;
        ck_assert(metrics_image(maxmap, c.labels, c.n, &imax, &err) == 0);
        free(maxmap);

        struct {
            const char *col;
            double got, tol;
        } checks[] = {
            {"image_auroc", im.auroc, 1e-9},
            {"image_ap", im.ap, 1e-9},
            {"image_f1max", im.f1max, 1e-9},
            {"pixel_auroc", pm.auroc, 1e-9},
            {"pixel_ap", pm.ap, 1e-9},
            {"pixel_f1max", pm.f1max, 1e-9},
            {"aupro_0.3", pm.aupro, 1e-6},
            {"aupro_1.0", pm1.aupro, 1e-6},
            {"aupro_0.3_4conn", pm4.aupro, 1e-6},
            {"image_aupr_trapz", im.aupr_trapz, 1e-9},
            {"pixel_aupr_trapz", pm.aupr_trapz, 1e-9},
            {"image_auroc_maxmap", imax.auroc, 1e-9},
            {"aupro_cflow200", pm.aupro_cflow200, 1e-6},
            {"n_regions_8conn", (double)pm.n_regions, 0},
            {"n_regions_4conn", (double)pm4.n_regions, 0},
            {"n_pos_pixels", (double)pm.n_pos_pixels, 0},
        };
        double maxdiff_primary = 0, maxdiff_pro = 0;
        for (size_t k = 0; k < ARRAY_LEN(checks); k++) {
            snprintf(lab, sizeof lab, "%s %s", name, checks[k].col);
            double want = tsv_value(exp, name, checks[k].col);
            double *md = k < 6 ? &maxdiff_primary : k < 9 ? &maxdiff_pro : NULL;
            ok &= near(checks[k].got, want, checks[k].tol, lab, md);
        }
        printf("metrics %-22s maxdiff AUROC/AP/F1 %.2g, AUPRO %.2g, regions %lld/%lld\n", name, maxdiff_primary,
               maxdiff_pro, (long long)pm.n_regions, (long long)pm4.n_regions);
        case_free(&c);
    }
    free(exp);
    ck_assert(ok);
}
END_TEST

/* ---- WinCLIP paper-mode fixture: metrics over the 4 grid test images ---- */

START_TEST(winclip_paper_metrics)
{
    char h5path[1024], tsvpath[1024];
    if (!test_shared_path(h5path, sizeof h5path, "fixtures/winclip_paper/reference.h5")) return;
    if (!test_shared_path(tsvpath, sizeof tsvpath, "fixtures/winclip_paper/metrics.tsv")) return;
    char *tsv = test_read_file(tsvpath, NULL);
    ck_assert(tsv);
    H5File f = {0};
    Error err = {0};
    ck_assert_msg(h5_open_read(&f, h5path, &err) == 0, "%s", err.msg);
    static const char *const imgs[4] = {"grid_test_good_000", "grid_test_bent_000", "grid_test_broken_000",
                                        "grid_test_glue_000"};
    static const char *const settings[4] = {"zero_shot", "k1", "k2", "k4"};
    const uint8_t labels[4] = {0, 1, 1, 1};
    const size_t hw = 240 * 240;
    float *maps = xmalloc(4 * hw * sizeof *maps);
    uint8_t *masks = xmalloc(4 * hw);
    char p[256];
    for (int i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "/inputs/%s/mask", imgs[i]);
        ck_assert_msg(h5_read_u8(&f, p, masks + i * hw, hw, &err) == 0, "%s", err.msg);
    }
    int ok = 1;
    for (int s = 0; s < 4; s++) {
        double scores[4];
        for (int i = 0; i < 4; i++) {
            const char *grp = s == 0 ? "/zero_shot" : NULL;
            char base[64];
            if (grp) snprintf(base, sizeof base, "%s", grp);
            else snprintf(base, sizeof base, "/few_shot/%s", settings[s]);
            snprintf(p, sizeof p, "%s/%s/anomaly_map_240", base, imgs[i]);
            ck_assert_msg(h5_read_f32(&f, p, maps + i * hw, hw, &err) == 0, "%s", err.msg);
            snprintf(p, sizeof p, "%s/%s/image_score", base, imgs[i]);
            ck_assert_msg(h5_read_f64(&f, p, &scores[i], 1, &err) == 0, "%s", err.msg);
        }
        ImageMetrics im;
        PixelMetrics pm;
        ck_assert_msg(metrics_image_f64(scores, labels, 4, &im, &err) == 0, "%s", err.msg);
        ck_assert_msg(metrics_pixel(maps, masks, 4, 240, 240, 0.3, &pm, &err) == 0, "%s", err.msg);
        const char *cols[7] = {"image_auroc", "image_ap", "image_f1max", "pixel_auroc",
                               "pixel_ap",    "pixel_f1max", "aupro_0.3"};
        const double got[7] = {im.auroc, im.ap, im.f1max, pm.auroc, pm.ap, pm.f1max, pm.aupro};
        double md = 0;
        for (int k = 0; k < 7; k++) {
            char lab[128];
            snprintf(lab, sizeof lab, "winclip_paper %s %s", settings[s], cols[k]);
            ok &= near(got[k], tsv_value(tsv, settings[s], cols[k]), 1e-6, lab, &md);
        }
        printf("metrics winclip_paper %-9s maxdiff %.2g\n", settings[s], md);
    }
    h5_close(&f);
    free(maps);
    free(masks);
    free(tsv);
    ck_assert(ok);
}
END_TEST

/* ---- hand-derived cases ---- */

/* n images of h x w; image i anomalous iff i < n_anom with a defect block of the top-left
 * `def` x `def` pixels; map value = fn(image, pixel, is_defect). */
typedef float (*MapFn)(size_t img, size_t p, int defect);

static void make_set(size_t n, int h, int w, size_t n_anom, int def, MapFn fn, float **maps, uint8_t **masks)
{
    size_t hw = (size_t)h * (size_t)w;
    *maps = xmalloc(n * hw * sizeof **maps);
    *masks = xcalloc(n * hw, 1);
    for (size_t i = 0; i < n; i++)
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                size_t p = (size_t)y * (size_t)w + (size_t)x;
                int d = i < n_anom && y < def && x < def;
                (*masks)[i * hw + p] = d ? 255 : 0;
                (*maps)[i * hw + p] = fn(i, p, d);
            }
}

static float map_inverted(size_t img, size_t p, int defect) { return defect ? -1.0f - (float)((img + p) % 7) : 1.0f + (float)p; }
static float map_constant(size_t img, size_t p, int defect) { (void)img, (void)p, (void)defect; return 0.25f; }
static float map_perfect_neg(size_t img, size_t p, int defect) { return defect ? -1e-3f : -5.0f - (float)((p * 7 + img) % 13); }

START_TEST(inverted_scores)
{
    const float s[6] = {0.1f, 0.2f, 0.3f, 0.7f, 0.8f, 0.9f};
    const uint8_t l[6] = {1, 1, 1, 0, 0, 0};
    ImageMetrics im;
    Error err = {0};
    ck_assert(metrics_image(s, l, 6, &im, &err) == 0);
    ck_assert(near(im.auroc, 0.0, 1e-15, "inverted image auroc", NULL));
    ck_assert(near(im.ap, (1.0 / 4 + 2.0 / 5 + 3.0 / 6) / 3, 1e-15, "inverted image ap", NULL));
    ck_assert(near(im.f1max, 2.0 / 3, 1e-15, "inverted image f1max (everything positive)", NULL));
    float *maps;
    uint8_t *masks;
    make_set(3, 5, 7, 2, 2, map_inverted, &maps, &masks);
    PixelMetrics pm;
    ck_assert_msg(metrics_pixel(maps, masks, 3, 5, 7, 0.3, &pm, &err) == 0, "%s", err.msg);
    ck_assert(near(pm.auroc, 0.0, 1e-15, "inverted pixel auroc", NULL));
    ck_assert(near(pm.aupro, 0.0, 1e-15, "inverted aupro", NULL));
    ck_assert_int_eq(pm.n_regions, 2);
    ck_assert_int_eq(pm.n_pos_pixels, 8);
    free(maps);
    free(masks);
}
END_TEST

START_TEST(all_equal)
{
    /* prevalence p = 3/8: AUROC 1/2, AP = p, F1-max = 2p/(1+p), AUPRO@0.3 = 0.15 */
    const float s[8] = {2, 2, 2, 2, 2, 2, 2, 2};
    const uint8_t l[8] = {1, 0, 1, 0, 0, 1, 0, 0};
    ImageMetrics im;
    Error err = {0};
    ck_assert(metrics_image(s, l, 8, &im, &err) == 0);
    double p = 3.0 / 8;
    ck_assert(near(im.auroc, 0.5, 1e-15, "equal auroc", NULL));
    ck_assert(near(im.ap, p, 1e-15, "equal ap", NULL));
    ck_assert(near(im.f1max, 2 * p / (1 + p), 1e-15, "equal f1", NULL));
    ck_assert(near(im.f1_threshold, 2.0, 0, "equal f1 threshold", NULL));
    /* trapezoid from (R 0, P 1) to (R 1, P p) */
    ck_assert(near(im.aupr_trapz, 0.5 * (1 + p), 1e-15, "equal aupr trapz", NULL));
    float *maps;
    uint8_t *masks;
    make_set(4, 6, 6, 2, 3, map_constant, &maps, &masks);
    PixelMetrics pm;
    ck_assert(metrics_pixel(maps, masks, 4, 6, 6, 0.3, &pm, &err) == 0);
    double pp = 18.0 / 144;
    ck_assert(near(pm.auroc, 0.5, 1e-15, "equal pixel auroc", NULL));
    ck_assert(near(pm.ap, pp, 1e-15, "equal pixel ap", NULL));
    ck_assert(near(pm.f1max, 2 * pp / (1 + pp), 1e-15, "equal pixel f1", NULL));
    ck_assert(near(pm.aupro, 0.15, 1e-15, "equal aupro", NULL));
    ck_assert(isnan(pm.aupro_cflow200)); /* undefined for constant maps */
    free(maps);
    free(masks);
}
END_TEST

START_TEST(single_anomalous_nonsquare_negative)
{
    /* one anomalous image among 3, maps 3 x 5, every score negative, defect pixels score above
     * every normal pixel: everything is perfect */
    float *maps;
    uint8_t *masks;
    make_set(3, 3, 5, 1, 2, map_perfect_neg, &maps, &masks);
    PixelMetrics pm;
    Error err = {0};
    ck_assert_msg(metrics_pixel(maps, masks, 3, 3, 5, 0.3, &pm, &err) == 0, "%s", err.msg);
    ck_assert(near(pm.auroc, 1, 0, "perfect auroc", NULL));
    ck_assert(near(pm.ap, 1, 0, "perfect ap", NULL));
    ck_assert(near(pm.f1max, 1, 0, "perfect f1", NULL));
    ck_assert(near(pm.f1_threshold, (double)-1e-3f, 0, "perfect f1 threshold", NULL));
    ck_assert(near(pm.aupro, 1, 1e-15, "perfect aupro", NULL));
    ck_assert_int_eq(pm.n_regions, 1);
    ck_assert_int_eq(pm.n_pos_pixels, 4);
    const float s[3] = {-3.0f, -7.5f, -4.0f};
    const uint8_t l[3] = {1, 0, 0};
    ImageMetrics im;
    ck_assert(metrics_image(s, l, 3, &im, &err) == 0);
    ck_assert(im.auroc == 1 && im.ap == 1 && im.f1max == 1 && im.f1_threshold == -3.0);
    free(maps);
    free(masks);
}
END_TEST

START_TEST(extreme_values)
{
    Error err = {0};
    ImageMetrics im;
    /* -0.0 and +0.0 tie: one positive at +0, one negative at -0 -> AUROC 1/2 */
    const float z[2] = {0.0f, -0.0f};
    const uint8_t zl[2] = {1, 0};
    ck_assert(metrics_image(z, zl, 2, &im, &err) == 0);
    ck_assert(near(im.auroc, 0.5, 0, "-0 ties +0", NULL));
    /* 1.0 vs the next float up: no tie */
    const float o[2] = {nextafterf(1.0f, 2.0f), 1.0f};
    ck_assert(metrics_image(o, zl, 2, &im, &err) == 0);
    ck_assert(near(im.auroc, 1.0, 0, "1 vs nextafter(1) no tie", NULL));
    /* +-FLT_MAX, denormals, zero: ordered correctly */
    const float e[6] = {FLT_MAX, FLT_TRUE_MIN, 2 * FLT_TRUE_MIN, -FLT_TRUE_MIN, -FLT_MAX, 0.0f};
    const uint8_t el[6] = {1, 0, 1, 0, 0, 1};
    /* ranking: FLT_MAX(+) 2d(+) d(-) 0(+) -d(-) -FLT_MAX(-): pairs won 3+3+2 = 8 of 9 */
    ck_assert(metrics_image(e, el, 6, &im, &err) == 0);
    ck_assert(near(im.auroc, 8.0 / 9, 1e-15, "extremes image auroc", NULL));
    /* the same values as a 2 x 3 map with the labels as a mask */
    PixelMetrics pm;
    ck_assert_msg(metrics_pixel(e, el, 1, 2, 3, 0.3, &pm, &err) == 0, "%s", err.msg);
    ck_assert(near(pm.auroc, 8.0 / 9, 1e-15, "extremes pixel auroc", NULL));
    ck_assert(near(pm.ap, im.ap, 1e-15, "extremes pixel ap = image ap", NULL));
    ck_assert(near(pm.f1max, im.f1max, 1e-15, "extremes pixel f1 = image f1", NULL));
    ck_assert_int_eq(pm.n_regions, 2); /* pixel 0 alone; pixels 2 and 5 touch vertically */
    /* zero ties in a map: -0 and +0 pixels in one group */
    const float zm[4] = {0.0f, -0.0f, 1.0f, -1.0f};
    const uint8_t zmask[4] = {1, 0, 0, 0};
    ck_assert(metrics_pixel(zm, zmask, 1, 2, 2, 0.3, &pm, &err) == 0);
    /* positive ties one negative (1/2) and beats one (1), loses to one (0): 1.5 / 3 */
    ck_assert(near(pm.auroc, 0.5, 1e-15, "-0 ties +0 pixels", NULL));
}
END_TEST

START_TEST(pro_vertex_at_limit)
{
    /* One 1 x 14 row: pixels 0..9 normal with scores 10, 9, ..., 1 (N = 10); pixels 10..13 one
     * defect region (size 4) with scores 9.5, 9.5, 0.5, 0.25. PRO curve:
     * (0,0) (0.1,0) (0.1,0.5) (0.2,0.5) (0.3,0.5) ... (1,0.5) (1,0.75) (1,1); FPR 0.3 = 3/10 is
     * a vertex exactly, so AUPRO@0.3 = 0.5 * 0.2 / 0.3 with no interpolation. */
    float m2[14];
    uint8_t k2[14] = {0};
    for (int i = 0; i < 10; i++) m2[i] = 10.0f - (float)i;
    m2[10] = m2[11] = 9.5f;
    m2[12] = 0.5f;
    m2[13] = 0.25f;
    k2[10] = k2[11] = k2[12] = k2[13] = 1;
    Error err = {0};
    PixelMetrics pm;
    ck_assert_msg(metrics_pixel(m2, k2, 1, 1, 14, 0.3, &pm, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(pm.n_regions, 1);
    ck_assert(near(pm.aupro, 0.1 / 0.3, 1e-15, "vertex exactly at fpr 0.3", NULL));
    /* limit 0.35 between vertices 0.3 and 0.4 (pro 0.5 flat): area 0.1 + 0.05*0.5 */
    ck_assert(metrics_pixel(m2, k2, 1, 1, 14, 0.35, &pm, &err) == 0);
    ck_assert(near(pm.aupro, (0.1 + 0.025) / 0.35, 1e-15, "limit between vertices", NULL));
    /* limit 1: flat 0.5 until fpr 1 at score 1, then region B: (1,0.75) (1,1) -> area 0.45 */
    ck_assert(metrics_pixel(m2, k2, 1, 1, 14, 1.0, &pm, &err) == 0);
    ck_assert(near(pm.aupro, 0.45, 1e-15, "limit 1", NULL));
    /* interpolation on a rising segment: normals and defects tie at 9.5 */
    m2[1] = 9.5f; /* normal pixel 1 now ties region A: point (0.1,0)->(0.2,0.5) */
    ck_assert(metrics_pixel(m2, k2, 1, 1, 14, 0.15, &pm, &err) == 0);
    /* (0,0)->(0.1,0) area 0; (0.1,0)->(0.15, 0.25): 0.5*0.25*0.05 */
    ck_assert(near(pm.aupro, 0.5 * 0.25 * 0.05 / 0.15, 1e-15, "interpolated in a tie segment", NULL));
}
END_TEST

START_TEST(curves_downsampled)
{
    /* 2000 images with distinct scores: ROC has 2001 points; down-sampling keeps the ends */
    size_t n = 2000;
    double *s = xmalloc(n * sizeof *s);
    uint8_t *l = xmalloc(n);
    for (size_t i = 0; i < n; i++) {
        s[i] = (double)((i * 7919) % n) / (double)n;
        l[i] = (i * 7919) % 3 == 0;
    }
    Curve full = {0}, small = {0};
    Error err = {0};
    ck_assert(metrics_image_curve(s, l, n, CURVE_ROC, 0, &full, &err) == 0);
    ck_assert_uint_eq(full.n, n + 1);
    ck_assert(full.x[0] == 0 && full.y[0] == 0 && full.x[n] == 1 && full.y[n] == 1);
    /* trapezoid over the curve = AUROC */
    ImageMetrics im;
    ck_assert(metrics_image_f64(s, l, n, &im, &err) == 0);
    double area = 0;
    for (size_t i = 1; i < full.n; i++) area += (full.x[i] - full.x[i - 1]) * (full.y[i] + full.y[i - 1]) / 2;
    ck_assert(near(area, im.auroc, 1e-12, "ROC curve area", NULL));
    ck_assert(metrics_image_curve(s, l, n, CURVE_ROC, 50, &small, &err) == 0);
    ck_assert(small.n <= 50 && small.n >= 40);
    ck_assert(small.x[0] == 0 && small.y[small.n - 1] == 1 && small.x[small.n - 1] == 1);
    for (size_t i = 1; i < small.n; i++) ck_assert(small.x[i] >= small.x[i - 1] && small.y[i] >= small.y[i - 1]);
    ck_assert(metrics_image_curve(s, l, n, CURVE_PR, 100, &small, &err) == 0);
    ck_assert(small.x[0] == 0 && small.y[0] == 1 && small.x[small.n - 1] == 1);
    metrics_curve_free(&full);
    metrics_curve_free(&small);
    metrics_curve_free(&small); /* twice: safe */
    /* pixel PRO curve ends at (1, 1) */
    float *maps;
    uint8_t *masks;
    make_set(3, 4, 4, 2, 2, map_inverted, &maps, &masks);
    ck_assert(metrics_pixel_curve(maps, masks, 3, 4, 4, CURVE_PRO, 0, &full, &err) == 0);
    ck_assert(full.x[full.n - 1] == 1 && full.y[full.n - 1] == 1 && full.x[0] == 0);
    metrics_curve_free(&full);
    free(maps);
    free(masks);
    free(s);
    free(l);
}
END_TEST

/* ---- independent reference: the official algorithm written naively (qsort of every pixel,
 * one point per tie group, nothing skipped), on larger random sets ---- */

typedef struct {
    float s;
    uint8_t pos;
    double pro; /* 1/|C| for a defect pixel */
} Px;

static int px_desc(const void *a, const void *b)
{
    float x = ((const Px *)a)->s, y = ((const Px *)b)->s;
    return (x < y) - (x > y);
}

/* 4-neighbour flood fill is not enough for 8-connectivity: label by repeated relaxation,
 * slow but obviously right. lab (hw) gets 1..count. */
static int naive_label8(const uint8_t *m, int h, int w, int *lab)
{
    int count = 0;
    for (int p = 0; p < h * w; p++) lab[p] = m[p] ? ++count : 0;
    for (int changed = 1; changed;) {
        changed = 0;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                int p = y * w + x;
                if (!lab[p]) continue;
                for (int dy = -1; dy <= 1; dy++)
                    for (int dx = -1; dx <= 1; dx++) {
                        int yy = y + dy, xx = x + dx;
                        if (yy < 0 || yy >= h || xx < 0 || xx >= w || !lab[yy * w + xx]) continue;
                        if (lab[yy * w + xx] < lab[p]) lab[p] = lab[yy * w + xx], changed = 1;
                    }
            }
    }
    return count; /* ids are not compact; only sizes matter */
}

static double naive_aupro(const float *maps, const uint8_t *masks, int n, int h, int w, double limit,
                          int64_t *n_regions)
{
    size_t hw = (size_t)h * (size_t)w, total = (size_t)n * hw;
    Px *px = xmalloc(total * sizeof *px);
    int *lab = xmalloc(hw * sizeof *lab);
    int *size = xmalloc((hw + 1) * sizeof *size);
    double n_ok = 0, regions = 0;
    for (int i = 0; i < n; i++) {
        naive_label8(masks + i * hw, h, w, lab);
        memset(size, 0, (hw + 1) * sizeof *size);
        for (size_t p = 0; p < hw; p++) size[lab[p]]++;
        for (size_t p = 1; p <= hw; p++) regions += size[p] > 0;
        for (size_t p = 0; p < hw; p++) {
            Px *q = &px[i * hw + p];
            q->s = maps[i * hw + p] == 0 ? 0.0f : maps[i * hw + p];
            q->pos = lab[p] != 0;
            q->pro = lab[p] ? 1.0 / size[lab[p]] : 0;
            n_ok += !lab[p];
        }
    }
    qsort(px, total, sizeof *px, px_desc);
    double *x = xmalloc((total + 2) * sizeof *x), *y = xmalloc((total + 2) * sizeof *y);
    size_t k = 0;
    x[k] = y[k] = 0, k++;
    double fp = 0, pro = 0;
    for (size_t i = 0; i < total; i++) {
        fp += !px[i].pos;
        pro += px[i].pro;
        if (i + 1 == total || px[i + 1].s != px[i].s) {
            x[k] = fmin(fp / n_ok, 1);
            y[k] = fmin(pro / regions, 1);
            k++;
        }
    }
    x[k] = y[k] = 1, k++;
    /* generic_util.trapezoid(x, y, x_max = limit) */
    double area = 0, corr = 0;
    int in_x = 0;
    for (size_t i = 0; i < k; i++) in_x |= x[i] == limit;
    if (!in_x) {
        size_t ins = 0;
        while (ins < k && x[ins] <= limit) ins++;
        double yi = y[ins - 1] + (y[ins] - y[ins - 1]) * (limit - x[ins - 1]) / (x[ins] - x[ins - 1]);
        corr = 0.5 * (yi + y[ins - 1]) * (limit - x[ins - 1]);
    }
    for (size_t i = 1; i < k && x[i] <= limit; i++) area += 0.5 * (y[i] + y[i - 1]) * (x[i] - x[i - 1]);
    *n_regions = (int64_t)regions;
    free(px), free(lab), free(size), free(x), free(y);
    return (area + corr) / limit;
}

START_TEST(random_vs_naive)
{
    /* several regimes: continuous, quantised (ties across classes), signed with +-0, large
     * defects (many index buckets), one 1000 x 1000 map */
    struct {
        int n, h, w, levels, big_defects;
    } sets[] = {{12, 40, 36, 0, 0}, {10, 33, 47, 7, 1}, {6, 64, 64, 0, 1}, {8, 25, 25, 3, 0}, {1, 1000, 1000, 0, 1}};
    uint64_t seed = 99;
    for (size_t si = 0; si < ARRAY_LEN(sets); si++) {
        int n = sets[si].n, h = sets[si].h, w = sets[si].w;
        size_t hw = (size_t)h * (size_t)w, total = (size_t)n * hw;
        float *maps = xmalloc(total * sizeof *maps);
        uint8_t *masks = xcalloc(total, 1);
        for (size_t i = 0; i < total; i++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            double u = (double)(seed >> 11) / 9007199254740992.0;
            int img = (int)(i / hw), y = (int)(i % hw) / w, x = (int)(i % hw) % w;
            int d;
            if (sets[si].big_defects) d = (img % 2 == 1 || n == 1) && y > h / 4 && y < 3 * h / 4 && (x + y) % 7 < 4;
            else d = img % 3 != 0 && u < 0.08;
            masks[i] = d ? 1 : 0;
            double v = u + (d ? 0.35 : 0) - 0.5;
            if (sets[si].levels) v = floor(v * sets[si].levels) / sets[si].levels;
            maps[i] = (float)v;
            if (maps[i] == 0 && (i & 1)) maps[i] = -0.0f;
        }
        if (n == 1) masks[0] = 0; /* keep normals */
        Error err = {0};
        PixelMetrics pm;
        ck_assert_msg(metrics_pixel(maps, masks, (size_t)n, h, w, 0.3, &pm, &err) == 0, "%s", err.msg);
        /* AUROC / AP / F1 / AUPR: the image path (qsort of doubles) over the pooled pixels */
        ImageMetrics im;
        ck_assert(metrics_image(maps, masks, total, &im, &err) == 0);
        char lab[128];
        snprintf(lab, sizeof lab, "random set %zu", si);
        double md = 0;
        int ok = near(pm.auroc, im.auroc, 1e-12, lab, &md) & near(pm.ap, im.ap, 1e-12, lab, &md) &
                 near(pm.f1max, im.f1max, 1e-12, lab, &md) & near(pm.aupr_trapz, im.aupr_trapz, 1e-12, lab, &md) &
                 near(pm.f1_threshold, im.f1_threshold, 0, lab, &md);
        int64_t nr = 0;
        if (total <= 100000) { /* the relaxation labelling is too slow for the big map */
            ok &= near(pm.aupro, naive_aupro(maps, masks, n, h, w, 0.3, &nr), 1e-12, lab, &md);
            ck_assert_int_eq(pm.n_regions, nr);
            PixelMetrics p7;
            ck_assert(metrics_pixel(maps, masks, (size_t)n, h, w, 0.7, &p7, &err) == 0);
            ok &= near(p7.aupro, naive_aupro(maps, masks, n, h, w, 0.7, &nr), 1e-12, lab, &md);
        }
        printf("metrics %s (%d x %d x %d, %lld defect px): maxdiff vs naive %.2g\n", lab, n, h, w,
               (long long)pm.n_pos_pixels, md);
        free(maps);
        free(masks);
        ck_assert(ok);
    }
}
END_TEST

/* ---- errors ---- */

START_TEST(error_paths)
{
    Error err = {0};
    ImageMetrics im;
    PixelMetrics pm;
    const float s[3] = {0.1f, 0.2f, 0.3f};
    const uint8_t none[3] = {0, 0, 0}, all[3] = {1, 1, 1}, mixed[3] = {0, 1, 0};
    ck_assert_int_eq(metrics_image(s, none, 3, &im, &err), ERR_VALUE);
    ck_assert(strstr(err.msg, "no anomalous image"));
    ck_assert_int_eq(metrics_image(s, all, 3, &im, &err), ERR_VALUE);
    ck_assert(strstr(err.msg, "no normal image"));
    ck_assert_int_eq(metrics_image(s, mixed, 0, &im, &err), ERR_VALUE);
    const float bad[3] = {0.1f, NAN, 0.3f};
    ck_assert_int_eq(metrics_image(bad, mixed, 3, &im, &err), ERR_VALUE);
    ck_assert_msg(strstr(err.msg, "image 1") && strstr(err.msg, "nan"), "%s", err.msg);
    const float inf[3] = {0.1f, 0.2f, -INFINITY};
    ck_assert_int_eq(metrics_image(inf, mixed, 3, &im, &err), ERR_VALUE);
    ck_assert_msg(strstr(err.msg, "image 2") && strstr(err.msg, "inf"), "%s", err.msg);

    float map[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    uint8_t mask0[8] = {0}, mask1[8] = {1, 1, 1, 1, 1, 1, 1, 1}, mask[8] = {0, 0, 0, 1, 0, 0, 0, 0};
    ck_assert_int_eq(metrics_pixel(map, mask0, 2, 2, 2, 0.3, &pm, &err), ERR_VALUE);
    ck_assert_msg(strstr(err.msg, "no defect pixel"), "%s", err.msg);
    ck_assert_int_eq(metrics_pixel(map, mask1, 2, 2, 2, 0.3, &pm, &err), ERR_VALUE);
    ck_assert_msg(strstr(err.msg, "no normal pixel"), "%s", err.msg);
    ck_assert_int_eq(metrics_pixel(map, mask, 2, 2, 2, 0.0, &pm, &err), ERR_USAGE);
    ck_assert_int_eq(metrics_pixel(map, mask, 2, 2, 2, 1.5, &pm, &err), ERR_USAGE);
    ck_assert_int_eq(metrics_pixel(map, mask, 0, 2, 2, 0.3, &pm, &err), ERR_SHAPE);
    map[6] = NAN;
    ck_assert_int_eq(metrics_pixel(map, mask, 2, 2, 2, 0.3, &pm, &err), ERR_VALUE);
    ck_assert_msg(strstr(err.msg, "image 1, pixel (y 1, x 0)") && strstr(err.msg, "NaN"), "%s", err.msg);
    map[6] = INFINITY;
    ck_assert_int_eq(metrics_pixel(map, mask, 2, 2, 2, 0.3, &pm, &err), ERR_VALUE);
    ck_assert_msg(strstr(err.msg, "+Inf"), "%s", err.msg);
    Curve c = {0};
    ck_assert_int_eq(metrics_image_curve(NULL, NULL, 0, CURVE_PRO, 0, &c, &err), ERR_USAGE);
    PixelOptions o = {0.3, 6};
    map[6] = 1;
    ck_assert_int_eq(metrics_pixel_opts(map, mask, 2, 2, 2, &o, &pm, &err), ERR_USAGE);
}
END_TEST

/* ---- the CLI: `winclip metrics FILE.h5` against the library ---- */

/* Writes a 3-image 4 x 5 set; `variant` breaks one thing (0 = valid). */
static void write_cli_file(const char *path, int variant)
{
    H5File f = {0};
    Error err = {0};
    ck_assert_msg(h5_create(&f, path, &err) == 0, "%s", err.msg);
    int64_t labels[3] = {0, 1, 1};
    float scores[3] = {0.25f, 0.75f, 0.5f};
    float maps[60];
    uint8_t masks[60] = {0};
    int64_t masks64[60];
    for (int i = 0; i < 60; i++) {
        maps[i] = (float)((i * 37) % 23) / 23.0f;
        masks[i] = i >= 20 && (i % 5) < 2 && (i % 20) < 12 ? 255 : 0;
        masks64[i] = masks[i];
    }
    if (variant == 3) labels[1] = 2;
    if (variant == 8) labels[0] = 1, labels[1] = 0; /* image 0: label 1, empty mask; image 1: label 0, defects */
    if (variant == 7) scores[0] = NAN;
    int64_t d1[1] = {3}, d1b[1] = {2}, d3[3] = {3, 4, 5}, d3b[3] = {3, 5, 4};
    ck_assert(h5_write_i64(&f, "/labels", labels, 1, d1, &err) == 0);
    if (variant != 4) ck_assert(h5_write_f32(&f, "/scores", scores, 1, variant == 5 ? d1b : d1, &err) == 0);
    ck_assert(h5_write_f32(&f, "/maps", maps, 3, d3, &err) == 0);
    if (variant == 2) ck_assert(h5_write_u8(&f, "/masks", masks, 3, d3b, &err) == 0);
    else if (variant == 6) ck_assert(h5_write_i64(&f, "/masks", masks64, 3, d3, &err) == 0);
    else if (variant != 1) ck_assert(h5_write_u8(&f, "/masks", masks, 3, d3, &err) == 0);
    h5_close(&f);

    if (variant == 0) { /* expected output, computed by the library */
        char want[1024];
        ImageMetrics im;
        PixelMetrics pm;
        const uint8_t l8[3] = {0, 1, 1};
        ck_assert(metrics_image(scores, l8, 3, &im, &err) == 0);
        ck_assert_msg(metrics_pixel(maps, masks, 3, 4, 5, 0.3, &pm, &err) == 0, "%s", err.msg);
        snprintf(want, sizeof want,
                 "image_auroc\t%.10g\nimage_ap\t%.10g\nimage_f1max\t%.10g\npixel_auroc\t%.10g\npixel_ap\t%.10g\n"
                 "pixel_f1max\t%.10g\npixel_aupro\t%.10g\n",
                 im.auroc, im.ap, im.f1max, pm.auroc, pm.ap, pm.f1max, pm.aupro);
        char *out = NULL, *errout = NULL, args[1200];
        snprintf(args, sizeof args, "metrics '%s'", path);
        ck_assert_int_eq(test_run_winclip(args, &out, &errout), 0);
        ck_assert_str_eq(out, want);
        free(out);
        free(errout);
        PixelMetrics pm5;
        ck_assert(metrics_pixel(maps, masks, 3, 4, 5, 0.5, &pm5, &err) == 0);
        snprintf(args, sizeof args, "metrics '%s' --pro-limit 0.5 --all", path);
        ck_assert_int_eq(test_run_winclip(args, &out, NULL), 0);
        snprintf(want, sizeof want, "pixel_aupro\t%.10g\n", pm5.aupro);
        ck_assert_msg(strstr(out, want), "%s", out);
        snprintf(want, sizeof want, "n_regions\t%lld\n", (long long)pm5.n_regions);
        ck_assert_msg(strstr(out, want) && strstr(out, "pixel_aupro_cflow200\t"), "%s", out);
        free(out);
    }
}

START_TEST(cli_matches_library)
{
    char *dir = test_mkdtemp();
    char path[1024];
    snprintf(path, sizeof path, "%s/in.h5", dir);
    write_cli_file(path, 0);
    test_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(cli_bad_files)
{
    static const char *const want[] = {
        NULL,
        "/maps without /masks",
        "dataset /masks: expected (3, 4, 5) like /maps, found (3, 5, 4)",
        "/labels[1] = 2: expected 0 (normal) or 1 (anomalous)",
        "dataset /scores missing",
        "dataset /scores: expected shape (3) like /labels, found (2)",
        "dataset /masks: expected uint8 (1 byte), found 8-byte integers",
        "score of image 0 is nan",
    };
    char *dir = test_mkdtemp();
    char path[1024], args[1200];
    for (int v = 1; v < (int)ARRAY_LEN(want); v++) {
        snprintf(path, sizeof path, "%s/bad%d.h5", dir, v);
        write_cli_file(path, v);
        char *out = NULL, *errout = NULL;
        snprintf(args, sizeof args, "metrics '%s'", path);
        ck_assert_int_eq(test_run_winclip(args, &out, &errout), 1);
        ck_assert_msg(errout && strstr(errout, want[v]) && strstr(errout, path), "variant %d: %s", v, errout);
        ck_assert_str_eq(out, "");
        free(out);
        free(errout);
    }
    /* not an HDF5 file */
    snprintf(path, sizeof path, "%s/text.h5", dir);
    ck_assert(test_write_file(path, "hello", 5) == 0);
    char *errout = NULL;
    snprintf(args, sizeof args, "metrics '%s'", path);
    ck_assert_int_eq(test_run_winclip(args, NULL, &errout), 1);
    ck_assert_msg(errout && strstr(errout, path), "%s", errout);
    free(errout);
    /* usage errors */
    snprintf(args, sizeof args, "metrics '%s' --pro-limit 0", path);
    ck_assert_int_eq(test_run_winclip(args, NULL, NULL), 2);
    ck_assert_int_eq(test_run_winclip("metrics", NULL, NULL), 2);
    test_rmtree(dir);
    free(dir);
}
END_TEST

/* Issue 9 fault 4: a file declaring an unallocated chunked /maps of 6 x 100000 x 100000 is refused
 * from its dims (nothing allocated); labels that disagree with masks are scored but warned about. */
static void put_chunked_u8_or_f32(H5File *f, const char *name, hid_t type, const hsize_t *dims)
{
    hsize_t chunk[3] = {1, 64, 64};
    hid_t space = H5Screate_simple(3, dims, NULL), dcpl = H5Pcreate(H5P_DATASET_CREATE);
    ck_assert(space >= 0 && dcpl >= 0 && H5Pset_chunk(dcpl, 3, chunk) >= 0);
    hid_t d = H5Dcreate2((hid_t)f->id, name, type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    ck_assert(d >= 0);
    H5Dclose(d);
    H5Pclose(dcpl);
    H5Sclose(space);
}

START_TEST(cli_declared_sizes_and_label_masks)
{
    char *dir = test_mkdtemp();
    char path[1024], args[1200];
    snprintf(path, sizeof path, "%s/huge.h5", dir);
    H5File f = {0};
    Error err = {0};
    ck_assert_msg(h5_create(&f, path, &err) == 0, "%s", err.msg);
    int64_t labels[6] = {0, 1, 0, 1, 0, 1}, d1[1] = {6};
    float scores[6] = {0, 1, 0, 1, 0, 1};
    ck_assert(h5_write_i64(&f, "/labels", labels, 1, d1, &err) == 0);
    ck_assert(h5_write_f32(&f, "/scores", scores, 1, d1, &err) == 0);
    const hsize_t big[3] = {6, 100000, 100000};
    put_chunked_u8_or_f32(&f, "/maps", H5T_NATIVE_FLOAT, big);
    put_chunked_u8_or_f32(&f, "/masks", H5T_NATIVE_UINT8, big);
    h5_close(&f);
    char *out = NULL, *errout = NULL;
    snprintf(args, sizeof args, "metrics '%s'", path);
    ck_assert_int_eq(test_run_winclip(args, &out, &errout), 1);
    ck_assert_msg(errout && strstr(errout, path) && strstr(errout, "(6, 100000, 100000)") &&
                      strstr(errout, "expected at most 4294967296 elements"),
                  "%s", errout);
    free(out);
    free(errout);

    int64_t n;
    const int64_t overflow[3] = {INT64_MAX / 2, 4, 3}, fine[3] = {6, 4, 5};
    ck_assert_int_eq(h5_elements(3, overflow, &n), 1);
    ck_assert(n == -1);
    ck_assert_int_eq(h5_elements(3, fine, &n), 0);
    ck_assert(n == 120);

    snprintf(path, sizeof path, "%s/mislabelled.h5", dir);
    write_cli_file(path, 8);
    snprintf(args, sizeof args, "metrics '%s'", path);
    ck_assert_int_eq(test_run_winclip(args, &out, &errout), 0);
    ck_assert_msg(errout && strstr(errout, "1 image(s) with label 0 (normal) have defect pixels in /masks (first: index 1)") &&
                      strstr(errout, "1 image(s) with label 1 (anomalous) have an empty mask in /masks (first: index 0)"),
                  "%s", errout);
    ck_assert_msg(strstr(out, "pixel_aupro"), "%s", out);
    free(out);
    free(errout);
    test_rmtree(dir);
    free(dir);
}
END_TEST

Suite *metrics_suite(void)
{
    Suite *s = suite_create("metrics");
    TCase *core = tcase_create("Core");
    tcase_set_timeout(core, 60);
    tcase_add_test(core, fixture_cases);
    tcase_add_test(core, winclip_paper_metrics);
    tcase_add_test(core, inverted_scores);
    tcase_add_test(core, all_equal);
    tcase_add_test(core, single_anomalous_nonsquare_negative);
    tcase_add_test(core, pro_vertex_at_limit);
    tcase_add_test(core, curves_downsampled);
    tcase_add_test(core, random_vs_naive);
    tcase_add_test(core, cli_matches_library);
    suite_add_tcase(s, core);
    TCase *lim = tcase_create("Limits");
    tcase_add_test(lim, extreme_values);
    tcase_add_test(lim, error_paths);
    tcase_add_test(lim, cli_bad_files);
    tcase_add_test(lim, cli_declared_sizes_and_label_masks);
    suite_add_tcase(s, lim);
    return s;
}
