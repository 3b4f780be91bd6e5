/* SPDX-License-Identifier: MIT */
/* What the files of the display share (ui.c, draw.c, header.c, keys.c, prompt.c and the views):
 * the display's state, the drawing primitives and colours, the header lines, the key table
 * and the prompts. Nothing outside ui/ includes it. */
#ifndef NCTOP_UI_UI_INTERNAL_H
#define NCTOP_UI_UI_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ui/curses.h"
#include "ui/layout.h"
#include "ui/ui.h"
#include "ui/view.h"

struct row;
struct row_stats;
struct rows_gpus;
struct rows_summary;

#define UI_PROMPT_MAX 64

/* Colour pairs; without colours each role falls back to attributes alone. */
enum ui_role {
    UI_ROLE_TEXT = 0,
    UI_ROLE_TITLE,   /* the workload label, key names in the header */
    UI_ROLE_VALUE,   /* header figures */
    UI_ROLE_BAR,     /* meters and share bars */
    UI_ROLE_WARN,    /* drops, errors, exited */
    UI_ROLE_COLHDR,  /* column titles */
    UI_ROLE_SORTCOL, /* the sort column's title */
    UI_ROLE_SELECT,  /* the selected line */
    UI_ROLE_FKEY,    /* footer key */
    UI_ROLE_FLABEL,  /* footer label */
    UI_ROLE_TAB,     /* the active tab */
    UI_ROLE_DIM,     /* absent values, tree guides */
    UI_ROLE_MATCH,   /* filter and search matches */
    UI_NROLES,
};

enum ui_prompt {
    UI_PROMPT_NONE = 0,
    UI_PROMPT_SEARCH,
    UI_PROMPT_FILTER,
};

/* The lines of the header, top to bottom (header.c draws each; a view picks them). */
enum header_line {
    HEADER_TITLE = 0, /* the workload, its state and uptime, the log, PAUSED */
    HEADER_PACE,      /* counter rates, the step, TTFT and ITL */
    HEADER_METERS,    /* capacities: KV cache, pools */
    HEADER_HOST,      /* RSS, CPU, GPUs, events and drops */
    HEADER_NLINES,
};

#define HEADER_ALL ((1U << HEADER_NLINES) - 1U)

struct ui {
    SCREEN *scr;
    FILE *in;
    FILE *out;
    bool utf8;
    bool color;
    attr_t role_attr[UI_NROLES];
    int width, height;
    struct layout lay;
    int header_lines; /* the header the windows were made for */
    WINDOW *kbd;      /* input only: never drawn, so wgetch never repaints anything */
    WINDOW *w_header, *w_tabs, *w_colhdr, *w_body, *w_status, *w_footer, *w_help;

    enum layout_view view;            /* the one shown */
    struct view views[LAYOUT_NVIEWS]; /* in view_table's order */
    uint64_t columns;                 /* --columns, for views without their own */
    bool since_start;                 /* statistics since start instead of the rolling window */
    bool frozen;
    bool stale;         /* the frame drawn lacked figures it could no longer have (ui_stale) */
    uint64_t drawn_gen; /* the gen of the rows drawn last (a first draw is never cut short) */
    uint64_t cols_gen;  /* layout_rows_enabled gave cols_out for rows of this gen (0: none), */
    uint64_t cols_in;   /* ... this mask */
    enum layout_view cols_view; /* ... and this view */
    uint64_t cols_out;
    bool help;
    size_t help_top;
    uint64_t delay_ns;
    int32_t sel_pid;

    enum ui_prompt prompt;
    char prompt_text[UI_PROMPT_MAX];
    char search[UI_PROMPT_MAX];
    char message[128]; /* the UI's own status (search not found...), until the next key */

    const struct ui_frame *frame; /* borrowed: the last frame drawn */
    struct ui_frame frame_copy;
    struct layout_place cols[LAYOUT_NCOLS]; /* the shown view's columns on this width */
    size_t ncols;
};

/* --- ui.c: the orchestration the other files call --------------------------------------- */

static inline struct view *ui_current(struct ui *u)
{
    return &u->views[u->view];
}

