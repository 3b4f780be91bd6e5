/* SPDX-License-Identifier: MIT */
/* Output files that cannot be turned against the user running nctop: a name planted in a
 * shared directory (a symbolic or hard link to someone else's file, a FIFO) is refused with a
 * reason instead of being written through, as root too. */
#include "src/base/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FILEIO_RETRIES 4 /* a name that appears and vanishes under us this often is an attack */

/* Close fd (when >= 0), give the reason (NULL: strerror) and return -err. */
static int fileio_fail(int fd, int err, char *why, size_t len, const char *reason)
{
    if (fd >= 0) {
        close(fd);
    }
    if (why != NULL && len > 0) {
        snprintf(why, len, "%s", reason != NULL ? reason : strerror(err));
    }
    return -err;
}

/* An existing name: opened without following a link and without blocking (a FIFO with no
 * reader would hang the loop), then checked on the descriptor itself, so the check and the
 * writes concern the same file whatever happens to the name in between. */
static int fileio_open_existing(const char *path, enum fileio_how how, char *why, size_t len)
{
    int append = how == FILEIO_APPEND ? O_APPEND : 0;
    struct stat st;
    char reason[64];
    int fd;

    fd = open(path, O_WRONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC | append);
    if (fd < 0) {
        if (errno == ELOOP) {
            return fileio_fail(-1, ELOOP, why, len, "a symbolic link (not followed)");
        }
        if (errno == ENXIO) {
            return fileio_fail(-1, EINVAL, why, len, "not a regular file (a FIFO)");
        }
        return fileio_fail(-1, errno, why, len, NULL);
    }
    if (fstat(fd, &st) != 0) {
        return fileio_fail(fd, errno, why, len, NULL);
    }
    if (S_ISCHR(st.st_mode)) {
        /* A character device named on purpose (-o /dev/null): only root can make one, so
         * nobody plants it, and it has no owner or links to check or length to cut. */
        if (fcntl(fd, F_SETFL, append) != 0) {
            return fileio_fail(fd, errno, why, len, NULL);
        }
        return fd;
    }
    if (!S_ISREG(st.st_mode)) {
        return fileio_fail(fd, EINVAL, why, len, "not a regular file");
    }
    if (st.st_uid != geteuid()) {
        snprintf(reason, sizeof(reason), "owned by another user (uid %u)", (unsigned)st.st_uid);
        return fileio_fail(fd, EPERM, why, len, reason);
    }
    if (st.st_nlink != 1) {
        snprintf(reason, sizeof(reason), "a file with %u links (one is accepted)",
                 (unsigned)st.st_nlink);
        return fileio_fail(fd, EPERM, why, len, reason);
    }
    /* Checked: from now on writes may block like those to any regular file. */
    if (fcntl(fd, F_SETFL, append) != 0) {
        return fileio_fail(fd, errno, why, len, NULL);
    }
    if (how == FILEIO_REPLACE && ftruncate(fd, 0) != 0) {
        return fileio_fail(fd, errno, why, len, NULL);
    }
    return fd;
}

int fileio_open(const char *path, enum fileio_how how, mode_t perm, char *why, size_t len)
{
    int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC;

    if (how == FILEIO_APPEND) {
        flags |= O_APPEND;
    }
    for (int i = 0; i < FILEIO_RETRIES; i++) {
        int fd = open(path, flags, perm);

        if (fd >= 0) {
            return fd;
        }
        if (errno != EEXIST) {
            return fileio_fail(-1, errno, why, len, NULL);
        }
        /* O_EXCL also fails on a link (dangling or not): find out what the name is. */
        if (how == FILEIO_NEW) {
            struct stat st;

            if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
                return fileio_fail(-1, EEXIST, why, len, "a symbolic link (not followed)");
            }
            return fileio_fail(-1, EEXIST, why, len, "the file exists already");
        }
        fd = fileio_open_existing(path, how, why, len);
        if (fd != -ENOENT) {
            return fd;
        }
        /* Removed between the two opens: try to create it again. */
    }
    return fileio_fail(-1, EAGAIN, why, len, "the name keeps changing");
}

FILE *fileio_fopen(const char *path, enum fileio_how how, mode_t perm, char *why, size_t len)
{
    int fd = fileio_open(path, how, perm, why, len);
    FILE *f;

    if (fd < 0) {
        errno = -fd;
        return NULL;
    }
    f = fdopen(fd, how == FILEIO_APPEND ? "a" : "w");
    if (f == NULL) {
        int err = errno;

        fileio_fail(fd, err, why, len, NULL);
        errno = err;
    }
    return f;
}

int fileio_mkdirs(const char *path, mode_t perm, char *why, size_t len)
{
    char buf[4096];
    size_t n = strlen(path);
    struct stat sb;

    if (n == 0 || n >= sizeof(buf)) {
        return fileio_fail(-1, ENAMETOOLONG, why, len, NULL);
    }
    memcpy(buf, path, n + 1);
    /* Each prefix ending before a '/', then the whole path. */
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0') {
            continue;
        }
        buf[i] = '\0';
        if (mkdir(buf, perm) != 0 && errno != EEXIST) {
            return fileio_fail(-1, errno, why, len, NULL);
        }
        buf[i] = i < n ? '/' : '\0';
    }
    if (stat(path, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        return fileio_fail(-1, ENOTDIR, why, len, "not a directory");
    }
    return 0;
}
