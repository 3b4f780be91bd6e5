/* SPDX-License-Identifier: MIT */
/* A workload with more distinct span paths than nctop's latency tree holds: once nctop is
 * attached, a span "known", then OUTER x INNER two-level paths "o<i>/i<j>" each begun and
 * ended once, then "known" again. A 16 MiB ring holds every event without a drain. Prints
 * "wide_tree: N events, D dropped". With TIMES, writes there one line "i ns" per outer span:
 * its own CLOCK_MONOTONIC reading of the span's time, taken just outside its begin and end
 * (so nctop's figure of the span is never above it). Usage: wide_tree OUTER INNER [TIMES] */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "nctop.h"

#define WT_MAX 4096

int main(int argc, char **argv)
{
    struct nctop_opts o = {.sz = sizeof(o), .label = "wide_tree", .ring_bytes = 16U << 20};
    struct timespec tick = {0, 1000000};
    static uint32_t outer[WT_MAX], inner[WT_MAX];
    int no = argc >= 3 ? atoi(argv[1]) : 0, ni = argc >= 3 ? atoi(argv[2]) : 0;
    FILE *times = argc == 4 ? fopen(argv[3], "we") : NULL;
    uint32_t known;
    uint64_t events = 0;
    char name[16];

    static uint64_t took[WT_MAX];

    if (argc > 4 || no < 1 || ni < 1 || no > WT_MAX || ni > WT_MAX || (argc == 4 && !times) ||
        nctop_init(&o) != 0) {
        fprintf(stderr, "usage: wide_tree OUTER INNER [TIMES] (1..%d each)\n", WT_MAX);
        return 2;
    }
    known = nctop_name("known");
    for (int i = 0; i < no; i++) {
        snprintf(name, sizeof(name), "o%d", i);
        outer[i] = nctop_name(name);
    }
    for (int j = 0; j < ni; j++) {
        snprintf(name, sizeof(name), "i%d", j);
        inner[j] = nctop_name(name);
    }
    for (int w = 0; w < 30000 && !nctop_attached(); w++) {
        nanosleep(&tick, NULL);
    }
    if (!nctop_attached()) {
        fprintf(stderr, "wide_tree: no nctop attached within 30 s\n");
        return 1;
    }
    nctop_span_begin(known);
    nctop_span_end(known);
    for (int i = 0; i < no; i++) {
        struct timespec t0, t1;

        clock_gettime(CLOCK_MONOTONIC, &t0);
        nctop_span_begin(outer[i]);
        for (int j = 0; j < ni; j++) {
            nctop_span_begin(inner[j]);
            nctop_span_end(inner[j]);
        }
        nctop_span_end(outer[i]);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        took[i] = (uint64_t)(t1.tv_sec - t0.tv_sec) * 1000000000ULL + (uint64_t)t1.tv_nsec -
                  (uint64_t)t0.tv_nsec;
    }
    nctop_span_begin(known);
    nctop_span_end(known);
    events = 4 + 2 * (uint64_t)no * (1 + (uint64_t)ni);
    printf("wide_tree: %llu events, %llu dropped\n", (unsigned long long)events,
           (unsigned long long)nctop_dropped());
    for (int i = 0; times != NULL && i < no; i++) {
        fprintf(times, "%d %llu\n", i, (unsigned long long)took[i]);
    }
    if (times != NULL && fclose(times) != 0) {
        perror("wide_tree: TIMES");
        return 1;
    }
    return 0;
}
