/* SPDX-License-Identifier: MIT */
/* nctop --check: one line per thing nctop depends on (shared memory, eBPF, NVML, the
 * terminal, permissions, the config file), each ok, degraded or unavailable with what to do. */
#ifndef NCTOP_SRC_CHECK_H
#define NCTOP_SRC_CHECK_H

#include <stdio.h>

struct config;

enum check_status {
    CHECK_OK = 0,
    CHECK_DEGRADED = 1,    /* works, with less than it could */
    CHECK_UNAVAILABLE = 2, /* does not work */
};

/* What reading the config file gave (main reads it: the same code as a real start). */
struct check_rc {
    const char *path;         /* borrowed; NULL: neither XDG_CONFIG_HOME nor HOME is set */
    enum check_status status; /* OK (also: no file), DEGRADED (warnings), UNAVAILABLE (refused) */
    const char *message;      /* the first warning or the error, without "nctop: "; or NULL */
};

/* Look at everything cfg would need and print one line per thing to out, then a verdict.
 * Returns the exit status: 0 when nothing the requested options need is unavailable, else 1.
 * Before the loop starts (it may take a few tens of ms: it loads the eBPF programs). */
int check_run(FILE *out, const struct config *cfg, const struct check_rc *rc);

#endif /* NCTOP_SRC_CHECK_H */
