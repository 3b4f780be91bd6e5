/* SPDX-License-Identifier: MIT */
/* The row builder: walks a process's store and appends latency, memory and kernel rows
 * (depth-first, siblings in first-seen order), and fills the per-process summary. */
#include "src/model/rows.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "src/base/hash.h"
#include "src/base/hmap.h"
#include "src/base/strtab.h"
#include "src/base/util.h"
#include "src/base/xalloc.h"
#include "src/model/compile.h"
#include "src/model/fleet.h"
#include "src/model/hist.h"
#include "src/model/matrix.h"
#include "src/model/neuro.h"
#include "src/model/store.h"
#include "src/model/store_gpu.h"
#include "src/model/store_internal.h"
#include "src/model/store_sys.h"

/*
 * String storage. Row strings must stay valid until rows_clear, even when later builds
 * append more rows, so the text never moves: it is a chain of chunks. r->text is the newest
 * chunk; its first bytes hold the pointer to the previous chunk. A new chunk is at least
 * twice the last one, and rows_clear keeps only the newest (largest), so after a few frames
 * one chunk holds a whole frame and building allocates no text at all.
 */
#define ROWS_CHUNK_HDR sizeof(char *)
#define ROWS_CHUNK_MIN 16384U
#define ROWS_MIN_CAP 64U

static const double rows_pcts[3] = {50.0, 95.0, 99.0};

static bool rows_sort_value(const struct rows *r, const struct row *row, const struct rows_sort *s,
                            double mshare, double *out);
static uint32_t rows_sort_pending_bit(const struct rows_sort *s);

_Static_assert(ROWS_LOSS_KINDS == STORE_LOSS_NKINDS, "one name per loss cause");
const char *const rows_loss_names[ROWS_LOSS_KINDS] = {
    [STORE_LOSS_RING_FULL] = "ring_full",       [STORE_LOSS_NO_RING] = "no_ring",
    [STORE_LOSS_READER_STALL] = "reader_stall", [STORE_LOSS_REGISTRATION] = "registration_refused",
    [STORE_LOSS_LIMIT] = "over_limit",          [STORE_LOSS_REQUEST_EVICTED] = "requests_evicted",
};

_Static_assert(ROWS_REQUEST_RESULTS == STORE_REQ_NRESULTS, "one name per request result");
const char *const rows_request_results[ROWS_REQUEST_RESULTS] = {
    [STORE_REQ_OK] = "ok",
    [STORE_REQ_FAILED] = "failed",
    [STORE_REQ_CANCELLED] = "cancelled",
};

_Static_assert(ROW_S_COUNT == STORE_STAT_COUNT && ROW_S_TOTAL == STORE_STAT_TOTAL &&
                   ROW_S_LAST == STORE_STAT_LAST && ROW_S_MEAN == STORE_STAT_MEAN &&
                   ROW_S_MIN == STORE_STAT_MIN && ROW_S_MAX == STORE_STAT_MAX &&
                   ROW_S_P50 == STORE_STAT_P50 && ROW_S_P95 == STORE_STAT_P95 &&
                   ROW_S_P99 == STORE_STAT_P99,
               "absent figures keep their bits from the store to the rows");
_Static_assert((int)ROW_NPARTS == (int)STORE_NPARTS, "one part per store part");

/* Per level of the tree being emitted: the path of the last row at that level (the parent of
 * the next row one level deeper) and its window total (the denominator of its children's
 * shares). Indexed by level, grown as needed: no quadratic work, no recursion. */
struct rows_levels {
    const char **path;
    size_t *path_len;
    uint64_t *path_hash; /* hash_bytes of path: FNV-1a goes on from it over "/label" */
    uint64_t *win_total_ns;
    /* rows_update_latency: the row at each level, whether its figures were set again, and
     * whether win_total_ns holds its window total (else the row does) */
    size_t *row;
    bool *changed;
    bool *total_known;
    size_t cap;
};

static char *rows_chunk_prev(const char *chunk)
{
    char *prev;

    memcpy(&prev, chunk, sizeof(prev));
    return prev;
}

/* Room for len bytes in the current chunk, starting a new chunk when needed. */
static void rows_text_reserve(struct rows *r, size_t len)
{
    size_t cap;
    char *c;

    if (r->text != NULL && r->text_len + len <= r->text_cap) {
        return;
    }
    cap = r->text_cap * 2U;
    if (cap < ROWS_CHUNK_MIN) {
        cap = ROWS_CHUNK_MIN;
    }
    if (cap < len + ROWS_CHUNK_HDR) {
        cap = len + ROWS_CHUNK_HDR;
    }
    c = xmalloc(cap);
    memcpy(c, &r->text, sizeof(r->text));
    r->text = c;
    r->text_len = ROWS_CHUNK_HDR;
    r->text_cap = cap;
}

/* Copy a string (len bytes, no NUL needed) into the text storage. */
static const char *rows_text_add(struct rows *r, const char *s, size_t len)
{
    char *d;

    rows_text_reserve(r, len + 1U);
    d = r->text + r->text_len;
    memcpy(d, s, len);
    d[len] = '\0';
    r->text_len += len + 1U;
    return d;
}

/* The last gen given to a set of rows (one thread builds them: the loop's). */
static uint64_t rows_last_gen;

void rows_init(struct rows *r)
{
    memset(r, 0, sizeof(*r));
    r->gen = ++rows_last_gen;
    r->shape = ++rows_last_gen;
}

void rows_clear(struct rows *r)
{
    char *prev;

    r->n = 0;
    r->nneuro = 0;
    r->gen = ++rows_last_gen;
    r->shape = ++rows_last_gen;
    r->omitted = 0;
    r->src = NULL;
    r->key_gen = 0;
    if (r->text == NULL) {
        return;
    }
    /* Keep the newest chunk, the largest: it is where the next frame's text goes. */
    prev = rows_chunk_prev(r->text);
    while (prev != NULL) {
        char *pp = rows_chunk_prev(prev);

        free(prev);
        prev = pp;
    }
    prev = NULL;
    memcpy(r->text, &prev, sizeof(prev));
    r->text_len = ROWS_CHUNK_HDR;
}

void rows_done(struct rows *r)
{
    rows_clear(r);
    free(r->text);
    free(r->srcv);
    free(r->keys);
    free(r->key_has);
    free(r->v);
    free(r->neuro);
    memset(r, 0, sizeof(*r));
}

static void rows_levels_init(struct rows_levels *lv)
{
    memset(lv, 0, sizeof(*lv));
}

static void rows_levels_done(struct rows_levels *lv)
{
    free(lv->path);
    free(lv->path_len);
    free(lv->path_hash);
    free(lv->win_total_ns);
    free(lv->row);
    free(lv->changed);
    free(lv->total_known);
}

static void rows_levels_reserve(struct rows_levels *lv, size_t level)
{
    size_t cap = lv->cap ? lv->cap : 16U;

    if (level < lv->cap) {
        return;
    }
    while (cap <= level) {
        cap *= 2U;
    }
    lv->path = xreallocarray(lv->path, cap, sizeof(*lv->path));
    lv->path_len = xreallocarray(lv->path_len, cap, sizeof(*lv->path_len));
    lv->path_hash = xreallocarray(lv->path_hash, cap, sizeof(*lv->path_hash));
    lv->win_total_ns = xreallocarray(lv->win_total_ns, cap, sizeof(*lv->win_total_ns));
    lv->row = xreallocarray(lv->row, cap, sizeof(*lv->row));
    lv->changed = xreallocarray(lv->changed, cap, sizeof(*lv->changed));
    lv->total_known = xreallocarray(lv->total_known, cap, sizeof(*lv->total_known));
    lv->cap = cap;
}

/*
 * Append a row at `level` named label (label_len bytes). Its path is the path of the last row
 * emitted at level - 1 (kept in lv) plus '/' plus the label; the label string is the tail of
 * the path string, so both cost one copy. Records the new path as the parent for level + 1.
 * Returns the row, valid until the next rows_add.
 */
static struct row *rows_add(struct rows *r, struct rows_levels *lv, enum row_kind kind,
                            size_t level, const char *label, size_t label_len)
{
    const char *ppath = NULL;
    size_t plen = 0;
    uint64_t h = HASH_SEED;
    size_t len;
    struct row *row;
    char *d;

    if (level > 0) {
        ppath = lv->path[level - 1U];
        plen = lv->path_len[level - 1U];
        h = hash_bytes(lv->path_hash[level - 1U], "/", 1);
    }
    len = level > 0 ? plen + 1U + label_len : label_len;
    rows_text_reserve(r, len + 1U);
    d = r->text + r->text_len;
    if (level > 0) {
        memcpy(d, ppath, plen);
        d[plen] = '/';
        memcpy(d + plen + 1U, label, label_len);
    } else {
        memcpy(d, label, label_len);
    }
    d[len] = '\0';
    r->text_len += len + 1U;

    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2U : ROWS_MIN_CAP;
        r->v = xreallocarray(r->v, r->cap, sizeof(*r->v));
    }
    row = &r->v[r->n++];
    memset(row, 0, sizeof(*row));
    row->path = d;
    row->label = d + (len - label_len);
    row->path_hash = hash_bytes(h, row->label, label_len); /* = hash_bytes(HASH_SEED, d, len) */
    row->level = (uint16_t)level;
    row->kind = (uint16_t)kind;

    rows_levels_reserve(lv, level);
    lv->path[level] = d;
    lv->path_len[level] = len;
    lv->path_hash[level] = row->path_hash;
    lv->win_total_ns[level] = 0;
    return row;
}

_Static_assert(sizeof(rows_pcts) / sizeof(rows_pcts[0]) == STORE_MEMO_NPCT, "one memo per pct");

#define ROWS_PCT_ALL ((1U << STORE_MEMO_NPCT) - 1U) /* every pct_ns of a memo */

/* The ROW_S_* bit of each of rows_pcts. */
static const uint32_t rows_pct_bits[STORE_MEMO_NPCT] = {ROW_S_P50, ROW_S_P95, ROW_S_P99};

/* The ROW_S_* bits of the percentiles a memo lacks, by its have bits. */
static const uint32_t rows_lacking[ROWS_PCT_ALL + 1U] = {
    ROW_S_P50 | ROW_S_P95 | ROW_S_P99,
    ROW_S_P95 | ROW_S_P99,
    ROW_S_P50 | ROW_S_P99,
    ROW_S_P99,
    ROW_S_P50 | ROW_S_P95,
    ROW_S_P95,
    ROW_S_P50,
    0,
};

/* The percentiles want (bit j: rows_pcts[j]) of the union of a and b (b may be NULL: a
 * window is its closed slots and its open one) that m does not have yet, into m. One walk
 * serves them all; each is what a walk for all three gives. */
static void rows_memo_pcts(struct store_memo_stats *m, const struct hist *a, const struct hist *b,
                           uint32_t want)
{
    double pct[STORE_MEMO_NPCT];
    uint64_t v[STORE_MEMO_NPCT];
    size_t n = 0, k = 0;

    want &= ~m->have;
    if (want == 0) {
        return;
    }
    for (uint32_t j = 0; j < STORE_MEMO_NPCT; j++) {
        if ((want & 1U << j) != 0) {
            pct[n++] = rows_pcts[j];
        }
    }
    if (a->count + (b != NULL ? b->count : 0) == 0) {
        memset(v, 0, sizeof(v));
    } else {
        hist_percentiles2(a, b, pct, n, v);
    }
    for (uint32_t j = 0; j < STORE_MEMO_NPCT; j++) {
        if ((want & 1U << j) != 0) {
            m->pct_ns[j] = v[k++];
        }
    }
    m->have |= want;
}

/* The percentiles at an extreme rank of m's samples, into m: the nearest rank of p among count
 * samples is ceil(p * count / 100) (in integers for the integer pcts here: exact), and rank 1 is
 * the minimum, rank count (or beyond) the maximum, as hist_percentiles gives them, without a walk.
 * A window of a few samples has all but its median so. */
static void rows_memo_extremes(struct store_memo_stats *m)
{
    for (uint32_t j = 0; j < STORE_MEMO_NPCT; j++) {
        uint64_t pc = (uint64_t)rows_pcts[j] * m->count;

        /* rank <= 1: p * count <= 100; rank >= count: p * count > 100 * (count - 1). */
        if (pc <= 100U) {
            m->pct_ns[j] = m->min_ns;
            m->have |= 1U << j;
        } else if (pc + 100U > 100U * m->count) {
            m->pct_ns[j] = m->max_ns;
            m->have |= 1U << j;
        } else {
            m->pct_ns[j] = 0; /* pending */
        }
    }
}

/* The figures of the union of a and b (b may be NULL) into m (the series' memo, or the
 * caller's when it has none): the counts, and the percentiles want (and, with none wanted,
 * those known without a walk). */
