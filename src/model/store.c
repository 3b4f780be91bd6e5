/* SPDX-License-Identifier: MIT */
/* The store: per process name table, latency tree built from per-thread span stacks,
 * kernels, step markers, counters and memory facts, with since-start and windowed stats. */
#include "src/model/store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/base/hash.h"
#include "src/base/xalloc.h"
#include "src/model/hist.h"
#include "src/model/matrix.h"
#include "src/model/store_gpu.h"
#include "src/model/store_internal.h"
#include "src/model/store_sys.h"

#define STORE_DEFAULT_WINDOW_NS 10000000000ULL
#define STORE_DEFAULT_SLOT_NS 1000000000ULL
#define STORE_DEFAULT_MAX_NODES 65536U
#define STORE_DEFAULT_MAX_DEPTH 256U
#define STORE_DEFAULT_MAX_THREADS 4096U
#define STORE_DEFAULT_MAX_NAMES (1U << 20)
#define STORE_DEFAULT_MAX_KERNELS 16384U
#define STORE_DEFAULT_EXITED_KEEP_NS (300ULL * 1000000000ULL)
#define STORE_DEFAULT_MAX_REQUESTS 4096U
#define STORE_REQ_MIN_CAP 16U
#define STORE_MAX_SLOTS 3600U /* a window of more slots costs too much per node */
#define STORE_FRAMES_MIN_CAP 16U
#define STORE_RATE_SAMPLES_PER_SLOT 10U /* counter samples are >= slot_ns / 10 apart */

/* --- small helpers ------------------------------------------------------------------------ */

/* Grow an array of elem_size-byte elements so that it holds at least need elements. */
static void *store_grow(void *v, uint32_t *cap, uint32_t need, size_t elem_size)
{
    uint32_t c = *cap ? *cap : 8U;

    if (need <= *cap) {
        return v;
    }
    while (c < need) {
        c *= 2U;
    }
    *cap = c;
    return xreallocarray(v, c, elem_size);
}

/* --- the hash map ------------------------------------------------------------------------- */

static uint32_t store_map_get(const struct store_map *m, uint64_t key)
{
    return hmap_get(&m->m, hash_u64(key));
}

/* Insert a key known to be absent. */
static void store_map_put(struct store_map *m, uint64_t key, uint32_t val)
{
    hmap_insert(&m->m, hash_u64(key), val);
}

static void store_map_done(struct store_map *m)
{
    hmap_free(&m->m);
}

/* --- the ingest clock and window slots --------------------------------------------------- */

/* Give a window slot back to the process's free list; its histogram keeps its storage, so
 * the next series to need a slot reuses it without allocating. */
static void store_slot_release(struct store_proc *p, struct store_slot *sl)
{
    hist_reset(&sl->h);
    sl->next_free = p->free_slots;
    p->free_slots = sl;
}

static struct store_slot *store_slot_acquire(struct store_proc *p, uint64_t epoch)
{
    struct store_slot *sl = p->free_slots;

    if (sl != NULL) {
        p->free_slots = sl->next_free;
    } else {
        sl = xmalloc(sizeof(*sl));
        hist_init(&sl->h);
    }
    sl->next_free = NULL;
    sl->epoch = epoch;
    sl->start_ns = epoch * p->slot_ns;
    return sl;
}

/* The extremes of win_closed: those of the slots it sums (a subtraction cannot know them). */
static void store_series_range(struct store_series *s, uint32_t nslots)
{
    uint64_t lo = UINT64_MAX;
    uint64_t hi = 0;

    if (s->win_closed.count == 0) {
        return;
    }
    for (uint32_t i = 0; i < nslots; i++) {
        const struct store_slot *sl = s->win[i];

        if (sl != NULL && sl != s->open && sl->h.count > 0) {
            lo = sl->h.min_ns < lo ? sl->h.min_ns : lo;
            hi = sl->h.max_ns > hi ? sl->h.max_ns : hi;
        }
    }
    hist_set_range(&s->win_closed, lo, hi);
}

/* A zeroed memo for a series' first windowed sample, next to the one handed out before. */
static struct store_series_memo *store_memo_new(struct store_proc *p)
{
    struct store_memo_chunk *c = p->memos;

    if (c == NULL || c->used == STORE_MEMO_CHUNK) {
        c = xcalloc(1, sizeof(*c));
        c->next = p->memos;
        p->memos = c;
    }
    return &c->m[c->used++];
}

/* Take slot i of s out of the ring and back to the free list; a closed slot's samples leave
 * win_closed (the caller sets its range). */
static void store_series_drop(struct store_proc *p, struct store_series *s, uint32_t i)
{
    struct store_slot *sl = s->win[i];

    if (sl == s->open) {
        hist_merge(&s->all_closed, &sl->h);
        s->open = NULL;
    } else {
        hist_sub(&s->win_closed, &sl->h);
    }
    store_slot_release(p, sl);
    s->win[i] = NULL;
}

/* Release the slots of s that fell out of the window ending in slot cur. */
static void store_series_sweep(struct store_proc *p, struct store_series *s, uint64_t cur)
{
    uint32_t nslots = p->st->nslots;
    bool gone = false;
    uint32_t i;

    if (s->win == NULL) {
        return;
    }
    for (i = 0; i < nslots; i++) {
        struct store_slot *sl = s->win[i];

        if (sl != NULL && sl->epoch + nslots <= cur) {
            store_series_drop(p, s, i);
            gone = true;
        }
    }
    if (gone) {
        store_series_range(s, nslots);
        s->gen++;
    }
}

/* Once per slot of ingest time: expired slots go back to the free list, so a node with no
 * recent samples holds only its ring of pointers. O(series * nslots) once per slot_ns. */
static void store_proc_sweep(struct store_proc *p)
{
    uint64_t cur = p->cur_slot;
    uint32_t i;

    for (i = 1; i < p->nnodes; i++) {
        store_series_sweep(p, &p->nodes[i].s, cur);
    }
    for (i = 0; i < p->nkernels; i++) {
        store_series_sweep(p, &p->kernels[i].s, cur);
    }
    store_series_sweep(p, &p->ttft, cur);
    store_series_sweep(p, &p->itl, cur);
    store_series_sweep(p, &p->e2e, cur);
    store_series_sweep(p, &p->iter, cur);
}

/* Advance the ingest clock to ts_ns and return the window slot of ts_ns. The common case (a
 * time inside the current slot) costs two compares instead of a 64-bit division. */
static uint64_t store_proc_tick(struct store_proc *p, uint64_t ts_ns)
{
    uint64_t slot_ns = p->st->cfg.slot_ns;
    uint64_t s;

    if (ts_ns > p->clock_ns) {
        p->clock_ns = ts_ns;
    }
    if (ts_ns >= p->cur_slot_start_ns && ts_ns - p->cur_slot_start_ns < slot_ns) {
        return p->cur_slot;
    }
    s = ts_ns / slot_ns;
    if (s > p->cur_slot) {
        p->cur_slot = s;
        p->cur_ring = (uint32_t)(s % p->st->nslots);
        p->cur_slot_start_ns = s * slot_ns;
        store_proc_sweep(p);
    }
    return s;
}

/* Record one sample v_ns of a series at time at_ns (which places it in the window): all but
 * the common case of store_series_add. */
__attribute__((noinline)) static void
store_series_add_slow(struct store_proc *p, struct store_series *s, uint64_t at_ns, uint64_t v_ns)
{
    uint32_t nslots = p->st->nslots;
    uint64_t slot = store_proc_tick(p, at_ns);
    uint32_t ri = (uint32_t)(slot % nslots);
    struct store_slot *sl;

    s->last_ns = v_ns;
    s->gen++;
    /* Older than every slot the ring can hold now: it counts since start only. */
    if (slot + nslots <= p->cur_slot) {
        hist_add(&s->all_closed, v_ns);
        return;
    }
    if (s->win == NULL) {
        s->win = xcalloc(nslots, sizeof(*s->win));
        s->memo = store_memo_new(p);
    }
    sl = s->win[ri];
    if (s->open == NULL || slot > s->open->epoch) {
        /* The series' latest slot: the one before it closes, and what held this ring
         * position is older than the window. */
        if (s->open != NULL) {
            hist_merge(&s->win_closed, &s->open->h);
            hist_merge(&s->all_closed, &s->open->h);
            s->open = NULL;
        }
        if (sl != NULL) {
            store_series_drop(p, s, ri);
            store_series_range(s, nslots);
        }
        sl = store_slot_acquire(p, slot);
        s->win[ri] = sl;
        s->open = sl;
        hist_add(&sl->h, v_ns);
        return;
    }
    if (sl == s->open) {
        hist_add(&sl->h, v_ns);
        return;
    }
    /* Later than a sample of a later slot (another thread's, or a kernel timed by its
     * caller): a closed slot. */
    if (sl != NULL && sl->epoch != slot) {
        /* A later slot already reuses this ring position: a sample that old is outside the
         * window of anything we will show. Otherwise recycle the expired slot in place. */
        if (sl->epoch > slot) {
            hist_add(&s->all_closed, v_ns);
            return;
        }
        store_series_drop(p, s, ri);
        store_series_range(s, nslots);
        sl = NULL;
    }
    if (sl == NULL) {
        sl = store_slot_acquire(p, slot);
        s->win[ri] = sl;
    }
    hist_add2(&sl->h, &s->win_closed, v_ns);
    hist_add(&s->all_closed, v_ns);
}

/* The common case of store_series_add, inline: a time inside the series' open slot (the
 * slot of its latest sample). One histogram: the slot's (since start takes it as it closes).
 * The slow path does the same there: the open slot is never later than the ingest clock's
 * (its epoch came from the clock's tick) and still in the window (a sweep as the clock moves
 * on drops what leaves it), so the clock needs no tick. */
static inline __attribute__((always_inline)) void
store_series_add(struct store_proc *p, struct store_series *s, uint64_t at_ns, uint64_t v_ns)
{
    struct store_slot *sl = s->open;

    /* (An at_ns before the slot's start wraps to far more than slot_ns.) */
    if (__builtin_expect(sl != NULL && at_ns - sl->start_ns < p->slot_ns, 1)) {
        if (at_ns > p->clock_ns) {
            p->clock_ns = at_ns;
        }
        s->last_ns = v_ns;
        s->gen++;
        hist_add(&sl->h, v_ns);
        return;
    }
    store_series_add_slow(p, s, at_ns, v_ns);
}

static void store_series_done(struct store_series *s, uint32_t nslots)
{
    uint32_t i;

    hist_done(&s->all_closed);
    hist_done(&s->win_closed);
    s->memo = NULL; /* the process's chunks hold it */
    s->open = NULL;
    if (s->win == NULL) {
        return;
    }
    for (i = 0; i < nslots; i++) {
        if (s->win[i] != NULL) {
            hist_done(&s->win[i]->h);
            free(s->win[i]);
        }
    }
    free(s->win);
    s->win = NULL;
}

/* Whether a slot belongs to the window that ends at now_slot. */
static bool store_slot_in_window(const struct store_slot *sl, uint64_t now_slot, uint32_t nslots)
{
    return sl != NULL && sl->epoch <= now_slot && sl->epoch + nslots > now_slot;
}

void store_series_window_parts(const struct store_proc *p, const struct store_series *s,
                               uint64_t now_ns, struct hist *scratch, const struct hist **a,
                               const struct hist **b)
{
    uint32_t nslots = p->st->nslots;
    uint64_t now_slot = now_ns / p->st->cfg.slot_ns;

    /* Every slot the ring holds lies in the window ending in the ingest clock's slot (the
     * sweep frees the others as the clock moves), so the closed slots and the open one are
     * that window (empty without a ring): the common case, decided without reading the ring.
     * Another window is it too when every slot held is in it. */
    *a = &s->win_closed;
    *b = s->open != NULL ? &s->open->h : NULL;
    if (now_slot == p->cur_slot || s->win == NULL) {
        return;
    }
    for (uint32_t i = 0; i < nslots; i++) {
        if (s->win[i] != NULL && !store_slot_in_window(s->win[i], now_slot, nslots)) {
            hist_reset(scratch);
            for (uint32_t k = 0; k < nslots; k++) {
                if (store_slot_in_window(s->win[k], now_slot, nslots)) {
                    hist_merge(scratch, &s->win[k]->h);
                }
            }
            *a = scratch;
            *b = NULL;
            return;
        }
    }
}

const struct hist *store_series_window_hist(const struct store_proc *p,
                                            const struct store_series *s, uint64_t now_ns,
                                            struct hist *scratch)
{
    const struct hist *a, *b;

    store_series_window_parts(p, s, now_ns, scratch, &a, &b);
    if (b == NULL || b->count == 0) {
        return a;
    }
    if (a->count == 0) {
        return b;
    }
    if (a != scratch) {
        hist_copy(scratch, a);
    }
    hist_merge(scratch, b);
    return scratch;
}

void store_series_window(const struct store_proc *p, const struct store_series *s, uint64_t now_ns,
                         struct hist *out)
{
    const struct hist *h = store_series_window_hist(p, s, now_ns, out);

    if (h != out) {
        hist_copy(out, h);
    }
}

uint64_t store_series_window_sum(const struct store_proc *p, const struct store_series *s,
                                 uint64_t now_ns, uint64_t *count)
{
    uint32_t nslots = p->st->nslots;
    uint64_t now_slot = now_ns / p->st->cfg.slot_ns;
    uint64_t sum = 0;
    uint64_t n = 0;
    uint32_t i;

    for (i = 0; s->win != NULL && i < nslots; i++) {
        if (store_slot_in_window(s->win[i], now_slot, nslots)) {
            sum += s->win[i]->h.sum_ns;
            n += s->win[i]->h.count;
        }
    }
    if (count != NULL) {
        *count = n;
    }
    return sum;
}

/* --- rates -------------------------------------------------------------------------------- */

/* Remember the point (t_ns, v); keep it as a sample when min_gap_ns passed since the last
 * sample, so the ring spans the whole window whatever the polling rate. */
