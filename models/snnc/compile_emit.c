/* SPDX-License-Identifier: MIT */
/* snnc: the emit pass completes the image (header and layer parameters; the synapses,
 * placement and routes are the earlier passes') and writes it. */
#include "compile_internal.h"

#include <stdio.h>
#include <string.h>

#include "models/snn/target.h"

int compile_emit(struct compilation *c, char *why, size_t why_len)
{
    const struct desc *d = c->d;
    struct image *img = &c->img;
    int rc;

    snprintf(img->model, sizeof(img->model), "%s", d->model);
    snprintf(img->target, sizeof(img->target), "%s", c->t->name);
    img->dt_us = d->dt_us;
    img->seed = d->seed;
    img->n_layers = (uint32_t)d->n_layers;
    for (int l = 0; l < d->n_layers; l++) {
        const struct desc_layer *L = &d->layers[l];
        struct image_layer *IL = &img->layers[l];

        snprintf(IL->name, sizeof(IL->name), "%s", L->name);
        IL->kind = L->kind == DESC_INPUT ? IMAGE_INPUT : IMAGE_LIF;
        IL->n = L->n;
        IL->rate_hz = L->rate_hz;
        IL->tau_ms = L->tau_ms;
        IL->v_th = L->v_th;
        IL->v_reset = L->v_reset;
        IL->t_ref_ms = L->t_ref_ms;
        IL->v_inf = L->v_inf;
        IL->drive_hz = L->drive_hz;
        IL->drive_w = L->drive_w;
    }
    if (c->o->image_out == NULL) {
        return 0;
    }
    rc = image_write(c->o->image_out, img, &c->r->image_bytes);
    if (rc != 0) {
        snprintf(why, why_len, "cannot write %s: %s", c->o->image_out, strerror(-rc));
    }
    return rc;
}
