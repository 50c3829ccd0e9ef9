/*
 * dataset.h - list the images of one category of MVTec AD, VisA or the synthetic data:
 * test samples (image, mask, label) and the sorted train/good list, plus up-front validation
 * and the few-shot reference draw.
 *
 * Does: read folder trees (MVTec layout, prepared VisA 1cls layout) or the VisA split CSV over
 * the original VisA tree; check that every listed file exists, decodes (header only) and that
 * masks have their image's size; pick K-shot references reproducibly (rng.h).
 * Does not: decode pixels, resize or binarise masks (image.c), download anything
 * (datasets/fetch_datasets.sh), write the prepared VisA tree (visa_prepare.h).
 * Reference: shared/spec/datasets.md §1.1, §2.1-2.3, §4; metrics.md §0-§2 (labels).
 *
 *     CategoryData cd = {0};
 *     Error err = {0};
 *     if (dataset_load(&cd, DATASET_MVTEC, "datasets/mvtec_anomaly_detection", "bottle", NULL, &err) != 0 ||
 *         dataset_validate(&cd, &err) != 0) { fprintf(stderr, "%s\n", err.msg); dataset_free(&cd); return 1; }
 *     for (size_t i = 0; i < cd.n_test; i++) printf("%s %d\n", cd.test[i].image_path, cd.test[i].label);
 *     dataset_free(&cd);
 *
 * Order (fixed, documented, the same for every layout): test samples sorted by (defect folder,
 * file name) with strcmp, e.g. MVTec grid: bent/000 … bent/002, broken/000, …, good/000 …,
 * thread/001; VisA: bad/… then good/…. train_good sorted by file name (strcmp). Only files whose
 * extension is .png .jpg .jpeg .bmp (any case) are listed; hidden files and folders are ignored.
 * Labels: defect folder "good" -> 0, anything else -> 1 (VisA CSV: normal -> "good", anomaly -> "bad").
 */
#ifndef WINCLIP_DATASET_H
#define WINCLIP_DATASET_H

#include <stddef.h>

#include "util/base.h"

typedef enum {
    DATASET_MVTEC,    /* <root>/<cat>/{train/good, test/<defect>, ground_truth/<defect>/<stem>_mask.png};
                         also the synthetic data (winclip synth)                                    */
    DATASET_VISA_CSV, /* original VisA tree <root>/<object>/Data/... listed by split_csv/1cls.csv      */
    DATASET_VISA_1CLS, /* prepared tree <root>/<object>/{train/good, test/{good,bad}, ground_truth/bad/<stem>.png} */
    DATASET_CSV       /* a plain list <root>/<category>.csv (or csv_path) of `path,label[,mask]` rows, paths
                         relative to the list's folder (dataset_list_csv_read)                           */
} DatasetLayout;

typedef struct {
    char *image_path; /* full path (root joined)                                            */
    char *mask_path;  /* full path of the expected mask; NULL for normal images (all-zero mask).
                         Set even when the file is missing: dataset_validate reports that.     */
    int label;        /* 0 normal, 1 anomalous                                                */
    char *defect;     /* "good", "bent", ... (MVTec); "good" / "bad" (VisA)                    */
    char *name;       /* unique id "<defect>/<stem>", e.g. "bent/000"                          */
} Sample;

typedef struct {
    char *dataset;       /* "mvtec" | "visa" (from the layout); the few-shot seed hashes it.
                            Replace with dataset_set_name (e.g. "synthetic").                   */
    char *category;      /* "bottle", "pcb1", ...                                                 */
    char *root;          /* as given to dataset_load                                              */
    DatasetLayout layout;
    Sample *test;        /* (n_test) sorted by (defect, file name)                                */
    size_t n_test;
    char **train_good;   /* (n_train) full paths, sorted by file name                             */
    size_t n_train;
    int has_masks;       /* 1: defective images have masks (pixel metrics); 0: none has one (MVTec
                            layout without a ground_truth folder, a CSV list without a mask column):
                            image-level metrics only                                              */
} CategoryData;

/* ---- loading ---- */

/* List one category. root: the dataset root (MVTec: folder holding the category folders; VisA CSV:
 * the extracted VisA folder holding <object>/ and split_csv/; VisA 1cls: the prepared root).
 * csv_path: VisA CSV only, NULL = <root>/split_csv/1cls.csv. Missing sub-folders (train/good,
 * test, ground_truth) and missing files are NOT errors here (they are listed as empty / kept as
 * paths) so that dataset_validate can report every problem at once; a missing category folder, an
 * unreadable or malformed CSV or an unknown VisA object is an error here. cd must be zeroed or
 * freed; on error it is left freed. Returns 0, ERR_MISSING, ERR_IO or ERR_FORMAT. */
