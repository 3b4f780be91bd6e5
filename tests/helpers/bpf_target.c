/* SPDX-License-Identifier: MIT */
/* A program with known behaviour for the eBPF collector's tests: it links nothing, waits for
 * a "go" line on stdin, then makes exact numbers of syscalls, function calls and USDT hits,
 * burns and sleeps known times in two threads and touches known pages. Both threads then
 * block until told otherwise, so the test reads the kernel's own schedstat of each from
 * outside, over exactly the interval nctop watched, and compares with the kernel. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sdt.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define TARGET_SYSCALLS 1000 /* getppid calls */
#define TARGET_OUTER 100     /* bpf_target_outer calls; each makes TARGET_INNER inner calls */
#define TARGET_INNER 3
#define TARGET_TICKS 50   /* nctop_test:tick USDT hits */
#define TARGET_BATCHES 10 /* nctop_test:batch_begin/batch_end pairs */
#define TARGET_PAGES 1000 /* pages touched */

static volatile uint64_t target_sink;

static uint64_t target_cpu_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Burn ms of this thread's CPU time. */
static void target_burn(unsigned ms)
{
    uint64_t end = target_cpu_ns() + (uint64_t)ms * 1000000ULL;

    while (target_cpu_ns() < end) {
        for (int i = 0; i < 1000; i++) {
            target_sink += (uint64_t)i;
        }
    }
}

static void target_sleep(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* The worker's handshake with main: it says when its work is done, then waits to be let go. */
static pthread_mutex_t target_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t target_cond = PTHREAD_COND_INITIALIZER;
static bool target_worker_done, target_worker_release;
static pid_t target_worker_tid;

__attribute__((noinline)) void bpf_target_inner(int i);
__attribute__((noinline)) void bpf_target_outer(int i);

__attribute__((noinline)) void bpf_target_inner(int i)
{
    target_sink += (uint64_t)i;
    __asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) void bpf_target_outer(int i)
{
    for (int k = 0; k < TARGET_INNER; k++) {
        bpf_target_inner(i + k);
    }
    __asm__ volatile("" ::: "memory");
}

/* The second thread: 150 ms of CPU and a 100 ms sleep; then it blocks until released. */
static void *target_worker(void *arg)
{
    (void)arg;
    target_burn(150);
    target_sleep(100);
    pthread_mutex_lock(&target_lock);
    target_worker_tid = (pid_t)syscall(SYS_gettid);
    target_worker_done = true;
    pthread_cond_broadcast(&target_cond);
    while (!target_worker_release) {
        pthread_cond_wait(&target_cond, &target_lock);
    }
    pthread_mutex_unlock(&target_lock);
    return NULL;
}

/* Let the worker go and wait until it has exited. */
static void target_worker_exit(pthread_t worker)
{
    pthread_mutex_lock(&target_lock);
    target_worker_release = true;
    pthread_cond_broadcast(&target_cond);
    pthread_mutex_unlock(&target_lock);
    pthread_join(worker, NULL);
}

int main(void)
{
    char line[64];
    pthread_t worker;
    unsigned char *pages;
    long page = sysconf(_SC_PAGESIZE);
    pid_t tid = (pid_t)syscall(SYS_gettid);

    printf("ready %d\n", (int)getpid());
    fflush(stdout);
    if (fgets(line, sizeof(line), stdin) == NULL) {
        return 1;
    }
    if (pthread_create(&worker, NULL, target_worker, NULL) != 0) {
        return 1;
    }
    for (int i = 0; i < TARGET_SYSCALLS; i++) {
        syscall(SYS_getppid);
    }
    target_burn(300);
    target_sleep(200);

    /* Small pages, so one touch is one fault. */
    pages = mmap(NULL, (size_t)TARGET_PAGES * (size_t)page, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (pages == MAP_FAILED) {
        return 1;
    }
    madvise(pages, (size_t)TARGET_PAGES * (size_t)page, MADV_NOHUGEPAGE);
    for (long i = 0; i < TARGET_PAGES; i++) {
        pages[i * page] = 1;
    }
    munmap(pages, (size_t)TARGET_PAGES * (size_t)page);

    for (int i = 0; i < TARGET_OUTER; i++) {
        bpf_target_outer(i);
    }
    for (int i = 0; i < TARGET_TICKS; i++) {
        DTRACE_PROBE1(nctop_test, tick, i);
    }
    for (int i = 0; i < TARGET_BATCHES; i++) {
        DTRACE_PROBE1(nctop_test, batch_begin, i);
        target_sleep(2);
        DTRACE_PROBE1(nctop_test, batch_end, i);
    }
    pthread_mutex_lock(&target_lock);
    while (!target_worker_done) {
        pthread_cond_wait(&target_cond, &target_lock);
    }
    pthread_mutex_unlock(&target_lock);
    printf("done %d %d\n", (int)tid, (int)target_worker_tid);
    fflush(stdout);

    /* Stay until stdin closes, so a test can attach again: "exit-worker" ends the worker
     * thread, every other line repeats the calls. */
    while (fgets(line, sizeof(line), stdin) != NULL) {
        if (strcmp(line, "exit-worker\n") == 0) {
            target_worker_exit(worker);
            printf("joined\n");
            fflush(stdout);
            continue;
        }
        for (int i = 0; i < TARGET_OUTER; i++) {
            bpf_target_outer(i);
        }
        printf("again\n");
        fflush(stdout);
    }
    if (!target_worker_release) {
        target_worker_exit(worker);
    }
    return 0;
}
