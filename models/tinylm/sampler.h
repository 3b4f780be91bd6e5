/* SPDX-License-Identifier: MIT */
/* tinylm: next-token sampling with temperature and top-k from a seeded generator, so one
 * seed always yields one token sequence. */
#ifndef NCTOP_TINYLM_SAMPLER_H
#define NCTOP_TINYLM_SAMPLER_H

#include "rng.h"

/* Transparent; set up with sampler_init(), nothing to free. */
struct sampler {
    float temperature; /* 0 = greedy (argmax) */
    int top_k;         /* candidates kept, >= 1 */
    struct rng rng;
};

void sampler_init(struct sampler *s, float temperature, int top_k, uint64_t seed);

/* Pick a token id from logits[0..vocab). cand_logit and cand_id are scratch arrays of
 * top_k entries each (borrowed). logits are read only. */
int sampler_pick(struct sampler *s, const float *logits, int vocab, float *cand_logit,
                 int *cand_id);

#endif /* NCTOP_TINYLM_SAMPLER_H */
