/* SPDX-License-Identifier: MIT */
/* The header of the display: one function per line (title, pace, meters, host), each drawing
 * small label-value items from the frame, which the loop pulled in one pass (htop's meters).
 * A view picks the lines it shows (view_ops.header). */
#include "ui/ui_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "src/model/rows.h"

/* One line of the header, drawn at line y of w; s is the shown process (NULL: none). */
typedef void (*header_line_fn)(struct ui *u, WINDOW *w, int y, const struct rows_summary *s);

/* A label and value pair in the header; returns the new x. */
static int header_pair(struct ui *u, WINDOW *w, int y, int x, const char *label, const char *value,
                       enum ui_role vrole)
{
    int ww = getmaxx(w);

    if (x >= ww) {
        return x;
    }
    x += draw_put(u, w, y, x, ww - x, UI_ROLE_TITLE, label);
    x += draw_put(u, w, y, x, ww - x, UI_ROLE_TEXT, " ");
    x += draw_put(u, w, y, x, ww - x, vrole, value);
    x += draw_put(u, w, y, x, ww - x, UI_ROLE_TEXT, "  ");
    return x;
}

static void header_sparkline(struct ui *u, const struct rows_summary *s, char *buf, size_t len)
{
    static const char *const ticks[] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
    static const char ascii[] = "_.-=+*#@";
    uint64_t lo = UINT64_MAX, hi = 0;
    size_t k = 0;

    buf[0] = '\0';
    for (uint32_t i = 0; i < s->nrecent; i++) {
        uint64_t v = s->step_recent_ns[i];

        if (v > 0) {
            lo = v < lo ? v : lo;
            hi = v > hi ? v : hi;
        }
    }
    if (hi == 0) {
        return;
    }
    for (uint32_t i = 0; i < s->nrecent && k + 4 < len; i++) {
        uint64_t v = s->step_recent_ns[i];
        int level = hi > lo ? (int)((v - lo) * 7 / (hi - lo)) : 3;

        if (v == 0) {
            k += (size_t)snprintf(buf + k, len - k, " ");
        } else if (u->utf8) {
            k += (size_t)snprintf(buf + k, len - k, "%s", ticks[level]);
        } else {
            k += (size_t)snprintf(buf + k, len - k, "%c", ascii[level]);
        }
    }
}

/* Memory rows with a capacity under KV cache and pools make the meters. */
static int header_meter_items(struct ui *u, WINDOW *w, int y)
{
    const struct rows *m = u->frame->memory;
    int ww = getmaxx(w), x = 0, shown = 0;

    for (size_t i = 0; m != NULL && i < m->n && x < ww; i++) {
        const struct row *r = &m->v[i];
        char used[16], cap[16], text[48];
        int cells;

        if (!(r->flags & ROW_F_CAPACITY) || r->capacity_bytes == 0 || r->level == 0) {
            continue;
        }
        draw_fmt_bytes(r->bytes, used, sizeof(used));
        draw_fmt_bytes((int64_t)r->capacity_bytes, cap, sizeof(cap));
        snprintf(text, sizeof(text), "%s/%s", used, cap);
        /* label[bar used/cap]: the bar gets what is left of a third of the width */
        cells = ww / 3 - draw_cols(r->label, strlen(r->label)) - (int)strlen(text) - 4;
        if (cells > 20) {
            cells = 20;
        }
        if (cells < 4) {
            cells = 4;
        }
        x += draw_put(u, w, y, x, ww - x, UI_ROLE_TITLE, r->label);
        x += draw_put(u, w, y, x, ww - x, UI_ROLE_TEXT, "[");
        x += draw_put_bar(u, w, y, x, ww - x, UI_ROLE_BAR,
                          (double)r->bytes / (double)r->capacity_bytes, cells);
        x += draw_put(u, w, y, x, ww - x, UI_ROLE_TEXT, " ");
        x += draw_put(u, w, y, x, ww - x, UI_ROLE_VALUE, text);
        x += draw_put(u, w, y, x, ww - x, UI_ROLE_TEXT, "]  ");
        shown++;
    }
    return shown;
}

