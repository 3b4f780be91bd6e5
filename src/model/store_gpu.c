/* SPDX-License-Identifier: MIT */
/* GPU facts of the machine and of each watched process. Every figure is an absolute value the
 * probe read from the driver, so a set replaces what was there. */
#include "src/model/store_gpu.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/base/xalloc.h"
#include "src/model/store.h"
#include "src/model/store_internal.h"

#define STORE_GPU_ERROR_MAX 160 /* bytes kept of the probe's error */

/* The energy counter readings of one device, for its power over the window. */
struct store_gpu_energy {
    uint32_t index;         /* the device's */
    struct store_rate rate; /* (time, mJ) */
};

/* The machine's devices (owned by the store, created at the first set). */
struct store_gpus {
    struct store_gpu_dev devs[STORE_GPU_MAX];
    size_t n;
    char error[STORE_GPU_ERROR_MAX]; /* empty when none */
    struct store_gpu_energy energy[STORE_GPU_MAX];
    size_t nenergy;
};

/* The device of that index in g, or NULL. */
static struct store_gpu_dev *store_gpu_find(struct store_gpus *g, uint32_t index)
{
    for (size_t i = 0; g != NULL && i < g->n; i++) {
        if (g->devs[i].index == index) {
            return &g->devs[i];
        }
    }
    return NULL;
}

/* Carry the power figures (their own event's) of the devices that stay over a GPUS update. */
static void store_gpu_keep_power(struct store_gpu_dev *to, const struct store_gpu_dev *from,
                                 size_t nfrom)
{
    to->power_valid = to->energy_valid = to->procs_valid = false;
    to->power_mw = 0;
    to->energy_mj = 0;
    to->nprocs = 0;
    for (size_t k = 0; k < nfrom; k++) {
        if (from[k].index == to->index) {
            to->power_valid = from[k].power_valid;
            to->power_mw = from[k].power_mw;
            to->energy_valid = from[k].energy_valid;
            to->energy_mj = from[k].energy_mj;
            to->procs_valid = from[k].procs_valid;
            to->nprocs = from[k].nprocs;
            return;
        }
    }
}

bool store_gpu_apply(struct store *st, const struct store_event *ev)
{
    struct store_gpus *g = st->gpus;
    const struct store_gpu_dev *devs = ev->gpus;
    const char *error = ev->str;
    size_t n = devs == NULL ? 0 : ev->depth < STORE_GPU_MAX ? ev->depth : STORE_GPU_MAX;

    if (g == NULL) {
        if (n == 0 && error == NULL) {
            return false; /* still no GPU: nothing to keep */
        }
        g = st->gpus = xcalloc(1, sizeof(*g));
    }
    {
        struct store_gpu_dev old[STORE_GPU_MAX];
        size_t nold = g->n;

        memcpy(old, g->devs, nold * sizeof(*old));
        g->n = n;
        if (g->n > 0) {
            memcpy(g->devs, devs, g->n * sizeof(*devs));
        }
        for (size_t i = 0; i < g->n; i++) {
            g->devs[i].name[STORE_GPU_NAME_LEN - 1] = '\0'; /* untrusted: always terminated */
            store_gpu_keep_power(&g->devs[i], old, nold);
        }
    }
    snprintf(g->error, sizeof(g->error), "%s", error != NULL ? error : "");
    return true;
}

void store_gpu_set(struct store *st, const struct store_gpu_dev *devs, size_t n, const char *error)
{
    struct store_event ev = {.type = STORE_EV_GPUS, .gpus = devs, .depth = n, .str = error};

    store_apply(st, &ev);
}

size_t store_gpu_count(const struct store *st)
{
    return st->gpus != NULL ? st->gpus->n : 0;
}

const struct store_gpu_dev *store_gpu_at(const struct store *st, size_t i)
{
    return i < store_gpu_count(st) ? &st->gpus->devs[i] : NULL;
}

const char *store_gpu_error(const struct store *st)
{
    return st->gpus != NULL && st->gpus->error[0] != '\0' ? st->gpus->error : NULL;
}

