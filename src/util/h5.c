/*
 * h5.c - thin, checked wrappers over the HDF5 C API: opening files and reading (h5_write.c
 * writes; these two are the only files that include hdf5.h).
 *
 * HDF5's own error printing is switched off: every failure becomes an Error naming the file,
 * the dataset and what was expected. Numeric reads use native memory types so HDF5 converts
 * (float16 is not predefined in 1.10 but converts like any IEEE float: h5_write_f16 makes one).
 * Reference: HDF5 1.10 reference manual.
 */
#include "util/h5.h"

#include <hdf5.h>
#include <stdlib.h>
#include <string.h>

void h5_quiet(void)
{
    static int done;
    if (!done) {
        H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
        done = 1;
    }
}

static int open_file(H5File *f, const char *path, unsigned flags, int create, Error *err)
{
    h5_quiet();
    memset(f, 0, sizeof *f);
    snprintf(f->path, sizeof f->path, "%s", path);
    hid_t id;
    if (create) {
        id = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
        if (id < 0) return err_setf(err, ERR_IO, "%s: cannot create HDF5 file (check the folder exists and is writable)", path);
    } else {
        FILE *probe = fopen(path, "rb");
        if (!probe) return err_setf(err, ERR_MISSING, "%s: no such file or not readable", path);
        fclose(probe);
        if (H5Fis_hdf5(path) <= 0)
            return err_setf(err, ERR_FORMAT, "%s: not an HDF5 file (or truncated/corrupt)", path);
        id = H5Fopen(path, flags, H5P_DEFAULT);
        if (id < 0) return err_setf(err, ERR_FORMAT, "%s: HDF5 cannot open the file (truncated or corrupt?)", path);
    }
    f->id = (int64_t)id;
    return 0;
}

int h5_open_read(H5File *f, const char *path, Error *err) { return open_file(f, path, H5F_ACC_RDONLY, 0, err); }
int h5_open_rw(H5File *f, const char *path, Error *err) { return open_file(f, path, H5F_ACC_RDWR, 0, err); }
int h5_create(H5File *f, const char *path, Error *err) { return open_file(f, path, 0, 1, err); }

void h5_close(H5File *f)
{
    if (f && f->id > 0) {
        H5Fclose((hid_t)f->id);
        f->id = 0;
    }
}

int h5_flush(H5File *f, Error *err)
{
    if (H5Fflush((hid_t)f->id, H5F_SCOPE_GLOBAL) < 0) return err_setf(err, ERR_IO, "%s: flush failed", f->path);
    return 0;
}

/* Walks the path component by component so a missing parent is not an HDF5 error. */
int h5_exists(const H5File *f, const char *path)
{
    h5_quiet();
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p == '/') {
            *p = 0;
            if (H5Lexists((hid_t)f->id, buf, H5P_DEFAULT) <= 0) return 0;
            *p = '/';
        }
    }
    if (strcmp(buf, "/") == 0) return 1;
    return H5Lexists((hid_t)f->id, buf, H5P_DEFAULT) > 0;
}

static hid_t open_dset(const H5File *f, const char *path, Error *err)
{
    if (!h5_exists(f, path)) {
        err_setf(err, ERR_MISSING, "%s: dataset '%s' is missing", f->path, path);
        return -1;
    }
    hid_t d = H5Dopen2((hid_t)f->id, path, H5P_DEFAULT);
    if (d < 0) err_setf(err, ERR_FORMAT, "%s: '%s' exists but is not a readable dataset", f->path, path);
    return d;
}

static int dset_shape(hid_t d, int *rank, int64_t dims[H5_MAX_RANK])
{
    hid_t s = H5Dget_space(d);
    if (s < 0) return -1;
    int r = H5Sget_simple_extent_ndims(s);
    if (r < 0 || r > H5_MAX_RANK) {
        H5Sclose(s);
        return -1;
    }
    hsize_t hd[H5_MAX_RANK];
    H5Sget_simple_extent_dims(s, hd, NULL);
    for (int i = 0; i < r; i++) dims[i] = (int64_t)hd[i];
    *rank = r;
    H5Sclose(s);
    return 0;
}

