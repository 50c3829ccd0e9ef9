/*
 * score_io.c - inputs, thresholds and output files of `winclip score --out` (see score_io.h).
 */
#define _POSIX_C_SOURCE 200809L
#include "harness/score_io.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness/results.h"
#include "util/fsutil.h"
#include "util/imghdr.h"

typedef struct {
    char **v;
    size_t n, cap;
} StrList;

static void push(StrList *l, char *s)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 64;
        l->v = xrealloc(l->v, l->cap * sizeof *l->v);
    }
    l->v[l->n++] = s;
}

/* Images of dir and its sub-folders, sorted (files of a folder, then its sub-folders in order). */
static int walk(StrList *l, const char *dir, int depth, Error *err)
{
    if (depth > 32) return err_setf(err, ERR_FORMAT, "%s: folders nested more than 32 deep", dir);
    char **names = NULL;
    size_t n = 0;
    if (fs_list(dir, FS_LIST_IMAGES, &names, &n, err) != 0) return err->code;
    for (size_t i = 0; i < n; i++) push(l, xasprintf("%s/%s", dir, names[i]));
    fs_list_free(names, n);
    if (fs_list(dir, FS_LIST_DIRS, &names, &n, err) != 0) return err->code;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        char *sub = xasprintf("%s/%s", dir, names[i]);
        rc = walk(l, sub, depth + 1, err);
        free(sub);
    }
    fs_list_free(names, n);
    return rc;
}

static int is_list_name(const char *p)
{
    size_t n = strlen(p);
    return (n > 4 && (!strcmp(p + n - 4, ".csv") || !strcmp(p + n - 4, ".txt")));
}

static int read_list(StrList *l, const char *list, Error *err)
{
    FILE *f = fopen(list, "rb");
    if (!f) return err_setf(err, ERR_IO, "%s: cannot open the image list", list);
    const char *slash = strrchr(list, '/');
    char *base = slash ? xasprintf("%.*s", (int)(slash - list), list) : xstrdup(".");
    char *line = NULL;
    size_t cap = 0, lineno = 0, before = l->n;
    ssize_t len;
    int rc = 0;
    while (rc == 0 && (len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = 0;
        if (!len || line[0] == '#') continue;
        line[strcspn(line, ",")] = 0;
        if (lineno == 1 && !strcmp(line, "path")) continue;
        if (!fs_path_is_inside(line))
            rc = err_setf(err, ERR_FORMAT, "%s:%zu: field 'path' = '%s': expected a relative path inside %s (no "
                          "leading '/', no '..')", list, lineno, line, base);
        else push(l, xasprintf("%s/%s", base, line));
    }
    free(line);
    fclose(f);
    if (rc == 0 && l->n == before) rc = err_setf(err, ERR_FORMAT, "%s: no image paths", list);
    free(base);
    return rc;
}

int score_inputs_expand(const char *const *args, int n_args, char ***paths, size_t *n, Error *err)
{
    StrList l = {0};
    int rc = 0;
    for (int i = 0; i < n_args && rc == 0; i++) {
        const char *a = args[i];
        if (fs_is_dir(a)) {
            size_t before = l.n;
            rc = walk(&l, a, 0, err);
            if (rc == 0 && l.n == before) rc = err_setf(err, ERR_MISSING, "%s: folder holds no .png/.jpg/.jpeg/.bmp image", a);
        } else if (!fs_is_file(a)) {
            rc = err_setf(err, ERR_MISSING, "%s: no such image, folder or list", a);
        } else if (is_list_name(a)) {
            rc = read_list(&l, a, err);
        } else {
            push(&l, xstrdup(a));
        }
    }
    if (rc != 0) {
        fs_list_free(l.v, l.n);
        return rc;
    }
    *paths = l.v;
    *n = l.n;
    return 0;
}

int score_inputs_validate(char *const *paths, size_t n, Error *err)
{
    char msg[sizeof err->msg];
    size_t used = 0, bad = 0, shown = 0;
    msg[0] = 0;
    for (size_t i = 0; i < n; i++) {
        Error e = {0};
        if (imghdr_decode("image", paths[i], &e) == 0) continue;
        bad++;
        if (used + strlen(e.msg) + 64 < sizeof msg) {
            used += (size_t)snprintf(msg + used, sizeof msg - used, "\n  %s", e.msg);
            shown++;
        }
    }
    if (!bad) return 0;
    if (shown < bad) snprintf(msg + used, sizeof msg - used, "\n  ... and %zu more", bad - shown);
    return err_setf(err, ERR_FORMAT, "%zu of %zu input image%s cannot be read (nothing was scored):%s", bad, n,
                    n == 1 ? "" : "s", msg);
}

void score_thresholds_init(ScoreThresholds *t)
{
    memset(t, 0, sizeof *t);
    t->image = t->pixel = t->image_f1 = t->pixel_f1 = NAN;
}

void score_thresholds_free(ScoreThresholds *t)
{
    free(t->run_settings);
    score_thresholds_init(t);
}

int score_thresholds_from_run(ScoreThresholds *t, const char *run_dir, Error *err)
{
    size_t n = strlen(run_dir);
    int is_file = n > 4 && !strcmp(run_dir + n - 4, ".tsv") && fs_is_file(run_dir);
    char *dir = is_file ? (strrchr(run_dir, '/') ? xasprintf("%.*s", (int)(strrchr(run_dir, '/') - run_dir), run_dir)
                                                 : xstrdup("."))
                        : xstrdup(run_dir);
    char *path = is_file ? xstrdup(run_dir) : xasprintf("%s/metrics.tsv", run_dir);
    MetricSet m;
    int rc = results_read_metrics(path, &m, err);
    if (rc == ERR_MISSING)
        err_setf(err, ERR_MISSING, "--threshold-from %s: no metrics.tsv (expected a unit folder of `winclip run`, "
                 "e.g. results/<experiment>/<dataset>/<category>/k0)", run_dir);
    if (rc == 0) {
        t->image = results_metric_get(&m, "image_f1_threshold");
        t->pixel = results_metric_get(&m, "pixel_f1_threshold");
        t->image_f1 = results_metric_get(&m, "image_f1max");
        t->pixel_f1 = results_metric_get(&m, "pixel_f1max");
        snprintf(t->source, sizeof t->source, "%s (F1-max thresholds of that run)", path);
        if (isnan(t->image))
            rc = err_setf(err, ERR_VALUE, "%s: image_f1_threshold is not available", path);
        snprintf(t->run_dir, sizeof t->run_dir, "%s", dir);
        char *st = xasprintf("%s/settings.txt", dir);
        t->run_settings = results_read_text(st);
        free(st);
    }
    free(path);
    free(dir);
    return rc;
}

static void put_value(FILE *f, const char *key, double v)
{
    if (isnan(v)) fprintf(f, "%s = n/a\n", key);
    else fprintf(f, "%s = %.9g\n", key, v);
}

int score_write_threshold_file(const char *dir, const ScoreThresholds *t, Error *err)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    CHECK(f != NULL);
    put_value(f, "image_threshold", t->image);
    put_value(f, "pixel_threshold", t->pixel);
    fprintf(f, "source = %s\n", t->source);
    put_value(f, "image_f1max", t->image_f1);
    put_value(f, "pixel_f1max", t->pixel_f1);
    fprintf(f, "rule = anomalous when score >= image_threshold; mask pixel = 255 when map >= pixel_threshold\n");
    fclose(f);
    char *path = xasprintf("%s/threshold.txt", dir);
    int rc = fs_write_atomic(path, text, len, err);
    free(path);
    free(text);
    return rc;
}

