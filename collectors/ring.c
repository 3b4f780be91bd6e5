/* SPDX-License-Identifier: MIT */
/* The ring collector. Every byte of a segment is untrusted: the workload may be buggy,
 * half-initialised, truncated or hostile, so every offset, id and length is checked before it
 * is used, and a bad segment becomes an error row, never a crash or unbounded memory. */
#include "collectors/ring.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "collectors/collector.h"
#include "nctop.h"
#include "src/base/diag.h"
#include "src/base/safemap.h"
#include "src/base/util.h"
#include "src/base/xalloc.h"
#include "src/config.h"
#include "src/libnctop/seg_clock.h"
#include "src/libnctop/segment.h"
#include "src/model/matrix.h"
#include "src/model/store.h"

/* The segment carries the SDK's wire values, which the store takes as they are: tie them. */
_Static_assert((int)STORE_MEM_POOL == NCTOP_MEM_POOL &&
                   (int)STORE_MEM_KV_CACHE == NCTOP_MEM_KV_CACHE &&
                   (int)STORE_MEM_OTHER == NCTOP_MEM_OTHER && STORE_MEM_DEVICE == NCTOP_MEM_DEVICE,
               "memory kinds and flags of nctop.h and the store differ");
_Static_assert((int)STORE_STEP_REQUEST_BEGIN == NCTOP_STEP_REQUEST_BEGIN &&
                   (int)STORE_STEP_TOKEN == NCTOP_STEP_TOKEN &&
                   (int)STORE_STEP_REQUEST_END == NCTOP_STEP_REQUEST_END &&
                   (int)STORE_STEP_ITERATION == NCTOP_STEP_ITERATION &&
                   (int)STORE_STEP_PROMPT_TOKENS == NCTOP_STEP_PROMPT_TOKENS &&
                   STORE_STEP_KIND_MAX == NCTOP_STEP_PROMPT_TOKENS,
               "step kinds of nctop.h and the store differ");
_Static_assert((int)STORE_REQ_OK == NCTOP_REQUEST_OK &&
                   (int)STORE_REQ_FAILED == NCTOP_REQUEST_FAILED &&
                   (int)STORE_REQ_CANCELLED == NCTOP_REQUEST_CANCELLED,
               "request results of nctop.h and the store differ");

#define RING_FACTS_PERIOD_NS (250ULL * UTIL_NS_PER_MS)    /* gauges, counters, drops, label */
#define RING_WEIGHTS_PERIOD_NS (1000ULL * UTIL_NS_PER_MS) /* weights change rarely */
#define RING_MAX_ANCESTRY 64 /* ppid steps when deciding "descendant of root" */
#define RING_INVALID_NAME "(invalid name)"
#define RING_CLOCK_SLACK_NS (1000ULL * UTIL_NS_PER_MS) /* tolerated clock disagreement */
#define RING_BATCH 64U /* records handed to the store at once (store_batch) */
/* A TSC calibration is wrong when its rate moves by more than 1/RING_CALIB_RATE_DIV between
 * two pairs, or when it puts this process's own tick further than RING_CALIB_CHECK_NS plus
 * 1/RING_CALIB_RATE_DIV of the time since the latest pair from this process's own clock. */
#define RING_CALIB_RATE_DIV 100
#define RING_CALIB_CHECK_NS (1ULL * UTIL_NS_PER_MS)
#define RING_CLOCK_ATTR "nctop.clock" /* the process attribute that names the clock */

/*
 * Limits: what one segment may make nctop allocate or walk. The header may announce more
 * (a valid table of 2^28 names is still a valid table); the entries beyond a limit are not
 * read and are counted (STORE_LOSS_LIMIT), so the user sees that something was left out.
 */
#ifndef NCTOP_FUZZ_LIMITS
#define RING_MAX_SEGMENTS 4096U           /* segments mapped or remembered at once */
#define RING_MAX_STRING_IDS (1U << 20)    /* string ids mirrored (the store's max_names) */
#define RING_MAX_STRING_BYTES (64U << 20) /* bytes of names mirrored */
#define RING_STRINGS_PER_DRAIN 65536U     /* string entries read per drain */
#define RING_MAX_GAUGES 16384U            /* gauge entries read */
#define RING_MAX_COUNTERS 16384U          /* counter entries read */
#define RING_MAX_WEIGHTS 131072U          /* weight entries read */
#define RING_MAX_VALUES 16384U            /* value entries read */
#define RING_MAX_ATTRS 256U               /* attribute entries read */
#define RING_MAX_MATRICES 16U             /* matrix slots read (the store's max) */
#define RING_MAX_RINGS 4096U              /* ring slots read (the store's max_threads) */
#define RING_DRAIN_BYTES (32ULL << 20)    /* record bytes read per segment per drain */
#else
/* The fuzz build: the same code with small limits, so that an input reaches them (and the
 * code past them) in microseconds instead of walking 65 536 names per drain. The real limits
 * are tested by the unit tests. */
#define RING_MAX_SEGMENTS 64U
#define RING_MAX_STRING_IDS 4096U
#define RING_MAX_STRING_BYTES (256U << 10)
#define RING_STRINGS_PER_DRAIN 512U
#define RING_MAX_GAUGES 256U
#define RING_MAX_COUNTERS 256U
#define RING_MAX_WEIGHTS 1024U
#define RING_MAX_VALUES 256U
#define RING_MAX_ATTRS 16U
#define RING_MAX_MATRICES 4U
#define RING_MAX_RINGS 64U
#define RING_DRAIN_BYTES (256ULL << 10)
#endif
#define RING_LIMIT_LABEL "(segment limit)" /* the row that says the limit was reached */
#define RING_MATRIX_TRIES 4 /* copies of a matrix tried per sync before waiting for the next */
_Static_assert(RING_MAX_MATRICES <= STORE_MAX_MATRICES, "more matrices read than kept");
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ &&
                   offsetof(struct nctop_rec, flags) == 1 && offsetof(struct nctop_rec, words) == 2,
               "ring_rec_hdr: type, flags and words are the record's first 4 bytes");
_Static_assert(NCTOP_SEG_MATRIX_DIM_MAX == MATRIX_DIM_MAX &&
                   NCTOP_SEG_MATRIX_LABEL_MAX == MATRIX_LABEL_BYTES,
               "the matrix sizes of segment.h and matrix.h differ");

/*
 * What ring_header_check validated at attach, copied into nctop's memory. The reader never
 * reads these fields from the mapping again: a writer that rewrites the header afterwards
 * changes nothing for us. Table sizes are clamped to the limits above; *_hdr keep what the
 * header announced, to count what the limits leave out.
 */
struct ring_layout {
    uint64_t stroff_off;
    uint64_t strings_off;
    uint64_t gauges_off;
    uint64_t counters_off;
    uint64_t weights_off;
    uint64_t values_off; /* ABI 4; tables of 0 entries before */
    uint64_t attrs_off;
    uint64_t matrices_off; /* ABI 6; 0 entries before */
    uint64_t rings_off;
    uint64_t ring_stride;
    uint64_t created_mono_ns;
    uint32_t clock;          /* enum nctop_seg_clock (MONOTONIC before ABI 5) */
    uint64_t calib_base_tsc; /* the creation pair (TSC segments) */
    uint64_t calib_base_ns;
    uint32_t strings_max; /* ids below this exist (clamped) */
    uint32_t strings_bytes;
    uint32_t gauges_max; /* clamped */
    uint32_t counters_max;
    uint32_t weights_max;
    uint32_t values_max;
    uint32_t attrs_max;
    uint32_t matrices_max;
    uint32_t rings_max;
    uint32_t ring_bytes;
    uint32_t strings_hdr; /* as announced */
    uint32_t gauges_hdr;
    uint32_t counters_hdr;
    uint32_t weights_hdr;
    uint32_t values_hdr;
    uint32_t attrs_hdr;
    uint32_t matrices_hdr;
    uint32_t rings_hdr;
};

/* What we know of one ring slot of a segment. */
struct ring_slot_view {
    bool known;
    uint32_t generation;
    char name[NCTOP_SEG_THREAD_NAME_MAX + 1];
    struct store_thread *thread; /* NULL until the slot's first claim is seen */
    bool resync; /* its events before the next record were not read: the thread resyncs */
};

/* How the ticks of a TSC segment become CLOCK_MONOTONIC ns. */
struct ring_clock {
    bool ok;                    /* conv is valid: records flagged NCTOP_REC_F_TSC are converted */
    const char *bad;            /* why the calibration is refused (static), sticky; NULL if not */
    uint32_t seq;               /* calib_seq of conv */
    struct nctop_seg_conv conv; /* the latest accepted pair and slope */
    uint64_t discarded;         /* TSC records not converted (no trusted calibration) */
};

struct ring_source;

/* One segment: mapped while its workload lives, remembered after. */
struct ring_seg {
    struct ring_source *rs; /* the source that reads it */
    int32_t pid;
    dev_t dev;
    ino_t ino;
    uid_t uid;            /* owner of the file */
    uint64_t start_ticks; /* of the process, to tell a reused pid */
    int fd;
    int map;       /* index in ring_maps while mapped, else -1 */
    uint8_t *base; /* NULL once unmapped */
    size_t size;
    struct ring_layout lay;
    struct nctop_seg_header *hdr; /* the mapping: only its mutable fields are read */
    struct store_proc *proc;
    struct ring_clock clk; /* TSC segments */
    bool reader;           /* we own reader_pid: we consume events */
    bool from_start;       /* handed to us at its creation: every thread is read from its start */
    bool role_lost;        /* a tail moved under us while we drained: another nctop reads */
    bool exited;
    uint64_t exited_ns; /* when it stopped being live (exit, error, refusal) */
    uint32_t *idmap;    /* segment string id -> store name id (0 = invalid or refused) */
    uint32_t nids;      /* ids 1..nids-1 mirrored */
    uint32_t idcap;
    uint64_t name_bytes;          /* bytes of names mirrored, against RING_MAX_STRING_BYTES */
    uint64_t names_over;          /* names refused by RING_MAX_STRING_BYTES */
    uint32_t strings_budget;      /* string entries this drain may still read */
    bool strings_starved;         /* a record named an id past them: it waits for the next */
    struct ring_slot_view *slots; /* lay.rings_max */
    uint32_t label_seq;
    uint64_t facts_ns;
    uint64_t weights_ns;
    uint64_t size_ns;       /* last fstat of the file */
    uint64_t beat_ns;       /* our last heartbeat */
    uint32_t weights_seen;  /* weights_count at the last weights sync */
    uint32_t counters_seen; /* counters_count at the last facts sync */
    uint64_t invalid;
    uint64_t matrix_seq[RING_MAX_MATRICES]; /* seq of the snapshot taken + 1; 0: none yet */
    uint64_t matrix_torn;                   /* copies refused: rewritten while copied */
};

