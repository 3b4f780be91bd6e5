# SPDX-License-Identifier: MIT
"""PyTorch instrumentation for nctop: a latency tree that mirrors `model.named_modules()`,
the parameters and buffers as the Model Weights tree, and gauges for a decode loop.

    import nctop, nctop.torch
    handle = nctop.torch.instrument(model)
    with nctop.span("step"):
        logits = model(x)
    nctop.token()
    handle.remove()
"""

from __future__ import annotations

import collections
import copy
import fnmatch
import threading
import warnings
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple, Union

import torch
from torch import nn

import nctop
from nctop import _close, _open, _tls

__all__ = ["instrument", "Instrumentation", "KVCacheGauge", "TensorPoolGauge", "tensor_bytes"]

Pattern = Union[str, type]


class _Site:
    """One instrumented module: what its span is called and where it sits."""

    __slots__ = ("id", "label", "qualname", "kernel_id")

    def __init__(self, label: str, qualname: str) -> None:
        self.label = label
        self.qualname = qualname
        self.id = nctop.name(label)
        self.kernel_id = 0


def _is_container(module: nn.Module) -> bool:
    """ModuleList and ModuleDict (and anything else without a forward) are never called, so
    they get no span; their names fold into their children's ("layers.3")."""
    return type(module).forward is nn.Module.forward


def _matches(qualname: str, module: nn.Module, patterns: Sequence[Pattern]) -> bool:
    for p in patterns:
        if isinstance(p, type):
            if isinstance(module, p):
                return True
        elif fnmatch.fnmatchcase(qualname, p) or fnmatch.fnmatchcase(type(module).__name__, p):
            return True
    return False


def _as_patterns(p: Union[None, Pattern, Iterable[Pattern]]) -> Optional[List[Pattern]]:
    if p is None:
        return None
    if isinstance(p, (str, type)):
        return [p]
    return list(p)


def tensor_bytes(*tensors: Optional[torch.Tensor]) -> int:
    """Bytes held by the tensors' elements (not their storages' slack)."""
    return sum(t.numel() * t.element_size() for t in tensors if t is not None)


class _CudaTimes:
    """Module times on a CUDA device, measured with events and reported as nctop kernels of
    backend "cuda" once they resolve. The hot path only records events; resolving polls
    Event.query(), which never waits, so the stream is never synchronised. Events are pooled
    and at most `limit` measurements wait; beyond that new ones are skipped and counted."""

    def __init__(self, limit: int = 4096) -> None:
        self.backend = nctop.name("cuda")
        self.free: List[Any] = []
        self.pending: collections.deque = collections.deque()
        self.limit = limit
        self.skipped = 0
        self.lock = threading.Lock()

    def _event(self) -> Any:
        try:
            return self.free.pop()
        except IndexError:
            return torch.cuda.Event(enable_timing=True)

    def start(self, site: _Site) -> None:
        try:
            st = _tls.cuda
        except AttributeError:
            st = _tls.cuda = []
        ev = self._event()
        ev.record()
        st.append((site, ev, nctop.now_ns()))

    def stop(self, site: _Site) -> None:
        st = getattr(_tls, "cuda", None)
        while st:
            s, start, t0 = st.pop()
            if s is not site:
                self.free.append(start)  # left open by an exception: dropped
                continue
            if len(self.pending) >= self.limit:
                self.skipped += 1
                self.free.append(start)
                break
            end = self._event()
            end.record()
            self.pending.append((site.kernel_id, start, end, t0))
            break
        self.poll()

    def poll(self) -> None:
        """Report every measurement whose end event has completed, oldest first."""
        if not self.pending or not self.lock.acquire(blocking=False):
            return
        try:
            while self.pending and self.pending[0][2].query():
                kid, start, end, t0 = self.pending.popleft()
                # elapsed_time() is in ms; the start is the host time the work was queued.
                nctop._kernel(kid, self.backend, t0, int(start.elapsed_time(end) * 1e6))
                self.free.extend((start, end))
        finally:
            self.lock.release()

    def flush(self) -> None:
        """Wait for every pending measurement and report it (not for the hot path)."""
        for _, _, end, _ in list(self.pending):
            end.synchronize()
        self.poll()


