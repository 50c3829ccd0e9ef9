/*
 * winclip.c - WinCLIP / WinCLIP+ scoring on cached features (see winclip.h).
 *
 * Does: prototypes, ascore_0, aggregation, fusion, memories, distances, upsampling,
 * smoothing. Does not: settings (settings.c), I/O, pre-processing, CLIP forward passes.
 * Reference: ../shared/spec/winclip.md §2-§7 (sections cited at each step);
 * fixtures/winclip_paper/README.md.
 */
#include "winclip/winclip.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clip/gemm.h"
#include "clip/windows.h"

/* ---- text prototypes (spec §2.4) and the zero-shot score (§3) ---- */

static double dot_f64(const float *a, const float *b, int n)
{
    double acc = 0.0;
    for (int i = 0; i < n; i++) acc += (double)a[i] * (double)b[i];
    return acc;
}

void winclip_prototype(float *out, const float *embeddings, int n, int dim, int mode)
{
    CHECK(n > 0 && dim > 0 && dim <= 65536);
    /* Accumulate in double on the stack in blocks, so the kernel never allocates. */
    enum { BLOCK = 256 };
    double acc[BLOCK];
    for (int d0 = 0; d0 < dim; d0 += BLOCK) {
        int nd = dim - d0 < BLOCK ? dim - d0 : BLOCK;
        for (int d = 0; d < nd; d++) acc[d] = 0.0;
        for (int i = 0; i < n; i++) {
            const float *row = embeddings + (size_t)i * (size_t)dim;
            double scale = 1.0;
            if (mode == WINCLIP_PROTO_NORMALIZE) {
                double norm = sqrt(dot_f64(row, row, dim));
                scale = norm > 0 ? 1.0 / norm : 0.0;
            }
            for (int d = 0; d < nd; d++) acc[d] += (double)row[d0 + d] * scale;
        }
        for (int d = 0; d < nd; d++) out[d0 + d] = (float)(acc[d] / n);
    }
    if (mode == WINCLIP_PROTO_NORMALIZE) winclip_l2_normalize_rows(out, out, 1, dim);
}

int winclip_text_init(WinclipText *t, const float *normal, int n_normal, const float *anomalous,
                      int n_anomalous, int dim, int mode, Error *err)
{
    memset(t, 0, sizeof *t);
    if (n_normal <= 0 || n_anomalous <= 0 || dim <= 0)
        return err_setf(err, ERR_VALUE, "text prototypes: need at least one normal and one anomalous "
                        "prompt embedding (got %d and %d, dim %d)", n_normal, n_anomalous, dim);
    t->embed_dim = dim;
    t->normal = xmalloc((size_t)dim * sizeof *t->normal);
    t->anomalous = xmalloc((size_t)dim * sizeof *t->anomalous);
    winclip_prototype(t->normal, normal, n_normal, dim, mode);
    winclip_prototype(t->anomalous, anomalous, n_anomalous, dim, mode);
    return 0;
}

int winclip_text_init_one_class(WinclipText *t, const float *normal, int n_normal, int dim, int mode,
                                int one_class_score, Error *err)
{
    memset(t, 0, sizeof *t);
    if (n_normal <= 0 || dim <= 0)
        return err_setf(err, ERR_VALUE, "text prototypes: one-class needs at least one normal prompt "
                        "embedding (got %d, dim %d)", n_normal, dim);
    t->embed_dim = dim;
    t->normal = xmalloc((size_t)dim * sizeof *t->normal);
    winclip_prototype(t->normal, normal, n_normal, dim, mode);
    t->score = one_class_score == WINCLIP_ONE_CLASS_SIMILARITY ? WINCLIP_TEXT_ONE_CLASS_SIMILARITY
                                                               : WINCLIP_TEXT_ONE_CLASS_DISTANCE;
    return 0;
}

void winclip_text_free(WinclipText *t)
{
    free(t->normal);
    free(t->anomalous);
    memset(t, 0, sizeof *t);
}

static double cosine_f64(const float *a, const float *b, int n)
{
    double na = sqrt(dot_f64(a, a, n)), nb = sqrt(dot_f64(b, b, n));
    return na > 0 && nb > 0 ? dot_f64(a, b, n) / (na * nb) : 0.0;
}

