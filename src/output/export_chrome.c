/* SPDX-License-Identifier: MIT */
/* Recording to Chrome trace JSON, streamed: one pass over the records, one trace event per
 * line, so a large recording needs no more memory than its string table. */
#include "src/output/export_chrome.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "src/base/xalloc.h"
#include "src/format/record.h"
#include "src/model/store.h"

#define EXPORT_KERNEL_TID_BASE 1000000000LL /* kernel tracks: far from real thread ids */

struct export_proc {
    int32_t pid;
    char **names; /* file name id -> string (owned) */
    uint32_t cap;
    uint32_t *tracks; /* backend name ids whose kernel track is named (owned) */
    uint32_t ntracks;
};

struct export_thread {
    uint32_t proc;
    int32_t tid;
    bool live;
};

struct export_state {
    FILE *out;
    uint64_t base_ns;
    long n;
    struct export_proc *procs;
    uint32_t nprocs;
    struct export_thread *threads;
    uint32_t threads_cap;
};

static void export_str(FILE *out, const char *s, size_t len)
{
    fputc('"', out);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c == '"' || c == '\\') {
            fputc('\\', out);
            fputc(c, out);
        } else if (c < 0x20) {
            fprintf(out, "\\u%04x", c);
        } else {
            fputc(c, out);
        }
    }
    fputc('"', out);
}

static const char *export_name(const struct export_state *x, uint32_t proc, uint32_t id)
{
    if (proc >= x->nprocs || id >= x->procs[proc].cap || x->procs[proc].names[id] == NULL) {
        return "?";
    }
    return x->procs[proc].names[id];
}

/* The common head of an event: {"ph":..,"pid":..,"tid":..,"ts":..; the caller closes it. */
static void export_head(struct export_state *x, char ph, int32_t pid, int64_t tid, uint64_t ts)
{
    double us =
        ts >= x->base_ns ? (double)(ts - x->base_ns) / 1000.0 : -(double)(x->base_ns - ts) / 1000.0;

    fprintf(x->out, "%s{\"ph\":\"%c\",\"pid\":%d,\"tid\":%lld,\"ts\":%.3f", x->n > 0 ? ",\n" : "",
            ph, (int)pid, (long long)tid, us);
    x->n++;
}

static void export_meta(struct export_state *x, const char *what, int32_t pid, int64_t tid,
                        const char *name, size_t len)
{
    fprintf(x->out, "%s{\"ph\":\"M\",\"name\":\"%s\",\"pid\":%d,\"tid\":%lld,\"args\":{\"name\":",
            x->n > 0 ? ",\n" : "", what, (int)pid, (long long)tid);
    export_str(x->out, name, len);
    fputs("}}", x->out);
    x->n++;
}

/* Name a process's kernel track of one backend ("kernels: cpu"), once. */
static void export_kernel_track(struct export_state *x, struct export_proc *p, uint32_t proc,
                                uint32_t backend)
{
    const char *b = export_name(x, proc, backend);
    char label[160];

    for (uint32_t i = 0; i < p->ntracks; i++) {
        if (p->tracks[i] == backend) {
            return;
        }
    }
    p->tracks = xreallocarray(p->tracks, p->ntracks + 1U, sizeof(*p->tracks));
    p->tracks[p->ntracks++] = backend;
    snprintf(label, sizeof(label), "kernels: %.140s", b);
    export_meta(x, "thread_name", p->pid, EXPORT_KERNEL_TID_BASE + backend, label, strlen(label));
}

