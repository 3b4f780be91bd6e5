/* SPDX-License-Identifier: MIT */
/* The ring collector against real segments made by libnctop in a child process: exact event
 * counts through the reader hand-off, and corrupt, truncated, hostile and random segments,
 * which must give error rows and counters, never a crash. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "collectors/ring.h"
#include "nctop.h"
#include "src/base/util.h"
#include "src/libnctop/seg_clock.h"
#include "src/libnctop/segment.h"
#include "src/model/rows.h"
#include "src/model/store.h"

#define TEST_SPANS 1000

/* A child that publishes through libnctop: names, a weight, a gauge and TEST_SPANS outer/inner
 * span pairs, then waits on a pipe until the test lets it go. */
struct test_child {
    pid_t pid;
    int go; /* write end: closing it lets the child exit */
    char path[64];
};

static void test_child_body(int ready_fd, int go_fd, bool events)
{
    uint32_t outer = nctop_name("outer"), inner = nctop_name("inner");
    uint32_t g = nctop_gauge("pool", NCTOP_MEM_POOL, 0);
    char c;

    nctop_weight_set("layers.0.w", 1024, 0);
    nctop_gauge_set(g, 100, 200);
    nctop_value_set(nctop_value("temperature", "C"), 41.5);
    nctop_value("never_set", NULL);
    nctop_set_attr("target", "cpu");
    for (int i = 0; events && i < TEST_SPANS; i++) {
        nctop_span_begin(outer);
        nctop_span_begin(inner);
        nctop_span_end(inner);
        nctop_span_end(outer);
    }
    if (events) {
        uint32_t compile = nctop_name("compile");

        nctop_span_begin(compile);
        nctop_span_attr(nctop_name("target"), nctop_name("cpu"));
        nctop_span_begin(inner);
        nctop_span_end(inner);
        nctop_span_end_status(compile, nctop_name("does not fit"));
    }
    if (write(ready_fd, "r", 1) != 1) {
        _exit(3);
    }
    while (read(go_fd, &c, 1) > 0) {
    }
    _exit(0);
}

/* Start a child; with handoff it finds our pid in NCTOP_READER and publishes from its first
 * event. Returns once its segment exists. */
static void test_child_start(struct test_child *tc, bool handoff, bool events)
{
    int ready[2], go[2];
    char c, pidbuf[32];

    assert_int_equal(pipe(ready), 0);
    assert_int_equal(pipe(go), 0);
    snprintf(pidbuf, sizeof(pidbuf), "%d", (int)getpid());
    tc->pid = fork();
    assert_true(tc->pid >= 0);
    if (tc->pid == 0) {
        close(ready[0]);
        close(go[1]);
        if (handoff) {
            setenv("NCTOP_READER", pidbuf, 1);
        } else {
            unsetenv("NCTOP_READER");
        }
        test_child_body(ready[1], go[0], events);
    }
    close(ready[1]);
    close(go[0]);
    assert_int_equal(read(ready[0], &c, 1), 1);
    close(ready[0]);
    tc->go = go[1];
    snprintf(tc->path, sizeof(tc->path), "/dev/shm/nctop-%d", (int)tc->pid);
}

static void test_child_stop(struct test_child *tc)
{
    int status = 0;

    close(tc->go);
    waitpid(tc->pid, &status, 0);
    unlink(tc->path);
}

/* Map the child's segment read-write, as a hostile writer would. */
static uint8_t *test_map(const char *path, size_t *size)
{
    int fd = open(path, O_RDWR);
    struct stat st;
    void *p;

    assert_true(fd >= 0);
    assert_int_equal(fstat(fd, &st), 0);
    *size = (size_t)st.st_size;
    p = mmap(NULL, *size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    assert_true(p != MAP_FAILED);
    return p;
}

/* Stamp a reader heartbeat age_ns ago as nctop would: in ns, and in ticks for a TSC segment
 * (converted with the segment's own calibration). */
static void test_heartbeat(struct nctop_seg_header *h, uint64_t age_ns)
{
    atomic_store(&h->reader_heartbeat_ns, util_mono_ns() - age_ns);
    if (h->clock == NCTOP_SEG_CLOCK_TSC) {
        struct nctop_seg_conv c = {.mult = 1};

        assert_true(nctop_seg_conv_make(&c, h->calib_base.tsc, h->calib_base.mono_ns,
                                        h->calib_last.tsc, h->calib_last.mono_ns));
        atomic_store(&h->reader_heartbeat_tsc, nctop_seg_tsc() - nctop_seg_conv_ticks(&c, age_ns));
    }
}

/* Scan and drain the child's segment into a fresh store; returns its summary. */
static struct store *test_collect(pid_t pid, struct rows_summary *sum)
{
    int32_t pids[1] = {pid};
    struct ring_source_opts opts = {.pids = pids, .npids = 1};
    struct store *st = store_new(NULL);
    struct ring_source *rs = ring_source_new(st, &opts);
    uint64_t now = util_mono_ns();

    ring_source_scan(rs, now);
    for (int i = 0; i < 3; i++) {
        ring_source_drain(rs, now + (uint64_t)i * 300000000ULL);
    }
    ring_source_free(rs);
    memset(sum, 0, sizeof(*sum));
    if (store_nprocs(st) > 0) {
        rows_build_summary(sum, store_proc_at(st, 0), now + 1000000000ULL);
    }
    return st;
}

static const struct row *test_find(const struct rows *r, const char *path)
{
    for (size_t i = 0; i < r->n; i++) {
        if (strcmp(r->v[i].path, path) == 0) {
            return &r->v[i];
        }
    }
    return NULL;
}

static void test_handoff_exact(void **state)
{
    struct test_child tc;
    struct rows_summary sum;
    struct store *st;
    struct rows rows;
    const struct row *r;

    (void)state;
    test_child_start(&tc, true, true);
    st = test_collect(tc.pid, &sum);
    assert_int_equal(store_nprocs(st), 1);
    assert_int_equal(sum.state, ROWS_STATE_LIVE);
    assert_int_equal(sum.invalid, 0);
    assert_int_equal(sum.dropped, 0);

    rows_init(&rows);
    rows_build_latency(&rows, store_proc_at(st, 0), util_mono_ns());
    r = test_find(&rows, "outer");
    assert_non_null(r);
    assert_int_equal(r->all.count, TEST_SPANS);
    r = test_find(&rows, "outer/inner");
    assert_non_null(r);
    assert_int_equal(r->all.count, TEST_SPANS);
    assert_int_equal(r->level, 1);
    /* test_issue_15: an end with a status and a span attribute, through the ring. */
    r = test_find(&rows, "compile");
    assert_non_null(r);
    assert_int_equal(r->failed, 1);
    assert_string_equal(r->last_error, "does not fit");
    {
        struct rows_instances in;

        rows_build_instances(&in, store_proc_at(st, 0));
        assert_int_equal(in.n, 1);
        assert_int_equal(in.v[0].status, ROWS_INST_FAILED);
        assert_int_equal(in.v[0].nattrs, 1);
        assert_string_equal(in.v[0].attrs[0].value, "cpu");
        assert_int_equal(in.v[0].nchildren, 1);
        assert_string_equal(in.v[0].children[0].path, "inner");
        rows_instances_done(&in);
    }
    rows_clear(&rows);
    rows_build_memory(&rows, store_proc_at(st, 0), util_mono_ns());
    r = test_find(&rows, "Model Weights/layers/0/w");
    assert_non_null(r);
    assert_int_equal(r->bytes, 1024);
    r = test_find(&rows, "Memory Pools/pool");
    assert_non_null(r);
    assert_int_equal(r->bytes, 100);
    assert_int_equal(r->capacity_bytes, 200);
    rows_done(&rows);
    rows_summary_done(&sum);
    store_free(st);
    test_child_stop(&tc);
}

/* Without the hand-off nothing was published before we attached: no events, but the facts. */
static void test_late_attach_facts(void **state)
{
    struct test_child tc;
    struct rows_summary sum;
    struct store *st;
    struct rows rows;

    (void)state;
    test_child_start(&tc, false, true);
    st = test_collect(tc.pid, &sum);
    assert_int_equal(sum.invalid, 0);
    assert_int_equal(sum.events, 0);
    rows_init(&rows);
    rows_build_memory(&rows, store_proc_at(st, 0), util_mono_ns());
    assert_non_null(test_find(&rows, "Model Weights/layers/0/w"));
    rows_done(&rows);
    rows_summary_done(&sum);
    store_free(st);
    test_child_stop(&tc);
}

static void test_expect_refused(pid_t pid, const char *needle)
{
    struct rows_summary sum;
    struct store *st = test_collect(pid, &sum);

    assert_int_equal(store_nprocs(st), 1);
    assert_int_equal(sum.state, ROWS_STATE_ERROR);
    assert_true(sum.invalid >= 1);
    assert_non_null(sum.reason);
    if (strstr(sum.reason, needle) == NULL) {
        fail_msg("reason '%s' lacks '%s'", sum.reason, needle);
    }
    rows_summary_done(&sum);
    store_free(st);
}

static void test_wrong_version(void **state)
{
    struct test_child tc;
    struct nctop_seg_header *h;
    size_t size;

    (void)state;
    test_child_start(&tc, false, false);
    h = (struct nctop_seg_header *)test_map(tc.path, &size);
    h->abi_version = 99;
    test_expect_refused(tc.pid, "ABI version");
    munmap(h, size);
    test_child_stop(&tc);
}

static void test_truncated(void **state)
{
    struct test_child tc;

    (void)state;
    test_child_start(&tc, false, false);
    assert_int_equal(truncate(tc.path, 8192), 0);
    test_expect_refused(tc.pid, "size");
    test_child_stop(&tc);
}

static void test_lying_layout(void **state)
{
    static const size_t fields[] = {
        offsetof(struct nctop_seg_header, strings_off),
        offsetof(struct nctop_seg_header, rings_off),
        offsetof(struct nctop_seg_header, ring_stride),
        offsetof(struct nctop_seg_header, weights_off),
    };

    (void)state;
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        struct test_child tc;
        uint8_t *base;
        size_t size;
        uint64_t lie = UINT64_MAX - 7;

        test_child_start(&tc, false, false);
        base = test_map(tc.path, &size);
        memcpy(base + fields[i], &lie, sizeof(lie));
        test_expect_refused(tc.pid, "outside");
        munmap(base, size);
        test_child_stop(&tc);
    }
}

