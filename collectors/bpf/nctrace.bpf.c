/* SPDX-License-Identifier: MIT OR GPL-2.0 */
/* The eBPF side of the bpf collector: per-thread scheduler time, syscalls, page faults and
 * mapping growth of the watched processes only, plus uprobe/USDT hits as ring buffer events.
 * Only tp_btf and uprobes: no tracefs, no kprobes (see the collector for why). */
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/usdt.bpf.h>

#include "collectors/bpf/nctrace_events.h"

/* x86-64 syscall numbers the collector reads arguments of. */
#define NCTRACE_NR_MMAP 9
#define NCTRACE_NR_MUNMAP 11
#define NCTRACE_NR_BRK 12

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/* Events that found the ring buffer full. */
__u64 dropped = 0;
/* Children of followed processes that were not watched: the procs map was full. */
__u64 unfollowed = 0;

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, NCTRACE_MAX_PROCS);
    __type(key, __u32);
    __type(value, struct nctrace_proc);
} procs SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, NCTRACE_MAX_THREADS);
    __type(key, __u32);
    __type(value, struct nctrace_thread);
} threads SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, NCTRACE_MAX_SYSCALLS);
    __type(key, struct nctrace_sys_key);
    __type(value, struct nctrace_sys_val);
} syscalls SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, NCTRACE_RINGBUF_BYTES);
} events SEC(".maps");

/* The record of a thread of a watched process, created on first sight; NULL when the process
 * is not watched (the common case: one hash lookup per event system-wide) or the map is full. */
static struct nctrace_thread *nctrace_thread_get(__u32 tgid, __u32 tid)
{
    struct nctrace_thread *th, zero = {};

    if (bpf_map_lookup_elem(&procs, &tgid) == NULL) {
        return NULL;
    }
    th = bpf_map_lookup_elem(&threads, &tid);
    if (th != NULL) {
        return th;
    }
    zero.tgid = tgid;
    bpf_map_update_elem(&threads, &tid, &zero, BPF_NOEXIST);
    return bpf_map_lookup_elem(&threads, &tid);
}

