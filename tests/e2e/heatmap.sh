#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The Heatmap view in a private tmux server (no user config): tinylm's attention and the spiking
# runtime's spike raster and core occupancy, drawn at 120x40 and at 20x5, in UTF-8 shades with
# colours, and in plain ASCII under NO_COLOR and in a non-UTF-8 locale. Every drawn cell of the grid, the cursor's
# readout (labels and value) and the legend's scale are checked against the snapshot JSON the
# display writes ('e') once the workload has ended (its last matrix then stays as it is).
. "$(dirname "$0")/lib.sh"
SNN=$BUILD/snn
if [ ! -x "$NCTOP" ] || [ ! -x "$TINYLM" ] || [ ! -x "$SNN" ]; then
    fail "build" "nctop, tinylm or snn missing: run make"
    exit 1
fi
if ! command -v tmux >/dev/null; then
    skip "tmux is not installed: the Heatmap view's checks"
    exit 77
fi
SOCK=nctop-h$$
tm() { tmux -L "$SOCK" "$@"; }
cleanup_tmux() {
    tm kill-server 2>/dev/null
    cleanup
}
trap cleanup_tmux EXIT
screen() { tm capture-pane -p -t t 2>/dev/null; }
has() { wait_for 30 sh -c "tmux -L '$SOCK' capture-pane -p -t t | grep -qE -- \"\$1\"" _ "$1"; }
keys() { tm send-keys -t t "$@"; }
step() {
    local name=$1
    shift
    if "$@"; then
        pass "$name"
    else
        fail "$name" "$(screen | grep -v '^$' | tail -n 12 | tr '\n' '|')"
    fi
}
# at NAME PATTERN CHECK-ARGS...: once the screen shows PATTERN, check the grid; else FAIL.
at() {
    local name=$1 pat=$2
    shift 2
    if has "$pat"; then
        grid "$name" "$@"
    else
        fail "$name" "no '$pat' on the screen: $(screen | grep -v '^$' | tail -n 6 | tr '\n' '|')"
    fi
}
alive() { tm list-panes -t t -F '#{pane_current_command} #{pane_dead}' 2>/dev/null | grep -q '^nctop 0'; }

# The checker: the screen against the snapshot's matrix INDEX, as the view draws it (its fit
# zoom, shades or ASCII, the label column, the cursor's readout) at the pane's size.
cat >"$T/check.py" <<'PYEOF'
import json, math, sys
scr, snap, idx, mode, width, height, cur_r, cur_c = sys.argv[1:9]
idx, width, height, cur_r, cur_c = int(idx), int(width), int(height), int(cur_r), int(cur_c)
lines = open(scr, encoding="utf-8").read().split("\n")[:height]
lines += [""] * (height - len(lines))
procs = [p for p in json.load(open(snap))["processes"] if p.get("matrices")]
m = procs[0]["matrices"][idx]
R, C, V = m["rows"], m["cols"], m["values"]
lo, hi = m["min"], m["max"]
shades = [" ", "░", "▒", "▓", "█"] if mode == "utf8" else [" ", ".", ":", "*", "#"]
absent, low_cursor = ("·", "·") if mode == "utf8" else ("?", "_")
bad = []

def fmt(v):  # C's %.6g
    return "%.6g" % v

# Where the view is: the readout line "(r,c) ..." (the legend is above it when the body has room).
ro = [i for i, l in enumerate(lines) if l.startswith("(%d,%d) " % (cur_r, cur_c))]
if not ro:
    print("no readout line for (%d,%d):\n%s" % (cur_r, cur_c, "\n".join(lines)))
    sys.exit(1)
ro = ro[0]
rl = m["row_labels"][cur_r] or "-"
cl = m["col_labels"][cur_c] or "-"
v = V[cur_r][cur_c]
want = "(%d,%d) %s / %s = %s" % (cur_r, cur_c, rl, cl, "-" if v is None else fmt(v))
if v is not None and m["unit"]:
    want += " " + m["unit"]
if lines[ro].rstrip() != want[:width].rstrip():
    bad.append("readout %r, want %r" % (lines[ro], want[:width]))
# The readout's value is the snapshot's (7 digits there, 6 here).
if v is not None and width >= len(want):
    got = float(lines[ro].split(" = ")[1].split()[0])
    if abs(got - v) > 1e-5 * max(1.0, abs(v)):
        bad.append("cursor value %r != snapshot %r" % (got, v))
if ro > 0 and width >= 60:
    legend = lines[ro - 1]
    if not legend.startswith("[%d/" % (idx + 1)) or m["name"] not in legend:
        bad.append("legend %r does not name %s" % (legend, m["name"]))
    if " min %s " % fmt(lo) not in legend or " max %s " % fmt(hi) not in legend:
        bad.append("legend %r lacks min %s max %s" % (legend, fmt(lo), fmt(hi)))

