/*
 * tsv.c - tab-separated tables with a header line (see tsv.h).
 *
 * Reference: paper-tables/README.md (the files it reads).
 */
#define _XOPEN_SOURCE 700 /* getline */
#include "harness/tsv.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char **split_tabs(char *line, int *n)
{
    int count = 1;
    for (char *p = line; *p; p++) count += *p == '\t';
    char **cells = xmalloc((size_t)count * sizeof *cells);
    char *p = line;
    for (int i = 0; i < count; i++) {
        char *tab = strchr(p, '\t');
        if (tab) *tab = 0;
        cells[i] = xstrdup(p);
        p = tab ? tab + 1 : p + strlen(p);
    }
    *n = count;
    return cells;
}

static void free_cells(char **cells, int n)
{
    for (int i = 0; i < n; i++) free(cells[i]);
    free(cells);
}

int tsv_load(Tsv *t, const char *path, Error *err)
{
    memset(t, 0, sizeof *t);
    FILE *f = fopen(path, "r");
    if (!f) return err_setf(err, ERR_MISSING, "cannot open %s: %s", path, strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    int line_no = 0, rc = 0, cap_rows = 0;
    while (getline(&line, &cap, f) >= 0) {
        line_no++;
        line[strcspn(line, "\r\n")] = 0;
        if (!line[0]) continue;
        int n;
        char **cells = split_tabs(line, &n);
        if (!t->header) {
            t->header = cells;
            t->n_cols = n;
            continue;
        }
        if (n != t->n_cols) {
            free_cells(cells, n);
            rc = err_setf(err, ERR_FORMAT, "%s:%d: expected %d tab-separated columns, found %d", path, line_no,
                          t->n_cols, n);
            break;
        }
        if (t->n_rows == cap_rows) {
            cap_rows = cap_rows ? 2 * cap_rows : 64;
            t->rows = xrealloc(t->rows, (size_t)cap_rows * sizeof *t->rows);
        }
        t->rows[t->n_rows++] = cells;
    }
    free(line);
    fclose(f);
    if (!rc && !t->header) rc = err_setf(err, ERR_FORMAT, "%s: empty file (expected a header line)", path);
    if (rc) tsv_free(t);
    return rc;
}

void tsv_free(Tsv *t)
{
    if (!t) return;
    for (int r = 0; r < t->n_rows; r++) free_cells(t->rows[r], t->n_cols);
    free(t->rows);
    if (t->header) free_cells(t->header, t->n_cols);
    memset(t, 0, sizeof *t);
}

int tsv_col(const Tsv *t, const char *name)
{
    for (int c = 0; c < t->n_cols; c++)
        if (strcmp(t->header[c], name) == 0) return c;
    return -1;
}

/* First row whose columns names[i] equal values[i] (NULL value: any), or -1. */
int tsv_find(const Tsv *t, int n, const char *const *names, const char *const *values)
{
    for (int r = 0; r < t->n_rows; r++) {
        int ok = 1;
        for (int i = 0; i < n && ok; i++) {
            int c = tsv_col(t, names[i]);
            ok = c >= 0 && (!values[i] || strcmp(t->rows[r][c], values[i]) == 0);
        }
        if (ok) return r;
    }
    return -1;
}

double tsv_cell_num(const Tsv *t, int row, const char *col)
{
    int c = tsv_col(t, col);
    if (c < 0 || !t->rows[row][c][0]) return NAN;
    char *end;
    double v = strtod(t->rows[row][c], &end);
    return *end ? NAN : v;
}

int tsv_cell_unverified(const Tsv *t, int row)
{
    int c = tsv_col(t, "verified");
    return c >= 0 && strcmp(t->rows[row][c], "UNVERIFIED") == 0;
}
