/* SPDX-License-Identifier: MIT */
/* RAPL through sysfs powercap: <root>/class/powercap/intel-rapl:N is package N (its "name" is
 * "package-N", or "psys"), intel-rapl:N:M its subzones ("core", "uncore", "dram"); each has
 * energy_uj, a counter that wraps at max_energy_range_uj. The probe keeps one unwrapped total
 * per zone, so the store sees a monotonic counter and derives the power over the window from
 * it: measured, never estimated. The same names serve AMD's packages. */
#include "hw/rapl.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collectors/collector.h"
#include "src/base/xalloc.h"
#include "src/model/store.h"
#include "src/model/store_power.h"

#define RAPL_PREFIX "intel-rapl:" /* not intel-rapl-mmio: it repeats a package's counter */
#define RAPL_PATH_MAX 512
#define RAPL_STATE_MAX 160
#define RAPL_MS 1000 /* counters update every ms; a reading a second is plenty */

struct rapl_zone {
    char dir[32];                    /* "intel-rapl:0:1" */
    int pkg;                         /* N */
    int sub;                         /* M, -1 for a package */
    char name[STORE_POWER_ZONE_LEN]; /* "package-0/dram" */
    uint64_t range_uj;               /* max_energy_range_uj, 0 when unknown */
    bool have;                       /* a reading was taken */
    uint64_t last_uj;                /* the last raw reading */
    uint64_t total_uj;               /* unwrapped: the first reading plus every step since */
    bool seen;                       /* in this scan */
};

struct rapl {
    char base[RAPL_PATH_MAX]; /* <root>/class/powercap */
    bool too_long;            /* the root does not fit: no zone, with that reason */
    struct rapl_zone zones[STORE_POWER_ZONES_MAX];
    size_t n;
    char state[RAPL_STATE_MAX];
};

/* A small sysfs file's first line into buf (NUL-terminated, newline cut). 0 or -errno. */
static int rapl_read(const struct rapl *r, const char *dir, const char *file, char *buf, size_t len)
{
    char path[RAPL_PATH_MAX + 64];
    ssize_t n;
    int fd;

    snprintf(path, sizeof(path), "%s/%s/%s", r->base, dir, file);
    /* O_NONBLOCK: a FIFO planted in a test root never stalls the loop. */
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        return -errno;
    }
    n = read(fd, buf, len - 1);
    if (n < 0) {
        int e = errno;

        close(fd);
        return -e;
    }
    close(fd);
    buf[n] = '\0';
    buf[strcspn(buf, "\n")] = '\0';
    return 0;
}

/* A counter value: decimal digits only. */
static int rapl_read_u64(const struct rapl *r, const char *dir, const char *file, uint64_t *v)
{
    char buf[32], *end;
    int rc = rapl_read(r, dir, file, buf, sizeof(buf));

    if (rc != 0) {
        return rc;
    }
    if (buf[0] < '0' || buf[0] > '9') {
        return -EINVAL;
    }
    errno = 0;
    *v = strtoull(buf, &end, 10);
    return errno != 0 || *end != '\0' ? -EINVAL : 0;
}

/* "intel-rapl:N" or "intel-rapl:N:M" into pkg and sub (-1); false for anything else. */
static bool rapl_parse_dir(const char *d, int *pkg, int *sub)
{
    char tail;

    if (strncmp(d, RAPL_PREFIX, strlen(RAPL_PREFIX)) != 0 || strlen(d) >= 32) {
        return false;
    }
    d += strlen(RAPL_PREFIX);
    *sub = -1;
    if (sscanf(d, "%d:%d%c", pkg, sub, &tail) == 2 && *pkg >= 0 && *sub >= 0) {
        return true;
    }
    *sub = -1;
    return sscanf(d, "%d%c", pkg, &tail) == 1 && *pkg >= 0;
}

static int rapl_zone_cmp(const void *a, const void *b)
{
    const struct rapl_zone *x = a, *y = b;

    if (x->pkg != y->pkg) {
        return x->pkg < y->pkg ? -1 : 1;
    }
    return x->sub < y->sub ? -1 : x->sub > y->sub ? 1 : 0;
}

/* The zone's shown name: a package's own ("package-0"), a subzone's under its package's. */
static void rapl_zone_name(struct rapl *r, struct rapl_zone *z)
{
    char own[STORE_POWER_ZONE_LEN], parent[STORE_POWER_ZONE_LEN], pdir[32];

    if (rapl_read(r, z->dir, "name", own, sizeof(own)) != 0 || own[0] == '\0') {
        snprintf(own, sizeof(own), "%s", z->dir);
    }
    if (z->sub < 0) {
        snprintf(z->name, sizeof(z->name), "%s", own);
        return;
    }
    snprintf(pdir, sizeof(pdir), RAPL_PREFIX "%d", z->pkg);
    if (rapl_read(r, pdir, "name", parent, sizeof(parent)) != 0 || parent[0] == '\0') {
        snprintf(parent, sizeof(parent), "%s", pdir);
    }
    /* Both parts fit STORE_POWER_ZONE_LEN each; the joined name is cut to it. */
    snprintf(z->name, sizeof(z->name), "%.31s/%.30s", parent, own);
}

/* The zones under base now: known ones keep their totals, new ones join, gone ones leave.
 * Returns false when there is no powercap directory at all. */
