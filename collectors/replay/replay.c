/* SPDX-License-Identifier: MIT */
/* The replay collector. Every input becomes a recording (text formats are converted into one
 * in memory), and recordings are played into the store through the same event API the ring
 * collector uses, paced by their TICK records against a virtual clock. */
#include "collectors/replay/replay.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "collectors/replay/replay_internal.h"
#include "src/base/safemap.h"
#include "src/base/util.h"
#include "src/base/xalloc.h"
#include "src/format/record.h"
#include "src/model/store.h"

#define REPLAY_REAL_MIN_NS (946684800ULL * UTIL_NS_PER_SEC) /* 2000-01-01T00:00:00Z */
#define REPLAY_BASE_NS (1000ULL * UTIL_NS_PER_SEC)          /* replayed time starts near here */
#define REPLAY_MAX_FILE_BYTES (1ULL << 32)                  /* larger inputs are refused */
#define REPLAY_MAX_KEY (1U << 22)                           /* thread keys and name ids of a file */
#define REPLAY_RELEASE_BYTES (4U << 20) /* mapped input let go in steps of this */

struct replay_names {
    uint32_t *map; /* file name id -> store name id (0: unknown) */
    uint32_t cap;
};

/* A file's bytes: mapped from the file (read-only, private) when it is a regular file, so that
 * what was read can go back to the page cache; else read into the heap. */
struct replay_blob {
    char *data;
    size_t len;
    bool mapped; /* munmap, else free */
    int map;     /* safemap handle while mapped */
};

struct replay_file {
    char *path;
    enum replay_format format;
    char *data; /* the recording (owned, see mapped) */
    size_t len;
    bool mapped;
    int map;                   /* safemap handle while mapped: the file may be cut under us */
    bool cut_noted;            /* the problem of a file cut while read was reported */
    struct replay_release rel; /* how much of a mapped recording was let go */
    struct record_reader *rd;
    bool done;
    bool pending; /* a TICK beyond the clock was read and waits */
    uint64_t pending_ts;
    uint64_t first_ts; /* raw times of the file */
    uint64_t last_ts;
    uint64_t offset; /* added to every time: rebases the file onto the virtual clock */
    uint64_t mono_ns;
    uint64_t real_ns;

    struct store_proc **procs;  /* file process number -> store process */
    struct replay_names *names; /* per file process */
    uint32_t nprocs;
    struct replay_log_info log;    /* a JSONL log: what its conversion learnt */
    long peer;                     /* a seed log: the other log of its run (file index), or -1 */
    struct store_proc *seed_proc;  /* the process of its seed rows, once made */
    struct store_thread **threads; /* thread key -> store thread (NULL when gone) */
    uint32_t *thread_proc;         /* thread key -> file process number */
    uint32_t threads_cap;
};

/* A process this replay created, to join the files of one workload. */
struct replay_proc {
    struct store_proc *proc;
    int32_t pid;
    char *label;
    bool from_log;
    bool seed; /* the seed's rows of a log: joined by stamps, never by label */
};

struct replay_source {
    struct store *store;
    struct replay_file *files;
    size_t nfiles;
    struct replay_problems pr;
    struct replay_proc *procs;
    size_t nprocs;
    bool paired;                  /* the seed logs have found their peers */
    char str[RECORD_MAX_STR + 1]; /* a record's string, NUL-terminated */
    uint32_t path[RECORD_MAX_DEPTH];
};

void replay_problem(struct replay_problems *pr, const char *file, size_t line, const char *fmt, ...)
{
    char msg[256];
    va_list ap;

    pr->count++;
    if (pr->nkept == REPLAY_PROBLEMS_KEPT) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (line > 0) {
        pr->v[pr->nkept++] = xasprintf("%s:%zu: %s", file, line, msg);
    } else {
        pr->v[pr->nkept++] = xasprintf("%s: %s", file, msg);
    }
}

