/*
 * rng.h - the project's portable pseudo-random numbers: SplitMix64, unbiased bounded draws,
 * Fisher-Yates shuffles, seeded from (dataset, category, seed).
 *
 * Does: integer-only generation, so every machine, compiler and libc gives the same numbers.
 * Does not: cryptography; floating-point distributions beyond rng_uniform (exact: 53 bits).
 * Reference: datasets.md §4 (few-shot sampling rule); SplitMix64 as published by Steele, Lea
 * and Flood ("Fast splittable pseudorandom number generators", OOPSLA 2014).
 *
 *     Rng rng;
 *     rng_seed_for(&rng, "mvtec", "bottle", 0);
 *     size_t idx[209];
 *     for (size_t i = 0; i < 209; i++) idx[i] = i;
 *     rng_shuffle(&rng, idx, 209);      // idx[0..K-1] = the K-shot references
 *
 * The exact algorithm (part of the results' reproducibility contract; do not change it):
 *   FNV-1a 64:  h = 0xcbf29ce484222325; for each byte b: h ^= b; h *= 0x100000001b3 (mod 2^64).
 *   seeding:    state = FNV1a64("<dataset>/<category>") XOR (seed * 0x9e3779b97f4a7c15) (mod 2^64).
 *   next:       state += 0x9e3779b97f4a7c15; z = state;
 *               z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9; z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
 *               return z ^ (z >> 31).
 *   below(n):   n > 0; t = (2^64 - n) mod n; draw r = next() until r >= t; return r mod n
 *               (rejection: every value in [0, n) has the same probability).
 *   shuffle:    Fisher-Yates from the end: for i = n-1 down to 1: j = below(i+1); swap a[i], a[j].
 * Few-shot K references = the first K entries of ONE shuffle of the sorted train/good list, so the
 * sets are nested across K (the 1-shot image is in the 2- and 4-shot sets).
 */
#ifndef WINCLIP_RNG_H
#define WINCLIP_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint64_t state; /* SplitMix64 state; any value is valid */
} Rng;

#define RNG_GOLDEN 0x9e3779b97f4a7c15ULL

/* FNV-1a 64-bit hash of len bytes / of a NUL-terminated string. */
uint64_t rng_fnv1a64(const void *data, size_t len);
uint64_t rng_fnv1a64_str(const char *s);

/* state = seed exactly. */
void rng_seed(Rng *rng, uint64_t seed);

/* state = FNV1a64("<dataset>/<category>") ^ (seed * RNG_GOLDEN). */
void rng_seed_for(Rng *rng, const char *dataset, const char *category, uint64_t seed);

/* Next 64 random bits (SplitMix64). */
uint64_t rng_next(Rng *rng);

/* Uniform integer in [0, n), unbiased (rejection). n must be > 0 (CHECKed). */
uint64_t rng_below(Rng *rng, uint64_t n);

/* Uniform double in [0, 1): (next() >> 11) * 2^-53. */
double rng_uniform(Rng *rng);

/* Uniform double in [lo, hi). */
double rng_range(Rng *rng, double lo, double hi);

/* Fisher-Yates shuffle of items[0..n-1] in place (algorithm above). */
void rng_shuffle(Rng *rng, size_t *items, size_t n);

#endif
