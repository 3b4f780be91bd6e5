/* SPDX-License-Identifier: MIT */
/* Matrices (heatmaps) end to end: the snapshot type, libnctop's publication in a child process,
 * the ring reader's copy into the store and the summary, a writer publishing as fast as it can
 * (the reader must never keep a torn snapshot), hostile sizes and labels, and an older segment. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <setjmp.h>
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
#include <unistd.h>

#include <cmocka.h>

#include "collectors/ring.h"
#include "nctop.h"
#include "src/base/util.h"
#include "src/libnctop/segment.h"
#include "src/model/matrix.h"
#include "src/model/rows.h"
#include "src/model/store.h"

#define TEST_PERIOD_NS 300000000ULL /* past the reader's facts period: every drain syncs */

enum test_mode {
    TEST_ONE = 0,   /* publish one 3 x 4 matrix with labels */
    TEST_FLOOD = 1, /* publish 256 x 256 uniform snapshots back to back until told to stop */
    TEST_ERRORS = 2 /* the argument checks; the exit status says which failed */
};

struct test_child {
    pid_t pid;
    int go;
    char path[64];
};

static const float test_values[12] = {0.5f, 1.0f, -2.0f, 3.25f, 4.0f, 5.0f,
                                      6.0f, 7.0f, 8.0f,  9.0f,  10.f, 11.0f};

/* Every snapshot of the flood: all values k, every row label "k", for k = 1, 2, 3 in turn
 * (made once, so that publications follow each other as fast as the SDK copies). */
static void test_flood(int go_fd)
{
    static float v[3][256 * 256];
    static char labels[3][256][16];
    const char *rl[3][256];
    uint32_t m = nctop_matrix("flood", NULL);

    fcntl(go_fd, F_SETFL, O_NONBLOCK);
    for (int k = 0; k < 3; k++) {
        for (size_t i = 0; i < 256 * 256; i++) {
            v[k][i] = (float)(k + 1);
        }
        for (int i = 0; i < 256; i++) {
            snprintf(labels[k][i], sizeof(labels[k][i]), "%d", k + 1);
            rl[k][i] = labels[k][i];
        }
    }
    for (unsigned n = 0;; n++) {
        char c;

        nctop_matrix_publish(m, 256, 256, v[n % 3], rl[n % 3], rl[n % 3]);
        if (n % 64 == 0 && read(go_fd, &c, 1) == 0) {
            break;
        }
    }
}

static int test_errors(void)
{
    float v[4] = {1, 2, 3, 4};
    uint32_t m = nctop_matrix("e", "u"), other;

    if (m == 0 || nctop_matrix("e", "u") != m) {
        return 10;
    }
    if (nctop_matrix_publish(0, 1, 1, v, NULL, NULL) != -EINVAL ||
        nctop_matrix_publish(m + 100, 1, 1, v, NULL, NULL) != -EINVAL ||
        nctop_matrix_publish(m, 0, 1, v, NULL, NULL) != -EINVAL ||
        nctop_matrix_publish(m, 1, 257, v, NULL, NULL) != -EINVAL ||
        nctop_matrix_publish(m, 1, 1, NULL, NULL, NULL) != -EINVAL) {
        return 11;
    }
    if (nctop_matrix_publish(m, 2, 2, v, NULL, NULL) != 0) {
        return 12;
    }
    /* NCTOP_MATRIX_MAX per process: the ninth name is refused. */
    for (int i = 1; i < NCTOP_MATRIX_MAX; i++) {
        char name[16];

        snprintf(name, sizeof(name), "m%d", i);
        if (nctop_matrix(name, NULL) == 0) {
            return 13;
        }
    }
    other = nctop_matrix("one too many", NULL);
    if (other != 0 || nctop_matrix(NULL, NULL) != 0) {
        return 14;
    }
    return 0;
}

static void test_child_body(int ready_fd, int go_fd, enum test_mode mode)
{
    static const char *const rows[3] = {"head 0", "a label longer than fifteen", NULL};
    static const char *const cols[4] = {"k0", "k1", "k2", "\xc3\xa9t\xc3\xa9"};
    char c;
    int rc = 0;

    if (mode == TEST_ONE) {
        uint32_t m = nctop_matrix("attn.head0", "%");

        rc = nctop_matrix_publish(m, 3, 4, test_values, rows, cols) == 0 ? 0 : 20;
    } else if (mode == TEST_ERRORS) {
        rc = test_errors();
    } else {
        nctop_matrix("flood", NULL);
    }
    if (write(ready_fd, "r", 1) != 1) {
        _exit(3);
    }
    if (mode == TEST_FLOOD) {
        test_flood(go_fd);
    }
    while (read(go_fd, &c, 1) > 0) {
    }
    _exit(rc);
}

