/* SPDX-License-Identifier: MIT */
/* snnc: the driver. Runs the passes in order, each between the probe's pass begin and end,
 * times it with the SDK's clock read just before its span's own stamps (so the report's
 * times are nctop's within a clock read), counts the bytes it kept, and
 * stops at the first that fails. The peak RSS is the compilation's own where the kernel lets
 * the high-water mark be reset (clear_refs 5), else the process's. */
#include "compile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nctop.h>

#include "compile_internal.h"
#include "hw/energy.h"
#include "mem.h"
#include "models/snn/target.h"
#include "probe.h"

typedef int (*compile_pass_fn)(struct compilation *c, char *why, size_t why_len);

static const struct {
    const char *name;
    compile_pass_fn run;
} compile_passes[COMPILE_PASSES] = {
    [COMPILE_PARSE] = {"parse", compile_parse},
    [COMPILE_BUILD] = {"build", compile_build},
    [COMPILE_QUANTIZE] = {"quantize", compile_quantize},
    [COMPILE_PARTITION] = {"partition", compile_partition},
    [COMPILE_PLACE] = {"place", compile_place},
    [COMPILE_ROUTE] = {"route", compile_route},
    [COMPILE_EMIT] = {"emit", compile_emit},
    [COMPILE_ESTIMATE] = {"estimate", compile_estimate},
};

const char *compile_pass_name(int pass)
{
    return pass >= 0 && pass < COMPILE_PASSES ? compile_passes[pass].name : "?";
}

int compile_parse(struct compilation *c, char *why, size_t why_len)
{
    struct compile_result *r = c->r;
    int rc;

    c->d = mem_calloc(1, sizeof(*c->d));
    if (c->d == NULL) {
        snprintf(why, why_len, "out of memory");
        return -ENOMEM;
    }
    rc = desc_parse(c->file, c->d, why, why_len);
    /* the model is named even when its description fails (the file's name, or the network
     * statement read before the error) */
    snprintf(r->model, sizeof(r->model), "%s", c->d->model);
    if (rc != 0) {
        return -EINVAL;
    }
    r->layers = (uint32_t)c->d->n_layers;
    r->projections = (uint32_t)c->d->n_proj;
    for (int l = 0; l < c->d->n_layers; l++) {
        r->neurons += c->d->layers[l].n;
    }
    return 0;
}

/* Free everything the passes kept. */
static void compile_release(struct compilation *c)
{
    for (uint32_t k = 0; k < c->img.n_proj; k++) {
        mem_free(c->img.proj[k].syn, c->syn_cap[k], sizeof(*c->img.proj[k].syn));
    }
    if (c->d != NULL) {
        mem_free(c->img.proj, (size_t)c->d->n_proj, sizeof(*c->img.proj));
        for (int l = 0; l < c->d->n_layers; l++) {
            struct image_layer *L = &c->img.layers[l];

            mem_free(L->core_first, (size_t)L->n_cores + 1, sizeof(*L->core_first));
            mem_free(L->core_id, L->n_cores, sizeof(*L->core_id));
        }
    }
    mem_free(c->img.routes, c->img.n_routes, sizeof(*c->img.routes));
    mem_free(c->cores, c->n_cores, sizeof(*c->cores));
    mem_free(c->edges, c->edges_cap, sizeof(*c->edges));
    mem_free(c->d, 1, sizeof(*c->d));
    memset(c, 0, sizeof(*c));
}

/* Reset the kernel's RSS high-water mark; false when it cannot be (old kernel, no /proc). */
static bool compile_rss_reset(void)
{
    FILE *f = fopen("/proc/self/clear_refs", "w");
    bool ok;

    if (f == NULL) {
        return false;
    }
    ok = fputs("5", f) >= 0;
    ok = fclose(f) == 0 && ok;
    return ok;
}

/* VmHWM of this process, bytes (0 when unknown). */
static uint64_t compile_rss_peak(void)
{
    char line[256];
    unsigned long long kb = 0;
    FILE *f = fopen("/proc/self/status", "r");

    if (f == NULL) {
        return 0;
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        if (sscanf(line, "VmHWM: %llu kB", &kb) == 1) {
            break;
        }
    }
    fclose(f);
    return (uint64_t)kb * 1024;
}

int compile_run(const char *file, const struct compile_opts *o, struct compile_result *r)
{
    struct compilation c = {.file = file, .o = o, .r = r};
    char why[384];
    uint64_t live0, t0;
    int rc = 0;

    memset(r, 0, sizeof(*r));
    r->failed_pass = -1;
    snprintf(r->file, sizeof(r->file), "%s", file);
    snprintf(r->target, sizeof(r->target), "%s", o->target);
    c.t = target_find(o->target);
    c.em = energy_model_find(o->target);
    if (c.t == NULL || c.em == NULL) {
        snprintf(r->message, sizeof(r->message), "unknown target '%s'", o->target);
        return -EINVAL;
    }
    r->peak_rss_per_compilation = compile_rss_reset();
    live0 = mem_live();
    mem_reset_peak();
    t0 = probe_compile_begin(o->target, &r->slack_ns);
    r->start_ns = t0;
    for (int p = 0; p < COMPILE_PASSES; p++) {
        struct compile_pass_result *pr = &r->passes[p];
        uint64_t before = mem_live(), a, b;

        mem_reset_peak();
        why[0] = '\0';
        a = probe_pass_begin(p, &pr->slack_ns);
        rc = compile_passes[p].run(&c, why, sizeof(why));
        pr->mem_delta_bytes = (int64_t)(mem_live() - before);
        pr->mem_peak_bytes = mem_peak();
        b = probe_pass_end(p, pr->mem_delta_bytes, &pr->slack_ns);
        if (p == COMPILE_PARSE && r->model[0] != '\0') {
            probe_compile_model(r->model);
        }
        pr->ran = true;
        pr->wall_ns = b - a;
        r->peak_heap_bytes =
            pr->mem_peak_bytes > r->peak_heap_bytes ? pr->mem_peak_bytes : r->peak_heap_bytes;
        if (rc != 0) {
            r->failed_pass = p;
            if (p == COMPILE_PARSE && rc == -EINVAL) {
                snprintf(r->message, sizeof(r->message), "%s", why);
                snprintf(r->reason, sizeof(r->reason), "%s", why);
            } else {
                snprintf(r->message, sizeof(r->message), "%s: %s: %s: %s", file, o->target,
                         compile_passes[p].name, why);
                snprintf(r->reason, sizeof(r->reason), "%s: %s", compile_passes[p].name, why);
            }
            break;
        }
    }
    r->ok = rc == 0;
    if (r->ok) {
        probe_compile_energy(r->energy_j);
    }
    {
        uint64_t kept = mem_live() - live0;

        compile_release(&c);
        probe_compile_mem(-(int64_t)kept);
    }
    r->peak_rss_bytes = compile_rss_peak();
    r->wall_ns = probe_compile_end(r, &r->slack_ns) - t0;
    probe_compile_outcome(r);
    return rc;
}
