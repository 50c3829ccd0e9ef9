/*
 * config.h - flat `key = value` configuration files with includes, overrides, typed strict
 * getters, consumption tracking and a resolved dump.
 *
 * Does: parse files (`#` comments, blank lines, `include = relative/path.conf` composed
 * relative to the including file, later keys override earlier ones), `--set key=value`
 * overrides, remember where every value came from (file:line or "--set"), strict number /
 * boolean / list parsing, report keys that no module consumed, write the resolved config.
 * Does not: know any key's meaning (each module reads its own keys), expand variables other
 * than WINCLIP_* environment variables in file values.
 * Reference: shared/spec/conventions.md §2.13 (configs) and §2.14 (config.resolved).
 *
 *     Config cfg;
 *     config_init(&cfg);
 *     if (config_load(&cfg, "experiments/E01_zero_shot_mvtec.conf", &err) != 0 ||
 *         config_set(&cfg, "tau=0.07", &err) != 0) goto fail;
 *     int image_size;
 *     if (config_get_int(&cfg, "image_size", &image_size, &err) != 0) goto fail;
 *     if (config_check_unused(&cfg, &err) != 0) goto fail;   // "unknown key 'taus' (x.conf:4) ..."
 *     config_free(&cfg);
 *
 * File syntax:
 *     # comment                    whole-line comment
 *     key = value   # comment      `#` preceded by a blank (or at column 0) starts a comment
 *     key = "a # b"                double quotes keep the value verbatim (no escapes)
 *     include = ../model/x.conf    loaded at this point, relative to this file's folder
 *     root = ${WINCLIP_DATA_DIR:-datasets}/mvtec   a WINCLIP_* environment variable, or the
 *                                  default after `:-` when it is unset or empty (file values
 *                                  only; `--set` values come from the shell already expanded)
 * Keys: letters, digits, `_`, `.`, `-`. Values are trimmed. A later assignment of the same key
 * (in the same file, a later include, or --set) replaces the value and its origin.
 */
#ifndef WINCLIP_CONFIG_H
#define WINCLIP_CONFIG_H

#include "util/base.h"

#include <stdio.h>

typedef struct {
    char *key;
    char *value;
    char *origin; /* "path:line" or "--set" (owned) */
    int used;     /* 1 once a getter or config_mark_used consumed it */
} ConfigEntry;

typedef struct {
    ConfigEntry *entries; /* (count) in first-assignment order; owned */
    size_t count, cap;
    char **known; /* (n_known) every key a module asked for or declared, owned */
    size_t n_known, cap_known;
} Config;

/* ---- lifecycle ---- */

void config_init(Config *cfg);
/* Frees everything; safe on a zeroed or half-filled Config. */
void config_free(Config *cfg);

/* ---- loading ---- */

/* Parse a file (and its includes) into cfg; keys override those already present.
 * Errors (ERR_IO, ERR_FORMAT, ERR_MISSING) name file:line: unreadable file, missing include,
 * include cycle (with the chain), a line without `=`, a bad key, an unterminated quote.
 * On error cfg keeps the keys parsed so far (free it). */
int config_load(Config *cfg, const char *path, Error *err);

/* Parse text as if it were the file `name` (used by tests and for in-memory configs);
 * includes are resolved relative to name's folder. */
int config_load_string(Config *cfg, const char *text, const char *name, Error *err);

/* `key=value` from the command line (origin "--set"). ERR_USAGE without `=` or with a bad key. */
int config_set(Config *cfg, const char *assignment, Error *err);

/* Set one key with an explicit origin (copied). Returns 0. */
int config_put(Config *cfg, const char *key, const char *value, const char *origin);

/* ---- lookup (each lookup records the key as known; a found key is marked used) ---- */

/* Raw value or NULL if absent (the pointer lives as long as the entry). */
const char *config_get(Config *cfg, const char *key);
/* Entry or NULL, without marking it used. */
const ConfigEntry *config_find(const Config *cfg, const char *key);
/* "path:line", "--set" or "(default)" when absent. */
const char *config_origin(const Config *cfg, const char *key);

/* Typed getters: 0 on success; ERR_MISSING when the key is absent ("missing config key
 * 'k'"); ERR_VALUE when the value does not parse, naming key, value and origin.
 * int: optional sign and decimal digits only, within int range. double: strtod over the whole
 * value, finite. bool: exactly `true` or `false`. string: the value as is. */
int config_get_str(Config *cfg, const char *key, const char **out, Error *err);
int config_get_int(Config *cfg, const char *key, int *out, Error *err);
int config_get_double(Config *cfg, const char *key, double *out, Error *err);
int config_get_bool(Config *cfg, const char *key, int *out, Error *err);

/* Same, but an absent key gives *out = def and returns 0. */
int config_opt_str(Config *cfg, const char *key, const char *def, const char **out, Error *err);
int config_opt_int(Config *cfg, const char *key, int def, int *out, Error *err);
int config_opt_double(Config *cfg, const char *key, double def, double *out, Error *err);
int config_opt_bool(Config *cfg, const char *key, int def, int *out, Error *err);

/* Comma-separated list: items trimmed, empty items ("2,,3", "2,") are ERR_VALUE; an empty
 * value is a list of length 0. *items is a malloc'ed array of malloc'ed strings
 * (free with config_list_free). ERR_MISSING when absent. */
int config_get_list(Config *cfg, const char *key, char ***items, int *count, Error *err);
void config_list_free(char **items, int count);
/* Comma-separated integers (each parsed like config_get_int); *values malloc'ed (count). */
int config_get_int_list(Config *cfg, const char *key, int **values, int *count, Error *err);

/* ---- consumption tracking ---- */

/* Record key as known (a key some module understands) without looking it up. */
void config_declare(Config *cfg, const char *key);
/* Mark a present key consumed (e.g. passed on to winclip_settings_set); no-op if absent. */
void config_mark_used(Config *cfg, const char *key);
/* ERR_USAGE if any key was never consumed: names every such key with its origin and lists
 * the known keys (sorted), e.g.
 * "unknown config key 'taus' (experiments/E01.conf:4); known keys: dataset, k_shots, ...". */
int config_check_unused(const Config *cfg, Error *err);

/* ---- output ---- */

/* Every effective key, sorted by key, one `key = value  # origin` line each (values with
 * `#`, leading/trailing blanks or quotes are double-quoted), after a header comment.
 * The output loads back to the same keys and values. Returns 0 or ERR_IO. */
int config_write_resolved(const Config *cfg, FILE *out, Error *err);

/* SHA-256 (hex) of the sorted `key=value\n` lines, origins excluded: the settings hash. */
void config_hash(const Config *cfg, char hex[65]);

#endif
