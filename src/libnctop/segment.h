/* SPDX-License-Identifier: MIT */
/* The shared-memory segment ABI between libnctop (the writer, inside the workload) and nctop
 * (the reader). Both sides include this header; every layout change bumps the ABI version. */
#ifndef NCTOP_LIBNCTOP_SEGMENT_H
#define NCTOP_LIBNCTOP_SEGMENT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Layout of /dev/shm/nctop-<pid> (all offsets from the start of the mapping, all regions
 * 64-byte aligned, the file is sparse so untouched rings cost nothing):
 *
 *   struct nctop_seg_header                      one page
 *   uint32_t  string offsets[strings_max]        id -> offset into the string arena
 *   char      string arena[strings_bytes]        entries: uint32_t len, len bytes, NUL,
 *                                                padded to 4 bytes (UTF-8 names)
 *   struct nctop_seg_gauge   gauges[gauges_max]
 *   struct nctop_seg_counter counters[counters_max]
 *   struct nctop_seg_weight  weights[weights_max]
 *   struct nctop_seg_value   values[values_max]       (ABI 4)
 *   struct nctop_seg_attr    attrs[attrs_max]         (ABI 4)
 *   struct nctop_seg_matrix  matrices[matrices_max]   (ABI 6)
 *   rings_max times: struct nctop_seg_ring, then ring_bytes of record data
 *
 * Publication: the SDK fills a table entry, then stores the table's count with release
 * order; the reader loads the count with acquire order and never reads past it. Ids are
 * 1-based (0 means "no name"); string id N is valid when N < strings_count.
 */

#define NCTOP_SEG_MAGIC "NCTOPSG\x01"
#define NCTOP_SEG_MAGIC_LEN 8
/* ABI versions. 2: per-ring dropped_stall, negative reader_pid. 3: request ids (4-word STEP
 * records, NCTOP_STEP_PROMPT_TOKENS); it only adds to 2, so a reader reads both. 4: values
 * and attributes, in a header block appended after version 3's (whose header_bytes is
 * NCTOP_SEG_HEADER_BYTES_V3; a reader takes both). 5: TSC timestamps: a clock block after
 * version 4's (its header is NCTOP_SEG_HEADER_BYTES_V4), NCTOP_REC_F_TSC on records whose ts
 * is in ticks, reader_heartbeat_tsc. 6: matrices (heatmaps), in a header block after version 5's
 * (whose header is NCTOP_SEG_HEADER_BYTES_V5). */
#define NCTOP_SEG_ABI_VERSION 6
#define NCTOP_SEG_ABI_OLDEST 2          /* the oldest version a reader still reads */
#define NCTOP_SEG_NAME_PREFIX "/nctop-" /* shm_open name: "/nctop-<pid>" */
#define NCTOP_SEG_DIR "/dev/shm"
#define NCTOP_SEG_FILE_PREFIX "nctop-"
#define NCTOP_SEG_LABEL_MAX 64
#define NCTOP_SEG_THREAD_NAME_MAX 16
#define NCTOP_SEG_NAME_MAX 1024 /* longest interned string, bytes, without the NUL */
#define NCTOP_SEG_CACHELINE 64
#define NCTOP_SEG_MAX_BYTES (4ULL << 30) /* readers refuse bigger segments */

/* A reader whose heartbeat is older than this is presumed stalled: the SDK stops writing
 * events, counts each one it does not write (nctop_seg_ring.dropped_stall) and marks the
 * reader stalled (reader_pid = -pid). A reader silent for NCTOP_SEG_READER_GONE_NS is
 * presumed dead: reader_pid becomes 0 and events cost nothing again (nor are counted). */
#define NCTOP_SEG_READER_TIMEOUT_NS (5ULL * 1000000000ULL)
#define NCTOP_SEG_READER_GONE_NS (60ULL * 1000000000ULL)