/* The GPU part of the header: one device in full ("GPU0 name 87% 30.1G/80.0G"), several
 * summarised (count, the name when they share one, mean utilization, memory summed). */
static int header_gpus(struct ui *u, WINDOW *w, int y, int x, const struct rows_gpus *g)
{
    char key[32], val[192], used[32], total[32];
    const char *name = g->v[0].name;
    double util = 0;
    uint64_t mused = 0, mtotal = 0;
    size_t nutil = 0, nmem = 0;
    int len;

    for (size_t i = 0; i < g->n; i++) {
        if (strcmp(g->v[i].name, name) != 0) {
            name = "";
        }
        if (g->v[i].util_valid) {
            util += g->v[i].util_pct;
            nutil++;
        }
        if (g->v[i].mem_valid) {
            mused += g->v[i].mem_used_bytes;
            mtotal += g->v[i].mem_total_bytes;
            nmem++;
        }
    }
    if (g->n == 1) {
        snprintf(key, sizeof(key), "GPU%u", (unsigned)g->v[0].index);
        len = snprintf(val, sizeof(val), "%s", name);
    } else {
        snprintf(key, sizeof(key), "GPUs");
        len = snprintf(val, sizeof(val), "%zux%s%s%s", g->n, name[0] ? " " : "", name,
                       nutil > 0 ? " avg" : "");
    }
    if (nutil > 0 && len >= 0 && (size_t)len < sizeof(val)) {
        len += snprintf(val + len, sizeof(val) - (size_t)len, " %.0f%%", util / (double)nutil);
    }
    if (nmem > 0 && len >= 0 && (size_t)len < sizeof(val)) {
        draw_fmt_bytes((int64_t)mused, used, sizeof(used));
        draw_fmt_bytes((int64_t)mtotal, total, sizeof(total));
        snprintf(val + len, sizeof(val) - (size_t)len, " %s/%s", used, total);
    }
    return header_pair(u, w, y, x, key, val[0] == ' ' ? val + 1 : val, UI_ROLE_VALUE);
}

/* TTFT and inter-token latency: the window's p50 (else since start, as the step figure), each
 * with its p95 beside while the line keeps room for both p50s; the text report and the JSON
 * give the same figures. Returns the next x. */
static int header_markers(struct ui *u, WINDOW *w, int y, int x, const struct rows_summary *s)
{
    static const char *const keys[2] = {"TTFT p50", "ITL p50"};
    const struct rows_marker *m[2] = {&s->ttft, &s->itl};
    char p50[2][32], p95[2][32], val[80];
    bool on[2], wide[2] = {false, false};
    int need = 0;

    for (int k = 0; k < 2; k++) {
        const struct row_stats *st = m[k]->win.count > 0 ? &m[k]->win : &m[k]->all;

        on[k] = m[k]->valid && st->count > 0;
        if (on[k]) {
            draw_fmt_ns(st->p50_ns, p50[k], sizeof(p50[k]));
            draw_fmt_ns(st->p95_ns, p95[k], sizeof(p95[k]));
            need += (int)(strlen(keys[k]) + 1 + strlen(p50[k]) + 2);
        }
    }
    for (int k = 0; k < 2; k++) {
        int more;

        if (!on[k]) {
            continue; /* its p95 was not formatted */
        }
        more = (int)(strlen(" p95 ") + strlen(p95[k]));
        if (x + need + more <= getmaxx(w)) {
            wide[k] = true;
            need += more;
        }
    }
    for (int k = 0; k < 2; k++) {
        if (!on[k]) {
            continue;
        }
        if (wide[k]) {
            snprintf(val, sizeof(val), "%s p95 %s", p50[k], p95[k]);
        } else {
            snprintf(val, sizeof(val), "%s", p50[k]);
        }
        x = header_pair(u, w, y, x, keys[k], val, UI_ROLE_VALUE);
    }
    return x;
}

