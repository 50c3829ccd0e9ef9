/*
 * h5_write.c - checked HDF5 writers: groups, numeric datasets (float32/64, int64, uint8,
 * float16), string lists and attributes, deletion. Opening and reading are in h5.c.
 *
 * Every failure becomes an Error naming the file, the dataset and what was expected.
 * Reference: HDF5 1.10 reference manual.
 */
#include "util/h5.h"

#include <hdf5.h>
#include <stdlib.h>
#include <string.h>

int h5_ensure_group(H5File *f, const char *path, Error *err)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", path);
    size_t len = strlen(buf);
    for (size_t i = 1; i <= len; i++) {
        if (buf[i] == '/' || buf[i] == 0) {
            char c = buf[i];
            buf[i] = 0;
            if (H5Lexists((hid_t)f->id, buf, H5P_DEFAULT) <= 0) {
                hid_t g = H5Gcreate2((hid_t)f->id, buf, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
                if (g < 0) return err_setf(err, ERR_IO, "%s: cannot create group '%s'", f->path, buf);
                H5Gclose(g);
            }
            buf[i] = c;
        }
    }
    return 0;
}

static int ensure_parent(H5File *f, const char *path, Error *err)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", path);
    char *slash = strrchr(buf, '/');
    if (!slash || slash == buf) return 0;
    *slash = 0;
    return h5_ensure_group(f, buf, err);
}

int h5_delete(H5File *f, const char *path, Error *err)
{
    if (!h5_exists(f, path)) return 0;
    if (H5Ldelete((hid_t)f->id, path, H5P_DEFAULT) < 0) return err_setf(err, ERR_IO, "%s: cannot delete '%s'", f->path, path);
    return 0;
}

/* Dataset creation properties without modification times, so a file written twice with the
 * same data is byte-identical (runs and shards compare with cmp). Close with H5Pclose. */
static hid_t untimed_dcpl(void)
{
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    if (dcpl >= 0) H5Pset_obj_track_times(dcpl, 0);
    return dcpl;
}

