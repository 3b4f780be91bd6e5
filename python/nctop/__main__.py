# SPDX-License-Identifier: MIT
"""python3 -m nctop: the package's version and the libnctop it loads."""

import argparse
import sys


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python3 -m nctop",
                                 description="Python bindings of libnctop, for nctop(1).")
    ap.add_argument("-V", "--version", action="store_true",
                    help="print the package version, the library version and its path")
    args = ap.parse_args(argv)
    try:
        import nctop
    except ImportError as e:
        print(e, file=sys.stderr)
        return 1
    if args.version:
        print("nctop (Python) %s, libnctop %s at %s" %
              (nctop.__version__, nctop.library_version(), nctop.library_path()))
        return 0
    ap.print_help()
    return 0


if __name__ == "__main__":
    sys.exit(main())
