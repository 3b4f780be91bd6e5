/* SPDX-License-Identifier: MIT */
/* The ring collector. Every byte of a segment is untrusted: the workload may be buggy,
 * half-initialised, truncated or hostile, so every offset, id and length is checked before it
 * is used, and a bad segment becomes an error row, never a crash or unbounded memory. */
#include "ring.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "libnctop/segment.h"
#include "src/diag.h"
#include "src/store.h"
#include "src/util.h"
#include "src/xalloc.h"

#define RING_FACTS_PERIOD_NS (250ULL * UTIL_NS_PER_MS)    /* gauges, counters, drops, label */
#define RING_WEIGHTS_PERIOD_NS (1000ULL * UTIL_NS_PER_MS) /* weights change rarely */
#define RING_MAX_SEGMENTS 4096 /* segments remembered (live and exited) */
#define RING_MAX_ANCESTRY 64   /* ppid steps when deciding "descendant of root" */
#define RING_INVALID_NAME "(invalid name)"
#define RING_CLOCK_SLACK_NS (1000ULL * UTIL_NS_PER_MS) /* tolerated clock disagreement */

/* What we know of one ring slot of a segment. */
struct ring_slot_view {
    bool known;
    uint32_t generation;
    char name[NCTOP_SEG_THREAD_NAME_MAX + 1];
    struct store_thread *thread; /* NULL until the slot's first claim is seen */
};

/* One segment: mapped while its workload lives, remembered after. */
struct ring_seg {
    int32_t pid;
    dev_t dev;
    ino_t ino;
    uint64_t start_ticks;
    int fd;
    uint8_t *base; /* NULL once unmapped */
    size_t size;
    const struct nctop_seg_header *hdr_ro; /* immutable part, validated once */
    struct nctop_seg_header *hdr;
    struct store_proc *proc;
    bool reader; /* we own reader_pid: we consume events */
    bool exited;
    uint32_t *idmap; /* segment string id -> store name id (0 = invalid) */
    uint32_t nids;   /* ids 1..nids-1 mirrored */
    uint32_t idcap;
    struct ring_slot_view *slots; /* rings_max */
    uint32_t label_seq;
    uint64_t facts_ns;
    uint64_t weights_ns;
    uint32_t weights_seen; /* weights_count at the last weights sync */
    uint64_t invalid;
};

struct ring_source {
    struct store *store;
    struct ring_source_opts opts;
    int32_t self_pid;
    uid_t euid;
    struct ring_seg **segs;
    size_t nsegs;
    size_t capsegs;
    struct ring_source_stats stats;
};

