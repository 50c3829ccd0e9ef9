/*
 * cmd_metrics.c - `winclip metrics FILE.h5`: image and pixel metrics of any method's scores and
 * anomaly maps stored in HDF5.
 *
 * Does: read /labels, /scores and optionally /maps + /masks, check shapes and dtypes, print one
 * `name<TAB>value` line per metric.
 * Does not: compute anything itself (metrics.c), resize maps or masks.
 * Reference: shared/spec/metrics.md.
 */
#include "cli/cli.h"
#include "util/h5.h"
#include "eval/metric_table.h"
#include "eval/metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char HELP[] =
    "usage: winclip metrics FILE.h5 [--pro-limit X] [--connectivity 8|4] [--all]\n"
    "\n"
    "Exact anomaly-detection metrics of one category (spec/metrics.md): every distinct score\n"
    "is a threshold, ties count together, no sampling; results equal sklearn (AUROC, AP,\n"
    "F1-max) and the official MVTec AD evaluation code (AUPRO) to round-off.\n"
    "\n"
    "FILE.h5 datasets:\n"
    "  /labels  (N)        integer, 1 = anomalous image, 0 = normal                (required)\n"
    "  /scores  (N)        float32 or float64 image scores, higher = more anomalous (required)\n"
    "  /maps    (N, H, W)  float32 anomaly maps (float64 is converted to float32)  (optional)\n"
    "  /masks   (N, H, W)  uint8 ground truth, nonzero = defect; all zero for normal images\n"
    "                      (required with /maps; store bool masks as uint8)\n"
    "  Maps and masks must already have the same resolution (e.g. 240 x 240, masks resized by\n"
    "  nearest neighbour). Every pixel of every image is used, normal images included.\n"
    "\n"
    "Output, one `name<TAB>value` line each (%.10g):\n"
    "  image_auroc image_ap image_f1max\n"
    "  pixel_auroc pixel_ap pixel_f1max pixel_aupro      (with /maps and /masks)\n"
    "  AP is step-wise (sklearn average_precision_score); pixel_aupro is the official MVTec\n"
    "  AUPRO: 8-connected defect regions per image, PRO integrated over FPR in [0, X] and\n"
    "  divided by X.\n"
    "\n"
    "Options:\n"
    "  --pro-limit X       FPR limit of the AUPRO, 0 < X <= 1 (default 0.3)\n"
    "  --connectivity C    defect regions 8- (default, official) or 4-connected\n"
    "  --all               also print informational values: image/pixel_aupr_trapz\n"
    "                      (trapezoidal AUPR), image/pixel_f1_threshold,\n"
    "                      pixel_aupro_cflow200 (APRIL-GAN/AnomalyCLIP 200-step PRO, nan when\n"
    "                      undefined), n_images, n_anomalous, n_pos_pixels, n_regions\n"
    "\n"
    "Errors (exit 1) name the dataset, the expected and the found shape or dtype; NaN or Inf\n"
    "scores, a set without anomalous or without normal images / pixels are errors.\n"
    "\n"
    "Example (Python side):\n"
    "  with h5py.File('bottle.h5', 'w') as f:\n"
    "      f['labels'] = labels.astype('int64'); f['scores'] = scores.astype('float32')\n"
    "      f['maps'] = maps.astype('float32'); f['masks'] = (gt > 0).astype('uint8')\n"
    "  winclip metrics bottle.h5\n";

/* Checks that dataset `path` exists, has element class cls (and, if size_ok is non-NULL,
 * an accepted element size) and rank `rank`; fills dims. */
