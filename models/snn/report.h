/* SPDX-License-Identifier: MIT */
/* snn: --report, the run's exact counts as JSON: per core, per layer and in total, with the
 * energy the target's model gives for them. */
#ifndef NCTOP_SNN_REPORT_H
#define NCTOP_SNN_REPORT_H

#include <stdint.h>

struct net;
struct target;

/* What the report says about the run besides the network's counts. Transparent. */
struct report_meta {
    const char *network; /* "ff", "brunel" or "both" */
    uint64_t seed;
    double rate_hz;
    int stdp;
};

/* Write the report of net (placed on t) to path, replacing it. Returns 0 or -errno. All
 * arguments borrowed. */
int report_write(const char *path, const struct net *net, const struct target *t,
                 const struct report_meta *meta);

#endif /* NCTOP_SNN_REPORT_H */
