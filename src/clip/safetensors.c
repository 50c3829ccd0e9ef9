/*
 * safetensors.c - parse, validate and read .safetensors files (see safetensors.h).
 *
 * Does: mmap the file, check the 8-byte header length, UTF-8 + JSON header, every tensor's
 * dtype/shape/data_offsets, the exact tiling of the data buffer; decode F16/BF16/F64 to F32.
 * Does not: write files, or interpret tensor names.
 * Reference: shared/spec/clip.md §6.1; huggingface/safetensors safetensors/src/tensor.rs
 * (Metadata::validate: sorted by offsets the entries must tile the buffer exactly, and
 * end - begin must equal numel * dtype size).
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE /* madvise */
#include "clip/safetensors.h"

#include "util/json.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- dtypes ---- */

static const struct {
    const char *name;
    size_t size;
} DTYPES[] = {
    [ST_BOOL] = {"BOOL", 1},       [ST_U8] = {"U8", 1},   [ST_I8] = {"I8", 1},
    [ST_F8_E5M2] = {"F8_E5M2", 1}, [ST_F8_E4M3] = {"F8_E4M3", 1},
    [ST_I16] = {"I16", 2},         [ST_U16] = {"U16", 2}, [ST_F16] = {"F16", 2},
    [ST_BF16] = {"BF16", 2},       [ST_I32] = {"I32", 4}, [ST_U32] = {"U32", 4},
    [ST_F32] = {"F32", 4},         [ST_F64] = {"F64", 8}, [ST_I64] = {"I64", 8},
    [ST_U64] = {"U64", 8},
};

const char *safetensors_dtype_name(SafeDtype dtype)
{
    CHECK((size_t)dtype < ARRAY_LEN(DTYPES));
    return DTYPES[dtype].name;
}

size_t safetensors_dtype_size(SafeDtype dtype)
{
    CHECK((size_t)dtype < ARRAY_LEN(DTYPES));
    return DTYPES[dtype].size;
}

int safetensors_dtype_is_float(SafeDtype dtype)
{
    return dtype == ST_F16 || dtype == ST_BF16 || dtype == ST_F32 || dtype == ST_F64;
}

static int dtype_parse(const char *name, SafeDtype *out)
{
    for (size_t i = 0; i < ARRAY_LEN(DTYPES); i++) {
        if (strcmp(DTYPES[i].name, name) == 0) {
            *out = (SafeDtype)i;
            return 1;
        }
    }
    return 0;
}

/* ---- element decoding (little-endian, independent of the host byte order) ---- */

static uint16_t load_le16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }

static uint32_t load_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static uint64_t load_le64(const uint8_t *p) { return (uint64_t)load_le32(p) | ((uint64_t)load_le32(p + 4) << 32); }

static float f32_from_bits(uint32_t bits)
{
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

float safetensors_bf16_to_f32(uint16_t bf16) { return f32_from_bits((uint32_t)bf16 << 16); }

/* IEEE binary16: 1 sign, 5 exponent (bias 15), 10 mantissa bits. */
float safetensors_f16_to_f32(uint16_t half)
{
    uint32_t sign = (uint32_t)(half & 0x8000u) << 16;
    uint32_t exp = (half >> 10) & 0x1Fu;
    uint32_t mant = half & 0x3FFu;
    if (exp == 0) {
        /* zero or subnormal: mant * 2^-24, exact in float32 */
        float mag = ldexpf((float)mant, -24);
        return sign ? -mag : mag;
    }
    if (exp == 31) return f32_from_bits(sign | 0x7F800000u | (mant << 13)); /* inf / nan (payload kept) */
    return f32_from_bits(sign | ((exp - 15 + 127) << 23) | (mant << 13));
}

/* ---- header validation helpers ---- */

/* 1 if s[0..n) is well-formed UTF-8 (no overlongs, surrogates or code points > U+10FFFF);
 * else 0 and *bad = offset of the first bad byte. */
static int utf8_valid(const uint8_t *s, size_t n, size_t *bad)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        size_t len;
        uint32_t cp, min;
        if (c < 0x80) { i++; continue; }
        if (c >= 0xC2 && c <= 0xDF) { len = 2; cp = c & 0x1Fu; min = 0x80; }
        else if (c >= 0xE0 && c <= 0xEF) { len = 3; cp = c & 0x0Fu; min = 0x800; }
        else if (c >= 0xF0 && c <= 0xF4) { len = 4; cp = c & 0x07u; min = 0x10000; }
        else { *bad = i; return 0; }
        if (i + len > n) { *bad = i; return 0; }
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80) { *bad = i; return 0; }
            cp = (cp << 6) | (s[i + k] & 0x3Fu);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) { *bad = i; return 0; }
        i += len;
    }
    return 1;
}

