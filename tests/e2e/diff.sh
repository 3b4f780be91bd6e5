#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# nctop diff: two tinylm recordings of different sizes (a 4x wider model is slower in its
# matrix products and larger in its weights), a recording against itself (nothing is
# significant), a snapshot and a JSONL log against the recording they came from, --fail-on in
# both directions (exit 3 and 0), --json, and damaged inputs (one-line errors, exit 1).
. "$(dirname "$0")/lib.sh"
need_build
cd "$T" || exit 1

LM=(--quiet --layers 2 --vocab 512 --gen 16 --seed 7 --tokens 400)
timeout 120 "$NCTOP" record -o A.nctrec -- "$TINYLM" "${LM[@]}" --dim 64 --ffn 176 2>/dev/null
check "record the small model" test -s A.nctrec
timeout 120 "$NCTOP" record -o B.nctrec -- "$TINYLM" "${LM[@]}" --dim 256 --ffn 704 2>/dev/null
check "record the wide model" test -s B.nctrec

timeout 60 "$NCTOP" diff A.nctrec B.nctrec >ab.txt 2>ab.err
echo $? >ab.rc
check "diff A B: exit 0 without --fail-on, nothing on stderr" sh -c '[ "$(cat ab.rc)" -eq 0 ] && [ ! -s ab.err ]'
check "diff A B: both sides named with their format" \
    sh -c 'grep -q "^A: A.nctrec (recording)" ab.txt && grep -q "^B: B.nctrec (recording)" ab.txt'
check "diff A B: aligned columns (every row line has the header's fields)" awk '
    NR == 3 { if ($1 != "KIND" || $NF != "VERDICT") exit 1; next }
    NR > 3 && !/^slower:/ { n++ } END { exit !(n > 50) }' ab.txt
# The matrix products of the blocks are 16x the work (4x the width, 4x the FFN): slower by any
# measure, and significantly so with hundreds of samples each (the median: the mean and the
# tail also carry the machine's preemptions); their weights 16x larger.
for row in "step/forward/block 0/qkv" "step/forward/block 1/o_proj" "step/forward"; do
    check "diff A B: '$row' p50 is slower" \
        grep -qE "^latency +$row +p50 .* slower$" ab.txt
done
check "diff A B: the summary line names the rows that slowed" \
    sh -c 'grep "^slower:" ab.txt | grep -qE "step/forward/block 0/qkv \((mean|p50) \+" &&
        grep "^slower:" ab.txt | grep -q "step/forward/block 1/mlp ("'
check "diff A B: counts are equal (same tokens), not judged" \
    grep -qE '^latency +step/forward/block 0/qkv +count +([0-9]+) +\1 +\+0 +\+0.0% *$' ab.txt
check "diff A B: weights 16x larger, marked larger" \
    grep -qE '^memory +Model Weights/layers/0/mlp/down_proj +peak .* \+1500.0% +larger$' ab.txt
check "diff A B: host RSS compared" grep -qE '^host +rss +rss ' ab.txt

# The same recording on both sides: nothing significant, every change 0.
timeout 60 "$NCTOP" diff A.nctrec A.nctrec >aa.txt
check "diff A A: nothing is slower, faster, larger or smaller" \
    sh -c '! grep -qE " (slower|faster|larger|smaller)$" aa.txt && grep -q "^slower: none" aa.txt'

# A snapshot of the recording (no histograms: the spread from its quantiles) and a log.
timeout 60 "$NCTOP" replay --once --json A.nctrec >A.json
timeout 60 "$NCTOP" diff A.json A.nctrec >sa.txt
check "diff snapshot recording of one run: formats named, nothing significant" \
    sh -c 'grep -q "(snapshot)" sa.txt && ! grep -qE " (slower|faster|larger|smaller)$" sa.txt'
timeout 60 "$NCTOP" diff A.json B.nctrec >sb.txt
check "diff snapshot B: the blocks' matrix products are slower" \
    grep -qE "^latency +step/forward/block 0/qkv +p50 .* slower$" sb.txt
mkdir -p logs
METRICS_LOG_ENABLED=1 METRICS_LOG_INTERVAL_SECS=1 timeout 120 "$NCTOP" --headless --log-dir logs \
    -- "$TINYLM" "${LM[@]}" --dim 64 --ffn 176 --tokens 800 2>/dev/null
