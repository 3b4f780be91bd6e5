/* SPDX-License-Identifier: MIT */
/* snnc: the quantize pass turns each projection's weights into the target's word and back
 * into the value the chip computes with, and measures the error against the description:
 *   loihi2      8-bit signed mantissa, one power-of-two exponent per projection (the
 *               synapse group's shared weight exponent);
 *   spinnaker2  16-bit signed fixed point, the binary point chosen per projection;
 *   truenorth   at most 4 weight values per projection (a core's 4 axon types), each a 9-bit
 *               signed integer of one scale;
 *   cpu         32-bit float (the only error is double to float). */
#include "compile_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "mem.h"
#include "models/snn/target.h"

#define COMPILE_TN_MAX 255 /* 9-bit signed */

/* Power-of-two scale such that max_abs / scale <= q_max. */
static double compile_pow2_scale(double max_abs, double q_max)
{
    if (max_abs == 0.0) {
        return 1.0;
    }
    return ldexp(1.0, (int)ceil(log2(max_abs / q_max)));
}

static float compile_to_word(double w, double scale, long q_min, long q_max, uint64_t *clipped)
{
    long q = lround(w / scale);

    if (q < q_min || q > q_max) {
        (*clipped)++;
        q = q < q_min ? q_min : q_max;
    }
    return (float)((double)q * scale);
}

/* truenorth: a projection's weights as at most 4 values (the axon types), 9-bit integers of
 * one scale. A description gives a projection two values at most (weight and inh_weight),
 * so the 4 types always hold them; only the 9 bits round. */
static void compile_quantize_tn(struct compilation *c, struct image_proj *ip,
                                const struct desc_proj *p, uint64_t *clipped)
{
    double max_abs = fmax(fabs(p->w), fabs(p->w_inh));

    ip->scale = max_abs > 0.0 ? max_abs / COMPILE_TN_MAX : 1.0;
    for (uint32_t s = 0; s < ip->n_syn; s++) {
        ip->syn[s].w = compile_to_word(compile_described_weight(c, p, ip->syn[s].src), ip->scale,
                                       -COMPILE_TN_MAX, COMPILE_TN_MAX, clipped);
    }
}

int compile_quantize(struct compilation *c, char *why, size_t why_len)
{
    (void)why;
    (void)why_len;
    const char *t = c->t->name;
    struct compile_result *r = c->r;
    double sum_d2 = 0.0, sum_w2 = 0.0, max_rel = 0.0;
    uint64_t n = 0;

    for (uint32_t k = 0; k < c->img.n_proj; k++) {
        struct image_proj *ip = &c->img.proj[k];
        const struct desc_proj *p = &c->d->proj[k];
        double max_abs = fmax(fabs(p->w), fabs(p->w_inh));

        if (strcmp(t, "loihi2") == 0) {
            snprintf(ip->format, sizeof(ip->format), "int8e");
            ip->bits = 8;
            ip->scale = compile_pow2_scale(max_abs, 127.0);
            for (uint32_t s = 0; s < ip->n_syn; s++) {
                ip->syn[s].w = compile_to_word(ip->syn[s].w, ip->scale, -128, 127, &r->q_clipped);
            }
        } else if (strcmp(t, "spinnaker2") == 0) {
            snprintf(ip->format, sizeof(ip->format), "fix16");
            ip->bits = 16;
            ip->scale = compile_pow2_scale(max_abs, 32767.0);
            for (uint32_t s = 0; s < ip->n_syn; s++) {
                ip->syn[s].w =
                    compile_to_word(ip->syn[s].w, ip->scale, -32768, 32767, &r->q_clipped);
            }
        } else if (strcmp(t, "truenorth") == 0) {
            snprintf(ip->format, sizeof(ip->format), "4x9b");
            ip->bits = 9;
            compile_quantize_tn(c, ip, p, &r->q_clipped);
        } else {
            snprintf(ip->format, sizeof(ip->format), "float32");
            ip->bits = 0;
            ip->scale = 0.0;
        }
        /* the error against the described (double) weights */
        for (uint32_t s = 0; s < ip->n_syn; s++) {
            double w = compile_described_weight(c, p, ip->syn[s].src), e = ip->syn[s].w - w;

            sum_d2 += e * e;
            sum_w2 += w * w;
            if (w != 0.0) {
                max_rel = fmax(max_rel, fabs(e) / fabs(w));
            }
            n++;
        }
        snprintf(r->qformat, sizeof(r->qformat), "%s", ip->format);
        r->qbits = ip->bits;
    }
    r->q_rms_mv = n > 0 ? sqrt(sum_d2 / (double)n) : 0.0;
    r->q_rms_rel = sum_w2 > 0.0 ? sqrt(sum_d2 / sum_w2) : 0.0;
    r->q_max_rel = max_rel;
    return 0;
}