/* Line 1: nctop, the workload, its state, uptime and rank; the log; PAUSED. */
static void header_title(struct ui *u, WINDOW *w, int y, const struct rows_summary *s)
{
    const struct ui_frame *f = u->frame;
    char a[64], c[160];
    int x = 0, ww = getmaxx(w);

    x += draw_put(u, w, y, x, ww - x, UI_ROLE_VALUE, "nctop ");
    if (s == NULL) {
        draw_put(u, w, y, x, ww - x, UI_ROLE_DIM,
                 "waiting for workloads (programs linked with libnctop)...");
    } else {
        x += draw_put(u, w, y, x, ww - x, UI_ROLE_TITLE, s->label && *s->label ? s->label : "?");
        snprintf(a, sizeof(a), " pid %d ", (int)s->pid);
        x += draw_put(u, w, y, x, ww - x, UI_ROLE_TEXT, a);
        x += draw_put(u, w, y, x, ww - x, s->state == ROWS_STATE_LIVE ? UI_ROLE_BAR : UI_ROLE_WARN,
                      draw_state_name(s));
        if (s->reason != NULL && s->state != ROWS_STATE_LIVE) {
            snprintf(c, sizeof(c), " (%s)", s->reason);
            x += draw_put(u, w, y, x, ww - x, UI_ROLE_WARN, c);
        }
        x += draw_put(u, w, y, x, ww - x, UI_ROLE_TEXT, "  ");
        if (f->uptime_valid) {
            uint64_t sec = f->uptime_ns / 1000000000ULL;

            snprintf(a, sizeof(a), "%02" PRIu64 ":%02" PRIu64 ":%02" PRIu64, sec / 3600,
                     sec / 60 % 60, sec % 60);
            x = header_pair(u, w, y, x, "up", a, UI_ROLE_VALUE);
        }
        if (f->nprocs > 1) {
            snprintf(a, sizeof(a), "%zu/%zu", f->sel_proc + 1, f->nprocs);
            x = header_pair(u, w, y, x, "workload", a, UI_ROLE_VALUE);
        }
    }
    if (f->log_name != NULL) {
        x += draw_put(u, w, y, x, ww - x, UI_ROLE_TAB, "LOG");
        x += draw_put(u, w, y, x, ww - x, UI_ROLE_TEXT, " ");
        x += draw_put(u, w, y, x, ww - x, UI_ROLE_TEXT, f->log_name);
        x += draw_put(u, w, y, x, ww - x, UI_ROLE_TEXT, "  ");
    }
    if (u->frozen) {
        draw_put(u, w, y, x, ww - x, UI_ROLE_WARN, "PAUSED");
    }
}

/* The step's p50 with its sparkline. Returns the next x. */
static int header_step(struct ui *u, WINDOW *w, int y, int x, const struct rows_summary *s)
{
    int ww = getmaxx(w);
    char a[64], b[64];

    if (s->step.valid) {
        const struct row_stats *st = s->step.win.count > 0 ? &s->step.win : &s->step.all;

        draw_fmt_ns(st->p50_ns, a, sizeof(a));
        x = header_pair(u, w, y, x, "step p50", a, UI_ROLE_VALUE);
        header_sparkline(u, s, b, sizeof(b));
        if (b[0] != '\0') {
            x += draw_put(u, w, y, x, ww - x, UI_ROLE_BAR, b);
            x += draw_put(u, w, y, x, ww - x, UI_ROLE_TEXT, "  ");
        }
    }
    return x;
}

/* An energy figure in unit with " est" when it is the model's, not the workload's. */
static void header_energy(const struct row_neuro *f, double v, const char *unit, char *buf,
                          size_t len)
{
    char a[32];

    draw_fmt_si(v, unit, a, sizeof(a));
    snprintf(buf, len, "%s%s", a, (f->have & ROW_N_MEASURED) != 0 ? "" : " est");
}