int h5_shape(const H5File *f, const char *path, int *rank, int64_t dims[H5_MAX_RANK], Error *err)
{
    hid_t d = open_dset(f, path, err);
    if (d < 0) return err->code ? err->code : ERR_MISSING;
    int rc = dset_shape(d, rank, dims);
    H5Dclose(d);
    if (rc) return err_setf(err, ERR_FORMAT, "%s: '%s': unreadable dataspace", f->path, path);
    return 0;
}

int h5_dtype(const H5File *f, const char *path, int *cls, size_t *size, Error *err)
{
    hid_t d = open_dset(f, path, err);
    if (d < 0) return err ? err->code : ERR_MISSING;
    hid_t t = H5Dget_type(d);
    H5T_class_t c = H5Tget_class(t);
    *cls = c == H5T_FLOAT ? H5_CLASS_FLOAT : c == H5T_INTEGER ? H5_CLASS_INT : c == H5T_STRING ? H5_CLASS_STRING : H5_CLASS_OTHER;
    *size = H5Tget_size(t);
    H5Tclose(t);
    H5Dclose(d);
    return 0;
}

int h5_elements(int rank, const int64_t *dims, int64_t *n)
{
    int64_t p = 1;
    for (int i = 0; i < rank; i++) {
        if (dims[i] < 0 || (dims[i] > 0 && p > H5_MAX_ELEMENTS / dims[i])) {
            *n = -1;
            return 1;
        }
        p *= dims[i];
    }
    *n = p;
    return 0;
}

static void shape_str(char *buf, size_t cap, int rank, const int64_t *dims)
{
    size_t used = (size_t)snprintf(buf, cap, "(");
    for (int i = 0; i < rank && used < cap; i++)
        used += (size_t)snprintf(buf + used, cap - used, "%s%lld", i ? ", " : "", (long long)dims[i]);
    if (used < cap) snprintf(buf + used, cap - used, "%s)", rank == 0 ? "scalar" : "");
}

static int too_large(const H5File *f, const char *path, int rank, const int64_t *dims, Error *err)
{
    char s[128];
    shape_str(s, sizeof s, rank, dims);
    return err_setf(err, ERR_SHAPE, "%s: '%s': declared shape %s: expected at most %lld elements", f->path, path, s,
                    (long long)H5_MAX_ELEMENTS);
}

int64_t h5_numel(const H5File *f, const char *path, Error *err)
{
    int rank;
    int64_t dims[H5_MAX_RANK], n;
    if (h5_shape(f, path, &rank, dims, err)) return -1;
    if (h5_elements(rank, dims, &n)) {
        too_large(f, path, rank, dims, err);
        return -1;
    }
    return n;
}

int h5_checksummed(const H5File *f, const char *path, Error *err)
{
    hid_t d = open_dset(f, path, err);
    if (d < 0) return err->code ? err->code : ERR_MISSING;
    hid_t dcpl = H5Dget_create_plist(d);
    int found = 0, n = dcpl >= 0 ? H5Pget_nfilters(dcpl) : -1;
    for (int i = 0; i < n && !found; i++) {
        unsigned flags = 0, cd[8];
        size_t ncd = 8;
        char name[64];
        found = H5Pget_filter2(dcpl, (unsigned)i, &flags, &ncd, cd, sizeof name, name, NULL) == H5Z_FILTER_FLETCHER32;
    }
    if (dcpl >= 0) H5Pclose(dcpl);
    H5Dclose(d);
    if (n < 0) return err_setf(err, ERR_FORMAT, "%s: '%s': unreadable dataset properties", f->path, path);
    return found;
}

/* HDF5 allocates a whole chunk per read: a tiny file may declare a huge one. */
#define H5_MAX_CHUNK_BYTES (256 << 20)
static int chunk_too_large(hid_t d)
{
    hid_t dcpl = H5Dget_create_plist(d), t = H5Dget_type(d);
    int bad = 0;
    if (dcpl >= 0 && H5Pget_layout(dcpl) == H5D_CHUNKED) {
        hsize_t cd[H5_MAX_RANK];
        int cr = H5Pget_chunk(dcpl, H5_MAX_RANK, cd);
        double bytes = (double)H5Tget_size(t);
        for (int i = 0; i < cr; i++) bytes *= (double)cd[i];
        bad = cr < 0 || bytes > H5_MAX_CHUNK_BYTES;
    }
    if (dcpl >= 0) H5Pclose(dcpl);
    if (t >= 0) H5Tclose(t);
    return bad;
}