/* The process shown (borrowed from the frame), or NULL. */
const struct rows_summary *ui_shown(const struct ui *u);
/* The shown view's tree (borrowed), or NULL when it is a list. */
struct tree *ui_tree(struct ui *u);
/* Whether the tabs and Tab offer view v for the shown process (its digit key always shows it). */
bool ui_view_offered(const struct ui *u, int v);
/* The frame drawn lacks figures the display now shows (its rows omit more than ui_omit). */
bool ui_frame_lacks(const struct ui *u);
/* Show view v (wrapping around the table); UI_REBUILD when it changed, else 0. */
unsigned ui_set_view(struct ui *u, int v);

/* --- draw.c: formatting, primitives and colours -------------------------------------------- */

void draw_fmt_ns(uint64_t ns, char *buf, size_t len);
void draw_fmt_pct(double pct, char *buf, size_t len); /* "%5.1f%%" */
void draw_fmt_bytes(int64_t bytes, char *buf, size_t len);
void draw_fmt_count(uint64_t n, char *buf, size_t len); /* 12345, 123.4k, 12.3M */
/* v in unit with an SI prefix, 3 significant digits: 1.85mW, 72.1nJ, 95.9k ("u" for micro). */
void draw_fmt_si(double v, const char *unit, char *buf, size_t len);
const char *draw_state_name(const struct rows_summary *s); /* live, replay, exited, error */

/* Columns of the first max bytes of a UTF-8 string (one per character). */
int draw_cols(const char *s, size_t max);
/* Write s at (y, x) of w in a role, never past column x + maxw nor the window's edge; NULL
 * or out-of-window positions write nothing. Returns the columns written. */
int draw_put(struct ui *u, WINDOW *w, int y, int x, int maxw, enum ui_role role, const char *s);
/* Right-aligned in a field of width wd at x. */
void draw_put_right(struct ui *u, WINDOW *w, int y, int x, int wd, enum ui_role role,
                    const char *s);
/* Fill line y of w with blanks in a role (selection and title bars). */
void draw_fill(struct ui *u, WINDOW *w, int y, enum ui_role role);
/* A bar of cells cells for frac in [0, 1] at (y, x) in a role: eighths in UTF-8, '|' in
 * ASCII; at most maxw columns, never past the window's edge. Returns the columns written. */
int draw_put_bar(struct ui *u, WINDOW *w, int y, int x, int maxw, enum ui_role role, double frac,
                 int cells);

/* Cells of a table line at the place p: "-" (dim unless selected) when not valid. */
void draw_cell_ns(struct ui *u, WINDOW *w, int y, const struct layout_place *p, bool valid,
                  uint64_t ns, enum ui_role base);
void draw_cell_bytes(struct ui *u, WINDOW *w, int y, const struct layout_place *p, bool valid,
                     int64_t bytes, enum ui_role base);
void draw_cell_share(struct ui *u, WINDOW *w, int y, const struct layout_place *p, bool valid,
                     double pct, enum ui_role base);

/* The roles' attributes for a colour mode (NO_COLOR, 8 or 256 colours). After newterm. */
void draw_init_colors(struct ui *u, enum ui_color mode);

/* --- header.c ------------------------------------------------------------------------------ */

/* The lines of the header the mask (1 << enum header_line) asks for. */
int header_height(uint32_t lines);
/* Draw those lines into u->w_header from the frame. */
void header_draw(struct ui *u, uint32_t lines);

/* --- keys.c: the key table, its actions and the help screen that lists them ---------------- */

/* The action bound to ch, run; returns its UI_* reactions (0: ch is bound to nothing). */
unsigned keys_dispatch(struct ui *u, int ch);
/* The help screen over the whole terminal, and a key while it shows (arrows scroll it, any
 * other key closes it). */
void keys_help_draw(struct ui *u);
unsigned keys_help_key(struct ui *u, int ch);

/* --- prompt.c: search and filter prompts, the mouse ---------------------------------------- */

/* Open a prompt on the shown view's tree (0 when it has none). */
unsigned prompt_open(struct ui *u, enum ui_prompt p);
/* A key while a prompt is open. */
unsigned prompt_key(struct ui *u, int ch);
/* Select the next (forward) or previous match of the last search; "not found" says so. */
unsigned prompt_find(struct ui *u, bool forward);
/* The open prompt on the footer line; false when none is open. */
bool prompt_draw(struct ui *u, WINDOW *w);
/* A mouse event (after KEY_MOUSE): wheel, a click on a tab, a column title or a line. */
unsigned prompt_mouse(struct ui *u);

#endif /* NCTOP_UI_UI_INTERNAL_H */
