/* fuzz_safetensors.c - libFuzzer harness: a .safetensors file (safetensors_open: header JSON,
 * offsets, dtypes, shapes), then model config inference from it. Reference: src/clip/safetensors.h. */
#include "fuzz_util.h"

#include "clip/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_temp_file(data, size, ".safetensors");
    SafeTensors st;
    memset(&st, 0, sizeof st);
    Error err = {0};
    if (safetensors_open(&st, path, &err) == 0) {
        (void)safetensors_find(&st, "positional_embedding");
        safetensors_close(&st);
    }
    return 0;
}
