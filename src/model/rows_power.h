/* SPDX-License-Identifier: MIT */
/* The row builder's power figures: the machine's RAPL zones, and the energy per token of a
 * workload alone on its GPUs. Every figure is measured (a counter of the hardware) or absent,
 * with the reason; none is estimated here. */
#ifndef NCTOP_SRC_ROWS_POWER_H
#define NCTOP_SRC_ROWS_POWER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "src/model/store_gpu.h"

struct store;
struct store_proc;

#define ROWS_POWER_REASON_LEN 160

/* One RAPL zone. */
struct rows_power_zone {
    const char *zone; /* "package-0", "package-0/dram"; borrowed from the store */
    double energy_j;  /* its counter (unwrapped), joules */
    bool power_valid;
    double power_w; /* over the window */
};

/* The machine's RAPL zones; n = 0 with a state says why there are none. */
struct rows_power {
    size_t n;
    struct rows_power_zone *v; /* n entries, owned (rows_power_done) */
    const char *state;         /* borrowed from the store, or NULL */
};

void rows_build_power(struct rows_power *out, const struct store *st, uint64_t now_ns);
void rows_power_done(struct rows_power *pw);

/* Energy per token of a workload on GPUs, measured on the device: the power of the devices it
 * uses (their energy counters over the window) over its tokens per second (its "tokens"
 * counter over the window), when it is the only process on each of them. */
struct rows_gpu_energy {
    bool on_gpu; /* it holds GPU memory now: the rest is meaningful */
    uint32_t ndevs;
    uint32_t devs[STORE_GPU_MAX]; /* the device indexes it holds memory on */
    bool power_valid;
    double power_w; /* the devices' power over the window, from their energy counters */
    bool jpt_valid;
    double j_per_token;
    char reason[ROWS_POWER_REASON_LEN]; /* why there is no figure, "" when there is */
};

/* Fill out for p at now_ns. No allocation. */
void rows_build_gpu_energy(struct rows_gpu_energy *out, const struct store_proc *p,
                           uint64_t now_ns);

#endif /* NCTOP_SRC_ROWS_POWER_H */
