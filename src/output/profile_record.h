/* SPDX-License-Identifier: MIT */
/* ProfileRecord JSONL (NC_PROFILE_JSONL): {"ts_ms","metric","value","labels"} lines appended
 * each interval, made from the rows and the summary of every watched workload. */
#ifndef NCTOP_SRC_PROFILE_RECORD_H
#define NCTOP_SRC_PROFILE_RECORD_H

#include <stdbool.h>
#include <stdint.h>

struct store;
struct profile_record;

/* Open path (copied) for append. NULL with *err (owned by the caller) when it cannot be. */
struct profile_record *profile_record_new(const char *path, char **err);
void profile_record_free(struct profile_record *pr); /* NULL is a no-op */

/* Append the lines of one interval: latency_ms per top-level span (window mean), and per
 * workload tokens_per_sec and spikes_per_sec (when counted), buffer_occupancy_pct (KV cache
 * used of capacity, when known). A write error stops the file for good and sets the
 * warning. Returns 0 or -errno. Loop context. */
int profile_record_write(struct profile_record *pr, const struct store *st, uint64_t now_ns,
                         uint64_t real_ns);

bool profile_record_active(const struct profile_record *pr);
const char *profile_record_warning(const struct profile_record *pr); /* borrowed, or NULL */
uint64_t profile_record_lines(const struct profile_record *pr);

#endif /* NCTOP_SRC_PROFILE_RECORD_H */
