/* SPDX-License-Identifier: MIT */
/* The spread of a fleet's latency rows: for each path of the fleet's tree, the p99 of every
 * live member that has it (smallest, median, largest) and the slowest member. Pure. */
#ifndef NCTOP_SRC_MODEL_FLEET_H
#define NCTOP_SRC_MODEL_FLEET_H

#include <stddef.h>
#include <stdint.h>

struct rows;
struct store_proc;

/* Fill the spread fields (and ROW_F_SPREAD) of out's latency rows from index first on, the
 * rows of fleet (a process of role STORE_FLEET_ALL), from the window's p99 of the same path
 * in each live STORE_FLEET_MEMBER of its store at now_ns. A path no live member has a p99
 * for gets no spread. Called by rows_build_latency; loop thread (reads the store). */
void fleet_spread(struct rows *out, size_t first, const struct store_proc *fleet, uint64_t now_ns);

#endif /* NCTOP_SRC_MODEL_FLEET_H */
