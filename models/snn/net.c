/* SPDX-License-Identifier: MIT */
/* snn: the runtime. Synapses are CSR rows sorted by (source, delay) and cut into segments of
 * one delay each; a spike queues its segments in the target layer's delay ring at
 * now + delay, and the integrate phase of that timestep walks them. Neurons integrate
 * exactly (exponential decay over dt), so the only discretisation error of a single neuron
 * is that a threshold crossing is seen at the end of the timestep it happens in. */
#include "net.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"
#include "target.h"

#define NET_MAX_LAYERS 64
#define NET_NAME_BYTES 32

enum net_kind {
    NET_INPUT = 1,
    NET_LIF = 2,
};

/* One slot of a delay ring: the segments due in that timestep. Grows on demand. */
struct net_slot {
    uint32_t *seg;
    uint32_t len;
    uint32_t cap;
};

/* The projection into a layer. Source neuron i owns segments [src_seg[i], src_seg[i + 1]);
 * segment k holds synapses [seg_syn[k], seg_syn[k + 1]), all of delay seg_delay[k]. */
struct net_proj {
    int src;
    uint32_t n_syn;
    uint32_t n_seg;
    uint32_t *src_seg;   /* n_src + 1 */
    uint32_t *seg_syn;   /* n_seg + 1 */
    uint16_t *seg_delay; /* n_seg */
    uint32_t *seg_src;   /* n_seg: the source neuron of each segment */
    uint32_t *syn_dst;   /* n_syn */
    float *syn_w;        /* n_syn */
    uint32_t *syn_src;   /* n_syn */
    uint32_t *dst_in;    /* n_dst + 1: incoming synapses of each target, for STDP */
    uint32_t *in_syn;    /* n_syn: synapse indices, grouped by target */
    uint32_t plastic_below;
    uint16_t max_delay;
    /* the delay ring: slot (t % n_slots) holds what is due at timestep t */
    struct net_slot *slots;
    uint32_t n_slots;
    uint64_t queued; /* entries in all slots */
    /* routing cost of one spike of each source neuron (after net_place) */
    uint32_t *spike_hops;    /* n_src */
    uint32_t *spike_packets; /* n_src */
    /* STDP traces */
    float *x_pre;  /* n_src */
    float *x_post; /* n_dst */
};

struct net_layer {
    char name[NET_NAME_BYTES];
    enum net_kind kind;
    uint32_t n;
    /* LIF */
    struct lif_params p;
    double decay; /* exp(-dt / tau) */
    uint32_t ref_steps;
    float *v;
    float *in; /* input for the coming update */
    uint16_t *ref;
    /* input layer */
    uint64_t fire_threshold; /* rng_threshold(rate * dt) */
    /* external drive */
    bool drive;
    double drive_exp_neg_lambda;
    float drive_w;
    struct rng rng;
    /* spikes of the last update */
    uint32_t *spk;
    uint32_t n_spk;
    struct net_proj *in_proj;  /* owned: the projection into this layer */
    struct net_proj *out_proj; /* borrowed: the projection this layer feeds, if any */
    /* placement */
    uint32_t n_cores;
    uint32_t *core_first;      /* n_cores + 1: neuron ranges */
    uint32_t *core_id;         /* n_cores: the chip's core numbers */
    uint32_t *neuron_core;     /* n: local core index of each neuron */
    struct net_counts *counts; /* n_cores */
};

struct net {
    double dt_ms;
    uint64_t seed;
    uint64_t t;
    int n_layers;
    struct net_layer layers[NET_MAX_LAYERS];
    bool stdp;
    struct stdp_params sp;
    float stdp_decay_pre, stdp_decay_post;
    const struct target *target;
    bool placed;
};

static void *net_calloc(size_t n, size_t size)
{
    /* never a zero-size request: a layer or row may be empty */
    return calloc(n > 0 ? n : 1, size > 0 ? size : 1);
}

static void net_proj_free(struct net_proj *p)
{
    if (p == NULL) {
        return;
    }
    for (uint32_t s = 0; s < p->n_slots; s++) {
        free(p->slots[s].seg);
    }
    free(p->slots);
    free(p->src_seg);
    free(p->seg_syn);
    free(p->seg_delay);
    free(p->seg_src);
    free(p->syn_dst);
    free(p->syn_w);
    free(p->syn_src);
    free(p->dst_in);
    free(p->in_syn);
    free(p->spike_hops);
    free(p->spike_packets);
    free(p->x_pre);
    free(p->x_post);
    free(p);
}

struct net *net_new(double dt_ms, uint64_t seed)
{
    struct net *net;

    if (!(dt_ms > 0.0)) {
        errno = EINVAL;
        return NULL;
    }
    net = calloc(1, sizeof(*net));
    if (net == NULL) {
        return NULL;
    }
    net->dt_ms = dt_ms;
    net->seed = seed;
    return net;
}

