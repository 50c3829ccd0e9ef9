/*
 * dataset.c - MVTec / VisA category listings, validation and few-shot draws (see dataset.h).
 *
 * Reference: datasets.md §1.1 (MVTec tree), §2.2 (1cls.csv), §2.3 (prepared 1cls tree), §4 (shots).
 */
#define _POSIX_C_SOURCE 200809L
#include "data/dataset.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#include "data/dataset_internal.h"
#include "util/fsutil.h"
#include "util/imghdr.h"
#include "util/rng.h"

static const char *const MVTEC_CATEGORIES[] = {"bottle",   "cable",     "capsule", "carpet", "grid",
                                               "hazelnut", "leather",   "metal_nut", "pill", "screw",
                                               "tile",     "toothbrush", "transistor", "wood", "zipper"};
static const char *const VISA_CATEGORIES[] = {"candle", "capsules", "cashew", "chewinggum", "fryum",     "macaroni1",
                                              "macaroni2", "pcb1",  "pcb2",   "pcb3",       "pcb4",      "pipe_fryum"};

const char *const *dataset_mvtec_categories(size_t *n)
{
    *n = ARRAY_LEN(MVTEC_CATEGORIES);
    return MVTEC_CATEGORIES;
}

const char *const *dataset_visa_categories(size_t *n)
{
    *n = ARRAY_LEN(VISA_CATEGORIES);
    return VISA_CATEGORIES;
}

int dataset_parse_layout(const char *s, DatasetLayout *out, Error *err)
{
    if (s && strcmp(s, "mvtec") == 0) *out = DATASET_MVTEC;
    else if (s && strcmp(s, "visa") == 0) *out = DATASET_VISA_CSV;
    else if (s && strcmp(s, "visa-1cls") == 0) *out = DATASET_VISA_1CLS;
    else if (s && strcmp(s, "csv") == 0) *out = DATASET_CSV;
    else return err_setf(err, ERR_USAGE, "dataset layout '%s': expected mvtec | visa | visa-1cls | csv", s ? s : "(null)");
    return 0;
}

const char *dataset_layout_name(DatasetLayout layout)
{
    switch (layout) {
    case DATASET_MVTEC: return "mvtec";
    case DATASET_VISA_CSV: return "visa";
    case DATASET_VISA_1CLS: return "visa-1cls";
    case DATASET_CSV: return "csv";
    }
    return "?";
}

/* ---- lifecycle ---- */

static void sample_free(Sample *s)
{
    free(s->image_path);
    free(s->mask_path);
    free(s->defect);
    free(s->name);
}

void dataset_free(CategoryData *cd)
{
    if (!cd) return;
    for (size_t i = 0; i < cd->n_test; i++) sample_free(&cd->test[i]);
    free(cd->test);
    fs_list_free(cd->train_good, cd->n_train);
    free(cd->dataset);
    free(cd->category);
    free(cd->root);
    memset(cd, 0, sizeof *cd);
}

void dataset_set_name(CategoryData *cd, const char *name)
{
    free(cd->dataset);
    cd->dataset = xstrdup(name);
}

void dataset_push_sample(CategoryData *cd, size_t *cap, char *image, char *mask, const char *defect, const char *stem)
{
    if (cd->n_test == *cap) {
        *cap = *cap ? 2 * *cap : 64;
        cd->test = xrealloc(cd->test, *cap * sizeof *cd->test);
    }
    Sample *s = &cd->test[cd->n_test++];
    char *own_stem = stem ? NULL : fs_stem(image);
    s->image_path = image;
    s->mask_path = mask;
    s->label = strcmp(defect, "good") != 0;
    s->defect = xstrdup(defect);
    s->name = xasprintf("%s/%s", defect, stem ? stem : own_stem);
    free(own_stem);
}

static void push_sample(CategoryData *cd, size_t *cap, char *image, char *mask, const char *defect)
{
    dataset_push_sample(cd, cap, image, mask, defect, NULL);
}

static int cmp_sample(const void *a, const void *b)
{
    const Sample *x = a, *y = b;
    int c = strcmp(x->defect, y->defect);
    return c ? c : strcmp(fs_basename(x->image_path), fs_basename(y->image_path));
}

static int cmp_basename(const void *a, const void *b)
{
    return strcmp(fs_basename(*(char *const *)a), fs_basename(*(char *const *)b));
}

/* ---- folder layouts (MVTec, prepared VisA) ---- */

