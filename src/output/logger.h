/* SPDX-License-Identifier: MIT */
/* The JSONL logger (docs/DESIGN.md): every latency and memory row of every watched workload, one
 * timestamped line per interval in <UTC stamp>-latency.jsonl and <UTC stamp>-memory.jsonl. */
#ifndef NCTOP_SRC_LOGGER_H
#define NCTOP_SRC_LOGGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct alerts;
struct store;
struct logger;

/* A stopped logger writing into dir (copied; NULL: the working directory). Owned. */
struct logger *logger_new(const char *dir);
void logger_free(struct logger *lg); /* stops it first; NULL is a no-op */

/* Open a new pair of files named after real_ns (UTC, seconds) for append and write the first
 * line of each (empty rows); the directory is created when missing. Returns 0, or -errno with the
 * reason in logger_warning. Starting an active logger is a no-op. Loop context. */
int logger_start(struct logger *lg, uint64_t real_ns);

/* The alerts whose pending and firing ones the latency log's lines carry as "alerts" (lines
 * without any have no such key); borrowed until the logger is freed, NULL: none. */
void logger_set_alerts(struct logger *lg, const struct alerts *a);

/* The size cap and retention: a file that reaches max_bytes (0: no cap) ends its pair and a
 * new pair starts (named by the time, ".N" added within one second); only the newest keep
 * pairs this logger created stay on disk (0: all). Loop context. */
void logger_set_limits(struct logger *lg, uint64_t max_bytes, unsigned keep);

/* Close the files. The names stay readable until the next start. */
void logger_stop(struct logger *lg);

/* Whether at least one of the two files is still being written. */
bool logger_active(const struct logger *lg);

/* The file names of the current (or last) pair, NULL before the first start. Borrowed until
 * the next logger_start or logger_free. */
const char *logger_latency_path(const struct logger *lg);
const char *logger_memory_path(const struct logger *lg);

/* Append one line per file: the rows of every process of st at now_ns, stamped real_ns. A
 * write error (disk full, file too large, directory gone) stops that file for good and sets
 * the warning; the other file goes on. Returns 0 or the first error of this call (-errno). */
int logger_write(struct logger *lg, const struct store *st, uint64_t now_ns, uint64_t real_ns);

/* The latest problem ("latency log X: No space left on device; logging stopped"), or NULL.
 * Borrowed until the next call on lg. */
const char *logger_warning(const struct logger *lg);

/* Lines written so far over both files (the first lines included). */
uint64_t logger_lines(const struct logger *lg);

/* METRICS_LOG_ENABLED and METRICS_LOG_INTERVAL_SECS. Returns whether logging is enabled and
 * sets *interval_ns (5 s unless a valid value is given). A bad interval writes a warning into
 * warn (len bytes; "" when none). */
bool logger_env(uint64_t *interval_ns, char *warn, size_t len);

#endif /* NCTOP_SRC_LOGGER_H */
