/* SPDX-License-Identifier: MIT */
/* snn: network builders. The Brunel population keeps his model A (delta synapses, fixed
 * in-degree C = epsilon N, inhibition g times excitation, external Poisson drive eta times the
 * rate that reaches threshold) in the asynchronous irregular regime (g = 5, eta = 2), with J
 * scaled as 1/C_E so that J C_E stays at his 100 mV for smaller networks.
 * Brunel, "Dynamics of sparsely connected networks of excitatory and inhibitory spiking
 * neurons", J. Comput. Neurosci. 8, 2000. */
#include "networks.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "net.h"
#include "rng.h"
#include "target.h"

#define NETWORKS_TAU_MS 20.0
#define NETWORKS_V_TH 20.0
#define NETWORKS_V_RESET 10.0
#define NETWORKS_T_REF_MS 2.0
#define NETWORKS_EXC_FRACTION 0.8 /* 80/20 excitatory/inhibitory, for both networks */
#define NETWORKS_BRUNEL_EPSILON 0.1
#define NETWORKS_BRUNEL_G 5.0
#define NETWORKS_BRUNEL_ETA 2.0
#define NETWORKS_BRUNEL_JCE_MV 100.0 /* J C_E of Brunel's network: 0.1 mV x 1000 */
#define NETWORKS_BRUNEL_J_MAX_MV 2.0 /* small populations: keep one PSP a tenth of threshold */
#define NETWORKS_BRUNEL_DELAY_MS 1.5
#define NETWORKS_FF_W_IN 0.5 /* mV: 100 inputs at 20 Hz bring the mean to threshold */
#define NETWORKS_FF_W_E 1.1  /* mV, between hidden layers: rates stay near the input's */
#define NETWORKS_FF_G 2.5    /* inhibitory weight = -g w_e */
#define NETWORKS_FF_DELAY_MIN_MS 1.0
#define NETWORKS_FF_DELAY_MAX_MS 2.0
#define NETWORKS_STREAM 100 /* rng stream of the connectivity */

/* A group of layers for networks_check: count layers of neurons with k synapses each. */
struct networks_part {
    const char *what;
    uint32_t k;
    uint32_t count;
};

static const struct lif_params networks_lif = {
    .tau_ms = NETWORKS_TAU_MS,
    .v_th = NETWORKS_V_TH,
    .v_reset = NETWORKS_V_RESET,
    .t_ref_ms = NETWORKS_T_REF_MS,
};

static uint16_t networks_delay_steps(double ms, double dt_ms)
{
    long steps = lround(ms / dt_ms);

    return (uint16_t)(steps < 1 ? 1 : steps > 1000 ? 1000 : steps);
}

static uint32_t networks_ff_fan_in(const struct networks_config *c)
{
    return c->fan_in < c->neurons ? c->fan_in : c->neurons;
}

static int networks_build_ff(struct net *net, const struct networks_config *c, struct rng *r)
{
    uint32_t n = c->neurons, k = networks_ff_fan_in(c);
    uint32_t n_exc = (uint32_t)lround(NETWORKS_EXC_FRACTION * n);
    uint16_t d_min = networks_delay_steps(NETWORKS_FF_DELAY_MIN_MS, net_dt_ms(net));
    uint16_t d_max = networks_delay_steps(NETWORKS_FF_DELAY_MAX_MS, net_dt_ms(net));
    struct syn *syns = calloc((size_t)n * k, sizeof(*syns));
    uint32_t *mark = calloc(n, sizeof(*mark)), *pick = calloc(k, sizeof(*pick));
    uint32_t stamp = 0;
    int prev, rc = -ENOMEM;

    if (syns == NULL || mark == NULL || pick == NULL) {
        goto out;
    }
    prev = net_add_input(net, "input", n, c->rate_hz);
    if (prev < 0) {
        rc = prev;
        goto out;
    }
    for (uint32_t layer = 1; layer <= c->layers; layer++) {
        bool from_input = layer == 1;
        char name[16];
        int l;

        snprintf(name, sizeof(name), "ff%u", layer);
        l = net_add_lif(net, name, n, &networks_lif);
        if (l < 0) {
            rc = l;
            goto out;
        }
        for (uint32_t j = 0; j < n; j++) {
            rng_pick(r, 0, n, k, UINT32_MAX, mark, ++stamp, pick);
            for (uint32_t q = 0; q < k; q++) {
                struct syn *s = &syns[(size_t)j * k + q];
                double w = from_input || pick[q] < n_exc
                               ? (from_input ? NETWORKS_FF_W_IN : NETWORKS_FF_W_E)
                               : -NETWORKS_FF_G * NETWORKS_FF_W_E;

                s->src = pick[q];
                s->dst = j;
                s->w = (float)w;
                s->delay = (uint16_t)(d_min + rng_below(r, (uint32_t)(d_max - d_min) + 1));
            }
        }
        rc = net_connect(net, prev, l, syns, (size_t)n * k, from_input ? n : n_exc);
        if (rc != 0) {
            goto out;
        }
        prev = l;
    }
    rc = 0;
out:
    free(syns);
    free(mark);
    free(pick);
    return rc;
}

static void networks_brunel_sizes(uint32_t n, uint32_t *n_e, uint32_t *c_e, uint32_t *c_i)
{
    uint32_t ne = (uint32_t)lround(NETWORKS_EXC_FRACTION * n);
    long ce = lround(NETWORKS_BRUNEL_EPSILON * ne), ci = lround(NETWORKS_BRUNEL_EPSILON * (n - ne));

    *n_e = ne;
    *c_e = (uint32_t)(ce < 1 ? 1 : ce);
    *c_i = (uint32_t)(ci < 1 ? 1 : ci);
}

