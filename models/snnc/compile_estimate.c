/* SPDX-License-Identifier: MIT */
/* snnc: the estimate pass: energy and latency of one inference (window_ms of model time)
 * from the compiled mapping. Activity comes from each layer's expected rate (expect_hz: an
 * input's own rate unless given, 10 Hz for a LIF layer): synaptic events are spikes times
 * the synapses they cross plus the external drive, packets and hops are spikes times the
 * routed packets and hops of their neuron's core, every neuron updates every timestep, and
 * an update is active when an input arrives (Poisson, 1 - exp(-rate dt)) or it spikes. The
 * energy is the target's model (hw/energy) applied to those counts and the cores used. The
 * latency is the window plus the deepest path of minimum delays from an input to the last
 * layer (a chip steps in real time at dt). */
#include "compile_internal.h"

#include <math.h>

#include "hw/energy.h"
#include "models/snn/target.h"

int compile_estimate(struct compilation *c, char *why, size_t why_len)
{
    const struct desc *d = c->d;
    struct compile_result *r = c->r;
    double T = d->window_ms * 1e-3, dt = d->dt_us * 1e-6;
    double steps = (double)llround(T / dt), synops = 0.0, active = 0.0, spikes = 0.0;
    double packets = 0.0, hops = 0.0, updates = 0.0, depth[DESC_MAX_LAYERS] = {0}, deepest = 0.0;
    struct energy_counts ec = {0};

    (void)why;
    (void)why_len;
    for (int l = 0; l < d->n_layers; l++) {
        const struct desc_layer *L = &d->layers[l];
        double s = L->n * compile_expected_spikes(c, l), lambda = L->drive_hz;

        spikes += s;
        updates += (double)L->n * steps;
        synops += L->drive_hz * L->n * T;
        for (int k = 0; k < d->n_proj; k++) {
            if (d->proj[k].dst == l) {
                lambda += d->layers[d->proj[k].src].expect_hz * c->img.proj[k].n_syn / L->n;
            }
        }
        active +=
            L->kind == DESC_INPUT
                ? s
                : fmin((double)L->n * steps, (double)L->n * steps * (1.0 - exp(-lambda * dt)) + s);
    }
    for (int k = 0; k < d->n_proj; k++) {
        double per_neuron = compile_expected_spikes(c, d->proj[k].src);

        synops += per_neuron * c->img.proj[k].n_syn;
        packets += per_neuron * (double)c->proj_packets[k];
        hops += per_neuron * (double)c->proj_hops[k];
    }
    /* the deepest chain of minimum delays (a recurrent projection adds nothing) */
    for (int round = 0; round < d->n_layers; round++) {
        for (int k = 0; k < d->n_proj; k++) {
            const struct desc_proj *p = &d->proj[k];

            if (p->src != p->dst && depth[p->src] + p->delay_min > depth[p->dst]) {
                depth[p->dst] = depth[p->src] + p->delay_min;
            }
        }
    }
    for (int l = 0; l < d->n_layers; l++) {
        deepest = fmax(deepest, depth[l]);
    }
    ec.synops = (uint64_t)llround(synops);
    ec.neuron_updates = (uint64_t)llround(updates);
    ec.neuron_updates_active = (uint64_t)llround(active);
    ec.packets = (uint64_t)llround(packets);
    ec.hops = (uint64_t)llround(hops);
    ec.cores = c->t->shared_cores ? 1 : c->n_cores;
    r->window_s = T;
    r->spikes_per_inference = spikes;
    r->synops_per_inference = synops;
    r->energy_j = energy_estimate_j(c->em, &ec, T);
    r->energy_missing = energy_model_missing(c->em, &ec, T);
    r->latency_s = (steps + deepest) * dt;
    return 0;
}
