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
# The ProfileRecord file of an SNN run: the four seed metrics, labelled with target and chip.
if NC_PROFILE_JSONL=$T/profile.jsonl timeout 120 "$NCTOP" --once --json --duration 60 -- "$SNN" \
    --quiet --neurons 300 --layers 2 --fan-in 40 --steps 3000 --seed 5 \
    --report "$T/prof-report.json" >"$T/prof.json" 2>"$T/prof.err"; then
    "$PY" -c 'import json, sys; print(json.dumps([json.loads(l) for l in open(sys.argv[1])]))' \
        "$T/profile.jsonl" >"$T/profile.json"
    jcheck "NC_PROFILE_JSONL: latency_ms, spikes_per_sec, buffer_occupancy_pct, energy_mj with target and chip" \
        "$T/profile.json" \
        '{"latency_ms", "spikes_per_sec", "buffer_occupancy_pct", "energy_mj"} <= {r["metric"] for r in d}' \
        'all(r["labels"]["target"] == "loihi2" and r["labels"]["chip"] for r in d)' \
        '"tokens_per_sec" not in {r["metric"] for r in d}' \
        '[r for r in d if r["metric"] == "spikes_per_sec"][-1]["value"] > 0' \
        "abs([r for r in d if r['metric'] == 'energy_mj'][-1]['value'] - 1e3 * json.load(open(sys.argv[1].replace('profile.json', 'prof-report.json')))['totals']['energy_j']) <= 1e-3 * [r for r in d if r['metric'] == 'energy_mj'][-1]['value']" \
        'len([r for r in d if r["metric"] == "buffer_occupancy_pct"]) >= 2'
else
    fail "NC_PROFILE_JSONL -- snn" "$(tail -n 3 "$T/prof.err" | tr '\n' ' ')"
fi
# Prometheus: per-layer spikes and synaptic ops (no core label), energy and power, promtool-clean.
if command -v promtool >/dev/null; then
    P=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    "$NCTOP" --headless --duration 60 --prometheus "$P" -- "$SNN" --quiet --realtime \
        --neurons 300 --layers 2 --fan-in 40 --target truenorth >"$T/prom.out" 2>"$T/prom.err" &
    promnc=$!
    PIDS+=("$promnc")
    scrape() {
        "$PY" -c 'import sys, urllib.request; sys.stdout.write(urllib.request.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[1], timeout=5).read().decode())' "$P" >"$T/metrics.txt" 2>/dev/null &&
            grep -q '^nctop_power_watts{' "$T/metrics.txt"
    }
    if wait_for 30 scrape; then
        check "prometheus: promtool check metrics passes with a spiking workload" \
            bash -c "promtool check metrics < '$T/metrics.txt'"
        check "prometheus: spikes and synaptic ops per layer, no core label; energy and power estimated" \
            bash -c "grep -q '^nctop_spikes_total{workload=\"snn\",layer=\"0\"} [0-9]' '$T/metrics.txt' &&
                grep -q '^nctop_synaptic_ops_total{workload=\"snn\",layer=\"1\"} [0-9]' '$T/metrics.txt' &&
                grep -q '^nctop_energy_joules_total{workload=\"snn\",source=\"estimated\"} [0-9]' '$T/metrics.txt' &&
                ! grep -q 'core' '$T/metrics.txt'"
    else
        fail "prometheus with snn" "no nctop_power_watts within 30 s: $(tail -n 2 "$T/prom.err" | tr '\n' ' ')"
    fi
    kill -TERM "$promnc" 2>/dev/null
    wait "$promnc" 2>/dev/null
else
    skip "promtool is not installed: the Prometheus checks"
fi
# JSONL logs: the latency log's lines carry the network, layer and core rows under "neuro";
# the last line's network counts are the report's (snn ends before nctop's last line).
if METRICS_LOG_INTERVAL_SECS=1 timeout 120 "$NCTOP" --headless --log --log-dir "$T/logs" -- "$SNN" \
    --quiet --realtime --steps 15000 --neurons 300 --layers 2 --fan-in 40 --seed 5 \
    --report "$T/logs-report.json" >/dev/null 2>"$T/logs.err"; then
    "$PY" -c 'import json, sys; print(json.dumps([json.loads(l) for l in open(sys.argv[1])]))' \
        "$(ls "$T"/logs/*-latency.jsonl | head -n 1)" >"$T/loglines.json"
    jcheck "JSONL logs: neuro rows (network, layers, cores) on the latency log's lines" \
        "$T/loglines.json" \
        'any("neuro" in l for l in d)' \
        'all(r["path"].startswith("network") and r["pid"] > 0 for l in d for r in l.get("neuro", []))' \
        '{r["level"] for r in [l for l in d if "neuro" in l][-1]["neuro"]} == {0, 1, 2}' \
        "[r for r in [l for l in d if 'neuro' in l][-1]['neuro'] if r['level'] == 0][0]['spikes'] <= json.load(open(sys.argv[1].replace('loglines.json', 'logs-report.json')))['totals']['spikes']"
