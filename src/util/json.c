/*
 * json.c - recursive-descent JSON parser (RFC 8259) with exact int64 integers.
 *
 * Reference: RFC 8259. Strings are decoded to UTF-8 (\uXXXX surrogate pairs combined).
 */
#include "util/json.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *s;
    size_t n, i;
    Error *err;
    int depth;
} Parser;

static int fail(Parser *p, const char *what)
{
    return err_setf(p->err, ERR_FORMAT, "JSON: %s at byte %zu", what, p->i);
}

static void skip_ws(Parser *p)
{
    while (p->i < p->n && (p->s[p->i] == ' ' || p->s[p->i] == '\t' || p->s[p->i] == '\n' || p->s[p->i] == '\r')) p->i++;
}

static int parse_value(Parser *p, JsonValue *v);

static int hex4(Parser *p, unsigned *out)
{
    if (p->i + 4 > p->n) return fail(p, "truncated \\u escape");
    unsigned v = 0;
    for (int k = 0; k < 4; k++) {
        char c = p->s[p->i++];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
        else return fail(p, "bad hex digit in \\u escape");
    }
    *out = v;
    return 0;
}

static size_t put_utf8(char *dst, unsigned cp)
{
    if (cp < 0x80) { dst[0] = (char)cp; return 1; }
    if (cp < 0x800) { dst[0] = (char)(0xC0 | (cp >> 6)); dst[1] = (char)(0x80 | (cp & 0x3F)); return 2; }
    if (cp < 0x10000) {
        dst[0] = (char)(0xE0 | (cp >> 12)); dst[1] = (char)(0x80 | ((cp >> 6) & 0x3F)); dst[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    dst[0] = (char)(0xF0 | (cp >> 18)); dst[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    dst[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); dst[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Parses a string starting at the opening quote; *out xmalloc'ed. */
static int parse_string(Parser *p, char **out, size_t *outlen)
{
    p->i++; /* opening quote */
    size_t cap = 16, len = 0;
    char *buf = xmalloc(cap);
    for (;;) {
        if (p->i >= p->n) { free(buf); return fail(p, "unterminated string"); }
        if (len + 8 > cap) { cap *= 2; buf = xrealloc(buf, cap); }
        unsigned char c = (unsigned char)p->s[p->i++];
        if (c == '"') break;
        if (c < 0x20) { free(buf); return fail(p, "control character in string"); }
        if (c != '\\') { buf[len++] = (char)c; continue; }
        if (p->i >= p->n) { free(buf); return fail(p, "unterminated escape"); }
        char e = p->s[p->i++];
        switch (e) {
        case '"': buf[len++] = '"'; break;
        case '\\': buf[len++] = '\\'; break;
        case '/': buf[len++] = '/'; break;
        case 'b': buf[len++] = '\b'; break;
        case 'f': buf[len++] = '\f'; break;
        case 'n': buf[len++] = '\n'; break;
        case 'r': buf[len++] = '\r'; break;
        case 't': buf[len++] = '\t'; break;
        case 'u': {
            unsigned cp;
            if (hex4(p, &cp)) { free(buf); return p->err ? p->err->code : ERR_FORMAT; }
            if (cp >= 0xD800 && cp < 0xDC00) {
                unsigned lo;
                if (p->i + 2 > p->n || p->s[p->i] != '\\' || p->s[p->i + 1] != 'u') { free(buf); return fail(p, "lone high surrogate"); }
                p->i += 2;
                if (hex4(p, &lo)) { free(buf); return p->err ? p->err->code : ERR_FORMAT; }
                if (lo < 0xDC00 || lo > 0xDFFF) { free(buf); return fail(p, "bad low surrogate"); }
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else if (cp >= 0xDC00 && cp < 0xE000) {
                free(buf);
                return fail(p, "lone low surrogate");
            }
            len += put_utf8(buf + len, cp);
            break;
        }
        default: free(buf); return fail(p, "bad escape in string");
        }
    }
    buf[len] = 0;
    *out = buf;
    if (outlen) *outlen = len;
    return 0;
}

static int parse_number(Parser *p, JsonValue *v)
{
    size_t start = p->i;
    int integral = 1;
    if (p->i < p->n && p->s[p->i] == '-') p->i++;
    if (p->i >= p->n || !(p->s[p->i] >= '0' && p->s[p->i] <= '9')) return fail(p, "expected a digit");
    if (p->s[p->i] == '0') p->i++;
    else while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9') p->i++;
    if (p->i < p->n && p->s[p->i] == '.') {
        integral = 0;
        p->i++;
        if (p->i >= p->n || !(p->s[p->i] >= '0' && p->s[p->i] <= '9')) return fail(p, "expected a digit after '.'");
        while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9') p->i++;
    }
    if (p->i < p->n && (p->s[p->i] == 'e' || p->s[p->i] == 'E')) {
        integral = 0;
        p->i++;
        if (p->i < p->n && (p->s[p->i] == '+' || p->s[p->i] == '-')) p->i++;
        if (p->i >= p->n || !(p->s[p->i] >= '0' && p->s[p->i] <= '9')) return fail(p, "expected exponent digits");
        while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9') p->i++;
    }
    size_t len = p->i - start;
    char tmp[64];
    if (len >= sizeof tmp) return fail(p, "number too long");
    memcpy(tmp, p->s + start, len);
    tmp[len] = 0;
    v->type = JSON_NUMBER;
    v->number = strtod(tmp, NULL);
    if (integral) {
        errno = 0;
        long long ll = strtoll(tmp, NULL, 10);
        if (errno == 0) { v->is_integer = 1; v->integer = ll; }
    }
    return 0;
}

static int parse_container(Parser *p, JsonValue *v, int object)
{
    if (++p->depth > 64) return fail(p, "nesting deeper than 64 levels");
    p->i++; /* [ or { */
    v->type = object ? JSON_OBJECT : JSON_ARRAY;
    size_t cap = 0;
    skip_ws(p);
    if (p->i < p->n && p->s[p->i] == (object ? '}' : ']')) { p->i++; p->depth--; return 0; }
    for (;;) {
        if (v->count == cap) {
            cap = cap ? cap * 2 : 8;
            v->items = xrealloc(v->items, cap * sizeof *v->items);
            if (object) v->keys = xrealloc(v->keys, cap * sizeof *v->keys);
        }
        JsonValue *item = &v->items[v->count];
        memset(item, 0, sizeof *item);
        skip_ws(p);
        if (object) {
            if (p->i >= p->n || p->s[p->i] != '"') return fail(p, "expected a string key");
            char *key;
            if (parse_string(p, &key, NULL)) return p->err ? p->err->code : ERR_FORMAT;
            v->keys[v->count] = key;
            skip_ws(p);
            if (p->i >= p->n || p->s[p->i] != ':') { v->count++; return fail(p, "expected ':'"); }
            p->i++;
        }
        v->count++;
        int rc = parse_value(p, item);
        if (rc) return rc;
        skip_ws(p);
        if (p->i >= p->n) return fail(p, object ? "unterminated object" : "unterminated array");
        char c = p->s[p->i++];
        if (c == ',') continue;
        if (c == (object ? '}' : ']')) break;
        p->i--;
        return fail(p, object ? "expected ',' or '}'" : "expected ',' or ']'");
    }
    p->depth--;
    return 0;
}

static int parse_literal(Parser *p, const char *lit)
{
    size_t len = strlen(lit);
    if (p->i + len > p->n || memcmp(p->s + p->i, lit, len) != 0) return fail(p, "unexpected token");
    p->i += len;
    return 0;
}

static int parse_value(Parser *p, JsonValue *v)
{
    skip_ws(p);
    if (p->i >= p->n) return fail(p, "unexpected end of input");
    char c = p->s[p->i];
    switch (c) {
    case '{': return parse_container(p, v, 1);
    case '[': return parse_container(p, v, 0);
    case '"': v->type = JSON_STRING; return parse_string(p, &v->string, &v->length);
    case 't': v->type = JSON_BOOL; v->boolean = 1; return parse_literal(p, "true");
    case 'f': v->type = JSON_BOOL; v->boolean = 0; return parse_literal(p, "false");
    case 'n': v->type = JSON_NULL; return parse_literal(p, "null");
    default:
        if (c == '-' || (c >= '0' && c <= '9')) return parse_number(p, v);
        return fail(p, "unexpected character");
    }
}

int json_parse(JsonValue *out, const char *text, size_t len, Error *err)
{
    memset(out, 0, sizeof *out);
    Parser p = {text, len, 0, err, 0};
    int rc = parse_value(&p, out);
    if (!rc) {
        skip_ws(&p);
        if (p.i != p.n) rc = fail(&p, "trailing characters after the JSON value");
    }
    if (rc) json_free(out);
    return rc;
}

void json_free(JsonValue *v)
{
    if (!v) return;
    free(v->string);
    for (size_t i = 0; i < v->count; i++) {
        json_free(&v->items[i]);
        if (v->keys) free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    memset(v, 0, sizeof *v);
}

const JsonValue *json_get(const JsonValue *obj, const char *key)
{
    if (!obj || obj->type != JSON_OBJECT) return NULL;
    for (size_t i = 0; i < obj->count; i++)
        if (strcmp(obj->keys[i], key) == 0) return &obj->items[i];
    return NULL;
}

const JsonValue *json_path(const JsonValue *root, const char *dotted)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", dotted);
    const JsonValue *v = root;
    for (char *tok = buf, *dot; v && tok; tok = dot ? dot + 1 : NULL) {
        dot = strchr(tok, '.');
        if (dot) *dot = 0;
        v = json_get(v, tok);
    }
    return v;
}

int json_as_int(const JsonValue *v, int64_t *out)
{
    if (!v || v->type != JSON_NUMBER) return 0;
    if (v->is_integer) { *out = v->integer; return 1; }
    if (isfinite(v->number) && v->number == floor(v->number) && fabs(v->number) < 9.0e15) {
        *out = (int64_t)v->number;
        return 1;
    }
    return 0;
}

int json_as_double(const JsonValue *v, double *out)
{
    if (!v || v->type != JSON_NUMBER) return 0;
    *out = v->number;
    return 1;
}

void json_write_string(FILE *fp, const char *s)
{
    fputc('"', fp);
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        switch (*c) {
        case '"': fputs("\\\"", fp); break;
        case '\\': fputs("\\\\", fp); break;
        case '\n': fputs("\\n", fp); break;
        case '\r': fputs("\\r", fp); break;
        case '\t': fputs("\\t", fp); break;
        default:
            if (*c < 0x20) fprintf(fp, "\\u%04x", *c);
            else fputc(*c, fp);
        }
    }
    fputc('"', fp);
}
