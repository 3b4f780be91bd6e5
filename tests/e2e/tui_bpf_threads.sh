# SPDX-License-Identifier: MIT
# The Threads view fed by the eBPF collector, in a real terminal: per-thread on-CPU, run-queue
# and blocked time for the reference workload's threads, and the hint gone.
. "$(dirname "$0")/lib.sh"
need_build
if [ "$(id -u)" -ne 0 ] || [ ! -r /sys/kernel/btf/vmlinux ]; then
    skip "the eBPF Threads view needs root and a kernel with BTF"
    exit 77
fi
SOCK=nctop-tb$$
tm() { tmux -L "$SOCK" -f /dev/null "$@"; }
trap 'tm kill-server 2>/dev/null; cleanup' EXIT
has() { wait_for 15 sh -c "tmux -L '$SOCK' capture-pane -p -t t | grep -qE -- \"\$1\"" _ "$1"; }

tm new-session -d -s t -x 120 -y 30 \
    "'$NCTOP' --bpf -- '$TINYLM' --layers 2 --dim 128 --heads 4 --kv-heads 2 --ffn 256 --vocab 1024 --threads 2 --quiet"
check "the display starts" has 'Latency'
tm send-keys -t t 5
check "Threads view has eBPF columns" has 'ON-CPU +RUNQ +BLOCKED'
check "the main thread has on-CPU time" has '^ +[0-9]+ tinylm +[0-9.]+(ns|us|ms|s) '
check "the worker thread is named and timed" has 'tinylm-w1 +[0-9.]+(ns|us|ms|s) '
check "no --bpf hint when the data is there" \
    sh -c "! tmux -L '$SOCK' capture-pane -p -t t | grep -q 'needs --bpf'"
tm send-keys -t t q
check "q quits" wait_for 10 sh -c "! tmux -L '$SOCK' has-session -t t 2>/dev/null"

# Without the privilege: the display runs, and the reason is on its status line, not printed
# over the screen.
tm new-session -d -s u -x 120 -y 30 \
    "setpriv --reuid=nobody --regid=nogroup --clear-groups env HOME=/nonexistent XDG_CONFIG_HOME=/nonexistent '$NCTOP' --bpf -- '$TINYLM' --layers 2 --dim 64 --heads 4 --kv-heads 2 --ffn 96 --vocab 512 --quiet"
check "unprivileged --bpf: the reason on the status line" \
    wait_for 15 sh -c "tmux -L '$SOCK' capture-pane -p -t u | grep -q '^--bpf: not permitted: run nctop as root'"
check "unprivileged --bpf: the display still shows the workload" \
    wait_for 15 sh -c "tmux -L '$SOCK' capture-pane -p -t u | grep -q 'step'"
tm send-keys -t u q
