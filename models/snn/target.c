/* SPDX-License-Identifier: MIT */
/* snn: per-core limits of each target, from the published descriptions of the chips. Where
 * a limit is a software choice rather than the silicon's, the comment says so. */
#include "target.h"

#include <stddef.h>
#include <string.h>

/*
 * Loihi 2: Intel's Loihi 2 technology brief (2021): 128 neuromorphic cores per chip, up to
 * 1 million neurons and 120 million synapses per chip, the cores on a 2D mesh (8 x 16, as
 * described at the chip's announcement). Per core: 1,048,576 / 128 = 8192 neurons (the
 * figure usually quoted per core) and 120 M / 128 = 937,500 synapses. The synaptic memory
 * is partitioned flexibly, so the real synapse limit depends on weight precision and
 * compression; no fan-in (axon) limit is published, so none is applied.
 */
static const struct target target_loihi2 = {
    .name = "loihi2",
    .cores = 128,
    .mesh_w = 8,
    .max_neurons = 8192,
    .max_synapses = 937500,
};

/*
 * SpiNNaker 2: the SpiNNaker2 datasheet (version 0.03, 2021): 152 ARM Cortex-M4F processing
 * elements (PEs) per chip, each with 128 KB of local SRAM. The PEs sit in quad-PE groups on a
 * network-on-chip; we lay them out as an 8-column mesh (19 rows), an approximation of that
 * layout. Neurons are software on a PE: 256 per PE is the default of the first SpiNNaker's
 * software, not a hardware limit. Synapses: the 128 KB SRAM at 4 bytes per synaptic word is
 * 32,768, an estimate for synapses held on the PE (the chip can also stream rows from DRAM).
 */
static const struct target target_spinnaker2 = {
    .name = "spinnaker2",
    .cores = 152,
    .mesh_w = 8,
    .max_neurons = 256,
    .max_synapses = 32768,
};

/*
 * TrueNorth: Merolla et al., Science 345(6197), 2014: 4096 neurosynaptic cores on a 64 x 64
 * mesh, each with 256 neurons, 256 input axons and a 256 x 256 synaptic crossbar (65,536
 * synapses). A core's neurons share its 256 axons, so the distinct presynaptic neurons of a
 * core are at most 256: the limit that makes dense random networks hard to place.
 */
static const struct target target_truenorth = {
    .name = "truenorth",
    .cores = 4096,
    .mesh_w = 64,
    .max_neurons = 256,
    .max_synapses = 65536,
    .max_axons = 256,
};

/* The host CPU: this process is single-threaded, so one core runs every layer, unlimited. */
static const struct target target_cpu = {
    .name = "cpu",
    .cores = 1,
    .mesh_w = 1,
    .shared_cores = true,
};

static const struct target *const target_table[] = {
    &target_loihi2,
    &target_spinnaker2,
    &target_truenorth,
    &target_cpu,
};

const struct target *target_find(const char *name)
{
    for (size_t i = 0; i < sizeof(target_table) / sizeof(target_table[0]); i++) {
        if (strcmp(target_table[i]->name, name) == 0) {
            return target_table[i];
        }
    }
    return NULL;
}

uint32_t target_hops(const struct target *t, uint32_t a, uint32_t b)
{
    uint32_t ax = a % t->mesh_w, ay = a / t->mesh_w;
    uint32_t bx = b % t->mesh_w, by = b / t->mesh_w;

    return (ax > bx ? ax - bx : bx - ax) + (ay > by ? ay - by : by - ay);
}
