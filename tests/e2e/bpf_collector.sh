# SPDX-License-Identifier: MIT
# The eBPF collector on the real kernel: a program with known behaviour (tests/helpers/
# bpf_target.c) is watched with --bpf, uprobes and USDT probes; counts must match exactly and
# scheduler figures must agree with the kernel's own schedstat. Then detach, re-attach, exit,
# and the unprivileged case.
. "$(dirname "$0")/lib.sh"
need_build
TARGET=$BUILD/tests/bpf_target

if [ "$(id -u)" -ne 0 ]; then
    skip "eBPF tests need root"
    exit 77
fi
if [ ! -r /sys/kernel/btf/vmlinux ]; then
    skip "eBPF tests need a kernel with BTF (/sys/kernel/btf/vmlinux)"
    exit 77
fi

# Start the target with its stdin on a FIFO we hold open on fd 7.
mkfifo "$T/in"
"$TARGET" <"$T/in" >"$T/out" 2>&1 &
tp=$!
PIDS+=("$tp")
exec 7>"$T/in"
wait_for 10 grep -q '^ready' "$T/out" || { fail "target starts" "$(cat "$T/out")"; exit 1; }

# attach NAME ARGS...: start nctop on the target and wait until its probes are attached.
attach() {
    local name=$1
    shift
    rm -f "$T/$name.log"
    "$NCTOP" --bpf -p "$tp" --once --json --duration 60 --debug-log "$T/$name.log" "$@" \
        >"$T/$name.json" 2>"$T/$name.err" 7>&- &
    nc=$!
    PIDS+=("$nc")
    wait_for 15 grep -q 'bpf: attached' "$T/$name.log"
}

# finish: SIGINT makes nctop print its snapshot and detach.
finish() {
    kill -INT "$nc"
    wait "$nc"
}

P="$TARGET"
attach run --uprobe "$P:bpf_target_outer" --uprobe "$P:bpf_target_inner" \
    --usdt "$P:nctop_test:tick" --usdt "$P:nctop_test:batch_begin" \
    --usdt "$P:nctop_test:batch_end" || { fail "attach" "$(cat "$T/run.err")"; exit 1; }
echo go >&7
wait_for 20 grep -q '^done' "$T/out" || fail "target finishes" "$(cat "$T/out")"
sleep 0.3
finish
check "nctop --bpf exits 0" test "$?" -eq 0
check "no error line" test ! -s "$T/run.err"

read -r _ _ go_run go_wait < <(grep '^go ' "$T/out")
read -r _ main_tid main_run main_wait < <(grep '^main ' "$T/out")
read -r _ w_tid w_run w_wait < <(grep '^worker ' "$T/out")
# On-CPU and run-queue time since "go" per the kernel, in ms.
k_main=$(awk -v a="$main_run" -v b="$go_run" 'BEGIN {print (a - b) / 1e6}')
k_mainq=$(awk -v a="$main_wait" -v b="$go_wait" 'BEGIN {print (a - b) / 1e6}')
k_w=$(awk -v a="$w_run" 'BEGIN {print a / 1e6}')
k_wq=$(awk -v a="$w_wait" 'BEGIN {print a / 1e6}')

jcheck "exact counts: syscalls, uprobe calls, USDT hits" "$T/run.json" \
    'proc()["pid"] == '"$tp" 'proc()["label"] == "bpf_target"' \
    '[s["count"] for s in proc()["bpf"]["syscalls"] if s["name"] == "getppid"] == [1000]' \
    'row(proc(), "latency", "bpf_target_outer")["total"]["count"] == 100' \
    'row(proc(), "latency", "bpf_target_outer/bpf_target_inner")["total"]["count"] == 300' \
    'proc()["counters"]["usdt:nctop_test:tick"] == 50' \
    'row(proc(), "latency", "nctop_test:batch")["total"]["count"] == 10' \
    'proc()["bpf"]["dropped"] == 0' 'proc()["state"] == "live"'

