/* SPDX-License-Identifier: MIT */
/* tinylm: xorshift64* generator. Quality is far beyond what random weights and sampling
 * need; what matters is that it is fast, portable and identical on every machine. */
#include "rng.h"

/* splitmix64 scrambles a seed so that nearby seeds (1, 2, 3) start far apart. */
static uint64_t rng_mix(uint64_t z)
{
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void rng_init(struct rng *r, uint64_t seed, uint64_t stream)
{
    r->state = rng_mix(seed ^ rng_mix(stream));
    /* xorshift is stuck at 0 forever; any other state is fine */
    if (r->state == 0)
        r->state = 0x2545f4914f6cdd1dULL;
}

uint64_t rng_next_u64(struct rng *r)
{
    uint64_t x = r->state;

    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    r->state = x;
    return x * 0x2545f4914f6cdd1dULL;
}

float rng_next_unit(struct rng *r)
{
    /* 24 high bits: exactly representable in a float, so the result is < 1 */
    return (float)(rng_next_u64(r) >> 40) * (1.0f / 16777216.0f);
}

uint32_t rng_next_below(struct rng *r, uint32_t n)
{
    /* multiply-shift instead of modulo: the bias is below 2^-32, irrelevant here */
    return (uint32_t)(((rng_next_u64(r) >> 32) * (uint64_t)n) >> 32);
}
