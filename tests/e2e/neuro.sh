#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The neuromorphic figures against the spiking runtime's own report: nctop --once --json -- snn
# gives per network, layer and core the runtime's exact spike, synaptic-op, hop and neuron
# counts, and energy equal to the target's model applied to those counts (within 0.1 %);
# then the Neuro view in a private tmux server, driven by keys and polled.
. "$(dirname "$0")/lib.sh"
SNN=$BUILD/snn
if [ ! -x "$NCTOP" ] || [ ! -x "$SNN" ]; then
    fail "build" "$NCTOP or $SNN missing: run make"
    exit 1
fi

# 1. The snapshot's "neuro" object = the report, on two targets (truenorth: many cores).
snapshot() {
    local name=$1
    shift
    if timeout 120 "$NCTOP" --once --json --duration 60 -- "$SNN" --quiet "$@" \
        --report "$T/$name-report.json" >"$T/$name.json" 2>"$T/$name.err"; then
        return 0
    fi
    fail "nctop --once -- snn $*" "$(tail -n 3 "$T/$name.err" | tr '\n' ' ')"
    return 1
}

# The checks, with r the report and n the snapshot's neuro object.
REPORT='json.load(open(sys.argv[1].replace(".json", "-report.json")))'
same() {
    local name=$1 file=$2
    jcheck "$name: counts per network, layer and core = the report's" "$file" \
        'proc("snn")["neuro"] is not None' \
        "all(proc('snn')['neuro']['totals'][k] == $REPORT['totals'][k] for k in ('spikes', 'synops', 'neuron_updates', 'neuron_updates_active', 'packets', 'hops', 'syn_updates', 'neurons'))" \
        "[l['index'] for l in proc('snn')['neuro']['layers']] == [l['index'] for l in $REPORT['layers']]" \
        "all(nl[k] == rl[k] for nl, rl in zip(proc('snn')['neuro']['layers'], $REPORT['layers']) for k in ('spikes', 'synops', 'hops', 'packets', 'neuron_updates', 'neuron_updates_active', 'neurons'))" \
        "all([c['core'] for c in nl['cores']] == [c['core'] for c in rl['cores']] for nl, rl in zip(proc('snn')['neuro']['layers'], $REPORT['layers']))" \
        "all(nc[k] == rc[k] for nl, rl in zip(proc('snn')['neuro']['layers'], $REPORT['layers']) for nc, rc in zip(nl['cores'], rl['cores']) for k in ('spikes', 'synops', 'hops', 'neurons'))" \
        "proc('snn')['neuro']['timesteps'] == $REPORT['timesteps']"
    jcheck "$name: energy = the model applied to the counts (0.1 %), estimated" "$file" \
        "proc('snn')['neuro']['energy']['source'] == 'estimated' and proc('snn')['neuro']['target'] == $REPORT['target']" \
        "abs(proc('snn')['neuro']['energy']['joules'] - $REPORT['totals']['energy_j']) <= 1e-3 * $REPORT['totals']['energy_j']" \
        "all(abs(nl['energy_j'] - rl['energy_j']) <= 1e-3 * rl['energy_j'] for nl, rl in zip(proc('snn')['neuro']['layers'], $REPORT['layers']))" \
        "all(abs(nc['energy_j'] - rc['energy_j']) <= 1e-3 * rc['energy_j'] for nl, rl in zip(proc('snn')['neuro']['layers'], $REPORT['layers']) for nc, rc in zip(nl['cores'], rl['cores']))" \
        "abs(proc('snn')['neuro']['energy']['per_timestep_j'] * proc('snn')['neuro']['timesteps_per_sec'] - proc('snn')['neuro']['energy']['watts']) <= 1e-6 * proc('snn')['neuro']['energy']['watts']"
}
if snapshot loihi2 --neurons 300 --layers 2 --fan-in 40 --steps 3000 --seed 5; then
    same "loihi2" "$T/loihi2.json"
fi
if snapshot truenorth --target truenorth --neurons 600 --layers 2 --fan-in 40 --steps 2000 \
    --seed 7 --stdp; then
    same "truenorth, STDP" "$T/truenorth.json"
    jcheck "truenorth: many cores, synaptic updates counted" "$T/truenorth.json" \
        'sum(len(l["cores"]) for l in proc("snn")["neuro"]["layers"]) > len(proc("snn")["neuro"]["layers"])' \
        'proc("snn")["neuro"]["totals"]["syn_updates"] > 0'
fi
# A workload that is not spiking has no neuro object.
if [ -x "$TINYLM" ] &&
    timeout 120 "$NCTOP" --once --json --duration 60 -- "$TINYLM" --tokens 4 >"$T/tiny.json" \
        2>"$T/tiny.err"; then
    jcheck "tinylm: no neuro object" "$T/tiny.json" 'proc()["neuro"] is None'
fi
