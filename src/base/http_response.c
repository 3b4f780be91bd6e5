/* SPDX-License-Identifier: MIT */
/* The HTTP/1.1 response parser: a byte-at-a-time state machine for the framing (head, fixed
 * length, chunks, trailers, read-until-close), so a response may arrive split anywhere. The
 * head is kept whole in a fixed buffer and parsed in place once its blank line is in. */
#include "src/base/http_response.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "src/base/xalloc.h"

enum http_response_state {
    HR_HEAD,        /* status line and header fields, up to the blank line */
    HR_LENGTH,      /* a body of content_length bytes */
    HR_CHUNK_SIZE,  /* a chunk-size line, extensions ignored */
    HR_CHUNK_DATA,  /* chunk_left bytes of chunk data */
    HR_CHUNK_CRLF,  /* the line end after chunk data */
    HR_TRAILER,     /* trailer fields after the last chunk, up to a blank line */
    HR_UNTIL_CLOSE, /* a body that ends when the connection does */
    HR_DONE,
    HR_ERROR,
};

struct http_response_field {
    uint32_t name;  /* offset of the NUL-terminated name in head */
    uint32_t value; /* offset of the NUL-terminated, trimmed value in head */
};

struct http_response {
    size_t max_body; /* bytes of body allowed */
    bool head_request;
    enum http_response_state state;
    int err; /* the sticky error of HR_ERROR */

    int status;
    int minor; /* HTTP/1.<minor> */
    bool has_length;
    uint64_t content_length;
    bool chunked;
    bool conn_close; /* Connection: close, or HTTP/1.0 without keep-alive */
    bool head_ok;    /* the status line and headers parsed */

    uint64_t left;      /* HR_LENGTH, HR_CHUNK_DATA: bytes still to come */
    size_t line_len;    /* HR_CHUNK_SIZE, HR_TRAILER: bytes of the current line */
    size_t trailer_len; /* HR_TRAILER: bytes of trailers so far */
    uint64_t chunk_size;
    bool chunk_digits; /* a hex digit was seen on this chunk-size line */
    bool chunk_ext;    /* past the digits (whitespace or ';'): ignore up to the line end */
    bool saw_cr;       /* the previous byte was a CR ending a line */

    size_t nfields;
    struct http_response_field fields[HTTP_RESPONSE_MAX_HEADERS];
    size_t head_len;
    char head[HTTP_RESPONSE_MAX_HEAD + 1];

    char *body; /* owned, body_cap bytes, body_len used plus a NUL */
    size_t body_len;
    size_t body_cap;
};

static int http_response_fail(struct http_response *r, int err)
{
    r->state = HR_ERROR;
    r->err = err;
    return err;
}

