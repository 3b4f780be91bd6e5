#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The spiking-network compiler (build/snnc): every pass runs and its report agrees with
# itself; one seed gives one image; a network that does not fit and an invalid description
# fail with status 2 and one line; the image runs in build/snn with the runtime's own counts;
# the loop mode; and nctop sees each compilation as a compile span with its passes, as many
# as the compiler's report says.
. "$(dirname "$0")/lib.sh"
SNNC=$BUILD/snnc
SNN=$BUILD/snn
EX=$ROOT/models/snnc/examples
if [ ! -x "$SNNC" ] || [ ! -x "$SNN" ]; then
    fail "build" "$SNNC or $SNN missing: run make"
    exit 1
fi

# 1. Every example that fits compiles for every target, and the report agrees with itself.
SELF='all(c["status"] == "ok" and [p["name"] for p in c["passes"]] == ["parse", "build", "quantize", "partition", "place", "route", "emit", "estimate"] for c in d["compilations"])' 
for t in loihi2 spinnaker2 truenorth cpu; do
    for f in ff brunel deep; do
        "$SNNC" "$EX/$f.snn" -t "$t" -o "$T/$f-$t.img" --report "$T/$f-$t.json" --quiet
        rc=$?
        [ "$rc" -eq 0 ] || fail "compile $f for $t" "status $rc"
    done
done
for t in loihi2 spinnaker2 truenorth cpu; do
    for f in ff brunel deep; do
        jcheck "report of $f on $t: 8 passes, pass times within the wall time, memory and figures consistent" \
            "$T/$f-$t.json" "$SELF" \
            'd["compilations_total"] == 1 and d["failed_total"] == 0' \
            'all(0 < sum(p["wall_ns"] for p in c["passes"]) <= c["wall_ns"] for c in d["compilations"])' \
            'all(all(p["wall_ns"] > 0 for p in c["passes"]) for c in d["compilations"])' \
            'all(max(p["mem_peak_bytes"] for p in c["passes"]) == c["peak_heap_bytes"] and c["peak_rss_bytes"] > 0 for c in d["compilations"])' \
            'all(sum(p["mem_delta_bytes"] for p in c["passes"]) > 0 and c["passes"][1]["mem_delta_bytes"] >= 14 * c["network"]["synapses"] for c in d["compilations"])' \
            'all(c["placement"]["cost_after"] <= c["placement"]["cost_before"] for c in d["compilations"])' \
            'all(abs(c["routing"]["hops_per_inference"] - c["placement"]["cost_after"]) <= 1e-6 * max(1, c["placement"]["cost_after"]) for c in d["compilations"])' \
            'all(c["image_bytes"] == __import__("os").path.getsize(sys.argv[1][:-5] + ".img") for c in d["compilations"])' \
            'all(c["estimate"]["energy_j"] > 0 and c["estimate"]["latency_s"] >= c["estimate"]["window_s"] for c in d["compilations"])'
    done
done
jcheck "quantization: loihi2 8-bit errs on ff (1.1 mV), not on brunel (1.25 = 20 / 16); cpu float only rounds" \
    "$T/ff-loihi2.json" 'd["compilations"][0]["quantization"]["format"] == "int8e" and 1e-3 < d["compilations"][0]["quantization"]["rms_rel"] < 0.02 and d["compilations"][0]["quantization"]["max_rel"] < 0.01'
jcheck "quantization: brunel on loihi2 is exact" "$T/brunel-loihi2.json" \
    'd["compilations"][0]["quantization"]["rms_rel"] == 0 and d["compilations"][0]["quantization"]["max_rel"] == 0'
jcheck "quantization: cpu float32 within float rounding" "$T/ff-cpu.json" \
    'd["compilations"][0]["quantization"]["bits"] == 0 and d["compilations"][0]["quantization"]["max_rel"] < 1e-7'
