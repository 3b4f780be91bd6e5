# SPDX-License-Identifier: MIT
"""Python bindings of libnctop: publish spans, memory gauges, counters, step markers, kernel
records and weights to nctop(1) from a Python program.

    import nctop

    with nctop.span("step"):
        ...
    nctop.token()

Names are interned once and cached, so a span costs two ctypes calls. The C library is found
through $NCTOP_LIB, the directory recorded by `make install`, the copy `pip install` built
into the package, a build tree next to this package, the lib/ directory beside the `nctop` on
PATH, then the dynamic loader's normal search. Without it every call is a no-op and one
RuntimeWarning says why ($NCTOP_STRICT=1: ImportError instead). The module `nctop.torch` instruments
PyTorch models (it imports torch; this module does not).
"""

from __future__ import annotations

import ctypes
import functools
import os
import shutil
import threading
import warnings
from typing import Any, Callable, Dict, List, Optional, TypeVar

from . import _paths

__version__ = "0.1.0"

__all__ = [
    "LibraryNotFound", "Span", "Gauge", "Counter", "span", "name", "now_ns", "kernel",
    "kernel_timer", "weight", "gauge", "counter", "Value", "value", "set_attr", "request_begin", "token", "request_end",
    "prompt_tokens", "iteration", "mem_delta", "init", "shutdown", "set_label", "thread_name", "attached",
    "dropped", "library_version", "library_path", "available", "load_error", "fast_path",
]

MEM_POOL = 1
MEM_KV_CACHE = 2
MEM_OTHER = 3
MEM_DEVICE = 0x1

STEP_REQUEST_BEGIN = 1
STEP_TOKEN = 2
STEP_REQUEST_END = 3
STEP_ITERATION = 4
STEP_PROMPT_TOKENS = 5

REQUEST_OK = 0
REQUEST_FAILED = 1
REQUEST_CANCELLED = 2

_KINDS = {"pool": MEM_POOL, "kv_cache": MEM_KV_CACHE, "other": MEM_OTHER}


class LibraryNotFound(ImportError):
    """libnctop could not be loaded; the message says where it was looked for."""


def _truthy(v: Optional[str]) -> bool:
    return (v or "").strip().lower() in ("1", "true", "yes", "on")


def _candidates() -> List[str]:
    """Paths to try, most explicit first. A bare soname goes to the loader's own search
    (ld.so.cache, LD_LIBRARY_PATH, the default directories)."""
    out = []
    env = os.environ.get("NCTOP_LIB")
    if env:
        out.append(env)
    here = os.path.dirname(os.path.abspath(__file__))
    if _paths.LIBDIR:
        out.append(os.path.join(_paths.LIBDIR, "libnctop.so.0"))
        out.append(os.path.join(_paths.LIBDIR, "libnctop.so"))
    # The copy `pip install` built into the package, from the same sources.
    out.append(os.path.join(here, "libnctop.so.0"))
    # A build tree: python/nctop/ sits two levels below the top, next to build/lib/.
    out.append(os.path.join(here, "..", "..", "build", "lib", "libnctop.so"))
    # Wherever `make install` put nctop, for any PREFIX: <prefix>/bin/nctop and
    # <prefix>/lib/libnctop.so.0 (a build tree: build/nctop and build/lib/).
    exe = shutil.which("nctop")
    if exe:
        top = os.path.dirname(os.path.dirname(os.path.realpath(exe)))
        out.append(os.path.join(top, "lib", "libnctop.so.0"))
        out.append(os.path.join(os.path.dirname(os.path.realpath(exe)), "lib", "libnctop.so"))
    out.extend(["libnctop.so.0", "libnctop.so"])
    return out


# Every C function the package calls; a library that lacks one is older than the package.
_SYMBOLS = ("nctop_span_begin", "nctop_span_end", "nctop_name", "nctop_now_ns", "nctop_kernel",
            "nctop_gauge", "nctop_gauge_set", "nctop_weight_set", "nctop_mem_delta",
            "nctop_counter", "nctop_counter_add", "nctop_step", "nctop_attached",
            "nctop_dropped", "nctop_set_label", "nctop_thread_name", "nctop_version",
            "nctop_shutdown", "nctop_init", "nctop_request_begin", "nctop_request_prompt_tokens",
            "nctop_request_token", "nctop_request_end", "nctop_value", "nctop_value_set",
            "nctop_set_attr", "nctop_span_end_status", "nctop_span_attr")


