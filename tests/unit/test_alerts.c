/* SPDX-License-Identifier: MIT */
/* Unit tests of the alert rules: each built-in rule firing on a store filled for it, the
 * for-duration (pending, then firing), resolution, rule lines and rules files. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "src/model/alerts.h"
#include "src/model/store.h"
#include "src/model/store_gpu.h"

#define SEC 1000000000ULL
#define MS 1000000ULL

/* The alert of rule on object, or NULL. */
static const struct alert *find(const struct alerts *a, const char *rule, const char *object)
{
    for (size_t i = 0; i < alerts_count(a); i++) {
        const struct alert *al = alerts_at(a, i);

        if (strcmp(al->rule, rule) == 0 && strcmp(al->object, object) == 0) {
            return al;
        }
    }
    return NULL;
}

/* Only the rule named stays on, so each test sees its own rule. */
static struct alerts *only(const char *rule)
{
    struct alerts *a = alerts_new();
    char *err = NULL;

    for (size_t i = 0; i < alerts_nrules(a); i++) {
        char line[64];

        if (strcmp(alerts_rule_at(a, i)->name, rule) != 0) {
            snprintf(line, sizeof(line), "%s off", alerts_rule_at(a, i)->name);
            assert_int_equal(alerts_set_rule(a, line, &err), 0);
        }
    }
    return a;
}

static void test_memory_kv_cache(void **state)
{
    struct store *st = store_new(NULL);
    struct store_proc *p = store_proc_add(st, 42, "lm");
    uint32_t kv = store_proc_intern(p, "kv_cache");
    struct alerts *a = only("memory_high");
    const struct alert *al;
    char text[256];

    (void)state;
    store_gauge_set(p, kv, STORE_MEM_KV_CACHE, 0, 80, 100, 80);
    alerts_eval(a, st, NULL, 1 * SEC);
    assert_int_equal(alerts_count(a), 0);

    store_gauge_set(p, kv, STORE_MEM_KV_CACHE, 0, 95, 100, 95);
    alerts_eval(a, st, NULL, 2 * SEC);
    assert_int_equal(alerts_count(a), 1);
    al = find(a, "memory_high", "KV Cache/kv_cache");
    assert_non_null(al);
    assert_int_equal(al->state, ALERT_FIRING); /* for 0 s: at once */
    assert_int_equal(al->severity, ALERT_CRITICAL);
    assert_int_equal(al->pid, 42);
    assert_string_equal(al->workload, "lm");
    assert_true(al->row);
    assert_true(al->value > 94.99 && al->value < 95.01);
    assert_true(al->threshold == 90);
    assert_int_equal(al->since_ns, 2 * SEC);
    assert_int_equal(alerts_firing(a, ALERT_CRITICAL), 1);
    alerts_describe(al, text, sizeof(text));
    assert_non_null(strstr(text, "memory_high: lm (pid 42) KV Cache/kv_cache at 95%"));

    /* Resolved when it falls back; the run remembers it fired. */
    store_gauge_set(p, kv, STORE_MEM_KV_CACHE, 0, 50, 100, 95);
    alerts_eval(a, st, NULL, 3 * SEC);
    assert_int_equal(alerts_count(a), 0);
    assert_true(alerts_ever_fired(a, ALERT_CRITICAL));
    assert_int_equal(alerts_nfired(a), 1);
    assert_string_equal(alerts_fired_at(a, 0)->object, "KV Cache/kv_cache");
    alerts_free(a);
    store_free(st);
}

