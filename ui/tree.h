/* SPDX-License-Identifier: MIT */
/* The pure tree logic of the views (no curses): expansion and selection kept by row path hash
 * across rebuilds, the shared sort within siblings (rows_sort), filter (matches and their
 * ancestors), search, and the flattening of a row set into the visible lines. */
#ifndef NCTOP_UI_TREE_H
#define NCTOP_UI_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rows;
struct rows_sort;
struct tree;

/* One visible line. */
struct tree_line {
    uint32_t row; /* index into the rows last flattened */
    uint16_t level;
    bool has_children; /* children that could be shown (in filter mode: shown ones) */
    bool expanded;     /* its children are shown */
    bool match;        /* its label contains the filter */
};

/* collapse_depth: nodes above this level start expanded, so a new tree shows levels
 * 0..collapse_depth. Owned; free with tree_free (NULL is fine). */
struct tree *tree_new(unsigned collapse_depth);
void tree_free(struct tree *t);

/* Recompute the visible lines from rows (borrowed until the next flatten; the tree keeps
 * pointers into it for search and navigation), in the order of rows_sort with sort (copied;
 * NULL: execution order), the one the text report uses too. The selection stays on the same
 * path when it is still visible. Rows of the gen last flattened, in the same order, are not
 * sorted again (struct rows: gen). */
void tree_flatten(struct tree *t, const struct rows *rows, const struct rows_sort *sort);

/* A number that changes whenever the lines may have (every flatten that is not skipped, and
 * every expansion, filter or search change): what a view derives from the lines is current
 * while it stays. */
uint64_t tree_version(const struct tree *t);
/* A number that changes whenever which lines there are (their rows and levels) may have, not
 * only their order (rows of another shape, every expansion, filter or search change): what a
 * view derives from the set of lines, not from their order, is current while it stays. */
uint64_t tree_set_version(const struct tree *t);
/* Whether the order of the lines lacks keys: the sort was by a figure the rows left pending
 * and could not have any more (rows_sort_groups). */
bool tree_incomplete(const struct tree *t);

size_t tree_nlines(const struct tree *t);
const struct tree_line *tree_line_at(const struct tree *t, size_t i); /* borrowed */

/* The selected line index (0 when empty) and the first line shown in a body of height
 * lines; tree_scroll keeps the selection in view. */
size_t tree_selected(const struct tree *t);
size_t tree_top(const struct tree *t);
void tree_scroll(struct tree *t, size_t height);

/* Navigation over the visible lines; each returns whether anything changed. Calls that
 * change expansion reflatten with the last rows and sort. */
bool tree_move(struct tree *t, long delta); /* clamps */
bool tree_select(struct tree *t, size_t line);
bool tree_toggle(struct tree *t);   /* the selected line */
bool tree_expand(struct tree *t);   /* expanded already: go to its first child */
bool tree_collapse(struct tree *t); /* collapsed or a leaf: go to its parent */
bool tree_expand_all(struct tree *t);
bool tree_collapse_all(struct tree *t);

/* Filter: show the rows whose label contains text (case-insensitive) and their ancestors;
 * NULL or "" shows everything. The text is copied. */
void tree_set_filter(struct tree *t, const char *text);
const char *tree_filter(const struct tree *t); /* "" when none */

/* Select the next (forward) or previous row in the whole sorted tree whose label contains
 * text, after or before the selection, wrapping; collapsed ancestors are expanded. Returns
 * whether one was found. */
bool tree_search(struct tree *t, const char *text, bool forward);

#endif /* NCTOP_UI_TREE_H */
