/* SPDX-License-Identifier: MIT */
/* libnctop's event path: per-thread single-producer rings in the segment, written without a
 * lock, an allocation or a system call; plus gauges and counters, and thread exit. */
#include "sdk_internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "nctop.h"
#include "seg_clock.h"

/* After a failed claim (every slot taken), events dropped before the next scan of the slots:
 * a thread beyond max_threads must not scan the whole table on every event. */
#define EVENTS_CLAIM_RETRY 4096U

#define EVENTS_LIKELY(x) __builtin_expect(!!(x), 1)
#define EVENTS_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* The calling thread's producer state. head and tail mirror the ring's: head is ours alone,
 * tail is the consumer's, cached and reloaded only when the cached value says "full". */
struct events_thread {
    struct nctop_seg_header *hdr; /* the segment the ring belongs to */
    struct nctop_seg_ring *ring;  /* NULL until claimed */
    unsigned char *data;          /* ring_bytes of record data */
    uint64_t head;                /* bytes published */
    uint64_t tail;                /* consumer position last seen */
    uint64_t size;                /* ring_bytes, a power of two */
    uint32_t claim_skip;          /* events to drop before trying to claim again */
    bool gap;                     /* events were dropped: flag the next record */
    bool named;                   /* name came from nctop_thread_name */
    char name[NCTOP_SEG_THREAD_NAME_MAX];
};

/* initial-exec: a TLS access is one %fs-relative load instead of a __tls_get_addr call. The
 * struct is small enough for the static TLS surplus glibc keeps for dlopen()ed libraries. */
static _Thread_local struct events_thread events_self __attribute__((tls_model("initial-exec")));
static pthread_key_t events_key;

bool sdk_clock_tsc;
uint64_t sdk_clock_timeout = NCTOP_SEG_READER_TIMEOUT_NS;
uint64_t sdk_clock_gone = NCTOP_SEG_READER_GONE_NS;
uint64_t sdk_calib_period;
uint64_t sdk_calib_period_max;
_Atomic uint64_t sdk_calib_next = UINT64_MAX;

/* Now in the event clock, with the reader's heartbeat in the same units. The branch goes
 * the same way for the whole life of the process. */
static inline uint64_t events_clock_now(const struct nctop_seg_header *hdr, uint64_t *hb)
{
    if (EVENTS_LIKELY(sdk_clock_tsc)) {
        *hb = atomic_load_explicit(&hdr->reader_heartbeat_tsc, memory_order_relaxed);
        return nctop_seg_tsc();
    }
    *hb = atomic_load_explicit(&hdr->reader_heartbeat_ns, memory_order_relaxed);
    return nctop_seg_mono_ns();
}

static inline struct nctop_seg_ring *events_ring_at(struct nctop_seg_header *hdr, uint32_t i)
{
    return (struct nctop_seg_ring *)((char *)hdr + hdr->rings_off + (uint64_t)i * hdr->ring_stride);
}

/* Count one event this thread could not store: in its ring when it has one (a plain
 * increment: the producer is the only writer), else in the header's shared counter. */
static void events_drop(struct events_thread *t, struct nctop_seg_header *hdr)
{
    if (t->ring != NULL) {
        uint64_t d = atomic_load_explicit(&t->ring->dropped, memory_order_relaxed);

        atomic_store_explicit(&t->ring->dropped, d + 1, memory_order_relaxed);
        t->gap = true;
    } else {
        atomic_fetch_add_explicit(&hdr->dropped_no_ring, 1, memory_order_relaxed);
    }
}

/*
 * A new calibration pair (segment.h, enum nctop_seg_clock): the first event after
 * sdk_calib_period. The compare-and-swap of calib_seq (even to odd) elects one writer, which
 * moves sdk_calib_next (and alone updates the period); a thread that loses it does nothing:
 * no lock, no wait. The clock read is the vDSO's, not a system call.
 */
