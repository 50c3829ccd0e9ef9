/*
 * h5.h - the project's only door to HDF5: read and write typed datasets and string attributes.
 *
 * Does: open/create files, query shapes, read datasets into float/double/int64/uint8 buffers
 * (HDF5 converts other numeric types), read fixed- or variable-length string datasets and
 * attributes, write contiguous datasets (intermediate groups created) or checksummed chunked
 * ones (Fletcher-32), write string attributes.
 * Does not: know about models, caches or metrics (clip_weights.c, features.c, cmd_metrics.c).
 * Reference: HDF5 1.10 C API (H5F, H5D, H5S, H5T, H5A); shared/spec/clip.md §6.2.
 *
 *     H5File f = {0};
 *     if (h5_open_read(&f, "model.h5", &err)) return err.code;
 *     int rank; int64_t dims[H5_MAX_RANK];
 *     if (h5_shape(&f, "visual/proj", &rank, dims, &err)) goto fail;
 *     h5_close(&f);
 */
#ifndef WINCLIP_H5_H
#define WINCLIP_H5_H

#include "util/base.h"

#include <stddef.h>
#include <stdint.h>

#define H5_MAX_RANK 8

typedef struct {
    int64_t id;      /* hid_t of the open file, 0 when closed */
    char path[1024]; /* file name, for messages */
} H5File;

/* Element classes reported by h5_dtype. */
enum { H5_CLASS_OTHER = 0, H5_CLASS_FLOAT = 1, H5_CLASS_INT = 2, H5_CLASS_STRING = 3 };

/* ---- files ---- */

/* Open an existing file read-only. Error (naming the file) if missing or not HDF5. */
/* Switch off HDF5's own error printing (once; every open does it). Internal to h5*.c. */
void h5_quiet(void);
int h5_open_read(H5File *f, const char *path, Error *err);
/* Open an existing file read-write. */
int h5_open_rw(H5File *f, const char *path, Error *err);
/* Create (truncate) a file. */
int h5_create(H5File *f, const char *path, Error *err);
/* Flush and close; safe on a zeroed struct. */
void h5_close(H5File *f);
/* Flush buffers to disk. */
int h5_flush(H5File *f, Error *err);

/* ---- queries ---- */

/* 1 if the object (dataset or group) at path exists (intermediate groups checked), else 0. */
int h5_exists(const H5File *f, const char *path);
/* Rank and dims of a dataset (rank 0 = scalar). */
int h5_shape(const H5File *f, const char *path, int *rank, int64_t dims[H5_MAX_RANK], Error *err);
/* Element class (H5_CLASS_*) and element size in bytes of a dataset. */
int h5_dtype(const H5File *f, const char *path, int *cls, size_t *size, Error *err);
/* Number of elements of a dataset (product of dims; 1 for scalars); -1 on error, including a
 * product over H5_MAX_ELEMENTS (checked without overflow). */
int64_t h5_numel(const H5File *f, const char *path, Error *err);

/* 1 if the dataset carries HDF5's Fletcher-32 checksum filter (then every read verifies it and
 * fails on a mismatch), 0 if not, ERR_* (negative) when it cannot be opened (err set). */
int h5_checksummed(const H5File *f, const char *path, Error *err);

/* Largest dataset read into memory: 2^32 elements (16 GiB of float32). A file may declare any
 * dims (an unallocated chunked dataset costs nothing on disk), so every size is checked first. */
#define H5_MAX_ELEMENTS ((int64_t)1 << 32)

/* Product of dims[0..rank) into *n without overflow: 0 when it is at most H5_MAX_ELEMENTS
 * (and every dim >= 0), else 1 with *n = -1. */
int h5_elements(int rank, const int64_t *dims, int64_t *n);

/* ---- reads (caller-owned buffers of exactly `count` elements; count must equal numel) ---- */

