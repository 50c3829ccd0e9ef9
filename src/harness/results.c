/*
 * results.c - atomic writers for one evaluation unit's files (see results.h).
 *
 * Does: temp-file + fsync + rename for every file so an interrupted run never leaves a
 * half-written file under its final name; the `done` marker last.
 * Does not: compute anything; it formats what the pipeline hands over.
 * Reference: shared/spec/conventions.md §2.14.
 */
#define _XOPEN_SOURCE 700
#define _DEFAULT_SOURCE
#include "harness/results.h"

#include "util/fsutil.h"
#include "clip/gemm.h"
#include "clip/numerics.h"
#include "util/h5.h"
#include "util/sha256.h"

#include <dirent.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
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

static int cmp_strp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

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

const char *const RESULTS_PER_UNIT_KEYS[] = {"category", "class_name", "class_word", "seed", "references",
                                             "extra_anomalous_states", NULL};

/* ---- the done marker: settings hash + size and sha256 of every file of the unit ---- */

/* Append "file: SIZE SHA256 REL\n" for every regular, non-hidden file under dir/rel (one level of
 * sub-folders, e.g. overlays/), except done itself. */
static int list_unit_files(const char *dir, const char *rel, char **text, size_t *len, Error *err)
{
    char *folder = rel[0] ? xasprintf("%s/%s", dir, rel) : xstrdup(dir);
    DIR *d = opendir(folder);
    if (!d) {
        err_setf(err, ERR_IO, "cannot list %s: %s", folder, strerror(errno));
        free(folder);
        return ERR_IO;
    }
    char **names = NULL;
    size_t n = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.' || (!rel[0] && strcmp(e->d_name, "done") == 0)) continue;
        names = xrealloc(names, (n + 1) * sizeof *names);
        names[n++] = xstrdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp_strp);
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        char *full = xasprintf("%s/%s", folder, names[i]);
        char *name = rel[0] ? xasprintf("%s/%s", rel, names[i]) : xstrdup(names[i]);
        struct stat st;
        char hex[65];
        if (stat(full, &st) != 0) rc = err_setf(err, ERR_IO, "cannot stat %s: %s", full, strerror(errno));
        else if (S_ISDIR(st.st_mode)) rc = rel[0] ? 0 : list_unit_files(dir, name, text, len, err);
        else if (!(rc = sha256_file(full, hex, err))) {
            char *line = xasprintf("file: %lld %s %s\n", (long long)st.st_size, hex, name);
            size_t ll = strlen(line);
            *text = xrealloc(*text, *len + ll + 1);
            memcpy(*text + *len, line, ll + 1);
            *len += ll;
            free(line);
        }
        free(full);
        free(name);
    }
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
    free(folder);
    return rc;
}

int results_mark_done(const char *dir, const char *settings_hash, Error *err)
{
    char *text = xasprintf("done\nsettings_hash: %s\n", settings_hash);
    size_t len = strlen(text);
    int rc = list_unit_files(dir, "", &text, &len, err);
    char *p = xasprintf("%s/done", dir);
    if (!rc) rc = fs_write_atomic(p, text, len, err);
    free(p);
    free(text);
    return rc;
}

/* One "file: SIZE SHA NAME" line of a done marker checked against dir; 0 or why in why. */
static int check_done_line(const char *dir, const char *line, char *why, size_t cap)
{
    long long size = -1;
    char hex[65] = "", name[512] = "";
    if (sscanf(line, "file: %lld %64s %511s", &size, hex, name) != 3 || !fs_path_is_inside(name)) {
        snprintf(why, cap, "its done marker has a bad line '%.80s'", line);
        return 1;
    }
    char *full = xasprintf("%s/%s", dir, name);
    struct stat st;
    char have[65];
    Error e = {0};
    int bad = 1;
    if (stat(full, &st) != 0) snprintf(why, cap, "%s is missing", name);
    else if ((long long)st.st_size != size) snprintf(why, cap, "%s has %lld bytes, %lld when finished", name,
                                                     (long long)st.st_size, size);
    else if (sha256_file(full, have, &e) != 0) snprintf(why, cap, "%s: %s", name, e.msg);
    else if (strcmp(have, hex) != 0) snprintf(why, cap, "%s changed since it was written (sha256 differs)", name);
    else bad = 0;
    free(full);
    return bad;
}