def _load() -> "tuple[Any, Optional[str], str]":
    """(library, its path, "") or (None, None, why it could not be loaded)."""
    tried = []
    env_given = bool(os.environ.get("NCTOP_LIB"))
    seen = set()
    for i, path in enumerate(_candidates()):
        key = os.path.normpath(path) if os.sep in path else path
        if key in seen:
            continue
        seen.add(key)
        if os.sep in path and not os.path.exists(path):
            tried.append(path + " (absent)")
            if i == 0 and env_given:
                break
            continue
        try:
            lib = ctypes.CDLL(path)
        except OSError as e:
            tried.append("%s (%s)" % (path, e))
            if i == 0 and env_given:
                break
            continue
        missing = [sym for sym in _SYMBOLS if not hasattr(lib, sym)]
        if missing:
            tried.append("%s (lacks %s: older than this package)" % (path, missing[0]))
            if i == 0 and env_given:
                break
            continue
        return lib, os.path.normpath(path), ""
    return None, None, ("nctop: cannot load libnctop; tried: " + "; ".join(tried) +
                        ". Run `make install`, `pip install ./python` from the nctop sources,"
                        " or set NCTOP_LIB to the path of libnctop.so")


class _NullFn:
    """Stands in for a C function when libnctop is missing: does nothing, returns the
    restype's zero (0, or b"" for strings)."""

    __slots__ = ("restype", "argtypes")

    def __init__(self) -> None:
        self.restype: Any = ctypes.c_int
        self.argtypes: Any = None

    def __call__(self, *args: Any) -> Any:
        if self.restype is None:
            return None
        if self.restype is ctypes.c_char_p:
            return b""
        return 0


class _NullLib:
    def __getattr__(self, attr: str) -> _NullFn:
        return _NullFn()


_lib, _lib_path, _load_error = _load()
if _lib is None:
    if _truthy(os.environ.get("NCTOP_STRICT")):
        raise LibraryNotFound(_load_error)
    # A program that publishes to nctop must not fail because nctop is absent: every call
    # becomes a no-op, and this says so once (NCTOP_STRICT=1 makes it an ImportError).
    warnings.warn(_load_error + "; nctop calls do nothing (NCTOP_STRICT=1 makes this an "
                  "error)", RuntimeWarning, stacklevel=2)
    _lib = _NullLib()


def available() -> bool:
    """True when libnctop was loaded (False: every call is a no-op; see load_error())."""
    return _lib_path is not None


def load_error() -> str:
    """Why libnctop could not be loaded ("" when it was)."""
    return _load_error


def _fn(cname: str, restype: Any, argtypes: Optional[list]) -> Any:
    f = getattr(_lib, cname)
    f.restype = restype
    if argtypes is not None:
        f.argtypes = argtypes
    return f


_u32, _u64, _i64 = ctypes.c_uint32, ctypes.c_uint64, ctypes.c_int64

