/* SPDX-License-Identifier: MIT */
/* Fuzz the segment reader (collectors/ring.c) as a hostile workload would attack it. A child
 * that only sleeps lends its pid; the input lays out /dev/shm/nctop-<child> and then plays a
 * script of scans and drains against one ring source, with writes into the live mapping and
 * truncations between them. One child and one file serve every run. Input (little endian):
 *   u8 flags     FUZZ_FIX_*: fields the harness makes right, so that runs get past the checks
 *   u32 size     the file's size at the start (at most FUZZ_SEG_MAX)
 *   u32 now_ms   the clock at the first scan, in ms after the header's created_mono_ns
 *   ops, each a type byte (mod FUZZ_OP_COUNT) and its operands:
 *     WRITE u32 offset, u16 n, n bytes   pwrite inside the file (offset mod its size)
 *     SCAN                               ring_source_scan
 *     DRAIN u16 ms                       advance the clock, ring_source_drain
 *     TRUNCATE u32 size                  ftruncate, smaller or larger
 *     EXITED                             ring_source_proc_exited (the workload "died")
 * WRITEs before the first other op lay the segment out; the FUZZ_FIX_* fields are written
 * just before that op. The script ends with a scan and two drains (then, for a quarter of
 * the inputs, the snapshot: fuzz_snapshot_due). The harness runs in its own /dev/shm where
 * it may (fuzz_isolate.h). */
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "collectors/ring.h"
#include "src/base/util.h"
#include "src/libnctop/seg_clock.h"
#include "src/libnctop/segment.h"
#include "src/model/store.h"
#include "src/output/snapshot.h"
#include "tests/fuzz/fuzz_common.h"
#include "tests/fuzz/fuzz_isolate.h"

#define FUZZ_SEG_MAX (16U << 20)  /* largest file the input may ask for */
#define FUZZ_FIX_HEADER 0x01U     /* magic, ABI version, header and segment sizes, pid */
#define FUZZ_FIX_READER 0x02U     /* reader_pid = this process: a hand-off (NCTOP_READER) */
#define FUZZ_FIX_START 0x04U      /* start_ticks = the child's: not a reused pid */
#define FUZZ_FIX_CLOCK 0x08U      /* clock TSC with this machine's calibration (ABI 5) */
#define FUZZ_MS (1000ULL * 1000U) /* ns */
/* NCTOP_FUZZ_SPARE (a campaign that looks past known bugs): "header" keeps the writes after
 * the start out of the header's immutable block, "size" drops the truncations. */
#define FUZZ_SPARE_HEADER 0x01U
#define FUZZ_SPARE_SIZE 0x02U

enum fuzz_op {
    FUZZ_OP_WRITE = 0,
    FUZZ_OP_SCAN = 1,
    FUZZ_OP_DRAIN = 2,
    FUZZ_OP_TRUNCATE = 3,
    FUZZ_OP_EXITED = 4,
    FUZZ_OP_COUNT = 5,
};

/* The input being consumed. */
struct fuzz_in {
    const uint8_t *p;
    size_t left;
};

/* The child lending its pid, and its segment file. */
static struct {
    pid_t child;
    uint64_t child_start;
    char path[64];
    int fd;
    uint64_t size;                   /* the file's size as the harness last set it */
    struct nctop_seg_calib calib[2]; /* a true calibration of this machine, taken once */
    unsigned spare;                  /* FUZZ_SPARE_* */
} fuzz_seg = {.fd = -1};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool fuzz_get(struct fuzz_in *in, void *out, size_t n)
{
    if (in->left < n) {
        return false;
    }
    memcpy(out, in->p, n); /* little-endian host */
    in->p += n;
    in->left -= n;
    return true;
}

static void fuzz_die(const char *what)
{
    perror(what);
    abort();
}

/* (Re)open the segment file when the reader removed it (stale, exited, reused pid). */
static void fuzz_seg_open(void)
{
    struct stat st;

    if (fuzz_seg.fd >= 0 && fstat(fuzz_seg.fd, &st) == 0 && st.st_nlink > 0) {
        return;
    }
    if (fuzz_seg.fd >= 0) {
        close(fuzz_seg.fd);
    }
    fuzz_seg.fd = open(fuzz_seg.path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fuzz_seg.fd < 0) {
        fuzz_die(fuzz_seg.path);
    }
}

static void fuzz_seg_truncate(uint64_t size)
{
    if (ftruncate(fuzz_seg.fd, (off_t)size) != 0) {
        fuzz_die("ftruncate");
    }
    fuzz_seg.size = size;
}

/* Write inside the file only: a write past its end would grow it behind the script's back. */
static void fuzz_seg_write(uint64_t off, const void *p, size_t n)
{
    if (off >= fuzz_seg.size) {
        return;
    }
    if (n > fuzz_seg.size - off) {
        n = (size_t)(fuzz_seg.size - off);
    }
    if (n > 0 && pwrite(fuzz_seg.fd, p, n, (off_t)off) != (ssize_t)n) {
        fuzz_die("pwrite");
    }
}