thr='[t for t in proc()["bpf"]["threads"] if t["tid"] == TID][0]'
jcheck "on-CPU time within 5% of schedstat (main thread, worker thread)" "$T/run.json" \
    "abs(${thr/TID/$main_tid}[\"on_cpu_ms\"] - $k_main) <= 0.05 * $k_main" \
    "abs(${thr/TID/$w_tid}[\"on_cpu_ms\"] - $k_w) <= 0.05 * $k_w" \
    "${thr/TID/$main_tid}[\"on_cpu_ms\"] > 250"
jcheck "run-queue time near schedstat's run_delay" "$T/run.json" \
    "abs(${thr/TID/$main_tid}[\"run_queue_ms\"] - $k_mainq) <= 0.1 * $k_mainq + 5" \
    "abs(${thr/TID/$w_tid}[\"run_queue_ms\"] - $k_wq) <= 0.1 * $k_wq + 5"
jcheck "blocked time covers the sleeps; switches counted; worker marked exited" "$T/run.json" \
    "${thr/TID/$main_tid}[\"blocked_ms\"] >= 200" "${thr/TID/$w_tid}[\"blocked_ms\"] >= 100" \
    "${thr/TID/$main_tid}[\"voluntary_switches\"] >= 2" \
    "${thr/TID/$w_tid}[\"exited\"] is True" "${thr/TID/$main_tid}[\"name\"] == \"bpf_target\""
jcheck "page faults at least the pages touched; mappings counted" "$T/run.json" \
    "${thr/TID/$main_tid}[\"page_faults\"] >= 1000" "${thr/TID/$main_tid}[\"minor_faults\"] >= 1000" \
    'proc()["bpf"]["page_faults"] >= 1000' \
    'row(proc(), "memory", "Mapped Memory/mmap")["bytes"] >= 1000 * 4096' \
    'row(proc(), "memory", "Mapped Memory/munmap")["bytes"] <= -1000 * 4096'

# Detached: the target runs on unharmed (its breakpoints are gone).
echo go >&7
wait_for 10 test "$(grep -c '^again' "$T/out")" -ge 1
check "target unharmed after detaching" kill -0 "$tp"

# Re-attach to the running process: only the new calls are seen.
attach again --uprobe "$P:bpf_target_outer" || fail "re-attach" "$(cat "$T/again.err")"
echo go >&7
wait_for 10 test "$(grep -c '^again' "$T/out")" -ge 2
sleep 0.2
finish
jcheck "re-attach counts the new calls exactly" "$T/again.json" \
    'row(proc(), "latency", "bpf_target_outer")["total"]["count"] == 100'
echo go >&7
wait_for 10 test "$(grep -c '^again' "$T/out")" -ge 3
check "target unharmed after the second detach" kill -0 "$tp"

# A watched process that exits is marked exited.
attach exit || fail "attach before exit" "$(cat "$T/exit.err")"
exec 7>&-
wait "$tp"
check "target exits normally" test "$?" -eq 0
wait_for 5 grep -q 'bpf: released' "$T/exit.log"
finish
jcheck "exited process marked exited" "$T/exit.json" 'proc()["state"] == "exited"'

# Without privileges: one line says what is missing; the rest of nctop works.
if command -v setpriv >/dev/null; then
    chmod 755 "$T"
    setpriv --reuid=65534 --regid=65534 --clear-groups env HOME="$T" \
        "$NCTOP" --bpf --once --json --duration 1 --demo >"$T/np.json" 2>"$T/np.err"
    rc=$?
    check "unprivileged --bpf: exit 0" test "$rc" -eq 0
    check "unprivileged --bpf: one line naming the fix" \
        bash -c "[ \$(wc -l <'$T/np.err') -eq 1 ] && grep -q 'CAP_BPF' '$T/np.err'"
    jcheck "unprivileged --bpf: the snapshot still works" "$T/np.json" \
        'proc("tinylm")["latency"]' '"bpf" not in proc("tinylm")'
fi