jcheck "placement: annealing lowers truenorth's expected hops, with its moves counted" \
    "$T/brunel-truenorth.json" \
    'd["compilations"][0]["placement"]["cost_after"] < 0.9 * d["compilations"][0]["placement"]["cost_before"]' \
    '0 < d["compilations"][0]["placement"]["accepted"] <= d["compilations"][0]["placement"]["iterations"]'

# 2. One seed, one image; another annealer seed, another placement.
"$SNNC" "$EX/ff.snn" -t truenorth -o "$T/d1.img" --quiet &&
    "$SNNC" "$EX/ff.snn" -t truenorth -o "$T/d2.img" --quiet &&
    "$SNNC" "$EX/ff.snn" -t truenorth -o "$T/d3.img" --place-seed 99 --quiet
if cmp -s "$T/d1.img" "$T/d2.img" && cmp -s "$T/d1.img" "$T/ff-truenorth.img" &&
    ! cmp -s "$T/d1.img" "$T/d3.img"; then
    pass "deterministic image for a seed (and another with --place-seed 99)"
else
    fail "deterministic image"
fi

# 3. Failures: status 2, one line on stderr, nothing on stdout, the report says where.
failing() {
    local name=$1 want=$2 pass_name=$3 out rc
    shift 3
    out=$("$SNNC" "$@" --report "$T/fail.json" 2>"$T/err")
    rc=$?
    if [ "$rc" -eq 2 ] && [ -z "$out" ] && [ "$(wc -l <"$T/err")" -eq 1 ] &&
        grep -q -- "$want" "$T/err"; then
        pass "$name: status 2, one line: $(cat "$T/err")"
    else
        fail "$name" "status $rc: $(head -c 300 "$T/err" | tr '\n' ' ')"
    fi
    jcheck "$name: the report's status and failing pass" "$T/fail.json" \
        'd["failed_total"] == 1 and d["compilations"][0]["status"] == "error"' \
        "d[\"compilations\"][0][\"failed_pass\"] == \"$pass_name\" and d[\"compilations\"][0][\"passes\"][-1][\"status\"] == \"error\"" \
        'd["compilations"][0]["message"] == open(sys.argv[1].replace("fail.json", "err")).read().strip()[len("snnc: "):]'
}
failing "does not fit (truenorth axons)" "receives from 600 neurons; a truenorth core receives from at most 256 (max_axons)" \
    partition "$EX/dense_wide.snn" -t truenorth
cat >"$T/huge.snn" <<'EOT'
layer in input n=1000000 rate_hz=1
layer out lif n=1000000
connect in -> out fan_in=1 weight=1
EOT
failing "does not fit (loihi2 cores)" "the network needs 246 cores; loihi2 has 128 (cores per chip)" \
    partition "$T/huge.snn" -t loihi2
failing "invalid description (unknown layer)" "invalid.snn:8:15: unknown layer 'hiden'" parse \
    "$EX/invalid.snn"
printf 'layer a input n=10 rate_hz=x\n' >"$T/bad1.snn"
failing "invalid description (a number)" "bad1.snn:1:28: rate_hz: expected a number, got 'x'" parse \
    "$T/bad1.snn"
printf 'dt_us 100\nlayer a input n=10 rate_hz=5\nlayer b lif n=10\nconnect a -> b fan_in=11 weight=1\n' \
    >"$T/bad2.snn"
failing "invalid description (fan-in beyond the layer)" "bad2.snn:4:23: fan_in: 11 is out of range 1..10" \
    parse "$T/bad2.snn"
printf 'layer a input n=10 rate_hz=5\nlayer b lif n=10\nconnect a -> b fan_in=2 weight=1 delay_ms=0.01\n' \
    >"$T/bad3.snn"
failing "invalid description (a delay below one timestep)" "bad3.snn:3:43: delay_ms" parse "$T/bad3.snn"
"$SNNC" "$T/none.snn" >/dev/null 2>"$T/err"
check "a missing file: status 2" test $? -eq 2 -a "$(wc -l <"$T/err")" -eq 1

