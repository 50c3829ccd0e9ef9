/*
 * cmd_convert.c - `winclip convert IN.safetensors OUT.h5`: open_clip weights -> the project's
 * HDF5 model layout.
 *
 * Does: hash the input (sha256, printed and stored), choose the model config (--arch preset,
 * else the file's `__metadata__.config`, else inferred from tensor shapes), check every
 * state-dict key of that config is present with the right shape and a float dtype (and no
 * unknown extra tensor), convert F16/BF16/F64 to F32 one tensor at a time, reject NaN/Inf,
 * write one contiguous float32 dataset per key ('.' -> '/', logit_scale rank 0) and the root
 * `config` attribute, into OUT.h5.tmp renamed to OUT.h5 only when everything succeeded.
 * Does not: read pickle/.pt/.bin files, download anything (datasets/fetch_weights.sh).
 * Reference: shared/spec/clip.md §3 (state dict), §6.1 (safetensors), §6.2 (HDF5 layout).
 */
#define _POSIX_C_SOURCE 200809L
#include "cli/cli.h"

#include "util/base.h"
#include "clip/clip_config.h"
#include "util/h5.h"
#include "util/json.h"
#include "clip/safetensors.h"
#include "util/sha256.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern const Command cmd_convert;

/* Extra tensors some exporters add (OpenAI checkpoints) that carry no weights. */
static const char *const DROPPABLE[] = {"input_resolution", "context_length", "vocab_size"};

/* Names listed in one error message, at most this many per category. */
enum { MAX_LISTED = 6 };

/* ---- config ---- */

static int lookup_shape(void *ctx, const char *key, int *rank, int64_t dims[8])
{
    const SafeTensors *st = ctx;
    int i = safetensors_find(st, key);
    if (i < 0) return -1;
    *rank = st->tensors[i].rank;
    for (int d = 0; d < st->tensors[i].rank; d++) dims[d] = st->tensors[i].dims[d];
    return 0;
}

/* Fill cfg from --arch, the file's metadata or its shapes; *source describes which. */
static int choose_config(ClipConfig *cfg, const SafeTensors *st, const char *arch, char *source, size_t cap,
                         Error *err)
{
    if (arch) {
        snprintf(source, cap, "--arch %s", arch);
        return clip_config_preset(cfg, arch, err);
    }
    const char *meta = safetensors_meta(st, "config");
    if (meta) {
        snprintf(source, cap, "the file's __metadata__.config");
        if (clip_config_from_json(cfg, meta, err)) return err_prefixf(err, "%s: __metadata__.config: ", st->path);
        return 0;
    }
    char note[512] = "";
    if (clip_config_infer(cfg, lookup_shape, (void *)st, note, sizeof note, err))
        return err_prefixf(err, "%s: cannot infer the model config from tensor shapes (pass --arch): ", st->path);
    snprintf(source, cap, "%s", note[0] ? note : "inferred from tensor shapes");
    return 0;
}

/* ---- checking the tensor set against the config's table ---- */

static void list_append(char *buf, size_t cap, int *listed, int *total, const char *fmt, const char *name,
                        const char *detail)
{
    (*total)++;
    if (*listed >= MAX_LISTED) return;
    size_t used = strlen(buf);
    snprintf(buf + used, cap - used, fmt, *listed ? ", " : "", name, detail);
    (*listed)++;
}

static void shape_str(char *out, size_t cap, int rank, const int64_t *dims)
{
    size_t used = (size_t)snprintf(out, cap, "(");
    for (int d = 0; d < rank && used < cap; d++)
        used += (size_t)snprintf(out + used, cap - used, "%s%lld", d ? ", " : "", (long long)dims[d]);
    if (used < cap) snprintf(out + used, cap - used, ")");
}

/* Every spec key present, float, right shape; no extra tensors except DROPPABLE ones (noted
 * on stdout). The error lists the offending names. */