static void test_memory_pool_and_gpu(void **state)
{
    struct store *st = store_new(NULL);
    struct store_proc *p = store_proc_add(st, 7, "trainer");
    struct store_gpu_dev d[2];
    struct alerts *a = only("memory_high");
    const struct alert *al;

    (void)state;
    store_gauge_set(p, store_proc_intern(p, "arena"), STORE_MEM_POOL, 0, 7300, 8000, 7300);
    store_gauge_set(p, store_proc_intern(p, "small"), STORE_MEM_POOL, 0, 100, 8000, 100);
    memset(d, 0, sizeof(d));
    d[0].index = 0;
    strcpy(d[0].name, "Fake A");
    d[0].mem_valid = true;
    d[0].mem_used_bytes = 78ULL << 30;
    d[0].mem_total_bytes = 80ULL << 30;
    d[1].index = 1;
    d[1].mem_valid = true;
    d[1].mem_used_bytes = 1ULL << 30;
    d[1].mem_total_bytes = 16ULL << 30;
    store_gpu_set(st, d, 2, NULL);
    alerts_eval(a, st, NULL, 1 * SEC);
    assert_non_null(find(a, "memory_high", "Memory Pools/arena"));
    assert_null(find(a, "memory_high", "Memory Pools/small"));
    al = find(a, "memory_high", "GPU0");
    assert_non_null(al);
    assert_int_equal(al->pid, 0);
    assert_false(al->row);
    assert_true(al->value > 97.4 && al->value < 97.6);
    assert_null(find(a, "memory_high", "GPU1"));
    /* Tracked host memory of what was reserved is no limit. */
    store_proc_set_host(p, 8000, 8000, 0, 1 * SEC);
    alerts_eval(a, st, NULL, 2 * SEC);
    for (size_t i = 0; i < alerts_count(a); i++) {
        assert_int_not_equal(strncmp(alerts_at(a, i)->object, "Host Memory", 11), 0);
    }
    alerts_free(a);
    store_free(st);
}

/* Dropped events fire while they are within the window, and resolve a window later. */
static void test_loss(void **state)
{
    struct store *st = store_new(NULL); /* 10 s window */
    struct store_proc *p = store_proc_add(st, 9, "w");
    struct alerts *a = only("events_lost");
    const struct alert *al;

    (void)state;
    alerts_eval(a, st, NULL, 1 * SEC);
    assert_int_equal(alerts_count(a), 0);
    store_proc_set_dropped(p, 17);
    alerts_eval(a, st, NULL, 2 * SEC);
    al = find(a, "events_lost", "dropped");
    assert_non_null(al);
    assert_true(al->value == 17);
    assert_int_equal(al->state, ALERT_FIRING);
    for (uint64_t t = 3; t <= 11; t++) {
        alerts_eval(a, st, NULL, t * SEC);
        assert_non_null(find(a, "events_lost", "dropped"));
    }
    /* 2 s + the window: the drops are older than the window. */
    alerts_eval(a, st, NULL, 13 * SEC);
    assert_null(find(a, "events_lost", "dropped"));

    store_proc_add_invalid(p, 3, "bad id");
    alerts_eval(a, st, NULL, 14 * SEC);
    al = find(a, "events_lost", "invalid");
    assert_non_null(al);
    assert_true(al->value == 3);
    assert_non_null(strstr(al->detail, "bad id"));
    alerts_free(a);
    store_free(st);
}

static void test_compile_failures(void **state)
{
    struct store *st = store_new(NULL);
    struct store_proc *p = store_proc_add(st, 5, "snnc");
    struct store_thread *t = store_thread_add(p, 5, "main");
    uint32_t c = store_proc_intern(p, "compile"), err = store_proc_intern(p, "does not fit");
    struct alerts *a = only("compile_failures");
    const struct alert *al;

    (void)state;
    /* 19 ok and 1 failed: 5 %, not above. */
    for (uint64_t i = 0; i < 20; i++) {
        uint64_t b = 1 * SEC + i * 10 * MS;

        store_span_begin(t, c, b);
        store_span_end_status(t, c, i == 3 ? err : 0, b + 5 * MS);
    }
    alerts_eval(a, st, NULL, 2 * SEC);
    assert_int_equal(alerts_count(a), 0);
    /* One more failure: 2 of 21. */
    store_span_begin(t, c, 2 * SEC);
    store_span_end_status(t, c, err, 2 * SEC + 5 * MS);
    alerts_eval(a, st, NULL, 3 * SEC);
    al = find(a, "compile_failures", "compilations");
    assert_non_null(al);
    assert_true(al->value > 9.5 && al->value < 9.6);
    assert_non_null(strstr(al->detail, "2 of 21 failed"));
    /* Over the window: 12 s later they all ended before it. */
    alerts_eval(a, st, NULL, 15 * SEC);
    assert_int_equal(alerts_count(a), 0);
    alerts_free(a);
    store_free(st);
}