/* Defaults chosen by the SDK; the reader takes the real values from the header. */
#define NCTOP_SEG_DEFAULT_STRINGS_MAX 65536
#define NCTOP_SEG_DEFAULT_STRINGS_BYTES (4U << 20)
#define NCTOP_SEG_DEFAULT_GAUGES_MAX 1024
#define NCTOP_SEG_DEFAULT_COUNTERS_MAX 8192 /* per-core counters of a neuromorphic chip */
#define NCTOP_SEG_DEFAULT_VALUES_MAX 4096
#define NCTOP_SEG_DEFAULT_ATTRS_MAX 64
#define NCTOP_SEG_DEFAULT_MATRICES_MAX 8 /* matrices a process may register (ABI 6) */
#define NCTOP_SEG_DEFAULT_WEIGHTS_MAX 65536
#define NCTOP_SEG_DEFAULT_RINGS_MAX 64
#define NCTOP_SEG_DEFAULT_RING_BYTES (2U << 20) /* per thread; power of two */
#define NCTOP_SEG_MIN_RING_BYTES 4096U
#define NCTOP_SEG_MAX_RING_BYTES (256U << 20)

/* Ring slot states (struct nctop_seg_ring.state). */
enum nctop_seg_ring_state {
    NCTOP_SEG_RING_FREE = 0,    /* nobody owns it; may be claimed */
    NCTOP_SEG_RING_ACTIVE = 1,  /* owned by a live thread (tid) */
    NCTOP_SEG_RING_RETIRED = 2, /* its thread exited; the reader drains it, then frees it */
};

/* Record types (struct nctop_rec.type). */
enum nctop_rec_type {
    NCTOP_REC_PAD = 0,        /* filler up to the end of the ring's data; skip it */
    NCTOP_REC_SPAN_BEGIN = 1, /* id = name, ts_ns = begin; 2 words */
    NCTOP_REC_SPAN_END = 2,   /* id = name, ts_ns = end; 2 words, or 3 with arg[0] = status:
                               * 0 ok, else the string id of the error (ABI 4) */
    NCTOP_REC_KERNEL = 3,     /* id = name, ts_ns = start, arg[0] = duration ns,
                               * arg[1] = backend string id; 4 words */
    NCTOP_REC_MEM_DELTA = 4,  /* id = 0, ts_ns, arg[0] = (int64_t) bytes; 3 words */
    NCTOP_REC_STEP = 5,       /* id = enum nctop_step_kind, ts_ns, arg[0] = n; 3 words, or
                               * 4 with arg[1] = request id (3 words: request 0; ABI 3) */
    NCTOP_REC_SPAN_ATTR = 6,  /* id = key string id, ts_ns, arg[0] = value string id: an
                               * attribute of the thread's innermost open span; 3 words (ABI 4) */
    NCTOP_REC_TYPE_MAX = 7,
};

/* Record flags (struct nctop_rec.flags). */
#define NCTOP_REC_F_GAP 0x01 /* events of this thread were dropped just before this one */
#define NCTOP_REC_F_TSC 0x02 /* ts_ns holds TSC ticks, not ns (segment clock TSC; ABI 5) */

