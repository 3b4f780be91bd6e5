/* SPDX-License-Identifier: MIT */
/* snn: self-checks. The neuron integrates its leak exactly, so under a constant drive the
 * only error against the closed form is that a crossing is seen at the end of its timestep:
 * every inter-spike interval lies in [T, T + dt) where T = t_ref + tau ln((RI - V_r) /
 * (RI - V_th)), and the rate in (1 / (T + dt), 1 / T]. That bound, not a loose percentage,
 * is what the rate checks test. */
#include "selftest.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "net.h"
#include "networks.h"
#include "target.h"

#define SELFTEST_EPS_MS 1e-6 /* float rounding of a crossing far from a step boundary */

static int selftest_report(bool ok, const char *what, double figure)
{
    printf("%s %s (%.6g)\n", ok ? "ok  " : "FAIL", what, figure);
    return ok ? 0 : 1;
}

/* ISIs of a single LIF neuron driven by RI = v_inf for sim_ms: their count, min, max and
 * mean (ms). Returns the number of spikes, or -1 when the network cannot be built. */
static long selftest_single(double dt_ms, double v_inf, double sim_ms, double *isi_min,
                            double *isi_max, double *isi_mean)
{
    const struct lif_params p = {
        .tau_ms = 20.0, .v_th = 20.0, .v_reset = 0.0, .t_ref_ms = 2.0, .v_inf = v_inf};
    struct net *net = net_new(dt_ms, 1);
    char why[256];
    long spikes = 0;
    double last = -1.0, sum = 0.0;
    uint64_t steps = (uint64_t)llround(sim_ms / dt_ms);

    *isi_min = INFINITY, *isi_max = 0.0, *isi_mean = 0.0;
    if (net == NULL || net_add_lif(net, "one", 1, &p) < 0 ||
        net_place(net, target_find("cpu"), why, sizeof(why)) != 0) {
        net_free(net);
        return -1;
    }
    for (uint64_t t = 0; t < steps; t++) {
        uint32_t n;

        net_integrate(net);
        net_update(net);
        net_layer_spikes(net, 0, &n);
        if (n > 0) {
            /* the crossing is seen at the end of timestep t */
            double at = (double)(t + 1) * dt_ms;

            if (last >= 0.0) {
                double isi = at - last;

                *isi_min = fmin(*isi_min, isi);
                *isi_max = fmax(*isi_max, isi);
                sum += isi;
            }
            last = at;
            spikes++;
        }
        net_route(net);
        net_end_step(net);
    }
    if (spikes > 1) {
        *isi_mean = sum / (double)(spikes - 1);
    }
    net_free(net);
    return spikes;
}

static int selftest_rate(double dt_ms, double v_inf)
{
    double t_an = 2.0 + 20.0 * log(v_inf / (v_inf - 20.0)); /* V_r = 0 */
    double lo, hi, mean, rate_hz, rate_an_hz = 1000.0 / t_an;
    long n = selftest_single(dt_ms, v_inf, 20000.0, &lo, &hi, &mean);
    char what[160];

    rate_hz = mean > 0.0 ? 1000.0 / mean : 0.0;
    snprintf(what, sizeof(what),
             "LIF rate at RI = %g mV, dt = %g ms: %.3f Hz vs analytic %.3f Hz, every ISI in "
             "[T, T + dt) (relative error)",
             v_inf, dt_ms, rate_hz, rate_an_hz);
    return selftest_report(
        n > 10 && lo >= t_an - SELFTEST_EPS_MS && hi < t_an + dt_ms + SELFTEST_EPS_MS &&
            rate_hz <= rate_an_hz * (1 + 1e-9) && rate_hz > 1000.0 / (t_an + dt_ms),
        what, fabs(rate_hz - rate_an_hz) / rate_an_hz);
}

static int selftest_silence(void)
{
    double lo, hi, mean;
    long below = selftest_single(0.1, 19.99, 20000.0, &lo, &hi, &mean);
    long rest = selftest_single(0.1, 0.0, 20000.0, &lo, &hi, &mean);

    return selftest_report(below == 0 && rest == 0,
                           "silence below threshold: RI = 19.99 mV and 0 mV for 20 s (spikes)",
                           (double)(below + rest));
}

/* A drive so strong that one timestep crosses threshold: every ISI is exactly t_ref + dt. */
static int selftest_refractory(void)
{
    double lo, hi, mean;
    long n = selftest_single(0.1, 1e5, 1000.0, &lo, &hi, &mean);

    return selftest_report(n > 100 && lo >= 2.0 - SELFTEST_EPS_MS &&
                               fabs(lo - 2.1) < SELFTEST_EPS_MS && fabs(hi - 2.1) < SELFTEST_EPS_MS,
                           "refractory spacing under a saturating drive: ISI = t_ref + dt (ms)",
                           lo);
}

/* One source, three targets at delays 1, 3 and 7: each input appears exactly at t0 + delay,
 * once, with its weight. */
