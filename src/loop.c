/* SPDX-License-Identifier: MIT */
/* The libuv loop and every handle of nctop: the drain, scan and proc timers, the refresh,
 * the duration limit, signals and the child workload. Callbacks set state; only the loop
 * decides when to print, finish and exit. */
#include "src/loop.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "collectors/collector.h"
#include "collectors/replay/replay.h"
#include "src/base/diag.h"
#include "src/base/util.h"
#include "src/base/xalloc.h"
#include "src/child.h"
#include "src/config.h"
#include "src/format/record.h"
#include "src/frame.h"
#include "src/http.h"
#include "src/libnctop/segment.h"
#include "src/model/alerts.h"
#include "src/model/store.h"
#include "src/otlp_client.h"
#include "src/output/health.h"
#include "src/output/otlp.h"
#include "src/output/outputs.h"
#include "src/output/prom.h"
#include "src/output/report.h"
#include "src/output/snapshot.h"
#include "ui/ui.h"

#define LOOP_MAX_SOURCES 16
#define LOOP_REPLAY_MS 10                    /* the replay clock's step */
#define LOOP_RECORD_FLUSH_NS UTIL_NS_PER_SEC /* a recording reaches its file this often */
#define LOOP_DEMO_START_MS 10000             /* --demo --once: longest wait for a first step */
#define LOOP_STATUS_NS (5 * UTIL_NS_PER_SEC) /* how long a status message stays */
#define LOOP_OTLP_GRACE_MS 2000              /* at exit: the longest wait for the collector */

/* A source of the registries (collectors/collector.h) and its handles. */
struct loop_source {
    const struct collector_ops *ops;
    void *self;
    struct loop *l;
    uv_timer_t *timer; /* its next run */
    uv_poll_t *poll;   /* its descriptor */
    uv_work_t *work;   /* its blocking sample, on a libuv worker thread */
    bool busy;         /* a sample is on a worker */
};

struct loop {
    uv_loop_t *uv;
    const struct config *cfg;
    struct store *store;
    struct loop_source sources[LOOP_MAX_SOURCES]; /* none when replaying */
    size_t nsources;
    uint64_t record_flushed_ns;
    uv_timer_t *refresh;
    uv_timer_t *duration;
    uint64_t duration_wait_ns; /* --demo --once: the timer starts at the first step, or then */
    uv_signal_t *sig[3];
    struct http_server *http; /* --prometheus */
    struct health *health;    /* its /healthz: the figures of earlier renders */
    struct otlp_client *otlp; /* OTLP export, or NULL */
    uv_timer_t *otlp_timer;   /* its export interval */
    uint64_t otlp_start_real; /* the start of every cumulative point */
    uint64_t otlp_since;      /* traces: spans that ended up to this time were sent */
    struct child *child;      /* the command nctop started, or NULL */
    bool finishing;
    /* --once: the end waits for the samples on workers (bounded by their deadlines) */
    bool finish_waits;
    uint64_t printed; /* --batch: snapshots printed */
    int status;       /* exit status of nctop */

    /* Files: the logs and ProfileRecord lines on one timer, the --once print, the recording;
     * the replay clock. */
    struct loop_io io;
    struct outputs *outputs;
    uv_timer_t *files;
    uv_timer_t *replay_timer;
    uint64_t replay_now;  /* the virtual clock (replayed time) */
    uint64_t replay_wall; /* CLOCK_MONOTONIC of its last advance */
    bool replay_end_seen;

    /* The display (CONFIG_OUT_TUI): the terminal's input, resizes, and the last frame. */
    struct ui *ui;
    uv_poll_t *tty;
    uv_signal_t *winch;
    struct frame frame;
    char status_msg[192];
    char note[192]; /* a lasting complaint (a collector that could not start), shown when the
                     * status line has nothing newer */
    bool status_error;
    uint64_t status_ns;
};

static void loop_finish(struct loop *l);
static void loop_otlp_close(struct loop *l, uint64_t grace_ms);
static void loop_on_duration(uv_timer_t *t);
static uv_timer_t *loop_timer(struct loop *l, uv_timer_cb cb, uint64_t first_ms, uint64_t every_ms);

/* The time rows are built at: the replay's virtual clock when replaying, else now. */
static uint64_t loop_now(const struct loop *l)
{
    return l->io.replay != NULL ? l->replay_now : util_mono_ns();
}

/* The wall-clock time of now_ns (loop_now) for timestamps. */
static uint64_t loop_real(const struct loop *l, uint64_t now_ns)
{
    return l->io.replay != NULL ? replay_source_real_ns(l->io.replay, now_ns) : util_real_ns();
}

static void loop_on_close(uv_handle_t *h)
{
    free(h);
}

static void loop_close(uv_handle_t *h)
{
    if (h != NULL && !uv_is_closing(h)) {
        uv_close(h, loop_on_close);
    }
}

/* The pid of the command nctop started, or 0. */
static int32_t loop_child_pid(const struct loop *l)
{
    return l->child != NULL ? child_pid(l->child) : 0;
}

/* --demo --once: the demo needs a moment (longer on a loaded machine) before its first step;
 * the collection time counts from that step, so the snapshot always has some (bounded). */
