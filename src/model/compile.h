/* SPDX-License-Identifier: MIT */
/* The compilations of a process as a whole (the Compile view's totals line and duration
 * histogram): counts since start and the kept ones that ended in the window. Pure: the
 * store. The row builder is its reader (rows_build_summary). */
#ifndef NCTOP_SRC_MODEL_COMPILE_H
#define NCTOP_SRC_MODEL_COMPILE_H

#include <stdint.h>

struct rows_compile_sum;
struct store_proc;

/* Fill out from p at now_ns (the window's end; the window is the store's). Allocates
 * nothing; runs on the loop in O(kept compilations). */
void compile_summary(struct rows_compile_sum *out, const struct store_proc *p, uint64_t now_ns);

/* The bin (0 .. ROWS_COMPILE_BINS - 1) of duration ns among durations from min_ns to max_ns
 * on a log scale (all in bin 0 when min_ns >= max_ns). */
unsigned compile_bin(uint64_t ns, uint64_t min_ns, uint64_t max_ns);

#endif /* NCTOP_SRC_MODEL_COMPILE_H */
