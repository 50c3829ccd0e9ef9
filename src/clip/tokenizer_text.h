/*
 * tokenizer_text.h - the text side of the CLIP tokenizer (internal to clip/tokenizer.c):
 * code-point buffers, UTF-8, Python's character classes, the cleaning of raw text.
 * Reference: shared/spec/clip.md §5 (tokenizer.h documents the coverage).
 */
#ifndef WINCLIP_TOKENIZER_TEXT_H
#define WINCLIP_TOKENIZER_TEXT_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint32_t *v;
    size_t n, cap;
} TokenizerCodepoints; /* code points, growable; free(v) */

void tokenizer_cp_push(TokenizerCodepoints *b, uint32_t c);
/* Write c as UTF-8 to out (room for 4 bytes); returns the bytes written. */
size_t tokenizer_utf8_put(char *out, uint32_t c);
/* Append the code points of NUL-terminated UTF-8 s to out; returns the byte offset of the first
 * invalid sequence, or -1 when s is valid. */
long tokenizer_utf8_decode(const char *s, TokenizerCodepoints *out);
/* Python str.isspace / str.isnumeric / str.isalpha for one code point (the coverage of
 * tokenizer.h). */
int tokenizer_is_space(uint32_t c);
int tokenizer_is_number(uint32_t c);
int tokenizer_is_letter(uint32_t c);
/* 1 when the code points of in from i start with ASCII string s. */
int tokenizer_cp_starts(const TokenizerCodepoints *in, size_t i, const char *s);
/* simple_tokenizer cleaning: ftfy quotes, html.unescape twice, strip, collapse whitespace, lower. */
void tokenizer_clean_text(const TokenizerCodepoints *raw, TokenizerCodepoints *out);

#endif