static void test_child_start(struct test_child *tc, enum test_mode mode)
{
    int ready[2], go[2];
    char c;

    assert_int_equal(pipe(ready), 0);
    assert_int_equal(pipe(go), 0);
    tc->pid = fork();
    assert_true(tc->pid >= 0);
    if (tc->pid == 0) {
        close(ready[0]);
        close(go[1]);
        unsetenv("NCTOP_READER");
        test_child_body(ready[1], go[0], mode);
    }
    close(ready[1]);
    close(go[0]);
    assert_int_equal(read(ready[0], &c, 1), 1);
    close(ready[0]);
    tc->go = go[1];
    snprintf(tc->path, sizeof(tc->path), "/dev/shm/nctop-%d", (int)tc->pid);
}

static int test_child_stop(struct test_child *tc)
{
    int status = 0;

    close(tc->go);
    waitpid(tc->pid, &status, 0);
    unlink(tc->path);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 100;
}

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

/* A source reading only pid, scanned once. */
static struct ring_source *test_source(struct store *st, int32_t *pid)
{
    struct ring_source_opts opts = {.pids = pid, .npids = 1};
    struct ring_source *rs = ring_source_new(st, &opts);

    ring_source_scan(rs, util_mono_ns());
    return rs;
}

static void test_snapshot_type(void **state)
{
    struct matrix *m = matrix_new(2, 3), *n;
    char label[MATRIX_LABEL_BYTES];
    float v;

    (void)state;
    assert_null(matrix_new(0, 3));
    assert_null(matrix_new(257, 3));
    assert_non_null(m);
    assert_false(matrix_shared(m));
    n = matrix_ref(m);
    assert_ptr_equal(n, m);
    assert_true(matrix_shared(m));
    matrix_unref(n);
    assert_false(matrix_shared(m));

    m->values[0] = NAN;
    m->values[1] = -3.0f;
    m->values[5] = INFINITY;
    m->values[4] = 7.5f;
    matrix_update_range(m);
    assert_true(m->range_valid);
    assert_true(m->lo == -3.0f && m->hi == 7.5f);
    assert_false(matrix_get(m, 0, 0, &v)); /* NaN: absent */
    assert_false(matrix_get(m, 1, 2, &v)); /* infinity: absent */
    assert_false(matrix_get(m, 2, 0, &v)); /* out of range */
    assert_true(matrix_get(m, 1, 1, &v) && v == 7.5f);

    /* Labels from an untrusted source: cut at 15 bytes, controls and bad UTF-8 become '?'. */
    matrix_set_label(label, "abcdefghijklmnopqrstuvwxyz");
    assert_string_equal(label, "abcdefghijklmno");
    matrix_set_label(label, "a\tb\x1b[2J");
    assert_string_equal(label, "a?b?[2J");
    matrix_set_label(label, "x\xff\xc3\xa9\xe2\x82");
    assert_string_equal(label, "x?\xc3\xa9??");
    matrix_set_label(m->row_labels, "r0");
    assert_string_equal(matrix_row_label(m, 0), "r0");
    assert_string_equal(matrix_row_label(m, 9), "");
    matrix_unref(m);
    matrix_unref(NULL);
}

/* A snapshot published by a workload arrives whole, with its labels, unit and range, and a
 * summary keeps it while the store takes a newer one. */
