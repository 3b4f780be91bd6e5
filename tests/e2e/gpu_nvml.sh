#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The GPU part without a GPU: a fake NVML (tests/helpers/fake_nvml.c, two GPUs and one compute
# process, the workload) loaded through NCTOP_NVML_LIB. Exact figures in the snapshot, the
# Prometheus series (promtool), the display header in tmux; a failing NVML is a state with its
# reason; no library is the "no GPU" state: nothing shown, nothing printed.
. "$(dirname "$0")/lib.sh"
need_build
FAKE=$BUILD/tests/libfake_nvml.so
[ -f "$FAKE" ] || { fail "build" "$FAKE missing: run make"; exit 1; }

"$TINYLM" --layers 2 --dim 64 --heads 4 --kv-heads 2 --ffn 96 --vocab 512 --quiet &
lm=$!
PIDS+=("$lm")
if ! wait_for 10 test -e "/dev/shm/nctop-$lm"; then
    fail "workload publishes a segment" "no /dev/shm/nctop-$lm"
    exit 1
fi
export NCTOP_FAKE_NVML_PID=$lm
GIB=$((1024 * 1024 * 1024)) MIB=$((1024 * 1024))

# snap NAME ENV...: nctop --once --json on the workload with ENV, into $T/NAME.json/.err
snap() {
    local name=$1
    shift
    env "$@" timeout 30 "$NCTOP" -p "$lm" --once --json --duration 1.5 >"$T/$name.json" \
        2>"$T/$name.err"
    check "$name: exit 0, nothing on stderr" test $? -eq 0 -a ! -s "$T/$name.err"
}

snap fake NCTOP_NVML_LIB="$FAKE"
jcheck "fake: two GPUs with their names, utilization and memory" "$T/fake.json" \
    'len(d["gpus"]) == 2' 'd["gpus"][0]["index"] == 0 and d["gpus"][1]["index"] == 1' \
    'd["gpus"][0]["name"] == "Fake A100-SXM4-80GB" and d["gpus"][1]["name"] == "Fake T4"' \
    'd["gpus"][0]["utilization_pct"] == 87 and d["gpus"][1]["utilization_pct"] == 5' \
    "d['gpus'][0]['memory_used_bytes'] == 30 * $GIB" \
    "d['gpus'][0]['memory_total_bytes'] == 80 * $GIB" \
    "d['gpus'][1]['memory_used_bytes'] == $GIB" \
    "d['gpus'][1]['memory_total_bytes'] == 16 * $GIB" \
    '"gpu_error" not in d'
# test_issue_14: power and the energy counter, measured by the driver; a device without a
# counter has null, and the workload on it no J/token, with the reason.
jcheck "fake: power and energy per GPU as the driver reads them (null: not given)" \
    "$T/fake.json" 'd["gpus"][0]["power_w"] == 250' 'd["gpus"][0]["energy_j"] == 123456.789' \
    'd["gpus"][1]["power_w"] == 27.5' 'd["gpus"][1]["energy_j"] is None'
jcheck "fake: no J/token on a device without an energy counter, and why" "$T/fake.json" \
    'proc()["gpu_energy"]["devices"] == [0, 1]' 'proc()["gpu_energy"]["j_per_token"] is None' \
    'proc()["gpu_energy"]["source"] is None' \
    'proc()["gpu_energy"]["reason"] == "GPU1 has no energy counter"'
# Counters that count the power exactly (the fake's energy is its power times CLOCK_MONOTONIC):
# the devices' power over the window is 277.5 W to the counter's 1 mJ, and J/token is it over
# the workload's own tokens/s. Two readings are needed; the probe reads once a second. The
# 3 s window is run again, longer, while a loaded machine gives it fewer (for 60 s at most):
# UNTIL says when the window was long enough.
snap2() {
    local name=$1 until=$2
    shift 2
    once_until 60 "$T/$name.json" "$until" 3 env "$@" timeout 60 "$NCTOP" -p "$lm" --once \
        --json 2>"$T/$name.err"
    check "$name: exit 0, nothing on stderr" test $? -eq 0 -a ! -s "$T/$name.err"
}
snap2 clock 'proc()["gpu_energy"]["power_w"] is not None and proc()["rates"]["tokens_per_sec"] > 0' \
    NCTOP_NVML_LIB="$FAKE" NCTOP_FAKE_NVML_ENERGY=clock
