/* SPDX-License-Identifier: MIT */
/* What libnctop costs the workload: ns per span event with a real nctop attached, next to two
 * floors measured in the same run (rdtsc or CLOCK_MONOTONIC + a 32-byte ring store + release),
 * ns per call with no reader, and drops at 5 M events/s with a 10 ms reader. Runs are timed in
 * the thread's CPU time: on a loaded machine the time spent descheduled is not the SDK's. */
#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench_attach.h"
#include "nctop.h"
#include "src/libnctop/segment.h"

#define BENCH_RUNS 9
#define BENCH_PAIRS 1000000ULL        /* span begin + end pairs per attached run */
#define BENCH_IDLE_CALLS 200000000ULL /* calls per idle run */
/* Rings that hold a whole run: a reader that drains every 10 ms never makes a run drop. */
#define BENCH_RING_BYTES (64U << 20)
#define BENCH_FLOOR_RING_BYTES BENCH_RING_BYTES
#define BENCH_RATE_PER_S 5000000ULL

/* The in-process reader: what nctop does to the segment, every period_ns. */
struct bench_reader {
    struct nctop_seg_header *hdr;
    bool segment;                      /* drain the segment too (no nctop attached) */
    struct nctop_seg_ring *floor_ring; /* the floor loops' rings, drained the same way */
    struct nctop_seg_ring *floor_ring2;
    uint64_t floor_bytes;
    uint64_t period_ns;
    atomic_bool stop;
    uint64_t records; /* records walked, so the drain touches the data as nctop would */
};

/* Walk the published records of one ring and consume them. */
static uint64_t bench_drain_ring(struct nctop_seg_ring *ring, uint64_t size)
{
    const unsigned char *data = (const unsigned char *)(ring + 1);
    uint64_t tail = atomic_load_explicit(&ring->tail, memory_order_relaxed);
    uint64_t head = atomic_load_explicit(&ring->head, memory_order_acquire);
    uint64_t n = 0;

    while (tail < head) {
        const struct nctop_rec *rec = (const struct nctop_rec *)(data + (tail & (size - 1)));

        tail += (uint64_t)(rec->words ? rec->words : 1) * 8;
        n++;
    }
    atomic_store_explicit(&ring->tail, tail, memory_order_release);
    return n;
}

static void *bench_reader_main(void *arg)
{
    struct bench_reader *r = arg;

    while (!atomic_load(&r->stop)) {
        uint32_t n =
            r->segment ? atomic_load_explicit(&r->hdr->rings_count, memory_order_acquire) : 0;
        struct nctop_seg_ring *ring;

        bench_sleep_ns(r->period_ns);
        if (r->segment) {
            atomic_store(&r->hdr->reader_heartbeat_ns, bench_now_ns());
            atomic_store(&r->hdr->reader_heartbeat_tsc, nctop_seg_tsc());
        }
        for (uint32_t i = 0; i < n; i++) {
            ring = (struct nctop_seg_ring *)((char *)r->hdr + r->hdr->rings_off +
                                             (uint64_t)i * r->hdr->ring_stride);
            r->records += bench_drain_ring(ring, r->hdr->ring_bytes);
            /* Free what exited threads left, as nctop does. */
            if (atomic_load(&ring->state) == NCTOP_SEG_RING_RETIRED &&
                atomic_load(&ring->head) == atomic_load(&ring->tail)) {
                atomic_store(&ring->state, NCTOP_SEG_RING_FREE);
            }
        }
        if (r->floor_ring != NULL) {
            r->records += bench_drain_ring(r->floor_ring, r->floor_bytes);
        }
        if (r->floor_ring2 != NULL) {
            r->records += bench_drain_ring(r->floor_ring2, r->floor_bytes);
        }
    }
    return NULL;
}

static __attribute__((noinline)) double bench_sdk_run(uint32_t id, uint64_t pairs)
{
    uint64_t t0 = bench_cpu_ns();

    for (uint64_t i = 0; i < pairs; i++) {
        nctop_span_begin(id);
        nctop_span_end(id);
    }
    return (double)(bench_cpu_ns() - t0) / (double)(pairs * 2);
}

/* The smallest call the compiler cannot remove: the baseline of an idle SDK call. */
static __attribute__((noinline)) void bench_empty(uint32_t id)
{
    __asm__ volatile("" : : "r"(id) : "memory");
}

static __attribute__((noinline)) double bench_call_run(void (*fn)(uint32_t), uint32_t id,
                                                       uint64_t calls)
{
    void (*volatile f)(uint32_t) = fn;
    void (*g)(uint32_t) = f; /* one indirect call per iteration, like a call through the PLT */
    uint64_t t0 = bench_cpu_ns();

    for (uint64_t i = 0; i < calls; i++) {
        g(id);
    }
    return (double)(bench_cpu_ns() - t0) / (double)calls;
}

static __attribute__((noinline)) double bench_idle_direct_run(uint32_t id, uint64_t calls)
{
    uint64_t t0 = bench_cpu_ns();

    for (uint64_t i = 0; i < calls; i++) {
        nctop_span_begin(id);
    }
    return (double)(bench_cpu_ns() - t0) / (double)calls;
}

