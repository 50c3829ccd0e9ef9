/*
 * check_tsv.c - tests for harness/tsv.c: a good file with blank lines and CRLF endings, look-ups
 * and numeric cells; the parse errors (missing file, empty file, ragged row naming file:line,
 * expected and found).
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness/tsv.h"
#include "check_suites.h"
#include "test_util.h"

static char *write_tmp(const char *name, const char *text)
{
    char *path = xasprintf("%s/%s", test_tmp, name);
    ck_assert_int_eq(test_write_file(path, text, strlen(text)), 0);
    return path;
}

START_TEST(load_and_lookup)
{
    char *path = write_tmp("t.tsv", "dataset\tmetric\tvalue\tverified\r\n\nmvtec\ti-AUROC\t91.8\tyes\r\n"
                                    "visa\ti-AUROC\t78.1\tUNVERIFIED\nvisa\tp-AUROC\tn/a\t\n");
    Tsv t;
    Error err = {0};
    ck_assert_int_eq(tsv_load(&t, path, &err), 0);
    ck_assert_int_eq(t.n_cols, 4);
    ck_assert_int_eq(t.n_rows, 3);
    ck_assert_str_eq(t.header[3], "verified");
    ck_assert_int_eq(tsv_col(&t, "value"), 2);
    ck_assert_int_eq(tsv_col(&t, "nope"), -1);
    const char *names[] = {"dataset", "metric"};
    const char *visa_i[] = {"visa", "i-AUROC"};
    const char *any_p[] = {NULL, "p-AUROC"};
    const char *none[] = {"btad", NULL};
    int r = tsv_find(&t, 2, names, visa_i);
    ck_assert_int_eq(r, 1);
    ck_assert(fabs(tsv_cell_num(&t, r, "value") - 78.1) < 1e-12);
    ck_assert_int_eq(tsv_cell_unverified(&t, r), 1);
    ck_assert_int_eq(tsv_cell_unverified(&t, 0), 0);
    ck_assert_int_eq(tsv_find(&t, 2, names, any_p), 2);
    ck_assert(isnan(tsv_cell_num(&t, 2, "value")));  /* not a number */
    ck_assert(isnan(tsv_cell_num(&t, 0, "missing"))); /* no such column */
    ck_assert_int_eq(tsv_find(&t, 2, names, none), -1);
    const char *bad_col[] = {"nope"};
    const char *any[] = {NULL};
    ck_assert_int_eq(tsv_find(&t, 1, bad_col, any), -1); /* a missing column never matches */
    tsv_free(&t);
    ck_assert_int_eq(t.n_rows, 0);
    tsv_free(&t); /* twice: safe */
    free(path);
}
END_TEST

START_TEST(parse_errors)
{
    Tsv t;
    Error err = {0};
    char *missing = xasprintf("%s/absent.tsv", test_tmp);
    ck_assert_int_eq(tsv_load(&t, missing, &err), ERR_MISSING);
    ck_assert_ptr_nonnull(strstr(err.msg, "absent.tsv"));
    free(missing);

    char *empty = write_tmp("empty.tsv", "\n\r\n");
    err = (Error){0};
    ck_assert_int_eq(tsv_load(&t, empty, &err), ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "empty.tsv: empty file"));
    ck_assert_ptr_null(t.header);
    free(empty);

    char *ragged = write_tmp("ragged.tsv", "a\tb\tc\n1\t2\t3\n\n4\t5\n");
    err = (Error){0};
    ck_assert_int_eq(tsv_load(&t, ragged, &err), ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "ragged.tsv:4: expected 3 tab-separated columns, found 2"));
    ck_assert_int_eq(t.n_rows, 0); /* nothing kept on error */
    ck_assert_ptr_null(t.rows);
    free(ragged);

    char *wide = write_tmp("wide.tsv", "a\tb\n1\t2\t3\n");
    err = (Error){0};
    ck_assert_int_eq(tsv_load(&t, wide, &err), ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "wide.tsv:2: expected 2 tab-separated columns, found 3"));
    free(wide);
}
END_TEST

Suite *tsv_suite(void)
{
    Suite *s = suite_create("tsv");
    TCase *tc = tcase_create("Core");
    tcase_add_checked_fixture(tc, test_tmp_setup, test_tmp_teardown);
    tcase_add_test(tc, load_and_lookup);
    tcase_add_test(tc, parse_errors);
    suite_add_tcase(s, tc);
    return s;
}
