/* SPDX-License-Identifier: MIT */
/* snnc: the partition pass cuts each layer into cores in neuron order, as many neurons per
 * core as the target's per-core limits allow (neurons, incoming synapses, distinct source
 * neurons: the axons), each layer from a new core unless the target shares cores. It is the
 * runtime's own cut (net_place), so with no annealing the placement is the runtime's. A
 * neuron no core can hold, or a network beyond the chip's cores, fails here naming the
 * limit. */
#include "compile_internal.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>

#include "mem.h"
#include "models/snn/target.h"

/* The sources of each target neuron of one projection: row j is src[row[j] .. row[j + 1]). */
struct compile_rows {
    uint32_t n;
    uint32_t *row; /* n + 1 */
    uint32_t *src; /* n_syn */
    uint32_t n_syn;
};

static int compile_rows_build(struct compile_rows *rw, const struct image_proj *ip, uint32_t n)
{
    uint32_t *fill;

    rw->n = n;
    rw->n_syn = ip->n_syn;
    rw->row = mem_calloc((size_t)n + 1, sizeof(*rw->row));
    rw->src = mem_calloc(ip->n_syn, sizeof(*rw->src));
    fill = mem_calloc(n, sizeof(*fill));
    if (rw->row == NULL || rw->src == NULL || fill == NULL) {
        mem_free(fill, n, sizeof(*fill));
        return -ENOMEM;
    }
    for (uint32_t s = 0; s < ip->n_syn; s++) {
        rw->row[ip->syn[s].dst + 1]++;
    }
    for (uint32_t j = 0; j < n; j++) {
        rw->row[j + 1] += rw->row[j];
    }
    for (uint32_t s = 0; s < ip->n_syn; s++) {
        uint32_t j = ip->syn[s].dst;

        rw->src[rw->row[j] + fill[j]++] = ip->syn[s].src;
    }
    mem_free(fill, n, sizeof(*fill));
    return 0;
}

static void compile_rows_free(struct compile_rows *rw)
{
    mem_free(rw->row, (size_t)rw->n + 1, sizeof(*rw->row));
    mem_free(rw->src, rw->n_syn, sizeof(*rw->src));
    rw->row = rw->src = NULL;
}

/* Would neuron i overflow the open core (n neurons, syn synapses, axons sources stamped in
 * mark)? *add gets the new sources i brings. */
static bool compile_core_full(const struct target *t, const struct compile_rows *rw, uint32_t i,
                              uint32_t n, uint64_t syn, uint32_t axons, const uint32_t *mark,
                              uint32_t stamp, uint32_t *add)
{
    uint32_t fan_in = rw->row != NULL ? rw->row[i + 1] - rw->row[i] : 0;

    *add = 0;
    if (t->max_axons > 0 && rw->row != NULL) {
        for (uint32_t k = rw->row[i]; k < rw->row[i + 1]; k++) {
            *add += mark[rw->src[k]] != stamp;
        }
    }
    return (t->max_neurons > 0 && n + 1 > t->max_neurons) ||
           (t->max_synapses > 0 && syn + fan_in > t->max_synapses) ||
           (t->max_axons > 0 && axons + *add > t->max_axons);
}

/* Cut layer l; first_of gets each core's first neuron. Returns the cores, or 0 with why. */
static uint32_t compile_cut(struct compilation *c, int l, const struct compile_rows *rw,
                            uint32_t *mark, uint32_t *stamp, uint32_t *first_of, char *why,
                            size_t why_len)
{
    const struct target *t = c->t;
    const struct desc_layer *L = &c->d->layers[l];
    uint32_t cores = 0, n = 0, axons = 0;
    uint64_t syn = 0;

    (*stamp)++;
    for (uint32_t i = 0; i < L->n; i++) {
        uint32_t add = 0, fan_in = rw->row != NULL ? rw->row[i + 1] - rw->row[i] : 0;

        if (n > 0 && compile_core_full(t, rw, i, n, syn, axons, mark, *stamp, &add)) {
            cores++;
            n = 0, syn = 0, axons = 0;
            (*stamp)++;
        }
        if (n == 0) {
            first_of[cores] = i;
            if (compile_core_full(t, rw, i, 0, 0, 0, mark, *stamp, &add)) {
                if (t->max_synapses > 0 && fan_in > t->max_synapses) {
                    snprintf(why, why_len,
                             "a neuron of layer '%s' has %u synapses; a %s core holds at most "
                             "%llu (max_synapses)",
                             L->name, fan_in, t->name, (unsigned long long)t->max_synapses);
                } else {
                    snprintf(why, why_len,
                             "a neuron of layer '%s' receives from %u neurons; a %s core "
                             "receives from at most %u (max_axons)",
                             L->name, add, t->name, t->max_axons);
                }
                return 0;
            }
        }
        if (rw->row != NULL && t->max_axons > 0) {
            for (uint32_t k = rw->row[i]; k < rw->row[i + 1]; k++) {
                mark[rw->src[k]] = *stamp;
            }
        }
        n++;
        syn += fan_in;
        axons += add;
    }
    return cores + 1;
}