# 4. The image runs in the runtime with the runtime's own counts for the same network and
# seed: everything equal where the weights and placement are the same (cpu: float weights;
# truenorth with --anneal-iters 0: brunel's weights are exact and the placement is the
# runtime's row-major one); with annealing, the same spikes and synaptic events in every
# layer (placement does not change the dynamics) and fewer hops.
same_run() {
    local name=$1 img=$2 expr=$3
    shift 3
    "$SNN" --image "$img" --steps 2000 --quiet --report "$T/ri.json" &&
        "$SNN" "$@" --steps 2000 --quiet --report "$T/rr.json"
    cp "$T/rr.json" "$T/ri-rr.json"
    jcheck "$name" "$T/ri.json" "$expr"
}
RR='json.load(open(sys.argv[1].replace("ri.json", "ri-rr.json")))'
same_run "image = runtime: ff on cpu, every count of every core" "$T/ff-cpu.img" \
    "d[\"layers\"] == $RR[\"layers\"] and d[\"totals\"] == $RR[\"totals\"] and d[\"totals\"][\"spikes\"] > 0" \
    --net ff --layers 2 --neurons 300 --fan-in 40 --seed 5 --target cpu
"$SNNC" "$EX/brunel.snn" -t truenorth -o "$T/b0.img" --anneal-iters 0 --quiet
same_run "image = runtime: brunel on truenorth unannealed, every count of every core (hops too)" \
    "$T/b0.img" "d[\"layers\"] == $RR[\"layers\"] and d[\"totals\"][\"hops\"] > 0" \
    --net brunel --neurons 1000 --seed 1 --target truenorth
same_run "image = runtime: brunel on truenorth annealed, same spikes and synops per layer, fewer hops" \
    "$T/brunel-truenorth.img" \
    "all(a[k] == b[k] for a, b in zip(d[\"layers\"], $RR[\"layers\"]) for k in (\"spikes\", \"synops\", \"neuron_updates_active\", \"packets\")) and d[\"totals\"][\"hops\"] < 0.9 * $RR[\"totals\"][\"hops\"]" \
    --net brunel --neurons 1000 --seed 1 --target truenorth
jcheck "the compiler's placement gain predicts the runtime's (hops ratio within 5%)" "$T/ri.json" \
    "abs(d[\"totals\"][\"hops\"] / $RR[\"totals\"][\"hops\"] - json.load(open(sys.argv[1].replace(\"ri.json\", \"brunel-truenorth.json\")))[\"compilations\"][0][\"placement\"][\"cost_after\"] / json.load(open(sys.argv[1].replace(\"ri.json\", \"brunel-truenorth.json\")))[\"compilations\"][0][\"placement\"][\"cost_before\"]) < 0.05"
jcheck "the image's placement is the compiler's (core ids of the annealed image)" "$T/ri.json" \
    "sorted(c[\"core\"] for l in d[\"layers\"] for c in l[\"cores\"]) != list(range(500))"
cp "$T/ff-cpu.img" "$T/bad.img"
printf 'X' | dd of="$T/bad.img" bs=1 seek=200 conv=notrunc 2>/dev/null
"$SNN" --image "$T/bad.img" --steps 10 >/dev/null 2>"$T/err"
rc=$?
if [ "$rc" -eq 2 ] && [ "$(wc -l <"$T/err")" -eq 1 ] && grep -q checksum "$T/err"; then
    pass "a damaged image: status 2, one line: $(cat "$T/err")"
else
    fail "a damaged image" "status $rc: $(head -c 200 "$T/err")"
fi
"$SNN" --image "$T/ff-cpu.img" --seed 3 >/dev/null 2>"$T/err"
check "snn --image with a network option: status 2" test $? -eq 2

