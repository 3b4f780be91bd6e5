/* SPDX-License-Identifier: MIT */
#include "src/child.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "src/base/diag.h"
#include "src/base/fileio.h"
#include "src/base/util.h"
#include "src/base/xalloc.h"

#define CHILD_KILL_GRACE_MS 3000 /* SIGTERM to SIGKILL */

struct child {
    uv_process_t *proc; /* NULL once closed */
    uv_timer_t *grace;  /* SIGTERM sent: SIGKILL when it fires */
    int gate;           /* the write end of its gate's pipe until it is let go, else -1 */
    bool running;
    bool ended_by_us;
    int32_t pid;
    int status;
    char *out; /* own_output: the file its stdout and stderr go to (owned) */
    char out_problem[256];
    char name[64];
    child_exit_fn on_exit;
    void *ctx;
};

static void child_on_close(uv_handle_t *h)
{
    free(h);
}

static void child_close_handle(uv_handle_t *h)
{
    if (h != NULL && !uv_is_closing(h)) {
        uv_close(h, child_on_close);
    }
}

/* --- the gate ------------------------------------------------------------------------------ */

bool child_gate_is(int argc, char **argv)
{
    return argc >= 4 && strcmp(argv[1], CHILD_GATE_ARG) == 0;
}

int child_gate_main(char **argv)
{
    char go = 0;
    ssize_t n;

    do {
        n = read(CHILD_GATE_FD, &go, 1);
    } while (n < 0 && errno == EINTR);
    close(CHILD_GATE_FD);
    if (n != 1) {
        return 1; /* nctop went away before it watched: the command is not run unwatched */
    }
    execv(argv[2], argv + 3);
    diag_print("cannot start %s: %s", argv[3], strerror(errno));
    return errno == ENOENT ? 127 : 126;
}

static int child_check_exec(const char *path)
{
    struct stat st;

    if (stat(path, &st) != 0) {
        return -errno;
    }
    if (!S_ISREG(st.st_mode) || access(path, X_OK) != 0) {
        return -EACCES;
    }
    return 0;
}

/* The file cmd names, as execvp would find it on PATH (or at its path), if it is executable:
 * *file is set (owned) and 0 returned, else -errno. So a gated command that cannot start
 * fails before anything waits on it, and the watched command makes one execve, not one per
 * PATH element. */
static int child_find(const char *cmd, char **file)
{
    const char *path = getenv("PATH");
    int best = -ENOENT;

    *file = NULL;
    if (cmd[0] == '\0') {
        return -ENOENT;
    }
    if (strchr(cmd, '/') != NULL) {
        int rc = child_check_exec(cmd);

        if (rc == 0) {
            *file = xasprintf("%s", cmd);
        }
        return rc;
    }
    if (path == NULL) {
        path = "/bin:/usr/bin";
    }
    /* As execvp searches: each element in turn, an empty one meaning the current directory;
     * a match that is not executable is remembered as EACCES and the search goes on. */
    for (const char *p = path;; p++) {
        const char *end = strchr(p, ':');
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
        char *full = len == 0 ? xasprintf("%s", cmd) : xasprintf("%.*s/%s", (int)len, p, cmd);
        int rc = child_check_exec(full);

        if (rc == 0) {
            *file = full;
            return 0;
        }
        free(full);
        if (rc == -EACCES) {
            best = rc;
        }
        if (end == NULL) {
            break;
        }
        p = end;
    }
    return best;
}

void child_release(struct child *c)
{
    static const char go = 'g';

    if (c == NULL || c->gate < 0) {
        return;
    }
    if (write(c->gate, &go, 1) != 1) {
        diag_warn("cannot release the command from its gate: %s", strerror(errno));
    }
    close(c->gate);
    c->gate = -1;
}

/* --- start and end ------------------------------------------------------------------------- */

/* A new file for the command's stdout and stderr: $TMPDIR (not under secure execution) or
 * /tmp, nctop-<our pid>-<command>.out, created exclusively, mode 0600. Returns its descriptor,
 * or -1 with out_problem saying why (the output is then dropped). */
static int child_output_open(struct child *c)
{
    const char *dir = secure_getenv("TMPDIR");
    char why[96];
    int fd;

    if (dir == NULL || dir[0] != '/') {
        dir = "/tmp";
    }
    c->out = xasprintf("%s/nctop-%d-%s.out", dir, (int)getpid(), c->name);
    fd = fileio_open(c->out, FILEIO_NEW, 0600, why, sizeof(why));
    if (fd < 0) {
        snprintf(c->out_problem, sizeof(c->out_problem), "the output of %s is dropped: %s: %s",
                 c->name, c->out, why);
        free(c->out);
        c->out = NULL;
    }
    return fd;
}