/* A JSON integer >= 0 (written without fraction or exponent). */
static int json_nonneg_int(const JsonValue *v, uint64_t *out)
{
    if (!v || v->type != JSON_NUMBER || !v->is_integer || v->integer < 0) return 0;
    *out = (uint64_t)v->integer;
    return 1;
}

/* Fill t from the header entry `entry` (named name). */
static int parse_entry(SafeTensor *t, const char *path, const char *name, const JsonValue *entry, Error *err)
{
    if (entry->type != JSON_OBJECT)
        return err_setf(err, ERR_FORMAT, "%s: tensor '%s': header entry is not a JSON object", path, name);
    const JsonValue *dtype = json_get(entry, "dtype");
    const JsonValue *shape = json_get(entry, "shape");
    const JsonValue *offs = json_get(entry, "data_offsets");
    if (!dtype || !shape || !offs)
        return err_setf(err, ERR_FORMAT, "%s: tensor '%s': header entry lacks \"%s\"", path, name,
                        !dtype ? "dtype" : !shape ? "shape" : "data_offsets");
    if (dtype->type != JSON_STRING)
        return err_setf(err, ERR_FORMAT, "%s: tensor '%s': \"dtype\" is not a string", path, name);
    if (!dtype_parse(dtype->string, &t->dtype))
        return err_setf(err, ERR_UNSUPPORTED,
                        "%s: tensor '%s': unknown dtype \"%s\" (known: BOOL U8 I8 F8_E5M2 F8_E4M3 I16 U16 F16 BF16 "
                        "I32 U32 F32 F64 I64 U64)",
                        path, name, dtype->string);
    if (shape->type != JSON_ARRAY)
        return err_setf(err, ERR_FORMAT, "%s: tensor '%s': \"shape\" is not an array", path, name);
    if (shape->count > SAFETENSORS_MAX_RANK)
        return err_setf(err, ERR_UNSUPPORTED, "%s: tensor '%s': rank %zu is above the supported %d", path, name,
                        shape->count, SAFETENSORS_MAX_RANK);
    t->rank = (int)shape->count;
    uint64_t numel = 1;
    int overflow = 0, zero = 0;
    for (int d = 0; d < t->rank; d++) {
        uint64_t dim;
        if (!json_nonneg_int(&shape->items[d], &dim))
            return err_setf(err, ERR_FORMAT, "%s: tensor '%s': shape[%d] is not a non-negative integer", path, name, d);
        t->dims[d] = (int64_t)dim;
        if (dim == 0) zero = 1;
        else if (numel > UINT64_MAX / dim) overflow = 1;
        else numel *= dim;
    }
    size_t esize = DTYPES[t->dtype].size;
    t->numel = zero ? 0 : numel;
    if (!zero && (overflow || numel > UINT64_MAX / esize))
        return err_setf(err, ERR_FORMAT, "%s: tensor '%s': shape has more elements than a file can hold", path, name);
    if (offs->type != JSON_ARRAY || offs->count != 2 || !json_nonneg_int(&offs->items[0], &t->begin) ||
        !json_nonneg_int(&offs->items[1], &t->end))
        return err_setf(err, ERR_FORMAT, "%s: tensor '%s': \"data_offsets\" is not [begin, end] of non-negative integers",
                        path, name);
    if (t->end < t->begin)
        return err_setf(err, ERR_FORMAT, "%s: tensor '%s': data_offsets [%llu, %llu] end before begin", path, name,
                        (unsigned long long)t->begin, (unsigned long long)t->end);
    uint64_t want = t->numel * esize;
    if (t->end - t->begin != want)
        return err_setf(err, ERR_FORMAT,
                        "%s: tensor '%s': data_offsets [%llu, %llu] hold %llu bytes, but %s shape with %llu elements "
                        "needs %llu",
                        path, name, (unsigned long long)t->begin, (unsigned long long)t->end,
                        (unsigned long long)(t->end - t->begin), DTYPES[t->dtype].name,
                        (unsigned long long)t->numel, (unsigned long long)want);
    return 0;
}