/* NCTOP_SCOPE with nobody attached: the header's inline check, no call at all. Per event
 * (a scope is a begin and an end). */
static __attribute__((noinline)) double bench_idle_scope_run(uint64_t scopes)
{
    uint64_t t0 = bench_cpu_ns();

    for (uint64_t i = 0; i < scopes; i++) {
        NCTOP_SCOPE("idle_scope");
        __asm__ volatile("" : : : "memory");
    }
    return (double)(bench_cpu_ns() - t0) / (double)(scopes * 2);
}

/* The shared library next to this binary (build/lib/libnctop.so from build/bench/): its
 * nctop_span_begin, called through a pointer as a PLT call would. Never initialised, so idle. */
static void (*bench_shared_span_begin(void))(uint32_t)
{
    char path[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 32);
    char *slash;
    void *so;
    void *sym;
    void (*fn)(uint32_t);

    if (n <= 0) {
        return NULL;
    }
    path[n] = '\0';
    slash = strrchr(path, '/');
    if (slash == NULL) {
        return NULL;
    }
    strcpy(slash + 1, "../lib/libnctop.so");
    so = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (so == NULL) {
        return NULL;
    }
    sym = dlsym(so, "nctop_span_begin");
    memcpy(&fn, &sym, sizeof(fn));
    return fn;
}

static struct nctop_seg_header *bench_map_own_segment(void)
{
    char path[64];
    struct stat st;
    void *map;
    int fd;

    snprintf(path, sizeof(path), "%s/%s%d", NCTOP_SEG_DIR, NCTOP_SEG_FILE_PREFIX, (int)getpid());
    fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        return NULL;
    }
    if (fstat(fd, &st) < 0) {
        close(fd);
        return NULL;
    }
    map = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    return map == MAP_FAILED ? NULL : map;
}

/* The in-process reader: drains the floor rings and, with segment, plays nctop on the
 * segment (heartbeat in both clocks, reader_pid). */
static int bench_reader_start(struct bench_reader *r, pthread_t *th, uint64_t period_ns,
                              bool segment)
{
    r->period_ns = period_ns;
    r->segment = segment;
    atomic_store(&r->stop, false);
    if (segment) {
        atomic_store(&r->hdr->reader_heartbeat_ns, bench_now_ns());
        atomic_store(&r->hdr->reader_heartbeat_tsc, nctop_seg_tsc());
        atomic_store(&r->hdr->reader_pid, (int32_t)getpid());
    }
    return pthread_create(th, NULL, bench_reader_main, r);
}

static void bench_reader_stop(struct bench_reader *r, pthread_t th)
{
    atomic_store(&r->stop, true);
    pthread_join(th, NULL);
}

/* Emit span events at rate_per_s for seconds; the reader drains every 10 ms. */
static void bench_sustained(struct bench_reader *r, uint32_t id, double seconds)
{
    uint64_t dropped0 = nctop_dropped();
    uint64_t t0, dur_ns = (uint64_t)(seconds * 1e9), sent = 0, now;
    pthread_t th;

    if (bench_reader_start(r, &th, 10000000ULL, true) != 0) {
        fprintf(stderr, "sdk_cost: cannot start the reader thread\n");
        return;
    }
    t0 = bench_now_ns();
    while ((now = bench_now_ns()) - t0 < dur_ns) {
        uint64_t due = (now - t0) * BENCH_RATE_PER_S / 1000000000ULL;

        if (sent >= due) {
            bench_sleep_ns(50000); /* ahead of schedule: let the time catch up */
            continue;
        }
        for (int i = 0; i < 500; i++) {
            nctop_span_begin(id);
            nctop_span_end(id);
        }
        sent += 1000;
    }
    now = bench_now_ns();
    bench_reader_stop(r, th);
    printf("BENCH sdk_sustained_rate %.2f Mevents/s\n", (double)sent / ((double)(now - t0) / 1e3));
    printf("BENCH sdk_sustained_drops %llu events\n",
           (unsigned long long)(nctop_dropped() - dropped0));
}

