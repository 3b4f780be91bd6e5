/* SPDX-License-Identifier: MIT */
/* snnc: --report, the compiler's own JSON account of its compilations: per compilation the
 * model, target, status, wall time, peak RSS, each pass's time and memory, and the figures of
 * quantization, placement, routing, the image and the estimate. */
#ifndef NCTOP_SNNC_REPORT_H
#define NCTOP_SNNC_REPORT_H

#include <stdint.h>

struct compile_result;
struct report;

/* A report keeping the last `keep` compilations (and the totals of all). Returns an owned
 * report (report_free) or NULL when out of memory. */
struct report *report_new(uint32_t keep);

/* NULL is a no-op. */
void report_free(struct report *rep);

/* Add one compilation (copied). */
void report_add(struct report *rep, const struct compile_result *r);

/* Write the report to path (through path.tmp and a rename). Returns 0 or -errno. */
int report_write(const struct report *rep, const char *path);

#endif /* NCTOP_SNNC_REPORT_H */
