/* SPDX-License-Identifier: MIT */
/* The views of the display behind one const ops table (as a tmux window mode): each view is one
 * file (the tree views share view_tree.c, on top of ui/tree.c), and view_table lists them in
 * display order. Only the view's own file and the table name a view. */
#ifndef NCTOP_UI_VIEW_H
#define NCTOP_UI_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ui/curses.h"
#include "ui/layout.h"

struct tree;
struct ui;
struct ui_opts;
struct view_ops;

/* One view's state in the display: the part every view has, and the view's own data. */
struct view {
    const struct view_ops *ops;
    void *data;       /* owned: made by ops->init, freed by ops->free */
    int sort_col;     /* enum layout_col_id, or UI_SORT_NONE */
    bool sort_asc;    /* 'I': names Z to A, figures smallest first */
    uint64_t columns; /* --columns VIEW:COL,... (bit 1 << enum layout_col_id); 0: the UI's */
};

/* What a view does. Every op gets the display (for its frame, columns and drawing) and the
 * view's state; they run on the loop. Ops marked "may be NULL" are optional. */
struct view_ops {
    const char *title; /* the tab ("Latency"); --view names come from layout_view_name */
    uint32_t header;   /* the header lines it shows: bits 1 << enum header_line */
    /* Body lines above its list now (paging and clicks leave them out); NULL: none. */
    int (*hint_lines)(struct ui *u, struct view *v);

    /* The view's own data for the display's options (owned by the view), and its end. Both
     * may be NULL: no data. */
    void *(*init)(const struct ui_opts *opts);
    void (*free)(void *data);

    /* The view's tree when it is built on ui/tree.c (borrowed), else NULL; expand, collapse,
     * sort, search and filter act on it. The op may be NULL: a list. */
    struct tree *(*tree)(struct view *v);

    /* Before every frame, on the frame's rows (flatten and sort). May be NULL. */
    void (*prepare)(struct ui *u, struct view *v);

    /* Its facts on the tab line from column x (window, sort, filter). May be NULL. */
    void (*tabs)(struct ui *u, struct view *v, WINDOW *w, int x);

    /* The width its name column would like (0: the layout's least). */
    int (*name_want)(struct ui *u, struct view *v);

    /* Draw the body into w (getmaxy(w) lines) with the columns the UI placed. */
    void (*draw)(struct ui *u, struct view *v, WINDOW *w);

    /* The lines it scrolls over, and moving the selection by delta lines (clamped). */
    size_t (*length)(struct ui *u, struct view *v);
    unsigned (*move_by)(struct ui *u, struct view *v, long delta);

    /* Enter on the selected line; returns UI_* reactions. May be NULL: nothing. */
    unsigned (*enter)(struct ui *u, struct view *v);

    /* A click on line row of the body at column x; returns UI_* reactions. */
    unsigned (*click)(struct ui *u, struct view *v, int row, int x);

    /* A key, before the key table: UI_* reactions, or 0 to leave it to the table. May be
     * NULL. help (may be NULL): its keys for the help screen, pairs of names and what they
     * do, NULL-terminated. */
    unsigned (*key)(struct ui *u, struct view *v, int ch);
    const char *const *help;
};

/* The views in display order: tab n is view_table[n - 1], the key n shows it. */
extern const struct view_ops *const view_table[LAYOUT_NVIEWS];

extern const struct view_ops view_latency_ops;   /* ui/view_tree.c */
extern const struct view_ops view_memory_ops;    /* ui/view_tree.c */
extern const struct view_ops view_kernels_ops;   /* ui/view_tree.c */
extern const struct view_ops view_workloads_ops; /* ui/view_workloads.c */
extern const struct view_ops view_threads_ops;   /* ui/view_threads.c */
extern const struct view_ops view_neuro_ops;     /* ui/view_neuro.c */
extern const struct view_ops view_heatmap_ops;   /* ui/view_heatmap.c */
extern const struct view_ops view_compile_ops;   /* ui/view_compile.c */
extern const struct view_ops view_alerts_ops;    /* ui/view_alerts.c */

/* A list view's selection (workloads, threads): its data, made by view_list_new. */
struct view_list {
    size_t sel; /* the selected line */
    size_t top; /* the first line shown */
};

/* The list ops a list view can use as they are: init, free, move (over ops->length lines)
 * and click (a line below the hint lines selects it). */
void *view_list_new(const struct ui_opts *opts);
void view_list_free(void *data);
unsigned view_list_move_by(struct ui *u, struct view *v, long delta);
unsigned view_list_click(struct ui *u, struct view *v, int row, int x);

/* The lines v shows above its list now (its hint_lines op, else 0). */
int view_hint_lines(struct ui *u, struct view *v);

/* Clamp the selection to n lines and scroll it into a body of h lines; returns the list. */
struct view_list *view_list_scroll(struct view *v, size_t n, int h);

#endif /* NCTOP_UI_VIEW_H */
