/*
 * synth.c - procedural textures/objects with exact defect masks (see synth.h).
 *
 * Rendering: value noise (random lattice, smoothstep-bilinear) + per-pixel grain from the image
 * seed; then a defect drawn from a second stream (image_seed ^ DEFECT_SALT) edits pixels inside a
 * shape. Any shape pixel the edit would leave unchanged is nudged, so mask == changed pixels.
 */
#define _POSIX_C_SOURCE 200809L
#include "data/synth.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/fsutil.h"
#include "util/rng.h"

#define DEFECT_SALT 0xd1b54a32d192ed03ULL
#define TWO_PI 6.283185307179586

enum { CAT_GRID, CAT_FABRIC, CAT_DISC, CAT_WOOD };

static const SynthCategory CATEGORIES[] = {
    {"synth_grid", 1, 3, {"hole", "scratch", "stain"}},
    {"synth_fabric", 3, 3, {"hole", "scratch", "stain"}},
    {"synth_disc", 3, 3, {"missing", "scratch", "spot"}},
    {"synth_wood", 3, 3, {"hole", "scratch", "stain"}},
};

const SynthCategory *synth_categories(size_t *n)
{
    *n = ARRAY_LEN(CATEGORIES);
    return CATEGORIES;
}

uint64_t synth_image_seed(uint64_t seed, const char *category, int role, int index)
{
    Rng rng;
    rng_seed_for(&rng, "synthetic", category, seed);
    rng.state ^= ((uint64_t)(uint32_t)role << 40) ^ ((uint64_t)(uint32_t)index * 0xff51afd7ed558ccdULL);
    rng_next(&rng);
    return rng_next(&rng);
}

/* ---- value noise ---- */

/* out (size*size) in [0, 1): smooth noise with features about `cell` pixels wide. */
static void value_noise(Rng *rng, int size, int cell, float *out)
{
    int g = size / cell + 2;
    float *lat = xmalloc((size_t)g * (size_t)g * sizeof *lat);
    for (int i = 0; i < g * g; i++) lat[i] = (float)rng_uniform(rng);
    for (int y = 0; y < size; y++) {
        float fy = (float)y / (float)cell;
        int iy = (int)fy;
        float ty = fy - (float)iy;
        ty = ty * ty * (3.0f - 2.0f * ty);
        for (int x = 0; x < size; x++) {
            float fx = (float)x / (float)cell;
            int ix = (int)fx;
            float tx = fx - (float)ix;
            tx = tx * tx * (3.0f - 2.0f * tx);
            const float *r0 = lat + (size_t)iy * (size_t)g, *r1 = r0 + g;
            float a = r0[ix] + (r0[ix + 1] - r0[ix]) * tx;
            float b = r1[ix] + (r1[ix + 1] - r1[ix]) * tx;
            out[(size_t)y * (size_t)size + (size_t)x] = a + (b - a) * ty;
        }
    }
    free(lat);
}

static uint8_t to_u8(double v)
{
    if (v <= 0) return 0;
    if (v >= 255) return 255;
    return (uint8_t)(v + 0.5);
}

/* Disc/nut geometry of one image (the object of synth_disc). */
typedef struct {
    double cx, cy, r_out, r_in;
} Disc;

static Disc disc_geometry(Rng *rng, int size)
{
    Disc d;
    d.cx = size / 2.0 + rng_range(rng, -1, 1) * size / 40.0;
    d.cy = size / 2.0 + rng_range(rng, -1, 1) * size / 40.0;
    d.r_out = size * rng_range(rng, 0.30, 0.33);
    d.r_in = size * rng_range(rng, 0.10, 0.12);
    return d;
}

static int disc_inside(const Disc *d, int x, int y)
{
    double dx = x + 0.5 - d->cx, dy = y + 0.5 - d->cy, r2 = dx * dx + dy * dy;
    return r2 <= d->r_out * d->r_out && r2 >= d->r_in * d->r_in;
}

/* Clean rendering. bg (size*size*3) receives the background layer of synth_disc (used by the
 * "missing" defect) and *disc its geometry; both may be NULL. */
