/* SPDX-License-Identifier: MIT */
/* The neuromorphic figures of a process. The counters, values and gauges whose names follow
 * the spiking workloads' scheme are parsed into entries keyed by (layer, core), sorted, and
 * folded into nodes: a figure a layer (or the network) does not publish itself is the sum of
 * its cores (or layers), so a workload may publish any level. Energy comes last, per node. */
#include "src/model/neuro.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "hw/energy.h"
#include "src/base/xalloc.h"
#include "src/model/hist.h"
#include "src/model/store.h"
#include "src/model/store_internal.h"

#define NEURO_NONE (-1)
#define NEURO_MAX_INDEX 1000000 /* layer and core numbers above this are not ours: skipped */

bool rows_neuro_counter(const char *name)
{
    const char *last = strrchr(name, '.');

    if (strncmp(name, "layers.", 7) != 0 || last == NULL) {
        return false;
    }
    for (int k = 0; k < ROW_NFIELDS; k++) {
        if (strcmp(last + 1, rows_neuro_fields[k]) == 0) {
            return true;
        }
    }
    return false;
}

const char *const rows_neuro_fields[ROW_NFIELDS] = {
    [ROW_NF_SPIKES] = "spikes",
    [ROW_NF_SYNOPS] = "synops",
    [ROW_NF_NEURON_UPDATES] = "neuron_updates",
    [ROW_NF_NEURON_UPDATES_ACTIVE] = "neuron_updates_active",
    [ROW_NF_PACKETS] = "packets",
    [ROW_NF_HOPS] = "hops",
    [ROW_NF_SYN_UPDATES] = "syn_updates",
};

/* What an entry is: a counter field (0 .. ROW_NFIELDS - 1) or one of these. */
enum neuro_what {
    NEURO_NEURONS = ROW_NFIELDS, /* a value: neurons */
    NEURO_ENERGY_J,              /* a value: measured joules */
    NEURO_POWER_W,               /* a value: measured watts */
    NEURO_BUFFER,                /* a gauge: spike_queue used and capacity */
};

struct neuro_entry {
    int32_t layer;
    int32_t core;
    int what; /* enum row_neuro_field or enum neuro_what */
    uint64_t count;
    bool rated;
    double v; /* a counter's rate, a value */
    uint64_t cap;
};

struct neuro_entries {
    struct neuro_entry *v;
    size_t n;
    size_t cap;
};

/* What the workload measured of a node while its entries are folded in. */
struct neuro_meas {
    bool have_j, have_w;
    double j, w;
    bool own_neurons;
    bool own_buffer;
};

/* A decimal index of at most NEURO_MAX_INDEX; returns the text after it or NULL. */
static const char *neuro_index(const char *s, int32_t *out)
{
    long v = 0;

    if (*s < '0' || *s > '9') {
        return NULL;
    }
    for (; *s >= '0' && *s <= '9'; s++) {
        v = v * 10 + (*s - '0');
        if (v > NEURO_MAX_INDEX) {
            return NULL;
        }
    }
    *out = (int32_t)v;
    return s;
}

/* "layers.N.core.C.rest", "layers.N.rest" or "rest" (no dot in rest); returns rest or NULL. */
static const char *neuro_parse(const char *name, int32_t *layer, int32_t *core)
{
    const char *s = name;

    *layer = NEURO_NONE;
    *core = NEURO_NONE;
    if (strncmp(s, "layers.", 7) == 0) {
        s = neuro_index(s + 7, layer);
        if (s == NULL || *s != '.') {
            return NULL;
        }
        s++;
        if (strncmp(s, "core.", 5) == 0) {
            s = neuro_index(s + 5, core);
            if (s == NULL || *s != '.') {
                return NULL;
            }
            s++;
        }
    }
    return strchr(s, '.') == NULL ? s : NULL;
}

static int neuro_field(const char *rest)
{
    for (int k = 0; k < ROW_NFIELDS; k++) {
        if (strcmp(rest, rows_neuro_fields[k]) == 0) {
            return k;
        }
    }
    return -1;
}

static struct neuro_entry *neuro_push(struct neuro_entries *e, int32_t layer, int32_t core,
                                      int what)
{
    struct neuro_entry *x;

    if (e->n == e->cap) {
        e->cap = e->cap > 0 ? e->cap * 2 : 64;
        e->v = xreallocarray(e->v, e->cap, sizeof(*e->v));
    }
    x = &e->v[e->n++];
    memset(x, 0, sizeof(*x));
    x->layer = layer;
    x->core = core;
    x->what = what;
    return x;
}

