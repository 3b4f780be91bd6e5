/* SPDX-License-Identifier: MIT */
/* The tree views (latency, memory, kernels) on top of the generic tree of ui/tree.c, as tmux's
 * window-tree is on mode-tree: this file draws a tree's lines as table rows and says what each
 * view shows when empty; expansion, selection, sort, filter and search are the tree's. */
#include "ui/ui_internal.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/base/xalloc.h"
#include "src/model/alerts.h"
#include "src/model/rows.h"
#include "ui/tree.h"
#include "ui/view_tree.h"

struct view_tree {
    const struct view_tree_kind *kind;
    struct tree *tree;
    double *mshare; /* shares: of the parent per row, or -1 (rows_memory_shares); else NULL */
    size_t mshare_cap;
    uint64_t mshare_gen; /* the gen of the rows mshare is of (0: none) */
    bool want_valid;     /* want is the name width of the lines of tree version want_version */
    uint64_t want_version;
    int want;
};

static const struct view_tree_kind view_tree_latency = {"no spans yet", true, false, NULL, NULL};
static const struct view_tree_kind view_tree_memory = {"no rows yet", false, true, NULL, NULL};
static const struct view_tree_kind view_tree_kernels = {"no kernel records (nctop_kernel) yet",
                                                        true, false, NULL, NULL};

void *view_tree_new(const struct view_tree_kind *kind, const struct ui_opts *opts)
{
    struct view_tree *vt = xcalloc(1, sizeof(*vt));

    vt->kind = kind;
    vt->tree = tree_new(opts->collapse_depth);
    return vt;
}

static void *view_tree_latency_init(const struct ui_opts *opts)
{
    return view_tree_new(&view_tree_latency, opts);
}

static void *view_tree_memory_init(const struct ui_opts *opts)
{
    return view_tree_new(&view_tree_memory, opts);
}

static void *view_tree_kernels_init(const struct ui_opts *opts)
{
    return view_tree_new(&view_tree_kernels, opts);
}

void view_tree_free(void *data)
{
    struct view_tree *vt = data;

    if (vt == NULL) {
        return;
    }
    tree_free(vt->tree);
    free(vt->mshare);
    free(vt);
}

struct tree *view_tree_tree(struct view *v)
{
    return ((struct view_tree *)v->data)->tree;
}

/* The figures the display's w key picks: the window's or since start. */
static const struct row_stats *view_tree_stats(const struct ui *u, const struct row *r, bool *valid)
{
    if (u->since_start) {
        *valid = (r->flags & ROW_F_ALL) != 0;
        return &r->all;
    }
    *valid = (r->flags & ROW_F_WIN) != 0;
    return &r->win;
}

void view_tree_sort(const struct ui *u, const struct view *v, struct rows_sort *out)
{
    out->key = v->sort_col != UI_SORT_NONE ? layout_col_sort_key((enum layout_col_id)v->sort_col)
                                           : ROWS_SORT_NONE;
    /* Names read A to Z; figures largest first (htop); 'I' inverts either. */
    out->reverse = v->sort_asc;
    out->since_start = u->since_start;
}

/* Flatten the tree over the frame's rows with the view's sort: the one rows_sort does for the
 * text report too, so the display and --once cannot disagree. */
void view_tree_prepare(struct ui *u, struct view *v)
{
    struct view_tree *vt = v->data;
    const struct rows *rows = u->frame != NULL ? u->frame->rows : NULL;
    struct rows_sort sort;

    view_tree_sort(u, v, &sort);

    if (vt->kind->shares && rows != NULL && rows->n > 0 &&
        (rows->gen == 0 || rows->gen != vt->mshare_gen)) {
        if (rows->n > vt->mshare_cap) {
            vt->mshare_cap = rows->n * 2;
            vt->mshare = xreallocarray(vt->mshare, vt->mshare_cap, sizeof(*vt->mshare));
        }
        rows_memory_shares(rows, vt->mshare);
        vt->mshare_gen = rows->gen;
    }
    tree_flatten(vt->tree, rows, &sort);
    /* A sort by a window figure the frame left for later that the store no longer has. */
    if (tree_incomplete(vt->tree)) {
        u->stale = true;
    }
}

