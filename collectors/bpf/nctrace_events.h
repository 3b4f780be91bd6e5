/* SPDX-License-Identifier: MIT */
/* Records shared by the eBPF programs (collectors/nctrace.bpf.c) and the bpf collector: the map
 * keys and values it reads, and the ring buffer events. Fixed-size types only. */
#ifndef NCTOP_COLLECTORS_TRACE_EVENTS_H
#define NCTOP_COLLECTORS_TRACE_EVENTS_H

#define NCTRACE_COMM_LEN 16
#define NCTRACE_MAX_PROCS 1024    /* watched processes */
#define NCTRACE_MAX_THREADS 16384 /* threads of watched processes (user space prunes exits) */
#define NCTRACE_MAX_SYSCALLS 8192 /* (process, syscall) pairs */
#define NCTRACE_RINGBUF_BYTES (8U << 20)

/* What the scheduler last did with a thread, and since when (nctrace_thread.since_ns). */
enum nctrace_state {
    NCTRACE_ST_UNKNOWN = 0,  /* not seen switching yet: the running interval is unknown */
    NCTRACE_ST_RUNNING = 1,  /* on a CPU */
    NCTRACE_ST_RUNNABLE = 2, /* preempted or woken: waiting in a run queue */
    NCTRACE_ST_BLOCKED = 3,  /* asleep (I/O, futex, sleep) until a wakeup */
};

/* One thread of a watched process; key: tid. Times in ns (CLOCK_MONOTONIC), counts since the
 * thread was first seen. The interval in progress (state, since_ns) is not yet added. */
struct nctrace_thread {
    __u32 tgid;
    __u32 state;          /* enum nctrace_state */
    __u64 since_ns;       /* when state began */
    __u64 oncpu_ns;       /* running */
    __u64 runq_ns;        /* runnable, waiting for a CPU */
    __u64 blocked_ns;     /* sleeping */
    __u64 vol_switches;   /* switched out while blocking */
    __u64 invol_switches; /* switched out while still runnable (preempted) */
    __u64 faults;         /* user page faults seen (page_fault_user) */
    __u64 min_flt;        /* the kernel's own counters, read at every switch out */
    __u64 maj_flt;
    __u64 sys_ts;  /* entry time of the syscall in progress, 0 if none */
    __u64 sys_arg; /* its length argument (mmap, munmap) */
    __s64 sys_nr;  /* its number */
    __u32 exited;  /* the thread has exited (set at its last switch or at exit) */
    char comm[NCTRACE_COMM_LEN];
};

/* Bits of nctrace_proc.flags. */
#define NCTRACE_PROC_FOLLOW 0x1U /* its children are watched too (with this flag) */

/* One watched process; key: tgid. Memory mapping growth in bytes. */
struct nctrace_proc {
    __u32 flags; /* NCTRACE_PROC_* */
    __u32 pad;
    __u64 mmap_bytes;   /* mapped by successful mmap calls */
    __u64 munmap_bytes; /* unmapped by successful munmap calls */
    __u64 brk_start;    /* the first program break seen, 0 before */
    __u64 brk_cur;      /* the latest */
};

/* Syscall statistics of one process; key: (tgid, nr). */
struct nctrace_sys_key {
    __u32 tgid;
    __u32 nr;
};

struct nctrace_sys_val {
    __u64 count;
    __u64 total_ns; /* entry to exit, including time blocked inside */
};

enum nctrace_event_type {
    NCTRACE_EV_ENTRY = 1,  /* a uprobe's function was entered; cookie: the probe index */
    NCTRACE_EV_RETURN = 2, /* it returned */
    NCTRACE_EV_USDT = 3,   /* a USDT probe fired; cookie: the probe index */
    NCTRACE_EV_EXIT = 4,   /* a thread exited (tid == tgid: the main thread) */
    NCTRACE_EV_FORK = 5,   /* a followed process made a child: tgid is the child, cookie the
                            * parent's tgid; the child is watched (and followed) from then */
    NCTRACE_EV_EXEC = 6,   /* a watched process ran a new program: comm is its name */
};

/* One ring buffer record. */
struct nctrace_event {
    __u32 type; /* enum nctrace_event_type */
    __u32 tgid;
    __u32 tid;
    __u32 cookie;
    __u64 ts_ns;
};

/* The record of a process event (FORK, EXEC, EXIT): the common part, then what the kernel
 * says of the process. For EXIT of the main thread, the figures of the whole process. */
struct nctrace_proc_event {
    struct nctrace_event base;
    __s32 exit_code; /* EXIT: the wait status (code << 8 | signal) */
    __u32 pad;
    __u64 cpu_ns;        /* EXIT: CPU time of the thread and of its exited siblings */
    __u64 maxrss_kb;     /* EXIT: peak RSS of the process (the kernel's, 0 if not yet set) */
    __u64 hiwater_pages; /* EXIT: the memory map's high-water RSS, in pages (0: none) */
    char comm[NCTRACE_COMM_LEN];
};

#endif /* NCTOP_COLLECTORS_TRACE_EVENTS_H */
