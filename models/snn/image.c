/* SPDX-License-Identifier: MIT */
/* snn: the image file. Every field is written little-endian at a fixed width, one after the
 * other (no struct is written as memory, so the file does not depend on padding), and the
 * file ends in the FNV-1a 64-bit hash of everything before it. The reader trusts nothing: it
 * checks each count against the bytes left before allocating, each index against its layer,
 * and the hash. Layout, in order:
 *   header:  magic[8] version:u32 n_layers:u32 n_proj:u32 n_routes:u32 dt_us:f64 seed:u64
 *            model[32] target[16]
 *   layer:   name[32] kind:u32 n:u32 rate_hz tau_ms v_th v_reset t_ref_ms v_inf drive_hz
 *            drive_w (f64 each) n_cores:u32, then n_cores x (first:u32 core_id:u32)
 *   proj:    src:u32 dst:u32 plastic_below:u32 format[16] bits:u32 scale:f64 n_syn:u32,
 *            then n_syn x (src:u32 dst:u32 w:f32 delay:u16)
 *   route:   n_routes x (from:u32 to:u32 hops:u32)
 *   hash:    u64 */
#include "image.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IMAGE_FNV_OFFSET 0xcbf29ce484222325ULL
#define IMAGE_FNV_PRIME 0x100000001b3ULL
#define IMAGE_MAX_BYTES (1ULL << 32) /* a bound on what the reader loads */

/* The writer: a FILE and the running hash of what went into it. */
struct image_out {
    FILE *f;
    uint64_t hash;
    uint64_t bytes;
};

/* The reader: the whole file in memory and a cursor; a short read sets bad. */
struct image_in {
    const unsigned char *p;
    size_t len;
    size_t at;
    bool bad;
};

static uint64_t image_fnv(uint64_t h, const unsigned char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h = (h ^ b[i]) * IMAGE_FNV_PRIME;
    }
    return h;
}

static void image_put(struct image_out *o, const void *b, size_t n)
{
    fwrite(b, 1, n, o->f);
    o->hash = image_fnv(o->hash, b, n);
    o->bytes += n;
}

static void image_put_uint(struct image_out *o, uint64_t v, unsigned width)
{
    unsigned char b[8];

    for (unsigned i = 0; i < width; i++) {
        b[i] = (unsigned char)(v >> (8 * i));
    }
    image_put(o, b, width);
}

static void image_put_u32(struct image_out *o, uint32_t v)
{
    image_put_uint(o, v, 4);
}

static void image_put_f64(struct image_out *o, double v)
{
    uint64_t u;

    memcpy(&u, &v, sizeof(u));
    image_put_uint(o, u, 8);
}

static void image_put_f32(struct image_out *o, float v)
{
    uint32_t u;

    memcpy(&u, &v, sizeof(u));
    image_put_uint(o, u, 4);
}

/* A fixed-width name: the string, NUL-padded (and truncated to width - 1). */
static void image_put_name(struct image_out *o, const char *s, size_t width)
{
    char b[IMAGE_NAME_BYTES] = {0};

    snprintf(b, width, "%s", s);
    image_put(o, b, width);
}

