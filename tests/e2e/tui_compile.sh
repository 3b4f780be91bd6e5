#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The Compile view of nctop --demo=compile in a private tmux server (no user config,
# 120x40): compilations arrive live, a failed one shows its reason in the warning colour, the
# selected one unfolds into its pass tree, the totals and the duration histogram, sort and
# filter, 20x5, the run that follows, and the compiler's counts once it is done; then the
# histogram is plain under NO_COLOR. Keys go in through send-keys; every check polls the
# screen with a bound, never after a fixed sleep.
. "$(dirname "$0")/lib.sh"
need_build
SNNC=$BUILD/snnc
EX=$ROOT/models/snnc/examples
command -v tmux >/dev/null || { skip "tmux is not installed"; exit 77; }
[ -x "$SNNC" ] && [ -x "$BUILD/snn" ] || { fail "build" "$SNNC or $BUILD/snn missing: run make"; exit 1; }

SOCK=nctop-c$$
tm() { tmux -L "$SOCK" "$@"; }
cleanup_tmux() { tm kill-server 2>/dev/null; cleanup; }
trap cleanup_tmux EXIT
screen() { tm capture-pane -p -t t 2>/dev/null; }
has() { wait_for "${WAIT:-20}" sh -c "tmux -L '$SOCK' capture-pane -p -t t | grep -qE -- \"\$1\"" _ "$1"; }
hasnt() { wait_for 20 sh -c "! tmux -L '$SOCK' capture-pane -p -t t | grep -qE -- \"\$1\"" _ "$1"; }
keys() { tm send-keys -t t "$@"; }
step() {
    local name=$1
    shift
    if "$@"; then
        pass "$name"
    else
        fail "$name" "$(screen | grep -v '^$' | tail -n 16 | tr '\n' '|')"
    fi
}
# The number of compilations the totals line shows (0 when none).
total() { screen | grep -oE '^ [0-9]+ compilations?:' | grep -oE '[0-9]+' | head -n 1; }
more_than() { [ "$(total)" -gt "$1" ] 2>/dev/null; }

# The compiler stays listed after it exits (--keep-exited) however slow a loaded machine is;
# the demo's image directory goes in a $TMPDIR of the test's own.
mkdir -p "$T/tmp"
tm -f /dev/null new-session -d -s t -x 120 -y 40 -c "$T" \
    "TMPDIR=$T/tmp $NCTOP --keep-exited 3600 --demo=compile"
step "demo compile: the Compile tab is offered once a compilation ended" has ' 8 Compile '
keys 8
step "key 8: the Compile view's columns" \
    has 'NAME +TARGET +RESULT +TIME +SHARE +MEM +PEAK +ENERGY +MESSAGE'
# The pass tree of the selected one, live: Enter unfolds the newest, which stays unfolded
# while newer ones arrive above it.
keys Enter
step "Enter unfolds the selected compilation into its passes, live" \
    has '^    parse +[0-9.]+[mun]?s +[0-9.]+%'
step "the totals line: count, ok, failed, success rate, the window's" \
    has '^ [0-9]+ compilations?: [0-9]+ ok, [0-9]+ failed( \([0-9.]+% ok\))?   window [0-9]+s: [0-9]+'
step "a histogram of the window's compile durations, shortest to longest" \
    has '^ time [0-9.]+[mun]?s [ ▁▂▃▄▅▆▇█]+ [0-9.]+[mun]?s$'
step "a compilation's line: number, model, target, result, time, peak, energy" \
    has '^▸ #[0-9]+ [a-z0-9]+ +(loihi2|spinnaker2|truenorth|cpu) +ok +[0-9.]+[mun]?s +- +[0-9.]+[KMG]?B? +[0-9.]+[KMG]? +[0-9.]+[munp]?J'
n1=$(total)
step "compilations arrive live (more than the $n1 first seen)" wait_for 60 more_than "${n1:-0}"
step "a failed one with its reason" \
    has '^▸ #[0-9]+ [a-z0-9]+ +(loihi2|spinnaker2|truenorth|cpu) +error +[0-9.]+[mun]?s .*(unknown layer|max_axons|cores per chip|partition: )'


# The run that follows: the runtime starts on the last image and the display shows it.
WAIT=180 has 'nctop snn pid [0-9]+ live'
step "the run that follows: the runtime on the last image" has 'timesteps/s [0-9.]+ +spikes/s'
# The compiler, done: its 40 compilations, 10 failed (5 descriptions, 4 targets, twice).
keys 4
step "the Workloads view lists the compiler, exited" has ' snnc +exited '
for i in 1 2 3; do
    keys Up Up Up
    for j in $(seq "$i"); do
        [ "$j" -gt 1 ] && keys Down
    done
    keys Enter
    has 'nctop snnc pid' && break
done
keys 8
step "the compiler's Compile view: 40 compilations, 30 ok, 10 failed" \
    has '^ 40 compilations: 30 ok, 10 failed \(75\.0% ok\)'
