/* SPDX-License-Identifier: MIT */
/* A workload with many distinct span paths, for the memory bench: --paths N two-level paths
 * "a<i>/b<j>" (about sqrt(N) names at each level), each begun and ended in turn, round after
 * round, at --rate events per second for --seconds. Prints the paths and events it emitted
 * and those libnctop dropped. Usage: paths --paths N [--rate R] [--seconds S] */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench_pace.h"
#include "nctop.h"

#define PATHS_MAX_SIDE 4096U

int main(int argc, char **argv)
{
    double rate = 2e6, seconds = 5, want = 100000;
    static uint32_t outer[PATHS_MAX_SIDE], inner[PATHS_MAX_SIDE];
    uint32_t side;
    uint64_t paths, emitted = 0, k = 0, start, end;
    char name[16];

    for (int a = 1; a + 1 < argc; a += 2) {
        if (strcmp(argv[a], "--paths") == 0) {
            want = atof(argv[a + 1]);
        } else if (strcmp(argv[a], "--rate") == 0) {
            rate = atof(argv[a + 1]);
        } else if (strcmp(argv[a], "--seconds") == 0) {
            seconds = atof(argv[a + 1]);
        }
    }
    side = (uint32_t)ceil(sqrt(want));
    if (want < 1 || side > PATHS_MAX_SIDE || rate <= 0 || seconds <= 0) {
        fprintf(stderr, "paths: --paths 1..%u, --rate and --seconds positive\n",
                PATHS_MAX_SIDE * PATHS_MAX_SIDE);
        return 2;
    }
    paths = (uint64_t)want;
    for (uint32_t i = 0; i < side; i++) {
        snprintf(name, sizeof(name), "a%u", i);
        outer[i] = nctop_name(name);
        snprintf(name, sizeof(name), "b%u", i);
        inner[i] = nctop_name(name);
    }
    start = pace_now_ns();
    end = start + (uint64_t)(seconds * 1e9);
    for (;;) {
        int due = pace_due(start, end, emitted, rate);

        if (due < 0) {
            break;
        }
        if (due == 0) {
            continue;
        }
        /* a burst of 256 paths, 4 events each */
        for (int b = 0; b < 256; b++, k = (k + 1) % paths) {
            nctop_span_begin(outer[k / side]);
            nctop_span_begin(inner[k % side]);
            nctop_span_end(inner[k % side]);
            nctop_span_end(outer[k / side]);
        }
        emitted += 4 * 256;
    }
    printf("paths %llu emitted %llu dropped %llu\n", (unsigned long long)paths,
           (unsigned long long)emitted, (unsigned long long)nctop_dropped());
    return 0;
}