int dataset_load(CategoryData *cd, DatasetLayout layout, const char *root, const char *category, const char *csv_path,
                 Error *err);

/* Frees everything cd owns and zeroes it; safe on a zeroed struct. */
void dataset_free(CategoryData *cd);

/* Replace cd->dataset (the name the few-shot seed hashes) by a copy of name. */
void dataset_set_name(CategoryData *cd, const char *name);

/* ---- validation (call before any compute) ---- */

/* Every problem found, one line each "<path>: <what is wrong>" (paths relative to cd->root where
 * possible): missing folders, no normal or no anomalous test images, an empty train/good, a
 * defect image without a mask, a mask whose size differs from its image, an image or mask that
 * is not a readable PNG/JPEG/BMP (header read with stbi_info, pixels are not decoded), duplicate
 * names; with the CSV layout, or a dataset name other than mvtec, visa and synthetic (your own
 * images), every image and mask is also decoded (stbi_load), so a truncated file is named before
 * any compute. Masks are optional (has_masks = 0: none is asked for), but
 * when some defective images have one, every defective image needs one. *problems is malloc'ed (free with fs_list_free from fsutil.h); *n = 0 when all is well.
 * Always returns 0 (the listing cannot fail). */
int dataset_check(const CategoryData *cd, char ***problems, size_t *n);

/* dataset_check, then ONE error (ERR_FORMAT) naming the dataset and category, the number of
 * problems and as many lines as fit in Error.msg, then "... and N more". 0 when all is well. */
int dataset_validate(const CategoryData *cd, Error *err);

/* ---- names ---- */

/* "mvtec" | "visa" | "visa-1cls" | "csv" -> layout. ERR_USAGE (message lists the choices) otherwise. */
int dataset_parse_layout(const char *s, DatasetLayout *out, Error *err);
const char *dataset_layout_name(DatasetLayout layout);

/* The 15 MVTec AD categories / the 12 VisA objects, in the paper's (alphabetical) order. Static. */
const char *const *dataset_mvtec_categories(size_t *n);
const char *const *dataset_visa_categories(size_t *n);

/* ---- few-shot references ---- */

/* indices_out (k): K distinct indices into cd->train_good = the first K entries of one
 * Fisher-Yates shuffle of 0..n_train-1 with rng_seed_for(cd->dataset, cd->category, seed)
 * (rng.h), so the sets are nested across K and identical on every machine.
 * Returns 0, or ERR_VALUE when k < 1 or k > n_train. */
int dataset_sample_shots(const CategoryData *cd, int seed, int k, size_t *indices_out, Error *err);

/* ---- the VisA split CSV ---- */

typedef struct {
    char *object; /* "candle" */
    int train;    /* 1 split == "train", 0 "test" */
    int anomaly;  /* 1 label == "anomaly", 0 "normal" */
    char *image;  /* relative to the VisA root */
    char *mask;   /* relative to the VisA root; NULL when the field is empty (normal rows) */
    size_t line;  /* 1-based line number in the file */
} VisaRow;

typedef struct {
    VisaRow *rows; /* (n) in file order */
    size_t n;
} VisaCsv;

/* Read and check split_csv/1cls.csv: header "object,split,label,image,mask", LF or CRLF lines,
 * exactly 5 unquoted fields, split in {train, test}, label in {normal, anomaly}, anomaly rows have
 * a mask and are in the test split. Errors name the file and line. Returns 0, ERR_IO, ERR_FORMAT. */
int dataset_visa_csv_read(VisaCsv *csv, const char *path, Error *err);
void dataset_visa_csv_free(VisaCsv *csv);

/* ---- a plain list (DATASET_CSV, dataset_csv.c) ---- */

/* Read the list at csv_path into cd (cd->root, category, dataset set by the caller; cd->test and
 * cd->train_good appended). Format: an optional header `path,label` or `path,label,mask`; blank
 * lines and lines starting with '#' skipped; LF or CRLF; 2 or 3 unquoted fields. path and mask
 * are relative to the list's folder and may not leave it (no leading '/', no '..' component).
 * label: good | normal | 0 -> a normal test image; train -> a normal reference (few-shot pool,
 * not evaluated); bad | anomaly | anomalous | 1 -> defect "bad"; any other word of letters,
 * digits, '_' or '-' -> that defect type. A mask is only allowed on defective rows. Sample names
 * are "<defect>/<path without extension, '/' -> '_'>". Errors (ERR_IO, ERR_FORMAT) name the file,
 * the line and the field. */
int dataset_list_csv_read(CategoryData *cd, const char *csv_path, Error *err);

#endif
