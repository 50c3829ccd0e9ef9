/* fuzz_h5.c - libFuzzer harness: HDF5 files as `winclip metrics` and the model loader read them
 * (h5_open_read, shapes, overflow-checked element counts, bounded reads of /labels, /scores,
 * /maps, /masks and the string attributes). Reference: src/util/h5.h. */
#include "fuzz_util.h"

#include "util/h5.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_temp_file(data, size, ".h5");
    H5File f = {0};
    Error err = {0};
    if (h5_open_read(&f, path, &err) != 0) return 0;
    const char *names[] = {"/labels", "/scores", "/maps", "/masks", "/positional_embedding"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        if (!h5_exists(&f, names[i])) continue;
        int64_t n = h5_numel(&f, names[i], &err);
        if (n < 0 || n > (1 << 20)) continue;
        float *buf = NULL;
        int rank;
        int64_t dims[H5_MAX_RANK];
        if (h5_read_f32_alloc(&f, names[i], &buf, &rank, dims, &err) == 0) free(buf);
        uint8_t *u8 = malloc((size_t)n + 1);
        if (!u8) abort();
        (void)h5_read_u8(&f, names[i], u8, (size_t)n, &err);
        free(u8);
    }
    h5_close(&f);
    return 0;
}
