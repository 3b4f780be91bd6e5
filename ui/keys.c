/* SPDX-License-Identifier: MIT */
/* The keys of the display: one table of bindings whose actions return reactions (htop's
 * Htop_Reaction), and the help screen that lists the table. Moves and Enter go to the shown
 * view; expand, collapse, sort, search and filter act on its tree when it has one. */
#include "ui/ui_internal.h"

#include <stddef.h>
#include <stdio.h>

#include "ui/tree.h"

#define KEYS_CTRL(c) ((c)&0x1f)

/* The reactions of one key. */
typedef unsigned (*keys_action_fn)(struct ui *u);

struct keys_binding {
    int keys[5];       /* curses key codes, 0 ends the list */
    const char *names; /* as the help screen and man page show them */
    const char *what;
    keys_action_fn action;
};

/* Move the shown view's selection. */
static unsigned keys_move_by(struct ui *u, long delta)
{
    struct view *v = ui_current(u);

    return v->ops->move_by(u, v, delta);
}

/* A page: the body less the view's hint lines, less one line of overlap. */
static long keys_page(struct ui *u)
{
    int h = u->lay.body.h - view_hint_lines(u, ui_current(u));

    return h > 1 ? h - 1 : 1;
}

static unsigned keys_act_up(struct ui *u)
{
    return keys_move_by(u, -1);
}

static unsigned keys_act_down(struct ui *u)
{
    return keys_move_by(u, 1);
}

static unsigned keys_act_pgup(struct ui *u)
{
    return keys_move_by(u, -keys_page(u));
}

static unsigned keys_act_pgdn(struct ui *u)
{
    return keys_move_by(u, keys_page(u));
}

static unsigned keys_act_home(struct ui *u)
{
    return keys_move_by(u, -(1L << 30));
}

static unsigned keys_act_end(struct ui *u)
{
    return keys_move_by(u, 1L << 30);
}

/* Enter: what the view does with its selected line (a tree: expand or collapse). */
static unsigned keys_act_enter(struct ui *u)
{
    struct view *v = ui_current(u);

    return v->ops->enter != NULL ? v->ops->enter(u, v) : 0;
}

static unsigned keys_act_toggle(struct ui *u)
{
    struct tree *t = ui_tree(u);

    return t != NULL && tree_toggle(t) ? UI_REDRAW : 0;
}

static unsigned keys_act_expand(struct ui *u)
{
    struct tree *t = ui_tree(u);

    return t != NULL && tree_expand(t) ? UI_REDRAW : 0;
}

static unsigned keys_act_collapse(struct ui *u)
{
    struct tree *t = ui_tree(u);

    return t != NULL && tree_collapse(t) ? UI_REDRAW : 0;
}

static unsigned keys_act_expand_all(struct ui *u)
{
    struct tree *t = ui_tree(u);

    return t != NULL && tree_expand_all(t) ? UI_REDRAW : 0;
}

static unsigned keys_act_collapse_all(struct ui *u)
{
    struct tree *t = ui_tree(u);

    return t != NULL && tree_collapse_all(t) ? UI_REDRAW : 0;
}

/* The next view the tabs offer in direction step (+1 or -1), wrapping. */
static unsigned keys_step_view(struct ui *u, int step)
{
    int v = (int)u->view;

    for (int i = 0; i < LAYOUT_NVIEWS; i++) {
        v = (v + step + LAYOUT_NVIEWS) % LAYOUT_NVIEWS;
        if (ui_view_offered(u, v)) {
            break;
        }
    }
    return ui_set_view(u, v);
}

static unsigned keys_act_next_view(struct ui *u)
{
    return keys_step_view(u, 1);
}

static unsigned keys_act_prev_view(struct ui *u)
{
    return keys_step_view(u, -1);
}

static unsigned keys_act_view_1(struct ui *u)
{
    return ui_set_view(u, 0);
}

static unsigned keys_act_view_2(struct ui *u)
{
    return ui_set_view(u, 1);
}

static unsigned keys_act_view_3(struct ui *u)
{
    return ui_set_view(u, 2);
}

