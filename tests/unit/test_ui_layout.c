/* SPDX-License-Identifier: MIT */
/* Unit tests of the pure layout: every terminal size from 1x1 to 300x100 splits into parts
 * that stay on screen and never overlap; columns fit every width; names round-trip. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ui/layout.h"

static void check_rect(const struct layout_rect *r, int w, int h, unsigned char *owner, int id)
{
    if (r->h == 0) {
        return;
    }
    assert_true(r->y >= 0 && r->x >= 0 && r->h > 0 && r->w > 0);
    assert_true(r->y + r->h <= h);
    assert_true(r->x + r->w <= w);
    for (int y = r->y; y < r->y + r->h; y++) {
        assert_int_equal(owner[y], 0); /* no overlap (parts span whole lines) */
        owner[y] = (unsigned char)id;
    }
}

static void test_screen_sizes(void **state)
{
    static unsigned char owner[128];

    (void)state;
    for (int h = 0; h <= 100; h++) {
        for (int w = 0; w <= 300; w++) {
            for (int want = 0; want <= 6; want += 3) {
                struct layout l;

                layout_screen(w, h, want, &l);
                memset(owner, 0, sizeof(owner));
                if (w == 0 || h == 0) {
                    assert_int_equal(l.body.h, 0);
                    continue;
                }
                check_rect(&l.header, w, h, owner, 1);
                check_rect(&l.tabs, w, h, owner, 2);
                check_rect(&l.colhdr, w, h, owner, 3);
                check_rect(&l.body, w, h, owner, 4);
                check_rect(&l.status, w, h, owner, 5);
                check_rect(&l.footer, w, h, owner, 6);
                /* the body is always there, and the header never takes more than asked */
                assert_true(l.body.h >= 1);
                assert_true(l.header.h <= want);
                if (h >= 40) {
                    assert_int_equal(l.header.h, want);
                    assert_int_equal(l.footer.h, 1);
                    assert_int_equal(l.status.h, 1);
                }
            }
        }
    }
}

static void test_issue_3_tiny_20x5(void **state)
{
    struct layout l;

    (void)state;
    layout_screen(20, 5, 4, &l);
    assert_int_equal(l.footer.h, 1);
    assert_int_equal(l.colhdr.h, 1);
    assert_true(l.body.h >= 3);
}

static void test_columns_fit(void **state)
{
    static const uint64_t masks[] = {LAYOUT_COLS_ALL, 0, 1ULL << LAYOUT_COL_P99};

    (void)state;
    for (int v = 0; v < LAYOUT_NVIEWS; v++) {
        for (size_t m = 0; m < sizeof(masks) / sizeof(masks[0]); m++) {
            for (int w = 0; w <= 300; w++) {
                for (int want = 0; want <= 80; want += 40) {
                    struct layout_place p[LAYOUT_NCOLS];
                    size_t n = layout_fit((enum layout_view)v, w, masks[m], want, p);
                    const struct layout_col *cols;
                    size_t nc = layout_view_columns((enum layout_view)v, &cols);
                    bool name = false, own = false;
                    int end = 0;

                    /* A list naming none of the view's own columns leaves it whole. */
                    for (size_t i = 0; i < nc; i++) {
                        own = own ||
                              (cols[i].id != LAYOUT_COL_NAME && cols[i].id != LAYOUT_COL_SHARE &&
                               (masks[m] & (1ULL << cols[i].id)) != 0);
                    }

                    if (w == 0) {
                        assert_int_equal(n, 0);
                        continue;
                    }
                    for (size_t i = 0; i < n; i++) {
                        assert_true(p[i].w >= 1);
                        assert_true(p[i].x >= end); /* in order, no overlap */
                        end = p[i].x + p[i].w;
                        assert_true(end <= w);
                        name = name || p[i].id == LAYOUT_COL_NAME;
                        if (own && masks[m] != LAYOUT_COLS_ALL && p[i].id != LAYOUT_COL_NAME) {
                            assert_true(masks[m] & (1ULL << p[i].id));
                        }
                    }
                    assert_true(name);
                }
            }
        }
    }
}