/* A count already up at the first look is what was lost since start: it alerts for a whole
 * window, not for one evaluation (regression: the second evaluation measured it against the
 * first and resolved it at once). */
static void test_loss_seen_first(void **state)
{
    struct store *st = store_new(NULL);
    struct store_proc *p = store_proc_add(st, 9, "w");
    struct alerts *a = only("events_lost");

    (void)state;
    store_proc_set_dropped(p, 5);
    for (uint64_t t = 1; t <= 10; t++) {
        alerts_eval(a, st, NULL, t * SEC);
        assert_non_null(find(a, "events_lost", "dropped"));
        assert_true(find(a, "events_lost", "dropped")->value == 5);
    }
    /* A window after the first look: nothing new within it. */
    alerts_eval(a, st, NULL, 12 * SEC);
    assert_null(find(a, "events_lost", "dropped"));
    alerts_free(a);
    store_free(st);
}

static void test_hw_errors(void **state)
{
    struct store *st = store_new(NULL);
    struct store_proc *p = store_proc_add(st, 11, "chip");
    uint32_t ce = store_proc_intern(p, "link.crc_errors"), ok = store_proc_intern(p, "packets");
    struct store_gpu_dev d;
    struct alerts *a = only("hw_errors");
    const struct alert *al;

    (void)state;
    store_counter_set(p, ce, 0, 1 * SEC);
    store_counter_set(p, ok, 100, 1 * SEC);
    memset(&d, 0, sizeof(d));
    d.index = 0;
    d.xid_valid = true;
    store_gpu_set(st, &d, 1, NULL);
    alerts_eval(a, st, NULL, 1 * SEC);
    assert_int_equal(alerts_count(a), 0);

    store_counter_set(p, ce, 4, 2 * SEC);
    store_counter_set(p, ok, 900, 2 * SEC);
    d.xid_errors = 1;
    d.xid_last = 79;
    store_gpu_set(st, &d, 1, NULL);
    alerts_eval(a, st, NULL, 2 * SEC);
    al = find(a, "hw_errors", "link.crc_errors");
    assert_non_null(al);
    assert_true(al->value == 4);
    assert_int_equal(al->severity, ALERT_CRITICAL);
    assert_null(find(a, "hw_errors", "packets"));
    al = find(a, "hw_errors", "GPU0");
    assert_non_null(al);
    assert_int_equal(al->pid, 0);
    assert_non_null(strstr(al->detail, "XID 79"));
    /* It stays for the window, evaluation after evaluation. */
    for (uint64_t t = 3; t <= 11; t++) {
        store_gpu_set(st, &d, 1, NULL);
        alerts_eval(a, st, NULL, t * SEC);
        assert_non_null(find(a, "hw_errors", "GPU0"));
        assert_non_null(find(a, "hw_errors", "link.crc_errors"));
    }
    /* Nothing new for a window: resolved. */
    alerts_eval(a, st, NULL, 13 * SEC);
    assert_int_equal(alerts_count(a), 0);
    alerts_free(a);
    store_free(st);
}

/* Energy per timestep of a spiking workload (its measured power over its timesteps/s): an
 * energy anomaly against the rolling median, pending for its for-duration, then firing. */