void score_csv_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\n\r")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (const char *c = s; *c; c++) {
        if (*c == '"') fputc('"', f);
        fputc(*c, f);
    }
    fputc('"', f);
}

int score_write_mask(const char *png_path, const float *map, int w, int h, double threshold, Error *err)
{
    size_t n = (size_t)w * (size_t)h;
    uint8_t *px = xmalloc(n);
    for (size_t i = 0; i < n; i++) px[i] = (double)map[i] >= threshold ? 255 : 0;
    int rc = fs_write_png(png_path, w, h, 1, px, err);
    free(px);
    return rc;
}

int score_adopt_run_settings(const ScoreThresholds *t, const char *category, WinclipSettings *s)
{
    if (!t->run_settings) return 0;
    int run_k = 0, same_category = 0;
    char *text = xstrdup(t->run_settings), *word = NULL;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        char *eq = strstr(line, " = ");
        if (!eq) continue;
        *eq = 0;
        const char *value = eq + 3;
        Error ignore = {0};
        if (!strcmp(line, "k_shot")) run_k = atoi(value);
        else if (!strcmp(line, "category")) same_category = !strcmp(value, category);
        else if (!strcmp(line, "class_word")) word = eq + 3;
        else if (strcmp(line, "class_name") != 0) winclip_settings_set(s, line, value, &ignore); /* others: not method keys */
    }
    if (same_category && word) snprintf(s->class_name, sizeof s->class_name, "%s", word);
    free(text);
    return run_k;
}

int score_check_run_settings(const ScoreThresholds *t, const WinclipSettings *s, const char *weights_sha256,
                             const char *run_label, Error *err)
{
    if (!t->run_settings) return 0;
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    CHECK(mem != NULL);
    winclip_settings_write(s, mem);
    fprintf(mem, "model_sha256 = %s\n", weights_sha256);
    fclose(mem);
    const char *skip[16];
    int n = 0;
    for (const char *const *k = RESULTS_PER_UNIT_KEYS; *k && n < 14; k++) skip[n++] = *k;
    skip[n++] = "dataset";
    skip[n] = NULL;
    char *diff = results_settings_diff(t->run_settings, text, skip);
    free(text);
    if (!diff) return 0;
    err_setf(err, ERR_USAGE, "--threshold-from %s: that run used other settings (%s): its thresholds do not apply; "
             "score with the same --config / --set / model (and as many --ref)", run_label, diff);
    free(diff);
    return err->code;
}
