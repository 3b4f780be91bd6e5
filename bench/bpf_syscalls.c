/* SPDX-License-Identifier: MIT */
/* A syscall-heavy program for the eBPF collector's overhead: getppid() in a loop for a given
 * time after an optional pause (so a collector can attach first); prints ns per call. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static uint64_t bench_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    double seconds = 1.0, pause = 0.0;
    uint64_t calls = 0, start, end;

    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--seconds") == 0) {
            seconds = atof(argv[i + 1]);
        } else if (strcmp(argv[i], "--pause") == 0) {
            pause = atof(argv[i + 1]);
        }
    }
    if (pause > 0) {
        usleep((useconds_t)(pause * 1e6));
    }
    start = bench_now_ns();
    end = start + (uint64_t)(seconds * 1e9);
    do {
        /* 1000 calls between clock reads: the clock is a syscall-free vDSO call anyway. */
        for (int k = 0; k < 1000; k++) {
            syscall(SYS_getppid);
        }
        calls += 1000;
    } while (bench_now_ns() < end);
    printf("%.1f\n", (double)(bench_now_ns() - start) / (double)calls);
    return 0;
}
