# SPDX-License-Identifier: MIT
# The Prometheus exporter for real: promtool on live output, no duplicate series, a strict and
# robust HTTP side, and a real Prometheus scraping nctop and answering PromQL over it.
. "$(dirname "$0")/lib.sh"
need_build
if ! command -v promtool >/dev/null || ! command -v prometheus >/dev/null; then
    skip "prometheus and promtool are not installed (make deps installs them)"
    exit 0
fi

free_port() {
    "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
P=$(free_port)
"$NCTOP" --headless --duration 120 --prometheus "$P" --prometheus-paths 12 -- "$TINYLM" \
    --layers 2 --dim 256 --heads 4 --kv-heads 2 --ffn 512 --vocab 4096 --ctx 256 --prompt 4 \
    --gen 32 --quiet >"$T/nctop.out" 2>"$T/nctop.err" &
nc=$!
PIDS+=("$nc")

# http GET PATH [METHOD] -> prints "STATUS" then the body to $T/body
http() {
    "$PY" - "$P" "$@" <<'PYEOF'
import http.client, sys
port, path = int(sys.argv[1]), sys.argv[2]
method = sys.argv[3] if len(sys.argv) > 3 else "GET"
c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
c.request(method, path)
r = c.getresponse()
body = r.read()
open(sys.argv[0] if False else "/dev/stdout", "w").write("%d\n" % r.status)
sys.stdout.flush()
open(__import__("os").environ["T"] + "/body", "wb").write(body)
PYEOF
}
export T
if ! wait_for 10 http /metrics >/dev/null; then
    fail "nctop serves /metrics" "$(cat "$T/nctop.err")"
    exit 1
fi
# Let a few steps happen, then scrape.
tokens_seen() {
    "$PY" - "$P" <<'PYEOF'
import re, sys, urllib.request
b = urllib.request.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[1], timeout=5).read().decode()
m = re.search(r"^nctop_generation_tokens_total\{[^}]*\} (\S+)$", b, re.M)
sys.exit(0 if m and float(m.group(1)) > 0 else 1)
PYEOF
}
wait_for 30 tokens_seen
check "GET /metrics answers 200" test "$(http /metrics)" = 200
cp "$T/body" "$T/metrics.txt"
check "promtool check metrics passes" bash -c "promtool check metrics < '$T/metrics.txt'"
"$PY" - "$T/metrics.txt" >"$T/series.check" 2>&1 <<'PYEOF'
import re, sys
seen, fams = set(), {}
for line in open(sys.argv[1]):
    line = line.rstrip("\n")
    if not line or line.startswith("#"):
        continue
    key, value = line.rsplit(" ", 1)
    assert key not in seen, "duplicate series " + key
    seen.add(key)
    float(value)
    fams.setdefault(re.match(r"[a-z_:]+", key).group(0), []).append((key, float(value)))
def one(name):
    assert fams.get(name), "no " + name
    return fams[name][0][1]
assert one("nctop_generation_tokens_total") > 0
assert 0 <= one("nctop_kv_cache_usage_ratio") <= 1
assert one("nctop_resident_memory_bytes") > 100e6 or one("nctop_resident_memory_bytes") > 1e6
assert one("nctop_weights_bytes") > 0
assert one("nctop_events_dropped_total") == 0
assert 'pid="' in fams["nctop_workload_info"][0][0]
# Histograms: buckets cumulative, +Inf equals _count, per series.
buckets = {}
for key, v in fams["nctop_span_duration_seconds_bucket"]:
    series = re.sub(r',le="[^"]*"', "", key)
    buckets.setdefault(series, []).append(v)
for series, vs in buckets.items():
    assert vs == sorted(vs), "non-cumulative buckets " + series
paths = {re.search(r'path="([^"]*)"', k).group(1) for k, _ in fams["nctop_span_duration_seconds_count"]}
assert len(paths) == 13 and "other" in paths, sorted(paths)  # the cap of 12, plus "other"
assert one("nctop_exporter_folded_paths") > 0
print("ok")
PYEOF
check "no duplicate series; sane values; histograms cumulative; path cap folds" \
    grep -qx ok "$T/series.check"
[ -s "$T/series.check" ] && grep -v '^ok$' "$T/series.check" | head -n 3

check "/ answers 200" test "$(http /)" = 200
check "/ points to /metrics" grep -q /metrics "$T/body"
check "unknown path is 404" test "$(http /nope)" = 404
check "POST is 405" test "$(http /metrics POST)" = 405
check "binds 127.0.0.1 by default, not every interface" \
    "$PY" -c "
import sys
port = '%04X' % $P
rows = [l.split() for l in open('/proc/net/tcp').readlines()[1:]]
listen = [r[1] for r in rows if r[3] == '0A' and r[1].endswith(':' + port)]
sys.exit(0 if listen == ['0100007F:' + port] else 1)"

