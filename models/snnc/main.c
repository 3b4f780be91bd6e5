/* SPDX-License-Identifier: MIT */
/* snnc: a compiler of spiking networks for the runtime (snn). Compiles a description for a
 * target into an image snn --image runs; or, with --loop, every description of a directory
 * for every target, over and over, keeping the last good image (the demo's workload). */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nctop.h>

#include "compile.h"
#include "models/snn/target.h"
#include "probe.h"
#include "report.h"

#define SNNC_MAX_FILES 256
#define SNNC_MAX_TARGETS 8
#define SNNC_REPORT_KEEP 1000 /* compilations the report lists (all are counted) */

struct snnc_opts {
    const char *target;
    const char *targets; /* --loop */
    const char *image_out;
    const char *report;
    const char *loop_dir;
    const char *file;
    uint64_t anneal_iters;
    uint64_t place_seed;
    bool place_seed_set;
    unsigned long long pause_ms;
    unsigned long long rounds;
    double wait_attach_s;
    bool quiet;
};

enum snnc_opt {
    SNNC_OPT_TARGET = 256,
    SNNC_OPT_TARGETS,
    SNNC_OPT_IMAGE_OUT,
    SNNC_OPT_REPORT,
    SNNC_OPT_LOOP,
    SNNC_OPT_ANNEAL_ITERS,
    SNNC_OPT_PLACE_SEED,
    SNNC_OPT_PAUSE_MS,
    SNNC_OPT_ROUNDS,
    SNNC_OPT_WAIT_ATTACH,
    SNNC_OPT_QUIET,
};