void net_free(struct net *net)
{
    if (net == NULL) {
        return;
    }
    for (int l = 0; l < net->n_layers; l++) {
        struct net_layer *L = &net->layers[l];

        free(L->v);
        free(L->in);
        free(L->ref);
        free(L->spk);
        net_proj_free(L->in_proj);
        free(L->core_first);
        free(L->core_id);
        free(L->neuron_core);
        free(L->counts);
    }
    free(net);
}

static int net_add_layer(struct net *net, const char *name, uint32_t n, enum net_kind kind)
{
    struct net_layer *L;

    if (net->placed || net->n_layers >= NET_MAX_LAYERS || n == 0) {
        return -EINVAL;
    }
    L = &net->layers[net->n_layers];
    memset(L, 0, sizeof(*L));
    snprintf(L->name, sizeof(L->name), "%s", name);
    L->kind = kind;
    L->n = n;
    L->spk = net_calloc(n, sizeof(*L->spk));
    if (L->spk == NULL) {
        return -ENOMEM;
    }
    return net->n_layers++;
}

int net_add_input(struct net *net, const char *name, uint32_t n, double rate_hz)
{
    int l = net_add_layer(net, name, n, NET_INPUT);

    if (l < 0) {
        return l;
    }
    net->layers[l].fire_threshold = rng_threshold(rate_hz * net->dt_ms * 1e-3);
    rng_init(&net->layers[l].rng, net->seed, 2 * (uint64_t)l + 1); /* a stream per layer */
    return l;
}

int net_add_lif(struct net *net, const char *name, uint32_t n, const struct lif_params *p)
{
    struct net_layer *L;
    int l;

    if (!(p->tau_ms > 0.0) || p->t_ref_ms < 0.0) {
        return -EINVAL;
    }
    l = net_add_layer(net, name, n, NET_LIF);
    if (l < 0) {
        return l;
    }
    L = &net->layers[l];
    L->p = *p;
    L->decay = exp(-net->dt_ms / p->tau_ms);
    L->ref_steps = (uint32_t)lround(p->t_ref_ms / net->dt_ms);
    L->v = net_calloc(n, sizeof(*L->v));
    L->in = net_calloc(n, sizeof(*L->in));
    L->ref = net_calloc(n, sizeof(*L->ref));
    if (L->v == NULL || L->in == NULL || L->ref == NULL || L->ref_steps > UINT16_MAX) {
        return L->ref_steps > UINT16_MAX ? -EINVAL : -ENOMEM;
    }
    for (uint32_t i = 0; i < n; i++) {
        L->v[i] = (float)p->v_reset;
    }
    return l;
}

int net_set_drive(struct net *net, int l, double rate_hz, float w)
{
    struct net_layer *L;

    if (l < 0 || l >= net->n_layers || net->layers[l].kind != NET_LIF || rate_hz < 0.0) {
        return -EINVAL;
    }
    L = &net->layers[l];
    L->drive = rate_hz > 0.0;
    L->drive_exp_neg_lambda = exp(-rate_hz * net->dt_ms * 1e-3);
    L->drive_w = w;
    rng_init(&L->rng, net->seed, 2 * (uint64_t)l + 2);
    return 0;
}

/* qsort order of synapses: by source, then delay, then target (so a row is deterministic
 * whatever order the caller gave). */
static int net_syn_cmp(const void *a, const void *b)
{
    const struct syn *x = a, *y = b;

    if (x->src != y->src) {
        return x->src < y->src ? -1 : 1;
    }
    if (x->delay != y->delay) {
        return x->delay < y->delay ? -1 : 1;
    }
    if (x->dst != y->dst) {
        return x->dst < y->dst ? -1 : 1;
    }
    return 0;
}

static int net_proj_alloc(struct net_proj *p, uint32_t n_src, uint32_t n_dst)
{
    p->src_seg = net_calloc((size_t)n_src + 1, sizeof(*p->src_seg));
    p->seg_syn = net_calloc((size_t)p->n_syn + 1, sizeof(*p->seg_syn));
    p->seg_delay = net_calloc(p->n_syn, sizeof(*p->seg_delay));
    p->seg_src = net_calloc(p->n_syn, sizeof(*p->seg_src));
    p->syn_dst = net_calloc(p->n_syn, sizeof(*p->syn_dst));
    p->syn_w = net_calloc(p->n_syn, sizeof(*p->syn_w));
    p->syn_src = net_calloc(p->n_syn, sizeof(*p->syn_src));
    p->dst_in = net_calloc((size_t)n_dst + 1, sizeof(*p->dst_in));
    p->in_syn = net_calloc(p->n_syn, sizeof(*p->in_syn));
    p->spike_hops = net_calloc(n_src, sizeof(*p->spike_hops));
    p->spike_packets = net_calloc(n_src, sizeof(*p->spike_packets));
    p->x_pre = net_calloc(n_src, sizeof(*p->x_pre));
    p->x_post = net_calloc(n_dst, sizeof(*p->x_post));
    if (p->src_seg == NULL || p->seg_syn == NULL || p->seg_delay == NULL || p->seg_src == NULL ||
        p->syn_dst == NULL || p->syn_w == NULL || p->syn_src == NULL || p->dst_in == NULL ||
        p->in_syn == NULL || p->spike_hops == NULL || p->spike_packets == NULL ||
        p->x_pre == NULL || p->x_post == NULL) {
        return -ENOMEM;
    }
    return 0;
}