class _PyCall:
    """An instrumented module's forward: begin its span, call the original, end the span,
    also when forward raises (a forward post-hook would not run then, and libnctop needs
    every span ended in order). nctop._fast.Call is the same in C; this is the fallback."""

    __slots__ = ("site", "fwd", "prev")

    def __init__(self, site: _Site, fwd: Any, prev: Any) -> None:
        self.site = site
        self.fwd = fwd      # the forward called so far (bound method or earlier wrapper)
        self.prev = prev    # what module.__dict__ held under "forward", or _NO_FORWARD

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        site = self.site
        try:
            st = _tls.stack
        except AttributeError:
            st = nctop._stack()
        st.append(site)
        _begin(site.id)
        try:
            out = self.fwd(*args, **kwargs)
        except BaseException:
            _close(site)
            raise
        if st and st[-1] is site:
            st.pop()
            _end(site.id)
        else:
            _close(site)
        return out


class _Wrapped(nctop._fast.Call if nctop._fast is not None else _PyCall):  # type: ignore
    """The wrapper put on an instrumented module. A class, not a closure, so that
    copy.deepcopy(model) wraps the copy's forward rather than the original's."""

    __slots__ = ()

    def __deepcopy__(self, memo: Dict[int, Any]) -> "_Wrapped":
        # The copy calls the copied module's forward; the site (ids) and timer are shared.
        prev = self.prev if self.prev is _NO_FORWARD else copy.deepcopy(self.prev, memo)
        w = type(self)(self.site, copy.deepcopy(self.fwd, memo), prev)
        if isinstance(self, _WrappedCuda):
            w.cuda = self.cuda
        return w

    def __reduce__(self) -> Any:
        raise TypeError("nctop: remove() the instrumentation before pickling the module")


class _WrappedCuda(_Wrapped):
    """The same, and the module's device time through CUDA events."""

    __slots__ = ("cuda",)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        site, cuda = self.site, self.cuda
        _open(site)
        cuda.start(site)
        try:
            out = self.fwd(*args, **kwargs)
        finally:
            cuda.stop(site)
            _close(site)
        return out


_begin, _end = nctop._span_begin, nctop._span_end
_NO_FORWARD = object()


class Instrumentation:
    """What instrument() added to a model; remove() takes all of it off again."""

    def __init__(self, model: nn.Module) -> None:
        self.model = model
        self.sites: Dict[str, _Site] = {}
        self.weights: List[str] = []
        self._wrapped: List[Tuple[nn.Module, _Wrapped]] = []
        self.cuda: Optional[_CudaTimes] = None

    @property
    def span_names(self) -> Dict[str, str]:
        """Qualified module name -> the label of its span."""
        return {q: s.label for q, s in self.sites.items()}

    def poll(self) -> None:
        """Report CUDA timings that have resolved (the modules do it too)."""
        if self.cuda is not None:
            self.cuda.poll()

    def remove(self, weights: bool = True) -> None:
        """Restore every module's forward as it was; with weights=True also unregister the
        weights this call registered. Safe to call twice."""
        for module, w in reversed(self._wrapped):
            if module.__dict__.get("forward") is not w:
                continue  # replaced again since: leave the newer one alone
            if w.prev is _NO_FORWARD:
                del module.__dict__["forward"]
            else:
                module.__dict__["forward"] = w.prev
            prep = module.__dict__.get("__prepare_scriptable__")
            if isinstance(prep, _Scriptable) and prep.module is module:
                del module.__dict__["__prepare_scriptable__"]
        self._wrapped.clear()
        if self.cuda is not None:
            self.cuda.flush()
        if weights:
            for path in self.weights:
                nctop.weight(path, 0)
            self.weights.clear()

    def __enter__(self) -> "Instrumentation":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.remove()


