/* SPDX-License-Identifier: MIT */
/* snn: nctop's spiking-network workload. Builds a feed-forward stack and/or a Brunel
 * population of LIF neurons, places them on the cores of a neuromorphic target and advances
 * them timestep by timestep until a limit or a signal, publishing through libnctop. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <nctop.h>

#include "hw/energy.h"
#include "image.h"
#include "net.h"
#include "networks.h"
#include "probe.h"
#include "report.h"
#include "selftest.h"
#include "target.h"

struct snn_opts {
    struct networks_config net;
    unsigned long long steps; /* 0 = until interrupted */
    double dt_us;
    uint64_t seed;
    const char *network; /* ff, brunel, both */
    const char *target;
    const char *report;
    const char *label;
    const char *image;                  /* --image: the compiled network instead of the options' */
    const char *net_opt;                /* the last network option given (they exclude --image) */
    char image_model[IMAGE_NAME_BYTES]; /* the image's model name, the report's network */
    bool stdp;
    bool realtime;
    bool quiet;
    bool no_probe;
    bool selftest;
    unsigned long long cost_ab; /* --cost-ab: blocks of this many timesteps, probe on and off */
};

enum snn_opt {
    SNN_OPT_STEPS = 256,
    SNN_OPT_DT_US,
    SNN_OPT_RATE_HZ,
    SNN_OPT_NET,
    SNN_OPT_LAYERS,
    SNN_OPT_NEURONS,
    SNN_OPT_FAN_IN,
    SNN_OPT_TARGET,
    SNN_OPT_SEED,
    SNN_OPT_STDP,
    SNN_OPT_REPORT,
    SNN_OPT_REALTIME,
    SNN_OPT_LABEL,
    SNN_OPT_QUIET,
    SNN_OPT_NO_PROBE,
    SNN_OPT_COST_AB,
    SNN_OPT_SELFTEST,
    SNN_OPT_IMAGE,
};

