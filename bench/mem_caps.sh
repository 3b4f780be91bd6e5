#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# nctop's memory where the work is wide: its peak RSS (VmHWM) while it watches, headless, one
# workload with 100 000 distinct span paths (bench/paths; the tree keeps 65 536 and folds the
# rest into its "(other)" row, which the snapshot counts as folded_spans), and while it watches
# 64 workloads (bench/emit). Each case runs SECONDS (default 5). Usage: mem_caps.sh [SECONDS]
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
S=${1:-5}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

# The peak RSS in KiB of process $1 seen until it exits (VmHWM only grows, so the last read wins).
peak_rss() {
    local pid=$1 kb=0 v
    while v=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null) && [ -n "$v" ]; do
        kb=$v
        sleep 0.2
    done
    echo "$kb"
}

# 1. 100 000 distinct paths in one workload, at 1 M events/s: nctop headless (its RSS), then
# the same under --once --json (the rows it kept and what it folded; the snapshot of 65 537
# rows takes memory of its own, which is not the figure).
"$BUILD/nctop" --headless --duration "$((S + 30))" -o /dev/null -- \
    "$BUILD/bench/paths" --paths 100000 --rate 1000000 --seconds "$S" >/dev/null 2>&1 &
nc=$!
kb=$(peak_rss "$nc")
wait "$nc"
"$BUILD/nctop" --once --json --duration "$((S + 30))" -o "$dir/paths.json" -- \
    "$BUILD/bench/paths" --paths 100000 --rate 1000000 --seconds "$S" >/dev/null 2>&1
python3 - "$dir/paths.json" "$kb" <<'EOF'
import json, sys
snap = json.load(open(sys.argv[1]))
p = [p for p in snap["processes"] if p["label"] == "paths"][0]
other = [r for r in p["latency"] if r["path"] == "(other)"]
print("BENCH nctop_rss_100k_paths %.1f MiB rows=%d folded_spans=%d other_count=%d target=bounded"
      % (int(sys.argv[2]) / 1024, len(p["latency"]), p["folded_spans"],
         other[0]["total"]["count"] if other else 0))
EOF

# 2. 64 workloads, 100 k events/s in all.
pids=()
for ((i = 0; i < 64; i++)); do
    "$BUILD/bench/emit" --rate 1562 --seconds "$((S + 2))" --label "emit$i" >/dev/null 2>&1 &
    pids+=($!)
done
"$BUILD/nctop" --headless --duration "$((S + 1))" -o /dev/null &
nc=$!
kb=$(peak_rss "$nc")
wait "${pids[@]}" 2>/dev/null
awk -v kb="$kb" 'BEGIN { printf "BENCH nctop_rss_64_workloads %.1f MiB target=bounded\n", kb / 1024 }'
