/* SPDX-License-Identifier: MIT */
/* The Prometheus text exposition of the store, made from the same rows as every other output:
 * raw counters and since-start histograms, so any window can be computed in PromQL. */
#ifndef NCTOP_SRC_PROM_H
#define NCTOP_SRC_PROM_H

#include <stddef.h>
#include <stdint.h>

struct store;

#define PROM_DEFAULT_MAX_PATHS 200 /* latency paths per process before folding into "other" */

/* Render every process of st at now_ns. max_paths caps the distinct `path` label values per
 * process (0 = the default); the rest fold into path="other", counted in
 * nctop_exporter_folded_paths. Returns an owned NUL-terminated string (free) and its length. */
char *prom_render(const struct store *st, uint64_t now_ns, size_t max_paths, size_t *len);

#endif /* NCTOP_SRC_PROM_H */