static const struct option snn_long_opts[] = {
    {"steps", required_argument, NULL, SNN_OPT_STEPS},
    {"dt-us", required_argument, NULL, SNN_OPT_DT_US},
    {"rate-hz", required_argument, NULL, SNN_OPT_RATE_HZ},
    {"net", required_argument, NULL, SNN_OPT_NET},
    {"layers", required_argument, NULL, SNN_OPT_LAYERS},
    {"neurons", required_argument, NULL, SNN_OPT_NEURONS},
    {"fan-in", required_argument, NULL, SNN_OPT_FAN_IN},
    {"target", required_argument, NULL, SNN_OPT_TARGET},
    {"seed", required_argument, NULL, SNN_OPT_SEED},
    {"stdp", no_argument, NULL, SNN_OPT_STDP},
    {"report", required_argument, NULL, SNN_OPT_REPORT},
    {"realtime", no_argument, NULL, SNN_OPT_REALTIME},
    {"label", required_argument, NULL, SNN_OPT_LABEL},
    {"quiet", no_argument, NULL, SNN_OPT_QUIET},
    {"no-probe", no_argument, NULL, SNN_OPT_NO_PROBE},
    {"cost-ab", required_argument, NULL, SNN_OPT_COST_AB},
    {"selftest", no_argument, NULL, SNN_OPT_SELFTEST},
    {"image", required_argument, NULL, SNN_OPT_IMAGE},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* Set from the signal handler, read between timesteps: a timestep always completes. */
static volatile sig_atomic_t snn_stop;

static void snn_usage(FILE *f)
{
    fprintf(f,
            "usage: snn [options]\n"
            "A spiking network of leaky integrate-and-fire neurons placed on the cores of a\n"
            "neuromorphic target, instrumented with libnctop. Runs until SIGINT/SIGTERM or\n"
            "--steps.\n"
            "  --steps N         timesteps to run, 0 = until interrupted (0)\n"
            "  --dt-us X         timestep in microseconds of model time (100)\n"
            "  --rate-hz X       Poisson rate of the feed-forward inputs (20)\n"
            "  --net KIND        ff, brunel or both (both)\n"
            "  --layers N        LIF layers of the feed-forward stack (3)\n"
            "  --neurons N       neurons per feed-forward layer and in the Brunel network "
            "(1000)\n"
            "  --fan-in N        feed-forward synapses into each neuron (100)\n"
            "  --target NAME     loihi2, spinnaker2, truenorth or cpu (loihi2)\n"
            "  --seed N          seed of connectivity, weights, delays and inputs (1)\n"
            "  --stdp            pair-based STDP on the excitatory synapses\n"
            "  --report FILE     write the exact counts and energy as JSON at exit\n"
            "  --realtime        pace: one timestep takes at least --dt-us of wall time\n"
            "  --label NAME      the name nctop shows for this process\n"
            "  --quiet           no progress lines on stderr\n"
            "  --no-probe        publish nothing to nctop (to measure its cost)\n"
            "  --cost-ab N       measure the instrumentation's cost: each block of N\n"
            "                    timesteps runs with the probe and on a twin network\n"
            "                    without it, both timed in CPU time\n"
            "  --selftest        check the dynamics against closed forms, then exit 0 or 1\n"
            "  --image FILE      run a compiled image (snnc): its network, target, seed and\n"
            "                    placement instead of the network options\n"
            "  -h, --help        show this help\n"
            "Exit status: 0 done, 1 runtime error, 2 usage error, an invalid image or a network\n"
            "that does not fit the target.\n");
}

static void snn_on_signal(int sig)
{
    (void)sig;
    snn_stop = 1;
}

static bool snn_parse_ull(const char *opt, const char *arg, unsigned long long min,
                          unsigned long long max, unsigned long long *out)
{
    char *end;
    unsigned long long v;

    errno = 0;
    v = strtoull(arg, &end, 10);
    /* strtoull accepts "-1" and wraps it: refuse any sign */
    if (errno != 0 || end == arg || *end != '\0' || strchr(arg, '-') || strchr(arg, '+') ||
        v < min || v > max) {
        fprintf(stderr, "snn: --%s: expected an integer in %llu..%llu, got '%s'\n", opt, min, max,
                arg);
        return false;
    }
    *out = v;
    return true;
}

static bool snn_parse_u32(const char *opt, const char *arg, uint32_t min, uint32_t max,
                          uint32_t *out)
{
    unsigned long long v;

    if (!snn_parse_ull(opt, arg, min, max, &v)) {
        return false;
    }
    *out = (uint32_t)v;
    return true;
}

static bool snn_parse_double(const char *opt, const char *arg, double min, double max, double *out)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(arg, &end);
    if (errno != 0 || end == arg || *end != '\0' || !(v >= min && v <= max)) {
        fprintf(stderr, "snn: --%s: expected a number in %g..%g, got '%s'\n", opt, min, max, arg);
        return false;
    }
    *out = v;
    return true;
}

static bool snn_parse_net(const char *arg, struct snn_opts *o)
{
    static const struct {
        const char *name;
        unsigned kind;
    } kinds[] = {
        {"ff", NETWORKS_FF},
        {"brunel", NETWORKS_BRUNEL},
        {"both", NETWORKS_FF | NETWORKS_BRUNEL},
    };

    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        if (strcmp(arg, kinds[i].name) == 0) {
            o->net.kind = kinds[i].kind;
            o->network = kinds[i].name;
            return true;
        }
    }
    fprintf(stderr, "snn: --net: expected ff, brunel or both, got '%s'\n", arg);
    return false;
}

