/* SPDX-License-Identifier: MIT */
/* snnc: the nctop probe. A compilation is the span "compile", with a child span per pass;
 * it carries its model, target and the compiled network's estimated energy per inference
 * (energy_j) as span attributes and ends with its status (ok, or the failing pass and why).
 * Its outcome is also counted (compilations, compilations_ok, compilations_failed, per
 * target and per failing pass) and its figures are values named compile.*. Every SDK call
 * of the compiler is in this file. */
#include "probe.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <nctop.h>

#include "compile.h"

#define PROBE_TARGETS 8 /* distinct targets with per-target counters */

enum probe_value {
    PROBE_V_WALL_MS = 0,
    PROBE_V_PEAK_RSS,
    PROBE_V_ENERGY,
    PROBE_V_LATENCY_MS,
    PROBE_V_Q_RMS_REL,
    PROBE_V_Q_MAX_REL,
    PROBE_V_CORES,
    PROBE_V_COST_BEFORE,
    PROBE_V_COST_AFTER,
    PROBE_V_FAILURE_PCT,
    PROBE_VALUES,
};

static const struct {
    const char *name;
    const char *unit;
} probe_value_names[PROBE_VALUES] = {
    [PROBE_V_WALL_MS] = {"compile.wall_ms", "ms"},
    [PROBE_V_PEAK_RSS] = {"compile.peak_rss_bytes", "B"},
    [PROBE_V_ENERGY] = {"compile.est_energy_per_inference_j", "J"},
    [PROBE_V_LATENCY_MS] = {"compile.est_latency_per_inference_ms", "ms"},
    [PROBE_V_Q_RMS_REL] = {"compile.quant_rms_rel", NULL},
    [PROBE_V_Q_MAX_REL] = {"compile.quant_max_rel", NULL},
    [PROBE_V_CORES] = {"compile.cores", NULL},
    [PROBE_V_COST_BEFORE] = {"compile.place_cost_before", "hops"},
    [PROBE_V_COST_AFTER] = {"compile.place_cost_after", "hops"},
    [PROBE_V_FAILURE_PCT] = {"compile.failure_pct", "%"},
};

static struct {
    bool ready;
    uint32_t compile;
    uint32_t key_model, key_target, key_energy;
    uint32_t pass[COMPILE_PASSES];
    uint32_t c_all, c_ok, c_failed, c_passes, c_accepted, c_iterations;
    uint32_t c_failed_in[COMPILE_PASSES];
    uint32_t value[PROBE_VALUES];
    uint32_t cost;
    struct {
        char name[16];
        uint32_t ok, failed;
    } targets[PROBE_TARGETS];
    uint64_t n_all, n_failed;
} probe;

void probe_init(void)
{
    char path[96];

    if (probe.ready) {
        return;
    }
    nctop_set_label("snnc");
    probe.compile = nctop_name("compile");
    probe.key_model = nctop_name("model");
    probe.key_target = nctop_name("target");
    probe.key_energy = nctop_name("energy_j");
    for (int p = 0; p < COMPILE_PASSES; p++) {
        probe.pass[p] = nctop_name(compile_pass_name(p));
        snprintf(path, sizeof(path), "compilations_failed.%s", compile_pass_name(p));
        probe.c_failed_in[p] = nctop_counter(path);
    }
    probe.c_all = nctop_counter("compilations");
    probe.c_ok = nctop_counter("compilations_ok");
    probe.c_failed = nctop_counter("compilations_failed");
    probe.c_passes = nctop_counter("passes");
    probe.c_accepted = nctop_counter("place.accepted_moves");
    probe.c_iterations = nctop_counter("place.iterations");
    probe.cost = nctop_value("place.cost", "hops");
    for (int v = 0; v < PROBE_VALUES; v++) {
        probe.value[v] = nctop_value(probe_value_names[v].name, probe_value_names[v].unit);
    }
    probe.ready = true;
}

uint64_t probe_compile_begin(const char *target, uint64_t *slack_ns)
{
    uint32_t value = nctop_name(target);
    uint64_t now = nctop_now_ns();

    nctop_span_begin(probe.compile);
    *slack_ns += nctop_now_ns() - now;
    nctop_span_attr(probe.key_target, value);
    return now;
}

void probe_compile_model(const char *model)
{
    /* interned before: nctop_name may lock, the attribute is an event */
    uint32_t value = nctop_name(model);

    nctop_span_attr(probe.key_model, value);
}

