/*
 * report_paper.h - the paper's numbers (paper-tables/paper_*.tsv, public_reproductions.tsv)
 * and look-ups in them.
 *
 * Reference: paper-tables/README.md; shared/spec/winclip.md §10-§12.
 */
#ifndef WINCLIP_HARNESS_REPORT_PAPER_H
#define WINCLIP_HARNESS_REPORT_PAPER_H

#include "harness/tsv.h"

typedef struct {
    Tsv zero_shot, few_shot, per_category, ablations, baselines, reproductions;
} PaperTables;

/* Load paper-tables/paper_*.tsv (baselines included) and public_reproductions.tsv from dir; a missing column is
 * ERR_FORMAT naming the file and the column. */
int report_paper_load(PaperTables *p, const char *dir, Error *err);
void report_paper_free(PaperTables *p);

/* Look-ups in percent; return 1 and fill *value (and *std, *unverified when non-NULL) if
 * the paper has the number, else 0. k = 0 is zero-shot (paper_zero_shot.tsv). */
int report_paper_mean(const PaperTables *p, const char *dataset, int k, const char *metric, double *value,
                      double *std, int *unverified);
int report_paper_category(const PaperTables *p, const char *dataset, const char *category, const char *metric,
                          double *value, int *unverified);

/* The `experiment` column's two markers for a paper number no experiment computes. */
#define REPORT_EXP_UNDEFINED "undefined" /* the method is defined in no source (multi-crop)      */
#define REPORT_EXP_QUOTED "quoted"       /* another method's or code's number, printed as quoted */

#endif
