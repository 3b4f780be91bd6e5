/* SPDX-License-Identifier: MIT */
/* The one libuv loop of nctop; it owns every handle. */
#ifndef NCTOP_SRC_LOOP_H
#define NCTOP_SRC_LOOP_H

struct config;
struct store;

/* Run until interrupted, until --duration, or (with --once) until the started command exits.
 * cmd: the command to start and watch (NULL-terminated argv, borrowed) or NULL; under the
 * display its standard streams go to /dev/null. Returns nctop's exit status. */
int loop_run(const struct config *cfg, struct store *st, char **cmd);

#endif /* NCTOP_SRC_LOOP_H */