static int parse_metadata(SafeTensors *st, const JsonValue *meta, Error *err)
{
    if (meta->type != JSON_OBJECT)
        return err_setf(err, ERR_FORMAT, "%s: \"__metadata__\" is not a JSON object", st->path);
    st->meta_keys = xcalloc(meta->count + 1, sizeof *st->meta_keys);
    st->meta_values = xcalloc(meta->count + 1, sizeof *st->meta_values);
    for (size_t i = 0; i < meta->count; i++) {
        if (meta->items[i].type != JSON_STRING)
            return err_setf(err, ERR_FORMAT, "%s: \"__metadata__\" member \"%s\" is not a string", st->path,
                            meta->keys[i]);
        st->meta_keys[i] = xstrdup(meta->keys[i]);
        st->meta_values[i] = xstrdup(meta->items[i].string);
        st->meta_count++;
    }
    return 0;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(((const SafeTensor *)a)->name, ((const SafeTensor *)b)->name);
}

static int cmp_offsets(const void *a, const void *b)
{
    const SafeTensor *x = *(const SafeTensor *const *)a, *y = *(const SafeTensor *const *)b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return 0;
}

/* Sorted by (begin, end), the tensors must cover [0, data_len) without gap or overlap. */
static int check_tiling(const SafeTensors *st, Error *err)
{
    for (int i = 0; i < st->count; i++) {
        const SafeTensor *t = &st->tensors[i];
        if (t->end > st->data_len)
            return err_setf(err, ERR_FORMAT,
                            "%s: tensor '%s': data_offsets [%llu, %llu] run past the end of the data buffer (%llu bytes "
                            "after the header; file truncated?)",
                            st->path, t->name, (unsigned long long)t->begin, (unsigned long long)t->end,
                            (unsigned long long)st->data_len);
    }
    const SafeTensor **order = xmalloc((size_t)(st->count > 0 ? st->count : 1) * sizeof *order);
    for (int i = 0; i < st->count; i++) order[i] = &st->tensors[i];
    qsort(order, (size_t)st->count, sizeof *order, cmp_offsets);
    uint64_t covered = 0;
    int rc = 0;
    for (int i = 0; i < st->count && rc == 0; i++) {
        const SafeTensor *t = order[i];
        if (t->begin < covered)
            rc = err_setf(err, ERR_FORMAT, "%s: tensor '%s': data_offsets [%llu, %llu] overlap tensor '%s' (which ends at %llu)",
                          st->path, t->name, (unsigned long long)t->begin, (unsigned long long)t->end,
                          order[i - 1]->name, (unsigned long long)covered);
        else if (t->begin > covered)
            rc = err_setf(err, ERR_FORMAT, "%s: tensor '%s': data_offsets [%llu, %llu] leave a gap of %llu unused bytes before it",
                          st->path, t->name, (unsigned long long)t->begin, (unsigned long long)t->end,
                          (unsigned long long)(t->begin - covered));
        covered = t->end;
    }
    if (rc == 0 && covered != st->data_len)
        rc = err_setf(err, ERR_FORMAT,
                      "%s: the tensors cover %llu bytes of data but the file holds %llu after the header (%llu trailing "
                      "bytes)",
                      st->path, (unsigned long long)covered, (unsigned long long)st->data_len,
                      (unsigned long long)(st->data_len - covered));
    free(order);
    return rc;
}

/* Parse the JSON header text into st->tensors / metadata. */
static int parse_header(SafeTensors *st, const char *text, size_t len, Error *err)
{
    size_t bad;
    if (!utf8_valid((const uint8_t *)text, len, &bad))
        return err_setf(err, ERR_FORMAT, "%s: header is not valid UTF-8 (byte %zu of the header)", st->path, bad);
    JsonValue root = {0};
    if (json_parse(&root, text, len, err) != 0)
        return err_prefixf(err, "%s: header (%zu bytes) is not valid JSON: ", st->path, len);
    int rc = 0;
    if (root.type != JSON_OBJECT) {
        rc = err_setf(err, ERR_FORMAT, "%s: header is JSON but not an object", st->path);
        goto done;
    }
    st->tensors = xcalloc(root.count + 1, sizeof *st->tensors);
    for (size_t i = 0; i < root.count && rc == 0; i++) {
        const char *key = root.keys[i];
        if (strcmp(key, "__metadata__") == 0) {
            if (st->meta_keys)
                rc = err_setf(err, ERR_FORMAT, "%s: \"__metadata__\" appears twice", st->path);
            else
                rc = parse_metadata(st, &root.items[i], err);
            continue;
        }
        SafeTensor *t = &st->tensors[st->count];
        t->name = xstrdup(key);
        st->count++;
        rc = parse_entry(t, st->path, key, &root.items[i], err);
    }
    if (rc) goto done;
    qsort(st->tensors, (size_t)st->count, sizeof *st->tensors, cmp_name);
    for (int i = 1; i < st->count && rc == 0; i++)
        if (strcmp(st->tensors[i - 1].name, st->tensors[i].name) == 0)
            rc = err_setf(err, ERR_FORMAT, "%s: tensor '%s' appears twice in the header", st->path, st->tensors[i].name);
    if (rc == 0) rc = check_tiling(st, err);
done:
    json_free(&root);
    return rc;
}

