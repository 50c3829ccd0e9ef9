/*
 * report_html.c - results/<exp>/index.html (see report_html.h).
 *
 * Reference: harness/results.h (unit folders), unit_eval.h (overlays/index.tsv).
 */
#define _POSIX_C_SOURCE 200809L
#include "harness/report_html.h"
#include "harness/report_stats.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/results.h"
#include "util/fsutil.h"

static void esc(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '<') fputs("&lt;", f);
        else if (*s == '>') fputs("&gt;", f);
        else if (*s == '&') fputs("&amp;", f);
        else if (*s == '"') fputs("&quot;", f);
        else fputc(*s, f);
    }
}

/* Inline markdown of summary.md cells: `code` and **bold** markers dropped, text escaped. */
static void esc_md(FILE *f, const char *s, size_t n)
{
    char *t = xasprintf("%.*s", (int)n, s);
    char *w = t;
    for (const char *r = t; *r; r++) {
        if (*r == '`' || (r[0] == '*' && r[1] == '*')) {
            if (*r == '*') r++;
            continue;
        }
        *w++ = *r;
    }
    *w = 0;
    esc(f, t);
    free(t);
}

/* One markdown table row "| a | b |" as <tr>. */
static void md_row(FILE *f, const char *line, int header)
{
    fputs("<tr>", f);
    const char *p = line + 1;
    while (*p) {
        const char *bar = strchr(p, '|');
        if (!bar) break;
        const char *a = p, *b = bar;
        while (a < b && *a == ' ') a++;
        while (b > a && b[-1] == ' ') b--;
        fputs(header ? "<th>" : "<td>", f);
        esc_md(f, a, (size_t)(b - a));
        fputs(header ? "</th>" : "</td>", f);
        p = bar + 1;
    }
    fputs("</tr>\n", f);
}

/* summary.md -> headings, paragraphs and tables. */
static void summary_tables(FILE *f, const char *exp_dir)
{
    char *path = xasprintf("%s/summary.md", exp_dir);
    char *text = results_read_text(path);
    free(path);
    if (!text) {
        fputs("<p>summary.md not found: run <code>winclip report</code>.</p>\n", f);
        return;
    }
    int in_table = 0, row = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        if (strncmp(line, "<!--", 4) == 0 || strncmp(line, "# ", 2) == 0) continue;
        if (line[0] == '|') {
            if (!in_table) fputs("<table>\n", f);
            in_table = 1;
            if (strncmp(line, "| ---", 5) == 0) continue;
            md_row(f, line, row++ == 0);
            continue;
        }
        if (in_table) fputs("</table>\n", f);
        in_table = row = 0;
        size_t n = strlen(line);
        if (n > 4 && strncmp(line, "**", 2) == 0 && strcmp(line + n - 2, "**") == 0) {
            fputs("<h3>", f);
            esc_md(f, line, n);
            fputs("</h3>\n", f);
        } else {
            fputs("<p>", f);
            esc_md(f, line, n);
            fputs("</p>\n", f);
        }
    }
    if (in_table) fputs("</table>\n", f);
    free(text);
}

/* Which categories had masks (report_mask_categories). */
static void mask_note(FILE *f, const ReportExperiment *e)
{
    char with[2048], without[2048];
    report_mask_categories(e, with, without, sizeof with);
    fputs("<p class=\"masks\">Categories with ground-truth masks (pixel metrics): ", f);
    esc(f, with[0] ? with : "none");
    fputs(".<br>Categories without masks (image-level metrics only; pixel metrics n/a): ", f);
    esc(f, without[0] ? without : "none");
    fputs(".</p>\n", f);
}

static void figures(FILE *f, const char *exp_dir)
{
    char *dir = xasprintf("%s/plots", exp_dir);
    char **names = NULL;
    size_t n = 0;
    int shown = 0;
    if (fs_is_dir(dir) && fs_list(dir, FS_LIST_IMAGES, &names, &n, NULL) == 0) {
        for (int pass = 0; pass < 2; pass++) { /* curves (roc, pr) first, then the bars */
            for (size_t i = 0; i < n; i++) {
                int bars = strstr(names[i], "_bars_") != NULL;
                if (bars != pass) continue;
                fputs("<figure class=\"plot\"><img src=\"plots/", f);
                esc(f, names[i]);
                fputs("\" alt=\"", f);
                esc(f, names[i]);
                fputs("\"><figcaption>", f);
                esc(f, names[i]);
                fputs("</figcaption></figure>\n", f);
                shown++;
            }
        }
    }
    if (!shown) fputs("<p>No figures (plots/*.png: gnuplot missing?).</p>\n", f);
    fs_list_free(names, n);
    free(dir);
}

typedef struct {
    char png[256], name[256];
    int label;
    double score;
} Shot;

static int cmp_shot(const void *a, const void *b)
{
    const Shot *x = a, *y = b;
    if (x->label != y->label) return x->label - y->label;
    double d = x->label ? x->score - y->score : y->score - x->score; /* normal: high first; defective: low first */
    return d < 0 ? -1 : d > 0;
}

