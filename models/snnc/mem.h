/* SPDX-License-Identifier: MIT */
/* snnc: the compiler's allocations, counted: the bytes live now and their peak, so that each
 * pass can publish what it allocated and kept (its memory delta) and the report its peak. */
#ifndef NCTOP_SNNC_MEM_H
#define NCTOP_SNNC_MEM_H

#include <stddef.h>
#include <stdint.h>

/* calloc of n x size bytes (n may be 0: one byte is taken, none counted), counted as live.
 * Returns NULL when out of memory or when n x size overflows. Free with mem_free and the
 * same n and size. */
void *mem_calloc(size_t n, size_t size);

/* Free p (NULL is a no-op) and uncount n x size bytes. */
void mem_free(void *p, size_t n, size_t size);

/* Bytes live now, and the peak since the last mem_reset_peak. */
uint64_t mem_live(void);
uint64_t mem_peak(void);

/* Start a new peak from the bytes live now. */
void mem_reset_peak(void);

#endif /* NCTOP_SNNC_MEM_H */
