#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# RAPL without RAPL: a fake sysfs tree (a package with core and dram subzones, the control
# type's own directory and an MMIO copy that are not zones) under NCTOP_SYSFS_ROOT. The zones,
# names and energies exact in the snapshot; the power equal to the energy the test added over
# nctop's own readings, within the bounds of the test's own clock; a counter across its wrap;
# the Prometheus series (promtool); the recording and its replay; root-only counters read by
# nobody, and no powercap at all: states with their reasons, nothing on stderr.
. "$(dirname "$0")/lib.sh"
need_build
RANGE=262143328850
# A tree nobody may walk too (the unreadable case runs as nobody).
S=$(mktemp -d "${TMPDIR:-/tmp}/nctop-sysfs.XXXXXX")
chmod 755 "$S"
cleanup_rapl() { rm -rf "$S"; cleanup; }
trap cleanup_rapl EXIT
P=$S/class/powercap
mkdir -p "$P/intel-rapl" "$P/intel-rapl-mmio:0" "$P/intel-rapl:0" "$P/intel-rapl:0:0" \
    "$P/intel-rapl:0:1"
echo package-0 >"$P/intel-rapl-mmio:0/name"
echo 5 >"$P/intel-rapl-mmio:0/energy_uj"
echo package-0 >"$P/intel-rapl:0/name"
echo core >"$P/intel-rapl:0:0/name"
echo dram >"$P/intel-rapl:0:1/name"
setz() { echo "$2" >"$P/$1/energy_uj"; }
for z in intel-rapl:0 intel-rapl:0:0 intel-rapl:0:1; do
    echo "$RANGE" >"$P/$z/max_energy_range_uj"
done
setz intel-rapl:0 123456789
setz intel-rapl:0:0 45678901
setz intel-rapl:0:1 2000000
now() { "$PY" -c 'import time; print(repr(time.monotonic()))'; }

"$TINYLM" --layers 2 --dim 64 --heads 4 --kv-heads 2 --ffn 96 --vocab 512 --quiet &
lm=$!
PIDS+=("$lm")
if ! wait_for 10 test -e "/dev/shm/nctop-$lm"; then
    fail "workload publishes a segment" "no /dev/shm/nctop-$lm"
    exit 1
fi

# Counters that do not move: every figure exact, the power 0 W over nctop's readings.
NCTOP_SYSFS_ROOT=$S timeout 30 "$NCTOP" -p "$lm" --once --json --duration 1 >"$T/still.json" \
    2>"$T/still.err"
check "still: exit 0, nothing on stderr" test $? -eq 0 -a ! -s "$T/still.err"
jcheck "zones: packages then subzones, named, their energy exact, measured" "$T/still.json" \
    '[z["zone"] for z in d["power"]["rapl"]] == ["package-0", "package-0/core", "package-0/dram"]' \
    '[z["energy_j"] for z in d["power"]["rapl"]] == [123.456789, 45.678901, 2.0]' \
    '[z["power_w"] for z in d["power"]["rapl"]] == [0, 0, 0]' \
    'd["power"]["source"] == "measured"' 'd["power"]["state"] is None'

# Power: nctop reads the counter at start and at each scrape (a reading of now before the store
# is read). The test adds a known energy between two scrapes; the power is that energy over the
# time between nctop's first reading (after the start, before the first scrape that shows it)
# and the reading of the second scrape (during it).
free_port() {
    "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
scrape() {
    "$PY" -c 'import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(
        "http://127.0.0.1:%s/metrics" % sys.argv[1], timeout=5).read().decode())' "$1" >"$2"
}
port=$(free_port)
t_start=$(now)
# A window longer than the run, however slow the machine: the first reading stays in it.
NCTOP_SYSFS_ROOT=$S "$NCTOP" -p "$lm" --headless --duration 120 --window 120 --prometheus "$port" \
    >"$T/prom.out" 2>"$T/prom.err" &
nc=$!
PIDS+=("$nc")
line0='nctop_rapl_energy_joules_total{zone="package-0"} 123.456789'
if wait_for 15 sh -c "PY='$PY'; $(declare -f scrape); scrape $port '$T/p0.prom' &&
    grep -qxF '$line0' '$T/p0.prom'"; then
    pass "prometheus: the first reading, exact"
else
    fail "prometheus: the first reading, exact" "$(grep energy "$T/p0.prom" 2>/dev/null)"
fi
t_seen=$(now)
# The span the power is over should be long against the clocks' reading costs; nothing waits
# on it.
sleep 1
setz intel-rapl:0 $((123456789 + 25000000))
t_scrape=$(now)
scrape "$port" "$T/p1.prom"
t_end=$(now)
check "prometheus: the energy added, exact" grep -qxF \
    'nctop_rapl_energy_joules_total{zone="package-0"} 148.456789' "$T/p1.prom"
