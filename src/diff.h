/* SPDX-License-Identifier: MIT */
/* nctop diff A B: two runs (snapshots, recordings, JSONL logs) compared row by row, aligned
 * by path, with a change marked only when the samples support it. */
#ifndef NCTOP_SRC_DIFF_H
#define NCTOP_SRC_DIFF_H

#define DIFF_EXIT_REGRESSED 3 /* a --fail-on threshold was passed (1: error, 2: usage) */

/* How many samples a side needs before a change of its timed figures can be significant;
 * a percentile p also needs n * min(p, 1 - p) >= DIFF_MIN_TAIL (p99: 500 samples). */
#define DIFF_MIN_SAMPLES 30
#define DIFF_MIN_TAIL 5.0
#define DIFF_Z 3.0 /* half-width of each side's interval, in standard errors */

struct store;

/* --baseline FILE: a snapshot (--once --json), recording or JSONL log read into a store of its
 * own (*out, owned: store_free), as nctop diff reads it: a recording or log played to its
 * end, a snapshot's latency rows imported as a replayed log's. Returns 0, or -errno with *err
 * (owned, one line naming the file): it cannot be read, is damaged, or has no latency rows.
 * Before the loop. */
int diff_load(const char *path, struct store **out, char **err);

/* nctop diff [--json] [--fail-on SPEC] A B (argv[0] is the program). Returns the exit
 * status: 0, 1 (a file cannot be read or is damaged: one line on stderr), 2 (usage) or
 * DIFF_EXIT_REGRESSED. Before the loop: it plays recordings and logs into stores of its own. */
int diff_main(int argc, char **argv);

#endif /* NCTOP_SRC_DIFF_H */
