/* SPDX-License-Identifier: MIT */
/* Prometheus' answers read with cJSON: parsed, copied into plain records, deleted in the same
 * call (no cJSON pointer outlives it). Everything in an answer is checked: its status, its
 * result type, each sample's shape; a value is a string Prometheus writes ("1.5", "NaN",
 * "+Inf"). */
#include "collectors/fleet_json.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "src/base/xalloc.h"

static const char *const fleet_label_names[FLEET_NLABELS] = {
    [FLEET_L_NAME] = "__name__",     [FLEET_L_INSTANCE] = "instance", [FLEET_L_JOB] = "job",
    [FLEET_L_WORKLOAD] = "workload", [FLEET_L_PATH] = "path",         [FLEET_L_PID] = "pid",
    [FLEET_L_STATE] = "state",
};

void fleet_vector_done(struct fleet_vector *v)
{
    for (size_t i = 0; i < v->n; i++) {
        for (int k = 0; k < FLEET_NLABELS; k++) {
            free(v->v[i].label[k]);
        }
    }
    free(v->v);
    v->v = NULL;
    v->n = 0;
}

/* A value string: a number, NaN or an infinity. */
static bool fleet_json_number(const char *s, double *out)
{
    char *end;

    *out = strtod(s, &end);
    return end != s && *end == '\0';
}

/* One sample of a vector: {"metric": {...}, "value": [ts, "v"]}. */
static bool fleet_json_sample(const cJSON *item, struct fleet_sample *out)
{
    const cJSON *metric = cJSON_GetObjectItemCaseSensitive(item, "metric");
    const cJSON *value = cJSON_GetObjectItemCaseSensitive(item, "value");
    const cJSON *v;

    memset(out, 0, sizeof(*out));
    if (!cJSON_IsObject(metric) || !cJSON_IsArray(value) || cJSON_GetArraySize(value) != 2) {
        return false;
    }
    v = cJSON_GetArrayItem(value, 1);
    if (!cJSON_IsString(v) || !fleet_json_number(v->valuestring, &out->value)) {
        return false;
    }
    for (int k = 0; k < FLEET_NLABELS; k++) {
        const cJSON *l = cJSON_GetObjectItemCaseSensitive(metric, fleet_label_names[k]);

        if (cJSON_IsString(l)) {
            size_t n = strnlen(l->valuestring, FLEET_JSON_MAX_LABEL);

            out->label[k] = xmalloc(n + 1);
            memcpy(out->label[k], l->valuestring, n);
            out->label[k][n] = '\0';
        }
    }
    return true;
}

int fleet_json_decode(int http_status, const char *body, size_t len, struct fleet_vector *out,
                      char **err)
{
    cJSON *root = cJSON_ParseWithLength(body, len);
    const cJSON *status, *data, *type, *result, *item;
    size_t n = 0;
    int rc = -EINVAL;

    memset(out, 0, sizeof(*out));
    *err = NULL;
    if (root == NULL || !cJSON_IsObject(root)) {
        *err = http_status != 200
                   ? xasprintf("HTTP %d, and no answer of Prometheus' API (is this the address "
                               "of a Prometheus?)",
                               http_status)
                   : xasprintf("the answer is not JSON (is this the address of a Prometheus?)");
        goto out;
    }
    status = cJSON_GetObjectItemCaseSensitive(root, "status");
    if (cJSON_IsString(status) && strcmp(status->valuestring, "error") == 0) {
        const cJSON *et = cJSON_GetObjectItemCaseSensitive(root, "errorType");
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(root, "error");

        *err =
            xasprintf("Prometheus answers %s: %s", cJSON_IsString(et) ? et->valuestring : "error",
                      cJSON_IsString(e) ? e->valuestring : "(no message)");
        goto out;
    }
    if (!cJSON_IsString(status) || strcmp(status->valuestring, "success") != 0 ||
        http_status != 200) {
        *err = xasprintf("HTTP %d, and no answer of Prometheus' API (is this the address of a "
                         "Prometheus?)",
                         http_status);
        goto out;
    }
    data = cJSON_GetObjectItemCaseSensitive(root, "data");
    type = cJSON_GetObjectItemCaseSensitive(data, "resultType");
    result = cJSON_GetObjectItemCaseSensitive(data, "result");
    if (!cJSON_IsString(type) || strcmp(type->valuestring, "vector") != 0 ||
        !cJSON_IsArray(result)) {
        *err = xasprintf("the answer is not an instant vector (resultType %s)",
                         cJSON_IsString(type) ? type->valuestring : "missing");
        goto out;
    }
    if (cJSON_GetArraySize(result) > FLEET_JSON_MAX_SAMPLES) {
        *err = xasprintf("the answer has more than %d samples: too many series",
                         FLEET_JSON_MAX_SAMPLES);
        goto out;
    }
    out->v = xcalloc((size_t)cJSON_GetArraySize(result) + 1, sizeof(*out->v));
    cJSON_ArrayForEach(item, result)
    {
        if (!fleet_json_sample(item, &out->v[n])) {
            for (int k = 0; k < FLEET_NLABELS; k++) {
                free(out->v[n].label[k]);
            }
            out->n = n;
            fleet_vector_done(out);
            *err = xasprintf("sample %zu of the answer is not {\"metric\": {...}, \"value\": "
                             "[time, \"number\"]}",
                             n + 1);
            goto out;
        }
        n++;
    }
    out->n = n;
    rc = 0;
out:
    cJSON_Delete(root);
    return rc;
}