static int check_dataset(const H5File *f, const char *path, int cls, const char *want_type, int rank,
                         int64_t dims[H5_MAX_RANK], size_t *elem_size, Error *err)
{
    if (!h5_exists(f, path))
        return err_setf(err, ERR_MISSING, "%s: dataset %s missing (expected %s)", f->path, path, want_type);
    int found_cls, found_rank;
    size_t size;
    if (h5_dtype(f, path, &found_cls, &size, err)) return err->code;
    if (found_cls != cls) {
        const char *names[] = {"non-numeric (enum/compound/bool)", "float", "integer", "string"};
        return err_setf(err, ERR_FORMAT, "%s: dataset %s: expected %s, found %zu-byte %s", f->path, path, want_type, size,
                        names[found_cls >= 0 && found_cls <= 3 ? found_cls : 0]);
    }
    if (h5_shape(f, path, &found_rank, dims, err)) return err->code;
    if (found_rank != rank)
        return err_setf(err, ERR_SHAPE, "%s: dataset %s: expected rank %d (%s), found rank %d", f->path, path, rank,
                        rank == 1 ? "N" : "N, H, W", found_rank);
    *elem_size = size;
    return 0;
}

typedef struct {
    size_t n;
    int h, w;
    uint8_t *labels; /* (n) */
    double *scores;  /* (n) */
    float *maps;     /* (n, h, w) or NULL */
    uint8_t *masks;  /* (n, h, w) or NULL */
    int maps_converted;
} MetricsInput;

static void input_free(MetricsInput *in)
{
    free(in->labels);
    free(in->scores);
    free(in->maps);
    free(in->masks);
    memset(in, 0, sizeof *in);
}

/* /labels (N, int 0|1) and /scores (N, float) into in->n, in->labels, in->scores. */
static int read_labels_scores(MetricsInput *in, H5File *f, const char *path, Error *err)
{
    int64_t d[H5_MAX_RANK];
    size_t size;
    int64_t *lab = NULL;
    if (check_dataset(f, "/labels", H5_CLASS_INT, "integer labels (N)", 1, d, &size, err)) goto fail;
    if (d[0] > H5_MAX_ELEMENTS) {
        err_setf(err, ERR_SHAPE, "%s: dataset /labels: declared %lld images: expected at most %lld", path,
                 (long long)d[0], (long long)H5_MAX_ELEMENTS);
        goto fail;
    }
    in->n = (size_t)d[0];
    if (in->n == 0) {
        err_setf(err, ERR_SHAPE, "%s: dataset /labels is empty", path);
        goto fail;
    }
    lab = xmalloc(in->n * sizeof *lab);
    if (h5_read_i64(f, "/labels", lab, in->n, err)) goto fail;
    in->labels = xmalloc(in->n);
    for (size_t i = 0; i < in->n; i++) {
        if (lab[i] != 0 && lab[i] != 1) {
            err_setf(err, ERR_VALUE, "%s: /labels[%zu] = %lld: expected 0 (normal) or 1 (anomalous)", path, i,
                     (long long)lab[i]);
            goto fail;
        }
        in->labels[i] = (uint8_t)lab[i];
    }
    if (check_dataset(f, "/scores", H5_CLASS_FLOAT, "float32 scores (N)", 1, d, &size, err)) goto fail;
    if ((size_t)d[0] != in->n) {
        err_setf(err, ERR_SHAPE, "%s: dataset /scores: expected shape (%zu) like /labels, found (%lld)", path, in->n,
                 (long long)d[0]);
        goto fail;
    }
    in->scores = xmalloc(in->n * sizeof *in->scores);
    if (h5_read_f64(f, "/scores", in->scores, in->n, err)) goto fail;

    free(lab);
    return 0;
fail:
    free(lab);
    return err->code ? err->code : ERR_INTERNAL;
}

