/* SPDX-License-Identifier: MIT */
/* Unit tests of the neuromorphic rows (src/model/neuro.c through rows_build_neuro and the
 * summary): counts folded from cores to layers to the network, rates, firing rates, queue
 * occupancy, and energy: the target's model applied to the counts, or the workload's own
 * measurement, which wins. Counts are exact; energies are compared with energy_estimate_j. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "hw/energy.h"
#include "src/model/neuro.h"
#include "src/model/rows.h"
#include "src/model/store.h"

#define MS 1000000ULL
#define SEC 1000000000ULL
#define T0 (100 * SEC)
#define T1 (101 * SEC)

static void counter(struct store_proc *p, const char *name, uint64_t v0, uint64_t v1)
{
    uint32_t id = store_proc_intern(p, name);

    store_counter_set(p, id, v0, T0);
    store_counter_set(p, id, v1, T1);
}

static void value(struct store_proc *p, const char *name, double v)
{
    store_value_set(p, store_proc_intern(p, name), 0, v, T1);
}

static void attr(struct store_proc *p, const char *k, const char *v)
{
    store_attr_set(p, store_proc_intern(p, k), store_proc_intern(p, v));
}

/* One core's counters: each field from a to b (the same delta pattern per field). */
struct fields {
    uint64_t v0[ROW_NFIELDS];
    uint64_t v1[ROW_NFIELDS];
};

static void fields(struct store_proc *p, const char *prefix, const struct fields *f)
{
    char name[96];

    for (int k = 0; k < ROW_NFIELDS; k++) {
        snprintf(name, sizeof(name), "%s%s", prefix, rows_neuro_fields[k]);
        counter(p, name, f->v0[k], f->v1[k]);
    }
}

/* Fields: spikes, synops, neuron_updates, neuron_updates_active, packets, hops, syn_updates. */
static const struct fields core0 = {{1000, 10000, 10000, 2000, 1000, 500, 0},
                                    {3000, 50000, 20000, 6000, 3000, 1500, 0}};
static const struct fields core1 = {{500, 5000, 10000, 1000, 500, 0, 0},
                                    {1500, 25000, 20000, 3000, 1500, 0, 0}};
static const struct fields layer1 = {{100, 2000, 5000, 100, 0, 0, 0},
                                     {600, 12000, 10000, 600, 0, 0, 0}};

/*
 * A loihi2 workload: layer 0 publishes only its two cores (100 neurons each), layer 1 its own
 * counters (50 neurons) and one core that counts only spikes; no totals. Iteration markers
 * every 10 ms from T0 to T1: 101 timesteps, 100 per second. Queues: layer 0 256 of 1024
 * bytes, layer 1 0 of 1024.
 */
static struct store *make_store(struct store_proc **out)
{
    struct store *st = store_new(NULL);
    struct store_proc *p = store_proc_add(st, 9, "snn");

    attr(p, "target", "loihi2");
    attr(p, "chip", "loihi2-sim");
    fields(p, "layers.0.core.0.", &core0);
    fields(p, "layers.0.core.1.", &core1);
    fields(p, "layers.1.", &layer1);
    counter(p, "layers.1.core.2.spikes", 100, 600);
    value(p, "layers.0.core.0.neurons", 100);
    value(p, "layers.0.core.1.neurons", 100);
    value(p, "layers.1.neurons", 50);
    store_gauge_set(p, store_proc_intern(p, "layers.0.spike_queue"), STORE_MEM_OTHER, 0, 256, 1024,
                    256);
    store_gauge_set(p, store_proc_intern(p, "layers.1.spike_queue"), STORE_MEM_OTHER, 0, 0, 1024,
                    0);
    for (int k = 0; k <= 100; k++) {
        store_step(p, STORE_STEP_ITERATION, 1, T0 + (uint64_t)k * 10 * MS);
    }
    *out = p;
    return st;
}

static const struct row *find_row(const struct rows *r, const char *path)
{
    for (size_t i = 0; i < r->n; i++) {
        if (strcmp(r->v[i].path, path) == 0) {
            return &r->v[i];
        }
    }
    fail_msg("no row %s", path);
    return NULL;
}

