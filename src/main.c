/* SPDX-License-Identifier: MIT */
/* nctop: the command line. Parses options, prepares the process (standard descriptors,
 * signals, the debug log), then hands over to the loop. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "collectors/fleet_http.h"
#include "collectors/replay/replay.h"
#include "collectors/ring.h"
#include "src/base/diag.h"
#include "src/base/fileio.h"
#include "src/base/util.h"
#include "src/base/xalloc.h"
#include "src/check.h"
#include "src/child.h"
#include "src/config.h"
#include "src/diff.h"
#include "src/format/record.h"
#include "src/http.h"
#include "src/loop.h"
#include "src/model/alerts.h"
#include "src/model/store.h"
#include "src/nctoprc.h"
#include "src/otlp_client.h"
#include "src/output/export_chrome.h"
#include "src/output/logger.h"
#include "src/output/prom.h"
#include "ui/layout.h"
#include "ui/ui.h"

#ifndef NCTOP_LIBEXECDIR
#define NCTOP_LIBEXECDIR "/usr/local/libexec"
#endif

#define MAIN_MAX_SECONDS 31536000.0 /* a year */

enum main_longopt {
    OPT_ONCE = 256,
    OPT_JSON,
    OPT_HEADLESS,
    OPT_BATCH,
    OPT_DURATION,
    OPT_DEMO,
    OPT_DEBUG_LOG,
    OPT_WINDOW,
    OPT_PROMETHEUS,
    OPT_PROM_PATHS,
    OPT_PROM_URL,
    OPT_BPF,
    OPT_UPROBE,
    OPT_USDT,
    OPT_VIEW,
    OPT_SORT,
    OPT_COLLAPSE,
    OPT_COLUMNS,
    OPT_COLOR,
    OPT_LOG_DIR,
    OPT_LOG,
    OPT_LOG_MAX_MB,
    OPT_LOG_KEEP,
    OPT_STEP_SPAN,
    OPT_KEEP_EXITED,
    OPT_PROM_BUCKETS,
    OPT_SPEED,
    OPT_CHECK,
    OPT_BASELINE,
    OPT_OTLP,
    OPT_RULES,
    OPT_ALERT,
    OPT_FAIL_ON_ALERT,
};

/* The first argument may name a subcommand (nctop record / replay / export). */
enum main_mode {
    MAIN_WATCH = 0,
    MAIN_RECORD,
    MAIN_REPLAY,
    MAIN_EXPORT,
    MAIN_DIFF,
};