static bool rapl_scan(struct rapl *r)
{
    DIR *d = opendir(r->base);
    struct dirent *e;
    size_t kept = 0;

    if (d == NULL) {
        r->n = 0;
        return false;
    }
    for (size_t i = 0; i < r->n; i++) {
        r->zones[i].seen = false;
    }
    while ((e = readdir(d)) != NULL) {
        int pkg, sub;
        size_t i;

        if (!rapl_parse_dir(e->d_name, &pkg, &sub)) {
            continue;
        }
        for (i = 0; i < r->n && strcmp(r->zones[i].dir, e->d_name) != 0; i++) {
        }
        if (i < r->n) {
            r->zones[i].seen = true;
            continue;
        }
        if (r->n == STORE_POWER_ZONES_MAX) {
            continue;
        }
        memset(&r->zones[r->n], 0, sizeof(r->zones[0]));
        snprintf(r->zones[r->n].dir, sizeof(r->zones[0].dir), "%.31s", e->d_name);
        r->zones[r->n].pkg = pkg;
        r->zones[r->n].sub = sub;
        r->zones[r->n].seen = true;
        rapl_zone_name(r, &r->zones[r->n]);
        r->n++;
    }
    closedir(d);
    for (size_t i = 0; i < r->n; i++) {
        if (r->zones[i].seen) {
            r->zones[kept++] = r->zones[i];
        }
    }
    r->n = kept;
    qsort(r->zones, r->n, sizeof(r->zones[0]), rapl_zone_cmp);
    return true;
}

/* The step from the last reading to raw: across a wrap when the counter went back and its range
 * is known; a counter that went back without one restarted from 0. */
static uint64_t rapl_step(const struct rapl_zone *z, uint64_t raw)
{
    if (raw >= z->last_uj) {
        return raw - z->last_uj;
    }
    if (z->range_uj > 0 && z->last_uj <= z->range_uj) {
        return z->range_uj - z->last_uj + raw;
    }
    return raw;
}

struct rapl *rapl_new(const char *sysfs_root)
{
    struct rapl *r = xcalloc(1, sizeof(*r));
    int n;

    if (sysfs_root == NULL) {
        /* A test hook: a privileged nctop reads the system's sysfs only. */
        sysfs_root = secure_getenv("NCTOP_SYSFS_ROOT");
    }
    if (sysfs_root == NULL || sysfs_root[0] == '\0') {
        sysfs_root = RAPL_SYSFS_DEFAULT;
    }
    n = snprintf(r->base, sizeof(r->base), "%s/class/powercap", sysfs_root);
    r->too_long = n < 0 || (size_t)n >= sizeof(r->base);
    return r;
}

void rapl_free(struct rapl *r)
{
    free(r);
}

void rapl_sample(struct rapl *r, struct store *st, uint64_t now_ns)
{
    size_t read = 0, denied = 0;
    int other = 0;
    const char *other_zone = NULL;

    if (r->too_long || !rapl_scan(r) || r->n == 0) {
        store_power_state_set(st,
                              r->too_long ? "RAPL: the sysfs root path is too long" : RAPL_NO_RAPL);
        return;
    }
    for (size_t i = 0; i < r->n; i++) {
        struct rapl_zone *z = &r->zones[i];
        uint64_t raw;
        int rc = rapl_read_u64(r, z->dir, "energy_uj", &raw);

        if (rc != 0) {
            denied += rc == -EACCES || rc == -EPERM;
            if (rc != -EACCES && rc != -EPERM && other == 0) {
                other = rc;
                other_zone = z->dir;
            }
            continue;
        }
        if (z->range_uj == 0 &&
            rapl_read_u64(r, z->dir, "max_energy_range_uj", &z->range_uj) != 0) {
            z->range_uj = 0;
        }
        z->total_uj = z->have ? z->total_uj + rapl_step(z, raw) : raw;
        z->last_uj = raw;
        z->have = true;
        store_power_zone_set(st, z->name, z->total_uj, now_ns);
        read++;
    }
    if (read > 0) {
        return;
    }
    if (denied > 0) {
        snprintf(r->state, sizeof(r->state),
                 "RAPL: permission denied reading energy_uj (root only on this kernel)");
    } else {
        snprintf(r->state, sizeof(r->state), "RAPL: %s/energy_uj: %s", other_zone,
                 strerror(-other));
    }
    store_power_state_set(st, r->state);
}

/* --- the probe ----------------------------------------------------------------------------- */

struct rapl_probe {
    struct rapl *r;
    struct store *st;
};

static void *rapl_probe_start(const struct collector_env *env, uint64_t now_ns, char **err)
{
    struct rapl_probe *p = xcalloc(1, sizeof(*p));

    (void)now_ns;
    (void)err;
    p->r = rapl_new(NULL);
    p->st = env->store;
    return p;
}

static void rapl_probe_stop(void *self)
{
    struct rapl_probe *p = self;

    if (p != NULL) {
        rapl_free(p->r);
        free(p);
    }
}

static uint64_t rapl_probe_run(void *self, uint64_t now_ns)
{
    struct rapl_probe *p = self;

    rapl_sample(p->r, p->st, now_ns);
    return RAPL_MS;
}

/* Before the store is read (a frame, a scrape, the last snapshot): a reading of now, so the
 * power ends at the moment shown. */
static void rapl_probe_flush(void *self, uint64_t now_ns)
{
    struct rapl_probe *p = self;

    rapl_sample(p->r, p->st, now_ns);
}

const struct collector_ops rapl_probe = {
    .name = "rapl",
    .start = rapl_probe_start,
    .stop = rapl_probe_stop,
    .run = rapl_probe_run,
    .flush = rapl_probe_flush,
};
