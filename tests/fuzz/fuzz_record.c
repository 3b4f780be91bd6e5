/* SPDX-License-Identifier: MIT */
/* Fuzz the recording decoder (src/record.c). The input is a recording: every record is
 * decoded once, written again and decoded back, and the two decodings must agree field by
 * field; then the input is played through the replay collector into a store (and, for a
 * quarter of the inputs, snapshotted: fuzz_snapshot_due). */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/format/record.h"
#include "tests/fuzz/fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct fuzz_memfile fuzz_file;

/* A decoded record kept past the next decode: its path copied out of the reader. */
struct fuzz_kept {
    struct record_ev ev;
    size_t off;  /* where it starts in the input */
    size_t path; /* index of its path in fuzz_paths */
};

/* The first decoding, kept from input to input (grown, never shrunk). */
static struct fuzz_kept *fuzz_evs;
static size_t fuzz_evs_cap;
static uint32_t *fuzz_paths;
static size_t fuzz_paths_cap;
/* What a kept record without path entries points at. */
static const uint32_t fuzz_no_path;

static void *fuzz_grow(void *p, size_t *cap, size_t need, size_t each)
{
    if (need <= *cap) {
        return p;
    }
    *cap = need * 2U;
    p = realloc(p, *cap * each);
    if (p == NULL) {
        abort();
    }
    return p;
}

/* Whether two decoded records say the same thing. */
static bool fuzz_ev_equal(const struct record_ev *x, const struct record_ev *y)
{
    if (x->type != y->type || x->proc != y->proc || x->thread != y->thread || x->id != y->id ||
        x->aux != y->aux || x->level != y->level || x->ts_ns != y->ts_ns || x->i != y->i ||
        x->a != y->a || x->b != y->b || x->c != y->c || x->depth != y->depth) {
        return false;
    }
    if ((x->str == NULL) != (y->str == NULL) || x->str_len != y->str_len ||
        (x->str != NULL && memcmp(x->str, y->str, x->str_len) != 0)) {
        return false;
    }
    /* depth also counts the devices or values of records without a path. */
    if ((x->path == NULL) != (y->path == NULL) ||
        (x->path != NULL && x->depth > 0 &&
         memcmp(x->path, y->path, x->depth * sizeof(*x->path)) != 0)) {
        return false;
    }
    /* Doubles compared as bits: a NaN share must come back as the same NaN. */
    return memcmp(&x->stats, &y->stats, sizeof(x->stats)) == 0;
}

/* Decode data once, keeping each record and writing it again; then decode what was written
 * and compare record by record. */
static void fuzz_round_trip(const uint8_t *data, size_t size)
{
    char *err = NULL, *buf = NULL;
    size_t len = 0, n = 0, npaths = 0, off;
    struct record_reader *r1 = record_reader_new(data, size, &err), *r2;
    struct record_writer *w;
    struct record_ev ev1, ev2;
    FILE *f;

    if (r1 == NULL) {
        free(err);
        return;
    }
    f = open_memstream(&buf, &len);
    if (f == NULL) {
        abort();
    }
    w = record_writer_new(f, record_reader_mono_ns(r1), record_reader_real_ns(r1));
    for (off = record_reader_offset(r1); record_reader_next(r1, &ev1) > 0;
         off = record_reader_offset(r1)) {
        struct fuzz_kept *k;

        record_writer_put(w, &ev1);
        fuzz_evs = fuzz_grow(fuzz_evs, &fuzz_evs_cap, n + 1U, sizeof(*fuzz_evs));
        k = &fuzz_evs[n++];
        memcpy(&k->ev, &ev1, sizeof(ev1));
        k->off = off;
        k->path = npaths;
        if (ev1.path != NULL && ev1.depth == 0) {
            /* Only whether there is a path counts (fuzz_ev_equal): not the reader's memory,
             * gone by the time it is compared. */
            k->ev.path = &fuzz_no_path;
        } else if (ev1.path != NULL) {
            fuzz_paths =
                fuzz_grow(fuzz_paths, &fuzz_paths_cap, npaths + ev1.depth, sizeof(*fuzz_paths));
            memcpy(fuzz_paths + npaths, ev1.path, ev1.depth * sizeof(*ev1.path));
            npaths += ev1.depth;
        }
    }
    if (record_writer_free(w) != 0 || fclose(f) != 0) {
        abort();
    }
    record_reader_free(r1);

    r2 = record_reader_new(buf, len, &err);
    if (r2 == NULL) {
        abort(); /* the writer's own header must read back */
    }
    for (size_t i = 0; i < n; i++) {
        struct fuzz_kept *k = &fuzz_evs[i];
        int rc2 = record_reader_next(r2, &ev2);

        if (k->ev.path != NULL && k->ev.depth > 0) {
            k->ev.path = fuzz_paths + k->path; /* the array may have moved since */
        }
        if (rc2 != 1 || !fuzz_ev_equal(&k->ev, &ev2)) {
            fprintf(stderr, "round trip: record at offset %zu of type %u reads back %s\n", k->off,
                    k->ev.type, rc2 != 1 ? "broken" : "different");
            abort();
        }
    }
    /* What the writer wrote ends there, cleanly. */
    if (record_reader_next(r2, &ev2) != 0 || !record_reader_clean_end(r2)) {
        fprintf(stderr, "round trip: the re-encoded recording does not end cleanly\n");
        abort();
    }
    record_reader_free(r2);
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (fuzz_file.path[0] == '\0') {
        fuzz_memfile_open(&fuzz_file, "fuzz-record");
    }
    fuzz_round_trip(data, size);
    fuzz_memfile_set(&fuzz_file, data, size);
    fuzz_play(fuzz_file.path, fuzz_snapshot_due(data, size));
    return 0;
}
