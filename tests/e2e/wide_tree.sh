#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A workload with more distinct span paths than the latency tree holds (65 536 per process,
# issue 13): the paths beyond it fold into one top-level "(other)" row that holds their time,
# the folded spans are counted (snapshot, text report), nothing is called invalid, and the
# paths made before the tree was full keep counting. The expected figures are worked out
# from the order in which the workload begins its spans.
. "$(dirname "$0")/lib.sh"
need_build

OUTER=300 INNER=300
"$NCTOP" --once --json --duration 120 -o "$T/snap.json" -- "$BUILD/tests/wide_tree" "$OUTER" "$INNER" \
    "$T/times.txt" >"$T/wt.out" 2>"$T/wt.err"
rc=$?
check "nctop --once of wide_tree exits 0" test "$rc" -eq 0
check "wide_tree dropped nothing (its figures are exact)" grep -q ", 0 dropped" "$T/wt.out"

# The tree: "known" first, then each o<i> and its i<j> in turn, while there is room.
# From the workload's own times of its outer spans: (other) holds at least those of the
# outers folded whole (an outer's time is capped at twice the median, since a preemption
# between the workload's clock read and its begin or end makes its own figure longer than
# the span; 5 % off for two of them) and at most those plus the outer that filled the tree.
read -r nodes folded other lo_ms hi_ms < <("$PY" - "$OUTER" "$INNER" "$T/times.txt" <<'EOF'
import statistics, sys
cap, no, ni = 65536, int(sys.argv[1]), int(sys.argv[2])
took = [int(l.split()[1]) for l in open(sys.argv[3])]
nodes, folded, other = 1, 0, 0          # "known"
whole, part = [], []
for i in range(no):
    if nodes < cap:
        nodes += 1                       # o<i> gets a node
        for j in range(ni):
            if nodes < cap:
                nodes += 1
            else:                        # a new child of a full tree: folded, its time in (other)
                folded += 1; other += 1
                if not part or part[-1] != i:
                    part.append(i)
    else:
        folded += 1 + ni; other += 1     # o<i> folded; its children fold inside it
        whole.append(i)
cut = 2 * statistics.median(took)
lo = 0.95 * sum(min(took[i], cut) for i in whole) / 1e6
hi = (1.01 * sum(took[i] for i in whole + part) + 2000) / 1e6
print(nodes, folded, other, "%.6f" % lo, "%.6f" % hi)
EOF
)
jcheck "the tree holds $nodes paths and the (other) row" "$T/snap.json" \
    "len(proc('wide_tree')['latency']) == $nodes + 1" \
    "row(proc('wide_tree'), 'latency', '(other)')['level'] == 0"
jcheck "folded_spans counts every span begun past the cap ($folded)" "$T/snap.json" \
    "proc('wide_tree')['folded_spans'] == $folded" \
    "(proc('wide_tree')['invalid'], proc('wide_tree').get('invalid_reason')) == (0, None)"
jcheck "(other) holds the $other outermost folded spans, with their time ($lo_ms..$hi_ms ms by the workload's clock)" "$T/snap.json" \
    "row(proc('wide_tree'), 'latency', '(other)')['total']['count'] == $other" \
    "$lo_ms <= row(proc('wide_tree'), 'latency', '(other)')['total']['total_ms'] <= $hi_ms"
jcheck "a path made before the tree was full still counts (known: 2)" "$T/snap.json" \
    "row(proc('wide_tree'), 'latency', 'known')['total']['count'] == 2" \
    "row(proc('wide_tree'), 'latency', 'o0/i299')['total']['count'] == 1"

# The text report says so too.
"$NCTOP" --once --duration 120 -o "$T/report.txt" -- "$BUILD/tests/wide_tree" 300 300 >/dev/null 2>&1
check "the text report shows the folded count" grep -q "folded into (other) $folded" "$T/report.txt"

# The display's header says it too (and the (other) row is found by the search).
if command -v tmux >/dev/null; then
    SOCK=nctop-w$$
    tm() { tmux -L "$SOCK" "$@"; }
    trap 'tm kill-server 2>/dev/null; cleanup' EXIT
    tm -f /dev/null new-session -d -s w -x 160 -y 40 -c "$T" \
        "$NCTOP -d 1 -- $BUILD/tests/wide_tree $OUTER $INNER; sleep 30"
    if wait_for 60 sh -c "tmux -L '$SOCK' capture-pane -p -t w | grep -q 'folded $folded'"; then
        pass "the header shows 'folded $folded'"
    else
        fail "the header shows 'folded $folded'" "$(tm capture-pane -p -t w | head -n 6 | tr '\n' ' ')"
    fi
    tm send-keys -t w / '(other)' Enter
    if wait_for 20 sh -c "tmux -L '$SOCK' capture-pane -p -t w | grep -q '(other)'"; then
        pass "the (other) row is on screen after a search"
    else
        fail "the (other) row is on screen after a search" "$(tm capture-pane -p -t w | tail -n 5 | tr '\n' ' ')"
    fi
    tm send-keys -t w q
else
    skip "tmux is not installed: the header's folded count"
fi
