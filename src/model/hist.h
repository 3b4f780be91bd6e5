/* SPDX-License-Identifier: MIT */
/* A sparse log-linear histogram of integer durations (ns): exact below 128, then 64 buckets
 * per power of two, so a bucket's midpoint is within 1/128 of every value in it. Storage is
 * kept only for the blocks of 16 buckets that hold samples, so its size follows how many
 * distinct buckets are used, not how far apart the values are. */
#ifndef NCTOP_SRC_HIST_H
#define NCTOP_SRC_HIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Number of bucket indexes for the whole uint64_t range (the last octave ends at 2^64). */
#define HIST_NBUCKETS 3776U

/* Buckets per storage block; words of the block map (HIST_NBUCKETS / 16 = 236 blocks); groups
 * of 8 blocks with a rank each. */
#define HIST_BLOCK 16U
#define HIST_MAP_WORDS 4U
#define HIST_RANK_GROUPS 30U

/* Transparent so it can be embedded: hist_init/hist_done. Bucket counts live in blocks of
 * HIST_BLOCK consecutive buckets; only blocks holding samples have storage, kept in block
 * order. Counts are 32-bit until one would pass UINT32_MAX, then all become 64-bit. At most
 * HIST_NBUCKETS * 8 bytes (30 KB) whatever the samples; 64 bytes per block used otherwise. */
struct hist {
    uint64_t count;                 /* samples */
    uint64_t sum_ns;                /* exact sum of the samples */
    uint64_t min_ns;                /* exact; meaningful when count > 0 */
    uint64_t max_ns;                /* exact; meaningful when count > 0 */
    void *blocks;                   /* owned; cap blocks of counts, the first nblocks in use */
    uint64_t map[HIST_MAP_WORDS];   /* bit b set: block b (buckets 16b .. 16b+15) is stored */
    uint8_t rank[HIST_RANK_GROUPS]; /* stored blocks before group g (blocks 8g .. 8g + 7) */
    uint16_t nblocks;               /* blocks in use */
    uint16_t cap;                   /* blocks the storage has room for */
    uint16_t hot;                   /* 1 + the block last bumped, 0: none (a series' samples
                                     * mostly fall in the block of the previous one) */
    uint16_t hot_pos;               /* its position in the storage */
    bool wide;                      /* counts are uint64_t (else uint32_t) */
};

void hist_init(struct hist *h);
void hist_done(struct hist *h); /* frees the buckets; h may be re-initialised */

/* Forget all samples. The block storage is kept for the next samples unless it has room for
 * several times the blocks these samples used (or holds 64-bit counts): then it is freed. */
void hist_reset(struct hist *h);

/* Add every sample of src to dst (dst becomes the histogram of the union); dst != src. */
void hist_merge(struct hist *dst, const struct hist *src);

/* Make dst a copy of src (dst != src; dst initialised; its storage is reused when it can). */
void hist_copy(struct hist *dst, const struct hist *src);

/* Take the samples of src back out of dst, which must hold them all (src was merged or added
 * into it); dst != src. Blocks left empty are freed from the order, so dst is what merging the
 * remaining parts would give. count and sum_ns are exact; min_ns and max_ns are left as they
 * were, for the caller to set from what it knows of the rest (hist_set_range). Emptied, dst is
 * reset. */
void hist_sub(struct hist *dst, const struct hist *src);

/* Set the extremes of a non-empty h (after hist_sub). */
void hist_set_range(struct hist *h, uint64_t min_ns, uint64_t max_ns);

/* Nearest-rank percentile, pct in 0..100: the midpoint of the bucket holding sample number
 * ceil(pct / 100 * count), clamped to [min, max]; ranks 1 and count give the exact min and
 * max. 0 for an empty histogram. */
uint64_t hist_percentile(const struct hist *h, double pct);

/* Several percentiles in one pass; pct must be ascending. out_ns gets n values. */
void hist_percentiles(const struct hist *h, const double *pct, size_t n, uint64_t *out_ns);

/* hist_percentiles of the union of a and b (b may be NULL), without merging them. */
void hist_percentiles2(const struct hist *a, const struct hist *b, const double *pct, size_t n,
                       uint64_t *out_ns);

/* Samples <= v_ns, at bucket resolution: a sample in v_ns's own bucket counts (so the answer
 * may include values up to 1/64 above v_ns; exact below 128). For cumulative exporters. */
uint64_t hist_count_le(const struct hist *h, uint64_t v_ns);

/* Heap bytes h holds for its buckets (the struct itself not counted): for memory figures. */
size_t hist_bytes(const struct hist *h);

