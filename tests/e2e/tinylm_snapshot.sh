# SPDX-License-Identifier: MIT
# nctop --once --json -- tinylm: the tree's shape, counts consistent with the steps, memory
# rows exact to the byte, kernels, markers, and the segment gone afterwards.
. "$(dirname "$0")/lib.sh"
need_build

L=2 D=64 H=4 KVH=2 FFN=96 V=512 CTX=64 P=4 G=6 R=3
out=$T/snap.json
"$NCTOP" --once --json --duration 60 -o "$out" -- "$TINYLM" --layers $L --dim $D --heads $H \
    --kv-heads $KVH --ffn $FFN --vocab $V --ctx $CTX --prompt $P --gen $G --requests $R \
    --quiet >"$T/out" 2>"$T/err"
rc=$?
check "nctop exits 0 when the command ends" test "$rc" -eq 0
check "stdout and stderr are the command's (empty here)" test ! -s "$T/err" -a ! -s "$T/out"

KVD=$((D / H * KVH))
WEIGHTS=$((4 * (V * D + L * (D + D * D + 2 * D * KVD + D * D + D + 3 * D * FFN) + D + V * D)))
KVCAP=$((4 * L * CTX * KVD * 2))
jcheck "one exited process labelled tinylm" "$out" \
    'len(d["processes"]) == 1' 'proc("tinylm")["state"] == "exited"' \
    'proc("tinylm")["dropped"] == 0' 'proc("tinylm")["invalid"] == 0'
jcheck "latency tree shape" "$out" \
    'all(x in paths(proc(), "latency") for x in ["step", "step/embedding", "step/forward",
        "step/output", "step/sampling"])' \
    "all('step/forward/block %d' % i in paths(proc(), 'latency') for i in range($L))" \
    "all('step/forward/block %d/%s' % (i, ph) in paths(proc(), 'latency') for i in range($L)
        for ph in ['attn_norm', 'qkv', 'rope', 'sdpa', 'o_proj', 'mlp_norm', 'mlp'])" \
    'row(proc(), "latency", "step")["level"] == 0' \
    'row(proc(), "latency", "step/forward/block 1/sdpa")["level"] == 3'
jcheck "counts consistent with the steps" "$out" \
    "proc()['counters']['tokens'] == $R * $G" \
    "row(proc(), 'latency', 'step')['total']['count'] >= $R * ($P + $G - 1)" \
    "all(row(proc(), 'latency', 'step/forward/block %d' % i)['total']['count'] ==
        row(proc(), 'latency', 'step')['total']['count'] for i in range($L))" \
    "row(proc(), 'latency', 'step/forward/block 0/mlp')['total']['count'] ==
        row(proc(), 'latency', 'step')['total']['count']"
jcheck "child times fit in the parent" "$out" \
    "sum(row(proc(), 'latency', 'step/forward/block %d' % i)['total']['total_ms']
        for i in range($L)) <= row(proc(), 'latency', 'step/forward')['total']['total_ms']" \
    "0 < row(proc(), 'latency', 'step/forward')['share_pct'] <= 100"
jcheck "weights exact to the byte" "$out" \
    "row(proc(), 'memory', 'Model Weights')['bytes'] == $WEIGHTS" \
    "row(proc(), 'memory', 'Model Weights/layers/1/mlp/up_proj')['bytes'] == 4 * $D * $FFN" \
    "row(proc(), 'memory', 'Model Weights/embedding')['bytes'] == 4 * $V * $D"
jcheck "KV cache and pool" "$out" \
    "row(proc(), 'memory', 'KV Cache')['capacity_bytes'] == $KVCAP" \
    "0 < row(proc(), 'memory', 'KV Cache/kv_cache')['peak_bytes'] <= $KVCAP" \
    "row(proc(), 'memory', 'Memory Pools/tensor_pool')['capacity_bytes'] > 0"
jcheck "host memory and unattributed" "$out" \
    "row(proc(), 'memory', 'Host Memory')['bytes'] > 0" \
    "row(proc(), 'memory', 'Host Memory/Unattributed Host Memory')['bytes'] ==
        max(0, row(proc(), 'memory', 'Host Memory')['bytes'] -
        row(proc(), 'memory', 'Host Memory/Tracked Host Memory')['bytes'])"
jcheck "kernels per matmul and attention" "$out" \
    "{k['name'] for k in proc()['kernels']} >= {'matmul_qkv', 'matmul_o', 'matmul_gate_up',
        'matmul_down', 'matmul_lm_head', 'attention'}" \
    "all(k['backend'] == 'cpu' for k in proc()['kernels'])" \
    "[k for k in proc()['kernels'] if k['name'] == 'matmul_qkv'][0]['total']['count'] ==
        $L * row(proc(), 'latency', 'step')['total']['count']"
jcheck "TTFT and inter-token latency" "$out" \
    "proc()['ttft_ms']['total']['count'] == $R" \
    "proc()['itl_ms']['total']['count'] == $R * ($G - 1)" \
    "proc()['rates']['tokens_per_sec'] is None or proc()['rates']['tokens_per_sec'] >= 0"
pid=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["processes"][0]["pid"])' "$out")
check "segment removed after the run" test ! -e "/dev/shm/nctop-$pid"

"$NCTOP" --once -- "$TINYLM" --layers $L --dim $D --heads $H --kv-heads $KVH --ffn $FFN \
    --vocab $V --ctx $CTX --prompt $P --gen $G --requests 1 --quiet >"$T/text" 2>&1
check "text snapshot shows the tree" grep -q '^    block 0 ' "$T/text"
check "text snapshot shows memory" grep -q 'Unattributed Host Memory' "$T/text"

# --demo --once: the second of collection starts at the workload's first step, however late
# a loaded machine lets it come (issue 10 point 14: 0 events in 1 s under load).
"$NCTOP" --demo --once --json --duration 1 -o "$T/demo.json" >/dev/null 2>"$T/demo.err"
check "--demo --once exits 0" test $? -eq 0
jcheck "--demo --once: a second of steps, counted from the first" "$T/demo.json" \
    'proc("tinylm")["events"] > 0' 'row(proc("tinylm"), "latency", "step")["total"]["count"] > 0'
