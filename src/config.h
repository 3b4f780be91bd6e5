/* SPDX-License-Identifier: MIT */
/* The settings of one nctop run, from the command line (and later the config file). */
#ifndef NCTOP_SRC_CONFIG_H
#define NCTOP_SRC_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ui/layout.h"

struct otlp_client_opts;

#define CONFIG_MAX_PIDS 64
#define CONFIG_MAX_PROBES 64 /* --uprobe plus --usdt */

enum config_output {
    CONFIG_OUT_TEXT = 0, /* --once: the text tree */
    CONFIG_OUT_JSON = 1, /* --once --json */
    CONFIG_OUT_NONE = 2, /* --headless */
    CONFIG_OUT_TUI = 3,  /* the interactive display (ui/), the default */
};

struct config {
    int32_t pids[CONFIG_MAX_PIDS]; /* -p */
    size_t npids;
    bool demo;             /* --demo: run a reference workload */
    const char *demo_name; /* which: "tinylm" (the default) or "snn" */
    bool once;
    bool headless;
    bool batch;          /* --batch: text (or --json lines) every --delay, like top -b */
    uint64_t iterations; /* -n: snapshots --batch prints before it exits (0: no limit) */
    bool bpf;            /* --bpf: also run the eBPF collector */
    const char *probes[CONFIG_MAX_PROBES]; /* --uprobe specs, then --usdt specs (argv) */
    size_t nuprobes;
    size_t nusdts;
    enum config_output output;
    uint64_t duration_ns;    /* 0 = until interrupted (default 1 s with --once) */
    uint64_t delay_ns;       /* refresh interval */
    uint64_t window_ns;      /* rolling statistics window */
    const char *debug_log;   /* borrowed */
    const char *output_path; /* -o: where snapshots and text go (NULL: stdout) */
    /* Files (issue 4): logs, ProfileRecord, record and replay */
    bool log_enabled;         /* METRICS_LOG_ENABLED: the JSONL logger runs from the start */
    uint64_t log_interval_ns; /* METRICS_LOG_INTERVAL_SECS (5 s) */
    const char *log_dir;      /* --log-dir, or NULL: the working directory */
    uint64_t log_max_bytes;   /* --log-max-mb: a file this large starts a new pair (0: none) */
    unsigned log_keep;        /* --log-keep: pairs of this run kept on disk (0: all) */
    const char *profile_path; /* NC_PROFILE_JSONL, or NULL */
    double speed;             /* replay speed (1: as recorded) */
    /* The display, from nctoprc then the flags (names in ui/layout.h) */
    int view;                             /* enum layout_view shown first */
    int sort_col;                         /* enum layout_col_id, or -1: execution order */
    bool sort_ascending;                  /* figures sort largest first unless set */
    unsigned collapse_depth;              /* tree levels shown at first (2: blocks visible) */
    uint64_t columns;                     /* bit 1 << enum layout_col_id per column shown */
    uint64_t view_columns[LAYOUT_NVIEWS]; /* --columns VIEW:COL,...: one view's (0: columns) */
    int color;                            /* enum ui_color */
    const char *prometheus;               /* --prometheus [ADDR:]PORT, or NULL */
    bool prometheus_from_rc;              /* it came from nctoprc (and --once drops it) */
    size_t prom_max_paths; /* --prometheus-paths: series cap per process (0: default) */
    uint64_t *prom_bounds; /* --prometheus-buckets: histogram bounds, ns (owned; NULL: default) */
    size_t prom_nbounds;
    const char *step_span;   /* --step-span: the span that is the workload's step (NULL: auto) */
    uint64_t keep_exited_ns; /* --keep-exited: how long an exited workload stays (0: 300 s) */
    const char *baseline;    /* --baseline FILE (argv), or NULL: no comparison */
    const char *otlp_url;    /* --otlp URL: the OTLP/HTTP base endpoint (NULL: environment) */
    const struct otlp_client_opts *otlp; /* OTLP export settings (NULL: no export; owned by
                                          * main) */
    /* --prometheus-url: show the fleet this Prometheus scrapes (collectors/fleet.c)
     * instead of watching here, or NULL */
    const char *prometheus_url;
    int fail_on_alert; /* --fail-on-alert: exit 4 when an alert of at least this severity
                        * (enum alert_severity) fired; -1: never */
};

#endif /* NCTOP_SRC_CONFIG_H */