/*
 * The clock of record timestamps (struct nctop_seg_header.clock, ABI 5; before: MONOTONIC).
 *
 * MONOTONIC: every ts_ns is CLOCK_MONOTONIC ns. TSC: records the SDK stamps itself (all but
 * KERNEL) carry rdtsc ticks and NCTOP_REC_F_TSC; records with caller-given times (KERNEL,
 * whose start comes from nctop_now_ns() or the caller's CLOCK_MONOTONIC) carry ns and no flag.
 * The SDK uses the TSC only where the kernel itself trusts it: x86-64, constant_tsc and
 * nonstop_tsc in /proc/cpuinfo, clocksource "tsc" (NCTOP_CLOCK=monotonic forces MONOTONIC).
 *
 * Calibration: pairs (rdtsc, CLOCK_MONOTONIC ns) read back to back, the best of three
 * brackets, the tick at the middle of the clock read. calib_base is taken at creation, before
 * the segment is published, and never changes; calib_last at least NCTOP_SEG_CALIB_MIN_NS
 * later, also before publication, then refreshed by the event path: the first event of any
 * thread after NCTOP_SEG_CALIB_FIRST_NS takes a new pair, and the period doubles up to
 * NCTOP_SEG_CALIB_PERIOD_NS (the slope's error shrinks as the pairs part, so the error of an
 * extrapolation over one period stays near that of one pair, tens of ns, from the start). It takes
 * no lock (a thread that loses the compare-and-swap of calib_seq skips the refresh) and makes no
 * system call (with clocksource tsc, CLOCK_MONOTONIC is read in the vDSO). calib_seq is a sequence
 * lock: odd while calib_last is rewritten; a reader reads seq, the pair, seq again, and keeps the
 * pair only when both reads are equal and even.
 *
 * The reader converts ticks t with the slope between the two pairs, anchored at the latest:
 * ns = last.mono_ns + (t - last.tsc) * mult >> 32, mult = 2^32 * dns / dticks (one division
 * per new pair, none per record). A calibration whose rate is outside NCTOP_SEG_TSC_MIN_HZ..
 * NCTOP_SEG_TSC_MAX_HZ, that goes backwards, whose rate moves by more than 1 % between two
 * pairs, or that disagrees with the reader's own clocks, makes the segment an error row; its
 * TSC records are counted as invalid and never shown.
 */
enum nctop_seg_clock {
    NCTOP_SEG_CLOCK_MONOTONIC = 0,
    NCTOP_SEG_CLOCK_TSC = 1,
};
#define NCTOP_SEG_CALIB_MIN_NS 200000ULL       /* calib_last - calib_base at creation */
#define NCTOP_SEG_CALIB_FIRST_NS 1000000ULL    /* the first refresh, after creation */
#define NCTOP_SEG_CALIB_PERIOD_NS 100000000ULL /* then doubling up to this period */
#define NCTOP_SEG_TSC_MIN_HZ 100000000ULL      /* a sane TSC runs at 0.1 to 20 GHz */
#define NCTOP_SEG_TSC_MAX_HZ 20000000000ULL

/* One calibration pair. */
struct nctop_seg_calib {
    _Atomic uint64_t tsc;     /* rdtsc */
    _Atomic uint64_t mono_ns; /* CLOCK_MONOTONIC at that tick */
};

/* One record. Records are 8-byte aligned; `words` counts 8-byte words including this
 * 16-byte header, so a record is at least 2 words. A record never wraps around the end of
 * the ring: the producer writes a PAD record over the remainder instead. Exception: when only
 * 8 bytes remain before the end of the ring's data, that PAD is 1 word (only type, flags and
 * words are written); a reader skips words * 8 bytes of any PAD. */
struct nctop_rec {
    uint8_t type;   /* enum nctop_rec_type */
    uint8_t flags;  /* NCTOP_REC_F_* */
    uint16_t words; /* length in 8-byte words, >= 2 */
    uint32_t id;    /* string id or kind, see the type */
    uint64_t ts_ns; /* CLOCK_MONOTONIC ns, or TSC ticks with NCTOP_REC_F_TSC */
    uint64_t arg[]; /* words - 2 payload words */
};

/* The header, the first page of the segment. Fields in the first block never change after
 * the segment is published (magic is written last at creation). */
struct nctop_seg_header {
    char magic[NCTOP_SEG_MAGIC_LEN]; /* NCTOP_SEG_MAGIC */
    uint32_t abi_version;            /* NCTOP_SEG_ABI_VERSION */
    uint32_t header_bytes;           /* sizeof(struct nctop_seg_header) */
    uint64_t segment_bytes;          /* size of the whole mapping */
    int32_t pid;                     /* the workload process */
    uint32_t uid;                    /* its effective uid at creation */
    uint64_t start_ticks;            /* /proc/<pid>/stat starttime: tells a reused pid */
    uint64_t created_mono_ns;        /* CLOCK_MONOTONIC at creation */
    uint64_t created_real_ns;        /* CLOCK_REALTIME at creation */

