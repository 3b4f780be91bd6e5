/* SPDX-License-Identifier: MIT */
/* Allocation wrappers that never return NULL. */
#include "src/base/xalloc.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/base/diag.h"

void *xmalloc(size_t size)
{
    void *p;

    assert(size != 0);
    p = malloc(size);
    if (p == NULL) {
        fatal("out of memory allocating %zu bytes:", size);
    }
    return p;
}

void *xcalloc(size_t nmemb, size_t size)
{
    void *p;

    assert(nmemb != 0 && size != 0);
    p = calloc(nmemb, size);
    if (p == NULL) {
        fatal("out of memory allocating %zu x %zu bytes:", nmemb, size);
    }
    return p;
}

void *xreallocarray(void *ptr, size_t nmemb, size_t size)
{
    void *p;

    assert(nmemb != 0 && size != 0);
    p = reallocarray(ptr, nmemb, size);
    if (p == NULL) {
        fatal("out of memory allocating %zu x %zu bytes:", nmemb, size);
    }
    return p;
}

char *xstrdup(const char *s)
{
    char *p = strdup(s);

    if (p == NULL) {
        fatal("out of memory copying a string:");
    }
    return p;
}

char *xstrndup(const char *s, size_t n)
{
    char *p = strndup(s, n);

    if (p == NULL) {
        fatal("out of memory copying a string:");
    }
    return p;
}

char *xasprintf(const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;
    int n;

    va_start(ap, fmt);
    n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0) {
        fatal("out of memory formatting a string:");
    }
    return s;
}
