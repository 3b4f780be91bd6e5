#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Alert rules for real: a workload whose KV cache is filled to 95 % (tests/helpers/kv_fill.c;
# tinylm's fills and empties with every request) fires the built-in memory_high rule in
# /healthz (503, named), in Prometheus (nctop_alert_firing scraped with curl, promtool check
# metrics clean), in the snapshot's alerts[], in the JSONL log, in the display (tmux: the
# status line, the Alerts view) and in the exit status of --fail-on-alert (4; 0 when the rule
# is raised out of reach); emptied, the alert resolves. A GPU XID error (the fake NVML's
# event) fires hw_errors. A rules file with a bad line is one error naming its file and line.
. "$(dirname "$0")/lib.sh"
need_build
command -v curl >/dev/null || { skip "curl is not installed"; exit 77; }

free_port() {
    "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

KV=$BUILD/tests/kv_fill
[ -x "$KV" ] || { fail "build" "$KV missing: run make"; exit 1; }
"$KV" 95 &
lm=$!
PIDS+=("$lm")
wait_for 10 test -e "/dev/shm/nctop-$lm" || { fail "kv_fill publishes a segment"; exit 1; }

# --- headless with the exporter: /healthz and /metrics ----------------------------------------
P=$(free_port)
"$NCTOP" --headless --prometheus "127.0.0.1:$P" --fail-on-alert=critical -p "$lm" \
    2>"$T/headless.err" &
nc=$!
PIDS+=("$nc")
if wait_for 20 sh -c "[ \"\$(curl -s -m 5 -o '$T/health.json' -w '%{http_code}' \
        'http://127.0.0.1:$P/healthz')\" = 503 ] && grep -q 'memory_high' '$T/health.json'"; then
    jcheck "/healthz: 503, unhealthy, the critical memory_high alert on the KV cache named" \
        "$T/health.json" \
        'd["healthy"] is False and d["status"] == "unhealthy"' \
        "any(a['name'] == 'memory_high' and a['severity'] == 'critical' and a['pid'] == $lm and a['object'] == 'KV Cache/kv_cache' and a['value'] > 90 and a['threshold'] == 90 for a in d['alerts'])" \
        "any(r.startswith('alert memory_high: kv_fill (pid $lm) KV Cache/kv_cache at 9') for r in d['reasons'])"
else
    fail "/healthz: 503 with memory_high within 20 s" "$(cat "$T/health.json" 2>/dev/null)"
fi
firing='nctop_alert_firing{alert="memory_high",severity="critical",workload="kv_fill",object="KV Cache/kv_cache"} 1'
if wait_for 10 sh -c "curl -s -m 5 -o '$T/metrics.txt' 'http://127.0.0.1:$P/metrics' && grep -qF '$firing' '$T/metrics.txt'"; then
    pass "/metrics: $firing"
else
    fail "/metrics: the firing alert" "$(grep alert "$T/metrics.txt" 2>/dev/null | tr '\n' ' ')"
fi
check "/metrics: nctop_alerts counts it as critical and firing" \
    grep -qE '^nctop_alerts\{severity="critical",state="firing"\} [1-9]' "$T/metrics.txt"
if command -v promtool >/dev/null; then
    check "promtool check metrics passes with alerts" bash -c "promtool check metrics < '$T/metrics.txt'"
else
    skip "promtool is not installed"
fi
# Emptied: the alert resolves, /healthz is well again.
kill -USR1 "$lm"
check "emptied KV cache: /healthz 200 again, no alert" wait_for 20 sh -c \
    "[ \"\$(curl -s -m 5 -o '$T/resolved.json' -w '%{http_code}' 'http://127.0.0.1:$P/healthz')\" = 200 ] && grep -q '\"alerts\":\[\]' '$T/resolved.json'"
check "emptied KV cache: no nctop_alert_firing series" sh -c \
    "curl -s -m 5 'http://127.0.0.1:$P/metrics' | grep -q '^nctop_alerts{severity=\"critical\",state=\"firing\"} 0' && ! curl -s -m 5 'http://127.0.0.1:$P/metrics' | grep -q '^nctop_alert_firing{'"
kill -USR2 "$lm"
kill -TERM "$nc"
wait "$nc"
rc=$?
check "--headless --fail-on-alert=critical: exit 4 after TERM" test "$rc" -eq 4
check "the alert that fired is named on stderr" \
    grep -q "nctop: alert critical fired: memory_high: kv_fill (pid $lm) KV Cache/kv_cache at 9" \
    "$T/headless.err"

# --- --once: the snapshot's alerts[] and the exit status ----------------------------------------
"$NCTOP" --once --json --duration 3 --fail-on-alert -p "$lm" >"$T/once.json" 2>"$T/once.err"
rc=$?
check "--once --fail-on-alert: exit 4" test "$rc" -eq 4
jcheck "snapshot: alerts[] holds memory_high firing on the KV cache, with since and its figures" \
    "$T/once.json" \
    "[a for a in d['alerts'] if a['name'] == 'memory_high' and a['state'] == 'firing' and a['pid'] == $lm and a['workload'] == 'kv_fill' and a['object'] == 'KV Cache/kv_cache' and a['severity'] == 'critical' and 90 < a['value'] <= 100 and a['threshold'] == 90 and a['unit'] == '%' and a['kind'] == 'memory']" \
    "all(a['since'].endswith('Z') and a['since'] <= d['timestamp'] for a in d['alerts'] if a['state'] == 'firing')"
"$NCTOP" --once --json --duration 2 -p "$lm" >/dev/null 2>&1
check "--once without --fail-on-alert: exit 0 though the alert fires" test "$?" -eq 0
"$NCTOP" --once --json --duration 2 --fail-on-alert=critical --alert 'memory_high 99.9' \
    -p "$lm" >"$T/raised.json" 2>&1
rc=$?
check "--alert 'memory_high 99.9': no critical alert, exit 0" test "$rc" -eq 0
jcheck "the raised rule: no memory_high alert in the snapshot" "$T/raised.json" \
    "not [a for a in d['alerts'] if a['name'] == 'memory_high']"

# --- the JSONL log ----------------------------------------------------------------------------
mkdir -p "$T/logs"
METRICS_LOG_INTERVAL_SECS=1 "$NCTOP" --headless --log --log-dir "$T/logs" --duration 3 \
    -p "$lm" 2>"$T/log.err"
log=$(ls "$T"/logs/*-latency.jsonl 2>/dev/null | head -n 1)
if [ -n "$log" ] && "$PY" - "$log" <<'PYEOF'; then
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert any(a["name"] == "memory_high" and a["object"] == "KV Cache/kv_cache" and
           a["state"] == "firing" for l in lines for a in l.get("alerts", [])), lines[-1].keys()
PYEOF
    pass "the latency log's lines carry the firing alert"
else
    fail "the latency log's lines carry the firing alert" "$(cat "$T/log.err")"
fi

# --- the display -------------------------------------------------------------------------------
if command -v tmux >/dev/null; then
    SOCK=nctop-t$$
    tm() { tmux -L "$SOCK" "$@"; }
    trap 'tm kill-server 2>/dev/null; cleanup' EXIT
    has() { wait_for 15 sh -c "tmux -L '$SOCK' capture-pane -p -t t | grep -qE -- \"\$1\"" _ "$1"; }
    tm -f /dev/null new -d -s t -x 120 -y 40 \
        "env HOME='$HOME' XDG_CONFIG_HOME='$XDG_CONFIG_HOME' TERM=screen-256color '$NCTOP' -p $lm"
    check "display: the status line names the firing alert" \
        has "ALERT.* memory_high: kv_fill \\(pid $lm\\) KV Cache/kv_cache at 9"
    check "display: the Alerts tab shows while it fires" has ' a Alerts '
    tm send-keys -t t a
    check "display: 'a' shows the Alerts view with the alert firing" \
        has "FIRING +!! memory_high +kv_fill +KV Cache/kv_cache"
    check "display: the Alerts view lists the rules" has "memory_high +memory +> 90% +for 0 +critical"
    tm capture-pane -p -t t >"$T/alerts.screen"
    tm send-keys -t t 2
    check "display: the Memory view shows the KV cache" has "kv_cache"
    tm send-keys -t t q
    wait_for 10 sh -c "! tmux -L '$SOCK' has-session -t t" ||
        fail "display: q ends nctop"
else
    skip "tmux is not installed"
fi

# --- a GPU XID error through NVML events (the fake NVML) ----------------------------------------
FAKE=$BUILD/tests/libfake_nvml.so
P=$(free_port)
NCTOP_NVML_LIB="$FAKE" NCTOP_FAKE_NVML_XID="$T/xid" "$NCTOP" --headless \
    --prometheus "127.0.0.1:$P" --alert 'memory_high off' -p "$lm" 2>"$T/xid.err" &
nc=$!
PIDS+=("$nc")
# The GPUs first (the probe samples on a worker), then the driver reports XID 79 on GPU0.
wait_for 15 sh -c "curl -s -m 5 'http://127.0.0.1:$P/healthz' | grep -q 'Fake T4'" ||
    fail "the fake GPUs are seen"
echo 79 >"$T/xid"
if wait_for 20 sh -c "[ \"\$(curl -s -m 5 -o '$T/xid.json' -w '%{http_code}' \
        'http://127.0.0.1:$P/healthz')\" = 503 ] && grep -q 'hw_errors' '$T/xid.json'"; then
    jcheck "XID 79 on GPU0: hw_errors fires, critical, /healthz 503" "$T/xid.json" \
        "any(a['name'] == 'hw_errors' and a['severity'] == 'critical' and a['pid'] is None and a['object'] == 'GPU0' and a['value'] == 1 and 'XID 79' in a['text'] for a in d['alerts'])"
else
    fail "XID 79 on GPU0: hw_errors within 20 s" "$(cat "$T/xid.json" 2>/dev/null)"
fi
curl -s -m 5 -o "$T/xid.txt" "http://127.0.0.1:$P/metrics"
xidline='nctop_alert_firing{alert="hw_errors",severity="critical",workload="",object="GPU0"} 1'
if grep -qF "$xidline" "$T/xid.txt"; then
    pass "XID: $xidline"
else
    fail "XID: nctop_alert_firing for GPU0" "$(grep alert "$T/xid.txt" | tr '\n' ' ')"
fi
kill -TERM "$nc"
wait "$nc" 2>/dev/null

# --- a rules file ------------------------------------------------------------------------------
printf '# mine\nmemory_high 95 2s\nkv_full memory ninety\n' >"$T/bad.rules"
"$NCTOP" --once --rules "$T/bad.rules" -p "$lm" >/dev/null 2>"$T/bad.err"
rc=$?
check "a bad rules file: exit 2" test "$rc" -eq 2
check "a bad rules file: one line naming the file and line" \
    sh -c "[ \$(wc -l <'$T/bad.err') -eq 1 ] && grep -q '^nctop: $T/bad.rules:3: .ninety. is not a threshold' '$T/bad.err'"
printf 'kv_nearly memory 50 0 warning\nmemory_high off\n' >"$T/good.rules"
"$NCTOP" --once --json --duration 2 --rules "$T/good.rules" -p "$lm" >"$T/good.json" 2>/dev/null
jcheck "a rules file: its own rule fires, the rule it turns off does not" "$T/good.json" \
    "[a for a in d['alerts'] if a['name'] == 'kv_nearly' and a['severity'] == 'warning' and a['object'] == 'KV Cache/kv_cache']" \
    "not [a for a in d['alerts'] if a['name'] == 'memory_high']"
