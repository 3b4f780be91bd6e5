/* SPDX-License-Identifier: MIT */
/* The store's private definitions, shared by store.c (the writer) and rows.c (its only
 * reader). Nothing else includes this header. */
#ifndef NCTOP_SRC_STORE_INTERNAL_H
#define NCTOP_SRC_STORE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "src/base/hmap.h"
#include "src/base/strtab.h"
#include "src/model/hist.h"
#include "src/model/store.h"

#define STORE_NONE UINT32_MAX    /* "no node/entry" in index fields */
#define STORE_ROOT 0U            /* index of the virtual root of the latency tree */
#define STORE_REASON_MAX 128     /* bytes kept of an invalid-input reason */
#define STORE_THREAD_NAME_MAX 32 /* bytes kept of a thread name */
#define STORE_MAX_ATTRS 64       /* attributes per process */
#define STORE_KERNEL_HINTS 16U   /* kernels found without the hash map (store_kernel) */

/* A map from a 64-bit key to a 32-bit index: the one hash map, keyed by hash_u64(key)
 * (one-to-one, so the hash is the key). */
struct store_map {
    struct hmap m;
};

/* One rolling-window slot: the samples whose time falls in [epoch, epoch + 1) * slot_ns. */
struct store_slot {
    struct store_slot *next_free; /* link in the process's free list while unused */
    uint64_t epoch;               /* slot number: time / slot_ns */
    uint64_t start_ns;            /* epoch * slot_ns: t falls in it when t - start_ns < slot_ns */
    struct hist h;
};

/* Figures the row builder (rows.c) computed from a histogram of a series, with the version
 * they were computed from: a series that did not change is not walked again. */
#define STORE_MEMO_NPCT 3U
struct store_memo_stats {
    uint64_t gen;  /* the series' gen they were computed at; 0: never */
    uint64_t slot; /* for the window: the slot it ended in */
    uint64_t count;
    uint64_t sum_ns;
    uint64_t min_ns;
    uint64_t max_ns;
    uint64_t pct_ns[STORE_MEMO_NPCT];
    uint32_t have; /* bit j: pct_ns[j] is computed (a lazy build computes some) */
};

struct store_series_memo {
    struct store_memo_stats win; /* of the window */
    struct store_memo_stats all; /* since start */
};

/* The memos of a process, handed out in the order series get their first sample (for a tree,
 * depth first), side by side: the row builder reads them in that order. Never moved. */
#define STORE_MEMO_CHUNK 256U
struct store_memo_chunk {
    struct store_memo_chunk *next; /* the one filled before */
    uint32_t used;
    struct store_series_memo m[STORE_MEMO_CHUNK];
};

/* A duration series: last sample, since-start histogram, rolling window. What a frame reads
 * of a series that changed comes first (the times, the memo, the slots and the window's
 * counts and extremes, the head of win_closed), so that within a node it is one cache line
 * with the node's own figures. */
struct store_series {
    uint64_t last_ns; /* the most recent sample */
    uint64_t gen;     /* bumped by every change of its samples (one added, a slot freed):
                       * equal gens, equal histograms; 0 before the first sample */
    struct store_series_memo *memo; /* the row builder's, given with win (from the
                                     * process's memo chunks), else NULL; it writes there
                                     * through a const series. With last_ns and gen, all a
                                     * row reads here when nothing changed */
    struct store_slot *open;        /* the slot of the latest sample (the newest in win), where
                                     * a sample goes with its since-start one; NULL when none */
    struct store_slot **win;        /* ring of nslots slot pointers (slot s at s % nslots), each
                                     * NULL while it holds nothing; the ring itself is allocated at
                                     * the first sample */
    struct hist win_closed;         /* the samples of every slot in win but the open one, kept
                                     * as slots close and expire: the window is it and the open
                                     * slot, with no merge (min_ns and max_ns are its slots') */
    struct hist all_closed;         /* since start, but for the open slot's samples: those
                                     * join it as the slot closes (or leaves the window), so a
                                     * sample is counted once, in its slot. Since start is it
                                     * and the open slot (store_series_total and the others) */
};

