/* SPDX-License-Identifier: MIT */
/* snnc: the place pass puts the partition's cores on the chip's 2D mesh so that spikes cross
 * few links. First the traffic: for each (source core, destination core) pair some synapse
 * connects, the expected packets per inference (source neurons that reach it times their
 * expected spikes). The cost of a placement is the sum of packets x Manhattan hops: the
 * expected hops per inference. Simulated annealing, from the runtime's row-major placement:
 * a core moves to a free mesh position or swaps with the core there, within a window that
 * shrinks with the temperature; a move that raises the cost by D is taken with probability
 * exp(-D / T), T falling geometrically from the mean cost rise of random moves to a
 * thousandth of it. The seed is fixed, so one description gives one placement. While it runs
 * the probe publishes the cost and the accepted moves. */
#include "compile_internal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>

#include "mem.h"
#include "models/snn/rng.h"
#include "models/snn/target.h"
#include "probe.h"

#define COMPILE_PLACE_STREAM 200       /* the annealer's random stream of the seed */
#define COMPILE_PLACE_PER_CORE 2000    /* default iterations per core */
#define COMPILE_PLACE_MAX 2000000ULL   /* ... at most */
#define COMPILE_PLACE_WORK 20000000ULL /* ... and at most this many neighbour visits */
#define COMPILE_PLACE_PUBLISH 1024     /* iterations between two publications */
#define COMPILE_PLACE_SAMPLES 256      /* random moves that set the first temperature */
#define COMPILE_NONE UINT32_MAX

/* One neighbour of a core in the undirected traffic graph. */
struct compile_adj {
    uint32_t other;
    double weight;
};

/* The annealer's state. */
struct compile_anneal {
    const struct target *t;
    uint32_t n;       /* cores */
    uint32_t *pos;    /* core -> mesh position */
    uint32_t *occ;    /* mesh position -> core, or COMPILE_NONE */
    uint32_t *adj_at; /* n + 1 */
    struct compile_adj *adj;
    uint32_t n_adj;
    uint32_t mesh_h;
    struct rng rng;
};

double compile_expected_spikes(const struct compilation *c, int l)
{
    return c->d->layers[l].expect_hz * c->d->window_ms * 1e-3;
}

/* Append an edge, doubling the counted array when it is full. */
static int compile_place_push(struct compilation *c, const struct compile_edge *e)
{
    if (c->n_edges == c->edges_cap) {
        uint32_t cap = c->edges_cap > 0 ? 2 * c->edges_cap : 64;
        struct compile_edge *grown = mem_calloc(cap, sizeof(*grown));

        if (grown == NULL) {
            return -ENOMEM;
        }
        for (uint32_t i = 0; i < c->n_edges; i++) {
            grown[i] = c->edges[i];
        }
        mem_free(c->edges, c->edges_cap, sizeof(*c->edges));
        c->edges = grown;
        c->edges_cap = cap;
    }
    c->edges[c->n_edges++] = *e;
    return 0;
}

/* Scratch arrays of the edge count, by logical core. */
struct compile_scratch {
    uint32_t *seen;    /* the stamp of the last source neuron that reached the core */
    uint32_t *acc;     /* source neurons of the open core that reach it */
    uint32_t *touched; /* the cores acc holds a count for */
    uint32_t stamp;
};

/* The edges of projection k: per source core, the destination cores its neurons reach and
 * how many of its neurons reach each. */
static int compile_place_edges_of(struct compilation *c, uint32_t k, uint32_t *core_of,
                                  struct compile_scratch *sc)
{
    const struct image_proj *ip = &c->img.proj[k];
    const struct image_layer *S = &c->img.layers[ip->src], *D = &c->img.layers[ip->dst];
    uint32_t s_base = 0, d_base = 0, *row = NULL, *fill = NULL, *dst = NULL;
    uint32_t n_src = S->core_first[S->n_cores];
    double spikes = compile_expected_spikes(c, (int)ip->src);
    int rc = 0;

