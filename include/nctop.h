/* SPDX-License-Identifier: MIT */
/* libnctop: publish a workload's spans, memory, counters and kernels to nctop through a
 * shared-memory segment. Depends on libc only; see libnctop(3) for the full contract. */
#ifndef NCTOP_H
#define NCTOP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NCTOP_VERSION_MAJOR 0
#define NCTOP_VERSION_MINOR 1
#define NCTOP_VERSION_PATCH 0
#define NCTOP_VERSION_STRING "0.1.0"

#ifndef NCTOP_API
#define NCTOP_API __attribute__((visibility("default")))
#endif

/*
 * Threading and cost, for every function below:
 * - Any thread may call any function at any time, including before nctop_init() (the SDK
 *   then initialises itself from the environment on the first registration).
 * - "Event path" functions (span begin/end, kernel, mem delta, step, counter add) never
 *   block, lock, allocate or make a system call. With no nctop attached they return after
 *   one load and a branch; attached, they write one record into the calling thread's ring,
 *   or drop it and count the drop when the ring is full.
 * - Registration functions (names, gauges, counters, weights, labels) may lock and allocate;
 *   call them at set-up and cache the returned id or handle.
 * - No function ever exits, aborts or prints. Errors are return values.
 */

/* Memory kinds: the section of nctop's memory tree a gauge lands in. */
enum nctop_mem_kind {
    NCTOP_MEM_POOL = 1,     /* an allocator pool: used vs reserved (capacity) */
    NCTOP_MEM_KV_CACHE = 2, /* a KV cache: used vs capacity */
    NCTOP_MEM_OTHER = 3,    /* anything else the workload tracks */
};

/* Memory flags, OR-ed. */
#define NCTOP_MEM_DEVICE 0x1U /* lives on a device (GPU, accelerator), not in host RSS */

/* Step markers: what a decode or training loop knows about its progress. */
enum nctop_step_kind {
    NCTOP_STEP_REQUEST_BEGIN = 1, /* a request (prompt) starts: the TTFT clock starts */
    NCTOP_STEP_TOKEN = 2,         /* n tokens were produced (adds n to counter "tokens") */
    NCTOP_STEP_REQUEST_END = 3,   /* the request is complete; n is its nctop_request_status */
    NCTOP_STEP_ITERATION = 4,     /* one training or simulation iteration ended */
    NCTOP_STEP_PROMPT_TOKENS = 5, /* the request's prompt (prefill) has n more tokens */
};

/* How a request ended (nctop_request_end, NCTOP_STEP_REQUEST_END); other values = failed. */
enum nctop_request_status {
    NCTOP_REQUEST_OK = 0,        /* completed */
    NCTOP_REQUEST_FAILED = 1,    /* ended with an error */
    NCTOP_REQUEST_CANCELLED = 2, /* aborted by the client or the engine */
};

/* Options for nctop_init(). Set sz to sizeof(struct nctop_opts); zero fields take the
 * defaults (environment NCTOP_LABEL, NCTOP_RING_KB, NCTOP_MAX_THREADS, then built-ins). */
struct nctop_opts {
    size_t sz;            /* sizeof(struct nctop_opts), for forward compatibility */
    const char *label;    /* borrowed: the name nctop shows; default $NCTOP_LABEL or comm */
    size_t ring_bytes;    /* per-thread ring size, rounded up to a power of two */
    unsigned max_threads; /* ring slots; threads beyond it drop their events (counted) */
};

/* Create this process's segment (/dev/shm/nctop-<pid>, mode 0600). Optional: the first
 * registration calls it with defaults. Returns 0, or -errno; after an error every call is a
 * harmless no-op. A second call returns 0 and changes nothing. opts is borrowed, may be
 * NULL. Registration context. */
NCTOP_API int nctop_init(const struct nctop_opts *opts);

/* Remove the segment and stop publishing. Registered at exit automatically; safe to call
 * twice. Calls after it are no-ops. Not to be called while other threads emit events. */