static const struct option main_longopts[] = {
    {"pid", required_argument, NULL, 'p'},
    {"delay", required_argument, NULL, 'd'},
    {"once", no_argument, NULL, OPT_ONCE},
    {"json", no_argument, NULL, OPT_JSON},
    {"headless", no_argument, NULL, OPT_HEADLESS},
    {"batch", no_argument, NULL, OPT_BATCH},
    {"iterations", required_argument, NULL, 'n'},
    {"duration", required_argument, NULL, OPT_DURATION},
    {"window", required_argument, NULL, OPT_WINDOW},
    {"demo", optional_argument, NULL, OPT_DEMO},
    {"debug-log", required_argument, NULL, OPT_DEBUG_LOG},
    {"output", required_argument, NULL, 'o'},
    {"prometheus", required_argument, NULL, OPT_PROMETHEUS},
    {"prometheus-paths", required_argument, NULL, OPT_PROM_PATHS},
    {"prometheus-url", required_argument, NULL, OPT_PROM_URL},
    {"bpf", no_argument, NULL, OPT_BPF},
    {"uprobe", required_argument, NULL, OPT_UPROBE},
    {"usdt", required_argument, NULL, OPT_USDT},
    {"view", required_argument, NULL, OPT_VIEW},
    {"sort", required_argument, NULL, OPT_SORT},
    {"collapse-depth", required_argument, NULL, OPT_COLLAPSE},
    {"columns", required_argument, NULL, OPT_COLUMNS},
    {"color", required_argument, NULL, OPT_COLOR},
    {"log-dir", required_argument, NULL, OPT_LOG_DIR},
    {"log", no_argument, NULL, OPT_LOG},
    {"log-max-mb", required_argument, NULL, OPT_LOG_MAX_MB},
    {"log-keep", required_argument, NULL, OPT_LOG_KEEP},
    {"step-span", required_argument, NULL, OPT_STEP_SPAN},
    {"keep-exited", required_argument, NULL, OPT_KEEP_EXITED},
    {"prometheus-buckets", required_argument, NULL, OPT_PROM_BUCKETS},
    {"speed", required_argument, NULL, OPT_SPEED},
    {"check", no_argument, NULL, OPT_CHECK},
    {"baseline", required_argument, NULL, OPT_BASELINE},
    {"otlp", required_argument, NULL, OPT_OTLP},
    {"rules", required_argument, NULL, OPT_RULES},
    {"alert", required_argument, NULL, OPT_ALERT},
    {"fail-on-alert", optional_argument, NULL, OPT_FAIL_ON_ALERT},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

static void main_usage(FILE *out)
{
    fputs("usage: nctop [options]                 watch every live workload of this user\n"
          "       nctop [options] -p PID[,PID...]  watch these workloads\n"
          "       nctop [options] --demo[=NAME]    run a reference workload and watch it\n"
          "       nctop [options] -- CMD ARG...    start CMD and watch it\n"
          "       nctop record -o FILE [options] [-p PID...|-- CMD...]  record every event\n"
          "       nctop replay [options] FILE...   play recordings, logs, ProfileRecord files\n"
          "                                        and Chrome traces as if live\n"
          "       nctop export --chrome-trace OUT.json FILE  a recording as a Chrome trace\n"
          "       nctop diff [--json] [--fail-on SPEC] A B  compare two runs (snapshots,\n"
          "                                        recordings, logs) row by row\n"
          "\n"
          "options:\n"
          "  -p, --pid PID[,PID...]  watch these processes (libnctop workloads)\n"
          "      --demo[=NAME]       start a reference workload and watch it: tinylm (a\n"
          "                          decoder, the default), snn (a spiking network) or\n"
          "                          compile (snnc compiles networks, then snn runs one)\n"
          "      --once              collect for --duration (default 1 s; with -- CMD, until\n"
          "                          it exits), print one snapshot, exit\n"
          "      --json              with --once: print the snapshot as JSON\n"
          "  -o, --output FILE       write snapshots and text to FILE, not standard output\n"
          "      --headless          no display: collect until a signal or --duration\n"
          "      --batch             no display: print the text tables (with --json: one\n"
          "                          snapshot a line) every --delay, like top -b\n"
          "  -n, --iterations N      with --batch: exit after N snapshots\n"
          "      --duration SECS     stop after SECS\n"
          "  -d, --delay SECS        refresh interval (default 1)\n"
          "      --window SECS       rolling statistics window (default 10)\n"
          "      --view VIEW         first view: latency, memory, kernels, workloads,\n"
          "                          threads, neuro, heatmap, compile, alerts\n"
          "      --sort COL          sort siblings by COL (p99, mean, share, ...; none)\n"
          "      --collapse-depth N  tree levels shown at first (default 2)\n"
          "      --columns [VIEW:]COL,...  columns shown (default all); VIEW: that view's\n"
          "      --color WHEN        auto (default; honours NO_COLOR), always or never\n"
          "      --prometheus [ADDR:]PORT  serve Prometheus metrics on http://ADDR:PORT/metrics\n"
          "                          (ADDR defaults to 127.0.0.1)\n"
          "      --prometheus-paths N  latency paths exported per process (default 200)\n"
          "      --prometheus-buckets SPEC  histogram bounds: LOW:HIGH:PER_DECADE seconds\n"
          "                          (default 0.00001:100:10) or a list (0.001,0.01,...)\n"
          "      --otlp URL          export metrics over OTLP/HTTP (JSON) to URL, a base\n"
          "                          endpoint such as http://127.0.0.1:4318 (as\n"
          "                          NC_OTLP_ENDPOINT and OTEL_EXPORTER_OTLP_ENDPOINT)\n"
          "      --prometheus-url URL  show the fleet of nctops the Prometheus at URL\n"
          "                          (http://HOST:PORT) scrapes: every workload of every\n"
          "                          instance, the latency tree with the spread of p99\n"
          "                          across them (rates over --window, default 60 here)\n"
          "      --keep-exited SECS  how long an exited workload stays shown (default 300)\n"
          "      --baseline FILE     compare the latency rows with a snapshot, recording or\n"
          "                          log of an earlier run: p99 and mean change per path\n"
          "      --step-span NAME    the span (or a/b path) that is the workload's step\n"
          "                          (default: a span named step, else iteration markers)\n"
          "      --bpf               also watch the processes with eBPF (root): threads'\n"
          "                          CPU, run-queue and blocked time, syscalls, faults\n"
          "      --uprobe BIN:SYMBOL each call of SYMBOL in BIN is a span (implies --bpf)\n"
          "      --usdt BIN:PROV:NAME  count a USDT probe; *_begin/*_end pairs are spans\n"
          "      --log               write the JSONL logs from the start (METRICS_LOG_ENABLED)\n"
          "      --log-dir DIR       where JSONL logs go (default: the working directory;\n"
          "                          created when missing)\n"
          "      --log-max-mb N      start a new pair of logs when a file reaches N MiB\n"
          "                          (default 32; 0: no cap)\n"
          "      --log-keep N        keep the newest N pairs this run wrote (default 8; 0: all)\n"
          "      --speed X           replay at X times the recorded speed (default 1)\n"
          "      --chrome-trace OUT  export: write the Chrome trace to OUT\n"
          "      --fail-on SPEC      diff: exit 3 when a row regressed significantly by more\n"
          "                          than a threshold (e.g. p99=10%,rss=5%)\n"
          "      --rules FILE        alert rules, one a line: NAME KIND THRESHOLD [FOR\n"
          "                          [SEVERITY]] (see nctop(1), ALERTS)\n"
          "      --alert RULE        one rule line (e.g. 'memory_high 95 10s', 'events_lost off')\n"
          "      --fail-on-alert[=SEVERITY]  exit 4 when an alert (of SEVERITY: warning, the\n"
          "                          default, or critical) fired during the run\n"
          "      --debug-log FILE    write nctop's own diagnostics to FILE\n"
          "      --check             check what nctop depends on (shared memory, eBPF, NVML,\n"
          "                          the terminal, permissions, nctoprc) for the options\n"
          "                          given, one line each; exit 1 if a needed one is missing\n"
          "  -h, --help              show this help\n"
          "  -V, --version           show the version\n"
          "\n"
          "With -- CMD, nctop ends CMD (SIGTERM) when it quits; with --once, the snapshot is\n"
          "taken when CMD exits or at --duration, whichever comes first. See nctop(1).\n",
          out);
}

static void main_parse_pids(struct config *cfg, const char *arg)
{
    char *copy = xstrdup(arg), *save = NULL;

    for (char *tok = strtok_r(copy, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
        uint64_t pid;

        if (util_parse_u64(tok, 1, INT32_MAX, &pid) != 0) {
            die_usage("-p: '%s' is not a process id", tok);
        }
        if (cfg->npids == CONFIG_MAX_PIDS) {
            die_usage("-p: at most %d processes", CONFIG_MAX_PIDS);
        }
        cfg->pids[cfg->npids++] = (int32_t)pid;
    }
    free(copy);
    if (cfg->npids == 0) {
        die_usage("-p: no process id given");
    }
}

/* --uprobe and --usdt specs, kept in one array: the uprobes first, in the order given. */
static void main_add_probe(struct config *cfg, bool usdt, const char *spec)
{
    size_t n = cfg->nuprobes + cfg->nusdts;

    if (n == CONFIG_MAX_PROBES) {
        die_usage("at most %d --uprobe and --usdt options", CONFIG_MAX_PROBES);
    }
    if (strchr(spec, ':') == NULL) {
        die_usage("%s: '%s' is not %s", usdt ? "--usdt" : "--uprobe", spec,
                  usdt ? "BINARY:PROVIDER:NAME" : "BINARY:SYMBOL");
    }
    if (usdt) {
        cfg->probes[n] = spec;
        cfg->nusdts++;
    } else {
        memmove(&cfg->probes[cfg->nuprobes + 1], &cfg->probes[cfg->nuprobes],
                cfg->nusdts * sizeof(cfg->probes[0]));
        cfg->probes[cfg->nuprobes++] = spec;
    }
    cfg->bpf = true;
}

static uint64_t main_seconds(const char *opt, const char *arg)
{
    uint64_t ns;

    if (util_parse_seconds(arg, MAIN_MAX_SECONDS, &ns) != 0) {
        die_usage("%s: '%s' is not a number of seconds > 0", opt, arg);
    }
    return ns;
}

/* A reference workload or what it needs (name: "tinylm", "snn", "snnc", or "snnc-examples"
 * the compiler's example networks): $NCTOP_TINYLM, $NCTOP_SNN, $NCTOP_SNNC or
 * $NCTOP_SNNC_EXAMPLES, next to this binary (a build tree; the examples in the source tree
 * one or two levels above it), in the installed tree this binary belongs to
 * (PREFIX/bin/../libexec/nctop, whatever PREFIX the install used), or where the build said it
 * would be installed. */
static char *main_find_workload(const char *name)
{
    bool examples = strcmp(name, "snnc-examples") == 0;
    /* the last two: the source tree above a build tree (build/, or build/asan/ and the like) */
    const char *near[] = {"", "/../libexec/nctop", "/../models/snnc", "/../../models/snnc"};
    const char *env = secure_getenv(examples                    ? "NCTOP_SNNC_EXAMPLES"
                                    : strcmp(name, "snnc") == 0 ? "NCTOP_SNNC"
                                    : strcmp(name, "snn") == 0  ? "NCTOP_SNN"
                                                                : "NCTOP_TINYLM");
    char self[PATH_MAX], *slash, *path;
    ssize_t n;

    if (env != NULL && *env != '\0') {
        return xstrdup(env);
    }
    n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n > 0) {
        self[n] = '\0';
        slash = strrchr(self, '/');
        if (slash != NULL) {
            *slash = '\0';
            for (size_t i = 0; i < sizeof(near) / sizeof(near[0]); i++) {
                if (i >= 2 && !examples) {
                    break; /* the source tree holds only the examples */
                }
                path = i >= 2 ? xasprintf("%s%s/examples", self, near[i])
                              : xasprintf("%s%s/%s", self, near[i], name);
                if (access(path, X_OK) == 0) {
                    return path;
                }
                free(path);
            }
        }
    }
    path = xasprintf("%s/nctop/%s", NCTOP_LIBEXECDIR, name);
    if (access(path, X_OK) == 0) {
        return path;
    }
    free(path);
    return NULL;
}

/* --demo=compile: the compiler compiles its example networks for every target, twice over
 * (some do not fit a target and fail, one is invalid), then the runtime runs the last image
 * it made. One command, a shell, so that nctop watches both as descendants of it. argv gets
 * the command (owned strings), *dir the private directory of the image. */
static char **main_demo_compile(char **argv, char **dir)
{
    static const char script[] =
        "\"$0\" --loop \"$1\" --rounds 2 --pause-ms 250 --quiet -o \"$4\"; "
        "exec \"$2\" --image \"$4\" --realtime --quiet --steps \"$3\"";
    char *snnc = main_find_workload("snnc"), *snn = main_find_workload("snn");
    char *ex = main_find_workload("snnc-examples");
    const char *tmp = secure_getenv("TMPDIR");
    char *tmpl;

    if (snnc == NULL || snn == NULL || ex == NULL) {
        fatal("--demo=compile: the compiler, the runtime or the example networks are not "
              "installed; run 'make' or set NCTOP_SNNC, NCTOP_SNN and NCTOP_SNNC_EXAMPLES");
    }
    /* in $TMPDIR when it names a directory, like mktemp(1) */
    tmpl = xasprintf("%s/nctop-demo.XXXXXX", tmp != NULL && *tmp == '/' ? tmp : "/tmp");
    if (mkdtemp(tmpl) == NULL) {
        fatal("--demo=compile: a directory for the image in %s: %s",
              tmp != NULL && *tmp == '/' ? tmp : "/tmp", strerror(errno));
    }
    *dir = tmpl;
    argv[0] = xstrdup("/bin/sh");
    argv[1] = xstrdup("-c");
    argv[2] = xstrdup(script);
    argv[3] = snnc;
    argv[4] = ex;
    argv[5] = snn;
    argv[6] = xstrdup("0"); /* the runtime runs until nctop quits */
    argv[7] = xasprintf("%s/last.img", tmpl);
    return argv;
}

/* Closed standard descriptors would be reused by the first open(): give them /dev/null. */
static void main_sanitize_fds(void)
{
    for (int fd = 0; fd < 3; fd++) {
        if (fcntl(fd, F_GETFD) < 0 && errno == EBADF) {
            int nfd = open("/dev/null", O_RDWR);

            if (nfd >= 0 && nfd != fd) {
                dup2(nfd, fd);
                close(nfd);
            }
        }
    }
}

/* One display setting from a flag or nctoprc. Returns NULL or why the value is wrong. */
static void main_option(struct config *cfg, int c, const char *arg);

static const char *main_set_display(struct config *cfg, const char *key, const char *val)
{
    uint64_t n;
    int v;

    if (strcmp(key, "view") == 0) {
        if ((v = layout_view_from_name(val)) < 0) {
            return "not a view (latency, memory, kernels, workloads, threads, neuro, heatmap, "
                   "compile, alerts)";
        }
        cfg->view = v;
    } else if (strcmp(key, "sort") == 0) {
        if (strcmp(val, "none") != 0 && layout_col_from_name(val) < 0) {
            return "not a column (name, last, mean, p50, p95, p99, max, count, share, current, "
                   "peak, capacity, total; or none)";
        }
        cfg->sort_col = strcmp(val, "none") == 0 ? UI_SORT_NONE : layout_col_from_name(val);
    } else if (strcmp(key, "collapse-depth") == 0 || strcmp(key, "collapse_depth") == 0) {
        if (util_parse_u64(val, 0, 64, &n) != 0) {
            return "not a depth from 0 to 64";
        }
        cfg->collapse_depth = (unsigned)n;
    } else if (strcmp(key, "columns") == 0) {
        const char *colon = strchr(val, ':');
        char *copy, *save = NULL;
        uint64_t mask = 1ULL << LAYOUT_COL_NAME;
        int view = -1;

        /* VIEW:COL,... sets one view's columns; COL,... every view's. */
        if (colon != NULL) {
            char vname[32];

            snprintf(vname, sizeof(vname), "%.*s", (int)(colon - val), val);
            if ((view = layout_view_from_name(vname)) < 0) {
                return "not VIEW:COL,... with a view (latency, memory, kernels, workloads, "
                       "threads, neuro, heatmap, compile, alerts)";
            }
            val = colon + 1;
        }
        copy = xstrdup(val);

        for (char *t = strtok_r(copy, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save)) {
            if (strcmp(t, "all") == 0) {
                mask = LAYOUT_COLS_ALL;
            } else if ((v = layout_col_from_name(t)) >= 0) {
                mask |= 1ULL << v;
            } else {
                static char why[160];

                snprintf(why, sizeof(why),
                         "not a list of columns: '%.32s' is none (e.g. last,p50,p99,share; "
                         "or all)",
                         t);
                free(copy);
                return why;
            }
        }
        free(copy);
        if (view >= 0) {
            cfg->view_columns[view] = mask;
        } else {
            cfg->columns = mask;
        }
    } else if (strcmp(key, "color") == 0) {
        if (strcmp(val, "auto") == 0) {
            cfg->color = UI_COLOR_AUTO;
        } else if (strcmp(val, "always") == 0) {
            cfg->color = UI_COLOR_ALWAYS;
        } else if (strcmp(val, "never") == 0) {
            cfg->color = UI_COLOR_NEVER;
        } else {
            return "not auto, always or never";
        }
    } else if (strcmp(key, "delay") == 0) {
        if (util_parse_seconds(val, MAIN_MAX_SECONDS, &cfg->delay_ns) != 0) {
            return "not a number of seconds > 0";
        }
    } else {
        return "unknown key (view, sort, delay, collapse-depth, columns, color)";
    }
    return NULL;
}

/* The settings nctoprc may hold: the long options that choose how nctop runs, not what it
 * watches or does (no -p, --once, --demo, -o...). */
static const char *const main_rc_keys[] = {
    "delay",
    "window",
    "view",
    "sort",
    "collapse-depth",
    "columns",
    "color",
    "log",
    "log-dir",
    "log-max-mb",
    "log-keep",
    "prometheus",
    "prometheus-paths",
    "speed",
    "prometheus-buckets",
    "step-span",
    "keep-exited",
    "bpf",
    "rules",
    "alert",
};

/* Kept for the whole run: option values from nctoprc point into it. */
static struct nctoprc *main_rc;

/* --window was given (a fleet's rates span 60 s unless it was). */
static bool main_window_set;
/* The alert rules: the built-in ones, then nctoprc's and the flags' rules files and lines in
 * their order. */
static struct alerts *main_alerts;

static struct alerts *main_alert_rules(void)
{
    if (main_alerts == NULL) {
        main_alerts = alerts_new();
    }
    return main_alerts;
}

/* --rules FILE: every line a rule; the first bad one is a usage error naming file and line. */
static void main_load_rules(const char *path)
{
    FILE *f = fopen(path, "re");
    char *text, *err = NULL;
    size_t n;

    if (f == NULL) {
        die_usage("--rules %s: %s", path, strerror(errno));
    }
    text = xmalloc(64 * 1024 + 1);
    n = fread(text, 1, 64 * 1024 + 1, f);
    if (ferror(f) || n > 64 * 1024 || memchr(text, '\0', n) != NULL) {
        die_usage("--rules %s: %s", path,
                  ferror(f) ? strerror(errno) : "not a text file of at most 64 KiB");
    }
    fclose(f);
    text[n] = '\0';
    if (alerts_load(main_alert_rules(), text, path, &err) != 0) {
        die_usage("%s", err);
    }
    free(text);
}

/* --check was given: report instead of running. */
static bool main_checking;
static char *main_check_path; /* the nctoprc --check looked at (owned) */

/* A boolean nctoprc value: 1 yes, 0 no, -1 neither. */
static int main_rc_bool(const char *v)
{
    static const char *const yes[] = {"1", "true", "yes", "on"}, *const no[] = {"0", "false", "no",
                                                                                "off"};

    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(v, yes[i]) == 0) {
            return 1;
        }
        if (strcasecmp(v, no[i]) == 0) {
            return 0;
        }
    }
    return -1;
}

