/*
 * clip_weights.c - CLIP weights: tensor table -> one allocation -> checked HDF5 load -> free;
 * and a random-weight model writer.
 *
 * Does: bind every ClipModel pointer into one float buffer sized from clip_config_tensors(),
 * read each HDF5 dataset straight into its slot after checking presence, dtype class and shape,
 * reject non-finite values; write random models with the same table.
 * Does not: run the model, read safetensors, compute checksums (callers use sha256.h).
 * Reference: shared/spec/clip.md §3, §6.2; conventions §2.6.
 */
#include "clip/clip_model.h"

#include "util/h5.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- key -> field binding ---- */

typedef struct {
    const char *key; /* state-dict key, or the suffix after "<prefix>.resblocks.N." for blocks */
    size_t offset;   /* offsetof the float * field */
} Field;

static const Field BLOCK_FIELDS[] = {
    {"ln_1.weight", offsetof(ClipBlock, ln_1_w)},
    {"ln_1.bias", offsetof(ClipBlock, ln_1_b)},
    {"attn.in_proj_weight", offsetof(ClipBlock, in_proj_w)},
    {"attn.in_proj_bias", offsetof(ClipBlock, in_proj_b)},
    {"attn.out_proj.weight", offsetof(ClipBlock, out_proj_w)},
    {"attn.out_proj.bias", offsetof(ClipBlock, out_proj_b)},
    {"ln_2.weight", offsetof(ClipBlock, ln_2_w)},
    {"ln_2.bias", offsetof(ClipBlock, ln_2_b)},
    {"mlp.c_fc.weight", offsetof(ClipBlock, c_fc_w)},
    {"mlp.c_fc.bias", offsetof(ClipBlock, c_fc_b)},
    {"mlp.c_proj.weight", offsetof(ClipBlock, c_proj_w)},
    {"mlp.c_proj.bias", offsetof(ClipBlock, c_proj_b)},
};

static const Field MODEL_FIELDS[] = {
    {"positional_embedding", offsetof(ClipModel, text.positional_embedding)},
    {"text_projection", offsetof(ClipModel, text.text_projection)},
    {"logit_scale", offsetof(ClipModel, logit_scale)},
    {"visual.class_embedding", offsetof(ClipModel, visual.class_embedding)},
    {"visual.positional_embedding", offsetof(ClipModel, visual.positional_embedding)},
    {"visual.proj", offsetof(ClipModel, visual.proj)},
    {"visual.conv1.weight", offsetof(ClipModel, visual.conv1_w)},
    {"visual.ln_pre.weight", offsetof(ClipModel, visual.ln_pre_w)},
    {"visual.ln_pre.bias", offsetof(ClipModel, visual.ln_pre_b)},
    {"visual.ln_post.weight", offsetof(ClipModel, visual.ln_post_w)},
    {"visual.ln_post.bias", offsetof(ClipModel, visual.ln_post_b)},
    {"token_embedding.weight", offsetof(ClipModel, text.token_embedding)},
    {"ln_final.weight", offsetof(ClipModel, text.ln_final_w)},
    {"ln_final.bias", offsetof(ClipModel, text.ln_final_b)},
};

static float **find_field(void *base, const Field *fields, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(fields[i].key, key) == 0) return (float **)(void *)((char *)base + fields[i].offset);
    return NULL;
}

/* The pointer field a state-dict key binds to (NULL: not a key of this model). */
static float **model_slot(ClipModel *m, const char *key)
{
    static const struct {
        const char *prefix;
        size_t blocks;
    } towers[] = {{"visual.transformer.resblocks.", offsetof(ClipModel, visual.blocks)},
                  {"transformer.resblocks.", offsetof(ClipModel, text.blocks)}};
    for (size_t t = 0; t < ARRAY_LEN(towers); t++) {
        size_t plen = strlen(towers[t].prefix);
        if (strncmp(key, towers[t].prefix, plen) != 0) continue;
        char *end;
        long layer = strtol(key + plen, &end, 10);
        if (end == key + plen || *end != '.') return NULL;
        ClipBlock *blocks = *(ClipBlock **)(void *)((char *)m + towers[t].blocks);
        return find_field(&blocks[layer], BLOCK_FIELDS, ARRAY_LEN(BLOCK_FIELDS), end + 1);
    }
    return find_field(m, MODEL_FIELDS, ARRAY_LEN(MODEL_FIELDS), key);
}

