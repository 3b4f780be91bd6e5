#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# --baseline FILE: a tinylm run recorded, then a 4x wider tinylm (16x the work in its matrix
# products) with one block more watched against it: in --once --json the matrix products show
# a positive p99 and mean change and the extra block is "new"; the same in the --once text
# and in the display (tmux); a snapshot works as a baseline too; without --baseline nothing
# changes; a bad baseline file is one line on stderr, status 1, and no command is started.
. "$(dirname "$0")/lib.sh"
need_build
cd "$T" || exit 1

LM=(--quiet --vocab 512 --gen 16 --seed 7)
# A long baseline (3875 samples a row): a few preemptions of some ms cannot lift its means
# to the slowed run's.
timeout 120 "$NCTOP" record -o A.nctrec -- "$TINYLM" "${LM[@]}" --layers 2 --tokens 2000 \
    --dim 64 --ffn 176 2>/dev/null
check "record the baseline run" test -s A.nctrec
SLOW=("$TINYLM" "${LM[@]}" --layers 3 --dim 256 --ffn 704)

timeout 120 "$NCTOP" --once --json --baseline A.nctrec -- "${SLOW[@]}" --tokens 400 >B.json \
    2>B.err
check "--once --json --baseline: exit 0, nothing on stderr" \
    sh -c "[ $? -eq 0 ] && [ ! -s B.err ]"
# The matrix products of the first two blocks are 16x the work: slower in p99 and mean.
jcheck "--once --json --baseline: the file named, every latency row compared" B.json \
    'd["baseline"]["file"] == "A.nctrec" and d["baseline"]["processes"] == 1' \
    'all("baseline" in r for r in proc("tinylm")["latency"])' \
    'set(row(proc("tinylm"), "latency", "step/forward/block 0/qkv")["baseline"]) >= {"new", "count", "mean_ms", "p99_ms", "dmean_ms", "dmean_pct", "dp99_ms", "dp99_pct"}'
for r in "block 0/qkv" "block 0/o_proj" "block 1/qkv" "block 1/o_proj"; do
    jcheck "--baseline: '$r' shows a positive p99 and mean change" B.json \
        "row(proc('tinylm'), 'latency', 'step/forward/$r')['baseline']['dp99_pct'] > 0" \
        "row(proc('tinylm'), 'latency', 'step/forward/$r')['baseline']['dmean_pct'] > 0" \
        "row(proc('tinylm'), 'latency', 'step/forward/$r')['baseline']['dp99_ms'] > 0"
done
# The figures compared are the baseline's own: its p99 is the p99 of its replay.
timeout 60 "$NCTOP" replay --once --json A.nctrec >A.json
"$PY" - A.json B.json >same.txt <<'EOF'
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
ra = {r["path"]: r for r in a["processes"][0]["latency"]}
for r in b["processes"][0]["latency"]:
    if r["path"] in ra and not r["baseline"]["new"]:
        t = ra[r["path"]]["total"]
        assert abs(r["baseline"]["p99_ms"] - t["p99_ms"]) < 1e-9, r["path"]
        assert abs(r["baseline"]["mean_ms"] - t["average_ms"]) < 1e-9, r["path"]
        d = r["total"]["p99_ms"] - t["p99_ms"]
        assert abs(r["baseline"]["dp99_ms"] - d) < 1e-6, r["path"]
print("ok")
EOF
check "--baseline: baseline figures are the recording's own, deltas against the run's" \
    grep -qx ok same.txt
jcheck "--baseline: the rows of block 2, absent from the baseline, are new" B.json \
    'row(proc("tinylm"), "latency", "step/forward/block 2")["baseline"] == {"new": True}' \
    'row(proc("tinylm"), "latency", "step/forward/block 2/qkv")["baseline"]["new"]' \
    'not row(proc("tinylm"), "latency", "step/forward")["baseline"]["new"]'

# A snapshot as the baseline: its since-start figures.
timeout 120 "$NCTOP" --once --json --baseline A.json -- "${SLOW[@]}" --tokens 400 >C.json 2>/dev/null
jcheck "--baseline SNAPSHOT: the matrix products slower, block 2 new" C.json \
    'd["baseline"]["file"] == "A.json"' \
    'row(proc("tinylm"), "latency", "step/forward/block 0/qkv")["baseline"]["dmean_pct"] > 0' \
    'row(proc("tinylm"), "latency", "step/forward/block 1/o_proj")["baseline"]["dp99_pct"] > 0' \
    'row(proc("tinylm"), "latency", "step/forward/block 2")["baseline"]["new"]'

