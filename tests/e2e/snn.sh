#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The spiking-network workload (build/snn): its self-checks, determinism for a seed, one line
# and status 2 for a network that does not fit its target, a report whose per-core, per-layer
# and total counts and energies agree (and match the energy model applied to the counts),
# and a clean exit with the report on SIGTERM.
. "$(dirname "$0")/lib.sh"
SNN=$BUILD/snn
if [ ! -x "$SNN" ]; then
    fail "build" "$SNN missing: run make"
    exit 1
fi
SMALL=(--neurons 300 --layers 2 --fan-in 40 --steps 3000 --quiet)

# 1. The closed-form checks.
if out=$("$SNN" --selftest 2>&1) && ! echo "$out" | grep -q '^FAIL'; then
    pass "snn --selftest: $(echo "$out" | grep -c '^ok  ') checks ok"
else
    fail "snn --selftest" "$(echo "$out" | grep -v '^ok  ' | tail -n 5 | tr '\n' ' ')"
fi

# 2. Determinism: two runs of one command write the same report; another seed does not.
"$SNN" "${SMALL[@]}" --seed 5 --report "$T/a.json" &&
    "$SNN" "${SMALL[@]}" --seed 5 --report "$T/b.json" &&
    "$SNN" "${SMALL[@]}" --seed 6 --report "$T/c.json"
if cmp -s "$T/a.json" "$T/b.json" && ! cmp -s "$T/a.json" "$T/c.json"; then
    pass "one seed, one report (and another seed another)"
else
    fail "determinism" "$(diff "$T/a.json" "$T/b.json" | head -n 4 | tr '\n' ' ')"
fi
if "$SNN" "${SMALL[@]}" --seed 5 --stdp --target truenorth --report "$T/d.json" &&
    "$SNN" "${SMALL[@]}" --seed 5 --stdp --target truenorth --report "$T/e.json" &&
    cmp -s "$T/d.json" "$T/e.json"; then
    pass "deterministic with STDP on truenorth"
else
    fail "determinism with STDP on truenorth"
fi

# --cost-ab runs a twin of the network beside it (the bench's measure of the probe's cost): the
# network itself runs exactly as without it, and each block's share is printed.
if "$SNN" --neurons 300 --layers 2 --fan-in 40 --steps 3000 --seed 5 --cost-ab 64 \
    --report "$T/ab.json" 2>"$T/ab.err" &&
    cmp -s "$T/a.json" "$T/ab.json" &&
    grep -q "instrumentation cost -\?[0-9.]*% of a timestep (median of 47 blocks of 64" "$T/ab.err"; then
    pass "--cost-ab: the same report as a plain run, and the cost over 47 blocks"
else
    fail "--cost-ab" "$(tail -n 2 "$T/ab.err" | tr '\n' ' ')"
fi

# 3. Networks that do not fit: one line on stderr, status 2, nothing on stdout. The first is
# refused before it is built (one neuron's fan-in beyond TrueNorth's 256 axons), the second
# by the bound on cores, the third only by the exact placement (axons shared per core).
nofit() {
    local name=$1 out err rc
    shift
    out=$("$SNN" --steps 10 "$@" 2>"$T/err")
    rc=$?
    err=$(cat "$T/err")
    if [ "$rc" -eq 2 ] && [ -z "$out" ] && [ "$(wc -l <"$T/err")" -eq 1 ] &&
        echo "$err" | grep -q '^snn: '; then
        pass "does not fit ($name): status 2, one line: $err"
    else
        fail "does not fit ($name)" "status $rc, stderr: $(head -c 300 "$T/err" | tr '\n' ' ')"
    fi
}
nofit "truenorth fan-in" --target truenorth --net brunel --neurons 30000
nofit "loihi2 cores" --target loihi2 --neurons 1000000 --layers 32
nofit "truenorth axons" --target truenorth --neurons 2500 --layers 4