static const struct row_neuro *find(const struct rows *r, const char *path)
{
    const struct row_neuro *f = rows_neuro_of(r, find_row(r, path));

    assert_non_null(f);
    return f;
}

static void assert_rel(double got, double want, double rel)
{
    if (fabs(got - want) > rel * fabs(want)) {
        fail_msg("%.12g is not %.12g within %g", got, want, rel);
    }
}

/* The energy model applied to counts (the reference the figures are checked against). */
static double model_j(const uint64_t *c, uint64_t cores)
{
    struct energy_counts ec = {
        .synops = c[ROW_NF_SYNOPS],
        .syn_updates = c[ROW_NF_SYN_UPDATES],
        .neuron_updates = c[ROW_NF_NEURON_UPDATES],
        .neuron_updates_active = c[ROW_NF_NEURON_UPDATES_ACTIVE],
        .packets = c[ROW_NF_PACKETS],
        .hops = c[ROW_NF_HOPS],
        .cores = cores,
    };

    return energy_estimate_j(energy_model_find("loihi2"), &ec, 1.0);
}

static void test_tree_and_counts(void **state)
{
    struct store_proc *p;
    struct store *st = make_store(&p);
    struct rows r;
    const struct row_neuro *net, *l0, *l1, *c0, *c2;
    static const uint64_t want_net[ROW_NFIELDS] = {5100, 87000, 50000, 9600, 4500, 1500, 0};

    (void)state;
    rows_init(&r);
    rows_build_neuro(&r, p, T1);
    /* network, layer 0, core 0, core 1, layer 1, core 2: depth-first, by number */
    assert_int_equal(r.n, 6);
    assert_string_equal(r.v[0].path, "network");
    assert_string_equal(r.v[1].path, "network/layer 0");
    assert_string_equal(r.v[2].path, "network/layer 0/core 0");
    assert_string_equal(r.v[3].path, "network/layer 0/core 1");
    assert_string_equal(r.v[4].path, "network/layer 1");
    assert_string_equal(r.v[5].path, "network/layer 1/core 2");
    assert_int_equal(r.v[0].nchildren, 2);
    assert_int_equal(r.v[1].nchildren, 2);
    assert_int_equal(r.v[4].nchildren, 1);
    assert_int_equal(r.v[2].level, 2);

    net = find(&r, "network");
    l0 = find(&r, "network/layer 0");
    l1 = find(&r, "network/layer 1");
    c0 = find(&r, "network/layer 0/core 0");
    c2 = find(&r, "network/layer 1/core 2");
    assert_int_equal(l0->layer, 0);
    assert_int_equal(l0->core, -1);
    assert_int_equal(c2->core, 2);
    /* layer 0 is the sum of its cores; layer 1 its own counters, not its one core's */
    assert_int_equal(l0->count[ROW_NF_SPIKES], 4500);
    assert_int_equal(l0->count[ROW_NF_SYNOPS], 75000);
    assert_int_equal(l0->count[ROW_NF_NEURON_UPDATES_ACTIVE], 9000);
    assert_int_equal(l0->count[ROW_NF_HOPS], 1500);
    assert_int_equal(l1->count[ROW_NF_SPIKES], 600);
    assert_int_equal(l1->count[ROW_NF_SYNOPS], 12000);
    for (int k = 0; k < ROW_NFIELDS; k++) {
        assert_int_equal(net->count[k], want_net[k]);
    }
    assert_int_equal(net->counted, (1U << ROW_NFIELDS) - 1);
    assert_int_equal(c2->counted, 1U << ROW_NF_SPIKES);
    /* rates over the window: the deltas over one second */
    assert_rel(l0->per_sec[ROW_NF_SPIKES], 3000.0, 1e-12);
    assert_rel(net->per_sec[ROW_NF_SPIKES], 3500.0, 1e-12);
    assert_rel(net->per_sec[ROW_NF_SYNOPS], 70000.0, 1e-12);
    assert_rel(net->per_sec[ROW_NF_HOPS], 1000.0, 1e-12);
    /* neurons: values, summed where a layer has none of its own */
    assert_int_equal(c0->neurons, 100);
    assert_int_equal(l0->neurons, 200);
    assert_int_equal(l1->neurons, 50);
    assert_int_equal(net->neurons, 250);
    assert_true(c0->have & ROW_N_FIRING);
    assert_rel(c0->firing_hz, 20.0, 1e-12);
    assert_rel(l0->firing_hz, 15.0, 1e-12);
    assert_rel(net->firing_hz, 14.0, 1e-12);
    assert_false(c2->have & ROW_N_NEURONS);
    assert_false(c2->have & ROW_N_FIRING);
    /* queue occupancy: layer 0 256 of 1024, the network 256 of 2048; cores have none */
    assert_rel(l0->buffer_pct, 25.0, 1e-12);
    assert_rel(l1->buffer_pct, 0.0, 1e-12);
    assert_true(l1->have & ROW_N_BUFFER);
    assert_rel(net->buffer_pct, 12.5, 1e-12);
    assert_false(c0->have & ROW_N_BUFFER);
    assert_int_equal(net->cores, 3);
    assert_int_equal(l0->cores, 2);
    rows_done(&r);
    store_free(st);
}

