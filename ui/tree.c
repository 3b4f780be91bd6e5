/* SPDX-License-Identifier: MIT */
/* The tree of a view, rebuilt from rows on every frame and flattened to visible lines. The
 * state that must survive rebuilds (explicit expand/collapse choices, the selection) is keyed
 * by row path hash, never by row index or pointer (tmux mode-tree does the same with tags). */
#include "ui/tree.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/base/hmap.h"
#include "src/base/xalloc.h"
#include "src/model/rows.h"

#define TREE_NONE UINT32_MAX
#define TREE_STATE_EXPANDED 1
#define TREE_STATE_COLLAPSED 2
#define TREE_FILTER_MAX 128

struct tree {
    unsigned collapse_depth;
    struct hmap state;       /* explicit choices: path hash -> TREE_STATE_* (the hash is the key) */
    const struct rows *rows; /* borrowed: the rows of the last flatten */
    uint64_t rows_gen;       /* their gen then (struct rows) */
    uint64_t version;        /* flattens so far: the lines may have changed when it moved */
    uint64_t set_version;    /* moves when which lines are shown may have changed */
    struct rows_sort sort;

    /* What the per-row arrays below were made for, so that rows of the same shape (struct
     * rows: the same paths at the same indexes) are not linked or matched again. */
    uint64_t link_shape; /* parent, kid_off and kids are of rows of this shape (0: none) */
    size_t link_n;       /* ... and this many rows */
    bool kids_sorted;    /* the groups of kids are in a sort's order, not the builder's */
    bool marked;         /* match and show are of those rows and the current filter */
    uint64_t sorted_gen; /* order is of rows of this gen sorted by sorted_by (0: none) */
    bool incomplete;     /* that sort lacked keys (rows_sort_groups): tree_incomplete */
    struct rows_sort sorted_by;

    /* Per row of the last flatten, sized cap. */
    uint32_t *parent;  /* row index or ROWS_NO_PARENT */
    uint32_t *kids;    /* children of every node, grouped by parent (CSR), each group in
                        * display order after a flatten */
    uint32_t *kid_off; /* kids of row i: kids[kid_off[i] .. kid_off[i + 1]); roots at n */
    uint32_t *order;   /* every row in sorted depth-first order (rows_sort) */
    uint16_t *level;   /* the rows' levels, read here rather than from rows spread wide */
    uint8_t *match;    /* label contains the filter */
    uint8_t *show;     /* match, or a descendant matches */
    size_t cap;

    struct tree_line *lines;
    size_t nlines;
    size_t lines_cap;

    uint64_t sel_hash;
    bool have_sel;
    size_t sel;
    size_t top;
    char filter[TREE_FILTER_MAX];
};

static int tree_map_get(const struct hmap *m, uint64_t hash)
{
    uint32_t v = hmap_find(m, hash, NULL, NULL);

    return v == HMAP_NONE ? 0 : (int)v;
}

static void tree_map_put(struct hmap *m, uint64_t hash, uint8_t val)
{
    if (!hmap_replace(m, hash, NULL, NULL, val)) {
        hmap_insert(m, hash, val);
    }
}

struct tree *tree_new(unsigned collapse_depth)
{
    struct tree *t = xcalloc(1, sizeof(*t));

    t->collapse_depth = collapse_depth;
    return t;
}

void tree_free(struct tree *t)
{
    if (t == NULL) {
        return;
    }
    hmap_free(&t->state);
    free(t->parent);
    free(t->kids);
    free(t->kid_off);
    free(t->order);
    free(t->level);
    free(t->match);
    free(t->show);
    free(t->lines);
    free(t);
}

static void tree_reserve(struct tree *t, size_t n)
{
    if (n + 2 <= t->cap) {
        return;
    }
    t->cap = (n + 2) * 2;
    t->parent = xreallocarray(t->parent, t->cap, sizeof(*t->parent));
    t->kids = xreallocarray(t->kids, t->cap, sizeof(*t->kids));
    t->kid_off = xreallocarray(t->kid_off, t->cap, sizeof(*t->kid_off));
    t->order = xreallocarray(t->order, t->cap, sizeof(*t->order));
    t->level = xreallocarray(t->level, t->cap, sizeof(*t->level));
    t->match = xreallocarray(t->match, t->cap, sizeof(*t->match));
    t->show = xreallocarray(t->show, t->cap, sizeof(*t->show));
    t->lines = xreallocarray(t->lines, t->cap, sizeof(*t->lines));
    t->lines_cap = t->cap;
}