double winclip_ascore(const float *f, const WinclipText *t, double tau, double cos_out[2])
{
    double cn = cosine_f64(f, t->normal, t->embed_dim);
    if (t->score != WINCLIP_TEXT_TWO_CLASS) { /* one-class (§14): no anomalous prototype */
        if (cos_out) {
            cos_out[0] = cn;
            cos_out[1] = 0.0;
        }
        return t->score == WINCLIP_TEXT_ONE_CLASS_SIMILARITY ? (1.0 + cn) / 2.0 : 1.0 - cn;
    }
    double ca = cosine_f64(f, t->anomalous, t->embed_dim);
    if (cos_out) {
        cos_out[0] = cn;
        cos_out[1] = ca;
    }
    return 1.0 / (1.0 + exp(-(ca - cn) / tau));
}

/* ---- kernels: aggregation (§5.1), fusion (§5.2), distance (§6.2), upsampling (§5.3) ---- */

void winclip_l2_normalize_rows(float *out, const float *in, int n, int dim)
{
    for (int i = 0; i < n; i++) {
        const float *row = in + (size_t)i * (size_t)dim;
        float *dst = out + (size_t)i * (size_t)dim;
        double norm = sqrt(dot_f64(row, row, dim));
        double inv = norm > 0 ? 1.0 / norm : 0.0;
        for (int d = 0; d < dim; d++) dst[d] = (float)((double)row[d] * inv);
    }
}

void winclip_aggregate(float *out, const float *window_values, int grid, int k, int stride,
                       int mode)
{
    int n = windows_per_side(grid, k, stride);
    for (int i = 0; i < grid; i++)
        for (int j = 0; j < grid; j++) {
            /* windows (r, c) with r*stride <= i < r*stride + k */
            int r0 = i - k + 1 <= 0 ? 0 : (i - k + 1 + stride - 1) / stride, r1 = i / stride;
            int c0 = j - k + 1 <= 0 ? 0 : (j - k + 1 + stride - 1) / stride, c1 = j / stride;
            if (r1 > n - 1) r1 = n - 1;
            if (c1 > n - 1) c1 = n - 1;
            double sum = 0.0;
            int count = 0, zero = 0;
            for (int r = r0; r <= r1; r++)
                for (int c = c0; c <= c1; c++) {
                    double v = window_values[r * n + c];
                    count++;
                    if (mode == WINCLIP_AGG_HARMONIC) {
                        if (v <= 0) zero = 1;
                        else sum += 1.0 / v;
                    } else {
                        sum += v;
                    }
                }
            double m = 0.0;
            if (count > 0 && !(mode == WINCLIP_AGG_HARMONIC && zero))
                m = mode == WINCLIP_AGG_HARMONIC ? count / sum : sum / count;
            out[i * grid + j] = (float)m;
        }
}

void winclip_fuse(float *out, const float *const *maps, int n_maps, const double *constant,
                  int n_cells, int mode)
{
    int n = n_maps + (constant != NULL);
    CHECK(n > 0);
    for (int c = 0; c < n_cells; c++) {
        double sum = 0.0;
        int zero = 0;
        for (int m = 0; m < n; m++) {
            double v = m < n_maps ? (double)maps[m][c] : *constant;
            if (mode == WINCLIP_AGG_HARMONIC) {
                if (v <= 0) zero = 1;
                else sum += 1.0 / v;
            } else {
                sum += v;
            }
        }
        out[c] = (float)(mode == WINCLIP_AGG_HARMONIC ? (zero ? 0.0 : n / sum) : sum / n);
    }
}

void winclip_min_distance(float *out, const float *query, int n_query, const float *memory,
                          int n_memory, int dim, float *scratch, int chunk)
{
    CHECK(chunk > 0 && n_memory > 0);
    for (int q = 0; q < n_query; q++) out[q] = -2.0f; /* running max cosine */
    for (int m0 = 0; m0 < n_memory; m0 += chunk) {
        int nm = n_memory - m0 < chunk ? n_memory - m0 : chunk;
        /* scratch (n_query, nm) = query @ memory[m0 : m0+nm]^T */
        gemm(0, 1, n_query, nm, dim, 1.0f, query, dim, memory + (size_t)m0 * (size_t)dim, dim, 0.0f,
             scratch, nm);
        for (int q = 0; q < n_query; q++) {
            const float *row = scratch + (size_t)q * (size_t)nm;
            float best = out[q];
            for (int j = 0; j < nm; j++)
                if (row[j] > best) best = row[j];
            out[q] = best;
        }
    }
    for (int q = 0; q < n_query; q++) {
        double d = 0.5 * (1.0 - (double)out[q]);
        out[q] = (float)(d > 0 ? d : 0.0);
    }
}

