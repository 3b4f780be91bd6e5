/* SPDX-License-Identifier: MIT */
/* NVML through dlopen: no build-time dependency on the NVIDIA driver or nvml.h. The few types
 * used are declared here from NVML's documented ABI; versioned entry points fall back to the
 * older names. An absent library, driver or device is a state, never an error message. */
#include "hw/gpu.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/collector.h"
#include "src/base/diag.h"
#include "src/base/util.h"
#include "src/base/xalloc.h"
#include "src/model/store.h"
#include "src/model/store_gpu.h"

#define GPU_LIB_DEFAULT "libnvidia-ml.so.1"
#define GPU_ERROR_MAX 160
#define GPU_PROCS_MAX 4096 /* process entries kept per sample, over all devices */
#define GPU_PROCS_FIRST 64 /* process entries asked for at first, per device */
#define GPU_ENTRY_MAX 32   /* bytes of the largest process entry any NVML version writes */

/* NVML return codes (nvmlReturn_t) that change what we do. */
#define GPU_NVML_SUCCESS 0
#define GPU_NVML_NOT_SUPPORTED 3
#define GPU_NVML_NO_PERMISSION 4
#define GPU_NVML_INSUFFICIENT_SIZE 7
#define GPU_NVML_DRIVER_NOT_LOADED 9
#define GPU_NVML_XID_CRITICAL 0x8ULL      /* nvmlEventTypeXidCriticalError */
#define GPU_XID_PER_SAMPLE 64             /* events taken per sample; the rest wait for the next */
#define GPU_NVML_NOT_AVAILABLE ULLONG_MAX /* usedGpuMemory unknown (NVML_VALUE_NOT_AVAILABLE) */

struct gpu_nvml_device; /* nvmlDevice_t points to one */

struct gpu_nvml_utilization { /* nvmlUtilization_t */
    unsigned int gpu;         /* % of the last sample period a kernel ran */
    unsigned int memory;      /* % of it device memory was read or written */
};

struct gpu_nvml_memory {      /* nvmlMemory_t (v1) */
    unsigned long long total; /* bytes */
    unsigned long long free;
    unsigned long long used;
};

/* nvmlProcessInfo_v1_t, written by nvmlDeviceGetComputeRunningProcesses */
struct gpu_nvml_proc_v1 {
    unsigned int pid;
    unsigned long long used_gpu_memory; /* bytes, or NVML_VALUE_NOT_AVAILABLE */
};

/* nvmlProcessInfo_v2_t, written by the _v2 and _v3 entry points (MIG instance ids added) */
struct gpu_nvml_proc_v2 {
    unsigned int pid;
    unsigned long long used_gpu_memory;
    unsigned int gpu_instance_id;
    unsigned int compute_instance_id;
};

typedef int (*gpu_nvml_void_fn)(void);
typedef int (*gpu_nvml_count_fn)(unsigned int *count);
typedef int (*gpu_nvml_handle_fn)(unsigned int index, struct gpu_nvml_device **dev);
typedef int (*gpu_nvml_name_fn)(struct gpu_nvml_device *dev, char *name, unsigned int len);
typedef int (*gpu_nvml_util_fn)(struct gpu_nvml_device *dev, struct gpu_nvml_utilization *u);
typedef int (*gpu_nvml_memory_fn)(struct gpu_nvml_device *dev, struct gpu_nvml_memory *m);
typedef int (*gpu_nvml_procs_fn)(struct gpu_nvml_device *dev, unsigned int *count, void *infos);
/* nvmlDeviceGetPowerUsage: milliwatts; nvmlDeviceGetTotalEnergyConsumption: millijoules since
 * the driver was loaded (Volta and newer) */
