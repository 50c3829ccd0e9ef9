/*
 * check_base.c - tests for base.c: error codes and message prefixes.
 */
#include <check.h>

#include "util/base.h"
#include "check_suites.h"
#include "test_util.h"

START_TEST(err_prefix)
{
    Error err = {0};
    ck_assert_int_eq(err_setf(&err, ERR_IO, "open %s", "x.h5"), ERR_IO);
    err_prefixf(&err, "loading: ");
    ck_assert_str_eq(err.msg, "loading: open x.h5");
    ck_assert_int_eq(err.code, ERR_IO);
}
END_TEST

Suite *base_suite(void)
{
    Suite *s = suite_create("base");
    TCase *core = tcase_create("Core");
    tcase_add_test(core, err_prefix);
    suite_add_tcase(s, core);
    return s;
}
