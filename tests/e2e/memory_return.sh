#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Memory nctop frees goes back to the kernel: large answers scraped again and again leave its
# resident memory where one answer puts it (issue 10: the soak's RSS stepped up 6 MB and stayed
# there once its Prometheus answers had grown to 1.6 MB, freed but kept in the heap).
. "$(dirname "$0")/lib.sh"
need_build
if [ -n "${NCTOP_SAN_FLAGS:-}" ]; then
    # The sanitizer's allocator keeps freed memory in its quarantine on purpose.
    skip "memory return: glibc's allocator only (a sanitizer build has its own)"
    exit 77
fi

# A trace of 421 distinct span paths (root, 20 parents, 20 leaves each) for 10 rounds.
"$PY" - "$T/paths.json" <<'PYEOF'
import json, sys
ev, ts = [], 0.0
for rnd in range(10):
    for i in range(20):
        for j in range(20):
            for name, ph, dt in (("root", "B", 1), ("mid %d" % i, "B", 1),
                                 ("leaf %d" % j, "B", 1 + (rnd * 7 + i * 13 + j) % 3000),
                                 ("leaf %d" % j, "E", 1), ("mid %d" % i, "E", 1),
                                 ("root", "E", 1)):
                ev.append({"name": name, "ph": ph, "ts": ts, "pid": 1, "tid": 1})
                ts += dt
json.dump({"traceEvents": ev}, open(sys.argv[1], "w"))
PYEOF

free_port() {
    "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# Two nctops replay the trace at 1000x (it takes milliseconds): A is scraped, its twin B only
# once, at the end, to show that it holds the same paths. B's resident memory is what the
# statistics take; A's may exceed it by the answer it keeps for the last client, not more.
PA=$(free_port)
PB=$(free_port)
"$NCTOP" replay --headless --duration 120 --speed 1000 --prometheus "$PA" "$T/paths.json" \
    >"$T/a.out" 2>"$T/a.err" &
a=$!
PIDS+=("$a")
"$NCTOP" replay --headless --duration 120 --speed 1000 --prometheus "$PB" "$T/paths.json" \
    >"$T/b.out" 2>"$T/b.err" &
b=$!
PIDS+=("$b")

scrape() { # PORT
    "$PY" - "$1" "$T/answer" <<'PYEOF'
import sys, urllib.request
body = urllib.request.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[1], timeout=10).read()
open(sys.argv[2], "wb").write(body)
PYEOF
}
# Every path in the answer: the exporter's cap (200) of them plus the folded rest.
full() { # PORT
    scrape "$1" && [ "$(grep -c '^nctop_span_duration_seconds_count' "$T/answer")" -ge 200 ]
}
rss_anon() { # PID
    awk '/^RssAnon:/ {print $2}' "/proc/$1/status"
}
if ! wait_for 60 full "$PA"; then
    fail "nctop serves the 421 paths" "$(cat "$T/a.err")"
    exit 1
fi
size_kb=$(($(wc -c <"$T/answer") / 1024))
for i in $(seq 20); do
    scrape "$PA" || break
done
ra=$(rss_anon "$a")
rb=$(rss_anon "$b")
check "the twin holds the same paths" full "$PB"
if [ "$ra" -le $((rb + size_kb * 3 / 2)) ]; then
    pass "21 scrapes of a ${size_kb} KiB answer: RssAnon ${ra} KiB, unscraped twin ${rb} KiB"
else
    fail "21 scrapes of a ${size_kb} KiB answer: RssAnon ${ra} KiB, unscraped twin ${rb} KiB" \
        "more than the twin plus the answer and half again"
fi
kill "$a" "$b" 2>/dev/null