typedef int (*gpu_nvml_power_fn)(struct gpu_nvml_device *dev, unsigned int *mw);
typedef int (*gpu_nvml_energy_fn)(struct gpu_nvml_device *dev, unsigned long long *mj);
typedef const char *(*gpu_nvml_error_fn)(int rc);
/* XID errors come as events: a set, each device registered on it, polled without waiting. */
struct gpu_nvml_event_set;
struct gpu_nvml_event { /* nvmlEventData_t (the v2 fields; v1 writes the first three) */
    struct gpu_nvml_device *device;
    unsigned long long type;
    unsigned long long data; /* the XID number */
    unsigned int gpu_instance;
    unsigned int compute_instance;
};
typedef int (*gpu_nvml_set_create_fn)(struct gpu_nvml_event_set **set);
typedef int (*gpu_nvml_register_fn)(struct gpu_nvml_device *dev, unsigned long long types,
                                    struct gpu_nvml_event_set *set);
typedef int (*gpu_nvml_wait_fn)(struct gpu_nvml_event_set *set, struct gpu_nvml_event *ev,
                                unsigned int timeout_ms);
typedef int (*gpu_nvml_set_free_fn)(struct gpu_nvml_event_set *set);

enum gpu_state {
    GPU_UNLOADED = 0, /* NVML not looked for yet */
    GPU_ABSENT,       /* no library, driver or device: no GPU */
    GPU_READY,
    GPU_FAILED, /* the library is there but does not work: see error */
};

/* The GPU memory of one process on one device, as the driver listed it. */
struct gpu_proc_mem {
    uint32_t pid;
    uint32_t dev;
    uint64_t bytes;
};

struct gpu {
    enum gpu_state state;
    enum gpu_state logged;   /* the state the debug log last heard of */
    char why[GPU_ERROR_MAX]; /* why absent, for the debug log only */
    void *lib;
    bool initialised; /* nvmlInit succeeded: nvmlShutdown is owed */

    gpu_nvml_void_fn init;
    gpu_nvml_void_fn shutdown;
    gpu_nvml_count_fn count;
    gpu_nvml_handle_fn handle;
    gpu_nvml_name_fn name; /* the rest may be NULL: the figure is then unknown */
    gpu_nvml_util_fn utilization;
    gpu_nvml_memory_fn memory;
    gpu_nvml_procs_fn procs;
    gpu_nvml_power_fn power;
    gpu_nvml_energy_fn energy;
    size_t proc_entry; /* bytes of one entry the procs entry point writes */
    gpu_nvml_error_fn error_string;
    gpu_nvml_set_create_fn set_create; /* XID events: all four, or none used */
    gpu_nvml_register_fn register_events;
    gpu_nvml_wait_fn wait;
    gpu_nvml_set_free_fn set_free;
    struct gpu_nvml_event_set *events; /* NULL: no XID events (not supported) */

    unsigned int ndevs;
    struct gpu_nvml_device *handles[STORE_GPU_MAX]; /* NULL: the device could not be opened */

    /* the last sample */
    struct store_gpu_dev devs[STORE_GPU_MAX];
    uint64_t sampled_ns;       /* when (the power figures' time) */
    char error[GPU_ERROR_MAX]; /* the first failure of the sample, "" when none */
    struct gpu_proc_mem *pmem; /* GPU_PROCS_MAX entries */
    size_t npmem;
    unsigned char *pbuf; /* what the processes query writes: pbuf_cap entries */
    unsigned int pbuf_cap;
};

static const char *gpu_strerror(const struct gpu *g, int rc)
{
    const char *s = g->error_string != NULL ? g->error_string(rc) : NULL;

    return s != NULL ? s : "unknown NVML error";
}

/* The first of two names the library exports (second may be NULL), or NULL. */
static void *gpu_sym(void *lib, const char *first, const char *second)
{
    void *p = dlsym(lib, first);

    if (p == NULL && second != NULL) {
        p = dlsym(lib, second);
    }
    return p;
}

/* Keep the first failure of a sample; a figure the device cannot give is no failure. */
static void gpu_note(struct gpu *g, unsigned int dev, const char *what, int rc)
{
    if (rc == GPU_NVML_NOT_SUPPORTED || rc == GPU_NVML_NO_PERMISSION || g->error[0] != '\0') {
        return;
    }
    snprintf(g->error, sizeof(g->error), "NVML: GPU%u: %s: %s", dev, what, gpu_strerror(g, rc));
}

