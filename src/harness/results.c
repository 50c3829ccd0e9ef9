/*
 * results.c - atomic writers for one evaluation unit's files (see results.h).
 *
 * Does: temp-file + fsync + rename for every file so an interrupted run never leaves a
 * half-written file under its final name; the `done` marker last.
 * Does not: compute anything; it formats what the pipeline hands over.
 * Reference: shared/spec/conventions.md §2.14.
 */
#define _XOPEN_SOURCE 700
#include "harness/results.h"

#include "util/fsutil.h"
#include "clip/gemm.h"
#include "util/h5.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef WINCLIP_VERSION
#define WINCLIP_VERSION "unknown"
#endif
#ifndef WINCLIP_CFLAGS
#define WINCLIP_CFLAGS "unknown"
#endif




/* ---- units ---- */

char *results_unit_dir(const char *root, const char *experiment, const char *dataset, const char *category,
                       int k_shot, int seed)
{
    if (k_shot == 0) return xasprintf("%s/%s/%s/%s/k0", root, experiment, dataset, category);
    return xasprintf("%s/%s/%s/%s/k%d_s%d", root, experiment, dataset, category, k_shot, seed);
}

int results_is_done(const char *dir)
{
    char *p = xasprintf("%s/done", dir);
    int ok = access(p, F_OK) == 0;
    free(p);
    return ok;
}

int results_mark_done(const char *dir, Error *err)
{
    char *p = xasprintf("%s/done", dir);
    int rc = fs_write_atomic(p, "done\n", 5, err);
    free(p);
    return rc;
}

/* ---- per-unit files ---- */

/* Open dir/name atomically; on failure err names the file. */
static int open_in(AtomicFile *af, const char *dir, const char *name, Error *err)
{
    char *p = xasprintf("%s/%s", dir, name);
    int rc = fsutil_atomic_open(af, p, err);
    free(p);
    return rc;
}

int results_write_scores(const char *dir, int n, const char *const *paths, const int *labels, const float *scores,
                         Error *err)
{
    AtomicFile af;
    if (open_in(&af, dir, "scores.tsv", err)) return err->code;
    fprintf(af.f, "path\tlabel\tscore\n");
    for (int i = 0; i < n; i++) fprintf(af.f, "%s\t%d\t%.9g\n", paths[i], labels[i], (double)scores[i]);
    return fsutil_atomic_commit(&af, err);
}

void results_metric_add(MetricSet *m, const char *name, double value)
{
    CHECK(m->n < RESULTS_MAX_METRICS);
    CHECK(strlen(name) < sizeof m->names[0]);
    snprintf(m->names[m->n], sizeof m->names[0], "%s", name);
    m->values[m->n++] = value;
}

double results_metric_get(const MetricSet *m, const char *name)
{
    for (int i = 0; i < m->n; i++)
        if (strcmp(m->names[i], name) == 0) return m->values[i];
    return NAN;
}

int results_write_metrics(const char *dir, const MetricSet *m, Error *err)
{
    AtomicFile af;
    if (open_in(&af, dir, "metrics.tsv", err)) return err->code;
    fprintf(af.f, "metric\tvalue\n");
    for (int i = 0; i < m->n; i++) {
        if (isnan(m->values[i]))
            fprintf(af.f, "%s\tnan\n", m->names[i]);
        else
            fprintf(af.f, "%s\t%.17g\n", m->names[i], m->values[i]);
    }
    if (fsutil_atomic_commit(&af, err)) return err->code;
    if (open_in(&af, dir, "metrics.json", err)) return err->code;
    fputs("{", af.f);
    for (int i = 0; i < m->n; i++) {
        if (isfinite(m->values[i]))
            fprintf(af.f, "%s\n  \"%s\": %.17g", i ? "," : "", m->names[i], m->values[i]);
        else
            fprintf(af.f, "%s\n  \"%s\": null", i ? "," : "", m->names[i]);
    }
    fputs("\n}\n", af.f);
    return fsutil_atomic_commit(&af, err);
}

int results_read_metrics(const char *path, MetricSet *m, Error *err)
{
    memset(m, 0, sizeof *m);
    FILE *f = fopen(path, "r");
    if (!f) return err_setf(err, ERR_MISSING, "cannot open %s: %s", path, strerror(errno));
    char line[256];
    int line_no = 0, rc = 0;
    while (fgets(line, sizeof line, f)) {
        line_no++;
        line[strcspn(line, "\r\n")] = 0;
        if (line_no == 1) {
            if (strcmp(line, "metric\tvalue") != 0) {
                rc = err_setf(err, ERR_FORMAT, "%s:1: expected header 'metric<TAB>value', found '%s'", path, line);
                break;
            }
            continue;
        }
        if (!line[0]) continue;
        char *tab = strchr(line, '\t');
        char *end = NULL;
        double v = NAN;
        if (tab) {
            *tab = 0;
            if (strcmp(tab + 1, "nan") == 0)
                end = tab + 4;
            else
                v = strtod(tab + 1, &end);
        }
        if (!tab || !end || *end || !line[0] || strlen(line) >= sizeof m->names[0] ||
            m->n >= RESULTS_MAX_METRICS) {
            rc = err_setf(err, ERR_FORMAT, "%s:%d: expected 'name<TAB>number'", path, line_no);
            break;
        }
        results_metric_add(m, line, v);
    }
    if (!rc && line_no == 0) rc = err_setf(err, ERR_FORMAT, "%s: empty file", path);
    fclose(f);
    return rc;
}

