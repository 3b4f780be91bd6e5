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

# quiet_schedstat TID: "on-CPU-ns run-delay-ns voluntary involuntary" (schedstat and the switch
# counts) of the target's thread TID from the kernel, once it is blocked: state S and two
# readings 50 ms apart equal (a sleeping thread's figures stand still, so these are its figures
# at the moment it blocked, when nctop's stopped moving too).
quiet_schedstat() {
    local d=/proc/$tp/task/$1 a b i
    figures() {
        [ "$(sed 's/.*) //' "$d/stat" | cut -d' ' -f1)" = S ] &&
            echo "$(cut -d' ' -f1,2 "$d/schedstat") $(awk '/ctxt_switches/ {printf "%s ", $2}' \
                "$d/status")"
    }
    for i in $(seq 200); do
        if a=$(figures 2>/dev/null); then
            sleep 0.05
            if b=$(figures 2>/dev/null) && [ "$a" = "$b" ]; then
                echo "$a"
                return 0
            fi
        else
            sleep 0.02
        fi
    done
    return 1
}
# The machine's stolen time so far (the aggregate "cpu" line of /proc/stat), in ms.
steal_ms() {
    awk -v hz="$(getconf CLK_TCK)" '$1 == "cpu" {print $9 * 1000 / hz}' /proc/stat
}

P="$TARGET"
attach run --uprobe "$P:bpf_target_outer" --uprobe "$P:bpf_target_inner" \
    --usdt "$P:nctop_test:tick" --usdt "$P:nctop_test:batch_begin" \
    --usdt "$P:nctop_test:batch_end" || { fail "attach" "$(cat "$T/run.err")"; exit 1; }
# Attached, the target still waits for its line: the main thread's figures before the work.
read -r go_run go_wait go_vol go_invol < <(quiet_schedstat "$tp")
steal0=$(steal_ms)
echo go >&7
wait_for 20 grep -q '^done' "$T/out" || fail "target finishes" "$(cat "$T/out")"
read -r _ main_tid w_tid < <(grep '^done ' "$T/out")
# Both threads now block (main on its input, the worker until released): their figures after.
read -r main_run main_wait main_vol main_invol < <(quiet_schedstat "$main_tid")
read -r w_run w_wait w_vol w_invol < <(quiet_schedstat "$w_tid")
steal1=$(steal_ms)
finish
check "nctop --bpf exits 0" test "$?" -eq 0
check "no error line" test ! -s "$T/run.err"

# On-CPU and run-queue time over the watched interval per the kernel, in ms. The worker began
# after "go", so its whole life counts.
k_main=$(awk -v a="$main_run" -v b="$go_run" 'BEGIN {print (a - b) / 1e6}')
k_mainq=$(awk -v a="$main_wait" -v b="$go_wait" 'BEGIN {print (a - b) / 1e6}')
k_w=$(awk -v a="$w_run" 'BEGIN {print a / 1e6}')
k_wq=$(awk -v a="$w_wait" 'BEGIN {print a / 1e6}')
# The kernel leaves time stolen by the hypervisor out of its on-CPU figure; nctop, timing
# from switch to switch, counts it. The machine's stolen time over the interval (plus one
# /proc/stat tick of rounding) bounds that difference.
steal=$(awk -v a="$steal1" -v b="$steal0" -v hz="$(getconf CLK_TCK)" \
    'BEGIN {print a - b + 1000 / hz}')
# The kernel dates a switch-in that follows a wakeup from its run-queue clock, which may be as
# old as the last scheduler tick: per such switch, up to one tick of run-queue wait can show
# as on-CPU time in schedstat. A thread has one such switch-in per wakeup (its voluntary
# switches, plus its creation). The tick from the kernel's configuration, else 10 ms (HZ=100).
hz=$( { zcat /proc/config.gz 2>/dev/null || cat "/boot/config-$(uname -r)" 2>/dev/null; } |
    sed -n 's/^CONFIG_HZ=//p')
tick=$(awk -v hz="${hz:-100}" 'BEGIN {print 1000 / hz}')
thr='[t for t in proc()["bpf"]["threads"] if t["tid"] == TID][0]'
m=${thr/TID/$main_tid} w=${thr/TID/$w_tid}
jcheck "context switches equal the kernel's counts (main thread, worker thread)" "$T/run.json" \
    "$m['voluntary_switches'] == $main_vol - $go_vol" \
    "$m['involuntary_switches'] == $main_invol - $go_invol" \
    "$w['voluntary_switches'] == $w_vol" "$w['involuntary_switches'] == $w_invol"
