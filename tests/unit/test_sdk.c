/* SPDX-License-Identifier: MIT */
/* libnctop tests. Each case forks a child that is the workload (fresh SDK state, its own
 * options); this process plays nctop, mapping the child's segment through segment.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "nctop.h"
#include "src/libnctop/seg_clock.h"
#include "src/libnctop/segment.h"

#define KID_TIMEOUT_MS 60000

/* --- the child side: a workload talking to the test over two pipes ------------------------ */

struct kid {
    pid_t pid;
    int cmd_w; /* test -> child */
    int ev_r;  /* child -> test */
};

static int kid_cmd_r = -1;
static int kid_ev_w = -1;

/* A failed check in the child ends it with status 1 and says why; the test asserts status 0.
 * (cmocka's own asserts would unwind into the child's copy of the test runner.) */
#define KID_CHECK(cond)                                                                            \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "child %d: %s:%d: check failed: %s\n", (int)getpid(), __FILE__,        \
                    __LINE__, #cond);                                                              \
            _exit(1);                                                                              \
        }                                                                                          \
    } while (0)

/* Every workload pid a case started, so that a failing case leaves no segment behind. */
static pid_t kid_pids[64];
static size_t kid_npids;

static void kid_note_pid(pid_t pid)
{
    if (kid_npids < sizeof(kid_pids) / sizeof(kid_pids[0])) {
        kid_pids[kid_npids++] = pid;
    }
}

static void kid_say(uint64_t v)
{
    KID_CHECK(write(kid_ev_w, &v, sizeof(v)) == (ssize_t)sizeof(v));
}

static uint64_t kid_hear(void)
{
    uint64_t v = 0;

    KID_CHECK(read(kid_cmd_r, &v, sizeof(v)) == (ssize_t)sizeof(v));
    return v;
}

/* Run fn in a child with a clean NCTOP_* environment. The child ends with exit(0), so the
 * SDK's atexit handler runs as in a real program. */
static void kid_start(struct kid *k, void (*fn)(void))
{
    int cmd[2], ev[2];

    assert_int_equal(pipe2(cmd, O_CLOEXEC), 0);
    assert_int_equal(pipe2(ev, O_CLOEXEC), 0);
    fflush(stdout);
    fflush(stderr);
    k->pid = fork();
    assert_true(k->pid >= 0);
    if (k->pid == 0) {
        close(cmd[1]);
        close(ev[0]);
        kid_cmd_r = cmd[0];
        kid_ev_w = ev[1];
        unsetenv("NCTOP_LABEL");
        unsetenv("NCTOP_RING_KB");
        unsetenv("NCTOP_MAX_THREADS");
        unsetenv("NCTOP_DISABLE");
        unsetenv("NCTOP_READER");
        unsetenv("NCTOP_CLOCK");
        fn();
        exit(0);
    }
    kid_note_pid(k->pid);
    close(cmd[0]);
    close(ev[1]);
    k->cmd_w = cmd[1];
    k->ev_r = ev[0];
}

static void kid_send(struct kid *k, uint64_t v)
{
    assert_int_equal(write(k->cmd_w, &v, sizeof(v)), sizeof(v));
}

/* Non-blocking when wait_ms is 0: returns 1 and fills *v when a message was there. */
static int kid_poll(struct kid *k, uint64_t *v, int wait_ms)
{
    struct pollfd pfd = {.fd = k->ev_r, .events = POLLIN};
    int rc = poll(&pfd, 1, wait_ms);

    assert_true(rc >= 0);
    if (rc == 0) {
        return 0;
    }
    assert_int_equal(read(k->ev_r, v, sizeof(*v)), sizeof(*v));
    return 1;
}

static uint64_t kid_recv(struct kid *k)
{
    uint64_t v = 0;

    assert_int_equal(kid_poll(k, &v, KID_TIMEOUT_MS), 1);
    return v;
}

