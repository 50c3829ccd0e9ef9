/*
 * run_lock.c - per-unit and per-category lock files for concurrent `winclip run` processes
 * (see run_lock.h): flock(2), the holder's pid and host written into the file.
 *
 * Reference: flock(2); issue "Runs you can trust" (concurrency and faults).
 */
#define _DEFAULT_SOURCE
#include "harness/run_lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "util/fsutil.h"

/* What the holder wrote into the lock file ("pid N on HOST"), or "another process". */
static void read_holder(int fd, char *holder, size_t cap)
{
    if (!holder || cap == 0) return;
    char buf[160];
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    if (n <= 0) {
        snprintf(holder, cap, "another process");
        return;
    }
    buf[n] = 0;
    buf[strcspn(buf, "\n")] = 0;
    snprintf(holder, cap, "%s", buf[0] ? buf : "another process");
}

static void write_holder(int fd)
{
    char host[64] = "?", text[128];
    if (gethostname(host, sizeof host) != 0) snprintf(host, sizeof host, "?");
    host[sizeof host - 1] = 0;
    int n = snprintf(text, sizeof text, "pid %ld on %s\n", (long)getpid(), host);
    /* best effort: the text is only for messages; the lock is the flock itself */
    if (ftruncate(fd, 0) != 0) return;
    ssize_t written = pwrite(fd, text, (size_t)n, 0);
    (void)written;
}

int run_lock_take(RunLock *lk, const char *path, int blocking, char *holder, size_t cap, Error *err)
{
    CHECK(lk->fd < 0);
    if (fs_mkdirs_parent(path, err) != 0) return err->code;
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return err_setf(err, ERR_IO, "cannot open the lock file %s: %s", path, strerror(errno));
    for (;;) {
        if (flock(fd, LOCK_EX | (blocking ? 0 : LOCK_NB)) == 0) break;
        if (errno == EINTR) continue;
        if (!blocking && errno == EWOULDBLOCK) {
            read_holder(fd, holder, cap);
            close(fd);
            return 1;
        }
        int e = errno;
        close(fd);
        return err_setf(err, ERR_IO, "cannot lock %s: %s (does this filesystem support flock?)", path, strerror(e));
    }
    write_holder(fd);
    lk->fd = fd;
    return 0;
}

void run_lock_release(RunLock *lk)
{
    if (lk->fd >= 0) close(lk->fd); /* closing the last descriptor releases the flock */
    lk->fd = -1;
}

char *run_lock_unit_path(const char *results, const char *experiment, const char *dataset, const char *category,
                         int k_shot, int seed)
{
    if (k_shot == 0) return xasprintf("%s/.locks/%s/%s/%s/k0.lock", results, experiment, dataset, category);
    return xasprintf("%s/.locks/%s/%s/%s/k%d_s%d.lock", results, experiment, dataset, category, k_shot, seed);
}

char *run_lock_category_path(const char *results, const char *dataset, const char *category)
{
    return xasprintf("%s/.locks/cache/%s_%s.lock", results, dataset, category);
}
