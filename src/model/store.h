/* SPDX-License-Identifier: MIT */
/* The store: per watched process, the latency tree, memory facts, kernels, counters, step
 * markers and threads, with since-start and rolling-window statistics. Pure (libc only):
 * collectors feed it events and facts; the row builder (rows.h) is its only reader. */
#ifndef NCTOP_SRC_STORE_H
#define NCTOP_SRC_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct matrix;
struct store;
struct store_proc;
struct store_thread;

/* The top-level node the spans of a full latency tree are folded into (store_config.max_nodes). */
#define STORE_OTHER_NAME "(other)"

/* Tunables. Zero fields take the defaults shown. */
struct store_config {
    uint64_t window_ns;      /* rolling window (10 s), a whole number of slots */
    uint64_t slot_ns;        /* rolling window slot width (1 s) */
    uint32_t max_nodes;      /* latency tree nodes per process (65536); the spans of paths
                              * beyond it are folded into one top-level STORE_OTHER_NAME node
                              * and counted (rows_summary.folded) */
    uint32_t max_depth;      /* open spans per thread (256); deeper: counted, dropped */
    uint32_t max_threads;    /* live thread records per process (4096) */
    uint32_t max_names;      /* interned names per process (1 << 20) */
    uint32_t max_kernels;    /* kernel table entries per process (16384) */
    uint64_t exited_keep_ns; /* how long a source keeps an exited or failed process (300 s) */
    uint32_t max_requests;   /* requests in flight tracked per process (4096); beyond it the
                              * least recently active one is evicted (counted as a loss) */
    const char *step_span;   /* borrowed: the span that is the workload's step (name of a span,
                              * or a path "a/b"); NULL: a span named "step", else the
                              * ITERATION markers, else no step figure */
};

enum store_proc_state {
    STORE_PROC_LIVE = 0,
    STORE_PROC_EXITED = 1, /* the process is gone; its last data stays */
    STORE_PROC_ERROR = 2,  /* its source failed (corrupt segment, ...): see the reason */
};

/* Memory kinds; the values equal enum nctop_mem_kind of nctop.h. */
enum store_mem_kind {
    STORE_MEM_POOL = 1,
    STORE_MEM_KV_CACHE = 2,
    STORE_MEM_OTHER = 3,
};
#define STORE_MEM_DEVICE 0x1U /* not in host RSS */

/* Step markers; the values equal enum nctop_step_kind of nctop.h. */
enum store_step_kind {
    STORE_STEP_REQUEST_BEGIN = 1,
    STORE_STEP_TOKEN = 2,
    STORE_STEP_REQUEST_END = 3, /* n = status: 0 ok, 2 cancelled, anything else failed */
    STORE_STEP_ITERATION = 4,
    STORE_STEP_PROMPT_TOKENS = 5, /* n prompt (prefill) tokens */
};
#define STORE_STEP_KIND_MAX 5

/* How requests end (STORE_STEP_REQUEST_END's n, enum nctop_request_status of nctop.h). */
enum store_request_result {
    STORE_REQ_OK = 0,
    STORE_REQ_FAILED = 1,
    STORE_REQ_CANCELLED = 2,
    STORE_REQ_NRESULTS = 3,
};

/* Create a store. cfg is borrowed and may be NULL. Returns an owned store (store_free). */
struct store *store_new(const struct store_config *cfg);
void store_free(struct store *st);

/* The configuration in force (defaults filled in). Borrowed, valid until store_free. */
const struct store_config *store_config(const struct store *st);

/* --- processes ------------------------------------------------------------------------ */

/* Add a watched process. label is copied. The returned pointer is borrowed and valid until
 * store_free or, after store_proc_remove, for STORE_REMOVED_GRACE_NS. */
struct store_proc *store_proc_add(struct store *st, int32_t pid, const char *label);

size_t store_nprocs(const struct store *st);
struct store_proc *store_proc_at(const struct store *st, size_t i);      /* borrowed; NULL if out */
struct store_proc *store_proc_find(const struct store *st, int32_t pid); /* newest with pid */