/* ---- open / close ---- */

int safetensors_open(SafeTensors *st, const char *path, Error *err)
{
    memset(st, 0, sizeof *st);
    snprintf(st->path, sizeof st->path, "%s", path);
    int fd = open(path, O_RDONLY);
    if (fd < 0) return err_setf(err, ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        int e = errno;
        close(fd);
        return err_setf(err, ERR_IO, "%s: cannot stat: %s", path, strerror(e));
    }
    if (!S_ISREG(sb.st_mode)) {
        close(fd);
        return err_setf(err, ERR_IO, "%s: not a regular file", path);
    }
    size_t size = (size_t)sb.st_size;
    if (size < 8) {
        close(fd);
        return err_setf(err, ERR_FORMAT, "%s: file is %zu bytes, too short for the 8-byte header length (not a safetensors file)",
                        path, size);
    }
    void *map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    int map_errno = errno;
    close(fd);
    if (map == MAP_FAILED) return err_setf(err, ERR_IO, "%s: cannot map %zu bytes: %s", path, size, strerror(map_errno));
    st->map = map;
    st->map_len = size;

    int rc;
    uint64_t n = load_le64(st->map);
    if (n > SAFETENSORS_MAX_HEADER) {
        rc = err_setf(err, ERR_FORMAT, "%s: header length %llu is above the %llu-byte limit (not a safetensors file?)", path,
                      (unsigned long long)n, SAFETENSORS_MAX_HEADER);
        goto fail;
    }
    if (n > size - 8) {
        rc = err_setf(err, ERR_FORMAT, "%s: header length %llu runs past the end of the %zu-byte file (truncated?)", path,
                      (unsigned long long)n, size);
        goto fail;
    }
    if (n < 2) {
        rc = err_setf(err, ERR_FORMAT, "%s: header length %llu is too short for a JSON object", path, (unsigned long long)n);
        goto fail;
    }
    st->header_len = n;
    st->data = st->map + 8 + n;
    st->data_len = size - 8 - n;
    rc = parse_header(st, (const char *)st->map + 8, (size_t)n, err);
    if (rc) goto fail;
    return 0;
fail:
    safetensors_close(st);
    return rc;
}

void safetensors_close(SafeTensors *st)
{
    if (!st) return;
    if (st->map) munmap((void *)st->map, st->map_len);
    for (int i = 0; i < st->count; i++) free(st->tensors[i].name);
    free(st->tensors);
    for (int i = 0; i < st->meta_count; i++) {
        free(st->meta_keys[i]);
        free(st->meta_values[i]);
    }
    free(st->meta_keys);
    free(st->meta_values);
    char path[sizeof st->path];
    memcpy(path, st->path, sizeof path);
    memset(st, 0, sizeof *st);
    memcpy(st->path, path, sizeof path); /* keep the name for messages after a failed open */
}

/* ---- lookup ---- */

int safetensors_find(const SafeTensors *st, const char *name)
{
    int lo = 0, hi = st->count - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        int c = strcmp(st->tensors[mid].name, name);
        if (c == 0) return mid;
        if (c < 0) lo = mid + 1;
        else hi = mid - 1;
    }
    return -1;
}

const char *safetensors_meta(const SafeTensors *st, const char *key)
{
    for (int i = 0; i < st->meta_count; i++)
        if (strcmp(st->meta_keys[i], key) == 0) return st->meta_values[i];
    return NULL;
}

const uint8_t *safetensors_raw(const SafeTensors *st, int idx, size_t *nbytes)
{
    CHECK(idx >= 0 && idx < st->count);
    const SafeTensor *t = &st->tensors[idx];
    if (nbytes) *nbytes = (size_t)(t->end - t->begin);
    return st->data + t->begin;
}

