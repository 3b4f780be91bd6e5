/* SPDX-License-Identifier: MIT */
/* The compilations of a process as a whole. Counts since start come from the per-label-pair
 * statistics (they outlive the log of kept instances); the window's figures from the kept
 * instances that ended in it, so the histogram shows what the Compile view lists. */
#include "src/model/compile.h"

#include <math.h>
#include <string.h>

#include "src/model/rows.h"
#include "src/model/store.h"
#include "src/model/store_internal.h"

unsigned compile_bin(uint64_t ns, uint64_t min_ns, uint64_t max_ns)
{
    double f;
    unsigned b;

    if (min_ns >= max_ns || ns <= min_ns || min_ns == 0) {
        /* a zero-length compilation: linear from 0 instead of a log of 0 */
        if (min_ns == 0 && max_ns > 0 && ns > 0) {
            f = (double)ns / (double)max_ns;
        } else {
            return 0;
        }
    } else {
        f = log((double)ns / (double)min_ns) / log((double)max_ns / (double)min_ns);
    }
    b = (unsigned)(f * ROWS_COMPILE_BINS);
    return b < ROWS_COMPILE_BINS ? b : ROWS_COMPILE_BINS - 1U;
}

void compile_summary(struct rows_compile_sum *out, const struct store_proc *p, uint64_t now_ns)
{
    uint64_t window_ns = p->st->cfg.window_ns;
    uint64_t from = now_ns > window_ns ? now_ns - window_ns : 0;

    memset(out, 0, sizeof(*out));
    out->total = p->insts_total;
    out->kept = p->ninsts;
    for (uint32_t k = 0; k < p->ninst_stats; k++) {
        out->ok += p->inst_stats[k].n[STORE_INST_OK];
        out->failed += p->inst_stats[k].n[STORE_INST_FAILED];
    }
    /* Two passes over the kept ones: the range, then the bins on it. */
    for (int pass = 0; pass < 2; pass++) {
        for (uint32_t k = 0; k < p->ninsts; k++) {
            const struct store_instance *in = &p->insts[k];
            uint64_t d = in->end_ns - in->begin_ns;

            if (in->end_ns < from || in->end_ns > now_ns) {
                continue;
            }
            if (pass == 1) {
                out->bins[compile_bin(d, out->win_min_ns, out->win_max_ns)]++;
                continue;
            }
            if (out->win_n == 0 || d < out->win_min_ns) {
                out->win_min_ns = d;
            }
            if (d > out->win_max_ns) {
                out->win_max_ns = d;
            }
            out->win_n++;
            out->win_ok += in->status == STORE_INST_OK ? 1U : 0U;
            out->win_failed += in->status == STORE_INST_FAILED ? 1U : 0U;
        }
    }
}
