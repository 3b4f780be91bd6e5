/* SPDX-License-Identifier: MIT */
/* libnctop lifecycle: options and environment, creation of /dev/shm/nctop-<pid>, the reader
 * hand-off for programs nctop starts, fork (a fresh segment for the child) and shutdown. */
#include "sdk_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "nctop.h"
#include "seg_clock.h"

#define SDK_PAGE_BYTES 4096U
#define SDK_MAX_THREADS 65536U
#define SDK_NAME_BYTES 32 /* "/nctop-" + a pid + NUL */

enum sdk_state {
    SDK_STATE_NONE = 0, /* nobody called init yet */
    SDK_STATE_READY,    /* a segment is published */
    SDK_STATE_DISABLED, /* NCTOP_DISABLE=1 */
    SDK_STATE_FAILED,   /* init failed: everything is a no-op */
    SDK_STATE_SHUT,     /* nctop_shutdown ran */
};

/* What the caller and the environment asked for, before the layout is computed. */
struct sdk_params {
    const char *label;
    uint64_t ring_bytes;
    uint32_t max_threads;
};

struct nctop_seg_header sdk_dummy_hdr;
_Atomic(struct nctop_seg_header *) sdk_hdr = &sdk_dummy_hdr;

/* The reader pid of the segment in use, for the inline idle check of NCTOP_SCOPE (nctop.h):
 * one load and a branch in the caller, no call. Always stored together with sdk_hdr. */
NCTOP_API int32_t *nctop__active = (int32_t *)(uintptr_t)&sdk_dummy_hdr.reader_pid;

/* Publish hdr as the segment in use: the event path's pointer and the inline gate. */
static void sdk_hdr_set(struct nctop_seg_header *hdr, memory_order order)
{
    atomic_store_explicit(&sdk_hdr, hdr, order);
    /* The same int32_t the segment holds as _Atomic: plain loads of it are what C++ sees. */
    __atomic_store_n(&nctop__active, (int32_t *)(uintptr_t)&hdr->reader_pid, __ATOMIC_RELEASE);
}

static pthread_mutex_t sdk_mutex = PTHREAD_MUTEX_INITIALIZER;
static enum sdk_state sdk_state;
static int sdk_init_error;               /* what a failed init returned, repeated afterwards */
static struct nctop_seg_header *sdk_seg; /* our mapping (stays mapped after shutdown) */
static pid_t sdk_reader_env;             /* NCTOP_READER of this program image, 0 if none */
static bool sdk_hooks_done;              /* atexit and pthread_atfork registered */

static uint64_t sdk_clock_ns(clockid_t clk)
{
    struct timespec ts;

    clock_gettime(clk, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static uint64_t sdk_align(uint64_t v, uint64_t to)
{
    return (v + to - 1) & ~(to - 1);
}

static uint64_t sdk_pow2_ceil(uint64_t v)
{
    uint64_t p = 1;

    while (p < v) {
        p <<= 1;
    }
    return p;
}

/* A positive decimal number from the environment, 0 when absent or malformed. */
static uint64_t sdk_env_u64(const char *name)
{
    const char *s = getenv(name);
    char *end = NULL;
    unsigned long long v;

    if (s == NULL || *s == '\0') {
        return 0;
    }
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || s[0] == '-') {
        return 0;
    }
    return v;
}

/* "/nctop-<pid>" without snprintf, which is not async-signal-safe (the fork child uses it). */
static void sdk_shm_name(char *buf, pid_t pid)
{
    char digits[16];
    size_t n = 0;
    size_t len = sizeof(NCTOP_SEG_NAME_PREFIX) - 1;
    unsigned long v = (unsigned long)pid;

    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0 && n < sizeof(digits));
    memcpy(buf, NCTOP_SEG_NAME_PREFIX, len);
    while (n > 0) {
        buf[len++] = digits[--n];
    }
    buf[len] = '\0';
}

/* Field 22 of /proc/self/stat (start time in clock ticks). The command name in field 2 may
 * hold spaces and parentheses, so counting starts after its last ')'. Async-signal-safe. */
