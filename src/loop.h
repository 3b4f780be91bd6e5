/* SPDX-License-Identifier: MIT */
/* The one libuv loop of nctop; it owns every handle. */
#ifndef NCTOP_SRC_LOOP_H
#define NCTOP_SRC_LOOP_H

#include <stdio.h>

struct alerts;
struct config;
struct record_writer;
struct replay_source;
struct store;

/* What a run reads and writes besides the settings, made and owned by main. */
struct loop_io {
    FILE *out;                    /* --once, record: snapshots and text (stdout or -o) */
    struct record_writer *record; /* nctop record, or NULL */
    struct replay_source *replay; /* nctop replay: the source instead of the ring, or NULL */
    struct store *baseline;       /* --baseline: the earlier run the rows are compared with
                                   * (diff_load), or NULL; read only */
    struct alerts *alerts;        /* the alert rules, evaluated at every refresh, or NULL */
};

/* Run until interrupted, until --duration, or (with --once) until the started command exits.
 * cmd: the command to start and watch (NULL-terminated argv, borrowed) or NULL; under the
 * display its standard streams go to /dev/null. Returns nctop's exit status. */
int loop_run(const struct config *cfg, const struct loop_io *io, struct store *st, char **cmd);

#endif /* NCTOP_SRC_LOOP_H */
