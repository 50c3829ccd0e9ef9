/*
 * safetensors.h - read and validate a .safetensors file (the weight format open_clip publishes).
 *
 * Does: map the file read-only, parse the JSON header, validate every tensor entry (dtype,
 * shape, data_offsets tiling the data buffer exactly), keep `__metadata__`, and read one
 * tensor at a time: float dtypes (F32, F16, BF16, F64) converted to float32, integer dtypes
 * to int64, or any dtype as raw little-endian bytes.
 * Does not: write safetensors, or know model key names (cmd_convert.c, clip_config.c).
 * Reference: shared/spec/clip.md §6.1; huggingface/safetensors README "Format" and
 * safetensors/src/tensor.rs (validation rules).
 *
 *     SafeTensors st = {0};
 *     if (safetensors_open(&st, "model.safetensors", &err)) return err.code;
 *     int i = safetensors_find(&st, "visual.proj");              // -1 if absent
 *     float *w = xmalloc(st.tensors[i].numel * sizeof *w);       // (896, 640)
 *     if (safetensors_read_f32(&st, i, w, st.tensors[i].numel, &err)) goto fail;
 *     safetensors_close(&st);
 *
 * Memory: the file is mmap'ed, so opening an 834 MB file costs address space, not RAM;
 * reading a tensor touches only its own pages, and safetensors_read_f32 drops them from the
 * mapping afterwards (converting the real model peaks at ~370 MB resident, not 834 MB). All functions return 0 or a negative ERR_*
 * and fill err with the file name, the tensor name, what was expected and what was found.
 */
#ifndef WINCLIP_SAFETENSORS_H
#define WINCLIP_SAFETENSORS_H

#include "util/base.h"

#include <stddef.h>
#include <stdint.h>

#define SAFETENSORS_MAX_RANK 8
#define SAFETENSORS_MAX_HEADER 100000000ULL /* bytes, as the reference library */

/* Element types of the format (names as written in the header). */
typedef enum {
    ST_BOOL, ST_U8, ST_I8, ST_F8_E5M2, ST_F8_E4M3, ST_I16, ST_U16, ST_F16, ST_BF16,
    ST_I32, ST_U32, ST_F32, ST_F64, ST_I64, ST_U64
} SafeDtype;

typedef struct {
    char *name;                           /* tensor key, e.g. "visual.proj" (owned)        */
    SafeDtype dtype;
    int rank;                             /* 0 = scalar (one element)                      */
    int64_t dims[SAFETENSORS_MAX_RANK];   /* row-major shape, dims[0..rank)                */
    uint64_t numel;                       /* product of dims (1 for a scalar, 0 if a dim 0) */
    uint64_t begin, end;                  /* byte range in the data buffer, end exclusive  */
} SafeTensor;

typedef struct {
    char path[1024];            /* file name, for messages                          */
    const uint8_t *map;         /* whole file, mmap'ed read-only (NULL if size 0)   */
    size_t map_len;             /* file size in bytes                               */
    uint64_t header_len;        /* N: JSON header bytes after the 8-byte length     */
    const uint8_t *data;        /* data buffer = map + 8 + N                        */
    uint64_t data_len;          /* file size - 8 - N                                */
    SafeTensor *tensors;        /* sorted by name (for safetensors_find)            */
    int count;
    char **meta_keys;           /* `__metadata__` string map, header order (owned)  */
    char **meta_values;
    int meta_count;
} SafeTensors;

/* Open and validate path. *st must be zeroed (or closed). On failure *st is left closed and
 * err says what is wrong: ERR_IO (cannot open/map), ERR_FORMAT (bad header, offsets, shapes),
 * ERR_UNSUPPORTED (unknown dtype, rank > SAFETENSORS_MAX_RANK). */
int safetensors_open(SafeTensors *st, const char *path, Error *err);
/* Unmap and free; safe on a zeroed struct. */
void safetensors_close(SafeTensors *st);

/* Index of the tensor called name in st->tensors, or -1. */
int safetensors_find(const SafeTensors *st, const char *name);
/* Value of `__metadata__[key]`, or NULL. The pointer lives as long as st. */
const char *safetensors_meta(const SafeTensors *st, const char *key);

/* Header spelling of a dtype ("F32") and its element size in bytes. */
const char *safetensors_dtype_name(SafeDtype dtype);
size_t safetensors_dtype_size(SafeDtype dtype);
/* 1 for F16, BF16, F32, F64 (the dtypes safetensors_read_f32 converts). */
int safetensors_dtype_is_float(SafeDtype dtype);

/* Tensor idx converted to float32 into out[0..count); count must equal its numel.
 * F32 copied, F16 decoded as IEEE binary16 (subnormals, inf, nan), BF16 as bits << 16,
 * F64 rounded to nearest. Other dtypes: ERR_UNSUPPORTED naming the tensor and dtype. */
int safetensors_read_f32(const SafeTensors *st, int idx, float *out, size_t count, Error *err);
/* Tensor idx of an integer or BOOL dtype into out[0..count) (count == numel). U64 values
 * above INT64_MAX are an ERR_VALUE. Float dtypes: ERR_UNSUPPORTED. */
int safetensors_read_i64(const SafeTensors *st, int idx, int64_t *out, size_t count, Error *err);
/* Raw little-endian bytes of tensor idx (end - begin of them), valid while st is open. */
const uint8_t *safetensors_raw(const SafeTensors *st, int idx, size_t *nbytes);

/* ---- element decoders (exposed for tests) ---- */

float safetensors_f16_to_f32(uint16_t half);
float safetensors_bf16_to_f32(uint16_t bf16);

#endif
