/* SPDX-License-Identifier: MIT */
/* Shared by the replay readers: the problem list and the text-format converters, which turn
 * logs, ProfileRecord files and Chrome traces into an in-memory recording. */
#ifndef NCTOP_COLLECTORS_REPLAY_INTERNAL_H
#define NCTOP_COLLECTORS_REPLAY_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct record_writer;

#define REPLAY_PROBLEMS_KEPT 200

struct replay_problems {
    char *v[REPLAY_PROBLEMS_KEPT]; /* owned messages */
    size_t nkept;
    uint64_t count;
};

/* Note one problem; line 0 means "no line" (the whole file). */
void replay_problem(struct replay_problems *pr, const char *file, size_t line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* What the converters share: file process numbers, interned names and thread keys, each
 * announced on the writer the first time it is used. */
struct replay_conv;

struct replay_conv *replay_conv_new(struct record_writer *w);
void replay_conv_free(struct replay_conv *c);
struct record_writer *replay_conv_writer(struct replay_conv *c);
/* The file process number of (pid, label); label is copied. */
uint32_t replay_conv_proc(struct replay_conv *c, int32_t pid, const char *label);
/* The file name id of name in process proc. */
uint32_t replay_conv_name(struct replay_conv *c, uint32_t proc, const char *name);
/* The thread key of (proc, tid); name may be NULL. */
uint32_t replay_conv_thread(struct replay_conv *c, uint32_t proc, int64_t tid, const char *name);
/* A TICK at ts_ns when time moved on by at least min_step_ns since the last one. */
void replay_conv_tick(struct replay_conv *c, uint64_t ts_ns, uint64_t min_step_ns);

/* The input a converter has read so far: replay.c lets the pages of a mapped file before `done`
 * go back to the page cache as the converter moves on, so that memory does not grow with the
 * file. base NULL: nothing to release (a buffer of the heap). */
struct replay_release {
    const char *base; /* page-aligned start of the mapping */
    size_t done;      /* bytes already released */
};

/* The converter will not read base[0, upto) again (if it does, the bytes are read back from
 * the file). Cheap: acts once per few megabytes. r may be NULL. */
void replay_release(struct replay_release *r, size_t upto);

/* Convert a JSONL file (nctop/seed logs and ProfileRecord lines, detected per line) into
 * records on w. data is NUL-terminated (len bytes before the NUL). Returns the number of
 * lines converted; *profile is set when the lines were ProfileRecord lines. */
size_t replay_jsonl_convert(const char *file, const char *data, size_t len, struct record_writer *w,
                            struct replay_problems *pr, bool *profile);
/* What a log conversion learns of the file beside its records: whether it has the seed's rows
 * (no pid: one workload per file, named label), which kinds, and the time of its first line. */
struct replay_log_info {
    bool seed;
    bool latency, memory; /* the seed rows were latency rows, memory rows */
    bool has_first;
    uint64_t first_real_ns; /* ns since the epoch */
    char label[128];        /* the seed workload's process label */
};

/* The same, releasing the input as it goes (rel may be NULL) and filling info (zeroed by the
 * caller; may be NULL). data need not be NUL-terminated. */
size_t replay_jsonl_convert_stream(const char *file, const char *data, size_t len,
                                   struct record_writer *w, struct replay_problems *pr,
                                   bool *profile, struct replay_release *rel,
                                   struct replay_log_info *info);

/* Convert a Chrome trace (JSON object with traceEvents, or a bare array) into records on w.
 * Returns the number of events converted, or -1 when the document is not JSON at all. */
long replay_chrome_convert(const char *file, const char *data, size_t len, struct record_writer *w,
                           struct replay_problems *pr);
/* The same, one event at a time (the document is never held parsed as a whole), releasing
 * the input as it goes (rel may be NULL). data need not be NUL-terminated. */
long replay_chrome_convert_stream(const char *file, const char *data, size_t len,
                                  struct record_writer *w, struct replay_problems *pr,
                                  struct replay_release *rel);

#endif /* NCTOP_COLLECTORS_REPLAY_INTERNAL_H */
