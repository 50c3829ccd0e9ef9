/*
 * test_util.c - see test_util.h.
 */
#define _GNU_SOURCE
#include "test_util.h"

#include <check.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef SHARED_DIR
#define SHARED_DIR "../shared"
#endif
#ifndef WINCLIP_BIN
#define WINCLIP_BIN "build/winclip"
#endif

const char *test_shared_dir(void)
{
    const char *env = getenv("WINCLIP_SHARED");
    return env && *env ? env : SHARED_DIR;
}

int test_require_fixtures(void)
{
    const char *env = getenv("WINCLIP_REQUIRE_FIXTURES");
    return env && strcmp(env, "1") == 0;
}

/* The skip log: an unlinked temp file opened O_APPEND by the runner before any test forks, so
 * every forked test (and an in-process one under CK_FORK=no) appends to the same file. */
static int skip_fd = -1;

void test_skips_begin(void)
{
    FILE *fp = tmpfile();
    if (!fp) {
        perror("test_skips_begin: tmpfile");
        abort();
    }
    skip_fd = dup(fileno(fp));
    fclose(fp);
    if (skip_fd < 0 || fcntl(skip_fd, F_SETFL, O_APPEND) != 0) {
        perror("test_skips_begin");
        abort();
    }
}

/* One line "<pid> <test name>" per skip; one O_APPEND write each, so lines never interleave. */
static void skip_record(void)
{
    if (skip_fd < 0) return;
    const char *name = tcase_name();
    char line[256];
    int n = snprintf(line, sizeof line, "%ld %s\n", (long)getpid(), name ? name : "?");
    if (n > 0 && (size_t)n < sizeof line && write(skip_fd, line, (size_t)n) != n) perror("skip log");
}

static int cmp_line(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int test_skips_end(void)
{
    if (skip_fd < 0) return 0;
    off_t len = lseek(skip_fd, 0, SEEK_END);
    if (len < 0 || lseek(skip_fd, 0, SEEK_SET) != 0) return -1;
    char *text = malloc((size_t)len + 1);
    if (!text || read(skip_fd, text, (size_t)len) != (ssize_t)len) {
        free(text);
        return -1;
    }
    text[len] = 0;
    close(skip_fd);
    skip_fd = -1;
    /* distinct lines = distinct (process, test): a test that misses several fixtures counts once */
    size_t n = 0, cap = 16;
    char **lines = malloc(cap * sizeof *lines);
    for (char *save = NULL, *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        if (n == cap) lines = realloc(lines, (cap *= 2) * sizeof *lines);
        lines[n++] = l;
    }
    qsort(lines, n, sizeof *lines, cmp_line);
    int distinct = 0;
    for (size_t i = 0; i < n; i++) distinct += i == 0 || strcmp(lines[i], lines[i - 1]) != 0;
    free(lines);
    free(text);
    return distinct;
}

int test_shared_path(char *buf, size_t cap, const char *rel)
{
    snprintf(buf, cap, "%s/%s", test_shared_dir(), rel);
    struct stat st;
    if (stat(buf, &st) == 0) return 1;
    if (test_require_fixtures())
        ck_abort_msg("fixture missing: %s (WINCLIP_REQUIRE_FIXTURES=1; set WINCLIP_SHARED)", buf);
    printf("SKIP %s: shared folder not found at %s (set WINCLIP_SHARED)\n", rel, test_shared_dir());
    fflush(stdout);
    skip_record();
    return 0;
}

static int report(double maxdiff, size_t bad, size_t nbad, double g, double w, double tol, const char *label, size_t n)
{
    if (nbad == 0) return 1;
    printf("%s: maxdiff %.3g > tol %.3g over %zu values; %zu bad, first at [%zu]: got %.9g want %.9g\n", label, maxdiff, tol, n,
           nbad, bad, g, w);
    return 0;
}

int test_allclose(const float *got, const float *want, size_t n, double tol, const char *label)
{
    double maxdiff = 0;
    size_t bad = 0, nbad = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - (double)want[i]);
        if (isnan(d)) d = INFINITY;
        if (d > maxdiff) maxdiff = d;
        if (d > tol && nbad++ == 0) bad = i;
    }
    if (nbad == 0 && getenv("WINCLIP_TEST_VERBOSE")) printf("%s: maxdiff %.3g\n", label, maxdiff);
    return report(maxdiff, bad, nbad, n ? got[bad] : 0, n ? want[bad] : 0, tol, label, n);
}

int test_allclose_f64(const double *got, const double *want, size_t n, double tol, const char *label)
{
    double maxdiff = 0;
    size_t bad = 0, nbad = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs(got[i] - want[i]);
        if (isnan(d)) d = INFINITY;
        if (d > maxdiff) maxdiff = d;
        if (d > tol && nbad++ == 0) bad = i;
    }
    if (nbad == 0 && getenv("WINCLIP_TEST_VERBOSE")) printf("%s: maxdiff %.3g\n", label, maxdiff);
    return report(maxdiff, bad, nbad, n ? got[bad] : 0, n ? want[bad] : 0, tol, label, n);
}

char *test_mkdtemp(void)
{
    const char *base = getenv("TMPDIR");
    char *path = NULL;
    if (asprintf(&path, "%s/winclip-test-XXXXXX", base && *base ? base : "/tmp") < 0) abort();
    if (!mkdtemp(path)) abort();
    return path;
}

void test_rmtree(const char *path)
{
    if (!path || !*path || strcmp(path, "/") == 0) return;
    char *cmd = NULL;
    if (asprintf(&cmd, "rm -rf '%s'", path) < 0) abort();
    if (system(cmd) != 0) fprintf(stderr, "warning: could not remove %s\n", path);
    free(cmd);
}

char *test_tmp;

void test_tmp_setup(void)
{
    test_tmp = test_mkdtemp();
}

void test_tmp_teardown(void)
{
    test_rmtree(test_tmp);
    free(test_tmp);
    test_tmp = NULL;
}

int test_count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    closedir(d);
    return n;
}

int test_write_file(const char *path, const void *data, size_t len)
{
    FILE *fp = fopen(path, "wb");
    if (!fp) return -1;
    size_t w = fwrite(data, 1, len, fp);
    return fclose(fp) == 0 && w == len ? 0 : -1;
}

char *test_read_file(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    size_t r;
    while ((r = fread(buf + n, 1, cap - n - 1, fp)) > 0) {
        n += r;
        if (cap - n - 1 == 0) buf = realloc(buf, cap *= 2);
    }
    fclose(fp);
    buf[n] = 0;
    if (len) *len = n;
    return buf;
}

const char *test_winclip_bin(void)
{
    const char *env = getenv("WINCLIP_BIN");
    return env && *env ? env : WINCLIP_BIN;
}

int test_run_winclip(const char *args, char **out, char **errout)
{
    char *dir = test_mkdtemp();
    char *cmd = NULL;
    if (asprintf(&cmd, "%s %s >'%s/out' 2>'%s/err' </dev/null", test_winclip_bin(), args, dir, dir) < 0) abort();
    int st = system(cmd);
    free(cmd);
    char *p = NULL;
    if (asprintf(&p, "%s/out", dir) < 0) abort();
    if (out) *out = test_read_file(p, NULL);
    free(p);
    if (asprintf(&p, "%s/err", dir) < 0) abort();
    if (errout) *errout = test_read_file(p, NULL);
    free(p);
    test_rmtree(dir);
    free(dir);
    if (st == -1) return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