    uint64_t stroff_off;    /* offset of uint32_t offsets[strings_max] */
    uint64_t strings_off;   /* offset of the string arena */
    uint64_t gauges_off;    /* offset of struct nctop_seg_gauge[gauges_max] */
    uint64_t counters_off;  /* offset of struct nctop_seg_counter[counters_max] */
    uint64_t weights_off;   /* offset of struct nctop_seg_weight[weights_max] */
    uint64_t rings_off;     /* offset of ring slot 0 */
    uint64_t ring_stride;   /* bytes from one ring slot to the next */
    uint32_t strings_max;   /* capacity of the offset table (ids 1..strings_max-1) */
    uint32_t strings_bytes; /* capacity of the arena */
    uint32_t gauges_max;
    uint32_t counters_max;
    uint32_t weights_max;
    uint32_t rings_max;
    uint32_t ring_bytes; /* record data bytes per ring, a power of two */
    uint32_t reserved0;

    /* Mutable by the SDK (registration path, under its lock; counts with release order). */
    _Alignas(NCTOP_SEG_CACHELINE) char label[NCTOP_SEG_LABEL_MAX]; /* NUL-terminated */
    _Atomic uint32_t label_seq;     /* odd while the label is being rewritten */
    _Atomic uint32_t strings_count; /* next string id; ids 1..count-1 are published */
    _Atomic uint32_t strings_used;  /* arena bytes used */
    _Atomic uint32_t gauges_count;  /* gauges[0..count-1] are published */
    _Atomic uint32_t counters_count;
    _Atomic uint32_t weights_count;
    _Atomic uint32_t rings_count; /* high-water mark of ring slots ever claimed */
    _Atomic uint32_t reserved1;
    _Atomic uint64_t dropped_no_ring;   /* events dropped: no free ring slot */
    _Atomic uint64_t registration_full; /* registrations refused: a table was full */

    /* Written by the reader; read by the SDK on the event path. Its own cache line. */
    /* 0: nobody, events off; > 0: the reader's pid; < 0: -pid of a stalled reader (events
     * are not written but counted as dropped_stall until it drains again or is gone). */
    _Alignas(NCTOP_SEG_CACHELINE) _Atomic int32_t reader_pid;
    uint32_t reserved2;
    _Atomic uint64_t reader_heartbeat_ns; /* CLOCK_MONOTONIC of the reader's last drain */
    /* ABI 5 (in the line's padding, so that the offsets of version 4 stay): rdtsc at the
     * reader's last drain, stored with reader_heartbeat_ns when the clock is TSC. The event
     * path of a TSC segment compares with this one: both sides in ticks, no conversion. */
    _Atomic uint64_t reader_heartbeat_tsc;

    /* ABI 4: the layout of the values and attributes (never changes), then their counts. */
    _Alignas(NCTOP_SEG_CACHELINE) uint64_t values_off; /* struct nctop_seg_value[values_max] */
    uint64_t attrs_off;                                /* struct nctop_seg_attr[attrs_max] */
    uint32_t values_max;
    uint32_t attrs_max;
    _Atomic uint32_t values_count;
    _Atomic uint32_t attrs_count;

    /* ABI 5: the clock of record timestamps (see enum nctop_seg_clock). clock and calib_base
     * never change after publication; calib_last is refreshed under calib_seq. */
    _Alignas(NCTOP_SEG_CACHELINE) uint32_t clock; /* enum nctop_seg_clock */
    _Atomic uint32_t calib_seq;                   /* even: calib_last is whole */
    struct nctop_seg_calib calib_base;            /* at creation */
    struct nctop_seg_calib calib_last;            /* the latest pair */

    /* ABI 6: the matrices (never changes), then their count (release order, registration). */
    _Alignas(NCTOP_SEG_CACHELINE) uint64_t matrices_off; /* struct nctop_seg_matrix[max] */
    uint32_t matrices_max;
    _Atomic uint32_t matrices_count;
};

