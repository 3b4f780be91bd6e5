/* SPDX-License-Identifier: MIT */
/* The clock of a segment, shared by libnctop and nctop: whether the TSC may be used, how a
 * calibration pair is read, and the fixed-point conversion of ticks into CLOCK_MONOTONIC ns
 * (segment.h, enum nctop_seg_clock, says what the fields mean). libc only. */
#ifndef NCTOP_LIBNCTOP_SEG_CLOCK_H
#define NCTOP_LIBNCTOP_SEG_CLOCK_H

#include <fcntl.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "segment.h"

#if defined(__x86_64__)
#define NCTOP_SEG_HAVE_TSC 1
#else
#define NCTOP_SEG_HAVE_TSC 0
#endif

/* The slope between two pairs and the latest pair: what the reader converts with. */
struct nctop_seg_conv {
    uint64_t tsc; /* anchor: the latest pair */
    uint64_t ns;
    uint64_t mult; /* ns per tick, times 2^32 */
};

static inline uint64_t nctop_seg_tsc(void)
{
#if NCTOP_SEG_HAVE_TSC
    return __builtin_ia32_rdtsc();
#else
    return 0;
#endif
}

static inline uint64_t nctop_seg_mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Read one pair: the best (narrowest) of three brackets rdtsc, clock, rdtsc, the tick at the
 * middle of the bracket. A preemption inside one bracket does not spoil the pair. Returns the
 * bracket's width in ticks. Async-signal-safe. */
static inline uint64_t nctop_seg_calib_take(uint64_t *tsc, uint64_t *mono_ns)
{
    uint64_t best = UINT64_MAX;

    for (int i = 0; i < 3; i++) {
        uint64_t t0 = nctop_seg_tsc();
        uint64_t ns = nctop_seg_mono_ns();
        uint64_t t1 = nctop_seg_tsc();

        if (t1 - t0 < best) {
            best = t1 - t0;
            *tsc = t0 + (t1 - t0) / 2;
            *mono_ns = ns;
        }
    }
    return best;
}

/* The conversion from two pairs (base earlier than last). Returns false when they do not
 * make a sane clock: not increasing, or a rate outside NCTOP_SEG_TSC_MIN_HZ..MAX_HZ. */
static inline bool nctop_seg_conv_make(struct nctop_seg_conv *c, uint64_t base_tsc,
                                       uint64_t base_ns, uint64_t last_tsc, uint64_t last_ns)
{
    uint64_t dt = last_tsc - base_tsc, dns = last_ns - base_ns;

    if (last_tsc <= base_tsc || last_ns <= base_ns || dns > (1ULL << 62) || dt > (1ULL << 62)) {
        return false;
    }
    /* hz = dt / dns * 1e9, compared without dividing: dt * 1e9 against hz * dns. */
    if ((unsigned __int128)dt * 1000000000ULL < (unsigned __int128)NCTOP_SEG_TSC_MIN_HZ * dns ||
        (unsigned __int128)dt * 1000000000ULL > (unsigned __int128)NCTOP_SEG_TSC_MAX_HZ * dns) {
        return false;
    }
    c->tsc = last_tsc;
    c->ns = last_ns;
    c->mult = (uint64_t)(((unsigned __int128)dns << 32) / dt);
    return c->mult != 0;
}

/* Ticks to CLOCK_MONOTONIC ns: one multiply, no division. Ticks before the anchor (records
 * written before the latest pair) come out before it. */
static inline uint64_t nctop_seg_conv_ns(const struct nctop_seg_conv *c, uint64_t ticks)
{
    __int128 d = (__int128)(int64_t)(ticks - c->tsc) * (__int128)c->mult;

    return c->ns + (uint64_t)(int64_t)(d >> 32);
}

/* ns to ticks at the rate of c (setup only: one division). */
static inline uint64_t nctop_seg_conv_ticks(const struct nctop_seg_conv *c, uint64_t ns)
{
    return (uint64_t)(((unsigned __int128)ns << 32) / c->mult);
}

/* Whether the flags line of /proc/cpuinfo (the first CPU's) names flag as a whole word. */
static inline bool nctop_seg_cpu_flag(const char *buf, const char *flag)
{
    const char *line = strstr(buf, "\nflags");
    const char *end;
    size_t n = strlen(flag);

    if (line == NULL) {
        return false;
    }
    end = strchr(line + 1, '\n');
    for (const char *p = strstr(line, flag); p != NULL && (end == NULL || p < end);
         p = strstr(p + 1, flag)) {
        if (p[-1] == ' ' && (p[n] == ' ' || p[n] == '\n' || p[n] == '\0')) {
            return true;
        }
    }
    return false;
}

/* Read at most size - 1 bytes of path into buf, NUL-terminated. */
static inline void nctop_seg_read_file(const char *path, char *buf, size_t size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = -1;

    if (fd >= 0) {
        n = read(fd, buf, size - 1);
        close(fd);
    }
    buf[n > 0 ? n : 0] = '\0';
}

/* Whether this machine's TSC is one the kernel trusts as a clock: NULL when it is, else why
 * not (a static string). Reads /proc/cpuinfo (its first 16 KiB: the first CPU's flags) and
 * the current clocksource. Setup only. */
static inline const char *nctop_seg_tsc_unusable(void)
{
    char buf[16384];

    if (!NCTOP_SEG_HAVE_TSC) {
        return "no TSC on this architecture";
    }
    buf[0] = '\n';
    nctop_seg_read_file("/proc/cpuinfo", buf + 1, sizeof(buf) - 1);
    if (!nctop_seg_cpu_flag(buf, "constant_tsc") || !nctop_seg_cpu_flag(buf, "nonstop_tsc")) {
        return "the TSC is not constant and non-stop";
    }
    nctop_seg_read_file("/sys/devices/system/clocksource/clocksource0/current_clocksource", buf,
                        64);
    if (strcmp(buf, "tsc\n") != 0 && strcmp(buf, "tsc") != 0) {
        return "the kernel's clocksource is not tsc";
    }
    return NULL;
}

#endif /* NCTOP_LIBNCTOP_SEG_CLOCK_H */
