/* SPDX-License-Identifier: MIT */
/* snn: the seeded generator behind every random choice (connectivity, weights, delays, the
 * Poisson inputs), so one seed fixes a whole run on every machine. */
#ifndef NCTOP_SNN_RNG_H
#define NCTOP_SNN_RNG_H

#include <stdint.h>

/* Transparent: embedded by value wherever a stream is needed. */
struct rng {
    uint64_t state;
};

/* Start a stream from seed; different stream ids give unrelated streams for one seed. */
void rng_init(struct rng *r, uint64_t seed, uint64_t stream);

/* The next 64 random bits. */
uint64_t rng_next(struct rng *r);

/* A double uniform in [0, 1). */
double rng_unit(struct rng *r);

/* An integer uniform in [0, n), n > 0. */
uint32_t rng_below(struct rng *r, uint32_t n);

/* The threshold for rng_next() that is crossed with probability p in [0, 1]: "rng_next(r) <
 * rng_threshold(p)" is a Bernoulli(p) draw without floating point in the hot loop. */
uint64_t rng_threshold(double p);

/* A Poisson draw of mean lambda, given exp_neg_lambda = exp(-lambda) (precomputed by the
 * caller). Knuth's product method: cost grows with lambda, meant for lambda below ~10. */
uint32_t rng_poisson(struct rng *r, double exp_neg_lambda);

/* Draw k distinct integers of [base, base + m) into out (k <= m), never `skip` (when skip is
 * in range and k >= m, only m - 1 are drawn): rejection against stamp in mark, which is
 * indexed by value (base + m entries) and must hold no stamp yet for this draw. The runtime's
 * networks and the compiler draw connectivity through this one function, so one seed gives
 * both the same synapses. */
void rng_pick(struct rng *r, uint32_t base, uint32_t m, uint32_t k, uint32_t skip, uint32_t *mark,
              uint32_t stamp, uint32_t *out);

#endif /* NCTOP_SNN_RNG_H */
