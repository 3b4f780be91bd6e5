/* SPDX-License-Identifier: MIT */
/* The ring collector: finds libnctop segments in /dev/shm, validates and maps them, drains the
 * per-thread rings into the store and mirrors names, gauges, weights and counters. */
#ifndef NCTOP_COLLECTORS_RING_H
#define NCTOP_COLLECTORS_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;
struct ring_source;

/* Which segments to attach. With neither pids nor root_pid: every segment of this user. */
struct ring_source_opts {
    const int32_t *pids; /* borrowed for the source's lifetime; NULL = any */
    size_t npids;
    int32_t root_pid;    /* > 0: only this process and its descendants (nctop -- CMD) */
    size_t max_segments; /* segments mapped or remembered at once; 0 (or above 4096): 4096 */
};

/* Counters of the source itself, for the status line and the tests. */
struct ring_source_stats {
    uint64_t attached;      /* segments attached so far */
    uint64_t refused;       /* segments refused (bad owner, version, layout) */
    uint64_t stale_removed; /* segments of dead processes removed */
    uint64_t records;       /* records decoded */
    uint64_t invalid;       /* records or entries rejected */
    uint64_t refused_limit; /* attach attempts refused: max_segments reached */
    uint64_t forgotten;     /* exited workloads aged out (store exited_keep_ns) */
    size_t live;            /* segments currently mapped */
    size_t remembered;      /* segments mapped or remembered (<= max_segments) */
    size_t max_segments;    /* the limit in force */
    char last_error[160];   /* the latest refusal or failure, "" if none */
};

/* Create a source feeding st (borrowed, must outlive the source). opts is copied (the pid
 * array stays borrowed). Returns an owned source (ring_source_free). */
struct ring_source *ring_source_new(struct store *st, const struct ring_source_opts *opts);

/* Unregister as the reader of every segment (the workloads stop writing events), unmap and
 * free. NULL is a no-op. */
void ring_source_free(struct ring_source *rs);

/* Look for new segments and dead workloads; forget workloads that exited longer ago than the
 * store's exited_keep_ns (never the pids named in opts), removing their store rows; remove
 * the segments of dead processes. Past max_segments a "(segment limit)" error row (pid 0)
 * says how many workloads were not attached. Non-blocking (reads /dev/shm and /proc). */
void ring_source_scan(struct ring_source *rs, uint64_t now_ns);

/* Drain every attached ring into the store and refresh the segment facts (names, gauges,
 * weights, counters, drops). Bounded work: at most one ring's worth of records per ring.
 * Returns the number of records decoded. */
uint64_t ring_source_drain(struct ring_source *rs, uint64_t now_ns);

/* The fullest ring's fill at the last drain, as a fraction of its size (0 when nothing was
 * waiting): what the drain period adapts to. */
double ring_source_fill(const struct ring_source *rs);

/* The drain cadence. A ring is drained when it is expected to be RING_FILL_TARGET full at the
 * peak fill rate seen lately (the fill over the time since the last drain; the peak decays
 * with a half-life of RING_PEAK_HALF_LIFE_MS, so a bursty workload keeps a short period
 * between its bursts), so a busy workload is drained often enough to lose nothing and an idle
 * one wakes nctop a few times a second at most. With no fill seen the period doubles. Pure. */
#define RING_DRAIN_MIN_MS 1
#define RING_DRAIN_MAX_MS 200
#define RING_FILL_TARGET 0.25
#define RING_PEAK_HALF_LIFE_MS 2000.0

struct ring_cadence {
    double peak;        /* ring fills per ms, decaying */
    uint64_t period_ms; /* the period in force */
};

void ring_cadence_init(struct ring_cadence *c);
/* The period after a drain that found the fullest ring fill full (0..1), elapsed_ns after
 * the previous one. */
uint64_t ring_cadence_next(struct ring_cadence *c, uint64_t elapsed_ns, double fill);

/* A workload this source watches has exited (for example a child reported by the loop):
 * drain it one last time, mark it exited with reason (copied; NULL if unknown), unmap it. */
void ring_source_proc_exited(struct ring_source *rs, int32_t pid, uint64_t now_ns,
                             const char *reason);

/* Whether a segment for pid is attached (or was, and its workload exited, and it is not
 * forgotten yet). */
bool ring_source_has_pid(const struct ring_source *rs, int32_t pid);

/* Number of segments mapped right now (live workloads). */
size_t ring_source_live(const struct ring_source *rs);

void ring_source_get_stats(const struct ring_source *rs, struct ring_source_stats *out);

/* The clock libnctop stamps events with on this machine (for the commands nctop starts: its
 * NCTOP_CLOCK counts), "tsc" or "monotonic"; *why (may be NULL) gets a static phrase saying
 * why the TSC is not used, or NULL. Reads /proc/cpuinfo and
 * the clocksource: setup and --version only. */
const char *ring_clock_in_use(const char **why);

#endif /* NCTOP_COLLECTORS_RING_H */