/* Network, then layer 0, its cores, layer 1, ...: -1 sorts first at each level. */
static int neuro_entry_cmp(const void *a, const void *b)
{
    const struct neuro_entry *x = a, *y = b;

    if (x->layer != y->layer) {
        return x->layer < y->layer ? -1 : 1;
    }
    if (x->core != y->core) {
        return x->core < y->core ? -1 : 1;
    }
    return 0;
}

static void neuro_collect(struct neuro_entries *e, const struct store_proc *p, uint64_t now_ns)
{
    uint64_t window_ns = p->st->cfg.window_ns;
    int32_t layer, core;
    const char *rest;

    for (uint32_t i = 0; i < p->ncounters; i++) {
        const char *name = store_proc_name(p, p->counters[i].name);
        struct neuro_entry *x;
        int k;

        if (name == NULL || (rest = neuro_parse(name, &layer, &core)) == NULL ||
            (k = neuro_field(rest)) < 0) {
            continue;
        }
        x = neuro_push(e, layer, core, k);
        x->count = p->counters[i].value;
        x->rated = store_rate_per_sec(&p->counters[i].rate, now_ns, window_ns, &x->v);
    }
    for (uint32_t i = 0; i < p->nvalues; i++) {
        const char *name = store_proc_name(p, p->values[i].name);
        int what;

        if (name == NULL || (rest = neuro_parse(name, &layer, &core)) == NULL) {
            continue;
        }
        if (strcmp(rest, "neurons") == 0) {
            what = NEURO_NEURONS;
        } else if (strcmp(rest, "energy_j") == 0) {
            what = NEURO_ENERGY_J;
        } else if (strcmp(rest, "power_w") == 0) {
            what = NEURO_POWER_W;
        } else {
            continue;
        }
        /* a negative or non-finite reading is not a figure */
        if (!(p->values[i].v >= 0.0 && p->values[i].v < 1e300)) {
            continue;
        }
        neuro_push(e, layer, core, what)->v = p->values[i].v;
    }
    for (uint32_t i = 0; i < p->ngauges; i++) {
        const char *name = store_proc_name(p, p->gauges[i].name);
        struct neuro_entry *x;

        if (name == NULL || p->gauges[i].capacity_bytes == 0 ||
            (rest = neuro_parse(name, &layer, &core)) == NULL || layer == NEURO_NONE ||
            strcmp(rest, "spike_queue") != 0) {
            continue;
        }
        x = neuro_push(e, layer, core, NEURO_BUFFER);
        x->count = p->gauges[i].used_bytes;
        x->cap = p->gauges[i].capacity_bytes;
    }
    if (e->n > 1) {
        qsort(e->v, e->n, sizeof(*e->v), neuro_entry_cmp);
    }
}

static struct neuro_node *neuro_node_add(struct neuro *nn, struct neuro_meas **meas,
                                         size_t *meas_cap, int32_t layer, int32_t core)
{
    struct neuro_node *x;

    if (nn->n == nn->cap) {
        nn->cap = nn->cap > 0 ? nn->cap * 2 : 16;
        nn->v = xreallocarray(nn->v, nn->cap, sizeof(*nn->v));
    }
    if (nn->n >= *meas_cap) {
        *meas_cap = nn->cap;
        *meas = xreallocarray(*meas, *meas_cap, sizeof(**meas));
    }
    memset(&(*meas)[nn->n], 0, sizeof(**meas));
    x = &nn->v[nn->n++];
    memset(x, 0, sizeof(*x));
    x->f.layer = layer;
    x->f.core = core;
    x->f.cores = core != NEURO_NONE ? 1 : 0;
    return x;
}

static void neuro_apply(struct row_neuro *f, struct neuro_meas *m, const struct neuro_entry *x)
{
    if (x->what < ROW_NFIELDS) {
        f->counted |= 1U << x->what;
        f->count[x->what] = x->count;
        if (x->rated) {
            f->rated |= 1U << x->what;
            f->per_sec[x->what] = x->v;
        }
        return;
    }
    switch (x->what) {
    case NEURO_NEURONS:
        f->have |= ROW_N_NEURONS;
        f->neurons = (uint64_t)x->v;
        m->own_neurons = true;
        break;
    case NEURO_ENERGY_J:
        m->have_j = true;
        m->j = x->v;
        break;
    case NEURO_POWER_W:
        m->have_w = true;
        m->w = x->v;
        break;
    case NEURO_BUFFER:
        /* a core's or layer's queues: several gauges of one node add up */
        f->have |= ROW_N_BUFFER;
        f->buffer_used_bytes += x->count;
        f->buffer_capacity_bytes += x->cap;
        m->own_buffer = true;
        break;
    default:
        break;
    }
}

