/* SPDX-License-Identifier: MIT */
/* Unit tests of the recording format: a store fed through the observer and the same store
 * rebuilt by replaying the file agree; varints at their limits; truncated and corrupted
 * recordings never crash the reader and load up to the damage. */
#include <cjson/cJSON.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "collectors/replay/replay.h"
#include "src/format/record.h"
#include "src/model/matrix.h"
#include "src/model/store.h"
#include "src/model/store_gpu.h"
#include "src/model/store_power.h"
#include "src/model/store_sys.h"
#include "src/output/snapshot.h"

#define MS 1000000ULL
#define SEC 1000000000ULL
#define T0 (5000 * SEC) /* a whole second: rebasing keeps window slots */

/* A store with one of everything, fed through the event API. */
static void feed(struct store *st)
{
    struct store_proc *p = store_proc_add(st, 4242, "engine");
    uint32_t step = store_proc_intern(p, "step"), fwd = store_proc_intern(p, "forward");
    uint32_t mm = store_proc_intern(p, "matmul"), cpu = store_proc_intern(p, "cpu");
    uint32_t kv = store_proc_intern(p, "kv_cache"), tok = store_proc_intern(p, "tokens");
    uint32_t w = store_proc_intern(p, "layers.0.mlp");
    struct store_thread *t = store_thread_add(p, 4243, "worker");
    struct store_import_stats imp = {
        .count = 3, .mean_ns = 2 * MS, .last_ns = 1 * MS, .share_valid = true, .share_pct = 42.5};
    uint32_t path[2];

    store_weight_set(p, w, 0, 1 << 20);
    for (int i = 0; i < 50; i++) {
        uint64_t b = T0 + (uint64_t)i * 20 * MS;

        store_span_begin(t, step, b);
        store_span_begin(t, fwd, b + 1 * MS);
        store_mem_delta(t, 4096, b + 2 * MS);
        store_kernel(p, mm, cpu, b + 2 * MS, 3 * MS + (uint64_t)i * 1000);
        store_span_end(t, fwd, b + 9 * MS);
        store_span_end(t, step, b + 10 * MS + (uint64_t)i * 7000);
        store_step(p, STORE_STEP_TOKEN, 1, b + 10 * MS);
        store_counter_set(p, tok, (uint64_t)i + 1, b + 10 * MS);
        store_gauge_set(p, kv, STORE_MEM_KV_CACHE, 0, (uint64_t)i * 100, 10000, 0);
        store_proc_add_events(p, 9);
    }
    store_span_end(t, fwd, T0 + 2 * SEC); /* unmatched: counted the same way on replay */
    store_proc_set_host(p, 100 << 20, 120 << 20, 5 * SEC, T0 + SEC);
    store_proc_set_dropped(p, 7);
    path[0] = store_proc_intern(p, "imported");
    path[1] = store_proc_intern(p, "child");
    store_node_import(p, path, 2, &imp, T0 + SEC);
    store_mem_import_clear(p);
    store_mem_import(p, 0, path[0], STORE_IMPORT_PEAK, 5 << 20, 6 << 20, 0);
    /* test_issue_12: the eBPF collector's facts, the GPU probe's, and the losses by cause
     * go through the observer like every other setter. */
    {
        struct store_sched sched = {.oncpu_ns = 3 * SEC,
                                    .runq_ns = 40 * MS,
                                    .blocked_ns = 2 * SEC,
                                    .vol_switches = 120,
                                    .invol_switches = 9,
                                    .faults = 700,
                                    .minor_faults = 690,
                                    .major_faults = 10};
        struct store_gpu_dev devs[2] = {
            {.index = 0,
             .name = "Fake GPU 0",
             .util_valid = true,
             .util_pct = 57,
             .mem_valid = true,
             .mem_used_bytes = 3ULL << 30,
             .mem_total_bytes = 16ULL << 30},
            {.index = 1, .name = "", .util_valid = false, .mem_valid = false},
        };
        uint32_t gdev[2] = {0, 1};
        uint64_t gbytes[2] = {1ULL << 30, 5ULL << 20};

        store_sys_thread_set(p, 4243, "worker", &sched, false);
        sched.oncpu_ns += SEC;
        store_sys_thread_set(p, 4243, NULL, &sched, true);
        store_sys_thread_set(p, 4244, "io", &sched, false);
        store_sys_call_set(p, 0, "read", 200003, 114 * MS);
        store_sys_call_set(p, 59, "execve", 1, 496 * 1000);
        store_sys_mapped_set(p, 4 << 20, 55 << 10, -(132 << 10));
        store_sys_dropped_set(p, 3);
        store_gpu_set(st, devs, 2, "NVML: one device lost");
        store_proc_gpu_set(p, gdev, gbytes, 2);
        /* test_issue_14: the GPUs' power and energy counters, the RAPL zones. */
        devs[0].power_valid = devs[0].energy_valid = devs[0].procs_valid = true;
        devs[0].power_mw = 312500;
        devs[0].energy_mj = 7000000;
        devs[0].nprocs = 1;
        store_gpu_power_set(st, &devs[0], T0 + 100 * MS);
        devs[0].energy_mj += 500000;
        store_gpu_power_set(st, &devs[0], T0 + 1100 * MS);
        store_gpu_power_set(st, &devs[1], T0 + 1100 * MS);
        store_power_state_set(st, "no RAPL on this machine");
        store_power_zone_set(st, "package-0", 9000000, T0 + 100 * MS);
        store_power_zone_set(st, "package-0/dram", 400000, T0 + 100 * MS);
        store_power_zone_set(st, "package-0", 9000000 + 42000000, T0 + 1600 * MS);
        store_power_zone_set(st, "package-0/dram", 400000 + 3000000, T0 + 1600 * MS);
        store_proc_set_loss(p, STORE_LOSS_RING_FULL, 11);
        store_proc_set_loss(p, STORE_LOSS_LIMIT, 2);
    }
    /* test_issue_12: every other setter of the event API. */
    {
        struct store_mem_parts parts = {.bytes = {1 << 20, 2 << 20, 3 << 20},
                                        .peak_bytes = {4 << 20, 5 << 20, 6 << 20}};
        struct store_thread *u = store_thread_add(p, 4245, NULL);
        uint32_t probe = store_proc_intern(p, "probed_fn");

        store_proc_set_label(p, "engine-renamed");
        /* A descendant the eBPF collector followed: its parent and how it ended. */
        store_proc_set_parent(p, 4000);
        store_proc_set_exit(p, 1, 0);
        store_value_set(p, store_proc_intern(p, "accuracy"), 0, 0.8125, T0 + 50 * MS);
        store_value_set(p, store_proc_intern(p, "power"), store_proc_intern(p, "W"), 1.5,
                        T0 + 60 * MS);
        store_value_set(p, store_proc_intern(p, "power"), store_proc_intern(p, "W"), 2.25,
                        T0 + 70 * MS);
        store_attr_set(p, store_proc_intern(p, "target"), store_proc_intern(p, "loihi2"));
        store_attr_set(p, store_proc_intern(p, "chip"), store_proc_intern(p, "sim"));
        store_attr_set(p, store_proc_intern(p, "chip"), 0); /* removed */
        store_attr_set(p, store_proc_intern(p, "model"), store_proc_intern(p, "brunel"));
        /* Matrices: a dense one published twice (the second replaces it) with labels and an
         * absent value, and a sparse spike raster. */
        {
            struct matrix *attn = matrix_new(2, 3), *raster = matrix_new(16, 16);
            uint32_t an = store_proc_intern(p, "attn.head0"), pct = store_proc_intern(p, "%");

            for (int i = 0; i < 6; i++) {
                attn->values[i] = (float)i / 8.0f;
            }
            matrix_set_label(attn->row_labels, "head 0");
            matrix_set_label(attn->col_labels + 2 * MATRIX_LABEL_BYTES, "pos 2");
            matrix_update_range(attn);
            store_matrix_set(p, an, pct, attn, T0 + 80 * MS);
            attn->values[5] = 0.0f / 0.0f;
            attn->values[0] = -1.5f;
            matrix_update_range(attn);
            store_matrix_set(p, an, pct, attn, T0 + 90 * MS);
            raster->values[3] = 1.0f;
            raster->values[16 * 9 + 15] = 1.0f;
            raster->values[255] = 2.0f;
            matrix_update_range(raster);
            store_matrix_set(p, store_proc_intern(p, "spikes.raster"), 0, raster, T0 + 95 * MS);
            matrix_unref(attn);
            matrix_unref(raster);
        }
        store_proc_add_invalid(p, 2, "corrupt record at offset 64");
        store_thread_set_name(u, "sampler");
        store_span_begin(u, step, T0 + 100 * MS);
        store_thread_gap(u); /* the open span is forgotten, not counted */
        store_span_begin(u, fwd, T0 + 110 * MS);
        store_span_end(u, fwd, T0 + 115 * MS);
        store_probe_begin(u, probe, T0 + 120 * MS);
        store_probe_end(u, probe, T0 + 125 * MS);
        store_probe_end(u, probe, T0 + 126 * MS); /* a call entered before: not seen */
        store_mem_import(p, 1, path[1], 0, 1 << 20, 0, 8 << 20);
        store_mem_import_parts(p, &parts);
        for (uint64_t r = 1; r <= 3; r++) {
            uint64_t b = T0 + 200 * MS + r * 30 * MS;

            store_request_step(p, STORE_STEP_REQUEST_BEGIN, r, 0, b);
            store_request_step(p, STORE_STEP_PROMPT_TOKENS, r, 12 * r, b + MS);
            store_request_step(p, STORE_STEP_TOKEN, r, 1, b + 5 * MS);
            store_request_step(p, STORE_STEP_TOKEN, r, 2, b + 9 * MS);
            store_request_step(p, STORE_STEP_REQUEST_END, r, r == 3 ? 1 : 0, b + 12 * MS);
            store_step(p, STORE_STEP_ITERATION, 1, b + 12 * MS);
        }
        /* test_issue_15: a compilation with attributes and a pass, and a failed one. */
        {
            uint32_t c = store_proc_intern(p, "compile"), pass = store_proc_intern(p, "place");

            store_span_begin(u, c, T0 + 400 * MS);
            store_span_attr(u, store_proc_intern(p, "target"), store_proc_intern(p, "loihi2"),
                            T0 + 400 * MS);
            store_span_begin(u, pass, T0 + 401 * MS);
            store_mem_delta(u, 1 << 20, T0 + 402 * MS);
            store_span_end(u, pass, T0 + 403 * MS);
            store_span_end_status(u, c, 0, T0 + 404 * MS);
            store_span_begin(u, c, T0 + 410 * MS);
            store_span_end_status(u, c, store_proc_intern(p, "does not fit"), T0 + 411 * MS);
        }
        store_thread_exit(u, T0 + 2 * SEC);
    }
    store_thread_exit(t, T0 + 2 * SEC);
    store_proc_set_state(p, STORE_PROC_EXITED, "exit status 0", T0 + 2 * SEC);
}