static void rows_memo_fill(struct store_memo_stats *m, const struct hist *a, const struct hist *b,
                           uint32_t want)
{
    if (b == NULL || b->count == 0) {
        b = NULL;
    } else if (a->count == 0) {
        a = b;
        b = NULL;
    }
    m->count = a->count;
    m->sum_ns = a->sum_ns;
    m->min_ns = a->min_ns;
    m->max_ns = a->max_ns;
    if (b != NULL) {
        m->count += b->count;
        m->sum_ns += b->sum_ns;
        m->min_ns = b->min_ns < m->min_ns ? b->min_ns : m->min_ns;
        m->max_ns = b->max_ns > m->max_ns ? b->max_ns : m->max_ns;
    }
    m->have = 0;
    if (want == 0 && m->count > 0 && m->count < (1ULL << 32)) {
        rows_memo_extremes(m);
        return;
    }
    rows_memo_pcts(m, a, b, want);
}

/* The window of a lazy build into o from the union of a and b (b may be NULL), as
 * rows_memo_fill with nothing wanted and rows_stats_fill give it, without the memo between:
 * a frame whose every row changed does this for each. */
static void rows_win_fill_lazy(struct row_stats *o, const struct hist *a, const struct hist *b,
                               uint64_t last_ns)
{
    static const uint64_t pcts[STORE_MEMO_NPCT] = {50, 95, 99}; /* rows_pcts */
    uint64_t count = a->count, sum = a->sum_ns, mn = a->min_ns, mx = a->max_ns;
    uint64_t v[STORE_MEMO_NPCT];
    uint32_t have = 0;

    if (b != NULL && b->count != 0) {
        if (count == 0) {
            count = b->count;
            sum = b->sum_ns;
            mn = b->min_ns;
            mx = b->max_ns;
        } else {
            count += b->count;
            sum += b->sum_ns;
            mn = b->min_ns < mn ? b->min_ns : mn;
            mx = b->max_ns > mx ? b->max_ns : mx;
        }
    }
    if (count == 0) {
        memset(o, 0, sizeof(*o));
        return;
    }
    /* The ranks at an extreme, as rows_memo_extremes finds them (a count beyond 2^32 has
     * none known: its products could overflow). */
    for (uint32_t j = 0; j < STORE_MEMO_NPCT; j++) {
        uint64_t pc = pcts[j] * count;

        v[j] = 0;
        if (count >= (1ULL << 32)) {
            continue;
        }
        if (pc <= 100U) {
            v[j] = mn;
            have |= 1U << j;
        } else if (pc + 100U > 100U * count) {
            v[j] = mx;
            have |= 1U << j;
        }
    }
    o->absent = 0;
    o->count = count;
    o->total_ns = sum;
    o->last_ns = last_ns;
    o->mean_ns = sum / count;
    o->min_ns = mn;
    o->max_ns = mx;
    o->p50_ns = v[0];
    o->p95_ns = v[1];
    o->p99_ns = v[2];
    o->pending = rows_lacking[have];
}

/* The figures of m into o (every field); the percentiles m lacks are pending. */
static inline __attribute__((always_inline)) void
rows_stats_fill(struct row_stats *o, const struct store_memo_stats *m, uint64_t last_ns)
{
    if (m->count == 0) {
        memset(o, 0, sizeof(*o));
        return;
    }
    o->absent = 0;
    o->count = m->count;
    o->total_ns = m->sum_ns;
    o->last_ns = last_ns;
    o->mean_ns = m->sum_ns / m->count;
    o->min_ns = m->min_ns;
    o->max_ns = m->max_ns;
    o->p50_ns = m->pct_ns[0];
    o->p95_ns = m->pct_ns[1];
    o->p99_ns = m->pct_ns[2];
    o->pending = rows_lacking[m->have & ROWS_PCT_ALL];
}

/* Both periods of a series; slot is rows_slot(p, now_ns), scratch the caller's window
 * histogram, omit ROWS_OMIT_* (the since-start percentiles: not walked, marked absent) and
 * ROWS_LAZY_WIN_PCT (the window's not walked unless known: pending). Sets ROW_F_WIN/ALL.
 * The percentiles are walked once per version of the series (its gen) and, for the window,
 * per slot the window ends in: a tree that did not change since the last frame costs no walk,
 * and one that did costs no merge (the series keeps its window's histogram). */
static uint32_t rows_series_fill(struct row_stats *win, struct row_stats *all,
                                 const struct store_proc *p, const struct store_series *s,
                                 uint64_t now_ns, uint64_t slot, struct hist *scratch,
                                 unsigned omit)
{
    struct store_series_memo *memo = s->memo;
    struct store_series_memo local;
    uint32_t want = (omit & ROWS_LAZY_WIN_PCT) != 0 ? 0 : ROWS_PCT_ALL;
    uint32_t flags = 0;
    bool lazy = (omit & ROWS_LAZY_WIN_PCT) != 0;

    /* The memo serves the window unless lazy, and the since-start percentiles if walked. */
    if (memo == NULL && (!lazy || (omit & (ROWS_OMIT_ALL | ROWS_OMIT_ALL_PCT)) == 0)) {
        memset(&local, 0, sizeof(local));
        memo = &local;
    }
    if (lazy) {
        /* A lazy build's series mostly changed since its memo was set (rows_update_latency
         * keeps the rows of those that did not): the figures come from the histogram, and
         * the memo is left for rows_resolve. The window is the closed slots and the open one
         * unless the clock's slot is not the series' (store_series_window_parts). */
        const struct hist *a = &s->win_closed, *b = store_series_open(s);

        if (slot != p->cur_slot && s->win != NULL) {
            store_series_window_parts(p, s, now_ns, scratch, &a, &b);
        }
        if (a == scratch) {
            /* A merged window is not there to walk later. */
            rows_memo_fill(&local.win, a, b, ROWS_PCT_ALL);
            rows_stats_fill(win, &local.win, s->last_ns);
        } else {
            rows_win_fill_lazy(win, a, b, s->last_ns);
        }
    } else if (memo->win.gen != s->gen || memo->win.slot != slot || s->gen == 0) {
        const struct hist *a, *b;

        store_series_window_parts(p, s, now_ns, scratch, &a, &b);
        /* A merged window (scratch), or one without a memo, is not there to walk later. */
        rows_memo_fill(&memo->win, a, b, a == scratch || memo == &local ? ROWS_PCT_ALL : want);
        memo->win.gen = s->gen;
        memo->win.slot = slot;
        rows_stats_fill(win, &memo->win, s->last_ns);
    } else {
        if ((want & ~memo->win.have) != 0) {
            const struct hist *a, *b;

            store_series_window_parts(p, s, now_ns, scratch, &a, &b);
            rows_memo_pcts(&memo->win, a, b, want);
        }
        rows_stats_fill(win, &memo->win, s->last_ns);
    }
    if ((omit & ROWS_OMIT_ALL) != 0) {
        /* Nothing since start: all is not written (its flag clear says so). */
    } else if ((omit & ROWS_OMIT_ALL_PCT) != 0) {
        /* The counts without the walk: the histogram's own figures. */
        struct store_memo_stats m = {
            .count = store_series_count(s), .sum_ns = store_series_sum(s), .have = ROWS_PCT_ALL};

        store_series_extremes(s, &m.min_ns, &m.max_ns);
        rows_stats_fill(all, &m, s->last_ns);
        all->absent = ROW_S_P50 | ROW_S_P95 | ROW_S_P99;
    } else {
        if (memo->all.gen != s->gen || s->gen == 0) {
            rows_memo_fill(&memo->all, &s->all_closed, store_series_open(s), ROWS_PCT_ALL);
            memo->all.gen = s->gen;
        }
        rows_stats_fill(all, &memo->all, s->last_ns);
    }
    if (win->count > 0) {
        flags |= ROW_F_WIN;
    }
    if ((omit & ROWS_OMIT_ALL) == 0 && all->count > 0) {
        flags |= ROW_F_ALL;
    }
    if (win->count == 0 && s->gen != 0) { /* gen 0: no sample yet (its line, already read) */
        /* The latest sample is the same in both periods (the LAST column and sort show it
         * whatever the period); without all, a flag says it is there. */
        win->last_ns = s->last_ns;
        flags |= (omit & ROWS_OMIT_ALL) != 0 ? ROW_F_LAST : 0;
    }
    return flags;
}

/* The statistics of a row read back from a log: both periods are what the log says. */
static void rows_import_fill(struct row *row, const struct store_import_stats *s)
{
    struct row_stats *w = &row->win;

    w->count = s->count;
    w->total_ns = s->total_ns != 0 ? s->total_ns : s->mean_ns * s->count;
    w->last_ns = s->last_ns;
    w->mean_ns = s->mean_ns;
    w->min_ns = s->min_ns;
    w->max_ns = s->max_ns;
    w->p50_ns = s->p50_ns;
    w->p95_ns = s->p95_ns;
    w->p99_ns = s->p99_ns;
    w->absent = s->absent;
    if ((s->absent & (STORE_STAT_TOTAL | STORE_STAT_MEAN | STORE_STAT_COUNT)) == STORE_STAT_TOTAL) {
        w->absent &= ~(uint32_t)ROW_S_TOTAL; /* derived from mean and count */
    }
    row->all = *w;
    row->flags |= ROW_F_WIN | ROW_F_ALL | ROW_F_IMPORTED;
    if (s->share_valid) {
        row->share_pct = s->share_pct;
        row->flags |= ROW_F_SHARE;
    }
}

/* The window slot now_ns falls in: once per build, not a division per row. */
static uint64_t rows_slot(const struct store_proc *p, uint64_t now_ns)
{
    return now_ns / p->st->cfg.slot_ns;
}

static const char *rows_name(const struct store_proc *p, uint32_t id)
{
    const char *s = store_proc_name(p, id);

    return s != NULL ? s : "?";
}

/* Sum of the window totals of the top-level spans: the denominator of level-0 shares. */
static uint64_t rows_top_total(const struct store_proc *p, uint64_t now_ns)
{
    uint64_t total = 0;
    uint32_t i;

    for (i = p->nodes[STORE_ROOT].first_child; i != STORE_NONE; i = p->nodes[i].next_sibling) {
        total += store_series_window_sum(p, &p->nodes[i].s, now_ns, NULL);
    }
    return total;
}

/* The next node of a depth-first walk over the nodes for which keep[] is true (all when
 * keep is NULL): first kept child, else the next kept sibling of the node or an ancestor. */
static uint32_t rows_next_kept(const struct store_proc *p, const bool *keep, uint32_t i,
                               bool descend)
{
    const struct store_node *n = p->nodes;
    uint32_t c;

    if (descend) {
        for (c = n[i].first_child; c != STORE_NONE; c = n[c].next_sibling) {
            if (keep == NULL || keep[c]) {
                return c;
            }
        }
    }
    while (i != STORE_ROOT) {
        for (c = n[i].next_sibling; c != STORE_NONE; c = n[c].next_sibling) {
            if (keep == NULL || keep[c]) {
                return c;
            }
        }
        i = n[i].parent;
    }
    return STORE_NONE;
}

/* What one latency build shares between its rows. */
struct rows_lat {
    const struct store_proc *p;
    uint64_t now_ns;
    uint64_t slot;      /* rows_slot(p, now_ns) */
    uint64_t top_total; /* rows_top_total(p, now_ns) */
    unsigned omit;      /* ROWS_OMIT_*, ROWS_LAZY_WIN_PCT */
    struct rows *out;   /* the rows being filled */
    bool track;         /* rows_update_latency's: sources noted (struct rows_src) */
    bool keys;          /* ... and sort keys computed (out->key_want) */
    struct hist scratch;
};

/* Room for the sources of rows up to the rows' capacity. */
static void rows_src_reserve(struct rows *r, size_t n)
{
    if (n <= r->src_cap) {
        return;
    }
    r->src_cap = r->cap > n ? r->cap : n;
    r->srcv = xreallocarray(r->srcv, r->src_cap, sizeof(*r->srcv));
}

/* The sort key of row k of r into r->keys (room made), for r->key_want. */
static void rows_key_set(struct rows *r, size_t k)
{
    const struct row *row = &r->v[k];

    if (k >= r->key_cap) {
        r->key_cap = r->cap > k + 1U ? r->cap : k + 1U;
        r->keys = xreallocarray(r->keys, r->key_cap, sizeof(*r->keys));
        r->key_has = xreallocarray(r->key_has, r->key_cap, sizeof(*r->key_has));
    }
    if ((row->win.pending & rows_sort_pending_bit(&r->key_want)) != 0) {
        r->keys[k] = 0;
        r->key_has[k] = 2;
        return;
    }
    r->key_has[k] = rows_sort_value(r, row, &r->key_want, -1, &r->keys[k]);
}

static bool rows_sort_same(const struct rows_sort *a, const struct rows_sort *b)
{
    return a->key == b->key && a->reverse == b->reverse && a->since_start == b->since_start;
}

void rows_want_keys(struct rows *r, const struct rows_sort *s)
{
    struct rows_sort none = {.key = ROWS_SORT_NONE};

    r->key_want = s != NULL ? *s : none;
}

