/*
 * metrics.c - exact image and pixel metrics with ties: AUROC, AP, F1-max, AUPRO (+ variants).
 *
 * Does: every metric of spec/metrics.md from one ranking per call. A ranking is turned into
 * a stream of cumulative curve points (fp, tp, pro_sum) at the end of each tie group; one
 * accumulator turns that stream into AUROC (trapezoid), AP (step), AUPR (trapezoid), F1-max
 * and AUPRO (official trapezoid with interpolation at the limit), or records a curve.
 * Does not: read files, resize maps, average categories.
 * Reference: spec/metrics.md §0-§5 (sklearn _binary_clf_curve, roc_auc_score,
 * average_precision_score, precision_recall_curve 1.2; MVTec AD evaluation code
 * pro_curve_util.compute_pro + generic_util.trapezoid; cflow-ad cal_pro_score).
 *
 * Pixel ranking, designed for ~10^7..10^8 pixels in little memory:
 *  - only the P anomalous pixels are sorted, as uint64 (monotone float key << 32 | region id)
 *    with an LSD radix sort on the key (3 passes of 11 bits);
 *  - each normal pixel is located among the sorted anomalous keys (a bucket table over the
 *    anomalous key range with ~P/4 buckets, then a branch-free binary search inside the
 *    bucket) and counted either as tying with an anomalous tie group (eq[]) or as lying
 *    strictly between two groups (gap[]);
 *  - walking the groups in descending order gives, for each group, the point just before it
 *    (end of the normal-only groups above it) and the point at its end. Normal-only tie
 *    groups between two such points lie on a horizontal ROC/PRO segment and a vertical PR
 *    segment, so leaving them out changes no area, no AP step and no F1 maximum, and leaves
 *    the PRO interpolation at the limit exact.
 * Memory: 8 (pairs) + 8 (sort buffer, then gap/eq counts) + <= 2 (bucket table) bytes per
 * anomalous pixel + 4 per region + one image of connected-component scratch (8 B/pixel of
 * one image); nothing per normal pixel.
 */
#include "eval/metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- float keys: monotone uint32 image of a finite float, -0.0 mapped to +0.0 ---- */

static inline uint32_t float_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static inline int bits_finite(uint32_t u) { return (u & 0x7f800000u) != 0x7f800000u; }