jcheck "alone on its GPUs: J/token measured on the devices = their power / its tokens/s" \
    "$T/clock.json" 'proc()["gpu_energy"]["source"] == "measured (device)"' \
    'proc()["gpu_energy"]["reason"] is None' \
    'abs(proc()["gpu_energy"]["power_w"] - 277.5) < 0.01' \
    'proc()["rates"]["tokens_per_sec"] > 0' \
    'abs(proc()["gpu_energy"]["j_per_token"] * proc()["rates"]["tokens_per_sec"] -
         proc()["gpu_energy"]["power_w"]) < 1e-6 * proc()["gpu_energy"]["power_w"]'
snap2 shared 'proc()["gpu_energy"]["reason"] is not None' \
    NCTOP_NVML_LIB="$FAKE" NCTOP_FAKE_NVML_ENERGY=clock NCTOP_FAKE_NVML_PID2=1
jcheck "sharing a GPU: no J/token (a share would be an estimate), and why" "$T/shared.json" \
    'proc()["gpu_energy"]["j_per_token"] is None' 'proc()["gpu_energy"]["source"] is None' \
    'proc()["gpu_energy"]["reason"] == "GPU0 runs 2 processes: its energy is not this " +
         "workload" + chr(39) + "s alone"'

# test_issue_12: a recording keeps the GPU facts; its replay shows the devices as live did.
NCTOP_NVML_LIB="$FAKE" timeout 30 "$NCTOP" record -p "$lm" --duration 1.5 -o "$T/gpu.nctrec" \
    2>"$T/gpu-rec.err"
"$NCTOP" replay --once --json "$T/gpu.nctrec" >"$T/gpu-replay.json" 2>"$T/gpu-replay.err"
jcheck "record, replay: the GPUs and the workload's GPU memory, as live" "$T/gpu-replay.json" \
    'len(d["gpus"]) == 2' 'd["gpus"][0]["name"] == "Fake A100-SXM4-80GB"' \
    'd["gpus"][0]["utilization_pct"] == 87' "d['gpus'][1]['memory_total_bytes'] == 16 * $GIB" \
    'd["gpus"][0]["power_w"] == 250' 'd["gpus"][0]["energy_j"] == 123456.789' \
    'd["gpus"][1]["energy_j"] is None'

jcheck "fake: the workload's GPU memory, per device, on the device" "$T/fake.json" \
    "row(proc(), 'memory', 'GPU Memory')['bytes'] == 768 * $MIB" \
    "row(proc(), 'memory', 'GPU Memory')['peak_bytes'] == 768 * $MIB" \
    "row(proc(), 'memory', 'GPU Memory')['device'] is True" \
    "row(proc(), 'memory', 'GPU Memory')['children'] == 2" \
    "row(proc(), 'memory', 'GPU Memory/GPU0')['bytes'] == 512 * $MIB" \
    "row(proc(), 'memory', 'GPU Memory/GPU1')['bytes'] == 256 * $MIB" \
    "row(proc(), 'memory', 'GPU Memory/GPU1')['device'] is True"

snap nolib NCTOP_NVML_LIB=/nonexistent
jcheck "no library: \"gpus\": [], no error, no GPU row" "$T/nolib.json" \
    'd["gpus"] == []' '"gpu_error" not in d' \
    'not [r for r in proc()["memory"] if "GPU" in r["path"]]'

snap failing NCTOP_NVML_LIB="$FAKE" NCTOP_FAKE_NVML_FAIL=init
jcheck "a failing NVML: no GPU and its reason" "$T/failing.json" \
    'd["gpus"] == []' 'd["gpu_error"] == "NVML: cannot start: Fake Unknown Error"'

# Prometheus: the three families with exact values, and promtool accepts the whole output.
free_port() {
    "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
scrape() {
    "$PY" -c 'import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(
        "http://127.0.0.1:%s/metrics" % sys.argv[1], timeout=5).read().decode())' "$1" >"$2"
}
# prom NAME PATTERN ENV...: a headless nctop with ENV serving /metrics, scraped into
# $T/NAME.prom once a line matches PATTERN (the GPU sample runs on a worker thread and may
# come after the workload's host facts on a loaded machine).
prom() {
    local name=$1 pattern=$2 port nc
    shift 2
    port=$(free_port)
    env "$@" "$NCTOP" -p "$lm" --headless --duration 60 --prometheus "$port" \
        >"$T/$name.out" 2>"$T/$name.perr" &
    nc=$!
    PIDS+=("$nc")
    wait_for 15 sh -c "PY='$PY'; $(declare -f scrape); scrape $port '$T/$name.prom' &&
        grep -q '$pattern' '$T/$name.prom'"
    kill "$nc" 2>/dev/null
    wait "$nc" 2>/dev/null
    check "$name: nothing printed" test ! -s "$T/$name.out" -a ! -s "$T/$name.perr"
}
prom promfake "^nctop_gpu_memory_total_bytes.*Fake T4" NCTOP_NVML_LIB="$FAKE"
check "prometheus: GPU utilization ratio per GPU" grep -qx \
    'nctop_gpu_utilization_ratio{gpu="0",name="Fake A100-SXM4-80GB"} 0.87' "$T/promfake.prom"
