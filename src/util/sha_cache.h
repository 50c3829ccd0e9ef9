/*
 * sha_cache.h - the sha256 of a file computed once per file version, not on every start: the
 * digest is kept in a small record keyed on the file's identity (real path, size, mtime and
 * ctime in nanoseconds, inode, device) and reused while all of them match.
 *
 * Does: find the user cache folder (WINCLIP_CACHE_DIR, else $XDG_CACHE_HOME/winclip, else
 * $HOME/.cache/winclip; WINCLIP_CACHE_DIR=off disables every default cache); look up, verify
 * and write records (atomically, one file per hashed file, so concurrent processes do not clash).
 * Does not: hash anything itself (sha256.h), decide what a digest is used for.
 * Reference: issue 11 ("the weights' sha256 is computed once per file").
 *
 *     char hex[65]; int cached = 0;
 *     if (sha_cache_file("model.h5", hex, &cached, &err)) return err.code;
 *
 * Record <cache>/sha256/<32 hex of sha256(real path)>.txt, text lines:
 *   winclip-sha256-1 / path P / size N / mtime_ns N / ctime_ns N / ino N / dev N / sha256 HEX
 * Any difference, or a record that does not parse, means the file is hashed again (and the
 * record rewritten); a record that cannot be written is silently skipped (the digest is right).
 */
#ifndef WINCLIP_SHA_CACHE_H
#define WINCLIP_SHA_CACHE_H

#include <stddef.h>

#include "util/base.h"

/* The user cache folder into buf (cap bytes); returns 1, or 0 (buf = "") when caching is off
 * (WINCLIP_CACHE_DIR=off or empty) or no folder can be named (no HOME). */
int sha_cache_user_dir(char *buf, size_t cap);

/* hex = sha256 of path (lowercase hex, NUL-terminated); *from_cache (may be NULL) = 1 when a
 * valid record was reused. dir: the cache folder, NULL = sha_cache_user_dir (off: plain hash).
 * Returns 0, or sha256_file's error (ERR_IO naming the file). */
int sha_cache_file_in(const char *dir, const char *path, char hex[65], int *from_cache, Error *err);
int sha_cache_file(const char *path, char hex[65], int *from_cache, Error *err);

#endif
