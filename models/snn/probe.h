/* SPDX-License-Identifier: MIT */
/* snn: everything the runtime publishes to nctop, behind one small interface: spans per
 * phase, kernels per phase (backend = the target; one record per 16 timesteps), per layer and
 * per core counters and the delay rings as gauges flushed once per 64 timesteps and at the
 * end, the weights per layer, one iteration step per timestep. */
#ifndef NCTOP_SNN_PROBE_H
#define NCTOP_SNN_PROBE_H

#include <stdint.h>

struct net;
struct probe;

enum probe_phase {
    PROBE_INTEGRATE = 0, /* synaptic integration */
    PROBE_UPDATE,        /* neuron update */
    PROBE_ROUTE,         /* spike routing */
    PROBE_LEARN,         /* learning (STDP) */
    PROBE_PHASES,
};

/* Register the network's names, counters, gauges and weights; backend names the target of
 * the kernels. Per-core counters are registered while the SDK's table has room: *unpublished
 * gets the number of cores left out (their counts still reach the layer and total counters).
 * Returns an owned probe (probe_free), or NULL when out of memory. net is borrowed. */
struct probe *probe_new(const struct net *net, const char *backend, uint32_t *unpublished);

/* NULL is a no-op. */
void probe_free(struct probe *p);

/* Publish the matrix "cores.occupancy" (%): layers by cores, the neurons each core of a layer
 * holds against max_neurons, the target's neurons per core. Once, after placement: the
 * segment keeps the snapshot for any nctop that attaches later. */
void probe_publish_occupancy(const struct net *net, uint32_t max_neurons);

/* A timestep starts; the phases of it; it ended (net's counts are flushed: each counter gets
 * what its core did since the last flush, the gauges their occupancy, then an iteration
 * step; the spike raster "spikes.raster" records the timestep and is published at most every
 * 100 ms while an nctop watches). Hot path: no allocation, and with no nctop attached no clock
 * read either. */
void probe_step_begin(struct probe *p);
void probe_phase_begin(struct probe *p, enum probe_phase phase);
void probe_phase_end(struct probe *p, enum probe_phase phase);
void probe_step_end(struct probe *p, const struct net *net);

/* The run ended: publish the counts not yet flushed (before the report is written, so nctop's
 * counts equal the report's). NULL is a no-op. */
void probe_flush(struct probe *p, const struct net *net);

#endif /* NCTOP_SNN_PROBE_H */