/* Valid header, hostile contents: lying counts, string lengths, ring positions, records. */
static void test_hostile_contents(void **state)
{
    struct test_child tc;
    struct nctop_seg_header *h;
    struct nctop_seg_ring *r;
    struct rows_summary sum;
    struct store *st;
    uint8_t *base, *data;
    uint32_t *offs;
    size_t size;

    (void)state;
    test_child_start(&tc, true, true);
    base = test_map(tc.path, &size);
    h = (struct nctop_seg_header *)base;
    /* A string entry whose length runs past the arena, and a count beyond the table. */
    offs = (uint32_t *)(base + h->stroff_off);
    memcpy(base + h->strings_off + offs[1], &(uint32_t){0xfffffff0U}, 4);
    atomic_store(&h->strings_count, UINT32_MAX);
    atomic_store(&h->gauges_count, UINT32_MAX);
    /* Records with zero length, an unknown type, an unknown id. */
    r = (struct nctop_seg_ring *)(base + h->rings_off);
    data = (uint8_t *)(r + 1);
    {
        uint64_t tail = atomic_load(&r->tail);
        struct nctop_rec rec = {.type = 77, .words = 2, .id = 1};
        struct nctop_rec bad_id = {.type = NCTOP_REC_SPAN_BEGIN, .words = 2, .id = 0x7fffffff};
        struct nctop_rec zero = {.type = NCTOP_REC_SPAN_END, .words = 0, .id = 1};
        uint64_t mask = h->ring_bytes - 1;

        memcpy(data + (tail & mask), &rec, sizeof(rec));
        memcpy(data + ((tail + 16) & mask), &bad_id, sizeof(bad_id));
        memcpy(data + ((tail + 32) & mask), &zero, sizeof(zero));
        atomic_store(&r->head, tail + 48);
    }
    st = test_collect(tc.pid, &sum);
    assert_int_equal(sum.state, ROWS_STATE_LIVE);
    assert_true(sum.invalid >= 3);
    assert_non_null(sum.invalid_reason);
    rows_summary_done(&sum);
    store_free(st);

    /* Ring positions that lie: head far beyond tail. */
    atomic_store(&r->head, atomic_load(&r->tail) + 16ULL * h->ring_bytes);
    st = test_collect(tc.pid, &sum);
    assert_true(sum.invalid >= 1);
    rows_summary_done(&sum);
    store_free(st);
    munmap(base, size);
    test_child_stop(&tc);
}

/* Random bytes where a segment should be, at many sizes, and random record streams behind a
 * valid header: never a crash; memory stays bounded (ASan checks leaks). */
static void test_random_segments(void **state)
{
    static const size_t sizes[] = {0, 7, 4096, 4097, 65536, 1 << 20};
    struct test_child tc;
    unsigned seed = 12345;

    (void)state;
    test_child_start(&tc, true, false);
    for (int round = 0; round < 60; round++) {
        struct rows_summary sum;
        struct store *st;
        uint8_t *base;
        size_t size;

        if (round < 12) {
            /* Pure garbage of several sizes. */
            size_t n = sizes[round % 6];
            int fd = open(tc.path, O_RDWR | O_CREAT | O_TRUNC, 0600);
            uint8_t *buf = malloc(n ? n : 1);

            assert_true(fd >= 0);
            for (size_t i = 0; i < n; i++) {
                buf[i] = (uint8_t)rand_r(&seed);
            }
            if (round % 2) {
                memcpy(buf, "XX", n < 2 ? n : 2); /* a non-zero magic: not being created */
            }
            assert_int_equal(write(fd, buf, n), (ssize_t)n);
            close(fd);
            free(buf);
            st = test_collect(tc.pid, &sum);
            rows_summary_done(&sum);
            store_free(st);
            continue;
        }
        if (round == 12) {
            /* A fresh valid segment for the next rounds. */
            test_child_stop(&tc);
            test_child_start(&tc, true, true);
        }
        base = test_map(tc.path, &size);
        {
            struct nctop_seg_header *h = (struct nctop_seg_header *)base;
            struct nctop_seg_ring *r = (struct nctop_seg_ring *)(base + h->rings_off);
            uint8_t *data = (uint8_t *)(r + 1);
            uint64_t tail = atomic_load(&r->tail), n = 8 * (1 + rand_r(&seed) % 512);

            for (uint64_t i = 0; i < n; i++) {
                data[(tail + i) & (h->ring_bytes - 1)] = (uint8_t)rand_r(&seed);
            }
            atomic_store(&r->head, tail + n);
        }
        munmap(base, size);
        st = test_collect(tc.pid, &sum);
        assert_int_not_equal(sum.state, ROWS_STATE_EXITED);
        rows_summary_done(&sum);
        store_free(st);
    }
    test_child_stop(&tc);
}

/* Cut short while attached: given up as an error row before any read can fault. */
static void test_truncated_while_attached(void **state)
{
    struct test_child tc;
    int32_t pids[1];
    struct ring_source_opts opts = {.pids = pids, .npids = 1};
    struct store *st = store_new(NULL);
    struct ring_source *rs;
    struct rows_summary sum;

    (void)state;
    test_child_start(&tc, true, true);
    pids[0] = tc.pid;
    rs = ring_source_new(st, &opts);
    ring_source_scan(rs, util_mono_ns());
    assert_int_equal(ring_source_live(rs), 1);
    assert_int_equal(truncate(tc.path, 8192), 0);
    ring_source_drain(rs, util_mono_ns());
    assert_int_equal(ring_source_live(rs), 0);
    rows_build_summary(&sum, store_proc_at(st, 0), util_mono_ns());
    assert_int_equal(sum.state, ROWS_STATE_ERROR);
    assert_non_null(strstr(sum.reason, "truncated"));
    rows_summary_done(&sum);
    ring_source_drain(rs, util_mono_ns()); /* nothing left to read, nothing to fault */
    ring_source_free(rs);
    store_free(st);
    test_child_stop(&tc);
}

/* A segment of a process that died without removing it is stale: removed, not shown. */
static void test_stale_removed(void **state)
{
    struct test_child tc;
    struct store *st = store_new(NULL);
    struct ring_source *rs;
    struct ring_source_stats stats;
    int status;

    (void)state;
    test_child_start(&tc, false, false);
    kill(tc.pid, SIGKILL);
    waitpid(tc.pid, &status, 0);
    assert_int_equal(access(tc.path, F_OK), 0);
    rs = ring_source_new(st, NULL);
    ring_source_scan(rs, util_mono_ns());
    ring_source_get_stats(rs, &stats);
    assert_true(stats.stale_removed >= 1);
    assert_int_equal(access(tc.path, F_OK), -1);
    assert_false(ring_source_has_pid(rs, tc.pid));

    /* An empty file: its creator died between creating and sizing it. */
    {
        int fd = open(tc.path, O_RDWR | O_CREAT | O_EXCL, 0600);

        assert_true(fd >= 0);
        close(fd);
        ring_source_scan(rs, util_mono_ns());
        assert_int_equal(access(tc.path, F_OK), -1);
    }
    ring_source_free(rs);
    store_free(st);
    close(tc.go);
}

/* --- issue 10: a reader that survives whatever the writer does ---------------------------- */

/* Attach a source to one pid; the caller drains and frees it. */
static struct ring_source *test_attach(struct store *st, int32_t *pid)
{
    struct ring_source_opts opts = {.pids = pid, .npids = 1};
    struct ring_source *rs = ring_source_new(st, &opts);

    ring_source_scan(rs, util_mono_ns());
    return rs;
}

static void test_expect_error_row(struct store *st, const char *needle)
{
    struct rows_summary sum;

    assert_true(store_nprocs(st) >= 1);
    rows_build_summary(&sum, store_proc_at(st, 0), util_mono_ns());
    assert_int_equal(sum.state, ROWS_STATE_ERROR);
    assert_non_null(sum.reason);
    if (strstr(sum.reason, needle) == NULL) {
        fail_msg("reason '%s' lacks '%s'", sum.reason, needle);
    }
    rows_summary_done(&sum);
}

