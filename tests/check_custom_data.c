/*
 * check_custom_data.c - issue 11 pieces in isolation: the CSV list layout (rows, labels, paths
 * escaping the folder, errors naming line and field), optional masks (MVTec tree without
 * ground_truth), 16-bit and grey images, the sha256 cache (reuse, invalidation by a change) and
 * the text prototype cache (round trip, key mismatch, corruption, non-finite values).
 */
#define _DEFAULT_SOURCE /* realpath, usleep */
#include <check.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <stb_image_write.h>

#include "clip/image.h"
#include "data/dataset.h"
#include "util/base.h"
#include "util/fsutil.h"
#include "util/sha256.h"
#include "util/sha_cache.h"
#include "winclip/text_cache.h"
#include "check_suites.h"
#include "test_util.h"

static void put_file(const char *root, const char *rel, const char *text)
{
    char *path = xasprintf("%s/%s", root, rel);
    ck_assert_int_eq(fs_mkdirs_parent(path, NULL), 0);
    ck_assert_int_eq(test_write_file(path, text, strlen(text)), 0);
    free(path);
}

static void put_png(const char *root, const char *rel, int w, int h, int ch, int v)
{
    char *path = xasprintf("%s/%s", root, rel);
    ck_assert_int_eq(fs_mkdirs_parent(path, NULL), 0);
    unsigned char *px = xmalloc((size_t)w * (size_t)h * (size_t)ch);
    for (size_t i = 0; i < (size_t)w * (size_t)h * (size_t)ch; i++) px[i] = (unsigned char)(v + i % 7);
    ck_assert(stbi_write_png(path, w, h, ch, px, w * ch));
    free(px);
    free(path);
}

