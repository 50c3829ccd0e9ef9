/*
 * test_util.h - helpers shared by the Check suites: shared-fixture paths, allclose with
 * max-diff reporting, temporary folders, running the winclip binary.
 *
 *     char path[1024];
 *     if (!test_shared_path(path, sizeof path, "fixtures/tiny_clip/reference.h5")) return; // SKIP, or
 *                                                                    // fails if WINCLIP_REQUIRE_FIXTURES=1
 *     ck_assert(test_allclose(got, want, n, 1e-4, "vision_embed"));
 */
#ifndef WINCLIP_TEST_UTIL_H
#define WINCLIP_TEST_UTIL_H

#include <stddef.h>

/* The shared folder: $WINCLIP_SHARED, else the Makefile's SHARED_DIR. */
const char *test_shared_dir(void);

/* Build SHARED/rel into buf. Returns 1 if it exists. If not: with WINCLIP_REQUIRE_FIXTURES=1
 * the current test fails ("fixture missing: <path>"); otherwise it prints
 * "SKIP <rel>: shared folder not found at <dir> (set WINCLIP_SHARED)", records the current test
 * as skipped and returns 0 (the test then returns early and passes). */
int test_shared_path(char *buf, size_t cap, const char *rel);

/* 1 when $WINCLIP_REQUIRE_FIXTURES is "1" (CI): a missing fixture is a failure, not a skip. */
int test_require_fixtures(void);

/* The runner's skip count: test_skips_begin() before srunner_run_all (opens the log every forked
 * test appends to), test_skips_end() after it: the number of tests that skipped (a test missing
 * several fixtures counts once; under CK_FORK=no the iterations of a loop test count once), or
 * -1 if the log could not be read. */
void test_skips_begin(void);
int test_skips_end(void);

/* max |got - want| <= tol over n floats. On failure prints label, maxdiff, first bad index
 * and both values; always returns 1/0 (use inside ck_assert). NaN anywhere fails. */
int test_allclose(const float *got, const float *want, size_t n, double tol, const char *label);
int test_allclose_f64(const double *got, const double *want, size_t n, double tol, const char *label);

/* Fresh empty folder under $TMPDIR (or /tmp); returns a static-lifetime string owned by the
 * caller (free it). Removed by test_rmtree. */
char *test_mkdtemp(void);
void test_rmtree(const char *path);

/* Check fixture pair: a fresh temp folder in test_tmp for each test, removed afterwards
 * (tcase_add_checked_fixture(tc, test_tmp_setup, test_tmp_teardown)). */
extern char *test_tmp;
void test_tmp_setup(void);
void test_tmp_teardown(void);

/* Number of entries of dir, hidden ones included (not "." and ".."); -1 if it cannot be opened. */
int test_count_entries(const char *dir);

/* Write text to path (overwrite). Returns 0 on success. */
int test_write_file(const char *path, const void *data, size_t len);

/* Read a whole file (NUL-terminated, *len without the NUL); NULL if missing. Caller frees. */
char *test_read_file(const char *path, size_t *len);

/* Run the built binary: `WINCLIP_BIN args` through /bin/sh with stdout and stderr captured
 * into *out and *errout (malloc'ed, may be NULL to discard). Returns the exit status. */
int test_run_winclip(const char *args, char **out, char **errout);

/* Path of the winclip binary under test. */
const char *test_winclip_bin(void);

#endif
