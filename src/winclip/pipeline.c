/*
 * pipeline.c - WinCLIP / WinCLIP+ end to end for one model (see pipeline.h).
 *
 * Does: glue model, tokenizer, text tower, image pre-processing, vision tower, feature cache
 * and winclip.c scoring, with timings per stage.
 * Does not: parse configs, pick references, compute metrics.
 * Reference: shared/spec/winclip.md §7.
 */
#include "winclip/pipeline.h"

#include <stdlib.h>
#include <string.h>

#include "clip/clip_model.h"
#include "clip/numerics.h"
#include "clip/clip_text.h"
#include "clip/clip_vision.h"
#include "winclip/dense.h"
#include "winclip/feature_cache.h"
#include "clip/image.h"
#include "util/sha256.h"
#include "util/sha_cache.h"
#include "clip/tokenizer.h"
#include "winclip/text_cache.h"

enum { TEXT_BATCH = 64 };

typedef struct {
    char *class_word; /* "word|extra_normal_states|extra_anomalous_states" */
    WinclipText text;
} ClassText;

struct PipelinePriv {
    ClipModel model;
    ClipVision vision;
    ClipText text;
    Tokenizer tok;
    FeatureCache cache;
    int cache_open;
    ClassText *classes; /* (n_classes) */
    int n_classes;
    WinclipMemory memory;
    WinclipScratch scratch; /* winclip_score's per-image buffers, reused image after image */
    float *pixels;      /* (3, S, S) */
    char *text_dir;     /* text prototype cache folder (text_cache.h); NULL = off */
    char vocab_sha256[65];
};

int pipeline_init(Pipeline *p, const char *model_path, const WinclipSettings *settings, Error *err)
{
    memset(p, 0, sizeof *p);
    p->settings = *settings;
    snprintf(p->model_path, sizeof p->model_path, "%s", model_path);
    PipelinePriv *v = p->priv = xcalloc(1, sizeof *v);
    double t0 = time_now();
    if (clip_model_load(&v->model, model_path, err) != 0) goto fail;
    if (sha_cache_file(model_path, p->weights_sha256, &p->sha256_cached, err) != 0) goto fail; /* once per file */
    const ClipConfig *cfg = &v->model.cfg;
    p->image_size = settings->image_size > 0 ? settings->image_size : cfg->vision.image_size;
    if (p->image_size != cfg->vision.image_size) {
        err_setf(err, ERR_VALUE, "image_size = %d, but %s takes %d x %d images (its positional "
                 "embedding is fixed): use image_size = model", p->image_size, model_path,
                 cfg->vision.image_size, cfg->vision.image_size);
        goto fail;
    }
    p->logit_scale = (double)*v->model.logit_scale;
    p->tau = winclip_settings_temperature(settings, p->logit_scale);
    if (clip_vision_init(&v->vision, &v->model, settings->scales, settings->n_scales,
                         settings->stride, err) != 0)
        goto fail;
    if (clip_text_init(&v->text, &v->model, TEXT_BATCH, err) != 0) goto fail;
    char vocab[1024];
    if (tokenizer_find_vocab(vocab, sizeof vocab, err) != 0 || tokenizer_load(&v->tok, vocab, err) != 0 ||
        sha_cache_file(vocab, v->vocab_sha256, NULL, err) != 0)
        goto fail;
    char user[1024];
    if (sha_cache_user_dir(user, sizeof user)) v->text_dir = xasprintf("%s/text", user);
    v->pixels = xmalloc((size_t)3 * (size_t)p->image_size * (size_t)p->image_size * sizeof(float));
    int side = settings->output_size > 0 ? settings->output_size : p->image_size; /* grows if needed */
    winclip_scratch_init(&v->scratch, &v->vision.geom, settings, settings->k_shot, side, side);
    p->seconds_init = time_now() - t0;
    return 0;
fail:
    pipeline_free(p);
    return err->code;
}

void pipeline_free(Pipeline *p)
{
    PipelinePriv *v = p->priv;
    if (v) {
        clip_vision_free(&v->vision);
        clip_text_free(&v->text);
        clip_model_free(&v->model);
        tokenizer_free(&v->tok);
        if (v->cache_open) feature_cache_close(&v->cache);
        for (int i = 0; i < v->n_classes; i++) {
            free(v->classes[i].class_word);
            winclip_text_free(&v->classes[i].text);
        }
        free(v->classes);
        winclip_memory_free(&v->memory);
        winclip_scratch_free(&v->scratch);
        free(v->pixels);
        free(v->text_dir);
        free(v);
    }
    memset(p, 0, sizeof *p);
}

