#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The fleet view for real: three nctops, each watching a tinylm of another size (so of another
# speed), scraped every second by a real Prometheus on loopback; nctop --prometheus-url reads
# them back (--once --json, the text report, the display in tmux) and must name the slowest,
# the one Prometheus' own PromQL finds slowest. Then the failures: nothing listening, a server
# that never answers, an HTTP server that is not Prometheus: one line, status 1, bounded time.
. "$(dirname "$0")/lib.sh"
need_build
if ! command -v prometheus >/dev/null; then
    skip "prometheus is not installed (make deps installs it)"
    exit 77
fi

free_port() {
    "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
SOCK=nctop-f$$
cleanup_fleet() {
    tmux -L "$SOCK" kill-server 2>/dev/null
    cleanup
}
trap cleanup_fleet EXIT

# Three ranks of one job: the same tinylm, three model widths (the widest is the slowest).
TL=(--layers 2 --heads 4 --kv-heads 2 --ctx 256 --prompt 4 --gen 32 --quiet)
SIZES=("--dim 64 --ffn 128 --vocab 256" "--dim 128 --ffn 256 --vocab 1024"
    "--dim 384 --ffn 1024 --vocab 4096")
PORTS=()
NC=()
for i in 0 1 2; do
    PORTS[i]=$(free_port)
    # shellcheck disable=SC2086
    "$NCTOP" --headless --duration 240 --prometheus "${PORTS[i]}" -- nice "$TINYLM" "${TL[@]}" \
        ${SIZES[i]} >"$T/nctop$i.out" 2>"$T/nctop$i.err" &
    NC[i]=$!
    PIDS+=("${NC[i]}")
done
SLOW=127.0.0.1:${PORTS[2]}

PP=$(free_port)
cat >"$T/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: nctop
    static_configs:
      - targets: ["127.0.0.1:${PORTS[0]}", "127.0.0.1:${PORTS[1]}", "$SLOW"]
YML
prometheus --config.file="$T/prometheus.yml" --storage.tsdb.path="$T/tsdb" \
    --web.listen-address="127.0.0.1:$PP" >"$T/prom.log" 2>&1 &
PIDS+=("$!")
URL=http://127.0.0.1:$PP
export PP PY

# api PATH EXPR: the JSON of a GET of Prometheus' API into $T/api.json (PromQL in EXPR).
api() {
    "$PY" - "$PP" "$1" "${2:-}" "$T/api.json" <<'PYEOF'
import json, sys, urllib.parse, urllib.request
port, path, expr, out = sys.argv[1:5]
u = "http://127.0.0.1:%s%s" % (port, path)
if expr:
    u += "?query=" + urllib.parse.quote(expr)
d = json.load(urllib.request.urlopen(u, timeout=5))
json.dump(d, open(out, "w"))
PYEOF
}
targets_up() {
    api /api/v1/targets &&
        "$PY" -c 'import json, sys; t = json.load(open(sys.argv[1]))["data"]["activeTargets"]; sys.exit(0 if len(t) == 3 and all(x["health"] == "up" for x in t) else 1)' "$T/api.json"
}
# Every instance has a step p99 over the last 10 s.
P99_STEP='histogram_quantile(0.99, sum by (instance, le) (rate(nctop_span_duration_seconds_bucket{path="step"}[10s])))'
data_there() {
    api /api/v1/query "$P99_STEP" &&
        "$PY" -c 'import json, math, sys; r = json.load(open(sys.argv[1]))["data"]["result"]; sys.exit(0 if len(r) == 3 and all(math.isfinite(float(x["value"][1])) for x in r) else 1)' "$T/api.json"
}
if ! wait_for 60 targets_up; then
    fail "Prometheus scrapes the three nctops" "$(tail -n 3 "$T/prom.log" | tr '\n' ' ')"
    exit 1
fi
pass "Prometheus scrapes the three nctops"
if ! wait_for 90 data_there; then
    fail "every instance has a step p99 in Prometheus" "$(cat "$T/api.json")"
    exit 1
fi
pass "every instance has a step p99 in Prometheus"
# A few more scrapes, so that the 10 s rates rest on more than two points.
sleep 3

# --once --json: the fleet and its three members, in 60 s at most.
timeout 60 "$NCTOP" --prometheus-url "$URL" --once --json --window 10 >"$T/snap.json" 2>"$T/snap.err"
check "--prometheus-url --once --json exits 0" test $? -eq 0
# What Prometheus itself says is the slowest instance, right after the snapshot.
api /api/v1/query "topk(1, $P99_STEP)"
PROM_SLOW=$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["data"]["result"][0]["metric"]["instance"])' "$T/api.json")
check "Prometheus' own PromQL finds the widest model slowest" test "$PROM_SLOW" = "$SLOW"
CHILD=()
for i in 0 1 2; do
    CHILD[i]=$(pgrep -P "${NC[i]}" | head -n 1)
