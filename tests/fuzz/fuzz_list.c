/* fuzz_list.c - libFuzzer harness: the plain image list of the csv layout (dataset_list_csv_read:
 * `path,label[,mask]` lines, paths kept inside the list's folder), read for `winclip run` on a
 * user's own images and by `winclip score LIST`. Reference: src/data/dataset.h. */
#include "fuzz_util.h"

#include "data/dataset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_temp_file(data, size, ".csv");
    CategoryData cd;
    memset(&cd, 0, sizeof cd);
    Error err = {0};
    (void)dataset_list_csv_read(&cd, path, &err);
    dataset_free(&cd);
    return 0;
}
