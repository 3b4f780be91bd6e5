# SPDX-License-Identifier: MIT
# the layering rules of docs/HACKING.md and the agreement of --help, man page and README.
. "$(dirname "$0")/lib.sh"
need_build
cd "$ROOT" || exit 1
check "include layering (check-layers)" tests/check-layers
check "--help, man page and README agree (check-docs)" tests/check-docs "$NCTOP"
check "man pages render without warnings" \
    bash -c '! man --warnings=all -l man/nctop.1 man/libnctop.3 2>&1 >/dev/null | grep -q .'
# test_issue_11: the pages name nctop in their header and footer, not a generic "BSD".
check "man page headers and footers name nctop, not BSD" \
    bash -c '! man -l man/nctop.1 man/libnctop.3 2>/dev/null | col -b | grep -q "BSD"'
if command -v clang-format >/dev/null; then
    check "clang-format finds nothing to change (make check-format)" make -s check-format
else
    skip "clang-format is not installed"
fi