/* The header fields a hostile writer rewrites after attach, with the values that hurt. */
static void test_rewrite_header(uint8_t *base, size_t size, unsigned round)
{
    struct nctop_seg_header *h = (struct nctop_seg_header *)base;
    uint32_t *offs = (uint32_t *)(base + 4096); /* where the SDK puts the offsets table */
    struct nctop_seg_ring *r0 = (struct nctop_seg_ring *)(base + h->rings_off);

    switch (round % 8) {
    case 0:
        h->rings_max = 1U << 30;
        atomic_store(&h->rings_count, 1U << 30);
        break;
    case 1:
        h->rings_off = size - 64;
        h->ring_stride = 1ULL << 40;
        break;
    case 2:
        h->strings_max = 0xffffffffU;
        atomic_store(&h->strings_count, 0xffffffffU);
        break;
    case 3:
        atomic_store(&h->strings_count, 60000);
        for (uint32_t i = 1; i < 60000; i++) {
            offs[i] = 0xfffffff0U - i * 4;
        }
        break;
    case 4:
        memset(r0->name, 'A', sizeof(r0->name) + 8); /* no NUL, and over the padding */
        atomic_store(&r0->generation, round);
        break;
    case 5:
        h->strings_off = size - 8;
        h->strings_bytes = 0xffffffffU;
        h->gauges_max = 0xffffffffU;
        atomic_store(&h->gauges_count, 0xffffffffU);
        break;
    case 6:
        h->weights_off = size - 16;
        h->weights_max = 0xffffffffU;
        atomic_store(&h->weights_count, 0xffffffffU);
        h->counters_max = 0xffffffffU;
        atomic_store(&h->counters_count, 0xffffffffU);
        break;
    default:
        h->ring_bytes = 0x80000000U;
        h->created_mono_ns = 0;
        break;
    }
}

/* Header fields rewritten after attach, between drains and in a racing writer: nctop keeps
 * what it validated at attach, so nothing is read or written out of bounds and it never
 * loops (an alarm fails the test instead of hanging). */
static void test_issue_10_hostile_writer(void **state)
{
    struct test_child tc;
    struct store *st = store_new(NULL);
    struct ring_source *rs;
    int32_t pid;
    uint8_t *base;
    size_t size;
    pid_t writer;
    int status;

    (void)state;
    test_child_start(&tc, true, true);
    pid = tc.pid;
    rs = test_attach(st, &pid);
    assert_int_equal(ring_source_live(rs), 1);
    alarm(60);

    /* Deterministic: one field set at a time, a drain after each. */
    base = test_map(tc.path, &size);
    for (unsigned round = 0; round < 8; round++) {
        test_rewrite_header(base, size, round);
        ring_source_drain(rs, util_mono_ns() + (uint64_t)round * 300000000ULL);
        ring_source_scan(rs, util_mono_ns());
    }
    munmap(base, size);

    /* A writer that keeps rewriting while we drain. */
    writer = fork();
    assert_true(writer >= 0);
    if (writer == 0) {
        base = test_map(tc.path, &size);
        for (unsigned round = 0;; round++) {
            test_rewrite_header(base, size, round);
        }
    }
    for (int i = 0; i < 200; i++) {
        ring_source_drain(rs, util_mono_ns() + (uint64_t)i * 300000000ULL);
    }
    kill(writer, SIGKILL);
    waitpid(writer, &status, 0);
    alarm(0);
    assert_true(store_nprocs(st) >= 1);
    ring_source_free(rs);
    store_free(st);
    test_child_stop(&tc);
}

/* A string arena of 0..4 bytes: the length checks must not wrap and accept an entry that
 * lies beyond the arena. */
static void test_issue_10_tiny_arena(void **state)
{
    for (uint32_t bytes = 0; bytes <= 4; bytes++) {
        struct test_child tc;
        struct nctop_seg_header *h;
        struct rows_summary sum;
        struct store *st;
        uint8_t *base, *arena;
        size_t size;

        (void)state;
        test_child_start(&tc, false, false);
        base = test_map(tc.path, &size);
        h = (struct nctop_seg_header *)base;
        arena = base + h->strings_off;
        /* Entry 1 at offset 0: length 1, "X", NUL: all of it past a tiny arena. */
        memcpy(arena, &(uint32_t){1}, 4);
        arena[4] = 'X';
        arena[5] = '\0';
        ((uint32_t *)(base + h->stroff_off))[1] = 0;
        h->strings_bytes = bytes;
        atomic_store(&h->strings_count, 2);
        st = test_collect(tc.pid, &sum);
        if (sum.invalid < 1 || sum.invalid_reason == NULL ||
            strstr(sum.invalid_reason, "string") == NULL) {
            fail_msg("arena of %u bytes: entry accepted (invalid %llu)", bytes,
                     (unsigned long long)sum.invalid);
        }
        rows_summary_done(&sum);
        store_free(st);
        munmap(base, size);
        test_child_stop(&tc);
    }
}

/* The file cut to `len` bytes while attached: an error row, no SIGBUS, whichever part of the
 * reader touches the mapping first (the drain at once, or the claim in a later scan). */
static void test_truncate_attached(off_t len, bool claim)
{
    struct test_child tc;
    struct store *st = store_new(NULL);
    struct ring_source *rs;
    int32_t pid;
    uint64_t now;

    test_child_start(&tc, !claim, true);
    pid = tc.pid;
    if (claim) {
        /* Another live reader owns the events: we attach without claiming. */
        size_t size;
        struct nctop_seg_header *h = (struct nctop_seg_header *)test_map(tc.path, &size);

        atomic_store(&h->reader_pid, (int32_t)getppid());
        test_heartbeat(h, 0);
        munmap(h, size);
    }
    rs = test_attach(st, &pid);
    assert_int_equal(ring_source_live(rs), 1);
    assert_int_equal(truncate(tc.path, len), 0);
    now = util_mono_ns();
    if (claim) {
        ring_source_scan(rs, now + 6000000000ULL); /* the other reader looks dead now */
    }
    ring_source_drain(rs, now + 1000);
    ring_source_drain(rs, now + 2000000000ULL);
    assert_int_equal(ring_source_live(rs), 0);
    test_expect_error_row(st, "truncated");
    ring_source_drain(rs, util_mono_ns());
    ring_source_free(rs);
    store_free(st);
    test_child_stop(&tc);
}

static void test_issue_10_truncated_below_page(void **state)
{
    (void)state;
    test_truncate_attached(100, false);
}

static void test_issue_10_truncated_to_zero(void **state)
{
    (void)state;
    test_truncate_attached(0, false);
}

static void test_issue_10_truncated_claim(void **state)
{
    (void)state;
    test_truncate_attached(0, true);
}

static uint64_t test_rss_kb(void)
{
    char line[256];
    uint64_t kb = 0;
    FILE *f = fopen("/proc/self/status", "r");

    assert_non_null(f);
    while (fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, "VmRSS:", 6) == 0) {
            kb = strtoull(line + 6, NULL, 10);
        }
    }
    fclose(f);
    return kb;
}

/* 2^28 string ids in a valid segment: the reader must return fast with bounded memory and
 * count what it refused. Prints the time and the RSS growth for the record. */
/* Grow tc's segment so that its string offsets table, moved past the old end, holds max
 * ids (sparse: it reads as 0, so every id names the first entry of the arena); count of them
 * published. Returns the mapping (read-write, *size bytes) with the header rewritten. */
static uint8_t *test_grow_strings(const struct test_child *tc, uint32_t max, uint32_t count,
                                  size_t *size)
{
    struct nctop_seg_header *h;
    uint64_t old_size;
    uint8_t *base = test_map(tc->path, size);

    old_size = ((struct nctop_seg_header *)base)->segment_bytes;
    munmap(base, *size);
    assert_int_equal(truncate(tc->path, (off_t)(old_size + (uint64_t)max * 4)), 0);
    base = test_map(tc->path, size);
    h = (struct nctop_seg_header *)base;
    h->segment_bytes = *size;
    h->stroff_off = old_size;
    h->strings_max = max;
    atomic_store(&h->strings_count, count);
    return base;
}