def _on_cuda(model: nn.Module) -> bool:
    for t in model.parameters():
        return t.is_cuda
    for t in model.buffers():
        return t.is_cuda
    return False


def _wrap(module: nn.Module, site: _Site, cuda: Optional[_CudaTimes]) -> _Wrapped:
    prev = module.__dict__.get("forward", _NO_FORWARD)
    fwd = module.forward  # the instance's own override if any, else the bound class method
    if cuda is None:
        w = _Wrapped(site, fwd, prev)
    else:
        w = _WrappedCuda(site, fwd, prev)
        w.cuda = cuda
    # Module.__call__ looks forward up on the instance at every call, so an instance
    # attribute takes effect at once and keeps nn.Module's hook-free fast path.
    module.__dict__["forward"] = w
    if "__prepare_scriptable__" not in module.__dict__:
        module.__dict__["__prepare_scriptable__"] = _Scriptable(module)
    return w


class _Scriptable:
    """torch.jit.script calls a module's __prepare_scriptable__() before compiling it. The
    wrappers are Python and cannot be compiled, so this hands the compiler a structural copy
    of the module's subtree (the same parameters and buffers; each module shallow-copied with
    its own _modules, which the compiler rewrites in place) whose forwards are the originals.
    The scripted model runs as TorchScript and publishes no per-module spans; say so once."""

    __slots__ = ("module",)
    warned = False

    def __init__(self, module: nn.Module) -> None:
        self.module = module

    @staticmethod
    def _clone(module: nn.Module, memo: Dict[int, nn.Module]) -> nn.Module:
        done = memo.get(id(module))
        if done is not None:
            return done  # a submodule reachable twice stays one module
        clone = copy.copy(module)
        memo[id(module)] = clone
        d = clone.__dict__
        if isinstance(d.get("__prepare_scriptable__"), _Scriptable):
            del d["__prepare_scriptable__"]
        w = d.get("forward")
        while isinstance(w, _Wrapped):
            if w.prev is _NO_FORWARD:
                del d["forward"]
                break
            w = d["forward"] = w.prev
        d["_modules"] = collections.OrderedDict(
            (k, None if m is None else _Scriptable._clone(m, memo))
            for k, m in module._modules.items())
        return clone

    def __call__(self) -> nn.Module:
        if not _Scriptable.warned:
            _Scriptable.warned = True
            warnings.warn("nctop: torch.jit.script compiles each module's original forward; "
                          "the scripted model publishes no per-module spans (time its calls "
                          "with nctop.span, or keep an eager copy instrumented)", stacklevel=4)
        return _Scriptable._clone(self.module, {})

    def __deepcopy__(self, memo: Dict[int, Any]) -> "_Scriptable":
        return _Scriptable(copy.deepcopy(self.module, memo))

    def __reduce__(self) -> Any:
        raise TypeError("nctop: remove() the instrumentation before pickling the module")


