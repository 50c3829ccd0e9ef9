/*
 * settings.c - WinCLIP method settings: defaults, strict `key = value` parsing, writing,
 * equality, and the values derived from them (see settings.h).
 *
 * Does: parse and print every method key, build the prompt list of the settings.
 * Does not: score anything (winclip.c), read config files (harness/config.c).
 * Reference: shared/spec/winclip.md §2-§7 (the options), shared/spec/conventions.md (errors).
 */
#include "winclip/settings.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clip/image.h"

static const char *const PROTO_NAMES[] = {"normalize", "mean"};
static const char *const AGG_NAMES[] = {"harmonic", "mean"};
static const char *const PATCH_NAMES[] = {"ln_post", "pre_ln_post"};
static const char *const RESIZE_NAMES[] = {"pil-bicubic", "torch-bicubic-aa"};
static const char *const GEOMETRY_NAMES[] = {"squash", "shortest-crop"};
static const char *const BOOL_NAMES[] = {"false", "true"};
static const char *const PROMPT_NAMES[] = {"paper22", "anomalib21", "single", "states", "templates",
                                           "one_class", "two_class"};
static const char *const ONE_CLASS_NAMES[] = {"distance", "similarity"};
static const char *const DENSE_NAMES[] = {"windows", "patch_tokens", "tiling", "maskclip"};

/* 1 when the first n entries of a and b agree (slots past n_scales are not part of the value). */
static int scales_equal(const int *a, const int *b, int n)
{
    for (int i = 0; i < n; i++)
        if (a[i] != b[i]) return 0;
    return 1;
}

int winclip_settings_equal(const WinclipSettings *a, const WinclipSettings *b)
{
    return a->prompts == b->prompts &&
           strcmp(a->extra_normal_states, b->extra_normal_states) == 0 &&
           strcmp(a->extra_anomalous_states, b->extra_anomalous_states) == 0 &&
           strcmp(a->class_name, b->class_name) == 0 && a->prototypes == b->prototypes &&
           a->temperature == b->temperature && a->n_scales == b->n_scales &&
           scales_equal(a->scales, b->scales, a->n_scales) && a->stride == b->stride &&
           a->image_scale == b->image_scale && a->aggregation == b->aggregation &&
           a->fusion == b->fusion && a->patch_tokens == b->patch_tokens &&
           a->resize == b->resize && a->geometry == b->geometry &&
           a->image_size == b->image_size && a->output_size == b->output_size &&
           a->smoothing_sigma == b->smoothing_sigma && a->k_shot == b->k_shot &&
           a->one_class_score == b->one_class_score && a->dense == b->dense &&
           a->language == b->language && a->tiling_subset == b->tiling_subset;
}

void winclip_settings_default(WinclipSettings *s)
{
    memset(s, 0, sizeof *s);
    s->prompts = PROMPTS_PAPER22;
    s->prototypes = WINCLIP_PROTO_NORMALIZE;
    s->temperature = 0.0;
    s->n_scales = 2;
    s->scales[0] = 2;
    s->scales[1] = 3;
    s->stride = 1;
    s->image_scale = 1;
    s->aggregation = WINCLIP_AGG_HARMONIC;
    s->fusion = WINCLIP_AGG_HARMONIC;
    s->patch_tokens = WINCLIP_PATCH_LN_POST;
    s->resize = RESIZE_PIL_BICUBIC;
    s->geometry = GEOMETRY_SQUASH;
    s->image_size = 0;
    s->output_size = 240;
    s->smoothing_sigma = 0.0;
    s->k_shot = 0;
    s->one_class_score = WINCLIP_ONE_CLASS_DISTANCE;
    s->dense = WINCLIP_DENSE_WINDOWS;
    s->language = 1;
    s->tiling_subset = WINCLIP_TILING_SUBSET_DEFAULT;
}

/* Copy value without surrounding blanks into buf; 0 if it does not fit. */
static int trim_copy(char *buf, size_t cap, const char *value)
{
    while (isspace((unsigned char)*value)) value++;
    size_t n = strlen(value);
    while (n > 0 && isspace((unsigned char)value[n - 1])) n--;
    if (n >= cap) return 0;
    memcpy(buf, value, n);
    buf[n] = '\0';
    return 1;
}

static int parse_enum(int *out, const char *key, const char *value, const char *const *names,
                      int n, Error *err)
{
    for (int i = 0; i < n; i++)
        if (strcmp(value, names[i]) == 0) {
            *out = i;
            return 0;
        }
    char allowed[256] = "";
    for (int i = 0; i < n; i++) {
        strncat(allowed, names[i], sizeof allowed - strlen(allowed) - 1);
        if (i + 1 < n) strncat(allowed, " | ", sizeof allowed - strlen(allowed) - 1);
    }
    return err_setf(err, ERR_VALUE, "%s: bad value \"%s\" (allowed: %s)", key, value, allowed);
}