static bool tree_is_expanded(const struct tree *t, const struct row *r)
{
    int s = tree_map_get(&t->state, r->path_hash);

    if (s != 0) {
        return s == TREE_STATE_EXPANDED;
    }
    return r->level < t->collapse_depth;
}

/* Parents from levels (rows_parents, as the sort sees them), then the children of every
 * node, for the expansion marks and the filter. */
static void tree_link(struct tree *t)
{
    size_t n = t->rows->n;

    rows_parents(t->rows, t->parent);
    /* Group children by parent (counting sort keeps the builder's order within a group). */
    memset(t->kid_off, 0, (n + 2) * sizeof(*t->kid_off));
    for (size_t i = 0; i < n; i++) {
        uint32_t p = t->parent[i] == ROWS_NO_PARENT ? (uint32_t)n : t->parent[i];

        t->kid_off[p + 1]++;
        t->level[i] = t->rows->v[i].level;
    }
    for (size_t i = 0; i < n + 1; i++) {
        t->kid_off[i + 1] += t->kid_off[i];
    }
    /* Place with a moving cursor per parent (order[] as scratch). */
    memcpy(t->order, t->kid_off, (n + 1) * sizeof(*t->order));
    for (size_t i = 0; i < n; i++) {
        uint32_t p = t->parent[i] == ROWS_NO_PARENT ? (uint32_t)n : t->parent[i];

        t->kids[t->order[p]++] = (uint32_t)i;
    }
}

static void tree_mark_filter(struct tree *t)
{
    size_t n = t->rows->n;

    for (size_t i = 0; i < n; i++) {
        t->match[i] = t->filter[0] != '\0' && strcasestr(t->rows->v[i].label, t->filter) != NULL;
        t->show[i] = t->match[i];
    }
    /* Descendants follow their ancestors, so one backward pass lifts "show" to the roots. */
    for (size_t i = n; i-- > 0;) {
        if (t->show[i] && t->parent[i] != ROWS_NO_PARENT) {
            t->show[t->parent[i]] = 1;
        }
    }
}

static bool tree_has_shown_kid(const struct tree *t, uint32_t i, bool filtering)
{
    for (uint32_t j = t->kid_off[i]; j < t->kid_off[i + 1]; j++) {
        if (!filtering || t->show[t->kids[j]]) {
            return true;
        }
    }
    return false;
}

static void tree_find_selection(struct tree *t)
{
    if (t->have_sel) {
        for (size_t i = 0; i < t->nlines; i++) {
            if (t->rows->v[t->lines[i].row].path_hash == t->sel_hash) {
                t->sel = i;
                return;
            }
        }
    }
    /* The selected row is gone: stay at the same place on screen. */
    if (t->sel >= t->nlines) {
        t->sel = t->nlines > 0 ? t->nlines - 1 : 0;
    }
    t->have_sel = t->nlines > 0;
    if (t->have_sel) {
        t->sel_hash = t->rows->v[t->lines[t->sel].row].path_hash;
    }
}

static bool tree_same_sort(const struct rows_sort *a, const struct rows_sort *b)
{
    return a->key == b->key && a->reverse == b->reverse && a->since_start == b->since_start;
}

/* Link, sort and match what the rows need: rows of the shape linked last keep their parents
 * and children, their groups of kids start from the order of the last sort (mostly the order
 * of this one: the sort has little to move), and their filter marks; rows of the gen sorted
 * last, the same way, keep their order. */
static void tree_prepare(struct tree *t)
{
    const struct rows *rows = t->rows;
    size_t n = rows->n;
    bool same = rows->shape != 0 && rows->shape == t->link_shape && n == t->link_n;

    if (!same || (t->sort.key == ROWS_SORT_NONE && t->kids_sorted)) {
        tree_reserve(t, n);
        tree_link(t);
        t->link_shape = rows->shape;
        t->link_n = n;
        t->kids_sorted = false;
        t->sorted_gen = 0; /* order[] was the scratch of the link */
        if (!same) {
            t->marked = false;
            t->set_version++;
        }
    }
    if (t->sorted_gen == 0 || rows->gen == 0 || rows->gen != t->sorted_gen ||
        !tree_same_sort(&t->sort, &t->sorted_by)) {
        /* The parents and children linked are the ones rows_sort would link again. */
        t->incomplete = !rows_sort_groups(rows, &t->sort, t->parent, t->kid_off, t->kids, t->order);
        t->kids_sorted = t->sort.key != ROWS_SORT_NONE;
        t->sorted_gen = rows->gen;
        t->sorted_by = t->sort;
    }
    if (!t->marked) {
        tree_mark_filter(t);
        t->marked = true;
    }
}

