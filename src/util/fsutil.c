/*
 * fsutil.c - sorted listings, mkdir -p, atomic writes (see fsutil.h).
 */
#define _XOPEN_SOURCE 700
#include "util/fsutil.h"

#include <dirent.h>
#include <fcntl.h>
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

/* ---- atomic files ---- */

static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash) return xstrdup(".");
    if (slash == path) return xstrdup("/");
    return xasprintf("%.*s", (int)(slash - path), path);
}

static char *temp_path_for(const char *path)
{
    char *dir = dir_of(path);
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    char *tmp = xasprintf("%s/.%s.%ld.XXXXXX", dir, base, (long)getpid());
    free(dir);
    return tmp;
}

static void fsync_dir(const char *path)
{
    char *dir = dir_of(path);
    int fd = open(dir, O_RDONLY);
    if (fd >= 0) {
        fsync(fd); /* best effort: some file systems refuse fsync on folders */
        close(fd);
    }
    free(dir);
}

int fsutil_atomic_open(AtomicFile *af, const char *path, Error *err)
{
    memset(af, 0, sizeof *af);
    af->tmp = temp_path_for(path);
    int fd = mkstemp(af->tmp);
    if (fd < 0) {
        int e = errno;
        char *dir = dir_of(path);
        err_setf(err, ERR_IO, "cannot create a temporary file in '%s' (for %s): %s", dir, path, strerror(e));
        free(dir);
        free(af->tmp);
        af->tmp = NULL;
        return ERR_IO;
    }
    fchmod(fd, 0644);
    af->f = fdopen(fd, "w");
    if (!af->f) {
        close(fd);
        unlink(af->tmp);
        free(af->tmp);
        af->tmp = NULL;
        return err_setf(err, ERR_IO, "fdopen for %s failed", path);
    }
    af->path = xstrdup(path);
    return 0;
}

void fsutil_atomic_discard(AtomicFile *af)
{
    if (af->f) fclose(af->f);
    if (af->tmp) unlink(af->tmp);
    free(af->tmp);
    free(af->path);
    memset(af, 0, sizeof *af);
}

int fsutil_atomic_commit(AtomicFile *af, Error *err)
{
    int bad = fflush(af->f) != 0 || ferror(af->f);
    if (!bad) bad = fsync(fileno(af->f)) != 0 && errno != EINVAL;
    int e = errno;
    bad |= fclose(af->f) != 0;
    af->f = NULL;
    if (bad) {
        err_setf(err, ERR_IO, "writing %s failed: %s", af->path, strerror(e));
        fsutil_atomic_discard(af);
        return ERR_IO;
    }
    if (rename(af->tmp, af->path) != 0) {
        err_setf(err, ERR_IO, "rename %s -> %s failed: %s", af->tmp, af->path, strerror(errno));
        fsutil_atomic_discard(af);
        return ERR_IO;
    }
    fsync_dir(af->path);
    free(af->tmp);
    af->tmp = NULL;
    free(af->path);
    af->path = NULL;
    return 0;
}


int fs_write_atomic(const char *path, const void *data, size_t len, Error *err)
{
    AtomicFile af;
    if (fsutil_atomic_open(&af, path, err)) return err->code;
    if (len && fwrite(data, 1, len, af.f) != len) {
        fsutil_atomic_discard(&af);
        return err_setf(err, ERR_IO, "%s: write failed (disk full?)", path);
    }
    return fsutil_atomic_commit(&af, err);
}

char *fs_temp_reserve(const char *path, Error *err)
{
    char *tmp = temp_path_for(path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        char *dir = dir_of(path);
        err_setf(err, ERR_IO, "cannot create a temporary file in '%s' (for %s): %s", dir, path, strerror(errno));
        free(dir);
        free(tmp);
        return NULL;
    }
    close(fd);
    return tmp;
}

int fs_rename_durable(const char *tmp, const char *path, Error *err)
{
    int fd = open(tmp, O_RDONLY);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    if (rename(tmp, path) != 0) return err_setf(err, ERR_IO, "rename %s -> %s: %s", tmp, path, strerror(errno));
    fsync_dir(path);
    return 0;
}

int fs_mkdirs_parent(const char *path, Error *err)
{
    const char *slash = strrchr(path, '/');
    if (!slash || slash == path) return 0;
    char *dir = xasprintf("%.*s", (int)(slash - path), path);
    int rc = fs_mkdirs(dir, err);
    free(dir);
    return rc;
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

int fs_path_is_inside(const char *rel)
{
    if (!rel || !rel[0] || rel[0] == '/') return 0;
    for (const char *c = rel; *c;) {
        size_t len = strcspn(c, "/");
        if (len == 2 && c[0] == '.' && c[1] == '.') return 0;
        c += len;
        while (*c == '/') c++;
    }
    return 1;
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
