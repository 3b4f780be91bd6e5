# SPDX-License-Identifier: MIT
# The Python package's tests (tests/python/test_*.py) under /usr/bin/python3 -m unittest, one
# PASS:/FAIL:/SKIP: line per test case.
. "$(dirname "$0")/lib.sh"
need_build

if [ -n "${NCTOP_SAN_FLAGS:-}" ]; then
    skip "Python bindings: a sanitizer-built libnctop cannot be loaded into /usr/bin/python3"
    exit 77
fi
if [ ! -x "$PY" ]; then
    skip "no $PY"
    exit 77
fi
export BUILD NCTOP_LIB=$BUILD/lib/libnctop.so OMP_NUM_THREADS=1 PYTHONDONTWRITEBYTECODE=1
cd "$ROOT/tests/python" || exit 1
# Every test on the package's C fast path (nctop._fast, built by make), then the PyTorch tests
# again on the ctypes path it falls back to (NCTOP_NO_FAST=1), their names marked "ctypes:".
if [ "$(NCTOP_NO_FAST= "$PY" -c 'import sys; sys.path.insert(0, "../../python"); import nctop; print(nctop.fast_path())')" = True ]; then
    pass "the package takes the C fast path (nctop._fast) in the build tree"
else
    fail "the package does not take the C fast path: nctop._fast was not built or not found"
fi
check_run() { # PREFIX ARGS...: run unittest, print a line per test case
    local prefix=$1
    shift
    timeout --kill-after=5 150 "$PY" -m unittest -v "$@" 2>"$T/unittest.log" >&2
    report "$prefix" "$?"
}
report() {
# "test_x (test_mod.Class.test_x) ... ok" (or FAIL, ERROR, skipped 'why'); failures are
# detailed after a line of '=' signs.
"$PY" - "$T/unittest.log" "$2" "$1" <<'PYEOF'
import re, sys
prefix = sys.argv[3]
text = open(sys.argv[1]).read()
head, _, details = text.partition("\n" + "=" * 70)
line = re.compile(r"^(\w+) \(([\w.]+)\)(?:\n.*)? \.\.\. (ok|FAIL|ERROR|skipped '(.*)'|expected failure|unexpected success)$", re.M)
seen = 0
for m in line.finditer(head):
    name, result, why = m.group(2), m.group(3), m.group(4)
    seen += 1
    if result in ("ok", "expected failure"):
        print("PASS: " + prefix + name)
    elif result.startswith("skipped"):
        print("SKIP: %s%s: %s" % (prefix, name, why))
    else:
        # the exception's own line: the first unindented one after "Traceback"
        block = details.split("(%s)" % name, 1)[-1].split("\n" + "-" * 70, 2)
        body = block[1] if len(block) > 1 else block[0]
        why = [l for l in body.splitlines()
               if l.strip() and not l.startswith((" ", "Traceback"))]
        print("FAIL: %s%s: %s %s" % (prefix, name, result, why[0][:300] if why else ""))
rc = int(sys.argv[2])
if rc != 0 and not re.search(r"^FAILED \(", text, re.M):
    print("FAIL: python unittest: exit status %d: %s" % (rc, text.strip().splitlines()[-1:] ))
elif seen == 0:
    print("FAIL: python unittest: no test ran")
PYEOF
}
check_run ""
NCTOP_NO_FAST=1 check_run "ctypes: " test_torch