void store_rate_add(struct store_rate *r, uint32_t cap, uint64_t t_ns, uint64_t v,
                    uint64_t min_gap_ns)
{
    uint32_t newest;

    if (r->have_last && v < r->last_val) {
        r->n = 0; /* the value went backwards (a restart): older samples mean nothing */
    }
    r->have_last = true;
    r->last_t_ns = t_ns;
    r->last_val = v;
    if (r->t_ns == NULL) {
        r->cap = cap;
        r->t_ns = xcalloc(cap, sizeof(*r->t_ns));
        r->val = xcalloc(cap, sizeof(*r->val));
    }
    if (r->n > 0) {
        newest = (r->head + r->n - 1U) % r->cap;
        if (t_ns < r->t_ns[newest] + min_gap_ns) {
            return;
        }
    }
    if (r->n == r->cap) {
        r->head = (r->head + 1U) % r->cap;
        r->n--;
    }
    r->t_ns[(r->head + r->n) % r->cap] = t_ns;
    r->val[(r->head + r->n) % r->cap] = v;
    r->n++;
}

bool store_rate_per_sec(const struct store_rate *r, uint64_t now_ns, uint64_t window_ns,
                        double *out_per_sec)
{
    uint64_t start_ns = now_ns > window_ns ? now_ns - window_ns : 0;
    uint32_t i;

    *out_per_sec = 0.0;
    if (!r->have_last || r->last_t_ns < start_ns) {
        return false;
    }
    /* The oldest sample inside the window, paired with the latest point. */
    for (i = 0; i < r->n; i++) {
        uint32_t k = (r->head + i) % r->cap;

        if (r->t_ns[k] >= start_ns && r->t_ns[k] < r->last_t_ns) {
            *out_per_sec =
                (double)(r->last_val - r->val[k]) * 1e9 / (double)(r->last_t_ns - r->t_ns[k]);
            return true;
        }
    }
    return false;
}

uint32_t store_rate_cap(const struct store *st)
{
    return st->nslots * STORE_RATE_SAMPLES_PER_SLOT + 2U;
}

uint64_t store_rate_gap_ns(const struct store *st)
{
    return st->cfg.slot_ns / STORE_RATE_SAMPLES_PER_SLOT;
}

void store_rate_done(struct store_rate *r)
{
    free(r->t_ns);
    free(r->val);
    memset(r, 0, sizeof(*r));
}

/* --- store -------------------------------------------------------------------------------- */

struct store *store_new(const struct store_config *cfg)
{
    struct store *st = xcalloc(1, sizeof(*st));
    uint64_t nslots;

    if (cfg != NULL) {
        st->cfg = *cfg;
    }
    if (st->cfg.slot_ns == 0) {
        st->cfg.slot_ns = STORE_DEFAULT_SLOT_NS;
    }
    if (st->cfg.window_ns == 0) {
        st->cfg.window_ns = STORE_DEFAULT_WINDOW_NS;
    }
    /* The window is a whole number of slots: round up, and bound the ring size. */
    nslots = (st->cfg.window_ns + st->cfg.slot_ns - 1) / st->cfg.slot_ns;
    if (nslots > STORE_MAX_SLOTS) {
        nslots = STORE_MAX_SLOTS;
    }
    st->nslots = (uint32_t)nslots;
    st->cfg.window_ns = nslots * st->cfg.slot_ns;
    if (st->cfg.max_nodes == 0) {
        st->cfg.max_nodes = STORE_DEFAULT_MAX_NODES;
    }
    if (st->cfg.max_depth == 0) {
        st->cfg.max_depth = STORE_DEFAULT_MAX_DEPTH;
    }
    if (st->cfg.max_threads == 0) {
        st->cfg.max_threads = STORE_DEFAULT_MAX_THREADS;
    }
    if (st->cfg.max_names == 0) {
        st->cfg.max_names = STORE_DEFAULT_MAX_NAMES;
    }
    if (st->cfg.exited_keep_ns == 0) {
        st->cfg.exited_keep_ns = STORE_DEFAULT_EXITED_KEEP_NS;
    }
    if (st->cfg.max_kernels == 0) {
        st->cfg.max_kernels = STORE_DEFAULT_MAX_KERNELS;
    }
    if (st->cfg.max_requests == 0) {
        st->cfg.max_requests = STORE_DEFAULT_MAX_REQUESTS;
    }
    /* The step span's name is the caller's: keep a copy for the store's lifetime. */
    if (st->cfg.step_span != NULL) {
        st->cfg.step_span = st->step_span = xstrdup(st->cfg.step_span);
    }
    return st;
}

static void store_thread_name(struct store_thread *t, const char *name);

static void store_thread_free(struct store_thread *t)
{
    free(t->frames - 1);
    for (uint32_t i = 0; i < STORE_NSRC; i++) {
        free(t->q[i].v);
    }
    free(t->held.v);
    free(t->shadow);
    free(t->inst);
    free(t);
}

/* The bytes a matrix's values and labels take (0 for none): what STORE_MATRIX_BYTES_MAX counts. */
static uint64_t store_matrix_bytes(const struct matrix *m)
{
    if (m == NULL) {
        return 0;
    }
    return (uint64_t)m->rows * m->cols * sizeof(float) +
           ((uint64_t)m->rows + m->cols) * MATRIX_LABEL_BYTES;
}

static void store_proc_free(struct store_proc *p)
{
    uint32_t nslots = p->st->nslots;
    struct store_slot *sl;
    uint32_t i;

    strtab_free(&p->names);
    for (i = 0; i < p->nnodes; i++) {
        store_series_done(&p->nodes[i].s, nslots);
    }
    free(p->nodes);
    store_map_done(&p->node_map);
    for (i = 0; i < p->nkernels; i++) {
        store_series_done(&p->kernels[i].s, nslots);
    }
    free(p->kernels);
    store_map_done(&p->kernel_map);
    free(p->gauges);
    store_map_done(&p->gauge_map);
    free(p->weights);
    store_map_done(&p->weight_map);
    for (i = 0; i < p->ncounters; i++) {
        store_rate_done(&p->counters[i].rate);
    }
    free(p->counters);
    store_map_done(&p->counter_map);
    free(p->values);
    for (i = 0; i < p->nmatrices; i++) {
        p->st->matrix_bytes -= store_matrix_bytes(p->matrices[i].m);
        matrix_unref(p->matrices[i].m);
    }
    free(p->insts);
    for (uint32_t k = 0; k < p->ninst_stats; k++) {
        hist_done(&p->inst_stats[k].dur);
        for (uint32_t j = 0; j < p->inst_stats[k].npasses; j++) {
            hist_done(&p->inst_stats[k].passes[j].dur);
        }
        free(p->inst_stats[k].passes);
    }
    free(p->inst_stats);
    store_map_done(&p->value_map);
    free(p->attrs);
    for (i = 0; i < p->nthreads; i++) {
        store_thread_free(p->threads[i]);
    }
    free(p->threads);
    store_series_done(&p->ttft, nslots);
    store_series_done(&p->itl, nslots);
    store_series_done(&p->e2e, nslots);
    store_series_done(&p->iter, nslots);
    hist_done(&p->req_prompt);
    hist_done(&p->req_gen);
    free(p->reqs.v);
    hmap_free(&p->reqs.idx);
    store_rate_done(&p->cpu);
    store_rate_done(&p->events_rate);
    store_sys_free(p->sys);
    store_gpu_proc_free(p->gpu);
    while ((sl = p->free_slots) != NULL) {
        p->free_slots = sl->next_free;
        hist_done(&sl->h);
        free(sl);
    }
    while (p->memos != NULL) {
        struct store_memo_chunk *c = p->memos;

        p->memos = c->next;
        free(c);
    }
    free(p->imports);
    free(p->mem_rows);
    free(p->label);
    free(p->reason);
    free(p);
}

void store_free(struct store *st)
{
    size_t i;

    if (st == NULL) {
        return;
    }
    for (i = 0; i < st->nprocs; i++) {
        store_proc_free(st->procs[i]);
    }
    free(st->procs);
    for (i = 0; i < st->nremoved; i++) {
        store_proc_free(st->removed[i]);
    }
    free(st->removed);
    store_gpus_free(st->gpus);
    store_power_free(st->power);
    free(st->step_span);
    free(st);
}

const struct store_config *store_config(const struct store *st)
{
    return &st->cfg;
}

/* --- processes ---------------------------------------------------------------------------- */

static struct store_proc *store_proc_add_apply(struct store *st, int32_t pid, const char *label)
{
    struct store_proc *p = xcalloc(1, sizeof(*p));

    p->st = st;
    p->slot_ns = st->cfg.slot_ns;
    p->pid = pid;
    p->label = xstrdup(label != NULL ? label : "");
    p->state = STORE_PROC_LIVE;
    strtab_init(&p->names, HASH_SEED);

    /* The virtual root: top-level spans of every thread are its children. */
    p->nodes = store_grow(NULL, &p->nodes_cap, 1, sizeof(*p->nodes));
    memset(&p->nodes[0], 0, sizeof(p->nodes[0]));
    p->nodes[0].parent = STORE_NONE;
    p->nodes[0].first_child = STORE_NONE;
    p->nodes[0].hint = STORE_NONE;
    p->nodes[0].last_child = STORE_NONE;
    p->nodes[0].next_sibling = STORE_NONE;
    p->nnodes = 1;
    hist_init(&p->req_prompt);
    hist_init(&p->req_gen);
    p->reqs.head = p->reqs.tail = p->reqs.free = STORE_NONE;

    if (st->nprocs == st->procs_cap) {
        st->procs_cap = st->procs_cap ? st->procs_cap * 2 : 8;
        st->procs = xreallocarray(st->procs, st->procs_cap, sizeof(*st->procs));
    }
    st->procs[st->nprocs++] = p;
    return p;
}

int store_proc_remove(struct store_proc *p, uint64_t now_ns)
{
    struct store *st = p->st;
    size_t i, keep;

    if (st->observer != NULL) {
        return -EBUSY;
    }
    if (p->state == STORE_PROC_LIVE) {
        return -EINVAL;
    }
    for (i = 0; i < st->nprocs && st->procs[i] != p; i++) {
        continue;
    }
    if (i == st->nprocs) {
        return -EINVAL;
    }
    /* Keep the order of the others: it is the display order. */
    memmove(&st->procs[i], &st->procs[i + 1], (st->nprocs - i - 1) * sizeof(*st->procs));
    st->nprocs--;

    /* Free what has been out of sight for the whole grace period. */
    for (keep = 0;
         keep < st->nremoved && now_ns - st->removed[keep]->removed_ns >= STORE_REMOVED_GRACE_NS;
         keep++) {
        store_proc_free(st->removed[keep]);
    }
    if (keep > 0) {
        memmove(st->removed, st->removed + keep, (st->nremoved - keep) * sizeof(*st->removed));
        st->nremoved -= keep;
    }
    if (st->nremoved == st->removed_cap) {
        st->removed_cap = st->removed_cap ? st->removed_cap * 2 : 8;
        st->removed = xreallocarray(st->removed, st->removed_cap, sizeof(*st->removed));
    }
    p->removed_ns = now_ns;
    st->removed[st->nremoved++] = p;
    return 0;
}

size_t store_nprocs(const struct store *st)
{
    return st->nprocs;
}

struct store_proc *store_proc_at(const struct store *st, size_t i)
{
    return i < st->nprocs ? st->procs[i] : NULL;
}

struct store_proc *store_proc_find(const struct store *st, int32_t pid)
{
    size_t i;

    for (i = st->nprocs; i > 0; i--) {
        if (st->procs[i - 1]->pid == pid) {
            return st->procs[i - 1];
        }
    }
    return NULL;
}

static void store_proc_set_label_apply(struct store_proc *p, const char *label)
{

    free(p->label);
    p->label = xstrdup(label != NULL ? label : "");
}

void store_proc_set_start_ticks(struct store_proc *p, uint64_t ticks)
{
    p->start_ticks = ticks;
}

uint64_t store_proc_start_ticks(const struct store_proc *p)
{
    return p->start_ticks;
}

int32_t store_proc_pid(const struct store_proc *p)
{
    return p->pid;
}

enum store_proc_state store_proc_state(const struct store_proc *p)
{
    return p->state;
}

void store_proc_set_replayed(struct store_proc *p)
{
    p->replayed = true;
}

bool store_proc_replayed(const struct store_proc *p)
{
    return p->replayed;
}

void store_proc_set_fleet(struct store_proc *p, enum store_fleet_role role)
{
    p->fleet = role;
}

enum store_fleet_role store_proc_fleet(const struct store_proc *p)
{
    return p->fleet;
}

bool store_proc_host_valid(const struct store_proc *p)
{
    return p->host_valid;
}

bool store_proc_host(const struct store_proc *p, uint64_t *rss_bytes, uint64_t *rss_peak_bytes,
                     uint64_t *cpu_time_ns)
{
    *rss_bytes = p->host_valid ? p->rss_bytes : 0;
    *rss_peak_bytes = p->host_valid ? p->rss_peak_bytes : 0;
    *cpu_time_ns = p->host_valid && p->cpu.have_last ? p->cpu.last_val : 0;
    return p->host_valid;
}

int32_t store_proc_ppid(const struct store_proc *p)
{
    return p->ppid;
}

bool store_proc_stepped(const struct store_proc *p)
{
    return p->stepped;
}

static void store_proc_set_state_apply(struct store_proc *p, enum store_proc_state state,
                                       const char *reason, uint64_t ts_ns)
{

    p->state = state;
    free(p->reason);
    p->reason = reason != NULL ? xstrdup(reason) : NULL;
    p->state_ts_ns = ts_ns;
}

/* store_internal.h */
void store_invalid(struct store_proc *p, uint64_t n, const char *reason)
{
    p->invalid += n;
    if (reason != NULL) {
        /* A fixed buffer: invalid input can arrive on the hot path, which must not allocate
         * (nor format: a corrupt table can send one reason per entry). */
        size_t len = strnlen(reason, sizeof(p->invalid_reason) - 1U);

        memcpy(p->invalid_reason, reason, len);
        p->invalid_reason[len] = '\0';
    }
}

