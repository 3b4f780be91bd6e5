/* SPDX-License-Identifier: MIT */
/* Unit tests of the store's power facts and their rows: RAPL zones (power over the window from
 * the energy counter, the state without zones, what the observer sees), the GPUs' power and
 * energy counters (kept over a device update, power over the window), and J/token of a
 * workload alone on its GPUs (and why not when it is not). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "src/model/rows.h"
#include "src/model/rows_power.h"
#include "src/model/store.h"
#include "src/model/store_gpu.h"
#include "src/model/store_power.h"

#define SEC 1000000000ULL
#define MS 1000000ULL
#define T0 (1000 * SEC)

static int seen[STORE_EV_RAPL_STATE + 1];

static void count_events(void *ctx, const struct store_event *ev)
{
    (void)ctx;
    seen[ev->type]++;
}

static void test_rapl_power_over_window(void **state)
{
    struct store *st = store_new(NULL);
    struct rows_power pw;
    double w;

    (void)state;
    memset(seen, 0, sizeof(seen));
    store_set_observer(st, count_events, NULL);
    assert_int_equal(store_power_count(st), 0);
    assert_null(store_power_state(st));
    store_power_zone_set(st, "package-0", 5000000, T0);
    store_power_zone_set(st, "package-0/dram", 100, T0);
    assert_false(store_power_watts(st, 0, T0, &w)); /* one reading: no power yet */
    store_power_zone_set(st, "package-0", 5000000 + 12500000, T0 + 2500 * MS);
    store_power_zone_set(st, "package-0/dram", 100, T0 + 2500 * MS);
    store_power_zone_set(st, "package-0/dram", 100, T0 + 2500 * MS); /* nothing new */
    assert_int_equal(seen[STORE_EV_RAPL_ZONE], 4);
    assert_int_equal(store_power_count(st), 2);
    assert_string_equal(store_power_zone(st, 0), "package-0");
    assert_string_equal(store_power_zone(st, 1), "package-0/dram");
    assert_true(store_power_watts(st, 0, T0 + 2500 * MS, &w));
    assert_true(w == 5.0); /* 12.5 J over 2.5 s */
    rows_build_power(&pw, st, T0 + 2500 * MS);
    assert_int_equal(pw.n, 2);
    assert_true(pw.v[0].energy_j == 17.5);
    assert_true(pw.v[0].power_valid && pw.v[0].power_w == 5.0);
    assert_true(pw.v[1].power_valid && pw.v[1].power_w == 0.0);
    assert_null(pw.state);
    rows_power_done(&pw);
    /* Readings older than the window: no power figure, the energy stays. */
    assert_false(store_power_watts(st, 0, T0 + 60 * SEC, &w));
    assert_int_equal(store_power_energy_uj(st, 0), 17500000);
    store_free(st);
}

