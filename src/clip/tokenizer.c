/*
 * tokenizer.c - CLIP byte-level BPE: vocabulary loading, text cleaning, pre-tokenisation, merges.
 *
 * Does: everything tokenizer.h promises; symbols are handled as vocabulary ids (a merged
 * symbol a+b has id 512 + rank, since the vocabulary file has no duplicate merge results, which
 * load verifies), so the BPE loop compares integers instead of strings.
 * Does not: decode, or reproduce ftfy beyond quote uncurling (see tokenizer.h).
 * Reference: shared/spec/clip.md §5; openai/CLIP clip/simple_tokenizer.py (bytes_to_unicode,
 * get_pairs, bpe, encode), Python html.unescape, Python str.isspace / str.lower.
 */
#include "clip/tokenizer.h"
#include "clip/tokenizer_text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static const char VOCAB_FILE[] = "bpe_simple_vocab_16e6.txt.gz";

/* ---- small growable arrays ---- */

/* Make room for one more element in a growable array (v, n used, *cap allocated). */
static void *grow(void *v, size_t n, size_t *cap, size_t elem)
{
    if (n < *cap) return v;
    *cap = *cap ? 2 * *cap : 64;
    return xrealloc(v, *cap * elem);
}

typedef struct {
    int32_t *v;
    size_t n, cap;
} IdBuf; /* token ids */

static void id_push(IdBuf *b, int32_t x)
{
    b->v = grow(b->v, b->n, &b->cap, sizeof *b->v);
    b->v[b->n++] = x;
}

/* ---- hashing ---- */

static uint64_t hash_u64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

static uint64_t hash_bytes(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)s[i]) * 1099511628211ULL;
    return hash_u64(h);
}

static size_t pow2_at_least(size_t n)
{
    size_t c = 16;
    while (c < n) c *= 2;
    return c;
}

/* ---- pair map (left id, right id) -> rank ---- */

static uint64_t pair_key(int32_t a, int32_t b) { return (((uint64_t)(uint32_t)a << 32) | (uint32_t)b) + 1; }

static void pairmap_put(TokPairMap *m, int32_t a, int32_t b, int32_t rank)
{
    uint64_t key = pair_key(a, b);
    size_t i = hash_u64(key) & (m->cap - 1);
    while (m->keys[i] && m->keys[i] != key) i = (i + 1) & (m->cap - 1);
    m->keys[i] = key;
    m->vals[i] = rank;
}

/* Rank of (a, b), or -1 when the pair is not a merge. */
static int32_t pairmap_get(const TokPairMap *m, int32_t a, int32_t b)
{
    uint64_t key = pair_key(a, b);
    size_t i = hash_u64(key) & (m->cap - 1);
    while (m->keys[i]) {
        if (m->keys[i] == key) return m->vals[i];
        i = (i + 1) & (m->cap - 1);
    }
    return -1;
}

/* ---- symbol string -> id map, used only while loading ---- */

typedef struct {
    char **keys; /* (cap) xmalloc'ed or NULL */
    int32_t *ids;
    size_t cap;
} StrMap;

static int32_t strmap_get(const StrMap *m, const char *s, size_t n)
{
    size_t i = hash_bytes(s, n) & (m->cap - 1);
    while (m->keys[i]) {
        if (strlen(m->keys[i]) == n && memcmp(m->keys[i], s, n) == 0) return m->ids[i];
        i = (i + 1) & (m->cap - 1);
    }
    return -1;
}

/* Insert a new key (xmalloc'ed, ownership taken); returns 0, or -1 if it already exists. */
static int strmap_put(StrMap *m, char *key, int32_t id)
{
    size_t n = strlen(key);
    size_t i = hash_bytes(key, n) & (m->cap - 1);
    while (m->keys[i]) {
        if (strcmp(m->keys[i], key) == 0) {
            free(key);
            return -1;
        }
        i = (i + 1) & (m->cap - 1);
    }
    m->keys[i] = key;
    m->ids[i] = id;
    return 0;
}

static void strmap_free(StrMap *m)
{
    for (size_t i = 0; i < m->cap; i++) free(m->keys ? m->keys[i] : NULL);
    free(m->keys);
    free(m->ids);
    memset(m, 0, sizeof *m);
}

