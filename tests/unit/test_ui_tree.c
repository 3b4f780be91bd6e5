/* SPDX-License-Identifier: MIT */
/* Unit tests of the pure tree logic of the UI: default depth, expansion and selection kept by
 * path across rebuilds, sort within siblings, filter with ancestors, search, navigation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "src/base/hash.h"
#include "src/model/rows.h"
#include "ui/tree.h"

#define MAXR 64

/* A row set made by hand: paths like "step/forward/block 0", depth-first. */
struct fixture {
    struct row v[MAXR];
    char paths[MAXR][64];
    struct rows rows;
};

static uint64_t hash(const char *s)
{
    return hash_bytes(HASH_SEED, s, strlen(s));
}

static void fx_build(struct fixture *f, const char *const *paths, size_t n)
{
    memset(f, 0, sizeof(*f));
    for (size_t i = 0; i < n; i++) {
        const char *slash;
        uint16_t lvl = 0;

        snprintf(f->paths[i], sizeof(f->paths[i]), "%s", paths[i]);
        for (const char *c = paths[i]; *c; c++) {
            lvl += *c == '/';
        }
        slash = strrchr(f->paths[i], '/');
        f->v[i].path = f->paths[i];
        f->v[i].label = slash != NULL ? slash + 1 : f->paths[i];
        f->v[i].path_hash = hash(paths[i]);
        f->v[i].level = lvl;
    }
    /* nchildren from levels */
    for (size_t i = 0; i < n; i++) {
        for (size_t j = i + 1; j < n && f->v[j].level > f->v[i].level; j++) {
            f->v[i].nchildren += f->v[j].level == f->v[i].level + 1;
        }
    }
    f->rows.v = f->v;
    f->rows.n = n;
}

static const char *const base[] = {
    "step",
    "step/embedding",
    "step/forward",
    "step/forward/block 0",
    "step/forward/block 0/attn",
    "step/forward/block 0/mlp",
    "step/forward/block 1",
    "step/forward/block 1/attn",
    "step/forward/block 1/mlp",
    "step/sampling",
    "load",
};

/* The visible lines as "label,label,..." with '+' for collapsed parents, '-' for open ones. */
static const char *shown(struct tree *t, const struct rows *r)
{
    static char buf[1024];
    size_t len = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < tree_nlines(t); i++) {
        const struct tree_line *ln = tree_line_at(t, i);

        len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s%s", i ? "," : "",
                                ln->has_children ? (ln->expanded ? "-" : "+") : "",
                                r->v[ln->row].label);
    }
    return buf;
}

static const char *sel_label(struct tree *t, const struct rows *r)
{
    return r->v[tree_line_at(t, tree_selected(t))->row].label;
}

static void test_default_depth(void **state)
{
    static struct fixture f;
    struct tree *t = tree_new(2);

    (void)state;
    fx_build(&f, base, 11);
    tree_flatten(t, &f.rows, NULL);
    /* blocks visible, phases folded */
    assert_string_equal(shown(t, &f.rows),
                        "-step,embedding,-forward,+block 0,+block 1,sampling,load");
    tree_free(t);
    t = tree_new(0);
    tree_flatten(t, &f.rows, NULL);
    assert_string_equal(shown(t, &f.rows), "+step,load");
    tree_free(t);
}

static void test_state_survives_rebuild(void **state)
{
    static struct fixture f, g;
    static const char *const more[] = {
        "warmup",
        "step",
        "step/embedding",
        "step/forward",
        "step/forward/block 0",
        "step/forward/block 0/attn",
        "step/forward/block 0/mlp",
        "step/forward/block 1",
        "step/forward/block 1/attn",
        "step/forward/block 1/mlp",
        "step/forward/block 2",
        "step/sampling",
        "load",
    };
    struct tree *t = tree_new(2);

    (void)state;
    fx_build(&f, base, 11);
    tree_flatten(t, &f.rows, NULL);
    assert_true(tree_move(t, 4)); /* block 1 */
    assert_string_equal(sel_label(t, &f.rows), "block 1");
    assert_true(tree_toggle(t));
    assert_string_equal(shown(t, &f.rows),
                        "-step,embedding,-forward,+block 0,-block 1,attn,mlp,sampling,load");
    /* A new rebuild with a new row on top and one more block: same path stays selected and
     * open, the new block takes the default. */
    fx_build(&g, more, 13);
    tree_flatten(t, &g.rows, NULL);
    assert_string_equal(sel_label(t, &g.rows), "block 1");
    assert_int_equal(tree_selected(t), 5);
    assert_string_equal(
        shown(t, &g.rows),
        "warmup,-step,embedding,-forward,+block 0,-block 1,attn,mlp,block 2,sampling,load");
    tree_free(t);
}

