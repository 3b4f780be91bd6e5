/* SPDX-License-Identifier: MIT */
/* Opening nctop's output files safely: never through a symbolic link, new files created
 * exclusively, an existing file written only when it is a regular file of this user. libc only. */
#ifndef NCTOP_SRC_FILEIO_H
#define NCTOP_SRC_FILEIO_H

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

enum fileio_how {
    FILEIO_NEW = 0, /* the name must not exist yet */
    FILEIO_APPEND,  /* a new file, or the end of an existing one */
    FILEIO_REPLACE, /* a new file, or an existing one emptied */
};

/* Open path for writing. A missing name is created with O_EXCL (perm, less the umask); an
 * existing one is accepted only for APPEND/REPLACE and only when it is not a symbolic link,
 * and is a character device (-o /dev/null) or a regular file that belongs to the effective user and
 * has one link (a planted link or a second name of someone else's file is refused, root included).
 * Returns a descriptor (close-on-exec, owned) or -errno; why (len bytes, may be NULL) receives a
 * short reason
 * ("a symbolic link (not followed)", or strerror). Never blocks on a FIFO. */
int fileio_open(const char *path, enum fileio_how how, mode_t perm, char *why, size_t len);

/* The same as a stdio stream ("w" or "a"); NULL with errno set and why filled in. Owned. */
FILE *fileio_fopen(const char *path, enum fileio_how how, mode_t perm, char *why, size_t len);

/* Create directory path and its missing parents (perm, less the umask), as mkdir -p does; an
 * existing directory is fine. Returns 0 or -errno with why filled in (may be NULL). */
int fileio_mkdirs(const char *path, mode_t perm, char *why, size_t len);

#endif /* NCTOP_SRC_FILEIO_H */
