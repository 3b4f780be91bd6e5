/* SPDX-License-Identifier: MIT */
/* The workloads view: every watched process, one line each; Enter shows the selected one in
 * the latency view. */
#include "ui/ui_internal.h"

#include <stdio.h>
#include <string.h>

#include "src/model/rows.h"

/* The longest label. */
static int view_workloads_name_want(struct ui *u, struct view *v)
{
    int want = 0;

    (void)v;
    for (size_t i = 0; u->frame != NULL && i < u->frame->nprocs; i++) {
        const char *l = u->frame->procs[i].label ? u->frame->procs[i].label : "";
        int n = draw_cols(l, strlen(l));

        want = n > want ? n : want;
    }
    return want + 1;
}

static void view_workloads_draw(struct ui *u, struct view *v, WINDOW *w)
{
    const struct ui_frame *f = u->frame;
    const struct view_list *l;
    int h = getmaxy(w);
    size_t n = f != NULL ? f->nprocs : 0;

    if (n == 0) {
        draw_put(u, w, 0, 1, getmaxx(w) - 1, UI_ROLE_DIM,
                 "no workload: start a program linked with libnctop, or run nctop --demo");
        return;
    }
    l = view_list_scroll(v, n, h);
    for (int y = 0; y < h && l->top + (size_t)y < n; y++) {
        size_t i = l->top + (size_t)y;
        const struct rows_summary *s = &f->procs[i];
        bool selected = i == l->sel;
        enum ui_role base = selected ? UI_ROLE_SELECT : UI_ROLE_TEXT;
        char a[48];

        if (selected) {
            draw_fill(u, w, y, UI_ROLE_SELECT);
        }
        for (size_t c = 0; c < u->ncols; c++) {
            const struct layout_place *p = &u->cols[c];

            switch (p->id) {
            case LAYOUT_COL_PID:
                snprintf(a, sizeof(a), "%s%d", i == f->sel_proc ? "*" : "", (int)s->pid);
                draw_put_right(u, w, y, p->x, p->w, base, a);
                break;
            case LAYOUT_COL_NAME:
                draw_put(u, w, y, p->x, p->w, base, s->label && *s->label ? s->label : "?");
                break;
            case LAYOUT_COL_STATE:
                draw_put(u, w, y, p->x, p->w,
                         selected                      ? base
                         : s->state == ROWS_STATE_LIVE ? UI_ROLE_BAR
                                                       : UI_ROLE_WARN,
                         draw_state_name(s));
                break;
            case LAYOUT_COL_EVENTS:
                snprintf(a, sizeof(a), "%.0f", s->events_per_sec);
                draw_put_right(u, w, y, p->x, p->w, base, a);
                break;
            case LAYOUT_COL_DROPS:
                draw_fmt_count(s->dropped, a, sizeof(a));
                draw_put_right(u, w, y, p->x, p->w,
                               s->dropped > 0 && !selected ? UI_ROLE_WARN : base, a);
                break;
            case LAYOUT_COL_RSS:
                draw_cell_bytes(u, w, y, p, s->host_valid, (int64_t)s->rss_bytes, base);
                break;
            case LAYOUT_COL_CPU:
                if (s->cpu_valid) {
                    snprintf(a, sizeof(a), "%.1f", s->cpu_pct);
                } else {
                    snprintf(a, sizeof(a), "-");
                }
                draw_put_right(u, w, y, p->x, p->w, base, a);
                break;
            default:
                break;
            }
        }
    }
}

static size_t view_workloads_length(struct ui *u, struct view *v)
{
    (void)v;
    return u->frame != NULL ? u->frame->nprocs : 0;
}

/* Show the selected process, in the latency view. */
static unsigned view_workloads_enter(struct ui *u, struct view *v)
{
    const struct ui_frame *f = u->frame;
    const struct view_list *l = v->data;

    if (f == NULL || l->sel >= f->nprocs) {
        return 0;
    }
    u->sel_pid = f->procs[l->sel].pid;
    snprintf(u->message, sizeof(u->message), "showing %s (pid %d)",
             f->procs[l->sel].label ? f->procs[l->sel].label : "?", (int)u->sel_pid);
    ui_set_view(u, LAYOUT_VIEW_LATENCY);
    return UI_REBUILD;
}

const struct view_ops view_workloads_ops = {
    .title = "Workloads",
    .header = HEADER_ALL,
    .init = view_list_new,
    .free = view_list_free,
    .name_want = view_workloads_name_want,
    .draw = view_workloads_draw,
    .length = view_workloads_length,
    .move_by = view_list_move_by,
    .enter = view_workloads_enter,
    .click = view_list_click,
};
