/* SPDX-License-Identifier: MIT */
/* Fuzz the recording decoder (src/record.c). The input is a recording: every record is
 * decoded, written again and decoded back, and the two decodings must agree field by field;
 * then the input is played through the replay collector into a store and snapshotted. */
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
    if (x->depth > 0 && memcmp(x->path, y->path, x->depth * sizeof(*x->path)) != 0) {
        return false;
    }
    /* Doubles compared as bits: a NaN share must come back as the same NaN. */
    return memcmp(&x->stats, &y->stats, sizeof(x->stats)) == 0;
}

/* Decode data, re-encode every record, decode both in step and compare. */
static void fuzz_round_trip(const uint8_t *data, size_t size)
{
    char *err = NULL, *buf = NULL;
    size_t len = 0;
    struct record_reader *r1 = record_reader_new(data, size, &err), *r2;
    struct record_writer *w;
    struct record_ev ev1, ev2;
    FILE *f;
    int rc1, rc2;

    if (r1 == NULL) {
        free(err);
        return;
    }
    f = open_memstream(&buf, &len);
    if (f == NULL) {
        abort();
    }
    w = record_writer_new(f, record_reader_mono_ns(r1), record_reader_real_ns(r1));
    while (record_reader_next(r1, &ev1) > 0) {
        record_writer_put(w, &ev1);
    }
    if (record_writer_free(w) != 0 || fclose(f) != 0) {
        abort();
    }
    record_reader_free(r1);

    r1 = record_reader_new(data, size, &err);
    r2 = record_reader_new(buf, len, &err);
    if (r1 == NULL || r2 == NULL) {
        abort(); /* the writer's own header must read back */
    }
    for (;;) {
        rc1 = record_reader_next(r1, &ev1);
        if (rc1 <= 0) {
            break;
        }
        rc2 = record_reader_next(r2, &ev2);
        if (rc2 != 1 || !fuzz_ev_equal(&ev1, &ev2)) {
            fprintf(stderr, "round trip: record at offset %zu of type %u reads back %s\n",
                    record_reader_offset(r1), ev1.type, rc2 != 1 ? "broken" : "different");
            abort();
        }
    }
    /* What the writer wrote ends there, cleanly. */
    if (record_reader_next(r2, &ev2) != 0 || !record_reader_clean_end(r2)) {
        fprintf(stderr, "round trip: the re-encoded recording does not end cleanly\n");
        abort();
    }
    record_reader_free(r1);
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
    fuzz_play(fuzz_file.path);
    return 0;
}
