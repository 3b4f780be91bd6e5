/* SPDX-License-Identifier: MIT */
/* Energy models of neuromorphic targets. Every figure names its source; a figure we could
 * not verify, or that no source gives, is left out (its ENERGY_HAVE_* bit clear) rather
 * than guessed, so an estimate never passes an unknown term off as zero. */
#include "hw/energy.h"

#include <stddef.h>
#include <string.h>

#define ENERGY_PJ 1e-12
#define ENERGY_NJ 1e-9

/*
 * Loihi: Davies et al., "Loihi: A Neuromorphic Manycore Processor with On-Chip Learning",
 * IEEE Micro 38(1), 2018, Table 2 (checked against quotations of that table; the paper's PDF
 * itself was not at hand):
 *   energy per synaptic spike op (min)            23.6 pJ
 *   energy per synaptic update (pairwise STDP)    120 pJ
 *   energy per neuron update (active / inactive)  81 pJ / 52 pJ
 *   within-tile spike energy                      1.7 pJ  (our e_packet_j: one spike
 *                                                          delivered to one core)
 *   energy per tile hop (E-W / N-S)               3.0 pJ / 4.0 pJ (our e_hop_j: 3.5 pJ,
 *                                                          their mean, since hops are counted
 *                                                          as Manhattan distance)
 * Table 2 gives no static power per core: left out.
 * Loihi 2 (Intel 4) has no comparable published per-operation table that we could find, so
 * the loihi2 target uses these Loihi figures as its estimate; Intel reports Loihi 2 as more
 * efficient per operation, so they are likely an upper bound.
 */
static const struct energy_model energy_loihi2 = {
    .target = "loihi2",
    .basis = "Loihi figures, Davies et al., IEEE Micro 2018, Table 2",
    .e_synop_j = 23.6 * ENERGY_PJ,
    .e_syn_update_j = 120.0 * ENERGY_PJ,
    .e_neuron_active_j = 81.0 * ENERGY_PJ,
    .e_neuron_idle_j = 52.0 * ENERGY_PJ,
    .e_packet_j = 1.7 * ENERGY_PJ,
    .e_hop_j = 3.5 * ENERGY_PJ,
    .have = ENERGY_HAVE_ALL & ~ENERGY_HAVE_STATIC,
};

/*
 * SpiNNaker 2: Yan et al., "Efficient Reward-Based Structural Plasticity on a SpiNNaker 2
 * Prototype", IEEE Trans. Biomed. Circuits Syst. 13(3), 2019 (arXiv:1903.08941), as quoted in
 * secondary energy-estimation tables (not verified against the paper):
 *   energy per synaptic event   450 pJ
 *   energy per neuron update    2.19 nJ
 * The processing element updates every neuron every timestep in software, so the same figure
 * serves active and idle updates. Per-packet and per-hop energies of the network-on-chip and
 * the static power per PE (Hoeppner et al., "The SpiNNaker 2 Processing Element Architecture
 * for Hybrid Digital Neuromorphic Computing", 2021, describe the PE and its DVFS but we found
 * no figure we could check) are left out.
 */
static const struct energy_model energy_spinnaker2 = {
    .target = "spinnaker2",
    .basis = "SpiNNaker 2 prototype, Yan et al., IEEE TBioCAS 2019 (secondary)",
    .e_synop_j = 450.0 * ENERGY_PJ,
    .e_neuron_active_j = 2.19 * ENERGY_NJ,
    .e_neuron_idle_j = 2.19 * ENERGY_NJ,
    .have = ENERGY_HAVE_SYNOP | ENERGY_HAVE_NEURON_ACTIVE | ENERGY_HAVE_NEURON_IDLE,
};

/*
 * TrueNorth: Merolla et al., "A million spiking-neuron integrated circuit with a scalable
 * communication network and interface", Science 345(6197), 2014: 26 pJ per synaptic event
 * (the chip's active energy per event, routing included; quoted so by secondary sources).
 * TrueNorth has no on-chip learning. Its neuron-update, per-hop and static figures (Akopyan
 * et al., IEEE TCAD 34(10), 2015) could not be verified here: left out.
 */
static const struct energy_model energy_truenorth = {
    .target = "truenorth",
    .basis = "Merolla et al., Science 2014",
    .e_synop_j = 26.0 * ENERGY_PJ,
    .have = ENERGY_HAVE_SYNOP,
};