/* The header of ABI 3 ends where version 4's block begins, version 4's where 5's does. */
#define NCTOP_SEG_HEADER_BYTES_V3 offsetof(struct nctop_seg_header, values_off)
#define NCTOP_SEG_HEADER_BYTES_V4 offsetof(struct nctop_seg_header, clock)
#define NCTOP_SEG_HEADER_BYTES_V5 offsetof(struct nctop_seg_header, matrices_off)

/* A memory gauge. The SDK stores used/capacity/peak with relaxed order from any thread. */
struct nctop_seg_gauge {
    uint32_t name_id; /* string id */
    uint16_t kind;    /* enum nctop_mem_kind (nctop.h) */
    uint16_t flags;   /* NCTOP_MEM_* flags (nctop.h) */
    _Atomic uint64_t used_bytes;
    _Atomic uint64_t capacity_bytes; /* 0 when the gauge has no capacity */
    _Atomic uint64_t peak_bytes;     /* largest used_bytes seen */
};

/* A monotonic counter (tokens, spikes, ...). */
struct nctop_seg_counter {
    uint32_t name_id;
    uint32_t flags;
    _Atomic uint64_t value;
};

/* One registered weight tensor: a dotted path ("layers.3.mlp.up_proj") and its bytes. */
struct nctop_seg_weight {
    uint32_t path_id;
    uint32_t flags;         /* NCTOP_MEM_* flags */
    _Atomic uint64_t bytes; /* 0 when unregistered */
};

/* A floating-point value (ABI 4): name and unit string ids (unit 0: none) and the bits of
 * the IEEE 754 double, stored with relaxed order from any thread; NCTOP_SEG_VALUE_UNSET (a
 * NaN no set stores) until the first set. */
#define NCTOP_SEG_VALUE_UNSET 0x7ff80000deadbeefULL
struct nctop_seg_value {
    uint32_t name_id;
    uint32_t unit_id;
    _Atomic uint64_t bits;
};

/* A process attribute (ABI 4): key and value string ids; value 0 means unset. */
struct nctop_seg_attr {
    uint32_t key_id;
    _Atomic uint32_t value_id;
};

/*
 * A matrix (ABI 6): a snapshot of up to NCTOP_SEG_MATRIX_DIM_MAX x NCTOP_SEG_MATRIX_DIM_MAX
 * floats with a label per row and per column, that each publication replaces whole.
 *
 * Double buffer under a sequence count. seq is even when no publication is under way, and the
 * buffer of the latest one is buf[(seq / 2) & 1]. A publisher (any thread; one at a time: a
 * second one while busy is 1 gets -EBUSY and is counted in busy_drops, it never waits) sets seq
 * to seq + 1, fills the other buffer, then sets seq + 2 with release order. A reader loads seq
 * (s1, acquire) and copies buf[(s1 / 2) & 1] whole; the copy is good when seq, loaded again after
 * an acquire fence, is at most (s1 & ~1) + 2: the buffer it copied is written again only by the
 * publication after next. Both the buffer's sizes and its entries are read from the copy only.
 */
#define NCTOP_SEG_MATRIX_DIM_MAX 256U
#define NCTOP_SEG_MATRIX_LABEL_MAX 16U /* bytes of a label, its NUL included */

struct nctop_seg_matrix_buf {
    uint32_t rows;  /* 1..NCTOP_SEG_MATRIX_DIM_MAX */
    uint32_t cols;  /* 1..NCTOP_SEG_MATRIX_DIM_MAX */
    uint64_t ts_ns; /* CLOCK_MONOTONIC of the publication */
    char pad0[NCTOP_SEG_CACHELINE - 16];
    char row_labels[NCTOP_SEG_MATRIX_DIM_MAX][NCTOP_SEG_MATRIX_LABEL_MAX]; /* "" = none */
    char col_labels[NCTOP_SEG_MATRIX_DIM_MAX][NCTOP_SEG_MATRIX_LABEL_MAX];
    float values[NCTOP_SEG_MATRIX_DIM_MAX * NCTOP_SEG_MATRIX_DIM_MAX]; /* row-major, rows*cols */
};

