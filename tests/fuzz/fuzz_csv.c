/* fuzz_csv.c - libFuzzer harness: the VisA split CSV (dataset_visa_csv_read), the dataset lists
 * of prepare-visa and the visa-csv layout. Reference: src/data/dataset.h. */
#include "fuzz_util.h"

#include "data/dataset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_temp_file(data, size, ".csv");
    VisaCsv csv;
    memset(&csv, 0, sizeof csv);
    Error err = {0};
    if (dataset_visa_csv_read(&csv, path, &err) == 0) dataset_visa_csv_free(&csv);
    return 0;
}
