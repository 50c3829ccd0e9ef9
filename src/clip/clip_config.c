/*
 * clip_config.c - CLIP model dimensions: presets, config JSON, shape inference, tensor table.
 *
 * Does: everything declared in clip_config.h; pure functions, no I/O.
 * Does not: read or write files.
 * Reference: shared/spec/clip.md §1 (presets, open_clip defaults), §3 (state-dict keys and
 * shapes, state_dict() order), §6.2 (config JSON form).
 */
#include "clip/clip_config.h"

#include "clip/tokenizer.h"
#include "util/json.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- presets ---- */

typedef struct {
    const char *name;
    ClipConfig cfg;
} Preset;

static const Preset PRESETS[] = {
    {"ViT-B-16-plus-240", {640, 0, {240, 16, 896, 12, 64}, {77, 49408, 640, 10, 12}, "ViT-B-16-plus-240"}},
    {"ViT-B-16", {512, 0, {224, 16, 768, 12, 64}, {77, 49408, 512, 8, 12}, "ViT-B-16"}},
    {"ViT-B-16-quickgelu", {512, 1, {224, 16, 768, 12, 64}, {77, 49408, 512, 8, 12}, "ViT-B-16-quickgelu"}},
    {"tiny", {32, 0, {240, 16, 64, 2, 32}, {77, 49408, 48, 3, 2}, "tiny-ViT-B-16-plus-240-like"}},
};

int clip_config_equal(const ClipConfig *a, const ClipConfig *b)
{
    return a->embed_dim == b->embed_dim && a->quick_gelu == b->quick_gelu &&
           a->vision.image_size == b->vision.image_size &&
           a->vision.patch_size == b->vision.patch_size && a->vision.width == b->vision.width &&
           a->vision.layers == b->vision.layers && a->vision.head_width == b->vision.head_width &&
           a->text.context_length == b->text.context_length &&
           a->text.vocab_size == b->text.vocab_size && a->text.width == b->text.width &&
           a->text.heads == b->text.heads && a->text.layers == b->text.layers &&
           strcmp(a->model_name, b->model_name) == 0;
}

int clip_config_preset(ClipConfig *cfg, const char *arch, Error *err)
{
    for (size_t i = 0; i < ARRAY_LEN(PRESETS); i++) {
        if (strcmp(PRESETS[i].name, arch) == 0) {
            *cfg = PRESETS[i].cfg;
            return 0;
        }
    }
    return err_setf(err, ERR_USAGE,
                    "unknown architecture '%s': expected ViT-B-16-plus-240, ViT-B-16, ViT-B-16-quickgelu or tiny",
                    arch);
}

/* ---- validation ---- */

static int check_range(const char *name, int v, int lo, int hi, Error *err)
{
    if (v < lo || v > hi) return err_setf(err, ERR_VALUE, "model config: %s: expected %d..%d, found %d", name, lo, hi, v);
    return 0;
}

int clip_config_validate(const ClipConfig *c, Error *err)
{
    int rc;
    if ((rc = check_range("embed_dim", c->embed_dim, 1, 16384, err))) return rc;
    if ((rc = check_range("quick_gelu", c->quick_gelu, 0, 1, err))) return rc;
    if ((rc = check_range("vision_cfg.image_size", c->vision.image_size, 1, 8192, err))) return rc;
    if ((rc = check_range("vision_cfg.patch_size", c->vision.patch_size, 1, 1024, err))) return rc;
    if ((rc = check_range("vision_cfg.width", c->vision.width, 1, 16384, err))) return rc;
    if ((rc = check_range("vision_cfg.layers", c->vision.layers, 1, 256, err))) return rc;
    if ((rc = check_range("vision_cfg.head_width", c->vision.head_width, 1, 16384, err))) return rc;
    if (c->text.context_length != TOKENIZER_CONTEXT) /* the tokenizer frames every prompt as 77 ids */
        return err_setf(err, ERR_UNSUPPORTED,
                        "model config: text_cfg.context_length: expected %d (the CLIP tokenizer's context), found %d",
                        TOKENIZER_CONTEXT, c->text.context_length);
    if ((rc = check_range("text_cfg.vocab_size", c->text.vocab_size, 2, 1 << 24, err))) return rc;
    if ((rc = check_range("text_cfg.width", c->text.width, 1, 16384, err))) return rc;
    if ((rc = check_range("text_cfg.heads", c->text.heads, 1, 16384, err))) return rc;
    if ((rc = check_range("text_cfg.layers", c->text.layers, 1, 256, err))) return rc;
    if (c->vision.width % c->vision.head_width)
        return err_setf(err, ERR_VALUE, "model config: vision_cfg.width %d is not a multiple of head_width %d",
                        c->vision.width, c->vision.head_width);
    if (c->text.width % c->text.heads)
        return err_setf(err, ERR_VALUE, "model config: text_cfg.width %d is not a multiple of heads %d", c->text.width,
                        c->text.heads);
    if (c->vision.image_size % c->vision.patch_size)
        return err_setf(err, ERR_VALUE, "model config: vision_cfg.image_size %d is not a multiple of patch_size %d",
                        c->vision.image_size, c->vision.patch_size);
    int g = c->vision.image_size / c->vision.patch_size;
    if (g > 1024) return err_setf(err, ERR_VALUE, "model config: grid %d x %d is too large", g, g);
    return 0;
}