done
jcheck "the fleet comes first (pid 0), then the three instances with their workloads' pids" \
    "$T/snap.json" \
    "[p['label'] for p in d['processes']][0] == 'fleet' and d['processes'][0]['pid'] == 0" \
    "sorted(p['label'] for p in d['processes'][1:]) == sorted('127.0.0.1:%s/tinylm' % x for x in '${PORTS[*]}'.split())" \
    "sorted(p['pid'] for p in d['processes'][1:]) == sorted(int(x) for x in '${CHILD[*]}'.split())" \
    "all(p['state'] == 'live' for p in d['processes'])"
# The step's slowest is the widest model; the forward's, whichever member's own p99 is the
# largest in the same snapshot (on a loaded machine a tail is as much preemption as model).
jcheck "the fleet's step row: the spread over 3 instances names the slowest ($SLOW)" "$T/snap.json" \
    "row(proc('fleet'), 'latency', 'step')['spread']['instances'] == 3" \
    "row(proc('fleet'), 'latency', 'step')['spread']['slowest'] == '$SLOW/tinylm'" \
    "row(proc('fleet'), 'latency', 'step/forward')['spread']['slowest'] == max(d['processes'][1:], key=lambda p: row(p, 'latency', 'step/forward')['p99_ms'])['label']"
jcheck "the spread is min <= median <= max of the members' own p99s" "$T/snap.json" \
    "[row(proc('fleet'), 'latency', 'step')['spread'][k] for k in ('p99_min_ms', 'p99_median_ms', 'p99_max_ms')] == sorted(row(p, 'latency', 'step')['p99_ms'] for p in d['processes'][1:])" \
    "row(proc('$SLOW/tinylm'), 'latency', 'step')['p99_ms'] == row(proc('fleet'), 'latency', 'step')['spread']['p99_max_ms']"
jcheck "tokens/s: every instance has it, the slowest the least, the fleet their sum" "$T/snap.json" \
    "all(p['rates']['tokens_per_sec'] > 0 for p in d['processes'])" \
    "min(d['processes'][1:], key=lambda p: p['rates']['tokens_per_sec'])['label'] == '$SLOW/tinylm'" \
    "abs(proc('fleet')['rates']['tokens_per_sec'] - sum(p['rates']['tokens_per_sec'] for p in d['processes'][1:])) < 0.01 * proc('fleet')['rates']['tokens_per_sec'] + 1"

# The text report: the spread columns on the fleet's table, the slowest on the step line.
timeout 60 "$NCTOP" --prometheus-url "$URL" --once --window 10 >"$T/snap.txt" 2>&1
check "--once (text) exits 0" test $? -eq 0
check "--once (text): the fleet's table has the spread columns" \
    grep -qE 'P99 MIN +P99 MED +P99 MAX +SLOWEST' "$T/snap.txt"
check "--once (text): the fleet's step line names $SLOW" \
    sh -c "awk '/^fleet /{f=1} f && /^step /{print; exit}' '$T/snap.txt' | grep -q '$SLOW/tinylm'"

# The display in tmux: the fleet's tree with SLOWEST, then the Workloads view.
if command -v tmux >/dev/null; then
    tm() { tmux -L "$SOCK" "$@"; }
    has() { wait_for 30 sh -c "tmux -L '$SOCK' capture-pane -p -t t | grep -qE -- \"\$1\"" _ "$1"; }
    tm -f /dev/null new-session -d -s t -x 180 -y 40 \
        "env HOME='$HOME' XDG_CONFIG_HOME='$XDG_CONFIG_HOME' '$NCTOP' --prometheus-url '$URL' --window 10"
    check "display: the fleet's tree has P99 MAX and SLOWEST" has 'P99 MAX +SLOWEST'
    check "display: the step line names the slowest instance" has "step .*$SLOW/tinylm"
    tm send-keys -t t 4
    check "display: Workloads has TOK/S" has 'TOK/S'
    check "display: Workloads lists the three instances, live" wait_for 30 sh -c \
        "[ \$(tmux -L '$SOCK' capture-pane -p -t t | grep -cE '127\.0\.0\.1:[0-9]+/tinylm +live') -eq 3 ]"
    tm capture-pane -p -t t >"$T/workloads.txt"
    tm send-keys -t t q
    check "display: q quits" wait_for 10 sh -c "! tmux -L '$SOCK' has-session -t t 2>/dev/null"
