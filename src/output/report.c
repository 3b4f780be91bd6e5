/* SPDX-License-Identifier: MIT */
/* Text tables over rows, for terminals and pipes: fixed columns, a tree indented two spaces per
 * level, `-` for an absent value (never a zero that pretends to be data). Every name comes
 * from a workload or a file: it is printed escaped (util_escape), never raw to a terminal. */
#include "src/output/report.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "src/base/util.h"
#include "src/base/xalloc.h"
#include "src/model/rows.h"
#include "src/model/store.h"

#define REPORT_NAME_MIN 24
#define REPORT_NAME_MAX 48
#define REPORT_ESC_BYTES 256 /* an escaped name, cut to fit */

static const char *report_state(enum rows_state state, bool replayed)
{
    if (state == ROWS_STATE_LIVE) {
        return replayed ? "replay" : "live";
    }
    return state == ROWS_STATE_EXITED ? "exited" : "error";
}

/* Width of the name column: the longest indented label, within bounds. */
static int report_name_width(const struct rows *rows)
{
    size_t w = REPORT_NAME_MIN;

    for (size_t i = 0; i < rows->n; i++) {
        char esc[REPORT_ESC_BYTES];
        size_t l =
            strlen(util_escape(rows->v[i].label, esc, sizeof(esc))) + 2 * (size_t)rows->v[i].level;

        w = l > w ? l : w;
    }
    return (int)(w > REPORT_NAME_MAX ? REPORT_NAME_MAX : w);
}

/* pre, s (NULL: dflt) escaped, post: the free-text fields of the summary and the tables. */
static void report_text(FILE *out, const char *pre, const char *s, const char *dflt,
                        const char *post)
{
    char esc[REPORT_ESC_BYTES];

    fputs(pre, out);
    fputs(util_escape(s != NULL ? s : dflt, esc, sizeof(esc)), out);
    fputs(post, out);
}

static void report_name(FILE *out, const struct row *r, int width)
{
    char esc[REPORT_ESC_BYTES];
    int indent = 2 * r->level;

    if (indent > width - 4) {
        indent = width - 4;
    }
    fprintf(out, "%*s%-*.*s", indent, "", width - indent, width - indent,
            util_escape(r->label, esc, sizeof(esc)));
}

static void report_cell_ns(FILE *out, int width, bool valid, uint64_t ns)
{
    char buf[32];

    if (valid) {
        util_format_ns(ns, false, buf, sizeof(buf));
    } else {
        strcpy(buf, "-");
    }
    fprintf(out, " %*s", width, buf);
}

static void report_cell_bytes(FILE *out, int width, bool valid, int64_t bytes)
{
    char buf[32];

    if (valid) {
        util_format_bytes(bytes, false, buf, sizeof(buf));
    } else {
        strcpy(buf, "-");
    }
    fprintf(out, " %*s", width, buf);
}

/* The text width of a column: the display's figures without its bars. */
static int report_col_width(enum layout_col_id id)
{
    switch (id) {
    case LAYOUT_COL_SHARE:
        return 7;
    case LAYOUT_COL_DP99:
    case LAYOUT_COL_DMEAN:
        return 15;
    case LAYOUT_COL_SLOWEST:
        return 22;
    case LAYOUT_COL_BACKEND:
        return 8;
    case LAYOUT_COL_CURRENT:
    case LAYOUT_COL_PEAK:
    case LAYOUT_COL_CAPACITY:
    case LAYOUT_COL_SPIKES:
    case LAYOUT_COL_SYNOPS:
        return 11;
    default:
        return 9;
    }
}

