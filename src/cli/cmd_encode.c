/*
 * cmd_encode.c - `winclip encode-image` and `winclip encode-text`: CLIP embeddings on the
 * command line, one line per input, for checking the C model against open_clip by hand.
 *
 * Does: parse options, load the model (and vocabulary), preprocess / tokenize, print the
 * unnormalised embedding with %.9g. Does not: score anything (cmd_score.c).
 * Reference: shared/spec/clip.md §2.2-§2.3 (encode_image / encode_text), §4 (preprocessing).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "clip/clip_model.h"
#include "clip/clip_text.h"
#include "clip/clip_vision.h"
#include "clip/image.h"
#include "clip/tokenizer.h"

extern const Command cmd_encode_image, cmd_encode_text;

static void print_vector(const char *label, const float *v, int n)
{
    fputs(label, stdout);
    putchar('\t');
    for (int i = 0; i < n; i++) printf(i ? " %.9g" : "%.9g", (double)v[i]);
    putchar('\n');
}

static int load_model(ClipModel *m, const char *path, const char *cmd, Error *err)
{
    if (clip_model_load(m, path, err)) {
        fprintf(stderr, "winclip %s: %s\n", cmd, err->msg);
        return 1;
    }
    if (m->config_note[0]) fprintf(stderr, "winclip %s: note: %s\n", cmd, m->config_note);
    return 0;
}

typedef struct {
    const char *model_path, *vocab; /* -m, --vocab (text only) */
    ResizeMode mode;                /* --resize (image only) */
    Geometry geom;                  /* --geometry (image only) */
    int first;                      /* index of the first input */
} EncodeArgs;

/* Options of both commands; the image ones only for encode-image, --vocab only for
 * encode-text. Returns 0 or the usage-error exit status. */
static int parse_args(const Command *self, int image, int argc, char **argv, EncodeArgs *o)
{
    Error err = {0};
    *o = (EncodeArgs){NULL, NULL, RESIZE_PIL_BICUBIC, GEOMETRY_SQUASH, argc};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has_value = i + 1 < argc;
        if ((strcmp(a, "-m") == 0 || strcmp(a, "--model") == 0) && has_value) o->model_path = argv[++i];
        else if (!image && strcmp(a, "--vocab") == 0 && has_value) o->vocab = argv[++i];
        else if (image && strcmp(a, "--resize") == 0 && has_value) {
            if (image_parse_resize(argv[++i], &o->mode, &err)) return cli_usage_error(self, "%s", err.msg);
        } else if (image && strcmp(a, "--geometry") == 0 && has_value) {
            if (image_parse_geometry(argv[++i], &o->geom, &err)) return cli_usage_error(self, "%s", err.msg);
        } else if (strcmp(a, "--") == 0) {
            o->first = i + 1;
            break;
        } else if (a[0] == '-' && a[1]) return cli_usage_error(self, "unknown option or missing value: %s", a);
        else {
            o->first = i;
            break;
        }
    }
    if (!o->model_path) return cli_usage_error(self, "-m MODEL.h5 is required");
    if (o->first >= argc)
        return cli_usage_error(self, image ? "no image given" : "no text given (use - to read lines from stdin)");
    return 0;
}

static int run_image(int argc, char **argv)
{
    const Command *self = &cmd_encode_image;
    EncodeArgs o;
    int usage = parse_args(self, 1, argc, argv, &o);
    if (usage) return usage;
    const char *model_path = o.model_path;
    ResizeMode mode = o.mode;
    Geometry geom = o.geom;
    int first = o.first;
    Error err = {0};

    ClipModel model = {0};
    ClipVision vis = {0};
    ClipImageFeatures feat = {0};
    float *pixels = NULL;
    int rc = 0;
    if (load_model(&model, model_path, self->name, &err)) return 1;
    if (clip_vision_init(&vis, &model, NULL, 0, 1, &err)) {
        fprintf(stderr, "winclip %s: %s\n", self->name, err.msg);
        rc = 1;
        goto done;
    }
    clip_features_init(&feat, &vis.geom);
    int size = model.cfg.vision.image_size;
    pixels = xmalloc((size_t)3 * size * size * sizeof *pixels);
    for (int i = first; i < argc; i++) {
        Image img = {0};
        if (image_load(&img, argv[i], &err) || image_preprocess(&img, size, mode, geom, pixels, &err) ||
            clip_vision_features(&vis, pixels, &feat, &err)) {
            fprintf(stderr, "winclip %s: %s\n", self->name, err.msg);
            image_free(&img);
            rc = 1;
            goto done;
        }
        image_free(&img);
        print_vector(argv[i], feat.image_embedding, feat.geom.embed_dim);
    }
done:
    free(pixels);
    clip_features_free(&feat);
    clip_vision_free(&vis);
    clip_model_free(&model);
    return rc;
}

