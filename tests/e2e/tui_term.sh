#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The display and its terminal: a clear one-line error (status 1, no command started) without a
# usable terminal; colours on 8- and 256-colour terminals; none with NO_COLOR or --color never;
# nctoprc read before the flags, and its errors named by file and line.
. "$(dirname "$0")/lib.sh"
need_build
TREE=$BUILD/tests/tui_tree
command -v tmux >/dev/null || { skip "tmux is not installed"; exit 77; }

SOCK=nctop-t$$
tm() { tmux -L "$SOCK" "$@"; }
cleanup_tmux() { tm kill-server 2>/dev/null; cleanup; }
trap cleanup_tmux EXIT

# No terminal at all: stdin and stdout are not ttys.
out=$("$NCTOP" -- "$TREE" 987654$$ </dev/null 2>&1 >/dev/null)
rc=$?
if [ "$rc" -eq 1 ] && [ "$(echo "$out" | wc -l)" -eq 1 ] && echo "$out" | grep -q -- '--once or --headless'; then
    pass "no terminal: one line, status 1"
else
    fail "no terminal: one line, status 1" "rc=$rc: $out"
fi
pgrep -f "tui_tree 987654$$" >/dev/null && fail "no command is left behind" || pass "no command is left behind"

# In a terminal, with TERM unset, unknown or dumb.
tm -f /dev/null new-session -d -s t -x 100 -y 20 -c "$T" "sleep 60"
# ncurses keeps the pre-screen of a failed newterm (its leak, not ours): tell LeakSanitizer.
echo 'leak:new_prescr' >"$T/lsan.supp"
for term in unset nosuchterminal dumb; do
    if [ "$term" = unset ]; then env="env -u TERM"; else env="env TERM=$term"; fi
    tm respawn-pane -k -t t "LSAN_OPTIONS=suppressions=$T/lsan.supp:print_suppressions=0 $env $NCTOP -- $TREE; echo rc=\$?; sleep 60"
    if wait_for 10 sh -c "tmux -L '$SOCK' capture-pane -p -t t | grep -q 'rc='"; then
        s=$(tm capture-pane -p -t t | grep -v '^$')
        if echo "$s" | grep -q 'rc=1' && echo "$s" | grep -q -- '--once or --headless' &&
            [ "$(echo "$s" | wc -l)" -eq 2 ]; then
            pass "TERM $term: one-line error, status 1"
        else
            fail "TERM $term: one-line error, status 1" "$(echo "$s" | tr '\n' '|')"
        fi
    else
        fail "TERM $term: one-line error, status 1" "no exit"
    fi
done

# colours: run nctop in the pane with an environment, wait for the tree, look at the escapes.
colours() {
    tm respawn-pane -k -t t "env $1 $NCTOP $2 -- $TREE"
    wait_for 10 sh -c "tmux -L '$SOCK' capture-pane -p -t t | grep -q 'block 3'" &&
        tm capture-pane -e -p -t t
}
s=$(colours TERM=screen "")
echo "$s" | grep -qE $'\e\\[[0-9;]*3[0-7][;m]' && pass "8 colours on TERM=screen" ||
    fail "8 colours on TERM=screen" "no colour escapes"
s=$(colours TERM=tmux-256color "")
echo "$s" | grep -qE $'\e\\[[0-9;]*38;5;[0-9]+' && pass "256 colours on TERM=tmux-256color" ||
    fail "256 colours on TERM=tmux-256color" "no 256-colour escapes"
s=$(colours "TERM=tmux-256color NO_COLOR=1" "")
if echo "$s" | grep -qE $'\e\\[[0-9;]*(3[0-7]|4[0-7]|38;5|48;5)[;m]'; then
    fail "NO_COLOR: no colours" "$(echo "$s" | grep -oE $'\e\\[[0-9;]*m' | sort -u | tr '\n' ' ')"
else
    echo "$s" | grep -qE $'\e\\[[0-9;]*7m' && pass "NO_COLOR: no colours, reverse video stays" ||
        fail "NO_COLOR: no colours, reverse video stays" "no reverse video"