/* ---- BPE on one pre-token ---- */

/* word (n ids) is merged in place by lowest rank; returns the new length. */
static size_t bpe_merge(const TokPairMap *ranks, int32_t *word, size_t n)
{
    while (n > 1) {
        int32_t best = -1;
        for (size_t i = 0; i + 1 < n; i++) {
            int32_t r = pairmap_get(ranks, word[i], word[i + 1]);
            if (r >= 0 && (best < 0 || r < best)) best = r;
        }
        if (best < 0) break;
        /* merge every non-overlapping occurrence of the best pair, left to right */
        size_t w = 0;
        for (size_t i = 0; i < n;) {
            if (i + 1 < n && pairmap_get(ranks, word[i], word[i + 1]) == best) {
                word[w++] = 512 + best;
                i += 2;
            } else {
                word[w++] = word[i++];
            }
        }
        n = w;
    }
    return n;
}

static void cache_clear(TokCache *c)
{
    for (size_t i = 0; i < c->cap; i++) {
        free(c->keys[i]);
        free(c->ids[i]);
    }
    free(c->keys);
    free(c->ids);
    memset(c, 0, sizeof *c);
}

static const int32_t *cache_get(const TokCache *c, const char *s, size_t n)
{
    if (!c->cap) return NULL;
    size_t i = hash_bytes(s, n) & (c->cap - 1);
    while (c->keys[i]) {
        if (strcmp(c->keys[i], s) == 0) return c->ids[i];
        i = (i + 1) & (c->cap - 1);
    }
    return NULL;
}

static void cache_put(TokCache *c, const char *s, size_t n, const int32_t *ids, size_t count)
{
    if (c->count >= TOKENIZER_CACHE_MAX) cache_clear(c);
    if (2 * (c->count + 1) > c->cap) { /* grow: keep the load factor <= 1/2 */
        TokCache old = *c;
        c->cap = old.cap ? 2 * old.cap : 1024;
        c->keys = xcalloc(c->cap, sizeof *c->keys);
        c->ids = xcalloc(c->cap, sizeof *c->ids);
        for (size_t k = 0; k < old.cap; k++) {
            if (!old.keys[k]) continue;
            size_t i = hash_bytes(old.keys[k], strlen(old.keys[k])) & (c->cap - 1);
            while (c->keys[i]) i = (i + 1) & (c->cap - 1);
            c->keys[i] = old.keys[k];
            c->ids[i] = old.ids[k];
        }
        free(old.keys);
        free(old.ids);
    }
    size_t i = hash_bytes(s, n) & (c->cap - 1);
    while (c->keys[i]) i = (i + 1) & (c->cap - 1);
    c->keys[i] = xmalloc(n + 1);
    memcpy(c->keys[i], s, n);
    c->keys[i][n] = 0;
    c->ids[i] = xmalloc((count + 1) * sizeof(int32_t));
    c->ids[i][0] = (int32_t)count;
    memcpy(c->ids[i] + 1, ids, count * sizeof(int32_t));
    c->count++;
}

/* Append the BPE ids of the pre-token cps[0..n) to out. */
static void encode_pretoken(Tokenizer *t, const uint32_t *cps, size_t n, IdBuf *out)
{
    char *utf8 = xmalloc(4 * n + 1);
    size_t len = 0;
    for (size_t i = 0; i < n; i++) len += tokenizer_utf8_put(utf8 + len, cps[i]);
    utf8[len] = 0;
    const int32_t *hit = cache_get(&t->cache, utf8, len);
    if (hit) {
        for (int32_t k = 0; k < hit[0]; k++) id_push(out, hit[1 + k]);
        free(utf8);
        return;
    }
    int32_t *word = xmalloc(len * sizeof *word);
    for (size_t i = 0; i < len; i++) word[i] = t->byte_id[(uint8_t)utf8[i]];
    word[len - 1] += 256; /* last symbol carries </w> */
    size_t m = bpe_merge(&t->ranks, word, len);
    cache_put(&t->cache, utf8, len, word, m);
    for (size_t i = 0; i < m; i++) id_push(out, word[i]);
    free(word);
    free(utf8);
}

