/* SPDX-License-Identifier: MIT */
#include "src/base/strtab.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "src/base/hash.h"
#include "src/base/xalloc.h"

/* What hmap's eq compares against: the string being looked up. */
struct strtab_key {
    const struct strtab *t;
    const char *s;
    size_t len;
};

static bool strtab_eq(const void *ctx, uint32_t val)
{
    const struct strtab_key *k = ctx;

    return k->t->lens[val] == k->len && memcmp(k->t->strs[val], k->s, k->len) == 0;
}

void strtab_init(struct strtab *t, uint64_t seed)
{
    memset(t, 0, sizeof(*t));
    t->seed = seed;
}

void strtab_free(struct strtab *t)
{
    for (uint32_t i = 0; i < t->n; i++) {
        free(t->strs[i]);
    }
    free(t->strs);
    free(t->lens);
    free(t->hashes);
    hmap_free(&t->idx);
    memset(t, 0, sizeof(*t));
}

uint64_t strtab_hash(const struct strtab *t, const char *s, size_t len)
{
    return hash_bytes(t->seed, s, len);
}

uint32_t strtab_find(const struct strtab *t, const char *s, size_t len)
{
    struct strtab_key k = {t, s, len};
    uint32_t i = hmap_find(&t->idx, strtab_hash(t, s, len), strtab_eq, &k);

    return i == HMAP_NONE ? 0 : i + 1U;
}

uint32_t strtab_intern(struct strtab *t, const char *s, size_t len)
{
    uint64_t h = strtab_hash(t, s, len);
    struct strtab_key k = {t, s, len};
    uint32_t i = hmap_find(&t->idx, h, strtab_eq, &k);
    char *copy;

    if (i != HMAP_NONE) {
        return i + 1U;
    }
    if (len > UINT32_MAX || t->n == UINT32_MAX - 1U) {
        return 0; /* beyond what an id or a length holds: refused */
    }
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2U : 16U;
        t->strs = xreallocarray(t->strs, t->cap, sizeof(*t->strs));
        t->lens = xreallocarray(t->lens, t->cap, sizeof(*t->lens));
        t->hashes = xreallocarray(t->hashes, t->cap, sizeof(*t->hashes));
    }
    copy = xmalloc(len + 1);
    memcpy(copy, s, len);
    copy[len] = '\0';
    t->strs[t->n] = copy;
    t->lens[t->n] = (uint32_t)len;
    t->hashes[t->n] = h;
    hmap_insert(&t->idx, h, t->n);
    return ++t->n;
}

const char *strtab_str(const struct strtab *t, uint32_t id)
{
    return id >= 1 && id <= t->n ? t->strs[id - 1] : NULL;
}

size_t strtab_len(const struct strtab *t, uint32_t id)
{
    return id >= 1 && id <= t->n ? t->lens[id - 1] : 0;
}
