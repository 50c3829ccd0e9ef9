/*
 * fsutil.c - sorted listings, mkdir -p, atomic writes (see fsutil.h).
 */
#define _POSIX_C_SOURCE 200809L
#include "fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <stb_image_write.h>

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int fs_is_image_name(const char *name)
{
    static const char *const exts[] = {".png", ".jpg", ".jpeg", ".bmp"};
    if (!name || name[0] == '.') return 0;
    const char *dot = strrchr(name, '.');
    if (!dot || dot == name) return 0;
    for (size_t i = 0; i < ARRAY_LEN(exts); i++)
        if (strcasecmp(dot, exts[i]) == 0) return 1;
    return 0;
}

int fs_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int fs_is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int fs_list(const char *dir, FsListKind kind, char ***names, size_t *n, Error *err)
{
    *names = NULL;
    *n = 0;
    if (!fs_is_dir(dir)) return err_setf(err, ERR_MISSING, "%s: folder not found", dir);
    DIR *d = opendir(dir);
    if (!d) return err_setf(err, ERR_IO, "%s: cannot open folder: %s", dir, strerror(errno));
    size_t cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        char *full = xasprintf("%s/%s", dir, e->d_name);
        int keep = kind == FS_LIST_DIRS ? fs_is_dir(full) : (fs_is_image_name(e->d_name) && fs_is_file(full));
        free(full);
        if (!keep) continue;
        if (*n == cap) {
            cap = cap ? 2 * cap : 64;
            *names = xrealloc(*names, cap * sizeof **names);
        }
        (*names)[(*n)++] = xstrdup(e->d_name);
    }
    closedir(d);
    if (*n) qsort(*names, *n, sizeof **names, cmp_str);
    return 0;
}

void fs_list_free(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
}

int fs_mkdirs(const char *path, Error *err)
{
    char *p = xstrdup(path);
    int rc = 0;
    for (char *s = p + 1;; s++) {
        if (*s == '/' || *s == 0) {
            char c = *s;
            *s = 0;
            if (mkdir(p, 0777) != 0 && errno != EEXIST) {
                rc = err_setf(err, ERR_IO, "%s: cannot create folder: %s", p, strerror(errno));
                break;
            }
            if (!fs_is_dir(p)) {
                rc = err_setf(err, ERR_IO, "%s: exists and is not a folder", p);
                break;
            }
            *s = c;
            if (c == 0) break;
        }
    }
    free(p);
    return rc;
}

int fs_write_atomic(const char *path, const void *data, size_t len, Error *err)
{
    char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
    FILE *fp = fopen(tmp, "wb");
    if (!fp) {
        int rc = err_setf(err, ERR_IO, "%s: cannot write: %s", tmp, strerror(errno));
        free(tmp);
        return rc;
    }
    size_t w = len ? fwrite(data, 1, len, fp) : 0;
    int bad = fclose(fp) != 0 || w != len;
    if (bad || rename(tmp, path) != 0) {
        int rc = err_setf(err, ERR_IO, "%s: write failed (%zu of %zu bytes): %s", path, w, len, strerror(errno));
        remove(tmp);
        free(tmp);
        return rc;
    }
    free(tmp);
    return 0;
}

int fs_copy_atomic(const char *src, const char *dst, Error *err)
{
    FILE *fp = fopen(src, "rb");
    if (!fp) return err_setf(err, errno == ENOENT ? ERR_MISSING : ERR_IO, "%s: cannot open: %s", src, strerror(errno));
    size_t cap = 1 << 16, n = 0, r;
    unsigned char *buf = xmalloc(cap);
    while ((r = fread(buf + n, 1, cap - n, fp)) > 0) {
        n += r;
        if (n == cap) buf = xrealloc(buf, cap *= 2);
    }
    int rd_err = ferror(fp);
    fclose(fp);
    int rc = rd_err ? err_setf(err, ERR_IO, "%s: read error", src) : fs_write_atomic(dst, buf, n, err);
    free(buf);
    return rc;
}

typedef struct {
    unsigned char *data;
    size_t len, cap;
} MemBuf;

static void membuf_put(void *ctx, void *data, int size)
{
    MemBuf *m = ctx;
    if (size <= 0) return;
    if (m->len + (size_t)size > m->cap) {
        while (m->len + (size_t)size > m->cap) m->cap = m->cap ? 2 * m->cap : 1 << 16;
        m->data = xrealloc(m->data, m->cap);
    }
    memcpy(m->data + m->len, data, (size_t)size);
    m->len += (size_t)size;
}

int fs_write_png(const char *path, int width, int height, int channels, const uint8_t *pixels, Error *err)
{
    CHECK(width > 0 && height > 0 && channels >= 1 && channels <= 4);
    MemBuf m = {0};
    if (!stbi_write_png_to_func(membuf_put, &m, width, height, channels, pixels, width * channels)) {
        free(m.data);
        return err_setf(err, ERR_IO, "%s: PNG encoding failed (%dx%d, %d channels)", path, width, height, channels);
    }
    int rc = fs_write_atomic(path, m.data, m.len, err);
    free(m.data);
    return rc;
}

const char *fs_basename(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

char *fs_stem(const char *path)
{
    char *s = xstrdup(fs_basename(path));
    char *dot = strrchr(s, '.');
    if (dot && dot != s) *dot = 0;
    return s;
}