/* Length of a contraction ('s 't 're 've 'm 'll 'd) at text[i], or 0. */
static size_t contraction_len(const TokenizerCodepoints *text, size_t i)
{
    static const char *const SUFFIX[] = {"'s", "'t", "'re", "'ve", "'m", "'ll", "'d"};
    for (size_t k = 0; k < ARRAY_LEN(SUFFIX); k++)
        if (tokenizer_cp_starts(text, i, SUFFIX[k])) return strlen(SUFFIX[k]);
    return 0;
}

/* Pre-tokenise the cleaned text and BPE-encode every piece into out. */
static void encode_clean(Tokenizer *t, const TokenizerCodepoints *text, IdBuf *out)
{
    size_t i = 0;
    while (i < text->n) {
        uint32_t c = text->v[i];
        size_t len = contraction_len(text, i);
        if (len == 0) {
            if (tokenizer_is_letter(c)) {
                while (i + len < text->n && tokenizer_is_letter(text->v[i + len])) len++;
            } else if (tokenizer_is_number(c)) {
                len = 1;
            } else if (!tokenizer_is_space(c)) {
                while (i + len < text->n) {
                    uint32_t d = text->v[i + len];
                    if (tokenizer_is_space(d) || tokenizer_is_letter(d) || tokenizer_is_number(d)) break;
                    len++;
                }
            }
        }
        if (len == 0) {
            i++; /* whitespace: matched by no alternative */
            continue;
        }
        encode_pretoken(t, text->v + i, len, out);
        i += len;
    }
}

/* Clean + encode text into out (BPE ids only). Returns 0 or ERR_VALUE. */
static int encode_text(Tokenizer *t, const char *text, IdBuf *out, Error *err)
{
    static const char *const SPECIAL[] = {"<|startoftext|>", "<|endoftext|>", "<start_of_text>", "<end_of_text>"};
    CHECK(t->loaded);
    TokenizerCodepoints raw = {0}, clean = {0};
    int rc = 0;
    long bad = tokenizer_utf8_decode(text, &raw);
    if (bad >= 0) {
        rc = err_setf(err, ERR_VALUE, "tokenizer: invalid UTF-8 at byte %ld of the text (byte 0x%02x)", bad,
                      (unsigned)(uint8_t)text[bad]);
        goto done;
    }
    tokenizer_clean_text(&raw, &clean);
    for (size_t i = 0; i < clean.n; i++)
        for (size_t k = 0; k < ARRAY_LEN(SPECIAL); k++)
            if (tokenizer_cp_starts(&clean, i, SPECIAL[k])) {
                rc = err_setf(err, ERR_VALUE,
                              "tokenizer: the text contains the special token %s; special tokens are added by "
                              "the tokenizer and are not allowed in prompts",
                              SPECIAL[k]);
                goto done;
            }
    encode_clean(t, &clean, out);
done:
    free(raw.v);
    free(clean.v);
    return rc;
}

int tokenizer_encode(Tokenizer *t, const char *text, int32_t ids[TOKENIZER_CONTEXT], Error *err)
{
    IdBuf bpe = {0};
    int rc = encode_text(t, text, &bpe, err);
    if (rc == 0) {
        memset(ids, 0, TOKENIZER_CONTEXT * sizeof *ids);
        ids[0] = TOKENIZER_SOT;
        size_t n = bpe.n <= TOKENIZER_CONTEXT - 2 ? bpe.n : TOKENIZER_CONTEXT - 1;
        if (n) memcpy(ids + 1, bpe.v, n * sizeof *ids);
        if (bpe.n <= TOKENIZER_CONTEXT - 2) ids[1 + n] = TOKENIZER_EOT;
        else ids[TOKENIZER_CONTEXT - 1] = TOKENIZER_EOT; /* truncated: keep 77, force EOT last */
    }
    free(bpe.v);
    return rc;
}

int tokenizer_count(Tokenizer *t, const char *text, Error *err)
{
    IdBuf bpe = {0};
    int rc = encode_text(t, text, &bpe, err);
    int n = rc == 0 ? (int)bpe.n : -1;
    free(bpe.v);
    return n;
}

/* ---- loading ---- */

