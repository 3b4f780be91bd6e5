/* SPDX-License-Identifier: MIT */
/* The row builder: the only producer of rows. The UI, the JSONL logger, the snapshot JSON and
 * the exporters all read these, so what is shown is exactly what is logged and exported. */
#ifndef NCTOP_SRC_ROWS_H
#define NCTOP_SRC_ROWS_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hist;
struct matrix;
struct store;
struct store_proc;

/* Validity bits of struct row.flags: absent is not zero. */
#define ROW_F_WIN 0x01U          /* win holds samples (count > 0 in the window) */
#define ROW_F_ALL 0x02U          /* all holds samples */
#define ROW_F_SHARE 0x04U        /* share_pct is meaningful */
#define ROW_F_PEAK 0x08U         /* peak_bytes is known */
#define ROW_F_CAPACITY 0x10U     /* capacity_bytes is known (non-zero capacity) */
#define ROW_F_DEVICE 0x20U       /* memory on a device, not in host RSS */
#define ROW_F_IMPORTED 0x40U     /* statistics read back from a log (replay), not measured here */
#define ROW_F_PARTS_ABSENT 0x80U /* a replayed row whose log had no part_bytes figures */
#define ROW_F_BASE 0x100U        /* base_* hold the baseline's figures of this path */
#define ROW_F_BASE_NEW 0x200U    /* a baseline is compared with and lacks this path */
#define ROW_F_ENERGY 0x400U      /* compile rows: energy_j is known */
#define ROW_F_SPREAD 0x800U      /* a fleet's row: spread_* hold the p99 of its live members */
#define ROW_F_LAST                                                                                 \
    0x1000U /* win.last_ns is the latest sample though the window is empty                         \
             * (ROWS_OMIT_ALL, where all is not set) */

/* Bits of struct row_stats.absent: figures a replayed log did not have (the STORE_STAT_*
 * bits of the store, same values). */
#define ROW_S_COUNT 0x001U
#define ROW_S_TOTAL 0x002U
#define ROW_S_LAST 0x004U
#define ROW_S_MEAN 0x008U
#define ROW_S_MIN 0x010U
#define ROW_S_MAX 0x020U
#define ROW_S_P50 0x040U
#define ROW_S_P95 0x080U
#define ROW_S_P99 0x100U

/* The parts of a memory row's bytes, as the seed's logs break them down. */
enum row_part {
    ROW_PART_POOL = 0,     /* in a tensor pool */
    ROW_PART_KV = 1,       /* in a KV pool apart from the KV cache (nctop has none: 0) */
    ROW_PART_KV_CACHE = 2, /* in a KV cache */
    ROW_NPARTS = 3,
};

enum row_kind {
    ROW_LATENCY = 0,
    ROW_MEMORY = 1,
    ROW_KERNEL = 2,
    ROW_NEURO = 3,   /* a network, layer or core of a spiking workload (struct row_neuro) */
    ROW_COMPILE = 4, /* a compilation (level 0) or one of its passes (rows_build_compile) */
};

/* The operation counts of a spiking workload, named as its counters are (the last part of
 * layers.N.core.C.<field>, layers.N.<field> and the totals <field>). */
enum row_neuro_field {
    ROW_NF_SPIKES = 0,
    ROW_NF_SYNOPS,                /* synaptic operations */
    ROW_NF_NEURON_UPDATES,        /* all neuron updates */
    ROW_NF_NEURON_UPDATES_ACTIVE, /* of which active (input or a spike) */
    ROW_NF_PACKETS,               /* spikes delivered per destination core */
    ROW_NF_HOPS,                  /* mesh links crossed by spike messages */
    ROW_NF_SYN_UPDATES,           /* learning weight updates */
    ROW_NFIELDS,
};
extern const char *const rows_neuro_fields[ROW_NFIELDS]; /* "spikes", "synops", ... */
/* A per-layer or per-core counter of a spiking workload (layers.N[.core.C].<field>): outputs
 * export these per layer, capped, never one series per counter. */
bool rows_neuro_counter(const char *name);

/* Bits of struct row_neuro.have: absent is not zero. */
#define ROW_N_NEURONS 0x01U /* neurons (a value layers.N[.core.C].neurons, or the sum) */
#define ROW_N_FIRING 0x02U  /* firing_hz: spikes/s over neurons */
#define ROW_N_BUFFER 0x04U  /* buffer_*: spike_queue gauges with a capacity */
#define ROW_N_ENERGY 0x08U  /* energy_j */
#define ROW_N_POWER 0x10U   /* power_w */
#define ROW_N_STEP 0x20U    /* step_j */
#define ROW_N_MEASURED                                                                             \
    0x40U /* the energy figures are the workload's own (energy_j, power_w                          \
           * values), not the target's model applied to the counts */
