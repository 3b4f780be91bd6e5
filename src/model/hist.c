/* SPDX-License-Identifier: MIT */
/* Sparse log-linear histogram: bucket geometry, block storage, merge and nearest-rank
 * percentiles. */
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
#define HIST_NBLOCKS (HIST_NBUCKETS / HIST_BLOCK)
#define HIST_SHRINK_RATIO 4U /* reset frees room for more than this times the blocks used */

_Static_assert(HIST_BLOCK == 1U << HIST_BLOCK_BITS, "HIST_BLOCK is 2^HIST_BLOCK_BITS");
_Static_assert(HIST_NBUCKETS % HIST_BLOCK == 0, "whole blocks");
_Static_assert(HIST_MAP_WORDS * 64U >= HIST_NBLOCKS, "one map bit per block");
_Static_assert(HIST_RANK_GROUPS * 8U >= HIST_NBLOCKS, "one rank per 8 blocks");
_Static_assert(HIST_NBLOCKS <= UINT16_MAX && HIST_NBLOCKS <= UINT8_MAX + 1U, "narrow fields");

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

/*
 * Storage. Bucket i lives in block i / 16 at offset i % 16. A block has storage once a
 * sample falls in it; the stored blocks sit in one array in block order, and a block's
 * position there is the number of stored blocks before it: the rank of its group of 8 blocks
 * plus the set bits below it in its byte of the map. So finding a bucket is O(1) (two
 * loads and a table lookup; a sorted list would need a search) and the memory is 64 bytes
 * per block in use (128 with 64-bit counts), whatever the spread of the values. A window slot
 * of a few thousand samples with a tail over six decades needs some 10-70 blocks where a
 * dense range from its minimum to its maximum needed some 1000 buckets.
 */

static size_t hist_count_size(const struct hist *h)
{
    return h->wide ? sizeof(uint64_t) : sizeof(uint32_t);
}

static uint64_t hist_count_at(const struct hist *h, uint32_t off)
{
    return h->wide ? ((const uint64_t *)h->blocks)[off] : ((const uint32_t *)h->blocks)[off];
}

/* Set bits of each byte value: the baseline x86-64 target has no popcount instruction (the
 * builtin is a library call, which doubled the cost of hist_add). */
const uint8_t hist_pop8[256] = {
    0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 1, 2, 2, 3, 2, 3, 3, 4, 2, 3, 3, 4, 3, 4, 4, 5,
    1, 2, 2, 3, 2, 3, 3, 4, 2, 3, 3, 4, 3, 4, 4, 5, 2, 3, 3, 4, 3, 4, 4, 5, 3, 4, 4, 5, 4, 5, 5, 6,
    1, 2, 2, 3, 2, 3, 3, 4, 2, 3, 3, 4, 3, 4, 4, 5, 2, 3, 3, 4, 3, 4, 4, 5, 3, 4, 4, 5, 4, 5, 5, 6,
    2, 3, 3, 4, 3, 4, 4, 5, 3, 4, 4, 5, 4, 5, 5, 6, 3, 4, 4, 5, 4, 5, 5, 6, 4, 5, 5, 6, 5, 6, 6, 7,
    1, 2, 2, 3, 2, 3, 3, 4, 2, 3, 3, 4, 3, 4, 4, 5, 2, 3, 3, 4, 3, 4, 4, 5, 3, 4, 4, 5, 4, 5, 5, 6,
    2, 3, 3, 4, 3, 4, 4, 5, 3, 4, 4, 5, 4, 5, 5, 6, 3, 4, 4, 5, 4, 5, 5, 6, 4, 5, 5, 6, 5, 6, 6, 7,
    2, 3, 3, 4, 3, 4, 4, 5, 3, 4, 4, 5, 4, 5, 5, 6, 3, 4, 4, 5, 4, 5, 5, 6, 4, 5, 5, 6, 5, 6, 6, 7,
    3, 4, 4, 5, 4, 5, 5, 6, 4, 5, 5, 6, 5, 6, 6, 7, 4, 5, 5, 6, 5, 6, 6, 7, 5, 6, 6, 7, 6, 7, 7, 8,
};

