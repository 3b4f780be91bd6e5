# SPDX-License-Identifier: MIT
# Shared helpers of the end-to-end tests: results, a private temporary directory, bounded
# waits, and JSON checks through /usr/bin/python3. Sourced, never run.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
NCTOP=$BUILD/nctop
TINYLM=$BUILD/tinylm
PY=/usr/bin/python3
T=$(mktemp -d "${TMPDIR:-/tmp}/nctop-e2e.XXXXXX")
export HOME=$T/home XDG_CONFIG_HOME=$T/home/.config
mkdir -p "$HOME"
PIDS=()

cleanup() {
    local p
    for p in "${PIDS[@]}"; do
        kill -9 "$p" 2>/dev/null
    done
    wait 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT

pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1${2:+: $2}"; }
skip() { echo "SKIP: $1"; }

# check NAME COMMAND...: PASS when the command succeeds, FAIL with its output otherwise.
check() {
    local name=$1 out
    shift
    if out=$("$@" 2>&1); then
        pass "$name"
    else
        fail "$name" "$(echo "$out" | tail -n 5 | tr '\n' ' ')"
    fi
}

# wait_for SECONDS COMMAND...: poll every 20 ms until the command succeeds.
wait_for() {
    local limit=$1 i=0
    shift
    while ! "$@" 2>/dev/null; do
        i=$((i + 1))
        [ "$i" -ge $((limit * 50)) ] && return 1
        sleep 0.02
    done
    return 0
}

# jtrue FILE PYTHON-EXPR...: whether every assertion holds of the JSON document in FILE,
# bound to `d`; `proc(label)` finds a process, `row(p, view, path)` a row by path. Prints
# the first that does not.
jtrue() {
    local file=$1
    shift
    "$PY" - "$file" "$@" <<'PYEOF' 2>&1
import json, sys
d = json.load(open(sys.argv[1]))
def proc(label=None):
    ps = [p for p in d["processes"] if label is None or p["label"] == label]
    assert ps, "no process %r in %r" % (label, [p["label"] for p in d["processes"]])
    return ps[0]
def row(p, view, path):
    rs = [r for r in p[view] if r["path"] == path]
    assert rs, "no %s row %r" % (view, path)
    return rs[0]
def paths(p, view):
    return [r["path"] for r in p[view]]
def over_parent(p, times=None):
    """Rows counting more than times[label] (1 by default) per parent instance, the parent's
    open instance included (its calls so far have ended, it has not): [(path, count, parent's
    count)]."""
    rs = {r["path"]: r for r in p["latency"]}
    out = []
    for r in p["latency"]:
        if r["level"] == 0:
            continue
        up = rs[r["path"].rsplit("/", 1)[0]]["total"]["count"]
        if r["total"]["count"] > (times or {}).get(r["label"], 1) * (up + 1):
            out.append((r["path"], r["total"]["count"], up))
    return out
for expr in sys.argv[2:]:
    try:
        ok = eval("(" + expr + "\n)")
    except Exception as e:
        print("%s: %s: %s" % (expr, type(e).__name__, e)); sys.exit(1)
    if not ok:
        print("false: " + expr)
        # A comparison that failed says what its left side was.
        if " == " in expr:
            try:
                print("  left side: %.400r" % (eval("(" + expr.split(" == ", 1)[0] + "\n)"),))
            except Exception:
                pass
        sys.exit(1)
PYEOF
}

# jcheck NAME FILE PYTHON-EXPR...: PASS when every assertion holds of FILE (see jtrue).
jcheck() {
    local name=$1 file=$2
    shift 2
    local out
    if out=$(jtrue "$file" "$@"); then
        pass "$name"
    else
        fail "$name" "$(echo "$out" | tail -n 3 | tr '\n' ' ')"
    fi
}

# once_until BOUND FILE EXPR SECS CMD...: run CMD --duration SECS (an nctop --once --json)
# into FILE until the jtrue assertion EXPR holds of its snapshot, doubling SECS each time,
# for at most BOUND seconds in all; returns the last run's status. A short window on a
# loaded machine can see no events at all: what the checks after it test is what the events
# say, not that the first window caught some.
once_until() {
    local bound=$1 file=$2 expr=$3 secs=$4 end rc
    shift 4
    end=$((SECONDS + bound))
    while :; do
        "$@" --duration "$secs" >"$file"
        rc=$?
        if [ "$rc" -ne 0 ] || jtrue "$file" "$expr" >/dev/null || [ "$SECONDS" -ge "$end" ]; then
            return "$rc"
        fi
        secs=$("$PY" -c "print(min(2 * $secs, 16))")
    done
}

need_build() {
    if [ ! -x "$NCTOP" ] || [ ! -x "$TINYLM" ]; then
        fail "build" "$NCTOP or $TINYLM missing: run make"
        exit 1
    fi
}

# need_nobody WHY: the caller runs commands as nobody through "${AS_NOBODY[@]}" CMD...; SKIP
# (status 77) unless this is root and nobody can run the build's programs.
AS_NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)
need_nobody() {
    if [ "$(id -u)" -ne 0 ]; then
        skip "needs root: $1"
        exit 77
    fi
    if ! "${AS_NOBODY[@]}" "$TINYLM" --help >/dev/null 2>&1; then
        skip "nobody cannot run $TINYLM (setpriv missing, or the build tree not world-readable): $1"
        exit 77
    fi
}
