/* SPDX-License-Identifier: MIT */
/* Screen and column layout as plain arithmetic, so that every terminal size can be tested
 * without a terminal. */
#include "ui/layout.h"

#include <stdbool.h>
#include <string.h>

static const struct layout_col layout_latency[] = {
    {LAYOUT_COL_NAME, "NAME", 0, 100},       {LAYOUT_COL_LAST, "LAST", 9, 40},
    {LAYOUT_COL_MEAN, "MEAN", 9, 60},        {LAYOUT_COL_P50, "P50", 9, 90},
    {LAYOUT_COL_P95, "P95", 9, 30},          {LAYOUT_COL_P99, "P99", 9, 80},
    {LAYOUT_COL_MAX, "MAX", 9, 20},          {LAYOUT_COL_COUNT, "COUNT", 8, 50},
    {LAYOUT_COL_SHARE, "SHARE", 13, 70},     {LAYOUT_COL_DP99, "ΔP99", 15, 75},
    {LAYOUT_COL_DMEAN, "ΔMEAN", 15, 45},     {LAYOUT_COL_P99_MIN, "P99 MIN", 9, 74},
    {LAYOUT_COL_P99_MED, "P99 MED", 9, 73},  {LAYOUT_COL_P99_MAX, "P99 MAX", 9, 78},
    {LAYOUT_COL_SLOWEST, "SLOWEST", 22, 76},
};

static const struct layout_col layout_memory[] = {
    {LAYOUT_COL_NAME, "NAME", 0, 100},   {LAYOUT_COL_CURRENT, "CURRENT", 10, 90},
    {LAYOUT_COL_PEAK, "PEAK", 10, 60},   {LAYOUT_COL_CAPACITY, "CAPACITY", 10, 70},
    {LAYOUT_COL_SHARE, "SHARE", 13, 80},
};

static const struct layout_col layout_kernels[] = {
    {LAYOUT_COL_NAME, "NAME", 0, 100},   {LAYOUT_COL_BACKEND, "BACKEND", 8, 50},
    {LAYOUT_COL_COUNT, "COUNT", 8, 60},  {LAYOUT_COL_TOTAL, "TOTAL", 9, 85},
    {LAYOUT_COL_MEAN, "MEAN", 9, 80},    {LAYOUT_COL_P99, "P99", 9, 70},
    {LAYOUT_COL_SHARE, "SHARE", 13, 90},
};

static const struct layout_col layout_workloads[] = {
    {LAYOUT_COL_PID, "PID", 8, 95},        {LAYOUT_COL_NAME, "LABEL", 0, 100},
    {LAYOUT_COL_STATE, "STATE", 7, 90},    {LAYOUT_COL_EVENTS, "EVENTS/S", 9, 70},
    {LAYOUT_COL_DROPS, "DROPS", 8, 80},    {LAYOUT_COL_RSS, "RSS", 10, 60},
    {LAYOUT_COL_CPU, "CPU%", 6, 50},       {LAYOUT_COL_TOKENS, "TOK/S", 9, 75},
    {LAYOUT_COL_PEAK, "PEAK", 10, 45},     {LAYOUT_COL_TOTAL, "CPU-TIME", 9, 40},
    {LAYOUT_COL_COUNT, "SYSCALLS", 9, 35},
};

static const struct layout_col layout_threads[] = {
    {LAYOUT_COL_TID, "TID", 8, 95},         {LAYOUT_COL_NAME, "NAME", 0, 100},
    {LAYOUT_COL_ONCPU, "ON-CPU", 9, 90},    {LAYOUT_COL_RUNQ, "RUNQ", 9, 80},
    {LAYOUT_COL_BLOCKED, "BLOCKED", 9, 85}, {LAYOUT_COL_SWITCHES, "SWITCHES", 13, 60},
    {LAYOUT_COL_FAULTS, "FAULTS", 13, 50},
};