void pipeline_set_text_cache(Pipeline *p, const char *dir)
{
    free(p->priv->text_dir);
    p->priv->text_dir = dir ? xstrdup(dir) : NULL;
}

/* The text prototype cache goes beside a feature cache file: "<its folder>/text". */
static void text_cache_beside(Pipeline *p, const char *cache_path)
{
    const char *slash = strrchr(cache_path, '/');
    char *dir = slash ? xasprintf("%.*s/text", (int)(slash - cache_path), cache_path) : xstrdup("text");
    pipeline_set_text_cache(p, dir);
    free(dir);
}

int pipeline_open_cache(Pipeline *p, const char *path, Error *err)
{
    PipelinePriv *v = p->priv;
    if (path) text_cache_beside(p, path);
    if (v->cache_open) feature_cache_close(&v->cache);
    v->cache_open = 0;
    if (path == NULL) return 0;
    char pre[256];
    winclip_settings_preprocess_key(&p->settings, v->model.cfg.vision.image_size, pre, sizeof pre);
    FeatureCacheKey key = {p->weights_sha256, pre, v->vision.geom.grid, v->vision.geom.width,
                           v->vision.geom.embed_dim};
    if (feature_cache_open(&v->cache, path, &key, err) != 0) return err->code;
    v->cache_open = 1;
    return 0;
}

/* emb (n, E) of the prompts ids (n, TOKENIZER_CONTEXT), in batches of TEXT_BATCH consecutive
 * prompts of their sorted order (clip_text_sort), so the prompts of a batch share the most
 * prefix rows (the 242 prompts of the WinCLIP ensemble: 1,024 rows in four batches, against
 * 2,772 unshared); each embedding goes back to its prompt's place. */
static int encode_sorted(ClipText *text, const int32_t *ids, int n, float *emb, Error *err)
{
    const int E = text->embed_dim, L = TOKENIZER_CONTEXT;
    int *order = xmalloc((size_t)n * sizeof *order);
    int32_t *batch = xmalloc((size_t)TEXT_BATCH * L * sizeof *batch);
    float *out = xmalloc((size_t)TEXT_BATCH * E * sizeof *out);
    clip_text_sort(ids, n, L, order);
    int rc = 0;
    for (int b = 0; b < n && rc == 0; b += TEXT_BATCH) {
        const int nb = n - b < TEXT_BATCH ? n - b : TEXT_BATCH;
        for (int i = 0; i < nb; i++)
            memcpy(batch + (size_t)i * L, ids + (size_t)order[b + i] * L, (size_t)L * sizeof *batch);
        rc = clip_text_encode(text, batch, nb, out, err);
        for (int i = 0; i < nb && rc == 0; i++)
            memcpy(emb + (size_t)order[b + i] * E, out + (size_t)i * E, (size_t)E * sizeof *out);
    }
    free(order);
    free(batch);
    free(out);
    return rc;
}