void store_proc_set_label(struct store_proc *p, const char *label); /* copied */
int32_t store_proc_pid(const struct store_proc *p);
/* Which process of that pid it is: its start time in clock ticks (/proc/<pid>/stat), 0 when
 * unknown. Sources that meet the same pid compare it before sharing the process. */
void store_proc_set_start_ticks(struct store_proc *p, uint64_t ticks);
uint64_t store_proc_start_ticks(const struct store_proc *p);
enum store_proc_state store_proc_state(const struct store_proc *p);
bool store_proc_host_valid(const struct store_proc *p); /* host facts were ever set */
/* The latest host facts (bytes, ns); false (and zeros) when none were ever set. */
bool store_proc_host(const struct store_proc *p, uint64_t *rss_bytes, uint64_t *rss_peak_bytes,
                     uint64_t *cpu_time_ns);
/* The pid of the process that started p (a source saw the fork: the eBPF collector following
 * a command's descendants); 0 when unknown. */
void store_proc_set_parent(struct store_proc *p, int32_t ppid);
int32_t store_proc_ppid(const struct store_proc *p);
/* How p ended: its exit status (0..255) when it exited, or the signal that killed it
 * (signal > 0; status is then 0). Kept apart from the state's reason so outputs can give the
 * number. */
void store_proc_set_exit(struct store_proc *p, int status, int signal);
/* The process is read back from a file (nctop replay): its outputs say replay, not live. */
void store_proc_set_replayed(struct store_proc *p);
bool store_proc_replayed(const struct store_proc *p);
/* Its part in a fleet read from Prometheus (collectors/fleet.c): a process of one instance,
 * or the fleet itself, whose latency rows carry the spread across the live members (rows.h
 * ROW_F_SPREAD). Not an event: a recording has no fleet. */
enum store_fleet_role {
    STORE_FLEET_NONE = 0,   /* a process watched here */
    STORE_FLEET_MEMBER = 1, /* a workload of one instance, read back from Prometheus */
    STORE_FLEET_ALL = 2,    /* the fleet: the figures of every member together */
};
void store_proc_set_fleet(struct store_proc *p, enum store_fleet_role role);
enum store_fleet_role store_proc_fleet(const struct store_proc *p);
bool store_proc_stepped(const struct store_proc *p); /* a step marker was ever seen */
/* Mark the process exited or failed; reason is copied (may be NULL). ts_ns: when. */
void store_proc_set_state(struct store_proc *p, enum store_proc_state state, const char *reason,
                          uint64_t ts_ns);

/* Intern a name in this process's name space and return its id (>= 1), the same for the
 * same string; 0 when the table is full (counted in the process's invalid count). name is
 * copied. Collectors map their own ids (segment string ids, BPF symbols) onto these. */
uint32_t store_proc_intern(struct store_proc *p, const char *name);

/* The name of an id, or NULL for an unknown id. Borrowed, valid until store_free. */
const char *store_proc_name(const struct store_proc *p, uint32_t id);

/* Count n invalid inputs (bad ids, unmatched span ends, corrupt records) with a reason that
 * is kept for display (the latest wins; copied). */
void store_proc_add_invalid(struct store_proc *p, uint64_t n, const char *reason);

/* Facts refreshed by collectors on each poll. Values are absolute, not deltas. */
void store_proc_set_dropped(struct store_proc *p, uint64_t dropped_events);

/* What was lost on the way from the workload to nctop, by cause. dropped_events (above) is
 * the workload's total of the event causes; these say why, and add what is not an event. */