static inline uint32_t float_key(float f)
{
    uint32_t u = float_bits(f);
    if (u == 0x80000000u) u = 0; /* -0.0 ties +0.0 */
    return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

static inline float key_float(uint32_t k)
{
    uint32_t u = (k & 0x80000000u) ? (k & 0x7fffffffu) : ~k;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static inline uint32_t pair_key(uint64_t v) { return (uint32_t)(v >> 32); }
static inline uint32_t pair_region(uint64_t v) { return (uint32_t)v; }

/* ---- curves ---- */

void metrics_curve_free(Curve *c)
{
    if (!c) return;
    free(c->x);
    free(c->y);
    c->x = c->y = NULL;
    c->n = 0;
}

typedef struct {
    Curve *c;
    size_t cap;
} CurveBuf;

static void curve_push(CurveBuf *b, double x, double y)
{
    if (!b->c) return;
    if (b->c->n == b->cap) {
        b->cap = b->cap ? 2 * b->cap : 256;
        b->c->x = xrealloc(b->c->x, b->cap * sizeof(double));
        b->c->y = xrealloc(b->c->y, b->cap * sizeof(double));
    }
    b->c->x[b->c->n] = x;
    b->c->y[b->c->n] = y;
    b->c->n++;
}

void metrics_curve_downsample(Curve *c, int max_points)
{
    if (!c || max_points < 2 || c->n <= (size_t)max_points) return;
    double total = 0;
    for (size_t i = 1; i < c->n; i++) total += fabs(c->x[i] - c->x[i - 1]) + fabs(c->y[i] - c->y[i - 1]);
    double step = total / (double)(max_points - 1);
    size_t kept = 1; /* point 0 stays */
    double run = 0;
    for (size_t i = 1; i + 1 < c->n && kept + 1 < (size_t)max_points; i++) {
        run += fabs(c->x[i] - c->x[i - 1]) + fabs(c->y[i] - c->y[i - 1]);
        if (run >= step) {
            c->x[kept] = c->x[i];
            c->y[kept] = c->y[i];
            kept++;
            run = 0;
        }
    }
    c->x[kept] = c->x[c->n - 1];
    c->y[kept] = c->y[c->n - 1];
    c->n = kept + 1;
}

/* ---- the accumulator: curve points in, every metric out ---- */

typedef struct {
    double n_pos, n_neg, n_regions; /* P, N, R (R = 0: no PRO)          */
    double limit;                   /* AUPRO FPR limit                   */
    int64_t fp, tp;                 /* previous point                    */
    double recall, precision;       /* previous PR point (starts (0, 1)) */
    double roc_area;                /* in count units: / (P N) at the end */
    double ap, aupr_trapz, f1max, f1_threshold;
    double pro_x, pro_y, pro_area; /* previous PRO point, area so far   */
    int pro_done;
    CurveKind kind;
    CurveBuf curve; /* curve.c NULL: no curve recorded */
} Acc;

static void acc_init(Acc *a, size_t n_pos, size_t n_neg, size_t n_regions, double limit)
{
    memset(a, 0, sizeof *a);
    a->n_pos = (double)n_pos;
    a->n_neg = (double)n_neg;
    a->n_regions = (double)n_regions;
    a->limit = limit;
    a->precision = 1.0;
    a->f1max = 0;
    a->f1_threshold = NAN;
}

/* Official MVTec trapezoid, streamed: area over points with x <= limit, plus the partial
 * trapezoid to the limit with y interpolated linearly when the limit is not itself a vertex. */
static void acc_pro_point(Acc *a, double x, double y)
{
    if (a->kind == CURVE_PRO) curve_push(&a->curve, x, y);
    if (a->pro_done) return;
    if (x <= a->limit) {
        a->pro_area += 0.5 * (y + a->pro_y) * (x - a->pro_x);
        a->pro_x = x;
        a->pro_y = y;
        return;
    }
    if (a->pro_x < a->limit) {
        double y_lim = a->pro_y + (y - a->pro_y) * (a->limit - a->pro_x) / (x - a->pro_x);
        a->pro_area += 0.5 * (y_lim + a->pro_y) * (a->limit - a->pro_x);
    }
    a->pro_done = 1;
}

/* One curve point: cumulative fp, tp and PRO sum (sum over covered defect pixels of 1/|C|)
 * after a tie group; threshold = the group's score (NaN for normal-only groups). */
static void acc_point(Acc *a, int64_t fp, int64_t tp, double pro_sum, double threshold)
{
    double dfp = (double)(fp - a->fp), dtp = (double)(tp - a->tp);
    a->roc_area += dfp * ((double)tp + (double)a->tp) * 0.5;
    double recall = (double)tp / a->n_pos;
    double precision = (double)tp / (double)(tp + fp); /* tp + fp > 0 at every point */
    if (dtp > 0) a->ap += (recall - a->recall) * precision;
    a->aupr_trapz += 0.5 * (precision + a->precision) * (recall - a->recall);
    if (tp > 0) {
        double f1 = 2.0 * (double)tp / (2.0 * (double)tp + (double)fp + (a->n_pos - (double)tp));
        if (f1 > a->f1max) {
            a->f1max = f1;
            a->f1_threshold = threshold;
        }
    }
    if (a->kind == CURVE_ROC) curve_push(&a->curve, (double)fp / a->n_neg, recall);
    if (a->kind == CURVE_PR) curve_push(&a->curve, recall, precision);
    if (a->n_regions > 0) acc_pro_point(a, fmin((double)fp / a->n_neg, 1.0), fmin(pro_sum / a->n_regions, 1.0));
    a->fp = fp;
    a->tp = tp;
    a->recall = recall;
    a->precision = precision;
}

static void acc_start_curve(Acc *a, CurveKind kind, Curve *out)
{
    a->kind = kind;
    a->curve.c = out;
    if (!out) return;
    if (kind == CURVE_ROC) curve_push(&a->curve, 0, 0);
    if (kind == CURVE_PR) curve_push(&a->curve, 0, 1);
    if (kind == CURVE_PRO) curve_push(&a->curve, 0, 0);
}

static void acc_finish(Acc *a)
{
    if (a->n_regions > 0) acc_pro_point(a, 1.0, 1.0); /* official: append (1, 1) */
}

/* ---- image ranking ---- */

typedef struct {
    double score;
    uint8_t label;
} Scored;

static int scored_desc(const void *pa, const void *pb)
{
    double a = ((const Scored *)pa)->score, b = ((const Scored *)pb)->score;
    return (a < b) - (a > b);
}

static int image_rank(const double *scores, const uint8_t *labels, size_t n, Scored **out,
                      size_t *n_pos, Error *err)
{
    if (n == 0) return err_setf(err, ERR_VALUE, "image metrics: no images (n = 0)");
    size_t pos = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(scores[i]))
            return err_setf(err, ERR_VALUE, "image metrics: score of image %zu is %g; scores must be finite",
                            i, scores[i]);
        pos += labels[i] != 0;
    }
    if (pos == 0)
        return err_setf(err, ERR_VALUE, "image metrics: no anomalous image among %zu (all labels 0): undefined", n);
    if (pos == n)
        return err_setf(err, ERR_VALUE, "image metrics: no normal image among %zu (all labels 1): undefined", n);
    Scored *s = xmalloc(n * sizeof *s);
    for (size_t i = 0; i < n; i++) {
        s[i].score = scores[i] == 0 ? 0.0 : scores[i];
        s[i].label = labels[i] != 0;
    }
    qsort(s, n, sizeof *s, scored_desc);
    *out = s;
    *n_pos = pos;
    return 0;
}

