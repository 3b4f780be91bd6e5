/* SPDX-License-Identifier: MIT */
/* snn: the nctop probe. The runtime only accumulates plain counts in its own arrays; this
 * file turns them into SDK calls once per timestep (deltas since the last flush, skipped when
 * zero), so the cost per timestep is a few atomic adds per active core, never one per spike. */
#include "probe.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nctop.h>

#include "net.h"

#define PROBE_PATH_BYTES 96
/* One kernel record per phase stands for this many consecutive timesteps: its start is the
 * first one's, its duration the sum (total kernel time stays exact; records are 1/N). */
#define PROBE_KERNEL_WINDOW 16
/* The counters' deltas (and the spike queues' fill) are published once per this many
 * timesteps and at the end (probe_flush), so the counts nctop holds stay exact at every flush
 * and at exit: 7 fields x every core, layer and total would otherwise be atomic adds into the
 * segment 60 000 times a second. 64 timesteps are about 3.5 ms of a run on this runtime: the
 * display, a 1 s refresh, sees them as live. */
#define PROBE_COUNT_WINDOW 64
#define PROBE_PREFIX_BYTES 64                  /* "layers.N.core.C": leaves room for ".<field>" */
#define PROBE_RASTER_ROWS NCTOP_MATRIX_DIM_MAX /* neurons the raster shows (evenly sampled) */
#define PROBE_RASTER_STEPS 128U                /* recent timesteps it shows */
#define PROBE_RASTER_PERIOD_NS                                                                     \
    1000000000ULL      /* published at most this often: the display's refresh */
#define PROBE_LABEL 32 /* the SDK keeps NCTOP_MATRIX_LABEL_MAX - 1 bytes of it */

/* The published counters of one group (a core, a layer, the totals); handle 0 = none. */
enum probe_field {
    PROBE_SPIKES = 0,
    PROBE_SYNOPS,
    PROBE_NEURON_UPDATES,
    PROBE_HOPS,
    PROBE_SYN_UPDATES,
    PROBE_NEURON_UPDATES_ACTIVE,
    PROBE_PACKETS,
    PROBE_FIELDS,
};

static const char *const probe_field_names[PROBE_FIELDS] = {
    "spikes", "synops", "neuron_updates", "hops", "syn_updates", "neuron_updates_active", "packets",
};

struct probe_core {
    int layer;
    uint32_t core;
    uint32_t counter[PROBE_FIELDS];
    uint64_t last[PROBE_FIELDS]; /* what was flushed so far */
};

struct probe_layer {
    uint32_t counter[PROBE_FIELDS];
    uint32_t gauge;
    uint64_t gauge_used, gauge_cap; /* last values set */
};

struct probe {
    uint32_t step_name;
    uint32_t phase_name[PROBE_PHASES];
    uint32_t backend;
    uint32_t total[PROBE_FIELDS];
    struct probe_layer *layers;
    int n_layers;
    struct probe_core *cores;
    size_t n_cores;
    bool attached;    /* sampled at each timestep's start */
    uint64_t mark_ns; /* when attached: the last phase boundary (a phase starts where the
                       * previous one ended, so each phase costs one clock read) */
    uint64_t kernel_start[PROBE_PHASES];
    uint64_t kernel_ns[PROBE_PHASES];
    unsigned window;       /* timesteps in the open kernel window */
    unsigned count_window; /* timesteps since the counters were last published */

    /* The spike raster: rows sampled neurons (every (N / rows)-th of the network, layer by
     * layer), columns PROBE_RASTER_STEPS consecutive timesteps, 1 where the neuron spiked. */
    uint32_t raster;                    /* matrix handle, 0: none */
    uint32_t raster_rows;               /* sampled neurons */
    int32_t **row_of;                   /* per layer, per neuron: its raster row, or -1 */
    uint8_t *spiked;                    /* PROBE_RASTER_STEPS columns of raster_rows */
    uint32_t col;                       /* columns recorded towards the next publication */
    uint64_t raster_ns;                 /* when it was last published */
    float *raster_pub;                  /* raster_rows x PROBE_RASTER_STEPS */
    char (*raster_labels)[PROBE_LABEL]; /* rows, then PROBE_RASTER_STEPS columns */
    const char **raster_ptr;
};