static const struct rows_counter *header_counter(const struct rows_summary *s, const char *name)
{
    for (size_t i = 0; i < s->ncounters; i++) {
        if (strcmp(s->counters[i].name, name) == 0) {
            return &s->counters[i];
        }
    }
    return NULL;
}

/* A spiking workload's pace: timesteps/s, spikes/s, synaptic ops/s, power and energy per
 * inference (a request when the workload marks them, else a timestep). Returns the next x. */
static int header_spiking(struct ui *u, WINDOW *w, int y, int x, const struct rows_summary *s)
{
    const struct row_neuro *f = &s->neuro.net;
    uint64_t done = 0;
    char a[64];

    if (s->neuro.timesteps_per_sec_valid) {
        snprintf(a, sizeof(a), "%.1f", s->neuro.timesteps_per_sec);
        x = header_pair(u, w, y, x, "timesteps/s", a, UI_ROLE_VALUE);
    }
    if ((f->rated & 1U << ROW_NF_SPIKES) != 0) {
        draw_fmt_count((uint64_t)(f->per_sec[ROW_NF_SPIKES] + 0.5), a, sizeof(a));
        x = header_pair(u, w, y, x, "spikes/s", a, UI_ROLE_VALUE);
    }
    if ((f->rated & 1U << ROW_NF_SYNOPS) != 0) {
        draw_fmt_count((uint64_t)(f->per_sec[ROW_NF_SYNOPS] + 0.5), a, sizeof(a));
        x = header_pair(u, w, y, x, "synops/s", a, UI_ROLE_VALUE);
    }
    if ((f->have & ROW_N_POWER) != 0) {
        header_energy(f, f->power_w, "W", a, sizeof(a));
        x = header_pair(u, w, y, x, "power", a, UI_ROLE_VALUE);
    }
    for (size_t k = 0; k < ROWS_REQUEST_RESULTS; k++) {
        done += s->requests.finished[k];
    }
    if (s->requests.valid && done > 0 && (f->have & ROW_N_ENERGY) != 0) {
        header_energy(f, f->energy_j / (double)done, "J", a, sizeof(a));
        x = header_pair(u, w, y, x, "J/inference", a, UI_ROLE_VALUE);
    } else if ((f->have & ROW_N_STEP) != 0) {
        header_energy(f, f->step_j, "J", a, sizeof(a));
        x = header_pair(u, w, y, x, "J/timestep", a, UI_ROLE_VALUE);
    }
    return header_step(u, w, y, x, s);
}

/* Joules per token when the workload's energy is known: the window's power over its tokens
 * per second, else the energy so far over the tokens so far. Returns the next x. */
static int header_per_token(struct ui *u, WINDOW *w, int y, int x, const struct rows_summary *s)
{
    const struct row_neuro *f = &s->neuro.net;
    const struct rows_counter *t = header_counter(s, "tokens");
    char a[64];

    if (t == NULL) {
        return x;
    }
    if ((f->have & ROW_N_POWER) != 0 && t->rate_valid && t->per_sec > 0.0) {
        header_energy(f, f->power_w / t->per_sec, "J", a, sizeof(a));
    } else if ((f->have & ROW_N_ENERGY) != 0 && t->value > 0) {
        header_energy(f, f->energy_j / (double)t->value, "J", a, sizeof(a));
    } else {
        return x;
    }
    return header_pair(u, w, y, x, "J/token", a, UI_ROLE_VALUE);
}

/* Line 2: throughput and latency, as the workload is: a spiking one's timesteps, spikes and
 * energy; otherwise counter rates, the step with its sparkline, TTFT, ITL and J/token. A
 * figure that does not apply is left out, never shown as 0. */
