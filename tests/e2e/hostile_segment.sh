# SPDX-License-Identifier: MIT
# A segment planted by another user cannot crash root's nctop: a workload running as nobody
# has its segment rewritten (header fields, string offsets, thread names) and truncated, by
# a writer also running as nobody, while root's `nctop --once -p PID` reads it. nctop must
# end by itself with status 0 or 1 (never a signal) and show the damage as an error row.
. "$(dirname "$0")/lib.sh"
need_build

need_nobody "root's nctop reading a segment planted by nobody"

# The hostile writer: argv = pid, mode. Offsets are those of struct nctop_seg_header and
# struct nctop_seg_ring in segment.h (checked by its static asserts).
HOSTILE='
import mmap, os, struct, sys, time
pid, mode = int(sys.argv[1]), sys.argv[2]
path = "/dev/shm/nctop-%d" % pid
fd = os.open(path, os.O_RDWR)
size = os.fstat(fd).st_size
if mode == "clock":
    # The clock block of ABI 5: clock 448, calib_seq 452, calib_base 456, calib_last 472 (the
    # static asserts of segment.h hold these offsets).
    m = mmap.mmap(fd, size)
    end = time.monotonic() + 3
    i = 0
    while time.monotonic() < end:
        k = i % 4
        if k == 0:
            m[472:488] = struct.pack("<QQ", 1 << 62, 5)        # a pair going backwards in time
        elif k == 1:
            m[472:488] = struct.pack("<QQ", 12345, 1 << 62)    # an absurd rate
        elif k == 2:
            m[452:456] = struct.pack("<I", (i * 2 + 1) & 0xffffffff)  # odd: being rewritten
        else:
            m[448:452] = struct.pack("<I", 7 + i)              # an unknown clock
        m[452:456] = struct.pack("<I", (i * 2) & 0xffffffff)
        i += 1
        time.sleep(0.001)
    sys.exit(0)
if mode.startswith("truncate"):
    time.sleep(0.7)
    os.ftruncate(fd, int(mode[len("truncate"):]))
    sys.exit(0)
m = mmap.mmap(fd, size)
u32 = lambda off, v: m.__setitem__(slice(off, off + 4), struct.pack("<I", v & 0xffffffff))
u64 = lambda off, v: m.__setitem__(slice(off, off + 8), struct.pack("<Q", v))
stroff, = struct.unpack_from("<Q", m, 56)
rings, = struct.unpack_from("<Q", m, 96)
end = time.monotonic() + 3
i = 0
while time.monotonic() < end:
    k = i % 6
    if k == 0:
        u32(132, 1 << 30); u32(280, 1 << 30)          # rings_max, rings_count
    elif k == 1:
        u64(96, size - 64); u64(104, 1 << 40)          # rings_off, ring_stride
    elif k == 2:
        u32(112, 0xffffffff); u32(260, 0xffffffff)    # strings_max, strings_count
    elif k == 3:
        for j in range(1, 4096):
            u32(stroff + 4 * j, 0xfffffff0 - 4 * j)    # string offsets
        u32(260, 4096)
    elif k == 4:
        m[rings + 16:rings + 40] = b"A" * 24           # thread name, no NUL
    else:
        u32(116, 3); u64(64, size - 8)                 # a 3-byte arena at the end
    i += 1
'

# run_round NAME MODE: a fresh workload as nobody, root's nctop attached, the writer at work.
run_round() {
    local name=$1 mode=$2 lm hw rc
    # The victim dies of SIGBUS when its file is cut: a subshell reaps it, quietly.
    rm -f "$T/pid"
    (
        "${AS_NOBODY[@]}" env NCTOP_LABEL=victim "$TINYLM" --layers 1 --dim 64 --heads 2 \
            --kv-heads 1 --ffn 128 --vocab 256 --ctx 64 --prompt 2 --gen 32 --quiet &
        echo $! >"$T/pid"
        wait
    ) 2>/dev/null &
    PIDS+=("$!")
    wait_for 10 test -s "$T/pid"
    lm=$(cat "$T/pid")
    PIDS+=("$lm")
    if ! wait_for 10 test -e "/dev/shm/nctop-$lm"; then
        fail "$name: workload publishes a segment" "no /dev/shm/nctop-$lm"
        return
    fi
    check "$name: the segment belongs to nobody" test "$(stat -c %u "/dev/shm/nctop-$lm")" = 65534
    "${AS_NOBODY[@]}" "$PY" -c "$HOSTILE" "$lm" "$mode" &
    hw=$!
    PIDS+=("$hw")
    timeout -s KILL 30 "$NCTOP" -p "$lm" --once --json --duration 2 >"$T/$name.json" 2>"$T/$name.err"
    rc=$?
    if [ "$rc" -le 1 ]; then
        pass "$name: nctop ends by itself (status $rc)"
    else
        fail "$name: nctop ends by itself" "status $rc$([ "$rc" -gt 128 ] && echo " (signal $((rc - 128)))"): $(head -c 300 "$T/$name.err")"
    fi
    if [ "$rc" -eq 0 ]; then
        jcheck "$name: the workload is in the snapshot" "$T/$name.json" \
            'proc()["pid"] == '"$lm"
    fi
    case $mode in
    truncate*)
        if [ "$rc" -eq 0 ]; then
            jcheck "$name: shown as an error row" "$T/$name.json" \
                'proc()["state"] == "error"' '"truncated" in proc()["reason"]'
        fi
        ;;
    clock)
        if [ "$rc" -eq 0 ]; then
            jcheck "$name: a rewritten clock calibration is an error row, no wrong times" \
                "$T/$name.json" 'proc()["state"] == "error"' \
                '"clock" in proc()["reason"] or "calibration" in proc()["reason"]' \
                'all(r["total"]["max_ms"] < 60000 for r in proc()["latency"])'
        fi
        ;;
    *)
        if [ "$rc" -eq 0 ]; then
            jcheck "$name: the damage is counted" "$T/$name.json" \
                'proc()["invalid"] > 0 or proc()["state"] == "error"'
        fi
        ;;
    esac
    kill -9 "$lm" "$hw" 2>/dev/null
    wait "$lm" "$hw" 2>/dev/null
    rm -f "/dev/shm/nctop-$lm"
}

run_round rewrite rewrite
if [ "$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)" = tsc ]; then
    run_round clock clock
else
    skip "clock: a rewritten TSC calibration (the clocksource is not tsc: no TSC segments)"
fi
run_round truncate-below-page truncate100
run_round truncate-to-zero truncate0
