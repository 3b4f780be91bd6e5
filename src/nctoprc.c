/* SPDX-License-Identifier: MIT */
/* The nctoprc parser: one "key = value" per line, blank lines and '#' comments ignored. */
#include "src/nctoprc.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "src/base/util.h"
#include "src/base/xalloc.h"

#define NCTOPRC_MAX_BYTES (64 * 1024) /* a config file larger than this is a mistake */

struct nctoprc_entry {
    char *key;
    char *value;
    unsigned line;
};

struct nctoprc {
    struct nctoprc_entry *v;
    size_t n;
    size_t cap;
};

static int nctoprc_is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

static int nctoprc_is_key_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

static void nctoprc_add(struct nctoprc *rc, const char *key, size_t klen, const char *val,
                        size_t vlen, unsigned line)
{
    if (rc->n == rc->cap) {
        rc->cap = rc->cap ? rc->cap * 2 : 8;
        rc->v = xreallocarray(rc->v, rc->cap, sizeof(*rc->v));
    }
    rc->v[rc->n].key = xstrndup(key, klen);
    rc->v[rc->n].value = xstrndup(val, vlen);
    rc->v[rc->n].line = line;
    rc->n++;
}

/* One line (without its newline). Returns NULL when fine, else a static reason. */
static const char *nctoprc_parse_line(struct nctoprc *rc, const char *s, size_t len, unsigned line)
{
    const char *end = s + len, *key, *val;
    size_t klen, vlen;

    while (s < end && nctoprc_is_space(*s)) {
        s++;
    }
    if (s == end || *s == '#') {
        return NULL;
    }
    key = s;
    while (s < end && nctoprc_is_key_char(*s)) {
        s++;
    }
    klen = (size_t)(s - key);
    if (klen == 0) {
        return "expected a key (lower-case letters, digits, '_' or '-')";
    }
    while (s < end && nctoprc_is_space(*s)) {
        s++;
    }
    if (s == end || *s != '=') {
        return "expected '=' after the key";
    }
    s++;
    while (s < end && nctoprc_is_space(*s)) {
        s++;
    }
    if (s < end && *s == '"') {
        val = ++s;
        while (s < end && *s != '"') {
            s++;
        }
        if (s == end) {
            return "unterminated quoted value";
        }
        vlen = (size_t)(s - val);
        s++;
        while (s < end && nctoprc_is_space(*s)) {
            s++;
        }
        if (s < end && *s != '#') {
            return "text after the quoted value";
        }
    } else {
        /* An unquoted value ends at a comment; trailing blanks are not part of it. */
        val = s;
        while (s < end && *s != '#') {
            s++;
        }
        while (s > val && nctoprc_is_space(s[-1])) {
            s--;
        }
        vlen = (size_t)(s - val);
    }
    if (memchr(val, '\0', vlen) != NULL) {
        return "NUL byte in the value";
    }
    nctoprc_add(rc, key, klen, val, vlen, line);
    return NULL;
}

struct nctoprc *nctoprc_parse(const char *text, char **err)
{
    struct nctoprc *rc = xcalloc(1, sizeof(*rc));
    unsigned line = 1;

    *err = NULL;
    while (*text != '\0') {
        const char *nl = strchr(text, '\n');
        size_t len = nl != NULL ? (size_t)(nl - text) : strlen(text);
        const char *why = nctoprc_parse_line(rc, text, len, line);

        if (why != NULL) {
            *err = xasprintf("line %u: %s", line, why);
            nctoprc_free(rc);
            return NULL;
        }
        text += len + (nl != NULL ? 1 : 0);
        line++;
    }
    return rc;
}

/* The file to read. A privileged nctop reads only a regular file of its real user, not
 * through a link: its messages quote lines, and it may read what its user could not. */
static FILE *nctoprc_open(const char *path)
{
    bool secure = util_secure_exec();
    int fd = open(path, O_RDONLY | O_CLOEXEC | (secure ? O_NOFOLLOW | O_NONBLOCK : 0));
    struct stat st;
    FILE *f;

    if (fd < 0) {
        return NULL;
    }
    if (secure && (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != getuid())) {
        close(fd);
        errno = EPERM;
        return NULL;
    }
    f = fdopen(fd, "r");
    if (f == NULL) {
        int e = errno;

        close(fd);
        errno = e;
    }
    return f;
}

struct nctoprc *nctoprc_load(const char *path, char **err)
{
    struct nctoprc *rc;
    FILE *f = nctoprc_open(path);
    char *buf;
    size_t n;

    *err = NULL;
    if (f == NULL) {
        if (errno == ENOENT || errno == ENOTDIR) {
            return xcalloc(1, sizeof(struct nctoprc));
        }
        *err = xasprintf("%s", strerror(errno));
        return NULL;
    }
    buf = xmalloc(NCTOPRC_MAX_BYTES + 1);
    n = fread(buf, 1, NCTOPRC_MAX_BYTES + 1, f);
    if (ferror(f)) {
        *err = xasprintf("%s", strerror(errno ? errno : EIO));
        rc = NULL;
    } else if (n > NCTOPRC_MAX_BYTES) {
        *err = xasprintf("larger than %d bytes", NCTOPRC_MAX_BYTES);
        rc = NULL;
    } else {
        buf[n] = '\0';
        rc = memchr(buf, '\0', n) != NULL ? NULL : nctoprc_parse(buf, err);
        if (rc == NULL && *err == NULL) {
            *err = xasprintf("not a text file");
        }
    }
    free(buf);
    fclose(f);
    return rc;
}

void nctoprc_free(struct nctoprc *rc)
{
    if (rc == NULL) {
        return;
    }
    for (size_t i = 0; i < rc->n; i++) {
        free(rc->v[i].key);
        free(rc->v[i].value);
    }
    free(rc->v);
    free(rc);
}

size_t nctoprc_count(const struct nctoprc *rc)
{
    return rc->n;
}

const char *nctoprc_key(const struct nctoprc *rc, size_t i)
{
    return rc->v[i].key;
}

const char *nctoprc_value(const struct nctoprc *rc, size_t i)
{
    return rc->v[i].value;
}

unsigned nctoprc_line(const struct nctoprc *rc, size_t i)
{
    return rc->v[i].line;
}

char *nctoprc_default_path(void)
{
    /* A privileged nctop takes no path from the environment: the real user's home. */
    const char *xdg = secure_getenv("XDG_CONFIG_HOME"), *home = secure_getenv("HOME");
    struct passwd *pw;

    if (util_secure_exec()) {
        pw = getpwuid(getuid());
        home = pw != NULL ? pw->pw_dir : NULL;
    }

    /* XDG: a relative XDG_CONFIG_HOME is invalid and must be ignored. */
    if (xdg != NULL && xdg[0] == '/') {
        return xasprintf("%s/nctop/nctoprc", xdg);
    }
    if (home != NULL && home[0] != '\0') {
        return xasprintf("%s/.config/nctop/nctoprc", home);
    }
    return NULL;
}
