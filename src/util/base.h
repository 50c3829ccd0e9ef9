/*
 * base.h - error reporting, checked allocation and invariants shared by every module.
 *
 * Does: the Error struct filled at every boundary (files, HDF5, images, configs, datasets),
 * xmalloc-style wrappers that abort on out-of-memory, CHECK for programmer invariants.
 * Does not: print anything on its own (only main() and the CLI turn errors into messages).
 * Reference: shared/spec/conventions.md §2.8.
 *
 *     Error err = {0};
 *     if (h5_open_read(&f, path, &err) != 0) {
 *         fprintf(stderr, "winclip: %s\n", err.msg);
 *         return 1;
 *     }
 */
#ifndef WINCLIP_BASE_H
#define WINCLIP_BASE_H

#include <stddef.h>
#include <stdint.h>

/* ---- errors ---- */

enum {
    ERR_OK = 0,
    ERR_IO = -1,          /* cannot open, read or write a file            */
    ERR_FORMAT = -2,      /* file is not what it claims (bad header, ...)  */
    ERR_SHAPE = -3,       /* wrong rank or dimensions                      */
    ERR_VALUE = -4,       /* NaN/Inf, out-of-range or unparsable value     */
    ERR_USAGE = -5,       /* bad command line or config key                */
    ERR_UNSUPPORTED = -6, /* valid input this program does not handle      */
    ERR_NETWORK = -7,     /* download failed                               */
    ERR_MISSING = -8,     /* a required file, dataset or key is absent     */
    ERR_INTERNAL = -9
};

typedef struct {
    int code;       /* 0 or a negative ERR_* */
    char msg[1024]; /* what, where, expected vs found, and a hint */
} Error;

/* Fill err (if non-NULL) with a printf-style message; returns code so callers can
 * `return err_setf(err, ERR_IO, "...")`. */
int err_setf(Error *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Prepend context to an existing message ("loading model.h5: " + old message);
 * returns err->code (or ERR_INTERNAL when err is NULL). */
int err_prefixf(Error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Human name of an ERR_* code ("I/O error", ...). */
const char *err_name(int code);

/* ---- allocation (abort with a message on out-of-memory) ---- */

void *xmalloc(size_t size);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *ptr, size_t size);
char *xstrdup(const char *s);
/* malloc'ed printf. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- invariants ---- */

void check_fail(const char *file, int line, const char *cond) __attribute__((noreturn));
#define CHECK(cond) ((cond) ? (void)0 : check_fail(__FILE__, __LINE__, #cond))

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---- small helpers ---- */

/* Monotonic wall clock in seconds. */
double time_now(void);

/* Peak resident set size of this process in bytes (0 if unknown). */
size_t mem_peak_rss(void);

#endif