/* The tree orders siblings with rows_sort (the text report's order too): by a figure of the
 * rows, largest first, rows without it last; by name A to Z. */
static void test_sort_within_siblings(void **state)
{
    static struct fixture f;
    static const uint64_t p99[11] = {10, 1, 8, 3, 0, 0, 5, 0, 0, 2, 50};
    struct rows_sort s = {.key = ROWS_SORT_P99};
    struct tree *t = tree_new(2);

    (void)state;
    fx_build(&f, base, 11);
    for (size_t i = 0; i < 11; i++) {
        f.v[i].win.p99_ns = p99[i];
        f.v[i].flags = p99[i] != 0 ? ROW_F_WIN : 0;
    }
    f.v[1].flags = 0; /* embedding: no figure in the window, after sampling */
    tree_flatten(t, &f.rows, &s);
    assert_string_equal(shown(t, &f.rows),
                        "load,-step,-forward,+block 1,+block 0,sampling,embedding");
    s.key = ROWS_SORT_LABEL;
    tree_flatten(t, &f.rows, &s);
    assert_string_equal(shown(t, &f.rows),
                        "load,-step,embedding,-forward,+block 0,+block 1,sampling");
    s.reverse = true;
    tree_flatten(t, &f.rows, &s);
    assert_string_equal(shown(t, &f.rows),
                        "-step,sampling,-forward,+block 1,+block 0,embedding,load");
    tree_free(t);
}

/* Rows of the gen last flattened, in the same order, keep their lines (a redraw after a
 * key); a new gen, another order or rows without a gen are flattened again. */
static void test_issue_13_same_rows_not_sorted_again(void **state)
{
    static struct fixture f;
    static const uint64_t p99[11] = {10, 1, 8, 3, 0, 0, 5, 0, 0, 2, 50};
    struct rows_sort s = {.key = ROWS_SORT_P99};
    struct tree *t = tree_new(2);
    uint64_t v;

    (void)state;
    fx_build(&f, base, 11);
    for (size_t i = 0; i < 11; i++) {
        f.v[i].win.p99_ns = p99[i];
        f.v[i].flags = p99[i] != 0 ? ROW_F_WIN : 0;
    }
    f.rows.gen = 7;
    tree_flatten(t, &f.rows, &s);
    assert_string_equal(shown(t, &f.rows),
                        "load,-step,-forward,+block 1,+block 0,sampling,embedding");
    /* Figures changed under the same gen (no builder does that): the lines stay. */
    f.v[10].win.p99_ns = 1;
    v = tree_version(t);
    tree_flatten(t, &f.rows, &s);
    assert_int_equal(tree_version(t), v);
    assert_true(tree_move(t, 1));
    assert_int_equal(tree_version(t), v); /* the selection is not the lines */
    assert_string_equal(shown(t, &f.rows),
                        "load,-step,-forward,+block 1,+block 0,sampling,embedding");
    /* A new gen: sorted again. */
    f.rows.gen = 8;
    tree_flatten(t, &f.rows, &s);
    assert_int_not_equal(tree_version(t), v);
    v = tree_version(t);
    assert_string_equal(shown(t, &f.rows),
                        "-step,-forward,+block 1,+block 0,sampling,embedding,load");
    /* Another order of the same gen. */
    s.reverse = true;
    tree_flatten(t, &f.rows, &s);
    assert_string_equal(shown(t, &f.rows),
                        "load,-step,embedding,sampling,-forward,+block 0,+block 1");
    /* Expansion changes flatten at once, whatever the gen. */
    assert_true(tree_collapse_all(t));
    assert_int_not_equal(tree_version(t), v);
    assert_string_equal(shown(t, &f.rows), "load,+step");
    tree_flatten(t, &f.rows, &s);
    assert_string_equal(shown(t, &f.rows), "load,+step");
    /* Without a gen (0), always flattened. */
    assert_true(tree_expand_all(t));
    f.rows.gen = 0;
    f.v[10].win.p99_ns = 50;
    s.reverse = false;
    tree_flatten(t, &f.rows, &s);
    f.v[10].win.p99_ns = 1;
    tree_flatten(t, &f.rows, &s);
    assert_string_equal(
        shown(t, &f.rows),
        "-step,-forward,-block 1,attn,mlp,-block 0,attn,mlp,sampling,embedding,load");
    tree_free(t);
}