/* --- names -------------------------------------------------------------------------------- */

/* The id of name, or 0 when it is not interned. */
static uint32_t store_name_find(const struct store_proc *p, const char *name)
{
    return strtab_find(&p->names, name, strlen(name));
}

/* Intern name; *made tells whether it is new (the observer sees only new names). */
static uint32_t store_name_apply(struct store_proc *p, const char *name, bool *made)
{
    uint32_t id = store_name_find(p, name);

    *made = false;
    if (id != 0) {
        return id;
    }
    if (strtab_count(&p->names) >= p->st->cfg.max_names) {
        store_invalid(p, 1, "name table full");
        return 0;
    }
    id = strtab_intern(&p->names, name, strlen(name));
    *made = id != 0;
    return id;
}

const char *store_proc_name(const struct store_proc *p, uint32_t id)
{
    return strtab_str(&p->names, id);
}

static bool store_proc_name_valid(const struct store_proc *p, uint32_t id)
{
    return id >= 1 && id <= strtab_count(&p->names);
}

/* --- facts -------------------------------------------------------------------------------- */

static void store_proc_set_dropped_apply(struct store_proc *p, uint64_t dropped_events)
{

    p->dropped = dropped_events;
}

static bool store_proc_set_loss_apply(struct store_proc *p, enum store_loss what, uint64_t n)
{
    if ((unsigned)what >= STORE_LOSS_NKINDS || what == STORE_LOSS_REQUEST_EVICTED ||
        p->losses[what] == n) {
        return false;
    }
    p->losses[what] = n;
    return true;
}

static void store_proc_set_host_apply(struct store_proc *p, uint64_t rss_bytes,
                                      uint64_t rss_peak_bytes, uint64_t cpu_time_ns,
                                      uint64_t now_ns)
{

    p->host_valid = true;
    p->rss_bytes = rss_bytes;
    p->rss_peak_bytes = rss_peak_bytes > rss_bytes ? rss_peak_bytes : rss_bytes;
    store_rate_add(&p->cpu, store_rate_cap(p->st), now_ns, cpu_time_ns,
                   p->st->cfg.slot_ns / STORE_RATE_SAMPLES_PER_SLOT);
}

static void store_gauge_set_apply(struct store_proc *p, uint32_t name, enum store_mem_kind kind,
                                  unsigned flags, uint64_t used_bytes, uint64_t capacity_bytes,
                                  uint64_t peak_bytes)
{
    uint32_t i;
    struct store_gauge *g;

    if (!store_proc_name_valid(p, name)) {
        store_invalid(p, 1, "gauge with an unknown name id");
        return;
    }
    if (kind < STORE_MEM_POOL || kind > STORE_MEM_OTHER) {
        store_invalid(p, 1, "gauge with an unknown memory kind");
        return;
    }
    i = store_map_get(&p->gauge_map, name);
    if (i == STORE_NONE) {
        i = p->ngauges++;
        p->gauges = store_grow(p->gauges, &p->gauges_cap, p->ngauges, sizeof(*p->gauges));
        memset(&p->gauges[i], 0, sizeof(p->gauges[i]));
        p->gauges[i].name = name;
        store_map_put(&p->gauge_map, name, i);
    }
    g = &p->gauges[i];
    g->kind = (uint16_t)kind;
    g->flags = (uint16_t)flags;
    g->used_bytes = used_bytes;
    g->capacity_bytes = capacity_bytes;
    /* The peak is the largest of what the source reports and what we saw. */
    if (peak_bytes > g->peak_bytes) {
        g->peak_bytes = peak_bytes;
    }
    if (used_bytes > g->peak_bytes) {
        g->peak_bytes = used_bytes;
    }
}

static void store_weight_set_apply(struct store_proc *p, uint32_t path, unsigned flags,
                                   uint64_t bytes)
{
    uint32_t i;

    if (!store_proc_name_valid(p, path)) {
        store_invalid(p, 1, "weight with an unknown path id");
        return;
    }
    i = store_map_get(&p->weight_map, path);
    if (i == STORE_NONE) {
        if (bytes == 0) {
            return;
        }
        i = p->nweights++;
        p->weights = store_grow(p->weights, &p->weights_cap, p->nweights, sizeof(*p->weights));
        p->weights[i].path = path;
        store_map_put(&p->weight_map, path, i);
    }
    p->weights[i].flags = flags;
    p->weights[i].bytes = bytes;
}

static void store_counter_set_apply(struct store_proc *p, uint32_t name, uint64_t value,
                                    uint64_t now_ns)
{
    uint32_t i;

    if (!store_proc_name_valid(p, name)) {
        store_invalid(p, 1, "counter with an unknown name id");
        return;
    }
    i = store_map_get(&p->counter_map, name);
    if (i == STORE_NONE) {
        i = p->ncounters++;
        p->counters = store_grow(p->counters, &p->counters_cap, p->ncounters, sizeof(*p->counters));
        memset(&p->counters[i], 0, sizeof(p->counters[i]));
        p->counters[i].name = name;
        store_map_put(&p->counter_map, name, i);
    }
    p->counters[i].value = value;
    store_rate_add(&p->counters[i].rate, store_rate_cap(p->st), now_ns, value,
                   p->st->cfg.slot_ns / STORE_RATE_SAMPLES_PER_SLOT);
}

static void store_proc_add_events_apply(struct store_proc *p, uint64_t n)
{

    p->events += n;
    /* Events carry their own times; the latest one dates this count. */
    if (p->clock_ns != 0) {
        store_rate_add(&p->events_rate, store_rate_cap(p->st), p->clock_ns, p->events,
                       p->st->cfg.slot_ns / STORE_RATE_SAMPLES_PER_SLOT);
    }
}

static void store_value_set_apply(struct store_proc *p, uint32_t name, uint32_t unit, double v,
                                  uint64_t ts_ns)
{
    uint32_t i;

    if (!store_proc_name_valid(p, name) || (unit != 0 && !store_proc_name_valid(p, unit))) {
        store_invalid(p, 1, "value with an unknown name id");
        return;
    }
    i = store_map_get(&p->value_map, name);
    if (i == STORE_NONE) {
        if (p->nvalues >= p->st->cfg.max_kernels) {
            store_invalid(p, 1, "too many values (max_kernels)");
            return;
        }
        i = p->nvalues++;
        p->values = store_grow(p->values, &p->values_cap, p->nvalues, sizeof(*p->values));
        p->values[i].name = name;
        store_map_put(&p->value_map, name, i);
    }
    p->values[i].unit = unit;
    p->values[i].v = v;
    p->values[i].ts_ns = ts_ns;
}

/* Take a snapshot: in place when nobody else holds the current one and the sizes are the
 * same (the common case: one workload publishing the same matrix), else in a new one. */
static void store_matrix_apply(struct store_proc *p, uint32_t name, uint32_t unit,
                               const struct matrix *in, uint64_t ts_ns)
{
    struct store_matrix *e = NULL;
    struct matrix *m;
    uint64_t old;

    if (!store_proc_name_valid(p, name) || (unit != 0 && !store_proc_name_valid(p, unit)) ||
        in == NULL || in->rows == 0 || in->cols == 0 || in->rows > MATRIX_DIM_MAX ||
        in->cols > MATRIX_DIM_MAX) {
        store_invalid(p, 1, "matrix with an unknown name id or a bad size");
        return;
    }
    for (uint32_t i = 0; i < p->nmatrices; i++) {
        if (p->matrices[i].name == name) {
            e = &p->matrices[i];
        }
    }
    if (e == NULL && p->nmatrices >= STORE_MAX_MATRICES) {
        store_invalid(p, 1, "too many matrices (STORE_MAX_MATRICES)");
        return;
    }
    m = e != NULL ? e->m : NULL;
    if (m == NULL || matrix_shared(m) || m->rows != in->rows || m->cols != in->cols) {
        old = store_matrix_bytes(m);
        if (p->st->matrix_bytes - old + store_matrix_bytes(in) > STORE_MATRIX_BYTES_MAX) {
            store_invalid(p, 1, "matrix memory limit (STORE_MATRIX_BYTES_MAX)");
            return;
        }
        m = matrix_new(in->rows, in->cols);
        if (e == NULL) {
            e = &p->matrices[p->nmatrices++];
            e->name = name;
        } else {
            matrix_unref(e->m);
        }
        p->st->matrix_bytes = p->st->matrix_bytes - old + store_matrix_bytes(m);
        e->m = m;
    }
    matrix_copy(m, in);
    e->unit = unit;
    e->ts_ns = ts_ns;
    e->updates++;
}

static bool store_attr_set_apply(struct store_proc *p, uint32_t key, uint32_t value)
{
    uint32_t i;

    if (!store_proc_name_valid(p, key) || (value != 0 && !store_proc_name_valid(p, value))) {
        store_invalid(p, 1, "attribute with an unknown name id");
        return true;
    }
    for (i = 0; i < p->nattrs && p->attrs[i].key != key; i++) {
        continue;
    }
    if (i < p->nattrs && p->attrs[i].value == value) {
        return false;
    }
    if (value == 0) {
        if (i < p->nattrs) {
            memmove(&p->attrs[i], &p->attrs[i + 1], (p->nattrs - i - 1U) * sizeof(*p->attrs));
            p->nattrs--;
        }
        return true;
    }
    if (i == p->nattrs) {
        if (p->nattrs >= STORE_MAX_ATTRS) {
            store_invalid(p, 1, "too many attributes");
            return true;
        }
        p->attrs = store_grow(p->attrs, &p->attrs_cap, p->nattrs + 1U, sizeof(*p->attrs));
        p->attrs[p->nattrs++].key = key;
    }
    p->attrs[i].value = value;
    return true;
}

const char *store_proc_attr(const struct store_proc *p, const char *key)
{
    uint32_t id = strtab_find(&p->names, key, strlen(key));

    for (uint32_t i = 0; id != 0 && i < p->nattrs; i++) {
        if (p->attrs[i].key == id) {
            return store_proc_name(p, p->attrs[i].value);
        }
    }
    return NULL;
}

/* --- threads ------------------------------------------------------------------------------ */

#define STORE_QUEUE_MAX (1U << 18) /* ops waiting per source and thread; beyond, the oldest go */
#define STORE_HELD_MAX (1U << 16)  /* ops held by a resync; beyond, they are dropped */

static void store_thread_flush(struct store_thread *t, uint64_t limit_ns, uint32_t max);

static struct store_thread *store_thread_add_apply(struct store_proc *p, int32_t tid,
                                                   const char *name)
{
    struct store_thread *t;

    if (p->nthreads >= p->st->cfg.max_threads) {
        store_invalid(p, 1, "too many threads");
        return NULL;
    }
    t = xcalloc(1, sizeof(*t));
    t->proc = p;
    t->tid = tid;
    store_thread_name(t, name);
    t->frames_cap =
        STORE_FRAMES_MIN_CAP < p->st->cfg.max_depth ? STORE_FRAMES_MIN_CAP : p->st->cfg.max_depth;
    /* A frame before the first, never written: its node is the root (a begin's parent at
     * depth 0) and its name STORE_NONE, which no end can name (a table of 2^32 - 1 names
     * does not fit in memory): store_batch reads both without checking the depth. */
    t->frames = (struct store_frame *)xcalloc(t->frames_cap + 1U, sizeof(*t->frames)) + 1;
    t->frames[-1].node = STORE_ROOT;
    t->frames[-1].name = STORE_NONE;
    p->threads = store_grow(p->threads, &p->threads_cap, p->nthreads + 1U, sizeof(*p->threads));
    t->index = p->nthreads;
    p->threads[p->nthreads++] = t;

    return t;
}

static void store_thread_name(struct store_thread *t, const char *name)
{
    snprintf(t->name, sizeof(t->name), "%s", name != NULL ? name : "");
}

/* t is gone (store_apply has applied what waited for it, then told the observer). */
static void store_thread_exit_apply(struct store_thread *t)
{
    struct store_proc *p = t->proc;
    struct store_thread *last;

    if (t->parked) {
        p->nparked--;
    }
    if (t->depth + t->overflow > 0) {
        store_invalid(p, t->depth + t->overflow, "span still open at thread exit");
    }
    /* Swap-remove keeps the live list dense; the moved thread learns its new index. */
    last = p->threads[p->nthreads - 1U];
    p->threads[t->index] = last;
    last->index = t->index;
    p->nthreads--;
    store_thread_free(t);
}

struct store_thread *store_thread_share(struct store_proc *p, int32_t tid, const char *name,
                                        enum store_src src)
{
    uint8_t bit = (uint8_t)(1U << src);
    struct store_thread *t;

    /* Only a thread the other source holds (or left for the probes): two slots of one source
     * naming the same tid (a buggy or hostile segment) get a thread each, so that one's
     * unshare never frees the other's. */
    for (uint32_t i = 0; i < p->nthreads; i++) {
        t = p->threads[i];
        if (t->tid == tid && (t->holders != 0 || t->parked) && (t->holders & bit) == 0) {
            if (t->parked) {
                t->parked = false;
                p->nparked--;
            }
            t->holders |= bit;
            if (name != NULL && name[0] != '\0' && strcmp(t->name, name) != 0) {
                store_thread_set_name(t, name);
            }
            return t;
        }
    }
    t = store_thread_add(p, tid, name);
    if (t != NULL) {
        t->holders = bit;
    }
    return t;
}

static bool store_proc_probed(const struct store_proc *p);
static uint64_t store_proc_limit(const struct store_proc *p);

void store_thread_unshare(struct store_thread *t, enum store_src src, uint64_t ts_ns)
{
    struct store_proc *p;
    bool other;

    if (t == NULL) {
        return;
    }
    p = t->proc;
    t->holders &= (uint8_t) ~(1U << src);
    if (t->holders != 0) {
        return;
    }
    /* The other source may still have events of the thread on their way, dated before now
     * (the thread, or a short command, just ended): it waits for them, and for the other
     * source's thread of that tid to join it, until both sources are past ts_ns. */
    other = src == STORE_SRC_OWN ? store_proc_probed(p) : p->own_source;
    if (other && store_proc_limit(p) <= ts_ns) {
        t->parked = true;
        t->parked_ns = ts_ns;
        p->nparked++;
        return;
    }
    store_thread_exit(t, ts_ns);
}

