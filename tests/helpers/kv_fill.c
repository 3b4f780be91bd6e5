/* SPDX-License-Identifier: MIT */
/* A workload whose KV cache stays at a fill level, for the alert tests: a gauge "kv_cache" (a
 * KV cache) of 64 MiB held at PCT %, and a span "step" every 10 ms so it is live. SIGUSR1
 * drops the cache to 10 % (a request finished), SIGUSR2 fills it to PCT % again; SIGTERM or
 * SIGINT ends it. Usage: kv_fill PCT */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "nctop.h"

#define KV_CAPACITY (64ULL << 20)

static volatile sig_atomic_t kv_stop, kv_low;

static void kv_on_signal(int sig)
{
    if (sig == SIGUSR1) {
        kv_low = 1;
    } else if (sig == SIGUSR2) {
        kv_low = 0;
    } else {
        kv_stop = 1;
    }
}

int main(int argc, char **argv)
{
    struct timespec tick = {0, 10 * 1000 * 1000};
    double pct = argc > 1 ? atof(argv[1]) : 95;
    uint32_t kv, step;

    if (argc != 2 || !(pct >= 0 && pct <= 100)) {
        fprintf(stderr, "usage: kv_fill PCT\n");
        return 2;
    }
    signal(SIGTERM, kv_on_signal);
    signal(SIGINT, kv_on_signal);
    signal(SIGUSR1, kv_on_signal);
    signal(SIGUSR2, kv_on_signal);
    nctop_set_label("kv_fill");
    kv = nctop_gauge("kv_cache", NCTOP_MEM_KV_CACHE, 0);
    step = nctop_name("step");
    while (!kv_stop) {
        double level = kv_low ? 10 : pct;

        nctop_span_begin(step);
        nctop_gauge_set(kv, (uint64_t)((double)KV_CAPACITY * level / 100.0), KV_CAPACITY);
        nanosleep(&tick, NULL);
        nctop_span_end(step);
    }
    return 0;
}