/* The open slot's histogram of s, or NULL: with all_closed, the samples since start. */
static inline const struct hist *store_series_open(const struct store_series *s)
{
    return s->open != NULL ? &s->open->h : NULL;
}

/* The samples since start, and their sum, without merging the two parts. */
static inline uint64_t store_series_count(const struct store_series *s)
{
    return s->all_closed.count + (s->open != NULL ? s->open->h.count : 0);
}

static inline uint64_t store_series_sum(const struct store_series *s)
{
    return s->all_closed.sum_ns + (s->open != NULL ? s->open->h.sum_ns : 0);
}

/* The extremes of the samples since start (meaningful when store_series_count > 0). */
static inline void store_series_extremes(const struct store_series *s, uint64_t *min_ns,
                                         uint64_t *max_ns)
{
    const struct hist *a = &s->all_closed, *b = store_series_open(s);

    if (b == NULL || b->count == 0) {
        *min_ns = a->min_ns;
        *max_ns = a->max_ns;
    } else if (a->count == 0) {
        *min_ns = b->min_ns;
        *max_ns = b->max_ns;
    } else {
        *min_ns = a->min_ns < b->min_ns ? a->min_ns : b->min_ns;
        *max_ns = a->max_ns > b->max_ns ? a->max_ns : b->max_ns;
    }
}

/* A latency tree node: a (parent, name) pair. Node 0 is the virtual root. The tree's links,
 * the node's figures and the head of its series fill the first two cache lines, all that a
 * frame reads of a node whose series changed (and the ingest of one of its spans). */
struct store_node {
    uint32_t name;        /* store name id */
    uint32_t parent;      /* node index; STORE_NONE for the root */
    uint32_t first_child; /* children in first-seen order: first, last, and each child's */
    uint32_t last_child;  /* next sibling (STORE_NONE ends the list) */
    uint32_t next_sibling;
    uint32_t nchildren;
    uint32_t hint;       /* the child last looked up under it (STORE_NONE: none yet): the
                          * next begin inside it is nearly always that one or its next
                          * sibling, found without the hash map */
    uint16_t level;      /* 0 for top-level spans (and for the root) */
    bool mem_seen;       /* a completed instance saw memory delta events (even netting 0) */
    uint32_t last_error; /* name id of the latest error message, 0: none */
    uint32_t import;     /* index in proc->imports of statistics read from a log, or 0 (none) */
    uint64_t ok;         /* instances that ended with status ok (store_span_end_status) */
    uint64_t failed;     /* ... with an error */
    struct store_series s;
    int64_t mem_last_bytes; /* net delta of the last completed instance (inclusive) */
    int64_t mem_peak_bytes; /* largest such delta */
};

/* A memory row read back from a log (store_mem_import). */
struct store_mem_row {
    uint16_t level;
    uint32_t label; /* name id */
    unsigned flags; /* STORE_MEM_DEVICE, STORE_IMPORT_PEAK */
    int64_t bytes;
    int64_t peak_bytes;
    uint64_t capacity_bytes;
    bool has_parts; /* parts is the log's breakdown */
    struct store_mem_parts parts;
};

struct store_kernel {
    uint32_t name;
    uint32_t backend;
    struct store_series s;
};

struct store_gauge {
    uint32_t name;
    uint16_t kind;  /* enum store_mem_kind */
    uint16_t flags; /* STORE_MEM_* */
    uint64_t used_bytes;
    uint64_t capacity_bytes; /* 0: none */
    uint64_t peak_bytes;
};

struct store_weight {
    uint32_t path;  /* name id of the dotted path */
    uint32_t flags; /* STORE_MEM_* */
    uint64_t bytes; /* 0: unregistered (kept to preserve first-seen order) */
};

/* (time, value) samples of a monotonic value, to derive its rate over the window. */
struct store_rate {
    uint64_t *t_ns; /* ring of sample times, cap entries, allocated at the first sample */
    uint64_t *val;  /* ring of sample values */
    uint32_t cap;
    uint32_t head; /* index of the oldest sample */
    uint32_t n;    /* samples held */
    bool have_last;
    uint64_t last_t_ns; /* the latest point, sampled or not */
    uint64_t last_val;
};