static void test_filter_and_search(void **state)
{
    static struct fixture f;
    struct tree *t = tree_new(1);

    (void)state;
    fx_build(&f, base, 11);
    tree_flatten(t, &f.rows, NULL);
    assert_string_equal(shown(t, &f.rows), "-step,embedding,+forward,sampling,load");
    tree_set_filter(t, "MLP");
    assert_string_equal(shown(t, &f.rows), "-step,-forward,-block 0,mlp,-block 1,mlp");
    assert_true(tree_line_at(t, 3)->match);
    assert_false(tree_line_at(t, 2)->match);
    tree_set_filter(t, "nothing");
    assert_int_equal(tree_nlines(t), 0);
    tree_set_filter(t, "");
    assert_string_equal(shown(t, &f.rows), "-step,embedding,+forward,sampling,load");

    /* Search opens the collapsed ancestors of the next match and wraps around. */
    assert_true(tree_search(t, "attn", true));
    assert_string_equal(sel_label(t, &f.rows), "attn");
    assert_string_equal(f.rows.v[tree_line_at(t, tree_selected(t))->row].path,
                        "step/forward/block 0/attn");
    assert_true(tree_search(t, "attn", true));
    assert_string_equal(f.rows.v[tree_line_at(t, tree_selected(t))->row].path,
                        "step/forward/block 1/attn");
    assert_true(tree_search(t, "attn", true));
    assert_string_equal(f.rows.v[tree_line_at(t, tree_selected(t))->row].path,
                        "step/forward/block 0/attn");
    assert_true(tree_search(t, "attn", false));
    assert_string_equal(f.rows.v[tree_line_at(t, tree_selected(t))->row].path,
                        "step/forward/block 1/attn");
    assert_false(tree_search(t, "zzz", true));
    tree_free(t);
}

static void test_navigation(void **state)
{
    static struct fixture f;
    struct tree *t = tree_new(2);

    (void)state;
    fx_build(&f, base, 11);
    tree_flatten(t, &f.rows, NULL);
    assert_false(tree_move(t, -5));
    assert_true(tree_move(t, 100));
    assert_string_equal(sel_label(t, &f.rows), "load");
    tree_select(t, 3); /* block 0, collapsed */
    assert_true(tree_expand(t));
    assert_string_equal(sel_label(t, &f.rows), "block 0");
    assert_true(tree_expand(t)); /* open: steps to the first child */
    assert_string_equal(sel_label(t, &f.rows), "attn");
    assert_true(tree_collapse(t)); /* a leaf: to its parent */
    assert_string_equal(sel_label(t, &f.rows), "block 0");
    assert_true(tree_collapse(t)); /* open: closes */
    assert_string_equal(shown(t, &f.rows),
                        "-step,embedding,-forward,+block 0,+block 1,sampling,load");
    assert_true(tree_expand_all(t));
    assert_int_equal(tree_nlines(t), 11);
    assert_true(tree_collapse_all(t));
    assert_string_equal(shown(t, &f.rows), "+step,load");
    assert_string_equal(sel_label(t, &f.rows), "step");

    /* Scrolling keeps the selection in a 3-line body. */
    tree_expand_all(t);
    tree_select(t, 8);
    tree_scroll(t, 3);
    assert_int_equal(tree_top(t), 6);
    tree_select(t, 0);
    tree_scroll(t, 3);
    assert_int_equal(tree_top(t), 0);
    tree_free(t);
}