static bool http_is_tchar(unsigned char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
        return true;
    }
    return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static int http_hex(unsigned char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* Does the comma-separated token list s hold tok (any case)? *last gets whether it is the
 * last element. Empty elements (", ,") are skipped as the RFC asks. */
static bool http_list_has(const char *s, const char *tok, bool *last)
{
    size_t tl = strlen(tok);
    bool found = false;

    if (last != NULL) {
        *last = false;
    }
    while (*s != '\0') {
        while (*s == ' ' || *s == '\t' || *s == ',') {
            s++;
        }
        const char *start = s;
        while (*s != '\0' && *s != ',') {
            s++;
        }
        const char *end = s;
        while (end > start && (end[-1] == ' ' || end[-1] == '\t')) {
            end--;
        }
        if (end == start) {
            continue;
        }
        bool match = (size_t)(end - start) == tl && strncasecmp(start, tok, tl) == 0;
        found = found || match;
        if (last != NULL) {
            *last = match;
        }
    }
    return found;
}

/* Content-Length: 1*DIGIT, or a list of equal values ("42, 42"). */
static int http_parse_length(const char *s, uint64_t *out)
{
    bool have = false;
    uint64_t first = 0;

    for (;;) {
        uint64_t v = 0;
        size_t digits = 0;

        while (*s == ' ' || *s == '\t') {
            s++;
        }
        for (; *s >= '0' && *s <= '9'; s++, digits++) {
            unsigned d = (unsigned)(*s - '0');
            if (v > (UINT64_MAX - d) / 10) {
                return -EBADMSG;
            }
            v = v * 10 + d;
        }
        while (*s == ' ' || *s == '\t') {
            s++;
        }
        if (digits == 0 || (have && v != first)) {
            return -EBADMSG;
        }
        first = v;
        have = true;
        if (*s == '\0') {
            break;
        }
        if (*s != ',') {
            return -EBADMSG;
        }
        s++;
    }
    *out = first;
    return 0;
}

/* The status line: HTTP/1.x SP 3DIGIT [SP reason]. The reason is not kept. */
static int http_parse_status_line(struct http_response *r, const char *line)
{
    if (strncmp(line, "HTTP/1.", 7) != 0 || line[7] < '0' || line[7] > '9' || line[8] != ' ') {
        return -EBADMSG;
    }
    r->minor = line[7] - '0';
    const char *s = line + 9;
    if (s[0] < '1' || s[0] > '9' || s[1] < '0' || s[1] > '9' || s[2] < '0' || s[2] > '9') {
        return -EBADMSG;
    }
    if (s[3] != '\0' && s[3] != ' ') {
        return -EBADMSG;
    }
    r->status = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
    for (s += 3; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c < 0x20 && c != '\t') || c == 0x7f) {
            return -EBADMSG;
        }
    }
    return 0;
}

/* One header field line, NUL-terminated in place: name ":" OWS value OWS. */
static int http_parse_field(struct http_response *r, char *line)
{
    char *colon = line;

    while (http_is_tchar((unsigned char)*colon)) {
        colon++;
    }
    if (colon == line || *colon != ':') {
        return -EBADMSG; /* also a folded line (obs-fold) and whitespace before the colon */
    }
    *colon = '\0';
    char *v = colon + 1;
    while (*v == ' ' || *v == '\t') {
        v++;
    }
    char *end = v + strlen(v);
    while (end > v && (end[-1] == ' ' || end[-1] == '\t')) {
        end--;
    }
    *end = '\0';
    for (const char *p = v; *p != '\0'; p++) {
        unsigned char c = (unsigned char)*p;
        if ((c < 0x20 && c != '\t') || c == 0x7f) {
            return -EBADMSG;
        }
    }
    if (r->nfields == HTTP_RESPONSE_MAX_HEADERS) {
        return -EMSGSIZE;
    }
    r->fields[r->nfields].name = (uint32_t)(line - r->head);
    r->fields[r->nfields].value = (uint32_t)(v - r->head);
    r->nfields++;
    return 0;
}

/* The framing the head asks for (RFC 9112 §6.3). */
static int http_response_frame(struct http_response *r)
{
    const char *te = NULL;
    bool saw_length = false;
    bool has_close = false;
    bool has_keep_alive = false;

    for (size_t i = 0; i < r->nfields; i++) {
        const char *name = r->head + r->fields[i].name;
        const char *value = r->head + r->fields[i].value;

        if (strcasecmp(name, "Transfer-Encoding") == 0) {
            te = value; /* the last one names the final coding */
        } else if (strcasecmp(name, "Content-Length") == 0) {
            uint64_t len;
            if (http_parse_length(value, &len) != 0 || (saw_length && len != r->content_length)) {
                return -EBADMSG;
            }
            r->content_length = len;
            saw_length = true;
        } else if (strcasecmp(name, "Connection") == 0) {
            has_close = has_close || http_list_has(value, "close", NULL);
            has_keep_alive = has_keep_alive || http_list_has(value, "keep-alive", NULL);
        }
    }
    /* HTTP/1.0 closes unless it asks to keep the connection. */
    r->conn_close = has_close || (r->minor == 0 && !has_keep_alive);
    r->has_length = saw_length;

    if (r->head_request || r->status == 204 || r->status == 304 ||
        (r->status >= 100 && r->status < 200)) {
        r->state = HR_DONE;
        if (r->status == 101) {
            r->conn_close = true; /* nothing here speaks what it switches to */
        }
        return 0;
    }
    if (te != NULL) {
        bool last = false;
        /* With a Transfer-Encoding the Content-Length is ignored; without chunked as the
         * final coding the body ends with the connection. */
        r->has_length = false;
        if (http_list_has(te, "chunked", &last) && last) {
            r->chunked = true;
            r->state = HR_CHUNK_SIZE;
            return 0;
        }
        r->conn_close = true;
        r->state = HR_UNTIL_CLOSE;
        return 0;
    }
    if (saw_length) {
        if (r->content_length > r->max_body) {
            return -E2BIG;
        }
        r->left = r->content_length;
        r->state = r->left == 0 ? HR_DONE : HR_LENGTH;
        return 0;
    }
    r->conn_close = true;
    r->state = HR_UNTIL_CLOSE;
    return 0;
}

