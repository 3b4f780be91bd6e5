/* SPDX-License-Identifier: MIT */
/* Unit tests of the log-linear histogram: percentiles against exact nearest-rank values of
 * the raw samples, exact count/sum/min/max, bucket geometry, merge and reset. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "src/model/hist.h"

#define NSAMPLES 20000

/* Deterministic generator (xorshift64*), so a failure reproduces. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rng_next(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ULL;
}

static double rng_unit(void)
{
    return (double)(rng_next() >> 11) / 9007199254740992.0; /* [0, 1) */
}

static double rng_normal(void)
{
    double u1 = rng_unit();
    double u2 = rng_unit();

    if (u1 < 1e-300) {
        u1 = 1e-300;
    }
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a;
    uint64_t y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

/* The exact nearest-rank percentile of sorted samples. */
static uint64_t exact_percentile(const uint64_t *sorted, size_t n, double pct)
{
    double want = ceil(pct * (double)n / 100.0);
    size_t rank = want < 1.0 ? 1 : (want > (double)n ? n : (size_t)want);

    return sorted[rank - 1];
}

/* Feed samples to a histogram and check it against the exact statistics. */
static void check_samples(uint64_t *v, size_t n)
{
    static const double pcts[] = {1.0, 10.0, 50.0, 90.0, 95.0, 99.0, 99.9};
    struct hist h;
    uint64_t sum = 0;
    size_t i;

    hist_init(&h);
    for (i = 0; i < n; i++) {
        hist_add(&h, v[i]);
        sum += v[i];
    }
    qsort(v, n, sizeof(*v), cmp_u64);

    assert_int_equal(h.count, n);
    assert_int_equal(h.sum_ns, sum);
    assert_int_equal(h.min_ns, v[0]);
    assert_int_equal(h.max_ns, v[n - 1]);
    assert_int_equal(hist_percentile(&h, 0.0), v[0]);
    assert_int_equal(hist_percentile(&h, 100.0), v[n - 1]);

    for (i = 0; i < sizeof(pcts) / sizeof(pcts[0]); i++) {
        uint64_t want = exact_percentile(v, n, pcts[i]);
        uint64_t got = hist_percentile(&h, pcts[i]);
        double err = fabs((double)got - (double)want) / (double)want;

        if (want == 0) {
            assert_int_equal(got, 0);
            continue;
        }
        if (err > 0.01) {
            fail_msg("p%.1f: got %llu want %llu (err %.4f)", pcts[i], (unsigned long long)got,
                     (unsigned long long)want, err);
        }
    }
    hist_done(&h);
}

static void test_geometry(void **state)
{
    uint64_t v;
    uint32_t i;

    (void)state;
    for (v = 0; v < 128; v++) {
        assert_int_equal(hist_index(v), v);
        assert_int_equal(hist_bucket_mid((uint32_t)v), v);
    }
    assert_int_equal(hist_index(128), 128);
    assert_int_equal(hist_index(129), 128);
    assert_int_equal(hist_index(130), 129);
    assert_int_equal(hist_index(UINT64_MAX), HIST_NBUCKETS - 1);

    /* Indexes are dense and ordered, and each value lies in its bucket, whose midpoint is
     * within 1/128 of it. */
    for (i = 1; i < HIST_NBUCKETS; i++) {
        assert_true(hist_bucket_low(i) > hist_bucket_low(i - 1));
        assert_int_equal(hist_index(hist_bucket_low(i)), i);
        assert_int_equal(hist_index(hist_bucket_low(i) - 1), i - 1);
    }
    for (i = 0; i < 100000; i++) {
        v = rng_next() >> (rng_next() % 64);
        double mid = (double)hist_bucket_mid(hist_index(v));

        assert_true(fabs(mid - (double)v) <= (double)v / 128.0);
    }
}

static void test_uniform(void **state)
{
    uint64_t *v = malloc(NSAMPLES * sizeof(*v));

    assert_non_null(v);
    size_t i;

    (void)state;
    for (i = 0; i < NSAMPLES; i++) {
        v[i] = 1000 + rng_next() % 9000000;
    }
    check_samples(v, NSAMPLES);
    free(v);
}

static void test_lognormal(void **state)
{
    uint64_t *v = malloc(NSAMPLES * sizeof(*v));

    assert_non_null(v);
    size_t i;

    (void)state;
    for (i = 0; i < NSAMPLES; i++) {
        v[i] = (uint64_t)exp(log(2e6) + 1.2 * rng_normal());
    }
    check_samples(v, NSAMPLES);
    free(v);
}

static void test_bimodal(void **state)
{
    uint64_t *v = malloc(NSAMPLES * sizeof(*v));

    assert_non_null(v);
    size_t i;

    (void)state;
    for (i = 0; i < NSAMPLES; i++) {
        double mode = (rng_next() % 10) < 7 ? 50e3 : 40e6;

        v[i] = (uint64_t)(mode * (1.0 + 0.05 * rng_normal()));
    }
    check_samples(v, NSAMPLES);
    free(v);
}

static void test_constant(void **state)
{
    uint64_t *v = malloc(NSAMPLES * sizeof(*v));

    assert_non_null(v);
    struct hist h;
    size_t i;

    (void)state;
    for (i = 0; i < NSAMPLES; i++) {
        v[i] = 123456789;
    }
    check_samples(v, NSAMPLES);

    /* A constant is exact at every percentile thanks to the clamp to [min, max]. */
    hist_init(&h);
    for (i = 0; i < 10; i++) {
        hist_add(&h, 123456789);
    }
    assert_int_equal(hist_percentile(&h, 50.0), 123456789);
    assert_int_equal(hist_percentile(&h, 99.0), 123456789);
    hist_done(&h);
    free(v);
}

static void test_tiny(void **state)
{
    uint64_t *v = malloc(NSAMPLES * sizeof(*v));

    assert_non_null(v);
    struct hist h;
    size_t i;

    (void)state;
    for (i = 0; i < NSAMPLES; i++) {
        v[i] = rng_next() % 64;
    }
    check_samples(v, NSAMPLES);

    /* Below 128 buckets are exact: percentiles equal the exact ones, including 0. */
    hist_init(&h);
    for (i = 0; i < 100; i++) {
        hist_add(&h, i);
    }
    assert_int_equal(hist_percentile(&h, 50.0), 49);
    assert_int_equal(hist_percentile(&h, 95.0), 94);
    assert_int_equal(hist_percentile(&h, 99.0), 98);
    assert_int_equal(hist_percentile(&h, 1.0), 0);
    hist_done(&h);
    free(v);
}

static void test_near_2_40(void **state)
{
    uint64_t *v = malloc(NSAMPLES * sizeof(*v));

    assert_non_null(v);
    size_t i;

    (void)state;
    for (i = 0; i < NSAMPLES; i++) {
        v[i] = (1ULL << 40) - (1ULL << 35) + rng_next() % (1ULL << 36);
    }
    check_samples(v, NSAMPLES);
    free(v);
}

static void test_empty(void **state)
{
    struct hist h;

    (void)state;
    hist_init(&h);
    assert_int_equal(h.count, 0);
    assert_int_equal(hist_percentile(&h, 50.0), 0);
    hist_reset(&h);
    assert_null(h.buckets);
    hist_done(&h);
}

static void assert_hist_equal(const struct hist *a, const struct hist *b)
{
    uint32_t i;

    assert_int_equal(a->count, b->count);
    assert_int_equal(a->sum_ns, b->sum_ns);
    assert_int_equal(a->min_ns, b->min_ns);
    assert_int_equal(a->max_ns, b->max_ns);
    assert_int_equal(a->lo, b->lo);
    assert_int_equal(a->hi, b->hi);
    for (i = a->lo; i < a->hi; i++) {
        assert_int_equal(a->buckets[i - a->base], b->buckets[i - b->base]);
    }
}

static void test_merge(void **state)
{
    struct hist a;
    struct hist b;
    struct hist u;
    struct hist m;
    size_t i;

    (void)state;
    hist_init(&a);
    hist_init(&b);
    hist_init(&u);
    hist_init(&m);
    /* Disjoint ranges on both sides, so the merge must grow the destination both ways. */
    for (i = 0; i < 5000; i++) {
        uint64_t x = 10000 + rng_next() % 100000;
        uint64_t y = (i % 3 == 0) ? 1 + rng_next() % 50 : 5000000 + rng_next() % 90000000;

        hist_add(&a, x);
        hist_add(&b, y);
        hist_add(&u, x);
        hist_add(&u, y);
    }
    hist_merge(&m, &a);
    assert_hist_equal(&m, &a);
    hist_merge(&m, &b);
    assert_hist_equal(&m, &u);
    assert_int_equal(hist_percentile(&m, 50.0), hist_percentile(&u, 50.0));
    assert_int_equal(hist_percentile(&m, 99.0), hist_percentile(&u, 99.0));

    /* Merging an empty histogram changes nothing. */
    hist_reset(&a);
    hist_merge(&m, &a);
    assert_hist_equal(&m, &u);

    /* Reset forgets the samples but keeps the storage for reuse. */
    hist_reset(&m);
    assert_int_equal(m.count, 0);
    assert_non_null(m.buckets);
    hist_add(&m, 777);
    assert_int_equal(hist_percentile(&m, 50.0), 777);
    assert_int_equal(m.count, 1);

    hist_done(&a);
    hist_done(&b);
    hist_done(&u);
    hist_done(&m);
}

static void test_percentiles_batch(void **state)
{
    static const double pcts[] = {50.0, 95.0, 99.0};
    uint64_t out[3];
    struct hist h;
    size_t i;

    (void)state;
    hist_init(&h);
    for (i = 1; i <= 1000; i++) {
        hist_add(&h, i * 1000);
    }
    hist_percentiles(&h, pcts, 3, out);
    for (i = 0; i < 3; i++) {
        assert_int_equal(out[i], hist_percentile(&h, pcts[i]));
    }
    /* Nearest rank: p50 of 1000 samples is sample 500 = 500000, within 1/128. */
    assert_true(fabs((double)out[0] - 500000.0) <= 500000.0 / 128.0);
    /* Rank 999 of 1000 for p99.9; computing 99.9 / 100 * 1000 first gives 1000.0000000000001
     * and rank 1000 (the exact max) instead. */
    assert_int_equal(hist_percentile(&h, 99.9), hist_bucket_mid(hist_index(999000)));
    assert_int_not_equal(hist_percentile(&h, 99.9), 1000000);
    hist_done(&h);
}

/* Cumulative counts for exporters: exact below 128, within one bucket above. */
static void test_count_le(void **state)
{
    struct hist h;

    (void)state;
    hist_init(&h);
    assert_int_equal(hist_count_le(&h, 1000), 0);
    for (uint64_t v = 1; v <= 100; v++) {
        hist_add(&h, v);
    }
    hist_add(&h, 1000000);
    hist_add(&h, 2000000);
    assert_int_equal(hist_count_le(&h, 0), 0);
    assert_int_equal(hist_count_le(&h, 50), 50);
    assert_int_equal(hist_count_le(&h, 100), 100);
    assert_int_equal(hist_count_le(&h, 990000), 100);
    assert_int_equal(hist_count_le(&h, 999999), 101); /* same bucket as 1000000 */
    assert_int_equal(hist_count_le(&h, 1000000), 101);
    assert_int_equal(hist_count_le(&h, 1500000), 101);
    assert_int_equal(hist_count_le(&h, UINT64_MAX), 102);
    hist_done(&h);
}

/* A histogram reset after a wide range keeps no more storage than its next samples need:
 * window slots are recycled across series, and kept storage would ratchet up to the union of
 * every range (test_issue_10_soak: nctop's heap grew from 3 to 9 MB in ten minutes). */
static void test_issue_10_reset_shrinks_storage(void **state)
{
    struct hist h;
    uint32_t narrow_cap;

    (void)state;
    hist_init(&h);
    for (uint64_t v = 1000; v < 1100; v++) {
        hist_add(&h, v);
    }
    narrow_cap = h.cap;
    hist_reset(&h);
    for (uint64_t v = 1000; v < 1100; v++) {
        hist_add(&h, v);
    }
    assert_int_equal(h.cap, narrow_cap); /* the same range again: storage reused as it was */
    hist_add(&h, 10ULL * 1000 * 1000 * 1000);
    hist_add(&h, 1);
    assert_true(h.cap > 1000); /* 1 ns to 10 s */
    /* Its storage served that range: kept for one more life; a narrow life lets it go. */
    hist_reset(&h);
    for (uint64_t v = 1000; v < 1100; v++) {
        hist_add(&h, v);
    }
    assert_true(h.cap > 1000);
    hist_reset(&h);
    for (uint64_t v = 1000; v < 1100; v++) {
        hist_add(&h, v);
    }
    assert_true(h.cap <= 4 * narrow_cap);
    assert_int_equal(h.count, 100);
    assert_int_equal(hist_percentile(&h, 0), 1000);
    assert_int_equal(hist_percentile(&h, 100), 1099);
    hist_done(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_issue_10_reset_shrinks_storage),
        cmocka_unit_test(test_count_le),
        cmocka_unit_test(test_geometry),
        cmocka_unit_test(test_uniform),
        cmocka_unit_test(test_lognormal),
        cmocka_unit_test(test_bimodal),
        cmocka_unit_test(test_constant),
        cmocka_unit_test(test_tiny),
        cmocka_unit_test(test_near_2_40),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_merge),
        cmocka_unit_test(test_percentiles_batch),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