static uint64_t sdk_start_ticks(void)
{
    char buf[1024];
    ssize_t n;
    int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
    char *p;
    int field = 2;
    uint64_t v = 0;

    if (fd < 0) {
        return 0;
    }
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0) {
        return 0;
    }
    buf[n] = '\0';
    p = strrchr(buf, ')');
    if (p == NULL) {
        return 0;
    }
    for (p++; *p != '\0' && field < 22; p++) {
        if (*p == ' ') {
            field++;
        }
    }
    while (*p >= '0' && *p <= '9') {
        v = v * 10 + (uint64_t)(*p++ - '0');
    }
    return v;
}

/* Read at most size - 1 bytes of a /proc file into buf, NUL-terminated; the length read. */
static size_t sdk_read_proc(const char *path, char *buf, size_t size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = -1;

    if (fd >= 0) {
        n = read(fd, buf, size - 1);
        close(fd);
    }
    if (n <= 0) {
        n = 0;
    }
    buf[n] = '\0';
    return (size_t)n;
}

/* An interpreter runs a script named by its first argument that is not an option. */
static bool sdk_is_interpreter(const char *comm)
{
    static const char *const names[] = {"python", "perl", "ruby", "node", "bash", "sh", "lua"};

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        size_t n = strlen(names[i]);

        /* "python3", "python3.11", "perl5.36": the name, then digits and dots only. */
        if (strncmp(comm, names[i], n) == 0 &&
            strspn(comm + n, "0123456789.") == strlen(comm + n)) {
            return true;
        }
    }
    return false;
}

/* The label when nobody chose one: the kernel's name for this process, or for an interpreter
 * (python3 train.py) the script's file name, since every Python program is "python3". */
static void sdk_read_comm(char *buf, size_t size)
{
    char cmdline[4096];
    size_t n = sdk_read_proc("/proc/self/comm", buf, size);

    if (n > 0 && buf[n - 1] == '\n') {
        buf[n - 1] = '\0';
    }
    if (!sdk_is_interpreter(buf)) {
        return;
    }
    n = sdk_read_proc("/proc/self/cmdline", cmdline, sizeof(cmdline));
    /* Skip argv[0], then options; "-c" and "-m" run no script file: keep the comm. Python's
     * -W and -X take the next argument. */
    for (size_t i = strnlen(cmdline, n) + 1; i < n; i += strnlen(cmdline + i, n - i) + 1) {
        const char *arg = cmdline + i;
        const char *base;

        if (arg[0] == '-') {
            if (strcmp(arg, "-c") == 0 || strcmp(arg, "-m") == 0 || strcmp(arg, "-e") == 0 ||
                strcmp(arg, "-") == 0 || strcmp(arg, "--") == 0) {
                return;
            }
            if (strcmp(arg, "-W") == 0 || strcmp(arg, "-X") == 0) {
                i += strnlen(cmdline + i, n - i) + 1;
            }
            continue;
        }
        base = strrchr(arg, '/');
        base = base != NULL ? base + 1 : arg;
        if (base[0] != '\0') {
            snprintf(buf, size, "%s", base);
        }
        return;
    }
}

/* Fill the sizes and region offsets of a new header from the requested parameters. Regions
 * are 64-byte aligned; rings start on a page so each ring's data is laid out predictably. */