static unsigned keys_act_view_4(struct ui *u)
{
    return ui_set_view(u, 3);
}

static unsigned keys_act_view_5(struct ui *u)
{
    return ui_set_view(u, 4);
}

static unsigned keys_act_view_6(struct ui *u)
{
    return ui_set_view(u, 5);
}

static unsigned keys_act_view_7(struct ui *u)
{
    return ui_set_view(u, LAYOUT_VIEW_HEATMAP);
}

static unsigned keys_act_view_compile(struct ui *u)
{
    return ui_set_view(u, LAYOUT_VIEW_COMPILE);
}

static unsigned keys_act_view_alerts(struct ui *u)
{
    return ui_set_view(u, LAYOUT_VIEW_ALERTS);
}

/* Step the sort column through "execution order" and each column of the view. */
static unsigned keys_sort_step(struct ui *u, int dir)
{
    struct view *v = ui_current(u);
    const struct layout_col *cols;
    size_t n;
    int cur = -1, next;

    /* Trees sort their siblings; lists keep the order they come in. */
    if (ui_tree(u) == NULL) {
        return 0;
    }
    enum layout_col_id ids[LAYOUT_NCOLS];
    size_t all = layout_view_columns(u->view, &cols);

    /* The view's columns that are on screen (a fleet's spread columns only over a fleet)
     * and sort something (not the baseline's deltas). */
    n = 0;
    for (size_t i = 0; i < all; i++) {
        bool shown = u->ncols == 0;

        for (size_t k = 0; k < u->ncols && !shown; k++) {
            shown = u->cols[k].id == cols[i].id;
        }
        if (shown && layout_col_sort_key(cols[i].id) != ROWS_SORT_NONE) {
            ids[n++] = cols[i].id;
        }
    }
    for (size_t i = 0; i < n; i++) {
        if ((int)ids[i] == v->sort_col) {
            cur = (int)i;
        }
    }
    /* Positions -1 (none) .. n - 1, wrapping. */
    next = (cur + 1 + dir + (int)n + 1) % ((int)n + 1) - 1;
    v->sort_col = next < 0 ? UI_SORT_NONE : (int)ids[next];
    snprintf(u->message, sizeof(u->message), "sort: %s",
             next < 0 ? "execution order" : layout_col_name(ids[next]));
    return UI_REDRAW;
}

static unsigned keys_act_sort_next(struct ui *u)
{
    return keys_sort_step(u, 1);
}

static unsigned keys_act_sort_prev(struct ui *u)
{
    return keys_sort_step(u, -1);
}

static unsigned keys_act_sort_invert(struct ui *u)
{
    struct view *v = ui_current(u);

    v->sort_asc = !v->sort_asc;
    return UI_REDRAW;
}

static unsigned keys_act_window(struct ui *u)
{
    u->since_start = !u->since_start;
    snprintf(u->message, sizeof(u->message), "statistics: %s",
             u->since_start ? "since start" : "rolling window");
    /* The frame may lack the since-start figures (ui_omit): a new one has them. */
    return ui_frame_lacks(u) ? UI_REBUILD : UI_REDRAW;
}

static unsigned keys_act_search(struct ui *u)
{
    return prompt_open(u, UI_PROMPT_SEARCH);
}

static unsigned keys_act_find_next(struct ui *u)
{
    return prompt_find(u, true);
}

static unsigned keys_act_find_prev(struct ui *u)
{
    return prompt_find(u, false);
}

static unsigned keys_act_filter(struct ui *u)
{
    return prompt_open(u, UI_PROMPT_FILTER);
}

static unsigned keys_act_freeze(struct ui *u)
{
    u->frozen = !u->frozen;
    /* Unfreezing shows the present at once rather than at the next tick. Freezing keeps the
     * frame unless it lacks figures a key may show while frozen (ui_omit): then the frame
     * kept is a new, whole one. */
    return u->frozen && !ui_frame_lacks(u) ? UI_REDRAW : UI_REBUILD;
}

static unsigned keys_act_log(struct ui *u)
{
    (void)u;
    return UI_TOGGLE_LOG;
}

static unsigned keys_act_snapshot(struct ui *u)
{
    (void)u;
    return UI_SNAPSHOT;
}