# From its first wakeup to its last sleep a thread is on a CPU or in a run queue, so the sum
# of the two depends only on the ends of the interval, which both sides date alike.
sum_ok() { # NCTOP-THREAD KERNEL-SUM-MS
    echo "-1 <= $1['on_cpu_ms'] + $1['run_queue_ms'] - ($2) <= 1 + $steal"
}
jcheck "on-CPU plus run-queue time equals schedstat's (within 1 ms and the stolen time)" \
    "$T/run.json" "$(sum_ok "$m" "$k_main + $k_mainq")" "$(sum_ok "$w" "$k_w + $k_wq")"
# The split between them: within 5% of schedstat, the stolen time and a tick per wakeup.
split_tol() { # KERNEL-ON-CPU-MS WAKEUPS
    echo "(0.05 * $1 + $steal + $tick * ($2))"
}
jcheck "on-CPU time near schedstat's (main thread, worker thread)" "$T/run.json" \
    "abs($m['on_cpu_ms'] - $k_main) <= $(split_tol "$k_main" "$main_vol - $go_vol")" \
    "abs($w['on_cpu_ms'] - $k_w) <= $(split_tol "$k_w" "$w_vol + 1")" \
    "$m['on_cpu_ms'] > 250" "$w['on_cpu_ms'] > 120"
jcheck "run-queue time near schedstat's run_delay (main thread, worker thread)" "$T/run.json" \
    "abs($m['run_queue_ms'] - $k_mainq) <= 1 + $(split_tol "$k_main" "$main_vol - $go_vol")" \
    "abs($w['run_queue_ms'] - $k_wq) <= 1 + $(split_tol "$k_w" "$w_vol + 1")"
jcheck "blocked time covers the sleeps; switches counted; threads named" "$T/run.json" \
    "$m['blocked_ms'] >= 200" "$w['blocked_ms'] >= 100" "$m['voluntary_switches'] >= 2" \
    "$m['exited'] is False" "$w['exited'] is False" "$m['name'] == 'bpf_target'"
jcheck "page faults at least the pages touched; mappings counted" "$T/run.json" \
    "$m['page_faults'] >= 1000" "$m['minor_faults'] >= 1000" \
    'proc()["bpf"]["page_faults"] >= 1000' \
    'row(proc(), "memory", "Mapped Memory/mmap")["bytes"] >= 1000 * 4096' \
    'row(proc(), "memory", "Mapped Memory/munmap")["bytes"] <= -1000 * 4096'

# Detached: the target runs on unharmed (its breakpoints are gone).
echo go >&7
wait_for 10 test "$(grep -c '^again' "$T/out")" -ge 1
check "target unharmed after detaching" kill -0 "$tp"

# Re-attach to the running process: only the new calls are seen.
attach again --uprobe "$P:bpf_target_outer" || fail "re-attach" "$(cat "$T/again.err")"
# The worker thread ends while watched.
echo exit-worker >&7
wait_for 10 grep -q '^joined' "$T/out"
echo go >&7
wait_for 10 test "$(grep -c '^again' "$T/out")" -ge 2
sleep 0.2
finish
jcheck "re-attach counts the new calls exactly; the worker thread marked exited" \
    "$T/again.json" 'row(proc(), "latency", "bpf_target_outer")["total"]["count"] == 100' \
    "$w['exited'] is True" "$m['exited'] is False"
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

# test_issue_11: the eBPF figures appear in the text snapshot too. The workload blocks (its
# shell waits for each sleep), so the scheduler switches it whatever the machine's load.
"$NCTOP" --once --bpf -- sh -c 'for i in 1 2 3 4 5; do sleep 0.2; done' >"$T/bpf.txt" \
    2>"$T/bpf-text.err"
check "text snapshot: the eBPF threads and syscalls tables" bash -c \
    "sed -n '/^THREADS (eBPF)/,\$p' '$T/bpf.txt' | grep -qE '^sh +[0-9]+ ' &&
     sed -n '/^SYSCALLS (eBPF)/,\$p' '$T/bpf.txt' | grep -qE '^wait4 +[0-9]+ '"

# A command started under --bpf waits in its gate until the probes are attached: one that
# ends at once is seen from its first instruction. Its uprobe counts every call the workload
# itself counts, its one execve is seen, and its eBPF and libnctop figures are one process.
# (Under the sanitizers, LeakSanitizer's exit check clones a tracer process of the workload,
# which nctop rightly shows as a second process: leaks are not what this check is about.)
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
    "$NCTOP" --once --json --uprobe "$TINYLM:model_step" -- "$TINYLM" --quiet --layers 1 --dim 64 \
    --ffn 128 --vocab 256 --requests 1 --prompt 4 --gen 5 >"$T/short.json" 2>"$T/short.err"
