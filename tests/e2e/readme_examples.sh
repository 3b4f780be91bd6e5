#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The README's examples work as written (test_issue_11_readme). Every C, shell and Python block
# of README.md carries a marker on the line before it: "<!-- example: FILE -->" (written to
# FILE), "<!-- example: run -->" (each line run in order) or "<!-- not run: REASON -->". The
# lines run in a sandbox that stands in for the user's machine: "sudo make install" installs
# into a private PREFIX, pkg-config, the loader and python3 look there, and a line that starts
# the display runs in tmux until it draws, then gets "q".
. "$(dirname "$0")/lib.sh"
need_build
if [ -n "${NCTOP_SAN_FLAGS:-}" ]; then
    # The README's own commands (cc without sanitizer flags, /usr/bin/python3) cannot use a
    # sanitizer-built libnctop: make test runs them as written.
    skip "README examples: run by make test; a sanitizer-built libnctop cannot be linked by the README's cc line nor loaded by python3"
    exit 77
fi
command -v tmux >/dev/null || { skip "tmux is not installed"; exit 77; }
command -v pkg-config >/dev/null || { skip "pkg-config is not installed"; exit 77; }

W=$T/work PREFIX=$T/prefix SHIM=$T/shim
mkdir -p "$W" "$SHIM" "$T/blocks"
SOCK=nctop-t$$
tm() { tmux -L "$SOCK" "$@"; }
cleanup_tmux() { tm kill-server 2>/dev/null; cleanup; }
trap cleanup_tmux EXIT

# Extract the blocks; a block without a marker is a failure (an example nobody runs).
if ! out=$("$PY" - "$ROOT/README.md" "$T/blocks" <<'PYEOF' 2>&1
import os, re, sys
lines = open(sys.argv[1]).read().split("\n")
out, n, bad = sys.argv[2], 0, []
i = 0
while i < len(lines):
    m = re.match(r"^```(\w+)\s*$", lines[i])
    if not m:
        i += 1
        continue
    lang, start = m.group(1), i + 1
    j = start
    while j < len(lines) and lines[j] != "```":
        j += 1
    body = "\n".join(lines[start:j]) + "\n"
    prev = next((l for l in reversed(lines[:i]) if l.strip()), "")
    if lang in ("c", "sh", "python"):
        mk = re.match(r"^<!-- (example: (\S+)|not run: .+) -->$", prev)
        if not mk:
            bad.append("line %d (%s)" % (start, lang))
        elif mk.group(2) == "run":
            n += 1
            open(os.path.join(out, "run-%03d-L%d.sh" % (n, start)), "w").write(body)
        elif mk.group(2):
            open(os.path.join(out, "file-" + mk.group(2)), "w").write(body)
    i = j + 1
if bad:
    print("README blocks without an example/not-run marker: " + ", ".join(bad))
    sys.exit(1)
PYEOF
); then
    fail "every C, shell and Python block is marked" "$out"
else
    pass "every C, shell and Python block is marked"
fi
for f in "$T"/blocks/file-*; do
    [ -e "$f" ] && cp "$f" "$W/${f##*/file-}"
done

# The sandbox: the source tree's build, python/ and sample-data/ where the README expects them.
ln -s "$BUILD" "$W/build"
ln -s "$ROOT/python" "$W/python"
ln -s "$ROOT/sample-data" "$W/sample-data"
cat >"$SHIM/sudo" <<'EOF'
#!/bin/sh
exec "$@"
EOF
cat >"$SHIM/make" <<EOF
#!/bin/sh
exec /usr/bin/make -C "$ROOT" --no-print-directory -s BUILD="$BUILD" PREFIX="$PREFIX" "\$@"
EOF
chmod +x "$SHIM/sudo" "$SHIM/make"
PYVER=$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
cat >"$T/env.sh" <<EOF
export PATH="$SHIM:$PREFIX/bin:\$PATH" PKG_CONFIG_PATH="$PREFIX/lib/pkgconfig"
export LD_LIBRARY_PATH="$PREFIX/lib" PYTHONPATH="$PREFIX/lib/python$PYVER/dist-packages"
export HOME="$HOME" XDG_CONFIG_HOME="$XDG_CONFIG_HOME" OMP_NUM_THREADS=1 PYTHONDONTWRITEBYTECODE=1
cd "$W"
EOF
tm -f /dev/null new-session -d -s t -x 120 -y 40 -c "$W" "sleep 600"

