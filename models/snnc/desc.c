/* SPDX-License-Identifier: MIT */
/* snnc: the description parser. A line is a statement of whitespace-separated words, '#'
 * starts a comment; parameters are key=value words in any order. Every error names the file,
 * the line and the column of the word at fault, and what was expected. Validation is here
 * too, at the statement that is wrong: names, ranges, one projection into and out of each
 * layer (the runtime's rule), fan-ins a layer can give, delays the timestep can express. */
#include "desc.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DESC_LINE_BYTES 4096
#define DESC_MAX_WORDS 32

struct desc_word {
    char *s;
    int col; /* 1-based */
};

/* What the parser knows while reading. */
struct desc_ctx {
    const char *path;
    struct desc *d;
    char *why;
    size_t why_len;
    int line;
    bool seen_dt;
};

static int desc_err(struct desc_ctx *c, int col, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int desc_err(struct desc_ctx *c, int col, const char *fmt, ...)
{
    va_list ap;
    int n = snprintf(c->why, c->why_len, "%s:%d:%d: ", c->path, c->line, col);

    if (n >= 0 && (size_t)n < c->why_len) {
        va_start(ap, fmt);
        vsnprintf(c->why + n, c->why_len - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return -EINVAL;
}

/* Split line into words in place (a '#' ends the line). Returns the count, or -1 when there
 * are more than max. */
static int desc_split(char *line, struct desc_word *w, int max)
{
    int n = 0;
    char *p = line;

    while (*p != '\0') {
        while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') {
            p++;
        }
        if (*p == '\0' || *p == '#') {
            break;
        }
        if (n == max) {
            return -1;
        }
        w[n].s = p;
        w[n].col = (int)(p - line) + 1;
        n++;
        while (*p != '\0' && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n' && *p != '#') {
            p++;
        }
        if (*p == '#') {
            *p = '\0';
            break;
        }
        if (*p != '\0') {
            *p++ = '\0';
        }
    }
    return n;
}

static bool desc_name_ok(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n >= DESC_NAME_BYTES) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];

        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '-' || ch == '.')) {
            return false;
        }
    }
    return true;
}

/* A number in [min, max] from s at col, or an error naming what. */
static int desc_num(struct desc_ctx *c, const char *s, int col, const char *what, double min,
                    double max, double *out)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !isfinite(v)) {
        return desc_err(c, col, "%s: expected a number, got '%s'", what, s);
    }
    if (!(v >= min && v <= max)) {
        return desc_err(c, col, "%s: %g is out of range %g..%g", what, v, min, max);
    }
    *out = v;
    return 0;
}

static int desc_uint(struct desc_ctx *c, const char *s, int col, const char *what, uint64_t min,
                     uint64_t max, uint64_t *out)
{
    char *end;
    unsigned long long v;

    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || s[0] < '0' || s[0] > '9') {
        return desc_err(c, col, "%s: expected a whole number, got '%s'", what, s);
    }
    if (v < min || v > max) {
        return desc_err(c, col, "%s: %llu is out of range %llu..%llu", what, v,
                        (unsigned long long)min, (unsigned long long)max);
    }
    *out = v;
    return 0;
}

static int desc_find(const struct desc *d, const char *name)
{
    for (int l = 0; l < d->n_layers; l++) {
        if (strcmp(d->layers[l].name, name) == 0) {
            return l;
        }
    }
    return -1;
}

/* key=value: split the word; the value's column is returned in *vcol. */
static bool desc_kv(struct desc_word *w, char **key, char **val, int *vcol)
{
    char *eq = strchr(w->s, '=');

    if (eq == NULL) {
        *key = w->s;
        *val = NULL;
        *vcol = w->col;
        return false;
    }
    *eq = '\0';
    *key = w->s;
    *val = eq + 1;
    *vcol = w->col + (int)(eq - w->s) + 1;
    return true;
}

/* A parameter given twice: the bit of key in *seen, by its index in keys. */
static int desc_key_index(const char *const *keys, const char *key)
{
    for (int i = 0; keys[i] != NULL; i++) {
        if (strcmp(keys[i], key) == 0) {
            return i;
        }
    }
    return -1;
}

static const char *const desc_input_keys[] = {"n", "rate_hz", "exc", "expect_hz", NULL};
static const char *const desc_lif_keys[] = {"n",        "tau_ms",    "v_th", "v_reset",
                                            "t_ref_ms", "v_inf",     "exc",  "drive_hz",
                                            "drive_w",  "expect_hz", NULL};

