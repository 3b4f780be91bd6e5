#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The display in a real terminal (a private tmux server, no user config, 120x40): nctop runs
# the fixed-timing workload tests/helpers/tui_tree; keys and mouse events go in through
# send-keys, screens come back through capture-pane, polled (never a fixed sleep), and are
# compared with tests/golden/ after masking numbers. UPDATE_GOLDEN=1 rewrites the goldens.
. "$(dirname "$0")/lib.sh"
need_build
TREE=$BUILD/tests/tui_tree
GOLDEN=$ROOT/tests/golden
command -v tmux >/dev/null || { skip "tmux is not installed"; exit 77; }
[ -x "$TREE" ] || { fail "build" "$TREE missing: run make"; exit 1; }

SOCK=nctop-t$$
tm() { tmux -L "$SOCK" "$@"; }
cleanup_tmux() { tm kill-server 2>/dev/null; cleanup; }
trap cleanup_tmux EXIT

screen() { tm capture-pane -p -t t 2>/dev/null; }
# Numbers, units and bar glyphs change from run to run; the words and the layout do not.
mask() {
    sed -E -e 's/[▏▎▍▌▋▊▉█▁▂▃▄▅▆▇]+/~/g' \
        -e 's/[0-9]+(\.[0-9]+)?(ns|us|ms|s|K|M|G|B|%)?/#/g' -e 's/ +/ /g' -e 's/ $//'
}
# has PATTERN: the screen shows an extended regex; poll every 20 ms for up to 10 s.
has() { wait_for 10 sh -c "tmux -L '$SOCK' capture-pane -p -t t | grep -qE -- \"\$1\"" _ "$1"; }
hasnt() { wait_for 10 sh -c "! tmux -L '$SOCK' capture-pane -p -t t | grep -qE -- \"\$1\"" _ "$1"; }
count() { screen | grep -cE -- "$1"; }
keys() { tm send-keys -t t "$@"; }
# golden NAME: the masked screen equals tests/golden/tui_NAME.txt (polled: a loaded machine may
# show a frame drawn before the last key, or a figure not measured yet).
golden() {
    local want=$GOLDEN/tui_$1.txt got i
    if [ "${UPDATE_GOLDEN:-0}" = 1 ]; then
        # Not with a passing status message (the command's output file is named for 5 s),
        # nor with the blank lines at the end that the comparison ignores.
        wait_for 10 sh -c "! tmux -L '$SOCK' capture-pane -p -t t | grep -q 'output of '"
        screen | mask | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}' >"$want"
        pass "golden $1 (updated)"
        return
    fi
    for i in $(seq 100); do
        got=$(screen | mask)
        [ "$got" = "$(cat "$want" 2>/dev/null)" ] && break
        sleep 0.1
    done
    if [ "$got" = "$(cat "$want" 2>/dev/null)" ]; then
        pass "golden $1"
    else
        fail "golden $1" "$(diff <(printf '%s\n' "$got") "$want" | head -n 6 | tr '\n' '|')"
    fi
}
# step NAME CHECK...: PASS when the check holds (every check polls: has, hasnt, wait_for),
# FAIL with the screen otherwise.
step() {
    local name=$1
    shift
    if "$@"; then
        pass "$name"
    else
        fail "$name" "$(screen | grep -v '^$' | tail -n 12 | tr '\n' '|')"
    fi
}

tm -f /dev/null new-session -d -s t -x 120 -y 40 -c "$T" "$NCTOP -- $TREE"
# Steady state: rates need two samples, the inter-token latency two tokens.
step "starts with the latency view" has 'tokens/s [0-9]'
step "blocks visible, phases folded" has '▸ block 3'
has 'ITL p50' && has 'events [0-9]+/s' && has 'RSS'
golden start

keys j j Enter
step "Enter expands the selected row" has '▾ block 0'
step "its children show" has '^ +attn '
golden expanded
keys Down Down Left Left
step "Left on a child goes to its parent, Left again collapses it" hasnt '^ +attn '
keys '*'
step "* expands everything" wait_for 10 sh -c '[ "$(tmux -L '"$SOCK"' capture-pane -p -t t | grep -cE "^ +attn ")" -eq 4 ]'
keys c
step "c collapses everything" hasnt 'forward'
keys Right
step "Right expands" has '▸ forward|▾ forward'
keys Home Right Right
step "Right on an open row goes to its child" has '▾ forward'

