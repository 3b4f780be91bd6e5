/* SPDX-License-Identifier: MIT */
/* snn: splitmix64 as the generator. It passes the usual statistical batteries, has no bad
 * seeds and is a few instructions per number; the network needs nothing stronger. */
#include "rng.h"

#define RNG_GOLDEN 0x9e3779b97f4a7c15ULL

static uint64_t rng_mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void rng_init(struct rng *r, uint64_t seed, uint64_t stream)
{
    /* mixing the stream id first keeps (seed, stream) pairs apart even for nearby values */
    r->state = rng_mix(seed + RNG_GOLDEN) ^ rng_mix((stream + 1) * RNG_GOLDEN);
}

uint64_t rng_next(struct rng *r)
{
    r->state += RNG_GOLDEN;
    return rng_mix(r->state);
}

double rng_unit(struct rng *r)
{
    /* 53 high bits: exactly representable, so the result is < 1 */
    return (double)(rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

uint32_t rng_below(struct rng *r, uint32_t n)
{
    /* multiply-shift instead of modulo: the bias is below 2^-32 */
    return (uint32_t)(((rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

uint64_t rng_threshold(double p)
{
    if (!(p > 0.0)) {
        return 0;
    }
    if (p >= 1.0) {
        return UINT64_MAX;
    }
    /* 2^64 * p, computed in double: p's 53 bits of precision are all a rate needs */
    return (uint64_t)(p * 18446744073709551616.0);
}

uint32_t rng_poisson(struct rng *r, double exp_neg_lambda)
{
    double prod = rng_unit(r);
    uint32_t k = 0;

    /* multiply uniforms until the product falls below e^-lambda: k counts the draws */
    while (prod > exp_neg_lambda) {
        k++;
        prod *= rng_unit(r);
    }
    return k;
}

void rng_pick(struct rng *r, uint32_t base, uint32_t m, uint32_t k, uint32_t skip, uint32_t *mark,
              uint32_t stamp, uint32_t *out)
{
    uint32_t n = 0;

    if (skip >= base && skip < base + m && k >= m) {
        k = m - 1;
    }
    while (n < k) {
        uint32_t s = base + rng_below(r, m);

        if (s == skip || mark[s] == stamp) {
            continue;
        }
        mark[s] = stamp;
        out[n++] = s;
    }
}