/* The blank line is in: split head into lines in place and parse them. */
static int http_response_parse_head(struct http_response *r)
{
    char *p = r->head;
    char *end = r->head + r->head_len;
    bool first = true;

    if (memchr(r->head, '\0', r->head_len) != NULL) {
        return -EBADMSG;
    }
    r->head[r->head_len] = '\0';
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        if (nl == NULL) {
            return -EBADMSG; /* cannot happen: the head ends with a line end */
        }
        char *eol = nl;
        if (eol > p && eol[-1] == '\r') {
            eol--;
        }
        *eol = '\0';
        *nl = '\0';
        if (memchr(p, '\r', (size_t)(eol - p)) != NULL) {
            return -EBADMSG; /* a bare CR inside a line */
        }
        if (eol == p) {
            break; /* the blank line */
        }
        int rc = first ? http_parse_status_line(r, p) : http_parse_field(r, p);
        if (rc != 0) {
            return rc;
        }
        first = false;
        p = nl + 1;
    }
    if (first) {
        return -EBADMSG;
    }
    int rc = http_response_frame(r);
    r->head_ok = rc == 0;
    return rc;
}

static void http_response_clear(struct http_response *r)
{
    r->state = HR_HEAD;
    r->err = 0;
    r->status = 0;
    r->minor = 1;
    r->has_length = false;
    r->content_length = 0;
    r->chunked = false;
    r->conn_close = false;
    r->head_ok = false;
    r->left = 0;
    r->line_len = 0;
    r->trailer_len = 0;
    r->chunk_size = 0;
    r->chunk_digits = false;
    r->chunk_ext = false;
    r->saw_cr = false;
    r->nfields = 0;
    r->head_len = 0;
    r->body_len = 0;
    if (r->body != NULL) {
        r->body[0] = '\0';
    }
}

/* Append n body bytes, growing the buffer up to max_body. */
static int http_response_append(struct http_response *r, const unsigned char *p, size_t n)
{
    if (n > r->max_body - r->body_len) {
        return -E2BIG;
    }
    if (r->body_len + n + 1 > r->body_cap) {
        size_t cap = r->body_cap == 0 ? 1024 : r->body_cap;
        while (cap < r->body_len + n + 1) {
            cap *= 2;
        }
        if (cap - 1 > r->max_body) {
            cap = r->max_body + 1; /* no overflow: max_body < cap - 1 */
        }
        r->body = xreallocarray(r->body, cap, 1);
        r->body_cap = cap;
    }
    memcpy(r->body + r->body_len, p, n);
    r->body_len += n;
    r->body[r->body_len] = '\0';
    return 0;
}

/* One byte of the head; returns 1 when the blank line completes it. */
static int http_response_head_byte(struct http_response *r, unsigned char c)
{
    if (r->head_len == HTTP_RESPONSE_MAX_HEAD) {
        return -EMSGSIZE;
    }
    r->head[r->head_len++] = (char)c;
    if (c != '\n') {
        return 0;
    }
    size_t n = r->head_len;
    /* A blank line: "\n\n" or "\n\r\n" at the end; a head never starts with one. */
    if ((n >= 2 && r->head[n - 2] == '\n') ||
        (n >= 3 && r->head[n - 2] == '\r' && r->head[n - 3] == '\n')) {
        return 1;
    }
    if (n <= 2) {
        return -EBADMSG;
    }
    return 0;
}