static void test_energy_anomaly(void **state)
{
    struct store *st = store_new(NULL);
    struct store_proc *p = store_proc_add(st, 3, "snn");
    uint32_t pw = store_proc_intern(p, "power_w"), w = store_proc_intern(p, "W");
    struct alerts *a = alerts_new();
    const struct alert *al;
    char *err = NULL;
    uint64_t t;

    (void)state;
    /* Only the energy rule, for 3 s. */
    for (size_t i = 0; i < alerts_nrules(a); i++) {
        char line[64];

        snprintf(line, sizeof(line), "%s off", alerts_rule_at(a, i)->name);
        assert_int_equal(alerts_set_rule(a, line, &err), 0);
    }
    assert_int_equal(alerts_set_rule(a, "energy_anomaly 2 3s", &err), 0);
    for (t = 1; t <= 30; t++) {
        store_step(p, STORE_STEP_ITERATION, 1, t * SEC / 2);
    }
    for (t = 1; t <= 15; t++) {
        store_value_set(p, pw, w, 1.0, t * SEC);
        store_step(p, STORE_STEP_ITERATION, 1, t * SEC);
        store_step(p, STORE_STEP_ITERATION, 1, t * SEC + SEC / 2);
        alerts_eval(a, st, NULL, t * SEC + 600 * MS);
        assert_int_equal(alerts_count(a), 0);
    }
    /* Five times the power at the same pace: five times the energy per step. */
    store_value_set(p, pw, w, 5.0, 16 * SEC);
    for (t = 16; t <= 19; t++) {
        store_step(p, STORE_STEP_ITERATION, 1, t * SEC);
        store_step(p, STORE_STEP_ITERATION, 1, t * SEC + SEC / 2);
        alerts_eval(a, st, NULL, t * SEC + 600 * MS);
        al = find(a, "energy_anomaly", "energy per step");
        if (al == NULL) {
            /* The step figure may need a sample of the new power first. */
            assert_int_equal(t, 16);
            continue;
        }
        assert_true(al->value > 2);
        if (t * SEC + 600 * MS - al->pending_ns < 3 * SEC) {
            assert_int_equal(al->state, ALERT_PENDING);
            assert_int_equal(al->since_ns, 0);
        } else {
            assert_int_equal(al->state, ALERT_FIRING);
        }
    }
    al = find(a, "energy_anomaly", "energy per step");
    assert_non_null(al);
    assert_int_equal(al->state, ALERT_FIRING);
    alerts_free(a);
    store_free(st);
}

/* A for-duration: pending while it holds for less, resolved without firing when it stops. */
static void test_for_duration(void **state)
{
    struct store *st = store_new(NULL);
    struct store_proc *p = store_proc_add(st, 42, "lm");
    uint32_t kv = store_proc_intern(p, "kv");
    struct alerts *a = only("memory_high");
    const struct alert *al;
    char *err = NULL;

    (void)state;
    assert_int_equal(alerts_set_rule(a, "memory_high 90 5s", &err), 0);
    store_gauge_set(p, kv, STORE_MEM_KV_CACHE, 0, 99, 100, 99);
    alerts_eval(a, st, NULL, 10 * SEC);
    al = find(a, "memory_high", "KV Cache/kv");
    assert_non_null(al);
    assert_int_equal(al->state, ALERT_PENDING);
    assert_int_equal(al->pending_ns, 10 * SEC);
    assert_int_equal(alerts_firing(a, ALERT_WARNING), 0);
    alerts_eval(a, st, NULL, 14 * SEC);
    assert_int_equal(find(a, "memory_high", "KV Cache/kv")->state, ALERT_PENDING);
    /* It stops holding: gone, never fired. */
    store_gauge_set(p, kv, STORE_MEM_KV_CACHE, 0, 10, 100, 99);
    alerts_eval(a, st, NULL, 15 * SEC);
    assert_int_equal(alerts_count(a), 0);
    assert_false(alerts_ever_fired(a, ALERT_WARNING));
    /* Again, and this time for 5 s. */
    store_gauge_set(p, kv, STORE_MEM_KV_CACHE, 0, 95, 100, 99);
    alerts_eval(a, st, NULL, 20 * SEC);
    alerts_eval(a, st, NULL, 24 * SEC);
    assert_int_equal(find(a, "memory_high", "KV Cache/kv")->state, ALERT_PENDING);
    alerts_eval(a, st, NULL, 25 * SEC);
    al = find(a, "memory_high", "KV Cache/kv");
    assert_int_equal(al->state, ALERT_FIRING);
    assert_int_equal(al->pending_ns, 20 * SEC);
    assert_int_equal(al->since_ns, 25 * SEC);
    assert_true(alerts_ever_fired(a, ALERT_WARNING));
    alerts_eval(a, st, NULL, 26 * SEC);
    assert_int_equal(find(a, "memory_high", "KV Cache/kv")->since_ns, 25 * SEC);
    /* An exited workload's last figures alert no one. */
    store_proc_set_state(p, STORE_PROC_EXITED, "exited", 27 * SEC);
    alerts_eval(a, st, NULL, 27 * SEC);
    assert_int_equal(alerts_count(a), 0);
    alerts_free(a);
    store_free(st);
}

