/* SPDX-License-Identifier: MIT */
/* The hash functions of nctop (the SDK keeps its own): FNV-1a over bytes, a mixer for
 * integers. Not collision resistant: every table that uses them compares the keys too. */
#ifndef NCTOP_SRC_BASE_HASH_H
#define NCTOP_SRC_BASE_HASH_H

#include <stddef.h>
#include <stdint.h>

#define HASH_SEED 0xcbf29ce484222325ULL /* FNV-1a's offset basis */

/* FNV-1a of len bytes at data, continuing from h (HASH_SEED to start). */
static inline uint64_t hash_bytes(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;

    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

/* A 64-bit integer's bits spread over all 64 (the finaliser of splitmix64). */
static inline uint64_t hash_u64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

#endif /* NCTOP_SRC_BASE_HASH_H */
