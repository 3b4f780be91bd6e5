/* SPDX-License-Identifier: MIT */
/* The Neuro view: a spiking workload's network, its layers and their cores (rows_build_neuro)
 * with neurons, firing rate, spikes, synaptic operations and spike-hops per second, spike-queue
 * occupancy, energy per timestep and power. A kind of the shared tree view (ui/view_tree.c):
 * expansion, sort, search and filter are the tree's; this file draws its own cells. */
#include "ui/ui_internal.h"

#include <stdio.h>

#include "src/model/rows.h"
#include "ui/view_tree.h"

/* A rate per second: exact below 100 000, then k and M as counts are. */
static void view_neuro_rate(char *a, size_t len, double v)
{
    draw_fmt_count(v > 0.0 ? (uint64_t)(v + 0.5) : 0, a, len);
}

static void view_neuro_cell(struct ui *u, WINDOW *w, int y, const struct layout_place *p,
                            const struct rows *rows, const struct row *r, enum ui_role base)
{
    const struct row_neuro *f = rows_neuro_of(rows, r);
    bool valid = false;
    char a[32];

    if (f == NULL) {
        return;
    }
    switch (p->id) {
    case LAYOUT_COL_NEURONS:
        valid = (f->have & ROW_N_NEURONS) != 0;
        draw_fmt_count(f->neurons, a, sizeof(a));
        break;
    case LAYOUT_COL_FIRING:
        valid = (f->have & ROW_N_FIRING) != 0;
        snprintf(a, sizeof(a), "%.1f", f->firing_hz);
        break;
    case LAYOUT_COL_SPIKES:
        valid = (f->rated & 1U << ROW_NF_SPIKES) != 0;
        view_neuro_rate(a, sizeof(a), f->per_sec[ROW_NF_SPIKES]);
        break;
    case LAYOUT_COL_SYNOPS:
        valid = (f->rated & 1U << ROW_NF_SYNOPS) != 0;
        view_neuro_rate(a, sizeof(a), f->per_sec[ROW_NF_SYNOPS]);
        break;
    case LAYOUT_COL_HOPS:
        valid = (f->rated & 1U << ROW_NF_HOPS) != 0;
        view_neuro_rate(a, sizeof(a), f->per_sec[ROW_NF_HOPS]);
        break;
    case LAYOUT_COL_BUFFER:
        valid = (f->have & ROW_N_BUFFER) != 0;
        snprintf(a, sizeof(a), "%.1f", f->buffer_pct);
        break;
    case LAYOUT_COL_ESTEP:
        valid = (f->have & ROW_N_STEP) != 0;
        draw_fmt_si(f->step_j, "J", a, sizeof(a));
        break;
    case LAYOUT_COL_POWER:
        valid = (f->have & ROW_N_POWER) != 0;
        draw_fmt_si(f->power_w, "W", a, sizeof(a));
        break;
    default:
        return;
    }
    if (!valid) {
        draw_put_right(u, w, y, p->x, p->w, base == UI_ROLE_SELECT ? base : UI_ROLE_DIM, "-");
        return;
    }
    draw_put_right(u, w, y, p->x, p->w, base, a);
}

static const struct view_tree_kind view_neuro_kind = {
    .empty = "no spiking workload: counters named spikes or layers.N.core.C.spikes (nctop --demo "
             "snn)",
    .windowed = false,
    .shares = false,
    .cell = view_neuro_cell,
};

static void *view_neuro_init(const struct ui_opts *opts)
{
    return view_tree_new(&view_neuro_kind, opts);
}

/* The tab line: where the energy comes from (the target's model or the workload's own
 * measurement, and whether the model lacks a term), then the tree's facts. */
static void view_neuro_tabs(struct ui *u, struct view *v, WINDOW *w, int x)
{
    const struct rows_summary *s = ui_shown(u);
    const struct row_neuro *net = s != NULL ? &s->neuro.net : NULL;
    int ww = getmaxx(w);
    char a[96];

    if (net != NULL && (net->have & (ROW_N_ENERGY | ROW_N_POWER)) != 0) {
        if ((net->have & ROW_N_MEASURED) != 0) {
            snprintf(a, sizeof(a), "energy: measured  ");
        } else {
            snprintf(a, sizeof(a), "energy: %s model%s  ",
                     s->neuro.target != NULL ? s->neuro.target : "?",
                     (net->have & ROW_N_PARTIAL) != 0 ? ", lower bound" : "");
        }
        x += draw_put(u, w, 0, x, ww - x, UI_ROLE_DIM, a);
    }
    view_tree_tabs(u, v, w, x);
}

const struct view_ops view_neuro_ops = {
    .title = "Neuro",
    .header = HEADER_ALL,
    .init = view_neuro_init,
    .free = view_tree_free,
    .tree = view_tree_tree,
    .prepare = view_tree_prepare,
    .tabs = view_neuro_tabs,
    .name_want = view_tree_name_want,
    .draw = view_tree_draw,
    .length = view_tree_length,
    .move_by = view_tree_move_by,
    .enter = view_tree_enter,
    .click = view_tree_click,
};
