/* SPDX-License-Identifier: MIT */
/* tinylm: the fp32 compute kernels of a decoder (norm, matmul, RoPE, softmax, attention,
 * SwiGLU). Pure arithmetic: no instrumentation, no allocation, so they can be self-tested. */
#ifndef NCTOP_TINYLM_KERNELS_H
#define NCTOP_TINYLM_KERNELS_H

#include <stddef.h>

struct workers;

/* One product Y = X W^T inside a matmul job: W is rows x cols (row-major, one output feature
 * per row), X is batch x cols and Y is batch x rows. All borrowed for the call. */
struct kernels_matmul_part {
    const float *w;
    const float *x;
    float *y;
    int rows;
    int cols;
};

/* out = x / rms(x) * weight over n values (out may alias x). */
void kernels_rmsnorm(float *out, const float *x, const float *weight, int n, float eps);

/* Compute every part, with the rows of all parts together split evenly across the workers.
 * Each output element is one dot product computed the same way whatever the split, so the
 * result is bit-identical for any thread count. batch >= 1 rows of X per part. */
void kernels_matmul(struct workers *w, const struct kernels_matmul_part *parts, int n_parts,
                    int batch);

/* Rotate each head's consecutive pairs (x[2i], x[2i+1]) by pos * theta^(-2i/head_dim).
 * n_heads heads of head_dim (even) values each, in place. */
void kernels_rope(float *x, int n_heads, int head_dim, int pos, float theta);

/* In-place softmax over n values (max-subtracted, so large logits do not overflow). */
void kernels_softmax(float *x, int n);

/* Causal grouped-query attention for one query position over n_pos cached positions.
 * q: n_heads x head_dim; k_cache, v_cache: n_pos x (n_kv_heads * head_dim); query head h
 * reads KV head h / (n_heads / n_kv_heads). scores: scratch of n_heads * n_pos floats.
 * out: n_heads x head_dim. */
void kernels_attention(float *out, const float *q, const float *k_cache, const float *v_cache,
                       float *scores, int n_heads, int n_kv_heads, int head_dim, int n_pos);

/* gate = silu(gate) * up over n values: the SwiGLU activation. */
void kernels_swiglu(float *gate, const float *up, int n);

/* x += y over n values (the residual connection). */
void kernels_add(float *x, const float *y, int n);

#endif /* NCTOP_TINYLM_KERNELS_H */