/* Strict integer in [lo, hi]: the whole string must be the number. */
static int parse_int(int *out, const char *key, const char *value, int lo, int hi,
                     const char *allowed, Error *err)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(value, &end, 10);
    if (value[0] == '\0' || *end != '\0' || errno != 0 || v < lo || v > hi)
        return err_setf(err, ERR_VALUE, "%s: bad value \"%s\" (allowed: %s)", key, value, allowed);
    *out = (int)v;
    return 0;
}

/* Strict finite number >= lo (> lo when strict). */
static int parse_num(double *out, const char *key, const char *value, double lo, int strict,
                     const char *allowed, Error *err)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(value, &end);
    if (value[0] == '\0' || *end != '\0' || errno != 0 || !isfinite(v) || v < lo ||
        (strict && v == lo))
        return err_setf(err, ERR_VALUE, "%s: bad value \"%s\" (allowed: %s)", key, value, allowed);
    *out = v;
    return 0;
}

static int parse_scales(WinclipSettings *s, const char *key, const char *value, Error *err)
{
    static const char allowed[] = "none | comma list of 1 to 4 ascending window sizes in 1..32, "
                                  "e.g. 2,3";
    if (strcmp(value, "none") == 0) {
        s->n_scales = 0;
        return 0;
    }
    int scales[WINCLIP_MAX_SCALES] = {0}, n = 0; /* unused slots stay 0 */
    const char *p = value;
    for (;;) {
        char item[32];
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len >= sizeof item || n == WINCLIP_MAX_SCALES)
            return err_setf(err, ERR_VALUE, "%s: bad value \"%s\" (allowed: %s)", key, value, allowed);
        memcpy(item, p, len);
        item[len] = '\0';
        char trimmed[32];
        trim_copy(trimmed, sizeof trimmed, item);
        if (parse_int(&scales[n], key, trimmed, 1, 32, allowed, err) != 0 ||
            (n > 0 && scales[n] <= scales[n - 1]))
            return err_setf(err, ERR_VALUE, "%s: bad value \"%s\" (allowed: %s)", key, value, allowed);
        n++;
        if (!comma) break;
        p = comma + 1;
    }
    s->n_scales = n;
    memcpy(s->scales, scales, sizeof scales);
    return 0;
}

/* A comma list of state phrases, checked now so a bad phrase fails at config time. */
static int parse_states(char *dst, size_t cap, const char *key, const char *value, Error *err)
{
    if (strcmp(value, "none") == 0 || value[0] == '\0') {
        dst[0] = '\0';
        return 0;
    }
    if (strlen(value) >= cap)
        return err_setf(err, ERR_VALUE, "%s: value longer than %zu characters", key, cap - 1);
    /* build the prompts of a dummy class once so a bad phrase fails here, naming the key */
    WinclipSettings probe;
    winclip_settings_default(&probe);
    char *field = strcmp(key, "extra_normal_states") == 0 ? probe.extra_normal_states
                                                          : probe.extra_anomalous_states;
    snprintf(field, sizeof probe.extra_normal_states, "%s", value);
    PromptList p = {0};
    int rc = winclip_settings_prompts(&p, &probe, "x", err);
    prompts_free(&p);
    if (rc != 0) return rc;
    snprintf(dst, cap, "%s", value);
    return 0;
}