/* What is wrong with where the data of d (n elements of elem bytes in the file) is stored, or
 * NULL: a compact dataset must hold exactly its bytes (libhdf5 1.10 copies from a NULL buffer
 * when a damaged file declares fewer), an allocated contiguous one must lie inside the file. */
static const char *storage_bad(hid_t file, hid_t d, int64_t n, size_t elem)
{
    hid_t dcpl = H5Dget_create_plist(d);
    if (dcpl < 0) return "unreadable creation properties";
    H5D_layout_t layout = H5Pget_layout(dcpl);
    H5Pclose(dcpl);
    double want = (double)n * (double)elem;
    if (layout == H5D_COMPACT && (double)H5Dget_storage_size(d) != want)
        return "compact storage smaller or larger than its shape";
    if (layout == H5D_CONTIGUOUS) {
        haddr_t off = H5Dget_offset(d);
        hsize_t size = 0;
        if (off != HADDR_UNDEF && (H5Fget_filesize(file, &size) < 0 || (double)off + want > (double)size))
            return "contiguous data past the end of the file (truncated?)";
    }
    return NULL;
}

static int read_native(const H5File *f, const char *path, hid_t memtype, int want_class, void *out,
                       size_t count, Error *err)
{
    hid_t d = open_dset(f, path, err);
    if (d < 0) return err ? err->code : ERR_MISSING;
    int rc = 0, rank;
    int64_t dims[H5_MAX_RANK];
    hid_t t = H5Dget_type(d);
    H5T_class_t c = H5Tget_class(t);
    size_t elem = H5Tget_size(t);
    H5Tclose(t);
    if ((c == H5T_FLOAT || c == H5T_INTEGER) && (elem == 0 || elem > 8)) {
        rc = err_setf(err, ERR_FORMAT, "%s: '%s': expected numbers of 1 to 8 bytes, found %zu-byte elements", f->path,
                      path, elem);
        goto done;
    }
    if (c != H5T_FLOAT && c != H5T_INTEGER) {
        rc = err_setf(err, ERR_FORMAT, "%s: '%s': expected a numeric dataset, found HDF5 type class %d", f->path, path, (int)c);
        goto done;
    }
    if (want_class == H5_CLASS_FLOAT && c != H5T_FLOAT) {
        rc = err_setf(err, ERR_FORMAT, "%s: '%s': expected floating-point data, found integers", f->path, path);
        goto done;
    }
    if (dset_shape(d, &rank, dims)) {
        rc = err_setf(err, ERR_FORMAT, "%s: '%s': unreadable dataspace", f->path, path);
        goto done;
    }
    int64_t n;
    if (h5_elements(rank, dims, &n)) {
        rc = too_large(f, path, rank, dims, err);
        goto done;
    }
    if (chunk_too_large(d)) {
        rc = err_setf(err, ERR_FORMAT, "%s: '%s': declared chunk over %d MiB: expected a chunk that fits the data",
                      f->path, path, H5_MAX_CHUNK_BYTES >> 20);
        goto done;
    }
    if ((size_t)n != count) {
        char s[128];
        shape_str(s, sizeof s, rank, dims);
        rc = err_setf(err, ERR_SHAPE, "%s: '%s': expected %zu elements, found %lld %s", f->path, path, count, (long long)n, s);
        goto done;
    }
    const char *bad = n > 0 ? storage_bad((hid_t)f->id, d, n, elem) : NULL;
    if (bad) {
        rc = err_setf(err, ERR_FORMAT, "%s: '%s': %s", f->path, path, bad);
        goto done;
    }
    if (n > 0 && H5Dread(d, memtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) < 0)
        rc = err_setf(err, ERR_IO, "%s: '%s': read failed (file truncated or unsupported element type?)", f->path, path);
done:
    H5Dclose(d);
    return rc;
}