keys '/' m l p
step "search moves as you type, opening the match's ancestors" has '^ +mlp '
keys Enter
step "Enter keeps the match" has '^ +mlp '
keys n
step "n goes to the next match" wait_for 10 sh -c '[ "$(tmux -L '"$SOCK"' capture-pane -p -t t | grep -cE "^ +mlp ")" -eq 2 ]'
keys N
step "N goes back" has '^ +mlp '

keys c '\' a t t n Enter
step "filter shows matches and their ancestors" has 'filter: attn'
step "filter hides the rest" hasnt 'sampling|^ +mlp '
step "filter keeps every match" wait_for 10 sh -c '[ "$(tmux -L '"$SOCK"' capture-pane -p -t t | grep -cE "^ +attn ")" -eq 4 ]'
golden filtered
keys '\' Escape
step "Esc clears the filter" hasnt 'filter:'
keys '*'

keys s
step "s sorts by the first column" has 'sort name'
keys I
step "I inverts the order (sampling before forward)" wait_for 10 sh -c 'tmux -L '"$SOCK"' capture-pane -p -t t | grep -E "sampling|forward" | head -n 1 | grep -q sampling'
keys I '<' '<'
step "< steps back through the columns" has 'sort share'
keys '>'
step "> steps forward" hasnt 'sort '

keys w
step "w shows statistics since start" has 'since start'
keys w
step "w goes back to the window" has 'window [0-9]+s'

keys 2
step "2: memory view" has 'Model Weights'
step "memory columns" has 'CURRENT +PEAK +CAPACITY'
golden memory
keys 3
step "3: kernels view" has 'matmul' && has 'BACKEND'
keys 4
step "4: workloads view" has 'tui_tree +live'
keys Enter
step "Enter on a workload shows it in the latency view" has 'showing tui_tree'
keys 5
step "5: threads with the --bpf hint" has 'needs --bpf' && has ' main'
keys Tab
step "Tab wraps to the first view" has 'NAME +LAST +MEAN'
keys BTab
step "Shift-Tab goes back" has 'needs --bpf'
keys 1

keys '?'
step "? shows the help" has 'expand everything'
golden help
keys x
step "any key closes the help" has 'F1Help'
keys F1
step "F1 shows the help" has 'this help'
keys q
step "q closes the help, not nctop" has 'F1Help'

# Mouse (X10 encoding, as TERM=screen declares): a press on block 1's marker expands it;
# the wheel moves the selection.
keys c Right Down Right
has '▸ block 1'
y=$(screen | grep -n '▸ block 1' | head -n 1 | cut -d: -f1)
x=$(screen | grep '▸ block 1' | head -n 1 | awk '{print index($0, "▸") - 1}')
tm send-keys -t t -H 1b 5b 4d 20 "$(printf %x $((33 + x)))" "$(printf %x $((32 + y)))"
step "a click on a marker expands" has '▾ block 1'
tm send-keys -t t -H 1b 5b 4d 61 30 30
step "the wheel is accepted" has '▾ block 1'

keys p
step "p freezes" has 'PAUSED'
keys p
step "p resumes" hasnt 'PAUSED'
keys l
step "l answers in the status line" has 'logging'

for size in "20 5" "1 1" "30 8" "45 12" "80 24" "200 60" "120 40"; do
    set -- $size
    tm resize-window -t t -x "$1" -y "$2"
    if wait_for 5 sh -c "[ \"\$(tmux -L '$SOCK' display -p -t t '#{pane_width}x#{pane_height}')\" = '$1x$2' ]" &&
        tm list-panes -t t -F '#{pane_dead}' | grep -qx 0; then
        pass "resize to $1x$2"
    else
        fail "resize to $1x$2" "$(tm display -p -t t '#{pane_width}x#{pane_height} #{pane_dead}')"
    fi
    [ "$1" = 20 ] && has 'NAME' && golden tiny
done
step "full size again after resizes" has 'F1Help'

has "pid [0-9]+ live"
pid=$(screen | grep -oE "pid [0-9]+" | head -n 1 | cut -d" " -f2)
keys e
step "e writes a snapshot and names it" has 'snapshot written to nctop-snapshot-'
keys q
if wait_for 10 sh -c "! tmux -L '$SOCK' has-session -t t"; then
    pass "q quits"
else
    fail "q quits" "still running"
fi
if [ -n "$pid" ] && wait_for 10 sh -c "! kill -0 $pid"; then
    pass "the started command ends with nctop"
else
    fail "the started command ends with nctop" "pid ${pid:-?} alive"
fi