/* The figures of node n into its row (whose strings, level and kind are set), denom the
 * window total its share is of, and the node's window total as the denominator of its
 * children's shares (lv->win_total_ns, reserved to its level). Every figure field the latency
 * rows use is set, so a kept row gets no figure of the frame before. With c->track, the
 * node's source is noted in c->out->srcv. */
static void rows_latency_fill(struct row *row, struct rows_levels *lv, struct rows_lat *c,
                              const struct store_node *n, uint64_t denom)
{
    const struct store_proc *p = c->p;

    row->nchildren = n->nchildren;
    row->flags =
        rows_series_fill(&row->win, &row->all, p, &n->s, c->now_ns, c->slot, &c->scratch, c->omit);
    row->share_pct = 0;
    if ((c->omit & ROWS_OMIT_ALL) == 0) {
        row->hist_all = &n->s.all_closed;
        row->hist_open = store_series_open(&n->s);
        row->ok = n->ok;
        row->failed = n->failed;
        row->last_error = n->last_error != 0 ? rows_name(p, n->last_error) : NULL;
    }
    if (c->track) {
        /* What the next update and rows_resolve need to find the same samples again. */
        size_t k = (size_t)(row - c->out->v);

        rows_src_reserve(c->out, k + 1U);
        c->out->srcv[k].gen = n->s.gen;
        c->out->srcv[k].ends = n->ok + n->failed;
        c->out->srcv[k].node = (uint32_t)(n - p->nodes);
    }
    if (n->import != 0 && store_series_count(&n->s) == 0) {
        /* A replayed log: the figures are the log's, including its share. */
        rows_import_fill(row, &p->imports[n->import]);
        lv->win_total_ns[n->level] = row->win.total_ns;
        return;
    }
    lv->win_total_ns[n->level] = row->win.total_ns;
    /* Share of the parent's window time; undefined (bit clear) when the parent has none.
     * Siblings that cover their parent sum to 100 %. */
    if (denom > 0) {
        row->share_pct = (double)row->win.total_ns * 100.0 / (double)denom;
        row->flags |= ROW_F_SHARE;
    }
}

static void rows_lat_init(struct rows_lat *c, struct rows *out, const struct store_proc *p,
                          uint64_t now_ns, unsigned omit)
{
    c->p = p;
    c->now_ns = now_ns;
    c->slot = rows_slot(p, now_ns);
    c->top_total = rows_top_total(p, now_ns);
    /* A fleet's rows are compared with its members' (fleet_spread): all there is known. */
    c->omit =
        p->fleet == STORE_FLEET_ALL ? omit & ~(unsigned)(ROWS_LAZY_WIN_PCT | ROWS_OMIT_ALL) : omit;
    c->out = out;
    c->track = false;
    hist_init(&c->scratch);
}

/* The keys just computed (c->keys) are of the rows' gen and the sort wanted. */
static void rows_keys_done(const struct rows_lat *c, struct rows *out)
{
    out->key_gen = c->keys ? out->gen : 0;
    out->key_sort = out->key_want;
}

/* Note that out's rows are p's at c's time, made by rows_update_latency. */
static void rows_lat_track(const struct rows_lat *c, struct rows *out)
{
    out->src = c->p;
    out->src_fleet = c->p->fleet == STORE_FLEET_ALL;
    out->src_pid = c->p->pid;
    out->src_now_ns = c->now_ns;
    out->src_slot = c->slot;
    out->src_top_ns = c->top_total;
    out->omitted = c->omit;
}

/* rows_build_latency with omit (ROWS_OMIT_*, ROWS_LAZY_WIN_PCT); track (out cleared before):
 * its rows' sources noted, for rows_update_latency. */
static void rows_build_latency_omit(struct rows *out, const struct store_proc *p, uint64_t now_ns,
                                    unsigned omit, bool track)
{
    struct rows_levels lv;
    struct rows_lat c;
    size_t first = out->n;
    uint32_t i;

    rows_levels_init(&lv);
    rows_lat_init(&c, out, p, now_ns, omit);
    c.track = track;
    /* Not for a fleet: fleet_spread sets figures (the spread's) after the rows are built. */
    c.keys = track && out->key_want.key != ROWS_SORT_NONE && p->fleet != STORE_FLEET_ALL;
    for (i = rows_next_kept(p, NULL, STORE_ROOT, true); i != STORE_NONE;
         i = rows_next_kept(p, NULL, i, true)) {
        const struct store_node *n = &p->nodes[i];
        const char *label = rows_name(p, n->name);
        struct row *row = rows_add(out, &lv, ROW_LATENCY, n->level, label, strlen(label));

        rows_latency_fill(row, &lv, &c, n,
                          n->level == 0 ? c.top_total : lv.win_total_ns[n->level - 1U]);
        if (c.keys) {
            rows_key_set(out, out->n - 1U);
        }
    }
    hist_done(&c.scratch);
    rows_levels_done(&lv);
    out->omitted |= c.omit;
    if (c.track) {
        rows_lat_track(&c, out);
        rows_keys_done(&c, out);
    }
    if (p->fleet == STORE_FLEET_ALL) {
        fleet_spread(out, first, p, now_ns); /* the spread across its members */
    }
}

void rows_build_latency(struct rows *out, const struct store_proc *p, uint64_t now_ns)
{
    rows_build_latency_omit(out, p, now_ns, 0, false);
}

/* Whether row is what p's node n would make at the same place of the build: a latency row
 * with the node's label at its level. A row's path is its parent's and its label, so rows that
 * all match, in the same depth-first order, have the paths the build would give them. */
static bool rows_same_node(const struct row *row, const struct store_proc *p,
                           const struct store_node *n)
{
    return row->kind == ROW_LATENCY && row->level == n->level &&
           strcmp(row->label, rows_name(p, n->name)) == 0;
}

void rows_update_latency(struct rows *out, const struct store_proc *p, uint64_t now_ns,
                         unsigned omit)
{
    struct rows_levels lv;
    struct rows_lat c;
    size_t k = 0;
    bool same = out->n == (size_t)p->nnodes - 1U && out->nneuro == 0;
    bool tracked, keep, keys_kept, changed = false;
    uint32_t i;

    /* A fleet's rows carry their members' spread, made by another pass: built anew. */
    if (p->fleet == STORE_FLEET_ALL) {
        same = false;
    }
    rows_levels_init(&lv);
    rows_lat_init(&c, out, p, now_ns, omit);
    c.track = true;
    c.keys = out->key_want.key != ROWS_SORT_NONE;
    /* The keys of kept rows are kept when they are of this sort. */
    keys_kept = c.keys && out->key_gen != 0 && out->key_gen == out->gen &&
                rows_sort_same(&out->key_sort, &out->key_want) && out->key_cap >= out->n;
    /* Rows this made from p: their nodes are known, and so are what their figures were set
     * from. A row whose node's series is the one it was set from, in the same window slot and
     * with its share of the same total, keeps them (a tree that did not change since is not
     * read again). */
    tracked = out->src == p && out->src_pid == p->pid && out->src_cap >= out->n;
    keep = tracked && out->src_slot == c.slot && out->omitted == c.omit;
    for (i = same ? rows_next_kept(p, NULL, STORE_ROOT, true) : STORE_NONE; i != STORE_NONE;
         i = rows_next_kept(p, NULL, i, true), k++) {
        const struct store_node *n = &p->nodes[i];
        size_t lvl = n->level;
        bool base_moved;
        uint64_t denom;

        if (k >= out->n || (tracked ? out->srcv[k].node != i : !rows_same_node(&out->v[k], p, n))) {
            same = false;
            break;
        }
        rows_levels_reserve(&lv, lvl);
        base_moved = lvl == 0 ? c.top_total != out->src_top_ns : lv.changed[lvl - 1U];
        lv.row[lvl] = k;
        if (keep && !base_moved && n->import == 0 && n->s.gen != 0 &&
            out->srcv[k].gen == n->s.gen && out->srcv[k].ends == n->ok + n->failed) {
            lv.changed[lvl] = false;
            lv.total_known[lvl] = false;
            if (c.keys && !keys_kept) {
                rows_key_set(out, k);
            }
            continue;
        }
        if (lvl == 0) {
            denom = c.top_total;
        } else if (lv.total_known[lvl - 1U]) {
            denom = lv.win_total_ns[lvl - 1U];
        } else {
            denom = out->v[lv.row[lvl - 1U]].win.total_ns; /* a parent kept as it was */
        }
        rows_latency_fill(&out->v[k], &lv, &c, n, denom);
        if (c.keys) {
            rows_key_set(out, k);
        }
        lv.changed[lvl] = true;
        lv.total_known[lvl] = true;
        changed = true;
    }
    hist_done(&c.scratch);
    rows_levels_done(&lv);
    if (!same || k != out->n) {
        /* The tree changed (or out held other rows): the rows filled so far go too. */
        rows_clear(out);
        rows_build_latency_omit(out, p, now_ns, omit, true);
        return;
    }
    /* Rows of which none changed are the same rows: their gen (and sorts) stay. */
    if (changed || !keep) {
        out->gen = ++rows_last_gen;
    }
    rows_lat_track(&c, out);
    rows_keys_done(&c, out);
}

bool rows_resolve(const struct rows *r, size_t i, uint32_t bits)
{
    const struct store_proc *p = r->src;
    const struct store_series *s;
    struct store_series_memo *memo;
    struct row *row;
    uint64_t slot;
    uint32_t want = 0;

    if (i >= r->n) {
        return false;
    }
    row = &r->v[i];
    bits &= row->win.pending;
    if (bits == 0) {
        return true;
    }
    if (p == NULL || i >= r->src_cap || r->srcv[i].node >= p->nnodes) {
        return false;
    }
    s = &p->nodes[r->srcv[i].node].s;
    memo = s->memo;
    /* The series as it was at the build: its window holds the same samples (a sample added
     * or a slot freed moves gen), so what follows is what the build would have found. */
    if (s->gen != r->srcv[i].gen || memo == NULL) {
        return false;
    }
    for (uint32_t j = 0; j < STORE_MEMO_NPCT; j++) {
        if ((bits & rows_pct_bits[j]) != 0) {
            want |= 1U << j;
        }
    }
    /* Pending only where the build's window was the series' own (its closed slots and its
     * open one, not a merge of slots): with the same slots held it still is. */
    slot = rows_slot(p, r->src_now_ns);
    if (memo->win.gen != s->gen || memo->win.slot != slot) {
        /* Another build (an output's, at another time) took the memo since. */
        rows_memo_fill(&memo->win, &s->win_closed, s->open != NULL ? &s->open->h : NULL, want);
        memo->win.gen = s->gen;
        memo->win.slot = slot;
    } else {
        rows_memo_pcts(&memo->win, &s->win_closed, s->open != NULL ? &s->open->h : NULL, want);
    }
    row->win.p50_ns = (bits & ROW_S_P50) != 0 ? memo->win.pct_ns[0] : row->win.p50_ns;
    row->win.p95_ns = (bits & ROW_S_P95) != 0 ? memo->win.pct_ns[1] : row->win.p95_ns;
    row->win.p99_ns = (bits & ROW_S_P99) != 0 ? memo->win.pct_ns[2] : row->win.p99_ns;
    row->win.pending &= ~bits;
    return true;
}

/* --- a baseline ------------------------------------------------------------------------------ */

struct rows_path_key {
    const struct rows *rows;
    const char *path;
};

static bool rows_path_eq(const void *ctx, uint32_t val)
{
    const struct rows_path_key *k = ctx;

    return strcmp(k->rows->v[val].path, k->path) == 0;
}

/* The baseline's process to compare a process labelled label with: the one of that label,
 * else the only one (a baseline of one run compared with another run of any name). */
static const struct store_proc *rows_baseline_proc(const struct store *b, const char *label)
{
    size_t n = store_nprocs(b);

    for (size_t i = 0; i < n && label != NULL; i++) {
        const struct store_proc *p = store_proc_at(b, i);
        if (p->label != NULL && strcmp(p->label, label) == 0) {
            return p;
        }
    }
    return n == 1 ? store_proc_at(b, 0) : NULL;
}

void rows_format_delta(const struct row *r, const struct row_stats *s, bool valid, uint32_t bit,
                       char *buf, size_t len)
{
    char t[32];
    double d, pct;

    if ((r->flags & ROW_F_BASE_NEW) != 0) {
        snprintf(buf, len, "new");
        return;
    }
    if (!rows_base_delta(r, s, valid, bit, &d, &pct)) {
        snprintf(buf, len, "-");
        return;
    }
    util_format_ns((uint64_t)(d < 0 ? -d : d), true, t, sizeof(t));
    if (isnan(pct)) {
        snprintf(buf, len, "%c%s", d < 0 ? '-' : '+', t);
    } else if (pct > 999) {
        /* A time is never below zero, so only a rise passes -100 %: clamped to fit 15. */
        snprintf(buf, len, "%c%s >999%%", d < 0 ? '-' : '+', t);
    } else {
        snprintf(buf, len, "%c%s %+.0f%%", d < 0 ? '-' : '+', t, pct);
    }
}