START_TEST(csv_layout_rows_and_masks)
{
    char *root = test_mkdtemp();
    put_png(root, "a/ok1.png", 8, 6, 1, 10);
    put_png(root, "a/ok2.png", 8, 6, 3, 20);
    put_png(root, "b/ok1.png", 8, 6, 3, 30); /* same stem in another folder: a distinct name */
    put_png(root, "ref.png", 8, 6, 3, 40);
    put_png(root, "d/dent.png", 8, 6, 3, 50);
    put_png(root, "m/dent.png", 8, 6, 1, 255);
    put_file(root, "w.csv", "path,label,mask\r\n# a comment\r\na/ok1.png,good,\r\nb/ok1.png,normal\r\n"
                            "a/ok2.png,0\r\nref.png,train,\r\nd/dent.png,dent,m/dent.png\r\n\r\n");
    CategoryData cd = {0};
    Error err = {0};
    ck_assert_msg(dataset_load(&cd, DATASET_CSV, root, "w", NULL, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(cd.n_test, 4);
    ck_assert_uint_eq(cd.n_train, 1);
    ck_assert_int_eq(cd.has_masks, 1);
    ck_assert_str_eq(cd.dataset, "custom");
    ck_assert_str_eq(cd.test[0].name, "dent/d_dent");
    ck_assert_int_eq(cd.test[0].label, 1);
    ck_assert_str_eq(cd.test[1].name, "good/a_ok1");
    ck_assert_str_eq(cd.test[2].name, "good/b_ok1");
    ck_assert_msg(dataset_validate(&cd, &err) == 0, "%s", err.msg);
    dataset_free(&cd);

    /* no mask column at all: masks optional, validation passes */
    put_file(root, "n.csv", "a/ok1.png,good\nd/dent.png,bad\n");
    ck_assert_int_eq(dataset_load(&cd, DATASET_CSV, root, "n", NULL, &err), 0);
    ck_assert_int_eq(cd.has_masks, 0);
    ck_assert_ptr_null(cd.test[0].mask_path);
    ck_assert_msg(dataset_validate(&cd, &err) == 0, "%s", err.msg);
    dataset_free(&cd);

    /* some defective rows with a mask, one without: named */
    put_png(root, "d/scratch.png", 8, 6, 3, 60);
    put_file(root, "p.csv", "a/ok1.png,good\nd/dent.png,bad,m/dent.png\nd/scratch.png,bad\n");
    ck_assert_int_eq(dataset_load(&cd, DATASET_CSV, root, "p", NULL, &err), 0);
    ck_assert_int_eq(dataset_validate(&cd, &err), ERR_FORMAT);
    ck_assert_msg(strstr(err.msg, "d/scratch.png: defective image without a mask (other defective rows"), "%s", err.msg);
    dataset_free(&cd);

    /* a truncated PNG (valid header) is found by the full decode of the CSV layout */
    char *good = xasprintf("%s/a/ok1.png", root);
    size_t len = 0;
    char *bytes = test_read_file(good, &len);
    char *cut = xasprintf("%s/a/cut.png", root);
    ck_assert_int_eq(test_write_file(cut, bytes, 40), 0);
    put_file(root, "t.csv", "a/cut.png,good\nd/dent.png,bad\n");
    ck_assert_int_eq(dataset_load(&cd, DATASET_CSV, root, "t", NULL, &err), 0);
    ck_assert_int_eq(dataset_validate(&cd, &err), ERR_FORMAT);
    ck_assert_msg(strstr(err.msg, "a/cut.png: image cannot be decoded"), "%s", err.msg);
    dataset_free(&cd);
    free(bytes);
    free(good);
    free(cut);
    test_rmtree(root);
    free(root);
}
END_TEST

START_TEST(csv_layout_errors)
{
    char *root = test_mkdtemp();
    struct {
        const char *text, *want;
    } cases[] = {
        {"../x.png,good\n", "e.csv:1: field 'path' = '../x.png': expected a relative path inside"},
        {"path,label\n/etc/passwd,good\n", "e.csv:2: field 'path' = '/etc/passwd'"},
        {"a/../../x.png,good\n", "field 'path' = 'a/../../x.png'"},
        {"x.png,bad,../m.png\n", "e.csv:1: field 'mask' = '../m.png'"},
        {"x.png,good,m.png\n", "e.csv:1: field 'mask' = 'm.png': only defective rows have a mask"},
        {"x.png,what?\n", "e.csv:1: field 'label' = 'what?'"},
        {"x.png\n", "e.csv:1: expected 2 or 3 comma-separated fields"},
        {"x.png,good,,extra\n", "e.csv:1: expected 2 or 3 comma-separated fields (path,label[,mask]), found 4"},
        {"path,label\n", "e.csv: no image rows"},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        put_file(root, "e.csv", cases[i].text);
        CategoryData cd = {0};
        Error err = {0};
        ck_assert_int_eq(dataset_load(&cd, DATASET_CSV, root, "e", NULL, &err), ERR_FORMAT);
        ck_assert_msg(strstr(err.msg, cases[i].want), "case %zu: %s", i, err.msg);
        ck_assert_ptr_null(cd.test);
    }
    CategoryData cd = {0};
    Error err = {0};
    ck_assert_int_eq(dataset_load(&cd, DATASET_CSV, root, "absent", NULL, &err), ERR_IO);
    ck_assert_msg(strstr(err.msg, "absent.csv: cannot open"), "%s", err.msg);
    DatasetLayout l;
    ck_assert_int_eq(dataset_parse_layout("csv", &l, &err), 0);
    ck_assert_int_eq(l, DATASET_CSV);
    ck_assert_str_eq(dataset_layout_name(DATASET_CSV), "csv");
    test_rmtree(root);
    free(root);
}
END_TEST

START_TEST(mvtec_tree_without_masks)
{
    char *root = test_mkdtemp();
    put_png(root, "w/train/good/000.png", 8, 8, 3, 1);
    put_png(root, "w/test/good/000.png", 8, 8, 3, 2);
    put_png(root, "w/test/crack/000.png", 8, 8, 3, 3);
    CategoryData cd = {0};
    Error err = {0};
    ck_assert_int_eq(dataset_load(&cd, DATASET_MVTEC, root, "w", NULL, &err), 0);
    ck_assert_int_eq(cd.has_masks, 0);
    ck_assert_ptr_null(cd.test[0].mask_path);
    ck_assert_msg(dataset_validate(&cd, &err) == 0, "%s", err.msg);
    dataset_free(&cd);
    put_png(root, "w/ground_truth/other/000_mask.png", 8, 8, 1, 255); /* a ground_truth folder: masks required */
    ck_assert_int_eq(dataset_load(&cd, DATASET_MVTEC, root, "w", NULL, &err), 0);
    ck_assert_int_eq(cd.has_masks, 1);
    ck_assert_int_eq(dataset_validate(&cd, &err), ERR_FORMAT);
    ck_assert_msg(strstr(err.msg, "w/test/crack/000.png: defective image without a mask"), "%s", err.msg);
    dataset_free(&cd);
    test_rmtree(root);
    free(root);
}
END_TEST

START_TEST(sixteen_bit_and_grey_images)
{
    char *root = test_mkdtemp();
    /* a 2x1 16-bit grey PNG: values 0x1234, 0xff00 -> 8-bit 0x12, 0xff (high byte) */
    static const unsigned char png16[] = {
        0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00,
        0x00, 0x02, 0x00, 0x00, 0x00, 0x01, 0x10, 0x00, 0x00, 0x00, 0x00, 0x81, 0xd9, 0xfc, 0x15, 0x00, 0x00, 0x00,
        0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x10, 0x32, 0xf9, 0xcf, 0x00, 0x00, 0x02, 0xe7, 0x01, 0x46,
        0x7f, 0xfb, 0x8c, 0x42, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82};
    char *path = xasprintf("%s/g16.png", root);
    ck_assert_int_eq(test_write_file(path, png16, sizeof png16), 0);
    Image img = {0};
    Error err = {0};
    ck_assert_msg(image_load(&img, path, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(img.width, 2);
    ck_assert_int_eq(img.height, 1);
    const unsigned char want[6] = {0x12, 0x12, 0x12, 0xff, 0xff, 0xff};
    ck_assert_mem_eq(img.rgb, want, 6);
    image_free(&img);
    put_png(root, "grey.png", 5, 3, 1, 77);
    free(path);
    path = xasprintf("%s/grey.png", root);
    ck_assert_int_eq(image_load(&img, path, &err), 0);
    ck_assert_int_eq(img.rgb[0], 77);
    ck_assert_int_eq(img.rgb[1], 77);
    image_free(&img);
    free(path);
    test_rmtree(root);
    free(root);
}
END_TEST

START_TEST(sha_cache_reuse_and_change)
{
    char *root = test_mkdtemp();
    char *cache = xasprintf("%s/cache", root);
    char *file = xasprintf("%s/w.bin", root);
    ck_assert_int_eq(test_write_file(file, "hello", 5), 0);
    char hex[65], want[65];
    Error err = {0};
    sha256_hex_string("hello", want);
    int cached = -1;
    ck_assert_int_eq(sha_cache_file_in(cache, file, hex, &cached, &err), 0);
    ck_assert_str_eq(hex, want);
    ck_assert_int_eq(cached, 0);
    ck_assert_int_eq(sha_cache_file_in(cache, file, hex, &cached, &err), 0);
    ck_assert_int_eq(cached, 1);
    ck_assert_str_eq(hex, want);
    /* same size, new content (and a new mtime): hashed again */
    usleep(20000);
    ck_assert_int_eq(test_write_file(file, "world", 5), 0);
    sha256_hex_string("world", want);
    ck_assert_int_eq(sha_cache_file_in(cache, file, hex, &cached, &err), 0);
    ck_assert_int_eq(cached, 0);
    ck_assert_str_eq(hex, want);
    /* a damaged record is not trusted */
    char real[4096], key[65];
    ck_assert_ptr_nonnull(realpath(file, real));
    sha256_hex_string(real, key);
    char *rec = xasprintf("%s/sha256/%.32s.txt", cache, key);
    ck_assert(fs_is_file(rec));
    size_t len = 0;
    char *text = test_read_file(rec, &len);
    text[len - 2] = text[len - 2] == '0' ? '1' : '0'; /* last hex digit of the digest */
    text[len - 3] = 'x';
    ck_assert_int_eq(test_write_file(rec, text, len), 0);
    ck_assert_int_eq(sha_cache_file_in(cache, file, hex, &cached, &err), 0);
    ck_assert_int_eq(cached, 0);
    ck_assert_str_eq(hex, want);
    /* a missing file: sha256_file's error */
    char *absent = xasprintf("%s/absent", root);
    ck_assert_int_ne(sha_cache_file_in(cache, absent, hex, &cached, &err), 0);
    ck_assert(strstr(err.msg, "absent") != NULL);
    free(absent);
    free(text);
    free(rec);
    free(file);
    free(cache);
    test_rmtree(root);
    free(root);
}
END_TEST

START_TEST(text_cache_round_trip_and_checks)
{
    char *root = test_mkdtemp();
    enum { E = 8, CTX = 4 };
    int32_t ids[3 * CTX] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    char key[640], key2[640];
    const char *num = "kernels=avx512;gemm=onednn/avx512_core_amx;threads=2";
    text_cache_key(key, sizeof key, "aa", "bb", "normalize", ids, 2, 1, CTX, num);
    ids[5] = 99; /* another prompt token: another key */
    text_cache_key(key2, sizeof key2, "aa", "bb", "normalize", ids, 2, 1, CTX, num);
    ck_assert_str_ne(key, key2);
    text_cache_key(key2, sizeof key2, "aa", "bb", "mean", ids, 2, 1, CTX, num);
    ck_assert(strstr(key2, "prototypes=mean") != NULL);
    /* other numerics (another kernel path, GEMM or thread count): another key, another file */
    ids[5] = 6;
    text_cache_key(key2, sizeof key2, "aa", "bb", "normalize", ids, 2, 1, CTX, "kernels=avx2;gemm=onednn/avx2;threads=1");
    ck_assert_str_ne(key, key2);
    char *p1 = text_cache_path(root, key), *p2 = text_cache_path(root, key2);
    ck_assert_str_ne(p1, p2);
    free(p1), free(p2);
    /* the longest key fits: 64-hex shas and a numerics string of CLIP_NUMERICS_CAP - 1 */
    char big_num[128], sha[65];
    memset(big_num, 'n', sizeof big_num - 1), big_num[sizeof big_num - 1] = 0;
    memset(sha, 'f', 64), sha[64] = 0;
    text_cache_key(key2, sizeof key2, sha, sha, "normalize", ids, 2, 1, CTX, big_num);
    ck_assert_msg(key2[strlen(key2) - 1] == '}', "key cut: %s", key2);
    WinclipText t = {E, xmalloc(E * sizeof(float)), xmalloc(E * sizeof(float)), WINCLIP_TEXT_TWO_CLASS};
    for (int i = 0; i < E; i++) t.normal[i] = 0.1f * (float)i, t.anomalous[i] = -0.25f * (float)i;
    Error err = {0};
    ck_assert_int_eq(text_cache_put(root, key, &t, &err), 0);
    WinclipText back = {0};
    char note[512];
    ck_assert_int_eq(text_cache_get(root, key, E, &back, note, sizeof note), 1);
    ck_assert_mem_eq(back.normal, t.normal, E * sizeof(float));
    ck_assert_mem_eq(back.anomalous, t.anomalous, E * sizeof(float));
    winclip_text_free(&back);
    ck_assert_int_eq(text_cache_get(root, key2, E, &back, note, sizeof note), 0); /* absent: quiet */
    ck_assert_str_eq(note, "");
    ck_assert_int_eq(text_cache_get(root, key, E + 1, &back, note, sizeof note), 0); /* other shape */
    ck_assert_msg(strstr(note, "header differs"), "%s", note);
    /* one flipped payload byte: checksum */
    char *path = text_cache_path(root, key);
    size_t len = 0;
    char *bytes = test_read_file(path, &len);
    bytes[len - 1] ^= 0x40;
    ck_assert_int_eq(test_write_file(path, bytes, len), 0);
    ck_assert_int_eq(text_cache_get(root, key, E, &back, note, sizeof note), 0);
    ck_assert_msg(strstr(note, "checksum"), "%s", note);
    ck_assert_ptr_null(back.normal);
    /* truncated */
    ck_assert_int_eq(test_write_file(path, bytes, len - 3), 0);
    ck_assert_int_eq(text_cache_get(root, key, E, &back, note, sizeof note), 0);
    ck_assert_msg(strstr(note, "wrong size"), "%s", note);
    /* a NaN with a matching checksum: refused */
    t.normal[3] = NAN;
    ck_assert_int_eq(text_cache_put(root, key, &t, &err), 0);
    ck_assert_int_eq(text_cache_get(root, key, E, &back, note, sizeof note), 0);
    ck_assert_msg(strstr(note, "not finite"), "%s", note);
    free(bytes);
    free(path);
    winclip_text_free(&t);
    test_rmtree(root);
    free(root);
}
END_TEST

Suite *custom_data_suite(void)
{
    Suite *s = suite_create("custom_data");
    TCase *core = tcase_create("Core");
    tcase_set_timeout(core, 60);
    tcase_add_test(core, csv_layout_rows_and_masks);
    tcase_add_test(core, mvtec_tree_without_masks);
    tcase_add_test(core, sixteen_bit_and_grey_images);
    tcase_add_test(core, sha_cache_reuse_and_change);
    tcase_add_test(core, text_cache_round_trip_and_checks);
    suite_add_tcase(s, core);
    TCase *limits = tcase_create("Limits");
    tcase_add_test(limits, csv_layout_errors);
    suite_add_tcase(s, limits);
    return s;
}
