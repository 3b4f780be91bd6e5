/* SPDX-License-Identifier: MIT */
/* The answers of Prometheus' query API (/api/v1/query) as plain records: the labels nctop
 * reads of each sample, and its value. The only JSON of the fleet source; pure (no I/O). */
#ifndef NCTOP_COLLECTORS_FLEET_JSON_H
#define NCTOP_COLLECTORS_FLEET_JSON_H

#include <stddef.h>

#define FLEET_JSON_MAX_SAMPLES 200000 /* samples of one answer; more is refused */
#define FLEET_JSON_MAX_LABEL 256      /* bytes of a label value kept (longer: cut) */

/* The labels read; any other label of a sample is ignored. */
enum fleet_label {
    FLEET_L_NAME = 0, /* __name__ */
    FLEET_L_INSTANCE,
    FLEET_L_JOB,
    FLEET_L_WORKLOAD,
    FLEET_L_PATH,
    FLEET_L_PID,
    FLEET_L_STATE,
    FLEET_NLABELS,
};

struct fleet_sample {
    char *label[FLEET_NLABELS]; /* owned; NULL when the sample has none */
    double value;               /* NaN when Prometheus has none (a quantile of no samples) */
};

/* An instant vector. Owns its samples. */
struct fleet_vector {
    struct fleet_sample *v;
    size_t n;
};

/* Decode one answer: http_status and the body (len bytes). Returns 0 with out filled (an
 * empty vector is an answer), or -EINVAL with *err an owned one-line reason: Prometheus' own
 * error ("bad_data: ..."), an HTTP error, or what is wrong with the answer. */
int fleet_json_decode(int http_status, const char *body, size_t len, struct fleet_vector *out,
                      char **err);

/* Free the samples of v and zero it. */
void fleet_vector_done(struct fleet_vector *v);

#endif /* NCTOP_COLLECTORS_FLEET_JSON_H */
