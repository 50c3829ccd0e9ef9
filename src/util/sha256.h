/*
 * sha256.h - SHA-256 (FIPS 180-4) for weight, dataset and cache checksums.
 *
 *     char hex[65];
 *     if (sha256_file("model.h5", hex, &err)) return err.code;
 */
#ifndef WINCLIP_SHA256_H
#define WINCLIP_SHA256_H

#include "util/base.h"

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint32_t state[8];
    uint64_t total;     /* bytes hashed so far */
    uint8_t block[64];  /* pending partial block */
    size_t used;        /* bytes in block */
} Sha256;

void sha256_init(Sha256 *ctx);
void sha256_update(Sha256 *ctx, const void *data, size_t len);
void sha256_final(Sha256 *ctx, uint8_t digest[32]);
/* Lower-case hex of a digest, NUL-terminated. */
void sha256_hex(const uint8_t digest[32], char hex[65]);
/* Hex digest of a NUL-terminated string (cache keys, settings hashes). */
void sha256_hex_string(const char *text, char hex[65]);
/* Digest of a whole file (streamed). */
int sha256_file(const char *path, char hex[65], Error *err);

#endif
