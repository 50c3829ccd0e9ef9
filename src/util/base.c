/*
 * base.c - Error helpers, abort-on-OOM allocation, CHECK, clock and peak-RSS.
 *
 * Reference: shared/spec/conventions.md §2.8.
 */
#define _POSIX_C_SOURCE 200809L
#include "util/base.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

int err_setf(Error *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->code = code;
    }
    return code;
}

int err_prefixf(Error *err, const char *fmt, ...)
{
    if (!err) return ERR_INTERNAL;
    char prefix[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    size_t plen = strlen(prefix), cap = sizeof err->msg;
    if (plen >= cap) plen = cap - 1;
    size_t olen = strnlen(err->msg, cap - 1);
    if (plen + olen >= cap) olen = cap - 1 - plen;
    memmove(err->msg + plen, err->msg, olen);
    memcpy(err->msg, prefix, plen);
    err->msg[plen + olen] = 0;
    if (err->code == 0) err->code = ERR_INTERNAL;
    return err->code;
}

const char *err_name(int code)
{
    switch (code) {
    case ERR_OK: return "ok";
    case ERR_IO: return "I/O error";
    case ERR_FORMAT: return "format error";
    case ERR_SHAPE: return "shape error";
    case ERR_VALUE: return "value error";
    case ERR_USAGE: return "usage error";
    case ERR_UNSUPPORTED: return "unsupported";
    case ERR_NETWORK: return "network error";
    case ERR_MISSING: return "missing";
    default: return "internal error";
    }
}

static void oom(size_t size)
{
    fprintf(stderr, "winclip: out of memory allocating %zu bytes\n", size);
    abort();
}

void *xmalloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (!p) oom(size);
    return p;
}

void *xcalloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p) oom(count * size);
    return p;
}

void *xrealloc(void *ptr, size_t size)
{
    void *p = realloc(ptr, size ? size : 1);
    if (!p) oom(size);
    return p;
}

char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = xmalloc(n);
    memcpy(p, s, n);
    return p;
}

char *xasprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    CHECK(n >= 0);
    char *p = xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

void check_fail(const char *file, int line, const char *cond)
{
    fprintf(stderr, "winclip: internal check failed at %s:%d: %s\n", file, line, cond);
    abort();
}

double time_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

size_t mem_peak_rss(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
    return (size_t)ru.ru_maxrss * 1024u; /* Linux reports KiB */
}
