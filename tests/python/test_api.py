# SPDX-License-Identifier: MIT
"""The base package (no torch): loading, names, spans, the per-thread stack, and what nctop
reports for a workload that uses every call."""

import os
import subprocess
import tempfile
import threading
import unittest

import nctop_testlib as tl

import nctop


class LoadTest(unittest.TestCase):
    def test_version_command(self):
        r = subprocess.run([tl.PYTHON, "-m", "nctop", "--version"], env=tl.env(),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("nctop (Python) %s" % nctop.__version__, r.stdout.decode())
        self.assertIn(tl.LIB, r.stdout.decode())

    def test_issue_11_missing_library_degrades_to_no_ops(self):
        # A user's program never fails because nctop is absent: one warning, calls do nothing.
        e = tl.env()
        e["NCTOP_LIB"] = "/nonexistent/libnctop.so"
        code = ("import warnings, nctop\n"
                "with nctop.span('s'):\n"
                "    nctop.token(3)\n"
                "g = nctop.gauge('pool', capacity=10); g.set(5)\n"
                "nctop.weight('a.b', 4); nctop.counter('c').add(2); nctop.iteration()\n"
                "nctop.kernel('k', nctop.now_ns(), 10); nctop.set_label('x'); nctop.init()\n"
                "print(nctop.available(), nctop.attached(), nctop.dropped(),"
                " repr(nctop.library_version()), nctop.library_path())\n")
        r = subprocess.run([tl.PYTHON, "-c", code], env=e, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=30)
        err = r.stderr.decode()
        self.assertEqual(r.returncode, 0, err)
        self.assertEqual(r.stdout.decode().split(), ["False", "False", "0", "''", "None"])
        self.assertEqual(err.count("RuntimeWarning"), 1, err)
        self.assertIn("/nonexistent/libnctop.so", err)
        self.assertIn("NCTOP_STRICT", err)

    def test_issue_11_strict_keeps_the_error(self):
        e = tl.env()
        e["NCTOP_LIB"] = "/nonexistent/libnctop.so"
        e["NCTOP_STRICT"] = "1"
        r = subprocess.run([tl.PYTHON, "-c", "import nctop"], env=e, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=30)
        self.assertNotEqual(r.returncode, 0)
        err = r.stderr.decode()
        self.assertIn("LibraryNotFound", err)
        self.assertIn("/nonexistent/libnctop.so", err)
        self.assertIn("NCTOP_LIB", err)

    def test_issue_11_version_diagnoses_without_traceback(self):
        e = tl.env()
        e["NCTOP_LIB"] = "/nonexistent/libnctop.so"
        r = subprocess.run([tl.PYTHON, "-m", "nctop", "--version"], env=e,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
        err = r.stderr.decode()
        self.assertEqual(r.returncode, 1)
        self.assertNotIn("Traceback", err)
        self.assertIn("not loaded", r.stdout.decode())
        self.assertIn("/nonexistent/libnctop.so (absent)", err)

    def test_issue_11_script_label_is_the_script_name(self):
        # Every Python program is "python3" to the kernel; nctop shows the script instead.
        with tempfile.TemporaryDirectory() as tmp:
            script = os.path.join(tmp, "my_train.py")
            with open(script, "w") as f:
                f.write("import nctop\nwith nctop.span('step'):\n    pass\n")
            proc = tl.under_nctop([tl.PYTHON, "-X", "utf8", "-u", script, "--epochs", "1"])
        self.assertEqual(proc["label"], "my_train.py")

    def test_import_without_torch(self):
        r = subprocess.run([tl.PYTHON, "-c", "import sys, nctop; print('torch' in sys.modules)"],
                           env=tl.env(), stdout=subprocess.PIPE, timeout=30)
        self.assertEqual(r.stdout.decode().strip(), "False")


class SpanTest(unittest.TestCase):
    def test_names_are_cached(self):
        a = nctop.name("cached-name")
        self.assertGreater(a, 0)
        self.assertEqual(nctop.name("cached-name"), a)
        self.assertIs(nctop.span("cached-name"), nctop.span("cached-name"))
        self.assertEqual(nctop.name(""), 0)

    def test_decorator_keeps_function(self):
        @nctop.span("deco")
        def f(x, y=2):
            """doc"""
            return x * y
        self.assertEqual(f(3), 6)
        self.assertEqual(f.__name__, "f")
        self.assertEqual(f.__doc__, "doc")
        self.assertEqual(nctop._stack(), [])

    def test_exception_unwinds_stack(self):
        with self.assertRaises(KeyError):
            with nctop.span("a"):
                nctop._open(nctop.span("b"))
                nctop._open(nctop.span("c"))
                raise KeyError("x")
        self.assertEqual(nctop._stack(), [])

    def test_close_of_unknown_span_does_nothing(self):
        with nctop.span("a"):
            nctop._close(nctop.span("never-opened"))
            self.assertEqual([s.name for s in nctop._stack()], ["a"])
        self.assertEqual(nctop._stack(), [])

    def test_stacks_are_per_thread(self):
        seen = []
        with nctop.span("main-thread"):
            t = threading.Thread(target=lambda: seen.append(list(nctop._stack())))
            t.start()
            t.join()
        self.assertEqual(seen, [[]])

    def test_gauge_kind_checked(self):
        with self.assertRaises(ValueError):
            nctop.gauge("bad", "nonsense")


class WorkloadTest(unittest.TestCase):
    """api_workload.py under the real nctop."""

    @classmethod
    def setUpClass(cls):
        cls.proc = tl.under_nctop([tl.PYTHON, os.path.join(tl.HERE, "api_workload.py")])
        cls.lat = tl.rows(cls.proc, "latency")
        cls.mem = tl.rows(cls.proc, "memory")

    def test_label_and_health(self):
        self.assertEqual(self.proc["label"], "api_workload")
        self.assertEqual(self.proc["invalid"], 0)
        self.assertEqual(self.proc["dropped"], 0)

    def test_span_tree(self):
        n = 20
        self.assertEqual(tl.count(self.lat.get("outer")), n)
        self.assertEqual(tl.count(self.lat.get("outer/inner")), n)
        self.assertEqual(tl.count(self.lat.get("outer/inner/decorated")), n)
        self.assertEqual(tl.count(self.lat.get("outer/bare")), n)
        self.assertEqual(tl.count(self.lat.get("guard")), n)
        self.assertEqual(tl.count(self.lat.get("guard/doomed")), n)
        self.assertEqual(tl.count(self.lat.get("thread_step")), 3 * n)
        self.assertEqual(tl.count(self.lat.get("thread_step/inner")), 3 * n)
        self.assertLessEqual(self.lat["outer/inner"]["total"]["total_ms"],
                             self.lat["outer"]["total"]["total_ms"])

    def test_status_and_attributes(self):
        # a body that raised ends failed with the exception; fail() fails the open instance
        self.assertEqual(self.lat["guard"]["failed"], 20)
        self.assertEqual(self.lat["guard"]["ok"], 0)
        self.assertEqual(self.lat["guard"]["last_error"], "RuntimeError: boom")
        self.assertEqual((self.lat["compile"]["ok"], self.lat["compile"]["failed"]), (2, 1))
        self.assertEqual(tl.count(self.lat.get("compile/partition")), 3)
        comp = [c for c in self.proc["compilations"] if c["name"] == "compile"]
        self.assertEqual(len(comp), 3, self.proc["compilations"])
        got = sorted((c["attributes"].get("model"), c["attributes"].get("target"), c["status"],
                      c["message"]) for c in comp)
        self.assertEqual(got, [("net0", "loihi2", "ok", None), ("net1", "loihi2", "ok", None),
                               ("net2", "loihi2", "error",
                                "does not fit: 9000 neurons > 8192 per core")])

    def test_kernels(self):
        k = {(r["backend"], r["name"]): r for r in self.proc["kernels"]}
        self.assertEqual(tl.count(k.get(("cpu", "matmul"))), 20)
        self.assertEqual(tl.count(k.get(("cuda", "late"))), 1)
        self.assertAlmostEqual(k[("cuda", "late")]["total"]["total_ms"], 0.005, places=4)

    def test_memory_counters_steps(self):
        self.assertEqual(self.mem["Model Weights"]["bytes"], 4096 + 8192)
        self.assertEqual(self.mem["Model Weights/layers/1/proj"]["bytes"], 8192)
        self.assertNotIn("Model Weights/gone", self.mem)
        self.assertEqual(self.mem["Memory Pools/scratch"]["bytes"], 20000)
        self.assertEqual(self.mem["Memory Pools/scratch"]["capacity_bytes"], 1 << 20)
        self.assertEqual(self.mem["KV Cache/kv"]["bytes"], 2000)
        self.assertEqual(self.proc["counters"]["tokens"], 20)
        self.assertEqual(self.proc["counters"]["hits"], 40)
        self.assertEqual(self.proc["ttft_ms"]["total"]["count"], 1)
        self.assertEqual(self.proc["itl_ms"]["total"]["count"], 19)


class RequestsTest(unittest.TestCase):
    """Issue 11: request ids from Python, two requests in flight at once on two threads."""

    def test_issue_11_concurrent_requests(self):
        code = ("import threading, time, nctop\n"
                "nctop.set_label('py_serve')\n"
                "def serve(rid):\n"
                "    nctop.request_begin(rid)\n"
                "    nctop.prompt_tokens(16, rid)\n"
                "    time.sleep(0.1)\n"
                "    for _ in range(5):\n"
                "        nctop.token(1, rid)\n"
                "        time.sleep(0.02)\n"
                "    nctop.request_end(rid, nctop.REQUEST_FAILED if rid == 2 else "
                "nctop.REQUEST_OK)\n"
                "ts = [threading.Thread(target=serve, args=(i,)) for i in (1, 2)]\n"
                "[t.start() for t in ts]\n"
                "[t.join() for t in ts]\n")
        proc = tl.under_nctop([tl.PYTHON, "-c", code])
        req = proc["requests"]
        self.assertEqual(req["finished"], 1)
        self.assertEqual(req["failed"], 1)
        self.assertEqual(req["running"], 0)
        self.assertEqual(req["prompt_tokens"], 32)
        self.assertEqual(req["generation_tokens"], 10)
        self.assertEqual(proc["ttft_ms"]["total"]["count"], 2)
        self.assertEqual(proc["itl_ms"]["total"]["count"], 8)
        self.assertEqual(req["e2e_ms"]["total"]["count"], 2)
        # Each request's own first token: about 100 ms, never the other thread's gap.
        self.assertGreaterEqual(proc["ttft_ms"]["total"]["min_ms"], 99)


if __name__ == "__main__":
    unittest.main()
