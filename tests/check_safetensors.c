/*
 * check_safetensors.c - tests for safetensors.c (parser, validation, dtype decoding) and
 * `winclip convert` (safetensors -> project HDF5 layout).
 *
 * Goldens: shared fixtures/safetensors/dtypes.safetensors + dtypes.expected.json (every dtype
 * a converter must read), fixtures/tiny_clip/model.safetensors vs model.h5 (bit-exact).
 * Bad files are written by the tests themselves into a temporary folder.
 */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

#include "util/base.h"
#include "clip/clip_config.h"
#include "clip/clip_model.h"
#include "util/h5.h"
#include "util/json.h"
#include "clip/safetensors.h"
#include "util/sha256.h"
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

/* ---- winclip convert ---- */

static int file_exists(const char *path) { return access(path, F_OK) == 0; }

/* Run `winclip convert IN OUT [opts]`; returns the exit status, *out / *errout captured. */
static int run_convert(const char *in, const char *out_h5, const char *opts, char **out, char **errout)
{
    char *args = xasprintf("convert '%s' '%s' %s", in, out_h5, opts ? opts : "");
    int rc = test_run_winclip(args, out, errout);
    free(args);
    return rc;
}

/* Every tensor of `specs` in got.h5 has the shape of the spec and, after `mask` is applied
 * to each float's bits of want.h5, the same bits. */
static void compare_models(const char *got_path, const char *want_path, uint32_t mask)
{
    H5File got = {0}, want = {0};
    Error err = {0};
    ck_assert_msg(h5_open_read(&got, got_path, &err) == 0, "%s", err.msg);
    ck_assert_msg(h5_open_read(&want, want_path, &err) == 0, "%s", err.msg);
    char *cfg_text = NULL;
    ck_assert_msg(h5_read_attr_string(&want, "/", "config", &cfg_text, &err) == 0, "%s", err.msg);
    ClipConfig cfg;
    ck_assert_msg(clip_config_from_json(&cfg, cfg_text, &err) == 0, "%s", err.msg);
    ClipTensorSpec *specs;
    int n;
    clip_config_tensors(&cfg, &specs, &n);
    ck_assert_int_eq(n, 62);
    for (int s = 0; s < n; s++) {
        char path[128] = "/";
        clip_tensor_h5_path(path + 1, sizeof path - 1, specs[s].key);
        float *a = NULL, *b = NULL;
        int rank_a, rank_b;
        int64_t dims_a[H5_MAX_RANK], dims_b[H5_MAX_RANK];
        ck_assert_msg(h5_read_f32_alloc(&got, path, &a, &rank_a, dims_a, &err) == 0, "%s", err.msg);
        ck_assert_msg(h5_read_f32_alloc(&want, path, &b, &rank_b, dims_b, &err) == 0, "%s", err.msg);
        ck_assert_int_eq(rank_a, specs[s].rank);
        ck_assert_int_eq(rank_a, rank_b);
        for (int d = 0; d < rank_a; d++) ck_assert_int_eq(dims_a[d], dims_b[d]);
        int cls;
        size_t esize;
        ck_assert_int_eq(h5_dtype(&got, path, &cls, &esize, &err), 0);
        ck_assert(cls == H5_CLASS_FLOAT && esize == 4);
        size_t count = clip_tensor_numel(&specs[s]), bad = count;
        uint32_t ga = 0, wb = 0;
        for (size_t i = 0; i < count && bad == count; i++) {
            memcpy(&ga, &a[i], 4);
            memcpy(&wb, &b[i], 4);
            if (ga != (wb & mask)) bad = i;
        }
        ck_assert_msg(bad == count, "%s[%zu]: got bits %08x, want %08x", path, bad, ga, wb & mask);
        free(a);
        free(b);
    }
    free(specs);
    free(cfg_text);
    h5_close(&got);
    h5_close(&want);
}

/* `winclip convert IN OUT opts` succeeds and OUT equals want_path under mask. */
static void convert_and_compare(const char *in, const char *out_h5, const char *opts, const char *want_path,
                                uint32_t mask)
{
    char *out = NULL, *errout = NULL;
    int rc = run_convert(in, out_h5, opts, &out, &errout);
    ck_assert_msg(rc == 0, "rc %d: %s", rc, errout);
    compare_models(out_h5, want_path, mask);
    free(out);
    free(errout);
}

