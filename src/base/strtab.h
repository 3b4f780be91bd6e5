/* SPDX-License-Identifier: MIT */
/* A string table: each distinct string once, numbered 1, 2, ... in the order first seen
 * (0 is never an id). Strings may hold any bytes; they are kept NUL-terminated too. */
#ifndef NCTOP_SRC_BASE_STRTAB_H
#define NCTOP_SRC_BASE_STRTAB_H

#include <stddef.h>
#include <stdint.h>

#include "src/base/hmap.h"

struct strtab {
    char **strs; /* [id - 1], owned */
    uint32_t *lens;
    uint64_t *hashes;
    uint32_t n;
    uint32_t cap;
    uint64_t seed; /* of the hashes: tables of different owners need not share one */
    struct hmap idx;
};

/* An empty table whose hashes start from seed (HASH_SEED, or HASH_SEED mixed with an owner). */
void strtab_init(struct strtab *t, uint64_t seed);
void strtab_free(struct strtab *t);

/* The id of s (len bytes), or 0 when it is not in the table. */
uint32_t strtab_find(const struct strtab *t, const char *s, size_t len);

/* The id of s, added when new; 0 (refused) only for a string of 4 GiB or more. */
uint32_t strtab_intern(struct strtab *t, const char *s, size_t len);

/* The string of id (NUL-terminated) and its length; NULL / 0 for an id not in the table. */
const char *strtab_str(const struct strtab *t, uint32_t id);
size_t strtab_len(const struct strtab *t, uint32_t id);

/* The hash strtab uses for s, e.g. to compare with another table's. */
uint64_t strtab_hash(const struct strtab *t, const char *s, size_t len);

static inline uint32_t strtab_count(const struct strtab *t)
{
    return t->n;
}

#endif /* NCTOP_SRC_BASE_STRTAB_H */
