/* SPDX-License-Identifier: MIT */
/* tinylm: tensor pool. Activations follow the step's call nesting exactly, so a stack
 * discipline (carve, then release to a mark) is all the allocator an engine needs here, and
 * it makes the pool's used bytes and nctop's per-scope deltas agree by construction. */
#include "tensor_pool.h"

#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <nctop.h>

#define TENSOR_POOL_ALIGN_BYTES 64 /* one cache line: no false sharing between matmul rows */
#define TENSOR_POOL_PAGE_BYTES 4096

struct tensor_pool {
    unsigned char *base;
    size_t capacity_bytes;
    size_t used_bytes;
    size_t peak_bytes;
    uint32_t gauge;
};

static void tensor_pool_publish(const struct tensor_pool *p)
{
    nctop_gauge_set(p->gauge, p->used_bytes, p->capacity_bytes);
}

struct tensor_pool *tensor_pool_new(size_t capacity_bytes, const char *gauge_name)
{
    struct tensor_pool *p = calloc(1, sizeof(*p));
    void *base;

    if (!p)
        return NULL;
    capacity_bytes =
        (capacity_bytes + TENSOR_POOL_PAGE_BYTES - 1) & ~(size_t)(TENSOR_POOL_PAGE_BYTES - 1);
    if (capacity_bytes == 0)
        capacity_bytes = TENSOR_POOL_PAGE_BYTES;
    base = mmap(NULL, capacity_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED) {
        free(p);
        return NULL;
    }
    /* reserved means resident: an engine pre-faults its pool so the first step is not
     * slower, and so RSS matches what nctop is told is reserved */
    memset(base, 0, capacity_bytes);
    p->base = base;
    p->capacity_bytes = capacity_bytes;
    p->gauge = nctop_gauge(gauge_name, NCTOP_MEM_POOL, 0);
    tensor_pool_publish(p);
    return p;
}

void tensor_pool_free(struct tensor_pool *p)
{
    if (!p)
        return;
    munmap(p->base, p->capacity_bytes);
    free(p);
}

size_t tensor_pool_footprint(size_t bytes)
{
    return (bytes + TENSOR_POOL_ALIGN_BYTES - 1) & ~(size_t)(TENSOR_POOL_ALIGN_BYTES - 1);
}

void *tensor_pool_carve(struct tensor_pool *p, size_t bytes)
{
    void *out;

    bytes = tensor_pool_footprint(bytes);
    assert(bytes > 0 && bytes <= p->capacity_bytes - p->used_bytes);
    out = p->base + p->used_bytes;
    p->used_bytes += bytes;
    if (p->used_bytes > p->peak_bytes)
        p->peak_bytes = p->used_bytes;
    nctop_mem_delta((int64_t)bytes);
    tensor_pool_publish(p);
    return out;
}

size_t tensor_pool_mark(const struct tensor_pool *p)
{
    return p->used_bytes;
}

void tensor_pool_release(struct tensor_pool *p, size_t mark)
{
    size_t bytes;

    assert(mark <= p->used_bytes);
    bytes = p->used_bytes - mark;
    if (bytes == 0)
        return;
    p->used_bytes = mark;
    nctop_mem_delta(-(int64_t)bytes);
    tensor_pool_publish(p);
}

size_t tensor_pool_peak_bytes(const struct tensor_pool *p)
{
    return p->peak_bytes;
}