/* The tab line: the statistics' span, the sort and the filter. */
void view_tree_tabs(struct ui *u, struct view *v, WINDOW *w, int x)
{
    struct view_tree *vt = v->data;
    const char *filter = tree_filter(vt->tree);
    int ww = getmaxx(w);
    char a[64];

    if (vt->kind->windowed) {
        if (u->since_start) {
            snprintf(a, sizeof(a), "since start  ");
        } else {
            snprintf(a, sizeof(a), "window %.0fs  ",
                     u->frame ? (double)u->frame->window_ns / 1e9 : 0.0);
        }
        x += draw_put(u, w, 0, x, ww - x, UI_ROLE_DIM, a);
    }
    if (v->sort_col != UI_SORT_NONE) {
        snprintf(a, sizeof(a), "sort %s%s  ", layout_col_name((enum layout_col_id)v->sort_col),
                 v->sort_asc ? "+" : "");
        x += draw_put(u, w, 0, x, ww - x, UI_ROLE_DIM, a);
    }
    if (filter[0] != '\0') {
        snprintf(a, sizeof(a), "filter: %s", filter);
        draw_put(u, w, 0, x, ww - x, UI_ROLE_MATCH, a);
    }
}

/* The longest indented name of the visible lines. */
int view_tree_name_want(struct ui *u, struct view *v)
{
    struct view_tree *vt = v->data;
    const struct rows *rows = u->frame ? u->frame->rows : NULL;
    int want = 0;

    if (rows == NULL) {
        return 0;
    }
    /* The same lines as last time (a redraw after a key): the same width. */
    if (vt->want_valid && vt->want_version == tree_set_version(vt->tree)) {
        return vt->want;
    }
    for (size_t i = 0; i < tree_nlines(vt->tree); i++) {
        const struct tree_line *ln = tree_line_at(vt->tree, i);
        const char *l;
        size_t len;
        int n;

        if (ln->row >= rows->n) {
            continue; /* lines of an earlier frame's rows (not flattened again yet) */
        }
        l = rows->v[ln->row].label;
        len = strlen(l);

        /* A label takes at most one column a byte: count its columns only when that bound
         * passes the longest so far. */
        if (2 * (size_t)ln->level + 2 + len <= (size_t)want) {
            continue;
        }
        n = 2 * ln->level + 2 + draw_cols(l, len);
        want = n > want ? n : want;
    }
    vt->want = want + 1;
    vt->want_version = tree_set_version(vt->tree);
    vt->want_valid = true;
    return vt->want;
}

/* Whether a firing alert names this row of the shown process (a pool past its limit, a path
 * slower than its baseline): the row is drawn in the warning colour. */
static bool view_tree_alerted(const struct ui *u, const struct row *r)
{
    const struct rows_summary *s = ui_shown(u);
    const struct alerts *a = u->frame->alerts;

    for (size_t i = 0; s != NULL && i < alerts_count(a); i++) {
        const struct alert *al = alerts_at(a, i);

        if (al->state == ALERT_FIRING && al->row && al->pid == s->pid &&
            strcmp(al->object, r->path) == 0) {
            return true;
        }
    }
    return false;
}