static int write_native(H5File *f, const char *path, hid_t filetype, hid_t memtype, const void *data,
                        int rank, const int64_t *dims, Error *err)
{
    int rc = ensure_parent(f, path, err);
    if (rc) return rc;
    if ((rc = h5_delete(f, path, err))) return rc;
    hsize_t hd[H5_MAX_RANK];
    CHECK(rank >= 0 && rank <= H5_MAX_RANK);
    for (int i = 0; i < rank; i++) hd[i] = (hsize_t)dims[i];
    hid_t s = rank == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(rank, hd, NULL);
    hid_t dcpl = untimed_dcpl();
    hid_t d = H5Dcreate2((hid_t)f->id, path, filetype, s, H5P_DEFAULT, dcpl >= 0 ? dcpl : H5P_DEFAULT, H5P_DEFAULT);
    if (dcpl >= 0) H5Pclose(dcpl);
    if (d < 0) {
        H5Sclose(s);
        return err_setf(err, ERR_IO, "%s: cannot create dataset '%s'", f->path, path);
    }
    size_t n = 1;
    for (int i = 0; i < rank; i++) n *= (size_t)dims[i];
    if (n > 0 && H5Dwrite(d, memtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
        rc = err_setf(err, ERR_IO, "%s: cannot write dataset '%s' (disk full?)", f->path, path);
    H5Dclose(d);
    H5Sclose(s);
    return rc;
}

int h5_write_f32(H5File *f, const char *path, const float *data, int rank, const int64_t *dims, Error *err)
{
    return write_native(f, path, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, data, rank, dims, err);
}
int h5_write_f64(H5File *f, const char *path, const double *data, int rank, const int64_t *dims, Error *err)
{
    return write_native(f, path, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, data, rank, dims, err);
}
int h5_write_i64(H5File *f, const char *path, const int64_t *data, int rank, const int64_t *dims, Error *err)
{
    return write_native(f, path, H5T_STD_I64LE, H5T_NATIVE_INT64, data, rank, dims, err);
}
int h5_write_u8(H5File *f, const char *path, const uint8_t *data, int rank, const int64_t *dims, Error *err)
{
    return write_native(f, path, H5T_STD_U8LE, H5T_NATIVE_UINT8, data, rank, dims, err);
}

int h5_write_strings(H5File *f, const char *path, const char *const *strings, size_t count, Error *err)
{
    int rc = ensure_parent(f, path, err);
    if (rc) return rc;
    if ((rc = h5_delete(f, path, err))) return rc;
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    hsize_t n = (hsize_t)count;
    hid_t s = H5Screate_simple(1, &n, NULL);
    hid_t dcpl = untimed_dcpl();
    hid_t d = H5Dcreate2((hid_t)f->id, path, t, s, H5P_DEFAULT, dcpl >= 0 ? dcpl : H5P_DEFAULT, H5P_DEFAULT);
    if (dcpl >= 0) H5Pclose(dcpl);
    if (d < 0) rc = err_setf(err, ERR_IO, "%s: cannot create dataset '%s'", f->path, path);
    else if (count > 0 && H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, strings) < 0)
        rc = err_setf(err, ERR_IO, "%s: cannot write '%s'", f->path, path);
    if (d >= 0) H5Dclose(d);
    H5Sclose(s);
    H5Tclose(t);
    return rc;
}

static hid_t fresh_attr(H5File *f, const char *obj, const char *name, hid_t type, Error *err)
{
    if (H5Aexists_by_name((hid_t)f->id, obj, name, H5P_DEFAULT) > 0)
        H5Adelete_by_name((hid_t)f->id, obj, name, H5P_DEFAULT);
    hid_t s = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate_by_name((hid_t)f->id, obj, name, type, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Sclose(s);
    if (a < 0) err_setf(err, ERR_IO, "%s: cannot create attribute '%s' on '%s'", f->path, name, obj);
    return a;
}

int h5_write_attr_string(H5File *f, const char *obj, const char *name, const char *value, Error *err)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    size_t len = strlen(value);
    H5Tset_size(t, len ? len : 1);
    H5Tset_strpad(t, H5T_STR_NULLPAD);
    H5Tset_cset(t, H5T_CSET_ASCII);
    hid_t a = fresh_attr(f, obj, name, t, err);
    int rc = 0;
    if (a < 0) rc = err ? err->code : ERR_IO;
    else {
        char *buf = xcalloc(len + 1, 1);
        memcpy(buf, value, len);
        if (H5Awrite(a, t, buf) < 0) rc = err_setf(err, ERR_IO, "%s: cannot write attribute '%s'", f->path, name);
        free(buf);
        H5Aclose(a);
    }
    H5Tclose(t);
    return rc;
}

int h5_write_attr_f64(H5File *f, const char *obj, const char *name, double value, Error *err)
{
    hid_t a = fresh_attr(f, obj, name, H5T_IEEE_F64LE, err);
    if (a < 0) return err ? err->code : ERR_IO;
    int rc = 0;
    if (H5Awrite(a, H5T_NATIVE_DOUBLE, &value) < 0) rc = err_setf(err, ERR_IO, "%s: cannot write attribute '%s'", f->path, name);
    H5Aclose(a);
    return rc;
}

/* ---- float16 and variable-length attribute writers (tests of the readers' conversions) ---- */

/* IEEE binary16, little-endian: HDF5 1.10 has no predefined type; h5py builds the same one. */
static hid_t f16_type(void)
{
    hid_t t = H5Tcopy(H5T_IEEE_F32LE);
    H5Tset_fields(t, 15, 10, 5, 0, 10);
    H5Tset_size(t, 2);
    H5Tset_ebias(t, 15);
    return t;
}

/* float -> binary16 bits, round to nearest even (HDF5 1.10's own float->f16 conversion drops
 * the carry when rounding overflows the mantissa, e.g. 0.124985 -> 0.0625, so we round here). */
static uint16_t f32_to_f16(float value)
{
    uint32_t x;
    memcpy(&x, &value, sizeof x);
    const uint32_t sign = (x >> 16) & 0x8000u, mant = x & 0x7fffffu;
    const int exp = (int)((x >> 23) & 0xffu);
    if (exp == 0xff) return (uint16_t)(sign | 0x7c00u | (mant ? 0x200u : 0u));
    const int e = exp - 127 + 15;
    if (e >= 31) return (uint16_t)(sign | 0x7c00u);
    if (e <= 0) {
        if (e < -10) return (uint16_t)sign;
        const uint32_t m = mant | 0x800000u;
        const int shift = 14 - e;
        uint32_t h = m >> shift;
        const uint32_t rem = m & ((1u << shift) - 1u), mid = 1u << (shift - 1);
        if (rem > mid || (rem == mid && (h & 1u))) h++;
        return (uint16_t)(sign | h);
    }
    uint32_t h = ((uint32_t)e << 10) | (mant >> 13);
    const uint32_t rem = mant & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) h++; /* a carry correctly bumps the exponent */
    return (uint16_t)(sign | h);
}