static const char *const probe_phase_names[PROBE_PHASES] = {
    "synaptic_integration",
    "neuron_update",
    "spike_routing",
    "learning",
};

static uint64_t probe_field(const struct net_counts *c, enum probe_field f)
{
    switch (f) {
    case PROBE_SPIKES:
        return c->spikes;
    case PROBE_SYNOPS:
        return c->synops;
    case PROBE_NEURON_UPDATES:
        return c->neuron_updates;
    case PROBE_HOPS:
        return c->hops;
    case PROBE_SYN_UPDATES:
        return c->syn_updates;
    case PROBE_NEURON_UPDATES_ACTIVE:
        return c->neuron_updates_active;
    case PROBE_PACKETS:
        return c->packets;
    case PROBE_FIELDS:
        break;
    }
    return 0;
}

/* Register prefix.<field> for every field (the totals have no prefix). */
static void probe_register(uint32_t *counter, const char *prefix)
{
    char path[PROBE_PATH_BYTES];

    for (int f = 0; f < PROBE_FIELDS; f++) {
        if (prefix != NULL) {
            snprintf(path, sizeof(path), "%s.%s", prefix, probe_field_names[f]);
        } else {
            snprintf(path, sizeof(path), "%s", probe_field_names[f]);
        }
        counter[f] = nctop_counter(path);
    }
}

/* Sample the raster's neurons and make its buffers; -1 when out of memory. */
static int probe_raster_init(struct probe *p, const struct net *net)
{
    uint64_t total = 0, g = 0;
    uint32_t rows, r = 0;

    for (int l = 0; l < p->n_layers; l++) {
        total += net_layer_size(net, l);
    }
    if (total == 0) {
        return 0;
    }
    rows = total < PROBE_RASTER_ROWS ? (uint32_t)total : PROBE_RASTER_ROWS;
    p->row_of = calloc((size_t)p->n_layers, sizeof(*p->row_of));
    p->spiked = calloc((size_t)rows * PROBE_RASTER_STEPS, 1);
    p->raster_pub = calloc((size_t)rows * PROBE_RASTER_STEPS, sizeof(float));
    p->raster_labels = calloc((size_t)rows + PROBE_RASTER_STEPS, sizeof(*p->raster_labels));
    p->raster_ptr = calloc((size_t)rows + PROBE_RASTER_STEPS, sizeof(*p->raster_ptr));
    if (p->row_of == NULL || p->spiked == NULL || p->raster_pub == NULL ||
        p->raster_labels == NULL || p->raster_ptr == NULL) {
        return -1;
    }
    for (int l = 0; l < p->n_layers; l++) {
        uint32_t n = net_layer_size(net, l);

        p->row_of[l] = malloc((n > 0 ? n : 1) * sizeof(**p->row_of));
        if (p->row_of[l] == NULL) {
            return -1;
        }
        /* Row r shows the network's neuron r * total / rows (layer by layer). */
        for (uint32_t i = 0; i < n; i++, g++) {
            bool sampled = r < rows && g == (uint64_t)r * total / rows;

            p->row_of[l][i] = sampled ? (int32_t)r : -1;
            if (sampled) {
                snprintf(p->raster_labels[r], PROBE_LABEL, "L%d n%u", l, i);
                r++;
            }
        }
    }
    for (uint32_t k = 0; k < rows + PROBE_RASTER_STEPS; k++) {
        p->raster_ptr[k] = p->raster_labels[k];
    }
    p->raster_rows = rows;
    p->raster = nctop_matrix("spikes.raster", "spikes");
    return 0;
}

