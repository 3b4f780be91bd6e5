/* SPDX-License-Identifier: MIT */
/* The hardware probes, behind the sources' interface: an absent device is a state of its
 * probe, never an error. */
#include "collectors/collector.h"

#include <stddef.h>

extern const struct collector_ops gpu_probe;
extern const struct collector_ops rapl_probe;

const struct collector_ops *const hw_registry[] = {
    &gpu_probe,
    &rapl_probe,
    NULL,
};