static __attribute__((noinline)) void events_calibrate(struct nctop_seg_header *hdr, uint64_t now)
{
    uint32_t seq = atomic_load_explicit(&hdr->calib_seq, memory_order_relaxed);
    uint64_t tsc = 0, ns = 0;

    if ((seq & 1) != 0 ||
        !atomic_compare_exchange_strong_explicit(&hdr->calib_seq, &seq, seq + 1,
                                                 memory_order_acquire, memory_order_relaxed)) {
        return;
    }
    /* The one writer (acquire: it sees the period its predecessor left, released with seq)
     * schedules the next refresh: the period doubles up to its limit. */
    atomic_store_explicit(&sdk_calib_next, now + sdk_calib_period, memory_order_relaxed);
    if (sdk_calib_period < sdk_calib_period_max) {
        sdk_calib_period *= 2;
    }
    /* The odd count is visible before the pair changes. */
    atomic_thread_fence(memory_order_release);
    nctop_seg_calib_take(&tsc, &ns);
    atomic_store_explicit(&hdr->calib_last.tsc, tsc, memory_order_relaxed);
    atomic_store_explicit(&hdr->calib_last.mono_ns, ns, memory_order_relaxed);
    atomic_store_explicit(&hdr->calib_seq, seq + 2, memory_order_release);
}

/*
 * The reader has not drained for NCTOP_SEG_READER_TIMEOUT_NS: it may be stopped, swapped out
 * or busy. The event is not written (the ring may be full of what it has not read) but
 * counted, on the thread's ring, so the reader sees the loss when it comes back; reader_pid
 * turns negative to say so. Past NCTOP_SEG_READER_GONE_NS the reader is presumed dead and
 * events are switched off (reader_pid 0). Only the reader we saw is changed: a new reader
 * may have attached since. t->ring is set (the caller claimed one).
 */
static __attribute__((noinline)) void events_reader_stale(struct events_thread *t,
                                                          struct nctop_seg_header *hdr,
                                                          int32_t reader, uint64_t age)
{
    uint64_t d;

    /* age is in the event clock's units, as are the limits. */
    if (age > sdk_clock_gone && (int64_t)age > 0) {
        atomic_compare_exchange_strong_explicit(&hdr->reader_pid, &reader, 0, memory_order_relaxed,
                                                memory_order_relaxed);
        return;
    }
    if (reader > 0) {
        atomic_compare_exchange_strong_explicit(&hdr->reader_pid, &reader, -reader,
                                                memory_order_relaxed, memory_order_relaxed);
    }
    d = atomic_load_explicit(&t->ring->dropped_stall, memory_order_relaxed);
    atomic_store_explicit(&t->ring->dropped_stall, d + 1, memory_order_relaxed);
    t->gap = true;
}

/*
 * Give the calling thread a ring: the first FREE slot, taken with a CAS so two threads never
 * share one. A FREE slot has head == tail, so the producer starts from the consumer's
 * position. The generation bump (release) tells the reader a new thread owns the slot and
 * publishes tid and name. One-off per thread, so the two system calls here are acceptable.
 */
static __attribute__((noinline)) bool events_claim(struct events_thread *t,
                                                   struct nctop_seg_header *hdr)
{
    if (t->claim_skip > 0) {
        t->claim_skip--;
        events_drop(t, hdr);
        return false;
    }
    for (uint32_t i = 0; i < hdr->rings_max; i++) {
        struct nctop_seg_ring *ring = events_ring_at(hdr, i);
        uint32_t expected = NCTOP_SEG_RING_FREE;
        uint32_t hw;

        if (atomic_load_explicit(&ring->state, memory_order_relaxed) != NCTOP_SEG_RING_FREE) {
            continue;
        }
        if (!atomic_compare_exchange_strong_explicit(&ring->state, &expected, NCTOP_SEG_RING_ACTIVE,
                                                     memory_order_acquire, memory_order_relaxed)) {
            continue;
        }
        ring->tid = (int32_t)gettid();
        if (!t->named) {
            memset(t->name, 0, sizeof(t->name));
            prctl(PR_GET_NAME, t->name, 0, 0, 0);
        }
        memcpy(ring->name, t->name, sizeof(ring->name));
        atomic_fetch_add_explicit(&ring->generation, 1, memory_order_release);

        hw = atomic_load_explicit(&hdr->rings_count, memory_order_relaxed);
        while (hw < i + 1 &&
               !atomic_compare_exchange_weak_explicit(&hdr->rings_count, &hw, i + 1,
                                                      memory_order_release, memory_order_relaxed)) {
        }

        t->hdr = hdr;
        t->ring = ring;
        t->data = (unsigned char *)(ring + 1);
        t->size = hdr->ring_bytes;
        t->head = atomic_load_explicit(&ring->head, memory_order_relaxed);
        t->tail = atomic_load_explicit(&ring->tail, memory_order_acquire);
        t->gap = false;
        /* Arms the exit destructor. The key was created at init, among the first keys of the
         * process, so this does not allocate. */
        pthread_setspecific(events_key, ring);
        return true;
    }
    t->claim_skip = EVENTS_CLAIM_RETRY;
    events_drop(t, hdr);
    return false;
}