/* One prompt: tokenize, encode, print. */
static int encode_one(Tokenizer *tok, ClipText *enc, const char *text, float *emb, int dim, Error *err)
{
    int32_t ids[TOKENIZER_CONTEXT];
    if (tokenizer_encode(tok, text, ids, err) || clip_text_encode(enc, ids, 1, emb, err)) return 1;
    print_vector(text, emb, dim);
    return 0;
}

static int run_text(int argc, char **argv)
{
    const Command *self = &cmd_encode_text;
    EncodeArgs o;
    int usage = parse_args(self, 0, argc, argv, &o);
    if (usage) return usage;
    const char *model_path = o.model_path, *vocab = o.vocab;
    int first = o.first;
    Error err = {0};

    char vocab_path[1024];
    if (vocab) snprintf(vocab_path, sizeof vocab_path, "%s", vocab);
    else if (tokenizer_find_vocab(vocab_path, sizeof vocab_path, &err)) {
        fprintf(stderr, "winclip %s: %s\n", self->name, err.msg);
        return 1;
    }
    Tokenizer tok = {0};
    ClipModel model = {0};
    ClipText enc = {0};
    float *emb = NULL;
    char *line = NULL;
    size_t cap = 0;
    int rc = 0;
    if (tokenizer_load(&tok, vocab_path, &err)) {
        fprintf(stderr, "winclip %s: %s\n", self->name, err.msg);
        return 1;
    }
    if (load_model(&model, model_path, self->name, &err)) {
        tokenizer_free(&tok);
        return 1;
    }
    if (clip_text_init(&enc, &model, 1, &err)) {
        fprintf(stderr, "winclip %s: %s\n", self->name, err.msg);
        rc = 1;
        goto done;
    }
    emb = xmalloc((size_t)model.cfg.embed_dim * sizeof *emb);
    for (int i = first; i < argc && !rc; i++) {
        if (strcmp(argv[i], "-") != 0) {
            if (encode_one(&tok, &enc, argv[i], emb, model.cfg.embed_dim, &err)) rc = 1;
            continue;
        }
        ssize_t n;
        long lineno = 0;
        while (!rc && (n = getline(&line, &cap, stdin)) >= 0) {
            lineno++;
            while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = 0;
            if (encode_one(&tok, &enc, line, emb, model.cfg.embed_dim, &err)) {
                err_prefixf(&err, "stdin line %ld: ", lineno);
                rc = 1;
            }
        }
    }
    if (rc) fprintf(stderr, "winclip %s: %s\n", self->name, err.msg);
done:
    free(line);
    free(emb);
    clip_text_free(&enc);
    clip_model_free(&model);
    tokenizer_free(&tok);
    return rc;
}

const Command cmd_encode_image = {
    "encode-image", "print the CLIP image embedding of each image",
    "usage: winclip encode-image -m MODEL.h5 [--resize pil-bicubic|torch-bicubic-aa]\n"
    "                            [--geometry squash|shortest-crop] IMG...\n\n"
    "Loads each PNG/JPEG (gray, gray+alpha, RGB or RGBA; converted to RGB), resizes it to the\n"
    "model's image size (default: Pillow bicubic on 8-bit pixels, squashed to a square; open_clip's\n"
    "own eval transform is --geometry shortest-crop), normalises with the CLIP mean/std and runs the\n"
    "vision tower. Prints one line per image:\n\n"
    "    PATH<TAB>v1 v2 ... vE\n\n"
    "the unnormalised embedding ln_post(CLS) @ proj (as open_clip encode_image), %.9g.\n\n"
    "example:\n    winclip encode-image -m datasets/weights/vit_b_16_plus_240_laion400m_e31.h5 a.png b.png\n",
    run_image};

const Command cmd_encode_text = {
    "encode-text", "print the CLIP text embedding of each prompt",
    "usage: winclip encode-text -m MODEL.h5 [--vocab bpe_simple_vocab_16e6.txt.gz] TEXT...\n"
    "       winclip encode-text -m MODEL.h5 -          (one prompt per line on stdin)\n\n"
    "Tokenizes each prompt with the CLIP BPE (77 ids: SOT ... EOT, zero padded, truncated with EOT\n"
    "forced last) and runs the text tower. Prints one line per prompt:\n\n"
    "    TEXT<TAB>v1 v2 ... vE\n\n"
    "the unnormalised embedding (EOT row after ln_final @ text_projection, as open_clip\n"
    "encode_text), %.9g. The vocabulary is found as in `winclip tokenize` ($WINCLIP_VOCAB,\n"
    "datasets/weights/, $WINCLIP_SHARED/clip/, ../shared/clip/) unless --vocab is given.\n\n"
    "example:\n    winclip encode-text -m model.h5 \"a photo of a damaged bottle.\"\n",
    run_text};
