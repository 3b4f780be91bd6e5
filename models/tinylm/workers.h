/* SPDX-License-Identifier: MIT */
/* tinylm: a fixed pthread pool that runs one function on every thread (the caller
 * included) and waits for all of them: enough to split a matmul by rows. */
#ifndef NCTOP_TINYLM_WORKERS_H
#define NCTOP_TINYLM_WORKERS_H

/* One share of a parallel job: share is in [0, n_shares). arg is the caller's. */
typedef void (*workers_job_fn)(void *arg, int share, int n_shares);

struct workers;

/* Start n_threads - 1 helper threads (n_threads >= 1; 1 means the caller works alone).
 * Helpers block SIGINT/SIGTERM so signals reach the main thread, and name themselves
 * "tinylm-w<i>" for nctop. Returns NULL with errno set on failure. Owned: workers_free(). */
struct workers *workers_new(int n_threads);

/* Stop and join the helpers. NULL is a no-op. */
void workers_free(struct workers *w);

/* Number of shares a job is split into (the thread count). */
int workers_count(const struct workers *w);

/* Run fn(arg, share, n) once per share, the caller doing share 0, and return when every
 * share is done. Not reentrant: one job at a time, from one thread. */
void workers_run(struct workers *w, workers_job_fn fn, void *arg);

#endif /* NCTOP_TINYLM_WORKERS_H */
