/* SPDX-License-Identifier: MIT */
/* What libnctop costs the workload: ns per span event attached (next to a floor measured in
 * the same run), ns per call with no reader, and drops at 5 M events/s with a 10 ms reader. */
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

#include "nctop.h"
#include "src/libnctop/segment.h"

#define BENCH_RUNS 9
#define BENCH_PAIRS 1000000ULL        /* span begin + end pairs per attached run */
#define BENCH_IDLE_CALLS 200000000ULL /* calls per idle run */
#define BENCH_FLOOR_RING_BYTES (2U << 20)
#define BENCH_RATE_PER_S 5000000ULL

/* The in-process reader: what nctop does to the segment, every period_ns. */
struct bench_reader {
    struct nctop_seg_header *hdr;
    struct nctop_seg_ring *floor_ring; /* the floor loop's ring, drained the same way */
    uint64_t floor_bytes;
    uint64_t period_ns;
    atomic_bool stop;
    uint64_t records; /* records walked, so the drain touches the data as nctop would */
};

static uint64_t bench_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void bench_sleep_ns(uint64_t ns)
{
    struct timespec ts = {.tv_sec = (time_t)(ns / 1000000000ULL),
                          .tv_nsec = (long)(ns % 1000000000ULL)};

    nanosleep(&ts, NULL);
}

static int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

static double bench_median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), bench_cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

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
        uint32_t n = atomic_load_explicit(&r->hdr->rings_count, memory_order_acquire);
        struct nctop_seg_ring *ring;

        bench_sleep_ns(r->period_ns);
        atomic_store(&r->hdr->reader_heartbeat_ns, bench_now_ns());
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
    }
    return NULL;
}

/*
 * The floor: the least any ring tracer can do per event. Read CLOCK_MONOTONIC, check space
 * against a cached tail, store a 32-byte record, publish head with release order.
 */
static __attribute__((noinline)) double bench_floor_run(struct nctop_seg_ring *ring, uint64_t size,
                                                        uint64_t events)
{
    unsigned char *data = (unsigned char *)(ring + 1);
    uint64_t head = atomic_load_explicit(&ring->head, memory_order_relaxed);
    uint64_t tail = atomic_load_explicit(&ring->tail, memory_order_acquire);
    uint64_t t0 = bench_now_ns();

    for (uint64_t i = 0; i < events; i++) {
        struct timespec ts;
        uint64_t *rec;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        if (head + 32 - tail > size) {
            tail = atomic_load_explicit(&ring->tail, memory_order_acquire);
            if (head + 32 - tail > size) {
                continue;
            }
        }
        rec = (uint64_t *)(data + (head & (size - 1)));
        rec[0] = (4ULL << 16) | NCTOP_REC_KERNEL | ((uint64_t)i << 32);
        rec[1] = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
        rec[2] = i;
        rec[3] = 0;
        head += 32;
        atomic_store_explicit(&ring->head, head, memory_order_release);
    }
    return (double)(bench_now_ns() - t0) / (double)events;
}

static __attribute__((noinline)) double bench_sdk_run(uint32_t id, uint64_t pairs)
{
    uint64_t t0 = bench_now_ns();

    for (uint64_t i = 0; i < pairs; i++) {
        nctop_span_begin(id);
        nctop_span_end(id);
    }
    return (double)(bench_now_ns() - t0) / (double)(pairs * 2);
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
    uint64_t t0 = bench_now_ns();

    for (uint64_t i = 0; i < calls; i++) {
        g(id);
    }
    return (double)(bench_now_ns() - t0) / (double)calls;
}

static __attribute__((noinline)) double bench_idle_direct_run(uint32_t id, uint64_t calls)
{
    uint64_t t0 = bench_now_ns();

    for (uint64_t i = 0; i < calls; i++) {
        nctop_span_begin(id);
    }
    return (double)(bench_now_ns() - t0) / (double)calls;
}

/* NCTOP_SCOPE with nobody attached: the header's inline check, no call at all. Per event
 * (a scope is a begin and an end). */
static __attribute__((noinline)) double bench_idle_scope_run(uint64_t scopes)
{
    uint64_t t0 = bench_now_ns();

    for (uint64_t i = 0; i < scopes; i++) {
        NCTOP_SCOPE("idle_scope");
        __asm__ volatile("" : : : "memory");
    }
    return (double)(bench_now_ns() - t0) / (double)(scopes * 2);
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

static int bench_reader_start(struct bench_reader *r, pthread_t *th, uint64_t period_ns)
{
    r->period_ns = period_ns;
    atomic_store(&r->stop, false);
    atomic_store(&r->hdr->reader_heartbeat_ns, bench_now_ns());
    atomic_store(&r->hdr->reader_pid, (int32_t)getpid());
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

    if (bench_reader_start(r, &th, 10000000ULL) != 0) {
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
    double floor_ns[BENCH_RUNS], sdk_ns[BENCH_RUNS], idle_ns[BENCH_RUNS], empty_ns[BENCH_RUNS];
    double scope_ns[BENCH_RUNS];
    double shared_ns[BENCH_RUNS];
    struct bench_reader reader = {0};
    void (*shared)(uint32_t);
    double seconds = 30;
    void *floor_mem = NULL;
    pthread_t th;
    uint32_t id;
    double f, s;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
            seconds = atof(argv[++i]);
        } else {
            fprintf(stderr, "usage: sdk_cost [--seconds N]\n");
            return 2;
        }
    }
    if (nctop_init(NULL) != 0 || (id = nctop_name("bench")) == 0) {
        fprintf(stderr, "sdk_cost: libnctop did not initialise (NCTOP_DISABLE set?)\n");
        return 1;
    }
    reader.hdr = bench_map_own_segment();
    if (reader.hdr == NULL ||
        posix_memalign(&floor_mem, 4096, sizeof(struct nctop_seg_ring) + BENCH_FLOOR_RING_BYTES)) {
        fprintf(stderr, "sdk_cost: cannot map the segment or allocate the floor ring\n");
        return 1;
    }
    memset(floor_mem, 0, sizeof(struct nctop_seg_ring) + BENCH_FLOOR_RING_BYTES);
    reader.floor_ring = floor_mem;
    reader.floor_bytes = BENCH_FLOOR_RING_BYTES;

    /* Attached: floor and SDK runs interleaved, so both see the same machine noise. */
    if (bench_reader_start(&reader, &th, 1000000ULL) != 0) {
        fprintf(stderr, "sdk_cost: cannot start the reader thread\n");
        return 1;
    }
    bench_sdk_run(id, BENCH_PAIRS / 4); /* warm up: claim the ring, fault its pages */
    bench_floor_run(reader.floor_ring, BENCH_FLOOR_RING_BYTES, BENCH_PAIRS / 2);
    for (int i = 0; i < BENCH_RUNS; i++) {
        floor_ns[i] = bench_floor_run(reader.floor_ring, BENCH_FLOOR_RING_BYTES, BENCH_PAIRS * 2);
        sdk_ns[i] = bench_sdk_run(id, BENCH_PAIRS);
    }
    bench_reader_stop(&reader, th);
    f = bench_median(floor_ns, BENCH_RUNS);
    s = bench_median(sdk_ns, BENCH_RUNS);
    printf("BENCH sdk_floor_event %.2f ns\n", f);
    printf("BENCH sdk_attached_event %.2f ns baseline=%.2f ratio=%.3f\n", s, f, s / f);

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

    bench_sustained(&reader, id, seconds);
    free(floor_mem);
    return 0;
}