static void test_issue_10_huge_string_table(void **state)
{
    const uint32_t ids = 1U << 28;
    struct test_child tc;
    struct store *st = store_new(NULL);
    struct ring_source *rs;
    struct rows_summary sum;
    struct timespec t0, t1;
    uint64_t rss0, rss1;
    uint8_t *base;
    size_t size;
    int32_t pid;
    double secs;

    (void)state;
    test_child_start(&tc, false, false);
    base = test_grow_strings(&tc, ids, ids, &size);
    munmap(base, size);

    pid = tc.pid;
    rss0 = test_rss_kb();
    clock_gettime(CLOCK_MONOTONIC, &t0);
    rs = test_attach(st, &pid);
    for (int i = 0; i < 3; i++) {
        ring_source_drain(rs, util_mono_ns() + (uint64_t)i * 300000000ULL);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    rss1 = test_rss_kb();
    secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    print_message("huge string table: %.3f s, RSS +%llu kB\n", secs,
                  (unsigned long long)(rss1 - rss0));
    assert_true(ring_source_live(rs) == 1);
    rows_build_summary(&sum, store_proc_at(st, 0), util_mono_ns());
    assert_int_equal(sum.state, ROWS_STATE_LIVE);
    /* Ids beyond the reader's limit are refused and counted, not walked. */
    assert_int_equal(sum.losses[STORE_LOSS_LIMIT], ids - (1U << 20));
    assert_true(sum.dropped >= ids - (1U << 20));
    rows_summary_done(&sum);
    ring_source_free(rs);
    store_free(st);
    test_child_stop(&tc);
    assert_true(secs < 5.0);
    assert_true(rss1 - rss0 < 256 * 1024);
}

/* A record naming an id past what one drain may mirror of the string table (its budget)
 * waits for the next drain, which mirrors more: it is not counted invalid. The table is grown
 * to 200 000 published ids (sparse: all name the arena's first entry) and a span pair naming
 * the last one is appended to the child's ring after its own records. Without the wait, the
 * pair was 2 "corrupt records". */
static void test_issue_10_names_past_the_drain_budget(void **state)
{
    const uint32_t ids = 200000;
    struct test_child tc;
    struct nctop_seg_header *h;
    struct nctop_seg_ring *ring;
    struct nctop_rec last = {0}, rec;
    uint8_t pair[2 * sizeof(struct nctop_rec)];
    char first_name[64];
    uint32_t len;
    struct store *st = store_new(NULL);
    struct ring_source *rs;
    struct rows_summary sum;
    struct rows r;
    const struct row *top;
    uint64_t head;
    uint8_t *base, *data;
    size_t size;
    int32_t pid;

    (void)state;
    test_child_start(&tc, true, true);
    base = test_grow_strings(&tc, ids + 1U, ids + 1U, &size);
    h = (struct nctop_seg_header *)base;
    memcpy(&len, base + h->strings_off, sizeof(len));
    assert_true(len > 0 && len < sizeof(first_name));
    memcpy(first_name, base + h->strings_off + 4, len);
    first_name[len] = '\0';
    /* The pair goes after the child's records, stamped like its last one. */
    ring = (struct nctop_seg_ring *)(base + h->rings_off);
    data = (uint8_t *)(ring + 1);
    head = atomic_load(&ring->head);
    assert_true(head > 0 && head + sizeof(pair) <= h->ring_bytes);
    for (uint64_t pos = 0; pos < head; pos += (uint64_t)last.words * 8) {
        memcpy(&last, data + pos, sizeof(last));
        assert_true(last.words >= 2);
    }
    rec = (struct nctop_rec){.type = NCTOP_REC_SPAN_BEGIN,
                             .flags = last.flags,
                             .words = 2,
                             .id = ids,
                             .ts_ns = last.ts_ns};
    memcpy(pair, &rec, sizeof(rec));
    rec.type = NCTOP_REC_SPAN_END;
    memcpy(pair + sizeof(rec), &rec, sizeof(rec));
    memcpy(data + head, pair, sizeof(pair));
    atomic_store(&ring->head, head + sizeof(pair));
    munmap(base, size);

    pid = tc.pid;
    rs = test_attach(st, &pid);
    for (int i = 0; i < 6; i++) {
        ring_source_drain(rs, util_mono_ns());
        rows_build_summary(&sum, store_proc_at(st, 0), util_mono_ns());
        if (sum.invalid != 0) {
            print_message("drain %d: %s\n", i, sum.invalid_reason);
        }
        assert_int_equal(sum.invalid, 0);
        rows_summary_done(&sum);
    }
    /* Every id names the arena's first entry: the child's spans (outer, inner in it,
     * compile), then ours. */
    rows_init(&r);
    rows_build_latency(&r, store_proc_at(st, 0), util_mono_ns());
    top = test_find(&r, first_name);
    assert_non_null(top);
    assert_int_equal(top->all.count, TEST_SPANS + 2);
    rows_done(&r);
    ring_source_free(rs);
    store_free(st);
    test_child_stop(&tc);
}

/* A child that emits 10 span pairs each time it reads a byte, and answers with a byte. */
struct test_emitter {
    pid_t pid;
    int cmd;   /* write end */
    int reply; /* read end */
    char path[64];
};

static void test_emitter_start(struct test_emitter *e, bool handoff)
{
    int cmd[2], reply[2];
    char pidbuf[32], c;

    assert_int_equal(pipe(cmd), 0);
    assert_int_equal(pipe(reply), 0);
    snprintf(pidbuf, sizeof(pidbuf), "%d", (int)getpid());
    e->pid = fork();
    assert_true(e->pid >= 0);
    if (e->pid == 0) {
        uint32_t id;

        close(cmd[1]);
        close(reply[0]);
        if (handoff) {
            setenv("NCTOP_READER", pidbuf, 1);
        } else {
            unsetenv("NCTOP_READER");
        }
        id = nctop_name("emit");
        while (write(reply[1], "r", 1) == 1 && read(cmd[0], &c, 1) == 1) {
            for (int i = 0; i < 10; i++) {
                nctop_span_begin(id);
                nctop_span_end(id);
            }
        }
        _exit(0);
    }
    close(cmd[0]);
    close(reply[1]);
    e->cmd = cmd[1];
    e->reply = reply[0];
    assert_int_equal(read(e->reply, &c, 1), 1);
    snprintf(e->path, sizeof(e->path), "/dev/shm/nctop-%d", (int)e->pid);
}

static void test_emitter_emit(struct test_emitter *e)
{
    char c;

    assert_int_equal(write(e->cmd, "e", 1), 1);
    assert_int_equal(read(e->reply, &c, 1), 1);
}

static void test_emitter_stop(struct test_emitter *e)
{
    int status;

    close(e->cmd);
    close(e->reply);
    waitpid(e->pid, &status, 0);
    unlink(e->path);
}

/* Events the SDK did not write while nctop was stalled are counted and shown, and the
 * reader takes its role back at the next drain. */
static void test_issue_10_reader_stall_shown(void **state)
{
    struct test_emitter e;
    struct store *st = store_new(NULL);
    struct ring_source *rs;
    struct rows_summary sum;
    struct nctop_seg_header *h;
    size_t size;
    int32_t pid;
    uint64_t now;

    (void)state;
    test_emitter_start(&e, true);
    pid = e.pid;
    rs = test_attach(st, &pid);
    now = util_mono_ns();
    ring_source_drain(rs, now);
    test_emitter_emit(&e); /* 20 events read */
    ring_source_drain(rs, util_mono_ns());

    /* nctop stalls: its heartbeat looks 6 s old; 2 x 20 events are not written. */
    h = (struct nctop_seg_header *)test_map(e.path, &size);
    test_heartbeat(h, 6000000000ULL);
    test_emitter_emit(&e);
    test_emitter_emit(&e);
    assert_int_equal(atomic_load(&h->reader_pid), -(int32_t)getpid());
    ring_source_drain(rs, util_mono_ns() + 300000000ULL);
    assert_int_equal(atomic_load(&h->reader_pid), (int32_t)getpid());
    test_emitter_emit(&e); /* flowing again */
    ring_source_drain(rs, util_mono_ns() + 600000000ULL);

    rows_build_summary(&sum, store_proc_at(st, 0), util_mono_ns());
    assert_int_equal(sum.losses[STORE_LOSS_READER_STALL], 40);
    assert_int_equal(sum.dropped, 40);
    assert_int_equal(sum.events, 40);
    rows_summary_done(&sum);
    munmap(h, size);
    ring_source_free(rs);
    store_free(st);
    test_emitter_stop(&e);
}

/* Registrations the SDK refused (a full table) and the other producer counts reach the
 * summary: 934 466 names gone used to show "dropped 0". */
static void test_issue_10_registration_refused_shown(void **state)
{
    struct test_child tc;
    struct nctop_seg_header *h;
    struct rows_summary sum;
    struct store *st;
    size_t size;

    (void)state;
    test_child_start(&tc, false, false);
    h = (struct nctop_seg_header *)test_map(tc.path, &size);
    atomic_store(&h->registration_full, 934466);
    atomic_store(&h->dropped_no_ring, 5);
    st = test_collect(tc.pid, &sum);
    assert_int_equal(sum.losses[STORE_LOSS_REGISTRATION], 934466);
    assert_int_equal(sum.losses[STORE_LOSS_NO_RING], 5);
    assert_int_equal(sum.dropped, 934466 + 5);
    rows_summary_done(&sum);
    store_free(st);
    munmap(h, size);
    test_child_stop(&tc);
}

/* test_issue_14: values and attributes reach the store; a value never set is not shown. */
static void test_issue_14_values_and_attrs(void **state)
{
    struct test_child tc;
    struct rows_summary sum;
    struct store *st;

    (void)state;
    test_child_start(&tc, false, false);
    st = test_collect(tc.pid, &sum);
    assert_int_equal(sum.nvalues, 1);
    assert_string_equal(sum.values[0].name, "temperature");
    assert_string_equal(sum.values[0].unit, "C");
    assert_true(sum.values[0].value == 41.5);
    assert_int_equal(sum.nattrs, 1);
    assert_string_equal(sum.attrs[0].key, "target");
    assert_string_equal(sum.attrs[0].value, "cpu");
    assert_string_equal(store_proc_attr(store_proc_at(st, 0), "target"), "cpu");
    rows_summary_done(&sum);
    store_free(st);
    test_child_stop(&tc);
}

/* A segment of ABI 3 (a libnctop of the previous release) is still read: its shorter header
 * is accepted and the bytes after it are not taken for version 4's tables. */
static void test_issue_14_abi3_segment_read(void **state)
{
    struct test_child tc;
    struct nctop_seg_header *h;
    struct rows_summary sum;
    struct store *st;
    size_t size;

    (void)state;
    test_child_start(&tc, false, false);
    h = (struct nctop_seg_header *)test_map(tc.path, &size);
    h->abi_version = 3;
    h->header_bytes = NCTOP_SEG_HEADER_BYTES_V3;
    st = test_collect(tc.pid, &sum);
    assert_int_equal(store_nprocs(st), 1);
    assert_int_equal(sum.state, ROWS_STATE_LIVE);
    assert_int_equal(sum.invalid, 0);
    assert_int_equal(sum.nvalues, 0);
    assert_int_equal(sum.nattrs, 0);
    rows_summary_done(&sum);
    store_free(st);
    munmap(h, size);
    test_child_stop(&tc);
}

/* test_issue_10: a table that does not begin on a cache line is refused (found by the fuzz
 * campaign: ring slots at a misaligned rings_off were read as 64-byte aligned structs). */
static void test_issue_10_misaligned_tables_refused(void **state)
{
    struct test_child tc;
    struct nctop_seg_header *h;
    size_t size;

    (void)state;
    test_child_start(&tc, false, false);
    h = (struct nctop_seg_header *)test_map(tc.path, &size);
    h->rings_off += 8; /* inside the segment still: one ring slot fewer */
    h->rings_max -= 1;
    test_expect_refused(tc.pid, "not aligned to cache lines");
    munmap(h, size);
    test_child_stop(&tc);
}

/* A segment of an ABI older than the oldest one read is refused with one line naming the
 * versions. */
static void test_issue_10_old_abi_refused(void **state)
{
    struct test_child tc;
    struct nctop_seg_header *h;
    size_t size;

    (void)state;
    test_child_start(&tc, false, false);
    h = (struct nctop_seg_header *)test_map(tc.path, &size);
    h->abi_version = NCTOP_SEG_ABI_OLDEST - 1;
    test_expect_refused(tc.pid, "ABI version 1 (this nctop reads versions 2 to 6)");
    munmap(h, size);
    test_child_stop(&tc);
}

/* Past the segment limit new workloads are refused with a visible row; the segment of a
 * dead workload makes room (oldest first), and the row goes away. */
static void test_issue_10_too_many_segments(void **state)
{
    struct test_child tc[3];
    int32_t pids[3];
    struct ring_source_opts opts = {.pids = pids, .npids = 3, .max_segments = 2};
    struct store *st = store_new(NULL);
    struct ring_source *rs;
    struct ring_source_stats stats;
    struct rows_summary sum;
    struct store_proc *lim;
    int status;

    (void)state;
    for (int i = 0; i < 3; i++) {
        test_child_start(&tc[i], false, false);
        pids[i] = tc[i].pid;
    }
    rs = ring_source_new(st, &opts);
    ring_source_scan(rs, util_mono_ns());
    ring_source_get_stats(rs, &stats);
    assert_int_equal(stats.live, 2);
    assert_int_equal(stats.max_segments, 2);
    assert_true(stats.refused_limit >= 1);
    lim = store_proc_find(st, 0);
    assert_non_null(lim);
    rows_build_summary(&sum, lim, util_mono_ns());
    assert_int_equal(sum.state, ROWS_STATE_ERROR);
    assert_non_null(strstr(sum.reason, "too many segments: 1 workload(s) not attached (limit 2)"));
    rows_summary_done(&sum);

    /* The first one dies (without cleaning up): its row makes room for the third. */
    kill(tc[0].pid, SIGKILL);
    waitpid(tc[0].pid, &status, 0);
    close(tc[0].go);
    ring_source_scan(rs, util_mono_ns()); /* sees it dead: exited */
    ring_source_scan(rs, util_mono_ns()); /* full: the dead one goes, the third comes */
    ring_source_get_stats(rs, &stats);
    assert_int_equal(stats.live, 2);
    assert_true(ring_source_has_pid(rs, tc[2].pid));
    assert_false(ring_source_has_pid(rs, tc[0].pid));
    assert_int_equal(access(tc[0].path, F_OK), -1); /* a dead process's segment is removed */
    assert_null(store_proc_find(st, 0));
    ring_source_free(rs);
    store_free(st);
    /* Later children hold copies of the earlier ones' pipes: stop the last one first. */
    test_child_stop(&tc[2]);
    test_child_stop(&tc[1]);
}

/* Exited workloads age out after the store's exited_keep_ns (their rows and segment files
 * go); the command nctop started is never forgotten. */
static void test_issue_10_exited_age_out(void **state)
{
    struct store_config cfg = {.exited_keep_ns = 1000000ULL};
    struct store *st = store_new(&cfg);
    struct ring_source_opts opts = {.root_pid = (int32_t)getpid()};
    struct ring_source *rs = ring_source_new(st, &opts);
    struct ring_source_stats stats;
    struct test_child tc;
    uint64_t now;
    int status;

    (void)state;
    test_child_start(&tc, false, false);
    now = util_mono_ns();
    ring_source_scan(rs, now);
    assert_true(ring_source_has_pid(rs, tc.pid));
    assert_non_null(store_proc_find(st, tc.pid));
    kill(tc.pid, SIGKILL);
    waitpid(tc.pid, &status, 0);
    close(tc.go);
    ring_source_scan(rs, now + 1000);
    assert_int_equal(store_proc_state(store_proc_find(st, tc.pid)), STORE_PROC_EXITED);
    assert_int_equal(access(tc.path, F_OK), -1);
    ring_source_scan(rs, now + 2000000ULL);
    ring_source_get_stats(rs, &stats);
    assert_int_equal(stats.forgotten, 1);
    assert_false(ring_source_has_pid(rs, tc.pid));
    assert_null(store_proc_find(st, tc.pid));
    ring_source_free(rs);
    store_free(st);
}

/* test_issue_11: a workload attached late is inside spans begun while nobody read it. Their
 * ends, and the spans that ran inside them after the attach, are neither counted nor shown:
 * the child opens step/forward/block/attn unread, then, once read, closes them after a sibling
 * of each, and runs 5 whole steps. Only those count; nothing else is a root. */
static void test_issue_11_late_attach_mid_span(void **state)
{
    struct store *st = store_new(NULL);
    struct ring_source *rs;
    struct rows rows;
    struct rows_summary sum;
    int cmd[2], reply[2];
    int32_t pid;
    pid_t child;
    char c;

    (void)state;
    assert_int_equal(pipe(cmd), 0);
    assert_int_equal(pipe(reply), 0);
    child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        const char *const names[] = {"step", "forward", "block", "attn", "mlp", "output"};
        uint32_t id[6];

        close(cmd[1]);
        close(reply[0]);
        unsetenv("NCTOP_READER");
        for (int i = 0; i < 6; i++) {
            id[i] = nctop_name(names[i]);
        }
        for (int i = 0; i < 4; i++) {
            nctop_span_begin(id[i]); /* nobody reads yet: not written */
        }
        if (write(reply[1], "r", 1) != 1 || read(cmd[0], &c, 1) != 1) {
            _exit(3);
        }
        /* attn ends, mlp runs inside block, block and forward end, output runs inside step,
         * step ends */
        nctop_span_end(id[3]);
        nctop_span_begin(id[4]);
        nctop_span_end(id[4]);
        nctop_span_end(id[2]);
        nctop_span_end(id[1]);
        nctop_span_begin(id[5]);
        nctop_span_end(id[5]);
        nctop_span_end(id[0]);
        for (int k = 0; k < 5; k++) {
            for (int i = 0; i < 4; i++) {
                nctop_span_begin(id[i]);
            }
            for (int i = 3; i >= 0; i--) {
                nctop_span_end(id[i]);
            }
        }
        if (write(reply[1], "d", 1) != 1 || read(cmd[0], &c, 1) < 0) {
            _exit(3);
        }
        _exit(0);
    }
    close(cmd[0]);
    close(reply[1]);
    assert_int_equal(read(reply[0], &c, 1), 1);
    pid = child;
    rs = test_attach(st, &pid);
    assert_int_equal(store_nprocs(st), 1);
    assert_int_equal(write(cmd[1], "g", 1), 1);
    assert_int_equal(read(reply[0], &c, 1), 1);
    ring_source_drain(rs, util_mono_ns());

    rows_init(&rows);
    rows_build_latency(&rows, store_proc_at(st, 0), util_mono_ns());
    for (size_t i = 0; i < rows.n; i++) {
        if (rows.v[i].level == 0 && strcmp(rows.v[i].path, "step") != 0) {
            fail_msg("orphan root row %s", rows.v[i].path);
        }
    }
    assert_non_null(test_find(&rows, "step"));
    assert_int_equal(test_find(&rows, "step")->all.count, 5);
    assert_int_equal(test_find(&rows, "step/forward/block/attn")->all.count, 5);
    assert_null(test_find(&rows, "step/forward/block/mlp"));
    assert_null(test_find(&rows, "step/output"));
    rows_done(&rows);
    rows_build_summary(&sum, store_proc_at(st, 0), util_mono_ns());
    assert_int_equal(sum.invalid, 0);
    assert_int_equal(sum.late_ends, 4);
    rows_summary_done(&sum);
    ring_source_free(rs);
    store_free(st);
    close(cmd[1]);
    close(reply[0]);
    waitpid(child, NULL, 0);
    {
        char path[64];

        snprintf(path, sizeof(path), "/dev/shm/nctop-%d", (int)child);
        unlink(path);
    }
}

