/* SPDX-License-Identifier: MIT */
/* The command nctop starts (nctop -- CMD): its spawn, its output under the display, its gate,
 * its end (SIGTERM, then SIGKILL after a grace period), its exit status and what the kernel
 * kept of it. The loop owns the libuv loop; this module owns the child's handles. */
#ifndef NCTOP_SRC_CHILD_H
#define NCTOP_SRC_CHILD_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

struct child;

/* The command ended by itself or was ended: status as a shell gives it (128 + signal when a
 * signal ended it), reason in words ("exit status 1", "killed by signal 9 (Killed)"). */
typedef void (*child_exit_fn)(void *ctx, int status, const char *reason);

struct child_opts {
    char **argv;     /* the command, NULL-terminated (borrowed) */
    bool gated;      /* it waits in its gate until child_release (probes attach first) */
    bool own_output; /* its stdout and stderr go to a file of its own, stdin to nothing */
    child_exit_fn on_exit;
    void *ctx;
};

/* Start the command with NCTOP_READER=<nctop's pid>, which tells its libnctop to publish from
 * its first instant and leave the segment to nctop. Returns 0 and *out, or a libuv error
 * (UV_ENOENT, UV_EACCES, ...) with nothing started. */
int child_start(uv_loop_t *uv, const struct child_opts *o, struct child **out);

/* Let a gated command go: it executes now, watched from its first instruction. */
void child_release(struct child *c);

/* SIGTERM now, SIGKILL when it is still running after the grace period. */
void child_stop(struct child *c);

/* Close its handles (through the loop); it stays readable until child_free. */
void child_close(struct child *c);

/* After the loop ran out: free. NULL is a no-op. */
void child_free(struct child *c);

int32_t child_pid(const struct child *c);
const char *child_name(const struct child *c); /* its command's base name, a safe subset */
bool child_running(const struct child *c);
bool child_ended_by_us(const struct child *c); /* child_stop was called while it ran */
int child_status(const struct child *c);       /* once ended */
/* Under own_output: the file its output goes to, or NULL; and why there is none. */
const char *child_output(const struct child *c);
const char *child_output_problem(const struct child *c);

/* What the kernel kept of the ended command, its parent's (the figures of time -v): peak RSS
 * and CPU time. False when they cannot be read. */
bool child_rusage(const struct child *c, uint64_t *maxrss_bytes, uint64_t *cpu_ns);

/* After the display: what the command wrote, its last lines on stderr (escaped); the file is
 * kept, or removed when the command wrote nothing. */
void child_show_output(const struct child *c);

/* The gate, as nctop starts itself again for a gated command: argv[1] is CHILD_GATE_ARG,
 * argv[2] the command's file, argv[3..] its argv; the byte comes on CHILD_GATE_FD. */
#define CHILD_GATE_ARG "--exec-when-released"
#define CHILD_GATE_FD 3

/* Whether argv is a gate's. */
bool child_gate_is(int argc, char **argv);

/* Wait for the byte (or for nctop to go away: then the command never runs), then exec.
 * Returns only on failure, with the status a shell would give. Nothing else may run before
 * it in main, so the command gets the signal dispositions and descriptors nctop was given. */
int child_gate_main(char **argv);

#endif /* NCTOP_SRC_CHILD_H */
