/* SPDX-License-Identifier: MIT */
/* Energy models of neuromorphic targets: per-operation energies and static power from
 * published figures, applied to operation counts. Pure: libc and libm only. */
#ifndef NCTOP_HW_ENERGY_H
#define NCTOP_HW_ENERGY_H

#include <stdint.h>

/* Which figures of a model are known (published and verified, or a stated estimate). A term
 * whose bit is clear is absent, not zero: energy_estimate_j leaves it out, and a report
 * should say the figure is partial (energy_model_missing). */
#define ENERGY_HAVE_SYNOP 0x01U         /* e_synop_j */
#define ENERGY_HAVE_SYN_UPDATE 0x02U    /* e_syn_update_j (learning) */
#define ENERGY_HAVE_NEURON_ACTIVE 0x04U /* e_neuron_active_j */
#define ENERGY_HAVE_NEURON_IDLE 0x08U   /* e_neuron_idle_j */
#define ENERGY_HAVE_PACKET 0x10U        /* e_packet_j */
#define ENERGY_HAVE_HOP 0x20U           /* e_hop_j */
#define ENERGY_HAVE_STATIC 0x40U        /* static_w_per_core */
#define ENERGY_HAVE_ALL 0x7fU

/* One target's figures (transparent, constant tables in energy.c). Energies in joules per
 * event, power in watts. */
struct energy_model {
    const char *target;       /* "loihi2", "spinnaker2", "truenorth", "cpu" */
    const char *basis;        /* short citation of where the figures come from */
    double e_synop_j;         /* one synaptic operation (a spike through one synapse) */
    double e_syn_update_j;    /* one synaptic weight update by the learning rule */
    double e_neuron_active_j; /* one neuron update in a timestep with input or a spike */
    double e_neuron_idle_j;   /* one neuron update in a timestep without either */
    double e_packet_j;        /* one spike delivered to one destination core */
    double e_hop_j;           /* one spike message crossing one mesh link */
    double static_w_per_core; /* static (leakage, clock) power of one core */
    unsigned have;            /* ENERGY_HAVE_* bits of the figures above */
};

/* Operation counts over some span (a core, a layer, a run). Transparent; zero-initialise. */
struct energy_counts {
    uint64_t synops;                /* synaptic operations */
    uint64_t syn_updates;           /* learning weight updates */
    uint64_t neuron_updates;        /* all neuron updates, active and idle */
    uint64_t neuron_updates_active; /* of which active; must not exceed neuron_updates */
    uint64_t packets;               /* spikes delivered per destination core */
    uint64_t hops;                  /* mesh links crossed by spike messages */
    uint64_t cores;                 /* cores whose static power is counted */
};

/* The model of a target by name, or NULL when there is none. The result is static. */
const struct energy_model *energy_model_find(const char *target);

/* The n-th model (0-based) for listing, or NULL past the last. The result is static. */
const struct energy_model *energy_model_at(unsigned n);

/* Estimated energy in joules: the sum over known terms of count x energy, plus static power
 * x cores x seconds (seconds >= 0: the time the cores were powered). m and c are borrowed;
 * a NULL m gives 0. */
double energy_estimate_j(const struct energy_model *m, const struct energy_counts *c,
                         double seconds);

/* The ENERGY_HAVE_* bits of terms that c needs (a non-zero count, or cores with time) but m
 * has no figure for: non-zero means energy_estimate_j is a lower bound. */
unsigned energy_model_missing(const struct energy_model *m, const struct energy_counts *c,
                              double seconds);

#endif /* NCTOP_HW_ENERGY_H */