ResultsUnitState results_check_done(const char *dir, char settings_hash[65], char *why, size_t cap)
{
    settings_hash[0] = 0;
    why[0] = 0;
    char *p = xasprintf("%s/done", dir);
    FILE *f = fopen(p, "r");
    free(p);
    if (!f) return RESULTS_UNIT_NEW;
    char line[1024];
    int n_files = 0, bad = 0;
    while (!bad && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = 0;
        if (strncmp(line, "settings_hash: ", 15) == 0) snprintf(settings_hash, 65, "%.64s", line + 15);
        else if (strncmp(line, "file: ", 6) == 0) bad = check_done_line(dir, line, why, cap), n_files++;
    }
    fclose(f);
    if (!bad && (n_files == 0 || strlen(settings_hash) != 64)) {
        snprintf(why, cap, "its done marker lists no files or no settings hash (written by an older winclip)");
        bad = 1;
    }
    return bad ? RESULTS_UNIT_BROKEN : RESULTS_UNIT_DONE;
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
        if (isnan(m->values[i])) /* not available (no masks) or undefined: never 0, never "nan" */
            fprintf(af.f, "%s\tn/a\n", m->names[i]);
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
            if (strcmp(tab + 1, "nan") == 0 || strcmp(tab + 1, "n/a") == 0)
                end = tab + 1 + strlen(tab + 1);
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
    char numerics[CLIP_NUMERICS_CAP];
    clip_numerics(numerics, sizeof numerics);
    fprintf(f, "numerics: %s\n", numerics);
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

/* ---- replacing a unit folder; stale temp files ---- */

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

void results_remove_folder(const char *path)
{
    nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int results_unit_commit(const char *tmp_dir, const char *dir, Error *err)
{
    char *old = NULL;
    if (fs_is_dir(dir)) {
        const char *base = fs_basename(dir);
        old = xasprintf("%.*s.%s.%ld.old", (int)(base - dir), dir, base, (long)getpid());
        if (rename(dir, old) != 0) {
            err_setf(err, ERR_IO, "rename %s -> %s failed: %s", dir, old, strerror(errno));
            free(old);
            return ERR_IO;
        }
    }
    int rc = 0;
    if (rename(tmp_dir, dir) != 0) {
        rc = err_setf(err, ERR_IO, "rename %s -> %s failed: %s", tmp_dir, dir, strerror(errno));
        if (old) (void)rename(old, dir);
    } else if (old) results_remove_folder(old);
    free(old);
    return rc;
}

char *results_unit_temp_dir(const char *dir)
{
    const char *base = fs_basename(dir);
    return xasprintf("%.*s.%s.%ld.new", (int)(base - dir), dir, base, (long)getpid());
}

/* The writer's pid of a temp name ".NAME.PID.SUFFIX", or 0 when name is not one. */
static long temp_owner(const char *name)
{
    if (name[0] != '.') return 0;
    const char *last = strrchr(name, '.');
    if (!last || last == name) return 0;
    const char *p = last;
    while (p > name + 1 && p[-1] >= '0' && p[-1] <= '9') p--;
    if (p == last || p[-1] != '.' || p - 1 == name) return 0;
    return strtol(p, NULL, 10);
}

int results_clean_temps(const char *folder)
{
    DIR *d = opendir(folder);
    if (!d) return 0;
    int removed = 0;
    for (struct dirent *e; (e = readdir(d));) {
        long pid = temp_owner(e->d_name);
        if (pid <= 0 || pid == (long)getpid()) continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue; /* running (or not ours to ask) */
        char *full = xasprintf("%s/%s", folder, e->d_name);
        results_remove_folder(full);
        struct stat st;
        removed += lstat(full, &st) != 0;
        free(full);
    }
    closedir(d);
    return removed;
}

char *results_read_text(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) return NULL;
    char *text = NULL;
    size_t len = 0, cap = 0, got;
    char buf[4096];
    while ((got = fread(buf, 1, sizeof buf, f)) > 0 && len < (1u << 24)) {
        if (len + got + 1 > cap) text = xrealloc(text, cap = 2 * (len + got + 1));
        memcpy(text + len, buf, got);
        len += got;
    }
    fclose(f);
    if (!text) text = xstrdup("");
    else text[len] = 0;
    return text;
}

/* The value of "key = value" line key in text, as a malloc'ed string; NULL when absent. */
static char *settings_value(const char *text, const char *key, size_t klen)
{
    for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
        if (strncmp(l, key, klen) == 0 && strncmp(l + klen, " = ", 3) == 0) {
            const char *v = l + klen + 3;
            return xasprintf("%.*s", (int)strcspn(v, "\n"), v);
        }
    return NULL;
}

/* Append "key old -> new" of every key of a missing or different in b (skip names in skip). */
static void diff_one_way(const char *a, const char *b, int reverse, const char *const *skip, char **out, size_t *len)
{
    for (const char *l = a; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        size_t klen = strcspn(l, " =\n");
        if (klen == 0 || l[klen] != ' ') continue;
        int skipped = 0;
        for (int i = 0; skip && skip[i]; i++) skipped |= strlen(skip[i]) == klen && strncmp(l, skip[i], klen) == 0;
        char *va = settings_value(a, l, klen), *vb = settings_value(b, l, klen);
        if (!skipped && (!vb || strcmp(va, vb) != 0) && !(reverse && vb)) {
            char *item = xasprintf("%s%.*s %s -> %s", *len ? ", " : "", (int)klen, l, reverse ? "(none)" : va,
                                   reverse ? va : vb ? vb : "(none)");
            size_t il = strlen(item);
            *out = xrealloc(*out, *len + il + 1);
            memcpy(*out + *len, item, il + 1);
            *len += il;
            free(item);
        }
        free(va);
        free(vb);
    }
}

char *results_settings_diff(const char *old_text, const char *new_text, const char *const *skip)
{
    char *out = NULL;
    size_t len = 0;
    diff_one_way(old_text, new_text, 0, skip, &out, &len);
    diff_one_way(new_text, old_text, 1, skip, &out, &len);
    return out;
}
