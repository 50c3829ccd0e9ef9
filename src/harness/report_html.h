/*
 * report_html.h - one self-contained page per experiment: results/<exp>/index.html.
 *
 * Does: the summary tables (summary.md, so the paper's numbers stand beside ours), which
 * categories had masks, the ROC / PR panels and per-category bars (plots/NAME.png), and per category
 * and unit a gallery of overlays: the highest-scoring normal images and the lowest-scoring
 * defective ones, each with its score (overlays/index.tsv of each unit). Images are linked by
 * relative paths inside the experiment folder, only when the file exists; no script, no network,
 * inline CSS only.
 * Does not: compute anything, draw figures (report_plots.c, overlay.h) or write summary.md
 * (report_summary.c: call report_write_summary first).
 * Reference: issue 11 ("A report page").
 *
 *     if (report_write_summary(&e, "results", &paper, &err) || report_write_plots(...) ||
 *         report_write_html(&e, "results", &err)) ...
 */
#ifndef WINCLIP_HARNESS_REPORT_HTML_H
#define WINCLIP_HARNESS_REPORT_HTML_H

#include "harness/report_results.h"
#include "util/base.h"

/* <root>/<e->name>/index.html (atomic). ERR_IO naming the file. */
int report_write_html(const ReportExperiment *e, const char *root, Error *err);

#endif