/* Fold the children of parent (nodes kids[0..nkids)) into what parent does not publish. */
static void neuro_fold(struct row_neuro *parent, const struct neuro_meas *pm,
                       const struct neuro_node *v, const size_t *kids, size_t nkids)
{
    uint64_t count[ROW_NFIELDS] = {0}, neurons = 0, used = 0, cap = 0;
    double rate[ROW_NFIELDS] = {0};
    uint32_t counted = 0, rated = ~0U, cores = 0;
    bool all_neurons = nkids > 0, any_buffer = false;

    if (nkids == 0) {
        return;
    }
    for (size_t i = 0; i < nkids; i++) {
        const struct row_neuro *c = &v[kids[i]].f;

        for (int k = 0; k < ROW_NFIELDS; k++) {
            count[k] += c->count[k];
            rate[k] += c->per_sec[k];
        }
        counted |= c->counted;
        /* a rate of the sum needs the rate of every child that counts the field */
        rated &= c->rated | ~c->counted;
        cores += c->cores;
        all_neurons = all_neurons && (c->have & ROW_N_NEURONS) != 0;
        neurons += c->neurons;
        if ((c->have & ROW_N_BUFFER) != 0) {
            any_buffer = true;
            used += c->buffer_used_bytes;
            cap += c->buffer_capacity_bytes;
        }
    }
    rated &= counted;
    for (int k = 0; k < ROW_NFIELDS; k++) {
        uint32_t bit = 1U << k;

        if ((parent->counted & bit) != 0 || (counted & bit) == 0) {
            continue;
        }
        parent->counted |= bit;
        parent->count[k] = count[k];
        if ((rated & bit) != 0) {
            parent->rated |= bit;
            parent->per_sec[k] = rate[k];
        }
    }
    parent->cores = cores;
    if (!pm->own_neurons && all_neurons) {
        parent->have |= ROW_N_NEURONS;
        parent->neurons = neurons;
    }
    if (!pm->own_buffer && any_buffer) {
        parent->have |= ROW_N_BUFFER;
        parent->buffer_used_bytes = used;
        parent->buffer_capacity_bytes = cap;
    }
}

/* count x energy for a term the model knows. */
static double neuro_term(const struct energy_model *m, unsigned bit, double n, double e)
{
    return (m->have & bit) != 0 ? n * e : 0.0;
}

double neuro_power_w(const struct energy_model *m, const double *r, double cores)
{
    double idle, w;

    if (m == NULL) {
        return 0.0;
    }
    /* as energy_estimate_j: idle updates are all updates but the active ones, never < 0 */
    idle = r[ROW_NF_NEURON_UPDATES] - r[ROW_NF_NEURON_UPDATES_ACTIVE];
    idle = idle > 0.0 ? idle : 0.0;
    w = neuro_term(m, ENERGY_HAVE_SYNOP, r[ROW_NF_SYNOPS], m->e_synop_j);
    w += neuro_term(m, ENERGY_HAVE_SYN_UPDATE, r[ROW_NF_SYN_UPDATES], m->e_syn_update_j);
    w += neuro_term(m, ENERGY_HAVE_NEURON_ACTIVE, r[ROW_NF_NEURON_UPDATES_ACTIVE],
                    m->e_neuron_active_j);
    w += neuro_term(m, ENERGY_HAVE_NEURON_IDLE, idle, m->e_neuron_idle_j);
    w += neuro_term(m, ENERGY_HAVE_PACKET, r[ROW_NF_PACKETS], m->e_packet_j);
    w += neuro_term(m, ENERGY_HAVE_HOP, r[ROW_NF_HOPS], m->e_hop_j);
    if ((m->have & ENERGY_HAVE_STATIC) != 0) {
        w += m->static_w_per_core * cores;
    }
    return w;
}

/* Whether the counts leave out a term the model prices: then the estimate is a lower bound
 * (a workload that does not count its packets, or its active neuron updates). */