static void image_walk(const Scored *s, size_t n, Acc *a)
{
    int64_t fp = 0, tp = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i].label) tp++;
        else fp++;
        if (i + 1 == n || s[i + 1].score != s[i].score) acc_point(a, fp, tp, 0, s[i].score);
    }
}

int metrics_image_f64(const double *scores, const uint8_t *labels, size_t n, ImageMetrics *out,
                      Error *err)
{
    Scored *s = NULL;
    size_t n_pos = 0;
    int rc = image_rank(scores, labels, n, &s, &n_pos, err);
    if (rc) return rc;
    Acc a;
    acc_init(&a, n_pos, n - n_pos, 0, 1.0);
    image_walk(s, n, &a);
    free(s);
    out->auroc = a.roc_area / (a.n_pos * a.n_neg);
    out->ap = a.ap;
    out->f1max = a.f1max;
    out->f1_threshold = a.f1_threshold;
    out->aupr_trapz = a.aupr_trapz;
    return 0;
}

int metrics_image(const float *scores, const uint8_t *labels, size_t n, ImageMetrics *out, Error *err)
{
    double *d = xmalloc((n ? n : 1) * sizeof *d);
    for (size_t i = 0; i < n; i++) d[i] = scores[i];
    int rc = metrics_image_f64(d, labels, n, out, err);
    free(d);
    return rc;
}

