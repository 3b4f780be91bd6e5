/* SPDX-License-Identifier: MIT */
/* The RAPL probe: the energy counters of the CPU packages and their core, uncore and dram
 * subzones (sysfs powercap), unwrapped, into the store. No powercap zone is the "no RAPL"
 * state; counters only root may read are a state with its reason, never an error. */
#ifndef NCTOP_HW_RAPL_H
#define NCTOP_HW_RAPL_H

#include <stdint.h>

struct rapl;
struct store;

#define RAPL_SYSFS_DEFAULT "/sys"
#define RAPL_NO_RAPL "no RAPL on this machine"

/* A probe reading sysfs_root/class/powercap (copied; NULL: NCTOP_SYSFS_ROOT when set, a test
 * hook ignored by a privileged nctop, else /sys). Owned (rapl_free); never fails. */
struct rapl *rapl_new(const char *sysfs_root);
void rapl_free(struct rapl *r); /* NULL is a no-op */

/* Read every zone (new zones join, gone ones leave) and put the readings, dated now_ns, or
 * the state when none could be read, into st. A few small sysfs reads: loop thread. */
void rapl_sample(struct rapl *r, struct store *st, uint64_t now_ns);

#endif /* NCTOP_HW_RAPL_H */