static int load_tree(CategoryData *cd, const char *cat_dir, Error *err)
{
    char **names = NULL, **defects = NULL;
    size_t n = 0, n_defects = 0, cap = 0;
    const char *mask_suffix = cd->layout == DATASET_MVTEC ? "_mask" : "";

    char *dir = xasprintf("%s/train/good", cat_dir);
    if (fs_is_dir(dir)) {
        if (fs_list(dir, FS_LIST_IMAGES, &names, &n, err) != 0) goto fail;
        cd->train_good = xmalloc((n ? n : 1) * sizeof *cd->train_good);
        for (size_t i = 0; i < n; i++) cd->train_good[i] = xasprintf("%s/%s", dir, names[i]);
        cd->n_train = n;
        fs_list_free(names, n);
        names = NULL;
    }
    free(dir);

    char *gt = xasprintf("%s/ground_truth", cat_dir);
    cd->has_masks = fs_is_dir(gt); /* no ground_truth folder: image-level metrics only */
    free(gt);
    dir = xasprintf("%s/test", cat_dir);
    if (fs_is_dir(dir) && fs_list(dir, FS_LIST_DIRS, &defects, &n_defects, err) != 0) goto fail;
    for (size_t d = 0; d < n_defects; d++) {
        char *sub = xasprintf("%s/%s", dir, defects[d]);
        int rc = fs_list(sub, FS_LIST_IMAGES, &names, &n, err);
        for (size_t i = 0; rc == 0 && i < n; i++) {
            char *mask = NULL;
            if (cd->has_masks && strcmp(defects[d], "good") != 0) {
                char *stem = fs_stem(names[i]);
                mask = xasprintf("%s/ground_truth/%s/%s%s.png", cat_dir, defects[d], stem, mask_suffix);
                free(stem);
            }
            push_sample(cd, &cap, xasprintf("%s/%s", sub, names[i]), mask, defects[d]);
        }
        free(sub);
        fs_list_free(names, n);
        names = NULL;
        if (rc != 0) goto fail;
    }
    fs_list_free(defects, n_defects);
    free(dir);
    return 0;
fail:
    fs_list_free(defects, n_defects);
    free(dir);
    return err->code;
}

/* ---- VisA CSV ---- */

void dataset_visa_csv_free(VisaCsv *csv)
{
    if (!csv) return;
    for (size_t i = 0; i < csv->n; i++) {
        free(csv->rows[i].object);
        free(csv->rows[i].image);
        free(csv->rows[i].mask);
    }
    free(csv->rows);
    memset(csv, 0, sizeof *csv);
}

/* Split line (modified in place) at commas into at most max fields; returns the count. */
static int split_fields(char *line, char **fields, int max)
{
    int n = 0;
    char *p = line;
    for (;;) {
        if (n < max) fields[n] = p;
        n++;
        char *c = strchr(p, ',');
        if (!c) break;
        *c = 0;
        p = c + 1;
    }
    return n;
}

int dataset_visa_csv_read(VisaCsv *csv, const char *path, Error *err)
{
    memset(csv, 0, sizeof *csv);
    FILE *fp = fopen(path, "rb");
    if (!fp) return err_setf(err, ERR_IO, "%s: cannot open the VisA split CSV (expected split_csv/1cls.csv of VisA)", path);
    size_t cap = 0, lineno = 0, len_cap = 0;
    char *line = NULL;
    ssize_t len;
    int rc = 0;
    while ((len = getline(&line, &len_cap, fp)) >= 0) {
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = 0;
        if (lineno == 1) {
            if (strcmp(line, "object,split,label,image,mask") != 0) {
                rc = err_setf(err, ERR_FORMAT, "%s:1: expected header 'object,split,label,image,mask', found '%.80s'", path,
                              line);
                break;
            }
            continue;
        }
        if (len == 0) continue; /* tolerate a trailing empty line */
        char *f[5];
        int nf = split_fields(line, f, 5);
        if (nf != 5) {
            rc = err_setf(err, ERR_FORMAT, "%s:%zu: expected 5 comma-separated fields, found %d", path, lineno, nf);
            break;
        }
        int train = strcmp(f[1], "train") == 0, anomaly = strcmp(f[2], "anomaly") == 0;
        if (!train && strcmp(f[1], "test") != 0) {
            rc = err_setf(err, ERR_FORMAT, "%s:%zu: split '%s': expected train or test", path, lineno, f[1]);
            break;
        }
        if (!anomaly && strcmp(f[2], "normal") != 0) {
            rc = err_setf(err, ERR_FORMAT, "%s:%zu: label '%s': expected normal or anomaly", path, lineno, f[2]);
            break;
        }
        if (!*f[0] || !*f[3]) {
            rc = err_setf(err, ERR_FORMAT, "%s:%zu: empty object or image field", path, lineno);
            break;
        }
        if (anomaly && (!*f[4] || train)) {
            rc = err_setf(err, ERR_FORMAT, "%s:%zu: anomaly row %s (anomalies must be test rows with a mask)", path,
                          lineno, train ? "in the train split" : "without a mask path");
            break;
        }
        if (csv->n == cap) {
            cap = cap ? 2 * cap : 1024;
            csv->rows = xrealloc(csv->rows, cap * sizeof *csv->rows);
        }
        VisaRow *r = &csv->rows[csv->n++];
        r->object = xstrdup(f[0]);
        r->train = train;
        r->anomaly = anomaly;
        r->image = xstrdup(f[3]);
        r->mask = *f[4] ? xstrdup(f[4]) : NULL;
        r->line = lineno;
    }
    free(line);
    fclose(fp);
    if (rc == 0 && lineno == 0) rc = err_setf(err, ERR_FORMAT, "%s: empty file (expected the VisA 1cls split CSV)", path);
    if (rc != 0) dataset_visa_csv_free(csv);
    return rc;
}

