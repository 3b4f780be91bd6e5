/* SPDX-License-Identifier: MIT */
/* snnc: the route pass turns the placed traffic into routing tables: one entry per (source
 * core, destination core) pair some synapse connects, with its Manhattan hops on the mesh
 * (unicast to each destination core, the runtime's routing). A spike of a neuron costs one
 * packet per destination core its synapses reach and their hops, the figures the runtime
 * counts; the pass sums them per projection for the estimate. */
#include "compile_internal.h"

#include <errno.h>
#include <stdio.h>

#include "mem.h"
#include "models/snn/target.h"

static uint32_t compile_route_chip(const struct compilation *c, uint32_t core)
{
    const struct compile_core *k = &c->cores[core];

    return c->img.layers[k->layer].core_id[k->index];
}

int compile_route(struct compilation *c, char *why, size_t why_len)
{
    struct compile_result *r = c->r;
    int proj_of[DESC_MAX_LAYERS];

    c->img.routes = mem_calloc(c->n_edges, sizeof(*c->img.routes));
    if (c->img.routes == NULL) {
        snprintf(why, why_len, "out of memory");
        return -ENOMEM;
    }
    c->img.n_routes = c->n_edges;
    for (int l = 0; l < DESC_MAX_LAYERS; l++) {
        proj_of[l] = -1;
    }
    for (uint32_t k = 0; k < c->img.n_proj; k++) {
        proj_of[c->img.proj[k].src] = (int)k; /* one projection out of a layer */
    }
    for (uint32_t e = 0; e < c->n_edges; e++) {
        const struct compile_edge *E = &c->edges[e];
        struct image_route *R = &c->img.routes[e];
        int k = proj_of[c->cores[E->a].layer];

        R->from = compile_route_chip(c, E->a);
        R->to = compile_route_chip(c, E->b);
        R->hops = target_hops(c->t, R->from, R->to);
        r->route_hops += R->hops;
        r->max_route_hops = R->hops > r->max_route_hops ? R->hops : r->max_route_hops;
        r->hops_per_inference += E->weight * R->hops;
        r->packets_per_inference += E->weight;
        c->proj_packets[k] += E->n;
        c->proj_hops[k] += (uint64_t)E->n * R->hops;
    }
    r->routes = c->n_edges;
    return 0;
}
