# SPDX-License-Identifier: MIT
# Serving figures under concurrency (issue 11): two requests in flight at once, one per thread,
# each with its own request id. nctop's TTFT, inter-token and end-to-end latency must match
# what the workload measured itself (CLOCK_MONOTONIC, the same clock), within max(1 %, 2 ms),
# and the request counts and prompt tokens must be exact.
. "$(dirname "$0")/lib.sh"
need_build
HELPER=$BUILD/tests/serve_two

"$NCTOP" --once --json --duration 20 -- "$HELPER" "$T/own.json" >"$T/snap.json" 2>"$T/err"
check "nctop --once -- serve_two: exit 0" test $? -eq 0
check "the workload saw nctop attached" "$PY" -c \
    'import json,sys; sys.exit(0 if json.load(open(sys.argv[1]))["attached"] else 1)' "$T/own.json"

# p50 as nctop defines it: nearest rank, sample number ceil(count / 2) in ascending order.
cat >"$T/cmp.py" <<'PYEOF'
import json, math, sys
own = json.load(open(sys.argv[1]))
snap = json.load(open(sys.argv[2]))
key = sys.argv[3]
p = [p for p in snap["processes"] if p["label"] == "serve_two"][0]
mine = sorted(own[key])
want = mine[math.ceil(len(mine) / 2) - 1]
if key == "e2e_ms":
    m = (p["requests"] or {}).get("e2e_ms")
else:
    m = p[key]
assert m is not None, "no %s in the snapshot" % key
got, n = m["total"]["p50_ms"], m["total"]["count"]
tol = max(0.01 * want, 2.0)
print("%s: workload p50 %.3f ms (%d samples), nctop p50 %.3f ms (%d samples), tolerance %.3f" %
      (key, want, len(mine), got, n, tol))
sys.exit(0 if abs(got - want) <= tol and n == len(mine) else 1)
PYEOF
check "TTFT p50 matches the workload's own (2 requests at once)" \
    "$PY" "$T/cmp.py" "$T/own.json" "$T/snap.json" ttft_ms
check "inter-token latency p50 matches the workload's own" \
    "$PY" "$T/cmp.py" "$T/own.json" "$T/snap.json" itl_ms
check "end-to-end request latency p50 matches the workload's own" \
    "$PY" "$T/cmp.py" "$T/own.json" "$T/snap.json" e2e_ms
"$PY" "$T/cmp.py" "$T/own.json" "$T/snap.json" ttft_ms 2>&1 | sed 's/^/  /'
"$PY" "$T/cmp.py" "$T/own.json" "$T/snap.json" itl_ms 2>&1 | sed 's/^/  /'
jcheck "requests: 2 finished, none running or failed; prompt and generated tokens" "$T/snap.json" \
    'proc("serve_two")["requests"]["finished"] == 2' \
    'proc("serve_two")["requests"]["running"] == 0' \
    'proc("serve_two")["requests"]["failed"] == 0' \
    'proc("serve_two")["requests"]["prompt_tokens"] == json.load(open("'"$T"'/own.json"))["prompt_tokens"]' \
    'proc("serve_two")["requests"]["generation_tokens"] == json.load(open("'"$T"'/own.json"))["generation_tokens"]' \
    'proc("serve_two")["requests"]["prompt_tokens_per_request"]["p50"] == 32'

# A recording keeps the request ids: its replay gives the same two requests and TTFT.
"$NCTOP" record -o "$T/two.nctrec" -- "$HELPER" "$T/own2.json" >/dev/null 2>&1
"$NCTOP" replay --once --json "$T/two.nctrec" >"$T/replay.json" 2>"$T/replay.err"
jcheck "replay of a recording: the two requests by id" "$T/replay.json" \
    'proc("serve_two")["requests"]["finished"] == 2'
check "replay of a recording: TTFT p50 matches the workload's own" \
    "$PY" "$T/cmp.py" "$T/own2.json" "$T/replay.json" ttft_ms

# Issue 11.2: the README's example (a pool of 1 MiB used out of 4 MiB reserved). Tracked Host
# Memory is what is resident (used), its capacity what is reserved, and Unattributed is the
# real difference from RSS, never a clamped 0.
# Under make test-asan the library is instrumented: so must its users be.
# shellcheck disable=SC2086
cc -O1 -I"$ROOT/include" -o "$T/hello" "$ROOT/models/examples/hello_nctop.c" \
    "$BUILD/lib/libnctop.a" -lpthread ${NCTOP_SAN_FLAGS:-}
"$NCTOP" --once --json --duration 10 -o "$T/hello.json" -- "$T/hello" >/dev/null 2>&1
jcheck "hello_nctop: tracked counts the used bytes; reserved is the capacity" "$T/hello.json" \
    'row(proc(), "memory", "Host Memory/Tracked Host Memory")["bytes"] == 2 * 16384 + (1 << 20)' \
    'row(proc(), "memory", "Host Memory/Tracked Host Memory")["capacity_bytes"] ==
        2 * 16384 + (4 << 20)' \
    'row(proc(), "memory", "Host Memory/Unattributed Host Memory")["bytes"] ==
        row(proc(), "memory", "Host Memory")["bytes"] -
        row(proc(), "memory", "Host Memory/Tracked Host Memory")["bytes"] > 0' \
    'proc()["step_source"] == "step"'
