/*
 * report_paper.c - load the paper's numbers and look them up (see report_paper.h).
 *
 * Reference: paper-tables/README.md (file layout, the `verified` column).
 */
#include "harness/report_paper.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int need_cols(const Tsv *t, const char *path, const char *const *cols, int n, Error *err)
{
    for (int i = 0; i < n; i++)
        if (tsv_col(t, cols[i]) < 0) return err_setf(err, ERR_FORMAT, "%s: missing column '%s'", path, cols[i]);
    return 0;
}

int report_paper_load(PaperTables *p, const char *dir, Error *err)
{
    memset(p, 0, sizeof *p);
    struct {
        Tsv *t;
        const char *file;
        const char *cols[8];
        int n;
    } files[] = {
        {&p->zero_shot, "paper_zero_shot.tsv", {"dataset", "metric", "value", "source", "verified"}, 5},
        {&p->few_shot, "paper_few_shot.tsv", {"dataset", "k", "metric", "mean", "std", "verified"}, 6},
        {&p->per_category, "paper_per_category.tsv", {"dataset", "category", "metric", "value", "verified"}, 5},
        {&p->ablations, "paper_ablations.tsv",
         {"ablation", "variant", "dataset", "metric", "value", "kind", "verified", "experiment"}, 8},
        {&p->baselines, "paper_baselines.tsv", {"method", "k", "dataset", "metric", "mean", "std", "verified", "experiment"},
         8},
        {&p->reproductions, "public_reproductions.tsv", {"reproduction", "preset", "k", "dataset", "metric", "value"},
         6},
    };
    for (size_t i = 0; i < ARRAY_LEN(files); i++) {
        char *path = xasprintf("%s/%s", dir, files[i].file);
        int rc = tsv_load(files[i].t, path, err);
        if (!rc) rc = need_cols(files[i].t, path, files[i].cols, files[i].n, err);
        free(path);
        if (rc) {
            report_paper_free(p);
            return rc;
        }
    }
    return 0;
}

void report_paper_free(PaperTables *p)
{
    if (!p) return;
    tsv_free(&p->zero_shot);
    tsv_free(&p->few_shot);
    tsv_free(&p->per_category);
    tsv_free(&p->ablations);
    tsv_free(&p->baselines);
    tsv_free(&p->reproductions);
}

int report_paper_mean(const PaperTables *p, const char *dataset, int k, const char *metric, double *value,
                      double *std, int *unverified)
{
    const Tsv *t = k == 0 ? &p->zero_shot : &p->few_shot;
    char kbuf[16];
    snprintf(kbuf, sizeof kbuf, "%d", k);
    const char *names[] = {"dataset", "metric", "k"};
    const char *values[] = {dataset, metric, kbuf};
    int r = tsv_find(t, k == 0 ? 2 : 3, names, values);
    if (r < 0) return 0;
    *value = tsv_cell_num(t, r, k == 0 ? "value" : "mean");
    if (std) *std = k == 0 ? NAN : tsv_cell_num(t, r, "std");
    if (unverified) *unverified = tsv_cell_unverified(t, r);
    return !isnan(*value);
}

int report_paper_category(const PaperTables *p, const char *dataset, const char *category, const char *metric,
                          double *value, int *unverified)
{
    const char *names[] = {"dataset", "category", "metric"};
    const char *values[] = {dataset, category, metric};
    int r = tsv_find(&p->per_category, 3, names, values);
    if (r < 0) return 0;
    *value = tsv_cell_num(&p->per_category, r, "value");
    if (unverified) *unverified = tsv_cell_unverified(&p->per_category, r);
    return !isnan(*value);
}
