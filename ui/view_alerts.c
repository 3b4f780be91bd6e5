/* SPDX-License-Identifier: MIT */
/* The Alerts view: the pending and firing alerts, firing and critical first (the rule, whose
 * and which object, the figure against its limit, for how long), and under them the rules in
 * force with their thresholds and for-durations. */
#include "ui/ui_internal.h"

#include <stdio.h>

#include "src/model/alerts.h"

static const struct alerts *view_alerts_of(const struct ui *u)
{
    return u->frame != NULL ? u->frame->alerts : NULL;
}

static int view_alerts_name_want(struct ui *u, struct view *v)
{
    (void)u;
    (void)v;
    return 64;
}

static size_t view_alerts_length(struct ui *u, struct view *v)
{
    (void)v;
    return alerts_count(view_alerts_of(u));
}

/* A figure with its kind's unit: "93.7%", "17 events", "2.4x". */
static void view_alerts_figure(const struct alert *al, double x, char *buf, size_t len)
{
    const char *unit = alerts_kind_unit(al->kind);

    snprintf(buf, len, "%.4g%s%s", x, unit[0] == '%' || unit[0] == 'x' ? "" : " ", unit);
}

static void view_alerts_line(struct ui *u, WINDOW *w, int y, const struct alert *al,
                             uint64_t now_ns, bool selected)
{
    enum ui_role base = selected ? UI_ROLE_SELECT : UI_ROLE_TEXT;
    enum ui_role mark = selected ? base : al->state == ALERT_FIRING ? UI_ROLE_WARN : UI_ROLE_DIM;
    char a[ALERTS_OBJECT_LEN + ALERTS_LABEL_LEN + 64];

    if (selected) {
        draw_fill(u, w, y, UI_ROLE_SELECT);
    }
    for (size_t c = 0; c < u->ncols; c++) {
        const struct layout_place *p = &u->cols[c];

        switch (p->id) {
        case LAYOUT_COL_STATE:
            snprintf(a, sizeof(a), "%s", al->state == ALERT_FIRING ? "FIRING" : "pending");
            draw_put_right(u, w, y, p->x, p->w, mark, a);
            break;
        case LAYOUT_COL_NAME: {
            int x = p->x;

            x += draw_put(u, w, y, x, p->w, mark, al->severity == ALERT_CRITICAL ? "!! " : "!  ");
            snprintf(a, sizeof(a), "%s  %s%s%s", al->rule, al->workload,
                     al->workload[0] != '\0' ? "  " : "", al->object);
            x += draw_put(u, w, y, x, p->x + p->w - x, base, a);
            if (al->detail[0] != '\0') {
                snprintf(a, sizeof(a), "  %s", al->detail);
                draw_put(u, w, y, x, p->x + p->w - x, selected ? base : UI_ROLE_DIM, a);
            }
            break;
        }
        case LAYOUT_COL_PID:
            if (al->pid != 0) {
                snprintf(a, sizeof(a), "%d", (int)al->pid);
            } else {
                snprintf(a, sizeof(a), "-");
            }
            draw_put_right(u, w, y, p->x, p->w, base, a);
            break;
        case LAYOUT_COL_CURRENT:
            view_alerts_figure(al, al->value, a, sizeof(a));
            draw_put_right(u, w, y, p->x, p->w, mark == UI_ROLE_DIM ? base : mark, a);
            break;
        case LAYOUT_COL_CAPACITY:
            view_alerts_figure(al, al->threshold, a, sizeof(a));
            draw_put_right(u, w, y, p->x, p->w, base, a);
            break;
        case LAYOUT_COL_TOTAL:
            draw_fmt_ns(now_ns > al->pending_ns ? now_ns - al->pending_ns : 0, a, sizeof(a));
            draw_put_right(u, w, y, p->x, p->w, base, a);
            break;
        default:
            break;
        }
    }
}

/* The rules in force, one a line, dim: what would fire, and when. */
static int view_alerts_rules(struct ui *u, WINDOW *w, int y, const struct alerts *a)
{
    int h = getmaxy(w), ww = getmaxx(w);
    char line[160], f[32];

    if (y < h) {
        draw_put(u, w, y++, 1, ww - 1, UI_ROLE_DIM, "rules (--rules FILE, --alert RULE, nctoprc):");
    }
    for (size_t i = 0; a != NULL && i < alerts_nrules(a) && y < h; i++) {
        const struct alert_rule *r = alerts_rule_at(a, i);
        const char *unit = alerts_kind_unit(r->kind);

        draw_fmt_ns(r->for_ns, f, sizeof(f));
        snprintf(line, sizeof(line), "  %-18s %-8s > %.4g%s%s  for %s  %s%s", r->name,
                 alerts_kind_name(r->kind), r->threshold,
                 unit[0] == '%' || unit[0] == 'x' ? "" : " ", unit, r->for_ns == 0 ? "0" : f,
                 alerts_severity_name(r->severity), r->off ? "  (off)" : "");
        draw_put(u, w, y++, 1, ww - 1, UI_ROLE_DIM, line);
    }
    return y;
}

static void view_alerts_draw(struct ui *u, struct view *v, WINDOW *w)
{
    const struct alerts *a = view_alerts_of(u);
    size_t n = alerts_count(a);
    int h = getmaxy(w), y = 0;
    uint64_t now_ns = u->frame != NULL ? u->frame->now_ns : 0;
    const struct view_list *l;

    if (n == 0) {
        draw_put(u, w, y++, 1, getmaxx(w) - 1, UI_ROLE_DIM, "no alert pending or firing");
        view_alerts_rules(u, w, y + 1, a);
        return;
    }
    l = view_list_scroll(v, n, h);
    for (y = 0; y < h && l->top + (size_t)y < n; y++) {
        size_t i = l->top + (size_t)y;

        view_alerts_line(u, w, y, alerts_at(a, i), now_ns, i == l->sel);
    }
    if (y + 2 < h) {
        view_alerts_rules(u, w, y + 1, a);
    }
}

const struct view_ops view_alerts_ops = {
    .title = "Alerts",
    .header = HEADER_ALL,
    .init = view_list_new,
    .free = view_list_free,
    .name_want = view_alerts_name_want,
    .draw = view_alerts_draw,
    .length = view_alerts_length,
    .move_by = view_list_move_by,
    .click = view_list_click,
};