int clip_model_alloc(ClipModel *m, const ClipConfig *cfg)
{
    memset(m, 0, sizeof *m);
    m->cfg = *cfg;
    ClipTensorSpec *t;
    int n;
    clip_config_tensors(cfg, &t, &n);
    for (int i = 0; i < n; i++) m->n_params += clip_tensor_numel(&t[i]);
    m->params = xcalloc(m->n_params, sizeof *m->params);
    m->visual.blocks = xcalloc((size_t)cfg->vision.layers, sizeof *m->visual.blocks);
    m->text.blocks = xcalloc((size_t)cfg->text.layers, sizeof *m->text.blocks);
    size_t off = 0;
    for (int i = 0; i < n; i++) {
        float **slot = model_slot(m, t[i].key);
        CHECK(slot != NULL && *slot == NULL);
        *slot = m->params + off;
        off += clip_tensor_numel(&t[i]);
    }
    free(t);
    return 0;
}

void clip_model_free(ClipModel *m)
{
    if (!m) return;
    free(m->params);
    free(m->visual.blocks);
    free(m->text.blocks);
    free(m->path);
    memset(m, 0, sizeof *m);
}

/* ---- loading ---- */

static void shape_str(char *buf, size_t cap, int rank, const int64_t *dims)
{
    size_t used = (size_t)snprintf(buf, cap, "(");
    for (int i = 0; i < rank && used < cap; i++)
        used += (size_t)snprintf(buf + used, cap - used, "%s%lld", i ? ", " : "", (long long)dims[i]);
    if (used < cap) snprintf(buf + used, cap - used, "%s)", rank == 0 ? "scalar" : "");
}

static int h5_lookup(void *ctx, const char *key, int *rank, int64_t dims[8])
{
    char path[128];
    clip_tensor_h5_path(path, sizeof path, key);
    const H5File *f = ctx;
    if (!h5_exists(f, path)) return -1;
    return h5_shape(f, path, rank, dims, NULL) == 0 ? 0 : -1;
}

static int load_tensor(ClipModel *m, const H5File *f, const ClipTensorSpec *s, Error *err)
{
    char path[128], want[96], found[96];
    clip_tensor_h5_path(path, sizeof path, s->key);
    shape_str(want, sizeof want, s->rank, s->dims);
    if (!h5_exists(f, path))
        return err_setf(err, ERR_MISSING, "%s: dataset '/%s' is missing (expected float32 %s for %s)", f->path, path,
                        want, m->cfg.model_name);
    int cls, rank, rc;
    size_t esize;
    int64_t dims[H5_MAX_RANK];
    if ((rc = h5_dtype(f, path, &cls, &esize, err))) return rc;
    if (cls != H5_CLASS_FLOAT)
        return err_setf(err, ERR_FORMAT, "%s: dataset '/%s': expected floating-point data (float32; float16/64 are converted), found %s",
                        f->path, path, cls == H5_CLASS_INT ? "integers" : cls == H5_CLASS_STRING ? "strings" : "a non-numeric type");
    if ((rc = h5_shape(f, path, &rank, dims, err))) return rc;
    int same = rank == s->rank;
    for (int i = 0; same && i < rank; i++) same = dims[i] == s->dims[i];
    if (!same) {
        shape_str(found, sizeof found, rank, dims);
        return err_setf(err, ERR_SHAPE,
                        "%s: dataset '/%s': expected shape %s, found %s (the config says %s: is the file for another architecture?)",
                        f->path, path, want, found, m->cfg.model_name[0] ? m->cfg.model_name : "a different model");
    }
    float *dst = *model_slot(m, s->key);
    size_t n = clip_tensor_numel(s);
    if ((rc = h5_read_f32(f, path, dst, n, err))) return rc;
    for (size_t i = 0; i < n; i++)
        if (!isfinite(dst[i]))
            return err_setf(err, ERR_VALUE, "%s: dataset '/%s': element %zu is %s (expected finite weights)", f->path,
                            path, i, isnan(dst[i]) ? "NaN" : "Inf");
    return 0;
}