# 4. The report agrees with itself and with the energy model applied to its counts.
consistent() {
    local name=$1 file=$2
    jcheck "$name" "$file" \
        'd["timesteps"] == 3000' \
        'all(sum(c[k] for c in l["cores"]) == l[k] for l in d["layers"] for k in ("spikes", "synops", "neuron_updates", "neuron_updates_active", "packets", "hops", "syn_updates", "neurons"))' \
        'all(sum(l[k] for l in d["layers"]) == d["totals"][k] for k in ("spikes", "synops", "neuron_updates", "neuron_updates_active", "packets", "hops", "syn_updates", "neurons"))' \
        'all(l["neuron_updates"] == l["neurons"] * d["timesteps"] for l in d["layers"])' \
        'all(abs(sum(c["energy_j"] for c in l["cores"]) - l["energy_j"]) <= 1e-9 * l["energy_j"] for l in d["layers"])' \
        'abs(sum(l["energy_j"] for l in d["layers"]) - d["totals"]["energy_j"]) <= 1e-9 * d["totals"]["energy_j"]' \
        'd["totals"]["spikes"] > 0 and d["totals"]["synops"] > 0 and d["totals"]["energy_j"] > 0'
}
consistent "report totals: per core = per layer = total (loihi2)" "$T/a.json"
consistent "report totals: per core = per layer = total (truenorth, STDP)" "$T/d.json"
# energy = sum of count x cost over the model's known terms (static power unknown: left out)
jcheck "report energy = the model applied to the counts (loihi2)" "$T/a.json" \
    'd["energy_model"]["static_w_per_core"] is None and d["energy_model"]["missing"] == ["static"]' \
    'all(abs(c["synops"] * d["energy_model"]["synop_j"] + c["syn_updates"] * d["energy_model"]["syn_update_j"] + c["neuron_updates_active"] * d["energy_model"]["neuron_active_j"] + (c["neuron_updates"] - c["neuron_updates_active"]) * d["energy_model"]["neuron_idle_j"] + c["packets"] * d["energy_model"]["packet_j"] + c["hops"] * d["energy_model"]["hop_j"] - c["energy_j"]) <= 1e-3 * c["energy_j"] for l in d["layers"] for c in l["cores"])'
# placement: loihi2 holds 8192 neurons per core, so each 300-neuron layer is one core, and
# a spike from core A to core B costs |dx| + |dy| hops on the 8-wide mesh
jcheck "placement: one loihi2 core per layer, row-major, hops = Manhattan distance" "$T/a.json" \
    '[c["core"] for l in d["layers"] for c in l["cores"]] == list(range(len(d["layers"])))' \
    'all(l["hops"] == l["packets"] for l in d["layers"][:-2])' \
    'd["layers"][-2]["hops"] == 0 and d["layers"][-1]["hops"] == 0'
jcheck "placement: truenorth cores hold at most 256 neurons" "$T/d.json" \
    'all(c["neurons"] <= 256 for l in d["layers"] for c in l["cores"])' \
    'd["totals"]["cores"] > len(d["layers"]) and d["totals"]["syn_updates"] > 0'

# 5. SIGTERM ends a run that has no limit cleanly, with its report.
"$SNN" --neurons 200 --layers 1 --quiet --report "$T/sig.json" &
pid=$!
PIDS+=("$pid")
if wait_for 10 test -e "/dev/shm/nctop-$pid"; then
    kill -TERM "$pid"
    wait "$pid"
    rc=$?
    if [ "$rc" -eq 0 ] && [ -s "$T/sig.json" ]; then
        jcheck "SIGTERM: exit 0 and a report" "$T/sig.json" 'd["timesteps"] > 0'
    else
        fail "SIGTERM: exit 0 and a report" "status $rc"
    fi
else
    fail "SIGTERM" "no segment /dev/shm/nctop-$pid within 10 s"
fi

# 6. Usage errors: status 2, one line.
for args in "--target loihi3" "--net ring" "--neurons 5" "--dt-us 0" "--bogus"; do
    # shellcheck disable=SC2086
    "$SNN" $args >/dev/null 2>"$T/err"
    rc=$?
    if [ "$rc" -eq 2 ] && [ "$(wc -l <"$T/err")" -eq 1 ]; then
        pass "usage error '$args': status 2, one line"
    else
        fail "usage error '$args'" "status $rc: $(head -c 200 "$T/err")"
    fi
done

# 7. nctop's counters equal the runtime's own counts (the snapshot is taken when snn exits).
if [ -x "$NCTOP" ] &&
    timeout 120 "$NCTOP" --once --json --duration 60 -- "$SNN" "${SMALL[@]}" --seed 5 \
        --report "$T/nc.json" >"$T/once.json" 2>"$T/once.err"; then
    cp "$T/nc.json" "$T/nc-report.json"
    jcheck "nctop's counters = the report's counts (totals, layers, cores), kernels on loihi2" \
        "$T/once.json" \
        'proc("snn")["counters"]["spikes"] == json.load(open(sys.argv[1].replace("once.json", "nc-report.json")))["totals"]["spikes"]' \
        'all(proc("snn")["counters"]["layers.%d.%s" % (l["index"], k)] == l[k] for l in json.load(open(sys.argv[1].replace("once.json", "nc-report.json")))["layers"] for k in ("spikes", "synops", "neuron_updates", "hops"))' \
        'all(proc("snn")["counters"]["layers.%d.core.%d.synops" % (l["index"], c["core"])] == c["synops"] for l in json.load(open(sys.argv[1].replace("once.json", "nc-report.json")))["layers"] for c in l["cores"])' \
        'set(k["name"] for k in proc("snn")["kernels"]) >= {"synaptic_integration", "neuron_update", "spike_routing"} and all(k["backend"] == "loihi2" for k in proc("snn")["kernels"])'
else
    fail "nctop --once -- snn" "$(tail -n 3 "$T/once.err" | tr '\n' ' ')"
fi