struct ring_source {
    struct store *store;
    struct ring_source_opts opts;
    int32_t self_pid;
    uid_t euid;
    size_t max_segs;
    struct ring_seg **segs;
    size_t nsegs;
    size_t capsegs;
    struct store_proc *limit_proc; /* the "(segment limit)" row, or NULL */
    uint64_t limit_refused;        /* segments refused by the limit in this scan */
    struct ring_source_stats stats;
    double fill;                       /* the fullest ring at the last drain, 0..1 */
    struct nctop_seg_matrix_buf *mbuf; /* the copy of one matrix buffer (made at the first) */
    struct matrix *mscratch;           /* what the store takes, reused while it fits */
};

static bool ring_seg_faulted(const struct ring_seg *s)
{
    return safemap_faulted(s->map);
}

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

static uint64_t ring_sat_add(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
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

/* Validate h, a copy of the header (never the mapping itself), against the mapping's size.
 * Returns NULL when fine, or the reason (static, or formatted into buf). "not ready" means
 * the workload is still creating it. */
static const char *ring_header_check(const struct nctop_seg_header *h, size_t size, int32_t pid,
                                     char *buf, size_t buflen)
{
    static const char zero[NCTOP_SEG_MAGIC_LEN];

    if (memcmp(h->magic, NCTOP_SEG_MAGIC, NCTOP_SEG_MAGIC_LEN) != 0) {
        /* The SDK writes the magic last: zeros mean "still being built". */
        if (memcmp(h->magic, zero, sizeof(zero)) == 0) {
            return "not ready";
        }
        if (memcmp(h->magic, NCTOP_SEG_MAGIC, NCTOP_SEG_MAGIC_LEN - 1) == 0) {
            return "unsupported segment format (another nctop version)";
        }
        return "not an nctop segment (bad magic)";
    }
    /* A newer ABI only adds to the older ones it still reads (version 3: request ids). */
    if (h->abi_version < NCTOP_SEG_ABI_OLDEST || h->abi_version > NCTOP_SEG_ABI_VERSION) {
        snprintf(buf, buflen,
                 "unsupported segment ABI version %u (this nctop reads versions %u to %u): use "
                 "an nctop and a libnctop of the same release",
                 (unsigned)h->abi_version, (unsigned)NCTOP_SEG_ABI_OLDEST,
                 (unsigned)NCTOP_SEG_ABI_VERSION);
        return buf;
    }
    if (h->header_bytes != (h->abi_version >= 6   ? sizeof(struct nctop_seg_header)
                            : h->abi_version == 5 ? NCTOP_SEG_HEADER_BYTES_V5
                            : h->abi_version == 4 ? NCTOP_SEG_HEADER_BYTES_V4
                                                  : NCTOP_SEG_HEADER_BYTES_V3) ||
        h->segment_bytes != size) {
        return "segment size does not match its header";
    }
    if (h->abi_version >= 5 && h->clock != NCTOP_SEG_CLOCK_MONOTONIC &&
        h->clock != NCTOP_SEG_CLOCK_TSC) {
        return "unknown segment clock";
    }
    if (h->abi_version >= 5 && h->clock == NCTOP_SEG_CLOCK_TSC && !NCTOP_SEG_HAVE_TSC) {
        return "TSC timestamps, but this nctop cannot read the TSC";
    }
    if (h->abi_version >= 4 &&
        (!ring_region_ok(h->values_off, h->values_max, sizeof(struct nctop_seg_value), size) ||
         !ring_region_ok(h->attrs_off, h->attrs_max, sizeof(struct nctop_seg_attr), size))) {
        return "segment tables lie outside the segment";
    }
    if (h->abi_version >= 6 &&
        !ring_region_ok(h->matrices_off, h->matrices_max, sizeof(struct nctop_seg_matrix), size)) {
        return "segment tables lie outside the segment";
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
    /* Every region begins on a cache line (the SDK lays them out so): an entry read at an
     * offset that is not its type's alignment is undefined behaviour, and an atomic across
     * two lines is not atomic. */
    if (((h->stroff_off | h->strings_off | h->gauges_off | h->counters_off | h->weights_off |
          h->rings_off) &
         (NCTOP_SEG_CACHELINE - 1)) != 0 ||
        (h->abi_version >= 4 &&
         ((h->values_off | h->attrs_off) & (NCTOP_SEG_CACHELINE - 1)) != 0) ||
        (h->abi_version >= 6 && (h->matrices_off & (NCTOP_SEG_CACHELINE - 1)) != 0)) {
        return "segment tables are not aligned to cache lines";
    }
    return NULL;
}

static uint32_t ring_min32(uint32_t a, uint32_t b)
{
    return a < b ? a : b;
}

/* Copy the validated layout out of the header copy h, with the limits applied. */
static void ring_layout_init(struct ring_layout *l, const struct nctop_seg_header *h)
{
    l->stroff_off = h->stroff_off;
    l->strings_off = h->strings_off;
    l->gauges_off = h->gauges_off;
    l->counters_off = h->counters_off;
    l->weights_off = h->weights_off;
    l->rings_off = h->rings_off;
    l->ring_stride = h->ring_stride;
    l->created_mono_ns = h->created_mono_ns;
    l->clock = h->abi_version >= 5 ? h->clock : NCTOP_SEG_CLOCK_MONOTONIC;
    l->calib_base_tsc = h->abi_version >= 5 ? h->calib_base.tsc : 0;
    l->calib_base_ns = h->abi_version >= 5 ? h->calib_base.mono_ns : 0;
    l->strings_bytes = h->strings_bytes;
    l->ring_bytes = h->ring_bytes;
    l->strings_hdr = h->strings_max;
    l->gauges_hdr = h->gauges_max;
    l->counters_hdr = h->counters_max;
    l->weights_hdr = h->weights_max;
    l->rings_hdr = h->rings_max;
    /* Before ABI 4 the bytes after the header are not ours to read as tables. */
    l->values_off = h->abi_version >= 4 ? h->values_off : 0;
    l->attrs_off = h->abi_version >= 4 ? h->attrs_off : 0;
    l->values_hdr = h->abi_version >= 4 ? h->values_max : 0;
    l->attrs_hdr = h->abi_version >= 4 ? h->attrs_max : 0;
    l->values_max = ring_min32(l->values_hdr, RING_MAX_VALUES);
    l->attrs_max = ring_min32(l->attrs_hdr, RING_MAX_ATTRS);
    /* Before ABI 6 the bytes after version 5's header are not matrices. */
    l->matrices_off = h->abi_version >= 6 ? h->matrices_off : 0;
    l->matrices_hdr = h->abi_version >= 6 ? h->matrices_max : 0;
    l->matrices_max = ring_min32(l->matrices_hdr, RING_MAX_MATRICES);
    l->strings_max = ring_min32(h->strings_max, RING_MAX_STRING_IDS);
    l->gauges_max = ring_min32(h->gauges_max, RING_MAX_GAUGES);
    l->counters_max = ring_min32(h->counters_max, RING_MAX_COUNTERS);
    l->weights_max = ring_min32(h->weights_max, RING_MAX_WEIGHTS);
    l->rings_max = ring_min32(h->rings_max, RING_MAX_RINGS);
}

/* A published count clamped to what the layout lets us read; *over gets what a limit left
 * out (entries that exist by the header but lie beyond our limit). */
static uint32_t ring_clamp_count(uint32_t count, uint32_t hdr_max, uint32_t our_max, uint64_t *over)
{
    count = ring_min32(count, hdr_max);
    if (count > our_max) {
        *over += count - our_max;
        return our_max;
    }
    return count;
}

static struct nctop_seg_ring *ring_slot(const struct ring_seg *s, uint32_t i)
{
    return (struct nctop_seg_ring *)(s->base + s->lay.rings_off + (uint64_t)i * s->lay.ring_stride);
}

/* Mirror the string table entries published since the last call, at most strings_budget of
 * them. Every length and offset is checked in 64 bits against the arena size copied at
 * attach, so a tiny or rewritten arena cannot make a check wrap. */
static void ring_sync_strings(struct ring_seg *s)
{
    const struct ring_layout *l = &s->lay;
    const uint32_t *offs = (const uint32_t *)(s->base + l->stroff_off);
    const char *arena = (const char *)(s->base + l->strings_off);
    uint64_t over = 0;
    uint32_t count = atomic_load_explicit(&s->hdr->strings_count, memory_order_acquire);
    uint32_t first = s->nids ? s->nids : 1, end, invalid = 0;

    count = ring_clamp_count(count, l->strings_hdr, l->strings_max, &over);
    if (count <= s->nids || s->strings_budget == 0) {
        return;
    }
    end = count - first > s->strings_budget ? first + s->strings_budget : count;
    s->strings_budget -= end - first;
    if (end > s->idcap) {
        /* 64-bit doubling, capped by strings_max (<= RING_MAX_STRING_IDS): it terminates. */
        uint64_t cap = s->idcap ? s->idcap : 256;

        while (cap < end) {
            cap *= 2;
        }
        cap = cap < l->strings_max ? cap : l->strings_max;
        s->idmap = xreallocarray(s->idmap, (size_t)cap, sizeof(*s->idmap));
        memset(s->idmap + s->idcap, 0, ((size_t)cap - s->idcap) * sizeof(*s->idmap));
        s->idcap = (uint32_t)cap;
    }
    for (uint32_t id = first; id < end; id++) {
        uint64_t off = offs[id]; /* read once: the bytes are the workload's */
        uint32_t len;
        char name[NCTOP_SEG_NAME_MAX + 1];

        /* Entry: uint32_t len, len bytes, NUL; all inside the arena. */
        if (off % 4 != 0 || off + 4 > l->strings_bytes) {
            goto invalid;
        }
        memcpy(&len, arena + off, sizeof(len));
        if (len == 0 || len > NCTOP_SEG_NAME_MAX ||
            off + 4 + (uint64_t)len + 1 > l->strings_bytes) {
            goto invalid;
        }
        memcpy(name, arena + off + 4, len);
        name[len] = '\0';
        if (arena[off + 4 + len] != '\0' || strlen(name) != len) {
            goto invalid;
        }
        if (s->name_bytes + len > RING_MAX_STRING_BYTES) {
            s->idmap[id] = 0;
            s->names_over++;
            continue;
        }
        s->name_bytes += len;
        s->idmap[id] = store_proc_intern(s->proc, name);
        continue;
    invalid:
        s->idmap[id] = store_proc_intern(s->proc, RING_INVALID_NAME);
        invalid++;
    }
    if (invalid > 0) {
        /* One event for the walk: a hostile table can hold a million bad entries. */
        s->invalid += invalid;
        store_proc_add_invalid(s->proc, invalid, "corrupt string table entry");
    }
    s->nids = end;
}

/* The store id of a segment string id, or 0 when the id is not published (or refused). */
static uint32_t ring_map_id(struct ring_seg *s, uint64_t id)
{
    if (id == 0) {
        return 0;
    }
    if (id >= s->nids) {
        ring_sync_strings(s);
        if (id >= s->nids) {
            /* Past this drain's budget the id may well be published: not known yet, which
             * the next drain (with a budget again) decides. */
            s->strings_starved = s->strings_starved || s->strings_budget == 0;
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

/*
 * Copy the buffer of the latest publication of matrix m into rs->mbuf (segment.h: the double
 * buffer under seq). The sizes are read from the copy once and checked before the rest is
 * copied; the copy is good when seq moved by at most one publication meanwhile. Returns the
 * seq of the snapshot copied (even, >= 2), 0 when there is none yet or the copy was torn
 * RING_MATRIX_TRIES times (*torn), or 1 when the sizes are not sizes (a corrupt writer).
 */
static uint64_t ring_matrix_copy(struct ring_source *rs, struct nctop_seg_matrix *m, bool *torn)
{
    struct nctop_seg_matrix_buf *c = rs->mbuf;

    for (int tries = 0; tries < RING_MATRIX_TRIES; tries++) {
        uint64_t s1 = atomic_load_explicit(&m->seq, memory_order_acquire), s2;
        const struct nctop_seg_matrix_buf *b = &m->buf[(s1 >> 1) & 1];
        bool sized;

        if (s1 < 2) {
            return 0; /* nothing published yet */
        }
        memcpy(c, b, offsetof(struct nctop_seg_matrix_buf, row_labels));
        sized = c->rows >= 1 && c->rows <= NCTOP_SEG_MATRIX_DIM_MAX && c->cols >= 1 &&
                c->cols <= NCTOP_SEG_MATRIX_DIM_MAX;
        if (sized) {
            memcpy(c->row_labels, b->row_labels, (size_t)c->rows * NCTOP_SEG_MATRIX_LABEL_MAX);
            memcpy(c->col_labels, b->col_labels, (size_t)c->cols * NCTOP_SEG_MATRIX_LABEL_MAX);
            memcpy(c->values, b->values, (size_t)c->rows * c->cols * sizeof(float));
        }
        atomic_thread_fence(memory_order_acquire);
        s2 = atomic_load_explicit(&m->seq, memory_order_relaxed);
        if (s2 >= s1 && s2 <= (s1 & ~1ULL) + 2) {
            return sized ? s1 & ~1ULL : 1;
        }
    }
    *torn = true;
    return 0;
}

/* Take the matrices published since the last call: only those whose seq moved are copied. */
static void ring_sync_matrices(struct ring_seg *s, uint64_t now_ns, uint64_t *over)
{
    const struct ring_layout *l = &s->lay;
    struct ring_source *rs = s->rs;
    uint32_t n;

    if (l->matrices_hdr == 0) {
        return;
    }
    n = ring_clamp_count(atomic_load_explicit(&s->hdr->matrices_count, memory_order_acquire),
                         l->matrices_hdr, l->matrices_max, over);
    for (uint32_t i = 0; i < n; i++) {
        struct nctop_seg_matrix *m = (struct nctop_seg_matrix *)(s->base + l->matrices_off) + i;
        uint64_t seq = atomic_load_explicit(&m->seq, memory_order_acquire) & ~1ULL;
        uint32_t name_id = m->name_id, unit_id = m->unit_id; /* read once */
        uint32_t name, unit;
        struct nctop_seg_matrix_buf *c;
        bool torn = false;

        if (seq < 2 || seq + 1 == s->matrix_seq[i]) {
            continue; /* nothing new: no copy */
        }
        name = ring_map_id(s, name_id);
        unit = unit_id != 0 ? ring_map_id(s, unit_id) : 0;
        if (name == 0 || (unit_id != 0 && unit == 0)) {
            continue;
        }
        if (rs->mbuf == NULL) {
            rs->mbuf = xmalloc(sizeof(*rs->mbuf));
        }
        seq = ring_matrix_copy(rs, m, &torn);
        if (seq == 0) {
            s->matrix_torn += torn ? 1 : 0;
            continue;
        }
        if (seq == 1) {
            s->matrix_seq[i] = atomic_load_explicit(&m->seq, memory_order_relaxed) | 1ULL;
            s->invalid++;
            store_proc_add_invalid(s->proc, 1, "matrix of a bad size");
            continue;
        }
        s->matrix_seq[i] = seq + 1;
        c = rs->mbuf;
        if (rs->mscratch == NULL || rs->mscratch->rows != c->rows ||
            rs->mscratch->cols != c->cols) {
            matrix_unref(rs->mscratch);
            rs->mscratch = matrix_new(c->rows, c->cols);
        }
        for (uint32_t r = 0; r < c->rows; r++) {
            matrix_set_label(rs->mscratch->row_labels + (size_t)r * MATRIX_LABEL_BYTES,
                             c->row_labels[r]);
        }
        for (uint32_t k = 0; k < c->cols; k++) {
            matrix_set_label(rs->mscratch->col_labels + (size_t)k * MATRIX_LABEL_BYTES,
                             c->col_labels[k]);
        }
        memcpy(rs->mscratch->values, c->values, (size_t)c->rows * c->cols * sizeof(float));
        matrix_update_range(rs->mscratch);
        /* nctop's clock, not the workload's: a snapshot is dated when it was taken. */
        store_matrix_set(s->proc, name, unit, rs->mscratch, now_ns);
    }
}

/* Mirror gauges, counters, drops, thread names, the label; weights less often. Table
 * pointers and sizes come from the layout copied at attach; only counts and entries are
 * read from the mapping, and counts are clamped. */
static void ring_sync_facts(struct ring_seg *s, uint64_t now_ns, bool force)
{
    const struct ring_layout *l = &s->lay;
    uint64_t full = 0, stall = 0, over = s->names_over;
    uint64_t born_ns;
    uint32_t n, rings;

    n = ring_clamp_count(atomic_load_explicit(&s->hdr->weights_count, memory_order_relaxed),
                         l->weights_hdr, l->weights_max, &over);
    if (!force && now_ns - s->facts_ns < RING_FACTS_PERIOD_NS && n == s->weights_seen) {
        return;
    }
    over = s->names_over;
    /* A counter registered since the last sync started from 0 then (at most one period
     * early): that point gives a short run a rate over its whole life. At the first sync only
     * a segment read from its creation knows that; a late attach knows nothing of before. */
    born_ns = s->facts_ns != 0 ? s->facts_ns : s->from_start ? l->created_mono_ns : 0;
    s->facts_ns = now_ns;
    ring_sync_strings(s);
    ring_sync_label(s);
    /* What the string limit leaves out, counted whether or not it was walked yet. */
    ring_clamp_count(atomic_load_explicit(&s->hdr->strings_count, memory_order_relaxed),
                     l->strings_hdr, l->strings_max, &over);

    n = ring_clamp_count(atomic_load_explicit(&s->hdr->gauges_count, memory_order_acquire),
                         l->gauges_hdr, l->gauges_max, &over);
    for (uint32_t i = 0; i < n; i++) {
        struct nctop_seg_gauge *g = (struct nctop_seg_gauge *)(s->base + l->gauges_off) + i;
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

    n = ring_clamp_count(atomic_load_explicit(&s->hdr->counters_count, memory_order_acquire),
                         l->counters_hdr, l->counters_max, &over);
    for (uint32_t i = 0; i < n; i++) {
        struct nctop_seg_counter *c = (struct nctop_seg_counter *)(s->base + l->counters_off) + i;
        uint32_t name = ring_map_id(s, c->name_id);

        if (name == 0) {
            continue;
        }
        if (i >= s->counters_seen && born_ns > 0 && born_ns < now_ns) {
            store_counter_set(s->proc, name, 0, born_ns);
        }
        store_counter_set(s->proc, name, atomic_load_explicit(&c->value, memory_order_relaxed),
                          now_ns);
    }
    s->counters_seen = n;

    if (l->values_hdr > 0) {
        n = ring_clamp_count(atomic_load_explicit(&s->hdr->values_count, memory_order_acquire),
                             l->values_hdr, l->values_max, &over);
        for (uint32_t i = 0; i < n; i++) {
            struct nctop_seg_value *v = (struct nctop_seg_value *)(s->base + l->values_off) + i;
            uint64_t bits = atomic_load_explicit(&v->bits, memory_order_relaxed);
            uint32_t name = ring_map_id(s, v->name_id);
            uint32_t unit = v->unit_id != 0 ? ring_map_id(s, v->unit_id) : 0;
            double d;

            if (name == 0 || bits == NCTOP_SEG_VALUE_UNSET || (v->unit_id != 0 && unit == 0)) {
                continue;
            }
            memcpy(&d, &bits, sizeof(d));
            store_value_set(s->proc, name, unit, d, now_ns);
        }
    }
    if (l->attrs_hdr > 0) {
        n = ring_clamp_count(atomic_load_explicit(&s->hdr->attrs_count, memory_order_acquire),
                             l->attrs_hdr, l->attrs_max, &over);
        for (uint32_t i = 0; i < n; i++) {
            struct nctop_seg_attr *a = (struct nctop_seg_attr *)(s->base + l->attrs_off) + i;
            uint32_t key = ring_map_id(s, a->key_id);
            uint32_t value = atomic_load_explicit(&a->value_id, memory_order_acquire);

            value = value != 0 ? ring_map_id(s, value) : 0;
            /* "nctop." keys are nctop's own (RING_CLOCK_ATTR): not the workload's to set. */
            if (key != 0 && strncmp(store_proc_name(s->proc, key), "nctop.", 6) != 0) {
                store_attr_set(s->proc, key, value);
            }
        }
    }

    ring_sync_matrices(s, now_ns, &over);

    /* Weights change rarely: read them all when one was added, else once a period. */
    n = ring_clamp_count(atomic_load_explicit(&s->hdr->weights_count, memory_order_acquire),
                         l->weights_hdr, l->weights_max, &over);
    if (force || n != s->weights_seen || now_ns - s->weights_ns >= RING_WEIGHTS_PERIOD_NS) {
        s->weights_ns = now_ns;
        s->weights_seen = n;
        for (uint32_t i = 0; i < n; i++) {
            struct nctop_seg_weight *w = (struct nctop_seg_weight *)(s->base + l->weights_off) + i;
            uint32_t path = ring_map_id(s, w->path_id);

            if (path != 0) {
                store_weight_set(s->proc, path, w->flags,
                                 atomic_load_explicit(&w->bytes, memory_order_relaxed));
            }
        }
    }

    rings = ring_clamp_count(atomic_load_explicit(&s->hdr->rings_count, memory_order_relaxed),
                             l->rings_hdr, l->rings_max, &over);
    for (uint32_t i = 0; i < rings; i++) {
        struct nctop_seg_ring *r = ring_slot(s, i);
        struct ring_slot_view *v = &s->slots[i];
        char name[NCTOP_SEG_THREAD_NAME_MAX + 1];

        full = ring_sat_add(full, atomic_load_explicit(&r->dropped, memory_order_relaxed));
        stall = ring_sat_add(stall, atomic_load_explicit(&r->dropped_stall, memory_order_relaxed));
        if (v->thread != NULL) {
            ring_copy_text(name, r->name, NCTOP_SEG_THREAD_NAME_MAX);
            if (strcmp(name, v->name) != 0) {
                memcpy(v->name, name, sizeof(v->name));
                store_thread_set_name(v->thread, name);
            }
        }
    }
    {
        uint64_t no_ring = atomic_load_explicit(&s->hdr->dropped_no_ring, memory_order_relaxed);

        store_proc_set_loss(s->proc, STORE_LOSS_RING_FULL, full);
        store_proc_set_loss(s->proc, STORE_LOSS_NO_RING, no_ring);
        store_proc_set_loss(s->proc, STORE_LOSS_READER_STALL, stall);
        store_proc_set_loss(s->proc, STORE_LOSS_REGISTRATION,
                            atomic_load_explicit(&s->hdr->registration_full, memory_order_relaxed));
        store_proc_set_loss(s->proc, STORE_LOSS_LIMIT, over);
        store_proc_set_dropped(s->proc, ring_sat_add(ring_sat_add(full, stall), no_ring));
    }
}

/* The calibration cannot be trusted: an error row and a counter; from now on the segment's
 * TSC records are counted as invalid and never shown (the mistake is not repaired later). */
static void ring_clock_refuse(struct ring_source *rs, struct ring_seg *s, const char *why,
                              uint64_t now_ns)
{
    s->clk.ok = false;
    s->clk.bad = why;
    store_proc_add_invalid(s->proc, 1, why);
    store_proc_set_state(s->proc, STORE_PROC_ERROR, why, now_ns);
    rs->stats.invalid++;
    ring_seg_note(rs, "segment of pid %d: %s", (int)s->pid, why);
}

/* Whether conv puts this process's own pair where it is: the calibration is this machine's
 * clock, not only self-consistent. The tolerance grows with the time since the anchor (the
 * workload may not have refreshed for a while). */
static bool ring_clock_agrees(const struct nctop_seg_conv *conv)
{
    uint64_t tsc = 0, ns = 0, got, err, since;

    nctop_seg_calib_take(&tsc, &ns);
    got = nctop_seg_conv_ns(conv, tsc);
    err = got > ns ? got - ns : ns - got;
    since = ns > conv->ns ? ns - conv->ns : conv->ns - ns;
    return err <= RING_CALIB_CHECK_NS + since / RING_CALIB_RATE_DIV;
}

/*
 * Follow the TSC calibration of s (segment.h, enum nctop_seg_clock): a new pair under the
 * sequence lock gives a new slope and anchor. Refused (an error row): no valid pair, a rate
 * out of range, pairs going backwards, a rate that moves by more than 1/RING_CALIB_RATE_DIV,
 * or a conversion that disagrees with our own clocks. A pair being rewritten (odd, or changed
 * during the read) keeps the previous one until the next drain.
 */
static void ring_clock_sync(struct ring_source *rs, struct ring_seg *s, uint64_t now_ns)
{
    struct nctop_seg_conv conv;
    uint32_t seq1, seq2;
    uint64_t tsc, ns;

    if (s->lay.clock != NCTOP_SEG_CLOCK_TSC || s->clk.bad != NULL) {
        return;
    }
    if (s->hdr->clock != s->lay.clock) {
        ring_clock_refuse(rs, s, "the segment's clock changed after it was published", now_ns);
        return;
    }
    seq1 = atomic_load_explicit(&s->hdr->calib_seq, memory_order_acquire);
    if (s->clk.ok && seq1 == s->clk.seq) {
        return;
    }
    tsc = atomic_load_explicit(&s->hdr->calib_last.tsc, memory_order_relaxed);
    ns = atomic_load_explicit(&s->hdr->calib_last.mono_ns, memory_order_relaxed);
    atomic_thread_fence(memory_order_acquire);
    seq2 = atomic_load_explicit(&s->hdr->calib_seq, memory_order_relaxed);
    if ((seq1 & 1) != 0 || seq1 != seq2) {
        if (!s->clk.ok && s->clk.seq == seq1 && seq1 != 0) {
            /* Still mid-write at the next drain: nobody finishes it. */
            ring_clock_refuse(rs, s, "clock calibration missing (never completed)", now_ns);
        }
        s->clk.seq = seq1;
        return;
    }
    /* The SDK writes both pairs, NCTOP_SEG_CALIB_MIN_NS apart, before it publishes. */
    if (s->lay.calib_base_tsc == 0 || s->lay.calib_base_ns == 0 || tsc == 0 || ns == 0 ||
        ns - s->lay.calib_base_ns < NCTOP_SEG_CALIB_MIN_NS) {
        ring_clock_refuse(rs, s, "clock calibration missing", now_ns);
        return;
    }
    if (!nctop_seg_conv_make(&conv, s->lay.calib_base_tsc, s->lay.calib_base_ns, tsc, ns)) {
        ring_clock_refuse(rs, s, "clock calibration absurd (TSC rate out of range)", now_ns);
        return;
    }
    if (s->clk.ok) {
        uint64_t d = conv.mult > s->clk.conv.mult ? conv.mult - s->clk.conv.mult
                                                  : s->clk.conv.mult - conv.mult;

        if (tsc < s->clk.conv.tsc || ns < s->clk.conv.ns ||
            d > s->clk.conv.mult / RING_CALIB_RATE_DIV) {
            ring_clock_refuse(rs, s, "clock calibration changed under the reader", now_ns);
            return;
        }
    }
    if (!ring_clock_agrees(&conv)) {
        ring_clock_refuse(rs, s, "clock calibration disagrees with this machine's clock", now_ns);
        return;
    }
    s->clk.conv = conv;
    s->clk.seq = seq1;
    s->clk.ok = true;
}

/* The first 4 bytes of a record (type, flags, words) as one little-endian word. */
static inline uint32_t ring_rec_hdr(uint8_t type, uint32_t flags, uint32_t words)
{
    return (uint32_t)type | flags << 8 | words << 16;
}

/* Whether a record that was not taken changes where its thread is in its span stack: a
 * span's begin or end, or the first record after a loss. Without it, a later step's spans
 * would nest under a span whose end was among them. */
static bool ring_rec_moves_stack(const struct nctop_rec *rec)
{
    uint8_t type = rec->type, flags = rec->flags; /* read once: the bytes are the workload's */

    return type == NCTOP_REC_SPAN_BEGIN || type == NCTOP_REC_SPAN_END ||
           (flags & NCTOP_REC_F_GAP) != 0;
}

/* Decode one record into the store. Returns false when it is corrupt. Times must lie between
 * the segment's creation and a little after now: the store's window clock follows event
 * times, so one far-future stamp would blank every window. */
static bool ring_decode(struct ring_seg *s, struct ring_slot_view *v, const struct nctop_rec *rec,
                        uint16_t words, uint64_t now_ns, const struct nctop_seg_conv *conv)
{
    uint64_t ts = rec->ts_ns;
    uint8_t flags = rec->flags; /* read once: the bytes are the workload's */
    uint32_t id;

    if (flags & NCTOP_REC_F_TSC) {
        /* Ticks: only a TSC segment has them, and only a trusted calibration converts them. */
        if (conv == NULL) {
            s->clk.discarded += s->lay.clock == NCTOP_SEG_CLOCK_TSC; /* else: corrupt */
            return false;
        }
        ts = nctop_seg_conv_ns(conv, ts);
    }
    if (ts + RING_CLOCK_SLACK_NS < s->lay.created_mono_ns || ts > now_ns + RING_CLOCK_SLACK_NS) {
        return false;
    }
    /* Events of this thread were lost just before (or never read: a late attach): it may be
     * anywhere in its span stack, so the store holds its spans until it is back at the top. */
    if ((v->resync || (flags & NCTOP_REC_F_GAP)) && v->thread != NULL) {
        store_thread_resync(v->thread, ts);
        v->resync = false;
    }
    switch (rec->type) {
    case NCTOP_REC_SPAN_BEGIN:
    case NCTOP_REC_SPAN_END:
        id = ring_map_id(s, rec->id);
        if (id == 0 || v->thread == NULL) {
            return false;
        }
        if (rec->type == NCTOP_REC_SPAN_BEGIN) {
            store_span_begin(v->thread, id, ts);
        } else if (words < 3) {
            store_span_end(v->thread, id, ts);
        } else {
            /* An end with a status: 0 ok, else the error's string id. */
            uint32_t status = rec->arg[0] == 0 ? 0 : ring_map_id(s, rec->arg[0]);

            if (rec->arg[0] != 0 && status == 0) {
                if (s->strings_starved) {
                    return false; /* its message is not read yet: the record waits */
                }
                status = store_proc_intern(s->proc, RING_INVALID_NAME);
            }
            store_span_end_status(v->thread, id, status, ts);
        }
        return true;
    case NCTOP_REC_SPAN_ATTR: {
        uint32_t value;

        if (words < 3 || v->thread == NULL) {
            return false;
        }
        id = ring_map_id(s, rec->id);
        value = ring_map_id(s, rec->arg[0]);
        if (id == 0 || value == 0) {
            return false;
        }
        store_span_attr(v->thread, id, value, ts);
        return true;
    }
    case NCTOP_REC_KERNEL: {
        uint32_t backend;

        if (words < 4) {
            return false;
        }
        id = ring_map_id(s, rec->id);
        backend = ring_map_id(s, rec->arg[1]);
        if (id == 0 || backend == 0 || rec->arg[0] > now_ns - ts + RING_CLOCK_SLACK_NS) {
            return false;
        }
        store_kernel(s->proc, id, backend, ts, rec->arg[0]);
        return true;
    }
    case NCTOP_REC_MEM_DELTA:
        if (words < 3 || v->thread == NULL) {
            return false;
        }
        store_mem_delta(v->thread, (int64_t)rec->arg[0], ts);
        return true;
    case NCTOP_REC_STEP:
        if (words < 3 || rec->id < STORE_STEP_REQUEST_BEGIN || rec->id > STORE_STEP_KIND_MAX) {
            return false;
        }
        /* 4 words carry a request id; 3 are the markers of request 0. */
        store_request_step(s->proc, (enum store_step_kind)rec->id, words >= 4 ? rec->arg[1] : 0,
                           rec->arg[0], ts);
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
        store_thread_unshare(v->thread, STORE_SRC_OWN, now_ns);
    }
    ring_copy_text(v->name, r->name, NCTOP_SEG_THREAD_NAME_MAX);
    /* The probes' events of the same thread go to the same store thread. */
    v->thread = store_thread_share(s->proc, r->tid, v->name, STORE_SRC_OWN);
    v->generation = generation;
    v->known = true;
    /* Unless the segment was ours from its creation, the thread may have begun spans while
     * nobody read it (its events were off). */
    v->resync = !s->from_start;
}

/* What the fast path of ring_drain_slot checks a record against, in one place: the loop
 * keeps few values live (each one more spilled to the stack measured as instructions on
 * every record). */
struct ring_fast {
    const uint32_t *idmap;
    uint32_t nids;
    uint32_t hdr_begin, hdr_kernel;    /* an end's is hdr_begin + 1; 0: no fast path */
    uint64_t ts_lo, ts_span;           /* a time is valid when ts - ts_lo <= ts_span */
    uint64_t late_slack;               /* a kernel's start + duration stays below it */
    const struct nctop_seg_conv *conv; /* NULL: the records hold nanoseconds */
};

/* The fast path: from p (8-aligned, inside the ring's data), take plain span begins and
 * ends (2 words, stamped as the segment's clock says, no loss before them) and kernels
 * (4 words) into out, checked as ring_decode checks them, while they start before start_end,
 * end by data_end, and out has room. Stops at the first record it does not take, which the
 * general path then decodes (or refuses). Returns the bytes taken; *n grows by the records.
 * One bound covers the three limits (records are 16 bytes or more, so a bound 16 bytes per
 * free place of out keeps out from filling), and what the loop compares with is in locals.
 * tsc is a constant where it is called (fp->conv != NULL): a loop for each clock. */
static inline __attribute__((always_inline)) uint64_t
ring_fast_run(const struct ring_fast *fp, const uint8_t *p, const uint8_t *start_end,
              const uint8_t *data_end, struct store_batch_ev *out, uint32_t *n, bool tsc)
{
    const uint8_t *p0 = p, *lim;
    const uint32_t *idmap = fp->idmap;
    const uint32_t nids = fp->nids, hdr_begin = fp->hdr_begin;
    const uint64_t ts_lo = fp->ts_lo, ts_span = fp->ts_span;
    struct store_batch_ev *e = out + *n;
    uint64_t room = (uint64_t)(RING_BATCH - *n) * 16;

    _Static_assert(NCTOP_REC_SPAN_END == NCTOP_REC_SPAN_BEGIN + 1 &&
                       STORE_BATCH_END == STORE_BATCH_BEGIN + 1 && STORE_BATCH_BEGIN == 0,
                   "ring_fast_run: a span's kind is its header's distance from a begin's");
    if (data_end - p < 16) {
        return 0;
    }
    lim = data_end - 15 < start_end ? data_end - 15 : start_end;
    lim = (uint64_t)(lim - p) > room ? p + room : lim;
    while (p < lim) {
        uint32_t hdr, id, sid, kind;
        uint64_t ts;

        memcpy(&hdr, p, sizeof(hdr)); /* each field read once: the bytes are the workload's */
        memcpy(&id, p + 4, sizeof(id));
        memcpy(&ts, p + 8, sizeof(ts));
        if (id >= nids) {
            break;
        }
        sid = idmap[id]; /* 0 for id 0 and for refused names */
        kind = hdr - hdr_begin;
        if (kind <= 1U) {
            ts = tsc ? nctop_seg_conv_ns(fp->conv, ts) : ts;
            if (sid == 0 || ts - ts_lo > ts_span) {
                break;
            }
            e->kind = kind;
            p += 16;
        } else if (hdr == fp->hdr_kernel) {
            uint64_t dur, be;
            uint32_t sbe;

            if (data_end - p < 32) {
                break;
            }
            memcpy(&dur, p + 16, sizeof(dur));
            memcpy(&be, p + 24, sizeof(be));
            sbe = be < nids ? idmap[be] : 0;
            if (sid == 0 || sbe == 0 || ts - ts_lo > ts_span || dur > fp->late_slack - ts) {
                break;
            }
            e->kind = STORE_BATCH_KERNEL;
            e->dur_ns = dur;
            e->backend = sbe;
            p += 32;
        } else {
            break;
        }
        e->name = sid;
        e->ts_ns = ts;
        e++;
    }
    *n = (uint32_t)(e - out);
    return (uint64_t)(p - p0);
}

/* Drain one ring, reading at most *budget bytes (what is left stays for the next drain);
 * returns the records decoded. */
static uint64_t ring_drain_slot(struct ring_source *rs, struct ring_seg *s, uint32_t i,
                                uint64_t now_ns, uint64_t *budget)
{
    struct nctop_seg_ring *r = ring_slot(s, i);
    struct ring_slot_view *v = &s->slots[i];
    const uint8_t *data = (const uint8_t *)(r + 1);
    uint64_t size = s->lay.ring_bytes, mask = size - 1, records = 0, bad = 0, head, tail, pos;
    uint64_t stop, discarded, late, ts_lo, ts_span;
    uint32_t nb = 0;
    struct store_batch_ev batch[RING_BATCH];
    struct ring_fast fp = {0};
    bool fast;
    struct nctop_seg_conv conv;
    const struct nctop_seg_conv *convp;
    uint32_t state = atomic_load_explicit(&r->state, memory_order_acquire);
    uint32_t generation = atomic_load_explicit(&r->generation, memory_order_acquire);

    if (state == NCTOP_SEG_RING_FREE) {
        if (v->thread != NULL) {
            store_thread_unshare(v->thread, STORE_SRC_OWN, now_ns);
            v->thread = NULL;
        }
        return 0;
    }
    if (!v->known || v->generation != generation) {
        ring_slot_claimed(s, i, generation, now_ns);
    }

    head = atomic_load_explicit(&r->head, memory_order_acquire);
    tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    if (head < tail || head - tail > size || head % 8 != 0 || tail % 8 != 0) {
        store_proc_add_invalid(s->proc, 1, "corrupt ring positions");
        s->invalid++;
        rs->stats.invalid++;
        v->resync = true; /* what lay between is skipped */
        atomic_compare_exchange_strong_explicit(&r->tail, &tail, head, memory_order_release,
                                                memory_order_relaxed);
        return 0;
    }
    if ((double)(head - tail) > rs->fill * (double)size) {
        rs->fill = (double)(head - tail) / (double)size;
    }
    stop = head - tail > *budget ? tail + *budget : head;
    /* Every record up to head was written before now: the bound of their times is the clock
     * read after head, not the caller's now, which a loaded machine may have taken long
     * before (the scan, other segments) and would make the latest records look corrupt. */
    late = util_mono_ns();
    late = late > now_ns ? late : now_ns;
    discarded = s->clk.discarded;
    /* The conversion in locals: the store calls of the loop cannot change it, and the
     * compiler need not reload it from s after each of them. */
    conv = s->clk.conv;
    convp = s->lay.clock == NCTOP_SEG_CLOCK_TSC && s->clk.ok ? &conv : NULL;
    /* The fast path: a plain span begin or end (2 words, stamped as the segment's clock says,
     * no loss before it) or a kernel goes into a batch for the store, checked as ring_decode
     * checks it; anything else, or a record that fails a check, takes ring_decode. */
    if (v->thread != NULL && (convp != NULL || s->lay.clock != NCTOP_SEG_CLOCK_TSC)) {
        uint32_t fl = convp != NULL ? NCTOP_REC_F_TSC : 0;

        fp.hdr_begin = ring_rec_hdr(NCTOP_REC_SPAN_BEGIN, fl, 2);
        fp.hdr_kernel = ring_rec_hdr(NCTOP_REC_KERNEL, 0, 4);
    }
    ts_lo = s->lay.created_mono_ns > RING_CLOCK_SLACK_NS
                ? s->lay.created_mono_ns - RING_CLOCK_SLACK_NS
                : 0;
    ts_span = late + RING_CLOCK_SLACK_NS - ts_lo;
    fp.idmap = s->idmap;
    fp.nids = s->idmap != NULL ? s->nids : 0;
    fp.ts_lo = ts_lo;
    fp.ts_span = ts_span;
    fp.late_slack = late + RING_CLOCK_SLACK_NS;
    fp.conv = convp;
    fast = !v->resync && fp.hdr_begin != 0;

    for (pos = tail; pos < stop;) {
        uint64_t off = pos & mask, contig = mask + 1 - off, left = head - pos, bytes;
        const struct nctop_rec *rec = (const struct nctop_rec *)(data + off);
        uint32_t hdr;
        uint16_t words;

        if (fast) {
            const uint8_t *at = data + off;
            const uint8_t *start_end = at + (stop - pos < contig ? stop - pos : contig);
            const uint8_t *data_end = at + (left < contig ? left : contig);

            pos += fp.conv != NULL ? ring_fast_run(&fp, at, start_end, data_end, batch, &nb, true)
                                   : ring_fast_run(&fp, at, start_end, data_end, batch, &nb, false);
            if (nb == RING_BATCH) {
                records += nb;
                store_batch(v->thread, batch, nb);
                nb = 0;
                continue;
            }
            if (pos >= stop) {
                break;
            }
            off = pos & mask;
            contig = mask + 1 - off;
            left = head - pos;
            rec = (const struct nctop_rec *)(data + off);
        }
        memcpy(&hdr, rec, sizeof(hdr)); /* read once: the bytes are the workload's */
        words = (uint16_t)(hdr >> 16);
        bytes = (uint64_t)words * 8;
        if (words == 0 || bytes > contig || bytes > left) {
            /* Lying length: nothing after it can be trusted; skip to head. */
            bad++;
            v->resync = true;
            pos = head;
            break;
        }
        if (nb != 0) {
            records += nb;
            store_batch(v->thread, batch, nb);
            nb = 0;
        }
        if ((uint8_t)hdr != NCTOP_REC_PAD) {
            if (words < 2 || !ring_decode(s, v, rec, words, late, convp)) {
                if (s->strings_starved) {
                    break; /* a name past this drain's budget: the record is read next time */
                }
                bad++;
                v->resync = v->resync || ring_rec_moves_stack(rec);
            } else {
                records++;
            }
        }
        pos += bytes;
        /* ring_decode may have synced the string table, moving the id map. */
        fp.idmap = s->idmap;
        fp.nids = s->idmap != NULL ? s->nids : 0;
        fast = !v->resync && fp.hdr_begin != 0;
    }
    if (nb != 0) {
        records += nb;
        store_batch(v->thread, batch, nb);
    }
    *budget -= pos - tail < *budget ? pos - tail : *budget;
    /* Only from where we read: a tail moved meanwhile is another reader's (it took the role
     * over while we drained), and ours would move it back over records it has read. */
    if (!atomic_compare_exchange_strong_explicit(&r->tail, &tail, pos, memory_order_release,
                                                 memory_order_relaxed)) {
        v->resync = true;
        s->role_lost = true;
    }

    /* Records whose ticks no trusted calibration converts: invalid, for the clock's reason. */
    discarded = s->clk.discarded - discarded;
    if (discarded != 0) {
        bad -= discarded;
        store_proc_add_invalid(s->proc, discarded,
                               s->clk.bad != NULL ? s->clk.bad : "clock calibration missing");
        s->invalid += discarded;
        rs->stats.invalid += discarded;
    }
    if (bad != 0) {
        store_proc_add_invalid(s->proc, bad, "corrupt records in a ring");
        s->invalid += bad;
        rs->stats.invalid += bad;
    }
    /* A retired ring that is empty goes back to the pool of free slots. */
    if (state == NCTOP_SEG_RING_RETIRED && s->reader && pos == head) {
        uint32_t expect = NCTOP_SEG_RING_RETIRED;

        if (atomic_load_explicit(&r->head, memory_order_acquire) == head &&
            atomic_compare_exchange_strong(&r->state, &expect, NCTOP_SEG_RING_FREE)) {
            store_thread_unshare(v->thread, STORE_SRC_OWN, now_ns);
            v->thread = NULL;
            v->known = false;
        }
    }
    return records;
}

static void ring_seg_unmap(struct ring_seg *s);

/* The segment shrank under us (found by fstat, or by a read that faulted): give it up as
 * an error row. Reads only our own memory. */
static void ring_seg_truncated(struct ring_source *rs, struct ring_seg *s, uint64_t now_ns)
{
    store_proc_add_invalid(s->proc, 1, "segment truncated while attached");
    store_proc_set_state(s->proc, STORE_PROC_ERROR, "segment truncated while attached", now_ns);
    rs->stats.invalid++;
    ring_seg_note(rs, "segment of pid %d truncated while attached", (int)s->pid);
    for (uint32_t i = 0; i < s->lay.rings_max; i++) {
        if (s->slots[i].thread != NULL) {
            store_thread_gap(s->slots[i].thread);
            store_thread_unshare(s->slots[i].thread, STORE_SRC_OWN, now_ns);
            s->slots[i].thread = NULL;
        }
    }
    store_proc_own_source(s->proc, false);
    s->exited = true;
    s->exited_ns = now_ns;
    ring_seg_unmap(s);
}

/* Whether the file still covers the mapping. A read of a vanished page faults and the
 * SIGBUS handler makes it harmless, so one fstat per facts period is enough to also notice
 * a shrink in pages we have not touched. */
static bool ring_seg_still_whole(struct ring_source *rs, struct ring_seg *s, uint64_t now_ns,
                                 bool force)
{
    struct stat st;

    if (ring_seg_faulted(s)) {
        goto truncated;
    }
    if (!force && now_ns - s->size_ns < RING_FACTS_PERIOD_NS) {
        return true;
    }
    s->size_ns = now_ns;
    if (fstat(s->fd, &st) == 0 && (uint64_t)st.st_size >= s->size) {
        return true;
    }
truncated:
    ring_seg_truncated(rs, s, now_ns);
    return false;
}

/* Take the reader role back when the SDK let go of it: it marks a stalled reader with its
 * negative pid, and a reader silent for NCTOP_SEG_READER_GONE_NS with 0 (and then stopped
 * counting what it did not write: say so). */
static void ring_seg_reclaim(struct ring_source *rs, struct ring_seg *s, uint64_t now_ns)
{
    int32_t cur = atomic_load_explicit(&s->hdr->reader_pid, memory_order_relaxed);

    if (cur == rs->self_pid || s->exited) {
        return;
    }
    if (cur != 0 && cur != -rs->self_pid) {
        return;
    }
    if (cur == 0 && s->beat_ns != 0 && now_ns - s->beat_ns > NCTOP_SEG_READER_GONE_NS) {
        store_proc_add_invalid(s->proc, 1,
                               "nctop did not drain for over a minute: the events of that time "
                               "were lost uncounted");
    }
    if (atomic_compare_exchange_strong(&s->hdr->reader_pid, &cur, rs->self_pid) && cur == 0) {
        /* Events were off: every thread may have begun spans meanwhile. */
        for (uint32_t i = 0; i < s->lay.rings_max; i++) {
            s->slots[i].resync = true;
        }
    }
}

/*
 * Whether we still are the segment's reader. Ours, or ours marked stalled by the SDK (taken
 * back at once, so that another nctop finding it stalled cannot take it while we read), or
 * let go by the SDK (ring_seg_reclaim takes it back after the drain). Any other pid means
 * another nctop found us stalled and took the role over: its drains and ours would share
 * the records, and each would nest spans under spans whose ends the other read. We stop
 * reading and forget the spans our threads have open (their ends are its records); when the
 * role comes back (ring_claim_reader) every thread resyncs.
 */
static bool ring_seg_still_reader(struct ring_source *rs, struct ring_seg *s, uint64_t now_ns)
{
    int32_t cur = atomic_load_explicit(&s->hdr->reader_pid, memory_order_acquire);
    char why[96];

    /* A failed exchange leaves in cur what won the race. */
    if (cur == -rs->self_pid &&
        atomic_compare_exchange_strong(&s->hdr->reader_pid, &cur, rs->self_pid)) {
        cur = rs->self_pid;
    }
    if (!s->role_lost && (cur == rs->self_pid || cur == 0)) {
        return true;
    }
    s->reader = false;
    s->role_lost = false;
    s->from_start = false;
    for (uint32_t i = 0; i < s->lay.rings_max; i++) {
        if (s->slots[i].thread != NULL) {
            store_thread_gap(s->slots[i].thread);
        }
        s->slots[i].resync = true;
    }
    snprintf(why, sizeof(why), "events are read by another nctop (pid %d)",
             cur == INT32_MIN ? 0
             : cur < 0        ? (int)-cur
                              : (int)cur);
    store_proc_set_state(s->proc, STORE_PROC_LIVE, why, now_ns);
    diag_debug("segment of pid %d: %s", (int)s->pid, why);
    return false;
}

/* Stamp our heartbeat, in ns and, for a TSC segment, in ticks: its event path compares its
 * own clock with it. */
static void ring_heartbeat(struct ring_seg *s, uint64_t now_ns)
{
    atomic_store_explicit(&s->hdr->reader_heartbeat_ns, now_ns, memory_order_relaxed);
    if (s->lay.clock == NCTOP_SEG_CLOCK_TSC) {
        atomic_store_explicit(&s->hdr->reader_heartbeat_tsc, nctop_seg_tsc(), memory_order_relaxed);
    }
}

static uint64_t ring_drain_seg(struct ring_source *rs, struct ring_seg *s, uint64_t now_ns,
                               bool last)
{
    uint64_t records = 0, budget = RING_DRAIN_BYTES;
    uint64_t over = 0;
    uint32_t rings;

    if (s->base == NULL) {
        return 0;
    }
    if (!ring_seg_still_whole(rs, s, now_ns, last)) {
        return 0;
    }
    s->strings_budget = RING_STRINGS_PER_DRAIN;
    s->strings_starved = false;
    if (s->reader && ring_seg_still_reader(rs, s, now_ns)) {
        ring_clock_sync(rs, s, now_ns);
        ring_heartbeat(s, now_ns);
        rings = ring_clamp_count(atomic_load_explicit(&s->hdr->rings_count, memory_order_acquire),
                                 s->lay.rings_hdr, s->lay.rings_max, &over);
        for (uint32_t i = 0; i < rings && budget > 0; i++) {
            records += ring_drain_slot(rs, s, i, now_ns, &budget);
        }
        if (ring_seg_still_reader(rs, s, now_ns)) {
            ring_seg_reclaim(rs, s, now_ns);
            s->beat_ns = now_ns;
        }
    }
    ring_sync_facts(s, now_ns, false);
    /* Every ring read to its head after now_ns: each record dated before now_ns was read (a
     * thread publishes a record before it goes on to anything a probe could see). Events of
     * the probes of the same threads wait for this. Not when a record waits for its name. */
    if (budget > 0 && !s->strings_starved && s->base != NULL && !s->exited) {
        store_proc_own_time(s->proc, now_ns);
    }
    if (ring_seg_faulted(s)) {
        ring_seg_truncated(rs, s, now_ns);
    }
    store_proc_add_events(s->proc, records);
    rs->stats.records += records;
    return records;
}

/* Become the segment's reader if nobody live is. On a fresh claim the rings hold events of
 * an earlier reader's session (or nothing): skip them. A hand-off (the SDK found our pid in
 * NCTOP_READER) keeps them: they are this run's first events. A negative reader_pid is a
 * stalled reader: ours is taken back, another one's is taken over once it is dead or its
 * heartbeat is stale. */
static void ring_claim_reader(struct ring_source *rs, struct ring_seg *s, uint64_t now_ns)
{
    int32_t cur = atomic_load_explicit(&s->hdr->reader_pid, memory_order_acquire);
    uint64_t beat = atomic_load_explicit(&s->hdr->reader_heartbeat_ns, memory_order_relaxed);
    int32_t owner = cur == INT32_MIN ? 0 : cur < 0 ? -cur : cur;
    uint64_t over = 0;
    uint32_t rings;

    if (owner == rs->self_pid) {
        if (cur != rs->self_pid) {
            atomic_compare_exchange_strong(&s->hdr->reader_pid, &cur, rs->self_pid);
        }
        /* Handed to us (NCTOP_READER) when it was created: its events were never off. */
        s->from_start = s->from_start || (!s->reader && cur == rs->self_pid);
        s->reader = true;
        return;
    }
    if (owner != 0 && util_pid_alive(owner) && now_ns - beat < NCTOP_SEG_READER_TIMEOUT_NS) {
        char why[96];

        snprintf(why, sizeof(why), "events are read by another nctop (pid %d)", (int)owner);
        store_proc_set_state(s->proc, STORE_PROC_LIVE, why, now_ns);
        return;
    }
    ring_heartbeat(s, now_ns);
    if (!atomic_compare_exchange_strong(&s->hdr->reader_pid, &cur, rs->self_pid)) {
        return;
    }
    rings = ring_clamp_count(atomic_load_explicit(&s->hdr->rings_count, memory_order_acquire),
                             s->lay.rings_hdr, s->lay.rings_max, &over);
    for (uint32_t i = 0; i < rings; i++) {
        struct nctop_seg_ring *r = ring_slot(s, i);

        atomic_store_explicit(&r->tail, atomic_load_explicit(&r->head, memory_order_acquire),
                              memory_order_release);
    }
    /* Skipped, or read by another nctop: the threads we knew may be anywhere in their span
     * stacks (the ones not seen yet resync when first seen, ring_slot_claimed). */
    for (uint32_t i = 0; i < s->lay.rings_max; i++) {
        s->slots[i].resync = true;
    }
    s->reader = true;
    s->beat_ns = now_ns;
    store_proc_set_state(s->proc, STORE_PROC_LIVE, NULL, now_ns);
}

static void ring_seg_unmap(struct ring_seg *s)
{
    if (s->base != NULL) {
        safemap_remove(s->map);
        s->map = -1;
        munmap(s->base, s->size);
        s->base = NULL;
        s->hdr = NULL;
    }
    if (s->fd >= 0) {
        close(s->fd);
        s->fd = -1;
    }
}

static void ring_seg_path(char *buf, size_t len, int32_t pid)
{
    snprintf(buf, len, NCTOP_SEG_DIR "/" NCTOP_SEG_FILE_PREFIX "%d", (int)pid);
}

/* Remove the segment file if it is still the one we knew. */
static void ring_seg_unlink(const struct ring_seg *s)
{
    char path[64];
    struct stat st;

    ring_seg_path(path, sizeof(path), s->pid);
    if (stat(path, &st) == 0 && st.st_ino == s->ino && st.st_dev == s->dev) {
        unlink(path);
    }
}

/* The workload is gone: read what it left, mark it exited, remove its file if it is still
 * there (a crash, or the SDK left it to us), unmap. */
static void ring_seg_finish(struct ring_source *rs, struct ring_seg *s, uint64_t now_ns,
                            const char *reason)
{
    if (s->exited) {
        return;
    }
    if (s->base != NULL) {
        /* A file cut to below a page reads as zeros there, touching nothing that faults:
         * only its size tells. */
        ring_drain_seg(rs, s, now_ns, true);
        if (s->exited) {
            return; /* it was truncated: an error row now */
        }
        ring_sync_facts(s, now_ns, true);
        /* Read to the end: the probes' events of its threads may still come, after. */
        store_proc_own_source(s->proc, false);
        for (uint32_t i = 0; i < s->lay.rings_max; i++) {
            if (s->slots[i].thread != NULL) {
                /* Spans open when a process dies were in flight, not left open by a bug. */
                store_thread_gap(s->slots[i].thread);
                store_thread_unshare(s->slots[i].thread, STORE_SRC_OWN, now_ns);
                s->slots[i].thread = NULL;
            }
        }
    }
    s->exited = true;
    s->exited_ns = now_ns;
    if (ring_seg_faulted(s)) {
        store_proc_add_invalid(s->proc, 1, "segment truncated while attached");
        store_proc_set_state(s->proc, STORE_PROC_ERROR, "segment truncated while attached", now_ns);
    } else {
        store_proc_set_state(s->proc, STORE_PROC_EXITED, reason, now_ns);
    }
    ring_seg_unlink(s);
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

/* A pid the user named (-p, or the command nctop started): its row is never aged out. */
static bool ring_pid_named(const struct ring_source *rs, int32_t pid)
{
    if (pid == rs->opts.root_pid) {
        return true;
    }
    for (size_t i = 0; i < rs->opts.npids; i++) {
        if (rs->opts.pids[i] == pid) {
            return true;
        }
    }
    return false;
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

static void ring_seg_free(struct ring_seg *s)
{
    ring_seg_unmap(s);
    free(s->idmap);
    free(s->slots);
    free(s);
}

/* Whether the process of an exited or refused segment is gone (or its pid reused). */
static bool ring_seg_dead(const struct ring_seg *s)
{
    return !util_pid_alive(s->pid) || util_proc_start_ticks(s->pid, NULL) != s->start_ticks;
}

/* Forget segment i: its store row goes too (unless a recording needs it: then it stays).
 * Returns false when it has to stay. */
static bool ring_forget(struct ring_source *rs, size_t i, uint64_t now_ns)
{
    struct ring_seg *s = rs->segs[i];

    if (s->proc != NULL && store_proc_remove(s->proc, now_ns) != 0) {
        return false;
    }
    ring_seg_free(s);
    memmove(&rs->segs[i], &rs->segs[i + 1], (rs->nsegs - i - 1) * sizeof(*rs->segs));
    rs->nsegs--;
    rs->stats.forgotten++;
    return true;
}

/* Age out exited workloads: after the store's exited_keep_ns, or at once (oldest first)
 * when room is needed for a new segment. Named pids stay, as do refused segments of live
 * processes (their file is still there: forgetting would only refuse them again). Returns
 * whether a slot is free. */
static bool ring_age_out(struct ring_source *rs, uint64_t now_ns, bool need_room)
{
    uint64_t keep = store_config(rs->store)->exited_keep_ns;
    size_t oldest = SIZE_MAX;

    for (size_t i = 0; i < rs->nsegs;) {
        struct ring_seg *s = rs->segs[i];

        if (!s->exited || ring_pid_named(rs, s->pid) || !ring_seg_dead(s)) {
            i++;
            continue;
        }
        if (now_ns - s->exited_ns >= keep && ring_forget(rs, i, now_ns)) {
            continue;
        }
        if (oldest == SIZE_MAX || s->exited_ns < rs->segs[oldest]->exited_ns) {
            oldest = i;
        }
        i++;
    }
    if (rs->nsegs < rs->max_segs) {
        return true;
    }
    return need_room && oldest != SIZE_MAX && ring_forget(rs, oldest, now_ns);
}

/* Keep a record (and an error row) of a refused segment so the user sees why, and so it is
 * not refused again at every scan. */
static void ring_keep_refused(struct ring_source *rs, int32_t pid, const struct stat *st,
                              const char *why, uint64_t now_ns)
{
    struct ring_seg *s = xcalloc(1, sizeof(*s));
    char label[32];

    s->pid = pid;
    s->dev = st->st_dev;
    s->ino = st->st_ino;
    s->uid = st->st_uid;
    s->start_ticks = util_proc_start_ticks(pid, NULL);
    s->fd = -1;
    s->map = -1;
    s->exited = true;
    s->exited_ns = now_ns;
    snprintf(label, sizeof(label), "pid %d", (int)pid);
    s->proc = store_proc_add(rs->store, pid, label);
    store_proc_set_state(s->proc, STORE_PROC_ERROR, why, now_ns);
    store_proc_add_invalid(s->proc, 1, why);
    if (rs->nsegs == rs->capsegs) {
        rs->capsegs = rs->capsegs ? rs->capsegs * 2 : 8;
        rs->segs = xreallocarray(rs->segs, rs->capsegs, sizeof(*rs->segs));
    }
    rs->segs[rs->nsegs++] = s;
}

/* The store process of a newly attached segment of pid, started at start_ticks: the one
 * another source made for that same process (the eBPF collector watching a command before it
 * published, or after it ended), else a new one. One process, one row, however its sources
 * came in. */
static struct store_proc *ring_proc_for(struct ring_source *rs, int32_t pid, uint64_t start_ticks)
{
    struct store_proc *p = store_proc_find(rs->store, pid);
    uint64_t theirs = p != NULL ? store_proc_start_ticks(p) : 0;
    bool same = theirs != 0 && theirs == start_ticks;

    if (p != NULL && (same || (theirs == 0 && store_proc_state(p) == STORE_PROC_LIVE))) {
        for (size_t i = 0; i < rs->nsegs; i++) {
            if (rs->segs[i]->proc == p) {
                p = NULL; /* another segment's: not for this one */
                break;
            }
        }
        if (p != NULL) {
            store_proc_set_start_ticks(p, start_ticks);
            return p;
        }
    }
    p = store_proc_add(rs->store, pid, "");
    store_proc_set_start_ticks(p, start_ticks);
    return p;
}

/* Try to attach /dev/shm/nctop-<pid>. Returns quietly when it is not ready yet. */
static void ring_try_attach(struct ring_source *rs, int32_t pid, uint64_t now_ns)
{
    char path[64], whybuf[160];
    struct nctop_seg_header copy;
    struct stat st;
    struct ring_seg *s = NULL;
    const char *why = NULL;
    bool alive, handed;
    void *base = MAP_FAILED;
    int fd = -1, map = -1;

    ring_seg_path(path, sizeof(path), pid);
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
    alive = util_pid_alive(pid);
    if (st.st_size == 0) {
        if (!alive) {
            /* Its creator died between creating and sizing it. */
            unlink(path);
            rs->stats.stale_removed++;
        }
        goto out; /* created, not yet sized: look again at the next scan */
    }
    if ((uint64_t)st.st_size < 4096 || (uint64_t)st.st_size > NCTOP_SEG_MAX_BYTES) {
        if (!alive) {
            unlink(path);
            rs->stats.stale_removed++;
            goto out;
        }
        why = "segment size out of bounds";
        goto refuse;
    }
    base = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (base == MAP_FAILED) {
        why = "cannot map the segment";
        goto refuse;
    }
    /* From here a read can fault (the file may shrink at any time): register first. */
    map = safemap_add(base, (size_t)st.st_size);
    if (map < 0) {
        rs->limit_refused++;
        rs->stats.refused_limit++;
        goto out;
    }
    memcpy(&copy, base, sizeof(copy));
    atomic_thread_fence(memory_order_acquire);
    if (safemap_faulted(map)) {
        goto out; /* cut short while we looked: look again at the next scan */
    }
    why = ring_header_check(&copy, (size_t)st.st_size, pid, whybuf, sizeof(whybuf));
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
    if (!alive && !handed) {
        /* A stale segment (valid or not): its workload died without removing it. */
        unlink(path);
        rs->stats.stale_removed++;
        diag_debug("removed stale segment %s", path);
        goto out;
    }
    if (why == NULL && alive && !handed && copy.start_ticks != util_proc_start_ticks(pid, NULL)) {
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
    if (rs->nsegs >= rs->max_segs && !ring_age_out(rs, now_ns, true)) {
        rs->limit_refused++;
        rs->stats.refused_limit++;
        goto out;
    }
    if (why != NULL) {
        /* Refused: keep a record and an error row so the user sees why. */
        ring_keep_refused(rs, pid, &st, why, now_ns);
        rs->stats.refused++;
        ring_seg_note(rs, "%s: %s", path, why);
        goto out;
    }

    s = xcalloc(1, sizeof(*s));
    s->rs = rs;
    s->pid = pid;
    s->dev = st.st_dev;
    s->ino = st.st_ino;
    s->uid = st.st_uid;
    s->fd = fd;
    s->map = map;
    s->size = (size_t)st.st_size;
    s->base = base;
    s->hdr = base;
    ring_layout_init(&s->lay, &copy);
    s->start_ticks = copy.start_ticks;
    s->size_ns = now_ns;
    s->strings_budget = RING_STRINGS_PER_DRAIN;
    s->slots = xcalloc(s->lay.rings_max ? s->lay.rings_max : 1, sizeof(*s->slots));
    if (rs->nsegs == rs->capsegs) {
        rs->capsegs = rs->capsegs ? rs->capsegs * 2 : 8;
        rs->segs = xreallocarray(rs->segs, rs->capsegs, sizeof(*rs->segs));
    }
    rs->segs[rs->nsegs++] = s;

    s->proc = ring_proc_for(rs, pid, s->start_ticks);
    store_proc_own_source(s->proc, true);
    /* Which clock its events were stamped with (the snapshot's "clock"). */
    store_attr_set(
        s->proc, store_proc_intern(s->proc, RING_CLOCK_ATTR),
        store_proc_intern(s->proc, s->lay.clock == NCTOP_SEG_CLOCK_TSC ? "tsc" : "monotonic"));
    ring_sync_label(s);
    ring_sync_strings(s);
    ring_claim_reader(rs, s, now_ns);
    ring_sync_facts(s, now_ns, true);
    rs->stats.attached++;
    diag_debug("attached %s (reader %d)", path, (int)s->reader);
    if (ring_seg_faulted(s)) {
        ring_seg_truncated(rs, s, now_ns);
    } else if (!alive) {
        ring_seg_finish(rs, s, now_ns, NULL);
    }
    return;

refuse:
    rs->stats.refused++;
    ring_seg_note(rs, "%s: %s", path, why);
out:
    if (base != MAP_FAILED) {
        safemap_remove(map);
        munmap(base, (size_t)st.st_size);
    }
    if (fd >= 0) {
        close(fd);
    }
}

/* The "(segment limit)" row: how many workloads the last scan could not attach. It goes
 * away when the limit no longer bites. */
static void ring_limit_row(struct ring_source *rs, uint64_t now_ns)
{
    char why[160];

    if (rs->limit_refused == 0) {
        if (rs->limit_proc != NULL && store_proc_remove(rs->limit_proc, now_ns) == 0) {
            rs->limit_proc = NULL;
        }
        return;
    }
    if (rs->limit_proc == NULL) {
        rs->limit_proc = store_proc_add(rs->store, 0, RING_LIMIT_LABEL);
    }
    snprintf(why, sizeof(why), "too many segments: %llu workload(s) not attached (limit %zu)",
             (unsigned long long)rs->limit_refused, rs->max_segs);
    store_proc_set_state(rs->limit_proc, STORE_PROC_ERROR, why, now_ns);
    ring_seg_note(rs, "%s", why);
}

struct ring_source *ring_source_new(struct store *st, const struct ring_source_opts *opts)
{
    struct ring_source *rs = xcalloc(1, sizeof(*rs));

    rs->store = st;
    if (opts != NULL) {
        rs->opts = *opts;
    }
    rs->max_segs = rs->opts.max_segments != 0 && rs->opts.max_segments < RING_MAX_SEGMENTS
                       ? rs->opts.max_segments
                       : RING_MAX_SEGMENTS;
    rs->self_pid = (int32_t)getpid();
    rs->euid = geteuid();
    safemap_hold();
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
        ring_seg_free(s);
    }
    free(rs->segs);
    free(rs->mbuf);
    matrix_unref(rs->mscratch);
    free(rs);
    safemap_release();
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
        if (ring_seg_dead(s)) {
            ring_seg_finish(rs, s, now_ns, NULL);
        } else if (!s->reader) {
            ring_claim_reader(rs, s, now_ns);
            if (ring_seg_faulted(s)) {
                ring_seg_truncated(rs, s, now_ns);
            }
        }
    }
    ring_age_out(rs, now_ns, false);

    dir = opendir(NCTOP_SEG_DIR);
    if (dir == NULL) {
        ring_seg_note(rs, "cannot read " NCTOP_SEG_DIR ": %s", strerror(errno));
        return;
    }
    rs->limit_refused = 0;
    while ((de = readdir(dir)) != NULL) {
        uint64_t pid;

        if (strncmp(de->d_name, NCTOP_SEG_FILE_PREFIX, prefix) != 0 ||
            util_parse_u64(de->d_name + prefix, 1, INT32_MAX, &pid) != 0) {
            continue;
        }
        ring_try_attach(rs, (int32_t)pid, now_ns);
    }
    closedir(dir);
    ring_limit_row(rs, now_ns);
}

uint64_t ring_source_drain(struct ring_source *rs, uint64_t now_ns)
{
    uint64_t records = 0;

    rs->fill = 0.0;

    for (size_t i = 0; i < rs->nsegs; i++) {
        struct ring_seg *s = rs->segs[i];

        if (s->base != NULL && !s->exited) {
            records += ring_drain_seg(rs, s, now_ns, false);
        }
    }
    return records;
}

double ring_source_fill(const struct ring_source *rs)
{
    return rs->fill;
}

void ring_cadence_init(struct ring_cadence *c)
{
    c->peak = 0.0;
    c->period_ms = RING_DRAIN_MIN_MS;
}

uint64_t ring_cadence_next(struct ring_cadence *c, uint64_t elapsed_ns, double fill)
{
    double elapsed_ms = (double)elapsed_ns / 1e6, ms;

    if (c->period_ms < RING_DRAIN_MIN_MS) {
        c->period_ms = RING_DRAIN_MIN_MS;
    }
    if (elapsed_ms > 0.0) {
        double rate = fill > 0.0 ? fill / elapsed_ms : 0.0;

        c->peak *= exp2(-elapsed_ms / RING_PEAK_HALF_LIFE_MS);
        if (rate > c->peak) {
            c->peak = rate;
        }
    }
    if (c->peak > 0.0) {
        ms = RING_FILL_TARGET / c->peak;
        if (ms > (double)c->period_ms * 2.0) {
            ms = (double)c->period_ms * 2.0; /* grow gently */
        }
    } else {
        ms = (double)c->period_ms * 2.0; /* nothing came: look less often */
    }
    if (ms < RING_DRAIN_MIN_MS) {
        ms = RING_DRAIN_MIN_MS;
    }
    c->period_ms = ms > RING_DRAIN_MAX_MS ? RING_DRAIN_MAX_MS : (uint64_t)ms;
    return c->period_ms;
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
    out->remembered = rs->nsegs;
    out->max_segments = rs->max_segs;
}

const char *ring_clock_in_use(const char **why)
{
    const char *env = getenv("NCTOP_CLOCK");
    const char *no = env != NULL && strcmp(env, "monotonic") == 0 ? "NCTOP_CLOCK=monotonic"
                                                                  : nctop_seg_tsc_unusable();

    if (why != NULL) {
        *why = no;
    }
    return no == NULL ? "tsc" : "monotonic";
}

/* --- the source ---------------------------------------------------------------------------- */

#define RING_SCAN_MS 500     /* look for new workloads and dead ones */
#define RING_SCAN_FAST_MS 20 /* ... while a started command has not published yet */

struct ring_collector {
    struct ring_source *rs;
    int32_t child; /* the started command, until its segment is attached */
    uint64_t last_scan_ns;
    uint64_t last_drain_ns;
    struct ring_cadence cadence;
};

static void *ring_collector_start(const struct collector_env *env, uint64_t now_ns, char **err)
{
    struct ring_collector *c = xcalloc(1, sizeof(*c));
    struct ring_source_opts o = {0};

    (void)err;
    if (env->child_pid > 0) {
        o.root_pid = env->child_pid;
    } else {
        o.pids = env->cfg->pids;
        o.npids = env->cfg->npids;
    }
    c->rs = ring_source_new(env->store, &o);
    c->child = env->child_pid;
    ring_source_scan(c->rs, now_ns);
    c->last_scan_ns = now_ns;
    c->last_drain_ns = now_ns;
    ring_cadence_init(&c->cadence);
    return c;
}

static void ring_collector_stop(void *self)
{
    struct ring_collector *c = self;

    if (c != NULL) {
        ring_source_free(c->rs);
        free(c);
    }
}

/* Drain every ring at the period their fill asks for (ring_cadence_next); scan for new and
 * dead workloads every RING_SCAN_MS, and often while the command nctop started has not
 * published yet (it does within milliseconds). */
static uint64_t ring_collector_run(void *self, uint64_t now_ns)
{
    struct ring_collector *c = self;
    uint64_t every = RING_SCAN_MS, ms;

    if (c->child > 0) {
        if (ring_source_has_pid(c->rs, c->child)) {
            c->child = 0;
        } else {
            every = RING_SCAN_FAST_MS;
        }
    }
    if (now_ns - c->last_scan_ns >= every * UTIL_NS_PER_MS) {
        ring_source_scan(c->rs, now_ns);
        c->last_scan_ns = now_ns;
    }
    ring_source_drain(c->rs, now_ns);
    ms = ring_cadence_next(&c->cadence, now_ns - c->last_drain_ns, ring_source_fill(c->rs));
    c->last_drain_ns = now_ns;
    return c->child > 0 && ms > RING_SCAN_FAST_MS ? RING_SCAN_FAST_MS : ms;
}

static void ring_collector_flush(void *self, uint64_t now_ns)
{
    struct ring_collector *c = self;

    ring_source_drain(c->rs, now_ns);
    c->last_drain_ns = now_ns; /* the next run's fill is over the time since this drain */
}

static void ring_collector_child_exited(void *self, int32_t pid, uint64_t now_ns,
                                        const char *reason)
{
    struct ring_collector *c = self;

    c->child = 0;
    /* Read what it left: the SDK leaves its segment to us (NCTOP_READER). */
    ring_source_proc_exited(c->rs, pid, now_ns, reason);
}

static bool ring_collector_has_child(const void *self, int32_t pid)
{
    const struct ring_collector *c = self;

    return ring_source_has_pid(c->rs, pid);
}

const struct collector_ops ring_collector = {
    .name = "ring",
    .start = ring_collector_start,
    .stop = ring_collector_stop,
    .run = ring_collector_run,
    .flush = ring_collector_flush,
    .child_exited = ring_collector_child_exited,
    .has_child = ring_collector_has_child,
};