static void loop_duration_start(struct loop *l, uint64_t now)
{
    const struct store_proc *p = store_proc_find(l->store, loop_child_pid(l));
    uint64_t ms;

    if ((p == NULL || !store_proc_stepped(p)) && now < l->duration_wait_ns) {
        return;
    }
    ms = (l->cfg->duration_ns + UTIL_NS_PER_MS - 1) / UTIL_NS_PER_MS;
    l->duration_wait_ns = 0;
    l->duration = loop_timer(l, loop_on_duration, ms, 0);
}

/* --- the sources: one timer each at the cadence it asks for, its descriptor, its worker ---- */

static void loop_collector_error(struct loop *l, const char *msg);

/* What a source wants shown (new problems since the last look). */
static void loop_source_problems(struct loop *l, struct loop_source *src)
{
    const char *msg;

    if (src->ops->problem != NULL) {
        while ((msg = src->ops->problem(src->self)) != NULL) {
            loop_collector_error(l, msg);
        }
    }
}

/* After a source ran: the recording's drain mark (and its flush once a second), and the
 * --demo --once wait for the first step. */
static void loop_after_run(struct loop *l, uint64_t now)
{
    outputs_record_tick(l->outputs, now);
    if (outputs_recording(l->outputs) && now - l->record_flushed_ns >= LOOP_RECORD_FLUSH_NS) {
        l->record_flushed_ns = now;
        if (outputs_record_flush(l->outputs) != 0 && l->status == 0) {
            /* A recording with a hole is worse than none: stop and say so (record has no
             * display, so stderr is free). */
            diag_print("record: writing %s: %s", l->cfg->output_path,
                       strerror(-record_writer_error(l->io.record)));
            l->status = 1;
            loop_finish(l);
            return;
        }
    }
    if (l->duration_wait_ns != 0) {
        loop_duration_start(l, now);
    }
}

static void loop_on_source(uv_timer_t *t);

/* Whether a source's sample is on a worker now. */
static bool loop_sampling(const struct loop *l)
{
    for (size_t i = 0; i < l->nsources; i++) {
        if (l->sources[i].busy) {
            return true;
        }
    }
    return false;
}

static void loop_source_work(uv_work_t *w)
{
    struct loop_source *src = w->data;

    src->ops->sample(src->self);
}

static void loop_source_work_done(uv_work_t *w, int status)
{
    struct loop_source *src = w->data;

    src->busy = false;
    if (status == 0 && src->ops->publish != NULL) {
        src->ops->publish(src->self);
    }
    if (src->l->finish_waits && !loop_sampling(src->l)) {
        loop_finish(src->l);
    }
}

/* One run of src and its next one; a blocking sample goes to a worker (at most one at a
 * time: a run that finds one still going skips it; driver calls may take long). */
static void loop_source_run(struct loop_source *src, uint64_t now)
{
    struct loop *l = src->l;
    uint64_t ms = src->ops->run(src->self, now);

    if (src->ops->sample != NULL && !src->busy && !l->finishing && !l->finish_waits) {
        src->work->data = src;
        if (uv_queue_work(l->uv, src->work, loop_source_work, loop_source_work_done) == 0) {
            src->busy = true;
        }
    }
    loop_source_problems(l, src);
    if (src->timer != NULL && ms != UINT64_MAX) {
        uv_timer_start(src->timer, loop_on_source, ms, 0);
    }
    loop_after_run(l, now);
}

static void loop_on_source(uv_timer_t *t)
{
    loop_source_run(t->data, util_mono_ns());
}

static void loop_on_source_fd(uv_poll_t *h, int status, int events)
{
    struct loop_source *src = h->data;

    (void)events;
    if (status < 0) {
        diag_warn("%s: poll: %s", src->ops->name, uv_strerror(status));
        return;
    }
    src->ops->readable(src->self, util_mono_ns());
}

/* Take in what every source holds, before the store is read. */
static void loop_sources_flush(struct loop *l, uint64_t now)
{
    for (size_t i = 0; i < l->nsources; i++) {
        if (l->sources[i].ops->flush != NULL) {
            l->sources[i].ops->flush(l->sources[i].self, now);
        }
    }
}

/* Start every source of the registries, each run once at once (the rings attach what is
 * there, /proc is read, the probes are attached before the command is let go). */
