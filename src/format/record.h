/* SPDX-License-Identifier: MIT */
/* nctop recordings: every call of the store's event API, with the string table, in a compact
 * versioned binary file (nctop record writes it, nctop replay and export read it). */
#ifndef NCTOP_SRC_RECORD_H
#define NCTOP_SRC_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "src/model/store.h"
#include "src/model/store_gpu.h"
#include "src/model/store_sys.h"

/*
 * File format, version 6 (versions 1 to 5 are read too: version 1's STEP has no request). Integers
 * are unsigned LEB128 varints ("u"), zigzag varints ("s") or times ("t": a zigzag varint added to
 * the previous time of the file, which starts at created_mono_ns); strings ("str") are a varint
 * length then the bytes; "str?" is a varint of length + 1 with 0 meaning no string; "path" is a
 * varint depth then that many name ids; "stats" is count, total, last, mean, min, max, p50, p95 and
 * p99 (ns) as varints, then a varint share_valid | absent << 1 (absent: the STORE_STAT_* figures a
 * replayed log lacked) and, when share_valid is 1, the share as an f64 LE; "parts" is the bytes and
 * peak (s) of a memory row's pool, KV pool and KV cache; "sched", "gpus", "values" and "matrix" are
 * described in record.c.
 *
 *   header (32 bytes): "NCTOPREC", u32 LE version, u32 LE flags (0),
 *                      u64 LE created_mono_ns, u64 LE created_real_ns
 *   records: one type byte (enum store_event_type, RECORD_TICK or RECORD_END), then:
 *     PROC_ADD s pid, str label
 *     LABEL u proc, str label
 *     STATE u proc, u state, t time, str? reason
 *     INVALID u proc, u n, str? reason
 *     NAME u proc, u id, str name
 *     DROPPED u proc, u n
 *     HOST u proc, t time, u rss, u peak, u cpu_ns
 *     GAUGE u proc, u name, u kind|flags<<16, u used, u capacity, u peak
 *     WEIGHT u proc, u path, u flags, u bytes
 *     COUNTER u proc, u name, u value, t time
 *     EVENTS u proc, u n
 *     THREAD_ADD u proc, u thread, s tid, str? name
 *     THREAD_NAME u thread, str? name
 *     THREAD_EXIT u thread, t time
 *     THREAD_GAP u thread
 *     SPAN_BEGIN u thread, u name, t time
 *     SPAN_END u thread, u name, t time
 *     MEM_DELTA u thread, s bytes, t time
 *     KERNEL u proc, u name, u backend, t start, u duration_ns
 *     STEP u proc, u kind, u n, t time, u request (from version 2)
 *     NODE_IMPORT u proc, t time, path names, stats statistics
 *     MEM_IMPORT_CLEAR u proc
 *     MEM_IMPORT u proc, u level, u label, u flags, s bytes, s peak, u capacity
 *     MEM_IMPORT_PARTS (from version 3): u proc, parts parts
 *     LOSS (from version 3): u proc, u cause, u n
 *     SYS_THREAD (from version 3): u proc, s tid, str? name, u exited, sched sched
 *     SYS_CALL (from version 3): u proc, u nr, str? name, u count, u total_ns
 *     SYS_MAPPED (from version 3): u proc, u mmap, u munmap, s brk
 *     SYS_DROPPED (from version 3): u proc, u n
 *     GPUS (from version 3): gpus devices, str? error
 *     PROC_GPU (from version 3): u proc, path devices, values bytes
 *     PROBE_BEGIN (from version 4): u thread, u name, t time
 *     PROBE_END (from version 4): u thread, u name, t time
 *     THREAD_GAP_ALL (from version 4): u thread
 *     VALUE (from version 4): u proc, u name, u unit, u f64 bits, t time
 *     ATTR (from version 4): u proc, u key, u value
 *     SPAN_STATUS (from version 4): u thread, u name, t time, u status
 *     SPAN_ATTR (from version 4): u thread, u key, u value, t time
 *     PARENT (from version 5): u proc, s ppid
 *     EXIT (from version 5): u proc, s status, u signal
 *     GPU_POWER (from version 5): u gpu, u flags, u power_mw, u energy_mj, u procs, t time
 *     RAPL_ZONE (from version 5): str zone, u energy_uj, t time
 *     RAPL_STATE (from version 5): str? state
 *     MATRIX (from version 6): u proc, u name, u unit, t time, matrix matrix
 *     TICK t time
 *     END
 *
 * Processes are numbered in the order of their PROC_ADD; threads are keys the writer chooses;
 * NAME records are each process's string table. TICK is the time the writer's reader drained
 * at; END is a clean end (without it the file was cut short). These lines are what
 * record_describe prints from the table in record.c. A reader stops at the first unknown type
 * or malformed field: the rest cannot be framed.
 */
