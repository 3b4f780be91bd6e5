/* SPDX-License-Identifier: MIT */
/* Sparse log-linear histogram: bucket geometry, growth of the stored index range, merge and
 * nearest-rank percentiles. */
#include "src/model/hist.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "src/base/xalloc.h"

/*
 * Geometry. Values below 128 get one bucket each (index = value). Above, a value v with
 * k = floor(log2 v) >= 7 is shifted right by e = k - 6, which leaves a mantissa m = v >> e in
 * [64, 128): 64 sub-buckets of width 2^e in the octave [2^k, 2^(k+1)). The index 64 * e + m
 * continues seamlessly from the exact range (e = 0 gives index = v for 64 <= v < 128), so
 * indexes are dense and ordered like the values. A bucket's width 2^e is at most v / 64, so
 * its midpoint is within 1/128 of any value inside it.
 */
#define HIST_SUB_BITS 6U
#define HIST_EXACT_LIMIT 128U
/* Extra buckets kept on each side when the stored range has to grow, so that a node whose
 * durations wander a little does not reallocate again at once. */
#define HIST_GROW_SLACK 8U
#define HIST_SHRINK_RATIO 4U /* reset frees storage wider than this times the range used */

static uint32_t hist_min_u32(uint32_t a, uint32_t b)
{
    return a < b ? a : b;
}

static uint32_t hist_max_u32(uint32_t a, uint32_t b)
{
    return a > b ? a : b;
}

uint32_t hist_index(uint64_t v_ns)
{
    uint32_t k;
    uint32_t e;

    if (v_ns < HIST_EXACT_LIMIT) {
        return (uint32_t)v_ns;
    }
    k = 63U - (uint32_t)__builtin_clzll(v_ns);
    e = k - HIST_SUB_BITS;
    return (e << HIST_SUB_BITS) + (uint32_t)(v_ns >> e);
}

uint64_t hist_bucket_low(uint32_t index)
{
    uint32_t e;
    uint64_t m;

    if (index < HIST_EXACT_LIMIT) {
        return index;
    }
    /* index = 64 * e + m with m in [64, 128), hence index / 64 = e + 1. */
    e = (index >> HIST_SUB_BITS) - 1U;
    m = index - ((uint64_t)e << HIST_SUB_BITS);
    return m << e;
}

uint64_t hist_bucket_mid(uint32_t index)
{
    uint64_t width;

    if (index < HIST_EXACT_LIMIT) {
        return index;
    }
    width = 1ULL << ((index >> HIST_SUB_BITS) - 1U);
    /* The bucket holds the integers low .. low + width - 1; written this way the top bucket
     * (which ends at 2^64) does not overflow. */
    return hist_bucket_low(index) + (width - 1U) / 2U;
}

void hist_init(struct hist *h)
{
    memset(h, 0, sizeof(*h));
}

void hist_done(struct hist *h)
{
    free(h->buckets);
    memset(h, 0, sizeof(*h));
}

void hist_reset(struct hist *h)
{
    uint32_t used = h->hi - h->lo;

    /* Storage far wider than what the samples just forgotten needed goes (the next sample
     * allocates what it needs): a recycled window slot, which may serve another series next,
     * would otherwise keep the union of every range it ever held, and nctop's memory would
     * creep up to the whole range for every slot. */
    if (h->cap > HIST_SHRINK_RATIO * (used + 2U * HIST_GROW_SLACK)) {
        free(h->buckets);
        h->buckets = NULL;
        h->base = 0;
        h->cap = 0;
    } else if (used > 0) {
        /* Only [lo, hi) can be non-zero: clearing just that keeps reset cheap for the
         * rolling window, which resets a slot every slot_ns. */
        memset(h->buckets + (h->lo - h->base), 0, (size_t)used * sizeof(uint64_t));
    }
    h->count = 0;
    h->sum_ns = 0;
    h->min_ns = 0;
    h->max_ns = 0;
    h->lo = h->base;
    h->hi = h->base;
}

/* Make the storage cover indexes [need_lo, need_hi), keeping the counts already there. */
static void hist_grow(struct hist *h, uint32_t need_lo, uint32_t need_hi)
{
    uint32_t slack;
    uint32_t base;
    uint32_t end;
    uint64_t *b;

    if (h->hi > h->lo) {
        need_lo = hist_min_u32(need_lo, h->lo);
        need_hi = hist_max_u32(need_hi, h->hi);
    }
    /* Half the needed width again as slack (at least HIST_GROW_SLACK) on each side makes the
     * number of regrowths logarithmic in the final range. */
    slack = (need_hi - need_lo) / 2U + HIST_GROW_SLACK;
    base = need_lo > slack ? need_lo - slack : 0U;
    end = hist_min_u32(need_hi + slack, HIST_NBUCKETS);

    b = xcalloc(end - base, sizeof(*b));
    if (h->hi > h->lo) {
        memcpy(b + (h->lo - base), h->buckets + (h->lo - h->base),
               (size_t)(h->hi - h->lo) * sizeof(*b));
    } else {
        h->lo = need_lo;
        h->hi = need_lo;
    }
    free(h->buckets);
    h->buckets = b;
    h->base = base;
    h->cap = end - base;
}