/* Position of block blk in the storage array (also where it goes if not stored yet). */
static uint32_t hist_block_pos(const struct hist *h, uint32_t blk)
{
    uint32_t byte = (uint32_t)(h->map[blk >> 6] >> (blk & 56U)) & 0xffU;

    return h->rank[blk >> 3] + hist_pop8[byte & ((1U << (blk & 7U)) - 1U)];
}

/* Give block blk zeroed storage at its place in the order; returns its position. Out of
 * line, with hist_bump_wide, so that the common path of hist_bump stays short. */
__attribute__((noinline)) uint32_t hist_block_insert(struct hist *h, uint32_t blk)
{
    size_t bsz = HIST_BLOCK * hist_count_size(h);
    uint32_t pos = hist_block_pos(h, blk);
    char *base;

    if (h->nblocks == h->cap) {
        /* A quarter more room each time: few reallocations while a histogram fills, and
         * little unused room after (reset keeps it for the next samples). */
        uint32_t cap = h->cap + h->cap / 4U + 1U;

        cap = cap < HIST_NBLOCKS ? cap : HIST_NBLOCKS;
        h->blocks = xreallocarray(h->blocks, cap, bsz);
        h->cap = (uint16_t)cap;
    }
    base = h->blocks;
    memmove(base + (size_t)(pos + 1U) * bsz, base + (size_t)pos * bsz,
            (size_t)(h->nblocks - pos) * bsz);
    memset(base + (size_t)pos * bsz, 0, bsz);
    h->nblocks++;
    h->hot = 0; /* the blocks after it moved */
    h->map[blk >> 6] |= 1ULL << (blk & 63U);
    for (uint32_t g = (blk >> 3) + 1U; g < HIST_RANK_GROUPS; g++) {
        h->rank[g]++;
    }
    return pos;
}

/* Free block blk, at position pos, which holds no samples any more: the blocks after it move
 * down one place. */
static void hist_block_remove(struct hist *h, uint32_t blk, uint32_t pos)
{
    size_t bsz = HIST_BLOCK * hist_count_size(h);
    char *base = h->blocks;

    memmove(base + (size_t)pos * bsz, base + (size_t)(pos + 1U) * bsz,
            (size_t)(h->nblocks - pos - 1U) * bsz);
    h->nblocks--;
    h->hot = 0;
    h->map[blk >> 6] &= ~(1ULL << (blk & 63U));
    for (uint32_t g = (blk >> 3) + 1U; g < HIST_RANK_GROUPS; g++) {
        h->rank[g]--;
    }
}

/* Make every count 64-bit: one of them is about to pass UINT32_MAX. */
static void hist_widen(struct hist *h)
{
    size_t n = (size_t)h->cap * HIST_BLOCK;
    uint64_t *w = xcalloc(n, sizeof(*w));
    const uint32_t *c = h->blocks;

    for (size_t i = 0; i < (size_t)h->nblocks * HIST_BLOCK; i++) {
        w[i] = c[i];
    }
    free(h->blocks);
    h->blocks = w;
    h->wide = true;
}

/* Make every count 32-bit again: the total fits (hist_sub took samples out), so no count can
 * pass UINT32_MAX, and hist_bump needs to check only the total. */
static void hist_narrow(struct hist *h)
{
    size_t n = (size_t)h->cap * HIST_BLOCK;
    uint32_t *c = xcalloc(n, sizeof(*c));
    const uint64_t *w = h->blocks;

    for (size_t i = 0; i < (size_t)h->nblocks * HIST_BLOCK; i++) {
        c[i] = (uint32_t)w[i];
    }
    free(h->blocks);
    h->blocks = c;
    h->wide = false;
}

/* Add n to the count at offset off when counts are 64-bit or must become so. */
__attribute__((noinline)) void hist_bump_wide(struct hist *h, uint32_t off, uint64_t n)
{
    if (!h->wide) {
        hist_widen(h);
    }
    ((uint64_t *)h->blocks)[off] += n;
}

void hist_init(struct hist *h)
{
    memset(h, 0, sizeof(*h));
}

void hist_done(struct hist *h)
{
    free(h->blocks);
    memset(h, 0, sizeof(*h));
}

