# SPDX-License-Identifier: MIT
"""Installing the package as a user would: `make install` into a prefix (the package then
finds the installed libnctop by itself), and `pip install ./python` offline."""

import os
import shutil
import subprocess
import tempfile
import unittest

import nctop_testlib as tl


def clean_env(**extra):
    e = {k: v for k, v in os.environ.items()
         if k not in ("NCTOP_LIB", "PYTHONPATH", "LD_LIBRARY_PATH")}
    e.update(extra)
    return e


class InstallTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="nctop-py-install.")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)

    def test_make_install_finds_its_library(self):
        prefix = os.path.join(self.tmp, "prefix")
        r = subprocess.run(["make", "-C", tl.ROOT, "--no-print-directory", "-s", "install",
                            "BUILD=" + os.path.relpath(tl.BUILD, tl.ROOT), "PREFIX=" + prefix],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
        self.assertEqual(r.returncode, 0, r.stdout.decode()[-1500:])
        site = [os.path.join(prefix, "lib", d, "dist-packages")
                for d in os.listdir(os.path.join(prefix, "lib")) if d.startswith("python3")]
        self.assertEqual(len(site), 1, site)
        # From an unrelated directory, no NCTOP_LIB, no LD_LIBRARY_PATH.
        r = subprocess.run([tl.PYTHON, "-m", "nctop", "--version"], cwd=self.tmp,
                           env=clean_env(PYTHONPATH=site[0]), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        self.assertIn(os.path.join(prefix, "lib", "libnctop.so"), r.stdout.decode())

    def test_pip_install_offline(self):
        src = os.path.join(self.tmp, "src")
        shutil.copytree(os.path.join(tl.ROOT, "python"), src,
                        ignore=shutil.ignore_patterns("__pycache__", "build", "*.egg-info"))
        target = os.path.join(self.tmp, "site")
        r = subprocess.run([tl.PYTHON, "-m", "pip", "install", "--no-build-isolation",
                            "--no-deps", "--no-index", "--disable-pip-version-check",
                            "--target", target, src], cwd=self.tmp, env=clean_env(),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
        self.assertEqual(r.returncode, 0, r.stdout.decode()[-1500:])
        self.assertTrue(os.path.exists(os.path.join(target, "nctop", "torch.py")))
        r = subprocess.run([tl.PYTHON, "-m", "nctop", "--version"], cwd=self.tmp,
                           env=clean_env(PYTHONPATH=target, NCTOP_LIB=tl.LIB),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        self.assertIn("nctop (Python) 0.1.0", r.stdout.decode())


if __name__ == "__main__":
    unittest.main()