#define ROW_N_PARTIAL                                                                              \
    0x80U /* estimated, but the model lacks a term these counts need: the                          \
           * figures are a lower bound */

/* The figures of one network, layer or core row (kind ROW_NEURO). */
struct row_neuro {
    int32_t layer;                  /* -1: the network */
    int32_t core;                   /* -1: a layer or the network */
    uint32_t have;                  /* ROW_N_* */
    uint32_t counted;               /* bit 1 << field: count[field] is known */
    uint32_t rated;                 /* bit 1 << field: per_sec[field] is known */
    uint32_t cores;                 /* cores under it (1 for a core) */
    uint64_t count[ROW_NFIELDS];    /* since start */
    double per_sec[ROW_NFIELDS];    /* over the window */
    uint64_t neurons;               /* with ROW_N_NEURONS */
    double firing_hz;               /* spikes per second per neuron */
    uint64_t buffer_used_bytes;     /* with ROW_N_BUFFER */
    uint64_t buffer_capacity_bytes; /* with ROW_N_BUFFER, > 0 */
    double buffer_pct;              /* used of capacity */
    double energy_j;                /* since start (ROW_N_ENERGY) */
    double power_w;                 /* over the window (ROW_N_POWER) */
    double step_j;                  /* per timestep (ROW_N_STEP) */
};

/* Duration statistics in ns over one period (the rolling window or since start). */
struct row_stats {
    uint64_t count;
    uint64_t total_ns;
    uint64_t last_ns; /* the most recent sample (same in both periods) */
    uint64_t mean_ns;
    uint64_t min_ns;
    uint64_t max_ns;
    uint64_t p50_ns; /* percentiles: histogram estimates, relative error <= 1 % */
    uint64_t p95_ns;
    uint64_t p99_ns;
    uint32_t absent;  /* ROW_S_* figures the source lacked (0 when measured here) */
    uint32_t pending; /* ROW_S_P50/P95/P99 a lazy build left for rows_resolve (0: none) */
};

/* One row. Strings are borrowed from the struct rows that holds the row, valid until the
 * next rows_clear/rows_done on it. */
struct row {
    const char *label;  /* the node's own name */
    const char *path;   /* labels from the root joined by '/', unique within a tree */
    uint64_t path_hash; /* hash of path: the identity of the row across rebuilds */
    uint16_t level;     /* 0 = top */
    uint16_t kind;      /* enum row_kind */
    uint32_t flags;     /* ROW_F_* */
    uint32_t nchildren; /* direct children in the tree */

    /* latency and kernel rows */
    double share_pct;     /* latency: of the parent's total in the window; kernel: of the
                           * total time of all top-level spans in the window; neuro: of the
                           * parent's power (else of its spikes/s) */
    struct row_stats win; /* the rolling window */
    struct row_stats all; /* since start */

    /* latency rows: ends with a status (nctop_span_end_status); a compilation: 1 in the one
     * it ended with (both 0: no status), last_error its message. Here, with hist_all, next to
     * the figures: a frame whose every latency row changed writes fewer cache lines. */
    uint64_t ok;
    uint64_t failed;
    const char *last_error; /* the latest error message, or NULL; borrowed from the store */
    /* latency and kernel rows: the since-start histogram, for exporters that need buckets
     * (Prometheus), in two parts to be added up: hist_all and, unless NULL, hist_open (the
     * current slot's samples, not yet in hist_all). Borrowed from the store: valid until the
     * next event is ingested. */
    const struct hist *hist_all;
    const struct hist *hist_open;

    /* memory rows */
    int64_t bytes;                       /* current (per-scope deltas may be negative) */
    int64_t peak_bytes;                  /* largest seen */
    uint64_t capacity_bytes;             /* 0 when none */
    int64_t part_bytes[ROW_NPARTS];      /* enum row_part (unless ROW_F_PARTS_ABSENT) */
    int64_t part_peak_bytes[ROW_NPARTS]; /* the same at peak (with ROW_F_PEAK, else current) */

    /* kernel rows */
    const char *backend;

    /* compile rows: a compilation's estimated energy per inference of what it made (its
     * "energy_j" attribute), in joules, with ROW_F_ENERGY */
    double energy_j;

    /* neuro rows: the index of its figures in the rows' neuro[] (rows_neuro_of) */
    uint32_t neuro;