/* ---- JSON ---- */

static int get_int(const JsonValue *root, const char *path, int *out, int have_default, int def, Error *err)
{
    const JsonValue *v = json_path(root, path);
    if (!v) {
        if (have_default) {
            *out = def;
            return 0;
        }
        return err_setf(err, ERR_MISSING, "model config: required key '%s' is missing", path);
    }
    int64_t x;
    if (!json_as_int(v, &x) || x < -2147483647LL || x > 2147483647LL)
        return err_setf(err, ERR_FORMAT, "model config: '%s': expected an integer, found %s", path,
                        v->type == JSON_NUMBER ? "a non-integral number" : "a non-number");
    *out = (int)x;
    return 0;
}

int clip_config_from_json(ClipConfig *cfg, const char *json, Error *err)
{
    memset(cfg, 0, sizeof *cfg);
    JsonValue root = {0};
    int rc = json_parse(&root, json, strlen(json), err);
    if (rc) return err_prefixf(err, "model config: ");
    if (root.type != JSON_OBJECT) {
        rc = err_setf(err, ERR_FORMAT, "model config: expected a JSON object");
        goto done;
    }
    const JsonValue *qg = json_get(&root, "quick_gelu");
    int64_t qgi;
    if (!qg) {
        rc = err_setf(err, ERR_MISSING, "model config: required key 'quick_gelu' is missing");
        goto done;
    }
    if (qg->type == JSON_BOOL) cfg->quick_gelu = qg->boolean;
    else if (json_as_int(qg, &qgi) && (qgi == 0 || qgi == 1)) cfg->quick_gelu = (int)qgi;
    else {
        rc = err_setf(err, ERR_FORMAT, "model config: 'quick_gelu': expected true/false, found another value");
        goto done;
    }
    if ((rc = get_int(&root, "embed_dim", &cfg->embed_dim, 0, 0, err))) goto done;
    if ((rc = get_int(&root, "vision_cfg.image_size", &cfg->vision.image_size, 0, 0, err))) goto done;
    if ((rc = get_int(&root, "vision_cfg.patch_size", &cfg->vision.patch_size, 0, 0, err))) goto done;
    if ((rc = get_int(&root, "vision_cfg.width", &cfg->vision.width, 0, 0, err))) goto done;
    if ((rc = get_int(&root, "vision_cfg.layers", &cfg->vision.layers, 0, 0, err))) goto done;
    if ((rc = get_int(&root, "vision_cfg.head_width", &cfg->vision.head_width, 1, 64, err))) goto done;
    if ((rc = get_int(&root, "text_cfg.context_length", &cfg->text.context_length, 0, 0, err))) goto done;
    if ((rc = get_int(&root, "text_cfg.vocab_size", &cfg->text.vocab_size, 0, 0, err))) goto done;
    if ((rc = get_int(&root, "text_cfg.width", &cfg->text.width, 0, 0, err))) goto done;
    if ((rc = get_int(&root, "text_cfg.heads", &cfg->text.heads, 0, 0, err))) goto done;
    if ((rc = get_int(&root, "text_cfg.layers", &cfg->text.layers, 0, 0, err))) goto done;
    const JsonValue *name = json_get(&root, "model_name");
    if (name && name->type == JSON_STRING) snprintf(cfg->model_name, sizeof cfg->model_name, "%s", name->string);
    rc = clip_config_validate(cfg, err);
done:
    json_free(&root);
    return rc;
}