void rows_compare_baseline(struct rows *out, size_t from, const struct store *baseline,
                           const char *label)
{
    const struct store_proc *bp;
    struct hmap m = HMAP_INIT;
    struct rows b;

    if (baseline == NULL) {
        return;
    }
    rows_init(&b);
    bp = rows_baseline_proc(baseline, label);
    if (bp != NULL) {
        /* Only since-start figures are read: any time after its last event will do. */
        rows_build_latency(&b, bp, store_proc_last_event_ns(bp) + 1);
    }
    /* Paths are unique within a tree; the map finds them by hash, the key by string. */
    for (size_t i = 0; i < b.n; i++) {
        struct rows_path_key k = {&b, b.v[i].path};

        if (hmap_find(&m, b.v[i].path_hash, rows_path_eq, &k) == HMAP_NONE) {
            hmap_insert(&m, b.v[i].path_hash, (uint32_t)i);
        }
    }
    for (size_t i = from; i < out->n; i++) {
        struct row *r = &out->v[i];
        struct rows_path_key k = {&b, r->path};
        uint32_t j;
        const struct row *o;

        if (r->kind != ROW_LATENCY) {
            continue;
        }
        r->flags &= ~(ROW_F_BASE | ROW_F_BASE_NEW);
        j = hmap_find(&m, r->path_hash, rows_path_eq, &k);
        o = j != HMAP_NONE ? &b.v[j] : NULL;
        /* A log without counts still has its figures (absent count: not zero samples). */
        if (o == NULL || (o->flags & ROW_F_ALL) == 0 ||
            (o->all.count == 0 && (o->all.absent & ROW_S_COUNT) == 0)) {
            r->flags |= ROW_F_BASE_NEW;
            continue;
        }
        r->flags |= ROW_F_BASE;
        r->base_count = o->all.count;
        r->base_mean_ns = o->all.mean_ns;
        r->base_p99_ns = o->all.p99_ns;
        r->base_absent = o->all.absent;
    }
    hmap_free(&m);
    rows_done(&b);
}

/* --- instances ------------------------------------------------------------------------------ */

/* The path of node i from the top (stop: STORE_ROOT) or from below stop, joined by '/': one
 * separator between every two levels, around empty names too (both walks must agree). */
static char *rows_node_path(const struct store_proc *p, uint32_t i, uint32_t stop)
{
    size_t len = 0, k = 0, levels = 0, done = 0;
    uint32_t j;
    char *s;

    if (i == STORE_NONE) {
        return xstrdup("?");
    }
    for (j = i; j != STORE_ROOT && j != STORE_NONE && j != stop; j = p->nodes[j].parent) {
        len += strlen(rows_name(p, p->nodes[j].name));
        levels++;
    }
    len += levels > 0 ? levels - 1U : 0U;
    s = xmalloc(len + 1U);
    s[len] = '\0';
    k = len;
    for (j = i; j != STORE_ROOT && j != STORE_NONE && j != stop; j = p->nodes[j].parent) {
        const char *name = rows_name(p, p->nodes[j].name);
        size_t n = strlen(name);

        k -= n;
        memcpy(s + k, name, n);
        if (++done < levels) {
            s[--k] = '/';
        }
    }
    return s;
}

static int rows_child_cmp(const void *a, const void *b)
{
    const struct rows_inst_child *x = a, *y = b;

    if (x->begin_ns != y->begin_ns) {
        return x->begin_ns < y->begin_ns ? -1 : 1;
    }
    return (int)x->level - (int)y->level; /* a parent begins with its first child */
}

_Static_assert(ROWS_INST_NONE == STORE_INST_NONE && ROWS_INST_OK == STORE_INST_OK &&
                   ROWS_INST_FAILED == STORE_INST_FAILED,
               "instance results of rows.h and the store differ");

void rows_build_instances(struct rows_instances *out, const struct store_proc *p)
{
    memset(out, 0, sizeof(*out));
    out->nstats = p->ninst_stats;
    out->stats = p->ninst_stats > 0 ? xcalloc(p->ninst_stats, sizeof(*out->stats)) : NULL;
    for (uint32_t k = 0; k < p->ninst_stats; k++) {
        const struct store_inst_stat *s = &p->inst_stats[k];
        struct rows_inst_stat *r = &out->stats[k];

        r->target = s->target == STORE_NONE ? "other"
                    : s->target != 0        ? rows_name(p, s->target)
                                            : NULL;
        r->model = s->model == STORE_NONE ? "other" : s->model != 0 ? rows_name(p, s->model) : NULL;
        memcpy(r->n, s->n, sizeof(r->n));
        r->dur = &s->dur;
        r->npasses = s->npasses;
        r->passes = s->npasses > 0 ? xcalloc(s->npasses, sizeof(*r->passes)) : NULL;
        for (uint32_t j = 0; j < s->npasses; j++) {
            r->passes[j].name =
                s->passes[j].name == STORE_NONE ? "other" : rows_name(p, s->passes[j].name);
            r->passes[j].dur = &s->passes[j].dur;
        }
    }
    out->total = p->insts_total;
    out->n = p->ninsts;
    out->v = p->ninsts > 0 ? xcalloc(p->ninsts, sizeof(*out->v)) : NULL;
    for (uint32_t k = 0; k < p->ninsts; k++) {
        /* Newest first: the ring's last written entry is before inst_next. */
        const struct store_instance *in =
            &p->insts[(p->inst_next + STORE_MAX_INSTANCES - 1U - k) % STORE_MAX_INSTANCES];
        struct rows_instance *r = &out->v[k];

        r->name = rows_name(p, in->name);
        r->path = rows_node_path(p, in->node, STORE_ROOT);
        r->status = in->status == STORE_INST_OK       ? ROWS_INST_OK
                    : in->status == STORE_INST_FAILED ? ROWS_INST_FAILED
                                                      : ROWS_INST_NONE;
        out->ok += r->status == ROWS_INST_OK ? 1U : 0U;
        out->failed += r->status == ROWS_INST_FAILED ? 1U : 0U;
        r->message = in->message != 0 ? rows_name(p, in->message) : NULL;
        r->begin_ns = in->begin_ns;
        r->dur_ns = in->end_ns - in->begin_ns;
        r->mem_net = in->mem_net;
        r->mem_peak = in->mem_peak;
        r->nattrs = in->nattrs;
        for (uint32_t a = 0; a < in->nattrs && a < ROWS_INST_ATTRS; a++) {
            r->attrs[a].key = rows_name(p, in->attrs[a].key);
            r->attrs[a].value = rows_name(p, in->attrs[a].value);
        }
        r->nchildren = in->nchildren;
        r->children_lost = in->children_lost;
        r->children = in->nchildren > 0 ? xcalloc(in->nchildren, sizeof(*r->children)) : NULL;
        for (uint32_t c = 0; c < in->nchildren; c++) {
            const struct store_inst_child *ic = &in->children[c];
            struct rows_inst_child *rc = &r->children[c];

            rc->name = ic->node != STORE_NONE ? rows_name(p, p->nodes[ic->node].name) : "?";
            rc->path = rows_node_path(p, ic->node, in->node);
            rc->level = ic->level;
            rc->begin_ns = ic->begin_ns;
            rc->dur_ns = ic->dur_ns;
            rc->mem_bytes = ic->mem_bytes;
        }
        /* Closed innermost first: in the order they began, a parent before its children. */
        if (r->nchildren > 1) {
            qsort(r->children, r->nchildren, sizeof(*r->children), rows_child_cmp);
        }
    }
}

void rows_instances_done(struct rows_instances *out)
{
    for (size_t k = 0; k < out->n; k++) {
        for (size_t c = 0; c < out->v[k].nchildren; c++) {
            free(out->v[k].children[c].path);
        }
        free(out->v[k].children);
        free(out->v[k].path);
    }
    free(out->v);
    for (size_t k = 0; k < out->nstats; k++) {
        free(out->stats[k].passes);
    }
    free(out->stats);
    memset(out, 0, sizeof(*out));
}

/* One duration as a row's statistics in both periods. */
static void rows_stats_one(struct row *row, uint64_t dur_ns)
{
    struct row_stats *s = &row->win;

    s->count = 1;
    s->total_ns = s->last_ns = s->mean_ns = s->min_ns = s->max_ns = dur_ns;
    s->p50_ns = s->p95_ns = s->p99_ns = dur_ns;
    row->all = *s;
    row->flags |= ROW_F_WIN | ROW_F_ALL;
}

/* A compilation's "energy_j" attribute as a row's energy (a number, else nothing). */
static void rows_compile_energy(struct row *row, const struct rows_instance *r)
{
    for (size_t a = 0; a < r->nattrs && a < ROWS_INST_ATTRS; a++) {
        char *end = NULL;
        double j;

        if (strcmp(r->attrs[a].key, "energy_j") != 0) {
            continue;
        }
        j = strtod(r->attrs[a].value, &end);
        if (end != r->attrs[a].value && *end == '\0' && j >= 0.0 && j < 1e300) {
            row->energy_j = j;
            row->flags |= ROW_F_ENERGY;
        }
    }
}

#define ROWS_COMPILE_DEPTH (STORE_INST_CHILDREN + 1)

void rows_build_compile(struct rows *out, const struct store_proc *p, uint64_t now_ns)
{
    struct rows_instances in;
    struct rows_levels lv;

    (void)now_ns; /* a compilation's figures are its own, whatever the window */
    rows_build_instances(&in, p);
    rows_levels_init(&lv);
    for (size_t k = 0; k < in.n; k++) {
        const struct rows_instance *r = &in.v[k];
        /* rows by index: rows_add may move them */
        size_t at[ROWS_COMPILE_DEPTH];
        const char *model = r->name, *target = NULL;
        struct row *row;
        char label[160];
        uint16_t prev = 0;
        int len;

        for (size_t a = 0; a < r->nattrs && a < ROWS_INST_ATTRS; a++) {
            if (strcmp(r->attrs[a].key, "model") == 0) {
                model = r->attrs[a].value;
            } else if (strcmp(r->attrs[a].key, "target") == 0) {
                target = r->attrs[a].value;
            }
        }
        len = snprintf(label, sizeof(label), "#%llu %s",
                       (unsigned long long)(in.total - (uint64_t)k), model);
        len = len < (int)sizeof(label) ? len : (int)sizeof(label) - 1;
        at[0] = out->n;
        row = rows_add(out, &lv, ROW_COMPILE, 0, label, (size_t)len);
        rows_stats_one(row, r->dur_ns);
        row->bytes = r->mem_net;
        row->peak_bytes = r->mem_peak;
        row->flags |= ROW_F_PEAK;
        row->ok = r->status == ROWS_INST_OK ? 1U : 0U;
        row->failed = r->status == ROWS_INST_FAILED ? 1U : 0U;
        row->last_error = r->message;
        rows_compile_energy(row, r);
        if (target != NULL) {
            const char *t = rows_text_add(out, target, strlen(target));

            out->v[at[0]].backend = t;
        }
        for (size_t c = 0; c < r->nchildren; c++) {
            const struct rows_inst_child *ch = &r->children[c];
            /* A level below one that was not kept hangs off the deepest kept ancestor. */
            uint16_t level = ch->level > prev + 1U ? (uint16_t)(prev + 1U) : ch->level;

            if (level == 0 || level >= ROWS_COMPILE_DEPTH) {
                continue;
            }
            out->v[at[level - 1U]].nchildren++;
            at[level] = out->n;
            row = rows_add(out, &lv, ROW_COMPILE, level, ch->name, strlen(ch->name));
            rows_stats_one(row, ch->dur_ns);
            row->bytes = ch->mem_bytes;
            if (r->dur_ns > 0) {
                row->share_pct = 100.0 * (double)ch->dur_ns / (double)r->dur_ns;
                row->flags |= ROW_F_SHARE;
            }
            prev = level;
        }
    }
    rows_levels_done(&lv);
    rows_instances_done(&in);
}

void rows_build_kernels(struct rows *out, const struct store_proc *p, uint64_t now_ns)
{
    struct rows_levels lv;
    struct hist scratch;
    uint64_t top_total = rows_top_total(p, now_ns);
    uint64_t slot = rows_slot(p, now_ns);
    uint32_t i;

    rows_levels_init(&lv);
    hist_init(&scratch);
    for (i = 0; i < p->nkernels; i++) {
        const struct store_kernel *k = &p->kernels[i];
        const char *name = rows_name(p, k->name);
        const char *backend = rows_name(p, k->backend);
        size_t blen = strlen(backend);
        struct row *row;

        /* The path is backend/name: emit it as a level-1 row under a pseudo parent, then
         * lift it to level 0. */
        rows_levels_reserve(&lv, 0);
        lv.path[0] = backend;
        lv.path_len[0] = blen;
        lv.path_hash[0] = hash_bytes(HASH_SEED, backend, blen);
        row = rows_add(out, &lv, ROW_KERNEL, 1, name, strlen(name));
        row->level = 0;
        row->backend = rows_text_add(out, backend, blen);
        row->flags = rows_series_fill(&row->win, &row->all, p, &k->s, now_ns, slot, &scratch, 0);
        row->hist_all = &k->s.all_closed;
        row->hist_open = store_series_open(&k->s);
        if (top_total > 0) {
            row->share_pct = (double)row->win.total_ns * 100.0 / (double)top_total;
            row->flags |= ROW_F_SHARE;
        }
    }
    hist_done(&scratch);
    rows_levels_done(&lv);
}

