/* SPDX-License-Identifier: MIT */
/* Unit tests of the JSONL logger and the ProfileRecord writer: file names, the first empty
 * line, rows tagged with their workload, a real write error (the file size limit: EFBIG)
 * that stops one file and not the other, links planted at the next names (issue 10), and the
 * environment parsing. */
#include <cjson/cJSON.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "src/model/store.h"
#include "src/output/logger.h"
#include "src/output/profile_record.h"

#define MS 1000000ULL
#define SEC 1000000000ULL
#define REAL (1795000000ULL * SEC) /* 2026-11-18T11:06:40Z */

static struct store *sample_store(void)
{
    struct store *st = store_new(NULL);
    struct store_proc *p = store_proc_add(st, 77, "lm");
    uint32_t step = store_proc_intern(p, "step"), kv = store_proc_intern(p, "kv");
    uint32_t tok = store_proc_intern(p, "tokens");
    struct store_thread *t = store_thread_add(p, 77, "main");

    for (uint64_t i = 0; i < 20; i++) {
        store_span_begin(t, step, SEC + i * 50 * MS);
        store_span_end(t, step, SEC + i * 50 * MS + 10 * MS);
        store_counter_set(p, tok, i * 3, SEC + i * 50 * MS + 10 * MS);
    }
    store_gauge_set(p, kv, STORE_MEM_KV_CACHE, 0, 250, 1000, 0);
    return st;
}

static char *tmpdir(void)
{
    char *d = strdup("/tmp/nctop-test-logger.XXXXXX");

    assert_non_null(mkdtemp(d));
    return d;
}

/* The lines of a file, parsed; n set to their count. */
static cJSON **read_lines(const char *path, size_t *n)
{
    FILE *f = fopen(path, "r");
    cJSON **v = NULL;
    char *line = NULL;
    size_t cap = 0;

    *n = 0;
    assert_non_null(f);
    while (getline(&line, &cap, f) > 0) {
        v = realloc(v, (*n + 1) * sizeof(*v));
        v[*n] = cJSON_Parse(line);
        assert_non_null(v[*n]);
        (*n)++;
    }
    free(line);
    fclose(f);
    return v;
}

static void free_lines(cJSON **v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        cJSON_Delete(v[i]);
    }
    free(v);
}

static void test_logger_files(void **state)
{
    char *dir = tmpdir(), *lat = NULL, *mem = NULL;
    struct store *st = sample_store();
    struct logger *lg = logger_new(dir);
    cJSON **v, *rows, *r;
    size_t n;

    (void)state;
    assert_false(logger_active(lg));
    assert_int_equal(logger_start(lg, REAL), 0);
    assert_true(logger_active(lg));
    assert_non_null(strstr(logger_latency_path(lg), "/20261118110640-latency.jsonl"));
    assert_non_null(strstr(logger_memory_path(lg), "/20261118110640-memory.jsonl"));
    assert_int_equal(logger_write(lg, st, 2 * SEC, REAL + SEC), 0);
    assert_int_equal(logger_write(lg, st, 2 * SEC, REAL + 2 * SEC), 0);
    assert_int_equal(logger_lines(lg), 6);
    lat = strdup(logger_latency_path(lg));
    mem = strdup(logger_memory_path(lg));
    logger_stop(lg);
    assert_false(logger_active(lg));

    v = read_lines(lat, &n);
    assert_int_equal(n, 3);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(v[0], "rows")), 0);
    assert_string_equal(cJSON_GetObjectItem(v[1], "timestamp")->valuestring,
                        "2026-11-18T11:06:41.000Z");
    rows = cJSON_GetObjectItem(v[1], "rows");
    assert_int_equal(cJSON_GetArraySize(rows), 1);
    r = cJSON_GetArrayItem(rows, 0);
    assert_string_equal(cJSON_GetObjectItem(r, "label")->valuestring, "step");
    assert_int_equal(cJSON_GetObjectItem(r, "level")->valueint, 0);
    assert_true(cJSON_GetObjectItem(r, "last_ms")->valuedouble == 10.0);
    assert_true(cJSON_GetObjectItem(r, "average_ms")->valuedouble == 10.0);
    assert_int_equal(cJSON_GetObjectItem(r, "pid")->valueint, 77);
    assert_string_equal(cJSON_GetObjectItem(r, "process")->valuestring, "lm");
    free_lines(v, n);

    v = read_lines(mem, &n);
    assert_int_equal(n, 3);
    r = cJSON_GetArrayItem(cJSON_GetObjectItem(v[2], "rows"), 0);
    assert_string_equal(cJSON_GetObjectItem(r, "label")->valuestring, "KV Cache");
    assert_non_null(cJSON_GetObjectItem(r, "current_total_mb"));
    assert_non_null(cJSON_GetObjectItem(r, "peak_total_mb"));
    free_lines(v, n);

    /* Starting again appends to files of the same second. */
    assert_int_equal(logger_start(lg, REAL), 0);
    logger_free(lg);
    v = read_lines(lat, &n);
    assert_int_equal(n, 4);
    free_lines(v, n);
    unlink(lat);
    unlink(mem);
    rmdir(dir);
    free(lat);
    free(mem);
    free(dir);
    store_free(st);
}