static int check_tensors(const SafeTensors *st, const ClipTensorSpec *specs, int nspecs, const char *source,
                         Error *err)
{
    char missing[1024] = "", shapes[2048] = "", dtypes[1024] = "", extra[1024] = "";
    int n_missing = 0, n_shapes = 0, n_dtypes = 0, n_extra = 0;
    int l_missing = 0, l_shapes = 0, l_dtypes = 0, l_extra = 0;
    char *used = xcalloc((size_t)st->count + 1, 1);
    for (int s = 0; s < nspecs; s++) {
        const ClipTensorSpec *spec = &specs[s];
        int i = safetensors_find(st, spec->key);
        if (i < 0) {
            list_append(missing, sizeof missing, &l_missing, &n_missing, "%s'%s'%s", spec->key, "");
            continue;
        }
        used[i] = 1;
        const SafeTensor *t = &st->tensors[i];
        int same = t->rank == spec->rank;
        for (int d = 0; same && d < t->rank; d++) same = t->dims[d] == spec->dims[d];
        if (!same) {
            char want[96], found[160], detail[300];
            shape_str(want, sizeof want, spec->rank, spec->dims);
            shape_str(found, sizeof found, t->rank, t->dims);
            snprintf(detail, sizeof detail, " expected %s, found %s", want, found);
            list_append(shapes, sizeof shapes, &l_shapes, &n_shapes, "%s'%s'%s", spec->key, detail);
        }
        if (!safetensors_dtype_is_float(t->dtype))
            list_append(dtypes, sizeof dtypes, &l_dtypes, &n_dtypes, "%s'%s' (%s)", spec->key,
                        safetensors_dtype_name(t->dtype));
    }
    for (int i = 0; i < st->count; i++) {
        if (used[i]) continue;
        int droppable = 0;
        for (size_t k = 0; k < ARRAY_LEN(DROPPABLE); k++) droppable |= strcmp(st->tensors[i].name, DROPPABLE[k]) == 0;
        if (droppable) printf("note: dropping extra tensor '%s' (not a weight)\n", st->tensors[i].name);
        else list_append(extra, sizeof extra, &l_extra, &n_extra, "%s'%s'%s", st->tensors[i].name, "");
    }
    free(used);
    if (!n_missing && !n_shapes && !n_dtypes && !n_extra) return 0;
    int code = n_dtypes && !n_missing && !n_shapes && !n_extra ? ERR_UNSUPPORTED : n_shapes ? ERR_SHAPE : ERR_FORMAT;
    const struct {
        int total, listed;
        const char *what, *names;
    } parts[] = {{n_missing, l_missing, "missing", missing},
                 {n_shapes, l_shapes, "with a wrong shape", shapes},
                 {n_dtypes, l_dtypes, "not float (F32/F16/BF16/F64)", dtypes},
                 {n_extra, l_extra, "unexpected", extra}};
    char body[6000] = "";
    for (size_t k = 0; k < ARRAY_LEN(parts); k++) {
        if (!parts[k].total) continue;
        size_t len = strlen(body);
        snprintf(body + len, sizeof body - len, "\n  %d tensor%s %s: %s%s", parts[k].total, parts[k].total > 1 ? "s" : "",
                 parts[k].what, parts[k].names, parts[k].total > parts[k].listed ? ", ..." : "");
    }
    err_setf(err, code,
             "%s does not match the model config (%s):%s\nHint: is this the right architecture? Pass --arch "
             "ViT-B-16-plus-240 | ViT-B-16 | ViT-B-16-quickgelu (see configs/model/).",
             st->path, source, body);
    return code;
}

/* ---- writing ---- */

/* `"pretrained": ..., "source_file": ..., "source_sha256": ...` members (xmalloc'ed). The file
 * name keeps ASCII only (the attribute is ASCII): other bytes become '?'. */