uint64_t probe_pass_begin(int pass, uint64_t *slack_ns)
{
    uint64_t now = nctop_now_ns();

    nctop_span_begin(probe.pass[pass]);
    *slack_ns += nctop_now_ns() - now;
    return now;
}

uint64_t probe_pass_end(int pass, int64_t mem_delta, uint64_t *slack_ns)
{
    uint64_t now;

    if (mem_delta != 0) {
        nctop_mem_delta(mem_delta);
    }
    now = nctop_now_ns();
    nctop_span_end(probe.pass[pass]);
    *slack_ns += nctop_now_ns() - now;
    nctop_counter_add(probe.c_passes, 1);
    return now;
}

void probe_place_progress(double cost, uint64_t accepted, uint64_t iterations)
{
    nctop_value_set(probe.cost, cost);
    if (accepted > 0) {
        nctop_counter_add(probe.c_accepted, accepted);
    }
    if (iterations > 0) {
        nctop_counter_add(probe.c_iterations, iterations);
    }
}

void probe_compile_energy(double energy_j)
{
    char v[32];

    /* Four significant digits: an estimate, and few distinct strings to intern. */
    snprintf(v, sizeof(v), "%.4g", energy_j);
    nctop_span_attr(probe.key_energy, nctop_name(v));
}

void probe_compile_mem(int64_t mem_delta)
{
    if (mem_delta != 0) {
        nctop_mem_delta(mem_delta);
    }
}

uint64_t probe_compile_end(const struct compile_result *r, uint64_t *slack_ns)
{
    /* the status is the failing pass and why, interned (the same failure, the same id) */
    uint32_t status = r->ok ? 0 : nctop_name(r->reason);
    uint64_t now = nctop_now_ns();

    nctop_span_end_status(probe.compile, status);
    *slack_ns += nctop_now_ns() - now;
    return now;
}

/* The per-target counters of target, registered at its first compilation (or 0s when more
 * than PROBE_TARGETS targets were seen). */
static void probe_target_add(const char *target, bool ok)
{
    char path[96];
    int i;

    for (i = 0; i < PROBE_TARGETS && probe.targets[i].name[0] != '\0'; i++) {
        if (strcmp(probe.targets[i].name, target) == 0) {
            break;
        }
    }
    if (i == PROBE_TARGETS) {
        return;
    }
    if (probe.targets[i].name[0] == '\0') {
        snprintf(probe.targets[i].name, sizeof(probe.targets[i].name), "%s", target);
        snprintf(path, sizeof(path), "compilations.%s.ok", target);
        probe.targets[i].ok = nctop_counter(path);
        snprintf(path, sizeof(path), "compilations.%s.failed", target);
        probe.targets[i].failed = nctop_counter(path);
    }
    nctop_counter_add(ok ? probe.targets[i].ok : probe.targets[i].failed, 1);
}

void probe_compile_outcome(const struct compile_result *r)
{
    const double v[PROBE_VALUES] = {
        [PROBE_V_WALL_MS] = (double)r->wall_ns * 1e-6,
        [PROBE_V_PEAK_RSS] = (double)r->peak_rss_bytes,
        [PROBE_V_ENERGY] = r->energy_j,
        [PROBE_V_LATENCY_MS] = r->latency_s * 1e3,
        [PROBE_V_Q_RMS_REL] = r->q_rms_rel,
        [PROBE_V_Q_MAX_REL] = r->q_max_rel,
        [PROBE_V_CORES] = r->cores,
        [PROBE_V_COST_BEFORE] = r->cost_before,
        [PROBE_V_COST_AFTER] = r->cost_after,
    };

    probe.n_all++;
    probe.n_failed += r->ok ? 0 : 1;
    nctop_counter_add(probe.c_all, 1);
    nctop_counter_add(r->ok ? probe.c_ok : probe.c_failed, 1);
    if (!r->ok && r->failed_pass >= 0) {
        nctop_counter_add(probe.c_failed_in[r->failed_pass], 1);
    }
    probe_target_add(r->target, r->ok);
    /* the figures of a failed compilation are those of its passes that ran: only the time,
     * memory and failure rate are set then */
    for (int i = 0; i < PROBE_VALUES; i++) {
        if (r->ok || i == PROBE_V_WALL_MS || i == PROBE_V_PEAK_RSS) {
            nctop_value_set(probe.value[i], v[i]);
        }
    }
    nctop_value_set(probe.value[PROBE_V_FAILURE_PCT],
                    100.0 * (double)probe.n_failed / (double)probe.n_all);
}