# Malformed, oversized, silent, half-closed and many concurrent clients, all bounded.
"$PY" - "$P" >"$T/burst.out" 2>&1 <<'PYEOF'
import socket, sys, threading, time
port = int(sys.argv[1])
def raw(data, shut=False, read=True):
    s = socket.create_connection(("127.0.0.1", port), timeout=15)
    if data:
        s.sendall(data)
    if shut:
        s.shutdown(socket.SHUT_WR)
    out = b""
    if read:
        try:
            while True:
                b = s.recv(65536)
                if not b:
                    break
                out += b
        except socket.timeout:
            out += b"TIMEOUT"
        except ConnectionResetError:
            pass  # closing on an unanswered request may reset: as good as EOF
    s.close()
    return out
assert raw(b"garbage\r\n\r\n").startswith(b"HTTP/1.1 400"), "400"
assert raw(b"GET /metrics HTTP/1.1\r\nX: " + b"a" * 20000 + b"\r\n\r\n").startswith(b"HTTP/1.1 431")
assert raw(b"GET /metr", shut=True) == b"", "half-closed client gets nothing"
silent = [socket.create_connection(("127.0.0.1", port)) for _ in range(20)]
results = []
def scrape():
    r = raw(b"GET /metrics HTTP/1.0\r\n\r\n")
    results.append(r.split(b"\r\n", 1)[0])
t0 = time.time()
threads = [threading.Thread(target=scrape) for _ in range(150)]
for t in threads: t.start()
for t in threads: t.join()
ok = sum(1 for r in results if r.startswith(b"HTTP/1.1 200"))
busy = sum(1 for r in results if r.startswith(b"HTTP/1.1 503"))
assert ok + busy == 150 and ok > 0, (ok, busy, results[:3])
for s in silent: s.close()
assert raw(b"GET /metrics HTTP/1.0\r\n\r\n").startswith(b"HTTP/1.1 200"), "responsive after"
print("ok: %d answered, %d told to retry, in %.1f s" % (ok, busy, time.time() - t0))
PYEOF
check "bursts of scrapes and bad clients leave nctop responsive" grep -q '^ok' "$T/burst.out"
grep -v '^ok' "$T/burst.out" | tail -n 3
grep '^ok' "$T/burst.out" | sed 's/^/    /'

# A real Prometheus, 1 s scrape interval, temporary storage, on loopback.
PP=$(free_port)
cat >"$T/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
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
query() {
    "$PY" - "$PP" "$1" <<'PYEOF'
import json, sys, urllib.parse, urllib.request
u = "http://127.0.0.1:%s/api/v1/query?query=%s" % (sys.argv[1], urllib.parse.quote(sys.argv[2]))
r = json.load(urllib.request.urlopen(u, timeout=5))
res = r["data"]["result"]
if not res:
    sys.exit(1)
v = float(res[0]["value"][1])
print(v)
sys.exit(0 if v == v else 1)
PYEOF
}
export -f query
export PP PY
if ! wait_for 30 ready; then
    fail "prometheus starts" "$(tail -n 3 "$T/prom.log" | tr '\n' ' ')"
    exit 0
fi
pass "prometheus starts"
check "Prometheus scraped nctop (tokens counter)" wait_for 30 query 'nctop_generation_tokens_total'
check "PromQL: tokens/s over 5 s is positive" wait_for 30 \
    bash -c "v=\$(query 'rate(nctop_generation_tokens_total[5s])') && awk -v v=\"\$v\" 'BEGIN {exit !(v > 0)}'"
check "PromQL: p99 of block 0 is between 1 us and 1 s" wait_for 30 \
    bash -c "v=\$(query 'histogram_quantile(0.99, rate(nctop_span_duration_seconds_bucket{path=\"step/forward/block 0\"}[5s]))') && awk -v v=\"\$v\" 'BEGIN {exit !(v > 1e-6 && v < 1)}'"
check "PromQL: KV cache usage ratio" wait_for 30 query 'nctop_kv_cache_usage_ratio'
kill "$pp" "$nc" 2>/dev/null
wait "$nc"
check "nctop exits 0 on SIGTERM" test $? -eq 0

# test_issue_11: --prometheus-buckets chooses the histogram bounds (the same ones for every
# histogram); a bad spec is a usage error.
P3=$(free_port)
"$NCTOP" --headless --duration 60 --prometheus "$P3" --prometheus-buckets 0.001,0.01,0.1,1 \
    -- "$TINYLM" --layers 1 --dim 64 --ffn 128 --vocab 256 --gen 8 --quiet >/dev/null 2>&1 &
n3=$!
PIDS+=("$n3")
buckets() {
    "$PY" - "$P3" <<'PYEOF'
import re, sys, urllib.request
t = urllib.request.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[1], timeout=5).read().decode()
les = sorted(set(re.findall(r'nctop_span_duration_seconds_bucket\{[^}]*le="([^"]+)"', t)))
sys.exit(0 if les == sorted(["0.001", "0.01", "0.1", "1", "+Inf"]) else 1)
PYEOF
}
check "--prometheus-buckets: the histograms have exactly the bounds asked for" wait_for 30 buckets
kill "$n3" 2>/dev/null
"$NCTOP" --headless --prometheus-buckets 1:0 --duration 1 >/dev/null 2>"$T/bk.err"
check "--prometheus-buckets: a bad spec is a usage error" test $? -eq 2
