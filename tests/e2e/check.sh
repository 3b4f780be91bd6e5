#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# nctop --check: one line per dependency with its status, and an exit status that fails only
# when something the options given need is unavailable. On this machine (root, eBPF works),
# with NVML missing and with the fake NVML, with a config file nctop refuses or warns about,
# with TERM unset, and as nobody (no eBPF privilege).
. "$(dirname "$0")/lib.sh"
need_build
FAKE=$BUILD/tests/libfake_nvml.so

# run NAME ENV ARGS...: nctop --check ARGS in the environment changed by ENV (env's own
# arguments, one word-split string) into $T/NAME.out, its status in $T/NAME.rc
run() {
    local name=$1 e=$2
    shift 2
    # shellcheck disable=SC2086
    env $e timeout 30 "$NCTOP" --check "$@" >"$T/$name.out" 2>"$T/$name.err"
    echo $? >"$T/$name.rc"
}
# status NAME THING: the status word of THING's line
status() {
    awk -v t="$2" 'index($0, t) == 1 { s = substr($0, 17); split(s, w, " "); print w[1]; exit }' \
        "$T/$1.out"
}
rc() { cat "$T/$1.rc"; }
has() { grep -q -- "$2" "$T/$1.out"; }

# Every line has a thing, a status word and what to do; one verdict line at the end.
run plain NCTOP_NVML_LIB=/nonexistent/libnvidia-ml.so.1
check "plain: one line per thing, each ok, degraded or unavailable" awk '
    /^(ready|not ready):/ { verdict++; next }
    { s = substr($0, 17); split(s, w, " ")
      if (w[1] != "ok" && w[1] != "degraded" && w[1] != "unavailable") bad = 1; lines++ }
    END { exit !(verdict == 1 && lines >= 6 && !bad) }' "$T/plain.out"
for thing in "shared memory" NVML terminal permissions config; do
    check "plain: a line for $thing" test -n "$(status plain "$thing")"
done
check "plain: shared memory ok (/dev/shm writable, its mode and free space)" \
    sh -c "[ '$(status plain "shared memory")' = ok ] && grep -q 'mode 1777, .* free' '$T/plain.out'"
check "plain: NVML missing is unavailable, with what to do, and does not fail the check" \
    sh -c "[ '$(status plain NVML)' = unavailable ] && grep -q 'NCTOP_NVML_LIB' '$T/plain.out' &&
        [ $(rc plain) -eq 0 ]"
check "plain: no config file is ok (the defaults)" \
    sh -c "[ '$(status plain config)' = ok ] && grep -q 'no file: the defaults' '$T/plain.out'"
check "plain: nothing on stderr" test ! -s "$T/plain.err"

# eBPF on this machine: as root with BTF the collector's programs load and attach for real.
if [ "$(id -u)" -eq 0 ] && [ -r /sys/kernel/btf/vmlinux ] && ! has plain 'built without BPF'; then
    run bpf NCTOP_NVML_LIB=/nonexistent/x.so --bpf
    check "--bpf as root: BTF, capabilities and the programs ok, exit 0" \
        sh -c "[ '$(status bpf BTF)' = ok ] && [ '$(status bpf capabilities)' = ok ] &&
            [ '$(status bpf 'eBPF programs')' = ok ] && grep -q 'loaded and attached' '$T/bpf.out' &&
            [ $(rc bpf) -eq 0 ] && grep -q '^ready' '$T/bpf.out'"
elif has plain 'built without BPF'; then
    run bpf "" --bpf
    check "--bpf without BPF support: unavailable and exit 1" \
        sh -c "[ '$(status bpf eBPF)' = unavailable ] && [ $(rc bpf) -eq 1 ]"
else
    skip "eBPF as root: not root or no BTF here"
fi

# The fake NVML: two GPUs named.
run fake NCTOP_NVML_LIB="$FAKE"
check "fake NVML: ok with both GPUs named" \
    sh -c "[ '$(status fake NVML)' = ok ] && grep -q '2 GPUs (0 Fake A100-SXM4-80GB, 1 Fake T4)' '$T/fake.out' &&
        [ $(rc fake) -eq 0 ]"
run fakefail "NCTOP_NVML_LIB=$FAKE NCTOP_FAKE_NVML_FAIL=init"
check "failing NVML: unavailable with the driver's reason, exit 0" \
    sh -c "[ '$(status fakefail NVML)' = unavailable ] && grep -q 'cannot start' '$T/fakefail.out' &&
        [ $(rc fakefail) -eq 0 ]"

# TERM unset: the display cannot start (exit 1); --once and --headless do not need it.
run noterm "-u TERM"
check "TERM unset: terminal unavailable and the display's check fails (exit 1)" \
    sh -c "[ '$(status noterm terminal)' = unavailable ] && [ $(rc noterm) -eq 1 ] &&
        grep -q '^not ready: .*terminal' '$T/noterm.out'"
run notermonce "-u TERM" --once
check "TERM unset with --once: terminal unavailable but not needed (exit 0)" \
    sh -c "[ '$(status notermonce terminal)' = unavailable ] && [ $(rc notermonce) -eq 0 ]"
