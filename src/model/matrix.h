/* SPDX-License-Identifier: MIT */
/* A matrix snapshot (a heatmap's data): rows x cols floats with a label per row and column,
 * shared by reference between the store and the summaries built from it, so that a frozen
 * frame keeps the snapshot it shows while the store takes newer ones. Loop thread only. */
#ifndef NCTOP_SRC_MODEL_MATRIX_H
#define NCTOP_SRC_MODEL_MATRIX_H

#include <stdbool.h>
#include <stdint.h>

#define MATRIX_DIM_MAX 256U    /* rows and columns at most (the SDK's NCTOP_MATRIX_DIM_MAX) */
#define MATRIX_LABEL_BYTES 16U /* a label and its NUL */

/* Transparent, but written only by its maker until it is shared (matrix_shared). */
struct matrix {
    uint32_t refs; /* holders; the last matrix_unref frees it */
    uint32_t rows;
    uint32_t cols;
    bool range_valid; /* some value is finite: lo and hi hold */
    float lo;         /* the smallest finite value */
    float hi;         /* the largest finite value */
    char *row_labels; /* rows * MATRIX_LABEL_BYTES, each NUL-terminated ("": none) */
    char *col_labels; /* cols * MATRIX_LABEL_BYTES */
    float *values;    /* rows * cols, row-major; NaN and infinities are absent values */
};

/* A matrix of rows x cols (1..MATRIX_DIM_MAX each) with zero values and empty labels, one
 * reference held by the caller. Returns NULL for sizes out of range. Owned: matrix_unref. */
struct matrix *matrix_new(uint32_t rows, uint32_t cols);

/* Take one more reference (returns m) and drop one (the last frees it). NULL is a no-op. */
struct matrix *matrix_ref(struct matrix *m);
void matrix_unref(struct matrix *m);

/* More than one holder: its contents must not change. */
bool matrix_shared(const struct matrix *m);

/* Copy src's sizes, labels and values into dst (same sizes, not shared), then its range. */
void matrix_copy(struct matrix *dst, const struct matrix *src);

/* Recompute lo, hi and range_valid from the values (after writing them). */
void matrix_update_range(struct matrix *m);

/* A label (borrowed from m, "" when none or out of range). */
const char *matrix_row_label(const struct matrix *m, uint32_t r);
const char *matrix_col_label(const struct matrix *m, uint32_t c);

/* Set a label from an untrusted source: at most MATRIX_LABEL_BYTES - 1 bytes of src (which
 * need not be NUL-terminated within them), control characters and bytes that are not part
 * of well-formed UTF-8 become '?'. */
void matrix_set_label(char *dst, const char *src);

/* The value at (r, c); false when out of range or not finite. */
bool matrix_get(const struct matrix *m, uint32_t r, uint32_t c, float *out);

#endif /* NCTOP_SRC_MODEL_MATRIX_H */
