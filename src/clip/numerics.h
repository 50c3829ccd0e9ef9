/*
 * numerics.h - the run-time choices that decide the last bits of a CLIP forward pass, as one
 * string for provenance records.
 *
 * Does: names our kernel path (ops_isa: scalar, avx2, avx512), the GEMM backend with the
 * kernels it chose on this CPU (oneDNN's effective ISA, OpenBLAS's core), the GEMM's thread
 * count (oneDNN splits the reduction of some products across threads, e.g. the full image's
 * MLP output at M = 226, K = 3584 on AVX-512, so the thread count can change the last bit) and
 * its threading (OpenMP, pthreads or serial: it decides whether the full image's attention
 * takes GEMMs, gemm_one_thread_in_parallel).
 * Two processes of one build with equal strings compute bit-identical features from the same
 * inputs; two with different strings agree within the golden-fixture tolerances.
 * Does not: choose any of them (ops_isa.c, gemm.c, the environment do).
 * Reference: issue 13 (three kernel paths, one accuracy contract).
 *
 *     char n[CLIP_NUMERICS_CAP];
 *     clip_numerics(n, sizeof n);   // "kernels=avx512;gemm=onednn/avx512_core_amx;threads=2/openmp"
 */
#ifndef WINCLIP_NUMERICS_H
#define WINCLIP_NUMERICS_H

#include <stddef.h>

enum { CLIP_NUMERICS_CAP = 128 };

/* Writes the string (truncated to cap - 1 bytes, always terminated). */
void clip_numerics(char *buf, size_t cap);

#endif