static void gpu_resolve(struct gpu *g)
{
    g->init = (gpu_nvml_void_fn)gpu_sym(g->lib, "nvmlInit_v2", "nvmlInit");
    g->shutdown = (gpu_nvml_void_fn)gpu_sym(g->lib, "nvmlShutdown", NULL);
    g->count = (gpu_nvml_count_fn)gpu_sym(g->lib, "nvmlDeviceGetCount_v2", "nvmlDeviceGetCount");
    g->handle = (gpu_nvml_handle_fn)gpu_sym(g->lib, "nvmlDeviceGetHandleByIndex_v2",
                                            "nvmlDeviceGetHandleByIndex");
    g->name = (gpu_nvml_name_fn)gpu_sym(g->lib, "nvmlDeviceGetName", NULL);
    g->utilization = (gpu_nvml_util_fn)gpu_sym(g->lib, "nvmlDeviceGetUtilizationRates", NULL);
    g->memory = (gpu_nvml_memory_fn)gpu_sym(g->lib, "nvmlDeviceGetMemoryInfo", NULL);
    g->error_string = (gpu_nvml_error_fn)gpu_sym(g->lib, "nvmlErrorString", NULL);
    g->power = (gpu_nvml_power_fn)gpu_sym(g->lib, "nvmlDeviceGetPowerUsage", NULL);
    g->energy = (gpu_nvml_energy_fn)gpu_sym(g->lib, "nvmlDeviceGetTotalEnergyConsumption", NULL);
    g->set_create = (gpu_nvml_set_create_fn)gpu_sym(g->lib, "nvmlEventSetCreate", NULL);
    g->register_events = (gpu_nvml_register_fn)gpu_sym(g->lib, "nvmlDeviceRegisterEvents", NULL);
    g->wait = (gpu_nvml_wait_fn)gpu_sym(g->lib, "nvmlEventSetWait_v2", "nvmlEventSetWait");
    g->set_free = (gpu_nvml_set_free_fn)gpu_sym(g->lib, "nvmlEventSetFree", NULL);
    /* Newest first: _v3 and _v2 write v2 entries, the unversioned one v1 entries. */
    g->proc_entry = sizeof(struct gpu_nvml_proc_v2);
    g->procs = (gpu_nvml_procs_fn)gpu_sym(g->lib, "nvmlDeviceGetComputeRunningProcesses_v3",
                                          "nvmlDeviceGetComputeRunningProcesses_v2");
    if (g->procs == NULL) {
        g->proc_entry = sizeof(struct gpu_nvml_proc_v1);
        g->procs = (gpu_nvml_procs_fn)gpu_sym(g->lib, "nvmlDeviceGetComputeRunningProcesses", NULL);
    }
}

/* Listen for critical XID errors on every device that supports it (the driver's own reports
 * of faults: ECC, a fallen-off bus, a hung engine); a device that does not has no XID count. */
static void gpu_listen_xid(struct gpu *g)
{
    if (g->set_create == NULL || g->register_events == NULL || g->wait == NULL ||
        g->set_free == NULL || g->set_create(&g->events) != GPU_NVML_SUCCESS) {
        g->events = NULL;
        return;
    }
    for (unsigned int i = 0; i < g->ndevs; i++) {
        if (g->handles[i] != NULL && g->register_events(g->handles[i], GPU_NVML_XID_CRITICAL,
                                                        g->events) == GPU_NVML_SUCCESS) {
            g->devs[i].xid_valid = true;
        }
    }
}

/* The XID errors reported since the last sample, counted on their devices; a wait of 0 ms
 * returns at once (a timeout: none left). */
static void gpu_sample_xid(struct gpu *g)
{
    struct gpu_nvml_event ev;

    for (int k = 0; g->events != NULL && k < GPU_XID_PER_SAMPLE; k++) {
        memset(&ev, 0, sizeof(ev));
        if (g->wait(g->events, &ev, 0) != GPU_NVML_SUCCESS) {
            break;
        }
        if ((ev.type & GPU_NVML_XID_CRITICAL) == 0) {
            continue;
        }
        for (unsigned int i = 0; i < g->ndevs; i++) {
            if (g->handles[i] != NULL && g->handles[i] == ev.device) {
                g->devs[i].xid_errors++;
                g->devs[i].xid_last = (uint32_t)ev.data;
            }
        }
    }
}