/* The processes and the GPUs of a snapshot as JSON text (timestamps left out). */
static char *procs_json(const struct store *st, uint64_t now)
{
    cJSON *root = snapshot_build(st, now, 0);
    cJSON *part = cJSON_CreateObject();
    char *text;

    cJSON_AddItemReferenceToObject(part, "processes",
                                   cJSON_GetObjectItemCaseSensitive(root, "processes"));
    cJSON_AddItemReferenceToObject(part, "gpus", cJSON_GetObjectItemCaseSensitive(root, "gpus"));
    cJSON_AddItemReferenceToObject(part, "gpu_error",
                                   cJSON_GetObjectItemCaseSensitive(root, "gpu_error"));
    cJSON_AddItemReferenceToObject(part, "power", cJSON_GetObjectItemCaseSensitive(root, "power"));
    text = cJSON_PrintUnformatted(part);
    cJSON_Delete(part);
    cJSON_Delete(root);
    return text;
}

static char *write_recording(size_t *len)
{
    struct store *st = store_new(NULL);
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    struct record_writer *w = record_writer_new(f, T0, 1700000000ULL * SEC);

    store_set_observer(st, record_writer_observe, w);
    feed(st);
    record_writer_tick(w, T0 + 2 * SEC);
    assert_int_equal(record_writer_free(w), 0);
    fclose(f);
    store_free(st);
    return buf;
}

