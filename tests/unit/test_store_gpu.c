/* SPDX-License-Identifier: MIT */
/* Unit tests of the store's GPU facts and their rows: the machine's devices, the error state,
 * the "no GPU" state, and the GPU Memory rows of a process (per device, freed, peak). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "src/model/rows.h"
#include "src/model/store.h"
#include "src/model/store_gpu.h"

#define GIB (1024ULL * 1024 * 1024)
#define MIB (1024ULL * 1024)

static const struct row *find_row(const struct rows *r, const char *path)
{
    for (size_t i = 0; i < r->n; i++) {
        if (strcmp(r->v[i].path, path) == 0) {
            return &r->v[i];
        }
    }
    return NULL;
}

static void test_no_gpu(void **state)
{
    struct store *st = store_new(NULL);
    struct store_proc *p = store_proc_add(st, 42, "lm");
    struct rows_gpus g;
    struct rows r;

    (void)state;
    store_gpu_set(st, NULL, 0, NULL);
    store_proc_gpu_set(p, NULL, NULL, 0);
    rows_build_gpus(&g, st);
    assert_int_equal(g.n, 0);
    assert_null(g.v);
    assert_null(g.error);
    rows_init(&r);
    rows_build_memory(&r, p, 0);
    assert_null(find_row(&r, "GPU Memory"));
    rows_done(&r);
    rows_gpus_done(&g);
    store_free(st);
}

static void test_devices(void **state)
{
    struct store *st = store_new(NULL);
    struct store_gpu_dev d[2];
    struct rows_gpus g;

    (void)state;
    memset(d, 0, sizeof(d));
    d[0].index = 0;
    strcpy(d[0].name, "Fake GPU A");
    d[0].util_valid = true;
    d[0].util_pct = 87;
    d[0].mem_valid = true;
    d[0].mem_used_bytes = 30 * GIB;
    d[0].mem_total_bytes = 80 * GIB;
    d[1].index = 1;
    memset(d[1].name, 'x', sizeof(d[1].name)); /* unterminated: the store terminates it */
    store_gpu_set(st, d, 2, NULL);
    rows_build_gpus(&g, st);
    assert_int_equal(g.n, 2);
    assert_null(g.error);
    assert_string_equal(g.v[0].name, "Fake GPU A");
    assert_true(g.v[0].util_valid);
    assert_true(g.v[0].util_pct == 87.0);
    assert_int_equal(g.v[0].mem_used_bytes, 30 * GIB);
    assert_int_equal(g.v[0].mem_total_bytes, 80 * GIB);
    assert_int_equal(g.v[1].index, 1);
    assert_false(g.v[1].util_valid);
    assert_false(g.v[1].mem_valid);
    assert_int_equal(strlen(g.v[1].name), STORE_GPU_NAME_LEN - 1);
    rows_gpus_done(&g);
    assert_null(g.v);

    /* A failure keeps its reason; the next good sample clears it. */
    store_gpu_set(st, NULL, 0, "NVML: init failed: Unknown Error");
    rows_build_gpus(&g, st);
    assert_int_equal(g.n, 0);
    assert_string_equal(g.error, "NVML: init failed: Unknown Error");
    rows_gpus_done(&g);
    store_gpu_set(st, d, 1, NULL);
    assert_int_equal(store_gpu_count(st), 1);
    assert_null(store_gpu_error(st));
    assert_null(store_gpu_at(st, 1));
    store_free(st);
}

static void test_proc_memory(void **state)
{
    struct store *st = store_new(NULL);
    struct store_proc *p = store_proc_add(st, 42, "lm");
    const uint32_t devs[] = {0, 1};
    const uint64_t bytes[] = {512 * MIB, 256 * MIB};
    const struct row *r;
    struct rows rows;

    (void)state;
    store_proc_gpu_set(p, devs, bytes, 2);
    rows_init(&rows);
    rows_build_memory(&rows, p, 0);
    r = find_row(&rows, "GPU Memory");
    assert_non_null(r);
    assert_int_equal(r->level, 0);
    assert_int_equal(r->bytes, 768 * MIB);
    assert_int_equal(r->nchildren, 2);
    assert_true(r->flags & ROW_F_DEVICE);
    assert_true(r->flags & ROW_F_PEAK);
    assert_int_equal(r->peak_bytes, 768 * MIB);
    r = find_row(&rows, "GPU Memory/GPU0");
    assert_non_null(r);
    assert_int_equal(r->bytes, 512 * MIB);
    assert_true(r->flags & ROW_F_DEVICE);
    r = find_row(&rows, "GPU Memory/GPU1");
    assert_non_null(r);
    assert_int_equal(r->bytes, 256 * MIB);

    /* Device 0 freed its memory: it stays listed at 0; the peak stays. */
    store_proc_gpu_set(p, &devs[1], &bytes[1], 1);
    rows_clear(&rows);
    rows_build_memory(&rows, p, 0);
    r = find_row(&rows, "GPU Memory");
    assert_int_equal(r->bytes, 256 * MIB);
    assert_int_equal(r->peak_bytes, 768 * MIB);
    assert_int_equal(find_row(&rows, "GPU Memory/GPU0")->bytes, 0);
    /* GPU memory is on the device: the host rows do not count it. */
    assert_null(find_row(&rows, "Host Memory"));
    rows_done(&rows);
    store_free(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_gpu),
        cmocka_unit_test(test_devices),
        cmocka_unit_test(test_proc_memory),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