/* One byte of a chunk-size line: HEXDIG... [BWS] [; ext] CRLF. */
static int http_response_chunk_size_byte(struct http_response *r, unsigned char c)
{
    if (++r->line_len > HTTP_RESPONSE_MAX_CHUNK_LINE) {
        return -EMSGSIZE;
    }
    if (c == '\n') {
        if (!r->chunk_digits) {
            return -EBADMSG;
        }
        r->line_len = 0;
        r->chunk_digits = false;
        r->chunk_ext = false;
        r->saw_cr = false;
        if (r->chunk_size == 0) {
            r->state = HR_TRAILER;
            return 0;
        }
        if (r->chunk_size > r->max_body - r->body_len) {
            return -E2BIG;
        }
        r->left = r->chunk_size;
        r->chunk_size = 0;
        r->state = HR_CHUNK_DATA;
        return 0;
    }
    if (r->saw_cr) {
        return -EBADMSG; /* a CR not followed by LF */
    }
    if (c == '\r') {
        r->saw_cr = true;
        return 0;
    }
    if (r->chunk_ext) {
        if ((c < 0x20 && c != '\t') || c == 0x7f) {
            return -EBADMSG;
        }
        return 0;
    }
    int h = http_hex(c);
    if (h >= 0) {
        if (r->chunk_size > (UINT64_MAX >> 4)) {
            return -E2BIG;
        }
        r->chunk_size = (r->chunk_size << 4) | (uint64_t)h;
        r->chunk_digits = true;
        return 0;
    }
    if (r->chunk_digits && (c == ';' || c == ' ' || c == '\t')) {
        r->chunk_ext = true;
        return 0;
    }
    return -EBADMSG;
}

/* One byte of the line end after chunk data: CRLF (or a lone LF). */
static int http_response_chunk_crlf_byte(struct http_response *r, unsigned char c)
{
    if (c == '\r' && !r->saw_cr) {
        r->saw_cr = true;
        return 0;
    }
    if (c == '\n') {
        r->saw_cr = false;
        r->state = HR_CHUNK_SIZE;
        return 0;
    }
    return -EBADMSG;
}

/* One byte of the trailers: lines, not kept, up to a blank line. */
static int http_response_trailer_byte(struct http_response *r, unsigned char c)
{
    if (++r->trailer_len > HTTP_RESPONSE_MAX_HEAD) {
        return -EMSGSIZE;
    }
    if (c == '\n') {
        if (r->line_len == 0) {
            r->state = HR_DONE;
        }
        r->line_len = 0;
        r->saw_cr = false;
        return 0;
    }
    if (r->saw_cr || c == '\0') {
        return -EBADMSG;
    }
    if (c == '\r') {
        r->saw_cr = true;
        return 0;
    }
    r->line_len++;
    return 0;
}

struct http_response *http_response_new(size_t max_body)
{
    struct http_response *r = xcalloc(1, sizeof(*r));

    r->max_body = max_body;
    http_response_clear(r);
    return r;
}

void http_response_free(struct http_response *r)
{
    if (r == NULL) {
        return;
    }
    free(r->body);
    free(r);
}

void http_response_reset(struct http_response *r, bool head_request)
{
    http_response_clear(r);
    r->head_request = head_request;
}