int pipeline_text(Pipeline *p, const char *category, const WinclipText **out, Error *err)
{
    PipelinePriv *v = p->priv;
    char word[256];
    winclip_settings_class_name(&p->settings, category, word, sizeof word);
    /* kept per class word and state words: extra_anomalous_states.<category> may change them
     * between categories of one run */
    char *key = xasprintf("%s|%s|%s", word, p->settings.extra_normal_states, p->settings.extra_anomalous_states);
    for (int i = 0; i < v->n_classes; i++)
        if (strcmp(v->classes[i].class_word, key) == 0) {
            *out = &v->classes[i].text;
            free(key);
            return 0;
        }
    double t0 = time_now();
    PromptList prompts = {0};
    int rc = winclip_settings_prompts(&prompts, &p->settings, word, err);
    if (rc != 0) {
        free(key);
        return rc;
    }
    const int E = v->model.cfg.embed_dim;
    int n_all = prompts.n_normal + prompts.n_anomalous;
    int32_t *ids = xmalloc((size_t)n_all * TOKENIZER_CONTEXT * sizeof *ids);
    float *emb = xmalloc((size_t)n_all * (size_t)E * sizeof *emb);
    for (int i = 0; i < n_all && rc == 0; i++) {
        const char *text = i < prompts.n_normal ? prompts.normal[i] : prompts.anomalous[i - prompts.n_normal];
        rc = tokenizer_encode(&v->tok, text, ids + (size_t)i * TOKENIZER_CONTEXT, err);
    }
    char disk_key[640];
    WinclipText cached = {0};
    int hit = 0;
    /* the disk cache (text_cache.h): no text tower when it holds them; two-class texts only (a
     * one-class text is one prompt, and its score mode is not part of the cache format) */
    int use_disk = v->text_dir && prompts.n_anomalous > 0;
    if (rc == 0 && use_disk) {
        char note[1300];
        char numerics[CLIP_NUMERICS_CAP];
        clip_numerics(numerics, sizeof numerics);
        text_cache_key(disk_key, sizeof disk_key, p->weights_sha256, v->vocab_sha256,
                       p->settings.prototypes == WINCLIP_PROTO_MEAN ? "mean" : "normalize", ids, prompts.n_normal,
                       prompts.n_anomalous, TOKENIZER_CONTEXT, numerics);
        hit = text_cache_get(v->text_dir, disk_key, E, &cached, note, sizeof note);
        if (!hit && note[0]) fprintf(stderr, "winclip: text cache %s: recomputed\n", note);
        if (hit) p->text_cache_hits++;
        else p->text_cache_misses++;
    }
    if (rc == 0 && !hit) rc = encode_sorted(&v->text, ids, n_all, emb, err);
    if (rc == 0) {
        v->classes = xrealloc(v->classes, (size_t)(v->n_classes + 1) * sizeof *v->classes);
        ClassText *ct = &v->classes[v->n_classes];
        memset(ct, 0, sizeof *ct);
        if (hit)
            ct->text = cached;
        else if (prompts.n_anomalous == 0) /* prompts = one_class */
            rc = winclip_text_init_one_class(&ct->text, emb, prompts.n_normal, E, p->settings.prototypes,
                                             p->settings.one_class_score, err);
        else
            rc = winclip_text_init(&ct->text, emb, prompts.n_normal, emb + (size_t)prompts.n_normal * E,
                                   prompts.n_anomalous, E, p->settings.prototypes, err);
        Error ignore = {0};
        if (rc == 0 && !hit && use_disk && text_cache_put(v->text_dir, disk_key, &ct->text, &ignore) != 0)
            fprintf(stderr, "winclip: text cache not written: %s\n", ignore.msg);
        if (rc == 0) {
            ct->class_word = key;
            key = NULL;
            v->n_classes++;
            *out = &ct->text;
        }
    }
    if (rc != 0) err_prefixf(err, "text prototypes of \"%s\": ", word);
    free(key);
    free(ids);
    free(emb);
    prompts_free(&prompts);
    p->seconds_text += time_now() - t0;
    return rc;
}

int pipeline_features(Pipeline *p, const char *image_path, ClipImageFeatures *f,
                      int *image_width, int *image_height, Error *err)
{
    PipelinePriv *v = p->priv;
    clip_features_init(f, &v->vision.geom);
    const unsigned want = feature_components_all(&v->vision.geom);
    unsigned have = 0;
    int w = 0, h = 0, rc = 0;
    if (v->cache_open) { /* each component (full image, each window scale) on its own */
        double t0 = time_now();
        rc = feature_cache_get(&v->cache, image_path, f, want, &have, &w, &h, err);
        p->seconds_cache += time_now() - t0;
        if (rc != 0) goto fail;
        p->cache_hits += feature_components_count(have);
        p->cache_misses += feature_components_count(want & ~have);
    }
    if (have != want) { /* one backbone pass for the missing components only */
        double t0 = time_now();
        Image img = {0};
        if ((rc = image_load(&img, image_path, err)) != 0) goto fail;
        w = img.width;
        h = img.height;
        rc = image_preprocess(&img, p->image_size, (ResizeMode)p->settings.resize,
                              (Geometry)p->settings.geometry, v->pixels, err);
        image_free(&img);
        if (rc != 0) goto fail_named;
        double t1 = time_now();
        p->seconds_load += t1 - t0;
        p->backbone_passes++;
        unsigned scales = (want & ~have & ~FEATURE_FULL) >> 1; /* FEATURE_SCALE(s) = 2 << s */
        rc = clip_vision_features_part(&v->vision, v->pixels, !(have & FEATURE_FULL), scales, f, err);
        p->seconds_backbone += time_now() - t1;
        if (rc != 0) goto fail_named;
        if (v->cache_open) {
            double t2 = time_now();
            rc = feature_cache_put(&v->cache, image_path, f, want & ~have, w, h, err);
            p->seconds_cache += time_now() - t2;
            if (rc != 0) goto fail;
        }
    }
    if (image_width) *image_width = w;
    if (image_height) *image_height = h;
    return 0;
fail_named:
    err_prefixf(err, "%s: ", image_path);
fail:
    clip_features_free(f);
    return rc;
}