check "short command under a uprobe: exit 0" test "$?" -eq 0
jcheck "short command: the uprobe counts every step the workload counts, in one process" \
    "$T/short.json" 'len(d["processes"]) == 1' \
    'row(proc("tinylm"), "latency", "model_step")["count"] == row(proc("tinylm"), "latency", "model_step/step")["count"]' \
    'row(proc("tinylm"), "latency", "model_step/step")["count"] == 8'

# test_issue_11: uprobe spans nest in the library's spans of the same thread, and those in
# them, though the two streams reach nctop apart: model_step encloses the step span, the
# kernels run inside the spans that call them. Each count is the workload's own: its libnctop
# row's count times the calls per instance (kernels_rope twice per rope span, kernels_rmsnorm
# once per attn_norm, mlp_norm and output span); a step per prompt token and one per token
# generated after the first (the prompt's last step samples that one). A bigger model, so
# that the events of the two streams fall in different drains.
"$NCTOP" --once --json --uprobe "$TINYLM:model_step" --uprobe "$TINYLM:kernels_rope" \
    --uprobe "$TINYLM:kernels_rmsnorm" -- "$TINYLM" --quiet --layers 2 --dim 256 --ffn 512 \
    --vocab 4096 --requests 3 --prompt 4 --gen 20 >"$T/nest.json" 2>"$T/nest.err"
check "uprobes nested in libnctop spans: exit 0" test "$?" -eq 0
c() { # PATH: the since-start count of that latency row
    echo "row(proc('tinylm'), 'latency', '$1')['total']['count']"
}
S=model_step/step
B0=$S/forward/block\ 0 B1=$S/forward/block\ 1
jcheck "uprobes nested in libnctop spans: one root, counts of the workload's own" "$T/nest.json" \
    "[r['path'] for r in proc('tinylm')['latency'] if r['level'] == 0] == ['model_step']" \
    "$(c model_step) == $(c $S) == 3 * (4 + 20 - 1)" \
    "$(c "$B0/rope/kernels_rope") == 2 * $(c "$B0/rope") == 2 * $(c $S)" \
    "$(c "$B1/rope/kernels_rope") == 2 * $(c "$B1/rope") == 2 * $(c $S)" \
    "$(c "$B0/attn_norm/kernels_rmsnorm") == $(c "$B0/attn_norm") == $(c $S)" \
    "$(c "$B1/mlp_norm/kernels_rmsnorm") == $(c "$B1/mlp_norm") == $(c $S)" \
    "$(c "$S/output/kernels_rmsnorm") == $(c "$S/output") == 3 * 20" \
    "len([p for p in paths(proc('tinylm'), 'latency') if p.endswith('/kernels_rope')]) == 2" \
    "len([p for p in paths(proc('tinylm'), 'latency') if p.endswith('/kernels_rmsnorm')]) == 5" \
    "proc('tinylm')['invalid'] == 0"
"$NCTOP" --once --json --bpf -- /bin/true >"$T/true.json" 2>"$T/true.err"
jcheck "short command: its one execve and its first mappings are seen" "$T/true.json" \
    'len(d["processes"]) == 1 and proc("true")["state"] == "exited"' \
    '[s["count"] for s in proc("true")["bpf"]["syscalls"] if s["name"] == "execve"] == [1]' \
    '[s["count"] for s in proc("true")["bpf"]["syscalls"] if s["name"] == "mmap"][0] >= 1'
"$NCTOP" --once --bpf -- no-such-command-here >/dev/null 2>"$T/nocmd.err"
rc=$?
check "gated command that does not exist: status 127, one line" \
    bash -c "[ $rc -eq 127 ] && [ \$(wc -l <'$T/nocmd.err') -eq 1 ] &&
             grep -q 'cannot start no-such-command-here: no such file' '$T/nocmd.err'"
"$NCTOP" --once --bpf -- sh -c 'kill -PIPE $$' >/dev/null 2>&1
check "gated command keeps default signal dispositions: SIGPIPE kills it (141)" test "$?" -eq 141

# test_issue_12: a recording made with --bpf keeps the eBPF facts: its replay shows the same
# bpf object the live snapshot shows (the command's one execve, its thread, its mappings).
"$NCTOP" record --bpf -o "$T/bpf.nctrec" -- /bin/true 2>"$T/bpf-rec.err"
check "record --bpf: exit 0" test "$?" -eq 0
"$NCTOP" replay --once --json "$T/bpf.nctrec" >"$T/bpf-replay.json" 2>"$T/bpf-replay.err"
jcheck "record --bpf, replay: the bpf object is there, as live" "$T/bpf-replay.json" \
    'proc("true")["bpf"] is not None' \
    '[s["count"] for s in proc("true")["bpf"]["syscalls"] if s["name"] == "execve"] == [1]' \
    '[t["name"] for t in proc("true")["bpf"]["threads"]] == ["true"]' \
    'row(proc("true"), "memory", "Mapped Memory/mmap")["bytes"] > 0'