/* The raster shows the PROBE_RASTER_STEPS timesteps before each publication, and only those
 * are recorded: once the period has passed since the last one (and only while an nctop
 * watches), the next PROBE_RASTER_STEPS timesteps are recorded, then published, so the spikes
 * are looked at in under 1 % of the timesteps instead of all of them. */
static void probe_raster_step(struct probe *p, const struct net *net)
{
    uint8_t *col;

    if (p->raster_rows == 0 || p->raster == 0 || !p->attached) {
        p->col = 0; /* a recording cut by a detach starts over */
        return;
    }
    if (p->col == 0 && p->mark_ns - p->raster_ns < PROBE_RASTER_PERIOD_NS) {
        return;
    }
    col = p->spiked + (size_t)p->col * p->raster_rows;
    memset(col, 0, p->raster_rows);
    for (int l = 0; l < p->n_layers; l++) {
        uint32_t n;
        const uint32_t *spk = net_layer_spikes(net, l, &n);

        for (uint32_t k = 0; k < n; k++) {
            int32_t r = p->row_of[l][spk[k]];

            if (r >= 0) {
                col[r] = 1;
            }
        }
    }
    snprintf(p->raster_labels[p->raster_rows + p->col], PROBE_LABEL, "t%llu",
             (unsigned long long)net_timestep(net));
    if (++p->col < PROBE_RASTER_STEPS) {
        return;
    }
    /* The ring is full: publish it, neurons as rows, timesteps as columns (oldest first). */
    for (uint32_t c = 0; c < PROBE_RASTER_STEPS; c++) {
        for (uint32_t r = 0; r < p->raster_rows; r++) {
            p->raster_pub[(size_t)r * PROBE_RASTER_STEPS + c] =
                (float)p->spiked[(size_t)c * p->raster_rows + r];
        }
    }
    nctop_matrix_publish(p->raster, p->raster_rows, PROBE_RASTER_STEPS, p->raster_pub,
                         p->raster_ptr, p->raster_ptr + p->raster_rows);
    p->raster_ns = p->mark_ns;
    p->col = 0;
}

void probe_publish_occupancy(const struct net *net, uint32_t max_neurons)
{
    static float v[NCTOP_MATRIX_DIM_MAX * NCTOP_MATRIX_DIM_MAX];
    static char labels[2 * NCTOP_MATRIX_DIM_MAX][PROBE_LABEL];
    const char *ptr[2 * NCTOP_MATRIX_DIM_MAX];
    uint32_t rows = (uint32_t)net_layers(net), cols = 0;
    uint32_t m = nctop_matrix("cores.occupancy", "%");

    rows = rows < NCTOP_MATRIX_DIM_MAX ? rows : NCTOP_MATRIX_DIM_MAX;
    for (uint32_t l = 0; l < rows; l++) {
        uint32_t n = net_layer_cores(net, (int)l);

        cols = n > cols ? n : cols;
    }
    cols = cols < NCTOP_MATRIX_DIM_MAX ? cols : NCTOP_MATRIX_DIM_MAX;
    if (m == 0 || rows == 0 || cols == 0 || max_neurons == 0) {
        return;
    }
    /* Layers by cores: the share of a core's neurons a layer's core holds; a layer with fewer
     * cores has absent cells (NaN) past its last. */
    for (uint32_t l = 0; l < rows; l++) {
        uint32_t n = net_layer_cores(net, (int)l);

        snprintf(labels[l], PROBE_LABEL, "%s", net_layer_name(net, (int)l));
        ptr[l] = labels[l];
        for (uint32_t c = 0; c < cols; c++) {
            v[(size_t)l * cols + c] =
                c < n ? 100.0f * (float)net_core_neurons(net, (int)l, c) / (float)max_neurons : NAN;
        }
    }
    for (uint32_t c = 0; c < cols; c++) {
        snprintf(labels[rows + c], PROBE_LABEL, "core %u", c);
        ptr[rows + c] = labels[rows + c];
    }
    nctop_matrix_publish(m, rows, cols, v, ptr, ptr + rows);
}

