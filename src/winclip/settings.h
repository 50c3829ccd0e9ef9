/*
 * settings.h - WinCLIP method settings: the config keys of the method, their defaults and
 * strict parsing, writing back, field-by-field equality, and the values derived from them
 * (temperature, class word, prompts, output size, preprocessing key).
 *
 * Does: WinclipSettings and every winclip_settings_* function.
 * Does not: score (winclip.h), read config files (harness/config.h).
 * Reference: shared/spec/winclip.md §2-§7 (what each option selects).
 *
 *     WinclipSettings s;  winclip_settings_default(&s);
 *     if (winclip_settings_set(&s, "scales", "2,3", &err)) return err.code;
 *     winclip_settings_write(&s, stdout);
 */
#ifndef WINCLIP_SETTINGS_H
#define WINCLIP_SETTINGS_H

#include <stdio.h>

#include "util/base.h"
#include "clip/clip_vision.h"
#include "winclip/prompts.h"

#define WINCLIP_MAX_SCALES CLIP_MAX_SCALES

/* ---- settings (config keys; see winclip_settings_set for every key and value) ---- */

enum { WINCLIP_PROTO_NORMALIZE = 0, WINCLIP_PROTO_MEAN = 1 };         /* prototypes    */
enum { WINCLIP_AGG_HARMONIC = 0, WINCLIP_AGG_MEAN = 1 };              /* aggregation, fusion */
enum { WINCLIP_PATCH_LN_POST = 0, WINCLIP_PATCH_PRE_LN_POST = 1 };    /* patch_tokens  */
/* dense: what the zero-shot map is built from (winclip.md §14; dense.h) */
enum { WINCLIP_DENSE_WINDOWS = 0, WINCLIP_DENSE_PATCH_TOKENS = 1, WINCLIP_DENSE_TILING = 2,
       WINCLIP_DENSE_MASKCLIP = 3 };
/* one_class_score: the score of prompts = one_class (no anomalous prototype) */
enum { WINCLIP_ONE_CLASS_DISTANCE = 0, WINCLIP_ONE_CLASS_SIMILARITY = 1 };
#define WINCLIP_TILING_SUBSET_DEFAULT 10 /* test images per category scored with dense = tiling */
/* resize and geometry hold image.h's ResizeMode and Geometry values. */

typedef struct {
    int prompts;                       /* PromptSet                       (paper22)        */
    char extra_normal_states[1024];    /* comma list of state phrases, "" = none           */
    char extra_anomalous_states[1024]; /* see prompts_build for the phrase rules           */
    char class_name[256];              /* "" = from the category ("metal_nut" -> "metal nut") */
    int prototypes;                    /* WINCLIP_PROTO_*                 (normalize)      */
    double temperature;                /* tau; 0 = checkpoint: 1 / exp(logit_scale)        */
    int n_scales;                      /* window scales                   (2)              */
    int scales[WINCLIP_MAX_SCALES];    /* k values, ascending             (2, 3)           */
    int stride;                        /* window stride in patches        (1)              */
    int image_scale;                   /* full image as a zero-shot scale (1)              */
    int aggregation;                   /* window -> patch, WINCLIP_AGG_*  (harmonic)       */
    int fusion;                        /* zero-shot scales, WINCLIP_AGG_* (harmonic)       */
    int patch_tokens;                  /* WINCLIP_PATCH_*                 (ln_post)        */
    int resize;                        /* ResizeMode (image.h)            (pil-bicubic)    */
    int geometry;                      /* Geometry (image.h)              (squash)         */
    int image_size;                    /* model input side; 0 = the model's                */
    int output_size;                   /* map side; 0 = the original image size (240)      */
    double smoothing_sigma;            /* Gaussian sigma in output pixels; 0 = none        */
    int k_shot;                        /* reference images (0 = zero-shot WinCLIP)         */
    /* keys added for the ablations (issue 10); written only when not at their default */
    int one_class_score;               /* WINCLIP_ONE_CLASS_*             (distance)       */
    int dense;                         /* WINCLIP_DENSE_*                 (windows)        */
    int language;                      /* WinCLIP+ uses the zero-shot map (1)              */
    int tiling_subset;                 /* dense = tiling: images per category, 0 = all (10) */
} WinclipSettings;

