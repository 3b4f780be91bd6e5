/* SPDX-License-Identifier: MIT */
/* A deterministic workload for the display tests: a fixed span tree (step > forward > block
 * 0..3 > attn, mlp; sampling), weights, a pool and a KV cache gauge with fixed sizes, kernels
 * and token markers, with busy-wait timings. Runs until killed; prints nothing. */
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "nctop.h"

#define TT_BLOCKS 4
#define US 1000ULL

/* Spin rather than sleep: a sleeping span would measure the scheduler, not the code. */
static void tt_spin(uint64_t ns)
{
    uint64_t end = nctop_now_ns() + ns;

    while (nctop_now_ns() < end) {
    }
}

static void tt_pause(long ms)
{
    struct timespec ts = {.tv_sec = 0, .tv_nsec = ms * 1000000L};

    nanosleep(&ts, NULL);
}

int main(int argc, char **argv)
{
    uint32_t step = nctop_name("step"), fwd = nctop_name("forward"), smp = nctop_name("sampling");
    uint32_t attn = nctop_name("attn"), mlp = nctop_name("mlp"), cpu = nctop_name("cpu");
    uint32_t matmul = nctop_name("matmul"), softmax = nctop_name("softmax");
    uint32_t blocks[TT_BLOCKS];
    uint32_t pool = nctop_gauge("tensor_pool", NCTOP_MEM_POOL, 0);
    uint32_t kv = nctop_gauge("kv_cache", NCTOP_MEM_KV_CACHE, 0);
    uint32_t tokens = nctop_counter("tokens");
    long steps = argc > 1 ? atol(argv[1]) : -1; /* default: until killed */

    nctop_set_label("tui_tree");
    nctop_thread_name("main");
    blocks[0] = nctop_name("block 0");
    blocks[1] = nctop_name("block 1");
    blocks[2] = nctop_name("block 2");
    blocks[3] = nctop_name("block 3");
    nctop_weight_set("embedding", 4 << 20, 0);
    nctop_weight_set("layers.0.attn", 2 << 20, 0);
    nctop_weight_set("layers.0.mlp", 3 << 20, 0);
    nctop_weight_set("layers.1.attn", 2 << 20, 0);
    nctop_weight_set("layers.1.mlp", 3 << 20, 0);
    nctop_gauge_set(pool, 1 << 20, 4 << 20);
    nctop_gauge_set(kv, 3 << 20, 8 << 20);
    nctop_step(NCTOP_STEP_REQUEST_BEGIN, 0);
    for (long i = 0; steps < 0 || i < steps; i++) {
        nctop_span_begin(step);
        nctop_span_begin(fwd);
        for (int b = 0; b < TT_BLOCKS; b++) {
            uint64_t t0;

            nctop_span_begin(blocks[b]);
            nctop_span_begin(attn);
            t0 = nctop_now_ns();
            tt_spin(150 * US);
            nctop_kernel(softmax, cpu, t0, nctop_now_ns() - t0);
            nctop_span_end(attn);
            nctop_span_begin(mlp);
            t0 = nctop_now_ns();
            tt_spin(250 * US);
            nctop_kernel(matmul, cpu, t0, nctop_now_ns() - t0);
            nctop_span_end(mlp);
            nctop_span_end(blocks[b]);
        }
        nctop_span_end(fwd);
        nctop_span_begin(smp);
        tt_spin(100 * US);
        nctop_span_end(smp);
        nctop_span_end(step);
        nctop_counter_add(tokens, 1);
        nctop_step(NCTOP_STEP_TOKEN, 1);
        tt_pause(25); /* ~35 steps/s at a few % of a core */
    }
    return 0;
}