static void loop_sources_start(struct loop *l, uint64_t now)
{
    struct collector_env env = {
        .store = l->store,
        .cfg = l->cfg,
        .child_pid = loop_child_pid(l),
        .child_name = l->child != NULL ? child_name(l->child) : NULL,
    };
    const char *unbuilt = collector_unbuilt(l->cfg);
    const struct collector_ops *const *reg;

    if (unbuilt != NULL) {
        loop_collector_error(l, unbuilt);
    }
    for (size_t r = 0; (reg = collector_registries(l->cfg, r)) != NULL; r++) {
        for (size_t i = 0; reg[i] != NULL && l->nsources < LOOP_MAX_SOURCES; i++) {
            const struct collector_ops *ops = reg[i];
            struct loop_source *src = &l->sources[l->nsources];
            char *err = NULL;
            int fd;

            src->self = ops->start(&env, now, &err);
            if (err != NULL) {
                loop_collector_error(l, err);
                free(err);
            }
            if (src->self == NULL) {
                continue;
            }
            l->nsources++;
            src->ops = ops;
            src->l = l;
            fd = ops->fd != NULL ? ops->fd(src->self) : -1;
            if (fd >= 0) {
                int rc;

                src->poll = xcalloc(1, sizeof(*src->poll));
                rc = uv_poll_init(l->uv, src->poll, fd);
                if (rc != 0) {
                    char msg[128];

                    free(src->poll);
                    src->poll = NULL;
                    snprintf(msg, sizeof(msg), "%s: cannot poll: %s", ops->name, uv_strerror(rc));
                    loop_collector_error(l, msg);
                } else {
                    src->poll->data = src;
                    uv_poll_start(src->poll, UV_READABLE, loop_on_source_fd);
                }
            }
            if (ops->sample != NULL) {
                src->work = xcalloc(1, sizeof(*src->work));
            }
            if (ops->run != NULL) {
                src->timer = xcalloc(1, sizeof(*src->timer));
                uv_timer_init(l->uv, src->timer);
                src->timer->data = src;
                loop_source_run(src, now);
            } else {
                loop_source_problems(l, src);
            }
        }
    }
}

/* Close the sources' timers (their polls too when all is closed). */
static void loop_sources_close(struct loop *l, bool polls)
{
    for (size_t i = 0; i < l->nsources; i++) {
        loop_close((uv_handle_t *)l->sources[i].timer);
        l->sources[i].timer = NULL;
        if (polls) {
            loop_close((uv_handle_t *)l->sources[i].poll);
            l->sources[i].poll = NULL;
        }
    }
}

/* After the loop ran out (no sample is running): every source stopped and freed. */
static void loop_sources_stop(struct loop *l)
{
    for (size_t i = 0; i < l->nsources; i++) {
        l->sources[i].ops->stop(l->sources[i].self);
        free(l->sources[i].work);
    }
    l->nsources = 0;
}

/* The --once output: the snapshot as JSON or the text tables. */
static void loop_print(struct loop *l)
{
    uint64_t now = loop_now(l);
    int rc = outputs_print(l->outputs, l->store, now, loop_real(l, now));

    if (rc == -EPIPE) {
        /* The reader went away (| head): that is the end asked for, not an error. */
        loop_finish(l);
        return;
    }
    if (rc != 0 && l->status == 0) {
        /* stdout is gone (a closed pipe): nothing more to show; stop cleanly. */
        diag_print("writing the output: %s", strerror(-rc));
        l->status = 1;
        loop_finish(l);
    }
}

/* The alert rules over what the store holds now (the refresh's cadence, and the end). */
static void loop_alerts(struct loop *l)
{
    if (l->io.alerts != NULL) {
        alerts_eval(l->io.alerts, l->store, l->io.baseline, loop_now(l));
    }
}

/* --fail-on-alert: exit 4 when an alert of that severity fired during the run (the command's
 * own failure still wins), each one that fired named on stderr (the terminal is back). */
static void loop_alerts_status(struct loop *l)
{
    const struct alerts *a = l->io.alerts;
    char text[512];

    if (a == NULL || l->cfg->fail_on_alert < 0 ||
        !alerts_ever_fired(a, (enum alert_severity)l->cfg->fail_on_alert)) {
        return;
    }
    for (size_t i = 0; i < alerts_nfired(a); i++) {
        const struct alert *al = alerts_fired_at(a, i);

        if ((int)al->severity >= l->cfg->fail_on_alert) {
            diag_print("alert %s fired: %s", alerts_severity_name(al->severity),
                       alerts_describe(al, text, sizeof(text)));
        }
    }
    if (l->status == 0) {
        l->status = 4;
    }
}

/* --- the display: frames of rows, input and resizes ---------------------------------------- */