int winclip_settings_set(WinclipSettings *s, const char *key, const char *value_in, Error *err)
{
    char value[1024];
    if (!trim_copy(value, sizeof value, value_in))
        return err_setf(err, ERR_VALUE, "%s: value longer than %zu characters", key, sizeof value - 1);
    if (strcmp(key, "prompts") == 0)
        return parse_enum(&s->prompts, key, value, PROMPT_NAMES, (int)ARRAY_LEN(PROMPT_NAMES), err);
    if (strcmp(key, "extra_normal_states") == 0)
        return parse_states(s->extra_normal_states, sizeof s->extra_normal_states, key, value, err);
    if (strcmp(key, "extra_anomalous_states") == 0)
        return parse_states(s->extra_anomalous_states, sizeof s->extra_anomalous_states, key, value,
                            err);
    if (strcmp(key, "class_name") == 0) {
        if (value[0] == '\0' || strlen(value) >= sizeof s->class_name || strchr(value, '{') ||
            strchr(value, '}'))
            return err_setf(err, ERR_VALUE, "%s: bad value \"%s\" (allowed: auto | words without "
                            "braces, at most %zu characters)", key, value, sizeof s->class_name - 1);
        snprintf(s->class_name, sizeof s->class_name, "%s", strcmp(value, "auto") == 0 ? "" : value);
        return 0;
    }
    if (strcmp(key, "prototypes") == 0)
        return parse_enum(&s->prototypes, key, value, PROTO_NAMES, 2, err);
    if (strcmp(key, "temperature") == 0) {
        if (strcmp(value, "checkpoint") == 0) {
            s->temperature = 0.0;
            return 0;
        }
        return parse_num(&s->temperature, key, value, 0.0, 1, "checkpoint | a number > 0, e.g. 0.07",
                         err);
    }
    if (strcmp(key, "scales") == 0) return parse_scales(s, key, value, err);
    if (strcmp(key, "stride") == 0)
        return parse_int(&s->stride, key, value, 1, 32, "an integer in 1..32 (default 1)", err);
    if (strcmp(key, "image_scale") == 0)
        return parse_enum(&s->image_scale, key, value, BOOL_NAMES, 2, err);
    if (strcmp(key, "aggregation") == 0)
        return parse_enum(&s->aggregation, key, value, AGG_NAMES, 2, err);
    if (strcmp(key, "fusion") == 0) return parse_enum(&s->fusion, key, value, AGG_NAMES, 2, err);
    if (strcmp(key, "patch_tokens") == 0)
        return parse_enum(&s->patch_tokens, key, value, PATCH_NAMES, 2, err);
    if (strcmp(key, "resize") == 0) return parse_enum(&s->resize, key, value, RESIZE_NAMES, 2, err);
    if (strcmp(key, "geometry") == 0)
        return parse_enum(&s->geometry, key, value, GEOMETRY_NAMES, 2, err);
    if (strcmp(key, "image_size") == 0) {
        if (strcmp(value, "model") == 0) {
            s->image_size = 0;
            return 0;
        }
        return parse_int(&s->image_size, key, value, 16, 4096, "model | an integer in 16..4096", err);
    }
    if (strcmp(key, "output_size") == 0) {
        if (strcmp(value, "original") == 0) {
            s->output_size = 0;
            return 0;
        }
        return parse_int(&s->output_size, key, value, 1, 8192, "original | an integer in 1..8192",
                         err);
    }
    if (strcmp(key, "smoothing_sigma") == 0)
        return parse_num(&s->smoothing_sigma, key, value, 0.0, 0, "0 | a number >= 0 (pixels)", err);
    if (strcmp(key, "k_shot") == 0)
        return parse_int(&s->k_shot, key, value, 0, 1024, "an integer in 0..1024", err);
    if (strcmp(key, "one_class_score") == 0)
        return parse_enum(&s->one_class_score, key, value, ONE_CLASS_NAMES, 2, err);
    if (strcmp(key, "dense") == 0)
        return parse_enum(&s->dense, key, value, DENSE_NAMES, (int)ARRAY_LEN(DENSE_NAMES), err);
    if (strcmp(key, "language") == 0) return parse_enum(&s->language, key, value, BOOL_NAMES, 2, err);
    if (strcmp(key, "tiling_subset") == 0)
        return parse_int(&s->tiling_subset, key, value, 0, 100000,
                         "an integer in 0..100000 (0 = every test image)", err);
    return err_setf(err, ERR_MISSING, "unknown key \"%s\"", key);
}

static const char *const SETTING_KEYS[] = {
    "prompts", "extra_normal_states", "extra_anomalous_states", "class_name", "prototypes",
    "temperature", "scales", "stride", "image_scale", "aggregation", "fusion", "patch_tokens",
    "resize", "geometry", "image_size", "output_size", "smoothing_sigma", "k_shot",
    "one_class_score", "dense", "language", "tiling_subset",
};

const char *const *winclip_settings_keys(int *count)
{
    *count = (int)ARRAY_LEN(SETTING_KEYS);
    return SETTING_KEYS;
}