static void view_tree_line(struct ui *u, const struct view_tree *vt, WINDOW *w, int y,
                           const struct tree_line *ln, bool selected)
{
    const struct row *r = &u->frame->rows->v[ln->row];
    enum ui_role base = selected                  ? UI_ROLE_SELECT
                        : view_tree_alerted(u, r) ? UI_ROLE_WARN
                        : vt->kind->role != NULL  ? vt->kind->role(r)
                                                  : UI_ROLE_TEXT;
    bool valid;
    const struct row_stats *s;
    char a[32];

    /* The window's percentiles the frame left for the rows drawn. */
    if (!u->since_start && r->win.pending != 0 &&
        !rows_resolve(u->frame->rows, ln->row, ROW_S_P50 | ROW_S_P95 | ROW_S_P99)) {
        u->stale = true;
    }
    s = view_tree_stats(u, r, &valid);

    if (selected) {
        draw_fill(u, w, y, UI_ROLE_SELECT);
    }
    for (size_t i = 0; i < u->ncols; i++) {
        const struct layout_place *p = &u->cols[i];

        switch (p->id) {
        case LAYOUT_COL_NAME: {
            int x = p->x, indent = 2 * ln->level;
            const char *mark = " ";

            if (indent > p->w - 3) {
                indent = p->w - 3 > 0 ? p->w - 3 : 0;
            }
            x += indent;
            if (ln->has_children) {
                mark = ln->expanded ? (u->utf8 ? "▾" : "-") : (u->utf8 ? "▸" : "+");
            }
            x += draw_put(u, w, y, x, p->x + p->w - x, selected ? base : UI_ROLE_DIM, mark);
            x += draw_put(u, w, y, x, p->x + p->w - x, base, " ");
            draw_put(u, w, y, x, p->x + p->w - x, ln->match && !selected ? UI_ROLE_MATCH : base,
                     r->label);
            break;
        }
        case LAYOUT_COL_LAST:
            draw_cell_ns(u, w, y, p,
                         rows_stat_known(s, (r->flags & (ROW_F_WIN | ROW_F_ALL | ROW_F_LAST)) != 0,
                                         ROW_S_LAST),
                         s->last_ns, base);
            break;
        case LAYOUT_COL_MEAN:
            draw_cell_ns(u, w, y, p, rows_stat_known(s, valid, ROW_S_MEAN), s->mean_ns, base);
            break;
        case LAYOUT_COL_P50:
            draw_cell_ns(u, w, y, p, rows_stat_known(s, valid, ROW_S_P50), s->p50_ns, base);
            break;
        case LAYOUT_COL_P95:
            draw_cell_ns(u, w, y, p, rows_stat_known(s, valid, ROW_S_P95), s->p95_ns, base);
            break;
        case LAYOUT_COL_P99:
            draw_cell_ns(u, w, y, p, rows_stat_known(s, valid, ROW_S_P99), s->p99_ns, base);
            break;
        case LAYOUT_COL_MAX:
            draw_cell_ns(u, w, y, p, rows_stat_known(s, valid, ROW_S_MAX), s->max_ns, base);
            break;
        case LAYOUT_COL_TOTAL:
            draw_cell_ns(u, w, y, p, rows_stat_known(s, valid, ROW_S_TOTAL), s->total_ns, base);
            break;
        case LAYOUT_COL_COUNT:
            if ((s->absent & ROW_S_COUNT) != 0) {
                snprintf(a, sizeof(a), "-");
            } else {
                draw_fmt_count(valid ? s->count : 0, a, sizeof(a));
            }
            draw_put_right(u, w, y, p->x, p->w, base, a);
            break;
        case LAYOUT_COL_SHARE:
            if (r->kind == ROW_MEMORY && vt->mshare != NULL) {
                draw_cell_share(u, w, y, p, vt->mshare[ln->row] >= 0, vt->mshare[ln->row], base);
            } else {
                draw_cell_share(u, w, y, p, (r->flags & ROW_F_SHARE) != 0, r->share_pct, base);
            }
            break;
        case LAYOUT_COL_CURRENT:
            draw_cell_bytes(u, w, y, p, true, r->bytes, base);
            break;
        case LAYOUT_COL_PEAK:
            draw_cell_bytes(u, w, y, p, (r->flags & ROW_F_PEAK) != 0, r->peak_bytes, base);
            break;
        case LAYOUT_COL_CAPACITY:
            draw_cell_bytes(u, w, y, p, (r->flags & ROW_F_CAPACITY) != 0,
                            (int64_t)r->capacity_bytes, base);
            break;
        case LAYOUT_COL_BACKEND:
            draw_put(u, w, y, p->x, p->w, base, r->backend != NULL ? r->backend : "-");
            break;
        case LAYOUT_COL_DP99:
        case LAYOUT_COL_DMEAN: {
            /* Against the figure shown (window, or since start): slower is a warning. */
            uint32_t bit = p->id == LAYOUT_COL_DP99 ? ROW_S_P99 : ROW_S_MEAN;
            double d = 0, pct;
            bool known = rows_base_delta(r, s, valid, bit, &d, &pct);

            enum ui_role role = known ? base : UI_ROLE_DIM;

            if (known && d > 0 && !selected) {
                role = UI_ROLE_WARN;
            } else if (selected) {
                role = base;
            }
            rows_format_delta(r, s, valid, bit, a, sizeof(a));
            draw_put_right(u, w, y, p->x, p->w, role, a);
            break;
        }
        /* A fleet's row: the spread of p99 across its members, the slowest named. */
        case LAYOUT_COL_P99_MIN:
            draw_cell_ns(u, w, y, p, (r->flags & ROW_F_SPREAD) != 0, r->spread_min_ns, base);
            break;
        case LAYOUT_COL_P99_MED:
            draw_cell_ns(u, w, y, p, (r->flags & ROW_F_SPREAD) != 0, r->spread_median_ns, base);
            break;
        case LAYOUT_COL_P99_MAX:
            draw_cell_ns(u, w, y, p, (r->flags & ROW_F_SPREAD) != 0, r->spread_max_ns, base);
            break;
        case LAYOUT_COL_SLOWEST:
            draw_put(u, w, y, p->x, p->w,
                     (r->flags & ROW_F_SPREAD) != 0 && r->spread_n > 1 && !selected ? UI_ROLE_WARN
                                                                                    : base,
                     (r->flags & ROW_F_SPREAD) != 0 && r->slowest != NULL ? r->slowest : "-");
            break;
        default:
            if (vt->kind->cell != NULL) {
                vt->kind->cell(u, w, y, p, u->frame->rows, r, base);
            }
            break;
        }
    }
}