/* bytes_to_unicode(): code point of each byte's symbol, and the id order (bs list). */
static void byte_symbols(uint32_t cp_of_byte[256], int32_t id_of_byte[256])
{
    int32_t id = 0;
    for (int b = 0; b < 256; b++)
        if ((b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255)) {
            cp_of_byte[b] = (uint32_t)b;
            id_of_byte[b] = id++;
        }
    uint32_t extra = 0;
    for (int b = 0; b < 256; b++)
        if (!((b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255))) {
            cp_of_byte[b] = 256 + extra++;
            id_of_byte[b] = id++;
        }
}

/* zlib's gzerror text is "path: reason"; keep the reason. */
static const char *gz_reason(gzFile gz, const char *path, int *zerr)
{
    const char *msg = gzerror(gz, zerr);
    size_t n = strlen(path);
    return strncmp(msg, path, n) == 0 && msg[n] == ':' ? msg + n + 1 + (msg[n + 1] == ' ') : msg;
}

/* Whole decompressed file into *buf (NUL-terminated). */
static int read_gz(const char *path, char **buf, size_t *len, Error *err)
{
    gzFile gz = gzopen(path, "rb");
    if (!gz) return err_setf(err, ERR_IO, "tokenizer: cannot open vocabulary %s", path);
    size_t cap = 1 << 22, n = 0;
    char *b = xmalloc(cap + 1);
    for (;;) {
        if (n == cap) {
            cap *= 2;
            b = xrealloc(b, cap + 1);
        }
        size_t want = cap - n > (1u << 30) ? (1u << 30) : cap - n;
        int got = gzread(gz, b + n, (unsigned)want);
        if (got < 0) {
            int zerr;
            int rc = err_setf(err, ERR_IO, "tokenizer: corrupt gzip in vocabulary %s: %s", path,
                              gz_reason(gz, path, &zerr));
            gzclose(gz); /* after formatting: gzclose frees the message */
            free(b);
            return rc;
        }
        if (got == 0) break;
        n += (size_t)got;
    }
    int zerr = Z_OK;
    const char *msg = gz_reason(gz, path, &zerr);
    if (zerr != Z_OK && zerr != Z_STREAM_END) {
        int rc = err_setf(err, ERR_IO, "tokenizer: corrupt gzip in vocabulary %s: %s", path, msg);
        gzclose(gz);
        free(b);
        return rc;
    }
    if (gzclose(gz) != Z_OK) {
        free(b);
        return err_setf(err, ERR_IO, "tokenizer: corrupt or truncated gzip in vocabulary %s", path);
    }
    b[n] = 0;
    *buf = b;
    *len = n;
    return 0;
}

static char *symbol_string(const uint32_t *cps, size_t n, int end_of_word)
{
    char *s = xmalloc(4 * n + 5);
    size_t len = 0;
    for (size_t i = 0; i < n; i++) len += tokenizer_utf8_put(s + len, cps[i]);
    if (end_of_word) memcpy(s + len, "</w>", 4), len += 4;
    s[len] = 0;
    return s;
}

