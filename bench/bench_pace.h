/* SPDX-License-Identifier: MIT */
/* Pacing for the bench workloads (emit, paths): emit bursts at a fixed mean rate. */
#ifndef NCTOP_BENCH_PACE_H
#define NCTOP_BENCH_PACE_H

#include <stdint.h>
#include <time.h>

static inline uint64_t pace_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Whether the next burst is due, emitted events after start at rate events/s: waits (at most
 * 1 ms, then returns 0 to be asked again) until it is; -1 once end has passed. */
static inline int pace_due(uint64_t start, uint64_t end, uint64_t emitted, double rate)
{
    uint64_t now = pace_now_ns(), due = start + (uint64_t)((double)emitted / rate * 1e9);

    if (now >= end) {
        return -1;
    }
    if (now < due) {
        struct timespec ts = {0, (long)(due - now < 1000000 ? due - now : 1000000)};

        nanosleep(&ts, NULL);
        return 0;
    }
    return 1;
}

#endif
