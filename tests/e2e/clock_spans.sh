# SPDX-License-Identifier: MIT
# tests/run: background
# Span times nctop shows equal the workload's own CLOCK_MONOTONIC measurements, within
# max(1 %, 2 us) per span, over a run of over a minute (CLOCK_SPANS_SECONDS, default 65: some
# 650 calibration refreshes) and across CPUs: one thread pinned to each of two CPUs, one that
# begins each span on one CPU and ends it on the other. With the TSC (the snapshot's "clock"
# says which) this checks the calibration; with NCTOP_CLOCK=monotonic, the same figures.
# tests/run starts this beside other suites: as root it runs in a /dev/shm of its own, so that
# their nctops never see its workload.
if [ "$(id -u)" -eq 0 ] && [ -z "${NCTOP_PRIVATE_SHM:-}" ] && command -v unshare >/dev/null; then
    exec unshare --mount --propagation private env NCTOP_PRIVATE_SHM=1 bash -c \
        'mount -t tmpfs -o mode=1777 nctop-shm /dev/shm 2>/dev/null; exec bash "$0" "$@"' "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"
need_build
S=${CLOCK_SPANS_SECONDS:-65}
HELPER=$BUILD/tests/clock_spans

if [ "$(nproc)" -lt 2 ]; then
    skip "clock spans across CPUs: fewer than two CPUs"
    exit 77
fi

# run_case NAME SECONDS ENV...: the workload under nctop, then its figures against nctop's.
run_case() {
    local name=$1 s=$2
    shift 2
    env "$@" "$NCTOP" --once --json --duration $((s + 120)) -o "$T/$name.json" -- "$HELPER" "$s" \
        >"$T/$name.own" 2>"$T/$name.err"
    check "$name: nctop and the workload exit 0" test $? -eq 0
    jcheck "$name: nothing lost or refused" "$T/$name.json" \
        'proc()["invalid"] == 0' 'proc()["dropped"] == 0' 'proc()["state"] == "exited"'
    if "$PY" - "$T/$name.json" "$T/$name.own" >"$T/$name.cmp" 2>&1 <<'PYEOF'; then
import json, sys
d = json.load(open(sys.argv[1]))
rows = {r["path"]: r["total"] for r in d["processes"][0]["latency"]}
bad = 0
for line in open(sys.argv[2]):
    own = json.loads(line)
    r = rows.get(own["path"])
    if r is None or r["count"] != own["count"] or own["count"] == 0:
        print("%s: count %s, the workload's %d" % (own["path"], r and r["count"], own["count"]))
        bad += 1
        continue
    total, mx = r["total_ms"] * 1e6, r["max_ms"] * 1e6
    # libnctop stamped each span between the workload's inner and outer reads; nctop may be
    # off by max(1 %, 2 us) per span, over n spans by the sum of those bounds at most.
    tol_total = max(0.01 * own["outer_ns"], 2000.0 * own["count"])
    tol_max = max(0.01 * own["max_outer_ns"], 2000.0)
    lo, hi = own["inner_ns"] - tol_total, own["outer_ns"] + tol_total
    mlo, mhi = own["max_inner_ns"] - tol_max, own["max_outer_ns"] + tol_max
    print("%-18s n=%-6d total %.6f ms in [%.6f, %.6f] +- %.0f ns; max %.6f ms in [%.6f, %.6f]"
          % (own["path"], own["count"], total / 1e6, own["inner_ns"] / 1e6,
             own["outer_ns"] / 1e6, tol_total, mx / 1e6, own["max_inner_ns"] / 1e6,
             own["max_outer_ns"] / 1e6))
    if not (lo <= total <= hi and mlo <= mx <= mhi):
        print("  ^ outside the bound")
        bad += 1
sys.exit(1 if bad else 0)
PYEOF
        pass "$name: span totals and maxima within max(1 %, 2 us) per span, ${s}s"
    else
        fail "$name: span totals and maxima within max(1 %, 2 us) per span" "$(tr '\n' ' ' <"$T/$name.cmp" | head -c 1500)"
    fi
    [ -n "${CLOCK_SPANS_SHOW:-}" ] && cat "$T/$name.cmp"
}

run_case tsc "$S"
jcheck "tsc: the snapshot names the clock" "$T/tsc.json" \
    'proc()["clock"] in ("tsc", "monotonic")' \
    '(proc()["clock"] == "tsc") == (open("/sys/devices/system/clocksource/clocksource0/current_clocksource").read().strip() == "tsc" and all(f in open("/proc/cpuinfo").read().split() for f in ("constant_tsc", "nonstop_tsc")))'
run_case monotonic $((S < 20 ? S : 20)) NCTOP_CLOCK=monotonic
jcheck "monotonic: NCTOP_CLOCK=monotonic is obeyed" "$T/monotonic.json" \
    'proc()["clock"] == "monotonic"'