int metrics_image_curve(const double *scores, const uint8_t *labels, size_t n, CurveKind kind,
                        int max_points, Curve *out, Error *err)
{
    if (kind == CURVE_PRO) return err_setf(err, ERR_USAGE, "image metrics: a PRO curve needs pixel maps");
    Scored *s = NULL;
    size_t n_pos = 0;
    int rc = image_rank(scores, labels, n, &s, &n_pos, err);
    if (rc) return rc;
    metrics_curve_free(out);
    Acc a;
    acc_init(&a, n_pos, n - n_pos, 0, 1.0);
    acc_start_curve(&a, kind, out);
    image_walk(s, n, &a);
    free(s);
    metrics_curve_downsample(out, max_points);
    return 0;
}

/* ---- pixel ranking ---- */

#define CFLOW_STEPS 200
#define CFLOW_MAX_TH (CFLOW_STEPS + 2)

typedef struct {
    size_t n_images, hw, n; /* images, pixels per image, all pixels */
    size_t n_pos, n_neg, n_regions;
    uint64_t *pos;         /* (n_pos) key << 32 | region, ascending key     */
    uint32_t *gap;         /* (n_pos + 1) normals strictly below group at i  */
    uint32_t *eq;          /* (n_pos) normals tying with the group at i      */
    uint32_t *region_size; /* (n_regions)                                    */
    float lo, hi;          /* min and max over all maps                      */
    /* cflow-200 (spec §5.1): thresholds and per-bin tallies */
    int cflow_n;                /* number of thresholds, 0 = undefined     */
    double cflow_delta;         /* threshold step                          */
    double cflow_th[CFLOW_MAX_TH];
    double cflow_pos_w[CFLOW_MAX_TH + 1]; /* sum of 1/|C| of defect pixels with bin c */
    uint64_t cflow_neg[CFLOW_MAX_TH + 1];  /* normal pixels with bin c                 */
} PixelRank;

static void pixel_rank_free(PixelRank *r)
{
    free(r->pos);
    free(r->gap);
    free(r->eq);
    free(r->region_size);
    memset(r, 0, sizeof *r);
}

/* LSD radix sort of v (n) ascending by the upper 32 bits, 11-bit digits; tmp (n) scratch.
 * Returns the buffer holding the result (v or tmp). */
static uint64_t *radix_sort_hi32(uint64_t *v, uint64_t *tmp, size_t n)
{
    static const int shift[3] = {32, 43, 54};
    size_t *count = xmalloc(2048 * sizeof *count);
    for (int p = 0; p < 3; p++) {
        memset(count, 0, 2048 * sizeof *count);
        for (size_t i = 0; i < n; i++) count[(v[i] >> shift[p]) & 2047]++;
        if (n && count[(v[0] >> shift[p]) & 2047] == n) continue; /* one digit value: no-op */
        size_t sum = 0;
        for (int d = 0; d < 2048; d++) {
            size_t c = count[d];
            count[d] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++) tmp[count[(v[i] >> shift[p]) & 2047]++] = v[i];
        uint64_t *t = v;
        v = tmp;
        tmp = t;
    }
    free(count);
    return v;
}

/* Union-find over provisional labels; parents always point to a smaller or equal label. */
static uint32_t uf_find(uint32_t *parent, uint32_t x)
{
    while (parent[x] != x) {
        parent[x] = parent[parent[x]];
        x = parent[x];
    }
    return x;
}

static void uf_union(uint32_t *parent, uint32_t a, uint32_t b)
{
    a = uf_find(parent, a);
    b = uf_find(parent, b);
    if (a < b) parent[b] = a;
    else if (b < a) parent[a] = b;
}

/* Connected components of one mask (h, w): lab (h*w) gets 0 for background, else a compact
 * component id 1..count. parent (h*w + 1) scratch. Two-pass union-find, raster order. */
