#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Issue 10, as root and as nobody: a privileged nctop (file capabilities) loads no library the
# environment names and watches with eBPF only processes its user could trace; outputs are
# never written through links planted at their names; names reach the terminal escaped;
# uprobes that do not attach are reported.
# shellcheck disable=SC2086  # $LM is split into words on purpose
. "$(dirname "$0")/lib.sh"
need_build

need_nobody "the privilege tests act as nobody and set file capabilities"
NB=("${AS_NOBODY[@]}")
LM="--quiet --layers 1 --dim 64 --ffn 128 --vocab 256 --gen 8"
# nobody traverses $T and writes in $T/nb; $T/pub is a shared directory like /tmp.
chmod 755 "$T"
mkdir -p "$T/nb" "$T/pub" "$T/bin"
chown 65534:65534 "$T/nb"
chmod 1777 "$T/pub"
printf 'precious\n' >"$T/victim"
cp "$T/victim" "$T/victim.orig"
unchanged() { cmp -s "$T/victim" "$T/victim.orig"; }
one_line() { test "$(wc -l <"$1")" -eq 1; }

# --- 6. outputs never follow links ---------------------------------------------------------
# nobody plants links at the next latency log names (one per second the run may start in).
now=$(date -u +%s)
for i in 0 1 2 3 4 5; do
    "${NB[@]}" ln -s "$T/victim" "$T/pub/$(date -u -d "@$((now + i))" +%Y%m%d%H%M%S)-latency.jsonl"
done
METRICS_LOG_ENABLED=1 METRICS_LOG_INTERVAL_SECS=1 \
    "$NCTOP" --headless --duration 1.5 --log-dir "$T/pub" -- "$TINYLM" $LM 2>"$T/log.err"
rc=$?
check "log_link_target_unchanged" unchanged
check "log_link_refused_says_why" grep -q "latency log .*symbolic link (not followed)" "$T/log.err"
check "log_link_nctop_runs_on" test "$rc" -eq 0
check "log_link_memory_log_goes_on" test "$(cat "$T"/pub/*-memory.jsonl | wc -l)" -ge 2

"${NB[@]}" ln -s "$T/victim" "$T/pub/debug.log"
"$NCTOP" --once --duration 0.2 --debug-log "$T/pub/debug.log" >/dev/null 2>"$T/dbg.err"
rc=$?
check "debug_log_link_refused" test "$rc" -eq 1
check "debug_log_link_one_line" one_line "$T/dbg.err"
check "debug_log_link_says_why" grep -q "^nctop: --debug-log .*debug.log: a symbolic link" "$T/dbg.err"

"${NB[@]}" ln -s "$T/victim" "$T/pub/out.txt"
"$NCTOP" --once --duration 0.2 -o "$T/pub/out.txt" 2>"$T/o.err"
rc=$?
check "output_link_refused" test "$rc" -eq 1
check "output_link_one_line" one_line "$T/o.err"
check "output_link_says_why" grep -q "^nctop: -o .*out.txt: a symbolic link" "$T/o.err"

"$NCTOP" record --duration 1 -o "$T/pub/out.txt" -- "$TINYLM" $LM 2>"$T/rec.err"
check "record_link_refused" test "$?" -eq 1
check "record_link_says_why" grep -q "a symbolic link" "$T/rec.err"

"${NB[@]}" ln -s "$T/victim" "$T/pub/prof.jsonl"
NC_PROFILE_JSONL="$T/pub/prof.jsonl" "$NCTOP" --headless --duration 1 -- "$TINYLM" $LM \
    2>"$T/prof.err"
rc=$?
check "profile_link_nctop_runs_on" test "$rc" -eq 0
check "profile_link_says_why" grep -q "NC_PROFILE_JSONL=.*prof.jsonl: a symbolic link" "$T/prof.err"

