/* SPDX-License-Identifier: MIT */
/* The ring drain period: ring_cadence_next (collectors/ring.c) adapts it to the peak fill rate
 * of the fullest ring. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "collectors/ring.h"

#define MS 1000000ULL

/* Idle rings: the period doubles up to the ceiling, a few wakeups a second. */
static void test_idle_backs_off_to_the_ceiling(void **state)
{
    struct ring_cadence c;
    int runs = 0;

    (void)state;
    ring_cadence_init(&c);
    assert_int_equal(c.period_ms, RING_DRAIN_MIN_MS);
    while (c.period_ms < RING_DRAIN_MAX_MS && runs < 64) {
        uint64_t prev = c.period_ms, next = ring_cadence_next(&c, prev * MS, 0.0);

        assert_true(next <= 2 * prev);
        assert_true(next > prev);
        runs++;
    }
    assert_int_equal(c.period_ms, RING_DRAIN_MAX_MS);
    assert_true(runs <= 9);
    assert_int_equal(ring_cadence_next(&c, RING_DRAIN_MAX_MS * MS, 0.0), RING_DRAIN_MAX_MS);
}

/* A steady ring that fills 1 % in 10 ms is drained when it should be 25 % full (250 ms, past
 * the ceiling); one that fills 25 % in 40 ms, every 40 ms; the period grows 2x at most. */
static void test_steady_rate_targets_a_quarter_full(void **state)
{
    struct ring_cadence c;

    (void)state;
    ring_cadence_init(&c);
    c.period_ms = 100;
    assert_int_equal(ring_cadence_next(&c, 100 * MS, 0.10), 200);
    assert_int_equal(ring_cadence_next(&c, 200 * MS, 0.20), 200);
    ring_cadence_init(&c);
    c.period_ms = 40;
    for (int i = 0; i < 10; i++) {
        assert_int_equal(ring_cadence_next(&c, 40 * MS, 0.25), 40);
    }
}

/* A burst shrinks the period at once, to the floor if need be (5 M events/s of 32 bytes fill
 * a 1 MiB ring in 6.5 ms), and the peak holds it short through the quiet gaps of a bursty
 * producer: it decays with a half-life, it does not vanish with one empty drain. */
static void test_burst_shrinks_at_once_and_holds(void **state)
{
    struct ring_cadence c;
    double fills_per_ms = 5e6 * 32.0 / (double)(1 << 20) / 1000.0;

    (void)state;
    ring_cadence_init(&c);
    c.period_ms = 200;
    assert_int_equal(ring_cadence_next(&c, 200 * MS, 1.0), 50);
    assert_int_equal(ring_cadence_next(&c, 50 * MS, 1.0), 12); /* full in 50 ms: 0.25 / 0.02 */
    assert_int_equal(ring_cadence_next(&c, 2 * MS, 2.0 * fills_per_ms), 1);
    /* an empty drain right after: still short */
    assert_true(ring_cadence_next(&c, 1 * MS, 0.0) <= 2);
    assert_true(ring_cadence_next(&c, 2 * MS, 0.0) <= 4);
    /* seconds of nothing: back to the ceiling, within 8 half-lives of the peak */
    uint64_t quiet_ms = 0;

    for (int i = 0; i < 100000 && c.period_ms < RING_DRAIN_MAX_MS; i++) {
        quiet_ms += c.period_ms;
        ring_cadence_next(&c, c.period_ms * MS, 0.0);
    }
    assert_int_equal(c.period_ms, RING_DRAIN_MAX_MS);
    assert_true(quiet_ms > 2 * (uint64_t)RING_PEAK_HALF_LIFE_MS);
    assert_true(quiet_ms < 8 * (uint64_t)RING_PEAK_HALF_LIFE_MS);
}

/* No time elapsed (a flush just drained): the peak stands, nothing is divided by zero. */
static void test_no_elapsed_time(void **state)
{
    struct ring_cadence c;

    (void)state;
    ring_cadence_init(&c);
    c.period_ms = 8;
    assert_int_equal(ring_cadence_next(&c, 0, 0.5), 16);
    c.period_ms = 0;
    assert_int_equal(ring_cadence_next(&c, 1 * MS, 1.0), RING_DRAIN_MIN_MS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_idle_backs_off_to_the_ceiling),
        cmocka_unit_test(test_steady_rate_targets_a_quarter_full),
        cmocka_unit_test(test_burst_shrinks_at_once_and_holds),
        cmocka_unit_test(test_no_elapsed_time),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
