/* SPDX-License-Identifier: MIT */
/* Small leaf helpers of the nctop program: clocks, time formatting, number parsing. libc only. */
#ifndef NCTOP_SRC_UTIL_H
#define NCTOP_SRC_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UTIL_NS_PER_SEC 1000000000ULL
#define UTIL_NS_PER_MS 1000000ULL

uint64_t util_mono_ns(void); /* CLOCK_MONOTONIC, the time base of every event */
uint64_t util_real_ns(void); /* CLOCK_REALTIME */

/* Format a CLOCK_REALTIME instant as "2026-11-22T10:15:30.123Z" into buf (>= 25 bytes). */
void util_format_utc_ms(uint64_t real_ns, char *buf, size_t len);

/* Human durations: "812ns", "12.3us", "31.92ms", "1.234s" (seconds keep 3 decimals, or 2 in
 * compact form, and none past 1000 s in compact form). buf >= 16 bytes. */
void util_format_ns(uint64_t ns, bool compact, char *buf, size_t len);

/* Human byte counts in powers of 1024: "512 B", "12.0 KiB", "231.2 MiB"; compact: "512B",
 * "12.0K", "231M". Negative counts keep their sign. buf >= 16 bytes. */
void util_format_bytes(int64_t bytes, bool compact, char *buf, size_t len);

/* Parse a whole decimal unsigned integer in [min, max]. Returns 0 or -EINVAL/-ERANGE. */
int util_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/* Parse seconds ("1", "0.5", "2.25"), > 0 and <= max_s, into ns. Returns 0 or -EINVAL. */
int util_parse_seconds(const char *s, double max_s, uint64_t *out_ns);

/* Read a whole small file (at most len - 1 bytes) into buf, NUL-terminated. Returns the number
 * of bytes read or -errno. */
long util_read_file(const char *path, char *buf, size_t len);

/* Copy s into buf (len >= 1 bytes, NUL-terminated, cut to fit between characters) with every
 * byte that could drive a terminal written as \xHH: C0 controls, DEL, the C1 controls of
 * UTF-8 (U+0080..U+009F) and bytes that are not valid UTF-8. Names from workloads, files and
 * the command line go through this before they are printed as text. Returns buf. */
const char *util_escape(const char *s, char *buf, size_t len);

/* Whether the process exists (kill(pid, 0) succeeds or fails with EPERM). */
bool util_pid_alive(int32_t pid);

/* Whether the real user of nctop may watch pid, a model of the kernel's ptrace access check
 * for the common cases: the real uid is 0; or the process's real, effective and saved uids
 * are our real uid, its gids our real gid, and it is dumpable (its /proc/<pid>/status
 * belongs to its user, not to root). False for a process that does not exist. */
bool util_may_trace(int32_t pid);

/* Whether nctop runs with privileges its user does not have (set-user-ID, set-group-ID or
 * file capabilities: the kernel's AT_SECURE). The environment then chooses no code to load
 * and no file to read or write. */
bool util_secure_exec(void);

/* Field 22 (starttime, clock ticks since boot) of /proc/<pid>/stat, or 0 when unreadable.
 * With ppid non-NULL also returns field 4. */
uint64_t util_proc_start_ticks(int32_t pid, int32_t *ppid);

#endif /* NCTOP_SRC_UTIL_H */
