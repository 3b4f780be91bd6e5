#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# nctop replay over the committed sample files (sample-data/, made by make-samples.sh): each
# format loads with the figures it holds, malformed lines are reported with file and line,
# and replay opens the display like live mode, marks the end of the input and quits on q.
. "$(dirname "$0")/lib.sh"
need_build
S=$ROOT/sample-data
lat=$(ls "$S"/*-latency.jsonl | head -n 1)
mem=$(ls "$S"/*-memory.jsonl | head -n 1)

"$NCTOP" replay --once --json "$S/tinylm.nctrec" >"$T/rec.json" 2>"$T/rec.err"
jcheck "sample_recording" "$T/rec.json" \
    'proc("tinylm")["counters"]["tokens"] == 48' \
    'row(proc("tinylm"), "latency", "step/forward")["count"] > 0' \
    'row(proc("tinylm"), "memory", "Model Weights")["bytes"] > 0' \
    'd["timestamp"].startswith("20")'
check "sample_recording_clean" test ! -s "$T/rec.err"

"$NCTOP" replay --once --json "$lat" "$mem" >"$T/log.json" 2>"$T/log.err"
jcheck "sample_log_pair" "$T/log.json" \
    'len(d["processes"]) == 1' \
    'row(proc("tinylm"), "latency", "step")["average_ms"] > 0' \
    'row(proc("tinylm"), "latency", "step/forward/block 0")["level"] == 2' \
    'row(proc("tinylm"), "memory", "KV Cache")["capacity_bytes"] > 0'

"$NCTOP" replay --once --json "$S/tinylm.profile.jsonl" >"$T/prof.json" 2>"$T/prof.err"
jcheck "sample_profile_record" "$T/prof.json" \
    'row(proc("tinylm"), "latency", "step")["total"]["count"] >= 2' \
    'proc("tinylm")["counters"]["tokens"] > 0'

"$NCTOP" replay --once --json "$S/torch-tiny.trace.json" >"$T/torch.json" 2>"$T/torch.err"
jcheck "sample_pytorch_trace" "$T/torch.json" \
    'row(proc("CPU functions"), "latency", "step")["total"]["count"] == 3' \
    'any(r["path"].startswith("step/aten::") for r in proc("CPU functions")["latency"])'

# Malformed lines: one stderr line each with file and line; the rest loads.
{
    head -n 2 "$lat"
    echo '{"timestamp": "not a time", "rows": []}'
    echo 'garbage'
    sed -n 3p "$lat" | head -c 100
} >"$T/bad-latency.jsonl"
"$NCTOP" replay --once --json "$T/bad-latency.jsonl" >"$T/bad.json" 2>"$T/bad.err"
check "malformed_exit_0" test $? -eq 0
check "malformed_line_3" grep -q "bad-latency.jsonl:3: bad timestamp" "$T/bad.err"
check "malformed_line_4" grep -q "bad-latency.jsonl:4: not a JSON object" "$T/bad.err"
check "malformed_line_5_cut" grep -q "bad-latency.jsonl:5: last line cut short" "$T/bad.err"
jcheck "malformed_rest_loads" "$T/bad.json" 'row(proc(), "latency", "step")["average_ms"] > 0'
"$NCTOP" replay --once "$T/missing.nctrec" 2>"$T/missing.err"
check "missing_file_exit_1" test $? -eq 1
check "missing_file_message" grep -q "missing.nctrec: No such file" "$T/missing.err"

# The display: replay in a terminal (tmux), end of input marked, q quits.
if ! command -v tmux >/dev/null; then
    skip "tmux not installed: replay display not tested"
    exit 0
fi
SOCK=$T/tmux.sock
tmux -S "$SOCK" -f /dev/null new-session -d -x 120 -y 40 \
    "TERM=xterm-256color '$NCTOP' replay --speed 50 '$S/tinylm.nctrec'; echo EXITED \$?; sleep 5"
shown() { tmux -S "$SOCK" capture-pane -p | grep -q "$1"; }
if wait_for 10 shown "end of input"; then
    pass "replay_display_end_marked"
else
    fail "replay_display_end_marked" "$(tmux -S "$SOCK" capture-pane -p | tail -n 3 | tr '\n' ' ')"
fi
check "replay_display_shows_tree" shown "forward"
tmux -S "$SOCK" send-keys q
if wait_for 5 shown "EXITED 0"; then
    pass "replay_display_quits"
else
    fail "replay_display_quits" "$(tmux -S "$SOCK" capture-pane -p | tail -n 3 | tr '\n' ' ')"
fi
tmux -S "$SOCK" kill-server 2>/dev/null

# Issue 10: a replayed pid that a live process has now is not that process: the header shows
# no uptime (a live `sleep` with the trace's pid has been up for seconds) and no RSS.
sleep 600 &
live=$!
PIDS+=("$live")
echo "{\"traceEvents\":[{\"ph\":\"X\",\"name\":\"step\",\"pid\":$live,\"tid\":1,\"ts\":1,\"dur\":5}]}" \
    >"$T/live-pid.json"
old_uptime() { [ "$(awk '{print int($1)}' /proc/uptime)" -gt "$(($(awk '{print $22}' "/proc/$live/stat") / $(getconf CLK_TCK) + 1))" ]; }
wait_for 10 old_uptime
tmux -S "$SOCK" -f /dev/null new-session -d -x 120 -y 40 \
    "TERM=xterm-256color '$NCTOP' replay '$T/live-pid.json'; echo EXITED \$?; sleep 5"
if wait_for 10 shown "pid $live"; then
    tmux -S "$SOCK" capture-pane -p >"$T/live-pid.txt"
    check "replay_live_pid_no_uptime" bash -c "! grep -E 'up +[0-9]{2}:[0-9]{2}:[0-9]{2}' '$T/live-pid.txt'"
    check "replay_live_pid_no_rss" bash -c "! grep -E 'RSS +[0-9]' '$T/live-pid.txt'"
else
    fail "replay_live_pid_shown" "$(tmux -S "$SOCK" capture-pane -p | head -n 3 | tr '\n' ' ')"
fi
tmux -S "$SOCK" send-keys q
wait_for 5 shown "EXITED 0"
tmux -S "$SOCK" kill-server 2>/dev/null

# test_issue_11: options may follow the file names (replay has no command to protect).
if "$NCTOP" replay "$ROOT/sample-data/tinylm.nctrec" --once --json >"$T/after.json" 2>"$T/after.err" &&
    "$PY" -c 'import json,sys; assert json.load(open(sys.argv[1]))["processes"]' "$T/after.json"; then
    pass "replay: options after the file names"
else
    fail "replay: options after the file names" "$(head -c 300 "$T/after.err")"
fi

# test_issue_11: a replay says so, and its clock is the recorded one: "replay" where a live
# process would say "live", the recording's time of day, and null for a trace that has none
# (never 1970).
"$NCTOP" replay --once --json "$ROOT/sample-data/20261122031405-latency.jsonl" >"$T/st.json" 2>/dev/null
jcheck "replayed log: state replay, the recorded time" "$T/st.json" \
    'proc()["state"] == "replay"' 'd["timestamp"].startswith("2026-11-22T03:14")'
"$NCTOP" replay --once --json "$ROOT/sample-data/torch-tiny.trace.json" >"$T/tr.json" 2>/dev/null
jcheck "replayed trace without a wall clock: timestamp null" "$T/tr.json" \
    'd["timestamp"] is None' 'proc()["state"] == "replay"'
"$NCTOP" replay --once "$ROOT/sample-data/torch-tiny.trace.json" >"$T/tr.txt" 2>/dev/null
check "replayed trace, text: no 1970" bash -c "head -n 1 '$T/tr.txt' | grep -q 'time of day unknown' && ! grep -q 1970 '$T/tr.txt'"

# test_issue_11 (point 6): the seed engine's own logs (sample-data/seed/, its row shapes: latency
# rows with label, level, last_ms and average_ms only; memory rows with its pool, kv and
# kv-cache figures), a latency log and a memory log opened a second apart.
slat=$(ls "$S"/seed/*-latency.jsonl)
smem=$(ls "$S"/seed/*-memory.jsonl)
"$NCTOP" replay --once --json "$slat" "$smem" >"$T/seed.json" 2>"$T/seed.err"
check "seed logs: no problem" test ! -s "$T/seed.err"
jcheck "seed logs a second apart: one workload" "$T/seed.json" 'len(d["processes"]) == 1' \
    'proc()["state"] == "replay"' 'd["timestamp"].startswith("2025-10-12T09:45")'
jcheck "seed logs: statistics the file lacks are null, never 0" "$T/seed.json" \
    'all(r[k] is None and r["total"][k] is None for r in proc()["latency"] for k in ("count", "min_ms", "max_ms", "p50_ms", "p95_ms", "p99_ms", "total_ms"))' \
    'all(r["last_ms"] > 0 and r["average_ms"] > 0 for r in proc()["latency"])'
jcheck "seed logs: blocks are Forward Step's, never a flat softmax row's" "$T/seed.json" \
    'row(proc(), "latency", "Forward Step")["children"] == 4' \
    'row(proc(), "latency", "Forward Step/Block 4/mlp")["level"] == 2' \
    'row(proc(), "latency", "Softmax (kernel)")["children"] == 0' \
    'row(proc(), "latency", "Softmax (vendor)")["children"] == 0' \
    'not any(r["path"].startswith("Softmax (vendor)/") for r in proc()["latency"])'
jcheck "seed logs: memory tree, flat rows keep no children" "$T/seed.json" \
    'row(proc(), "memory", "Tokenizer")["children"] == 0' \
    'row(proc(), "memory", "Host Memory (MB)/KV Pool (Reserved)/kv-cache")["current_total_mb"] == 4' \
    'row(proc(), "memory", "Forward Step/Block 4/mlp")["level"] == 2'
jcheck "seed logs: the pool, kv and kv-cache figures replay" "$T/seed.json" \
    'row(proc(), "memory", "Forward Step")["current_pool_mb"] == 6' \
    'row(proc(), "memory", "Forward Step")["peak_pool_mb"] == 6.25' \
    'row(proc(), "memory", "Forward Step")["current_kv_mb"] == 2' \
    'row(proc(), "memory", "Forward Step")["current_kv_cache_mb"] == 1' \
    'row(proc(), "memory", "Model Weights")["current_pool_mb"] == 0'
# The text snapshot: the same tree, and '-' for what the file lacks.
"$NCTOP" replay --once "$slat" "$smem" >"$T/seed.txt" 2>&1
seed_text_tree() {
    awk '/^LATENCY/ { l = 1 } /^MEMORY/ { l = 0 } l && /^Forward Step / { f = NR }
         l && /^  Block 1 / { b = NR }
         l && /^Softmax \(kernel\) / { s = NR } END { exit !(f && b == f + 1 && s > b) }' "$T/seed.txt"
}
check "seed logs, text: Block 1 under Forward Step, before the softmax rows" seed_text_tree
check "seed logs, text: absent statistics are '-'" \
    grep -qE '^Embedding +[0-9.]+us +[0-9.]+us +- +- +- +- +- +-$' "$T/seed.txt"
check "seed logs, text: one workload" grep -q '1 process$' "$T/seed.txt"

# A value of the wrong type: one line with file, line, row and field; the row or the figure
# is left out, nothing else.
sed -e '4s/"last_ms":0.023,/"last_ms":"12",/' \
    -e '4s/"label":"Output","last_ms":0.61,"average_ms":0.6,"level":0/"label":"Output","last_ms":0.61,"average_ms":0.6,"level":"x"/' \
    "$slat" >"$T/20251012094512-latency.jsonl"
"$NCTOP" replay --once --json "$T/20251012094512-latency.jsonl" >"$T/wt.json" 2>"$T/wt.err"
check "wrong type: exit 0" test $? -eq 0
check "wrong type: last_ms named with file and line" \
    grep -q "20251012094512-latency.jsonl:4: row 1 (Embedding): last_ms is a string, not a number" "$T/wt.err"
check "wrong type: level named with file and line" \
    grep -q "20251012094512-latency.jsonl:4: row 25 (Output): level is a string, not a number" "$T/wt.err"
check "wrong type: one line each" test "$(wc -l <"$T/wt.err")" -eq 2
jcheck "wrong type: the figure is null, the rest loads" "$T/wt.json" \
    'row(proc(), "latency", "Embedding")["last_ms"] is None' \
    'row(proc(), "latency", "Embedding")["average_ms"] == 0.022' \
    'row(proc(), "latency", "Sampling")["average_ms"] == 0.09' \
    'len(proc()["latency"]) == 27'

# nctop's own memory rows carry the seed's figures (a pool's used bytes are pool bytes, a KV
# cache's KV-cache bytes), in its log and its snapshot, and they replay back.
mkdir -p "$T/own"
METRICS_LOG_ENABLED=1 METRICS_LOG_INTERVAL_SECS=1 "$NCTOP" --headless --duration 2.5 \
    --log-dir "$T/own" -- "$TINYLM" --quiet --layers 2 --dim 256 --ffn 704 --vocab 4096 --gen 16 \
    --seed 7 >/dev/null 2>"$T/own.err"
# The last line of the log as a snapshot of one process, for jcheck.
"$PY" -c 'import json, sys
rows = json.loads(open(sys.argv[1]).read().splitlines()[-1])["rows"]
json.dump({"processes": [{"label": "tinylm", "memory": rows}]}, sys.stdout)' "$T"/own/*-memory.jsonl \
    >"$T/own-last.json"
jcheck "own log: memory rows carry pool, kv and kv-cache figures" "$T/own-last.json" \
    'all(k in r for r in proc()["memory"] for k in ("current_pool_mb", "peak_pool_mb", "current_kv_mb", "peak_kv_mb", "current_kv_cache_mb", "peak_kv_cache_mb"))' \
    'all(r["current_pool_mb"] == r["current_total_mb"] for r in proc()["memory"] if r["path"].startswith("Memory Pools"))' \
    'all(r["current_kv_cache_mb"] == r["current_total_mb"] for r in proc()["memory"] if r["path"].startswith("KV Cache"))' \
    'row(proc(), "memory", "Model Weights")["current_pool_mb"] == 0'
"$NCTOP" replay --once --json "$T"/own/*-memory.jsonl >"$T/own-replay.json" 2>/dev/null
own_parts_back() {
    "$PY" - "$T/own-last.json" "$T/own-replay.json" <<'PYEOF'
import json, sys
keys = ("current_pool_mb", "peak_pool_mb", "current_kv_mb", "peak_kv_mb", "current_kv_cache_mb",
        "peak_kv_cache_mb")
logged = {r["path"]: r for r in json.load(open(sys.argv[1]))["processes"][0]["memory"]}
back = {r["path"]: r for r in json.load(open(sys.argv[2]))["processes"][0]["memory"]}
assert logged and back, "no rows"
for path, r in logged.items():
    assert path in back, "row %r lost" % path
    for k in keys:
        assert back[path][k] == r[k], "%s %s: %r, logged %r" % (path, k, back[path][k], r[k])
PYEOF
}
check "own log: the figures replay back" own_parts_back

# test_issue_14: a ProfileRecord file keeps every metric it holds: the four seed metrics of a
# spiking workload with its target and chip, a path as a tree, each label set its own series,
# an unknown metric as a value; a line it cannot use is one stderr line with file and line.
cat >"$T/snn.profile.jsonl" <<'PEOF'
{"ts_ms":1795317246014,"metric":"latency_ms","value":2.5,"labels":{"pid":"7","label":"snn","target":"loihi2","chip":"sim","path":"timestep/neuron_update"}}
{"ts_ms":1795317246014,"metric":"spikes_per_sec","value":1000,"labels":{"pid":"7","label":"snn","target":"loihi2","chip":"sim"}}
{"ts_ms":1795317247014,"metric":"spikes_per_sec","value":1000,"labels":{"pid":"7","label":"snn","target":"loihi2","chip":"sim"}}
{"ts_ms":1795317247014,"metric":"energy_mj","value":0.75,"labels":{"pid":"7","label":"snn","target":"loihi2","chip":"sim"}}
{"ts_ms":1795317247014,"metric":"buffer_occupancy_pct","value":12.5,"labels":{"pid":"7","label":"snn","target":"loihi2","path":"layers.1.spike_queue"}}
{"ts_ms":1795317247014,"metric":"buffer_occupancy_pct","value":40,"labels":{"pid":"7","label":"snn","target":"loihi2","path":"layers.2.spike_queue"}}
{"ts_ms":1795317247014,"metric":"temperature_c","value":41,"labels":{"pid":"7","label":"snn","sensor":"die"}}
{"ts_ms":1795317247014,"metric":"latency_ms","labels":{"pid":"7"}}
PEOF
"$NCTOP" replay --once --json "$T/snn.profile.jsonl" >"$T/snnp.json" 2>"$T/snnp.err"
jcheck "profile_record_keeps_every_metric" "$T/snnp.json" \
    'proc("snn")["attributes"] == {"target": "loihi2", "chip": "sim"}' \
    'row(proc("snn"), "latency", "timestep/neuron_update")["total"]["count"] == 1' \
    'proc("snn")["rates"]["spikes_per_sec"] == 1000' \
    '{"name": "energy_mj", "value": 0.75, "unit": "mJ"} in proc("snn")["values"]' \
    '{"name": "buffer_occupancy_pct{path=layers.2.spike_queue}", "value": 40, "unit": "%"} in proc("snn")["values"]' \
    '{"name": "temperature_c{sensor=die}", "value": 41, "unit": "C"} in proc("snn")["values"]'
check "profile_record_bad_line_named" grep -q "snn.profile.jsonl:8: ProfileRecord without a numeric value" "$T/snnp.err"
