/* SPDX-License-Identifier: MIT */
#include "src/base/hmap.h"

#include <stdlib.h>
#include <string.h>

#include "src/base/xalloc.h"

#define HMAP_MIN_CAP 16U

void hmap_free(struct hmap *m)
{
    free(m->hashes);
    free(m->vals);
    memset(m, 0, sizeof(*m));
}

void hmap_clear(struct hmap *m)
{
    if (m->cap > 0) {
        memset(m->vals, 0xFF, m->cap * sizeof(*m->vals));
    }
    m->used = 0;
}

static uint32_t hmap_slot(const struct hmap *m, uint64_t hash, hmap_eq_fn eq, const void *ctx)
{
    uint32_t mask = m->cap - 1U;

    for (uint32_t i = (uint32_t)hash & mask;; i = (i + 1U) & mask) {
        if (m->vals[i] == HMAP_NONE) {
            return HMAP_NONE;
        }
        if (m->hashes[i] == hash && (eq == NULL || eq(ctx, m->vals[i]))) {
            return i;
        }
    }
}

uint32_t hmap_find(const struct hmap *m, uint64_t hash, hmap_eq_fn eq, const void *ctx)
{
    uint32_t i;

    if (m->used == 0) {
        return HMAP_NONE;
    }
    i = hmap_slot(m, hash, eq, ctx);
    return i == HMAP_NONE ? HMAP_NONE : m->vals[i];
}

static void hmap_place(struct hmap *m, uint64_t hash, uint32_t val)
{
    uint32_t mask = m->cap - 1U, i = (uint32_t)hash & mask;

    while (m->vals[i] != HMAP_NONE) {
        i = (i + 1U) & mask;
    }
    m->hashes[i] = hash;
    m->vals[i] = val;
}

static void hmap_grow(struct hmap *m)
{
    struct hmap old = *m;
    uint32_t cap = m->cap ? m->cap * 2U : HMAP_MIN_CAP;

    if (cap == 0) {
        abort(); /* 2^32 slots: no caller gets near (their values are 32-bit ids) */
    }

    m->cap = cap;
    m->hashes = xreallocarray(NULL, cap, sizeof(*m->hashes));
    m->vals = xreallocarray(NULL, cap, sizeof(*m->vals));
    memset(m->vals, 0xFF, cap * sizeof(*m->vals));
    for (uint32_t i = 0; i < old.cap; i++) {
        if (old.vals[i] != HMAP_NONE) {
            hmap_place(m, old.hashes[i], old.vals[i]);
        }
    }
    free(old.hashes);
    free(old.vals);
}

void hmap_insert(struct hmap *m, uint64_t hash, uint32_t val)
{
    if ((uint64_t)(m->used + 1U) * 2U > m->cap) {
        hmap_grow(m);
    }
    hmap_place(m, hash, val);
    m->used++;
}

uint32_t hmap_remove(struct hmap *m, uint64_t hash, hmap_eq_fn eq, const void *ctx)
{
    uint32_t mask, i, j, val;

    if (m->used == 0 || (i = hmap_slot(m, hash, eq, ctx)) == HMAP_NONE) {
        return HMAP_NONE;
    }
    val = m->vals[i];
    mask = m->cap - 1U;
    /* Backward shift: pull up every later entry of the run that may move into the hole, so
     * that no lookup stops early at it. */
    for (j = (i + 1U) & mask; m->vals[j] != HMAP_NONE; j = (j + 1U) & mask) {
        uint32_t home = (uint32_t)m->hashes[j] & mask;

        /* The entry at j may move to i when its home is not in (i, j] (cyclically). */
        if (((j - home) & mask) >= ((j - i) & mask)) {
            m->hashes[i] = m->hashes[j];
            m->vals[i] = m->vals[j];
            i = j;
        }
    }
    m->vals[i] = HMAP_NONE;
    m->used--;
    return val;
}

bool hmap_replace(struct hmap *m, uint64_t hash, hmap_eq_fn eq, const void *ctx, uint32_t val)
{
    uint32_t i;

    if (m->used == 0 || (i = hmap_slot(m, hash, eq, ctx)) == HMAP_NONE) {
        return false;
    }
    m->vals[i] = val;
    return true;
}