bool store_gpu_power_apply(struct store *st, const struct store_event *ev)
{
    struct store_gpus *g = st->gpus;
    struct store_gpu_dev *d = store_gpu_find(g, ev->id);
    bool power = (ev->aux & STORE_GPU_HAS_POWER) != 0;
    bool energy = (ev->aux & STORE_GPU_HAS_ENERGY) != 0;
    bool procs = (ev->aux & STORE_GPU_HAS_PROCS) != 0;
    struct store_gpu_energy *e = NULL;

    if (d == NULL || (ev->aux & ~STORE_GPU_HAS_ALL) != 0 || ev->a > UINT32_MAX ||
        ev->c > UINT32_MAX) {
        return false; /* a device the store does not know, or not a reading */
    }
    d->power_valid = power;
    d->power_mw = power ? (uint32_t)ev->a : 0;
    d->energy_valid = energy;
    d->energy_mj = energy ? ev->b : 0;
    d->procs_valid = procs;
    d->nprocs = procs ? (uint32_t)ev->c : 0;
    if (!energy) {
        return true;
    }
    for (size_t i = 0; i < g->nenergy; i++) {
        if (g->energy[i].index == ev->id) {
            e = &g->energy[i];
        }
    }
    if (e == NULL) {
        if (g->nenergy == STORE_GPU_MAX) {
            return true; /* indexes beyond the devices kept: no windowed figure */
        }
        e = &g->energy[g->nenergy++];
        e->index = ev->id;
    }
    store_rate_add(&e->rate, store_rate_cap(st), ev->ts_ns, ev->b, store_rate_gap_ns(st));
    return true;
}

void store_gpu_power_set(struct store *st, const struct store_gpu_dev *d, uint64_t ts_ns)
{
    struct store_event ev = {
        .type = STORE_EV_GPU_POWER,
        .id = d->index,
        .aux = (d->power_valid ? STORE_GPU_HAS_POWER : 0U) |
               (d->energy_valid ? STORE_GPU_HAS_ENERGY : 0U) |
               (d->procs_valid ? STORE_GPU_HAS_PROCS : 0U),
        .a = d->power_valid ? d->power_mw : 0,
        .b = d->energy_valid ? d->energy_mj : 0,
        .c = d->procs_valid ? d->nprocs : 0,
        .ts_ns = ts_ns,
    };

    store_apply(st, &ev);
}

bool store_gpu_energy_watts(const struct store *st, uint32_t index, uint64_t now_ns, double *w)
{
    const struct store_gpus *g = st->gpus;

    *w = 0.0;
    for (size_t i = 0; g != NULL && i < g->nenergy; i++) {
        double mj_per_sec;

        if (g->energy[i].index != index) {
            continue;
        }
        if (!store_rate_per_sec(&g->energy[i].rate, now_ns, st->cfg.window_ns, &mj_per_sec)) {
            return false;
        }
        *w = mj_per_sec / 1000.0;
        return true;
    }
    return false;
}

bool store_proc_gpu_apply(struct store_proc *p, const struct store_event *ev)
{
    struct store_gpu_proc *g = p->gpu;
    const uint32_t *devs = ev->path;
    const uint64_t *bytes = ev->values;
    size_t n = devs == NULL || bytes == NULL ? 0 : ev->depth;
    uint64_t total = 0;

    if (g == NULL) {
        if (n == 0) {
            return false;
        }
        g = p->gpu = xcalloc(1, sizeof(*g));
    }
    /* Devices not listed now have freed their memory. */
    for (uint32_t k = 0; k < g->ndevs; k++) {
        g->bytes[k] = 0;
    }
    for (size_t i = 0; i < n; i++) {
        uint32_t k = 0;

        while (k < g->ndevs && g->dev[k] != devs[i]) {
            k++;
        }
        if (k == g->ndevs) {
            if (g->ndevs == STORE_GPU_MAX) {
                continue;
            }
            g->dev[g->ndevs++] = devs[i];
        }
        g->bytes[k] += bytes[i]; /* a device listed twice (two contexts): both count */
    }
    for (uint32_t k = 0; k < g->ndevs; k++) {
        total += g->bytes[k];
    }
    if (total > g->peak_bytes) {
        g->peak_bytes = total;
    }
    return true;
}

void store_proc_gpu_set(struct store_proc *p, const uint32_t *devs, const uint64_t *bytes, size_t n)
{
    struct store_event ev = {
        .type = STORE_EV_PROC_GPU, .proc = p, .path = devs, .depth = n, .values = bytes};

    store_apply(p->st, &ev);
}

const struct store_gpu_proc *store_proc_gpu(const struct store_proc *p)
{
    return p->gpu;
}

void store_gpus_free(struct store_gpus *g)
{
    if (g == NULL) {
        return;
    }
    for (size_t i = 0; i < g->nenergy; i++) {
        store_rate_done(&g->energy[i].rate);
    }
    free(g);
}

void store_gpu_proc_free(struct store_gpu_proc *g)
{
    free(g);
}
