/* SPDX-License-Identifier: MIT */
#include "src/frame.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/base/xalloc.h"
#include "src/model/alerts.h"
#include "src/model/store.h"

/* One rule of the status line: its message, or NULL when it has nothing to say. */
struct frame_rule {
    const char *(*say)(const struct frame_status_in *in, char *buf, size_t len);
    bool error;
};

static const char *frame_say_message(const struct frame_status_in *in, char *buf, size_t len)
{
    (void)buf;
    (void)len;
    return in->message;
}

/* Firing alerts stay on the status line while they fire: how many, and the first (the most
 * severe, the oldest); the Alerts view lists them all. */
static const char *frame_say_alerts(const struct frame_status_in *in, char *buf, size_t len)
{
    if (in->alerts_firing == 0 || in->alert_first == NULL) {
        return NULL;
    }
    if (in->alerts_firing == 1) {
        snprintf(buf, len, "ALERT %s", in->alert_first);
    } else {
        snprintf(buf, len, "%zu ALERTS (a: list) %s", in->alerts_firing, in->alert_first);
    }
    return buf;
}

/* Replay: what could not be read stays visible (the count and the first). */
static const char *frame_say_replay_problems(const struct frame_status_in *in, char *buf,
                                             size_t len)
{
    if (!in->replay || in->replay_problems == 0) {
        return NULL;
    }
    snprintf(buf, len, "replay: %llu problem(s): %s%s", (unsigned long long)in->replay_problems,
             in->replay_problem != NULL ? in->replay_problem : "",
             in->replay_done ? " [end of input]" : "");
    return buf;
}

static const char *frame_say_replay_end(const struct frame_status_in *in, char *buf, size_t len)
{
    (void)buf;
    (void)len;
    return in->replay && in->replay_done ? "replay: end of input" : NULL;
}

static const char *frame_say_note(const struct frame_status_in *in, char *buf, size_t len)
{
    (void)buf;
    (void)len;
    return in->note != NULL && in->note[0] != '\0' ? in->note : NULL;
}

/* NVML is there but failing: say why for as long as it lasts. */
static const char *frame_say_gpu(const struct frame_status_in *in, char *buf, size_t len)
{
    (void)buf;
    (void)len;
    return in->gpu_error;
}

/* A collector's complaint about the shown process stays visible. */
static const char *frame_say_invalid(const struct frame_status_in *in, char *buf, size_t len)
{
    (void)buf;
    (void)len;
    return in->proc_invalid;
}

/* The status line's rules, the first with something to say wins. The fresh message's colour
 * is its own (message_error). */
static const struct frame_rule frame_rules[] = {
    {frame_say_message, false},    {frame_say_alerts, true}, {frame_say_replay_problems, true},
    {frame_say_replay_end, false}, {frame_say_note, true},   {frame_say_gpu, true},
    {frame_say_invalid, true},
};

const char *frame_status(const struct frame_status_in *in, bool *error, char *buf, size_t len)
{
    for (size_t i = 0; i < sizeof(frame_rules) / sizeof(frame_rules[0]); i++) {
        const char *s = frame_rules[i].say(in, buf, len);

        if (s != NULL) {
            *error =
                frame_rules[i].say == frame_say_message ? in->message_error : frame_rules[i].error;
            return s;
        }
    }
    *error = false;
    return NULL;
}

void frame_init(struct frame *f)
{
    memset(f, 0, sizeof(*f));
    rows_init(&f->view_rows);
    rows_init(&f->mem_rows);
}

void frame_done(struct frame *f)
{
    rows_done(&f->view_rows);
    rows_done(&f->mem_rows);
    rows_gpus_done(&f->gpus);
    for (size_t i = 0; i < f->nsums; i++) {
        rows_summary_done(&f->sums[i]);
    }
    free(f->sums);
    memset(f, 0, sizeof(*f));
}

void frame_build(struct frame *f, const struct store *st, const struct frame_input *in)
{
    size_t n = store_nprocs(st), sel = 0;
    const struct store_proc *p = NULL;
    struct frame_status_in status = in->status;

    for (size_t i = 0; i < f->nsums; i++) {
        rows_summary_done(&f->sums[i]);
    }
    if (n > f->sums_cap) {
        f->sums_cap = n * 2;
        f->sums = xreallocarray(f->sums, f->sums_cap, sizeof(*f->sums));
    }
    f->nsums = n;
    for (size_t i = 0; i < n; i++) {
        rows_build_summary(&f->sums[i], store_proc_at(st, i), in->now_ns);
        if (in->want_pid != 0 && f->sums[i].pid == in->want_pid) {
            sel = i;
        }
    }
    /* The latency rows are kept from frame to frame while the tree keeps its shape. */
    if (n == 0 || in->view != LAYOUT_VIEW_LATENCY) {
        rows_clear(&f->view_rows);
    }
    rows_clear(&f->mem_rows);
    memset(&f->ui, 0, sizeof(f->ui));
    if (n > 0) {
        p = store_proc_at(st, sel);
        if (in->view == LAYOUT_VIEW_LATENCY) {
            rows_want_keys(&f->view_rows, &in->sort);
            /* A comparison with a baseline reads the rows' since-start figures. */
            rows_update_latency(&f->view_rows, p, in->now_ns,
                                in->baseline != NULL ? in->omit & ~(unsigned)ROWS_OMIT_ALL
                                                     : in->omit);
            rows_compare_baseline(&f->view_rows, 0, in->baseline, f->sums[sel].label);
        } else if (in->view == LAYOUT_VIEW_KERNELS) {
            rows_build_kernels(&f->view_rows, p, in->now_ns);
        } else if (in->view == LAYOUT_VIEW_NEURO) {
            rows_build_neuro(&f->view_rows, p, in->now_ns);
        } else if (in->view == LAYOUT_VIEW_COMPILE) {
            rows_build_compile(&f->view_rows, p, in->now_ns);
        }
        rows_build_memory(&f->mem_rows, p, in->now_ns);
        f->ui.rows = in->view == LAYOUT_VIEW_MEMORY ? &f->mem_rows : &f->view_rows;
        /* A replayed pid is a number from the file: the live process that has it now (if
         * any) is someone else, so a replay shows no uptime; nor does a fleet's (another
         * machine's pid). */
        f->ui.uptime_valid = !status.replay && store_proc_fleet(p) == STORE_FLEET_NONE &&
                             in->uptime != NULL && store_proc_state(p) == STORE_PROC_LIVE &&
                             in->uptime(store_proc_pid(p), &f->ui.uptime_ns);
        status.proc_invalid = f->sums[sel].invalid_reason;
    }
    f->ui.memory = &f->mem_rows;
    f->ui.procs = f->sums;
    f->ui.nprocs = n;
    f->ui.sel_proc = n > 0 ? sel : 0;
    f->ui.window_ns = store_config(st)->window_ns;
    f->ui.log_name = in->log_name;
    rows_gpus_done(&f->gpus);
    rows_build_gpus(&f->gpus, st);
    f->ui.gpus = &f->gpus;
    status.gpu_error = f->gpus.error;
    status.alerts_firing = alerts_firing(in->alerts, ALERT_WARNING);
    if (status.alerts_firing > 0) {
        status.alert_first =
            alerts_describe(alerts_at(in->alerts, 0), f->alert_text, sizeof(f->alert_text));
    }
    f->ui.alerts = in->alerts;
    f->ui.now_ns = in->now_ns;
    f->ui.status = frame_status(&status, &f->ui.status_error, f->status, sizeof(f->status));
}
