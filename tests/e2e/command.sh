#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# What a command started by nctop gets (test_issue_11_command): nctop exits with the command's
# status (128 + signal when killed) in --once, record, --headless and the display, its own
# status when it ended the command itself; --headless ends when the command does; under the
# display the command's output goes to a file the status line names and is shown on quit.
. "$(dirname "$0")/lib.sh"
need_build

status_of() {
    local want=$1 name=$2 rc
    shift 2
    timeout --kill-after=5 60 "$@" >"$T/out" 2>"$T/err" </dev/null
    rc=$?
    if [ "$rc" -eq "$want" ]; then
        pass "$name: status $want"
    else
        fail "$name: status $want" "got $rc: $(tail -n 2 "$T/err" | tr '\n' ' ')"
    fi
}

status_of 3 "--once -- cmd that exits 3" "$NCTOP" --once -- sh -c 'exit 3'
status_of 139 "--once -- cmd killed by SIGSEGV" "$NCTOP" --once -- sh -c 'kill -SEGV $$'
status_of 0 "--once -- tinylm" "$NCTOP" --once -o /dev/null -- "$TINYLM" --quiet --tokens 3
status_of 4 "record -- cmd that exits 4" "$NCTOP" record -o "$T/r.nctrec" -- sh -c 'exit 4'
status_of 5 "--headless -- cmd that exits 5" "$NCTOP" --headless -- sh -c 'exit 5'
# nctop ended it (--duration): nctop's own status, not the SIGTERM's 143.
status_of 0 "--once --duration ends the command: nctop's status" \
    "$NCTOP" --once -o /dev/null --duration 0.5 -- "$TINYLM" --quiet --tokens 100000
"$NCTOP" --once -- sh -c 'exit 0' >/dev/null 2>"$T/nolink"
check "a command that links nothing: the message suggests --bpf" grep -q -- '--bpf' "$T/nolink"

# --headless -- CMD ends when CMD ends (no --duration): well within the bound.
start=$(date +%s)
timeout --kill-after=5 60 "$NCTOP" --headless -- "$TINYLM" --quiet --tokens 5 >/dev/null 2>&1
rc=$?
if [ "$rc" -eq 0 ] && [ $(($(date +%s) - start)) -lt 60 ]; then
    pass "--headless -- CMD ends when CMD ends"
else
    fail "--headless -- CMD ends when CMD ends" "status $rc after $(($(date +%s) - start)) s"
fi

# Messages that name the cause (test_issue_11_messages).
msg_of() {
    local name=$1 want=$2
    shift 2
    if "$@" >/dev/null 2>"$T/msg" </dev/null; then
        fail "$name" "status 0"
    elif grep -q -- "$want" "$T/msg"; then
        pass "$name"
    else
        fail "$name" "$(tr '\n' ' ' <"$T/msg")"
    fi
}
msg_of "-p of no process: no such process" "no such process" "$NCTOP" --once -p 999999999
sleep 60 &
sp=$!
PIDS+=("$sp")
msg_of "-p of a process that links nothing: suggests --bpf" "watch it with --bpf" \
    "$NCTOP" --once --duration 0.3 -p "$sp"
if [ "$(id -u)" -eq 0 ] && setpriv --reuid=65534 --regid=65534 --clear-groups true 2>/dev/null; then
    "$TINYLM" --quiet --tokens 100000 >/dev/null 2>&1 &
    tp=$!
    PIDS+=("$tp")
    wait_for 10 test -e "/dev/shm/nctop-$tp"
    msg_of "-p of another user's workload: names the owner" "belongs to uid 0" \
        setpriv --reuid=65534 --regid=65534 --clear-groups env HOME="$T" \
        "$NCTOP" --once --duration 0.3 -p "$tp"
    msg_of "--prometheus below 1024 without privilege: says why" "below 1024" \
        setpriv --reuid=65534 --regid=65534 --clear-groups env HOME="$T" \
        "$NCTOP" --headless --duration 1 --prometheus 127.0.0.1:80
    kill "$tp" 2>/dev/null
else
    skip "another user's workload and a low port: need root and setpriv"