static bool neuro_uncounted(const struct energy_model *m, const struct row_neuro *f)
{
    static const struct {
        int field;
        unsigned bit;
    } priced[] = {
        {ROW_NF_SYNOPS, ENERGY_HAVE_SYNOP},
        {ROW_NF_SYN_UPDATES, ENERGY_HAVE_SYN_UPDATE},
        {ROW_NF_PACKETS, ENERGY_HAVE_PACKET},
        {ROW_NF_HOPS, ENERGY_HAVE_HOP},
    };
    const double e[] = {m->e_synop_j, m->e_syn_update_j, m->e_packet_j, m->e_hop_j};

    for (size_t i = 0; i < sizeof(priced) / sizeof(priced[0]); i++) {
        if ((m->have & priced[i].bit) != 0 && e[i] > 0.0 &&
            (f->counted & 1U << priced[i].field) == 0) {
            return true;
        }
    }
    /* all updates counted as idle when the active ones are not counted */
    return (f->counted & 1U << ROW_NF_NEURON_UPDATES) != 0 &&
           (f->counted & 1U << ROW_NF_NEURON_UPDATES_ACTIVE) == 0 &&
           (m->have & ENERGY_HAVE_NEURON_ACTIVE) != 0 && m->e_neuron_active_j > m->e_neuron_idle_j;
}

/* The energy figures of one node: the workload's measurement wins; else the model applied to
 * the counts. seconds: the time the timesteps covered (static power). */
static void neuro_energy(struct row_neuro *f, const struct neuro_meas *ms,
                         const struct energy_model *m, double seconds,
                         const struct rows_neuro_sum *sum, unsigned *missing)
{
    if (ms->have_j || ms->have_w) {
        f->have |= ROW_N_MEASURED;
        if (ms->have_j) {
            f->have |= ROW_N_ENERGY;
            f->energy_j = ms->j;
        }
        if (ms->have_w) {
            f->have |= ROW_N_POWER;
            f->power_w = ms->w;
        }
    } else if (m != NULL && f->counted != 0) {
        struct energy_counts ec = {
            .synops = f->count[ROW_NF_SYNOPS],
            .syn_updates = f->count[ROW_NF_SYN_UPDATES],
            .neuron_updates = f->count[ROW_NF_NEURON_UPDATES],
            .neuron_updates_active = f->count[ROW_NF_NEURON_UPDATES_ACTIVE],
            .packets = f->count[ROW_NF_PACKETS],
            .hops = f->count[ROW_NF_HOPS],
            .cores = f->cores,
        };
        unsigned miss = energy_model_missing(m, &ec, seconds);

        f->have |= ROW_N_ENERGY;
        f->energy_j = energy_estimate_j(m, &ec, seconds);
        if (f->rated == f->counted) {
            f->have |= ROW_N_POWER;
            f->power_w = neuro_power_w(m, f->per_sec, (double)f->cores);
        }
        if (miss != 0 || neuro_uncounted(m, f)) {
            f->have |= ROW_N_PARTIAL;
        }
        if (missing != NULL) {
            *missing = miss;
        }
    } else {
        return;
    }
    /* per timestep: the window's energy over its timesteps, else since start */
    if ((f->have & ROW_N_POWER) != 0 && sum->timesteps_per_sec_valid &&
        sum->timesteps_per_sec > 0.0) {
        f->have |= ROW_N_STEP;
        f->step_j = f->power_w / sum->timesteps_per_sec;
    } else if ((f->have & ROW_N_ENERGY) != 0 && sum->timesteps_valid && sum->timesteps > 0) {
        f->have |= ROW_N_STEP;
        f->step_j = f->energy_j / (double)sum->timesteps;
    }
}

static void neuro_share(struct neuro_node *x, const struct row_neuro *parent)
{
    const struct row_neuro *f = &x->f;
    uint32_t spikes = 1U << ROW_NF_SPIKES;

    if ((f->have & parent->have & ROW_N_POWER) != 0 &&
        ((f->have ^ parent->have) & ROW_N_MEASURED) == 0 && parent->power_w > 0.0) {
        x->share_valid = true;
        x->share_pct = f->power_w / parent->power_w * 100.0;
    } else if ((f->rated & parent->rated & spikes) != 0 && parent->per_sec[ROW_NF_SPIKES] > 0.0) {
        x->share_valid = true;
        x->share_pct = f->per_sec[ROW_NF_SPIKES] / parent->per_sec[ROW_NF_SPIKES] * 100.0;
    }
}

/* Timesteps from the iteration markers: the series holds the intervals between them. */
static void neuro_timesteps(struct rows_neuro_sum *s, const struct store_proc *p, uint64_t now_ns)
{
    uint64_t n = 0, sum_ns;

    if (!p->have_iter) {
        return;
    }
    s->timesteps_valid = true;
    s->timesteps = store_series_count(&p->iter) + 1;
    sum_ns = store_series_window_sum(p, &p->iter, now_ns, &n);
    if (n > 0 && sum_ns > 0) {
        s->timesteps_per_sec_valid = true;
        s->timesteps_per_sec = (double)n * 1e9 / (double)sum_ns;
    }
}