/* Out-of-line part of events_reserve: the record does not fit before the end of the data
 * (pad, then start again at offset 0) or the cached tail says the ring is full. */
static __attribute__((noinline)) struct nctop_rec *events_reserve_slow(struct events_thread *t,
                                                                       uint64_t bytes)
{
    uint64_t off = t->head & (t->size - 1);
    uint64_t room = t->size - off;
    uint64_t need = room < bytes ? room + bytes : bytes;
    struct nctop_rec *pad;

    if (t->head + need - t->tail > t->size) {
        t->tail = atomic_load_explicit(&t->ring->tail, memory_order_acquire);
        if (t->head + need - t->tail > t->size) {
            events_drop(t, t->hdr);
            return NULL;
        }
    }
    if (room < bytes) {
        /* The pad is published with the record that follows it (one head store). When only
         * 8 bytes remain, the pad is that one word: type, flags and words only. */
        pad = (struct nctop_rec *)(t->data + off);
        pad->type = NCTOP_REC_PAD;
        pad->flags = 0;
        pad->words = (uint16_t)(room / 8);
        t->head += room;
        off = 0;
    }
    return (struct nctop_rec *)(t->data + off);
}

/* The first word of a record header (type, flags, words, id) in one store: a byte-wise
 * build would be read back as a whole and stall the store forwarding. */
static inline void events_rec_head(struct nctop_rec *rec, unsigned type, unsigned flags,
                                   unsigned words, uint32_t id)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint64_t w = (uint64_t)type | (uint64_t)flags << 8 | (uint64_t)words << 16 | (uint64_t)id << 32;

    memcpy(rec, &w, sizeof(w));
#else
    rec->type = (uint8_t)type;
    rec->flags = (uint8_t)flags;
    rec->words = (uint16_t)words;
    rec->id = id;
#endif
}

/*
 * Write one record of `words` 8-byte words on the calling thread's ring, every case: the
 * thread's first event (claim a ring), a stale reader, a calibration refresh, a record that
 * wraps or does not fit. Drops are counted; a dead reader (stale heartbeat) is switched off.
 * KERNEL records carry the caller's start time (CLOCK_MONOTONIC), the others now in the event
 * clock (TSC ticks, flagged, or CLOCK_MONOTONIC).
 */
static __attribute__((noinline)) void events_write_slow(unsigned type, unsigned words, uint32_t id,
                                                        uint64_t ts_ns, uint64_t arg0,
                                                        uint64_t arg1)
{
    /* Acquire pairs with the release that published the segment: its layout is visible. */
    struct nctop_seg_header *hdr = atomic_load_explicit(&sdk_hdr, memory_order_acquire);
    struct events_thread *t = &events_self;
    int32_t reader = atomic_load_explicit(&hdr->reader_pid, memory_order_relaxed);
    uint64_t bytes = (uint64_t)words * 8;
    struct nctop_rec *rec;
    uint64_t now, off, hb;
    unsigned flags;

    if (EVENTS_UNLIKELY(t->ring == NULL) && !events_claim(t, hdr)) {
        return;
    }

    now = events_clock_now(hdr, &hb);
    /* Signed: the reader may have stamped its heartbeat after our clock read. */
    if (EVENTS_UNLIKELY((int64_t)(now - hb) > (int64_t)sdk_clock_timeout)) {
        events_reader_stale(t, hdr, reader, now - hb);
        return;
    }
    if (EVENTS_UNLIKELY(now >= atomic_load_explicit(&sdk_calib_next, memory_order_relaxed))) {
        events_calibrate(hdr, now);
    }

    off = t->head & (t->size - 1);
    if (EVENTS_LIKELY(off + bytes <= t->size && t->head + bytes - t->tail <= t->size)) {
        rec = (struct nctop_rec *)(t->data + off);
    } else {
        rec = events_reserve_slow(t, bytes);
        if (rec == NULL) {
            return;
        }
    }
    flags = t->gap ? NCTOP_REC_F_GAP : 0;
    if (type != NCTOP_REC_KERNEL) {
        ts_ns = now;
        flags |= sdk_clock_tsc ? NCTOP_REC_F_TSC : 0;
    }
    events_rec_head(rec, type, flags, words, id);
    rec->ts_ns = ts_ns;
    if (words > 2) {
        rec->arg[0] = arg0;
    }
    if (words > 3) {
        rec->arg[1] = arg1;
    }
    t->gap = false;

    /* Publish: the release store orders the record's bytes before the new head. */
    t->head += bytes;
    atomic_store_explicit(&t->ring->head, t->head, memory_order_release);
}