/* Returns 0 to run, 1 when --help was shown, -1 on a usage error (already reported). */
static int snn_parse_opts(int argc, char **argv, struct snn_opts *o)
{
    unsigned long long seed;
    bool ok = true;
    int ch, idx = 0;

    opterr = 0; /* our own one-line messages instead of getopt's */
    while (ok && (ch = getopt_long(argc, argv, "h", snn_long_opts, &idx)) != -1) {
        if (ch >= SNN_OPT_DT_US && ch <= SNN_OPT_SEED) {
            o->net_opt = snn_long_opts[idx].name;
        }
        switch (ch) {
        case SNN_OPT_STEPS:
            ok = snn_parse_ull("steps", optarg, 0, ULLONG_MAX, &o->steps);
            break;
        case SNN_OPT_DT_US:
            ok = snn_parse_double("dt-us", optarg, 1.0, 100000.0, &o->dt_us);
            break;
        case SNN_OPT_RATE_HZ:
            ok = snn_parse_double("rate-hz", optarg, 0.0, 10000.0, &o->net.rate_hz);
            break;
        case SNN_OPT_NET:
            ok = snn_parse_net(optarg, o);
            break;
        case SNN_OPT_LAYERS:
            ok = snn_parse_u32("layers", optarg, 1, 32, &o->net.layers);
            break;
        case SNN_OPT_NEURONS:
            ok = snn_parse_u32("neurons", optarg, 10, 1000000, &o->net.neurons);
            break;
        case SNN_OPT_FAN_IN:
            ok = snn_parse_u32("fan-in", optarg, 1, 10000, &o->net.fan_in);
            break;
        case SNN_OPT_TARGET:
            o->target = optarg;
            if (target_find(optarg) == NULL || energy_model_find(optarg) == NULL) {
                fprintf(stderr,
                        "snn: --target: expected loihi2, spinnaker2, truenorth or cpu, got "
                        "'%s'\n",
                        optarg);
                ok = false;
            }
            break;
        case SNN_OPT_SEED:
            ok = snn_parse_ull("seed", optarg, 0, ULLONG_MAX, &seed);
            o->seed = seed;
            break;
        case SNN_OPT_STDP:
            o->stdp = true;
            break;
        case SNN_OPT_REPORT:
            o->report = optarg;
            break;
        case SNN_OPT_REALTIME:
            o->realtime = true;
            break;
        case SNN_OPT_LABEL:
            o->label = optarg;
            break;
        case SNN_OPT_QUIET:
            o->quiet = true;
            break;
        case SNN_OPT_NO_PROBE:
            o->no_probe = true;
            break;
        case SNN_OPT_COST_AB:
            ok = snn_parse_ull("cost-ab", optarg, 1, 1000000, &o->cost_ab);
            break;
        case SNN_OPT_SELFTEST:
            o->selftest = true;
            break;
        case SNN_OPT_IMAGE:
            o->image = optarg;
            break;
        case 'h':
            snn_usage(stdout);
            return 1;
        default:
            if (optopt >= SNN_OPT_STEPS) {
                fprintf(stderr, "snn: %s needs a value (see --help)\n", argv[optind - 1]);
            } else {
                fprintf(stderr, "snn: unknown option '%s' (see --help)\n", argv[optind - 1]);
            }
            return -1;
        }
    }
    if (!ok) {
        return -1;
    }
    if (optind < argc) {
        fprintf(stderr, "snn: unexpected argument '%s' (see --help)\n", argv[optind]);
        return -1;
    }
    if (o->image != NULL && o->net_opt != NULL) {
        fprintf(stderr, "snn: --%s: the image carries the network, its target and seed (drop it)\n",
                o->net_opt);
        return -1;
    }
    return 0;
}

