/*
 * text_cache.c - text prototypes cached on disk (see text_cache.h).
 */
#define _POSIX_C_SOURCE 200809L
#include "winclip/text_cache.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/fsutil.h"
#include "util/sha256.h"

enum { MAX_EMBED = 1 << 16 };

static const char *endian_name(void)
{
    const uint16_t one = 1;
    return *(const uint8_t *)&one ? "little" : "big";
}

void text_cache_key(char *key, size_t cap, const char *model_sha256, const char *vocab_sha256, const char *prototypes,
                    const int32_t *ids, int n_normal, int n_anomalous, int context, const char *numerics)
{
    Sha256 c;
    uint8_t d[32];
    char tok[65];
    sha256_init(&c);
    sha256_update(&c, ids, (size_t)(n_normal + n_anomalous) * (size_t)context * sizeof *ids);
    sha256_final(&c, d);
    sha256_hex(d, tok);
    snprintf(key, cap,
             "model=%s;vocab=%s;prototypes=%s;n_normal=%d;n_anomalous=%d;context=%d;tokens=%s;endian=%s;numerics={%s}",
             model_sha256, vocab_sha256, prototypes, n_normal, n_anomalous, context, tok, endian_name(), numerics);
}

char *text_cache_path(const char *dir, const char *key)
{
    char h[65];
    sha256_hex_string(key, h);
    return xasprintf("%s/text-%.32s.bin", dir, h);
}

static void payload_sha(const WinclipText *t, char hex[65])
{
    Sha256 c;
    uint8_t d[32];
    sha256_init(&c);
    sha256_update(&c, t->normal, (size_t)t->embed_dim * sizeof(float));
    sha256_update(&c, t->anomalous, (size_t)t->embed_dim * sizeof(float));
    sha256_final(&c, d);
    sha256_hex(d, hex);
}

int text_cache_put(const char *dir, const char *key, const WinclipText *t, Error *err)
{
    if (fs_mkdirs(dir, err) != 0) return err->code;
    char hex[65];
    payload_sha(t, hex);
    char *head = xasprintf("winclip-text-1\nkey %s\nembed_dim %d\npayload_sha256 %s\n\n", key, t->embed_dim, hex);
    size_t hl = strlen(head), pl = 2 * (size_t)t->embed_dim * sizeof(float);
    char *buf = xmalloc(hl + pl);
    memcpy(buf, head, hl);
    memcpy(buf + hl, t->normal, pl / 2);
    memcpy(buf + hl + pl / 2, t->anomalous, pl / 2);
    char *path = text_cache_path(dir, key);
    int rc = fs_write_atomic(path, buf, hl + pl, err);
    free(path);
    free(buf);
    free(head);
    return rc;
}

/* Reads the whole file (at most max bytes); NULL when absent or larger. */
static char *read_all(const char *path, size_t max, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = xmalloc(max + 1);
    *len = fread(buf, 1, max + 1, f);
    fclose(f);
    if (*len > max) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* Checks the file's bytes against key and embed_dim; fills out. Returns NULL or what is wrong. */
static const char *parse_file(const char *buf, size_t len, const char *key, int embed_dim, WinclipText *out)
{
    char *head = xasprintf("winclip-text-1\nkey %s\nembed_dim %d\npayload_sha256 ", key, embed_dim);
    size_t hl = strlen(head), pl = 2 * (size_t)embed_dim * sizeof(float);
    int ok = len > hl && memcmp(buf, head, hl) == 0;
    free(head);
    if (!ok) return "header differs (format, key or embed_dim)";
    if (len != hl + 66 + pl || buf[hl + 64] != '\n' || buf[hl + 65] != '\n') return "wrong size for the shape";
    out->embed_dim = embed_dim;
    out->normal = xmalloc(pl / 2);
    out->anomalous = xmalloc(pl / 2);
    memcpy(out->normal, buf + hl + 66, pl / 2);
    memcpy(out->anomalous, buf + hl + 66 + pl / 2, pl / 2);
    char hex[65];
    payload_sha(out, hex);
    if (memcmp(hex, buf + hl, 64) != 0) return "payload checksum mismatch";
    for (int i = 0; i < embed_dim; i++)
        if (!isfinite(out->normal[i]) || !isfinite(out->anomalous[i])) return "a value is not finite";
    return NULL;
}

int text_cache_get(const char *dir, const char *key, int embed_dim, WinclipText *out, char *note, size_t cap)
{
    memset(out, 0, sizeof *out);
    if (note && cap) note[0] = 0;
    if (!dir || embed_dim <= 0 || embed_dim > MAX_EMBED) return 0;
    char *path = text_cache_path(dir, key);
    size_t len = 0;
    char *buf = read_all(path, strlen(key) + 256 + 2 * (size_t)embed_dim * sizeof(float), &len);
    int hit = 0;
    if (!buf) {
        if (note && fs_is_file(path)) snprintf(note, cap, "%s: too large for the shape", path);
    } else {
        const char *why = parse_file(buf, len, key, embed_dim, out);
        if (why) {
            if (note) snprintf(note, cap, "%s: %s", path, why);
            winclip_text_free(out);
        } else {
            hit = 1;
        }
    }
    free(buf);
    free(path);
    return hit;
}