/* ---- reads ---- */

/* Drop the whole pages of tensor t from this process's mapping once it has been converted, so
 * reading every tensor of an 834 MB file in turn does not grow the resident set to the file
 * size. The mapping stays valid: a later access faults the pages back in from the page cache. */
static void release_pages(const SafeTensors *st, const SafeTensor *t)
{
    long page = sysconf(_SC_PAGESIZE);
    if (page <= 0) return;
    size_t first = (size_t)(st->data - st->map) + (size_t)t->begin;
    size_t last = (size_t)(st->data - st->map) + (size_t)t->end;
    size_t lo = (first + (size_t)page - 1) / (size_t)page * (size_t)page, hi = last / (size_t)page * (size_t)page;
    if (hi > lo) madvise((void *)(st->map + lo), hi - lo, MADV_DONTNEED);
}

static int check_count(const SafeTensors *st, const SafeTensor *t, size_t count, Error *err)
{
    if ((uint64_t)count != t->numel)
        return err_setf(err, ERR_SHAPE, "%s: tensor '%s': caller buffer holds %zu elements, tensor has %llu", st->path,
                        t->name, count, (unsigned long long)t->numel);
    return 0;
}

int safetensors_read_f32(const SafeTensors *st, int idx, float *out, size_t count, Error *err)
{
    CHECK(idx >= 0 && idx < st->count);
    const SafeTensor *t = &st->tensors[idx];
    if (!safetensors_dtype_is_float(t->dtype))
        return err_setf(err, ERR_UNSUPPORTED, "%s: tensor '%s': dtype %s is not a float type (F32, F16, BF16, F64)",
                        st->path, t->name, DTYPES[t->dtype].name);
    if (check_count(st, t, count, err)) return err->code;
    const uint8_t *p = st->data + t->begin;
    switch (t->dtype) {
    case ST_F32:
        for (size_t i = 0; i < count; i++) out[i] = f32_from_bits(load_le32(p + 4 * i));
        break;
    case ST_F16:
        for (size_t i = 0; i < count; i++) out[i] = safetensors_f16_to_f32(load_le16(p + 2 * i));
        break;
    case ST_BF16:
        for (size_t i = 0; i < count; i++) out[i] = safetensors_bf16_to_f32(load_le16(p + 2 * i));
        break;
    case ST_F64:
        for (size_t i = 0; i < count; i++) {
            uint64_t bits = load_le64(p + 8 * i);
            double d;
            memcpy(&d, &bits, sizeof d);
            out[i] = (float)d;
        }
        break;
    default: CHECK(0);
    }
    release_pages(st, t);
    return 0;
}

int safetensors_read_i64(const SafeTensors *st, int idx, int64_t *out, size_t count, Error *err)
{
    CHECK(idx >= 0 && idx < st->count);
    const SafeTensor *t = &st->tensors[idx];
    if (safetensors_dtype_is_float(t->dtype) || t->dtype == ST_F8_E5M2 || t->dtype == ST_F8_E4M3)
        return err_setf(err, ERR_UNSUPPORTED, "%s: tensor '%s': dtype %s is not an integer type", st->path, t->name,
                        DTYPES[t->dtype].name);
    if (check_count(st, t, count, err)) return err->code;
    const uint8_t *p = st->data + t->begin;
    for (size_t i = 0; i < count; i++) {
        switch (t->dtype) {
        case ST_BOOL:
        case ST_U8: out[i] = p[i]; break;
        case ST_I8: out[i] = (int8_t)p[i]; break;
        case ST_U16: out[i] = load_le16(p + 2 * i); break;
        case ST_I16: out[i] = (int16_t)load_le16(p + 2 * i); break;
        case ST_U32: out[i] = load_le32(p + 4 * i); break;
        case ST_I32: out[i] = (int32_t)load_le32(p + 4 * i); break;
        case ST_I64: out[i] = (int64_t)load_le64(p + 8 * i); break;
        case ST_U64: {
            uint64_t v = load_le64(p + 8 * i);
            if (v > (uint64_t)INT64_MAX)
                return err_setf(err, ERR_VALUE, "%s: tensor '%s': U64 element %zu = %llu does not fit int64", st->path,
                                t->name, i, (unsigned long long)v);
            out[i] = (int64_t)v;
            break;
        }
        default: CHECK(0);
        }
    }
    return 0;
}
