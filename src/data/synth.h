/*
 * synth.h - procedural anomaly-detection data in the MVTec AD layout (`winclip synth`):
 * textures (woven grid, fabric, wood) and an object (a metal disc/nut on a background) with
 * defects (scratches, spots, holes, stains, missing parts) and EXACT masks.
 *
 * Does: render an image from a 64-bit image seed; apply one defect from a second, derived
 * stream, so the defect-free rendering of the same seed is always available (the mask is
 * exactly the set of pixels where the defective image differs from the clean one); write a
 * whole dataset (PNG, stb_image_write) that dataset_load(DATASET_MVTEC) reads.
 * Does not: imitate real MVTec statistics; it is data for tests, demos and smoke runs only.
 * Reference: datasets.md §1.1 (layout), rng.h (seeding).
 *
 *     SynthOptions opt = synth_default_options();
 *     opt.out = "/tmp/synth";
 *     if (synth_write_dataset(&opt, &err) != 0) fprintf(stderr, "%s\n", err.msg);
 *     // /tmp/synth/synth_grid/{train/good, test/good, test/scratch, ground_truth/scratch, ...}
 */
#ifndef WINCLIP_SYNTH_H
#define WINCLIP_SYNTH_H

#include <stddef.h>
#include <stdint.h>

#include "util/base.h"

#define SYNTH_MAX_DEFECTS 4

typedef struct {
    const char *name;                       /* "synth_grid", ...                      */
    int channels;                           /* 1 (grayscale, like MVTec grid) or 3     */
    int n_defects;
    const char *defects[SYNTH_MAX_DEFECTS]; /* defect folder names                      */
} SynthCategory;

/* The categories, in the order --categories N takes them (grid, fabric, disc, wood). Static. */
const SynthCategory *synth_categories(size_t *n);

/* Seed of one image: role 0 = train/good, 1 = test/good, 2 = defective test image;
 * index = running number within the role (defective: over all defect types). */
uint64_t synth_image_seed(uint64_t seed, const char *category, int role, int index);

/* Render category cat (index into synth_categories) at size x size.
 * img: (size, size, channels) u8 interleaved. defect: -1 = none (clean), else an index < n_defects.
 * mask: (size, size) u8, 255 where the defect changed the image, 0 elsewhere; may be NULL.
 * The clean part depends only on image_seed: synth_render(.., seed, -1, clean, NULL) equals the
 * defective image outside the mask. Returns the number of defect pixels (0 when defect = -1). */
size_t synth_render(size_t cat, int size, uint64_t image_seed, int defect, uint8_t *img, uint8_t *mask);

typedef struct {
    const char *out;   /* output folder (created)                        */
    int n_categories;  /* 1..4, default 3                                 */
    int size;          /* side in pixels, 32..2048, default 256           */
    int n_train;       /* train/good images per category, default 8       */
    int n_test_good;   /* test/good images, default 6                     */
    int n_test_bad;    /* defective test images, spread round-robin over the defect types, default 6 */
    uint64_t seed;     /* default 0                                       */
} SynthOptions;

SynthOptions synth_default_options(void);

/* Write OUT/README.txt and, per category, train/good/NNN.png, test/good/NNN.png,
 * test/<defect>/NNN.png and ground_truth/<defect>/NNN_mask.png ({0, 255}); numbering contiguous
 * from 000 per folder. Byte-identical output for identical options. Returns 0, ERR_USAGE (bad
 * option, message names it) or ERR_IO. */
int synth_write_dataset(const SynthOptions *opt, Error *err);

#endif