void view_tree_draw(struct ui *u, struct view *v, WINDOW *w)
{
    struct view_tree *vt = v->data;
    struct tree *t = vt->tree;
    int h = getmaxy(w);
    size_t top;

    if (u->frame == NULL || u->frame->rows == NULL || tree_nlines(t) == 0) {
        const char *why = vt->kind->empty;

        if (tree_filter(t)[0] != '\0') {
            why = "no row matches the filter (\\ to change it)";
        } else if (ui_shown(u) == NULL) {
            why = "no workload: start a program linked with libnctop, or run nctop --demo";
        }
        draw_put(u, w, 0, 1, getmaxx(w) - 1, UI_ROLE_DIM, why);
        return;
    }
    tree_scroll(t, (size_t)h);
    top = tree_top(t);
    for (int y = 0; y < h && top + (size_t)y < tree_nlines(t); y++) {
        size_t i = top + (size_t)y;

        view_tree_line(u, vt, w, y, tree_line_at(t, i), i == tree_selected(t));
    }
}

size_t view_tree_length(struct ui *u, struct view *v)
{
    (void)u;
    return tree_nlines(view_tree_tree(v));
}

unsigned view_tree_move_by(struct ui *u, struct view *v, long delta)
{
    (void)u;
    return tree_move(view_tree_tree(v), delta) ? UI_REDRAW : 0;
}

/* Enter expands or collapses the selected line. */
unsigned view_tree_enter(struct ui *u, struct view *v)
{
    (void)u;
    return tree_toggle(view_tree_tree(v)) ? UI_REDRAW : 0;
}

/* A click selects the line; on the marker (or next to it) it also expands or collapses. */
unsigned view_tree_click(struct ui *u, struct view *v, int row, int x)
{
    struct tree *t = view_tree_tree(v);
    size_t line = tree_top(t) + (size_t)row;
    const struct tree_line *ln = tree_line_at(t, line);
    unsigned r;
    int mx;

    if (ln == NULL) {
        return 0;
    }
    r = tree_select(t, line) ? UI_REDRAW : 0;
    mx = u->ncols > 0 ? u->cols[0].x + 2 * ln->level : 2 * ln->level;
    if (ln->has_children && x >= mx - 1 && x <= mx + 1 && tree_toggle(t)) {
        r |= UI_REDRAW;
    }
    return r;
}

const struct view_ops view_latency_ops = {
    .title = "Latency",
    .header = HEADER_ALL,
    .init = view_tree_latency_init,
    .free = view_tree_free,
    .tree = view_tree_tree,
    .prepare = view_tree_prepare,
    .tabs = view_tree_tabs,
    .name_want = view_tree_name_want,
    .draw = view_tree_draw,
    .length = view_tree_length,
    .move_by = view_tree_move_by,
    .enter = view_tree_enter,
    .click = view_tree_click,
};

const struct view_ops view_memory_ops = {
    .title = "Memory",
    .header = HEADER_ALL,
    .init = view_tree_memory_init,
    .free = view_tree_free,
    .tree = view_tree_tree,
    .prepare = view_tree_prepare,
    .tabs = view_tree_tabs,
    .name_want = view_tree_name_want,
    .draw = view_tree_draw,
    .length = view_tree_length,
    .move_by = view_tree_move_by,
    .enter = view_tree_enter,
    .click = view_tree_click,
};

const struct view_ops view_kernels_ops = {
    .title = "Kernels",
    .header = HEADER_ALL,
    .init = view_tree_kernels_init,
    .free = view_tree_free,
    .tree = view_tree_tree,
    .prepare = view_tree_prepare,
    .tabs = view_tree_tabs,
    .name_want = view_tree_name_want,
    .draw = view_tree_draw,
    .length = view_tree_length,
    .move_by = view_tree_move_by,
    .enter = view_tree_enter,
    .click = view_tree_click,
};
