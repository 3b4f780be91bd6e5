# SPDX-License-Identifier: MIT
"""Where `make install` put libnctop. The source tree keeps None; the installed copy of this
file is rewritten by `make install` with the real directory."""

LIBDIR = None  # type: Optional[str]