struct replay_source *replay_source_new(struct store *st)
{
    struct replay_source *rs = xcalloc(1, sizeof(*rs));

    rs->store = st;
    safemap_hold(); /* a mapped file cut while it is read must not kill nctop */
    return rs;
}

void replay_source_free(struct replay_source *rs)
{
    if (rs == NULL) {
        return;
    }
    for (size_t i = 0; i < rs->nfiles; i++) {
        struct replay_file *f = &rs->files[i];

        for (uint32_t k = 0; k < f->nprocs; k++) {
            free(f->names[k].map);
        }
        free(f->names);
        free(f->procs);
        free(f->threads);
        free(f->thread_proc);
        record_reader_free(f->rd);
        if (f->mapped) {
            safemap_remove(f->map);
            munmap(f->data, f->len);
        } else {
            free(f->data);
        }
        free(f->path);
    }
    free(rs->files);
    safemap_release();
    for (size_t i = 0; i < rs->nprocs; i++) {
        free(rs->procs[i].label);
    }
    free(rs->procs);
    for (size_t i = 0; i < rs->pr.nkept; i++) {
        free(rs->pr.v[i]);
    }
    free(rs);
}

/* Open a file to replay and stat it: a descriptor, or -errno (-EFBIG past the size limit). */
static int replay_open(const char *path, struct stat *sb)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    int rc;

    if (fd < 0) {
        return -errno;
    }
    if (fstat(fd, sb) != 0) {
        rc = -errno;
        close(fd);
        return rc;
    }
    if ((uint64_t)sb->st_size >= REPLAY_MAX_FILE_BYTES) {
        close(fd);
        return -EFBIG;
    }
    return fd;
}

/* The whole file, NUL-terminated. Returns 0 or -errno. */
static int replay_read_all(const char *path, char **out, size_t *len)
{
    struct stat sb;
    size_t got = 0, cap;
    char *buf;
    int fd = replay_open(path, &sb), rc = 0;

    if (fd < 0) {
        return fd;
    }
    cap = (size_t)sb.st_size + 1U;
    buf = xmalloc(cap);
    for (;;) {
        ssize_t n;

        if (got + 1U == cap) {
            /* The file grew (a log still written): read what is there now. */
            if (cap >= REPLAY_MAX_FILE_BYTES) {
                break;
            }
            cap *= 2U;
            buf = xreallocarray(buf, cap, 1);
        }
        n = read(fd, buf + got, cap - 1U - got);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            rc = -errno;
            break;
        }
        if (n == 0) {
            break;
        }
        got += (size_t)n;
    }
    close(fd);
    if (rc != 0) {
        free(buf);
        return rc;
    }
    buf[got] = '\0';
    *out = buf;
    *len = got;
    return 0;
}

void replay_release(struct replay_release *r, size_t upto)
{
    static size_t page;
    size_t to;

    if (r == NULL || r->base == NULL || upto < r->done + REPLAY_RELEASE_BYTES) {
        return;
    }
    if (page == 0) {
        page = (size_t)sysconf(_SC_PAGESIZE);
    }
    /* Whole pages only. The mapping is private and read-only: a page let go is read back
     * from the file if it is touched again, so a late reader still sees the same bytes. */
    to = upto / page * page;
    if (to > r->done &&
        madvise((char *)(uintptr_t)r->base + r->done, to - r->done, MADV_DONTNEED) == 0) {
        r->done = to;
    }
}

static void replay_blob_free(struct replay_blob *b)
{
    if (b->mapped) {
        safemap_remove(b->map);
        munmap(b->data, b->len);
    } else {
        free(b->data);
    }
    memset(b, 0, sizeof(*b));
}

/* Map fd's len bytes, or false. */
static bool replay_map(int fd, size_t len, struct replay_blob *out)
{
    void *p;

    if (len == 0) {
        return false;
    }
    p = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
        return false;
    }
    madvise(p, len, MADV_SEQUENTIAL);
    out->data = p;
    out->len = len;
    out->mapped = true;
    out->map = safemap_add(p, len);
    return true;
}