static char *save(const char *data, size_t len)
{
    char *path = strdup("/tmp/nctop-test-record.XXXXXX");
    int fd = mkstemp(path);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    close(fd);
    return path;
}

static void test_roundtrip(void **state)
{
    struct store *live = store_new(NULL), *again = store_new(NULL);
    struct replay_source *rs = replay_source_new(again);
    size_t len = 0;
    char *rec = write_recording(&len), *path = save(rec, len), *err = NULL, *a, *b;

    (void)state;
    feed(live);
    assert_int_equal(replay_source_add(rs, path, &err), 0);
    assert_int_equal(replay_source_nproblems(rs), 0);
    replay_source_advance(rs, replay_source_end_ns(rs));
    assert_true(replay_source_done(rs));
    /* The same state at the same moment (replayed times are rebased by whole seconds). */
    a = procs_json(live, T0 + 2 * SEC);
    b = procs_json(again, replay_source_end_ns(rs));
    assert_string_equal(a, b);
    assert_non_null(strstr(a, "\"imported\""));
    /* Every kind of fact made it: the eBPF object, the GPUs, the losses. */
    assert_non_null(strstr(a, "\"syscalls\":[{\"name\":\"read\""));
    assert_non_null(strstr(a, "\"on_cpu_ms\":4000"));
    assert_non_null(strstr(a, "\"Fake GPU 0\""));
    assert_non_null(strstr(a, "\"gpu_error\":\"NVML: one device lost\""));
    assert_non_null(strstr(a, "\"ring_full\":11"));
    assert_non_null(strstr(a, "\"engine-renamed\""));
    assert_non_null(strstr(a, "\"ppid\":4000"));
    assert_non_null(strstr(a, "\"exit_status\":1,\"exit_signal\":null"));
    assert_non_null(strstr(a, "corrupt record at offset 64"));
    assert_non_null(strstr(a, "\"probed_fn\""));
    assert_non_null(strstr(a, "\"compilations\":[{\"number\":2,\"name\":\"compile\","
                              "\"path\":\"compile\",\"status\":\"error\","
                              "\"message\":\"does not fit\""));
    assert_non_null(strstr(a, "\"passes\":[{\"name\":\"place\",\"path\":\"place\""));
    assert_non_null(strstr(a, "\"attributes\":{\"target\":\"loihi2\",\"model\":\"brunel\"}"));
    assert_non_null(strstr(a, "{\"name\":\"power\",\"value\":2.25,\"unit\":\"W\"}"));
    assert_non_null(strstr(a, "\"matrices\":[{\"name\":\"attn.head0\",\"unit\":\"%\",\"rows\":2,"
                              "\"cols\":3,\"updates\":2,\"min\":-1.5,\"max\":0.5,\"row_labels\":"
                              "[\"head 0\",\"\"],\"col_labels\":[\"\",\"\",\"pos 2\"],\"values\":"
                              "[[-1.5,0.125,0.25],[0.375,0.5,null]]}"));
    assert_non_null(strstr(a, "{\"name\":\"spikes.raster\",\"unit\":\"\",\"rows\":16,"
                              "\"cols\":16,\"updates\":1,\"min\":0,\"max\":2,"));
    assert_non_null(strstr(a, "[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,2]]}]"));
    /* test_issue_14: the power facts, their windowed figures rebuilt from the readings. */
    assert_non_null(strstr(a, "\"power_w\":312.5,\"energy_j\":7500}"));
    assert_non_null(strstr(a, "\"gpu_energy\":{\"devices\":[0,1],\"power_w\":null"));
    assert_non_null(strstr(a, "{\"zone\":\"package-0\",\"power_w\":28,\"energy_j\":51}"));
    assert_non_null(strstr(a, "{\"zone\":\"package-0/dram\",\"power_w\":2,\"energy_j\":3.4}"));
    assert_non_null(strstr(a, "\"source\":\"measured\",\"state\":null}"));
    assert_true(replay_source_real_ns(rs, replay_source_end_ns(rs)) ==
                1700000000ULL * SEC + 2 * SEC);
    /* Compact: well under 16 bytes per event for this mix. */
    assert_true(len < 80 * 12 * 16);
    cJSON_free(a);
    cJSON_free(b);
    replay_source_free(rs);
    unlink(path);
    free(path);
    free(rec);
    store_free(live);
    store_free(again);
}

