#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# OTLP/HTTP JSON export against a receiver on 127.0.0.1 (tests/e2e/otlp_receiver.py) that
# validates every payload against the OTLP JSON mapping: the values of the last batch against
# the --once snapshot of the same moment, spans against the snapshot's compilations, and the
# failures: connection refused, 500, 429 with Retry-After (seconds and HTTP-date), a receiver
# that never answers (the run still ends in bounded time; --batch keeps printing).
. "$(dirname "$0")/lib.sh"
need_build
RECV=$ROOT/tests/e2e/otlp_receiver.py
TINY=("$TINYLM" --layers 2 --dim 64 --heads 4 --kv-heads 2 --ffn 96 --vocab 512 --ctx 64
    --prompt 4 --gen 8 --quiet)

free_port() {
    "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# receiver NAME MODE [ARGS...]: start one in $T/NAME; sets RPORT and RPID.
receiver() {
    local name=$1 mode=$2
    shift 2
    mkdir -p "$T/$name"
    "$PY" "$RECV" --port-file "$T/$name/port" --log "$T/$name/log" --dir "$T/$name" \
        --mode "$mode" "$@" 2>"$T/$name/err" &
    RPID=$!
    PIDS+=("$RPID")
    if ! wait_for 10 test -s "$T/$name/port"; then
        fail "otlp_receiver_$name" "the receiver did not start: $(cat "$T/$name/err")"
        exit 1
    fi
    RPORT=$(cat "$T/$name/port")
}

# elapsed_since START_NS: seconds since then, as a decimal.
now_ns() { date +%s%N; }

# rcheck NAME DIR PYTHON-EXPR...: assertions over the receiver's log (`log`: its records,
# `metrics`/`traces`: the parsed bodies of each path in order) and the snapshot `snap`
# (DIR/snap.json when it exists).
rcheck() {
    local name=$1 dir=$2
    shift 2
    local out
    if out=$("$PY" - "$dir" "$@" <<'PYEOF' 2>&1
import json, os, sys
dir = sys.argv[1]
log = [json.loads(l) for l in open(os.path.join(dir, "log"))] if os.path.exists(
    os.path.join(dir, "log")) else []
def body(r):
    return json.load(open(r["file"]))
metrics = [body(r) for r in log if r["path"].endswith("/v1/metrics")]
traces = [body(r) for r in log if r["path"].endswith("/v1/traces")]
snap = json.load(open(os.path.join(dir, "snap.json"))) if os.path.exists(
    os.path.join(dir, "snap.json")) else None
def attrs(lst):
    return {a["key"]: list(a["value"].values())[0] for a in lst}
def resource(payload, label):
    for rm in payload["resourceMetrics"]:
        if attrs(rm["resource"]["attributes"]).get("nctop.workload") == label:
            return rm
    raise AssertionError("no resource for %r" % label)
def metric(rm, name):
    for m in rm["scopeMetrics"][0]["metrics"]:
        if m["name"] == name:
            return m
    raise AssertionError("no metric %r" % name)
def points(m):
    for k in ("sum", "gauge", "histogram"):
        if k in m:
            return m[k]["dataPoints"]
def point(m, want):
    for p in points(m):
        if all(attrs(p["attributes"]).get(k) == v for k, v in want.items()):
            return p
    raise AssertionError("no point %r in %s" % (want, m["name"]))
def errors():
    return [e for r in log for e in r["errors"]]
for expr in sys.argv[2:]:
    try:
        ok = eval("(" + expr + "\n)")
    except Exception as e:
        print("%s: %s: %s" % (expr, type(e).__name__, e)); sys.exit(1)
    if not ok:
        print("false: " + expr + " (requests: %s)" % [(r["seq"], round(r["t"] - log[0]["t"], 3),
              r["status"]) for r in log][:6]); sys.exit(1)
PYEOF
    ); then
        pass "$name"
    else
        fail "$name" "$(echo "$out" | tail -n 5 | tr '\n' ' ')"
    fi
}

# --- 1. a collector that accepts: every payload valid, the last one equal to the snapshot ----
receiver ok ok
t0=$(now_ns)
OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:$RPORT OTEL_METRIC_EXPORT_INTERVAL=250 \
    OTEL_SERVICE_NAME=otlp-e2e OTEL_EXPORTER_OTLP_HEADERS='x-nctop-test=a%20b,x-other = 2' \
    OTEL_RESOURCE_ATTRIBUTES='deployment.environment=e2e,team=ml%20infra,process.pid=1' \
    "$NCTOP" --once --json --duration 3 -o "$T/ok/snap.json" -- "${TINY[@]}" --requests 0 \
    >"$T/ok/out" 2>"$T/ok/nerr"
rc=$?
check "otlp_ok_exit" test "$rc" -eq 0 -a ! -s "$T/ok/nerr"
# The last batch is built at exit; wait for it to arrive (bounded).
wait_for 5 "$PY" -c "import json,sys; d=json.load(open('$T/ok/snap.json'));
l=open('$T/ok/log').read().splitlines(); sys.exit(len(l) < d['otlp']['exported'] + 1)"
rcheck "otlp_ok_payloads_valid" "$T/ok" 'len(metrics) >= 4' 'errors() == []' \
    'all(r["status"] == 200 for r in log)'
rcheck "otlp_ok_snapshot_counts" "$T/ok" 'snap["otlp"]["dropped"] == 0' \
    'snap["otlp"]["exported"] >= 3' 'snap["otlp"]["last_error"] is None' \
    'len(log) == snap["otlp"]["exported"] + snap["otlp"]["queued"] + 1'
rcheck "otlp_ok_request" "$T/ok" \
    'all(r["headers"]["x-nctop-test"] == "a b" and r["headers"]["x-other"] == "2" for r in log)' \
    'all(r["headers"]["content-type"] == "application/json" for r in log)' \
    'all(r["path"] == "/v1/metrics" for r in log)'
rcheck "otlp_ok_resource" "$T/ok" \
    'attrs(resource(metrics[-1], "tinylm")["resource"]["attributes"])["service.name"] == "otlp-e2e"' \
    'attrs(resource(metrics[-1], "tinylm")["resource"]["attributes"])["process.pid"] ==
        str(snap["processes"][0]["pid"])' \
    'attrs(resource(metrics[-1], "tinylm")["resource"]["attributes"])["host.name"] ==
        os.uname().nodename'
# OTEL_RESOURCE_ATTRIBUTES: on every resource (the workload's and nctop's own), decoded;
# nctop's own figure of a process (its pid, above) stays.
rcheck "otlp_ok_resource_attributes" "$T/ok" \
    'all(attrs(rm["resource"]["attributes"]).get("deployment.environment") == "e2e" and
         attrs(rm["resource"]["attributes"]).get("team") == "ml infra"
         for m in metrics for rm in m["resourceMetrics"])' \
    'all(attrs(rm["resource"]["attributes"])["process.pid"] != "1"
         for m in metrics for rm in m["resourceMetrics"])'
OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:$RPORT OTEL_RESOURCE_ATTRIBUTES='a=b,c' \
    "$NCTOP" --once --json --duration 1 -- "${TINY[@]}" --requests 1 >/dev/null 2>"$T/ra.err"
rc=$?
check "OTEL_RESOURCE_ATTRIBUTES malformed: exit 2, one line naming it" \
    sh -c "[ $rc -eq 2 ] && [ \$(wc -l <'$T/ra.err') -eq 1 ] &&
        grep -q \"OTEL_RESOURCE_ATTRIBUTES 'a=b,c'\" '$T/ra.err'"
# The last batch and the snapshot are of the same moment: every span path's count, the
# tokens, the events, the requests, RSS are equal.
rcheck "otlp_ok_values_match_snapshot" "$T/ok" \
    'len(snap["processes"][0]["latency"]) > 5' \
    'all(int(point(metric(resource(metrics[-1], "tinylm"), "nctop.span.duration"),
        {"nctop.path": r["path"]})["count"]) == r["total"]["count"]
        for r in snap["processes"][0]["latency"])' \
    'int(point(metric(resource(metrics[-1], "tinylm"), "nctop.tokens"),
        {"gen_ai.token.type": "output"})["asInt"]) == snap["processes"][0]["counters"]["tokens"]' \
    'int(points(metric(resource(metrics[-1], "tinylm"), "nctop.events"))[0]["asInt"]) ==
        snap["processes"][0]["events"]' \
    'int(points(metric(resource(metrics[-1], "tinylm"), "process.memory.usage"))[0]["asInt"]) ==
        snap["processes"][0]["host"]["rss_bytes"]' \
    'abs(points(metric(resource(metrics[-1], "tinylm"), "nctop.span.duration"))[0]["sum"] * 1e3 -
        [r for r in snap["processes"][0]["latency"] if r["path"] ==
        attrs(points(metric(resource(metrics[-1], "tinylm"), "nctop.span.duration"))[0]
        ["attributes"])["nctop.path"]][0]["total"]["total_ms"]) < 0.01'