/* Close the interval in progress into its bucket and start a new one in state st. */
static void nctrace_thread_move(struct nctrace_thread *th, __u32 st, __u64 now)
{
    __u64 d = th->since_ns != 0 && now > th->since_ns ? now - th->since_ns : 0;

    switch (th->state) {
    case NCTRACE_ST_RUNNING:
        th->oncpu_ns += d;
        break;
    case NCTRACE_ST_RUNNABLE:
        th->runq_ns += d;
        break;
    case NCTRACE_ST_BLOCKED:
        th->blocked_ns += d;
        break;
    default:
        break;
    }
    th->state = st;
    th->since_ns = now;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(nctrace_switch, bool preempt, struct task_struct *prev, struct task_struct *next,
             unsigned int prev_state)
{
    __u64 now = bpf_ktime_get_ns();
    struct nctrace_thread *th;

    th = nctrace_thread_get(prev->tgid, prev->pid);
    if (th != NULL) {
        /* Still runnable (preempted, or preempted before it could sleep) or going to sleep:
         * the kernel's own nvcsw/nivcsw rule. */
        if (preempt || prev_state == 0) {
            th->invol_switches++;
            nctrace_thread_move(th, NCTRACE_ST_RUNNABLE, now);
        } else {
            th->vol_switches++;
            nctrace_thread_move(th, NCTRACE_ST_BLOCKED, now);
        }
        if (prev_state & 0x80) { /* TASK_DEAD: its last switch */
            th->exited = 1;
        }
        th->min_flt = prev->min_flt;
        th->maj_flt = prev->maj_flt;
        bpf_probe_read_kernel_str(th->comm, sizeof(th->comm), prev->comm);
    }
    th = nctrace_thread_get(next->tgid, next->pid);
    if (th != NULL) {
        nctrace_thread_move(th, NCTRACE_ST_RUNNING, now);
    }
    return 0;
}

/* A sleeper becomes runnable: its blocked time ends, its run-queue wait begins. */
static int nctrace_wakeup(struct task_struct *p)
{
    struct nctrace_thread *th = nctrace_thread_get(p->tgid, p->pid);

    if (th != NULL && th->state != NCTRACE_ST_RUNNING) {
        nctrace_thread_move(th, NCTRACE_ST_RUNNABLE, bpf_ktime_get_ns());
        if (th->comm[0] == '\0') {
            bpf_probe_read_kernel_str(th->comm, sizeof(th->comm), p->comm);
        }
    }
    return 0;
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(nctrace_wakeup_tp, struct task_struct *p)
{
    return nctrace_wakeup(p);
}

SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(nctrace_wakeup_new, struct task_struct *p)
{
    return nctrace_wakeup(p);
}

/* A process event (FORK, EXEC, EXIT) of tgid/tid; the rest of the record is the caller's.
 * NULL when the ring buffer is full (counted). */
static struct nctrace_proc_event *nctrace_proc_event(__u32 type, __u32 tgid, __u32 tid)
{
    struct nctrace_proc_event *ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);

    if (ev == NULL) {
        __sync_fetch_and_add(&dropped, 1);
        return NULL;
    }
    __builtin_memset(ev, 0, sizeof(*ev));
    ev->base.type = type;
    ev->base.tgid = tgid;
    ev->base.tid = tid;
    ev->base.ts_ns = bpf_ktime_get_ns();
    return ev;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(nctrace_exit, struct task_struct *p)
{
    struct nctrace_thread *th = nctrace_thread_get(p->tgid, p->pid);
    struct nctrace_proc_event *ev;

    if (th == NULL) {
        return 0;
    }
    th->min_flt = p->min_flt;
    th->maj_flt = p->maj_flt;
    ev = nctrace_proc_event(NCTRACE_EV_EXIT, p->tgid, p->pid);
    if (ev == NULL) {
        return 0;
    }
    /* do_exit has set the code, and (when this thread ends the group) folded the memory
     * map's high-water mark into signal->maxrss, as wait4 reports it; the map itself may be
     * gone already. Threads that ended before are in sum_sched_runtime. */
    ev->exit_code = BPF_CORE_READ(p, exit_code);
    ev->cpu_ns =
        BPF_CORE_READ(p, se.sum_exec_runtime) + BPF_CORE_READ(p, signal, sum_sched_runtime);
    ev->maxrss_kb = BPF_CORE_READ(p, signal, maxrss);
    ev->hiwater_pages = BPF_CORE_READ(p, mm, hiwater_rss);
    bpf_probe_read_kernel_str(ev->comm, sizeof(ev->comm), p->comm);
    bpf_ringbuf_submit(ev, 0);
    return 0;
}

/* A followed process made a child process (not a thread): watch it too, with the same flag,
 * before it runs (this fires before the child is first woken). */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(nctrace_fork, struct task_struct *parent, struct task_struct *child)
{
    __u32 ptgid = parent->tgid, ctgid = child->tgid;
    struct nctrace_proc *pp = bpf_map_lookup_elem(&procs, &ptgid);
    struct nctrace_proc v = {.flags = NCTRACE_PROC_FOLLOW};
    struct nctrace_proc_event *ev;

    if (pp == NULL || !(pp->flags & NCTRACE_PROC_FOLLOW) || ctgid == ptgid) {
        return 0;
    }
    if (bpf_map_update_elem(&procs, &ctgid, &v, BPF_NOEXIST) != 0) {
        __sync_fetch_and_add(&unfollowed, 1);
        return 0;
    }
    ev = nctrace_proc_event(NCTRACE_EV_FORK, ctgid, child->pid);
    if (ev == NULL) {
        return 0; /* watched all the same; user space learns of it from its tables */
    }
    ev->base.cookie = ptgid;
    bpf_probe_read_kernel_str(ev->comm, sizeof(ev->comm), child->comm);
    bpf_ringbuf_submit(ev, 0);
    return 0;
}

/* A watched process ran a new program: its name (the new comm) for its label. */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(nctrace_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
    __u32 tgid = p->tgid;
    struct nctrace_proc_event *ev;

    if (bpf_map_lookup_elem(&procs, &tgid) == NULL) {
        return 0;
    }
    ev = nctrace_proc_event(NCTRACE_EV_EXEC, tgid, p->pid);
    if (ev == NULL) {
        return 0;
    }
    bpf_probe_read_kernel_str(ev->comm, sizeof(ev->comm), p->comm);
    bpf_ringbuf_submit(ev, 0);
    return 0;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(nctrace_sys_enter, struct pt_regs *regs, long id)
{
    __u64 pid_tgid = bpf_get_current_pid_tgid();
    struct nctrace_thread *th = nctrace_thread_get(pid_tgid >> 32, (__u32)pid_tgid);

    if (th == NULL) {
        return 0;
    }
    th->sys_nr = id;
    th->sys_ts = bpf_ktime_get_ns();
    th->sys_arg = 0;
    if (id == NCTRACE_NR_MMAP || id == NCTRACE_NR_MUNMAP) {
        th->sys_arg = BPF_CORE_READ(regs, si); /* the length: second argument */
    }
    return 0;
}

/* Mapping growth from a successful mmap, munmap or brk of process tgid. */
static void nctrace_account_map(__u32 tgid, __s64 nr, __u64 len, long ret)
{
    struct nctrace_proc *pr = bpf_map_lookup_elem(&procs, &tgid);

    if (pr == NULL) {
        return;
    }
    if (nr == NCTRACE_NR_MMAP && (unsigned long)ret < (unsigned long)-4095L) {
        __sync_fetch_and_add(&pr->mmap_bytes, len);
    } else if (nr == NCTRACE_NR_MUNMAP && ret == 0) {
        __sync_fetch_and_add(&pr->munmap_bytes, len);
    } else if (nr == NCTRACE_NR_BRK && ret > 0) {
        /* brk returns the break in force; the first one seen is the base of the growth. */
        if (pr->brk_start == 0) {
            pr->brk_start = ret;
        }
        pr->brk_cur = ret;
    }
}

SEC("tp_btf/sys_exit")
int BPF_PROG(nctrace_sys_exit, struct pt_regs *regs, long ret)
{
    __u64 pid_tgid = bpf_get_current_pid_tgid(), now;
    struct nctrace_thread *th = nctrace_thread_get(pid_tgid >> 32, (__u32)pid_tgid);
    struct nctrace_sys_key key = {};
    struct nctrace_sys_val *v, one = {};

    if (th == NULL || th->sys_ts == 0 || th->sys_nr < 0) {
        return 0; /* entered before we attached (or a restarted call) */
    }
    now = bpf_ktime_get_ns();
    key.tgid = pid_tgid >> 32;
    key.nr = (__u32)th->sys_nr;
    v = bpf_map_lookup_elem(&syscalls, &key);
    if (v == NULL) {
        bpf_map_update_elem(&syscalls, &key, &one, BPF_NOEXIST);
        v = bpf_map_lookup_elem(&syscalls, &key);
    }
    if (v != NULL) {
        __sync_fetch_and_add(&v->count, 1);
        __sync_fetch_and_add(&v->total_ns, now - th->sys_ts);
    }
    if (th->sys_nr == NCTRACE_NR_MMAP || th->sys_nr == NCTRACE_NR_MUNMAP ||
        th->sys_nr == NCTRACE_NR_BRK) {
        nctrace_account_map(key.tgid, th->sys_nr, th->sys_arg, ret);
    }
    th->sys_ts = 0;
    return 0;
}

SEC("tp_btf/page_fault_user")
int BPF_PROG(nctrace_fault, unsigned long address, struct pt_regs *regs, unsigned long error_code)
{
    __u64 pid_tgid = bpf_get_current_pid_tgid();
    struct nctrace_thread *th = nctrace_thread_get(pid_tgid >> 32, (__u32)pid_tgid);

    if (th != NULL) {
        th->faults++;
    }
    return 0;
}

/* One ring buffer event for the current thread; the probe is attached to watched pids only. */
static int nctrace_emit(__u32 type, __u32 cookie)
{
    __u64 pid_tgid = bpf_get_current_pid_tgid();
    struct nctrace_event *ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);

    if (ev == NULL) {
        __sync_fetch_and_add(&dropped, 1);
        return 0;
    }
    ev->type = type;
    ev->tgid = pid_tgid >> 32;
    ev->tid = (__u32)pid_tgid;
    ev->cookie = cookie;
    ev->ts_ns = bpf_ktime_get_ns();
    bpf_ringbuf_submit(ev, 0);
    return 0;
}

SEC("uprobe")
int BPF_KPROBE(nctrace_uentry)
{
    return nctrace_emit(NCTRACE_EV_ENTRY, (__u32)bpf_get_attach_cookie(ctx));
}

SEC("uretprobe")
int BPF_KRETPROBE(nctrace_ureturn)
{
    return nctrace_emit(NCTRACE_EV_RETURN, (__u32)bpf_get_attach_cookie(ctx));
}

SEC("usdt")
int BPF_USDT(nctrace_usdt)
{
    return nctrace_emit(NCTRACE_EV_USDT, (__u32)bpf_usdt_cookie(ctx));
}
