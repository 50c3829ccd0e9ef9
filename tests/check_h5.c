/*
 * check_h5.c - tests for h5.c: write/read round trip of float, double, string datasets and
 * attributes; shape and missing-dataset errors; missing and non-HDF5 files.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/base.h"
#include "util/h5.h"
#include "check_suites.h"
#include "test_util.h"

START_TEST(h5_roundtrip)
{
    char *dir = test_mkdtemp();
    char path[1024];
    snprintf(path, sizeof path, "%s/t.h5", dir);
    Error err = {0};
    H5File f = {0};
    ck_assert_int_eq(h5_create(&f, path, &err), 0);
    float data[6] = {1, 2, 3, 4, 5, 6};
    int64_t dims[2] = {2, 3};
    ck_assert_int_eq(h5_write_f32(&f, "/a/b/x", data, 2, dims, &err), 0);
    double sc = 2.5;
    ck_assert_int_eq(h5_write_f64(&f, "/s", &sc, 0, NULL, &err), 0);
    const char *strs[] = {"alpha", "beta"};
    ck_assert_int_eq(h5_write_strings(&f, "/names", strs, 2, &err), 0);
    ck_assert_int_eq(h5_write_attr_string(&f, "/", "config", "{\"k\": 1}", &err), 0);
    h5_close(&f);

    ck_assert_int_eq(h5_open_read(&f, path, &err), 0);
    ck_assert(h5_exists(&f, "/a/b/x"));
    ck_assert(!h5_exists(&f, "/a/c/x"));
    float got[6];
    ck_assert_int_eq(h5_read_f32_shape(&f, "/a/b/x", got, 2, dims, &err), 0);
    ck_assert(test_allclose(got, data, 6, 0, "roundtrip"));
    int64_t wrong[2] = {3, 2};
    ck_assert_int_eq(h5_read_f32_shape(&f, "/a/b/x", got, 2, wrong, &err), ERR_SHAPE);
    ck_assert_msg(strstr(err.msg, "expected shape (3, 2), found (2, 3)") != NULL, "%s", err.msg);
    ck_assert_int_eq(h5_read_f32(&f, "/nope", got, 6, &err), ERR_MISSING);
    ck_assert(strstr(err.msg, "'/nope' is missing") != NULL);
    double s2;
    ck_assert_int_eq(h5_read_f64(&f, "/s", &s2, 1, &err), 0);
    ck_assert(s2 == 2.5);
    char **names = NULL;
    size_t n = 0;
    ck_assert_int_eq(h5_read_strings(&f, "/names", &names, &n, &err), 0);
    ck_assert_int_eq((int)n, 2);
    ck_assert_str_eq(names[1], "beta");
    h5_strings_free(names, n);
    char *cfg = NULL;
    ck_assert_int_eq(h5_read_attr_string(&f, "/", "config", &cfg, &err), 0);
    ck_assert_str_eq(cfg, "{\"k\": 1}");
    free(cfg);
    ck_assert_int_eq(h5_read_attr_string(&f, "/", "nothere", &cfg, &err), ERR_MISSING);
    h5_close(&f);
    test_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(h5_checksummed_datasets)
{
    char *dir = test_mkdtemp();
    char *path = xasprintf("%s/c.h5", dir);
    H5File f = {0};
    Error err = {0};
    ck_assert_int_eq(h5_create(&f, path, &err), 0);
    float a[6] = {1, 2, 3, 4, 5, 6}, b[6] = {0};
    int64_t d2[2] = {2, 3}, d0[1] = {0};
    ck_assert_msg(h5_write_f32_checked(&f, "g/x", a, 2, d2, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(h5_write_f32(&f, "y", a, 2, d2, &err), 0);
    ck_assert_int_eq(h5_checksummed(&f, "g/x", &err), 1);
    ck_assert_int_eq(h5_checksummed(&f, "y", &err), 0);
    ck_assert_int_lt(h5_checksummed(&f, "nope", &err), 0);
    ck_assert(strstr(err.msg, "nope") != NULL);
    ck_assert_int_eq(h5_read_f32_shape(&f, "g/x", b, 2, d2, &err), 0);
    ck_assert(memcmp(a, b, sizeof a) == 0);
    ck_assert_int_eq(h5_write_f32_checked(&f, "z", a, 0, d2, &err), ERR_USAGE); /* scalar: no chunks */
    ck_assert_int_eq(h5_write_f32_checked(&f, "z", a, 1, d0, &err), ERR_USAGE); /* empty */
    const float zeros[6] = {0};
    ck_assert_int_eq(h5_write_f32_checked(&f, "g/x", zeros, 2, d2, &err), 0);  /* replaced */
    ck_assert_int_eq(h5_read_f32_shape(&f, "g/x", a, 2, d2, &err), 0);
    ck_assert(a[5] == 0.0f);
    h5_close(&f);
    test_rmtree(dir);
    free(path);
    free(dir);
}
END_TEST

START_TEST(h5_bad_files)
{
    char *dir = test_mkdtemp();
    char path[1024];
    Error err = {0};
    H5File f = {0};
    snprintf(path, sizeof path, "%s/missing.h5", dir);
    ck_assert_int_eq(h5_open_read(&f, path, &err), ERR_MISSING);
    ck_assert(strstr(err.msg, "missing.h5") != NULL);
    snprintf(path, sizeof path, "%s/text.h5", dir);
    test_write_file(path, "not hdf5 at all", 15);
    ck_assert_int_eq(h5_open_read(&f, path, &err), ERR_FORMAT);
    ck_assert(strstr(err.msg, "not an HDF5 file") != NULL);
    h5_close(&f);
    test_rmtree(dir);
    free(dir);
}
END_TEST

Suite *h5_suite(void)
{
    Suite *s = suite_create("h5");
    TCase *core = tcase_create("Core");
    tcase_add_test(core, h5_roundtrip);
    tcase_add_test(core, h5_checksummed_datasets);
    suite_add_tcase(s, core);
    TCase *lim = tcase_create("Limits");
    tcase_add_test(lim, h5_bad_files);
    suite_add_tcase(s, lim);
    return s;
}
