# SPDX-License-Identifier: MIT
"""python3 -m nctop: the package's version, the libnctop it loads, and what is wrong when it
cannot load one."""

import argparse
import os
import shutil
import sys
import warnings


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python3 -m nctop",
                                 description="Python bindings of libnctop, for nctop(1).")
    ap.add_argument("-V", "--version", action="store_true",
                    help="print the package version, the library version and its path")
    args = ap.parse_args(argv)
    with warnings.catch_warnings():
        # The import's own warning is what --version reports, in its own words.
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            import nctop
        except ImportError as e:  # NCTOP_STRICT=1 and no library
            print(e, file=sys.stderr)
            return 1
    if not args.version:
        ap.print_help()
        return 0
    if not nctop.available():
        print("nctop (Python) %s, libnctop not loaded: every call is a no-op" % nctop.__version__)
        print(nctop.load_error(), file=sys.stderr)
        return 1
    print("nctop (Python) %s, libnctop %s at %s" %
          (nctop.__version__, nctop.library_version(), nctop.library_path()))
    print("spans: %s" % ("C fast path (nctop._fast)" if nctop.fast_path() else
                         "ctypes (nctop._fast not built: Python's headers, python3-dev)"))
    if not os.access("/dev/shm", os.W_OK):
        print("warning: /dev/shm is not writable: nothing can be published", file=sys.stderr)
    if shutil.which("nctop") is None:
        print("note: no nctop on PATH to watch this program (make install)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