struct store_counter {
    uint32_t name;
    uint64_t value;
    struct store_rate rate;
};

/* A value the workload set (store_value_set). */
struct store_value {
    uint32_t name;
    uint32_t unit;
    double v;
    uint64_t ts_ns;
};

/* A matrix snapshot (store_matrix_set): the latest of its name. */
struct store_matrix {
    uint32_t name;
    uint32_t unit;
    uint64_t ts_ns;   /* of the latest snapshot */
    uint64_t updates; /* snapshots taken */
    struct matrix *m; /* one reference is the store's */
};

/* A process attribute (store_attr_set). */
struct store_attr {
    uint32_t key;
    uint32_t value;
};

/* One open span of a thread. */
struct store_frame {
    uint32_t node; /* node index, or STORE_NONE when the tree was full */
    uint32_t name;
    uint64_t begin_ns;
    int64_t mem_bytes; /* net memory delta inside this span so far (children included) */
    bool mem_touched;  /* a delta event landed in this span or in a child that ended */
    uint8_t src;       /* enum store_src of its begin */
};

#define STORE_NSRC 2U /* enum store_src values */

/* A thread event not applied yet: waiting for the other source (two-source merge) or held
 * until the thread is back at its top level (resync). */
enum store_op_type {
    STORE_OP_BEGIN = 1,
    STORE_OP_END = 2,
    STORE_OP_MEM = 3,    /* bytes */
    STORE_OP_GAP = 4,    /* store_thread_gap */
    STORE_OP_RESYNC = 5, /* store_thread_resync */
    STORE_OP_STATUS = 6, /* an end with a status: bytes = the status (0 ok, else a name id) */
    STORE_OP_ATTR = 7,   /* name = key, bytes = value */
};

struct store_op {
    uint64_t ts_ns;
    int64_t bytes;
    uint32_t name;
    uint8_t type; /* enum store_op_type */
    uint8_t src;  /* enum store_src */
};

/* A FIFO of ops: a ring of cap entries (a power of two; 0 before the first push). */
struct store_opq {
    struct store_op *v;
    uint32_t cap;
    uint32_t head;
    uint32_t n;
};

struct store_thread {
    struct store_proc *proc;
    int32_t tid;
    uint32_t index; /* position in proc->threads */
    char name[STORE_THREAD_NAME_MAX];
    struct store_frame *frames; /* open spans, innermost last */
    uint32_t depth;
    uint32_t frames_cap;
    uint32_t overflow; /* begins refused beyond max_depth and not yet ended */

    uint8_t holders;    /* 1 << enum store_src of the sources sharing it */
    bool parked;        /* both sources let go, one may still have events of it on their way */
    uint64_t parked_ns; /* since when (store_thread_unshare) */
    struct store_opq q[STORE_NSRC]; /* per source: events waiting for the other source */
    uint64_t last_ns[STORE_NSRC];   /* per source: the latest event time queued */

    /* Resync (store_thread_resync): while unsynced, events go to held, not to the tree. */
    bool unsynced;
    uint64_t unsynced_ns;  /* since when, or since its last drop of what was held */
    uint32_t last_top;     /* the span that last closed with nothing else open; 0: none */
    struct store_opq held; /* events since the last drop, applied when back at the top */
    uint32_t *shadow;      /* names of the held spans still open, innermost last */
    uint32_t shadow_depth;
    uint32_t shadow_cap;

    /* The instance open on this thread (the outermost span given an attribute), or NULL. */
    struct store_instance *inst;
    uint32_t inst_frame; /* its frame index */
};

/* A span instance the store keeps one by one: it ended with a status or carried attributes
 * (a compilation), with the spans inside it (its passes). */
#define STORE_SPAN_ATTRS 4      /* attributes kept per instance */
#define STORE_INST_CHILDREN 64  /* spans inside an instance kept with it, outer first */
#define STORE_MAX_INSTANCES 256 /* instances kept per process, the latest */
#define STORE_INST_NONE 0       /* ended without a status */
#define STORE_INST_OK 1
#define STORE_INST_FAILED 2

