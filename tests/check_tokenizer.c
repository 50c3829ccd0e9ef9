/*
 * check_tokenizer.c - tests for tokenizer.c: every line of fixtures/tokens/tokens.tsv, the tiny_clip
 * prompts against reference.h5, spec §5 examples, truncation, cleaning, and the error paths.
 */
#define _GNU_SOURCE
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/base.h"
#include "util/h5.h"
#include "util/json.h"
#include "clip/tokenizer.h"
#include "check_suites.h"
#include "test_util.h"

/* Load the shared vocabulary into t; 0 (SKIP printed) when the shared folder is absent. */
static int load_vocab(Tokenizer *t)
{
    char path[1024];
    if (!test_shared_path(path, sizeof path, "clip/bpe_simple_vocab_16e6.txt.gz")) return 0;
    Error err = {0};
    ck_assert_msg(tokenizer_load(t, path, &err) == 0, "%s", err.msg);
    return 1;
}

/* Encode text and compare with want (77 ids); prints the first differing position. */
static int ids_equal(Tokenizer *t, const char *text, const int32_t *want, const char *label)
{
    Error err = {0};
    int32_t got[TOKENIZER_CONTEXT];
    if (tokenizer_encode(t, text, got, &err)) {
        printf("%s: encode('%s') failed: %s\n", label, text, err.msg);
        return 0;
    }
    for (int i = 0; i < TOKENIZER_CONTEXT; i++)
        if (got[i] != want[i]) {
            printf("%s: prompt '%s': first difference at position %d: got %d want %d\n", label, text, i, (int)got[i],
                   (int)want[i]);
            return 0;
        }
    return 1;
}

/* ids of text (must succeed). */
static void encode_ok(Tokenizer *t, const char *text, int32_t ids[TOKENIZER_CONTEXT])
{
    Error err = {0};
    ck_assert_msg(tokenizer_encode(t, text, ids, &err) == 0, "encode('%s'): %s", text, err.msg);
}

START_TEST(tokens_tsv)
{
    char path[1024];
    Tokenizer t = {0};
    if (!test_shared_path(path, sizeof path, "fixtures/tokens/tokens.tsv") || !load_vocab(&t)) return;
    size_t len;
    char *text = test_read_file(path, &len);
    ck_assert_ptr_nonnull(text);
    int lines = 0, bad = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        char *tab = strchr(line, '\t');
        ck_assert_msg(tab != NULL, "tokens.tsv line %d: no tab", lines + 1);
        *tab = 0;
        /* the prompt column escapes \t and \n */
        char prompt[4096];
        size_t n = 0;
        for (const char *p = line; *p && n + 1 < sizeof prompt; p++) {
            if (p[0] == '\\' && (p[1] == 't' || p[1] == 'n' || p[1] == '\\')) {
                prompt[n++] = p[1] == 't' ? '\t' : p[1] == 'n' ? '\n' : '\\';
                p++;
            } else {
                prompt[n++] = *p;
            }
        }
        prompt[n] = 0;
        int32_t want[TOKENIZER_CONTEXT];
        char *s = tab + 1, *end;
        for (int i = 0; i < TOKENIZER_CONTEXT; i++) {
            want[i] = (int32_t)strtol(s, &end, 10);
            ck_assert_msg(end != s, "tokens.tsv line %d: fewer than 77 ids", lines + 1);
            s = end;
        }
        lines++;
        if (!ids_equal(&t, prompt, want, "tokens.tsv")) bad++;
    }
    printf("tokens.tsv: %d prompts, %d differ\n", lines, bad);
    ck_assert_int_eq(lines, 234);
    ck_assert_int_eq(bad, 0);
    free(text);
    tokenizer_free(&t);
}
END_TEST