static uint32_t label_components(const uint8_t *mask, int h, int w, int connectivity,
                                 uint32_t *lab, uint32_t *parent)
{
    uint32_t next = 1;
    parent[0] = 0;
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            size_t p = (size_t)y * (size_t)w + (size_t)x;
            if (!mask[p]) {
                lab[p] = 0;
                continue;
            }
            uint32_t nb[4];
            int k = 0;
            if (x > 0 && lab[p - 1]) nb[k++] = lab[p - 1];
            if (y > 0) {
                const uint32_t *up = lab + p - (size_t)w;
                if (up[0]) nb[k++] = up[0];
                if (connectivity == 8) {
                    if (x > 0 && up[-1]) nb[k++] = up[-1];
                    if (x + 1 < w && up[1]) nb[k++] = up[1];
                }
            }
            if (k == 0) {
                parent[next] = next;
                lab[p] = next++;
                continue;
            }
            lab[p] = nb[0];
            for (int i = 1; i < k; i++) uf_union(parent, nb[0], nb[i]);
        }
    }
    /* flatten (parents are smaller, so ascending order sees resolved parents), then number
     * the roots 1..count in first-seen order; compact ids stored in place */
    uint32_t count = 0;
    for (uint32_t l = 1; l < next; l++) {
        if (parent[l] == l) parent[l] = ++count | 0x80000000u; /* flag: already an id */
        else {
            uint32_t r = parent[l];
            parent[l] = parent[r]; /* r < l: already an id (flagged) */
        }
    }
    size_t n = (size_t)h * (size_t)w;
    for (size_t p = 0; p < n; p++)
        if (lab[p]) lab[p] = parent[lab[p]] & 0x7fffffffu;
    return count;
}

/* cflow-200 thresholds: numpy float64 semantics of np.arange(min, max, (max - min) / 200):
 * length ceil((max - min) / delta) (200 or 201), values start + i * (buffer[1] - buffer[0]).
 * Float64 (maps promoted) is what reproduces the fixture's aupro_cflow200 column; float32
 * arithmetic moves random_uniform by 3e-3 (one threshold more or less at the ends). */
static void cflow_thresholds(PixelRank *r)
{
    r->cflow_n = 0;
    if (!(r->hi > r->lo)) return;
    double lo = r->lo, hi = r->hi;
    double delta = (hi - lo) / CFLOW_STEPS;
    if (!(delta > 0)) return;
    double len = ceil((hi - lo) / delta);
    if (len < 1 || len > CFLOW_MAX_TH) return;
    int n = (int)len;
    double step = (lo + delta) - lo;
    r->cflow_delta = step;
    r->cflow_th[0] = lo;
    if (n > 1) r->cflow_th[1] = lo + delta;
    for (int i = 2; i < n; i++) r->cflow_th[i] = lo + (double)i * step;
    r->cflow_n = n;
}

/* bin of a value: number of thresholds strictly below it (pixel counted at th_i iff i < bin).
 * Thresholds are ~lo + i * delta: estimate, then correct by at most a step or two. */
static inline int cflow_bin(const PixelRank *r, double v)
{
    int n = r->cflow_n;
    double est = r->cflow_delta > 0 ? (v - r->cflow_th[0]) / r->cflow_delta : 0;
    int c = est <= 0 ? 0 : est >= n ? n : (int)est;
    while (c < n && r->cflow_th[c] < v) c++;
    while (c > 0 && !(r->cflow_th[c - 1] < v)) c--;
    return c;
}

/* Locating a normal pixel among the sorted defect keys: a table over `bits` bits of
 * (key - kmin) >> shift gives a short range of positions, then a branch-free lower bound. */
typedef struct {
    uint32_t kmin, kmax;
    int shift;
    uint32_t *start; /* (2^bits + 1) first position whose bucket is >= b */
} KeyIndex;

static void key_index_build(KeyIndex *ix, const uint64_t *pos, size_t n_pos)
{
    ix->kmin = pair_key(pos[0]);
    ix->kmax = pair_key(pos[n_pos - 1]);
    int bits = 8;
    while (bits < 22 && ((size_t)1 << bits) < n_pos / 4) bits++;
    uint32_t range = ix->kmax - ix->kmin;
    ix->shift = 0;
    while (ix->shift < 32 && (range >> ix->shift) >= ((uint32_t)1 << bits)) ix->shift++;
    size_t n_buckets = (size_t)1 << bits;
    ix->start = xmalloc((n_buckets + 1) * sizeof *ix->start);
    size_t j = 0;
    for (size_t b = 0; b <= n_buckets; b++) {
        while (j < n_pos && (size_t)((pair_key(pos[j]) - ix->kmin) >> ix->shift) < b) j++;
        ix->start[b] = (uint32_t)j;
    }
}

