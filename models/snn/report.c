/* SPDX-License-Identifier: MIT */
/* snn: the report. Hand-written JSON (the runtime links no JSON library): names are the
 * runtime's own, so nothing needs escaping beyond what report_string does. The figures are
 * deterministic for a seed, so two runs of one command write the same file. */
#include "report.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "hw/energy.h"
#include "net.h"
#include "target.h"

static const char *const report_term_names[] = {
    "synop", "syn_update", "neuron_active", "neuron_idle", "packet", "hop", "static",
};

static void report_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s != '\0'; s++) {
        if (*s == '"' || *s == '\\') {
            fputc('\\', f);
        }
        if ((unsigned char)*s >= 0x20) {
            fputc(*s, f);
        }
    }
    fputc('"', f);
}

static void report_add(struct net_counts *sum, const struct net_counts *c)
{
    sum->spikes += c->spikes;
    sum->synops += c->synops;
    sum->neuron_updates += c->neuron_updates;
    sum->neuron_updates_active += c->neuron_updates_active;
    sum->packets += c->packets;
    sum->hops += c->hops;
    sum->syn_updates += c->syn_updates;
}

static struct energy_counts report_energy_counts(const struct net_counts *c, uint64_t cores)
{
    struct energy_counts e = {
        .synops = c->synops,
        .syn_updates = c->syn_updates,
        .neuron_updates = c->neuron_updates,
        .neuron_updates_active = c->neuron_updates_active,
        .packets = c->packets,
        .hops = c->hops,
        .cores = cores,
    };

    return e;
}

static void report_counts(FILE *f, const struct net_counts *c, double energy_j)
{
    fprintf(f,
            "\"spikes\": %" PRIu64 ", \"synops\": %" PRIu64 ", \"neuron_updates\": %" PRIu64
            ", \"neuron_updates_active\": %" PRIu64 ", \"packets\": %" PRIu64 ", \"hops\": %" PRIu64
            ", \"syn_updates\": %" PRIu64 ", \"energy_j\": %.9e",
            c->spikes, c->synops, c->neuron_updates, c->neuron_updates_active, c->packets, c->hops,
            c->syn_updates, energy_j);
}

static void report_model(FILE *f, const struct energy_model *m, unsigned missing)
{
    bool first = true;

    fprintf(f, "  \"energy_model\": {\"target\": ");
    report_string(f, m->target);
    fprintf(f, ", \"basis\": ");
    report_string(f, m->basis);
    fprintf(f, ", \"estimated\": true");
    /* each figure, or null when the model has none (absent, not zero) */
    {
        const double v[] = {m->e_synop_j,        m->e_syn_update_j, m->e_neuron_active_j,
                            m->e_neuron_idle_j,  m->e_packet_j,     m->e_hop_j,
                            m->static_w_per_core};

        for (unsigned i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
            fprintf(f, ", \"%s_%s\": ", report_term_names[i], i == 6 ? "w_per_core" : "j");
            if ((m->have & (1U << i)) != 0) {
                fprintf(f, "%.6e", v[i]);
            } else {
                fprintf(f, "null");
            }
        }
    }
    fprintf(f, ", \"missing\": [");
    for (unsigned i = 0; i < sizeof(report_term_names) / sizeof(report_term_names[0]); i++) {
        if ((missing & (1U << i)) != 0) {
            fprintf(f, "%s\"%s\"", first ? "" : ", ", report_term_names[i]);
            first = false;
        }
    }
    fprintf(f, "]},\n");
}

int report_write(const char *path, const struct net *net, const struct target *t,
                 const struct report_meta *meta)
{
    const struct energy_model *m = energy_model_find(t->name);
    double seconds = (double)net_timestep(net) * net_dt_ms(net) * 1e-3;
    struct net_counts total = {0};
    uint64_t total_cores = 0, total_neurons = 0;
    double total_j = 0.0;
    unsigned missing;
    char tmp[4096];
    FILE *f;
    int rc = 0;

    /* write a temporary file and rename it: a reader never sees half a report */
    if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
        return -ENAMETOOLONG;
    }
    f = fopen(tmp, "w");
    if (f == NULL) {
        return -errno;
    }
    for (int l = 0; l < net_layers(net); l++) {
        for (uint32_t c = 0; c < net_layer_cores(net, l); c++) {
            report_add(&total, net_core_counts(net, l, c));
            total_cores++;
        }
    }
    {
        struct energy_counts ec = report_energy_counts(&total, total_cores);

        missing = energy_model_missing(m, &ec, seconds);
    }
    fprintf(f, "{\n  \"network\": ");
    report_string(f, meta->network);
    fprintf(f, ",\n  \"target\": ");
    report_string(f, t->name);
    fprintf(f,
            ",\n  \"seed\": %" PRIu64 ",\n  \"dt_us\": %.6g,\n  \"rate_hz\": %.6g,\n"
            "  \"stdp\": %s,\n  \"timesteps\": %" PRIu64 ",\n  \"seconds\": %.9g,\n",
            meta->seed, net_dt_ms(net) * 1e3, meta->rate_hz, meta->stdp ? "true" : "false",
            net_timestep(net), seconds);
    fprintf(f,
            "  \"chip\": {\"cores\": %u, \"mesh_w\": %u, \"max_neurons\": %u, "
            "\"max_synapses\": %" PRIu64 ", \"max_axons\": %u},\n",
            t->cores, t->mesh_w, t->max_neurons, t->max_synapses, t->max_axons);
    report_model(f, m, missing);
    fprintf(f, "  \"layers\": [\n");
    for (int l = 0; l < net_layers(net); l++) {
        struct net_counts sum = {0};
        double layer_j = 0.0;

        fprintf(f, "    {\"index\": %d, \"name\": ", l);
        report_string(f, net_layer_name(net, l));
        fprintf(f,
                ", \"neurons\": %u, \"synapses\": %" PRIu64 ", \"weight_bytes\": %" PRIu64
                ", \"cores\": [\n",
                net_layer_size(net, l), net_layer_synapses(net, l), net_layer_weight_bytes(net, l));
        for (uint32_t c = 0; c < net_layer_cores(net, l); c++) {
            const struct net_counts *cc = net_core_counts(net, l, c);
            struct energy_counts ec = report_energy_counts(cc, 1);
            uint32_t id = net_core_id(net, l, c);
            double j = energy_estimate_j(m, &ec, seconds);

            fprintf(f, "      {\"core\": %u, \"x\": %u, \"y\": %u, \"neurons\": %u, ", id,
                    id % t->mesh_w, id / t->mesh_w, net_core_neurons(net, l, c));
            report_counts(f, cc, j);
            fprintf(f, "}%s\n", c + 1 < net_layer_cores(net, l) ? "," : "");
            report_add(&sum, cc);
            layer_j += j;
        }
        fprintf(f, "    ], ");
        report_counts(f, &sum, layer_j);
        fprintf(f, "}%s\n", l + 1 < net_layers(net) ? "," : "");
        total_j += layer_j;
        total_neurons += net_layer_size(net, l);
    }
    fprintf(f, "  ],\n  \"totals\": {\"neurons\": %" PRIu64 ", \"cores\": %" PRIu64 ", ",
            total_neurons, total_cores);
    report_counts(f, &total, total_j);
    fprintf(f, "}\n}\n");
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
