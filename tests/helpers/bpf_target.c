/* SPDX-License-Identifier: MIT */
/* A program with known behaviour for the eBPF collector's tests: it links nothing, waits for
 * a "go" line on stdin, then makes exact numbers of syscalls, function calls and USDT hits,
 * burns and sleeps known times in two threads, touches known pages, and reports the kernel's
 * own schedstat figures on stdout so the test compares with the kernel, not with constants. */
#include <errno.h>
#include <pthread.h>
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

/* The kernel's schedstat of thread tid: on-CPU ns, run-queue wait ns. */
static void target_print_schedstat(const char *what, pid_t tid)
{
    char path[64];
    unsigned long long run = 0, wait = 0;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/self/task/%d/schedstat", (int)tid);
    f = fopen(path, "re");
    if (f != NULL) {
        if (fscanf(f, "%llu %llu", &run, &wait) != 2) {
            run = wait = 0;
        }
        fclose(f);
    }
    printf("%s %d %llu %llu\n", what, (int)tid, run, wait);
    fflush(stdout);
}

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

/* The second thread: 150 ms of CPU and a 100 ms sleep, then its own schedstat. */
static void *target_worker(void *arg)
{
    (void)arg;
    target_burn(150);
    target_sleep(100);
    target_print_schedstat("worker", (pid_t)syscall(SYS_gettid));
    return NULL;
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
    target_print_schedstat("go", tid);

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
    pthread_join(worker, NULL);
    target_print_schedstat("main", tid);
    printf("done\n");
    fflush(stdout);

    /* Stay until stdin closes, so a test can attach again; every "go" repeats the calls. */
    while (fgets(line, sizeof(line), stdin) != NULL) {
        for (int i = 0; i < TARGET_OUTER; i++) {
            bpf_target_outer(i);
        }
        printf("again\n");
        fflush(stdout);
    }
    return 0;
}