/* Load NVML, start it and open its devices; leaves the state ABSENT, FAILED or READY. */
static void gpu_load(struct gpu *g)
{
    /* A privileged nctop (file capabilities, set-user-ID) loads no code the environment
     * names: only the system's NVML. */
    const char *path = secure_getenv("NCTOP_NVML_LIB");
    unsigned int n = 0;
    int rc;

    if (path == NULL || path[0] == '\0') {
        path = GPU_LIB_DEFAULT;
    }
    g->state = GPU_ABSENT;
    g->lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (g->lib == NULL) {
        const char *e = dlerror();

        snprintf(g->why, sizeof(g->why), "%s", e != NULL ? e : path);
        return;
    }
    gpu_resolve(g);
    if (g->init == NULL || g->shutdown == NULL || g->count == NULL || g->handle == NULL) {
        g->state = GPU_FAILED;
        snprintf(g->error, sizeof(g->error), "NVML: %s lacks the device entry points", path);
        return;
    }
    rc = g->init();
    if (rc == GPU_NVML_DRIVER_NOT_LOADED) {
        snprintf(g->why, sizeof(g->why), "NVML: %s", gpu_strerror(g, rc));
        return; /* the library without its driver (a container, a laptop): no GPU */
    }
    if (rc != GPU_NVML_SUCCESS) {
        g->state = GPU_FAILED;
        snprintf(g->error, sizeof(g->error), "NVML: cannot start: %s", gpu_strerror(g, rc));
        return;
    }
    g->initialised = true;
    rc = g->count(&n);
    if (rc != GPU_NVML_SUCCESS) {
        g->state = GPU_FAILED;
        snprintf(g->error, sizeof(g->error), "NVML: cannot count the GPUs: %s",
                 gpu_strerror(g, rc));
        return;
    }
    if (n == 0) {
        snprintf(g->why, sizeof(g->why), "NVML: no device");
        return;
    }
    g->ndevs = n < STORE_GPU_MAX ? n : STORE_GPU_MAX;
    for (unsigned int i = 0; i < g->ndevs; i++) {
        struct store_gpu_dev *d = &g->devs[i];

        d->index = i;
        rc = g->handle(i, &g->handles[i]);
        if (rc != GPU_NVML_SUCCESS) {
            g->handles[i] = NULL;
            continue;
        }
        /* A name is static: read it once. */
        if (g->name != NULL && g->name(g->handles[i], d->name, sizeof(d->name)) != 0) {
            d->name[0] = '\0';
        }
        d->name[sizeof(d->name) - 1] = '\0';
    }
    gpu_listen_xid(g);
    g->state = GPU_READY;
}

/* How many distinct processes the first n entries of g->pbuf are (one process may hold two
 * contexts on a device), memory known or not: whether a workload is alone on its device. */
static uint32_t gpu_count_pids(const struct gpu *g, unsigned int n)
{
    uint32_t distinct = 0;

    for (unsigned int k = 0; k < n; k++) {
        struct gpu_nvml_proc_v1 p, q;
        bool seen = false;

        memcpy(&p, g->pbuf + (size_t)k * g->proc_entry, sizeof(p));
        for (unsigned int j = 0; j < k && !seen; j++) {
            memcpy(&q, g->pbuf + (size_t)j * g->proc_entry, sizeof(q));
            seen = q.pid == p.pid;
        }
        distinct += seen ? 0U : 1U;
    }
    return distinct;
}