static const struct layout_col layout_neuro[] = {
    {LAYOUT_COL_NAME, "NAME", 0, 100},      {LAYOUT_COL_NEURONS, "NEURONS", 8, 55},
    {LAYOUT_COL_FIRING, "RATE Hz", 8, 75},  {LAYOUT_COL_SPIKES, "SPIKES/s", 9, 95},
    {LAYOUT_COL_SYNOPS, "SYNOPS/s", 9, 85}, {LAYOUT_COL_HOPS, "HOPS/s", 9, 50},
    {LAYOUT_COL_BUFFER, "BUF%", 6, 60},     {LAYOUT_COL_ESTEP, "E/STEP", 9, 80},
    {LAYOUT_COL_POWER, "POWER", 9, 90},     {LAYOUT_COL_SHARE, "SHARE", 13, 70},
};

static const struct layout_col layout_heatmap[] = {
    {LAYOUT_COL_NAME, "HEATMAP", 0, 100},
};

/* A compilation's pass tree: TIME is its wall time (the LAST of its one sample), MEM its net
 * memory delta, ENERGY the estimate of what it made. */
static const struct layout_col layout_compile[] = {
    {LAYOUT_COL_NAME, "NAME", 0, 100},       {LAYOUT_COL_TARGET, "TARGET", 10, 90},
    {LAYOUT_COL_RESULT, "RESULT", 6, 95},    {LAYOUT_COL_LAST, "TIME", 9, 97},
    {LAYOUT_COL_SHARE, "SHARE", 13, 60},     {LAYOUT_COL_CURRENT, "MEM", 10, 70},
    {LAYOUT_COL_PEAK, "PEAK", 10, 80},       {LAYOUT_COL_ESTEP, "ENERGY", 9, 75},
    {LAYOUT_COL_MESSAGE, "MESSAGE", 24, 50},
};

/* Alerts: the rule and its object in the name column; the other columns reuse figures' ids. */
static const struct layout_col layout_alerts[] = {
    {LAYOUT_COL_STATE, "STATE", 8, 95},     {LAYOUT_COL_NAME, "ALERT", 0, 100},
    {LAYOUT_COL_PID, "PID", 8, 60},         {LAYOUT_COL_CURRENT, "VALUE", 10, 90},
    {LAYOUT_COL_CAPACITY, "LIMIT", 10, 85}, {LAYOUT_COL_TOTAL, "FOR", 9, 70},
};

static const char *const layout_col_names[LAYOUT_NCOLS] = {
    [LAYOUT_COL_NAME] = "name",         [LAYOUT_COL_LAST] = "last",
    [LAYOUT_COL_MEAN] = "mean",         [LAYOUT_COL_P50] = "p50",
    [LAYOUT_COL_P95] = "p95",           [LAYOUT_COL_P99] = "p99",
    [LAYOUT_COL_MAX] = "max",           [LAYOUT_COL_COUNT] = "count",
    [LAYOUT_COL_SHARE] = "share",       [LAYOUT_COL_CURRENT] = "current",
    [LAYOUT_COL_PEAK] = "peak",         [LAYOUT_COL_CAPACITY] = "capacity",
    [LAYOUT_COL_BACKEND] = "backend",   [LAYOUT_COL_TOTAL] = "total",
    [LAYOUT_COL_PID] = "pid",           [LAYOUT_COL_STATE] = "state",
    [LAYOUT_COL_EVENTS] = "events",     [LAYOUT_COL_DROPS] = "drops",
    [LAYOUT_COL_RSS] = "rss",           [LAYOUT_COL_CPU] = "cpu",
    [LAYOUT_COL_TID] = "tid",           [LAYOUT_COL_ONCPU] = "oncpu",
    [LAYOUT_COL_RUNQ] = "runq",         [LAYOUT_COL_BLOCKED] = "blocked",
    [LAYOUT_COL_SWITCHES] = "switches", [LAYOUT_COL_FAULTS] = "faults",
    [LAYOUT_COL_NEURONS] = "neurons",   [LAYOUT_COL_FIRING] = "rate",
    [LAYOUT_COL_SPIKES] = "spikes",     [LAYOUT_COL_SYNOPS] = "synops",
    [LAYOUT_COL_HOPS] = "hops",         [LAYOUT_COL_BUFFER] = "buffer",
    [LAYOUT_COL_ESTEP] = "energy",      [LAYOUT_COL_POWER] = "power",
    [LAYOUT_COL_DP99] = "dp99",         [LAYOUT_COL_DMEAN] = "dmean",
    [LAYOUT_COL_TARGET] = "target",     [LAYOUT_COL_RESULT] = "result",
    [LAYOUT_COL_MESSAGE] = "message",   [LAYOUT_COL_TOKENS] = "tokens",
    [LAYOUT_COL_P99_MIN] = "p99min",    [LAYOUT_COL_P99_MED] = "p99med",
    [LAYOUT_COL_P99_MAX] = "p99max",    [LAYOUT_COL_SLOWEST] = "slowest",
};

