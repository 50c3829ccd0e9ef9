/*
 * tokenizer.h - the CLIP byte-level BPE tokenizer (OpenAI CLIP / open_clip SimpleTokenizer).
 *
 * Does: load bpe_simple_vocab_16e6.txt.gz (zlib), clean a UTF-8 prompt (HTML unescape twice,
 * whitespace collapse, lower-case), pre-tokenise it with the CLIP pattern written by hand,
 * merge every pre-token by BPE rank, and frame the ids as SOT ... EOT zero-padded to 77.
 * Does not: decode ids back to text, or run the text tower (clip_text.c).
 * Reference: shared/spec/clip.md §5; openai/CLIP clip/simple_tokenizer.py, open_clip tokenizer.py.
 *
 *     Tokenizer tok = {0};
 *     char vocab[1024];
 *     if (tokenizer_find_vocab(vocab, sizeof vocab, &err) || tokenizer_load(&tok, vocab, &err)) goto fail;
 *     int32_t ids[TOKENIZER_CONTEXT];
 *     if (tokenizer_encode(&tok, "a photo of a bottle.", ids, &err)) goto fail;  // 49406 320 1125 ...
 *     tokenizer_free(&tok);
 *
 * Text handling, exact for ASCII (every WinCLIP prompt), documented approximations beyond it:
 * - ftfy.fix_text is not reproduced; only its quote uncurling (U+02BC, U+2018..U+201B -> ',
 *   U+201C..U+201F -> ") is applied. Mojibake repair, ligature expansion, width folding and NFC
 *   normalisation are not done.
 * - html.unescape: numeric references (&#NN; &#xNN;, semicolon optional, with Python's
 *   replacements for 0, CR, 0x80..0x9F (cp1252), surrogates, out of range and invalid code
 *   points) and the named references &amp &lt &gt &quot &nbsp (semicolon optional) and &apos;
 *   Other named references are left as text.
 * - Whitespace = Python str.isspace(). Lower-case: ASCII, Latin-1, Latin Extended-A, Greek and
 *   Cyrillic basic blocks (U+0130 -> "i" U+0307 as Python); other code points are unchanged.
 * - Letters (\p{L}): ASCII and Latin-1 letters exactly; every code point >= U+0100 outside
 *   Python's whitespace counts as a letter (so CJK and accented words stay one pre-token, but
 *   e.g. U+2026 '...' glues to adjacent letters, where Python would split it off).
 *   Numbers (\p{N}): 0-9 and Latin-1 superscripts/fractions.
 * - Rejected (error, nothing written): invalid UTF-8 (overlong, surrogates, > U+10FFFF,
 *   truncated), and the special-token strings <|startoftext|> <|endoftext|> (OpenAI) and
 *   <start_of_text> <end_of_text> (open_clip) anywhere in the cleaned, lower-cased text,
 *   because the two references tokenise them differently.
 */
#ifndef WINCLIP_TOKENIZER_H
#define WINCLIP_TOKENIZER_H

#include "util/base.h"

#include <stddef.h>
#include <stdint.h>

#define TOKENIZER_CONTEXT 77      /* ids per prompt                                */
#define TOKENIZER_SOT 49406       /* <|startoftext|>                               */
#define TOKENIZER_EOT 49407       /* <|endoftext|>                                 */
#define TOKENIZER_VOCAB 49408     /* 256 bytes + 256 bytes</w> + 48894 merges + 2  */
#define TOKENIZER_MERGES 48894    /* lines 1..48894 of the vocabulary file         */

/* Open-addressing hash table: merges (pair of ids -> rank). */
typedef struct {
    uint64_t *keys; /* (cap) (left id << 32 | right id) + 1; 0 = empty slot */
    int32_t *vals;  /* (cap) merge rank                                     */
    size_t cap;     /* power of two                                          */
} TokPairMap;

/* Cache of encoded pre-tokens: UTF-8 string -> BPE ids. Grows; cleared when it passes
 * TOKENIZER_CACHE_MAX entries so memory stays bounded for long inputs. */
typedef struct {
    char **keys;     /* (cap) xmalloc'ed NUL-terminated pre-token or NULL */
    int32_t **ids;   /* (cap) xmalloc'ed ids, ids[i][0] = count          */
    size_t cap, count;
} TokCache;
#define TOKENIZER_CACHE_MAX 65536

typedef struct {
    int32_t byte_id[256];  /* id of the byte symbol of each byte (bytes_to_unicode order); +256 = with </w> */
    TokPairMap ranks;      /* (left id, right id) -> merge rank; merged id = 512 + rank */
    TokCache cache;
    int loaded;
} Tokenizer;

/* Read the gzip vocabulary at vocab_gz_path and build the merge table. t must be zeroed or
 * freed. Returns 0, or ERR_IO (cannot open / corrupt gzip) / ERR_FORMAT (not the CLIP merges
 * file: bad header, too few merges, unknown symbol), with the path in err. Takes ~0.1 s. */
int tokenizer_load(Tokenizer *t, const char *vocab_gz_path, Error *err);

/* ids (TOKENIZER_CONTEXT) = [SOT] + BPE ids of text + [EOT], zero-padded; if longer, the first
 * 77 are kept and ids[76] = EOT. text: NUL-terminated UTF-8. Updates the cache in t (not
 * thread-safe on one Tokenizer). Returns 0, or ERR_VALUE (invalid UTF-8, special token; ids
 * untouched) with the byte offset or the token named in err. */
int tokenizer_encode(Tokenizer *t, const char *text, int32_t ids[TOKENIZER_CONTEXT], Error *err);

/* Number of BPE ids (without SOT/EOT, before truncation) of text; -1 on error. */
int tokenizer_count(Tokenizer *t, const char *text, Error *err);

/* Rank of the merge (left id, right id), or -1 when the pair is not a merge; the merged symbol
 * has id 512 + rank. For tests and diagnostics. */
int32_t tokenizer_pair_rank(const Tokenizer *t, int32_t left, int32_t right);

/* Free everything; safe on a zeroed struct; leaves it zeroed. */
void tokenizer_free(Tokenizer *t);

/* Find bpe_simple_vocab_16e6.txt.gz: $WINCLIP_VOCAB, then datasets/weights/<file> (relative
 * to the working directory), then $WINCLIP_SHARED/clip/<file>, then ../shared/clip/<file>.
 * Writes the first existing one into path (cap bytes). ERR_MISSING lists every place tried and
 * says that `make weights` downloads the file. */
int tokenizer_find_vocab(char *path, size_t cap, Error *err);

#endif