/* The delay ring: max_delay + 1 slots (a spike at t is due at t + delay, delay <= max, and
 * slot t itself is being consumed). Each slot starts with room for one spike per source
 * neuron and grows if a burst needs more. */
static int net_proj_ring(struct net_proj *p, uint32_t n_src)
{
    p->n_slots = (uint32_t)p->max_delay + 1;
    p->slots = net_calloc(p->n_slots, sizeof(*p->slots));
    if (p->slots == NULL) {
        return -ENOMEM;
    }
    for (uint32_t s = 0; s < p->n_slots; s++) {
        p->slots[s].cap = n_src > 16 ? n_src : 16;
        p->slots[s].seg = malloc(p->slots[s].cap * sizeof(uint32_t));
        if (p->slots[s].seg == NULL) {
            return -ENOMEM;
        }
    }
    return 0;
}

int net_connect(struct net *net, int src, int dst, const struct syn *syns, size_t n,
                uint32_t plastic_below)
{
    struct net_layer *S, *D;
    struct net_proj *p = NULL;
    struct syn *sorted = NULL;
    int rc = -EINVAL;

    if (net->placed || src < 0 || src >= net->n_layers || dst < 0 || dst >= net->n_layers ||
        net->layers[dst].kind != NET_LIF || n > UINT32_MAX) {
        return -EINVAL;
    }
    S = &net->layers[src];
    D = &net->layers[dst];
    if (D->in_proj != NULL || S->out_proj != NULL) {
        return -EEXIST;
    }
    sorted = net_calloc(n, sizeof(*sorted));
    p = calloc(1, sizeof(*p));
    if (sorted == NULL || p == NULL) {
        rc = -ENOMEM;
        goto err;
    }
    memcpy(sorted, syns, n * sizeof(*sorted));
    for (size_t k = 0; k < n; k++) {
        if (sorted[k].src >= S->n || sorted[k].dst >= D->n || sorted[k].delay == 0) {
            goto err;
        }
        if (sorted[k].delay > p->max_delay) {
            p->max_delay = sorted[k].delay;
        }
    }
    qsort(sorted, n, sizeof(*sorted), net_syn_cmp);
    p->src = src;
    p->n_syn = (uint32_t)n;
    p->plastic_below = plastic_below;
    rc = net_proj_alloc(p, S->n, D->n);
    if (rc != 0) {
        goto err;
    }
    /* rows and segments: a new segment starts at each change of source or delay */
    for (uint32_t k = 0, i = 0; k < p->n_syn; k++) {
        const struct syn *s = &sorted[k];

        if (k == 0 || s->src != sorted[k - 1].src || s->delay != sorted[k - 1].delay) {
            while (i <= s->src) {
                p->src_seg[i++] = p->n_seg;
            }
            p->seg_syn[p->n_seg] = k;
            p->seg_delay[p->n_seg] = s->delay;
            p->seg_src[p->n_seg] = s->src;
            p->n_seg++;
        }
        p->syn_dst[k] = s->dst;
        p->syn_w[k] = s->w;
        p->syn_src[k] = s->src;
        p->dst_in[s->dst + 1]++;
    }
    for (uint32_t i = p->n_syn > 0 ? sorted[p->n_syn - 1].src + 1 : 0; i <= S->n; i++) {
        p->src_seg[i] = p->n_seg;
    }
    p->seg_syn[p->n_seg] = p->n_syn;
    /* the incoming index: counts to offsets, then fill */
    for (uint32_t j = 0; j < D->n; j++) {
        p->dst_in[j + 1] += p->dst_in[j];
    }
    {
        uint32_t *fill = net_calloc(D->n, sizeof(*fill));

        if (fill == NULL) {
            rc = -ENOMEM;
            goto err;
        }
        for (uint32_t k = 0; k < p->n_syn; k++) {
            uint32_t j = p->syn_dst[k];

            p->in_syn[p->dst_in[j] + fill[j]++] = k;
        }
        free(fill);
    }
    if (p->max_delay == 0) {
        p->max_delay = 1; /* an empty projection still has a (never used) ring */
    }
    rc = net_proj_ring(p, S->n);
    if (rc != 0) {
        goto err;
    }
    free(sorted);
    D->in_proj = p;
    S->out_proj = p;
    return 0;

err:
    free(sorted);
    net_proj_free(p);
    return rc;
}

void net_set_stdp(struct net *net, const struct stdp_params *p)
{
    net->stdp = true;
    net->sp = *p;
    net->stdp_decay_pre = (float)exp(-net->dt_ms / p->tau_plus_ms);
    net->stdp_decay_post = (float)exp(-net->dt_ms / p->tau_minus_ms);
}

/* --- placement ------------------------------------------------------------------------- */