int clip_model_load(ClipModel *m, const char *path, Error *err)
{
    memset(m, 0, sizeof *m);
    H5File f = {0};
    char *json = NULL;
    ClipTensorSpec *table = NULL;
    ClipConfig cfg;
    char note[sizeof m->config_note] = "";
    int rc = h5_open_read(&f, path, err);
    if (rc) return rc;
    rc = h5_read_attr_string(&f, "/", "config", &json, err);
    if (rc == ERR_MISSING) {
        rc = clip_config_infer(&cfg, h5_lookup, &f, note, sizeof note, err);
        if (rc) {
            err_prefixf(err, "%s: ", path);
            goto fail;
        }
    } else if (rc) {
        goto fail;
    } else if ((rc = clip_config_from_json(&cfg, json, err))) {
        err_prefixf(err, "%s: root attribute 'config': ", path);
        goto fail;
    }
    clip_model_alloc(m, &cfg);
    snprintf(m->config_note, sizeof m->config_note, "%s", note);
    int n;
    clip_config_tensors(&cfg, &table, &n);
    for (int i = 0; i < n; i++)
        if ((rc = load_tensor(m, &f, &table[i], err))) goto fail;
    m->path = xstrdup(path);
fail:
    free(table);
    free(json);
    h5_close(&f);
    if (rc) clip_model_free(m);
    return rc;
}

/* ---- random model ---- */

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* Uniform on [-std*sqrt(3), std*sqrt(3)) (standard deviation std), centred at mean. */
static void fill_uniform(float *x, size_t n, double mean, double std, uint64_t *state)
{
    const double half = std * sqrt(3.0);
    for (size_t i = 0; i < n; i++) {
        double u = (double)(splitmix64(state) >> 11) * (1.0 / 9007199254740992.0);
        x[i] = (float)(mean + (2.0 * u - 1.0) * half);
    }
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

int clip_model_write_random(const char *path, const ClipConfig *cfg, uint64_t seed, Error *err)
{
    int rc = clip_config_validate(cfg, err);
    if (rc) return rc;
    H5File f = {0};
    if ((rc = h5_create(&f, path, err))) return rc;
    char extra[64];
    snprintf(extra, sizeof extra, "\"random_seed\": %llu", (unsigned long long)seed);
    char *json = clip_config_to_json(cfg, extra);
    ClipTensorSpec *t;
    int n;
    clip_config_tensors(cfg, &t, &n);
    size_t maxn = 0;
    for (int i = 0; i < n; i++)
        if (clip_tensor_numel(&t[i]) > maxn) maxn = clip_tensor_numel(&t[i]);
    float *buf = xmalloc(maxn * sizeof *buf);
    uint64_t state = seed;
    if ((rc = h5_write_attr_string(&f, "/", "config", json, err))) goto done;
    for (int i = 0; i < n && rc == 0; i++) {
        const char *k = t[i].key;
        size_t count = clip_tensor_numel(&t[i]);
        if (strcmp(k, "logit_scale") == 0) buf[0] = (float)log(1.0 / 0.07);
        else if (strstr(k, "ln_") && ends_with(k, ".weight")) fill_uniform(buf, count, 1.0, 0.06, &state);
        else if (ends_with(k, "bias")) fill_uniform(buf, count, 0.0, 0.02, &state);
        else if (strcmp(k, "visual.proj") == 0 || strcmp(k, "text_projection") == 0)
            fill_uniform(buf, count, 0.0, 1.0 / sqrt((double)t[i].dims[0]), &state);
        else fill_uniform(buf, count, 0.0, 0.02, &state);
        char h5path[128];
        clip_tensor_h5_path(h5path, sizeof h5path, k);
        rc = h5_write_f32(&f, h5path, buf, t[i].rank, t[i].dims, err);
    }
done:
    free(buf);
    free(t);
    free(json);
    h5_close(&f);
    return rc;
}
