/*
 * check_metric_table.c - tests for eval/metric_table.c: every entry named, names unique, the
 * paper's column orders, `winclip metrics` order naming every printed metric once, and
 * metric_value reading the field each entry says it computes.
 */
#include <check.h>
#include <string.h>

#include "eval/metric_table.h"
#include "check_suites.h"

START_TEST(entries_named_and_unique)
{
    for (int i = 0; i < METRIC_COUNT; i++) {
        ck_assert_ptr_nonnull(METRIC_TABLE[i].name);
        ck_assert_ptr_nonnull(METRIC_TABLE[i].computed);
        ck_assert(METRIC_TABLE[i].offset + sizeof(double) <= sizeof(MetricValues));
        for (int j = 0; j < i; j++) ck_assert_str_ne(METRIC_TABLE[i].name, METRIC_TABLE[j].name);
    }
    ck_assert_str_eq(metric_name(METRIC_AUPRO), "aupro_0.3");
    ck_assert_str_eq(metric_label(METRIC_AUPRO), "PRO");
    ck_assert_ptr_null(metric_label(METRIC_N_IMAGES));
    /* the paper's table 1 order, with labels */
    const char *main_labels[METRIC_N_MAIN] = {"i-AUROC", "i-AUPR", "i-F1max", "p-AUROC", "PRO", "p-F1max"};
    for (int m = 0; m < METRIC_N_MAIN; m++) ck_assert_str_eq(metric_label(METRIC_MAIN_COLUMNS[m]), main_labels[m]);
    for (int m = 0; m < METRIC_N_CATEGORY; m++) ck_assert_ptr_nonnull(metric_label(METRIC_CATEGORY_COLUMNS[m]));
}
END_TEST

START_TEST(cli_order_complete)
{
    int seen[METRIC_COUNT] = {0};
    for (int i = 0; i < METRIC_N_CLI; i++) {
        ck_assert_ptr_nonnull(METRIC_TABLE[METRIC_CLI_ORDER[i]].cli_name);
        seen[METRIC_CLI_ORDER[i]]++;
    }
    for (int m = 0; m < METRIC_COUNT; m++) ck_assert_int_eq(seen[m], METRIC_TABLE[m].cli_name ? 1 : 0);
}
END_TEST

START_TEST(values_read_their_field)
{
    MetricValues v = {0};
    v.image.auroc = 0.1;
    v.image.f1_threshold = 0.2;
    v.image_maxmap.auroc = 0.3;
    PixelMetrics pm = {0};
    pm.aupro = 0.4;
    pm.aupro_cflow200 = 0.5;
    pm.n_regions = 7;
    pm.n_pos_pixels = 3510;
    metric_values_set_pixel(&v, &pm);
    v.map_width = 240;
    ck_assert(metric_value(METRIC_IMAGE_AUROC, &v) == 0.1);
    ck_assert(metric_value(METRIC_IMAGE_F1_THRESHOLD, &v) == 0.2);
    ck_assert(metric_value(METRIC_IMAGE_AUROC_MAXMAP, &v) == 0.3);
    ck_assert(metric_value(METRIC_AUPRO, &v) == 0.4);
    ck_assert(metric_value(METRIC_AUPRO_CFLOW200, &v) == 0.5);
    ck_assert(metric_value(METRIC_N_REGIONS, &v) == 7);
    ck_assert(metric_value(METRIC_N_POS_PIXELS, &v) == 3510);
    ck_assert(metric_value(METRIC_MAP_WIDTH, &v) == 240);
    ck_assert(metric_value(METRIC_PIXEL_AUROC, &v) == 0);
}
END_TEST

Suite *metric_table_suite(void)
{
    Suite *s = suite_create("metric_table");
    TCase *tc = tcase_create("Core");
    tcase_add_test(tc, entries_named_and_unique);
    tcase_add_test(tc, cli_order_complete);
    tcase_add_test(tc, values_read_their_field);
    suite_add_tcase(s, tc);
    return s;
}
