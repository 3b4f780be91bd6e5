/* SPDX-License-Identifier: MIT */
/* Unit tests of the one hash table and the string table (src/base): against a plain array
 * as the reference, through growth, removals that wrap around the end of the slots, and
 * keys whose hashes are all equal (eq decides). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "src/base/hash.h"
#include "src/base/hmap.h"
#include "src/base/strtab.h"

/* The reference: key i is present when present[i]; its value is i. */
#define KEYS 5000U
static uint64_t keys[KEYS];
static bool present[KEYS];

static bool eq_key(const void *ctx, uint32_t val)
{
    return keys[val] == *(const uint64_t *)ctx;
}

static uint64_t rng_state = 42;
static uint64_t rng(void)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return rng_state >> 11;
}

/* hash_of(i): the hash the table sees; collide makes it one of 4 values only. */
static bool collide;
static uint64_t hash_of(uint32_t i)
{
    return collide ? hash_u64(keys[i] & 3U) : hash_u64(keys[i]);
}

static void check_all(const struct hmap *m)
{
    uint32_t n = 0;

    for (uint32_t i = 0; i < KEYS; i++) {
        uint32_t v = hmap_find(m, hash_of(i), eq_key, &keys[i]);

        if (present[i]) {
            assert_int_equal(v, i);
            n++;
        } else {
            assert_int_equal(v, HMAP_NONE);
        }
    }
    assert_int_equal(hmap_count(m), n);
}

static void random_ops(bool with_collisions, unsigned rounds)
{
    struct hmap m = HMAP_INIT;

    collide = with_collisions;
    memset(present, 0, sizeof(present));
    for (uint32_t i = 0; i < KEYS; i++) {
        keys[i] = ((uint64_t)i << 32) | (rng() & 0xFFFFFFFFU);
    }
    for (unsigned r = 0; r < rounds; r++) {
        uint32_t i = (uint32_t)(rng() % (with_collisions ? 200U : KEYS));

        if (present[i] && rng() % 3 == 0) {
            assert_int_equal(hmap_remove(&m, hash_of(i), eq_key, &keys[i]), i);
            present[i] = false;
        } else if (!present[i]) {
            hmap_insert(&m, hash_of(i), i);
            present[i] = true;
        } else {
            assert_true(hmap_replace(&m, hash_of(i), eq_key, &keys[i], i));
        }
        if (r % 1000 == 0) {
            check_all(&m);
        }
    }
    check_all(&m);
    hmap_clear(&m);
    memset(present, 0, sizeof(present));
    check_all(&m);
    hmap_free(&m);
}

static void test_hmap_matches_the_reference(void **state)
{
    (void)state;
    random_ops(false, 60000);
}

static void test_hmap_equal_hashes(void **state)
{
    (void)state;
    random_ops(true, 20000);
}

/* Removal at the end of the slots: runs that wrap around to slot 0 keep every key found. */
static void test_hmap_remove_wraps(void **state)
{
    struct hmap m = HMAP_INIT;
    uint32_t cap;

    (void)state;
    collide = false;
    hmap_insert(&m, 0, 0); /* the table has its first capacity now */
    cap = m.cap;
    hmap_remove(&m, 0, NULL, NULL);
    /* Hashes that all want the last slot: they fill it and wrap to 0, 1, ... */
    for (uint32_t i = 0; i < cap / 2U - 1U; i++) {
        hmap_insert(&m, (uint64_t)(cap - 1U) + (uint64_t)i * cap, i);
    }
    assert_int_equal(m.cap, cap);
    for (uint32_t i = 0; i < cap / 2U - 1U; i += 2U) {
        assert_int_equal(hmap_remove(&m, (uint64_t)(cap - 1U) + (uint64_t)i * cap, NULL, NULL), i);
    }
    for (uint32_t i = 1; i < cap / 2U - 1U; i += 2U) {
        assert_int_equal(hmap_find(&m, (uint64_t)(cap - 1U) + (uint64_t)i * cap, NULL, NULL), i);
    }
    hmap_free(&m);
}

static void test_strtab(void **state)
{
    struct strtab t, u;
    char buf[32];

    (void)state;
    strtab_init(&t, HASH_SEED);
    assert_int_equal(strtab_find(&t, "x", 1), 0);
    assert_int_equal(strtab_intern(&t, "step", 4), 1);
    assert_int_equal(strtab_intern(&t, "forward", 7), 2);
    assert_int_equal(strtab_intern(&t, "step", 4), 1);
    /* Bytes, not C strings: an embedded NUL is part of the name; "" is a name. */
    assert_int_equal(strtab_intern(&t, "a\0b", 3), 3);
    assert_int_equal(strtab_intern(&t, "a", 1), 4);
    assert_int_equal(strtab_intern(&t, "", 0), 5);
    assert_int_equal(strtab_find(&t, "a\0b", 3), 3);
    assert_int_equal(strtab_len(&t, 3), 3);
    assert_string_equal(strtab_str(&t, 2), "forward");
    assert_null(strtab_str(&t, 0));
    assert_null(strtab_str(&t, 6));
    for (int i = 0; i < 10000; i++) {
        int n = snprintf(buf, sizeof(buf), "block %d", i);

        assert_int_equal(strtab_intern(&t, buf, (size_t)n), (uint32_t)i + 6U);
    }
    assert_int_equal(strtab_find(&t, "block 9999", 10), 10005U);
    assert_int_equal(strtab_count(&t), 10005U);
    /* Another owner's seed: other hashes, the same answers. */
    strtab_init(&u, HASH_SEED ^ hash_u64(7));
    assert_int_equal(strtab_intern(&u, "forward", 7), 1);
    assert_true(strtab_hash(&u, "forward", 7) != strtab_hash(&t, "forward", 7));
    strtab_free(&u);
    strtab_free(&t);
    assert_int_equal(strtab_count(&t), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hmap_matches_the_reference),
        cmocka_unit_test(test_hmap_equal_hashes),
        cmocka_unit_test(test_hmap_remove_wraps),
        cmocka_unit_test(test_strtab),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