static void header_pace(struct ui *u, WINDOW *w, int y, const struct rows_summary *s)
{
    char a[64], b[64];
    int x = 0;

    if (s->neuro.spiking) {
        header_spiking(u, w, y, x, s);
        return;
    }
    for (size_t i = 0; i < s->ncounters; i++) {
        if (s->counters[i].rate_valid) {
            snprintf(a, sizeof(a), "%s/s", s->counters[i].name);
            snprintf(b, sizeof(b), "%.1f", s->counters[i].per_sec);
            x = header_pair(u, w, y, x, a, b, UI_ROLE_VALUE);
        }
    }
    x = header_step(u, w, y, x, s);
    x = header_markers(u, w, y, x, s);
    header_per_token(u, w, y, x, s);
}

/* Line 3: meters of capacities (KV cache, pools), or why there are none. */
static void header_meters(struct ui *u, WINDOW *w, int y, const struct rows_summary *s)
{
    (void)s;
    if (header_meter_items(u, w, y) == 0) {
        draw_put(u, w, y, 0, getmaxx(w), UI_ROLE_DIM, "no KV cache or pool capacity reported");
    }
}

/* Line 4: the host's view of the process, the GPUs, and nctop's own health. */
static void header_host(struct ui *u, WINDOW *w, int y, const struct rows_summary *s)
{
    const struct ui_frame *f = u->frame;
    char a[64];
    int x = 0;

    if (s->host_valid) {
        draw_fmt_bytes((int64_t)s->rss_bytes, a, sizeof(a));
        x = header_pair(u, w, y, x, "RSS", a, UI_ROLE_VALUE);
    }
    if (s->cpu_valid) {
        snprintf(a, sizeof(a), "%.0f%%", s->cpu_pct);
        x = header_pair(u, w, y, x, "CPU", a, UI_ROLE_VALUE);
    }
    if (f->gpus != NULL && f->gpus->n > 0) {
        x = header_gpus(u, w, y, x, f->gpus);
    }
    snprintf(a, sizeof(a), "%.0f/s", s->events_per_sec);
    x = header_pair(u, w, y, x, "events", a, UI_ROLE_VALUE);
    snprintf(a, sizeof(a), "%" PRIu64, s->dropped);
    x = header_pair(u, w, y, x, "dropped", a, s->dropped > 0 ? UI_ROLE_WARN : UI_ROLE_VALUE);
    if (s->folded > 0) {
        /* spans of paths beyond the latency tree's cap, counted into its "(other)" row */
        snprintf(a, sizeof(a), "%" PRIu64, s->folded);
        x = header_pair(u, w, y, x, "folded", a, UI_ROLE_WARN);
    }
    if (s->invalid > 0) {
        snprintf(a, sizeof(a), "%" PRIu64, s->invalid);
        header_pair(u, w, y, x, "invalid", a, UI_ROLE_WARN);
    }
}

/* The lines in order; all but the title need a shown process (without one they stay blank). */
static const struct {
    header_line_fn draw;
    bool needs_proc;
} header_lines[HEADER_NLINES] = {
    [HEADER_TITLE] = {header_title, false},
    [HEADER_PACE] = {header_pace, true},
    [HEADER_METERS] = {header_meters, true},
    [HEADER_HOST] = {header_host, true},
};

int header_height(uint32_t lines)
{
    int n = 0;

    for (int i = 0; i < HEADER_NLINES; i++) {
        n += (lines & 1U << i) != 0;
    }
    return n;
}

void header_draw(struct ui *u, uint32_t lines)
{
    WINDOW *w = u->w_header;
    const struct rows_summary *s = ui_shown(u);
    int y = 0;

    if (w == NULL) {
        return;
    }
    werase(w);
    /* A short header keeps its first lines: the rest would fall outside the window. */
    for (int i = 0; i < HEADER_NLINES && y < getmaxy(w); i++) {
        if (!(lines & 1U << i)) {
            continue;
        }
        if (s != NULL || !header_lines[i].needs_proc) {
            header_lines[i].draw(u, w, y, s);
        }
        y++;
    }
    wnoutrefresh(w);
}