int http_response_feed(struct http_response *r, const void *buf, size_t len, size_t *used)
{
    const unsigned char *p = buf;
    size_t i = 0;
    int rc = 0;

    while (i < len && r->state != HR_DONE && r->state != HR_ERROR) {
        switch (r->state) {
        case HR_HEAD:
            rc = http_response_head_byte(r, p[i++]);
            if (rc == 1) {
                rc = http_response_parse_head(r);
                if (rc == 0 && r->status >= 100 && r->status < 200 && r->status != 101) {
                    /* An interim response: the real one follows. */
                    bool head_request = r->head_request;
                    http_response_reset(r, head_request);
                }
            }
            break;
        case HR_LENGTH:
        case HR_CHUNK_DATA: {
            size_t n = len - i;
            if ((uint64_t)n > r->left) {
                n = (size_t)r->left;
            }
            rc = http_response_append(r, p + i, n);
            i += n;
            r->left -= n;
            if (rc == 0 && r->left == 0) {
                r->state = r->state == HR_LENGTH ? HR_DONE : HR_CHUNK_CRLF;
            }
            break;
        }
        case HR_CHUNK_SIZE:
            rc = http_response_chunk_size_byte(r, p[i++]);
            break;
        case HR_CHUNK_CRLF:
            rc = http_response_chunk_crlf_byte(r, p[i++]);
            break;
        case HR_TRAILER:
            rc = http_response_trailer_byte(r, p[i++]);
            break;
        case HR_UNTIL_CLOSE:
            rc = http_response_append(r, p + i, len - i);
            i = len;
            break;
        case HR_DONE:
        case HR_ERROR:
            break;
        }
        if (rc < 0) {
            http_response_fail(r, rc);
        }
    }
    if (used != NULL) {
        *used = i;
    }
    if (r->state == HR_ERROR) {
        return r->err;
    }
    return r->state == HR_DONE ? 1 : 0;
}

int http_response_eof(struct http_response *r)
{
    if (r->state == HR_UNTIL_CLOSE) {
        r->state = HR_DONE;
    } else if (r->state != HR_DONE && r->state != HR_ERROR) {
        http_response_fail(r, -EPIPE);
    }
    return r->state == HR_ERROR ? r->err : 1;
}

bool http_response_head_done(const struct http_response *r)
{
    return r->head_ok;
}

int http_response_status(const struct http_response *r)
{
    return r->head_ok ? r->status : 0;
}

const char *http_response_header(const struct http_response *r, const char *name)
{
    if (!r->head_ok) {
        return NULL;
    }
    for (size_t i = 0; i < r->nfields; i++) {
        if (strcasecmp(r->head + r->fields[i].name, name) == 0) {
            return r->head + r->fields[i].value;
        }
    }
    return NULL;
}

size_t http_response_header_count(const struct http_response *r)
{
    return r->head_ok ? r->nfields : 0;
}

void http_response_header_at(const struct http_response *r, size_t i, const char **name,
                             const char **value)
{
    *name = r->head + r->fields[i].name;
    *value = r->head + r->fields[i].value;
}

bool http_response_content_length(const struct http_response *r, uint64_t *out)
{
    if (!r->head_ok || !r->has_length) {
        return false;
    }
    *out = r->content_length;
    return true;
}

bool http_response_chunked(const struct http_response *r)
{
    return r->chunked;
}

bool http_response_keep_alive(const struct http_response *r)
{
    return r->state == HR_DONE && !r->conn_close;
}

const char *http_response_body(const struct http_response *r, size_t *len)
{
    if (len != NULL) {
        *len = r->body_len;
    }
    return r->body != NULL ? r->body : "";
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar. */
static int64_t http_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static int http_month(const char *s)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";

    for (int i = 0; i < 12; i++) {
        if (strncmp(s, months + i * 3, 3) == 0) {
            return i + 1;
        }
    }
    return 0;
}

/* n decimal digits at s into *out; returns the end or NULL. */
static const char *http_digits(const char *s, int n, int *out)
{
    int v = 0;

    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return NULL;
        }
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return s + n;
}

/* "08:49:37" */
static const char *http_clock(const char *s, int *h, int *mi, int *sec)
{
    s = http_digits(s, 2, h);
    if (s == NULL || *s++ != ':' || (s = http_digits(s, 2, mi)) == NULL || *s++ != ':' ||
        (s = http_digits(s, 2, sec)) == NULL) {
        return NULL;
    }
    return s;
}