static void test_publish_read(void **state)
{
    struct test_child tc;
    struct store *st = store_new(NULL);
    struct ring_source *rs;
    struct rows_summary sum;
    const struct rows_matrix *m;
    struct matrix *bigger;
    int32_t pid;

    (void)state;
    test_child_start(&tc, TEST_ONE);
    pid = tc.pid;
    rs = test_source(st, &pid);
    ring_source_drain(rs, util_mono_ns() + TEST_PERIOD_NS);
    assert_int_equal(store_nprocs(st), 1);
    rows_build_summary(&sum, store_proc_at(st, 0), util_mono_ns());
    assert_int_equal(sum.nmatrices, 1);
    m = &sum.matrices[0];
    assert_string_equal(m->name, "attn.head0");
    assert_string_equal(m->unit, "%");
    assert_int_equal(m->rows, 3);
    assert_int_equal(m->cols, 4);
    assert_memory_equal(m->values, test_values, sizeof(test_values));
    assert_string_equal(m->row_labels, "head 0");
    assert_string_equal(m->row_labels + ROWS_MATRIX_LABEL, "a label longer ");
    assert_string_equal(m->row_labels + 2 * ROWS_MATRIX_LABEL, "");
    assert_string_equal(m->col_labels + 3 * ROWS_MATRIX_LABEL, "\xc3\xa9t\xc3\xa9");
    assert_true(m->range_valid && m->lo == -2.0f && m->hi == 11.0f);
    assert_int_equal(m->updates, 1);

    /* Nothing new: no second snapshot. */
    ring_source_drain(rs, util_mono_ns() + 2 * TEST_PERIOD_NS);
    {
        struct rows_summary again;

        rows_build_summary(&again, store_proc_at(st, 0), util_mono_ns());
        assert_int_equal(again.matrices[0].updates, 1);
        rows_summary_done(&again);
    }

    /* The store takes a new snapshot of another size; the summary's stays as it was. */
    bigger = matrix_new(5, 5);
    store_matrix_set(store_proc_at(st, 0), store_proc_intern(store_proc_at(st, 0), "attn.head0"), 0,
                     bigger, util_mono_ns());
    matrix_unref(bigger);
    assert_int_equal(m->rows, 3);
    assert_memory_equal(m->values, test_values, sizeof(test_values));
    rows_summary_done(&sum);
    rows_build_summary(&sum, store_proc_at(st, 0), util_mono_ns());
    assert_int_equal(sum.matrices[0].rows, 5);
    assert_int_equal(sum.matrices[0].updates, 2);
    rows_summary_done(&sum);

    ring_source_free(rs);
    assert_int_equal(test_child_stop(&tc), 0);
    store_free(st);
}

static void test_publish_errors(void **state)
{
    struct test_child tc;

    (void)state;
    test_child_start(&tc, TEST_ERRORS);
    assert_int_equal(test_child_stop(&tc), 0);
}

/* Every snapshot the store takes while the workload rewrites the matrix back to back. */
struct test_flood_seen {
    uint64_t snapshots;
    uint64_t torn;
};

static void test_flood_observe(void *ctx, const struct store_event *ev)
{
    struct test_flood_seen *seen = ctx;
    const struct matrix *m = ev->matrix;
    float k;
    char want[16];
    bool whole = true;

    if (ev->type != STORE_EV_MATRIX) {
        return;
    }
    seen->snapshots++;
    k = m->values[0];
    snprintf(want, sizeof(want), "%u", (unsigned)k);
    for (size_t i = 0; i < (size_t)m->rows * m->cols; i++) {
        whole = whole && m->values[i] == k;
    }
    for (uint32_t r = 0; r < m->rows; r++) {
        whole = whole && strcmp(matrix_row_label(m, r), want) == 0;
    }
    whole = whole && m->rows == 256 && m->cols == 256;
    seen->torn += whole ? 0 : 1;
}

static void test_torn_read_protection(void **state)
{
    struct test_child tc;
    struct store *st = store_new(NULL);
    struct test_flood_seen seen = {0, 0};
    struct ring_source *rs;
    uint64_t now = util_mono_ns();
    int32_t pid;

    (void)state;
    store_set_observer(st, test_flood_observe, &seen);
    test_child_start(&tc, TEST_FLOOD);
    pid = tc.pid;
    rs = test_source(st, &pid);
    /* Syncs until 3000 snapshots were taken (8 s at most: the machine may be loaded), each
     * copying 256 KiB that the workload is rewriting meanwhile: a reader that skips the
     * sequence check keeps about 5 % of them torn (measured on an idle machine), this one
     * none. */
    for (uint64_t i = 1, end = util_mono_ns() + 8000000000ULL;
         seen.snapshots < 3000 && util_mono_ns() < end; i++) {
        ring_source_drain(rs, now + i * TEST_PERIOD_NS);
    }
    ring_source_free(rs);
    test_child_stop(&tc);
    store_set_observer(st, NULL, NULL);
    assert_int_equal(seen.torn, 0);
    assert_true(seen.snapshots >= 50);
    store_free(st);
}

/* A hostile writer: sizes beyond 256, a count beyond the table, a header rewritten after
 * attach, labels without their NUL and with escapes. No crash, nothing out of bounds, the bad
 * snapshot counted invalid and the good one kept. */