/* Each view's name (--view, nctoprc, --columns VIEW:) and its columns, by enum layout_view. */
static const struct {
    const char *name;
    const struct layout_col *cols;
    size_t ncols;
} layout_views[LAYOUT_NVIEWS] = {
    [LAYOUT_VIEW_LATENCY] = {"latency", layout_latency,
                             sizeof(layout_latency) / sizeof(layout_latency[0])},
    [LAYOUT_VIEW_MEMORY] = {"memory", layout_memory,
                            sizeof(layout_memory) / sizeof(layout_memory[0])},
    [LAYOUT_VIEW_KERNELS] = {"kernels", layout_kernels,
                             sizeof(layout_kernels) / sizeof(layout_kernels[0])},
    [LAYOUT_VIEW_WORKLOADS] = {"workloads", layout_workloads,
                               sizeof(layout_workloads) / sizeof(layout_workloads[0])},
    [LAYOUT_VIEW_THREADS] = {"threads", layout_threads,
                             sizeof(layout_threads) / sizeof(layout_threads[0])},
    [LAYOUT_VIEW_NEURO] = {"neuro", layout_neuro, sizeof(layout_neuro) / sizeof(layout_neuro[0])},
    [LAYOUT_VIEW_HEATMAP] = {"heatmap", layout_heatmap,
                             sizeof(layout_heatmap) / sizeof(layout_heatmap[0])},
    [LAYOUT_VIEW_COMPILE] = {"compile", layout_compile,
                             sizeof(layout_compile) / sizeof(layout_compile[0])},
    [LAYOUT_VIEW_ALERTS] = {"alerts", layout_alerts,
                            sizeof(layout_alerts) / sizeof(layout_alerts[0])},
};

static struct layout_rect layout_take(int *y, int x, int w, int h)
{
    struct layout_rect r = {.y = *y, .x = x, .h = h, .w = h > 0 ? w : 0};

    if (h <= 0) {
        r.h = 0;
        r.y = 0;
        r.x = 0;
        return r;
    }
    *y += h;
    return r;
}

void layout_screen(int w, int h, int header_want, struct layout *out)
{
    int footer, status, tabs, colhdr, header, y = 0;

    memset(out, 0, sizeof(*out));
    if (w <= 0 || h <= 0) {
        return;
    }
    /* What a tiny terminal gives up first: the status line, the tabs, the header, then
     * the footer and the column titles; the body stays while there is one line. */
    footer = h >= 3 ? 1 : 0;
    colhdr = h >= 2 ? 1 : 0;
    tabs = h >= 8 ? 1 : 0;
    status = h >= 10 ? 1 : 0;
    header = h - footer - colhdr - tabs - status - 3; /* keep 3 body lines */
    if (header > header_want) {
        header = header_want;
    }
    if (header < 0) {
        header = 0;
    }
    out->header = layout_take(&y, 0, w, header);
    out->tabs = layout_take(&y, 0, w, tabs);
    out->colhdr = layout_take(&y, 0, w, colhdr);
    out->body = layout_take(&y, 0, w, h - y - status - footer);
    out->status = layout_take(&y, 0, w, status);
    out->footer = layout_take(&y, 0, w, footer);
}

