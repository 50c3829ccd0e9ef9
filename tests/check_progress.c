/*
 * check_progress.c - tests for progress.c: TTY lines overwrite with '\r', plain lines never
 * contain one, durations format, OFF prints nothing.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "util/progress.h"
#include "check_suites.h"
#include "test_util.h"

static char *capture(ProgressMode mode, long total, double interval)
{
    FILE *f = tmpfile();
    ck_assert_ptr_nonnull(f);
    Progress p;
    progress_start(&p, f, "bottle k0", total, mode);
    p.interval_s = interval;
    for (long i = 1; i <= 5; i++) progress_update(&p, i);
    progress_finish(&p);
    long len = ftell(f);
    rewind(f);
    char *buf = calloc(1, (size_t)len + 1);
    ck_assert_int_eq((long)fread(buf, 1, (size_t)len, f), len);
    fclose(f);
    return buf;
}

START_TEST(tty_and_plain)
{
    char *tty = capture(PROGRESS_TTY, 5, 0.0);
    ck_assert_msg(strchr(tty, '\r') && strstr(tty, "[####") && strstr(tty, "5/5") && strstr(tty, "img/s") &&
                      strstr(tty, "ETA"),
                  "%s", tty);
    ck_assert(tty[strlen(tty) - 1] == '\n');
    char *plain = capture(PROGRESS_PLAIN, 5, 0.0);
    ck_assert_msg(strchr(plain, '\r') == NULL, "%s", plain);
    ck_assert_msg(strstr(plain, "bottle k0: 3/5 (60%)") && strstr(plain, "bottle k0: 5/5 (100%)"), "%s", plain);
    int lines = 0;
    for (char *c = plain; *c; c++) lines += *c == '\n';
    ck_assert_int_eq(lines, 6); /* 5 updates (interval 0) + the final line */
    free(tty);
    free(plain);
    /* default interval: only the final line */
    plain = capture(PROGRESS_PLAIN, 5, 10.0);
    ck_assert_msg(strstr(plain, "5/5 (100%)") && strchr(plain, '\n') == plain + strlen(plain) - 1, "%s", plain);
    free(plain);
}
END_TEST

START_TEST(durations)
{
    char b[16];
    progress_format_duration(b, sizeof b, 0.2);
    ck_assert_str_eq(b, "0:00");
    progress_format_duration(b, sizeof b, 75);
    ck_assert_str_eq(b, "1:15");
    progress_format_duration(b, sizeof b, 3725);
    ck_assert_str_eq(b, "1:02:05");
}
END_TEST

START_TEST(off_and_unknown_total)
{
    char *off = capture(PROGRESS_OFF, 5, 0.0);
    ck_assert_str_eq(off, "");
    free(off);
    char *unk = capture(PROGRESS_PLAIN, 0, 0.0);
    ck_assert_msg(strstr(unk, "bottle k0: 5 ") && !strstr(unk, "ETA"), "%s", unk);
    free(unk);
    char *neg = capture(PROGRESS_TTY, 0, 0.0);
    ck_assert(strstr(neg, "5/0") != NULL);
    free(neg);
    char b[16];
    progress_format_duration(b, sizeof b, -1);
    ck_assert_str_eq(b, "?");
}
END_TEST

Suite *progress_suite(void)
{
    Suite *s = suite_create("progress");
    TCase *core = tcase_create("Core");
    tcase_add_test(core, tty_and_plain);
    tcase_add_test(core, durations);
    suite_add_tcase(s, core);
    TCase *lim = tcase_create("Limits");
    tcase_add_test(lim, off_and_unknown_total);
    suite_add_tcase(s, lim);
    return s;
}
