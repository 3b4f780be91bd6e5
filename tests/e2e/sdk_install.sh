# SPDX-License-Identifier: MIT
# A user's program: make install, pkg-config, #include <nctop.h>, -lnctop, run it under
# nctop -- and check exactly what it published (C, and C++ with RAII scopes).
. "$(dirname "$0")/lib.sh"
need_build

prefix=$T/prefix
if ! make -C "$ROOT" --no-print-directory -s install BUILD="$BUILD" PREFIX="$prefix" \
    >"$T/install.log" 2>&1; then
    fail "make install" "$(tail -n 3 "$T/install.log" | tr '\n' ' ')"
    exit 1
fi
pass "make install"
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
check "pkg-config finds nctop" pkg-config --exists nctop
check "installed man pages" test -f "$prefix/share/man/man3/libnctop.3"
"$prefix/bin/nctop" --demo --once --json --duration 1 -o "$T/demo.json" >/dev/null 2>&1
jcheck "the installed nctop finds its installed tinylm (--demo)" "$T/demo.json" \
    'proc("tinylm")["events"] > 0' 
# Under make test-asan the library is instrumented: so must its users be.
flags="$(pkg-config --cflags --libs nctop) ${NCTOP_SAN_FLAGS:-}"
# shellcheck disable=SC2086
check "a C program builds with pkg-config" \
    cc -Wall -Werror -o "$T/hello" "$ROOT/models/examples/hello_nctop.c" $flags
# shellcheck disable=SC2086
check "a C++ program builds with pkg-config" \
    c++ -Wall -Werror -o "$T/hello_cpp" "$ROOT/models/examples/hello_nctop.cpp" $flags
# Linked against the build tree: the loader finds the soname (libnctop.so.0) in build/lib.
# shellcheck disable=SC2086
if cc -Wall -Werror -I"$ROOT/include" -o "$T/hello_bt" "$ROOT/models/examples/hello_nctop.c" \
    -L"$BUILD/lib" -lnctop ${NCTOP_SAN_FLAGS:-} >"$T/bt.log" 2>&1; then
    check "a program linked against the build tree starts" \
        env LD_LIBRARY_PATH="$BUILD/lib" "$T/hello_bt" 3
    check "it loads the build tree's library" \
        bash -c "LD_LIBRARY_PATH='$BUILD/lib' ldd '$T/hello_bt' | grep -q '$BUILD/lib/libnctop.so.0'"
else
    fail "a program links against the build tree" "$(tail -n 3 "$T/bt.log" | tr '\n' ' ')"
fi
export LD_LIBRARY_PATH=$prefix/lib

"$NCTOP" --once --json -o "$T/c.json" -- "$T/hello" 50 >"$T/c.out" 2>"$T/c.err"
check "nctop -- hello exits 0" test $? -eq 0
check "the command keeps its standard output" grep -q '^hello_nctop: 50 steps' "$T/c.out"
jcheck "C program: spans, counts, weights, gauge, kernel, tokens" "$T/c.json" \
    'row(proc("hello"), "latency", "step")["total"]["count"] == 50' \
    'row(proc(), "latency", "step/prepare")["total"]["count"] == 50' \
    'row(proc(), "latency", "step/compute")["total"]["min_ms"] >= 0.2' \
    'row(proc(), "memory", "Model Weights")["bytes"] == 2 * 4096 * 4' \
    'row(proc(), "memory", "Model Weights/layers/1/proj")["bytes"] == 4096 * 4' \
    'row(proc(), "memory", "Memory Pools/scratch")["capacity_bytes"] == 4 << 20' \
    'proc()["kernels"][0]["name"] == "matmul" and proc()["kernels"][0]["total"]["count"] == 50' \
    'proc()["counters"]["tokens"] == 50' 'proc()["ttft_ms"]["total"]["count"] == 1' \
    'proc()["itl_ms"]["total"]["count"] == 49' 'proc()["invalid"] == 0'

# Like perf stat: without --duration, --once waits for the command however long it runs.
"$NCTOP" --once --json -o "$T/long.json" -- "$T/hello" 5000 >/dev/null 2>&1
jcheck "--once -- CMD waits for CMD (1.5 s here)" "$T/long.json" \
    'row(proc("hello"), "latency", "step")["total"]["count"] == 5000' \
    'proc()["state"] == "exited"' 'proc()["reason"] == "exit status 0"'

"$NCTOP" --once --json -o "$T/cpp.json" -- "$T/hello_cpp" 20 >/dev/null 2>"$T/cpp.err"
jcheck "C++ program: RAII scopes nest" "$T/cpp.json" \
    'row(proc("hello_cpp"), "latency", "step")["total"]["count"] == 20' \
    'row(proc(), "latency", "step/work/work/work")["total"]["count"] == 20' \
    'row(proc(), "latency", "step/work")["level"] == 1' 'proc()["invalid"] == 0'

# nctop -p PID on a program that is already running.
"$T/hello" 1000000 >/dev/null &
h=$!
PIDS+=("$h")
wait_for 10 test -e "/dev/shm/nctop-$h"
# Half a second, longer (a new attach) while a loaded machine lets it see too few steps.
COMPUTED='row(proc("hello"), "latency", "step/compute")["total"]["count"] > 100'
once_until 30 "$T/p.json" "$COMPUTED" 0.5 "$NCTOP" -p "$h" --once --json 2>/dev/null
jcheck "nctop -p PID shows a running program" "$T/p.json" "$COMPUTED"
"$NCTOP" --once --json --duration 0.5 >"$T/all.json" 2>/dev/null
jcheck "nctop alone finds it" "$T/all.json" "any(p['pid'] == $h for p in d['processes'])"
kill "$h"