/* --- memory ------------------------------------------------------------------------------- */

static struct row *rows_add_mem(struct rows *r, struct rows_levels *lv, size_t level,
                                const char *label, int64_t bytes)
{
    struct row *row = rows_add(r, lv, ROW_MEMORY, level, label, strlen(label));

    row->bytes = bytes;
    return row;
}

/* A node of the Model Weights tree, built from the dotted paths for one build. */
struct rows_wnode {
    const char *seg; /* borrowed from the store's name of the path */
    uint32_t seg_len;
    uint32_t parent;
    uint32_t first_child;
    uint32_t last_child;
    uint32_t next_sibling;
    uint32_t nchildren;
    uint32_t level;
    uint64_t bytes;
    uint64_t device_bytes;
};

struct rows_wtree {
    struct rows_wnode *v; /* v[0] is the "Model Weights" root */
    uint32_t n;
    uint32_t cap;
    struct hmap index; /* (parent, segment) -> node */
};

/* The node being looked for in the index. */
struct rows_wkey {
    const struct rows_wtree *t;
    uint32_t parent;
    const char *seg;
    size_t len;
};

static bool rows_wkey_eq(const void *ctx, uint32_t val)
{
    const struct rows_wkey *k = ctx;
    const struct rows_wnode *c = &k->t->v[val];

    return c->parent == k->parent && c->seg_len == k->len && memcmp(c->seg, k->seg, k->len) == 0;
}

/* The child of parent named seg, created (appended in first-seen order) when absent. */
static uint32_t rows_wtree_child(struct rows_wtree *t, uint32_t parent, const char *seg, size_t len)
{
    uint64_t h = hash_bytes(HASH_SEED ^ hash_u64(parent), seg, len);
    struct rows_wkey key = {t, parent, seg, len};
    uint32_t k = hmap_find(&t->index, h, rows_wkey_eq, &key);
    struct rows_wnode *c;

    if (k != HMAP_NONE) {
        return k;
    }
    k = t->n++;
    hmap_insert(&t->index, h, k);
    c = &t->v[k];
    memset(c, 0, sizeof(*c));
    c->seg = seg;
    c->seg_len = (uint32_t)len;
    c->parent = parent;
    c->first_child = STORE_NONE;
    c->last_child = STORE_NONE;
    c->next_sibling = STORE_NONE;
    c->level = t->v[parent].level + 1U;
    if (t->v[parent].last_child == STORE_NONE) {
        t->v[parent].first_child = k;
    } else {
        t->v[t->v[parent].last_child].next_sibling = k;
    }
    t->v[parent].last_child = k;
    t->v[parent].nchildren++;
    return k;
}

/* Build the tree of the dotted weight paths; returns false when no weight is registered. */
static bool rows_wtree_build(struct rows_wtree *t, const struct store_proc *p)
{
    size_t nseg = 1;
    uint32_t i;

    memset(t, 0, sizeof(*t));
    /* Upper bound on nodes: one per path segment, plus the root. */
    for (i = 0; i < p->nweights; i++) {
        const char *s = rows_name(p, p->weights[i].path);

        if (p->weights[i].bytes == 0) {
            continue;
        }
        nseg++;
        for (; *s != '\0'; s++) {
            nseg += *s == '.';
        }
    }
    if (nseg == 1) {
        return false;
    }
    t->cap = (uint32_t)nseg;
    t->v = xcalloc(t->cap, sizeof(*t->v));
    t->n = 1;
    t->v[0].first_child = STORE_NONE;
    t->v[0].last_child = STORE_NONE;
    t->v[0].next_sibling = STORE_NONE;
    t->v[0].parent = STORE_NONE;

    for (i = 0; i < p->nweights; i++) {
        const struct store_weight *w = &p->weights[i];
        const char *path = rows_name(p, w->path);
        const char *s = path;
        uint32_t node = 0;
        uint32_t k;

        if (w->bytes == 0) {
            continue;
        }
        /* Walk the dotted segments, skipping empty ones ("a..b"); a path made only of dots
         * becomes one leaf named by the whole path. */
        while (*s != '\0') {
            const char *e = strchr(s, '.');
            size_t len = e != NULL ? (size_t)(e - s) : strlen(s);

            if (len > 0) {
                node = rows_wtree_child(t, node, s, len);
            }
            s += len;
            if (*s == '.') {
                s++;
            }
        }
        if (node == 0) {
            node = rows_wtree_child(t, 0, path, strlen(path));
        }
        /* Interior nodes are sums: add the tensor to its leaf and every ancestor. */
        for (k = node; k != STORE_NONE; k = t->v[k].parent) {
            t->v[k].bytes += w->bytes;
            if ((w->flags & STORE_MEM_DEVICE) != 0) {
                t->v[k].device_bytes += w->bytes;
            }
        }
    }
    return true;
}

static void rows_wtree_done(struct rows_wtree *t)
{
    free(t->v);
    hmap_free(&t->index);
}

static void rows_emit_weights(struct rows *out, struct rows_levels *lv, const struct store_proc *p)
{
    struct rows_wtree t;
    uint32_t i;

    if (!rows_wtree_build(&t, p)) {
        return;
    }
    /* Depth-first over the tree through the sibling links, like the latency tree. */
    i = 0;
    while (i != STORE_NONE) {
        const struct rows_wnode *w = &t.v[i];
        struct row *row;

        if (i == 0) {
            row = rows_add_mem(out, lv, 0, "Model Weights", (int64_t)w->bytes);
        } else {
            row = rows_add(out, lv, ROW_MEMORY, w->level, w->seg, w->seg_len);
            row->bytes = (int64_t)w->bytes;
        }
        row->nchildren = w->nchildren;
        if (w->bytes > 0 && w->device_bytes == w->bytes) {
            row->flags |= ROW_F_DEVICE;
        }
        if (w->first_child != STORE_NONE) {
            i = w->first_child;
            continue;
        }
        while (i != STORE_NONE && t.v[i].next_sibling == STORE_NONE) {
            i = t.v[i].parent;
        }
        if (i != STORE_NONE) {
            i = t.v[i].next_sibling;
        }
    }
    rows_wtree_done(&t);
}

/* The seed's breakdown of a gauge row: a pool's bytes are pool bytes, a KV cache's are
 * KV-cache bytes (set bytes and peak first). */
static void rows_set_part(struct row *row, enum store_mem_kind kind)
{
    int k = kind == STORE_MEM_POOL ? ROW_PART_POOL : ROW_PART_KV_CACHE;

    if (kind != STORE_MEM_POOL && kind != STORE_MEM_KV_CACHE) {
        return;
    }
    row->part_bytes[k] = row->bytes;
    row->part_peak_bytes[k] = row->peak_bytes;
}

static void rows_emit_gauges(struct rows *out, struct rows_levels *lv, const struct store_proc *p,
                             enum store_mem_kind kind, const char *section)
{
    uint64_t used = 0;
    uint64_t capacity = 0;
    uint32_t n = 0;
    uint32_t ndev = 0;
    uint32_t i;
    struct row *row;

    for (i = 0; i < p->ngauges; i++) {
        if (p->gauges[i].kind == kind) {
            used += p->gauges[i].used_bytes;
            capacity += p->gauges[i].capacity_bytes;
            ndev += (p->gauges[i].flags & STORE_MEM_DEVICE) != 0;
            n++;
        }
    }
    if (n == 0) {
        return;
    }
    /* The section sums used and capacity; a sum of peaks reached at different times is no
     * peak, so the section leaves peak unknown. */
    row = rows_add_mem(out, lv, 0, section, (int64_t)used);
    rows_set_part(row, kind);
    row->nchildren = n;
    row->capacity_bytes = capacity;
    if (capacity > 0) {
        row->flags |= ROW_F_CAPACITY;
    }
    if (ndev == n) {
        row->flags |= ROW_F_DEVICE;
    }
    for (i = 0; i < p->ngauges; i++) {
        const struct store_gauge *g = &p->gauges[i];

        if (g->kind != kind) {
            continue;
        }
        row = rows_add_mem(out, lv, 1, rows_name(p, g->name), (int64_t)g->used_bytes);
        row->peak_bytes = (int64_t)g->peak_bytes;
        row->capacity_bytes = g->capacity_bytes;
        row->flags |= ROW_F_PEAK;
        rows_set_part(row, kind);
        if (g->capacity_bytes > 0) {
            row->flags |= ROW_F_CAPACITY;
        }
        if ((g->flags & STORE_MEM_DEVICE) != 0) {
            row->flags |= ROW_F_DEVICE;
        }
    }
}

static void rows_emit_host(struct rows *out, struct rows_levels *lv, const struct store_proc *p)
{
    uint64_t used = 0;
    uint64_t reserved = 0;
    uint32_t i;
    struct row *row;

    if (!p->host_valid) {
        return;
    }
    /*
     * What the workload told us lives in host memory: host weights, and each host gauge's
     * used bytes. A pool's reservation beyond its use is not counted: reserved but untouched
     * pages are not resident, and counting them made "tracked" exceed RSS. The reservation is
     * the row's capacity: current = used, capacity = reserved.
     */
    for (i = 0; i < p->nweights; i++) {
        if ((p->weights[i].flags & STORE_MEM_DEVICE) == 0) {
            used += p->weights[i].bytes;
            reserved += p->weights[i].bytes;
        }
    }
    for (i = 0; i < p->ngauges; i++) {
        const struct store_gauge *g = &p->gauges[i];

        if ((g->flags & STORE_MEM_DEVICE) == 0) {
            used += g->used_bytes;
            reserved += g->capacity_bytes > g->used_bytes ? g->capacity_bytes : g->used_bytes;
        }
    }
    /* Unattributed is RSS minus what is tracked; when the tracked figure is above RSS (used
     * bytes not yet touched, a file mapping not paged in) the difference is no figure at
     * all, and a 0 would be a clamp posing as one: the row is left out. */
    row = rows_add_mem(out, lv, 0, "Host Memory", (int64_t)p->rss_bytes);
    row->nchildren = used <= p->rss_bytes ? 2 : 1;
    if (p->rss_peak_bytes > 0) {
        row->peak_bytes = (int64_t)p->rss_peak_bytes;
        row->flags |= ROW_F_PEAK;
    }
    row = rows_add_mem(out, lv, 1, "Tracked Host Memory", (int64_t)used);
    if (reserved > used) {
        row->capacity_bytes = reserved;
        row->flags |= ROW_F_CAPACITY;
    }
    if (used <= p->rss_bytes) {
        rows_add_mem(out, lv, 1, "Unattributed Host Memory", (int64_t)(p->rss_bytes - used));
    }
}

/* GPU memory the driver reports for this process: the total, then one row per device. It is
 * device memory, never in RSS. */
static void rows_emit_gpu(struct rows *out, struct rows_levels *lv, const struct store_proc *p)
{
    const struct store_gpu_proc *g = store_proc_gpu(p);
    uint64_t total = 0;
    struct row *row;
    char label[24];

    if (g == NULL || g->ndevs == 0) {
        return;
    }
    for (uint32_t k = 0; k < g->ndevs; k++) {
        total += g->bytes[k];
    }
    row = rows_add_mem(out, lv, 0, "GPU Memory", (int64_t)total);
    row->nchildren = g->ndevs;
    row->peak_bytes = (int64_t)g->peak_bytes;
    row->flags |= ROW_F_PEAK | ROW_F_DEVICE;
    for (uint32_t k = 0; k < g->ndevs; k++) {
        snprintf(label, sizeof(label), "GPU%u", (unsigned)g->dev[k]);
        row = rows_add_mem(out, lv, 1, label, (int64_t)g->bytes[k]);
        row->flags |= ROW_F_DEVICE;
    }
}

/* Mapping growth the eBPF collector saw since attaching, next to RSS: mapped address space
 * grows long before it is touched, so both are worth seeing. */
static void rows_emit_mapped(struct rows *out, struct rows_levels *lv, const struct store_proc *p)
{
    const struct store_sys *sy = store_sys_get(p);
    struct row *row;

    if (sy == NULL || !sy->mapped_valid) {
        return;
    }
    row = rows_add_mem(out, lv, 0, "Mapped Memory",
                       (int64_t)sy->mmap_bytes - (int64_t)sy->munmap_bytes + sy->brk_bytes);
    row->nchildren = 3;
    rows_add_mem(out, lv, 1, "mmap", (int64_t)sy->mmap_bytes);
    rows_add_mem(out, lv, 1, "munmap", -(int64_t)sy->munmap_bytes);
    rows_add_mem(out, lv, 1, "brk", sy->brk_bytes);
}