/* a + b, held at the int64 limits: a workload's deltas are untrusted, and signed overflow
 * is undefined behaviour. */
static int64_t store_add_sat(int64_t a, int64_t b)
{
    int64_t r;

    if (__builtin_add_overflow(a, b, &r)) {
        return b > 0 ? INT64_MAX : INT64_MIN;
    }
    return r;
}

/* --- op queues ---------------------------------------------------------------------------- */

static void store_opq_push(struct store_opq *q, const struct store_op *op)
{
    if (q->n == q->cap) {
        uint32_t cap = q->cap != 0 ? q->cap * 2U : 64U;
        struct store_op *v = xcalloc(cap, sizeof(*v));

        for (uint32_t i = 0; i < q->n; i++) {
            v[i] = q->v[(q->head + i) & (q->cap - 1U)];
        }
        free(q->v);
        q->v = v;
        q->cap = cap;
        q->head = 0;
    }
    q->v[(q->head + q->n) & (q->cap - 1U)] = *op;
    q->n++;
}

/* The oldest op of a non-empty queue, taken out. */
static struct store_op store_opq_pop(struct store_opq *q)
{
    struct store_op op = q->v[q->head];

    q->head = (q->head + 1U) & (q->cap - 1U);
    q->n--;
    return op;
}

/* --- spans -------------------------------------------------------------------------------- */

static uint32_t store_node_make(struct store_proc *p, uint32_t parent, uint32_t name);

/* A span begin whose node the full tree cannot make: it is folded into the top-level
 * "(other)" node (made past the cap, once), which then holds the time of every folded span;
 * inside a folded span its children get no node (their time is in it already). Counted.
 * STORE_NONE without counting when even the name cannot be had (the name table is full). */
static uint32_t store_node_fold(struct store_proc *p, uint32_t parent)
{
    if (p->other == 0) {
        uint32_t name = strtab_find(&p->names, STORE_OTHER_NAME, strlen(STORE_OTHER_NAME));

        if (name == 0) {
            name = strtab_intern(&p->names, STORE_OTHER_NAME, strlen(STORE_OTHER_NAME));
        }
        if (name == 0) {
            return STORE_NONE;
        }
        /* a top-level span of the workload's may have that name already: it is the row */
        p->other = store_map_get(&p->node_map, (uint64_t)STORE_ROOT << 32 | name);
        if (p->other == STORE_NONE) {
            p->other = store_node_make(p, STORE_ROOT, name);
        }
    }
    p->folded++;
    return parent == p->other ? STORE_NONE : p->other;
}

/* store_node_child past its hint: the hash map, and the node made at its first begin. */
__attribute__((noinline)) static uint32_t
store_node_child_slow(struct store_proc *p, uint32_t parent, uint32_t name, bool fold)
{
    uint64_t key = (uint64_t)parent << 32 | name;
    uint32_t i;

    i = store_map_get(&p->node_map, key);
    if (i != STORE_NONE) {
        return i;
    }
    /* nnodes counts the virtual root too. */
    if (p->nnodes > p->st->cfg.max_nodes || (p->other != 0 && parent == p->other)) {
        return fold ? store_node_fold(p, parent) : STORE_NONE;
    }
    return store_node_make(p, parent, name);
}

/* A new node: the child of parent named name. */
static uint32_t store_node_make(struct store_proc *p, uint32_t parent, uint32_t name)
{
    uint64_t key = (uint64_t)parent << 32 | name;
    uint32_t i = p->nnodes++;
    struct store_node *n;
    struct store_node *par;

    p->nodes = store_grow(p->nodes, &p->nodes_cap, p->nnodes, sizeof(*p->nodes));
    n = &p->nodes[i];
    memset(n, 0, sizeof(*n));
    n->name = name;
    n->parent = parent;
    n->first_child = STORE_NONE;
    n->last_child = STORE_NONE;
    n->next_sibling = STORE_NONE;
    n->hint = STORE_NONE;
    par = &p->nodes[parent];
    n->level = parent == STORE_ROOT ? 0 : (uint16_t)(par->level + 1U);
    /* Append to the parent's child list: siblings stay in first-seen order. */
    if (par->last_child == STORE_NONE) {
        par->first_child = i;
    } else {
        p->nodes[par->last_child].next_sibling = i;
    }
    par->last_child = i;
    par->nchildren++;
    store_map_put(&p->node_map, key, i);
    return i;
}

/* The child of parent named name, created at its first begin; when the tree is full, the
 * "(other)" node if fold (see store_node_fold), else STORE_NONE (also when the parent itself
 * could not be created). A loop begins the same children in the
 * same order each time, and siblings are kept in first-seen order: the child wanted is the
 * parent's hint (the one last looked up), its next sibling or the first child. */
static inline uint32_t store_node_child(struct store_proc *p, uint32_t parent, uint32_t name,
                                        bool fold)
{
    struct store_node *nodes = p->nodes;
    uint32_t h;

    if (parent == STORE_NONE) {
        return STORE_NONE;
    }
    h = nodes[parent].hint;
    if (__builtin_expect(h != STORE_NONE, 1)) {
        if (nodes[h].name == name) {
            return h;
        }
        h = nodes[h].next_sibling;
        if (h == STORE_NONE || nodes[h].name != name) {
            h = nodes[parent].first_child;
        }
    } else {
        h = nodes[parent].first_child;
    }
    if (h == STORE_NONE || nodes[h].name != name) {
        h = store_node_child_slow(p, parent, name, fold);
        if (h == STORE_NONE) {
            return h;
        }
    }
    p->nodes[parent].hint = h;
    return h;
}

/* Fill a frame just opened. */
static inline __attribute__((always_inline)) void
store_frame_set(struct store_frame *f, uint32_t node, uint32_t name, uint64_t ts_ns, uint8_t src)
{
    f->node = node;
    f->name = name;
    f->begin_ns = ts_ns;
    f->mem_bytes = 0;
    f->mem_touched = false;
    f->src = src;
}

/* Open a frame for node (there is room: depth < frames_cap). */
static inline __attribute__((always_inline)) void
store_frame_push(struct store_thread *t, uint32_t node, uint32_t name, uint64_t ts_ns, uint8_t src)
{
    store_frame_set(&t->frames[t->depth++], node, name, ts_ns, src);
}

static inline __attribute__((always_inline)) void
store_do_begin(struct store_thread *t, uint32_t name, uint64_t ts_ns, uint8_t src)
{
    struct store_proc *p = t->proc;
    uint32_t parent;
    uint32_t node;

    if (!store_proc_name_valid(p, name)) {
        store_invalid(p, 1, "span begin with an unknown name id");
        return;
    }
    if (t->overflow > 0 || t->depth >= p->st->cfg.max_depth) {
        /* Too deep: drop it, but remember it so that its end is not taken for the end of an
         * outer span with the same name. */
        t->overflow++;
        store_invalid(p, 1, "spans nested deeper than max_depth");
        return;
    }
    if (t->depth == t->frames_cap) {
        uint32_t cap = t->frames_cap != 0 ? t->frames_cap * 2U : STORE_FRAMES_MIN_CAP;

        t->frames =
            (struct store_frame *)xreallocarray(t->frames - 1, cap + 1U, sizeof(*t->frames)) + 1;
        t->frames_cap = cap;
    }
    parent = t->depth > 0 ? t->frames[t->depth - 1U].node : STORE_ROOT;
    node = store_node_child(p, parent, name, true);
    if (__builtin_expect(node == STORE_NONE, 0)) {
        if (p->other == 0) {
            if (parent != STORE_NONE) {
                store_invalid(p, 1, "latency tree full (max_nodes)");
            }
        } else if (parent == STORE_NONE) {
            p->folded++; /* deeper inside a folded span (its child was counted by the fold) */
        }
    }
    store_frame_push(t, node, name, ts_ns, src);
}

/* Record the instance of closed frame f (taken off the stack) ended at ts_ns; mem is its net
 * memory delta including its children's. */
static inline __attribute__((always_inline)) void store_frame_close(struct store_proc *p,
                                                                    const struct store_frame *f,
                                                                    int64_t mem, bool touched,
                                                                    uint64_t ts_ns)
{
    struct store_node *n;

    if (ts_ns < f->begin_ns) {
        store_invalid(p, 1, "span ends before it begins");
        return;
    }
    if (f->node == STORE_NONE) {
        return;
    }
    n = &p->nodes[f->node];
    store_series_add(p, &n->s, ts_ns, ts_ns - f->begin_ns);
    /* A scope whose allocations and releases cancel out still shows (net 0); once a node has
     * seen deltas, an instance without any is a last delta of 0. */
    if (touched || n->mem_seen) {
        if (!n->mem_seen || mem > n->mem_peak_bytes) {
            n->mem_peak_bytes = mem;
        }
        if (!n->mem_seen) {
            p->mem_scopes++;
        }
        n->mem_seen = true;
        n->mem_last_bytes = mem;
    }
}

static void store_inst_close(struct store_thread *t, uint32_t d, const struct store_frame *f,
                             int64_t mem, uint64_t ts_ns, int64_t status);

/* status: STORE_NO_STATUS for a plain end, else 0 (ok) or the name id of an error. */
#define STORE_NO_STATUS (-1)

static void store_do_end(struct store_thread *t, uint32_t name, uint64_t ts_ns, uint8_t src,
                         int64_t status)
{
    struct store_proc *p = t->proc;
    struct store_frame f;
    uint32_t d;
    int64_t mem = 0;
    bool touched = false, cross;

    /* The innermost open frame with this name; nearly always the top one. */
    for (d = t->depth; d > 0 && t->frames[d - 1U].name != name; d--) {
        continue;
    }
    if (d == 0 && t->overflow == 0 && src == STORE_SRC_PROBE) {
        /* A call that was running when its probe was attached: nothing to undo. */
        p->late_ends++;
        return;
    }
    if (t->overflow > 0) {
        /* The innermost begins were refused: this end closes one of them. */
        t->overflow--;
        return;
    }
    if (d == 0) {
        /* With nothing open this is the end of a span begun before nctop attached (or
         * before events were switched on): normal, not an error. With spans open, an end
         * that matches none of them is a bug in the workload. */
        if (t->depth > 0) {
            store_invalid(p, 1, "span end without a begin");
        } else {
            p->late_ends++;
        }
        return;
    }
    /* Only the other source's spans open inside it: the two streams cross (a probed
     * function returns inside a span it began, or a span ends inside a probed call). This
     * one closes; those stay open where they are in the tree. */
    cross = d < t->depth;
    for (uint32_t k = d; k < t->depth && cross; k++) {
        cross = t->frames[k].src != src;
    }
    if (cross) {
        f = t->frames[d - 1U];
        memmove(&t->frames[d - 1U], &t->frames[d], (t->depth - d) * sizeof(*t->frames));
        t->depth--;
        if (d >= 2U) {
            struct store_frame *up = &t->frames[d - 2U];

            up->mem_bytes = store_add_sat(up->mem_bytes, f.mem_bytes);
            up->mem_touched |= f.mem_touched;
        }
        store_frame_close(p, &f, f.mem_bytes, f.mem_touched, ts_ns);
        store_inst_close(t, d - 1U, &f, f.mem_bytes, ts_ns, status);
        return;
    }
    if (d < t->depth) {
        /* Frames opened inside this one never ended. Their memory deltas still happened
         * inside this span, so they fold into it. */
        uint32_t k;

        for (k = d; k < t->depth; k++) {
            mem = store_add_sat(mem, t->frames[k].mem_bytes);
            touched = touched || t->frames[k].mem_touched;
        }
        store_invalid(p, t->depth - d, "unmatched span");
    }
    t->depth = d - 1U;
    f = t->frames[d - 1U];
    mem = store_add_sat(mem, f.mem_bytes);
    touched = touched || f.mem_touched;

    /* Inclusive deltas: the parent frame's total includes this child's. */
    if (t->depth > 0) {
        t->frames[t->depth - 1U].mem_bytes = store_add_sat(t->frames[t->depth - 1U].mem_bytes, mem);
        t->frames[t->depth - 1U].mem_touched |= touched;
    }
    store_frame_close(p, &f, mem, touched, ts_ns);
    store_inst_close(t, d - 1U, &f, mem, ts_ns, status);
}

/* Close frame fr[d], just taken off a stack now d deep, ended at ts_ns. */
static inline __attribute__((always_inline)) void
store_frame_pop(struct store_proc *p, struct store_frame *fr, uint32_t d, uint64_t ts_ns)
{
    struct store_frame *f = &fr[d];

    /* Inclusive deltas: the parent frame's total includes this child's. An untouched frame
     * holds 0 (only a delta, or a child's that touched it, changes mem_bytes). */
    if (f->mem_touched && d >= 1U) {
        fr[d - 1U].mem_bytes = store_add_sat(fr[d - 1U].mem_bytes, f->mem_bytes);
        fr[d - 1U].mem_touched = true;
    }
    store_frame_close(p, f, f->mem_bytes, f->mem_touched, ts_ns);
}

/* store_do_end of a plain end (no status) in the common case, inline: it closes the
 * innermost frame, and no instance is open on the thread (so store_inst_close has nothing to
 * do). The rest goes to store_do_end. */
static inline __attribute__((always_inline)) void
store_do_end_top(struct store_thread *t, uint32_t name, uint64_t ts_ns, uint8_t src)
{
    uint32_t d = t->depth;

    if (__builtin_expect(
            d == 0 || t->frames[d - 1U].name != name || t->overflow != 0 || t->inst != NULL, 0)) {
        store_do_end(t, name, ts_ns, src, STORE_NO_STATUS);
        return;
    }
    t->depth = d - 1U;
    store_frame_pop(t->proc, t->frames, d - 1U, ts_ns);
}