else
    skip "tmux is not installed: the display is not checked"
fi
for p in "${NC[@]}"; do
    kill "$p" 2>/dev/null
done

# Failures: one line on stderr, status 1, in bounded time.
DEAD=$(free_port)
t0=$(date +%s%N)
timeout 30 "$NCTOP" --prometheus-url "http://127.0.0.1:$DEAD" --once >/dev/null 2>"$T/dead.err"
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
check "nothing listening: exit 1" test "$rc" -eq 1
check "nothing listening: one line naming --prometheus-url and the refusal" \
    sh -c "[ \$(wc -l <'$T/dead.err') -eq 1 ] && grep -q -- '--prometheus-url http://127.0.0.1:$DEAD: connecting: Connection refused' '$T/dead.err'"
check "nothing listening: over in less than 10 s (${ms} ms)" test "$ms" -lt 10000
if command -v tmux >/dev/null; then
    tmux -L "$SOCK" -f /dev/null new-session -d -s u -x 160 -y 30 \
        "env HOME='$HOME' XDG_CONFIG_HOME='$XDG_CONFIG_HOME' '$NCTOP' --prometheus-url 'http://127.0.0.1:$DEAD'"
    check "display: the status line says Prometheus cannot be reached" wait_for 30 sh -c \
        "tmux -L '$SOCK' capture-pane -p -t u | grep -q -- '--prometheus-url http://127.0.0.1:$DEAD: connecting: Connection refused'"
    tmux -L "$SOCK" send-keys -t u q
    check "display: q quits it" wait_for 10 sh -c "! tmux -L '$SOCK' has-session -t u 2>/dev/null"
fi

# A server that accepts and never answers: the query's 2 s deadline ends it.
SILENT=$(free_port)
"$PY" -c 'import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(8); open(sys.argv[2], "w").close()
cs = []
while True:
    c, _ = s.accept(); cs.append(c)' "$SILENT" "$T/silent.ready" &
PIDS+=("$!")
wait_for 10 test -e "$T/silent.ready"
t0=$(date +%s%N)
timeout 30 "$NCTOP" --prometheus-url "http://127.0.0.1:$SILENT" --once >/dev/null 2>"$T/silent.err"
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
check "a server that never answers: exit 1 with 'no answer in time'" \
    sh -c "[ $rc -eq 1 ] && [ \$(wc -l <'$T/silent.err') -eq 1 ] && grep -q 'no answer in time' '$T/silent.err'"
check "a server that never answers: over in less than 10 s (${ms} ms)" test "$ms" -lt 10000

# An HTTP server that is not Prometheus (an nctop's own /metrics port), and Prometheus
# answering an error (a path it does not serve).
P0=$(free_port)
"$NCTOP" --headless --duration 60 --prometheus "$P0" >/dev/null 2>&1 &
PIDS+=("$!")
wait_for 10 sh -c "'$PY' -c 'import urllib.request; urllib.request.urlopen(\"http://127.0.0.1:$P0/metrics\", timeout=2)'"
timeout 30 "$NCTOP" --prometheus-url "http://127.0.0.1:$P0" --once >/dev/null 2>"$T/notprom.err"
rc=$?
check "not a Prometheus: exit 1, one line saying it is no Prometheus' API answer" \
    sh -c "[ $rc -eq 1 ] && [ \$(wc -l <'$T/notprom.err') -eq 1 ] && grep -q 'no answer of Prometheus' '$T/notprom.err'"
timeout 30 "$NCTOP" --prometheus-url "$URL/nowhere" --once >/dev/null 2>"$T/prom404.err"
rc=$?
check "Prometheus answers an error (404 under a wrong prefix): exit 1, one line" \
    sh -c "[ $rc -eq 1 ] && [ \$(wc -l <'$T/prom404.err') -eq 1 ] && grep -q 'HTTP 404' '$T/prom404.err'"
"$NCTOP" --prometheus-url "https://127.0.0.1:$PP" --once >/dev/null 2>"$T/https.err"
rc=$?
check "https:// is a usage error (2) saying so" \
    sh -c "[ $rc -eq 2 ] && grep -q 'https is not supported' '$T/https.err'"
"$NCTOP" --prometheus-url "$URL" --demo --once >/dev/null 2>"$T/mix.err"
check "--prometheus-url with --demo is a usage error (2)" test $? -eq 2
