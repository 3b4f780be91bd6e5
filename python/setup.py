# SPDX-License-Identifier: MIT
"""Build hook for `pip install ./python`: when the nctop sources sit beside this directory, the
package ships the libnctop it needs, compiled from them (libc and pthreads only), so an
installed package works without `make install`. Without the sources it installs the Python
code alone and finds the library where `make install` put it (see nctop/__init__.py)."""

import glob
import os
import shlex
import subprocess
import sysconfig

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.dist import Distribution

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
SDK = sorted(glob.glob(os.path.join(TOP, "src", "libnctop", "*.c")))


class BuildPyWithLib(build_py):
    def run(self) -> None:
        super().run()
        self.build_fast()
        if not SDK:
            return
        out = os.path.join(self.build_lib, "nctop", "libnctop.so.0")
        cc = shlex.split(os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc")
        cmd = cc + ["-std=c11", "-O2", "-fPIC", "-shared", "-fvisibility=hidden",
                    "-D_GNU_SOURCE", "-I" + os.path.join(TOP, "include"),
                    "-I" + os.path.join(TOP, "src"), "-Wl,-soname,libnctop.so.0",
                    "-o", out] + SDK + ["-lpthread"]
        self.announce("building " + out, level=2)
        subprocess.check_call(cmd)

    def build_fast(self) -> None:
        """nctop._fast, the package's span calls in C, when Python's headers are there
        (Debian: python3-dev); without it the package uses ctypes."""
        inc = sysconfig.get_paths().get("include") or ""
        src = os.path.join(HERE, "nctop", "_fast.c")
        if not os.path.exists(os.path.join(inc, "Python.h")) or not os.path.exists(src):
            self.announce("nctop._fast not built: no Python.h (python3-dev)", level=2)
            return
        out = os.path.join(self.build_lib, "nctop",
                           "_fast" + (sysconfig.get_config_var("EXT_SUFFIX") or ".so"))
        cc = shlex.split(os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc")
        self.announce("building " + out, level=2)
        subprocess.check_call(cc + ["-std=c11", "-O2", "-fPIC", "-shared",
                                    "-fvisibility=hidden", "-isystem", inc, "-o", out, src])


class BinaryDistribution(Distribution):
    """The wheel holds a shared library: tag it for this platform, not as pure Python."""

    def has_ext_modules(self) -> bool:
        return True  # libnctop.so.0 (with the SDK's sources) and nctop._fast


setup(cmdclass={"build_py": BuildPyWithLib}, distclass=BinaryDistribution)
