/* SPDX-License-Identifier: MIT */
/* tinylm: a small transformer decoder (RMSNorm, GQA attention with RoPE and a KV cache,
 * SwiGLU MLP) with seeded random fp32 weights, instrumented with libnctop. */
#ifndef NCTOP_TINYLM_MODEL_H
#define NCTOP_TINYLM_MODEL_H

#include <stdbool.h>
#include <stdint.h>

struct workers;

/* The shape and sampling settings. Callers validate it (model_new asserts the invariants):
 * dim = n_heads * head_dim with head_dim even, n_heads a multiple of n_kv_heads. */
struct model_config {
    int n_layers;
    int dim;        /* width of the residual stream */
    int n_heads;    /* query heads */
    int n_kv_heads; /* key/value heads, shared by n_heads / n_kv_heads query heads each */
    int ffn_dim;    /* hidden width of the SwiGLU MLP */
    int vocab;
    int ctx; /* KV cache capacity, in tokens */
    float temperature;
    int top_k;
    uint64_t seed; /* weights, prompts and sampling all derive from it */
};

struct model;

/* Allocate and initialise the weights, the KV cache and the tensor pool, and register the
 * weights, the gauges and every span and kernel name with libnctop. workers is borrowed and
 * must outlive the model. NULL with errno set on failure. Owned: model_free(). */
struct model *model_new(const struct model_config *cfg, struct workers *workers);

/* Release everything. The weight registrations stay in the segment, so a process that
 * exits keeps showing what it held. NULL is a no-op. */
void model_free(struct model *m);

/* Empty the KV cache: the next step is position 0 of a new sequence. */
void model_reset(struct model *m);

/* Run one token through the model at the next position (one "step" span). When sample is
 * true, also compute the logits and return the sampled next token; otherwise (a prompt
 * token whose successor is known) skip the output head and return -1. The cache must have
 * room: model_position() < ctx. */
int model_step(struct model *m, int token, bool sample);

/* Positions filled in the KV cache. */
int model_position(const struct model *m);

/* Total bytes of all weight tensors. */
uint64_t model_weight_bytes(const struct model *m);

#endif /* NCTOP_TINYLM_MODEL_H */
