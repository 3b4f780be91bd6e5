/* SPDX-License-Identifier: MIT */
/* snnc: the build pass draws the synapse matrix. One random stream (the seed's stream 100)
 * runs through the projections in the order of the description, target neuron by target
 * neuron: first its sources (rng_pick, the runtime's own draw), then, for a delay range, one
 * delay per synapse. This is the order the runtime's network builders draw in, so a
 * description of the runtime's feed-forward stack or Brunel network gets its synapses for
 * the same seed. */
#include "compile_internal.h"

#include <errno.h>
#include <stdio.h>

#include "mem.h"
#include "models/snn/rng.h"

#define COMPILE_BUILD_STREAM 100 /* the runtime's connectivity stream */

double compile_described_weight(const struct compilation *c, const struct desc_proj *p,
                                uint32_t src)
{
    return src < c->d->layers[p->src].n_exc ? p->w : p->w_inh;
}

/* Make room for one more synapse in *syn (capacity *cap), doubling; counted. */
static int compile_build_grow(struct image_syn **syn, uint32_t n, uint64_t *cap)
{
    uint64_t grown = *cap * 2;
    struct image_syn *s;

    if (n < *cap) {
        return 0;
    }
    if (grown > UINT32_MAX) {
        return -EOVERFLOW;
    }
    s = mem_calloc(grown, sizeof(*s));
    if (s == NULL) {
        return -ENOMEM;
    }
    for (uint32_t i = 0; i < n; i++) {
        s[i] = (*syn)[i];
    }
    mem_free(*syn, *cap, sizeof(**syn));
    *syn = s;
    *cap = grown;
    return 0;
}

/* The sources of target neuron j into pick; returns how many. */
static uint32_t compile_build_sources(const struct compilation *c, const struct desc_proj *p,
                                      struct rng *r, uint32_t j, uint32_t *mark, uint32_t *stamp,
                                      uint32_t *pick)
{
    const struct desc_layer *S = &c->d->layers[p->src];
    uint32_t skip = p->src == p->dst ? j : UINT32_MAX, m = 0;

    switch (p->conn) {
    case DESC_FAN_IN:
        rng_pick(r, 0, S->n, p->fan_in, skip, mark, ++*stamp, pick);
        return p->fan_in;
    case DESC_FAN_IN_EI:
        ++*stamp;
        rng_pick(r, 0, S->n_exc, p->fan_in_e, skip, mark, *stamp, pick);
        rng_pick(r, S->n_exc, S->n - S->n_exc, p->fan_in_i, skip, mark, *stamp, pick + p->fan_in_e);
        return p->fan_in_e + p->fan_in_i;
    case DESC_PROB:
        for (uint32_t i = 0; i < S->n; i++) {
            if (i != skip && rng_unit(r) < p->p) {
                pick[m++] = i;
            }
        }
        return m;
    case DESC_DENSE:
        for (uint32_t i = 0; i < S->n; i++) {
            if (i != skip) {
                pick[m++] = i;
            }
        }
        return m;
    }
    return 0;
}

int compile_build(struct compilation *c, char *why, size_t why_len)
{
    const struct desc *d = c->d;
    uint32_t max_src = 1, stamp = 0, *mark = NULL, *pick = NULL;
    struct rng r;
    int rc = 0;

    for (int k = 0; k < d->n_proj; k++) {
        uint32_t n = d->layers[d->proj[k].src].n;

        max_src = n > max_src ? n : max_src;
    }
    mark = mem_calloc(max_src, sizeof(*mark));
    pick = mem_calloc(max_src, sizeof(*pick));
    c->img.proj = mem_calloc((size_t)d->n_proj, sizeof(*c->img.proj));
    if (mark == NULL || pick == NULL || c->img.proj == NULL) {
        rc = -ENOMEM;
        goto out;
    }
    c->img.n_proj = (uint32_t)d->n_proj;
    rng_init(&r, d->seed, COMPILE_BUILD_STREAM);
    for (int k = 0; k < d->n_proj && rc == 0; k++) {
        const struct desc_proj *p = &d->proj[k];
        struct image_proj *ip = &c->img.proj[k];
        uint64_t cap = p->synapses > 16 ? p->synapses : 16;

        ip->src = (uint32_t)p->src;
        ip->dst = (uint32_t)p->dst;
        ip->plastic_below = d->layers[p->src].n_exc;
        ip->syn = mem_calloc(cap, sizeof(*ip->syn));
        if (ip->syn == NULL) {
            rc = -ENOMEM;
            break;
        }
        c->syn_cap[k] = cap;
        for (uint32_t j = 0; j < d->layers[p->dst].n && rc == 0; j++) {
            uint32_t m = compile_build_sources(c, p, &r, j, mark, &stamp, pick);

            for (uint32_t q = 0; q < m; q++) {
                struct image_syn *s;

                rc = compile_build_grow(&ip->syn, ip->n_syn, &cap);
                if (rc != 0) {
                    break;
                }
                c->syn_cap[k] = cap;
                s = &ip->syn[ip->n_syn++];
                s->src = pick[q];
                s->dst = j;
                s->w = (float)compile_described_weight(c, p, pick[q]);
                s->delay =
                    p->delay_drawn
                        ? (uint16_t)(p->delay_min +
                                     rng_below(&r, (uint32_t)(p->delay_max - p->delay_min) + 1))
                        : p->delay_min;
            }
        }
        c->r->synapses += ip->n_syn;
    }
out:
    if (rc != 0) {
        snprintf(why, why_len, "%s building the synapses",
                 rc == -ENOMEM ? "out of memory" : "too many synapses");
    }
    mem_free(mark, max_src, sizeof(*mark));
    mem_free(pick, max_src, sizeof(*pick));
    return rc;
}