/* The processes of device dev and their memory, appended to g->pmem. */
static void gpu_sample_procs(struct gpu *g, unsigned int dev)
{
    unsigned int n = 0;
    int rc = GPU_NVML_SUCCESS;

    for (int attempt = 0; attempt < 2; attempt++) {
        n = g->pbuf_cap;
        rc = g->procs(g->handles[dev], &n, g->pbuf);
        if (rc != GPU_NVML_INSUFFICIENT_SIZE || g->pbuf_cap >= GPU_PROCS_MAX) {
            break;
        }
        /* n is how many there are now: room for them and a few newcomers. */
        g->pbuf_cap = n < GPU_PROCS_MAX - 16 ? n + 16 : GPU_PROCS_MAX;
        free(g->pbuf);
        /* Sized for the largest entry any version writes, whatever it claims to write. */
        g->pbuf = xcalloc(g->pbuf_cap, GPU_ENTRY_MAX);
    }
    if (rc != GPU_NVML_SUCCESS) {
        gpu_note(g, dev, "processes", rc);
        return;
    }
    if (n > g->pbuf_cap) {
        n = g->pbuf_cap; /* never trust a count beyond what we handed over */
    }
    g->devs[dev].procs_valid = true;
    g->devs[dev].nprocs = gpu_count_pids(g, n);
    for (unsigned int k = 0; k < n && g->npmem < GPU_PROCS_MAX; k++) {
        const unsigned char *e = g->pbuf + (size_t)k * g->proc_entry;
        struct gpu_nvml_proc_v1 p; /* both versions begin with the v1 fields */

        memcpy(&p, e, sizeof(p));
        if (p.used_gpu_memory == GPU_NVML_NOT_AVAILABLE) {
            continue;
        }
        g->pmem[g->npmem].pid = p.pid;
        g->pmem[g->npmem].dev = dev;
        g->pmem[g->npmem].bytes = p.used_gpu_memory;
        g->npmem++;
    }
}

/* The driver's power reading and energy counter: measured, so a device that lacks them (older
 * than the counter, or no power management) has none, never an estimate. */
static void gpu_sample_power(struct gpu *g, unsigned int i)
{
    struct store_gpu_dev *d = &g->devs[i];
    unsigned long long mj;
    unsigned int mw;
    int rc;

    if (g->power != NULL) {
        rc = g->power(g->handles[i], &mw);
        if (rc == GPU_NVML_SUCCESS) {
            d->power_valid = true;
            d->power_mw = mw;
        } else {
            gpu_note(g, i, "power", rc);
        }
    }
    if (g->energy != NULL) {
        rc = g->energy(g->handles[i], &mj);
        if (rc == GPU_NVML_SUCCESS) {
            d->energy_valid = true;
            d->energy_mj = mj;
        } else {
            gpu_note(g, i, "energy", rc);
        }
    }
}

static void gpu_sample_dev(struct gpu *g, unsigned int i)
{
    struct store_gpu_dev *d = &g->devs[i];
    struct gpu_nvml_device *h = g->handles[i];
    struct gpu_nvml_utilization u;
    struct gpu_nvml_memory m;
    int rc;

    d->util_valid = false;
    d->mem_valid = false;
    d->power_valid = false;
    d->energy_valid = false;
    d->procs_valid = false;
    if (h == NULL) {
        return;
    }
    if (g->utilization != NULL) {
        rc = g->utilization(h, &u);
        if (rc == GPU_NVML_SUCCESS) {
            d->util_valid = true;
            d->util_pct = u.gpu <= 100 ? u.gpu : 100;
        } else {
            gpu_note(g, i, "utilization", rc);
        }
    }
    if (g->memory != NULL) {
        rc = g->memory(h, &m);
        if (rc == GPU_NVML_SUCCESS) {
            d->mem_valid = true;
            d->mem_used_bytes = m.used;
            d->mem_total_bytes = m.total;
        } else {
            gpu_note(g, i, "memory", rc);
        }
    }
    gpu_sample_power(g, i);
    if (g->procs != NULL) {
        gpu_sample_procs(g, i);
    }
}

struct gpu *gpu_new(void)
{
    struct gpu *g = xcalloc(1, sizeof(*g));

    g->pmem = xcalloc(GPU_PROCS_MAX, sizeof(*g->pmem));
    g->pbuf_cap = GPU_PROCS_FIRST;
    g->pbuf = xcalloc(g->pbuf_cap, GPU_ENTRY_MAX);
    return g;
}

void gpu_free(struct gpu *g)
{
    if (g == NULL) {
        return;
    }
    if (g->events != NULL) {
        g->set_free(g->events);
    }
    if (g->initialised) {
        g->shutdown();
    }
    if (g->lib != NULL) {
        dlclose(g->lib);
    }
    free(g->pmem);
    free(g->pbuf);
    free(g);
}