static void render_clean(size_t cat, int size, uint64_t image_seed, uint8_t *img, uint8_t *bg, Disc *disc)
{
    const size_t n = (size_t)size * (size_t)size;
    Rng rng;
    rng_seed(&rng, image_seed);
    float *n1 = xmalloc(n * sizeof *n1), *n2 = xmalloc(n * sizeof *n2);
    value_noise(&rng, size, size / 8 > 4 ? size / 8 : 4, n1);
    value_noise(&rng, size, size / 32 > 2 ? size / 32 : 2, n2);
    switch (cat) {
    case CAT_GRID: {
        int period = size / 8 > 6 ? size / 8 : 6, width = period / 5 > 2 ? period / 5 : 2;
        int ox = (int)rng_below(&rng, (uint64_t)period), oy = (int)rng_below(&rng, (uint64_t)period);
        for (int y = 0; y < size; y++)
            for (int x = 0; x < size; x++) {
                size_t i = (size_t)y * (size_t)size + (size_t)x;
                int wire = (x + ox) % period < width || (y + oy) % period < width;
                double v = wire ? 185 + 40 * n2[i] : 70 + 40 * n1[i];
                img[i] = to_u8(v + rng_range(&rng, -6, 6));
            }
        break;
    }
    case CAT_FABRIC: {
        double p = size / 24.0 > 3 ? size / 24.0 : 3;
        const double base[3] = {70, 95, 160};
        for (int y = 0; y < size; y++)
            for (int x = 0; x < size; x++) {
                size_t i = (size_t)y * (size_t)size + (size_t)x;
                double weave = sin(TWO_PI * x / p) * sin(TWO_PI * y / p);
                double s = 0.8 + 0.18 * weave + 0.3 * (n1[i] - 0.5) + 0.1 * (n2[i] - 0.5);
                for (int k = 0; k < 3; k++) img[i * 3 + (size_t)k] = to_u8(base[k] * s + rng_range(&rng, -5, 5));
            }
        break;
    }
    case CAT_WOOD: {
        double freq = rng_range(&rng, 5, 8);
        const double dark[3] = {105, 65, 35}, light[3] = {195, 145, 95};
        for (int y = 0; y < size; y++)
            for (int x = 0; x < size; x++) {
                size_t i = (size_t)y * (size_t)size + (size_t)x;
                double t = (double)y / size * freq + 1.5 * n1[i] + 0.02 * x / (double)size;
                double ring = 0.5 + 0.5 * sin(TWO_PI * t);
                ring = ring * ring;
                for (int k = 0; k < 3; k++)
                    img[i * 3 + (size_t)k] = to_u8(dark[k] + (light[k] - dark[k]) * ring + 12 * (n2[i] - 0.5) +
                                                   rng_range(&rng, -4, 4));
            }
        break;
    }
    case CAT_DISC: {
        Disc d = disc_geometry(&rng, size);
        if (disc) *disc = d;
        double light = rng_range(&rng, 0, TWO_PI);
        for (int y = 0; y < size; y++)
            for (int x = 0; x < size; x++) {
                size_t i = (size_t)y * (size_t)size + (size_t)x;
                double g = 45 + 25 * n1[i] + rng_range(&rng, -5, 5);
                double b[3] = {g, g * 1.05, g * 0.9};
                double a = atan2(y + 0.5 - d.cy, x + 0.5 - d.cx);
                double shade = 150 + 55 * cos(a - light) + 20 * (n2[i] - 0.5);
                double o[3] = {shade * 0.95, shade, shade * 1.05};
                int in = disc_inside(&d, x, y);
                for (int k = 0; k < 3; k++) {
                    img[i * 3 + (size_t)k] = to_u8(in ? o[k] : b[k]);
                    if (bg) bg[i * 3 + (size_t)k] = to_u8(b[k]);
                }
            }
        break;
    }
    default: CHECK(0);
    }
    free(n1);
    free(n2);
}

/* ---- defect shapes (shape: size*size, 1 inside) ---- */

static void stamp(uint8_t *shape, int size, double cx, double cy, double r)
{
    int x0 = (int)floor(cx - r), x1 = (int)ceil(cx + r), y0 = (int)floor(cy - r), y1 = (int)ceil(cy + r);
    for (int y = y0; y <= y1; y++)
        for (int x = x0; x <= x1; x++) {
            if (x < 0 || y < 0 || x >= size || y >= size) continue;
            double dx = x + 0.5 - cx, dy = y + 0.5 - cy;
            if (dx * dx + dy * dy <= r * r) shape[(size_t)y * (size_t)size + (size_t)x] = 1;
        }
}

/* Irregular blob: radius r(theta) = radius * (1 + 0.25 sin(3 theta + p1) + 0.15 sin(5 theta + p2)). */
static void blob(uint8_t *shape, int size, Rng *rng, double cx, double cy, double radius)
{
    double p1 = rng_range(rng, 0, TWO_PI), p2 = rng_range(rng, 0, TWO_PI);
    int reach = (int)ceil(radius * 1.45) + 1;
    for (int y = (int)cy - reach; y <= (int)cy + reach; y++)
        for (int x = (int)cx - reach; x <= (int)cx + reach; x++) {
            if (x < 0 || y < 0 || x >= size || y >= size) continue;
            double dx = x + 0.5 - cx, dy = y + 0.5 - cy, t = atan2(dy, dx);
            double rr = radius * (1 + 0.25 * sin(3 * t + p1) + 0.15 * sin(5 * t + p2));
            if (dx * dx + dy * dy <= rr * rr) shape[(size_t)y * (size_t)size + (size_t)x] = 1;
        }
    stamp(shape, size, cx, cy, 0.5); /* the centre pixel, so the shape is never empty */
}

