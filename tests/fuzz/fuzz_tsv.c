/* fuzz_tsv.c - libFuzzer harness: a unit's metrics.tsv (results_read_metrics), read back by
 * `winclip report`. Reference: src/harness/results.h. */
#include "fuzz_util.h"

#include "harness/results.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_temp_file(data, size, ".tsv");
    MetricSet m;
    memset(&m, 0, sizeof m);
    Error err = {0};
    (void)results_read_metrics(path, &m, &err);
    return 0;
}