/* First position in pos (ascending keys) with key >= k. */
static inline size_t key_index_lower_bound(const KeyIndex *ix, const uint64_t *pos, size_t n_pos, uint32_t k)
{
    if (k <= ix->kmin) return 0;
    if (k > ix->kmax) return n_pos;
    uint32_t b = (k - ix->kmin) >> ix->shift;
    const uint64_t *base = pos + ix->start[b];
    size_t len = ix->start[b + 1] - ix->start[b];
    while (len > 1) { /* branch-free: the answer stays in [base, base + len] */
        size_t half = len / 2;
        base = pair_key(base[half - 1]) < k ? base + half : base;
        len -= half;
    }
    if (len == 1 && pair_key(base[0]) < k) base++;
    return (size_t)(base - pos);
}

static int pixel_rank_build(const float *maps, const uint8_t *masks, size_t n_images, int height,
                            int width, int connectivity, PixelRank *r, Error *err)
{
    memset(r, 0, sizeof *r);
    if (n_images == 0 || height <= 0 || width <= 0)
        return err_setf(err, ERR_SHAPE, "pixel metrics: empty input (%zu images of %d x %d)", n_images, height,
                        width);
    if (connectivity != 4 && connectivity != 8)
        return err_setf(err, ERR_USAGE, "pixel metrics: connectivity must be 4 or 8, got %d", connectivity);
    r->n_images = n_images;
    r->hw = (size_t)height * (size_t)width;
    if (n_images > (size_t)UINT32_MAX / r->hw)
        return err_setf(err, ERR_UNSUPPORTED,
                        "pixel metrics: %zu images of %d x %d = more than 2^32 pixels in one call: split the set",
                        n_images, height, width);
    r->n = n_images * r->hw;

    /* pass 1: finiteness, range, defect pixel count */
    float lo = INFINITY, hi = -INFINITY;
    size_t n_pos = 0;
    for (size_t i = 0; i < r->n; i++) {
        float v = maps[i];
        if (!bits_finite(float_bits(v))) {
            size_t img = i / r->hw, p = i % r->hw;
            return err_setf(err, ERR_VALUE,
                            "pixel metrics: anomaly map of image %zu, pixel (y %zu, x %zu) is %s; maps must be finite",
                            img, p / (size_t)width, p % (size_t)width, isnan(v) ? "NaN" : v > 0 ? "+Inf" : "-Inf");
        }
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
        n_pos += masks[i] != 0;
    }
    if (n_pos == 0)
        return err_setf(err, ERR_VALUE,
                        "pixel metrics: no defect pixel in %zu masks (all zero): pixel metrics are undefined", n_images);
    if (n_pos == r->n)
        return err_setf(err, ERR_VALUE,
                        "pixel metrics: no normal pixel (every mask pixel is a defect): pixel metrics are undefined");
    r->lo = lo;
    r->hi = hi;
    r->n_pos = n_pos;
    r->n_neg = r->n - n_pos;

    /* pass 2: connected components per image; (key, region) pairs of defect pixels */
    uint64_t *pairs = xmalloc(n_pos * sizeof *pairs);
    uint32_t *lab = xmalloc(r->hw * sizeof *lab);
    uint32_t *parent = xmalloc((r->hw + 1) * sizeof *parent);
    size_t cap_regions = 64, k = 0;
    r->region_size = xcalloc(cap_regions, sizeof *r->region_size);
    for (size_t img = 0; img < n_images; img++) {
        const uint8_t *m = masks + img * r->hw;
        const float *s = maps + img * r->hw;
        int any = 0;
        for (size_t p = 0; p < r->hw && !any; p++) any = m[p] != 0;
        if (!any) continue;
        uint32_t nc = label_components(m, height, width, connectivity, lab, parent);
        size_t base = r->n_regions;
        if (base + nc > cap_regions) {
            size_t old = cap_regions;
            while (base + nc > cap_regions) cap_regions *= 2;
            r->region_size = xrealloc(r->region_size, cap_regions * sizeof *r->region_size);
            memset(r->region_size + old, 0, (cap_regions - old) * sizeof *r->region_size);
        }
        for (size_t p = 0; p < r->hw; p++) {
            if (!lab[p]) continue;
            uint32_t g = (uint32_t)(base + lab[p] - 1);
            r->region_size[g]++;
            pairs[k++] = (uint64_t)float_key(s[p]) << 32 | g;
        }
        r->n_regions = base + nc;
    }
    free(lab);
    free(parent);
    CHECK(k == n_pos);

    /* sort the defect pixels by key */
    uint64_t *tmp = xmalloc(n_pos * sizeof *tmp);
    uint64_t *sorted = radix_sort_hi32(pairs, tmp, n_pos);
    free(sorted == pairs ? tmp : pairs);
    r->pos = sorted;

    KeyIndex ix;
    key_index_build(&ix, r->pos, n_pos);

    /* cflow-200 thresholds and the defect-pixel bins */
    cflow_thresholds(r);
    if (r->cflow_n > 0)
        for (size_t i = 0; i < n_pos; i++)
            r->cflow_pos_w[cflow_bin(r, key_float(pair_key(r->pos[i])))] +=
                1.0 / (double)r->region_size[pair_region(r->pos[i])];

    /* pass 3: place every normal pixel among the sorted defect keys */
    r->gap = xcalloc(n_pos + 1, sizeof *r->gap);
    r->eq = xcalloc(n_pos, sizeof *r->eq);
    for (size_t i = 0; i < r->n; i++) {
        if (masks[i]) continue;
        uint32_t key = float_key(maps[i]);
        size_t a = key_index_lower_bound(&ix, r->pos, n_pos, key);
        if (a < n_pos && pair_key(r->pos[a]) == key) r->eq[a]++;
        else r->gap[a]++;
        if (r->cflow_n > 0) r->cflow_neg[cflow_bin(r, maps[i])]++;
    }
    free(ix.start);
    return 0;
}

