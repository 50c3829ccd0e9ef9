/* fuzz_config.c - libFuzzer harness: experiment/method config text (config_load_string, then every
 * typed getter on the keys it declares). Reference: src/harness/config.h. */
#include "fuzz_util.h"

#include "harness/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_text(data, size);
    Config cfg;
    config_init(&cfg);
    Error err = {0};
    if (config_load_string(&cfg, text, "fuzz.conf", &err) == 0) {
        const char *s;
        int i, n;
        double d;
        char **items;
        int *ints;
        const char *keys[] = {"method", "scales", "k_shot", "temperature", "geometry", "seeds"};
        for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) {
            (void)config_get_str(&cfg, keys[k], &s, &err);
            (void)config_get_int(&cfg, keys[k], &i, &err);
            (void)config_get_double(&cfg, keys[k], &d, &err);
            (void)config_get_bool(&cfg, keys[k], &i, &err);
            if (config_get_list(&cfg, keys[k], &items, &n, &err) == 0) config_list_free(items, n);
            if (config_get_int_list(&cfg, keys[k], &ints, &n, &err) == 0) free(ints);
        }
        char hex[65];
        config_hash(&cfg, hex);
    }
    config_free(&cfg);
    free(text);
    return 0;
}