/* A child that runs scripts of span events: each line it reads is a string of letters, an
 * upper-case one begins a span and its lower-case one ends it (S step, F forward, B block,
 * E embedding); it answers each line with a byte once the events are written. */
struct test_script {
    pid_t pid;
    int cmd;   /* write end */
    int reply; /* read end */
    char path[64];
};

static void test_script_start(struct test_script *ts)
{
    int cmd[2], reply[2];
    char pidbuf[32], c;

    assert_int_equal(pipe(cmd), 0);
    assert_int_equal(pipe(reply), 0);
    snprintf(pidbuf, sizeof(pidbuf), "%d", (int)getpid());
    ts->pid = fork();
    assert_true(ts->pid >= 0);
    if (ts->pid == 0) {
        const char letters[] = "SFBE";
        const char *const names[] = {"step", "forward", "block", "embedding"};
        uint32_t id[4];
        char line[128];
        size_t n = 0;

        close(cmd[1]);
        close(reply[0]);
        setenv("NCTOP_READER", pidbuf, 1);
        for (int i = 0; i < 4; i++) {
            id[i] = nctop_name(names[i]);
        }
        if (write(reply[1], "r", 1) != 1) {
            _exit(3);
        }
        while (read(cmd[0], &c, 1) == 1) {
            if (c != '\n') {
                line[n < sizeof(line) - 1 ? n++ : n] = c;
                continue;
            }
            for (size_t k = 0; k < n; k++) {
                const char *l = strchr(letters, line[k] & ~0x20);

                if (l == NULL) {
                    _exit(4);
                }
                if (line[k] & 0x20) {
                    nctop_span_end(id[l - letters]);
                } else {
                    nctop_span_begin(id[l - letters]);
                }
            }
            n = 0;
            if (write(reply[1], "r", 1) != 1) {
                _exit(3);
            }
        }
        _exit(0);
    }
    close(cmd[0]);
    close(reply[1]);
    ts->cmd = cmd[1];
    ts->reply = reply[0];
    assert_int_equal(read(ts->reply, &c, 1), 1);
    snprintf(ts->path, sizeof(ts->path), "/dev/shm/nctop-%d", (int)ts->pid);
}