    /* latency rows of a fleet (ROW_F_SPREAD): the window's p99 of the path across the live
     * members that have one (spread_n of them, >= 1), the smallest, the median (of an even
     * number: the mean of the middle two) and the largest, and the member with the largest:
     * the slowest rank, its label borrowed from the store. */
    uint32_t spread_n;
    uint64_t spread_min_ns;
    uint64_t spread_median_ns;
    uint64_t spread_max_ns;
    const char *slowest;

    /* latency rows compared with a baseline (rows_compare_baseline), with ROW_F_BASE: the
     * baseline's since-start figures of the same path, ns */
    uint64_t base_count;
    uint64_t base_mean_ns;
    uint64_t base_p99_ns;
    uint32_t base_absent; /* ROW_S_* figures the baseline's file lacked */
};

/* What rows_sort orders siblings by: the figure of one column of the views. */
enum rows_sort_key {
    ROWS_SORT_NONE = 0, /* the builder's order: execution (first-seen) order */
    ROWS_SORT_LABEL,    /* names, case-insensitive */
    ROWS_SORT_BACKEND,  /* kernel backends, case-insensitive */
    ROWS_SORT_LAST,
    ROWS_SORT_MEAN,
    ROWS_SORT_P50,
    ROWS_SORT_P95,
    ROWS_SORT_P99,
    ROWS_SORT_MAX,
    ROWS_SORT_COUNT,
    ROWS_SORT_TOTAL,
    ROWS_SORT_SHARE, /* latency, kernels: share_pct; memory: of the parent (rows_memory_shares) */
    ROWS_SORT_CURRENT,
    ROWS_SORT_PEAK,
    ROWS_SORT_CAPACITY,
    ROWS_SORT_NEURONS, /* neuro rows: struct row_neuro's figures */
    ROWS_SORT_FIRING,
    ROWS_SORT_SPIKES, /* per second, as the others */
    ROWS_SORT_SYNOPS,
    ROWS_SORT_HOPS,
    ROWS_SORT_BUFFER,
    ROWS_SORT_STEP_ENERGY,
    ROWS_SORT_POWER,   /* compile rows: ROWS_SORT_STEP_ENERGY is their energy_j */
    ROWS_SORT_FAILED,  /* failed ends (struct row.failed), rows with a status only */
    ROWS_SORT_P99_MIN, /* a fleet's rows: the spread of p99 across its members */
    ROWS_SORT_P99_MEDIAN,
    ROWS_SORT_P99_MAX,
};

struct rows_sort {
    enum rows_sort_key key;
    bool reverse;     /* names sort A to Z and figures largest first; this turns either round */
    bool since_start; /* timed figures of all (since start), not of win (the window) */
};

/* A growable set of rows plus the storage of their strings. Owns both. */
struct rows {
    struct row *v;
    size_t n;
    size_t cap;
    char *text; /* string storage of the rows */
    size_t text_len;
    size_t text_cap;
    struct row_neuro *neuro; /* the figures of ROW_NEURO rows (row.neuro indexes it) */
    size_t nneuro;
    size_t neuro_cap;
    uint64_t gen;     /* new, never reused, at each rows_init and rows_clear: rows of one gen are
                       * the same rows, so a view drawing them again need not sort them again (the
                       * builders change rows only before they are shown); 0: unknown (a set made
                       * by hand), always sorted */
    uint64_t shape;   /* new, never reused, at each rows_init and rows_clear, and kept by
                       * rows_update_latency when it keeps the rows: sets of one shape and the
                       * same n have the same paths, labels, levels and kinds at the same
                       * indexes (only their figures may differ); 0: unknown */
    unsigned omitted; /* ROWS_OMIT_* figures the builder left out of every row */
    /* Rows made by rows_update_latency (else src is NULL): the process they are of (borrowed
     * like the rows' strings), the time their window ends at, and what the next update and
     * rows_resolve need to know of each row's node (srcv: src_cap entries, owned). The row
     * builder's own: others only test src. */
    const struct store_proc *src;
    bool src_fleet; /* src is a fleet: its rows may have a spread (ROW_F_SPREAD); else none has */
    int32_t src_pid;
    uint64_t src_now_ns;
    uint64_t src_slot;   /* the window slot of src_now_ns */
    uint64_t src_top_ns; /* the window total of the top-level spans (their shares' base) */
    struct rows_src *srcv;
    size_t src_cap;
    /* Sort keys rows_update_latency computes as it sets each row (rows_want_keys), for
     * rows_sort_groups to read instead of the rows: key_sort's key of row i in keys[i] when
     * key_has[i] is 1, none at 0, pending at 2 (rows_resolve gives it); valid while gen is
     * key_gen (0: none). The row builder's own, as src. */
    struct rows_sort key_want;
    struct rows_sort key_sort;
    uint64_t key_gen;
    double *keys;
    uint8_t *key_has;
    size_t key_cap;
};

