/* SPDX-License-Identifier: MIT */
/* nctop's own diagnostics: a debug log written only to the --debug-log file, and the fatal
 * exits (which shut the UI down first through the registered hook). */
#ifndef NCTOP_SRC_DIAG_H
#define NCTOP_SRC_DIAG_H

#include <stdbool.h>
#include <stddef.h>

/* Open the debug log (line-buffered, appended; never through a link, only a regular file of
 * this user: fileio_open). Returns 0 or -errno with the reason in why (len bytes). path is
 * borrowed. */
int diag_open(const char *path, char *why, size_t len);
void diag_close(void);
bool diag_enabled(void);

/* Called by fatal()/die() before printing, e.g. to end curses. fn may be NULL. */
void diag_set_exit_hook(void (*fn)(void));

void diag_log(const char *level, const char *func, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define diag_debug(...) diag_log("debug", __func__, __VA_ARGS__)
#define diag_warn(...) diag_log("warn", __func__, __VA_ARGS__)
#define diag_error(...) diag_log("error", __func__, __VA_ARGS__)

/* Print "nctop: <message>" as one stderr line, its control characters escaped (names and
 * paths in it come from workloads, files and the command line). Only before the display
 * starts, after it ends, and in --once/--headless. */
void diag_print(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Put "ctx: " before every stderr line until called with NULL (a file:line whose contents are
 * being applied). ctx is borrowed until then. */
void diag_set_context(const char *ctx);

/* Print "nctop: <message>" on stderr (escaped, as diag_print) and exit. A format ending in ':'
 * appends strerror(errno). fatal() exits 1 (runtime), die_usage() exits 2 (usage). */
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void die_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif /* NCTOP_SRC_DIAG_H */