check "prometheus: GPU memory used" grep -qx \
    "nctop_gpu_memory_used_bytes{gpu=\"1\",name=\"Fake T4\"} $GIB" "$T/promfake.prom"
check "prometheus: GPU memory total" grep -qx \
    "nctop_gpu_memory_total_bytes{gpu=\"0\",name=\"Fake A100-SXM4-80GB\"} $((80 * GIB))" \
    "$T/promfake.prom"
check "prometheus: GPU power per GPU" grep -qx \
    'nctop_gpu_power_watts{gpu="1",name="Fake T4"} 27.500' "$T/promfake.prom"
check "prometheus: GPU energy counter, only where the driver counts" sh -c "grep -qx \
    'nctop_gpu_energy_joules_total{gpu=\"0\",name=\"Fake A100-SXM4-80GB\"} 123456.789' \
    '$T/promfake.prom' && ! grep -q 'nctop_gpu_energy_joules_total{gpu=\"1\"' '$T/promfake.prom'"
if command -v promtool >/dev/null; then
    check "prometheus with GPUs: promtool check metrics passes" \
        bash -c "promtool check metrics < '$T/promfake.prom'"
else
    skip "promtool is not installed (make deps installs it)"
fi
prom promnolib "^nctop_resident_memory_bytes" NCTOP_NVML_LIB=/nonexistent
check "prometheus without a GPU: no GPU family" sh -c "! grep -q gpu '$T/promnolib.prom'"
check "prometheus without a GPU: still served" grep -q '^nctop_resident_memory_bytes' \
    "$T/promnolib.prom"

# The display header in a real terminal (private tmux server, no config).
if ! command -v tmux >/dev/null; then
    skip "tmux is not installed: the display's GPU part"
    exit 0
fi
SOCK=nctop-t$$
tm() { tmux -L "$SOCK" "$@"; }
cleanup_tmux() { tm kill-server 2>/dev/null; cleanup; }
trap cleanup_tmux EXIT
has() { wait_for 10 sh -c "tmux -L '$SOCK' capture-pane -p -t t | grep -qE -- \"\$1\"" _ "$1"; }
screen() { tm capture-pane -p -t t 2>/dev/null | grep -v '^$' | tail -n 8 | tr '\n' '|'; }
# tui NAME ENV...: the display with ENV in the pane, until q; its stderr in $T/NAME.terr
tui() {
    local name=$1
    shift
    tm respawn-pane -k -t t "env $* $NCTOP -p $lm 2>$T/$name.terr; echo rc=\$?; sleep 60"
}
tm -f /dev/null new-session -d -s t -x 120 -y 40 -c "$T" "sleep 60"
tui tuifake NCTOP_NVML_LIB="$FAKE"
if has 'GPUs 2x avg 46% 31\.0G/96\.0G'; then
    pass "header: two GPUs summarised (count, mean utilization, memory)"
else
    fail "header: two GPUs summarised (count, mean utilization, memory)" "$(screen)"
fi
tm send-keys -t t 2
if has 'GPU Memory +768M +768M'; then
    pass "memory view: the GPU Memory row"
else
    fail "memory view: the GPU Memory row" "$(screen)"
fi
tm send-keys -t t q
check "display with GPUs: exit 0, nothing on stderr" \
    sh -c "$(declare -f has wait_for); SOCK=$SOCK; has 'rc=0' && test ! -s '$T/tuifake.terr'"

tui tuifail NCTOP_NVML_LIB="$FAKE" NCTOP_FAKE_NVML_FAIL=init
if has 'NVML: cannot start: Fake Unknown Error'; then
    pass "a failing NVML: its reason in the status line"
else
    fail "a failing NVML: its reason in the status line" "$(screen)"
fi
tm send-keys -t t q
has 'rc=0' >/dev/null

tui tuinolib NCTOP_NVML_LIB=/nonexistent
if has 'RSS [0-9]' && ! tm capture-pane -p -t t | grep -qE 'GPU|NVML'; then
    pass "no library: no GPU part, no message"
else
    fail "no library: no GPU part, no message" "$(screen)"
fi
tm send-keys -t t q
check "no library: exit 0, nothing on stderr" \
    sh -c "$(declare -f has wait_for); SOCK=$SOCK; has 'rc=0' && test ! -s '$T/tuinolib.terr'"
kill "$lm" 2>/dev/null
wait "$lm" 2>/dev/null