int results_write_config(const char *dir, const Config *cfg, Error *err)
{
    AtomicFile af;
    if (open_in(&af, dir, "config.resolved", err)) return err->code;
    if (config_write_resolved(cfg, af.f, err)) {
        fsutil_atomic_discard(&af);
        return err->code;
    }
    return fsutil_atomic_commit(&af, err);
}

int results_write_references(const char *dir, int n, const char *const *paths, Error *err)
{
    AtomicFile af;
    if (open_in(&af, dir, "references.txt", err)) return err->code;
    for (int i = 0; i < n; i++) fprintf(af.f, "%s\n", paths[i]);
    return fsutil_atomic_commit(&af, err);
}

static void env_or(FILE *f, const char *name)
{
    const char *v = getenv(name);
    fprintf(f, "%s=%s", name, v && *v ? v : "(unset)");
}

int results_write_provenance(const char *dir, const Provenance *p, Error *err)
{
    AtomicFile af;
    if (open_in(&af, dir, "provenance.txt", err)) return err->code;
    const char *ver = WINCLIP_VERSION;
    size_t vl = strlen(ver);
    int dirty = vl >= 6 && strcmp(ver + vl - 6, "-dirty") == 0;
    FILE *f = af.f;
    fprintf(f, "version: %s\n", ver);
    fprintf(f, "dirty: %s\n", dirty ? "yes" : "no");
#ifdef __VERSION__
    fprintf(f, "compiler: %s\n", __VERSION__);
#else
    fprintf(f, "compiler: unknown\n");
#endif
    fprintf(f, "cflags: %s\n", WINCLIP_CFLAGS);
    fprintf(f, "gemm: %s\n", gemm_backend());
    fprintf(f, "blas_threads: ");
    env_or(f, "OPENBLAS_NUM_THREADS");
    fputc(' ', f);
    env_or(f, "OMP_NUM_THREADS");
    fprintf(f, " (cpus online %ld)\n", sysconf(_SC_NPROCESSORS_ONLN));
    fprintf(f, "experiment: %s\n", p->experiment ? p->experiment : "");
    fprintf(f, "dataset: %s\n", p->dataset ? p->dataset : "");
    fprintf(f, "category: %s\n", p->category ? p->category : "");
    fprintf(f, "k_shot: %d\n", p->k_shot);
    fprintf(f, "seed: %d\n", p->seed);
    fprintf(f, "weights: %s\n", p->weights_path ? p->weights_path : "");
    fprintf(f, "weights_sha256: %s\n", p->weights_sha256 ? p->weights_sha256 : "unknown");
    fprintf(f, "settings_hash: %s\n", p->settings_hash ? p->settings_hash : "unknown");
    fprintf(f, "wall_time_s: %.3f\n", p->wall_time_s);
    char date[64];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", &tm);
    fprintf(f, "date: %s\n", date);
    return fsutil_atomic_commit(&af, err);
}

int results_write_maps(const char *dir, int n, int h, int w, const float *scores, const float *maps,
                       const uint8_t *masks, const int *labels, const char *const *paths, Error *err)
{
    char *final = xasprintf("%s/maps.h5", dir);
    char *tmp = fs_temp_reserve(final, err);
    if (!tmp) {
        free(final);
        return ERR_IO;
    }
    H5File f = {0};
    int64_t *lab = xmalloc((size_t)(n ? n : 1) * sizeof *lab);
    for (int i = 0; i < n; i++) lab[i] = labels[i];
    int64_t d1[1] = {n}, d3[3] = {n, h, w};
    int rc = h5_create(&f, tmp, err);
    if (!rc) rc = h5_write_f32(&f, "scores", scores, 1, d1, err);
    if (!rc) rc = h5_write_f32(&f, "maps", maps, 3, d3, err);
    if (!rc) rc = h5_write_u8(&f, "masks", masks, 3, d3, err);
    if (!rc) rc = h5_write_i64(&f, "labels", lab, 1, d1, err);
    if (!rc && paths) rc = h5_write_strings(&f, "paths", paths, (size_t)n, err);
    if (!rc) rc = h5_flush(&f, err);
    h5_close(&f);
    free(lab);
    if (!rc) rc = fs_rename_durable(tmp, final, err);
    if (rc) {
        unlink(tmp);
        err_prefixf(err, "writing %s: ", final);
    }
    free(final);
    free(tmp);
    return rc;
}