/*
 * The common case of events_write_slow, for a caller that has seen a reader attached: TSC
 * timestamps, the thread has a ring, the reader is fresh, no refresh is due and the record
 * fits before the end of the data. Anything else is a tail call to the slow path, so this one makes
 * no call and saves no register. The exported functions keep only the idle check inline and jump
 * to one of its copies below, so the idle path saves and restores nothing either.
 */
static inline __attribute__((always_inline)) void events_write_inl(unsigned type, unsigned words,
                                                                   uint32_t id, uint64_t ts_ns,
                                                                   uint64_t arg0, uint64_t arg1)
{
    struct nctop_seg_header *hdr = atomic_load_explicit(&sdk_hdr, memory_order_acquire);
    struct events_thread *t = &events_self;
    uint64_t bytes = (uint64_t)words * 8, head = t->head, now, hb, off;
    struct nctop_rec *rec;
    unsigned flags;

    /* CLOCK_MONOTONIC is a call (the vDSO's): that clock takes the slow path, whose cost is
     * mostly the clock read anyway. */
    if (EVENTS_UNLIKELY(!sdk_clock_tsc || t->ring == NULL)) {
        goto slow;
    }
    now = nctop_seg_tsc();
    hb = atomic_load_explicit(&hdr->reader_heartbeat_tsc, memory_order_relaxed);
    off = head & (t->size - 1);
    /* Signed: the reader may have stamped its heartbeat after our clock read. */
    if (EVENTS_UNLIKELY((int64_t)(now - hb) > (int64_t)sdk_clock_timeout ||
                        now >= atomic_load_explicit(&sdk_calib_next, memory_order_relaxed) ||
                        off + bytes > t->size || head + bytes - t->tail > t->size)) {
        goto slow;
    }
    rec = (struct nctop_rec *)(t->data + off);
    flags = t->gap ? NCTOP_REC_F_GAP : 0;
    if (type != NCTOP_REC_KERNEL) {
        ts_ns = now;
        flags |= NCTOP_REC_F_TSC;
    }
    events_rec_head(rec, type, flags, words, id);
    rec->ts_ns = ts_ns;
    if (words > 2) {
        rec->arg[0] = arg0;
    }
    if (words > 3) {
        rec->arg[1] = arg1;
    }
    t->gap = false;
    /* Publish: the release store orders the record's bytes before the new head. */
    t->head = head + bytes;
    atomic_store_explicit(&t->ring->head, head + bytes, memory_order_release);
    return;

slow:
    events_write_slow(type, words, id, ts_ns, arg0, arg1);
}

/* Its copies: one for each record size, the size a constant so that what is left of the
 * record's assembly fits in the registers a call may clobber (the generic one pushed five). */
static __attribute__((noinline)) void events_write2(unsigned type, uint32_t id)
{
    events_write_inl(type, 2, id, 0, 0, 0);
}

static __attribute__((noinline)) void events_write3(unsigned type, uint32_t id, uint64_t arg0)
{
    events_write_inl(type, 3, id, 0, arg0, 0);
}

static __attribute__((noinline)) void events_write(unsigned type, unsigned words, uint32_t id,
                                                   uint64_t ts_ns, uint64_t arg0, uint64_t arg1)
{
    events_write_inl(type, words, id, ts_ns, arg0, arg1);
}

