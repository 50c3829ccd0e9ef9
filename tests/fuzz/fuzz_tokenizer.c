/* fuzz_tokenizer.c - libFuzzer harness: the BPE tokenizer. With $WINCLIP_VOCAB (the real
 * bpe_simple_vocab_16e6.txt.gz) each input is a prompt text for tokenizer_encode; without it each
 * input is a vocabulary file for tokenizer_load. Reference: src/clip/tokenizer.h. */
#include "fuzz_util.h"

#include "clip/tokenizer.h"

static Tokenizer vocab_tok;
static int have_vocab;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *v = getenv("WINCLIP_VOCAB");
    Error err = {0};
    have_vocab = v && v[0] && tokenizer_load(&vocab_tok, v, &err) == 0;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Error err = {0};
    if (have_vocab) {
        char *text = fuzz_text(data, size);
        int32_t ids[TOKENIZER_CONTEXT];
        if (tokenizer_encode(&vocab_tok, text, ids, &err) == 0 &&
            (ids[0] != TOKENIZER_SOT || ids[TOKENIZER_CONTEXT - 1] < 0))
            abort();
        free(text);
        return 0;
    }
    Tokenizer t;
    memset(&t, 0, sizeof t);
    (void)tokenizer_load(&t, fuzz_temp_file(data, size, ".txt.gz"), &err);
    tokenizer_free(&t); /* safe after a failed load too */
    return 0;
}
