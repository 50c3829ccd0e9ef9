/*
 * text_cache.h - text prototypes (WinclipText) cached on disk, so a start does not rerun the
 * text tower: one small file per (model, tokenizer vocabulary, prompt tokens, prototype mode).
 *
 * Does: build the key from everything that changes the prototypes (the model's sha256, the
 * vocabulary's sha256, the prototype mode, the number of normal / anomalous prompts and the
 * sha256 of their token ids, which fold in the prompt set, the extra states and the class word,
 * and the numerics of clip/numerics.h: kernel path, GEMM kernels, threads, which change the last
 * bits; a class costs about a second to recompute, so a hit is exactly what this process would
 * compute, and `winclip score` reproduces a run's maps whatever path filled the cache),
 * write a file atomically, read it back validated (format, key, shape, payload sha256, every value
 * finite). A file that fails any check is a miss with a note; it is then rewritten.
 * Does not: compute prototypes (pipeline.c, winclip.c) or decide where the folder is (pipeline:
 * "<feature cache folder>/text", else <user cache>/text, see util/sha_cache.h).
 * Reference: issue 11 ("start in seconds").
 *
 *     char key[640];
 *     text_cache_key(key, sizeof key, model_sha, vocab_sha, "normalize", ids, 154, 88, 77, numerics);
 *     WinclipText t = {0}; char note[256];
 *     if (text_cache_get(dir, key, 640, &t, note, sizeof note) != 1) { ...compute t...;
 *         text_cache_put(dir, key, &t, &err); }
 *
 * File <dir>/text-<32 hex of sha256(key)>.bin: header lines
 *   "winclip-text-1", "key <key>", "embed_dim <E>", "payload_sha256 <hex>", "" (empty line)
 * then the payload: normal (E) and anomalous (E) float32 in the machine's byte order (the key
 * records it: "endian=little|big").
 */
#ifndef WINCLIP_TEXT_CACHE_H
#define WINCLIP_TEXT_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "util/base.h"
#include "winclip/winclip.h"

/* key (cap bytes, 640 are enough) of prototypes from token ids (n_normal + n_anomalous,
 * context) of one model and vocabulary; prototypes = the mode's name; numerics =
 * clip_numerics() of the process that computes them. */
void text_cache_key(char *key, size_t cap, const char *model_sha256, const char *vocab_sha256, const char *prototypes,
                    const int32_t *ids, int n_normal, int n_anomalous, int context, const char *numerics);

/* 1: *out filled from <dir>'s file for key (free with winclip_text_free); 0: a miss, note
 * (may be NULL) says why when a file was there but failed a check ("" for no file). */
int text_cache_get(const char *dir, const char *key, int embed_dim, WinclipText *out, char *note, size_t cap);

/* Write t under key (folder created). Returns 0 or ERR_IO naming the file. */
int text_cache_put(const char *dir, const char *key, const WinclipText *t, Error *err);

/* The file path that key uses in dir; malloc'ed. */
char *text_cache_path(const char *dir, const char *key);

#endif