/* The file's bytes: mapped when it is a regular file with a size, else read whole (a pipe, a
 * log still growing from nothing). Returns 0 or -errno. */
static int replay_blob_open(const char *path, struct replay_blob *out)
{
    struct stat sb;
    int fd;

    memset(out, 0, sizeof(*out));
    fd = replay_open(path, &sb);
    if (fd < 0) {
        return fd;
    }
    if (S_ISREG(sb.st_mode) && replay_map(fd, (size_t)sb.st_size, out)) {
        close(fd);
        return 0;
    }
    close(fd);
    return replay_read_all(path, &out->data, &out->len);
}

/* Whether text holds needle, read in windows that are let go behind the search (a
 * whole-file search would otherwise bring the whole file into memory at once). */
static bool replay_contains(const char *text, size_t len, const char *needle,
                            struct replay_release *rel)
{
    size_t nlen = strlen(needle), off = 0;
    bool found = false;

    while (!found && off < len) {
        size_t n = len - off < REPLAY_RELEASE_BYTES ? len - off : REPLAY_RELEASE_BYTES;

        /* Windows overlap by the needle's length, less one. */
        found = memmem(text + off, n + nlen - 1 <= len - off ? n + nlen - 1 : len - off, needle,
                       nlen) != NULL;
        off += n;
        replay_release(rel, off);
    }
    rel->done = 0;
    return found;
}

/* Text input to a recording, written to an unlinked temporary file and mapped (in the heap
 * when no temporary file can be made). Returns 0 or -EINVAL with *err. */
static int replay_convert(struct replay_source *rs, const char *path, const struct replay_blob *in,
                          enum replay_format *fmt, struct replay_blob *out,
                          struct replay_log_info *log, char **err)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *f = tmpfile();
    bool heap = f == NULL;
    struct record_writer *w;
    const char *text = in->data, *end = in->data + in->len, *s = text;
    struct replay_release rel = {.base = in->mapped ? in->data : NULL};
    bool profile = false;
    long n = 0;

    memset(out, 0, sizeof(*out));
    if (heap) {
        f = open_memstream(&buf, &size);
    }
    if (f == NULL) {
        *err = xasprintf("%s: %s", path, strerror(errno));
        return -EINVAL;
    }
    w = record_writer_new(f, 0, 0);
    while (s < end && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')) {
        s++;
    }
    /* One JSON document (a trace) or one object per line (logs). A trace object is usually
     * spread over many lines, so a first line that is not a whole object means a trace. */
    if (s < end && *s == '[') {
        *fmt = REPLAY_CHROME;
        n = replay_chrome_convert_stream(path, text, in->len, w, &rs->pr, &rel);
    } else if (s < end && *s == '{' && replay_contains(text, in->len, "\"traceEvents\"", &rel) &&
               !replay_contains(text, in->len, "\"rows\"", &rel) &&
               !replay_contains(text, in->len, "\"metric\"", &rel)) {
        *fmt = REPLAY_CHROME;
        n = replay_chrome_convert_stream(path, text, in->len, w, &rs->pr, &rel);
    } else if (s == end || *s == '{') {
        n = (long)replay_jsonl_convert_stream(path, text, in->len, w, &rs->pr, &profile, &rel, log);
        *fmt = profile ? REPLAY_PROFILE : REPLAY_LOG;
    } else {
        n = -1;
    }
    record_writer_free(w);
    if (n >= 0 && !heap) {
        long end_off;

        if (fflush(f) != 0 || (end_off = ftell(f)) <= 0 ||
            !replay_map(fileno(f), (size_t)end_off, out)) {
            *err = xasprintf("%s: cannot write its conversion to a temporary file: %s", path,
                             strerror(errno));
            fclose(f);
            return -EINVAL;
        }
    }
    fclose(f);
    if (n < 0) {
        free(buf);
        *err =
            xasprintf("%s: not a recording, JSONL log, ProfileRecord file or Chrome trace", path);
        return -EINVAL;
    }
    if (heap) {
        out->data = buf;
        out->len = size;
    }
    return 0;
}