static void export_record(struct export_state *x, const struct record_ev *ev)
{
    struct export_proc *p = ev->proc < x->nprocs ? &x->procs[ev->proc] : NULL;
    struct export_thread *t = ev->thread < x->threads_cap ? &x->threads[ev->thread] : NULL;
    const char *name;

    switch (ev->type) {
    case STORE_EV_PROC_ADD:
        x->procs = xreallocarray(x->procs, x->nprocs + 1U, sizeof(*x->procs));
        memset(&x->procs[x->nprocs], 0, sizeof(x->procs[0]));
        x->procs[x->nprocs++].pid = (int32_t)ev->i;
        /* An empty label now is a label later (STORE_EV_LABEL): one process_name each. */
        if (ev->str_len > 0) {
            export_meta(x, "process_name", (int32_t)ev->i, 0, ev->str, ev->str_len);
        }
        break;
    case STORE_EV_LABEL:
        if (p != NULL) {
            export_meta(x, "process_name", p->pid, 0, ev->str, ev->str_len);
        }
        break;
    case STORE_EV_NAME:
        if (p == NULL || ev->id >= (1U << 22)) {
            break;
        }
        if (ev->id >= p->cap) {
            uint32_t cap = p->cap ? p->cap : 256U;

            while (cap <= ev->id) {
                cap *= 2U;
            }
            p->names = xreallocarray(p->names, cap, sizeof(*p->names));
            memset(p->names + p->cap, 0, (cap - p->cap) * sizeof(*p->names));
            p->cap = cap;
        }
        free(p->names[ev->id]);
        p->names[ev->id] = xstrndup(ev->str, ev->str_len);
        break;
    case STORE_EV_THREAD_ADD:
        if (p == NULL || ev->thread >= (1U << 22)) {
            break;
        }
        if (ev->thread >= x->threads_cap) {
            uint32_t cap = x->threads_cap ? x->threads_cap : 64U;

            while (cap <= ev->thread) {
                cap *= 2U;
            }
            x->threads = xreallocarray(x->threads, cap, sizeof(*x->threads));
            memset(x->threads + x->threads_cap, 0, (cap - x->threads_cap) * sizeof(*x->threads));
            x->threads_cap = cap;
        }
        t = &x->threads[ev->thread];
        t->proc = ev->proc;
        t->tid = (int32_t)ev->i;
        t->live = true;
        if (ev->str != NULL) {
            export_meta(x, "thread_name", p->pid, t->tid, ev->str, ev->str_len);
        }
        break;
    case STORE_EV_THREAD_NAME:
        if (t != NULL && t->live && ev->str != NULL) {
            export_meta(x, "thread_name", x->procs[t->proc].pid, t->tid, ev->str, ev->str_len);
        }
        break;
    case STORE_EV_SPAN_BEGIN:
    case STORE_EV_SPAN_END:
        if (t == NULL || !t->live) {
            break;
        }
        name = export_name(x, t->proc, ev->id);
        export_head(x, ev->type == STORE_EV_SPAN_BEGIN ? 'B' : 'E', x->procs[t->proc].pid, t->tid,
                    ev->ts_ns);
        fputs(",\"name\":", x->out);
        export_str(x->out, name, strlen(name));
        fputs(",\"cat\":\"span\"}", x->out);
        break;
    case STORE_EV_THREAD_EXIT:
        if (t != NULL) {
            t->live = false;
        }
        break;
    case STORE_EV_KERNEL:
        if (p == NULL) {
            break;
        }
        /* One track per backend: kernels may overlap the spans that launched them. The
         * track is named after its backend the first time it is used. */
        export_kernel_track(x, p, ev->proc, ev->aux);
        name = export_name(x, ev->proc, ev->id);
        export_head(x, 'X', p->pid, EXPORT_KERNEL_TID_BASE + ev->aux, ev->ts_ns);
        fprintf(x->out, ",\"dur\":%.3f,\"name\":", (double)ev->a / 1000.0);
        export_str(x->out, name, strlen(name));
        fputs(",\"cat\":\"kernel\",\"args\":{\"backend\":", x->out);
        name = export_name(x, ev->proc, ev->aux);
        export_str(x->out, name, strlen(name));
        fputs("}}", x->out);
        break;
    case STORE_EV_COUNTER:
    case STORE_EV_GAUGE:
        if (p == NULL) {
            break;
        }
        name = export_name(x, ev->proc, ev->id);
        /* Gauges carry no time of their own: they are dated by the last time written. */
        export_head(x, 'C', p->pid, 0, ev->ts_ns != 0 ? ev->ts_ns : x->base_ns);
        fputs(",\"name\":", x->out);
        export_str(x->out, name, strlen(name));
        fprintf(x->out, ",\"args\":{\"%s\":%llu}}", ev->type == STORE_EV_GAUGE ? "bytes" : "value",
                (unsigned long long)ev->a);
        break;
    default:
        break;
    }
}

long export_chrome_trace(const void *data, size_t len, FILE *out, char **err)
{
    struct record_reader *rd = record_reader_new(data, len, err);
    struct export_state x;
    struct record_ev ev;
    uint64_t last_ts;
    int rc;

    if (rd == NULL) {
        return -EINVAL;
    }
    memset(&x, 0, sizeof(x));
    x.out = out;
    x.base_ns = record_reader_mono_ns(rd);
    last_ts = x.base_ns;
    fputs("{\"displayTimeUnit\":\"ms\",\"otherData\":{\"generator\":\"nctop " NCTOP_VERSION
          "\"},\"traceEvents\":[\n",
          out);
    while ((rc = record_reader_next(rd, &ev)) > 0) {
        if (ev.ts_ns != 0) {
            last_ts = ev.ts_ns;
        } else if (ev.type == STORE_EV_GAUGE) {
            ev.ts_ns = last_ts;
        }
        export_record(&x, &ev);
    }
    if (rc < 0) {
        *err = xasprintf("malformed record at byte offset %zu: converted up to it",
                         record_reader_offset(rd));
    } else if (!record_reader_clean_end(rd)) {
        *err = xstrdup("the recording is cut short (no end record): converted up to its end");
    }
    fputs("\n]}\n", out);
    record_reader_free(rd);
    for (uint32_t i = 0; i < x.nprocs; i++) {
        for (uint32_t k = 0; k < x.procs[i].cap; k++) {
            free(x.procs[i].names[k]);
        }
        free(x.procs[i].names);
        free(x.procs[i].tracks);
    }
    free(x.procs);
    free(x.threads);
    if (fflush(out) != 0 || ferror(out)) {
        return -EIO;
    }
    return x.n;
}