/* Of one row made by rows_update_latency: its node, and the node's series gen and ends with
 * a status when its figures were set. */
struct rows_src {
    uint64_t gen;
    uint64_t ends;
    uint32_t node;
};

/* Figures a builder may leave out for a display that does not show them (each marked absent
 * in every row, so nothing shows a wrong value): the since-start p50, p95 and p99, whose walk
 * over every node's histogram is half the cost of a frame whose every node changed. */
#define ROWS_OMIT_ALL_PCT 0x01U
/* The window's p50, p95 and p99 left for rows_resolve (ROW_S_* bits in win.pending) where
 * they are not known already: a display draws a screenful of rows and sorts by one figure. */
#define ROWS_LAZY_WIN_PCT 0x02U
/* rows_update_latency: nothing since start (all, marked absent by ROW_F_ALL clear), nor the
 * ends with a status, the last error and the since-start histograms: a display of the window
 * whose every row changed writes half the cache lines of each (struct row puts the window's
 * figures first). */
#define ROWS_OMIT_ALL 0x04U

/* The figures of a ROW_NEURO row of r, or NULL for another kind. Borrowed like the row. */
static inline const struct row_neuro *rows_neuro_of(const struct rows *r, const struct row *row)
{
    return row->kind == ROW_NEURO && row->neuro < r->nneuro ? &r->neuro[row->neuro] : NULL;
}

/* Summary statistics of a step marker series (TTFT, inter-token latency) in ns. */
struct rows_marker {
    bool valid; /* at least one sample */
    struct row_stats win;
    struct row_stats all;
    const struct hist *hist_all;  /* as struct row.hist_all */
    const struct hist *hist_open; /* as struct row.hist_open */
};

/* One counter and its rate over the window. */
struct rows_counter {
    const char *name; /* borrowed from the store, valid until store_free */
    uint64_t value;
    bool rate_valid;
    double per_sec;
};

/* A value the workload set (nctop_value_set). */
struct rows_value {
    const char *name; /* borrowed from the store */
    const char *unit; /* borrowed; "" when none */
    double value;
    uint64_t ts_ns; /* when it was set */
};

/* A matrix the workload published (nctop_matrix_publish): its latest snapshot. The summary
 * holds a reference to the snapshot, so its values and labels stay as they were until
 * rows_summary_done even when the store takes a newer one. */
#define ROWS_MATRIX_LABEL 16 /* bytes of one label in row_labels and col_labels */
struct rows_matrix {
    const char *name; /* borrowed from the store */
    const char *unit; /* borrowed; "" when none */
    uint32_t rows;
    uint32_t cols;
    const float *values;    /* rows * cols, row-major; NaN and infinities: absent */
    const char *row_labels; /* rows * ROWS_MATRIX_LABEL bytes, each NUL-terminated ("": none) */
    const char *col_labels; /* cols * ROWS_MATRIX_LABEL bytes */
    bool range_valid;       /* some value is finite */
    float lo;               /* the smallest finite value */
    float hi;               /* the largest */
    uint64_t ts_ns;         /* when it was published */
    uint64_t updates;       /* snapshots nctop took */
    struct matrix *ref;     /* the reference held (rows_summary_done drops it) */
};

/* A process attribute (nctop_set_attr): "target", "chip", "model", ... */
struct rows_attr {
    const char *key;   /* borrowed from the store */
    const char *value; /* borrowed */
};

/* One thread the process reported (per-thread time needs the eBPF collector). */
struct rows_thread {
    int32_t tid;
    const char *name; /* borrowed from the store; "" when unnamed */
    /* From the eBPF collector (valid with sched_valid), since it first saw the thread. */
    bool sched_valid;
    bool exited;             /* gone, still listed */
    uint64_t oncpu_ns;       /* on a CPU */
    uint64_t runq_ns;        /* runnable, waiting for a CPU */
    uint64_t blocked_ns;     /* asleep: sleep, I/O, futex */
    uint64_t vol_switches;   /* context switches to block */
    uint64_t invol_switches; /* preemptions */
    uint64_t faults;         /* user page faults seen */
    uint64_t minor_faults;
    uint64_t major_faults;
};

/* One syscall of a process (eBPF collector). */
struct rows_syscall {
    const char *name; /* borrowed from the store */
    uint32_t nr;
    uint64_t count;
    uint64_t total_ns; /* entry to exit */
};

#define ROWS_RECENT_MAX 32 /* step latency means kept for a sparkline */

