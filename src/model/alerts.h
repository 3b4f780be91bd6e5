/* SPDX-License-Identifier: MIT */
/* Alert rules: built-in conditions over the store (memory near capacity, lost or invalid
 * events, compile failures, hardware errors, energy anomalies, p99 regressions against a
 * baseline), each with a threshold and a for-duration, evaluated into pending and firing
 * alerts. Pure (libc only): the loop evaluates, the outputs read the alerts. */
#ifndef NCTOP_SRC_MODEL_ALERTS_H
#define NCTOP_SRC_MODEL_ALERTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct alerts;
struct store;

#define ALERTS_MAX_RULES 32   /* rules, built-in ones included */
#define ALERTS_MAX 256        /* pending and firing alerts kept; beyond: counted, not kept */
#define ALERTS_NAME_LEN 32    /* a rule name's bytes with its NUL: [a-z0-9_]+ */
#define ALERTS_OBJECT_LEN 128 /* an object's bytes kept with its NUL */
#define ALERTS_LABEL_LEN 64   /* a workload label's bytes kept with its NUL */
#define ALERTS_FIRED_KEPT 16  /* alerts that fired during the run, remembered for the end */

/* What a rule's condition measures, and so what its threshold means. */
enum alert_kind {
    ALERT_KIND_MEMORY = 0, /* used of capacity above threshold % (a pool, the KV cache, a GPU) */
    ALERT_KIND_LOSS,       /* dropped or invalid events within the window above threshold */
    ALERT_KIND_COMPILE,    /* failed of the compilations ended within the window above % */
    ALERT_KIND_HW,         /* hardware errors within the window above threshold: GPU XID
                            * errors, a workload counter whose name ends in "errors" */
    ALERT_KIND_ENERGY,     /* energy per step or per token above threshold x its rolling
                            * median */
    ALERT_KIND_P99,        /* a path's p99 over the window above its baseline's by threshold % */
    ALERT_NKINDS,
};

enum alert_severity {
    ALERT_WARNING = 0,
    ALERT_CRITICAL = 1,
};

enum alert_state {
    ALERT_PENDING = 1, /* the condition holds, for less than the rule's for-duration */
    ALERT_FIRING = 2,
};

struct alert_rule {
    char name[ALERTS_NAME_LEN];
    enum alert_kind kind;
    double threshold; /* in the kind's unit (alerts_kind_unit) */
    uint64_t for_ns;  /* how long the condition must hold before the alert fires */
    enum alert_severity severity;
    bool off; /* disabled */
};

/* One alert: a rule's condition holding for one object. */
struct alert {
    const char *rule; /* the rule's name; borrowed from the engine, valid until alerts_free */
    enum alert_kind kind;
    enum alert_severity severity;
    enum alert_state state;
    int32_t pid;                     /* the workload's, 0 for the machine's (a GPU) */
    char workload[ALERTS_LABEL_LEN]; /* its label, "" for the machine's */
    char object[ALERTS_OBJECT_LEN];  /* the row path, "GPU0", a counter, "dropped", ... */
    bool row;                        /* object is a latency or memory row path of pid */
    double value;                    /* the measured figure, in the kind's unit */
    double threshold;                /* the rule's, in the same unit */
    char detail[96];                 /* the figure in words ("3 of 40 failed", "XID 79") */
    uint64_t pending_ns;             /* when the condition began to hold */
    uint64_t since_ns;               /* when it fired (state FIRING), else 0 */
    bool seen;                       /* internal: held at the latest evaluation */
};

/* An engine with the built-in rules at their defaults. Owned (alerts_free; NULL is a no-op). */
struct alerts *alerts_new(void);
void alerts_free(struct alerts *a);

/* One rule line: "NAME KIND THRESHOLD [FOR [SEVERITY]]", "NAME THRESHOLD [FOR [SEVERITY]]"
 * for an existing rule (its kind kept), or "NAME off". KIND is a kind name (alerts_kind_name),
 * FOR a duration (5, 5s, 500ms, 2m, 1h), SEVERITY warning or critical. A known name replaces
 * that rule, a new one is added. Returns 0, or -EINVAL with *err (owned) saying what is wrong
 * in one phrase. '#' starts a comment; a blank line is fine. */
int alerts_set_rule(struct alerts *a, const char *line, char **err);

/* Every line of a rules file's text (NUL-terminated) through alerts_set_rule. The first bad
 * line stops it: -EINVAL and *err (owned) "FILE:LINE: what is wrong" (file is borrowed). */
int alerts_load(struct alerts *a, const char *text, const char *file, char **err);

size_t alerts_nrules(const struct alerts *a);
const struct alert_rule *alerts_rule_at(const struct alerts *a, size_t i); /* borrowed */

/* Names and units of the kinds ("memory", "%"), and severities ("warning", "critical"). */
const char *alerts_kind_name(enum alert_kind k);
const char *alerts_kind_unit(enum alert_kind k);
const char *alerts_severity_name(enum alert_severity s);

/* Evaluate every rule over st at now_ns (CLOCK_MONOTONIC, or the replay clock): new alerts
 * become pending (firing at once with a for-duration of 0), pending ones whose condition held
 * for the rule's for-duration fire, and those whose condition no longer holds are resolved
 * (gone). baseline (borrowed, may be NULL: the p99 rule is then idle) is the run to compare
 * with, read-only. Window figures (losses, XID errors) are measured against the figures of
 * earlier evaluations, so evaluate at a steady cadence (the refresh). Loop thread. */
void alerts_eval(struct alerts *a, const struct store *st, const struct store *baseline,
                 uint64_t now_ns);

/* The pending and firing alerts, firing first, then by severity and age. Borrowed until the
 * next alerts_eval. */
size_t alerts_count(const struct alerts *a);
const struct alert *alerts_at(const struct alerts *a, size_t i);
/* Alerts firing now of severity >= min. */
size_t alerts_firing(const struct alerts *a, enum alert_severity min);
/* Alerts beyond ALERTS_MAX at the latest evaluation (not kept). */
size_t alerts_overflow(const struct alerts *a);

/* Whether an alert of severity >= min fired at any evaluation so far (for an exit status),
 * and the first ALERTS_FIRED_KEPT that fired (copies, kept when they resolve). */
bool alerts_ever_fired(const struct alerts *a, enum alert_severity min);
size_t alerts_nfired(const struct alerts *a);
const struct alert *alerts_fired_at(const struct alerts *a, size_t i);

/* An alert in one line of words: "memory_high: tinylm (pid 12) KV Cache at 93.7 % (> 90 %)".
 * Returns buf. */
char *alerts_describe(const struct alert *al, char *buf, size_t len);

#endif /* NCTOP_SRC_MODEL_ALERTS_H */
