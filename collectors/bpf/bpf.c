/* SPDX-License-Identifier: MIT */
/* The bpf collector: loads collectors/nctrace.bpf.c, keeps the kernel's filter (the procs map)
 * in step with the watched processes, turns ring buffer events into spans and counters, and
 * copies the kernel-side tables (threads, syscalls, mappings) into the store on each sync.
 * The command and -p processes are followed: the kernel watches each child they make from its
 * fork, and each becomes a store process of its own (its parent recorded, labelled by the
 * program it runs), kept for the store's exited_keep_ns after it ends. */
#include "collectors/bpf/bpf.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/capability.h>
#include <linux/types.h>

#include "collectors/bpf/nctrace_events.h"
#include "collectors/collector.h"
#include "nctrace.skel.h"
#include "src/config.h"

#include "src/base/diag.h"
#include "src/base/util.h"
#include "src/base/xalloc.h"
#include "src/model/store.h"
#include "src/model/store_sys.h"

#define BPF_BTF_PATH "/sys/kernel/btf/vmlinux"
#define BPF_CAP_PERFMON 38 /* not in every linux/capability.h this builds against */
#define BPF_CAP_BPF 39
#define BPF_MAX_PROBES 256
#define BPF_PENDING_MAX 65536U   /* events held for a command whose segment is awaited */
#define BPF_MAX_EXITED_KIDS 1024 /* ended descendants kept at most (the oldest go first) */
/* A record reserved in the ring buffer before a drain but committed after it is read at the
 * next one: the drain vouches only for events older than this (a probe program runs for
 * microseconds; so does the wakeup that says the buffer is not empty). */
#define BPF_CLOCK_SLACK_NS 2000000ULL

/* One --uprobe or --usdt request. */
struct bpf_probe {
    bool usdt;
    char *binary;
    char *symbol;   /* uprobe: the function; usdt: the probe name */
    char *provider; /* usdt only */
    char *counter;  /* usdt: the counter name ("usdt:PROVIDER:NAME") */
    char *span;     /* the span name: the symbol, or a usdt pair's stem; NULL: count only */
    int span_dir;   /* +1 begins the span, -1 ends it, 0 neither */
};

struct bpf_thread_ref {
    int32_t tid;
    struct store_thread *t;
};

/* One watched process and what was attached to it. */
struct bpf_watch {
    int32_t pid;
    struct store_proc *proc; /* NULL until bound (bpf_watch_bind) */
    char comm[64];           /* the label if we create its store process */
    uint64_t start_ticks;    /* which process of that pid (0 = unknown) */
    uint64_t since_ns;       /* when the watch began (its probes attached) */
    bool wait_segment;       /* a command we started: give its libnctop time to publish */
    bool follow;             /* its children are watched too (the kernel adds them) */
    bool descendant;         /* made by a followed process: watched since its fork */
    bool made;               /* its store process is ours (not a libnctop segment's) */
    int32_t ppid;            /* descendant: its parent's pid */
    bool exited;             /* its main thread exited: read its tables once more, then let go */
    uint64_t exited_ns;      /* when (the exit event's time, or when it was found gone) */
    bool released;           /* removed from the kernel's filter, links destroyed */
    struct bpf_link **links;
    size_t nlinks;
    uint32_t *span_ids;                 /* per probe: interned span name, 0 if none */
    uint32_t *counter_ids;              /* per probe: interned counter name, 0 if none */
    uint64_t *counts;                   /* per probe: hits (usdt counters) */
    struct nctrace_proc_event *pending; /* events before it is bound (bpf_watch_hold) */
    size_t npending;
    size_t pending_cap;
    uint64_t pending_min_ns; /* the oldest of them */
    struct bpf_thread_ref *threads;
    size_t nthreads;
    size_t threads_cap;
};

struct bpf_source {
    struct store *st;
    struct nctrace_bpf *skel;
    struct ring_buffer *rb;
    struct bpf_probe *probes;
    size_t nprobes;
    struct bpf_watch **watches;
    size_t nwatches;
    size_t watches_cap;
    uint64_t now_ns; /* the time of the current drain, for counters */
    bool spans;      /* some probe makes spans: they merge with the libnctop ones */
    struct bpf_source_stats stats;
};

/* Names by syscall number, generated from the kernel headers at build time. */
static const char *const bpf_syscall_names[] = {
#include "nctop_syscalls.h"
};

/* libbpf's own messages go to the debug log; the latest warning is kept for the error line. */
static char bpf_last_libbpf[160];

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static int bpf_source_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
    char buf[512];
    size_t n;

    vsnprintf(buf, sizeof(buf), fmt, ap);
    n = strlen(buf);
    while (n > 0 && buf[n - 1] == '\n') {
        buf[--n] = '\0';
    }
    if (level == LIBBPF_WARN) {
        size_t k = n < sizeof(bpf_last_libbpf) - 1 ? n : sizeof(bpf_last_libbpf) - 1;

        /* Cut to fit: the error line only needs its start. */
        memcpy(bpf_last_libbpf, buf, k);
        bpf_last_libbpf[k] = '\0';
        diag_warn("libbpf: %s", buf);
    } else if (level == LIBBPF_INFO) {
        diag_debug("libbpf: %s", buf);
    }
    return (int)n;
}
#pragma GCC diagnostic pop

static const char *bpf_syscall_name(uint32_t nr, char *buf, size_t len)
{
    if (nr < sizeof(bpf_syscall_names) / sizeof(bpf_syscall_names[0]) &&
        bpf_syscall_names[nr] != NULL) {
        return bpf_syscall_names[nr];
    }
    if (nr == 335) {
        return "uretprobe"; /* x86-64, newer than most headers: our own uretprobes' return path */
    }
    snprintf(buf, len, "syscall_%u", nr);
    return buf;
}

/* Root, or both CAP_BPF and CAP_PERFMON in the effective set. */
static bool bpf_source_privileged(void)
{
    struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct data[2];

    if (geteuid() == 0) {
        return true;
    }
    memset(data, 0, sizeof(data));
    if (syscall(SYS_capget, &hdr, data) != 0) {
        return false;
    }
    return (data[1].effective & (1U << (BPF_CAP_BPF - 32))) != 0 &&
           (data[1].effective & (1U << (BPF_CAP_PERFMON - 32))) != 0;
}

