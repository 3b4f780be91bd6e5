/* SPDX-License-Identifier: MIT */
/* The bpf collector: libbpf CO-RE programs that watch processes which link nothing, feeding
 * per-thread scheduler time, syscalls, faults, mapping growth and uprobe/USDT spans into the
 * store. The loop polls bpf_source_fd() and calls bpf_source_drain(). */
#ifndef NCTOP_COLLECTORS_BPF_H
#define NCTOP_COLLECTORS_BPF_H

#include <stddef.h>
#include <stdint.h>

struct store;
struct bpf_source;

/* What to probe besides the scheduler, syscalls and faults. Arrays and strings are borrowed
 * for the source's lifetime. */
struct bpf_source_opts {
    const char *const *uprobes; /* "BINARY:SYMBOL": each call becomes a span */
    size_t nuprobes;
    const char *const *usdts; /* "BINARY:PROVIDER:NAME": counted; *_begin/_end pairs as spans */
    size_t nusdts;
};

/* Counters of the source, for the status line and the tests. */
struct bpf_source_stats {
    uint64_t events;      /* ring buffer records read */
    uint64_t dropped;     /* records lost to a full ring buffer */
    uint64_t attached;    /* processes watched so far */
    uint64_t probes;      /* uprobe and USDT attachments made */
    uint64_t failed;      /* attachments that failed (see last_error) */
    uint64_t descendants; /* child processes followed so far */
    uint64_t unfollowed;  /* child processes not followed: the kernel's table was full */
    char last_error[200];
};

/* Load and attach the programs (filtered to no process yet). Returns an owned source
 * (bpf_source_free), or NULL with *err set to one line saying what is missing and how to fix
 * it (owned by the caller, free()). st is borrowed and must outlive the source. */
struct bpf_source *bpf_source_new(struct store *st, const struct bpf_source_opts *opts, char **err);

/* Detach everything (the watched processes run on unharmed) and free. NULL is a no-op. */
void bpf_source_free(struct bpf_source *bs);

/* Watch pid and follow its descendants: filter it in the kernel, attach the probes to it,
 * and give it a store process if it has none (labelled with its comm). Every process it
 * starts from now on is watched from its fork (threads, syscalls, faults, not the probes)
 * and becomes a store process with pid as its parent, labelled with the program it runs;
 * at most NCTRACE_MAX_PROCS are watched at once (the rest are counted in unfollowed). Only a
 * process the real user may trace (util_may_trace) is watched. Returns 0, or -errno (-ESRCH: no
 * such process; -EPERM: not ours to watch, the reason in last_error). A probe that does not attach
 * is counted in failed with its reason in last_error; the watch goes on without it. */
int bpf_source_watch(struct bpf_source *bs, int32_t pid, uint64_t now_ns);

/* The same (following its descendants) for a command nctop started, named name (it may still be in
 * its gate, not yet itself): its store process is the one its libnctop segment brings if one
 * appears within a second of its probes being attached (its events wait meanwhile, so that its
 * probe spans and libnctop spans merge in time order), else a new one. nctop started it for the
 * real user: no ptrace check. */
int bpf_source_watch_child(struct bpf_source *bs, int32_t pid, const char *name, uint64_t now_ns);

/* Watch every live process of the store not yet watched (without following), then read the kernel's
 * per-thread, syscall and mapping tables into the store. Non-blocking; bounded by the map sizes. */
void bpf_source_sync(struct bpf_source *bs, uint64_t now_ns);

/* The descriptor that becomes readable when events wait (the ring buffer's epoll fd). */
int bpf_source_fd(const struct bpf_source *bs);

/* Read the waiting events into the store without blocking. Returns events read or -errno. */
int bpf_source_drain(struct bpf_source *bs);

void bpf_source_get_stats(const struct bpf_source *bs, struct bpf_source_stats *out);

/* The command nctop started (watched with bpf_source_watch_child) ended, and its libnctop
 * segment, if it had one, was read: its held events go to the store now. */
void bpf_source_child_exited(struct bpf_source *bs, int32_t pid, uint64_t now_ns);

#endif /* NCTOP_COLLECTORS_BPF_H */
