/* SPDX-License-Identifier: MIT */
/* libnctop next to LTTng-UST in one process, runs interleaved: ns per recorded LTTng-UST event
 * of the same shape (two integers and a short string; bench/lttng_tp.h) while a session
 * records it, and ns per libnctop span event while a real nctop is attached. bench/run starts
 * the session daemon and the session; without one enabling the tracepoint this prints SKIP. */
#define LTTNG_UST_TRACEPOINT_CREATE_PROBES
#define LTTNG_UST_TRACEPOINT_DEFINE
#include "bench/lttng_tp.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "bench/bench_attach.h"
#include "nctop.h"

#define LC_RUNS 9
#define LC_EVENTS 1000000ULL /* per run; the channel holds a whole run */
#define LC_RING_BYTES (64U << 20)

static __attribute__((noinline)) double lc_lttng_run(uint64_t events)
{
    uint64_t t0 = bench_cpu_ns();

    for (uint64_t i = 0; i < events; i++) {
        lttng_ust_tracepoint(nctop_bench, span, (uint32_t)i, i, "bench");
    }
    return (double)(bench_cpu_ns() - t0) / (double)events;
}

static __attribute__((noinline)) double lc_sdk_run(uint32_t id, uint64_t events)
{
    uint64_t t0 = bench_cpu_ns();

    for (uint64_t i = 0; i < events / 2; i++) {
        nctop_span_begin(id);
        nctop_span_end(id);
    }
    return (double)(bench_cpu_ns() - t0) / (double)events;
}

int main(void)
{
    struct nctop_opts opts = {.sz = sizeof(opts), .ring_bytes = LC_RING_BYTES, .max_threads = 4};
    double lt[LC_RUNS], sdk[LC_RUNS], l, s;
    struct nctop_seg_header *hdr = NULL;
    uint64_t deadline = bench_now_ns() + 10000000000ULL;
    char path[64];
    uint32_t id;
    pid_t nctop;
    FILE *f;

    /* The session daemon pushes the enabled event to us once we registered with it. */
    while (!lttng_ust_tracepoint_enabled(nctop_bench, span) && bench_now_ns() < deadline) {
        bench_sleep_ns(10000000);
    }
    if (!lttng_ust_tracepoint_enabled(nctop_bench, span)) {
        printf("SKIP: no LTTng-UST session records nctop_bench:span\n");
        return 77;
    }
    if (nctop_init(&opts) != 0 || (id = nctop_name("bench")) == 0) {
        printf("SKIP: libnctop did not initialise (NCTOP_DISABLE set?)\n");
        return 77;
    }
    /* The header only: enough to see who reads it. */
    snprintf(path, sizeof(path), "%s/%s%d", NCTOP_SEG_DIR, NCTOP_SEG_FILE_PREFIX, (int)getpid());
    f = fopen(path, "r+");
    if (f != NULL) {
        hdr = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fileno(f), 0);
        fclose(f);
    }
    if (hdr == NULL || hdr == MAP_FAILED) {
        printf("SKIP: cannot map this process's segment\n");
        return 77;
    }
    nctop = bench_nctop_attach(hdr, 600);
    if (nctop <= 0) {
        printf("SKIP: nctop did not attach\n");
        return 77;
    }
    lc_sdk_run(id, LC_EVENTS); /* warm up both */
    lc_lttng_run(LC_EVENTS);
    for (int i = 0; i < LC_RUNS; i++) {
        bench_sleep_ns(300000000); /* both readers drain: every run starts on empty buffers */
        lt[i] = lc_lttng_run(LC_EVENTS);
        sdk[i] = lc_sdk_run(id, LC_EVENTS);
    }
    bench_nctop_stop(nctop);
    l = bench_median(lt, LC_RUNS);
    s = bench_median(sdk, LC_RUNS);
    printf("BENCH lttng_ust_event %.2f ns (recorded, 2 integers + a short string)\n", l);
    printf("BENCH sdk_attached_event_vs_lttng %.2f ns baseline=%.2f ratio=%.3f (LTTng-UST is "
           "%.1fx libnctop; clock %s, %llu dropped)\n",
           s, l, s / l, l / s, hdr->clock == NCTOP_SEG_CLOCK_TSC ? "tsc" : "monotonic",
           (unsigned long long)nctop_dropped());
    return 0;
}
