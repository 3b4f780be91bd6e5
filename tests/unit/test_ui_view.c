/* SPDX-License-Identifier: MIT */
/* Unit tests of the display's view table (every view complete, in the order of the layout's
 * names, with distinct tabs) and of the selection the list views share (clamping, scrolling,
 * clicks below the hint lines), which need no terminal. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "src/base/util.h"
#include "ui/layout.h"
#include "ui/ui_internal.h"
#include "ui/view.h"

static void test_table_complete(void **state)
{
    (void)state;
    for (int i = 0; i < LAYOUT_NVIEWS; i++) {
        const struct view_ops *o = view_table[i];

        assert_non_null(o);
        assert_non_null(o->title);
        assert_true(o->title[0] != '\0');
        /* The ops every view must have (view.h says which may be NULL). */
        assert_non_null(o->name_want);
        assert_non_null(o->draw);
        assert_non_null(o->length);
        assert_non_null(o->move_by);
        assert_non_null(o->click);
        /* Data made is data freed. */
        assert_true((o->init == NULL) == (o->free == NULL));
        /* A tree is flattened before it is drawn. */
        assert_true(o->tree == NULL || o->prepare != NULL);
        /* Header lines exist, and every view shows the title line. */
        assert_int_equal(o->header & ~HEADER_ALL, 0);
        assert_true(o->header & 1U << HEADER_TITLE);
        /* --view knows it by name. */
        assert_int_equal(layout_view_from_name(layout_view_name((enum layout_view)i)), i);
        for (int j = 0; j < i; j++) {
            assert_true(strcmp(view_table[j]->title, o->title) != 0);
        }
    }
}

static void test_header_height(void **state)
{
    (void)state;
    assert_int_equal(header_height(HEADER_ALL), HEADER_NLINES);
    assert_int_equal(header_height(0), 0);
    assert_int_equal(header_height(1U << HEADER_TITLE | 1U << HEADER_HOST), 2);
}

/* A list view of fake_len lines, for the shared list ops. */
static size_t fake_len;

static size_t fake_length(struct ui *u, struct view *v)
{
    (void)u;
    (void)v;
    return fake_len;
}

/* One hint line while fake_hint is set (the threads view's hint comes and goes). */
static int fake_hint = 1;

static int fake_hint_lines(struct ui *u, struct view *v)
{
    (void)u;
    (void)v;
    return fake_hint;
}

static const struct view_ops fake_ops = {
    .title = "Fake",
    .header = HEADER_ALL,
    .hint_lines = fake_hint_lines,
    .length = fake_length,
    .move_by = view_list_move_by,
    .click = view_list_click,
};

static void test_list_selection(void **state)
{
    struct view v = {.ops = &fake_ops, .data = view_list_new(NULL)};
    struct view_list *l = v.data;

    (void)state;
    fake_len = 10;
    assert_int_equal(view_list_move_by(NULL, &v, -1), 0); /* at the top already */
    assert_int_equal(view_list_move_by(NULL, &v, 3), UI_REDRAW);
    assert_int_equal(l->sel, 3);
    assert_int_equal(view_list_move_by(NULL, &v, 1L << 30), UI_REDRAW);
    assert_int_equal(l->sel, 9);
    assert_int_equal(view_list_move_by(NULL, &v, 1), 0);

    /* Scrolled into 4 lines: the selection is the last one shown. */
    assert_ptr_equal(view_list_scroll(&v, 10, 4), l);
    assert_int_equal(l->top, 6);
    /* The list shrinks: the selection follows its end, the top keeps the body full. */
    view_list_scroll(&v, 5, 4);
    assert_int_equal(l->sel, 4);
    assert_int_equal(l->top, 1);
    view_list_scroll(&v, 0, 4);
    assert_int_equal(l->sel, 0);
    assert_int_equal(l->top, 0);

    /* Clicks count from below the hint line; past the end nothing is selected. */
    fake_len = 10;
    l->top = 2;
    assert_int_equal(view_list_click(NULL, &v, 0, 0), 0);
    assert_int_equal(view_list_click(NULL, &v, 3, 0), UI_REDRAW);
    assert_int_equal(l->sel, 4);
    assert_int_equal(view_list_click(NULL, &v, 9, 0), 0);
    assert_int_equal(l->sel, 4);
    /* Without the hint line (a view with eBPF figures) the click lands on its own line. */
    fake_hint = 0;
    assert_int_equal(view_list_click(NULL, &v, 3, 0), UI_REDRAW);
    assert_int_equal(l->sel, 5);
    assert_int_equal(view_list_click(NULL, &v, 0, 0), UI_REDRAW);
    assert_int_equal(l->sel, 2);
    fake_hint = 1;
    view_list_free(v.data);
}

