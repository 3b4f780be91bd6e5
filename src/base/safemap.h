/* SPDX-License-Identifier: MIT */
/* Mappings of files that may shrink under us (a workload's segment, a file being replayed):
 * a read past the new end raises SIGBUS, which here turns into zero pages and a flag instead
 * of the death of nctop. */
#ifndef NCTOP_SRC_SAFEMAP_H
#define NCTOP_SRC_SAFEMAP_H

#include <stdbool.h>
#include <stddef.h>

#define SAFEMAP_MAX 4160 /* mappings registered at once (segments + replayed files) */

/* Install the SIGBUS handler (counted: the first hold installs it, the last release puts the
 * previous handler back). Loop thread. */
void safemap_hold(void);
void safemap_release(void);

/* Register [base, base + size) (borrowed: the caller maps and unmaps it). Returns a handle
 * >= 0, or -1 when the table is full (the mapping is then unprotected). */
int safemap_add(void *base, size_t size);

/* Forget a mapping before unmapping it. -1 is a no-op. */
void safemap_remove(int handle);

/* True once a read faulted: the whole mapping now reads as zeros and the data is lost. */
bool safemap_faulted(int handle);

#endif /* NCTOP_SRC_SAFEMAP_H */