struct store_inst_child {
    uint32_t node;
    uint16_t level; /* below the instance: 1 for its children */
    uint64_t begin_ns;
    uint64_t dur_ns;
    int64_t mem_bytes; /* net memory delta inside it */
};

/* Every instance ever ended, counted by its "target" and "model" attributes (0: absent) and
 * result, with its durations: what stays when the log of instances has moved on. Beyond
 * STORE_MAX_INST_STATS label pairs, the rest fold into target = model = STORE_NONE. */
#define STORE_MAX_INST_STATS 64
/* The direct children (passes) of the instances of one label pair, by name: beyond
 * STORE_INST_PASSES - 1 names the rest fold into name = STORE_NONE. */
#define STORE_INST_PASSES 16
struct store_inst_pass {
    uint32_t name;
    struct hist dur;
};
struct store_inst_stat {
    uint32_t target;
    uint32_t model;
    uint64_t n[3]; /* by STORE_INST_* */
    struct hist dur;
    uint32_t npasses;
    struct store_inst_pass *passes; /* STORE_INST_PASSES, allocated at the first pass */
};

struct store_instance {
    uint32_t node; /* STORE_NONE when the tree was full */
    uint32_t name;
    uint8_t status;   /* STORE_INST_* */
    uint32_t message; /* name id of the error, 0 for none */
    uint64_t begin_ns;
    uint64_t end_ns;
    int64_t mem_net;  /* net memory delta inside it */
    int64_t mem_peak; /* largest running delta inside it */
    int64_t mem_run;
    uint8_t nattrs;
    struct store_attr attrs[STORE_SPAN_ATTRS];
    uint16_t nchildren;
    uint32_t children_lost; /* spans inside beyond STORE_INST_CHILDREN */
    struct store_inst_child children[STORE_INST_CHILDREN];
};

/* One request in flight. */
struct store_request {
    uint64_t id;
    uint64_t begin_ns;       /* valid with begun */
    uint64_t first_token_ns; /* valid with have_token */
    uint64_t last_token_ns;  /* valid with have_token */
    uint64_t prompt_tokens;
    uint64_t gen_tokens;
    uint32_t prev; /* the activity list: most recent first (STORE_NONE ends it); the */
    uint32_t next; /* free list reuses next */
    bool begun;    /* its BEGIN was seen */
    bool have_token;
};

/* Requests in flight: entries, an open-addressing index over their ids and the activity list
 * whose tail is evicted when the table is full. Grown by doubling up to max_requests. */
struct store_requests {
    struct store_request *v;
    uint32_t cap;    /* entries allocated */
    uint32_t n;      /* entries in use: the requests running */
    struct hmap idx; /* hash_u64(request id) -> entry */
    uint32_t head;   /* most recently active */
    uint32_t tail;   /* least recently active */
    uint32_t free;   /* first free entry */
};

struct store_gpu_proc;
struct store_gpus;
struct store_sys;

struct store_proc {
    struct store *st;
    int32_t pid;
    uint64_t start_ticks; /* the process's start time, to tell a reused pid; 0 = unknown */
    int32_t ppid;         /* its parent's pid when a source saw the fork, 0 = unknown */
    bool exit_valid;      /* how it ended is known: */
    int exit_status;      /* its exit status (signal 0) */
    int exit_signal;      /* the signal that killed it, 0: none */
    char *label;
    enum store_proc_state state;
    bool replayed; /* read back from a file, not watched live */
    /* its part in a fleet (store_proc_set_fleet) */
    enum store_fleet_role fleet;
    char *reason;
    uint64_t state_ts_ns;

    struct strtab names; /* name ids 1, 2, ... */

    uint64_t invalid;
    char invalid_reason[STORE_REASON_MAX]; /* empty when none */
    uint64_t dropped;
    uint64_t losses[STORE_LOSS_NKINDS]; /* by cause, absolute (store_proc_set_loss) */
    uint64_t late_ends;                 /* span ends with no span open: begun before we attached */
    bool own_source;                    /* store_proc_own_source */
    uint64_t own_ns;                    /* store_proc_own_time */
    bool probe_done;                    /* store_proc_probe_done */
    uint64_t queued;                    /* ops waiting in the threads' queues */
    uint32_t nparked;                   /* threads parked (store_thread_unshare) */
    uint64_t removed_ns;                /* when store_proc_remove took it out (in st->removed) */

