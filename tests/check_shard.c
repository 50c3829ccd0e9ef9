/*
 * check_shard.c - tests for shard.c (--shard I/N parsing, the partition over a listed dataset)
 * and run_lock.c (a held lock is reported busy with its holder, released, taken again).
 */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness/run_lock.h"
#include "harness/shard.h"
#include "util/fsutil.h"
#include "check_suites.h"
#include "test_util.h"

START_TEST(parse_shards)
{
    ShardSpec s;
    Error err = {0};
    ck_assert_int_eq(shard_parse("0/1", &s, &err), 0);
    ck_assert_int_eq(s.index, 0);
    ck_assert_int_eq(s.count, 1);
    ck_assert_int_eq(shard_parse("7/8", &s, &err), 0);
    ck_assert_int_eq(s.index, 7);
    ck_assert_int_eq(s.count, 8);
    const char *bad[] = {"1/1", "8/8", "-1/3", "1", "/3", "1/", "a/3", "1/3x", "0/0", "0/4097", ""};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        ck_assert_int_eq(shard_parse(bad[i], &s, &err), ERR_USAGE);
        ck_assert_msg(strstr(err.msg, "expected I/N") != NULL, "%s: %s", bad[i], err.msg);
    }
}
END_TEST

/* One empty file path/name (mkdir -p of path). */
static void touch(const char *dir, const char *name)
{
    Error err = {0};
    ck_assert_int_eq(fs_mkdirs(dir, &err), 0);
    char *p = xasprintf("%s/%s", dir, name);
    ck_assert_int_eq(fs_write_atomic(p, "", 0, &err), 0);
    free(p);
}

/* An MVTec-layout listing with n_test[c] test images per category (no pixels needed: the plan
 * reads listings only). */
static void fake_dataset(const char *root, const char *const *cats, const int *n_test, int n_cats)
{
    for (int c = 0; c < n_cats; c++) {
        char *train = xasprintf("%s/%s/train/good", root, cats[c]), *test = xasprintf("%s/%s/test/good", root, cats[c]);
        for (int i = 0; i < 4; i++) {
            char name[16];
            snprintf(name, sizeof name, "%03d.png", i);
            touch(train, name);
        }
        for (int i = 0; i < n_test[c]; i++) {
            char name[16];
            snprintf(name, sizeof name, "%03d.png", i);
            touch(test, name);
        }
        free(train);
        free(test);
    }
}

/* Longest first to the least loaded shard: test images 9 (b), 7 (d), 5 (a), 4 (e), 3 (c) on 2
 * shards go b | d, a | (7+5 = 12 > 9) e to b's | c to d's: loads 9+4 = 13 and 7+5+3 = 15,
 * whichever shard starts; every category once; the costs add up. */
