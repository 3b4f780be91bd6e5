/* SPDX-License-Identifier: MIT */
/* A workload that times its own spans with CLOCK_MONOTONIC, for tests/e2e/clock_spans.sh: one
 * thread pinned to each of the first two CPUs and one that moves between them inside every span
 * (it begins on one CPU and ends on the other), each running spans of three lengths for
 * SECONDS (argv[1]). Each span is timed twice: inside (from just after the begin call to just
 * before the end call) and outside (from before the begin call to after the end call), so the
 * time libnctop stamped lies between the two whatever the scheduler does. At exit it prints,
 * per span path, its count and the inner and outer totals and maxima as JSON lines. */
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nctop.h"

#define CS_KINDS 3
#define CS_THREADS 3

struct cs_stat {
    char path[32];
    uint64_t count;
    uint64_t inner_ns; /* totals */
    uint64_t outer_ns;
    uint64_t max_inner_ns;
    uint64_t max_outer_ns;
};

struct cs_thread {
    int index;
    int cpus[2]; /* the CPUs it runs on: the same twice, or two for the moving thread */
    double seconds;
    struct cs_stat stat[CS_KINDS];
};

static uint64_t cs_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void cs_pin(int cpu)
{
    cpu_set_t set;

    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    sched_setaffinity(0, sizeof(set), &set); /* 0: the calling thread */
}

static void cs_spin_ns(uint64_t ns)
{
    uint64_t end = cs_now_ns() + ns;

    while (cs_now_ns() < end) {
    }
}

static void cs_sleep_ns(uint64_t ns)
{
    struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)ns};

    nanosleep(&ts, NULL);
}

static void *cs_main(void *arg)
{
    static const char *const kinds[CS_KINDS] = {"spin_20us", "spin_300us", "sleep_2ms"};
    struct cs_thread *t = arg;
    char name[16];
    uint32_t top, ids[CS_KINDS];
    uint64_t end;
    unsigned i = 0;

    if (t->cpus[0] == t->cpus[1]) {
        snprintf(name, sizeof(name), "cpu%d", t->cpus[0]);
    } else {
        snprintf(name, sizeof(name), "moving");
    }
    nctop_thread_name(name);
    top = nctop_name(name);
    for (int k = 0; k < CS_KINDS; k++) {
        ids[k] = nctop_name(kinds[k]);
        snprintf(t->stat[k].path, sizeof(t->stat[k].path), "%s/%s", name, kinds[k]);
    }
    cs_pin(t->cpus[0]);
    nctop_span_begin(top);
    end = cs_now_ns() + (uint64_t)(t->seconds * 1e9);
    while (cs_now_ns() < end) {
        int k = (int)(i % CS_KINDS);
        struct cs_stat *s = &t->stat[k];
        uint64_t a0, a, b, b1;

        a0 = cs_now_ns();
        nctop_span_begin(ids[k]);
        a = cs_now_ns();
        if (t->cpus[0] != t->cpus[1]) {
            cs_pin(t->cpus[(i / CS_KINDS) % 2 == 0 ? 1 : 0]); /* end on the other CPU */
        }
        if (k == 0) {
            cs_spin_ns(20000);
        } else if (k == 1) {
            cs_spin_ns(300000);
        } else {
            cs_sleep_ns(2000000);
        }
        b = cs_now_ns();
        nctop_span_end(ids[k]);
        b1 = cs_now_ns();
        s->count++;
        s->inner_ns += b - a;
        s->outer_ns += b1 - a0;
        s->max_inner_ns = b - a > s->max_inner_ns ? b - a : s->max_inner_ns;
        s->max_outer_ns = b1 - a0 > s->max_outer_ns ? b1 - a0 : s->max_outer_ns;
        i++;
        if (i % 64 == 0) {
            cs_sleep_ns(1000000); /* leave the CPUs some room */
        }
    }
    nctop_span_end(top);
    return NULL;
}

int main(int argc, char **argv)
{
    struct cs_thread th[CS_THREADS];
    pthread_t tid[CS_THREADS];
    double seconds = argc > 1 ? atof(argv[1]) : 10;
    int second = 1;
    cpu_set_t set;

    /* The second CPU this process may run on, if it has two. */
    if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) >= 2) {
        int first = -1;

        for (int c = 0; c < CPU_SETSIZE; c++) {
            if (CPU_ISSET(c, &set)) {
                if (first < 0) {
                    first = c;
                } else {
                    second = c;
                    break;
                }
            }
        }
        th[0].cpus[0] = th[0].cpus[1] = first;
        th[1].cpus[0] = th[1].cpus[1] = second;
        th[2].cpus[0] = first;
        th[2].cpus[1] = second;
    } else {
        fprintf(stderr, "clock_spans: fewer than two CPUs\n");
        return 77;
    }
    nctop_init(NULL);
    for (int i = 0; i < CS_THREADS; i++) {
        th[i].index = i;
        th[i].seconds = seconds;
        memset(th[i].stat, 0, sizeof(th[i].stat));
        if (pthread_create(&tid[i], NULL, cs_main, &th[i]) != 0) {
            fprintf(stderr, "clock_spans: cannot start a thread\n");
            return 1;
        }
    }
    for (int i = 0; i < CS_THREADS; i++) {
        pthread_join(tid[i], NULL);
    }
    for (int i = 0; i < CS_THREADS; i++) {
        for (int k = 0; k < CS_KINDS; k++) {
            const struct cs_stat *s = &th[i].stat[k];

            printf("{\"path\": \"%s\", \"count\": %llu, \"inner_ns\": %llu, \"outer_ns\": %llu, "
                   "\"max_inner_ns\": %llu, \"max_outer_ns\": %llu}\n",
                   s->path, (unsigned long long)s->count, (unsigned long long)s->inner_ns,
                   (unsigned long long)s->outer_ns, (unsigned long long)s->max_inner_ns,
                   (unsigned long long)s->max_outer_ns);
        }
    }
    return 0;
}
