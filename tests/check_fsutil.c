/*
 * check_fsutil.c - tests for fsutil.c: atomic write/commit/discard (the final name never holds a
 * partial file, no temp file is left), reserved temp names with durable rename, atomic copy,
 * mkdir -p, sorted listings without hidden entries, image names, basename and stem.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/base.h"
#include "util/fsutil.h"
#include "check_suites.h"
#include "test_util.h"

START_TEST(atomic_replace)
{
    Error err = {0};
    char *path = xasprintf("%s/f.txt", test_tmp);
    ck_assert_int_eq(fs_write_atomic(path, "old\n", 4, &err), 0);
    AtomicFile af;
    ck_assert_int_eq(fsutil_atomic_open(&af, path, &err), 0);
    fputs("new half", af.f);
    fflush(af.f);
    /* before commit the final name still holds the old content */
    char *text = test_read_file(path, NULL);
    ck_assert_str_eq(text, "old\n");
    free(text);
    fsutil_atomic_discard(&af);
    text = test_read_file(path, NULL);
    ck_assert_str_eq(text, "old\n");
    free(text);
    ck_assert_int_eq(test_count_entries(test_tmp), 1);
    ck_assert_int_eq(fsutil_atomic_open(&af, path, &err), 0);
    fputs("new\n", af.f);
    ck_assert_int_eq(fsutil_atomic_commit(&af, &err), 0);
    text = test_read_file(path, NULL);
    ck_assert_str_eq(text, "new\n");
    free(text);
    ck_assert_int_eq(test_count_entries(test_tmp), 1);
    AtomicFile zero = {0};
    fsutil_atomic_discard(&zero);
    free(path);
}
END_TEST

START_TEST(fsutil_temp_and_copy)
{
    Error err = {0};
    char *path = xasprintf("%s/data.h5", test_tmp);
    char *tmp = fs_temp_reserve(path, &err);
    ck_assert_ptr_nonnull(tmp);
    /* a hidden name beside path, already created (so no one else takes it) */
    ck_assert(strncmp(tmp, test_tmp, strlen(test_tmp)) == 0 && fs_basename(tmp)[0] == '.');
    ck_assert(fs_is_file(tmp) && !fs_is_file(path));
    ck_assert_int_eq(test_write_file(tmp, "payload", 7), 0);
    ck_assert_int_eq(fs_rename_durable(tmp, path, &err), 0);
    ck_assert(!fs_is_file(tmp));
    char *text = test_read_file(path, NULL);
    ck_assert_str_eq(text, "payload");
    free(text);
    ck_assert_int_eq(test_count_entries(test_tmp), 1);
    /* two reservations for the same path never share a name */
    char *t1 = fs_temp_reserve(path, &err), *t2 = fs_temp_reserve(path, &err);
    ck_assert(t1 && t2 && strcmp(t1, t2) != 0);
    remove(t1), remove(t2);
    free(t1), free(t2);
    ck_assert_int_eq(fs_rename_durable(tmp, path, &err), ERR_IO); /* tmp is gone now */
    ck_assert_msg(strstr(err.msg, tmp) != NULL, "%s", err.msg);
    free(tmp);

    /* copy: same bytes (embedded NULs included), replaces an existing file */
    char *copy = xasprintf("%s/copy.bin", test_tmp);
    const char bytes[6] = {'a', 0, 'b', '\n', 0, 'c'};
    ck_assert_int_eq(test_write_file(path, bytes, sizeof bytes), 0);
    ck_assert_int_eq(test_write_file(copy, "old", 3), 0);
    ck_assert_int_eq(fs_copy_atomic(path, copy, &err), 0);
    size_t len = 0;
    text = test_read_file(copy, &len);
    ck_assert(len == sizeof bytes && memcmp(text, bytes, sizeof bytes) == 0);
    free(text);
    ck_assert_int_eq(test_count_entries(test_tmp), 2);
    char *missing = xasprintf("%s/nope.bin", test_tmp);
    ck_assert_int_eq(fs_copy_atomic(missing, copy, &err), ERR_MISSING);
    ck_assert_msg(strstr(err.msg, "nope.bin") != NULL, "%s", err.msg);
    text = test_read_file(copy, &len);
    ck_assert(len == sizeof bytes); /* a failed copy leaves dst alone */
    free(text);
    free(missing), free(copy), free(path);
}
END_TEST

