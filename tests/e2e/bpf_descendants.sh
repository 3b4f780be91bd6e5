# SPDX-License-Identifier: MIT
# --bpf follows the command's descendants: a real compile (the cc driver runs cc1, then as)
# shows cc1 and as as processes of their own under cc, with their syscalls, CPU time (against
# the driver's own -time report), peak RSS and exit status; a failed compile shows the
# non-zero exits; the Workloads view lists the children indented under cc.
. "$(dirname "$0")/lib.sh"
need_build
if [ "$(id -u)" -ne 0 ] || [ ! -r /sys/kernel/btf/vmlinux ]; then
    skip "following descendants needs root and a kernel with BTF"
    exit 77
fi
if ! command -v cc >/dev/null || ! cc -v 2>&1 | grep -q '^gcc version' ||
    [ ! -x "$(cc -print-prog-name=cc1)" ]; then
    skip "needs cc to be the gcc driver (it runs cc1 and as)"
    exit 77
fi
SRC=$ROOT/src/base/strtab.c

# A good compile: -time makes the driver report each child's CPU time (its wait4 figures).
"$NCTOP" --bpf --once --json -- cc -time -O2 -I"$ROOT" -c "$SRC" -o "$T/strtab.o" \
    >"$T/ok.json" 2>"$T/ok.err"
check "nctop --bpf -- cc exits 0" test "$?" -eq 0
check "the compile made its object" test -s "$T/strtab.o"
cpu_of() { sed -n "s/^# $1 \([0-9.]*\) \([0-9.]*\)\$/\1 \2/p" "$T/ok.err" | awk '{print ($1 + $2) * 1000}'; }
cc1_ms=$(cpu_of cc1)
as_ms=$(cpu_of as)
check "the driver reported its children's CPU time" test -n "$cc1_ms" -a -n "$as_ms"

# kid(label): the one process of that label; chain(p): its ancestors' labels, nearest first.
K='[p for p in d["processes"] if p["label"] == L][0]'
cc=${K/L/'"cc"'} cc1=${K/L/'"cc1"'} as=${K/L/'"as"'}
jcheck "cc, cc1 and as are processes of their own" "$T/ok.json" \
    "sorted(p['label'] for p in d['processes']) == ['as', 'cc', 'cc1']"
jcheck "cc1 and as descend from the cc driver" "$T/ok.json" \
    "$cc1['ppid'] == $cc['pid']" "$as['ppid'] == $cc['pid']" "$cc['ppid'] != $cc['pid']"
for k in cc cc1 as; do
    p=${!k}
    jcheck "$k: exited with status 0" "$T/ok.json" \
        "$p['state'] == 'exited'" "$p['exit_status'] == 0" "$p['exit_signal'] is None" \
        "$p['reason'] == 'exit status 0'"
    jcheck "$k: its syscalls counted, execve among them" "$T/ok.json" \
        "[s['count'] for s in $p['bpf']['syscalls'] if s['name'] == 'execve'][0] >= 1" \
        "sum(s['count'] for s in $p['bpf']['syscalls']) > 10"
    jcheck "$k: CPU time and peak RSS" "$T/ok.json" \
        "$p['host']['cpu_time_ms'] > 0" \
        "$p['host']['rss_peak_bytes'] >= $p['host']['rss_bytes'] > 0"
done
# The driver prints its children's times to 10 ms; nctop's are the kernel's to the
# nanosecond (up to a scheduler tick short at the exit).
jcheck "cc1's and as's CPU time agree with the driver's -time report (10 ms + 10 %)" "$T/ok.json" \
    "abs($cc1['host']['cpu_time_ms'] - $cc1_ms) <= 10 + 0.1 * $cc1_ms" \
    "abs($as['host']['cpu_time_ms'] - $as_ms) <= 10 + 0.1 * $as_ms"
jcheck "cc1 is a compiler's size (peak RSS over 4 MiB)" "$T/ok.json" \
    "$cc1['host']['rss_peak_bytes'] > 4 << 20"

# A failed compile: cc1 finds the syntax error and exits 1, cc does too, as never runs.
printf 'int main(void) { return 0 }\n' >"$T/bad.c"
"$NCTOP" --bpf --once --json -- cc -O2 -c "$T/bad.c" -o "$T/bad.o" >"$T/bad.json" 2>"$T/bad.err"
check "nctop ends with the failed command's status" test "$?" -ne 0
jcheck "a failed compile: cc1 and cc exit 1, no as" "$T/bad.json" \
    "$cc1['exit_status'] == 1" "$cc['exit_status'] == 1" "$cc1['ppid'] == $cc['pid']" \
    "$cc1['reason'] == 'exit status 1'" "'as' not in [p['label'] for p in d['processes']]"

# The Workloads view: cc1 and as under cc, indented one step, with their exits.
SOCK=nctop-desc$$
tm() { tmux -L "$SOCK" -f /dev/null "$@"; }
trap 'tm kill-server 2>/dev/null; cleanup' EXIT
tm new-session -d -s t -x 120 -y 30 \
    "'$NCTOP' --bpf -- cc -O2 -I'$ROOT' -c '$SRC' -o '$T/tui.o'"
screen() { tm capture-pane -p -t t; }
has() { wait_for 20 sh -c "tmux -L '$SOCK' capture-pane -p -t t | grep -qE -- \"\$1\"" _ "$1"; }
check "the display shows the compile ended" has 'exited \(exit status 0\)'
tm send-keys -t t 4
# tree_ok: the cc line, then cc1's and as's right after it, their labels two columns in.
tree_ok() {
    screen | "$PY" -c '
import re, sys
lines = sys.stdin.read().split("\n")
row = re.compile(r"^ +\*?[0-9]+ ( *)(cc|cc1|as) +exit 0 ")
seen = [(i, m.group(2), len(m.group(1))) for i, l in enumerate(lines) for m in [row.match(l)] if m]
labels = [s[1] for s in seen]
assert labels == ["cc", "cc1", "as"], seen
assert seen[1][0] == seen[0][0] + 1 and seen[2][0] == seen[0][0] + 2, seen
assert seen[1][2] == seen[2][2] == seen[0][2] + 2, seen
'
}
check "the Workloads view lists cc, then cc1 and as indented under it, each exit 0" \
    wait_for 20 tree_ok
tm send-keys -t t q
check "q quits" wait_for 10 sh -c "! tmux -L '$SOCK' has-session -t t 2>/dev/null"

# -p PID follows too: a shell watched while it waits starts a child, which shows under it.
mkfifo "$T/go"
sh -c 'read x <"$0"; /bin/true; exit 3' "$T/go" &
sp=$!
PIDS+=("$sp")
"$NCTOP" --bpf -p "$sp" --once --json --duration 60 --debug-log "$T/p.log" >"$T/p.json" 2>"$T/p.err" &
nc=$!
PIDS+=("$nc")
check "nctop --bpf -p attaches" wait_for 15 grep -q 'bpf: attached' "$T/p.log"
echo go >"$T/go"
wait "$sp"
check "nctop learnt of the -p process's child" wait_for 15 grep -q "bpf: following pid [0-9]*, child of $sp" "$T/p.log"
kill -INT "$nc"
wait "$nc"
sh_=${K/L/'"sh"'} true_=${K/L/'"true"'}
jcheck "-p: the shell's child is 'true' under it, exit 0; the shell exit 3" "$T/p.json" \
    "$true_['ppid'] == $sp" "$true_['exit_status'] == 0" "$sh_['exit_status'] == 3" \
    "[s['count'] for s in $true_['bpf']['syscalls'] if s['name'] == 'execve'][0] == 1"