int image_write(const char *path, const struct image *img, uint64_t *bytes)
{
    struct image_out o = {.hash = IMAGE_FNV_OFFSET};
    char tmp[4096];
    int rc = 0;

    if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
        return -ENAMETOOLONG;
    }
    o.f = fopen(tmp, "wb");
    if (o.f == NULL) {
        return -errno;
    }
    image_put(&o, IMAGE_MAGIC, 8);
    image_put_u32(&o, IMAGE_VERSION);
    image_put_u32(&o, img->n_layers);
    image_put_u32(&o, img->n_proj);
    image_put_u32(&o, img->n_routes);
    image_put_f64(&o, img->dt_us);
    image_put_uint(&o, img->seed, 8);
    image_put_name(&o, img->model, IMAGE_NAME_BYTES);
    image_put_name(&o, img->target, IMAGE_TARGET_BYTES);
    for (uint32_t l = 0; l < img->n_layers; l++) {
        const struct image_layer *L = &img->layers[l];
        const double params[] = {L->rate_hz,  L->tau_ms, L->v_th,     L->v_reset,
                                 L->t_ref_ms, L->v_inf,  L->drive_hz, L->drive_w};

        image_put_name(&o, L->name, IMAGE_NAME_BYTES);
        image_put_u32(&o, L->kind);
        image_put_u32(&o, L->n);
        for (size_t i = 0; i < sizeof(params) / sizeof(params[0]); i++) {
            image_put_f64(&o, params[i]);
        }
        image_put_u32(&o, L->n_cores);
        for (uint32_t c = 0; c < L->n_cores; c++) {
            image_put_u32(&o, L->core_first[c]);
            image_put_u32(&o, L->core_id[c]);
        }
    }
    for (uint32_t k = 0; k < img->n_proj; k++) {
        const struct image_proj *p = &img->proj[k];

        image_put_u32(&o, p->src);
        image_put_u32(&o, p->dst);
        image_put_u32(&o, p->plastic_below);
        image_put_name(&o, p->format, IMAGE_FORMAT_BYTES);
        image_put_u32(&o, p->bits);
        image_put_f64(&o, p->scale);
        image_put_u32(&o, p->n_syn);
        for (uint32_t s = 0; s < p->n_syn; s++) {
            image_put_u32(&o, p->syn[s].src);
            image_put_u32(&o, p->syn[s].dst);
            image_put_f32(&o, p->syn[s].w);
            image_put_uint(&o, p->syn[s].delay, 2);
        }
    }
    for (uint32_t r = 0; r < img->n_routes; r++) {
        image_put_u32(&o, img->routes[r].from);
        image_put_u32(&o, img->routes[r].to);
        image_put_u32(&o, img->routes[r].hops);
    }
    image_put_uint(&o, o.hash, 8);
    if (ferror(o.f) != 0) {
        rc = -EIO;
    }
    if (fclose(o.f) != 0 && rc == 0) {
        rc = -errno;
    }
    if (rc == 0 && rename(tmp, path) != 0) {
        rc = -errno;
    }
    if (rc != 0) {
        remove(tmp);
    } else if (bytes != NULL) {
        *bytes = o.bytes;
    }
    return rc;
}

/* --- reading ------------------------------------------------------------------------------- */

static uint64_t image_get_uint(struct image_in *in, unsigned width)
{
    uint64_t v = 0;

    if (in->bad || in->len - in->at < width) {
        in->bad = true;
        return 0;
    }
    for (unsigned i = 0; i < width; i++) {
        v |= (uint64_t)in->p[in->at + i] << (8 * i);
    }
    in->at += width;
    return v;
}

static uint32_t image_get_u32(struct image_in *in)
{
    return (uint32_t)image_get_uint(in, 4);
}

static double image_get_f64(struct image_in *in)
{
    uint64_t u = image_get_uint(in, 8);
    double v;

    memcpy(&v, &u, sizeof(v));
    return v;
}

static float image_get_f32(struct image_in *in)
{
    uint32_t u = (uint32_t)image_get_uint(in, 4);
    float v;

    memcpy(&v, &u, sizeof(v));
    return v;
}

/* A fixed-width name: it must end in a NUL within its width. */
static bool image_get_name(struct image_in *in, char *out, size_t width)
{
    if (in->bad || in->len - in->at < width || memchr(in->p + in->at, '\0', width) == NULL) {
        in->bad = true;
        return false;
    }
    memcpy(out, in->p + in->at, width);
    in->at += width;
    return true;
}

/* Is there room for n records of size bytes before the hash? (before allocating them) */
static bool image_room(const struct image_in *in, uint64_t n, size_t size)
{
    return !in->bad && in->len - in->at >= 8 && n <= (in->len - in->at - 8) / size;
}

static void *image_calloc(size_t n, size_t size)
{
    return calloc(n > 0 ? n : 1, size);
}

static bool image_fail(char *why, size_t why_len, const char *what)
{
    snprintf(why, why_len, "%s", what);
    return false;
}