#define FULL_BYTES (1 << 20) /* the file size limit of the write-error tests */

/* Make path a file already at the size limit (sparse), so that appending fails with EFBIG. */
static void make_full(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);

    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, FULL_BYTES), 0);
    close(fd);
}

/* Lower the soft file size limit (SIGXFSZ ignored, as nctop does); restore with old. */
static void limit_fsize(struct rlimit *old)
{
    struct rlimit rl;

    signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(getrlimit(RLIMIT_FSIZE, old), 0);
    rl = *old;
    rl.rlim_cur = FULL_BYTES;
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &rl), 0);
}

/* A write error on one file (a file at the size limit: EFBIG) stops that file only, with a
 * warning. */
static void test_logger_write_error(void **state)
{
    char *dir = tmpdir(), lat[256], mem[256];
    struct store *st = sample_store();
    struct logger *lg = logger_new(dir);
    struct rlimit old;
    cJSON **v;
    size_t n;

    (void)state;
    snprintf(lat, sizeof(lat), "%s/20261118110640-latency.jsonl", dir);
    snprintf(mem, sizeof(mem), "%s/20261118110640-memory.jsonl", dir);
    make_full(lat);
    limit_fsize(&old);
    assert_true(logger_start(lg, REAL) < 0);
    assert_non_null(logger_warning(lg));
    assert_non_null(strstr(logger_warning(lg), "File too large"));
    assert_true(logger_active(lg)); /* the memory log goes on */
    assert_int_equal(logger_write(lg, st, 2 * SEC, REAL + SEC), 0);
    logger_free(lg);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    v = read_lines(mem, &n);
    assert_int_equal(n, 2);
    free_lines(v, n);
    unlink(lat);
    unlink(mem);
    rmdir(dir);
    free(dir);
    store_free(st);
}

/* Issue 10: links planted at the next log names are not followed. The file they point to is
 * unchanged, the warning says why, and the other log goes on. */
static void test_issue_10_logger_symlink_not_followed(void **state)
{
    char *dir = tmpdir(), lat[256], mem[256], target[256], buf[64];
    struct store *st = sample_store();
    struct logger *lg = logger_new(dir);
    FILE *f;
    cJSON **v;
    size_t n;

    (void)state;
    snprintf(lat, sizeof(lat), "%s/20261118110640-latency.jsonl", dir);
    snprintf(mem, sizeof(mem), "%s/20261118110640-memory.jsonl", dir);
    snprintf(target, sizeof(target), "%s/precious", dir);
    f = fopen(target, "w");
    assert_non_null(f);
    fputs("precious\n", f);
    fclose(f);
    assert_int_equal(symlink(target, lat), 0);
    assert_true(logger_start(lg, REAL) < 0);
    assert_non_null(logger_warning(lg));
    assert_non_null(strstr(logger_warning(lg), lat));
    assert_non_null(strstr(logger_warning(lg), "symbolic link"));
    assert_true(logger_active(lg));
    assert_int_equal(logger_write(lg, st, 2 * SEC, REAL + SEC), 0);
    logger_free(lg);
    f = fopen(target, "r");
    assert_non_null(f);
    assert_non_null(fgets(buf, sizeof(buf), f));
    assert_string_equal(buf, "precious\n");
    assert_null(fgets(buf, sizeof(buf), f));
    fclose(f);
    v = read_lines(mem, &n);
    assert_int_equal(n, 2);
    free_lines(v, n);
    unlink(lat);
    unlink(mem);
    unlink(target);
    rmdir(dir);
    free(dir);
    store_free(st);
}

/* Issue 10: the same for the ProfileRecord file (NC_PROFILE_JSONL). */
static void test_issue_10_profile_record_symlink_not_followed(void **state)
{
    char *dir = tmpdir(), path[256], target[256], *err = NULL;
    struct stat sb;

    (void)state;
    snprintf(path, sizeof(path), "%s/p.jsonl", dir);
    snprintf(target, sizeof(target), "%s/precious", dir);
    fclose(fopen(target, "w"));
    assert_int_equal(symlink(target, path), 0);
    assert_null(profile_record_new(path, &err));
    assert_non_null(err);
    assert_non_null(strstr(err, "symbolic link"));
    free(err);
    assert_int_equal(stat(target, &sb), 0);
    assert_int_equal(sb.st_size, 0);
    unlink(path);
    unlink(target);
    rmdir(dir);
    free(dir);
}

