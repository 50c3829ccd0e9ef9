/*
 * check_json.c - tests for json.c (RFC 8259 parser): values, escapes and surrogate pairs,
 * exact 64-bit integers, dotted paths; malformed input and the nesting limit.
 */
#include <check.h>
#include <stdint.h>
#include <string.h>

#include "util/base.h"
#include "util/json.h"
#include "check_suites.h"
#include "test_util.h"

START_TEST(json_values)
{
    const char *t = "{\"a\": [1, -2.5e1, true, null], \"s\": \"x\\u00e9\\n\\ud83d\\ude00\", \"big\": 9007199254740993,"
                    " \"o\": {\"w\": 64}}";
    JsonValue v = {0};
    Error err = {0};
    ck_assert_int_eq(json_parse(&v, t, strlen(t), &err), 0);
    const JsonValue *a = json_get(&v, "a");
    ck_assert_ptr_nonnull(a);
    ck_assert_int_eq((int)a->count, 4);
    ck_assert(a->items[1].number == -25.0);
    ck_assert_int_eq(a->items[2].boolean, 1);
    ck_assert_int_eq(a->items[3].type, JSON_NULL);
    ck_assert_str_eq(json_get(&v, "s")->string, "x\xc3\xa9\n\xf0\x9f\x98\x80");
    int64_t big;
    ck_assert(json_as_int(json_get(&v, "big"), &big));
    ck_assert(big == 9007199254740993LL);
    int64_t w;
    ck_assert(json_as_int(json_path(&v, "o.w"), &w) && w == 64);
    ck_assert_ptr_null(json_path(&v, "o.missing"));
    json_free(&v);
}
END_TEST

START_TEST(json_errors)
{
    const char *bad[] = {"{", "{\"a\" 1}", "[1,]", "\"abc", "{\"a\":1} x", "nul", "[01x]", "\"\\q\"", ""};
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        JsonValue v = {0};
        Error err = {0};
        ck_assert_msg(json_parse(&v, bad[i], strlen(bad[i]), &err) != 0, "accepted %s", bad[i]);
        ck_assert(strstr(err.msg, "JSON:") != NULL);
        ck_assert(strstr(err.msg, "byte") != NULL);
    }
    char deep[200];
    memset(deep, '[', sizeof deep);
    JsonValue v = {0};
    Error err = {0};
    ck_assert(json_parse(&v, deep, sizeof deep, &err) != 0);
}
END_TEST

Suite *json_suite(void)
{
    Suite *s = suite_create("json");
    TCase *core = tcase_create("Core");
    tcase_add_test(core, json_values);
    suite_add_tcase(s, core);
    TCase *lim = tcase_create("Limits");
    tcase_add_test(lim, json_errors);
    suite_add_tcase(s, lim);
    return s;
}