/* Source index pair and weight of output position d for align_corners=False. */
static void bilinear_src(int d, int n_out, int n_in, int *i0, int *i1, double *w)
{
    double s = ((double)d + 0.5) * ((double)n_in / (double)n_out) - 0.5;
    if (s < 0) s = 0;
    int lo = (int)s;
    if (lo > n_in - 1) lo = n_in - 1;
    *i0 = lo;
    *i1 = lo + 1 < n_in ? lo + 1 : n_in - 1;
    *w = s - lo;
}

void winclip_upsample_bilinear(float *out, int out_h, int out_w, const float *in, int in_h,
                               int in_w)
{
    for (int y = 0; y < out_h; y++) {
        int y0, y1;
        double wy;
        bilinear_src(y, out_h, in_h, &y0, &y1, &wy);
        for (int x = 0; x < out_w; x++) {
            int x0, x1;
            double wx;
            bilinear_src(x, out_w, in_w, &x0, &x1, &wx);
            double top = (1 - wx) * in[y0 * in_w + x0] + wx * in[y0 * in_w + x1];
            double bot = (1 - wx) * in[y1 * in_w + x0] + wx * in[y1 * in_w + x1];
            out[(size_t)y * (size_t)out_w + (size_t)x] = (float)((1 - wy) * top + wy * bot);
        }
    }
}

static int smooth_radius(double sigma)
{
    return (int)(4.0 * sigma + 0.5);
}

size_t winclip_smooth_scratch_len(int h, int w, double sigma)
{
    if (sigma <= 0) return 0;
    return (size_t)h * (size_t)w + (size_t)(2 * smooth_radius(sigma) + 1);
}

/* scipy "reflect": mirror including the edge sample, period 2n. */
static int reflect_index(int i, int n)
{
    int period = 2 * n;
    i %= period;
    if (i < 0) i += period;
    return i < n ? i : period - 1 - i;
}

void winclip_gaussian_smooth(float *map, int h, int w, double sigma, float *scratch)
{
    if (sigma <= 0) return;
    int radius = smooth_radius(sigma);
    float *tmp = scratch;
    float *kernel = scratch + (size_t)h * (size_t)w;
    double total = 0.0;
    for (int t = -radius; t <= radius; t++) total += exp(-0.5 * (double)t * t / (sigma * sigma));
    for (int t = -radius; t <= radius; t++)
        kernel[t + radius] = (float)(exp(-0.5 * (double)t * t / (sigma * sigma)) / total);
    /* rows (along x) map -> tmp, then columns (along y) tmp -> map */
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            double acc = 0.0;
            for (int t = -radius; t <= radius; t++)
                acc += (double)kernel[t + radius] * map[(size_t)y * w + reflect_index(x + t, w)];
            tmp[(size_t)y * w + x] = (float)acc;
        }
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            double acc = 0.0;
            for (int t = -radius; t <= radius; t++)
                acc += (double)kernel[t + radius] * tmp[(size_t)reflect_index(y + t, h) * w + x];
            map[(size_t)y * w + x] = (float)acc;
        }
}

/* ---- few-shot memories (§6.1): R_p and R_k, unit rows of the K references ---- */

/* The geometry scoring works in: G, W, E of fg with the settings' scales and stride. */
static void geometry_for(WindowGeometry *g, const WindowGeometry *fg, const WinclipSettings *s)
{
    memset(g, 0, sizeof *g);
    g->grid = fg->grid;
    g->width = fg->width;
    g->embed_dim = fg->embed_dim;
    g->n_scales = s->n_scales;
    for (int i = 0; i < s->n_scales; i++) g->scales[i] = s->scales[i];
    g->stride = s->stride;
}