/* Thin random curve (a scratch or a stray thread). */
static void scratch(uint8_t *shape, int size, Rng *rng, double x, double y)
{
    double angle = rng_range(rng, 0, TWO_PI), len = size * rng_range(rng, 0.2, 0.4);
    double width = size >= 192 ? rng_range(rng, 1.0, 1.8) : 0.9;
    double turn = rng_range(rng, -0.015, 0.015);
    for (double s = 0; s < len; s += 0.5) {
        stamp(shape, size, x, y, width);
        turn += rng_range(rng, -0.002, 0.002);
        angle += turn;
        x += 0.5 * cos(angle);
        y += 0.5 * sin(angle);
    }
}

size_t synth_render(size_t cat, int size, uint64_t image_seed, int defect, uint8_t *img, uint8_t *mask)
{
    CHECK(cat < ARRAY_LEN(CATEGORIES) && size >= 16);
    const SynthCategory *c = &CATEGORIES[cat];
    CHECK(defect >= -1 && defect < c->n_defects);
    const int ch = c->channels;
    const size_t n = (size_t)size * (size_t)size;
    uint8_t *bg = cat == CAT_DISC ? xmalloc(n * 3) : NULL;
    Disc disc = {0};
    render_clean(cat, size, image_seed, img, bg, &disc);
    if (mask) memset(mask, 0, n);
    if (defect < 0) {
        free(bg);
        return 0;
    }

    Rng rng;
    rng_seed(&rng, image_seed ^ DEFECT_SALT);
    uint8_t *shape = xcalloc(n, 1);
    const char *kind = c->defects[defect];
    double cx, cy;
    if (cat == CAT_DISC) {
        double a = rng_range(&rng, 0, TWO_PI), r = rng_range(&rng, disc.r_in * 1.3 + 2, disc.r_out * 0.85);
        cx = disc.cx + r * cos(a);
        cy = disc.cy + r * sin(a);
    } else {
        double margin = size * 0.12;
        cx = rng_range(&rng, margin, size - margin);
        cy = rng_range(&rng, margin, size - margin);
    }
    /* colour edit: out = old * keep + target * (1 - keep) */
    double keep = 0.2, target[3] = {20, 20, 20};
    if (strcmp(kind, "hole") == 0) {
        blob(shape, size, &rng, cx, cy, size * rng_range(&rng, 0.035, 0.07));
        keep = 0.1;
        target[0] = target[1] = target[2] = 12;
    } else if (strcmp(kind, "spot") == 0) {
        blob(shape, size, &rng, cx, cy, size * rng_range(&rng, 0.025, 0.05));
        keep = 0.3;
        target[0] = 90, target[1] = 55, target[2] = 25;
    } else if (strcmp(kind, "stain") == 0) {
        blob(shape, size, &rng, cx, cy, size * rng_range(&rng, 0.06, 0.1));
        keep = 0.5;
        target[0] = 215, target[1] = 185, target[2] = 40;
        if (ch == 1) target[0] = 20;
    } else if (strcmp(kind, "scratch") == 0) {
        scratch(shape, size, &rng, cx, cy);
        keep = 0.25;
        target[0] = target[1] = target[2] = 245;
    } else if (strcmp(kind, "missing") == 0) {
        /* a wedge of the outer ring is gone: the background shows through */
        double a0 = atan2(cy - disc.cy, cx - disc.cx), half = rng_range(&rng, 0.25, 0.45);
        for (int y = 0; y < size; y++)
            for (int x = 0; x < size; x++) {
                double dx = x + 0.5 - disc.cx, dy = y + 0.5 - disc.cy;
                double da = remainder(atan2(dy, dx) - a0, TWO_PI), r = sqrt(dx * dx + dy * dy);
                if (fabs(da) <= half && r >= disc.r_in + 0.45 * (disc.r_out - disc.r_in))
                    shape[(size_t)y * (size_t)size + (size_t)x] = 1;
            }
        stamp(shape, size, cx, cy, 0.5);
    } else {
        CHECK(0);
    }
    int missing = strcmp(kind, "missing") == 0;
    size_t count = 0;
    for (int y = 0; y < size; y++)
        for (int x = 0; x < size; x++) {
            size_t i = (size_t)y * (size_t)size + (size_t)x;
            if (!shape[i] || (cat == CAT_DISC && !disc_inside(&disc, x, y))) continue;
            uint8_t *px = img + i * (size_t)ch;
            uint8_t old[3] = {0};
            memcpy(old, px, (size_t)ch);
            int same = 1;
            for (int k = 0; k < ch; k++) {
                px[k] = missing ? bg[i * 3 + (size_t)k] : to_u8(old[k] * keep + target[k] * (1 - keep));
                same &= px[k] == old[k];
            }
            if (same) px[0] = (uint8_t)(old[0] < 128 ? old[0] + 48 : old[0] - 48); /* mask == changed pixels */
            if (mask) mask[i] = 255;
            count++;
        }
    free(shape);
    free(bg);
    return count;
}