    for (uint32_t l = 0; l < ip->src; l++) {
        s_base += c->img.layers[l].n_cores;
    }
    for (uint32_t l = 0; l < ip->dst; l++) {
        d_base += c->img.layers[l].n_cores;
    }
    for (uint32_t dc = 0; dc < D->n_cores; dc++) {
        for (uint32_t j = D->core_first[dc]; j < D->core_first[dc + 1]; j++) {
            core_of[j] = d_base + dc;
        }
    }
    /* the synapses' destination cores, grouped by source neuron */
    row = mem_calloc((size_t)n_src + 1, sizeof(*row));
    fill = mem_calloc(n_src, sizeof(*fill));
    dst = mem_calloc(ip->n_syn, sizeof(*dst));
    if (row == NULL || fill == NULL || dst == NULL) {
        rc = -ENOMEM;
        goto out;
    }
    for (uint32_t s = 0; s < ip->n_syn; s++) {
        row[ip->syn[s].src + 1]++;
    }
    for (uint32_t i = 0; i < n_src; i++) {
        row[i + 1] += row[i];
    }
    for (uint32_t s = 0; s < ip->n_syn; s++) {
        uint32_t i = ip->syn[s].src;

        dst[row[i] + fill[i]++] = core_of[ip->syn[s].dst];
    }
    for (uint32_t a = 0; a < S->n_cores && rc == 0; a++) {
        uint32_t n_touched = 0;

        for (uint32_t i = S->core_first[a]; i < S->core_first[a + 1]; i++) {
            sc->stamp++;
            for (uint32_t q = row[i]; q < row[i + 1]; q++) {
                uint32_t b = dst[q];

                if (sc->seen[b] == sc->stamp) {
                    continue;
                }
                sc->seen[b] = sc->stamp;
                if (sc->acc[b]++ == 0) {
                    sc->touched[n_touched++] = b;
                }
            }
        }
        for (uint32_t t = 0; t < n_touched && rc == 0; t++) {
            uint32_t b = sc->touched[t];
            const struct compile_edge e = {
                .a = s_base + a, .b = b, .n = sc->acc[b], .weight = sc->acc[b] * spikes};

            rc = compile_place_push(c, &e);
            sc->acc[b] = 0;
        }
    }
out:
    mem_free(row, (size_t)n_src + 1, sizeof(*row));
    mem_free(fill, n_src, sizeof(*fill));
    mem_free(dst, ip->n_syn, sizeof(*dst));
    return rc;
}

static int compile_place_edges(struct compilation *c)
{
    struct compile_scratch sc = {0};
    uint32_t max_n = 1, *core_of;
    int rc = 0;

    for (uint32_t l = 0; l < c->img.n_layers; l++) {
        uint32_t n = c->img.layers[l].core_first[c->img.layers[l].n_cores];

        max_n = n > max_n ? n : max_n;
    }
    core_of = mem_calloc(max_n, sizeof(*core_of));
    sc.seen = mem_calloc(c->n_cores, sizeof(*sc.seen));
    sc.acc = mem_calloc(c->n_cores, sizeof(*sc.acc));
    sc.touched = mem_calloc(c->n_cores, sizeof(*sc.touched));
    if (core_of == NULL || sc.seen == NULL || sc.acc == NULL || sc.touched == NULL) {
        rc = -ENOMEM;
    }
    for (uint32_t k = 0; k < c->img.n_proj && rc == 0; k++) {
        rc = compile_place_edges_of(c, k, core_of, &sc);
    }
    mem_free(core_of, max_n, sizeof(*core_of));
    mem_free(sc.seen, c->n_cores, sizeof(*sc.seen));
    mem_free(sc.acc, c->n_cores, sizeof(*sc.acc));
    mem_free(sc.touched, c->n_cores, sizeof(*sc.touched));
    return rc;
}

/* The undirected neighbours of each core (edges within a core cost nothing: left out). */
static int compile_anneal_adj(struct compile_anneal *A, const struct compilation *c)
{
    uint32_t *fill;

    A->adj_at = mem_calloc((size_t)A->n + 1, sizeof(*A->adj_at));
    fill = mem_calloc(A->n, sizeof(*fill));
    if (A->adj_at == NULL || fill == NULL) {
        mem_free(fill, A->n, sizeof(*fill));
        return -ENOMEM;
    }
    for (uint32_t e = 0; e < c->n_edges; e++) {
        if (c->edges[e].a != c->edges[e].b) {
            A->adj_at[c->edges[e].a + 1]++;
            A->adj_at[c->edges[e].b + 1]++;
        }
    }
    for (uint32_t x = 0; x < A->n; x++) {
        A->adj_at[x + 1] += A->adj_at[x];
    }
    A->n_adj = A->adj_at[A->n];
    A->adj = mem_calloc(A->n_adj, sizeof(*A->adj));
    if (A->adj == NULL) {
        mem_free(fill, A->n, sizeof(*fill));
        return -ENOMEM;
    }
    for (uint32_t e = 0; e < c->n_edges; e++) {
        const struct compile_edge *E = &c->edges[e];

        if (E->a != E->b) {
            A->adj[A->adj_at[E->a] + fill[E->a]++] =
                (struct compile_adj){.other = E->b, .weight = E->weight};
            A->adj[A->adj_at[E->b] + fill[E->b]++] =
                (struct compile_adj){.other = E->a, .weight = E->weight};
        }
    }
    mem_free(fill, A->n, sizeof(*fill));
    return 0;
}

