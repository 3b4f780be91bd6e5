/* SPDX-License-Identifier: MIT */
/* The text form of the rows: what `nctop --once` prints and what the text mode of --demo
 * shows each refresh. */
#ifndef NCTOP_SRC_REPORT_H
#define NCTOP_SRC_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct store;

/* Print every process of st as text: a summary line, then the latency tree, the memory tree
 * and the kernel table. Returns 0 or -errno. */
int report_write(FILE *out, const struct store *st, uint64_t now_ns, uint64_t real_ns);

#endif /* NCTOP_SRC_REPORT_H */
