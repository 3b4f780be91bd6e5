/* SPDX-License-Identifier: MIT */
/* snn: the chips a network can be placed on: how many cores, how they sit on the mesh, and
 * what one core holds. */
#ifndef NCTOP_SNN_TARGET_H
#define NCTOP_SNN_TARGET_H

#include <stdbool.h>
#include <stdint.h>

/* Transparent, constant tables in target.c. A limit of 0 means none. */
struct target {
    const char *name;      /* "loihi2", "spinnaker2", "truenorth", "cpu" */
    uint32_t cores;        /* cores of one chip */
    uint32_t mesh_w;       /* mesh columns: core c sits at (c % mesh_w, c / mesh_w) */
    uint32_t max_neurons;  /* neurons one core holds */
    uint64_t max_synapses; /* incoming synapses one core holds */
    uint32_t max_axons;    /* distinct presynaptic neurons one core can receive from */
    bool shared_cores;     /* layers share cores (the cpu: one core runs everything) */
};

/* The target called name, or NULL. The result is static. */
const struct target *target_find(const char *name);

/* Manhattan distance in mesh links between cores a and b of t. */
uint32_t target_hops(const struct target *t, uint32_t a, uint32_t b);

#endif /* NCTOP_SNN_TARGET_H */
