/* fuzz_json.c - libFuzzer harness: the JSON parser (json_parse over the raw bytes, not
 * NUL-terminated) used for model configs and safetensors headers. Reference: src/util/json.h. */
#include "fuzz_util.h"

#include "util/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    JsonValue v;
    memset(&v, 0, sizeof v);
    Error err = {0};
    if (json_parse(&v, (const char *)data, size, &err) == 0) json_free(&v);
    return 0;
}