/* Would neuron i of layer L overflow the open core (holding n neurons, syn synapses and
 * axons distinct sources, the sources stamped with stamp in mark)? new_axons gets the sources
 * i would add. */
static bool net_core_full(const struct target *t, const struct net_layer *L, uint32_t i, uint32_t n,
                          uint64_t syn, uint32_t axons, const uint32_t *mark, uint32_t stamp,
                          uint32_t *new_axons)
{
    const struct net_proj *p = L->in_proj;
    uint32_t fan_in = p != NULL ? p->dst_in[i + 1] - p->dst_in[i] : 0;
    uint32_t add = 0;

    if (t->max_axons > 0 && p != NULL) {
        /* distinct new sources; a source twice in i's row counts once (stamp + 1 marks it) */
        for (uint32_t k = p->dst_in[i]; k < p->dst_in[i + 1]; k++) {
            uint32_t s = p->syn_src[p->in_syn[k]];

            if (mark[s] != stamp) {
                add++;
            }
        }
    }
    *new_axons = add;
    return (t->max_neurons > 0 && n + 1 > t->max_neurons) ||
           (t->max_synapses > 0 && syn + fan_in > t->max_synapses) ||
           (t->max_axons > 0 && axons + add > t->max_axons);
}

/* Give layer L its cores: core c holds neurons [first_of[c], first_of[c + 1]) (the last up
 * to L->n) and is the chip's core ids[c]. Returns 0 or -ENOMEM. */
static int net_layer_install(struct net_layer *L, uint32_t cores, const uint32_t *first_of,
                             const uint32_t *ids)
{
    L->n_cores = cores;
    L->core_first = net_calloc((size_t)cores + 1, sizeof(*L->core_first));
    L->core_id = net_calloc(cores, sizeof(*L->core_id));
    L->neuron_core = net_calloc(L->n, sizeof(*L->neuron_core));
    L->counts = net_calloc(cores, sizeof(*L->counts));
    if (L->core_first == NULL || L->core_id == NULL || L->neuron_core == NULL ||
        L->counts == NULL) {
        return -ENOMEM;
    }
    for (uint32_t c = 0; c < cores; c++) {
        L->core_first[c] = first_of[c];
        L->core_id[c] = ids[c];
        for (uint32_t i = first_of[c]; i < (c + 1 < cores ? first_of[c + 1] : L->n); i++) {
            L->neuron_core[i] = c;
        }
    }
    L->core_first[cores] = L->n;
    return 0;
}

/* Cut layer L into cores from chip core first; returns the cores used, or 0 with why set
 * when a single neuron exceeds a core. */
static uint32_t net_place_layer(struct net_layer *L, const struct target *t, uint32_t first,
                                uint32_t *mark, uint32_t *stamp, char *why, size_t why_len)
{
    const struct net_proj *p = L->in_proj;
    uint32_t *first_of = net_calloc((size_t)L->n + 1, sizeof(*first_of));
    uint32_t cores = 0, n = 0, axons = 0;
    uint64_t syn = 0;

    if (first_of == NULL) {
        snprintf(why, why_len, "out of memory placing layer '%s'", L->name);
        return 0;
    }
    (*stamp)++;
    for (uint32_t i = 0; i < L->n; i++) {
        uint32_t add = 0;

        /* add: the sources neuron i brings to the open core, recomputed for a new core */
        if (n > 0 && net_core_full(t, L, i, n, syn, axons, mark, *stamp, &add)) {
            cores++;
            n = 0, syn = 0, axons = 0;
            (*stamp)++;
        }
        if (n == 0) {
            first_of[cores] = i;
            if (net_core_full(t, L, i, 0, 0, 0, mark, *stamp, &add)) {
                snprintf(why, why_len,
                         "a neuron of layer '%s' has %u synapses from %u neurons; a %s core "
                         "holds %llu synapses from %u neurons",
                         L->name, p != NULL ? p->dst_in[i + 1] - p->dst_in[i] : 0, add, t->name,
                         (unsigned long long)t->max_synapses, t->max_axons);
                free(first_of);
                return 0;
            }
        }
        if (p != NULL && t->max_axons > 0) {
            for (uint32_t k = p->dst_in[i]; k < p->dst_in[i + 1]; k++) {
                mark[p->syn_src[p->in_syn[k]]] = *stamp;
            }
        }
        n++;
        syn += p != NULL ? p->dst_in[i + 1] - p->dst_in[i] : 0;
        axons += add;
    }
    cores++;
    {
        uint32_t *ids = net_calloc(cores, sizeof(*ids));
        int rc = -ENOMEM;

        if (ids != NULL) {
            for (uint32_t c = 0; c < cores; c++) {
                ids[c] = t->shared_cores ? first % t->cores : first + c;
            }
            rc = net_layer_install(L, cores, first_of, ids);
        }
        free(ids);
        free(first_of);
        if (rc != 0) {
            snprintf(why, why_len, "out of memory placing layer '%s'", L->name);
            return 0;
        }
    }
    return cores;
}

