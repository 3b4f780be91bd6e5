/* SPDX-License-Identifier: MIT */
/* libnctop's private interface between its three parts: the lifecycle (sdk.c: init, segment,
 * fork, shutdown), the event path (sdk_events.c) and registration (sdk_registry.c). */
#ifndef NCTOP_LIBNCTOP_SDK_INTERNAL_H
#define NCTOP_LIBNCTOP_SDK_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "segment.h"

/* Internal symbols: direct (not GOT) access from position-independent code too. */
#pragma GCC visibility push(hidden)

/*
 * The segment the event path writes to. Before init, after a failed init and after shutdown
 * it points at sdk_dummy_hdr, whose reader_pid is 0 and whose tables are empty (every *_max
 * is 0), so the event path needs no NULL check and every handle check fails.
 */
extern _Atomic(struct nctop_seg_header *) sdk_hdr;
extern struct nctop_seg_header sdk_dummy_hdr;

/*
 * The event clock (segment.h, enum nctop_seg_clock). Set by the first init, before its segment
 * is published with release order; the event path reads them after its acquire load of
 * sdk_hdr. With the TSC, records carry ticks and the reader's heartbeat is compared in ticks.
 */
extern bool sdk_clock_tsc;
extern uint64_t sdk_clock_timeout;    /* NCTOP_SEG_READER_TIMEOUT_NS in the event clock's units */
extern uint64_t sdk_clock_gone;       /* NCTOP_SEG_READER_GONE_NS in the same units */
extern uint64_t sdk_calib_period;     /* the next refresh period in ticks (the writer's) */
extern uint64_t sdk_calib_period_max; /* NCTOP_SEG_CALIB_PERIOD_NS in ticks */
/* The tick from which the next event refreshes calib_last; UINT64_MAX: never (MONOTONIC). */
extern _Atomic uint64_t sdk_calib_next;

/* Handle of the counter "tokens": the first counter, created at init before the segment is
 * published (nctop_step(NCTOP_STEP_TOKEN) adds to it). A constant, so the event path reads
 * no variable that init writes. */
#define SDK_TOKENS_COUNTER 1U

/* Take the registration lock, initialising the SDK with defaults first if nobody did.
 * Returns the live header with the lock held, or NULL (lock released) when the SDK is
 * disabled, failed or shut down. Registration context only. */
struct nctop_seg_header *sdk_lock_ready(void);
void sdk_unlock(void);

/* Create the process-wide thread-exit key. Called once, under the lock, before the first
 * segment is published. Returns 0 or -errno. */
int sdk_events_key_create(void);

/* Forget the calling thread's ring (fork child: it belonged to the parent's segment). Only
 * async-signal-safe work. */
void sdk_events_fork_child(void);

/* Remember the calling thread's name and copy it into its ring if it owns one. */
void sdk_events_set_thread_name(const char *name);

/* Registration helpers for sdk.c, lock held. */
uint32_t sdk_registry_counter_locked(struct nctop_seg_header *hdr, const char *name);
int sdk_registry_label_locked(struct nctop_seg_header *hdr, const char *label);

#pragma GCC visibility pop

#endif /* NCTOP_LIBNCTOP_SDK_INTERNAL_H */