int compile_partition(struct compilation *c, char *why, size_t why_len)
{
    const struct desc *d = c->d;
    const struct target *t = c->t;
    uint32_t max_n = 1, stamp = 0, *mark = NULL, *first_of = NULL, next = 0;
    uint64_t total = 0;
    int rc = 0;

    for (int l = 0; l < d->n_layers; l++) {
        max_n = d->layers[l].n > max_n ? d->layers[l].n : max_n;
    }
    mark = mem_calloc(max_n, sizeof(*mark));
    first_of = mem_calloc(max_n, sizeof(*first_of));
    if (mark == NULL || first_of == NULL) {
        rc = -ENOMEM;
        snprintf(why, why_len, "out of memory");
        goto out;
    }
    /* first every layer's cut (a network beyond the chip is told its whole need), then the
     * cores */
    for (int l = 0; l < d->n_layers && rc == 0; l++) {
        struct image_layer *IL = &c->img.layers[l];
        struct compile_rows rw = {0};
        uint32_t cores;

        for (uint32_t k = 0; k < c->img.n_proj; k++) {
            if (c->img.proj[k].dst == (uint32_t)l &&
                compile_rows_build(&rw, &c->img.proj[k], d->layers[l].n) != 0) {
                rc = -ENOMEM;
                snprintf(why, why_len, "out of memory");
            }
        }
        cores = rc == 0 ? compile_cut(c, l, &rw, mark, &stamp, first_of, why, why_len) : 0;
        compile_rows_free(&rw);
        if (rc != 0) {
            break;
        }
        if (cores == 0) {
            rc = -ENOSPC;
            break;
        }
        IL->n_cores = cores;
        IL->core_first = mem_calloc((size_t)cores + 1, sizeof(*IL->core_first));
        IL->core_id = mem_calloc(cores, sizeof(*IL->core_id));
        if (IL->core_first == NULL || IL->core_id == NULL) {
            rc = -ENOMEM;
            snprintf(why, why_len, "out of memory");
            break;
        }
        for (uint32_t k = 0; k < cores; k++) {
            IL->core_first[k] = first_of[k];
            IL->core_id[k] = t->shared_cores ? 0 : next + k; /* row-major, as the runtime */
        }
        IL->core_first[cores] = d->layers[l].n;
        next += t->shared_cores ? 0 : cores;
        total += cores;
        c->img.n_layers = (uint32_t)l + 1;
    }
    if (rc == 0 && !t->shared_cores && next > t->cores) {
        snprintf(why, why_len, "the network needs %u cores; %s has %u (cores per chip)", next,
                 t->name, t->cores);
        rc = -ENOSPC;
    }
    if (rc == 0) {
        c->cores = mem_calloc(total, sizeof(*c->cores));
        if (c->cores == NULL) {
            rc = -ENOMEM;
            snprintf(why, why_len, "out of memory");
            goto out;
        }
        for (int l = 0; l < d->n_layers; l++) {
            const struct image_layer *IL = &c->img.layers[l];

            for (uint32_t k = 0; k < IL->n_cores; k++) {
                c->cores[c->n_cores++] = (struct compile_core){.layer = l,
                                                               .index = k,
                                                               .first = IL->core_first[k],
                                                               .end = IL->core_first[k + 1]};
            }
        }
        c->r->cores = c->n_cores;
    }
out:
    mem_free(mark, max_n, sizeof(*mark));
    mem_free(first_of, max_n, sizeof(*first_of));
    return rc;
}
