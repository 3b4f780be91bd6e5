/* SPDX-License-Identifier: MIT */
/* The neuromorphic figures of a process: its counters layers.N.core.C.<field>, layers.N.<field>
 * and <field> grouped into a network of layers of cores, with rates over the window, neurons,
 * spike-queue occupancy and energy (the target's model applied to the counts, or the
 * workload's own measurement). Pure: the store and hw/energy. The row builder is its reader. */
#ifndef NCTOP_SRC_MODEL_NEURO_H
#define NCTOP_SRC_MODEL_NEURO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "src/model/rows.h"

struct energy_model;
struct store_proc;

/* One network, layer or core with what the workload measured of its energy. */
struct neuro_node {
    struct row_neuro f;
    bool share_valid;
    double share_pct; /* as struct row.share_pct of a neuro row */
};

/* The network (v[0], when there is any neuro figure), then each layer by number followed by
 * its cores by number. Owns v. */
struct neuro {
    struct neuro_node *v;
    size_t n;
    size_t cap;
    struct rows_neuro_sum sum; /* sum.net is v[0].f (or the measured energy of a process
                                * without neuro counters) */
};

void neuro_init(struct neuro *nn);
void neuro_done(struct neuro *nn);

/* Fill nn (its previous content dropped) from p at now_ns (the window's end). Strings in
 * nn->sum are borrowed from the store. Runs on the loop; cost O(k log k) for k counters. */
void neuro_build(struct neuro *nn, const struct store_proc *p, uint64_t now_ns);

/* Power in watts of per-second operation counts (indexed by enum row_neuro_field) on cores
 * cores under model m: the model's known terms times the rates, plus static power. The
 * linear twin of energy_estimate_j (m borrowed; NULL gives 0). */
double neuro_power_w(const struct energy_model *m, const double *per_sec, double cores);

#endif /* NCTOP_SRC_MODEL_NEURO_H */
