/* SPDX-License-Identifier: MIT */
#include "gate.h"
#include "diag.h"
#include "xalloc.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bool gate_is(int argc, char **argv)
{
    return argc >= 4 && strcmp(argv[1], GATE_ARG) == 0;
}

int gate_main(char **argv)
{
    char go = 0;
    ssize_t n;

    do {
        n = read(GATE_FD, &go, 1);
    } while (n < 0 && errno == EINTR);
    close(GATE_FD);
    if (n != 1) {
        return 1; /* nctop went away before it watched: the command is not run unwatched */
    }
    execv(argv[2], argv + 3);
    diag_print("cannot start %s: %s", argv[3], strerror(errno));
    return errno == ENOENT ? 127 : 126;
}

static int gate_check(const char *path)
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

int gate_find(const char *cmd, char **file)
{
    const char *path = getenv("PATH");
    int best = -ENOENT;

    *file = NULL;
    if (cmd[0] == '\0') {
        return -ENOENT;
    }
    if (strchr(cmd, '/') != NULL) {
        int rc = gate_check(cmd);

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
        int rc;

        rc = gate_check(full);
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