/* The cost of one spike of each source neuron: one packet per distinct destination core,
 * each packet the Manhattan distance in hops (unicast per destination core, no multicast
 * tree, so a figure a multicast router would beat). */
static int net_route_costs(struct net *net, struct net_layer *S)
{
    struct net_proj *p = S->out_proj;
    const struct net_layer *D = NULL;
    uint32_t *seen;

    for (int l = 0; l < net->n_layers; l++) {
        if (net->layers[l].in_proj == p) {
            D = &net->layers[l];
        }
    }
    seen = net_calloc(D->n_cores, sizeof(*seen));
    if (seen == NULL) {
        return -ENOMEM;
    }
    for (uint32_t i = 0; i < S->n; i++) {
        uint32_t from = S->core_id[S->neuron_core[i]];

        for (uint32_t k = p->seg_syn[p->src_seg[i]]; k < p->seg_syn[p->src_seg[i + 1]]; k++) {
            uint32_t c = D->neuron_core[p->syn_dst[k]];

            if (seen[c] != i + 1) {
                seen[c] = i + 1;
                p->spike_packets[i]++;
                p->spike_hops[i] += target_hops(net->target, from, D->core_id[c]);
            }
        }
    }
    free(seen);
    return 0;
}

int net_place(struct net *net, const struct target *t, char *why, size_t why_len)
{
    uint32_t next = 0, max_n = 1, stamp = 0;
    uint32_t *mark;

    if (net->placed) {
        snprintf(why, why_len, "placed twice");
        return -EINVAL;
    }
    net->target = t;
    for (int l = 0; l < net->n_layers; l++) {
        max_n = net->layers[l].n > max_n ? net->layers[l].n : max_n;
    }
    mark = net_calloc(max_n, sizeof(*mark));
    if (mark == NULL) {
        snprintf(why, why_len, "out of memory");
        return -ENOMEM;
    }
    for (int l = 0; l < net->n_layers; l++) {
        struct net_layer *L = &net->layers[l];
        uint32_t used = net_place_layer(L, t, next, mark, &stamp, why, why_len);

        if (used == 0) {
            free(mark);
            return -ENOSPC;
        }
        if (!t->shared_cores && (uint64_t)next + used > t->cores) {
            snprintf(why, why_len,
                     "the layers up to '%s' already need %llu cores of %s, the chip has %u "
                     "(use fewer --neurons or --layers)",
                     L->name, (unsigned long long)next + used, t->name, t->cores);
            free(mark);
            return -ENOSPC;
        }
        next += t->shared_cores ? 0 : used;
    }
    free(mark);
    for (int l = 0; l < net->n_layers; l++) {
        if (net->layers[l].out_proj != NULL && net_route_costs(net, &net->layers[l]) != 0) {
            snprintf(why, why_len, "out of memory");
            return -ENOMEM;
        }
    }
    net->placed = true;
    return 0;
}

/* Check one core of a given placement: neurons [b, e) of L within t's limits. */
static bool net_given_core_ok(const struct target *t, const struct net_layer *L, uint32_t b,
                              uint32_t e, uint32_t *mark, uint32_t *stamp, char *why,
                              size_t why_len, uint32_t id)
{
    const struct net_proj *p = L->in_proj;
    uint64_t syn = 0;
    uint32_t axons = 0;

    (*stamp)++;
    for (uint32_t i = b; i < e && p != NULL; i++) {
        syn += p->dst_in[i + 1] - p->dst_in[i];
        for (uint32_t k = p->dst_in[i]; k < p->dst_in[i + 1]; k++) {
            uint32_t s = p->syn_src[p->in_syn[k]];

            if (mark[s] != *stamp) {
                mark[s] = *stamp;
                axons++;
            }
        }
    }
    if (t->max_neurons > 0 && e - b > t->max_neurons) {
        snprintf(why, why_len, "core %u of layer '%s' holds %u neurons, a %s core %u", id, L->name,
                 e - b, t->name, t->max_neurons);
        return false;
    }
    if (t->max_synapses > 0 && syn > t->max_synapses) {
        snprintf(why, why_len, "core %u of layer '%s' holds %llu synapses, a %s core %llu", id,
                 L->name, (unsigned long long)syn, t->name, (unsigned long long)t->max_synapses);
        return false;
    }
    if (t->max_axons > 0 && axons > t->max_axons) {
        snprintf(why, why_len, "core %u of layer '%s' receives from %u neurons, a %s core %u", id,
                 L->name, axons, t->name, t->max_axons);
        return false;
    }
    return true;
}