static int desc_layer(struct desc_ctx *c, struct desc_word *w, int n)
{
    struct desc *d = c->d;
    struct desc_layer *L;
    const char *const *keys;
    unsigned seen = 0;
    int rc;

    if (n < 3) {
        return desc_err(c, n > 1 ? w[1].col : w[0].col,
                        "expected 'layer NAME input|lif n=N [key=value ...]'");
    }
    if (!desc_name_ok(w[1].s)) {
        return desc_err(c, w[1].col, "layer name '%s': 1..31 of letters, digits, '_', '-' and '.'",
                        w[1].s);
    }
    if (desc_find(d, w[1].s) >= 0) {
        return desc_err(c, w[1].col, "layer '%s' is declared twice (line %d)", w[1].s,
                        d->layers[desc_find(d, w[1].s)].line);
    }
    if (d->n_layers == DESC_MAX_LAYERS) {
        return desc_err(c, w[0].col, "more than %d layers (the runtime's limit)", DESC_MAX_LAYERS);
    }
    L = &d->layers[d->n_layers];
    memset(L, 0, sizeof(*L));
    snprintf(L->name, sizeof(L->name), "%s", w[1].s);
    L->line = c->line;
    if (strcmp(w[2].s, "input") == 0) {
        L->kind = DESC_INPUT;
        keys = desc_input_keys;
    } else if (strcmp(w[2].s, "lif") == 0) {
        L->kind = DESC_LIF;
        keys = desc_lif_keys;
    } else {
        return desc_err(c, w[2].col, "layer kind '%s': expected input or lif", w[2].s);
    }
    L->tau_ms = 20.0;
    L->v_th = 20.0;
    L->v_reset = 10.0;
    L->t_ref_ms = 2.0;
    L->exc = 1.0;
    L->expect_hz = -1.0;
    for (int i = 3; i < n; i++) {
        char *key, *val;
        int vcol, k;
        uint64_t u;

        if (!desc_kv(&w[i], &key, &val, &vcol)) {
            return desc_err(c, w[i].col, "expected key=value, got '%s'", w[i].s);
        }
        k = desc_key_index(keys, key);
        if (k < 0) {
            return desc_err(c, w[i].col, "unknown parameter '%s' of an %s layer", key,
                            L->kind == DESC_INPUT ? "input" : "lif");
        }
        if ((seen & (1U << k)) != 0) {
            return desc_err(c, w[i].col, "parameter '%s' given twice", key);
        }
        seen |= 1U << k;
        if (strcmp(key, "n") == 0) {
            rc = desc_uint(c, val, vcol, "n", 1, 1000000, &u);
            L->n = (uint32_t)u;
        } else if (strcmp(key, "rate_hz") == 0) {
            rc = desc_num(c, val, vcol, "rate_hz", 0.0, 10000.0, &L->rate_hz);
        } else if (strcmp(key, "exc") == 0) {
            rc = desc_num(c, val, vcol, "exc", 0.0, 1.0, &L->exc);
        } else if (strcmp(key, "expect_hz") == 0) {
            rc = desc_num(c, val, vcol, "expect_hz", 0.0, 10000.0, &L->expect_hz);
        } else if (strcmp(key, "tau_ms") == 0) {
            rc = desc_num(c, val, vcol, "tau_ms", 0.001, 100000.0, &L->tau_ms);
        } else if (strcmp(key, "v_th") == 0) {
            rc = desc_num(c, val, vcol, "v_th", -1000.0, 1000.0, &L->v_th);
        } else if (strcmp(key, "v_reset") == 0) {
            rc = desc_num(c, val, vcol, "v_reset", -1000.0, 1000.0, &L->v_reset);
        } else if (strcmp(key, "t_ref_ms") == 0) {
            rc = desc_num(c, val, vcol, "t_ref_ms", 0.0, 1000.0, &L->t_ref_ms);
        } else if (strcmp(key, "v_inf") == 0) {
            rc = desc_num(c, val, vcol, "v_inf", -1000.0, 1000.0, &L->v_inf);
        } else if (strcmp(key, "drive_hz") == 0) {
            rc = desc_num(c, val, vcol, "drive_hz", 0.0, 1e6, &L->drive_hz);
        } else {
            rc = desc_num(c, val, vcol, "drive_w", -1000.0, 1000.0, &L->drive_w);
        }
        if (rc != 0) {
            return rc;
        }
    }
    if ((seen & 1U) == 0) {
        return desc_err(c, w[1].col, "layer '%s' has no size (n=N)", L->name);
    }
    if (L->kind == DESC_INPUT && (seen & 2U) == 0) {
        return desc_err(c, w[1].col, "input layer '%s' has no rate (rate_hz=X)", L->name);
    }
    if (L->kind == DESC_LIF && !(L->v_th > L->v_reset)) {
        return desc_err(c, w[1].col, "layer '%s': v_th %g must be above v_reset %g", L->name,
                        L->v_th, L->v_reset);
    }
    if (L->kind == DESC_LIF && lround(L->t_ref_ms / (d->dt_us * 1e-3)) > 65535) {
        return desc_err(c, w[1].col, "layer '%s': t_ref_ms is more than 65535 timesteps", L->name);
    }
    if (L->expect_hz < 0.0) {
        L->expect_hz = L->kind == DESC_INPUT ? L->rate_hz : 10.0;
    }
    L->n_exc = (uint32_t)lround(L->exc * L->n);
    d->n_layers++;
    return 0;
}