/* A cell of a neuro row: plain numbers in the units of the column titles. */
static void report_cell_neuro(FILE *out, int w, const struct row_neuro *f, enum layout_col_id id)
{
    bool valid;
    char buf[32];
    double v;

    switch (id) {
    case LAYOUT_COL_NEURONS:
        valid = (f->have & ROW_N_NEURONS) != 0;
        v = (double)f->neurons;
        break;
    case LAYOUT_COL_FIRING:
        valid = (f->have & ROW_N_FIRING) != 0;
        v = f->firing_hz;
        break;
    case LAYOUT_COL_SPIKES:
        valid = (f->rated & 1U << ROW_NF_SPIKES) != 0;
        v = f->per_sec[ROW_NF_SPIKES];
        break;
    case LAYOUT_COL_SYNOPS:
        valid = (f->rated & 1U << ROW_NF_SYNOPS) != 0;
        v = f->per_sec[ROW_NF_SYNOPS];
        break;
    case LAYOUT_COL_HOPS:
        valid = (f->rated & 1U << ROW_NF_HOPS) != 0;
        v = f->per_sec[ROW_NF_HOPS];
        break;
    case LAYOUT_COL_BUFFER:
        valid = (f->have & ROW_N_BUFFER) != 0;
        v = f->buffer_pct;
        break;
    case LAYOUT_COL_ESTEP:
        valid = (f->have & ROW_N_STEP) != 0;
        v = f->step_j;
        break;
    case LAYOUT_COL_POWER:
        valid = (f->have & ROW_N_POWER) != 0;
        v = f->power_w;
        break;
    default:
        return;
    }
    if (!valid) {
        strcpy(buf, "-");
    } else if (id == LAYOUT_COL_ESTEP || id == LAYOUT_COL_POWER) {
        snprintf(buf, sizeof(buf), "%.3g", v); /* J and W: any magnitude */
    } else if (id == LAYOUT_COL_FIRING || id == LAYOUT_COL_BUFFER) {
        snprintf(buf, sizeof(buf), "%.1f", v);
    } else {
        snprintf(buf, sizeof(buf), "%.0f", v);
    }
    fprintf(out, " %*s", w, buf);
}

/* One cell, a blank before it; last: the line's last (a text cell is not padded). */
static void report_cell(FILE *out, const struct rows *rows, const struct row *r,
                        enum layout_col_id id, double mshare, bool last)
{
    bool win = r->flags & ROW_F_WIN, any = r->flags & (ROW_F_WIN | ROW_F_ALL);
    int w = report_col_width(id);
    char buf[32];

    switch (id) {
    case LAYOUT_COL_LAST:
        report_cell_ns(out, w, rows_stat_known(&r->all, any, ROW_S_LAST),
                       win ? r->win.last_ns : r->all.last_ns);
        break;
    case LAYOUT_COL_MEAN:
        report_cell_ns(out, w, rows_stat_known(&r->win, win, ROW_S_MEAN), r->win.mean_ns);
        break;
    case LAYOUT_COL_P50:
        report_cell_ns(out, w, rows_stat_known(&r->win, win, ROW_S_P50), r->win.p50_ns);
        break;
    case LAYOUT_COL_P95:
        report_cell_ns(out, w, rows_stat_known(&r->win, win, ROW_S_P95), r->win.p95_ns);
        break;
    case LAYOUT_COL_P99:
        report_cell_ns(out, w, rows_stat_known(&r->win, win, ROW_S_P99), r->win.p99_ns);
        break;
    case LAYOUT_COL_MAX:
        report_cell_ns(out, w, rows_stat_known(&r->win, win, ROW_S_MAX), r->win.max_ns);
        break;
    case LAYOUT_COL_TOTAL:
        report_cell_ns(out, w, rows_stat_known(&r->win, win, ROW_S_TOTAL), r->win.total_ns);
        break;
    case LAYOUT_COL_COUNT:
        if ((r->win.absent & ROW_S_COUNT) != 0) {
            fprintf(out, " %*s", w, "-"); /* a replayed log without counts */
        } else {
            fprintf(out, " %*" PRIu64, w, win ? r->win.count : 0);
        }
        break;
    case LAYOUT_COL_SHARE:
        if (r->kind == ROW_MEMORY ? mshare >= 0 : (r->flags & ROW_F_SHARE) != 0) {
            snprintf(buf, sizeof(buf), "%.1f%%", r->kind == ROW_MEMORY ? mshare : r->share_pct);
        } else {
            strcpy(buf, "-");
        }
        fprintf(out, " %*s", w, buf);
        break;
    case LAYOUT_COL_CURRENT:
        report_cell_bytes(out, w, true, r->bytes);
        break;
    case LAYOUT_COL_PEAK:
        report_cell_bytes(out, w, (r->flags & ROW_F_PEAK) != 0, r->peak_bytes);
        break;
    case LAYOUT_COL_CAPACITY:
        report_cell_bytes(out, w, (r->flags & ROW_F_CAPACITY) != 0, (int64_t)r->capacity_bytes);
        break;
    case LAYOUT_COL_BACKEND: {
        char esc[REPORT_ESC_BYTES];

        fprintf(out, " %-*s", last ? 0 : w,
                util_escape(r->backend != NULL ? r->backend : "-", esc, sizeof(esc)));
        break;
    }
    case LAYOUT_COL_DP99:
    case LAYOUT_COL_DMEAN:
        /* Against the window's figures, as the columns before them. */
        rows_format_delta(r, &r->win, win, id == LAYOUT_COL_DP99 ? ROW_S_P99 : ROW_S_MEAN, buf,
                          sizeof(buf));
        fprintf(out, " %*s", w, buf);
        break;
    case LAYOUT_COL_P99_MIN:
    case LAYOUT_COL_P99_MED:
    case LAYOUT_COL_P99_MAX:
        report_cell_ns(out, w, (r->flags & ROW_F_SPREAD) != 0,
                       id == LAYOUT_COL_P99_MIN   ? r->spread_min_ns
                       : id == LAYOUT_COL_P99_MED ? r->spread_median_ns
                                                  : r->spread_max_ns);
        break;
    case LAYOUT_COL_SLOWEST: {
        char esc[REPORT_ESC_BYTES];

        fprintf(out, " %-*s", last ? 0 : w,
                util_escape((r->flags & ROW_F_SPREAD) != 0 ? r->slowest : "-", esc, sizeof(esc)));
        break;
    }
    default:
        if (rows_neuro_of(rows, r) != NULL) {
            report_cell_neuro(out, w, rows_neuro_of(rows, r), id);
        }
        break;
    }
}