log=$(ls logs/*-latency.jsonl 2>/dev/null | head -n 1)
if [ -n "$log" ]; then
    timeout 60 "$NCTOP" diff "$log" B.nctrec >lb.txt 2>lb.err
    check "diff log recording: read as a log, the blocks' matrix products slower" \
        sh -c "grep -q '(log)' lb.txt && grep -qE '^latency +step/forward/block 0/qkv +p50 .* slower$' lb.txt"
else
    fail "a JSONL log to compare" "no latency log written"
fi

# --json: the same rows, with significance and the regressions.
timeout 60 "$NCTOP" diff --json --fail-on p50=50% A.nctrec B.nctrec >ab.json 2>/dev/null
echo $? >abj.rc
jcheck "diff --json: rows with a, b, change, change_pct, significant; regressions listed" ab.json \
    'd["a"]["format"] == "recording" and d["b"]["path"] == "B.nctrec"' \
    '[r for r in d["rows"] if r["path"] == "step/forward/block 0/qkv" and r["metric"] == "p50"][0]["significant"]' \
    'all(set(r) >= {"kind", "path", "metric", "a", "b", "change", "change_pct", "significant", "fails"} for r in d["rows"])' \
    'any(r["path"] == "step/forward/block 0/qkv" and r["metric"] == "p50" for r in d["regressions"])' \
    'all(r["significant"] and r["change_pct"] > 50 for r in d["regressions"])' \
    '[r for r in d["rows"] if r["metric"] == "mean"][0]["unit"] == "ms"'
check "diff --json --fail-on regressed: exit 3" test "$(cat abj.rc)" -eq 3

# --fail-on both ways: B is slower than A (3), A is not slower than B (0).
timeout 60 "$NCTOP" diff --fail-on p50=10%,rss=5% A.nctrec B.nctrec >/dev/null 2>fail.err
echo $? >fail.rc
check "diff --fail-on p50=10%,rss=5% A B: exit 3, each passed threshold one stderr line" \
    sh -c '[ "$(cat fail.rc)" -eq 3 ] && grep -q "^nctop: diff: p50 of latency step/forward/block 0/qkv rose +.*above --fail-on p50=10%" fail.err &&
        grep -q "rss of host rss rose" fail.err'
# The way back needs a side on which every row does more work than on A: B's sampling (the
# same vocabulary) is the same work, and two runs of the same work can differ by 20 % at the
# median (the machine's state between runs), which --fail-on rightly reports. C is wider, with
# more heads and a larger vocabulary.
timeout 120 "$NCTOP" record -o C.nctrec -- "$TINYLM" "${LM[@]}" --dim 256 --ffn 704 \
    --heads 32 --kv-heads 8 --vocab 4096 2>/dev/null
timeout 60 "$NCTOP" diff --fail-on p50=10%,rss=5% C.nctrec A.nctrec >/dev/null 2>pass.err
echo $? >pass.rc
check "diff --fail-on p50=10%,rss=5% C A (faster, smaller): exit 0" \
    sh -c 'cat pass.err; echo "exit $(cat pass.rc)"; [ "$(cat pass.rc)" -eq 0 ] && [ ! -s pass.err ]'
timeout 60 "$NCTOP" diff --fail-on=mean=10% A.nctrec A.nctrec >/dev/null 2>&1
check "diff --fail-on A A: exit 0" test $? -eq 0
timeout 60 "$NCTOP" diff --fail-on p98=1% A.nctrec B.nctrec >/dev/null 2>usage.err
check "diff --fail-on an unknown metric: usage error (exit 2), one line" \
    sh -c "[ $? -eq 2 ] && [ \$(wc -l <usage.err) -eq 1 ]"

# Damaged inputs: one line naming the file and what is wrong, exit 1.
head -c 4000 A.nctrec >cut.nctrec
timeout 60 "$NCTOP" diff A.nctrec cut.nctrec >/dev/null 2>cut.err
echo $? >cut.rc
check "diff a truncated recording: exit 1, one line naming it" \
    sh -c '[ "$(cat cut.rc)" -eq 1 ] && [ "$(wc -l <cut.err)" -eq 1 ] && grep -q "^nctop: diff: cut.nctrec: " cut.err'
head -c 2000 A.json >cut.json
timeout 60 "$NCTOP" diff cut.json A.nctrec >/dev/null 2>cutj.err
echo $? >cutj.rc
check "diff a truncated snapshot: exit 1, one line" \
    sh -c '[ "$(cat cutj.rc)" -eq 1 ] && [ "$(wc -l <cutj.err)" -eq 1 ] && grep -q "cut.json: not a whole snapshot" cutj.err'
head -c 3000 /dev/urandom >garbage.bin
timeout 60 "$NCTOP" diff garbage.bin A.nctrec >/dev/null 2>garb.err
echo $? >garb.rc
check "diff garbage: exit 1, one line" \
    sh -c '[ "$(cat garb.rc)" -eq 1 ] && [ "$(wc -l <garb.err)" -eq 1 ] && grep -q "^nctop: diff: garbage.bin: " garb.err'
timeout 60 "$NCTOP" diff A.nctrec no-such-file >/dev/null 2>nof.err
check "diff a missing file: exit 1, one line" sh -c "[ $? -eq 1 ] && grep -q 'no-such-file: No such file' nof.err"
timeout 60 "$NCTOP" diff A.nctrec >/dev/null 2>&1
check "diff with one file: usage error (exit 2)" test $? -eq 2