int pipeline_set_references(Pipeline *p, const char *const *paths, int k_shot, Error *err)
{
    PipelinePriv *v = p->priv;
    if (k_shot > 0 && p->settings.dense != WINCLIP_DENSE_WINDOWS)
        return err_setf(err, ERR_VALUE, "dense = %s is a zero-shot ablation: it needs k_shot = 0 "
                        "(found K = %d)", winclip_settings_dense_name(p->settings.dense), k_shot);
    winclip_memory_free(&v->memory);
    p->k_shot = 0;
    if (k_shot <= 0) return 0;
    ClipImageFeatures *refs = xcalloc((size_t)k_shot, sizeof *refs);
    int rc = 0;
    for (int r = 0; r < k_shot && rc == 0; r++)
        rc = pipeline_features(p, paths[r], &refs[r], NULL, NULL, err);
    if (rc == 0) {
        double t0 = time_now();
        rc = winclip_memory_init(&v->memory, &p->settings, refs, k_shot, err);
        p->seconds_memory += time_now() - t0;
    }
    for (int r = 0; r < k_shot; r++) clip_features_free(&refs[r]);
    free(refs);
    if (rc == 0) p->k_shot = k_shot;
    else err_prefixf(err, "few-shot references: ");
    return rc;
}

/* The dense ablation's features of one image into f (dense.h), timed in seconds_dense. They
 * bypass the feature cache: the image is decoded again when they need its pixels. */
static int dense_features(Pipeline *p, const char *image_path, ClipImageFeatures *f, Error *err)
{
    PipelinePriv *v = p->priv;
    double t0 = time_now();
    int rc = 0;
    if (dense_needs_pixels(&p->settings)) {
        Image img = {0};
        if (image_load(&img, image_path, err) != 0) return err->code;
        rc = image_preprocess(&img, p->image_size, (ResizeMode)p->settings.resize,
                              (Geometry)p->settings.geometry, v->pixels, err);
        image_free(&img);
    }
    if (rc == 0) rc = dense_apply(&p->settings, &v->vision, v->pixels, f, err);
    p->seconds_dense += time_now() - t0;
    p->dense_images++;
    return rc != 0 ? err_prefixf(err, "%s: ", image_path) : 0;
}

int pipeline_score(Pipeline *p, const char *image_path, const char *category, WinclipMaps *maps,
                   Error *err)
{
    PipelinePriv *v = p->priv;
    memset(maps, 0, sizeof *maps);
    const WinclipText *text = NULL;
    int rc = pipeline_text(p, category, &text, err);
    if (rc != 0) return rc;
    ClipImageFeatures f;
    int w = 0, h = 0;
    rc = pipeline_features(p, image_path, &f, &w, &h, err);
    if (rc != 0) return rc;
    if (p->settings.dense != WINCLIP_DENSE_WINDOWS && (rc = dense_features(p, image_path, &f, err)) != 0) {
        clip_features_free(&f);
        return rc;
    }
    EvalRegion region;
    eval_region_compute(&region, &p->settings, p->image_size, w, h);
    double t0 = time_now();
    rc = winclip_score(maps, &v->scratch, &p->settings, text, p->tau, &f,
                       p->k_shot > 0 ? &v->memory : NULL, region.out_h, region.out_w, err);
    maps->region = region;
    p->seconds_scoring += time_now() - t0;
    clip_features_free(&f);
    if (rc != 0) return err_prefixf(err, "%s: ", image_path);
    p->images_scored++;
    return 0;
}
