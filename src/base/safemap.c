/* SPDX-License-Identifier: MIT */
/* SIGBUS-safe file mappings: see safemap.h. */
#include "src/base/safemap.h"

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

/*
 * Mappings that may fault. A mapped file can shrink under us at any time (a dying or hostile
 * workload's segment, a file cut while it is replayed): the next read of a page past the new
 * end raises SIGBUS. The handler
 * looks the address up here; inside a registered mapping it maps anonymous zero pages over the
 * whole mapping (reads see zeros, writes go nowhere) and flags it, and its owner turns what it read
 * into an error after the reads. Everything the handler touches is a lock-free atomic.
 */
struct safemap_entry {
    _Atomic uintptr_t base; /* 0: free */
    _Atomic size_t size;
    _Atomic int faulted;
};

static struct safemap_entry safemap_v[SAFEMAP_MAX];
static struct sigaction safemap_old;
static unsigned safemap_users; /* holders; the handler stays while any is */

static void safemap_on_sigbus(int sig, siginfo_t *si, void *uctx)
{
    uintptr_t addr = (uintptr_t)si->si_addr;
    int saved = errno;

    for (size_t i = 0; i < SAFEMAP_MAX; i++) {
        uintptr_t b = atomic_load_explicit(&safemap_v[i].base, memory_order_acquire);
        size_t n = atomic_load_explicit(&safemap_v[i].size, memory_order_relaxed);

        if (b == 0 || addr < b || addr - b >= n) {
            continue;
        }
        if (mmap((void *)b, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1,
                 0) != MAP_FAILED) {
            atomic_store_explicit(&safemap_v[i].faulted, 1, memory_order_release);
            errno = saved;
            return;
        }
        break;
    }
    /* Not ours: whoever handled SIGBUS before us, or the default action (the faulting
     * instruction runs again and kills us; a sent signal is raised again). */
    if ((safemap_old.sa_flags & SA_SIGINFO) && safemap_old.sa_sigaction != NULL) {
        safemap_old.sa_sigaction(sig, si, uctx);
        return;
    }
    if (safemap_old.sa_handler != SIG_DFL && safemap_old.sa_handler != SIG_IGN) {
        safemap_old.sa_handler(sig);
        return;
    }
    signal(SIGBUS, SIG_DFL);
    if (si->si_code <= 0) {
        raise(SIGBUS);
    }
}

void safemap_hold(void)
{
    struct sigaction sa;

    if (safemap_users++ > 0) {
        return;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = safemap_on_sigbus;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGBUS, &sa, &safemap_old);
}

void safemap_release(void)
{
    if (safemap_users == 0 || --safemap_users > 0) {
        return;
    }
    sigaction(SIGBUS, &safemap_old, NULL);
}

/* Register a mapping; returns its index or -1 when the table is full. */
int safemap_add(void *base, size_t size)
{
    for (size_t i = 0; i < SAFEMAP_MAX; i++) {
        uintptr_t expect = 0;

        if (atomic_load_explicit(&safemap_v[i].base, memory_order_relaxed) != 0) {
            continue;
        }
        atomic_store_explicit(&safemap_v[i].size, size, memory_order_relaxed);
        atomic_store_explicit(&safemap_v[i].faulted, 0, memory_order_relaxed);
        if (atomic_compare_exchange_strong(&safemap_v[i].base, &expect, (uintptr_t)base)) {
            return (int)i;
        }
    }
    return -1;
}

/* Forget a mapping before unmapping it. */
void safemap_remove(int handle)
{
    if (handle >= 0) {
        atomic_store_explicit(&safemap_v[handle].base, 0, memory_order_release);
    }
}

bool safemap_faulted(int handle)
{
    return handle >= 0 && handle < SAFEMAP_MAX &&
           atomic_load_explicit(&safemap_v[handle].faulted, memory_order_acquire);
}
