/* SPDX-License-Identifier: MIT */
/* Unit tests of the energy models: the tables hold the cited figures, the estimate is the sum
 * of count x cost over known terms plus static power, and unknown terms are reported. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "hw/energy.h"

static void assert_close(double got, double want)
{
    double tol = fabs(want) * 1e-12 + 1e-30;

    if (fabs(got - want) > tol) {
        fail_msg("got %.17g, want %.17g", got, want);
    }
}

static void test_find_every_target(void **state)
{
    const char *names[] = {"loihi2", "spinnaker2", "truenorth", "cpu"};
    unsigned n = 0;

    (void)state;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        const struct energy_model *m = energy_model_find(names[i]);

        assert_non_null(m);
        assert_string_equal(m->target, names[i]);
        assert_non_null(m->basis);
    }
    while (energy_model_at(n) != NULL) {
        n++;
    }
    assert_int_equal(n, 4);
    assert_null(energy_model_find("loihi3"));
    assert_null(energy_model_find(""));
    assert_null(energy_model_find(NULL));
}

/* The figures the comments cite: Davies et al. 2018 Table 2, Merolla et al. 2014. */
static void test_cited_figures(void **state)
{
    const struct energy_model *l = energy_model_find("loihi2");
    const struct energy_model *t = energy_model_find("truenorth");

    (void)state;
    assert_close(l->e_synop_j, 23.6e-12);
    assert_close(l->e_syn_update_j, 120e-12);
    assert_close(l->e_neuron_active_j, 81e-12);
    assert_close(l->e_neuron_idle_j, 52e-12);
    assert_close(l->e_packet_j, 1.7e-12);
    assert_close(l->e_hop_j, 3.5e-12);
    assert_int_equal(l->have & ENERGY_HAVE_STATIC, 0);
    assert_close(t->e_synop_j, 26e-12);
    assert_int_equal(t->have, ENERGY_HAVE_SYNOP);
}

static void test_estimate_sums_terms(void **state)
{
    const struct energy_model *l = energy_model_find("loihi2");
    struct energy_counts c = {
        .synops = 1000,
        .syn_updates = 10,
        .neuron_updates = 500,
        .neuron_updates_active = 100,
        .packets = 40,
        .hops = 70,
        .cores = 3,
    };
    double want =
        1000 * 23.6e-12 + 10 * 120e-12 + 100 * 81e-12 + 400 * 52e-12 + 40 * 1.7e-12 + 70 * 3.5e-12;

    (void)state;
    /* no static figure for Loihi: time adds nothing, and the term is reported missing */
    assert_close(energy_estimate_j(l, &c, 0.0), want);
    assert_close(energy_estimate_j(l, &c, 10.0), want);
    assert_int_equal(energy_model_missing(l, &c, 10.0), ENERGY_HAVE_STATIC);
    assert_int_equal(energy_model_missing(l, &c, 0.0), 0);
}

static void test_static_power(void **state)
{
    struct energy_model m = {
        .target = "test",
        .basis = "test",
        .e_synop_j = 2.0,
        .static_w_per_core = 0.5,
        .have = ENERGY_HAVE_SYNOP | ENERGY_HAVE_STATIC,
    };
    struct energy_counts c = {.synops = 3, .cores = 4};

    (void)state;
    assert_close(energy_estimate_j(&m, &c, 2.0), 3 * 2.0 + 0.5 * 4 * 2.0);
    assert_close(energy_estimate_j(&m, &c, -1.0), 6.0);
}

static void test_missing_terms(void **state)
{
    const struct energy_model *t = energy_model_find("truenorth");
    const struct energy_model *cpu = energy_model_find("cpu");
    struct energy_counts c = {.synops = 5, .neuron_updates = 7, .hops = 2};

    (void)state;
    assert_close(energy_estimate_j(t, &c, 1.0), 5 * 26e-12);
    assert_int_equal(energy_model_missing(t, &c, 1.0), ENERGY_HAVE_NEURON_IDLE | ENERGY_HAVE_HOP);
    /* a CPU has no mesh: hops are a known zero, not a missing figure */
    assert_int_equal(energy_model_missing(cpu, &c, 0.0), 0);
    assert_close(energy_estimate_j(cpu, &c, 0.0), 12 * 8.6e-9);
}

/* More active updates than updates (a caller's bug) never makes the idle term negative. */
static void test_active_above_total(void **state)
{
    const struct energy_model *l = energy_model_find("loihi2");
    struct energy_counts c = {.neuron_updates = 2, .neuron_updates_active = 5};

    (void)state;
    assert_close(energy_estimate_j(l, &c, 0.0), 5 * 81e-12);
    assert_close(energy_estimate_j(NULL, &c, 1.0), 0.0);
    assert_close(energy_estimate_j(l, NULL, 1.0), 0.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_find_every_target),   cmocka_unit_test(test_cited_figures),
        cmocka_unit_test(test_estimate_sums_terms), cmocka_unit_test(test_static_power),
        cmocka_unit_test(test_missing_terms),       cmocka_unit_test(test_active_above_total),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
