/* SPDX-License-Identifier: MIT */
/* GET /healthz: whether every watched workload and hardware target is well, as JSON with the
 * reasons when one is not (docs/DESIGN.md). */
#ifndef NCTOP_SRC_OUTPUT_HEALTH_H
#define NCTOP_SRC_OUTPUT_HEALTH_H

#include <stddef.h>
#include <stdint.h>

struct alerts;
struct health;
struct store;

/* A workload is stale when it sent nothing for this long (or the window, if longer). */
#define HEALTH_STALE_NS (10ULL * 1000000000ULL)

/* What the drop and invalid rates are measured against: the figures of earlier renders, so
 * that the rates cover the last window. Owned: health_free (NULL is a no-op). */
struct health *health_new(void);
void health_free(struct health *h);

/* The health of every process of st at now_ns (CLOCK_MONOTONIC), and of the machine's GPUs
 * and the processes' neuromorphic targets, with the firing alerts of alerts (borrowed, may be
 * NULL): an owned NUL-terminated JSON text (free) and its length; *status is 200 when all is
 * well or only warning alerts fire ("degraded"), else 503. Loop thread. */
char *health_render(struct health *h, const struct store *st, const struct alerts *alerts,
                    uint64_t now_ns, size_t *len, int *status);

#endif /* NCTOP_SRC_OUTPUT_HEALTH_H */