static int selftest_delays(void)
{
    const struct lif_params src = {.tau_ms = 20.0, .v_th = 20.0, .t_ref_ms = 2.0};
    const struct lif_params sink = {.tau_ms = 20.0, .v_th = 1e9, .t_ref_ms = 0.0};
    const struct syn syns[] = {
        {.src = 0, .dst = 2, .w = 4.0f, .delay = 7},
        {.src = 0, .dst = 0, .w = 1.0f, .delay = 1},
        {.src = 0, .dst = 1, .w = 2.0f, .delay = 3},
    };
    const uint16_t delay[3] = {1, 3, 7};
    const float w[3] = {1.0f, 2.0f, 4.0f};
    const uint64_t t0 = 5;
    struct net *net = net_new(0.1, 1);
    char why[256];
    bool ok = net != NULL;
    int a = -1, b = -1, wrong = 0;

    if (ok) {
        a = net_add_lif(net, "a", 1, &src);
        b = net_add_lif(net, "b", 3, &sink);
        ok = a >= 0 && b >= 0 && net_connect(net, a, b, syns, 3, 0) == 0 &&
             net_place(net, target_find("loihi2"), why, sizeof(why)) == 0;
    }
    for (uint64_t t = 0; ok && t < 20; t++) {
        net_integrate(net);
        for (int j = 0; j < 3; j++) {
            double want = t == t0 + delay[j] ? w[j] : 0.0;

            wrong += net_neuron_input(net, b, (uint32_t)j) != want;
        }
        net_update(net);
        if (t == t0) {
            net_inject_spike(net, a, 0);
        }
        net_route(net);
        net_end_step(net);
    }
    net_free(net);
    return selftest_report(ok && wrong == 0,
                           "CSR delays 1, 3, 7: each input arrives exactly at t + delay, once "
                           "(wrong timesteps)",
                           (double)wrong);
}

/* Pre 5 steps before post potentiates by a_plus e^(-dt_pair / tau); post 5 steps before the
 * pre's arrival depresses by a_minus e^(-dt_pair / tau). Trace timing is exact to a step. */
static double selftest_stdp_pair(bool pre_first)
{
    const struct lif_params p = {.tau_ms = 20.0, .v_th = 1e9, .t_ref_ms = 0.0};
    const struct stdp_params sp = {
        .tau_plus_ms = 20.0, .tau_minus_ms = 20.0, .a_plus = 0.1, .a_minus = 0.1, .w_max = 10.0};
    const struct syn s = {.src = 0, .dst = 0, .w = 1.0f, .delay = 1};
    struct net *net = net_new(0.1, 1);
    char why[256];
    double dw = NAN;

    if (net == NULL || net_add_lif(net, "pre", 1, &p) != 0 ||
        net_add_lif(net, "post", 1, &p) != 1 || net_connect(net, 0, 1, &s, 1, 1) != 0 ||
        net_place(net, target_find("cpu"), why, sizeof(why)) != 0) {
        net_free(net);
        return NAN;
    }
    net_set_stdp(net, &sp);
    for (uint64_t t = 0; t < 40; t++) {
        net_integrate(net);
        net_update(net);
        /* pre at 10 arrives at 11; post at 16 (pre first) or at 5 (post first) */
        if (t == 10) {
            net_inject_spike(net, 0, 0);
        }
        if (t == (pre_first ? 16U : 5U)) {
            net_inject_spike(net, 1, 0);
        }
        net_route(net);
        net_learn(net);
        net_end_step(net);
    }
    dw = net_syn_weight(net, 1, 0) - 1.0;
    net_free(net);
    return dw;
}

static int selftest_stdp(void)
{
    double up = selftest_stdp_pair(true), down = selftest_stdp_pair(false);
    /* pre at 10, post at 16: the pre trace has decayed over 5 steps of 0.1 ms when the post
     * spike reads it; post at 5, pre arriving at 11: the post trace likewise. Bounds one step
     * either side. */
    double lo = 0.1 * exp(-0.6 / 20.0), hi = 0.1 * exp(-0.4 / 20.0);

    return selftest_report(up >= lo && up <= hi && -down >= lo && -down <= hi,
                           "STDP: pre before post potentiates, post before pre depresses, by "
                           "A e^(-dt/tau) (potentiation)",
                           up);
}

/* Run the networks for steps; a hash of every spike (timestep, layer, neuron), the spike
 * count, and for the Brunel layer the minimum ISI, the mean rate and the mean ISI CV. */
struct selftest_run {
    uint64_t hash;
    uint64_t spikes;
    double min_isi_ms;
    double rate_hz;
    double cv;
};

static int selftest_network(const struct networks_config *c, uint64_t seed, uint64_t steps,
                            struct selftest_run *out)
{
    struct net *net = net_new(0.1, seed);
    char why[256];
    int brunel = -1;
    uint32_t n_b = 0;
    int64_t *last = NULL;
    double *sum = NULL, *sum2 = NULL;
    uint32_t *count = NULL;