static void loop_status(struct loop *l, bool error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void loop_status(struct loop *l, bool error, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(l->status_msg, sizeof(l->status_msg), fmt, ap);
    va_end(ap);
    l->status_error = error;
    l->status_ns = util_mono_ns();
}

/* Seconds since the process started, from /proc (start ticks after boot vs the uptime). */
static bool loop_proc_uptime(int32_t pid, uint64_t *out_ns)
{
    char buf[64];
    uint64_t ticks = util_proc_start_ticks(pid, NULL);
    long hz = sysconf(_SC_CLK_TCK);
    double up;

    if (ticks == 0 || hz <= 0 || util_read_file("/proc/uptime", buf, sizeof(buf)) <= 0 ||
        sscanf(buf, "%lf", &up) != 1 || up * (double)hz < (double)ticks) {
        return false;
    }
    *out_ns = (uint64_t)((up - (double)ticks / (double)hz) * 1e9);
    return true;
}

/* Build the frame the display shows (src/frame.c): what the loop knows goes in. */
static void loop_ui_build(struct loop *l)
{
    struct frame_input in = {
        .view = ui_view(l->ui),
        .want_pid = ui_selected_pid(l->ui),
        .now_ns = loop_now(l),
        .log_name = outputs_log_name(l->outputs),
        .uptime = loop_proc_uptime,
        .baseline = l->io.baseline,
        .alerts = l->io.alerts,
        .omit = ui_omit(l->ui),
    };

    ui_rows_sort(l->ui, &in.sort);
    /* Without a choice: the command we started, else the first process. */
    if (in.want_pid == 0) {
        in.want_pid = loop_child_pid(l);
    }
    if (l->status_msg[0] != '\0' && in.now_ns - l->status_ns < LOOP_STATUS_NS) {
        in.status.message = l->status_msg;
        in.status.message_error = l->status_error;
    }
    if (l->io.replay != NULL) {
        in.status.replay = true;
        in.status.replay_problems = replay_source_nproblems(l->io.replay);
        in.status.replay_problem =
            in.status.replay_problems > 0 ? replay_source_problem(l->io.replay, 0) : NULL;
        in.status.replay_done = replay_source_done(l->io.replay);
    }
    in.status.note = l->note;
    frame_build(&l->frame, l->store, &in);
}

static void loop_ui_frame(struct loop *l, bool rebuild)
{
    if (l->ui == NULL) {
        return;
    }
    if (rebuild) {
        loop_ui_build(l);
    }
    ui_draw(l->ui, &l->frame.ui);
    if (!rebuild && ui_stale(l->ui)) {
        /* A redraw needed figures the frame left for later and the store no longer has. */
        loop_ui_build(l);
        ui_draw(l->ui, &l->frame.ui);
    }
}

/* 'e' and 'l': a snapshot file, the logs on or off; the status line says what happened. */
static void loop_ui_snapshot(struct loop *l)
{
    uint64_t now = loop_now(l);
    char msg[256];
    bool error =
        outputs_snapshot_file(l->outputs, l->store, now, loop_real(l, now), msg, sizeof(msg));

    loop_status(l, error, "%s", msg);
}

static void loop_ui_toggle_log(struct loop *l)
{
    char msg[256];
    bool error = outputs_toggle_log(l->outputs, loop_real(l, loop_now(l)), msg, sizeof(msg));

    loop_status(l, error, "%s", msg);
}

static void loop_on_tty(uv_poll_t *h, int status, int events)
{
    struct loop *l = h->data;
    unsigned r;

    (void)events;
    if (status < 0 || l->ui == NULL) {
        /* The terminal is gone (hangup): nothing left to show on. */
        loop_finish(l);
        return;
    }
    r = ui_input(l->ui);
    if (r & UI_QUIT) {
        loop_finish(l);
        return;
    }
    if (r & UI_SNAPSHOT) {
        loop_ui_snapshot(l);
    }
    if (r & UI_TOGGLE_LOG) {
        loop_ui_toggle_log(l);
    }
    if (r & (UI_SNAPSHOT | UI_TOGGLE_LOG | UI_REBUILD)) {
        loop_sources_flush(l, util_mono_ns());
        loop_ui_frame(l, true);
    } else if (r & UI_REDRAW) {
        loop_ui_frame(l, false);
    }
}

static void loop_on_winch(uv_signal_t *s, int signum)
{
    struct loop *l = s->data;

    (void)signum;
    if (l->ui != NULL) {
        ui_resize(l->ui);
        loop_ui_frame(l, false);
    }
}

/* Start the display; the terminal's input and size changes come through the loop. */
static int loop_ui_start(struct loop *l)
{
    const struct config *cfg = l->cfg;
    struct ui_opts o = {
        .view = (enum layout_view)cfg->view,
        .sort_col = cfg->sort_col,
        .sort_ascending = cfg->sort_ascending,
        .collapse_depth = cfg->collapse_depth,
        .columns = cfg->columns,
        .color = (enum ui_color)cfg->color,
        .delay_ns = cfg->delay_ns,
    };
    char *err = NULL;

    memcpy(o.view_columns, cfg->view_columns, sizeof(o.view_columns));

    l->ui = ui_new(&o, &err);
    if (l->ui == NULL) {
        diag_print("%s", err);
        free(err);
        return -1;
    }
    frame_init(&l->frame);
    l->tty = xcalloc(1, sizeof(*l->tty));
    uv_poll_init(l->uv, l->tty, ui_input_fd(l->ui));
    l->tty->data = l;
    uv_poll_start(l->tty, UV_READABLE, loop_on_tty);
    l->winch = xcalloc(1, sizeof(*l->winch));
    uv_signal_init(l->uv, l->winch);
    l->winch->data = l;
    uv_signal_start(l->winch, loop_on_winch, SIGWINCH);
    return 0;
}

/* End the display at once (the terminal comes back even while a command is still ending). */
static void loop_ui_stop(struct loop *l)
{
    loop_close((uv_handle_t *)l->tty);
    loop_close((uv_handle_t *)l->winch);
    l->tty = NULL;
    l->winch = NULL;
    if (l->ui != NULL) {
        ui_free(l->ui);
        l->ui = NULL;
        frame_done(&l->frame);
    }
}

static void loop_on_refresh(uv_timer_t *t)
{
    struct loop *l = t->data;

    loop_sources_flush(l, util_mono_ns());
    loop_alerts(l);
    /* Only the display refreshes (--once prints at the end, --headless never), and --batch
     * prints. Frozen ('p'): the frame stays as it was; collection goes on. */
    if (l->ui != NULL && !ui_frozen(l->ui)) {
        loop_ui_frame(l, true);
    }
    if (l->cfg->batch && !l->finishing) {
        if (l->printed > 0 && l->cfg->output == CONFIG_OUT_TEXT) {
            fputc('\n', l->io.out); /* frames apart, as top -b */
        }
        loop_print(l);
        if (l->cfg->iterations > 0 && ++l->printed >= l->cfg->iterations) {
            loop_finish(l);
        }
    }
}

static void loop_on_duration(uv_timer_t *t)
{
    loop_finish(t->data);
}

static void loop_on_signal(uv_signal_t *s, int signum)
{
    struct loop *l = s->data;

    diag_debug("signal %d", signum);
    loop_finish(l);
}

/* --- OTLP export ------------------------------------------------------------------------ */

/* One batch of metrics (and of the spans that ended since the last one) from the rows now. */
static void loop_otlp_export(struct loop *l)
{
    const struct otlp_client_opts *co = l->cfg->otlp;
    uint64_t now = loop_now(l), real = loop_real(l, now);
    char host[256] = "";
    struct otlp_opts o = {
        .service_name = co->service_name,
        .host_name = host,
        .resource = co->resource,
        .nresource = co->nresource,
        .self_pid = (int32_t)getpid(),
        .start_real_ns = l->otlp_start_real,
        .bounds_ns = l->cfg->prom_bounds,
        .nbounds = l->cfg->prom_nbounds,
        .max_paths = l->cfg->prom_max_paths,
        .stats = otlp_client_stats(l->otlp),
    };
    size_t len = 0, nspans = 0;
    uint64_t skipped = 0;
    char *body;

    if (gethostname(host, sizeof(host) - 1) != 0) {
        host[0] = '\0';
    }
    body = otlp_render_metrics(l->store, now, real, &o, &len);
    otlp_client_submit(l->otlp, false, body, len);
    if (co->traces_on) {
        body = otlp_render_traces(l->store, now, real, &o, &l->otlp_since, &nspans, &skipped, &len);
        if (body != NULL) {
            otlp_client_note_spans(l->otlp, nspans);
            otlp_client_submit(l->otlp, true, body, len);
        }
        if (skipped > 0) {
            diag_debug("otlp: %llu spans beyond %d in one interval not sent",
                       (unsigned long long)skipped, OTLP_MAX_SPANS);
        }
    }
    /* Under the display a lasting note while batches are being lost. */
    const struct otlp_stats *st = otlp_client_stats(l->otlp);
    if (l->ui != NULL && st->dropped > 0) {
        snprintf(l->note, sizeof(l->note), "otlp: %llu dropped: %.140s",
                 (unsigned long long)st->dropped, st->last_error);
    }
}

static void loop_on_otlp(uv_timer_t *t)
{
    struct loop *l = t->data;

    loop_sources_flush(l, util_mono_ns());
    loop_otlp_export(l);
}

static void loop_otlp_start(struct loop *l)
{
    uint64_t every = l->cfg->otlp->interval_ms;

    l->otlp = otlp_client_new(l->uv, l->cfg->otlp);
    l->otlp_start_real = loop_real(l, loop_now(l));
    l->otlp_since = loop_now(l);
    l->otlp_timer = loop_timer(l, loop_on_otlp, every, every);
    outputs_set_otlp(l->outputs, otlp_client_stats(l->otlp));
}

/* The last batch goes out within grace_ms (bounded by the request timeout), then the client
 * closes itself; nothing waits longer for the collector. */
static void loop_otlp_close(struct loop *l, uint64_t grace_ms)
{
    if (l->otlp == NULL) {
        return;
    }
    loop_close((uv_handle_t *)l->otlp_timer);
    l->otlp_timer = NULL;
    outputs_set_otlp(l->outputs, NULL);
    otlp_client_close(l->otlp, grace_ms);
    l->otlp = NULL;
}

static void loop_close_all(struct loop *l)
{
    loop_sources_close(l, true);
    loop_close((uv_handle_t *)l->refresh);
    loop_close((uv_handle_t *)l->duration);
    child_close(l->child);
    loop_close((uv_handle_t *)l->files);
    loop_close((uv_handle_t *)l->replay_timer);
    l->files = l->replay_timer = NULL;
    for (size_t i = 0; i < sizeof(l->sig) / sizeof(l->sig[0]); i++) {
        loop_close((uv_handle_t *)l->sig[i]);
    }
    l->refresh = l->duration = NULL;
    memset(l->sig, 0, sizeof(l->sig));
    http_server_stop(l->http);
    l->http = NULL;
    health_free(l->health);
    l->health = NULL;
    loop_otlp_close(l, 0);
}

/* GET /metrics: the freshest data, as rows, in the exposition format. */
static char *loop_metrics(void *arg, size_t *len)
{
    struct loop *l = arg;
    uint64_t now = loop_now(l);

    struct prom_opts o = {
        .max_paths = l->cfg->prom_max_paths,
        .bounds_ns = l->cfg->prom_bounds,
        .nbounds = l->cfg->prom_nbounds,
        .otlp = l->otlp != NULL ? otlp_client_stats(l->otlp) : NULL,
        .alerts = l->io.alerts,
    };

    loop_sources_flush(l, util_mono_ns());
    return prom_render_opts(l->store, now, &o, len);
}

/* GET /healthz: the same fresh data, judged (src/output/health.c). */
static char *loop_health(void *arg, size_t *len, int *status)
{
    struct loop *l = arg;

    loop_sources_flush(l, util_mono_ns());
    return health_render(l->health, l->store, l->io.alerts, loop_now(l), len, status);
}

/* A command that lived less than a proc tick has no host facts; the kernel kept its peak RSS
 * and CPU time for us, its parent (the same figures as time -v). */
static void loop_child_rusage(struct loop *l, uint64_t now)
{
    struct store_proc *p = store_proc_find(l->store, loop_child_pid(l));
    uint64_t rss, cpu_ns;

    if (p == NULL || store_proc_host_valid(p) || !child_rusage(l->child, &rss, &cpu_ns)) {
        return;
    }
    store_proc_set_host(p, rss, rss, cpu_ns, now);
}

static void loop_on_child_exit(void *ctx, int status, const char *reason)
{
    struct loop *l = ctx;
    uint64_t now = util_mono_ns();

    (void)status;
    for (size_t i = 0; i < l->nsources; i++) {
        if (l->sources[i].ops->child_exited != NULL) {
            l->sources[i].ops->child_exited(l->sources[i].self, loop_child_pid(l), now, reason);
        }
    }
    loop_child_rusage(l, now);
    if (l->finishing) {
        loop_close_all(l);
    } else if (l->cfg->once || l->io.record != NULL || l->ui == NULL) {
        /* perf stat style: the snapshot, the recording or the headless run ends when the
         * command does; the display stays to show what it left. */
        loop_finish(l);
    }
}

/* --- files: logs, ProfileRecord, replay ------------------------------------------------------ */

/* A problem with an output file: the status line under the display, else one stderr line. */
static void loop_file_warning(void *ctx, const char *msg)
{
    struct loop *l = ctx;

    diag_warn("%s", msg);
    if (l->ui != NULL) {
        loop_status(l, true, "%s", msg);
    } else {
        diag_print("warning: %s", msg);
    }
}

/* One interval of the logs and the ProfileRecord file, from the rows at loop_now. */
static void loop_files_write(struct loop *l)
{
    uint64_t now = loop_now(l);

    outputs_interval(l->outputs, l->store, now, loop_real(l, now), loop_file_warning, l);
}

static void loop_on_files(uv_timer_t *t)
{
    struct loop *l = t->data;

    loop_sources_flush(l, util_mono_ns());
    loop_files_write(l);
}

/* METRICS_LOG_ENABLED starts the logs at once. Failures are warnings: nctop runs on without
 * the file, except that a run without a display asked to log and unable to must not look
 * fine (it would produce nothing, silently); the display shows it on the status line. */
static void loop_files_start(struct loop *l)
{
    uint64_t every_ms = outputs_interval_ms(l->outputs);

    if (!outputs_start(l->outputs, loop_real(l, loop_now(l)), loop_file_warning, l) &&
        l->ui == NULL) {
        l->status = 1;
        loop_finish(l);
    }
    l->files = loop_timer(l, loop_on_files, every_ms, every_ms);
}

/* The replay clock: replayed time moves at --speed with the wall clock, and stands still
 * while the display is frozen ('p') or at the end of the input. */
static void loop_on_replay(uv_timer_t *t)
{
    struct loop *l = t->data;
    uint64_t wall = util_mono_ns(), end = replay_source_end_ns(l->io.replay);
    bool paused = l->ui != NULL && ui_frozen(l->ui);

    if (!paused && l->replay_now < end) {
        double step = (double)(wall - l->replay_wall) * l->cfg->speed;

        l->replay_now =
            step >= (double)(end - l->replay_now) ? end : l->replay_now + (uint64_t)step;
    }
    l->replay_wall = wall;
    replay_source_advance(l->io.replay, l->replay_now);
    if (replay_source_done(l->io.replay) && !l->replay_end_seen) {
        l->replay_end_seen = true;
        if (l->ui != NULL) {
            loop_status(l, false, "replay: end of input");
        }
    }
}

/* Replay instead of collecting: with --once everything is played at once (a deterministic
 * snapshot at the end of the input), else in time with the wall clock. */
static void loop_replay_start(struct loop *l)
{
    l->replay_now = replay_source_start_ns(l->io.replay);
    l->replay_wall = util_mono_ns();
    if (l->cfg->once) {
        l->replay_now = replay_source_end_ns(l->io.replay);
        replay_source_advance(l->io.replay, l->replay_now);
        return;
    }
    replay_source_advance(l->io.replay, l->replay_now);
    l->replay_timer = loop_timer(l, loop_on_replay, LOOP_REPLAY_MS, LOOP_REPLAY_MS);
}

/* The port of an [ADDR:]PORT the command line accepted (0 when it cannot be read). */
static int loop_listen_port(const char *spec)
{
    struct sockaddr_storage ss;

    if (http_parse_listen(spec, &ss) != 0) {
        return 0;
    }
    if (ss.ss_family == AF_INET6) {
        return ntohs(((const struct sockaddr_in6 *)&ss)->sin6_port);
    }
    return ntohs(((const struct sockaddr_in *)&ss)->sin_port);
}

/* Why -p PID shows nothing, in one line naming the cause. */
static void loop_explain_pid(int32_t pid)
{
    char path[64];
    struct stat sb;

    if (kill(pid, 0) != 0 && errno == ESRCH) {
        diag_print("-p %d: no such process", (int)pid);
        return;
    }
    snprintf(path, sizeof(path), "%s/%s%d", NCTOP_SEG_DIR, NCTOP_SEG_FILE_PREFIX, (int)pid);
    if (lstat(path, &sb) != 0) {
        diag_print("-p %d: the process publishes nothing through libnctop (it links nothing, "
                   "or has not published yet): watch it with --bpf",
                   (int)pid);
    } else if (sb.st_uid != geteuid()) {
        diag_print("-p %d: its segment %s belongs to uid %u: run nctop as that user", (int)pid,
                   path, (unsigned)sb.st_uid);
    } else {
        diag_print("-p %d: its segment %s could not be read (see --debug-log)", (int)pid, path);
    }
}

/* Stop collecting: print the last snapshot (--once) and close every handle; the command we
 * started gets SIGTERM, then SIGKILL after a grace period. */
static void loop_finish(struct loop *l)
{
    uint64_t now = util_mono_ns();

    if (l->finishing) {
        return;
    }
    /* --once: a sample on its way (a query of the fleet's Prometheus) is part of the
     * snapshot; its own deadline bounds the wait. */
    l->finish_waits = l->cfg->once && loop_sampling(l);
    if (l->finish_waits) {
        return;
    }
    l->finishing = true;
    loop_ui_stop(l);
    /* A last run of every source: what the rings hold, /proc, the kernel's tables. */
    loop_sources_flush(l, now);
    for (size_t i = 0; i < l->nsources; i++) {
        struct loop_source *src = &l->sources[i];

        if (src->ops->run != NULL) {
            src->ops->run(src->self, now);
        }
        loop_source_problems(l, src);
    }
    outputs_record_tick(l->outputs, now);
    loop_alerts(l);      /* what the last snapshot and the exit status say */
    loop_files_write(l); /* the last interval, so short runs are logged too */
    /* A source that failed at its job (probes asked for and none attached): without a
     * display that is a failed run. */
    for (size_t i = 0; i < l->nsources && l->cfg->output != CONFIG_OUT_TUI; i++) {
        if (l->sources[i].ops->failed != NULL && l->sources[i].ops->failed(l->sources[i].self) &&
            l->status == 0) {
            l->status = 1;
        }
    }
    if (l->cfg->once) {
        if (store_nprocs(l->store) == 0 && l->status == 0) {
            l->status = 1;
            if (l->cfg->npids > 0) {
                for (size_t i = 0; i < l->cfg->npids; i++) {
                    loop_explain_pid(l->cfg->pids[i]);
                }
            } else if (l->child != NULL) {
                diag_print("%s published nothing through libnctop (a program that links "
                           "nothing is watched with --bpf)",
                           child_name(l->child));
            } else {
                fprintf(stderr, "nctop: no workload found (start one linked with libnctop, "
                                "or try --demo)\n");
            }
        }
        loop_print(l);
    }
    if (l->otlp != NULL) {
        /* The last figures, of the same moment as the snapshot just printed. */
        uint64_t timeout = l->cfg->otlp->timeout_ms;

        loop_otlp_export(l);
        loop_otlp_close(l, timeout < LOOP_OTLP_GRACE_MS ? timeout : LOOP_OTLP_GRACE_MS);
    }
    loop_alerts_status(l);
    if (child_running(l->child)) {
        child_stop(l->child);
        /* Keep only what waits for the child. */
        loop_sources_close(l, false);
        loop_close((uv_handle_t *)l->refresh);
        loop_close((uv_handle_t *)l->duration);
        loop_close((uv_handle_t *)l->files);
        loop_close((uv_handle_t *)l->replay_timer);
        l->refresh = l->duration = NULL;
        l->files = l->replay_timer = NULL;
        return;
    }
    loop_close_all(l);
}

/* A collector that cannot do its job: under the display a lasting status line (nothing may
 * be printed while curses runs), else one stderr line. */
static void loop_collector_error(struct loop *l, const char *msg)
{
    diag_warn("%s", msg);
    if (l->ui != NULL) {
        snprintf(l->note, sizeof(l->note), "%s", msg);
    } else {
        diag_print("%s", msg);
    }
}

static uv_timer_t *loop_timer(struct loop *l, uv_timer_cb cb, uint64_t first_ms, uint64_t every_ms)
{
    uv_timer_t *t = xcalloc(1, sizeof(*t));

    uv_timer_init(l->uv, t);
    t->data = l;
    uv_timer_start(t, cb, first_ms, every_ms);
    return t;
}

/* Start the command: gated when eBPF probes must be attached first, its output in a file
 * of its own under the display (named on the status line). */
static int loop_spawn(struct loop *l, char **argv)
{
    struct child_opts o = {
        .argv = argv,
        .gated = l->cfg->bpf,
        .own_output = l->ui != NULL,
        .on_exit = loop_on_child_exit,
        .ctx = l,
    };
    int rc = child_start(l->uv, &o, &l->child);

    if (rc != 0) {
        return rc;
    }
    if (child_output_problem(l->child) != NULL) {
        loop_status(l, true, "%s", child_output_problem(l->child));
    } else if (child_output(l->child) != NULL) {
        loop_status(l, false, "output of %s: %s", child_name(l->child), child_output(l->child));
    }
    return 0;
}

/* Everything a run starts, in order: the listener, the display, the command, the sources,
 * the timers. Returns 0, or nctop's exit status when something could not start (said on
 * stderr once the terminal is back). */
static int loop_start(struct loop *l, char **cmd)
{
    const struct config *cfg = l->cfg;
    int rc;

    /* Before starting any command: a taken port must not leave a child behind. */
    if (cfg->prometheus != NULL) {
        rc = http_server_start(l->uv, cfg->prometheus, loop_metrics, l, &l->http);
        if (rc == 0) {
            l->health = health_new();
            http_server_set_health(l->http, loop_health, l);
        }
        if (rc != 0) {
            diag_print("--prometheus %s: %s%s", cfg->prometheus, uv_strerror(rc),
                       rc == UV_EACCES && loop_listen_port(cfg->prometheus) < 1024
                           ? " (a port below 1024 needs root or CAP_NET_BIND_SERVICE: use "
                             "9464, the port Prometheus assigns nctop)"
                           : "");
            return 1;
        }
    }
    /* Before starting any command: no terminal, no command left behind. */
    if (cfg->output == CONFIG_OUT_TUI && loop_ui_start(l) != 0) {
        return 1;
    }
    if (cmd != NULL) {
        rc = loop_spawn(l, cmd);
        if (rc != 0) {
            loop_ui_stop(l);
            diag_print("cannot start %s: %s", cmd[0], uv_strerror(rc));
            return rc == UV_ENOENT || rc == UV_EACCES ? 127 : 1;
        }
    }
    if (l->io.replay != NULL) {
        loop_replay_start(l);
    } else {
        loop_sources_start(l, util_mono_ns());
        child_release(l->child); /* watched now (or never will be): let it run */
    }
    loop_files_start(l);
    if (cfg->otlp != NULL) {
        loop_otlp_start(l);
    }
    /* The refresh also evaluates the alert rules, so it runs without a display too. */
    if ((!cfg->once && cfg->output != CONFIG_OUT_NONE) || l->io.alerts != NULL) {
        uint64_t delay_ms = cfg->delay_ns / UTIL_NS_PER_MS;

        /* --batch's first print comes after one interval, when there is something to show. */
        l->refresh =
            loop_timer(l, loop_on_refresh, cfg->batch ? delay_ms : 0, delay_ms ? delay_ms : 1);
    }
    if (cfg->duration_ns > 0 && cfg->once && cfg->demo && child_running(l->child)) {
        l->duration_wait_ns = util_mono_ns() + LOOP_DEMO_START_MS * UTIL_NS_PER_MS;
    } else if (cfg->duration_ns > 0 && !(l->io.replay != NULL && cfg->once)) {
        uint64_t ms = (cfg->duration_ns + UTIL_NS_PER_MS - 1) / UTIL_NS_PER_MS;

        l->duration = loop_timer(l, loop_on_duration, ms, 0);
    }
    if (l->io.replay != NULL && cfg->once) {
        loop_finish(l); /* everything was played: the snapshot is ready */
    }
    return 0;
}

int loop_run(const struct config *cfg, const struct loop_io *io, struct store *st, char **cmd)
{
    static const int signals[] = {SIGINT, SIGTERM, SIGHUP};
    struct loop l;
    int rc;

    memset(&l, 0, sizeof(l));
    l.cfg = cfg;
    l.io = *io;
    l.store = st;
    l.outputs = outputs_new(cfg, io->out, io->record);
    outputs_set_baseline(l.outputs, io->baseline);
    outputs_set_alerts(l.outputs, io->alerts);
    l.uv = xcalloc(1, sizeof(*l.uv));
    rc = uv_loop_init(l.uv);
    if (rc != 0) {
        fatal("cannot start the event loop: %s", uv_strerror(rc));
    }
    for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++) {
        l.sig[i] = xcalloc(1, sizeof(*l.sig[i]));
        uv_signal_init(l.uv, l.sig[i]);
        l.sig[i]->data = &l;
        uv_signal_start(l.sig[i], loop_on_signal, signals[i]);
    }
    rc = loop_start(&l, cmd);
    if (rc != 0) {
        /* Nothing runs: close what was opened; the loop below only lets the handles go. */
        loop_ui_stop(&l);
        loop_close_all(&l);
        l.status = rc;
    }

    /* The one way out: the loop runs until every handle is closed. */
    uv_run(l.uv, UV_RUN_DEFAULT);

    loop_sources_stop(&l); /* uv_run returned: no sample is running */
    outputs_free(l.outputs);
    rc = uv_loop_close(l.uv);
    if (rc != 0) {
        diag_warn("event loop closed with handles open: %s", uv_strerror(rc));
    }
    free(l.uv);
    child_show_output(l.child);
    /* As time and perf stat do: the command's own exit status (128 + signal when it was
     * killed) when it ended by itself; nctop's own when nctop ended it, or when the command
     * succeeded and nctop failed. */
    if (l.child != NULL && !child_ended_by_us(l.child) &&
        (l.status == 0 || child_status(l.child) != 0)) {
        rc = child_status(l.child);
    } else {
        rc = l.status;
    }
    child_free(l.child);
    return rc;
}