static unsigned keys_act_help(struct ui *u)
{
    u->help = true;
    u->help_top = 0;
    return UI_REDRAW;
}

static unsigned keys_act_redraw(struct ui *u)
{
    (void)u;
    clearok(curscr, TRUE);
    return UI_REDRAW;
}

static unsigned keys_act_quit(struct ui *u)
{
    (void)u;
    return UI_QUIT;
}

/* Every key of nctop. The help screen and man/nctop.1 list these names (tests/check-docs). */
static const struct keys_binding keys_bindings[] = {
    /* keys: begin */
    {{KEY_UP, 'k', 0}, "Up, k", "move up", keys_act_up},
    {{KEY_DOWN, 'j', 0}, "Down, j", "move down", keys_act_down},
    {{KEY_PPAGE, KEYS_CTRL('b'), 0}, "PgUp", "move up a page", keys_act_pgup},
    {{KEY_NPAGE, KEYS_CTRL('f'), 0}, "PgDn", "move down a page", keys_act_pgdn},
    {{KEY_HOME, 'g', 0}, "Home, g", "go to the first line", keys_act_home},
    {{KEY_END, 'G', 0}, "End, G", "go to the last line", keys_act_end},
    {{'\n', '\r', KEY_ENTER, 0},
     "Enter",
     "expand or collapse; Workloads: show that process",
     keys_act_enter},
    {{' ', 0}, "Space", "expand or collapse", keys_act_toggle},
    {{KEY_RIGHT, '+', 'L', 0},
     "Right, +",
     "expand (again: go to the first child)",
     keys_act_expand},
    {{KEY_LEFT, '-', 'H', 0},
     "Left, -",
     "collapse (on a child: go to its parent)",
     keys_act_collapse},
    {{'*', 0}, "*", "expand everything", keys_act_expand_all},
    {{'c', 0}, "c", "collapse everything", keys_act_collapse_all},
    {{'\t', 0}, "Tab", "next view", keys_act_next_view},
    {{KEY_BTAB, 0}, "Shift-Tab", "previous view", keys_act_prev_view},
    {{'1', 0}, "1", "Latency view", keys_act_view_1},
    {{'2', 0}, "2", "Memory view", keys_act_view_2},
    {{'3', 0}, "3", "Kernels view", keys_act_view_3},
    {{'4', 0}, "4", "Workloads view", keys_act_view_4},
    {{'5', 0}, "5", "Threads view", keys_act_view_5},
    {{'6', 0}, "6", "Neuro view (spiking workloads)", keys_act_view_6},
    {{'7', 0}, "7", "Heatmap view (matrices a workload publishes)", keys_act_view_7},
    {{'8', 0}, "8", "Compile view (compilations and their passes)", keys_act_view_compile},
    {{'a', 0}, "a", "Alerts view: pending and firing alerts, the rules", keys_act_view_alerts},
    {{'/', KEY_F(3), 0}, "/, F3", "search a name (moves as you type)", keys_act_search},
    {{'n', 0}, "n", "next match", keys_act_find_next},
    {{'N', 0}, "N", "previous match", keys_act_find_prev},
    {{'\\', KEY_F(4), 0}, "\\, F4", "filter: matching rows and their ancestors", keys_act_filter},
    {{'s', KEY_F(6), '>', '.', 0}, "s, F6, >", "sort by the next column", keys_act_sort_next},
    {{'<', ',', 0}, "<", "sort by the previous column", keys_act_sort_prev},
    {{'I', 0}, "I", "invert the sort order", keys_act_sort_invert},
    {{'w', 0}, "w", "rolling window or since start", keys_act_window},
    {{'p', 0}, "p", "freeze or resume the display", keys_act_freeze},
    {{'l', 0}, "l", "start or stop the JSONL logger", keys_act_log},
    {{'e', 0}, "e", "write a snapshot JSON now", keys_act_snapshot},
    {{'?', 'h', KEY_F(1), 0}, "?, h, F1", "this help", keys_act_help},
    {{KEYS_CTRL('l'), 0}, "Ctrl-L", "redraw the screen", keys_act_redraw},
    {{'q', KEY_F(10), 0}, "q, F10", "quit", keys_act_quit},
    /* keys: end */
};

