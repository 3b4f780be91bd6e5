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

/* The machine's devices (owned by the store, created at the first set). */
struct store_gpus {
    struct store_gpu_dev devs[STORE_GPU_MAX];
    size_t n;
    char error[STORE_GPU_ERROR_MAX]; /* empty when none */
};

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
    g->n = n;
    if (g->n > 0) {
        memcpy(g->devs, devs, g->n * sizeof(*devs));
    }
    for (size_t i = 0; i < g->n; i++) {
        g->devs[i].name[STORE_GPU_NAME_LEN - 1] = '\0'; /* untrusted: always terminated */
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
    free(g);
}

void store_gpu_proc_free(struct store_gpu_proc *g)
{
    free(g);
}