struct probe *probe_new(const struct net *net, const char *backend, uint32_t *unpublished)
{
    struct probe *p = calloc(1, sizeof(*p));
    char path[PROBE_PREFIX_BYTES];
    size_t k = 0;

    *unpublished = 0;
    if (p == NULL) {
        return NULL;
    }
    p->n_layers = net_layers(net);
    for (int l = 0; l < p->n_layers; l++) {
        p->n_cores += net_layer_cores(net, l);
    }
    p->layers = calloc((size_t)p->n_layers + 1, sizeof(*p->layers));
    p->cores = calloc(p->n_cores + 1, sizeof(*p->cores));
    if (p->layers == NULL || p->cores == NULL) {
        probe_free(p);
        return NULL;
    }
    p->step_name = nctop_name("timestep");
    for (int ph = 0; ph < PROBE_PHASES; ph++) {
        p->phase_name[ph] = nctop_name(probe_phase_names[ph]);
    }
    p->backend = nctop_name(backend);
    /* What the figures are of: nctop's energy estimates use the target's model. The chip is
     * simulated: this runtime models the target, it does not run on one. */
    nctop_set_attr("target", backend);
    nctop_set_attr("chip", "simulated");
    /* totals and layers first, so a full counter table loses only per-core detail */
    probe_register(p->total, NULL);
    for (int l = 0; l < p->n_layers; l++) {
        uint64_t cap = 0;

        snprintf(path, sizeof(path), "layers.%d", l);
        probe_register(p->layers[l].counter, path);
        snprintf(path, sizeof(path), "layers.%d.neurons", l);
        nctop_value_set(nctop_value(path, NULL), (double)net_layer_size(net, l));
        if (net_layer_synapses(net, l) > 0) {
            snprintf(path, sizeof(path), "layers.%d.weights", l);
            nctop_weight_set(path, net_layer_weight_bytes(net, l), 0);
            net_layer_queue_bytes(net, l, &cap);
            snprintf(path, sizeof(path), "layers.%d.spike_queue", l);
            p->layers[l].gauge = nctop_gauge(path, NCTOP_MEM_OTHER, 0);
        }
    }
    for (int l = 0; l < p->n_layers; l++) {
        for (uint32_t c = 0; c < net_layer_cores(net, l); c++, k++) {
            struct probe_core *pc = &p->cores[k];

            pc->layer = l;
            pc->core = c;
            snprintf(path, sizeof(path), "layers.%d.core.%u", l, net_core_id(net, l, c));
            probe_register(pc->counter, path);
            snprintf(path, sizeof(path), "layers.%d.core.%u.neurons", l, net_core_id(net, l, c));
            nctop_value_set(nctop_value(path, NULL), (double)net_core_neurons(net, l, c));
            if (pc->counter[PROBE_FIELDS - 1] == 0) {
                (*unpublished)++;
            }
        }
    }
    if (probe_raster_init(p, net) < 0) {
        probe_free(p);
        return NULL;
    }
    return p;
}

void probe_free(struct probe *p)
{
    if (p == NULL) {
        return;
    }
    for (int l = 0; p->row_of != NULL && l < p->n_layers; l++) {
        free(p->row_of[l]);
    }
    free(p->row_of);
    free(p->spiked);
    free(p->raster_pub);
    free(p->raster_labels);
    free(p->raster_ptr);
    free(p->layers);
    free(p->cores);
    free(p);
}

void probe_step_begin(struct probe *p)
{
    p->attached = nctop_attached() != 0;
    if (p->attached) {
        nctop_span_begin(p->step_name);
        p->mark_ns = nctop_now_ns();
    }
}