static const size_t keys_nbindings = sizeof(keys_bindings) / sizeof(keys_bindings[0]);

/* The help lines of the views' own keys. */
static size_t keys_nview_help(void)
{
    size_t n = 0;

    for (int v = 0; v < LAYOUT_NVIEWS; v++) {
        for (size_t i = 0; view_table[v]->help != NULL && view_table[v]->help[i] != NULL; i += 2) {
            n++;
        }
    }
    return n;
}

void keys_help_draw(struct ui *u)
{
    WINDOW *w = u->w_help;
    int h, ww, y = 0;
    size_t line = 0;
    char a[128];

    if (w == NULL) {
        return;
    }
    h = getmaxy(w);
    ww = getmaxx(w);
    werase(w);
    snprintf(a, sizeof(a), "nctop %s: keys (any key closes this screen)", NCTOP_VERSION);
    draw_put(u, w, y++, 0, ww, UI_ROLE_TITLE, a);
    if (u->help_top + (size_t)(h - 1) > keys_nbindings + keys_nview_help() + 2) {
        size_t n = keys_nbindings + keys_nview_help() + 2;

        u->help_top = n > (size_t)(h - 1) ? n - (size_t)(h - 1) : 0;
    }
    for (size_t i = 0; i < keys_nbindings && y < h; i++, line++) {
        if (line < u->help_top) {
            continue;
        }
        draw_put(u, w, y, 1, 16, UI_ROLE_FKEY, keys_bindings[i].names);
        draw_put(u, w, y, 18, ww - 18, UI_ROLE_TEXT, keys_bindings[i].what);
        y++;
    }
    /* Then the keys of views that take their own (they come before the table there). */
    for (int vi = 0; vi < LAYOUT_NVIEWS; vi++) {
        const char *const *vh = view_table[vi]->help;

        for (size_t i = 0; vh != NULL && vh[i] != NULL && y < h; i += 2, line++) {
            if (line < u->help_top) {
                continue;
            }
            draw_put(u, w, y, 1, 16, UI_ROLE_FKEY, vh[i]);
            draw_put(u, w, y, 18, ww - 18, UI_ROLE_TEXT, vh[i + 1]);
            y++;
        }
    }
    if (y < h) {
        snprintf(a, sizeof(a),
                 "Mouse: click selects, click on %s expands, wheel scrolls; "
                 "refresh every %.2gs",
                 u->utf8 ? "▸" : "+", (double)u->delay_ns / 1e9);
        draw_put(u, w, ++y < h ? y : h - 1, 1, ww - 1, UI_ROLE_DIM, a);
    } else if (h > 2) {
        /* cut: the last line says how to see the rest */
        wmove(w, h - 1, 0);
        wclrtoeol(w);
        draw_put(u, w, h - 1, 1, ww - 1, UI_ROLE_DIM, "... more: j or Down scrolls, k or Up back");
    }
    wnoutrefresh(w);
}

unsigned keys_help_key(struct ui *u, int ch)
{
    /* Any key closes the help; arrows scroll it. */
    if (ch == KEY_DOWN || ch == 'j') {
        u->help_top++;
    } else if ((ch == KEY_UP || ch == 'k') && u->help_top > 0) {
        u->help_top--;
    } else if (ch != KEY_MOUSE) {
        u->help = false;
    }
    return UI_REDRAW;
}

unsigned keys_dispatch(struct ui *u, int ch)
{
    struct view *v = ui_current(u);

    /* The shown view's own keys first (the Heatmap's cursor and zoom). */
    if (v->ops->key != NULL) {
        unsigned r = v->ops->key(u, v, ch);

        if (r != 0) {
            return r;
        }
    }
    for (size_t i = 0; i < keys_nbindings; i++) {
        for (size_t k = 0; k < 5 && keys_bindings[i].keys[k] != 0; k++) {
            if (keys_bindings[i].keys[k] == ch) {
                return keys_bindings[i].action(u);
            }
        }
    }
    return 0;
}