int h5_read_f32(const H5File *f, const char *path, float *out, size_t count, Error *err);
int h5_read_f64(const H5File *f, const char *path, double *out, size_t count, Error *err);
int h5_read_i64(const H5File *f, const char *path, int64_t *out, size_t count, Error *err);
int h5_read_u8(const H5File *f, const char *path, uint8_t *out, size_t count, Error *err);

/* Read a dataset whose shape must equal want_dims[0..want_rank) exactly; the error names the
 * path, the expected and the found shape. */
int h5_read_f32_shape(const H5File *f, const char *path, float *out, int want_rank,
                      const int64_t *want_dims, Error *err);

/* Allocating read: *out (xmalloc'ed, caller frees) gets all elements; rank/dims may be NULL. */
int h5_read_f32_alloc(const H5File *f, const char *path, float **out, int *rank,
                      int64_t dims[H5_MAX_RANK], Error *err);

/* String dataset (rank 0 or 1, fixed or variable length) -> *out = xmalloc'ed array of
 * xmalloc'ed strings, *count entries. Free with h5_strings_free. */
int h5_read_strings(const H5File *f, const char *path, char ***out, size_t *count, Error *err);
void h5_strings_free(char **strings, size_t count);

/* String attribute `name` on object `obj` ("/" for the root); *out xmalloc'ed. ERR_MISSING if
 * the attribute does not exist. */
int h5_read_attr_string(const H5File *f, const char *obj, const char *name, char **out,
                        Error *err);
/* Numeric scalar attribute read as double. */
int h5_read_attr_f64(const H5File *f, const char *obj, const char *name, double *out,
                     Error *err);

/* ---- writes (datasets are contiguous; missing parent groups are created; an existing
 * dataset at path is replaced) ---- */

int h5_write_f32(H5File *f, const char *path, const float *data, int rank, const int64_t *dims,
                 Error *err);
int h5_write_f64(H5File *f, const char *path, const double *data, int rank, const int64_t *dims,
                 Error *err);
int h5_write_i64(H5File *f, const char *path, const int64_t *data, int rank,
                 const int64_t *dims, Error *err);
int h5_write_u8(H5File *f, const char *path, const uint8_t *data, int rank, const int64_t *dims,
                Error *err);
/* float32 dataset, chunked (whole rows, chunks of at most 4 MiB) with the Fletcher-32 checksum
 * filter: a read of damaged data fails instead of returning it. rank 1..H5_MAX_RANK, at least
 * one element (ERR_USAGE otherwise). */
int h5_write_f32_checked(H5File *f, const char *path, const float *data, int rank, const int64_t *dims,
                         Error *err);
/* 1-D dataset of variable-length UTF-8 strings. */
int h5_write_strings(H5File *f, const char *path, const char *const *strings, size_t count,
                     Error *err);
/* Fixed-length ASCII string attribute (null-padded, scalar dataspace) on obj ("/" = root). */
int h5_write_attr_string(H5File *f, const char *obj, const char *name, const char *value,
                         Error *err);
int h5_write_attr_f64(H5File *f, const char *obj, const char *name, double value, Error *err);

/* Delete a dataset or group if present (0 either way unless HDF5 fails). */
int h5_delete(H5File *f, const char *path, Error *err);

/* Create the group at path and its parents if missing. */
int h5_ensure_group(H5File *f, const char *path, Error *err);

/* ---- less common writers (mostly for tests of the readers' conversions) ---- */

/* Dataset stored as IEEE binary16 (little-endian); HDF5 rounds the floats on write, and
 * h5_read_f32 widens them back on read. */
int h5_write_f16(H5File *f, const char *path, const float *data, int rank, const int64_t *dims, Error *err);
/* Variable-length UTF-8 string attribute (scalar) on obj. */
int h5_write_attr_string_vlen(H5File *f, const char *obj, const char *name, const char *value, Error *err);
/* Delete attribute `name` of obj if present (0 either way unless HDF5 fails). */
int h5_delete_attr(H5File *f, const char *obj, const char *name, Error *err);

#endif