/* Pacing: nothing beyond the clock is applied. */
static void test_pacing(void **state)
{
    struct store *st = store_new(NULL);
    struct replay_source *rs = replay_source_new(st);
    char *buf = NULL, *path, *err = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    struct record_writer *w = record_writer_new(f, T0, 0);
    struct record_ev ev = {.type = STORE_EV_PROC_ADD, .i = 1, .str = "x", .str_len = 1};
    uint64_t start;

    (void)state;
    record_writer_put(w, &ev);
    record_writer_tick(w, T0);
    ev.type = STORE_EV_EVENTS;
    ev.proc = 0;
    ev.a = 5;
    record_writer_put(w, &ev);
    record_writer_tick(w, T0 + 3 * SEC);
    record_writer_put(w, &ev);
    record_writer_free(w);
    fclose(f);
    path = save(buf, len);
    assert_int_equal(replay_source_add(rs, path, &err), 0);
    start = replay_source_start_ns(rs);
    assert_int_equal(replay_source_end_ns(rs) - start, 3 * SEC);
    replay_source_advance(rs, start + SEC);
    assert_int_equal(store_nprocs(st), 1);
    assert_false(replay_source_done(rs));
    replay_source_advance(rs, start + 3 * SEC);
    assert_true(replay_source_done(rs));
    replay_source_free(rs);
    unlink(path);
    free(path);
    free(buf);
    store_free(st);
}

