#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# GET /healthz on the --prometheus listener, with curl: 200 and the workload while tinylm
# runs; 503 naming it when it is stopped (stale) and when it is killed (exited); the GPUs of
# the fake NVML as targets, and 503 with NVML's reason when it fails; a spiking workload's
# neuromorphic target with its workload.
. "$(dirname "$0")/lib.sh"
need_build
SNN=$BUILD/snn
FAKE=$BUILD/tests/libfake_nvml.so
command -v curl >/dev/null || { skip "curl is not installed"; exit 77; }

free_port() {
    "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# get NAME PORT: GET /healthz into $T/NAME.json, its status in $T/NAME.code
get() {
    curl -s -m 5 -o "$T/$1.json" -w '%{http_code}' "http://127.0.0.1:$2/healthz" >"$T/$1.code"
}
code() { cat "$T/$1.code"; }
# until_code NAME PORT CODE SECONDS: poll /healthz until it answers CODE
until_code() {
    local name=$1 port=$2 want=$3 limit=$4
    wait_for "$limit" sh -c "curl -s -m 5 -o '$T/$name.json' -w '%{http_code}' \
        'http://127.0.0.1:$port/healthz' | grep -qx '$want'"
}

# Wide enough that its events (about 0.2 M/s) fit in the ring between two drains on a loaded
# machine: the tiny model's 1.75 M/s can fill it while two CPU hogs keep nctop waiting, and
# the loss it then reports rightly makes nctop "degraded", which is not what is tested here.
LM=(--layers 2 --dim 256 --heads 4 --kv-heads 2 --ffn 512 --vocab 4096 --quiet)
"$TINYLM" "${LM[@]}" &
lm=$!
PIDS+=("$lm")
wait_for 10 test -e "/dev/shm/nctop-$lm" || { fail "tinylm publishes a segment"; exit 1; }
P=$(free_port)
NCTOP_NVML_LIB="$FAKE" "$NCTOP" --headless --prometheus "127.0.0.1:$P" -p "$lm" 2>"$T/nc.err" &
nc=$!
PIDS+=("$nc")
if ! until_code live "$P" 200 15; then
    fail "/healthz answers 200 for a live tinylm" "$(cat "$T/live.json" 2>/dev/null)"
    exit 1
fi
pass "/healthz answers 200 for a live tinylm"
# The GPU probe samples on a worker: its first answer may come after the first scrape.
wait_for 10 sh -c "curl -s -m 5 -o '$T/live.json' 'http://127.0.0.1:$P/healthz' && grep -q 'Fake T4' '$T/live.json' && grep -q '\"events\":[1-9]' '$T/live.json'"
jcheck "live: healthy, the workload with its figures, the fake GPUs as healthy targets" "$T/live.json" \
    '(d["healthy"], d["status"], d["reasons"], d["alerts"]) == (True, "ok", [], [])' \
    "[w['pid'] for w in d['workloads']] == [$lm]" \
    'd["workloads"][0]["healthy"] and d["workloads"][0]["state"] == "live" and d["workloads"][0]["reasons"] == []' \
    'd["workloads"][0]["events"] > 0 and d["workloads"][0]["last_event_age_s"] < 5' \
    'd["workloads"][0]["drop_rate_pct"] == 0 and d["workloads"][0]["invalid_window"] == 0' \
    '[(t["kind"], t["name"], t["healthy"]) for t in d["targets"]] == [("gpu", "Fake A100-SXM4-80GB", True), ("gpu", "Fake T4", True)]' \
    'abs(d["targets"][0]["memory_used_pct"] - 37.5) < 1e-9'
ctype=$(curl -s -m 5 -I "http://127.0.0.1:$P/healthz" | tr -d '\r' | awk -F': ' 'tolower($1) == "content-type" { print $2 }')
check "HEAD /healthz: JSON, no body" test "$ctype" = "application/json; charset=utf-8"

# Stopped: no events; after the stale bound (10 s, the window) it is unhealthy, and well
# again once it runs.
kill -STOP "$lm"
# (Events lost under load would make it 503 earlier: wait for the stale reason itself.)
if wait_for 25 sh -c "[ \"\$(curl -s -m 5 -o '$T/stale.json' -w '%{http_code}' \
        'http://127.0.0.1:$P/healthz')\" = 503 ] && grep -q 'stale: no event for' '$T/stale.json'"; then
    jcheck "stopped tinylm: 503, stale, named" "$T/stale.json" \
        'd["healthy"] is False and d["status"] == "unhealthy"' \
        'any(r.startswith("stale: no event for 1") for r in d["workloads"][0]["reasons"])' \
        'd["workloads"][0]["last_event_age_s"] >= 10' \
        "any(r.startswith('workload tinylm (pid $lm): stale') for r in d['reasons'])"
else
    fail "stopped tinylm: 503 and stale within 25 s" "$(cat "$T/stale.json")"
fi
kill -CONT "$lm"
check "resumed tinylm: 200 again" until_code resumed "$P" 200 15

# Killed: 503 with its reason.
{ kill -9 "$lm" && wait "$lm"; } 2>/dev/null
if until_code killed "$P" 503 15; then
    jcheck "killed tinylm: 503, exited, named in the reasons" "$T/killed.json" \
        'd["healthy"] is False' \
        'd["workloads"][0]["state"] == "exited" and d["workloads"][0]["healthy"] is False' \
        'd["workloads"][0]["reasons"][0].startswith("exited")' \
        "'workload tinylm (pid $lm): exited' in d['reasons']"
else
    fail "killed tinylm: 503 within 15 s" "$(cat "$T/killed.json")"
fi
kill "$nc"
wait "$nc" 2>/dev/null

# NVML failing: the GPU target is unwell with the driver's reason.
P=$(free_port)
# (-p of this shell: watching every workload would read other tests' workloads.)
NCTOP_NVML_LIB="$FAKE" NCTOP_FAKE_NVML_FAIL=init "$NCTOP" --headless --prometheus "127.0.0.1:$P" \
    -p $$ 2>/dev/null &
nc=$!
PIDS+=("$nc")
if until_code nvml "$P" 503 15; then
    jcheck "failing NVML: 503 with the GPU's reason" "$T/nvml.json" \
        '[t for t in d["targets"] if t["kind"] == "gpu" and t["name"] == "NVML"][0]["healthy"] is False' \
        'any(r.startswith("gpu: NVML: cannot start") for r in d["reasons"])'
else
    fail "failing NVML: 503 within 15 s" "$(cat "$T/nvml.json")"
fi
kill "$nc"
wait "$nc" 2>/dev/null

# A neuromorphic target: the spiking runtime says it runs on loihi2.
if [ -x "$SNN" ]; then
    P=$(free_port)
    NCTOP_NVML_LIB=/nonexistent.so "$NCTOP" --headless --prometheus "127.0.0.1:$P" -- "$SNN" \
        --quiet --realtime --neurons 200 --layers 2 2>/dev/null &
    nc=$!
    PIDS+=("$nc")
    if wait_for 15 sh -c "curl -s -m 5 'http://127.0.0.1:$P/healthz' | grep -q '\"kind\":\"target\"'"; then
        get snn "$P"
        jcheck "snn: its target loihi2 listed with its workload" "$T/snn.json" \
            '[t for t in d["targets"] if t["kind"] == "target"][0]["name"] == "loihi2"' \
            '[t for t in d["targets"] if t["kind"] == "target"][0]["workloads"] == [d["workloads"][0]["pid"]]' \
            '[t for t in d["targets"] if t["kind"] == "target"][0]["healthy"] == d["workloads"][0]["healthy"]'
    else
        fail "snn: a target in /healthz within 15 s"
    fi
    kill "$nc"
    wait "$nc" 2>/dev/null
else
    skip "snn: $SNN missing"
fi

# Read by another nctop: this one sees none of its events and says so (503).
"$TINYLM" "${LM[@]}" &
lm=$!
PIDS+=("$lm")
wait_for 10 test -e "/dev/shm/nctop-$lm"
NCTOP_NVML_LIB=/nonexistent.so "$NCTOP" --headless -p "$lm" 2>/dev/null &
first=$!
PIDS+=("$first")
wait_for 10 sh -c "timeout 5 '$NCTOP' -p $lm --once --json --duration 0.2 2>/dev/null | grep -q 'read by another nctop'"
P=$(free_port)
NCTOP_NVML_LIB=/nonexistent.so "$NCTOP" --headless --prometheus "127.0.0.1:$P" -p "$lm" 2>/dev/null &
nc=$!
PIDS+=("$nc")
if wait_for 15 sh -c "curl -s -m 5 'http://127.0.0.1:$P/healthz' | grep -q 'unwatched: events are read by another nctop'"; then
    get other "$P"
    check "read by another nctop: 503, unwatched, naming that nctop" \
        sh -c "[ $(code other) = 503 ] && grep -q 'pid $first' '$T/other.json'"
else
    fail "read by another nctop: unwatched within 15 s" "$(curl -s -m 5 "http://127.0.0.1:$P/healthz")"
fi