/* ~/.config/nctop/nctoprc (XDG) comes before the environment and the flags, which override
 * it. Each "key = value" is the long option --key=value; an unknown key is a warning with its
 * file and line, a bad value a usage error naming them. */
static void main_read_rc(struct config *cfg)
{
    char *path = nctoprc_default_path(), *err = NULL;
    char where[4200];

    if (path == NULL) {
        return;
    }
    /* A file we may not read (a home directory of someone else, say) loses nothing worth
     * stopping for: say so and go on with the defaults. Bad contents stay an error. */
    if (access(path, R_OK) != 0 && errno != ENOENT && errno != ENOTDIR) {
        diag_print("warning: %s: %s (using the defaults)", path, strerror(errno));
        free(path);
        return;
    }
    main_rc = nctoprc_load(path, &err);
    if (main_rc == NULL) {
        die_usage("%s: %s", path, err);
    }
    for (size_t i = 0; i < nctoprc_count(main_rc); i++) {
        const char *key = nctoprc_key(main_rc, i), *val = nctoprc_value(main_rc, i);
        const struct option *o = NULL;
        char name[64];
        size_t k;
        int b;

        /* collapse_depth and collapse-depth are the same key. */
        snprintf(name, sizeof(name), "%s", key);
        for (char *q = name; *q != '\0'; q++) {
            *q = *q == '_' ? '-' : *q;
        }
        for (k = 0; k < sizeof(main_rc_keys) / sizeof(main_rc_keys[0]); k++) {
            if (strcmp(name, main_rc_keys[k]) == 0) {
                break;
            }
        }
        for (size_t j = 0;
             k < sizeof(main_rc_keys) / sizeof(main_rc_keys[0]) && main_longopts[j].name != NULL;
             j++) {
            if (strcmp(main_longopts[j].name, name) == 0) {
                o = &main_longopts[j];
            }
        }
        snprintf(where, sizeof(where), "%s:%u", path, nctoprc_line(main_rc, i));
        if (o == NULL) {
            diag_print("warning: %s: unknown setting '%s' (ignored)", where, key);
            continue;
        }
        diag_set_context(where);
        if (o->has_arg == no_argument) {
            if ((b = main_rc_bool(val)) < 0) {
                die_usage("%s '%s': not yes or no", key, val);
            }
            if (b == 1) {
                main_option(cfg, o->val, NULL);
            }
        } else {
            main_option(cfg, o->val, val);
            if (o->val == OPT_PROMETHEUS) {
                cfg->prometheus_from_rc = true;
            }
        }
        diag_set_context(NULL);
    }
    free(path);
}

