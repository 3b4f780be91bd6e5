# SPDX-License-Identifier: MIT
"""nctop.torch: the example model's trees as nctop reports them, compared with the model
itself; shared submodules, exceptions, threads and autograd modes under nctop; remove();
the CUDA path (skipped without a device)."""

import copy
import os
import pickle
import threading
import unittest

import nctop_testlib as tl

if not tl.have_torch():
    raise unittest.SkipTest("no PyTorch for /usr/bin/python3 (Debian: python3-torch)")

import torch  # noqa: E402
from torch import nn  # noqa: E402

import nctop  # noqa: E402
import nctop.torch  # noqa: E402

import sys  # noqa: E402
sys.path.insert(0, os.path.dirname(tl.EXAMPLE))
import gpt_decode  # noqa: E402

EXAMPLE_ARGS = ["--layers", "3", "--dim", "64", "--heads", "4", "--ffn", "128", "--vocab", "256",
                "--ctx", "64", "--prompt", "4", "--gen", "10", "--requests", "2", "--quiet"]


def is_container(m):
    return type(m).forward is nn.Module.forward


def expected_paths(model, root):
    """qualified name -> nctop latency path, worked out from the module tree alone: every
    called module is one level, a container's name joins its child's ("layers.0")."""
    out = {"": root}
    for qual, m in model.named_modules():
        if qual == "" or is_container(m):
            continue
        segs, pending, cur = [], [], ""
        for part in qual.split("."):
            cur = cur + "." + part if cur else part
            pending.append(part)
            if not is_container(model.get_submodule(cur)):
                segs.append(".".join(pending))
                pending = []
        out[qual] = root + "/" + "/".join(segs)
    return out


def module_bytes(m):
    seen, n = set(), 0
    for t in list(m.parameters()) + list(m.buffers()):
        if id(t) not in seen:
            seen.add(id(t))
            n += t.numel() * t.element_size()
    return n


