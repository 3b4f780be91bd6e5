/* SPDX-License-Identifier: MIT */
/* /proc readers for host memory and CPU time. The kernel's numbers are trusted for format but
 * still parsed defensively: a process may vanish between two reads. */
#include "collectors/proc.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collectors/collector.h"
#include "src/base/util.h"
#include "src/base/xalloc.h"
#include "src/model/store.h"

/* The value in kB of a "Key:   123 kB" line of /proc/<pid>/status, in bytes. */
static bool proc_status_kb(const char *status, const char *key, uint64_t *out)
{
    const char *p = strstr(status, key);
    unsigned long long kb;

    if (p == NULL || sscanf(p + strlen(key), " %llu", &kb) != 1) {
        return false;
    }
    *out = (uint64_t)kb * 1024;
    return true;
}

int proc_read(int32_t pid, struct proc_sample *out)
{
    char path[64], buf[4096];
    const char *p;
    unsigned long long utime, stime, start;
    unsigned long threads = 0;
    long ticks = sysconf(_SC_CLK_TCK), n;

    memset(out, 0, sizeof(*out));
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    n = util_read_file(path, buf, sizeof(buf));
    if (n < 0) {
        return (int)n;
    }
    if (!proc_status_kb(buf, "\nVmRSS:", &out->rss_bytes)) {
        return -ENOENT; /* a zombie has no memory lines */
    }
    if (!proc_status_kb(buf, "\nVmHWM:", &out->rss_peak_bytes)) {
        out->rss_peak_bytes = out->rss_bytes;
    }
    p = strstr(buf, "\nThreads:");
    if (p != NULL && sscanf(p + 9, " %lu", &threads) == 1) {
        out->threads = (uint32_t)threads;
    }

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    n = util_read_file(path, buf, sizeof(buf));
    if (n < 0) {
        return (int)n;
    }
    p = strrchr(buf, ')');
    if (p == NULL || ticks <= 0) {
        return -EINVAL;
    }
    /* After ')': state(3) ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt
     * utime(14) stime(15) cutime cstime priority nice num_threads itrealvalue starttime(22). */
    if (sscanf(p + 1,
               " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d %*d %*d "
               "%llu",
               &utime, &stime, &start) != 3) {
        return -EINVAL;
    }
    out->cpu_time_ns = (uint64_t)(utime + stime) * (UTIL_NS_PER_SEC / (uint64_t)ticks);
    out->start_ticks = start;
    return 0;
}

void proc_collect(struct store *st, uint64_t now_ns)
{
    size_t n = store_nprocs(st);

    for (size_t i = 0; i < n; i++) {
        struct store_proc *p = store_proc_at(st, i);
        struct proc_sample s;

        if (p == NULL || store_proc_state(p) != STORE_PROC_LIVE) {
            continue;
        }
        /* A process that ended a moment ago (its exit not yet seen) may have handed its pid
         * on: another start time is someone else. */
        if (proc_read(store_proc_pid(p), &s) == 0 &&
            (store_proc_start_ticks(p) == 0 || s.start_ticks == store_proc_start_ticks(p))) {
            store_proc_set_host(p, s.rss_bytes, s.rss_peak_bytes, s.cpu_time_ns, now_ns);
        }
    }
}

/* --- the source ---------------------------------------------------------------------------- */

#define PROC_MS 1000     /* /proc sampling */
#define PROC_FAST_MS 100 /* the first seconds, and while a workload has no host facts yet */
#define PROC_FAST_RUNS 30

struct proc_collector {
    struct store *st;
    unsigned runs;
};

static void *proc_collector_start(const struct collector_env *env, uint64_t now_ns, char **err)
{
    struct proc_collector *c = xcalloc(1, sizeof(*c));

    (void)now_ns;
    (void)err;
    c->st = env->store;
    return c;
}

static void proc_collector_stop(void *self)
{
    free(self);
}

/* Whether a live process has no host facts yet (it just attached). */
static bool proc_someone_new(const struct store *st)
{
    size_t n = store_nprocs(st);

    for (size_t i = 0; i < n; i++) {
        const struct store_proc *p = store_proc_at(st, i);

        if (p != NULL && store_proc_state(p) == STORE_PROC_LIVE && !store_proc_host_valid(p)) {
            return true;
        }
    }
    return false;
}

/* Sample; fast during the first seconds (so that short runs get host facts) and while a
 * workload that just attached has none. */
static uint64_t proc_collector_run(void *self, uint64_t now_ns)
{
    struct proc_collector *c = self;

    proc_collect(c->st, now_ns);
    c->runs += c->runs < PROC_FAST_RUNS;
    return c->runs < PROC_FAST_RUNS || proc_someone_new(c->st) ? PROC_FAST_MS : PROC_MS;
}

static void proc_collector_flush(void *self, uint64_t now_ns)
{
    struct proc_collector *c = self;

    if (proc_someone_new(c->st)) {
        proc_collect(c->st, now_ns);
    }
}

const struct collector_ops proc_collector = {
    .name = "proc",
    .start = proc_collector_start,
    .stop = proc_collector_stop,
    .run = proc_collector_run,
    .flush = proc_collector_flush,
};
