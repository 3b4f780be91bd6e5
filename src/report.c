/* SPDX-License-Identifier: MIT */
/* Text tables over rows, for terminals and pipes: fixed columns, a tree indented two spaces per
 * level, `-` for an absent value (never a zero that pretends to be data). Every name comes
 * from a workload or a file: it is printed escaped (util_escape), never raw to a terminal. */
#include "report.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "rows.h"
#include "store.h"
#include "util.h"

#define REPORT_NAME_MIN 24
#define REPORT_NAME_MAX 48
#define REPORT_ESC_BYTES 256 /* an escaped name, cut to fit */

static const char *report_state(int state, bool replayed)
{
    if (state == STORE_PROC_LIVE) {
        return replayed ? "replay" : "live";
    }
    return state == STORE_PROC_EXITED ? "exited" : "error";
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

static void report_cell_ns(FILE *out, bool valid, uint64_t ns)
{
    char buf[32];

    if (valid) {
        util_format_ns(ns, false, buf, sizeof(buf));
    } else {
        strcpy(buf, "-");
    }
    fprintf(out, " %9s", buf);
}

static void report_timed(FILE *out, const struct rows *rows, const char *title, bool kernels)
{
    int w = report_name_width(rows);

    fprintf(out, "\n%-*s %9s %9s %9s %9s %9s %9s %9s %7s%s\n", w, title, "last", "mean", "p50",
            "p95", "p99", "max", "count", "share", kernels ? "  backend" : "");
    for (size_t i = 0; i < rows->n; i++) {
        const struct row *r = &rows->v[i];
        bool win = r->flags & ROW_F_WIN, any = r->flags & (ROW_F_WIN | ROW_F_ALL);
        char share[16];

        report_name(out, r, w);
        report_cell_ns(out, any, win ? r->win.last_ns : r->all.last_ns);
        report_cell_ns(out, win, r->win.mean_ns);
        report_cell_ns(out, win, r->win.p50_ns);
        report_cell_ns(out, win, r->win.p95_ns);
        report_cell_ns(out, win, r->win.p99_ns);
        report_cell_ns(out, win, r->win.max_ns);
        fprintf(out, " %9" PRIu64, win ? r->win.count : 0);
        if (r->flags & ROW_F_SHARE) {
            snprintf(share, sizeof(share), "%.1f%%", r->share_pct);
        } else {
            strcpy(share, "-");
        }
        fprintf(out, " %7s", share);
        if (kernels) {
            report_text(out, "  ", r->backend, "-", "");
        }
        fputc('\n', out);
    }
}

static void report_memory(FILE *out, const struct rows *rows)
{
    int w = report_name_width(rows);

    fprintf(out, "\n%-*s %11s %11s %11s\n", w, "MEMORY", "current", "peak", "capacity");
    for (size_t i = 0; i < rows->n; i++) {
        const struct row *r = &rows->v[i];
        char cur[32], peak[32], cap[32];

        util_format_bytes(r->bytes, false, cur, sizeof(cur));
        if (r->flags & ROW_F_PEAK) {
            util_format_bytes(r->peak_bytes, false, peak, sizeof(peak));
        } else {
            strcpy(peak, "-");
        }
        if (r->flags & ROW_F_CAPACITY) {
            util_format_bytes((int64_t)r->capacity_bytes, false, cap, sizeof(cap));
        } else {
            strcpy(cap, "-");
        }
        report_name(out, r, w);
        fprintf(out, " %11s %11s %11s%s\n", cur, peak, cap,
                (r->flags & ROW_F_DEVICE) ? "  device" : "");
    }
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

static void report_summary(FILE *out, const struct rows_summary *s)
{
    char a[32], b[32];

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
    if (s->ttft.valid && s->ttft.win.count > 0) {
        util_format_ns(s->ttft.win.p50_ns, false, a, sizeof(a));
        fprintf(out, "  TTFT p50 %s", a);
    } else if (s->ttft.valid) {
        util_format_ns(s->ttft.all.last_ns, false, a, sizeof(a));
        fprintf(out, "  TTFT %s", a);
    }
    if (s->itl.valid && s->itl.win.count > 0) {
        util_format_ns(s->itl.win.p50_ns, false, a, sizeof(a));
        util_format_ns(s->itl.win.p99_ns, false, b, sizeof(b));
        fprintf(out, "  ITL p50 %s p99 %s", a, b);
    }
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
    if (s->invalid != 0) {
        fprintf(out, "  invalid %" PRIu64, s->invalid);
        report_text(out, " (", s->invalid_reason, "?", ")");
    }
    fputc('\n', out);
}

int report_write(FILE *out, const struct store *st, uint64_t now_ns, uint64_t real_ns)
{
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
        if (rows.n > 0) {
            report_timed(out, &rows, "LATENCY", false);
        }
        rows_clear(&rows);
        rows_build_memory(&rows, p, now_ns);
        if (rows.n > 0) {
            report_memory(out, &rows);
        }
        rows_clear(&rows);
        rows_build_kernels(&rows, p, now_ns);
        if (rows.n > 0) {
            report_timed(out, &rows, "KERNELS", true);
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
