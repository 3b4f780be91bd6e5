/* SPDX-License-Identifier: MIT */
/* A paced workload for the scaling bench: emit --rate events per second for --seconds, as
 * steps of a realistic mix (spans nested 4 deep and a kernel record: 9 ring records a step,
 * which are the events counted, plus a gauge update in the segment), paced to the rate. Prints the
 * events it emitted and those libnctop dropped. Usage: emit --rate N --seconds S [--label NAME] */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench_pace.h"
#include "nctop.h"

int main(int argc, char **argv)
{
    double rate = 10000, seconds = 5;
    const char *label = "emit";
    uint32_t step, fwd, blk[4], sub[2], krn, be;
    uint32_t g;
    uint64_t start, end, emitted = 0, i = 0;
    char name[32];

    for (int a = 1; a + 1 < argc; a += 2) {
        if (strcmp(argv[a], "--rate") == 0) {
            rate = atof(argv[a + 1]);
        } else if (strcmp(argv[a], "--seconds") == 0) {
            seconds = atof(argv[a + 1]);
        } else if (strcmp(argv[a], "--label") == 0) {
            label = argv[a + 1];
        }
    }
    if (rate <= 0 || seconds <= 0) {
        fprintf(stderr, "emit: --rate and --seconds must be positive\n");
        return 2;
    }
    nctop_set_label(label);
    step = nctop_name("step");
    fwd = nctop_name("forward");
    for (int b = 0; b < 4; b++) {
        snprintf(name, sizeof(name), "block %d", b);
        blk[b] = nctop_name(name);
    }
    sub[0] = nctop_name("attention");
    sub[1] = nctop_name("mlp");
    krn = nctop_name("matmul");
    be = nctop_name("cpu");
    g = nctop_gauge("kv_cache", NCTOP_MEM_KV_CACHE, 1 << 20);
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
        /* one step: 2 + 2 + 2 + 2 span events and a kernel = 9 records, and a gauge */
        nctop_span_begin(step);
        nctop_span_begin(fwd);
        nctop_span_begin(blk[i % 4]);
        nctop_span_begin(sub[i % 2]);
        nctop_kernel(krn, be, pace_now_ns(), 1000);
        nctop_span_end(sub[i % 2]);
        nctop_span_end(blk[i % 4]);
        nctop_span_end(fwd);
        nctop_gauge_set(g, (i % 1024) * 1024, 1 << 20);
        nctop_span_end(step);
        emitted += 9;
        i++;
    }
    printf("emitted %llu dropped %llu\n", (unsigned long long)emitted,
           (unsigned long long)nctop_dropped());
    return 0;
}