NCTOP_API void nctop_shutdown(void);

/* Set the label nctop shows for this process (max 63 bytes, truncated). label is borrowed.
 * Returns 0 or -errno. Registration context. */
NCTOP_API int nctop_set_label(const char *label);

/* Name the calling thread for nctop (max 15 bytes, truncated). Defaults to the thread's
 * kernel name. Returns 0 or -errno. Registration context. */
NCTOP_API int nctop_thread_name(const char *name);

/* Intern a name (UTF-8, 1..1023 bytes) and return its id, the same for the same string.
 * Returns 0 when the name is invalid or the string table is full (counted). name is
 * borrowed. Registration context: call once and cache the id. */
NCTOP_API uint32_t nctop_name(const char *name);

/* Begin and end a span on the calling thread. Spans nest per thread; nctop builds the
 * latency tree from the nesting. end must name the span being closed. name_id 0 is ignored.
 * Event path. */
NCTOP_API void nctop_span_begin(uint32_t name_id);
NCTOP_API void nctop_span_end(uint32_t name_id);

/* End a span with a status: 0 = ok, else the id (nctop_name) of a short message saying why
 * it failed ("does not fit: 9000 neurons > 8192 per core"). nctop counts the ok and failed
 * ends per path, keeps the latest message, and lists each span that ended with a status or
 * carries attributes as one instance (a compilation: the Compile view). Event path. */
NCTOP_API void nctop_span_end_status(uint32_t name_id, uint32_t status_id);

/* Attach an attribute to the innermost open span of the calling thread, e.g. a compilation's
 * "model" and "target": key and value are ids from nctop_name(). Outputs label the span's
 * instance with them. At most 4 per span instance; a key set again replaces its value.
 * Event path. */
NCTOP_API void nctop_span_attr(uint32_t key_id, uint32_t value_id);

/* The SDK's clock: CLOCK_MONOTONIC in nanoseconds, the time base of every record. */
NCTOP_API uint64_t nctop_now_ns(void);

/* Report one kernel execution: name and backend ("cpu", "cuda", "loihi2", ... interned with
 * nctop_name()), start in nctop_now_ns() time and duration in ns. May be reported after the
 * fact, from any thread (GPU timings arrive late). Event path. */
NCTOP_API void nctop_kernel(uint32_t name_id, uint32_t backend_id, uint64_t start_ns,
                            uint64_t dur_ns);

/* Register a memory gauge and return its handle (0 on failure). The same name returns the
 * same handle. name is borrowed. Registration context. */
NCTOP_API uint32_t nctop_gauge(const char *name, enum nctop_mem_kind kind, unsigned flags);

/* Set a gauge's used and capacity bytes (capacity 0 = none); nctop also keeps its peak.
 * Stored in the segment at once, attached or not. Any thread; no lock; not a syscall. */
NCTOP_API void nctop_gauge_set(uint32_t gauge, uint64_t used_bytes, uint64_t capacity_bytes);

/* Register (or update) a weight tensor by dotted path, e.g. "layers.3.mlp.up_proj"; nctop
 * turns the dots into the Model Weights tree. bytes 0 unregisters. flags: NCTOP_MEM_*.
 * path is borrowed. Returns 0 or -errno (-ENOSPC when the table is full). Registration. */
NCTOP_API int nctop_weight_set(const char *path, uint64_t bytes, unsigned flags);

/* Attribute an allocation (bytes > 0) or a release (bytes < 0) to the span open on the
 * calling thread; nctop shows the net delta per scope. Event path. */
NCTOP_API void nctop_mem_delta(int64_t bytes);

/* Register a monotonic counter ("tokens", "spikes", ...) and return its handle (0 on
 * failure). The same name returns the same handle. Registration context. */
NCTOP_API uint32_t nctop_counter(const char *name);

/* Add n to a counter. Stored in the segment at once, attached or not (an atomic add).
 * nctop derives <name>_per_sec from it. Any thread; event path. */
NCTOP_API void nctop_counter_add(uint32_t counter, uint64_t n);