START_TEST(fsutil_mkdirs)
{
    Error err = {0};
    char *deep = xasprintf("%s/a/b/c", test_tmp);
    ck_assert(!fs_is_dir(deep));
    ck_assert_int_eq(fs_mkdirs(deep, &err), 0);
    ck_assert(fs_is_dir(deep) && !fs_is_file(deep));
    ck_assert_int_eq(fs_mkdirs(deep, &err), 0); /* exists: fine */
    char *slash = xasprintf("%s/a/d/", test_tmp);
    ck_assert_int_eq(fs_mkdirs(slash, &err), 0);
    char *d = xasprintf("%s/a/d", test_tmp);
    ck_assert(fs_is_dir(d));
    /* the parent of a file path, not the file */
    char *file = xasprintf("%s/x/y/out.tsv", test_tmp);
    ck_assert_int_eq(fs_mkdirs_parent(file, &err), 0);
    char *xy = xasprintf("%s/x/y", test_tmp);
    ck_assert(fs_is_dir(xy) && !fs_is_dir(file) && !fs_is_file(file));
    ck_assert_int_eq(fs_mkdirs_parent("plain-name.tsv", &err), 0); /* no folder part: nothing to do */
    ck_assert_int_eq(test_count_entries(test_tmp), 2);               /* a/ and x/ */
    /* a file in the way */
    ck_assert_int_eq(test_write_file(file, "x", 1), 0);
    char *through = xasprintf("%s/sub", file);
    ck_assert_int_eq(fs_mkdirs(through, &err), ERR_IO);
    ck_assert_msg(strstr(err.msg, "out.tsv") != NULL, "%s", err.msg);
    free(through), free(xy), free(file), free(d), free(slash), free(deep);
}
END_TEST

static void touch(const char *name)
{
    char *p = xasprintf("%s/%s", test_tmp, name);
    ck_assert_int_eq(test_write_file(p, "x", 1), 0);
    free(p);
}

static void mkdir_in(const char *name)
{
    char *p = xasprintf("%s/%s", test_tmp, name);
    ck_assert_int_eq(mkdir(p, 0777), 0);
    free(p);
}

static void expect_list(FsListKind kind, const char *const *want, size_t n_want)
{
    char **names = NULL;
    size_t n = 0;
    Error err = {0};
    ck_assert_int_eq(fs_list(test_tmp, kind, &names, &n, &err), 0);
    ck_assert_uint_eq(n, n_want);
    for (size_t i = 0; i < n; i++) ck_assert_str_eq(names[i], want[i]);
    fs_list_free(names, n);
}

START_TEST(fsutil_listing)
{
    char **names = NULL;
    size_t n = 7;
    Error err = {0};
    /* empty folder: no names, and fs_list_free takes the empty result */
    ck_assert_int_eq(fs_list(test_tmp, FS_LIST_IMAGES, &names, &n, &err), 0);
    ck_assert_uint_eq(n, 0);
    fs_list_free(names, n);

    const char *files[] = {"z.png", "b10.png", "b9.png", "A.JPG", "m.jpeg", "n.bmp", "readme.txt", ".h.png", "noext"};
    for (size_t i = 0; i < ARRAY_LEN(files); i++) touch(files[i]);
    const char *dirs[] = {"good", "broken", ".git", "dir.png"};
    for (size_t i = 0; i < ARRAY_LEN(dirs); i++) mkdir_in(dirs[i]);
    /* strcmp order (upper case first, no natural sort), hidden and non-image entries left out,
     * a folder named like an image is not an image */
    const char *images[] = {"A.JPG", "b10.png", "b9.png", "m.jpeg", "n.bmp", "z.png"};
    expect_list(FS_LIST_IMAGES, images, ARRAY_LEN(images));
    const char *subdirs[] = {"broken", "dir.png", "good"};
    expect_list(FS_LIST_DIRS, subdirs, ARRAY_LEN(subdirs));

    char *missing = xasprintf("%s/absent", test_tmp);
    ck_assert_int_eq(fs_list(missing, FS_LIST_DIRS, &names, &n, &err), ERR_MISSING);
    ck_assert_msg(strstr(err.msg, missing) != NULL, "%s", err.msg);
    ck_assert_ptr_null(names);
    ck_assert_uint_eq(n, 0);
    char *file = xasprintf("%s/z.png", test_tmp);
    ck_assert_int_eq(fs_list(file, FS_LIST_IMAGES, &names, &n, &err), ERR_MISSING);
    free(file), free(missing);
}
END_TEST