static double compile_anneal_cost(const struct compile_anneal *A, const struct compilation *c)
{
    double cost = 0.0;

    for (uint32_t e = 0; e < c->n_edges; e++) {
        cost +=
            c->edges[e].weight * target_hops(A->t, A->pos[c->edges[e].a], A->pos[c->edges[e].b]);
    }
    return cost;
}

/* The cost change of moving core x to position p, its edge to `ignore` left out (a swap
 * partner: their distance does not change). */
static double compile_anneal_move(const struct compile_anneal *A, uint32_t x, uint32_t p,
                                  uint32_t ignore)
{
    double d = 0.0;

    for (uint32_t k = A->adj_at[x]; k < A->adj_at[x + 1]; k++) {
        uint32_t q;

        if (A->adj[k].other == ignore) {
            continue;
        }
        q = A->pos[A->adj[k].other];
        d += A->adj[k].weight *
             ((double)target_hops(A->t, p, q) - (double)target_hops(A->t, A->pos[x], q));
    }
    return d;
}

/* A random move of a random core within radius: its core, target position and cost change. */
static double compile_anneal_pick(struct compile_anneal *A, uint32_t radius, uint32_t *x,
                                  uint32_t *p)
{
    uint32_t w = A->t->mesh_w, px, py;
    long nx, ny;
    uint32_t y;

    *x = rng_below(&A->rng, A->n);
    px = A->pos[*x] % w;
    py = A->pos[*x] / w;
    nx = (long)px + (long)rng_below(&A->rng, 2 * radius + 1) - (long)radius;
    ny = (long)py + (long)rng_below(&A->rng, 2 * radius + 1) - (long)radius;
    nx = nx < 0 ? 0 : nx >= (long)w ? (long)w - 1 : nx;
    ny = ny < 0 ? 0 : ny >= (long)A->mesh_h ? (long)A->mesh_h - 1 : ny;
    *p = (uint32_t)ny * w + (uint32_t)nx;
    if (*p >= A->t->cores || *p == A->pos[*x]) {
        return NAN; /* off the chip's last row, or no move */
    }
    y = A->occ[*p];
    if (y == COMPILE_NONE) {
        return compile_anneal_move(A, *x, *p, COMPILE_NONE);
    }
    return compile_anneal_move(A, *x, *p, y) + compile_anneal_move(A, y, A->pos[*x], *x);
}

static void compile_anneal_apply(struct compile_anneal *A, uint32_t x, uint32_t p)
{
    uint32_t from = A->pos[x], y = A->occ[p];

    A->occ[p] = x;
    A->pos[x] = p;
    A->occ[from] = y;
    if (y != COMPILE_NONE) {
        A->pos[y] = from;
    }
}