static void test_script_run(struct test_script *ts, const char *events)
{
    size_t n = strlen(events);
    char c;

    assert_int_equal(write(ts->cmd, events, n), (ssize_t)n);
    assert_int_equal(write(ts->cmd, "\n", 1), 1);
    assert_int_equal(read(ts->reply, &c, 1), 1);
}

static void test_script_stop(struct test_script *ts)
{
    int status;

    close(ts->cmd);
    close(ts->reply);
    waitpid(ts->pid, &status, 0);
    unlink(ts->path);
}

/* What another nctop does to the rings when it claims the reader role or drains: it moves
 * every tail to its head. */
static void test_rings_consumed(struct nctop_seg_header *h)
{
    uint32_t n = atomic_load(&h->rings_count);

    for (uint32_t i = 0; i < n; i++) {
        struct nctop_seg_ring *r =
            (struct nctop_seg_ring *)((uint8_t *)h + h->rings_off + (uint64_t)i * h->ring_stride);

        atomic_store(&r->tail, atomic_load(&r->head));
    }
}

/* test_issue_10: nctop stalls (a loaded machine), the SDK counts what it does not write and
 * marks it stalled, and another nctop takes the reader role over. Our nctop read the rings
 * as if it still were the reader, so the two shared the records, and ours nested a later
 * step's spans under spans whose ends the other one had read (step/forward/block/block, the
 * soak's 200 to 300 junk paths). It stops reading while the other holds the role, says so,
 * forgets the spans it had open, and when it reads again it resyncs: only whole steps count,
 * nothing nests twice, and the stall's loss is counted. */
static void test_issue_10_gap_resets_nesting(void **state)
{
    struct test_script ts;
    struct store *st = store_new(NULL);
    struct ring_source *rs;
    struct rows rows;
    struct rows_summary sum;
    struct nctop_seg_header *h;
    int32_t pid, me = (int32_t)getpid(), other = (int32_t)getppid(), cur;
    size_t size;

    (void)state;
    test_script_start(&ts);
    pid = ts.pid;
    rs = test_attach(st, &pid);
    h = (struct nctop_seg_header *)test_map(ts.path, &size);
    assert_int_equal(atomic_load(&h->reader_pid), me);
    test_script_run(&ts, "SFB");
    ring_source_drain(rs, util_mono_ns()); /* step/forward/block open */

    /* We stall: the two ends are not written (counted), and we are marked stalled. */
    test_heartbeat(h, 6000000000ULL);
    test_script_run(&ts, "bf");
    assert_int_equal(atomic_load(&h->reader_pid), -me);
    /* Another nctop (a live pid) takes over: it skips what is there, stamps its heartbeat
     * and reads the end of the step, the next one's begins (the first flagged as after a
     * gap). */
    cur = -me;
    assert_true(atomic_compare_exchange_strong(&h->reader_pid, &cur, other));
    test_heartbeat(h, 0);
    test_rings_consumed(h);
    test_script_run(&ts, "sSF");
    test_rings_consumed(h);
    /* These wait in the ring for the other one: not ours to read. */
    test_script_run(&ts, "BEeb");
    ring_source_drain(rs, util_mono_ns());
    ring_source_scan(rs, util_mono_ns());
    rows_build_summary(&sum, store_proc_at(st, 0), util_mono_ns());
    if (sum.reason == NULL || strstr(sum.reason, "another nctop") == NULL) {
        fail_msg("reason '%s' does not say another nctop reads the events",
                 sum.reason != NULL ? sum.reason : "(none)");
    }
    rows_summary_done(&sum);
    assert_int_equal(atomic_load(&h->reader_pid), other);
    test_rings_consumed(h);
    test_script_run(&ts, "fsSF");
    test_rings_consumed(h);

    /* It lets go in the middle of a step; we take the role back at the next scan, and the
     * step's rest, then two whole steps, are ours. */
    cur = other;
    assert_true(atomic_compare_exchange_strong(&h->reader_pid, &cur, 0));
    ring_source_scan(rs, util_mono_ns());
    assert_int_equal(atomic_load(&h->reader_pid), me);
    test_script_run(&ts, "BbfsSFBbfsSFBbfs");
    ring_source_drain(rs, util_mono_ns() + 300000000ULL); /* past a facts period: drops read */

    rows_init(&rows);
    rows_build_latency(&rows, store_proc_at(st, 0), util_mono_ns());
    for (size_t i = 0; i < rows.n; i++) {
        const char *path = rows.v[i].path;

        if (rows.v[i].level == 0 && strcmp(path, "step") != 0) {
            fail_msg("orphan root row %s", path);
        }
        if (strstr(path, "block/block") != NULL || strstr(path + 1, "step") != NULL ||
            strstr(path, "forward/forward") != NULL) {
            fail_msg("mis-nested row %s", path);
        }
    }
    assert_non_null(test_find(&rows, "step"));
    assert_int_equal(test_find(&rows, "step")->all.count, 2);
    assert_int_equal(test_find(&rows, "step/forward/block")->all.count, 2);
    assert_null(test_find(&rows, "step/forward/block/embedding"));
    rows_done(&rows);
    rows_build_summary(&sum, store_proc_at(st, 0), util_mono_ns());
    assert_int_equal(sum.losses[STORE_LOSS_READER_STALL], 2);
    assert_int_equal(sum.invalid, 0);
    rows_summary_done(&sum);
    munmap(h, size);
    ring_source_free(rs);
    store_free(st);
    test_script_stop(&ts);
}

/* test_issue_10: span records nctop cannot take (here: an id no name has, as a buggy or
 * hostile writer leaves) are counted as invalid, and they are lost events like any other:
 * the thread resyncs. The next step's spans used to nest under the spans whose ends were
 * those records (step/forward/step). */
