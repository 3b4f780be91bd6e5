/* SPDX-License-Identifier: MIT */
/* Unit tests of the RAPL probe against a fake sysfs tree in a temporary directory: zones and
 * their names, counters across a wrap, missing and unreadable files, a zone that appears, and
 * no powercap at all. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "hw/rapl.h"
#include "src/model/store.h"
#include "src/model/store_power.h"

#define SEC 1000000000ULL
#define T0 (1000 * SEC)
#define RANGE 262143328850ULL /* a package's max_energy_range_uj on a real machine */

struct fake {
    char root[64];
    char base[128]; /* root/class/powercap */
};

static void put(const struct fake *f, const char *zone, const char *file, const char *text)
{
    char path[512];
    FILE *o;

    snprintf(path, sizeof(path), "%s/%s", f->base, zone);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/%s/%s", f->base, zone, file);
    o = fopen(path, "w");
    assert_non_null(o);
    fprintf(o, "%s\n", text);
    fclose(o);
}

static void put_u64(const struct fake *f, const char *zone, const char *file, uint64_t v)
{
    char buf[32];

    snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
    put(f, zone, file, buf);
}

/* A package with core and dram subzones, counters at e0, the range RANGE. */
static void fake_new(struct fake *f, uint64_t e0)
{
    char path[160];

    snprintf(f->root, sizeof(f->root), "/tmp/nctop-test-rapl.XXXXXX");
    assert_non_null(mkdtemp(f->root));
    chmod(f->root, 0755);
    snprintf(path, sizeof(path), "%s/class", f->root);
    mkdir(path, 0755);
    snprintf(f->base, sizeof(f->base), "%s/class/powercap", f->root);
    mkdir(f->base, 0755);
    mkdir(path, 0755);
    /* The control type's own directory and an MMIO copy of the package: not zones. */
    snprintf(path, sizeof(path), "%s/intel-rapl", f->base);
    mkdir(path, 0755);
    put(f, "intel-rapl-mmio:0", "name", "package-0");
    put_u64(f, "intel-rapl-mmio:0", "energy_uj", 77);
    put(f, "intel-rapl:0", "name", "package-0");
    put(f, "intel-rapl:0:1", "name", "dram");
    put(f, "intel-rapl:0:0", "name", "core");
    for (int i = 0; i < 3; i++) {
        const char *z = i == 0 ? "intel-rapl:0" : i == 1 ? "intel-rapl:0:0" : "intel-rapl:0:1";

        put_u64(f, z, "energy_uj", e0 + (uint64_t)i);
        put_u64(f, z, "max_energy_range_uj", RANGE);
    }
}

static void fake_free(struct fake *f)
{
    char cmd[128];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->root);
    assert_int_equal(system(cmd), 0);
}

static void test_zones(void **state)
{
    struct fake f;
    struct store *st = store_new(NULL);
    struct rapl *r;
    double w;

    (void)state;
    fake_new(&f, 1000000);
    r = rapl_new(f.root);
    rapl_sample(r, st, T0);
    assert_null(store_power_state(st));
    assert_int_equal(store_power_count(st), 3);
    /* Packages first, then their subzones by number, whatever the directory order. */
    assert_string_equal(store_power_zone(st, 0), "package-0");
    assert_string_equal(store_power_zone(st, 1), "package-0/core");
    assert_string_equal(store_power_zone(st, 2), "package-0/dram");
    assert_int_equal(store_power_energy_uj(st, 0), 1000000);
    assert_int_equal(store_power_energy_uj(st, 2), 1000002);
    put_u64(&f, "intel-rapl:0", "energy_uj", 1000000 + 30000000);
    rapl_sample(r, st, T0 + 2 * SEC);
    assert_int_equal(store_power_energy_uj(st, 0), 31000000);
    assert_true(store_power_watts(st, 0, T0 + 2 * SEC, &w));
    assert_true(w == 15.0);
    rapl_free(r);
    store_free(st);
    fake_free(&f);
}

static void test_wraparound(void **state)
{
    struct fake f;
    struct store *st = store_new(NULL);
    struct rapl *r;
    double w;

    (void)state;
    fake_new(&f, RANGE - 4000000);
    r = rapl_new(f.root);
    rapl_sample(r, st, T0);
    /* 4 J to the top of the range, then 6 J from 0: 10 J, not a counter gone back. */
    put_u64(&f, "intel-rapl:0", "energy_uj", 6000000);
    rapl_sample(r, st, T0 + SEC);
    assert_int_equal(store_power_energy_uj(st, 0), RANGE + 6000000);
    assert_true(store_power_watts(st, 0, T0 + SEC, &w));
    assert_true(w == 10.0);
    /* And on from there. */
    put_u64(&f, "intel-rapl:0", "energy_uj", 8000000);
    rapl_sample(r, st, T0 + 2 * SEC);
    assert_int_equal(store_power_energy_uj(st, 0), RANGE + 8000000);
    /* Without a range, a counter that went back restarted from 0. */
    put(&f, "intel-rapl:0:0", "max_energy_range_uj", "");
    rapl_free(r);
    r = rapl_new(f.root);
    put_u64(&f, "intel-rapl:0:0", "energy_uj", 5000);
    rapl_sample(r, st, T0 + 3 * SEC);
    put_u64(&f, "intel-rapl:0:0", "energy_uj", 2000);
    rapl_sample(r, st, T0 + 4 * SEC);
    assert_int_equal(store_power_energy_uj(st, 1), 7000);
    rapl_free(r);
    store_free(st);
    fake_free(&f);
}