# A file of another user, and a second name (hard link) of root's file.
"${NB[@]}" sh -c "echo nobody > '$T/nb/mine.txt'"
"$NCTOP" --once --duration 0.2 -o "$T/nb/mine.txt" 2>"$T/own.err"
check "other_users_file_refused" grep -q "owned by another user" "$T/own.err"
check "other_users_file_unchanged" grep -qx nobody "$T/nb/mine.txt"
ln "$T/victim" "$T/pub/hard.txt"
"$NCTOP" --once --duration 0.2 -o "$T/pub/hard.txt" 2>"$T/hard.err"
check "hard_link_refused" grep -q "links" "$T/hard.err"
check "all_link_targets_unchanged" unchanged
rm -f "$T/pub/hard.txt"

# --- 7. names reach the terminal escaped -----------------------------------------------------
# A hostile workload: it registers a name, then rewrites it in its own segment to hold
# terminal escapes (the SDK refuses them, so only a segment written by hand has them).
cat >"$T/evil.c" <<'EOF'
#define _GNU_SOURCE
#include <nctop.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
int main(void)
{
    char line[512], want[64];
    unsigned long lo, hi;
    uint32_t s;
    uint64_t end;
    FILE *m;

    nctop_set_label("hostile");
    s = nctop_name("Z[2JZ[31mevil");
    snprintf(want, sizeof(want), "/dev/shm/nctop-%d", (int)getpid());
    m = fopen("/proc/self/maps", "r");
    while (m != NULL && fgets(line, sizeof(line), m) != NULL) {
        char *p;

        if (strstr(line, want) == NULL || sscanf(line, "%lx-%lx", &lo, &hi) != 2) {
            continue;
        }
        while ((p = memmem((void *)lo, hi - lo, "Z[2JZ[31mevil", 13)) != NULL) {
            p[0] = 0x1b;
            p[4] = 0x1b;
        }
    }
    if (m != NULL) {
        fclose(m);
    }
    puts("ready");
    fflush(stdout);
    end = nctop_now_ns() + 20000000000ULL;
    while (!nctop_attached() && nctop_now_ns() < end) {
        usleep(1000);
    }
    for (int i = 0; i < 200; i++) {
        nctop_span_begin(s);
        nctop_span_end(s);
    }
    sleep(20);
    return 0;
}
EOF
cc -I"$ROOT/include" -o "$T/evil" "$T/evil.c" "$BUILD/lib/libnctop.a" -lpthread -lm ${NCTOP_SAN_FLAGS:-}
"$T/evil" >"$T/evil.ready" &
evil=$!
PIDS+=("$evil")
wait_for 10 grep -q ready "$T/evil.ready"
# Long enough for the spans to come in on a loaded machine (the workload waits to be attached).
"$NCTOP" --once --duration 3 -p "$evil" >"$T/evil.txt" 2>&1
kill "$evil"
check "once_text_shows_span" grep -qF '\x1b[2J\x1b[31mevil' "$T/evil.txt"
check "once_text_no_raw_escape" bash -c "! grep -q \$'\\x1b' '$T/evil.txt'"
printf '%s\n' '{"timestamp":"2026-11-22T10:15:30.123Z","rows":[]}' \
    '{"timestamp":"2026-11-22T10:15:31.123Z","rows":[{"label":"\u001b[2Jx","level":0,"last_ms":1,"average_ms":1,"path":"\u001b[2Jx","count":3,"pid":7,"process":"p\u001b[1m"}]}' \
    >"$T/20261122101530-latency.jsonl"
"$NCTOP" replay --once "$T/20261122101530-latency.jsonl" >"$T/replay.txt" 2>&1
check "replay_text_shows_span" grep -qF '\x1b[2Jx' "$T/replay.txt"
check "replay_text_no_raw_escape" bash -c "! grep -q \$'\\x1b' '$T/replay.txt'"
"$NCTOP" replay --once "$T/no"$'\x1b[2J'"such" >/dev/null 2>"$T/name.err"
check "error_line_escapes_path" bash -c "grep -qF 'no\\x1b[2Jsuch' '$T/name.err' && ! grep -q \$'\\x1b' '$T/name.err'"