int net_place_given(struct net *net, const struct target *t, const struct net_layer_place *pl,
                    char *why, size_t why_len)
{
    uint32_t max_n = 1, stamp = 0;
    uint32_t *mark = NULL;
    unsigned char *used = NULL;
    int rc = -EINVAL;

    if (net->placed) {
        snprintf(why, why_len, "placed twice");
        return -EINVAL;
    }
    net->target = t;
    for (int l = 0; l < net->n_layers; l++) {
        max_n = net->layers[l].n > max_n ? net->layers[l].n : max_n;
    }
    mark = net_calloc(max_n, sizeof(*mark));
    used = net_calloc(t->cores, 1);
    if (mark == NULL || used == NULL) {
        snprintf(why, why_len, "out of memory");
        rc = -ENOMEM;
        goto out;
    }
    for (int l = 0; l < net->n_layers; l++) {
        struct net_layer *L = &net->layers[l];
        const struct net_layer_place *q = &pl[l];

        if (q->n_cores == 0 || q->n_cores > L->n || q->first[0] != 0) {
            snprintf(why, why_len, "layer '%s': no cores, or more cores than neurons", L->name);
            goto out;
        }
        for (uint32_t c = 0; c < q->n_cores; c++) {
            uint32_t b = q->first[c], e = c + 1 < q->n_cores ? q->first[c + 1] : L->n;

            if (e <= b || e > L->n || q->core_id[c] >= t->cores) {
                snprintf(why, why_len, "layer '%s': core %u is empty, past the layer or not on %s",
                         L->name, q->core_id[c], t->name);
                goto out;
            }
            if (!t->shared_cores && used[q->core_id[c]]) {
                snprintf(why, why_len, "layer '%s': core %u is given twice", L->name,
                         q->core_id[c]);
                goto out;
            }
            used[q->core_id[c]] = 1;
            if (!net_given_core_ok(t, L, b, e, mark, &stamp, why, why_len, q->core_id[c])) {
                rc = -ENOSPC;
                goto out;
            }
        }
        if (net_layer_install(L, q->n_cores, q->first, q->core_id) != 0) {
            snprintf(why, why_len, "out of memory");
            rc = -ENOMEM;
            goto out;
        }
    }
    for (int l = 0; l < net->n_layers; l++) {
        if (net->layers[l].out_proj != NULL && net_route_costs(net, &net->layers[l]) != 0) {
            snprintf(why, why_len, "out of memory");
            rc = -ENOMEM;
            goto out;
        }
    }
    net->placed = true;
    rc = 0;
out:
    free(mark);
    free(used);
    return rc;
}

uint64_t net_route_links(const struct net *net, uint64_t *hop_sum)
{
    uint64_t links = 0, hops = 0;

    /* the distinct (source core, destination core) pairs some synapse connects */
    for (int l = 0; l < net->n_layers; l++) {
        const struct net_layer *S = &net->layers[l], *D = NULL;
        const struct net_proj *p = S->out_proj;
        uint32_t *seen;

        if (p == NULL) {
            continue;
        }
        for (int d = 0; d < net->n_layers; d++) {
            if (net->layers[d].in_proj == p) {
                D = &net->layers[d];
            }
        }
        seen = net_calloc(D->n_cores, sizeof(*seen));
        if (seen == NULL) {
            return UINT64_MAX;
        }
        for (uint32_t c = 0; c < S->n_cores; c++) {
            for (uint32_t i = S->core_first[c]; i < S->core_first[c + 1]; i++) {
                for (uint32_t k = p->seg_syn[p->src_seg[i]]; k < p->seg_syn[p->src_seg[i + 1]];
                     k++) {
                    uint32_t dc = D->neuron_core[p->syn_dst[k]];

                    if (seen[dc] != c + 1) {
                        seen[dc] = c + 1;
                        links++;
                        hops += target_hops(net->target, S->core_id[c], D->core_id[dc]);
                    }
                }
            }
        }
        free(seen);
    }
    if (hop_sum != NULL) {
        *hop_sum = hops;
    }
    return links;
}

/* --- the timestep ----------------------------------------------------------------------- */

static struct net_slot *net_slot_at(struct net_proj *p, uint64_t t)
{
    return &p->slots[t % p->n_slots];
}

void net_integrate(struct net *net)
{
    for (int l = 0; l < net->n_layers; l++) {
        struct net_layer *L = &net->layers[l];
        struct net_proj *p = L->in_proj;

        if (p != NULL) {
            const struct net_slot *slot = net_slot_at(p, net->t);

            for (uint32_t e = 0; e < slot->len; e++) {
                uint32_t seg = slot->seg[e];

                for (uint32_t k = p->seg_syn[seg]; k < p->seg_syn[seg + 1]; k++) {
                    uint32_t j = p->syn_dst[k];

                    L->in[j] += p->syn_w[k];
                    L->counts[L->neuron_core[j]].synops++;
                }
            }
        }
        if (L->drive) {
            for (uint32_t c = 0; c < L->n_cores; c++) {
                uint64_t events = 0;

                for (uint32_t j = L->core_first[c]; j < L->core_first[c + 1]; j++) {
                    uint32_t k = rng_poisson(&L->rng, L->drive_exp_neg_lambda);

                    L->in[j] += (float)k * L->drive_w;
                    events += k;
                }
                L->counts[c].synops += events;
            }
        }
    }
}

