#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Issue 11: `--once` honours --sort and --columns (and nctoprc's sort and columns), in the
# order and with the columns the display shows; the display sorts the same way; the TTFT and
# inter-token latency of the text and display headers are the window p50 and p95 of the JSON.
# Everything replays sample-data/tinylm.nctrec, whose snapshot is deterministic: the order
# the text shows is checked against the order the JSON's own figures give.
. "$(dirname "$0")/lib.sh"
need_build
REC=$ROOT/sample-data/tinylm.nctrec

"$NCTOP" replay --once --json "$REC" >"$T/snap.json" 2>"$T/snap.err"
check "replay --once --json: exit 0" test $? -eq 0

# tables TEXTFILE: the text report's tables as JSON {title: {"cols": [...], "rows": [[level,
# label, [cells]]]}} (labels of tinylm hold no double blanks; cells are the fields after).
cat >"$T/tables.py" <<'PYEOF'
import json, re, sys
tables, cur = {}, None
for line in open(sys.argv[1]).read().split("\n"):
    m = re.match(r"^(LATENCY|MEMORY|KERNELS) ", line + " ")
    if m:
        cur = tables[m.group(1)] = {"cols": line.split()[1:], "rows": []}
        continue
    if cur is None or line.strip() == "":
        cur = None
        continue
    m = re.match(r"^( *)(\S+(?: \S+)*)(?: {2,}(.*))?$", line)
    cells = m.group(3).split() if m.group(3) else []
    cur["rows"].append([len(m.group(1)) // 2, m.group(2), cells])
json.dump(tables, sys.stdout)
PYEOF
tables() { "$PY" "$T/tables.py" "$1" >"$2"; }

# order VIEW KEY DESC: the (level, label) order of the JSON rows of VIEW with the siblings of
# every parent sorted by KEY (absent values last, ties in the JSON's order), as the shared
# sort must give; KEY "" keeps the JSON's order.
cat >"$T/order.py" <<'PYEOF'
import json, sys
d = json.load(open(sys.argv[1]))
view, key, desc = sys.argv[2], sys.argv[3], sys.argv[4] == "1"
rows = d["processes"][0][view]
kids, stack = {-1: []}, []
for i, r in enumerate(rows):
    lvl = min(r["level"], len(stack))
    del stack[lvl:]
    kids.setdefault(stack[-1] if stack else -1, []).append(i)
    kids[i] = []
    stack.append(i)
def k(i):
    v = rows[i].get(key) if key else None
    return (v is None, -v if (v is not None and desc) else (v if v is not None else 0), i)
out = []
def walk(p):
    for i in (sorted(kids[p], key=k) if key else kids[p]):
        out.append([rows[i]["level"], rows[i]["label"]])
        walk(i)
walk(-1)
json.dump(out, sys.stdout)
PYEOF
order() { "$PY" "$T/order.py" "$T/snap.json" "$@"; }
# same NAME TABLES TITLE VIEW KEY DESC: the text table TITLE lists the rows in that order.
same() {
    local name=$1 tab=$2 title=$3 want got
    want=$(order "$4" "$5" "$6")
    got=$("$PY" -c 'import json,sys; print(json.dumps([r[:2] for r in json.load(open(sys.argv[1]))[sys.argv[2]]["rows"]]))' "$tab" "$title")
    if [ -n "$want" ] && [ "$want" = "$got" ]; then
        pass "$name"
    else
        fail "$name" "want $(echo "$want" | head -c 300) got $(echo "$got" | head -c 300)"
    fi
}

# --sort p95: latency siblings by their p95, largest first; the kernels table has no p95
# column and keeps the builder's order (as the display's Kernels view does).
"$NCTOP" replay --once --sort p95 "$REC" >"$T/p95.txt" 2>"$T/p95.err"
check "--once --sort p95: exit 0" test $? -eq 0
tables "$T/p95.txt" "$T/p95.tab"
same "--once --sort p95: latency siblings by the JSON's p95, children under their parent" \
    "$T/p95.tab" LATENCY latency p95_ms 1
same "--once --sort p95: kernels (no p95 column) in execution order" \
    "$T/p95.tab" KERNELS kernels "" 0
check "--once --sort p95: the order differs from execution order (the check can fail)" \
    test "$(order latency p95_ms 1)" != "$(order latency "" 0)"

"$NCTOP" replay --once --sort current "$REC" >"$T/cur.txt" 2>/dev/null
tables "$T/cur.txt" "$T/cur.tab"
same "--once --sort current: memory siblings by bytes" "$T/cur.tab" MEMORY memory bytes 1
"$NCTOP" replay --once --sort p99 "$REC" >"$T/p99.txt" 2>/dev/null
tables "$T/p99.txt" "$T/p99.tab"
same "--once --sort p99: kernels by p99" "$T/p99.tab" KERNELS kernels p99_ms 1

# nctoprc's sort is the same setting; a flag overrides it.
mkdir -p "$XDG_CONFIG_HOME/nctop"
printf 'sort = p95\n' >"$XDG_CONFIG_HOME/nctop/nctoprc"
"$NCTOP" replay --once "$REC" >"$T/rc.txt" 2>/dev/null
check "nctoprc sort = p95: the same text as --sort p95" cmp -s "$T/rc.txt" "$T/p95.txt"
"$NCTOP" replay --once --sort none "$REC" >"$T/none.txt" 2>/dev/null
tables "$T/none.txt" "$T/none.tab"
same "--sort none overrides nctoprc: execution order" "$T/none.tab" LATENCY latency "" 0
rm "$XDG_CONFIG_HOME/nctop/nctoprc"

# --columns: the display's columns of each view, in the display's order, with its titles.
"$NCTOP" replay --once "$REC" >"$T/all.txt" 2>/dev/null
tables "$T/all.txt" "$T/all.tab"
jcheck "default: every column of each view, titled as in the display" "$T/all.tab" \
    'd["LATENCY"]["cols"] == ["LAST", "MEAN", "P50", "P95", "P99", "MAX", "COUNT", "SHARE"]' \
    'd["MEMORY"]["cols"] == ["CURRENT", "PEAK", "CAPACITY", "SHARE"]' \
    'd["KERNELS"]["cols"] == ["BACKEND", "COUNT", "TOTAL", "MEAN", "P99", "SHARE"]'
"$NCTOP" replay --once --columns latency:p95,name "$REC" >"$T/cols.txt" 2>/dev/null
tables "$T/cols.txt" "$T/cols.tab"
jcheck "--columns latency:p95,name: exactly NAME and P95 in the latency table" "$T/cols.tab" \
    'd["LATENCY"]["cols"] == ["P95"]' \
    'all(len(r[2]) == 1 for r in d["LATENCY"]["rows"])' \
    'len(d["LATENCY"]["rows"]) == 21' \
    'd["MEMORY"]["cols"] == ["CURRENT", "PEAK", "CAPACITY", "SHARE"]' \
    'd["KERNELS"]["cols"] == ["BACKEND", "COUNT", "TOTAL", "MEAN", "P99", "SHARE"]'
# The figure shown is the JSON's p95, in the text's units.
cat >"$T/fmt.py" <<'PYEOF'
def fmt(ms):
    """A JSON figure in ms as the text and the display write it (util_format_ns)."""
    ns = round(ms * 1e6)
    if ns < 1000:
        return "%dns" % ns
    if ns < 1000000:
        return "%.1fus" % (ns / 1e3)
    if ns < 1000000000:
        return "%.2fms" % (ns / 1e6)
    return "%.3fs" % (ns / 1e9)
PYEOF
cat >"$T/cols.py" <<'PYEOF'
import json, sys
sys.path.insert(0, sys.argv[3])
from fmt import fmt
t, d = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
rows = d["processes"][0]["latency"]
assert len(rows) == len(t["LATENCY"]["rows"])
for (lvl, label, cells), r in zip(t["LATENCY"]["rows"], rows):
    assert (lvl, label) == (r["level"], r["label"]), (lvl, label, r["path"])
    assert cells == [fmt(r["p95_ms"])], (label, cells, r["p95_ms"])
PYEOF
check "--columns latency:p95,name: the P95 cells are the JSON's p95" \
    "$PY" "$T/cols.py" "$T/cols.tab" "$T/snap.json" "$T"
"$NCTOP" replay --once --columns count,p95 --columns memory:current "$REC" >"$T/c2.txt" 2>/dev/null
tables "$T/c2.txt" "$T/c2.tab"
jcheck "--columns count,p95 plus memory:current: each view its own" "$T/c2.tab" \
    'd["LATENCY"]["cols"] == ["P95", "COUNT"]' 'd["MEMORY"]["cols"] == ["CURRENT"]' \
    'd["KERNELS"]["cols"] == ["COUNT"]'

# The header: TTFT and ITL are the window's p50 with its p95, the JSON's figures.
cat >"$T/hdr.py" <<'PYEOF'
import json, re, sys
sys.path.insert(0, sys.argv[3])
from fmt import fmt
text, d = open(sys.argv[1]).read(), json.load(open(sys.argv[2]))
p = d["processes"][0]
for name, key in (("TTFT", "ttft_ms"), ("ITL", "itl_ms")):
    want = "%s p50 %s p95 %s" % (name, fmt(p[key]["p50_ms"]), fmt(p[key]["p95_ms"]))
    assert want in text, "no '%s' in %r" % (want, text)
PYEOF
sed -n 3p "$T/all.txt" >"$T/all.hdr"
check "text header: TTFT and ITL p50 and p95 of the window, as in the JSON" \
    "$PY" "$T/hdr.py" "$T/all.hdr" "$T/snap.json" "$T"

# The display: the same replay under tmux, sorted by p95, everything expanded at the end of
# the input (the replay clock stands still there), shows the text's order and header figures.
if ! command -v tmux >/dev/null; then
    skip "tmux is not installed: the display's sort"
    exit 0
fi
SOCK=nctop-s$$
tm() { tmux -L "$SOCK" "$@"; }
cleanup_tmux() { tm kill-server 2>/dev/null; cleanup; }
trap cleanup_tmux EXIT
screen() { tm capture-pane -p -t t 2>/dev/null; }
has() { wait_for 10 sh -c "tmux -L '$SOCK' capture-pane -p -t t | grep -qE -- \"\$1\"" _ "$1"; }
tm -f /dev/null new-session -d -s t -x 160 -y 40 -c "$T" \
    "$NCTOP replay --speed 1000 --sort p95 $REC"
if has 'end of input' && tm send-keys -t t '*' && has '^ +mlp '; then
    pass "display: the replay reaches its end, expanded"
else
    fail "display: the replay reaches its end, expanded" "$(screen | tail -n 5 | tr '\n' '|')"
fi
# The tree lines between the column titles and the status line, as (level, label).
cat >"$T/tui.py" <<'PYEOF'
import json, re, sys
lines = open(sys.argv[1]).read().split("\n")
start = next(i for i, l in enumerate(lines) if re.match(r"^NAME +LAST", l)) + 1
out = []
for l in lines[start:]:
    if "end of input" in l or l.strip() == "":
        break
    l = l.replace("\u25be", " ").replace("\u25b8", " ")
    m = re.match(r"^( *)(\S+(?: \S+)*)(?: {2,}.*)?$", l)
    out.append([(len(m.group(1)) - 2) // 2, m.group(2)])
json.dump(out, sys.stdout)
PYEOF
for i in $(seq 50); do
    screen >"$T/tui.txt"
    got=$("$PY" "$T/tui.py" "$T/tui.txt" 2>/dev/null)
    [ "$got" = "$(order latency p95_ms 1)" ] && break
    sleep 0.1
done
if [ "$got" = "$(order latency p95_ms 1)" ]; then
    pass "display --sort p95: the order of the text and the JSON's p95"
else
    fail "display --sort p95: the order of the text and the JSON's p95" "$(echo "$got" | head -c 300)"
fi
sed -n 2p "$T/tui.txt" >"$T/tui.hdr"
check "display header: TTFT and ITL p50 and p95 of the window, as in the JSON" \
    "$PY" "$T/hdr.py" "$T/tui.hdr" "$T/snap.json" "$T"
tm send-keys -t t q
wait_for 10 sh -c "! tmux -L '$SOCK' has-session -t t" || fail "q quits" "still running"