/* Everything about a process that is not a tree: header line, snapshot fields. */
/* The number of loss causes (enum store_loss) and their names in the outputs, in order. */
#define ROWS_LOSS_KINDS 6
extern const char *const rows_loss_names[ROWS_LOSS_KINDS];

/* How requests end, and the names of the results in the outputs, in order. */
#define ROWS_REQUEST_RESULTS 3
extern const char *const rows_request_results[ROWS_REQUEST_RESULTS]; /* ok, failed, cancelled */

/* Token counts per finished request (whose begin was seen): figures in tokens. */
struct rows_tokens {
    uint64_t count; /* requests */
    uint64_t sum;   /* tokens */
    uint64_t p50;
    uint64_t p99;
    uint64_t max;
    const struct hist *hist; /* since start, for exporters; borrowed as rows_marker's */
};

/* Serving figures: requests by id (nctop_request_*; the step markers are request 0). */
struct rows_requests {
    bool valid;                              /* a request marker was ever seen */
    uint64_t running;                        /* in flight: begun (or seen) and not ended */
    uint64_t finished[ROWS_REQUEST_RESULTS]; /* ended, by result */
    uint64_t evicted;                        /* forgotten in flight: the table was full */
    uint64_t prompt_tokens;                  /* prompt (prefill) tokens seen since attaching */
    uint64_t generation_tokens;              /* generated tokens seen since attaching */
    struct rows_marker e2e;                  /* end-to-end latency: begin to end */
    struct rows_tokens prompt;               /* prompt tokens per request */
    struct rows_tokens generation;           /* generated tokens per request */
};

/* The state of a process as every output shows it: the display, the text and the exporters
 * read this, not the store's own enum (rows_build_summary translates). */
enum rows_state {
    ROWS_STATE_LIVE = 0,
    ROWS_STATE_EXITED = 1,
    ROWS_STATE_ERROR = 2,
};

/* A spiking workload's process-wide figures (and the energy of any workload that measures
 * it), for the header and the outputs. */
struct rows_neuro_sum {
    bool spiking;         /* spike counters, or a neuromorphic target attribute */
    const char *target;   /* the "target" attribute, or NULL; borrowed from the store */
    const char *chip;     /* the "chip" attribute, or NULL; borrowed */
    const char *basis;    /* estimated: where the model's figures come from; else NULL */
    unsigned missing;     /* estimated: the terms the model lacks (ENERGY_HAVE_* bits) */
    bool timesteps_valid; /* iteration markers seen */
    uint64_t timesteps;   /* timesteps seen (iteration markers) */
    bool timesteps_per_sec_valid;
    double timesteps_per_sec; /* over the window: 1 / the mean interval between markers */
    struct row_neuro net;     /* the network's figures, energy included (also when the
                               * workload is not spiking but measures its energy) */
};

/* The compilations of a process for the Compile view's totals: counts since start, and the
 * kept compilations that ended in the window, their durations binned on a log scale. */
#define ROWS_COMPILE_BINS 24
struct rows_compile_sum {
    uint64_t total;  /* compilations ever ended */
    uint64_t ok;     /* of those, ended with status ok */
    uint64_t failed; /* ... with an error */
    uint64_t kept;   /* kept one by one (the latest; rows_build_compile's rows) */
    /* Over the window: the kept ones that ended in it (win_n; at most kept). */
    uint64_t win_n, win_ok, win_failed;
    uint64_t win_min_ns, win_max_ns; /* their shortest and longest (win_n > 0) */
    /* bins[i]: durations in [min * q^i, min * q^(i+1)), q = (max / min)^(1 / BINS), the
     * longest in the last bin; all in bins[0] when min = max */
    uint32_t bins[ROWS_COMPILE_BINS];
};

