#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# How nctop's cost grows with the work: its CPU (share of one core, from /proc/PID/stat) while
# it watches W workloads (bench/emit) emitting R events per second in all, for W in 1, 8, 64
# and R in 10 k, 100 k, 1 M, 10 M; then the frame time for trees of about 100 to 100 000 rows.
# Each cell runs SECONDS (default 5) after a second of warm-up. On a machine with fewer cores
# than the workloads need, the rate achieved is below the rate asked: both are printed.
# Usage: scaling.sh [SECONDS]
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
S=${1:-5}
tck=$(getconf CLK_TCK)
ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }

for w in 1 8 64; do
    for r in 10000 100000 1000000 10000000; do
        dir=$(mktemp -d)
        per=$(awk -v r="$r" -v w="$w" 'BEGIN { printf "%.0f", r / w }')
        pids=()
        for ((i = 0; i < w; i++)); do
            "$BUILD/bench/emit" --rate "$per" --seconds "$((S + 3))" --label "emit$i" \
                >"$dir/emit$i.out" 2>&1 &
            pids+=($!)
        done
        "$BUILD/nctop" --headless --duration "$((S + 2))" -o /dev/null &
        nc=$!
        sleep 1
        c0=$(ticks "$nc")
        sleep "$S"
        c1=$(ticks "$nc")
        wait "${pids[@]}" 2>/dev/null
        wait "$nc" 2>/dev/null
        awk -v w="$w" -v r="$r" -v s="$S" -v c="$((c1 - c0))" -v t="$tck" '
            /^emitted/ { e += $2; d += $4 }
            END {
                printf "BENCH scaling_cpu workloads=%d rate=%d nctop_cpu_pct=%.2f achieved=%.0f dropped=%d\n",
                    w, r, 100 * c / t / s, e / (s + 3), d }' "$dir"/emit*.out
        rm -rf "$dir"
    done
done
for f in 3 6 10 18; do
    "$BUILD/bench/ui_frame" --fan "$f"
done