    bool host_valid;
    uint64_t rss_bytes;
    uint64_t rss_peak_bytes;
    struct store_rate cpu; /* cpu_time_ns over time */

    uint64_t events;
    struct store_rate events_rate;

    struct store_node *nodes; /* nodes[0] is the virtual root */
    uint32_t nnodes;
    uint32_t mem_scopes; /* nodes that saw memory deltas (mem_seen): none, no Scope Deltas walk */
    uint32_t other;      /* the "(other)" node spans fold into once the tree is full, 0: none yet */
    uint64_t folded;     /* span begins folded into it (theirs and their descendants') */
    uint32_t nodes_cap;
    struct store_map node_map; /* (parent << 32 | name) -> node */

    struct store_kernel *kernels;
    uint32_t nkernels;
    uint32_t kernels_cap;
    struct store_map kernel_map;              /* (name << 32 | backend) -> kernel */
    uint32_t kernel_hint[STORE_KERNEL_HINTS]; /* 1 + the kernel last seen with a name of each
                                               * name % STORE_KERNEL_HINTS; 0: none */

    struct store_gauge *gauges;
    uint32_t ngauges;
    uint32_t gauges_cap;
    struct store_map gauge_map;

    struct store_weight *weights;
    uint32_t nweights;
    uint32_t weights_cap;
    struct store_map weight_map;

    struct store_counter *counters;
    uint32_t ncounters;
    uint32_t counters_cap;
    struct store_map counter_map;
    struct store_value *values;
    uint32_t nvalues;
    uint32_t values_cap;
    struct store_map value_map;
    struct store_matrix matrices[STORE_MAX_MATRICES]; /* in the order first published */
    uint32_t nmatrices;
    struct store_attr *attrs; /* in the order first set */
    uint32_t nattrs;
    uint32_t attrs_cap;
    struct store_instance *insts; /* a ring of STORE_MAX_INSTANCES, allocated at the first */
    uint32_t ninsts;              /* kept (<= STORE_MAX_INSTANCES) */
    uint32_t inst_next;           /* where the next goes */
    uint64_t insts_total;         /* ever ended */
    struct store_inst_stat *inst_stats;
    uint32_t ninst_stats;

    struct store_thread **threads; /* live threads */
    uint32_t nthreads;
    uint32_t threads_cap;

    /* step markers and requests */
    struct store_series ttft;
    struct store_series itl;
    struct store_series e2e; /* request begin to end */
    struct store_series iter;
    struct hist req_prompt; /* prompt tokens per finished request (counts, not ns) */
    struct hist req_gen;    /* generated tokens per finished request */
    struct store_requests reqs;
    bool stepped;  /* a step marker was ever seen */
    bool requests; /* a request marker was ever seen */
    bool have_iter;
    uint64_t last_iter_ns;
    uint64_t req_finished[STORE_REQ_NRESULTS]; /* requests ended, by result */
    uint64_t req_evicted;                      /* requests forgotten: the table was full */
    uint64_t prompt_tokens;                    /* prompt tokens seen since attaching */
    uint64_t gen_tokens;                       /* generated tokens seen since attaching */

    /* the ingest clock: the latest event time seen, and the window slot it falls in */
    uint64_t clock_ns;
    uint64_t cur_slot;
    uint64_t cur_slot_start_ns;
    uint64_t slot_ns;               /* the store's cfg.slot_ns, at hand for each sample */
    uint32_t cur_ring;              /* cur_slot % nslots */
    struct store_slot *free_slots;  /* released window slots, reused before allocating */
    struct store_memo_chunk *memos; /* the series' memos, newest chunk first */

    /* imported from logs: node statistics (imports[0] unused) and memory rows */
    struct store_import_stats *imports;
    uint32_t nimports;
    uint32_t imports_cap;
    struct store_mem_row *mem_rows;
    uint32_t nmem_rows;
    uint32_t mem_rows_cap;
    bool mem_row_taken; /* the last store_mem_import made a row (its parts may follow) */

