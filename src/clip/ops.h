/*
 * ops.h - fp32 kernels of the CLIP transformer: linear, layernorm, GELU, softmax, attention.
 *
 * Does: the per-layer math on raw row-major float arrays; every matrix product goes through
 * gemm.h. Outputs come first, inputs are const, nothing allocates (callers pass scratch).
 * Does not: know about models, weights or sequences of layers (clip_vision.c, clip_text.c).
 * Reference: shared/spec/clip.md §1.1 (GELU/QuickGELU), §1.2 (LayerNorm), §2.1 (attention),
 * §2.2 step 1 (conv1 as GEMM); conventions §2.4, §2.10.
 *
 *     ops_layernorm(h, x, ln_w, ln_b, T, C);                  // h = LN(x)
 *     ops_linear(qkv, h, in_proj_w, in_proj_b, T, C, 3 * C);  // (T, 3C)
 *     ops_attention(o, qkv, att, att_len, 1, T, C, NH, 0);    // (T, C)
 *     ops_linear_residual(x, o, out_proj_w, out_proj_b, T, C, C);
 */
#ifndef WINCLIP_OPS_H
#define WINCLIP_OPS_H

#include <stddef.h>

/* Legend: B sequences, T tokens per sequence, C channels, OC output channels, NH heads,
 * HS head size (C = NH * HS), R rows, N columns, S image side, P patch side, G = S / P. */

#define OPS_LN_EPS 1e-5

/* ---- linear layers ---- */

/* out (T, OC) = inp (T, C) @ w^T + bias; w stored (OC, C) (PyTorch [out, in]); bias (OC) or NULL. */
void ops_linear(float *out, const float *inp, const float *w, const float *bias, int T, int C, int OC);

/* x (T, OC) += inp (T, C) @ w^T + bias: a linear layer added onto the residual stream. */
void ops_linear_residual(float *x, const float *inp, const float *w, const float *bias, int T, int C, int OC);

/* out (T, OC) = inp (T, C) @ w with w stored (C, OC): `visual.proj`, `text_projection`
 * (NOT transposed). inp rows are `ld_inp` floats apart (>= C), so a strided selection of
 * rows (e.g. token 0 of each sequence) can be projected in place. */
void ops_project(float *out, const float *inp, int ld_inp, const float *w, int T, int C, int OC);

/* ---- normalisation and activations ---- */

/* out (T, C) = (x - mean) / sqrt(var + 1e-5) * w + b per row; biased variance; statistics in
 * double. out may alias inp. */
void ops_layernorm(float *out, const float *inp, const float *w, const float *b, int T, int C);

/* x (T, C) += bias (C), then h (T, C) = LN(x) as ops_layernorm, in one pass over the rows:
 * the bias of a residual linear layer (ops_linear_residual with bias NULL) fused with the
 * LayerNorm that follows it. Same results as the two steps apart. h must not alias x. */
void ops_bias_add_layernorm(float *h, float *x, const float *bias, const float *w, const float *b, int T, int C);

/* x (n) = 0.5 x (1 + erf(x / sqrt 2)), exact erf (nn.GELU()), in place. */
void ops_gelu(float *x, size_t n);

/* x (n) = x * sigmoid(1.702 x) (QuickGELU, OpenAI CLIP), in place. */
void ops_quick_gelu(float *x, size_t n);

/* x (n) = act(x + bias[i % N]) for a (n / N, N) array: bias add fused with the MLP activation
 * (quick != 0: QuickGELU, else exact GELU). */
void ops_bias_act(float *x, const float *bias, size_t rows, int N, int quick);

/* Each row of x (R, N): softmax over the first `valid` columns (max subtracted, sum in double);
 * columns >= valid are set to 0 (an additive -inf mask). valid = N for no mask. In place. */
void ops_softmax_row(float *x, int N, int valid);

/* x (n) += y (n). */
void ops_add(float *x, const float *y, size_t n);

/* Each row of x (R, C) divided by its L2 norm (double); zero rows stay zero. In place. */
void ops_l2_normalize(float *x, int R, int C);

/* ---- attention ---- */

