/* SPDX-License-Identifier: MIT */
/* The one hash table of nctop: open addressing with linear probing over (hash, value) pairs,
 * deletion by backward shift (no tombstones), the capacity a power of two kept at most
 * half full. It stores 32-bit values (ids, indexes, small states); the caller keeps the keys
 * and says through eq whether a stored value is the key it looks for, so equal hashes of
 * different keys never merge. eq NULL: the 64-bit hash is the key. */
#ifndef NCTOP_SRC_BASE_HMAP_H
#define NCTOP_SRC_BASE_HMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HMAP_NONE UINT32_MAX /* no such entry; never a stored value */

struct hmap {
    uint64_t *hashes;
    uint32_t *vals; /* HMAP_NONE: an empty slot */
    uint32_t cap;   /* a power of two, or 0 before the first insert */
    uint32_t used;
};

/* Whether the stored value val is the key the caller looks for. */
typedef bool (*hmap_eq_fn)(const void *ctx, uint32_t val);

#define HMAP_INIT                                                                                  \
    {                                                                                              \
        NULL, NULL, 0, 0                                                                           \
    }

void hmap_free(struct hmap *m);  /* back to HMAP_INIT */
void hmap_clear(struct hmap *m); /* empty, capacity kept */

/* The value stored under hash for which eq(ctx, value) holds, or HMAP_NONE. */
uint32_t hmap_find(const struct hmap *m, uint64_t hash, hmap_eq_fn eq, const void *ctx);

/* hmap_find for a map whose 64-bit hash is the key (eq NULL), inlined for hot paths: give
 * it a bijective mix of the key (hash_u64), so that distinct keys never share a hash. */
static inline uint32_t hmap_get(const struct hmap *m, uint64_t hash)
{
    uint32_t mask = m->cap - 1U;

    if (m->used == 0) {
        return HMAP_NONE;
    }
    for (uint32_t i = (uint32_t)hash & mask; m->vals[i] != HMAP_NONE; i = (i + 1U) & mask) {
        if (m->hashes[i] == hash) {
            return m->vals[i];
        }
    }
    return HMAP_NONE;
}

/* Store val (not HMAP_NONE) under hash; the caller has made sure the key is not there. */
void hmap_insert(struct hmap *m, uint64_t hash, uint32_t val);

/* Remove the entry found as hmap_find would; returns its value or HMAP_NONE. */
uint32_t hmap_remove(struct hmap *m, uint64_t hash, hmap_eq_fn eq, const void *ctx);

/* Replace the value of the entry found as hmap_find would (val not HMAP_NONE). Returns
 * whether there was one. */
bool hmap_replace(struct hmap *m, uint64_t hash, hmap_eq_fn eq, const void *ctx, uint32_t val);

static inline uint32_t hmap_count(const struct hmap *m)
{
    return m->used;
}

#endif /* NCTOP_SRC_BASE_HMAP_H */