static void test_columns_priority(void **state)
{
    struct layout_place p[LAYOUT_NCOLS];
    size_t n;

    (void)state;
    /* 40 columns: the name (12) plus the highest priorities: p50 (9) and p99 (9). */
    n = layout_fit(LAYOUT_VIEW_LATENCY, 40, LAYOUT_COLS_ALL, 30, p);
    assert_int_equal(n, 3);
    assert_int_equal(p[0].id, LAYOUT_COL_NAME);
    assert_int_equal(p[1].id, LAYOUT_COL_P50);
    assert_int_equal(p[2].id, LAYOUT_COL_P99);
    assert_int_equal(p[2].x + p[2].w, 40);
    /* Wide: every column of rows that are not a fleet's (nor compared with a baseline), the
     * name as wide as it wants. */
    n = layout_fit(
        LAYOUT_VIEW_LATENCY, 300,
        layout_rows_enabled(LAYOUT_VIEW_LATENCY, LAYOUT_COLS_ALL & ~LAYOUT_COLS_BASELINE, NULL), 30,
        p);
    assert_int_equal(n, 9);
    assert_int_equal(p[0].w, 30);
    /* With a baseline its two delta columns come last; at 120 columns the max makes room. */
    n = layout_fit(LAYOUT_VIEW_LATENCY, 300,
                   layout_rows_enabled(LAYOUT_VIEW_LATENCY, LAYOUT_COLS_ALL, NULL), 30, p);
    assert_int_equal(n, 11);
    assert_int_equal(p[9].id, LAYOUT_COL_DP99);
    assert_int_equal(p[10].id, LAYOUT_COL_DMEAN);
    n = layout_fit(LAYOUT_VIEW_LATENCY, 120,
                   layout_rows_enabled(LAYOUT_VIEW_LATENCY, LAYOUT_COLS_ALL, NULL), 30, p);
    assert_int_equal(p[n - 2].id, LAYOUT_COL_DP99);
    assert_int_equal(p[n - 1].id, LAYOUT_COL_DMEAN);
    for (size_t i = 0; i < n; i++) {
        assert_int_not_equal(p[i].id, LAYOUT_COL_MAX);
    }
}

/* A fleet's rows (a spread) get the spread columns, in place of LAST and MAX, which they have
 * not; other rows and other views never show them. */
static void test_fleet_spread_columns(void **state)
{
    struct layout_place p[LAYOUT_NCOLS];
    struct row v[2];
    struct rows rows = {.v = v, .n = 2};
    uint64_t m;
    size_t n;
    bool slowest = false, last = false;

    (void)state;
    memset(v, 0, sizeof(v));
    m = layout_rows_enabled(LAYOUT_VIEW_LATENCY, LAYOUT_COLS_ALL, &rows);
    assert_false(m & (1ULL << LAYOUT_COL_SLOWEST));
    assert_true(m & (1ULL << LAYOUT_COL_LAST));
    v[1].flags = ROW_F_SPREAD;
    m = layout_rows_enabled(LAYOUT_VIEW_LATENCY, LAYOUT_COLS_ALL & ~LAYOUT_COLS_BASELINE, &rows);
    n = layout_fit(LAYOUT_VIEW_LATENCY, 300, m, 30, p);
    assert_int_equal(n, 11);
    for (size_t i = 0; i < n; i++) {
        slowest = slowest || p[i].id == LAYOUT_COL_SLOWEST;
        last = last || p[i].id == LAYOUT_COL_LAST || p[i].id == LAYOUT_COL_MAX;
    }
    assert_true(slowest);
    assert_false(last);
    assert_int_equal(layout_col_from_name("p99max"), LAYOUT_COL_P99_MAX);
    assert_int_equal(layout_col_sort_key(LAYOUT_COL_SLOWEST), ROWS_SORT_P99_MAX);
    /* Not in the Memory view, whatever the rows. */
    m = layout_rows_enabled(LAYOUT_VIEW_MEMORY, LAYOUT_COLS_ALL, &rows);
    assert_false(m & (1ULL << LAYOUT_COL_SLOWEST));
}

/* test_issue_11: the README's sample "columns = last,p50,p99,count,share" names no Memory
 * column: the Memory view stays whole instead of showing names only. */
static void test_issue_11_columns_of_another_view(void **state)
{
    struct layout_place p[LAYOUT_NCOLS];
    uint64_t latency_only = 1ULL << LAYOUT_COL_NAME | 1ULL << LAYOUT_COL_LAST |
                            1ULL << LAYOUT_COL_P50 | 1ULL << LAYOUT_COL_P99 |
                            1ULL << LAYOUT_COL_COUNT | 1ULL << LAYOUT_COL_SHARE;
    bool current = false;
    size_t n;

    (void)state;
    n = layout_fit(LAYOUT_VIEW_MEMORY, 200, latency_only, 30, p);
    for (size_t i = 0; i < n; i++) {
        current = current || p[i].id == LAYOUT_COL_CURRENT;
    }
    assert_true(n > 1);
    assert_true(current);
    /* The latency view keeps exactly the list. */
    n = layout_fit(LAYOUT_VIEW_LATENCY, 200, latency_only, 30, p);
    assert_int_equal(n, 6);
}

static void test_names(void **state)
{
    (void)state;
    for (int i = 0; i < LAYOUT_NCOLS; i++) {
        assert_int_equal(layout_col_from_name(layout_col_name((enum layout_col_id)i)), i);
    }
    for (int i = 0; i < LAYOUT_NVIEWS; i++) {
        assert_int_equal(layout_view_from_name(layout_view_name((enum layout_view)i)), i);
    }
    assert_int_equal(layout_col_from_name("bogus"), -1);
    assert_int_equal(layout_view_from_name(""), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_screen_sizes),
        cmocka_unit_test(test_issue_3_tiny_20x5),
        cmocka_unit_test(test_columns_fit),
        cmocka_unit_test(test_columns_priority),
        cmocka_unit_test(test_fleet_spread_columns),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_issue_11_columns_of_another_view),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