/* Append s as a JSON string literal (quotes and escapes) to buf. */
static size_t put_json_string(char *buf, size_t cap, size_t used, const char *s)
{
    used += (size_t)snprintf(buf + used, used < cap ? cap - used : 0, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') used += (size_t)snprintf(buf + used, used < cap ? cap - used : 0, "\\%c", *p);
        else if (*p < 0x20) used += (size_t)snprintf(buf + used, used < cap ? cap - used : 0, "\\u%04x", *p);
        else used += (size_t)snprintf(buf + used, used < cap ? cap - used : 0, "%c", *p);
    }
    used += (size_t)snprintf(buf + used, used < cap ? cap - used : 0, "\"");
    return used;
}

char *clip_config_to_json(const ClipConfig *c, const char *extra_members)
{
    size_t cap = 1024 + (extra_members ? strlen(extra_members) : 0) + 6 * sizeof c->model_name;
    char *buf = xmalloc(cap);
    size_t used = (size_t)snprintf(buf, cap, "{\"embed_dim\": %d, \"model_name\": ", c->embed_dim);
    used = put_json_string(buf, cap, used, c->model_name);
    used += (size_t)snprintf(buf + used, cap - used,
                             ", \"quick_gelu\": %s, \"text_cfg\": {\"context_length\": %d, \"heads\": %d, \"layers\": %d, "
                             "\"vocab_size\": %d, \"width\": %d}, \"vision_cfg\": {\"head_width\": %d, \"image_size\": %d, "
                             "\"layers\": %d, \"patch_size\": %d, \"width\": %d}",
                             c->quick_gelu ? "true" : "false", c->text.context_length, c->text.heads, c->text.layers,
                             c->text.vocab_size, c->text.width, c->vision.head_width, c->vision.image_size,
                             c->vision.layers, c->vision.patch_size, c->vision.width);
    if (extra_members && extra_members[0]) used += (size_t)snprintf(buf + used, cap - used, ", %s", extra_members);
    used += (size_t)snprintf(buf + used, cap - used, "}");
    CHECK(used < cap);
    return buf;
}

/* ---- inference from shapes ---- */

static int need_shape(ClipShapeLookup lookup, void *ctx, const char *key, int rank, int64_t dims[8], Error *err)
{
    int r = -1;
    if (lookup(ctx, key, &r, dims) != 0)
        return err_setf(err, ERR_MISSING, "cannot infer the model config: tensor '%s' is missing", key);
    if (r != rank)
        return err_setf(err, ERR_SHAPE, "cannot infer the model config: '%s': expected rank %d, found rank %d", key,
                        rank, r);
    for (int i = 0; i < rank; i++)
        if (dims[i] <= 0 || dims[i] > (1 << 24))
            return err_setf(err, ERR_SHAPE, "cannot infer the model config: '%s': dimension %d is %lld", key, i,
                            (long long)dims[i]);
    return 0;
}

static int count_layers(ClipShapeLookup lookup, void *ctx, const char *prefix)
{
    int n = 0;
    for (;;) {
        char key[128];
        int r;
        int64_t d[8];
        snprintf(key, sizeof key, "%s.%d.attn.in_proj_weight", prefix, n);
        if (lookup(ctx, key, &r, d) != 0) return n;
        n++;
    }
}

