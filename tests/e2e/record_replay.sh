#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# nctop record of tinylm, then replay --once --json (deterministic, the recorded figures),
# a truncated recording, and export --chrome-trace (valid JSON that replays to the same tree).
. "$(dirname "$0")/lib.sh"
need_build
LM="--quiet --layers 2 --dim 256 --ffn 704 --vocab 4096 --gen 16 --tokens 40"

# shellcheck disable=SC2086
"$NCTOP" record -o "$T/lm.nctrec" -- "$TINYLM" $LM 2>"$T/rec.err"
check "record_writes" test -s "$T/lm.nctrec"
check "record_reports" grep -qE "recorded [0-9]+ records \([0-9]+ bytes\) to" "$T/rec.err"
"$NCTOP" replay --once --json "$T/lm.nctrec" >"$T/a.json" 2>"$T/a.err"
"$NCTOP" replay --once --json "$T/lm.nctrec" >"$T/b.json" 2>/dev/null
jcheck "replay_snapshot" "$T/a.json" \
    'proc("tinylm")["counters"]["tokens"] == 40' \
    'proc("tinylm")["state"] == "exited"' \
    'row(proc("tinylm"), "latency", "step")["total"]["count"] >= 40' \
    'row(proc("tinylm"), "latency", "step/forward/block 1")["count"] > 0' \
    'any(r["path"] == "Model Weights" for r in proc("tinylm")["memory"])' \
    'len(proc("tinylm")["kernels"]) > 0' 'proc("tinylm")["events"] > 0'
check "replay_deterministic" cmp "$T/a.json" "$T/b.json"
check "replay_quiet_when_clean" test ! -s "$T/a.err"

# A recording cut in the middle loads up to the cut and says so.
head -c "$(($(stat -c %s "$T/lm.nctrec") / 2))" "$T/lm.nctrec" >"$T/cut.nctrec"
"$NCTOP" replay --once --json "$T/cut.nctrec" >"$T/cut.json" 2>"$T/cut.err"
check "truncated_exit_0" test $? -eq 0
check "truncated_reported" grep -q "cut.nctrec: .*cut short\|cut.nctrec: malformed record at byte offset" "$T/cut.err"
steps=$("$PY" -c "import json; print([r for r in json.load(open('$T/a.json'))['processes'][0]['latency'] if r['path'] == 'step'][0]['total']['count'])")
jcheck "truncated_loads_part" "$T/cut.json" \
    "0 < row(proc('tinylm'), 'latency', 'step')['total']['count'] < $steps"

# Export: a Chrome trace that Perfetto/chrome://tracing read (JSON object, B/E per thread,
# kernels as X, counters as C, names as M), which nctop replays into the same step count.
"$NCTOP" export --chrome-trace "$T/lm.trace.json" "$T/lm.nctrec"
check "export_exit_0" test $? -eq 0
check "export_trace_shape" "$PY" -c "
import json, collections
d = json.load(open('$T/lm.trace.json'))
ev = d['traceEvents']
ph = collections.Counter(e['ph'] for e in ev)
assert ph['B'] == ph['E'] and ph['B'] > 0, ph
assert ph['X'] > 0 and ph['C'] > 0 and ph['M'] > 0, ph
assert all('ts' in e and 'pid' in e and 'tid' in e for e in ev if e['ph'] != 'M')
assert any(e['ph'] == 'M' and e['args']['name'] == 'tinylm' for e in ev)
"
# test_issue_11: one process_name per process, never an empty one, and every track that holds
# events has a name (the kernel tracks: \"kernels: BACKEND\").
check "export_tracks_named" "$PY" -c "
import json
ev = json.load(open('$T/lm.trace.json'))['traceEvents']
names = [e for e in ev if e['ph'] == 'M' and e['name'] == 'process_name']
assert all(e['args']['name'] for e in names), names
assert len(names) == len(set(e['pid'] for e in names)), names
named = set((e['pid'], e['tid']) for e in ev if e['ph'] == 'M' and e['name'] == 'thread_name')
used = set((e['pid'], e['tid']) for e in ev if e['ph'] in 'XBE')
assert used <= named, used - named
assert any(e['args']['name'].startswith('kernels: ') for e in ev if e['ph'] == 'M')
"
"$NCTOP" replay --once --json "$T/lm.trace.json" >"$T/c.json" 2>"$T/c.err"
jcheck "exported_trace_replays" "$T/c.json" \
    "row(proc('tinylm'), 'latency', 'step')['total']['count'] == $steps" \
    'len(proc("tinylm")["kernels"]) > 0'
check "export_usage" bash -c "! '$NCTOP' export '$T/lm.nctrec' 2>/dev/null; test \$? -eq 0"
"$NCTOP" export --chrome-trace "$T/x.json" "$T/a.json" 2>"$T/x.err"
check "export_refuses_non_recording" test $? -eq 1

# Issue 10: replay streams its input: the peak memory of replaying a large log (1000 copies
# of the sample latency log, about 29 MB) stays far below the file's size (at most a half; the
# file used to be read whole, and its pages held while converting). Peak RSS of the child.
for _ in $(seq 1 1000); do cat "$ROOT"/sample-data/*-latency.jsonl; done >"$T/big-latency.jsonl"
# What the file adds is measured against the replay of one copy of the log, so a sanitizer's
# own memory (shadow) is not counted as the replay's; AddressSanitizer's quarantine (freed
# memory held back from reuse, 256 MiB) is turned off for the measurement.
if [ -n "${NCTOP_SAN_FLAGS:-}" ]; then
    export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0"
fi
head -c 1048576 "$T/big-latency.jsonl" | "$PY" -c 'import sys; t = sys.stdin.read(); sys.stdout.write(t[:t.rfind("\n") + 1])' >"$T/small-latency.jsonl"
"$PY" - "$NCTOP" "$T/big-latency.jsonl" "$T/small-latency.jsonl" >"$T/hwm.out" 2>&1 <<'PYEOF'
import os, subprocess, sys
size = os.path.getsize(sys.argv[2])
def peak(path):
    # Each child alone: wait4's rusage is that child's.
    p = subprocess.Popen([sys.argv[1], "replay", "--once", "--json", path],
                         stdout=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    assert status == 0, status
    return ru.ru_maxrss * 1024
base, hwm = peak(sys.argv[3]), peak(sys.argv[2])
print("file %.1f MiB, replay peak RSS %.1f MiB (%.1f MiB for a 1 MiB slice)" %
      (size / 1048576, hwm / 1048576, base / 1048576))
print("ok" if (hwm - base) * 2 < size else "not ok")
PYEOF
check "replay_large_log_peak_rss_below_half_the_file" grep -qx ok "$T/hwm.out"
grep -v '^ok$' "$T/hwm.out" | sed 's/^/    /'