static void child_on_exit(uv_process_t *p, int64_t exit_status, int term_signal)
{
    struct child *c = p->data;
    char reason[96];

    diag_debug("command %d exited: status %lld signal %d", (int)c->pid, (long long)exit_status,
               term_signal);
    c->running = false;
    c->status = term_signal ? 128 + term_signal : (int)exit_status;
    if (term_signal != 0) {
        snprintf(reason, sizeof(reason), "killed by signal %d (%s)", term_signal,
                 strsignal(term_signal));
    } else {
        snprintf(reason, sizeof(reason), "exit status %lld", (long long)exit_status);
    }
    child_close(c);
    if (c->on_exit != NULL) {
        c->on_exit(c->ctx, c->status, reason);
    }
}

static void child_on_grace(uv_timer_t *t)
{
    struct child *c = t->data;

    if (c->running && c->proc != NULL) {
        diag_warn("command %d ignored SIGTERM: sending SIGKILL", (int)c->pid);
        uv_process_kill(c->proc, SIGKILL);
    }
}

void child_stop(struct child *c)
{
    if (c == NULL || !c->running || c->proc == NULL) {
        return;
    }
    c->ended_by_us = true;
    uv_process_kill(c->proc, SIGTERM);
    if (c->grace == NULL) {
        c->grace = xcalloc(1, sizeof(*c->grace));
        uv_timer_init(c->proc->loop, c->grace);
        c->grace->data = c;
        uv_timer_start(c->grace, child_on_grace, CHILD_KILL_GRACE_MS, 0);
    }
}

/* The environment of the command: nctop's, with NCTOP_READER=<our pid> (borrowed strings;
 * reader holds the one owned here). */
static char **child_env(char *reader, size_t len)
{
    extern char **environ;
    size_t n = 0, k = 0;
    char **env;

    while (environ[n] != NULL) {
        n++;
    }
    env = xcalloc(n + 2, sizeof(*env));
    for (size_t i = 0; i < n; i++) {
        if (strncmp(environ[i], "NCTOP_READER=", 13) != 0) {
            env[k++] = environ[i];
        }
    }
    snprintf(reader, len, "NCTOP_READER=%d", (int)getpid());
    env[k++] = reader;
    env[k] = NULL;
    return env;
}

static void child_set_name(struct child *c, const char *argv0)
{
    const char *base = strrchr(argv0, '/');

    base = base != NULL ? base + 1 : argv0;
    c->name[0] = '\0';
    for (size_t i = 0; base[i] != '\0' && i + 1 < sizeof(c->name); i++) {
        char ch = base[i];

        /* The name goes into a file name and onto the screen: a safe subset only. */
        c->name[i] = (isalnum((unsigned char)ch) || ch == '.' || ch == '_' || ch == '-') ? ch : '_';
        c->name[i + 1] = '\0';
    }
}

int child_start(uv_loop_t *uv, const struct child_opts *o, struct child **out)
{
    static char gate_argv0[] = "nctop", gate_arg[] = CHILD_GATE_ARG;
    struct child *c = xcalloc(1, sizeof(*c));
    uv_process_options_t opts;
    uv_stdio_container_t stdio[CHILD_GATE_FD + 1];
    char **env, **args = o->argv;
    char reader[48];
    int gate[2] = {-1, -1};
    int out_fd = -1;
    char *file = NULL;
    size_t argc = 0;
    int rc = 0;

    *out = NULL;
    c->gate = -1;
    c->on_exit = o->on_exit;
    c->ctx = o->ctx;
    child_set_name(c, o->argv[0]);
    if (o->gated) {
        /* The gate is nctop started again (the same pid): it waits for one byte, then
         * executes the command's file. */
        rc = child_find(o->argv[0], &file);
        if (rc == 0 && pipe2(gate, O_CLOEXEC) != 0) {
            rc = -errno;
        }
        if (rc != 0) {
            free(c);
            return uv_translate_sys_error(-rc);
        }
        while (o->argv[argc] != NULL) {
            argc++;
        }
        args = xcalloc(argc + 4, sizeof(*args));
        args[0] = gate_argv0;
        args[1] = gate_arg;
        args[2] = file;
        memcpy(args + 3, o->argv, (argc + 1) * sizeof(*args));
    }

    memset(&opts, 0, sizeof(opts));
    memset(stdio, 0, sizeof(stdio));
    for (int fd = 0; fd < 3; fd++) {
        stdio[fd].flags = UV_INHERIT_FD;
        stdio[fd].data.fd = fd;
    }
    if (o->own_output) {
        /* The display owns the terminal: the output goes to a file of its own, and the
         * command must not take the keys. */
        out_fd = child_output_open(c);
        for (int fd = 1; fd <= 2; fd++) {
            stdio[fd].flags = out_fd >= 0 ? UV_INHERIT_FD : UV_IGNORE;
            stdio[fd].data.fd = out_fd;
        }
        stdio[0].flags = UV_IGNORE;
    }
    env = child_env(reader, sizeof(reader));
    opts.file = o->gated ? "/proc/self/exe" : o->argv[0];
    opts.args = args;
    opts.env = env;
    opts.stdio = stdio;
    opts.stdio_count = 3;
    opts.exit_cb = child_on_exit;
    if (o->gated) {
        stdio[CHILD_GATE_FD].flags = UV_INHERIT_FD;
        stdio[CHILD_GATE_FD].data.fd = gate[0];
        opts.stdio_count = CHILD_GATE_FD + 1;
    }

    c->proc = xcalloc(1, sizeof(*c->proc));
    c->proc->data = c;
    rc = uv_spawn(uv, c->proc, &opts);
    free(env);
    if (args != o->argv) {
        free(args);
    }
    free(file);
    if (out_fd >= 0) {
        close(out_fd); /* the command has its own copy */
    }
    if (gate[0] >= 0) {
        close(gate[0]);
    }
    if (rc != 0) {
        if (gate[1] >= 0) {
            close(gate[1]);
        }
        /* A failed spawn still initialised the handle: close it through the loop. */
        child_close_handle((uv_handle_t *)c->proc);
        if (c->out != NULL) {
            unlink(c->out);
        }
        free(c->out);
        free(c);
        return rc;
    }
    c->gate = gate[1];
    c->running = true;
    c->pid = c->proc->pid;
    diag_debug("started %s as pid %d%s", o->argv[0], (int)c->pid, o->gated ? " (gated)" : "");
    *out = c;
    return 0;
}