START_TEST(fsutil_names)
{
    const char *yes[] = {"a.png", "a.PNG", "x.y.jpg", "b.Jpeg", "c.bmp"};
    const char *no[] = {".a.png", "png", "a.png.txt", "a.gif", ".png", "a.", ""};
    for (size_t i = 0; i < ARRAY_LEN(yes); i++) ck_assert_msg(fs_is_image_name(yes[i]), "%s", yes[i]);
    for (size_t i = 0; i < ARRAY_LEN(no); i++) ck_assert_msg(!fs_is_image_name(no[i]), "%s", no[i]);
    ck_assert_str_eq(fs_basename("a/b/007.png"), "007.png");
    ck_assert_str_eq(fs_basename("007.png"), "007.png");
    ck_assert_str_eq(fs_basename("a/b/"), "");
    const char *stems[][2] = {{"a/b/007.png", "007"}, {"x.tar.gz", "x.tar"}, {"dir/.hidden", ".hidden"}, {"plain", "plain"}};
    for (size_t i = 0; i < ARRAY_LEN(stems); i++) {
        char *s = fs_stem(stems[i][0]);
        ck_assert_str_eq(s, stems[i][1]);
        free(s);
    }
}
END_TEST

START_TEST(fsutil_errors)
{
    Error err = {0};
    char *bad = xasprintf("%s/no/such/dir/f.txt", test_tmp);
    AtomicFile af;
    ck_assert_int_eq(fsutil_atomic_open(&af, bad, &err), ERR_IO);
    ck_assert_msg(strstr(err.msg, "no/such/dir") != NULL, "%s", err.msg);
    fsutil_atomic_discard(&af); /* safe after a failed open */
    ck_assert_ptr_null(fs_temp_reserve(bad, &err));
    ck_assert_msg(strstr(err.msg, "no/such/dir") != NULL, "%s", err.msg);
    /* commit onto a folder: rename fails, the temp file is removed, the folder stays */
    char *dir = xasprintf("%s/taken", test_tmp);
    ck_assert_int_eq(fs_mkdirs(dir, &err), 0);
    char *inner = xasprintf("%s/taken/keep", test_tmp);
    ck_assert_int_eq(test_write_file(inner, "k", 1), 0);
    ck_assert_int_eq(fsutil_atomic_open(&af, dir, &err), 0);
    fputs("data", af.f);
    ck_assert_int_eq(fsutil_atomic_commit(&af, &err), ERR_IO);
    ck_assert_msg(strstr(err.msg, "taken") != NULL, "%s", err.msg);
    ck_assert(fs_is_dir(dir) && fs_is_file(inner));
    ck_assert_int_eq(test_count_entries(test_tmp), 1);
    free(inner), free(dir), free(bad);
}
END_TEST

Suite *fsutil_suite(void)
{
    Suite *s = suite_create("fsutil");
    TCase *core = tcase_create("Core");
    tcase_add_checked_fixture(core, test_tmp_setup, test_tmp_teardown);
    tcase_add_test(core, atomic_replace);
    tcase_add_test(core, fsutil_temp_and_copy);
    tcase_add_test(core, fsutil_mkdirs);
    tcase_add_test(core, fsutil_listing);
    tcase_add_test(core, fsutil_names);
    suite_add_tcase(s, core);
    TCase *lim = tcase_create("Limits");
    tcase_add_checked_fixture(lim, test_tmp_setup, test_tmp_teardown);
    tcase_add_test(lim, fsutil_errors);
    suite_add_tcase(s, lim);
    return s;
}