static void test_empty_and_malformed(void **state)
{
    static struct fixture f;
    static const char *const bad[] = {"a", "a/b/c/d", "e"}; /* level jumps by 3 */
    struct rows empty = {0};
    struct tree *t = tree_new(5);

    (void)state;
    tree_flatten(t, &empty, NULL);
    assert_int_equal(tree_nlines(t), 0);
    assert_false(tree_move(t, 1));
    assert_false(tree_toggle(t));
    assert_false(tree_collapse(t));
    assert_false(tree_search(t, "a", true));
    tree_flatten(t, NULL, NULL);
    assert_int_equal(tree_nlines(t), 0);
    fx_build(&f, bad, 3);
    tree_flatten(t, &f.rows, NULL);
    assert_int_equal(tree_nlines(t), 3);
    tree_free(t);
    tree_free(NULL);
}

/* Rows of one shape whose figures change frame after frame (rows_update_latency's): the
 * tree keeps its links and marks and sorts from the last order, and shows what a new tree
 * shows for the same rows, through sorts by figures, the builder's order and a filter; which
 * lines there are stays the same (tree_set_version) until the expansion changes. */
static void test_issue_13_same_shape(void **state)
{
    static struct fixture f;
    struct rows_sort s = {.key = ROWS_SORT_P99};
    struct tree *t = tree_new(2), *fresh;
    uint64_t set;
    char want[1024];

    (void)state;
    fx_build(&f, base, 11);
    f.rows.shape = 3;
    for (unsigned frame = 0; frame < 12; frame++) {
        if (frame == 4) {
            s.reverse = true;
        } else if (frame == 6) {
            s.key = ROWS_SORT_NONE;
        } else if (frame == 7) {
            s.key = ROWS_SORT_P99;
            s.reverse = false;
        } else if (frame == 9) {
            tree_set_filter(t, "attn");
        }
        for (size_t i = 0; i < 11; i++) {
            uint64_t p99 = (i * 7 + frame * 5) % 11;

            f.v[i].win.p99_ns = p99;
            f.v[i].flags = p99 != 0 ? ROW_F_WIN : 0;
        }
        f.rows.gen = 100 + frame;
        fresh = tree_new(2);
        tree_set_filter(fresh, tree_filter(t));
        tree_flatten(fresh, &f.rows, &s);
        snprintf(want, sizeof(want), "%s", shown(fresh, &f.rows));
        tree_free(fresh);
        set = tree_set_version(t);
        tree_flatten(t, &f.rows, &s);
        assert_string_equal(shown(t, &f.rows), want);
        if (frame > 0 && frame != 9) {
            assert_int_equal(tree_set_version(t), set);
        }
    }
    set = tree_set_version(t);
    tree_set_filter(t, "");
    assert_true(tree_collapse_all(t));
    assert_int_not_equal(tree_set_version(t), set);
    /* Another shape: linked again. */
    set = tree_set_version(t);
    fx_build(&f, base, 10);
    f.rows.shape = 4;
    f.rows.gen = 200;
    tree_flatten(t, &f.rows, &s);
    assert_int_not_equal(tree_set_version(t), set);
    assert_string_equal(shown(t, &f.rows), "+step");
    tree_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_depth),
        cmocka_unit_test(test_state_survives_rebuild),
        cmocka_unit_test(test_sort_within_siblings),
        cmocka_unit_test(test_filter_and_search),
        cmocka_unit_test(test_navigation),
        cmocka_unit_test(test_empty_and_malformed),
        cmocka_unit_test(test_issue_13_same_rows_not_sorted_again),
        cmocka_unit_test(test_issue_13_same_shape),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