/* Register a floating-point value by name (an accuracy, a temperature, a measured power or
 * energy; a dotted path like "layers.2.power_w" makes a tree) with its unit ("W", "J", "%",
 * "C"; NULL or "" for none), and return its handle (0 on failure). The same name returns the
 * same handle (the first unit stays). nctop shows the latest value set. Names "energy_j" and
 * "power_w" (also per layer, "layers.N.energy_j") are measured energy and power: nctop shows
 * them instead of its estimates. Registration context. */
NCTOP_API uint32_t nctop_value(const char *name, const char *unit);

/* Set a value. Stored in the segment at once, attached or not. Any thread; no lock; not a
 * syscall. Event path. */
NCTOP_API void nctop_value_set(uint32_t value, double v);

/* --- Matrices (heatmaps) ----------------------------------------------------------------
 * A small matrix of floats nctop draws as a heatmap: attention weights, a spike raster, core
 * occupancy. Each publication is a snapshot that replaces the previous one whole; nctop never
 * sees half of one. NCTOP_MATRIX_MAX matrices per process; NCTOP_MATRIX_DIM_MAX rows and
 * columns at most; labels are NCTOP_MATRIX_LABEL_MAX - 1 bytes at most (longer: cut). */
#define NCTOP_MATRIX_MAX 8
#define NCTOP_MATRIX_DIM_MAX 256
#define NCTOP_MATRIX_LABEL_MAX 16

/* Register a matrix by name ("attn.layer3.head0", "spikes.raster") with the unit of its values
 * ("%", "spikes"; NULL or "" for none) and return its handle (0 on failure: an invalid name,
 * or NCTOP_MATRIX_MAX matrices already). The same name returns the same handle. Registration
 * context. */
NCTOP_API uint32_t nctop_matrix(const char *name, const char *unit);

/* Publish a snapshot of the matrix: rows x cols floats, row-major (values[r * cols + c]),
 * copied; row_labels (rows strings) and col_labels (cols strings) are copied too and may be
 * NULL (nctop shows indexes), as may any one label. NaN and infinities are shown as absent.
 * Returns 0, -EINVAL (bad handle, rows or cols 0 or above NCTOP_MATRIX_DIM_MAX, values NULL)
 * or -EBUSY when another thread is publishing the same matrix (this snapshot is dropped and
 * counted; it never waits). Any thread; no lock, allocation or system call; the cost is the
 * copy (256 KiB at the largest), so publish at a human pace, not on every event. */
NCTOP_API int nctop_matrix_publish(uint32_t matrix, uint32_t rows, uint32_t cols,
                                   const float *values, const char *const *row_labels,
                                   const char *const *col_labels);

/* Declare a process attribute: what the workload runs on or as, e.g. "target" ("loihi2",
 * "cuda", "cpu"), "chip", "model". Outputs label their figures with "target" and "chip";
 * nctop's energy estimates use the model of "target". value NULL or "" unsets it. Both are
 * copied. Returns 0 or -errno (-ENOSPC when a table is full). Registration context. */
NCTOP_API int nctop_set_attr(const char *key, const char *value);

/* Mark a step (enum nctop_step_kind). NCTOP_STEP_TOKEN adds n to counter "tokens"; nctop
 * derives time to first token (REQUEST_BEGIN to the first TOKEN) and inter-token latency
 * (TOKEN to TOKEN) from the markers. The request markers are those of request 0 (below).
 * Event path. */
NCTOP_API void nctop_step(enum nctop_step_kind kind, uint64_t n);

/* Requests by id, for engines that serve several at once (any 64-bit id the workload
 * chooses, unique among its requests in flight; nctop_step's markers are request 0). The
 * events of one request may come from any threads. nctop derives per request the time to
 * first token (begin to first token), the inter-token latency (token to token; n tokens in
 * one call share the gap), the end-to-end latency (begin to end) and the prompt and
 * generated token counts; it counts requests running, finished and failed. A request
 * whose begin nctop did not see (attached later) has no TTFT or end-to-end figure.
 * nctop_request_token adds n to counter "tokens", like NCTOP_STEP_TOKEN. status: enum
 * nctop_request_status. Event path. */