enum store_loss {
    STORE_LOSS_RING_FULL = 0,       /* events dropped: the thread's ring was full */
    STORE_LOSS_NO_RING = 1,         /* events dropped: no free ring slot for the thread */
    STORE_LOSS_READER_STALL = 2,    /* events not written: nctop had not drained for too long */
    STORE_LOSS_REGISTRATION = 3,    /* names, gauges, counters, weights refused: a table was full */
    STORE_LOSS_LIMIT = 4,           /* entries beyond nctop's per-source limits, not read */
    STORE_LOSS_REQUEST_EVICTED = 5, /* requests in flight beyond max_requests: forgotten (the
                                     * store counts these itself) */
    STORE_LOSS_NKINDS = 6,
};
/* Set one loss count (absolute, like the counters it mirrors). Not seen by the observer: a
 * recording carries the total through store_proc_set_dropped. The store's own cause
 * (STORE_LOSS_REQUEST_EVICTED) cannot be set. */
void store_proc_set_loss(struct store_proc *p, enum store_loss what, uint64_t n);

/* Forget a process that is no longer live (its source decides when: exited_keep_ns). It
 * leaves store_nprocs/store_proc_at/store_proc_find at once; its memory, and so what rows
 * built before borrowed from it, stays valid for STORE_REMOVED_GRACE_NS more, then it is
 * freed. Returns 0, -EBUSY when an observer is set (a recording refers to every process
 * by its pointer, so nothing is forgotten while one runs) or -EINVAL for a live process. */
#define STORE_REMOVED_GRACE_NS (120ULL * 1000000000ULL)
int store_proc_remove(struct store_proc *p, uint64_t now_ns);
void store_proc_set_host(struct store_proc *p, uint64_t rss_bytes, uint64_t rss_peak_bytes,
                         uint64_t cpu_time_ns, uint64_t now_ns);
void store_gauge_set(struct store_proc *p, uint32_t name, enum store_mem_kind kind, unsigned flags,
                     uint64_t used_bytes, uint64_t capacity_bytes, uint64_t peak_bytes);
/* A weight tensor by dotted path ("layers.3.mlp.up_proj"); bytes 0 removes it. */
void store_weight_set(struct store_proc *p, uint32_t path, unsigned flags, uint64_t bytes);
/* A monotonic counter's current value; the store derives its rate over the window. */
void store_counter_set(struct store_proc *p, uint32_t name, uint64_t value, uint64_t now_ns);

/* A floating-point value the workload sets (an accuracy, a temperature, a measured power or
 * energy): name and unit are name ids (unit 0: none). The latest value wins; the store keeps
 * when it was set. */
void store_value_set(struct store_proc *p, uint32_t name, uint32_t unit, double value,
                     uint64_t ts_ns);
/* A process attribute the workload declares ("target", "chip", "model", ...): key and value
 * are name ids; value 0 removes it. */
void store_attr_set(struct store_proc *p, uint32_t key, uint32_t value);
/* The value of the attribute named key, or NULL when it is not set. Borrowed, valid until
 * store_free. */
const char *store_proc_attr(const struct store_proc *p, const char *key);

/* A matrix snapshot the workload published (nctop_matrix_publish): name and unit are name ids
 * (unit 0: none); m is copied (borrowed for the call). It replaces the previous snapshot of
 * that name. At most STORE_MAX_MATRICES per process and STORE_MATRIX_BYTES_MAX of values in
 * the store; beyond, the snapshot is refused and counted invalid. */
#define STORE_MAX_MATRICES 16U
#define STORE_MATRIX_BYTES_MAX (64ULL << 20)
void store_matrix_set(struct store_proc *p, uint32_t name, uint32_t unit, const struct matrix *m,
                      uint64_t ts_ns);

/* The time (CLOCK_MONOTONIC ns) of the latest event the process sent, or 0 before its first:
 * how long a workload has been silent (the health of /healthz). */
uint64_t store_proc_last_event_ns(const struct store_proc *p);

/* --- threads and events (the ingest hot path: no allocation in steady state) ----------- */

/* Add a thread of p. name is copied (may be NULL). Borrowed until store_thread_exit. Returns
 * NULL beyond max_threads live threads (counted invalid); every function taking a thread
 * ignores a NULL one. */
struct store_thread *store_thread_add(struct store_proc *p, int32_t tid, const char *name);
void store_thread_set_name(struct store_thread *t, const char *name);
/* The thread is gone: its open spans are discarded; the pointer is invalid afterwards. */
void store_thread_exit(struct store_thread *t, uint64_t ts_ns);