static void tree_reflatten(struct tree *t)
{
    const struct rows *rows = t->rows;
    bool filtering = t->filter[0] != '\0';
    size_t n = rows != NULL ? rows->n : 0, skip_below = SIZE_MAX;

    t->nlines = 0;
    t->version++;
    if (n == 0) {
        t->link_shape = 0;
        t->incomplete = false;
        t->set_version++;
        tree_find_selection(t);
        return;
    }
    tree_prepare(t);
    for (size_t k = 0; k < n; k++) {
        uint32_t i = t->order[k];
        struct tree_line *ln;
        size_t lvl = t->level[i];

        /* Inside a collapsed subtree: skip until we climb back to its level. */
        if (skip_below != SIZE_MAX) {
            if (lvl > skip_below) {
                continue;
            }
            skip_below = SIZE_MAX;
        }
        if (filtering && !t->show[i]) {
            continue;
        }
        ln = &t->lines[t->nlines++];
        ln->row = i;
        ln->level = (uint16_t)lvl;
        ln->match = t->match[i];
        ln->has_children = tree_has_shown_kid(t, i, filtering);
        /* A filter opens the way to every match; otherwise the user's choice or the default
         * depth decides. */
        ln->expanded = ln->has_children && (filtering || tree_is_expanded(t, &rows->v[i]));
        if (ln->has_children && !ln->expanded) {
            skip_below = lvl;
        }
    }
    tree_find_selection(t);
}

void tree_flatten(struct tree *t, const struct rows *rows, const struct rows_sort *sort)
{
    struct rows_sort s = sort != NULL ? *sort : (struct rows_sort){.key = ROWS_SORT_NONE};

    /* The same rows in the same order as last time (a redraw after a key that moved the
     * selection, say): the lines are current, since every change of the expansion or of the
     * filter flattens again at once. */
    if (rows != NULL && rows == t->rows && rows->gen != 0 && rows->gen == t->rows_gen &&
        s.key == t->sort.key && s.reverse == t->sort.reverse &&
        s.since_start == t->sort.since_start) {
        return;
    }
    t->rows = rows;
    t->rows_gen = rows != NULL ? rows->gen : 0;
    t->sort = s;
    tree_reflatten(t);
}

uint64_t tree_version(const struct tree *t)
{
    return t->version;
}

uint64_t tree_set_version(const struct tree *t)
{
    return t->set_version;
}

bool tree_incomplete(const struct tree *t)
{
    return t->incomplete;
}

size_t tree_nlines(const struct tree *t)
{
    return t->nlines;
}

const struct tree_line *tree_line_at(const struct tree *t, size_t i)
{
    return i < t->nlines ? &t->lines[i] : NULL;
}

size_t tree_selected(const struct tree *t)
{
    return t->sel;
}

size_t tree_top(const struct tree *t)
{
    return t->top;
}

void tree_scroll(struct tree *t, size_t height)
{
    if (height == 0) {
        return;
    }
    if (t->sel < t->top) {
        t->top = t->sel;
    } else if (t->sel >= t->top + height) {
        t->top = t->sel - height + 1;
    }
    /* No empty space below the last line while lines remain above. */
    if (t->top + height > t->nlines) {
        t->top = t->nlines > height ? t->nlines - height : 0;
    }
}

bool tree_select(struct tree *t, size_t line)
{
    if (line >= t->nlines || (line == t->sel && t->have_sel)) {
        return false;
    }
    t->sel = line;
    t->sel_hash = t->rows->v[t->lines[line].row].path_hash;
    t->have_sel = true;
    return true;
}

bool tree_move(struct tree *t, long delta)
{
    long target = (long)t->sel + delta;

    if (t->nlines == 0) {
        return false;
    }
    if (target < 0) {
        target = 0;
    }
    if (target >= (long)t->nlines) {
        target = (long)t->nlines - 1;
    }
    return tree_select(t, (size_t)target);
}

