/* SPDX-License-Identifier: MIT */
/* The Compile view: a process's compilations (rows_build_compile), newest first, with their
 * target, result, wall time, memory, peak and the estimated energy of what they made, each
 * expandable into its pass tree (time, share of the compilation, memory delta); failed ones
 * in the warning colour with their message. Above the tree, a totals line and a histogram of
 * the window's compile durations. A kind of the shared tree view (ui/view_tree.c):
 * expansion, sort, search and filter are the tree's. */
#include "ui/ui_internal.h"

#include <stdio.h>
#include <string.h>

#include "src/model/rows.h"
#include "ui/view_tree.h"

#define VIEW_COMPILE_HINTS 2 /* the totals line and the histogram */

/* Bar heights in eighths of a cell, and their plain stand-ins. */
static const char *const view_compile_blocks[9] = {" ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
static const char view_compile_ascii[9] = {' ', '.', '.', ':', '-', '=', '+', '*', '#'};

static enum ui_role view_compile_role(const struct row *r)
{
    return r->failed > 0 ? UI_ROLE_WARN : UI_ROLE_TEXT;
}

static void view_compile_cell(struct ui *u, WINDOW *w, int y, const struct layout_place *p,
                              const struct rows *rows, const struct row *r, enum ui_role base)
{
    enum ui_role dim = base == UI_ROLE_SELECT ? base : UI_ROLE_DIM;
    char a[32];

    (void)rows;
    switch (p->id) {
    case LAYOUT_COL_TARGET:
        draw_put(u, w, y, p->x, p->w, r->backend != NULL ? base : dim,
                 r->backend != NULL ? r->backend : (r->level == 0 ? "-" : ""));
        break;
    case LAYOUT_COL_RESULT:
        if (r->level == 0) {
            draw_put(u, w, y, p->x, p->w, r->ok + r->failed > 0 ? base : dim,
                     r->failed > 0 ? "error"
                     : r->ok > 0   ? "ok"
                                   : "-");
        }
        break;
    case LAYOUT_COL_ESTEP:
        if ((r->flags & ROW_F_ENERGY) != 0) {
            draw_fmt_si(r->energy_j, "J", a, sizeof(a));
            draw_put_right(u, w, y, p->x, p->w, base, a);
        } else if (r->level == 0) {
            draw_put_right(u, w, y, p->x, p->w, dim, "-");
        }
        break;
    case LAYOUT_COL_MESSAGE:
        /* The last column runs to the edge: messages are long. */
        if (r->last_error != NULL) {
            int wd = p == &u->cols[u->ncols - 1] ? getmaxx(w) - p->x : p->w;

            draw_put(u, w, y, p->x, wd, base, r->last_error);
        }
        break;
    default:
        break;
    }
}

static const struct view_tree_kind view_compile_kind = {
    .empty = "no compilations: spans that end with a status or carry attributes (nctop --demo "
             "compile)",
    .windowed = false,
    .shares = false,
    .cell = view_compile_cell,
    .role = view_compile_role,
};

static void *view_compile_init(const struct ui_opts *opts)
{
    struct ui_opts o = *opts;

    /* Compilations arrive by the hundred: each starts folded, Enter shows its passes. */
    o.collapse_depth = 0;
    return view_tree_new(&view_compile_kind, &o);
}

/* The lines above the tree: the totals and the histogram, while the body has room for them
 * and one line of the tree. */
static int view_compile_hint_lines(struct ui *u, struct view *v)
{
    int h = u->lay.body.h - 1;

    (void)v;
    return h < 0 ? 0 : h < VIEW_COMPILE_HINTS ? h : VIEW_COMPILE_HINTS;
}

static double view_compile_pct(uint64_t part, uint64_t whole)
{
    return whole > 0 ? 100.0 * (double)part / (double)whole : 0.0;
}

/* "N compilations: a ok, b failed (s% ok)  window Ts: n, s% ok". */
static void view_compile_totals(struct ui *u, WINDOW *w, const struct rows_compile_sum *c)
{
    int ww = getmaxx(w), x = 1;
    char a[160];

    snprintf(a, sizeof(a), "%llu compilation%s: ", (unsigned long long)c->total,
             c->total == 1 ? "" : "s");
    x += draw_put(u, w, 0, x, ww - x, UI_ROLE_TEXT, a);
    snprintf(a, sizeof(a), "%llu ok", (unsigned long long)c->ok);
    x += draw_put(u, w, 0, x, ww - x, UI_ROLE_VALUE, a);
    x += draw_put(u, w, 0, x, ww - x, UI_ROLE_TEXT, ", ");
    snprintf(a, sizeof(a), "%llu failed", (unsigned long long)c->failed);
    x += draw_put(u, w, 0, x, ww - x, c->failed > 0 ? UI_ROLE_WARN : UI_ROLE_VALUE, a);
    if (c->ok + c->failed > 0) {
        snprintf(a, sizeof(a), " (%.1f%% ok)", view_compile_pct(c->ok, c->ok + c->failed));
        x += draw_put(u, w, 0, x, ww - x, UI_ROLE_TEXT, a);
    }
    snprintf(a, sizeof(a), "   window %.0fs: %llu",
             u->frame != NULL ? (double)u->frame->window_ns / 1e9 : 0.0,
             (unsigned long long)c->win_n);
    x += draw_put(u, w, 0, x, ww - x, UI_ROLE_DIM, a);
    if (c->win_ok + c->win_failed > 0) {
        snprintf(a, sizeof(a), ", %.1f%% ok",
                 view_compile_pct(c->win_ok, c->win_ok + c->win_failed));
        draw_put(u, w, 0, x, ww - x, UI_ROLE_DIM, a);
    }
}

/* "time <shortest> <bars> <longest>": the window's durations, log-spaced bins merged to fit. */
static void view_compile_hist(struct ui *u, WINDOW *w, int y, const struct rows_compile_sum *c)
{
    int ww = getmaxx(w), x = 1, cells;
    uint32_t v[ROWS_COMPILE_BINS], top = 0;
    char lo[16], hi[16], bars[ROWS_COMPILE_BINS * 4 + 1];
    size_t k = 0;

    if (c->win_n == 0) {
        draw_put(u, w, y, x, ww - x, UI_ROLE_DIM, "time: no compilation ended in the window");
        return;
    }
    draw_fmt_ns(c->win_min_ns, lo, sizeof(lo));
    draw_fmt_ns(c->win_max_ns, hi, sizeof(hi));
    x += draw_put(u, w, y, x, ww - x, UI_ROLE_TEXT, "time ");
    x += draw_put(u, w, y, x, ww - x, UI_ROLE_VALUE, lo);
    cells = ww - x - 3 - (int)strlen(hi);
    if (cells > ROWS_COMPILE_BINS) {
        cells = ROWS_COMPILE_BINS;
    }
    if (cells < 1) {
        return;
    }
    for (int i = 0; i < cells; i++) {
        int b0 = i * ROWS_COMPILE_BINS / cells, b1 = (i + 1) * ROWS_COMPILE_BINS / cells;

        v[i] = 0;
        for (int b = b0; b < b1; b++) {
            v[i] += c->bins[b];
        }
        top = v[i] > top ? v[i] : top;
    }
    for (int i = 0; i < cells; i++) {
        /* a bin with any compilation shows at least the lowest block */
        unsigned e = (unsigned)((8ULL * v[i] + top - 1U) / top);

        if (u->utf8) {
            size_t n = strlen(view_compile_blocks[e]);

            memcpy(bars + k, view_compile_blocks[e], n);
            k += n;
        } else {
            bars[k++] = view_compile_ascii[e];
        }
    }
    bars[k] = '\0';
    x += draw_put(u, w, y, x, ww - x, UI_ROLE_TEXT, " ");
    x += draw_put(u, w, y, x, ww - x, UI_ROLE_BAR, bars);
    x += draw_put(u, w, y, x, ww - x, UI_ROLE_TEXT, " ");
    draw_put(u, w, y, x, ww - x, UI_ROLE_VALUE, hi);
}

static void view_compile_draw(struct ui *u, struct view *v, WINDOW *w)
{
    const struct rows_summary *s = ui_shown(u);
    int k = view_compile_hint_lines(u, v), h = getmaxy(w);
    WINDOW *sub;

    if (k > h - 1) {
        k = h > 1 ? h - 1 : 0;
    }
    if (k > 0 && s != NULL) {
        view_compile_totals(u, w, &s->compile);
        if (k > 1) {
            view_compile_hist(u, w, 1, &s->compile);
        }
    }
    if (k == 0) {
        view_tree_draw(u, v, w);
        return;
    }
    /* The tree below the hint lines: a subwindow shares the body's cells. */
    sub = derwin(w, h - k, getmaxx(w), k, 0);
    if (sub == NULL) {
        return;
    }
    view_tree_draw(u, v, sub);
    delwin(sub);
}

static unsigned view_compile_click(struct ui *u, struct view *v, int row, int x)
{
    row -= view_compile_hint_lines(u, v);
    return row >= 0 ? view_tree_click(u, v, row, x) : 0;
}

const struct view_ops view_compile_ops = {
    .title = "Compile",
    .header = HEADER_ALL,
    .hint_lines = view_compile_hint_lines,
    .init = view_compile_init,
    .free = view_tree_free,
    .tree = view_tree_tree,
    .prepare = view_tree_prepare,
    .tabs = view_tree_tabs,
    .name_want = view_tree_name_want,
    .draw = view_compile_draw,
    .length = view_tree_length,
    .move_by = view_tree_move_by,
    .enter = view_tree_enter,
    .click = view_compile_click,
};