# The grid: below the readout down to the status line (or the footer).
bottom = 2 if height >= 10 else 1
gh = height - bottom - (ro + 1)
lw = 0
if width >= 30:
    lw = min(max(len(l) for l in m["row_labels"]), 10)
    lw = lw + 1 if lw > 0 else 0
gw = width - lw

def geo(z):
    k = 1 << -z if z < 0 else 1
    cw = 1 << z if z > 0 else 1
    ch = 1 << (z - 1) if z > 1 else 1
    return k, cw, ch, (gh // ch) * k, (gw // cw) * k

zoom = -3
for z in range(3, -3, -1):
    k, cw, ch, vr, vc = geo(z)
    if vr >= R and vc >= C:
        zoom = z
        break
k, cw, ch, vr, vc = geo(zoom)
zname = "%dx" % (1 << zoom) if zoom >= 0 else "1/%d" % (1 << -zoom)
if ro > 0 and width >= 100 and (" zoom %s (fit)" % zname) not in lines[ro - 1]:
    bad.append("legend %r: the fit zoom should be %s" % (lines[ro - 1], zname))

def level(x):
    span = hi - lo
    if not span > 0:
        return 4 if x > 0 else 0
    return min(4, max(0, int(math.floor((x - lo) / span * 4 + 0.5))))

def glyph(r, c, cursor):
    vals = [V[i][j] for i in range(r, min(r + k, R)) for j in range(c, min(c + k, C))
            if V[i][j] is not None]
    if not vals:
        return absent
    lv = level(sum(vals) / len(vals))
    return low_cursor if cursor and lv == 0 else shades[lv]

cells = 0
for y in range(0, gh - ch + 1, ch):
    r = (y // ch) * k
    if r >= R:
        break
    label = m["row_labels"][r][: lw - 1] if lw else ""
    for dy in range(ch):
        want = (label if dy == 0 else "").ljust(lw) if lw else ""
        for x in range(0, gw - cw + 1, cw):
            c = (x // cw) * k
            if c >= C:
                break
            cur = r <= cur_r < r + k and c <= cur_c < c + k
            want += glyph(r, c, cur) * cw
            cells += 1
        got = lines[ro + 1 + y + dy]
        if got.rstrip() != want.rstrip():
            bad.append("grid line %d: %r\n                want %r" % (y + dy, got, want))
if bad:
    print("\n".join(bad[:6]))
    sys.exit(1)
print("%d cells of %s (%dx%d, zoom %s) as the snapshot's values" % (cells, m["name"], R, C, zname))
PYEOF

# grid NAME INDEX MODE W H ROW COL: capture the pane and check it against the snapshot.
grid() {
    local name=$1 out
    shift
    screen >"$T/screen.txt"
    if out=$("$PY" "$T/check.py" "$T/screen.txt" "$SNAP" "$@" 2>&1); then
        pass "$name: $out"
    else
        fail "$name" "$(echo "$out" | head -n 8 | tr '\n' '|')"
    fi
}

# run LOCALE CMD...: nctop -- CMD at 120x40 (NO_COLOR unless COLOR_OFF is set empty), until the
# workload exited; then the snapshot.
run() {
    local loc=$1
    shift
    tm kill-server 2>/dev/null
    rm -f "$T"/nctop-snapshot-*.json
    tm -f /dev/null new-session -d -s t -x 120 -y 40 -c "$T" \
        "env LANG=$loc LC_ALL=$loc ${COLOR_OFF-NO_COLOR=1} HOME=$HOME XDG_CONFIG_HOME=$XDG_CONFIG_HOME $NCTOP -- $*"
    has ' exited \(exit status 0\)' || return 1
    keys 7
    has '^\[1/' || return 1
    keys e
    wait_for 30 sh -c "ls '$T'/nctop-snapshot-*.json >/dev/null 2>&1" || return 1
    SNAP=$(ls "$T"/nctop-snapshot-*.json | head -n 1)
    wait_for 10 "$PY" -c 'import json, sys; json.load(open(sys.argv[1]))' "$SNAP"
}

# 1. tinylm's attention, UTF-8 locale with NO_COLOR: plain characters.
if run C.UTF-8 "$TINYLM" --requests 1 --prompt 8 --gen 20 --quiet; then
    pass "tinylm: the Heatmap tab and a snapshot once it ended"
    jcheck "tinylm: the snapshot's matrix is the last layer's softmax (rows sum to 1)" "$SNAP" \
        'proc("tinylm")["matrices"][0]["name"] == "attention.layer7"' \
        'proc("tinylm")["matrices"][0]["rows"] == 8 and proc("tinylm")["matrices"][0]["row_labels"][3] == "head 3"' \
        'all(abs(sum(r) - 1) < 1e-4 for r in proc("tinylm")["matrices"][0]["values"])' \
        'proc("tinylm")["matrices"][0]["col_labels"][-1] == "pos %d" % (proc("tinylm")["matrices"][0]["cols"] - 1)'
    grid "tinylm 120x40: every cell, the readout and the legend" 0 ascii 120 40 0 0
    keys j j j l l l l l
    at "tinylm 120x40: the cursor moved to (3,5) reads its value" '^\(3,5\) ' 0 ascii 120 40 3 5
    keys +
    step "tinylm: + zooms in (8x, no longer fit)" has 'zoom 8x *$'
    keys - =
    at "tinylm: - and = fit again" 'zoom [0-9x/]+ \(fit\)' 0 ascii 120 40 3 5
    tm resize-window -t t -x 20 -y 5
    wait_for 10 sh -c "[ \"\$(tmux -L '$SOCK' display -p -t t '#{window_width}x#{window_height}')\" = 20x5 ]"
    at "tinylm 20x5: the readout and the grid (mean of 8x8 blocks)" '^\(3,5\) ' 0 ascii 20 5 3 5
    # Zoomed out to 1/8 a key moves a block: l goes 8 columns right.
    keys l + - - - =
    at "tinylm 20x5: keys move and zoom, nothing off the screen" '^\(3,13\) ' 0 ascii 20 5 3 13
    step "tinylm 20x5: nctop is still running" alive
    keys q
    step "q quits" wait_for 15 sh -c "! tmux -L '$SOCK' list-panes -t t -F '#{pane_current_command}' 2>/dev/null | grep -q nctop"
else
    fail "tinylm in the display" "$(screen | grep -v '^$' | tail -n 6 | tr '\n' '|')"
fi

# 2. The spiking runtime: raster and occupancy, plain ASCII (the C locale). The raster holds 0
# and 1 only; its last snapshot may be all 0 (the sampled neurons quiet in those timesteps).
if run C "$SNN" --quiet --steps 4000 --neurons 300 --layers 2 --fan-in 40 --target truenorth; then
    pass "snn: the Heatmap tab and a snapshot once it ended"
    jcheck "snn: a spike raster of 0/1 (256 neurons x recent timesteps) and the cores' occupancy" "$SNAP" \
        '[m["name"] for m in proc("snn")["matrices"]] == ["cores.occupancy", "spikes.raster"] or [m["name"] for m in proc("snn")["matrices"]] == ["spikes.raster", "cores.occupancy"]' \
        'all(m["rows"] <= 256 and m["cols"] <= 256 for m in proc("snn")["matrices"])' \
        '[m for m in proc("snn")["matrices"] if m["name"] == "spikes.raster"][0]["rows"] == 256' \
        'set(v for r in [m for m in proc("snn")["matrices"] if m["name"] == "spikes.raster"][0]["values"] for v in r) <= {0, 1}' \
        '[m for m in proc("snn")["matrices"] if m["name"] == "spikes.raster"][0]["col_labels"][0].startswith("t")' \
        '0 < [m for m in proc("snn")["matrices"] if m["name"] == "cores.occupancy"][0]["max"] <= 100'
    first=$("$PY" -c 'import json, sys; print([m["name"] for p in json.load(open(sys.argv[1]))["processes"] for m in p.get("matrices", [])][0])' "$SNAP")
    grid "snn 120x40 ASCII: $first" 0 ascii 120 40 0 0
    keys ']'
    at "snn 120x40 ASCII: ] shows the second matrix" '^\[2/2\] ' 1 ascii 120 40 0 0
    keys j j l
    at "snn 120x40 ASCII: the cursor on the second matrix" '^\(2,1\) ' 1 ascii 120 40 2 1
    tm resize-window -t t -x 20 -y 5
    wait_for 10 sh -c "[ \"\$(tmux -L '$SOCK' display -p -t t '#{window_width}x#{window_height}')\" = 20x5 ]"
    at "snn 20x5 ASCII" '^\(2,1\) ' 1 ascii 20 5 2 1
    keys '['
    at "snn 20x5 ASCII: [ back to the first matrix" '^\(0,0\) ' 0 ascii 20 5 0 0
    step "snn 20x5: nctop is still running" alive
    keys q
else
    fail "snn in the display" "$(screen | grep -v '^$' | tail -n 6 | tr '\n' '|')"
fi

# 3. Colours (the ramp): the same glyphs, drawn in colour.
if COLOR_OFF= run C.UTF-8 "$TINYLM" --requests 1 --prompt 4 --gen 12 --quiet; then
    grid "tinylm 120x40 in colour: every cell" 0 utf8 120 40 0 0
    tm resize-window -t t -x 20 -y 5
    wait_for 10 sh -c "[ \"\$(tmux -L '$SOCK' display -p -t t '#{window_width}x#{window_height}')\" = 20x5 ]"
    at "tinylm 20x5 in colour" '^\(0,0\) ' 0 utf8 20 5 0 0
    step "tinylm 20x5 in colour: nctop is still running" alive
    keys q
else
    fail "tinylm in colour" "$(screen | grep -v '^$' | tail -n 6 | tr '\n' '|')"
fi