/* --- instances: spans kept one by one (a compilation and its passes) ----------------------- */

static void store_inst_drop(struct store_thread *t)
{
    free(t->inst);
    t->inst = NULL;
}

/* The value of attribute key (a name) of instance in, 0 when it has none. */
static uint32_t store_inst_attr(const struct store_proc *p, const struct store_instance *in,
                                const char *key)
{
    uint32_t id = strtab_find(&p->names, key, strlen(key));

    for (uint32_t i = 0; id != 0 && i < in->nattrs; i++) {
        if (in->attrs[i].key == id) {
            return in->attrs[i].value;
        }
    }
    return 0;
}

/* A pass (name) of an instance counted in s took dur_ns: the last slot folds the names
 * beyond the bound (STORE_NONE). */
static void store_inst_pass_add(struct store_inst_stat *s, uint32_t name, uint64_t dur_ns)
{
    struct store_inst_pass *ps = NULL;

    for (uint32_t i = 0; i < s->npasses && ps == NULL; i++) {
        if (s->passes[i].name == name) {
            ps = &s->passes[i];
        }
    }
    if (ps == NULL && s->npasses >= STORE_INST_PASSES - 1U) {
        for (uint32_t i = 0; i < s->npasses && ps == NULL; i++) {
            if (s->passes[i].name == STORE_NONE) {
                ps = &s->passes[i];
            }
        }
        name = STORE_NONE;
    }
    if (ps == NULL) {
        if (s->passes == NULL) {
            s->passes = xcalloc(STORE_INST_PASSES, sizeof(*s->passes));
        }
        ps = &s->passes[s->npasses++];
        ps->name = name;
        hist_init(&ps->dur);
    }
    hist_add(&ps->dur, dur_ns);
}

/* Count an ended instance by its target, model and result. */
static void store_inst_count(struct store_proc *p, const struct store_instance *in)
{
    uint32_t target = store_inst_attr(p, in, "target"), model = store_inst_attr(p, in, "model");
    struct store_inst_stat *s = NULL;

    for (uint32_t i = 0; i < p->ninst_stats && s == NULL; i++) {
        if (p->inst_stats[i].target == target && p->inst_stats[i].model == model) {
            s = &p->inst_stats[i];
        }
    }
    if (s == NULL && p->ninst_stats >= STORE_MAX_INST_STATS - 1U) {
        /* The last entry folds what does not fit. */
        target = model = STORE_NONE;
        for (uint32_t i = 0; i < p->ninst_stats && s == NULL; i++) {
            if (p->inst_stats[i].target == STORE_NONE) {
                s = &p->inst_stats[i];
            }
        }
    }
    if (s == NULL) {
        if (p->inst_stats == NULL) {
            p->inst_stats = xcalloc(STORE_MAX_INST_STATS, sizeof(*p->inst_stats));
        }
        s = &p->inst_stats[p->ninst_stats++];
        s->target = target;
        s->model = model;
        hist_init(&s->dur);
    }
    s->n[in->status]++;
    hist_add(&s->dur, in->end_ns - in->begin_ns);
    for (uint32_t c = 0; c < in->nchildren; c++) {
        const struct store_inst_child *ch = &in->children[c];

        if (ch->level == 1 && ch->node != STORE_NONE) {
            store_inst_pass_add(s, p->nodes[ch->node].name, ch->dur_ns);
        }
    }
}

/* Frame d of t (taken off the stack as f) closed at ts_ns: a span inside the open instance
 * joins it; the instance's own frame (or a span ended with a status) goes to the log. */
static void store_inst_close(struct store_thread *t, uint32_t d, const struct store_frame *f,
                             int64_t mem, uint64_t ts_ns, int64_t status)
{
    struct store_proc *p = t->proc;
    struct store_instance *in = t->inst;
    struct store_node *n = f->node != STORE_NONE ? &p->nodes[f->node] : NULL;

    if (ts_ns < f->begin_ns) {
        return; /* counted invalid by store_frame_close */
    }
    if (n != NULL && status >= 0) {
        if (status == 0) {
            n->ok++;
        } else {
            n->failed++;
            n->last_error = (uint32_t)status;
        }
    }
    if (in != NULL && d > t->inst_frame) {
        uint16_t level = (uint16_t)(d - t->inst_frame);
        struct store_inst_child *c = NULL;

        if (in->nchildren < STORE_INST_CHILDREN) {
            c = &in->children[in->nchildren++];
        } else {
            /* Full: the outer passes matter more than the inner ones; a span replaces the
             * deepest one kept when it is shallower. */
            in->children_lost++;
            for (uint32_t k = 0; k < in->nchildren; k++) {
                if (in->children[k].level > level &&
                    (c == NULL || in->children[k].level > c->level)) {
                    c = &in->children[k];
                }
            }
            if (c == NULL) {
                return;
            }
        }
        c->node = f->node;
        c->level = level;
        c->begin_ns = f->begin_ns;
        c->dur_ns = ts_ns - f->begin_ns;
        c->mem_bytes = mem;
        return;
    }
    if (in == NULL || d != t->inst_frame) {
        if (status < 0) {
            return; /* a plain span */
        }
        in = xcalloc(1, sizeof(*in));
    } else {
        t->inst = NULL;
    }
    in->node = f->node;
    in->name = f->name;
    in->status = status < 0 ? STORE_INST_NONE : status == 0 ? STORE_INST_OK : STORE_INST_FAILED;
    in->message = status > 0 ? (uint32_t)status : 0;
    in->begin_ns = f->begin_ns;
    in->end_ns = ts_ns;
    in->mem_net = mem;
    store_inst_count(p, in);
    if (p->insts == NULL) {
        p->insts = xcalloc(STORE_MAX_INSTANCES, sizeof(*p->insts));
    }
    p->insts[p->inst_next] = *in;
    p->inst_next = (p->inst_next + 1U) % STORE_MAX_INSTANCES;
    p->ninsts += p->ninsts < STORE_MAX_INSTANCES ? 1U : 0U;
    p->insts_total++;
    free(in);
}

/* An attribute of t's innermost open span: the outermost span given one is an instance. */
static void store_do_attr(struct store_thread *t, uint32_t key, uint32_t value)
{
    struct store_instance *in;
    uint32_t i;

    if (t->depth == 0 || !store_proc_name_valid(t->proc, key) ||
        !store_proc_name_valid(t->proc, value)) {
        store_invalid(t->proc, 1, "span attribute outside a span or with an unknown name id");
        return;
    }
    if (t->inst == NULL) {
        t->inst = xcalloc(1, sizeof(*t->inst));
        t->inst_frame = t->depth - 1U;
    }
    in = t->inst;
    for (i = 0; i < in->nattrs && in->attrs[i].key != key; i++) {
        continue;
    }
    if (i == in->nattrs) {
        if (in->nattrs == STORE_SPAN_ATTRS) {
            store_invalid(t->proc, 1, "more than 4 attributes on a span");
            return;
        }
        in->nattrs++;
    }
    in->attrs[i].key = key;
    in->attrs[i].value = value;
}

static void store_do_mem(struct store_thread *t, int64_t bytes)
{
    if (t->depth == 0) {
        return; /* outside any span: nothing to attribute it to */
    }
    if (t->inst != NULL) {
        t->inst->mem_run = store_add_sat(t->inst->mem_run, bytes);
        if (t->inst->mem_run > t->inst->mem_peak) {
            t->inst->mem_peak = t->inst->mem_run;
        }
    }
    t->frames[t->depth - 1U].mem_bytes = store_add_sat(t->frames[t->depth - 1U].mem_bytes, bytes);
    t->frames[t->depth - 1U].mem_touched = true;
}

/* Events of source src were lost (STORE_NSRC: of both): the open spans' begins or ends may
 * be among them, so none of them can be timed. Forget them; the ends still to come find no
 * span and are ignored like ends seen right after attaching. The loss itself is counted as
 * drops. The other source's spans stay open: its events were not lost. */
static void store_do_gap(struct store_thread *t, uint8_t src)
{
    uint32_t k = 0;

    for (uint32_t d = 0; d < t->depth; d++) {
        if (src < STORE_NSRC && t->frames[d].src != src) {
            t->frames[k++] = t->frames[d];
        }
    }
    t->depth = k;
    t->overflow = 0;
    if (t->inst != NULL && t->inst_frame >= k) {
        store_inst_drop(t); /* its span's end will not be seen */
    }
}

/* What a thread event does to its thread (store_apply's, and the span path's when nobody
 * observes). */
static void store_thread_effect(struct store_thread *t, enum store_event_type type, uint32_t name,
                                uint32_t aux, int64_t bytes, uint64_t ts_ns)
{
    switch (type) {
    case STORE_EV_SPAN_BEGIN:
    case STORE_EV_PROBE_BEGIN:
        store_do_begin(t, name, ts_ns,
                       type == STORE_EV_SPAN_BEGIN ? STORE_SRC_OWN : STORE_SRC_PROBE);
        break;
    case STORE_EV_SPAN_END:
    case STORE_EV_PROBE_END:
        store_do_end(t, name, ts_ns, type == STORE_EV_SPAN_END ? STORE_SRC_OWN : STORE_SRC_PROBE,
                     STORE_NO_STATUS);
        break;
    case STORE_EV_SPAN_STATUS:
        store_do_end(t, name, ts_ns, STORE_SRC_OWN, aux);
        break;
    case STORE_EV_SPAN_ATTR:
        store_do_attr(t, name, aux);
        break;
    case STORE_EV_MEM_DELTA:
        store_do_mem(t, bytes);
        break;
    case STORE_EV_THREAD_GAP:
    case STORE_EV_THREAD_GAP_ALL:
        store_do_gap(t, type == STORE_EV_THREAD_GAP ? STORE_SRC_OWN : STORE_NSRC);
        break;
    default:
        break;
    }
}

/* An op of t takes effect. With an observer it goes through the store's one door
 * (store_apply); without one, the event need not exist (building it costs more than what it
 * does): straight to the same effect store_apply has. */
static void store_do_op(struct store_thread *t, const struct store_op *op)
{
    bool own = op->src == STORE_SRC_OWN;
    struct store_event ev;

    if (__builtin_expect(t->proc->st->observer == NULL, 1)) {
        switch (op->type) {
        case STORE_OP_BEGIN:
            store_do_begin(t, op->name, op->ts_ns, op->src);
            break;
        case STORE_OP_END:
            store_do_end_top(t, op->name, op->ts_ns, op->src);
            break;
        case STORE_OP_STATUS:
            store_do_end(t, op->name, op->ts_ns, op->src, op->bytes);
            break;
        case STORE_OP_ATTR:
            store_do_attr(t, op->name, (uint32_t)op->bytes);
            break;
        case STORE_OP_MEM:
            store_do_mem(t, op->bytes);
            break;
        case STORE_OP_GAP:
            store_do_gap(t, op->src);
            break;
        default:
            break;
        }
        return;
    }
    memset(&ev, 0, sizeof(ev));
    switch (op->type) {
    case STORE_OP_BEGIN:
        ev.type = own ? STORE_EV_SPAN_BEGIN : STORE_EV_PROBE_BEGIN;
        break;
    case STORE_OP_END:
        ev.type = own ? STORE_EV_SPAN_END : STORE_EV_PROBE_END;
        break;
    case STORE_OP_MEM:
        ev.type = STORE_EV_MEM_DELTA;
        break;
    case STORE_OP_GAP:
        ev.type = own ? STORE_EV_THREAD_GAP : STORE_EV_THREAD_GAP_ALL;
        break;
    case STORE_OP_STATUS:
        ev.type = STORE_EV_SPAN_STATUS;
        ev.aux = (uint32_t)op->bytes;
        break;
    case STORE_OP_ATTR:
        ev.type = STORE_EV_SPAN_ATTR;
        ev.aux = (uint32_t)op->bytes;
        break;
    default:
        return;
    }
    ev.proc = t->proc;
    ev.thread = t;
    ev.id = op->name;
    ev.i = op->bytes;
    ev.ts_ns = op->ts_ns;
    store_apply(t->proc->st, &ev);
}

/* --- resync: a thread whose place in its stack is unknown ---------------------------------- */

/* Forget what is held at ts_ns (it was inside a span whose begin was not seen). */
static void store_held_drop(struct store_thread *t, uint32_t last_top, uint64_t ts_ns)
{
    t->held.head = 0;
    t->held.n = 0;
    t->shadow_depth = 0;
    t->last_top = last_top;
    t->unsynced_ns = ts_ns;
}

static void store_thread_lose_place(struct store_thread *t, uint64_t ts_ns)
{
    struct store_op gap = {.type = STORE_OP_GAP, .src = STORE_NSRC, .ts_ns = ts_ns};

    store_do_op(t, &gap);
    t->unsynced = true;
    store_held_drop(t, 0, ts_ns);
}

/*
 * One event of an unsynced thread. Its spans are followed on a shadow stack of names, and
 * the events kept, until a begin with nothing open looks like the top level: the span that
 * last closed with nothing open begins again (the workload's loop: step after step), or no
 * span begun before has ended for STORE_RESYNC_WAIT_NS. Then what was kept is applied (it
 * all happened at the top level too) and the thread is synced. An end of the thread's own
 * source that matches nothing held closes a span begun before: all that was kept was inside
 * it and is dropped. A probe's unmatched end is a call entered while its probes were being
 * attached: only that call is not counted (what ran inside it stays, as it would had the
 * probe come a moment later).
 */