/* The three HTTP-date forms (RFC 9110 §5.6.7) into seconds since the epoch. */
static int http_parse_date(const char *s, int64_t *out)
{
    static const char *const wdays[] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                        "Friday", "Saturday", "Sunday"};
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
    const char *p = NULL;
    const char *comma = strchr(s, ',');

    if (comma != NULL && comma - s == 3) {
        /* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" */
        p = comma + 1;
        if (*p++ != ' ' || (p = http_digits(p, 2, &d)) == NULL || *p++ != ' ' ||
            (mo = http_month(p)) == 0) {
            return -EINVAL;
        }
        p += 3;
        if (*p++ != ' ' || (p = http_digits(p, 4, &y)) == NULL || *p++ != ' ' ||
            (p = http_clock(p, &h, &mi, &sec)) == NULL || strcmp(p, " GMT") != 0) {
            return -EINVAL;
        }
    } else if (comma != NULL) {
        /* RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT"; a two-digit year is in 1970..2069. */
        bool known = false;
        for (size_t i = 0; i < sizeof(wdays) / sizeof(wdays[0]); i++) {
            size_t wl = strlen(wdays[i]);
            known = known || ((size_t)(comma - s) == wl && strncmp(s, wdays[i], wl) == 0);
        }
        p = comma + 1;
        if (!known || *p++ != ' ' || (p = http_digits(p, 2, &d)) == NULL || *p++ != '-' ||
            (mo = http_month(p)) == 0) {
            return -EINVAL;
        }
        p += 3;
        if (*p++ != '-' || (p = http_digits(p, 2, &y)) == NULL || *p++ != ' ' ||
            (p = http_clock(p, &h, &mi, &sec)) == NULL || strcmp(p, " GMT") != 0) {
            return -EINVAL;
        }
        y += y < 70 ? 2000 : 1900;
    } else {
        /* asctime: "Sun Nov  6 08:49:37 1994" */
        if (strlen(s) != 24 || s[3] != ' ' || (mo = http_month(s + 4)) == 0 || s[7] != ' ') {
            return -EINVAL;
        }
        p = s + 8;
        if (*p == ' ') {
            p = http_digits(p + 1, 1, &d);
        } else {
            p = http_digits(p, 2, &d);
        }
        if (p == NULL || *p++ != ' ' || (p = http_clock(p, &h, &mi, &sec)) == NULL || *p++ != ' ' ||
            (p = http_digits(p, 4, &y)) == NULL || *p != '\0') {
            return -EINVAL;
        }
    }
    if (d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) {
        return -EINVAL;
    }
    *out = http_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + sec;
    return 0;
}

int http_retry_after_parse(const char *value, int64_t now_s, uint64_t *delay_s)
{
    const char *s = value;
    uint64_t v = 0;

    while (*s == ' ' || *s == '\t') {
        s++;
    }
    if (*s >= '0' && *s <= '9') {
        for (; *s >= '0' && *s <= '9'; s++) {
            if (v < UINT32_MAX) {
                v = v * 10 + (uint64_t)(*s - '0');
            }
        }
        while (*s == ' ' || *s == '\t') {
            s++;
        }
        if (*s != '\0') {
            return -EINVAL;
        }
        *delay_s = v > UINT32_MAX ? UINT32_MAX : v;
        return 0;
    }

    int64_t when;
    if (http_parse_date(s, &when) != 0) {
        return -EINVAL;
    }
    if (when <= now_s) {
        *delay_s = 0;
    } else {
        uint64_t dv = (uint64_t)(when - now_s);
        *delay_s = dv > UINT32_MAX ? UINT32_MAX : dv;
    }
    return 0;
}

int http_response_retry_after(const struct http_response *r, int64_t now_s, uint64_t *delay_s)
{
    const char *v = http_response_header(r, "Retry-After");

    if (v == NULL) {
        return -ENOENT;
    }
    return http_retry_after_parse(v, now_s, delay_s);
}
