/* SPDX-License-Identifier: MIT */
/* The store's power facts of the machine: the energy counters of its RAPL zones (packages and
 * their core, uncore and dram subzones), as the hw/ RAPL probe reads them, and their power over
 * the window; or why there are none. Pure. */
#ifndef NCTOP_SRC_STORE_POWER_H
#define NCTOP_SRC_STORE_POWER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;
struct store_power;

#define STORE_POWER_ZONES_MAX 64  /* zones kept; the rest are ignored */
#define STORE_POWER_ZONE_LEN 64   /* bytes kept of a zone name, with its NUL */
#define STORE_POWER_STATE_LEN 160 /* bytes kept of the state */

/* One reading of zone (copied: "package-0", "package-0/core") at ts_ns: its energy counter in
 * microjoules, unwrapped by the probe (monotonic; a value that went back restarts its power
 * figure). A new name is a new zone, after the others. */
void store_power_zone_set(struct store *st, const char *zone, uint64_t energy_uj, uint64_t ts_ns);
/* Why no zone is read (copied: "no RAPL on this machine", a permission problem), or NULL when
 * they are. */
void store_power_state_set(struct store *st, const char *state);

size_t store_power_count(const struct store *st);
/* Zone i's name, or NULL out of range. Borrowed until store_free. */
const char *store_power_zone(const struct store *st, size_t i);
/* Zone i's latest energy reading, microjoules (0 out of range). */
uint64_t store_power_energy_uj(const struct store *st, size_t i);
/* Zone i's power over the window ending at now_ns, in watts: the energy between its oldest
 * reading in the window and its latest over the time between them; false with fewer than two
 * readings there. */
bool store_power_watts(const struct store *st, size_t i, uint64_t now_ns, double *w);
/* The state set last, or NULL (none set, or zones are read). Borrowed until the next set. */
const char *store_power_state(const struct store *st);

#endif /* NCTOP_SRC_STORE_POWER_H */