START_TEST(partition_longest_first)
{
    const char *cats[] = {"a", "b", "c", "d", "e"};
    const int n_test[] = {5, 9, 3, 7, 4};
    char *root = xasprintf("%s/data", test_tmp);
    fake_dataset(root, cats, n_test, 5);
    ExperimentPlan pl;
    memset(&pl, 0, sizeof pl);
    config_init(&pl.cfg);
    pl.name = xstrdup("t");
    pl.dataset = "synthetic";
    pl.root = root;
    pl.split_csv = "";
    pl.layout = DATASET_MVTEC;
    pl.n_k = 2;
    pl.k_shots = xcalloc(2, sizeof *pl.k_shots);
    pl.k_shots[1] = 2; /* k0 and k2 */
    pl.n_seeds = 1;
    pl.seeds = xcalloc(1, sizeof *pl.seeds);
    pl.n_categories = 5;
    pl.categories = xcalloc(5, sizeof *pl.categories);
    for (int i = 0; i < 5; i++) pl.categories[i] = xstrdup(cats[i]);
    Error err = {0};
    ShardPlan sp = {0};
    ck_assert_int_eq(shard_plan_make(&sp, &pl, 2, &err), 0);
    ShardCost c0 = shard_plan_cost(&sp, 0), c1 = shard_plan_cost(&sp, 1);
    long lo = c0.test_images < c1.test_images ? c0.test_images : c1.test_images;
    long hi = c0.test_images < c1.test_images ? c1.test_images : c0.test_images;
    ck_assert_int_eq(lo, 13);
    ck_assert_int_eq(hi, 15);
    ck_assert_int_eq(sp.categories[1].shard, sp.categories[4].shard); /* b (9) with e (4) */
    ck_assert_int_eq(sp.categories[0].shard, sp.categories[3].shard); /* a (5) with d (7) and c (3) */
    ck_assert_int_eq(sp.categories[0].shard, sp.categories[2].shard);
    ck_assert_int_ne(sp.categories[0].shard, sp.categories[1].shard);
    ck_assert_int_eq(c0.units + c1.units, 10);
    ck_assert_int_eq(c0.reference_images + c1.reference_images, 10); /* 2 distinct per category */
    ck_assert_int_eq(c0.passes + c1.passes, 28 + 10);
    ck_assert_int_eq(c0.scorings + c1.scorings, 2 * 28);
    /* the same partition again (deterministic), and one shard holds everything */
    ShardPlan again = {0};
    ck_assert_int_eq(shard_plan_make(&again, &pl, 2, &err), 0);
    for (int i = 0; i < 5; i++) ck_assert_int_eq(again.categories[i].shard, sp.categories[i].shard);
    shard_plan_free(&again);
    ck_assert_int_eq(shard_plan_make(&again, &pl, 1, &err), 0);
    ck_assert_int_eq(shard_plan_cost(&again, 0).categories, 5);
    shard_plan_free(&again);
    /* more shards than categories: three are empty; restricting to an empty one keeps none */
    ck_assert_int_eq(shard_plan_make(&again, &pl, 8, &err), 0);
    int empty = 0;
    for (int s = 0; s < 8; s++) empty += shard_plan_cost(&again, s).categories == 0;
    ck_assert_int_eq(empty, 3);
    int s_empty = 0;
    while (shard_plan_cost(&again, s_empty).categories) s_empty++;
    ck_assert_int_eq(shard_plan_restrict(&again, &pl, s_empty, &err), 0);
    ck_assert_int_eq(pl.n_categories, 0);
    shard_plan_free(&again);
    shard_plan_free(&sp);
    experiment_free(&pl);
    free(root);
}
END_TEST

START_TEST(lock_busy_then_free)
{
    Error err = {0};
    char *path = run_lock_unit_path(test_tmp, "E", "d", "c", 2, 1);
    ck_assert_msg(strstr(path, "/.locks/E/d/c/k2_s1.lock") != NULL, "%s", path);
    RunLock a = {-1}, b = {-1};
    char holder[160];
    ck_assert_int_eq(run_lock_take(&a, path, 0, holder, sizeof holder, &err), 0);
    /* a second open file description of the same file: busy, naming this process */
    ck_assert_int_eq(run_lock_take(&b, path, 0, holder, sizeof holder, &err), 1);
    char want[64];
    snprintf(want, sizeof want, "pid %ld on ", (long)getpid());
    ck_assert_msg(strncmp(holder, want, strlen(want)) == 0, "holder '%s'", holder);
    ck_assert_int_eq(b.fd, -1);
    run_lock_release(&a);
    ck_assert_int_eq(run_lock_take(&b, path, 1, NULL, 0, &err), 0);
    run_lock_release(&b);
    run_lock_release(&b); /* safe when not held */
    char *cat = run_lock_category_path(test_tmp, "mvtec", "bottle");
    ck_assert_msg(strstr(cat, "/.locks/cache/mvtec_bottle.lock") != NULL, "%s", cat);
    free(cat);
    free(path);
    /* a lock file that cannot be created: ERR_IO naming it */
    char *blocked = xasprintf("%s/file", test_tmp);
    ck_assert_int_eq(fs_write_atomic(blocked, "x", 1, &err), 0);
    char *inside = xasprintf("%s/sub/x.lock", blocked);
    ck_assert_int_lt(run_lock_take(&a, inside, 0, NULL, 0, &err), 0);
    ck_assert_msg(strstr(err.msg, blocked) != NULL, "%s", err.msg);
    free(inside);
    free(blocked);
}
END_TEST

Suite *shard_suite(void)
{
    Suite *s = suite_create("shard");
    TCase *core = tcase_create("Core");
    tcase_add_checked_fixture(core, test_tmp_setup, test_tmp_teardown);
    tcase_add_test(core, partition_longest_first);
    tcase_add_test(core, lock_busy_then_free);
    suite_add_tcase(s, core);
    TCase *lim = tcase_create("Limits");
    tcase_add_test(lim, parse_shards);
    suite_add_tcase(s, lim);
    return s;
}
