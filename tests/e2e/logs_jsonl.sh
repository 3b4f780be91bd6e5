#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The JSONL logger and ProfileRecord file from the environment, in --headless: file names,
# the first empty line, rows of the contract, a real write error (ulimit -f: EFBIG) that
# stops one log with a warning while nctop and the other outputs go on, and replay of the log.
. "$(dirname "$0")/lib.sh"
need_build
LM="--quiet --layers 2 --dim 256 --ffn 704 --vocab 4096 --gen 16"

# stepped LOG N: the log has N lines or more and its last one shows the workload's steps (a
# latency log: "step" counted; a memory log: the KV cache). On a busy machine the workload may
# take seconds to reach its first step: a run is ended once nctop itself has logged its steps
# (bounded), not after a fixed time in which it may have made none.
stepped() {
    "$PY" - "$1" "$2" <<'PYEOF'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.endswith("\n")]
rows = lines[-1]["rows"] if lines else []
sys.exit(0 if len(lines) >= int(sys.argv[2]) and
         any((r["path"] == "step" and r.get("count", 0) > 0) or r["path"] == "KV Cache"
             for r in rows) else 1)
PYEOF
}
# end_when_stepped PID DIR: wait (60 s at most) until both logs in DIR have two intervals with
# the workload's steps, then end nctop as a user would (SIGTERM: it writes a last interval).
end_when_stepped() {
    local f
    wait_for 60 bash -c "ls '$2'/*-memory.jsonl >/dev/null" || true
    for f in "$2"/*-latency.jsonl "$2"/*-memory.jsonl; do
        [ -s "$f" ] && [ "$(stat -c %s "$f")" -lt 1000000 ] || continue
        wait_for 60 stepped "$f" 3 || echo "    $(basename "$f"): no steps logged in 60 s"
    done
    kill -TERM "$1" 2>/dev/null
    wait "$1"
}

mkdir -p "$T/logs"
# shellcheck disable=SC2086
METRICS_LOG_ENABLED=On METRICS_LOG_INTERVAL_SECS=1 NC_PROFILE_JSONL="$T/prof.jsonl" \
    "$NCTOP" --headless --duration 120 --log-dir "$T/logs" -- "$TINYLM" $LM 2>"$T/err1" &
nc=$!
PIDS+=("$nc")
end_when_stepped "$nc" "$T/logs"
check "log_run_exits_0" test "$?" -eq 0
lat=$(ls "$T"/logs/*-latency.jsonl 2>/dev/null | head -n 1)
mem=$(ls "$T"/logs/*-memory.jsonl 2>/dev/null | head -n 1)
check "log_files_named" test -n "$lat" -a -n "$mem" -a "${lat%-latency.jsonl}" = "${mem%-memory.jsonl}"
check "log_name_is_utc_stamp" bash -c "basename '$lat' | grep -qE '^[0-9]{14}-latency.jsonl$'"
check_lines() {
    "$PY" - "$1" "$2" <<'PYEOF'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
kind = sys.argv[2]
assert lines[0]["rows"] == [], "first line has rows"
assert len(lines) >= 3, "only %d lines" % len(lines)
for l in lines:
    assert l["timestamp"].endswith("Z") and "T" in l["timestamp"]
rows = lines[-1]["rows"]
assert rows, "no rows"
need = {"latency": ["label", "level", "last_ms", "average_ms", "path", "count", "min_ms",
                    "max_ms", "p50_ms", "p95_ms", "p99_ms", "share_pct", "pid", "process"],
        "memory": ["label", "level", "current_total_mb", "peak_total_mb", "path", "bytes",
                   "peak_bytes", "capacity_bytes", "pid", "process"]}[kind]
for r in rows:
    for k in need:
        assert k in r, "row %r lacks %s" % (r.get("path"), k)
assert rows[0]["level"] == 0
paths = [r["path"] for r in rows]
if kind == "latency":
    assert "step/forward/block 0/attn" in paths or "step/forward" in paths, paths[:5]
else:
    assert "Model Weights" in paths and "KV Cache" in paths, paths
PYEOF
}
check "latency_log_lines" check_lines "$lat" latency
check "memory_log_lines" check_lines "$mem" memory
check "profile_record_lines" "$PY" -c "
import json
ls = [json.loads(l) for l in open('$T/prof.jsonl')]
ms = {l['metric'] for l in ls}
assert {'latency_ms', 'tokens_per_sec', 'buffer_occupancy_pct'} <= ms, ms
l = [l for l in ls if l['metric'] == 'latency_ms'][0]
assert l['labels']['path'] == 'step' and l['labels']['label'] == 'tinylm' and l['labels']['pid'].isdigit()
assert isinstance(l['ts_ms'], (int, float)) and l['ts_ms'] > 1.6e12
"
check "no_warning_when_fine" test ! -s "$T/err1"

# The log replays: same tree, same workload.
"$NCTOP" replay --once --json "$lat" "$mem" >"$T/replay.json" 2>"$T/err2"
jcheck "log_replays" "$T/replay.json" \
    'len(d["processes"]) == 1' 'proc("tinylm")["latency"][0]["path"] == "step"' \
    'any(r["path"] == "KV Cache" for r in proc("tinylm")["memory"])' \
    'row(proc("tinylm"), "latency", "step")["count"] > 0'

# A bad interval: a warning, and the default.
METRICS_LOG_ENABLED=1 METRICS_LOG_INTERVAL_SECS=0.5 "$NCTOP" --headless --duration 0.3 \
    --log-dir "$T/logs" -- "$TINYLM" --quiet --layers 1 --dim 64 --ffn 128 --vocab 256 2>"$T/err3"
check "bad_interval_warns" grep -q "METRICS_LOG_INTERVAL_SECS='0.5'.*using 5" "$T/err3"

# A real write error: the latency log of this run is a file already at the file size limit
# (ulimit -f: EFBIG; sparse files, made for each second of the next five minutes, as the run
# may start late on a busy machine). nctop warns once, keeps running until it is ended, and
# the memory log and the ProfileRecord file go on.
mkdir -p "$T/full"
"$PY" - "$T/full" <<'PYEOF'
import os, sys, time
now = int(time.time())
for t in range(now - 1, now + 300):
    with open(os.path.join(sys.argv[1], time.strftime("%Y%m%d%H%M%S", time.gmtime(t)) +
                           "-latency.jsonl"), "w") as f:
        f.truncate(256 << 20)
PYEOF
(
    ulimit -S -f $((256 * 1024)) # KiB
    METRICS_LOG_ENABLED=1 METRICS_LOG_INTERVAL_SECS=1 NC_PROFILE_JSONL="$T/full/prof.jsonl" \
        exec "$NCTOP" --headless --duration 120 --log-dir "$T/full" -- "$TINYLM" $LM 2>"$T/err4"
) &
nc=$!
PIDS+=("$nc")
end_when_stepped "$nc" "$T/full" # the latency log is the full one: the memory log is waited on
rc=$?
mem=$(ls "$T"/full/*-memory.jsonl 2>/dev/null | head -n 1)
check "write_error_keeps_running" test "$rc" -eq 0
check "write_error_warns" grep -q "latency log .*File too large; that log is stopped" "$T/err4"
check "write_error_warns_once" test "$(grep -c 'latency log' "$T/err4")" -eq 1
check "write_error_memory_log_goes_on" test "$(wc -l <"$mem")" -ge 3
check "write_error_profile_goes_on" test "$(grep -c latency_ms "$T/full/prof.jsonl")" -ge 2

# test_issue_11: --log beside METRICS_LOG_ENABLED, a --log-dir that does not exist yet is
# created, and a run without a display that was asked to log and cannot exits 1 at once.
# shellcheck disable=SC2086
METRICS_LOG_INTERVAL_SECS=1 "$NCTOP" --log --headless --duration 1.5 --log-dir "$T/new/sub" \
    -- "$TINYLM" $LM 2>"$T/err-new"
check "--log writes into a --log-dir it creates" \
    bash -c "ls '$T'/new/sub/*-latency.jsonl '$T'/new/sub/*-memory.jsonl"
touch "$T/plain"
# shellcheck disable=SC2086
"$NCTOP" --log --headless --duration 30 --log-dir "$T/plain/logs" -- "$TINYLM" $LM \
    2>"$T/err-nolog"
rc=$?
if [ "$rc" -eq 1 ] && grep -q 'latency' "$T/err-nolog" && grep -q 'memory' "$T/err-nolog"; then
    pass "no log can be opened: status 1, both logs named"
else
    fail "no log can be opened: status 1, both logs named" "rc=$rc: $(tr '\n' ' ' <"$T/err-nolog")"
fi
