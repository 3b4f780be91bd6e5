/* SPDX-License-Identifier: MIT */
/* The replay collector: recordings, JSONL logs, ProfileRecord files and Chrome traces played
 * into the store as if live, on a virtual clock that the caller advances. */
#ifndef NCTOP_COLLECTORS_REPLAY_H
#define NCTOP_COLLECTORS_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;
struct replay_source;

enum replay_format {
    REPLAY_RECORDING = 0,
    REPLAY_LOG = 1,     /* nctop or seed JSONL log (latency or memory rows) */
    REPLAY_PROFILE = 2, /* ProfileRecord JSONL */
    REPLAY_CHROME = 3,  /* Chrome trace event JSON (PyTorch profiler, Perfetto) */
};

/* A source feeding st (borrowed, must outlive the source). Owned: replay_source_free. */
struct replay_source *replay_source_new(struct store *st);
void replay_source_free(struct replay_source *rs);

/* Load one file (format detected from its content). Malformed parts are counted and noted
 * as problems, and the rest loads; a file that cannot be read or recognised at all returns
 * -errno or -EINVAL with *err (owned by the caller) saying why. Call before the first
 * replay_source_advance. */
int replay_source_add(struct replay_source *rs, const char *path, char **err);

/* Problems found while loading and playing: "FILE:LINE: what" (or "FILE: offset N: what"
 * for recordings). Borrowed, valid until replay_source_free. At most a few hundred are kept;
 * replay_source_nproblems counts them all. */
size_t replay_source_nkept(const struct replay_source *rs);
const char *replay_source_problem(const struct replay_source *rs, size_t i);
uint64_t replay_source_nproblems(const struct replay_source *rs);

/* The virtual clock: replayed times are rebased so that every file starts at start_ns. */
uint64_t replay_source_start_ns(const struct replay_source *rs);
uint64_t replay_source_end_ns(const struct replay_source *rs);

/* Feed the store everything that happened up to now_ns (virtual). Returns records applied. */
uint64_t replay_source_advance(struct replay_source *rs, uint64_t now_ns);

/* Every file has been played to its end. */
bool replay_source_done(const struct replay_source *rs);

/* The wall-clock time (ns since the epoch) that virtual time now_ns stands for in the first
 * file, for timestamps; 0 when unknown. */
uint64_t replay_source_real_ns(const struct replay_source *rs, uint64_t now_ns); /* 0: unknown */

/* The format of the i-th file added. */
enum replay_format replay_source_format(const struct replay_source *rs, size_t i);

#endif /* NCTOP_COLLECTORS_REPLAY_H */
