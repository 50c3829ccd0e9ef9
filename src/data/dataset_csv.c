/*
 * dataset_csv.c - the plain list layout (DATASET_CSV): `path,label[,mask]` rows, paths relative
 * to the list's folder, for data organised otherwise than the MVTec tree (see dataset.h).
 *
 * Does: parse and check the list (fields, labels, paths that stay inside the list's folder) and
 * append its samples to a CategoryData.
 * Does not: check that files exist or decode them (dataset_check does, before any compute).
 * Reference: README "Your own images"; configs/dataset/custom.conf.
 */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/dataset.h"
#include "data/dataset_internal.h"
#include "util/fsutil.h"

/* 1 when rel leaves its base folder (absolute, a '..' component, empty) or holds a backslash. */
static int path_escapes(const char *rel)
{
    return !fs_path_is_inside(rel) || strchr(rel, '\\') != NULL;
}

/* Defect name of a label, or NULL when the label is not valid. "good" = normal, "train" = a
 * reference; bad/anomaly/anomalous/1 -> "bad"; other words are defect types. */
static const char *label_defect(const char *label)
{
    if (!strcmp(label, "good") || !strcmp(label, "normal") || !strcmp(label, "0")) return "good";
    if (!strcmp(label, "train")) return "train";
    if (!strcmp(label, "bad") || !strcmp(label, "anomaly") || !strcmp(label, "anomalous") || !strcmp(label, "1"))
        return "bad";
    if (!*label) return NULL;
    for (const char *c = label; *c; c++)
        if (!isalnum((unsigned char)*c) && *c != '_' && *c != '-') return NULL;
    return label;
}

/* "a/b/003.png" -> "a_b_003" (the sample name's stem); malloc'ed. */
static char *flat_stem(const char *rel)
{
    char *s = xstrdup(rel);
    char *dot = strrchr(s, '.'), *slash = strrchr(s, '/');
    if (dot && (!slash || dot > slash)) *dot = 0;
    for (char *c = s; *c; c++)
        if (*c == '/') *c = '_';
    return s;
}

static int is_header(char **f, int nf)
{
    return nf >= 2 && !strcmp(f[0], "path") && !strcmp(f[1], "label") && (nf == 2 || !strcmp(f[2], "mask"));
}

/* One data row (fields already split) into cd. */
static int add_row(CategoryData *cd, size_t *cap, size_t *train_cap, const char *base, char **f, int nf,
                   const char *csv_path, size_t lineno, Error *err)
{
    const char *defect = label_defect(f[1]);
    if (!defect)
        return err_setf(err, ERR_FORMAT, "%s:%zu: field 'label' = '%s': expected good | normal | 0 | train | bad | "
                        "anomaly | 1 | a defect name (letters, digits, _ or -)", csv_path, lineno, f[1]);
    if (path_escapes(f[0]))
        return err_setf(err, ERR_FORMAT, "%s:%zu: field 'path' = '%s': expected a relative path inside %s (no "
                        "leading '/', no '..')", csv_path, lineno, f[0], base);
    const char *mask = nf == 3 && *f[2] ? f[2] : NULL;
    if (mask && path_escapes(mask))
        return err_setf(err, ERR_FORMAT, "%s:%zu: field 'mask' = '%s': expected a relative path inside %s (no "
                        "leading '/', no '..')", csv_path, lineno, mask, base);
    if (mask && (!strcmp(defect, "good") || !strcmp(defect, "train")))
        return err_setf(err, ERR_FORMAT, "%s:%zu: field 'mask' = '%s': only defective rows have a mask (label is '%s')",
                        csv_path, lineno, mask, f[1]);
    char *image = xasprintf("%s/%s", base, f[0]);
    if (!strcmp(defect, "train")) {
        if (cd->n_train == *train_cap) {
            *train_cap = *train_cap ? 2 * *train_cap : 64;
            cd->train_good = xrealloc(cd->train_good, *train_cap * sizeof *cd->train_good);
        }
        cd->train_good[cd->n_train++] = image;
        return 0;
    }
    char *stem = flat_stem(f[0]);
    dataset_push_sample(cd, cap, image, mask ? xasprintf("%s/%s", base, mask) : NULL, defect, stem);
    free(stem);
    if (mask) cd->has_masks = 1;
    return 0;
}

int dataset_list_csv_read(CategoryData *cd, const char *csv_path, Error *err)
{
    FILE *fp = fopen(csv_path, "rb");
    if (!fp) return err_setf(err, ERR_IO, "%s: cannot open the image list (layout csv: `path,label[,mask]` rows)", csv_path);
    const char *slash = strrchr(csv_path, '/');
    char *base = slash ? xasprintf("%.*s", (int)(slash - csv_path), csv_path) : xstrdup(".");
    if (!*base) {
        free(base);
        base = xstrdup("/");
    }
    size_t cap = cd->n_test, train_cap = cd->n_train, lineno = 0, len_cap = 0, rows = 0;
    char *line = NULL;
    ssize_t len;
    int rc = 0;
    while (rc == 0 && (len = getline(&line, &len_cap, fp)) >= 0) {
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = 0;
        if (len == 0 || line[0] == '#') continue;
        char *f[4] = {0};
        int nf = 0;
        for (char *p = line;; nf++) {
            if (nf < 4) f[nf] = p;
            char *c = strchr(p, ',');
            if (!c) {
                nf++;
                break;
            }
            *c = 0;
            p = c + 1;
        }
        if (rows == 0 && lineno == 1 && is_header(f, nf)) continue;
        if (nf < 2 || nf > 3) {
            rc = err_setf(err, ERR_FORMAT, "%s:%zu: expected 2 or 3 comma-separated fields (path,label[,mask]), found %d",
                          csv_path, lineno, nf);
            break;
        }
        rc = add_row(cd, &cap, &train_cap, base, f, nf, csv_path, lineno, err);
        rows++;
    }
    free(line);
    fclose(fp);
    free(base);
    if (rc == 0 && rows == 0) rc = err_setf(err, ERR_FORMAT, "%s: no image rows (expected `path,label[,mask]` lines)", csv_path);
    return rc;
}