fi
msg_of "an unknown column is named" "'bogus' is none" "$NCTOP" --once --columns p99,bogus -- true

# test_issue_10_keep_exited: an exited workload nctop found by itself is forgotten after
# --keep-exited (the default run keeps it, so the check is not vacuous).
keep_run() {
    "$NCTOP" --once --json --duration 10 "$@" -o "$T/keep.json" 2>/dev/null &
    local n=$!
    # A workload that lives 4 s (several scans: nctop finds it) and ends 6 s before the
    # snapshot.
    NCTOP_LABEL=agedout$$ timeout 4 "$TINYLM" --quiet --tokens 1000000 --layers 1 --dim 64 \
        --ffn 128 --vocab 256 >/dev/null 2>&1
    wait "$n"
}
keep_run
jcheck "default: the exited workload is still shown" "$T/keep.json" \
    'any(p["label"] == "agedout'$$'" and p["state"] == "exited" for p in d["processes"])'
keep_run --keep-exited 1
jcheck "--keep-exited 1: the exited workload is forgotten" "$T/keep.json" \
    'not any(p["label"] == "agedout'$$'" for p in d["processes"])'

# A command that ignores SIGTERM: nctop sends SIGKILL after its grace period and ends with
# its own status (0: nctop ended the command), and says so in its diagnostics.
"$NCTOP" --headless --debug-log "$T/grace.log" -- /usr/bin/python3 -c \
    'import signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print("ready", flush=True); time.sleep(120)' \
    >"$T/grace.out" 2>&1 &
nc=$!
PIDS+=("$nc")
wait_for 30 grep -q '^ready' "$T/grace.out"
kill -TERM "$nc"
wait "$nc"
rc=$?
check "a command that ignores SIGTERM is killed after the grace period; nctop exits 0" \
    bash -c "[ $rc -eq 0 ] && grep -q 'ignored SIGTERM: sending SIGKILL' '$T/grace.log'"
check "the killed command's output reached the terminal" grep -q '^ready' "$T/grace.out"

# The display: the output goes to a file named on the status line, shown on quit, and the
# command's status is nctop's.
command -v tmux >/dev/null || { skip "tmux is not installed: the display part"; exit 0; }
SOCK=nctop-t$$
tm() { tmux -L "$SOCK" "$@"; }
cleanup_tmux() { tm kill-server 2>/dev/null; cleanup; }
trap cleanup_tmux EXIT
mkdir -p "$T/tmp"
cat >"$T/fail.sh" <<'EOF'
echo "about to fail"
exit 2
EOF
tm -f /dev/null new-session -d -s t -x 120 -y 40 -c "$T" "sleep 600"
tm respawn-pane -k -t t "TMPDIR=$T/tmp $NCTOP -- sh $T/fail.sh 2>$T/tui.err; echo \$? >$T/tui.rc; sleep 600"
if wait_for 30 sh -c "tmux -L '$SOCK' capture-pane -p -t t | grep -q 'output of sh: $T/tmp/nctop-'"; then
    pass "display: the status line names the output file"
else
    fail "display: the status line names the output file" "$(tm capture-pane -p -t t | tail -n 3 | tr '\n' '|')"
fi
check "display: the command's output is not on the screen" \
    bash -c "! tmux -L '$SOCK' capture-pane -p -t t | grep -q 'about to fail'"
wait_for 30 sh -c "ls $T/tmp/nctop-*-sh.out >/dev/null 2>&1 && grep -q 'about to fail' $T/tmp/nctop-*-sh.out"
tm send-keys -t t q
if wait_for 20 test -s "$T/tui.rc" && [ "$(cat "$T/tui.rc")" = 2 ]; then
    pass "display: nctop exits with the command's status after q"
else
    fail "display: nctop exits with the command's status after q" "status $(cat "$T/tui.rc" 2>/dev/null)"
fi
check "display: the output is shown on quit" grep -q 'about to fail' "$T/tui.err"
check "display: the quit message names the file" grep -q "is in $T/tmp/nctop-" "$T/tui.err"
exit 0