# The event-path calls taking only small ids keep argtypes unset: ctypes then passes a Python
# int as a C int, which the x86-64 and AArch64 ABIs read back as the uint32_t id, and the call
# costs about half as much. Ids come from nctop_name() and are far below 2**31.
_span_begin = _fn("nctop_span_begin", None, None)
_span_end = _fn("nctop_span_end", None, None)
_span_end_status = _fn("nctop_span_end_status", None, [_u32, _u32])
_span_attr = _fn("nctop_span_attr", None, [_u32, _u32])
_name = _fn("nctop_name", _u32, [ctypes.c_char_p])
_now_ns = _fn("nctop_now_ns", _u64, [])
_kernel = _fn("nctop_kernel", None, [_u32, _u32, _u64, _u64])
_gauge = _fn("nctop_gauge", _u32, [ctypes.c_char_p, ctypes.c_int, ctypes.c_uint])
_gauge_set = _fn("nctop_gauge_set", None, [_u32, _u64, _u64])
_weight_set = _fn("nctop_weight_set", ctypes.c_int, [ctypes.c_char_p, _u64, ctypes.c_uint])
_mem_delta = _fn("nctop_mem_delta", None, [_i64])
_counter = _fn("nctop_counter", _u32, [ctypes.c_char_p])
_counter_add = _fn("nctop_counter_add", None, [_u32, _u64])
_value = _fn("nctop_value", _u32, [ctypes.c_char_p, ctypes.c_char_p])
_value_set = _fn("nctop_value_set", None, [_u32, ctypes.c_double])
_set_attr = _fn("nctop_set_attr", ctypes.c_int, [ctypes.c_char_p, ctypes.c_char_p])
_step = _fn("nctop_step", None, [ctypes.c_int, _u64])
_request_begin = _fn("nctop_request_begin", None, [_u64])
_request_prompt_tokens = _fn("nctop_request_prompt_tokens", None, [_u64, _u64])
_request_token = _fn("nctop_request_token", None, [_u64, _u64])
_request_end = _fn("nctop_request_end", None, [_u64, ctypes.c_int])
_attached = _fn("nctop_attached", ctypes.c_int, [])
_dropped = _fn("nctop_dropped", _u64, [])
_set_label = _fn("nctop_set_label", ctypes.c_int, [ctypes.c_char_p])
_thread_name = _fn("nctop_thread_name", ctypes.c_int, [ctypes.c_char_p])
_version = _fn("nctop_version", ctypes.c_char_p, [])
_shutdown = _fn("nctop_shutdown", None, [])


class _Opts(ctypes.Structure):
    _fields_ = [("sz", ctypes.c_size_t), ("label", ctypes.c_char_p),
                ("ring_bytes", ctypes.c_size_t), ("max_threads", ctypes.c_uint)]


_init = _fn("nctop_init", ctypes.c_int, [ctypes.POINTER(_Opts)])


def _check(rc: int, what: str) -> None:
    if rc < 0:
        raise OSError(-rc, "nctop: %s: %s" % (what, os.strerror(-rc)))


# --- names ---------------------------------------------------------------------------------

_names: Dict[str, int] = {}
_names_lock = threading.Lock()


def name(text: str) -> int:
    """The id of an interned name (cached: the C call happens once per string). Returns 0 when
    libnctop refuses it (empty, longer than 1023 bytes, string table full); 0 is ignored by
    every event call."""
    nid = _names.get(text)
    if nid is None:
        with _names_lock:
            nid = _names.get(text)
            if nid is None:
                nid = _name(text.encode("utf-8"))
                if nid:
                    _names[text] = nid
    return nid


# --- spans ---------------------------------------------------------------------------------
# libnctop requires every end to name the innermost open span of its thread. A Python
# exception can skip an end (a forward post-hook does not run when forward raises), so each
# thread keeps a stack of what it opened: closing an entry first closes whatever was left open
# above it, and closing one that is not on the stack emits nothing.

_tls = threading.local()


def _stack() -> List[Any]:
    try:
        return _tls.stack
    except AttributeError:
        st: List[Any] = []
        _tls.stack = st
        return st


def _open(site: Any) -> None:
    """Push site (anything with an `id` attribute) and begin its span."""
    try:
        st = _tls.stack
    except AttributeError:
        st = _stack()
    st.append(site)
    _span_begin(site.id)


class _Marked:
    """A stack entry whose span ends with a status: fail() gave it an error (status = the
    message's id), attr() made it an instance (status 0 = ok). It stands in for its site, so
    the plain path (`st[-1] is site`) misses it and the slow path below ends it."""

    __slots__ = ("site", "id", "status")

    def __init__(self, site: Any, status: int) -> None:
        self.site, self.id, self.status = site, site.id, status


def _is(entry: Any, site: Any) -> bool:
    return entry is site or (type(entry) is _Marked and entry.site is site)


def _end(entry: Any, status: int = 0) -> None:
    if type(entry) is _Marked:
        _span_end_status(entry.id, status or entry.status)
    elif status:
        _span_end_status(entry.id, status)
    else:
        _span_end(entry.id)