/* Events of t were lost (dropped by a full ring, or the process died mid-span): discard its
 * open spans without counting them invalid. */
void store_thread_gap(struct store_thread *t);

/* Nested spans per thread. An end closes the innermost open span with that name (spans
 * opened inside it and not closed are discarded and counted); an end that matches nothing
 * (its begin predates attaching) is counted and ignored. */
void store_span_begin(struct store_thread *t, uint32_t name, uint64_t ts_ns);
void store_span_end(struct store_thread *t, uint32_t name, uint64_t ts_ns);
/* A run of span begins, plain ends and kernels of one thread (t not NULL), in order: what
 * store_span_begin, store_span_end and store_kernel do for each, with the per-call checks
 * made once for the run (the ring reader's fast path). */
enum store_batch_kind { STORE_BATCH_BEGIN, STORE_BATCH_END, STORE_BATCH_KERNEL };
struct store_batch_ev {
    uint32_t name;
    uint32_t kind;    /* enum store_batch_kind */
    uint64_t ts_ns;   /* a kernel's start */
    uint64_t dur_ns;  /* a kernel's */
    uint32_t backend; /* a kernel's */
};
void store_batch(struct store_thread *t, const struct store_batch_ev *ev, size_t n);

/* The thread's events before ts_ns were not seen (a late attach, a gap): where it stands in
 * its span stack is unknown. Its open spans are forgotten and its events from ts_ns on are
 * held until it is back at its top level: a begin with nothing open that repeats the span
 * that last closed there, or any begin with nothing open when no span begun before has
 * ended for STORE_RESYNC_WAIT_NS. An end whose begin was not seen drops what was held (all
 * of it was nested in that span), so spans whose begin was not seen are neither counted nor
 * shown, and nor are the spans inside them. */
#define STORE_RESYNC_WAIT_NS 1000000000ULL
void store_thread_resync(struct store_thread *t, uint64_t ts_ns);

/* --- one thread, two sources -----------------------------------------------------------
 * A workload's thread is seen through its own events (libnctop's ring: STORE_SRC_OWN) and
 * through probes (eBPF uprobes and USDT: STORE_SRC_PROBE). Both feed one store thread, found
 * by tid, so that probe spans nest in the workload's spans and the other way round. The two
 * streams reach nctop at different moments: while a process has both (its own source is on
 * and a probe source exists), each thread's events wait in a queue per source and are
 * applied in timestamp order once both sources have delivered everything before that time.
 * Timestamps of both are CLOCK_MONOTONIC. */
enum store_src {
    STORE_SRC_OWN = 0,
    STORE_SRC_PROBE = 1,
};

/* The thread of p with tid that the other source shares (its name set when given), else a
 * new one (NULL beyond max_threads). Borrowed until this source's store_thread_unshare. A
 * thread made by store_thread_add is never shared. */
struct store_thread *store_thread_share(struct store_proc *p, int32_t tid, const char *name,
                                        enum store_src src);
/* This source is done with t at ts_ns (the thread exited, or it stops watching): the thread
 * goes when neither source holds it (store_thread_exit), once the other source has delivered
 * its events dated before ts_ns (until then the other's thread of that tid may join it). t
 * is invalid for src afterwards. */
void store_thread_unshare(struct store_thread *t, enum store_src src, uint64_t ts_ns);

/* Spans seen by probes. Like store_span_begin/end, but an end that matches nothing is a
 * call whose entry was not seen (the probe was attached during it): ignored, not invalid.
 * Spans of the two sources may cross (a probed function returns inside a span it began):
 * an end closes its span and leaves those of the other source open. */
void store_probe_begin(struct store_thread *t, uint32_t name, uint64_t ts_ns);

/* An end with a status (nctop_span_end_status): status 0 ok, else the name id of the error
 * message. Counted per path (ok, failed, the latest message); the instance is kept one by
 * one (up to STORE_MAX_INSTANCES per process, the latest), with its attributes and the spans
 * inside it. */