# --- 12. uprobes that do not attach ----------------------------------------------------------
if [ -r /sys/kernel/btf/vmlinux ] && "$NCTOP" --once --duration 0.1 --bpf 2>&1 |
    grep -q "built without BPF"; then
    skip "uprobe reports: this nctop was built without BPF support"
elif [ ! -r /sys/kernel/btf/vmlinux ]; then
    skip "uprobe reports: the kernel has no BTF"
else
    "$NCTOP" --once --json --duration 1 --uprobe "$TINYLM:no_such_function" -- "$TINYLM" $LM \
        >/dev/null 2>"$T/up.err"
    rc=$?
    check "uprobe_missing_symbol_fails_once" test "$rc" -ne 0
    check "uprobe_missing_symbol_one_line" one_line "$T/up.err"
    check "uprobe_missing_symbol_says_why" \
        grep -q "^nctop: --uprobe .*tinylm:no_such_function: .*has no symbol no_such_function" "$T/up.err"
    "$NCTOP" --headless --duration 1 --uprobe "/nonexistent/bin:f" -- "$TINYLM" $LM 2>"$T/up2.err"
    rc=$?
    check "uprobe_missing_binary_fails_headless" test "$rc" -ne 0
    check "uprobe_missing_binary_says_why" grep -q "cannot read /nonexistent/bin" "$T/up2.err"
    "$NCTOP" --once --json --duration 1 --uprobe "$TINYLM:model_step" \
        --uprobe "$TINYLM:no_such_function" -- "$TINYLM" $LM >"$T/up3.json" 2>"$T/up3.err"
    rc=$?
    check "uprobe_partly_attached_exits_0" test "$rc" -eq 0
    check "uprobe_partly_attached_reports_the_other" grep -q "no_such_function" "$T/up3.err"
    jcheck "uprobe_partly_attached_counts" "$T/up3.json" \
        'row(proc("tinylm"), "latency", "model_step")["count"] > 0' \
        'len([p for p in d["processes"] if p["label"] == "tinylm"]) == 1'
    # Under the display: the status line says it.
    if command -v tmux >/dev/null; then
        SOCK=nctop-priv$$
        tmux -L "$SOCK" -f /dev/null new -d -s t -x 200 -y 40 \
            "$NCTOP" --uprobe "$TINYLM:no_such_function" -- "$TINYLM" $LM
        check "uprobe_failure_on_status_line" wait_for 15 sh -c \
            "tmux -L '$SOCK' capture-pane -p -t t | grep -q 'has no symbol no_such_function'"
        tmux -L "$SOCK" kill-server 2>/dev/null
    else
        skip "uprobe status line: tmux is not installed"
    fi
fi

# --- 5. a privileged nctop (file capabilities) run by nobody ---------------------------------
cat >"$T/marker.c" <<'EOF'
#include <stdio.h>
#include <stdlib.h>
/* Stands for hostile code: loaded at all, it leaves a marker. */
__attribute__((constructor)) static void marker(void)
{
    FILE *f = fopen(getenv("MARKER"), "w");

    if (f != NULL) {
        fputs("loaded\n", f);
        fclose(f);
    }
}
EOF
cc -shared -fPIC -o "$T/bin/libmarker.so" "$T/marker.c"
cp "$NCTOP" "$T/bin/nctop-plain"
cp "$NCTOP" "$T/bin/nctop"
chmod 755 "$T/bin" "$T/bin/nctop" "$T/bin/nctop-plain" "$T/bin/libmarker.so"
if ! command -v setcap >/dev/null; then
    skip "privileged nctop: setcap is not installed (libcap2-bin)"
    exit 0
