/* SPDX-License-Identifier: MIT */
/* snnc: everything the compiler publishes to nctop, in one place: a top-level span
 * "compile" per compilation with one child span per pass, each pass's memory delta, the
 * annealer's cost and accepted moves while it runs, and per compilation its model and target
 * (span attributes), its status (how the compile span ends), its outcome (counters) and its
 * figures (values). */
#ifndef NCTOP_SNNC_PROBE_H
#define NCTOP_SNNC_PROBE_H

#include <stdint.h>

struct compile_result;

/* Register names, counters and values. Call once before the first compilation. */
void probe_init(void);

/* A compilation for target begins (the compile span opens, with its target attribute), and
 * its model is known (after the parse span closed: the attribute goes to the innermost open
 * span). Returns the SDK's clock read just before the span began. Strings borrowed. */
uint64_t probe_compile_begin(const char *target, uint64_t *slack_ns);
void probe_compile_model(const char *model);

/* A pass (enum compile_pass) begins; it ends having kept mem_delta bytes. Each returns the
 * SDK's clock read just before the span's own stamp and adds to *slack_ns the time the SDK
 * call took: the span's stamp lies in that window, so the difference of the two returns is
 * the span's duration within the slack (a preemption in the window widens it, and says so). */
uint64_t probe_pass_begin(int pass, uint64_t *slack_ns);
uint64_t probe_pass_end(int pass, int64_t mem_delta, uint64_t *slack_ns);

/* Inside the place pass: the current cost (expected hops per inference), and the moves
 * accepted and iterations run since the last call. */
void probe_place_progress(double cost, uint64_t accepted, uint64_t iterations);

/* The compilation released mem_delta bytes (negative) after its passes, inside its span. */
void probe_compile_mem(int64_t mem_delta);
/* A compiled network's estimated energy per inference (joules), as the compile span's
 * "energy_j" attribute: call inside the compile span, after the estimate pass. */
void probe_compile_energy(double energy_j);

/* The compilation ends: the compile span closes with r's status. Returns the clock read
 * just before, and widens *slack_ns (as probe_pass_end). r borrowed. */
uint64_t probe_compile_end(const struct compile_result *r, uint64_t *slack_ns);

/* Then its outcome (counters, per target too; status attributes) and figures (values). r
 * borrowed. */
void probe_compile_outcome(const struct compile_result *r);

#endif /* NCTOP_SNNC_PROBE_H */