static int load_visa_csv(CategoryData *cd, const char *csv_path, Error *err)
{
    char *default_csv = NULL;
    if (!csv_path) csv_path = default_csv = xasprintf("%s/split_csv/1cls.csv", cd->root);
    VisaCsv csv = {0};
    int rc = dataset_visa_csv_read(&csv, csv_path, err);
    if (rc != 0) {
        free(default_csv);
        return rc;
    }
    size_t cap = 0, train_cap = 0;
    for (size_t i = 0; i < csv.n; i++) {
        const VisaRow *r = &csv.rows[i];
        if (strcmp(r->object, cd->category) != 0) continue;
        char *image = xasprintf("%s/%s", cd->root, r->image);
        if (r->train) {
            if (cd->n_train == train_cap) {
                train_cap = train_cap ? 2 * train_cap : 256;
                cd->train_good = xrealloc(cd->train_good, train_cap * sizeof *cd->train_good);
            }
            cd->train_good[cd->n_train++] = image;
        } else {
            char *mask = r->mask ? xasprintf("%s/%s", cd->root, r->mask) : NULL;
            push_sample(cd, &cap, image, mask, r->anomaly ? "bad" : "good");
        }
    }
    if (cd->n_train + cd->n_test == 0) {
        char objs[512] = "";
        size_t used = 0;
        for (size_t i = 0; i < csv.n && used + 1 < sizeof objs; i++)
            if (i == 0 || strcmp(csv.rows[i].object, csv.rows[i - 1].object) != 0)
                used += (size_t)snprintf(objs + used, sizeof objs - used, "%s%s", used ? ", " : "", csv.rows[i].object);
        rc = err_setf(err, ERR_MISSING, "%s: no rows for object '%s' (objects in the file: %s)", csv_path, cd->category,
                      objs);
    }
    dataset_visa_csv_free(&csv);
    free(default_csv);
    return rc;
}

/* ---- load ---- */

int dataset_load(CategoryData *cd, DatasetLayout layout, const char *root, const char *category, const char *csv_path,
                 Error *err)
{
    memset(cd, 0, sizeof *cd);
    cd->dataset = xstrdup(layout == DATASET_MVTEC ? "mvtec" : layout == DATASET_CSV ? "custom" : "visa");
    cd->category = xstrdup(category);
    cd->root = xstrdup(root);
    cd->layout = layout;
    int rc;
    if (!fs_is_dir(root)) {
        rc = err_setf(err, ERR_MISSING, "dataset root %s: folder not found (see datasets/README.md, `make datasets`)", root);
    } else if (layout == DATASET_VISA_CSV) {
        cd->has_masks = 1;
        rc = load_visa_csv(cd, csv_path, err);
    } else if (layout == DATASET_CSV) {
        char *list = csv_path ? xstrdup(csv_path) : xasprintf("%s/%s.csv", root, category);
        rc = dataset_list_csv_read(cd, list, err);
        free(list);
    } else {
        char *cat_dir = xasprintf("%s/%s", root, category);
        if (!fs_is_dir(cat_dir)) {
            char **names = NULL;
            size_t n = 0;
            char have[400] = "";
            size_t used = 0;
            if (fs_list(root, FS_LIST_DIRS, &names, &n, NULL) == 0)
                for (size_t i = 0; i < n && used + 1 < sizeof have; i++)
                    used += (size_t)snprintf(have + used, sizeof have - used, "%s%s", i ? ", " : "", names[i]);
            fs_list_free(names, n);
            rc = err_setf(err, ERR_MISSING, "%s: category folder not found (%s layout; folders in %s: %s)", cat_dir,
                          dataset_layout_name(layout), root, used ? have : "none");
        } else {
            rc = load_tree(cd, cat_dir, err);
        }
        free(cat_dir);
    }
    if (rc != 0) {
        dataset_free(cd);
        return rc;
    }
    if (cd->n_test) qsort(cd->test, cd->n_test, sizeof *cd->test, cmp_sample);
    if (cd->n_train) qsort(cd->train_good, cd->n_train, sizeof *cd->train_good, cmp_basename);
    return 0;
}

