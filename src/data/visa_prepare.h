/*
 * visa_prepare.h - turn the original VisA tree + split_csv/1cls.csv into the prepared
 * MVTec-like 1cls layout (what spot-diff's utils/prepare_data.py --split-type 1cls makes).
 *
 * Does: <out>/<object>/train/good/<name>, test/good/<name>, test/bad/<name> (image bytes copied
 * unchanged), ground_truth/bad/<stem>.png (mask binarised: any non-zero channel -> 255, else 0;
 * single channel PNG). Every file is written atomically; a file that already exists is skipped,
 * so an interrupted run resumes where it stopped.
 * Does not: resize or re-encode images; check image sizes (dataset_validate does that).
 * Reference: datasets.md §2.1-2.3.
 *
 *     VisaPrepareStats st = {0};
 *     if (visa_prepare(root, csv, out, NULL, 0, &st, &err) != 0) fprintf(stderr, "%s\n", err.msg);
 */
#ifndef WINCLIP_VISA_PREPARE_H
#define WINCLIP_VISA_PREPARE_H

#include <stddef.h>

#include "util/base.h"

typedef struct {
    size_t images_written, masks_written; /* files created by this call                 */
    size_t skipped;                        /* files already present (earlier run)        */
} VisaPrepareStats;

/* objects (n_objects) restricts the work to those objects; NULL/0 = every object in the CSV.
 * csv_path NULL = <visa_root>/split_csv/1cls.csv. Stops at the first failure with an error naming
 * the file (ERR_MISSING for an absent source, ERR_FORMAT for an undecodable mask, ERR_IO). */
int visa_prepare(const char *visa_root, const char *csv_path, const char *out_root, const char *const *objects,
                 size_t n_objects, VisaPrepareStats *stats, Error *err);

/* Binarise one mask file (any of 1-4 channels, 8 or 16 bit) into a (h, w) {0, 255} PNG at dst. */
int visa_prepare_mask(const char *src, const char *dst, Error *err);

#endif