/* Paper-mode defaults (fixtures/winclip_paper settings). */
void winclip_settings_default(WinclipSettings *s);

/* 1 when a and b hold the same settings, compared field by field (strings up to their NUL,
 * scales only the first n_scales entries), else 0. Never memcmp a struct: padding and unused
 * slots are not part of its value. */
int winclip_settings_equal(const WinclipSettings *a, const WinclipSettings *b);

/* Set one key from its text value (numbers parsed strictly, surrounding blanks ignored).
 * Keys and values (default first):
 *   prompts = paper22 | anomalib21 | single | states | templates
 *   extra_normal_states = none | <phrase>[,<phrase>...]     (same for extra_anomalous_states)
 *   class_name = auto | <words>       prototypes = normalize | mean
 *   temperature = checkpoint | <number > 0>
 *   scales = 2,3 | <k>[,<k>...] (1..32, ascending, at most 4) | none
 *   stride = 1 | <int >= 1>           image_scale = true | false
 *   aggregation = harmonic | mean     fusion = harmonic | mean
 *   patch_tokens = ln_post | pre_ln_post
 *   resize = pil-bicubic | torch-bicubic-aa      geometry = squash | shortest-crop
 *   image_size = model | <int 16..4096>          output_size = 240 | original | <int 1..8192>
 *   smoothing_sigma = 0 | <number >= 0>          k_shot = 0 | <int 0..1024>
 *   one_class_score = distance | similarity      (prompts = one_class: 1 - cos, or (1 + cos) / 2)
 *   dense = windows | patch_tokens | tiling | maskclip   (dense.h)
 *   language = true | false           (false: WinCLIP+ map = M_fs, image score = max M_fs)
 *   tiling_subset = 10 | <int 0..100000> (0 = every test image)
 * Returns 0; ERR_MISSING (message "unknown key") when key is not a method key, so callers can
 * offer it to other modules; ERR_VALUE naming the key, the bad value and the allowed values. */
int winclip_settings_set(WinclipSettings *s, const char *key, const char *value, Error *err);

/* The method's config keys, in winclip_settings_write order (static storage; *count set). */
const char *const *winclip_settings_keys(int *count);

/* Write every key as a resolved `key = value` line (readable back by winclip_settings_set).
 * The ablation keys (one_class_score, dense, language, tiling_subset) are written only when not
 * at their default (tiling_subset also whenever dense = tiling), so settings.txt and the stale-unit
 * hash of units computed before those keys existed do not change; any non-default value does. */
void winclip_settings_write(const WinclipSettings *s, FILE *fp);

/* Preprocessing identity "resize=pil-bicubic;geometry=squash;image_size=240" (image_size
 * resolved with model_image_size when the setting is 0); the feature cache keys on it. */
void winclip_settings_preprocess_key(const WinclipSettings *s, int model_image_size, char *buf,
                                     size_t cap);

/* tau: the setting, or 1/exp(logit_scale) when temperature = checkpoint. */
double winclip_settings_temperature(const WinclipSettings *s, double logit_scale);

/* Class word used in the prompts: the class_name setting, else category with '_' -> ' '. */
void winclip_settings_class_name(const WinclipSettings *s, const char *category, char *out, size_t cap);

/* Prompts for class_name from the settings (prompt set + extra states). */
int winclip_settings_prompts(PromptList *p, const WinclipSettings *s, const char *class_name,
                          Error *err);

/* Output map size for a region of img_w x img_h pixels (eval_region.h): output_size x output_size,
 * or the region's own size when output_size = original. */
void winclip_settings_output_dims(const WinclipSettings *s, int img_w, int img_h, int *out_h, int *out_w);

/* Name of a WINCLIP_DENSE_* value ("windows", ...), for messages and timing files. */
const char *winclip_settings_dense_name(int dense);

/* Name of a WINCLIP_PATCH_* value ("ln_post", "pre_ln_post"), for messages. */
const char *winclip_settings_patch_name(int patch_tokens);

#endif