/* ---- dataset writer ---- */

SynthOptions synth_default_options(void)
{
    SynthOptions o = {NULL, 3, 256, 8, 6, 6, 0};
    return o;
}

static int write_image(const char *dir, const char *file, int size, int ch, const uint8_t *px, Error *err)
{
    char *path = xasprintf("%s/%s", dir, file);
    int rc = fs_mkdirs(dir, err);
    if (rc == 0) rc = fs_write_png(path, size, size, ch, px, err);
    free(path);
    return rc;
}

static int write_category(const SynthOptions *opt, size_t cat, Error *err)
{
    const SynthCategory *c = &CATEGORIES[cat];
    const size_t n = (size_t)opt->size * (size_t)opt->size;
    uint8_t *img = xmalloc(n * (size_t)c->channels), *mask = xmalloc(n);
    char file[64];
    int rc = 0;
    for (int role = 0; role < 2 && rc == 0; role++) {
        int count = role == 0 ? opt->n_train : opt->n_test_good;
        char *dir = xasprintf("%s/%s/%s/good", opt->out, c->name, role == 0 ? "train" : "test");
        for (int i = 0; i < count && rc == 0; i++) {
            synth_render(cat, opt->size, synth_image_seed(opt->seed, c->name, role, i), -1, img, NULL);
            snprintf(file, sizeof file, "%03d.png", i);
            rc = write_image(dir, file, opt->size, c->channels, img, err);
        }
        free(dir);
    }
    for (int j = 0; j < opt->n_test_bad && rc == 0; j++) {
        int d = j % c->n_defects, k = j / c->n_defects;
        synth_render(cat, opt->size, synth_image_seed(opt->seed, c->name, 2, j), d, img, mask);
        char *dir = xasprintf("%s/%s/test/%s", opt->out, c->name, c->defects[d]);
        snprintf(file, sizeof file, "%03d.png", k);
        rc = write_image(dir, file, opt->size, c->channels, img, err);
        free(dir);
        if (rc != 0) break;
        dir = xasprintf("%s/%s/ground_truth/%s", opt->out, c->name, c->defects[d]);
        snprintf(file, sizeof file, "%03d_mask.png", k);
        rc = write_image(dir, file, opt->size, 1, mask, err);
        free(dir);
    }
    free(img);
    free(mask);
    return rc;
}

int synth_write_dataset(const SynthOptions *opt, Error *err)
{
    if (!opt->out || !*opt->out) return err_setf(err, ERR_USAGE, "synth: no output folder");
    if (opt->n_categories < 1 || (size_t)opt->n_categories > ARRAY_LEN(CATEGORIES))
        return err_setf(err, ERR_USAGE, "synth: categories %d: expected 1..%zu", opt->n_categories, ARRAY_LEN(CATEGORIES));
    if (opt->size < 32 || opt->size > 2048)
        return err_setf(err, ERR_USAGE, "synth: size %d: expected 32..2048", opt->size);
    if (opt->n_train < 1 || opt->n_test_good < 1 || opt->n_test_bad < 1 || opt->n_train > 999 ||
        opt->n_test_good > 999 || opt->n_test_bad > 999)
        return err_setf(err, ERR_USAGE, "synth: train %d, test good %d, test defective %d: each must be 1..999",
                        opt->n_train, opt->n_test_good, opt->n_test_bad);
    int rc = fs_mkdirs(opt->out, err);
    if (rc != 0) return rc;
    char *readme = xasprintf(
        "SYNTHETIC data written by `winclip synth` (seed %llu, size %d): procedural textures and\n"
        "objects with painted defects. NOT a real dataset and not comparable with MVTec AD numbers.\n"
        "Layout as MVTec AD: <category>/train/good, test/good, test/<defect>, ground_truth/<defect>/NNN_mask.png\n"
        "(masks {0,255}: exactly the pixels the defect changed). Load with layout = mvtec.\n",
        (unsigned long long)opt->seed, opt->size);
    char *path = xasprintf("%s/README.txt", opt->out);
    rc = fs_write_atomic(path, readme, strlen(readme), err);
    free(path);
    free(readme);
    for (int c = 0; c < opt->n_categories && rc == 0; c++) rc = write_category(opt, (size_t)c, err);
    return rc;
}