static const struct option snnc_long_opts[] = {
    {"target", required_argument, NULL, SNNC_OPT_TARGET},
    {"targets", required_argument, NULL, SNNC_OPT_TARGETS},
    {"image-out", required_argument, NULL, SNNC_OPT_IMAGE_OUT},
    {"report", required_argument, NULL, SNNC_OPT_REPORT},
    {"loop", required_argument, NULL, SNNC_OPT_LOOP},
    {"anneal-iters", required_argument, NULL, SNNC_OPT_ANNEAL_ITERS},
    {"place-seed", required_argument, NULL, SNNC_OPT_PLACE_SEED},
    {"pause-ms", required_argument, NULL, SNNC_OPT_PAUSE_MS},
    {"rounds", required_argument, NULL, SNNC_OPT_ROUNDS},
    {"wait-attach", required_argument, NULL, SNNC_OPT_WAIT_ATTACH},
    {"quiet", no_argument, NULL, SNNC_OPT_QUIET},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static volatile sig_atomic_t snnc_stop;

static void snnc_on_signal(int sig)
{
    (void)sig;
    snnc_stop = 1;
}

static void snnc_usage(FILE *f)
{
    fprintf(f, "usage: snnc [options] FILE\n"
               "       snnc --loop DIR [options]\n"
               "Compile a spiking-network description (snnc(1)) for a neuromorphic target into\n"
               "an image that snn --image runs: parse, build, quantize, partition, place, route,\n"
               "emit, estimate; each pass is an nctop span.\n"
               "  -t, --target NAME    loihi2, spinnaker2, truenorth or cpu (loihi2)\n"
               "  -o, --image-out FILE write the image (--loop: the last good one)\n"
               "  --report FILE        write the compiler's JSON report (--loop: after each)\n"
               "  --anneal-iters N     placement iterations (default: 2000 per core, at most\n"
               "                       2000000 and 20 million neighbour visits; 0 keeps the\n"
               "                       runtime's row-major placement)\n"
               "  --place-seed N       the annealer's seed (the description's seed)\n"
               "  --loop DIR           compile every DIR/*.snn for every --targets, over and over\n"
               "  --targets LIST       --loop: comma-separated targets (all four)\n"
               "  --pause-ms N         --loop: pause after each compilation (500)\n"
               "  --rounds N           --loop: stop after N rounds, 0 = until SIGINT/SIGTERM (0)\n"
               "  --wait-attach S      before compiling, wait up to S seconds for nctop\n"
               "  --quiet              no summary lines on stderr\n"
               "  -h, --help           show this help\n"
               "Exit status: 0 compiled, 1 system error, 2 usage error, an invalid description\n"
               "or a network that does not fit the target.\n");
}

static bool snnc_ull(const char *opt, const char *arg, unsigned long long max,
                     unsigned long long *out)
{
    char *end;

    errno = 0;
    *out = strtoull(arg, &end, 10);
    if (errno != 0 || end == arg || *end != '\0' || arg[0] < '0' || arg[0] > '9' || *out > max) {
        fprintf(stderr, "snnc: --%s: expected an integer in 0..%llu, got '%s'\n", opt, max, arg);
        return false;
    }
    return true;
}

static bool snnc_target_ok(const char *name)
{
    if (target_find(name) != NULL) {
        return true;
    }
    fprintf(stderr, "snnc: unknown target '%s' (loihi2, spinnaker2, truenorth or cpu)\n", name);
    return false;
}

/* Returns 0 to run, 1 after --help, -1 on a usage error (reported). */
static int snnc_parse_opts(int argc, char **argv, struct snnc_opts *o)
{
    unsigned long long v;
    bool ok = true;
    char *end;
    int ch;

    opterr = 0;
    while (ok && (ch = getopt_long(argc, argv, "ht:o:", snnc_long_opts, NULL)) != -1) {
        switch (ch) {
        case 't':
        case SNNC_OPT_TARGET:
            o->target = optarg;
            ok = snnc_target_ok(optarg);
            break;
        case SNNC_OPT_TARGETS:
            o->targets = optarg;
            break;
        case 'o':
        case SNNC_OPT_IMAGE_OUT:
            o->image_out = optarg;
            break;
        case SNNC_OPT_REPORT:
            o->report = optarg;
            break;
        case SNNC_OPT_LOOP:
            o->loop_dir = optarg;
            break;
        case SNNC_OPT_ANNEAL_ITERS:
            ok = snnc_ull("anneal-iters", optarg, 1000000000ULL, &v);
            o->anneal_iters = v;
            break;
        case SNNC_OPT_PLACE_SEED:
            ok = snnc_ull("place-seed", optarg, UINT64_MAX, &v);
            o->place_seed = v;
            o->place_seed_set = true;
            break;
        case SNNC_OPT_PAUSE_MS:
            ok = snnc_ull("pause-ms", optarg, 3600000ULL, &o->pause_ms);
            break;
        case SNNC_OPT_ROUNDS:
            ok = snnc_ull("rounds", optarg, 1000000000ULL, &o->rounds);
            break;
        case SNNC_OPT_WAIT_ATTACH:
            errno = 0;
            o->wait_attach_s = strtod(optarg, &end);
            if (errno != 0 || end == optarg || *end != '\0' ||
                !(o->wait_attach_s >= 0.0 && o->wait_attach_s <= 3600.0)) {
                fprintf(stderr, "snnc: --wait-attach: expected seconds in 0..3600, got '%s'\n",
                        optarg);
                ok = false;
            }
            break;
        case SNNC_OPT_QUIET:
            o->quiet = true;
            break;
        case 'h':
            snnc_usage(stdout);
            return 1;
        default:
            if (optopt >= SNNC_OPT_TARGET || optopt == 't' || optopt == 'o') {
                fprintf(stderr, "snnc: %s needs a value (see --help)\n", argv[optind - 1]);
            } else {
                fprintf(stderr, "snnc: unknown option '%s' (see --help)\n", argv[optind - 1]);
            }
            return -1;
        }
    }
    if (!ok) {
        return -1;
    }
    if (o->loop_dir == NULL && optind + 1 != argc) {
        fprintf(stderr, "snnc: %s (see --help)\n",
                optind >= argc ? "no description to compile" : "one description at a time");
        return -1;
    }
    if (o->loop_dir != NULL && optind < argc) {
        fprintf(stderr, "snnc: --loop compiles its directory; unexpected '%s'\n", argv[optind]);
        return -1;
    }
    o->file = o->loop_dir == NULL ? argv[optind] : NULL;
    return 0;
}

static void snnc_summary(const struct compile_result *r)
{
    fprintf(stderr,
            "snnc: %s for %s: %u neurons, %" PRIu64 " synapses on %u cores; weights %s, RMS "
            "error %.3g%%; placement %.6g -> %.6g hops per inference (%" PRIu64 " of %" PRIu64
            " moves accepted); %" PRIu64 " routes; %.4g J and %.4g ms per "
            "inference; %" PRIu64 " bytes of image; %.3f ms\n",
            r->model, r->target, r->neurons, r->synapses, r->cores, r->qformat,
            100.0 * r->q_rms_rel, r->cost_before, r->cost_after, r->anneal_accepted,
            r->anneal_iters, r->routes, r->energy_j, r->latency_s * 1e3, r->image_bytes,
            (double)r->wall_ns * 1e-6);
}

/* Wait (bounded) until nctop consumes our events, so the first compilation's spans are seen. */
static void snnc_wait_attach(double seconds)
{
    const struct timespec ms = {.tv_nsec = 1000000};
    uint64_t until = nctop_now_ns() + (uint64_t)(seconds * 1e9);

    while (!nctop_attached() && nctop_now_ns() < until && !snnc_stop) {
        nanosleep(&ms, NULL);
    }
}

static int snnc_name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The .snn files of dir, sorted; returns their number or -errno. paths owned by the caller. */
static int snnc_list(const char *dir, char **paths, int max)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;

    if (d == NULL) {
        return -errno;
    }
    while ((e = readdir(d)) != NULL && n < max) {
        size_t len = strlen(e->d_name);

        if (len > 4 && strcmp(e->d_name + len - 4, ".snn") == 0) {
            size_t sz = strlen(dir) + len + 2;

            paths[n] = malloc(sz);
            if (paths[n] == NULL) {
                break;
            }
            snprintf(paths[n], sz, "%s/%s", dir, e->d_name);
            n++;
        }
    }
    closedir(d);
    qsort(paths, (size_t)n, sizeof(*paths), snnc_name_cmp);
    return n;
}

