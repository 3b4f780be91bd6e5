# SPDX-License-Identifier: MIT
# A workload that runs before nctop: late attach sees names, weights and gauges at once and
# events from then on; detach and re-attach work; a normal exit removes the segment.
. "$(dirname "$0")/lib.sh"
need_build

# Wide enough that a step takes about a millisecond: events/s far below what the ring holds
# between two drains even on a loaded machine, so a drop would be a bug.
NCTOP_LABEL=late-lm "$TINYLM" --layers 2 --dim 256 --heads 4 --kv-heads 2 --ffn 512 --vocab 4096 \
    --ctx 256 --prompt 4 --gen 64 --quiet &
lm=$!
PIDS+=("$lm")
if ! wait_for 10 test -e "/dev/shm/nctop-$lm"; then
    fail "workload publishes a segment" "no /dev/shm/nctop-$lm"
    exit 1
fi
pass "workload publishes a segment"
check "segment mode is 0600" test "$(stat -c %a "/dev/shm/nctop-$lm")" = 600
sleep 0.3

# Every row counts at most one parent instance more than its parent (the rows named here
# are called that many times per parent instance): the parent's last instance may still be
# open with its calls ended, which under load was seen with rope's two kernel calls.
NO_EXCESS='over_parent(proc(), {"kernels_rope": 2}) == []'

# Each round is an attach of its own. Its window is 1.5 s, run again (a new attach, twice as
# long) until it has seen a step, for 40 s at most: an oversubscribed machine can let a short
# window see none.
STEPPED='row(proc(), "latency", "step")["total"]["count"] > 0'
for round in 1 2; do
    once_until 40 "$T/a$round.json" "$STEPPED" 1.5 "$NCTOP" -p "$lm" --once --json 2>"$T/err"
    check "attach $round: exit 0" test $? -eq 0
    jcheck "attach $round: live workload with its label" "$T/a$round.json" \
        'proc("late-lm")["state"] == "live"' 'proc()["pid"] == '"$lm"
    jcheck "attach $round: events since attaching" "$T/a$round.json" \
        'row(proc(), "latency", "step")["total"]["count"] > 0' \
        'abs(row(proc(), "latency", "step/forward/block 1")["total"]["count"] -
             row(proc(), "latency", "step")["total"]["count"]) <= 1' \
        'proc()["invalid"] == 0' 'proc()["dropped"] == 0'
    # test_issue_11: the ends of spans begun before the attach, and what ran inside them, are
    # not counted: the only top-level row is the workload's own root, and no row counts more
    # instances than its parent (one more at most: a parent still open at the snapshot).
    jcheck "attach $round: no orphan rows" "$T/a$round.json" \
        '[r["path"] for r in proc()["latency"] if r["level"] == 0] == ["step"]' \
        "$NO_EXCESS"
    jcheck "attach $round: weights and gauges seen at once" "$T/a$round.json" \
        'row(proc(), "memory", "Model Weights")["bytes"] > 0' \
        'row(proc(), "memory", "KV Cache")["capacity_bytes"] > 0'
done

# test_issue_11: uprobes attached to the running workload, mid-span. The library's spans are
# read from the attach, the probes only once attached (which takes a while): a call then in
# progress shows its return alone, which is not counted. From then on the probe's function
# is a root and the library's step nests in it one for one; before, step was the root. The
# kernel called twice per rope span is counted twice per rope span, and nothing is orphaned.
if [ "$(id -u)" -eq 0 ] && [ -r /sys/kernel/btf/vmlinux ]; then
    M='row(proc(), "latency", "model_step")["total"]["count"]'
    for round in 1 2; do
        # As above: until the probes, attached a while after the start, have seen a call.
        once_until 40 "$T/u$round.json" "$M > 0" 1.5 "$NCTOP" --bpf -p "$lm" \
            --uprobe "$TINYLM:model_step" --uprobe "$TINYLM:kernels_rope" --once --json 2>"$T/uerr"
        check "uprobes mid-span $round: exit 0" test $? -eq 0
        R='row(proc(), "latency", "model_step/step/forward/block 1/rope")["total"]["count"]'
        jcheck "uprobes mid-span $round: nested, no orphan rows" "$T/u$round.json" \
            '[r["path"] for r in proc()["latency"] if r["level"] == 0 and r["path"] != "step"] == ["model_step"]' \
            "$M > 0" "$NO_EXCESS" \
            "abs(row(proc(), \"latency\", \"model_step/step\")[\"total\"][\"count\"] - $M) <= 1" \
            "abs(row(proc(), \"latency\", \"model_step/step/forward/block 1/rope/kernels_rope\")[\"total\"][\"count\"] - 2 * $R) <= 2" \
            'proc()["invalid"] == 0'
    done
else
    skip "uprobes mid-span: need root and a kernel with BTF"
fi

kill -INT "$lm"
wait "$lm"
check "workload exits 0 on SIGINT" test $? -eq 0
check "normal exit removes the segment" test ! -e "/dev/shm/nctop-$lm"
