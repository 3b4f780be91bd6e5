/* SPDX-License-Identifier: MIT */
/* A stand-in for libnvidia-ml.so.1 with fixed, known figures, loaded by nctop through
 * NCTOP_NVML_LIB: two GPUs, and one compute process (NCTOP_FAKE_NVML_PID) on both, a second
 * one on GPU0 with NCTOP_FAKE_NVML_PID2. Power: 250 W and 27.5 W; the energy counter of GPU0
 * is 123456789 mJ and GPU1 has none, unless NCTOP_FAKE_NVML_ENERGY=clock: then both count
 * their power times CLOCK_MONOTONIC (the counter and the power agree exactly). Both devices
 * take XID event registrations; when the file NCTOP_FAKE_NVML_XID names exists, the next
 * event wait reads an XID number from it, removes it and reports that XID on GPU0. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FAKE_SUCCESS 0
#define FAKE_UNINITIALIZED 1
#define FAKE_INVALID_ARGUMENT 2
#define FAKE_NOT_SUPPORTED 3
#define FAKE_INSUFFICIENT_SIZE 7
#define FAKE_TIMEOUT 10
#define FAKE_UNKNOWN 999
#define FAKE_XID_CRITICAL 0x8ULL
#define FAKE_NDEVS 2U
#define FAKE_MIB (1024ULL * 1024)
#define FAKE_GIB (1024ULL * FAKE_MIB)

/* The ABI nctop expects (NVML's, declared independently). */
struct nvmlDevice_st {
    unsigned int index;
};

struct fake_utilization {
    unsigned int gpu;
    unsigned int memory;
};

struct fake_memory {
    unsigned long long total;
    unsigned long long free;
    unsigned long long used;
};

struct fake_proc_v2 {
    unsigned int pid;
    unsigned long long used_gpu_memory;
    unsigned int gpu_instance_id;
    unsigned int compute_instance_id;
};

struct nvmlEventSet_st {
    int registered[2];
};

struct fake_event {
    struct nvmlDevice_st *device;
    unsigned long long type;
    unsigned long long data;
    unsigned int gpu_instance;
    unsigned int compute_instance;
};

int nvmlInit_v2(void);
int nvmlEventSetCreate(struct nvmlEventSet_st **set);
int nvmlDeviceRegisterEvents(struct nvmlDevice_st *dev, unsigned long long types,
                             struct nvmlEventSet_st *set);
int nvmlEventSetWait_v2(struct nvmlEventSet_st *set, struct fake_event *ev, unsigned int ms);
int nvmlEventSetFree(struct nvmlEventSet_st *set);
int nvmlShutdown(void);
const char *nvmlErrorString(int rc);
int nvmlDeviceGetCount_v2(unsigned int *count);
int nvmlDeviceGetHandleByIndex_v2(unsigned int index, struct nvmlDevice_st **dev);
int nvmlDeviceGetName(struct nvmlDevice_st *dev, char *name, unsigned int len);
int nvmlDeviceGetUtilizationRates(struct nvmlDevice_st *dev, struct fake_utilization *u);
int nvmlDeviceGetMemoryInfo(struct nvmlDevice_st *dev, struct fake_memory *m);
int nvmlDeviceGetComputeRunningProcesses_v3(struct nvmlDevice_st *dev, unsigned int *count,
                                            struct fake_proc_v2 *infos);
int nvmlDeviceGetPowerUsage(struct nvmlDevice_st *dev, unsigned int *mw);
int nvmlDeviceGetTotalEnergyConsumption(struct nvmlDevice_st *dev, unsigned long long *mj);

