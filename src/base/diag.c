/* SPDX-License-Identifier: MIT */
/* The debug log and fatal exits. Nothing here writes to the terminal except fatal/die,
 * which end the UI first. */
#include "src/base/diag.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "src/base/fileio.h"
#include "src/base/util.h"

#define DIAG_LINE_BYTES 1024 /* one stderr line before escaping */

static FILE *diag_file;
static void (*diag_exit_hook)(void);

int diag_open(const char *path, char *why, size_t len)
{
    /* 0600: the log may name files and processes of the user. */
    FILE *f = fileio_fopen(path, FILEIO_APPEND, 0600, why, len);

    if (f == NULL) {
        return -errno;
    }
    setvbuf(f, NULL, _IOLBF, 0);
    diag_close();
    diag_file = f;
    return 0;
}

void diag_close(void)
{
    if (diag_file != NULL) {
        fclose(diag_file);
        diag_file = NULL;
    }
}

bool diag_enabled(void)
{
    return diag_file != NULL;
}

void diag_set_exit_hook(void (*fn)(void))
{
    diag_exit_hook = fn;
}

void diag_log(const char *level, const char *func, const char *fmt, ...)
{
    struct timespec ts;
    va_list ap;

    if (diag_file == NULL) {
        return;
    }
    clock_gettime(CLOCK_MONOTONIC, &ts);
    fprintf(diag_file, "%lld.%06ld %s %s: ", (long long)ts.tv_sec, ts.tv_nsec / 1000, level, func);
    va_start(ap, fmt);
    vfprintf(diag_file, fmt, ap);
    va_end(ap);
    fputc('\n', diag_file);
}

static void diag_vprint(const char *fmt, va_list ap, const char *suffix)
    __attribute__((format(printf, 1, 0)));

static const char *diag_context; /* borrowed; see diag_set_context */

void diag_set_context(const char *ctx)
{
    diag_context = ctx;
}

/* "nctop: " and the message on one stderr line, escaped: a name or a path in it (from a
 * workload, a file, the command line) cannot send the terminal control sequences. */
static void diag_vprint(const char *fmt, va_list ap, const char *suffix)
{
    char line[DIAG_LINE_BYTES], esc[4 * DIAG_LINE_BYTES];
    size_t n;

    vsnprintf(line, sizeof(line), fmt, ap);
    n = strlen(line);
    if (suffix != NULL) {
        snprintf(line + n, sizeof(line) - n, " %s", suffix);
    }
    if (diag_context != NULL) {
        char ctx[2 * DIAG_LINE_BYTES];

        fprintf(stderr, "nctop: %s: %s\n", util_escape(diag_context, ctx, sizeof(ctx)),
                util_escape(line, esc, sizeof(esc)));
        return;
    }
    fprintf(stderr, "nctop: %s\n", util_escape(line, esc, sizeof(esc)));
}

void diag_print(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    diag_vprint(fmt, ap, NULL);
    va_end(ap);
}

/* Print the message; a format ending in ':' gets strerror(errno) appended (suckless). */
static _Noreturn void diag_vdie(int status, const char *fmt, va_list ap)
{
    int saved = errno;
    size_t len = strlen(fmt);

    if (diag_exit_hook != NULL) {
        diag_exit_hook();
    }
    diag_vprint(fmt, ap, len > 0 && fmt[len - 1] == ':' ? strerror(saved) : NULL);
    exit(status);
}

void fatal(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    diag_vdie(1, fmt, ap);
}

void die_usage(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    diag_vdie(2, fmt, ap);
}
