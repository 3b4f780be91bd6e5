/* SPDX-License-Identifier: MIT */
/* Unit tests of the log-linear histogram: percentiles against exact nearest-rank values of
 * the raw samples, exact count/sum/min/max, bucket geometry, merge and reset, and the sparse
 * block storage against a plain dense array of every bucket (the representation it replaced). */
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
    assert_int_equal(hist_bytes(&h), 0);
    hist_done(&h);
}

/* The count of bucket idx, read from the block storage the way hist.c lays it out: a block's
 * position is the number of stored blocks before it (counted here from the map alone). */
static uint64_t bucket_count(const struct hist *h, uint32_t idx)
{
    uint32_t blk = idx / HIST_BLOCK;
    uint32_t pos = 0;
    uint32_t off;

    if ((h->map[blk / 64] >> (blk % 64) & 1U) == 0) {
        return 0;
    }
    for (uint32_t w = 0; w < blk / 64; w++) {
        pos += (uint32_t)__builtin_popcountll(h->map[w]);
    }
    pos += (uint32_t)__builtin_popcountll(h->map[blk / 64] & ((1ULL << (blk % 64)) - 1));
    assert_true(pos < h->nblocks);
    off = pos * HIST_BLOCK + idx % HIST_BLOCK;
    return h->wide ? ((const uint64_t *)h->blocks)[off] : ((const uint32_t *)h->blocks)[off];
}