/* Wait for the child and return its exit status (-1 when killed by a signal). */
static int kid_finish(struct kid *k)
{
    int status = 0;

    close(k->cmd_w);
    close(k->ev_r);
    assert_int_equal(waitpid(k->pid, &status, 0), k->pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* --- the reader side: a small decoder written against segment.h -------------------------- */

struct rd {
    struct nctop_seg_header *hdr;
    size_t bytes;
    pid_t pid;
};

/* A decoded record, payload words copied out. */
struct rd_rec {
    unsigned type, flags, words;
    uint32_t id;
    uint64_t ts_ns;
    uint64_t arg[2];
};

static void seg_path(char *buf, size_t size, pid_t pid)
{
    snprintf(buf, size, "%s/%s%d", NCTOP_SEG_DIR, NCTOP_SEG_FILE_PREFIX, (int)pid);
}

static int seg_exists(pid_t pid)
{
    char path[64];

    seg_path(path, sizeof(path), pid);
    return access(path, F_OK) == 0;
}

static void seg_remove(pid_t pid)
{
    char path[64];

    seg_path(path, sizeof(path), pid);
    unlink(path);
}

static uint64_t test_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void rd_open(struct rd *r, pid_t pid)
{
    char path[64];
    struct stat st;
    int fd;

    seg_path(path, sizeof(path), pid);
    fd = open(path, O_RDWR | O_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(fstat(fd, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(st.st_uid, geteuid());
    r->bytes = (size_t)st.st_size;
    r->hdr = mmap(NULL, r->bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    assert_true(r->hdr != MAP_FAILED);
    r->pid = pid;
    assert_memory_equal(r->hdr->magic, NCTOP_SEG_MAGIC, NCTOP_SEG_MAGIC_LEN);
    atomic_thread_fence(memory_order_acquire);
    assert_int_equal(r->hdr->abi_version, NCTOP_SEG_ABI_VERSION);
    assert_int_equal(r->hdr->header_bytes, sizeof(struct nctop_seg_header));
    assert_int_equal(r->hdr->segment_bytes, r->bytes);
    assert_int_equal(r->hdr->pid, pid);
    assert_int_equal(r->hdr->uid, geteuid());
    assert_true(r->hdr->start_ticks > 0);
    assert_true(r->hdr->rings_off % 64 == 0 && r->hdr->ring_stride % 64 == 0);
    assert_true(r->hdr->gauges_off % 64 == 0 && r->hdr->strings_off % 64 == 0);
    assert_true(r->hdr->rings_off + (uint64_t)r->hdr->rings_max * r->hdr->ring_stride <= r->bytes);
}

static void rd_close(struct rd *r)
{
    munmap(r->hdr, r->bytes);
}

/* Stamp the reader's heartbeat age_ns ago, in ns and, for a TSC segment, in ticks (what its
 * event path compares with), converted with the segment's own calibration. */
static void hb_stamp(struct nctop_seg_header *h, uint64_t age_ns)
{
    atomic_store(&h->reader_heartbeat_ns, test_now_ns() - age_ns);
    if (h->clock == NCTOP_SEG_CLOCK_TSC) {
        struct nctop_seg_conv c = {.mult = 1};

        assert_true(nctop_seg_conv_make(&c, h->calib_base.tsc, h->calib_base.mono_ns,
                                        h->calib_last.tsc, h->calib_last.mono_ns));
        atomic_store(&h->reader_heartbeat_tsc, nctop_seg_tsc() - nctop_seg_conv_ticks(&c, age_ns));
    }
}

static void rd_attach(struct rd *r)
{
    hb_stamp(r->hdr, 0);
    atomic_store(&r->hdr->reader_pid, (int32_t)getpid());
}

static void rd_heartbeat(struct rd *r)
{
    hb_stamp(r->hdr, 0);
}

static const char *rd_string(struct rd *r, uint32_t id)
{
    uint32_t count = atomic_load(&r->hdr->strings_count);
    const uint32_t *offs = (const uint32_t *)((const char *)r->hdr + r->hdr->stroff_off);
    const char *e;
    uint32_t len;

    assert_true(id > 0 && id < count);
    e = (const char *)r->hdr + r->hdr->strings_off + offs[id];
    memcpy(&len, e, sizeof(len));
    assert_true(len > 0 && len <= NCTOP_SEG_NAME_MAX);
    assert_int_equal(e[4 + len], '\0');
    return e + 4;
}

static struct nctop_seg_ring *rd_ring(struct rd *r, uint32_t i)
{
    assert_true(i < r->hdr->rings_max);
    return (struct nctop_seg_ring *)((char *)r->hdr + r->hdr->rings_off +
                                     (uint64_t)i * r->hdr->ring_stride);
}

static struct nctop_seg_gauge *rd_gauge(struct rd *r, uint32_t handle)
{
    assert_true(handle > 0 && handle <= atomic_load(&r->hdr->gauges_count));
    return (struct nctop_seg_gauge *)((char *)r->hdr + r->hdr->gauges_off) + (handle - 1);
}

static struct nctop_seg_counter *rd_counter(struct rd *r, uint32_t handle)
{
    assert_true(handle > 0 && handle <= atomic_load(&r->hdr->counters_count));
    return (struct nctop_seg_counter *)((char *)r->hdr + r->hdr->counters_off) + (handle - 1);
}

static unsigned rec_words_of(unsigned type)
{
    switch (type) {
    case NCTOP_REC_SPAN_BEGIN:
    case NCTOP_REC_SPAN_END:
        return 2;
    case NCTOP_REC_MEM_DELTA:
    case NCTOP_REC_STEP:
        return 3;
    case NCTOP_REC_KERNEL:
        return 4;
    default:
        return 0;
    }
}

/*
 * Decode every record published in ring i, checking the framing (sizes, no record across the
 * end, pads only where they belong), call fn on each non-pad record and consume them.
 * Returns the number of records passed to fn; *pads (may be NULL) counts pads seen.
 */
static size_t rd_drain(struct rd *r, uint32_t i, void (*fn)(void *, const struct rd_rec *),
                       void *ctx, size_t *pads)
{
    struct nctop_seg_ring *ring = rd_ring(r, i);
    const unsigned char *data = (const unsigned char *)(ring + 1);
    uint64_t size = r->hdr->ring_bytes;
    uint64_t tail = atomic_load_explicit(&ring->tail, memory_order_relaxed);
    uint64_t head = atomic_load_explicit(&ring->head, memory_order_acquire);
    size_t n = 0;

    assert_true(head - tail <= size);
    while (tail < head) {
        uint64_t off = tail & (size - 1);
        struct nctop_rec h;
        struct rd_rec rec;

        memcpy(&h, data + off, off + 16 <= size ? 16 : 8);
        assert_true(h.words >= 1);
        if (h.type == NCTOP_REC_PAD) {
            /* A pad always runs exactly to the end of the data. */
            assert_int_equal(off + (uint64_t)h.words * 8, size);
            tail += (uint64_t)h.words * 8;
            if (pads != NULL) {
                (*pads)++;
            }
            continue;
        }
        assert_true(h.type < NCTOP_REC_TYPE_MAX);
        /* A STEP is 3 words, or 4 with a request id (ABI 3). */
        assert_true(h.words == rec_words_of(h.type) || (h.type == NCTOP_REC_STEP && h.words == 4));
        assert_true(off + (uint64_t)h.words * 8 <= size);
        assert_true(tail + (uint64_t)h.words * 8 <= head);
        memset(&rec, 0, sizeof(rec));
        rec.type = h.type;
        /* The clock flag: on every record the SDK stamps itself in a TSC segment, never on a
         * KERNEL record (its start is the caller's CLOCK_MONOTONIC). Checked, then left out. */
        assert_int_equal(!!(h.flags & NCTOP_REC_F_TSC),
                         r->hdr->clock == NCTOP_SEG_CLOCK_TSC && h.type != NCTOP_REC_KERNEL);
        rec.flags = h.flags & ~NCTOP_REC_F_TSC;
        rec.words = h.words;
        rec.id = h.id;
        rec.ts_ns = h.ts_ns;
        memcpy(rec.arg, data + off + 16, (size_t)(h.words - 2) * 8);
        fn(ctx, &rec);
        n++;
        tail += (uint64_t)h.words * 8;
    }
    atomic_store_explicit(&ring->tail, tail, memory_order_release);
    return n;
}

/* Collects up to 64 records in order. */
struct rd_list {
    struct rd_rec rec[64];
    size_t n;
};

static void rd_list_add(void *ctx, const struct rd_rec *rec)
{
    struct rd_list *l = ctx;

    assert_true(l->n < 64);
    l->rec[l->n++] = *rec;
}

/* --- cases --------------------------------------------------------------------------------- */

/* One record of each size in turn, with a sequence number the reader can check. */
#define WRAP_EVENTS 300000U

static void wrap_emit(uint32_t seq)
{
    switch (seq % 4) {
    case 0:
        nctop_span_begin(seq);
        break;
    case 1:
        nctop_mem_delta((int64_t)seq);
        break;
    case 2:
        nctop_kernel(seq, 7, seq, (uint64_t)seq * 3);
        break;
    default:
        nctop_step(NCTOP_STEP_ITERATION, seq);
        break;
    }
}

/* Records that must get into the ring: 8000 of at least 16 bytes wrap its 4096 bytes over
 * 30 times. Under load the reader may not run at all while the first WRAP_EVENTS are written
 * (about 10 ms): the ring fills once and drops the rest. The wrap is what this test is about,
 * so the child then goes on, pausing after each drop for the reader to catch up, until that
 * many got in; drops stay counted exactly either way. */
#define WRAP_KEPT 8000U

static void kid_wrap(void)
{
    struct nctop_opts o = {.sz = sizeof(o), .ring_bytes = 4096};
    uint64_t seq = 0, dropped = 0;

    KID_CHECK(nctop_init(&o) == 0);
    kid_say(1);
    kid_hear();
    KID_CHECK(nctop_attached() == 1);
    while (seq < WRAP_EVENTS) {
        wrap_emit((uint32_t)++seq);
    }
    while (seq - nctop_dropped() < WRAP_KEPT) {
        wrap_emit((uint32_t)++seq);
        if (nctop_dropped() != dropped) {
            dropped = nctop_dropped();
            usleep(100);
        }
    }
    kid_say(seq);
    kid_say(nctop_dropped());
    kid_hear();
}

struct wrap_check {
    uint64_t last;
    uint64_t received;
    uint64_t gaps;
};

static void wrap_check_rec(void *ctx, const struct rd_rec *rec)
{
    struct wrap_check *c = ctx;
    uint64_t seq;

    switch (rec->type) {
    case NCTOP_REC_SPAN_BEGIN:
        seq = rec->id;
        assert_int_equal(seq % 4, 0);
        break;
    case NCTOP_REC_MEM_DELTA:
        seq = rec->arg[0];
        assert_int_equal(seq % 4, 1);
        break;
    case NCTOP_REC_KERNEL:
        seq = rec->id;
        assert_int_equal(seq % 4, 2);
        assert_int_equal(rec->ts_ns, seq);
        assert_int_equal(rec->arg[0], seq * 3);
        assert_int_equal(rec->arg[1], 7);
        break;
    case NCTOP_REC_STEP:
        seq = rec->arg[0];
        assert_int_equal(rec->id, NCTOP_STEP_ITERATION);
        assert_int_equal(seq % 4, 3);
        break;
    default:
        fail_msg("unexpected record type %u", rec->type);
        return;
    }
    /* In order; a hole in the sequence only right after a drop, and flagged. */
    assert_true(seq > c->last);
    if (seq != c->last + 1) {
        assert_int_equal(rec->flags, NCTOP_REC_F_GAP);
        c->gaps++;
    } else {
        assert_int_equal(rec->flags, 0);
    }
    c->last = seq;
    c->received++;
}

static void test_ring_wrap_concurrent(void **state)
{
    struct wrap_check c = {0};
    struct kid k;
    struct rd r;
    uint64_t kid_events = 0, kid_dropped = 0, ring_dropped;
    size_t pads = 0;
    int done = 0;

    (void)state;
    kid_start(&k, kid_wrap);
    kid_recv(&k);
    rd_open(&r, k.pid);
    assert_int_equal(r.hdr->ring_bytes, 4096);
    rd_attach(&r);
    kid_send(&k, 1);
    for (;;) {
        struct nctop_seg_ring *ring = rd_ring(&r, 0);

        if (atomic_load(&r.hdr->rings_count) > 0) {
            rd_drain(&r, 0, wrap_check_rec, &c, &pads);
        }
        rd_heartbeat(&r);
        if (done && atomic_load(&ring->head) == atomic_load(&ring->tail)) {
            break;
        }
        if (!done && kid_poll(&k, &kid_events, 0) == 1) {
            kid_dropped = kid_recv(&k);
            done = 1;
        }
        usleep(20);
    }
    ring_dropped = atomic_load(&rd_ring(&r, 0)->dropped);
    assert_true(kid_events >= WRAP_EVENTS);
    assert_int_equal(c.received + ring_dropped, kid_events);
    assert_true(c.received >= WRAP_KEPT);
    assert_int_equal(kid_dropped, ring_dropped);
    assert_true(atomic_load(&rd_ring(&r, 0)->head) > 20 * 4096ULL); /* wrapped many times */
    assert_true(pads > 0);
    assert_true(c.gaps <= ring_dropped);
    kid_send(&k, 1);
    assert_int_equal(kid_finish(&k), 0);
    rd_close(&r);
    seg_remove(k.pid);
}

/* --- exact drop counting and the gap flag --- */

static void kid_drops(void)
{
    struct nctop_opts o = {.sz = sizeof(o), .ring_bytes = 4096};

    KID_CHECK(nctop_init(&o) == 0);
    kid_say(1);
    kid_hear();
    for (uint32_t i = 1; i <= 1000; i++) {
        nctop_span_begin(i);
    }
    kid_say(nctop_dropped());
    kid_hear();
    nctop_span_begin(5000);
    nctop_span_end(5000);
    kid_say(nctop_dropped());
    kid_hear();
}

static void test_drop_exact_and_gap(void **state)
{
    static struct rd_list l;
    struct kid k;
    struct rd r;

    (void)state;
    kid_start(&k, kid_drops);
    kid_recv(&k);
    rd_open(&r, k.pid);
    rd_attach(&r);
    kid_send(&k, 1);
    /* 4096 bytes hold 256 records of 16 bytes; nobody consumes while the child writes. */
    assert_int_equal(kid_recv(&k), 1000 - 256);
    assert_int_equal(atomic_load(&rd_ring(&r, 0)->dropped), 1000 - 256);
    l.n = 0;
    /* The ring holds ids 1..256 in order, none flagged; then consume them all. */
    {
        struct nctop_seg_ring *ring = rd_ring(&r, 0);
        const struct nctop_rec *recs = (const struct nctop_rec *)(ring + 1);

        assert_int_equal(atomic_load(&ring->head), 4096);
        for (uint32_t i = 0; i < 256; i++) {
            assert_int_equal(recs[i].type, NCTOP_REC_SPAN_BEGIN);
            assert_int_equal(recs[i].id, i + 1);
            assert_int_equal(recs[i].flags & NCTOP_REC_F_GAP, 0);
        }
        atomic_store(&ring->tail, 4096);
    }
    kid_send(&k, 1);
    assert_int_equal(kid_recv(&k), 1000 - 256);
    rd_drain(&r, 0, rd_list_add, &l, NULL);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.rec[0].type, NCTOP_REC_SPAN_BEGIN);
    assert_int_equal(l.rec[0].id, 5000);
    assert_int_equal(l.rec[0].flags, NCTOP_REC_F_GAP);
    assert_int_equal(l.rec[1].type, NCTOP_REC_SPAN_END);
    assert_int_equal(l.rec[1].flags, 0);
    assert_true(l.rec[1].ts_ns >= l.rec[0].ts_ns);
    kid_send(&k, 1);
    assert_int_equal(kid_finish(&k), 0);
    rd_close(&r);
    seg_remove(k.pid);
}

/* --- several producers, one consumer --- */

#define MP_THREADS 4
#define MP_EVENTS 1000000U

static void *mp_producer(void *arg)
{
    uint64_t t = (uint64_t)(uintptr_t)arg;
    char name[16];

    snprintf(name, sizeof(name), "prod-%u", (unsigned)t);
    KID_CHECK(nctop_thread_name(name) == 0);
    for (uint64_t seq = 1; seq <= MP_EVENTS; seq++) {
        if (seq % 2 == 0) {
            nctop_mem_delta((int64_t)(t << 40 | seq));
        } else {
            nctop_kernel((uint32_t)seq, (uint32_t)t + 1, t << 40 | seq, 0);
        }
    }
    return NULL;
}

static void kid_mp(void)
{
    pthread_t th[MP_THREADS];

    KID_CHECK(nctop_init(NULL) == 0);
    kid_say(1);
    kid_hear();
    for (uintptr_t t = 0; t < MP_THREADS; t++) {
        KID_CHECK(pthread_create(&th[t], NULL, mp_producer, (void *)t) == 0);
    }
    for (int t = 0; t < MP_THREADS; t++) {
        pthread_join(th[t], NULL);
    }
    kid_say(nctop_dropped());
    kid_hear();
}

struct mp_check {
    uint64_t last[MP_THREADS];
    uint64_t received[MP_THREADS];
    int owner; /* thread of the ring being drained, -1 until its first record */
};

static void mp_check_rec(void *ctx, const struct rd_rec *rec)
{
    struct mp_check *c = ctx;
    uint64_t v = rec->type == NCTOP_REC_MEM_DELTA ? rec->arg[0] : rec->ts_ns;
    uint64_t t = v >> 40, seq = v & ((1ULL << 40) - 1);

    assert_true(rec->type == NCTOP_REC_MEM_DELTA || rec->type == NCTOP_REC_KERNEL);
    assert_true(t < MP_THREADS);
    if (rec->type == NCTOP_REC_KERNEL) {
        assert_int_equal(rec->arg[1], t + 1);
        assert_int_equal(rec->id, (uint32_t)seq);
    }
    if (c->owner < 0) {
        c->owner = (int)t;
    }
    assert_int_equal(c->owner, t); /* one ring, one thread */
    assert_true(seq > c->last[t]);
    if (seq != c->last[t] + 1) {
        assert_int_equal(rec->flags, NCTOP_REC_F_GAP);
    }
    c->last[t] = seq;
    c->received[t]++;
}

static void test_multi_producer(void **state)
{
    struct mp_check c;
    int owner[MP_THREADS * 2];
    struct kid k;
    struct rd r;
    uint64_t kid_dropped = 0, total_dropped = 0;
    int done = 0;

    (void)state;
    memset(&c, 0, sizeof(c));
    for (int i = 0; i < MP_THREADS * 2; i++) {
        owner[i] = -1;
    }
    kid_start(&k, kid_mp);
    kid_recv(&k);
    rd_open(&r, k.pid);
    rd_attach(&r);
    kid_send(&k, 1);
    for (;;) {
        uint32_t n = atomic_load(&r.hdr->rings_count);
        int busy = 0;

        assert_true(n <= MP_THREADS);
        for (uint32_t i = 0; i < n; i++) {
            c.owner = owner[i];
            rd_drain(&r, i, mp_check_rec, &c, NULL);
            owner[i] = c.owner;
            busy |= atomic_load(&rd_ring(&r, i)->head) != atomic_load(&rd_ring(&r, i)->tail);
        }
        rd_heartbeat(&r);
        if (done && !busy) {
            break;
        }
        if (!done) {
            done = kid_poll(&k, &kid_dropped, 0);
        }
        usleep(1000); /* as nctop would: a drain every millisecond */
    }
    assert_int_equal(atomic_load(&r.hdr->rings_count), MP_THREADS);
    for (uint32_t i = 0; i < MP_THREADS; i++) {
        struct nctop_seg_ring *ring = rd_ring(&r, i);
        uint64_t d = atomic_load(&ring->dropped);
        char want[16];

        assert_true(owner[i] >= 0);
        snprintf(want, sizeof(want), "prod-%d", owner[i]);
        assert_string_equal(ring->name, want);
        assert_int_equal(c.received[owner[i]] + d, MP_EVENTS);
        assert_int_equal(c.last[owner[i]] == MP_EVENTS || d > 0, 1);
        /* The threads exited while the reader was attached: retired, left for us. */
        assert_int_equal(atomic_load(&ring->state), NCTOP_SEG_RING_RETIRED);
        total_dropped += d;
    }
    assert_int_equal(kid_dropped, total_dropped);
    kid_send(&k, 1);
    assert_int_equal(kid_finish(&k), 0);
    rd_close(&r);
    seg_remove(k.pid);
}

/* --- facts are current while nobody is attached, events are not written --- */

/* Issue 11: the request calls write 4-word STEP records whose last word is the request id;
 * nctop_step keeps its 3-word records (request 0); tokens also go to counter "tokens". */
static void kid_requests(void)
{
    KID_CHECK(nctop_init(NULL) == 0);
    kid_say(1);
    kid_hear();
    nctop_request_begin(0xfeedfacecafeULL);
    nctop_request_prompt_tokens(0xfeedfacecafeULL, 17);
    nctop_request_token(0xfeedfacecafeULL, 3);
    nctop_request_end(0xfeedfacecafeULL, NCTOP_REQUEST_CANCELLED);
    nctop_request_end(1, -5);
    nctop_step(NCTOP_STEP_TOKEN, 2);
    kid_say(1);
    kid_hear();
}

static void test_issue_11_request_records(void **state)
{
    static struct rd_list l;
    static const unsigned kind[6] = {NCTOP_STEP_REQUEST_BEGIN, NCTOP_STEP_PROMPT_TOKENS,
                                     NCTOP_STEP_TOKEN,         NCTOP_STEP_REQUEST_END,
                                     NCTOP_STEP_REQUEST_END,   NCTOP_STEP_TOKEN};
    static const uint64_t n[6] = {0, 17, 3, NCTOP_REQUEST_CANCELLED, NCTOP_REQUEST_FAILED, 2};
    struct kid k;
    struct rd r;

    (void)state;
    kid_start(&k, kid_requests);
    kid_recv(&k);
    rd_open(&r, k.pid);
    assert_int_equal(r.hdr->abi_version, NCTOP_SEG_ABI_VERSION);
    rd_attach(&r);
    kid_send(&k, 1);
    kid_recv(&k);
    l.n = 0;
    rd_drain(&r, 0, rd_list_add, &l, NULL);
    assert_int_equal(l.n, 6);
    for (size_t i = 0; i < 6; i++) {
        assert_int_equal(l.rec[i].type, NCTOP_REC_STEP);
        assert_int_equal(l.rec[i].id, kind[i]);
        assert_int_equal(l.rec[i].arg[0], n[i]);
        assert_int_equal(l.rec[i].words, i < 5 ? 4 : 3);
        if (i < 4) {
            assert_int_equal(l.rec[i].arg[1], 0xfeedfacecafeULL);
        }
    }
    assert_int_equal(l.rec[4].arg[1], 1);
    assert_int_equal(atomic_load(&rd_counter(&r, 1)->value), 5);
    kid_send(&k, 1);
    assert_int_equal(kid_finish(&k), 0);
    rd_close(&r);
    seg_remove(k.pid);
}

static void kid_facts(void)
{
    uint32_t a, g, c;

    setenv("NCTOP_LABEL", "facts-label", 1);
    a = nctop_name("alpha"); /* lazy init */
    KID_CHECK(a != 0);
    KID_CHECK(nctop_name("alpha") == a);
    KID_CHECK(nctop_name("beta") != a);
    g = nctop_gauge("kv", NCTOP_MEM_KV_CACHE, NCTOP_MEM_DEVICE);
    KID_CHECK(g != 0 && nctop_gauge("kv", NCTOP_MEM_KV_CACHE, 0) == g);
    nctop_gauge_set(g, 100, 1000);
    nctop_gauge_set(g, 50, 1000);
    nctop_gauge_set(0, 1, 1);     /* ignored */
    nctop_gauge_set(g + 7, 1, 1); /* ignored */
    KID_CHECK(nctop_weight_set("layers.0.attn.q_proj", 4096, 0) == 0);
    KID_CHECK(nctop_weight_set("layers.0.attn.k_proj", 1024, NCTOP_MEM_DEVICE) == 0);
    KID_CHECK(nctop_weight_set("layers.0.attn.q_proj", 8192, 0) == 0); /* update */
    KID_CHECK(nctop_weight_set("never.registered", 0, 0) == 0);
    KID_CHECK(nctop_weight_set("bad\nname", 1, 0) == -EINVAL);
    c = nctop_counter("spikes");
    KID_CHECK(c != 0 && c == nctop_counter("spikes"));
    nctop_counter_add(c, 5);
    nctop_counter_add(c, 6);
    nctop_counter_add(0, 6);
    nctop_step(NCTOP_STEP_TOKEN, 3);
    nctop_step(NCTOP_STEP_TOKEN, 4);
    nctop_span_begin(a);
    nctop_mem_delta(10);
    nctop_kernel(a, a, 1, 2);
    nctop_span_end(a);
    KID_CHECK(nctop_attached() == 0);
    KID_CHECK(nctop_dropped() == 0);
    kid_say(a);
    kid_say(g);
    kid_say(c);
    kid_hear();
    KID_CHECK(nctop_set_label("relabelled") == 0);
    KID_CHECK(nctop_set_label("") == -EINVAL);
    kid_say(1);
    kid_hear();
}

static void kid_values(void)
{
    uint32_t v = nctop_value("layers.2.power_w", "W"), acc = nctop_value("accuracy", NULL);

    KID_CHECK(v != 0 && v == nctop_value("layers.2.power_w", "J") && acc != 0 && acc != v);
    KID_CHECK(nctop_value("bad\nname", "W") == 0);
    nctop_value_set(v, 1.25);
    nctop_value_set(0, 9.0);       /* ignored */
    nctop_value_set(v + 100, 9.0); /* ignored */
    KID_CHECK(nctop_set_attr("target", "loihi2") == 0);
    KID_CHECK(nctop_set_attr("chip", "sim") == 0);
    KID_CHECK(nctop_set_attr("chip", NULL) == 0); /* unset */
    KID_CHECK(nctop_set_attr("never", "") == 0);  /* unsetting something never set */
    KID_CHECK(nctop_set_attr("bad\nkey", "x") == -EINVAL);
    kid_say(v);
    kid_say(acc);
    kid_hear();
}

/* test_issue_14: values and attributes reach the segment, attached or not. */
static void test_issue_14_values_and_attrs(void **state)
{
    struct nctop_seg_value *tab;
    struct nctop_seg_attr *at;
    struct kid k;
    struct rd r;
    uint32_t v, acc;
    double d;
    uint64_t bits;

    (void)state;
    kid_start(&k, kid_values);
    v = (uint32_t)kid_recv(&k);
    acc = (uint32_t)kid_recv(&k);
    rd_open(&r, k.pid);
    assert_int_equal(atomic_load(&r.hdr->values_count), 2);
    assert_true(r.hdr->values_off % 64 == 0 && r.hdr->attrs_off % 64 == 0);
    assert_true(r.hdr->attrs_off + r.hdr->attrs_max * sizeof(*at) <= r.hdr->rings_off);
    tab = (struct nctop_seg_value *)((char *)r.hdr + r.hdr->values_off);
    assert_string_equal(rd_string(&r, tab[v - 1].name_id), "layers.2.power_w");
    assert_string_equal(rd_string(&r, tab[v - 1].unit_id), "W"); /* the first unit stays */
    bits = atomic_load(&tab[v - 1].bits);
    memcpy(&d, &bits, sizeof(d));
    assert_true(d == 1.25);
    assert_int_equal(tab[acc - 1].unit_id, 0);
    assert_true(atomic_load(&tab[acc - 1].bits) == NCTOP_SEG_VALUE_UNSET); /* never set */
    assert_int_equal(atomic_load(&r.hdr->attrs_count), 2);
    at = (struct nctop_seg_attr *)((char *)r.hdr + r.hdr->attrs_off);
    assert_string_equal(rd_string(&r, at[0].key_id), "target");
    assert_string_equal(rd_string(&r, atomic_load(&at[0].value_id)), "loihi2");
    assert_string_equal(rd_string(&r, at[1].key_id), "chip");
    assert_int_equal(atomic_load(&at[1].value_id), 0);
    kid_send(&k, 1);
    assert_int_equal(kid_finish(&k), 0);
    rd_close(&r);
    seg_remove(k.pid);
}

static void test_facts_without_reader(void **state)
{
    struct nctop_seg_weight *w;
    struct nctop_seg_gauge *g;
    struct kid k;
    struct rd r;
    uint32_t a, gh, ch, seq;

    (void)state;
    kid_start(&k, kid_facts);
    a = (uint32_t)kid_recv(&k);
    gh = (uint32_t)kid_recv(&k);
    ch = (uint32_t)kid_recv(&k);
    rd_open(&r, k.pid);
    assert_string_equal(rd_string(&r, a), "alpha");
    assert_string_equal(r.hdr->label, "facts-label");
    seq = atomic_load(&r.hdr->label_seq);
    assert_int_equal(seq % 2, 0);

    g = rd_gauge(&r, gh);
    assert_string_equal(rd_string(&r, g->name_id), "kv");
    assert_int_equal(g->kind, NCTOP_MEM_KV_CACHE);
    assert_int_equal(g->flags, NCTOP_MEM_DEVICE);
    assert_int_equal(atomic_load(&g->used_bytes), 50);
    assert_int_equal(atomic_load(&g->capacity_bytes), 1000);
    assert_int_equal(atomic_load(&g->peak_bytes), 100);
    assert_int_equal(atomic_load(&r.hdr->gauges_count), 1);

    assert_int_equal(atomic_load(&r.hdr->weights_count), 2);
    w = (struct nctop_seg_weight *)((char *)r.hdr + r.hdr->weights_off);
    assert_string_equal(rd_string(&r, w[0].path_id), "layers.0.attn.q_proj");
    assert_int_equal(atomic_load(&w[0].bytes), 8192);
    assert_string_equal(rd_string(&r, w[1].path_id), "layers.0.attn.k_proj");
    assert_int_equal(atomic_load(&w[1].bytes), 1024);
    assert_int_equal(w[1].flags, NCTOP_MEM_DEVICE);

    assert_string_equal(rd_string(&r, rd_counter(&r, 1)->name_id), "tokens");
    assert_int_equal(atomic_load(&rd_counter(&r, 1)->value), 7);
    assert_string_equal(rd_string(&r, rd_counter(&r, ch)->name_id), "spikes");
    assert_int_equal(atomic_load(&rd_counter(&r, ch)->value), 11);

    /* No event reached the segment: no ring was even claimed. */
    assert_int_equal(atomic_load(&r.hdr->rings_count), 0);
    assert_int_equal(atomic_load(&rd_ring(&r, 0)->head), 0);
    assert_int_equal(atomic_load(&rd_ring(&r, 0)->state), NCTOP_SEG_RING_FREE);

    kid_send(&k, 1);
    kid_recv(&k);
    assert_string_equal(r.hdr->label, "relabelled");
    assert_int_equal(atomic_load(&r.hdr->label_seq), seq + 2);
    kid_send(&k, 1);
    assert_int_equal(kid_finish(&k), 0);
    rd_close(&r);
    seg_remove(k.pid);
}

/* --- detach, re-attach; a dead reader --- */

static void kid_batches(void)
{
    uint32_t id = nctop_name("batch");

    KID_CHECK(id != 0);
    kid_say(id);
    /* Each command n: emit n span pairs, report whether attached. */
    for (;;) {
        uint64_t n = kid_hear();

        if (n == 0) {
            break;
        }
        for (uint64_t i = 0; i < n; i++) {
            nctop_span_begin(id);
            nctop_span_end(id);
        }
        kid_say((uint64_t)nctop_attached());
    }
}

static void test_detach_reattach(void **state)
{
    struct rd_list l = {.n = 0};
    struct kid k;
    struct rd r;

    (void)state;
    kid_start(&k, kid_batches);
    kid_recv(&k);
    rd_open(&r, k.pid);
    rd_attach(&r);
    kid_send(&k, 3);
    assert_int_equal(kid_recv(&k), 1);
    rd_drain(&r, 0, rd_list_add, &l, NULL);
    assert_int_equal(l.n, 6);

    atomic_store(&r.hdr->reader_pid, 0); /* detach */
    kid_send(&k, 5);
    assert_int_equal(kid_recv(&k), 0);
    assert_int_equal(atomic_load(&rd_ring(&r, 0)->head), 6 * 16);

    rd_attach(&r);
    kid_send(&k, 2);
    assert_int_equal(kid_recv(&k), 1);
    l.n = 0;
    rd_drain(&r, 0, rd_list_add, &l, NULL);
    assert_int_equal(l.n, 4);
    for (size_t i = 0; i < l.n; i++) {
        assert_int_equal(l.rec[i].type, i % 2 ? NCTOP_REC_SPAN_END : NCTOP_REC_SPAN_BEGIN);
        assert_int_equal(l.rec[i].flags, 0); /* not attached is not a drop */
    }
    assert_int_equal(atomic_load(&r.hdr->rings_count), 1);
    kid_send(&k, 0);
    assert_int_equal(kid_finish(&k), 0);
    rd_close(&r);
    seg_remove(k.pid);
}

static void test_dead_reader(void **state)
{
    struct kid k;
    struct rd r;

    (void)state;
    kid_start(&k, kid_batches);
    kid_recv(&k);
    rd_open(&r, k.pid);
    /* A reader that last drained longer ago than NCTOP_SEG_READER_GONE_NS: dead. */
    hb_stamp(r.hdr, NCTOP_SEG_READER_GONE_NS + 1000000000ULL);
    atomic_store(&r.hdr->reader_pid, (int32_t)getpid());
    kid_send(&k, 4);
    assert_int_equal(kid_recv(&k), 0);
    assert_int_equal(atomic_load(&r.hdr->reader_pid), 0);
    assert_int_equal(atomic_load(&rd_ring(&r, 0)->head), 0);
    assert_int_equal(atomic_load(&rd_ring(&r, 0)->dropped), 0);
    kid_send(&k, 0);
    assert_int_equal(kid_finish(&k), 0);
    rd_close(&r);
    seg_remove(k.pid);
}

/* A reader that stalled past NCTOP_SEG_READER_TIMEOUT_NS: every event it misses is counted
 * (4 pairs = 8 events), the reader is marked stalled, and once it drains again the events
 * flow again with a gap flag on the first one. */
static void test_issue_10_reader_stall_counted(void **state)
{
    struct kid k;
    struct rd r;
    struct nctop_seg_ring *ring;

    (void)state;
    kid_start(&k, kid_batches);
    kid_recv(&k);
    rd_open(&r, k.pid);
    hb_stamp(r.hdr, 6000000000ULL);
    atomic_store(&r.hdr->reader_pid, (int32_t)getpid());
    kid_send(&k, 4);
    assert_int_equal(kid_recv(&k), 0);
    ring = rd_ring(&r, 0);
    assert_int_equal(atomic_load(&r.hdr->reader_pid), -(int32_t)getpid());
    assert_int_equal(atomic_load(&ring->head), 0);
    assert_int_equal(atomic_load(&ring->dropped), 0);
    assert_int_equal(atomic_load(&ring->dropped_stall), 8);

    /* The reader comes back: heartbeat, then its pid. */
    hb_stamp(r.hdr, 0);
    atomic_store(&r.hdr->reader_pid, (int32_t)getpid());
    kid_send(&k, 1);
    assert_int_equal(kid_recv(&k), 1);
    assert_int_equal(atomic_load(&ring->head), 32);
    assert_int_equal(atomic_load(&ring->dropped_stall), 8);
    {
        const struct nctop_rec *rec = (const struct nctop_rec *)(ring + 1);

        assert_int_equal(rec->type, NCTOP_REC_SPAN_BEGIN);
        assert_true(rec->flags & NCTOP_REC_F_GAP);
    }
    kid_send(&k, 0);
    assert_int_equal(kid_finish(&k), 0);
    rd_close(&r);
    seg_remove(k.pid);
}

/* --- thread exit retires the slot, the slot is reused --- */

static uint32_t kid_worker_id;

/* Emit a span; with arg 2, also hold the thread until the test says so. */
static void *kid_thread_body(void *arg)
{
    nctop_span_begin(kid_worker_id);
    nctop_span_end(kid_worker_id);
    if ((uintptr_t)arg == 2) {
        kid_say(2);
        kid_hear();
    }
    return NULL;
}

static void kid_threads(void)
{
    uint64_t cmd;

    kid_worker_id = nctop_name("worker");
    kid_say(kid_worker_id);
    while ((cmd = kid_hear()) != 0) {
        pthread_t th;

        KID_CHECK(pthread_create(&th, NULL, kid_thread_body, (void *)(uintptr_t)cmd) == 0);
        KID_CHECK(pthread_join(th, NULL) == 0);
        kid_say(1);
    }
}

static void test_thread_exit_reuse(void **state)
{
    struct nctop_seg_ring *ring;
    struct rd_list l = {.n = 0};
    struct kid k;
    struct rd r;

    (void)state;
    kid_start(&k, kid_threads);
    kid_recv(&k);
    rd_open(&r, k.pid);
    ring = rd_ring(&r, 0);
    rd_attach(&r);

    kid_send(&k, 1);
    kid_recv(&k);
    assert_int_equal(atomic_load(&ring->state), NCTOP_SEG_RING_RETIRED);
    assert_int_equal(atomic_load(&ring->generation), 1);
    assert_int_not_equal(ring->tid, k.pid); /* a thread, not the main thread */
    rd_drain(&r, 0, rd_list_add, &l, NULL);
    assert_int_equal(l.n, 2);
    /* The reader frees a drained RETIRED slot (invariant: FREE has head == tail). */
    atomic_store(&ring->state, NCTOP_SEG_RING_FREE);

    kid_send(&k, 1);
    kid_recv(&k);
    assert_int_equal(atomic_load(&r.hdr->rings_count), 1); /* slot 0 again */
    assert_int_equal(atomic_load(&ring->generation), 2);
    assert_int_equal(atomic_load(&ring->state), NCTOP_SEG_RING_RETIRED);
    l.n = 0;
    rd_drain(&r, 0, rd_list_add, &l, NULL);
    assert_int_equal(l.n, 2);
    atomic_store(&ring->state, NCTOP_SEG_RING_FREE);

    /* With no reader the exiting thread frees its slot itself, discarding what is unread. */
    kid_send(&k, 2);
    assert_int_equal(kid_recv(&k), 2); /* the thread emitted and waits */
    assert_int_equal(atomic_load(&ring->state), NCTOP_SEG_RING_ACTIVE);
    assert_int_equal(atomic_load(&ring->head) - atomic_load(&ring->tail), 32);
    atomic_store(&r.hdr->reader_pid, 0);
    kid_send(&k, 1);
    assert_int_equal(kid_recv(&k), 1);
    assert_int_equal(atomic_load(&ring->generation), 3);
    assert_int_equal(atomic_load(&ring->state), NCTOP_SEG_RING_FREE);
    assert_int_equal(atomic_load(&ring->head), atomic_load(&ring->tail));

    kid_send(&k, 0);
    assert_int_equal(kid_finish(&k), 0);
    rd_close(&r);
    seg_remove(k.pid);
}

/* --- fork --- */

static void kid_forks(void)
{
    uint32_t a = nctop_name("alpha");
    uint32_t b = nctop_name("beta");
    uint32_t g = nctop_gauge("pool", NCTOP_MEM_POOL, 0);
    uint32_t c = nctop_counter("spikes");
    pid_t gc;
    int status = 0;

    nctop_gauge_set(g, 300, 400);
    nctop_counter_add(c, 9);
    KID_CHECK(nctop_weight_set("emb", 512, 0) == 0);
    kid_say(b);
    gc = fork();
    KID_CHECK(gc >= 0);
    if (gc == 0) {
        /* Cached ids stay valid; a name interned before the fork is found again. */
        KID_CHECK(nctop_name("beta") == b);
        KID_CHECK(nctop_name("alpha") == a);
        KID_CHECK(nctop_gauge("pool", NCTOP_MEM_POOL, 0) == g);
        kid_say((uint64_t)getpid());
        kid_hear();
        nctop_span_begin(a);
        nctop_span_end(a);
        kid_say(nctop_name("gamma"));
        kid_hear();
        exit(0); /* normal exit: removes the grandchild's segment */
    }
    KID_CHECK(waitpid(gc, &status, 0) == gc);
    kid_say((uint64_t)status);
    kid_hear();
}

static void test_fork_child_segment(void **state)
{
    struct nctop_seg_gauge *g;
    struct rd_list l = {.n = 0};
    struct kid k;
    struct rd r, rc;
    uint32_t b, gamma;
    pid_t gc;

    (void)state;
    kid_start(&k, kid_forks);
    b = (uint32_t)kid_recv(&k);
    gc = (pid_t)kid_recv(&k);
    assert_true(gc > 0 && gc != k.pid);
    kid_note_pid(gc);
    rd_open(&r, k.pid);
    rd_open(&rc, gc);
    /* Same tables at the same ids, own identity, no reader, no ring. */
    assert_int_equal(atomic_load(&rc.hdr->strings_count), atomic_load(&r.hdr->strings_count));
    assert_string_equal(rd_string(&rc, b), "beta");
    assert_string_equal(rd_string(&rc, b - 1), "alpha");
    assert_string_equal(rc.hdr->label, r.hdr->label);
    g = rd_gauge(&rc, 1);
    assert_string_equal(rd_string(&rc, g->name_id), "pool");
    assert_int_equal(atomic_load(&g->used_bytes), 300);
    assert_int_equal(atomic_load(&rd_counter(&rc, 2)->value), 9);
    assert_int_equal(atomic_load(&rc.hdr->weights_count), 1);
    assert_int_equal(atomic_load(&rc.hdr->reader_pid), 0);
    assert_int_equal(atomic_load(&rc.hdr->rings_count), 0);
    assert_int_equal(rc.hdr->segment_bytes, r.hdr->segment_bytes);

    /* Events of the grandchild land in its own segment. */
    rd_attach(&rc);
    rd_attach(&r);
    kid_send(&k, 1);
    gamma = (uint32_t)kid_recv(&k);
    rd_drain(&rc, 0, rd_list_add, &l, NULL);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.rec[0].id, b - 1);
    assert_int_equal(atomic_load(&r.hdr->rings_count), 0);
    /* A new name in the grandchild takes the next id there; the parent's table is its own. */
    assert_int_equal(gamma, atomic_load(&r.hdr->strings_count));
    assert_string_equal(rd_string(&rc, gamma), "gamma");
    assert_int_equal(atomic_load(&rc.hdr->strings_count), gamma + 1);

    kid_send(&k, 1);
    assert_int_equal(kid_recv(&k), 0); /* grandchild status */
    assert_false(seg_exists(gc));
    assert_true(seg_exists(k.pid));
    kid_send(&k, 1);
    assert_int_equal(kid_finish(&k), 0);
    assert_false(seg_exists(k.pid));
    rd_close(&rc);
    rd_close(&r);
}

/* --- exit, the reader hand-off, disable, names --- */

static void kid_plain(void)
{
    KID_CHECK(nctop_init(NULL) == 0);
    KID_CHECK(nctop_init(NULL) == 0);
    kid_say(1);
    kid_hear();
}

static void test_exit_removes_segment(void **state)
{
    struct kid k;
    struct rd r;

    (void)state;
    kid_start(&k, kid_plain);
    kid_recv(&k);
    rd_open(&r, k.pid); /* checks mode 0600 and owner */
    assert_int_equal(r.hdr->ring_bytes, NCTOP_SEG_DEFAULT_RING_BYTES);
    assert_int_equal(r.hdr->rings_max, NCTOP_SEG_DEFAULT_RINGS_MAX);
    assert_int_equal(atomic_load(&r.hdr->reader_pid), 0);
    rd_close(&r);
    kid_send(&k, 1);
    assert_int_equal(kid_finish(&k), 0);
    assert_false(seg_exists(k.pid));
}

static void kid_env_opts(void)
{
    setenv("NCTOP_RING_KB", "5", 1);
    setenv("NCTOP_MAX_THREADS", "3", 1);
    KID_CHECK(nctop_name("x") != 0);
    kid_say(1);
    kid_hear();
}

static void test_env_options(void **state)
{
    struct kid k;
    struct rd r;

    (void)state;
    kid_start(&k, kid_env_opts);
    kid_recv(&k);
    rd_open(&r, k.pid);
    assert_int_equal(r.hdr->ring_bytes, 8192); /* 5 KiB rounded up to a power of two */
    assert_int_equal(r.hdr->rings_max, 3);
    rd_close(&r);
    kid_send(&k, 1);
    assert_int_equal(kid_finish(&k), 0);
    assert_false(seg_exists(k.pid));
}

static void kid_disabled(void)
{
    setenv("NCTOP_DISABLE", "1", 1);
    KID_CHECK(nctop_init(NULL) == -ECANCELED);
    KID_CHECK(nctop_name("x") == 0);
    KID_CHECK(nctop_gauge("g", NCTOP_MEM_POOL, 0) == 0);
    KID_CHECK(nctop_weight_set("w", 1, 0) < 0);
    nctop_span_begin(1);
    nctop_gauge_set(1, 1, 1);
    nctop_counter_add(1, 1);
    nctop_step(NCTOP_STEP_TOKEN, 1);
    KID_CHECK(nctop_dropped() == 0);
    KID_CHECK(nctop_attached() == 0);
    KID_CHECK(!seg_exists(getpid()));
    kid_say(1);
}

static void test_disable(void **state)
{
    struct kid k;

    (void)state;
    kid_start(&k, kid_disabled);
    assert_int_equal(kid_recv(&k), 1);
    assert_int_equal(kid_finish(&k), 0);
    assert_false(seg_exists(k.pid));
}

static void kid_names(void)
{
    char big[NCTOP_SEG_NAME_MAX + 2];
    uint32_t id;

    KID_CHECK(nctop_name(NULL) == 0);
    KID_CHECK(nctop_name("") == 0);
    KID_CHECK(nctop_name("tab\there") == 0);
    KID_CHECK(nctop_name("del\x7f") == 0);
    KID_CHECK(nctop_name("\xff") == 0);
    KID_CHECK(nctop_name("\xc0\x80") == 0);         /* overlong NUL */
    KID_CHECK(nctop_name("\xed\xa0\x80") == 0);     /* surrogate */
    KID_CHECK(nctop_name("\xf4\x90\x80\x80") == 0); /* above U+10FFFF */
    KID_CHECK(nctop_name("\xc2\x85") == 0);         /* C1 control (NEL) */
    KID_CHECK(nctop_name("cut\xe2\x82") == 0);      /* truncated sequence */
    KID_CHECK(nctop_gauge("", NCTOP_MEM_POOL, 0) == 0);
    KID_CHECK(nctop_gauge("ok", (enum nctop_mem_kind)9, 0) == 0);
    KID_CHECK(nctop_counter("\x01") == 0);
    memset(big, 'a', sizeof(big));
    big[NCTOP_SEG_NAME_MAX + 1] = '\0';
    KID_CHECK(nctop_name(big) == 0);
    big[NCTOP_SEG_NAME_MAX] = '\0';
    id = nctop_name(big);
    KID_CHECK(id != 0 && nctop_name(big) == id);
    KID_CHECK(nctop_name("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80") != 0);
    kid_say(id);
    kid_hear();
}

static void test_invalid_names(void **state)
{
    struct kid k;
    struct rd r;
    uint32_t id;

    (void)state;
    kid_start(&k, kid_names);
    id = (uint32_t)kid_recv(&k);
    rd_open(&r, k.pid);
    assert_int_equal(strlen(rd_string(&r, id)), NCTOP_SEG_NAME_MAX);
    assert_string_equal(rd_string(&r, id + 1), "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
    /* "tokens", then the two valid names: nothing invalid was interned. */
    assert_int_equal(atomic_load(&r.hdr->strings_count), id + 2);
    assert_int_equal(id, 2);
    rd_close(&r);
    kid_send(&k, 1);
    assert_int_equal(kid_finish(&k), 0);
}

/*
 * The scope helpers (C and C++) run with NCTOP_READER naming this process: events are
 * captured before any attach, and the segment outlives the helper because its reader is
 * alive. Expected: outer { inner { mem } x3 }, every begin matched by its end.
 */
static void run_scope_helper(const char *name)
{
    char exe[PATH_MAX], env[64];
    struct rd_list l = {.n = 0};
    struct rd r;
    ssize_t n;
    pid_t pid;
    int status = 0;
    char *slash;

    n = readlink("/proc/self/exe", exe, sizeof(exe) - 64);
    assert_true(n > 0);
    exe[n] = '\0';
    slash = strrchr(exe, '/');
    assert_non_null(slash);
    strcpy(slash + 1, name);
    snprintf(env, sizeof(env), "NCTOP_READER=%d", (int)getpid());
    fflush(stdout);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char *argv[] = {exe, NULL};
        char *envp[] = {env, NULL};

        execve(exe, argv, envp);
        _exit(127);
    }
    kid_note_pid(pid);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_true(seg_exists(pid)); /* kept for its live reader */

    rd_open(&r, pid);
    assert_int_equal(atomic_load(&r.hdr->reader_pid), getpid());
    rd_drain(&r, 0, rd_list_add, &l, NULL);
    assert_int_equal(l.n, 2 + 3 * 3);
    assert_int_equal(l.rec[0].type, NCTOP_REC_SPAN_BEGIN);
    assert_string_equal(rd_string(&r, l.rec[0].id), "outer");
    for (int i = 0; i < 3; i++) {
        const struct rd_rec *b = &l.rec[1 + 3 * i];

        assert_int_equal(b[0].type, NCTOP_REC_SPAN_BEGIN);
        assert_string_equal(rd_string(&r, b[0].id), "inner");
        assert_int_equal(b[1].type, NCTOP_REC_MEM_DELTA);
        assert_int_equal((int64_t)b[1].arg[0], 64 * (i + 1));
        assert_int_equal(b[2].type, NCTOP_REC_SPAN_END);
        assert_int_equal(b[2].id, b[0].id);
        assert_true(b[2].ts_ns >= b[0].ts_ns);
    }
    assert_int_equal(l.rec[10].type, NCTOP_REC_SPAN_END);
    assert_int_equal(l.rec[10].id, l.rec[0].id);
    rd_close(&r);
    seg_remove(pid);
}

static void test_c_scope_and_reader_handoff(void **state)
{
    (void)state;
    run_scope_helper("sdk_scope");
}

static void test_cxx_scope(void **state)
{
    (void)state;
    run_scope_helper("sdk_scope_cxx");
}

/* NCTOP_READER naming a process that is gone: the segment is removed at exit as usual. */
static void kid_dead_handoff(void)
{
    char buf[32];

    snprintf(buf, sizeof(buf), "%d", (int)kid_hear());
    setenv("NCTOP_READER", buf, 1);
    KID_CHECK(nctop_init(NULL) == 0);
    KID_CHECK(nctop_attached() == 1); /* preset: capturing until the heartbeat goes stale */
    kid_say(1);
}

static void test_handoff_dead_reader_removes(void **state)
{
    struct kid k;
    pid_t gone;
    int status;

    (void)state;
    gone = fork();
    assert_true(gone >= 0);
    if (gone == 0) {
        _exit(0);
    }
    assert_int_equal(waitpid(gone, &status, 0), gone);
    kid_start(&k, kid_dead_handoff);
    kid_send(&k, (uint64_t)gone);
    assert_int_equal(kid_recv(&k), 1);
    assert_int_equal(kid_finish(&k), 0);
    assert_false(seg_exists(k.pid));
}

/* --- more threads than ring slots; explicit shutdown --- */

static void *kid_no_ring_body(void *arg)
{
    (void)arg;
    for (uint32_t i = 0; i < 10000; i++) {
        nctop_span_begin(1);
    }
    return NULL;
}

static void kid_no_ring(void)
{
    struct nctop_opts o = {.sz = sizeof(o), .max_threads = 1, .ring_bytes = 4096};
    pthread_t th;

    KID_CHECK(nctop_init(&o) == 0);
    kid_say(1);
    kid_hear();
    nctop_span_begin(1); /* the main thread takes the only slot */
    KID_CHECK(pthread_create(&th, NULL, kid_no_ring_body, NULL) == 0);
    KID_CHECK(pthread_join(th, NULL) == 0);
    kid_say(nctop_dropped());
    kid_hear();
    nctop_shutdown();
    nctop_shutdown();
    KID_CHECK(!seg_exists(getpid()));
    KID_CHECK(nctop_init(NULL) == -ESHUTDOWN);
    KID_CHECK(nctop_name("after") == 0);
    nctop_span_begin(1);
    KID_CHECK(nctop_attached() == 0);
    kid_say(1);
}

static void test_no_free_ring_and_shutdown(void **state)
{
    struct kid k;
    struct rd r;

    (void)state;
    kid_start(&k, kid_no_ring);
    kid_recv(&k);
    rd_open(&r, k.pid);
    assert_int_equal(r.hdr->rings_max, 1);
    rd_attach(&r);
    kid_send(&k, 1);
    /* Every event of the second thread is counted, whether it scanned the slots or not. */
    assert_int_equal(kid_recv(&k), 10000);
    assert_int_equal(atomic_load(&r.hdr->dropped_no_ring), 10000);
    assert_int_equal(atomic_load(&rd_ring(&r, 0)->head), 16);
    assert_int_equal(rd_ring(&r, 0)->tid, k.pid);
    kid_send(&k, 1);
    assert_int_equal(kid_recv(&k), 1);
    assert_int_equal(kid_finish(&k), 0);
    assert_int_equal(atomic_load(&rd_ring(&r, 0)->head), 16); /* nothing after shutdown */
    rd_close(&r);
}

/* Remove whatever segment a failed case left. */
static int sdk_teardown(void **state)
{
    (void)state;
    for (size_t i = 0; i < kid_npids; i++) {
        seg_remove(kid_pids[i]);
    }
    return 0;
}

/* --- test_issue_13: the clock of the segment ------------------------------------------------ */

/* A span begin stamped by the SDK and a kernel record with the caller's start; then, on each
 * command, one more event, until the test has seen the calibration refreshed. */
static void kid_clock(void)
{
    uint32_t id;

    KID_CHECK(nctop_init(NULL) == 0);
    id = nctop_name("tick");
    kid_say(id);
    kid_hear();
    nctop_span_begin(id);
    nctop_kernel(id, id, nctop_now_ns() - 1000, 5);
    kid_say(1);
    while (kid_hear() != 0) {
        nctop_span_end(id);
        kid_say(1);
    }
}

static void kid_clock_monotonic(void)
{
    setenv("NCTOP_CLOCK", "monotonic", 1);
    kid_clock();
}

/* The conversion the segment's pairs give, checked against our own clock now. */
static struct nctop_seg_conv clock_conv(const struct nctop_seg_header *h)
{
    struct nctop_seg_conv c = {.mult = 1};
    uint64_t tsc = 0, ns = 0, got;

    assert_true(atomic_load(&h->calib_last.mono_ns) - atomic_load(&h->calib_base.mono_ns) >=
                NCTOP_SEG_CALIB_MIN_NS);
    assert_true(nctop_seg_conv_make(&c, h->calib_base.tsc, h->calib_base.mono_ns, h->calib_last.tsc,
                                    h->calib_last.mono_ns));
    nctop_seg_calib_take(&tsc, &ns);
    got = nctop_seg_conv_ns(&c, tsc);
    assert_true(got > ns ? got - ns < 1000000 : ns - got < 1000000); /* within 1 ms */
    return c;
}

static void clock_case(void (*fn)(void), bool want_tsc)
{
    static struct rd_list l;
    struct nctop_seg_conv c0, c1;
    uint64_t before, after, deadline;
    uint32_t seq0;
    struct kid k;
    struct rd r;

    kid_start(&k, fn);
    kid_recv(&k);
    rd_open(&r, k.pid);
    assert_int_equal(r.hdr->clock, want_tsc ? NCTOP_SEG_CLOCK_TSC : NCTOP_SEG_CLOCK_MONOTONIC);
    rd_attach(&r);
    before = test_now_ns();
    kid_send(&k, 1);
    assert_int_equal(kid_recv(&k), 1);
    after = test_now_ns();
    l.n = 0;
    rd_drain(&r, 0, rd_list_add, &l, NULL); /* checks the clock flag of each record */
    assert_int_equal(l.n, 2);
    assert_int_equal(l.rec[0].type, NCTOP_REC_SPAN_BEGIN);
    assert_int_equal(l.rec[1].type, NCTOP_REC_KERNEL);
    assert_true(l.rec[1].ts_ns >= before - 1000 && l.rec[1].ts_ns <= after);
    if (!want_tsc) {
        assert_true(l.rec[0].ts_ns >= before && l.rec[0].ts_ns <= after);
        kid_send(&k, 0);
        assert_int_equal(kid_finish(&k), 0);
        rd_close(&r);
        seg_remove(k.pid);
        return;
    }
    /* Ticks, converted with the pairs, fall between our own clock reads. */
    c0 = clock_conv(r.hdr);
    assert_true(nctop_seg_conv_ns(&c0, l.rec[0].ts_ns) + 1000 >= before);
    assert_true(nctop_seg_conv_ns(&c0, l.rec[0].ts_ns) <= after + 1000);

    /* The first event after NCTOP_SEG_CALIB_FIRST_NS refreshes the latest pair. */
    seq0 = atomic_load(&r.hdr->calib_seq);
    deadline = test_now_ns() + 10 * 1000000000ULL;
    while (atomic_load(&r.hdr->calib_seq) == seq0 && test_now_ns() < deadline) {
        usleep(20000);
        rd_heartbeat(&r);
        kid_send(&k, 1);
        assert_int_equal(kid_recv(&k), 1);
    }
    assert_true(atomic_load(&r.hdr->calib_seq) == seq0 + 2);
    c1 = clock_conv(r.hdr);
    assert_true(c1.tsc > c0.tsc && c1.ns >= c0.ns + NCTOP_SEG_CALIB_FIRST_NS);
    /* The rate agrees with the creation's within 0.1 %. */
    assert_true((c1.mult > c0.mult ? c1.mult - c0.mult : c0.mult - c1.mult) < c0.mult / 1000);
    kid_send(&k, 0);
    assert_int_equal(kid_finish(&k), 0);
    rd_close(&r);
    seg_remove(k.pid);
}

/* Where the kernel trusts the TSC, events carry ticks and the segment the pairs to convert
 * them; elsewhere, or with NCTOP_CLOCK=monotonic, CLOCK_MONOTONIC as before. The records with
 * a caller's start time keep CLOCK_MONOTONIC either way. */
static void test_issue_13_segment_clock(void **state)
{
    (void)state;
    clock_case(kid_clock, nctop_seg_tsc_unusable() == NULL);
    clock_case(kid_clock_monotonic, false);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ring_wrap_concurrent),
        cmocka_unit_test(test_drop_exact_and_gap),
        cmocka_unit_test(test_multi_producer),
        cmocka_unit_test(test_facts_without_reader),
        cmocka_unit_test(test_issue_14_values_and_attrs),
        cmocka_unit_test(test_issue_11_request_records),
        cmocka_unit_test(test_detach_reattach),
        cmocka_unit_test(test_dead_reader),
        cmocka_unit_test(test_issue_10_reader_stall_counted),
        cmocka_unit_test(test_thread_exit_reuse),
        cmocka_unit_test(test_fork_child_segment),
        cmocka_unit_test(test_exit_removes_segment),
        cmocka_unit_test(test_env_options),
        cmocka_unit_test(test_disable),
        cmocka_unit_test(test_invalid_names),
        cmocka_unit_test(test_c_scope_and_reader_handoff),
        cmocka_unit_test(test_cxx_scope),
        cmocka_unit_test(test_handoff_dead_reader_removes),
        cmocka_unit_test(test_no_free_ring_and_shutdown),
        cmocka_unit_test(test_issue_13_segment_clock),
    };

    return cmocka_run_group_tests(tests, NULL, sdk_teardown);
}