/* Whether --check is among the options (before a "--" and its command). */
static bool main_wants_check(int argc, char **argv)
{
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
        if (strcmp(argv[i], "--check") == 0) {
            return true;
        }
    }
    return false;
}

/* nctoprc for --check: read by the code of a real start in a child process, whose stderr is
 * what that start would print and whose exit says whether it would go on. The settings are
 * then applied here (quietly: the child said it all) unless the file is refused. */
static void main_check_rc(struct config *cfg, struct check_rc *out, char *msg, size_t len)
{
    char *path;
    int pfd[2], status = 0, saved;
    size_t n = 0;
    ssize_t got;
    pid_t pid;

    path = main_check_path = nctoprc_default_path();
    out->path = path;
    out->status = CHECK_OK;
    out->message = NULL;
    if (path == NULL) {
        return;
    }
    if (pipe2(pfd, O_CLOEXEC) != 0 || (pid = fork()) < 0) {
        fatal("--check: cannot start the config file check:");
    }
    if (pid == 0) {
        dup2(pfd[1], STDERR_FILENO);
        main_read_rc(cfg);
        fflush(stderr);
        _exit(0);
    }
    close(pfd[1]);
    while (n + 1 < len && (got = read(pfd[0], msg + n, len - 1 - n)) != 0) {
        if (got < 0 && errno != EINTR) {
            break;
        }
        n += got > 0 ? (size_t)got : 0;
    }
    close(pfd[0]);
    msg[n] = '\0';
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    /* The first line, without the program's prefix. */
    msg[strcspn(msg, "\n")] = '\0';
    if (strncmp(msg, "nctop: ", 7) == 0) {
        memmove(msg, msg + 7, strlen(msg + 7) + 1);
    }
    if (strncmp(msg, "warning: ", 9) == 0) {
        memmove(msg, msg + 9, strlen(msg + 9) + 1);
    }
    out->message = msg[0] != '\0' ? msg : NULL;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        out->status = CHECK_UNAVAILABLE;
        return;
    }
    out->status = msg[0] != '\0' ? CHECK_DEGRADED : CHECK_OK;
    saved = dup(STDERR_FILENO);
    if (saved >= 0) {
        int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);

        if (devnull >= 0) {
            dup2(devnull, STDERR_FILENO);
            close(devnull);
        }
        main_read_rc(cfg);
        fflush(stderr);
        dup2(saved, STDERR_FILENO);
        close(saved);
    }
}