/* Account n samples in bucket idx (counts and range only; the caller keeps sum/min/max). */
static void hist_bump(struct hist *h, uint32_t idx, uint64_t n)
{
    if (idx < h->base || idx >= h->base + h->cap) {
        hist_grow(h, idx, idx + 1U);
    }
    h->buckets[idx - h->base] += n;
    if (h->hi == h->lo) {
        h->lo = idx;
        h->hi = idx + 1U;
    } else if (idx < h->lo) {
        h->lo = idx;
    } else if (idx >= h->hi) {
        h->hi = idx + 1U;
    }
}

void hist_add(struct hist *h, uint64_t v_ns)
{
    if (h->count == 0) {
        h->min_ns = v_ns;
        h->max_ns = v_ns;
    } else if (v_ns < h->min_ns) {
        h->min_ns = v_ns;
    } else if (v_ns > h->max_ns) {
        h->max_ns = v_ns;
    }
    h->count++;
    h->sum_ns += v_ns;
    hist_bump(h, hist_index(v_ns), 1U);
}

void hist_merge(struct hist *dst, const struct hist *src)
{
    uint32_t i;

    if (src->count == 0) {
        return;
    }
    if (dst->count == 0) {
        dst->min_ns = src->min_ns;
        dst->max_ns = src->max_ns;
    } else {
        dst->min_ns = src->min_ns < dst->min_ns ? src->min_ns : dst->min_ns;
        dst->max_ns = src->max_ns > dst->max_ns ? src->max_ns : dst->max_ns;
    }
    dst->count += src->count;
    dst->sum_ns += src->sum_ns;

    /* Grow once for the whole source range rather than bucket by bucket. */
    if (src->lo < dst->base || src->hi > dst->base + dst->cap) {
        hist_grow(dst, src->lo, src->hi);
    }
    for (i = src->lo; i < src->hi; i++) {
        uint64_t c = src->buckets[i - src->base];

        if (c != 0) {
            hist_bump(dst, i, c);
        }
    }
}

void hist_percentiles(const struct hist *h, const double *pct, size_t n, uint64_t *out_ns)
{
    uint64_t cum = 0;
    uint32_t i;
    size_t j = 0;

    if (h->count == 0) {
        for (j = 0; j < n; j++) {
            out_ns[j] = 0;
        }
        return;
    }
    /* One walk over the used range serves all requested ranks, since pct is ascending. */
    i = h->lo;
    for (j = 0; j < n; j++) {
        /* Multiply before dividing: for integer pct and counts below 2^46 the product is
         * exact, so e.g. p99 of 100 samples is rank 99, not 100 from 0.99 * 100 rounding up. */
        double want = ceil(pct[j] * (double)h->count / 100.0);
        uint64_t rank;
        uint64_t v;

        /* Nearest rank: sample number ceil(p * n) counted from 1, so p = 0 is the minimum. */
        if (want < 1.0) {
            rank = 1;
        } else if (want >= (double)h->count) {
            rank = h->count;
        } else {
            rank = (uint64_t)want;
        }
        while (i < h->hi) {
            uint64_t c = h->buckets[i - h->base];

            if (cum + c >= rank) {
                break;
            }
            cum += c;
            i++;
        }
        /* The first and last ranks are the exact extremes, which we know. Otherwise the
         * midpoint may lie outside the samples when an extreme bucket is sparsely used, so
         * clamp it to [min, max]. */
        if (rank == 1) {
            v = h->min_ns;
        } else if (rank == h->count || i >= h->hi) {
            v = h->max_ns;
        } else {
            v = hist_bucket_mid(i);
        }
        if (v < h->min_ns) {
            v = h->min_ns;
        } else if (v > h->max_ns) {
            v = h->max_ns;
        }
        out_ns[j] = v;
    }
}

uint64_t hist_count_le(const struct hist *h, uint64_t v_ns)
{
    uint32_t last, idx;
    uint64_t n = 0;

    if (h->count == 0 || v_ns < h->min_ns) {
        return 0;
    }
    if (v_ns >= h->max_ns) {
        return h->count;
    }
    /* Buckets lo .. idx hold every sample <= v_ns (and the rest of v_ns's own bucket). */
    idx = hist_index(v_ns);
    last = idx + 1 < h->hi ? idx + 1 : h->hi;
    for (uint32_t i = h->lo; i < last; i++) {
        n += h->buckets[i - h->base];
    }
    return n;
}

size_t hist_bytes(const struct hist *h)
{
    return (size_t)h->cap * sizeof(*h->buckets);
}

uint64_t hist_percentile(const struct hist *h, double pct)
{
    uint64_t v;

    hist_percentiles(h, &pct, 1, &v);
    return v;
}