/* Index of scale k in the features, or -1. */
static int feature_scale(const ClipImageFeatures *f, int k, int stride)
{
    if (f->geom.stride != stride) return -1;
    int i = window_geometry_scale(&f->geom, k);
    return i >= 0 && f->windows[i] != NULL ? i : -1;
}

static const float *feature_patches(const ClipImageFeatures *f, int variant)
{
    return variant == WINCLIP_PATCH_PRE_LN_POST ? f->tokens_pre_ln_post : f->tokens_ln_post;
}

int winclip_memory_init(WinclipMemory *m, const WinclipSettings *s, const ClipImageFeatures *refs,
                        int k_shot, Error *err)
{
    memset(m, 0, sizeof *m);
    if (k_shot <= 0) return 0;
    const ClipImageFeatures *f0 = &refs[0];
    const WindowGeometry *g0 = &f0->geom;
    int cells = g0->grid * g0->grid;
    for (int r = 0; r < k_shot; r++) {
        const ClipImageFeatures *f = &refs[r];
        const WindowGeometry *g = &f->geom;
        if (g->grid != g0->grid || g->width != g0->width || g->embed_dim != g0->embed_dim)
            return err_setf(err, ERR_SHAPE, "few-shot reference %d: grid/width/embed_dim %d/%d/%d "
                            "differ from reference 0 (%d/%d/%d)", r, g->grid, g->width, g->embed_dim,
                            g0->grid, g0->width, g0->embed_dim);
        if (feature_patches(f, s->patch_tokens) == NULL)
            return err_setf(err, ERR_SHAPE, "few-shot reference %d: no %s patch tokens in its "
                            "features", r, winclip_settings_patch_name(s->patch_tokens));
        for (int i = 0; i < s->n_scales; i++)
            if (feature_scale(f, s->scales[i], s->stride) < 0)
                return err_setf(err, ERR_SHAPE, "few-shot reference %d: features lack windows of "
                                "scale %d stride %d", r, s->scales[i], s->stride);
    }
    m->k_shot = k_shot;
    geometry_for(&m->geom, &f0->geom, s);
    m->patch_tokens = s->patch_tokens;
    m->n_patch = k_shot * cells;
    m->patch = xmalloc((size_t)m->n_patch * (size_t)m->geom.width * sizeof *m->patch);
    for (int r = 0; r < k_shot; r++)
        winclip_l2_normalize_rows(m->patch + (size_t)r * cells * m->geom.width,
                                  feature_patches(&refs[r], s->patch_tokens), cells, m->geom.width);
    for (int i = 0; i < s->n_scales; i++) {
        int per = windows_count(m->geom.grid, s->scales[i], s->stride);
        m->n_windows[i] = k_shot * per;
        m->windows[i] = xmalloc((size_t)m->n_windows[i] * (size_t)m->geom.embed_dim * sizeof(float));
        for (int r = 0; r < k_shot; r++) {
            int fi = feature_scale(&refs[r], s->scales[i], s->stride);
            winclip_l2_normalize_rows(m->windows[i] + (size_t)r * per * m->geom.embed_dim,
                                      refs[r].windows[fi], per, m->geom.embed_dim);
        }
    }
    return 0;
}

void winclip_memory_free(WinclipMemory *m)
{
    free(m->patch);
    for (int i = 0; i < WINCLIP_MAX_SCALES; i++) free(m->windows[i]);
    memset(m, 0, sizeof *m);
}

/* ---- per-image scratch ---- */

enum { DIST_CHUNK = 2048 };

static float *floats(size_t n)
{
    return xmalloc((n > 0 ? n : 1) * sizeof(float));
}

