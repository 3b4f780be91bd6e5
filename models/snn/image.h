/* SPDX-License-Identifier: MIT */
/* snn: the compiled image a compiler (snnc) writes and the runtime loads with --image: the
 * layers with their parameters, the quantized synapses, the placement of every neuron on a
 * chip core and the routing tables. A little-endian binary file ending in a checksum. */
#ifndef NCTOP_SNN_IMAGE_H
#define NCTOP_SNN_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#define IMAGE_MAGIC "SNNIMG\r\n" /* 8 bytes: the \r\n catches a text-mode copy */
#define IMAGE_VERSION 1U
#define IMAGE_MAX_LAYERS 64   /* the runtime's layer limit */
#define IMAGE_NAME_BYTES 32   /* layer and model names, NUL-padded */
#define IMAGE_TARGET_BYTES 16 /* the target's name, NUL-padded */
#define IMAGE_FORMAT_BYTES 16 /* a projection's weight format, e.g. "int8e" */
#define IMAGE_MAX_NEURONS 1000000U
#define IMAGE_MAX_DELAY 1000U /* timesteps */

enum image_kind {
    IMAGE_INPUT = 1, /* Poisson generators at rate_hz */
    IMAGE_LIF = 2,   /* leaky integrate-and-fire neurons */
};

/* One layer and its placement: core c holds neurons [core_first[c], core_first[c + 1]) and
 * is the chip's core core_id[c]. */
struct image_layer {
    char name[IMAGE_NAME_BYTES];
    uint32_t kind; /* enum image_kind */
    uint32_t n;    /* neurons */
    double rate_hz;
    double tau_ms, v_th, v_reset, t_ref_ms, v_inf; /* LIF, as struct lif_params */
    double drive_hz;                               /* external Poisson drive, 0 = none */
    double drive_w;                                /* its jump, mV */
    uint32_t n_cores;
    uint32_t *core_first; /* owned, n_cores + 1 */
    uint32_t *core_id;    /* owned, n_cores */
};

/* One synapse, as struct syn of net.h: the weight is the quantized value, in mV. */
struct image_syn {
    uint32_t src;
    uint32_t dst;
    float w;
    uint16_t delay; /* timesteps, 1..IMAGE_MAX_DELAY */
};

/* The projection from layer src into layer dst, its weights in format (bits of the target's
 * word, and the scale one unit of it is worth: w = q x scale). */
struct image_proj {
    uint32_t src;
    uint32_t dst;
    uint32_t plastic_below; /* sources below learn under STDP */
    char format[IMAGE_FORMAT_BYTES];
    uint32_t bits; /* 0 = float32 */
    double scale;  /* mV per unit of the word (0 for float32) */
    uint32_t n_syn;
    struct image_syn *syn; /* owned, n_syn */
};

/* One routing-table entry: spikes of chip core from reach chip core to in hops links. */
struct image_route {
    uint32_t from;
    uint32_t to;
    uint32_t hops;
};

/* A whole image. Transparent: the compiler fills one (and owns its arrays), image_read
 * returns one whose arrays image_free releases. */
struct image {
    char model[IMAGE_NAME_BYTES];
    char target[IMAGE_TARGET_BYTES];
    double dt_us;
    uint64_t seed; /* of the inputs' and drives' random streams */
    uint32_t n_layers;
    uint32_t n_proj;
    uint32_t n_routes;
    struct image_layer layers[IMAGE_MAX_LAYERS];
    struct image_proj *proj;    /* owned, n_proj */
    struct image_route *routes; /* owned, n_routes */
};

/* Write img to path (through path.tmp and a rename: a reader never sees half an image).
 * *bytes, if not NULL, gets the file's size. Returns 0 or -errno. img is borrowed. */
int image_write(const char *path, const struct image *img, uint64_t *bytes);

/* Read and check an image (magic, version, every count, index and range, the checksum).
 * Returns an owned image (image_free), or NULL with a one-line reason in why. */
struct image *image_read(const char *path, char *why, size_t why_len);

/* Free what an image owns and the image. NULL is a no-op. */
void image_free(struct image *img);

#endif /* NCTOP_SNN_IMAGE_H */