static void test_logger_env(void **state)
{
    uint64_t ns;
    char warn[160];

    (void)state;
    unsetenv("METRICS_LOG_ENABLED");
    unsetenv("METRICS_LOG_INTERVAL_SECS");
    assert_false(logger_env(&ns, warn, sizeof(warn)));
    assert_true(ns == 5 * SEC && warn[0] == '\0');
    setenv("METRICS_LOG_ENABLED", "TrUe", 1);
    setenv("METRICS_LOG_INTERVAL_SECS", "2", 1);
    assert_true(logger_env(&ns, warn, sizeof(warn)));
    assert_true(ns == 2 * SEC);
    setenv("METRICS_LOG_ENABLED", "On", 1);
    assert_true(logger_env(&ns, warn, sizeof(warn)));
    setenv("METRICS_LOG_ENABLED", "0", 1);
    assert_false(logger_env(&ns, warn, sizeof(warn)));
    setenv("METRICS_LOG_ENABLED", "yes", 1);
    for (int i = 0; i < 4; i++) {
        static const char *const bad[] = {"0", "-3", "1.5", "x"};

        setenv("METRICS_LOG_INTERVAL_SECS", bad[i], 1);
        assert_true(logger_env(&ns, warn, sizeof(warn)));
        assert_true(ns == 5 * SEC);
        assert_non_null(strstr(warn, "METRICS_LOG_INTERVAL_SECS"));
    }
    unsetenv("METRICS_LOG_ENABLED");
    unsetenv("METRICS_LOG_INTERVAL_SECS");
}

static void test_profile_record(void **state)
{
    char *dir = tmpdir(), path[256], *err = NULL;
    struct store *st = sample_store();
    struct profile_record *pr;
    cJSON **v;
    size_t n;
    bool seen[3] = {false, false, false};

    (void)state;
    snprintf(path, sizeof(path), "%s/p.jsonl", dir);
    pr = profile_record_new(path, &err);
    assert_non_null(pr);
    assert_int_equal(profile_record_write(pr, st, 2 * SEC, REAL), 0);
    profile_record_free(pr);
    v = read_lines(path, &n);
    assert_true(n >= 3);
    for (size_t i = 0; i < n; i++) {
        const char *m = cJSON_GetObjectItem(v[i], "metric")->valuestring;
        cJSON *labels = cJSON_GetObjectItem(v[i], "labels");

        assert_true(cJSON_GetObjectItem(v[i], "ts_ms")->valuedouble == (double)(REAL / MS));
        assert_string_equal(cJSON_GetObjectItem(labels, "pid")->valuestring, "77");
        assert_string_equal(cJSON_GetObjectItem(labels, "label")->valuestring, "lm");
        assert_string_equal(cJSON_GetObjectItem(labels, "target")->valuestring, "cpu");
        if (strcmp(m, "latency_ms") == 0) {
            seen[0] = true;
            assert_true(cJSON_GetObjectItem(v[i], "value")->valuedouble == 10.0);
            assert_string_equal(cJSON_GetObjectItem(labels, "path")->valuestring, "step");
        } else if (strcmp(m, "tokens_per_sec") == 0) {
            seen[1] = true;
            assert_true(cJSON_GetObjectItem(v[i], "value")->valuedouble > 50.0);
        } else if (strcmp(m, "buffer_occupancy_pct") == 0) {
            seen[2] = true;
            assert_true(cJSON_GetObjectItem(v[i], "value")->valuedouble == 25.0);
        }
    }
    assert_true(seen[0] && seen[1] && seen[2]);
    free_lines(v, n);
    unlink(path);

    /* A write error stops the file with a warning. */
    {
        struct rlimit old;

        make_full(path);
        limit_fsize(&old);
        pr = profile_record_new(path, &err);
        assert_non_null(pr);
        assert_true(profile_record_write(pr, st, 2 * SEC, REAL) < 0);
        assert_false(profile_record_active(pr));
        assert_non_null(strstr(profile_record_warning(pr), "File too large"));
        profile_record_free(pr);
        assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
        unlink(path);
    }
    assert_null(profile_record_new("/nonexistent-dir/p.jsonl", &err));
    assert_non_null(err);
    free(err);
    rmdir(dir);
    free(dir);
    store_free(st);
}