static void test_energy_estimated(void **state)
{
    struct store_proc *p;
    struct store *st = make_store(&p);
    struct rows r;
    struct rows_summary s;
    const struct row_neuro *net, *l0, *c0, *c2;
    uint64_t delta[ROW_NFIELDS];
    double want_w;

    (void)state;
    rows_init(&r);
    rows_build_neuro(&r, p, T1);
    net = find(&r, "network");
    l0 = find(&r, "network/layer 0");
    c0 = find(&r, "network/layer 0/core 0");
    c2 = find(&r, "network/layer 1/core 2");
    /* joules since start: the model applied to the counts */
    assert_true(net->have & ROW_N_ENERGY);
    assert_false(net->have & ROW_N_MEASURED);
    /* the timesteps covered 1 s and loihi2 has no static power: a lower bound, said so */
    assert_true(net->have & ROW_N_PARTIAL);
    assert_rel(net->energy_j, model_j(net->count, 3), 1e-9);
    assert_rel(l0->energy_j, model_j(l0->count, 2), 1e-9);
    assert_rel(c0->energy_j, model_j(c0->count, 1), 1e-9);
    /* 87000 x 23.6 pJ + 9600 x 81 pJ + 40400 x 52 pJ + 4500 x 1.7 pJ + 1500 x 3.5 pJ */
    assert_rel(net->energy_j, 4.9445e-6, 1e-9);
    /* watts: the model applied to one second's counts */
    for (int k = 0; k < ROW_NFIELDS; k++) {
        delta[k] =
            core0.v1[k] - core0.v0[k] + core1.v1[k] - core1.v0[k] + layer1.v1[k] - layer1.v0[k];
    }
    want_w = model_j(delta, 3);
    assert_true(net->have & ROW_N_POWER);
    assert_rel(net->power_w, want_w, 1e-9);
    /* per timestep: watts over 100 timesteps per second */
    assert_true(net->have & ROW_N_STEP);
    assert_rel(net->step_j, want_w / 100.0, 1e-9);
    /* a core that counts only spikes: synops uncounted, a lower bound */
    assert_true(c2->have & ROW_N_PARTIAL);
    /* shares: layer 0 of the network's power, core 0 of layer 0's */
    assert_true(r.v[1].flags & ROW_F_SHARE);
    assert_rel(r.v[1].share_pct, l0->power_w / net->power_w * 100.0, 1e-9);
    assert_rel(r.v[2].share_pct, c0->power_w / l0->power_w * 100.0, 1e-9);

    rows_build_summary(&s, p, T1);
    assert_true(s.neuro.spiking);
    assert_string_equal(s.neuro.target, "loihi2");
    assert_string_equal(s.neuro.chip, "loihi2-sim");
    assert_non_null(s.neuro.basis);
    assert_true(s.neuro.timesteps_valid);
    assert_int_equal(s.neuro.timesteps, 101);
    assert_true(s.neuro.timesteps_per_sec_valid);
    assert_rel(s.neuro.timesteps_per_sec, 100.0, 1e-9);
    assert_rel(s.neuro.net.energy_j, net->energy_j, 1e-12);
    assert_rel(s.neuro.net.power_w, net->power_w, 1e-12);
    assert_int_equal(s.neuro.missing, ENERGY_HAVE_STATIC);
    rows_summary_done(&s);
    rows_done(&r);
    store_free(st);
}

