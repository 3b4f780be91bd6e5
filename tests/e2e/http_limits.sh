#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The exporter under hostile clients (issue 10): slow clients that trickle their request, and
# clients that ask for a large /metrics and never read it. Legitimate scrapes keep working and
# nctop's memory stays bounded (VmHWM from /proc, against the size of one response).
. "$(dirname "$0")/lib.sh"
need_build

free_port() {
    "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
served() {
    "$PY" -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$1/metrics', timeout=5).read()"
}
vm() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }

# --- slowloris: 120 connections that send one byte a second, re-opened when closed --------
P=$(free_port)
"$NCTOP" replay --headless --duration 300 --prometheus "$P" "$ROOT/sample-data/torch-tiny.trace.json" \
    >"$T/slow.out" 2>"$T/slow.err" &
nc=$!
PIDS+=("$nc")
if ! wait_for 10 served "$P"; then
    fail "nctop serves /metrics" "$(cat "$T/slow.err")"
    exit 1
fi
"$PY" - "$P" >"$T/slowloris.out" 2>&1 <<'PYEOF'
import socket, sys, threading, time
port = int(sys.argv[1])
stop = False
closed_after = []
request = b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 200 + b"\r\n\r\n"
def slow(src):
    while not stop:
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(src, 0))
        except OSError:
            time.sleep(0.1)
            continue
        t0 = time.time()
        try:
            for b in request:
                if stop:
                    break
                s.send(bytes([b]))
                time.sleep(1)
        except OSError:
            closed_after.append(time.time() - t0)
        s.close()
# Half from the scraper's own address, half from another one (loopback has them all).
attackers = [threading.Thread(target=slow, args=("127.0.0.%d" % (1 + i % 2),), daemon=True)
             for i in range(120)]
for t in attackers:
    t.start()
time.sleep(3)  # every slot the attack can take is taken
ok, bad = 0, []
for i in range(100):
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        out = b""
        while True:
            b = s.recv(65536)
            if not b:
                break
            out += b
        s.close()
        head, _, body = out.partition(b"\r\n\r\n")
        if head.startswith(b"HTTP/1.1 200") and b"nctop_" in body:
            ok += 1
        else:
            bad.append(head.split(b"\r\n")[0])
    except OSError as e:
        bad.append(repr(e))
    time.sleep(0.05)