static void test_rapl_state(void **state)
{
    struct store *st = store_new(NULL);
    struct rows_power pw;
    char longname[STORE_POWER_ZONE_LEN + 8];

    (void)state;
    memset(seen, 0, sizeof(seen));
    store_set_observer(st, count_events, NULL);
    store_power_state_set(st, NULL); /* nothing to clear: not an event */
    assert_int_equal(seen[STORE_EV_RAPL_STATE], 0);
    store_power_state_set(st, "no RAPL on this machine");
    store_power_state_set(st, "no RAPL on this machine"); /* the same: not seen again */
    assert_int_equal(seen[STORE_EV_RAPL_STATE], 1);
    rows_build_power(&pw, st, T0);
    assert_int_equal(pw.n, 0);
    assert_string_equal(pw.state, "no RAPL on this machine");
    rows_power_done(&pw);
    /* A zone read: the state goes. */
    store_power_zone_set(st, "package-0", 1, T0);
    assert_null(store_power_state(st));
    /* Names the store cannot keep are refused, not cut. */
    memset(longname, 'x', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    store_power_zone_set(st, longname, 1, T0);
    store_power_zone_set(st, "", 1, T0);
    store_power_zone_set(st, NULL, 1, T0);
    assert_int_equal(store_power_count(st), 1);
    store_free(st);
}

static void test_gpu_power_kept_and_windowed(void **state)
{
    struct store *st = store_new(NULL);
    struct store_gpu_dev d[2];
    struct rows_gpus g;
    double w;

    (void)state;
    memset(d, 0, sizeof(d));
    d[0].index = 0;
    d[1].index = 1;
    store_gpu_set(st, d, 2, NULL);
    d[0].power_valid = true;
    d[0].power_mw = 250000;
    d[0].energy_valid = true;
    d[0].energy_mj = 1000000;
    d[0].procs_valid = true;
    d[0].nprocs = 1;
    store_gpu_power_set(st, &d[0], T0);
    d[0].energy_mj += 600000; /* 600 J in 2 s: 300 W */
    store_gpu_power_set(st, &d[0], T0 + 2 * SEC);
    /* A device update (its own figures) keeps the power facts, whatever devs says. */
    d[0].power_valid = false;
    store_gpu_set(st, d, 2, NULL);
    rows_build_gpus(&g, st);
    assert_true(g.v[0].power_valid && g.v[0].power_w == 250.0);
    assert_true(g.v[0].energy_valid && g.v[0].energy_j == 1600.0);
    assert_false(g.v[1].power_valid);
    assert_false(g.v[1].energy_valid);
    rows_gpus_done(&g);
    assert_true(store_gpu_energy_watts(st, 0, T0 + 2 * SEC, &w));
    assert_true(w == 300.0);
    assert_false(store_gpu_energy_watts(st, 1, T0 + 2 * SEC, &w));
    /* An unknown device or flags are not readings. */
    d[0].index = 7;
    store_gpu_power_set(st, &d[0], T0 + 3 * SEC);
    assert_int_equal(store_gpu_count(st), 2);
    store_free(st);
}

/* A workload with tokens/s of 10 exactly on devices 0 and 1, their energy counters at 300 W
 * and 50 W over the window. */
static struct store_proc *jpt_setup(struct store *st, uint32_t nprocs0, bool energy1)
{
    struct store_proc *p = store_proc_add(st, 42, "lm");
    uint32_t tok = store_proc_intern(p, "tokens");
    uint32_t devs[2] = {0, 1};
    uint64_t bytes[2] = {1 << 20, 1 << 20};
    struct store_gpu_dev d[2];

    memset(d, 0, sizeof(d));
    d[0].index = 0;
    d[1].index = 1;
    store_gpu_set(st, d, 2, NULL);
    for (int k = 0; k < 2; k++) {
        d[k].procs_valid = true;
        d[k].nprocs = k == 0 ? nprocs0 : 1;
        d[k].energy_valid = k == 0 || energy1;
    }
    store_gpu_power_set(st, &d[0], T0);
    store_gpu_power_set(st, &d[1], T0);
    d[0].energy_mj = 1200000;
    d[1].energy_mj = energy1 ? 200000 : 0;
    store_gpu_power_set(st, &d[0], T0 + 4 * SEC);
    store_gpu_power_set(st, &d[1], T0 + 4 * SEC);
    store_counter_set(p, tok, 100, T0);
    store_counter_set(p, tok, 140, T0 + 4 * SEC);
    store_proc_gpu_set(p, devs, bytes, 2);
    return p;
}

static void test_gpu_joules_per_token(void **state)
{
    struct store *st = store_new(NULL);
    struct store_proc *p = jpt_setup(st, 1, true);
    struct rows_gpu_energy e;

    (void)state;
    rows_build_gpu_energy(&e, p, T0 + 4 * SEC);
    assert_true(e.on_gpu);
    assert_int_equal(e.ndevs, 2);
    assert_true(e.power_valid && e.power_w == 350.0);
    assert_true(e.jpt_valid && e.j_per_token == 35.0);
    assert_string_equal(e.reason, "");
    store_free(st);
}

static void test_gpu_joules_per_token_absent(void **state)
{
    struct store *st = store_new(NULL);
    struct store_proc *p = jpt_setup(st, 3, true), *q;
    struct rows_gpu_energy e;
    uint32_t dev0 = 0;
    uint64_t zero = 0;

    (void)state;
    rows_build_gpu_energy(&e, p, T0 + 4 * SEC);
    assert_false(e.jpt_valid);
    assert_string_equal(e.reason, "GPU0 runs 3 processes: its energy is not this workload's alone");
    store_free(st);

    st = store_new(NULL);
    p = jpt_setup(st, 1, false);
    rows_build_gpu_energy(&e, p, T0 + 4 * SEC);
    assert_false(e.power_valid);
    assert_string_equal(e.reason, "GPU1 has no energy counter");
    /* No tokens in the window. */
    rows_build_gpu_energy(&e, p, T0 + 60 * SEC);
    assert_false(e.jpt_valid);
    /* A process that freed its GPU memory is on no GPU now. */
    q = store_proc_add(st, 43, "other");
    store_proc_gpu_set(q, &dev0, &zero, 1);
    rows_build_gpu_energy(&e, q, T0 + 4 * SEC);
    assert_false(e.on_gpu);
    store_free(st);

    st = store_new(NULL);
    p = jpt_setup(st, 1, true);
    rows_build_gpu_energy(&e, p, T0 + 60 * SEC);
    assert_false(e.jpt_valid);
    assert_string_equal(e.reason, "GPU0: fewer than two energy readings in the window");
    store_free(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rapl_power_over_window),
        cmocka_unit_test(test_rapl_state),
        cmocka_unit_test(test_gpu_power_kept_and_windowed),
        cmocka_unit_test(test_gpu_joules_per_token),
        cmocka_unit_test(test_gpu_joules_per_token_absent),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