static void snn_on_signals(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = snn_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* Sum a layer's counts over its cores. */
static struct net_counts snn_layer_counts(const struct net *net, int l)
{
    struct net_counts s = {0};

    for (uint32_t c = 0; c < net_layer_cores(net, l); c++) {
        const struct net_counts *cc = net_core_counts(net, l, c);

        s.spikes += cc->spikes;
        s.synops += cc->synops;
    }
    return s;
}

/* One progress line: the mean rate of each layer since the last line. */
static void snn_progress(const struct net *net, uint64_t *last_spikes, uint64_t steps,
                         double wall_s)
{
    double dt_s = net_dt_ms(net) * 1e-3;
    char line[1024];
    int len;

    len = snprintf(line, sizeof(line), "snn: t = %.1f s, %.1f us/timestep; Hz per neuron:",
                   (double)net_timestep(net) * dt_s, wall_s * 1e6 / (double)steps);
    for (int l = 0; l < net_layers(net) && len > 0 && (size_t)len < sizeof(line); l++) {
        uint64_t s = snn_layer_counts(net, l).spikes;

        len += snprintf(line + len, sizeof(line) - (size_t)len, " %s %.1f", net_layer_name(net, l),
                        (double)(s - last_spikes[l]) / net_layer_size(net, l) /
                            ((double)steps * dt_s));
        last_spikes[l] = s;
    }
    fprintf(stderr, "%s\n", line);
}

/* The run's estimated energy over every core (the report has it per core and layer). */
static double snn_energy_j(const struct net *net, const struct energy_model *m)
{
    double seconds = (double)net_timestep(net) * net_dt_ms(net) * 1e-3, j = 0.0;

    for (int l = 0; l < net_layers(net); l++) {
        for (uint32_t c = 0; c < net_layer_cores(net, l); c++) {
            const struct net_counts *cc = net_core_counts(net, l, c);
            struct energy_counts ec = {
                .synops = cc->synops,
                .syn_updates = cc->syn_updates,
                .neuron_updates = cc->neuron_updates,
                .neuron_updates_active = cc->neuron_updates_active,
                .packets = cc->packets,
                .hops = cc->hops,
                .cores = 1,
            };

            j += energy_estimate_j(m, &ec, seconds);
        }
    }
    return j;
}

/* The instrumentation's own cost, timed on every SNN_SAMPLE_EVERY-th timestep (timing every
 * one would cost as much as what it measures): the time inside probe calls and the whole
 * timestep's. The clock reads of the timing fall inside the probe intervals, so the figure
 * errs high. */
/* prime to the probe's windows of 16 and 64 timesteps: the samples meet every phase of them */
#define SNN_SAMPLE_EVERY 17

#define SNN_SAMPLES 4096 /* the last sampled timesteps, for the trimmed figure */
#define SNN_TRIM 4       /* a sample beyond 4 x the median was preempted: left out */

struct snn_timing {
    bool on;           /* this timestep is sampled */
    uint64_t probe_ns; /* inside probe calls, sampled timesteps */
    uint64_t step_ns;  /* whole sampled timesteps */
    uint64_t step_probe_ns;
    /* each sampled timestep's probe and total ns: a loaded machine preempts some timesteps
     * in the middle of a probe call (or of the work), which the trimmed figure leaves out */
    uint32_t s_probe[SNN_SAMPLES];
    uint32_t s_step[SNN_SAMPLES];
    unsigned n_samples;
    uint64_t cpu_ns; /* the run's CPU time (this thread's): what the timesteps cost, preemption
                      * by other programs left out */
    /* --cost-ab: each pair of blocks' share of a timestep the probe took, 1 - off / on */
    float ab_share[SNN_SAMPLES];
    unsigned n_ab;
};

static uint64_t snn_cpu_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int snn_u32_cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return x < y ? -1 : x > y;
}

static uint32_t snn_median(const uint32_t *v, unsigned n, uint32_t *scratch)
{
    memcpy(scratch, v, n * sizeof(*v));
    qsort(scratch, n, sizeof(*scratch), snn_u32_cmp);
    return scratch[n / 2];
}

/* The probe's share of the sampled timesteps, leaving out those where the probe time or the
 * timestep's exceeds SNN_TRIM x its median. */
static double snn_trimmed_share(const struct snn_timing *tm)
{
    static uint32_t scratch[SNN_SAMPLES];
    unsigned n = tm->n_samples < SNN_SAMPLES ? tm->n_samples : SNN_SAMPLES;
    uint64_t probe = 0, step = 0, mp, ms;

    if (n == 0) {
        return 0.0;
    }
    mp = snn_median(tm->s_probe, n, scratch);
    ms = snn_median(tm->s_step, n, scratch);
    for (unsigned i = 0; i < n; i++) {
        if (tm->s_probe[i] <= SNN_TRIM * mp && tm->s_step[i] <= SNN_TRIM * ms) {
            probe += tm->s_probe[i];
            step += tm->s_step[i];
        }
    }
    return step > 0 ? (double)probe / (double)step : 0.0;
}

static int snn_float_cmp(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;

    return x < y ? -1 : x > y;
}

