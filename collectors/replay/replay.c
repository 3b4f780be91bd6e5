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
    bool paired; /* the seed logs have found their peers */
    char *str;   /* a record's string, NUL-terminated (grown to the longest, at most
                  * RECORD_MAX_STR + 1) */
    size_t str_cap;
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
    free(rs->str);
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
    if (ev->str_len >= rs->str_cap) {
        rs->str_cap = ev->str_len < 255U ? 256U : ev->str_len + 1U;
        free(rs->str);
        rs->str = xmalloc(rs->str_cap);
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

/* A file number that grows a map: false (counted invalid) beyond REPLAY_MAX_KEY. */
static bool replay_key_ok(struct store_proc *p, uint32_t key, const char *what)
{
    if (key < REPLAY_MAX_KEY) {
        return true;
    }
    if (p != NULL) {
        store_proc_add_invalid(p, 1, what);
    }
    return false;
}

static void replay_names_grow(struct replay_names *n, uint32_t id)
{
    uint32_t cap = n->cap ? n->cap : 256U;

    while (cap <= id) {
        cap *= 2U;
    }
    n->map = xreallocarray(n->map, cap, sizeof(*n->map));
    memset(n->map + n->cap, 0, (cap - n->cap) * sizeof(*n->map));
    n->cap = cap;
}

static void replay_threads_grow(struct replay_file *f, uint32_t key)
{
    uint32_t cap = f->threads_cap ? f->threads_cap : 64U;

    while (cap <= key) {
        cap *= 2U;
    }
    f->threads = xreallocarray(f->threads, cap, sizeof(*f->threads));
    memset(f->threads + f->threads_cap, 0, (cap - f->threads_cap) * sizeof(*f->threads));
    f->thread_proc = xreallocarray(f->thread_proc, cap, sizeof(*f->thread_proc));
    f->threads_cap = cap;
}

/* Decode and apply: the file's numbers (processes, thread keys, name ids; record_fields
 * says which fields hold them) become this store's, then the event goes through the
 * store's door. Processes are the replay's to make (logs of one workload join). */
static void replay_apply(struct replay_source *rs, struct replay_file *f,
                         const struct record_ev *rev)
{
    unsigned fields = record_fields(rev->type);
    uint32_t proc = rev->proc;
    struct store_event ev = {.type = (enum store_event_type)rev->type,
                             .id = rev->id,
                             .aux = rev->aux,
                             .level = rev->level,
                             .ts_ns = rev->ts_ns + f->offset,
                             .i = rev->i,
                             .a = rev->a,
                             .b = rev->b,
                             .c = rev->c,
                             .str = replay_str(rs, rev),
                             .path = rev->path,
                             .depth = rev->depth,
                             .stats = &rev->stats,
                             .sched = &rev->sched,
                             .gpus = rev->gpus,
                             .values = rev->values,
                             .parts = &rev->parts,
                             .matrix = rev->matrix};
    struct store_made made;

    if (rev->type == STORE_EV_PROC_ADD) {
        f->procs = xreallocarray(f->procs, f->nprocs + 1U, sizeof(*f->procs));
        f->names = xreallocarray(f->names, f->nprocs + 1U, sizeof(*f->names));
        memset(&f->names[f->nprocs], 0, sizeof(f->names[0]));
        f->procs[f->nprocs++] =
            replay_proc_add(rs, f, (int32_t)rev->i, ev.str != NULL ? ev.str : "");
        return;
    }
    if ((fields & RECORD_HAS_THREAD) != 0 && rev->type != STORE_EV_THREAD_ADD) {
        ev.thread = replay_thread(f, rev->thread);
        if (ev.thread == NULL) {
            return; /* a thread the store refused (too many) */
        }
        proc = f->thread_proc[rev->thread];
    }
    if ((fields & (RECORD_HAS_PROC | RECORD_HAS_THREAD)) != 0) {
        ev.proc = replay_proc(f, proc);
        if (ev.proc == NULL) {
            return;
        }
    }
    if ((fields & RECORD_NAMES_ID) != 0) {
        ev.id = replay_name(f, proc, rev->id);
    }
    if ((fields & RECORD_NAMES_AUX) != 0) {
        ev.aux = replay_name(f, proc, rev->aux);
    }
    if ((fields & RECORD_NAMES_PATH) != 0) {
        for (uint32_t k = 0; k < rev->depth; k++) {
            rs->path[k] = replay_name(f, proc, rev->path[k]);
        }
        ev.path = rs->path;
    }
    if ((rev->type == STORE_EV_NAME &&
         !replay_key_ok(ev.proc, rev->id, "recording: name id out of range")) ||
        (rev->type == STORE_EV_THREAD_ADD &&
         !replay_key_ok(ev.proc, rev->thread, "recording: thread key out of range"))) {
        return;
    }
    if (rev->type == STORE_EV_THREAD_ADD && rev->thread < f->threads_cap &&
        f->threads[rev->thread] != NULL) {
        store_thread_exit(f->threads[rev->thread], ev.ts_ns); /* a key used again */
    }
    made = store_apply(rs->store, &ev);
    /* What the event made gets the file's number. */
    switch (rev->type) {
    case STORE_EV_NAME:
        if (rev->id >= f->names[proc].cap) {
            replay_names_grow(&f->names[proc], rev->id);
        }
        f->names[proc].map[rev->id] = made.id;
        break;
    case STORE_EV_THREAD_ADD:
        if (rev->thread >= f->threads_cap) {
            replay_threads_grow(f, rev->thread);
        }
        f->threads[rev->thread] = made.thread;
        f->thread_proc[rev->thread] = proc;
        break;
    case STORE_EV_THREAD_EXIT:
        f->threads[rev->thread] = NULL;
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
