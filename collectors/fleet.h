/* SPDX-License-Identifier: MIT */
/* The fleet source (--prometheus-url): every nctop a Prometheus scrapes, read back through
 * its query API into the store, one process per workload of each instance plus the fleet
 * itself (src/model/fleet.h says why). The part that turns answers into the store is here,
 * apart from the I/O, so that tests feed it canned answers. */
#ifndef NCTOP_COLLECTORS_FLEET_H
#define NCTOP_COLLECTORS_FLEET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fleet;
struct fleet_vector;
struct store;

#define FLEET_TIMEOUT_MS 2000     /* each query; --delay when that is longer */
#define FLEET_MAX_MEMBERS 4096    /* workloads followed; more are counted, not shown */
#define FLEET_MAX_DEPTH 64        /* levels of a path; deeper paths are left out */
#define FLEET_FLEET_LABEL "fleet" /* the label of the fleet's own process */

/* The queries of one round, in order: the series of the workloads, the targets' health,
 * the tokens' rates, each workload's quantiles, rates of sum and count of its spans per path, and
 * the fleet's quantiles. */
enum fleet_query {
    FLEET_Q_SERIES = 0,
    FLEET_Q_UP,
    FLEET_Q_TOKENS,
    FLEET_Q_P50,
    FLEET_Q_P95,
    FLEET_Q_P99,
    FLEET_Q_SUM,
    FLEET_Q_COUNT,
    FLEET_Q_ALL_P50,
    FLEET_Q_ALL_P95,
    FLEET_Q_ALL_P99,
    FLEET_NQUERIES,
};

/* A fleet reader for the Prometheus at url (http://HOST[:PORT][/PREFIX]) whose rates span
 * range_s seconds. Returns an owned reader (fleet_free), or NULL with *err an owned reason
 * (a bad URL). st is borrowed for its life. */
struct fleet *fleet_new(struct store *st, const char *url, unsigned range_s, char **err);
void fleet_free(struct fleet *f);

/* The PromQL of query q (borrowed, valid until fleet_free). */
const char *fleet_promql(const struct fleet *f, enum fleet_query q);

/* Put one round of answers (answers[FLEET_NQUERIES], taken: each is emptied) into the store
 * at now_ns (CLOCK_MONOTONIC). Loop thread. */
void fleet_apply(struct fleet *f, struct fleet_vector *answers, uint64_t now_ns);

/* A round that failed (why: one line, copied): the figures stay, the live workloads are
 * marked failed with the reason until the next round answers. */
void fleet_apply_error(struct fleet *f, const char *why, uint64_t now_ns);

/* The newest problem (new since the last call) or NULL; borrowed until the next call. */
const char *fleet_problem(struct fleet *f);
/* Whether the last round failed, or found no nctop in the answers. */
bool fleet_failed(const struct fleet *f);

#endif /* NCTOP_COLLECTORS_FLEET_H */