/* The median share of the --cost-ab pairs. */
static double snn_ab_median(struct snn_timing *tm)
{
    unsigned n = tm->n_ab < SNN_SAMPLES ? tm->n_ab : SNN_SAMPLES;

    qsort(tm->ab_share, n, sizeof(*tm->ab_share), snn_float_cmp);
    return n > 0 ? tm->ab_share[n / 2] : 0.0;
}

/* One phase: run it between the probe's phase begin and end. */
static void snn_phase(struct probe *p, struct net *net, enum probe_phase phase,
                      void (*run)(struct net *), struct snn_timing *tm)
{
    uint64_t a = 0, b = 0, c = 0;

    if (p == NULL) {
        run(net);
        return;
    }
    if (tm->on) {
        a = nctop_now_ns();
    }
    probe_phase_begin(p, phase);
    if (tm->on) {
        b = nctop_now_ns();
    }
    run(net);
    if (tm->on) {
        c = nctop_now_ns();
    }
    probe_phase_end(p, phase);
    if (tm->on) {
        tm->step_probe_ns += (b - a) + (nctop_now_ns() - c);
    }
}

/* One timestep, its phases and the probe's flush. */
static void snn_step(const struct snn_opts *o, struct net *net, struct probe *p,
                     struct snn_timing *tm)
{
    uint64_t t0 = tm->on ? nctop_now_ns() : 0, t1 = 0;

    tm->step_probe_ns = 0;
    if (p != NULL) {
        probe_step_begin(p);
    }
    if (tm->on) {
        tm->step_probe_ns += nctop_now_ns() - t0;
    }
    snn_phase(p, net, PROBE_INTEGRATE, net_integrate, tm);
    snn_phase(p, net, PROBE_UPDATE, net_update, tm);
    snn_phase(p, net, PROBE_ROUTE, net_route, tm);
    if (o->stdp) {
        snn_phase(p, net, PROBE_LEARN, net_learn, tm);
    }
    net_end_step(net);
    if (tm->on) {
        t1 = nctop_now_ns();
    }
    if (p != NULL) {
        probe_step_end(p, net);
    }
    if (tm->on) {
        uint64_t t2 = nctop_now_ns();

        tm->step_probe_ns += t2 - t1;
        tm->probe_ns += tm->step_probe_ns;
        tm->step_ns += t2 - t0;
        tm->s_probe[tm->n_samples % SNN_SAMPLES] = (uint32_t)tm->step_probe_ns;
        tm->s_step[tm->n_samples % SNN_SAMPLES] = (uint32_t)(t2 - t0);
        tm->n_samples++;
    }
}

/* Advance the network until the limit or a signal. Returns the wall time in ns. */
/* --cost-ab: the same block of n timesteps on the network (with the probe) and on its twin
 * (built alike, so its every timestep does the same work, without the probe), the twin first
 * when twin_first (every other block, so neither side is always the one after the switch).
 * Each block's thread CPU time goes into the pair's share, 1 - twin / net. */
static void snn_cost_block(const struct snn_opts *o, struct net *net, struct net *twin,
                           struct probe *probe, struct snn_timing *tm, uint64_t n, bool twin_first)
{
    uint64_t cpu[2];

    tm->on = false; /* no self-timing: its clock reads would be the probe's cost */
    for (int side = 0; side < 2; side++) {
        bool with = (side == 0) != twin_first;
        uint64_t c0 = snn_cpu_ns();

        for (uint64_t k = 0; k < n; k++) {
            snn_step(o, with ? net : twin, with ? probe : NULL, tm);
        }
        cpu[with ? 0 : 1] = snn_cpu_ns() - c0;
    }
    if (cpu[0] > 0) {
        tm->ab_share[tm->n_ab++ % SNN_SAMPLES] = (float)(1.0 - (double)cpu[1] / (double)cpu[0]);
    }
}

static uint64_t snn_run(const struct snn_opts *o, struct net *net, struct net *twin,
                        struct probe *probe, struct snn_timing *tm)
{
    const uint64_t dt_ns = (uint64_t)(o->dt_us * 1e3);
    const uint64_t progress_every = (uint64_t)(1e6 / o->dt_us); /* one model second */
    uint64_t *last_spikes = calloc((size_t)net_layers(net), sizeof(*last_spikes));
    uint64_t start = nctop_now_ns(), mark = start, cpu0 = snn_cpu_ns();