class ExampleTest(unittest.TestCase):
    """python/examples/gpt_decode.py under the real nctop."""

    @classmethod
    def setUpClass(cls):
        cls.args = gpt_decode.parse_args(EXAMPLE_ARGS)
        cls.model = gpt_decode.build(cls.args)
        cls.proc = tl.under_nctop([tl.PYTHON, tl.EXAMPLE] + EXAMPLE_ARGS)
        cls.lat = tl.rows(cls.proc, "latency")
        cls.mem = tl.rows(cls.proc, "memory")
        cls.paths = expected_paths(cls.model, "step/GPT")
        cls.forwards = cls.args.requests * cls.args.gen

    def test_health(self):
        self.assertEqual(self.proc["label"], "gpt_decode")
        self.assertEqual(self.proc["invalid"], 0)
        self.assertEqual(self.proc["dropped"], 0)

    def test_tree_matches_named_modules(self):
        self.assertEqual(set(self.lat), {"step"} | set(self.paths.values()))
        for qual, path in self.paths.items():
            self.assertEqual(self.lat[path]["level"], path.count("/"), path)

    def test_counts_equal_forward_calls(self):
        self.assertEqual(tl.count(self.lat["step"]), self.forwards)
        for path in self.paths.values():
            self.assertEqual(tl.count(self.lat[path]), self.forwards, path)

    def test_block_times(self):
        blocks = [self.lat[self.paths["layers.%d" % i]]["total"]["total_ms"]
                  for i in range(self.args.layers)]
        self.assertTrue(all(b > 0 for b in blocks), blocks)
        self.assertLessEqual(sum(blocks), self.lat["step"]["total"]["total_ms"])
        self.assertLessEqual(self.lat["step/GPT"]["total"]["total_ms"],
                             self.lat["step"]["total"]["total_ms"])

    def test_weights_bytes_per_module(self):
        total = module_bytes(self.model)
        self.assertEqual(self.mem["Model Weights"]["bytes"], total)
        for qual, m in self.model.named_modules():
            path = "Model Weights/" + qual.replace(".", "/")
            if qual and module_bytes(m):
                self.assertEqual(self.mem[path]["bytes"], module_bytes(m), path)
            elif qual:
                self.assertNotIn(path, self.mem)
        for qual, p in self.model.named_parameters():
            path = "Model Weights/" + qual.replace(".", "/")
            self.assertEqual(self.mem[path]["bytes"], p.numel() * p.element_size(), path)

    def test_decode_markers_and_gauges(self):
        a = self.args
        self.assertEqual(self.proc["counters"]["tokens"], self.forwards)
        self.assertEqual(self.proc["ttft_ms"]["total"]["count"], a.requests)
        kv_bytes = 2 * a.layers * a.ctx * a.dim * 4
        kv = self.mem["KV Cache/kv_cache"]
        self.assertEqual(kv["capacity_bytes"], kv_bytes)
        self.assertEqual(kv["bytes"], kv_bytes * (a.prompt + a.gen - 1) // a.ctx)
        self.assertIn("Memory Pools/tensor_pool", self.mem)


class WorkloadTest(unittest.TestCase):
    """torch_workload.py under nctop: shared modules, exceptions, threads, autograd modes."""

    @classmethod
    def setUpClass(cls):
        import torch_workload as w
        cls.w = w
        cls.proc = tl.under_nctop([tl.PYTHON, os.path.join(tl.HERE, "torch_workload.py")])
        cls.lat = tl.rows(cls.proc, "latency")
        cls.mem = tl.rows(cls.proc, "memory")

    def under(self, prefix):
        return {p: tl.count(r) for p, r in self.lat.items()
                if p == prefix or p.startswith(prefix + "/")}

    def test_consistent(self):
        self.assertEqual(self.proc["invalid"], 0)
        self.assertEqual(self.proc["dropped"], 0)

    def test_shared_submodules(self):
        n = self.w.N
        self.assertEqual(self.under("case_shared"), {
            "case_shared": n, "case_shared/shared": n, "case_shared/shared/first": 2 * n,
            "case_shared/shared/first/fc": 2 * n, "case_shared/shared/head": n})
        m = self.w.Shared()
        self.assertEqual(self.mem["Model Weights/shared"]["bytes"], module_bytes(m))
        self.assertEqual(self.mem["Model Weights/shared/first"]["bytes"], module_bytes(m.first))

    def test_exceptions_inside_forward(self):
        n = self.w.N
        tree = {"raiser": n, "raiser/pre": n, "raiser/catcher": n, "raiser/catcher/boom": n,
                "raiser/catcher/boom/fc": n, "raiser/catcher/after": n, "raiser/boom": n,
                "raiser/boom/fc": n, "raiser/post": n // 2}
        self.assertEqual(self.under("raiser"), tree)
        with_span = {"case_exc/" + p: c for p, c in tree.items()}
        with_span["case_exc"] = n
        self.assertEqual(self.under("case_exc"), with_span)

    def test_threads(self):
        n = self.w.N * self.w.THREADS
        self.assertEqual(self.under("case_threads"), {
            "case_threads": n, "case_threads/threaded": n, "case_threads/threaded/a": n,
            "case_threads/threaded/b": n, "case_threads/threaded/b/0": n,
            "case_threads/threaded/b/1": n})

    def test_autograd_modes(self):
        for case in ("case_train", "case_nograd", "case_inference"):
            self.assertEqual(set(self.under(case).values()), {1}, case)
            self.assertEqual(len(self.under(case)), 6, case)


class InProcessTest(unittest.TestCase):
    def setUp(self):
        torch.manual_seed(0)
        self.args = gpt_decode.parse_args(EXAMPLE_ARGS)
        self.model = gpt_decode.build(self.args)

    def snapshot(self, model):
        return [(q, type(m), dict(m.__dict__), {k: v.clone() for k, v in m.state_dict().items()})
                for q, m in model.named_modules()]

    def run_model(self, model):
        cache = gpt_decode.KVCache(self.args.layers, self.args.heads, self.args.ctx,
                                   self.args.dim // self.args.heads)
        with torch.no_grad():
            return model(torch.tensor([[1, 2, 3]]), cache)

    def test_remove_restores_model(self):
        before = self.snapshot(self.model)
        out0 = self.run_model(self.model)
        h = nctop.torch.instrument(self.model)
        self.assertTrue(all("forward" in m.__dict__ for q, m in self.model.named_modules()
                            if q in h.sites))
        out1 = self.run_model(self.model)
        h.remove()
        h.remove()
        after = self.snapshot(self.model)
        self.assertEqual(len(before), len(after))
        for (q0, t0, d0, s0), (q1, t1, d1, s1) in zip(before, after):
            self.assertEqual((q0, t0), (q1, t1))
            self.assertEqual(d0.keys(), d1.keys(), q0)
            self.assertEqual(s0.keys(), s1.keys(), q0)
            self.assertTrue(all(torch.equal(s0[k], s1[k]) for k in s0), q0)
        self.assertTrue(torch.equal(out0, out1))
        self.assertTrue(torch.equal(out0, self.run_model(self.model)))
        self.assertEqual(nctop._stack(), [])

    def test_remove_keeps_a_forward_set_later(self):
        h = nctop.torch.instrument(self.model)
        mine = lambda *a, **k: None  # noqa: E731
        self.model.lm_head.forward = mine
        h.remove()
        self.assertIs(self.model.lm_head.__dict__["forward"], mine)

    def test_span_names_follow_module_tree(self):
        h = nctop.torch.instrument(self.model, weights=False)
        try:
            names = h.span_names
            self.assertEqual(names[""], "GPT")
            self.assertEqual(names["layers.1"], "layers.1")
            self.assertEqual(names["layers.1.attn"], "attn")
            self.assertEqual(names["layers.1.attn.q_proj"], "q_proj")
            self.assertNotIn("layers", names)
        finally:
            h.remove()

    def test_depth_include_exclude(self):
        h = nctop.torch.instrument(self.model, depth=1, weights=False)
        self.assertEqual(set(h.span_names), {"", "embed", "pos_embed", "final_norm", "lm_head"} |
                         {"layers.%d" % i for i in range(self.args.layers)})
        h.remove()
        h = nctop.torch.instrument(self.model, exclude=["*.attn", nn.GELU], weights=False)
        names = h.span_names
        self.assertEqual(names["layers.0.attn.q_proj"], "attn.q_proj")
        self.assertNotIn("layers.0.mlp.act", names)
        h.remove()
        h = nctop.torch.instrument(self.model, include="*_proj", weights=False)
        self.assertEqual(h.span_names["layers.2.mlp.up_proj"], "layers.2.mlp.up_proj")
        self.assertNotIn("layers.2", h.span_names)
        h.remove()

    def test_deepcopy_and_pickle(self):
        h = nctop.torch.instrument(self.model, weights=False)
        twin = copy.deepcopy(self.model)
        self.assertIs(twin.forward.fwd.__self__, twin)
        self.assertTrue(torch.equal(self.run_model(twin), self.run_model(self.model)))
        with self.assertRaisesRegex(TypeError, "remove"):
            pickle.dumps(self.model)
        h.remove()
        pickle.dumps(self.model)

    def test_exception_leaves_no_open_span(self):
        h = nctop.torch.instrument(self.model, weights=False)
        cache = gpt_decode.KVCache(1, 1, 1, 1)  # wrong shapes: the first block raises
        with self.assertRaises(Exception):
            self.model(torch.tensor([[1, 2]]), cache)
        self.assertEqual(nctop._stack(), [])

    def test_stack_per_thread_state(self):
        """The wrapper opens its span on the calling thread's stack, also for a run of short
        threads (a new thread state each, possibly at a freed one's address), between calls
        from this thread; a keyword argument and a forward that is not a bound method too."""
        seen = []

        class Probe(nn.Module):
            def forward(self, x, scale=1):
                st = nctop._stack()
                seen.append((len(st), st[-1].id if st else 0))
                return x * scale

        class Outer(nn.Module):
            def __init__(self):
                super().__init__()
                self.probe = Probe()
                self.free = Probe()

            def forward(self, x):
                return self.free(self.probe(x, scale=2))

        m = Outer()
        m.free.forward = lambda x: m.free.__class__.forward(m.free, x)  # an instance override
        h = nctop.torch.instrument(m, weights=False)
        ids = (h.sites["probe"].id, h.sites["free"].id)

        def run():
            del seen[:]
            self.assertEqual(m(torch.ones(1)).item(), 2.0)
            self.assertEqual(seen, [(2, ids[0]), (2, ids[1])])
            self.assertEqual(nctop._stack(), [])

        for _ in range(20):
            run()
            errors = []

            def in_thread():
                try:
                    run()
                except BaseException as e:  # reported by the main thread
                    errors.append(e)

            t = threading.Thread(target=in_thread)
            t.start()
            t.join()
            self.assertEqual(errors, [])
        h.remove()
        h.remove()


class _Block(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.up = nn.Linear(8, 16)
        self.down = nn.Linear(16, 8)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.down(torch.relu(self.up(x)))


class _Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.blocks = nn.ModuleList([_Block(), _Block()])
        self.head = nn.Linear(8, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for b in self.blocks:
            x = b(x)
        return self.head(x)


class JitTest(unittest.TestCase):
    """torch.jit.trace and torch.jit.script of an instrumented model work; the compiled model
    runs as TorchScript (no per-module spans) and the eager model stays instrumented."""

    def setUp(self):
        torch.manual_seed(0)
        self.model = _Net().eval()
        self.x = torch.randn(3, 8)
        self.h = nctop.torch.instrument(self.model, weights=False)
        self.addCleanup(self.h.remove)

    def assert_still_instrumented(self):
        for q, m in self.model.named_modules():
            if q in self.h.sites:
                self.assertEqual(type(m.__dict__.get("forward")).__name__, "_Wrapped", q)
        self.assertEqual(nctop._stack(), [])

    def test_issue_11_trace(self):
        with torch.no_grad():
            traced = torch.jit.trace(self.model, self.x)
            self.assertTrue(torch.allclose(traced(self.x), self.model(self.x)))
        self.assert_still_instrumented()

    def test_issue_11_script(self):
        nctop.torch._Scriptable.warned = False
        with self.assertWarnsRegex(UserWarning, "no per-module spans"):
            scripted = torch.jit.script(self.model)
        with torch.no_grad():
            self.assertTrue(torch.allclose(scripted(self.x), self.model(self.x)))
        self.assert_still_instrumented()
        self.h.remove()
        self.assertFalse(any("__prepare_scriptable__" in m.__dict__
                             for m in self.model.modules()))
        torch.jit.script(self.model)


class FakeEvent:
    """Stands in for torch.cuda.Event: completes after `delay` queries, 2 ms apart."""
    made = 0

    def __init__(self, enable_timing=False):
        FakeEvent.made += 1
        self.t, self.polls = 0.0, 0

    def record(self, stream=None):
        self.t, self.polls = FakeEvent.clock, 0
        FakeEvent.clock += 2.0

    def query(self):
        self.polls += 1
        return self.polls > 1

    def elapsed_time(self, end):
        return end.t - self.t

    def synchronize(self):
        self.polls = 99


class CudaLogicTest(unittest.TestCase):
    """The CUDA timing bookkeeping with fake events, so that it runs without a device."""

    def test_events_resolve_late_and_are_reused(self):
        reported = []
        real_event, real_kernel = torch.cuda.Event, nctop._kernel
        FakeEvent.clock, FakeEvent.made = 0.0, 0
        torch.cuda.Event = FakeEvent
        nctop._kernel = lambda *a: reported.append(a)
        try:
            model = nn.Sequential(nn.Linear(4, 4), nn.ReLU())
            h = nctop.torch.instrument(model, name="fake", weights=False, cuda=True)
            for _ in range(5):
                model(torch.randn(1, 4))
            self.assertLess(len(reported), 15)   # nothing waits for the device
            h.remove()                           # flushes
        finally:
            torch.cuda.Event, nctop._kernel = real_event, real_kernel
        self.assertEqual(len(reported), 15)
        cuda_id = nctop.name("cuda")
        self.assertTrue(all(r[1] == cuda_id and r[3] > 0 for r in reported))
        self.assertEqual({r[0] for r in reported}, {nctop.name(n) for n in ("fake", "0", "1")})
        self.assertLessEqual(FakeEvent.made, 12)  # pooled, not one pair per call
        self.assertEqual(nctop._stack(), [])


@unittest.skipUnless(torch.cuda.is_available(),
                     "no CUDA device: torch.cuda.is_available() is False; the CUDA event path "
                     "(nctop.torch._CudaTimes) is not exercised")
class CudaTest(unittest.TestCase):
    def test_module_times_as_cuda_kernels(self):
        model = nn.Sequential(nn.Linear(64, 64), nn.ReLU()).cuda()
        h = nctop.torch.instrument(model, name="cudamodel")
        self.assertIsNotNone(h.cuda)
        x = torch.randn(8, 64, device="cuda")
        for _ in range(10):
            model(x)
        h.cuda.flush()
        self.assertEqual(len(h.cuda.pending), 0)
        self.assertEqual(h.cuda.skipped, 0)
        h.remove()


if __name__ == "__main__":
    unittest.main()