int main(int argc, char **argv)
{
    double floor_ns[BENCH_RUNS], mono_ns[BENCH_RUNS], sdk_ns[BENCH_RUNS], idle_ns[BENCH_RUNS];
    double empty_ns[BENCH_RUNS], scope_ns[BENCH_RUNS], shared_ns[BENCH_RUNS];
    struct nctop_opts opts = {.sz = sizeof(opts), .ring_bytes = BENCH_RING_BYTES, .max_threads = 4};
    struct bench_reader reader = {0};
    void (*shared)(uint32_t);
    double seconds = 30;
    void *floor_mem = NULL, *floor_mem2 = NULL;
    uint64_t dropped0, dropped;
    size_t floor_size = sizeof(struct nctop_seg_ring) + BENCH_FLOOR_RING_BYTES;
    pthread_t th;
    pid_t nctop;
    uint32_t id;
    double f, m, s;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
            seconds = atof(argv[++i]);
        } else {
            fprintf(stderr, "usage: sdk_cost [--seconds N]\n");
            return 2;
        }
    }
    if (nctop_init(&opts) != 0 || (id = nctop_name("bench")) == 0) {
        fprintf(stderr, "sdk_cost: libnctop did not initialise (NCTOP_DISABLE set?)\n");
        return 1;
    }
    reader.hdr = bench_map_own_segment();
    if (reader.hdr == NULL || posix_memalign(&floor_mem, 4096, floor_size) ||
        posix_memalign(&floor_mem2, 4096, floor_size)) {
        fprintf(stderr, "sdk_cost: cannot map the segment or allocate the floor rings\n");
        return 1;
    }
    memset(floor_mem, 0, floor_size);
    memset(floor_mem2, 0, floor_size);
    reader.floor_ring = floor_mem;
    reader.floor_ring2 = floor_mem2;
    reader.floor_bytes = BENCH_FLOOR_RING_BYTES;

    /* Attached: a real nctop drains the segment (the in-process reader only the floors'
     * rings); the three loops interleaved, so they see the same machine noise. */
    nctop = bench_nctop_attach(reader.hdr, 600);
    if (bench_reader_start(&reader, &th, 1000000ULL, nctop <= 0) != 0) {
        fprintf(stderr, "sdk_cost: cannot start the reader thread\n");
        return 1;
    }
    bench_sdk_run(id, BENCH_PAIRS); /* warm up: claim the ring, fault its pages */
    bench_floor_tsc(reader.floor_ring, BENCH_FLOOR_RING_BYTES, BENCH_PAIRS * 2);
    bench_floor_mono(reader.floor_ring2, BENCH_FLOOR_RING_BYTES, BENCH_PAIRS * 2);
    dropped0 = nctop_dropped();
    for (int i = 0; i < BENCH_RUNS; i++) {
        floor_ns[i] = bench_floor_tsc(reader.floor_ring, BENCH_FLOOR_RING_BYTES, BENCH_PAIRS * 2);
        mono_ns[i] = bench_floor_mono(reader.floor_ring2, BENCH_FLOOR_RING_BYTES, BENCH_PAIRS * 2);
        sdk_ns[i] = bench_sdk_run(id, BENCH_PAIRS);
        bench_sleep_ns(20000000); /* nctop drains the run: each starts on an empty ring */
    }
    dropped = nctop_dropped() - dropped0;
    bench_reader_stop(&reader, th);
    f = bench_median(floor_ns, BENCH_RUNS);
    m = bench_median(mono_ns, BENCH_RUNS);
    s = bench_median(sdk_ns, BENCH_RUNS);
    printf("BENCH sdk_floor_tsc_event %.2f ns (rdtsc + 32-byte store + release)\n", f);
    printf("BENCH sdk_floor_mono_event %.2f ns (CLOCK_MONOTONIC + 32-byte store + release)\n", m);
    printf("BENCH sdk_attached_event %.2f ns baseline=%.2f ratio=%.3f (vs the rdtsc floor; clock "
           "%s, reader %s, %llu dropped)\n",
           s, f, s / f, reader.hdr->clock == NCTOP_SEG_CLOCK_TSC ? "tsc" : "monotonic",
           nctop > 0 ? "nctop" : "in-process (nctop did not attach)", (unsigned long long)dropped);
    printf("BENCH sdk_attached_vs_mono_floor %.2f ns baseline=%.2f ratio=%.3f\n", s, m, s / m);
    fflush(stdout);
    bench_nctop_stop(nctop);

    /* Idle: no reader, so every call is one load and a branch. */
    atomic_store(&reader.hdr->reader_pid, 0);
    shared = bench_shared_span_begin();
    for (int i = 0; i < BENCH_RUNS; i++) {
        empty_ns[i] = bench_call_run(bench_empty, id, BENCH_IDLE_CALLS);
        idle_ns[i] = bench_idle_direct_run(id, BENCH_IDLE_CALLS);
        shared_ns[i] = shared != NULL ? bench_call_run(shared, id, BENCH_IDLE_CALLS) : 0;
        scope_ns[i] = bench_idle_scope_run(BENCH_IDLE_CALLS / 2);
    }
    f = bench_median(empty_ns, BENCH_RUNS);
    s = bench_median(idle_ns, BENCH_RUNS);
    printf("BENCH sdk_idle_call %.3f ns baseline=%.3f ratio=%.3f\n", s, f, s / f);
    if (shared != NULL) {
        s = bench_median(shared_ns, BENCH_RUNS);
        printf("BENCH sdk_idle_call_shared %.3f ns baseline=%.3f ratio=%.3f\n", s, f, s / f);
    }
    s = bench_median(scope_ns, BENCH_RUNS);
    printf("BENCH sdk_idle_scope_event %.3f ns baseline=%.3f ratio=%.3f\n", s, f, s / f);
    fflush(stdout);

    reader.floor_ring = NULL;
    reader.floor_ring2 = NULL;
    bench_sustained(&reader, id, seconds);
    free(floor_mem);
    free(floor_mem2);
    return 0;
}