/* A workload's own energy_j and power_w win over the model, and say so. */
static void test_energy_measured_wins(void **state)
{
    struct store_proc *p;
    struct store *st = make_store(&p);
    struct rows r;
    const struct row_neuro *net, *l0;

    (void)state;
    value(p, "energy_j", 2.5);
    value(p, "power_w", 0.75);
    value(p, "layers.0.energy_j", 1.25);
    rows_init(&r);
    rows_build_neuro(&r, p, T1);
    net = find(&r, "network");
    l0 = find(&r, "network/layer 0");
    assert_true(net->have & ROW_N_MEASURED);
    assert_rel(net->energy_j, 2.5, 1e-12);
    assert_rel(net->power_w, 0.75, 1e-12);
    assert_rel(net->step_j, 0.0075, 1e-9);
    /* layer 0 measured its joules but no power: per timestep since start, 101 timesteps */
    assert_true(l0->have & ROW_N_MEASURED);
    assert_false(l0->have & ROW_N_POWER);
    assert_rel(l0->energy_j, 1.25, 1e-12);
    assert_rel(l0->step_j, 1.25 / 101.0, 1e-9);
    /* layer 1 is still the model's */
    assert_false(find(&r, "network/layer 1")->have & ROW_N_MEASURED);
    assert_true(find(&r, "network/layer 1")->have & ROW_N_ENERGY);
    rows_done(&r);
    store_free(st);
}

/* An LLM that measures its energy: no neuro rows, not spiking, its energy in the summary. */
static void test_llm_measured_energy(void **state)
{
    struct store *st = store_new(NULL);
    struct store_proc *p = store_proc_add(st, 3, "tinylm");
    struct rows r;
    struct rows_summary s;

    (void)state;
    counter(p, "tokens", 0, 100);
    value(p, "energy_j", 40.0);
    value(p, "power_w", 250.0);
    rows_init(&r);
    rows_build_neuro(&r, p, T1);
    assert_int_equal(r.n, 0);
    rows_build_summary(&s, p, T1);
    assert_false(s.neuro.spiking);
    assert_null(s.neuro.target);
    assert_true(s.neuro.net.have & ROW_N_MEASURED);
    assert_rel(s.neuro.net.energy_j, 40.0, 1e-12);
    assert_rel(s.neuro.net.power_w, 250.0, 1e-12);
    assert_null(s.neuro.basis);
    rows_summary_done(&s);
    rows_done(&r);
    store_free(st);
}

/* A neuromorphic target makes a workload spiking before its first spike; "cpu" does not. */
static void test_spiking_by_target(void **state)
{
    struct store *st = store_new(NULL);
    struct store_proc *p = store_proc_add(st, 3, "a"), *q = store_proc_add(st, 4, "b");
    struct rows_summary s;

    (void)state;
    attr(p, "target", "truenorth");
    attr(q, "target", "cpu");
    rows_build_summary(&s, p, T1);
    assert_true(s.neuro.spiking);
    assert_false(s.neuro.net.have & ROW_N_ENERGY);
    rows_summary_done(&s);
    rows_build_summary(&s, q, T1);
    assert_false(s.neuro.spiking);
    rows_summary_done(&s);
    store_free(st);
}