/* One view's table: the columns the view enables in the display's order and with its titles
 * (the view's name over the names), the rows in the display's order. */
static void report_table(FILE *out, const struct rows *rows, enum layout_view v, const char *title,
                         const struct report_view *view)
{
    const struct layout_col *cols;
    size_t ncols = layout_view_columns(v, &cols);
    uint64_t mask = view->view_columns[v] != 0 ? view->view_columns[v] : view->columns;
    struct rows_sort sort = {.key = ROWS_SORT_NONE, .reverse = view->sort_reverse};
    uint32_t *order = xreallocarray(NULL, rows->n, sizeof(*order));
    double *mshare = xreallocarray(NULL, rows->n, sizeof(*mshare));
    int w = report_name_width(rows);
    size_t lastc = 0;

    mask = layout_view_enabled(v, mask != 0 ? mask : LAYOUT_COLS_ALL);
    if (rows->n == 0 || (rows->v[0].flags & (ROW_F_BASE | ROW_F_BASE_NEW)) == 0) {
        mask &= ~LAYOUT_COLS_BASELINE; /* no --baseline */
    }
    mask = layout_rows_enabled(v, mask, rows);
    for (size_t c = 0; c < ncols; c++) {
        lastc = (mask & (1ULL << cols[c].id)) ? c : lastc;
    }
    if (view->sort_col >= 0 && layout_view_has(v, view->sort_col)) {
        sort.key = layout_col_sort_key((enum layout_col_id)view->sort_col);
    }
    rows_sort(rows, &sort, order);
    if (v == LAYOUT_VIEW_MEMORY) {
        rows_memory_shares(rows, mshare);
    }

    fprintf(out, "\n%-*s", w, title);
    for (size_t c = 0; c < ncols; c++) {
        if (cols[c].id == LAYOUT_COL_NAME || !(mask & (1ULL << cols[c].id))) {
            continue;
        }
        /* Text columns read from the left, figures from the right (as in the display). */
        if (cols[c].id == LAYOUT_COL_BACKEND || cols[c].id == LAYOUT_COL_SLOWEST) {
            fprintf(out, " %-*s", c == lastc ? 0 : report_col_width(cols[c].id), cols[c].title);
        } else {
            /* printf pads bytes: a title's two-byte delta sign is one column. */
            int wide = (unsigned char)cols[c].title[0] == 0xCE ? 1 : 0;

            fprintf(out, " %*s", report_col_width(cols[c].id) + wide, cols[c].title);
        }
    }
    fputc('\n', out);
    for (size_t i = 0; i < rows->n; i++) {
        const struct row *r = &rows->v[order[i]];

        report_name(out, r, w);
        for (size_t c = 0; c < ncols; c++) {
            if (cols[c].id != LAYOUT_COL_NAME && (mask & (1ULL << cols[c].id))) {
                report_cell(out, rows, r, cols[c].id,
                            v == LAYOUT_VIEW_MEMORY ? mshare[order[i]] : -1, c == lastc);
            }
        }
        fputs((r->flags & ROW_F_DEVICE) ? "  device\n" : "\n", out);
    }
    free(order);
    free(mshare);
}

