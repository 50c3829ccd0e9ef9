/*
 * check_clip.c - tests for clip_config.c (presets, JSON, inference, tensor table).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/base.h"
#include "../src/clip_config.h"
#include "check_suites.h"
#include "test_util.h"

/* ---- config ---- */

static const char *TINY_JSON =
    "{\"embed_dim\": 32, \"model_name\": \"tiny-ViT-B-16-plus-240-like\", \"open_clip_version\": \"2.24.0\", "
    "\"quick_gelu\": false, \"seed\": 1234, \"text_cfg\": {\"context_length\": 77, \"heads\": 3, \"layers\": 2, "
    "\"vocab_size\": 49408, \"width\": 48}, \"vision_cfg\": {\"head_width\": 32, \"image_size\": 240, \"layers\": 2, "
    "\"patch_size\": 16, \"width\": 64}}";

START_TEST(config_presets_and_json)
{
    ClipConfig a, b, p;
    Error err = {0};
    ck_assert_int_eq(clip_config_preset(&a, "tiny", &err), 0);
    ck_assert_int_eq(clip_config_from_json(&b, TINY_JSON, &err), 0);
    ck_assert_mem_eq(&a, &b, sizeof a);
    ck_assert_int_eq(clip_config_grid(&a), 15);
    ck_assert_int_eq(clip_config_vision_heads(&a), 2);

    ck_assert_int_eq(clip_config_preset(&p, "ViT-B-16-plus-240", &err), 0);
    char *js = clip_config_to_json(&p, "\"pretrained\": \"laion400m_e31\"");
    ck_assert_str_eq(js, "{\"embed_dim\": 640, \"model_name\": \"ViT-B-16-plus-240\", \"quick_gelu\": false, "
                         "\"text_cfg\": {\"context_length\": 77, \"heads\": 10, \"layers\": 12, \"vocab_size\": 49408, "
                         "\"width\": 640}, \"vision_cfg\": {\"head_width\": 64, \"image_size\": 240, \"layers\": 12, "
                         "\"patch_size\": 16, \"width\": 896}, \"pretrained\": \"laion400m_e31\"}");
    ClipConfig back;
    ck_assert_int_eq(clip_config_from_json(&back, js, &err), 0);
    ck_assert_mem_eq(&back, &p, sizeof p);
    free(js);

    ck_assert_int_eq(clip_config_preset(&p, "ViT-B-16-quickgelu", &err), 0);
    ck_assert_int_eq(p.quick_gelu, 1);
    js = clip_config_to_json(&p, NULL);
    ck_assert_int_eq(clip_config_from_json(&back, js, &err), 0);
    ck_assert_int_eq(back.quick_gelu, 1);
    ck_assert_int_eq(back.vision.width, 768);
    free(js);

    /* head_width defaults to 64 when absent */
    const char *no_hw = "{\"embed_dim\": 512, \"quick_gelu\": true, \"text_cfg\": {\"context_length\": 77, \"heads\": 8,"
                        " \"layers\": 12, \"vocab_size\": 49408, \"width\": 512}, \"vision_cfg\": {\"image_size\": 224,"
                        " \"layers\": 12, \"patch_size\": 16, \"width\": 768}}";
    ck_assert_int_eq(clip_config_from_json(&back, no_hw, &err), 0);
    ck_assert_int_eq(back.vision.head_width, 64);
    ck_assert_int_eq(back.quick_gelu, 1);
}
END_TEST

START_TEST(config_tensor_table)
{
    ClipConfig c;
    ck_assert_int_eq(clip_config_preset(&c, "ViT-B-16-plus-240", NULL), 0);
    ClipTensorSpec *t;
    int n;
    clip_config_tensors(&c, &t, &n);
    ck_assert_int_eq(n, 302);
    size_t total = 0;
    for (int i = 0; i < n; i++) total += clip_tensor_numel(&t[i]);
    ck_assert_uint_eq(total, 208377345u); /* clip.md §1 */
    ck_assert_str_eq(t[0].key, "positional_embedding");
    ck_assert_str_eq(t[2].key, "logit_scale");
    ck_assert_int_eq(t[2].rank, 0);
    ck_assert_str_eq(t[6].key, "visual.conv1.weight");
    ck_assert(t[6].dims[0] == 896 && t[6].dims[1] == 3 && t[6].dims[3] == 16);
    ck_assert_str_eq(t[n - 1].key, "ln_final.bias");
    char path[128];
    clip_tensor_h5_path(path, sizeof path, t[11].key);
    ck_assert_str_eq(path, "visual/transformer/resblocks/0/attn/in_proj_weight");
    ck_assert(t[11].dims[0] == 2688 && t[11].dims[1] == 896);
    free(t);

    ck_assert_int_eq(clip_config_preset(&c, "ViT-B-16", NULL), 0);
    clip_config_tensors(&c, &t, &n);
    total = 0;
    for (int i = 0; i < n; i++) total += clip_tensor_numel(&t[i]);
    ck_assert_uint_eq(total, 149620737u);
    free(t);

    ck_assert_int_eq(clip_config_preset(&c, "tiny", NULL), 0);
    clip_config_tensors(&c, &t, &n);
    ck_assert_int_eq(n, 62);
    free(t);
}
END_TEST