static void test_issue_10_hostile_matrix(void **state)
{
    struct test_child tc;
    struct store *st = store_new(NULL);
    struct ring_source *rs;
    struct rows_summary sum;
    struct nctop_seg_header *h;
    struct nctop_seg_matrix *m;
    struct nctop_seg_matrix_buf *b;
    uint64_t seq, invalid, now = util_mono_ns();
    size_t size;
    int32_t pid;

    (void)state;
    test_child_start(&tc, TEST_ONE);
    pid = tc.pid;
    h = (struct nctop_seg_header *)test_map(tc.path, &size);
    m = (struct nctop_seg_matrix *)((uint8_t *)h + h->matrices_off);
    rs = test_source(st, &pid);
    ring_source_drain(rs, now + TEST_PERIOD_NS);
    rows_build_summary(&sum, store_proc_at(st, 0), now);
    assert_int_equal(sum.nmatrices, 1);
    invalid = sum.invalid;
    rows_summary_done(&sum);

    /* After attach the header lies about where the matrices are and how many there are: the
     * reader keeps what it checked at attach and its own limit. */
    h->matrices_off = size - 8;
    h->matrices_max = UINT32_MAX;
    atomic_store(&h->matrices_count, UINT32_MAX);

    /* A snapshot of 100000 x 3: refused, counted, the last good one stays. */
    seq = atomic_load(&m->seq);
    assert_int_equal(seq, 2);
    b = &m->buf[((seq >> 1) + 1) & 1];
    b->rows = 100000;
    b->cols = 3;
    atomic_store(&m->seq, seq + 2);
    ring_source_drain(rs, now + 2 * TEST_PERIOD_NS);
    rows_build_summary(&sum, store_proc_at(st, 0), now);
    assert_int_equal(sum.nmatrices, 1);
    assert_int_equal(sum.matrices[0].rows, 3);
    assert_memory_equal(sum.matrices[0].values, test_values, sizeof(test_values));
    assert_int_equal(sum.invalid, invalid + 1);
    rows_summary_done(&sum);

    /* Labels that fill their field without a NUL, and a terminal escape: cut and defused. */
    seq += 2;
    b = &m->buf[((seq >> 1) + 1) & 1];
    b->rows = 1;
    b->cols = 2;
    memset(b->row_labels[0], 'A', sizeof(b->row_labels[0]));
    memcpy(b->col_labels[0], "\x1b[31m", 6);
    memset(b->col_labels[1], 0, sizeof(b->col_labels[1]));
    b->values[0] = 1.0f;
    b->values[1] = NAN;
    atomic_store(&m->seq, seq + 2);
    ring_source_drain(rs, now + 3 * TEST_PERIOD_NS);
    rows_build_summary(&sum, store_proc_at(st, 0), now);
    assert_int_equal(sum.matrices[0].rows, 1);
    assert_int_equal(sum.matrices[0].cols, 2);
    assert_string_equal(sum.matrices[0].row_labels, "AAAAAAAAAAAAAAA");
    assert_string_equal(sum.matrices[0].col_labels, "?[31m");
    assert_true(sum.matrices[0].range_valid && sum.matrices[0].lo == 1.0f &&
                sum.matrices[0].hi == 1.0f);
    rows_summary_done(&sum);

    ring_source_free(rs);
    assert_int_equal(test_child_stop(&tc), 0);
    munmap(h, size);
    store_free(st);
}

/* A segment of ABI 5 (no matrix block) is read as before: attached, no matrices. */
static void test_abi5_segment_read(void **state)
{
    struct test_child tc;
    struct store *st = store_new(NULL);
    struct ring_source *rs;
    struct rows_summary sum;
    struct nctop_seg_header *h;
    size_t size;
    int32_t pid;

    (void)state;
    test_child_start(&tc, TEST_ONE);
    pid = tc.pid;
    h = (struct nctop_seg_header *)test_map(tc.path, &size);
    h->abi_version = 5;
    h->header_bytes = NCTOP_SEG_HEADER_BYTES_V5;
    rs = test_source(st, &pid);
    ring_source_drain(rs, util_mono_ns() + TEST_PERIOD_NS);
    assert_int_equal(store_nprocs(st), 1);
    rows_build_summary(&sum, store_proc_at(st, 0), util_mono_ns());
    assert_int_equal(sum.state, ROWS_STATE_LIVE);
    assert_int_equal(sum.nmatrices, 0);
    rows_summary_done(&sum);
    ring_source_free(rs);
    assert_int_equal(test_child_stop(&tc), 0);
    munmap(h, size);
    store_free(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_snapshot_type),           cmocka_unit_test(test_publish_read),
        cmocka_unit_test(test_publish_errors),          cmocka_unit_test(test_torn_read_protection),
        cmocka_unit_test(test_issue_10_hostile_matrix), cmocka_unit_test(test_abi5_segment_read),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
