/*
 * dataset_internal.h - helpers shared by dataset.c and dataset_csv.c (not a public interface).
 *
 * Does: append one test sample to a CategoryData.
 * Does not: anything else; callers use dataset.h.
 */
#ifndef WINCLIP_DATASET_INTERNAL_H
#define WINCLIP_DATASET_INTERNAL_H

#include "data/dataset.h"

/* Append one sample with label from defect ("good" -> 0); takes ownership of image and mask
 * (mask may be NULL). The name is "<defect>/<stem>", stem = the file stem of image when NULL. */
void dataset_push_sample(CategoryData *cd, size_t *cap, char *image, char *mask, const char *defect,
                         const char *stem);

#endif