fi
s=$(colours TERM=screen "--color never")
echo "$s" | grep -qE $'\e\\[[0-9;]*3[0-7][;m]' && fail "--color never" "colours" || pass "--color never"
colours "TERM=screen LANG=C LC_ALL=C" "" >/dev/null
s=$(tm capture-pane -p -t t)
echo "$s" | grep -qE '^ +\+ block 3' && pass "ASCII markers without UTF-8" ||
    fail "ASCII markers without UTF-8" "$(echo "$s" | grep 'block 3')"

# nctoprc: read before the flags; a flag wins; a bad line is a usage error with file:line.
mkdir -p "$XDG_CONFIG_HOME/nctop"
printf '# test\nview = memory\ncollapse-depth = 0\n' >"$XDG_CONFIG_HOME/nctop/nctoprc"
tm respawn-pane -k -t t "$NCTOP -- $TREE"
wait_for 10 sh -c "tmux -L '$SOCK' capture-pane -p -t t | grep -q 'Model Weights'" &&
    pass "nctoprc: view = memory" || fail "nctoprc: view = memory" "not the memory view"
tm respawn-pane -k -t t "$NCTOP --view latency -- $TREE"
wait_for 10 sh -c "tmux -L '$SOCK' capture-pane -p -t t | grep -qE '^▸ step'" &&
    pass "nctoprc: collapse-depth = 0, and a flag wins over the file" ||
    fail "nctoprc: collapse-depth = 0, and a flag wins over the file" "$(tm capture-pane -p -t t | sed -n 7p)"
printf 'view = latency\nsort = fastest\n' >"$XDG_CONFIG_HOME/nctop/nctoprc"
out=$("$NCTOP" --once 2>&1)
rc=$?
[ "$rc" -eq 2 ] && echo "$out" | grep -q 'nctoprc:2: --sort' && pass "nctoprc: a bad value names file and line" ||
    fail "nctoprc: a bad value names file and line" "rc=$rc: $out"
# test_issue_11: every setting has a key (window, log-dir, log, prometheus...); an unknown key
# is a warning with file and line, never a stop; --once leaves nctoprc's exporter out.
printf 'window = 30\nlog = yes\nlog-dir = %s/rclogs\nprometheus = 127.0.0.1:1\nno_such_key = 1\n' \
    "$T" >"$XDG_CONFIG_HOME/nctop/nctoprc"
out=$("$NCTOP" --once --json -o "$T/rc.json" -- "$TINYLM" --quiet --tokens 2 --layers 1 --dim 64 --ffn 128 --vocab 256 2>&1)
rc=$?
if [ "$rc" -eq 0 ] && echo "$out" | grep -q "nctoprc:5: unknown setting 'no_such_key'" &&
    "$PY" -c 'import json,sys; assert json.load(open(sys.argv[1]))["window_s"] == 30' "$T/rc.json" &&
    ls "$T"/rclogs/*-latency.jsonl >/dev/null 2>&1; then
    pass "nctoprc: window, log, log-dir and prometheus are settings; an unknown key warns"
else
    fail "nctoprc: window, log, log-dir and prometheus are settings; an unknown key warns" "rc=$rc: $out"
fi
# A config file nctop may not read: a warning, then the defaults; nothing stops.
if [ "$(id -u)" -eq 0 ]; then
    mkdir -p "$T/locked/.config/nctop" && echo 'view = memory' >"$T/locked/.config/nctop/nctoprc"
    chmod 700 "$T/locked"
    out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups env HOME="$T/locked" \
        XDG_CONFIG_HOME= "$NCTOP" --once --json --duration 0.2 2>&1 >/dev/null)
    echo "$out" | grep -q 'nctoprc: Permission denied (using the defaults)' &&
        pass "nctoprc unreadable: a warning and the defaults" ||
        fail "nctoprc unreadable: a warning and the defaults" "$out"
fi