/* First and last times of a recording, and a note when it is cut short or damaged. */
static void replay_scan(struct replay_source *rs, struct replay_file *f)
{
    char *err = NULL;
    struct record_reader *rd = record_reader_new(f->data, f->len, &err);
    struct record_ev ev;
    bool any = false;
    int rc;

    free(err);
    if (rd == NULL) {
        return;
    }
    while ((rc = record_reader_next(rd, &ev)) > 0) {
        uint64_t ts = ev.ts_ns;

        replay_release(&f->rel, record_reader_offset(rd));

        /* Records without a time carry 0; a kernel's start may precede its report. */
        if (ts == 0 && ev.type != RECORD_TICK) {
            continue;
        }
        if (!any || ts < f->first_ts) {
            f->first_ts = ts;
        }
        if (!any || ts > f->last_ts) {
            f->last_ts = ts;
        }
        any = true;
    }
    if (rc < 0) {
        replay_problem(&rs->pr, f->path, 0,
                       "malformed record at byte offset %zu: the recording is played up to it",
                       record_reader_offset(rd));
    } else if (f->format == REPLAY_RECORDING && !record_reader_clean_end(rd)) {
        replay_problem(&rs->pr, f->path, 0,
                       "the recording is cut short (no end record): played up to its end");
    }
    if (!any) {
        f->first_ts = f->last_ts = f->mono_ns;
    }
    record_reader_free(rd);
    /* Playing reads the recording again from its start. */
    if (f->rel.base != NULL) {
        f->rel.done = 0;
        madvise(f->data, f->len, MADV_DONTNEED);
    }
}

/* The file was cut short while mapped: the rest reads as zeros. Say so once; true when cut. */
static bool replay_file_check_cut(struct replay_source *rs, struct replay_file *f)
{
    if (!f->mapped || !safemap_faulted(f->map)) {
        return false;
    }
    if (!f->cut_noted) {
        f->cut_noted = true;
        replay_problem(&rs->pr, f->path, 0,
                       "the file was cut short while it was read: played up to the cut");
    }
    return true;
}

int replay_source_add(struct replay_source *rs, const char *path, char **err)
{
    struct replay_file f;
    struct replay_blob in, rec;
    int rc;

    memset(&f, 0, sizeof(f));
    f.peer = -1;
    rc = replay_blob_open(path, &in);
    if (rc != 0) {
        *err = xasprintf("%s: %s", path, strerror(-rc));
        return rc;
    }
    if (record_is_recording(in.data, in.len)) {
        f.format = REPLAY_RECORDING;
        rec = in;
    } else {
        rc = replay_convert(rs, path, &in, &f.format, &rec, &f.log, err);
        if (rc == 0 && in.mapped && safemap_faulted(in.map)) {
            *err = xasprintf("%s: the file was cut short while it was read", path);
            replay_blob_free(&rec);
            rc = -EIO;
        }
        replay_blob_free(&in);
        if (rc != 0) {
            return rc;
        }
    }
    f.data = rec.data;
    f.len = rec.len;
    f.mapped = rec.mapped;
    f.map = rec.mapped ? rec.map : -1;
    f.rel.base = rec.mapped ? rec.data : NULL;
    f.rd = record_reader_new(f.data, f.len, err);
    if (f.rd == NULL) {
        char *why = *err;

        *err = xasprintf("%s: %s", path, why);
        free(why);
        replay_blob_free(&rec);
        return -EINVAL;
    }
    f.path = xstrdup(path);
    f.mono_ns = record_reader_mono_ns(f.rd);
    f.real_ns = record_reader_real_ns(f.rd);
    replay_scan(rs, &f);
    replay_file_check_cut(rs, &f);
    /* Whole seconds keep the window slots where they were when recorded. */
    f.offset = REPLAY_BASE_NS - f.first_ts / UTIL_NS_PER_SEC * UTIL_NS_PER_SEC;
    rs->files = xreallocarray(rs->files, rs->nfiles + 1U, sizeof(*rs->files));
    rs->files[rs->nfiles++] = f;
    return 0;
}

