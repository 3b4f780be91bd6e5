/* SPDX-License-Identifier: MIT */
/* tinylm: the tensor pool, one arena reserved at start-up from which each step carves its
 * activations (a bump allocator released to a mark), published to nctop as a pool gauge. */
#ifndef NCTOP_TINYLM_TENSOR_POOL_H
#define NCTOP_TINYLM_TENSOR_POOL_H

#include <stddef.h>

struct tensor_pool;

/* Reserve capacity_bytes (rounded up to whole pages) and touch them so they are resident,
 * and register the nctop gauge gauge_name (NCTOP_MEM_POOL; borrowed). NULL with errno set
 * on failure. Owned: tensor_pool_free(). */
struct tensor_pool *tensor_pool_new(size_t capacity_bytes, const char *gauge_name);

/* Release the arena. NULL is a no-op. */
void tensor_pool_free(struct tensor_pool *p);

/* Carve bytes (> 0), 64-byte aligned, and attribute them to the span open on the calling
 * thread (nctop_mem_delta). The pool is sized for the model's worst step, so running out is
 * a programmer error (assert). Valid until a release below this point. */
void *tensor_pool_carve(struct tensor_pool *p, size_t bytes);

/* The current fill level, to pass to tensor_pool_release() later. */
size_t tensor_pool_mark(const struct tensor_pool *p);

/* Give back everything carved since mark, attributing the release to the open span. */
void tensor_pool_release(struct tensor_pool *p, size_t mark);

/* Pool bytes a carve of bytes takes, alignment included: for sizing the pool. */
size_t tensor_pool_footprint(size_t bytes);

/* The highest fill level seen, in bytes. */
size_t tensor_pool_peak_bytes(const struct tensor_pool *p);

#endif /* NCTOP_TINYLM_TENSOR_POOL_H */