static void rows_emit_scopes(struct rows *out, struct rows_levels *lv, const struct store_proc *p)
{
    bool *keep;
    uint32_t *nkept;
    uint32_t i;
    bool any = false;

    if (p->nnodes <= 1 || p->mem_scopes == 0) {
        return; /* no scope saw a delta: no walk over every node */
    }
    keep = xcalloc(p->nnodes, sizeof(*keep));
    nkept = xcalloc(p->nnodes, sizeof(*nkept));
    /* A child always has a larger index than its parent (created at its first begin, inside
     * the parent), so one backward pass propagates "has a delta below" to every ancestor. */
    for (i = p->nnodes - 1U; i >= 1; i--) {
        const struct store_node *n = &p->nodes[i];

        keep[i] = keep[i] || n->mem_seen;
        if (keep[i]) {
            keep[n->parent] = true;
            nkept[n->parent]++;
            any = true;
        }
    }
    if (any) {
        struct row *row = rows_add_mem(out, lv, 0, "Scope Deltas", 0);

        row->nchildren = nkept[STORE_ROOT];
        for (i = rows_next_kept(p, keep, STORE_ROOT, true); i != STORE_NONE;
             i = rows_next_kept(p, keep, i, true)) {
            const struct store_node *n = &p->nodes[i];
            const char *label = rows_name(p, n->name);

            row = rows_add(out, lv, ROW_MEMORY, n->level + 1U, label, strlen(label));
            row->nchildren = nkept[i];
            if (n->mem_seen) {
                row->bytes = n->mem_last_bytes;
                row->peak_bytes = n->mem_peak_bytes;
                row->flags |= ROW_F_PEAK;
            }
        }
    }
    free(keep);
    free(nkept);
}

/* Memory rows read back from a log, in the log's order; children counted from the levels. */
static void rows_emit_imported(struct rows *out, struct rows_levels *lv, const struct store_proc *p)
{
    uint64_t next_max = 0; /* deepest level the next row may have: one below the last kept */
    uint32_t i;
    uint32_t j;

    for (i = 0; i < p->nmem_rows; i++) {
        const struct store_mem_row *m = &p->mem_rows[i];
        struct row *row;

        /* A level may only go one deeper than the last row kept (the log was a tree): a row
         * whose parent was dropped has no path, and neither have its descendants. */
        if (m->level > next_max) {
            continue;
        }
        next_max = (uint64_t)m->level + 1U;
        row = rows_add_mem(out, lv, m->level, rows_name(p, m->label), m->bytes);
        row->flags |= ROW_F_IMPORTED;
        if (m->has_parts) {
            memcpy(row->part_bytes, m->parts.bytes, sizeof(row->part_bytes));
            memcpy(row->part_peak_bytes, m->parts.peak_bytes, sizeof(row->part_peak_bytes));
        } else {
            row->flags |= ROW_F_PARTS_ABSENT; /* only what the log had */
        }
        if ((m->flags & STORE_IMPORT_PEAK) != 0) {
            row->peak_bytes = m->peak_bytes;
            row->flags |= ROW_F_PEAK;
        }
        if (m->capacity_bytes > 0) {
            row->capacity_bytes = m->capacity_bytes;
            row->flags |= ROW_F_CAPACITY;
        }
        if ((m->flags & STORE_MEM_DEVICE) != 0) {
            row->flags |= ROW_F_DEVICE;
        }
        for (j = i + 1U; j < p->nmem_rows && p->mem_rows[j].level > m->level; j++) {
            row->nchildren += p->mem_rows[j].level == m->level + 1U;
        }
    }
}

void rows_build_memory(struct rows *out, const struct store_proc *p, uint64_t now_ns)
{
    struct rows_levels lv;

    (void)now_ns;
    rows_levels_init(&lv);
    rows_emit_weights(out, &lv, p);
    rows_emit_gauges(out, &lv, p, STORE_MEM_POOL, "Memory Pools");
    rows_emit_gauges(out, &lv, p, STORE_MEM_KV_CACHE, "KV Cache");
    rows_emit_gauges(out, &lv, p, STORE_MEM_OTHER, "Other Memory");
    rows_emit_gpu(out, &lv, p);
    rows_emit_host(out, &lv, p);
    rows_emit_mapped(out, &lv, p);
    rows_emit_scopes(out, &lv, p);
    rows_emit_imported(out, &lv, p);
    rows_levels_done(&lv);
}

/* --- summary ------------------------------------------------------------------------------ */

/* The network, each layer and each core as rows (labels "network", "layer N", "core C"),
 * their figures in out->neuro (neuro.c computes them). */
void rows_build_neuro(struct rows *out, const struct store_proc *p, uint64_t now_ns)
{
    struct rows_levels lv;
    struct neuro nn;
    size_t net = SIZE_MAX, layer = SIZE_MAX;
    char label[32];

    neuro_init(&nn);
    neuro_build(&nn, p, now_ns);
    rows_levels_init(&lv);
    for (size_t i = 0; i < nn.n; i++) {
        const struct neuro_node *x = &nn.v[i];
        size_t level;
        struct row *row;
        int len;

        /* children counts by index: rows_add may move the rows */
        if (x->f.layer < 0) {
            level = 0;
            len = snprintf(label, sizeof(label), "network");
            net = out->n;
        } else if (x->f.core < 0) {
            level = 1;
            len = snprintf(label, sizeof(label), "layer %d", (int)x->f.layer);
            out->v[net].nchildren++;
            layer = out->n;
        } else {
            level = 2;
            len = snprintf(label, sizeof(label), "core %d", (int)x->f.core);
            out->v[layer].nchildren++;
        }
        row = rows_add(out, &lv, ROW_NEURO, level, label, (size_t)len);
        if (x->share_valid) {
            row->flags |= ROW_F_SHARE;
            row->share_pct = x->share_pct;
        }
        if (out->nneuro == out->neuro_cap) {
            out->neuro_cap = out->neuro_cap > 0 ? out->neuro_cap * 2 : ROWS_MIN_CAP;
            out->neuro = xreallocarray(out->neuro, out->neuro_cap, sizeof(*out->neuro));
        }
        row->neuro = (uint32_t)out->nneuro;
        out->neuro[out->nneuro++] = x->f;
    }
    rows_levels_done(&lv);
    neuro_done(&nn);
}

static void rows_marker_fill(struct rows_marker *m, const struct store_proc *p,
                             const struct store_series *s, uint64_t now_ns, struct hist *scratch)
{
    rows_series_fill(&m->win, &m->all, p, s, now_ns, rows_slot(p, now_ns), scratch, 0);
    m->valid = m->all.count > 0;
    m->hist_all = &s->all_closed;
    m->hist_open = store_series_open(s);
}

/* Per-slot means of a series for the step sparkline: slot k of the result is the window slot
 * that started nrecent - 1 - k slots before the current one. */
static void rows_recent_fill(struct rows_summary *out, const struct store_proc *p,
                             const struct store_series *s, uint64_t now_ns)
{
    uint32_t nslots = p->st->nslots;
    uint64_t now_slot = now_ns / p->st->cfg.slot_ns;

    out->nrecent = nslots < ROWS_RECENT_MAX ? nslots : ROWS_RECENT_MAX;
    for (uint32_t i = 0; s->win != NULL && i < nslots; i++) {
        const struct store_slot *sl = s->win[i];
        uint64_t age;

        if (sl == NULL || sl->epoch > now_slot || sl->h.count == 0) {
            continue;
        }
        age = now_slot - sl->epoch;
        if (age < out->nrecent) {
            out->step_recent_ns[out->nrecent - 1 - age] = sl->h.sum_ns / sl->h.count;
        }
    }
}

static int rows_syscall_cmp(const void *a, const void *b)
{
    const struct rows_syscall *x = a, *y = b;

    if (x->total_ns != y->total_ns) {
        return x->total_ns < y->total_ns ? 1 : -1;
    }
    return x->nr < y->nr ? -1 : x->nr > y->nr;
}

/* The eBPF collector's threads (merged by tid into the thread list), faults and syscalls. */
static void rows_sys_fill(struct rows_summary *out, const struct store_proc *p)
{
    const struct store_sys *sy = store_sys_get(p);
    size_t n = out->nthread_list;
    uint32_t i;

    if (sy == NULL) {
        return;
    }
    out->sys_valid = true;
    out->bpf_dropped = sy->dropped;
    if (sy->nthreads > 0) {
        out->threads = xreallocarray(out->threads, n + sy->nthreads, sizeof(*out->threads));
    }
    for (i = 0; i < sy->nthreads; i++) {
        const struct store_sys_thread *t = &sy->threads[i];
        struct rows_thread *r = NULL;

        for (size_t k = 0; k < out->nthread_list; k++) {
            if (out->threads[k].tid == t->tid) {
                r = &out->threads[k];
                break;
            }
        }
        if (r == NULL) {
            r = &out->threads[n++];
            memset(r, 0, sizeof(*r));
            r->tid = t->tid;
            r->name = t->name;
        } else if (r->name == NULL || r->name[0] == '\0') {
            r->name = t->name;
        }
        r->sched_valid = true;
        r->exited = t->exited;
        r->oncpu_ns = t->sched.oncpu_ns;
        r->runq_ns = t->sched.runq_ns;
        r->blocked_ns = t->sched.blocked_ns;
        r->vol_switches = t->sched.vol_switches;
        r->invol_switches = t->sched.invol_switches;
        r->faults = t->sched.faults;
        r->minor_faults = t->sched.minor_faults;
        r->major_faults = t->sched.major_faults;
        out->faults += t->sched.faults;
        out->minor_faults += t->sched.minor_faults;
        out->major_faults += t->sched.major_faults;
    }
    out->nthread_list = n;
    if (sy->ncalls > 0) {
        out->syscalls = xcalloc(sy->ncalls, sizeof(*out->syscalls));
        out->nsyscalls = sy->ncalls;
    }
    for (i = 0; i < sy->ncalls; i++) {
        out->syscalls[i].name = sy->calls[i].name;
        out->syscalls[i].nr = sy->calls[i].nr;
        out->syscalls[i].count = sy->calls[i].count;
        out->syscalls[i].total_ns = sy->calls[i].total_ns;
    }
    if (out->nsyscalls > 1) {
        qsort(out->syscalls, out->nsyscalls, sizeof(*out->syscalls), rows_syscall_cmp);
    }
}

/* Whether node i's path (labels from the root joined by '/') is path. */
static bool rows_node_path_is(const struct store_proc *p, uint32_t i, const char *path)
{
    size_t len = strlen(path);

    for (; i != STORE_ROOT && i != STORE_NONE; i = p->nodes[i].parent) {
        const char *name = rows_name(p, p->nodes[i].name);
        size_t nl = strlen(name);

        if (nl > len || memcmp(path + len - nl, name, nl) != 0) {
            return false;
        }
        len -= nl;
        if (p->nodes[i].parent == STORE_ROOT) {
            return len == 0;
        }
        if (len == 0 || path[len - 1] != '/') {
            return false;
        }
        len--;
    }
    return false;
}

/* The node that is the workload's step: spec is a path ("a/b") or a span name, the
 * shallowest node of that name (then the one with more samples). STORE_NONE when absent. */
static uint32_t rows_step_node(const struct store_proc *p, const char *spec)
{
    uint32_t best = STORE_NONE;
    bool path = strchr(spec, '/') != NULL;
    /* A name is interned once: compare ids, not strings (a name id the table lacks reads
     * "?", as rows_name shows it). */
    uint32_t id = path ? 0 : strtab_find(&p->names, spec, strlen(spec));
    bool unknown = strcmp(spec, "?") == 0;

    for (uint32_t i = 1; i < p->nnodes; i++) {
        const struct store_node *n = &p->nodes[i];
        bool match;

        if (path) {
            match = rows_node_path_is(p, i, spec);
        } else {
            match = (id != 0 && n->name == id) || (unknown && store_proc_name(p, n->name) == NULL);
        }
        if (!match) {
            continue;
        }
        if (best == STORE_NONE || n->level < p->nodes[best].level ||
            (n->level == p->nodes[best].level &&
             store_series_count(&n->s) > store_series_count(&p->nodes[best].s))) {
            best = i;
        }
    }
    return best;
}

static void rows_tokens_fill(struct rows_tokens *t, const struct hist *h)
{
    uint64_t v[2];

    memset(t, 0, sizeof(*t));
    t->hist = h;
    if (h->count == 0) {
        return;
    }
    hist_percentiles(h, (const double[]){50.0, 99.0}, 2, v);
    t->count = h->count;
    t->sum = h->sum_ns;
    t->p50 = v[0];
    t->p99 = v[1];
    t->max = h->max_ns;
}