size_t replay_source_nkept(const struct replay_source *rs)
{
    return rs->pr.nkept;
}

const char *replay_source_problem(const struct replay_source *rs, size_t i)
{
    return i < rs->pr.nkept ? rs->pr.v[i] : NULL;
}

uint64_t replay_source_nproblems(const struct replay_source *rs)
{
    return rs->pr.count;
}

uint64_t replay_source_start_ns(const struct replay_source *rs)
{
    uint64_t start = REPLAY_BASE_NS;

    for (size_t i = 0; i < rs->nfiles; i++) {
        uint64_t t = rs->files[i].first_ts + rs->files[i].offset;

        if (i == 0 || t < start) {
            start = t;
        }
    }
    return start;
}

uint64_t replay_source_end_ns(const struct replay_source *rs)
{
    uint64_t end = REPLAY_BASE_NS;

    for (size_t i = 0; i < rs->nfiles; i++) {
        uint64_t t = rs->files[i].last_ts + rs->files[i].offset;

        if (t > end) {
            end = t;
        }
    }
    return end;
}

uint64_t replay_source_real_ns(const struct replay_source *rs, uint64_t now_ns)
{
    const struct replay_file *f;
    uint64_t real;

    if (rs->nfiles == 0) {
        return 0;
    }
    f = &rs->files[0];
    real = f->real_ns + (now_ns - f->offset - f->mono_ns);
    /* Converted logs carry epoch times in their events; a trace carries only times from its
     * own start (a Chrome trace has no wall clock): before 2000 means the time of day is
     * unknown, not 1970. */
    return real < REPLAY_REAL_MIN_NS ? 0 : real;
}

enum replay_format replay_source_format(const struct replay_source *rs, size_t i)
{
    return i < rs->nfiles ? rs->files[i].format : REPLAY_RECORDING;
}

bool replay_source_done(const struct replay_source *rs)
{
    for (size_t i = 0; i < rs->nfiles; i++) {
        if (!rs->files[i].done) {
            return false;
        }
    }
    return true;
}

/* --- playing ------------------------------------------------------------------------------ */

static const char *replay_str(struct replay_source *rs, const struct record_ev *ev)
{
    if (ev->str == NULL) {
        return NULL;
    }
    memcpy(rs->str, ev->str, ev->str_len);
    rs->str[ev->str_len] = '\0';
    return rs->str;
}

static struct store_proc *replay_proc(const struct replay_file *f, uint32_t i)
{
    return i < f->nprocs ? f->procs[i] : NULL;
}

static uint32_t replay_name(const struct replay_file *f, uint32_t proc, uint32_t id)
{
    const struct replay_names *n;

    if (proc >= f->nprocs) {
        return 0;
    }
    n = &f->names[proc];
    return id < n->cap ? n->map[id] : 0;
}

static struct store_thread *replay_thread(const struct replay_file *f, uint32_t key)
{
    return key < f->threads_cap ? f->threads[key] : NULL;
}

/* The stamp of a seed log in seconds since the epoch: its name's ("<UTC %Y%m%d%H%M%S>-latency
 * .jsonl"), else its first line's time; false when it has neither. */