static void sdk_layout(struct nctop_seg_header *hdr, const struct sdk_params *p)
{
    uint64_t ring_bytes = p->ring_bytes;
    uint64_t off;

    hdr->strings_max = NCTOP_SEG_DEFAULT_STRINGS_MAX;
    hdr->strings_bytes = NCTOP_SEG_DEFAULT_STRINGS_BYTES;
    hdr->gauges_max = NCTOP_SEG_DEFAULT_GAUGES_MAX;
    hdr->counters_max = NCTOP_SEG_DEFAULT_COUNTERS_MAX;
    hdr->weights_max = NCTOP_SEG_DEFAULT_WEIGHTS_MAX;
    hdr->values_max = NCTOP_SEG_DEFAULT_VALUES_MAX;
    hdr->attrs_max = NCTOP_SEG_DEFAULT_ATTRS_MAX;
    hdr->matrices_max = NCTOP_SEG_DEFAULT_MATRICES_MAX;
    hdr->rings_max = p->max_threads;

    hdr->header_bytes = sizeof(*hdr);
    off = SDK_PAGE_BYTES;
    hdr->stroff_off = off;
    off = sdk_align(off + (uint64_t)hdr->strings_max * sizeof(uint32_t), NCTOP_SEG_CACHELINE);
    hdr->strings_off = off;
    off = sdk_align(off + hdr->strings_bytes, NCTOP_SEG_CACHELINE);
    hdr->gauges_off = off;
    off = sdk_align(off + (uint64_t)hdr->gauges_max * sizeof(struct nctop_seg_gauge),
                    NCTOP_SEG_CACHELINE);
    hdr->counters_off = off;
    off = sdk_align(off + (uint64_t)hdr->counters_max * sizeof(struct nctop_seg_counter),
                    NCTOP_SEG_CACHELINE);
    hdr->weights_off = off;
    off = sdk_align(off + (uint64_t)hdr->weights_max * sizeof(struct nctop_seg_weight),
                    NCTOP_SEG_CACHELINE);
    hdr->values_off = off;
    off = sdk_align(off + (uint64_t)hdr->values_max * sizeof(struct nctop_seg_value),
                    NCTOP_SEG_CACHELINE);
    hdr->attrs_off = off;
    off = sdk_align(off + (uint64_t)hdr->attrs_max * sizeof(struct nctop_seg_attr),
                    NCTOP_SEG_CACHELINE);
    /* Matrices are big (two buffers of 264 KiB each) but sparse: pages of slots never
     * registered, or of small matrices, are never touched. */
    hdr->matrices_off = off;
    off = sdk_align(off + (uint64_t)hdr->matrices_max * sizeof(struct nctop_seg_matrix),
                    SDK_PAGE_BYTES);
    hdr->rings_off = off;

    /* Readers refuse segments above NCTOP_SEG_MAX_BYTES: many threads with big rings get
     * smaller rings rather than no segment at all. */
    while (ring_bytes > NCTOP_SEG_MIN_RING_BYTES &&
           off + (uint64_t)hdr->rings_max * (sizeof(struct nctop_seg_ring) + ring_bytes) >
               NCTOP_SEG_MAX_BYTES) {
        ring_bytes /= 2;
    }
    hdr->ring_bytes = (uint32_t)ring_bytes;
    hdr->ring_stride = sdk_align(sizeof(struct nctop_seg_ring) + ring_bytes, NCTOP_SEG_CACHELINE);
    hdr->segment_bytes = off + (uint64_t)hdr->rings_max * hdr->ring_stride;
}

/*
 * Create and map the shared-memory object for pid, bytes long (sparse). A leftover object of
 * the same name belongs to an earlier program image of this pid (exec) or to a dead process:
 * it is removed and the creation retried once. Returns the zeroed mapping or NULL with *err
 * set. Async-signal-safe (the fork child calls it).
 */
static struct nctop_seg_header *sdk_segment_create(pid_t pid, uint64_t bytes, int *err)
{
    char name[SDK_NAME_BYTES];
    void *map;
    int fd;

    sdk_shm_name(name, pid);
    fd = shm_open(name, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0 && errno == EEXIST) {
        shm_unlink(name);
        fd = shm_open(name, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
    }
    if (fd < 0) {
        *err = -errno;
        return NULL;
    }
    /* The umask may have narrowed the mode; it can only have removed bits from 0600, but
     * make the mode exact so the reader's owner check sees what it expects. */
    if (ftruncate(fd, (off_t)bytes) < 0 || fchmod(fd, 0600) < 0) {
        *err = -errno;
        goto fail;
    }
    map = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED) {
        *err = -errno;
        goto fail;
    }
    close(fd);
    return map;

fail:
    close(fd);
    shm_unlink(name);
    return NULL;
}

/* The identity fields of a header: who made it and when. */
static void sdk_header_stamp(struct nctop_seg_header *hdr)
{
    hdr->abi_version = NCTOP_SEG_ABI_VERSION;
    hdr->pid = (int32_t)getpid();
    hdr->uid = (uint32_t)geteuid();
    hdr->start_ticks = sdk_start_ticks();
    hdr->created_mono_ns = sdk_clock_ns(CLOCK_MONOTONIC);
    hdr->created_real_ns = sdk_clock_ns(CLOCK_REALTIME);
}

/* The magic goes in last, after a release fence: a reader that sees it (and then issues an
 * acquire fence) sees every field written before. */