int clip_config_infer(ClipConfig *cfg, ClipShapeLookup lookup, void *ctx, char *note, size_t note_cap, Error *err)
{
    memset(cfg, 0, sizeof *cfg);
    int64_t conv[8], vpos[8], proj[8], tok[8], tpos[8], tproj[8];
    int rc;
    if ((rc = need_shape(lookup, ctx, "visual.conv1.weight", 4, conv, err))) return rc;
    if ((rc = need_shape(lookup, ctx, "visual.positional_embedding", 2, vpos, err))) return rc;
    if ((rc = need_shape(lookup, ctx, "visual.proj", 2, proj, err))) return rc;
    if ((rc = need_shape(lookup, ctx, "token_embedding.weight", 2, tok, err))) return rc;
    if ((rc = need_shape(lookup, ctx, "positional_embedding", 2, tpos, err))) return rc;
    if ((rc = need_shape(lookup, ctx, "text_projection", 2, tproj, err))) return rc;
    if (conv[1] != 3 || conv[2] != conv[3])
        return err_setf(err, ERR_SHAPE,
                        "cannot infer the model config: 'visual.conv1.weight': expected (width, 3, P, P), found (%lld, %lld, %lld, %lld)",
                        (long long)conv[0], (long long)conv[1], (long long)conv[2], (long long)conv[3]);
    int64_t g = 0;
    while ((g + 1) * (g + 1) <= vpos[0] - 1) g++;
    if (g * g != vpos[0] - 1 || g == 0)
        return err_setf(err, ERR_SHAPE,
                        "cannot infer the model config: 'visual.positional_embedding' has %lld rows: expected 1 + G*G",
                        (long long)vpos[0]);
    cfg->vision.width = (int)conv[0];
    cfg->vision.patch_size = (int)conv[2];
    cfg->vision.image_size = (int)(g * conv[2]);
    cfg->vision.head_width = 64;
    cfg->vision.layers = count_layers(lookup, ctx, "visual.transformer.resblocks");
    cfg->embed_dim = (int)proj[1];
    cfg->text.vocab_size = (int)tok[0];
    cfg->text.width = (int)tok[1];
    cfg->text.context_length = (int)tpos[0];
    cfg->text.heads = cfg->text.width / 64 > 0 ? cfg->text.width / 64 : 1;
    cfg->text.layers = count_layers(lookup, ctx, "transformer.resblocks");
    cfg->quick_gelu = 0;
    if (tproj[1] != proj[1])
        return err_setf(err, ERR_SHAPE,
                        "cannot infer the model config: embed dims differ: 'visual.proj' gives %lld, 'text_projection' %lld",
                        (long long)proj[1], (long long)tproj[1]);
    snprintf(cfg->model_name, sizeof cfg->model_name, "a custom architecture");
    for (size_t i = 0; i < ARRAY_LEN(PRESETS); i++) {
        ClipConfig p = PRESETS[i].cfg;
        p.quick_gelu = 0;
        memcpy(p.model_name, cfg->model_name, sizeof p.model_name);
        if (clip_config_equal(&p, cfg)) {
            memset(cfg->model_name, 0, sizeof cfg->model_name);
            snprintf(cfg->model_name, sizeof cfg->model_name, "%s", PRESETS[i].name);
            break;
        }
    }
    if (note)
        snprintf(note, note_cap,
                 "no model config in the file: inferred %s from tensor shapes, assuming head_width 64 "
                 "(vision %d heads, text %d heads) and exact GELU (quick_gelu false; QuickGELU checkpoints such as "
                 "OpenAI's need a config)",
                 cfg->model_name, cfg->vision.width / 64, cfg->text.heads);
    return clip_config_validate(cfg, err);
}

/* ---- derived ---- */

int clip_config_grid(const ClipConfig *cfg) { return cfg->vision.image_size / cfg->vision.patch_size; }

int clip_config_vision_heads(const ClipConfig *cfg) { return cfg->vision.width / cfg->vision.head_width; }

size_t clip_tensor_numel(const ClipTensorSpec *spec)
{
    size_t n = 1;
    for (int i = 0; i < spec->rank; i++) n *= (size_t)spec->dims[i];
    return n;
}

void clip_tensor_h5_path(char *out, size_t cap, const char *key)
{
    snprintf(out, cap, "%s", key);
    for (char *p = out; *p; p++)
        if (*p == '.') *p = '/';
}

/* ---- tensor table ---- */

typedef struct {
    ClipTensorSpec *items;
    int count, cap;
} SpecList;