static void test_issue_10_lost_record_resyncs(void **state)
{
    struct test_script ts;
    struct store *st = store_new(NULL);
    struct ring_source *rs;
    struct rows rows;
    struct rows_summary sum;
    struct nctop_seg_header *h;
    struct nctop_seg_ring *r;
    uint8_t *data;
    uint64_t pos, head;
    int32_t pid;
    size_t size;

    (void)state;
    test_script_start(&ts);
    pid = ts.pid;
    rs = test_attach(st, &pid);
    h = (struct nctop_seg_header *)test_map(ts.path, &size);
    test_script_run(&ts, "SF");
    ring_source_drain(rs, util_mono_ns()); /* step/forward open */

    /* The two ends are written, then spoilt before nctop reads them. */
    test_script_run(&ts, "fs");
    r = (struct nctop_seg_ring *)((uint8_t *)h + h->rings_off);
    data = (uint8_t *)(r + 1);
    head = atomic_load(&r->head);
    for (pos = atomic_load(&r->tail); pos < head;) {
        struct nctop_rec *rec = (struct nctop_rec *)(data + (pos & (h->ring_bytes - 1U)));

        assert_true(rec->words >= 2);
        rec->id = 0x7fffffffU;
        pos += (uint64_t)rec->words * 8U;
    }
    test_script_run(&ts, "SFfsSFfs");
    ring_source_drain(rs, util_mono_ns());

    rows_init(&rows);
    rows_build_latency(&rows, store_proc_at(st, 0), util_mono_ns());
    for (size_t i = 0; i < rows.n; i++) {
        if (strstr(rows.v[i].path + 1, "step") != NULL || rows.v[i].level > 1) {
            fail_msg("mis-nested row %s", rows.v[i].path);
        }
    }
    assert_non_null(test_find(&rows, "step/forward"));
    assert_int_equal(test_find(&rows, "step")->all.count, 2);
    assert_int_equal(test_find(&rows, "step/forward")->all.count, 2);
    rows_done(&rows);
    rows_build_summary(&sum, store_proc_at(st, 0), util_mono_ns());
    assert_int_equal(sum.invalid, 2);
    rows_summary_done(&sum);
    munmap(h, size);
    ring_source_free(rs);
    store_free(st);
    test_script_stop(&ts);
}

/* test_issue_10: the loop reads the clock, then scans and drains; on a loaded machine that can
 * take longer than the reader's clock slack, and the records written meanwhile are later than
 * that "now". They are the workload's latest events, not corrupt ones: none is invalid. */
static void test_issue_10_stale_now_not_invalid(void **state)
{
    struct test_script ts;
    struct store *st = store_new(NULL);
    struct ring_source *rs;
    struct rows rows;
    struct rows_summary sum;
    int32_t pid;
    uint64_t then;

    (void)state;
    test_script_start(&ts);
    pid = ts.pid;
    rs = test_attach(st, &pid);
    then = util_mono_ns(); /* the drain's "now", read before the workload's steps */
    test_script_run(&ts, "SFfsSFfs");
    while (util_mono_ns() - then < 1500000000ULL) {
        struct timespec d = {0, 50000000L};

        nanosleep(&d, NULL); /* the loop is held up past the slack */
    }
    test_script_run(&ts, "SFfs");
    ring_source_drain(rs, then);

    rows_init(&rows);
    rows_build_latency(&rows, store_proc_at(st, 0), util_mono_ns());
    assert_non_null(test_find(&rows, "step/forward"));
    assert_int_equal(test_find(&rows, "step")->all.count, 3);
    rows_done(&rows);
    rows_build_summary(&sum, store_proc_at(st, 0), util_mono_ns());
    assert_int_equal(sum.invalid, 0);
    rows_summary_done(&sum);
    ring_source_free(rs);
    store_free(st);
    test_script_stop(&ts);
}

/* --- test_issue_13: TSC timestamps ---------------------------------------------------------- */

/* Where this machine's TSC is not one the kernel trusts, libnctop stamps with CLOCK_MONOTONIC
 * and the TSC cases have nothing to test. */
static bool test_tsc_skip(void)
{
    if (nctop_seg_tsc_unusable() != NULL) {
        print_message("SKIP: %s\n", nctop_seg_tsc_unusable());
        return true;
    }
    return false;
}

static uint64_t test_row_count(struct store *st, const char *path)
{
    struct rows rows;
    const struct row *r;
    uint64_t n;

    rows_init(&rows);
    rows_build_latency(&rows, store_proc_at(st, 0), util_mono_ns());
    r = test_find(&rows, path);
    n = r != NULL ? r->all.count : 0;
    rows_done(&rows);
    return n;
}

/* A workload forked to talk over two pipes (cmd: to it, reply: from it), with this process as
 * its reader; returns its pid, 0 in the child (the pipes' other ends closed on both sides). */
static int32_t test_fork_workload(int cmd[2], int reply[2])
{
    char pidbuf[32];
    int32_t pid;

    assert_int_equal(pipe(cmd), 0);
    assert_int_equal(pipe(reply), 0);
    snprintf(pidbuf, sizeof(pidbuf), "%d", (int)getpid());
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(cmd[1]);
        close(reply[0]);
        setenv("NCTOP_READER", pidbuf, 1);
        return 0;
    }
    close(cmd[0]);
    close(reply[1]);
    return pid;
}

/* Names registered between two drains grow the reader's id map while it decodes: the records
 * after the first new name must be read through the map as it is then (the fast path kept
 * the old one, freed by the string sync: a use after free the segment fuzzer found). */
static void test_issue_10_id_map_grows_mid_drain(void **state)
{
    int cmd[2], reply[2];
    char path[64], c;
    struct store *st = store_new(NULL);
    struct ring_source *rs;
    struct rows_summary sum;
    int32_t pid;

    (void)state;
    pid = test_fork_workload(cmd, reply);
    if (pid == 0) {
        uint32_t a, last = 0;
        char name[32];

        a = nctop_name("a");
        if (write(reply[1], "r", 1) != 1 || read(cmd[0], &c, 1) != 1) {
            _exit(3);
        }
        for (int i = 0; i < 100; i++) {
            nctop_span_begin(a);
            nctop_span_end(a);
        }
        for (int i = 0; i < 1000; i++) {
            snprintf(name, sizeof(name), "n%d", i);
            last = nctop_name(name);
        }
        nctop_span_begin(last);
        nctop_span_end(last);
        for (int i = 0; i < 100; i++) {
            nctop_span_begin(a);
            nctop_span_end(a);
        }
        if (write(reply[1], "r", 1) != 1) {
            _exit(3);
        }
        (void)read(cmd[0], &c, 1);
        _exit(0);
    }
    assert_int_equal(read(reply[0], &c, 1), 1);
    rs = test_attach(st, &pid);
    ring_source_drain(rs, util_mono_ns()); /* "a" only: a small id map */
    assert_int_equal(write(cmd[1], "e", 1), 1);
    assert_int_equal(read(reply[0], &c, 1), 1);
    ring_source_drain(rs, util_mono_ns()); /* one drain: 100 pairs, 1000 names, 101 pairs */
    assert_int_equal(test_row_count(st, "a"), 200);
    assert_int_equal(test_row_count(st, "n999"), 1);
    rows_build_summary(&sum, store_proc_at(st, 0), util_mono_ns());
    assert_int_equal(sum.invalid, 0);
    rows_summary_done(&sum);
    ring_source_free(rs);
    store_free(st);
    close(cmd[1]);
    close(reply[0]);
    waitpid(pid, NULL, 0);
    snprintf(path, sizeof(path), "/dev/shm/nctop-%d", (int)pid);
    unlink(path);
}

/* A counter registered after the last sync of a workload that then ends (a run shorter than
 * one facts period) still has a rate: it was 0 at that sync. */
static void test_counter_of_a_short_run_has_a_rate(void **state)
{
    int cmd[2], reply[2];
    char path[64], c;
    struct store *st = store_new(NULL);
    struct ring_source *rs;
    struct rows_summary sum;
    uint64_t t_attach, t0, t_end;
    int32_t pid;
    bool found = false;

    (void)state;
    pid = test_fork_workload(cmd, reply);
    if (pid == 0) {
        nctop_name("a");
        if (write(reply[1], "r", 1) != 1 || read(cmd[0], &c, 1) != 1) {
            _exit(3);
        }
        nctop_counter_add(nctop_counter("spikes"), 500);
        _exit(write(reply[1], "r", 1) == 1 ? 0 : 3);
    }
    assert_int_equal(read(reply[0], &c, 1), 1);
    t_attach = util_mono_ns(); /* the attach syncs too: the counter's birth is after it */
    rs = test_attach(st, &pid);
    t0 = util_mono_ns();
    ring_source_drain(rs, t0); /* the first sync: no counter yet */
    assert_int_equal(write(cmd[1], "e", 1), 1);
    assert_int_equal(read(reply[0], &c, 1), 1);
    waitpid(pid, NULL, 0);
    t_end = t0 + 100 * UTIL_NS_PER_MS;
    ring_source_proc_exited(rs, pid, t_end, "exited");
    rows_build_summary(&sum, store_proc_at(st, 0), t_end);
    for (size_t i = 0; i < sum.ncounters; i++) {
        if (strcmp(sum.counters[i].name, "spikes") == 0) {
            found = true;
            assert_int_equal(sum.counters[i].value, 500);
            assert_true(sum.counters[i].rate_valid);
            /* 500 over the time from the last sync before the counter (t_attach..t0) */
            assert_true(sum.counters[i].per_sec >= 500e9 / (double)(t_end - t_attach) - 1e-6);
            assert_true(sum.counters[i].per_sec <= 500e9 / (double)(t_end - t0) + 1e-6);
        }
    }
    assert_true(found);
    rows_summary_done(&sum);
    ring_source_free(rs);
    store_free(st);
    close(cmd[1]);
    close(reply[0]);
    snprintf(path, sizeof(path), "/dev/shm/nctop-%d", (int)pid);
    unlink(path);
}

