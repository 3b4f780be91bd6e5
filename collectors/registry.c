/* SPDX-License-Identifier: MIT */
/* The sources nctop watches workloads with, in the order they start: the rings first (a
 * started command is attached before anything samples it), then /proc, then eBPF. */
#include "collectors/collector.h"

#include <stddef.h>

#include "src/config.h"

extern const struct collector_ops fleet_collector;
extern const struct collector_ops ring_collector;
extern const struct collector_ops proc_collector;
#ifdef NCTOP_HAVE_BPF
extern const struct collector_ops bpf_collector;
#endif

const struct collector_ops *const collector_registry[] = {
    &ring_collector,
    &proc_collector,
#ifdef NCTOP_HAVE_BPF
    &bpf_collector,
#endif
    NULL,
};

/* A fleet read from Prometheus is the only source of its run: nothing of this machine mixes
 * with it (no segments, no /proc, no GPU). */
static const struct collector_ops *const collector_fleet_registry[] = {
    &fleet_collector,
    NULL,
};

const struct collector_ops *const *collector_registries(const struct config *cfg, size_t i)
{
    if (cfg->prometheus_url != NULL) {
        return i == 0 ? collector_fleet_registry : NULL;
    }
    return i == 0 ? collector_registry : i == 1 ? hw_registry : NULL;
}

const char *collector_unbuilt(const struct config *cfg)
{
#ifndef NCTOP_HAVE_BPF
    if (cfg->bpf) {
        return "--bpf: this nctop was built without BPF support (rebuild it where clang, "
               "bpftool, libbpf-dev and a kernel with BTF are present)";
    }
#else
    (void)cfg;
#endif
    return NULL;
}