size_t layout_view_columns(enum layout_view v, const struct layout_col **out)
{
    if ((unsigned)v >= LAYOUT_NVIEWS) {
        v = LAYOUT_VIEW_LATENCY;
    }
    *out = layout_views[v].cols;
    return layout_views[v].ncols;
}

size_t layout_fit(enum layout_view v, int width, uint64_t enabled, int name_want,
                  struct layout_place *out)
{
    const struct layout_col *cols;
    size_t n = layout_view_columns(v, &cols), k = 0;
    bool chosen[LAYOUT_NCOLS] = {false};
    int used = 0, name_w, x = 0;

    if (width <= 0) {
        return 0;
    }
    enabled = layout_view_enabled(v, enabled);
    /* Greedy by priority: the name's minimum first, then each column that still fits. */
    used = width < LAYOUT_NAME_MIN ? width : LAYOUT_NAME_MIN;
    for (;;) {
        int best = -1;

        for (size_t i = 0; i < n; i++) {
            const struct layout_col *c = &cols[i];

            if (c->id == LAYOUT_COL_NAME || chosen[i] || !(enabled & (1ULL << c->id))) {
                continue;
            }
            if (used + c->width + 1 <= width && (best < 0 || c->prio > cols[best].prio)) {
                best = (int)i;
            }
        }
        if (best < 0) {
            break;
        }
        chosen[best] = true;
        used += cols[best].width + 1;
    }
    /* The name takes what it wants of the rest; one blank separates neighbours. */
    name_w = width - (used - (width < LAYOUT_NAME_MIN ? width : LAYOUT_NAME_MIN));
    if (name_want < LAYOUT_NAME_MIN) {
        name_want = LAYOUT_NAME_MIN;
    }
    if (name_w > name_want) {
        name_w = name_want;
    }
    for (size_t i = 0; i < n; i++) {
        if (cols[i].id != LAYOUT_COL_NAME && !chosen[i]) {
            continue;
        }
        if (k > 0) {
            x++;
        }
        out[k].id = cols[i].id;
        out[k].x = x;
        out[k].w = cols[i].id == LAYOUT_COL_NAME ? name_w : cols[i].width;
        x += out[k].w;
        k++;
    }
    return k;
}

bool layout_view_has(enum layout_view v, int col)
{
    const struct layout_col *cols;
    size_t n = layout_view_columns(v, &cols);

    for (size_t i = 0; i < n; i++) {
        if ((int)cols[i].id == col) {
            return true;
        }
    }
    return false;
}

uint64_t layout_view_enabled(enum layout_view v, uint64_t enabled)
{
    const struct layout_col *cols;
    size_t n = layout_view_columns(v, &cols);

    /* A column list that names none of this view's own columns (latency columns, and the
     * Memory view; name and share belong to every tree) leaves the view whole rather than
     * showing names without figures. */
    for (size_t i = 0; i < n; i++) {
        if (cols[i].id != LAYOUT_COL_NAME && cols[i].id != LAYOUT_COL_SHARE &&
            (enabled & (1ULL << cols[i].id)) != 0) {
            return enabled | 1ULL << LAYOUT_COL_NAME;
        }
    }
    return LAYOUT_COLS_ALL;
}

#define LAYOUT_COLS_SPREAD                                                                         \
    (1ULL << LAYOUT_COL_P99_MIN | 1ULL << LAYOUT_COL_P99_MED | 1ULL << LAYOUT_COL_P99_MAX |        \
     1ULL << LAYOUT_COL_SLOWEST)

