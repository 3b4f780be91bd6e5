/* SPDX-License-Identifier: MIT */
/* The store's system facts of a process, as the eBPF collector sees them from the kernel:
 * per-thread scheduler time and faults, per-syscall counts and time, mapping growth. Pure. */
#ifndef NCTOP_SRC_STORE_SYS_H
#define NCTOP_SRC_STORE_SYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store_proc;

#define STORE_SYS_NAME_LEN 16
#define STORE_SYS_MAX_SYSCALLS 512 /* distinct syscalls kept per process (x86-64 has < 512) */

/* Scheduler figures of one thread since it was first seen, in ns and counts. */
struct store_sched {
    uint64_t oncpu_ns;       /* running on a CPU */
    uint64_t runq_ns;        /* runnable, waiting in a run queue */
    uint64_t blocked_ns;     /* asleep: sleep, I/O, futex */
    uint64_t vol_switches;   /* switched out to block */
    uint64_t invol_switches; /* switched out while runnable (preempted) */
    uint64_t faults;         /* user page faults seen */
    uint64_t minor_faults;   /* the kernel's per-thread counters */
    uint64_t major_faults;
};

struct store_sys_thread {
    int32_t tid;
    bool exited;
    char name[STORE_SYS_NAME_LEN];
    struct store_sched sched;
};

struct store_sys_call {
    uint32_t nr;
    char name[24];
    uint64_t count;
    uint64_t total_ns; /* entry to exit */
};

/* A process's system facts (owned by its store_proc, created at the first set). */
struct store_sys {
    struct store_sys_thread *threads; /* in first-seen order */
    uint32_t nthreads;
    uint32_t threads_cap;
    struct store_sys_call *calls; /* in first-seen order */
    uint32_t ncalls;
    uint32_t calls_cap;
    bool mapped_valid;
    uint64_t mmap_bytes;   /* mapped by mmap since attaching */
    uint64_t munmap_bytes; /* unmapped by munmap */
    int64_t brk_bytes;     /* program break growth */
    uint64_t dropped;      /* collector events lost (a full BPF ring buffer) */
    bool dropped_valid;    /* dropped was ever set */
};

/* Set the absolute figures of thread tid (name copied, may be NULL; exited: it is gone but
 * stays listed). Beyond the store's max_threads thread records, counted invalid. */
void store_sys_thread_set(struct store_proc *p, int32_t tid, const char *name,
                          const struct store_sched *s, bool exited);
/* Set the absolute count and time of syscall nr (name copied). */
void store_sys_call_set(struct store_proc *p, uint32_t nr, const char *name, uint64_t count,
                        uint64_t total_ns);
/* Set the mapping growth since attaching. */
void store_sys_mapped_set(struct store_proc *p, uint64_t mmap_bytes, uint64_t munmap_bytes,
                          int64_t brk_bytes);
/* Set the number of collector events lost for this process's collector. */
void store_sys_dropped_set(struct store_proc *p, uint64_t dropped);

/* The facts of p, or NULL when no collector set any. Borrowed, valid until the next set. */
const struct store_sys *store_sys_get(const struct store_proc *p);

/* Free what p's facts own (called by the store when it frees p). NULL is a no-op. */
void store_sys_free(struct store_sys *s);

#endif /* NCTOP_SRC_STORE_SYS_H */