static void store_held_add(struct store_thread *t, const struct store_op *op)
{
    struct store_proc *p = t->proc;
    uint32_t d;

    switch (op->type) {
    case STORE_OP_BEGIN:
        if (t->shadow_depth == 0 &&
            (op->name == t->last_top || op->ts_ns >= t->unsynced_ns + STORE_RESYNC_WAIT_NS)) {
            t->unsynced = false;
            while (t->held.n > 0) {
                struct store_op held = store_opq_pop(&t->held);

                store_do_op(t, &held);
            }
            store_do_op(t, op);
            return;
        }
        if (t->held.n >= STORE_HELD_MAX || t->shadow_depth >= p->st->cfg.max_depth) {
            store_held_drop(t, 0, op->ts_ns);
        }
        if (t->shadow_depth == t->shadow_cap) {
            t->shadow =
                store_grow(t->shadow, &t->shadow_cap, t->shadow_depth + 1U, sizeof(*t->shadow));
        }
        t->shadow[t->shadow_depth++] = op->name;
        break;
    case STORE_OP_END:
    case STORE_OP_STATUS:
        for (d = t->shadow_depth; d > 0 && t->shadow[d - 1U] != op->name; d--) {
            continue;
        }
        if (d == 0) {
            if (op->src == STORE_SRC_OWN) {
                store_held_drop(t, op->name, op->ts_ns);
            }
            store_do_op(t, op); /* nothing is open: counted as a late end */
            return;
        }
        t->shadow_depth = d - 1U;
        if (d == 1U) {
            t->last_top = op->name;
        }
        break;
    default:
        if (t->shadow_depth == 0) {
            return; /* a delta inside a span not seen */
        }
        break;
    }
    store_opq_push(&t->held, op);
}

/* --- two sources -------------------------------------------------------------------------- */

/* Whether a probe source may still deliver events of p. */
static bool store_proc_probed(const struct store_proc *p)
{
    return p->st->probe_on && !p->probe_done;
}

/* Whether p's thread events wait until both sources have delivered up to their time. */
static bool store_proc_merging(const struct store_proc *p)
{
    return p->own_source && store_proc_probed(p);
}

/* The time before which every source of p has delivered all of p's events. */
static uint64_t store_proc_limit(const struct store_proc *p)
{
    const struct store *st = p->st;
    uint64_t limit = p->own_source ? p->own_ns : UINT64_MAX;

    if (store_proc_probed(p)) {
        uint64_t w = st->probe_ns;

        if (st->probe_idle != NULL) {
            uint64_t idle = st->probe_idle(st->probe_ctx);

            w = idle > w ? idle : w;
        }
        limit = w < limit ? w : limit;
    }
    return limit;
}

/* Apply an op that reached the thread in time order. */
static void store_thread_apply(struct store_thread *t, const struct store_op *op)
{
    if (op->type == STORE_OP_RESYNC) {
        store_thread_lose_place(t, op->ts_ns);
    } else if (op->type == STORE_OP_GAP) {
        if (t->unsynced) {
            store_held_drop(t, 0, op->ts_ns);
        } else {
            store_do_op(t, op);
        }
    } else if (t->unsynced) {
        store_held_add(t, op);
    } else {
        store_do_op(t, op);
    }
}

/* Apply at most max waiting ops of t dated before limit_ns, the oldest of the two queues
 * first (each is in its source's order already). */
static void store_thread_flush(struct store_thread *t, uint64_t limit_ns, uint32_t max)
{
    struct store_opq *own = &t->q[STORE_SRC_OWN], *probe = &t->q[STORE_SRC_PROBE];

    for (uint32_t i = 0; i < max && own->n + probe->n > 0; i++) {
        struct store_opq *q =
            probe->n == 0 || (own->n != 0 && own->v[own->head].ts_ns <= probe->v[probe->head].ts_ns)
                ? own
                : probe;
        struct store_op op;

        if (limit_ns != UINT64_MAX && q->v[q->head].ts_ns >= limit_ns) {
            break;
        }
        op = store_opq_pop(q);
        t->proc->queued--;
        store_thread_apply(t, &op);
    }
}

static void store_proc_flush(struct store_proc *p)
{
    uint64_t limit;

    if (p->queued == 0 && p->nparked == 0) {
        return;
    }
    limit = store_proc_limit(p);
    for (uint32_t i = p->nthreads; i > 0; i--) {
        struct store_thread *t = p->threads[i - 1U];

        store_thread_flush(t, limit, UINT32_MAX);
        /* Both sources are past the moment it was let go: nothing more comes for it. */
        if (t->parked && limit > t->parked_ns) {
            store_thread_exit(t, t->parked_ns);
        }
    }
}

/* One event of t from src: applied at once when nothing waits, else queued behind. */
static void store_thread_op(struct store_thread *t, uint8_t type, uint8_t src, uint32_t name,
                            int64_t bytes, uint64_t ts_ns)
{
    struct store_op op = {.ts_ns = ts_ns, .bytes = bytes, .name = name, .type = type, .src = src};
    struct store_proc *p;

    if (t == NULL) {
        return;
    }
    p = t->proc;
    t->last_ns[src] = ts_ns;
    if (!store_proc_merging(p) && t->q[STORE_SRC_OWN].n + t->q[STORE_SRC_PROBE].n == 0) {
        store_thread_apply(t, &op);
        return;
    }
    if (t->q[src].n >= STORE_QUEUE_MAX) {
        /* The other source has been silent for too long to wait for: the oldest goes. */
        store_thread_flush(t, UINT64_MAX, 1);
    }
    store_opq_push(&t->q[src], &op);
    p->queued++;
    if (!store_proc_merging(p)) {
        store_thread_flush(t, store_proc_limit(p), UINT32_MAX);
    }
}

void store_thread_gap(struct store_thread *t)
{
    if (t != NULL) {
        store_thread_op(t, STORE_OP_GAP, STORE_SRC_OWN, 0, 0, t->last_ns[STORE_SRC_OWN]);
    }
}

void store_thread_resync(struct store_thread *t, uint64_t ts_ns)
{
    store_thread_op(t, STORE_OP_RESYNC, STORE_SRC_OWN, 0, 0, ts_ns);
}

/* Whether an event of t would take effect at once and with no event built: nobody observes,
 * nothing waits for the other source and the thread knows its place in its stack. Then
 * store_thread_op goes straight to store_do_op's effect; the span calls take that path
 * inline. */
static inline bool store_thread_direct(const struct store_thread *t)
{
    const struct store_proc *p = t->proc;

    return p->st->observer == NULL && !t->unsynced &&
           t->q[STORE_SRC_OWN].n + t->q[STORE_SRC_PROBE].n == 0 && !store_proc_merging(p);
}

void store_span_begin(struct store_thread *t, uint32_t name, uint64_t ts_ns)
{
    if (__builtin_expect(t != NULL && store_thread_direct(t), 1)) {
        t->last_ns[STORE_SRC_OWN] = ts_ns;
        store_do_begin(t, name, ts_ns, STORE_SRC_OWN);
        return;
    }
    store_thread_op(t, STORE_OP_BEGIN, STORE_SRC_OWN, name, 0, ts_ns);
}

void store_span_end(struct store_thread *t, uint32_t name, uint64_t ts_ns)
{
    if (__builtin_expect(t != NULL && store_thread_direct(t), 1)) {
        t->last_ns[STORE_SRC_OWN] = ts_ns;
        store_do_end_top(t, name, ts_ns, STORE_SRC_OWN);
        return;
    }
    store_thread_op(t, STORE_OP_END, STORE_SRC_OWN, name, 0, ts_ns);
}

static void store_kernel_apply(struct store_proc *p, uint32_t name, uint32_t backend,
                               uint64_t start_ns, uint64_t dur_ns);

/* A few kernels run over and over: the hint by name finds them without the map (a hit was
 * checked, name and backend, when it was first seen). NULL: not the hinted one. */
static inline __attribute__((always_inline)) struct store_kernel *
store_kernel_hinted(struct store_proc *p, uint32_t name, uint32_t backend)
{
    uint32_t i = p->kernel_hint[name % STORE_KERNEL_HINTS];

    return i != 0 && p->kernels[i - 1U].name == name && p->kernels[i - 1U].backend == backend
               ? &p->kernels[i - 1U]
               : NULL;
}

/* What store_batch's loop checks a begin and an end against, kept in locals between the
 * calls that may change it (the general begin and end): a begin takes the fast path while the
 * depth stays under lim (0 while refused begins are open), an end while plain_end. */
struct store_batch_lim {
    uint32_t lim;
    bool plain_end;
};

static inline struct store_batch_lim store_batch_limits(const struct store_thread *t,
                                                        uint32_t max_depth)
{
    struct store_batch_lim l;

    l.lim = t->overflow != 0 ? 0 : max_depth < t->frames_cap ? max_depth : t->frames_cap;
    l.plain_end = t->overflow == 0 && t->inst == NULL;
    return l;
}

void store_batch(struct store_thread *t, const struct store_batch_ev *ev, size_t n)
{
    struct store_proc *p = t->proc;
    struct store_node *nodes;
    struct store_frame *fr;
    struct store_batch_lim l;
    uint32_t nnames, max_depth, d;
    uint64_t last = 0;
    size_t i;

    if (__builtin_expect(!store_thread_direct(t), 0)) {
        /* Each event may change what the next one needs (a queue drains, a source syncs). */
        for (i = 0; i < n; i++) {
            if (ev[i].kind == STORE_BATCH_BEGIN) {
                store_span_begin(t, ev[i].name, ev[i].ts_ns);
            } else if (ev[i].kind == STORE_BATCH_END) {
                store_span_end(t, ev[i].name, ev[i].ts_ns);
            } else {
                store_kernel(p, ev[i].name, ev[i].backend, ev[i].ts_ns, ev[i].dur_ns);
            }
        }
        return;
    }
    /* Direct stays direct: a begin, an end or a kernel taken straight to its effect changes
     * neither the observer, the queues, the thread's sync nor the probes' merge. The depth,
     * the frames and the limits live in locals: only the general begin and end (which get
     * the depth written back first, and are read again after) change them; closing a frame
     * and adding a kernel's sample touch the tree and the series, never the thread. */
    nnames = strtab_count(&p->names);
    max_depth = p->st->cfg.max_depth;
    nodes = p->nodes;
    d = t->depth;
    fr = t->frames;
    l = store_batch_limits(t, max_depth);
    for (i = 0; i < n; i++) {
        const struct store_batch_ev *e = &ev[i];
        uint32_t name = e->name;

        if (e->kind == STORE_BATCH_END) {
            last = e->ts_ns;
            if (__builtin_expect(fr[(ptrdiff_t)d - 1].name == name && l.plain_end, 1)) {
                store_frame_pop(p, fr, --d, e->ts_ns);
                continue;
            }
            t->depth = d;
            store_do_end(t, name, e->ts_ns, STORE_SRC_OWN, STORE_NO_STATUS);
        } else if (e->kind == STORE_BATCH_BEGIN) {
            last = e->ts_ns;
            if (__builtin_expect(name - 1U < nnames && d < l.lim, 1)) {
                uint32_t parent = fr[(ptrdiff_t)d - 1].node, h;

                if (__builtin_expect(parent != STORE_NONE, 1)) {
                    /* The child last begun there, or (a loop over siblings) the one after. */
                    h = nodes[parent].hint;
                    if (h != STORE_NONE && nodes[h].name != name) {
                        h = nodes[h].next_sibling;
                        nodes[parent].hint =
                            h != STORE_NONE && nodes[h].name == name ? h : nodes[parent].hint;
                    }
                    if (__builtin_expect(h != STORE_NONE && nodes[h].name == name, 1)) {
                        store_frame_set(&fr[d++], h, name, e->ts_ns, STORE_SRC_OWN);
                        continue;
                    }
                }
            }
            t->depth = d;
            store_do_begin(t, name, e->ts_ns, STORE_SRC_OWN);
        } else {
            /* A kernel run again (its hint hit), else the general path. */
            struct store_kernel *k = store_kernel_hinted(p, name, e->backend);

            if (__builtin_expect(k != NULL, 1)) {
                store_series_add(p, &k->s, e->ts_ns + e->dur_ns, e->dur_ns);
            } else {
                store_kernel_apply(p, name, e->backend, e->ts_ns, e->dur_ns);
            }
            continue;
        }
        /* After the general path: what it may have changed. */
        d = t->depth;
        fr = t->frames;
        nodes = p->nodes;
        l = store_batch_limits(t, max_depth);
    }
    t->depth = d;
    if (last != 0) {
        t->last_ns[STORE_SRC_OWN] = last;
    }
}

void store_span_end_status(struct store_thread *t, uint32_t name, uint32_t status, uint64_t ts_ns)
{
    store_thread_op(t, STORE_OP_STATUS, STORE_SRC_OWN, name, (int64_t)status, ts_ns);
}

void store_span_attr(struct store_thread *t, uint32_t key, uint32_t value, uint64_t ts_ns)
{
    store_thread_op(t, STORE_OP_ATTR, STORE_SRC_OWN, key, (int64_t)value, ts_ns);
}

void store_probe_begin(struct store_thread *t, uint32_t name, uint64_t ts_ns)
{
    store_thread_op(t, STORE_OP_BEGIN, STORE_SRC_PROBE, name, 0, ts_ns);
}

void store_probe_end(struct store_thread *t, uint32_t name, uint64_t ts_ns)
{
    store_thread_op(t, STORE_OP_END, STORE_SRC_PROBE, name, 0, ts_ns);
}

void store_mem_delta(struct store_thread *t, int64_t bytes, uint64_t ts_ns)
{
    store_thread_op(t, STORE_OP_MEM, STORE_SRC_OWN, 0, bytes, ts_ns);
}

void store_proc_own_source(struct store_proc *p, bool on)
{
    p->own_source = on;
    store_proc_flush(p);
}

void store_proc_own_time(struct store_proc *p, uint64_t ts_ns)
{
    p->own_ns = ts_ns > p->own_ns ? ts_ns : p->own_ns;
    store_proc_flush(p);
}

void store_probe_source(struct store *st, bool on, store_clock_fn idle, void *ctx)
{
    st->probe_on = on;
    st->probe_idle = on ? idle : NULL;
    st->probe_ctx = on ? ctx : NULL;
    for (size_t i = 0; i < st->nprocs; i++) {
        store_proc_flush(st->procs[i]);
    }
}

void store_probe_time(struct store *st, uint64_t ts_ns)
{
    st->probe_ns = ts_ns > st->probe_ns ? ts_ns : st->probe_ns;
    for (size_t i = 0; i < st->nprocs; i++) {
        store_proc_flush(st->procs[i]);
    }
}