else
    fail "JSONL logs -- snn" "$(tail -n 3 "$T/logs.err" | tr '\n' ' ')"
fi
# A workload that is not spiking has no neuro object.
if [ -x "$TINYLM" ] &&
    timeout 120 "$NCTOP" --once --json --duration 60 -- "$TINYLM" --tokens 4 >"$T/tiny.json" \
        2>"$T/tiny.err"; then
    jcheck "tinylm: no neuro object" "$T/tiny.json" 'proc()["neuro"] is None'
fi

# 2. The Neuro view of nctop --demo=snn in a private tmux server (no user config, 120x40):
# keys go in through send-keys and every check polls the screen with a bound.
if ! command -v tmux >/dev/null; then
    skip "tmux is not installed: the Neuro view's checks"
    exit 0
fi
SOCK=nctop-n$$
tm() { tmux -L "$SOCK" "$@"; }
cleanup_tmux() { tm kill-server 2>/dev/null; cleanup; }
trap cleanup_tmux EXIT
screen() { tm capture-pane -p -t t 2>/dev/null; }
has() { wait_for 15 sh -c "tmux -L '$SOCK' capture-pane -p -t t | grep -qE -- \"\$1\"" _ "$1"; }
hasnt() { wait_for 15 sh -c "! tmux -L '$SOCK' capture-pane -p -t t | grep -qE -- \"\$1\"" _ "$1"; }
keys() { tm send-keys -t t "$@"; }
step() {
    local name=$1
    shift
    if "$@"; then
        pass "$name"
    else
        fail "$name" "$(screen | grep -v '^$' | tail -n 14 | tr '\n' '|')"
    fi
}
# The line of a row by its name, and a column of it (1-based fields after the name's words).
line_of() { screen | grep -E -- "$1" | head -n 1; }

tm -f /dev/null new-session -d -s t -x 120 -y 40 -c "$T" \
    "NCTOP_SNN=$SNN NO_COLOR=1 $NCTOP --demo=snn"
step "demo snn: the header is a spiking workload's" \
    has 'timesteps/s [0-9.]+ +spikes/s [0-9.k]+ +synops/s [0-9.kM]+ +power [0-9.]+[munp]?W est'
step "demo snn: energy per timestep, no tokens/s" \
    sh -c "$(declare -f has wait_for); SOCK=$SOCK; has 'J/timestep [0-9.]+[munp]?J est' && ! tmux -L $SOCK capture-pane -p -t t | grep -q 'tokens/s'"
step "demo snn: the Neuro tab is offered" has ' 6 Neuro '
keys 6
step "key 6: the Neuro view's columns" has 'NEURONS +RATE Hz +SPIKES/s +SYNOPS/s +HOPS/s +BUF% +E/STEP +POWER'
step "network, layers and cores, live" has '▾ network +[0-9]'
has '▾ layer 0 ' && has 'core [0-9]+ '
step "figures: spikes/s and power on the network row" \
    has 'network +[0-9.k]+ +[0-9.]+ +[0-9.k]+ +[0-9.kM]+ +[0-9.k]+ +[-0-9.]+ +[0-9.]+[munp]J +[0-9.]+[munp]W'
step "the tab says the energy is the loihi2 model's" has 'energy: loihi2 model'
keys c
step "c collapses to the network" hasnt 'layer 0 '
keys '*'
step "* expands every layer and core" has 'core [0-9]+ '
# Sort by spikes/s: s steps through name, neurons, rate, spikes (the status line says each).
for col in name neurons rate spikes; do
    keys s
    has "sort: $col" || break
done
step "s sorts by spikes/s" has 'sort spikes( |$)'
# The layers' SPIKES/s, in screen order, never increase (polled: the figures are live).
sorted_layers() {
    tmux -L "$SOCK" capture-pane -p -t t | "$PY" -c '
import re, sys
def num(s):
    m = {"k": 1e3, "M": 1e6}
    return float(s[:-1]) * m[s[-1]] if s[-1] in m else float(s)
v = [num(l.split()[4]) for l in sys.stdin if re.match(r"^ +[^ ] layer [0-9]+ ", l)]
sys.exit(0 if len(v) >= 3 and all(a >= b for a, b in zip(v, v[1:])) else 1)'
}
step "layers in decreasing spikes/s" wait_for 15 sorted_layers
keys / l a y e r Space 2 Enter
step "/ finds layer 2" sh -c "tmux -L '$SOCK' capture-pane -p -t t | grep -qE '^ *.* layer 2 ' "
keys q
step "q quits" wait_for 15 sh -c "! tmux -L '$SOCK' has-session -t t 2>/dev/null || ! tmux -L '$SOCK' list-panes -t t -F '#{pane_current_command}' | grep -q nctop"
