/*
 * check_safetensors.c - tests for safetensors.c (parser, validation, dtype decoding) and
 * `winclip convert` (safetensors -> project HDF5 layout).
 *
 * Goldens: shared fixtures/safetensors/dtypes.safetensors + dtypes.expected.json (every dtype
 * a converter must read), fixtures/tiny_clip/model.safetensors vs model.h5 (bit-exact).
 * Bad files are written by the tests themselves into a temporary folder.
 */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/base.h"
#include "../src/json.h"
#include "../src/safetensors.h"
#include "check_suites.h"
#include "test_util.h"

/* ---- helpers ---- */

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* Write a safetensors file: 8-byte LE header_len (the real length unless forced >= 0), the
 * header text, then data_len bytes of data (a repeating pattern). */
static void write_st(const char *path, const char *header, int64_t forced_len, size_t data_len)
{
    size_t hlen = strlen(header);
    uint64_t n = forced_len >= 0 ? (uint64_t)forced_len : hlen;
    size_t total = 8 + hlen + data_len;
    uint8_t *buf = xmalloc(total);
    for (int i = 0; i < 8; i++) buf[i] = (uint8_t)(n >> (8 * i));
    memcpy(buf + 8, header, hlen);
    for (size_t i = 0; i < data_len; i++) buf[8 + hlen + i] = (uint8_t)(i * 7 + 1);
    ck_assert_int_eq(test_write_file(path, buf, total), 0);
    free(buf);
}

/* ---- Core: the dtype fixture ---- */

START_TEST(dtypes_fixture)
{
    char path[1024], jpath[1024];
    if (!test_shared_path(path, sizeof path, "fixtures/safetensors/dtypes.safetensors")) return;
    if (!test_shared_path(jpath, sizeof jpath, "fixtures/safetensors/dtypes.expected.json")) return;
    size_t jlen;
    char *jtext = test_read_file(jpath, &jlen);
    ck_assert_ptr_nonnull(jtext);
    JsonValue want = {0};
    Error err = {0};
    ck_assert_int_eq(json_parse(&want, jtext, jlen, &err), 0);

    SafeTensors st = {0};
    ck_assert_msg(safetensors_open(&st, path, &err) == 0, "%s", err.msg);
    int64_t hl;
    ck_assert(json_as_int(json_get(&want, "_header_len"), &hl));
    ck_assert_int_eq((int64_t)st.header_len, hl);
    ck_assert_int_eq((int64_t)st.header_len, 488);
    ck_assert_int_eq((int64_t)st.data_len, 76);
    ck_assert_str_eq(safetensors_meta(&st, "format"), "pt");
    ck_assert_str_eq(safetensors_meta(&st, "note"), "dtype test file");
    ck_assert_ptr_null(safetensors_meta(&st, "missing"));
    ck_assert_int_eq(safetensors_find(&st, "nope"), -1);

    int checked = 0;
    for (size_t k = 0; k < want.count; k++) {
        const char *name = want.keys[k];
        if (name[0] == '_') continue;
        const JsonValue *w = &want.items[k];
        int idx = safetensors_find(&st, name);
        ck_assert_msg(idx >= 0, "tensor %s not found", name);
        const SafeTensor *t = &st.tensors[idx];
        ck_assert_str_eq(safetensors_dtype_name(t->dtype), json_get(w, "dtype")->string);
        const JsonValue *shape = json_get(w, "shape");
        ck_assert_int_eq(t->rank, (int)shape->count);
        for (int d = 0; d < t->rank; d++) ck_assert_int_eq(t->dims[d], shape->items[d].integer);
        const JsonValue *vals = json_get(w, "values_flat");
        ck_assert_int_eq((int64_t)t->numel, (int64_t)vals->count);

        /* raw bytes */
        const char *hex = json_get(w, "raw_hex")->string;
        size_t nbytes;
        const uint8_t *raw = safetensors_raw(&st, idx, &nbytes);
        ck_assert_uint_eq(nbytes * 2, strlen(hex));
        for (size_t b = 0; b < nbytes; b++)
            ck_assert_int_eq(raw[b], hex_value(hex[2 * b]) * 16 + hex_value(hex[2 * b + 1]));

        /* decoded values: exact (every expected value is a float32 value) */
        size_t n = (size_t)t->numel;
        if (safetensors_dtype_is_float(t->dtype)) {
            float *got = xmalloc((n ? n : 1) * sizeof *got);
            ck_assert_msg(safetensors_read_f32(&st, idx, got, n, &err) == 0, "%s", err.msg);
            for (size_t i = 0; i < n; i++)
                ck_assert_msg((double)got[i] == vals->items[i].number, "%s[%zu] = %.17g, want %.17g", name, i,
                              (double)got[i], vals->items[i].number);
            free(got);
            int64_t dummy[8];
            ck_assert_int_eq(safetensors_read_i64(&st, idx, dummy, n, &err), ERR_UNSUPPORTED);
        } else {
            int64_t *got = xmalloc((n ? n : 1) * sizeof *got);
            ck_assert_msg(safetensors_read_i64(&st, idx, got, n, &err) == 0, "%s", err.msg);
            for (size_t i = 0; i < n; i++) ck_assert_int_eq(got[i], vals->items[i].integer);
            free(got);
            float dummy[8];
            ck_assert_int_eq(safetensors_read_f32(&st, idx, dummy, n, &err), ERR_UNSUPPORTED);
            ck_assert(strstr(err.msg, name) && strstr(err.msg, "I64") && strstr(err.msg, "not a float"));
        }
        checked++;
    }
    ck_assert_int_eq(checked, 6);
    ck_assert_int_eq(st.count, 6);

    /* scalar and empty tensors */
    int s = safetensors_find(&st, "d_scalar");
    ck_assert_int_eq(st.tensors[s].rank, 0);
    ck_assert_int_eq((int64_t)st.tensors[s].numel, 1);
    int z = safetensors_find(&st, "z_empty");
    ck_assert_int_eq(st.tensors[z].rank, 1);
    ck_assert_int_eq((int64_t)st.tensors[z].numel, 0);
    ck_assert_int_eq(safetensors_read_f32(&st, z, NULL, 0, &err), 0);
    /* wrong buffer size */
    float two[2];
    ck_assert_int_eq(safetensors_read_f32(&st, s, two, 2, &err), ERR_SHAPE);
    ck_assert(strstr(err.msg, "d_scalar") != NULL);

    safetensors_close(&st);
    safetensors_close(&st); /* idempotent */
    json_free(&want);
    free(jtext);
}
END_TEST

