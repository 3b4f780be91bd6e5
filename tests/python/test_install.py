# SPDX-License-Identifier: MIT
"""Installing the package as a user would: `make install` into a prefix (the package then
finds the installed libnctop by itself), and `pip install ./python` offline."""

import os
import shutil
import subprocess
import tempfile
import unittest

import sysconfig

import nctop_testlib as tl

# make built nctop._fast (Python's headers are there): make install and pip install ship it.
FAST_BUILT = os.path.exists(os.path.join(sysconfig.get_paths().get("include") or "", "Python.h"))


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
        if FAST_BUILT:
            self.assertIn("C fast path", r.stdout.decode())

        # A package installed on its own (no library inside, no recorded LIBDIR) finds the
        # library beside the nctop on PATH, whatever PREFIX make install used.
        target = self._pip_install(self._copy_tree(with_sources=False))
        self.assertFalse(os.path.exists(os.path.join(target, "nctop", "libnctop.so.0")))
        r = subprocess.run([tl.PYTHON, "-m", "nctop", "--version"], cwd=self.tmp,
                           env=clean_env(PYTHONPATH=target, PATH=os.path.join(prefix, "bin") +
                                         os.pathsep + os.environ.get("PATH", "")),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        self.assertIn(os.path.join(prefix, "lib", "libnctop.so.0"), r.stdout.decode())

    def _copy_tree(self, with_sources: bool) -> str:
        """A copy of what `pip install ./python` sees: python/, and with_sources the SDK's
        sources beside it as in a checkout."""
        top = os.path.join(self.tmp, "top-src" if with_sources else "top")
        shutil.copytree(os.path.join(tl.ROOT, "python"), os.path.join(top, "python"),
                        ignore=shutil.ignore_patterns("__pycache__", "build", "*.egg-info"))
        if with_sources:
            shutil.copytree(os.path.join(tl.ROOT, "include"), os.path.join(top, "include"))
            shutil.copytree(os.path.join(tl.ROOT, "src", "libnctop"),
                            os.path.join(top, "src", "libnctop"))
        return os.path.join(top, "python")

    def _pip_install(self, src: str) -> str:
        target = os.path.join(self.tmp, "site-" + os.path.basename(os.path.dirname(src)))
        r = subprocess.run([tl.PYTHON, "-m", "pip", "install", "--no-build-isolation",
                            "--no-deps", "--no-index", "--disable-pip-version-check",
                            "--target", target, src], cwd=self.tmp, env=clean_env(),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=180)
        self.assertEqual(r.returncode, 0, r.stdout.decode()[-1500:])
        return target

    def test_issue_11_pip_install_ships_its_library(self):
        # From a checkout, pip builds libnctop into the package: nothing else to install.
        target = self._pip_install(self._copy_tree(with_sources=True))
        lib = os.path.join(target, "nctop", "libnctop.so.0")
        self.assertTrue(os.path.exists(lib))
        r = subprocess.run([tl.PYTHON, "-m", "nctop", "--version"], cwd=self.tmp,
                           env=clean_env(PYTHONPATH=target, PATH="/usr/bin:/bin"),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        self.assertIn(lib, r.stdout.decode())
        if FAST_BUILT:
            self.assertIn("C fast path", r.stdout.decode())

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