static void sdk_header_publish(struct nctop_seg_header *hdr)
{
    atomic_thread_fence(memory_order_release);
    memcpy(hdr->magic, NCTOP_SEG_MAGIC, NCTOP_SEG_MAGIC_LEN);
}

static void sdk_params_resolve(struct sdk_params *p, const struct nctop_opts *opts)
{
    uint64_t v;

    memset(p, 0, sizeof(*p));
    /* Read only the option fields the caller's struct is big enough to hold. */
    if (opts != NULL) {
        if (opts->sz >= offsetof(struct nctop_opts, label) + sizeof(opts->label)) {
            p->label = opts->label;
        }
        if (opts->sz >= offsetof(struct nctop_opts, ring_bytes) + sizeof(opts->ring_bytes)) {
            p->ring_bytes = opts->ring_bytes;
        }
        if (opts->sz >= offsetof(struct nctop_opts, max_threads) + sizeof(opts->max_threads)) {
            p->max_threads = opts->max_threads;
        }
    }
    if (p->label == NULL || p->label[0] == '\0') {
        p->label = getenv("NCTOP_LABEL");
    }
    if (p->ring_bytes == 0) {
        v = sdk_env_u64("NCTOP_RING_KB");
        p->ring_bytes = v > (NCTOP_SEG_MAX_RING_BYTES >> 10) ? NCTOP_SEG_MAX_RING_BYTES : v << 10;
    }
    if (p->ring_bytes == 0) {
        p->ring_bytes = NCTOP_SEG_DEFAULT_RING_BYTES;
    }
    if (p->ring_bytes > NCTOP_SEG_MAX_RING_BYTES) {
        p->ring_bytes = NCTOP_SEG_MAX_RING_BYTES;
    }
    p->ring_bytes = sdk_pow2_ceil(p->ring_bytes);
    if (p->ring_bytes < NCTOP_SEG_MIN_RING_BYTES) {
        p->ring_bytes = NCTOP_SEG_MIN_RING_BYTES;
    }
    if (p->max_threads == 0) {
        v = sdk_env_u64("NCTOP_MAX_THREADS");
        p->max_threads = v > SDK_MAX_THREADS ? SDK_MAX_THREADS : (uint32_t)v;
    }
    if (p->max_threads == 0) {
        p->max_threads = NCTOP_SEG_DEFAULT_RINGS_MAX;
    }
    if (p->max_threads > SDK_MAX_THREADS) {
        p->max_threads = SDK_MAX_THREADS;
    }
}

static bool sdk_env_disabled(void)
{
    const char *s = getenv("NCTOP_DISABLE");

    return s != NULL && strcmp(s, "1") == 0;
}

/* NCTOP_READER=<pid>: nctop started this program and will attach; see sdk_init_locked. */
static pid_t sdk_env_reader(void)
{
    uint64_t v = sdk_env_u64("NCTOP_READER");

    return v > 0 && v <= INT32_MAX ? (pid_t)v : 0;
}

/*
 * The fork child inherits a copy of the parent's mapping pointer but must not write into the
 * parent's segment. It gets its own, with the same strings, gauges, counters and weights at
 * the same ids (ids cached anywhere in the child stay valid), no reader and every ring FREE.
 * The registration lock was held across fork (sdk_atfork_prepare), so the tables are whole.
 * Only async-signal-safe calls from here on: no malloc, no stdio.
 */
