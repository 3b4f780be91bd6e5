/* SPDX-License-Identifier: MIT */
/* snnc: counted allocation. The compiler is single-threaded, so plain counters do. Sizes are
 * the caller's (every array's length is known where it is freed), so no header is added to
 * the blocks and the counts are the bytes the compiler asked for, not the allocator's. */
#include "mem.h"

#include <stdlib.h>

static uint64_t mem_live_bytes;
static uint64_t mem_peak_bytes;

void *mem_calloc(size_t n, size_t size)
{
    void *p;

    if (size != 0 && n > SIZE_MAX / size) {
        return NULL;
    }
    /* never a zero-size request: an empty layer or projection takes one uncounted byte */
    p = calloc(n > 0 ? n : 1, size > 0 ? size : 1);
    if (p != NULL) {
        mem_live_bytes += (uint64_t)n * size;
        if (mem_live_bytes > mem_peak_bytes) {
            mem_peak_bytes = mem_live_bytes;
        }
    }
    return p;
}

void mem_free(void *p, size_t n, size_t size)
{
    if (p == NULL) {
        return;
    }
    free(p);
    mem_live_bytes -= (uint64_t)n * size;
}

uint64_t mem_live(void)
{
    return mem_live_bytes;
}

uint64_t mem_peak(void)
{
    return mem_peak_bytes;
}

void mem_reset_peak(void)
{
    mem_peak_bytes = mem_live_bytes;
}
