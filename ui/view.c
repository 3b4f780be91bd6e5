/* SPDX-License-Identifier: MIT */
/* The table of the views in display order, and the selection the list views share. */
#include "ui/view.h"

#include <stdlib.h>

#include "src/base/xalloc.h"
#include "ui/ui_internal.h"

void *view_list_new(const struct ui_opts *opts)
{
    (void)opts;
    return xcalloc(1, sizeof(struct view_list));
}

void view_list_free(void *data)
{
    free(data);
}

struct view_list *view_list_scroll(struct view *v, size_t n, int h)
{
    struct view_list *l = v->data;

    if (l->sel >= n) {
        l->sel = n > 0 ? n - 1 : 0;
    }
    if (h <= 0) {
        return l;
    }
    if (l->sel < l->top) {
        l->top = l->sel;
    } else if (l->sel >= l->top + (size_t)h) {
        l->top = l->sel - (size_t)h + 1;
    }
    if (l->top + (size_t)h > n) {
        l->top = n > (size_t)h ? n - (size_t)h : 0;
    }
    return l;
}

unsigned view_list_move_by(struct ui *u, struct view *v, long delta)
{
    struct view_list *l = v->data;
    size_t n = v->ops->length(u, v);
    long target = (long)l->sel + delta;

    if (target >= (long)n) {
        target = (long)n - 1;
    }
    if (target < 0) {
        target = 0;
    }
    if ((size_t)target == l->sel) {
        return 0;
    }
    l->sel = (size_t)target;
    return UI_REDRAW;
}

int view_hint_lines(struct ui *u, struct view *v)
{
    return v->ops->hint_lines != NULL ? v->ops->hint_lines(u, v) : 0;
}

unsigned view_list_click(struct ui *u, struct view *v, int row, int x)
{
    struct view_list *l = v->data;

    (void)x;
    row -= view_hint_lines(u, v);
    if (row >= 0 && l->top + (size_t)row < v->ops->length(u, v)) {
        l->sel = l->top + (size_t)row;
        return UI_REDRAW;
    }
    return 0;
}

/* The tabs, the keys 1 to 7 and --view follow this order (enum layout_view). */
const struct view_ops *const view_table[LAYOUT_NVIEWS] = {
    [LAYOUT_VIEW_LATENCY] = &view_latency_ops, [LAYOUT_VIEW_MEMORY] = &view_memory_ops,
    [LAYOUT_VIEW_KERNELS] = &view_kernels_ops, [LAYOUT_VIEW_WORKLOADS] = &view_workloads_ops,
    [LAYOUT_VIEW_THREADS] = &view_threads_ops, [LAYOUT_VIEW_NEURO] = &view_neuro_ops,
    [LAYOUT_VIEW_HEATMAP] = &view_heatmap_ops, [LAYOUT_VIEW_COMPILE] = &view_compile_ops,
    [LAYOUT_VIEW_ALERTS] = &view_alerts_ops,
};