    out->hash = 1469598103934665603ULL, out->spikes = 0, out->min_isi_ms = INFINITY;
    out->rate_hz = 0.0, out->cv = 0.0;
    if (net == NULL || networks_build(net, c, seed) != 0 ||
        net_place(net, target_find("loihi2"), why, sizeof(why)) != 0) {
        net_free(net);
        return -1;
    }
    for (int l = 0; l < net_layers(net); l++) {
        if (net_layer_name(net, l)[0] == 'b') {
            brunel = l;
            n_b = net_layer_size(net, l);
        }
    }
    last = calloc(n_b + 1, sizeof(*last));
    sum = calloc(n_b + 1, sizeof(*sum));
    sum2 = calloc(n_b + 1, sizeof(*sum2));
    count = calloc(n_b + 1, sizeof(*count));
    for (uint32_t i = 0; i < n_b; i++) {
        last[i] = -1;
    }
    for (uint64_t t = 0; t < steps; t++) {
        net_integrate(net);
        net_update(net);
        for (int l = 0; l < net_layers(net); l++) {
            uint32_t n;
            const uint32_t *spk = net_layer_spikes(net, l, &n);

            for (uint32_t k = 0; k < n; k++) {
                /* FNV-1a over (t, l, i) */
                uint64_t v[3] = {t, (uint64_t)l, spk[k]};

                for (int q = 0; q < 3; q++) {
                    out->hash = (out->hash ^ v[q]) * 1099511628211ULL;
                }
                if (l == brunel && last != NULL) {
                    uint32_t i = spk[k];

                    if (last[i] >= 0) {
                        double isi = (double)((int64_t)t - last[i]) * 0.1;

                        out->min_isi_ms = fmin(out->min_isi_ms, isi);
                        sum[i] += isi;
                        sum2[i] += isi * isi;
                        count[i]++;
                    }
                    last[i] = (int64_t)t;
                }
            }
            out->spikes += n;
        }
        net_route(net);
        net_learn(net);
        net_end_step(net);
    }
    if (brunel >= 0 && last != NULL) {
        uint64_t spikes = 0;
        double cv_sum = 0.0;
        uint32_t cv_n = 0;

        for (uint32_t i = 0; i < n_b; i++) {
            spikes += count[i] + (last[i] >= 0);
            if (count[i] >= 3) {
                double m = sum[i] / count[i], var = sum2[i] / count[i] - m * m;

                cv_sum += sqrt(fmax(var, 0.0)) / m;
                cv_n++;
            }
        }
        out->rate_hz = (double)spikes / n_b / ((double)steps * 1e-4);
        out->cv = cv_n > 0 ? cv_sum / cv_n : 0.0;
    }
    free(last);
    free(sum);
    free(sum2);
    free(count);
    net_free(net);
    return 0;
}

static int selftest_brunel(void)
{
    const struct networks_config c = {.kind = NETWORKS_BRUNEL, .neurons = 1000};
    struct selftest_run r;
    int fails = 0;
    char what[160];
    bool built = selftest_network(&c, 3, 10000, &r) == 0;

    snprintf(what, sizeof(what),
             "Brunel network (N = 1000, g = 5, eta = 2), 1 s: asynchronous irregular, %.1f Hz, "
             "mean ISI CV",
             r.rate_hz);
    fails +=
        selftest_report(built && r.rate_hz > 1.0 && r.rate_hz < 100.0 && r.cv > 0.5, what, r.cv);
    fails += selftest_report(built && r.min_isi_ms >= 2.0 - SELFTEST_EPS_MS,
                             "Brunel network: no ISI below t_ref = 2 ms (shortest ISI, ms)",
                             r.min_isi_ms);
    return fails;
}

static int selftest_determinism(void)
{
    const struct networks_config c = {.kind = NETWORKS_FF | NETWORKS_BRUNEL,
                                      .layers = 2,
                                      .neurons = 300,
                                      .fan_in = 50,
                                      .rate_hz = 20.0};
    struct selftest_run a, b, other;
    bool ok = selftest_network(&c, 7, 3000, &a) == 0 && selftest_network(&c, 7, 3000, &b) == 0 &&
              selftest_network(&c, 8, 3000, &other) == 0;

    return selftest_report(ok && a.spikes > 0 && a.hash == b.hash && a.spikes == b.spikes &&
                               other.hash != a.hash,
                           "determinism: one seed gives the same spike trains, another seed "
                           "others (spikes)",
                           (double)a.spikes);
}

int selftest_run(void)
{
    int fails = 0;

    fails += selftest_rate(0.1, 30.0);
    fails += selftest_rate(0.1, 22.0);
    fails += selftest_rate(1.0, 30.0);
    fails += selftest_rate(0.01, 50.0);
    fails += selftest_silence();
    fails += selftest_refractory();
    fails += selftest_delays();
    fails += selftest_stdp();
    fails += selftest_brunel();
    fails += selftest_determinism();
    printf("%s: %d check%s failed\n", fails == 0 ? "ok" : "FAIL", fails, fails == 1 ? "" : "s");
    return fails;
}