static void main_display_flag(struct config *cfg, const char *flag, const char *val)
{
    const char *why = main_set_display(cfg, flag + 2, val);

    if (why != NULL) {
        die_usage("%s: '%s' is %s", flag, val, why);
    }
}

/* "nctop record|replay|export|diff ...": drop the subcommand from argv (keeping argv[0]). */
static enum main_mode main_subcommand(int *argc, char ***argv)
{
    static const char *const names[] = {"record", "replay", "export", "diff"};
    char **v = *argv;

    if (*argc < 2) {
        return MAIN_WATCH;
    }
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(v[1], names[i]) == 0) {
            v[1] = v[0];
            (*argv)++;
            (*argc)--;
            return (enum main_mode)(MAIN_RECORD + i);
        }
    }
    return MAIN_WATCH;
}

/* A whole file into memory (owned); NULL with errno set. */
static char *main_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rbe");
    size_t cap = 1 << 16, n = 0, got;
    char *buf;

    if (f == NULL) {
        return NULL;
    }
    buf = xmalloc(cap);
    while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            cap *= 2;
            buf = xreallocarray(buf, cap, 1);
        }
    }
    if (ferror(f)) {
        int err = errno;

        fclose(f);
        free(buf);
        errno = err;
        return NULL;
    }
    fclose(f);
    *len = n;
    return buf;
}

/* nctop export --chrome-trace OUT.json FILE */
static int main_export(int argc, char **argv)
{
    const char *out_path = NULL, *in_path = NULL;
    char *data, *err = NULL, why[96];
    size_t len = 0;
    FILE *out;
    long n;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--chrome-trace") == 0 && i + 1 < argc) {
            out_path = argv[++i];
        } else if (strncmp(argv[i], "--chrome-trace=", 15) == 0) {
            out_path = argv[i] + 15;
        } else if (argv[i][0] != '-' && in_path == NULL) {
            in_path = argv[i];
        } else {
            die_usage("export: unexpected argument '%s' (nctop export --chrome-trace OUT.json "
                      "FILE)",
                      argv[i]);
        }
    }
    if (out_path == NULL || in_path == NULL) {
        die_usage("export: nctop export --chrome-trace OUT.json FILE");
    }
    data = main_slurp(in_path, &len);
    if (data == NULL) {
        fatal("export: %s:", in_path);
    }
    out = strcmp(out_path, "-") == 0
              ? stdout
              : fileio_fopen(out_path, FILEIO_REPLACE, 0644, why, sizeof(why));
    if (out == NULL) {
        fatal("export: %s: %s", out_path, why);
    }
    n = export_chrome_trace(data, len, out, &err);
    free(data);
    if (err != NULL) {
        diag_print("export: %s: %s", in_path, err);
        free(err);
    }
    if ((out != stdout && fclose(out) != 0) || n == -EIO) {
        diag_print("export: writing %s failed", out_path);
        return 1;
    }
    return n < 0 ? 1 : 0;
}

/* nctop replay FILE...: load every file; problems are one stderr line each (before the
 * display starts), and a file that cannot be read at all ends nctop. */
static struct replay_source *main_replay_open(struct store *st, char **files, size_t n)
{
    struct replay_source *rs = replay_source_new(st);
    char *err = NULL;

    for (size_t i = 0; i < n; i++) {
        if (replay_source_add(rs, files[i], &err) != 0) {
            diag_print("replay: %s", err);
            free(err);
            replay_source_free(rs);
            exit(1);
        }
    }
    for (size_t i = 0; i < replay_source_nkept(rs); i++) {
        diag_print("replay: %s", replay_source_problem(rs, i));
    }
    if (replay_source_nproblems(rs) > replay_source_nkept(rs)) {
        diag_print("replay: %llu more problems not shown",
                   (unsigned long long)(replay_source_nproblems(rs) - replay_source_nkept(rs)));
    }
    return rs;
}

/* Under secure execution these choose nothing (secure_getenv): code to load, a program to
 * run, a file to write. Each one set is worth a warning, not silence. (HOME and
 * XDG_CONFIG_HOME are ignored too, quietly: nctoprc then comes from the password database.) */
