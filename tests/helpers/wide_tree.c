/* SPDX-License-Identifier: MIT */
/* A workload with more distinct span paths than nctop's latency tree holds: once nctop is
 * attached, a span "known", then OUTER x INNER two-level paths "o<i>/i<j>" each begun and
 * ended once, then "known" again. A 16 MiB ring holds every event without a drain. Prints
 * "wide_tree: N events, D dropped". Usage: wide_tree OUTER INNER */
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
    int no = argc == 3 ? atoi(argv[1]) : 0, ni = argc == 3 ? atoi(argv[2]) : 0;
    uint32_t known;
    uint64_t events = 0;
    char name[16];

    if (no < 1 || ni < 1 || no > WT_MAX || ni > WT_MAX || nctop_init(&o) != 0) {
        fprintf(stderr, "usage: wide_tree OUTER INNER (1..%d each)\n", WT_MAX);
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
        nctop_span_begin(outer[i]);
        for (int j = 0; j < ni; j++) {
            nctop_span_begin(inner[j]);
            nctop_span_end(inner[j]);
        }
        nctop_span_end(outer[i]);
    }
    nctop_span_begin(known);
    nctop_span_end(known);
    events = 4 + 2 * (uint64_t)no * (1 + (uint64_t)ni);
    printf("wide_tree: %llu events, %llu dropped\n", (unsigned long long)events,
           (unsigned long long)nctop_dropped());
    return 0;
}
