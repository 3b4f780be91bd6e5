/* SPDX-License-Identifier: MIT */
/* Power rows: RAPL zones as the store keeps them, and J/token of a workload on GPUs. A share of
 * a shared device's energy by utilisation would be an estimate presented as a measurement, so
 * a workload that shares a device gets no figure, and is told why. */
#include "src/model/rows_power.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/base/xalloc.h"
#include "src/model/store.h"
#include "src/model/store_gpu.h"
#include "src/model/store_internal.h"
#include "src/model/store_power.h"

void rows_build_power(struct rows_power *out, const struct store *st, uint64_t now_ns)
{
    size_t n = store_power_count(st);

    memset(out, 0, sizeof(*out));
    out->state = store_power_state(st);
    if (n == 0) {
        return;
    }
    out->v = xcalloc(n, sizeof(*out->v));
    out->n = n;
    for (size_t i = 0; i < n; i++) {
        struct rows_power_zone *z = &out->v[i];

        z->zone = store_power_zone(st, i);
        z->energy_j = (double)store_power_energy_uj(st, i) / 1e6;
        z->power_valid = store_power_watts(st, i, now_ns, &z->power_w);
    }
}

void rows_power_done(struct rows_power *pw)
{
    free(pw->v);
    memset(pw, 0, sizeof(*pw));
}

/* The device of that index, or NULL. */
static const struct store_gpu_dev *rows_power_gpu(const struct store *st, uint32_t index)
{
    for (size_t i = 0; i < store_gpu_count(st); i++) {
        const struct store_gpu_dev *d = store_gpu_at(st, i);

        if (d->index == index) {
            return d;
        }
    }
    return NULL;
}

/* The workload's tokens per second over the window, from its "tokens" counter. */
static bool rows_power_tokens(const struct store_proc *p, uint64_t now_ns, double *per_sec)
{
    for (uint32_t i = 0; i < p->ncounters; i++) {
        const char *name = store_proc_name(p, p->counters[i].name);

        if (name != NULL && strcmp(name, "tokens") == 0) {
            return store_rate_per_sec(&p->counters[i].rate, now_ns, p->st->cfg.window_ns, per_sec);
        }
    }
    return false;
}

/* The power of device index for the workload alone on it, or false with out->reason. */
static bool rows_power_device(struct rows_gpu_energy *out, const struct store *st, uint32_t index,
                              uint64_t now_ns, double *w)
{
    const struct store_gpu_dev *d = rows_power_gpu(st, index);

    if (d == NULL) {
        snprintf(out->reason, sizeof(out->reason), "GPU%u is not among the devices read", index);
    } else if (!d->procs_valid) {
        snprintf(out->reason, sizeof(out->reason), "GPU%u: its processes are unknown", index);
    } else if (d->nprocs > 1) {
        snprintf(out->reason, sizeof(out->reason),
                 "GPU%u runs %u processes: its energy is not this workload's alone", index,
                 d->nprocs);
    } else if (!d->energy_valid) {
        snprintf(out->reason, sizeof(out->reason), "GPU%u has no energy counter", index);
    } else if (!store_gpu_energy_watts(st, index, now_ns, w)) {
        snprintf(out->reason, sizeof(out->reason),
                 "GPU%u: fewer than two energy readings in the window", index);
    } else {
        return true;
    }
    return false;
}

void rows_build_gpu_energy(struct rows_gpu_energy *out, const struct store_proc *p, uint64_t now_ns)
{
    const struct store_gpu_proc *g = store_proc_gpu(p);
    double watts = 0.0, tokens_per_sec;
    bool ok = true;

    memset(out, 0, sizeof(*out));
    for (uint32_t k = 0; g != NULL && k < g->ndevs; k++) {
        if (g->bytes[k] > 0 && out->ndevs < sizeof(out->devs) / sizeof(out->devs[0])) {
            out->devs[out->ndevs++] = g->dev[k];
        }
    }
    if (out->ndevs == 0) {
        return; /* not on a GPU now */
    }
    out->on_gpu = true;
    for (uint32_t k = 0; k < out->ndevs && ok; k++) {
        double w;

        ok = rows_power_device(out, p->st, out->devs[k], now_ns, &w);
        watts += w;
    }
    if (!ok) {
        return;
    }
    out->power_valid = true;
    out->power_w = watts;
    if (!rows_power_tokens(p, now_ns, &tokens_per_sec) || tokens_per_sec <= 0.0) {
        snprintf(out->reason, sizeof(out->reason), "no tokens in the window");
        return;
    }
    out->jpt_valid = true;
    out->j_per_token = watts / tokens_per_sec;
}
