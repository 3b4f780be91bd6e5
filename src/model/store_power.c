/* SPDX-License-Identifier: MIT */
/* RAPL zones of the machine: each reading is an absolute, unwrapped energy counter, kept as a
 * rate series so the power is the energy over the window, never a guess. */
#include "src/model/store_power.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/base/xalloc.h"
#include "src/model/store.h"
#include "src/model/store_internal.h"

struct store_power_zone {
    char name[STORE_POWER_ZONE_LEN];
    uint64_t energy_uj;     /* the latest reading */
    struct store_rate rate; /* (time, uJ) */
};

/* Owned by the store, created at the first set. */
struct store_power {
    struct store_power_zone zones[STORE_POWER_ZONES_MAX];
    size_t n;
    bool have_state;
    char state[STORE_POWER_STATE_LEN];
};

static struct store_power *store_power_get(struct store *st)
{
    if (st->power == NULL) {
        st->power = xcalloc(1, sizeof(*st->power));
    }
    return st->power;
}

static bool store_power_zone_apply(struct store *st, const struct store_event *ev)
{
    struct store_power *pw = store_power_get(st);
    struct store_power_zone *z = NULL;
    bool changed = false;

    if (ev->str == NULL || ev->str[0] == '\0' || strlen(ev->str) >= STORE_POWER_ZONE_LEN) {
        return false; /* not a zone name this store keeps */
    }
    for (size_t i = 0; i < pw->n; i++) {
        if (strcmp(pw->zones[i].name, ev->str) == 0) {
            z = &pw->zones[i];
        }
    }
    if (z == NULL) {
        if (pw->n == STORE_POWER_ZONES_MAX) {
            return false;
        }
        z = &pw->zones[pw->n++];
        snprintf(z->name, sizeof(z->name), "%s", ev->str);
    }
    if (pw->have_state) {
        pw->have_state = false; /* zones are read: no state to tell */
        changed = true;
    }
    /* A reading at the time of the last one, of the same value, says nothing new. */
    if (!changed && z->rate.have_last && z->rate.last_t_ns == ev->ts_ns && z->energy_uj == ev->a) {
        return false;
    }
    z->energy_uj = ev->a;
    store_rate_add(&z->rate, store_rate_cap(st), ev->ts_ns, ev->a, store_rate_gap_ns(st));
    return true;
}

static bool store_power_state_apply(struct store *st, const struct store_event *ev)
{
    struct store_power *pw = st->power;
    const char *s = ev->str;

    if (s == NULL) {
        if (pw == NULL || !pw->have_state) {
            return false;
        }
        pw->have_state = false;
        return true;
    }
    if (pw != NULL && pw->have_state && strncmp(pw->state, s, sizeof(pw->state) - 1) == 0) {
        return false;
    }
    pw = store_power_get(st);
    pw->have_state = true;
    snprintf(pw->state, sizeof(pw->state), "%s", s);
    return true;
}

bool store_power_apply(struct store *st, const struct store_event *ev)
{
    return ev->type == STORE_EV_RAPL_ZONE ? store_power_zone_apply(st, ev)
                                          : store_power_state_apply(st, ev);
}

void store_power_zone_set(struct store *st, const char *zone, uint64_t energy_uj, uint64_t ts_ns)
{
    struct store_event ev = {
        .type = STORE_EV_RAPL_ZONE, .str = zone, .a = energy_uj, .ts_ns = ts_ns};

    store_apply(st, &ev);
}

void store_power_state_set(struct store *st, const char *state)
{
    struct store_event ev = {.type = STORE_EV_RAPL_STATE, .str = state};

    store_apply(st, &ev);
}

size_t store_power_count(const struct store *st)
{
    return st->power != NULL ? st->power->n : 0;
}

const char *store_power_zone(const struct store *st, size_t i)
{
    return i < store_power_count(st) ? st->power->zones[i].name : NULL;
}

uint64_t store_power_energy_uj(const struct store *st, size_t i)
{
    return i < store_power_count(st) ? st->power->zones[i].energy_uj : 0;
}

bool store_power_watts(const struct store *st, size_t i, uint64_t now_ns, double *w)
{
    double uj_per_sec;

    *w = 0.0;
    if (i >= store_power_count(st) ||
        !store_rate_per_sec(&st->power->zones[i].rate, now_ns, st->cfg.window_ns, &uj_per_sec)) {
        return false;
    }
    *w = uj_per_sec / 1e6;
    return true;
}

const char *store_power_state(const struct store *st)
{
    return st->power != NULL && st->power->have_state ? st->power->state : NULL;
}

void store_power_free(struct store_power *pw)
{
    if (pw == NULL) {
        return;
    }
    for (size_t i = 0; i < pw->n; i++) {
        store_rate_done(&pw->zones[i].rate);
    }
    free(pw);
}
