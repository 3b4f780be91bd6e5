/* SPDX-License-Identifier: MIT */
/* The one interface of every source of data (collectors/ and the probes of hw/): a const
 * table of operations the loop calls, none of which blocks except sample, which the loop
 * runs on a libuv worker thread. A new source is one file that defines its table, plus one
 * line in a registry (collectors/registry.c, hw/registry.c). */
#ifndef NCTOP_COLLECTORS_COLLECTOR_H
#define NCTOP_COLLECTORS_COLLECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct config;
struct store;

/* What a source is started with. */
struct collector_env {
    struct store *store;
    const struct config *cfg;
    int32_t child_pid;      /* the command nctop started (waiting in its gate), or 0 */
    const char *child_name; /* its name, or NULL */
};

struct collector_ops {
    const char *name;
    /* Start. *err (owned by the caller) is a one-line problem to show at once: with NULL it
     * cannot run (nctop goes on without it), with a source it runs without part of its job
     * (failed may then say the run failed). NULL without err: not asked for. */
    void *(*start)(const struct collector_env *env, uint64_t now_ns, char **err);
    void (*stop)(void *self); /* and free */
    /* Its periodic work; returns in how many ms it wants to run again (its own cadence,
     * which may change: nothing runs without a reason). NULL: no periodic work. */
    uint64_t (*run)(void *self, uint64_t now_ns);
    /* Take in what is buffered now, before the store is read (a frame, a scrape, a log
     * line, the last snapshot). NULL: nothing is buffered. */
    void (*flush)(void *self, uint64_t now_ns);
    /* A descriptor to poll for readability and what to do then. fd NULL or -1: none. */
    int (*fd)(const void *self);
    void (*readable)(void *self, uint64_t now_ns);
    /* Work that may block (driver calls), on a worker thread after each run; publish puts
     * its result into the store on the loop thread. NULL: none. */
    void (*sample)(void *self);
    void (*publish)(void *self);
    /* The next problem to show (new since the last call), or NULL; borrowed until the
     * next call. */
    const char *(*problem)(void *self);
    /* Whether it failed at what it was asked to do (no probe attached): a run without a
     * display then ends with status 1. NULL: never. */
    bool (*failed)(const void *self);
    /* The command nctop started ended (reason in words). NULL: nothing to do. */
    void (*child_exited)(void *self, int32_t pid, uint64_t now_ns, const char *reason);
    /* Whether it already has the command nctop started in view (the loop waits for that
     * before the first samples are useful). NULL: not its business. */
    bool (*has_child)(const void *self, int32_t pid);
};

/* The sources of collectors/ (ring, proc, and bpf when built with it), and the probes of
 * hw/ (the GPU), each NULL-terminated, in the order they start. */
extern const struct collector_ops *const collector_registry[];
extern const struct collector_ops *const hw_registry[];

/* The i-th registry a run with these settings starts (i from 0), or NULL after the last:
 * collector_registry then hw_registry, or the fleet source alone (--prometheus-url). */
const struct collector_ops *const *collector_registries(const struct config *cfg, size_t i);

/* A source the settings ask for that this build lacks (--bpf without BPF support): the
 * one-line reason, or NULL. */
const char *collector_unbuilt(const struct config *cfg);

#endif /* NCTOP_COLLECTORS_COLLECTOR_H */