static int snnc_report(const struct snnc_opts *o, const struct report *rep)
{
    int rc;

    if (o->report == NULL) {
        return 0;
    }
    rc = report_write(rep, o->report);
    if (rc != 0) {
        fprintf(stderr, "snnc: cannot write the report %s: %s\n", o->report, strerror(-rc));
    }
    return rc;
}

static int snnc_loop(const struct snnc_opts *o, const struct compile_opts *base, struct report *rep)
{
    char *files[SNNC_MAX_FILES], list[256], *targets[SNNC_MAX_TARGETS], *save = NULL, *tok;
    int n_files = snnc_list(o->loop_dir, files, SNNC_MAX_FILES), n_targets = 0, rc = 0;
    const struct timespec pause = {.tv_sec = (time_t)(o->pause_ms / 1000),
                                   .tv_nsec = (long)(o->pause_ms % 1000) * 1000000L};

    if (n_files <= 0) {
        fprintf(stderr, "snnc: --loop %s: %s\n", o->loop_dir,
                n_files == 0 ? "no .snn descriptions there" : strerror(-n_files));
        return 2;
    }
    snprintf(list, sizeof(list), "%s",
             o->targets != NULL ? o->targets : "loihi2,spinnaker2,truenorth,cpu");
    for (tok = strtok_r(list, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
        if (!snnc_target_ok(tok) || n_targets == SNNC_MAX_TARGETS) {
            rc = 2;
            goto out;
        }
        targets[n_targets++] = tok;
    }
    if (n_targets == 0) {
        fprintf(stderr, "snnc: --targets: no target given\n");
        rc = 2;
        goto out;
    }
    for (unsigned long long round = 0; !snnc_stop && (o->rounds == 0 || round < o->rounds);
         round++) {
        for (int f = 0; f < n_files && !snnc_stop; f++) {
            for (int t = 0; t < n_targets && !snnc_stop; t++) {
                struct compile_opts co = *base;
                struct compile_result r;

                co.target = targets[t];
                compile_run(files[f], &co, &r);
                report_add(rep, &r);
                if (!o->quiet) {
                    if (r.ok) {
                        snnc_summary(&r);
                    } else {
                        fprintf(stderr, "snnc: %s\n", r.message);
                    }
                }
                if (snnc_report(o, rep) != 0) {
                    rc = 1;
                    goto out;
                }
                if (o->pause_ms > 0) {
                    nanosleep(&pause, NULL); /* a signal ends it early */
                }
            }
        }
    }
out:
    for (int f = 0; f < n_files; f++) {
        free(files[f]);
    }
    return rc;
}

int main(int argc, char **argv)
{
    struct snnc_opts o = {.target = "loihi2", .anneal_iters = UINT64_MAX, .pause_ms = 500};
    struct compile_opts co;
    struct compile_result r;
    struct report *rep = NULL;
    struct sigaction sa;
    int rc;

    rc = snnc_parse_opts(argc, argv, &o);
    if (rc != 0) {
        return rc > 0 ? 0 : 2;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = snnc_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    rep = report_new(SNNC_REPORT_KEEP);
    if (rep == NULL) {
        fprintf(stderr, "snnc: out of memory\n");
        return 1;
    }
    probe_init();
    if (o.wait_attach_s > 0.0) {
        snnc_wait_attach(o.wait_attach_s);
    }
    co = (struct compile_opts){.target = o.target,
                               .image_out = o.image_out,
                               .anneal_iters = o.anneal_iters,
                               .place_seed = o.place_seed,
                               .place_seed_set = o.place_seed_set};
    if (o.loop_dir != NULL) {
        rc = snnc_loop(&o, &co, rep);
        report_free(rep);
        return rc;
    }
    rc = compile_run(o.file, &co, &r);
    report_add(rep, &r);
    if (snnc_report(&o, rep) != 0) {
        report_free(rep);
        return 1;
    }
    report_free(rep);
    if (rc != 0) {
        fprintf(stderr, "snnc: %s\n", r.message);
        return rc == -EINVAL || rc == -ENOSPC ? 2 : 1;
    }
    if (!o.quiet) {
        snnc_summary(&r);
    }
    return 0;
}
