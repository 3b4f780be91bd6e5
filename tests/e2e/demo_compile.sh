#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# nctop --demo=compile: the compiler's compilations arrive live (ok and failed, with their
# target, model and reason), then the runtime runs the image the compiler made. Read as
# --batch --json lines until both are seen (bounded), never after a fixed sleep.
. "$(dirname "$0")/lib.sh"
need_build
mkdir -p "$T/tmp"
TMPDIR=$T/tmp "$PY" - "$NCTOP" >"$T/out.txt" 2>&1 <<'PYEOF'
import json, subprocess, sys, time
p = subprocess.Popen([sys.argv[1], "--demo=compile", "--batch", "--json", "-d", "0.5"],
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                     text=True)
deadline = time.monotonic() + 240
seen = {}
try:
    for line in p.stdout:
        d = json.loads(line)
        for q in d["processes"]:
            if q["label"] == "snnc":
                seen["compile"] = q
            if q["label"] == "snn" and q["counters"].get("spikes", 0) > 0:
                seen["run"] = q
        c = seen.get("compile")
        if "run" in seen and c is not None and c["compilations_total"] >= 40:
            break
        if time.monotonic() > deadline:
            break
finally:
    p.terminate()
    p.wait(30)
c, r = seen.get("compile"), seen.get("run")
assert c is not None, "no snnc process"
assert r is not None, "the runtime never ran the image"
statuses = {x["status"] for x in c["compilations"]}
assert c["compilations_total"] == 40, c["compilations_total"]
assert statuses == {"ok", "error"}, statuses
bad = [x for x in c["compilations"] if x["status"] == "error"]
assert any("max_axons" in x["message"] or "cores per chip" in x["message"] for x in bad), \
    [x["message"] for x in bad][:3]
assert all({"target", "model"} <= set(x["attributes"]) for x in c["compilations"])
ok = [x for x in c["compilations"] if x["status"] == "ok"][0]
assert {p["name"] for p in ok["passes"]} >= {"parse", "build", "quantize", "partition",
                                             "place", "route", "emit", "estimate"}, ok["passes"]
print("%d compilations, %d failed; the runtime at %d spikes" % (
    c["compilations_total"], len(bad), r["counters"]["spikes"]))
PYEOF
if [ $? -eq 0 ]; then
    pass "demo_compile_live ($(tail -n 1 "$T/out.txt"))"
else
    fail "demo_compile_live" "$(tail -n 3 "$T/out.txt" | tr '\n' ' ')"
fi
check "demo_compile_cleans_up (the image's directory in \$TMPDIR is gone)" \
    test -z "$(ls -d "$T"/tmp/nctop-demo.* 2>/dev/null)"