void gpu_sample(struct gpu *g)
{
    if (g->state == GPU_UNLOADED) {
        gpu_load(g);
    }
    if (g->state != GPU_READY) {
        return;
    }
    g->error[0] = '\0';
    g->npmem = 0;
    g->sampled_ns = util_mono_ns();
    for (unsigned int i = 0; i < g->ndevs; i++) {
        gpu_sample_dev(g, i);
    }
    gpu_sample_xid(g);
}

/* The GPU memory of one watched process, from the last sample. */
static void gpu_publish_proc(const struct gpu *g, struct store_proc *p)
{
    uint32_t devs[STORE_GPU_MAX];
    uint64_t bytes[STORE_GPU_MAX];
    size_t n = 0;
    int32_t pid = store_proc_pid(p);

    for (size_t k = 0; k < g->npmem && n < STORE_GPU_MAX; k++) {
        if ((int32_t)g->pmem[k].pid == pid) {
            devs[n] = g->pmem[k].dev;
            bytes[n] = g->pmem[k].bytes;
            n++;
        }
    }
    store_proc_gpu_set(p, devs, bytes, n);
}

void gpu_publish(struct gpu *g, struct store *st)
{
    if (g->state != g->logged) {
        /* Worker threads do not log: the loop thread tells the debug log what changed. */
        g->logged = g->state;
        if (g->state == GPU_ABSENT) {
            diag_debug("no GPU: %s", g->why);
        } else if (g->state == GPU_FAILED) {
            diag_warn("%s", g->error);
        } else if (g->state == GPU_READY) {
            diag_debug("NVML: %u GPU(s)", g->ndevs);
        }
    }
    switch (g->state) {
    case GPU_READY:
        store_gpu_set(st, g->devs, g->ndevs, g->error[0] != '\0' ? g->error : NULL);
        for (unsigned int i = 0; i < g->ndevs; i++) {
            store_gpu_power_set(st, &g->devs[i], g->sampled_ns);
        }
        break;
    case GPU_FAILED:
        store_gpu_set(st, NULL, 0, g->error);
        return;
    default:
        store_gpu_set(st, NULL, 0, NULL);
        return;
    }
    for (size_t i = 0; i < store_nprocs(st); i++) {
        struct store_proc *p = store_proc_at(st, i);

        /* An exited process keeps its last figures, as its other facts do. */
        if (p != NULL && store_proc_state(p) == STORE_PROC_LIVE) {
            gpu_publish_proc(g, p);
        }
    }
}

const char *gpu_absent_reason(const struct gpu *g)
{
    return g->state == GPU_ABSENT && g->why[0] != '\0' ? g->why : NULL;
}

/* --- the probe ----------------------------------------------------------------------------- */

#define GPU_MS 1000 /* the driver's own sample period is about this */

struct gpu_probe {
    struct gpu *g;
    struct store *st;
};

static void *gpu_probe_start(const struct collector_env *env, uint64_t now_ns, char **err)
{
    struct gpu_probe *p = xcalloc(1, sizeof(*p));

    (void)now_ns;
    (void)err;
    p->g = gpu_new();
    p->st = env->store;
    return p;
}

static void gpu_probe_stop(void *self)
{
    struct gpu_probe *p = self;

    if (p != NULL) {
        gpu_free(p->g);
        free(p);
    }
}

/* Nothing on the loop thread: each run is followed by a sample on a worker. */
static uint64_t gpu_probe_run(void *self, uint64_t now_ns)
{
    (void)self;
    (void)now_ns;
    return GPU_MS;
}

static void gpu_probe_sample(void *self)
{
    struct gpu_probe *p = self;

    gpu_sample(p->g);
}

static void gpu_probe_publish(void *self)
{
    struct gpu_probe *p = self;

    gpu_publish(p->g, p->st);
}

const struct collector_ops gpu_probe = {
    .name = "gpu",
    .start = gpu_probe_start,
    .stop = gpu_probe_stop,
    .run = gpu_probe_run,
    .sample = gpu_probe_sample,
    .publish = gpu_probe_publish,
};