static void bpf_source_fail(struct bpf_source *bs, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void bpf_source_fail(struct bpf_source *bs, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(bs->stats.last_error, sizeof(bs->stats.last_error), fmt, ap);
    va_end(ap);
    bs->stats.failed++;
    diag_warn("%s", bs->stats.last_error);
}

/* "usdt:prov:work_begin" pairs with "..._end": the span is the stem ("prov:work"). */
static void bpf_probe_span_of_usdt(struct bpf_probe *pr)
{
    static const char *const begins[] = {"_begin", "_start", "__entry"};
    static const char *const ends[] = {"_end", "_done", "__return"};
    size_t n = strlen(pr->symbol);

    for (size_t i = 0; i < sizeof(begins) / sizeof(begins[0]); i++) {
        const char *sfx[2] = {begins[i], ends[i]};

        for (int k = 0; k < 2; k++) {
            size_t m = strlen(sfx[k]);

            if (n > m && strcmp(pr->symbol + n - m, sfx[k]) == 0) {
                pr->span = xasprintf("%s:%.*s", pr->provider, (int)(n - m), pr->symbol);
                pr->span_dir = k == 0 ? 1 : -1;
                return;
            }
        }
    }
}

/* Split "BINARY:SYMBOL" or "BINARY:PROVIDER:NAME" at the last colons (a path may hold one). */
static int bpf_probe_parse(struct bpf_probe *pr, const char *spec, bool usdt)
{
    const char *c1 = strrchr(spec, ':'), *c2 = NULL;

    memset(pr, 0, sizeof(*pr));
    pr->usdt = usdt;
    if (c1 == NULL || c1 == spec || c1[1] == '\0') {
        return -EINVAL;
    }
    if (usdt) {
        for (c2 = c1 - 1; c2 > spec && *c2 != ':'; c2--) {
        }
        if (c2 == spec || c2 + 1 == c1) {
            return -EINVAL;
        }
        pr->binary = xasprintf("%.*s", (int)(c2 - spec), spec);
        pr->provider = xasprintf("%.*s", (int)(c1 - c2 - 1), c2 + 1);
        pr->symbol = xstrdup(c1 + 1);
        pr->counter = xasprintf("usdt:%s:%s", pr->provider, pr->symbol);
        bpf_probe_span_of_usdt(pr);
    } else {
        pr->binary = xasprintf("%.*s", (int)(c1 - spec), spec);
        pr->symbol = xstrdup(c1 + 1);
        pr->span = xstrdup(pr->symbol);
    }
    return 0;
}

static void bpf_probe_done(struct bpf_probe *pr)
{
    free(pr->binary);
    free(pr->symbol);
    free(pr->provider);
    free(pr->counter);
    free(pr->span);
}

/* The newest watch of pid: an ended descendant's pid may be in use again. */
static struct bpf_watch *bpf_source_find(const struct bpf_source *bs, int32_t pid)
{
    for (size_t i = bs->nwatches; i > 0; i--) {
        if (bs->watches[i - 1]->pid == pid) {
            return bs->watches[i - 1];
        }
    }
    return NULL;
}

static void bpf_watch_add_link(struct bpf_watch *w, struct bpf_link *link)
{
    w->links = xreallocarray(w->links, w->nlinks + 1, sizeof(*w->links));
    w->links[w->nlinks++] = link;
}

/* Why probe pr did not attach (err < 0): the binary cannot be read, it lacks the symbol or
 * probe, or what the kernel said. Counted and kept for the status line. */
static void bpf_source_probe_failed(struct bpf_source *bs, const struct bpf_probe *pr, int32_t pid,
                                    int err)
{
    char what[160];

    if (pr->usdt) {
        snprintf(what, sizeof(what), "--usdt %s:%s:%s", pr->binary, pr->provider, pr->symbol);
    } else {
        snprintf(what, sizeof(what), "--uprobe %s:%s", pr->binary, pr->symbol);
    }
    if (access(pr->binary, R_OK) != 0) {
        bpf_source_fail(bs, "%s: cannot read %s: %s", what, pr->binary, strerror(errno));
    } else if (err == -ENOENT) {
        bpf_source_fail(bs, "%s: %s has no %s %s", what, pr->binary,
                        pr->usdt ? "USDT probe" : "symbol", pr->symbol);
    } else {
        bpf_source_fail(bs, "%s: cannot attach to pid %d: %s", what, (int)pid, strerror(-err));
    }
}

/* Attach probe i of bs to w's process, its return probe (ret) or the rest; a failure is
 * counted and shown, not fatal. */
static void bpf_source_attach_probe(struct bpf_source *bs, struct bpf_watch *w, size_t i, bool ret)
{
    const struct bpf_probe *pr = &bs->probes[i];
    struct bpf_link *link;
    int err;

    if (pr->usdt) {
        if (ret != (pr->span_dir < 0)) {
            return;
        }
        LIBBPF_OPTS(bpf_usdt_opts, uo, .usdt_cookie = i);

        link = bpf_program__attach_usdt(bs->skel->progs.nctrace_usdt, w->pid, pr->binary,
                                        pr->provider, pr->symbol, &uo);
        err = -errno;
        if (link == NULL) {
            bpf_source_probe_failed(bs, pr, w->pid, err);
            return;
        }
        bpf_watch_add_link(w, link);
        bs->stats.probes++;
        return;
    }
    {
        LIBBPF_OPTS(bpf_uprobe_opts, uo, .func_name = pr->symbol, .retprobe = ret, .bpf_cookie = i);

        link = bpf_program__attach_uprobe_opts(ret ? bs->skel->progs.nctrace_ureturn
                                                   : bs->skel->progs.nctrace_uentry,
                                               w->pid, pr->binary, 0, &uo);
        err = -errno;
        if (link == NULL) {
            bpf_source_probe_failed(bs, pr, w->pid, err);
            return;
        }
        bpf_watch_add_link(w, link);
        bs->stats.probes++;
    }
}

/* Attach every probe to w's process, the ends of spans first: a call that begins between
 * the two shows its end without its begin, which the store drops, rather than its begin
 * without its end, which would hold everything after it inside. */
static void bpf_source_attach_probes(struct bpf_source *bs, struct bpf_watch *w)
{
    for (int ret = 1; ret >= 0; ret--) {
        for (size_t i = 0; i < bs->nprobes; i++) {
            bpf_source_attach_probe(bs, w, i, ret != 0);
        }
    }
}

/* Let go of a process: out of the kernel's filter (its threads stop costing anything), probes
 * detached. Its figures stay in the store. */
static void bpf_source_release(struct bpf_source *bs, struct bpf_watch *w)
{
    __u32 key = (__u32)w->pid;

    if (w->released) {
        return;
    }
    w->released = true;
    diag_debug("bpf: released pid %d", (int)w->pid);
    bpf_map_delete_elem(bpf_map__fd(bs->skel->maps.procs), &key);
    for (size_t i = 0; i < w->nlinks; i++) {
        bpf_link__destroy(w->links[i]);
    }
    w->nlinks = 0;
    /* Nothing more comes from the probes: what of the process waited for them goes on. */
    for (size_t i = 0; i < w->nthreads; i++) {
        store_thread_unshare(w->threads[i].t, STORE_SRC_PROBE, util_mono_ns());
    }
    w->nthreads = 0;
    w->npending = 0;
    if (w->proc != NULL) {
        store_proc_probe_done(w->proc);
    }
}

static void bpf_watch_free(struct bpf_watch *w)
{
    free(w->links);
    free(w->span_ids);
    free(w->counter_ids);
    free(w->counts);
    free(w->pending);
    free(w->threads);
    free(w);
}

/* The store thread of tid in w, created at its first span. */
static struct store_thread *bpf_watch_thread(struct bpf_watch *w, int32_t tid)
{
    struct bpf_thread_ref *r;

    for (size_t i = w->nthreads; i > 0; i--) {
        if (w->threads[i - 1].tid == tid) {
            return w->threads[i - 1].t;
        }
    }
    if (w->nthreads == w->threads_cap) {
        w->threads_cap = w->threads_cap ? w->threads_cap * 2 : 8;
        w->threads = xreallocarray(w->threads, w->threads_cap, sizeof(*w->threads));
    }
    r = &w->threads[w->nthreads++];
    r->tid = tid;
    /* The libnctop ring's thread of that tid if it has one: probe spans nest in its spans. */
    r->t = store_thread_share(w->proc, tid, NULL, STORE_SRC_PROBE);
    return r->t;
}

static void bpf_watch_thread_exit(struct bpf_watch *w, int32_t tid, uint64_t ts)
{
    for (size_t i = 0; i < w->nthreads; i++) {
        if (w->threads[i].tid == tid) {
            store_thread_unshare(w->threads[i].t, STORE_SRC_PROBE, ts);
            w->threads[i] = w->threads[--w->nthreads];
            return;
        }
    }
}

#define BPF_SEGMENT_GRACE_NS 1000000000ULL /* a started command's segment shows up within this */

/* Give w its store process: the one another source made for the pid (a libnctop segment), or
 * a new one when the process links nothing. Returns false while still waiting. */
static bool bpf_watch_bind(struct bpf_source *bs, struct bpf_watch *w, uint64_t now, bool force)
{
    struct store_proc *p;

    if (w->proc != NULL) {
        return true;
    }
    p = store_proc_find(bs->st, w->pid);
    /* The libnctop segment's process, live, or already ended if it is that same process (a
     * short command: its ring may be read to its end before its held events come here). */
    if (p != NULL && store_proc_state(p) != STORE_PROC_LIVE &&
        (w->start_ticks == 0 || store_proc_start_ticks(p) != w->start_ticks)) {
        p = NULL;
    }
    /* A child is a new process: only a libnctop segment of that very process is its. */
    if (p != NULL && w->descendant &&
        (w->start_ticks == 0 || store_proc_start_ticks(p) != w->start_ticks)) {
        p = NULL;
    }
    if (p == NULL) {
        /* A short command may end before its segment is read: the loop says when it ended
         * (bpf_source_child_exited), after the ring reader had its last look. */
        if (w->wait_segment && !force &&
            (now < w->since_ns || now - w->since_ns < BPF_SEGMENT_GRACE_NS)) {
            return false;
        }
        /* A process that links nothing: the eBPF collector and /proc are its sources. */
        p = store_proc_add(bs->st, w->pid, w->comm);
        store_proc_set_start_ticks(p, w->start_ticks);
        w->made = true;
    }
    w->proc = p;
    if (w->ppid > 0) {
        store_proc_set_parent(p, w->ppid);
    }
    for (size_t i = 0; i < bs->nprobes; i++) {
        if (bs->probes[i].span != NULL) {
            w->span_ids[i] = store_proc_intern(p, bs->probes[i].span);
        }
        if (bs->probes[i].counter != NULL) {
            w->counter_ids[i] = store_proc_intern(p, bs->probes[i].counter);
        }
    }
    return true;
}

/* The time before which the probes have delivered every event: t (when the ring buffer was
 * last found empty, or a drain began), less the slack, and before any event still held. */
static uint64_t bpf_source_safe_ns(const struct bpf_source *bs, uint64_t t)
{
    uint64_t safe = t > BPF_CLOCK_SLACK_NS ? t - BPF_CLOCK_SLACK_NS : 0;

    for (size_t i = 0; i < bs->nwatches; i++) {
        if (bs->watches[i]->npending > 0 && bs->watches[i]->pending_min_ns < safe) {
            safe = bs->watches[i]->pending_min_ns;
        }
    }
    return safe;
}

/* The store's probe clock when nothing waits in the ring buffer: now (less the slack), so
 * that a thread's libnctop spans are not held for probes that have nothing to say. Only a
 * poll, no read: the store calls this while it applies events. */
static uint64_t bpf_source_idle_ns(void *ctx)
{
    const struct bpf_source *bs = ctx;
    uint64_t now = util_mono_ns();
    struct pollfd pfd = {.fd = ring_buffer__epoll_fd(bs->rb), .events = POLLIN};

    if (poll(&pfd, 1, 0) != 0) {
        return 0; /* events wait (or it cannot tell): the last drain's time stands */
    }
    return bpf_source_safe_ns(bs, now);
}

/* Keep an event of a command whose libnctop segment is awaited: applied once its store
 * process is known, so that its spans and the library's land in one thread in time order. */
static void bpf_watch_hold(struct bpf_watch *w, const struct nctrace_proc_event *ev)
{
    if (w->npending == w->pending_cap) {
        w->pending_cap = w->pending_cap ? w->pending_cap * 2 : 64;
        w->pending = xreallocarray(w->pending, w->pending_cap, sizeof(*w->pending));
    }
    if (w->npending == 0 || ev->base.ts_ns < w->pending_min_ns) {
        w->pending_min_ns = ev->base.ts_ns;
    }
    w->pending[w->npending++] = *ev;
}

/* The main thread of w's process exited: how (the wait status the kernel set), and its last
 * host facts (the kernel's peak RSS and CPU time, which a short life may never have shown in
 * /proc). */
static void bpf_watch_ended(struct bpf_watch *w, const struct nctrace_proc_event *ev)
{
    uint64_t rss, peak, cpu, kpeak;
    long page = sysconf(_SC_PAGESIZE);
    int sig = ev->exit_code & 0x7F;
    char reason[96];
    bool had;

    w->exited = true;
    w->exited_ns = ev->base.ts_ns;
    if (sig != 0) {
        snprintf(reason, sizeof(reason), "killed by signal %d (%s)", sig, strsignal(sig));
    } else {
        snprintf(reason, sizeof(reason), "exit status %d", (ev->exit_code >> 8) & 0xFF);
    }
    store_proc_set_exit(w->proc, (ev->exit_code >> 8) & 0xFF, sig);
    if (store_proc_state(w->proc) == STORE_PROC_LIVE) {
        store_proc_set_state(w->proc, STORE_PROC_EXITED, reason, ev->base.ts_ns);
    }
    kpeak = ev->maxrss_kb * 1024;
    if (page > 0 && ev->hiwater_pages * (uint64_t)page > kpeak) {
        kpeak = ev->hiwater_pages * (uint64_t)page;
    }
    had = store_proc_host(w->proc, &rss, &peak, &cpu);
    if (kpeak == 0 && ev->cpu_ns == 0) {
        return;
    }
    /* Nothing sampled: its current RSS is unknown, as for a command the loop reaps. */
    store_proc_set_host(w->proc, had ? rss : kpeak, kpeak > peak ? kpeak : peak,
                        ev->cpu_ns > cpu ? ev->cpu_ns : cpu, ev->base.ts_ns);
}

/* One event of a bound process. */
static void bpf_watch_event(struct bpf_source *bs, struct bpf_watch *w,
                            const struct nctrace_proc_event *pev)
{
    const struct nctrace_event *ev = &pev->base;
    const struct bpf_probe *pr;

    store_proc_add_events(w->proc, 1);
    if (ev->type == NCTRACE_EV_EXIT) {
        bpf_watch_thread_exit(w, (int32_t)ev->tid, ev->ts_ns);
        if (ev->tid == ev->tgid) {
            bpf_watch_ended(w, pev);
        }
        return;
    }
    if (ev->type == NCTRACE_EV_FORK) {
        return; /* the child's own watch has it */
    }
    if (ev->type == NCTRACE_EV_EXEC) {
        char comm[NCTRACE_COMM_LEN + 1];

        memcpy(comm, pev->comm, NCTRACE_COMM_LEN);
        comm[NCTRACE_COMM_LEN] = '\0';
        /* A descendant is named by the program it runs now (cc's child becomes cc1, then
         * another becomes as); the command and -p processes keep the name they were given. */
        if (w->descendant && comm[0] != '\0' && w->made) {
            snprintf(w->comm, sizeof(w->comm), "%s", comm);
            store_proc_set_label(w->proc, comm);
        }
        return;
    }
    if (ev->cookie >= bs->nprobes) {
        store_proc_add_invalid(w->proc, 1, "eBPF event with an unknown probe");
        return;
    }
    pr = &bs->probes[ev->cookie];
    switch (ev->type) {
    case NCTRACE_EV_ENTRY:
        store_probe_begin(bpf_watch_thread(w, (int32_t)ev->tid), w->span_ids[ev->cookie],
                          ev->ts_ns);
        break;
    case NCTRACE_EV_RETURN:
        store_probe_end(bpf_watch_thread(w, (int32_t)ev->tid), w->span_ids[ev->cookie], ev->ts_ns);
        break;
    case NCTRACE_EV_USDT:
        w->counts[ev->cookie]++;
        store_counter_set(w->proc, w->counter_ids[ev->cookie], w->counts[ev->cookie], ev->ts_ns);
        if (pr->span_dir > 0) {
            store_probe_begin(bpf_watch_thread(w, (int32_t)ev->tid), w->span_ids[ev->cookie],
                              ev->ts_ns);
        } else if (pr->span_dir < 0) {
            store_probe_end(bpf_watch_thread(w, (int32_t)ev->tid), w->span_ids[ev->cookie],
                            ev->ts_ns);
        }
        break;
    default:
        store_proc_add_invalid(w->proc, 1, "eBPF event of an unknown type");
        break;
    }
}

/* Apply what was held for w, now bound. The events count as held until all of them are in
 * the store: the probe clock stays before the oldest, so that no libnctop event after it
 * goes first. */
static void bpf_watch_flush(struct bpf_source *bs, struct bpf_watch *w)
{
    for (size_t i = 0; i < w->npending; i++) {
        bpf_watch_event(bs, w, &w->pending[i]);
    }
    w->npending = 0;
}

static struct bpf_watch *bpf_watch_new(struct bpf_source *bs, int32_t pid, const char *comm,
                                       uint64_t now_ns);

/* A followed process parent made child at ts: the kernel watches it already (and follows
 * it); it gets a watch and a store process of its own, its parent recorded. Unbounded only
 * in time: the kernel's procs map bounds how many live at once, and ended ones age out. */
static void bpf_source_add_descendant(struct bpf_source *bs, struct bpf_watch *parent,
                                      int32_t child, uint64_t ts)
{
    struct bpf_watch *w = bpf_source_find(bs, child);

    if (w != NULL && !w->released) {
        return; /* already known (a late event of a re-used pid would be stranger still) */
    }
    w = bpf_watch_new(bs, child, parent->comm, ts);
    w->follow = true;
    w->descendant = true;
    w->ppid = parent->pid;
    bpf_watch_bind(bs, w, ts, true);
    bs->stats.descendants++;
    diag_debug("bpf: following pid %d, child of %d", (int)child, (int)parent->pid);
}

/* One ring buffer record. Everything in it is checked: its size, the probe index and the
 * process. */
static int bpf_source_on_event(void *ctx, void *data, size_t size)
{
    struct bpf_source *bs = ctx;
    struct nctrace_proc_event ev;
    struct bpf_watch *w;

    bs->stats.events++;
    if (size < sizeof(ev.base)) {
        return 0;
    }
    memset(&ev, 0, sizeof(ev));
    memcpy(&ev, data, size < sizeof(ev) ? size : sizeof(ev));
    if ((ev.base.type == NCTRACE_EV_FORK || ev.base.type == NCTRACE_EV_EXEC ||
         ev.base.type == NCTRACE_EV_EXIT) &&
        size < sizeof(ev)) {
        return 0;
    }
    if (ev.base.type == NCTRACE_EV_FORK) {
        struct bpf_watch *parent = bpf_source_find(bs, (int32_t)ev.base.cookie);

        if (parent != NULL && parent->follow && (int32_t)ev.base.tgid > 0) {
            bpf_source_add_descendant(bs, parent, (int32_t)ev.base.tgid, ev.base.ts_ns);
        }
        return 0;
    }
    w = bpf_source_find(bs, (int32_t)ev.base.tgid);
    if (w == NULL || w->released) {
        return 0; /* a late record of a process we let go */
    }
    if (!bpf_watch_bind(bs, w, ev.base.ts_ns, w->npending >= BPF_PENDING_MAX)) {
        bpf_watch_hold(w, &ev);
        return 0;
    }
    bpf_watch_flush(bs, w);
    bpf_watch_event(bs, w, &ev);
    return 0;
}

/* The figures of one thread record, with the interval in progress counted up to now. */
static void bpf_sched_of(const struct nctrace_thread *th, uint64_t now, struct store_sched *s)
{
    uint64_t d = !th->exited && th->since_ns != 0 && now > th->since_ns ? now - th->since_ns : 0;

    memset(s, 0, sizeof(*s));
    s->oncpu_ns = th->oncpu_ns + (th->state == NCTRACE_ST_RUNNING ? d : 0);
    s->runq_ns = th->runq_ns + (th->state == NCTRACE_ST_RUNNABLE ? d : 0);
    s->blocked_ns = th->blocked_ns + (th->state == NCTRACE_ST_BLOCKED ? d : 0);
    s->vol_switches = th->vol_switches;
    s->invol_switches = th->invol_switches;
    s->faults = th->faults;
    s->minor_faults = th->min_flt;
    s->major_faults = th->maj_flt;
}

/* Copy the threads table into the store; exited threads are read one last time and deleted,
 * so the table only holds live threads. */
static void bpf_source_read_threads(struct bpf_source *bs, uint64_t now)
{
    int fd = bpf_map__fd(bs->skel->maps.threads);
    __u32 key, next, *gone = NULL;
    size_t ngone = 0, cap = 0;
    void *prev = NULL;
    struct nctrace_thread th;

    while (bpf_map_get_next_key(fd, prev, &next) == 0) {
        struct bpf_watch *w;

        key = next;
        prev = &key;
        if (bpf_map_lookup_elem(fd, &key, &th) != 0) {
            continue;
        }
        w = bpf_source_find(bs, (int32_t)th.tgid);
        if (w != NULL && w->proc == NULL) {
            continue; /* not bound yet: read at a later sync */
        }
        if (w == NULL && bpf_map_lookup_elem(bpf_map__fd(bs->skel->maps.procs), &th.tgid,
                                             &(struct nctrace_proc){0}) == 0) {
            continue; /* a child whose fork is not read yet: it gets its watch first */
        }
        if (w != NULL) {
            struct store_sched s;
            char name[NCTRACE_COMM_LEN + 1];

            memcpy(name, th.comm, NCTRACE_COMM_LEN);
            name[NCTRACE_COMM_LEN] = '\0';
            bpf_sched_of(&th, now, &s);
            store_sys_thread_set(w->proc, (int32_t)key, name, &s, th.exited != 0);
        }
        if (w == NULL || w->released || th.exited) {
            if (ngone == cap) {
                cap = cap ? cap * 2 : 64;
                gone = xreallocarray(gone, cap, sizeof(*gone));
            }
            gone[ngone++] = key;
        }
    }
    for (size_t i = 0; i < ngone; i++) {
        bpf_map_delete_elem(fd, &gone[i]);
    }
    free(gone);
}

static void bpf_source_read_syscalls(struct bpf_source *bs)
{
    int fd = bpf_map__fd(bs->skel->maps.syscalls);
    struct nctrace_sys_key key, next;
    struct nctrace_sys_val v;
    void *prev = NULL;

    while (bpf_map_get_next_key(fd, prev, &next) == 0) {
        struct bpf_watch *w;
        char buf[24];

        key = next;
        prev = &key;
        w = bpf_source_find(bs, (int32_t)key.tgid);
        if (w == NULL || w->proc == NULL || bpf_map_lookup_elem(fd, &key, &v) != 0) {
            continue;
        }
        store_sys_call_set(w->proc, key.nr, bpf_syscall_name(key.nr, buf, sizeof(buf)), v.count,
                           v.total_ns);
    }
}

static void bpf_source_read_proc(struct bpf_source *bs, struct bpf_watch *w)
{
    __u32 key = (__u32)w->pid;
    struct nctrace_proc pr;

    if (bpf_map_lookup_elem(bpf_map__fd(bs->skel->maps.procs), &key, &pr) != 0) {
        return;
    }
    store_sys_mapped_set(w->proc, pr.mmap_bytes, pr.munmap_bytes,
                         pr.brk_start != 0 ? (int64_t)(pr.brk_cur - pr.brk_start) : 0);
}

/* Remove a released process's syscall rows from the kernel table (already in the store). */
static void bpf_source_forget_syscalls(struct bpf_source *bs, int32_t pid)
{
    int fd = bpf_map__fd(bs->skel->maps.syscalls);
    struct nctrace_sys_key key, next;
    void *prev = NULL;

    while (bpf_map_get_next_key(fd, prev, &next) == 0) {
        key = next;
        if ((int32_t)key.tgid == pid) {
            bpf_map_delete_elem(fd, &key);
            /* Deleting the current key restarts the walk from the beginning. */
            prev = NULL;
            continue;
        }
        prev = &key;
    }
}

struct bpf_source *bpf_source_new(struct store *st, const struct bpf_source_opts *opts, char **err)
{
    static const char *const what[] = {
        "sched_switch", "sched_wakeup", "sched_wakeup_new",   "sched_process_exit",
        "sys_enter",    "sys_exit",     "sched_process_fork", "sched_process_exec"};
    struct bpf_source *bs = NULL;
    struct rlimit rl = {RLIM_INFINITY, RLIM_INFINITY};
    struct bpf_program *progs[8];
    struct bpf_link **slots[8];
    struct bpf_link *link;
    int rc;

    *err = NULL;
    if (access(BPF_BTF_PATH, R_OK) != 0) {
        *err = xasprintf("--bpf: this kernel exposes no BTF (%s is missing); it needs a kernel "
                         "built with CONFIG_DEBUG_INFO_BTF=y",
                         BPF_BTF_PATH);
        return NULL;
    }
    if (!bpf_source_privileged()) {
        *err = xstrdup("--bpf: not permitted: run nctop as root, or give it CAP_BPF and "
                       "CAP_PERFMON (setcap cap_bpf,cap_perfmon+ep nctop)");
        return NULL;
    }
    libbpf_set_print(bpf_source_print);
    /* Kernels since 5.11 charge BPF memory to the memory cgroup; where the raise is refused
     * (as in some containers) loading still works there, so it is only worth a note. */
    if (setrlimit(RLIMIT_MEMLOCK, &rl) != 0) {
        diag_debug("raising RLIMIT_MEMLOCK failed (%s); relying on memcg accounting",
                   strerror(errno));
    }

    bs = xcalloc(1, sizeof(*bs));
    bs->st = st;
    if (opts != NULL) {
        bs->probes = xcalloc(opts->nuprobes + opts->nusdts + 1, sizeof(*bs->probes));
        for (size_t i = 0; i < opts->nuprobes + opts->nusdts; i++) {
            bool usdt = i >= opts->nuprobes;
            const char *spec = usdt ? opts->usdts[i - opts->nuprobes] : opts->uprobes[i];

            if (bs->nprobes >= BPF_MAX_PROBES ||
                bpf_probe_parse(&bs->probes[bs->nprobes], spec, usdt) != 0) {
                *err = xasprintf("%s: '%s' is not %s", usdt ? "--usdt" : "--uprobe", spec,
                                 usdt ? "BINARY:PROVIDER:NAME" : "BINARY:SYMBOL");
                bpf_probe_done(&bs->probes[bs->nprobes]);
                goto err;
            }
            bs->nprobes++;
        }
    }

    bs->skel = nctrace_bpf__open();
    if (bs->skel == NULL) {
        *err = xasprintf("--bpf: cannot open the eBPF programs: %s", strerror(errno));
        goto err;
    }
    bpf_last_libbpf[0] = '\0';
    rc = nctrace_bpf__load(bs->skel);
    if (rc != 0) {
        *err = xasprintf("--bpf: the kernel refused the eBPF programs: %s%s%s", strerror(-rc),
                         bpf_last_libbpf[0] ? ": " : "", bpf_last_libbpf);
        goto err;
    }
    /* tp_btf only: these attach without tracefs and without kprobes. */
    progs[0] = bs->skel->progs.nctrace_switch;
    progs[1] = bs->skel->progs.nctrace_wakeup_tp;
    progs[2] = bs->skel->progs.nctrace_wakeup_new;
    progs[3] = bs->skel->progs.nctrace_exit;
    progs[4] = bs->skel->progs.nctrace_sys_enter;
    progs[5] = bs->skel->progs.nctrace_sys_exit;
    progs[6] = bs->skel->progs.nctrace_fork;
    progs[7] = bs->skel->progs.nctrace_exec;
    slots[0] = &bs->skel->links.nctrace_switch;
    slots[1] = &bs->skel->links.nctrace_wakeup_tp;
    slots[2] = &bs->skel->links.nctrace_wakeup_new;
    slots[3] = &bs->skel->links.nctrace_exit;
    slots[4] = &bs->skel->links.nctrace_sys_enter;
    slots[5] = &bs->skel->links.nctrace_sys_exit;
    slots[6] = &bs->skel->links.nctrace_fork;
    slots[7] = &bs->skel->links.nctrace_exec;
    for (size_t i = 0; i < sizeof(progs) / sizeof(progs[0]); i++) {
        link = bpf_program__attach(progs[i]);
        if (link == NULL) {
            *err = xasprintf("--bpf: cannot attach to the %s tracepoint: %s", what[i],
                             strerror(errno));
            goto err;
        }
        *slots[i] = link; /* the skeleton's destroy detaches it */
    }
    /* page_fault_user is x86's: without it the fault counts come from the kernel's own
     * per-thread counters only. */
    bs->skel->links.nctrace_fault = bpf_program__attach(bs->skel->progs.nctrace_fault);
    if (bs->skel->links.nctrace_fault == NULL) {
        diag_warn("page_fault_user tracepoint unavailable: %s", strerror(errno));
    }
    bs->rb = ring_buffer__new(bpf_map__fd(bs->skel->maps.events), bpf_source_on_event, bs, NULL);
    if (bs->rb == NULL) {
        *err = xasprintf("--bpf: cannot open the eBPF ring buffer: %s", strerror(errno));
        goto err;
    }
    for (size_t i = 0; i < bs->nprobes; i++) {
        bs->spans = bs->spans || bs->probes[i].span != NULL;
    }
    if (bs->spans) {
        store_probe_source(st, true, bpf_source_idle_ns, bs);
    }
    diag_debug("eBPF collector loaded: %zu probes requested", bs->nprobes);
    return bs;

err:
    bpf_source_free(bs);
    return NULL;
}

void bpf_source_free(struct bpf_source *bs)
{
    if (bs == NULL) {
        return;
    }
    if (bs->spans) {
        store_probe_source(bs->st, false, NULL, NULL);
    }
    for (size_t i = 0; i < bs->nwatches; i++) {
        if (bs->skel != NULL) {
            bpf_source_release(bs, bs->watches[i]);
        }
        bpf_watch_free(bs->watches[i]);
    }
    free(bs->watches);
    ring_buffer__free(bs->rb);
    nctrace_bpf__destroy(bs->skel);
    for (size_t i = 0; i < bs->nprobes; i++) {
        bpf_probe_done(&bs->probes[i]);
    }
    free(bs->probes);
    free(bs);
}

/* A new watch of pid, in bs's list (the newest last), not yet bound. */
static struct bpf_watch *bpf_watch_new(struct bpf_source *bs, int32_t pid, const char *comm,
                                       uint64_t now_ns)
{
    struct bpf_watch *w = xcalloc(1, sizeof(*w));

    w->pid = pid;
    w->since_ns = now_ns;
    w->start_ticks = util_proc_start_ticks(pid, NULL);
    snprintf(w->comm, sizeof(w->comm), "%s", comm);
    w->span_ids = xcalloc(bs->nprobes + 1, sizeof(*w->span_ids));
    w->counter_ids = xcalloc(bs->nprobes + 1, sizeof(*w->counter_ids));
    w->counts = xcalloc(bs->nprobes + 1, sizeof(*w->counts));
    if (bs->nwatches == bs->watches_cap) {
        bs->watches_cap = bs->watches_cap ? bs->watches_cap * 2 : 8;
        bs->watches = xreallocarray(bs->watches, bs->watches_cap, sizeof(*bs->watches));
    }
    bs->watches[bs->nwatches++] = w;
    return w;
}

/* Watch pid. child: the name of a command nctop started (its store process waits for its
 * segment, and nctop may trace what it started), or NULL for any other process. follow: its
 * descendants are watched too. */
static int bpf_source_add_watch(struct bpf_source *bs, int32_t pid, uint64_t now_ns,
                                const char *child, bool follow)
{
    struct nctrace_proc zero;
    struct bpf_watch *w = bpf_source_find(bs, pid);
    __u32 key = (__u32)pid;
    char path[64], comm[64];
    long n;

    if (w != NULL && !w->released) {
        return 0;
    }
    snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
    n = util_read_file(path, comm, sizeof(comm));
    if (n < 0 || !util_pid_alive(pid)) {
        return -ESRCH;
    }
    while (n > 0 && comm[n - 1] == '\n') {
        comm[--n] = '\0';
    }
    if (child != NULL) {
        snprintf(comm, sizeof(comm), "%s", child); /* /proc says the gate's name yet */
    } else if (!util_may_trace(pid)) {
        /* CAP_BPF and CAP_PERFMON could see into any process: watch only those our real
         * user could trace anyway (the kernel's ptrace rule), whatever privileges nctop was
         * given. */
        bpf_source_fail(bs,
                        "--bpf: not permitted to watch pid %d: it runs as another user or "
                        "is not traceable (watch it as its user, or as root)",
                        (int)pid);
        return -EPERM;
    }
    memset(&zero, 0, sizeof(zero));
    zero.flags = follow ? NCTRACE_PROC_FOLLOW : 0;
    if (bpf_map_update_elem(bpf_map__fd(bs->skel->maps.procs), &key, &zero, BPF_ANY) != 0) {
        int err = -errno;

        bpf_source_fail(bs, "--bpf: cannot watch pid %d: %s", (int)pid, strerror(-err));
        return err;
    }
    w = bpf_watch_new(bs, pid, comm, now_ns);
    w->wait_segment = child != NULL;
    w->follow = follow;
    /* Its parent as /proc has it: a watched process started by another shows under it. */
    util_proc_start_ticks(pid, &w->ppid);
    bpf_watch_bind(bs, w, now_ns, false);
    bs->stats.attached++;
    bpf_source_attach_probes(bs, w);
    /* A command in its gate starts once its probes are attached, which may take a while on
     * a loaded machine: its segment is awaited from then. */
    w->since_ns = util_mono_ns();
    diag_debug("bpf: watching pid %d (%s), %zu links%s", (int)pid, comm, w->nlinks,
               follow ? ", following its children" : "");
    return 0;
}

int bpf_source_watch(struct bpf_source *bs, int32_t pid, uint64_t now_ns)
{
    return bpf_source_add_watch(bs, pid, now_ns, NULL, true);
}

int bpf_source_watch_child(struct bpf_source *bs, int32_t pid, const char *name, uint64_t now_ns)
{
    return bpf_source_add_watch(bs, pid, now_ns, name, true);
}

/* Processes the kernel watches that no watch knows of: children whose FORK event was lost to a
 * full ring buffer (or one read after this walk began). A live one is adopted, its parent
 * from /proc; a gone one leaves the kernel's filter. */
static void bpf_source_adopt(struct bpf_source *bs, uint64_t now_ns)
{
    int fd = bpf_map__fd(bs->skel->maps.procs);
    __u32 key, next, gone[64];
    size_t ngone = 0;
    void *prev = NULL;

    while (bpf_map_get_next_key(fd, prev, &next) == 0) {
        struct bpf_watch *w, *parent;
        int32_t pid = (int32_t)next, ppid = 0;

        key = next;
        prev = &key;
        w = bpf_source_find(bs, pid);
        if (w != NULL && !w->released) {
            continue;
        }
        if (!util_pid_alive(pid) || util_proc_start_ticks(pid, &ppid) == 0) {
            if (ngone < sizeof(gone) / sizeof(gone[0])) {
                gone[ngone++] = key;
            }
            continue;
        }
        parent = bpf_source_find(bs, ppid);
        if (parent != NULL && parent->follow) {
            bpf_source_add_descendant(bs, parent, pid, now_ns);
        } else if (ngone < sizeof(gone) / sizeof(gone[0])) {
            gone[ngone++] = key; /* its parent is not followed (it re-parented): let go */
        }
    }
    for (size_t i = 0; i < ngone; i++) {
        bpf_map_delete_elem(fd, &gone[i]);
    }
}

/* Forget descendants that ended more than the store's exited_keep_ns ago (and the oldest
 * beyond BPF_MAX_EXITED_KIDS), with their store processes when they are ours alone. A
 * recording keeps every process (store_proc_remove refuses): then so does this. */
static void bpf_source_age_out(struct bpf_source *bs, uint64_t now_ns)
{
    uint64_t keep = store_config(bs->st)->exited_keep_ns;
    size_t nended = 0, k = 0;

    for (size_t i = 0; i < bs->nwatches; i++) {
        nended += bs->watches[i]->descendant && bs->watches[i]->released;
    }
    for (size_t i = 0; i < bs->nwatches; i++) {
        struct bpf_watch *w = bs->watches[i];
        bool old = w->descendant && w->released &&
                   (now_ns - w->exited_ns >= keep || nended > BPF_MAX_EXITED_KIDS);

        if (old && w->proc != NULL && w->made && store_proc_state(w->proc) != STORE_PROC_LIVE &&
            store_proc_remove(w->proc, now_ns) != 0) {
            old = false;
        }
        if (old) {
            nended--;
            bpf_watch_free(w);
            continue;
        }
        bs->watches[k++] = w;
    }
    bs->nwatches = k;
}

void bpf_source_sync(struct bpf_source *bs, uint64_t now_ns)
{
    size_t nprocs = store_nprocs(bs->st);
    uint64_t dropped;

    for (size_t i = 0; i < nprocs; i++) {
        struct store_proc *p = store_proc_at(bs->st, i);

        if (p != NULL && store_proc_state(p) == STORE_PROC_LIVE &&
            bpf_source_find(bs, store_proc_pid(p)) == NULL) {
            bpf_source_add_watch(bs, store_proc_pid(p), now_ns, NULL, false);
        }
    }
    bpf_source_drain(bs);
    bpf_source_adopt(bs, now_ns);
    for (size_t i = 0; i < bs->nwatches; i++) {
        struct bpf_watch *w = bs->watches[i];

        if (!w->released && bpf_watch_bind(bs, w, now_ns, false) && w->npending > 0) {
            bpf_watch_flush(bs, w);
            if (bs->spans) {
                store_probe_time(bs->st, bpf_source_safe_ns(bs, now_ns));
            }
        }
    }
    bpf_source_read_threads(bs, now_ns);
    bpf_source_read_syscalls(bs);
    dropped = bs->skel->bss->dropped;
    bs->stats.dropped = dropped;
    for (size_t i = 0; i < bs->nwatches; i++) {
        struct bpf_watch *w = bs->watches[i];

        if (w->released || w->proc == NULL) {
            continue;
        }
        bpf_source_read_proc(bs, w);
        store_sys_dropped_set(w->proc, dropped);
        /* A process marked exited by another source (the ring reader, the loop) is done too. */
        if (w->exited || store_proc_state(w->proc) != STORE_PROC_LIVE || !util_pid_alive(w->pid)) {
            if (!w->exited) {
                w->exited = true;
                w->exited_ns = now_ns;
            }
            if (w->descendant && store_proc_state(w->proc) == STORE_PROC_LIVE) {
                /* Its exit event was lost (a full ring buffer): ended, how is unknown. */
                store_proc_set_state(w->proc, STORE_PROC_EXITED, "exited", now_ns);
            }
            bpf_source_release(bs, w);
            bpf_source_forget_syscalls(bs, w->pid);
        }
    }
    bs->stats.unfollowed = bs->skel->bss->unfollowed;
    bpf_source_age_out(bs, now_ns);
}

int bpf_source_fd(const struct bpf_source *bs)
{
    return ring_buffer__epoll_fd(bs->rb);
}

int bpf_source_drain(struct bpf_source *bs)
{
    uint64_t t0 = util_mono_ns();
    int n = ring_buffer__consume(bs->rb);

    /* Everything reserved before t0 was read (or is held): the libnctop events of the same
     * threads dated before it can go to the store. */
    if (n >= 0 && bs->spans) {
        store_probe_time(bs->st, bpf_source_safe_ns(bs, t0));
    }
    return n == -EINTR ? 0 : n;
}

void bpf_source_get_stats(const struct bpf_source *bs, struct bpf_source_stats *out)
{
    *out = bs->stats;
}

void bpf_source_child_exited(struct bpf_source *bs, int32_t pid, uint64_t now_ns)
{
    struct bpf_watch *w = bpf_source_find(bs, pid);

    bpf_source_drain(bs);
    if (w != NULL && !w->released && bpf_watch_bind(bs, w, now_ns, true)) {
        bpf_watch_flush(bs, w);
        if (bs->spans) {
            store_probe_time(bs->st, bpf_source_safe_ns(bs, now_ns));
        }
    }
}

/* --- the source ---------------------------------------------------------------------------- */

#define BPF_SYNC_MS 1000     /* the kernel's tables into the store */
#define BPF_SYNC_FAST_MS 100 /* ... during the first seconds, so short runs get them */
#define BPF_SYNC_FAST_RUNS 30

struct bpf_collector {
    struct bpf_source *bs;
    bool probes_asked; /* --uprobe or --usdt */
    uint64_t failed_seen;
    uint64_t unfollowed_seen;
    unsigned runs;
    unsigned missing;  /* -p processes that do not exist */
    char pending[192]; /* said at the next problem call */
    char shown[192];
};

/* --bpf: load the programs and watch the given processes (or the command). Without root or
 * BTF, one line says what is missing and nctop goes on without it; when probes were asked
 * for, the run counts as failed. */
static void *bpf_collector_start(const struct collector_env *env, uint64_t now_ns, char **err)
{
    const struct config *cfg = env->cfg;
    struct bpf_source_opts o = {0};
    struct bpf_collector *c;

    if (!cfg->bpf) {
        return NULL;
    }
    c = xcalloc(1, sizeof(*c));
    c->probes_asked = cfg->nuprobes + cfg->nusdts > 0;
    o.uprobes = cfg->probes;
    o.nuprobes = cfg->nuprobes;
    o.usdts = cfg->probes + cfg->nuprobes;
    o.nusdts = cfg->nusdts;
    c->bs = bpf_source_new(env->store, &o, err);
    if (c->bs == NULL) {
        return c; /* it runs as nothing, and says why once */
    }
    for (size_t i = 0; i < cfg->npids; i++) {
        if (bpf_source_watch(c->bs, cfg->pids[i], now_ns) == -ESRCH && c->missing++ == 0) {
            snprintf(c->pending, sizeof(c->pending), "--bpf: no process %d", (int)cfg->pids[i]);
        }
    }
    if (c->missing > 1) {
        size_t n = strlen(c->pending);

        snprintf(c->pending + n, sizeof(c->pending) - n, " (and %u more)", c->missing - 1);
    }
    if (env->child_pid > 0) {
        bpf_source_watch_child(c->bs, env->child_pid, env->child_name, now_ns);
    }
    diag_debug("bpf: attached");
    return c;
}

static void bpf_collector_stop(void *self)
{
    struct bpf_collector *c = self;

    if (c != NULL) {
        bpf_source_free(c->bs);
        free(c);
    }
}

static uint64_t bpf_collector_run(void *self, uint64_t now_ns)
{
    struct bpf_collector *c = self;

    if (c->bs == NULL) {
        return UINT64_MAX;
    }
    bpf_source_sync(c->bs, now_ns);
    c->runs += c->runs < BPF_SYNC_FAST_RUNS;
    return c->runs < BPF_SYNC_FAST_RUNS ? BPF_SYNC_FAST_MS : BPF_SYNC_MS;
}

/* The ring buffer's events; the kernel's tables wait for the next run. */
static void bpf_collector_flush(void *self, uint64_t now_ns)
{
    struct bpf_collector *c = self;

    (void)now_ns;
    if (c->bs != NULL) {
        bpf_source_drain(c->bs);
    }
}

/* The command ended: its segment, if any, was read (the ring reader comes first). */
static void bpf_collector_child_exited(void *self, int32_t pid, uint64_t now_ns, const char *reason)
{
    struct bpf_collector *c = self;

    (void)reason;
    if (c->bs != NULL) {
        bpf_source_child_exited(c->bs, pid, now_ns);
    }
}

static int bpf_collector_fd(const void *self)
{
    const struct bpf_collector *c = self;

    return c->bs != NULL ? bpf_source_fd(c->bs) : -1;
}

static void bpf_collector_readable(void *self, uint64_t now_ns)
{
    struct bpf_collector *c = self;

    (void)now_ns;
    bpf_source_drain(c->bs);
}

/* A problem not said yet: a process given with -p that does not exist (at start), else the
 * attachments that failed since the last call, in one line (the latest reason, and how many
 * more). */
static const char *bpf_collector_problem(void *self)
{
    struct bpf_collector *c = self;
    struct bpf_source_stats st;

    if (c->pending[0] != '\0') {
        snprintf(c->shown, sizeof(c->shown), "%s", c->pending);
        c->pending[0] = '\0';
        return c->shown;
    }
    if (c->bs == NULL) {
        return NULL;
    }
    bpf_source_get_stats(c->bs, &st);
    if (st.unfollowed > c->unfollowed_seen) {
        snprintf(c->shown, sizeof(c->shown),
                 "--bpf: %llu child processes not followed: %u processes are watched at most",
                 (unsigned long long)st.unfollowed, (unsigned)NCTRACE_MAX_PROCS);
        c->unfollowed_seen = st.unfollowed;
        return c->shown;
    }
    if (st.failed <= c->failed_seen) {
        return NULL;
    }
    if (st.failed - c->failed_seen > 1) {
        snprintf(c->shown, sizeof(c->shown), "%.150s (and %llu more)", st.last_error,
                 (unsigned long long)(st.failed - c->failed_seen - 1));
    } else {
        snprintf(c->shown, sizeof(c->shown), "%.191s", st.last_error);
    }
    c->failed_seen = st.failed;
    return c->shown;
}

/* Probes asked for and none attached: without a display that is a failed run. */
static bool bpf_collector_failed(const void *self)
{
    const struct bpf_collector *c = self;
    struct bpf_source_stats st = {0};

    if (!c->probes_asked) {
        return false;
    }
    if (c->bs != NULL) {
        bpf_source_get_stats(c->bs, &st);
    }
    return st.probes == 0 && (c->bs == NULL || st.failed > 0);
}

const struct collector_ops bpf_collector = {
    .name = "bpf",
    .start = bpf_collector_start,
    .stop = bpf_collector_stop,
    .run = bpf_collector_run,
    .flush = bpf_collector_flush,
    .fd = bpf_collector_fd,
    .readable = bpf_collector_readable,
    .problem = bpf_collector_problem,
    .failed = bpf_collector_failed,
    .child_exited = bpf_collector_child_exited,
};
