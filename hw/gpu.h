/* SPDX-License-Identifier: MIT */
/* The GPU probe: NVIDIA's NVML loaded with dlopen, sampled into the store (devices, and the
 * GPU memory of each watched process). No library, driver or device is the "no GPU" state. */
#ifndef NCTOP_HW_GPU_H
#define NCTOP_HW_GPU_H

struct gpu;
struct store;

/* A probe that has not looked for NVML yet (cheap, never fails). Returns an owned probe
 * (gpu_free). */
struct gpu *gpu_new(void);

/* Shut NVML down and unload it. NULL is a no-op. Not while a gpu_sample runs. */
void gpu_free(struct gpu *g);

/* Read the devices and their processes into g (the first call loads NVML: the library named
 * by NCTOP_NVML_LIB, else libnvidia-ml.so.1). Driver calls may take long, so the loop runs
 * this on a worker thread; it touches g only, and never two at once on one g. */
void gpu_sample(struct gpu *g);

/* Publish the last sample into st: the devices or the failure, and the GPU memory of every
 * live watched process. Loop thread, after gpu_sample returned. */
void gpu_publish(struct gpu *g, struct store *st);

/* Why the last sample found no GPU (no library, no driver, no device), or NULL when it found
 * one or failed (the failure is in the store, gpu_publish). Borrowed until the next
 * gpu_sample. For nctop --check. */
const char *gpu_absent_reason(const struct gpu *g);

#endif /* NCTOP_HW_GPU_H */
