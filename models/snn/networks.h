/* SPDX-License-Identifier: MIT */
/* snn: the networks the runtime builds: a feed-forward stack driven by Poisson inputs, and a
 * recurrent balanced excitatory/inhibitory population after Brunel (2000). */
#ifndef NCTOP_SNN_NETWORKS_H
#define NCTOP_SNN_NETWORKS_H

#include <stddef.h>
#include <stdint.h>

struct net;
struct target;

#define NETWORKS_FF 0x1U
#define NETWORKS_BRUNEL 0x2U

/* Transparent: what to build. */
struct networks_config {
    unsigned kind;    /* NETWORKS_* bits */
    uint32_t layers;  /* LIF layers of the feed-forward stack (after its input layer) */
    uint32_t neurons; /* neurons of each feed-forward layer and of the Brunel population */
    uint32_t fan_in;  /* feed-forward synapses into each neuron (capped at the layer size) */
    double rate_hz;   /* Poisson rate of the feed-forward inputs */
};

/* Add the configured layers and synapses to net (empty, not placed); random choices come
 * from seed. Returns 0 or -errno. */
int networks_build(struct net *net, const struct networks_config *c, uint64_t seed);

/* Before building: a lower bound of the cores c needs on t. Returns 0, or -ENOSPC with a
 * one-line reason in why when it cannot fit (so a huge network fails before allocating). */
int networks_check(const struct networks_config *c, const struct target *t, char *why,
                   size_t why_len);

#endif /* NCTOP_SNN_NETWORKS_H */
