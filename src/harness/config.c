/*
 * config.c - `key = value` parser with includes, overrides, origins, unused-key detection and
 * the resolved dump (the typed getters are config_get.c).
 *
 * Does: everything declared in config.h. Include identity (for cycle detection) is the
 * realpath of the file; the displayed path is the lexically normalised join of the including
 * file's folder and the relative path, so messages stay short and readable.
 * Does not: interpret keys, expand variables or environment references.
 * Reference: shared/spec/conventions.md §2.13, §2.14.
 */
#define _XOPEN_SOURCE 700
#include "harness/config.h"

#include "util/sha256.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_INCLUDE_DEPTH 32

/* ---- lifecycle ---- */

void config_init(Config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
}

void config_free(Config *cfg)
{
    if (!cfg) return;
    for (size_t i = 0; i < cfg->count; i++) {
        free(cfg->entries[i].key);
        free(cfg->entries[i].value);
        free(cfg->entries[i].origin);
    }
    free(cfg->entries);
    for (size_t i = 0; i < cfg->n_known; i++) free(cfg->known[i]);
    free(cfg->known);
    memset(cfg, 0, sizeof *cfg);
}

/* ---- entries ---- */

static ConfigEntry *find_mut(const Config *cfg, const char *key)
{
    for (size_t i = 0; i < cfg->count; i++)
        if (strcmp(cfg->entries[i].key, key) == 0) return &cfg->entries[i];
    return NULL;
}

const ConfigEntry *config_find(const Config *cfg, const char *key)
{
    return find_mut(cfg, key);
}

int config_put(Config *cfg, const char *key, const char *value, const char *origin)
{
    ConfigEntry *e = find_mut(cfg, key);
    if (e) {
        free(e->value);
        free(e->origin);
    } else {
        if (cfg->count == cfg->cap) {
            cfg->cap = cfg->cap ? 2 * cfg->cap : 32;
            cfg->entries = xrealloc(cfg->entries, cfg->cap * sizeof *cfg->entries);
        }
        e = &cfg->entries[cfg->count++];
        e->key = xstrdup(key);
        e->used = 0;
    }
    e->value = xstrdup(value);
    e->origin = xstrdup(origin);
    return 0;
}

void config_declare(Config *cfg, const char *key)
{
    for (size_t i = 0; i < cfg->n_known; i++)
        if (strcmp(cfg->known[i], key) == 0) return;
    if (cfg->n_known == cfg->cap_known) {
        cfg->cap_known = cfg->cap_known ? 2 * cfg->cap_known : 32;
        cfg->known = xrealloc(cfg->known, cfg->cap_known * sizeof *cfg->known);
    }
    cfg->known[cfg->n_known++] = xstrdup(key);
}

void config_mark_used(Config *cfg, const char *key)
{
    config_declare(cfg, key);
    ConfigEntry *e = find_mut(cfg, key);
    if (e) e->used = 1;
}

const char *config_get(Config *cfg, const char *key)
{
    config_declare(cfg, key);
    ConfigEntry *e = find_mut(cfg, key);
    if (!e) return NULL;
    e->used = 1;
    return e->value;
}

const char *config_origin(const Config *cfg, const char *key)
{
    const ConfigEntry *e = config_find(cfg, key);
    return e ? e->origin : "(default)";
}

/* ---- parsing ---- */

static int valid_key(const char *k, size_t n)
{
    if (n == 0) return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)k[i];
        if (!(isalnum(c) || c == '_' || c == '.' || c == '-')) return 0;
    }
    return 1;
}

