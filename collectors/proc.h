/* SPDX-License-Identifier: MIT */
/* The proc collector: host facts of every live watched process (RSS, peak RSS, CPU time)
 * read from /proc into the store. */
#ifndef NCTOP_COLLECTORS_PROC_H
#define NCTOP_COLLECTORS_PROC_H

#include <stdbool.h>
#include <stdint.h>

struct store;
struct store_proc;

/* Host facts of one process. */
struct proc_sample {
    uint64_t rss_bytes;
    uint64_t rss_peak_bytes;
    uint64_t cpu_time_ns; /* user + system */
    uint64_t start_ticks; /* when it started (clock ticks since boot): which process of the pid */
    uint32_t threads;
};

/* Read the facts of pid from /proc. Returns 0 or -errno (-ENOENT: gone). */
int proc_read(int32_t pid, struct proc_sample *out);

/* Sample every live process of st into the store. Non-blocking (reads /proc). */
void proc_collect(struct store *st, uint64_t now_ns);

#endif /* NCTOP_COLLECTORS_PROC_H */