    struct store_sys *sys;      /* system facts from the eBPF collector (store_sys.h), or NULL */
    struct store_gpu_proc *gpu; /* GPU memory (store_gpu.h), or NULL */
};

struct store {
    struct store_config cfg;
    uint32_t nslots; /* window_ns / slot_ns */
    struct store_proc **procs;
    size_t nprocs;
    size_t procs_cap;
    struct store_proc **removed; /* removed, freed after STORE_REMOVED_GRACE_NS; oldest first */
    size_t nremoved;
    size_t removed_cap;
    char *step_span;            /* owned copy of cfg.step_span, or NULL */
    store_observer_fn observer; /* nctop record; NULL when nobody observes */
    void *observer_ctx;
    struct store_gpus *gpus;   /* the machine's GPUs (store_gpu.h), or NULL */
    struct store_power *power; /* the machine's RAPL zones (store_power.h), or NULL */
    uint64_t matrix_bytes;     /* bytes of the matrices the processes hold */
    bool probe_on;             /* a probe source exists (store_probe_source) */
    uint64_t probe_ns;         /* store_probe_time */
    store_clock_fn probe_idle;
    void *probe_ctx;
};

/* The histogram of the window of s ending at now_ns into out, a histogram owned by the
 * caller. */
void store_series_window(const struct store_proc *p, const struct store_series *s, uint64_t now_ns,
                         struct hist *out);

/* The window of s ending at now_ns as two parts, *a and *b (NULL: none), whose samples
 * together are the window's: the closed slots and the open one when every slot s holds is in
 * that window (the window ends in the ingest clock's slot, or nothing of s moved out of it),
 * else the merge of the slots that are, into scratch (owned by the caller). Borrowed until the
 * next change of s or of scratch. */
void store_series_window_parts(const struct store_proc *p, const struct store_series *s,
                               uint64_t now_ns, struct hist *scratch, const struct hist **a,
                               const struct hist **b);

/* The histogram of the window of s ending at now_ns: one of its parts when the other is
 * empty, else their merge into scratch. */
const struct hist *store_series_window_hist(const struct store_proc *p,
                                            const struct store_series *s, uint64_t now_ns,
                                            struct hist *scratch);

/* Sum and count of the window samples of s without merging histograms. */
uint64_t store_series_window_sum(const struct store_proc *p, const struct store_series *s,
                                 uint64_t now_ns, uint64_t *count);

/* Rate per second of r over the window ending at now_ns; false when fewer than two points
 * fall in the window. */
bool store_rate_per_sec(const struct store_rate *r, uint64_t now_ns, uint64_t window_ns,
                        double *out_per_sec);
/* Remember the point (t_ns, v) of r (cap: store_rate_cap); keep it as a sample when
 * min_gap_ns passed since the last one. A value that went back restarts the series. */
void store_rate_add(struct store_rate *r, uint32_t cap, uint64_t t_ns, uint64_t v,
                    uint64_t min_gap_ns);
uint32_t store_rate_cap(const struct store *st);    /* samples a rate keeps in this store */
uint64_t store_rate_gap_ns(const struct store *st); /* the min_gap_ns rates use */
void store_rate_done(struct store_rate *r);         /* free the samples; r is empty after */

/* The appliers store_apply calls for the facts kept in store_sys.c and store_gpu.c; false
 * when the event changes nothing. */
bool store_sys_apply(struct store_proc *p, const struct store_event *ev);
bool store_gpu_apply(struct store *st, const struct store_event *ev);
bool store_proc_gpu_apply(struct store_proc *p, const struct store_event *ev);
bool store_gpu_power_apply(struct store *st, const struct store_event *ev);
bool store_power_apply(struct store *st, const struct store_event *ev);
void store_power_free(struct store_power *pw);
/* Count invalid input the store finds itself (not seen by the observer: replay finds it
 * again). */
void store_invalid(struct store_proc *p, uint64_t n, const char *reason);

#endif /* NCTOP_SRC_STORE_INTERNAL_H */
