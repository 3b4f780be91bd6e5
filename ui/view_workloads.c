/* SPDX-License-Identifier: MIT */
/* The workloads view: every watched process, one line each, children indented under their
 * parent (the processes --bpf follows); Enter shows the selected one in the latency view. */
#include "ui/ui_internal.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/base/xalloc.h"
#include "src/model/rows.h"

#define VIEW_WORKLOADS_INDENT 2 /* columns per generation */

/* The display order of the frame's processes (rows_proc_tree): order[k] is the process on line
 * k, depth[k] its generation. Owned by the caller (free both); NULL when there are none. */
static uint32_t *view_workloads_order(const struct ui_frame *f, uint16_t **depth)
{
    uint32_t *order;

    *depth = NULL;
    if (f == NULL || f->nprocs == 0) {
        return NULL;
    }
    order = xcalloc(f->nprocs, sizeof(*order));
    *depth = xcalloc(f->nprocs, sizeof(**depth));
    rows_proc_tree(f->procs, f->nprocs, order, *depth);
    return order;
}

/* The longest indented label. */
static int view_workloads_name_want(struct ui *u, struct view *v)
{
    uint16_t *depth;
    uint32_t *order = view_workloads_order(u->frame, &depth);
    int want = 0;

    (void)v;
    for (size_t k = 0; order != NULL && k < u->frame->nprocs; k++) {
        const char *l = u->frame->procs[order[k]].label ? u->frame->procs[order[k]].label : "";
        int n = VIEW_WORKLOADS_INDENT * depth[k] + draw_cols(l, strlen(l));

        want = n > want ? n : want;
    }
    free(order);
    free(depth);
    return want + 1;
}

/* The state cell: how an ended process ended when that is known ("exit 1", "sig 9"). */
static const char *view_workloads_state(const struct rows_summary *s, char *buf, size_t len)
{
    if (s->state != ROWS_STATE_EXITED || !s->exit_valid) {
        return draw_state_name(s);
    }
    if (s->exit_signal != 0) {
        snprintf(buf, len, "sig %d", s->exit_signal);
    } else {
        snprintf(buf, len, s->exit_status < 100 ? "exit %d" : "exit%d", s->exit_status);
    }
    return buf;
}

/* The state's colour: live in the bar colour, a clean exit dim, anything else a warning. */
static enum ui_role view_workloads_state_role(const struct rows_summary *s)
{
    if (s->state == ROWS_STATE_LIVE) {
        return UI_ROLE_BAR;
    }
    if (s->state == ROWS_STATE_EXITED && s->exit_valid && s->exit_signal == 0 &&
        s->exit_status == 0) {
        return UI_ROLE_DIM;
    }
    return UI_ROLE_WARN;
}

/* The process's "tokens" counter, or NULL. */
static const struct rows_counter *view_workloads_tokens(const struct rows_summary *s)
{
    for (size_t i = 0; i < s->ncounters; i++) {
        if (strcmp(s->counters[i].name, "tokens") == 0) {
            return &s->counters[i];
        }
    }
    return NULL;
}

/* The syscalls a process made (the eBPF collector's count). */
static uint64_t view_workloads_syscalls(const struct rows_summary *s)
{
    uint64_t n = 0;

    for (size_t i = 0; i < s->nsyscalls; i++) {
        n += s->syscalls[i].count;
    }
    return n;
}

static void view_workloads_draw(struct ui *u, struct view *v, WINDOW *w)
{
    const struct ui_frame *f = u->frame;
    const struct view_list *l;
    int h = getmaxy(w);
    size_t n = f != NULL ? f->nprocs : 0;
    uint32_t *order;
    uint16_t *depth;

    if (n == 0) {
        draw_put(u, w, 0, 1, getmaxx(w) - 1, UI_ROLE_DIM,
                 "no workload: start a program linked with libnctop, or run nctop --demo");
        return;
    }
    order = view_workloads_order(f, &depth);
    l = view_list_scroll(v, n, h);
    for (int y = 0; y < h && l->top + (size_t)y < n; y++) {
        size_t k = l->top + (size_t)y, i = order[k];
        const struct rows_summary *s = &f->procs[i];
        bool selected = k == l->sel;
        enum ui_role base = selected ? UI_ROLE_SELECT : UI_ROLE_TEXT;
        char a[48];

        if (selected) {
            draw_fill(u, w, y, UI_ROLE_SELECT);
        }
        for (size_t c = 0; c < u->ncols; c++) {
            const struct layout_place *p = &u->cols[c];

            switch (p->id) {
            case LAYOUT_COL_PID:
                /* A fleet's own line has no pid (0). */
                snprintf(a, sizeof(a), s->pid > 0 ? "%s%d" : "%s-", i == f->sel_proc ? "*" : "",
                         (int)s->pid);
                draw_put_right(u, w, y, p->x, p->w, base, a);
                break;
            case LAYOUT_COL_NAME: {
                int indent = VIEW_WORKLOADS_INDENT * depth[k];

                /* Deep trees keep the last columns of the name for the name itself. */
                if (indent > p->w - 3) {
                    indent = p->w - 3 > 0 ? p->w - 3 : 0;
                }
                draw_put(u, w, y, p->x + indent, p->w - indent, base,
                         s->label && *s->label ? s->label : "?");
                break;
            }
            case LAYOUT_COL_STATE:
                draw_put(u, w, y, p->x, p->w, selected ? base : view_workloads_state_role(s),
                         view_workloads_state(s, a, sizeof(a)));
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
            case LAYOUT_COL_TOKENS: {
                const struct rows_counter *t = view_workloads_tokens(s);

                if (t != NULL && t->rate_valid) {
                    snprintf(a, sizeof(a), "%.1f", t->per_sec);
                } else {
                    snprintf(a, sizeof(a), "-");
                }
                draw_put_right(u, w, y, p->x, p->w, base, a);
                break;
            }
            case LAYOUT_COL_CPU:
                if (s->cpu_valid) {
                    snprintf(a, sizeof(a), "%.1f", s->cpu_pct);
                } else {
                    snprintf(a, sizeof(a), "-");
                }
                draw_put_right(u, w, y, p->x, p->w, base, a);
                break;
            /* Drawn where the layout gives the view these columns: the peak RSS, the CPU
             * time so far, the syscalls made. */
            case LAYOUT_COL_PEAK:
                draw_cell_bytes(u, w, y, p, s->host_valid, (int64_t)s->rss_peak_bytes, base);
                break;
            case LAYOUT_COL_TOTAL:
                draw_cell_ns(u, w, y, p, s->host_valid, s->cpu_time_ns, base);
                break;
            case LAYOUT_COL_COUNT:
                if (s->sys_valid) {
                    draw_fmt_count(view_workloads_syscalls(s), a, sizeof(a));
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
    free(order);
    free(depth);
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
    const struct rows_summary *s;
    uint32_t *order;
    uint16_t *depth;

    if (f == NULL || l->sel >= f->nprocs) {
        return 0;
    }
    order = view_workloads_order(f, &depth);
    s = &f->procs[order[l->sel]];
    free(order);
    free(depth);
    u->sel_pid = s->pid;
    snprintf(u->message, sizeof(u->message), "showing %s (pid %d)", s->label ? s->label : "?",
             (int)u->sel_pid);
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
