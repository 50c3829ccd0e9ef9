/*
 * run_lock.h - the locks that let several `winclip run` processes (two users' runs, or the
 * shards of one experiment, on one machine or on a cluster's shared folder) share one results
 * folder: each unit is computed by one process only and never half-written.
 *
 * Does: exclusive flock(2) on a lock file under <results>/.locks/ (created with its folders,
 * never removed, so every process locks the same inode): one per unit
 * (.locks/<experiment>/<dataset>/<category>/<unit>.lock) and one per category's features
 * (.locks/cache/<dataset>_<category>.lock, held while a process computes any unit of that
 * category, so the feature cache of a category has one writer at a time and no image is
 * encoded twice). The holder writes "pid N on HOST" into the file so a waiting process can say
 * whom it waits for. The kernel releases a lock when its holder exits, however it dies
 * (kill -9 included), so a stale lock cannot block a later run.
 * Does not: decide what to compute (experiment.c, unit_eval.c). On a network filesystem
 * flock works where the mount supports it (Linux NFS maps it to byte-range locks; Lustre
 * needs the `flock` mount option).
 * Reference: issue "Runs you can trust" (concurrency); flock(2).
 *
 *     RunLock lk = {-1};
 *     char holder[128];
 *     int busy = run_lock_take(&lk, path, 0, holder, sizeof holder, &err);   // try
 *     if (busy == 1) { printf("waiting for %s\n", holder); busy = run_lock_take(&lk, path, 1, NULL, 0, &err); }
 *     if (busy < 0) return err.code;
 *     ... compute ...
 *     run_lock_release(&lk);
 */
#ifndef WINCLIP_HARNESS_RUN_LOCK_H
#define WINCLIP_HARNESS_RUN_LOCK_H

#include <stddef.h>

#include "util/base.h"

typedef struct {
    int fd; /* the open lock file, -1 when not held (initialise with {-1}) */
} RunLock;

/* Take the exclusive lock on the file path (created with its parent folders). blocking = 1
 * waits for it; blocking = 0 returns 1 at once when another process holds it, with holder
 * (cap bytes, may be NULL) set to what the holder wrote ("pid N on HOST", or "another
 * process"). Returns 0 when taken (lk->fd >= 0), 1 when busy (try only), or ERR_IO naming the
 * file. Taking a lock lk already holds is a programmer error (CHECK). */
int run_lock_take(RunLock *lk, const char *path, int blocking, char *holder, size_t cap, Error *err);

/* Release (close) the lock; safe when not held. */
void run_lock_release(RunLock *lk);

/* <results>/.locks/<experiment>/<dataset>/<category>/<k0 | k<K>_s<seed>>.lock (malloc'ed). */
char *run_lock_unit_path(const char *results, const char *experiment, const char *dataset, const char *category,
                         int k_shot, int seed);

/* <results>/.locks/cache/<dataset>_<category>.lock (malloc'ed): the category's features. */
char *run_lock_category_path(const char *results, const char *dataset, const char *category);

#endif