/* Names that only look like ours are not parsed; an unknown target has no energy. */
static void test_names_and_no_model(void **state)
{
    struct store *st = store_new(NULL);
    struct store_proc *p = store_proc_add(st, 3, "x");
    static const char *const junk[] = {
        "layers.x.spikes",      "layers.1.core.spikes",     "layers.99999999.spikes",
        "layers.1.attn.spikes", "layers.1.core.2.3.spikes", "tokens",
        "spikes.total",         "layers..spikes",           "layers.1.spikesx",
    };
    struct rows r;

    (void)state;
    for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
        counter(p, junk[i], 0, 10);
    }
    rows_init(&r);
    rows_build_neuro(&r, p, T1);
    assert_int_equal(r.n, 0);
    counter(p, "spikes", 0, 10);
    attr(p, "target", "loihi9");
    rows_build_neuro(&r, p, T1);
    assert_int_equal(r.n, 1);
    assert_int_equal(find(&r, "network")->count[ROW_NF_SPIKES], 10);
    assert_false(find(&r, "network")->have & ROW_N_ENERGY);
    rows_done(&r);
    store_free(st);
}

/* The view's sort: layers by spikes/s, largest first; cores stay under their layer. */
static void test_sort_by_spikes(void **state)
{
    struct store *st = store_new(NULL);
    struct store_proc *p = store_proc_add(st, 3, "x");
    struct rows r;
    struct rows_sort s = {.key = ROWS_SORT_SPIKES};
    uint32_t order[6];

    (void)state;
    counter(p, "layers.0.core.0.spikes", 0, 100);
    counter(p, "layers.1.core.1.spikes", 0, 1000);
    counter(p, "layers.1.core.2.spikes", 0, 10);
    rows_init(&r);
    rows_build_neuro(&r, p, T1);
    assert_int_equal(r.n, 6);
    rows_sort(&r, &s, order);
    assert_string_equal(r.v[order[0]].path, "network");
    assert_string_equal(r.v[order[1]].path, "network/layer 1");
    assert_string_equal(r.v[order[2]].path, "network/layer 1/core 1");
    assert_string_equal(r.v[order[3]].path, "network/layer 1/core 2");
    assert_string_equal(r.v[order[4]].path, "network/layer 0");
    s.reverse = true;
    rows_sort(&r, &s, order);
    assert_string_equal(r.v[order[1]].path, "network/layer 0");
    assert_string_equal(r.v[order[3]].path, "network/layer 1");
    assert_string_equal(r.v[order[4]].path, "network/layer 1/core 2");
    rows_done(&r);
    store_free(st);
}

/* The power is the linear twin of the energy: one second of rates = that second's joules. */
static void test_power_is_linear_energy(void **state)
{
    double r[ROW_NFIELDS] = {0};
    struct energy_counts c = {.synops = 1000,
                              .neuron_updates = 300,
                              .neuron_updates_active = 100,
                              .packets = 40,
                              .hops = 70,
                              .syn_updates = 5};

    (void)state;
    r[ROW_NF_SYNOPS] = 1000;
    r[ROW_NF_NEURON_UPDATES] = 300;
    r[ROW_NF_NEURON_UPDATES_ACTIVE] = 100;
    r[ROW_NF_PACKETS] = 40;
    r[ROW_NF_HOPS] = 70;
    r[ROW_NF_SYN_UPDATES] = 5;
    for (unsigned i = 0; energy_model_at(i) != NULL; i++) {
        const struct energy_model *m = energy_model_at(i);

        assert_rel(neuro_power_w(m, r, 0), energy_estimate_j(m, &c, 1.0), 1e-12);
    }
    assert_true(neuro_power_w(NULL, r, 1) == 0.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tree_and_counts),      cmocka_unit_test(test_energy_estimated),
        cmocka_unit_test(test_energy_measured_wins), cmocka_unit_test(test_llm_measured_energy),
        cmocka_unit_test(test_spiking_by_target),    cmocka_unit_test(test_names_and_no_model),
        cmocka_unit_test(test_sort_by_spikes),       cmocka_unit_test(test_power_is_linear_energy),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