static bool replay_log_stamp(const struct replay_file *f, int64_t *out)
{
    const char *base = strrchr(f->path, '/');
    struct tm tm;
    int n = 0;
    time_t t;

    base = base != NULL ? base + 1 : f->path;
    memset(&tm, 0, sizeof(tm));
    if (sscanf(base, "%4d%2d%2d%2d%2d%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
               &tm.tm_min, &tm.tm_sec, &n) == 6 &&
        n == 14 &&
        (strcmp(base + n, "-latency.jsonl") == 0 || strcmp(base + n, "-memory.jsonl") == 0)) {
        tm.tm_year -= 1900;
        tm.tm_mon -= 1;
        t = timegm(&tm);
        if (t != (time_t)-1) {
            *out = (int64_t)t;
            return true;
        }
    }
    if (f->log.has_first) {
        *out = (int64_t)(f->log.first_real_ns / UTIL_NS_PER_SEC);
        return true;
    }
    return false;
}

/* Pair the seed logs of one run: a latency log and a memory log whose stamps are at most a
 * second apart (the seed opens both at once; the second may turn in between), the closest
 * stamps first, each log in one pair at most. */
static void replay_pair_seed_logs(struct replay_source *rs)
{
    for (int64_t diff = 0; diff <= 1; diff++) {
        for (size_t i = 0; i < rs->nfiles; i++) {
            struct replay_file *a = &rs->files[i];
            int64_t sa, sb;

            if (a->peer >= 0 || !a->log.seed || !a->log.latency || a->log.memory ||
                !replay_log_stamp(a, &sa)) {
                continue;
            }
            for (size_t j = 0; j < rs->nfiles; j++) {
                struct replay_file *b = &rs->files[j];

                if (b->peer < 0 && b->log.seed && b->log.memory && !b->log.latency &&
                    replay_log_stamp(b, &sb) && llabs(sa - sb) == diff) {
                    a->peer = (long)j;
                    b->peer = (long)i;
                    break;
                }
            }
        }
    }
    rs->paired = true;
}

/* Logs of one workload (its latency log and its memory log) join into one process: same pid
 * and label (nctop's logs), or the seed's pair of one run. Recordings and traces always get
 * their own processes. */
static struct store_proc *replay_proc_add(struct replay_source *rs, struct replay_file *f,
                                          int32_t pid, const char *label)
{
    bool from_log = f->format == REPLAY_LOG;
    bool seed = from_log && f->log.seed && pid == 0 && strcmp(label, f->log.label) == 0;
    struct replay_proc *rp;

    if (seed) {
        if (!rs->paired) {
            replay_pair_seed_logs(rs);
        }
        if (f->peer >= 0 && rs->files[f->peer].seed_proc != NULL) {
            f->seed_proc = rs->files[f->peer].seed_proc;
            return f->seed_proc;
        }
    }
    for (size_t i = 0; i < rs->nprocs && from_log && !seed; i++) {
        rp = &rs->procs[i];
        if (rp->from_log && !rp->seed && rp->pid == pid && strcmp(rp->label, label) == 0) {
            return rp->proc;
        }
    }
    rs->procs = xreallocarray(rs->procs, rs->nprocs + 1U, sizeof(*rs->procs));
    rp = &rs->procs[rs->nprocs++];
    memset(rp, 0, sizeof(*rp));
    rp->proc = store_proc_add(rs->store, pid, label);
    store_proc_set_replayed(rp->proc);
    rp->pid = pid;
    rp->label = xstrdup(label);
    rp->from_log = from_log;
    rp->seed = seed;
    if (seed) {
        f->seed_proc = rp->proc;
    }
    return rp->proc;
}