void store_span_end_status(struct store_thread *t, uint32_t name, uint32_t status, uint64_t ts_ns);
/* An attribute (key, value: name ids) of t's innermost open span. The outermost span of the
 * thread given one becomes an instance kept one by one (a compilation), the spans inside it
 * (its passes) with it; attributes of spans inside it are its own. */
void store_span_attr(struct store_thread *t, uint32_t key, uint32_t value, uint64_t ts_ns);
void store_probe_end(struct store_thread *t, uint32_t name, uint64_t ts_ns);

/* The own source of p is on (a libnctop segment is attached) or off (it is gone). */
void store_proc_own_source(struct store_proc *p, bool on);
/* p's own source has delivered every event of every thread of p dated before ts_ns. */
void store_proc_own_time(struct store_proc *p, uint64_t ts_ns);

/* When a probe source has no event waiting: the time before which it has delivered all of
 * them (0: cannot tell). Called from the store, so it must not call back into it. */
typedef uint64_t (*store_clock_fn)(void *ctx);
/* A probe source exists (on) or no longer does. idle (may be NULL) and ctx are borrowed
 * until the next call. */
void store_probe_source(struct store *st, bool on, store_clock_fn idle, void *ctx);
/* The probe source has delivered every event of every process dated before ts_ns. */
void store_probe_time(struct store *st, uint64_t ts_ns);
/* No more probe events will come for p (its probes are detached). */
void store_proc_probe_done(struct store_proc *p);

/* An allocation (> 0) or release (< 0) attributed to the innermost open span of t. */
void store_mem_delta(struct store_thread *t, int64_t bytes, uint64_t ts_ns);
/* One kernel execution. start_ns is when it ran, not when it was reported. */
void store_kernel(struct store_proc *p, uint32_t name, uint32_t backend, uint64_t start_ns,
                  uint64_t dur_ns);
/* A step marker of request 0 (store_request_step with request 0). */
void store_step(struct store_proc *p, enum store_step_kind kind, uint64_t n, uint64_t ts_ns);
/* A step marker of a request by id: TTFT (BEGIN to the first TOKEN), inter-token latency
 * (TOKEN to TOKEN, the gap shared by the n tokens), end-to-end latency (BEGIN to END), prompt
 * and generated tokens per request, requests running and finished by result. A request
 * seen first at a TOKEN or PROMPT_TOKENS (begun before attaching) has no TTFT or end-to-end
 * latency. TOKEN does not touch the counter table (it is the source of "tokens"). Requests
 * in flight live in a table of max_requests entries. ITERATION ignores the request. */
void store_request_step(struct store_proc *p, enum store_step_kind kind, uint64_t request,
                        uint64_t n, uint64_t ts_ns);

/* Events ingested for p so far (for events/s). */
void store_proc_add_events(struct store_proc *p, uint64_t n);

/* --- imported statistics (replayed logs carry rows, not events) ------------------------- */

/* Bits of struct store_import_stats.absent: the figures the log did not have (a seed log has
 * only last and average). An absent figure is 0 in the struct and shown as absent. */
#define STORE_STAT_COUNT 0x001U
#define STORE_STAT_TOTAL 0x002U
#define STORE_STAT_LAST 0x004U
#define STORE_STAT_MEAN 0x008U
#define STORE_STAT_MIN 0x010U
#define STORE_STAT_MAX 0x020U
#define STORE_STAT_P50 0x040U
#define STORE_STAT_P95 0x080U
#define STORE_STAT_P99 0x100U
#define STORE_STAT_ALL 0x1FFU

/* The figures of one latency row read back from a log. */
struct store_import_stats {
    uint32_t absent; /* STORE_STAT_* bits */
    uint64_t count;
    uint64_t total_ns;
    uint64_t last_ns;
    uint64_t mean_ns;
    uint64_t min_ns;
    uint64_t max_ns;
    uint64_t p50_ns;
    uint64_t p95_ns;
    uint64_t p99_ns;
    bool share_valid;
    double share_pct; /* of the parent, as the log had it */
};