stop = True
print("scrapes: %d of 100 answered 200; failures: %r" % (ok, bad[:5]))
if closed_after:
    closed_after.sort()
    print("slow connections closed after %.1f s (median of %d)" %
          (closed_after[len(closed_after) // 2], len(closed_after)))
print("ok" if ok == 100 else "not ok")
PYEOF
check "slowloris: 100 of 100 legitimate scrapes answered 200" grep -qx ok "$T/slowloris.out"
sed 's/^/    /' "$T/slowloris.out" | grep -v '^    ok$'
check "slowloris: nctop still serves after the attack" served "$P"
kill "$nc" 2>/dev/null
wait "$nc" 2>/dev/null

# --- clients that never read a large /metrics ----------------------------------------------
# A trace with 4000 distinct span names: a /metrics response of megabytes.
"$PY" - "$T/many.json" <<'PYEOF'
import json, sys
ev = [{"ph": "X", "name": "op%05d" % i, "pid": 1, "tid": 1, "ts": i * 10, "dur": 5}
      for i in range(4000)]
json.dump({"traceEvents": ev}, open(sys.argv[1], "w"))
PYEOF
P=$(free_port)
# Under AddressSanitizer freed memory waits in a quarantine before reuse, which would count
# against the bound: the sanitizer build measures with no quarantine.
if [ -n "${NCTOP_SAN_FLAGS:-}" ]; then
    export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0"
fi
# Three buckets a decade keep one answer near 8 MiB: large enough that 16 never-reading
# clients would hold gigabytes if answers were copied, small enough to be read in time on a
# loaded machine.
"$NCTOP" replay --headless --duration 300 --prometheus "$P" --prometheus-paths 100000 \
    --prometheus-buckets 0.000001:10:3 \
    "$T/many.json" >"$T/big.out" 2>"$T/big.err" &
nc=$!
PIDS+=("$nc")
if ! wait_for 10 served "$P"; then
    fail "nctop serves a large /metrics" "$(cat "$T/big.err")"
    exit 1
fi
# Settle: a few scrapes so the baseline holds a render and its transient buffers.
for _ in 1 2 3; do served "$P"; done
base=$(vm "$nc" VmHWM)
"$PY" - "$P" "$nc" "$base" >"$T/noread.out" 2>&1 <<'PYEOF'
import socket, sys, threading, time
port, pid, base_kb = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
def vm(key):
    for line in open("/proc/%s/status" % pid):
        if line.startswith(key + ":"):
            return int(line.split()[1])
req = b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"
def fetch():
    # The scraper comes from its own address (127.0.0.2), as Prometheus does from its host:
    # clients sharing an address share its connection limit, so an attacker on the scraper's
    # own address is beyond what per-address limits can tell apart.
    s = socket.create_connection(("127.0.0.1", port), timeout=20, source_address=("127.0.0.2", 0))
    s.sendall(req)
    parts = []  # joined once: += on bytes would copy the whole answer at every read
    while True:
        b = s.recv(1 << 20)
        if not b:
            break
        parts.append(b)
    s.close()
    return b"".join(parts)
size = len(fetch().partition(b"\r\n\r\n")[2])
stop = False
held = []
def never_read():
    # A client that asks again every half second, keeps every socket and never reads.
    while not stop:
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.sendall(req)
            held.append(s)
        except OSError:
            pass
        time.sleep(0.5)
# The kernel's side of nctop's sockets (/proc/net/tcp): what is queued to send, and the
# sockets nctop has closed while the kernel still holds an answer for them (orphans: no
# inode, not in TIME_WAIT, more queued than a FIN and a short error answer in flight). An
# orphan outlives nctop's limits: the kernel keeps sending it for minutes, and under the TCP
# memory pressure they make resets them, legitimate scrapes among them. Closing must leave
# nothing of an answer behind.
def kernel_side():
    queued, orphans, orphan_bytes = 0, 0, 0
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = open(name).read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            f = line.split()
            if int(f[1].rsplit(":", 1)[1], 16) != port:
                continue
            tx = int(f[4].split(":")[0], 16)
            queued += tx
            if f[9] == "0" and f[3] != "06" and tx > 1024:
                orphans += 1
                orphan_bytes += tx
    return queued, orphans, orphan_bytes
kpeak = [0, 0, 0]
def watch_kernel():
    while not stop:
        k = kernel_side()
        for i in range(3):
            kpeak[i] = max(kpeak[i], k[i])
        time.sleep(0.1)
clients = [threading.Thread(target=never_read, daemon=True) for _ in range(16)]
for t in clients:
    t.start()
threading.Thread(target=watch_kernel, daemon=True).start()
ok, bad, peak_rss = 0, [], 0
t_end = time.time() + 15
while time.time() < t_end:
    try:
        out = fetch()
        head, _, body = out.partition(b"\r\n\r\n")
        if head.startswith(b"HTTP/1.1 200") and len(body) > size // 2:
            ok += 1
        else:
            bad.append(head.split(b"\r\n")[0])
    except OSError as e:
        bad.append(repr(e))
    peak_rss = max(peak_rss, vm("VmRSS"))
    time.sleep(0.2)
stop = True
hwm = vm("VmHWM")
# The bound: the baseline, plus the cap on bytes held for writing (32 MiB), plus two renders
# (the current one and the one being made).
bound = base_kb + 32 * 1024 + 2 * size // 1024
print("response %.1f MiB; %d non-reading sockets; VmHWM %.1f MiB (baseline %.1f, bound %.1f); "
      "peak VmRSS %.1f MiB" % (size / 1048576, len(held), hwm / 1024, base_kb / 1024,
                               bound / 1024, peak_rss / 1024))
print("scrapes during the attack: %d answered 200, failures %r" % (ok, bad[:5]))
print("kernel: peak %.1f MiB queued on nctop's sockets; peak %d closed sockets still holding "
      "%.1f MiB of answers" % (kpeak[0] / 1048576, kpeak[1], kpeak[2] / 1048576))
print("ok-memory" if hwm <= bound else "not ok-memory")
print("ok-orphans" if kpeak[1] == 0 else "not ok-orphans")
# Live connections hold at most what the kernel lets one socket queue, each.
wmem_max = int(open("/proc/sys/net/ipv4/tcp_wmem").read().split()[2])
print("ok-kernel" if kpeak[0] <= 64 * wmem_max else "not ok-kernel")
print("ok-scrapes" if ok >= 10 and not bad else "not ok-scrapes")
for s in held:
    s.close()
PYEOF
check "never-reading clients: nctop's VmHWM stays under the bound" grep -qx ok-memory "$T/noread.out"
check "never-reading clients: legitimate scrapes all answered" grep -qx ok-scrapes "$T/noread.out"
check "never-reading clients: no answer left in the kernel after its connection is closed" \
    grep -qx ok-orphans "$T/noread.out"
check "never-reading clients: the kernel holds at most a send buffer per connection slot" \
    grep -qx ok-kernel "$T/noread.out"
grep -v '^ok-\|^not ok-' "$T/noread.out" | sed 's/^/    /'
check "never-reading clients: nctop still serves after them" served "$P"
kill "$nc" 2>/dev/null
wait "$nc"
rc=$?
check "nctop exits 0 on SIGTERM after the attacks" test "$rc" -eq 0
[ "$rc" -eq 0 ] || sed "s/^/    /" "$T/big.err" | tail -n 20
