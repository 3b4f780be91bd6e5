#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/run: background
# The fuzz harnesses (tests/fuzz/) for a few seconds each on their seed corpora, after their
# committed reproducers; the seeds must reach deep into the segment reader, not bounce off
# its checks. SKIP when clang's libFuzzer runtime is missing.
. "$(dirname "$0")/lib.sh"
FUZZ_SECONDS=${FUZZ_SECONDS:-4}
FUZZ_BUILD=$BUILD/fuzz

probe=$T/probe.c
echo 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n);
int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { return d && n; }' >"$probe"
if ! clang -fsanitize=fuzzer,address,undefined -o "$T/probe" "$probe" >/dev/null 2>&1; then
    skip "fuzz: clang with its libFuzzer runtime is needed (make deps)"
    exit 77
fi
if ! out=$(make -C "$ROOT" --no-print-directory -j"$(nproc)" BUILD="$BUILD" fuzz-build 2>&1); then
    fail "fuzz: build" "$(echo "$out" | tail -n 5 | tr '\n' ' ')"
    exit 1
fi
pass "fuzz: harnesses build"

# The segment seeds are laid out as real segments: the reader must attach them and decode
# their records (the harness reports what it made of one run).
seg=$(NCTOP_FUZZ_VERBOSE=1 "$FUZZ_BUILD/fuzz_segment" "$ROOT/tests/fuzz/corpus/segment/tinylm" 2>&1 |
    grep -m1 '^segment:')
if [[ $seg =~ attached\ 1\ refused\ 0\ records\ ([0-9]+)\ invalid\ 0 ]] &&
    [ "${BASH_REMATCH[1]}" -gt 0 ]; then
    pass "fuzz: the segment seed attaches and decodes (${BASH_REMATCH[1]} records)"
else
    fail "fuzz: the segment seed attaches and decodes" "$seg"
fi

FUZZ_BUILD=$FUZZ_BUILD "$ROOT/tests/fuzz/run" "$FUZZ_SECONDS"