static void ring_seg_note(struct ring_source *rs, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void ring_seg_note(struct ring_source *rs, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(rs->stats.last_error, sizeof(rs->stats.last_error), fmt, ap);
    va_end(ap);
    diag_warn("%s", rs->stats.last_error);
}

/* A region of count elements of elem bytes at off lies inside the mapping, 8-byte aligned,
 * with no overflow anywhere in the arithmetic. */
static bool ring_region_ok(uint64_t off, uint64_t count, uint64_t elem, uint64_t size)
{
    if (off % 8 != 0 || off > size || count > size || elem > size) {
        return false;
    }
    if (count != 0 && elem > (size - off) / count) {
        return false;
    }
    return true;
}

/* Validate the immutable part of the header against the mapping. Returns NULL when fine, or
 * a static reason. "not ready" means the workload is still creating it. */
static const char *ring_header_check(const struct nctop_seg_header *h, size_t size, int32_t pid)
{
    char magic[NCTOP_SEG_MAGIC_LEN];

    static const char zero[NCTOP_SEG_MAGIC_LEN];

    memcpy(magic, h->magic, sizeof(magic));
    atomic_thread_fence(memory_order_acquire);
    if (memcmp(magic, NCTOP_SEG_MAGIC, NCTOP_SEG_MAGIC_LEN) != 0) {
        /* The SDK writes the magic last: zeros mean "still being built". */
        if (memcmp(magic, zero, sizeof(zero)) == 0) {
            return "not ready";
        }
        if (memcmp(magic, NCTOP_SEG_MAGIC, NCTOP_SEG_MAGIC_LEN - 1) == 0) {
            return "unsupported segment format (another nctop version)";
        }
        return "not an nctop segment (bad magic)";
    }
    if (h->abi_version != NCTOP_SEG_ABI_VERSION) {
        return "unsupported segment ABI version (upgrade nctop or the workload's libnctop)";
    }
    if (h->header_bytes != sizeof(struct nctop_seg_header) || h->segment_bytes != size) {
        return "segment size does not match its header";
    }
    if (h->pid != pid) {
        return "segment pid does not match its file name";
    }
    if (h->strings_max < 2 || !ring_region_ok(h->stroff_off, h->strings_max, 4, size) ||
        !ring_region_ok(h->strings_off, h->strings_bytes, 1, size) ||
        !ring_region_ok(h->gauges_off, h->gauges_max, sizeof(struct nctop_seg_gauge), size) ||
        !ring_region_ok(h->counters_off, h->counters_max, sizeof(struct nctop_seg_counter), size) ||
        !ring_region_ok(h->weights_off, h->weights_max, sizeof(struct nctop_seg_weight), size)) {
        return "segment tables lie outside the segment";
    }
    if (h->ring_bytes < NCTOP_SEG_MIN_RING_BYTES || h->ring_bytes > NCTOP_SEG_MAX_RING_BYTES ||
        (h->ring_bytes & (h->ring_bytes - 1)) != 0 ||
        h->ring_stride < sizeof(struct nctop_seg_ring) + h->ring_bytes ||
        h->ring_stride % NCTOP_SEG_CACHELINE != 0 ||
        !ring_region_ok(h->rings_off, h->rings_max, h->ring_stride, size)) {
        return "segment rings lie outside the segment";
    }
    return NULL;
}

static struct nctop_seg_ring *ring_slot(const struct ring_seg *s, uint32_t i)
{
    return (struct nctop_seg_ring *)(s->base + s->hdr_ro->rings_off +
                                     (uint64_t)i * s->hdr_ro->ring_stride);
}

/* Mirror the string table entries published since the last call. */
static void ring_sync_strings(struct ring_seg *s)
{
    const struct nctop_seg_header *h = s->hdr_ro;
    const uint32_t *offs = (const uint32_t *)(s->base + h->stroff_off);
    const char *arena = (const char *)(s->base + h->strings_off);
    uint32_t count = atomic_load_explicit(&s->hdr->strings_count, memory_order_acquire);

    if (count > h->strings_max) {
        count = h->strings_max;
    }
    if (count <= s->nids) {
        return;
    }
    if (count > s->idcap) {
        uint32_t cap = s->idcap ? s->idcap : 256;

        while (cap < count) {
            cap *= 2;
        }
        s->idmap = xreallocarray(s->idmap, cap, sizeof(*s->idmap));
        memset(s->idmap + s->idcap, 0, (cap - s->idcap) * sizeof(*s->idmap));
        s->idcap = cap;
    }
    for (uint32_t id = s->nids ? s->nids : 1; id < count; id++) {
        uint32_t off = offs[id], len;
        char name[NCTOP_SEG_NAME_MAX + 1];

        /* Entry: uint32_t len, len bytes, NUL; all inside the arena. */
        if (off % 4 != 0 || off > h->strings_bytes - 4) {
            goto invalid;
        }
        memcpy(&len, arena + off, sizeof(len));
        if (len == 0 || len > NCTOP_SEG_NAME_MAX || len > h->strings_bytes - 4 - off - 1) {
            goto invalid;
        }
        memcpy(name, arena + off + 4, len);
        name[len] = '\0';
        if (arena[off + 4 + len] != '\0' || strlen(name) != len) {
            goto invalid;
        }
        s->idmap[id] = store_proc_intern(s->proc, name);
        continue;
    invalid:
        s->idmap[id] = store_proc_intern(s->proc, RING_INVALID_NAME);
        s->invalid++;
        store_proc_add_invalid(s->proc, 1, "corrupt string table entry");
    }
    s->nids = count;
}

/* The store id of a segment string id, or 0 when the id is not published. */
static uint32_t ring_map_id(struct ring_seg *s, uint64_t id)
{
    if (id == 0) {
        return 0;
    }
    if (id >= s->nids) {
        ring_sync_strings(s);
        if (id >= s->nids) {
            return 0;
        }
    }
    return s->idmap[id];
}

/* Copy a short string field that the workload may be rewriting: bounded, NUL-terminated,
 * control characters replaced. */
static void ring_copy_text(char *dst, const char *src, size_t n)
{
    size_t i;

    for (i = 0; i < n && src[i] != '\0'; i++) {
        unsigned char c = (unsigned char)src[i];

        dst[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    dst[i] = '\0';
}

static void ring_sync_label(struct ring_seg *s)
{
    char label[NCTOP_SEG_LABEL_MAX + 1];
    uint32_t seq1, seq2;
    int tries = 0;

    /* A seqlock: retry while the SDK is rewriting (odd) or rewrote during the copy. */
    do {
        seq1 = atomic_load_explicit(&s->hdr->label_seq, memory_order_acquire);
        ring_copy_text(label, s->hdr->label, NCTOP_SEG_LABEL_MAX);
        atomic_thread_fence(memory_order_acquire);
        seq2 = atomic_load_explicit(&s->hdr->label_seq, memory_order_relaxed);
    } while ((seq1 != seq2 || (seq1 & 1)) && ++tries < 4);
    if (seq1 == s->label_seq && s->label_seq != 0) {
        return;
    }
    if (seq1 == seq2 && !(seq1 & 1) && label[0] != '\0') {
        store_proc_set_label(s->proc, label);
        s->label_seq = seq1 ? seq1 : 1;
    }
}

/* Mirror gauges, counters, drops, thread names, the label; weights less often. */
static void ring_sync_facts(struct ring_seg *s, uint64_t now_ns, bool force)
{
    const struct nctop_seg_header *h = s->hdr_ro;
    uint64_t dropped;
    uint32_t n, rings;

    if (!force && now_ns - s->facts_ns < RING_FACTS_PERIOD_NS &&
        atomic_load_explicit(&s->hdr->weights_count, memory_order_relaxed) == s->weights_seen) {
        return;
    }
    s->facts_ns = now_ns;
    ring_sync_strings(s);
    ring_sync_label(s);

    n = atomic_load_explicit(&s->hdr->gauges_count, memory_order_acquire);
    n = n < h->gauges_max ? n : h->gauges_max;
    for (uint32_t i = 0; i < n; i++) {
        struct nctop_seg_gauge *g = (struct nctop_seg_gauge *)(s->base + h->gauges_off) + i;
        uint32_t name = ring_map_id(s, g->name_id);
        uint16_t kind = g->kind;

        if (name == 0 || kind < STORE_MEM_POOL || kind > STORE_MEM_OTHER) {
            continue;
        }
        store_gauge_set(s->proc, name, (enum store_mem_kind)kind, g->flags,
                        atomic_load_explicit(&g->used_bytes, memory_order_relaxed),
                        atomic_load_explicit(&g->capacity_bytes, memory_order_relaxed),
                        atomic_load_explicit(&g->peak_bytes, memory_order_relaxed));
    }

    n = atomic_load_explicit(&s->hdr->counters_count, memory_order_acquire);
    n = n < h->counters_max ? n : h->counters_max;
    for (uint32_t i = 0; i < n; i++) {
        struct nctop_seg_counter *c = (struct nctop_seg_counter *)(s->base + h->counters_off) + i;
        uint32_t name = ring_map_id(s, c->name_id);

        if (name != 0) {
            store_counter_set(s->proc, name, atomic_load_explicit(&c->value, memory_order_relaxed),
                              now_ns);
        }
    }

    /* Weights change rarely: read them all when one was added, else once a period. */
    n = atomic_load_explicit(&s->hdr->weights_count, memory_order_acquire);
    n = n < h->weights_max ? n : h->weights_max;
    if (force || n != s->weights_seen || now_ns - s->weights_ns >= RING_WEIGHTS_PERIOD_NS) {
        s->weights_ns = now_ns;
        s->weights_seen = n;
        for (uint32_t i = 0; i < n; i++) {
            struct nctop_seg_weight *w = (struct nctop_seg_weight *)(s->base + h->weights_off) + i;
            uint32_t path = ring_map_id(s, w->path_id);

            if (path != 0) {
                store_weight_set(s->proc, path, w->flags,
                                 atomic_load_explicit(&w->bytes, memory_order_relaxed));
            }
        }
    }

    dropped = atomic_load_explicit(&s->hdr->dropped_no_ring, memory_order_relaxed);
    rings = atomic_load_explicit(&s->hdr->rings_count, memory_order_relaxed);
    rings = rings < h->rings_max ? rings : h->rings_max;
    for (uint32_t i = 0; i < rings; i++) {
        struct nctop_seg_ring *r = ring_slot(s, i);
        struct ring_slot_view *v = &s->slots[i];
        char name[NCTOP_SEG_THREAD_NAME_MAX + 1];

        dropped += atomic_load_explicit(&r->dropped, memory_order_relaxed);
        if (v->thread != NULL) {
            ring_copy_text(name, r->name, NCTOP_SEG_THREAD_NAME_MAX);
            if (strcmp(name, v->name) != 0) {
                memcpy(v->name, name, sizeof(v->name));
                store_thread_set_name(v->thread, name);
            }
        }
    }
    store_proc_set_dropped(s->proc, dropped);
}

/* Decode one record into the store. Returns false when it is corrupt. Times must lie between
 * the segment's creation and a little after now: the store's window clock follows event
 * times, so one far-future stamp would blank every window. */
static bool ring_decode(struct ring_seg *s, struct ring_slot_view *v, const struct nctop_rec *rec,
                        uint16_t words, uint64_t now_ns)
{
    uint32_t id;

    if (rec->ts_ns + RING_CLOCK_SLACK_NS < s->hdr_ro->created_mono_ns ||
        rec->ts_ns > now_ns + RING_CLOCK_SLACK_NS) {
        return false;
    }
    switch (rec->type) {
    case NCTOP_REC_SPAN_BEGIN:
    case NCTOP_REC_SPAN_END:
        id = ring_map_id(s, rec->id);
        if (id == 0 || v->thread == NULL) {
            return false;
        }
        if (rec->type == NCTOP_REC_SPAN_BEGIN) {
            store_span_begin(v->thread, id, rec->ts_ns);
        } else {
            store_span_end(v->thread, id, rec->ts_ns);
        }
        return true;
    case NCTOP_REC_KERNEL: {
        uint32_t backend;

        if (words < 4) {
            return false;
        }
        id = ring_map_id(s, rec->id);
        backend = ring_map_id(s, rec->arg[1]);
        if (id == 0 || backend == 0 || rec->arg[0] > now_ns - rec->ts_ns + RING_CLOCK_SLACK_NS) {
            return false;
        }
        store_kernel(s->proc, id, backend, rec->ts_ns, rec->arg[0]);
        return true;
    }
    case NCTOP_REC_MEM_DELTA:
        if (words < 3 || v->thread == NULL) {
            return false;
        }
        store_mem_delta(v->thread, (int64_t)rec->arg[0], rec->ts_ns);
        return true;
    case NCTOP_REC_STEP:
        if (words < 3 || rec->id < STORE_STEP_REQUEST_BEGIN || rec->id > STORE_STEP_ITERATION) {
            return false;
        }
        store_step(s->proc, (enum store_step_kind)rec->id, rec->arg[0], rec->ts_ns);
        return true;
    default:
        return false;
    }
}

/* A new owner of slot i (or the first sight of it): (re)create its store thread. */
static void ring_slot_claimed(struct ring_seg *s, uint32_t i, uint32_t generation, uint64_t now_ns)
{
    struct ring_slot_view *v = &s->slots[i];
    struct nctop_seg_ring *r = ring_slot(s, i);

    if (v->thread != NULL) {
        store_thread_exit(v->thread, now_ns);
    }
    ring_copy_text(v->name, r->name, NCTOP_SEG_THREAD_NAME_MAX);
    v->thread = store_thread_add(s->proc, r->tid, v->name);
    v->generation = generation;
    v->known = true;
}

/* Drain one ring; returns the records decoded. */
static uint64_t ring_drain_slot(struct ring_source *rs, struct ring_seg *s, uint32_t i,
                                uint64_t now_ns)
{
    struct nctop_seg_ring *r = ring_slot(s, i);
    struct ring_slot_view *v = &s->slots[i];
    const uint8_t *data = (const uint8_t *)(r + 1);
    uint64_t mask = s->hdr_ro->ring_bytes - 1, records = 0, bad = 0, head, tail, pos;
    uint32_t state = atomic_load_explicit(&r->state, memory_order_acquire);
    uint32_t generation = atomic_load_explicit(&r->generation, memory_order_acquire);

    if (state == NCTOP_SEG_RING_FREE) {
        if (v->thread != NULL) {
            store_thread_exit(v->thread, now_ns);
            v->thread = NULL;
        }
        return 0;
    }
    if (!v->known || v->generation != generation) {
        ring_slot_claimed(s, i, generation, now_ns);
    }

    head = atomic_load_explicit(&r->head, memory_order_acquire);
    tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    if (head < tail || head - tail > s->hdr_ro->ring_bytes || head % 8 != 0 || tail % 8 != 0) {
        store_proc_add_invalid(s->proc, 1, "corrupt ring positions");
        s->invalid++;
        rs->stats.invalid++;
        atomic_store_explicit(&r->tail, head, memory_order_release);
        return 0;
    }

    for (pos = tail; pos < head;) {
        uint64_t off = pos & mask, contig = mask + 1 - off, left = head - pos, bytes;
        const struct nctop_rec *rec = (const struct nctop_rec *)(data + off);
        uint16_t words = rec->words; /* read once: the bytes are the workload's */

        bytes = (uint64_t)words * 8;
        if (words == 0 || bytes > contig || bytes > left) {
            /* Lying length: nothing after it can be trusted; skip to head. */
            bad++;
            break;
        }
        if (rec->type != NCTOP_REC_PAD) {
            if ((rec->flags & NCTOP_REC_F_GAP) && v->thread != NULL) {
                store_thread_gap(v->thread);
            }
            if (words < 2 || !ring_decode(s, v, rec, words, now_ns)) {
                bad++;
            } else {
                records++;
            }
        }
        pos += bytes;
    }
    atomic_store_explicit(&r->tail, head, memory_order_release);

    if (bad != 0) {
        store_proc_add_invalid(s->proc, bad, "corrupt records in a ring");
        s->invalid += bad;
        rs->stats.invalid += bad;
    }
    /* A retired ring that is empty goes back to the pool of free slots. */
    if (state == NCTOP_SEG_RING_RETIRED && s->reader) {
        uint32_t expect = NCTOP_SEG_RING_RETIRED;

        if (atomic_load_explicit(&r->head, memory_order_acquire) == head &&
            atomic_compare_exchange_strong(&r->state, &expect, NCTOP_SEG_RING_FREE)) {
            store_thread_exit(v->thread, now_ns);
            v->thread = NULL;
            v->known = false;
        }
    }
    return records;
}

static void ring_seg_unmap(struct ring_seg *s);

/* A segment file cut short under our mapping would turn the next read of a vanished page
 * into SIGBUS: check its size before every drain (one fstat per 10 ms) and give it up,
 * as an error row, when it shrank. */
static bool ring_seg_still_whole(struct ring_source *rs, struct ring_seg *s, uint64_t now_ns)
{
    struct stat st;

    if (fstat(s->fd, &st) == 0 && (uint64_t)st.st_size >= s->size) {
        return true;
    }
    store_proc_add_invalid(s->proc, 1, "segment truncated while attached");
    store_proc_set_state(s->proc, STORE_PROC_ERROR, "segment truncated while attached", now_ns);
    rs->stats.invalid++;
    ring_seg_note(rs, "segment of pid %d truncated while attached", (int)s->pid);
    for (uint32_t i = 0; i < s->hdr_ro->rings_max; i++) {
        if (s->slots[i].thread != NULL) {
            store_thread_gap(s->slots[i].thread);
            store_thread_exit(s->slots[i].thread, now_ns);
            s->slots[i].thread = NULL;
        }
    }
    s->exited = true;
    ring_seg_unmap(s);
    return false;
}

static uint64_t ring_drain_seg(struct ring_source *rs, struct ring_seg *s, uint64_t now_ns)
{
    uint64_t records = 0, n;
    uint32_t rings;

    if (s->base == NULL) {
        return 0;
    }
    if (!ring_seg_still_whole(rs, s, now_ns)) {
        return 0;
    }
    if (s->reader) {
        atomic_store_explicit(&s->hdr->reader_heartbeat_ns, now_ns, memory_order_relaxed);
        rings = atomic_load_explicit(&s->hdr->rings_count, memory_order_acquire);
        rings = rings < s->hdr_ro->rings_max ? rings : s->hdr_ro->rings_max;
        for (uint32_t i = 0; i < rings; i++) {
            records += ring_drain_slot(rs, s, i, now_ns);
        }
        /* The SDK presumes a silent reader dead and lets go: take the role back. */
        if (atomic_load_explicit(&s->hdr->reader_pid, memory_order_relaxed) != rs->self_pid &&
            !s->exited) {
            int32_t expect = 0;

            atomic_compare_exchange_strong(&s->hdr->reader_pid, &expect, rs->self_pid);
        }
    }
    ring_sync_facts(s, now_ns, false);
    n = records;
    store_proc_add_events(s->proc, n);
    rs->stats.records += n;
    return records;
}

/* Become the segment's reader if nobody live is. On a fresh claim the rings hold events of
 * an earlier reader's session (or nothing): skip them. A hand-off (the SDK found our pid in
 * NCTOP_READER) keeps them: they are this run's first events. */
static void ring_claim_reader(struct ring_source *rs, struct ring_seg *s, uint64_t now_ns)
{
    int32_t cur = atomic_load_explicit(&s->hdr->reader_pid, memory_order_acquire);
    uint64_t beat = atomic_load_explicit(&s->hdr->reader_heartbeat_ns, memory_order_relaxed);
    uint32_t rings;

    if (cur == rs->self_pid) {
        s->reader = true;
        return;
    }
    if (cur != 0 && util_pid_alive(cur) && now_ns - beat < NCTOP_SEG_READER_TIMEOUT_NS) {
        char why[96];

        snprintf(why, sizeof(why), "events are read by another nctop (pid %d)", (int)cur);
        store_proc_set_state(s->proc, STORE_PROC_LIVE, why, now_ns);
        return;
    }
    atomic_store_explicit(&s->hdr->reader_heartbeat_ns, now_ns, memory_order_relaxed);
    if (!atomic_compare_exchange_strong(&s->hdr->reader_pid, &cur, rs->self_pid)) {
        return;
    }
    rings = atomic_load_explicit(&s->hdr->rings_count, memory_order_acquire);
    rings = rings < s->hdr_ro->rings_max ? rings : s->hdr_ro->rings_max;
    for (uint32_t i = 0; i < rings; i++) {
        struct nctop_seg_ring *r = ring_slot(s, i);

        atomic_store_explicit(&r->tail, atomic_load_explicit(&r->head, memory_order_acquire),
                              memory_order_release);
    }
    s->reader = true;
    store_proc_set_state(s->proc, STORE_PROC_LIVE, NULL, now_ns);
}

static void ring_seg_unmap(struct ring_seg *s)
{
    if (s->base != NULL) {
        munmap(s->base, s->size);
        s->base = NULL;
        s->hdr = NULL;
        s->hdr_ro = NULL;
    }
    if (s->fd >= 0) {
        close(s->fd);
        s->fd = -1;
    }
}

/* The workload is gone: read what it left, mark it exited, remove its file if it is still
 * there (a crash, or the SDK left it to us), unmap. */
static void ring_seg_finish(struct ring_source *rs, struct ring_seg *s, uint64_t now_ns,
                            const char *reason)
{
    char path[64];
    struct stat st;

    if (s->exited) {
        return;
    }
    if (s->base != NULL) {
        ring_drain_seg(rs, s, now_ns);
        ring_sync_facts(s, now_ns, true);
        for (uint32_t i = 0; i < s->hdr_ro->rings_max; i++) {
            if (s->slots[i].thread != NULL) {
                /* Spans open when a process dies were in flight, not left open by a bug. */
                store_thread_gap(s->slots[i].thread);
                store_thread_exit(s->slots[i].thread, now_ns);
                s->slots[i].thread = NULL;
            }
        }
    }
    s->exited = true;
    store_proc_set_state(s->proc, STORE_PROC_EXITED, reason, now_ns);
    snprintf(path, sizeof(path), NCTOP_SEG_DIR "/" NCTOP_SEG_FILE_PREFIX "%d", (int)s->pid);
    if (stat(path, &st) == 0 && st.st_ino == s->ino && st.st_dev == s->dev) {
        unlink(path);
    }
    ring_seg_unmap(s);
}

static struct ring_seg *ring_find(const struct ring_source *rs, int32_t pid, dev_t dev, ino_t ino)
{
    for (size_t i = 0; i < rs->nsegs; i++) {
        struct ring_seg *s = rs->segs[i];

        if (s->pid == pid && s->dev == dev && s->ino == ino) {
            return s;
        }
    }
    return NULL;
}

static bool ring_pid_wanted(const struct ring_source *rs, int32_t pid)
{
    if (rs->opts.npids > 0) {
        for (size_t i = 0; i < rs->opts.npids; i++) {
            if (rs->opts.pids[i] == pid) {
                return true;
            }
        }
        return false;
    }
    if (rs->opts.root_pid > 0) {
        int32_t cur = pid;

        for (int step = 0; step < RING_MAX_ANCESTRY && cur > 1; step++) {
            int32_t parent = 0;

            if (cur == rs->opts.root_pid) {
                return true;
            }
            if (util_proc_start_ticks(cur, &parent) == 0) {
                return false;
            }
            cur = parent;
        }
        return false;
    }
    return true;
}

/* Whether pid maps the segment file: after fork + exec into a program without libnctop, the
 * child's segment outlives its mapping while the pid lives on. */
static bool ring_pid_maps(int32_t pid, const char *seg_path)
{
    char path[64], *line = NULL;
    size_t cap = 0;
    bool found = false;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
    f = fopen(path, "re");
    if (f == NULL) {
        return true; /* cannot tell: do not throw anything away */
    }
    while (!found && getline(&line, &cap, f) > 0) {
        found = strstr(line, seg_path) != NULL;
    }
    free(line);
    fclose(f);
    return found;
}

/* Try to attach /dev/shm/nctop-<pid>. Returns quietly when it is not ready yet. */
static void ring_try_attach(struct ring_source *rs, int32_t pid, uint64_t now_ns)
{
    char path[64];
    struct stat st;
    struct ring_seg *s = NULL;
    const char *why = NULL;
    bool alive, handed;
    void *base = MAP_FAILED;
    int fd = -1;

    snprintf(path, sizeof(path), NCTOP_SEG_DIR "/" NCTOP_SEG_FILE_PREFIX "%d", (int)pid);
    fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) {
        return;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        goto out;
    }
    if (ring_find(rs, pid, st.st_dev, st.st_ino) != NULL) {
        goto out;
    }
    if (st.st_uid != rs->euid && !(rs->euid == 0 && rs->opts.npids > 0)) {
        /* Someone else's segment: not ours to read, nor to clean. */
        goto out;
    }
    if (st.st_size == 0) {
        if (!util_pid_alive(pid)) {
            /* Its creator died between creating and sizing it. */
            unlink(path);
            rs->stats.stale_removed++;
        }
        goto out; /* created, not yet sized: look again at the next scan */
    }
    if ((uint64_t)st.st_size < 4096 || (uint64_t)st.st_size > NCTOP_SEG_MAX_BYTES) {
        why = "segment size out of bounds";
        goto refuse;
    }
    base = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (base == MAP_FAILED) {
        why = "cannot map the segment";
        goto refuse;
    }
    why = ring_header_check(base, (size_t)st.st_size, pid);
    alive = util_pid_alive(pid);
    handed = why == NULL && atomic_load_explicit(&((struct nctop_seg_header *)base)->reader_pid,
                                                 memory_order_acquire) == rs->self_pid;
    if (why != NULL && strcmp(why, "not ready") == 0) {
        if (!alive && st.st_uid == rs->euid) {
            /* Its creator died while building it. */
            unlink(path);
            rs->stats.stale_removed++;
        }
        goto out;
    }
    if (why == NULL && !alive && !handed) {
        /* A stale segment: its workload died without removing it. */
        unlink(path);
        rs->stats.stale_removed++;
        diag_debug("removed stale segment %s", path);
        goto out;
    }
    if (why == NULL && alive && !handed &&
        ((const struct nctop_seg_header *)base)->start_ticks != util_proc_start_ticks(pid, NULL)) {
        /* The pid was reused by a process that has not published yet. */
        unlink(path);
        rs->stats.stale_removed++;
        goto out;
    }
    if (!handed && !ring_pid_wanted(rs, pid)) {
        goto out;
    }
    if (why == NULL && alive && !handed && !ring_pid_maps(pid, path)) {
        /* Left behind by a fork whose child then ran another program. */
        unlink(path);
        rs->stats.stale_removed++;
        diag_debug("removed %s: its process no longer maps it", path);
        goto out;
    }
    if (rs->nsegs == RING_MAX_SEGMENTS) {
        why = "too many segments";
        goto refuse;
    }

    s = xcalloc(1, sizeof(*s));
    s->pid = pid;
    s->dev = st.st_dev;
    s->ino = st.st_ino;
    s->fd = fd;
    s->size = (size_t)st.st_size;
    if (rs->nsegs == rs->capsegs) {
        rs->capsegs = rs->capsegs ? rs->capsegs * 2 : 8;
        rs->segs = xreallocarray(rs->segs, rs->capsegs, sizeof(*rs->segs));
    }
    rs->segs[rs->nsegs++] = s;

    if (why != NULL) {
        /* Refused: keep a record and an error row so the user sees why. */
        char label[32];

        snprintf(label, sizeof(label), "pid %d", (int)pid);
        s->proc = store_proc_add(rs->store, pid, label);
        store_proc_set_state(s->proc, STORE_PROC_ERROR, why, now_ns);
        store_proc_add_invalid(s->proc, 1, why);
        s->exited = true;
        munmap(base, (size_t)st.st_size);
        close(fd);
        s->fd = -1;
        rs->stats.refused++;
        ring_seg_note(rs, "%s: %s", path, why);
        return;
    }

    s->base = base;
    s->hdr = base;
    s->hdr_ro = base;
    s->start_ticks = s->hdr_ro->start_ticks;
    s->slots = xcalloc(s->hdr_ro->rings_max ? s->hdr_ro->rings_max : 1, sizeof(*s->slots));
    s->proc = store_proc_add(rs->store, pid, "");
    ring_sync_label(s);
    ring_sync_strings(s);
    ring_claim_reader(rs, s, now_ns);
    ring_sync_facts(s, now_ns, true);
    rs->stats.attached++;
    diag_debug("attached %s (reader %d)", path, (int)s->reader);
    if (!alive) {
        ring_seg_finish(rs, s, now_ns, NULL);
    }
    return;

refuse:
    rs->stats.refused++;
    ring_seg_note(rs, "%s: %s", path, why);
out:
    if (base != MAP_FAILED) {
        munmap(base, (size_t)st.st_size);
    }
    if (fd >= 0) {
        close(fd);
    }
}

struct ring_source *ring_source_new(struct store *st, const struct ring_source_opts *opts)
{
    struct ring_source *rs = xcalloc(1, sizeof(*rs));

    rs->store = st;
    if (opts != NULL) {
        rs->opts = *opts;
    }
    rs->self_pid = (int32_t)getpid();
    rs->euid = geteuid();
    return rs;
}

void ring_source_free(struct ring_source *rs)
{
    if (rs == NULL) {
        return;
    }
    for (size_t i = 0; i < rs->nsegs; i++) {
        struct ring_seg *s = rs->segs[i];

        if (s->base != NULL && s->reader) {
            int32_t me = rs->self_pid;

            /* Let go: the workload stops writing events at once. */
            atomic_compare_exchange_strong(&s->hdr->reader_pid, &me, 0);
        }
        ring_seg_unmap(s);
        free(s->idmap);
        free(s->slots);
        free(s);
    }
    free(rs->segs);
    free(rs);
}

void ring_source_scan(struct ring_source *rs, uint64_t now_ns)
{
    DIR *dir;
    struct dirent *de;
    size_t prefix = strlen(NCTOP_SEG_FILE_PREFIX);

    /* Dead workloads first, so that a pid reused meanwhile is seen as new. */
    for (size_t i = 0; i < rs->nsegs; i++) {
        struct ring_seg *s = rs->segs[i];

        if (s->exited) {
            continue;
        }
        if (!util_pid_alive(s->pid) || util_proc_start_ticks(s->pid, NULL) != s->start_ticks) {
            ring_seg_finish(rs, s, now_ns, NULL);
        } else if (!s->reader) {
            ring_claim_reader(rs, s, now_ns);
        }
    }

    dir = opendir(NCTOP_SEG_DIR);
    if (dir == NULL) {
        ring_seg_note(rs, "cannot read " NCTOP_SEG_DIR ": %s", strerror(errno));
        return;
    }
    while ((de = readdir(dir)) != NULL) {
        uint64_t pid;

        if (strncmp(de->d_name, NCTOP_SEG_FILE_PREFIX, prefix) != 0 ||
            util_parse_u64(de->d_name + prefix, 1, INT32_MAX, &pid) != 0) {
            continue;
        }
        ring_try_attach(rs, (int32_t)pid, now_ns);
    }
    closedir(dir);
}

uint64_t ring_source_drain(struct ring_source *rs, uint64_t now_ns)
{
    uint64_t records = 0;

    for (size_t i = 0; i < rs->nsegs; i++) {
        struct ring_seg *s = rs->segs[i];

        if (s->base != NULL && !s->exited) {
            records += ring_drain_seg(rs, s, now_ns);
        }
    }
    return records;
}

void ring_source_proc_exited(struct ring_source *rs, int32_t pid, uint64_t now_ns,
                             const char *reason)
{
    /* Its segment may not have been seen yet (a command that lived a millisecond). */
    ring_source_scan(rs, now_ns);
    for (size_t i = 0; i < rs->nsegs; i++) {
        struct ring_seg *s = rs->segs[i];

        if (s->pid != pid || s->proc == NULL) {
            continue;
        }
        if (!s->exited) {
            ring_seg_finish(rs, s, now_ns, reason);
        } else if (reason != NULL && store_proc_state(s->proc) == STORE_PROC_EXITED) {
            /* A scan saw it gone first; the loop knows how it ended. */
            store_proc_set_state(s->proc, STORE_PROC_EXITED, reason, now_ns);
        }
    }
}

bool ring_source_has_pid(const struct ring_source *rs, int32_t pid)
{
    for (size_t i = 0; i < rs->nsegs; i++) {
        if (rs->segs[i]->pid == pid) {
            return true;
        }
    }
    return false;
}

size_t ring_source_live(const struct ring_source *rs)
{
    size_t n = 0;

    for (size_t i = 0; i < rs->nsegs; i++) {
        n += rs->segs[i]->base != NULL && !rs->segs[i]->exited;
    }
    return n;
}

void ring_source_get_stats(const struct ring_source *rs, struct ring_source_stats *out)
{
    *out = rs->stats;
    out->live = ring_source_live(rs);
}