void hist_reset(struct hist *h)
{
    /* Room for far more blocks than the samples just forgotten used goes (the next sample
     * allocates what it needs): a recycled window slot, which may serve another series next,
     * would otherwise keep the most it ever held. 64-bit counts go too: they were for one
     * long-lived histogram. Kept storage needs no clearing: a block is zeroed when it is
     * given a place again. */
    if (h->wide || h->cap > HIST_SHRINK_RATIO * (h->nblocks + 2U)) {
        free(h->blocks);
        h->blocks = NULL;
        h->cap = 0;
        h->wide = false;
    }
    memset(h->map, 0, sizeof(h->map));
    memset(h->rank, 0, sizeof(h->rank));
    h->nblocks = 0;
    h->hot = 0;
    h->count = 0;
    h->sum_ns = 0;
    h->min_ns = 0;
    h->max_ns = 0;
}

void hist_note_range(struct hist *h, uint64_t v_ns)
{
    if (h->count == 0) {
        h->min_ns = v_ns;
        h->max_ns = v_ns;
        return;
    }
    h->min_ns = v_ns < h->min_ns ? v_ns : h->min_ns;
    h->max_ns = v_ns > h->max_ns ? v_ns : h->max_ns;
}

void hist_merge(struct hist *dst, const struct hist *src)
{
    uint32_t pos = 0;

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

    /* The source's blocks in order: its pos-th stored block is the pos-th set map bit. */
    for (uint32_t w = 0; w < HIST_MAP_WORDS; w++) {
        for (uint64_t bits = src->map[w]; bits != 0; bits &= bits - 1U, pos++) {
            uint32_t blk = w * 64U + (uint32_t)__builtin_ctzll(bits);

            for (uint32_t j = 0; j < HIST_BLOCK; j++) {
                uint64_t c = hist_count_at(src, (pos << HIST_BLOCK_BITS) + j);

                if (c != 0) {
                    hist_bump(dst, (blk << HIST_BLOCK_BITS) + j, c);
                }
            }
        }
    }
}

void hist_copy(struct hist *dst, const struct hist *src)
{
    size_t bsz = HIST_BLOCK * hist_count_size(src);
    void *blocks = dst->blocks;
    uint16_t cap = dst->cap;

    /* Reuse dst's storage when it has room for src's blocks at src's count width. */
    if (dst->wide != src->wide || cap < src->nblocks) {
        free(blocks);
        cap = src->nblocks;
        blocks = cap > 0 ? xreallocarray(NULL, cap, bsz) : NULL;
    }
    *dst = *src;
    dst->blocks = blocks;
    dst->cap = cap;
    dst->hot = 0;
    if (src->nblocks > 0) {
        memcpy(blocks, src->blocks, (size_t)src->nblocks * bsz);
    }
}

void hist_sub(struct hist *dst, const struct hist *src)
{
    uint32_t pos = 0;

    if (src->count == 0) {
        return;
    }
    if (src->count >= dst->count) {
        /* All that dst held (more would break the contract). */
        hist_reset(dst);
        return;
    }
    dst->count -= src->count;
    dst->sum_ns -= src->sum_ns;

    /* The source's blocks in order, as in hist_merge; each is stored in dst too. */
    for (uint32_t w = 0; w < HIST_MAP_WORDS; w++) {
        for (uint64_t bits = src->map[w]; bits != 0; bits &= bits - 1U, pos++) {
            uint32_t blk = w * 64U + (uint32_t)__builtin_ctzll(bits);
            uint32_t dpos = hist_block_pos(dst, blk);
            uint64_t left = 0;

            if ((dst->map[blk >> 6] >> (blk & 63U) & 1U) == 0) {
                continue; /* not held: the contract was broken; nothing to take */
            }
            for (uint32_t j = 0; j < HIST_BLOCK; j++) {
                uint64_t c = hist_count_at(src, (pos << HIST_BLOCK_BITS) + j);
                uint32_t off = (dpos << HIST_BLOCK_BITS) + j;
                uint64_t d = hist_count_at(dst, off);

                d = c < d ? d - c : 0;
                if (dst->wide) {
                    ((uint64_t *)dst->blocks)[off] = d;
                } else {
                    ((uint32_t *)dst->blocks)[off] = (uint32_t)d;
                }
                left |= d;
            }
            if (left == 0) {
                hist_block_remove(dst, blk, dpos);
            }
        }
    }
    if (dst->wide && dst->count <= UINT32_MAX) {
        hist_narrow(dst);
    }
}