struct rows_summary {
    int32_t pid;
    int32_t ppid;      /* the parent's pid when a source saw the fork, 0 = unknown */
    const char *label; /* borrowed from the store */
    enum rows_state state;
    bool replayed;      /* read back from a file: a live state is "replay" */
    const char *reason; /* why exited/failed, or NULL; borrowed */
    bool exit_valid;    /* how it ended is known: exit_status, or the signal that killed it */
    int exit_status;
    int exit_signal; /* 0: it exited (exit_status holds) */
    /* Everything lost on the way from the workload: its dropped events (ring full, no ring,
     * nctop stalled) plus what was refused (registrations, nctop's limits). By cause in
     * losses[], indexed by enum store_loss. The display's "dropped" figure. */
    uint64_t dropped;
    uint64_t losses[ROWS_LOSS_KINDS];
    uint64_t late_ends;         /* span ends whose begin predates attaching: counted, not invalid */
    uint64_t folded;            /* span begins folded into "(other)": the latency tree was full */
    uint64_t invalid;           /* invalid inputs seen by nctop */
    const char *invalid_reason; /* the latest, or NULL */
    uint64_t events;            /* events ingested */
    double events_per_sec;      /* over the window */
    bool host_valid;
    uint64_t rss_bytes;
    uint64_t rss_peak_bytes;
    double cpu_pct;       /* of one core, over the window */
    uint64_t cpu_time_ns; /* user + system CPU time so far (valid with host_valid) */
    bool cpu_valid;
    size_t nthreads;
    struct rows_marker ttft; /* time to first token */
    struct rows_marker itl;  /* inter-token latency */
    struct rows_marker step; /* the workload's step: the step_span option, else the span named
                              * "step", else the ITERATION markers; invalid when none */
    const char *step_source; /* what step is: the span's path, "iteration", or NULL (none);
                              * borrowed from the store */
    struct rows_requests requests;
    struct rows_neuro_sum neuro;
    struct rows_compile_sum compile;
    size_t ncounters;
    struct rows_counter *counters; /* ncounters entries, owned by the summary */
    size_t nvalues;
    struct rows_value *values; /* in the order first set; owned by the summary */
    size_t nattrs;
    struct rows_attr *attrs; /* in the order first set; owned by the summary */
    size_t nmatrices;
    struct rows_matrix *matrices; /* in the order first published; owned by the summary */
    const char *clock; /* the clock of its events, "tsc" or "monotonic"; NULL: no segment */
    /* Mean step latency of each window slot, oldest first, the newest (current) slot last;
     * 0 for a slot without steps. nrecent = min(window slots, ROWS_RECENT_MAX). */
    uint64_t step_recent_ns[ROWS_RECENT_MAX];
    uint32_t nrecent;
    size_t nthread_list;
    struct rows_thread *threads; /* nthread_list live threads, owned by the summary */
    /* The eBPF collector's view (valid with sys_valid); threads it saw are in threads too. */
    bool sys_valid;
    uint64_t bpf_dropped; /* its events lost to a full ring buffer */
    uint64_t faults;      /* sums over the threads */
    uint64_t minor_faults;
    uint64_t major_faults;
    size_t nsyscalls;
    struct rows_syscall *syscalls; /* by total time, largest first; owned by the summary */
};

/* One GPU of the machine (the hw/ probe, NVML). */
struct rows_gpu {
    uint32_t index;   /* the driver's device index */
    const char *name; /* borrowed from the store until its next GPU update; "" when unknown */
    bool util_valid;
    double util_pct; /* busy, 0..100 */
    bool mem_valid;
    uint64_t mem_used_bytes;
    uint64_t mem_total_bytes;
    bool power_valid;
    double power_w; /* the driver's power reading, watts */
    bool energy_valid;
    double energy_j; /* the driver's energy counter: joules since it loaded */
};

/* The machine's GPUs: n = 0 and no error is the "no GPU" state, not an error. */
struct rows_gpus {
    size_t n;
    struct rows_gpu *v; /* n entries, owned (rows_gpus_done) */
    const char *error;  /* why the GPU probe failed, or NULL; borrowed from the store */
};

/* A span instance kept one by one (a compilation: it ended with a status or carries
 * attributes), with the spans inside it (its passes), in the order they began. */
#define ROWS_INST_NONE 0 /* ended without a status */
#define ROWS_INST_OK 1
#define ROWS_INST_FAILED 2
#define ROWS_INST_ATTRS 4
struct rows_inst_child {
    const char *name; /* borrowed from the store */
    char *path;       /* from the instance's span down, joined by '/'; owned */
    uint16_t level;   /* 1 for the instance's children */
    uint64_t begin_ns;
    uint64_t dur_ns;
    int64_t mem_bytes;
};
struct rows_instance {
    const char *name;    /* borrowed from the store */
    char *path;          /* from the top of the tree; owned */
    int status;          /* ROWS_INST_* */
    const char *message; /* the error, or NULL; borrowed */
    uint64_t begin_ns;
    uint64_t dur_ns;
    int64_t mem_net;  /* net memory delta inside it */
    int64_t mem_peak; /* largest running delta inside it (memory deltas reported in it) */
    size_t nattrs;
    struct rows_attr attrs[ROWS_INST_ATTRS];
    size_t nchildren;
    struct rows_inst_child *children; /* owned */
    uint32_t children_lost;           /* spans inside beyond what is kept */
};
struct rows_instances {
    size_t nstats;
    struct rows_inst_stat *stats; /* owned */
    size_t n;
    struct rows_instance *v; /* newest first; owned */
    uint64_t total;          /* instances ever ended (n keeps the latest) */
    uint64_t ok;             /* of the kept ones */
    uint64_t failed;
};
/* Every instance ever ended, by its "target" and "model" attributes (NULL: absent; both
 * "other" for what went beyond the store's bound of label pairs). */
