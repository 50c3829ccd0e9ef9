/*
 * cmd_prepare_visa.c - `winclip prepare-visa`: original VisA tree -> prepared 1cls layout.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/base.h"
#include "cli/cli.h"
#include "data/visa_prepare.h"

extern const Command cmd_prepare_visa;

static int run(int argc, char **argv)
{
    const char *root = NULL, *csv = NULL, *out = NULL;
    char *objects_arg = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (i + 1 >= argc && (strcmp(a, "--root") == 0 || strcmp(a, "--csv") == 0 || strcmp(a, "--out") == 0 ||
                              strcmp(a, "--objects") == 0))
            return cli_usage_error(&cmd_prepare_visa, "%s needs a value", a);
        if (strcmp(a, "--root") == 0) root = argv[++i];
        else if (strcmp(a, "--csv") == 0) csv = argv[++i];
        else if (strcmp(a, "--out") == 0) out = argv[++i];
        else if (strcmp(a, "--objects") == 0) objects_arg = argv[++i];
        else return cli_usage_error(&cmd_prepare_visa, "unknown argument '%s'", a);
    }
    if (!root || !out) return cli_usage_error(&cmd_prepare_visa, "--root and --out are required");

    char *list = objects_arg ? xstrdup(objects_arg) : NULL;
    const char *objects[64];
    size_t n_objects = 0;
    for (char *tok = list ? strtok(list, ",") : NULL; tok; tok = strtok(NULL, ",")) {
        if (n_objects == ARRAY_LEN(objects)) {
            free(list);
            return cli_usage_error(&cmd_prepare_visa, "too many objects in --objects");
        }
        objects[n_objects++] = tok;
    }
    Error err = {0};
    VisaPrepareStats st = {0};
    double t0 = time_now();
    int rc = visa_prepare(root, csv, out, n_objects ? objects : NULL, n_objects, &st, &err);
    free(list);
    if (rc != 0) {
        fprintf(stderr, "winclip prepare-visa: %s\n", err.msg);
        return rc == ERR_USAGE ? 2 : 1;
    }
    printf("prepare-visa: %zu images and %zu masks written, %zu already present, %.1f s -> %s\n", st.images_written,
           st.masks_written, st.skipped, time_now() - t0, out);
    return 0;
}

const Command cmd_prepare_visa = {
    "prepare-visa", "original VisA + split_csv/1cls.csv -> prepared 1cls tree (MVTec-like)",
    "usage: winclip prepare-visa --root VISA_DIR --out OUT_DIR [--csv CSV] [--objects a,b,...]\n"
    "\n"
    "Reorganises the extracted VisA_20220922.tar (VISA_DIR/<object>/Data/...) by the official\n"
    "one-class split into the layout spot-diff's prepare_data.py makes:\n"
    "  OUT_DIR/<object>/train/good/<name>.JPG     train split (normal)\n"
    "  OUT_DIR/<object>/test/good/<name>.JPG      test split, normal\n"
    "  OUT_DIR/<object>/test/bad/<name>.JPG       test split, anomaly\n"
    "  OUT_DIR/<object>/ground_truth/bad/<stem>.png  mask: single channel, {0, 255}\n"
    "Images are copied byte for byte. Masks (label maps, 0 = background) are binarised:\n"
    "any non-zero value becomes 255. Every file is written atomically and files already present\n"
    "are skipped, so an interrupted run can simply be restarted.\n"
    "\n"
    "options:\n"
    "  --root DIR      the extracted VisA folder (holds candle/, ..., split_csv/)\n"
    "  --csv FILE      split file (default ROOT/split_csv/1cls.csv)\n"
    "  --out DIR       output root (created)\n"
    "  --objects LIST  comma-separated objects to prepare (default: all in the CSV)\n"
    "\n"
    "example:\n"
    "  winclip prepare-visa --root datasets/visa --csv datasets/visa/split_csv/1cls.csv --out datasets/visa_1cls\n",
    run};
