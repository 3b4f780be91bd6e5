/* SPDX-License-Identifier: MIT */
/* The smallest instrumented program: nested spans, a pool gauge, a weight, tokens and a
 * kernel. Build: cc hello_nctop.c $(pkg-config --cflags --libs nctop) -o hello_nctop */
#include <nctop.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static void busy_wait_us(unsigned us)
{
    uint64_t end = nctop_now_ns() + (uint64_t)us * 1000;

    while (nctop_now_ns() < end) {
        /* spin: stands in for real work */
    }
}

int main(int argc, char **argv)
{
    int steps = argc > 1 ? atoi(argv[1]) : 100;
    uint32_t cpu = nctop_name("cpu");
    uint32_t matmul = nctop_name("matmul");
    uint32_t pool = nctop_gauge("scratch", NCTOP_MEM_POOL, 0);

    nctop_weight_set("layers.0.proj", 4096 * 4, 0);
    nctop_weight_set("layers.1.proj", 4096 * 4, 0);
    nctop_step(NCTOP_STEP_REQUEST_BEGIN, 0);
    for (int i = 0; i < steps; i++) {
        NCTOP_SCOPE("step");
        {
            NCTOP_SCOPE("prepare");
            nctop_gauge_set(pool, 1 << 20, 4 << 20);
            busy_wait_us(100);
        }
        {
            NCTOP_SCOPE("compute");
            uint64_t t0 = nctop_now_ns();

            busy_wait_us(200);
            nctop_kernel(matmul, cpu, t0, nctop_now_ns() - t0);
        }
        nctop_step(NCTOP_STEP_TOKEN, 1);
    }
    nctop_step(NCTOP_STEP_REQUEST_END, 0);
    printf("hello_nctop: %d steps, %llu events dropped\n", steps,
           (unsigned long long)nctop_dropped());
    return 0;
}
