/*
 * check_prompts.c - tests for prompts.c: the paper's CPE prompt lists (22 templates x 7 normal
 * and 4 anomalous states, equal to fixtures/winclip_paper/reference.h5's strings), the anomalib
 * and ablation sets, extra states and class names from the settings.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/base.h"
#include "util/h5.h"
#include "winclip/prompts.h"
#include "winclip/winclip.h"
#include "check_suites.h"
#include "test_util.h"

#define PAPER_FIXTURE "fixtures/winclip_paper/reference.h5"

START_TEST(prompts_paper_strings)
{
    PromptList p = {0};
    Error err = {0};
    ck_assert_int_eq(prompts_build(&p, PROMPTS_PAPER22, "bottle", NULL, 0, NULL, 0, &err), 0);
    ck_assert_int_eq(p.n_normal, 154);
    ck_assert_int_eq(p.n_anomalous, 88);
    ck_assert_str_eq(p.normal[0], "a cropped photo of the bottle.");
    ck_assert_str_eq(p.normal[153], "a photo of the bottle without damage for anomaly detection.");
    ck_assert_str_eq(p.anomalous[22], "a cropped photo of the bottle with flaw.");
    ck_assert_str_eq(p.anomalous[87], "a photo of the bottle with damage for anomaly detection.");
    prompts_free(&p);

    /* every prompt equals the fixture's list (class "grid"), index s*22 + t */
    char path[1024];
    if (!test_shared_path(path, sizeof path, PAPER_FIXTURE)) return;
    H5File f = {0};
    ck_assert_int_eq(h5_open_read(&f, path, &err), 0);
    ck_assert_int_eq(prompts_build(&p, PROMPTS_PAPER22, "grid", NULL, 0, NULL, 0, &err), 0);
    char **want = NULL;
    size_t n = 0;
    ck_assert_int_eq(h5_read_strings(&f, "/text/normal_prompts", &want, &n, &err), 0);
    ck_assert_int_eq((int)n, p.n_normal);
    for (size_t i = 0; i < n; i++) ck_assert_str_eq(p.normal[i], want[i]);
    h5_strings_free(want, n);
    ck_assert_int_eq(h5_read_strings(&f, "/text/anomalous_prompts", &want, &n, &err), 0);
    ck_assert_int_eq((int)n, p.n_anomalous);
    for (size_t i = 0; i < n; i++) ck_assert_str_eq(p.anomalous[i], want[i]);
    h5_strings_free(want, n);
    prompts_free(&p);
    h5_close(&f);
}
END_TEST

START_TEST(prompts_other_sets)
{
    PromptList p = {0};
    Error err = {0};
    ck_assert_int_eq(prompts_build(&p, PROMPTS_ANOMALIB21, "metal_nut", NULL, 0, NULL, 0, &err), 0);
    ck_assert_int_eq(p.n_normal, 147);
    ck_assert_int_eq(p.n_anomalous, 84);
    ck_assert_str_eq(p.normal[7], "a jpeg corrupted photo of the metal_nut.");
    ck_assert_str_eq(p.normal[8], p.normal[7]); /* duplicate kept */
    ck_assert_str_eq(p.anomalous[21 + 20], "a photo of a metal_nut with flaw for anomaly detection.");
    prompts_free(&p);

    /* the ablation sets: counts, first and last strings */
    const struct {
        PromptSet set;
        const char *cls;
        int n_normal, n_anomalous, normal_at;
        const char *normal, *anomalous0;
    } sets[] = {
        {PROMPTS_SINGLE, "pcb1", 1, 1, 0, "a photo of a pcb1.", "a photo of a damaged pcb1."},
        {PROMPTS_STATES, "wood", 7, 4, 6, "wood without damage", "damaged wood"},
        {PROMPTS_TEMPLATES, "tile", 22, 22, 13, "a photo of a tile.", "a cropped photo of the damaged tile."},
    };
    for (size_t i = 0; i < ARRAY_LEN(sets); i++) {
        ck_assert_int_eq(prompts_build(&p, sets[i].set, sets[i].cls, NULL, 0, NULL, 0, &err), 0);
        ck_assert_int_eq(p.n_normal, sets[i].n_normal);
        ck_assert_int_eq(p.n_anomalous, sets[i].n_anomalous);
        ck_assert_str_eq(p.normal[sets[i].normal_at], sets[i].normal);
        ck_assert_str_eq(p.anomalous[0], sets[i].anomalous0);
        prompts_free(&p);
    }

    /* extra states: words go before the class, a phrase with {} is used as is */
    WinclipSettings s;
    winclip_settings_default(&s);
    ck_assert_int_eq(winclip_settings_set(&s, "extra_anomalous_states", "bent, {} with bad soldering", &err), 0);
    ck_assert_int_eq(winclip_settings_set(&s, "extra_normal_states", "clean", &err), 0);
    char cls[64];
    winclip_settings_class_name(&s, "metal_nut", cls, sizeof cls);
    ck_assert_str_eq(cls, "metal nut");
    ck_assert_int_eq(winclip_settings_prompts(&p, &s, cls, &err), 0);
    ck_assert_int_eq(p.n_normal, 8 * 22);
    ck_assert_int_eq(p.n_anomalous, 6 * 22);
    ck_assert_str_eq(p.normal[7 * 22 + 12], "a photo of the clean metal nut.");
    ck_assert_str_eq(p.anomalous[4 * 22], "a cropped photo of the bent metal nut.");
    ck_assert_str_eq(p.anomalous[5 * 22 + 1], "a cropped photo of a metal nut with bad soldering.");
    prompts_free(&p);
    ck_assert_int_eq(winclip_settings_set(&s, "class_name", "chain-link fence", &err), 0);
    winclip_settings_class_name(&s, "grid", cls, sizeof cls);
    ck_assert_str_eq(cls, "chain-link fence");
}
END_TEST

Suite *prompts_suite(void)
{
    Suite *s = suite_create("prompts");
    TCase *core = tcase_create("Core");
    tcase_add_test(core, prompts_paper_strings);
    tcase_add_test(core, prompts_other_sets);
    suite_add_tcase(s, core);
    return s;
}