    for (uint64_t t = 0; !snn_stop && (o->steps == 0 || t < o->steps); t++) {
        if (twin != NULL) {
            uint64_t n = o->steps == 0 || o->steps - t > o->cost_ab ? o->cost_ab : o->steps - t;

            snn_cost_block(o, net, twin, probe, tm, n, t / o->cost_ab % 2 == 1);
            t += n - 1;
            continue;
        }
        tm->on = t % SNN_SAMPLE_EVERY == 0;
        snn_step(o, net, probe, tm);
        if (o->realtime) {
            uint64_t due = start + (t + 1) * dt_ns;
            struct timespec ts = {.tv_sec = (time_t)(due / 1000000000ULL),
                                  .tv_nsec = (long)(due % 1000000000ULL)};

            /* EINTR (a signal) ends the wait early; the loop then sees snn_stop */
            if (nctop_now_ns() < due) {
                clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
            }
        }
        if (!o->quiet && last_spikes != NULL && (t + 1) % progress_every == 0) {
            uint64_t now = nctop_now_ns();

            snn_progress(net, last_spikes, progress_every, (double)(now - mark) * 1e-9);
            mark = now;
        }
    }
    free(last_spikes);
    tm->cpu_ns = snn_cpu_ns() - cpu0;
    return nctop_now_ns() - start;
}

/* Build and place the network of a compiled image: its layers, quantized synapses and seed,
 * placed on the cores the compiler chose (not recomputed), and its routing table checked
 * against the routes that placement makes. Returns 0, or 2 with a one-line reason in why
 * (an invalid image, or one that does not fit), or 1 (out of memory). */
static int snn_image_net(struct snn_opts *o, struct net **out, const struct target **tp, char *why,
                         size_t why_len)
{
    struct net_layer_place pl[IMAGE_MAX_LAYERS];
    struct image *img = image_read(o->image, why, why_len);
    struct net *net = NULL;
    struct syn *syns = NULL;
    uint64_t links, hop_sum = 0, want_hops = 0;
    bool have_rate = false;
    int rc = 2, err;

    if (img == NULL) {
        return 2;
    }
    *tp = target_find(img->target);
    if (*tp == NULL || energy_model_find(img->target) == NULL) {
        snprintf(why, why_len, "%s: unknown target '%s'", o->image, img->target);
        goto out;
    }
    net = net_new(img->dt_us * 1e-3, img->seed);
    if (net == NULL) {
        snprintf(why, why_len, "%s: a timestep of %g us is out of range", o->image, img->dt_us);
        goto out;
    }
    for (uint32_t l = 0; l < img->n_layers; l++) {
        const struct image_layer *L = &img->layers[l];
        const struct lif_params p = {.tau_ms = L->tau_ms,
                                     .v_th = L->v_th,
                                     .v_reset = L->v_reset,
                                     .t_ref_ms = L->t_ref_ms,
                                     .v_inf = L->v_inf};

        err = L->kind == IMAGE_INPUT ? net_add_input(net, L->name, L->n, L->rate_hz)
                                     : net_add_lif(net, L->name, L->n, &p);
        if (err >= 0 && L->kind == IMAGE_LIF && L->drive_hz > 0.0) {
            err = net_set_drive(net, err, L->drive_hz, (float)L->drive_w);
        }
        if (err < 0) {
            snprintf(why, why_len, "%s: layer '%s': %s", o->image, L->name, strerror(-err));
            goto out;
        }
        if (!have_rate && L->kind == IMAGE_INPUT) {
            o->net.rate_hz = L->rate_hz; /* the report's rate: the first input layer's */
            have_rate = true;
        }
        pl[l] = (struct net_layer_place){
            .n_cores = L->n_cores, .first = L->core_first, .core_id = L->core_id};
    }
    for (uint32_t k = 0; k < img->n_proj; k++) {
        const struct image_proj *p = &img->proj[k];

        free(syns);
        syns = calloc(p->n_syn > 0 ? p->n_syn : 1, sizeof(*syns));
        if (syns == NULL) {
            rc = 1;
            snprintf(why, why_len, "out of memory loading %s", o->image);
            goto out;
        }
        for (uint32_t i = 0; i < p->n_syn; i++) {
            syns[i] = (struct syn){.src = p->syn[i].src,
                                   .dst = p->syn[i].dst,
                                   .w = p->syn[i].w,
                                   .delay = p->syn[i].delay};
        }
        err = net_connect(net, (int)p->src, (int)p->dst, syns, p->n_syn, p->plastic_below);
        if (err != 0) {
            snprintf(why, why_len, "%s: projection %u: %s", o->image, k, strerror(-err));
            goto out;
        }
    }
    err = net_place_given(net, *tp, pl, why, why_len);
    if (err != 0) {
        rc = err == -ENOMEM ? 1 : 2;
        goto out;
    }
    links = net_route_links(net, &hop_sum);
    for (uint32_t r = 0; r < img->n_routes; r++) {
        want_hops += img->routes[r].hops;
    }
    if (links != img->n_routes || hop_sum != want_hops) {
        snprintf(why, why_len,
                 "%s: the routing table (%u routes, %" PRIu64 " hops) disagrees with the "
                 "placement (%" PRIu64 " routes, %" PRIu64 " hops)",
                 o->image, img->n_routes, want_hops, links, hop_sum);
        goto out;
    }
    o->network = NULL;
    snprintf(o->image_model, sizeof(o->image_model), "%s", img->model);
    o->seed = img->seed;
    o->dt_us = img->dt_us;
    o->target = (*tp)->name;
    *out = net;
    net = NULL;
    rc = 0;
out:
    free(syns);
    net_free(net);
    image_free(img);
    return rc;
}