static void sdk_atfork_child(void)
{
    struct nctop_seg_header *parent = sdk_seg;
    struct nctop_seg_header *child;
    int err = 0;
    uint32_t n;

    pthread_mutex_init(&sdk_mutex, NULL);
    sdk_events_fork_child();
    sdk_reader_env = 0;
    if (sdk_state != SDK_STATE_READY || parent == NULL) {
        return;
    }
    child = sdk_segment_create(getpid(), parent->segment_bytes, &err);
    sdk_hdr_set(&sdk_dummy_hdr, memory_order_relaxed);
    if (child == NULL) {
        munmap(parent, parent->segment_bytes);
        sdk_seg = NULL;
        sdk_state = SDK_STATE_FAILED;
        sdk_init_error = err;
        return;
    }

    /* Everything after the magic: the layout and the registration counts. */
    memcpy((char *)child + NCTOP_SEG_MAGIC_LEN, (const char *)parent + NCTOP_SEG_MAGIC_LEN,
           sizeof(*parent) - NCTOP_SEG_MAGIC_LEN);
    sdk_header_stamp(child);
    atomic_store_explicit(&child->reader_pid, 0, memory_order_relaxed);
    atomic_store_explicit(&child->reader_heartbeat_ns, 0, memory_order_relaxed);
    atomic_store_explicit(&child->reader_heartbeat_tsc, 0, memory_order_relaxed);
    atomic_store_explicit(&child->rings_count, 0, memory_order_relaxed);
    if (child->clock == NCTOP_SEG_CLOCK_TSC) {
        uint64_t tsc, ns;

        /* The same machine, the same base; a parent's refresh may have been cut in half. */
        nctop_seg_calib_take(&tsc, &ns);
        atomic_store_explicit(&child->calib_last.tsc, tsc, memory_order_relaxed);
        atomic_store_explicit(&child->calib_last.mono_ns, ns, memory_order_relaxed);
        atomic_store_explicit(&child->calib_seq, 0, memory_order_relaxed);
    }
    atomic_store_explicit(&child->dropped_no_ring, 0, memory_order_relaxed);

    n = atomic_load_explicit(&parent->strings_count, memory_order_relaxed);
    memcpy((char *)child + child->stroff_off, (const char *)parent + parent->stroff_off,
           (size_t)n * sizeof(uint32_t));
    n = atomic_load_explicit(&parent->strings_used, memory_order_relaxed);
    memcpy((char *)child + child->strings_off, (const char *)parent + parent->strings_off, n);
    n = atomic_load_explicit(&parent->gauges_count, memory_order_relaxed);
    memcpy((char *)child + child->gauges_off, (const char *)parent + parent->gauges_off,
           (size_t)n * sizeof(struct nctop_seg_gauge));
    n = atomic_load_explicit(&parent->counters_count, memory_order_relaxed);
    memcpy((char *)child + child->counters_off, (const char *)parent + parent->counters_off,
           (size_t)n * sizeof(struct nctop_seg_counter));
    n = atomic_load_explicit(&parent->weights_count, memory_order_relaxed);
    memcpy((char *)child + child->weights_off, (const char *)parent + parent->weights_off,
           (size_t)n * sizeof(struct nctop_seg_weight));
    n = atomic_load_explicit(&parent->values_count, memory_order_relaxed);
    memcpy((char *)child + child->values_off, (const char *)parent + parent->values_off,
           (size_t)n * sizeof(struct nctop_seg_value));
    n = atomic_load_explicit(&parent->attrs_count, memory_order_relaxed);
    memcpy((char *)child + child->attrs_off, (const char *)parent + parent->attrs_off,
           (size_t)n * sizeof(struct nctop_seg_attr));
    /* Matrices keep their handles, not their contents: the child publishes its own. */
    n = atomic_load_explicit(&parent->matrices_count, memory_order_relaxed);
    for (uint32_t i = 0; i < n; i++) {
        const struct nctop_seg_matrix *pm =
            (const struct nctop_seg_matrix *)((const char *)parent + parent->matrices_off) + i;
        struct nctop_seg_matrix *cm =
            (struct nctop_seg_matrix *)((char *)child + child->matrices_off) + i;

        cm->name_id = pm->name_id;
        cm->unit_id = pm->unit_id;
    }

    sdk_header_publish(child);
    munmap(parent, parent->segment_bytes);
    sdk_seg = child;
    sdk_hdr_set(child, memory_order_release);
}

/* Whether events are stamped with the TSC: where the kernel trusts it, unless NCTOP_CLOCK
 * says "monotonic". */
static bool sdk_clock_wants_tsc(void)
{
    const char *s = getenv("NCTOP_CLOCK");

    if (s != NULL && strcmp(s, "monotonic") == 0) {
        return false;
    }
    return nctop_seg_tsc_unusable() == NULL;
}

/*
 * Finish the TSC calibration of a new segment (segment.h, enum nctop_seg_clock): wait until
 * NCTOP_SEG_CALIB_MIN_NS have passed since the base pair (most of it went into making the
 * segment), take the second pair and derive the event path's limits in ticks. Returns false
 * when the two pairs do not make a sane clock: the segment then uses CLOCK_MONOTONIC.
 */