void winclip_scratch_init(WinclipScratch *sc, const WindowGeometry *features,
                          const WinclipSettings *s, int k_shot, int out_h, int out_w)
{
    memset(sc, 0, sizeof *sc);
    geometry_for(&sc->geom, features, s);
    const WindowGeometry *g = &sc->geom;
    const size_t cells = (size_t)g->grid * (size_t)g->grid;
    sc->k_shot = k_shot > 0 ? k_shot : 0;
    size_t rows = cells, unit = cells * (size_t)g->width, mem_rows = (size_t)sc->k_shot * cells;
    for (int i = 0; i < g->n_scales; i++) {
        size_t nw = (size_t)window_geometry_count(g, i);
        sc->window_scores[i] = floats(nw);
        sc->zs_scale_maps[i] = floats(cells);
        if (sc->k_shot > 0) {
            sc->window_dist[i] = floats(nw);
            sc->fs_scale_maps[i] = floats(cells);
        }
        if (nw > rows) rows = nw;
        if (nw * (size_t)g->embed_dim > unit) unit = nw * (size_t)g->embed_dim;
        if ((size_t)sc->k_shot * nw > mem_rows) mem_rows = (size_t)sc->k_shot * nw;
    }
    sc->m0 = floats(cells);
    sc->map15 = floats(cells);
    sc->dense_map = floats(cells);
    if (sc->k_shot > 0) {
        sc->mp = floats(cells);
        sc->mfs = floats(cells);
        sc->unit = floats(unit);
        sc->chunk = mem_rows < DIST_CHUNK ? (int)mem_rows : DIST_CHUNK;
        sc->block = floats(rows * (size_t)sc->chunk);
    }
    sc->map_cap = (size_t)out_h * (size_t)out_w;
    sc->map = floats(sc->map_cap);
    sc->smooth_cap = winclip_smooth_scratch_len(out_h, out_w, s->smoothing_sigma);
    sc->smooth = sc->smooth_cap ? floats(sc->smooth_cap) : NULL;
}

void winclip_scratch_free(WinclipScratch *sc)
{
    for (int i = 0; i < WINCLIP_MAX_SCALES; i++) {
        free(sc->window_scores[i]);
        free(sc->zs_scale_maps[i]);
        free(sc->window_dist[i]);
        free(sc->fs_scale_maps[i]);
    }
    free(sc->m0);
    free(sc->map15);
    free(sc->dense_map);
    free(sc->mp);
    free(sc->mfs);
    free(sc->unit);
    free(sc->block);
    free(sc->map);
    free(sc->smooth);
    memset(sc, 0, sizeof *sc);
}

/* Resize sc when it was sized for another geometry, fewer references or a smaller map: after
 * the first image of a run this allocates nothing. */
static void scratch_fit(WinclipScratch *sc, const ClipImageFeatures *f, const WinclipSettings *s,
                        int k_shot, int out_h, int out_w)
{
    WindowGeometry g;
    geometry_for(&g, &f->geom, s);
    size_t need_map = (size_t)out_h * (size_t)out_w;
    size_t need_smooth = winclip_smooth_scratch_len(out_h, out_w, s->smoothing_sigma);
    if (sc->map != NULL && window_geometry_equal(&g, &sc->geom) && k_shot <= sc->k_shot &&
        need_map <= sc->map_cap && need_smooth <= sc->smooth_cap)
        return;
    int k = k_shot > sc->k_shot ? k_shot : sc->k_shot;
    winclip_scratch_free(sc);
    winclip_scratch_init(sc, &f->geom, s, k, out_h, out_w);
}

void winclip_maps_free(WinclipMaps *maps)
{
    memset(maps, 0, sizeof *maps); /* the arrays belong to the scratch */
}

/* ---- per-image scoring (§7: the per-image pseudocode) ---- */

/* Distances (§6.2) of rows (n, dim) to a unit-row memory (n_mem, dim): normalise, GEMM, min. */
static void memory_distance(float *out, const float *rows, int n, const float *mem, int n_mem,
                            int dim, WinclipScratch *sc)
{
    int chunk = n_mem < sc->chunk ? n_mem : sc->chunk;
    winclip_l2_normalize_rows(sc->unit, rows, n, dim);
    winclip_min_distance(out, sc->unit, n, mem, n_mem, dim, sc->block, chunk);
}