static bool image_read_layer(struct image_in *in, struct image_layer *L, char *why, size_t why_len)
{
    double *params[] = {&L->rate_hz,  &L->tau_ms, &L->v_th,     &L->v_reset,
                        &L->t_ref_ms, &L->v_inf,  &L->drive_hz, &L->drive_w};

    image_get_name(in, L->name, IMAGE_NAME_BYTES);
    L->kind = image_get_u32(in);
    L->n = image_get_u32(in);
    for (size_t i = 0; i < sizeof(params) / sizeof(params[0]); i++) {
        *params[i] = image_get_f64(in);
        if (!isfinite(*params[i])) {
            return image_fail(why, why_len, "a layer parameter is not a finite number");
        }
    }
    L->n_cores = image_get_u32(in);
    if (in->bad) {
        return image_fail(why, why_len, "truncated in a layer");
    }
    if ((L->kind != IMAGE_INPUT && L->kind != IMAGE_LIF) || L->n == 0 || L->n > IMAGE_MAX_NEURONS ||
        L->n_cores == 0 || L->n_cores > L->n || !image_room(in, L->n_cores, 8)) {
        return image_fail(why, why_len, "a layer's kind, size or core count is out of range");
    }
    L->core_first = image_calloc((size_t)L->n_cores + 1, sizeof(*L->core_first));
    L->core_id = image_calloc(L->n_cores, sizeof(*L->core_id));
    if (L->core_first == NULL || L->core_id == NULL) {
        return image_fail(why, why_len, "out of memory");
    }
    for (uint32_t c = 0; c < L->n_cores; c++) {
        L->core_first[c] = image_get_u32(in);
        L->core_id[c] = image_get_u32(in);
        /* contiguous, non-empty, ascending ranges from 0 */
        if ((c == 0 && L->core_first[c] != 0) ||
            (c > 0 && L->core_first[c] <= L->core_first[c - 1]) || L->core_first[c] >= L->n) {
            return image_fail(why, why_len, "a layer's core ranges are not ascending from 0");
        }
    }
    L->core_first[L->n_cores] = L->n;
    return true;
}

static bool image_read_proj(struct image_in *in, const struct image *img, struct image_proj *p,
                            char *why, size_t why_len)
{
    p->src = image_get_u32(in);
    p->dst = image_get_u32(in);
    p->plastic_below = image_get_u32(in);
    image_get_name(in, p->format, IMAGE_FORMAT_BYTES);
    p->bits = image_get_u32(in);
    p->scale = image_get_f64(in);
    p->n_syn = image_get_u32(in);
    if (in->bad) {
        return image_fail(why, why_len, "truncated in a projection");
    }
    if (p->src >= img->n_layers || p->dst >= img->n_layers ||
        img->layers[p->dst].kind != IMAGE_LIF || !image_room(in, p->n_syn, 14)) {
        return image_fail(why, why_len, "a projection's layers or synapse count are out of range");
    }
    p->syn = image_calloc(p->n_syn, sizeof(*p->syn));
    if (p->syn == NULL) {
        return image_fail(why, why_len, "out of memory");
    }
    for (uint32_t s = 0; s < p->n_syn; s++) {
        struct image_syn *y = &p->syn[s];

        y->src = image_get_u32(in);
        y->dst = image_get_u32(in);
        y->w = image_get_f32(in);
        y->delay = (uint16_t)image_get_uint(in, 2);
        if (y->src >= img->layers[p->src].n || y->dst >= img->layers[p->dst].n || y->delay == 0 ||
            y->delay > IMAGE_MAX_DELAY || !isfinite(y->w)) {
            return image_fail(why, why_len, "a synapse's neuron, delay or weight is out of range");
        }
    }
    return true;
}