NCTOP_API void nctop_request_begin(uint64_t request_id);
NCTOP_API void nctop_request_prompt_tokens(uint64_t request_id, uint64_t n);
NCTOP_API void nctop_request_token(uint64_t request_id, uint64_t n);
NCTOP_API void nctop_request_end(uint64_t request_id, int status);

/* 1 when an nctop is attached and consuming events, 0 otherwise. Event path. */
NCTOP_API int nctop_attached(void);

/* Events this process dropped so far (full rings, no free ring slot, a stalled nctop).
 * Any thread. */
NCTOP_API uint64_t nctop_dropped(void);

/* The library version, "MAJOR.MINOR.PATCH". Static string. */
NCTOP_API const char *nctop_version(void);

/* --- Scopes ---------------------------------------------------------------------------
 * NCTOP_SCOPE("name") opens a span that ends when the enclosing block ends (C: the cleanup
 * attribute of GCC and Clang; C++: an RAII object). The name is interned once per call site
 * and cached, so the cost per use is that of span begin + end. */

/* Internal (not API): non-zero while an nctop consumes this process's events. It lets the
 * scope helpers below skip the call altogether when nobody is attached. */
NCTOP_API extern int32_t *nctop__active;

static inline int nctop__attached_inline(void)
{
    return __atomic_load_n(__atomic_load_n(&nctop__active, __ATOMIC_RELAXED), __ATOMIC_RELAXED) !=
           0;
}

static inline uint32_t nctop__scope_id(uint32_t *cache, const char *name)
{
    uint32_t id = __atomic_load_n(cache, __ATOMIC_RELAXED);

    if (id == 0) {
        id = nctop_name(name);
        __atomic_store_n(cache, id, __ATOMIC_RELAXED);
    }
    return id;
}

#define NCTOP__CAT2(a, b) a##b
#define NCTOP__CAT(a, b) NCTOP__CAT2(a, b)

#ifdef __cplusplus
} /* extern "C" */

namespace nctop
{
/* A span for the lifetime of the object. The id comes from nctop_name(), cached by the
 * caller (NCTOP_SCOPE caches it per call site). */
class Span
{
  public:
    explicit Span(uint32_t name_id) : id_(name_id)
    {
        if (nctop__attached_inline()) {
            nctop_span_begin(id_);
        }
    }
    ~Span()
    {
        if (nctop__attached_inline()) {
            nctop_span_end(id_);
        }
    }
    Span(const Span &) = delete;
    Span &operator=(const Span &) = delete;

  private:
    uint32_t id_;
};
} /* namespace nctop */

#define NCTOP_SCOPE(name)                                                                          \
    static uint32_t NCTOP__CAT(nctop__sid_, __LINE__);                                             \
    ::nctop::Span NCTOP__CAT(nctop__scope_, __LINE__)(                                             \
        nctop__scope_id(&NCTOP__CAT(nctop__sid_, __LINE__), (name)))

#else /* C */

static inline void nctop__scope_close(uint32_t *id)
{
    if (nctop__attached_inline()) {
        nctop_span_end(*id);
    }
}

static inline uint32_t nctop__scope_open(uint32_t *cache, const char *name)
{
    uint32_t id = nctop__scope_id(cache, name);

    if (nctop__attached_inline()) {
        nctop_span_begin(id);
    }
    return id;
}

#define NCTOP_SCOPE(name)                                                                          \
    static uint32_t NCTOP__CAT(nctop__sid_, __LINE__);                                             \
    uint32_t NCTOP__CAT(nctop__scope_, __LINE__) __attribute__((cleanup(nctop__scope_close))) =    \
        nctop__scope_open(&NCTOP__CAT(nctop__sid_, __LINE__), (name))

#endif /* __cplusplus */

#endif /* NCTOP_H */