/* /maps (N, H, W float) and /masks (N, H, W uint8), both or neither, checked before any allocation. */
static int read_maps_masks(MetricsInput *in, H5File *f, const char *path, Error *err)
{
    int64_t d[H5_MAX_RANK], dm[H5_MAX_RANK];
    size_t size;
    int has_maps = h5_exists(f, "/maps"), has_masks = h5_exists(f, "/masks");
    if (has_maps != has_masks) {
        err_setf(err, ERR_MISSING, "%s: %s without %s: pixel metrics need both (or neither)", path,
                 has_maps ? "/maps" : "/masks", has_maps ? "/masks" : "/maps");
        return err->code;
    }
    if (has_maps) {
        if (check_dataset(f, "/maps", H5_CLASS_FLOAT, "float32 anomaly maps (N, H, W)", 3, d, &size, err)) return err->code;
        in->maps_converted = size != 4;
        if (check_dataset(f, "/masks", H5_CLASS_INT, "uint8 masks (N, H, W)", 3, dm, &size, err)) return err->code;
        if (size != 1) {
            err_setf(err, ERR_FORMAT, "%s: dataset /masks: expected uint8 (1 byte), found %zu-byte integers: "
                                      "store masks as uint8, e.g. (gt > 0).astype('uint8')", path, size);
            return err->code;
        }
        if ((size_t)d[0] != in->n || d[1] <= 0 || d[2] <= 0 || d[1] > INT32_MAX || d[2] > INT32_MAX) {
            err_setf(err, ERR_SHAPE, "%s: dataset /maps: expected (%zu, H, W) with N from /labels, found (%lld, %lld, %lld)",
                     path, in->n, (long long)d[0], (long long)d[1], (long long)d[2]);
            return err->code;
        }
        if (dm[0] != d[0] || dm[1] != d[1] || dm[2] != d[2]) {
            err_setf(err, ERR_SHAPE, "%s: dataset /masks: expected (%lld, %lld, %lld) like /maps, found (%lld, %lld, %lld)",
                     path, (long long)d[0], (long long)d[1], (long long)d[2], (long long)dm[0], (long long)dm[1],
                     (long long)dm[2]);
            return err->code;
        }
        int64_t numel;
        if (h5_elements(3, d, &numel)) {
            err_setf(err, ERR_SHAPE, "%s: dataset /maps: declared shape (%lld, %lld, %lld): expected at most %lld elements",
                     path, (long long)d[0], (long long)d[1], (long long)d[2], (long long)H5_MAX_ELEMENTS);
            return err->code;
        }
        in->h = (int)d[1];
        in->w = (int)d[2];
        size_t count = (size_t)numel;
        in->maps = xmalloc(count * sizeof *in->maps);
        in->masks = xmalloc(count);
        if (h5_read_f32(f, "/maps", in->maps, count, err)) return err->code;
        if (h5_read_u8(f, "/masks", in->masks, count, err)) return err->code;
    }
    return 0;
}

static int input_read(MetricsInput *in, const char *path, Error *err)
{
    H5File f = {0};
    if (h5_open_read(&f, path, err)) return err->code;
    int rc = read_labels_scores(in, &f, path, err);
    if (rc == 0) rc = read_maps_masks(in, &f, path, err);
    h5_close(&f);
    return rc;
}

/* Labels that disagree with their masks are scored as given, but said (issue 9 fault 4): a normal
 * image (label 0) with defect pixels, an anomalous one (label 1) with an empty mask. */
static void warn_label_mask(const MetricsInput *in, const char *path)
{
    size_t hw = (size_t)in->h * (size_t)in->w, bad[2] = {0, 0}, first[2] = {0, 0};
    for (size_t i = 0; i < in->n; i++) {
        const uint8_t *m = in->masks + i * hw;
        size_t j = 0;
        while (j < hw && !m[j]) j++;
        int has_defect = j < hw, lab = in->labels[i];
        if (has_defect != lab) {
            if (!bad[lab]) first[lab] = i;
            bad[lab]++;
        }
    }
    if (bad[0])
        fprintf(stderr, "winclip metrics: warning: %s: %zu image(s) with label 0 (normal) have defect pixels in "
                        "/masks (first: index %zu)\n", path, bad[0], first[0]);
    if (bad[1])
        fprintf(stderr, "winclip metrics: warning: %s: %zu image(s) with label 1 (anomalous) have an empty mask in "
                        "/masks (first: index %zu)\n", path, bad[1], first[1]);
}