/* The idle check every event starts with: one load of the header pointer, one of reader_pid,
 * a branch. Before init and after shutdown the header is the zeroed dummy. */
static inline __attribute__((always_inline)) bool events_idle(void)
{
    struct nctop_seg_header *hdr = atomic_load_explicit(&sdk_hdr, memory_order_relaxed);

    return EVENTS_LIKELY(atomic_load_explicit(&hdr->reader_pid, memory_order_relaxed) == 0);
}

/* Thread exit (pthread key destructor). The reader drains a RETIRED ring and then frees it;
 * with no reader nobody would, so the thread discards its unread records and frees the slot
 * itself. The CAS makes the free happen once if a reader attaches meanwhile. */
static void events_thread_exit(void *arg)
{
    struct events_thread *t = &events_self;
    struct nctop_seg_ring *ring = t->ring;
    uint32_t expected = NCTOP_SEG_RING_RETIRED;

    (void)arg;
    if (ring == NULL) {
        return;
    }
    t->ring = NULL;
    atomic_store_explicit(&ring->state, NCTOP_SEG_RING_RETIRED, memory_order_release);
    if (atomic_load_explicit(&t->hdr->reader_pid, memory_order_acquire) == 0) {
        atomic_store_explicit(&ring->tail, t->head, memory_order_release);
        atomic_compare_exchange_strong_explicit(&ring->state, &expected, NCTOP_SEG_RING_FREE,
                                                memory_order_release, memory_order_relaxed);
    }
}

int sdk_events_key_create(void)
{
    int rc = pthread_key_create(&events_key, events_thread_exit);

    return -rc;
}

void sdk_events_fork_child(void)
{
    struct events_thread *t = &events_self;

    t->hdr = NULL;
    t->ring = NULL;
    t->data = NULL;
    t->head = 0;
    t->tail = 0;
    t->size = 0;
    t->claim_skip = 0;
    t->gap = false;
}

void sdk_events_set_thread_name(const char *name)
{
    struct events_thread *t = &events_self;

    memset(t->name, 0, sizeof(t->name));
    strncpy(t->name, name, sizeof(t->name) - 1);
    t->named = true;
    if (t->ring != NULL) {
        memcpy(t->ring->name, t->name, sizeof(t->ring->name));
    }
}

NCTOP_API void nctop_span_begin(uint32_t name_id)
{
    if (events_idle() || name_id == 0) {
        return;
    }
    events_write2(NCTOP_REC_SPAN_BEGIN, name_id);
}

NCTOP_API void nctop_span_end(uint32_t name_id)
{
    if (events_idle() || name_id == 0) {
        return;
    }
    events_write2(NCTOP_REC_SPAN_END, name_id);
}

NCTOP_API void nctop_span_end_status(uint32_t name_id, uint32_t status_id)
{
    if (events_idle() || name_id == 0) {
        return;
    }
    events_write3(NCTOP_REC_SPAN_END, name_id, status_id);
}

NCTOP_API void nctop_span_attr(uint32_t key_id, uint32_t value_id)
{
    if (events_idle() || key_id == 0 || value_id == 0) {
        return;
    }
    events_write3(NCTOP_REC_SPAN_ATTR, key_id, value_id);
}

NCTOP_API void nctop_kernel(uint32_t name_id, uint32_t backend_id, uint64_t start_ns,
                            uint64_t dur_ns)
{
    if (events_idle() || name_id == 0) {
        return;
    }
    events_write(NCTOP_REC_KERNEL, 4, name_id, start_ns, dur_ns, backend_id);
}

NCTOP_API void nctop_mem_delta(int64_t bytes)
{
    if (events_idle()) {
        return;
    }
    events_write3(NCTOP_REC_MEM_DELTA, 0, (uint64_t)bytes);
}

NCTOP_API void nctop_counter_add(uint32_t counter, uint64_t n)
{
    struct nctop_seg_header *hdr = atomic_load_explicit(&sdk_hdr, memory_order_acquire);
    struct nctop_seg_counter *tab;

    /* Handles are index + 1; 0 and unknown handles fall out of the unsigned range check. */
    if (counter - 1 >= atomic_load_explicit(&hdr->counters_count, memory_order_acquire)) {
        return;
    }
    tab = (struct nctop_seg_counter *)((char *)hdr + hdr->counters_off);
    atomic_fetch_add_explicit(&tab[counter - 1].value, n, memory_order_relaxed);
}

