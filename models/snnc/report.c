/* SPDX-License-Identifier: MIT */
/* snnc: the report, hand-written JSON (the compiler links no JSON library). The strings are
 * file names, names the parser allowed and messages; report_string escapes what JSON needs.
 * A figure of a pass that did not run is null, not zero. */
#include "report.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile.h"
#include "hw/energy.h"

struct report {
    struct compile_result *ring; /* the last keep compilations */
    uint32_t keep;
    uint64_t total;  /* compilations added */
    uint64_t failed; /* of which failed */
};

static const char *const report_terms[] = {
    "synop", "syn_update", "neuron_active", "neuron_idle", "packet", "hop", "static",
};

struct report *report_new(uint32_t keep)
{
    struct report *rep = calloc(1, sizeof(*rep));

    if (rep == NULL || keep == 0) {
        free(rep);
        return NULL;
    }
    rep->ring = calloc(keep, sizeof(*rep->ring));
    if (rep->ring == NULL) {
        free(rep);
        return NULL;
    }
    rep->keep = keep;
    return rep;
}

void report_free(struct report *rep)
{
    if (rep == NULL) {
        return;
    }
    free(rep->ring);
    free(rep);
}

void report_add(struct report *rep, const struct compile_result *r)
{
    rep->ring[rep->total % rep->keep] = *r;
    rep->total++;
    rep->failed += r->ok ? 0 : 1;
}

static void report_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s != '\0'; s++) {
        unsigned char ch = (unsigned char)*s;

        if (ch == '"' || ch == '\\') {
            fprintf(f, "\\%c", ch);
        } else if (ch < 0x20) {
            fprintf(f, "\\u%04x", ch);
        } else {
            fputc(ch, f);
        }
    }
    fputc('"', f);
}

/* Has pass p run and succeeded (its figures are real)? */
static bool report_done(const struct compile_result *r, int p)
{
    return r->passes[p].ran && r->failed_pass != p;
}

