/* SPDX-License-Identifier: MIT */
/* tinylm: a small seeded pseudo-random generator (xorshift64*, seeded through splitmix64)
 * used for the weights, the prompts and the sampler, so a seed fixes every run. */
#ifndef NCTOP_TINYLM_RNG_H
#define NCTOP_TINYLM_RNG_H

#include <stdint.h>

/* Transparent: embedded by value wherever a stream of numbers is needed. */
struct rng {
    uint64_t state; /* never 0 */
};

/* Start a stream from seed; different stream ids give unrelated streams for one seed. */
void rng_init(struct rng *r, uint64_t seed, uint64_t stream);

/* The next 64 random bits. */
uint64_t rng_next_u64(struct rng *r);

/* A float uniform in [0, 1). */
float rng_next_unit(struct rng *r);

/* An integer uniform in [0, n), n > 0. */
uint32_t rng_next_below(struct rng *r, uint32_t n);

#endif /* NCTOP_TINYLM_RNG_H */