extern const Command cmd_metrics;

/* Every metric of the table that `winclip metrics` prints, in its order: KEY<TAB>value. */
static void print_metrics(const MetricValues *v, int have_maps, int all)
{
    for (int i = 0; i < METRIC_N_CLI; i++) {
        const MetricInfo *m = &METRIC_TABLE[METRIC_CLI_ORDER[i]];
        if (((m->flags & METRIC_PIXEL) && !have_maps) || ((m->flags & METRIC_CLI_ALL) && !all)) continue;
        double x = metric_value(METRIC_CLI_ORDER[i], v);
        if (m->kind == METRIC_INTEGER) printf("%s\t%lld\n", m->cli_name, (long long)x);
        else printf("%s\t%.10g\n", m->cli_name, x);
    }
}

static int run(int argc, char **argv)
{
    const char *file = NULL;
    double limit = 0.3;
    int connectivity = 8, all = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--pro-limit") == 0 || strcmp(a, "--connectivity") == 0) {
            if (i + 1 >= argc) return cli_usage_error(&cmd_metrics, "%s needs a value", a);
            char *end;
            double v = strtod(argv[++i], &end);
            if (*end || end == argv[i]) return cli_usage_error(&cmd_metrics, "%s: not a number: '%s'", a, argv[i]);
            if (a[2] == 'p') {
                if (!(v > 0 && v <= 1)) return cli_usage_error(&cmd_metrics, "--pro-limit must be in (0, 1], got %s", argv[i]);
                limit = v;
            } else {
                if (v != 4 && v != 8) return cli_usage_error(&cmd_metrics, "--connectivity must be 4 or 8, got %s", argv[i]);
                connectivity = (int)v;
            }
        } else if (strcmp(a, "--all") == 0) {
            all = 1;
        } else if (a[0] == '-' && a[1]) {
            return cli_usage_error(&cmd_metrics, "unknown option '%s'", a);
        } else if (file) {
            return cli_usage_error(&cmd_metrics, "one FILE.h5 expected, got '%s' and '%s'", file, a);
        } else {
            file = a;
        }
    }
    if (!file) return cli_usage_error(&cmd_metrics, "missing FILE.h5");

    MetricsInput in = {0};
    Error err = {0};
    ImageMetrics im;
    PixelMetrics pm;
    if (input_read(&in, file, &err)) goto fail;
    if (metrics_image_f64(in.scores, in.labels, in.n, &im, &err)) {
        err_prefixf(&err, "%s: /scores, /labels: ", file);
        goto fail;
    }
    if (in.maps) {
        warn_label_mask(&in, file);
        if (in.maps_converted) fprintf(stderr, "winclip metrics: note: /maps converted to float32\n");
        PixelOptions opt = {limit, connectivity};
        if (metrics_pixel_opts(in.maps, in.masks, in.n, in.h, in.w, &opt, &pm, &err)) {
            err_prefixf(&err, "%s: /maps, /masks: ", file);
            goto fail;
        }
    }
    MetricValues v = {0};
    v.image = im;
    if (in.maps) metric_values_set_pixel(&v, &pm);
    v.n_images = (double)in.n;
    for (size_t i = 0; i < in.n; i++) v.n_anomalous += in.labels[i];
    v.pro_limit = limit;
    v.connectivity = connectivity;
    print_metrics(&v, in.maps != NULL, all);
    input_free(&in);
    return 0;
fail:
    fprintf(stderr, "winclip metrics: %s\n", err.msg);
    input_free(&in);
    return 1;
}

const Command cmd_metrics = {"metrics", "image/pixel AUROC, AP, F1-max and AUPRO of scores and maps in an HDF5 file",
                             HELP, run};