static int check_inputs(const WinclipSettings *s, const WinclipText *text,
                        const ClipImageFeatures *f, const WinclipMemory *mem, Error *err)
{
    const WindowGeometry *fg = &f->geom;
    if (text->embed_dim != fg->embed_dim)
        return err_setf(err, ERR_SHAPE, "winclip: text prototypes have dim %d, image features %d",
                        text->embed_dim, fg->embed_dim);
    const int dense_tokens = s->dense == WINCLIP_DENSE_PATCH_TOKENS || s->dense == WINCLIP_DENSE_MASKCLIP;
    if (dense_tokens && f->dense_tokens == NULL)
        return err_setf(err, ERR_SHAPE, "winclip: dense = %s, but the image features carry no dense "
                        "tokens (dense.h computes them)", winclip_settings_dense_name(s->dense));
    if (s->n_scales == 0 && !s->image_scale && !dense_tokens)
        return err_setf(err, ERR_VALUE, "winclip: scales = none with image_scale = false leaves "
                        "no zero-shot scale");
    if (!s->language && !(mem && mem->k_shot > 0))
        return err_setf(err, ERR_VALUE, "winclip: language = false needs few-shot references "
                        "(k_shot > 0); zero-shot WinCLIP is language only");
    for (int i = 0; i < s->n_scales; i++)
        if (feature_scale(f, s->scales[i], s->stride) < 0)
            return err_setf(err, ERR_SHAPE, "winclip: image features lack windows of scale %d "
                            "stride %d (have %d scales)", s->scales[i], s->stride, fg->n_scales);
    if (mem && mem->k_shot > 0) {
        const WindowGeometry *mg = &mem->geom;
        WindowGeometry want;
        geometry_for(&want, &f->geom, s);
        if (mg->grid != fg->grid || mg->width != fg->width || mg->embed_dim != fg->embed_dim)
            return err_setf(err, ERR_SHAPE, "winclip: memory grid/width/dim %d/%d/%d differ from "
                            "the image's %d/%d/%d", mg->grid, mg->width, mg->embed_dim, fg->grid,
                            fg->width, fg->embed_dim);
        if (!window_geometry_equal(mg, &want) || mem->patch_tokens != s->patch_tokens)
            return err_setf(err, ERR_VALUE, "winclip: memory built with other scales / stride / "
                            "patch_tokens than these settings");
        if (feature_patches(f, s->patch_tokens) == NULL)
            return err_setf(err, ERR_SHAPE, "winclip: image features have no %s patch tokens",
                            winclip_settings_patch_name(s->patch_tokens));
    }
    return 0;
}

/* §3, §5: a0 = ascore_0(f); A_k[w] = ascore_0(F_k[w]); M_k = aggregate(A_k) (§5.1);
 * M_0 = fuse(M_k..., a0) (§5.2). Dense tokens (§14, patch_tokens / maskclip): the one map
 * ascore_0(token) per patch takes the place of the window scales. */
static void score_zero_shot(WinclipMaps *maps, const WinclipSettings *s, const WinclipText *text,
                            double tau, const ClipImageFeatures *f)
{
    const int G = f->geom.grid, E = f->geom.embed_dim;
    maps->a0 = winclip_ascore(f->image_embedding, text, tau, maps->image_cos);
    const float *scale_maps[WINCLIP_MAX_SCALES] = {0};
    if (s->dense == WINCLIP_DENSE_PATCH_TOKENS || s->dense == WINCLIP_DENSE_MASKCLIP) {
        for (int c = 0; c < G * G; c++)
            maps->dense_scores[c] =
                (float)winclip_ascore(f->dense_tokens + (size_t)c * (size_t)E, text, tau, NULL);
        scale_maps[0] = maps->dense_scores;
        winclip_fuse(maps->m0, scale_maps, 1, s->image_scale ? &maps->a0 : NULL, G * G, s->fusion);
        return;
    }
    for (int i = 0; i < s->n_scales; i++) {
        int fi = feature_scale(f, s->scales[i], s->stride);
        int nw = windows_count(G, s->scales[i], s->stride);
        maps->n_windows[i] = nw;
        for (int w = 0; w < nw; w++)
            maps->window_scores[i][w] =
                (float)winclip_ascore(f->windows[fi] + (size_t)w * (size_t)E, text, tau, NULL);
        winclip_aggregate(maps->zs_scale_maps[i], maps->window_scores[i], G, s->scales[i], s->stride,
                          s->aggregation);
        scale_maps[i] = maps->zs_scale_maps[i];
    }
    winclip_fuse(maps->m0, scale_maps, s->n_scales, s->image_scale ? &maps->a0 : NULL, G * G,
                 s->fusion);
}

/* §6: M_p[p] = d(F_p, R_p); d(F_k[w], R_k) aggregated into M'_k; M_fs = mean(M_p, M'_k...)
 * (§6.3); map = (M_0 + M_fs) / 2 and score = (a0 + max M_fs) / 2 (§6.4). */
