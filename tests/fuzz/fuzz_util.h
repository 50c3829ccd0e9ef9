/*
 * fuzz_util.h - helpers shared by the libFuzzer harnesses in tests/fuzz/ (`make fuzz`).
 *
 * Parsers that take a path get the fuzz input through one temp file per process, rewritten for
 * every input; parsers that take text get a NUL-terminated copy. Reference: llvm.org/docs/LibFuzzer.
 */
#ifndef WINCLIP_FUZZ_UTIL_H
#define WINCLIP_FUZZ_UTIL_H

#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Path of this process's temp file (suffix e.g. ".png", ".h5"), holding exactly data[0..size). */
static inline const char *fuzz_temp_file(const uint8_t *data, size_t size, const char *suffix)
{
    static char path[256];
    if (!path[0]) {
        const char *dir = getenv("TMPDIR");
        snprintf(path, sizeof path, "%s/winclip-fuzz-%ld%s", dir && dir[0] ? dir : "/tmp", (long)getpid(), suffix);
    }
    FILE *fp = fopen(path, "wb");
    if (!fp || (size && fwrite(data, 1, size, fp) != size)) abort();
    fclose(fp);
    return path;
}

/* malloc'ed NUL-terminated copy of data. */
static inline char *fuzz_text(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s) abort();
    memcpy(s, data, size);
    s[size] = 0;
    return s;
}

#endif