# Histograms use the Prometheus default bounds (10 per decade, 10 us to 100 s).
R10='(1, 1.25, 1.6, 2, 2.5, 3.15, 4, 5, 6.3, 8)'
rcheck "otlp_ok_bounds_are_prometheus" "$T/ok" \
    "all(len(p['explicitBounds']) == 71 and all(abs(a - b) <= 1e-12 * b for a, b in
        zip(p['explicitBounds'], [m * 10.0**e for e in range(-5, 2) for m in $R10] + [100.0]))
        for p in points(metric(resource(metrics[-1], 'tinylm'), 'nctop.span.duration')))"
rcheck "otlp_ok_semantic_names" "$T/ok" \
    'all(n in [m["name"] for m in resource(metrics[-1], "tinylm")["scopeMetrics"][0]["metrics"]]
        for n in ["gen_ai.server.time_to_first_token", "gen_ai.server.time_per_output_token",
                  "process.cpu.time", "process.memory.usage", "nctop.kernel.duration"])' \
    'metric(resource(metrics[-1], "tinylm"), "gen_ai.server.time_to_first_token")["unit"] == "s"'

# A name: looked up off the loop; localhost reaches a collector on 127.0.0.1.
receiver lh ok
"$NCTOP" --otlp "http://localhost:$RPORT" --once --json --duration 1 -o "$T/lh/snap.json" \
    -- "${TINY[@]}" --requests 0 >"$T/lh/out" 2>"$T/lh/nerr"
rcheck "otlp_localhost" "$T/lh" 'len(metrics) >= 1' 'errors() == []' \
    'snap["otlp"]["dropped"] == 0'

# --- 2. traces: the span instances the store keeps (compilations), against the snapshot -----
if [ -x "$BUILD/snnc" ] && [ -x "$BUILD/snn" ]; then
    receiver tr ok
    NC_OTLP_ENDPOINT=http://127.0.0.1:$RPORT NC_OTLP_TRACES=1 OTEL_METRIC_EXPORT_INTERVAL=300 \
        "$NCTOP" --demo=compile --once --json --duration 4 -o "$T/tr/snap.json" \
        >"$T/tr/out" 2>"$T/tr/nerr"
    wait_for 5 "$PY" -c "import json,sys; d=json.load(open('$T/tr/snap.json'));
l=open('$T/tr/log').read().splitlines(); sys.exit(len(l) < d['otlp']['exported'] + 1)"
    rcheck "otlp_traces_valid" "$T/tr" 'len(traces) >= 1' 'errors() == []'
    rcheck "otlp_traces_match_compilations" "$T/tr" \
        'sorted(attrs(s["attributes"])["nctop.path"] for t in traces for rs in t["resourceSpans"]
            for ss in rs["scopeSpans"] for s in ss["spans"]) ==
         sorted(c["path"] for p in snap["processes"] for c in p.get("compilations", []))' \
        'snap["otlp"]["spans"] >= 1'
else
    skip "otlp_traces: snnc and snn are not built"
fi