/* ---- validation ---- */

typedef struct {
    char **lines;
    size_t n, cap;
    const char *root;
} Problems;

static const char *rel(const Problems *p, const char *path)
{
    size_t n = strlen(p->root);
    if (strncmp(path, p->root, n) == 0 && path[n] == '/') return path + n + 1;
    return path;
}

static void add_problem(Problems *p, const char *path, const char *what)
{
    if (p->n == p->cap) {
        p->cap = p->cap ? 2 * p->cap : 16;
        p->lines = xrealloc(p->lines, p->cap * sizeof *p->lines);
    }
    p->lines[p->n++] = xasprintf("%s: %s", rel(p, path), what);
}

/* Header-only check of an image; fills w, h. Returns 1 when readable. */
static int check_image(Problems *p, const char *path, const char *what, int *w, int *h)
{
    if (!fs_is_file(path)) {
        char *msg = xasprintf("%s not found", what);
        add_problem(p, path, msg);
        free(msg);
        return 0;
    }
    Error e = {0};
    if (imghdr_check(what, path, w, h, &e)) {
        /* e.msg is "<what>: <path> <why>"; the problem list already names the path */
        size_t pre = strlen(what) + 2 + strlen(path) + 1;
        char *msg = strlen(e.msg) > pre ? xasprintf("%s %s", what, e.msg + pre) : xasprintf("%s", e.msg);
        add_problem(p, path, msg);
        free(msg);
        return 0;
    }
    return 1;
}

/* Pixels are decoded in validation for user data (the CSV layout, or a dataset other than the
 * paper's and the synthetic one: a few images, named before any compute); the paper datasets get
 * the header check only (thousands of images, decoded once when scored). */
static int wants_decode(const CategoryData *cd)
{
    return cd->layout == DATASET_CSV ||
           (strcmp(cd->dataset, "mvtec") && strcmp(cd->dataset, "visa") && strcmp(cd->dataset, "synthetic"));
}

/* Full decode. Returns 1 when it decodes. */
static int check_decode(Problems *p, const char *path, const char *what)
{
    Error e = {0};
    if (imghdr_decode(what, path, &e) == 0) return 1;
    size_t pre = strlen(what) + 2 + strlen(path) + 1; /* e.msg is "<what>: <path> <why>" */
    char *msg = strlen(e.msg) > pre ? xasprintf("%s %s", what, e.msg + pre) : xasprintf("%s", e.msg);
    add_problem(p, path, msg);
    free(msg);
    return 0;
}

static void check_dir(Problems *p, const char *cat_dir, const char *sub, const char *why)
{
    char *d = xasprintf("%s/%s", cat_dir, sub);
    if (!fs_is_dir(d)) {
        char *msg = xasprintf("missing folder (%s)", why);
        add_problem(p, d, msg);
        free(msg);
    }
    free(d);
}