void winclip_settings_write(const WinclipSettings *s, FILE *fp)
{
    fprintf(fp, "prompts = %s\n", PROMPT_NAMES[s->prompts]);
    fprintf(fp, "extra_normal_states = %s\n", s->extra_normal_states[0] ? s->extra_normal_states : "none");
    fprintf(fp, "extra_anomalous_states = %s\n",
            s->extra_anomalous_states[0] ? s->extra_anomalous_states : "none");
    fprintf(fp, "class_name = %s\n", s->class_name[0] ? s->class_name : "auto");
    fprintf(fp, "prototypes = %s\n", PROTO_NAMES[s->prototypes]);
    if (s->temperature > 0) fprintf(fp, "temperature = %.17g\n", s->temperature);
    else fprintf(fp, "temperature = checkpoint\n");
    fprintf(fp, "scales = ");
    if (s->n_scales == 0) fprintf(fp, "none");
    for (int i = 0; i < s->n_scales; i++) fprintf(fp, i ? ",%d" : "%d", s->scales[i]);
    fprintf(fp, "\nstride = %d\n", s->stride);
    fprintf(fp, "image_scale = %s\n", BOOL_NAMES[s->image_scale]);
    fprintf(fp, "aggregation = %s\n", AGG_NAMES[s->aggregation]);
    fprintf(fp, "fusion = %s\n", AGG_NAMES[s->fusion]);
    fprintf(fp, "patch_tokens = %s\n", PATCH_NAMES[s->patch_tokens]);
    fprintf(fp, "resize = %s\n", RESIZE_NAMES[s->resize]);
    fprintf(fp, "geometry = %s\n", GEOMETRY_NAMES[s->geometry]);
    if (s->image_size > 0) fprintf(fp, "image_size = %d\n", s->image_size);
    else fprintf(fp, "image_size = model\n");
    if (s->output_size > 0) fprintf(fp, "output_size = %d\n", s->output_size);
    else fprintf(fp, "output_size = original\n");
    fprintf(fp, "smoothing_sigma = %.17g\n", s->smoothing_sigma);
    fprintf(fp, "k_shot = %d\n", s->k_shot);
    /* ablation keys: only when not at their default (see settings.h) */
    if (s->one_class_score != WINCLIP_ONE_CLASS_DISTANCE)
        fprintf(fp, "one_class_score = %s\n", ONE_CLASS_NAMES[s->one_class_score]);
    if (s->dense != WINCLIP_DENSE_WINDOWS) fprintf(fp, "dense = %s\n", DENSE_NAMES[s->dense]);
    if (!s->language) fprintf(fp, "language = false\n");
    if (s->dense == WINCLIP_DENSE_TILING || s->tiling_subset != WINCLIP_TILING_SUBSET_DEFAULT)
        fprintf(fp, "tiling_subset = %d\n", s->tiling_subset);
}

void winclip_settings_preprocess_key(const WinclipSettings *s, int model_image_size, char *buf,
                                     size_t cap)
{
    snprintf(buf, cap, "resize=%s;geometry=%s;image_size=%d", RESIZE_NAMES[s->resize],
             GEOMETRY_NAMES[s->geometry], s->image_size > 0 ? s->image_size : model_image_size);
}

double winclip_settings_temperature(const WinclipSettings *s, double logit_scale)
{
    return s->temperature > 0 ? s->temperature : 1.0 / exp(logit_scale);
}

void winclip_settings_class_name(const WinclipSettings *s, const char *category, char *out, size_t cap)
{
    snprintf(out, cap, "%s", s->class_name[0] ? s->class_name : category);
    if (s->class_name[0]) return;
    for (char *c = out; *c; c++)
        if (*c == '_') *c = ' ';
}

/* Split a comma list into trimmed xmalloc'ed items (empty items skipped). */
static char **split_list(const char *list, int *count)
{
    int cap = 1;
    for (const char *c = list; *c; c++) cap += (*c == ',');
    char **items = xcalloc((size_t)cap, sizeof *items);
    int n = 0;
    const char *p = list;
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char *raw = xmalloc(len + 1);
        memcpy(raw, p, len);
        raw[len] = '\0';
        char *item = xmalloc(len + 1);
        trim_copy(item, len + 1, raw);
        free(raw);
        if (item[0]) items[n++] = item;
        else free(item);
        if (!comma) break;
        p = comma + 1;
    }
    *count = n;
    return items;
}

int winclip_settings_prompts(PromptList *p, const WinclipSettings *s, const char *class_name,
                          Error *err)
{
    int nn = 0, na = 0;
    char **en = split_list(s->extra_normal_states, &nn);
    char **ea = split_list(s->extra_anomalous_states, &na);
    int rc = prompts_build(p, (PromptSet)s->prompts, class_name, (const char *const *)en, nn,
                           (const char *const *)ea, na, err);
    for (int i = 0; i < nn; i++) free(en[i]);
    for (int i = 0; i < na; i++) free(ea[i]);
    free(en);
    free(ea);
    return rc;
}

void winclip_settings_output_dims(const WinclipSettings *s, int img_w, int img_h, int *out_h, int *out_w)
{
    *out_h = s->output_size > 0 ? s->output_size : img_h;
    *out_w = s->output_size > 0 ? s->output_size : img_w;
}

const char *winclip_settings_dense_name(int dense)
{
    return dense >= 0 && dense < (int)ARRAY_LEN(DENSE_NAMES) ? DENSE_NAMES[dense] : "?";
}

const char *winclip_settings_patch_name(int patch_tokens)
{
    return patch_tokens >= 0 && patch_tokens < (int)ARRAY_LEN(PATCH_NAMES) ? PATCH_NAMES[patch_tokens]
                                                                        : "?";
}