# A spiking workload: spikes and synaptic operations per layer, equal to the snapshot's.
if [ -x "$BUILD/snn" ]; then
    receiver sn ok
    NC_OTLP_ENDPOINT=http://127.0.0.1:$RPORT OTEL_METRIC_EXPORT_INTERVAL=300 \
        "$NCTOP" --demo=snn --once --json --duration 2 -o "$T/sn/snap.json" \
        >"$T/sn/out" 2>"$T/sn/nerr"
    rcheck "otlp_snn_layers_match_snapshot" "$T/sn" 'errors() == []' \
        'len(snap["processes"][0]["neuro"]["layers"]) >= 2' \
        'all(int(point(metric(resource(metrics[-1], "snn"), "nctop.spikes"),
            {"nctop.layer": str(l["index"])})["asInt"]) == l["spikes"]
            for l in snap["processes"][0]["neuro"]["layers"])' \
        'all(int(point(metric(resource(metrics[-1], "snn"), "nctop.synaptic_ops"),
            {"nctop.layer": str(l["index"])})["asInt"]) == l["synops"]
            for l in snap["processes"][0]["neuro"]["layers"])' \
        'int(points(metric(resource(metrics[-1], "snn"), "nctop.timesteps"))[0]["asInt"]) ==
            snap["processes"][0]["neuro"]["timesteps"]'
else
    skip "otlp_snn: snn is not built"
fi

# --- 3. connection refused: nothing hangs, drops are counted --------------------------------
mkdir -p "$T/refused"
DEAD=$(free_port)
t0=$(now_ns)
NC_OTLP_ENDPOINT=http://127.0.0.1:$DEAD OTEL_METRIC_EXPORT_INTERVAL=100 \
    "$NCTOP" --once --json --duration 2 -o "$T/refused/snap.json" -- "${TINY[@]}" --requests 0 \
    >"$T/refused/out" 2>"$T/refused/nerr"
rc=$?
el=$((($(now_ns) - t0) / 1000000))
check "otlp_refused_exit" test "$rc" -eq 0
check "otlp_refused_bounded_time (${el} ms)" test "$el" -lt 8000
rcheck "otlp_refused_counted" "$T/refused" 'snap["otlp"]["dropped"] >= 1' \
    'snap["otlp"]["retries"] >= 1' 'snap["otlp"]["exported"] == 0' \
    '"connection refused" in snap["otlp"]["last_error"]'

# --- 4. 500: not retried (OTLP retries 429/502/503/504 only), every batch dropped ------------
receiver e500 fail500
NC_OTLP_ENDPOINT=http://127.0.0.1:$RPORT OTEL_METRIC_EXPORT_INTERVAL=200 \
    "$NCTOP" --once --json --duration 2 -o "$T/e500/snap.json" -- "${TINY[@]}" --requests 0 \
    >"$T/e500/out" 2>"$T/e500/nerr"
rcheck "otlp_500_dropped_not_retried" "$T/e500" 'snap["otlp"]["dropped"] >= 3' \
    'snap["otlp"]["retries"] == 0' 'snap["otlp"]["exported"] == 0' \
    '"HTTP 500" in snap["otlp"]["last_error"]' 'errors() == []'
# The Prometheus side counts them too.
receiver e500p fail500
PP=$(free_port)
NC_OTLP_ENDPOINT=http://127.0.0.1:$RPORT OTEL_METRIC_EXPORT_INTERVAL=200 \
    "$NCTOP" --headless --duration 20 --prometheus "$PP" -- "${TINY[@]}" --requests 0 \
    >"$T/e500p/out" 2>"$T/e500p/nerr" &
np=$!
PIDS+=("$np")
if wait_for 10 "$PY" -c "
import re, sys, urllib.request
t = urllib.request.urlopen('http://127.0.0.1:$PP/metrics', timeout=2).read().decode()
m = re.search(r'^nctop_otlp_batches_total\{outcome=\"dropped\"\} (\d+)$', t, re.M)
sys.exit(not (m and int(m.group(1)) >= 2 and 'nctop_otlp_retries_total 0' in t))"; then
    pass "otlp_500_prometheus_counter"
else
    fail "otlp_500_prometheus_counter" "$(grep -c . "$T/e500p/log" 2>/dev/null) requests seen"
fi
kill -TERM "$np" 2>/dev/null
wait "$np" 2>/dev/null