/* The display's durations are formatted without printf: the same text as util_format_ns,
 * over every value below 2 ms, the units' edges and halfway values, and values spread over
 * every unit. */
static void test_issue_13_fmt_ns(void **state)
{
    char a[32], b[32];
    uint64_t x = 88172645463325252ULL;

    (void)state;
    for (uint64_t ns = 0; ns < 2000000ULL; ns++) {
        draw_fmt_ns(ns, a, sizeof(a));
        util_format_ns(ns, true, b, sizeof(b));
        assert_string_equal(a, b);
    }
    for (uint64_t e = 1000ULL; e <= 100000000000000ULL; e *= 10U) {
        for (uint64_t d = 0; d < 2000; d++) {
            uint64_t v[4] = {e - d, e + d, e * 5U - d, e / 2U * 3U + d};

            for (int i = 0; i < 4; i++) {
                draw_fmt_ns(v[i], a, sizeof(a));
                util_format_ns(v[i], true, b, sizeof(b));
                assert_string_equal(a, b);
            }
        }
    }
    for (int i = 0; i < 2000000; i++) {
        uint64_t ns;

        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        ns = x >> (x % 40U + 20U);
        draw_fmt_ns(ns, a, sizeof(a));
        util_format_ns(ns, true, b, sizeof(b));
        assert_string_equal(a, b);
    }
}

/* The share cell's "%5.1f%%" without printf is printf's text: every tenth and the values
 * around it (the halfway points above all), shares of random totals, and what is out of
 * range. */
static void test_issue_13_fmt_pct(void **state)
{
    char a[16], b[16];
    uint64_t x = 2463534242ULL;

    (void)state;
    for (int k = 0; k <= 9999; k++) {
        double base = k / 10.0;
        double v[] = {base,
                      base + 0.05,
                      base - 0.05,
                      base + 0.049999,
                      base + 0.050001,
                      nextafter(base + 0.05, 0),
                      nextafter(base + 0.05, 2000)};

        for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
            if (v[i] < 0 || v[i] > 999.9) {
                continue;
            }
            draw_fmt_pct(v[i], a, sizeof(a));
            snprintf(b, sizeof(b), "%5.1f%%", v[i]);
            assert_string_equal(a, b);
        }
    }
    for (int i = 0; i < 2000000; i++) {
        uint64_t part, whole;
        double pct;

        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        whole = (x >> 20) % 1000000007ULL + 1U;
        part = (x >> 3) % (whole + 1U);
        pct = (double)part * 100.0 / (double)whole;
        draw_fmt_pct(pct, a, sizeof(a));
        snprintf(b, sizeof(b), "%5.1f%%", pct);
        assert_string_equal(a, b);
    }
    draw_fmt_pct(-1.0, a, sizeof(a));
    assert_string_equal(a, " -1.0%");
    draw_fmt_pct(NAN, a, sizeof(a));
    snprintf(b, sizeof(b), "%5.1f%%", NAN);
    assert_string_equal(a, b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_complete),   cmocka_unit_test(test_header_height),
        cmocka_unit_test(test_list_selection),   cmocka_unit_test(test_issue_13_fmt_ns),
        cmocka_unit_test(test_issue_13_fmt_pct),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