static bool sdk_clock_setup(struct nctop_seg_header *hdr, uint64_t base_tsc, uint64_t base_ns)
{
    struct nctop_seg_conv conv;
    uint64_t tsc = 0, ns = 0;

    while (nctop_seg_mono_ns() - base_ns < NCTOP_SEG_CALIB_MIN_NS) {
    }
    nctop_seg_calib_take(&tsc, &ns);
    if (!nctop_seg_conv_make(&conv, base_tsc, base_ns, tsc, ns)) {
        return false;
    }
    atomic_store_explicit(&hdr->calib_base.tsc, base_tsc, memory_order_relaxed);
    atomic_store_explicit(&hdr->calib_base.mono_ns, base_ns, memory_order_relaxed);
    atomic_store_explicit(&hdr->calib_last.tsc, tsc, memory_order_relaxed);
    atomic_store_explicit(&hdr->calib_last.mono_ns, ns, memory_order_relaxed);
    hdr->clock = NCTOP_SEG_CLOCK_TSC;
    /* The process-wide settings of the event path; published with the segment. */
    sdk_clock_timeout = nctop_seg_conv_ticks(&conv, NCTOP_SEG_READER_TIMEOUT_NS);
    sdk_clock_gone = nctop_seg_conv_ticks(&conv, NCTOP_SEG_READER_GONE_NS);
    sdk_calib_period = nctop_seg_conv_ticks(&conv, NCTOP_SEG_CALIB_FIRST_NS);
    sdk_calib_period_max = nctop_seg_conv_ticks(&conv, NCTOP_SEG_CALIB_PERIOD_NS);
    atomic_store_explicit(&sdk_calib_next, tsc + sdk_calib_period, memory_order_relaxed);
    sdk_clock_tsc = true;
    return true;
}

static void sdk_atfork_prepare(void)
{
    pthread_mutex_lock(&sdk_mutex);
}

static void sdk_atfork_parent(void)
{
    pthread_mutex_unlock(&sdk_mutex);
}

static void sdk_exit_handler(void)
{
    nctop_shutdown();
}

/* Registration of the process-wide hooks, once, the first time a segment is made. */
static int sdk_hooks_install(void)
{
    int rc;

    if (sdk_hooks_done) {
        return 0;
    }
    rc = sdk_events_key_create();
    if (rc < 0) {
        return rc;
    }
    rc = pthread_atfork(sdk_atfork_prepare, sdk_atfork_parent, sdk_atfork_child);
    if (rc != 0) {
        return -rc;
    }
    if (atexit(sdk_exit_handler) != 0) {
        return -ENOMEM;
    }
    sdk_hooks_done = true;
    return 0;
}

static int sdk_init_locked(const struct nctop_opts *opts)
{
    struct nctop_seg_header layout = {0};
    struct nctop_seg_header *hdr;
    struct sdk_params p;
    char comm[NCTOP_SEG_LABEL_MAX];
    uint64_t base_tsc = 0, base_ns = 0;
    bool tsc;
    pid_t reader;
    int err = 0;
    int rc;

    if (sdk_env_disabled()) {
        sdk_state = SDK_STATE_DISABLED;
        return -ECANCELED;
    }
    /* The first calibration pair now: making the segment fills most of the wait for the
     * second one. */
    tsc = sdk_clock_wants_tsc();
    if (tsc) {
        nctop_seg_calib_take(&base_tsc, &base_ns);
    }
    rc = sdk_hooks_install();
    if (rc < 0) {
        return rc;
    }
    sdk_params_resolve(&p, opts);
    sdk_layout(&layout, &p);
    hdr = sdk_segment_create(getpid(), layout.segment_bytes, &err);
    if (hdr == NULL) {
        return err;
    }

    /* The layout block, then identity, then the tables' initial contents. */
    memcpy(hdr, &layout, sizeof(layout));
    sdk_header_stamp(hdr);
    atomic_store_explicit(&hdr->strings_count, 1, memory_order_relaxed); /* id 0 = no name */
    if (sdk_registry_counter_locked(hdr, "tokens") != SDK_TOKENS_COUNTER) {
        munmap(hdr, layout.segment_bytes);
        sdk_shm_name(comm, getpid());
        shm_unlink(comm);
        return -ENOMEM;
    }
    if (p.label == NULL || sdk_registry_label_locked(hdr, p.label) < 0) {
        sdk_read_comm(comm, sizeof(comm));
        sdk_registry_label_locked(hdr, comm);
    }

    hdr->clock = NCTOP_SEG_CLOCK_MONOTONIC;
    if (tsc) {
        sdk_clock_setup(hdr, base_tsc, base_ns);
    }

    /*
     * nctop started this program and gave its pid: events are captured from the first
     * instant instead of from the reader's first scan. The preset heartbeat gives the reader
     * NCTOP_SEG_READER_TIMEOUT_NS to attach before the SDK presumes it dead.
     */
    reader = sdk_env_reader();
    if (reader > 0) {
        atomic_store_explicit(&hdr->reader_heartbeat_ns, sdk_clock_ns(CLOCK_MONOTONIC),
                              memory_order_relaxed);
        atomic_store_explicit(&hdr->reader_heartbeat_tsc, nctop_seg_tsc(), memory_order_relaxed);
        atomic_store_explicit(&hdr->reader_pid, (int32_t)reader, memory_order_relaxed);
    }
    sdk_reader_env = reader;

    sdk_header_publish(hdr);
    sdk_seg = hdr;
    sdk_hdr_set(hdr, memory_order_release);
    return 0;
}

