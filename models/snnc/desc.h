/* SPDX-License-Identifier: MIT */
/* snnc: the network description, a small line-oriented text format (snnc(1), DESCRIPTION
 * FORMAT): statements network, dt_us, seed, window_ms, layer and connect; and its parse and
 * validation into a transparent struct desc. */
#ifndef NCTOP_SNNC_DESC_H
#define NCTOP_SNNC_DESC_H

#include <stddef.h>
#include <stdint.h>

#define DESC_MAX_LAYERS 64 /* the runtime's */
#define DESC_NAME_BYTES 32
#define DESC_MAX_SYNAPSES 200000000ULL /* a bound on what one description may ask for */

enum desc_kind {
    DESC_INPUT = 1, /* Poisson generators */
    DESC_LIF = 2,   /* leaky integrate-and-fire neurons */
};

enum desc_conn {
    DESC_FAN_IN = 1,    /* fan_in=K distinct sources per target neuron */
    DESC_FAN_IN_EI = 2, /* fan_in_e=KE from the excitatory, fan_in_i=KI from the inhibitory */
    DESC_PROB = 3,      /* p=P: each pair independently */
    DESC_DENSE = 4,     /* every pair */
};

struct desc_layer {
    char name[DESC_NAME_BYTES];
    enum desc_kind kind;
    uint32_t n;
    double rate_hz;                                /* input */
    double tau_ms, v_th, v_reset, t_ref_ms, v_inf; /* LIF */
    double exc;                                    /* excitatory fraction, the first neurons */
    double drive_hz, drive_w;                      /* external Poisson drive (LIF) */
    double expect_hz;                              /* expected rate, for the estimate */
    uint32_t n_exc;                                /* round(exc x n) */
    int line;
};

struct desc_proj {
    int src, dst; /* layer indices; equal for a recurrent projection (no autapses) */
    enum desc_conn conn;
    uint32_t fan_in, fan_in_e, fan_in_i;
    double p;
    double w, w_inh; /* mV, from excitatory and inhibitory sources */
    double delay_min_ms, delay_max_ms;
    int delay_drawn;               /* delay_ms=A..B: one draw per synapse */
    uint16_t delay_min, delay_max; /* timesteps */
    uint64_t synapses;             /* exact for fan-in and dense, expected for p */
    int line;
};

struct desc {
    char model[DESC_NAME_BYTES];
    double dt_us;
    uint64_t seed;
    double window_ms; /* one inference */
    int n_layers;
    struct desc_layer layers[DESC_MAX_LAYERS];
    int n_proj;
    struct desc_proj proj[DESC_MAX_LAYERS];
};

/* Parse and validate the description in path into d. Returns 0, or -EINVAL with
 * "path:line:col: what" in why (-errno with "path: reason" when it cannot be read). */
int desc_parse(const char *path, struct desc *d, char *why, size_t why_len);

#endif /* NCTOP_SNNC_DESC_H */