int dataset_check(const CategoryData *cd, char ***problems, size_t *n)
{
    Problems p = {0};
    p.root = cd->root;
    if (cd->layout != DATASET_VISA_CSV && cd->layout != DATASET_CSV) {
        char *cat_dir = xasprintf("%s/%s", cd->root, cd->category);
        check_dir(&p, cat_dir, "train/good", "defect-free training images");
        check_dir(&p, cat_dir, "test", "test images, one folder per defect type and good");
        size_t n_bad = 0;
        for (size_t i = 0; i < cd->n_test; i++) n_bad += cd->test[i].label != 0;
        if (n_bad && cd->has_masks) check_dir(&p, cat_dir, "ground_truth", "masks of the defective test images");
        free(cat_dir);
    }
    size_t n_good = 0, n_bad = 0;
    for (size_t i = 0; i < cd->n_test; i++) {
        const Sample *s = &cd->test[i];
        if (s->label) n_bad++;
        else n_good++;
        int w = 0, h = 0, mw = 0, mh = 0;
        int ok = check_image(&p, s->image_path, "image", &w, &h);
        if (ok && wants_decode(cd)) ok = check_decode(&p, s->image_path, "image");
        if (s->label && !s->mask_path) {
            if (cd->has_masks)
                add_problem(&p, s->image_path, cd->layout == DATASET_CSV ? "defective image without a mask (other "
                                                   "defective rows of the list have one: give every one a mask, or none)"
                                                                         : "defective image without a mask path");
        } else if (s->mask_path) {
            if (!fs_is_file(s->mask_path)) {
                char *msg = xasprintf("defective image without a mask (expected %s)", rel(&p, s->mask_path));
                add_problem(&p, s->image_path, msg);
                free(msg);
            } else if (check_image(&p, s->mask_path, "mask", &mw, &mh) &&
                       (!wants_decode(cd) || check_decode(&p, s->mask_path, "mask")) && ok &&
                       (mw != w || mh != h)) {
                char *msg = xasprintf("mask is %dx%d but its image %s is %dx%d", mw, mh, rel(&p, s->image_path), w, h);
                add_problem(&p, s->mask_path, msg);
                free(msg);
            }
        }
        if (i > 0 && strcmp(s->name, cd->test[i - 1].name) == 0) {
            char *msg = xasprintf("duplicate test sample name '%s'", s->name);
            add_problem(&p, s->image_path, msg);
            free(msg);
        }
    }
    for (size_t i = 0; i < cd->n_train; i++) {
        int w, h;
        if (check_image(&p, cd->train_good[i], "training image", &w, &h) && wants_decode(cd))
            check_decode(&p, cd->train_good[i], "training image");
    }
    char *where = xasprintf("%s/%s", cd->root, cd->category);
    /* an empty train/good is fine for zero-shot: whoever draws K > 0 references checks n_train */
    if (n_good == 0) add_problem(&p, where, "no normal (good) test images");
    if (n_bad == 0) add_problem(&p, where, "no anomalous test images");
    free(where);
    *problems = p.lines;
    *n = p.n;
    return 0;
}

int dataset_validate(const CategoryData *cd, Error *err)
{
    char **lines = NULL;
    size_t n = 0;
    dataset_check(cd, &lines, &n);
    if (n == 0) return 0;
    char msg[sizeof err->msg];
    size_t cap = sizeof msg, used = 0;
    used += (size_t)snprintf(msg, cap, "dataset %s/%s (%s layout, root %s): %zu problem%s:", cd->dataset, cd->category,
                             dataset_layout_name(cd->layout), cd->root, n, n == 1 ? "" : "s");
    if (used >= cap) used = cap - 1;
    size_t shown = 0;
    const size_t tail_room = 40; /* "\n  ... and N more" */
    for (; shown < n; shown++) {
        size_t need = 3 + strlen(lines[shown]);
        if (used + need + (shown + 1 < n ? tail_room : 0) >= cap) break;
        used += (size_t)snprintf(msg + used, cap - used, "\n  %s", lines[shown]);
    }
    if (shown < n) snprintf(msg + used, cap - used, "\n  ... and %zu more", n - shown);
    fs_list_free(lines, n);
    return err_setf(err, ERR_FORMAT, "%s", msg);
}

/* ---- few-shot ---- */

int dataset_sample_shots(const CategoryData *cd, int seed, int k, size_t *indices_out, Error *err)
{
    if (k < 1 || (size_t)k > cd->n_train)
        return err_setf(err, ERR_VALUE, "%s/%s: %d-shot needs 1..%zu train/good images (found %zu)", cd->dataset,
                        cd->category, k, cd->n_train, cd->n_train);
    size_t *perm = xmalloc(cd->n_train * sizeof *perm);
    for (size_t i = 0; i < cd->n_train; i++) perm[i] = i;
    Rng rng;
    rng_seed_for(&rng, cd->dataset, cd->category, (uint64_t)(int64_t)seed);
    rng_shuffle(&rng, perm, cd->n_train);
    memcpy(indices_out, perm, (size_t)k * sizeof *perm);
    free(perm);
    return 0;
}
