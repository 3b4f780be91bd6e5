/* SPDX-License-Identifier: MIT */
/* The threads view: the shown process's threads with their eBPF scheduler figures (on-CPU,
 * run queue, blocked, switches, faults), and a hint line when those need --bpf. */
#include "ui/ui_internal.h"

#include <stdio.h>

#include "src/model/rows.h"

static int view_threads_name_want(struct ui *u, struct view *v)
{
    (void)u;
    (void)v;
    return 32;
}

/* Per-thread time is what users come here for, and it needs eBPF: a hint line says so while
 * no thread has it. */
static int view_threads_hint_lines(struct ui *u, struct view *v)
{
    const struct rows_summary *s = ui_shown(u);
    size_t n = s != NULL ? s->nthread_list : 0;

    (void)v;
    for (size_t i = 0; i < n; i++) {
        if (s->threads[i].sched_valid) {
            return 0;
        }
    }
    return 1;
}

static void view_threads_draw(struct ui *u, struct view *v, WINDOW *w)
{
    const struct rows_summary *s = ui_shown(u);
    const struct view_list *l;
    int h = getmaxy(w), y0 = view_threads_hint_lines(u, v);
    size_t n = s != NULL ? s->nthread_list : 0;

    if (y0 > 0) {
        draw_put(u, w, 0, 1, getmaxx(w) - 1, UI_ROLE_DIM,
                 "threads reported by the workload; on/off-CPU time per thread needs --bpf");
    }
    if (n == 0) {
        draw_put(u, w, 1, 1, getmaxx(w) - 1, UI_ROLE_DIM, "no threads reported");
        return;
    }
    l = view_list_scroll(v, n, h - y0);
    for (int y = y0; y < h && l->top + (size_t)(y - y0) < n; y++) {
        size_t i = l->top + (size_t)(y - y0);
        bool selected = i == l->sel;
        enum ui_role base = selected ? UI_ROLE_SELECT : UI_ROLE_TEXT;
        char a[32];

        if (selected) {
            draw_fill(u, w, y, UI_ROLE_SELECT);
        }
        for (size_t c = 0; c < u->ncols; c++) {
            const struct layout_place *p = &u->cols[c];

            const struct rows_thread *t = &s->threads[i];

            if (p->id == LAYOUT_COL_TID) {
                snprintf(a, sizeof(a), "%d", (int)t->tid);
                draw_put_right(u, w, y, p->x, p->w, base, a);
                continue;
            }
            if (p->id == LAYOUT_COL_NAME) {
                draw_put(u, w, y, p->x, p->w, t->exited ? UI_ROLE_DIM : base,
                         t->name[0] != '\0' ? t->name : "-");
                continue;
            }
            /* eBPF figures: absent is "-", never 0. */
            if (!t->sched_valid) {
                snprintf(a, sizeof(a), "-");
            } else if (p->id == LAYOUT_COL_ONCPU) {
                draw_fmt_ns(t->oncpu_ns, a, sizeof(a));
            } else if (p->id == LAYOUT_COL_RUNQ) {
                draw_fmt_ns(t->runq_ns, a, sizeof(a));
            } else if (p->id == LAYOUT_COL_BLOCKED) {
                draw_fmt_ns(t->blocked_ns, a, sizeof(a));
            } else if (p->id == LAYOUT_COL_SWITCHES) {
                snprintf(a, sizeof(a), "%llu/%llu", (unsigned long long)t->vol_switches,
                         (unsigned long long)t->invol_switches);
            } else if (p->id == LAYOUT_COL_FAULTS) {
                snprintf(a, sizeof(a), "%llu/%llu", (unsigned long long)t->minor_faults,
                         (unsigned long long)t->major_faults);
            } else {
                continue;
            }
            draw_put_right(u, w, y, p->x, p->w, base, a);
        }
    }
}

static size_t view_threads_length(struct ui *u, struct view *v)
{
    const struct rows_summary *s = ui_shown(u);

    (void)v;
    return s != NULL ? s->nthread_list : 0;
}

const struct view_ops view_threads_ops = {
    .title = "Threads",
    .header = HEADER_ALL,
    .hint_lines = view_threads_hint_lines,
    .init = view_list_new,
    .free = view_list_free,
    .name_want = view_threads_name_want,
    .draw = view_threads_draw,
    .length = view_threads_length,
    .move_by = view_list_move_by,
    .click = view_list_click,
};