void child_close(struct child *c)
{
    if (c == NULL) {
        return;
    }
    child_close_handle((uv_handle_t *)c->proc);
    child_close_handle((uv_handle_t *)c->grace);
    c->proc = NULL;
    c->grace = NULL;
}

void child_free(struct child *c)
{
    if (c == NULL) {
        return;
    }
    if (c->gate >= 0) {
        close(c->gate);
    }
    free(c->out);
    free(c);
}

/* --- what it was ---------------------------------------------------------------------------- */

int32_t child_pid(const struct child *c)
{
    return c->pid;
}

const char *child_name(const struct child *c)
{
    return c->name;
}

bool child_running(const struct child *c)
{
    return c != NULL && c->running;
}

bool child_ended_by_us(const struct child *c)
{
    return c->ended_by_us;
}

int child_status(const struct child *c)
{
    return c->status;
}

const char *child_output(const struct child *c)
{
    return c->out;
}

const char *child_output_problem(const struct child *c)
{
    return c->out_problem[0] != '\0' ? c->out_problem : NULL;
}

bool child_rusage(const struct child *c, uint64_t *maxrss_bytes, uint64_t *cpu_ns)
{
    struct rusage ru;

    (void)c;
    if (getrusage(RUSAGE_CHILDREN, &ru) != 0) {
        return false;
    }
    *cpu_ns = (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * UTIL_NS_PER_SEC +
              (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000;
    *maxrss_bytes = (uint64_t)ru.ru_maxrss * 1024;
    return true;
}

void child_show_output(const struct child *c)
{
    enum { TAIL_LINES = 20, TAIL_BYTES = 8192 };
    char buf[TAIL_BYTES + 1];
    struct stat sb;
    size_t n, start, end;
    int fd, lines = 0;

    if (c == NULL || c->out == NULL) {
        return;
    }
    fd = open(c->out, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &sb) != 0 || sb.st_size == 0) {
        if (fd >= 0) {
            close(fd);
            unlink(c->out);
        }
        return;
    }
    n = (size_t)(sb.st_size < TAIL_BYTES ? sb.st_size : TAIL_BYTES);
    n = pread(fd, buf, n, sb.st_size - (off_t)n) > 0 ? n : 0;
    close(fd);
    end = n > 0 && buf[n - 1] == '\n' ? n - 1 : n;
    buf[end] = '\0';
    /* The start of the last TAIL_LINES lines. */
    start = end;
    while (start > 0 && !(buf[start - 1] == '\n' && ++lines == TAIL_LINES)) {
        start--;
    }
    diag_print("the output of %s (%s) is in %s%s", c->name,
               c->running       ? "still running"
               : c->ended_by_us ? "ended by nctop"
                                : (c->status == 0 ? "exit status 0" : "failed"),
               c->out, start > 0 || (off_t)n < sb.st_size ? "; its last lines:" : ":");
    for (char *line = buf + start, *nl; line < buf + end; line = nl + 1) {
        nl = strchr(line, '\n');
        if (nl == NULL) {
            nl = buf + end;
        }
        *nl = '\0';
        diag_print("| %s", line);
    }
}