static void test_missing(void **state)
{
    struct fake f;
    struct store *st = store_new(NULL);
    struct rapl *r = rapl_new("/nonexistent-sysfs");
    char path[256];

    (void)state;
    rapl_sample(r, st, T0);
    assert_string_equal(store_power_state(st), "no RAPL on this machine");
    assert_int_equal(store_power_count(st), 0);
    rapl_free(r);

    /* A zone without its counter, one with garbage in it: the others are read. */
    fake_new(&f, 1000);
    snprintf(path, sizeof(path), "%s/intel-rapl:0:0/energy_uj", f.base);
    unlink(path);
    put(&f, "intel-rapl:0:1", "energy_uj", "12ab");
    r = rapl_new(f.root);
    rapl_sample(r, st, T0);
    assert_null(store_power_state(st));
    assert_int_equal(store_power_count(st), 1);
    assert_string_equal(store_power_zone(st, 0), "package-0");
    /* None readable: the first reason. */
    snprintf(path, sizeof(path), "%s/intel-rapl:0/energy_uj", f.base);
    unlink(path);
    rapl_sample(r, st, T0 + SEC);
    assert_string_equal(store_power_state(st),
                        "RAPL: intel-rapl:0/energy_uj: No such file or directory");
    rapl_free(r);
    store_free(st);
    fake_free(&f);

    /* A powercap directory with no RAPL zone in it. */
    st = store_new(NULL);
    fake_new(&f, 1);
    snprintf(path, sizeof(path), "rm -rf '%s'/intel-rapl:*", f.base);
    assert_int_equal(system(path), 0);
    r = rapl_new(f.root);
    rapl_sample(r, st, T0);
    assert_string_equal(store_power_state(st), "no RAPL on this machine");
    rapl_free(r);
    store_free(st);
    fake_free(&f);
}

/* The counters only root may read (recent kernels), read by someone else. */
static void test_unreadable(void **state)
{
    struct fake f;
    struct store *st = store_new(NULL);
    struct rapl *r;
    char cmd[256];

    (void)state;
    if (geteuid() != 0) {
        skip(); /* needs to make a file root's own and then not be root */
    }
    fake_new(&f, 1000);
    snprintf(cmd, sizeof(cmd), "chmod 0400 '%s'/intel-rapl:*/energy_uj", f.base);
    assert_int_equal(system(cmd), 0);
    r = rapl_new(f.root);
    assert_int_equal(seteuid(65534), 0);
    rapl_sample(r, st, T0);
    assert_int_equal(seteuid(0), 0);
    assert_string_equal(store_power_state(st),
                        "RAPL: permission denied reading energy_uj (root only on this kernel)");
    assert_int_equal(store_power_count(st), 0);
    /* Readable again (run as root): read, and the state goes. */
    rapl_sample(r, st, T0 + SEC);
    assert_null(store_power_state(st));
    assert_int_equal(store_power_count(st), 3);
    rapl_free(r);
    store_free(st);
    fake_free(&f);
}

static void test_zone_appears(void **state)
{
    struct fake f;
    struct store *st = store_new(NULL);
    struct rapl *r;
    double w;

    (void)state;
    fake_new(&f, 1000);
    r = rapl_new(f.root);
    rapl_sample(r, st, T0);
    assert_int_equal(store_power_count(st), 3);
    /* A second package comes (a hot-plugged socket, the driver loaded late). */
    put(&f, "intel-rapl:1", "name", "package-1");
    put_u64(&f, "intel-rapl:1", "max_energy_range_uj", RANGE);
    put_u64(&f, "intel-rapl:1", "energy_uj", 500);
    rapl_sample(r, st, T0 + SEC);
    assert_int_equal(store_power_count(st), 4);
    assert_string_equal(store_power_zone(st, 3), "package-1");
    put_u64(&f, "intel-rapl:1", "energy_uj", 500 + 2000000);
    rapl_sample(r, st, T0 + 2 * SEC);
    assert_true(store_power_watts(st, 3, T0 + 2 * SEC, &w));
    assert_true(w == 2.0);
    rapl_free(r);
    store_free(st);
    fake_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zones),        cmocka_unit_test(test_wraparound),
        cmocka_unit_test(test_missing),      cmocka_unit_test(test_unreadable),
        cmocka_unit_test(test_zone_appears),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