START_TEST(convert_tiny_bitexact)
{
    char in[1024], ref[1024];
    if (!test_shared_path(in, sizeof in, "fixtures/tiny_clip/model.safetensors")) return;
    if (!test_shared_path(ref, sizeof ref, "fixtures/tiny_clip/model.h5")) return;
    char *dir = test_mkdtemp();
    char *out_h5 = xasprintf("%s/tiny.h5", dir), *tmp = xasprintf("%s/tiny.h5.tmp", dir);
    char *out = NULL, *errout = NULL;
    int rc = run_convert(in, out_h5, NULL, &out, &errout);
    ck_assert_msg(rc == 0, "rc %d: %s", rc, errout);
    char sha[65];
    Error err = {0};
    ck_assert_int_eq(sha256_file(in, sha, &err), 0);
    ck_assert_msg(strstr(out, sha) != NULL, "sha256 not printed: %s", out);
    ck_assert(strstr(out, "__metadata__.config") != NULL);
    ck_assert(file_exists(out_h5) && !file_exists(tmp));
    compare_models(out_h5, ref, 0xFFFFFFFFu);

    /* the config attribute: same config as the fixture's, plus the source members */
    H5File a = {0}, b = {0};
    char *ca = NULL, *cb = NULL;
    ck_assert_int_eq(h5_open_read(&a, out_h5, &err), 0);
    ck_assert_int_eq(h5_open_read(&b, ref, &err), 0);
    ck_assert_int_eq(h5_read_attr_string(&a, "/", "config", &ca, &err), 0);
    ck_assert_int_eq(h5_read_attr_string(&b, "/", "config", &cb, &err), 0);
    ClipConfig x, y;
    ck_assert_msg(clip_config_from_json(&x, ca, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(clip_config_from_json(&y, cb, &err), 0);
    ck_assert(clip_config_equal(&x, &y));
    ck_assert_str_eq(x.model_name, y.model_name);
    JsonValue root = {0};
    ck_assert_int_eq(json_parse(&root, ca, strlen(ca), &err), 0);
    ck_assert_str_eq(json_get(&root, "source_sha256")->string, sha);
    ck_assert_str_eq(json_get(&root, "source_file")->string, "model.safetensors");
    json_free(&root);
    free(ca);
    free(cb);
    h5_close(&a);
    h5_close(&b);

    /* the model loader takes the converted file: same parameters as the fixture's */
    ClipModel got = {0}, ref_model = {0};
    ck_assert_msg(clip_model_load(&got, out_h5, &err) == 0, "%s", err.msg);
    ck_assert_msg(clip_model_load(&ref_model, ref, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(got.n_params, ref_model.n_params);
    ck_assert(memcmp(got.params, ref_model.params, got.n_params * sizeof(float)) == 0);
    ck_assert_str_eq(got.config_note, "");
    ck_assert(*got.logit_scale == 2.6592600f);
    clip_model_free(&got);
    clip_model_free(&ref_model);

    /* --arch tiny gives the same datasets; a second run replaces the file */
    free(out);
    free(errout);
    convert_and_compare(in, out_h5, "--arch tiny --pretrained test", ref, 0xFFFFFFFFu);
    free(out_h5);
    free(tmp);
    test_rmtree(dir);
    free(dir);
}
END_TEST

/* The tiny model rewritten with every tensor as BF16 (the high half of each float32). */
START_TEST(convert_bf16_model)
{
    char in[1024], ref[1024];
    if (!test_shared_path(in, sizeof in, "fixtures/tiny_clip/model.safetensors")) return;
    if (!test_shared_path(ref, sizeof ref, "fixtures/tiny_clip/model.h5")) return;
    SafeTensors st = {0};
    Error err = {0};
    ck_assert_int_eq(safetensors_open(&st, in, &err), 0);
    char *dir = test_mkdtemp();
    char *bf = xasprintf("%s/bf16.safetensors", dir), *out_h5 = xasprintf("%s/bf16.h5", dir);
    size_t hcap = 16384, hlen = 0;
    char *header = xmalloc(hcap);
    hlen += (size_t)snprintf(header, hcap, "{\"__metadata__\":{\"config\":");
    FILE *fp = fmemopen(header + hlen, hcap - hlen, "w");
    json_write_string(fp, safetensors_meta(&st, "config"));
    hlen += (size_t)ftell(fp);
    fclose(fp);
    uint8_t *data = xmalloc(st.data_len / 2 + 1);
    for (int i = 0; i < st.count; i++) {
        const SafeTensor *t = &st.tensors[i];
        ck_assert(t->dtype == ST_F32);
        hlen += (size_t)snprintf(header + hlen, hcap - hlen, "},\"%s\":{\"dtype\":\"BF16\",\"shape\":[", t->name);
        for (int d = 0; d < t->rank; d++)
            hlen += (size_t)snprintf(header + hlen, hcap - hlen, "%s%lld", d ? "," : "", (long long)t->dims[d]);
        hlen += (size_t)snprintf(header + hlen, hcap - hlen, "],\"data_offsets\":[%llu,%llu]",
                                 (unsigned long long)(t->begin / 2), (unsigned long long)(t->end / 2));
        for (uint64_t b = t->begin; b < t->end; b += 4) {
            data[b / 2] = st.data[b + 2];
            data[b / 2 + 1] = st.data[b + 3];
        }
    }
    hlen += (size_t)snprintf(header + hlen, hcap - hlen, "}}");
    ck_assert(hlen < hcap - 1);
    size_t total = 8 + hlen + st.data_len / 2;
    uint8_t *file = xmalloc(total);
    for (int i = 0; i < 8; i++) file[i] = (uint8_t)((uint64_t)hlen >> (8 * i));
    memcpy(file + 8, header, hlen);
    memcpy(file + 8 + hlen, data, st.data_len / 2);
    ck_assert_int_eq(test_write_file(bf, file, total), 0);
    safetensors_close(&st);

    convert_and_compare(bf, out_h5, NULL, ref, 0xFFFF0000u);
    free(file);
    free(data);
    free(header);
    free(bf);
    free(out_h5);
    test_rmtree(dir);
    free(dir);
}
END_TEST

/* Copy of the tiny model with `insert` added as the first header member, `old` replaced by
 * `new_` (same length) in the header, extra_bytes appended to the data, and the float at data
 * offset nan_at (if >= 0) set to NaN. */
static void tiny_variant(const char *src, const char *dst, const char *insert, const char *old, const char *new_,
                         size_t extra_bytes, int64_t nan_at)
{
    size_t len;
    char *orig = test_read_file(src, &len);
    ck_assert_ptr_nonnull(orig);
    uint64_t n = 0;
    for (int i = 0; i < 8; i++) n |= (uint64_t)(uint8_t)orig[i] << (8 * i);
    char *header = xmalloc(n + 1);
    memcpy(header, orig + 8, n);
    header[n] = 0;
    if (old) {
        char *at = strstr(header, old);
        ck_assert_msg(at != NULL, "'%s' not in the header", old);
        ck_assert_uint_eq(strlen(old), strlen(new_));
        memcpy(at, new_, strlen(new_));
    }
    char *newh = insert ? xasprintf("{%s,%s", insert, header + 1) : xstrdup(header);
    size_t hlen = strlen(newh), dlen = len - 8 - n;
    size_t total = 8 + hlen + dlen + extra_bytes;
    uint8_t *buf = xcalloc(total, 1);
    for (int i = 0; i < 8; i++) buf[i] = (uint8_t)((uint64_t)hlen >> (8 * i));
    memcpy(buf + 8, newh, hlen);
    memcpy(buf + 8 + hlen, orig + 8 + n, dlen);
    if (nan_at >= 0) {
        const uint8_t qnan[4] = {0x00, 0x00, 0xC0, 0x7F};
        memcpy(buf + 8 + hlen + nan_at, qnan, 4);
    }
    ck_assert_int_eq(test_write_file(dst, buf, total), 0);
    free(buf);
    free(newh);
    free(header);
    free(orig);
}

START_TEST(convert_bad_inputs)
{
    char in[1024];
    if (!test_shared_path(in, sizeof in, "fixtures/tiny_clip/model.safetensors")) return;
    SafeTensors st = {0};
    Error err = {0};
    ck_assert_int_eq(safetensors_open(&st, in, &err), 0);
    int ls = safetensors_find(&st, "logit_scale");
    ck_assert_int_ge(ls, 0);
    int64_t ls_at = (int64_t)st.tensors[ls].begin;
    uint64_t data_len = st.data_len;
    safetensors_close(&st);

    char *dir = test_mkdtemp();
    char *out_h5 = xasprintf("%s/out.h5", dir), *tmp = xasprintf("%s/out.h5.tmp", dir);
    char *extra_entry = xasprintf("\"input_resolution\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[%llu,%llu]}",
                                  (unsigned long long)data_len, (unsigned long long)data_len + 8);
    char *foo_entry = xasprintf("\"visual.foo\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[%llu,%llu]}",
                                (unsigned long long)data_len, (unsigned long long)data_len + 8);
    struct {
        const char *label, *insert, *old, *new_;
        size_t extra_bytes;
        int64_t nan_at;
        const char *opts;
        int want_rc;
        const char *want1, *want2;
    } cases[] = {
        {"wrong_arch", NULL, NULL, NULL, 0, -1, "--arch ViT-B-16-plus-240", 1, "'visual.proj' expected (896, 640), found (64, 32)",
         "missing: 'visual.transformer.resblocks.2."},
        {"nan", NULL, NULL, NULL, 0, ls_at, NULL, 1, "'logit_scale'", "NaN"},
        {"int_tensor", NULL, "\"logit_scale\":{\"dtype\":\"F32\"", "\"logit_scale\":{\"dtype\":\"I32\"", 0, -1, NULL, 1,
         "'logit_scale' (I32)", "not float"},
        {"unexpected_tensor", foo_entry, NULL, NULL, 8, -1, NULL, 1, "1 tensor unexpected: 'visual.foo'", NULL},
        {"renamed_tensor", NULL, "\"ln_final.bias\"", "\"ln_final.bia_\"", 0, -1, NULL, 1,
         "1 tensor missing: 'ln_final.bias'", "1 tensor unexpected: 'ln_final.bia_'"},
        {"droppable_extra", extra_entry, NULL, NULL, 8, -1, NULL, 0, "dropping extra tensor 'input_resolution'", NULL},
    };
    for (size_t c = 0; c < ARRAY_LEN(cases); c++) {
        char *src = xasprintf("%s/%s.safetensors", dir, cases[c].label);
        tiny_variant(in, src, cases[c].insert, cases[c].old, cases[c].new_, cases[c].extra_bytes, cases[c].nan_at);
        char *out = NULL, *errout = NULL;
        int rc = run_convert(src, out_h5, cases[c].opts, &out, &errout);
        const char *msg = rc ? errout : out;
        ck_assert_msg(rc == cases[c].want_rc, "%s: rc %d: %s", cases[c].label, rc, errout);
        ck_assert_msg(strstr(msg, cases[c].want1) != NULL, "%s: no '%s' in: %s", cases[c].label, cases[c].want1, msg);
        ck_assert_msg(!cases[c].want2 || strstr(msg, cases[c].want2), "%s: no '%s' in: %s", cases[c].label,
                      cases[c].want2, msg);
        if (rc) ck_assert_msg(strstr(msg, src) != NULL, "%s: message does not name the file: %s", cases[c].label, msg);
        ck_assert_msg(file_exists(out_h5) == (rc == 0), "%s: output %s", cases[c].label, rc ? "left behind" : "missing");
        ck_assert_msg(!file_exists(tmp), "%s: %s left behind", cases[c].label, tmp);
        unlink(out_h5);
        free(out);
        free(errout);
        free(src);
    }
    /* a malformed file and a usage error */
    char *trunc = xasprintf("%s/truncated.safetensors", dir);
    size_t len;
    char *orig = test_read_file(in, &len);
    ck_assert_int_eq(test_write_file(trunc, orig, len - 100), 0);
    free(orig);
    char *out = NULL, *errout = NULL;
    ck_assert_int_eq(run_convert(trunc, out_h5, NULL, &out, &errout), 1);
    ck_assert_msg(strstr(errout, trunc) && strstr(errout, "truncated"), "%s", errout);
    ck_assert(!file_exists(out_h5) && !file_exists(tmp));
    free(out);
    free(errout);
    ck_assert_int_eq(run_convert(trunc, out_h5, "--arch ViT-L-14", &out, &errout), 2);
    ck_assert_msg(strstr(errout, "unknown architecture 'ViT-L-14'") != NULL, "%s", errout);
    free(out);
    free(errout);
    free(trunc);
    free(extra_entry);
    free(foo_entry);
    free(out_h5);
    free(tmp);
    test_rmtree(dir);
    free(dir);
}
END_TEST

Suite *safetensors_suite(void)
{
    Suite *s = suite_create("safetensors");
    /* The convert cases run the binary on the 10 MB tiny model: allow for ASan builds on a
     * loaded machine (each takes under a second in a normal build). */
    TCase *core = tcase_create("Core");
    tcase_set_timeout(core, 60);
    tcase_add_test(core, dtypes_fixture);
    tcase_add_test(core, half_decoding);
    tcase_add_test(core, minimal_files);
    tcase_add_test(core, convert_tiny_bitexact);
    tcase_add_test(core, convert_bf16_model);
    suite_add_tcase(s, core);
    TCase *lim = tcase_create("Limits");
    tcase_set_timeout(lim, 60);
    tcase_add_test(lim, malformed_files);
    tcase_add_test(lim, convert_bad_inputs);
    suite_add_tcase(s, lim);
    return s;
}