# 5. The loop: every description for every target, the failures reported, the last good
# image kept and runnable.
mkdir -p "$T/loop"
cp "$EX"/*.snn "$T/loop/"
"$SNNC" --loop "$T/loop" --targets loihi2,truenorth --rounds 1 --pause-ms 0 --quiet \
    --report "$T/loop.json" --image-out "$T/last.img"
check "loop: exit 0" test $? -eq 0
jcheck "loop: 5 descriptions x 2 targets, 3 failures (dense on truenorth, invalid twice)" "$T/loop.json" \
    'd["compilations_total"] == 10 and d["failed_total"] == 3' \
    'sorted((c["model"], c["target"]) for c in d["compilations"] if c["status"] == "error") == [("broken", "loihi2"), ("broken", "truenorth"), ("dense600", "truenorth")]'
check "loop: the last good image runs" "$SNN" --image "$T/last.img" --steps 100 --quiet

# 6. nctop sees it: a compile span per compilation, a child per pass run, as many as the
# report says, their times the report's (within 1% or 2 us per instance, plus the slack the
# report measured around the SDK's own stamps: a preemption there is seen, not hidden), the
# counters.
if timeout 120 "$NCTOP" --once --json --duration 60 -- "$SNNC" --wait-attach 10 --loop "$T/loop" \
    --targets loihi2,truenorth --rounds 2 --pause-ms 0 --quiet --report "$T/nloop.json" \
    --image-out "$T/nlast.img" >"$T/once.json" 2>"$T/once.err"; then
    cp "$T/nloop.json" "$T/once-report.json"
    REP='json.load(open(sys.argv[1].replace("once.json", "once-report.json")))'
    jcheck "nctop: compile spans = the report's compilations, pass spans = its passes" "$T/once.json" \
        "row(proc(\"snnc\"), \"latency\", \"compile\")[\"total\"][\"count\"] == $REP[\"compilations_total\"] == 20" \
        "all(row(proc(\"snnc\"), \"latency\", \"compile/\" + n)[\"total\"][\"count\"] == sum(1 for c in $REP[\"compilations\"] for p in c[\"passes\"] if p[\"name\"] == n) for n in (\"parse\", \"build\", \"quantize\", \"partition\", \"place\", \"route\", \"emit\", \"estimate\"))" \
        "sum(r[\"total\"][\"count\"] for r in proc(\"snnc\")[\"latency\"] if r[\"level\"] == 1) == sum(len(c[\"passes\"]) for c in $REP[\"compilations\"])"
    jcheck "nctop: pass times = the report's (1% or 2 us per instance)" "$T/once.json" \
        "all(abs(row(proc(\"snnc\"), \"latency\", \"compile/\" + n)[\"total\"][\"total_ms\"] * 1e6 - sum(p[\"wall_ns\"] for c in $REP[\"compilations\"] for p in c[\"passes\"] if p[\"name\"] == n)) <= max(0.01 * sum(p[\"wall_ns\"] for c in $REP[\"compilations\"] for p in c[\"passes\"] if p[\"name\"] == n), 2000 * row(proc(\"snnc\"), \"latency\", \"compile/\" + n)[\"total\"][\"count\"]) for n in (\"parse\", \"build\", \"quantize\", \"partition\", \"place\", \"route\", \"emit\", \"estimate\"))" \
        "abs(row(proc(\"snnc\"), \"latency\", \"compile\")[\"total\"][\"total_ms\"] * 1e6 - sum(c[\"wall_ns\"] for c in $REP[\"compilations\"])) <= max(0.01 * sum(c[\"wall_ns\"] for c in $REP[\"compilations\"]), 2000 * 20)"
    # the compilations one by one (newest first): status and message, model and target, the
    # wall time, each pass's time and memory, the memory peak within the compilation
    CS='list(reversed(REP["compilations"]))'
    CS=${CS//REP/$REP}
    jcheck "nctop: compilations[] = the report's, one by one" "$T/once.json" \
        "proc(\"snnc\")[\"compilations_total\"] == 20 and len(proc(\"snnc\")[\"compilations\"]) == 20" \
        "all(n[\"status\"] == c[\"status\"] and n[\"message\"] == c[\"reason\"] for n, c in zip(proc(\"snnc\")[\"compilations\"], $CS))" \
        "all({k: v for k, v in n[\"attributes\"].items() if k != \"energy_j\"} == {\"model\": c[\"model\"], \"target\": c[\"target\"]} for n, c in zip(proc(\"snnc\")[\"compilations\"], $CS))" \
        "all((n[\"energy_j\"] is None) if c[\"status\"] == \"error\" else abs(n[\"energy_j\"] - c[\"estimate\"][\"energy_j\"]) <= 5e-4 * c[\"estimate\"][\"energy_j\"] for n, c in zip(proc(\"snnc\")[\"compilations\"], $CS))" \
        "[n[\"number\"] for n in proc(\"snnc\")[\"compilations\"]] == list(range(20, 0, -1))" \
        "all(abs(n[\"wall_ms\"] * 1e6 - c[\"wall_ns\"]) <= max(0.01 * c[\"wall_ns\"], 2000) + c[\"slack_ns\"] for n, c in zip(proc(\"snnc\")[\"compilations\"], $CS))" \
        "all([q[\"name\"] for q in n[\"passes\"]] == [p[\"name\"] for p in c[\"passes\"]] for n, c in zip(proc(\"snnc\")[\"compilations\"], $CS))" \
        "all(abs(q[\"wall_ms\"] * 1e6 - p[\"wall_ns\"]) <= max(0.01 * p[\"wall_ns\"], 2000) + p[\"slack_ns\"] and q[\"mem_bytes\"] == p[\"mem_delta_bytes\"] for n, c in zip(proc(\"snnc\")[\"compilations\"], $CS) for q, p in zip(n[\"passes\"], c[\"passes\"]))" \
        "all(n[\"mem_net_bytes\"] == 0 and n[\"mem_peak_bytes\"] == max(sum(p[\"mem_delta_bytes\"] for p in c[\"passes\"][:i + 1]) for i in range(len(c[\"passes\"]))) for n, c in zip(proc(\"snnc\")[\"compilations\"], $CS))" \
        "row(proc(\"snnc\"), \"latency\", \"compile\")[\"ok\"] == 14 and row(proc(\"snnc\"), \"latency\", \"compile\")[\"failed\"] == 6"
    jcheck "nctop: outcome counters and the annealer's progress" "$T/once.json" \
        "proc(\"snnc\")[\"counters\"][\"compilations\"] == 20 and proc(\"snnc\")[\"counters\"][\"compilations_failed\"] == $REP[\"failed_total\"] == 6" \
        "proc(\"snnc\")[\"counters\"][\"compilations_failed.partition\"] == 2 and proc(\"snnc\")[\"counters\"][\"compilations_failed.parse\"] == 4" \
        "proc(\"snnc\")[\"counters\"][\"place.accepted_moves\"] == sum(c[\"placement\"][\"accepted\"] for c in $REP[\"compilations\"] if c[\"placement\"])" \
        "proc(\"snnc\")[\"counters\"][\"place.iterations\"] == sum(c[\"placement\"][\"iterations\"] for c in $REP[\"compilations\"] if c[\"placement\"])" \
        "[v[\"value\"] for v in proc(\"snnc\")[\"values\"] if v[\"name\"] == \"compile.failure_pct\"] == [30]"
else
    fail "nctop --once -- snnc --loop" "$(tail -n 3 "$T/once.err" | tr '\n' ' ')"
fi

# 7. Prometheus against the report: compilations by target, model and result (so the
# failure rate), and each pass's histogram per target and model (count exact, sum within
# 1 % or 2 us per pass plus the report's slack), promtool-clean. The loop runs inside a
# shell that stays, so the exporter still serves the finished compiler's figures.
if command -v promtool >/dev/null; then
    P=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    "$NCTOP" --headless --duration 120 --prometheus "$P" -- /bin/sh -c \
        '"$0" --wait-attach 10 --loop "$1" --targets loihi2,truenorth --rounds 2 --pause-ms 0 --quiet --report "$2" --image-out "$3"; exec sleep 100' \
        "$SNNC" "$T/loop" "$T/ploop.json" "$T/plast.img" >"$T/prom.out" 2>"$T/prom.err" &
    promnc=$!
    PIDS+=("$promnc")
    scrape() {
        [ -s "$T/ploop.json" ] &&
            "$PY" -c 'import sys, urllib.request; sys.stdout.write(urllib.request.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[1], timeout=5).read().decode())' "$P" >"$T/pmetrics.txt" 2>/dev/null &&
            [ "$(awk '/^nctop_compilations_total\{workload="snnc"/ { n += $NF } END { print n + 0 }' "$T/pmetrics.txt")" -eq 20 ]
    }
    if wait_for 120 scrape; then
        check "prometheus: promtool check metrics passes with a compiler" \
            bash -c "promtool check metrics < '$T/pmetrics.txt'"
        "$PY" - "$T/pmetrics.txt" "$T/ploop.json" >"$T/pcheck.txt" 2>&1 <<'PYEOF'
import collections, json, re, sys
rep = json.load(open(sys.argv[2]))
series = {}
for line in open(sys.argv[1]):
    m = re.match(r'^([a-z_]+)\{(.*)\} (\S+)$', line.strip())
    if m and 'workload="snnc"' in m.group(2):
        labels = dict(re.findall(r'([a-z_]+)="((?:[^"\\]|\\.)*)"', m.group(2)))
        series[(m.group(1), tuple(sorted(labels.items())))] = float(m.group(3))
def get(name, **kw):
    return series.get((name, tuple(sorted(dict(kw, workload="snnc").items()))))
bad = []
want = collections.Counter((c["target"], c["model"], "ok" if c["status"] == "ok" else "error")
                           for c in rep["compilations"])
got = {(dict(k[1])["target"], dict(k[1])["model"], dict(k[1])["result"]): v
       for k, v in series.items() if k[0] == "nctop_compilations_total"}
for key in set(want) | set(got):
    if got.get(key, 0) != want.get(key, 0):
        bad.append("compilations %s: %s, report %s" % (key, got.get(key), want.get(key, 0)))
failed = sum(v for k, v in got.items() if k[2] == "error")
rate, rep_rate = failed / sum(got.values()), rep["failed_total"] / rep["compilations_total"]
if abs(rate - rep_rate) > 1e-12 or rep["compilations_total"] != 20:
    bad.append("failure rate %.4f, report %.4f" % (rate, rep_rate))
passes = collections.defaultdict(list)
for c in rep["compilations"]:
    for p in c["passes"]:
        passes[(c["target"], c["model"], p["name"])].append(p)
for (t, m, n), ps in passes.items():
    cnt = get("nctop_compile_pass_duration_seconds_count", target=t, model=m, **{"pass": n})
    tot = get("nctop_compile_pass_duration_seconds_sum", target=t, model=m, **{"pass": n})
    want_ns = sum(p["wall_ns"] for p in ps)
    tol = max(0.01 * want_ns, 2000 * len(ps)) + sum(p["slack_ns"] for p in ps)
    if cnt != len(ps) or tot is None or abs(tot * 1e9 - want_ns) > tol:
        bad.append("pass %s/%s/%s: count %s sum %s, report %d passes %d ns" % (t, m, n, cnt, tot, len(ps), want_ns))
print("; ".join(bad[:4]) if bad else "%d compilations, failure rate %.3f, %d pass series" % (
    sum(got.values()), rate, len(passes)))
sys.exit(1 if bad else 0)
PYEOF
        if [ $? -eq 0 ]; then
            pass "prometheus: compilations, failure rate and pass histograms = the report's ($(cat "$T/pcheck.txt"))"
        else
            fail "prometheus: compilations, failure rate and pass histograms = the report's" "$(tail -n 3 "$T/pcheck.txt" | tr '\n' ' ')"
        fi
    else
        fail "prometheus with snnc" "no 20 compilations within 120 s: $(tail -n 2 "$T/prom.err" | tr '\n' ' ')"
    fi
    kill -TERM "$promnc" 2>/dev/null
    wait "$promnc" 2>/dev/null
else
    skip "promtool is not installed: the Prometheus checks"
fi