static void main_warn_secure_env(void)
{
    static const char *const ignored[] = {"NCTOP_NVML_LIB", "NCTOP_TINYLM", "NC_PROFILE_JSONL"};

    if (!util_secure_exec()) {
        return;
    }
    for (size_t i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++) {
        if (getenv(ignored[i]) != NULL) {
            diag_print("warning: %s is ignored: this nctop runs with privileges its user does "
                       "not have (file capabilities or set-user-ID)",
                       ignored[i]);
        }
    }
}

/* --bpf -p: a process the real user may not trace is refused at once, whatever privileges
 * nctop has (CAP_BPF and CAP_PERFMON would let it see into anyone's process). */
static void main_check_bpf_pids(const struct config *cfg)
{
    for (size_t i = 0; cfg->bpf && i < cfg->npids; i++) {
        int32_t pid = cfg->pids[i];

        if (util_pid_alive(pid) && !util_may_trace(pid)) {
            fatal("--bpf -p %d: not permitted: the process runs as another user or is not "
                  "traceable (watch it as its user, or as root)",
                  (int)pid);
        }
    }
}

/* The environment of the file outputs (docs/DESIGN.md). */
static void main_read_env(struct config *cfg)
{
    char warn[160];
    const char *prof = secure_getenv("NC_PROFILE_JSONL");

    /* The environment can turn logging on; nctoprc's "log = yes" stays when it does not. */
    if (logger_env(&cfg->log_interval_ns, warn, sizeof(warn))) {
        cfg->log_enabled = true;
    }
    if (warn[0] != '\0') {
        diag_print("warning: %s", warn);
    }
    if (prof != NULL && *prof != '\0') {
        cfg->profile_path = prof;
    }
}

/* OTLP export: --otlp or the environment (docs/DESIGN.md); a bad setting is a usage error. */
static void main_otlp_env(struct config *cfg)
{
    static struct otlp_client_opts opts;
    char *err = NULL;
    int rc = otlp_client_opts_env(cfg->otlp_url, &opts, &err);

    if (rc < 0) {
        die_usage("%s", err);
    }
    cfg->otlp = rc > 0 ? &opts : NULL;
}

/* One option, from the command line or from nctoprc (arg: its value, NULL for a flag). */
static void main_option(struct config *cfg, int c, const char *arg)
{
    switch (c) {
    case 'p':
        main_parse_pids(cfg, arg);
        break;
    case 'd':
        cfg->delay_ns = main_seconds("--delay", arg);
        break;
    case OPT_ONCE:
        cfg->once = true;
        break;
    case OPT_JSON:
        cfg->output = CONFIG_OUT_JSON;
        break;
    case OPT_HEADLESS:
        cfg->headless = true;
        break;
    case OPT_BATCH:
        cfg->batch = true;
        break;
    case 'n': {
        char *end;
        unsigned long long n;

        errno = 0;
        n = strtoull(arg, &end, 10);
        if (errno != 0 || end == arg || *end != '\0' || n == 0 || arg[0] == '-') {
            die_usage("-n: '%s' is not a number of snapshots > 0", arg);
        }
        cfg->iterations = n;
        break;
    }
    case OPT_DURATION:
        cfg->duration_ns = main_seconds("--duration", arg);
        break;
    case OPT_WINDOW:
        main_window_set = true;
        cfg->window_ns = main_seconds("--window", arg);
        if (cfg->window_ns < UTIL_NS_PER_SEC) {
            die_usage("--window: at least 1 second");
        }
        cfg->window_ns -= cfg->window_ns % UTIL_NS_PER_SEC;
        break;
    case OPT_DEMO:
        cfg->demo = true;
        cfg->demo_name = optarg != NULL ? optarg : "tinylm";
        if (strcmp(cfg->demo_name, "tinylm") != 0 && strcmp(cfg->demo_name, "snn") != 0 &&
            strcmp(cfg->demo_name, "compile") != 0) {
            die_usage("--demo: '%s' is not a reference workload (tinylm, snn, compile)", optarg);
        }
        break;
    case OPT_BPF:
        cfg->bpf = true;
        break;
    case OPT_UPROBE:
    case OPT_USDT:
        main_add_probe(cfg, c == OPT_USDT, arg);
        break;
    case OPT_DEBUG_LOG:
        cfg->debug_log = arg;
        break;
    case 'o':
        cfg->output_path = arg;
        break;
    case OPT_VIEW:
        main_display_flag(cfg, "--view", arg);
        break;
    case OPT_SORT:
        main_display_flag(cfg, "--sort", arg);
        break;
    case OPT_COLLAPSE:
        main_display_flag(cfg, "--collapse-depth", arg);
        break;
    case OPT_COLUMNS:
        main_display_flag(cfg, "--columns", arg);
        break;
    case OPT_COLOR:
        main_display_flag(cfg, "--color", arg);
        break;
    case OPT_LOG_DIR:
        cfg->log_dir = arg;
        break;
    case OPT_LOG:
        cfg->log_enabled = true;
        break;
    case OPT_LOG_MAX_MB: {
        uint64_t mb;

        if (util_parse_u64(arg, 0, 1024ULL * 1024, &mb) != 0) {
            die_usage("--log-max-mb: '%s' is not a whole number of MiB (0: no cap)", arg);
        }
        cfg->log_max_bytes = mb << 20;
        break;
    }
    case OPT_LOG_KEEP: {
        uint64_t n;

        if (util_parse_u64(arg, 0, 1000000, &n) != 0) {
            die_usage("--log-keep: '%s' is not a whole number of pairs (0: all)", arg);
        }
        cfg->log_keep = (unsigned)n;
        break;
    }
    case OPT_CHECK:
        main_checking = true;
        break;
    case OPT_RULES:
        main_load_rules(arg);
        break;
    case OPT_ALERT: {
        char *err = NULL;

        if (alerts_set_rule(main_alert_rules(), arg, &err) != 0) {
            die_usage("--alert '%s': %s", arg, err);
        }
        break;
    }
    case OPT_FAIL_ON_ALERT:
        if (arg == NULL || strcmp(arg, "warning") == 0) {
            cfg->fail_on_alert = ALERT_WARNING;
        } else if (strcmp(arg, "critical") == 0) {
            cfg->fail_on_alert = ALERT_CRITICAL;
        } else {
            die_usage("--fail-on-alert: '%s' is not a severity (warning, critical)", arg);
        }
        break;
    case OPT_SPEED: {
        char *end = NULL;

        cfg->speed = strtod(arg, &end);
        if (end == arg || *end != '\0' || !(cfg->speed > 0) || cfg->speed > 1e6) {
            die_usage("--speed: '%s' is not a factor > 0", arg);
        }
        break;
    }
    case OPT_PROMETHEUS: {
        struct sockaddr_storage ss;

        if (http_parse_listen(arg, &ss) != 0) {
            die_usage("--prometheus: '%s' is not [ADDR:]PORT (e.g. 9464, 127.0.0.1:9464, "
                      "[::1]:9464)",
                      arg);
        }
        cfg->prometheus = arg;
        break;
    }
    case OPT_PROM_URL: {
        struct fleet_url u;
        char *err = NULL;

        if (fleet_url_parse(arg, &u, &err) != 0) {
            die_usage("--prometheus-url: %s", err);
        }
        cfg->prometheus_url = arg;
        break;
    }
    case OPT_PROM_PATHS: {
        uint64_t n;

        if (util_parse_u64(arg, 1, 100000, &n) != 0) {
            die_usage("--prometheus-paths: '%s' is not a number from 1 to 100000", arg);
        }
        cfg->prom_max_paths = (size_t)n;
        break;
    }
    case OPT_KEEP_EXITED:
        cfg->keep_exited_ns = main_seconds("--keep-exited", arg);
        break;
    case OPT_BASELINE:
        if (arg[0] == '\0') {
            die_usage("--baseline: a snapshot, recording or log file");
        }
        cfg->baseline = arg;
        break;
    case OPT_STEP_SPAN:
        if (arg[0] == '\0') {
            die_usage("--step-span: a span name (or a/b path)");
        }
        cfg->step_span = arg;
        break;
    case OPT_OTLP:
        cfg->otlp_url = arg;
        break;
    case OPT_PROM_BUCKETS: {
        char *err = NULL;

        free(cfg->prom_bounds);
        if (prom_buckets_parse(arg, &cfg->prom_bounds, &cfg->prom_nbounds, &err) != 0) {
            die_usage("%s", err);
        }
        break;
    }
    case 'h':
        main_usage(stdout);
        exit(0);
    case 'V': {
        const char *why = NULL;
        const char *clock = ring_clock_in_use(&why);

        printf("nctop %s\n", NCTOP_VERSION);
        /* What a workload's libnctop of this release stamps its events with, here. */
        if (why != NULL) {
            printf("event clock: %s (%s)\n", clock, why);
        } else {
            printf("event clock: %s (ticks converted to CLOCK_MONOTONIC)\n", clock);
        }
        exit(0);
    }
    default:
        fputs("Try 'nctop --help' for more information.\n", stderr);
        exit(2);
    }
}