# A line starts the display when it runs nctop (or make demo) without an option that prints
# and exits or runs headless.
is_display() {
    case " $1 " in
    *" make demo "*) return 0 ;;
    *" --once "* | *" --headless "* | *" record "* | *" export "* | *" diff "* | *" --check "*) return 1 ;;
    " nctop "* | " build/nctop "* | " ./build/nctop "*) return 0 ;;
    esac
    return 1
}

run_display() {
    local line=$1 name=$2 n=$3 rcf=$T/rc-$3
    rm -f "$rcf"
    tm respawn-pane -k -t t "bash -c '. $T/env.sh; $line; echo \$? >$rcf.tmp; mv $rcf.tmp $rcf'; sleep 600"
    # Until it draws, or the command ends without drawing.
    if ! wait_for 120 sh -c "tmux -L '$SOCK' capture-pane -p -t t | grep -q ' Latency ' || test -e $rcf" ||
        ! tm capture-pane -p -t t | grep -q ' Latency '; then
        fail "$name: the display draws" "$(tm capture-pane -p -t t | grep -v '^$' | tail -n 3 | tr '\n' '|')"
        return
    fi
    pass "$name: the display draws"
    tm send-keys -t t q
    if wait_for 20 test -e "$rcf" && [ "$(cat "$rcf")" = 0 ]; then
        pass "$name: q quits with status 0"
    else
        fail "$name: q quits with status 0" "status $(cat "$rcf" 2>/dev/null || echo none)"
    fi
}

run_line() {
    local line=$1 name=$2 n=$3 out rc prog
    # Each line runs in a shell of its own: stand in for the user's one shell's $!.
    line=${line//\$!/$LASTBG}
    if [ "$line" = "make test" ]; then
        return # this suite is part of it
    fi
    if is_display "$line"; then
        run_display "$line" "$name" "$n"
        return
    fi
    case $line in
    *"&")
        (. "$T/env.sh"; exec bash -c "${line%&}") >"$T/bg-$n.log" 2>&1 &
        PIDS+=($!)
        LASTBG=$!
        prog=$(basename "$(echo "$line" | awk '{print $1}')")
        if wait_for 10 pidof "$prog" >/dev/null; then
            pass "$name: started in the background"
        else
            fail "$name: started in the background" "$(tail -n 3 "$T/bg-$n.log")"
        fi
        return
        ;;
    esac
    out=$(. "$T/env.sh"; timeout --kill-after=5 180 bash -c "$line" 2>&1)
    rc=$?
    echo "$out" >"$T/out-$n.log"
    if [ "$rc" -eq 0 ]; then
        pass "$name"
    else
        fail "$name" "status $rc: $(echo "$out" | tail -n 3 | tr '\n' ' ')"
    fi
}

n=0 blkno=0 LASTBG=
for blk in "$T"/blocks/run-*.sh; do
    blkno=$((blkno + 1))
    [ -e "$blk" ] || continue
    where=${blk##*-L}
    where=${where%.sh}
    k=0
    while IFS= read -r raw || [ -n "$raw" ]; do
        k=$((k + 1))
        line=$(echo "$raw" | sed 's/[[:space:]]\{2,\}#.*$//; s/[[:space:]]*$//')
        [ -z "$line" ] && continue
        case $line in "#"*) continue ;; esac
        n=$((n + 1))
        run_line "$line" "README line $((where + k - 1)): $line" "$blkno.$n"
    done <"$blk"
done

# What the examples promise, beyond a zero status.
if [ -f "$W/run.json" ]; then
    jcheck "engine snapshot: every step, no drops, step is the only root" "$W/run.json" \
        'proc("engine")["dropped"] == 0' \
        'row(proc("engine"), "latency", "step")["total"]["count"] == 2000' \
        'row(proc("engine"), "latency", "step/forward")["total"]["count"] == 2000' \
        '[r["path"] for r in proc("engine")["latency"] if r["level"] == 0] == ["step"]' \
        'proc("engine")["counters"]["tokens"] == 2000'
else
    fail "engine snapshot: every step, no drops, step is the only root" "no run.json"
fi
for f in "$T"/out-*.log; do
    if grep -q '^engine \[pid' "$f" 2>/dev/null; then
        # The attached snapshot (text): step at the top, forward under it, never a root.
        if grep -q '^step ' "$f" && ! grep -q '^forward ' "$f"; then
            pass "attached snapshot: forward nests under step"
        else
            fail "attached snapshot: forward nests under step" "$(grep -E '^(step|forward) ' "$f" | head -n 3 | tr '\n' '|')"
        fi
    fi
done
exit 0
