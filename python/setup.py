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


class BinaryDistribution(Distribution):
    """The wheel holds a shared library: tag it for this platform, not as pure Python."""

    def has_ext_modules(self) -> bool:
        return bool(SDK)


setup(cmdclass={"build_py": BuildPyWithLib}, distclass=BinaryDistribution)