/* A WRITE op: once the script has started, the spared header block stays as laid out. */
static void fuzz_seg_hostile_write(bool started, uint64_t off, const uint8_t *p, size_t n)
{
    const uint64_t end = offsetof(struct nctop_seg_header, label);

    if (started && (fuzz_seg.spare & FUZZ_SPARE_HEADER) && off < end) {
        size_t skip = n < end - off ? n : (size_t)(end - off);

        off += skip;
        p += skip;
        n -= skip;
    }
    fuzz_seg_write(off, p, n);
}

/* The child: map the segment (the reader checks that its pid maps it) and sleep until the
 * fuzzer exits. */
static void fuzz_child_start(void)
{
    pid_t parent = getpid();
    int ready[2];
    char c = 0;

    if (pipe(ready) != 0) {
        fuzz_die("pipe");
    }
    fuzz_seg.child = fork();
    if (fuzz_seg.child < 0) {
        fuzz_die("fork");
    }
    if (fuzz_seg.child == 0) {
        char path[64];
        void *p;
        int fd;

        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) {
            _exit(0);
        }
        snprintf(path, sizeof(path), NCTOP_SEG_DIR "/" NCTOP_SEG_FILE_PREFIX "%d", (int)getpid());
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0 || ftruncate(fd, 4096) != 0) {
            _exit(1);
        }
        p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
        if (p == MAP_FAILED || write(ready[1], "r", 1) != 1) {
            _exit(1);
        }
        for (;;) {
            pause();
        }
    }
    close(ready[1]);
    if (read(ready[0], &c, 1) != 1) {
        fprintf(stderr, "fuzz_segment: the child did not start\n");
        abort();
    }
    close(ready[0]);
    snprintf(fuzz_seg.path, sizeof(fuzz_seg.path), NCTOP_SEG_DIR "/" NCTOP_SEG_FILE_PREFIX "%d",
             (int)fuzz_seg.child);
    fuzz_seg.child_start = util_proc_start_ticks((int32_t)fuzz_seg.child, NULL);
    /* Two pairs NCTOP_SEG_CALIB_MIN_NS apart, as the SDK takes them at creation. */
    {
        uint64_t tsc = 0, ns = 0;

        nctop_seg_calib_take(&tsc, &ns);
        fuzz_seg.calib[0].tsc = tsc;
        fuzz_seg.calib[0].mono_ns = ns;
        while (nctop_seg_mono_ns() - ns < 2 * NCTOP_SEG_CALIB_MIN_NS) {
        }
        nctop_seg_calib_take(&tsc, &ns);
        fuzz_seg.calib[1].tsc = tsc;
        fuzz_seg.calib[1].mono_ns = ns;
    }
}

static void fuzz_cleanup(void)
{
    if (fuzz_seg.child > 0) {
        kill(fuzz_seg.child, SIGKILL);
        unlink(fuzz_seg.path);
    }
}

/* Make the fields flags asks for right, inside what the file holds. */
static void fuzz_seg_fix(unsigned flags, uint64_t size)
{
    if (flags & FUZZ_FIX_HEADER) {
        uint32_t abi = NCTOP_SEG_ABI_VERSION, hb = sizeof(struct nctop_seg_header);
        int32_t pid = (int32_t)fuzz_seg.child;

        fuzz_seg_write(offsetof(struct nctop_seg_header, magic), NCTOP_SEG_MAGIC,
                       NCTOP_SEG_MAGIC_LEN);
        fuzz_seg_write(offsetof(struct nctop_seg_header, abi_version), &abi, sizeof(abi));
        fuzz_seg_write(offsetof(struct nctop_seg_header, header_bytes), &hb, sizeof(hb));
        fuzz_seg_write(offsetof(struct nctop_seg_header, segment_bytes), &size, sizeof(size));
        fuzz_seg_write(offsetof(struct nctop_seg_header, pid), &pid, sizeof(pid));
    }
    if (flags & FUZZ_FIX_READER) {
        int32_t me = (int32_t)getpid();

        fuzz_seg_write(offsetof(struct nctop_seg_header, reader_pid), &me, sizeof(me));
    }
    if (flags & FUZZ_FIX_CLOCK) {
        uint32_t clock = NCTOP_SEG_CLOCK_TSC, seq = 0;
        uint64_t pairs[4] = {fuzz_seg.calib[0].tsc, fuzz_seg.calib[0].mono_ns,
                             fuzz_seg.calib[1].tsc, fuzz_seg.calib[1].mono_ns};

        fuzz_seg_write(offsetof(struct nctop_seg_header, clock), &clock, sizeof(clock));
        fuzz_seg_write(offsetof(struct nctop_seg_header, calib_seq), &seq, sizeof(seq));
        fuzz_seg_write(offsetof(struct nctop_seg_header, calib_base), pairs, sizeof(pairs));
    }
    if (flags & FUZZ_FIX_START) {
        fuzz_seg_write(offsetof(struct nctop_seg_header, start_ticks), &fuzz_seg.child_start,
                       sizeof(fuzz_seg.child_start));
    }
}