/* Records stamped with ticks are converted: the spans are all there, nothing is invalid, and
 * the process says which clock it uses; NCTOP_CLOCK=monotonic gives the same figures. */
static void test_issue_13_tsc_converted(void **state)
{
    for (int mono = 0; mono < 2; mono++) {
        struct test_child tc;
        struct rows_summary sum;
        struct store *st;

        (void)state;
        if (mono) {
            setenv("NCTOP_CLOCK", "monotonic", 1);
        }
        test_child_start(&tc, true, true);
        unsetenv("NCTOP_CLOCK");
        st = test_collect(tc.pid, &sum);
        assert_int_equal(sum.state, ROWS_STATE_LIVE);
        assert_int_equal(sum.invalid, 0);
        assert_non_null(sum.clock);
        assert_string_equal(sum.clock,
                            mono || nctop_seg_tsc_unusable() != NULL ? "monotonic" : "tsc");
        assert_int_equal(sum.nattrs, 1); /* the clock is not one of the workload's attributes */
        assert_int_equal(test_row_count(st, "outer"), TEST_SPANS);
        assert_int_equal(test_row_count(st, "outer/inner"), TEST_SPANS);
        rows_summary_done(&sum);
        store_free(st);
        test_child_stop(&tc);
    }
}

/* A calibration rewritten before nctop attaches: missing, absurd or offset from the machine's
 * clock. Each is an error row naming it, the ticked records are counted invalid, and no span
 * is shown with a wrong time. */
static void test_issue_13_bad_calibration(void **state)
{
    static const char *const want[] = {"calibration missing", "calibration absurd",
                                       "disagrees with this machine's clock"};

    (void)state;
    if (test_tsc_skip()) {
        return;
    }
    for (int i = 0; i < 3; i++) {
        struct test_child tc;
        struct nctop_seg_header *h;
        struct rows_summary sum;
        struct store *st;
        size_t size;

        test_child_start(&tc, true, true);
        h = (struct nctop_seg_header *)test_map(tc.path, &size);
        assert_int_equal(h->clock, NCTOP_SEG_CLOCK_TSC);
        if (i == 0) {
            atomic_store(&h->calib_base.tsc, 0);
            atomic_store(&h->calib_base.mono_ns, 0);
        } else if (i == 1) {
            /* 1000 ticks per ns: a 1 THz TSC. */
            atomic_store(&h->calib_last.tsc,
                         atomic_load(&h->calib_base.tsc) + (atomic_load(&h->calib_last.mono_ns) -
                                                            atomic_load(&h->calib_base.mono_ns)) *
                                                               1000);
        } else {
            /* The right rate, ten seconds late. */
            atomic_store(&h->calib_base.mono_ns,
                         atomic_load(&h->calib_base.mono_ns) + 10 * UTIL_NS_PER_SEC);
            atomic_store(&h->calib_last.mono_ns,
                         atomic_load(&h->calib_last.mono_ns) + 10 * UTIL_NS_PER_SEC);
        }
        st = test_collect(tc.pid, &sum);
        assert_int_equal(sum.state, ROWS_STATE_ERROR);
        assert_non_null(sum.reason);
        if (strstr(sum.reason, want[i]) == NULL) {
            fail_msg("reason '%s' lacks '%s'", sum.reason, want[i]);
        }
        assert_true(sum.invalid >= 4 * TEST_SPANS);
        assert_int_equal(sum.events, 0);
        assert_int_equal(test_row_count(st, "outer"), 0);
        rows_summary_done(&sum);
        store_free(st);
        munmap(h, size);
        test_child_stop(&tc);
    }
}

/* A calibration that changes under the reader's feet (a new pair whose rate is 5 % off the
 * one in use): an error row from then on, the events after it counted, not shown. */
static void test_issue_13_calibration_moves(void **state)
{
    struct test_emitter e;
    struct store *st = store_new(NULL);
    struct ring_source *rs;
    struct rows_summary sum;
    struct nctop_seg_header *h;
    size_t size;
    int32_t pid;
    uint64_t dt, dns;

    (void)state;
    if (test_tsc_skip()) {
        store_free(st);
        return;
    }
    test_emitter_start(&e, true);
    pid = e.pid;
    rs = test_attach(st, &pid);
    test_emitter_emit(&e);
    ring_source_drain(rs, util_mono_ns());
    rows_build_summary(&sum, store_proc_at(st, 0), util_mono_ns());
    assert_int_equal(sum.events, 20);
    assert_int_equal(sum.state, ROWS_STATE_LIVE);
    rows_summary_done(&sum);

    /* The emitter waits on its pipe: nobody else writes the pair meanwhile. */
    h = (struct nctop_seg_header *)test_map(e.path, &size);
    dt = atomic_load(&h->calib_last.tsc) - atomic_load(&h->calib_base.tsc);
    dns = atomic_load(&h->calib_last.mono_ns) - atomic_load(&h->calib_base.mono_ns);
    atomic_store(&h->calib_last.tsc, atomic_load(&h->calib_base.tsc) + 2 * dt);
    atomic_store(&h->calib_last.mono_ns,
                 atomic_load(&h->calib_base.mono_ns) + 2 * dns + 2 * dns / 20);
    atomic_store(&h->calib_seq, atomic_load(&h->calib_seq) + 2);
    ring_source_drain(rs, util_mono_ns());
    test_emitter_emit(&e);
    ring_source_drain(rs, util_mono_ns());
    test_expect_error_row(st, "changed under the reader");
    rows_build_summary(&sum, store_proc_at(st, 0), util_mono_ns());
    assert_int_equal(sum.events, 20);
    assert_true(sum.invalid >= 20);
    rows_summary_done(&sum);
    munmap(h, size);
    ring_source_free(rs);
    store_free(st);
    test_emitter_stop(&e);
}

/* A segment of ABI 4 (no clock block) is read as CLOCK_MONOTONIC, its shorter header
 * accepted. */
static void test_issue_13_abi4_segment_read(void **state)
{
    struct test_child tc;
    struct nctop_seg_header *h;
    struct rows_summary sum;
    struct store *st;
    size_t size;

    (void)state;
    test_child_start(&tc, false, false);
    h = (struct nctop_seg_header *)test_map(tc.path, &size);
    h->abi_version = 4;
    h->header_bytes = NCTOP_SEG_HEADER_BYTES_V4;
    st = test_collect(tc.pid, &sum);
    assert_int_equal(sum.state, ROWS_STATE_LIVE);
    assert_int_equal(sum.invalid, 0);
    assert_string_equal(sum.clock, "monotonic");
    assert_int_equal(sum.nvalues, 1);
    rows_summary_done(&sum);
    store_free(st);
    munmap(h, size);
    test_child_stop(&tc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_handoff_exact),
        cmocka_unit_test(test_late_attach_facts),
        cmocka_unit_test(test_wrong_version),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_lying_layout),
        cmocka_unit_test(test_hostile_contents),
        cmocka_unit_test(test_random_segments),
        cmocka_unit_test(test_stale_removed),
        cmocka_unit_test(test_truncated_while_attached),
        cmocka_unit_test(test_issue_10_tiny_arena),
        cmocka_unit_test(test_issue_10_truncated_below_page),
        cmocka_unit_test(test_issue_10_truncated_to_zero),
        cmocka_unit_test(test_issue_10_truncated_claim),
        cmocka_unit_test(test_issue_10_huge_string_table),
        cmocka_unit_test(test_issue_10_hostile_writer),
        cmocka_unit_test(test_issue_10_reader_stall_shown),
        cmocka_unit_test(test_issue_10_registration_refused_shown),
        cmocka_unit_test(test_issue_10_old_abi_refused),
        cmocka_unit_test(test_issue_10_misaligned_tables_refused),
        cmocka_unit_test(test_issue_14_values_and_attrs),
        cmocka_unit_test(test_issue_14_abi3_segment_read),
        cmocka_unit_test(test_issue_10_too_many_segments),
        cmocka_unit_test(test_issue_10_exited_age_out),
        cmocka_unit_test(test_issue_11_late_attach_mid_span),
        cmocka_unit_test(test_issue_10_gap_resets_nesting),
        cmocka_unit_test(test_issue_10_lost_record_resyncs),
        cmocka_unit_test(test_issue_10_stale_now_not_invalid),
        cmocka_unit_test(test_issue_13_tsc_converted),
        cmocka_unit_test(test_issue_13_bad_calibration),
        cmocka_unit_test(test_issue_13_calibration_moves),
        cmocka_unit_test(test_issue_13_abi4_segment_read),
        cmocka_unit_test(test_issue_10_id_map_grows_mid_drain),
        cmocka_unit_test(test_counter_of_a_short_run_has_a_rate),
        cmocka_unit_test(test_issue_10_names_past_the_drain_budget),
    };

    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
