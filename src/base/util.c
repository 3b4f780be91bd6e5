/* SPDX-License-Identifier: MIT */
/* Clocks, time formatting, parsing and tiny /proc readers shared by the program's modules. */
#include "src/base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

uint64_t util_mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * UTIL_NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

uint64_t util_real_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * UTIL_NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

void util_format_utc_ms(uint64_t real_ns, char *buf, size_t len)
{
    time_t secs = (time_t)(real_ns / UTIL_NS_PER_SEC);
    unsigned ms = (unsigned)((real_ns % UTIL_NS_PER_SEC) / UTIL_NS_PER_MS);
    struct tm tm;

    gmtime_r(&secs, &tm);
    snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
}

void util_format_ns(uint64_t ns, bool compact, char *buf, size_t len)
{
    if (ns < 1000) {
        snprintf(buf, len, "%lluns", (unsigned long long)ns);
    } else if (ns < 1000000) {
        snprintf(buf, len, "%.1fus", (double)ns / 1e3);
    } else if (ns < 1000000000) {
        snprintf(buf, len, "%.2fms", (double)ns / 1e6);
    } else if (!compact) {
        snprintf(buf, len, "%.3fs", (double)ns / 1e9);
    } else if (ns < 1000ULL * 1000000000ULL) {
        snprintf(buf, len, "%.2fs", (double)ns / 1e9);
    } else {
        snprintf(buf, len, "%.0fs", (double)ns / 1e9);
    }
}

void util_format_bytes(int64_t bytes, bool compact, char *buf, size_t len)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    double v = (double)(bytes < 0 ? -bytes : bytes);
    const char *sign = bytes < 0 ? "-" : "";
    size_t u = 0;

    while (v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
        v /= 1024;
        u++;
    }
    if (u == 0) {
        snprintf(buf, len, compact ? "%s%.0fB" : "%s%.0f B", sign, v);
    } else if (compact) {
        /* One letter, and a decimal only while it fits in four characters. */
        snprintf(buf, len, "%s%.*f%c", sign, v < 100 ? 1 : 0, v, units[u][0]);
    } else {
        snprintf(buf, len, "%s%.1f %s", sign, v, units[u]);
    }
}

int util_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    unsigned long long v;
    char *end = NULL;

    if (s == NULL || *s < '0' || *s > '9') {
        return -EINVAL;
    }
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno == ERANGE) {
        return -ERANGE;
    }
    if (*end != '\0') {
        return -EINVAL;
    }
    if (v < min || v > max) {
        return -ERANGE;
    }
    *out = v;
    return 0;
}

int util_parse_seconds(const char *s, double max_s, uint64_t *out_ns)
{
    double v;
    char *end = NULL;

    if (s == NULL || *s == '\0' || *s == '-' || *s == '+') {
        return -EINVAL;
    }
    errno = 0;
    v = strtod(s, &end);
    if (errno != 0 || *end != '\0' || !isfinite(v) || v <= 0 || v > max_s) {
        return -EINVAL;
    }
    *out_ns = (uint64_t)(v * 1e9);
    if (*out_ns == 0) {
        return -EINVAL;
    }
    return 0;
}

long util_read_file(const char *path, char *buf, size_t len)
{
    size_t got = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0) {
        return -errno;
    }
    while (got + 1 < len) {
        ssize_t n = read(fd, buf + got, len - 1 - got);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            int err = errno;

            close(fd);
            return -err;
        }
        if (n == 0) {
            break;
        }
        got += (size_t)n;
    }
    close(fd);
    buf[got] = '\0';
    return (long)got;
}

/* The length of the printable UTF-8 character at p, or 0 when its first byte must be escaped
 * (a control, or not the start of a valid, shortest-form, non-surrogate sequence). */
static size_t util_printable_len(const unsigned char *p)
{
    unsigned c = p[0];
    size_t n;

    if (c < 0x20 || c == 0x7f) {
        return 0;
    }
    if (c < 0x80) {
        return 1;
    }
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
    } else {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80) {
            return 0;
        }
    }
    /* C1 controls; overlong forms; surrogates; beyond U+10FFFF. */
    if ((c == 0xc2 && p[1] < 0xa0) || (c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] >= 0xa0) ||
        (c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] >= 0x90)) {
        return 0;
    }
    return n;
}

const char *util_escape(const char *s, char *buf, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t o = 0;

    while (*p != '\0') {
        size_t n = util_printable_len(p);

        if (n == 0) {
            if (o + 4 >= len) {
                break;
            }
            snprintf(buf + o, 5, "\\x%02x", *p);
            o += 4;
            p++;
            continue;
        }
        if (o + n >= len) {
            break;
        }
        memcpy(buf + o, p, n);
        o += n;
        p += n;
    }
    buf[o] = '\0';
    return buf;
}

bool util_pid_alive(int32_t pid)
{
    if (pid <= 0) {
        return false;
    }
    return kill(pid, 0) == 0 || errno == EPERM;
}

/* The three ids after "Uid:" or "Gid:" in /proc/<pid>/status (real, effective, saved). */
static bool util_status_ids(const char *status, const char *key, unsigned long ids[3])
{
    const char *p = strstr(status, key);

    return p != NULL && sscanf(p + strlen(key), "%lu %lu %lu", &ids[0], &ids[1], &ids[2]) == 3;
}

bool util_may_trace(int32_t pid)
{
    char path[64], status[4096];
    unsigned long uids[3], gids[3];
    uid_t uid = getuid();
    gid_t gid = getgid();
    struct stat st;

    if (pid <= 0) {
        return false;
    }
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    if (util_read_file(path, status, sizeof(status)) <= 0) {
        return false;
    }
    if (uid == 0) {
        return true;
    }
    if (!util_status_ids(status, "\nUid:", uids) || !util_status_ids(status, "\nGid:", gids)) {
        return false;
    }
    for (int i = 0; i < 3; i++) {
        if (uids[i] != (unsigned long)uid || gids[i] != (unsigned long)gid) {
            return false;
        }
    }
    /* The kernel gives an undumpable process's /proc/<pid>/ files (not the directory) to
     * root: that is the dumpable flag, readable without privileges. */
    return stat(path, &st) == 0 && st.st_uid == uid;
}

bool util_secure_exec(void)
{
    return getauxval(AT_SECURE) != 0;
}

uint64_t util_proc_start_ticks(int32_t pid, int32_t *ppid)
{
    char path[64], buf[1024];
    const char *p;
    unsigned long long start = 0;
    int parent = 0;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    if (util_read_file(path, buf, sizeof(buf)) <= 0) {
        return 0;
    }
    /* comm may contain spaces and parentheses: fields resume after the last ')'. */
    p = strrchr(buf, ')');
    if (p == NULL) {
        return 0;
    }
    /* After ')': state(3) ppid(4) ... starttime(22). */
    if (sscanf(p + 1,
               " %*c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d "
               "%*d %llu",
               &parent, &start) != 2) {
        return 0;
    }
    if (ppid != NULL) {
        *ppid = parent;
    }
    return start;
}
