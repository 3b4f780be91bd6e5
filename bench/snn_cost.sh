#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The spiking runtime's instrumentation cost: snn attached to nctop against snn --no-probe under
# the same nctop, run in turn (A B A B ...) so a drift of the machine's speed falls on both; the
# share of a timestep is 1 - (us/timestep without) / (us/timestep with), taken pair by pair, and
# the median is printed with the runtime's own sampled figure beside it. Usage: snn_cost.sh PAIRS
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
pairs=${1:-7}
steps=${SNN_BENCH_STEPS:-20000}

# us/timestep (and the runtime's own figure, when printed) of one run under nctop
one() {
    "$BUILD/nctop" --headless --duration 120 -o /dev/null -- "$BUILD/snn" --steps "$steps" "$@" 2>&1 |
        awk '/us\/timestep/ { for (i = 1; i < NF; i++) if ($(i + 1) == "us/timestep,") us = $i }
             /instrumentation/ { own = $3 }
             END { printf "%s %s\n", us, (own == "" ? "-" : own) }'
}

shares=() owns=() withs=() withouts=()
for ((i = 0; i < pairs; i++)); do
    read -r a own < <(one)
    read -r b _ < <(one --no-probe)
    if [ -z "$a" ] || [ -z "$b" ]; then
        echo "FAIL: snn_cost: a run printed no us/timestep"
        exit 1
    fi
    withs+=("$a") withouts+=("$b") owns+=("${own%\%}")
    shares+=("$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.3f", 100 * (1 - b / a) }')")
done
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
printf 'BENCH snn_us_per_timestep %s us baseline=%s (--no-probe) ratio=%s\n' \
    "$(median "${withs[@]}")" "$(median "${withouts[@]}")" \
    "$(awk -v a="$(median "${withs[@]}")" -v b="$(median "${withouts[@]}")" 'BEGIN { printf "%.4f", a / b }')"
printf 'BENCH snn_instrumentation_pct %s %% of a timestep (median of %d pairs, min %s max %s) target=2 own=%s\n' \
    "$(median "${shares[@]}")" "$pairs" "$(printf '%s\n' "${shares[@]}" | sort -g | head -1)" \
    "$(printf '%s\n' "${shares[@]}" | sort -g | tail -1)" "$(median "${owns[@]}")"