/* Build and place the network the options (or the image) describe, with STDP when asked.
 * Returns 0, or the exit status after a one-line reason on stderr. */
static int snn_make_net(struct snn_opts *o, struct net **netp, const struct target **tp)
{
    struct net *net = NULL;
    char why[512];
    int rc;

    if (o->image != NULL) {
        rc = snn_image_net(o, &net, tp, why, sizeof(why));
        if (rc != 0) {
            fprintf(stderr, "snn: %s\n", why);
            return rc;
        }
        o->network = o->image_model;
    } else {
        *tp = target_find(o->target);
        /* a network that cannot fit fails before it is built (and before it could exhaust memory)
         */
        if (networks_check(&o->net, *tp, why, sizeof(why)) != 0) {
            fprintf(stderr, "snn: %s\n", why);
            return 2;
        }
        net = net_new(o->dt_us * 1e-3, o->seed);
        if (net == NULL || networks_build(net, &o->net, o->seed) != 0) {
            fprintf(stderr, "snn: cannot build the network: %s (try fewer --neurons)\n",
                    strerror(errno != 0 ? errno : ENOMEM));
            net_free(net);
            return 1;
        }
        rc = net_place(net, *tp, why, sizeof(why));
        if (rc != 0) {
            fprintf(stderr, "snn: %s\n", why);
            net_free(net);
            return rc == -ENOSPC ? 2 : 1;
        }
    }
    if (o->stdp) {
        const struct stdp_params sp = {.tau_plus_ms = 20.0,
                                       .tau_minus_ms = 20.0,
                                       .a_plus = 0.01,
                                       .a_minus = 0.0105,
                                       .w_max = 3.0};

        net_set_stdp(net, &sp);
    }
    *netp = net;
    return 0;
}