static void replay_apply(struct replay_source *rs, struct replay_file *f,
                         const struct record_ev *ev)
{
    struct store_proc *p = replay_proc(f, ev->proc);
    struct store_thread *t;
    uint64_t ts = ev->ts_ns + f->offset;
    const char *s;

    if (ev->type == STORE_EV_PROC_ADD) {
        f->procs = xreallocarray(f->procs, f->nprocs + 1U, sizeof(*f->procs));
        f->names = xreallocarray(f->names, f->nprocs + 1U, sizeof(*f->names));
        memset(&f->names[f->nprocs], 0, sizeof(f->names[0]));
        f->procs[f->nprocs++] =
            replay_proc_add(rs, f, (int32_t)ev->i, replay_str(rs, ev) != NULL ? rs->str : "");
        return;
    }
    if (ev->type == STORE_EV_THREAD_NAME || ev->type == STORE_EV_THREAD_EXIT ||
        ev->type == STORE_EV_THREAD_GAP || ev->type == STORE_EV_SPAN_BEGIN ||
        ev->type == STORE_EV_SPAN_END || ev->type == STORE_EV_MEM_DELTA) {
        uint32_t tp;

        t = replay_thread(f, ev->thread);
        if (t == NULL) {
            return; /* a thread the store refused (too many) */
        }
        tp = f->thread_proc[ev->thread];
        switch (ev->type) {
        case STORE_EV_THREAD_NAME:
            store_thread_set_name(t, replay_str(rs, ev));
            break;
        case STORE_EV_THREAD_EXIT:
            store_thread_exit(t, ts);
            f->threads[ev->thread] = NULL;
            break;
        case STORE_EV_THREAD_GAP:
            store_thread_gap(t);
            break;
        case STORE_EV_SPAN_BEGIN:
            store_span_begin(t, replay_name(f, tp, ev->id), ts);
            break;
        case STORE_EV_SPAN_END:
            store_span_end(t, replay_name(f, tp, ev->id), ts);
            break;
        default:
            store_mem_delta(t, ev->i, ts);
            break;
        }
        return;
    }
    if (ev->type == STORE_EV_GPUS) {
        store_gpu_set(rs->store, ev->gpus, ev->depth, replay_str(rs, ev));
        return;
    }
    if (p == NULL) {
        return;
    }
    switch (ev->type) {
    case STORE_EV_LOSS:
        store_proc_set_loss(p, (enum store_loss)ev->id, ev->a);
        break;
    case STORE_EV_SYS_THREAD:
        store_sys_thread_set(p, (int32_t)ev->i, replay_str(rs, ev), &ev->sched, ev->aux != 0);
        break;
    case STORE_EV_SYS_CALL:
        store_sys_call_set(p, ev->id, replay_str(rs, ev), ev->a, ev->b);
        break;
    case STORE_EV_SYS_MAPPED:
        store_sys_mapped_set(p, ev->a, ev->b, ev->i);
        break;
    case STORE_EV_SYS_DROPPED:
        store_sys_dropped_set(p, ev->a);
        break;
    case STORE_EV_PROC_GPU:
        store_proc_gpu_set(p, ev->path, ev->values, ev->depth);
        break;
    case STORE_EV_LABEL:
        store_proc_set_label(p, replay_str(rs, ev));
        break;
    case STORE_EV_NAME: {
        struct replay_names *n = &f->names[ev->proc];

        if (ev->id >= REPLAY_MAX_KEY) {
            store_proc_add_invalid(p, 1, "recording: name id out of range");
            break;
        }
        if (ev->id >= n->cap) {
            uint32_t cap = n->cap ? n->cap : 256U;

            while (cap <= ev->id) {
                cap *= 2U;
            }
            n->map = xreallocarray(n->map, cap, sizeof(*n->map));
            memset(n->map + n->cap, 0, (cap - n->cap) * sizeof(*n->map));
            n->cap = cap;
        }
        n->map[ev->id] = store_proc_intern(p, replay_str(rs, ev));
        break;
    }
    case STORE_EV_STATE:
        s = replay_str(rs, ev);
        store_proc_set_state(p, (enum store_proc_state)ev->id, s, ts);
        break;
    case STORE_EV_INVALID:
        store_proc_add_invalid(p, ev->a, replay_str(rs, ev));
        break;
    case STORE_EV_DROPPED:
        store_proc_set_dropped(p, ev->a);
        break;
    case STORE_EV_EVENTS:
        store_proc_add_events(p, ev->a);
        break;
    case STORE_EV_HOST:
        store_proc_set_host(p, ev->a, ev->b, ev->c, ts);
        break;
    case STORE_EV_GAUGE:
        store_gauge_set(p, replay_name(f, ev->proc, ev->id),
                        (enum store_mem_kind)(ev->aux & 0xFFFF), ev->aux >> 16, ev->a, ev->b,
                        ev->c);
        break;
    case STORE_EV_WEIGHT:
        store_weight_set(p, replay_name(f, ev->proc, ev->id), ev->aux, ev->a);
        break;
    case STORE_EV_COUNTER:
        store_counter_set(p, replay_name(f, ev->proc, ev->id), ev->a, ts);
        break;
    case STORE_EV_THREAD_ADD:
        if (ev->thread >= REPLAY_MAX_KEY) {
            store_proc_add_invalid(p, 1, "recording: thread key out of range");
            break;
        }
        if (ev->thread >= f->threads_cap) {
            uint32_t cap = f->threads_cap ? f->threads_cap : 64U;

            while (cap <= ev->thread) {
                cap *= 2U;
            }
            f->threads = xreallocarray(f->threads, cap, sizeof(*f->threads));
            memset(f->threads + f->threads_cap, 0, (cap - f->threads_cap) * sizeof(*f->threads));
            f->thread_proc = xreallocarray(f->thread_proc, cap, sizeof(*f->thread_proc));
            f->threads_cap = cap;
        }
        if (f->threads[ev->thread] != NULL) {
            store_thread_exit(f->threads[ev->thread], ts);
        }
        f->threads[ev->thread] = store_thread_add(p, (int32_t)ev->i, replay_str(rs, ev));
        f->thread_proc[ev->thread] = ev->proc;
        break;
    case STORE_EV_KERNEL:
        store_kernel(p, replay_name(f, ev->proc, ev->id), replay_name(f, ev->proc, ev->aux), ts,
                     ev->a);
        break;
    case STORE_EV_STEP:
        store_request_step(p, (enum store_step_kind)ev->id, ev->b, ev->a, ts);
        break;
    case STORE_EV_NODE_IMPORT:
        for (uint32_t k = 0; k < ev->depth; k++) {
            rs->path[k] = replay_name(f, ev->proc, ev->path[k]);
        }
        store_node_import(p, rs->path, ev->depth, &ev->stats, ts);
        break;
    case STORE_EV_MEM_IMPORT_CLEAR:
        store_mem_import_clear(p);
        break;
    case STORE_EV_MEM_IMPORT:
        store_mem_import(p, ev->level, replay_name(f, ev->proc, ev->id), ev->aux, ev->i,
                         (int64_t)ev->a, ev->b);
        break;
    case STORE_EV_MEM_IMPORT_PARTS:
        store_mem_import_parts(p, &ev->parts);
        break;
    default:
        break;
    }
}

uint64_t replay_source_advance(struct replay_source *rs, uint64_t now_ns)
{
    uint64_t n = 0;

    for (size_t i = 0; i < rs->nfiles; i++) {
        struct replay_file *f = &rs->files[i];
        struct record_ev ev;
        int rc;

        if (f->pending) {
            if (f->pending_ts + f->offset > now_ns) {
                continue;
            }
            f->pending = false;
        }
        while (!f->done) {
            rc = record_reader_next(f->rd, &ev);
            if (replay_file_check_cut(rs, f) || rc <= 0) {
                f->done = true; /* the problem, if any, was noted by the scan */
                break;
            }
            if (ev.type == RECORD_TICK) {
                if (ev.ts_ns + f->offset > now_ns) {
                    f->pending = true;
                    f->pending_ts = ev.ts_ns;
                    break;
                }
                continue;
            }
            replay_apply(rs, f, &ev);
            replay_release(&f->rel, record_reader_offset(f->rd));
            n++;
        }
    }
    return n;
}
