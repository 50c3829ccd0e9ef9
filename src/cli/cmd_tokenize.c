/*
 * cmd_tokenize.c - `winclip tokenize`: print the 77 CLIP token ids of each text.
 *
 * Does: argument / stdin handling and output formatting around tokenizer.c.
 * Does not: tokenise itself (tokenizer.c).
 */
#define _POSIX_C_SOURCE 200809L
#include "cli/cli.h"
#include "clip/tokenizer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const Command cmd_tokenize;

static void print_ids(const int32_t ids[TOKENIZER_CONTEXT])
{
    for (int i = 0; i < TOKENIZER_CONTEXT; i++) printf(i ? " %d" : "%d", (int)ids[i]);
    putchar('\n');
}

/* Tokenise one text and print it; returns 0 or 1 (message on stderr). */
static int tokenize_one(Tokenizer *tok, const char *text, const char *where)
{
    Error err = {0};
    int32_t ids[TOKENIZER_CONTEXT];
    if (tokenizer_encode(tok, text, ids, &err)) {
        fprintf(stderr, "winclip tokenize: %s: %s; skipped\n", where, err.msg);
        return 1;
    }
    print_ids(ids);
    return 0;
}

static int run(int argc, char **argv)
{
    const char *vocab = NULL;
    int first = argc;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--vocab") == 0) {
            if (i + 1 >= argc) return cli_usage_error(&cmd_tokenize, "--vocab needs a PATH");
            vocab = argv[++i];
        } else if (strcmp(argv[i], "--") == 0) {
            first = i + 1;
            break;
        } else if (argv[i][0] == '-' && argv[i][1] != 0) {
            return cli_usage_error(&cmd_tokenize, "unknown option '%s'", argv[i]);
        } else {
            first = i;
            break;
        }
    }
    if (first >= argc) return cli_usage_error(&cmd_tokenize, "no TEXT given (use '-' to read lines from stdin)");

    Error err = {0};
    char found[1024];
    if (!vocab) {
        if (tokenizer_find_vocab(found, sizeof found, &err)) {
            fprintf(stderr, "winclip tokenize: %s\n", err.msg);
            return 1;
        }
        vocab = found;
    }
    Tokenizer tok = {0};
    if (tokenizer_load(&tok, vocab, &err)) {
        fprintf(stderr, "winclip tokenize: %s\n", err.msg);
        return 1;
    }
    int rc = 0;
    long n_texts = 0, n_bad = 0;
    if (first == argc - 1 && strcmp(argv[first], "-") == 0) {
        char *line = NULL;
        size_t cap = 0;
        long lineno = 0;
        ssize_t n;
        while ((n = getline(&line, &cap, stdin)) >= 0) {
            lineno++;
            while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = 0;
            n_texts++;
            if ((size_t)n != strlen(line)) {
                fprintf(stderr, "winclip tokenize: stdin line %ld: contains a NUL byte; skipped\n", lineno);
                n_bad++;
                continue;
            }
            char where[64];
            snprintf(where, sizeof where, "stdin line %ld", lineno);
            n_bad += tokenize_one(&tok, line, where);
        }
        free(line);
    } else {
        for (int i = first; i < argc; i++) {
            char where[64];
            snprintf(where, sizeof where, "argument %d", i - first + 1);
            n_texts++;
            n_bad += tokenize_one(&tok, argv[i], where);
        }
    }
    if (n_bad) {
        fprintf(stderr, "winclip tokenize: %ld of %ld texts skipped (see above)\n", n_bad, n_texts);
        rc = 1;
    }
    tokenizer_free(&tok);
    return rc;
}

const Command cmd_tokenize = {
    "tokenize", "print the 77 CLIP BPE token ids of each text",
    "usage: winclip tokenize [--vocab PATH] TEXT...\n"
    "       winclip tokenize [--vocab PATH] -\n\n"
    "Tokenises each TEXT exactly as open_clip.tokenize / clip.tokenize(truncate=True) do and prints\n"
    "one line per text: 77 space-separated ids (49406 = start, 49407 = end, 0 = padding; a text\n"
    "longer than 75 BPE tokens is cut and ends with 49407). With '-', reads one text per line from\n"
    "stdin (a trailing \\r\\n or \\n is stripped).\n\n"
    "options:\n"
    "  --vocab PATH   bpe_simple_vocab_16e6.txt.gz to use. Default: $WINCLIP_VOCAB, then\n"
    "                 datasets/weights/bpe_simple_vocab_16e6.txt.gz, then\n"
    "                 $WINCLIP_SHARED/clip/..., then ../shared/clip/... (`make weights` downloads it)\n\n"
    "A bad text (invalid UTF-8, a NUL byte, or a special-token string such as <|endoftext|> inside\n"
    "it) is skipped: nothing is printed for it, a message naming its line or argument goes to\n"
    "stderr, the other texts are still printed, and the exit status is 1.\n\n"
    "examples:\n"
    "  winclip tokenize \"a photo of a bottle.\"\n"
    "      49406 320 1125 539 320 5392 269 49407 0 0 ...\n"
    "  printf 'a photo of a bottle.\\nDon'\\''t PANIC!!\\n' | winclip tokenize -\n",
    run};
