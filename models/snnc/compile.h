/* SPDX-License-Identifier: MIT */
/* snnc: one compilation of a network description for a target, pass by pass (parse,
 * build, quantize, partition, place, route, emit, estimate), and what it measured. */
#ifndef NCTOP_SNNC_COMPILE_H
#define NCTOP_SNNC_COMPILE_H

#include <stdbool.h>
#include <stdint.h>

enum compile_pass {
    COMPILE_PARSE = 0, /* read and validate the description */
    COMPILE_BUILD,     /* draw the synapse matrix */
    COMPILE_QUANTIZE,  /* weights to the target's precision */
    COMPILE_PARTITION, /* neurons onto cores within the per-core limits */
    COMPILE_PLACE,     /* cores onto the mesh, simulated annealing */
    COMPILE_ROUTE,     /* routing tables and hops */
    COMPILE_EMIT,      /* write the image */
    COMPILE_ESTIMATE,  /* energy and latency per inference */
    COMPILE_PASSES,
};

/* What to compile for. Transparent; strings borrowed. */
struct compile_opts {
    const char *target;    /* loihi2, spinnaker2, truenorth, cpu */
    const char *image_out; /* where emit writes the image; NULL: emit builds it, writes none */
    uint64_t anneal_iters; /* placement iterations; UINT64_MAX: the default for the size */
    uint64_t place_seed;   /* the annealer's seed (the description's seed by default) */
    bool place_seed_set;
};

struct compile_pass_result {
    bool ran;
    uint64_t wall_ns;        /* from the pass's span begin to its end */
    uint64_t slack_ns;       /* the span's own stamps are within this of wall_ns */
    int64_t mem_delta_bytes; /* counted bytes the pass allocated and kept, minus it freed */
    uint64_t mem_peak_bytes; /* counted bytes live at the pass's peak */
};

/* One compilation's figures, for the report and the probe. Transparent. */
struct compile_result {
    char file[256];
    char model[32];
    char target[16];
    bool ok;
    char message[1024]; /* one line when !ok */
    char reason[512];   /* the same, short: "pass: why" (parse: "file:line:col: why") */
    int failed_pass;    /* enum compile_pass, or -1 */
    uint64_t start_ns;  /* nctop_now_ns() at the start */
    uint64_t wall_ns;   /* the whole compilation */
    uint64_t slack_ns;  /* the compile span's stamps are within this of wall_ns */
    uint64_t peak_rss_bytes;
    bool peak_rss_per_compilation; /* false: the process's peak (the kernel could not reset it) */
    uint64_t peak_heap_bytes;      /* counted bytes, the compilation's peak */
    struct compile_pass_result passes[COMPILE_PASSES];
    /* the network */
    uint32_t layers, neurons, projections;
    uint64_t synapses;
    /* quantize */
    char qformat[16];
    uint32_t qbits;
    double q_rms_mv;  /* RMS of (quantized - described) weight */
    double q_rms_rel; /* that over the RMS weight */
    double q_max_rel; /* the largest |quantized - described| / |described| */
    uint64_t q_clipped;
    /* partition and place */
    uint32_t cores;
    double cost_before, cost_after; /* expected hops per inference */
    uint64_t anneal_iters, anneal_accepted;
    /* route */
    uint64_t routes;     /* routing-table entries */
    uint64_t route_hops; /* their hops */
    uint64_t max_route_hops;
    double hops_per_inference, packets_per_inference;
    /* emit */
    uint64_t image_bytes;
    /* estimate */
    double window_s;
    double energy_j;         /* per inference */
    unsigned energy_missing; /* ENERGY_HAVE_* terms the model lacks */
    double latency_s;        /* per inference */
    double synops_per_inference, spikes_per_inference;
};

/* The name of a pass, "parse" ... "estimate". */
const char *compile_pass_name(int pass);

/* Compile the description in file for o->target into r (zeroed first). Returns 0; -EINVAL
 * when the description is invalid (r->message "file:line:col: ..."), -ENOSPC when it does not
 * fit the target (r->message names the limit), another -errno on a system error. Publishes
 * each pass through the probe. file and o borrowed. */
int compile_run(const char *file, const struct compile_opts *o, struct compile_result *r);

#endif /* NCTOP_SNNC_COMPILE_H */
