/* SPDX-License-Identifier: MIT */
/* The fleet's spread, computed where rows are made so that every output (the display, the
 * snapshot, the logs, the text report) shows the same figures.
 *
 * The choice behind it: each workload of each instance that Prometheus scrapes is a process
 * of the store (role STORE_FLEET_MEMBER) with its own latency tree of imported figures, so
 * the Workloads view, the header and the per-process outputs work on members unchanged, and
 * a member can be shown alone. The fleet itself is one more process (STORE_FLEET_ALL) whose
 * tree holds the figures of the whole fleet (Prometheus' quantiles over every member's
 * buckets); only its rows carry the spread, computed here from the members' rows. */
#include "src/model/fleet.h"

#include <stdlib.h>
#include <string.h>

#include "src/base/xalloc.h"
#include "src/model/rows.h"
#include "src/model/store.h"
#include "src/model/store_internal.h"

/* One member's p99 of one path. */
struct fleet_p99 {
    uint64_t hash; /* the row's path_hash */
    uint64_t p99_ns;
    const char *path;  /* borrowed from the member's rows */
    const char *label; /* the member's, borrowed from the store */
};

static int fleet_p99_cmp(const void *a, const void *b)
{
    const struct fleet_p99 *x = a, *y = b;

    if (x->hash != y->hash) {
        return x->hash < y->hash ? -1 : 1;
    }
    return x->p99_ns < y->p99_ns ? -1 : x->p99_ns > y->p99_ns ? 1 : 0;
}

/* The first entry of v[n] (sorted) with hash, or n. */
static size_t fleet_p99_find(const struct fleet_p99 *v, size_t n, uint64_t hash)
{
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (v[mid].hash < hash) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

void fleet_spread(struct rows *out, size_t first, const struct store_proc *fleet, uint64_t now_ns)
{
    const struct store *st = fleet->st;
    size_t nprocs = store_nprocs(st), nm = 0, ne = 0, cap = 0;
    struct rows *member = xcalloc(nprocs > 0 ? nprocs : 1, sizeof(*member));
    struct fleet_p99 *e = NULL;
    uint64_t *pick = NULL;
    size_t pick_cap = 0;

    /* Every live member's rows, and its p99 of each path it has one for. */
    for (size_t i = 0; i < nprocs; i++) {
        const struct store_proc *q = store_proc_at(st, i);
        struct rows *r = &member[nm];

        if (q == NULL || store_proc_fleet(q) != STORE_FLEET_MEMBER ||
            store_proc_state(q) != STORE_PROC_LIVE) {
            continue;
        }
        nm++;
        rows_init(r);
        rows_build_latency(r, q, now_ns);
        for (size_t k = 0; k < r->n; k++) {
            const struct row *row = &r->v[k];

            if (!rows_stat_known(&row->win, (row->flags & ROW_F_WIN) != 0, ROW_S_P99)) {
                continue;
            }
            if (ne == cap) {
                cap = cap > 0 ? cap * 2 : 64;
                e = xreallocarray(e, cap, sizeof(*e));
            }
            e[ne].hash = row->path_hash;
            e[ne].p99_ns = row->win.p99_ns;
            e[ne].path = row->path;
            e[ne].label = q->label;
            ne++;
        }
    }
    if (ne > 0) {
        qsort(e, ne, sizeof(*e), fleet_p99_cmp);
    }
    /* Each fleet row: the members' figures of its path, smallest first (labels may hold '/',
     * so equal hashes are told apart by the path itself). */
    for (size_t i = first; i < out->n && ne > 0; i++) {
        struct row *row = &out->v[i];
        size_t j = fleet_p99_find(e, ne, row->path_hash), n = 0;
        const char *slowest = NULL;

        for (; j < ne && e[j].hash == row->path_hash; j++) {
            if (strcmp(e[j].path, row->path) != 0) {
                continue;
            }
            if (n == pick_cap) {
                pick_cap = pick_cap > 0 ? pick_cap * 2 : 16;
                pick = xreallocarray(pick, pick_cap, sizeof(*pick));
            }
            pick[n++] = e[j].p99_ns;
            slowest = e[j].label;
        }
        if (n == 0) {
            continue;
        }
        row->flags |= ROW_F_SPREAD;
        row->spread_n = (uint32_t)n;
        row->spread_min_ns = pick[0];
        row->spread_max_ns = pick[n - 1];
        /* Sorted ascending: the midpoint of the middle two cannot overflow this way. */
        row->spread_median_ns =
            n % 2 == 1 ? pick[n / 2] : pick[n / 2 - 1] + (pick[n / 2] - pick[n / 2 - 1]) / 2;
        row->slowest = slowest;
    }
    for (size_t i = 0; i < nm; i++) {
        rows_done(&member[i]);
    }
    free(member);
    free(e);
    free(pick);
}
