/*
 * rng.c - SplitMix64, rejection-sampled bounded draws and Fisher-Yates (see rng.h for the
 * exact algorithm, which is part of the reproducibility contract).
 */
#include "util/rng.h"

#include "util/base.h"

#include <string.h>

uint64_t rng_fnv1a64(const void *data, size_t len)
{
    const unsigned char *p = data;
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

uint64_t rng_fnv1a64_str(const char *s)
{
    return rng_fnv1a64(s, strlen(s));
}

void rng_seed(Rng *rng, uint64_t seed)
{
    rng->state = seed;
}

void rng_seed_for(Rng *rng, const char *dataset, const char *category, uint64_t seed)
{
    /* hash "<dataset>/<category>" without building the string */
    uint64_t h = 0xcbf29ce484222325ULL;
    const char *parts[3] = {dataset, "/", category};
    for (int k = 0; k < 3; k++)
        for (const unsigned char *p = (const unsigned char *)parts[k]; *p; p++) {
            h ^= *p;
            h *= 0x100000001b3ULL;
        }
    rng->state = h ^ (seed * RNG_GOLDEN);
}

uint64_t rng_next(Rng *rng)
{
    uint64_t z = (rng->state += RNG_GOLDEN);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

uint64_t rng_below(Rng *rng, uint64_t n)
{
    CHECK(n > 0);
    uint64_t threshold = (0 - n) % n; /* 2^64 mod n: values below it would bias r % n */
    for (;;) {
        uint64_t r = rng_next(rng);
        if (r >= threshold) return r % n;
    }
}

double rng_uniform(Rng *rng)
{
    return (double)(rng_next(rng) >> 11) * 0x1.0p-53;
}

double rng_range(Rng *rng, double lo, double hi)
{
    return lo + (hi - lo) * rng_uniform(rng);
}

void rng_shuffle(Rng *rng, size_t *items, size_t n)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)rng_below(rng, (uint64_t)i);
        size_t t = items[i - 1];
        items[i - 1] = items[j];
        items[j] = t;
    }
}