got=$(sed -n 's/^nctop_rapl_power_watts{zone="package-0"} //p' "$T/p1.prom")
# 25 J over a span of at least t_scrape - t_seen and at most t_end - t_start.
if "$PY" -c 'import sys; w, a, b, c, d = map(float, sys.argv[1:])
lo, hi = 25.0 / (d - a), 25.0 / (c - b)
sys.exit(0 if lo <= w <= hi else 1)' "${got:-nan}" "$t_start" "$t_seen" "$t_scrape" "$t_end"; then
    pass "power = the energy added over nctop's readings ($got W; times $t_start $t_seen $t_scrape $t_end)"
else
    fail "power = the energy added over nctop's readings" \
        "$got W, times $t_start $t_seen $t_scrape $t_end"
fi
check "prometheus: a subzone's power and energy" sh -c "grep -qx \
    'nctop_rapl_power_watts{zone=\"package-0/dram\"} 0.000000' '$T/p1.prom' && grep -qxF \
    'nctop_rapl_energy_joules_total{zone=\"package-0/dram\"} 2.000000' '$T/p1.prom'"
# The counter wraps: 4 J to the top of its range and 3 J from 0 add 7 J.
setz intel-rapl:0 $((RANGE - 4000000))
scrape "$port" "$T/p2.prom"
setz intel-rapl:0 3000000
# The zones are read at nctop's sampling period, not per scrape: a quick machine scrapes again
# before the next reading, so wait for it (bounded).
WRAPPED="nctop_rapl_energy_joules_total{zone=\"package-0\"} $("$PY" -c "print('%.6f' % (($RANGE + 3000000) / 1e6))")"
check "a wrap of the counter adds what it counted" wait_for 10 sh -c \
    "$(declare -f scrape); PY='$PY'; scrape '$port' '$T/p3.prom' && grep -qxF '$WRAPPED' '$T/p3.prom'"
if command -v promtool >/dev/null; then
    check "prometheus with RAPL: promtool check metrics passes" \
        bash -c "promtool check metrics < '$T/p3.prom'"
else
    skip "promtool is not installed (make deps installs it)"
fi
kill "$nc" 2>/dev/null
wait "$nc" 2>/dev/null
check "prometheus: nothing printed" test ! -s "$T/prom.out" -a ! -s "$T/prom.err"

# A recording keeps the zones; its replay shows them as live did.
setz intel-rapl:0 123456789
NCTOP_SYSFS_ROOT=$S timeout 30 "$NCTOP" record -p "$lm" --duration 1 -o "$T/rapl.nctrec" \
    2>"$T/rec.err"
"$NCTOP" replay --once --json "$T/rapl.nctrec" >"$T/replay.json" 2>"$T/replay.err"
jcheck "record, replay: the zones and their energy" "$T/replay.json" \
    '[z["zone"] for z in d["power"]["rapl"]] == ["package-0", "package-0/core", "package-0/dram"]' \
    'd["power"]["rapl"][0]["energy_j"] == 123.456789' 'd["power"]["source"] == "measured"'

# No powercap: the state, nothing printed.
NCTOP_SYSFS_ROOT=$S/none timeout 30 "$NCTOP" -p "$lm" --once --json --duration 0.5 \
    >"$T/none.json" 2>"$T/none.err"
check "no RAPL: exit 0, nothing on stderr" test $? -eq 0 -a ! -s "$T/none.err"
jcheck "no RAPL: a state, not an error" "$T/none.json" 'd["power"]["rapl"] == []' \
    'd["power"]["source"] is None' 'd["power"]["state"] == "no RAPL on this machine"'

# Counters only root may read (recent kernels), read by nobody: the reason, nothing printed.
if [ "$(id -u)" -ne 0 ] || ! "${AS_NOBODY[@]}" "$TINYLM" --help >/dev/null 2>&1; then
    skip "root-only counters: needs root, and nobody able to run the build"
    exit 0
fi
chmod 0400 "$P"/intel-rapl:*/energy_uj
mkdir -m 755 "$S/home"
HOME=$S/home XDG_CONFIG_HOME=$S/home NCTOP_SYSFS_ROOT=$S timeout 30 "${AS_NOBODY[@]}" \
    "$NCTOP" --once --json --duration 1.5 -- "$TINYLM" --layers 1 --dim 32 --heads 2 \
    --kv-heads 1 --ffn 32 --vocab 64 --quiet >"$T/nobody.json" 2>"$T/nobody.err"
check "root-only counters, as nobody: exit 0, nothing on stderr" \
    test $? -eq 0 -a ! -s "$T/nobody.err"
jcheck "root-only counters, as nobody: the reason in one line" "$T/nobody.json" \
    'd["power"]["rapl"] == []' \
    'd["power"]["state"] == "RAPL: permission denied reading energy_uj (root only on this kernel)"'
kill "$lm" 2>/dev/null
wait "$lm" 2>/dev/null