/* Multi-head self-attention of B independent sequences of T tokens each (no mixing between
 * sequences): qkv (B*T, 3C), row = [q | k | v] with head h in columns [h*HS, (h+1)*HS) of each
 * part; out (B*T, C) = concat_h softmax(q_h k_h^T / sqrt(HS) + mask) v_h; causal != 0 masks
 * key j > query i (text tower). att: att_len floats of scratch, ops_attention_scratch(T, C, NH)
 * for full use of the threads (at least T*T + T*HS; fewer threads are used if it is smaller). */
void ops_attention(float *out, const float *qkv, float *att, size_t att_len, int B, int T, int C, int NH, int causal);

/* As ops_attention, with qkv's bias (3C) added here (bias NULL: none), to each item's rows (or
 * head columns) by the thread that then attends over them: the bias of the qkv projection
 * without a pass of its own. qkv is updated in place (it then holds the biased q, k, v). Same results as
 * ops_linear with the bias followed by ops_attention. */
void ops_attention_bias(float *out, float *qkv, const float *bias, float *att, size_t att_len, int B, int T, int C,
                        int NH, int causal);

/* `count` sequences of `len` tokens each, stored as consecutive rows. */
typedef struct {
    int count, len;
} ClipSeqGroup;

/* ops_attention_bias over ng groups of sequences stored one after another (rows = sum of
 * count * len; out and qkv as there), in one parallel pass: one item per sequence (its heads
 * inside) when there are many sequences, else one per (sequence, head). att_len as
 * ops_attention_scratch for the longest len. The same bits as one call per group. */
void ops_attention_groups(float *out, float *qkv, const float *bias, float *att, size_t att_len, const ClipSeqGroup *g,
                          int ng, int C, int NH, int causal);

/* Floats of scratch ops_attention uses: T*T scores + T*HS for a transposed key block, per
 * thread (ops_threads()). */
size_t ops_attention_scratch(int T, int C, int NH);

/* Causal sequences that share their common prefixes (prompts of one template, say): each
 * distinct prefix is computed once, in one row of the shared rows. Sequence b has len[b]
 * tokens; its position i is row row_of[b * stride + i]; the rows of positions < own[b] belong
 * to an earlier sequence (the same prefix), those >= own[b] to b alone. Under a causal mask a
 * position sees only itself and the positions before it, so one row serves every sequence
 * with that prefix: the same result as the sequences computed separately. */
typedef struct {
    int n_seq, stride;
    const int *len, *own, *row_of;
} OpsPrefixSeqs;

/* Causal attention of the sequences of p over the shared rows: qkv (rows, 3C), read only, its
 * bias (3C, NULL: none) added to each sequence's copy of its rows; out (rows, C): each row
 * written once, by the sequence that owns it. Each sequence is gathered into a contiguous
 * block and attended as ops_attention_bias would attend it alone: the same bits. att: att_len
 * floats, ops_attention_prefix_scratch(longest len, C, NH). One parallel pass over sequences. */
void ops_attention_prefix(float *out, const float *qkv, const float *bias, float *att, size_t att_len,
                          const OpsPrefixSeqs *p, int C, int NH);

/* Floats of scratch ops_attention_prefix uses: per thread, ops_attention's T*T + T*HS and the
 * gathered q, k, v (T, 3C) and output (T, C) of one sequence. */
size_t ops_attention_prefix_scratch(int T, int C, int NH);

/* Threads the row-parallel kernels use: OpenMP's (OMP_NUM_THREADS) when built with -fopenmp,
 * else 1. Results do not depend on it. */
int ops_threads(void);

/* Attention for the query rows `q_rows` (Q indices, ascending, each < T) of ONE sequence
 * against all its T keys: out (Q, C); serial. Used where only some outputs are needed (the CLS
 * row of WinCLIP windows in the last block). att: scratch >= T floats. */
void ops_attention_rows(float *out, const float *qkv, float *att, int T, const int *q_rows, int Q, int C, int NH);

/* ---- patch embedding ---- */

/* out (G*G, 3*P*P) = the image (3, S, S) cut into P x P patches, row-major over the grid,
 * each unrolled in (channel, ky, kx) order: conv1 (stride P, no bias) is then
 * ops_linear(tokens, out, conv1_w, NULL, G*G, 3*P*P, W). */
void ops_patchify(float *out, const float *img, int S, int P);

#endif
