/*
 * report_table.h - a small table builder rendered as Markdown or LaTeX, and the cell formats
 * the report tables share (percent, ours beside the paper's with the difference, the ±1-point
 * tally).
 *
 *     ReportTable t;
 *     report_table_init(&t, "Table 1", 3, (const char *[]){"Method", "i-AUROC", "p-AUROC"});
 *     report_table_row(&t, (char *[]){"ours", "91.8", "85.1"});
 *     report_table_write(&t, "tables", "table1", &err);      // tables/table1.md, .tex
 *     report_table_free(&t);
 *
 * Reference: shared/spec/metrics.md §6.
 */
#ifndef WINCLIP_HARNESS_REPORT_TABLE_H
#define WINCLIP_HARNESS_REPORT_TABLE_H

#include <stdio.h>

#include "util/base.h"

#define REPORT_TABLE_MAX_COLS 16
typedef struct {
    char caption[256];
    int n_cols, n_rows, cap;
    char *header[REPORT_TABLE_MAX_COLS];
    char **cells; /* (n_rows * n_cols) */
    char notes[8192];
} ReportTable;

/* n_cols <= REPORT_TABLE_MAX_COLS (checked); header copied. */
void report_table_init(ReportTable *t, const char *caption, int n_cols, const char *const *header);
/* Append a row of n_cols cells; cells copied. */
void report_table_row(ReportTable *t, char **cells);
void report_table_free(ReportTable *t);
/* **caption**, a pipe table, the notes. */
void report_table_md(const ReportTable *t, FILE *f);
/* A LaTeX table: ± -> $\pm$, – -> --, ** dropped, _ % & # $ escaped. */
void report_table_tex(const ReportTable *t, FILE *f);
/* Write out_dir/<stem>.md and .tex atomically. */
int report_table_write(const ReportTable *t, const char *out_dir, const char *stem, Error *err);

/* Copy src ("" for NULL) into dst, truncated to cap. */
void report_copy_str(char *dst, size_t cap, const char *src);
/* "MVTec AD" for mvtec, "VisA" for visa, else the name. */
const char *report_dataset_label(const char *dataset);
/* Percent with one decimal ("91.8"), "–" for NaN. */
void report_pct(char *buf, size_t cap, double fraction);

/* Accumulates |ours - paper| <= 1 point comparisons for the final summary. */
typedef struct {
    int n_compared, n_within;
    char misses[4096]; /* "table1 MVTec AD i-AUROC: 88.0 vs 91.8 (-3.8); ..." */
} ReportTally;

/* "ours (paper*, +d.d)" into buf; tallies when both exist. ours is a fraction, paper percent. */
void report_compare_cell(char *buf, size_t cap, double ours, const char *ours_std, int have_paper, double paper,
                         const char *paper_std, int unverified, ReportTally *tally, const char *what);

/* Numbered footnotes of one table: each distinct text once, in order of first use. */
#define REPORT_MAX_FOOTNOTES 32
typedef struct {
    int n;
    char *text[REPORT_MAX_FOOTNOTES];
} ReportFootnotes;
/* "[i]" for text into mark (text added when new; "" for an empty text or a full list). */
void report_footnote(ReportFootnotes *f, const char *text, char *mark, size_t cap);
/* Append " [1] text. [2] text." to notes (cap bytes). */
void report_footnotes_append(const ReportFootnotes *f, char *notes, size_t cap);
void report_footnotes_free(ReportFootnotes *f);

/* The note under every table that compares with the paper. */
extern const char *const REPORT_UNVERIFIED_NOTE;

#endif