static void rows_requests_fill(struct rows_requests *r, const struct store_proc *p, uint64_t now_ns,
                               struct hist *scratch)
{
    r->valid = p->requests;
    r->running = p->reqs.n;
    memcpy(r->finished, p->req_finished, sizeof(r->finished));
    r->evicted = p->req_evicted;
    r->prompt_tokens = p->prompt_tokens;
    r->generation_tokens = p->gen_tokens;
    rows_marker_fill(&r->e2e, p, &p->e2e, now_ns, scratch);
    rows_tokens_fill(&r->prompt, &p->req_prompt);
    rows_tokens_fill(&r->generation, &p->req_gen);
}

void rows_build_summary(struct rows_summary *out, const struct store_proc *p, uint64_t now_ns)
{
    uint64_t window_ns = p->st->cfg.window_ns;
    uint32_t best;
    struct hist scratch;
    double rate;
    uint32_t i;

    memset(out, 0, sizeof(*out));
    hist_init(&scratch);
    out->pid = p->pid;
    out->ppid = p->ppid;
    out->label = p->label;
    out->state = p->state == STORE_PROC_LIVE     ? ROWS_STATE_LIVE
                 : p->state == STORE_PROC_EXITED ? ROWS_STATE_EXITED
                                                 : ROWS_STATE_ERROR;
    out->replayed = p->replayed;
    out->reason = p->reason;
    out->exit_valid = p->exit_valid;
    out->exit_status = p->exit_status;
    out->exit_signal = p->exit_signal;
    memcpy(out->losses, p->losses, sizeof(out->losses));
    out->losses[STORE_LOSS_REQUEST_EVICTED] = p->req_evicted;
    out->dropped = p->dropped + p->losses[STORE_LOSS_REGISTRATION] + p->losses[STORE_LOSS_LIMIT] +
                   p->req_evicted;
    out->late_ends = p->late_ends;
    out->folded = p->folded;
    out->invalid = p->invalid;
    out->invalid_reason = p->invalid_reason[0] != '\0' ? p->invalid_reason : NULL;
    out->events = p->events;
    if (store_rate_per_sec(&p->events_rate, now_ns, window_ns, &rate)) {
        out->events_per_sec = rate;
    }
    out->host_valid = p->host_valid;
    out->rss_bytes = p->rss_bytes;
    out->rss_peak_bytes = p->rss_peak_bytes;
    /* cpu_time_ns per second of wall time, as a percentage of one core. */
    out->cpu_valid = store_rate_per_sec(&p->cpu, now_ns, window_ns, &rate);
    out->cpu_pct = out->cpu_valid ? rate / 1e9 * 100.0 : 0.0;
    out->cpu_time_ns = p->cpu.have_last ? p->cpu.last_val : 0;
    out->nthreads = p->nthreads;

    rows_marker_fill(&out->ttft, p, &p->ttft, now_ns, &scratch);
    rows_marker_fill(&out->itl, p, &p->itl, now_ns, &scratch);

    /* "Step latency" is what the workload says a step is, never a guess: a wrong figure (an
     * uprobe or a replayed trace's most frequent span) is worse than none. */
    best = rows_step_node(p, p->st->cfg.step_span != NULL ? p->st->cfg.step_span : "step");
    if (best != STORE_NONE) {
        out->step_source = p->st->cfg.step_span != NULL ? p->st->cfg.step_span : "step";
        rows_marker_fill(&out->step, p, &p->nodes[best].s, now_ns, &scratch);
        rows_recent_fill(out, p, &p->nodes[best].s, now_ns);
    } else if (store_series_count(&p->iter) > 0 && p->st->cfg.step_span == NULL) {
        out->step_source = "iteration";
        rows_marker_fill(&out->step, p, &p->iter, now_ns, &scratch);
        rows_recent_fill(out, p, &p->iter, now_ns);
    }
    rows_requests_fill(&out->requests, p, now_ns, &scratch);
    {
        struct neuro nn;

        neuro_init(&nn);
        neuro_build(&nn, p, now_ns);
        out->neuro = nn.sum;
        neuro_done(&nn);
    }
    compile_summary(&out->compile, p, now_ns);
    if (p->nthreads > 0) {
        out->threads = xcalloc(p->nthreads, sizeof(*out->threads));
        out->nthread_list = p->nthreads;
    }
    for (i = 0; i < p->nthreads; i++) {
        out->threads[i].tid = p->threads[i]->tid;
        out->threads[i].name = p->threads[i]->name;
    }
    rows_sys_fill(out, p);

    out->ncounters = p->ncounters;
    if (p->ncounters > 0) {
        out->counters = xcalloc(p->ncounters, sizeof(*out->counters));
    }
    for (i = 0; i < p->ncounters; i++) {
        struct rows_counter *c = &out->counters[i];

        c->name = rows_name(p, p->counters[i].name);
        c->value = p->counters[i].value;
        c->rate_valid = store_rate_per_sec(&p->counters[i].rate, now_ns, window_ns, &c->per_sec);
    }
    out->nvalues = p->nvalues;
    out->values = p->nvalues > 0 ? xcalloc(p->nvalues, sizeof(*out->values)) : NULL;
    for (i = 0; i < p->nvalues; i++) {
        const char *unit = rows_name(p, p->values[i].unit);

        out->values[i].name = rows_name(p, p->values[i].name);
        out->values[i].unit = p->values[i].unit != 0 && unit != NULL ? unit : "";
        out->values[i].value = p->values[i].v;
        out->values[i].ts_ns = p->values[i].ts_ns;
    }
    out->nmatrices = p->nmatrices;
    out->matrices = p->nmatrices > 0 ? xcalloc(p->nmatrices, sizeof(*out->matrices)) : NULL;
    for (i = 0; i < p->nmatrices; i++) {
        const struct store_matrix *e = &p->matrices[i];
        struct rows_matrix *m = &out->matrices[i];
        const char *unit = rows_name(p, e->unit);

        _Static_assert(ROWS_MATRIX_LABEL == MATRIX_LABEL_BYTES, "label sizes differ");
        m->ref = matrix_ref(e->m);
        m->name = rows_name(p, e->name);
        m->unit = e->unit != 0 && unit != NULL ? unit : "";
        m->rows = e->m->rows;
        m->cols = e->m->cols;
        m->values = e->m->values;
        m->row_labels = e->m->row_labels;
        m->col_labels = e->m->col_labels;
        m->range_valid = e->m->range_valid;
        m->lo = e->m->lo;
        m->hi = e->m->hi;
        m->ts_ns = e->ts_ns;
        m->updates = e->updates;
    }
    out->nattrs = 0;
    out->attrs = p->nattrs > 0 ? xcalloc(p->nattrs, sizeof(*out->attrs)) : NULL;
    for (i = 0; i < p->nattrs; i++) {
        const char *key = rows_name(p, p->attrs[i].key);

        /* nctop's own facts ride on attributes named "nctop.*": fields, not the workload's. */
        if (key != NULL && strncmp(key, "nctop.", 6) == 0) {
            if (strcmp(key, "nctop.clock") == 0) {
                out->clock = rows_name(p, p->attrs[i].value);
            }
            continue;
        }
        out->attrs[out->nattrs].key = key;
        out->attrs[out->nattrs].value = rows_name(p, p->attrs[i].value);
        out->nattrs++;
    }
    hist_done(&scratch);
}

/* The index of the summary that is the parent of sums[i] (the process of pid ppid), or
 * SIZE_MAX. Of two with that pid (a reused pid), a live one is preferred. */
static size_t rows_proc_parent(const struct rows_summary *sums, size_t n, size_t i)
{
    size_t best = SIZE_MAX;

    if (sums[i].ppid <= 0 || sums[i].ppid == sums[i].pid) {
        return SIZE_MAX;
    }
    for (size_t k = 0; k < n; k++) {
        if (k == i || sums[k].pid != sums[i].ppid) {
            continue;
        }
        if (best == SIZE_MAX ||
            (sums[k].state == ROWS_STATE_LIVE && sums[best].state != ROWS_STATE_LIVE)) {
            best = k;
        }
    }
    return best;
}

void rows_proc_tree(const struct rows_summary *sums, size_t n, uint32_t *order, uint16_t *depth)
{
    size_t *parent, *stack, k = 0, top;
    bool *placed;

    if (n == 0) {
        return;
    }
    parent = xcalloc(n, sizeof(*parent));
    stack = xcalloc(n, sizeof(*stack));
    placed = xcalloc(n, sizeof(*placed));
    for (size_t i = 0; i < n; i++) {
        parent[i] = rows_proc_parent(sums, n, i);
    }
    /* A loop of parents (a replayed file can say anything): the member listed first becomes
     * a root, which breaks it. */
    for (size_t i = 0; i < n; i++) {
        size_t cur = parent[i], steps = 0;

        while (cur != SIZE_MAX && cur != i && steps++ < n) {
            cur = parent[cur];
        }
        if (cur == i) {
            parent[i] = SIZE_MAX;
        }
    }
    /* Depth-first from each root in the given order; children in the given order too. The
     * quadratic child search is fine for the few hundred processes a view lists. */
    for (size_t r = 0; r < n; r++) {
        if (parent[r] != SIZE_MAX || placed[r]) {
            continue;
        }
        top = 0;
        stack[top++] = r;
        placed[r] = true;
        order[k] = (uint32_t)r;
        depth[k++] = 0;
        while (top > 0) {
            size_t cur = stack[top - 1], c;

            for (c = 0; c < n; c++) {
                if (!placed[c] && parent[c] == cur) {
                    break;
                }
            }
            if (c == n) {
                top--;
                continue;
            }
            placed[c] = true;
            order[k] = (uint32_t)c;
            depth[k++] = (uint16_t)(top < UINT16_MAX ? top : UINT16_MAX);
            stack[top++] = c;
        }
    }
    free(parent);
    free(stack);
    free(placed);
}

void rows_summary_done(struct rows_summary *s)
{
    free(s->counters);
    free(s->values);
    free(s->attrs);
    for (size_t i = 0; i < s->nmatrices; i++) {
        matrix_unref(s->matrices[i].ref);
    }
    free(s->matrices);
    free(s->threads);
    free(s->syscalls);
    memset(s, 0, sizeof(*s));
}

void rows_build_gpus(struct rows_gpus *out, const struct store *st)
{
    size_t n = store_gpu_count(st);

    memset(out, 0, sizeof(*out));
    out->error = store_gpu_error(st);
    if (n == 0) {
        return;
    }
    out->v = xcalloc(n, sizeof(*out->v));
    out->n = n;
    for (size_t i = 0; i < n; i++) {
        const struct store_gpu_dev *d = store_gpu_at(st, i);
        struct rows_gpu *g = &out->v[i];

        g->index = d->index;
        g->name = d->name;
        g->util_valid = d->util_valid;
        g->util_pct = (double)d->util_pct;
        g->mem_valid = d->mem_valid;
        g->mem_used_bytes = d->mem_used_bytes;
        g->mem_total_bytes = d->mem_total_bytes;
        g->power_valid = d->power_valid;
        g->power_w = (double)d->power_mw / 1e3;
        g->energy_valid = d->energy_valid;
        g->energy_j = (double)d->energy_mj / 1e3;
    }
}

void rows_gpus_done(struct rows_gpus *g)
{
    free(g->v);
    memset(g, 0, sizeof(*g));
}

/* --- the order of the views: siblings sorted within their parent ---------------------------- */

void rows_parents(const struct rows *r, uint32_t *parent)
{
    size_t depth = 0;
    uint32_t *open; /* open[d]: the last row at depth d of the current path */

    if (r->n == 0) {
        return;
    }
    open = xreallocarray(NULL, r->n, sizeof(*open));
    for (size_t i = 0; i < r->n; i++) {
        size_t lvl = r->v[i].level;

        if (lvl > depth) {
            lvl = depth;
        }
        parent[i] = lvl == 0 ? ROWS_NO_PARENT : open[lvl - 1];
        open[lvl] = (uint32_t)i;
        depth = lvl + 1;
    }
    free(open);
}

static void rows_shares_from(const struct rows *r, const uint32_t *parent, double *pct)
{
    for (size_t i = 0; i < r->n; i++) {
        const struct row *row = &r->v[i];

        pct[i] = -1;
        if (parent[i] != ROWS_NO_PARENT && r->v[parent[i]].bytes > 0 && row->bytes >= 0) {
            pct[i] = 100.0 * (double)row->bytes / (double)r->v[parent[i]].bytes;
        }
    }
}

void rows_memory_shares(const struct rows *r, double *pct)
{
    uint32_t *parent;

    if (r->n == 0) {
        return;
    }
    parent = xreallocarray(NULL, r->n, sizeof(*parent));
    rows_parents(r, parent);
    rows_shares_from(r, parent, pct);
    free(parent);
}