static int networks_build_brunel(struct net *net, const struct networks_config *c, struct rng *r)
{
    uint32_t n = c->neurons, n_e, c_e, c_i;
    struct syn *syns = NULL;
    uint32_t *mark = NULL, *pick = NULL, stamp = 0;
    double j_mv, nu_thr_hz;
    uint16_t delay = networks_delay_steps(NETWORKS_BRUNEL_DELAY_MS, net_dt_ms(net));
    size_t m = 0;
    int l, rc = -ENOMEM;

    networks_brunel_sizes(n, &n_e, &c_e, &c_i);
    if (n < 5 || c_e >= n_e || c_i >= n - n_e) {
        return -EINVAL;
    }
    syns = calloc((size_t)n * (c_e + c_i), sizeof(*syns));
    mark = calloc(n, sizeof(*mark));
    pick = calloc(c_e + c_i, sizeof(*pick));
    if (syns == NULL || mark == NULL || pick == NULL) {
        goto out;
    }
    l = net_add_lif(net, "brunel", n, &networks_lif);
    if (l < 0) {
        rc = l;
        goto out;
    }
    j_mv = fmin(NETWORKS_BRUNEL_JCE_MV / c_e, NETWORKS_BRUNEL_J_MAX_MV);
    for (uint32_t j = 0; j < n; j++) {
        /* fixed in-degree: c_e excitatory and c_i inhibitory sources, no autapse */
        rng_pick(r, 0, n_e, c_e, j, mark, ++stamp, pick);
        rng_pick(r, n_e, n - n_e, c_i, j, mark, stamp, pick + c_e);
        for (uint32_t q = 0; q < c_e + c_i; q++) {
            syns[m].src = pick[q];
            syns[m].dst = j;
            syns[m].w = (float)(q < c_e ? j_mv : -NETWORKS_BRUNEL_G * j_mv);
            syns[m].delay = delay;
            m++;
        }
    }
    rc = net_connect(net, l, l, syns, m, n_e);
    if (rc != 0) {
        goto out;
    }
    /* nu_thr: the external rate that alone brings the mean to threshold (per source) */
    nu_thr_hz = NETWORKS_V_TH / (j_mv * c_e * NETWORKS_TAU_MS * 1e-3);
    rc = net_set_drive(net, l, c_e * NETWORKS_BRUNEL_ETA * nu_thr_hz, (float)j_mv);
out:
    free(syns);
    free(mark);
    free(pick);
    return rc;
}

int networks_build(struct net *net, const struct networks_config *c, uint64_t seed)
{
    struct rng r;
    int rc = 0;

    rng_init(&r, seed, NETWORKS_STREAM);
    if ((c->kind & NETWORKS_FF) != 0) {
        rc = networks_build_ff(net, c, &r);
    }
    if (rc == 0 && (c->kind & NETWORKS_BRUNEL) != 0) {
        rc = networks_build_brunel(net, c, &r);
    }
    return rc;
}

/* Cores a layer of n neurons with k synapses each needs at least, or 0 if one neuron does not
 * fit a core. */
static uint64_t networks_min_cores(const struct target *t, uint32_t n, uint32_t k)
{
    uint64_t per_core = t->max_neurons > 0 ? t->max_neurons : n;

    if (t->max_axons > 0 && k > t->max_axons) {
        return 0;
    }
    if (t->max_synapses > 0 && k > 0) {
        uint64_t by_syn = t->max_synapses / k;

        per_core = by_syn < per_core ? by_syn : per_core;
    }
    return per_core == 0 ? 0 : (n + per_core - 1) / per_core;
}

int networks_check(const struct networks_config *c, const struct target *t, char *why,
                   size_t why_len)
{
    struct networks_part parts[3];
    uint64_t total = 0;
    int n_parts = 0;
    uint32_t n_e, c_e, c_i;

    networks_brunel_sizes(c->neurons, &n_e, &c_e, &c_i);
    if ((c->kind & NETWORKS_FF) != 0) {
        parts[n_parts++] = (struct networks_part){"input", 0, 1};
        parts[n_parts++] = (struct networks_part){"ff", networks_ff_fan_in(c), c->layers};
    }
    if ((c->kind & NETWORKS_BRUNEL) != 0) {
        parts[n_parts++] = (struct networks_part){"brunel", c_e + c_i, 1};
    }
    if (t->shared_cores) {
        return 0;
    }
    for (int i = 0; i < n_parts; i++) {
        uint64_t cores = networks_min_cores(t, c->neurons, parts[i].k);

        if (cores == 0) {
            snprintf(why, why_len,
                     "a neuron of layer '%s' has %u synapses; a %s core holds %llu synapses "
                     "from %u neurons",
                     parts[i].what, parts[i].k, t->name, (unsigned long long)t->max_synapses,
                     t->max_axons);
            return -ENOSPC;
        }
        total += cores * parts[i].count;
    }
    if (total > t->cores) {
        snprintf(why, why_len,
                 "the network needs at least %llu cores of %s, the chip has %u (use fewer "
                 "--neurons or --layers)",
                 (unsigned long long)total, t->name, t->cores);
        return -ENOSPC;
    }
    return 0;
}
