/* SPDX-License-Identifier: MIT */
/* A stand-in for libnvidia-ml.so.1 with fixed, known figures, loaded by nctop through
 * NCTOP_NVML_LIB: two GPUs, and one compute process (NCTOP_FAKE_NVML_PID) on both. */
#include <stdlib.h>
#include <string.h>

#define FAKE_SUCCESS 0
#define FAKE_UNINITIALIZED 1
#define FAKE_INVALID_ARGUMENT 2
#define FAKE_INSUFFICIENT_SIZE 7
#define FAKE_UNKNOWN 999
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

int nvmlInit_v2(void);
int nvmlShutdown(void);
const char *nvmlErrorString(int rc);
int nvmlDeviceGetCount_v2(unsigned int *count);
int nvmlDeviceGetHandleByIndex_v2(unsigned int index, struct nvmlDevice_st **dev);
int nvmlDeviceGetName(struct nvmlDevice_st *dev, char *name, unsigned int len);
int nvmlDeviceGetUtilizationRates(struct nvmlDevice_st *dev, struct fake_utilization *u);
int nvmlDeviceGetMemoryInfo(struct nvmlDevice_st *dev, struct fake_memory *m);
int nvmlDeviceGetComputeRunningProcesses_v3(struct nvmlDevice_st *dev, unsigned int *count,
                                            struct fake_proc_v2 *infos);

static struct nvmlDevice_st fake_devs[FAKE_NDEVS] = {{0}, {1}};
static const char *const fake_names[FAKE_NDEVS] = {"Fake A100-SXM4-80GB", "Fake T4"};
static const unsigned int fake_util[FAKE_NDEVS] = {87, 5};
static const unsigned long long fake_used[FAKE_NDEVS] = {30 * FAKE_GIB, 1 * FAKE_GIB};
static const unsigned long long fake_total[FAKE_NDEVS] = {80 * FAKE_GIB, 16 * FAKE_GIB};
static const unsigned long long fake_proc_used[FAKE_NDEVS] = {512 * FAKE_MIB, 256 * FAKE_MIB};
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

/* One process when NCTOP_FAKE_NVML_PID names one; NVML's protocol for a short buffer. */
int nvmlDeviceGetComputeRunningProcesses_v3(struct nvmlDevice_st *dev, unsigned int *count,
                                            struct fake_proc_v2 *infos)
{
    const char *pid = getenv("NCTOP_FAKE_NVML_PID");
    unsigned int n = pid != NULL && atoi(pid) > 0 ? 1 : 0;

    if (!fake_dev_ok(dev) || count == NULL) {
        return FAKE_INVALID_ARGUMENT;
    }
    if (*count < n) {
        *count = n;
        return FAKE_INSUFFICIENT_SIZE;
    }
    *count = n;
    if (n == 1) {
        memset(&infos[0], 0, sizeof(infos[0]));
        infos[0].pid = (unsigned int)atoi(pid);
        infos[0].used_gpu_memory = fake_proc_used[dev->index];
        infos[0].gpu_instance_id = 0xFFFFFFFFU;
        infos[0].compute_instance_id = 0xFFFFFFFFU;
    }
    return FAKE_SUCCESS;
}