int h5_read_f32(const H5File *f, const char *path, float *out, size_t count, Error *err)
{
    return read_native(f, path, H5T_NATIVE_FLOAT, H5_CLASS_FLOAT, out, count, err);
}
int h5_read_f64(const H5File *f, const char *path, double *out, size_t count, Error *err)
{
    return read_native(f, path, H5T_NATIVE_DOUBLE, H5_CLASS_OTHER, out, count, err);
}
int h5_read_i64(const H5File *f, const char *path, int64_t *out, size_t count, Error *err)
{
    return read_native(f, path, H5T_NATIVE_INT64, H5_CLASS_OTHER, out, count, err);
}
int h5_read_u8(const H5File *f, const char *path, uint8_t *out, size_t count, Error *err)
{
    return read_native(f, path, H5T_NATIVE_UINT8, H5_CLASS_OTHER, out, count, err);
}

int h5_read_f32_shape(const H5File *f, const char *path, float *out, int want_rank,
                      const int64_t *want_dims, Error *err)
{
    int rank;
    int64_t dims[H5_MAX_RANK];
    int rc = h5_shape(f, path, &rank, dims, err);
    if (rc) return rc;
    int same = rank == want_rank;
    for (int i = 0; same && i < rank; i++) same = dims[i] == want_dims[i];
    if (!same) {
        char a[128], b[128];
        shape_str(a, sizeof a, want_rank, want_dims);
        shape_str(b, sizeof b, rank, dims);
        return err_setf(err, ERR_SHAPE, "%s: '%s': expected shape %s, found %s", f->path, path, a, b);
    }
    size_t n = 1;
    for (int i = 0; i < rank; i++) n *= (size_t)dims[i];
    return h5_read_f32(f, path, out, n, err);
}

int h5_read_f32_alloc(const H5File *f, const char *path, float **out, int *rank,
                      int64_t dims[H5_MAX_RANK], Error *err)
{
    int r;
    int64_t d[H5_MAX_RANK];
    *out = NULL;
    int64_t numel;
    int rc = h5_shape(f, path, &r, d, err);
    if (rc) return rc;
    if (h5_elements(r, d, &numel)) return too_large(f, path, r, d, err);
    size_t n = (size_t)numel;
    float *buf = xmalloc((n ? n : 1) * sizeof *buf);
    rc = h5_read_f32(f, path, buf, n, err);
    if (rc) {
        free(buf);
        return rc;
    }
    *out = buf;
    if (rank) *rank = r;
    if (dims)
        for (int i = 0; i < r; i++) dims[i] = d[i];
    return 0;
}