/* Descending walk over the defect tie groups; see the file comment. */
static void pixel_walk(const PixelRank *r, Acc *a)
{
    int64_t fp = 0, tp = 0;
    double pro = 0, pro_c = 0; /* Neumaier-compensated running sum */
    size_t b = r->n_pos;
    while (b > 0) {
        uint32_t key = pair_key(r->pos[b - 1]);
        size_t s = b - 1;
        double w = 0;
        for (;;) {
            w += 1.0 / (double)r->region_size[pair_region(r->pos[s])];
            if (s == 0 || pair_key(r->pos[s - 1]) != key) break;
            s--;
        }
        if (r->gap[b]) {
            fp += r->gap[b];
            acc_point(a, fp, tp, pro + pro_c, NAN);
        }
        fp += r->eq[s];
        tp += (int64_t)(b - s);
        double t = pro + w;
        pro_c += fabs(pro) >= fabs(w) ? (pro - t) + w : (w - t) + pro;
        pro = t;
        acc_point(a, fp, tp, pro + pro_c, key_float(key));
        b = s;
    }
    if (r->gap[0]) acc_point(a, fp + r->gap[0], tp, pro + pro_c, NAN);
}

/* cflow-ad cal_pro_score on the binned tallies (spec §5.1); NaN where it is undefined. */
static double pixel_cflow200(const PixelRank *r)
{
    int n = r->cflow_n;
    if (n <= 0) return NAN;
    double fpr[CFLOW_MAX_TH], pro[CFLOW_MAX_TH];
    uint64_t neg_above = 0;
    double w_above = 0;
    /* threshold i counts pixels with bin > i: accumulate from the top bin down */
    for (int c = n; c > 0; c--) {
        neg_above += r->cflow_neg[c];
        w_above += r->cflow_pos_w[c];
        fpr[c - 1] = (double)neg_above / (double)r->n_neg;
        pro[c - 1] = w_above / (double)r->n_regions;
    }
    double fx[CFLOW_MAX_TH], fy[CFLOW_MAX_TH];
    int k = 0;
    for (int i = 0; i < n; i++)
        if (fpr[i] < 0.3) {
            fx[k] = fpr[i];
            fy[k] = pro[i];
            k++;
        }
    if (k < 2) return NAN;
    double mn = fx[0], mx = fx[0];
    for (int i = 1; i < k; i++) {
        mn = fmin(mn, fx[i]);
        mx = fmax(mx, fx[i]);
    }
    if (!(mx > mn)) return NAN;
    for (int i = 0; i < k; i++) fx[i] = (fx[i] - mn) / (mx - mn);
    /* fpr decreases with the threshold: sklearn auc direction -1 */
    double area = 0;
    for (int i = 0; i + 1 < k; i++) area += (fx[i + 1] - fx[i]) * (fy[i + 1] + fy[i]) / 2.0;
    return -area;
}