/* Set the statistics of the latency node at path (depth name ids from the top level down),
 * creating the nodes as spans would. They replace the previous import of that node and are
 * shown while the node has no samples of its own. stats is copied. */
void store_node_import(struct store_proc *p, const uint32_t *path, size_t depth,
                       const struct store_import_stats *stats, uint64_t ts_ns);

/* Imported memory rows: the latest log line's rows, emitted after the live memory rows in
 * the order given. Clear drops them; each add appends one (label: a name id; flags:
 * STORE_MEM_DEVICE and STORE_IMPORT_PEAK). */
#define STORE_IMPORT_PEAK 0x100U /* peak_bytes is known */
void store_mem_import_clear(struct store_proc *p);
void store_mem_import(struct store_proc *p, uint16_t level, uint32_t label, unsigned flags,
                      int64_t bytes, int64_t peak_bytes, uint64_t capacity_bytes);

/* The seed's breakdown of a memory row: how much of it is tensor-pool, KV-pool and KV-cache
 * memory, now and at peak. */
enum store_part {
    STORE_PART_POOL = 0,
    STORE_PART_KV = 1,
    STORE_PART_KV_CACHE = 2,
    STORE_NPARTS = 3,
};
struct store_mem_parts {
    int64_t bytes[STORE_NPARTS];
    int64_t peak_bytes[STORE_NPARTS];
};
/* Give the last imported memory row its breakdown (copied); a no-op when there is none. */
void store_mem_import_parts(struct store_proc *p, const struct store_mem_parts *parts);

/* --- observing the event API (nctop record) ---------------------------------------------- */

enum store_event_type {
    STORE_EV_PROC_ADD = 1, /* i = pid, str = label */
    STORE_EV_LABEL,        /* str */
    STORE_EV_STATE,        /* id = state, str = reason (may be NULL), ts */
    STORE_EV_INVALID,      /* a = n, str = reason (may be NULL) */
    STORE_EV_NAME,         /* id = the new name id, str = the name */
    STORE_EV_DROPPED,      /* a = dropped events */
    STORE_EV_HOST,         /* a = rss, b = rss peak, c = cpu time ns, ts */
    STORE_EV_GAUGE,        /* id = name, aux = kind | flags << 16, a = used, b = capacity,
                            * c = peak */
    STORE_EV_WEIGHT,       /* id = path, aux = flags, a = bytes */
    STORE_EV_COUNTER,      /* id = name, a = value, ts */
    STORE_EV_EVENTS,       /* a = n */
    STORE_EV_THREAD_ADD,   /* thread, i = tid, str = name (may be NULL) */
    STORE_EV_THREAD_NAME,  /* thread, str */
    STORE_EV_THREAD_EXIT,  /* thread, ts */
    STORE_EV_THREAD_GAP,   /* thread: the open spans of its own source go */
    STORE_EV_SPAN_BEGIN,   /* thread, id = name, ts (its own source) */
    STORE_EV_SPAN_END,     /* thread, id = name, ts */
    STORE_EV_MEM_DELTA,    /* thread, i = bytes, ts */
    STORE_EV_KERNEL,       /* id = name, aux = backend, ts = start, a = duration ns */
    STORE_EV_STEP,         /* id = kind, a = n, b = request id, ts */
    STORE_EV_NODE_IMPORT,  /* path, depth, stats, ts */
    STORE_EV_MEM_IMPORT_CLEAR,
    STORE_EV_MEM_IMPORT, /* level, id = label, aux = flags, i = bytes, a = peak, b = capacity */
    STORE_EV_MEM_IMPORT_PARTS, /* parts */
    STORE_EV_LOSS,             /* id = enum store_loss, a = n */
    STORE_EV_SYS_THREAD,       /* i = tid, str = name (may be NULL), aux = exited, sched */
    STORE_EV_SYS_CALL,         /* id = nr, str = name (may be NULL), a = count, b = total ns */
    STORE_EV_SYS_MAPPED,       /* a = mmap bytes, b = munmap bytes, i = brk bytes */
    STORE_EV_SYS_DROPPED,      /* a = events the eBPF collector lost */
    STORE_EV_GPUS,             /* proc NULL: the machine's devices, gpus[depth], str = error */
    STORE_EV_PROC_GPU,         /* path = device indexes, depth = n, values = their bytes */
    STORE_EV_PROBE_BEGIN,      /* thread, id = name, ts (a probe's span) */
    STORE_EV_PROBE_END,        /* thread, id = name, ts */
    STORE_EV_THREAD_GAP_ALL,   /* thread: the open spans of both sources go */
    STORE_EV_VALUE,            /* id = name, aux = unit, a = the double's bits, ts */
    STORE_EV_ATTR,             /* id = key, aux = value (0: removed) */
    STORE_EV_SPAN_STATUS,      /* thread, id = name, aux = status (0 ok, else the error's
                                * name id), ts: an end with a status */
    STORE_EV_SPAN_ATTR,        /* thread, id = key, aux = value, ts */
    STORE_EV_PARENT,           /* i = the parent's pid */
    STORE_EV_EXIT,             /* i = exit status, aux = the signal that killed it (0: none) */
    STORE_EV_GPU_POWER,        /* proc NULL: id = device index, aux = STORE_GPU_HAS_* bits,
                                * a = power mW, b = energy mJ, c = compute processes, ts */
    STORE_EV_RAPL_ZONE,        /* proc NULL: str = zone, a = energy uJ (unwrapped), ts */
    STORE_EV_RAPL_STATE,       /* proc NULL: str = why no zone is read (NULL: they are) */
    STORE_EV_MATRIX,           /* id = name, aux = unit, matrix = the snapshot, ts */
};