static bool image_parse(struct image_in *in, struct image *img, char *why, size_t why_len)
{
    char magic[8];
    uint64_t hash;

    if (in->len < sizeof(magic) + 8) {
        return image_fail(why, why_len, "too short to be an image");
    }
    memcpy(magic, in->p, sizeof(magic));
    in->at = sizeof(magic);
    if (memcmp(magic, IMAGE_MAGIC, sizeof(magic)) != 0) {
        return image_fail(why, why_len, "not an snn image (bad magic)");
    }
    hash = image_fnv(IMAGE_FNV_OFFSET, in->p, in->len - 8);
    memcpy(magic, in->p + in->len - 8, 8); /* reuse: the stored hash's bytes */
    {
        uint64_t stored = 0;

        for (unsigned i = 0; i < 8; i++) {
            stored |= (uint64_t)(unsigned char)magic[i] << (8 * i);
        }
        if (stored != hash) {
            return image_fail(why, why_len, "checksum mismatch (a damaged or truncated image)");
        }
    }
    if (image_get_u32(in) != IMAGE_VERSION) {
        return image_fail(why, why_len, "unsupported image version");
    }
    img->n_layers = image_get_u32(in);
    img->n_proj = image_get_u32(in);
    img->n_routes = image_get_u32(in);
    img->dt_us = image_get_f64(in);
    img->seed = image_get_uint(in, 8);
    image_get_name(in, img->model, IMAGE_NAME_BYTES);
    image_get_name(in, img->target, IMAGE_TARGET_BYTES);
    if (in->bad || img->n_layers == 0 || img->n_layers > IMAGE_MAX_LAYERS ||
        img->n_proj > img->n_layers || !(img->dt_us > 0.0 && img->dt_us <= 100000.0)) {
        return image_fail(why, why_len, "the header's counts or timestep are out of range");
    }
    for (uint32_t l = 0; l < img->n_layers; l++) {
        if (!image_read_layer(in, &img->layers[l], why, why_len)) {
            return false;
        }
    }
    img->proj = image_calloc(img->n_proj, sizeof(*img->proj));
    if (img->proj == NULL) {
        return image_fail(why, why_len, "out of memory");
    }
    for (uint32_t k = 0; k < img->n_proj; k++) {
        if (!image_read_proj(in, img, &img->proj[k], why, why_len)) {
            return false;
        }
    }
    if (!image_room(in, img->n_routes, 12)) {
        return image_fail(why, why_len, "the routing table's size is out of range");
    }
    img->routes = image_calloc(img->n_routes, sizeof(*img->routes));
    if (img->routes == NULL) {
        return image_fail(why, why_len, "out of memory");
    }
    for (uint32_t r = 0; r < img->n_routes; r++) {
        img->routes[r].from = image_get_u32(in);
        img->routes[r].to = image_get_u32(in);
        img->routes[r].hops = image_get_u32(in);
    }
    if (in->bad || in->at + 8 != in->len) {
        return image_fail(why, why_len, "trailing or missing bytes before the checksum");
    }
    return true;
}

struct image *image_read(const char *path, char *why, size_t why_len)
{
    struct image_in in = {0};
    struct image *img = NULL;
    unsigned char *buf = NULL;
    FILE *f = NULL;
    long size;

    f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(why, why_len, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0 ||
        (uint64_t)size > IMAGE_MAX_BYTES) {
        snprintf(why, why_len, "%s: not a regular file of at most 4 GiB", path);
        goto err;
    }
    buf = malloc(size > 0 ? (size_t)size : 1);
    img = calloc(1, sizeof(*img));
    if (buf == NULL || img == NULL) {
        snprintf(why, why_len, "out of memory reading %s", path);
        goto err;
    }
    if (fread(buf, 1, (size_t)size, f) != (size_t)size) {
        snprintf(why, why_len, "cannot read %s", path);
        goto err;
    }
    in.p = buf;
    in.len = (size_t)size;
    if (!image_parse(&in, img, why, why_len)) {
        goto err;
    }
    fclose(f);
    free(buf);
    return img;

err:
    fclose(f);
    free(buf);
    image_free(img);
    return NULL;
}

void image_free(struct image *img)
{
    if (img == NULL) {
        return;
    }
    for (uint32_t l = 0; l < img->n_layers && l < IMAGE_MAX_LAYERS; l++) {
        free(img->layers[l].core_first);
        free(img->layers[l].core_id);
    }
    if (img->proj != NULL) {
        for (uint32_t k = 0; k < img->n_proj; k++) {
            free(img->proj[k].syn);
        }
    }
    free(img->proj);
    free(img->routes);
    free(img);
}