static void add(SpecList *l, int rank, int64_t d0, int64_t d1, int64_t d2, int64_t d3, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));

static void add(SpecList *l, int rank, int64_t d0, int64_t d1, int64_t d2, int64_t d3, const char *fmt, ...)
{
    CHECK(l->count < l->cap);
    ClipTensorSpec *s = &l->items[l->count++];
    memset(s, 0, sizeof *s);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(s->key, sizeof s->key, fmt, ap);
    va_end(ap);
    CHECK(n > 0 && (size_t)n < sizeof s->key);
    s->rank = rank;
    const int64_t d[4] = {d0, d1, d2, d3};
    for (int i = 0; i < rank; i++) s->dims[i] = d[i];
}

/* The 12 tensors of one residual block of width C (clip.md §2.1, §3). */
static void add_block(SpecList *l, const char *prefix, int layer, int64_t C)
{
    add(l, 1, C, 0, 0, 0, "%s.%d.ln_1.weight", prefix, layer);
    add(l, 1, C, 0, 0, 0, "%s.%d.ln_1.bias", prefix, layer);
    add(l, 2, 3 * C, C, 0, 0, "%s.%d.attn.in_proj_weight", prefix, layer);
    add(l, 1, 3 * C, 0, 0, 0, "%s.%d.attn.in_proj_bias", prefix, layer);
    add(l, 2, C, C, 0, 0, "%s.%d.attn.out_proj.weight", prefix, layer);
    add(l, 1, C, 0, 0, 0, "%s.%d.attn.out_proj.bias", prefix, layer);
    add(l, 1, C, 0, 0, 0, "%s.%d.ln_2.weight", prefix, layer);
    add(l, 1, C, 0, 0, 0, "%s.%d.ln_2.bias", prefix, layer);
    add(l, 2, 4 * C, C, 0, 0, "%s.%d.mlp.c_fc.weight", prefix, layer);
    add(l, 1, 4 * C, 0, 0, 0, "%s.%d.mlp.c_fc.bias", prefix, layer);
    add(l, 2, C, 4 * C, 0, 0, "%s.%d.mlp.c_proj.weight", prefix, layer);
    add(l, 1, C, 0, 0, 0, "%s.%d.mlp.c_proj.bias", prefix, layer);
}

int clip_config_tensors(const ClipConfig *cfg, ClipTensorSpec **out, int *count)
{
    const int64_t W = cfg->vision.width, P = cfg->vision.patch_size, G = clip_config_grid(cfg);
    const int64_t T = cfg->text.width, E = cfg->embed_dim;
    SpecList l = {0};
    l.cap = 14 + 12 * (cfg->vision.layers + cfg->text.layers);
    l.items = xcalloc((size_t)l.cap, sizeof *l.items);
    add(&l, 2, cfg->text.context_length, T, 0, 0, "positional_embedding");
    add(&l, 2, T, E, 0, 0, "text_projection");
    add(&l, 0, 0, 0, 0, 0, "logit_scale");
    add(&l, 1, W, 0, 0, 0, "visual.class_embedding");
    add(&l, 2, G * G + 1, W, 0, 0, "visual.positional_embedding");
    add(&l, 2, W, E, 0, 0, "visual.proj");
    add(&l, 4, W, 3, P, P, "visual.conv1.weight");
    add(&l, 1, W, 0, 0, 0, "visual.ln_pre.weight");
    add(&l, 1, W, 0, 0, 0, "visual.ln_pre.bias");
    for (int i = 0; i < cfg->vision.layers; i++) add_block(&l, "visual.transformer.resblocks", i, W);
    add(&l, 1, W, 0, 0, 0, "visual.ln_post.weight");
    add(&l, 1, W, 0, 0, 0, "visual.ln_post.bias");
    for (int i = 0; i < cfg->text.layers; i++) add_block(&l, "transformer.resblocks", i, T);
    add(&l, 2, cfg->text.vocab_size, T, 0, 0, "token_embedding.weight");
    add(&l, 1, T, 0, 0, 0, "ln_final.weight");
    add(&l, 1, T, 0, 0, 0, "ln_final.bias");
    CHECK(l.count == l.cap);
    *out = l.items;
    *count = l.count;
    return 0;
}
