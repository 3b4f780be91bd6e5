/* SPDX-License-Identifier: MIT */
/* The text form of the rows: what `nctop --once` prints and what the text mode of --demo
 * shows each refresh. */
#ifndef NCTOP_SRC_REPORT_H
#define NCTOP_SRC_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ui/layout.h"

struct store;

/* What the tables show, as the display would (--sort, --columns, nctoprc). */
struct report_view {
    int sort_col;                         /* enum layout_col_id, or -1: execution order */
    bool sort_reverse;                    /* names Z to A, figures smallest first */
    uint64_t columns;                     /* bit 1 << enum layout_col_id per column; 0: all */
    uint64_t view_columns[LAYOUT_NVIEWS]; /* one view's columns; 0: columns */
    const struct store *baseline;         /* --baseline: latency rows compared with it (the
                                           * delta columns show), or NULL */
};

/* Print every process of st as text: a summary line, then the latency tree, the memory tree
 * and the kernel table, each with the columns view selects in the display's order and titles,
 * siblings in the display's order (rows_sort). view NULL: every column, execution order.
 * Returns 0 or -errno. */
int report_write_view(FILE *out, const struct store *st, uint64_t now_ns, uint64_t real_ns,
                      const struct report_view *view);

/* report_write_view with every column in execution order. */
int report_write(FILE *out, const struct store *st, uint64_t now_ns, uint64_t real_ns);

#endif /* NCTOP_SRC_REPORT_H */