static struct nvmlDevice_st fake_devs[FAKE_NDEVS] = {{0}, {1}};
static const char *const fake_names[FAKE_NDEVS] = {"Fake A100-SXM4-80GB", "Fake T4"};
static const unsigned int fake_util[FAKE_NDEVS] = {87, 5};
static const unsigned long long fake_used[FAKE_NDEVS] = {30 * FAKE_GIB, 1 * FAKE_GIB};
static const unsigned long long fake_total[FAKE_NDEVS] = {80 * FAKE_GIB, 16 * FAKE_GIB};
static const unsigned long long fake_proc_used[FAKE_NDEVS] = {512 * FAKE_MIB, 256 * FAKE_MIB};
static const unsigned int fake_power_mw[FAKE_NDEVS] = {250000, 27500};
#define FAKE_ENERGY0_MJ 123456789ULL
static int fake_started;

static int fake_dev_ok(const struct nvmlDevice_st *dev)
{
    return fake_started && dev != NULL && dev->index < FAKE_NDEVS && dev == &fake_devs[dev->index];
}

int nvmlInit_v2(void)
{
    const char *fail = getenv("NCTOP_FAKE_NVML_FAIL");

    if (fail != NULL && strcmp(fail, "init") == 0) {
        return FAKE_UNKNOWN;
    }
    fake_started = 1;
    return FAKE_SUCCESS;
}

int nvmlShutdown(void)
{
    if (!fake_started) {
        return FAKE_UNINITIALIZED;
    }
    fake_started = 0;
    return FAKE_SUCCESS;
}

const char *nvmlErrorString(int rc)
{
    return rc == FAKE_UNKNOWN ? "Fake Unknown Error" : "Fake Error";
}

int nvmlDeviceGetCount_v2(unsigned int *count)
{
    if (!fake_started) {
        return FAKE_UNINITIALIZED;
    }
    *count = FAKE_NDEVS;
    return FAKE_SUCCESS;
}

int nvmlDeviceGetHandleByIndex_v2(unsigned int index, struct nvmlDevice_st **dev)
{
    if (!fake_started || index >= FAKE_NDEVS) {
        return FAKE_INVALID_ARGUMENT;
    }
    *dev = &fake_devs[index];
    return FAKE_SUCCESS;
}

int nvmlDeviceGetName(struct nvmlDevice_st *dev, char *name, unsigned int len)
{
    if (!fake_dev_ok(dev) || len <= strlen(fake_names[dev->index])) {
        return FAKE_INVALID_ARGUMENT;
    }
    strcpy(name, fake_names[dev->index]);
    return FAKE_SUCCESS;
}

int nvmlDeviceGetUtilizationRates(struct nvmlDevice_st *dev, struct fake_utilization *u)
{
    if (!fake_dev_ok(dev)) {
        return FAKE_INVALID_ARGUMENT;
    }
    u->gpu = fake_util[dev->index];
    u->memory = fake_util[dev->index] / 2;
    return FAKE_SUCCESS;
}

int nvmlDeviceGetMemoryInfo(struct nvmlDevice_st *dev, struct fake_memory *m)
{
    if (!fake_dev_ok(dev)) {
        return FAKE_INVALID_ARGUMENT;
    }
    m->total = fake_total[dev->index];
    m->used = fake_used[dev->index];
    m->free = m->total - m->used;
    return FAKE_SUCCESS;
}

/* One process when NCTOP_FAKE_NVML_PID names one, and NCTOP_FAKE_NVML_PID2 on GPU0 too;
 * NVML's protocol for a short buffer. */
int nvmlDeviceGetComputeRunningProcesses_v3(struct nvmlDevice_st *dev, unsigned int *count,
                                            struct fake_proc_v2 *infos)
{
    const char *env[2] = {getenv("NCTOP_FAKE_NVML_PID"), getenv("NCTOP_FAKE_NVML_PID2")};
    unsigned int pids[2], n = 0;