/* Spans of one path: n of dur_ns each, ending by t_ns. */
static void spans(struct store_proc *p, struct store_thread *t, const char *name, int n,
                  uint64_t dur_ns, uint64_t t_ns)
{
    uint32_t id = store_proc_intern(p, name);

    for (int i = 0; i < n; i++) {
        uint64_t b = t_ns - (uint64_t)(n - i) * (dur_ns + MS);

        store_span_begin(t, id, b);
        store_span_end(t, id, b + dur_ns);
    }
}

static void test_p99_regression(void **state)
{
    struct store *base = store_new(NULL), *st = store_new(NULL);
    struct store_proc *bp = store_proc_add(base, 100, "tinylm");
    struct store_proc *p = store_proc_add(st, 200, "tinylm");
    struct store_thread *bt = store_thread_add(bp, 100, "main");
    struct store_thread *t = store_thread_add(p, 200, "main");
    struct alerts *a = only("p99_regression");
    const struct alert *al;

    (void)state;
    spans(bp, bt, "step", 50, 10 * MS, 5 * SEC);
    spans(bp, bt, "load", 50, 4 * MS, 6 * SEC);
    spans(p, t, "step", 50, 13 * MS, 5 * SEC);      /* +30 % */
    spans(p, t, "load", 50, 44 * MS / 10, 8 * SEC); /* +10 % */
    spans(p, t, "new", 50, 1 * MS, 8 * SEC);        /* not in the baseline */
    /* No baseline: nothing to compare with. */
    alerts_eval(a, st, NULL, 8 * SEC);
    assert_int_equal(alerts_count(a), 0);
    alerts_eval(a, st, base, 8 * SEC);
    al = find(a, "p99_regression", "step");
    assert_non_null(al);
    assert_true(al->row);
    assert_true(al->value > 27 && al->value < 33);
    assert_null(find(a, "p99_regression", "load"));
    assert_null(find(a, "p99_regression", "new"));
    assert_int_equal(alerts_count(a), 1);
    /* A threshold of 5 % catches the load too. */
    {
        char *err = NULL;

        assert_int_equal(alerts_set_rule(a, "p99_regression 5", &err), 0);
    }
    alerts_eval(a, st, base, 8 * SEC);
    assert_non_null(find(a, "p99_regression", "load"));
    alerts_free(a);
    store_free(st);
    store_free(base);
}