NCTOP_API void nctop_value_set(uint32_t value, double v)
{
    struct nctop_seg_header *hdr = atomic_load_explicit(&sdk_hdr, memory_order_acquire);
    struct nctop_seg_value *tab;
    uint64_t bits;

    /* Handles are index + 1; 0 and unknown handles fall out of the unsigned range check. */
    if (value - 1 >= atomic_load_explicit(&hdr->values_count, memory_order_acquire)) {
        return;
    }
    memcpy(&bits, &v, sizeof(bits));
    if (bits == NCTOP_SEG_VALUE_UNSET) {
        bits = NCTOP_SEG_VALUE_UNSET - 1; /* that one NaN pattern means "never set": another NaN */
    }
    tab = (struct nctop_seg_value *)((char *)hdr + hdr->values_off);
    atomic_store_explicit(&tab[value - 1].bits, bits, memory_order_relaxed);
}

_Static_assert(NCTOP_MATRIX_MAX == NCTOP_SEG_DEFAULT_MATRICES_MAX &&
                   NCTOP_MATRIX_DIM_MAX == NCTOP_SEG_MATRIX_DIM_MAX &&
                   NCTOP_MATRIX_LABEL_MAX == NCTOP_SEG_MATRIX_LABEL_MAX,
               "the matrix limits of nctop.h and segment.h differ");

/* A label into a fixed field: at most NCTOP_SEG_MATRIX_LABEL_MAX - 1 bytes, cut at a UTF-8
 * character boundary, the rest zeros (the reader checks it again: it trusts nothing). */
static void events_label(char *dst, const char *src)
{
    size_t n = src != NULL ? strnlen(src, NCTOP_SEG_MATRIX_LABEL_MAX) : 0;

    if (n > NCTOP_SEG_MATRIX_LABEL_MAX - 1) {
        n = NCTOP_SEG_MATRIX_LABEL_MAX - 1;
        while (n > 0 && ((unsigned char)src[n] & 0xc0) == 0x80) {
            n--;
        }
    }
    memcpy(dst, src != NULL ? src : "", n);
    memset(dst + n, 0, NCTOP_SEG_MATRIX_LABEL_MAX - n);
}

NCTOP_API int nctop_matrix_publish(uint32_t matrix, uint32_t rows, uint32_t cols,
                                   const float *values, const char *const *row_labels,
                                   const char *const *col_labels)
{
    struct nctop_seg_header *hdr = atomic_load_explicit(&sdk_hdr, memory_order_acquire);
    struct nctop_seg_matrix_buf *b;
    struct nctop_seg_matrix *m;
    uint32_t idle = 0;
    uint64_t seq;

    if (matrix - 1 >= atomic_load_explicit(&hdr->matrices_count, memory_order_acquire)) {
        return -EINVAL; /* 0, unknown, or no segment (the dummy header has no matrices) */
    }
    if (rows == 0 || cols == 0 || rows > NCTOP_SEG_MATRIX_DIM_MAX ||
        cols > NCTOP_SEG_MATRIX_DIM_MAX || values == NULL) {
        return -EINVAL;
    }
    m = (struct nctop_seg_matrix *)((char *)hdr + hdr->matrices_off) + (matrix - 1);
    /* One publisher at a time, without waiting: the loser's snapshot is dropped. */
    if (!atomic_compare_exchange_strong_explicit(&m->busy, &idle, 1, memory_order_acquire,
                                                 memory_order_relaxed)) {
        atomic_fetch_add_explicit(&m->busy_drops, 1, memory_order_relaxed);
        return -EBUSY;
    }
    seq = atomic_load_explicit(&m->seq, memory_order_relaxed) & ~1ULL;
    atomic_store_explicit(&m->seq, seq + 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);

    /* The buffer that is not the latest: a reader copying the latest is not disturbed. */
    b = &m->buf[((seq >> 1) + 1) & 1];
    b->rows = rows;
    b->cols = cols;
    b->ts_ns = nctop_now_ns();
    memcpy(b->values, values, (size_t)rows * cols * sizeof(float));
    for (uint32_t i = 0; i < rows; i++) {
        events_label(b->row_labels[i], row_labels != NULL ? row_labels[i] : NULL);
    }
    for (uint32_t i = 0; i < cols; i++) {
        events_label(b->col_labels[i], col_labels != NULL ? col_labels[i] : NULL);
    }

    atomic_store_explicit(&m->seq, seq + 2, memory_order_release);
    atomic_store_explicit(&m->busy, 0, memory_order_release);
    return 0;
}

