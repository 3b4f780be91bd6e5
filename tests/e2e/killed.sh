# SPDX-License-Identifier: MIT
# A workload killed with SIGKILL mid-run: nctop marks it exited, keeps its last data and keeps
# running; a segment left behind by a dead workload is recognised and removed.
. "$(dirname "$0")/lib.sh"
need_build

ARGS=(--layers 2 --dim 64 --heads 4 --kv-heads 2 --ffn 96 --vocab 512 --ctx 128)

# Not --quiet: the workload's line for its first finished request (on the stderr it shares
# with nctop) says it has published steps; it is killed then, however long that took.
"$NCTOP" --once --json --duration 60 -- "$TINYLM" "${ARGS[@]}" \
    >"$T/k.json" 2>"$T/err" &
nc=$!
PIDS+=("$nc")
lm=""
wait_for 10 pgrep -P "$nc" >/dev/null && lm=$(pgrep -P "$nc" | head -n 1)
wait_for 10 test -e "/dev/shm/nctop-$lm"
wait_for 30 grep -q '^tinylm: request 1:' "$T/err" || fail "the workload serves a request" "$(cat "$T/err")"
kill -9 "$lm"
start=$(date +%s)
wait "$nc"
rc=$?
# Like time(1): the command's status, 128 + SIGKILL (test_issue_11_command).
check "nctop exits 137 (the command's status) after the workload is killed" test "$rc" -eq 137
check "nctop reports within seconds, not at --duration" test $(($(date +%s) - start)) -lt 10
jcheck "killed workload: exited, last data kept" "$T/k.json" \
    'proc("tinylm")["state"] == "exited"' \
    '"signal 9" in proc()["reason"]' 'proc()["invalid"] == 0' \
    'row(proc(), "latency", "step")["total"]["count"] > 0' \
    'row(proc(), "memory", "Model Weights")["bytes"] > 0'
check "nctop removed the dead workload's segment" test ! -e "/dev/shm/nctop-$lm"

# A workload killed while nobody watches leaves a stale segment.
"$TINYLM" "${ARGS[@]}" --quiet &
lm=$!
PIDS+=("$lm")
wait_for 10 test -e "/dev/shm/nctop-$lm"
kill -9 "$lm"
wait "$lm" 2>/dev/null
check "stale segment left by SIGKILL" test -e "/dev/shm/nctop-$lm"
"$NCTOP" --once --json --duration 0.3 >"$T/s.json" 2>/dev/null
check "nctop removes the stale segment" test ! -e "/dev/shm/nctop-$lm"
jcheck "stale segment is not shown as a workload" "$T/s.json" \
    'all(p["pid"] != '"$lm"' for p in d["processes"])'