void neuro_init(struct neuro *nn)
{
    memset(nn, 0, sizeof(*nn));
}

void neuro_done(struct neuro *nn)
{
    free(nn->v);
    memset(nn, 0, sizeof(*nn));
}

void neuro_build(struct neuro *nn, const struct store_proc *p, uint64_t now_ns)
{
    struct neuro_entries e = {0};
    struct neuro_meas *meas = NULL;
    size_t meas_cap = 0, *kids = NULL, nkids = 0;
    const struct energy_model *m;
    double seconds;
    unsigned missing = 0;

    nn->n = 0;
    memset(&nn->sum, 0, sizeof(nn->sum));
    nn->sum.net.layer = NEURO_NONE;
    nn->sum.net.core = NEURO_NONE;
    nn->sum.target = store_proc_attr(p, "target");
    nn->sum.chip = store_proc_attr(p, "chip");
    m = energy_model_find(nn->sum.target);
    neuro_timesteps(&nn->sum, p, now_ns);
    seconds = (double)store_series_sum(&p->iter) / 1e9;

    neuro_collect(&e, p, now_ns);
    /* the network node always, then a node per (layer, core) in entry order */
    neuro_node_add(nn, &meas, &meas_cap, NEURO_NONE, NEURO_NONE);
    for (size_t i = 0; i < e.n; i++) {
        const struct neuro_entry *x = &e.v[i];
        struct neuro_node *last = &nn->v[nn->n - 1];

        if (x->layer != last->f.layer && x->layer != NEURO_NONE) {
            last = neuro_node_add(nn, &meas, &meas_cap, x->layer, NEURO_NONE);
        }
        if (x->core != last->f.core) {
            last = neuro_node_add(nn, &meas, &meas_cap, x->layer, x->core);
        }
        neuro_apply(&last->f, &meas[nn->n - 1], x);
    }
    free(e.v);

    /* fold cores into their layers, then layers into the network */
    kids = xreallocarray(NULL, nn->n, sizeof(*kids));
    for (size_t i = 1; i < nn->n; i++) {
        size_t j = i + 1;

        if (nn->v[i].f.core != NEURO_NONE) {
            continue;
        }
        nkids = 0;
        for (; j < nn->n && nn->v[j].f.core != NEURO_NONE; j++) {
            kids[nkids++] = j;
        }
        neuro_fold(&nn->v[i].f, &meas[i], nn->v, kids, nkids);
    }
    nkids = 0;
    for (size_t i = 1; i < nn->n; i++) {
        if (nn->v[i].f.core == NEURO_NONE) {
            kids[nkids++] = i;
        }
    }
    neuro_fold(&nn->v[0].f, &meas[0], nn->v, kids, nkids);
    free(kids);

    for (size_t i = 0; i < nn->n; i++) {
        struct row_neuro *f = &nn->v[i].f;

        if ((f->have & ROW_N_NEURONS) != 0 && f->neurons > 0 &&
            (f->rated & 1U << ROW_NF_SPIKES) != 0) {
            f->have |= ROW_N_FIRING;
            f->firing_hz = f->per_sec[ROW_NF_SPIKES] / (double)f->neurons;
        }
        if ((f->have & ROW_N_BUFFER) != 0) {
            f->buffer_pct = (double)f->buffer_used_bytes / (double)f->buffer_capacity_bytes * 100.0;
        }
        neuro_energy(f, &meas[i], m, seconds, &nn->sum, i == 0 ? &missing : NULL);
    }
    /* shares: a layer of the network, a core of its layer */
    for (size_t i = 1, layer = 0; i < nn->n; i++) {
        if (nn->v[i].f.core == NEURO_NONE) {
            layer = i;
            neuro_share(&nn->v[i], &nn->v[0].f);
        } else {
            neuro_share(&nn->v[i], &nn->v[layer].f);
        }
    }
    free(meas);

    nn->sum.net = nn->v[0].f;
    if (nn->v[0].f.counted == 0) {
        /* no operation counts: no rows (the sum keeps the target and a measured energy) */
        nn->n = 0;
    }
    if ((nn->sum.net.have & (ROW_N_ENERGY | ROW_N_POWER)) != 0 &&
        (nn->sum.net.have & ROW_N_MEASURED) == 0) {
        nn->sum.basis = m->basis;
        nn->sum.missing = missing;
    }
    nn->sum.spiking = (nn->sum.net.counted & 1U << ROW_NF_SPIKES) != 0 ||
                      (m != NULL && strcmp(m->target, "cpu") != 0);
}