/* Rows of <unit>/overlays/index.tsv into shots (at most cap); returns how many. */
static int read_index(const char *unit_dir, Shot *shots, int cap)
{
    char *path = xasprintf("%s/overlays/index.tsv", unit_dir);
    FILE *f = fopen(path, "r");
    free(path);
    if (!f) return 0;
    char line[4096];
    int n = 0;
    while (n < cap && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = 0;
        char *fld[5] = {0};
        int k = 0;
        for (char *p = line; k < 5 && p; k++) {
            fld[k] = p;
            p = strchr(p, '\t');
            if (p) *p++ = 0;
        }
        if (k < 4 || !strcmp(fld[0], "png") || strlen(fld[0]) >= sizeof shots->png || strchr(fld[0], '/')) continue;
        Shot *s = &shots[n];
        snprintf(s->png, sizeof s->png, "%s", fld[0]);
        snprintf(s->name, sizeof s->name, "%.255s", fld[1]);
        s->label = atoi(fld[2]) != 0;
        s->score = strtod(fld[3], NULL);
        n++;
    }
    fclose(f);
    return n;
}

static void unit_gallery(FILE *f, const char *exp_dir, const ReportUnit *u)
{
    char rel[256];
    if (u->k == 0) snprintf(rel, sizeof rel, "%s/%s/k0", u->dataset, u->category);
    else snprintf(rel, sizeof rel, "%s/%s/k%d_s%d", u->dataset, u->category, u->k, u->seed);
    char *dir = xasprintf("%s/%s", exp_dir, rel);
    Shot shots[64];
    int n = read_index(dir, shots, 64);
    qsort(shots, (size_t)n, sizeof *shots, cmp_shot);
    fprintf(f, "<h4>%s</h4>\n", u->k == 0 ? "zero-shot" : "few-shot");
    if (u->k > 0) fprintf(f, "<p>K = %d, seed %d</p>\n", u->k, u->seed);
    if (!n) fputs("<p>No overlays/index.tsv in this unit (computed by an older winclip?).</p>\n", f);
    for (int label = 0; label <= 1; label++) {
        fprintf(f, "<div class=\"row\"><p class=\"what\">%s</p>\n",
                label ? "lowest-scoring defective images (likely misses)"
                      : "highest-scoring normal images (likely false alarms)");
        for (int i = 0; i < n; i++) {
            if (shots[i].label != label) continue;
            char *png = xasprintf("%s/overlays/%s", dir, shots[i].png);
            int have = fs_is_file(png);
            free(png);
            if (!have) continue;
            fputs("<figure><img src=\"", f);
            esc(f, rel);
            fputs("/overlays/", f);
            esc(f, shots[i].png);
            fputs("\" alt=\"", f);
            esc(f, shots[i].name);
            fputs("\"><figcaption>", f);
            esc(f, shots[i].name);
            fprintf(f, "<br>score %.4f</figcaption></figure>\n", shots[i].score);
        }
        fputs("</div>\n", f);
    }
    free(dir);
}

static const char *const STYLE =
    "body{font-family:sans-serif;margin:1.5em;color:#222;background:#fff}"
    "table{border-collapse:collapse;margin:0.5em 0 1.5em}td,th{border:1px solid #bbb;padding:2px 8px;text-align:right}"
    "td:first-child,th:first-child{text-align:left}th{background:#e8eef7}"
    "figure{display:inline-block;margin:4px;vertical-align:top;text-align:center;font-size:small}"
    "figure img{max-width:260px;border:1px solid #ccc}figure.plot img{max-width:480px}"
    ".what{font-weight:bold;margin:0.3em 0}.masks{background:#f6f6e8;padding:0.5em}";

int report_write_html(const ReportExperiment *e, const char *root, Error *err)
{
    char *exp_dir = xasprintf("%s/%s", root, e->name);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    CHECK(f != NULL);
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
          "<link rel=\"icon\" href=\"data:,\"><title>", f);
    esc(f, e->title);
    fprintf(f, "</title><style>%s</style></head><body>\n<!-- generated by `winclip report`; do not edit -->\n<h1>", STYLE);
    esc(f, e->title);
    fputs("</h1>\n<p>Experiment <code>", f);
    esc(f, e->name);
    fprintf(f, "</code>, %d finished units. Images are files of this folder (relative links).</p>\n", e->n_units);
    mask_note(f, e);
    fputs("<h2>Summary</h2>\n", f);
    summary_tables(f, exp_dir);
    fputs("<h2>Figures</h2>\n", f);
    figures(f, exp_dir);
    fputs("<h2>Per category: overlays</h2>\n", f);
    for (int i = 0; i < e->n_units; i++) {
        const ReportUnit *u = &e->units[i];
        int first = 1;
        for (int j = 0; j < i && first; j++)
            first = strcmp(e->units[j].dataset, u->dataset) || strcmp(e->units[j].category, u->category);
        if (!first) continue;
        fputs("<h3>", f);
        esc(f, u->dataset);
        fputs(" / ", f);
        esc(f, u->category);
        fputs("</h3>\n", f);
        for (int j = i; j < e->n_units; j++)
            if (!strcmp(e->units[j].dataset, u->dataset) && !strcmp(e->units[j].category, u->category))
                unit_gallery(f, exp_dir, &e->units[j]);
    }
    fputs("</body></html>\n", f);
    fclose(f);
    char *path = xasprintf("%s/index.html", exp_dir);
    int rc = fs_write_atomic(path, text, len, err);
    free(path);
    free(text);
    free(exp_dir);
    return rc;
}