void hist_set_range(struct hist *h, uint64_t min_ns, uint64_t max_ns)
{
    h->min_ns = min_ns;
    h->max_ns = max_ns;
}

/* Nearest rank of pct among count samples: sample number ceil(p * n) counted from 1. */
static uint64_t hist_rank(const struct hist *h, double pct)
{
    /* Multiply before dividing: for integer pct and counts below 2^46 the product is exact,
     * so e.g. p99 of 100 samples is rank 99, not 100 from 0.99 * 100 rounding up. */
    double want = ceil(pct * (double)h->count / 100.0);

    if (want < 1.0) {
        return 1;
    }
    if (want >= (double)h->count) {
        return h->count;
    }
    return (uint64_t)want;
}

/* The value shown for rank, which falls in bucket idx. The first and last ranks are the exact
 * extremes, which we know. Otherwise the midpoint may lie outside the samples when an extreme
 * bucket is sparsely used, so clamp it to [min, max]. */
static inline uint64_t hist_rank_value(const struct hist *h, uint64_t rank, uint32_t idx)
{
    uint64_t v;

    if (rank == 1) {
        v = h->min_ns;
    } else if (rank == h->count) {
        v = h->max_ns;
    } else {
        v = hist_bucket_mid(idx);
    }
    if (v < h->min_ns) {
        v = h->min_ns;
    } else if (v > h->max_ns) {
        v = h->max_ns;
    }
    return v;
}

/* The walk of hist_percentiles for counts of one width (wide is a constant at each call, so
 * each width gets its own loop). Fills out_ns from the first rank on while the ranks are below
 * the count; returns how many it filled. cum < rank holds before each bucket, so the bucket
 * where cum + c reaches the rank is not empty. */
static inline __attribute__((always_inline)) size_t
hist_walk(const struct hist *h, bool wide, const double *pct, size_t n, uint64_t *out_ns)
{
    const uint64_t count = h->count;
    const uint32_t *c32 = h->blocks;
    const uint64_t *c64 = h->blocks;
    uint64_t rank = hist_rank(h, pct[0]);
    uint64_t cum = 0;
    uint32_t pos = 0;
    size_t j = 0;

    if (rank >= count) {
        return 0;
    }
    for (uint32_t w = 0; w < HIST_MAP_WORDS; w++) {
        for (uint64_t bits = h->map[w]; bits != 0; bits &= bits - 1U, pos++) {
            uint32_t blk = w * 64U + (uint32_t)__builtin_ctzll(bits);
            uint32_t first = pos << HIST_BLOCK_BITS;
            uint64_t base = cum;
            uint64_t bsum = 0;
            uint32_t k = 0;

            /* A block that does not reach the next rank is passed whole (its 16 counts
             * summed in a fixed loop the compiler vectorises): most of the walk is over
             * blocks below p50 or between the ranks. */
            if (wide) {
                const uint64_t *b = c64 + first;

                for (uint32_t i = 0; i < HIST_BLOCK; i++) {
                    bsum += b[i];
                }
            } else {
                const uint32_t *b = c32 + first;

                for (uint32_t i = 0; i < HIST_BLOCK; i++) {
                    bsum += b[i];
                }
            }
            while (base + bsum >= rank) {
                uint64_t c = wide ? c64[first + k] : c32[first + k];

                while (cum + c < rank && k + 1U < HIST_BLOCK) {
                    cum += c;
                    k++;
                    c = wide ? c64[first + k] : c32[first + k];
                }
                out_ns[j] = hist_rank_value(h, rank, (blk << HIST_BLOCK_BITS) + k);
                if (++j == n) {
                    return j;
                }
                rank = hist_rank(h, pct[j]);
                if (rank >= count) {
                    return j;
                }
            }
            cum = base + bsum;
        }
    }
    return j; /* unreachable while the bucket counts add up to count */
}