struct rows_inst_pass {
    const char *name;       /* borrowed from the store; "other" for what went beyond the
                             * store's bound of passes per label pair */
    const struct hist *dur; /* the durations of that pass in these instances; borrowed */
};
struct rows_inst_stat {
    const char *target; /* borrowed; NULL when absent */
    const char *model;
    uint64_t n[3];          /* by ROWS_INST_* */
    const struct hist *dur; /* their durations; borrowed from the store */
    size_t npasses;
    struct rows_inst_pass *passes; /* their direct children by name (passes); owned */
};

/* Fill the instances of p. Free with rows_instances_done, which zeroes out. */
void rows_build_instances(struct rows_instances *out, const struct store_proc *p);
void rows_instances_done(struct rows_instances *out);

void rows_init(struct rows *r);
void rows_clear(struct rows *r); /* keeps the storage */
void rows_done(struct rows *r);

/* Build the rows of one view of p into out (appended after out's existing rows). now_ns is
 * the time the window ends at (CLOCK_MONOTONIC, or the replay clock). Depth-first; siblings
 * in first-seen order, which is execution order (the UI may re-sort siblings). */
void rows_build_latency(struct rows *out, const struct store_proc *p, uint64_t now_ns);
void rows_build_memory(struct rows *out, const struct store_proc *p, uint64_t now_ns);
/* rows_build_latency for a display that builds the same tree frame after frame: out holds
 * rows of an earlier build (it is cleared first unless they are kept). When they are p's
 * latency rows and p's tree kept its shape (the same labels at the same levels, in order), the
 * rows and their strings are kept (out->shape too) and only their figures are set again;
 * otherwise out is cleared and built. out->gen is new either way. omit: ROWS_OMIT_* (0 for
 * every figure), recorded in out->omitted. Loop context. */
void rows_update_latency(struct rows *out, const struct store_proc *p, uint64_t now_ns,
                         unsigned omit);
/* Have rows_update_latency on r compute, as it sets each row, the key of s (the sort a
 * display will give rows_sort_groups, which then reads the keys instead of the rows); NULL
 * or ROWS_SORT_NONE: none. Kept until changed. */
void rows_want_keys(struct rows *r, const struct rows_sort *s);

/* Compute the window figures bits (ROW_S_P50, ROW_S_P95, ROW_S_P99) of row i of r where its
 * build left them pending (ROWS_LAZY_WIN_PCT), from the store it was built from: the values
 * the build would have given. False when a bit stays pending because it cannot be: the row's
 * series changed since the build (the figures of that time are gone; rows built anew have
 * them). Needs the rows' process as their strings do. Writes only that row's figures: r is
 * the same set of rows (its gen stays). Loop context. */
bool rows_resolve(const struct rows *r, size_t i, uint32_t bits);
void rows_build_kernels(struct rows *out, const struct store_proc *p, uint64_t now_ns);
/* The compilations of p (its span instances, rows_build_instances), newest first, each
 * (level 0, labelled "#<n> <model or span name>", n counting from 1 since start) with the
 * spans inside it (its pass tree). Kind ROW_COMPILE: win and all hold the one duration,
 * backend the "target" attribute, ok or failed 1 and last_error the message, bytes the net
 * memory delta, a compilation's peak_bytes its peak (ROW_F_PEAK), a pass's share_pct its
 * share of the compilation's time. */
void rows_build_compile(struct rows *out, const struct store_proc *p, uint64_t now_ns);
/* The network -> layer -> core rows of a spiking workload (kind ROW_NEURO; none when it has
 * no such counters): layers and cores by number, the figures in out->neuro. */
void rows_build_neuro(struct rows *out, const struct store_proc *p, uint64_t now_ns);

/* The Workloads view's order of n summaries into order[n] (indices into sums) and each one's
 * depth in the process tree into depth[n] (0: a process whose parent is not among them): a
 * child right after its parent (and its parent's earlier children's subtrees), siblings and
 * roots in the given order. A parent chain that loops is cut where it closes. */
void rows_proc_tree(const struct rows_summary *sums, size_t n, uint32_t *order, uint16_t *depth);

/* --baseline: mark the latency rows of out from index from on (the rows of one process,
 * labelled label) with the figures of the row of the same path in baseline's process of
 * that label (else its only process, else none): ROW_F_BASE and base_* where that row has
 * samples, ROW_F_BASE_NEW where it has none or is absent. baseline and label are borrowed
 * for the call; baseline NULL: nothing changes. Loop context (or before it). */