/* Bucket geometry, exposed for tests: a bucket's value range (hist_index, above: the index
 * of a value). */
uint64_t hist_bucket_low(uint32_t index);
uint64_t hist_bucket_mid(uint32_t index);

/* --- adding samples, inline: a span end's cost is mostly this -------------------------- */

#define HIST_SUB_BITS 6U      /* 64 buckets per power of two */
#define HIST_EXACT_LIMIT 128U /* values below have a bucket each */
#define HIST_BLOCK_BITS 4U    /* HIST_BLOCK = 2^HIST_BLOCK_BITS */

/* Internals of the inline path (hist.c): set bits of each byte value (the baseline x86-64
 * target has no popcount instruction, and the builtin is a library call); a new block's
 * storage; a bump that needs 64-bit counts. */
extern const uint8_t hist_pop8[256];
uint32_t hist_block_insert(struct hist *h, uint32_t blk);
void hist_bump_wide(struct hist *h, uint32_t off, uint64_t n);

/* The bucket of a value (the geometry is described in hist.c). */
static inline uint32_t hist_index(uint64_t v_ns)
{
    uint32_t e;

    if (v_ns < HIST_EXACT_LIMIT) {
        return (uint32_t)v_ns;
    }
    e = 63U - (uint32_t)__builtin_clzll(v_ns) - HIST_SUB_BITS;
    return (e << HIST_SUB_BITS) + (uint32_t)(v_ns >> e);
}

/* Account n samples in bucket idx; h->count already includes them, so while it fits in 32
 * bits no bucket can pass UINT32_MAX (and the counts are 32-bit: hist_sub makes them so
 * again when the total falls back). Inlined into hist_add, hist_add2 and hist_merge: the
 * call cost as much as the bump. A series' samples mostly fall in the block of the one before,
 * whose place is remembered (looking it up each time measured slower, even where durations
 * straddle block edges and the guess fails about every other sample). */
static inline __attribute__((always_inline)) void hist_bump(struct hist *h, uint32_t idx,
                                                            uint64_t n)
{
    uint32_t blk = idx >> HIST_BLOCK_BITS;
    uint32_t pos;
    uint32_t off;

    if (__builtin_expect(h->hot == blk + 1U, 1)) {
        pos = h->hot_pos;
    } else {
        uint32_t byte = (uint32_t)(h->map[blk >> 6] >> (blk & 56U)) & 0xffU;
        uint32_t bit = blk & 7U;

        if (__builtin_expect((byte >> bit & 1U) != 0, 1)) {
            pos = h->rank[blk >> 3] + hist_pop8[byte & ((1U << bit) - 1U)];
        } else {
            pos = hist_block_insert(h, blk);
        }
        h->hot = (uint16_t)(blk + 1U);
        h->hot_pos = (uint16_t)pos;
    }
    off = (pos << HIST_BLOCK_BITS) + (idx & (HIST_BLOCK - 1U));
    if (__builtin_expect(h->count <= UINT32_MAX, 1)) {
        ((uint32_t *)h->blocks)[off] += (uint32_t)n;
        return;
    }
    hist_bump_wide(h, off, n);
}

/* The extremes of one more sample v_ns outside [min, max] (or the first one): out of line,
 * since after a few samples most fall inside. */
void hist_note_range(struct hist *h, uint64_t v_ns);

/* count, sum, min and max of one more sample v_ns. An empty histogram holds min = max = 0
 * (hist_init, hist_reset), so a first sample of 0 needs nothing and any other one is
 * outside the range: two compares in the common case. */
static inline __attribute__((always_inline)) void hist_note(struct hist *h, uint64_t v_ns)
{
    if (__builtin_expect(v_ns < h->min_ns || v_ns > h->max_ns, 0)) {
        hist_note_range(h, v_ns);
    }
    h->count++;
    h->sum_ns += v_ns;
}

/* Add one sample. Allocates only when v_ns needs a block beyond the storage's room. */
static inline void hist_add(struct hist *h, uint64_t v_ns)
{
    hist_note(h, v_ns);
    hist_bump(h, hist_index(v_ns), 1U);
}

/* Add one sample to both a and b (a != b): a series' since-start histogram and its window
 * slot, with the bucket found once. */
static inline __attribute__((always_inline)) void hist_add2(struct hist *a, struct hist *b,
                                                            uint64_t v_ns)
{
    uint32_t idx = hist_index(v_ns);

    hist_note(a, v_ns);
    hist_bump(a, idx, 1U);
    hist_note(b, v_ns);
    hist_bump(b, idx, 1U);
}

#endif /* NCTOP_SRC_HIST_H */
