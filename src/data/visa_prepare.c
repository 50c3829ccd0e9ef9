/*
 * visa_prepare.c - original VisA + 1cls.csv -> prepared 1cls tree (see visa_prepare.h).
 *
 * Reference: datasets.md §2.3 (spot-diff utils/prepare_data.py: mask[mask != 0] = 255).
 */
#define _POSIX_C_SOURCE 200809L
#include "data/visa_prepare.h"

#include <stdlib.h>
#include <string.h>

#include <stb_image.h>

#include "data/dataset.h"
#include "util/fsutil.h"

int visa_prepare_mask(const char *src, const char *dst, Error *err)
{
    int w, h, c;
    if (!fs_is_file(src)) return err_setf(err, ERR_MISSING, "%s: mask not found", src);
    int wide = stbi_is_16_bit(src); /* label ids in a 16-bit file must not be scaled to 0 */
    void *px = wide ? (void *)stbi_load_16(src, &w, &h, &c, 0) : (void *)stbi_load(src, &w, &h, &c, 0);
    if (!px) {
        const char *why = stbi_failure_reason();
        return err_setf(err, ERR_FORMAT, "%s: cannot decode mask (%s)", src, why ? why : "unknown");
    }
    size_t n = (size_t)w * (size_t)h;
    unsigned char *out = xmalloc(n);
    for (size_t i = 0; i < n; i++) {
        int any = 0;
        for (int k = 0; k < c; k++)
            any |= wide ? ((unsigned short *)px)[i * (size_t)c + (size_t)k] != 0
                        : ((unsigned char *)px)[i * (size_t)c + (size_t)k] != 0;
        out[i] = any ? 255 : 0;
    }
    stbi_image_free(px);
    int rc = fs_write_png(dst, w, h, 1, out, err);
    free(out);
    return rc;
}

static int wanted(const char *object, const char *const *objects, size_t n_objects)
{
    if (!objects || n_objects == 0) return 1;
    for (size_t i = 0; i < n_objects; i++)
        if (strcmp(objects[i], object) == 0) return 1;
    return 0;
}

static const char *split_folder(const VisaRow *r)
{
    return r->train ? "train/good" : r->anomaly ? "test/bad" : "test/good";
}

/* Every wanted row names its object as one plain folder name and its image and mask inside the
 * VisA root: a CSV must not write outside out_root nor copy files from outside visa_root. */
static int check_row_paths(const char *csv_path, const VisaRow *r, Error *err)
{
    const char *o = r->object;
    if (!o[0] || strchr(o, '/') || strcmp(o, ".") == 0 || strcmp(o, "..") == 0)
        return err_setf(err, ERR_FORMAT, "%s:%zu: object: expected a plain folder name, found '%.200s'", csv_path,
                        r->line, o);
    if (!fs_path_is_inside(r->image) || !fs_basename(r->image)[0])
        return err_setf(err, ERR_FORMAT, "%s:%zu: image: expected a file path inside the VisA root, found '%.200s'",
                        csv_path, r->line, r->image);
    if (r->mask && (!fs_path_is_inside(r->mask) || !fs_basename(r->mask)[0]))
        return err_setf(err, ERR_FORMAT, "%s:%zu: mask: expected a file path inside the VisA root, found '%.200s'",
                        csv_path, r->line, r->mask);
    return 0;
}

typedef struct {
    const VisaRow *row;
    char *key; /* object/split/file name: where the row is written */
} RowKey;

static int key_cmp(const void *a, const void *b)
{
    const RowKey *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : (x->row->line > y->row->line) - (x->row->line < y->row->line);
}

/* Two wanted rows that would write the same file in one split: an error naming both lines. */
static int check_duplicates(const char *csv_path, const VisaCsv *csv, const char *const *objects, size_t n_objects,
                            Error *err)
{
    RowKey *keys = xmalloc((csv->n ? csv->n : 1) * sizeof *keys);
    size_t n = 0;
    int rc = 0;
    for (size_t i = 0; i < csv->n; i++) {
        const VisaRow *r = &csv->rows[i];
        if (!wanted(r->object, objects, n_objects)) continue;
        keys[n].row = r;
        keys[n++].key = xasprintf("%s/%s/%s", r->object, split_folder(r), fs_basename(r->image));
    }
    qsort(keys, n, sizeof *keys, key_cmp);
    for (size_t i = 1; i < n && rc == 0; i++)
        if (strcmp(keys[i - 1].key, keys[i].key) == 0)
            rc = err_setf(err, ERR_FORMAT, "%s:%zu and line %zu: both write %s (images %.200s and %.200s); expected "
                                           "one row per file name in a split",
                          csv_path, keys[i - 1].row->line, keys[i].row->line, keys[i].key, keys[i - 1].row->image,
                          keys[i].row->image);
    for (size_t i = 0; i < n; i++) free(keys[i].key);
    free(keys);
    return rc;
}

int visa_prepare(const char *visa_root, const char *csv_path, const char *out_root, const char *const *objects,
                 size_t n_objects, VisaPrepareStats *stats, Error *err)
{
    VisaPrepareStats local = {0};
    if (!stats) stats = &local;
    char *default_csv = csv_path ? NULL : xasprintf("%s/split_csv/1cls.csv", visa_root);
    const char *csv_file = csv_path ? csv_path : default_csv;
    VisaCsv csv = {0};
    int rc = dataset_visa_csv_read(&csv, csv_file, err);
    for (size_t i = 0; rc == 0 && i < csv.n; i++)
        if (wanted(csv.rows[i].object, objects, n_objects)) rc = check_row_paths(csv_file, &csv.rows[i], err);
    if (rc == 0) rc = check_duplicates(csv_file, &csv, objects, n_objects, err);
    free(default_csv);
    if (rc != 0) {
        dataset_visa_csv_free(&csv);
        return rc;
    }
    for (size_t i = 0; i < n_objects; i++) {
        size_t k = 0;
        while (k < csv.n && strcmp(csv.rows[k].object, objects[i]) != 0) k++;
        if (k == csv.n) {
            rc = err_setf(err, ERR_USAGE, "object '%s' is not in the split CSV", objects[i]);
            goto done;
        }
    }
    for (size_t i = 0; i < csv.n && rc == 0; i++) {
        const VisaRow *r = &csv.rows[i];
        if (!wanted(r->object, objects, n_objects)) continue;
        const char *sub = split_folder(r);
        char *dir = xasprintf("%s/%s/%s", out_root, r->object, sub);
        char *src = xasprintf("%s/%s", visa_root, r->image);
        char *dst = xasprintf("%s/%s", dir, fs_basename(r->image));
        rc = fs_mkdirs(dir, err);
        if (rc == 0 && fs_is_file(dst)) stats->skipped++;
        else if (rc == 0 && (rc = fs_copy_atomic(src, dst, err)) == 0) stats->images_written++;
        free(dir);
        free(src);
        free(dst);
        if (rc != 0 || !r->mask) continue;
        char *stem = fs_stem(r->image);
        dir = xasprintf("%s/%s/ground_truth/bad", out_root, r->object);
        src = xasprintf("%s/%s", visa_root, r->mask);
        dst = xasprintf("%s/%s.png", dir, stem);
        rc = fs_mkdirs(dir, err);
        if (rc == 0 && fs_is_file(dst)) stats->skipped++;
        else if (rc == 0 && (rc = visa_prepare_mask(src, dst, err)) == 0) stats->masks_written++;
        free(stem);
        free(dir);
        free(src);
        free(dst);
    }
done:
    dataset_visa_csv_free(&csv);
    return rc;
}