static char *extra_members(const char *pretrained, const char *in_path, const char *sha)
{
    const char *base = strrchr(in_path, '/');
    base = base ? base + 1 : in_path;
    char *ascii = xstrdup(base);
    for (char *c = ascii; *c; c++)
        if ((unsigned char)*c >= 0x80) *c = '?';
    char *text = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&text, &len);
    CHECK(fp != NULL);
    if (pretrained) {
        fputs("\"pretrained\": ", fp);
        json_write_string(fp, pretrained);
        fputs(", ", fp);
    }
    fputs("\"source_file\": ", fp);
    json_write_string(fp, ascii);
    fprintf(fp, ", \"source_sha256\": \"%s\"", sha);
    fclose(fp);
    free(ascii);
    return text;
}

/* Convert every spec tensor into the open HDF5 file, one tensor buffer reused. */
static int write_tensors(H5File *out, const SafeTensors *st, const ClipTensorSpec *specs, int nspecs, uint64_t *params,
                         Error *err)
{
    size_t max_numel = 1;
    for (int s = 0; s < nspecs; s++) {
        size_t n = clip_tensor_numel(&specs[s]);
        if (n > max_numel) max_numel = n;
    }
    float *buf = xmalloc(max_numel * sizeof *buf); /* largest tensor: token_embedding (49408 x 640) */
    int rc = 0;
    *params = 0;
    for (int s = 0; s < nspecs && rc == 0; s++) {
        const ClipTensorSpec *spec = &specs[s];
        int i = safetensors_find(st, spec->key);
        size_t n = clip_tensor_numel(spec);
        if ((rc = safetensors_read_f32(st, i, buf, n, err))) break;
        for (size_t k = 0; k < n; k++) {
            if (!isfinite(buf[k])) {
                rc = err_setf(err, ERR_VALUE, "%s: tensor '%s': element %zu is %s (the weights are corrupt)", st->path,
                              spec->key, k, isnan(buf[k]) ? "NaN" : "Inf");
                break;
            }
        }
        if (rc) break;
        char h5path[128];
        h5path[0] = '/';
        clip_tensor_h5_path(h5path + 1, sizeof h5path - 1, spec->key);
        rc = h5_write_f32(out, h5path, buf, spec->rank, spec->dims, err);
        *params += n;
    }
    free(buf);
    return rc;
}

static int convert(const char *in_path, const char *out_path, const char *arch, const char *pretrained, Error *err)
{
    SafeTensors st = {0};
    H5File out = {0};
    ClipTensorSpec *specs = NULL;
    char *extra = NULL, *json = NULL, *tmp = xasprintf("%s.tmp", out_path);
    int nspecs = 0, rc, tmp_made = 0;

    char sha[65];
    if ((rc = sha256_file(in_path, sha, err))) goto done;
    printf("sha256 %s  %s\n", sha, in_path);
    if ((rc = safetensors_open(&st, in_path, err))) goto done;

    ClipConfig cfg;
    char source[700];
    if ((rc = choose_config(&cfg, &st, arch, source, sizeof source, err))) goto done;
    printf("config: %s (%s)\n", cfg.model_name[0] ? cfg.model_name : "unnamed", source);
    clip_config_tensors(&cfg, &specs, &nspecs);
    if ((rc = check_tensors(&st, specs, nspecs, source, err))) goto done;

    if ((rc = h5_create(&out, tmp, err))) goto done;
    tmp_made = 1;
    uint64_t params;
    if ((rc = write_tensors(&out, &st, specs, nspecs, &params, err))) goto done;
    extra = extra_members(pretrained, in_path, sha);
    json = clip_config_to_json(&cfg, extra);
    if ((rc = h5_write_attr_string(&out, "/", "config", json, err))) goto done;
    if ((rc = h5_flush(&out, err))) goto done;
    h5_close(&out);
    if (rename(tmp, out_path) != 0) {
        rc = err_setf(err, ERR_IO, "cannot rename %s to %s", tmp, out_path);
        goto done;
    }
    tmp_made = 0;
    printf("wrote %s: %d tensors, %llu parameters, float32\n", out_path, nspecs, (unsigned long long)params);
done:
    h5_close(&out);
    if (tmp_made) unlink(tmp); /* never leave a partial output behind */
    safetensors_close(&st);
    free(specs);
    free(extra);
    free(json);
    free(tmp);
    return rc;
}

