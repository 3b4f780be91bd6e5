/* SPDX-License-Identifier: MIT */
/* Shared by the fuzz harnesses: an in-memory file with a path (for the readers that open
 * files), playing a recording or log through the replay collector into a store, and building
 * the snapshot nctop --once --json would print from that store. */
#ifndef NCTOP_TESTS_FUZZ_COMMON_H
#define NCTOP_TESTS_FUZZ_COMMON_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "collectors/replay/replay.h"
#include "collectors/replay/replay_internal.h"
#include "src/format/record.h"
#include "src/model/store.h"
#include "src/output/snapshot.h"

/* Steps of the virtual clock when playing a file: the window clocks and pacing see time move. */
#define FUZZ_PLAY_STEPS 8U
/* The snapshot (every row of every view, as JSON) is built for one input in
 * FUZZ_SNAPSHOT_EVERY. It took a third to a half of a run's time, and what a harness is
 * about is the reader or parser before it; a quarter of the inputs still reaches every row
 * the store can give. NCTOP_FUZZ_SNAPSHOT=all (set when reproducers are replayed) builds it
 * for every input. */
#define FUZZ_SNAPSHOT_EVERY 4U

/* A file descriptor that lives in memory, and its /proc/self/fd path. */
struct fuzz_memfile {
    int fd;
    char path[64];
};

/* Open it once; a failure here means the harness cannot run at all. */
static inline void fuzz_memfile_open(struct fuzz_memfile *m, const char *name)
{
    m->fd = memfd_create(name, MFD_CLOEXEC);
    if (m->fd < 0) {
        perror("memfd_create");
        abort();
    }
    snprintf(m->path, sizeof(m->path), "/proc/self/fd/%d", m->fd);
}

/* Replace the file's contents with data. */
static inline void fuzz_memfile_set(struct fuzz_memfile *m, const void *data, size_t len)
{
    const char *p = data;
    size_t done = 0;

    if (ftruncate(m->fd, 0) != 0) {
        perror("ftruncate");
        abort();
    }
    while (done < len) {
        ssize_t n = pwrite(m->fd, p + done, len - done, (off_t)done);

        if (n <= 0) {
            perror("pwrite");
            abort();
        }
        done += (size_t)n;
    }
}

/* FNV-1a of the input. The harness's own bookkeeping is not what is fuzzed: no coverage
 * callbacks for it (its loop called one per byte, 3 % of a segment run), address checks as
 * everywhere. Kept out of line so that it is not inlined into instrumented code. */
static inline __attribute__((no_sanitize("coverage"), noinline)) uint32_t
fuzz_hash(const uint8_t *data, size_t size)
{
    uint32_t h = 2166136261U;

    for (size_t i = 0; i < size; i++) {
        h = (h ^ data[i]) * 16777619U;
    }
    return h;
}

/* Whether this input's run builds the snapshot: a hash of its bytes decides, so a run stays
 * a function of its input (libFuzzer relies on it). */
static inline bool fuzz_snapshot_due(const uint8_t *data, size_t size)
{
    static int all = -1;

    if (all < 0) {
        const char *e = getenv("NCTOP_FUZZ_SNAPSHOT");

        all = e != NULL && strcmp(e, "all") == 0;
    }
    return all || fuzz_hash(data, size) % FUZZ_SNAPSHOT_EVERY == 0;
}

/* Play the file at path into a fresh store the way nctop replay does: load, advance the
 * virtual clock from start to end in steps, then (with snapshot) build the JSON snapshot of
 * every process. */
static inline void fuzz_play(const char *path, bool snapshot)
{
    struct store *st = store_new(NULL);
    struct replay_source *rs = replay_source_new(st);
    char *err = NULL;

    if (replay_source_add(rs, path, &err) == 0) {
        uint64_t start = replay_source_start_ns(rs), end = replay_source_end_ns(rs);
        uint64_t step = end > start ? (end - start) / FUZZ_PLAY_STEPS + 1U : 1U;
        uint64_t now = start;
        cJSON *snap;

        for (unsigned i = 0; i <= FUZZ_PLAY_STEPS && !replay_source_done(rs); i++) {
            replay_source_advance(rs, now);
            now = end - now > step ? now + step : end;
        }
        replay_source_advance(rs, UINT64_MAX);
        for (size_t i = 0; i < replay_source_nkept(rs); i++) {
            if (replay_source_problem(rs, i) == NULL) {
                abort();
            }
        }
        if (snapshot) {
            snap = snapshot_build(st, end, replay_source_real_ns(rs, end));
            cJSON_Delete(snap);
        }
    }
    free(err);
    replay_source_free(rs);
    store_free(st);
}

/* A text converter of the replay collector (JSONL or Chrome trace). */
typedef long (*fuzz_convert_fn)(const char *text, size_t len, struct record_writer *w,
                                struct replay_problems *pr);

/* Convert data (copied, NUL-terminated as the replay collector does) into a recording in
 * memory; the recording must decode record by record up to a clean end. Then play it. */
static inline void fuzz_convert_and_play(struct fuzz_memfile *m, const uint8_t *data, size_t size,
                                         fuzz_convert_fn convert)
{
    struct replay_problems pr;
    char *text = malloc(size + 1U), *buf = NULL, *err = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    struct record_writer *w;
    struct record_reader *r;
    struct record_ev ev;
    long n;
    int rc;

    if (text == NULL || f == NULL) {
        abort();
    }
    memcpy(text, data, size);
    text[size] = '\0';
    memset(&pr, 0, sizeof(pr));
    w = record_writer_new(f, 0, 0);
    n = convert(text, size, w, &pr);
    if (record_writer_free(w) != 0 || fclose(f) != 0) {
        abort();
    }
    if (pr.nkept > REPLAY_PROBLEMS_KEPT || pr.count < pr.nkept) {
        abort();
    }
    for (size_t i = 0; i < pr.nkept; i++) {
        free(pr.v[i]);
    }
    r = record_reader_new(buf, len, &err);
    if (r == NULL) {
        abort();
    }
    while ((rc = record_reader_next(r, &ev)) > 0) {
    }
    if (rc != 0 || !record_reader_clean_end(r)) {
        fprintf(stderr, "conversion (%ld items) wrote a malformed record at offset %zu\n", n,
                record_reader_offset(r));
        abort();
    }
    record_reader_free(r);
    if (getenv("NCTOP_FUZZ_SAVE_RECORDING") != NULL) {
        /* Seeds for the recording harness: what the converter made of this input. */
        FILE *out = fopen(getenv("NCTOP_FUZZ_SAVE_RECORDING"), "we");

        if (out == NULL || fwrite(buf, 1, len, out) != len || fclose(out) != 0) {
            abort();
        }
    }
    if (n >= 0) {
        fuzz_memfile_set(m, buf, len);
        fuzz_play(m->path, fuzz_snapshot_due(data, size));
    }
    free(buf);
    free(text);
}

#endif /* NCTOP_TESTS_FUZZ_COMMON_H */