void store_proc_probe_done(struct store_proc *p)
{
    p->probe_done = true;
    store_proc_flush(p);
}

/* --- kernels and markers ------------------------------------------------------------------ */

static void store_kernel_apply(struct store_proc *p, uint32_t name, uint32_t backend,
                               uint64_t start_ns, uint64_t dur_ns)
{
    uint64_t key = (uint64_t)name << 32 | backend;
    struct store_kernel *k;
    uint32_t i;

    if (!store_proc_name_valid(p, name) || !store_proc_name_valid(p, backend)) {
        store_invalid(p, 1, "kernel with an unknown name id");
        return;
    }
    k = store_kernel_hinted(p, name, backend);
    if (k != NULL) {
        store_series_add(p, &k->s, start_ns + dur_ns, dur_ns);
        return;
    }
    i = store_map_get(&p->kernel_map, key);
    if (i == STORE_NONE) {
        if (p->nkernels >= p->st->cfg.max_kernels) {
            store_invalid(p, 1, "kernel table full (max_kernels)");
            return;
        }
        i = p->nkernels++;
        p->kernels = store_grow(p->kernels, &p->kernels_cap, p->nkernels, sizeof(*p->kernels));
        memset(&p->kernels[i], 0, sizeof(p->kernels[i]));
        p->kernels[i].name = name;
        p->kernels[i].backend = backend;
        store_map_put(&p->kernel_map, key, i);
    }
    p->kernel_hint[name % STORE_KERNEL_HINTS] = i + 1U;
    /* The window holds a kernel by the time it finished, like spans. */
    store_series_add(p, &p->kernels[i].s, start_ns + dur_ns, dur_ns);
}

/* --- requests ------------------------------------------------------------------------------ */

/* The entry of request id, or STORE_NONE. */
static uint32_t store_req_find(const struct store_requests *r, uint64_t id)
{
    return hmap_get(&r->idx, hash_u64(id));
}

static void store_req_unlink(struct store_requests *r, uint32_t e)
{
    struct store_request *q = &r->v[e];

    if (q->prev != STORE_NONE) {
        r->v[q->prev].next = q->next;
    } else {
        r->head = q->next;
    }
    if (q->next != STORE_NONE) {
        r->v[q->next].prev = q->prev;
    } else {
        r->tail = q->prev;
    }
}

static void store_req_push_front(struct store_requests *r, uint32_t e)
{
    r->v[e].prev = STORE_NONE;
    r->v[e].next = r->head;
    if (r->head != STORE_NONE) {
        r->v[r->head].prev = e;
    } else {
        r->tail = e;
    }
    r->head = e;
}

/* Forget entry e (ended or evicted). */
static void store_req_remove(struct store_requests *r, uint32_t e)
{
    hmap_remove(&r->idx, hash_u64(r->v[e].id), NULL, NULL);
    store_req_unlink(r, e);
    r->v[e].next = r->free;
    r->free = e;
    r->n--;
}

/* Double the table (up to max): new entries go on the free list. */
static void store_req_grow(struct store_requests *r, uint32_t max)
{
    uint32_t cap = r->cap ? r->cap * 2U : STORE_REQ_MIN_CAP;
    uint32_t i;

    if (cap > max) {
        cap = max;
    }
    r->v = xreallocarray(r->v, cap, sizeof(*r->v));
    for (i = cap; i > r->cap; i--) {
        r->v[i - 1U].next = r->free;
        r->free = i - 1U;
    }
    r->cap = cap;
}

/* The entry of request id, created (as not begun) when absent; it becomes the most recently
 * active. A full table evicts the least recently active request, counted as a loss. */
static struct store_request *store_req_get(struct store_proc *p, uint64_t id, bool *created)
{
    struct store_requests *r = &p->reqs;
    uint32_t e = store_req_find(r, id);

    *created = false;
    if (e != STORE_NONE) {
        if (r->head != e) {
            store_req_unlink(r, e);
            store_req_push_front(r, e);
        }
        return &r->v[e];
    }
    if (r->free == STORE_NONE) {
        if (r->cap < p->st->cfg.max_requests) {
            store_req_grow(r, p->st->cfg.max_requests);
        } else {
            store_req_remove(r, r->tail);
            p->req_evicted++;
        }
    }
    e = r->free;
    r->free = r->v[e].next;
    memset(&r->v[e], 0, sizeof(r->v[e]));
    r->v[e].id = id;
    hmap_insert(&r->idx, hash_u64(id), e);
    store_req_push_front(r, e);
    r->n++;
    *created = true;
    return &r->v[e];
}

static void store_req_token(struct store_proc *p, struct store_request *q, uint64_t n,
                            uint64_t ts_ns)
{
    if (!q->have_token) {
        if (q->begun && ts_ns >= q->begin_ns) {
            store_series_add(p, &p->ttft, ts_ns, ts_ns - q->begin_ns);
        } else {
            store_proc_tick(p, ts_ns);
        }
        q->first_token_ns = ts_ns;
    } else if (ts_ns >= q->last_token_ns) {
        /* n tokens in one marker (a batch): the gap is shared by them. */
        store_series_add(p, &p->itl, ts_ns, (ts_ns - q->last_token_ns) / (n > 0 ? n : 1));
    }
    q->have_token = true;
    q->last_token_ns = ts_ns;
    q->gen_tokens += n;
    p->gen_tokens += n;
}

static void store_req_begin(struct store_proc *p, uint64_t id, uint64_t ts_ns)
{
    bool created;
    struct store_request *q = store_req_get(p, id, &created);

    store_proc_tick(p, ts_ns);
    if (!created && !q->begun && q->have_token && q->first_token_ns >= ts_ns) {
        /* Its tokens were read first (another thread's ring drained earlier): the request
         * is the same one, and its first token gives the TTFT after all. */
        q->begun = true;
        q->begin_ns = ts_ns;
        store_series_add(p, &p->ttft, q->first_token_ns, q->first_token_ns - ts_ns);
        return;
    }
    /* A new request with the id of one in flight replaces it (request 0 of a loop that
     * never ends its requests): no inter-token gap spans two requests. */
    q->first_token_ns = 0;
    q->last_token_ns = 0;
    q->prompt_tokens = 0;
    q->gen_tokens = 0;
    q->have_token = false;
    q->begun = true;
    q->begin_ns = ts_ns;
}

static void store_req_end(struct store_proc *p, uint64_t id, uint64_t status, uint64_t ts_ns)
{
    struct store_requests *r = &p->reqs;
    enum store_request_result res = status == 0   ? STORE_REQ_OK
                                    : status == 2 ? STORE_REQ_CANCELLED
                                                  : STORE_REQ_FAILED;
    uint32_t e = store_req_find(r, id);
    struct store_request *q;

    store_proc_tick(p, ts_ns);
    p->req_finished[res]++;
    if (e == STORE_NONE) {
        return; /* begun and silent since before we attached: counted, nothing to time */
    }
    q = &r->v[e];

    if (q->begun) {
        if (ts_ns >= q->begin_ns) {
            store_series_add(p, &p->e2e, ts_ns, ts_ns - q->begin_ns);
        }
        hist_add(&p->req_prompt, q->prompt_tokens);
        hist_add(&p->req_gen, q->gen_tokens);
    }
    store_req_remove(r, e);
}

void store_step(struct store_proc *p, enum store_step_kind kind, uint64_t n, uint64_t ts_ns)
{
    store_request_step(p, kind, 0, n, ts_ns);
}

static void store_request_step_apply(struct store_proc *p, enum store_step_kind kind,
                                     uint64_t request, uint64_t n, uint64_t ts_ns)
{
    bool created;

    p->stepped = true;
    switch (kind) {
    case STORE_STEP_REQUEST_BEGIN:
        p->requests = true;
        store_req_begin(p, request, ts_ns);
        break;
    case STORE_STEP_TOKEN:
        /* A TOKEN of an unknown request (attached mid-request) opens it without TTFT, so
         * inter-token latency still comes out. */
        p->requests = true;
        store_req_token(p, store_req_get(p, request, &created), n, ts_ns);
        break;
    case STORE_STEP_PROMPT_TOKENS:
        p->requests = true;
        store_req_get(p, request, &created)->prompt_tokens += n;
        p->prompt_tokens += n;
        store_proc_tick(p, ts_ns);
        break;
    case STORE_STEP_REQUEST_END:
        p->requests = true;
        store_req_end(p, request, n, ts_ns);
        break;
    case STORE_STEP_ITERATION:
        if (p->have_iter && ts_ns >= p->last_iter_ns) {
            store_series_add(p, &p->iter, ts_ns, ts_ns - p->last_iter_ns);
        } else {
            store_proc_tick(p, ts_ns);
        }
        p->have_iter = true;
        p->last_iter_ns = ts_ns;
        break;
    default:
        store_invalid(p, 1, "unknown step marker kind");
        break;
    }
}

/* --- imported statistics ------------------------------------------------------------------ */

static void store_node_import_apply(struct store_proc *p, const uint32_t *path, size_t depth,
                                    const struct store_import_stats *stats, uint64_t ts_ns)
{
    uint32_t node = STORE_ROOT;
    size_t i;

    if (depth == 0) {
        return;
    }
    for (i = 0; i < depth && node != STORE_NONE; i++) {
        if (!store_proc_name_valid(p, path[i])) {
            store_invalid(p, 1, "imported row with an unknown name id");
            return;
        }
        /* a row read back is refused, not folded: it has statistics of its own */
        node = store_node_child(p, node, path[i], false);
    }
    if (node == STORE_NONE) {
        store_invalid(p, 1, "latency tree full (max_nodes)");
        return;
    }
    store_proc_tick(p, ts_ns);
    if (p->nodes[node].import == 0) {
        /* Index 0 means "none", so the array starts at 1. */
        p->imports = store_grow(p->imports, &p->imports_cap, p->nimports + 2U, sizeof(*p->imports));
        p->nodes[node].import = ++p->nimports;
    }
    p->imports[p->nodes[node].import] = *stats;
}

static void store_mem_import_clear_apply(struct store_proc *p)
{
    p->nmem_rows = 0;
    p->mem_row_taken = false;
}

static void store_mem_import_apply(struct store_proc *p, uint16_t level, uint32_t label,
                                   unsigned flags, int64_t bytes, int64_t peak_bytes,
                                   uint64_t capacity_bytes)
{
    struct store_mem_row *m;

    p->mem_row_taken = false;
    if (!store_proc_name_valid(p, label)) {
        store_invalid(p, 1, "imported memory row with an unknown name id");
        return;
    }
    if (p->nmem_rows >= p->st->cfg.max_nodes) {
        store_invalid(p, 1, "too many imported memory rows (max_nodes)");
        return;
    }
    p->mem_rows =
        store_grow(p->mem_rows, &p->mem_rows_cap, p->nmem_rows + 1U, sizeof(*p->mem_rows));
    m = &p->mem_rows[p->nmem_rows++];
    m->level = level;
    m->label = label;
    m->flags = flags;
    m->bytes = bytes;
    m->peak_bytes = peak_bytes;
    m->capacity_bytes = capacity_bytes;
    m->has_parts = false;
    p->mem_row_taken = true;
}

static void store_mem_import_parts_apply(struct store_proc *p, const struct store_mem_parts *parts)
{
    if (!p->mem_row_taken) {
        return;
    }
    p->mem_rows[p->nmem_rows - 1U].has_parts = true;
    p->mem_rows[p->nmem_rows - 1U].parts = *parts;
}

void store_set_observer(struct store *st, store_observer_fn fn, void *ctx)
{
    st->observer = fn;
    st->observer_ctx = ctx;
}

/* --- the one door ----------------------------------------------------------------------- */

static bool store_event_has_thread(enum store_event_type type)
{
    switch (type) {
    case STORE_EV_THREAD_ADD:
        return false; /* it makes the thread */
    case STORE_EV_THREAD_NAME:
    case STORE_EV_THREAD_EXIT:
    case STORE_EV_THREAD_GAP:
    case STORE_EV_THREAD_GAP_ALL:
    case STORE_EV_SPAN_BEGIN:
    case STORE_EV_SPAN_END:
    case STORE_EV_PROBE_BEGIN:
    case STORE_EV_PROBE_END:
    case STORE_EV_MEM_DELTA:
    case STORE_EV_SPAN_STATUS:
    case STORE_EV_SPAN_ATTR:
        return true;
    default:
        return false;
    }
}

/* The machine's facts (GPUs, RAPL): no process. */
static bool store_event_machine(enum store_event_type type)
{
    return type == STORE_EV_GPUS || type == STORE_EV_GPU_POWER || type == STORE_EV_RAPL_ZONE ||
           type == STORE_EV_RAPL_STATE;
}