def _close(site: Any, status: int = 0) -> None:
    """End site's innermost open span on this thread, and every span left open above it;
    status (a name id, 0 = ok) is the status site's span ends with."""
    try:
        st = _tls.stack
    except AttributeError:
        return
    if st and st[-1] is site and not status:
        st.pop()
        _span_end(site.id)
        return
    for i in range(len(st) - 1, -1, -1):
        if _is(st[i], site):
            while len(st) > i + 1:
                _end(st.pop())
            _end(st.pop(), status)
            return


def _status_of(exc: BaseException) -> int:
    """The status a span ends with when its body raised: "Type: message", first line."""
    text = ("%s: %s" % (type(exc).__name__, exc)).splitlines()[0] if str(exc) else \
        type(exc).__name__
    return name(text[:200])


def _unwind(depth: int) -> None:
    """End every span this thread opened above stack depth `depth`."""
    st = _stack()
    while len(st) > depth:
        _end(st.pop())


# --- the hot paths in C ----------------------------------------------------------------------
# nctop._fast, when it was built (make: build/python/nctop/; make install and pip install put it
# beside this file), replaces the two ctypes span calls with C calls into the same library
# (it is handed the addresses ctypes found) and gives nctop.torch a wrapper written in C.
# NCTOP_NO_FAST=1 keeps the ctypes path.

def _load_fast() -> Any:
    if _lib_path is None or _truthy(os.environ.get("NCTOP_NO_FAST")):
        return None
    mod = None
    try:
        from . import _fast as mod  # type: ignore[no-redef]
    except ImportError:
        import importlib.machinery
        import importlib.util
        import sysconfig
        here = os.path.dirname(os.path.abspath(__file__))
        path = os.path.join(here, "..", "..", "build", "python", "nctop",
                            "_fast" + (sysconfig.get_config_var("EXT_SUFFIX") or ".so"))
        if not os.path.exists(path):
            return None
        try:
            loader = importlib.machinery.ExtensionFileLoader(__name__ + "._fast", path)
            spec = importlib.util.spec_from_file_location(__name__ + "._fast", path,
                                                          loader=loader)
            if spec is None:
                return None
            mod = importlib.util.module_from_spec(spec)
            loader.exec_module(mod)
        except (ImportError, OSError):
            return None
    addr = [ctypes.cast(getattr(_lib, f), ctypes.c_void_p).value
            for f in ("nctop_span_begin", "nctop_span_end")]
    if not all(addr):
        return None
    mod.bind(addr[0], addr[1], _tls, _stack, _close)
    return mod


_fast = _load_fast()
if _fast is not None:
    _span_begin, _span_end = _fast.span_begin, _fast.span_end


def fast_path() -> bool:
    """True when spans go through the C fast path (nctop._fast), False on the ctypes path."""
    return _fast is not None


F = TypeVar("F", bound=Callable[..., Any])


