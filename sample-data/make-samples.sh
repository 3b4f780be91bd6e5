#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Regenerate the sample files with the project's own tools (README.md, "Sample data"):
# a tinylm recording, the JSONL log pair and ProfileRecord file of a tinylm run, a Chrome trace
# written by PyTorch's profiler, and a log pair in the seed engine's own row shapes (seed/).
# Run from anywhere after `make`; needs python3-torch.
set -eu
cd "$(dirname "$0")"
BUILD=${BUILD:-../build}
NCTOP=$BUILD/nctop
TINYLM=$BUILD/tinylm
# A smaller model than the default keeps every file well under 1 MB.
LM_ARGS="--quiet --layers 2 --dim 256 --ffn 704 --vocab 4096 --gen 16 --seed 7"

rm -f tinylm.nctrec ./*-latency.jsonl ./*-memory.jsonl tinylm.profile.jsonl torch-tiny.trace.json \
    seed/*-latency.jsonl seed/*-memory.jsonl
# shellcheck disable=SC2086
"$NCTOP" record -o tinylm.nctrec -- "$TINYLM" $LM_ARGS --tokens 48
# shellcheck disable=SC2086
METRICS_LOG_ENABLED=1 METRICS_LOG_INTERVAL_SECS=1 NC_PROFILE_JSONL=tinylm.profile.jsonl \
    "$NCTOP" --headless --duration 2.5 --log-dir . -- "$TINYLM" $LM_ARGS
/usr/bin/python3 make_torch_trace.py torch-tiny.trace.json
/usr/bin/python3 make_seed_logs.py seed
ls -l tinylm.nctrec ./*-latency.jsonl ./*-memory.jsonl tinylm.profile.jsonl torch-tiny.trace.json \
    seed/*.jsonl