/* The one-line summary of a process: what htop's header would say. */
/* The eBPF collector's figures (--bpf): scheduler time, switches and faults per thread, then
 * the syscalls by total time. */
static void report_sys(FILE *out, const struct rows_summary *s)
{
    char esc[REPORT_ESC_BYTES], on[16], rq[16], bl[16];
    bool any = false;

    for (size_t i = 0; i < s->nthread_list; i++) {
        any = any || s->threads[i].sched_valid;
    }
    if (any) {
        fprintf(out, "\n%-24s %8s %10s %10s %10s %12s %12s\n", "THREADS (eBPF)", "tid", "on-CPU",
                "run-queue", "blocked", "switches", "faults");
    }
    for (size_t i = 0; i < s->nthread_list; i++) {
        const struct rows_thread *t = &s->threads[i];
        char sw[32], fl[32];

        if (!t->sched_valid) {
            continue;
        }
        util_format_ns(t->oncpu_ns, true, on, sizeof(on));
        util_format_ns(t->runq_ns, true, rq, sizeof(rq));
        util_format_ns(t->blocked_ns, true, bl, sizeof(bl));
        snprintf(sw, sizeof(sw), "%" PRIu64 "/%" PRIu64, t->vol_switches, t->invol_switches);
        snprintf(fl, sizeof(fl), "%" PRIu64 "/%" PRIu64, t->minor_faults, t->major_faults);
        fprintf(out, "%-24.24s %8d %10s %10s %10s %12s %12s%s\n",
                util_escape(t->name[0] != '\0' ? t->name : "-", esc, sizeof(esc)), (int)t->tid, on,
                rq, bl, sw, fl, t->exited ? "  exited" : "");
    }
    if (s->nsyscalls == 0) {
        return;
    }
    fprintf(out, "\n%-24s %12s %10s %10s\n", "SYSCALLS (eBPF)", "count", "total", "mean");
    for (size_t i = 0; i < s->nsyscalls; i++) {
        const struct rows_syscall *c = &s->syscalls[i];

        util_format_ns(c->total_ns, true, on, sizeof(on));
        util_format_ns(c->count > 0 ? c->total_ns / c->count : 0, true, rq, sizeof(rq));
        fprintf(out, "%-24.24s %12" PRIu64 " %10s %10s\n",
                util_escape(c->name != NULL ? c->name : "?", esc, sizeof(esc)), c->count, on, rq);
    }
}

/* "  NAME p50 X p95 Y" of a marker series: the window's figures, else (nothing in the window)
 * those since start, as the display's header shows them and the JSON's figures are. */
static void report_marker(FILE *out, const char *name, const struct rows_marker *m)
{
    const struct row_stats *st = m->win.count > 0 ? &m->win : &m->all;
    char a[32], b[32];

    if (!m->valid || st->count == 0) {
        return;
    }
    util_format_ns(st->p50_ns, false, a, sizeof(a));
    util_format_ns(st->p95_ns, false, b, sizeof(b));
    fprintf(out, "  %s p50 %s p95 %s", name, a, b);
}

