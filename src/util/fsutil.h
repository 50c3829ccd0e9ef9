/*
 * fsutil.h - small POSIX file-system helpers used by the dataset loader and writers:
 * sorted directory listings, recursive mkdir, atomic file and PNG writes.
 *
 * Does: listings in strcmp order without hidden entries; writes through "<path>.tmp.<pid>" +
 * rename(), so a file that exists is complete (resumable jobs may skip it).
 * Does not: decode images (image.c / stb_image), walk trees recursively.
 *
 *     char **names = NULL; size_t n = 0;
 *     if (fs_list(dir, FS_LIST_IMAGES, &names, &n, &err) != 0) return err.code;
 *     for (size_t i = 0; i < n; i++) puts(names[i]);
 *     fs_list_free(names, n);
 */
#ifndef WINCLIP_FSUTIL_H
#define WINCLIP_FSUTIL_H

#include <stddef.h>
#include <stdint.h>

#include "util/base.h"

#include <stdio.h>

typedef enum {
    FS_LIST_DIRS,   /* sub-directories only                                   */
    FS_LIST_IMAGES  /* regular files with an image extension (fs_is_image_name) */
} FsListKind;

/* Names (not paths) of the entries of dir of the given kind, hidden ("." prefix) ones skipped,
 * sorted by strcmp. *names is malloc'ed (each string too): free with fs_list_free.
 * Returns 0, or ERR_MISSING (dir absent / not a directory) / ERR_IO with a message naming dir. */
int fs_list(const char *dir, FsListKind kind, char ***names, size_t *n, Error *err);
void fs_list_free(char **names, size_t n);

/* 1 if name ends in .png .jpg .jpeg .bmp (any case) and is not hidden. */
int fs_is_image_name(const char *name);

int fs_is_dir(const char *path);
int fs_is_file(const char *path); /* regular file (after following links) */

/* mkdir -p. Returns 0 or ERR_IO naming the path. */
int fs_mkdirs(const char *path, Error *err);

/* ---- atomic files ---- */

typedef struct {
    FILE *f;    /* write here between open and commit */
    char *path; /* final path (owned) */
    char *tmp;  /* temp path in the same folder (owned) */
} AtomicFile;

/* Create a temp file beside path. ERR_IO naming the folder on failure. */
int fsutil_atomic_open(AtomicFile *af, const char *path, Error *err);
/* Flush, fsync, close, rename over path, fsync the folder. On any failure the temp file is
 * removed and the previous content of path (if any) is untouched. Frees af's strings. */
int fsutil_atomic_commit(AtomicFile *af, Error *err);
/* Close and delete the temp file; safe on a zeroed or committed AtomicFile. */
void fsutil_atomic_discard(AtomicFile *af);

/* For files written by other libraries (HDF5): reserve a fresh temp name beside path (xmalloc'ed,
 * NULL + err on failure); write it; then fs_rename_durable (fsync, rename over path, fsync the
 * folder). On failure the caller unlinks the temp file. */
char *fs_temp_reserve(const char *path, Error *err);
int fs_rename_durable(const char *tmp, const char *path, Error *err);

/* Create the folder that holds path (mkdir -p of its dirname); 0 if it has none. */
int fs_mkdirs_parent(const char *path, Error *err);

/* Write len bytes to path atomically (AtomicFile: temp file in the same folder, fsync, rename). 0 or ERR_IO. */
int fs_write_atomic(const char *path, const void *data, size_t len, Error *err);

/* Copy src to dst atomically. 0, ERR_MISSING (src absent) or ERR_IO. */
int fs_copy_atomic(const char *src, const char *dst, Error *err);

/* Encode pixels (h, w, channels) u8, row-major interleaved, channels 1..4, as PNG
 * (stb_image_write) and write it atomically. 0 or ERR_IO. */
int fs_write_png(const char *path, int width, int height, int channels, const uint8_t *pixels, Error *err);

/* 1 when rel names something inside the folder it is relative to: not empty, not absolute, no ".."
 * component (so "a/./b" and "a//b" pass, "../x", "a/../../x" and "/etc/x" do not); else 0. */
int fs_path_is_inside(const char *rel);

/* Pointer to the file name part of path (after the last '/'). */
const char *fs_basename(const char *path);

/* malloc'ed copy of the file name of path without its extension ("a/b/007.png" -> "007"). */
char *fs_stem(const char *path);

#endif
