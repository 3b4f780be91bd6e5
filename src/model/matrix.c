/* SPDX-License-Identifier: MIT */
/* Matrix snapshots: reference counted, so that the store and every summary that shows one
 * hold the same copy, and a new snapshot never changes one somebody still shows. */
#include "src/model/matrix.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "src/base/xalloc.h"

struct matrix *matrix_new(uint32_t rows, uint32_t cols)
{
    struct matrix *m;

    if (rows == 0 || cols == 0 || rows > MATRIX_DIM_MAX || cols > MATRIX_DIM_MAX) {
        return NULL;
    }
    m = xcalloc(1, sizeof(*m));
    m->refs = 1;
    m->rows = rows;
    m->cols = cols;
    m->row_labels = xcalloc(rows, MATRIX_LABEL_BYTES);
    m->col_labels = xcalloc(cols, MATRIX_LABEL_BYTES);
    m->values = xcalloc((size_t)rows * cols, sizeof(float));
    return m;
}

struct matrix *matrix_ref(struct matrix *m)
{
    if (m != NULL) {
        m->refs++;
    }
    return m;
}

void matrix_unref(struct matrix *m)
{
    if (m == NULL || --m->refs > 0) {
        return;
    }
    free(m->row_labels);
    free(m->col_labels);
    free(m->values);
    free(m);
}

bool matrix_shared(const struct matrix *m)
{
    return m->refs > 1;
}

void matrix_update_range(struct matrix *m)
{
    size_t n = (size_t)m->rows * m->cols;

    m->range_valid = false;
    m->lo = m->hi = 0.0f;
    for (size_t i = 0; i < n; i++) {
        float v = m->values[i];

        if (!isfinite(v)) {
            continue;
        }
        if (!m->range_valid || v < m->lo) {
            m->lo = v;
        }
        if (!m->range_valid || v > m->hi) {
            m->hi = v;
        }
        m->range_valid = true;
    }
}

void matrix_copy(struct matrix *dst, const struct matrix *src)
{
    memcpy(dst->row_labels, src->row_labels, (size_t)src->rows * MATRIX_LABEL_BYTES);
    memcpy(dst->col_labels, src->col_labels, (size_t)src->cols * MATRIX_LABEL_BYTES);
    memcpy(dst->values, src->values, (size_t)src->rows * src->cols * sizeof(float));
    dst->range_valid = src->range_valid;
    dst->lo = src->lo;
    dst->hi = src->hi;
}

const char *matrix_row_label(const struct matrix *m, uint32_t r)
{
    return r < m->rows ? m->row_labels + (size_t)r * MATRIX_LABEL_BYTES : "";
}

const char *matrix_col_label(const struct matrix *m, uint32_t c)
{
    return c < m->cols ? m->col_labels + (size_t)c * MATRIX_LABEL_BYTES : "";
}

/* The length of the well-formed UTF-8 character at s (at most n bytes), 0 when malformed. */
static size_t matrix_utf8_len(const unsigned char *s, size_t n)
{
    size_t len = s[0] >= 0xf0 && s[0] <= 0xf4   ? 4
                 : s[0] >= 0xe0 && s[0] <= 0xef ? 3
                 : s[0] >= 0xc2 && s[0] <= 0xdf ? 2
                                                : 0;
    uint32_t c;

    if (len == 0 || len > n) {
        return 0;
    }
    c = s[0] & (0x7f >> len);
    for (size_t k = 1; k < len; k++) {
        if ((s[k] & 0xc0) != 0x80) {
            return 0;
        }
        c = c << 6 | (s[k] & 0x3f);
    }
    /* Overlong forms, surrogates, beyond U+10FFFF, C1 controls. */
    if ((len == 3 && c < 0x800) || (len == 4 && c < 0x10000) || c > 0x10ffff ||
        (c >= 0xd800 && c <= 0xdfff) || (c >= 0x80 && c <= 0x9f)) {
        return 0;
    }
    return len;
}

void matrix_set_label(char *dst, const char *src)
{
    const unsigned char *s = (const unsigned char *)src;
    size_t n = 0, o = 0;

    while (n < MATRIX_LABEL_BYTES - 1 && s[n] != '\0') {
        n++;
    }
    for (size_t i = 0; i < n;) {
        size_t len =
            s[i] < 0x80 ? (s[i] >= 0x20 && s[i] != 0x7f ? 1 : 0) : matrix_utf8_len(s + i, n - i);

        if (len == 0) {
            dst[o++] = '?';
            i++;
            continue;
        }
        memcpy(dst + o, s + i, len);
        o += len;
        i += len;
    }
    memset(dst + o, 0, MATRIX_LABEL_BYTES - o);
}

bool matrix_get(const struct matrix *m, uint32_t r, uint32_t c, float *out)
{
    float v;

    if (r >= m->rows || c >= m->cols) {
        return false;
    }
    v = m->values[(size_t)r * m->cols + c];
    if (!isfinite(v)) {
        return false;
    }
    *out = v;
    return true;
}
