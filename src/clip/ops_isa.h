/*
 * ops_isa.h - which instruction-set path the CLIP kernels take: scalar, AVX2+FMA or AVX-512.
 *
 * Does: detects at run time what the CPU can execute and chooses the widest path, capped by
 * the environment variable WINCLIP_ISA=scalar|avx2|avx512 (so an AVX-512 machine can run the
 * AVX2 path) and by the build switch -DWINCLIP_NO_SIMD (scalar only). The binary is built
 * without -march flags; the vector kernels carry per-function target attributes.
 * Does not: run kernels (ops.c) or choose the GEMM backend (gemm.c).
 * Reference: conventions §2.10 (no -march=native, SIMD chosen at run time).
 *
 *     printf("isa %s (cpu %s)\n", ops_isa_name(ops_isa_active()), ops_isa_name(ops_isa_detected()));
 */
#ifndef WINCLIP_OPS_ISA_H
#define WINCLIP_OPS_ISA_H

typedef enum OpsIsa { OPS_ISA_SCALAR = 0, OPS_ISA_AVX2 = 1, OPS_ISA_AVX512 = 2 } OpsIsa;

/* The widest path this CPU and build can execute (ignores WINCLIP_ISA). */
OpsIsa ops_isa_detected(void);

/* The path the kernels take: min(detected, WINCLIP_ISA). An unknown WINCLIP_ISA value is
 * ignored with one warning on stderr naming the variable, the value and the accepted ones. */
OpsIsa ops_isa_active(void);

/* Switch the kernels to min(isa, detected) and return that path. For tests and benchmarks:
 * not to be called while kernels run on other threads. */
OpsIsa ops_isa_set(OpsIsa isa);

/* "scalar", "avx2" or "avx512". */
const char *ops_isa_name(OpsIsa isa);

#endif