class Span:
    """A named span: a context manager (`with s:`) and a decorator (`@s`). One object serves
    every thread and any depth of nesting; get it from span(), which caches it by name."""

    __slots__ = ("name", "id", "__weakref__")

    def __init__(self, text: str) -> None:
        self.name = text
        self.id = name(text)

    def __enter__(self) -> "Span":
        _open(self)
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        # A body that raised an Exception ends its span failed, the exception as the message.
        if exc_type is not None and issubclass(exc_type, Exception):
            _close(self, _status_of(exc))
        else:
            _close(self)

    def __call__(self, func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            _open(self)
            try:
                out = func(*args, **kwargs)
            except Exception as e:
                _close(self, _status_of(e))
                raise
            except BaseException:
                _close(self)
                raise
            _close(self)
            return out
        return wrapper  # type: ignore[return-value]

    def fail(self, message: str) -> None:
        """End this span's innermost open instance on this thread with an error status and
        message (when it ends: the `with` block or the decorated call goes on). nctop counts
        ok and failed ends per path and lists the instance (the Compile view)."""
        self._mark(name(message[:200]) or name("error"))

    def attr(self, key: str, attr_value: str) -> None:
        """An attribute of this span's innermost open instance (on this thread it must be the
        innermost open span), e.g. a compilation's model and target: outputs label the
        instance with it, and it ends with a status (ok unless it fails)."""
        st = getattr(_tls, "stack", None)
        if st and _is(st[-1], self):
            _span_attr(name(key), name(attr_value))
            self._mark(0)

    def _mark(self, status: int) -> None:
        st = getattr(_tls, "stack", None) or []
        for i in range(len(st) - 1, -1, -1):
            if _is(st[i], self):
                if type(st[i]) is _Marked:
                    st[i].status = status or st[i].status
                else:
                    st[i] = _Marked(self, status)
                return

    def __repr__(self) -> str:
        return "nctop.Span(%r)" % self.name


_spans: Dict[str, Span] = {}


def span(text: Any) -> Any:
    """`with nctop.span("name"):` or `@nctop.span("name")`; `@nctop.span` alone names the span
    after the function's qualified name."""
    if callable(text) and not isinstance(text, str):
        return span(text.__qualname__)(text)
    s = _spans.get(text)
    if s is None:
        s = _spans.setdefault(text, Span(text))
    return s


# --- time and kernels ----------------------------------------------------------------------

def now_ns() -> int:
    """libnctop's clock (CLOCK_MONOTONIC, ns): the time base of kernel records."""
    return _now_ns()


def kernel(kernel_name: str, start_ns: int, dur_ns: int, backend: str = "cpu") -> None:
    """Report one kernel execution that started at start_ns (now_ns() time) and lasted dur_ns.
    May be called late and from any thread (device timings resolve after the fact)."""
    _kernel(name(kernel_name), name(backend), start_ns, max(0, dur_ns))


class kernel_timer:
    """`with nctop.kernel_timer("matmul"):` reports the block's wall time as a kernel."""

    __slots__ = ("kid", "bid", "t0")

    def __init__(self, kernel_name: str, backend: str = "cpu") -> None:
        self.kid = name(kernel_name)
        self.bid = name(backend)
        self.t0 = 0

    def __enter__(self) -> "kernel_timer":
        self.t0 = _now_ns()
        return self

    def __exit__(self, *exc: Any) -> None:
        t1 = _now_ns()
        _kernel(self.kid, self.bid, self.t0, t1 - self.t0)


# --- memory --------------------------------------------------------------------------------

class Gauge:
    """A memory gauge: used bytes against a capacity (0 = none). kind is "pool", "kv_cache"
    or "other"; device=True when the memory is not in host RSS."""

    __slots__ = ("name", "handle", "capacity")

    def __init__(self, gauge_name: str, kind: str = "pool", capacity: int = 0,
                 device: bool = False) -> None:
        if kind not in _KINDS:
            raise ValueError("nctop: gauge kind must be one of %s" % ", ".join(_KINDS))
        self.name = gauge_name
        self.handle = _gauge(gauge_name.encode("utf-8"), _KINDS[kind],
                             MEM_DEVICE if device else 0)
        self.capacity = capacity

    def set(self, used: int, capacity: Optional[int] = None) -> None:
        """Publish used bytes (and a new capacity, if given). Any thread; no lock."""
        if capacity is not None:
            self.capacity = capacity
        _gauge_set(self.handle, max(0, used), self.capacity)


def gauge(gauge_name: str, kind: str = "pool", capacity: int = 0, device: bool = False) -> Gauge:
    """Register (or find again) a memory gauge."""
    return Gauge(gauge_name, kind, capacity, device)


def weight(path: str, nbytes: int, device: bool = False) -> None:
    """Register a weight tensor by dotted path ("layers.3.attn.q_proj.weight"); nctop builds
    the Model Weights tree from the dots. nbytes 0 unregisters it."""
    _check(_weight_set(path.encode("utf-8"), nbytes, MEM_DEVICE if device else 0),
           "weight " + path)


def mem_delta(nbytes: int) -> None:
    """Attribute an allocation (> 0) or release (< 0) to the span open on this thread."""
    _mem_delta(nbytes)


# --- counters and steps --------------------------------------------------------------------

class Counter:
    """A monotonic counter; nctop derives <name>_per_sec from it."""

    __slots__ = ("name", "handle")

    def __init__(self, counter_name: str) -> None:
        self.name = counter_name
        self.handle = _counter(counter_name.encode("utf-8"))

    def add(self, n: int = 1) -> None:
        _counter_add(self.handle, n)


def counter(counter_name: str) -> Counter:
    return Counter(counter_name)


class Value:
    """A floating-point value with a unit (an accuracy, a temperature, a measured power);
    nctop shows the latest one set. "energy_j" and "power_w" are measured energy and power."""

    __slots__ = ("name", "unit", "handle")

    def __init__(self, value_name: str, unit: str = "") -> None:
        self.name = value_name
        self.unit = unit
        self.handle = _value(value_name.encode("utf-8"), unit.encode("utf-8"))

    def set(self, v: float) -> None:
        _value_set(self.handle, float(v))


def value(value_name: str, unit: str = "") -> Value:
    """Register (or find again) a value by name (a dotted path makes a tree)."""
    return Value(value_name, unit)


def set_attr(key: str, attr_value: Optional[str]) -> None:
    """Declare a process attribute ("target", "chip", "model"); None or "" unsets it."""
    _check(_set_attr(key.encode("utf-8"), (attr_value or "").encode("utf-8")), "attribute " + key)


# Requests: with request_id (any int in 0 .. 2**64-1, unique among the requests in flight)
# several requests can be served at once, from any threads; without it, the calls are those
# of request 0, one request at a time, as before request ids.

def request_begin(request_id: Optional[int] = None) -> None:
    """A request (prompt) starts: nctop's time-to-first-token and end-to-end clocks start."""
    if request_id is None:
        _step(STEP_REQUEST_BEGIN, 0)
    else:
        _request_begin(request_id)


def prompt_tokens(n: int, request_id: Optional[int] = None) -> None:
    """The request's prompt (prefill) has n more tokens."""
    if request_id is None:
        _step(STEP_PROMPT_TOKENS, n)
    else:
        _request_prompt_tokens(request_id, n)


def token(n: int = 1, request_id: Optional[int] = None) -> None:
    """n tokens were produced: counter "tokens", tokens/s, TTFT and inter-token latency."""
    if request_id is None:
        _step(STEP_TOKEN, n)
    else:
        _request_token(request_id, n)


def request_end(request_id: Optional[int] = None, status: int = REQUEST_OK) -> None:
    """The request is complete: status REQUEST_OK, REQUEST_FAILED or REQUEST_CANCELLED."""
    if request_id is None:
        _step(STEP_REQUEST_END, status)
    else:
        _request_end(request_id, status)


def iteration(n: int = 1) -> None:
    """One training or simulation iteration ended."""
    _step(STEP_ITERATION, n)


# --- process -------------------------------------------------------------------------------

def init(label: Optional[str] = None, ring_kb: int = 0, max_threads: int = 0) -> None:
    """Create the segment with options. Optional: the first registration does it with the
    defaults (and $NCTOP_LABEL, $NCTOP_RING_KB, $NCTOP_MAX_THREADS). Raises OSError."""
    opts = _Opts(ctypes.sizeof(_Opts), label.encode("utf-8") if label else None,
                 ring_kb * 1024, max_threads)
    _check(_init(ctypes.byref(opts)), "init")


def shutdown() -> None:
    """Remove the segment and stop publishing (done at exit anyway)."""
    _shutdown()


def set_label(label: str) -> None:
    """The name nctop shows for this process (default: $NCTOP_LABEL, else the command)."""
    _check(_set_label(label.encode("utf-8")), "set_label")


def thread_name(thread: str) -> None:
    """Name the calling thread for nctop (15 bytes at most)."""
    _check(_thread_name(thread.encode("utf-8")), "thread_name")


def attached() -> bool:
    """True while an nctop is consuming this process's events."""
    return bool(_attached())


def dropped() -> int:
    """Events dropped so far (full rings)."""
    return _dropped()


def library_version() -> str:
    return _version().decode()


def library_path() -> Optional[str]:
    """The libnctop this package loaded (None when none could be)."""
    return _lib_path
