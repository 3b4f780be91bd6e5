# SPDX-License-Identifier: MIT
"""Models for test_torch, run under nctop: shared submodules, exceptions inside forward,
threads, and the autograd modes. Each case gets its own root span name."""

import threading
import time

import torch
from torch import nn

import nctop
import nctop.torch

N = 12          # calls per case
THREADS = 4


class Inner(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)

    def forward(self, x):
        return torch.relu(self.fc(x))


class Shared(nn.Module):
    """One Inner reachable under two names and called twice; tied weights."""

    def __init__(self):
        super().__init__()
        self.first = Inner()
        self.second = self.first
        self.embed = nn.Embedding(16, 8)
        self.head = nn.Linear(8, 16, bias=False)
        self.head.weight = self.embed.weight

    def forward(self, x):
        return self.head(self.second(self.first(x)))


class Boom(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)
        self.armed = False

    def forward(self, x):
        y = self.fc(x)
        if self.armed:
            raise ValueError("boom")
        return y


class Catcher(nn.Module):
    """Swallows its child's exception, then carries on."""

    def __init__(self):
        super().__init__()
        self.boom = Boom()
        self.after = nn.Linear(8, 8)

    def forward(self, x):
        try:
            x = self.boom(x)
        except ValueError:
            pass
        return self.after(x)


class Raiser(nn.Module):
    def __init__(self):
        super().__init__()
        self.pre = nn.Linear(8, 8)
        self.catcher = Catcher()
        self.boom = Boom()
        self.post = nn.Linear(8, 8)

    def forward(self, x):
        return self.post(self.boom(self.catcher(self.pre(x))))


class Small(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(8, 8)
        self.b = nn.Sequential(nn.Linear(8, 8), nn.ReLU())

    def forward(self, x):
        return self.b(self.a(x))


def shared_case():
    m = Shared()
    nctop.torch.instrument(m, name="shared", weights_prefix="shared.")
    x = torch.randn(2, 8)
    for _ in range(N):
        with nctop.span("case_shared"):
            m(x)


def exception_case():
    m = Raiser()
    nctop.torch.instrument(m, name="raiser", weights=False)
    x = torch.randn(2, 8)
    for i in range(N):
        m.catcher.boom.armed = True          # caught inside catcher
        m.boom.armed = i % 2 == 1            # escapes on odd calls
        try:
            with nctop.span("case_exc"):
                m(x)
        except ValueError:
            pass
    # Escaping with no span of the caller's around it: the root's guard closes everything.
    for i in range(N):
        m.boom.armed = i % 2 == 1
        try:
            m(x)
        except ValueError:
            pass
    assert nctop._stack() == [], nctop._stack()


def thread_case():
    m = Small()
    nctop.torch.instrument(m, name="threaded", weights=False)
    barrier = threading.Barrier(THREADS)

    def work():
        x = torch.randn(2, 8)
        barrier.wait()
        for _ in range(N):
            with nctop.span("case_threads"):
                m(x)

    ts = [threading.Thread(target=work) for _ in range(THREADS)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()


def modes_case():
    m = Small()
    nctop.torch.instrument(m, name="modes", weights=False)
    x = torch.randn(2, 8, requires_grad=True)
    with nctop.span("case_train"):
        m.train()
        m(x).sum().backward()
    with nctop.span("case_nograd"):
        m.eval()
        with torch.no_grad():
            m(x)
    with nctop.span("case_inference"):
        with torch.inference_mode():
            m(x)


def main():
    nctop.set_label("torch_workload")
    torch.manual_seed(0)
    shared_case()
    exception_case()
    thread_case()
    modes_case()
    time.sleep(0.2)  # outlive nctop's first scan even on a fast machine


if __name__ == "__main__":
    main()
