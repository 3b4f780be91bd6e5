/* SPDX-License-Identifier: MIT */
/* The tree views' shared ops (ui/view_tree.c), for a view file built on them as tmux's
 * window-*.c modes are on mode-tree.c: a kind says what differs, the rest is shared. */
#ifndef NCTOP_UI_VIEW_TREE_H
#define NCTOP_UI_VIEW_TREE_H

#include <stdbool.h>

#include "ui/curses.h"
#include "ui/ui_internal.h"

struct layout_place;
struct row;
struct rows;
struct rows_sort;
struct tree;
struct ui;
struct ui_opts;
struct view;

/* Draw the cell of column p of row r (of rows) at line y of w in role base: the columns the
 * shared line does not know (its own figures). */
typedef void (*view_tree_cell_fn)(struct ui *u, WINDOW *w, int y, const struct layout_place *p,
                                  const struct rows *rows, const struct row *r, enum ui_role base);

/* What makes one tree view differ from another (static, borrowed by the view). */
struct view_tree_kind {
    const char *empty;      /* the body when there are no rows */
    bool windowed;          /* its figures are of a window or since start (the tab says which) */
    bool shares;            /* memory: SHARE is of the parent (rows_memory_shares) */
    view_tree_cell_fn cell; /* the view's own columns; NULL: none */
    /* The role of an unselected line of row r (a failed compilation warns); NULL: text. */
    enum ui_role (*role)(const struct row *r);
};

/* The sort a tree view v orders its rows by (rows_sort_groups). */
void view_tree_sort(const struct ui *u, const struct view *v, struct rows_sort *out);

/* The view's data for kind (owned by the view: view_tree_free). */
void *view_tree_new(const struct view_tree_kind *kind, const struct ui_opts *opts);

/* The shared ops (struct view_ops). */
void view_tree_free(void *data);
struct tree *view_tree_tree(struct view *v);
void view_tree_prepare(struct ui *u, struct view *v);
void view_tree_tabs(struct ui *u, struct view *v, WINDOW *w, int x);
int view_tree_name_want(struct ui *u, struct view *v);
void view_tree_draw(struct ui *u, struct view *v, WINDOW *w);
size_t view_tree_length(struct ui *u, struct view *v);
unsigned view_tree_move_by(struct ui *u, struct view *v, long delta);
unsigned view_tree_enter(struct ui *u, struct view *v);
unsigned view_tree_click(struct ui *u, struct view *v, int row, int x);

#endif /* NCTOP_UI_VIEW_TREE_H */
