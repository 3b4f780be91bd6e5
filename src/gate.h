/* SPDX-License-Identifier: MIT */
/* A command that starts only once nctop watches it: nctop starts itself again as the gate,
 * which waits on a pipe and then becomes the command (the same pid), so probes attached to
 * that pid see the command from its first instruction. */
#ifndef NCTOP_SRC_GATE_H
#define NCTOP_SRC_GATE_H

#include <stdbool.h>

/* argv[1] of a gate; argv[2] is the command's file, argv[3..] the command's argv. */
#define GATE_ARG "--exec-when-released"

/* The descriptor the gate reads its one byte from. */
#define GATE_FD 3

/* Whether argv is a gate's. */
bool gate_is(int argc, char **argv);

/* The gate: wait until the byte comes (or nctop goes away: then the command never runs),
 * then exec argv[2] with argv[3..]. Returns only on failure, with the status a shell would
 * give. */
int gate_main(char **argv);

/* The file cmd names, as execvp would find it on PATH (or at its path), if it is executable:
 * *file is set (owned) and 0 returned, else -errno. So a gated command that cannot start
 * fails before anything waits on it, and the watched command makes one execve, not one per
 * PATH element. */
int gate_find(const char *cmd, char **file);

#endif /* NCTOP_SRC_GATE_H */