fail_in_warn() {
    tm capture-pane -e -p -t t | grep -qE $'\e\\[([0-9;]*;)?(31|91|38;5;203)merror'
}
step "the failed one in the warning colour" wait_for 20 fail_in_warn

# The pass tree of the selected one: search for an ok compilation, then Enter unfolds it.
keys c / f f 3 0 0 Enter
step "/ selects a compilation" has '^▸ #[0-9]+ ff300 '
keys Enter
step "Enter shows the pass tree of the selected one: each pass's time, share and memory" \
    has '^▾ #[0-9]+ ff300 '
keys Down Down Down Down Down Down Down Down
pass_line() { has "^    $1 +[0-9.]+[mun]?s +[0-9.]+%.* [-0-9.]+[KMG]?B? "; }
ok=1
for p in parse build quantize partition place route emit estimate; do
    pass_line "$p" || { ok=0; break; }
done
if [ "$ok" = 1 ]; then
    pass "the pass tree: parse, build, quantize, partition, place, route, emit, estimate"
else
    fail "the pass tree" "no line for $p: $(screen | grep -E '^    ' | head -n 9 | tr '\n' '|')"
fi
shares_add_up() {
    screen | "$PY" -c '
import re, sys
v = [float(m.group(1)) for m in (re.match(r"^    [a-z]+ +[0-9.]+[mun]?s +([0-9.]+)%", l) for l in sys.stdin) if m]
sys.exit(0 if len(v) == 8 and 95 <= sum(v) <= 100.5 else 1)'
}
step "the passes' shares of the compilation add up to it (95 to 100 %)" wait_for 20 shares_add_up
keys Left Left
step "Left goes to the compilation, again folds it" hasnt '^    parse '

# Sort by result: s steps through the columns (the status line names each).
for col in name target result; do
    keys s
    has "sort: $col" || break
done
step "s sorts by result: the failed ones first" has 'sort result( |$)'
first_is_error() { screen | grep -E '^[▸▾] #' | head -n 1 | grep -q ' error '; }
step "the first compilation is a failed one" wait_for 20 first_is_error
keys '<' '<' '<'
step "< steps back to execution order" has 'sort: execution order'
keys '\' d e n s e Enter
only_dense() { screen | grep -E '^[▸▾ ] #' | grep -vq dense600 && return 1; screen | grep -qE '^[▸▾ ] #[0-9]+ dense600'; }
step "\\ filters the compilations by name" wait_for 20 only_dense
keys '\' Escape
step "the filter cleared" hasnt 'filter: dense'

# The help screen has the key.
keys F1
step "the help screen lists key 8" has '8 +Compile view'
keys q
step "any key closes the help" has 'NAME +TARGET'

# A tiny terminal: no crash, nothing past its edge, the view still there.
tm resize-window -t t -x 20 -y 5
tiny() {
    [ "$(tm display -p -t t '#{pane_width}x#{pane_height}')" = 20x5 ] &&
        tm list-panes -t t -F '#{pane_dead}' | grep -qx 0 &&
        screen | grep -qE '^ [0-9]+ compilatio' && screen | grep -qE '^ time |^[▸▾] #'
}
step "20x5: the totals and the tree, no crash" wait_for 20 tiny
tm resize-window -t t -x 120 -y 40
step "full size again" has 'NAME +TARGET +RESULT'

# The demo's private directory (where the image is), in the test's $TMPDIR.
demo=$(ls -d "$T"/tmp/nctop-demo.* 2>/dev/null | head -n 1)
check "the runtime runs the demo's image" test -n "$demo" -a -s "$demo/last.img"
keys q
step "q quits" wait_for 20 sh -c "! tmux -L '$SOCK' has-session -t t 2>/dev/null"
check "the demo's directory is gone" test -n "$demo" -a ! -e "$demo"

# Under NO_COLOR the histogram is plain: block characters, no colour.
mkdir -p "$T/loop"
cp "$EX/ff.snn" "$EX/brunel.snn" "$EX/invalid.snn" "$T/loop/"
tm -f /dev/null new-session -d -s t -x 120 -y 40 -c "$T" \
    "NO_COLOR=1 $NCTOP --window 3600 --view compile -- /bin/sh -c '\"\$0\" --loop \"\$1\" --targets loihi2 --rounds 1 --pause-ms 0 --quiet; exec sleep 60' $SNNC $T/loop"
step "NO_COLOR: the compilations" has '^ 3 compilations: 2 ok, 1 failed'
plain_hist() {
    local l
    l=$(tm capture-pane -e -p -t t | grep -E ' time [^a-z]' | head -n 1)
    [ -n "$l" ] && echo "$l" | grep -q '[▁▂▃▄▅▆▇█]' && ! echo "$l" | grep -qE $'\e\\[([0-9;]*;)?(3[0-7]|9[0-7]|38;5;[0-9]+)m'
}
step "NO_COLOR: the histogram in block characters, no colour" wait_for 20 plain_hist
keys q
step "NO_COLOR: q quits" wait_for 20 sh -c "! tmux -L '$SOCK' has-session -t t 2>/dev/null"