/* delay_ms=D (constant, no draw) or A..B (a uniform draw of whole timesteps per synapse) */
static int desc_delay(struct desc_ctx *c, struct desc_proj *p, const char *val, int vcol)
{
    char buf[64];
    const char *dots = strstr(val, "..");
    double steps_min, steps_max;
    int rc;

    if (dots != NULL) {
        size_t n = (size_t)(dots - val);

        if (n >= sizeof(buf)) {
            return desc_err(c, vcol, "delay_ms: expected D or A..B");
        }
        memcpy(buf, val, n);
        buf[n] = '\0';
        rc = desc_num(c, buf, vcol, "delay_ms", 0.0, 1e6, &p->delay_min_ms);
        if (rc == 0) {
            rc = desc_num(c, dots + 2, vcol + (int)n + 2, "delay_ms", 0.0, 1e6, &p->delay_max_ms);
        }
        p->delay_drawn = 1;
    } else {
        rc = desc_num(c, val, vcol, "delay_ms", 0.0, 1e6, &p->delay_min_ms);
        p->delay_max_ms = p->delay_min_ms;
    }
    if (rc != 0) {
        return rc;
    }
    if (p->delay_max_ms < p->delay_min_ms) {
        return desc_err(c, vcol, "delay_ms: %g..%g is an empty range", p->delay_min_ms,
                        p->delay_max_ms);
    }
    steps_min = (double)lround(p->delay_min_ms / (c->d->dt_us * 1e-3));
    steps_max = (double)lround(p->delay_max_ms / (c->d->dt_us * 1e-3));
    if (steps_min < 1.0 || steps_max > 1000.0) {
        return desc_err(c, vcol,
                        "delay_ms: %s is %.0f..%.0f timesteps of %g us (1..1000 can be held)", val,
                        steps_min, steps_max, c->d->dt_us);
    }
    p->delay_min = (uint16_t)steps_min;
    p->delay_max = (uint16_t)steps_max;
    return 0;
}

