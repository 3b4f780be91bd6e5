/* SPDX-License-Identifier: MIT */
/* System facts of a watched process, kept apart from the event-driven tree: every figure is
 * an absolute value the collector read from the kernel, so a set simply replaces it. */
#include "src/model/store_sys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/base/xalloc.h"
#include "src/model/store.h"
#include "src/model/store_internal.h"

static struct store_sys *store_sys_of(struct store_proc *p)
{
    if (p->sys == NULL) {
        p->sys = xcalloc(1, sizeof(*p->sys));
    }
    return p->sys;
}

/* Each apply returns false when the set changes nothing (the observer does not see it). */
static bool store_sys_thread_apply(struct store_proc *p, int32_t tid, const char *name,
                                   const struct store_sched *s, bool exited)
{
    struct store_sys *sy = store_sys_of(p);
    struct store_sys_thread *t = NULL;
    uint32_t i;

    /* Newest first: a thread being updated is most often a recent one. */
    for (i = sy->nthreads; i > 0; i--) {
        if (sy->threads[i - 1].tid == tid) {
            t = &sy->threads[i - 1];
            break;
        }
    }
    if (t == NULL) {
        if (sy->nthreads >= p->st->cfg.max_threads) {
            store_invalid(p, 1, "too many threads for the eBPF collector");
            return true;
        }
        if (sy->nthreads == sy->threads_cap) {
            sy->threads_cap = sy->threads_cap ? sy->threads_cap * 2 : 16;
            sy->threads = xreallocarray(sy->threads, sy->threads_cap, sizeof(*sy->threads));
        }
        t = &sy->threads[sy->nthreads++];
        memset(t, 0, sizeof(*t));
        t->tid = tid;
    } else if (t->exited == exited && memcmp(&t->sched, s, sizeof(*s)) == 0 &&
               (name == NULL || name[0] == '\0' ||
                strncmp(t->name, name, sizeof(t->name) - 1) == 0)) {
        return false;
    }
    if (name != NULL && name[0] != '\0') {
        snprintf(t->name, sizeof(t->name), "%s", name);
    }
    t->sched = *s;
    t->exited = exited;
    return true;
}

static bool store_sys_call_apply(struct store_proc *p, uint32_t nr, const char *name,
                                 uint64_t count, uint64_t total_ns)
{
    struct store_sys *sy = store_sys_of(p);
    struct store_sys_call *c = NULL;
    uint32_t i;

    for (i = 0; i < sy->ncalls; i++) {
        if (sy->calls[i].nr == nr) {
            c = &sy->calls[i];
            break;
        }
    }
    if (c == NULL) {
        if (sy->ncalls >= STORE_SYS_MAX_SYSCALLS) {
            store_invalid(p, 1, "too many distinct syscalls");
            return true;
        }
        if (sy->ncalls == sy->calls_cap) {
            sy->calls_cap = sy->calls_cap ? sy->calls_cap * 2 : 32;
            sy->calls = xreallocarray(sy->calls, sy->calls_cap, sizeof(*sy->calls));
        }
        c = &sy->calls[sy->ncalls++];
        memset(c, 0, sizeof(*c));
        c->nr = nr;
        snprintf(c->name, sizeof(c->name), "%s", name != NULL ? name : "");
    } else if (c->count == count && c->total_ns == total_ns) {
        return false;
    }
    c->count = count;
    c->total_ns = total_ns;
    return true;
}

static bool store_sys_mapped_apply(struct store_proc *p, uint64_t mmap_bytes, uint64_t munmap_bytes,
                                   int64_t brk_bytes)
{
    struct store_sys *sy = store_sys_of(p);

    if (sy->mapped_valid && sy->mmap_bytes == mmap_bytes && sy->munmap_bytes == munmap_bytes &&
        sy->brk_bytes == brk_bytes) {
        return false;
    }
    sy->mapped_valid = true;
    sy->mmap_bytes = mmap_bytes;
    sy->munmap_bytes = munmap_bytes;
    sy->brk_bytes = brk_bytes;
    return true;
}

static bool store_sys_dropped_apply(struct store_proc *p, uint64_t dropped)
{
    struct store_sys *sy = store_sys_of(p);

    if (sy->dropped == dropped && sy->dropped_valid) {
        return false;
    }
    sy->dropped = dropped;
    sy->dropped_valid = true;
    return true;
}

bool store_sys_apply(struct store_proc *p, const struct store_event *ev)
{
    switch (ev->type) {
    case STORE_EV_SYS_THREAD:
        return ev->sched != NULL &&
               store_sys_thread_apply(p, (int32_t)ev->i, ev->str, ev->sched, ev->aux != 0);
    case STORE_EV_SYS_CALL:
        return store_sys_call_apply(p, ev->id, ev->str, ev->a, ev->b);
    case STORE_EV_SYS_MAPPED:
        return store_sys_mapped_apply(p, ev->a, ev->b, ev->i);
    case STORE_EV_SYS_DROPPED:
        return store_sys_dropped_apply(p, ev->a);
    default:
        return false;
    }
}

/* --- the setters: events through the store's one door ------------------------------------- */

void store_sys_thread_set(struct store_proc *p, int32_t tid, const char *name,
                          const struct store_sched *s, bool exited)
{
    struct store_event ev = {
        .type = STORE_EV_SYS_THREAD, .proc = p, .i = tid, .str = name, .aux = exited, .sched = s};

    store_apply(p->st, &ev);
}

void store_sys_call_set(struct store_proc *p, uint32_t nr, const char *name, uint64_t count,
                        uint64_t total_ns)
{
    struct store_event ev = {
        .type = STORE_EV_SYS_CALL, .proc = p, .id = nr, .str = name, .a = count, .b = total_ns};

    store_apply(p->st, &ev);
}

void store_sys_mapped_set(struct store_proc *p, uint64_t mmap_bytes, uint64_t munmap_bytes,
                          int64_t brk_bytes)
{
    struct store_event ev = {
        .type = STORE_EV_SYS_MAPPED, .proc = p, .a = mmap_bytes, .b = munmap_bytes, .i = brk_bytes};

    store_apply(p->st, &ev);
}

void store_sys_dropped_set(struct store_proc *p, uint64_t dropped)
{
    struct store_event ev = {.type = STORE_EV_SYS_DROPPED, .proc = p, .a = dropped};

    store_apply(p->st, &ev);
}

const struct store_sys *store_sys_get(const struct store_proc *p)
{
    return p->sys;
}

void store_sys_free(struct store_sys *s)
{
    if (s == NULL) {
        return;
    }
    free(s->threads);
    free(s->calls);
    free(s);
}
