/* SPDX-License-Identifier: MIT */
/* snn: the spiking-network runtime. Layers of leaky integrate-and-fire neurons (or Poisson
 * inputs) advanced in timesteps of dt; one sparse projection (CSR, integer delays, a delay
 * ring of queued spikes) into each layer; placement on a target's cores and the counts of
 * what each core did. Knows nothing of nctop: probe.c publishes the counts. */
#ifndef NCTOP_SNN_NET_H
#define NCTOP_SNN_NET_H

#include <stddef.h>
#include <stdint.h>

struct target;

/* A leaky integrate-and-fire neuron: tau_ms dV/dt = -(V - 0) + v_inf between input jumps
 * (v_inf = R I, a constant drive in mV), V += w on each synaptic event, a spike and a reset to
 * v_reset at V >= v_th, then t_ref_ms during which V stays at v_reset and input is lost. */
struct lif_params {
    double tau_ms;   /* membrane time constant */
    double v_th;     /* threshold, mV above rest */
    double v_reset;  /* reset potential, mV */
    double t_ref_ms; /* refractory period, rounded to whole timesteps */
    double v_inf;    /* constant drive R I, mV (0 = none) */
};

/* One synapse for net_connect: from neuron src of the source layer to neuron dst of the
 * target layer, weight w (mV jump; negative = inhibitory), delay in timesteps >= 1. */
struct syn {
    uint32_t src;
    uint32_t dst;
    float w;
    uint16_t delay;
};

/* Pair-based STDP with exponential traces, on the synapses net_connect marked plastic. */
struct stdp_params {
    double tau_plus_ms;  /* pre-synaptic trace time constant */
    double tau_minus_ms; /* post-synaptic trace time constant */
    double a_plus;       /* potentiation per pre trace unit at a post spike, mV */
    double a_minus;      /* depression per post trace unit at a pre arrival, mV */
    double w_max;        /* weights stay in [0, w_max] */
};

/* What one core of one layer did, cumulative since the start. */
struct net_counts {
    uint64_t spikes;                /* spikes its neurons emitted */
    uint64_t synops;                /* synaptic events it integrated (external drive too) */
    uint64_t neuron_updates;        /* neuron updates (every neuron, every timestep) */
    uint64_t neuron_updates_active; /* of which had input or spiked */
    uint64_t packets;               /* spike messages it sent, one per destination core */
    uint64_t hops;                  /* mesh links those messages crossed */
    uint64_t syn_updates;           /* weight updates of its incoming synapses (STDP) */
};

struct net;

/* An empty network of timestep dt_ms (> 0); seed fixes every random draw. Returns an owned
 * network (net_free) or NULL with errno set. */
struct net *net_new(double dt_ms, uint64_t seed);

/* Free everything. NULL is a no-op. */
void net_free(struct net *net);

/* Add a layer of n Poisson inputs firing at rate_hz, or of n LIF neurons. name is copied (at
 * most 31 bytes). Return the layer index, or -errno. Set-up only (before net_place). */
int net_add_input(struct net *net, const char *name, uint32_t n, double rate_hz);
int net_add_lif(struct net *net, const char *name, uint32_t n, const struct lif_params *p);

/* Drive every neuron of LIF layer l with external Poisson events at rate_hz (all sources
 * together), each a jump of w. Returns 0 or -EINVAL. Set-up only. */
int net_set_drive(struct net *net, int l, double rate_hz, float w);

/* The projection into layer dst (at most one per layer; dst == src is recurrent): n synapses,
 * copied. Synapses from source neurons below plastic_below learn when STDP is on. Returns 0
 * or -errno (-EINVAL for a bad index or a delay of 0, -EEXIST for a second projection).
 * Set-up only. */
int net_connect(struct net *net, int src, int dst, const struct syn *syns, size_t n,
                uint32_t plastic_below);

/* Turn STDP on (p copied). Set-up only. */
void net_set_stdp(struct net *net, const struct stdp_params *p);