static void test_varints(void **state)
{
    char *buf = NULL, *err = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    struct record_writer *w = record_writer_new(f, 0, 0);
    struct record_reader *rd;
    struct record_ev ev = {.type = STORE_EV_MEM_DELTA, .thread = UINT32_MAX, .i = INT64_MIN};
    struct record_ev out;

    (void)state;
    record_writer_put(w, &ev);
    ev.i = INT64_MAX;
    ev.ts_ns = UINT64_MAX;
    record_writer_put(w, &ev);
    record_writer_free(w);
    fclose(f);
    rd = record_reader_new(buf, len, &err);
    assert_non_null(rd);
    assert_int_equal(record_reader_next(rd, &out), 1);
    assert_true(out.i == INT64_MIN && out.thread == UINT32_MAX && out.ts_ns == 0);
    assert_int_equal(record_reader_next(rd, &out), 1);
    assert_true(out.i == INT64_MAX && out.ts_ns == UINT64_MAX);
    assert_int_equal(record_reader_next(rd, &out), 0);
    assert_true(record_reader_clean_end(rd));
    record_reader_free(rd);
    free(buf);
}

/* The writer's buffer starts small and grows: records of every string length, the longest
 * among them, past several buffers' worth, all read back in order. */
static void test_long_recording(void **state)
{
    static const size_t lens[] = {0, 1, 100, 4000, 5000, 70000, RECORD_MAX_STR, 12, 300000};
    char *buf = NULL, *err = NULL, *name = malloc(RECORD_MAX_STR);
    size_t len = 0, n = 0;
    FILE *f = open_memstream(&buf, &len);
    struct record_writer *w = record_writer_new(f, 0, 0);
    struct record_reader *rd;
    struct record_ev ev = {.type = STORE_EV_NAME}, out;

    (void)state;
    assert_non_null(name);
    for (size_t i = 0; i < RECORD_MAX_STR; i++) {
        name[i] = (char)('a' + i % 26);
    }
    for (int round = 0; round < 8; round++) {
        for (size_t k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
            ev.id = (uint32_t)n++;
            ev.str = name + (k % 3);
            ev.str_len = lens[k] < RECORD_MAX_STR - 2 ? lens[k] : RECORD_MAX_STR - 2;
            record_writer_put(w, &ev);
        }
    }
    assert_int_equal(record_writer_free(w), 0);
    fclose(f);
    assert_true(len > 4U * 256U * 1024U);
    rd = record_reader_new(buf, len, &err);
    assert_non_null(rd);
    for (size_t i = 0; i < n; i++) {
        size_t k = i % (sizeof(lens) / sizeof(lens[0]));
        size_t want = lens[k] < RECORD_MAX_STR - 2 ? lens[k] : RECORD_MAX_STR - 2;

        assert_int_equal(record_reader_next(rd, &out), 1);
        assert_int_equal(out.type, STORE_EV_NAME);
        assert_int_equal(out.id, i);
        assert_int_equal(out.str_len, want);
        assert_true(want == 0 || memcmp(out.str, name + (k % 3), want) == 0);
    }
    assert_int_equal(record_reader_next(rd, &out), 0);
    assert_true(record_reader_clean_end(rd));
    record_reader_free(rd);
    free(buf);
    free(name);
}

