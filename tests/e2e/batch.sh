#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# nctop --batch, like top -b: text tables or one JSON snapshot a line every --delay, no
# terminal needed; -n N snapshots then exit; a reader that goes away ends it quietly.
. "$(dirname "$0")/lib.sh"
need_build
WL=("$TINYLM" --quiet --layers 2 --dim 128 --ffn 256 --vocab 1024 --requests 100000)

# JSON lines: N objects, one a line, each a whole snapshot, times in order; the workload's
# tokens counter never goes back and is under way by the last one.
"$NCTOP" --batch --json -d 0.3 -n 4 -- "${WL[@]}" >"$T/b.jsonl" 2>"$T/b.err" </dev/null
rc=$?
check "batch_json_exit_0" test "$rc" -eq 0
check "batch_json_quiet" test ! -s "$T/b.err"
"$PY" - "$T/b.jsonl" >"$T/b.txt" 2>&1 <<'PYEOF'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 4, "%d lines" % len(lines)
snaps = [json.loads(l) for l in lines]
stamps = [s["timestamp"] for s in snaps]
assert stamps == sorted(stamps) and len(set(stamps)) == 4, stamps
tok = [s["processes"][0]["counters"].get("tokens", 0) for s in snaps]
assert all(p["label"] == "tinylm" for s in snaps for p in s["processes"]), "labels"
assert tok == sorted(tok), tok
print("tokens", tok)
PYEOF
if [ $? -eq 0 ]; then pass "batch_json_lines ($(cat "$T/b.txt"))"; else fail "batch_json_lines" "$(tail -n 2 "$T/b.txt")"; fi

# | head: nctop sees the pipe close and ends at once with status 0 and nothing on stderr
# (the workload it started is stopped too).
set -o pipefail
"$NCTOP" --batch --json -d 0.2 -- "${WL[@]}" 2>"$T/h.err" </dev/null | head -n 3 >"$T/h.jsonl"
rc=$?
set +o pipefail
check "batch_head_exit_0" test "$rc" -eq 0
check "batch_head_three_lines" test "$(wc -l <"$T/h.jsonl")" -eq 3
check "batch_head_quiet" test ! -s "$T/h.err"

# Text: the tables every interval, frames apart, as --once prints them.
"$NCTOP" --batch -d 0.3 -n 2 -- "${WL[@]}" >"$T/t.txt" 2>"$T/t.err" </dev/null
check "batch_text_two_frames" test "$(grep -c '^nctop ' "$T/t.txt")" -eq 2
check "batch_text_tables" grep -q '^MEMORY' "$T/t.txt"

# Usage: one line, exit 2.
"$NCTOP" --batch --once >/dev/null 2>"$T/u.err"
rc=$?
check "batch_once_usage" test "$rc" -eq 2 -a "$(wc -l <"$T/u.err")" -le 2
"$NCTOP" -n 3 >/dev/null 2>"$T/u2.err"
rc=$?
check "batch_n_without_batch" test "$rc" -eq 2