START_TEST(half_decoding)
{
    /* IEEE binary16 edge cases */
    ck_assert(safetensors_f16_to_f32(0x0000) == 0.0f && !signbit(safetensors_f16_to_f32(0x0000)));
    ck_assert(safetensors_f16_to_f32(0x8000) == 0.0f && signbit(safetensors_f16_to_f32(0x8000)));
    ck_assert(safetensors_f16_to_f32(0x0001) == ldexpf(1.0f, -24));    /* smallest subnormal */
    ck_assert(safetensors_f16_to_f32(0x03FF) == ldexpf(1023.0f, -24)); /* largest subnormal  */
    ck_assert(safetensors_f16_to_f32(0x8200) == -ldexpf(512.0f, -24));
    ck_assert(safetensors_f16_to_f32(0x0400) == ldexpf(1.0f, -14));    /* smallest normal    */
    ck_assert(safetensors_f16_to_f32(0x3C00) == 1.0f);
    ck_assert(safetensors_f16_to_f32(0x3555) == 0x1.554p-2f);
    ck_assert(safetensors_f16_to_f32(0x7BFF) == 65504.0f);
    ck_assert(isinf(safetensors_f16_to_f32(0x7C00)) && safetensors_f16_to_f32(0x7C00) > 0);
    ck_assert(isinf(safetensors_f16_to_f32(0xFC00)) && safetensors_f16_to_f32(0xFC00) < 0);
    ck_assert(isnan(safetensors_f16_to_f32(0x7E00)));
    ck_assert(isnan(safetensors_f16_to_f32(0x7C01)));
    /* BF16: the high half of a float32 */
    ck_assert(safetensors_bf16_to_f32(0x3F80) == 1.0f);
    ck_assert(safetensors_bf16_to_f32(0xC7C8) == -102400.0f);
    ck_assert(safetensors_bf16_to_f32(0x0001) == ldexpf(1.0f, -133)); /* float32 subnormal */
    ck_assert(isinf(safetensors_bf16_to_f32(0xFF80)));
    ck_assert(isnan(safetensors_bf16_to_f32(0x7FC0)));
    ck_assert_str_eq(safetensors_dtype_name(ST_BF16), "BF16");
    ck_assert_uint_eq(safetensors_dtype_size(ST_F64), 8);
}
END_TEST

