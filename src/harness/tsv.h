/*
 * tsv.h - a tab-separated table with a header line, read into string cells.
 *
 * Does: load (rows with another column count are ERR_FORMAT naming file:line; an empty file is
 * ERR_FORMAT), column and row look-ups, numeric cells.
 * Does not: quoting or escapes (the project's TSV files have none).
 * Reference: paper-tables/README.md (the files it reads), conventions.md (errors name file:line).
 *
 *     Tsv t;
 *     if (tsv_load(&t, "paper-tables/paper_zero_shot.tsv", &err)) goto fail;
 *     int c = tsv_col(&t, "value");
 *     tsv_free(&t);
 */
#ifndef WINCLIP_HARNESS_TSV_H
#define WINCLIP_HARNESS_TSV_H

#include "util/base.h"

typedef struct {
    int n_cols, n_rows;
    char **header; /* (n_cols) */
    char ***rows;  /* (n_rows, n_cols) */
} Tsv;

/* Load a tab-separated file with a header line; blank lines are skipped; CR/LF endings taken.
 * ERR_MISSING when the file cannot be opened, ERR_FORMAT for an empty file or a row whose
 * column count differs from the header's (naming file:line, expected and found). */
int tsv_load(Tsv *t, const char *path, Error *err);
void tsv_free(Tsv *t); /* safe on a zeroed Tsv */

/* Column index of name or -1. */
int tsv_col(const Tsv *t, const char *name);

/* First row whose columns names[i] equal values[i] (NULL value: any; a missing column never
 * matches), or -1. */
int tsv_find(const Tsv *t, int n, const char *const *names, const char *const *values);

/* The cell (row, col) as a number; NaN when the column is missing, the cell empty or not a
 * whole number. */
double tsv_cell_num(const Tsv *t, int row, const char *col);

/* 1 when the row's `verified` column says UNVERIFIED. */
int tsv_cell_unverified(const Tsv *t, int row);

#endif
