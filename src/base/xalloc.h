/* SPDX-License-Identifier: MIT */
/* Allocation for the nctop program (never the SDK): every function calls fatal() on OOM,
 * and a zero-size request is a bug (asserted). */
#ifndef NCTOP_SRC_XALLOC_H
#define NCTOP_SRC_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t size);                                /* owned */
void *xcalloc(size_t nmemb, size_t size);                  /* owned, zeroed */
void *xreallocarray(void *ptr, size_t nmemb, size_t size); /* takes ownership of ptr */
char *xstrdup(const char *s);                              /* owned copy */
char *xstrndup(const char *s, size_t n);                   /* owned copy of at most n bytes */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2))); /* owned */

#endif /* NCTOP_SRC_XALLOC_H */