int metrics_pixel_opts(const float *maps, const uint8_t *masks, size_t n_images, int height,
                       int width, const PixelOptions *opt, PixelMetrics *out, Error *err)
{
    if (!(opt->pro_limit > 0 && opt->pro_limit <= 1))
        return err_setf(err, ERR_USAGE, "pixel metrics: PRO limit must be in (0, 1], got %g", opt->pro_limit);
    PixelRank r;
    int rc = pixel_rank_build(maps, masks, n_images, height, width, opt->connectivity, &r, err);
    if (rc) {
        pixel_rank_free(&r);
        return rc;
    }
    Acc a;
    acc_init(&a, r.n_pos, r.n_neg, r.n_regions, opt->pro_limit);
    pixel_walk(&r, &a);
    acc_finish(&a);
    out->auroc = a.roc_area / (a.n_pos * a.n_neg);
    out->ap = a.ap;
    out->f1max = a.f1max;
    out->f1_threshold = a.f1_threshold;
    out->aupr_trapz = a.aupr_trapz;
    out->aupro = a.pro_area / opt->pro_limit;
    out->aupro_cflow200 = pixel_cflow200(&r);
    out->n_regions = (int64_t)r.n_regions;
    out->n_pos_pixels = (int64_t)r.n_pos;
    pixel_rank_free(&r);
    return 0;
}

int metrics_pixel(const float *maps, const uint8_t *masks, size_t n_images, int height, int width,
                  double pro_limit, PixelMetrics *out, Error *err)
{
    PixelOptions opt = {pro_limit, 8};
    return metrics_pixel_opts(maps, masks, n_images, height, width, &opt, out, err);
}

int metrics_pixel_curve(const float *maps, const uint8_t *masks, size_t n_images, int height,
                        int width, CurveKind kind, int max_points, Curve *out, Error *err)
{
    PixelRank r;
    int rc = pixel_rank_build(maps, masks, n_images, height, width, 8, &r, err);
    if (rc) {
        pixel_rank_free(&r);
        return rc;
    }
    metrics_curve_free(out);
    Acc a;
    acc_init(&a, r.n_pos, r.n_neg, r.n_regions, 1.0);
    acc_start_curve(&a, kind, out);
    pixel_walk(&r, &a);
    acc_finish(&a);
    pixel_rank_free(&r);
    metrics_curve_downsample(out, max_points);
    return 0;
}