START_TEST(minimal_files)
{
    char *dir = test_mkdtemp();
    char path[1100];
    Error err = {0};
    SafeTensors st = {0};
    /* no tensors at all, header padded with spaces as the writer does */
    snprintf(path, sizeof path, "%s/empty.safetensors", dir);
    write_st(path, "{}      ", -1, 0);
    ck_assert_msg(safetensors_open(&st, path, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(st.count, 0);
    safetensors_close(&st);
    /* F64 and U64 and an unaligned data buffer (header length 61) */
    snprintf(path, sizeof path, "%s/f64.safetensors", dir);
    const char *h = "{\"u\":{\"dtype\":\"U64\",\"shape\":[1],\"data_offsets\":[8,16]},\"x\":";
    char header[256];
    snprintf(header, sizeof header, "%s{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8]}}", h);
    size_t hlen = strlen(header);
    uint8_t buf[512];
    for (int i = 0; i < 8; i++) buf[i] = (uint8_t)((uint64_t)hlen >> (8 * i));
    memcpy(buf + 8, header, hlen);
    double d = -0.1;
    uint64_t bits;
    memcpy(&bits, &d, 8);
    for (int i = 0; i < 8; i++) buf[8 + hlen + i] = (uint8_t)(bits >> (8 * i));
    uint64_t u = 0x8000000000000000ULL;
    for (int i = 0; i < 8; i++) buf[8 + hlen + 8 + i] = (uint8_t)(u >> (8 * i));
    ck_assert_int_eq(test_write_file(path, buf, 8 + hlen + 16), 0);
    ck_assert_msg(safetensors_open(&st, path, &err) == 0, "%s", err.msg);
    float f;
    ck_assert_int_eq(safetensors_read_f32(&st, safetensors_find(&st, "x"), &f, 1, &err), 0);
    ck_assert(f == (float)-0.1);
    int64_t v;
    ck_assert_int_eq(safetensors_read_i64(&st, safetensors_find(&st, "u"), &v, 1, &err), ERR_VALUE);
    ck_assert(strstr(err.msg, "'u'") != NULL);
    safetensors_close(&st);
    test_rmtree(dir);
    free(dir);
}
END_TEST

/* ---- Limits: malformed files, each rejected with a message naming the file (and tensor) ---- */

typedef struct {
    const char *label;
    const char *header;
    int64_t forced_len; /* -1: the real header length */
    size_t data_len;
    int code;
    const char *want1, *want2; /* substrings the message must contain (besides the path) */
} BadCase;

START_TEST(malformed_files)
{
    static const BadCase cases[] = {
        {"huge_header_len", "{}", 200000000, 0, ERR_FORMAT, "header length 200000000", "limit"},
        {"header_past_eof", "{}", 1000, 0, ERR_FORMAT, "header length 1000", "past the end"},
        {"not_json", "{\"a\": {\"dtype\": \"F32\", oops}", -1, 0, ERR_FORMAT, "not valid JSON", "byte"},
        {"not_object", "[1, 2]", -1, 0, ERR_FORMAT, "not an object", NULL},
        {"bad_utf8", "{\"a\xff\": 1}", -1, 0, ERR_FORMAT, "UTF-8", NULL},
        {"overlap",
         "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
         "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
         -1, 12, ERR_FORMAT, "'b'", "overlap tensor 'a'"},
        {"gap",
         "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
         "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}",
         -1, 12, ERR_FORMAT, "'b'", "gap of 4"},
        {"not_from_zero", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", -1, 8, ERR_FORMAT, "'a'",
         "gap of 4"},
        {"wrong_byte_count", "{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", -1, 8, ERR_FORMAT,
         "'w'", "needs 12"},
        {"unknown_dtype", "{\"w\":{\"dtype\":\"F24\",\"shape\":[1],\"data_offsets\":[0,4]}}", -1, 4, ERR_UNSUPPORTED,
         "'w'", "unknown dtype \"F24\""},
        {"truncated_data", "{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", -1, 10, ERR_FORMAT,
         "'w'", "truncated"},
        {"trailing_bytes", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", -1, 9, ERR_FORMAT,
         "5 trailing", NULL},
        {"negative_dim", "{\"w\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", -1, 4, ERR_FORMAT, "'w'",
         "shape[0]"},
        {"fractional_dim", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2, 1.5],\"data_offsets\":[0,12]}}", -1, 12,
         ERR_FORMAT, "'w'", "shape[1]"},
        {"end_before_begin", "{\"w\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[4,0]}}", -1, 4, ERR_FORMAT,
         "'w'", "end before begin"},
        {"missing_offsets", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", -1, 4, ERR_FORMAT, "'w'", "data_offsets"},
        {"bad_offsets", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", -1, 4, ERR_FORMAT, "'w'",
         "data_offsets"},
        {"rank_9", "{\"w\":{\"dtype\":\"U8\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,1]}}", -1, 1,
         ERR_UNSUPPORTED, "'w'", "rank 9"},
        {"huge_shape", "{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,4]}}", -1, 4,
         ERR_FORMAT, "'w'", "more elements"},
        {"metadata_not_strings", "{\"__metadata__\":{\"format\":1}}", -1, 0, ERR_FORMAT, "__metadata__", "format"},
        {"duplicate_name",
         "{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},"
         "\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,2]}}",
         -1, 2, ERR_FORMAT, "'a'", "twice"},
    };
    char *dir = test_mkdtemp();
    for (size_t c = 0; c < ARRAY_LEN(cases); c++) {
        const BadCase *bc = &cases[c];
        char path[1100];
        snprintf(path, sizeof path, "%s/%s.safetensors", dir, bc->label);
        write_st(path, bc->header, bc->forced_len, bc->data_len);
        SafeTensors st = {0};
        Error err = {0};
        int rc = safetensors_open(&st, path, &err);
        ck_assert_msg(rc == bc->code, "%s: rc %d (want %d): %s", bc->label, rc, bc->code, err.msg);
        ck_assert_msg(strstr(err.msg, path) != NULL, "%s: message does not name the file: %s", bc->label, err.msg);
        ck_assert_msg(strstr(err.msg, bc->want1) != NULL, "%s: no '%s' in: %s", bc->label, bc->want1, err.msg);
        ck_assert_msg(!bc->want2 || strstr(err.msg, bc->want2) != NULL, "%s: no '%s' in: %s", bc->label, bc->want2,
                      err.msg);
        ck_assert_ptr_null(st.map);
        ck_assert_int_eq(st.count, 0);
        safetensors_close(&st);
    }
    /* files shorter than the length field, and absent files */
    char path[1100];
    snprintf(path, sizeof path, "%s/short.safetensors", dir);
    ck_assert_int_eq(test_write_file(path, "abc", 3), 0);
    SafeTensors st = {0};
    Error err = {0};
    ck_assert_int_eq(safetensors_open(&st, path, &err), ERR_FORMAT);
    ck_assert(strstr(err.msg, path) && strstr(err.msg, "too short"));
    snprintf(path, sizeof path, "%s/absent.safetensors", dir);
    ck_assert_int_eq(safetensors_open(&st, path, &err), ERR_IO);
    ck_assert(strstr(err.msg, path) && strstr(err.msg, "cannot open"));
    test_rmtree(dir);
    free(dir);
}
END_TEST

Suite *safetensors_suite(void)
{
    Suite *s = suite_create("safetensors");
    TCase *core = tcase_create("Core");
    tcase_add_test(core, dtypes_fixture);
    tcase_add_test(core, half_decoding);
    tcase_add_test(core, minimal_files);
    suite_add_tcase(s, core);
    TCase *lim = tcase_create("Limits");
    tcase_add_test(lim, malformed_files);
    suite_add_tcase(s, lim);
    return s;
}
