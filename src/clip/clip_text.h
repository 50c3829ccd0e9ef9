/*
 * clip_text.h - the causal text transformer of OpenCLIP: token ids -> text embeddings.
 *
 * Does: token + positional embedding, the causal pre-LN blocks, ln_final, pooling at the EOT
 * position (argmax id, first maximum) and text_projection, for a batch of prompts. Each prompt
 * is run only over positions 0..EOT (the causal mask makes later positions irrelevant), and
 * the positions prompts share are run once: under the causal mask a position depends only on
 * the tokens up to it, so prompts with a common prefix ("a photo of the" in the 11 states of a
 * template) share its rows (clip_block_forward_prefix; the 242 prompts of the WinCLIP
 * ensemble need 999 rows instead of 2,772 in one batch, 1,024 in the pipeline's four sorted
 * batches of 64). All rows in one GEMM per linear layer; no allocation after init.
 * Does not: tokenize (tokenizer.h) or normalise the embeddings (ops_l2_normalize).
 * Reference: shared/spec/clip.md §2.1, §2.3; open_clip model.py CLIP.encode_text.
 *
 *     ClipText t = {0};
 *     if (clip_text_init(&t, &model, 64, &err)) goto fail;
 *     if (clip_text_encode(&t, ids, n_prompts, emb, &err)) goto fail;   // ids (n, 77), emb (n, E)
 *     clip_text_free(&t);
 */
#ifndef WINCLIP_CLIP_TEXT_H
#define WINCLIP_CLIP_TEXT_H

#include "util/base.h"
#include "clip/clip_block.h"
#include "clip/clip_model.h"

#include <stdint.h>

/* Legend: B prompts, L context length (77), Wt text width, E embed dim. */

typedef struct ClipText {
    const ClipModel *model; /* borrowed, must outlive the encoder */
    int width, heads, context_length, embed_dim, max_batch; /* Wt, NH, L, E, B_max */
    float *arena;           /* the one activation allocation */
    float *x;               /* (B_max * L, Wt) residual stream (prompts' rows concatenated) */
    float *h;               /* (B_max * L, Wt) LayerNorm / attention output */
    float *qkv;             /* (B_max * L, 3Wt) */
    float *mlp;             /* (B_max * L, 4Wt) */
    float *att;             /* (att_len) attention scratch */
    size_t att_len;         /* ops_attention_prefix_scratch(L, Wt, NH) at init */
    float *pooled;          /* (B_max, Wt) ln_final of each EOT row */
    int *seq_len, *seq_own; /* (B_max) positions run, first position of a row of its own */
    int *row_of;            /* (B_max, L) row of each position (shared prefixes: one row) */
} ClipText;

/* Prepare an encoder for up to max_batch prompts per call. Returns 0 or ERR_USAGE. */
int clip_text_init(ClipText *t, const ClipModel *m, int max_batch, Error *err);

/* out (B, E) = text embeddings (unnormalised) of ids (B, L) (SOT ... EOT, zero padded; every id
 * in [0, vocab)). 1 <= B <= max_batch. Returns 0, ERR_USAGE (B) or ERR_VALUE (an id out of
 * range, naming prompt and position). The prompts of a batch share their common prefixes, so
 * a batch of prompts sorted by their ids (clip_text_sort) runs fewest rows; a prompt's
 * embedding does not depend on the others beyond rounding (the GEMM backend's rows may round
 * with the row count). */
int clip_text_encode(ClipText *t, const int32_t *ids, int B, float *out, Error *err);

/* As clip_text_encode, but every prompt runs over all L positions and tokens_ln_final
 * (B, L, Wt) receives ln_final of every position (parity tests; slower). */
int clip_text_encode_all_positions(ClipText *t, const int32_t *ids, int B, float *out, float *tokens_ln_final,
                                   Error *err);

/* order (n) = 0 .. n-1 sorted by the prompts' ids (n, L) (lexicographic, ties by index):
 * prompts with a common prefix end up next to each other, so batches of consecutive prompts
 * of this order share the most rows. */
void clip_text_sort(const int32_t *ids, int n, int L, int *order);

void clip_text_free(ClipText *t);

#endif
