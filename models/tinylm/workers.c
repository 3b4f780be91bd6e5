/* SPDX-License-Identifier: MIT */
/* tinylm: pthread pool. A job is published under a mutex with a generation number; helpers
 * sleep on a condition variable rather than spin, because the workload shares a small
 * machine with nctop and a spinning helper would steal the very CPU it measures. */
#include "workers.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include <nctop.h>

struct workers_helper {
    struct workers *pool;
    pthread_t thread;
    int share;
};

struct workers {
    int n_threads;
    struct workers_helper *helpers; /* n_threads - 1 entries */
    int n_started;

    pthread_mutex_t lock;
    pthread_cond_t wake; /* a new generation (job) or stop */
    pthread_cond_t done; /* pending dropped to 0 */
    unsigned long generation;
    int pending; /* helpers still working on the current generation */
    int stopping;
    workers_job_fn fn;
    void *arg;
};

static void *workers_main(void *data)
{
    struct workers_helper *h = data;
    struct workers *w = h->pool;
    unsigned long seen = 0;
    char name[16];

    /* the kernel name too, so top -H and nctop's proc and bpf collectors agree */
    snprintf(name, sizeof(name), "tinylm-w%d", h->share);
    pthread_setname_np(pthread_self(), name);
    nctop_thread_name(name);

    pthread_mutex_lock(&w->lock);
    for (;;) {
        while (w->generation == seen && !w->stopping)
            pthread_cond_wait(&w->wake, &w->lock);
        if (w->stopping)
            break;
        seen = w->generation;

        /* the job is read under the lock, then run without it */
        workers_job_fn fn = w->fn;
        void *arg = w->arg;

        pthread_mutex_unlock(&w->lock);
        fn(arg, h->share, w->n_threads);
        pthread_mutex_lock(&w->lock);

        if (--w->pending == 0)
            pthread_cond_signal(&w->done);
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

struct workers *workers_new(int n_threads)
{
    struct workers *w = NULL;
    sigset_t block, old;
    int rc;

    if (n_threads < 1) {
        errno = EINVAL;
        return NULL;
    }
    w = calloc(1, sizeof(*w));
    if (!w)
        return NULL;
    w->n_threads = n_threads;
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->wake, NULL);
    pthread_cond_init(&w->done, NULL);
    if (n_threads == 1)
        return w;

    w->helpers = calloc((size_t)n_threads - 1, sizeof(*w->helpers));
    if (!w->helpers)
        goto err;

    /* helpers inherit this mask: only the main thread sees SIGINT/SIGTERM */
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    for (int i = 0; i < n_threads - 1; i++) {
        struct workers_helper *h = &w->helpers[i];

        h->pool = w;
        h->share = i + 1;
        rc = pthread_create(&h->thread, NULL, workers_main, h);
        if (rc != 0) {
            pthread_sigmask(SIG_SETMASK, &old, NULL);
            workers_free(w);
            errno = rc;
            return NULL;
        }
        w->n_started++;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return w;

err:
    workers_free(w);
    errno = ENOMEM;
    return NULL;
}

void workers_free(struct workers *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->lock);
    w->stopping = 1;
    pthread_cond_broadcast(&w->wake);
    pthread_mutex_unlock(&w->lock);
    for (int i = 0; i < w->n_started; i++)
        pthread_join(w->helpers[i].thread, NULL);
    pthread_cond_destroy(&w->done);
    pthread_cond_destroy(&w->wake);
    pthread_mutex_destroy(&w->lock);
    free(w->helpers);
    free(w);
}

int workers_count(const struct workers *w)
{
    return w->n_threads;
}

void workers_run(struct workers *w, workers_job_fn fn, void *arg)
{
    if (w->n_threads == 1) {
        fn(arg, 0, 1);
        return;
    }

    pthread_mutex_lock(&w->lock);
    w->fn = fn;
    w->arg = arg;
    w->pending = w->n_threads - 1;
    w->generation++;
    pthread_cond_broadcast(&w->wake);
    pthread_mutex_unlock(&w->lock);

    fn(arg, 0, w->n_threads);

    pthread_mutex_lock(&w->lock);
    while (w->pending > 0)
        pthread_cond_wait(&w->done, &w->lock);
    pthread_mutex_unlock(&w->lock);
}