struct nctop_seg_matrix {
    uint32_t name_id;      /* string id; written before matrices_count publishes it */
    uint32_t unit_id;      /* string id of the unit, 0: none */
    _Atomic uint32_t busy; /* 1 while a thread publishes */
    uint32_t reserved0;
    _Atomic uint64_t seq;        /* publications * 2, + 1 during one */
    _Atomic uint64_t busy_drops; /* publications refused: another one was under way */
    char pad0[NCTOP_SEG_CACHELINE - 32];
    struct nctop_seg_matrix_buf buf[2];
};

/* A per-thread single-producer single-consumer ring. head and tail count bytes ever written
 * and consumed; the data offset of a position is pos & (ring_bytes - 1). */
struct nctop_seg_ring {
    _Atomic uint32_t state;      /* enum nctop_seg_ring_state */
    _Atomic uint32_t generation; /* bumped at each claim: (slot, generation) = a thread */
    int32_t tid;                 /* owner thread id */
    uint32_t reserved0;
    char name[NCTOP_SEG_THREAD_NAME_MAX]; /* owner thread name, NUL-terminated if shorter */
    char pad0[NCTOP_SEG_CACHELINE - 32];

    _Alignas(NCTOP_SEG_CACHELINE) _Atomic uint64_t head; /* producer: bytes published */
    _Atomic uint64_t dropped;                            /* producer: events dropped (full) */
    _Atomic uint64_t dropped_stall; /* producer: events not written, the reader stalled */
    char pad1[NCTOP_SEG_CACHELINE - 24];

    _Alignas(NCTOP_SEG_CACHELINE) _Atomic uint64_t tail; /* consumer: bytes consumed */
    char pad2[NCTOP_SEG_CACHELINE - 8];
    /* ring_bytes of record data follow (at offset sizeof(struct nctop_seg_ring)) */
};

/* Layout checks: the ABI must not change silently with a compiler or a flag. */
_Static_assert(sizeof(struct nctop_rec) == 16, "record header is 16 bytes");
_Static_assert(sizeof(struct nctop_seg_gauge) == 32, "gauge entry is 32 bytes");
_Static_assert(sizeof(struct nctop_seg_counter) == 16, "counter entry is 16 bytes");
_Static_assert(sizeof(struct nctop_seg_weight) == 16, "weight entry is 16 bytes");
_Static_assert(sizeof(struct nctop_seg_value) == 16, "value entry is 16 bytes");
_Static_assert(sizeof(struct nctop_seg_attr) == 8, "attribute entry is 8 bytes");
_Static_assert(NCTOP_SEG_HEADER_BYTES_V3 == 384, "version 3's header is 384 bytes");
_Static_assert(NCTOP_SEG_HEADER_BYTES_V4 == 448, "version 4's header is 448 bytes");
_Static_assert(offsetof(struct nctop_seg_header, reader_heartbeat_tsc) == 336 &&
                   offsetof(struct nctop_seg_header, calib_seq) == 452 &&
                   offsetof(struct nctop_seg_header, calib_base) == 456 &&
                   offsetof(struct nctop_seg_header, calib_last) == 472,
               "the clock block's offsets (tests/e2e/hostile_segment.sh writes them)");
_Static_assert(NCTOP_SEG_HEADER_BYTES_V5 == 512, "version 5's header is 512 bytes");
_Static_assert(sizeof(struct nctop_seg_matrix_buf) == 64 + 2 * 256 * 16 + 4 * 256 * 256,
               "matrix buffer");
_Static_assert(sizeof(struct nctop_seg_matrix) % NCTOP_SEG_CACHELINE == 0, "matrix slot");
_Static_assert(sizeof(struct nctop_seg_ring) == 3 * NCTOP_SEG_CACHELINE, "ring header");
_Static_assert(sizeof(struct nctop_seg_header) <= 4096, "header fits a page");

#endif /* NCTOP_LIBNCTOP_SEGMENT_H */