/* Issue 11: format 2 carries the request id of a STEP; a version 1 file (no request id) still
 * reads, as request 0. */
static void test_issue_11_step_request_id(void **state)
{
    char *buf = NULL, *err = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    struct record_writer *w = record_writer_new(f, 0, 0);
    struct record_reader *rd;
    struct record_ev ev = {.type = STORE_EV_STEP,
                           .proc = 0,
                           .id = STORE_STEP_TOKEN,
                           .a = 3,
                           .b = UINT64_MAX - 1,
                           .ts_ns = 5 * MS};
    struct record_ev out;
    /* A version 1 file: header, then STEP proc 0, kind 2 (TOKEN), n 1, time +1000, END. */
    unsigned char v1[32 + 7] = "NCTOPREC\x01";

    (void)state;
    record_writer_put(w, &ev);
    record_writer_free(w);
    fclose(f);
    assert_int_equal(buf[8], RECORD_VERSION); /* the version */
    rd = record_reader_new(buf, len, &err);
    assert_non_null(rd);
    assert_int_equal(record_reader_next(rd, &out), 1);
    assert_int_equal(out.type, STORE_EV_STEP);
    assert_int_equal(out.id, STORE_STEP_TOKEN);
    assert_int_equal(out.a, 3);
    assert_true(out.b == UINT64_MAX - 1);
    assert_int_equal(out.ts_ns, 5 * MS);
    record_reader_free(rd);
    free(buf);

    v1[32] = STORE_EV_STEP;
    v1[33] = 0;
    v1[34] = STORE_STEP_TOKEN;
    v1[35] = 1;
    v1[36] = 0xd0; /* zigzag(1000) = 2000 = 0x7d0 as a varint: d0 0f */
    v1[37] = 0x0f;
    v1[38] = RECORD_END;
    rd = record_reader_new(v1, sizeof(v1), &err);
    assert_non_null(rd);
    out.b = 77;
    assert_int_equal(record_reader_next(rd, &out), 1);
    assert_int_equal(out.type, STORE_EV_STEP);
    assert_int_equal(out.a, 1);
    assert_int_equal(out.b, 0);
    assert_int_equal(out.ts_ns, 1000);
    assert_int_equal(record_reader_next(rd, &out), 0);
    assert_true(record_reader_clean_end(rd));
    record_reader_free(rd);
}

static void test_bad_header(void **state)
{
    char *err = NULL;
    char hdr[32] = "NCTOPREC\x09";

    (void)state;
    assert_null(record_reader_new("hello", 5, &err));
    assert_non_null(err);
    free(err);
    err = NULL;
    assert_null(record_reader_new(hdr, sizeof(hdr), &err));
    assert_non_null(strstr(err, "version 9"));
    free(err);
}

/* Every prefix and many random corruptions: the reader stops cleanly, and the replay
 * collector plays what precedes the damage. */
