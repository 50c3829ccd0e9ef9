/*
 * check_rng.c - rng.c: SplitMix64 / FNV-1a reference values, bounded draws, shuffles, seeding.
 */
#include <check.h>
#include <stdint.h>
#include <string.h>

#include "util/base.h"
#include "util/rng.h"
#include "check_suites.h"
#include "test_util.h"

START_TEST(splitmix_reference)
{
    /* SplitMix64 from state 0: the published reference sequence */
    Rng r;
    rng_seed(&r, 0);
    ck_assert(rng_next(&r) == 0xe220a8397b1dcdafULL);
    ck_assert(rng_next(&r) == 0x6e789e6aa1b965f4ULL);
    ck_assert(rng_next(&r) == 0x06c45d188009454fULL);
    /* FNV-1a 64 reference values */
    ck_assert(rng_fnv1a64_str("") == 0xcbf29ce484222325ULL);
    ck_assert(rng_fnv1a64_str("a") == 0xaf63dc4c8601ec8cULL);
    ck_assert(rng_fnv1a64("a", 1) == 0xaf63dc4c8601ec8cULL);
}
END_TEST

START_TEST(seed_for_definition)
{
    Rng r;
    for (uint64_t s = 0; s < 5; s++) {
        rng_seed_for(&r, "mvtec", "bottle", s);
        ck_assert(r.state == (rng_fnv1a64_str("mvtec/bottle") ^ (s * RNG_GOLDEN)));
    }
    rng_seed_for(&r, "mvtec", "bottle", 0);
    ck_assert(r.state == 0xee934d37091fc7e3ULL);
    rng_seed_for(&r, "mvtec", "bottle", 1);
    ck_assert(r.state == 0x70a4348e7655bbf6ULL);
}
END_TEST

/* Hard-coded outputs of this implementation (the project's few-shot contract). */
START_TEST(shuffle_fixed_outputs)
{
    static const size_t want[3][4] = {{78, 56, 167, 181}, {66, 145, 165, 77}, {81, 63, 14, 183}};
    size_t idx[209];
    for (int s = 0; s < 3; s++) {
        Rng r;
        rng_seed_for(&r, "mvtec", "bottle", (uint64_t)s);
        for (size_t i = 0; i < 209; i++) idx[i] = i;
        rng_shuffle(&r, idx, 209);
        for (int k = 0; k < 4; k++) ck_assert_uint_eq(idx[k], want[s][k]);
        /* a permutation */
        unsigned char seen[209] = {0};
        for (size_t i = 0; i < 209; i++) {
            ck_assert(idx[i] < 209 && !seen[idx[i]]);
            seen[idx[i]] = 1;
        }
    }
    Rng r;
    rng_seed(&r, 42);
    static const uint64_t below[5] = {3, 1, 8, 4, 0};
    for (int i = 0; i < 5; i++) ck_assert(rng_below(&r, 10) == below[i]);
}
END_TEST

START_TEST(below_uniform)
{
    /* every bucket of below(7) within 5 sigma of 70000/7 */
    Rng r;
    rng_seed(&r, 7);
    long count[7] = {0};
    for (int i = 0; i < 70000; i++) count[rng_below(&r, 7)]++;
    for (int k = 0; k < 7; k++) ck_assert_msg(count[k] > 10000 - 470 && count[k] < 10000 + 470, "bucket %d: %ld", k, count[k]);
    /* huge bound: the rejection threshold is non-trivial, values stay in range */
    uint64_t n = (1ULL << 63) + 12345;
    for (int i = 0; i < 1000; i++) ck_assert(rng_below(&r, n) < n);
    ck_assert(rng_below(&r, 1) == 0);
    for (int i = 0; i < 1000; i++) {
        double u = rng_uniform(&r);
        ck_assert(u >= 0 && u < 1);
    }
}
END_TEST

START_TEST(shuffle_small)
{
    Rng r;
    rng_seed(&r, 1);
    rng_shuffle(&r, NULL, 0);
    size_t one = 5;
    rng_shuffle(&r, &one, 1);
    ck_assert_uint_eq(one, 5);
}
END_TEST

Suite *rng_suite(void)
{
    Suite *s = suite_create("rng");
    TCase *core = tcase_create("Core");
    tcase_add_test(core, splitmix_reference);
    tcase_add_test(core, seed_for_definition);
    tcase_add_test(core, shuffle_fixed_outputs);
    tcase_add_test(core, below_uniform);
    suite_add_tcase(s, core);
    TCase *limits = tcase_create("Limits");
    tcase_add_test(limits, shuffle_small);
    suite_add_tcase(s, limits);
    return s;
}
