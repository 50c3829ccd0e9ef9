/*
 * check_windows.c - tests for windows.c: anomalib's make_masks unit case, window counts and
 * patch coverage.
 */
#include <check.h>

#include "clip/windows.h"
#include "check_suites.h"
#include "test_util.h"

START_TEST(windows_tables)
{
    /* anomalib test_utils: make_masks((3,3), 2) columns = [[0,1,3,4],[1,2,4,5],[3,4,6,7],[4,5,7,8]] */
    int idx[16];
    ck_assert_int_eq(windows_count(3, 2, 1), 4);
    windows_patch_index(3, 2, 1, idx);
    const int want[16] = {0, 1, 3, 4, 1, 2, 4, 5, 3, 4, 6, 7, 4, 5, 7, 8};
    for (int i = 0; i < 16; i++) ck_assert_int_eq(idx[i], want[i]);
    ck_assert_int_eq(windows_count(15, 2, 1), 196);
    ck_assert_int_eq(windows_count(15, 3, 1), 169);
    ck_assert_int_eq(windows_count(15, 3, 2), 49);
    int cov[225];
    windows_coverage(15, 3, 1, cov);
    ck_assert_int_eq(cov[0], 1);
    ck_assert_int_eq(cov[7 * 15 + 7], 9);
    ck_assert_int_eq(cov[1], 2);
}
END_TEST

Suite *windows_suite(void)
{
    Suite *s = suite_create("windows");
    TCase *core = tcase_create("Core");
    tcase_add_test(core, windows_tables);
    suite_add_tcase(s, core);
    return s;
}