/*
 * CPU: 8.6 nJ per synaptic operation and per neuron update, the figure for a desktop CPU
 * (Intel Core i7-4960X) quoted by secondary energy-estimation tables next to the Loihi and
 * SpiNNaker ones; its primary measurement was not verified. A CPU has no mesh: spikes cost no
 * packet or hop (known zeros). Its static power is measured (RAPL), not estimated: left out.
 */
static const struct energy_model energy_cpu = {
    .target = "cpu",
    .basis = "desktop CPU estimate, 8.6 nJ per operation (secondary)",
    .e_synop_j = 8.6 * ENERGY_NJ,
    .e_neuron_active_j = 8.6 * ENERGY_NJ,
    .e_neuron_idle_j = 8.6 * ENERGY_NJ,
    .e_packet_j = 0.0,
    .e_hop_j = 0.0,
    .have = ENERGY_HAVE_SYNOP | ENERGY_HAVE_NEURON_ACTIVE | ENERGY_HAVE_NEURON_IDLE |
            ENERGY_HAVE_PACKET | ENERGY_HAVE_HOP,
};

static const struct energy_model *const energy_models[] = {
    &energy_loihi2,
    &energy_spinnaker2,
    &energy_truenorth,
    &energy_cpu,
};

#define ENERGY_N_MODELS (sizeof(energy_models) / sizeof(energy_models[0]))

const struct energy_model *energy_model_find(const char *target)
{
    if (target == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < ENERGY_N_MODELS; i++) {
        if (strcmp(energy_models[i]->target, target) == 0) {
            return energy_models[i];
        }
    }
    return NULL;
}

const struct energy_model *energy_model_at(unsigned n)
{
    return n < ENERGY_N_MODELS ? energy_models[n] : NULL;
}

/* count x energy when the model knows the term; an unknown term adds nothing. */
static double energy_term(const struct energy_model *m, unsigned bit, uint64_t count, double e)
{
    return (m->have & bit) != 0 ? (double)count * e : 0.0;
}

double energy_estimate_j(const struct energy_model *m, const struct energy_counts *c,
                         double seconds)
{
    uint64_t idle;
    double j;

    if (m == NULL || c == NULL) {
        return 0.0;
    }
    /* a caller that counts more active updates than updates has a bug; never go negative */
    idle = c->neuron_updates > c->neuron_updates_active
               ? c->neuron_updates - c->neuron_updates_active
               : 0;
    j = energy_term(m, ENERGY_HAVE_SYNOP, c->synops, m->e_synop_j);
    j += energy_term(m, ENERGY_HAVE_SYN_UPDATE, c->syn_updates, m->e_syn_update_j);
    j += energy_term(m, ENERGY_HAVE_NEURON_ACTIVE, c->neuron_updates_active, m->e_neuron_active_j);
    j += energy_term(m, ENERGY_HAVE_NEURON_IDLE, idle, m->e_neuron_idle_j);
    j += energy_term(m, ENERGY_HAVE_PACKET, c->packets, m->e_packet_j);
    j += energy_term(m, ENERGY_HAVE_HOP, c->hops, m->e_hop_j);
    if ((m->have & ENERGY_HAVE_STATIC) != 0 && seconds > 0.0) {
        j += m->static_w_per_core * (double)c->cores * seconds;
    }
    return j;
}

unsigned energy_model_missing(const struct energy_model *m, const struct energy_counts *c,
                              double seconds)
{
    unsigned need = 0;

    if (c == NULL) {
        return 0;
    }
    if (c->synops > 0) {
        need |= ENERGY_HAVE_SYNOP;
    }
    if (c->syn_updates > 0) {
        need |= ENERGY_HAVE_SYN_UPDATE;
    }
    if (c->neuron_updates_active > 0) {
        need |= ENERGY_HAVE_NEURON_ACTIVE;
    }
    if (c->neuron_updates > c->neuron_updates_active) {
        need |= ENERGY_HAVE_NEURON_IDLE;
    }
    if (c->packets > 0) {
        need |= ENERGY_HAVE_PACKET;
    }
    if (c->hops > 0) {
        need |= ENERGY_HAVE_HOP;
    }
    if (c->cores > 0 && seconds > 0.0) {
        need |= ENERGY_HAVE_STATIC;
    }
    return m == NULL ? need : need & ~m->have;
}
