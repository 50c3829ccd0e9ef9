/*
 * tokenizer_text.c - the text side of the CLIP tokenizer: UTF-8, the character classes of
 * Python's str methods, html.unescape and the cleaning before pre-tokenisation (see
 * tokenizer_text.h). Split from tokenizer.c, which keeps the vocabulary and the BPE.
 * Reference: shared/spec/clip.md §5; openai/CLIP clip/simple_tokenizer.py (basic_clean,
 * whitespace_clean), Python html.unescape, Python str.isspace / str.lower.
 */
#include "clip/tokenizer_text.h"

#include <stdlib.h>
#include <string.h>

#include "util/base.h"

void tokenizer_cp_push(TokenizerCodepoints *b, uint32_t c)
{
    if (b->n == b->cap) {
        b->cap = b->cap ? 2 * b->cap : 64;
        b->v = xrealloc(b->v, b->cap * sizeof *b->v);
    }
    b->v[b->n++] = c;
}

/* ---- UTF-8 ---- */

size_t tokenizer_utf8_put(char *out, uint32_t c)
{
    if (c < 0x80) {
        out[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        out[0] = (char)(0xC0 | (c >> 6));
        out[1] = (char)(0x80 | (c & 0x3F));
        return 2;
    }
    if (c < 0x10000) {
        out[0] = (char)(0xE0 | (c >> 12));
        out[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        out[2] = (char)(0x80 | (c & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (c >> 18));
    out[1] = (char)(0x80 | ((c >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((c >> 6) & 0x3F));
    out[3] = (char)(0x80 | (c & 0x3F));
    return 4;
}

/* Strict decoder (no overlongs, no surrogates, <= U+10FFFF). Returns the byte offset of the
 * first invalid sequence, or -1 when all of s is valid. */
long tokenizer_utf8_decode(const char *s, TokenizerCodepoints *out)
{
    const uint8_t *p = (const uint8_t *)s;
    size_t i = 0;
    while (p[i]) {
        uint32_t c = p[i];
        int extra;
        uint32_t min;
        if (c < 0x80) {
            tokenizer_cp_push(out, c);
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            extra = 1, min = 0x80, c &= 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            extra = 2, min = 0x800, c &= 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            extra = 3, min = 0x10000, c &= 0x07;
        } else {
            return (long)i;
        }
        for (int k = 1; k <= extra; k++) {
            if ((p[i + k] & 0xC0) != 0x80) return (long)i;
            c = (c << 6) | (p[i + k] & 0x3F);
        }
        if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return (long)i;
        tokenizer_cp_push(out, c);
        i += (size_t)extra + 1;
    }
    return -1;
}

/* ---- character classes (tokenizer.h documents the coverage) ---- */

/* Python str.isspace(). */
int tokenizer_is_space(uint32_t c)
{
    return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F ||
           c == 0x3000;
}

int tokenizer_is_number(uint32_t c)
{
    return (c >= '0' && c <= '9') || c == 0xB2 || c == 0xB3 || c == 0xB9 || (c >= 0xBC && c <= 0xBE);
}

int tokenizer_is_letter(uint32_t c)
{
    if (c < 0x80) return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (c < 0x100) return c == 0xAA || c == 0xB5 || c == 0xBA || (c >= 0xC0 && c != 0xD7 && c != 0xF7);
    return !tokenizer_is_space(c);
}

/* Python str.lower() on the covered blocks; writes 1 or 2 code points. */
static void lower_push(TokenizerCodepoints *out, uint32_t c)
{
    uint32_t l = c;
    if (c >= 'A' && c <= 'Z') {
        l = c + 32;
    } else if (c >= 0xC0 && c <= 0xDE && c != 0xD7) {
        l = c + 32;
    } else if (c >= 0x100 && c <= 0x17F) {
        if (c == 0x130) {
            tokenizer_cp_push(out, 'i');
            tokenizer_cp_push(out, 0x307);
            return;
        }
        if (c == 0x178) {
            l = 0xFF;
        } else if ((c <= 0x137 || (c >= 0x14A && c <= 0x177)) && c % 2 == 0) {
            l = c + 1;
        } else if (((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E)) && c % 2 == 1) {
            l = c + 1;
        }
    } else if ((c >= 0x391 && c <= 0x3A9 && c != 0x3A2) || (c >= 0x410 && c <= 0x42F)) {
        l = c + 32;
    } else if (c >= 0x400 && c <= 0x40F) {
        l = c + 80;
    }
    tokenizer_cp_push(out, l);
}

/* ---- html.unescape ---- */

/* Python html._invalid_charrefs for 0x80..0x9F (Windows-1252); 0 = keep the code point. */
static const uint16_t CP1252[32] = {0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
                                    0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0,      0x017D, 0,
                                    0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
                                    0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178};

/* Python html._replace_charref for a numeric reference: pushes 0 or 1 code points. */
static void charref_push(TokenizerCodepoints *out, uint64_t num)
{
    if (num == 0) {
        tokenizer_cp_push(out, 0xFFFD);
    } else if (num == 0x0D) {
        tokenizer_cp_push(out, 0x0D);
    } else if (num >= 0x80 && num <= 0x9F) {
        tokenizer_cp_push(out, CP1252[num - 0x80] ? CP1252[num - 0x80] : (uint32_t)num);
    } else if ((num >= 0xD800 && num <= 0xDFFF) || num > 0x10FFFF) {
        tokenizer_cp_push(out, 0xFFFD);
    } else if ((num >= 0x1 && num <= 0x8) || num == 0xB || (num >= 0xE && num <= 0x1F) ||
               (num >= 0x7F && num <= 0x9F) || (num >= 0xFDD0 && num <= 0xFDEF) || (num & 0xFFFE) == 0xFFFE) {
        /* Python drops these invalid code points */
    } else {
        tokenizer_cp_push(out, (uint32_t)num);
    }
}

static int hex_val(uint32_t c)
{
    if (c >= '0' && c <= '9') return (int)(c - '0');
    if (c >= 'a' && c <= 'f') return (int)(c - 'a' + 10);
    if (c >= 'A' && c <= 'F') return (int)(c - 'A' + 10);
    return -1;
}

/* Does in[i..] start with the ASCII string s? */
int tokenizer_cp_starts(const TokenizerCodepoints *in, size_t i, const char *s)
{
    size_t n = strlen(s);
    if (i + n > in->n) return 0;
    for (size_t k = 0; k < n; k++)
        if (in->v[i + k] != (uint8_t)s[k]) return 0;
    return 1;
}

/* One html.unescape pass over in, appended to out. Returns nothing; unknown references stay. */
static void html_unescape(const TokenizerCodepoints *in, TokenizerCodepoints *out)
{
    static const struct {
        const char *name; /* after '&', including ';' when required */
        uint32_t cp;
    } NAMED[] = {{"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"quot", '"'}, {"nbsp", 0xA0}, {"apos;", '\''}};
    size_t i = 0;
    while (i < in->n) {
        if (in->v[i] != '&') {
            tokenizer_cp_push(out, in->v[i++]);
            continue;
        }
        size_t j = i + 1;
        if (j < in->n && in->v[j] == '#') {
            j++;
            int hex = j < in->n && (in->v[j] == 'x' || in->v[j] == 'X');
            if (hex) j++;
            size_t start = j;
            uint64_t num = 0;
            while (j < in->n && (hex ? hex_val(in->v[j]) >= 0 : (in->v[j] >= '0' && in->v[j] <= '9'))) {
                num = num * (hex ? 16 : 10) + (uint64_t)(hex ? hex_val(in->v[j]) : (int)(in->v[j] - '0'));
                if (num > 0x110000) num = 0x110000; /* saturate: Python maps any > 0x10FFFF to U+FFFD */
                j++;
            }
            if (j == start) { /* "&#" or "&#x" without digits: literal */
                tokenizer_cp_push(out, in->v[i++]);
                continue;
            }
            if (j < in->n && in->v[j] == ';') j++;
            charref_push(out, num);
            i = j;
            continue;
        }
        int done = 0;
        for (size_t k = 0; k < ARRAY_LEN(NAMED) && !done; k++) {
            if (!tokenizer_cp_starts(in, j, NAMED[k].name)) continue;
            size_t end = j + strlen(NAMED[k].name);
            if (end < in->n && in->v[end] == ';') end++;
            tokenizer_cp_push(out, NAMED[k].cp);
            i = end;
            done = 1;
        }
        if (!done) tokenizer_cp_push(out, in->v[i++]);
    }
}

/* ---- cleaning: ftfy quotes, unescape twice, strip, collapse whitespace, lower ---- */

void tokenizer_clean_text(const TokenizerCodepoints *raw, TokenizerCodepoints *out)
{
    TokenizerCodepoints a = {0}, b = {0};
    for (size_t i = 0; i < raw->n; i++) {
        uint32_t c = raw->v[i];
        if (c == 0x2BC || (c >= 0x2018 && c <= 0x201B)) c = '\'';
        else if (c >= 0x201C && c <= 0x201F) c = '"';
        tokenizer_cp_push(&a, c);
    }
    html_unescape(&a, &b);
    a.n = 0;
    html_unescape(&b, &a);
    int pending_space = 0;
    for (size_t i = 0; i < a.n; i++) {
        if (tokenizer_is_space(a.v[i])) {
            pending_space = out->n > 0;
            continue;
        }
        if (pending_space) tokenizer_cp_push(out, ' ');
        pending_space = 0;
        lower_push(out, a.v[i]);
    }
    free(a.v);
    free(b.v);
}