static void tree_set_state(struct tree *t, size_t line, bool expanded)
{
    const struct row *r = &t->rows->v[t->lines[line].row];

    tree_map_put(&t->state, r->path_hash, expanded ? TREE_STATE_EXPANDED : TREE_STATE_COLLAPSED);
}

bool tree_toggle(struct tree *t)
{
    const struct tree_line *ln = tree_line_at(t, t->sel);

    if (ln == NULL || !ln->has_children || t->filter[0] != '\0') {
        return false;
    }
    tree_set_state(t, t->sel, !ln->expanded);
    t->set_version++;
    tree_reflatten(t);
    return true;
}

bool tree_expand(struct tree *t)
{
    const struct tree_line *ln = tree_line_at(t, t->sel);

    if (ln == NULL || !ln->has_children) {
        return false;
    }
    if (ln->expanded) {
        return tree_move(t, 1); /* htop/mc: → on an open node steps into it */
    }
    tree_set_state(t, t->sel, true);
    t->set_version++;
    tree_reflatten(t);
    return true;
}

bool tree_collapse(struct tree *t)
{
    const struct tree_line *ln = tree_line_at(t, t->sel);
    uint32_t parent;

    if (ln == NULL) {
        return false;
    }
    if (ln->has_children && ln->expanded && t->filter[0] == '\0') {
        tree_set_state(t, t->sel, false);
        t->set_version++;
        tree_reflatten(t);
        return true;
    }
    parent = t->parent[ln->row];
    if (parent == ROWS_NO_PARENT) {
        return false;
    }
    for (size_t i = t->sel; i-- > 0;) {
        if (t->lines[i].row == parent) {
            return tree_select(t, i);
        }
    }
    return false;
}

static bool tree_set_all(struct tree *t, bool expanded)
{
    if (t->rows == NULL || t->rows->n == 0) {
        return false;
    }
    for (size_t i = 0; i < t->rows->n; i++) {
        if (t->rows->v[i].nchildren > 0) {
            tree_map_put(&t->state, t->rows->v[i].path_hash,
                         expanded ? TREE_STATE_EXPANDED : TREE_STATE_COLLAPSED);
        }
    }
    /* Collapsing everything would hide the selection: keep its top-level ancestor. */
    if (!expanded && t->have_sel && t->sel < t->nlines) {
        uint32_t i = t->lines[t->sel].row;

        while (t->parent[i] != ROWS_NO_PARENT) {
            i = t->parent[i];
        }
        t->sel_hash = t->rows->v[i].path_hash;
    }
    t->set_version++;
    tree_reflatten(t);
    return true;
}

bool tree_expand_all(struct tree *t)
{
    return tree_set_all(t, true);
}

bool tree_collapse_all(struct tree *t)
{
    return tree_set_all(t, false);
}

void tree_set_filter(struct tree *t, const char *text)
{
    snprintf(t->filter, sizeof(t->filter), "%s", text != NULL ? text : "");
    t->marked = false;
    t->set_version++;
    tree_reflatten(t);
}

const char *tree_filter(const struct tree *t)
{
    return t->filter;
}

bool tree_search(struct tree *t, const char *text, bool forward)
{
    size_t n = t->rows != NULL ? t->rows->n : 0, start = 0;
    uint32_t hit = TREE_NONE;

    if (n == 0 || text == NULL || text[0] == '\0') {
        return false;
    }
    /* Where the selection sits in the full order. */
    if (t->have_sel && t->sel < t->nlines) {
        for (size_t k = 0; k < n; k++) {
            if (t->order[k] == t->lines[t->sel].row) {
                start = k;
                break;
            }
        }
    }
    for (size_t step = 1; step <= n; step++) {
        size_t k = forward ? (start + step) % n : (start + n - step) % n;

        if (strcasestr(t->rows->v[t->order[k]].label, text) != NULL) {
            hit = t->order[k];
            break;
        }
    }
    if (hit == TREE_NONE) {
        return false;
    }
    for (uint32_t a = t->parent[hit]; a != ROWS_NO_PARENT; a = t->parent[a]) {
        tree_map_put(&t->state, t->rows->v[a].path_hash, TREE_STATE_EXPANDED);
    }
    t->sel_hash = t->rows->v[hit].path_hash;
    t->have_sel = true;
    t->set_version++;
    tree_reflatten(t);
    return true;
}