static void compile_anneal_run(struct compile_anneal *A, struct compile_result *r, uint64_t iters,
                               double cost)
{
    uint32_t r_max = A->t->mesh_w > A->mesh_h ? A->t->mesh_w : A->mesh_h;
    double t0, sum = 0.0, ratio;
    uint64_t rises = 0, published = 0, published_iters = 0;

    /* the first temperature: the mean rise of random moves over the whole mesh */
    for (int i = 0; i < COMPILE_PLACE_SAMPLES; i++) {
        uint32_t x, p;
        double d = compile_anneal_pick(A, r_max, &x, &p);

        if (d > 0.0) {
            sum += d;
            rises++;
        }
    }
    t0 = rises > 0 ? sum / (double)rises : 1.0;
    ratio = iters > 1 ? pow(1e-3, 1.0 / (double)(iters - 1)) : 1.0;
    probe_place_progress(cost, 0, 0);
    for (uint64_t it = 0; it < iters; it++) {
        double temp = t0 * pow(ratio, (double)it), frac = temp / t0;
        uint32_t radius = (uint32_t)fmax(1.0, round(r_max * frac)), x, p;
        double d = compile_anneal_pick(A, radius, &x, &p);

        if (!isnan(d) && (d <= 0.0 || rng_unit(&A->rng) < exp(-d / temp))) {
            compile_anneal_apply(A, x, p);
            cost += d;
            r->anneal_accepted++;
        }
        r->anneal_iters++;
        if ((it + 1) % COMPILE_PLACE_PUBLISH == 0 || it + 1 == iters) {
            probe_place_progress(cost, r->anneal_accepted - published,
                                 r->anneal_iters - published_iters);
            published = r->anneal_accepted;
            published_iters = r->anneal_iters;
        }
    }
}

int compile_place(struct compilation *c, char *why, size_t why_len)
{
    struct compile_anneal A = {.t = c->t, .n = c->n_cores};
    struct compile_result *r = c->r;
    uint32_t *start = NULL;
    uint64_t iters;
    int rc = compile_place_edges(c);

    if (rc != 0) {
        snprintf(why, why_len, "out of memory");
        return rc;
    }
    A.mesh_h = (c->t->cores + c->t->mesh_w - 1) / c->t->mesh_w;
    A.pos = mem_calloc(A.n, sizeof(*A.pos));
    A.occ = mem_calloc(c->t->cores, sizeof(*A.occ));
    start = mem_calloc(A.n, sizeof(*start));
    if (A.pos == NULL || A.occ == NULL || start == NULL || compile_anneal_adj(&A, c) != 0) {
        rc = -ENOMEM;
        snprintf(why, why_len, "out of memory");
        goto out;
    }
    for (uint32_t p = 0; p < c->t->cores; p++) {
        A.occ[p] = COMPILE_NONE;
    }
    for (uint32_t x = 0; x < A.n; x++) {
        const struct compile_core *k = &c->cores[x];

        A.pos[x] = c->img.layers[k->layer].core_id[k->index];
        start[x] = A.pos[x];
        if (!c->t->shared_cores) {
            A.occ[A.pos[x]] = x;
        }
    }
    r->cost_before = compile_anneal_cost(&A, c);
    if (c->o->anneal_iters != UINT64_MAX) {
        iters = c->o->anneal_iters;
    } else {
        /* a move visits the neighbours of two cores: 2 x the mean degree */
        uint64_t per_move = A.n > 0 ? 2 * ((uint64_t)A.n_adj + A.n - 1) / A.n + 1 : 1;

        iters = (uint64_t)A.n * COMPILE_PLACE_PER_CORE;
        iters = iters < COMPILE_PLACE_MAX ? iters : COMPILE_PLACE_MAX;
        iters = iters < COMPILE_PLACE_WORK / per_move ? iters : COMPILE_PLACE_WORK / per_move;
    }
    /* nothing to place: one shared core, a single core, or no traffic between cores */
    if (c->t->shared_cores || A.n < 2 || A.n_adj == 0) {
        iters = 0;
    }
    rng_init(&A.rng, c->o->place_seed_set ? c->o->place_seed : c->d->seed, COMPILE_PLACE_STREAM);
    if (iters > 0) {
        compile_anneal_run(&A, r, iters, r->cost_before);
    }
    r->cost_after = compile_anneal_cost(&A, c);
    if (r->cost_after > r->cost_before) {
        /* annealing ended worse than it began: keep the start */
        for (uint32_t x = 0; x < A.n; x++) {
            A.pos[x] = start[x];
        }
        r->cost_after = r->cost_before;
    }
    for (uint32_t x = 0; x < A.n; x++) {
        const struct compile_core *k = &c->cores[x];

        c->img.layers[k->layer].core_id[k->index] = A.pos[x];
    }
out:
    mem_free(A.pos, A.n, sizeof(*A.pos));
    mem_free(A.occ, c->t->cores, sizeof(*A.occ));
    mem_free(start, A.n, sizeof(*start));
    mem_free(A.adj_at, (size_t)A.n + 1, sizeof(*A.adj_at));
    mem_free(A.adj, A.n_adj, sizeof(*A.adj));
    return rc;
}