def instrument(model: nn.Module, depth: Optional[int] = None,
               include: Union[None, Pattern, Iterable[Pattern]] = None,
               exclude: Union[None, Pattern, Iterable[Pattern]] = None,
               name: Optional[str] = None, weights: bool = True, weights_prefix: str = "",
               cuda: Optional[bool] = None) -> Instrumentation:
    """Give every module of `model` a span named after its place in the module tree and
    register its parameters and buffers as weights. Returns an Instrumentation; call its
    remove() to undo everything.

    - The root's span is `name` (default: the model's class name). A module's span is its
      qualified name relative to the nearest instrumented ancestor, so `layers.3.attn.q_proj`
      nests as `layers.3` -> `attn` -> `q_proj` (ModuleList and ModuleDict are never called
      and get no span). A module reachable under several names takes the first one.
    - depth: instrument modules at most this many spans below the root (root = 0).
    - include, exclude: fnmatch patterns over qualified names or class names, or classes;
      a submodule is instrumented when it matches include (if given) and not exclude. The
      root is always instrumented.
    - weights: register `named_parameters()` and `named_buffers()` (each tensor once) by
      dotted name with weights_prefix in front, bytes = numel * element_size.
    - cuda: also time modules with CUDA events (backend "cuda" in nctop's kernel table);
      None = when the model's first parameter is on a CUDA device.

    Each module's forward is wrapped (an instance attribute) rather than given forward
    pre/post hooks, per module or global: any hook puts the call on nn.Module's slow path,
    which with two empty hooks already costs several times the whole wrapper, and a post-hook
    does not run when forward raises.
    """
    inc, exc = _as_patterns(include), _as_patterns(exclude)
    handle = Instrumentation(model)
    if cuda is None:
        cuda = _on_cuda(model) and torch.cuda.is_available()
    if cuda:
        handle.cuda = _CudaTimes()

    root_label = name or type(model).__name__
    levels: Dict[str, int] = {}
    try:
        for qual, module in model.named_modules():
            if qual == "":
                label, level = root_label, 0
            else:
                if _is_container(module):
                    continue
                if inc is not None and not _matches(qual, module, inc):
                    continue
                if exc is not None and _matches(qual, module, exc):
                    continue
                # nearest instrumented ancestor: the longest prefix in `levels`
                parent, cut = "", qual
                while "." in cut:
                    cut = cut.rsplit(".", 1)[0]
                    if cut in levels:
                        parent = cut
                        break
                label = qual[len(parent) + 1:] if parent else qual
                level = levels[parent] + 1
                if depth is not None and level > depth:
                    continue
            levels[qual] = level
            site = _Site(label, qual)
            if handle.cuda is not None:
                site.kernel_id = nctop.name(qual or root_label)
            handle._wrapped.append((module, _wrap(module, site, handle.cuda)))
            handle.sites[qual] = site

        if weights:
            seen = set()
            named = list(model.named_parameters()) + list(model.named_buffers())
            for qual, t in named:
                if t is None or id(t) in seen:
                    continue
                seen.add(id(t))
                nbytes = t.numel() * t.element_size()
                if nbytes == 0:
                    continue
                path = weights_prefix + qual
                nctop.weight(path, nbytes, device=t.device.type != "cpu")
                handle.weights.append(path)
    except BaseException:
        handle.remove()
        raise
    return handle


class KVCacheGauge:
    """A KV cache gauge: capacity is the bytes of the cache tensors; update() publishes the
    part in use, from positions filled out of the positions the tensors hold."""

    def __init__(self, tensors: Sequence[torch.Tensor], gauge_name: str = "kv_cache") -> None:
        self.capacity = tensor_bytes(*tensors)
        device = any(t.device.type != "cpu" for t in tensors)
        self.gauge = nctop.Gauge(gauge_name, "kv_cache", self.capacity, device)
        self.gauge.set(0)

    def update(self, used_positions: int, max_positions: int) -> None:
        used = self.capacity * used_positions // max_positions if max_positions else 0
        self.gauge.set(used)


class TensorPoolGauge:
    """A tensor pool: on CUDA, the caching allocator's allocated bytes against reserved; on
    the host, the bytes of the tensors passed to update() against a capacity."""

    def __init__(self, gauge_name: str = "tensor_pool", capacity: int = 0,
                 device: Optional[torch.device] = None) -> None:
        self.device = torch.device(device) if device is not None else None
        on_cuda = self.device is not None and self.device.type == "cuda"
        self.gauge = nctop.Gauge(gauge_name, "pool", capacity, on_cuda)

    def update(self, *tensors: Optional[torch.Tensor]) -> None:
        if self.device is not None and self.device.type == "cuda":
            self.gauge.set(torch.cuda.memory_allocated(self.device),
                           torch.cuda.memory_reserved(self.device))
        else:
            self.gauge.set(tensor_bytes(*tensors))