/* Lexically normalise a path: collapse "//", "/./" and "dir/.." (keeps leading ".."). */
static char *path_normalize(const char *path)
{
    int absolute = path[0] == '/';
    char *copy = xstrdup(path);
    size_t n_parts = 0, cap = 16;
    char **parts = xmalloc(cap * sizeof *parts);
    char *save = NULL;
    for (char *tok = strtok_r(copy, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
        if (strcmp(tok, ".") == 0) continue;
        if (strcmp(tok, "..") == 0 && n_parts > 0 && strcmp(parts[n_parts - 1], "..") != 0) {
            n_parts--;
            continue;
        }
        if (strcmp(tok, "..") == 0 && absolute) continue;
        if (n_parts == cap) parts = xrealloc(parts, (cap *= 2) * sizeof *parts);
        parts[n_parts++] = tok;
    }
    size_t len = 2;
    for (size_t i = 0; i < n_parts; i++) len += strlen(parts[i]) + 1;
    char *out = xmalloc(len);
    char *p = out;
    if (absolute) *p++ = '/';
    for (size_t i = 0; i < n_parts; i++) {
        size_t l = strlen(parts[i]);
        if (i) *p++ = '/';
        memcpy(p, parts[i], l);
        p += l;
    }
    if (p == out) *p++ = '.';
    *p = 0;
    free(parts);
    free(copy);
    return out;
}

/* rel resolved against the folder of `from` (absolute rel stays as is). */
static char *path_relative_to(const char *from, const char *rel)
{
    if (rel[0] == '/') return path_normalize(rel);
    const char *slash = strrchr(from, '/');
    char *joined = slash ? xasprintf("%.*s/%s", (int)(slash - from), from, rel) : xstrdup(rel);
    char *out = path_normalize(joined);
    free(joined);
    return out;
}

typedef struct {
    const char *names[MAX_INCLUDE_DEPTH + 1]; /* displayed path per level */
    char *ids[MAX_INCLUDE_DEPTH + 1];         /* realpath (or name) per level, owned */
    int depth;
} IncludeStack;

static char *read_text(const char *path, Error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        err_setf(err, errno == ENOENT ? ERR_MISSING : ERR_IO, "cannot open config '%s': %s", path,
                 strerror(errno));
        return NULL;
    }
    size_t cap = 4096, len = 0;
    char *buf = xmalloc(cap);
    size_t got;
    while ((got = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += got;
        if (len + 1 == cap) buf = xrealloc(buf, cap *= 2);
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        err_setf(err, ERR_IO, "cannot read config '%s'", path);
        return NULL;
    }
    buf[len] = 0;
    if (memchr(buf, 0, len)) {
        free(buf);
        err_setf(err, ERR_FORMAT, "config '%s' is not a text file (contains NUL bytes)", path);
        return NULL;
    }
    return buf;
}

static int parse_text(Config *cfg, const char *text, const char *name, IncludeStack *st, Error *err);

static int load_file(Config *cfg, const char *path, const char *from, IncludeStack *st, Error *err)
{
    char *real = realpath(path, NULL);
    char *id = real ? real : xstrdup(path);
    for (int i = 0; i < st->depth; i++) {
        if (strcmp(st->ids[i], id) != 0) continue;
        char chain[700] = "";
        for (int j = i; j < st->depth; j++) {
            strncat(chain, st->names[j], sizeof chain - strlen(chain) - 1);
            strncat(chain, " -> ", sizeof chain - strlen(chain) - 1);
        }
        strncat(chain, path, sizeof chain - strlen(chain) - 1);
        free(id);
        return err_setf(err, ERR_FORMAT, "%s: include cycle: %s", from, chain);
    }
    if (st->depth >= MAX_INCLUDE_DEPTH) {
        free(id);
        return err_setf(err, ERR_FORMAT, "%s: includes nested deeper than %d levels", from,
                        MAX_INCLUDE_DEPTH);
    }
    char *text = read_text(path, err);
    if (!text) {
        free(id);
        if (from) err_prefixf(err, "%s: include: ", from);
        return err->code;
    }
    st->ids[st->depth] = id;
    st->names[st->depth] = path;
    st->depth++;
    int rc = parse_text(cfg, text, path, st, err);
    st->depth--;
    free(st->ids[st->depth]);
    free(text);
    return rc;
}

static const char *skip_blank(const char *p)
{
    while (*p == ' ' || *p == '\t') p++;
    return p;
}

/* Parse one value (after `=`) into a malloc'ed string; NULL + err on a bad quote. */
static char *parse_value(const char *p, const char *end, const char *where, Error *err)
{
    p = skip_blank(p);
    if (p < end && *p == '"') {
        const char *close = memchr(p + 1, '"', (size_t)(end - p - 1));
        if (!close) {
            err_setf(err, ERR_FORMAT, "%s: unterminated quote in value", where);
            return NULL;
        }
        const char *rest = skip_blank(close + 1);
        if (rest < end && *rest != '#') {
            err_setf(err, ERR_FORMAT, "%s: unexpected text after the closing quote", where);
            return NULL;
        }
        return xasprintf("%.*s", (int)(close - p - 1), p + 1);
    }
    const char *stop = end;
    for (const char *q = p; q < end; q++) {
        if (*q == '#' && (q == p || q[-1] == ' ' || q[-1] == '\t')) {
            stop = q;
            break;
        }
    }
    while (stop > p && (stop[-1] == ' ' || stop[-1] == '\t')) stop--;
    return xasprintf("%.*s", (int)(stop - p), p);
}

/* Expand ${WINCLIP_NAME} and ${WINCLIP_NAME:-default} in a file's value from the environment
 * (only WINCLIP_* variables, so a config cannot depend on unrelated ones). Returns a malloc'ed
 * string, or NULL + err naming where, the variable and what was expected. */
static char *expand_vars(const char *value, const char *where, Error *err)
{
    size_t cap = strlen(value) + 1, len = 0;
    char *out = xmalloc(cap);
    for (const char *p = value; *p;) {
        if (p[0] != '$' || p[1] != '{') {
            out[len++] = *p++;
            continue;
        }
        const char *close = strchr(p + 2, '}');
        const char *name = p + 2;
        size_t n = 0;
        while (name[n] && (isalnum((unsigned char)name[n]) || name[n] == '_')) n++;
        int has_default = name[n] == ':' && name[n + 1] == '-';
        if (!close || n == 0 || (!has_default && name + n != close) || strncmp(name, "WINCLIP_", 8) != 0) {
            free(out);
            err_setf(err, ERR_FORMAT,
                     "%s: bad variable reference in '%s': expected ${WINCLIP_NAME} or ${WINCLIP_NAME:-default}",
                     where, value);
            return NULL;
        }
        char var[128];
        snprintf(var, sizeof var, "%.*s", (int)(n < sizeof var - 1 ? n : sizeof var - 1), name);
        const char *env = getenv(var);
        const char *rep = env && env[0] ? env : NULL;
        size_t rep_len = rep ? strlen(rep) : 0;
        if (!rep && has_default) {
            rep = name + n + 2;
            rep_len = (size_t)(close - rep);
        }
        if (!rep) {
            free(out);
            err_setf(err, ERR_MISSING, "%s: environment variable %s is not set (and '%s' gives no default)", where, var,
                     value);
            return NULL;
        }
        cap += rep_len;
        out = xrealloc(out, cap);
        memcpy(out + len, rep, rep_len);
        len += rep_len;
        p = close + 1;
    }
    out[len] = '\0';
    return out;
}

static int parse_text(Config *cfg, const char *text, const char *name, IncludeStack *st, Error *err)
{
    int line_no = 0;
    const char *line = text;
    while (*line) {
        line_no++;
        const char *nl = strchr(line, '\n');
        const char *end = nl ? nl : line + strlen(line);
        const char *next = nl ? nl + 1 : end;
        if (end > line && end[-1] == '\r') end--;
        char where[600];
        snprintf(where, sizeof where, "%s:%d", name, line_no);

        const char *p = skip_blank(line);
        if (p >= end || *p == '#') {
            line = next;
            continue;
        }
        const char *eq = memchr(p, '=', (size_t)(end - p));
        if (!eq)
            return err_setf(err, ERR_FORMAT, "%s: expected 'key = value', found '%.*s'", where,
                            (int)(end - p > 80 ? 80 : end - p), p);
        const char *kend = eq;
        while (kend > p && (kend[-1] == ' ' || kend[-1] == '\t')) kend--;
        if (!valid_key(p, (size_t)(kend - p)))
            return err_setf(err, ERR_FORMAT,
                            "%s: bad key '%.*s' (keys use letters, digits, '_', '.', '-')", where,
                            (int)(kend - p > 80 ? 80 : kend - p), p);
        char *key = xasprintf("%.*s", (int)(kend - p), p);
        char *raw = parse_value(eq + 1, end, where, err);
        char *value = raw ? expand_vars(raw, where, err) : NULL;
        free(raw);
        if (!value) {
            free(key);
            return err->code;
        }
        int rc = 0;
        if (strcmp(key, "include") == 0) {
            if (!value[0]) {
                rc = err_setf(err, ERR_FORMAT, "%s: include needs a path", where);
            } else {
                char *path = path_relative_to(name, value);
                rc = load_file(cfg, path, where, st, err);
                free(path);
            }
        } else {
            config_put(cfg, key, value, where);
        }
        free(key);
        free(value);
        if (rc) return rc;
        line = next;
    }
    return 0;
}

int config_load(Config *cfg, const char *path, Error *err)
{
    IncludeStack st = {0};
    char *norm = path_normalize(path);
    int rc = load_file(cfg, norm, NULL, &st, err);
    free(norm);
    return rc;
}

int config_load_string(Config *cfg, const char *text, const char *name, Error *err)
{
    IncludeStack st = {0};
    char *real = realpath(name, NULL);
    st.ids[0] = real ? real : xstrdup(name);
    st.names[0] = name;
    st.depth = 1;
    int rc = parse_text(cfg, text, name, &st, err);
    free(st.ids[0]);
    return rc;
}

int config_set(Config *cfg, const char *assignment, Error *err)
{
    const char *eq = strchr(assignment, '=');
    if (!eq) return err_setf(err, ERR_USAGE, "--set '%s': expected key=value", assignment);
    const char *p = skip_blank(assignment);
    const char *kend = eq;
    while (kend > p && (kend[-1] == ' ' || kend[-1] == '\t')) kend--;
    if (!valid_key(p, (size_t)(kend - p)) || (kend - p == 7 && strncmp(p, "include", 7) == 0))
        return err_setf(err, ERR_USAGE, "--set '%s': bad key (letters, digits, '_', '.', '-'; not include)",
                        assignment);
    char *key = xasprintf("%.*s", (int)(kend - p), p);
    const char *v = skip_blank(eq + 1);
    size_t vl = strlen(v);
    while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t')) vl--;
    char *value = xasprintf("%.*s", (int)vl, v);
    config_put(cfg, key, value, "--set");
    free(key);
    free(value);
    return 0;
}

/* ---- consumption tracking ---- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int config_check_unused(const Config *cfg, Error *err)
{
    size_t n_unused = 0;
    for (size_t i = 0; i < cfg->count; i++) n_unused += !cfg->entries[i].used;
    if (n_unused == 0) return 0;
    char buf[sizeof err->msg];
    size_t len = 0;
#define APPEND(...)                                                                                \
    do {                                                                                           \
        if (len < sizeof buf) len += (size_t)snprintf(buf + len, sizeof buf - len, __VA_ARGS__);   \
    } while (0)
    APPEND("unknown config key%s ", n_unused > 1 ? "s" : "");
    size_t shown = 0;
    for (size_t i = 0; i < cfg->count; i++) {
        const ConfigEntry *e = &cfg->entries[i];
        if (e->used) continue;
        APPEND("%s'%s' (%s)", shown++ ? ", " : "", e->key, e->origin);
    }
    char **known = xmalloc((cfg->n_known ? cfg->n_known : 1) * sizeof *known);
    memcpy(known, cfg->known, cfg->n_known * sizeof *known);
    qsort(known, cfg->n_known, sizeof *known, cmp_str);
    APPEND("; known keys:");
    for (size_t i = 0; i < cfg->n_known; i++) APPEND("%s %s", i ? "," : "", known[i]);
    if (cfg->n_known == 0) APPEND(" (none)");
#undef APPEND
    free(known);
    if (len >= sizeof buf) memcpy(buf + sizeof buf - 5, "...", 4);
    return err_setf(err, ERR_USAGE, "%s", buf);
}

/* ---- output ---- */

static int cmp_entry(const void *a, const void *b)
{
    return strcmp((*(const ConfigEntry *const *)a)->key, (*(const ConfigEntry *const *)b)->key);
}

static const ConfigEntry **sorted_entries(const Config *cfg)
{
    const ConfigEntry **v = xmalloc((cfg->count ? cfg->count : 1) * sizeof *v);
    for (size_t i = 0; i < cfg->count; i++) v[i] = &cfg->entries[i];
    qsort(v, cfg->count, sizeof *v, cmp_entry);
    return v;
}

static int needs_quotes(const char *v)
{
    size_t n = strlen(v);
    if (n == 0) return 0;
    if (v[0] == ' ' || v[0] == '\t' || v[n - 1] == ' ' || v[n - 1] == '\t' || v[0] == '"') return 1;
    for (size_t i = 0; i < n; i++)
        if (v[i] == '#') return 1;
    return 0;
}

int config_write_resolved(const Config *cfg, FILE *out, Error *err)
{
    const ConfigEntry **v = sorted_entries(cfg);
    fprintf(out, "# resolved configuration: every effective key, sorted; the comment says where "
                 "each value came from\n");
    for (size_t i = 0; i < cfg->count; i++) {
        const char *q = needs_quotes(v[i]->value) ? "\"" : "";
        fprintf(out, "%s = %s%s%s  # %s\n", v[i]->key, q, v[i]->value, q, v[i]->origin);
    }
    free(v);
    if (ferror(out)) return err_setf(err, ERR_IO, "writing the resolved config failed");
    return 0;
}

void config_hash(const Config *cfg, char hex[65])
{
    const ConfigEntry **v = sorted_entries(cfg);
    Sha256 ctx;
    sha256_init(&ctx);
    for (size_t i = 0; i < cfg->count; i++) {
        sha256_update(&ctx, v[i]->key, strlen(v[i]->key));
        sha256_update(&ctx, "=", 1);
        sha256_update(&ctx, v[i]->value, strlen(v[i]->value));
        sha256_update(&ctx, "\n", 1);
    }
    free(v);
    uint8_t d[32];
    sha256_final(&ctx, d);
    sha256_hex(d, hex);
}