uint64_t layout_rows_enabled(enum layout_view v, uint64_t enabled, const struct rows *rows)
{
    bool spread = false;

    /* Rows of a process that is not a fleet have no spread: not looked at one by one. */
    if (rows != NULL && rows->src != NULL && !rows->src_fleet) {
        rows = NULL;
    }
    for (size_t i = 0; v == LAYOUT_VIEW_LATENCY && rows != NULL && i < rows->n && !spread; i++) {
        spread = (rows->v[i].flags & ROW_F_SPREAD) != 0;
    }
    if (!spread) {
        return enabled & ~LAYOUT_COLS_SPREAD;
    }
    return enabled & ~(1ULL << LAYOUT_COL_LAST | 1ULL << LAYOUT_COL_MAX);
}

enum rows_sort_key layout_col_sort_key(enum layout_col_id id)
{
    switch (id) {
    case LAYOUT_COL_NAME:
        return ROWS_SORT_LABEL;
    case LAYOUT_COL_BACKEND:
    case LAYOUT_COL_TARGET: /* compile rows keep the target where kernels keep a backend */
        return ROWS_SORT_BACKEND;
    case LAYOUT_COL_RESULT:
        return ROWS_SORT_FAILED;
    case LAYOUT_COL_LAST:
        return ROWS_SORT_LAST;
    case LAYOUT_COL_MEAN:
        return ROWS_SORT_MEAN;
    case LAYOUT_COL_P50:
        return ROWS_SORT_P50;
    case LAYOUT_COL_P95:
        return ROWS_SORT_P95;
    case LAYOUT_COL_P99:
        return ROWS_SORT_P99;
    case LAYOUT_COL_MAX:
        return ROWS_SORT_MAX;
    case LAYOUT_COL_COUNT:
        return ROWS_SORT_COUNT;
    case LAYOUT_COL_TOTAL:
        return ROWS_SORT_TOTAL;
    case LAYOUT_COL_SHARE:
        return ROWS_SORT_SHARE;
    case LAYOUT_COL_CURRENT:
        return ROWS_SORT_CURRENT;
    case LAYOUT_COL_PEAK:
        return ROWS_SORT_PEAK;
    case LAYOUT_COL_CAPACITY:
        return ROWS_SORT_CAPACITY;
    case LAYOUT_COL_NEURONS:
        return ROWS_SORT_NEURONS;
    case LAYOUT_COL_FIRING:
        return ROWS_SORT_FIRING;
    case LAYOUT_COL_SPIKES:
        return ROWS_SORT_SPIKES;
    case LAYOUT_COL_SYNOPS:
        return ROWS_SORT_SYNOPS;
    case LAYOUT_COL_HOPS:
        return ROWS_SORT_HOPS;
    case LAYOUT_COL_BUFFER:
        return ROWS_SORT_BUFFER;
    case LAYOUT_COL_ESTEP:
        return ROWS_SORT_STEP_ENERGY;
    case LAYOUT_COL_POWER:
        return ROWS_SORT_POWER;
    case LAYOUT_COL_P99_MIN:
        return ROWS_SORT_P99_MIN;
    case LAYOUT_COL_P99_MED:
        return ROWS_SORT_P99_MEDIAN;
    case LAYOUT_COL_P99_MAX:
    case LAYOUT_COL_SLOWEST:
        return ROWS_SORT_P99_MAX;
    default:
        return ROWS_SORT_NONE;
    }
}

const char *layout_col_name(enum layout_col_id id)
{
    return (unsigned)id < LAYOUT_NCOLS ? layout_col_names[id] : "?";
}

int layout_col_from_name(const char *name)
{
    for (int i = 0; i < LAYOUT_NCOLS; i++) {
        if (strcmp(name, layout_col_names[i]) == 0) {
            return i;
        }
    }
    return -1;
}

const char *layout_view_name(enum layout_view v)
{
    return (unsigned)v < LAYOUT_NVIEWS ? layout_views[v].name : "?";
}

int layout_view_from_name(const char *name)
{
    for (int i = 0; i < LAYOUT_NVIEWS; i++) {
        if (strcmp(name, layout_views[i].name) == 0) {
            return i;
        }
    }
    return -1;
}