/* Reads a string-typed dataset or attribute through one code path: `obj` is either. */
static int read_strings_obj(hid_t obj, int is_attr, const char *what, const char *file, char ***out,
                            size_t *count, Error *err)
{
    hid_t t = is_attr ? H5Aget_type(obj) : H5Dget_type(obj);
    hid_t s = is_attr ? H5Aget_space(obj) : H5Dget_space(obj);
    int rc = 0;
    if (H5Tget_class(t) != H5T_STRING) {
        rc = err_setf(err, ERR_FORMAT, "%s: '%s': expected a string, found another type", file, what);
        goto done;
    }
    hssize_t n = H5Sget_simple_extent_npoints(s);
    if (n < 0) {
        rc = err_setf(err, ERR_FORMAT, "%s: '%s': unreadable dataspace", file, what);
        goto done;
    }
    char **res = xcalloc((size_t)n ? (size_t)n : 1, sizeof *res);
    if (H5Tis_variable_str(t) > 0) {
        hid_t mt = H5Tcopy(H5T_C_S1);
        H5Tset_size(mt, H5T_VARIABLE);
        H5Tset_cset(mt, H5Tget_cset(t));
        char **tmp = xcalloc((size_t)n ? (size_t)n : 1, sizeof *tmp);
        herr_t r = is_attr ? H5Aread(obj, mt, tmp) : H5Dread(obj, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, tmp);
        if (r < 0) {
            rc = err_setf(err, ERR_IO, "%s: '%s': string read failed", file, what);
        } else {
            for (hssize_t i = 0; i < n; i++) res[i] = xstrdup(tmp[i] ? tmp[i] : "");
            H5Dvlen_reclaim(mt, s, H5P_DEFAULT, tmp);
        }
        free(tmp);
        H5Tclose(mt);
    } else {
        size_t len = H5Tget_size(t);
        if (!is_attr && n > 0) { /* a damaged layout must not reach H5Dread (storage_bad) */
            hid_t fid = H5Iget_file_id(obj);
            const char *bad = fid >= 0 ? storage_bad(fid, obj, n, len) : "no file";
            if (fid >= 0) H5Fclose(fid);
            if (bad) {
                free(res);
                rc = err_setf(err, ERR_FORMAT, "%s: '%s': %s", file, what, bad);
                goto done;
            }
        }
        char *buf = xcalloc((size_t)n * len + 1, 1);
        hid_t mt = H5Tcopy(t);
        herr_t r = is_attr ? H5Aread(obj, mt, buf) : H5Dread(obj, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
        H5Tclose(mt);
        if (r < 0) {
            rc = err_setf(err, ERR_IO, "%s: '%s': string read failed", file, what);
        } else {
            for (hssize_t i = 0; i < n; i++) {
                char *e = xcalloc(len + 1, 1);
                memcpy(e, buf + (size_t)i * len, len);
                size_t k = strlen(e);
                while (k > 0 && e[k - 1] == ' ' && H5Tget_strpad(t) == H5T_STR_SPACEPAD) e[--k] = 0;
                res[i] = e;
            }
        }
        free(buf);
    }
    if (rc) {
        h5_strings_free(res, (size_t)n);
    } else {
        *out = res;
        *count = (size_t)n;
    }
done:
    H5Sclose(s);
    H5Tclose(t);
    return rc;
}

int h5_read_strings(const H5File *f, const char *path, char ***out, size_t *count, Error *err)
{
    hid_t d = open_dset(f, path, err);
    if (d < 0) return err ? err->code : ERR_MISSING;
    int rc = read_strings_obj(d, 0, path, f->path, out, count, err);
    H5Dclose(d);
    return rc;
}

void h5_strings_free(char **strings, size_t count)
{
    if (!strings) return;
    for (size_t i = 0; i < count; i++) free(strings[i]);
    free(strings);
}

static hid_t open_attr(const H5File *f, const char *obj, const char *name, Error *err)
{
    h5_quiet();
    if (!h5_exists(f, obj) || H5Aexists_by_name((hid_t)f->id, obj, name, H5P_DEFAULT) <= 0) {
        err_setf(err, ERR_MISSING, "%s: attribute '%s' on '%s' is missing", f->path, name, obj);
        return -1;
    }
    hid_t a = H5Aopen_by_name((hid_t)f->id, obj, name, H5P_DEFAULT, H5P_DEFAULT);
    if (a < 0) err_setf(err, ERR_FORMAT, "%s: attribute '%s' on '%s' cannot be opened", f->path, name, obj);
    return a;
}

int h5_read_attr_string(const H5File *f, const char *obj, const char *name, char **out, Error *err)
{
    hid_t a = open_attr(f, obj, name, err);
    if (a < 0) return err ? err->code : ERR_MISSING;
    char **strs = NULL;
    size_t n = 0;
    int rc = read_strings_obj(a, 1, name, f->path, &strs, &n, err);
    H5Aclose(a);
    if (rc) return rc;
    if (n != 1) {
        h5_strings_free(strs, n);
        return err_setf(err, ERR_SHAPE, "%s: attribute '%s': expected one string, found %zu", f->path, name, n);
    }
    *out = strs[0];
    free(strs);
    return 0;
}

int h5_read_attr_f64(const H5File *f, const char *obj, const char *name, double *out, Error *err)
{
    hid_t a = open_attr(f, obj, name, err);
    if (a < 0) return err ? err->code : ERR_MISSING;
    hid_t s = H5Aget_space(a);
    hssize_t n = H5Sget_simple_extent_npoints(s);
    H5Sclose(s);
    int rc = 0;
    if (n != 1) rc = err_setf(err, ERR_SHAPE, "%s: attribute '%s': expected a scalar", f->path, name);
    else if (H5Aread(a, H5T_NATIVE_DOUBLE, out) < 0) rc = err_setf(err, ERR_FORMAT, "%s: attribute '%s': not numeric", f->path, name);
    H5Aclose(a);
    return rc;
}