int tokenizer_load(Tokenizer *t, const char *vocab_gz_path, Error *err)
{
    tokenizer_free(t);
    char *buf = NULL;
    size_t len = 0;
    int rc = read_gz(vocab_gz_path, &buf, &len, err);
    if (rc) return rc;
    StrMap sym = {0};
    uint32_t cp_of_byte[256];
    byte_symbols(cp_of_byte, t->byte_id);

    char *line = buf, *nl = strchr(line, '\n');
    if (!nl || !strstr(line, "#version")) {
        rc = err_setf(err, ERR_FORMAT,
                      "tokenizer: %s is not the CLIP BPE vocabulary: expected a '#version' header line, found "
                      "'%.40s'",
                      vocab_gz_path, line);
        goto fail;
    }
    sym.cap = pow2_at_least(4 * TOKENIZER_VOCAB);
    sym.keys = xcalloc(sym.cap, sizeof *sym.keys);
    sym.ids = xcalloc(sym.cap, sizeof *sym.ids);
    for (int b = 0; b < 256; b++) {
        strmap_put(&sym, symbol_string(&cp_of_byte[b], 1, 0), t->byte_id[b]);
        strmap_put(&sym, symbol_string(&cp_of_byte[b], 1, 1), t->byte_id[b] + 256);
    }
    t->ranks.cap = pow2_at_least(2 * TOKENIZER_MERGES);
    t->ranks.keys = xcalloc(t->ranks.cap, sizeof *t->ranks.keys);
    t->ranks.vals = xcalloc(t->ranks.cap, sizeof *t->ranks.vals);
    line = nl + 1;
    for (int32_t rank = 0; rank < TOKENIZER_MERGES; rank++) {
        nl = strchr(line, '\n');
        if (!nl) {
            rc = err_setf(err, ERR_FORMAT,
                          "tokenizer: %s is truncated: expected %d merge lines after the header, found %d",
                          vocab_gz_path, TOKENIZER_MERGES, rank);
            goto fail;
        }
        *nl = 0;
        char *sp = strchr(line, ' ');
        if (!sp || sp == line || !sp[1] || strchr(sp + 1, ' ')) {
            rc = err_setf(err, ERR_FORMAT, "tokenizer: %s line %d: expected two space-separated symbols, found '%.60s'",
                          vocab_gz_path, rank + 2, line);
            goto fail;
        }
        int32_t a = strmap_get(&sym, line, (size_t)(sp - line));
        int32_t b = strmap_get(&sym, sp + 1, strlen(sp + 1));
        if (a < 0 || b < 0) {
            rc = err_setf(err, ERR_FORMAT, "tokenizer: %s line %d: symbol '%s' is not in the vocabulary built so far",
                          vocab_gz_path, rank + 2, a < 0 ? (*sp = 0, line) : sp + 1);
            goto fail;
        }
        size_t la = (size_t)(sp - line), lb = strlen(sp + 1);
        char *merged = xmalloc(la + lb + 1);
        memcpy(merged, line, la);
        memcpy(merged + la, sp + 1, lb + 1);
        if (strmap_put(&sym, merged, 512 + rank) != 0 || pairmap_get(&t->ranks, a, b) >= 0) {
            rc = err_setf(err, ERR_FORMAT, "tokenizer: %s line %d: duplicate merge '%s'", vocab_gz_path, rank + 2,
                          line);
            goto fail;
        }
        pairmap_put(&t->ranks, a, b, rank);
        line = nl + 1;
    }
    t->loaded = 1;
    strmap_free(&sym);
    free(buf);
    return 0;
fail:
    strmap_free(&sym);
    free(buf);
    tokenizer_free(t);
    return rc;
}

int32_t tokenizer_pair_rank(const Tokenizer *t, int32_t left, int32_t right)
{
    return t->ranks.cap ? pairmap_get(&t->ranks, left, right) : -1;
}

void tokenizer_free(Tokenizer *t)
{
    free(t->ranks.keys);
    free(t->ranks.vals);
    cache_clear(&t->cache);
    memset(t, 0, sizeof *t);
}

/* ---- finding the vocabulary ---- */

int tokenizer_find_vocab(char *path, size_t cap, Error *err)
{
    char tried[4][1024];
    int n = 0;
    const char *env = getenv("WINCLIP_VOCAB");
    if (env && *env) snprintf(tried[n++], sizeof tried[0], "%s", env);
    snprintf(tried[n++], sizeof tried[0], "datasets/weights/%s", VOCAB_FILE);
    const char *shared = getenv("WINCLIP_SHARED");
    if (shared && *shared) snprintf(tried[n++], sizeof tried[0], "%s/clip/%s", shared, VOCAB_FILE);
    snprintf(tried[n++], sizeof tried[0], "../shared/clip/%s", VOCAB_FILE);
    for (int i = 0; i < n; i++) {
        FILE *fp = fopen(tried[i], "rb");
        if (!fp) continue;
        fclose(fp);
        if (strlen(tried[i]) + 1 > cap)
            return err_setf(err, ERR_USAGE, "tokenizer: vocabulary path %s is longer than %zu bytes", tried[i], cap - 1);
        memcpy(path, tried[i], strlen(tried[i]) + 1);
        return 0;
    }
    char list[4200] = "";
    for (int i = 0; i < n; i++) {
        strcat(list, "\n  ");
        strcat(list, tried[i]);
    }
    return err_setf(err, ERR_MISSING,
                    "tokenizer: %s not found; tried ($WINCLIP_VOCAB, datasets/weights, $WINCLIP_SHARED/clip, "
                    "../shared/clip):%s\n`make weights` downloads it into datasets/weights/",
                    VOCAB_FILE, list);
}