static int desc_connect(struct desc_ctx *c, struct desc_word *w, int n)
{
    static const char *const keys[] = {"fan_in", "fan_in_e",   "fan_in_i", "p", "dense",
                                       "weight", "inh_weight", "delay_ms", NULL};
    struct desc *d = c->d;
    struct desc_proj *p;
    const struct desc_layer *S, *D;
    unsigned seen = 0;
    int modes = 0, mode_col = w[0].col, rc;
    uint32_t self;

    if (n < 4 || strcmp(w[2].s, "->") != 0) {
        return desc_err(c, n > 2 ? w[2].col : w[0].col,
                        "expected 'connect SRC -> DST key=value ...'");
    }
    p = &d->proj[d->n_proj];
    memset(p, 0, sizeof(*p));
    p->line = c->line;
    p->src = desc_find(d, w[1].s);
    p->dst = desc_find(d, w[3].s);
    if (p->src < 0) {
        return desc_err(c, w[1].col, "unknown layer '%s' (declare a layer before connecting it)",
                        w[1].s);
    }
    if (p->dst < 0) {
        return desc_err(c, w[3].col, "unknown layer '%s' (declare a layer before connecting it)",
                        w[3].s);
    }
    S = &d->layers[p->src];
    D = &d->layers[p->dst];
    if (D->kind == DESC_INPUT) {
        return desc_err(c, w[3].col, "input layer '%s' cannot receive a projection", D->name);
    }
    for (int k = 0; k < d->n_proj; k++) {
        if (d->proj[k].dst == p->dst) {
            return desc_err(c, w[3].col,
                            "layer '%s' already receives a projection (line %d); the runtime "
                            "takes one per layer",
                            D->name, d->proj[k].line);
        }
        if (d->proj[k].src == p->src) {
            return desc_err(c, w[1].col,
                            "layer '%s' already sends a projection (line %d); the runtime takes "
                            "one per layer",
                            S->name, d->proj[k].line);
        }
    }
    p->delay_min_ms = p->delay_max_ms = 1.0;
    p->delay_min = p->delay_max = (uint16_t)lround(1.0 / (d->dt_us * 1e-3));
    self = p->src == p->dst ? 1 : 0; /* no autapses: a neuron is not its own source */
    for (int i = 4; i < n; i++) {
        char *key, *val;
        int vcol, k;
        uint64_t u;

        desc_kv(&w[i], &key, &val, &vcol);
        k = desc_key_index(keys, key);
        if (k < 0) {
            return desc_err(c, w[i].col, "unknown parameter '%s' of a projection", key);
        }
        if ((seen & (1U << k)) != 0) {
            return desc_err(c, w[i].col, "parameter '%s' given twice", key);
        }
        seen |= 1U << k;
        if ((val == NULL) != (strcmp(key, "dense") == 0)) {
            return desc_err(c, w[i].col, "%s",
                            val == NULL ? "expected key=value" : "dense takes no value");
        }
        rc = 0;
        if (strcmp(key, "fan_in") == 0) {
            rc = desc_uint(c, val, vcol, "fan_in", 1, S->n - self, &u);
            p->fan_in = (uint32_t)u;
            p->conn = DESC_FAN_IN;
            modes++;
            mode_col = w[i].col;
        } else if (strcmp(key, "fan_in_e") == 0) {
            rc = desc_uint(c, val, vcol, "fan_in_e", 0, S->n_exc > self ? S->n_exc - self : 0, &u);
            p->fan_in_e = (uint32_t)u;
            p->conn = DESC_FAN_IN_EI;
            modes += (seen & (1U << 2)) != 0 ? 0 : 1;
            mode_col = w[i].col;
        } else if (strcmp(key, "fan_in_i") == 0) {
            uint32_t n_inh = S->n - S->n_exc;

            rc = desc_uint(c, val, vcol, "fan_in_i", 0, n_inh > self ? n_inh - self : 0, &u);
            p->fan_in_i = (uint32_t)u;
            p->conn = DESC_FAN_IN_EI;
            modes += (seen & (1U << 1)) != 0 ? 0 : 1;
            mode_col = w[i].col;
        } else if (strcmp(key, "p") == 0) {
            rc = desc_num(c, val, vcol, "p", 1e-9, 1.0, &p->p);
            p->conn = DESC_PROB;
            modes++;
            mode_col = w[i].col;
        } else if (strcmp(key, "dense") == 0) {
            p->conn = DESC_DENSE;
            modes++;
            mode_col = w[i].col;
        } else if (strcmp(key, "weight") == 0) {
            rc = desc_num(c, val, vcol, "weight", -1000.0, 1000.0, &p->w);
        } else if (strcmp(key, "inh_weight") == 0) {
            rc = desc_num(c, val, vcol, "inh_weight", -1000.0, 1000.0, &p->w_inh);
        } else {
            rc = desc_delay(c, p, val, vcol);
        }
        if (rc != 0) {
            return rc;
        }
    }
    if (modes != 1) {
        return desc_err(c, mode_col,
                        "%s connectivity: give one of fan_in=K, fan_in_e=KE fan_in_i=KI, p=P "
                        "or dense",
                        modes == 0 ? "no" : "more than one");
    }
    if ((seen & (1U << 5)) == 0) {
        return desc_err(c, w[0].col, "the projection has no weight=W");
    }
    if ((seen & (1U << 6)) == 0) {
        p->w_inh = p->w;
    }
    switch (p->conn) {
    case DESC_FAN_IN:
        p->synapses = (uint64_t)D->n * p->fan_in;
        break;
    case DESC_FAN_IN_EI:
        if (p->fan_in_e + p->fan_in_i == 0) {
            return desc_err(c, mode_col, "fan_in_e and fan_in_i are both 0");
        }
        p->synapses = (uint64_t)D->n * (p->fan_in_e + p->fan_in_i);
        break;
    case DESC_PROB:
        p->synapses = (uint64_t)llround(p->p * (double)D->n * (double)(S->n - self));
        break;
    case DESC_DENSE:
        p->synapses = (uint64_t)D->n * (S->n - self);
        break;
    }
    {
        uint64_t total = p->synapses;

        for (int k = 0; k < d->n_proj; k++) {
            total += d->proj[k].synapses;
        }
        if (total > DESC_MAX_SYNAPSES) {
            return desc_err(c, w[0].col, "the network would have %llu synapses (at most %llu)",
                            (unsigned long long)total, DESC_MAX_SYNAPSES);
        }
    }
    d->n_proj++;
    return 0;
}

