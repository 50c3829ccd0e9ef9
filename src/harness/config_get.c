/*
 * config_get.c - strict typed getters of config.h: string, int, double, bool, lists; required
 * (config_get_*) or with a default (config_opt_*). Every value read marks its key used.
 *
 * Does: whole-string number parsing (no trailing characters, in range), booleans true / false,
 * comma lists (blanks trimmed, no empty items); errors name the key, its origin, what was
 * expected and what was found.
 * Reference: shared/spec/conventions.md §2.13.
 */
#include "harness/config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse_int(const char *s, int *out)
{
    const char *p = s;
    if (*p == '+' || *p == '-') p++;
    if (!isdigit((unsigned char)*p)) return -1;
    for (const char *q = p; *q; q++)
        if (!isdigit((unsigned char)*q)) return -1;
    errno = 0;
    long v = strtol(s, NULL, 10);
    if (errno == ERANGE || v < INT_MIN || v > INT_MAX) return -1;
    *out = (int)v;
    return 0;
}

static int parse_double(const char *s, double *out)
{
    if (!*s || isspace((unsigned char)*s)) return -1;
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || errno == ERANGE || !isfinite(v)) return -1;
    *out = v;
    return 0;
}

static int missing(const char *key, Error *err)
{
    return err_setf(err, ERR_MISSING, "missing config key '%s' (add it to a config or pass --set %s=...)",
                    key, key);
}

static int bad_value(const ConfigEntry *e, const char *expected, Error *err)
{
    return err_setf(err, ERR_VALUE, "config key '%s' = '%s' (%s): expected %s", e->key, e->value,
                    e->origin, expected);
}

int config_get_str(Config *cfg, const char *key, const char **out, Error *err)
{
    const char *v = config_get(cfg, key);
    if (!v) return missing(key, err);
    *out = v;
    return 0;
}

int config_get_int(Config *cfg, const char *key, int *out, Error *err)
{
    const char *v = config_get(cfg, key);
    if (!v) return missing(key, err);
    if (parse_int(v, out)) return bad_value(config_find(cfg, key), "an integer", err);
    return 0;
}

int config_get_double(Config *cfg, const char *key, double *out, Error *err)
{
    const char *v = config_get(cfg, key);
    if (!v) return missing(key, err);
    if (parse_double(v, out)) return bad_value(config_find(cfg, key), "a finite number", err);
    return 0;
}

int config_get_bool(Config *cfg, const char *key, int *out, Error *err)
{
    const char *v = config_get(cfg, key);
    if (!v) return missing(key, err);
    if (strcmp(v, "true") == 0)
        *out = 1;
    else if (strcmp(v, "false") == 0)
        *out = 0;
    else
        return bad_value(config_find(cfg, key), "true or false", err);
    return 0;
}

int config_opt_str(Config *cfg, const char *key, const char *def, const char **out, Error *err)
{
    (void)err;
    const char *v = config_get(cfg, key);
    *out = v ? v : def;
    return 0;
}

int config_opt_int(Config *cfg, const char *key, int def, int *out, Error *err)
{
    if (!config_find(cfg, key)) {
        config_declare(cfg, key);
        *out = def;
        return 0;
    }
    return config_get_int(cfg, key, out, err);
}

int config_opt_double(Config *cfg, const char *key, double def, double *out, Error *err)
{
    if (!config_find(cfg, key)) {
        config_declare(cfg, key);
        *out = def;
        return 0;
    }
    return config_get_double(cfg, key, out, err);
}

int config_opt_bool(Config *cfg, const char *key, int def, int *out, Error *err)
{
    if (!config_find(cfg, key)) {
        config_declare(cfg, key);
        *out = def;
        return 0;
    }
    return config_get_bool(cfg, key, out, err);
}

void config_list_free(char **items, int count)
{
    if (!items) return;
    for (int i = 0; i < count; i++) free(items[i]);
    free(items);
}

int config_get_list(Config *cfg, const char *key, char ***items, int *count, Error *err)
{
    *items = NULL;
    *count = 0;
    const char *v = config_get(cfg, key);
    if (!v) return missing(key, err);
    if (!*v) return 0;
    int n = 1;
    for (const char *p = v; *p; p++) n += *p == ',';
    char **out = xcalloc((size_t)n, sizeof *out);
    const char *p = v;
    for (int i = 0; i < n; i++) {
        const char *comma = strchr(p, ',');
        const char *end = comma ? comma : p + strlen(p);
        const char *s = p;
        while (*s == ' ' || *s == '\t') s++;
        const char *e = end;
        while (e > s && (e[-1] == ' ' || e[-1] == '\t')) e--;
        if (e == s) {
            config_list_free(out, n);
            return bad_value(config_find(cfg, key), "a comma-separated list without empty items", err);
        }
        out[i] = xasprintf("%.*s", (int)(e - s), s);
        p = end + (comma ? 1 : 0);
    }
    *items = out;
    *count = n;
    return 0;
}

int config_get_int_list(Config *cfg, const char *key, int **values, int *count, Error *err)
{
    char **items = NULL;
    int n = 0;
    *values = NULL;
    *count = 0;
    int rc = config_get_list(cfg, key, &items, &n, err);
    if (rc) return rc;
    int *out = xmalloc((size_t)(n ? n : 1) * sizeof *out);
    for (int i = 0; i < n; i++) {
        if (parse_int(items[i], &out[i])) {
            char what[160];
            snprintf(what, sizeof what, "comma-separated integers ('%s' is not one)", items[i]);
            config_list_free(items, n);
            free(out);
            return bad_value(config_find(cfg, key), what, err);
        }
    }
    config_list_free(items, n);
    *values = out;
    *count = n;
    return 0;
}