/* Apply one event; false when it changes nothing (the observer does not see it). */
static bool store_apply_one(struct store *st, const struct store_event *ev, struct store_made *made)
{
    struct store_proc *p = ev->proc;
    struct store_thread *t = ev->thread;

    switch (ev->type) {
    case STORE_EV_PROC_ADD:
        made->proc = store_proc_add_apply(st, (int32_t)ev->i, ev->str);
        return true;
    case STORE_EV_GPUS:
        return store_gpu_apply(st, ev);
    case STORE_EV_GPU_POWER:
        return store_gpu_power_apply(st, ev);
    case STORE_EV_RAPL_ZONE:
    case STORE_EV_RAPL_STATE:
        return store_power_apply(st, ev);
    case STORE_EV_THREAD_ADD:
        made->thread = store_thread_add_apply(p, (int32_t)ev->i, ev->str);
        return made->thread != NULL;
    case STORE_EV_THREAD_NAME:
        store_thread_name(t, ev->str);
        return true;
    case STORE_EV_THREAD_GAP:
    case STORE_EV_THREAD_GAP_ALL:
    case STORE_EV_SPAN_BEGIN:
    case STORE_EV_PROBE_BEGIN:
    case STORE_EV_SPAN_END:
    case STORE_EV_PROBE_END:
    case STORE_EV_MEM_DELTA:
    case STORE_EV_SPAN_STATUS:
    case STORE_EV_SPAN_ATTR:
        store_thread_effect(t, ev->type, ev->id, ev->aux, ev->i, ev->ts_ns);
        return true;
    case STORE_EV_LABEL:
        store_proc_set_label_apply(p, ev->str);
        return true;
    case STORE_EV_STATE:
        store_proc_set_state_apply(p, (enum store_proc_state)ev->id, ev->str, ev->ts_ns);
        return true;
    case STORE_EV_INVALID:
        store_invalid(p, ev->a, ev->str);
        return true;
    case STORE_EV_NAME: {
        bool is_new;

        made->id = store_name_apply(p, ev->str != NULL ? ev->str : "", &is_new);
        return is_new;
    }
    case STORE_EV_DROPPED:
        store_proc_set_dropped_apply(p, ev->a);
        return true;
    case STORE_EV_LOSS:
        return store_proc_set_loss_apply(p, (enum store_loss)ev->id, ev->a);
    case STORE_EV_HOST:
        store_proc_set_host_apply(p, ev->a, ev->b, ev->c, ev->ts_ns);
        return true;
    case STORE_EV_GAUGE:
        store_gauge_set_apply(p, ev->id, (enum store_mem_kind)(ev->aux & 0xFFFFU), ev->aux >> 16,
                              ev->a, ev->b, ev->c);
        return true;
    case STORE_EV_WEIGHT:
        store_weight_set_apply(p, ev->id, ev->aux, ev->a);
        return true;
    case STORE_EV_COUNTER:
        store_counter_set_apply(p, ev->id, ev->a, ev->ts_ns);
        return true;
    case STORE_EV_EVENTS:
        store_proc_add_events_apply(p, ev->a);
        return true;
    case STORE_EV_VALUE: {
        double v;

        memcpy(&v, &ev->a, sizeof(v));
        store_value_set_apply(p, ev->id, ev->aux, v, ev->ts_ns);
        return true;
    }
    case STORE_EV_ATTR:
        return store_attr_set_apply(p, ev->id, ev->aux);
    case STORE_EV_MATRIX:
        store_matrix_apply(p, ev->id, ev->aux, ev->matrix, ev->ts_ns);
        return true;
    case STORE_EV_PARENT:
        if (p->ppid == (int32_t)ev->i) {
            return false;
        }
        p->ppid = (int32_t)ev->i;
        return true;
    case STORE_EV_EXIT: {
        int status = ev->aux != 0 ? 0 : (int)(ev->i & 0xFF);

        if (p->exit_valid && p->exit_status == status && p->exit_signal == (int)(ev->aux & 0x7F)) {
            return false;
        }
        p->exit_valid = true;
        p->exit_status = status;
        p->exit_signal = (int)(ev->aux & 0x7F);
        return true;
    }
    case STORE_EV_KERNEL:
        store_kernel_apply(p, ev->id, ev->aux, ev->ts_ns, ev->a);
        return true;
    case STORE_EV_STEP:
        store_request_step_apply(p, (enum store_step_kind)ev->id, ev->b, ev->a, ev->ts_ns);
        return true;
    case STORE_EV_NODE_IMPORT:
        store_node_import_apply(p, ev->path, ev->depth, ev->stats, ev->ts_ns);
        return true;
    case STORE_EV_MEM_IMPORT_CLEAR:
        store_mem_import_clear_apply(p);
        return true;
    case STORE_EV_MEM_IMPORT:
        store_mem_import_apply(p, ev->level, ev->id, ev->aux, ev->i, (int64_t)ev->a, ev->b);
        return true;
    case STORE_EV_MEM_IMPORT_PARTS:
        store_mem_import_parts_apply(p, ev->parts);
        return true;
    case STORE_EV_SYS_THREAD:
    case STORE_EV_SYS_CALL:
    case STORE_EV_SYS_MAPPED:
    case STORE_EV_SYS_DROPPED:
        return store_sys_apply(p, ev);
    case STORE_EV_PROC_GPU:
        return store_proc_gpu_apply(p, ev);
    case STORE_EV_THREAD_EXIT:
    default:
        return false; /* the exit is store_apply's; anything else is not an event */
    }
}

struct store_made store_apply(struct store *st, const struct store_event *ev)
{
    struct store_made made = {NULL, NULL, 0};
    struct store_event seen;

    if (ev->type != STORE_EV_PROC_ADD && !store_event_machine(ev->type) &&
        (ev->proc == NULL || (store_event_has_thread(ev->type) && ev->thread == NULL))) {
        return made; /* a thread the store refused: nothing to apply */
    }
    if (ev->type == STORE_EV_THREAD_EXIT) {
        /* Nothing more comes for the thread: what waits for the other source goes first,
         * then the exit is seen while the thread still exists. */
        store_thread_flush(ev->thread, UINT64_MAX, UINT32_MAX);
        if (st->observer != NULL) {
            st->observer(st->observer_ctx, ev);
        }
        store_thread_exit_apply(ev->thread);
        return made;
    }
    if (!store_apply_one(st, ev, &made) || st->observer == NULL) {
        return made;
    }
    if (ev->type != STORE_EV_PROC_ADD && ev->type != STORE_EV_THREAD_ADD &&
        ev->type != STORE_EV_NAME) {
        st->observer(st->observer_ctx, ev);
        return made;
    }
    /* What it made, as the observer must see it. */
    seen = *ev;
    if (ev->type == STORE_EV_PROC_ADD) {
        seen.proc = made.proc;
        seen.str = made.proc->label;
    } else if (ev->type == STORE_EV_THREAD_ADD) {
        seen.thread = made.thread;
    } else {
        seen.id = made.id;
    }
    st->observer(st->observer_ctx, &seen);
    return made;
}

/* --- the event API: each call is one event through the door ------------------------------ */

struct store_proc *store_proc_add(struct store *st, int32_t pid, const char *label)
{
    struct store_event ev = {.type = STORE_EV_PROC_ADD, .i = pid, .str = label};

    return store_apply(st, &ev).proc;
}

void store_proc_set_label(struct store_proc *p, const char *label)
{
    struct store_event ev = {.type = STORE_EV_LABEL, .proc = p, .str = label};

    store_apply(p->st, &ev);
}

void store_proc_set_parent(struct store_proc *p, int32_t ppid)
{
    struct store_event ev = {.type = STORE_EV_PARENT, .proc = p, .i = ppid};

    store_apply(p->st, &ev);
}

void store_proc_set_exit(struct store_proc *p, int status, int signal)
{
    struct store_event ev = {
        .type = STORE_EV_EXIT, .proc = p, .i = status, .aux = signal > 0 ? (uint32_t)signal : 0};

    store_apply(p->st, &ev);
}

void store_proc_set_state(struct store_proc *p, enum store_proc_state state, const char *reason,
                          uint64_t ts_ns)
{
    struct store_event ev = {
        .type = STORE_EV_STATE, .proc = p, .id = (uint32_t)state, .str = reason, .ts_ns = ts_ns};

    store_apply(p->st, &ev);
}

void store_proc_add_invalid(struct store_proc *p, uint64_t n, const char *reason)
{
    struct store_event ev = {.type = STORE_EV_INVALID, .proc = p, .a = n, .str = reason};

    store_apply(p->st, &ev);
}

uint32_t store_proc_intern(struct store_proc *p, const char *name)
{
    uint32_t id = store_name_find(p, name);
    struct store_event ev = {.type = STORE_EV_NAME, .proc = p, .str = name};

    return id != 0 ? id : store_apply(p->st, &ev).id;
}

void store_proc_set_dropped(struct store_proc *p, uint64_t dropped_events)
{
    struct store_event ev = {.type = STORE_EV_DROPPED, .proc = p, .a = dropped_events};

    store_apply(p->st, &ev);
}

void store_proc_set_loss(struct store_proc *p, enum store_loss what, uint64_t n)
{
    struct store_event ev = {.type = STORE_EV_LOSS, .proc = p, .id = (uint32_t)what, .a = n};

    store_apply(p->st, &ev);
}

void store_proc_set_host(struct store_proc *p, uint64_t rss_bytes, uint64_t rss_peak_bytes,
                         uint64_t cpu_time_ns, uint64_t now_ns)
{
    struct store_event ev = {.type = STORE_EV_HOST,
                             .proc = p,
                             .a = rss_bytes,
                             .b = rss_peak_bytes,
                             .c = cpu_time_ns,
                             .ts_ns = now_ns};

    store_apply(p->st, &ev);
}

void store_gauge_set(struct store_proc *p, uint32_t name, enum store_mem_kind kind, unsigned flags,
                     uint64_t used_bytes, uint64_t capacity_bytes, uint64_t peak_bytes)
{
    struct store_event ev = {.type = STORE_EV_GAUGE,
                             .proc = p,
                             .id = name,
                             .aux = (uint32_t)kind | (uint32_t)flags << 16,
                             .a = used_bytes,
                             .b = capacity_bytes,
                             .c = peak_bytes};

    store_apply(p->st, &ev);
}

void store_weight_set(struct store_proc *p, uint32_t path, unsigned flags, uint64_t bytes)
{
    struct store_event ev = {
        .type = STORE_EV_WEIGHT, .proc = p, .id = path, .aux = flags, .a = bytes};

    store_apply(p->st, &ev);
}

void store_counter_set(struct store_proc *p, uint32_t name, uint64_t value, uint64_t now_ns)
{
    struct store_event ev = {
        .type = STORE_EV_COUNTER, .proc = p, .id = name, .a = value, .ts_ns = now_ns};

    store_apply(p->st, &ev);
}

void store_value_set(struct store_proc *p, uint32_t name, uint32_t unit, double value,
                     uint64_t ts_ns)
{
    struct store_event ev = {
        .type = STORE_EV_VALUE, .proc = p, .id = name, .aux = unit, .ts_ns = ts_ns};

    memcpy(&ev.a, &value, sizeof(value));
    store_apply(p->st, &ev);
}

void store_matrix_set(struct store_proc *p, uint32_t name, uint32_t unit, const struct matrix *m,
                      uint64_t ts_ns)
{
    struct store_event ev = {
        .type = STORE_EV_MATRIX, .proc = p, .id = name, .aux = unit, .matrix = m, .ts_ns = ts_ns};

    store_apply(p->st, &ev);
}

void store_attr_set(struct store_proc *p, uint32_t key, uint32_t value)
{
    struct store_event ev = {.type = STORE_EV_ATTR, .proc = p, .id = key, .aux = value};

    store_apply(p->st, &ev);
}

uint64_t store_proc_last_event_ns(const struct store_proc *p)
{
    return p->clock_ns;
}

void store_proc_add_events(struct store_proc *p, uint64_t n)
{
    struct store_event ev = {.type = STORE_EV_EVENTS, .proc = p, .a = n};

    store_apply(p->st, &ev);
}

struct store_thread *store_thread_add(struct store_proc *p, int32_t tid, const char *name)
{
    struct store_event ev = {.type = STORE_EV_THREAD_ADD, .proc = p, .i = tid, .str = name};

    return store_apply(p->st, &ev).thread;
}

void store_thread_set_name(struct store_thread *t, const char *name)
{
    struct store_event ev = {.type = STORE_EV_THREAD_NAME, .thread = t, .str = name};

    if (t != NULL) {
        ev.proc = t->proc;
        store_apply(t->proc->st, &ev);
    }
}

void store_thread_exit(struct store_thread *t, uint64_t ts_ns)
{
    struct store_event ev = {.type = STORE_EV_THREAD_EXIT, .thread = t, .ts_ns = ts_ns};

    if (t != NULL) {
        ev.proc = t->proc;
        store_apply(t->proc->st, &ev);
    }
}

void store_kernel(struct store_proc *p, uint32_t name, uint32_t backend, uint64_t start_ns,
                  uint64_t dur_ns)
{
    struct store_event ev;

    /* Nobody observes: store_apply would do just this. */
    if (__builtin_expect(p->st->observer == NULL, 1)) {
        store_kernel_apply(p, name, backend, start_ns, dur_ns);
        return;
    }
    ev = (struct store_event){.type = STORE_EV_KERNEL,
                              .proc = p,
                              .id = name,
                              .aux = backend,
                              .ts_ns = start_ns,
                              .a = dur_ns};
    store_apply(p->st, &ev);
}

void store_request_step(struct store_proc *p, enum store_step_kind kind, uint64_t request,
                        uint64_t n, uint64_t ts_ns)
{
    struct store_event ev = {.type = STORE_EV_STEP,
                             .proc = p,
                             .id = (uint32_t)kind,
                             .a = n,
                             .b = request,
                             .ts_ns = ts_ns};

    store_apply(p->st, &ev);
}

void store_node_import(struct store_proc *p, const uint32_t *path, size_t depth,
                       const struct store_import_stats *stats, uint64_t ts_ns)
{
    struct store_event ev = {.type = STORE_EV_NODE_IMPORT,
                             .proc = p,
                             .path = path,
                             .depth = depth,
                             .stats = stats,
                             .ts_ns = ts_ns};

    store_apply(p->st, &ev);
}

void store_mem_import_clear(struct store_proc *p)
{
    struct store_event ev = {.type = STORE_EV_MEM_IMPORT_CLEAR, .proc = p};

    store_apply(p->st, &ev);
}

void store_mem_import(struct store_proc *p, uint16_t level, uint32_t label, unsigned flags,
                      int64_t bytes, int64_t peak_bytes, uint64_t capacity_bytes)
{
    struct store_event ev = {.type = STORE_EV_MEM_IMPORT,
                             .proc = p,
                             .level = level,
                             .id = label,
                             .aux = flags,
                             .i = bytes,
                             .a = (uint64_t)peak_bytes,
                             .b = capacity_bytes};

    store_apply(p->st, &ev);
}

void store_mem_import_parts(struct store_proc *p, const struct store_mem_parts *parts)
{
    struct store_event ev = {.type = STORE_EV_MEM_IMPORT_PARTS, .proc = p, .parts = parts};

    store_apply(p->st, &ev);
}
