# SPDX-License-Identifier: MIT
"""Shared helpers of the Python tests: where things are, and running a command under the real
nctop to read back its JSON snapshot."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from typing import Any, Dict, List, Optional

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("BUILD", "build")
if not os.path.isabs(BUILD):
    BUILD = os.path.join(ROOT, BUILD)
NCTOP = os.path.join(BUILD, "nctop")
LIB = os.path.join(BUILD, "lib", "libnctop.so")
PYTHON = "/usr/bin/python3"
EXAMPLE = os.path.join(ROOT, "python", "examples", "gpt_decode.py")
HERE = os.path.dirname(os.path.abspath(__file__))

# The package under test: the source tree's, with the library of this build.
sys.path.insert(0, os.path.join(ROOT, "python"))
os.environ.setdefault("NCTOP_LIB", LIB)
os.environ.setdefault("OMP_NUM_THREADS", "1")


def have_torch() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def env() -> Dict[str, str]:
    e = dict(os.environ)
    e["PYTHONPATH"] = os.path.join(ROOT, "python") + os.pathsep + HERE
    e["NCTOP_LIB"] = LIB
    e["OMP_NUM_THREADS"] = "1"
    return e


def _run_once(argv: List[str], timeout: float) -> Dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        out, log = os.path.join(tmp, "snap.json"), os.path.join(tmp, "debug.log")
        r = subprocess.run([NCTOP, "--once", "--json", "--duration", str(timeout), "-o", out,
                            "--debug-log", log, "--"] + argv,
                           env=env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=timeout + 10)
        if r.returncode != 0 or not os.path.exists(out):
            with open(log) as f:
                debug = f.read()[-1500:]
            raise AssertionError("nctop -- %s: status %d: %s; debug log: %s" %
                                 (" ".join(argv), r.returncode, r.stdout.decode()[-2000:], debug))
        with open(out) as f:
            d = json.load(f)
    procs = d["processes"]
    if len(procs) != 1:
        raise AssertionError("expected one process, got %r" % [p["label"] for p in procs])
    return procs[0]


def under_nctop(argv: List[str], timeout: float = 60) -> Dict[str, Any]:
    """Run argv under `nctop --once --json -o FILE --` and return its one process's snapshot.
    Raises AssertionError with the command's output when something goes wrong. Tries twice:
    other users of this machine create and remove segments in /dev/shm while nctop scans."""
    try:
        return _run_once(argv, timeout)
    except AssertionError as e:
        first = str(e).splitlines()[0]
    try:
        return _run_once(argv, timeout)
    except AssertionError as e:
        raise AssertionError("%s (first attempt: %s)" % (e, first)) from None


def rows(proc: Dict[str, Any], view: str) -> Dict[str, Dict[str, Any]]:
    return {r["path"]: r for r in proc[view]}


def count(row: Optional[Dict[str, Any]]) -> int:
    return row["total"]["count"] if row else 0