int main(int argc, char **argv)
{
    struct config cfg;
    struct loop_io io = {NULL, NULL, NULL, NULL, NULL};
    struct store_config scfg;
    struct store *st;
    char *tinylm = NULL;
    char *demo_argv[9] = {NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL};
    char *demo_dir = NULL;
    char **cmd;
    char **replay_files = NULL;
    size_t nreplay = 0;
    enum main_mode mode;
    char why[96], rc_msg[1024];
    struct check_rc rc_check = {NULL, CHECK_OK, NULL};
    int c, status;

    /* Started again as the gate of a command (--bpf -- CMD): nothing else may run first, so
     * the command gets the signal dispositions and descriptors nctop was given. */
    if (child_gate_is(argc, argv)) {
        return child_gate_main(argv);
    }
    /* Buffers of 256 KiB and more (a Prometheus answer, a snapshot) are mapped and so go back
     * to the kernel when freed. Setting the threshold also turns off glibc's sliding one,
     * which after the first such free serves them from the heap, where, freed, they stay
     * resident: the soak's RSS stepped up 6 MB when its answers grew to 1.6 MB. */
    mallopt(M_MMAP_THRESHOLD, 256 * 1024);
    main_sanitize_fds();
    main_warn_secure_env();
    signal(SIGPIPE, SIG_IGN);
    /* A log beyond the file size limit fails with EFBIG instead of killing nctop. */
    signal(SIGXFSZ, SIG_IGN);

    memset(&cfg, 0, sizeof(cfg));
    cfg.delay_ns = UTIL_NS_PER_SEC;
    cfg.window_ns = 10 * UTIL_NS_PER_SEC;
    cfg.sort_col = UI_SORT_NONE;
    cfg.collapse_depth = 2; /* step > forward > blocks visible, phases folded */
    cfg.columns = LAYOUT_COLS_ALL;
    cfg.log_max_bytes = 32ULL << 20; /* about 8 hours of tinylm at the default interval */
    cfg.log_keep = 8;
    cfg.speed = 1.0;
    cfg.fail_on_alert = -1;
    if (main_wants_check(argc, argv)) {
        main_check_rc(&cfg, &rc_check, rc_msg, sizeof(rc_msg));
    } else {
        main_read_rc(&cfg);
    }
    mode = main_subcommand(&argc, &argv);
    if (mode == MAIN_EXPORT) {
        return main_export(argc, argv);
    }
    if (mode == MAIN_DIFF) {
        return diff_main(argc, argv);
    }
    main_read_env(&cfg);
    /* '+': stop at the first non-option, so CMD's own options stay its own; replay has no
     * CMD, so its options may also follow the file names. */
    while ((c = getopt_long(argc, argv, mode == MAIN_REPLAY ? "p:d:o:n:hV" : "+p:d:o:n:hV",
                            main_longopts, NULL)) != -1) {
        main_option(&cfg, c, optarg);
    }
    if (main_checking) {
        if (mode != MAIN_WATCH) {
            die_usage("--check looks at what watching needs: nctop --check [options]");
        }
        status = check_run(stdout, &cfg, &rc_check);
        free(main_check_path);
        return status;
    }
    main_otlp_env(&cfg);
    if (mode == MAIN_REPLAY) {
        /* The arguments are files to play, not a command. */
        replay_files = argv + optind;
        nreplay = (size_t)(argc - optind);
        optind = argc;
        if (nreplay == 0) {
            die_usage("replay: which files? (nctop replay FILE...)");
        }
        if (cfg.demo || cfg.npids > 0) {
            die_usage("replay: -p and --demo watch live workloads, not files");
        }
    }
    if (mode == MAIN_RECORD) {
        if (cfg.output_path == NULL) {
            die_usage("record: where to? (nctop record -o FILE ...)");
        }
        if (cfg.once || cfg.output == CONFIG_OUT_JSON) {
            die_usage("record: --once and --json are for watching; replay the recording");
        }
        cfg.headless = true;
    }
    cmd = optind < argc ? argv + optind : NULL;
    if (cmd != NULL && optind > 0 && strcmp(argv[optind - 1], "--") != 0) {
        die_usage("unexpected argument '%s' (a command to run goes after --)", cmd[0]);
    }
    if (cfg.output == CONFIG_OUT_JSON && !cfg.once && !cfg.batch) {
        die_usage("--json goes with --once or --batch");
    }
    if (cfg.batch && (cfg.once || cfg.headless)) {
        die_usage("--batch prints every --delay: not with --once or --headless");
    }
    if (cfg.iterations > 0 && !cfg.batch) {
        die_usage("-n counts the snapshots of --batch");
    }
    if (cfg.once && cfg.prometheus_from_rc) {
        cfg.prometheus = NULL; /* nctoprc's exporter is for the runs that stay */
    }
    if (cfg.once && cfg.prometheus != NULL) {
        die_usage("--prometheus serves a running nctop: use it with --headless or the display");
    }
    if (cfg.once && cfg.headless) {
        die_usage("--once and --headless exclude each other");
    }
    for (size_t i = 0; i < cfg.npids; i++) {
        if (kill(cfg.pids[i], 0) != 0 && errno == ESRCH) {
            fatal("-p %d: no such process", (int)cfg.pids[i]);
        }
    }
    main_check_bpf_pids(&cfg);
    if ((cfg.demo ? 1 : 0) + (cmd != NULL ? 1 : 0) + (cfg.npids > 0 ? 1 : 0) > 1) {
        die_usage("choose one of -p, --demo and -- CMD");
    }
    if (cfg.prometheus_url != NULL) {
        /* The fleet is read from Prometheus: nothing of this machine is watched with it. */
        if (mode != MAIN_WATCH || cfg.demo || cmd != NULL || cfg.npids > 0 || cfg.bpf) {
            die_usage("--prometheus-url shows a fleet read from Prometheus: not with -p, --demo, "
                      "-- CMD, --bpf, record or replay");
        }
        /* Prometheus scrapes every 15 s by default: a rate needs a few scrapes in its range. */
        if (!main_window_set) {
            cfg.window_ns = 60 * UTIL_NS_PER_SEC;
        }
    }
    if (cfg.headless) {
        cfg.output = CONFIG_OUT_NONE;
    } else if (!cfg.once && !cfg.batch) {
        cfg.output = CONFIG_OUT_TUI;
    }
    /* --once collects for 1 s by default; with a command, like perf stat, until it exits
     * (the demo workload never does, so it keeps the default). */
    if (cfg.once && cfg.duration_ns == 0 && (cmd == NULL || cfg.demo)) {
        cfg.duration_ns = UTIL_NS_PER_SEC;
    }
    /* Outputs (snapshots, text, recordings, the debug log) are never written through a
     * link or into someone else's file; "-o -" is standard output. */
    io.out = stdout;
    if (cfg.output_path != NULL && strcmp(cfg.output_path, "-") != 0) {
        io.out = fileio_fopen(cfg.output_path, FILEIO_REPLACE, 0644, why, sizeof(why));
        if (io.out == NULL) {
            fatal("-o %s: %s", cfg.output_path, why);
        }
    }
    if (cfg.debug_log != NULL && diag_open(cfg.debug_log, why, sizeof(why)) != 0) {
        fatal("--debug-log %s: %s", cfg.debug_log, why);
    }
    if (cfg.demo && strcmp(cfg.demo_name, "compile") == 0) {
        cmd = main_demo_compile(demo_argv, &demo_dir);
    } else if (cfg.demo) {
        bool snn = strcmp(cfg.demo_name, "snn") == 0;

        tinylm = main_find_workload(cfg.demo_name);
        if (tinylm == NULL) {
            fatal("--demo: the reference workload (%s) is not installed; run 'make' or set %s",
                  cfg.demo_name, snn ? "NCTOP_SNN" : "NCTOP_TINYLM");
        }
        demo_argv[0] = tinylm;
        demo_argv[1] = xstrdup("--quiet");
        /* The spiking network runs at the pace of its model time (100 us a timestep), as a
         * chip would: a live view, not a benchmark. */
        demo_argv[2] = snn ? xstrdup("--realtime") : NULL;
        cmd = demo_argv;
    }

    /* --baseline: read before anything starts, so a bad file is one line and nothing else. */
    if (cfg.baseline != NULL) {
        char *err = NULL;

        if (diff_load(cfg.baseline, &io.baseline, &err) != 0) {
            fatal("--baseline %s", err);
        }
    }
    memset(&scfg, 0, sizeof(scfg));
    scfg.window_ns = cfg.window_ns;
    scfg.step_span = cfg.step_span;
    scfg.exited_keep_ns = cfg.keep_exited_ns;
    st = store_new(&scfg);
    if (mode == MAIN_REPLAY) {
        io.replay = main_replay_open(st, replay_files, nreplay);
    } else if (mode == MAIN_RECORD) {
        /* Every call of the store's event API from now on goes into the file. */
        io.record = record_writer_new(io.out, util_mono_ns(), util_real_ns());
        store_set_observer(st, record_writer_observe, io.record);
    }
    io.alerts = main_alert_rules();
    status = loop_run(&cfg, &io, st, cmd);
    alerts_free(main_alerts);
    free(cfg.prom_bounds);
    if (io.record != NULL) {
        uint64_t records = record_writer_records(io.record), bytes = record_writer_bytes(io.record);

        store_set_observer(st, NULL, NULL);
        if (record_writer_free(io.record) != 0 && status == 0) {
            diag_print("record: writing %s failed", cfg.output_path);
            status = 1;
        } else if (status == 0) {
            diag_print("recorded %llu records (%llu bytes) to %s", (unsigned long long)records,
                       (unsigned long long)bytes, cfg.output_path);
        }
    }
    replay_source_free(io.replay);
    store_free(st);
    store_free(io.baseline);
    if (io.out != stdout && fclose(io.out) != 0 && status == 0) {
        diag_print("-o %s: %s", cfg.output_path, strerror(errno));
        status = 1;
    }
    free(tinylm);
    if (demo_dir != NULL) {
        /* The compile demo's image, and the directory made for it. */
        unlink(demo_argv[7]);
        rmdir(demo_dir);
        for (size_t i = 0; i < 8; i++) {
            free(demo_argv[i]);
        }
        free(demo_dir);
    } else {
        free(demo_argv[1]);
        free(demo_argv[2]);
    }
    diag_close();
    return status;
}
