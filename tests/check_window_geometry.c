/*
 * check_window_geometry.c - tests for WindowGeometry (clip/windows.h): init validates and
 * zeroes unused scale slots, equality sees every field but ignores slots past n_scales, the
 * cache identity string.
 */
#include <check.h>
#include <string.h>

#include "clip/windows.h"
#include "check_suites.h"
#include "test_util.h"

START_TEST(geometry_init_and_equal)
{
    const int scales[3] = {2, 3, 5};
    WindowGeometry a, b;
    Error err = {0};
    ck_assert_int_eq(window_geometry_init(&a, 15, 896, 640, scales, 2, 1, &err), 0);
    ck_assert(a.grid == 15 && a.width == 896 && a.embed_dim == 640 && a.n_scales == 2);
    ck_assert(a.scales[2] == 0 && a.scales[3] == 0); /* unused slots zeroed */
    ck_assert_int_eq(window_geometry_scale(&a, 3), 1);
    ck_assert_int_eq(window_geometry_scale(&a, 5), -1);
    ck_assert_int_eq(window_geometry_count(&a, 0), 196);
    ck_assert_int_eq(window_geometry_count(&a, 1), 169);
    char buf[128];
    window_geometry_string(&a, buf, sizeof buf);
    ck_assert_str_eq(buf, "grid=15;width=896;embed_dim=640;scales=2,3;stride=1");
    b = a;
    b.scales[3] = 77; /* past n_scales: not part of the value */
    ck_assert(window_geometry_equal(&a, &b));
    /* each field changes the value */
    int *fields[] = {&b.grid, &b.width, &b.embed_dim, &b.n_scales, &b.scales[0], &b.scales[1],
                     &b.stride};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        b = a;
        *fields[i] += 1; /* fields point into b */
        ck_assert_msg(!window_geometry_equal(&a, &b) && !window_geometry_equal(&b, &a), "field %zu", i);
    }
}
END_TEST

START_TEST(geometry_init_refuses)
{
    const int big[1] = {16}, zero[1] = {0}, five[5] = {1, 2, 3, 4, 5}, two[1] = {2};
    WindowGeometry g;
    Error err = {0};
    ck_assert_int_eq(window_geometry_init(&g, 15, 8, 4, big, 1, 1, &err), ERR_USAGE);
    ck_assert(strstr(err.msg, "k = 16") != NULL && strstr(err.msg, "1..15") != NULL);
    ck_assert_int_eq(g.grid, 0); /* left zeroed */
    ck_assert_int_eq(window_geometry_init(&g, 15, 8, 4, zero, 1, 1, &err), ERR_USAGE);
    ck_assert_int_eq(window_geometry_init(&g, 15, 8, 4, five, 5, 1, &err), ERR_USAGE);
    ck_assert(strstr(err.msg, "found 5") != NULL);
    ck_assert_int_eq(window_geometry_init(&g, 15, 8, 4, two, 1, 0, &err), ERR_USAGE);
    ck_assert(strstr(err.msg, "stride") != NULL);
    ck_assert_int_eq(window_geometry_init(&g, 15, 8, 4, NULL, 0, 1, &err), 0);
    ck_assert_int_eq(g.n_scales, 0);
}
END_TEST

Suite *window_geometry_suite(void)
{
    Suite *s = suite_create("window_geometry");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, geometry_init_and_equal);
    tcase_add_test(tc, geometry_init_refuses);
    suite_add_tcase(s, tc);
    return s;
}