/* The clock of the script: created_mono_ns of the segment as laid out, plus now_ms. */
static uint64_t fuzz_seg_clock(uint32_t now_ms)
{
    uint64_t created = 0;

    if (fuzz_seg.size >= sizeof(struct nctop_seg_header) &&
        pread(fuzz_seg.fd, &created, sizeof(created),
              offsetof(struct nctop_seg_header, created_mono_ns)) != sizeof(created)) {
        created = 0;
    }
    return created + now_ms * FUZZ_MS;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = {.p = data, .left = size};
    int32_t pids[1];
    struct ring_source_opts opts = {.pids = pids, .npids = 1};
    struct ring_source *rs;
    struct store *st;
    uint32_t size0, now_ms;
    uint64_t now = 0;
    bool started = false;
    uint8_t flags, op;
    cJSON *snap;

    if (fuzz_seg.child == 0) {
        if (!fuzz_isolate_shm()) {
            fprintf(stderr, "fuzz_segment: no private /dev/shm: others may see the segment\n");
        }
        fuzz_child_start();
        atexit(fuzz_cleanup);
        if (getenv("NCTOP_FUZZ_SPARE") != NULL) {
            fuzz_seg.spare =
                (strstr(getenv("NCTOP_FUZZ_SPARE"), "header") ? FUZZ_SPARE_HEADER : 0) |
                (strstr(getenv("NCTOP_FUZZ_SPARE"), "size") ? FUZZ_SPARE_SIZE : 0);
        }
    }
    if (!fuzz_get(&in, &flags, 1) || !fuzz_get(&in, &size0, 4) || !fuzz_get(&in, &now_ms, 4)) {
        return 0;
    }
    fuzz_seg_open();
    fuzz_seg_truncate(0);
    fuzz_seg_truncate(size0 % (FUZZ_SEG_MAX + 1U));

    pids[0] = (int32_t)fuzz_seg.child;
    st = store_new(NULL);
    rs = ring_source_new(st, &opts);
    while (fuzz_get(&in, &op, 1)) {
        uint32_t off, u32;
        uint16_t n;

        op %= FUZZ_OP_COUNT;
        if (op != FUZZ_OP_WRITE && !started) {
            fuzz_seg_fix(flags, fuzz_seg.size);
            now = fuzz_seg_clock(now_ms);
            started = true;
        }
        switch ((enum fuzz_op)op) {
        case FUZZ_OP_WRITE:
            if (!fuzz_get(&in, &off, 4) || !fuzz_get(&in, &n, 2)) {
                goto out;
            }
            n = in.left < n ? (uint16_t)in.left : n;
            if (fuzz_seg.size > 0) {
                fuzz_seg_hostile_write(started, off % fuzz_seg.size, in.p, n);
            }
            in.p += n;
            in.left -= n;
            break;
        case FUZZ_OP_SCAN:
            ring_source_scan(rs, now);
            break;
        case FUZZ_OP_DRAIN:
            if (!fuzz_get(&in, &n, 2)) {
                goto out;
            }
            now += n * FUZZ_MS;
            ring_source_drain(rs, now);
            break;
        case FUZZ_OP_TRUNCATE:
            if (!fuzz_get(&in, &u32, 4)) {
                goto out;
            }
            if (!(fuzz_seg.spare & FUZZ_SPARE_SIZE)) {
                fuzz_seg_truncate(u32 % (FUZZ_SEG_MAX + 1U));
            }
            break;
        case FUZZ_OP_EXITED:
            ring_source_proc_exited(rs, pids[0], now, "fuzz");
            break;
        default:
            abort(); /* NOTREACHED */
        }
    }
out:
    if (!started) {
        fuzz_seg_fix(flags, fuzz_seg.size);
        now = fuzz_seg_clock(now_ms);
    }
    ring_source_scan(rs, now);
    ring_source_drain(rs, now + 300 * FUZZ_MS);
    ring_source_drain(rs, now + 1300 * FUZZ_MS);
    if (fuzz_snapshot_due(data, size)) {
        snap = snapshot_build(st, now + 1300 * FUZZ_MS, 0);
        cJSON_Delete(snap);
    }
    if (getenv("NCTOP_FUZZ_VERBOSE") != NULL) {
        /* What the reader made of it: the suite checks that the seeds get in. */
        struct ring_source_stats rst;

        ring_source_get_stats(rs, &rst);
        fprintf(stderr, "segment: attached %llu refused %llu records %llu invalid %llu: %s\n",
                (unsigned long long)rst.attached, (unsigned long long)rst.refused,
                (unsigned long long)rst.records, (unsigned long long)rst.invalid, rst.last_error);
    }
    ring_source_free(rs);
    store_free(st);
    return 0;
}