static void net_update_lif(struct net_layer *L)
{
    const float v_inf = (float)L->p.v_inf, v_th = (float)L->p.v_th;
    const float v_reset = (float)L->p.v_reset, decay = (float)L->decay;

    L->n_spk = 0;
    for (uint32_t c = 0; c < L->n_cores; c++) {
        uint32_t b = L->core_first[c], e = L->core_first[c + 1];
        uint64_t active = 0, spikes = 0;

        for (uint32_t j = b; j < e; j++) {
            float in = L->in[j], v;

            L->in[j] = 0.0f;
            if (L->ref[j] > 0) {
                /* refractory: clamped at reset, input lost, an idle update */
                L->ref[j]--;
                L->v[j] = v_reset;
                continue;
            }
            /* exact solution of the leak towards v_inf over dt, then the input's jump */
            v = v_inf + (L->v[j] - v_inf) * decay + in;
            if (v >= v_th) {
                L->spk[L->n_spk++] = j;
                spikes++;
                v = v_reset;
                L->ref[j] = (uint16_t)L->ref_steps;
                active++;
            } else if (in != 0.0f) {
                active++;
            }
            L->v[j] = v;
        }
        L->counts[c].neuron_updates += e - b;
        L->counts[c].neuron_updates_active += active;
        L->counts[c].spikes += spikes;
    }
}

static void net_update_input(struct net_layer *L)
{
    L->n_spk = 0;
    for (uint32_t c = 0; c < L->n_cores; c++) {
        uint32_t b = L->core_first[c], e = L->core_first[c + 1];
        uint64_t spikes = 0;

        for (uint32_t j = b; j < e; j++) {
            if (rng_next(&L->rng) < L->fire_threshold) {
                L->spk[L->n_spk++] = j;
                spikes++;
            }
        }
        /* a generator is active in the timesteps it fires */
        L->counts[c].neuron_updates += e - b;
        L->counts[c].neuron_updates_active += spikes;
        L->counts[c].spikes += spikes;
    }
}

void net_update(struct net *net)
{
    for (int l = 0; l < net->n_layers; l++) {
        if (net->layers[l].kind == NET_LIF) {
            net_update_lif(&net->layers[l]);
        } else {
            net_update_input(&net->layers[l]);
        }
    }
}

void net_inject_spike(struct net *net, int l, uint32_t i)
{
    struct net_layer *L = &net->layers[l];

    if (L->n_spk < L->n) {
        L->spk[L->n_spk++] = i;
        L->counts[L->neuron_core[i]].spikes++;
    }
}

/* Queue segment seg in slot s, growing it (doubling) when a burst fills it. */
static void net_slot_push(struct net_proj *p, struct net_slot *s, uint32_t seg)
{
    if (s->len == s->cap) {
        uint32_t *grown = realloc(s->seg, 2 * (size_t)s->cap * sizeof(*grown));

        if (grown == NULL) {
            /* losing a spike would silently change the dynamics: stop instead */
            fprintf(stderr, "snn: out of memory growing a delay ring\n");
            exit(1);
        }
        s->seg = grown;
        s->cap *= 2;
    }
    s->seg[s->len++] = seg;
    p->queued++;
}

void net_route(struct net *net)
{
    for (int l = 0; l < net->n_layers; l++) {
        struct net_layer *L = &net->layers[l];
        struct net_proj *p = L->out_proj;

        if (p == NULL) {
            continue;
        }
        for (uint32_t k = 0; k < L->n_spk; k++) {
            uint32_t i = L->spk[k];
            struct net_counts *cnt = &L->counts[L->neuron_core[i]];

            cnt->packets += p->spike_packets[i];
            cnt->hops += p->spike_hops[i];
            for (uint32_t seg = p->src_seg[i]; seg < p->src_seg[i + 1]; seg++) {
                net_slot_push(p, net_slot_at(p, net->t + p->seg_delay[seg]), seg);
            }
        }
    }
}

/* Pair-based STDP, nearest-neighbour free (all pairs through the traces): a pre-synaptic
 * arrival depresses by a_minus x_post, a post-synaptic spike potentiates every plastic
 * incoming synapse by a_plus x_pre; then the traces decay and jump by 1 at spikes. The pre
 * trace is taken at emission, the depression at arrival (after the delay). */