void probe_phase_begin(struct probe *p, enum probe_phase phase)
{
    if (p->attached) {
        nctop_span_begin(p->phase_name[phase]);
    }
}

void probe_phase_end(struct probe *p, enum probe_phase phase)
{
    if (p->attached) {
        uint64_t now = nctop_now_ns();

        if (p->kernel_ns[phase] == 0) {
            p->kernel_start[phase] = p->mark_ns;
        }
        p->kernel_ns[phase] += now - p->mark_ns;
        p->mark_ns = now;
        nctop_span_end(p->phase_name[phase]);
    }
}

static void probe_add(uint32_t counter, uint64_t n)
{
    if (counter != 0 && n != 0) {
        nctop_counter_add(counter, n);
    }
}

/* Publish every counter's change since the last flush. */
static void probe_flush_counts(struct probe *p, const struct net *net)
{
    uint64_t total[PROBE_FIELDS] = {0};
    int layer = -1;
    uint64_t sum[PROBE_FIELDS] = {0};

    for (size_t k = 0; k <= p->n_cores; k++) {
        struct probe_core *pc = &p->cores[k];
        const struct net_counts *c;

        /* a layer's sum is flushed when its last core is done (k == n_cores: the last one) */
        if (k == p->n_cores || pc->layer != layer) {
            if (layer >= 0) {
                for (int f = 0; f < PROBE_FIELDS; f++) {
                    probe_add(p->layers[layer].counter[f], sum[f]);
                    total[f] += sum[f];
                    sum[f] = 0;
                }
            }
            if (k == p->n_cores) {
                break;
            }
            layer = pc->layer;
        }
        c = net_core_counts(net, pc->layer, pc->core);
        for (int f = 0; f < PROBE_FIELDS; f++) {
            uint64_t now = probe_field(c, (enum probe_field)f), d = now - pc->last[f];

            pc->last[f] = now;
            probe_add(pc->counter[f], d);
            sum[f] += d;
        }
    }
    for (int f = 0; f < PROBE_FIELDS; f++) {
        probe_add(p->total[f], total[f]);
    }
    p->count_window = 0;
}

/* The spike queues' fill, set where it changed. */
static void probe_set_gauges(struct probe *p, const struct net *net)
{
    for (int l = 0; l < p->n_layers; l++) {
        struct probe_layer *pl = &p->layers[l];
        uint64_t cap, used;

        if (pl->gauge == 0) {
            continue;
        }
        used = net_layer_queue_bytes(net, l, &cap);
        if (used != pl->gauge_used || cap != pl->gauge_cap) {
            nctop_gauge_set(pl->gauge, used, cap);
            pl->gauge_used = used;
            pl->gauge_cap = cap;
        }
    }
}

void probe_flush(struct probe *p, const struct net *net)
{
    if (p != NULL && p->count_window > 0) {
        probe_flush_counts(p, net);
        probe_set_gauges(p, net);
    }
}

void probe_step_end(struct probe *p, const struct net *net)
{
    /* The counters and the queues' fill once per window: nctop reads a gauge when it drains
     * (every few milliseconds at most), so a fill set every 16 timesteps loses nothing it
     * would show. */
    if (++p->count_window == PROBE_COUNT_WINDOW) {
        probe_flush_counts(p, net);
        probe_set_gauges(p, net);
    }
    nctop_step(NCTOP_STEP_ITERATION, 1);
    probe_raster_step(p, net);
    if (p->attached && ++p->window == PROBE_KERNEL_WINDOW) {
        for (int ph = 0; ph < PROBE_PHASES; ph++) {
            if (p->kernel_ns[ph] > 0) {
                nctop_kernel(p->phase_name[ph], p->backend, p->kernel_start[ph], p->kernel_ns[ph]);
                p->kernel_ns[ph] = 0;
            }
        }
        p->window = 0;
    }
    if (p->attached) {
        nctop_span_end(p->step_name);
    }
}