void rows_compare_baseline(struct rows *out, size_t from, const struct store *baseline,
                           const char *label);

/* The change of one figure against the baseline as a cell's text (at most 15 characters, len
 * >= 16): "+1.2ms +15%", "new" for a path the baseline lacks, "-" when unknown. Arguments as
 * rows_base_delta. */
void rows_format_delta(const struct row *r, const struct row_stats *s, bool valid, uint32_t bit,
                       char *buf, size_t len);

/* Fill the summary of p. Free its counters with rows_summary_done. */
void rows_build_summary(struct rows_summary *out, const struct store_proc *p, uint64_t now_ns);
void rows_summary_done(struct rows_summary *s);

/* Fill the machine's GPUs from st (a memory row "GPU Memory" in rows_build_memory holds
 * each process's share). Free with rows_gpus_done, which zeroes g. */
void rows_build_gpus(struct rows_gpus *out, const struct store *st);
void rows_gpus_done(struct rows_gpus *g);

#define ROWS_NO_PARENT UINT32_MAX

/* The parent of every row of r into parent[r->n] (ROWS_NO_PARENT for a top-level row). Rows
 * are depth-first, so a row's parent is the last row one level up; a level that jumps by more
 * than one (a malformed set) hangs off the deepest open ancestor. */
void rows_parents(const struct rows *r, uint32_t *parent);

/* A memory row's share of its parent's bytes, in percent, into pct[r->n]; -1 where there is
 * none (a top-level row, a parent of no positive size, a negative delta). */
void rows_memory_shares(const struct rows *r, double *pct);

/* The display order of r into order[r->n] (row indices): depth-first, every row right after
 * its parent's earlier children's subtrees, so children stay under their parent, and the
 * siblings of each parent sorted by s (NULL or ROWS_SORT_NONE: the builder's order). Rows
 * without the figure (absent is not zero) come after those with it, whatever the direction;
 * ties keep the builder's order. The UI's trees and the text report both order with this. */
void rows_sort(const struct rows *r, const struct rows_sort *s, uint32_t *order);

/* rows_sort for a caller that has the parents (rows_parents) and the children grouped by
 * parent already, as the UI's trees do (returns false when the key is a window figure some
 * rows left pending and rows_resolve could not give: those sort as rows without it): the children
 * of row p are kids[off[p] .. off[p + 1]) and the top-level rows group r->n (off has r->n + 2
 * entries), each group in index order or (for a sort by a key, not ROWS_SORT_NONE) in any order,
 * such as an earlier sort's: the result is the same, and costs less the closer it is. Sorts each
 * group of kids in place (borrowed; the rest only read) and writes order. */
bool rows_sort_groups(const struct rows *r, const struct rows_sort *s, const uint32_t *parent,
                      const uint32_t *off, uint32_t *kids, uint32_t *order);

/* Unit conversions of the contract (ms = ns / 1e6, MB = bytes / 1048576). */
static inline double rows_ms(uint64_t ns)
{
    return (double)ns / 1e6;
}

static inline double rows_mb(int64_t bytes)
{
    return (double)bytes / 1048576.0;
}

/* Whether one figure (a ROW_S_* bit) of s can be shown: the period has samples (valid) and
 * the figure is not one its source lacked, nor one left pending (rows_resolve). */
static inline bool rows_stat_known(const struct row_stats *s, bool valid, uint32_t bit)
{
    return valid && ((s->absent | s->pending) & bit) == 0;
}

/* The change of one figure of a row against its baseline (bit: ROW_S_MEAN or ROW_S_P99),
 * comparing s (the row's window or since-start statistics; valid: it has samples): *d_ns
 * the difference in ns and *pct relative to the baseline's figure (NAN when that is 0).
 * False when the row has no baseline figures or either side lacks the figure. */
static inline bool rows_base_delta(const struct row *r, const struct row_stats *s, bool valid,
                                   uint32_t bit, double *d_ns, double *pct)
{
    uint64_t mine = bit == ROW_S_MEAN ? s->mean_ns : s->p99_ns;
    uint64_t base = bit == ROW_S_MEAN ? r->base_mean_ns : r->base_p99_ns;

    if ((r->flags & ROW_F_BASE) == 0 || (r->base_absent & bit) != 0 ||
        !rows_stat_known(s, valid, bit)) {
        return false;
    }
    *d_ns = (double)mine - (double)base;
    *pct = base > 0 ? *d_ns * 100.0 / (double)base : (double)NAN;
    return true;
}

#endif /* NCTOP_SRC_ROWS_H */
