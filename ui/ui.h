/* SPDX-License-Identifier: MIT */
/* The interactive display: draws frames of rows that the loop builds, and turns keys and
 * mouse events into reactions for the loop (htop style). Only the loop calls ui_draw. */
#ifndef NCTOP_UI_UI_H
#define NCTOP_UI_UI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ui/layout.h"

struct alerts;
struct rows;
struct rows_gpus;
struct rows_sort;
struct rows_summary;
struct ui;

/* Reactions returned by ui_input: what the loop must do next. */
#define UI_REDRAW 0x01U     /* draw the last frame again */
#define UI_REBUILD 0x02U    /* view or process changed: build a new frame, then draw */
#define UI_QUIT 0x04U       /* end nctop */
#define UI_TOGGLE_LOG 0x08U /* start or stop the JSONL logger */
#define UI_SNAPSHOT 0x10U   /* write a snapshot JSON now */
#define UI_RESIZED 0x20U    /* the terminal size changed (the UI already adapted) */

enum ui_color {
    UI_COLOR_AUTO = 0, /* colours when the terminal has them and NO_COLOR is unset or empty */
    UI_COLOR_NEVER,
    UI_COLOR_ALWAYS, /* colours when the terminal has them, whatever NO_COLOR says */
};

#define UI_SORT_NONE (-1) /* siblings in execution order */

struct ui_opts {
    enum layout_view view;                /* the view shown first */
    int sort_col;                         /* enum layout_col_id, or UI_SORT_NONE */
    bool sort_ascending;                  /* numbers sort largest first unless this is set */
    unsigned collapse_depth;              /* tree levels shown at first */
    uint64_t columns;                     /* bit 1 << enum layout_col_id of each column shown */
    uint64_t view_columns[LAYOUT_NVIEWS]; /* per view (0: columns); --columns VIEW:COL,... */
    enum ui_color color;
    uint64_t delay_ns;  /* the refresh interval, shown in the help screen */
    FILE *in;           /* the terminal; NULL: stdin */
    FILE *out;          /* NULL: stdout */
    bool allow_not_tty; /* benchmarks: draw into a file with a fixed size */
};

/* What one frame shows. Everything is borrowed until the next ui_draw. */
struct ui_frame {
    const struct rows *rows;          /* the active tree view of the selected process, or NULL */
    const struct rows *memory;        /* memory rows of that process, for the header meters */
    const struct rows_summary *procs; /* every watched process */
    size_t nprocs;
    size_t sel_proc; /* index into procs of the shown one (nprocs: none) */
    uint64_t window_ns;
    bool uptime_valid;
    uint64_t uptime_ns;   /* of the shown process */
    const char *log_name; /* the log being written, or NULL when logging is off */
    const char *status;   /* a message for the status line, or NULL */
    bool status_error;    /* shown in the warning colour */

    const struct rows_gpus *gpus; /* the machine's GPUs (n = 0: none), or NULL */
    const struct alerts *alerts;  /* pending and firing alerts (src/model/alerts.h), or NULL */
    uint64_t now_ns;              /* when the frame was built, on the alerts' clock */
};

/* Start the display on a terminal. Returns an owned UI (ui_free), or NULL with *err an owned
 * one-line reason (no terminal, TERM unset, unknown or too dumb). Never exits. */
struct ui *ui_new(const struct ui_opts *opts, char **err);

/* End the display and give the terminal back. NULL is fine. */
void ui_free(struct ui *u);

/* Draw a frame: every window with wnoutrefresh, then one doupdate. */
void ui_draw(struct ui *u, const struct ui_frame *f);

/* The figures a frame may leave out or for later (ROWS_OMIT_*, ROWS_LAZY_WIN_PCT, for
 * rows_update_latency) while the display shows what it shows now: the since-start figures
 * unless since start is shown, and the window's percentiles until a row is drawn or sorted
 * on; nothing while the display is frozen (a frozen frame keeps all it may show). A key that
 * comes to show what a frame left out asks for a new frame (UI_REBUILD). */
unsigned ui_omit(const struct ui *u);

/* Whether the last ui_draw was cut short: a redraw of the frame drawn before needed figures
 * the frame left for later (ROWS_LAZY_WIN_PCT) that the store no longer has. The loop then
 * builds a new frame and draws it. */
bool ui_stale(const struct ui *u);

/* The sort the shown view gives its rows (ROWS_SORT_NONE for a view without a tree), for the
 * frame's builder to compute the keys of as it sets the rows (rows_want_keys). */
void ui_rows_sort(struct ui *u, struct rows_sort *out);

/* Read every pending key and mouse event (never blocks). Returns UI_* reactions. */
unsigned ui_input(struct ui *u);

/* The terminal was resized (SIGWINCH): read its size and adapt. Returns UI_RESIZED|UI_REDRAW. */
unsigned ui_resize(struct ui *u);
/* Use a fixed size (tests and benchmarks). */
void ui_set_size(struct ui *u, int width, int height);

/* What the loop needs to build the next frame. */
enum layout_view ui_view(const struct ui *u);
int32_t ui_selected_pid(const struct ui *u); /* 0: no choice yet (the loop picks) */
bool ui_frozen(const struct ui *u);          /* 'p': keep the frame, do not rebuild on ticks */

/* The file descriptor to poll for input. */
int ui_input_fd(const struct ui *u);

#endif /* NCTOP_UI_UI_H */