run badterm TERM=no-such-terminal-xyz --headless
check "an unknown TERM: unavailable, named" \
    sh -c "[ '$(status badterm terminal)' = unavailable ] && grep -q 'TERM=no-such-terminal-xyz has no terminfo' '$T/badterm.out'"

# The config file: a warning is degraded; a bad value is what a real start refuses (exit 1).
mkdir -p "$XDG_CONFIG_HOME/nctop"
printf 'view = memory\nno-such-key = 1\n' >"$XDG_CONFIG_HOME/nctop/nctoprc"
run rcwarn "" --once
check "config with an unknown key: degraded with file and line, exit 0" \
    sh -c "[ '$(status rcwarn config)' = degraded ] && grep -q 'nctoprc:2: unknown setting' '$T/rcwarn.out' &&
        [ $(rc rcwarn) -eq 0 ]"
printf 'delay = soon\n' >"$XDG_CONFIG_HOME/nctop/nctoprc"
run rcbad "" --once
check "config with a bad value: unavailable, the start's own message, exit 1" \
    sh -c "[ '$(status rcbad config)' = unavailable ] && grep -q \"nctoprc:1: --delay: 'soon'\" '$T/rcbad.out' &&
        [ $(rc rcbad) -eq 1 ]"
printf 'view latency\n' >"$XDG_CONFIG_HOME/nctop/nctoprc"
run rcsyntax "" --once
check "config with a syntax error: unavailable, exit 1" \
    sh -c "[ '$(status rcsyntax config)' = unavailable ] && grep -q 'line 1' '$T/rcsyntax.out' &&
        [ $(rc rcsyntax) -eq 1 ]"
check "a refused config does not stop the other lines" test "$(status rcsyntax 'shared memory')" = ok
rm -f "$XDG_CONFIG_HOME/nctop/nctoprc"

# -p: a process that does not exist is needed and unavailable.
run nopid "" --once -p 999999999
check "-p of no process: unavailable, exit 1" \
    sh -c "[ '$(status nopid '-p 999999999')' = unavailable ] && [ $(rc nopid) -eq 1 ]"

# --prometheus: a port in use cannot be listened on.
"$PY" -c 'import socket,time,sys
s=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(); print(s.getsockname()[1], flush=True)
time.sleep(60)' >"$T/port" &
PIDS+=($!)
wait_for 10 test -s "$T/port"
run port "" --headless --prometheus "127.0.0.1:$(cat "$T/port")"
check "--prometheus on a port in use: unavailable, exit 1" \
    sh -c "[ '$(status port prometheus)' = unavailable ] && [ $(rc port) -eq 1 ]"

# As nobody: no eBPF privilege, so --bpf fails the check; plain --check does not.
if [ "$(id -u)" -eq 0 ] && "${AS_NOBODY[@]}" "$NCTOP" --version >/dev/null 2>&1; then
    chmod 755 "$T" "$HOME"
    "${AS_NOBODY[@]}" env TERM=xterm "$NCTOP" --check --once >"$T/nb.out" 2>&1
    echo $? >"$T/nb.rc"
    "${AS_NOBODY[@]}" env TERM=xterm "$NCTOP" --check --once --bpf >"$T/nbbpf.out" 2>&1
    echo $? >"$T/nbbpf.rc"
    check "nobody: plain --check exits 0" test "$(rc nb)" -eq 0
    if has plain 'built without BPF'; then
        skip "nobody --bpf: built without BPF"
    else
        check "nobody --bpf: capabilities unavailable with the setcap hint, exit 1" \
            sh -c "[ '$(status nbbpf capabilities)' = unavailable ] && grep -q 'setcap cap_bpf,cap_perfmon+ep' '$T/nbbpf.out' &&
                [ $(rc nbbpf) -eq 1 ]"
    fi
    check "nobody: permissions say this user's workloads only" grep -q "uid 65534: this user's workloads" "$T/nb.out"
    if ! has plain 'built without BPF'; then
        mkdir -p "$XDG_CONFIG_HOME/nctop"
        chmod 755 "$XDG_CONFIG_HOME" "$XDG_CONFIG_HOME/nctop"
        printf 'bpf = yes\n' >"$XDG_CONFIG_HOME/nctop/nctoprc"
        chmod 644 "$XDG_CONFIG_HOME/nctop/nctoprc"
        "${AS_NOBODY[@]}" env TERM=xterm "$NCTOP" --check --once >"$T/nbrc.out" 2>&1
        echo $? >"$T/nbrc.rc"
        check "nobody with bpf = yes in nctoprc: eBPF is needed, exit 1" \
            sh -c "[ $(rc nbrc) -eq 1 ] && grep -q '^not ready: .*capabilities' '$T/nbrc.out'"
        rm -f "$XDG_CONFIG_HOME/nctop/nctoprc"
    fi
else
    skip "as nobody: needs root and setpriv"
fi

# --check belongs to watching.
timeout 10 "$NCTOP" replay --check x >/dev/null 2>&1
check "replay --check is a usage error (exit 2)" test $? -eq 2