# --- 5. 429 with Retry-After: the next attempt waits at least that long ----------------------
for ra in 2 date+2; do
    n=ra${ra%%+*}
    receiver "$n" retry429 --retry-after "$ra" --fail-count 1
    NC_OTLP_ENDPOINT=http://127.0.0.1:$RPORT OTEL_METRIC_EXPORT_INTERVAL=500 \
        "$NCTOP" --once --json --duration 5 -o "$T/$n/snap.json" -- "${TINY[@]}" --requests 0 \
        >"$T/$n/out" 2>"$T/$n/nerr"
    # The date is 2 s past the next whole second: at least 2 s ahead of the answer.
    want=2.0
    rcheck "otlp_429_retry_after_${ra}" "$T/$n" 'log[0]["status"] == 429' \
        "log[1]['t'] - log[0]['t'] >= $want - 0.02" \
        'log[1]["status"] == 200' 'snap["otlp"]["retries"] == 1' \
        'snap["otlp"]["dropped"] == 0' 'snap["otlp"]["exported"] >= 3' 'errors() == []' \
        'open(log[0]["file"]).read() == open(log[1]["file"]).read()'
done

# --- 6. a collector that accepts and never answers: timeouts, and the loop goes on ----------
receiver hang hang
t0=$(now_ns)
NC_OTLP_ENDPOINT=http://127.0.0.1:$RPORT OTEL_METRIC_EXPORT_INTERVAL=200 \
    OTEL_EXPORTER_OTLP_TIMEOUT=400 \
    "$NCTOP" --once --json --duration 2 --debug-log "$T/hang/dbg" -o "$T/hang/snap.json" -- "${TINY[@]}" --requests 0 \
    >"$T/hang/out" 2>"$T/hang/nerr"
rc=$?
el=$((($(now_ns) - t0) / 1000000))
check "otlp_hang_once_exit" test "$rc" -eq 0
# 2 s of collection, then at most the exit grace (the 400 ms timeout): well under 6 s.
check "otlp_hang_once_bounded_time (${el} ms)" test "$el" -lt 6000
rcheck "otlp_hang_timeouts_counted" "$T/hang" 'snap["otlp"]["retries"] >= 1' \
    'snap["otlp"]["exported"] == 0' '"no answer within 400 ms" in snap["otlp"]["last_error"]'
mkdir -p "$T/hangb"
t0=$(now_ns)
NC_OTLP_ENDPOINT=http://127.0.0.1:$RPORT OTEL_METRIC_EXPORT_INTERVAL=100 \
    OTEL_EXPORTER_OTLP_TIMEOUT=60000 \
    "$NCTOP" --batch --json -n 6 -d 0.25 -- "${TINY[@]}" --requests 0 \
    >"$T/hangb/lines" 2>"$T/hangb/nerr"
el=$((($(now_ns) - t0) / 1000000))
# Six snapshots 0.25 s apart while every request hangs for good: the display's pace holds.
check "otlp_hang_batch_keeps_pace (${el} ms)" test "$el" -lt 10000 -a \
    "$(grep -c '"otlp"' "$T/hangb/lines")" -eq 6
check "otlp_hang_batch_queue_bounded" "$PY" -c "
import json
ls = [json.loads(l) for l in open('$T/hangb/lines')]
assert all(l['otlp']['queued'] <= 8 for l in ls), [l['otlp'] for l in ls]
assert ls[-1]['otlp']['dropped'] >= 1, ls[-1]['otlp']"

# --- 7. settings ------------------------------------------------------------------------------
out=$(OTEL_EXPORTER_OTLP_ENDPOINT=https://127.0.0.1:4318 "$NCTOP" --once 2>&1)
rc=$?
check "otlp_https_refused (exit $rc)" test "$rc" -eq 2
check "otlp_https_says_why" grep -q "TLS" <<<"$out"
out=$(OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 OTEL_METRIC_EXPORT_INTERVAL=soon \
    "$NCTOP" --once 2>&1)
check "otlp_bad_interval_refused" grep -q "OTEL_METRIC_EXPORT_INTERVAL" <<<"$out"
out=$("$NCTOP" --otlp 'http://127.0.0.1:99999' --once 2>&1)
check "otlp_bad_port_refused" grep -q "port" <<<"$out"
