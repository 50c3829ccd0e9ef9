/*
 * check_config.c - tests for config.c: includes and overrides, origins, strict typed getters,
 * unused keys, resolved dump round trip; error paths (cycles, missing includes, bad lines).
 */
#define _POSIX_C_SOURCE 200809L /* setenv, unsetenv */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/config.h"
#include "check_suites.h"
#include "test_util.h"


/* Write test_tmp/rel with text; returns the malloc'ed full path. */
static char *put(const char *rel, const char *text)
{
    char *path = xasprintf("%s/%s", test_tmp, rel);
    char *slash = strrchr(path, '/');
    *slash = 0;
    char *cmd = xasprintf("mkdir -p '%s'", path);
    ck_assert_int_eq(system(cmd), 0);
    free(cmd);
    *slash = '/';
    ck_assert_int_eq(test_write_file(path, text, strlen(text)), 0);
    return path;
}

START_TEST(include_override_origin)
{
    char *m = put("configs/model/m.conf", "# model\nweights = w.h5\nimage_size = 240\n");
    free(put("configs/method/zs.conf", "tau = 0.01   # paper\nscales = 2,3\nsmooth = false\n"));
    char *e = put("experiments/E01.conf",
                  "include = ../configs/model/m.conf\n"
                  "include = ../configs/method/zs.conf\n"
                  "\n"
                  "   tau = 0.07\n"
                  "prompt = \"a # b\"\n"
                  "empty =\n");
    free(m);
    Config cfg;
    config_init(&cfg);
    Error err = {0};
    ck_assert_msg(config_load(&cfg, e, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(config_set(&cfg, "image_size=224", &err), 0);
    ck_assert_int_eq(config_set(&cfg, " new_key = x y ", &err), 0);

    double tau;
    ck_assert_int_eq(config_get_double(&cfg, "tau", &tau, &err), 0);
    ck_assert(tau == 0.07);
    ck_assert(strstr(config_origin(&cfg, "tau"), "experiments/E01.conf:4") != NULL);
    int size;
    ck_assert_int_eq(config_get_int(&cfg, "image_size", &size, &err), 0);
    ck_assert_int_eq(size, 224);
    ck_assert_str_eq(config_origin(&cfg, "image_size"), "--set");
    /* the include's origin is the normalised joined path with its own line number */
    const char *wo = config_origin(&cfg, "weights");
    ck_assert_msg(strstr(wo, "experiments/../") == NULL && strstr(wo, "configs/model/m.conf:2"), "%s", wo);
    const char *s;
    ck_assert_int_eq(config_get_str(&cfg, "prompt", &s, &err), 0);
    ck_assert_str_eq(s, "a # b");
    ck_assert_int_eq(config_get_str(&cfg, "empty", &s, &err), 0);
    ck_assert_str_eq(s, "");
    ck_assert_int_eq(config_get_str(&cfg, "new_key", &s, &err), 0);
    ck_assert_str_eq(s, "x y");
    int b;
    ck_assert_int_eq(config_get_bool(&cfg, "smooth", &b, &err), 0);
    ck_assert_int_eq(b, 0);
    int *scales, n;
    ck_assert_int_eq(config_get_int_list(&cfg, "scales", &scales, &n, &err), 0);
    ck_assert_int_eq(n, 2);
    ck_assert(scales[0] == 2 && scales[1] == 3);
    free(scales);
    ck_assert_int_eq(config_get_str(&cfg, "weights", &s, &err), 0);
    ck_assert_int_eq(config_check_unused(&cfg, &err), 0);
    config_free(&cfg);
    free(e);
}
END_TEST

START_TEST(typed_getters_strict)
{
    Config cfg;
    config_init(&cfg);
    Error err = {0};
    ck_assert_int_eq(config_load_string(&cfg,
                                        "i1 = -12\ni2 = 12x\ni3 = 1.0\ni4 = 99999999999\ni5 = +7\n"
                                        "d1 = 1e-3\nd2 = 0.5.1\nd3 = nan\nd4 = inf\nd5 = \n"
                                        "b1 = true\nb2 = yes\nb3 = True\n"
                                        "l1 = a, b ,c\nl2 = 2,,3\nl3 = 2,\nl4 =\nl5 = 1, x\n",
                                        "mem.conf", &err),
                     0);
    int i;
    ck_assert_int_eq(config_get_int(&cfg, "i1", &i, &err), 0);
    ck_assert_int_eq(i, -12);
    ck_assert_int_eq(config_get_int(&cfg, "i5", &i, &err), 0);
    ck_assert_int_eq(i, 7);
    ck_assert_int_eq(config_get_int(&cfg, "i2", &i, &err), ERR_VALUE);
    ck_assert_msg(strstr(err.msg, "'i2' = '12x' (mem.conf:2)") && strstr(err.msg, "integer"), "%s", err.msg);
    ck_assert_int_eq(config_get_int(&cfg, "i3", &i, &err), ERR_VALUE);
    ck_assert_int_eq(config_get_int(&cfg, "i4", &i, &err), ERR_VALUE);
    double d;
    ck_assert_int_eq(config_get_double(&cfg, "d1", &d, &err), 0);
    ck_assert(d == 1e-3);
    ck_assert_int_eq(config_get_double(&cfg, "d2", &d, &err), ERR_VALUE);
    ck_assert_int_eq(config_get_double(&cfg, "d3", &d, &err), ERR_VALUE);
    ck_assert_int_eq(config_get_double(&cfg, "d4", &d, &err), ERR_VALUE);
    ck_assert_int_eq(config_get_double(&cfg, "d5", &d, &err), ERR_VALUE);
    int b;
    ck_assert_int_eq(config_get_bool(&cfg, "b1", &b, &err), 0);
    ck_assert_int_eq(b, 1);
    ck_assert_int_eq(config_get_bool(&cfg, "b2", &b, &err), ERR_VALUE);
    ck_assert(strstr(err.msg, "true or false") != NULL);
    ck_assert_int_eq(config_get_bool(&cfg, "b3", &b, &err), ERR_VALUE);
    char **items;
    int n;
    ck_assert_int_eq(config_get_list(&cfg, "l1", &items, &n, &err), 0);
    ck_assert_int_eq(n, 3);
    ck_assert_str_eq(items[0], "a");
    ck_assert_str_eq(items[1], "b");
    ck_assert_str_eq(items[2], "c");
    config_list_free(items, n);
    ck_assert_int_eq(config_get_list(&cfg, "l2", &items, &n, &err), ERR_VALUE);
    ck_assert_int_eq(config_get_list(&cfg, "l3", &items, &n, &err), ERR_VALUE);
    ck_assert_int_eq(config_get_list(&cfg, "l4", &items, &n, &err), 0);
    ck_assert_int_eq(n, 0);
    int *vals;
    ck_assert_int_eq(config_get_int_list(&cfg, "l5", &vals, &n, &err), ERR_VALUE);
    ck_assert_msg(strstr(err.msg, "'x' is not one") != NULL, "%s", err.msg);
    /* missing and optional */
    ck_assert_int_eq(config_get_int(&cfg, "nope", &i, &err), ERR_MISSING);
    ck_assert(strstr(err.msg, "missing config key 'nope'") != NULL);
    ck_assert_int_eq(config_opt_int(&cfg, "nope2", 5, &i, &err), 0);
    ck_assert_int_eq(i, 5);
    ck_assert_int_eq(config_opt_bool(&cfg, "b2", 1, &b, &err), ERR_VALUE);
    config_free(&cfg);
}
END_TEST

START_TEST(unused_keys_named)
{
    Config cfg;
    config_init(&cfg);
    Error err = {0};
    ck_assert_int_eq(config_load_string(&cfg, "tau = 0.01\ntaus = 0.07\nstride = 1\n", "x/E.conf", &err), 0);
    ck_assert_int_eq(config_set(&cfg, "bogus=1", &err), 0);
    double d;
    ck_assert_int_eq(config_get_double(&cfg, "tau", &d, &err), 0);
    config_mark_used(&cfg, "stride");
    config_declare(&cfg, "k_shots");
    ck_assert_int_eq(config_check_unused(&cfg, &err), ERR_USAGE);
    ck_assert_msg(strstr(err.msg, "'taus' (x/E.conf:2)") && strstr(err.msg, "'bogus' (--set)") &&
                      strstr(err.msg, "known keys: k_shots, stride, tau"),
                  "%s", err.msg);
    config_free(&cfg);
}
END_TEST

START_TEST(resolved_round_trip)
{
    Config cfg, back;
    config_init(&cfg);
    config_init(&back);
    Error err = {0};
    ck_assert_int_eq(config_load_string(&cfg, "z = 1\na = \"x # y\"\nm = \" lead\"\nq = 2,3\n", "r.conf", &err),
                     0);
    config_set(&cfg, "z=9", &err);
    char *path = xasprintf("%s/config.resolved", test_tmp);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(config_write_resolved(&cfg, f, &err), 0);
    fclose(f);
    char *text = test_read_file(path, NULL);
    ck_assert_msg(strstr(text, "a = \"x # y\"  # r.conf:2\nm = \" lead\"  # r.conf:3\nq = 2,3  # r.conf:4\n"
                               "z = 9  # --set\n"),
                  "%s", text);
    ck_assert_int_eq(config_load(&back, path, &err), 0);
    ck_assert_int_eq((int)back.count, 4);
    for (size_t i = 0; i < cfg.count; i++) {
        const ConfigEntry *e = config_find(&back, cfg.entries[i].key);
        ck_assert_ptr_nonnull(e);
        ck_assert_str_eq(e->value, cfg.entries[i].value);
    }
    char h1[65], h2[65];
    config_hash(&cfg, h1);
    config_hash(&back, h2);
    ck_assert_str_eq(h1, h2);
    config_set(&back, "z=10", &err);
    config_hash(&back, h2);
    ck_assert_str_ne(h1, h2);
    free(text);
    free(path);
    config_free(&cfg);
    config_free(&back);
}
END_TEST

/* ---- Limits ---- */

START_TEST(include_cycle)
{
    char *a = put("a.conf", "x = 1\ninclude = sub/b.conf\n");
    free(put("sub/b.conf", "y = 2\n\ninclude = ../a.conf\n"));
    Config cfg;
    config_init(&cfg);
    Error err = {0};
    ck_assert_int_eq(config_load(&cfg, a, &err), ERR_FORMAT);
    ck_assert_msg(strstr(err.msg, "sub/b.conf:3: include cycle") && strstr(err.msg, "a.conf -> "), "%s", err.msg);
    config_free(&cfg);
    /* self include */
    char *s = put("self.conf", "include = self.conf\n");
    config_init(&cfg);
    ck_assert_int_eq(config_load(&cfg, s, &err), ERR_FORMAT);
    ck_assert_msg(strstr(err.msg, "self.conf:1: include cycle"), "%s", err.msg);
    config_free(&cfg);
    free(a);
    free(s);
}
END_TEST

START_TEST(include_missing)
{
    char *a = put("a.conf", "# top\n\ninclude = nowhere/none.conf\n");
    Config cfg;
    config_init(&cfg);
    Error err = {0};
    ck_assert_int_eq(config_load(&cfg, a, &err), ERR_MISSING);
    ck_assert_msg(strstr(err.msg, "a.conf:3: include: cannot open config") && strstr(err.msg, "nowhere/none.conf"),
                  "%s", err.msg);
    config_free(&cfg);
    config_init(&cfg);
    char *missing = xasprintf("%s/absent.conf", test_tmp);
    ck_assert_int_eq(config_load(&cfg, missing, &err), ERR_MISSING);
    ck_assert(strstr(err.msg, "absent.conf") != NULL);
    config_free(&cfg);
    free(missing);
    free(a);
}
END_TEST

START_TEST(bad_lines)
{
    const char *bad[] = {"just words\n", "= 3\n", "bad key = 1\n", "k = \"open\n", "k = \"a\" b\n", "include =\n",
                         "k$ = 2\n"};
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        Config cfg;
        config_init(&cfg);
        Error err = {0};
        char text[64];
        snprintf(text, sizeof text, "ok = 1\n%s", bad[i]);
        ck_assert_msg(config_load_string(&cfg, text, "b.conf", &err) == ERR_FORMAT, "accepted %s", bad[i]);
        ck_assert_msg(strstr(err.msg, "b.conf:2: ") == err.msg, "%s", err.msg);
        config_free(&cfg);
    }
    Config cfg;
    config_init(&cfg);
    Error err = {0};
    ck_assert_int_eq(config_set(&cfg, "novalue", &err), ERR_USAGE);
    ck_assert(strstr(err.msg, "key=value") != NULL);
    ck_assert_int_eq(config_set(&cfg, "include=x.conf", &err), ERR_USAGE);
    ck_assert_int_eq(config_set(&cfg, "=1", &err), ERR_USAGE);
    config_free(&cfg);
    /* binary file */
    char *p = put("bin.conf", "k = 1");
    FILE *f = fopen(p, "wb");
    fwrite("k\0= 1\n", 1, 6, f);
    fclose(f);
    config_init(&cfg);
    ck_assert_int_eq(config_load(&cfg, p, &err), ERR_FORMAT);
    ck_assert(strstr(err.msg, "NUL") != NULL);
    config_free(&cfg);
    free(p);
    Config zero = {0};
    config_free(&zero);
}
END_TEST

/* ${WINCLIP_*} in file values: the variable when set and non-empty, else the default; an unset
 * variable without a default, a non-WINCLIP name and a malformed reference are errors at
 * file:line; --set values are taken verbatim. */
START_TEST(env_expansion)
{
    const char *text = "root = ${WINCLIP_TEST_DIR:-datasets}/mvtec\n"
                       "w = \"${WINCLIP_TEST_W:-a b}/x.h5\"\n"
                       "both = ${WINCLIP_TEST_DIR:-d}+${WINCLIP_TEST_DIR:-d}\n";
    unsetenv("WINCLIP_TEST_DIR");
    unsetenv("WINCLIP_TEST_W");
    Config cfg;
    config_init(&cfg);
    Error err = {0};
    ck_assert_msg(config_load_string(&cfg, text, "e.conf", &err) == 0, "%s", err.msg);
    ck_assert_str_eq(config_get(&cfg, "root"), "datasets/mvtec");
    ck_assert_str_eq(config_get(&cfg, "w"), "a b/x.h5");
    ck_assert_str_eq(config_get(&cfg, "both"), "d+d");
    config_free(&cfg);
    setenv("WINCLIP_TEST_DIR", "/data/big folder", 1);
    setenv("WINCLIP_TEST_W", "", 1); /* empty counts as unset */
    config_init(&cfg);
    ck_assert_msg(config_load_string(&cfg, text, "e.conf", &err) == 0, "%s", err.msg);
    ck_assert_str_eq(config_get(&cfg, "root"), "/data/big folder/mvtec");
    ck_assert_str_eq(config_get(&cfg, "w"), "a b/x.h5");
    ck_assert_str_eq(config_get(&cfg, "both"), "/data/big folder+/data/big folder");
    ck_assert_int_eq(config_set(&cfg, "root=${WINCLIP_TEST_DIR}", &err), 0);
    ck_assert_str_eq(config_get(&cfg, "root"), "${WINCLIP_TEST_DIR}");
    config_free(&cfg);
    unsetenv("WINCLIP_TEST_DIR");
    struct {
        const char *line;
        int code;
        const char *needle;
    } bad[] = {{"k = ${WINCLIP_TEST_DIR}/x\n", ERR_MISSING, "WINCLIP_TEST_DIR is not set"},
               {"k = ${HOME:-x}\n", ERR_FORMAT, "expected ${WINCLIP_NAME}"},
               {"k = ${WINCLIP_TEST_DIR\n", ERR_FORMAT, "bad variable reference"},
               {"k = ${}\n", ERR_FORMAT, "bad variable reference"}};
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        char buf[128];
        snprintf(buf, sizeof buf, "ok = 1\n%s", bad[i].line);
        config_init(&cfg);
        err = (Error){0};
        ck_assert_msg(config_load_string(&cfg, buf, "b.conf", &err) == bad[i].code, "accepted %s", bad[i].line);
        ck_assert_msg(strstr(err.msg, "b.conf:2: ") == err.msg && strstr(err.msg, bad[i].needle), "%s", err.msg);
        config_free(&cfg);
    }
}
END_TEST

Suite *config_suite(void)
{
    Suite *s = suite_create("config");
    TCase *core = tcase_create("Core");
    tcase_add_checked_fixture(core, test_tmp_setup, test_tmp_teardown);
    tcase_add_test(core, include_override_origin);
    tcase_add_test(core, typed_getters_strict);
    tcase_add_test(core, unused_keys_named);
    tcase_add_test(core, resolved_round_trip);
    suite_add_tcase(s, core);
    TCase *lim = tcase_create("Limits");
    tcase_add_checked_fixture(lim, test_tmp_setup, test_tmp_teardown);
    tcase_add_test(lim, include_cycle);
    tcase_add_test(lim, include_missing);
    tcase_add_test(lim, bad_lines);
    tcase_add_test(lim, env_expansion);
    suite_add_tcase(s, lim);
    return s;
}