struct store_sched;
struct store_gpu_dev;

/* One call of the event API as an observer sees it. Pointers are borrowed for the duration
 * of the callback; proc and thread identify the process and thread (a thread pointer is not
 * reused before its STORE_EV_THREAD_EXIT). */
struct store_event {
    enum store_event_type type;
    struct store_proc *proc;
    struct store_thread *thread; /* thread events, else NULL */
    uint32_t id;
    uint32_t aux;
    uint16_t level;
    uint64_t ts_ns;
    int64_t i;
    uint64_t a;
    uint64_t b;
    uint64_t c;
    const char *str;
    const uint32_t *path;
    size_t depth;
    const struct store_import_stats *stats;
    const struct store_sched *sched;  /* STORE_EV_SYS_THREAD */
    const struct store_gpu_dev *gpus; /* STORE_EV_GPUS */
    const uint64_t *values;           /* STORE_EV_PROC_GPU */
    const struct store_mem_parts *parts;
    const struct matrix *matrix; /* STORE_EV_MATRIX */
};

typedef void (*store_observer_fn)(void *ctx, const struct store_event *ev);

/* The store's one door: apply one event. Every call of the event API above is this call
 * with its fields filled in, and replay is decoding plus this call. The observer sees each
 * event that passes here and changes something (a set to the value already there, a probe's
 * end of a call entered before the probe came, a thread refused: not seen), after it is
 * applied, with what it made filled in; a thread's exit is seen before the thread goes.
 * PROC_ADD makes a process and THREAD_ADD a thread (ev's proc, thread and id are ignored
 * for what they make); NAME interns str and gives its id (the same id for the same string). */
struct store_made {
    struct store_proc *proc;     /* PROC_ADD */
    struct store_thread *thread; /* THREAD_ADD: NULL when refused */
    uint32_t id;                 /* NAME: 0 when the table is full */
};
struct store_made store_apply(struct store *st, const struct store_event *ev);

/* Call fn(ctx, event) for every call of the event API from now on (fn NULL: stop). Only
 * calls from outside the store are reported, not what the store derives from them, so
 * replaying the events into an empty store rebuilds the same state. */
void store_set_observer(struct store *st, store_observer_fn fn, void *ctx);

#endif /* NCTOP_SRC_STORE_H */