static void assert_hist_equal(const struct hist *a, const struct hist *b)
{
    uint32_t i;

    assert_int_equal(a->count, b->count);
    assert_int_equal(a->sum_ns, b->sum_ns);
    assert_int_equal(a->min_ns, b->min_ns);
    assert_int_equal(a->max_ns, b->max_ns);
    for (i = 0; i < HIST_NBUCKETS; i++) {
        assert_int_equal(bucket_count(a, i), bucket_count(b, i));
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
    assert_true(hist_bytes(&m) > 0);
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

/* A histogram reset after holding many blocks keeps no more storage than its next samples
 * need: window slots are recycled across series, and kept storage would ratchet up to the most
 * any series ever needed (test_issue_10_soak: nctop's heap grew from 3 to 9 MB in ten minutes). */
static void test_issue_10_reset_shrinks_storage(void **state)
{
    struct hist h;
    size_t narrow;

    (void)state;
    hist_init(&h);
    for (uint64_t v = 1000; v < 1100; v++) {
        hist_add(&h, v);
    }
    narrow = hist_bytes(&h);
    hist_reset(&h);
    for (uint64_t v = 1000; v < 1100; v++) {
        hist_add(&h, v);
    }
    assert_int_equal(hist_bytes(&h), narrow); /* the same samples again: storage reused */
    for (double v = 1.0; v < 1e13; v *= 1.05) {
        hist_add(&h, (uint64_t)v); /* every block from 1 ns to 10 000 s */
    }
    assert_true(hist_bytes(&h) > 50 * narrow);
    /* Its storage served that many blocks: kept for one more life; a narrow life lets it go. */
    hist_reset(&h);
    for (uint64_t v = 1000; v < 1100; v++) {
        hist_add(&h, v);
    }
    assert_true(hist_bytes(&h) > 50 * narrow);
    hist_reset(&h);
    for (uint64_t v = 1000; v < 1100; v++) {
        hist_add(&h, v);
    }
    assert_true(hist_bytes(&h) <= 4 * narrow);
    assert_int_equal(h.count, 100);
    assert_int_equal(hist_percentile(&h, 0), 1000);
    assert_int_equal(hist_percentile(&h, 100), 1099);
    hist_done(&h);
}

/*
 * The reference: every bucket in one dense array of 64-bit counts, with the nearest-rank walk
 * the histogram used before its storage became sparse. The sparse histogram must give the
 * same counts and the same statistics, to the nanosecond.
 */
struct ref_hist {
    uint64_t count;
    uint64_t sum_ns;
    uint64_t min_ns;
    uint64_t max_ns;
    uint64_t b[HIST_NBUCKETS];
};

static void ref_add(struct ref_hist *r, uint64_t v)
{
    if (r->count == 0 || v < r->min_ns) {
        r->min_ns = v;
    }
    if (r->count == 0 || v > r->max_ns) {
        r->max_ns = v;
    }
    r->count++;
    r->sum_ns += v;
    r->b[hist_index(v)]++;
}

static void ref_merge(struct ref_hist *d, const struct ref_hist *s)
{
    if (s->count == 0) {
        return;
    }
    if (d->count == 0 || s->min_ns < d->min_ns) {
        d->min_ns = s->min_ns;
    }
    if (d->count == 0 || s->max_ns > d->max_ns) {
        d->max_ns = s->max_ns;
    }
    d->count += s->count;
    d->sum_ns += s->sum_ns;
    for (uint32_t i = 0; i < HIST_NBUCKETS; i++) {
        d->b[i] += s->b[i];
    }
}

static uint64_t ref_percentile(const struct ref_hist *r, double pct)
{
    double want = ceil(pct * (double)r->count / 100.0);
    uint64_t rank;
    uint64_t cum = 0;
    uint64_t v;
    uint32_t i = 0;

    if (r->count == 0) {
        return 0;
    }
    rank = want < 1.0 ? 1 : (want >= (double)r->count ? r->count : (uint64_t)want);
    while (i < HIST_NBUCKETS && cum + r->b[i] < rank) {
        cum += r->b[i];
        i++;
    }
    if (rank == 1) {
        v = r->min_ns;
    } else if (rank == r->count || i >= HIST_NBUCKETS) {
        v = r->max_ns;
    } else {
        v = hist_bucket_mid(i);
    }
    return v < r->min_ns ? r->min_ns : (v > r->max_ns ? r->max_ns : v);
}

static uint64_t ref_count_le(const struct ref_hist *r, uint64_t v)
{
    uint64_t n = 0;

    if (r->count == 0 || v < r->min_ns) {
        return 0;
    }
    if (v >= r->max_ns) {
        return r->count;
    }
    for (uint32_t i = 0; i <= hist_index(v); i++) {
        n += r->b[i];
    }
    return n;
}

/* Everything the histogram tells: counts, sum, extremes, percentiles (one by one and in a
 * batch), cumulative counts at bucket edges and at random values. */
static void assert_matches_ref(const struct hist *h, const struct ref_hist *r)
{
    static const double pcts[] = {0.0,  0.1,  1.0,  10.0, 25.0, 33.3,  50.0,
                                  75.0, 90.0, 95.0, 99.0, 99.9, 99.99, 100.0};
    uint64_t batch[sizeof(pcts) / sizeof(pcts[0])];

    assert_int_equal(h->count, r->count);
    assert_int_equal(h->sum_ns, r->sum_ns);
    if (r->count > 0) {
        assert_int_equal(h->min_ns, r->min_ns);
        assert_int_equal(h->max_ns, r->max_ns);
    }
    for (uint32_t i = 0; i < HIST_NBUCKETS; i++) {
        if (bucket_count(h, i) != r->b[i]) {
            fail_msg("bucket %u: %llu, reference %llu", i, (unsigned long long)bucket_count(h, i),
                     (unsigned long long)r->b[i]);
        }
    }
    hist_percentiles(h, pcts, sizeof(pcts) / sizeof(pcts[0]), batch);
    for (size_t j = 0; j < sizeof(pcts) / sizeof(pcts[0]); j++) {
        assert_int_equal(batch[j], ref_percentile(r, pcts[j]));
        assert_int_equal(hist_percentile(h, pcts[j]), ref_percentile(r, pcts[j]));
    }
    for (uint32_t i = 0; i < HIST_NBUCKETS; i += 7) {
        uint64_t lo = hist_bucket_low(i);

        assert_int_equal(hist_count_le(h, lo), ref_count_le(r, lo));
        assert_int_equal(hist_count_le(h, lo - 1), ref_count_le(r, lo - 1));
    }
    for (int k = 0; k < 64; k++) {
        uint64_t v = rng_next() >> (rng_next() % 64);

        assert_int_equal(hist_count_le(h, v), ref_count_le(r, v));
    }
}

/* A random duration of one of several shapes: narrow, log-normal with a preemption tail,
 * bimodal, the whole 64-bit range, tiny (the exact buckets). */
static uint64_t random_sample(int shape)
{
    switch (shape) {
    case 0:
        return 20000 + rng_next() % 2000;
    case 1: {
        double v = exp(log(5e3) + 0.25 * rng_normal());

        if (rng_next() % 100 < 3) {
            v *= exp(rng_unit() * log(2e4));
        }
        return (uint64_t)v;
    }
    case 2:
        return rng_next() % 2 ? 300 + rng_next() % 30 : 40000000 + rng_next() % 4000000;
    case 3:
        return rng_next() >> (rng_next() % 64);
    default:
        return rng_next() % 128;
    }
}

static void test_issue_10_sparse_matches_dense(void **state)
{
    struct ref_hist *r = calloc(1, sizeof(*r));
    struct hist h;

    (void)state;
    assert_non_null(r);
    hist_init(&h);
    for (int shape = 0; shape < 5; shape++) {
        for (size_t n = 0; n <= 30000; n = n * 3 + 1) {
            memset(r, 0, sizeof(*r));
            hist_reset(&h);
            for (size_t i = 0; i < n; i++) {
                uint64_t v = random_sample(shape);

                hist_add(&h, v);
                ref_add(r, v);
            }
            assert_matches_ref(&h, r);
            assert_true(hist_bytes(&h) <= (size_t)HIST_NBUCKETS * sizeof(uint32_t));
        }
    }
    hist_done(&h);
    free(r);
}

/* The store's rolling window: ten slots reset as their second comes round again, a window
 * made by merging the live slots into a scratch histogram, a since-start histogram; every
 * figure equal to the dense reference's, over hundreds of rotations of random samples. */
static void test_issue_10_window_merge_matches_dense(void **state)
{
    enum { NSLOTS = 10, ROTATIONS = 300 };
    struct ref_hist *rs = calloc(NSLOTS + 2, sizeof(*rs));
    struct ref_hist *rwin = &rs[NSLOTS];
    struct ref_hist *rall = &rs[NSLOTS + 1];
    struct hist slot[NSLOTS];
    struct hist win;
    struct hist all;

    (void)state;
    assert_non_null(rs);
    hist_init(&win);
    hist_init(&all);
    for (int i = 0; i < NSLOTS; i++) {
        hist_init(&slot[i]);
    }
    for (int t = 0; t < ROTATIONS; t++) {
        int si = t % NSLOTS;
        int shape = (int)(rng_next() % 5);
        size_t n = rng_next() % 3 == 0 ? 0 : rng_next() % 4000;

        hist_reset(&slot[si]);
        memset(&rs[si], 0, sizeof(rs[si]));
        for (size_t i = 0; i < n; i++) {
            uint64_t v = random_sample(rng_next() % 4 == 0 ? 3 : shape);

            hist_add(&slot[si], v);
            hist_add(&all, v);
            ref_add(&rs[si], v);
            ref_add(rall, v);
        }
        hist_reset(&win);
        memset(rwin, 0, sizeof(*rwin));
        for (int i = 0; i < NSLOTS; i++) {
            hist_merge(&win, &slot[i]);
            ref_merge(rwin, &rs[i]);
        }
        if (t % 10 == 0 || t == ROTATIONS - 1) {
            assert_matches_ref(&win, rwin);
            assert_matches_ref(&slot[si], &rs[si]);
            assert_matches_ref(&all, rall);
        }
    }
    for (int i = 0; i < NSLOTS; i++) {
        hist_done(&slot[i]);
    }
    hist_done(&win);
    hist_done(&all);
    free(rs);
}

/* Memory follows the buckets in use, not the spread: two samples 2^63 apart take two blocks,
 * and a window slot of 4000 samples with a tail over four decades a few kilobytes where the
 * dense range from its minimum to its maximum took 11 KB; never more than 8 bytes a bucket. */
static void test_issue_10_bytes_follow_buckets_used(void **state)
{
    struct hist h;

    (void)state;
    hist_init(&h);
    hist_add(&h, 1);
    hist_add(&h, 1ULL << 63);
    assert_int_equal(hist_bytes(&h), 2 * HIST_BLOCK * sizeof(uint32_t));
    hist_reset(&h);

    for (int i = 0; i < 4000; i++) {
        double v = exp(log(8e3) + 0.25 * rng_normal());

        if (i % 1000 == 0) {
            v *= 1e4;
        }
        hist_add(&h, (uint64_t)v);
    }
    assert_true(hist_bytes(&h) <= 1536);
    hist_reset(&h);

    /* The worst case: every bucket used. */
    for (uint32_t i = 0; i < HIST_NBUCKETS; i++) {
        hist_add(&h, hist_bucket_low(i));
    }
    assert_int_equal(h.count, HIST_NBUCKETS);
    assert_true(hist_bytes(&h) <= (size_t)HIST_NBUCKETS * sizeof(uint32_t));
    assert_int_equal(hist_percentile(&h, 50.0), hist_bucket_mid(HIST_NBUCKETS / 2 - 1));
    hist_done(&h);
}

/* A bucket count past UINT32_MAX (a long run): counts become 64-bit, nothing wraps. */
static void test_issue_10_counts_past_32_bits(void **state)
{
    struct hist h;
    struct hist copy;

    (void)state;
    hist_init(&h);
    hist_init(&copy);
    hist_add(&h, 1000);
    hist_add(&h, 5000000);
    for (int i = 0; i < 33; i++) {
        hist_reset(&copy);
        hist_merge(&copy, &h);
        hist_merge(&h, &copy); /* doubles every count */
    }
    assert_int_equal(h.count, 1ULL << 34);
    assert_int_equal(h.sum_ns, (1000ULL + 5000000ULL) << 33);
    assert_true(h.wide);
    assert_int_equal(bucket_count(&h, hist_index(1000)), 1ULL << 33);
    assert_int_equal(bucket_count(&h, hist_index(5000000)), 1ULL << 33);
    assert_int_equal(hist_percentile(&h, 50.0), hist_bucket_mid(hist_index(1000)));
    assert_int_equal(hist_percentile(&h, 0.0), 1000);
    assert_int_equal(hist_percentile(&h, 50.1), 5000000); /* its bucket's midpoint, clamped */
    assert_int_equal(hist_count_le(&h, 4000000), 1ULL << 33);
    hist_add(&h, 1000);
    assert_int_equal(bucket_count(&h, hist_index(1000)), (1ULL << 33) + 1);
    /* A reset goes back to 32-bit counts. */
    hist_reset(&h);
    assert_false(h.wide);
    hist_add(&h, 7);
    assert_int_equal(hist_percentile(&h, 50.0), 7);
    hist_done(&h);
    hist_done(&copy);
}

/* hist_add2 and the remembered block give what hist_add gives alone: blocks inserted before
 * the remembered one (which moves it) included. */
static void test_issue_13_add2_same(void **state)
{
    struct hist a, b, c, d;
    uint64_t v = 1;

    (void)state;
    hist_init(&a);
    hist_init(&b);
    hist_init(&c);
    hist_init(&d);
    hist_add(&b, 5000000); /* b holds a sample more than a, in a block of its own */
    hist_add(&d, 5000000);
    for (int i = 0; i < 20000; i++) {
        /* Runs in one block, then jumps down and up: new blocks before the remembered one. */
        v = i % 7 == 0 ? (v * 2654435761ULL) % 3000000 + 1 : v + (uint64_t)(i % 3);
        hist_add2(&a, &b, v);
        hist_add(&c, v);
        hist_add(&d, v);
    }
    assert_int_equal(a.count, c.count);
    assert_int_equal(a.sum_ns, c.sum_ns);
    assert_int_equal(b.count, d.count);
    assert_int_equal(b.min_ns, d.min_ns);
    assert_int_equal(b.max_ns, d.max_ns);
    for (uint64_t x = 0; x < 6000000; x = x * 5 / 4 + 1) {
        assert_int_equal(hist_count_le(&a, x), hist_count_le(&c, x));
        assert_int_equal(hist_count_le(&b, x), hist_count_le(&d, x));
    }
    for (int pct = 0; pct <= 100; pct += 5) {
        assert_int_equal(hist_percentile(&a, pct), hist_percentile(&c, pct));
        assert_int_equal(hist_percentile(&b, pct), hist_percentile(&d, pct));
    }
    /* After a reset the remembered block is gone too. */
    hist_reset(&a);
    hist_reset(&c);
    hist_add2(&a, &b, 77777);
    hist_add(&c, 77777);
    assert_int_equal(hist_count_le(&a, 77777), 1);
    assert_int_equal(hist_count_le(&a, 77000), hist_count_le(&c, 77000));
    hist_done(&a);
    hist_done(&b);
    hist_done(&c);
    hist_done(&d);
}

/* The window's running histogram (what the store keeps per series): slots added as samples
 * come (hist_add, hist_add2), taken back out as they expire (hist_sub, extremes from the slots
 * left), never merged; after every one of hundreds of rotations it equals the dense reference of
 * the slots held and the merge of them, block for block (emptied blocks are freed). */
static void test_issue_13_window_sub_matches_dense(void **state)
{
    enum { NSLOTS = 10, ROTATIONS = 400 };
    struct ref_hist *rs = calloc(NSLOTS + 1, sizeof(*rs));
    struct ref_hist *rwin = &rs[NSLOTS];
    struct hist slot[NSLOTS];
    struct hist run;
    struct hist win;
    struct hist all;
    uint64_t added = 0;

    (void)state;
    assert_non_null(rs);
    hist_init(&run);
    hist_init(&win);
    hist_init(&all);
    for (int i = 0; i < NSLOTS; i++) {
        hist_init(&slot[i]);
    }
    for (int t = 0; t < ROTATIONS; t++) {
        int si = t % NSLOTS;
        int shape = (int)(rng_next() % 5);
        size_t n = rng_next() % 3 == 0 ? 0 : rng_next() % (t % 7 == 0 ? 4000 : 40);
        uint64_t lo = UINT64_MAX;
        uint64_t hi = 0;

        /* The oldest slot leaves: out of the running total, then recycled. */
        hist_sub(&run, &slot[si]);
        hist_reset(&slot[si]);
        memset(&rs[si], 0, sizeof(rs[si]));
        for (int i = 0; i < NSLOTS; i++) {
            if (slot[i].count > 0) {
                lo = slot[i].min_ns < lo ? slot[i].min_ns : lo;
                hi = slot[i].max_ns > hi ? slot[i].max_ns : hi;
            }
        }
        if (run.count > 0) {
            hist_set_range(&run, lo, hi);
        }
        for (size_t i = 0; i < n; i++) {
            uint64_t v = random_sample(rng_next() % 4 == 0 ? 3 : shape);

            hist_add(&all, v);
            hist_add2(&slot[si], &run, v);
            ref_add(&rs[si], v);
        }
        memset(rwin, 0, sizeof(*rwin));
        hist_reset(&win);
        for (int i = 0; i < NSLOTS; i++) {
            ref_merge(rwin, &rs[i]);
            hist_merge(&win, &slot[i]);
        }
        assert_matches_ref(&run, rwin);
        assert_int_equal(run.nblocks, win.nblocks);
        assert_memory_equal(run.map, win.map, sizeof(run.map));
        added += n;
        assert_int_equal(all.count, added);
    }
    /* Every slot out: nothing left, and the storage goes back as on a reset. */
    for (int i = 0; i < NSLOTS; i++) {
        hist_sub(&run, &slot[i]);
    }
    assert_int_equal(run.count, 0);
    assert_int_equal(run.sum_ns, 0);
    assert_int_equal(run.nblocks, 0);
    assert_int_equal(hist_percentile(&run, 99.0), 0);
    for (int i = 0; i < NSLOTS; i++) {
        hist_done(&slot[i]);
    }
    hist_done(&run);
    hist_done(&win);
    hist_done(&all);
    free(rs);
}

/* Merge into h, or take out of it (op), 2^32 samples of 5000 ns in one bucket, without adding
 * 2^32 samples: one merged into itself 32 times. */
static void hist_big_5000(struct hist *h, void (*op)(struct hist *, const struct hist *))
{
    struct hist big;

    hist_init(&big);
    hist_add(&big, 5000);
    for (int k = 0; k < 32; k++) {
        struct hist copy;

        hist_init(&copy);
        hist_merge(&copy, &big);
        hist_merge(&big, &copy);
        hist_done(&copy);
    }
    op(h, &big);
    hist_done(&big);
}

/* Taking back part of a histogram whose counts are 64-bit, and one of a single sample. */
static void test_issue_13_sub_wide_and_single(void **state)
{
    struct hist a;
    struct hist b;

    (void)state;
    hist_init(&a);
    hist_init(&b);
    hist_add(&a, 5000);
    hist_add(&b, 5000);
    hist_add(&a, 7000);
    hist_sub(&a, &b);
    hist_set_range(&a, 7000, 7000);
    assert_int_equal(a.count, 1);
    assert_int_equal(a.sum_ns, 7000);
    assert_int_equal(a.nblocks, 1);
    assert_int_equal(hist_percentile(&a, 50.0), 7000);
    assert_int_equal(hist_count_le(&a, 6999), 0);

    /* Past 2^32 in one bucket (hist_merge of a big part widens), then back. */
    hist_reset(&b);
    for (int i = 0; i < 3; i++) {
        hist_add(&b, 5000);
    }
    for (int i = 0; i < 2; i++) {
        hist_big_5000(&a, hist_merge);
    }
    assert_true(a.wide);
    hist_merge(&a, &b);
    hist_sub(&a, &b);
    hist_set_range(&a, 5000, 7000);
    assert_int_equal(a.count, 1ULL + (2ULL << 32));
    assert_int_equal(hist_count_le(&a, 5000), 2ULL << 32);
    assert_int_equal(hist_percentile(&a, 100.0), 7000);
    /* Taken back under 2^32, the counts are 32-bit again and the next samples counted. */
    for (int i = 0; i < 2; i++) {
        hist_big_5000(&a, hist_sub);
    }
    hist_set_range(&a, 7000, 7000);
    assert_false(a.wide);
    assert_int_equal(a.count, 1);
    assert_int_equal(hist_bytes(&a), (size_t)a.cap * HIST_BLOCK * sizeof(uint32_t));
    hist_add(&a, 5000);
    hist_add(&a, 5000);
    assert_int_equal(a.count, 3);
    assert_int_equal(hist_count_le(&a, 5000), 2);
    assert_int_equal(hist_percentile(&a, 100.0), 7000);
    assert_int_equal(hist_percentile(&a, 1.0), 5000);
    hist_done(&a);
    hist_done(&b);
}

/* Ranks of whole percents (computed in integers) and of fractional ones (in doubles) are the
 * nearest ranks ceil(pct / 100 * n): every whole and half percent of 1 to 127 exact samples. */
static void test_issue_13_ranks(void **state)
{
    uint64_t v[127];
    struct hist h;

    (void)state;
    hist_init(&h);
    for (size_t n = 1; n <= 127; n++) {
        v[n - 1] = n - 1;
        hist_add(&h, n - 1); /* exact buckets: sample i is the value i */
        for (int hp = 0; hp <= 200; hp++) {
            double pct = hp * 0.5;

            assert_int_equal(hist_percentile(&h, pct), exact_percentile(v, n, pct));
        }
    }
    hist_done(&h);
}

/* Add v and check the extremes that follow. */
static void add_expect(struct hist *h, uint64_t v, uint64_t min_ns, uint64_t max_ns)
{
    hist_add(h, v);
    assert_int_equal(h->min_ns, min_ns);
    assert_int_equal(h->max_ns, max_ns);
}

/* The extremes are updated only for a sample outside [min, max]: an empty histogram's range
 * is 0..0, so a first sample (0 or not), a reset and a sub that empties must all give exact
 * extremes again; checked against a plain running min and max over a random walk. */
static void test_issue_13_extremes_from_empty(void **state)
{
    struct hist h, part;
    uint64_t mn = 0, mx = 0, x = 88172645463325252ULL;

    (void)state;
    hist_init(&h);
    add_expect(&h, 0, 0, 0);
    add_expect(&h, 9, 0, 9);
    hist_reset(&h);
    add_expect(&h, 700, 700, 700);
    add_expect(&h, 300, 300, 700);
    /* A sub that takes everything out leaves it empty, and the next sample sets both. */
    hist_init(&part);
    hist_add(&part, 700);
    hist_add(&part, 300);
    hist_sub(&h, &part);
    assert_int_equal(h.count, 0);
    add_expect(&h, 50, 50, 50);
    hist_reset(&h);
    for (int i = 0; i < 100000; i++) {
        uint64_t v;

        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v = (x >> (x & 63U)) & 0xffffffU;
        mn = i == 0 || v < mn ? v : mn;
        mx = i == 0 || v > mx ? v : mx;
        hist_add(&h, v);
        assert_int_equal(h.min_ns, mn);
        assert_int_equal(h.max_ns, mx);
    }
    hist_done(&part);
    hist_done(&h);
}

/* The percentiles of two histograms walked together are those of their merge: apart,
 * overlapping, one empty, one a single sample. */
static void test_issue_13_percentiles_of_two(void **state)
{
    static const double pcts[] = {0, 1, 10, 25, 50, 75, 90, 95, 99, 99.9, 100};
    const size_t n = sizeof(pcts) / sizeof(pcts[0]);
    uint64_t got[sizeof(pcts) / sizeof(pcts[0])], want[sizeof(pcts) / sizeof(pcts[0])];

    (void)state;
    for (int round = 0; round < 400; round++) {
        struct hist a, b, m;
        int na = round % 7 == 0 ? 0 : (int)(rng_next() % 3000);
        int nb = round % 11 == 0 ? 1 : (int)(rng_next() % 500);

        hist_init(&a);
        hist_init(&b);
        hist_init(&m);
        for (int i = 0; i < na; i++) {
            hist_add(&a, random_sample(round % 5));
        }
        for (int i = 0; i < nb; i++) {
            hist_add(&b, random_sample((round / 5) % 5) * (round % 3 == 0 ? 1000 : 1));
        }
        hist_merge(&m, &a);
        hist_merge(&m, &b);
        hist_percentiles2(&a, &b, pcts, n, got);
        hist_percentiles(&m, pcts, n, want);
        assert_memory_equal(got, want, sizeof(got));
        hist_percentiles2(&b, &a, pcts, n, got);
        assert_memory_equal(got, want, sizeof(got));
        hist_percentiles2(&m, NULL, pcts, n, got);
        assert_memory_equal(got, want, sizeof(got));
        hist_done(&a);
        hist_done(&b);
        hist_done(&m);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_issue_10_reset_shrinks_storage),
        cmocka_unit_test(test_issue_10_sparse_matches_dense),
        cmocka_unit_test(test_issue_10_window_merge_matches_dense),
        cmocka_unit_test(test_issue_10_bytes_follow_buckets_used),
        cmocka_unit_test(test_issue_10_counts_past_32_bits),
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
        cmocka_unit_test(test_issue_13_add2_same),
        cmocka_unit_test(test_issue_13_window_sub_matches_dense),
        cmocka_unit_test(test_issue_13_sub_wide_and_single),
        cmocka_unit_test(test_issue_13_ranks),
        cmocka_unit_test(test_issue_13_percentiles_of_two),
        cmocka_unit_test(test_issue_13_extremes_from_empty),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