struct nctop_seg_header *sdk_lock_ready(void)
{
    pthread_mutex_lock(&sdk_mutex);
    if (sdk_state == SDK_STATE_NONE) {
        sdk_init_error = sdk_init_locked(NULL);
        sdk_state = sdk_init_error == 0 ? SDK_STATE_READY : sdk_state;
        if (sdk_state == SDK_STATE_NONE) {
            sdk_state = SDK_STATE_FAILED;
        }
    }
    if (sdk_state != SDK_STATE_READY) {
        pthread_mutex_unlock(&sdk_mutex);
        return NULL;
    }
    return sdk_seg;
}

void sdk_unlock(void)
{
    pthread_mutex_unlock(&sdk_mutex);
}

NCTOP_API int nctop_init(const struct nctop_opts *opts)
{
    int rc;

    pthread_mutex_lock(&sdk_mutex);
    switch (sdk_state) {
    case SDK_STATE_NONE:
        rc = sdk_init_locked(opts);
        sdk_init_error = rc;
        if (rc == 0) {
            sdk_state = SDK_STATE_READY;
        } else if (sdk_state == SDK_STATE_NONE) {
            sdk_state = SDK_STATE_FAILED;
        }
        break;
    case SDK_STATE_READY:
        rc = 0;
        break;
    case SDK_STATE_DISABLED:
        rc = -ECANCELED;
        break;
    case SDK_STATE_SHUT:
        rc = -ESHUTDOWN;
        break;
    default:
        rc = sdk_init_error;
        break;
    }
    pthread_mutex_unlock(&sdk_mutex);
    return rc;
}

NCTOP_API void nctop_shutdown(void)
{
    char name[SDK_NAME_BYTES];
    struct nctop_seg_header *hdr;
    bool keep;

    pthread_mutex_lock(&sdk_mutex);
    if (sdk_state != SDK_STATE_READY) {
        pthread_mutex_unlock(&sdk_mutex);
        return;
    }
    sdk_state = SDK_STATE_SHUT;
    hdr = sdk_seg;
    /* Stop publishing, but leave the mapping: other threads may still be inside an event
     * call during exit, and they must keep writing to valid memory. */
    sdk_hdr_set(&sdk_dummy_hdr, memory_order_release);

    /*
     * The nctop that started us drains the segment once more after we are gone and unlinks
     * it, so a command that runs for a millisecond is still read in full. Any other exit
     * removes the segment: nobody else would.
     */
    keep = sdk_reader_env > 0 && kill(sdk_reader_env, 0) == 0;
    if (!keep && hdr->pid == (int32_t)getpid()) {
        sdk_shm_name(name, getpid());
        shm_unlink(name);
    }
    pthread_mutex_unlock(&sdk_mutex);
}

NCTOP_API uint64_t nctop_now_ns(void)
{
    return sdk_clock_ns(CLOCK_MONOTONIC);
}

NCTOP_API const char *nctop_version(void)
{
    return NCTOP_VERSION_STRING;
}
