#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The spiking runtime's instrumentation cost as a share of its timestep, measured from outside
# the probe: snn --cost-ab runs each block of 64 timesteps twice, on the network with the
# probe (attached to a real nctop) and on a twin network built alike without it, so both sides
# do exactly the same work in the same process; each side is timed in the thread's CPU time,
# and the runtime prints the median share 1 - without / with over the blocks. Two programs run
# one after the other differ by up to 10 % from their memory layout alone, which is why the
# comparison is made inside one process. RUNS runs, the median printed; the baseline is the
# same measure with no probe on either side (the method's own floor, 3 runs), and the runtime's own
# sampled figure from a plain run is printed beside it. Usage: snn_cost.sh RUNS
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
runs=${1:-7}
steps=${SNN_BENCH_STEPS:-60000}
floors=${SNN_BENCH_FLOORS:-3}

# the --cost-ab figure of one run under nctop ("-" when it printed none)
cost() {
    "$BUILD/nctop" --headless --duration 300 -o /dev/null -- \
        "$BUILD/snn" --steps "$steps" --cost-ab 64 "$@" 2>&1 |
        awk '/instrumentation cost/ { v = $4; sub("%", "", v) } END { print (v == "" ? "-" : v) }'
}
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

with=() floor=()
for ((i = 0; i < runs; i++)); do
    with+=("$(cost)")
    if [ "$i" -lt "$floors" ]; then
        floor+=("$(cost --no-probe)")
    fi
done
if printf '%s\n' "${with[@]}" "${floor[@]}" | grep -qx -- -; then
    echo "FAIL: snn_cost: a --cost-ab run printed no figure"
    exit 1
fi
own=$("$BUILD/nctop" --headless --duration 300 -o /dev/null -- "$BUILD/snn" --steps 20000 2>&1 |
    awk '/instrumentation [0-9.]+%/ { v = $3; sub("%", "", v) } END { print (v == "" ? "-" : v) }')
printf 'BENCH snn_instrumentation_pct %s %% of a timestep (median of %d runs, min %s max %s) baseline=%s (no probe on either side, %d runs) target=2 own=%s\n' \
    "$(median "${with[@]}")" "$runs" "$(printf '%s\n' "${with[@]}" | sort -g | head -1)" \
    "$(printf '%s\n' "${with[@]}" | sort -g | tail -1)" "$(median "${floor[@]}")" "${#floor[@]}" "$own"
