# SPDX-License-Identifier: MIT
"""make bench: what nctop.torch.instrument costs the example model (python/examples/
gpt_decode.py, default sizes), against the same model without instrumentation in the same
run. Rounds alternate between the two; figures are medians. Prints
`BENCH <name> <value> <unit> baseline=<v> ratio=<r>` lines. Run it under nctop so that the
events are really written: nctop --headless -o /dev/null -- /usr/bin/python3 THIS.

A step is timed by the thread's CPU clock (--clock wall: perf_counter): on a shared machine
the time the thread waits for a core is most of the noise, and it is no cost of nctop's. The
model is instrumented once; rounds switch its wrappers off and on again (the forwards that
instrument() put in the modules' __dict__), so both variants run the same objects in a
steady state and a round is two steps, which keeps the machine's changing load alike for
both."""

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
    ap.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_PY_ROUNDS", "1500")))
    ap.add_argument("--clock", choices=("cpu", "wall"), default="cpu")
    opts, rest = ap.parse_known_args()
    args = gpt_decode.parse_args(rest)
    torch.set_num_threads(1)
    nctop.set_label("python_overhead")
    model = gpt_decode.build(args)
    dec = Decoder(model, args, time.thread_time if opts.clock == "cpu" else time.perf_counter)
    h = nctop.torch.instrument(model, weights=False)
    calls = len(h.sites)  # each instrumented module runs once per forward
    wrapped = list(h._wrapped)

    def switch(on):
        for module, w in wrapped:
            if on:
                module.__dict__["forward"] = w
            elif w.prev is nctop.torch._NO_FORWARD:
                module.__dict__.pop("forward", None)
            else:
                module.__dict__["forward"] = w.prev

    for on in (False, True):
        switch(on)
        dec.run_us(16)  # warm up

    # Rounds of one plain and one instrumented step (which goes first alternates) at the same
    # cache position, so that the machine's noise hits both alike; figures are medians.
    base, diff = [], []
    for r in range(opts.rounds):
        pos = dec.cache.pos
        t = {}
        for on in ((False, True) if r % 2 else (True, False)):
            dec.cache.pos = pos
            switch(on)
            t[on] = dec.run_us(1)[0]
        base.append(t[False])
        diff.append(t[True] - t[False])
    switch(True)
    h.remove()
    b, d = statistics.median(base), statistics.median(diff)
    per_call = d / calls
    print("# %d module calls per decode step, %s, attached=%d, fast path %s, torch %s, "
          "%s clock, %d rounds" %
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
