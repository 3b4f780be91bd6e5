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

for round in 1 2; do
    "$NCTOP" -p "$lm" --once --json --duration 1.5 >"$T/a$round.json" 2>"$T/err"
    check "attach $round: exit 0" test $? -eq 0
    jcheck "attach $round: live workload with its label" "$T/a$round.json" \
        'proc("late-lm")["state"] == "live"' 'proc()["pid"] == '"$lm"
    jcheck "attach $round: events since attaching" "$T/a$round.json" \
        'row(proc(), "latency", "step")["total"]["count"] > 0' \
        'abs(row(proc(), "latency", "step/forward/block 1")["total"]["count"] -
             row(proc(), "latency", "step")["total"]["count"]) <= 1' \
        'proc()["invalid"] == 0' 'proc()["dropped"] == 0'
    jcheck "attach $round: weights and gauges seen at once" "$T/a$round.json" \
        'row(proc(), "memory", "Model Weights")["bytes"] > 0' \
        'row(proc(), "memory", "KV Cache")["capacity_bytes"] > 0'
done

kill -INT "$lm"
wait "$lm"
check "workload exits 0 on SIGINT" test $? -eq 0
check "normal exit removes the segment" test ! -e "/dev/shm/nctop-$lm"