static void report_one(FILE *f, const struct compile_result *r, uint64_t index)
{
    bool first = true;

    fprintf(f, "    {\"index\": %" PRIu64 ", \"file\": ", index);
    report_string(f, r->file);
    fprintf(f, ", \"model\": ");
    report_string(f, r->model);
    fprintf(f, ", \"target\": ");
    report_string(f, r->target);
    fprintf(f, ", \"status\": \"%s\", \"message\": ", r->ok ? "ok" : "error");
    if (r->ok) {
        fprintf(f, "null, \"reason\": null, \"failed_pass\": null");
    } else {
        report_string(f, r->message);
        fprintf(f, ", \"reason\": ");
        report_string(f, r->reason);
        fprintf(f, ", \"failed_pass\": ");
        if (r->failed_pass >= 0) {
            report_string(f, compile_pass_name(r->failed_pass));
        } else {
            fprintf(f, "null");
        }
    }
    fprintf(f,
            ",\n     \"start_ns\": %" PRIu64 ", \"wall_ns\": %" PRIu64 ", \"slack_ns\": %" PRIu64
            ", \"peak_rss_bytes\": %" PRIu64
            ", \"peak_rss_scope\": \"%s\", \"peak_heap_bytes\": %" PRIu64 ",\n     \"passes\": [",
            r->start_ns, r->wall_ns, r->slack_ns, r->peak_rss_bytes,
            r->peak_rss_per_compilation ? "compilation" : "process", r->peak_heap_bytes);
    for (int p = 0; p < COMPILE_PASSES; p++) {
        const struct compile_pass_result *pr = &r->passes[p];

        if (!pr->ran) {
            continue;
        }
        fprintf(f,
                "%s\n       {\"name\": \"%s\", \"status\": \"%s\", \"wall_ns\": %" PRIu64
                ", \"slack_ns\": %" PRIu64 ", \"mem_delta_bytes\": %" PRId64
                ", \"mem_peak_bytes\": %" PRIu64 "}",
                first ? "" : ",", compile_pass_name(p), r->failed_pass == p ? "error" : "ok",
                pr->wall_ns, pr->slack_ns, pr->mem_delta_bytes, pr->mem_peak_bytes);
        first = false;
    }
    fprintf(f, "],\n     \"network\": ");
    if (report_done(r, COMPILE_BUILD)) {
        fprintf(f,
                "{\"layers\": %u, \"neurons\": %u, \"projections\": %u, \"synapses\": %" PRIu64 "}",
                r->layers, r->neurons, r->projections, r->synapses);
    } else {
        fprintf(f, "null");
    }
    fprintf(f, ",\n     \"quantization\": ");
    if (report_done(r, COMPILE_QUANTIZE)) {
        fprintf(f, "{\"format\": ");
        report_string(f, r->qformat);
        fprintf(f,
                ", \"bits\": %u, \"rms_error_mv\": %.9g, \"rms_rel\": %.9g, \"max_rel\": %.9g, "
                "\"clipped\": %" PRIu64 "}",
                r->qbits, r->q_rms_mv, r->q_rms_rel, r->q_max_rel, r->q_clipped);
    } else {
        fprintf(f, "null");
    }
    fprintf(f, ",\n     \"placement\": ");
    if (report_done(r, COMPILE_PLACE)) {
        fprintf(f,
                "{\"cores\": %u, \"cost_before\": %.9g, \"cost_after\": %.9g, \"iterations\": "
                "%" PRIu64 ", \"accepted\": %" PRIu64 "}",
                r->cores, r->cost_before, r->cost_after, r->anneal_iters, r->anneal_accepted);
    } else {
        fprintf(f, "null");
    }
    fprintf(f, ",\n     \"routing\": ");
    if (report_done(r, COMPILE_ROUTE)) {
        fprintf(f,
                "{\"routes\": %" PRIu64 ", \"hops\": %" PRIu64 ", \"max_hops\": %" PRIu64
                ", \"hops_per_inference\": %.9g, \"packets_per_inference\": %.9g}",
                r->routes, r->route_hops, r->max_route_hops, r->hops_per_inference,
                r->packets_per_inference);
    } else {
        fprintf(f, "null");
    }
    fprintf(f, ",\n     \"image_bytes\": ");
    if (report_done(r, COMPILE_EMIT)) {
        fprintf(f, "%" PRIu64, r->image_bytes);
    } else {
        fprintf(f, "null");
    }
    fprintf(f, ",\n     \"estimate\": ");
    if (report_done(r, COMPILE_ESTIMATE)) {
        first = true;
        fprintf(f,
                "{\"window_s\": %.9g, \"energy_j\": %.9e, \"latency_s\": %.9g, \"spikes\": %.9g, "
                "\"synops\": %.9g, \"energy_missing\": [",
                r->window_s, r->energy_j, r->latency_s, r->spikes_per_inference,
                r->synops_per_inference);
        for (unsigned i = 0; i < sizeof(report_terms) / sizeof(report_terms[0]); i++) {
            if ((r->energy_missing & (1U << i)) != 0) {
                fprintf(f, "%s\"%s\"", first ? "" : ", ", report_terms[i]);
                first = false;
            }
        }
        fprintf(f, "]}");
    } else {
        fprintf(f, "null");
    }
    fprintf(f, "}");
}

int report_write(const struct report *rep, const char *path)
{
    uint64_t from = rep->total > rep->keep ? rep->total - rep->keep : 0;
    char tmp[4096];
    FILE *f;
    int rc = 0;

    if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
        return -ENAMETOOLONG;
    }
    f = fopen(tmp, "w");
    if (f == NULL) {
        return -errno;
    }
    fprintf(f,
            "{\n  \"compiler\": \"snnc\",\n  \"compilations_total\": %" PRIu64
            ",\n  \"failed_total\": %" PRIu64 ",\n  \"listed_from\": %" PRIu64
            ",\n  \"compilations\": [\n",
            rep->total, rep->failed, from);
    for (uint64_t i = from; i < rep->total; i++) {
        report_one(f, &rep->ring[i % rep->keep], i);
        fprintf(f, "%s\n", i + 1 < rep->total ? "," : "");
    }
    fprintf(f, "  ]\n}\n");
    if (ferror(f) != 0) {
        rc = -EIO;
    }
    if (fclose(f) != 0 && rc == 0) {
        rc = -errno;
    }
    if (rc == 0 && rename(tmp, path) != 0) {
        rc = -errno;
    }
    if (rc != 0) {
        remove(tmp);
    }
    return rc;
}
