#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The shipped Prometheus rules and Grafana dashboard (contrib/): promtool checks and unit-tests
# the rules; a real Prometheus on loopback (its own directory, 1 s scrapes and evaluations)
# scrapes a live nctop watching a workload whose KV cache is 95 % full, and the shipped
# NctopMemoryNearCapacity rule goes pending, then firing; the dashboard is valid dashboard JSON
# and every query of it is accepted by that Prometheus against the live data.
. "$(dirname "$0")/lib.sh"
need_build
if ! command -v promtool >/dev/null || ! command -v prometheus >/dev/null; then
    skip "prometheus and promtool are not installed (make deps installs them)"
    exit 77
fi
RULES=$ROOT/contrib/prometheus/nctop-alerts.yml
DASH=$ROOT/contrib/grafana/nctop.json

check "promtool check rules: the shipped rules are clean" promtool check rules "$RULES"
check "promtool test rules: the rules' unit tests pass" \
    sh -c "cd '$ROOT/contrib/prometheus' && promtool test rules nctop-alerts.test.yml"

# The dashboard: schemaVersion, a Prometheus datasource variable, panels with targets, unique
# ids; its queries, variables substituted, go to a file for the live check below.
"$PY" - "$DASH" "$T/queries.txt" >"$T/dash.check" 2>&1 <<'PYEOF'
import json, re, sys
d = json.load(open(sys.argv[1]))
assert isinstance(d.get("schemaVersion"), int) and d["schemaVersion"] >= 30, "schemaVersion"
assert d.get("title") and d.get("uid"), "title and uid"
ds = [v for v in d["templating"]["list"] if v["type"] == "datasource"]
assert ds and ds[0]["query"] == "prometheus", "a Prometheus datasource variable"
dsref = "${%s}" % ds[0]["name"]
ids, exprs = [], []
def walk(panels):
    for p in panels:
        ids.append(p["id"])
        assert isinstance(p["id"], int), "id of %r" % p.get("title")
        g = p["gridPos"]
        assert all(isinstance(g[k], int) for k in ("x", "y", "w", "h")) and g["x"] + g["w"] <= 24
        if p["type"] == "row":
            walk(p.get("panels", []))
            continue
        assert p["datasource"]["uid"] == dsref, "panel %r uses the variable" % p["title"]
        assert p["targets"], "panel %r has targets" % p["title"]
        for t in p["targets"]:
            assert t["expr"].strip() and t["refId"], "target of %r" % p["title"]
            exprs.append(t["expr"])
walk(d["panels"])
assert len(ids) == len(set(ids)), "unique panel ids"
titles = " ".join(p["title"].lower() for p in d["panels"])
for want in ("p99", "tokens per second", "kv cache", "energy", "compile success"):
    assert want in titles, "a panel on " + want
# Grafana's variables and label_values() queries, as the query API takes them.
for v in d["templating"]["list"]:
    if v["type"] == "query":
        m = re.match(r"label_values\((.*),\s*\w+\)$", v["definition"])
        assert m, v["definition"]
        exprs.append(m.group(1))
with open(sys.argv[2], "w") as f:
    for e in exprs:
        e = e.replace("$__rate_interval", "1m").replace("$__interval", "1m")
        e = re.sub(r"\$\{?(instance|workload|path)\}?", ".*", e)
        assert "$" not in e, "an unsubstituted variable in " + e
        f.write(e.replace("\n", " ") + "\n")
print("ok %d panels, %d queries" % (len(ids), len(exprs)))
PYEOF
check "dashboard: valid dashboard JSON ($(tail -n 1 "$T/dash.check"))" grep -q '^ok' "$T/dash.check"

if [ -n "${NCTOP_SAN_FLAGS:-}" ]; then
    skip "a real Prometheus firing the shipped rule: the workload is Python, and a sanitizer-built libnctop cannot be loaded into it"
    exit 0
fi