NCTOP_API void nctop_step(enum nctop_step_kind kind, uint64_t n)
{
    if (kind == NCTOP_STEP_TOKEN) {
        nctop_counter_add(SDK_TOKENS_COUNTER, n);
    }
    if (events_idle()) {
        return;
    }
    events_write3(NCTOP_REC_STEP, (uint32_t)kind, n);
}

/* The request calls: a 4-word STEP record whose arg[1] is the request id. */
static inline __attribute__((always_inline)) void events_request(enum nctop_step_kind kind,
                                                                 uint64_t request_id, uint64_t n)
{
    if (events_idle()) {
        return;
    }
    events_write(NCTOP_REC_STEP, 4, (uint32_t)kind, 0, n, request_id);
}

NCTOP_API void nctop_request_begin(uint64_t request_id)
{
    events_request(NCTOP_STEP_REQUEST_BEGIN, request_id, 0);
}

NCTOP_API void nctop_request_prompt_tokens(uint64_t request_id, uint64_t n)
{
    events_request(NCTOP_STEP_PROMPT_TOKENS, request_id, n);
}

NCTOP_API void nctop_request_token(uint64_t request_id, uint64_t n)
{
    nctop_counter_add(SDK_TOKENS_COUNTER, n);
    events_request(NCTOP_STEP_TOKEN, request_id, n);
}

NCTOP_API void nctop_request_end(uint64_t request_id, int status)
{
    /* The status travels as an unsigned word; a negative one is some failure too. */
    events_request(NCTOP_STEP_REQUEST_END, request_id, status < 0 ? 1U : (uint64_t)status);
}

NCTOP_API void nctop_gauge_set(uint32_t gauge, uint64_t used_bytes, uint64_t capacity_bytes)
{
    struct nctop_seg_header *hdr = atomic_load_explicit(&sdk_hdr, memory_order_acquire);
    struct nctop_seg_gauge *g;
    uint64_t peak;

    if (gauge - 1 >= atomic_load_explicit(&hdr->gauges_count, memory_order_acquire)) {
        return;
    }
    g = (struct nctop_seg_gauge *)((char *)hdr + hdr->gauges_off) + (gauge - 1);
    atomic_store_explicit(&g->used_bytes, used_bytes, memory_order_relaxed);
    atomic_store_explicit(&g->capacity_bytes, capacity_bytes, memory_order_relaxed);
    peak = atomic_load_explicit(&g->peak_bytes, memory_order_relaxed);
    while (used_bytes > peak &&
           !atomic_compare_exchange_weak_explicit(&g->peak_bytes, &peak, used_bytes,
                                                  memory_order_relaxed, memory_order_relaxed)) {
    }
}

NCTOP_API int nctop_attached(void)
{
    struct nctop_seg_header *hdr = atomic_load_explicit(&sdk_hdr, memory_order_acquire);
    uint64_t hb, now;

    if (atomic_load_explicit(&hdr->reader_pid, memory_order_relaxed) == 0) {
        return 0;
    }
    now = events_clock_now(hdr, &hb);
    return (int64_t)(now - hb) <= (int64_t)sdk_clock_timeout;
}

NCTOP_API uint64_t nctop_dropped(void)
{
    struct nctop_seg_header *hdr = atomic_load_explicit(&sdk_hdr, memory_order_acquire);
    uint64_t sum = atomic_load_explicit(&hdr->dropped_no_ring, memory_order_relaxed);
    uint32_t n = atomic_load_explicit(&hdr->rings_count, memory_order_acquire);

    for (uint32_t i = 0; i < n && i < hdr->rings_max; i++) {
        struct nctop_seg_ring *ring = events_ring_at(hdr, i);

        sum += atomic_load_explicit(&ring->dropped, memory_order_relaxed);
        sum += atomic_load_explicit(&ring->dropped_stall, memory_order_relaxed);
    }
    return sum;
}