int main(int argc, char **argv)
{
    struct snn_opts o = {
        .net = {.kind = NETWORKS_FF | NETWORKS_BRUNEL,
                .layers = 3,
                .neurons = 1000,
                .fan_in = 100,
                .rate_hz = 20.0},
        .dt_us = 100.0,
        .seed = 1,
        .network = "both",
        .target = "loihi2",
    };
    const struct target *t;
    struct net *net = NULL, *twin = NULL;
    struct probe *probe = NULL;
    uint64_t wall_ns;
    uint32_t unpublished = 0;
    static struct snn_timing tm;
    int rc;

    rc = snn_parse_opts(argc, argv, &o);
    if (rc != 0) {
        return rc > 0 ? 0 : 2;
    }
    if (o.selftest) {
        return selftest_run() == 0 ? 0 : 1;
    }
    rc = snn_make_net(&o, &net, &t);
    if (rc != 0) {
        return rc;
    }
    if (o.cost_ab > 0 && snn_make_net(&o, &twin, &t) != 0) {
        net_free(net);
        return 1;
    }
    /* Before the segment exists: whoever sees it may signal us, and a TERM must still end
     * the run cleanly with its report. */
    snn_on_signals();
    if (!o.no_probe) {
        nctop_set_label(o.label != NULL ? o.label : "snn");
        probe = probe_new(net, t->name, &unpublished);
        if (probe == NULL) {
            fprintf(stderr, "snn: out of memory registering with nctop\n");
            net_free(net);
            return 1;
        }
        probe_publish_occupancy(net, t->max_neurons);
    }
    if (!o.quiet) {
        uint64_t synapses = 0;
        uint32_t cores = 0;

        for (int l = 0; l < net_layers(net); l++) {
            synapses += net_layer_synapses(net, l);
            cores += net_layer_cores(net, l);
        }
        fprintf(stderr,
                "snn: pid %d, %s network, %d layers, %" PRIu64 " synapses on %u %s cores, "
                "dt %g us\n",
                (int)getpid(), o.network, net_layers(net), synapses, cores, t->name, o.dt_us);
        if (unpublished > 0) {
            fprintf(stderr,
                    "snn: nctop's counter table is full: %u cores have no per-core counters "
                    "(their counts are in the layer totals and the report)\n",
                    unpublished);
        }
    }

    wall_ns = snn_run(&o, net, twin, probe, &tm);
    probe_flush(probe, net);

    rc = 0;
    if (o.report != NULL) {
        const struct report_meta meta = {
            .network = o.network, .seed = o.seed, .rate_hz = o.net.rate_hz, .stdp = o.stdp};
        int err = report_write(o.report, net, t, &meta);

        if (err != 0) {
            fprintf(stderr, "snn: cannot write the report %s: %s\n", o.report, strerror(-err));
            rc = 1;
        }
    }
    if (!o.quiet) {
        uint64_t steps = net_timestep(net);

        fprintf(stderr,
                "snn: %" PRIu64 " timesteps (%.3f s of model time) in %.3f s, %.2f us/timestep, "
                "%.2f us of CPU/timestep, estimated energy %.6g J on %s\n",
                steps, (double)steps * o.dt_us * 1e-6, (double)wall_ns * 1e-9,
                steps > 0 ? (double)wall_ns * 1e-3 / (double)steps : 0.0,
                steps > 0 ? (double)tm.cpu_ns * 1e-3 / (double)steps : 0.0,
                snn_energy_j(net, energy_model_find(t->name)), t->name);
        if (probe != NULL && tm.step_ns > 0) {
            fprintf(stderr,
                    "snn: instrumentation %.2f%% of a timestep (trimmed; %.2f%% untrimmed), nctop "
                    "%s, timed on every %dth timestep\n",
                    100.0 * snn_trimmed_share(&tm),
                    100.0 * (double)tm.probe_ns / (double)tm.step_ns,
                    nctop_attached() ? "attached" : "not attached", SNN_SAMPLE_EVERY);
        }
        if (o.cost_ab > 0 && tm.n_ab > 0) {
            fprintf(stderr,
                    "snn: instrumentation cost %.2f%% of a timestep (median of %u blocks of %llu "
                    "timesteps, each run with the probe and on a twin network without it, CPU "
                    "time), nctop %s\n",
                    100.0 * snn_ab_median(&tm), tm.n_ab < SNN_SAMPLES ? tm.n_ab : SNN_SAMPLES,
                    o.cost_ab, nctop_attached() ? "attached" : "not attached");
        }
        /* nothing is lost silently: say so when nctop could not keep up with us */
        if (nctop_dropped() > 0) {
            fprintf(stderr, "snn: %" PRIu64 " nctop events dropped\n", nctop_dropped());
        }
    }
    probe_free(probe);
    net_free(twin);
    net_free(net);
    /* returning from main lets libnctop's exit handler remove the segment */
    return rc;
}