void hist_percentiles(const struct hist *h, const double *pct, size_t n, uint64_t *out_ns)
{
    size_t j = 0;

    if (h->count == 0) {
        for (j = 0; j < n; j++) {
            out_ns[j] = 0;
        }
        return;
    }
    /* One walk over the stored buckets serves all requested ranks, since pct is ascending:
     * rank r falls in the first bucket whose cumulative count reaches r. The last rank is the
     * exact maximum, found without walking: so are the ranks after it. */
    if (n > 0) {
        j = h->wide ? hist_walk(h, true, pct, n, out_ns) : hist_walk(h, false, pct, n, out_ns);
    }
    /* The maximum for the last ranks; also (unreachable while the bucket counts add up to
     * count) for any the walk did not find. */
    for (; j < n; j++) {
        out_ns[j] = hist_rank_value(h, h->count, 0);
    }
}

void hist_percentiles2(const struct hist *a, const struct hist *b, const double *pct, size_t n,
                       uint64_t *out_ns)
{
    struct hist u; /* the union's count and extremes, for the ranks and their values */
    uint64_t cum = 0, rank;
    size_t j = 0;

    if (b == NULL || b->count == 0) {
        hist_percentiles(a, pct, n, out_ns);
        return;
    }
    if (a->count == 0) {
        hist_percentiles(b, pct, n, out_ns);
        return;
    }
    u.count = a->count + b->count;
    u.min_ns = a->min_ns < b->min_ns ? a->min_ns : b->min_ns;
    u.max_ns = a->max_ns > b->max_ns ? a->max_ns : b->max_ns;
    rank = n > 0 ? hist_rank(&u, pct[0]) : u.count;
    /* The blocks of either, in order; a bucket's count is the sum of both. */
    for (uint32_t w = 0; w < HIST_MAP_WORDS && rank < u.count; w++) {
        for (uint64_t bits = a->map[w] | b->map[w]; bits != 0 && rank < u.count;
             bits &= bits - 1U) {
            uint32_t blk = w * 64U + (uint32_t)__builtin_ctzll(bits);
            bool ina = (a->map[w] >> (blk & 63U) & 1U) != 0;
            bool inb = (b->map[w] >> (blk & 63U) & 1U) != 0;
            uint32_t fa = ina ? hist_block_pos(a, blk) << HIST_BLOCK_BITS : 0;
            uint32_t fb = inb ? hist_block_pos(b, blk) << HIST_BLOCK_BITS : 0;

            for (uint32_t k = 0; k < HIST_BLOCK && rank < u.count; k++) {
                uint64_t c =
                    (ina ? hist_count_at(a, fa + k) : 0) + (inb ? hist_count_at(b, fb + k) : 0);

                while (cum + c >= rank && rank < u.count) {
                    out_ns[j] = hist_rank_value(&u, rank, (blk << HIST_BLOCK_BITS) + k);
                    if (++j == n) {
                        return;
                    }
                    rank = hist_rank(&u, pct[j]);
                }
                cum += c;
            }
        }
    }
    /* The last ranks are the exact maximum. */
    for (; j < n; j++) {
        out_ns[j] = hist_rank_value(&u, u.count, 0);
    }
}

uint64_t hist_count_le(const struct hist *h, uint64_t v_ns)
{
    uint32_t idx;
    uint32_t pos = 0;
    uint64_t n = 0;

    if (h->count == 0 || v_ns < h->min_ns) {
        return 0;
    }
    if (v_ns >= h->max_ns) {
        return h->count;
    }
    /* Every stored bucket up to v_ns's own holds samples <= v_ns (and the rest of v_ns's
     * bucket). */
    idx = hist_index(v_ns);
    for (uint32_t w = 0; w < HIST_MAP_WORDS; w++) {
        for (uint64_t bits = h->map[w]; bits != 0; bits &= bits - 1U, pos++) {
            uint32_t first = (w * 64U + (uint32_t)__builtin_ctzll(bits)) << HIST_BLOCK_BITS;

            if (first > idx) {
                return n;
            }
            for (uint32_t k = 0; k < HIST_BLOCK && first + k <= idx; k++) {
                n += hist_count_at(h, (pos << HIST_BLOCK_BITS) + k);
            }
        }
    }
    return n;
}

size_t hist_bytes(const struct hist *h)
{
    return (size_t)h->cap * HIST_BLOCK * hist_count_size(h);
}

uint64_t hist_percentile(const struct hist *h, double pct)
{
    uint64_t v;

    hist_percentiles(h, &pct, 1, &v);
    return v;
}