static void test_rule_lines(void **state)
{
    struct alerts *a = alerts_new();
    const struct alert_rule *r;
    char *err = NULL;
    size_t n0 = alerts_nrules(a);

    (void)state;
    assert_int_equal(alerts_set_rule(a, "memory_high 95 10s warning", &err), 0);
    r = alerts_rule_at(a, 0);
    assert_string_equal(r->name, "memory_high");
    assert_int_equal(r->kind, ALERT_KIND_MEMORY);
    assert_true(r->threshold == 95);
    assert_int_equal(r->for_ns, 10 * SEC);
    assert_int_equal(r->severity, ALERT_WARNING);
    assert_int_equal(alerts_set_rule(a, "kv_full memory 99 500ms critical # a comment", &err), 0);
    assert_int_equal(alerts_nrules(a), n0 + 1);
    r = alerts_rule_at(a, n0);
    assert_string_equal(r->name, "kv_full");
    assert_int_equal(r->for_ns, 500 * MS);
    assert_int_equal(r->severity, ALERT_CRITICAL);
    assert_int_equal(alerts_set_rule(a, "events_lost off", &err), 0);
    assert_true(alerts_rule_at(a, 1)->off);
    assert_int_equal(alerts_set_rule(a, "   # only a comment", &err), 0);

    assert_int_equal(alerts_set_rule(a, "newrule 5", &err), -EINVAL);
    assert_non_null(strstr(err, "needs a kind"));
    free(err);
    assert_int_equal(alerts_set_rule(a, "x bogus 5", &err), -EINVAL);
    assert_non_null(strstr(err, "'bogus' is not a kind"));
    free(err);
    assert_int_equal(alerts_set_rule(a, "memory_high 90 5parsecs", &err), -EINVAL);
    assert_non_null(strstr(err, "not a for-duration"));
    free(err);
    assert_int_equal(alerts_set_rule(a, "memory_high 90 5 urgent", &err), -EINVAL);
    assert_non_null(strstr(err, "not a severity"));
    free(err);
    assert_int_equal(alerts_set_rule(a, "Memory 90", &err), -EINVAL);
    free(err);
    assert_int_equal(alerts_set_rule(a, "memory_high -3", &err), -EINVAL);
    free(err);
    assert_int_equal(alerts_set_rule(a, "gone off", &err), -EINVAL);
    free(err);
    alerts_free(a);
}

static void test_rules_file(void **state)
{
    struct alerts *a = alerts_new();
    char *err = NULL;

    (void)state;
    assert_int_equal(alerts_load(a,
                                 "# nctop rules\n"
                                 "\n"
                                 "memory_high memory 80 2s critical\n"
                                 "slow_step p99 50\n",
                                 "rules.txt", &err),
                     0);
    assert_null(err);
    assert_true(alerts_rule_at(a, 0)->threshold == 80);
    assert_string_equal(alerts_rule_at(a, alerts_nrules(a) - 1)->name, "slow_step");
    assert_int_equal(alerts_load(a, "events_lost 1\nhw_errors hw x\n", "my.rules", &err), -EINVAL);
    assert_string_equal(err, "my.rules:2: 'x' is not a threshold (a number >= 0)");
    free(err);
    alerts_free(a);
}

/* Bounded: more objects than ALERTS_MAX are counted, not kept. */
static void test_bounded(void **state)
{
    struct store *st = store_new(NULL);
    struct store_proc *p = store_proc_add(st, 1, "many");
    struct alerts *a = only("memory_high");

    (void)state;
    for (int i = 0; i < ALERTS_MAX + 10; i++) {
        char name[32];

        snprintf(name, sizeof(name), "pool%d", i);
        store_gauge_set(p, store_proc_intern(p, name), STORE_MEM_POOL, 0, 99, 100, 99);
    }
    alerts_eval(a, st, NULL, 1 * SEC);
    assert_int_equal(alerts_count(a), ALERTS_MAX);
    assert_true(alerts_overflow(a) >= 10);
    alerts_free(a);
    store_free(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_memory_kv_cache),
        cmocka_unit_test(test_memory_pool_and_gpu),
        cmocka_unit_test(test_loss),
        cmocka_unit_test(test_compile_failures),
        cmocka_unit_test(test_hw_errors),
        cmocka_unit_test(test_energy_anomaly),
        cmocka_unit_test(test_for_duration),
        cmocka_unit_test(test_p99_regression),
        cmocka_unit_test(test_rule_lines),
        cmocka_unit_test(test_rules_file),
        cmocka_unit_test(test_bounded),
        cmocka_unit_test(test_loss_seen_first),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