START_TEST(tiny_clip_prompts)
{
    char jpath[1024], hpath[1024];
    Tokenizer t = {0};
    if (!test_shared_path(jpath, sizeof jpath, "fixtures/tiny_clip/prompts.json") ||
        !test_shared_path(hpath, sizeof hpath, "fixtures/tiny_clip/reference.h5") || !load_vocab(&t))
        return;
    size_t len;
    char *text = test_read_file(jpath, &len);
    ck_assert_ptr_nonnull(text);
    JsonValue root = {0};
    Error err = {0};
    ck_assert_msg(json_parse(&root, text, len, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(root.type, JSON_ARRAY);
    ck_assert_int_eq((int)root.count, 5);
    H5File f = {0};
    ck_assert_msg(h5_open_read(&f, hpath, &err) == 0, "%s", err.msg);
    int64_t ref[5 * TOKENIZER_CONTEXT];
    ck_assert_msg(h5_read_i64(&f, "inputs/text_tokens", ref, ARRAY_LEN(ref), &err) == 0, "%s", err.msg);
    for (int p = 0; p < 5; p++) {
        int32_t want[TOKENIZER_CONTEXT];
        for (int i = 0; i < TOKENIZER_CONTEXT; i++) want[i] = (int32_t)ref[p * TOKENIZER_CONTEXT + i];
        ck_assert(ids_equal(&t, root.items[p].string, want, "tiny_clip prompts"));
    }
    ck_assert_int_eq((int)ref[4 * TOKENIZER_CONTEXT + 76], TOKENIZER_EOT); /* the long one is truncated */
    h5_close(&f);
    json_free(&root);
    free(text);
    tokenizer_free(&t);
}
END_TEST

START_TEST(spec_examples)
{
    Tokenizer t = {0};
    if (!load_vocab(&t)) return;
    /* bytes_to_unicode order */
    ck_assert_int_eq(t.byte_id['!'], 0);
    ck_assert_int_eq(t.byte_id['a'], 64);
    ck_assert_int_eq(t.byte_id[0x00], 188);
    ck_assert_int_eq(t.byte_id[0x20], 220);
    ck_assert_int_eq(t.byte_id[0xAD], 255);
    /* first merges: i n -> 512, t h -> 513, a n -> 514; last: jeky ll</w> */
    ck_assert_int_eq(tokenizer_pair_rank(&t, t.byte_id['i'], t.byte_id['n']), 0);
    ck_assert_int_eq(tokenizer_pair_rank(&t, t.byte_id['t'], t.byte_id['h']), 1);
    ck_assert_int_eq(tokenizer_pair_rank(&t, t.byte_id['a'], t.byte_id['n']), 2);
    ck_assert_int_eq(tokenizer_pair_rank(&t, t.byte_id[0], t.byte_id[0]), -1);
    int32_t ids[TOKENIZER_CONTEXT];
    const int32_t bottle[] = {49406, 320, 1125, 539, 320, 5392, 269, 49407, 0};
    encode_ok(&t, "a photo of a bottle.", ids);
    ck_assert_mem_eq(ids, bottle, sizeof bottle);
    encode_ok(&t, "a", ids);
    ck_assert_int_eq(ids[1], 320); /* a</w> = 64 + 256 */
    encode_ok(&t, "", ids);
    ck_assert_int_eq(ids[0], TOKENIZER_SOT);
    ck_assert_int_eq(ids[1], TOKENIZER_EOT);
    for (int i = 2; i < TOKENIZER_CONTEXT; i++) ck_assert_int_eq(ids[i], 0);
    const int32_t cropped[] = {49406, 320, 31139, 1125, 539, 518, 5392, 269, 49407, 0};
    encode_ok(&t, "a cropped photo of the bottle.", ids);
    ck_assert_mem_eq(ids, cropped, sizeof cropped);
    encode_ok(&t, "A PHOTO OF A BOTTLE", ids);
    const int32_t upper[] = {49406, 320, 1125, 539, 320, 5392, 49407, 0};
    ck_assert_mem_eq(ids, upper, sizeof upper);
    /* digits are single pre-tokens */
    ck_assert_int_eq(tokenizer_count(&t, "12345", NULL), 5);
    tokenizer_free(&t);
}
END_TEST

/* Two texts must tokenise identically. */
static void same_ids(Tokenizer *t, const char *a, const char *b)
{
    int32_t ia[TOKENIZER_CONTEXT], ib[TOKENIZER_CONTEXT];
    encode_ok(t, a, ia);
    encode_ok(t, b, ib);
    ck_assert_msg(memcmp(ia, ib, sizeof ia) == 0, "'%s' and '%s' tokenise differently", a, b);
}

START_TEST(cleaning)
{
    Tokenizer t = {0};
    if (!load_vocab(&t)) return;
    same_ids(&t, "salt &amp; pepper", "salt & pepper");
    same_ids(&t, "A&amp;#39;s", "a's");          /* unescaped twice */
    same_ids(&t, "&#x41;&#66;C", "abc");         /* numeric references, then lower-case */
    same_ids(&t, "&lt;x&gt; &quot;y&quot;", "<x> \"y\"");
    same_ids(&t, "&amp;amp;", "&");
    same_ids(&t, "&bogus; x", "&bogus; x");
    same_ids(&t, "  a\t\r\n photo\xc2\xa0of  ", "a photo of");    /* Unicode whitespace collapses */
    same_ids(&t, "CAF\xc3\x89", "caf\xc3\xa9");                   /* Latin-1 lower-case */
    same_ids(&t, "don\xe2\x80\x99t", "don't");                    /* ftfy uncurls quotes */
    /* é is a letter: café is one pre-token, not "caf" + "é" */
    int32_t one[TOKENIZER_CONTEXT], two[TOKENIZER_CONTEXT];
    encode_ok(&t, "caf\xc3\xa9", one);
    encode_ok(&t, "caf \xc3\xa9", two);
    ck_assert(memcmp(one, two, sizeof one) != 0);
    ck_assert_int_eq(tokenizer_count(&t, "don't", NULL), 2);
    ck_assert_int_eq(tokenizer_count(&t, "!!!", NULL), tokenizer_count(&t, "!!! ", NULL));
    tokenizer_free(&t);
}
END_TEST

START_TEST(truncation)
{
    Tokenizer t = {0};
    if (!load_vocab(&t)) return;
    char text[1024] = "";
    int32_t ids[TOKENIZER_CONTEXT];
    for (int n = 74; n <= 77; n++) {
        text[0] = 0;
        for (int i = 0; i < n; i++) strcat(text, "a ");
        ck_assert_int_eq(tokenizer_count(&t, text, NULL), n);
        encode_ok(&t, text, ids);
        int eot = n <= 75 ? n + 1 : 76;
        for (int i = 1; i < eot; i++) ck_assert_int_eq(ids[i], 320);
        ck_assert_int_eq(ids[eot], TOKENIZER_EOT);
        for (int i = eot + 1; i < TOKENIZER_CONTEXT; i++) ck_assert_int_eq(ids[i], 0);
    }
    tokenizer_free(&t);
}
END_TEST

/* ---- Limits ---- */

START_TEST(bad_text)
{
    Tokenizer t = {0};
    if (!load_vocab(&t)) return;
    const char *invalid[] = {"a\xff", "\xc0\xaf", "ab\xe2\x82", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\x80x"};
    int32_t ids[TOKENIZER_CONTEXT];
    for (size_t i = 0; i < ARRAY_LEN(invalid); i++) {
        Error err = {0};
        ck_assert_int_eq(tokenizer_encode(&t, invalid[i], ids, &err), ERR_VALUE);
        ck_assert_msg(strstr(err.msg, "invalid UTF-8") != NULL, "%s", err.msg);
    }
    const char *special[] = {"a <|endoftext|> b", "<|StartOfText|>x", "x <start_of_text>", "&lt;|endoftext|&gt;"};
    for (size_t i = 0; i < ARRAY_LEN(special); i++) {
        Error err = {0};
        ck_assert_int_eq(tokenizer_encode(&t, special[i], ids, &err), ERR_VALUE);
        ck_assert_msg(strstr(err.msg, "special token") != NULL, "%s", err.msg);
    }
    ck_assert_int_gt(tokenizer_count(&t, "<|endoftext", NULL), 0); /* incomplete: ordinary text */
    tokenizer_free(&t);
}
END_TEST

START_TEST(bad_vocab)
{
    Tokenizer t = {0};
    Error err = {0};
    ck_assert_int_eq(tokenizer_load(&t, "/nonexistent/bpe.txt.gz", &err), ERR_IO);
    ck_assert(strstr(err.msg, "/nonexistent/bpe.txt.gz") != NULL);
    tokenizer_free(&t);

    char *dir = test_mkdtemp();
    char path[1200];
    /* gzip magic followed by garbage */
    snprintf(path, sizeof path, "%s/garbage.gz", dir);
    const unsigned char garbage[] = {0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0, 0x03, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5};
    ck_assert_int_eq(test_write_file(path, garbage, sizeof garbage), 0);
    err = (Error){0};
    ck_assert_int_ne(tokenizer_load(&t, path, &err), 0);
    ck_assert_msg(strstr(err.msg, path) != NULL, "%s", err.msg);
    tokenizer_free(&t);
    /* plain text that is not the merges file */
    snprintf(path, sizeof path, "%s/plain.txt", dir);
    ck_assert_int_eq(test_write_file(path, "hello\nworld\n", 12), 0);
    err = (Error){0};
    ck_assert_int_eq(tokenizer_load(&t, path, &err), ERR_FORMAT);
    ck_assert_msg(strstr(err.msg, "#version") != NULL && strstr(err.msg, path) != NULL, "%s", err.msg);
    tokenizer_free(&t);
    /* the real file cut short: truncated gzip stream */
    char real[1024];
    if (test_shared_path(real, sizeof real, "clip/bpe_simple_vocab_16e6.txt.gz")) {
        size_t len;
        char *data = test_read_file(real, &len);
        ck_assert_ptr_nonnull(data);
        snprintf(path, sizeof path, "%s/cut.gz", dir);
        ck_assert_int_eq(test_write_file(path, data, len / 3), 0);
        err = (Error){0};
        ck_assert_int_ne(tokenizer_load(&t, path, &err), 0);
        ck_assert_msg(strstr(err.msg, path) != NULL, "%s", err.msg);
        printf("truncated vocabulary: %s\n", err.msg);
        tokenizer_free(&t);
        free(data);
    }
    test_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(find_vocab_missing)
{
    char *old_vocab = getenv("WINCLIP_VOCAB") ? xstrdup(getenv("WINCLIP_VOCAB")) : NULL;
    char *old_shared = getenv("WINCLIP_SHARED") ? xstrdup(getenv("WINCLIP_SHARED")) : NULL;
    char *dir = test_mkdtemp();
    char cwd[1024];
    ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
    char sub[1200];
    snprintf(sub, sizeof sub, "%s/a", dir);
    ck_assert_int_eq(mkdir(sub, 0700), 0);
    ck_assert_int_eq(chdir(sub), 0); /* ../shared/clip does not exist from here */
    setenv("WINCLIP_VOCAB", "/nonexistent/v.gz", 1);
    setenv("WINCLIP_SHARED", "/nonexistent-shared", 1);
    char path[1024];
    Error err = {0};
    int rc = tokenizer_find_vocab(path, sizeof path, &err);
    ck_assert_int_eq(chdir(cwd), 0);
    if (old_vocab) setenv("WINCLIP_VOCAB", old_vocab, 1);
    else unsetenv("WINCLIP_VOCAB");
    if (old_shared) setenv("WINCLIP_SHARED", old_shared, 1);
    else unsetenv("WINCLIP_SHARED");
    ck_assert_int_eq(rc, ERR_MISSING);
    ck_assert(strstr(err.msg, "/nonexistent/v.gz") && strstr(err.msg, "datasets/weights/") &&
              strstr(err.msg, "/nonexistent-shared/clip/") && strstr(err.msg, "../shared/clip/") &&
              strstr(err.msg, "make weights"));
    test_rmtree(dir);
    free(dir);
    free(old_vocab);
    free(old_shared);
}
END_TEST

Suite *tokenizer_suite(void)
{
    Suite *s = suite_create("tokenizer");
    TCase *core = tcase_create("Core");
    tcase_set_timeout(core, 60);
    tcase_add_test(core, tokens_tsv);
    tcase_add_test(core, tiny_clip_prompts);
    tcase_add_test(core, spec_examples);
    tcase_add_test(core, cleaning);
    tcase_add_test(core, truncation);
    suite_add_tcase(s, core);
    TCase *limits = tcase_create("Limits");
    tcase_set_timeout(limits, 60);
    tcase_add_test(limits, bad_text);
    tcase_add_test(limits, bad_vocab);
    tcase_add_test(limits, find_vocab_missing);
    suite_add_tcase(s, limits);
    return s;
}