fi
if ! setcap cap_bpf,cap_perfmon+ep "$T/bin/nctop" 2>"$T/setcap.err"; then
    skip "privileged nctop: setcap failed: $(head -n 1 "$T/setcap.err")"
    exit 0
fi
if ! "${NB[@]}" "$T/bin/nctop" --version >/dev/null 2>&1; then
    skip "privileged nctop: a file-capability binary does not run as nobody here"
    exit 0
fi
CAP=$T/bin/nctop
# As nobody, in its own directory.
nobody() { (cd "$T/nb" && exec env HOME="$T/nb" XDG_CONFIG_HOME="$T/nb" "${NB[@]}" "$@"); }

# The library loads in an unprivileged nctop (the test's own control) ...
nobody env MARKER="$T/nb/plain" NCTOP_NVML_LIB="$T/bin/libmarker.so" \
    "$T/bin/nctop-plain" --once --duration 0.5 >/dev/null 2>&1
check "nvml_lib_loads_unprivileged" test -s "$T/nb/plain"
# ... and not in a privileged one, which says the variable is ignored.
nobody env MARKER="$T/nb/priv" NCTOP_NVML_LIB="$T/bin/libmarker.so" \
    "$CAP" --once --duration 0.5 >/dev/null 2>"$T/priv.err"
check "nvml_lib_not_loaded_privileged" test ! -e "$T/nb/priv"
check "nvml_lib_ignored_warns" grep -q "NCTOP_NVML_LIB is ignored" "$T/priv.err"
nobody env NC_PROFILE_JSONL="$T/nb/prof.jsonl" "$CAP" --headless --duration 1 -- "$TINYLM" $LM \
    2>"$T/penv.err"
check "profile_env_ignored_privileged" test ! -e "$T/nb/prof.jsonl"
check "profile_env_ignored_warns" grep -q "NC_PROFILE_JSONL is ignored" "$T/penv.err"

# root's workload, watched with eBPF by nobody: refused in one line.
"$TINYLM" $LM --requests 0 >/dev/null 2>&1 &
rootlm=$!
PIDS+=("$rootlm")
disown "$rootlm"
wait_for 10 test -e "/dev/shm/nctop-$rootlm"
nobody "$CAP" --bpf -p "$rootlm" --once --duration 1 >"$T/bpf.out" 2>"$T/bpf.err"
rc=$?
check "bpf_other_users_pid_refused" test "$rc" -eq 1
check "bpf_other_users_pid_one_line" one_line "$T/bpf.err"
check "bpf_other_users_pid_says_why" grep -q "^nctop: --bpf -p $rootlm: not permitted" "$T/bpf.err"
nobody "$CAP" --uprobe "$TINYLM:model_step" -p "$rootlm" --headless --duration 1 2>"$T/bpf2.err"
check "uprobe_other_users_pid_refused" grep -q "not permitted" "$T/bpf2.err"
# nobody's own process is watched; root may watch nobody's.
(cd "$T/nb" && exec "${NB[@]}" "$TINYLM" $LM --requests 0) >/dev/null 2>&1 &
nblm=$!
PIDS+=("$nblm")
disown "$nblm" # killed at exit, without a job notice
wait_for 10 test -e "/dev/shm/nctop-$nblm"
nobody "$CAP" --bpf -p "$nblm" --once --json --duration 1 >"$T/own.json" 2>"$T/own.err"
rc=$?
if grep -q "kernel refused\|not permitted: run nctop" "$T/own.err"; then
    skip "bpf as nobody with CAP_BPF: $(head -n 1 "$T/own.err")"
else
    check "bpf_own_pid_watched" test "$rc" -eq 0 -a ! -s "$T/own.err"
fi
"$NCTOP" --bpf -p "$nblm" --once --duration 1 >/dev/null 2>"$T/rootw.err"
check "bpf_root_watches_nobody" bash -c "! grep -q 'not permitted' '$T/rootw.err'"
