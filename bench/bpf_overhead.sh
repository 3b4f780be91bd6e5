#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The eBPF collector's cost to the watched program, with and without it in the same run:
# a syscall-heavy loop (ns per getppid) and tinylm's mean step latency. Needs root and BTF.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
S=${1:-2}
SYS=$BUILD/bench/bpf_syscalls
if [ "$(id -u)" -ne 0 ] || [ ! -r /sys/kernel/btf/vmlinux ]; then
    echo "# bpf_overhead: skipped (needs root and /sys/kernel/btf/vmlinux)"
    exit 0
fi
median() { grep -v nan | sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }

# Alternate plain and watched runs, three each, so drift hits both alike.
plain=() watched=()
for _ in 1 2 3; do
    plain+=("$("$SYS" --pause 0.3 --seconds "$S")")
    watched+=("$("$BUILD/nctop" --bpf --headless --duration $((S + 5)) -- \
        "$SYS" --pause 0.3 --seconds "$S" 2>/dev/null)")
done
p=$(printf '%s\n' "${plain[@]}" | median)
w=$(printf '%s\n' "${watched[@]}" | median)
awk -v p="$p" -v w="$w" 'BEGIN {
    printf "BENCH bpf_syscall_ns %.1f ns/call baseline=%.1f ratio=%.3f\n", w, p, w / p }'

# tinylm: mean step latency through libnctop, with the ring collector alone and with --bpf.
LM=("$BUILD/tinylm" --quiet --layers 4 --dim 256 --ffn 704 --vocab 8000 --requests 0)
step() {
    "$BUILD/nctop" "$@" --once --json --duration "$S" -- "${LM[@]}" 2>/dev/null |
        /usr/bin/python3 -c 'import json, sys
p = json.load(sys.stdin)["processes"][0]
print((p.get("step_ms") or {}).get("total", {}).get("average_ms") or "nan")'
}
plain=() watched=()
for _ in 1 2 3; do
    plain+=("$(step)")
    watched+=("$(step --bpf)")
done
p=$(printf '%s\n' "${plain[@]}" | median)
w=$(printf '%s\n' "${watched[@]}" | median)
awk -v p="$p" -v w="$w" 'BEGIN {
    printf "BENCH bpf_tinylm_step_ms %.3f ms baseline=%.3f ratio=%.3f\n", w, p, w / p }'