/* Shape lookup over a tensor table (what a file without a config would hold). */
typedef struct {
    const ClipTensorSpec *t;
    int n;
} TableCtx;

static int table_lookup(void *ctx, const char *key, int *rank, int64_t dims[8])
{
    const TableCtx *c = ctx;
    for (int i = 0; i < c->n; i++) {
        if (strcmp(c->t[i].key, key) == 0) {
            *rank = c->t[i].rank;
            for (int j = 0; j < c->t[i].rank; j++) dims[j] = c->t[i].dims[j];
            return 0;
        }
    }
    return -1;
}

START_TEST(config_infer)
{
    const char *archs[] = {"ViT-B-16-plus-240", "ViT-B-16", "tiny"};
    for (size_t a = 0; a < ARRAY_LEN(archs); a++) {
        ClipConfig c, got;
        Error err = {0};
        ck_assert_int_eq(clip_config_preset(&c, archs[a], NULL), 0);
        TableCtx ctx;
        clip_config_tensors(&c, (ClipTensorSpec **)&ctx.t, &ctx.n);
        char note[512];
        int rc = clip_config_infer(&got, table_lookup, &ctx, note, sizeof note, &err);
        if (a < 2) {
            ck_assert_msg(rc == 0, "%s", err.msg);
            ck_assert_mem_eq(&got, &c, sizeof c);
            ck_assert(strstr(note, "head_width 64") != NULL);
            ck_assert(strstr(note, archs[a]) != NULL);
        } else {
            /* tiny: shapes cannot tell head counts, so the defaults (head_width 64) give 1 vision head
             * and max(48 / 64, 1) = 1 text head; every shape-determined dim is right. */
            ck_assert_msg(rc == 0, "%s", err.msg);
            ck_assert_int_eq(got.vision.width, 64);
            ck_assert_int_eq(got.vision.layers, 2);
            ck_assert_int_eq(got.vision.head_width, 64);
            ck_assert_int_eq(got.text.width, 48);
            ck_assert_int_eq(got.text.heads, 1);
            ck_assert_int_eq(got.text.layers, 2);
            ck_assert_int_eq(got.embed_dim, 32);
            ck_assert_int_eq(got.vision.image_size, 240);
            ck_assert_str_eq(got.model_name, "inferred");
        }
        free((void *)ctx.t);
    }
    /* a missing key is named */
    TableCtx empty = {NULL, 0};
    ClipConfig got;
    Error err = {0};
    ck_assert_int_eq(clip_config_infer(&got, table_lookup, &empty, NULL, 0, &err), ERR_MISSING);
    ck_assert(strstr(err.msg, "visual.conv1.weight") != NULL);
}
END_TEST

START_TEST(config_json_errors)
{
    struct {
        const char *json, *needle;
        int code;
    } cases[] = {
        {"{\"embed_dim\": 32", "JSON", ERR_FORMAT},
        {"[1, 2]", "object", ERR_FORMAT},
        {"{\"embed_dim\": 32}", "quick_gelu", ERR_MISSING},
        {"{\"embed_dim\": 32, \"quick_gelu\": \"no\"}", "quick_gelu", ERR_FORMAT},
        {"{\"embed_dim\": 32.5, \"quick_gelu\": false}", "embed_dim", ERR_FORMAT},
        {"{\"embed_dim\": 32, \"quick_gelu\": false, \"text_cfg\": {}}", "vision_cfg.image_size", ERR_MISSING},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        ClipConfig c;
        Error err = {0};
        ck_assert_int_eq(clip_config_from_json(&c, cases[i].json, &err), cases[i].code);
        ck_assert_msg(strstr(err.msg, cases[i].needle) != NULL, "case %zu: %s", i, err.msg);
    }
    /* inconsistent dims: width not a multiple of head_width; image not a multiple of patch */
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", TINY_JSON);
    char *hw = strstr(buf, "\"head_width\": 32");
    memcpy(hw, "\"head_width\": 48", 16);
    ClipConfig c;
    Error err = {0};
    ck_assert_int_eq(clip_config_from_json(&c, buf, &err), ERR_VALUE);
    ck_assert_msg(strstr(err.msg, "head_width 48") != NULL, "%s", err.msg);
    snprintf(buf, sizeof buf, "%s", TINY_JSON);
    char *ps = strstr(buf, "\"patch_size\": 16");
    memcpy(ps, "\"patch_size\": 17", 16);
    ck_assert_int_eq(clip_config_from_json(&c, buf, &err), ERR_VALUE);
    ck_assert_msg(strstr(err.msg, "patch_size 17") != NULL, "%s", err.msg);
    ck_assert_int_eq(clip_config_preset(&c, "ViT-L-14", &err), ERR_USAGE);
    ck_assert(strstr(err.msg, "ViT-L-14") != NULL);
}
END_TEST

Suite *clip_suite(void)
{
    Suite *s = suite_create("clip");
    TCase *core = tcase_create("Core");
    tcase_add_test(core, config_presets_and_json);
    tcase_add_test(core, config_tensor_table);
    tcase_add_test(core, config_infer);
    suite_add_tcase(s, core);
    TCase *limits = tcase_create("Limits");
    tcase_add_test(limits, config_json_errors);
    suite_add_tcase(s, limits);
    return s;
}
