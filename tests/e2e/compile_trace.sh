#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A real compiler that links nothing: clang -ftime-trace compiles a file of this repository,
# and nctop replay shows it as one compilation with its pass tree. The figures are checked
# against clang's own report in the same file: its "Total <name>" events sum each name.
. "$(dirname "$0")/lib.sh"
need_build
if ! command -v clang >/dev/null 2>&1; then
    skip "compile_trace: clang is not installed"
    exit 0
fi
src=$ROOT/src/base/strtab.c
# Granularity 0: every event is written, so that clang's sums cover the same events as the
# tree (by default events under 500 us are counted in the sums but left out of the trace).
if ! clang -ftime-trace -ftime-trace-granularity=0 -O2 -I"$ROOT" -I"$ROOT/include" -c "$src" -o "$T/strtab.o" 2>"$T/cc.err"; then
    fail "compile_trace_cc" "$(head -n 2 "$T/cc.err")"
    exit 0
fi
check "compile_trace_written" test -s "$T/strtab.json"

"$NCTOP" replay --once --json "$T/strtab.json" >"$T/out.json" 2>"$T/out.err"
check "compile_trace_clean" test ! -s "$T/out.err"

# The tree: one ExecuteCompiler at the top with Frontend and Backend under it, clang's
# per-name sums left out of the tree.
jcheck "compile_trace_tree" "$T/out.json" \
    'len(proc()["latency"]) > 5' \
    '[r["path"] for r in proc()["latency"] if r["level"] == 0] == ["ExecuteCompiler"]' \
    'row(proc(), "latency", "ExecuteCompiler/Frontend")["total"]["count"] >= 1' \
    'row(proc(), "latency", "ExecuteCompiler/Backend")["total"]["count"] == 1' \
    'not any(r["label"].startswith("Total ") for r in proc()["latency"])'

# Against clang's own sums: every name's total time in nctop's tree equals clang's "Total
# <name>" (a name nested in itself counted once, as clang counts it; each event's time is
# written in whole microseconds, so the sums may differ by a microsecond an event), and the
# passes under the compiler add up to at most its total. The compilation itself: ok,
# labelled, its wall time clang's.
"$PY" - "$T/strtab.json" "$T/out.json" >"$T/sums.txt" 2>&1 <<'PYEOF'
import json, sys
from collections import defaultdict
trace = json.load(open(sys.argv[1]))["traceEvents"]
snap = json.load(open(sys.argv[2]))["processes"][0]
clang = {e["name"][6:]: (e["dur"] / 1000.0, e["args"]["count"]) for e in trace
         if e.get("ph") == "X" and e["name"].startswith("Total ")}
ours = defaultdict(float)
for r in snap["latency"]:
    if r["label"] not in r["path"].split("/")[:-1]:
        ours[r["label"]] += r["total"]["total_ms"] or 0.0
bad = []
checked = 0
for name, (ms, count) in clang.items():
    if name == "RunPass":
        continue  # nctop names each RunPass by the pass it runs (its detail)
    checked += 1
    if abs(ms - ours.get(name, -1.0)) > 0.001 * (count + 1):
        bad.append("%s: clang %.3f ms (%d), nctop %.3f ms" % (name, ms, count,
                                                              ours.get(name, -1)))
top = [r for r in snap["latency"] if r["level"] == 0][0]
kids = sum(r["total"]["total_ms"] for r in snap["latency"]
           if r["level"] == 1 and r["path"].startswith("ExecuteCompiler/"))
if not (0 < kids <= top["total"]["total_ms"] + 0.001):
    bad.append("passes %.3f ms vs total %.3f ms" % (kids, top["total"]["total_ms"]))
c = snap["compilations"]
if len(c) != 1 or c[0]["status"] != "ok" or c[0]["attributes"].get("model") != "strtab" \
        or abs(c[0]["wall_ms"] - clang["ExecuteCompiler"][0]) > 0.002:
    bad.append("compilation %r" % ({k: c[0][k] for k in ("status", "wall_ms", "attributes")}
                                    if c else c))
if not any(p["path"] == "Frontend" and p["level"] == 1 for p in c[0]["passes"]):
    bad.append("no Frontend pass in the compilation")
print("; ".join(bad[:4]) if bad else "%d names, passes %.3f of %.3f ms" % (
    checked, kids, top["total"]["total_ms"]))
sys.exit(1 if bad else 0)
PYEOF
if [ $? -eq 0 ]; then
    pass "compile_trace_matches_clang ($(cat "$T/sums.txt"))"
else
    fail "compile_trace_matches_clang" "$(tail -n 2 "$T/sums.txt")"
fi