/* A compilation on t: compile(model, target) > parse, ended at end_ns with status (0 ok). */
static void add_compilation(struct store_proc *p, struct store_thread *t, const char *model,
                            const char *target, uint64_t end_ns, uint32_t status)
{
    uint32_t c = store_proc_intern(p, "compile"), parse = store_proc_intern(p, "parse");
    uint64_t b = end_ns - 10 * MS;

    store_span_begin(t, c, b);
    store_span_attr(t, store_proc_intern(p, "model"), store_proc_intern(p, model), b);
    store_span_attr(t, store_proc_intern(p, "target"), store_proc_intern(p, target), b);
    store_span_begin(t, parse, b + MS);
    store_span_end(t, parse, b + 3 * MS);
    store_span_end_status(t, c, status, end_ns);
}

/* test_issue_15: each compilation goes to the latency log once (the first line after a start
 * has every kept one), oldest first, tagged with its workload and number; ProfileRecord has
 * a compile_ms line per compilation labelled by target, model and result. */
static void test_issue_15_log_compilations(void **state)
{
    char *dir = tmpdir(), *lat = NULL, path[256], *err = NULL;
    struct store *st = store_new(NULL);
    struct store_proc *p = store_proc_add(st, 88, "snnc");
    struct store_thread *t = store_thread_add(p, 88, "main");
    uint32_t why = store_proc_intern(p, "partition: does not fit");
    struct logger *lg = logger_new(dir);
    struct profile_record *pr;
    cJSON **v, *c, *o;
    size_t n, nc = 0;

    (void)state;
    add_compilation(p, t, "ff", "loihi2", SEC, 0);
    add_compilation(p, t, "dense", "truenorth", 2 * SEC, why);
    assert_int_equal(logger_start(lg, REAL), 0);
    assert_int_equal(logger_write(lg, st, 3 * SEC, REAL + SEC), 0);
    assert_int_equal(logger_write(lg, st, 4 * SEC, REAL + 2 * SEC), 0);
    add_compilation(p, t, "ff", "truenorth", 5 * SEC, 0);
    assert_int_equal(logger_write(lg, st, 6 * SEC, REAL + 3 * SEC), 0);
    lat = strdup(logger_latency_path(lg));
    logger_free(lg);
    v = read_lines(lat, &n);
    assert_int_equal(n, 4);
    assert_null(cJSON_GetObjectItem(v[0], "compilations"));
    c = cJSON_GetObjectItem(v[1], "compilations");
    assert_int_equal(cJSON_GetArraySize(c), 2);
    o = cJSON_GetArrayItem(c, 0);
    assert_int_equal(cJSON_GetObjectItem(o, "number")->valueint, 1);
    assert_string_equal(cJSON_GetObjectItem(o, "status")->valuestring, "ok");
    assert_string_equal(
        cJSON_GetObjectItem(cJSON_GetObjectItem(o, "attributes"), "model")->valuestring, "ff");
    assert_int_equal(cJSON_GetObjectItem(o, "pid")->valueint, 88);
    assert_string_equal(cJSON_GetObjectItem(o, "process")->valuestring, "snnc");
    assert_true(cJSON_GetObjectItem(o, "wall_ms")->valuedouble == 10.0);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(o, "passes")), 1);
    o = cJSON_GetArrayItem(c, 1);
    assert_int_equal(cJSON_GetObjectItem(o, "number")->valueint, 2);
    assert_string_equal(cJSON_GetObjectItem(o, "status")->valuestring, "error");
    assert_string_equal(cJSON_GetObjectItem(o, "message")->valuestring, "partition: does not fit");
    assert_null(cJSON_GetObjectItem(v[2], "compilations")); /* nothing new */
    c = cJSON_GetObjectItem(v[3], "compilations");
    assert_int_equal(cJSON_GetArraySize(c), 1);
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(c, 0), "number")->valueint, 3);
    free_lines(v, n);
    unlink(lat);
    free(lat);
    /* (the memory log of the same stamp) */
    snprintf(path, sizeof(path), "%s/20261118110640-memory.jsonl", dir);
    unlink(path);

    snprintf(path, sizeof(path), "%s/p.jsonl", dir);
    pr = profile_record_new(path, &err);
    assert_non_null(pr);
    assert_int_equal(profile_record_write(pr, st, 6 * SEC, REAL), 0);
    assert_int_equal(profile_record_write(pr, st, 7 * SEC, REAL + SEC), 0);
    profile_record_free(pr);
    v = read_lines(path, &n);
    for (size_t i = 0; i < n; i++) {
        cJSON *labels = cJSON_GetObjectItem(v[i], "labels");
        static const char *const want[3][3] = {
            {"loihi2", "ff", "ok"}, {"truenorth", "dense", "error"}, {"truenorth", "ff", "ok"}};

        if (strcmp(cJSON_GetObjectItem(v[i], "metric")->valuestring, "compile_ms") != 0) {
            continue;
        }
        assert_true(nc < 3);
        assert_true(cJSON_GetObjectItem(v[i], "value")->valuedouble == 10.0);
        assert_string_equal(cJSON_GetObjectItem(labels, "target")->valuestring, want[nc][0]);
        assert_string_equal(cJSON_GetObjectItem(labels, "model")->valuestring, want[nc][1]);
        assert_string_equal(cJSON_GetObjectItem(labels, "result")->valuestring, want[nc][2]);
        /* at the real time it ended: 5, 4 and 1 s before the write at 6 s */
        assert_true(cJSON_GetObjectItem(v[i], "ts_ms")->valuedouble ==
                    (double)((REAL - (nc == 0   ? 5
                                      : nc == 1 ? 4
                                                : 1) *
                                         SEC) /
                             MS));
        nc++;
    }
    assert_int_equal(nc, 3); /* once each, though written twice */
    free_lines(v, n);
    unlink(path);
    rmdir(dir);
    free(dir);
    store_free(st);
}

