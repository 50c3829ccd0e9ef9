/*
 * sha_cache.c - sha256 of a file once per file version (see sha_cache.h).
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE /* realpath */
#include "util/sha_cache.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/fsutil.h"
#include "util/sha256.h"

int sha_cache_user_dir(char *buf, size_t cap)
{
    buf[0] = 0;
    const char *env = getenv("WINCLIP_CACHE_DIR");
    if (env) {
        if (!*env || strcmp(env, "off") == 0) return 0;
        snprintf(buf, cap, "%s", env);
        return 1;
    }
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    if (xdg && *xdg) snprintf(buf, cap, "%s/winclip", xdg);
    else if (home && *home) snprintf(buf, cap, "%s/.cache/winclip", home);
    else return 0;
    return 1;
}

/* The record text of a file identity + digest; malloc'ed. */
static char *record_text(const char *real, const struct stat *st, const char *hex)
{
    return xasprintf("winclip-sha256-1\npath %s\nsize %lld\nmtime_ns %lld\nctime_ns %lld\nino %llu\ndev %llu\n"
                     "sha256 %s\n",
                     real, (long long)st->st_size,
                     (long long)st->st_mtim.tv_sec * 1000000000LL + (long long)st->st_mtim.tv_nsec,
                     (long long)st->st_ctim.tv_sec * 1000000000LL + (long long)st->st_ctim.tv_nsec,
                     (unsigned long long)st->st_ino, (unsigned long long)st->st_dev, hex ? hex : "");
}

/* The digest of a record that matches the identity text exactly (all but the digest). */
static int record_lookup(const char *rec_path, const char *identity, char hex[65])
{
    FILE *f = fopen(rec_path, "rb");
    if (!f) return 0;
    char buf[8192];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    size_t id_len = strlen(identity) - 1; /* identity ends with "sha256 \n": compare up to "sha256 " */
    if (n != id_len + 65 || strncmp(buf, identity, id_len) != 0 || buf[n - 1] != '\n') return 0;
    for (size_t i = 0; i < 64; i++) {
        char c = buf[id_len + i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return 0;
    }
    memcpy(hex, buf + id_len, 64);
    hex[64] = 0;
    return 1;
}

int sha_cache_file_in(const char *dir, const char *path, char hex[65], int *from_cache, Error *err)
{
    if (from_cache) *from_cache = 0;
    char user[1024];
    if (!dir && sha_cache_user_dir(user, sizeof user)) dir = user;
    struct stat st;
    char real[PATH_MAX];
    if (!dir || stat(path, &st) != 0 || !S_ISREG(st.st_mode) || !realpath(path, real) || strchr(real, '\n'))
        return sha256_file(path, hex, err);
    char key[65];
    sha256_hex_string(real, key);
    char *rec = xasprintf("%s/sha256/%.32s.txt", dir, key);
    char *identity = record_text(real, &st, NULL);
    int rc = 0;
    if (record_lookup(rec, identity, hex)) {
        if (from_cache) *from_cache = 1;
    } else if ((rc = sha256_file(path, hex, err)) == 0) {
        struct stat after;
        if (stat(path, &after) != 0 || after.st_size != st.st_size || after.st_mtim.tv_sec != st.st_mtim.tv_sec ||
            after.st_mtim.tv_nsec != st.st_mtim.tv_nsec || after.st_ino != st.st_ino) {
            free(identity); /* changed while hashed: the digest is returned, never recorded */
            free(rec);
            return 0;
        }
        Error ignore = {0};
        char *sub = xasprintf("%s/sha256", dir);
        char *text = record_text(real, &st, hex);
        if (fs_mkdirs(sub, &ignore) == 0) fs_write_atomic(rec, text, strlen(text), &ignore);
        free(text);
        free(sub);
    }
    free(identity);
    free(rec);
    return rc;
}

int sha_cache_file(const char *path, char hex[65], int *from_cache, Error *err)
{
    return sha_cache_file_in(NULL, path, hex, from_cache, err);
}