#define RECORD_MAGIC "NCTOPREC"
/* 2: STEP carries a request id; 3: losses, eBPF and GPU facts; 4: probe spans and gaps of
 * both sources as their own types, values and attributes; 5: a process's parent and exit,
 * GPU power and RAPL zones; 6: matrices */
#define RECORD_VERSION 6U
#define RECORD_OLDEST_VERSION 1U /* the oldest version still read */
#define RECORD_HEADER_BYTES 32U
#define RECORD_TICK 100U
#define RECORD_END 101U
#define RECORD_MAX_DEPTH 256U /* imported path depth */
#define RECORD_MAX_STR 65536U /* longest string */

/* One record in file terms: processes by index, threads by key. Strings and paths are
 * borrowed (from the caller for put, from the reader's data for next). */
struct record_ev {
    uint32_t type; /* enum store_event_type, RECORD_TICK or RECORD_END */
    uint32_t proc;
    uint32_t thread;
    uint32_t id;
    uint32_t aux;
    uint16_t level;
    uint64_t ts_ns;
    int64_t i;
    uint64_t a;
    uint64_t b;
    uint64_t c;
    const char *str; /* NULL: none */
    size_t str_len;
    uint32_t depth;
    const uint32_t *path;
    struct store_import_stats stats;
    struct store_sched sched;         /* SYS_THREAD */
    const struct store_gpu_dev *gpus; /* GPUS: depth devices */
    const uint64_t *values;           /* PROC_GPU: depth values */
    struct store_mem_parts parts;     /* MEM_IMPORT_PARTS */
    const struct matrix *matrix;      /* MATRIX */
};

struct matrix;
struct record_writer;
struct record_reader;

/* A writer appending to f (borrowed; the caller closes it after record_writer_free). Writes
 * the header at once. mono_ns and real_ns date the file (the same instant on both clocks). */
struct record_writer *record_writer_new(FILE *f, uint64_t mono_ns, uint64_t real_ns);

/* Write the END record, flush and free. Returns 0 or the first write error (-errno). NULL is
 * a no-op returning 0. */
int record_writer_free(struct record_writer *w);

/* Append one record (buffered). After a write error every call is a counted no-op. */
void record_writer_put(struct record_writer *w, const struct record_ev *ev);

/* The store observer (store_set_observer(st, record_writer_observe, w)): maps processes and
 * threads to file numbers and appends the event. */
void record_writer_observe(void *ctx, const struct store_event *ev);

/* The drain time: replay advances its clock by these. */
void record_writer_tick(struct record_writer *w, uint64_t now_ns);

/* Write the buffer out. Returns 0 or -errno (also kept: record_writer_error). */
int record_writer_flush(struct record_writer *w);
int record_writer_error(const struct record_writer *w);
uint64_t record_writer_records(const struct record_writer *w); /* records written so far */
uint64_t record_writer_bytes(const struct record_writer *w);   /* bytes, header included */

/* The record layouts of this version, one line per type ("STEP u proc, u kind, ..."), into
 * buf (NUL-terminated, truncated to len); returns the length it needed. The format comment
 * above is this text, and a unit test holds them together. */
size_t record_describe(char *buf, size_t len);

/* What the fields of a record type refer to, for a reader that maps the file's numbers onto
 * its own (bits of record_fields). */
#define RECORD_HAS_PROC 0x01U   /* proc: a process number of the file */
#define RECORD_HAS_THREAD 0x02U /* thread: a thread key of the file */
#define RECORD_NAMES_ID 0x04U   /* id is a name id of the process */
#define RECORD_NAMES_AUX 0x08U  /* aux is a name id of the process */
#define RECORD_NAMES_PATH 0x10U /* path holds name ids of the process */
unsigned record_fields(uint32_t type);

/* Whether data starts like a recording. */
bool record_is_recording(const void *data, size_t len);

/* A reader over data (borrowed, len bytes, must outlive the reader). NULL when the header is
 * not a recording of a known version; *err (owned by the caller) says why. */
struct record_reader *record_reader_new(const void *data, size_t len, char **err);
void record_reader_free(struct record_reader *r);

/* The next record into ev: 1, or 0 at the end (END or the end of data), or -EBADMSG when a
 * record is malformed or cut short (record_reader_offset says where). Strings and paths in
 * ev are valid until the next call. */
int record_reader_next(struct record_reader *r, struct record_ev *ev);
size_t record_reader_offset(const struct record_reader *r);
bool record_reader_clean_end(const struct record_reader *r); /* an END record was read */
uint64_t record_reader_mono_ns(const struct record_reader *r);
uint64_t record_reader_real_ns(const struct record_reader *r);

#endif /* NCTOP_SRC_RECORD_H */
