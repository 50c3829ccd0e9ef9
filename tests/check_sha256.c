/*
 * check_sha256.c - tests for sha256.c: FIPS 180-4 test vectors, the shared BPE file checksum,
 * a missing file.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "util/sha256.h"
#include "check_suites.h"
#include "test_util.h"

START_TEST(sha256_vectors)
{
    char hex[65];
    sha256_hex_string("", hex);
    ck_assert_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    sha256_hex_string("abc", hex);
    ck_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    sha256_hex_string("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", hex);
    ck_assert_str_eq(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    char path[1024];
    if (!test_shared_path(path, sizeof path, "clip/bpe_simple_vocab_16e6.txt.gz")) return;
    Error err = {0};
    ck_assert_int_eq(sha256_file(path, hex, &err), 0);
    ck_assert_str_eq(hex, "924691ac288e54409236115652ad4aa250f48203de50a9e4722a6ecd48d6804a");
}
END_TEST

START_TEST(sha256_missing)
{
    char hex[65];
    Error err = {0};
    ck_assert_int_eq(sha256_file("/nonexistent/file.bin", hex, &err), ERR_IO);
    ck_assert(strstr(err.msg, "/nonexistent/file.bin") != NULL);
}
END_TEST

Suite *sha256_suite(void)
{
    Suite *s = suite_create("sha256");
    TCase *core = tcase_create("Core");
    tcase_add_test(core, sha256_vectors);
    suite_add_tcase(s, core);
    TCase *lim = tcase_create("Limits");
    tcase_add_test(lim, sha256_missing);
    suite_add_tcase(s, lim);
    return s;
}
