/* SPDX-License-Identifier: MIT */
/* The store's GPU facts: the machine's devices (name, utilization, memory, power and the
 * driver's energy counter) and the GPU memory of each watched process per device, as the hw/
 * GPU probe reads them. Pure. */
#ifndef NCTOP_SRC_STORE_GPU_H
#define NCTOP_SRC_STORE_GPU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;
struct store_gpus;
struct store_proc;

#define STORE_GPU_MAX 64      /* devices kept; the rest are ignored */
#define STORE_GPU_NAME_LEN 96 /* bytes kept of a device name, with its NUL */

/* One device. Absent is not zero: each figure has its validity bit. */
struct store_gpu_dev {
    uint32_t index;                /* the driver's device index */
    char name[STORE_GPU_NAME_LEN]; /* "" when unknown */
    bool util_valid;
    uint32_t util_pct; /* busy over the driver's last sample period, 0..100 */
    bool mem_valid;
    uint64_t mem_used_bytes;
    uint64_t mem_total_bytes;
    /* Set by store_gpu_power_set (a GPUS update keeps them): measured by the driver. */
    bool power_valid;
    uint32_t power_mw; /* board power now (the driver's last reading), milliwatts */
    bool energy_valid;
    uint64_t energy_mj; /* energy since the driver loaded, millijoules */
    bool procs_valid;
    uint32_t nprocs; /* compute processes the driver lists on the device (any user's) */
    /* Critical XID errors the driver reported (NVML events) since nctop began to listen; live
     * only (a recording does not carry them). */
    bool xid_valid;
    uint64_t xid_errors;
    uint32_t xid_last; /* the latest XID number */
};

/* Which figures of a STORE_EV_GPU_POWER event are known (its aux). */
#define STORE_GPU_HAS_POWER 0x1U
#define STORE_GPU_HAS_ENERGY 0x2U
#define STORE_GPU_HAS_PROCS 0x4U
#define STORE_GPU_HAS_ALL 0x7U

/* GPU memory of one process, per device, in first-seen order of the devices. */
struct store_gpu_proc {
    uint32_t ndevs;
    uint32_t dev[STORE_GPU_MAX];   /* device indexes */
    uint64_t bytes[STORE_GPU_MAX]; /* used on dev[i] now (0: freed since) */
    uint64_t peak_bytes;           /* the largest total over the devices seen */
};

/* Replace the machine's devices with devs[0..n) (copied; beyond STORE_GPU_MAX ignored) and
 * the probe's error (copied; NULL: none). n = 0 without an error is the "no GPU" state. */
void store_gpu_set(struct store *st, const struct store_gpu_dev *devs, size_t n, const char *error);
size_t store_gpu_count(const struct store *st);
/* Device i, or NULL out of range. Borrowed, valid until the next store_gpu_set. */
const struct store_gpu_dev *store_gpu_at(const struct store *st, size_t i);
/* Why the GPU probe failed, or NULL. Borrowed, valid until the next store_gpu_set. */
const char *store_gpu_error(const struct store *st);

/* The power, energy counter and process count of device d->index (the other fields of d are
 * not read), as read at ts_ns; a device not in the last store_gpu_set is ignored. */
void store_gpu_power_set(struct store *st, const struct store_gpu_dev *d, uint64_t ts_ns);
/* The power of device index over the window ending at now_ns, in watts, from its energy
 * counter (two readings at least in the window); false when it cannot be told. */
bool store_gpu_energy_watts(const struct store *st, uint32_t index, uint64_t now_ns, double *w);

/* The GPU memory p uses now: bytes[i] on device devs[i] (absolute values, n may be 0). A
 * device p was seen on before and not listed now holds 0; a process never seen on any GPU
 * with nothing listed records nothing (it gets no GPU row). */
void store_proc_gpu_set(struct store_proc *p, const uint32_t *devs, const uint64_t *bytes,
                        size_t n);
/* The GPU memory of p, or NULL when it never used a GPU. Borrowed until the next set. */
const struct store_gpu_proc *store_proc_gpu(const struct store_proc *p);

/* Free what the store's GPU facts own (called by the store). NULL is a no-op. */
void store_gpus_free(struct store_gpus *g);
void store_gpu_proc_free(struct store_gpu_proc *g);

#endif /* NCTOP_SRC_STORE_GPU_H */
