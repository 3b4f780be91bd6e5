/* SPDX-License-Identifier: MIT */
/* snnc: what the passes of one compilation share. Every array is counted (mem.h) and freed
 * by compile_release, so each pass's memory delta is what it left for the next ones. */
#ifndef NCTOP_SNNC_COMPILE_INTERNAL_H
#define NCTOP_SNNC_COMPILE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "compile.h"
#include "desc.h"
#include "models/snn/image.h"

struct energy_model;
struct target;

/* A core of the partition: neurons [first, end) of layer. Its place on the chip is in
 * img.layers[layer].core_id. */
struct compile_core {
    int layer;
    uint32_t index; /* within the layer */
    uint32_t first, end;
};

/* Traffic from core a to core b (indices into cores): n source neurons of a have synapses
 * on b, and weight is their expected spikes per inference (the packets a sends b). */
struct compile_edge {
    uint32_t a, b;
    uint32_t n;
    double weight;
};

struct compilation {
    const char *file;
    const struct compile_opts *o;
    struct compile_result *r;
    const struct target *t;
    const struct energy_model *em;
    struct desc *d;   /* parse */
    struct image img; /* build (synapses), partition (cores), place, route (routes) */
    uint64_t syn_cap[DESC_MAX_LAYERS]; /* the synapse arrays' allocated lengths */
    struct compile_core *cores;        /* partition */
    uint32_t n_cores;
    /* place: the traffic between cores, one edge per (source core, destination core) pair
     * that some synapse connects; they become the routing table */
    struct compile_edge *edges;
    uint32_t n_edges;
    uint32_t edges_cap;
    /* route: per projection, over its source neurons, the packets and hops of one spike each */
    uint64_t proj_packets[DESC_MAX_LAYERS];
    uint64_t proj_hops[DESC_MAX_LAYERS];
};

/* The passes, in order. Each returns 0 or -errno with a one-line reason in why. */
int compile_parse(struct compilation *c, char *why, size_t why_len);
int compile_build(struct compilation *c, char *why, size_t why_len);
int compile_quantize(struct compilation *c, char *why, size_t why_len);
int compile_partition(struct compilation *c, char *why, size_t why_len);
int compile_place(struct compilation *c, char *why, size_t why_len);
int compile_route(struct compilation *c, char *why, size_t why_len);
int compile_emit(struct compilation *c, char *why, size_t why_len);
int compile_estimate(struct compilation *c, char *why, size_t why_len);

/* The described weight of a synapse from source neuron src of projection p (quantize's
 * reference). */
double compile_described_weight(const struct compilation *c, const struct desc_proj *p,
                                uint32_t src);

/* The expected spikes of one neuron of layer l in one inference window. */
double compile_expected_spikes(const struct compilation *c, int l);

#endif /* NCTOP_SNNC_COMPILE_INTERNAL_H */