# The --once text: two delta columns after the others.
timeout 120 "$NCTOP" --once --baseline A.nctrec -- "${SLOW[@]}" --tokens 400 >B.txt 2>/dev/null
check "--once --baseline text: the ΔP99 and ΔMEAN columns" \
    grep -qE '^LATENCY .* SHARE +ΔP99 +ΔMEAN$' B.txt
check "--once --baseline text: qkv slower (+time +pct in both columns)" \
    grep -qE '^      qkv .* \+[0-9.]+[nuµm]?s (\+[0-9]+|>999)% +\+[0-9.]+[nuµm]?s (\+[0-9]+|>999)%$' B.txt
check "--once --baseline text: block 2 says new" grep -qE '^    block 2 .* new +new$' B.txt

# Without --baseline nothing of it shows.
timeout 120 "$NCTOP" --once --json -- "$TINYLM" "${LM[@]}" --layers 2 --dim 64 --ffn 176 \
    --tokens 200 >N.json 2>/dev/null
jcheck "no --baseline: no baseline in the snapshot" N.json \
    '"baseline" not in d' 'all("baseline" not in r for r in proc("tinylm")["latency"])'
timeout 120 "$NCTOP" --once -- "$TINYLM" "${LM[@]}" --layers 2 --dim 64 --ffn 176 \
    --tokens 200 >N.txt 2>/dev/null
check "no --baseline: no delta columns in the text" sh -c '! grep -q "ΔP99" N.txt && grep -q "^LATENCY" N.txt'

# A bad baseline: one line naming the file, status 1, the command never started.
printf 'not a snapshot\n' >bad.json
: >empty.log
printf '{"nctop_version":"0.1.0","processes":[{"label":"x",' >cut.json
for f in bad.json missing.nctrec empty.log cut.json; do
    rm -f started
    "$NCTOP" --once --baseline "$f" -- sh -c 'touch started' >out.txt 2>err.txt
    rc=$?
    if [ "$rc" -eq 1 ] && [ "$(wc -l <err.txt)" -eq 1 ] && grep -q -- "^nctop: --baseline $f: " err.txt &&
        [ ! -e started ] && [ ! -s out.txt ]; then
        pass "bad baseline $f: one line, status 1, nothing started"
    else
        fail "bad baseline $f: one line, status 1, nothing started" "rc=$rc: $(tr '\n' '|' <err.txt)"
    fi
done
"$NCTOP" --once --baseline >/dev/null 2>err.txt
check "--baseline without a file: a usage error (2)" sh -c "[ $? -eq 2 ]"

# The display: the delta columns, a slowed row's positive change, block 2 new.
if command -v tmux >/dev/null; then
    SOCK=nctop-t$$
    tm() { tmux -L "$SOCK" "$@"; }
    trap 'tm kill-server 2>/dev/null; cleanup' EXIT
    tm -f /dev/null new-session -d -s t -x 160 -y 50 -c "$T" \
        "env TERM=screen LANG=C.UTF-8 LC_ALL=C.UTF-8 $NCTOP --collapse-depth 4 --baseline A.nctrec -- ${SLOW[*]}; sleep 60"
    shown() {
        tm capture-pane -p -t t >pane.txt &&
            grep -qE '^ *NAME .*ΔP99 +ΔMEAN' pane.txt &&
            grep -qE '^ +. qkv .* \+[0-9.]+[nuµm]?s (\+[0-9]+|>999)% +\+' pane.txt &&
            grep -qE 'block 2 .* new +new *$' pane.txt
    }
    if wait_for 30 shown; then
        pass "display --baseline: ΔP99 and ΔMEAN, qkv slower, block 2 new"
    else
        fail "display --baseline: ΔP99 and ΔMEAN, qkv slower, block 2 new" \
            "$(grep -E 'NAME|qkv|block 2' pane.txt | head -n 4 | tr '\n' '|')"
    fi
    tm send-keys -t t q
    tm kill-server 2>/dev/null
else
    skip "display --baseline: tmux is not installed"
fi