/* Place the layers on t's cores in order (each layer from a new core, row-major, unless t
 * shares cores), as many neurons per core as the limits allow, and compute the hops of every
 * spike. Returns 0; or -ENOSPC with a one-line reason in why when the network does not fit.
 * t is borrowed for the network's life. Must precede the first timestep. */
int net_place(struct net *net, const struct target *t, char *why, size_t why_len);

/* A placement made elsewhere (a compiler's image), for one layer: core c holds neurons
 * [first[c], first[c + 1]) (the last up to the layer's end) and is the chip's core
 * core_id[c]. Both arrays borrowed. */
struct net_layer_place {
    uint32_t n_cores;
    const uint32_t *first;   /* n_cores, ascending from 0 */
    const uint32_t *core_id; /* n_cores */
};

/* Place every layer l as pl[l] says instead of cutting it here; checks each core against
 * t's neuron, synapse and axon limits and that no core is given twice (unless t shares
 * cores), then computes the hops of every spike like net_place. Returns 0, -EINVAL or
 * -ENOSPC with a one-line reason in why. pl has net_layers() entries, borrowed. */
int net_place_given(struct net *net, const struct target *t, const struct net_layer_place *pl,
                    char *why, size_t why_len);

/* After placement: the distinct (source core, destination core) pairs the synapses connect
 * (one routing-table entry each), and in *hop_sum (may be NULL) the sum of their hops.
 * UINT64_MAX when out of memory. */
uint64_t net_route_links(const struct net *net, uint64_t *hop_sum);

/* The phases of one timestep, in this order, then net_end_step:
 * integrate: take the spikes the delay rings hold for this timestep through the synapses
 *            (and the external drive) into each neuron's input;
 * update:    advance every neuron by dt, collect the spikes;
 * route:     send each spike to its target cores: queue it in the target layer's delay ring
 *            at now + delay, count packets and hops;
 * learn:     STDP (a no-op unless net_set_stdp);
 * end_step:  retire this timestep's ring slots and advance the clock. */
void net_integrate(struct net *net);
void net_update(struct net *net);
void net_route(struct net *net);
void net_learn(struct net *net);
void net_end_step(struct net *net);

/* Add neuron i of layer l to this timestep's spikes (between update and route; for tests).
 * The caller injects only neurons that did not spike in this update. */
void net_inject_spike(struct net *net, int l, uint32_t i);

/* Inspection. l and c must be valid indices. Pointers are borrowed until net_free. */
uint64_t net_timestep(const struct net *net); /* timesteps completed */
double net_dt_ms(const struct net *net);
int net_layers(const struct net *net);
const char *net_layer_name(const struct net *net, int l);
uint32_t net_layer_size(const struct net *net, int l);
uint64_t net_layer_synapses(const struct net *net, int l);     /* incoming */
uint64_t net_layer_weight_bytes(const struct net *net, int l); /* its CSR arrays */
/* bytes of queued spikes in its delay ring now, and the ring's allocated bytes */
uint64_t net_layer_queue_bytes(const struct net *net, int l, uint64_t *capacity);
uint32_t net_layer_cores(const struct net *net, int l);
uint32_t net_core_id(const struct net *net, int l, uint32_t c); /* the chip's core number */
uint32_t net_core_neurons(const struct net *net, int l, uint32_t c);
const struct net_counts *net_core_counts(const struct net *net, int l, uint32_t c);
/* the spikes of the last update (and injections), n set to their number */
const uint32_t *net_layer_spikes(const struct net *net, int l, uint32_t *n);
/* the weight of synapse k of the projection into l, in (source, delay, target) order */
double net_syn_weight(const struct net *net, int l, uint32_t k);
/* a neuron's membrane potential, and the input integrated for the coming update */
double net_neuron_v(const struct net *net, int l, uint32_t i);
double net_neuron_input(const struct net *net, int l, uint32_t i);

#endif /* NCTOP_SNN_NET_H */
