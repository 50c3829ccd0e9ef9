/*
 * json.h - a small, strict JSON reader (DOM) and a string escaper for writers.
 *
 * Does: parse RFC 8259 JSON text into a tree of JsonValue (objects keep key order; integers
 * that fit int64 are kept exactly), look up object members, escape strings for output.
 * Does not: stream, or accept comments, trailing commas, NaN literals.
 * Used by: safetensors headers, the model `config` attribute, results JSON.
 *
 *     JsonValue root = {0};
 *     if (json_parse(&root, text, strlen(text), &err)) return err.code;
 *     const JsonValue *w = json_path(&root, "vision_cfg.width");
 *     int64_t width; if (!json_as_int(w, &width)) ...
 *     json_free(&root);
 */
#ifndef WINCLIP_JSON_H
#define WINCLIP_JSON_H

#include "util/base.h"

#include <stdint.h>
#include <stdio.h>

typedef enum { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT } JsonType;

typedef struct JsonValue {
    JsonType type;
    int boolean;              /* JSON_BOOL */
    double number;            /* JSON_NUMBER */
    int is_integer;           /* JSON_NUMBER written without fraction/exponent and fits int64 */
    int64_t integer;          /* exact value when is_integer */
    char *string;             /* JSON_STRING (UTF-8, NUL-terminated; may contain \0 escapes) */
    size_t length;            /* JSON_STRING byte length */
    struct JsonValue *items;  /* JSON_ARRAY elements / JSON_OBJECT values, `count` of them */
    char **keys;              /* JSON_OBJECT keys, parallel to items */
    size_t count;
} JsonValue;

/* Parse text[0..len). On error, err names the byte offset and what was expected. *out must be
 * zeroed or freed; on failure it is left empty. Nesting deeper than 64 levels is rejected. */
int json_parse(JsonValue *out, const char *text, size_t len, Error *err);
/* Free the tree (safe on a zeroed value). */
void json_free(JsonValue *v);

/* Member of an object by key (first match), or NULL (also when obj is not an object). */
const JsonValue *json_get(const JsonValue *obj, const char *key);
/* Dotted path lookup: "vision_cfg.width". */
const JsonValue *json_path(const JsonValue *root, const char *dotted);
/* Integer value (exact) of a JSON_NUMBER that is integral; returns 1 on success. */
int json_as_int(const JsonValue *v, int64_t *out);
/* 1 if v is JSON_NUMBER; stores its double value. */
int json_as_double(const JsonValue *v, double *out);

/* Write s as a quoted JSON string to fp. */
void json_write_string(FILE *fp, const char *s);

#endif
