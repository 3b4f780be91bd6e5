# SPDX-License-Identifier: MIT
"""A torch-free workload for test_api: every call of the base package, with known counts."""

import threading
import time

import nctop

N = 20


@nctop.span("decorated")
def decorated(x: int) -> int:
    return x + 1


@nctop.span
def bare() -> None:
    pass


def main() -> None:
    nctop.set_label("api_workload")
    outer, inner = nctop.span("outer"), nctop.span("inner")
    pool = nctop.gauge("scratch", "pool", capacity=1 << 20)
    kv = nctop.gauge("kv", "kv_cache", capacity=4096)
    hits = nctop.counter("hits")
    nctop.weight("layers.0.proj.weight", 4096)
    nctop.weight("layers.1.proj.weight", 8192)
    nctop.weight("gone", 100)
    nctop.weight("gone", 0)
    nctop.request_begin()
    for i in range(N):
        with outer:
            with inner:
                decorated(i)
            with nctop.kernel_timer("matmul"):
                sum(range(1000))
            bare()
        nctop.token()
        hits.add(2)
        pool.set(1000 * (i + 1))
        kv.set(100 * (i + 1))
    nctop.request_end()
    t0 = nctop.now_ns()
    nctop.kernel("late", t0, 5000, backend="cuda")

    # An exception leaves "doomed" open inside "guard"; leaving "guard" closes it too.
    for _ in range(N):
        try:
            with nctop.span("guard"):
                nctop._open(nctop.span("doomed"))
                raise RuntimeError("boom")
        except RuntimeError:
            pass

    # Spans with a status and attributes: 3 compilations, the last one failed by fail().
    compile_ = nctop.span("compile")
    for i in range(3):
        with compile_:
            compile_.attr("model", "net%d" % i)
            compile_.attr("target", "loihi2")
            with nctop.span("partition"):
                if i == 2:
                    compile_.fail("does not fit: 9000 neurons > 8192 per core")

    def worker() -> None:
        nctop.thread_name("worker")
        for _ in range(N):
            with nctop.span("thread_step"):
                with inner:
                    pass

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # A workload this short can exit before nctop's first scan, and the reader then takes the
    # exited child's segment for a leftover (collectors/ring.c): outlive that scan.
    time.sleep(0.3)


if __name__ == "__main__":
    main()