static void report_summary(FILE *out, const struct rows_summary *s)
{
    char a[32];

    report_text(out, "", s->label != NULL && *s->label ? s->label : NULL, "?", "");
    fprintf(out, " [pid %d] %s", (int)s->pid, report_state(s->state, s->replayed));
    if (s->reason != NULL) {
        report_text(out, " (", s->reason, "", ")");
    }
    for (size_t i = 0; i < s->ncounters; i++) {
        if (s->counters[i].rate_valid) {
            report_text(out, "  ", s->counters[i].name, "", "/s");
            fprintf(out, " %.1f", s->counters[i].per_sec);
        }
    }
    if (s->step.valid && s->step.win.count > 0) {
        util_format_ns(s->step.win.p50_ns, false, a, sizeof(a));
        fprintf(out, "  step p50 %s", a);
    }
    report_marker(out, "TTFT", &s->ttft);
    report_marker(out, "ITL", &s->itl);
    if (s->requests.valid) {
        fprintf(out, "  requests running %" PRIu64 " ok %" PRIu64 " failed %" PRIu64,
                s->requests.running, s->requests.finished[0],
                s->requests.finished[1] + s->requests.finished[2]);
        if (s->requests.e2e.valid && s->requests.e2e.win.count > 0) {
            util_format_ns(s->requests.e2e.win.p50_ns, false, a, sizeof(a));
            fprintf(out, " e2e p50 %s", a);
        }
    }
    if (s->host_valid) {
        util_format_bytes((int64_t)s->rss_bytes, false, a, sizeof(a));
        fprintf(out, "  RSS %s", a);
    }
    if (s->cpu_valid) {
        fprintf(out, "  CPU %.0f%%", s->cpu_pct);
    }
    fprintf(out, "  events %" PRIu64 " (%.0f/s)  dropped %" PRIu64, s->events, s->events_per_sec,
            s->dropped);
    /* The causes of what was lost, and span ends whose begin nctop never saw. */
    for (size_t k = 0, n = 0; k < ROWS_LOSS_KINDS; k++) {
        if (s->losses[k] != 0) {
            fprintf(out, "%s%s %" PRIu64, n++ == 0 ? " (" : ", ", rows_loss_names[k], s->losses[k]);
        }
        if (k + 1 == ROWS_LOSS_KINDS && n != 0) {
            fputc(')', out);
        }
    }
    if (s->late_ends != 0) {
        fprintf(out, "  late span ends %" PRIu64, s->late_ends);
    }
    if (s->folded != 0) {
        fprintf(out, "  folded into (other) %" PRIu64, s->folded);
    }
    if (s->invalid != 0) {
        fprintf(out, "  invalid %" PRIu64, s->invalid);
        report_text(out, " (", s->invalid_reason, "?", ")");
    }
    fputc('\n', out);
}

int report_write_view(FILE *out, const struct store *st, uint64_t now_ns, uint64_t real_ns,
                      const struct report_view *view)
{
    static const struct report_view all = {.sort_col = -1};
    struct rows rows;
    char ts[40];
    size_t n = store_nprocs(st);

    if (real_ns == 0) {
        snprintf(ts, sizeof(ts), "time of day unknown");
    } else {
        util_format_utc_ms(real_ns, ts, sizeof(ts));
    }
    fprintf(out, "nctop %s  %s  window %.0f s  %zu process%s\n", NCTOP_VERSION, ts,
            (double)store_config(st)->window_ns / 1e9, n, n == 1 ? "" : "es");
    rows_init(&rows);
    for (size_t i = 0; i < n; i++) {
        const struct store_proc *p = store_proc_at(st, i);
        struct rows_summary sum;

        rows_build_summary(&sum, p, now_ns);
        fputc('\n', out);
        report_summary(out, &sum);

        rows_clear(&rows);
        rows_build_latency(&rows, p, now_ns);
        rows_compare_baseline(&rows, 0, view != NULL ? view->baseline : NULL, sum.label);
        if (rows.n > 0) {
            report_table(out, &rows, LAYOUT_VIEW_LATENCY, "LATENCY", view != NULL ? view : &all);
        }
        rows_clear(&rows);
        rows_build_memory(&rows, p, now_ns);
        if (rows.n > 0) {
            report_table(out, &rows, LAYOUT_VIEW_MEMORY, "MEMORY", view != NULL ? view : &all);
        }
        rows_clear(&rows);
        rows_build_kernels(&rows, p, now_ns);
        if (rows.n > 0) {
            report_table(out, &rows, LAYOUT_VIEW_KERNELS, "KERNELS", view != NULL ? view : &all);
        }
        rows_clear(&rows);
        rows_build_neuro(&rows, p, now_ns);
        if (rows.n > 0) {
            report_table(out, &rows, LAYOUT_VIEW_NEURO, "NEURO", view != NULL ? view : &all);
        }
        if (sum.sys_valid) {
            report_sys(out, &sum);
        }
        rows_summary_done(&sum);
    }
    rows_done(&rows);
    if (n == 0) {
        fputs("no workloads: start one linked with libnctop, or use --demo\n", out);
    }
    return fflush(out) == EOF ? -errno : 0;
}

int report_write(FILE *out, const struct store *st, uint64_t now_ns, uint64_t real_ns)
{
    return report_write_view(out, st, now_ns, real_ns, NULL);
}