static void score_few_shot(WinclipMaps *maps, WinclipScratch *sc, const WinclipSettings *s,
                           const ClipImageFeatures *f, const WinclipMemory *mem)
{
    const int G = f->geom.grid, cells = G * G, E = f->geom.embed_dim;
    const float *fs_maps[WINCLIP_MAX_SCALES + 1];
    memory_distance(maps->mp, feature_patches(f, s->patch_tokens), cells, mem->patch,
                    mem->n_patch, f->geom.width, sc);
    fs_maps[0] = maps->mp;
    for (int i = 0; i < s->n_scales; i++) {
        int fi = feature_scale(f, s->scales[i], s->stride);
        int nw = maps->n_windows[i];
        memory_distance(maps->window_dist[i], f->windows[fi], nw, mem->windows[i],
                        mem->n_windows[i], E, sc);
        winclip_aggregate(maps->fs_scale_maps[i], maps->window_dist[i], G, s->scales[i],
                          s->stride, s->aggregation);
        fs_maps[i + 1] = maps->fs_scale_maps[i];
    }
    winclip_fuse(maps->mfs, fs_maps, s->n_scales + 1, NULL, cells, WINCLIP_AGG_MEAN);
    double max_fs = maps->mfs[0];
    for (int c = 0; c < cells; c++) {
        maps->map15[c] = s->language ? (float)(((double)maps->m0[c] + (double)maps->mfs[c]) / 2.0)
                                     : maps->mfs[c];
        if (maps->mfs[c] > max_fs) max_fs = maps->mfs[c];
    }
    /* language = false (ours, §14): the vision map alone and its maximum */
    maps->image_score = s->language ? (maps->a0 + max_fs) / 2.0 : max_fs;
}

/* Point maps at the scratch's arrays (few-shot ones only when K > 0). */
static void maps_attach(WinclipMaps *maps, WinclipScratch *sc, int fewshot)
{
    for (int i = 0; i < sc->geom.n_scales; i++) {
        maps->window_scores[i] = sc->window_scores[i];
        maps->zs_scale_maps[i] = sc->zs_scale_maps[i];
        maps->window_dist[i] = fewshot ? sc->window_dist[i] : NULL;
        maps->fs_scale_maps[i] = fewshot ? sc->fs_scale_maps[i] : NULL;
    }
    maps->m0 = sc->m0;
    maps->map15 = sc->map15;
    maps->dense_scores = sc->dense_map;
    maps->mp = fewshot ? sc->mp : NULL;
    maps->mfs = fewshot ? sc->mfs : NULL;
    maps->map = sc->map;
}

int winclip_score(WinclipMaps *maps, WinclipScratch *sc, const WinclipSettings *s,
                  const WinclipText *text, double tau, const ClipImageFeatures *f,
                  const WinclipMemory *mem, int out_h, int out_w, Error *err)
{
    memset(maps, 0, sizeof *maps);
    int rc = check_inputs(s, text, f, mem, err);
    if (rc != 0) return rc;
    const int G = f->geom.grid, cells = G * G;
    const int fewshot = mem && mem->k_shot > 0;
    scratch_fit(sc, f, s, fewshot ? mem->k_shot : 0, out_h, out_w);
    maps_attach(maps, sc, fewshot);
    if (s->dense != WINCLIP_DENSE_PATCH_TOKENS && s->dense != WINCLIP_DENSE_MASKCLIP)
        maps->dense_scores = NULL;
    geometry_for(&maps->geom, &f->geom, s);
    maps->k_shot = fewshot ? mem->k_shot : 0;
    maps->out_h = out_h;
    maps->out_w = out_w;
    maps->tau = tau;

    score_zero_shot(maps, s, text, tau, f);
    maps->image_score = maps->a0;
    if (fewshot) score_few_shot(maps, sc, s, f, mem);
    else memcpy(maps->map15, maps->m0, (size_t)cells * sizeof(float));

    /* §5.3: bilinear upsampling to the output size, then the optional Gaussian smoothing */
    winclip_upsample_bilinear(maps->map, out_h, out_w, maps->map15, G, G);
    if (s->smoothing_sigma > 0)
        winclip_gaussian_smooth(maps->map, out_h, out_w, s->smoothing_sigma, sc->smooth);
    return 0;
}