/* test_issue_11: --log-dir is created when missing (parents too), and a directory that cannot
 * be made names both logs in one warning. */
static void test_issue_11_log_dir_created(void **state)
{
    char *dir = tmpdir(), *sub = NULL, *file = NULL;
    struct logger *lg;
    struct stat sb;
    FILE *f;

    (void)state;
    assert_true(asprintf(&sub, "%s/a/b/logs", dir) > 0);
    lg = logger_new(sub);
    assert_int_equal(logger_start(lg, REAL), 0);
    assert_int_equal(stat(logger_latency_path(lg), &sb), 0);
    assert_int_equal(stat(logger_memory_path(lg), &sb), 0);
    logger_free(lg);

    assert_true(asprintf(&file, "%s/plain", dir) > 0);
    f = fopen(file, "w");
    assert_non_null(f);
    fclose(f);
    free(sub);
    assert_true(asprintf(&sub, "%s/plain/logs", dir) > 0);
    lg = logger_new(sub);
    assert_true(logger_start(lg, REAL) < 0);
    assert_false(logger_active(lg));
    assert_non_null(strstr(logger_warning(lg), "latency"));
    assert_non_null(strstr(logger_warning(lg), "memory"));
    logger_free(lg);
    free(sub);
    free(file);
    free(dir);
}

/* test_issue_11: the size cap starts a new pair (a ".N" name within one second) and only the
 * newest `keep` pairs stay; the lines of every kept file are whole JSON objects. */
static void test_issue_11_log_rotation(void **state)
{
    char *dir = tmpdir();
    struct store *st = sample_store();
    struct logger *lg = logger_new(dir);
    char cmd[256];
    FILE *ls;
    int files = 0;
    char line[512];

    (void)state;
    logger_set_limits(lg, 4096, 2);
    assert_int_equal(logger_start(lg, REAL), 0);
    for (int i = 0; i < 200; i++) {
        assert_int_equal(logger_write(lg, st, 2 * SEC, REAL + (uint64_t)(i / 50) * SEC), 0);
        assert_true(logger_active(lg));
    }
    snprintf(cmd, sizeof(cmd), "ls %s", dir);
    ls = popen(cmd, "r");
    assert_non_null(ls);
    while (fgets(line, sizeof(line), ls) != NULL) {
        char path[1024];
        size_t n;
        cJSON **v;

        line[strcspn(line, "\n")] = '\0';
        snprintf(path, sizeof(path), "%s/%s", dir, line);
        v = read_lines(path, &n);
        assert_true(n >= 1);
        free_lines(v, n);
        files++;
    }
    pclose(ls);
    assert_int_equal(files, 4); /* two pairs */
    assert_non_null(strstr(logger_latency_path(lg), "."));
    logger_free(lg);
    store_free(st);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_logger_files),
        cmocka_unit_test(test_logger_write_error),
        cmocka_unit_test(test_issue_10_logger_symlink_not_followed),
        cmocka_unit_test(test_issue_10_profile_record_symlink_not_followed),
        cmocka_unit_test(test_logger_env),
        cmocka_unit_test(test_profile_record),
        cmocka_unit_test(test_issue_15_log_compilations),
        cmocka_unit_test(test_issue_11_log_dir_created),
        cmocka_unit_test(test_issue_11_log_rotation),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
