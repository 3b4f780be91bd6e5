/* SPDX-License-Identifier: MIT */
/* Pure screen layout (no curses): where the header, tabs, column header, body, status and
 * footer go for a terminal size, and which columns of a view fit a width. */
#ifndef NCTOP_UI_LAYOUT_H
#define NCTOP_UI_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "src/model/rows.h"

enum layout_view {
    LAYOUT_VIEW_LATENCY = 0,
    LAYOUT_VIEW_MEMORY,
    LAYOUT_VIEW_KERNELS,
    LAYOUT_VIEW_WORKLOADS,
    LAYOUT_VIEW_THREADS,
    LAYOUT_VIEW_NEURO,   /* network -> layer -> core of a spiking workload */
    LAYOUT_VIEW_HEATMAP, /* a matrix the workload publishes */
    LAYOUT_VIEW_COMPILE, /* compilations -> their pass trees */
    LAYOUT_VIEW_ALERTS,  /* pending and firing alerts (src/model/alerts.h) */
    LAYOUT_NVIEWS,
};

/* Column identities; their names (layout_col_name) are the values of --columns and --sort. */
enum layout_col_id {
    LAYOUT_COL_NAME = 0,
    LAYOUT_COL_LAST,
    LAYOUT_COL_MEAN,
    LAYOUT_COL_P50,
    LAYOUT_COL_P95,
    LAYOUT_COL_P99,
    LAYOUT_COL_MAX,
    LAYOUT_COL_COUNT,
    LAYOUT_COL_SHARE,
    LAYOUT_COL_CURRENT,
    LAYOUT_COL_PEAK,
    LAYOUT_COL_CAPACITY,
    LAYOUT_COL_BACKEND,
    LAYOUT_COL_TOTAL,
    LAYOUT_COL_PID,
    LAYOUT_COL_STATE,
    LAYOUT_COL_EVENTS,
    LAYOUT_COL_DROPS,
    LAYOUT_COL_RSS,
    LAYOUT_COL_CPU,
    LAYOUT_COL_TID,
    LAYOUT_COL_ONCPU,    /* threads: on-CPU time (eBPF) */
    LAYOUT_COL_RUNQ,     /* threads: waiting for a CPU */
    LAYOUT_COL_BLOCKED,  /* threads: asleep, I/O, futex */
    LAYOUT_COL_SWITCHES, /* threads: voluntary/involuntary context switches */
    LAYOUT_COL_FAULTS,   /* threads: minor/major page faults */
    LAYOUT_COL_NEURONS,  /* neuro: neurons */
    LAYOUT_COL_FIRING,   /* neuro: firing rate per neuron (Hz) */
    LAYOUT_COL_SPIKES,   /* neuro: spikes per second */
    LAYOUT_COL_SYNOPS,   /* neuro: synaptic operations per second */
    LAYOUT_COL_HOPS,     /* neuro: spike-hops per second */
    LAYOUT_COL_BUFFER,   /* neuro: spike-queue occupancy */
    LAYOUT_COL_ESTEP,    /* neuro: energy per timestep */
    LAYOUT_COL_POWER,    /* neuro: power */
    LAYOUT_COL_DP99,     /* latency: p99 change against --baseline */
    LAYOUT_COL_DMEAN,    /* latency: mean change against --baseline */
    LAYOUT_COL_TARGET,   /* compile: the target a compilation was for */
    LAYOUT_COL_RESULT,   /* compile: ok or error */
    LAYOUT_COL_MESSAGE,  /* compile: why it failed */
    LAYOUT_COL_TOKENS,   /* workloads: generated tokens per second */
    LAYOUT_COL_P99_MIN,  /* a fleet's latency: the smallest p99 of its members */
    LAYOUT_COL_P99_MED,  /* ... their median */
    LAYOUT_COL_P99_MAX,  /* ... the largest */
    LAYOUT_COL_SLOWEST,  /* ... the member with the largest */
    LAYOUT_NCOLS,
};

#define LAYOUT_COLS_ALL ((1ULL << LAYOUT_NCOLS) - 1ULL)
/* The columns that compare with a baseline: shown only when one is given (--baseline). */
#define LAYOUT_COLS_BASELINE (1ULL << LAYOUT_COL_DP99 | 1ULL << LAYOUT_COL_DMEAN)

struct layout_rect {
    int y, x, h, w; /* h or w 0: not shown */
};

struct layout {
    struct layout_rect header;
    struct layout_rect tabs;   /* the view names */
    struct layout_rect colhdr; /* column titles */
    struct layout_rect body;
    struct layout_rect status; /* messages */
    struct layout_rect footer; /* main keys */
};

/* A column of a view: its identity, title, width and priority (when the width is short, the
 * lowest priorities go first; the name column is never dropped). */
struct layout_col {
    enum layout_col_id id;
    const char *title;
    int width;
    int prio;
};

/* A column placed on a line. */
struct layout_place {
    enum layout_col_id id;
    int x;
    int w;
};

#define LAYOUT_NAME_MIN 12 /* the name column is at least this wide when anything else shows */

/* Split a w x h screen. header_want: lines the header would like. Every rect lies inside the
 * screen and none overlap; below 20x5 parts drop out, the body last. */
void layout_screen(int w, int h, int header_want, struct layout *out);

/* The columns of a view (a static table, borrowed) and their number. */
size_t layout_view_columns(enum layout_view v, const struct layout_col **out);

/* Place the columns of a view on a line of the given width: the name first (as wide as
 * name_want, at least LAYOUT_NAME_MIN when other columns show), then every enabled column
 * (bit 1 << id of enabled) that fits, by priority, in table order. out has room for
 * LAYOUT_NCOLS places. Returns the number placed (0 when width <= 0). */
size_t layout_fit(enum layout_view v, int width, uint64_t enabled, int name_want,
                  struct layout_place *out);

/* Whether view v has column col (a --sort column applies to the views that have it). */
bool layout_view_has(enum layout_view v, int col);

/* The columns of view v a --columns mask enables: the mask itself plus the name, or every
 * column when it names none of the view's own figures (name and share belong to every tree),
 * so that a view never shows names without figures. */
uint64_t layout_view_enabled(enum layout_view v, uint64_t enabled);

/* The columns of view v that rows can fill, of enabled (a mask as layout_fit takes): a
 * fleet's spread columns only over rows with a spread (ROW_F_SPREAD), which have no LAST or
 * MAX figures instead. rows may be NULL (no rows: no spread). */
uint64_t layout_rows_enabled(enum layout_view v, uint64_t enabled, const struct rows *rows);

/* The figure a column sorts by (rows_sort); ROWS_SORT_NONE for a column of no tree row. */
enum rows_sort_key layout_col_sort_key(enum layout_col_id id);

/* Column names for --sort and --columns ("p99", "share", ...) and back. Returns -1 when
 * unknown. */
const char *layout_col_name(enum layout_col_id id);
int layout_col_from_name(const char *name);

/* View names ("latency", "memory", "kernels", "workloads", "threads", "neuro", "heatmap",
 * "compile", "alerts") and back. */
const char *layout_view_name(enum layout_view v);
int layout_view_from_name(const char *name);

#endif /* NCTOP_UI_LAYOUT_H */
