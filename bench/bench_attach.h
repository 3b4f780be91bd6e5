/* SPDX-License-Identifier: MIT */
/* What the SDK benchmarks share: clocks, medians, the floor loops (a 32-byte ring store and
 * release, stamped with rdtsc or CLOCK_MONOTONIC) and a real nctop attached to this process
 * (started as `nctop -p <pid> --headless`, waited for until it owns the segment). */
#ifndef NCTOP_BENCH_BENCH_ATTACH_H
#define NCTOP_BENCH_BENCH_ATTACH_H

#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "src/libnctop/seg_clock.h"
#include "src/libnctop/segment.h"

static inline uint64_t bench_now_ns(void)
{
    return nctop_seg_mono_ns();
}

/* The calling thread's CPU time: what a run costs it, whatever else the machine runs (the
 * runs are timed with it, so that time spent descheduled on a loaded machine is not counted). */
static inline uint64_t bench_cpu_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static inline void bench_sleep_ns(uint64_t ns)
{
    struct timespec ts = {.tv_sec = (time_t)(ns / 1000000000ULL),
                          .tv_nsec = (long)(ns % 1000000000ULL)};

    nanosleep(&ts, NULL);
}

static inline int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

static inline double bench_median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), bench_cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/*
 * The floor: the least any ring tracer can do per event. Read the clock (rdtsc, or
 * CLOCK_MONOTONIC), check space against a cached tail, store a 32-byte record, publish head
 * with release order. Returns CPU ns per event.
 */
static inline __attribute__((always_inline)) double
bench_floor_loop(struct nctop_seg_ring *ring, uint64_t size, uint64_t events, bool tsc)
{
    unsigned char *data = (unsigned char *)(ring + 1);
    uint64_t head = atomic_load_explicit(&ring->head, memory_order_relaxed);
    uint64_t tail = atomic_load_explicit(&ring->tail, memory_order_acquire);
    uint64_t t0 = bench_cpu_ns();

    for (uint64_t i = 0; i < events; i++) {
        uint64_t ts = tsc ? nctop_seg_tsc() : nctop_seg_mono_ns();
        uint64_t *rec;

        if (head + 32 - tail > size) {
            tail = atomic_load_explicit(&ring->tail, memory_order_acquire);
            if (head + 32 - tail > size) {
                continue;
            }
        }
        rec = (uint64_t *)(data + (head & (size - 1)));
        rec[0] = (4ULL << 16) | NCTOP_REC_KERNEL | ((uint64_t)i << 32);
        rec[1] = ts;
        rec[2] = i;
        rec[3] = 0;
        head += 32;
        atomic_store_explicit(&ring->head, head, memory_order_release);
    }
    return (double)(bench_cpu_ns() - t0) / (double)events;
}

static __attribute__((noinline, unused)) double bench_floor_tsc(struct nctop_seg_ring *ring,
                                                                uint64_t size, uint64_t events)
{
    return bench_floor_loop(ring, size, events, true);
}

static __attribute__((noinline, unused)) double bench_floor_mono(struct nctop_seg_ring *ring,
                                                                 uint64_t size, uint64_t events)
{
    return bench_floor_loop(ring, size, events, false);
}

/* Consume a floor ring as a reader would (tail to head). */
static inline void bench_floor_drain(struct nctop_seg_ring *ring)
{
    atomic_store_explicit(&ring->tail, atomic_load_explicit(&ring->head, memory_order_acquire),
                          memory_order_release);
}

/*
 * Start the nctop next to this binary (build/nctop from build/bench/) watching this process,
 * headless, and wait (at most 10 s) until it is the segment's reader. Returns its pid, 0 when
 * it did not attach (it is then stopped), -1 when it could not be started.
 */
static inline pid_t bench_nctop_attach(const struct nctop_seg_header *hdr, double seconds)
{
    char exe[PATH_MAX], pidarg[16], dur[32];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 16);
    char *slash;
    pid_t pid;
    uint64_t deadline;

    if (n <= 0) {
        return -1;
    }
    exe[n] = '\0';
    slash = strrchr(exe, '/');
    if (slash == NULL) {
        return -1;
    }
    strcpy(slash + 1, "../nctop");
    snprintf(pidarg, sizeof(pidarg), "%d", (int)getpid());
    snprintf(dur, sizeof(dur), "%.0f", seconds);
    pid = fork();
    if (pid < 0) {
        return -1;
    }
    if (pid == 0) {
        if (freopen("/dev/null", "w", stdout) == NULL) {
            _exit(127);
        }
        execl(exe, exe, "-p", pidarg, "--headless", "--duration", dur, (char *)NULL);
        _exit(127);
    }
    deadline = bench_now_ns() + 10000000000ULL;
    while (atomic_load(&hdr->reader_pid) != (int32_t)pid && bench_now_ns() < deadline) {
        bench_sleep_ns(10000000);
    }
    if (atomic_load(&hdr->reader_pid) != (int32_t)pid) {
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
        return 0;
    }
    return pid;
}

static inline void bench_nctop_stop(pid_t pid)
{
    if (pid > 0) {
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
    }
}

#endif /* NCTOP_BENCH_BENCH_ATTACH_H */