static int desc_statement(struct desc_ctx *c, struct desc_word *w, int n)
{
    struct desc *d = c->d;
    uint64_t u;
    int rc;

    if (strcmp(w[0].s, "layer") == 0) {
        return desc_layer(c, w, n);
    }
    if (strcmp(w[0].s, "connect") == 0) {
        return desc_connect(c, w, n);
    }
    if (strcmp(w[0].s, "network") != 0 && strcmp(w[0].s, "dt_us") != 0 &&
        strcmp(w[0].s, "seed") != 0 && strcmp(w[0].s, "window_ms") != 0) {
        return desc_err(c, w[0].col,
                        "unknown statement '%s' (network, dt_us, seed, window_ms, layer, "
                        "connect)",
                        w[0].s);
    }
    if (n != 2) {
        return desc_err(c, n > 2 ? w[2].col : w[0].col, "'%s' takes one value", w[0].s);
    }
    if (strcmp(w[0].s, "network") == 0) {
        if (!desc_name_ok(w[1].s)) {
            return desc_err(c, w[1].col,
                            "network name '%s': 1..31 of letters, digits, '_', '-' and '.'",
                            w[1].s);
        }
        snprintf(d->model, sizeof(d->model), "%s", w[1].s);
        return 0;
    }
    if (strcmp(w[0].s, "dt_us") == 0) {
        if (d->n_layers > 0 || c->seen_dt) {
            return desc_err(c, w[0].col, "dt_us comes once, before the first layer");
        }
        c->seen_dt = true;
        return desc_num(c, w[1].s, w[1].col, "dt_us", 1.0, 100000.0, &d->dt_us);
    }
    if (strcmp(w[0].s, "seed") == 0) {
        rc = desc_uint(c, w[1].s, w[1].col, "seed", 0, UINT64_MAX, &u);
        d->seed = u;
        return rc;
    }
    return desc_num(c, w[1].s, w[1].col, "window_ms", 0.001, 1e6, &d->window_ms);
}

int desc_parse(const char *path, struct desc *d, char *why, size_t why_len)
{
    struct desc_ctx c = {.path = path, .d = d, .why = why, .why_len = why_len};
    struct desc_word w[DESC_MAX_WORDS];
    char line[DESC_LINE_BYTES];
    FILE *f = fopen(path, "r");
    int rc = 0;

    if (f == NULL) {
        snprintf(why, why_len, "%s: %s", path, strerror(errno));
        return -errno;
    }
    memset(d, 0, sizeof(*d));
    {
        /* the model's name defaults to the file's, without directory and extension */
        const char *base = strrchr(path, '/') != NULL ? strrchr(path, '/') + 1 : path;
        size_t n = strcspn(base, ".");

        snprintf(d->model, sizeof(d->model), "%.*s", (int)(n < 31 ? n : 31), base);
    }
    d->dt_us = 100.0;
    d->seed = 1;
    d->window_ms = 100.0;
    while (rc == 0 && fgets(line, sizeof(line), f) != NULL) {
        size_t len = strlen(line);
        int n;

        c.line++;
        if (len == sizeof(line) - 1 && line[len - 1] != '\n') {
            rc = desc_err(&c, 1, "line longer than %d bytes", DESC_LINE_BYTES - 2);
            break;
        }
        n = desc_split(line, w, DESC_MAX_WORDS);
        if (n < 0) {
            rc = desc_err(&c, 1, "more than %d words", DESC_MAX_WORDS);
        } else if (n > 0) {
            rc = desc_statement(&c, w, n);
        }
    }
    if (rc == 0 && ferror(f)) {
        snprintf(why, why_len, "%s: read error", path);
        rc = -EIO;
    }
    fclose(f);
    if (rc == 0 && d->n_layers == 0) {
        c.line = c.line > 0 ? c.line : 1;
        rc = desc_err(&c, 1, "no layers (a network needs 'layer NAME input|lif n=N ...')");
    }
    return rc;
}