static void net_learn_proj(struct net *net, struct net_layer *D)
{
    struct net_proj *p = D->in_proj;
    const struct net_layer *S = &net->layers[p->src];
    const struct net_slot *slot = net_slot_at(p, net->t);
    const float a_plus = (float)net->sp.a_plus, a_minus = (float)net->sp.a_minus;
    const float w_max = (float)net->sp.w_max;

    for (uint32_t e = 0; e < slot->len; e++) {
        uint32_t seg = slot->seg[e];

        if (p->seg_src[seg] >= p->plastic_below) {
            continue;
        }
        for (uint32_t k = p->seg_syn[seg]; k < p->seg_syn[seg + 1]; k++) {
            uint32_t j = p->syn_dst[k];
            float w = p->syn_w[k] - a_minus * p->x_post[j];

            p->syn_w[k] = w > 0.0f ? w : 0.0f;
            D->counts[D->neuron_core[j]].syn_updates++;
        }
    }
    for (uint32_t s = 0; s < D->n_spk; s++) {
        uint32_t j = D->spk[s];
        uint64_t updates = 0;

        for (uint32_t k = p->dst_in[j]; k < p->dst_in[j + 1]; k++) {
            uint32_t syn = p->in_syn[k];
            uint32_t i = p->syn_src[syn];
            float w;

            if (i >= p->plastic_below) {
                continue;
            }
            w = p->syn_w[syn] + a_plus * p->x_pre[i];
            p->syn_w[syn] = w < w_max ? w : w_max;
            updates++;
        }
        D->counts[D->neuron_core[j]].syn_updates += updates;
    }
    for (uint32_t i = 0; i < S->n; i++) {
        p->x_pre[i] *= net->stdp_decay_pre;
    }
    for (uint32_t k = 0; k < S->n_spk; k++) {
        p->x_pre[S->spk[k]] += 1.0f;
    }
    for (uint32_t j = 0; j < D->n; j++) {
        p->x_post[j] *= net->stdp_decay_post;
    }
    for (uint32_t k = 0; k < D->n_spk; k++) {
        p->x_post[D->spk[k]] += 1.0f;
    }
}

void net_learn(struct net *net)
{
    if (!net->stdp) {
        return;
    }
    for (int l = 0; l < net->n_layers; l++) {
        if (net->layers[l].in_proj != NULL) {
            net_learn_proj(net, &net->layers[l]);
        }
    }
}

void net_end_step(struct net *net)
{
    for (int l = 0; l < net->n_layers; l++) {
        struct net_proj *p = net->layers[l].in_proj;

        if (p != NULL) {
            struct net_slot *slot = net_slot_at(p, net->t);

            p->queued -= slot->len;
            slot->len = 0;
        }
    }
    net->t++;
}

/* --- inspection ------------------------------------------------------------------------- */

uint64_t net_timestep(const struct net *net)
{
    return net->t;
}

double net_dt_ms(const struct net *net)
{
    return net->dt_ms;
}

int net_layers(const struct net *net)
{
    return net->n_layers;
}

const char *net_layer_name(const struct net *net, int l)
{
    return net->layers[l].name;
}

uint32_t net_layer_size(const struct net *net, int l)
{
    return net->layers[l].n;
}

uint64_t net_layer_synapses(const struct net *net, int l)
{
    const struct net_proj *p = net->layers[l].in_proj;

    return p != NULL ? p->n_syn : 0;
}

uint64_t net_layer_weight_bytes(const struct net *net, int l)
{
    const struct net_proj *p = net->layers[l].in_proj;

    if (p == NULL) {
        return 0;
    }
    /* the CSR a chip would hold: targets, weights, segment offsets and delays, row offsets */
    return (uint64_t)p->n_syn * (sizeof(*p->syn_dst) + sizeof(*p->syn_w)) +
           (uint64_t)p->n_seg * (sizeof(*p->seg_syn) + sizeof(*p->seg_delay)) +
           ((uint64_t)net->layers[p->src].n + 1) * sizeof(*p->src_seg);
}

uint64_t net_layer_queue_bytes(const struct net *net, int l, uint64_t *capacity)
{
    const struct net_proj *p = net->layers[l].in_proj;
    uint64_t cap = 0;

    if (p != NULL) {
        for (uint32_t s = 0; s < p->n_slots; s++) {
            cap += p->slots[s].cap;
        }
    }
    if (capacity != NULL) {
        *capacity = cap * sizeof(uint32_t);
    }
    return p != NULL ? p->queued * sizeof(uint32_t) : 0;
}

uint32_t net_layer_cores(const struct net *net, int l)
{
    return net->layers[l].n_cores;
}

uint32_t net_core_id(const struct net *net, int l, uint32_t c)
{
    return net->layers[l].core_id[c];
}

uint32_t net_core_neurons(const struct net *net, int l, uint32_t c)
{
    return net->layers[l].core_first[c + 1] - net->layers[l].core_first[c];
}

const struct net_counts *net_core_counts(const struct net *net, int l, uint32_t c)
{
    return &net->layers[l].counts[c];
}

const uint32_t *net_layer_spikes(const struct net *net, int l, uint32_t *n)
{
    *n = net->layers[l].n_spk;
    return net->layers[l].spk;
}

double net_syn_weight(const struct net *net, int l, uint32_t k)
{
    const struct net_proj *p = net->layers[l].in_proj;

    return p != NULL && k < p->n_syn ? p->syn_w[k] : 0.0;
}

double net_neuron_v(const struct net *net, int l, uint32_t i)
{
    return net->layers[l].v != NULL ? net->layers[l].v[i] : 0.0;
}

double net_neuron_input(const struct net *net, int l, uint32_t i)
{
    return net->layers[l].in != NULL ? net->layers[l].in[i] : 0.0;
}