static void test_truncated_and_corrupt(void **state)
{
    size_t len = 0;
    char *rec = write_recording(&len), *copy = malloc(len), *err = NULL;
    struct record_ev ev;

    (void)state;
    srand(7);
    for (size_t cut = 0; cut <= len; cut += 1 + cut / 64) {
        struct record_reader *rd = record_reader_new(rec, cut, &err);
        size_t n = 0;

        if (rd == NULL) {
            assert_true(cut < RECORD_HEADER_BYTES);
            free(err);
            err = NULL;
            continue;
        }
        while (record_reader_next(rd, &ev) > 0) {
            n++;
        }
        assert_true(record_reader_offset(rd) <= cut);
        record_reader_free(rd);
    }
    for (int round = 0; round < 300; round++) {
        struct store *st = store_new(NULL);
        struct replay_source *rs = replay_source_new(st);
        char *path;

        memcpy(copy, rec, len);
        for (int k = 0; k < 1 + round % 8; k++) {
            size_t at = RECORD_HEADER_BYTES + (size_t)rand() % (len - RECORD_HEADER_BYTES);

            copy[at] = (char)rand();
        }
        path = save(copy, round % 3 == 0 ? len / 2 : len);
        assert_int_equal(replay_source_add(rs, path, &err), 0);
        replay_source_advance(rs, UINT64_MAX / 2);
        assert_true(replay_source_done(rs));
        replay_source_free(rs);
        store_free(st);
        unlink(path);
        free(path);
    }
    free(copy);
    free(rec);
}

/* The table in record.c is the format: every record of a recording written before the table
 * existed (tests/data/tinylm-v2.nctrec, version 2) encodes back to the same bytes; only the
 * header's version may differ. */
static void test_issue_12_table_reencodes_the_sample(void **state)
{
    FILE *f = fopen("tests/data/tinylm-v2.nctrec", "rb");
    char *orig, *again = NULL, *err = NULL;
    size_t len, again_len = 0;
    long size;
    struct record_reader *r;
    struct record_writer *w;
    struct record_ev ev;
    FILE *out;
    int rc;

    (void)state;
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    size = ftell(f);
    rewind(f);
    orig = malloc((size_t)size);
    assert_int_equal(fread(orig, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    len = (size_t)size;
    r = record_reader_new(orig, len, &err);
    assert_non_null(r);
    out = open_memstream(&again, &again_len);
    w = record_writer_new(out, record_reader_mono_ns(r), record_reader_real_ns(r));
    while ((rc = record_reader_next(r, &ev)) == 1) {
        record_writer_put(w, &ev);
    }
    assert_int_equal(rc, 0);
    assert_true(record_reader_clean_end(r));
    assert_int_equal(record_writer_free(w), 0); /* writes END */
    fclose(out);
    assert_int_equal(again_len, len);
    assert_memory_equal(again, orig, 8);
    assert_memory_equal(again + 12, orig + 12, len - 12);
    record_reader_free(r);
    free(again);
    free(orig);
}

/* The format comment in record.h lists exactly the table's layouts, in its order. */
static void test_issue_12_comment_is_the_table(void **state)
{
    FILE *f = fopen("src/format/record.h", "r");
    char line[512], table[8192], comment[8192] = "";
    size_t n = 0;
    bool in = false;

    (void)state;
    assert_non_null(f);
    record_describe(table, sizeof(table));
    while (fgets(line, sizeof(line), f) != NULL) {
        if (strstr(line, " *   records:") == line) {
            in = true;
            continue;
        }
        if (in && strncmp(line, " *     ", 7) != 0) {
            break;
        }
        if (in) {
            n += (size_t)snprintf(comment + n, sizeof(comment) - n, "%s", line + 7);
        }
    }
    fclose(f);
    assert_string_equal(comment, table);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_pacing),
        cmocka_unit_test(test_varints),
        cmocka_unit_test(test_long_recording),
        cmocka_unit_test(test_bad_header),
        cmocka_unit_test(test_issue_11_step_request_id),
        cmocka_unit_test(test_truncated_and_corrupt),
        cmocka_unit_test(test_issue_12_table_reencodes_the_sample),
        cmocka_unit_test(test_issue_12_comment_is_the_table),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
