# SPDX-License-Identifier: MIT
"""make bench: what nctop.torch.instrument costs the example model (python/examples/
gpt_decode.py, default sizes), against the same model without instrumentation in the same
run. Rounds alternate between the two; figures are medians. Prints
`BENCH <name> <value> <unit> baseline=<v> ratio=<r>` lines. Run it under nctop so that the
events are really written: nctop --headless -o /dev/null -- /usr/bin/python3 THIS.

A step is timed by the thread's CPU clock (--clock wall: perf_counter): on a shared machine
the time the thread waits for a core is most of the noise, and it is no cost of nctop's. The
first step after switching instrumentation on or off is not timed (it pays for instrument()'s
or remove()'s allocations), so the figures are those of a model that stays instrumented."""

import argparse
import os
import statistics
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "python"))
sys.path.insert(0, os.path.join(ROOT, "python", "examples"))
os.environ.setdefault("OMP_NUM_THREADS", "1")

import torch  # noqa: E402

import gpt_decode  # noqa: E402
import nctop  # noqa: E402
import nctop.torch  # noqa: E402


class Decoder:
    """Decode steps of one token on a KV cache that rewinds before it fills up."""

    def __init__(self, model, args, clock):
        self.model, self.args, self.clock = model, args, clock
        self.cache = gpt_decode.KVCache(args.layers, args.heads, args.ctx, args.dim // args.heads)
        self.x = torch.randint(0, args.vocab, (1, 1))

    def run_us(self, steps):
        """Microseconds of each of `steps` single-token forwards."""
        c, clock, times = self.cache, self.clock, []
        with torch.inference_mode():
            for _ in range(steps):
                if c.pos >= c.ctx - 1:
                    c.pos = self.args.prompt
                t0 = clock()
                self.model(self.x, c)
                times.append((clock() - t0) * 1e6)
        return times


def pair_us(n, begin, end, arg):
    t0 = time.perf_counter()
    for _ in range(n):
        begin(arg)
        end(arg)
    return (time.perf_counter() - t0) / n * 1e6


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--blocks", type=int, default=int(os.environ.get("BENCH_PY_BLOCKS", "300")))
    ap.add_argument("--steps", type=int, default=3, help="timed decode steps per block")
    ap.add_argument("--clock", choices=("cpu", "wall"), default="cpu")
    opts, rest = ap.parse_known_args()
    args = gpt_decode.parse_args(rest)
    torch.set_num_threads(1)
    nctop.set_label("python_overhead")
    model = gpt_decode.build(args)
    dec = Decoder(model, args, time.thread_time if opts.clock == "cpu" else time.perf_counter)
    dec.run_us(16)  # warm up

    # Blocks of an untimed step and a few timed ones, alternating plain and instrumented
    # (which goes first alternates too) at the same cache positions, so that the machine's
    # noise hits both alike; each timed step is paired with the same step of the other block.
    base, diff, calls = [], [], 0
    for r in range(opts.blocks):
        pos = dec.cache.pos
        h = None
        pair = {}
        for variant in ((0, 1) if r % 2 else (1, 0)):
            dec.cache.pos = pos
            if variant:
                h = nctop.torch.instrument(model, weights=False)
                calls = len(h.sites)  # each instrumented module runs once per forward
            pair[variant] = dec.run_us(1 + opts.steps)[1:]
            if h is not None:
                h.remove()
                h = None
        base.extend(pair[0])
        diff.extend(i - p for p, i in zip(pair[0], pair[1]))
    b, d = statistics.median(base), statistics.median(diff)
    per_call = d / calls
    print("# %d module calls per decode step, %s, attached=%d, fast path %s, torch %s, "
          "%s clock, %d step pairs" %
          (calls, " ".join("%s=%s" % kv for kv in sorted(vars(args).items())
                           if kv[0] in ("layers", "dim", "ffn", "vocab")),
           nctop.attached(), nctop.fast_path(), torch.__version__, opts.clock, len(diff)))
    print("BENCH py_module_call_cost %.3f us baseline=%.1f ratio=%.5f" % (per_call, b, per_call / b))
    print("BENCH py_step_overhead %.2f %% baseline=%.1f ratio=%.4f" % (100 * d / b, b, (b + d) / b))

    # Where a module call's cost goes: the two ctypes calls against two Python calls.
    n = 200000
    noop = lambda x: None  # noqa: E731
    sid = nctop.name("bench-span")
    py = min(pair_us(n, noop, noop, sid) for _ in range(3))
    ct = min(pair_us(n, nctop._span_begin, nctop._span_end, sid) for _ in range(3))
    print("BENCH py_ctypes_span_pair %.3f us baseline=%.3f ratio=%.2f" % (ct, py, ct / py))
    if nctop.dropped():
        print("# dropped %d events" % nctop.dropped())


if __name__ == "__main__":
    main()