/* ---- command line ---- */

static int run(int argc, char **argv)
{
    const char *in = NULL, *out = NULL, *arch = NULL, *pretrained = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--arch") == 0 || strcmp(argv[i], "--pretrained") == 0) {
            if (i + 1 >= argc) return cli_usage_error(&cmd_convert, "%s needs a value", argv[i]);
            if (argv[i][2] == 'a') arch = argv[++i];
            else pretrained = argv[++i];
        } else if (argv[i][0] == '-' && argv[i][1] != 0) {
            return cli_usage_error(&cmd_convert, "unknown option '%s' (see winclip help convert)", argv[i]);
        } else if (!in) {
            in = argv[i];
        } else if (!out) {
            out = argv[i];
        } else {
            return cli_usage_error(&cmd_convert, "unexpected argument '%s'", argv[i]);
        }
    }
    if (!in || !out) return cli_usage_error(&cmd_convert, "need IN.safetensors and OUT.h5 (see winclip help convert)");
    if (strcmp(in, out) == 0) return cli_usage_error(&cmd_convert, "OUT must differ from IN");
    Error err = {0};
    if (arch) {
        ClipConfig probe;
        if (clip_config_preset(&probe, arch, &err)) return cli_usage_error(&cmd_convert, "%s", err.msg);
    }
    if (convert(in, out, arch, pretrained, &err)) {
        fprintf(stderr, "winclip convert: %s\n", err.msg);
        return err.code == ERR_USAGE ? 2 : 1;
    }
    return 0;
}

const Command cmd_convert = {
    "convert", "convert open_clip .safetensors weights to the project's HDF5 model file",
    "usage: winclip convert IN.safetensors OUT.h5 [--arch NAME] [--pretrained TAG]\n"
    "\n"
    "Reads an open_clip state dict stored as safetensors (F32, F16 or BF16 tensors), checks\n"
    "every tensor against the model config, and writes OUT.h5: one contiguous float32 dataset\n"
    "per key ('.' -> '/', e.g. /visual/transformer/resblocks/0/attn/in_proj_weight), logit_scale\n"
    "as a scalar, and a root attribute `config` (model config JSON with source_file and\n"
    "source_sha256). The input's sha256 is printed. The file is written as OUT.h5.tmp and\n"
    "renamed at the end, so OUT.h5 is never partial.\n"
    "\n"
    "Options:\n"
    "  --arch NAME       ViT-B-16-plus-240 | ViT-B-16 | ViT-B-16-quickgelu | tiny.\n"
    "                    Default: the file's __metadata__.config if it has one, else the\n"
    "                    dimensions inferred from the tensor shapes (head width 64, GELU:\n"
    "                    pass --arch ViT-B-16-quickgelu for OpenAI weights).\n"
    "  --pretrained TAG  recorded in the config (e.g. laion400m_e31, openai).\n"
    "\n"
    "Errors (exit 1): malformed safetensors, missing / mis-shaped / unexpected tensors (all\n"
    "named), non-float tensors, NaN or Inf values. Extra non-weight entries such as\n"
    "input_resolution are dropped with a note.\n"
    "\n"
    "Examples:\n"
    "  winclip convert open_clip_model.safetensors datasets/weights/vit_b_16_plus_240_laion400m_e31.h5 \\\n"
    "      --arch ViT-B-16-plus-240 --pretrained laion400m_e31\n"
    "  make weights          # downloads and converts (datasets/fetch_weights.sh)\n",
    run};