free_port() {
    "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# The workload: a KV cache 95 % full, steps with a token each, a measured energy counter.
cat >"$T/kvfull.py" <<'PYEOF'
import time
import nctop
nctop.init(label="kvfull")
nctop.gauge("kv_cache", kind="kv_cache", capacity=1 << 20).set(996148)
energy = nctop.value("energy_j", "J")
e, end = 0.0, time.monotonic() + 170
while time.monotonic() < end:
    with nctop.span("step"):
        with nctop.span("forward"):
            time.sleep(0.004)
    nctop.token()
    e += 0.01
    energy.set(e)
PYEOF
P=$(free_port)
NCTOP_LIB=$BUILD/lib/libnctop.so PYTHONPATH=$ROOT/python PYTHONDONTWRITEBYTECODE=1 \
    "$NCTOP" --headless --duration 180 --prometheus "$P" -- "$PY" "$T/kvfull.py" \
    >"$T/nctop.out" 2>"$T/nctop.err" &
nc=$!
PIDS+=("$nc")

PP=$(free_port)
# The shipped rules as they are, but for the for-durations: 1m would make the test wait a
# minute for the firing state, so the copy Prometheus loads waits 5s (pending shows the rest).
sed -E 's/^( +for: )[0-9]+[smh]$/\15s/' "$RULES" >"$T/rules.yml"
check "the test's copy of the rules differs only in its for-durations" \
    test "$(diff <(grep -v ' for: ' "$RULES") <(grep -v ' for: ' "$T/rules.yml") && echo same)" = same
cat >"$T/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - $T/rules.yml
scrape_configs:
  - job_name: nctop
    static_configs:
      - targets: ["127.0.0.1:$P"]
YML
prometheus --config.file="$T/prometheus.yml" --storage.tsdb.path="$T/tsdb" \
    --web.listen-address="127.0.0.1:$PP" >"$T/prom.log" 2>&1 &
pp=$!
PIDS+=("$pp")
ready() { "$PY" -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$PP/-/ready', timeout=2)"; }
if ! wait_for 30 ready; then
    fail "prometheus starts with the shipped rules" "$(tail -n 3 "$T/prom.log" | tr '\n' ' ')"
    exit 1
fi
pass "prometheus starts with the shipped rules"

# alert STATE: the memory alert of the workload's KV cache is in STATE (pending, firing).
alert() {
    "$PY" - "$PP" "$1" <<'PYEOF'
import json, sys, urllib.request
r = json.load(urllib.request.urlopen("http://127.0.0.1:%s/api/v1/alerts" % sys.argv[1], timeout=5))
ok = any(a["labels"].get("alertname") == "NctopMemoryNearCapacity" and a["state"] == sys.argv[2]
         and a["labels"].get("workload") == "kvfull" and a["labels"].get("kind") == "kv_cache"
         and a["labels"].get("severity") == "warning" for a in r["data"]["alerts"])
sys.exit(0 if ok else 1)
PYEOF
}
export PP PY
check "the KV cache rule goes pending (95 % of capacity scraped)" wait_for 40 alert pending
# It fires after its for-duration.
check "the KV cache rule fires (NctopMemoryNearCapacity, /api/v1/alerts)" wait_for 60 alert firing

# Every dashboard query against the live data: accepted (status success); the latency, token,
# KV cache and energy panels have series.
"$PY" - "$PP" "$T/queries.txt" >"$T/queries.check" 2>&1 <<'PYEOF'
import json, sys, urllib.error, urllib.parse, urllib.request
port, bad, empty = sys.argv[1], [], []
lines = [l.strip() for l in open(sys.argv[2]) if l.strip()]
for q in lines:
    u = "http://127.0.0.1:%s/api/v1/query?query=%s" % (port, urllib.parse.quote(q))
    try:
        r = json.load(urllib.request.urlopen(u, timeout=10))
    except urllib.error.HTTPError as e:
        r = json.load(e)
    if r.get("status") != "success":
        bad.append("%s: %s" % (q, r.get("error")))
    elif not r["data"]["result"]:
        empty.append(q)
for want in ("nctop_span_duration_seconds_bucket", "nctop_generation_tokens_total",
             "nctop_kv_cache_usage_ratio", "nctop_energy_joules_total"):
    qs = [q for q in lines if want in q]
    assert qs and any(q not in empty for q in qs), "no data for " + want
assert not bad, "; ".join(bad)
print("ok %d queries accepted, %d with series" % (len(lines), len(lines) - len(empty)))
PYEOF
check "dashboard: every query accepted by Prometheus over live nctop data ($(tail -n 1 "$T/queries.check"))" \
    grep -q '^ok' "$T/queries.check"
kill "$pp" "$nc" 2>/dev/null
wait "$pp" 2>/dev/null
wait "$nc"
check "nctop exits 0 on SIGTERM" test $? -eq 0
