/*
 * check_encode.c - `winclip encode-image` / `encode-text` end to end (the built binary) against
 * the open_clip embeddings of fixtures/tiny_clip/reference.h5, plus their usage/error paths.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/h5.h"
#include "check_suites.h"
#include "test_util.h"

/* Parse "LABEL\tv1 v2 ...\n" lines: fills vals row by row (n_lines x dim); returns lines parsed. */
static int parse_lines(const char *out, float *vals, int max_lines, int dim)
{
    int lines = 0;
    const char *p = out;
    while (p && *p && lines < max_lines) {
        const char *tab = strchr(p, '\t');
        const char *nl = strchr(p, '\n');
        if (!tab || !nl || tab > nl) break;
        char *q = (char *)tab + 1;
        for (int i = 0; i < dim; i++) vals[lines * dim + i] = strtof(q, &q);
        lines++;
        p = nl + 1;
    }
    return lines;
}

static int read_ref(const char *dset, float *out, size_t n)
{
    char path[1024];
    if (!test_shared_path(path, sizeof path, "fixtures/tiny_clip/reference.h5")) return 0;
    H5File f = {0};
    Error err = {0};
    int ok = h5_open_read(&f, path, &err) == 0 && h5_read_f32(&f, dset, out, n, &err) == 0;
    h5_close(&f);
    ck_assert_msg(ok, "%s", err.msg);
    return 1;
}

START_TEST(encode_image_matches_open_clip)
{
    float want[3 * 32], got[3 * 32];
    if (!read_ref("/gelu/image_embedding", want, 3 * 32)) return;
    const char *d = test_shared_dir();
    char *args = NULL, *out = NULL, *errs = NULL;
    if (asprintf(&args, "encode-image -m %s/fixtures/tiny_clip/model.h5 %s/fixtures/tiny_clip/images/gradient.png "
                        "%s/fixtures/tiny_clip/images/checkerboard.png %s/fixtures/tiny_clip/images/noise.png",
                 d, d, d, d) < 0)
        abort();
    int st = test_run_winclip(args, &out, &errs);
    ck_assert_msg(st == 0, "exit %d: %s", st, errs);
    ck_assert_int_eq(parse_lines(out, got, 3, 32), 3);
    ck_assert(strstr(out, "gradient.png\t") == out + strlen(d) + strlen("/fixtures/tiny_clip/images/"));
    ck_assert(test_allclose(got, want, 3 * 32, 1e-4, "encode-image vs gelu/image_embedding"));
    free(args), free(out), free(errs);
}
END_TEST

START_TEST(encode_text_matches_open_clip)
{
    float want[5 * 32], got[2 * 32]; /* reference has all 5 prompts; we check the first 2 */
    if (!read_ref("/gelu/text_embedding", want, 5 * 32)) return;
    const char *d = test_shared_dir();
    char *args = NULL, *out = NULL, *errs = NULL;
    /* prompts 0 and 1 of prompts.json: "a photo of a bottle." and the empty prompt (stdin mode) */
    char *dir = test_mkdtemp(), *script = NULL, *cmd = NULL;
    if (asprintf(&script, "%s/in.txt", dir) < 0) abort();
    test_write_file(script, "\n", 1);
    if (asprintf(&args, "encode-text -m %s/fixtures/tiny_clip/model.h5 --vocab %s/clip/bpe_simple_vocab_16e6.txt.gz "
                        "'a photo of a bottle.' - < %s", d, d, script) < 0)
        abort();
    /* test_run_winclip redirects stdin from /dev/null; run through sh ourselves for stdin */
    if (asprintf(&cmd, "%s %s > %s/out 2> %s/err", test_winclip_bin(), args, dir, dir) < 0) abort();
    int st = system(cmd);
    char p[1024];
    snprintf(p, sizeof p, "%s/out", dir);
    out = test_read_file(p, NULL);
    snprintf(p, sizeof p, "%s/err", dir);
    errs = test_read_file(p, NULL);
    ck_assert_msg(st == 0, "exit %d: %s", st, errs);
    ck_assert_int_eq(parse_lines(out, got, 2, 32), 2);
    ck_assert(test_allclose(got, want, 2 * 32, 1e-4, "encode-text vs gelu/text_embedding"));
    test_rmtree(dir);
    free(dir), free(script), free(cmd), free(args), free(out), free(errs);
}
END_TEST

START_TEST(encode_errors)
{
    char *out = NULL, *errs = NULL;
    ck_assert_int_eq(test_run_winclip("encode-image x.png", &out, &errs), 2);
    ck_assert(strstr(errs, "-m MODEL.h5 is required") != NULL);
    free(out), free(errs);
    ck_assert_int_eq(test_run_winclip("encode-image -m /nonexistent/model.h5 x.png", &out, &errs), 1);
    ck_assert(strstr(errs, "/nonexistent/model.h5") != NULL);
    free(out), free(errs);
    char path[1024];
    if (!test_shared_path(path, sizeof path, "fixtures/tiny_clip/model.h5")) return;
    char *args = NULL;
    if (asprintf(&args, "encode-image -m %s /nonexistent/img.png", path) < 0) abort();
    ck_assert_int_eq(test_run_winclip(args, &out, &errs), 1);
    ck_assert(strstr(errs, "/nonexistent/img.png") != NULL);
    free(args), free(out), free(errs);
    if (asprintf(&args, "encode-image -m %s --resize lanczos x.png", path) < 0) abort();
    ck_assert_int_eq(test_run_winclip(args, &out, &errs), 2);
    ck_assert(strstr(errs, "lanczos") != NULL);
    free(args), free(out), free(errs);
    if (asprintf(&args, "encode-text -m %s", path) < 0) abort();
    ck_assert_int_eq(test_run_winclip(args, &out, &errs), 2);
    free(args), free(out), free(errs);
}
END_TEST

Suite *encode_suite(void)
{
    Suite *s = suite_create("encode");
    TCase *core = tcase_create("Core");
    tcase_set_timeout(core, 60);
    tcase_add_test(core, encode_image_matches_open_clip);
    tcase_add_test(core, encode_text_matches_open_clip);
    suite_add_tcase(s, core);
    TCase *lim = tcase_create("Limits");
    tcase_set_timeout(lim, 60);
    tcase_add_test(lim, encode_errors);
    suite_add_tcase(s, lim);
    return s;
}
