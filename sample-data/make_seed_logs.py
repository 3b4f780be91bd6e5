#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write a JSONL log pair in the row shapes of the seed engine nctop descends from.

Usage: make_seed_logs.py DIR

The seed writes <UTC %Y%m%d%H%M%S>-latency.jsonl and -memory.jsonl: a first line with empty
rows, then one {"timestamp", "rows"} line per interval. Its latency rows have only label,
last_ms, average_ms and level; its memory rows label, level, current/peak total MB and the
pool, KV-pool and KV-cache MB of the row. The rows are flat: the tree is in the levels alone,
and flat level-0 rows (one per softmax backend) come between Forward Step and the Block rows
that are Forward Step's. The figures are those of a small made-up four-block decoder, the same
on every run (nothing random), so the tests can check them.
"""
import json
import os
import sys

BLOCKS = 4
PHASES = [("attention norm", 0.05), ("attention", 0.9), ("sdpa", 0.4), ("mlp", 0.7)]
STAMP = (2025, 10, 12, 9, 45, 12)  # the latency log's; the memory log opens a second later
INTERVAL_S = 5
LINES = 3


def stamp(t, ms=0):
    y, mo, d, h, mi, s = t
    return "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ" % (y, mo, d, h, mi, s, ms)


def later(t, secs):
    y, mo, d, h, mi, s = t
    s += secs
    mi += s // 60
    s %= 60
    h += mi // 60
    mi %= 60
    return (y, mo, d, h, mi, s)


def lat(label, level, last, avg):
    # The seed's field order: label, last_ms, average_ms, level.
    return {"label": label, "last_ms": round(last, 6), "average_ms": round(avg, 6), "level": level}


def latency_rows(step):
    rows = [lat("Embedding", 0, 0.021 + 0.001 * step, 0.022)]
    blocks = []
    for b in range(BLOCKS):
        phases = [(name, ms * (1 + 0.05 * b) + 0.01 * step) for name, ms in PHASES]
        total = sum(ms for _, ms in phases) + 0.12
        blocks.append((b, total, phases))
    forward = sum(total for _, total, _ in blocks) + 0.3
    rows.append(lat("Forward Step", 0, forward, forward * 0.98))
    # Flat rows of their own, written before the blocks that belong to Forward Step.
    rows.append(lat("Softmax (kernel)", 0, 0.031, 0.029))
    rows.append(lat("Softmax (vendor)", 0, 0.044, 0.047))
    for b, total, phases in blocks:
        rows.append(lat("Block %d" % (b + 1), 1, total, total * 0.97))
        for name, ms in phases:
            rows.append(lat(name, 2, ms, ms * 0.97))
    rows.append(lat("Output", 0, 0.61, 0.6))
    rows.append(lat("Sampling", 0, 0.08, 0.09))
    rows.append(lat("Decode", 0, 0.01, 0.012))
    return rows


def mem(label, level, cur, peak=None, pool=0.0, kv=0.0, kv_cache=0.0, ppool=None, pkv=None,
        pkvc=None):
    ppool = pool if ppool is None else ppool
    pkv = kv if pkv is None else pkv
    pkvc = kv_cache if pkvc is None else pkvc
    return {
        "label": label, "level": level,
        "current_total_mb": cur, "peak_total_mb": cur if peak is None else peak,
        "current_pool_mb": pool, "peak_pool_mb": ppool,
        "current_kv_mb": kv, "peak_kv_mb": pkv,
        "current_kv_cache_mb": kv_cache, "peak_kv_cache_mb": pkvc,
        "absolute_pool_mb": 0.0, "absolute_kv_mb": 0.0, "absolute_kv_cache_mb": 0.0,
        "show_absolute": False,
    }


def scope(label, level, pool, kv, kv_cache):
    # A scope's row: its total is the sum of its pool, KV-pool and KV-cache growth.
    return mem(label, level, pool + kv + kv_cache, pool + kv + kv_cache + 0.25, pool, kv,
               kv_cache, pool + 0.25, kv, kv_cache)


def memory_rows(step):
    block_mb = {"Attention Projections": 8.0, "Feedforward Projections": 16.0,
                "Norm Parameters": 0.015625}
    blocks_mb = BLOCKS * sum(block_mb.values())
    weights = 32.0 + 32.0 + 0.015625 + blocks_mb
    rows = [mem("Model Weights", 0, weights), mem("Token Embeddings", 1, 32.0),
            mem("Output Projection", 1, 32.0), mem("Final Layer Norm", 1, 0.015625),
            mem("Transformer Blocks", 1, blocks_mb)]
    for b in range(BLOCKS):
        rows.append(mem("Block %d" % (b + 1), 2, sum(block_mb.values())))
        for name, mb in block_mb.items():
            rows.append(mem(name, 3, mb))
    # A flat level-0 row of its own, then Host Memory with its children.
    rows.append(mem("Tokenizer", 0, 3.5))
    kv_used = 4.0 + 2.0 * step
    rows.append(mem("Host Memory (MB)", 0, 612.0 + step, 615.0 + step))
    rows.append(mem("Tensor Pool (Reserved)", 1, 256.0))
    rows.append(mem("pool", 2, 40.0 + step))
    rows.append(mem("KV Pool (Reserved)", 1, 64.0))
    rows.append(mem("kv", 2, kv_used))
    rows.append(mem("kv-cache", 2, kv_used / 2))
    rows.append(mem("Unattributed Host Memory", 1, 612.0 + step - weights - 256.0 - 64.0))
    rows.append(scope("Embedding", 0, 0.5, 0.0, 0.0))
    rows.append(scope("Forward Step", 0, 6.0, 0.5 * BLOCKS, 0.25 * BLOCKS))
    for b in range(BLOCKS):
        rows.append(scope("Block %d" % (b + 1), 1, 1.5, 0.5, 0.25))
        rows.append(scope("attention", 2, 1.0, 0.5, 0.25))
        rows.append(scope("mlp", 2, 0.5, 0.0, 0.0))
    rows.append(scope("Output", 0, 1.0, 0.0, 0.0))
    return rows


def write(path, start, ms, rows_of):
    with open(path, "w") as f:
        f.write(json.dumps({"timestamp": stamp(start, ms), "rows": []},
                           separators=(",", ":")) + "\n")
        for i in range(LINES):
            t = later(start, INTERVAL_S * (i + 1))
            f.write(json.dumps({"timestamp": stamp(t, ms), "rows": rows_of(i)},
                               separators=(",", ":")) + "\n")


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make_seed_logs.py DIR")
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    mstamp = later(STAMP, 1)
    name = "%04d%02d%02d%02d%02d%02d"
    write(os.path.join(out, (name % STAMP) + "-latency.jsonl"), STAMP, 981, latency_rows)
    write(os.path.join(out, (name % mstamp) + "-memory.jsonl"), mstamp, 4, memory_rows)


if __name__ == "__main__":
    main()