/* The figure of a row a sort key names; false when the row has none (absent is not zero). */
static bool rows_sort_neuro(const struct row_neuro *f, enum rows_sort_key key, double *out)
{
    switch (key) {
    case ROWS_SORT_NEURONS:
        *out = (double)f->neurons;
        return (f->have & ROW_N_NEURONS) != 0;
    case ROWS_SORT_FIRING:
        *out = f->firing_hz;
        return (f->have & ROW_N_FIRING) != 0;
    case ROWS_SORT_SPIKES:
        *out = f->per_sec[ROW_NF_SPIKES];
        return (f->rated & 1U << ROW_NF_SPIKES) != 0;
    case ROWS_SORT_SYNOPS:
        *out = f->per_sec[ROW_NF_SYNOPS];
        return (f->rated & 1U << ROW_NF_SYNOPS) != 0;
    case ROWS_SORT_HOPS:
        *out = f->per_sec[ROW_NF_HOPS];
        return (f->rated & 1U << ROW_NF_HOPS) != 0;
    case ROWS_SORT_BUFFER:
        *out = f->buffer_pct;
        return (f->have & ROW_N_BUFFER) != 0;
    case ROWS_SORT_STEP_ENERGY:
        *out = f->step_j;
        return (f->have & ROW_N_STEP) != 0;
    case ROWS_SORT_POWER:
        *out = f->power_w;
        return (f->have & ROW_N_POWER) != 0;
    default:
        *out = 0;
        return false;
    }
}

/* The ROW_S_* bit of a window percentile s sorts by, which rows of a lazy build may have
 * pending (rows_resolve); 0 for other keys. */
static uint32_t rows_sort_pending_bit(const struct rows_sort *s)
{
    if (s->since_start) {
        return 0;
    }
    return s->key == ROWS_SORT_P50   ? ROW_S_P50
           : s->key == ROWS_SORT_P95 ? ROW_S_P95
           : s->key == ROWS_SORT_P99 ? ROW_S_P99
                                     : 0;
}

static bool rows_sort_value(const struct rows *r, const struct row *row, const struct rows_sort *s,
                            double mshare, double *out)
{
    const struct row_neuro *f = rows_neuro_of(r, row);

    bool valid = (row->flags & (s->since_start ? ROW_F_ALL : ROW_F_WIN)) != 0;
    const struct row_stats *st = s->since_start ? &row->all : &row->win;

    switch (s->key) {
    case ROWS_SORT_LAST:
        /* The latest sample whatever the period, as the LAST column shows it. */
        *out = (double)(valid || (row->flags & ROW_F_LAST) != 0 ? st->last_ns : row->all.last_ns);
        return rows_stat_known(&row->all, (row->flags & (ROW_F_WIN | ROW_F_ALL | ROW_F_LAST)) != 0,
                               ROW_S_LAST);
    case ROWS_SORT_MEAN:
        *out = (double)st->mean_ns;
        return rows_stat_known(st, valid, ROW_S_MEAN);
    case ROWS_SORT_P50:
        *out = (double)st->p50_ns;
        return rows_stat_known(st, valid, ROW_S_P50);
    case ROWS_SORT_P95:
        *out = (double)st->p95_ns;
        return rows_stat_known(st, valid, ROW_S_P95);
    case ROWS_SORT_P99:
        *out = (double)st->p99_ns;
        return rows_stat_known(st, valid, ROW_S_P99);
    case ROWS_SORT_MAX:
        *out = (double)st->max_ns;
        return rows_stat_known(st, valid, ROW_S_MAX);
    case ROWS_SORT_COUNT:
        /* A row without samples in the period shows a count of 0: it is one (a replayed log
         * without counts has none). */
        *out = valid ? (double)st->count : 0;
        return (st->absent & ROW_S_COUNT) == 0;
    case ROWS_SORT_TOTAL:
        *out = valid ? (double)st->total_ns : 0;
        return (st->absent & ROW_S_TOTAL) == 0;
    case ROWS_SORT_SHARE:
        if (row->kind == ROW_MEMORY) {
            *out = mshare;
            return mshare >= 0;
        }
        *out = row->share_pct;
        return (row->flags & ROW_F_SHARE) != 0;
    case ROWS_SORT_CURRENT:
        *out = (double)row->bytes;
        return true;
    case ROWS_SORT_PEAK:
        *out = (double)row->peak_bytes;
        return (row->flags & ROW_F_PEAK) != 0;
    case ROWS_SORT_CAPACITY:
        *out = (double)row->capacity_bytes;
        return (row->flags & ROW_F_CAPACITY) != 0;
    case ROWS_SORT_P99_MIN:
    case ROWS_SORT_P99_MEDIAN:
    case ROWS_SORT_P99_MAX:
        *out = (double)(s->key == ROWS_SORT_P99_MIN      ? row->spread_min_ns
                        : s->key == ROWS_SORT_P99_MEDIAN ? row->spread_median_ns
                                                         : row->spread_max_ns);
        return (row->flags & ROW_F_SPREAD) != 0;
    case ROWS_SORT_NEURONS:
    case ROWS_SORT_FIRING:
    case ROWS_SORT_SPIKES:
    case ROWS_SORT_SYNOPS:
    case ROWS_SORT_HOPS:
    case ROWS_SORT_BUFFER:
    case ROWS_SORT_STEP_ENERGY:
    case ROWS_SORT_POWER:
        if (f == NULL) {
            /* a compilation's energy sorts with the energy column */
            *out = row->energy_j;
            return s->key == ROWS_SORT_STEP_ENERGY && (row->flags & ROW_F_ENERGY) != 0;
        }
        return rows_sort_neuro(f, s->key, out);
    case ROWS_SORT_FAILED:
        *out = (double)row->failed;
        return row->ok + row->failed > 0;
    default:
        *out = 0;
        return false;
    }
}

struct rows_sorter {
    const struct rows *r;
    const struct rows_sort *s;
    const double *keys;
    const uint8_t *has; /* keys[i] is a figure */
};

static int rows_sort_cmp(const void *a, const void *b, void *arg)
{
    const struct rows_sorter *c = arg;
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    int d = 0;

    if (c->s->key == ROWS_SORT_LABEL || c->s->key == ROWS_SORT_BACKEND) {
        const char *sx = c->s->key == ROWS_SORT_LABEL ? c->r->v[x].label : c->r->v[x].backend;
        const char *sy = c->s->key == ROWS_SORT_LABEL ? c->r->v[y].label : c->r->v[y].backend;

        /* Names read A to Z unless reversed. */
        d = strcasecmp(sx != NULL ? sx : "", sy != NULL ? sy : "");
        d = c->s->reverse ? -d : d;
    } else if (c->has[x] != c->has[y]) {
        /* A row without the figure goes after every row with it, in either direction. */
        d = c->has[x] ? -1 : 1;
    } else if (c->has[x]) {
        double kx = c->keys[x], ky = c->keys[y];

        /* Figures largest first (htop) unless reversed. */
        d = kx > ky ? -1 : kx < ky ? 1 : 0;
        d = c->s->reverse ? -d : d;
    }
    /* Ties keep execution order, whatever the direction: a stable, predictable display. */
    return d != 0 ? d : (x < y ? -1 : x > y ? 1 : 0);
}

#define ROWS_SORT_INLINE 32 /* groups up to this size are sorted without qsort_r */

struct rows_sort_entry {
    double key; /* negated when reversed: larger goes first */
    uint32_t row;
    bool has;
};

/* Whether x goes before y: it has the figure and y not, or both have it and x's is larger
 * (keys are negated when reversed), or it comes first in the builder's order (ties, and rows
 * without the figure): the order of rows_sort_cmp. */
static inline bool rows_sort_before(const struct rows_sort_entry *x,
                                    const struct rows_sort_entry *y)
{
    if (x->has != y->has) {
        return x->has;
    }
    if (x->has && x->key != y->key) {
        return x->key > y->key;
    }
    return x->row < y->row;
}

/* Sort a group of siblings. Groups are mostly small (a tree's fan-out): their keys are copied
 * next to their indexes (negated when reversed) and insertion-sorted with the comparison
 * inline. Ties go by index, as with qsort_r and rows_sort_cmp, so the order is the same from
 * any starting order; from the last frame's, which mostly still holds, little moves. Names,
 * and larger groups, go through qsort_r. */
static void rows_sort_group(struct rows_sorter *c, uint32_t *v, size_t n)
{
    struct rows_sort_entry e[ROWS_SORT_INLINE];
    double sign = c->s->reverse ? -1.0 : 1.0;

    if (c->s->key == ROWS_SORT_LABEL || c->s->key == ROWS_SORT_BACKEND || n > ROWS_SORT_INLINE) {
        qsort_r(v, n, sizeof(*v), rows_sort_cmp, c);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        e[i].key = sign * c->keys[v[i]];
        e[i].row = v[i];
        e[i].has = c->has[v[i]] != 0;
    }
    for (size_t i = 1; i < n; i++) {
        struct rows_sort_entry x = e[i];
        size_t j = i;

        while (j > 0 && rows_sort_before(&x, &e[j - 1])) {
            e[j] = e[j - 1];
            j--;
        }
        e[j] = x;
    }
    for (size_t i = 0; i < n; i++) {
        v[i] = e[i].row;
    }
}

bool rows_sort_groups(const struct rows *r, const struct rows_sort *s, const uint32_t *parent,
                      const uint32_t *off, uint32_t *kids, uint32_t *order)
{
    size_t n = r->n, sp = 0, k = 0;
    uint32_t *stack;
    bool complete = true;

    if (n == 0) {
        return true;
    }
    if (s != NULL && s->key != ROWS_SORT_NONE) {
        struct rows_sorter c = {.r = r, .s = s};
        double *keys = xreallocarray(NULL, n, sizeof(*keys));
        uint8_t *has = xreallocarray(NULL, n, sizeof(*has));
        double *mshare = NULL;
        /* A window percentile a lazy build left pending (rows_resolve) is needed of all. */
        uint32_t bit = rows_sort_pending_bit(s);
        /* The keys the builder computed for this sort, as it set the rows. */
        bool pre = r->key_gen != 0 && r->key_gen == r->gen && rows_sort_same(&r->key_sort, s) &&
                   r->key_cap >= n;

        /* Memory rows' shares of their parent: only the share sort reads them. */
        if (s->key == ROWS_SORT_SHARE) {
            mshare = xreallocarray(NULL, n, sizeof(*mshare));
            rows_shares_from(r, parent, mshare);
        }
        for (size_t i = 0; pre && i < n; i++) {
            if (r->key_has[i] == 2) {
                if (!rows_resolve(r, i, bit)) {
                    complete = false;
                }
                r->key_has[i] = rows_sort_value(r, &r->v[i], s, -1, &r->keys[i]);
            }
        }
        for (size_t i = 0; !pre && i < n; i++) {
            if ((r->v[i].win.pending & bit) != 0 && !rows_resolve(r, i, bit)) {
                complete = false;
            }
            has[i] = rows_sort_value(r, &r->v[i], s, mshare != NULL ? mshare[i] : -1, &keys[i]);
        }
        free(mshare);
        c.keys = pre ? r->keys : keys;
        c.has = pre ? r->key_has : has;
        for (size_t p = 0; p <= n; p++) {
            if (off[p + 1] - off[p] > 1) {
                rows_sort_group(&c, kids + off[p], off[p + 1] - off[p]);
            }
        }
        free(keys);
        free(has);
    }

    /* Depth-first: push each group in reverse so that its first member pops first. */
    stack = xreallocarray(NULL, n, sizeof(*stack));
    for (size_t j = off[n + 1]; j > off[n]; j--) {
        stack[sp++] = kids[j - 1];
    }
    while (sp > 0) {
        uint32_t i = stack[--sp];

        order[k++] = i;
        for (size_t j = off[i + 1]; j > off[i]; j--) {
            stack[sp++] = kids[j - 1];
        }
    }
    free(stack);
    return complete;
}

void rows_sort(const struct rows *r, const struct rows_sort *s, uint32_t *order)
{
    size_t n = r->n;
    uint32_t *parent, *kids, *off, *cur;

    if (n == 0) {
        return;
    }
    parent = xreallocarray(NULL, n, sizeof(*parent));
    kids = xreallocarray(NULL, n, sizeof(*kids));
    off = xcalloc(n + 2, sizeof(*off));
    cur = xreallocarray(NULL, n + 1, sizeof(*cur));
    rows_parents(r, parent);

    /* Children grouped by parent (CSR; the roots are group n); a counting sort keeps the
     * builder's order within each group. */
    for (size_t i = 0; i < n; i++) {
        off[(parent[i] == ROWS_NO_PARENT ? n : parent[i]) + 1]++;
    }
    for (size_t i = 0; i < n + 1; i++) {
        off[i + 1] += off[i];
    }
    memcpy(cur, off, (n + 1) * sizeof(*cur));
    for (size_t i = 0; i < n; i++) {
        kids[cur[parent[i] == ROWS_NO_PARENT ? n : parent[i]]++] = (uint32_t)i;
    }
    (void)rows_sort_groups(r, s, parent, off, kids, order);
    free(parent);
    free(kids);
    free(off);
    free(cur);
}