    if (!fake_dev_ok(dev) || count == NULL) {
        return FAKE_INVALID_ARGUMENT;
    }
    for (int k = 0; k < 2; k++) {
        if (env[k] != NULL && atoi(env[k]) > 0 && (k == 0 || dev->index == 0)) {
            pids[n++] = (unsigned int)atoi(env[k]);
        }
    }
    if (*count < n) {
        *count = n;
        return FAKE_INSUFFICIENT_SIZE;
    }
    *count = n;
    for (unsigned int k = 0; k < n; k++) {
        memset(&infos[k], 0, sizeof(infos[k]));
        infos[k].pid = pids[k];
        infos[k].used_gpu_memory = fake_proc_used[dev->index];
        infos[k].gpu_instance_id = 0xFFFFFFFFU;
        infos[k].compute_instance_id = 0xFFFFFFFFU;
    }
    return FAKE_SUCCESS;
}

int nvmlDeviceGetPowerUsage(struct nvmlDevice_st *dev, unsigned int *mw)
{
    if (!fake_dev_ok(dev) || mw == NULL) {
        return FAKE_INVALID_ARGUMENT;
    }
    *mw = fake_power_mw[dev->index];
    return FAKE_SUCCESS;
}

int nvmlDeviceGetTotalEnergyConsumption(struct nvmlDevice_st *dev, unsigned long long *mj)
{
    const char *mode = getenv("NCTOP_FAKE_NVML_ENERGY");
    struct timespec ts;

    if (!fake_dev_ok(dev) || mj == NULL) {
        return FAKE_INVALID_ARGUMENT;
    }
    if (mode != NULL && strcmp(mode, "clock") == 0) {
        /* mW x s = mJ: the counter grows at exactly the power the device reports. */
        clock_gettime(CLOCK_MONOTONIC, &ts);
        *mj = (unsigned long long)ts.tv_sec * fake_power_mw[dev->index] +
              (unsigned long long)ts.tv_nsec * fake_power_mw[dev->index] / 1000000000ULL;
        return FAKE_SUCCESS;
    }
    if (dev->index != 0) {
        return FAKE_NOT_SUPPORTED; /* older than the counter */
    }
    *mj = FAKE_ENERGY0_MJ;
    return FAKE_SUCCESS;
}

static struct nvmlEventSet_st fake_set;

int nvmlEventSetCreate(struct nvmlEventSet_st **set)
{
    if (!fake_started || set == NULL) {
        return FAKE_INVALID_ARGUMENT;
    }
    memset(&fake_set, 0, sizeof(fake_set));
    *set = &fake_set;
    return FAKE_SUCCESS;
}

int nvmlDeviceRegisterEvents(struct nvmlDevice_st *dev, unsigned long long types,
                             struct nvmlEventSet_st *set)
{
    if (!fake_dev_ok(dev) || set != &fake_set || (types & ~FAKE_XID_CRITICAL) != 0) {
        return FAKE_INVALID_ARGUMENT;
    }
    set->registered[dev->index] = 1;
    return FAKE_SUCCESS;
}

/* An XID on GPU0 once per appearance of the trigger file; else a timeout at once. */
int nvmlEventSetWait_v2(struct nvmlEventSet_st *set, struct fake_event *ev, unsigned int ms)
{
    const char *path = getenv("NCTOP_FAKE_NVML_XID");
    unsigned long long xid = 0;
    FILE *f;

    (void)ms;
    if (set != &fake_set || ev == NULL) {
        return FAKE_INVALID_ARGUMENT;
    }
    if (path == NULL || !set->registered[0] || (f = fopen(path, "r")) == NULL) {
        return FAKE_TIMEOUT;
    }
    if (fscanf(f, "%llu", &xid) != 1) {
        xid = 0;
    }
    fclose(f);
    remove(path);
    memset(ev, 0, sizeof(*ev));
    ev->device = &fake_devs[0];
    ev->type = FAKE_XID_CRITICAL;
    ev->data = xid;
    return FAKE_SUCCESS;
}

int nvmlEventSetFree(struct nvmlEventSet_st *set)
{
    return set == &fake_set ? FAKE_SUCCESS : FAKE_INVALID_ARGUMENT;
}