int h5_write_f16(H5File *f, const char *path, const float *data, int rank, const int64_t *dims, Error *err)
{
    size_t n = 1;
    for (int i = 0; i < rank; i++) n *= (size_t)dims[i];
    uint16_t *bits = xmalloc((n ? n : 1) * sizeof *bits);
    for (size_t i = 0; i < n; i++) bits[i] = f32_to_f16(data[i]);
    hid_t t = f16_type();
    int rc = write_native(f, path, t, t, bits, rank, dims, err);
    H5Tclose(t);
    free(bits);
    return rc;
}

int h5_write_attr_string_vlen(H5File *f, const char *obj, const char *name, const char *value, Error *err)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    hid_t a = fresh_attr(f, obj, name, t, err);
    int rc = 0;
    if (a < 0) rc = err ? err->code : ERR_IO;
    else {
        if (H5Awrite(a, t, &value) < 0) rc = err_setf(err, ERR_IO, "%s: cannot write attribute '%s'", f->path, name);
        H5Aclose(a);
    }
    H5Tclose(t);
    return rc;
}

int h5_delete_attr(H5File *f, const char *obj, const char *name, Error *err)
{
    h5_quiet();
    if (H5Aexists_by_name((hid_t)f->id, obj, name, H5P_DEFAULT) <= 0) return 0;
    if (H5Adelete_by_name((hid_t)f->id, obj, name, H5P_DEFAULT) < 0)
        return err_setf(err, ERR_IO, "%s: cannot delete attribute '%s' on '%s'", f->path, name, obj);
    return 0;
}

/* ---- checksummed datasets (the feature cache) ---- */

/* Chunks of at most this many bytes for checksummed datasets (whole rows). */
#define H5_CHECKED_CHUNK_BYTES ((size_t)4 << 20)

/* Chunked dataset creation properties with Fletcher-32 and no modification times (equal data,
 * equal bytes); -1 on failure. */
static hid_t checked_dcpl(int rank, const int64_t *dims)
{
    hsize_t chunk[H5_MAX_RANK];
    size_t row = sizeof(float);
    for (int i = 1; i < rank; i++) {
        chunk[i] = (hsize_t)dims[i];
        row *= (size_t)dims[i];
    }
    size_t rows = row >= H5_CHECKED_CHUNK_BYTES ? 1 : H5_CHECKED_CHUNK_BYTES / row;
    chunk[0] = (hsize_t)dims[0] < rows ? (hsize_t)dims[0] : (hsize_t)rows;
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    if (dcpl >= 0 && (H5Pset_chunk(dcpl, rank, chunk) < 0 || H5Pset_fletcher32(dcpl) < 0 ||
                      H5Pset_obj_track_times(dcpl, 0) < 0)) {
        H5Pclose(dcpl);
        dcpl = -1;
    }
    return dcpl;
}

int h5_write_f32_checked(H5File *f, const char *path, const float *data, int rank, const int64_t *dims, Error *err)
{
    int64_t n;
    if (rank < 1 || rank > H5_MAX_RANK || h5_elements(rank, dims, &n) || n == 0)
        return err_setf(err, ERR_USAGE, "%s: '%s': a checksummed dataset needs rank 1..%d and 1..%lld elements",
                        f->path, path, H5_MAX_RANK, (long long)H5_MAX_ELEMENTS);
    int rc = ensure_parent(f, path, err);
    if (rc || (rc = h5_delete(f, path, err))) return rc;
    hsize_t hd[H5_MAX_RANK];
    for (int i = 0; i < rank; i++) hd[i] = (hsize_t)dims[i];
    hid_t dcpl = checked_dcpl(rank, dims), s = H5Screate_simple(rank, hd, NULL);
    hid_t d = dcpl >= 0 && s >= 0 ? H5Dcreate2((hid_t)f->id, path, H5T_IEEE_F32LE, s, H5P_DEFAULT, dcpl, H5P_DEFAULT) : -1;
    if (d < 0) rc = err_setf(err, ERR_IO, "%s: cannot create the chunked Fletcher-32 dataset '%s'", f->path, path);
    else if (H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
        rc = err_setf(err, ERR_IO, "%s: cannot write dataset '%s' (disk full?)", f->path, path);
    if (d >= 0) H5Dclose(d);
    if (s >= 0) H5Sclose(s);
    if (dcpl >= 0) H5Pclose(dcpl);
    return rc;
}
