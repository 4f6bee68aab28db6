"""Fused CPU kernels compiled by numba, each beside the NumPy code it replaces.

A kernel does in one pass over memory what NumPy does in several (max-pool with its argmax, the Adam update, ...).
numba is optional (``pip install chainrule[fast]``): without it, or with ``CHAINRULE_KERNELS=off`` (or the older
``CHAINRULE_NUMBA=0``) in the environment, every op runs its NumPy version, which is also what the GPU backend uses.
Tests hold each pair equal.

A kernel compiles when first called, for the argument types it meets (nothing at import), and numba caches the
machine code on disk (``NUMBA_CACHE_DIR``, else the package's ``__pycache__``, else ``~/.cache/numba``; with no
writable folder it compiles in every process). ``CHAINRULE_KERNELS`` (or :func:`set_mode`) says how:

- ``wait`` (the default): a kernel compiles in the calling thread on its first call, so a run takes one path
  throughout.
- ``background``: a kernel called a few times (``COMPILE_AFTER_CALLS``, so that a model's shape probe compiles
  nothing) starts compiling in a background thread, and until it is ready each call raises :class:`NotReady`, on
  which the caller runs the NumPy twin. Only kernels that give their twin's bits do so, so when a run switches paths
  cannot change its results; the others (``bit_exact=False``) compile in the caller. Not the default: numba's
  compiler holds the GIL, and a training step, which waits for the GIL after each BLAS call, runs several times
  slower while a thread compiles (docs/performance.md, "Kernel compilation").
- ``off``: NumPy only.

>>> from chainrule.backend import kernels
>>> isinstance(kernels.enabled(), bool), kernels.mode() in kernels.MODES
(True, True)
"""
from __future__ import annotations

import atexit
import contextlib
import functools
import os
import threading
import types
import warnings
from typing import Callable

import numpy as np

from chainrule import backend

try:
    import numba
    from numba.core.compiler_lock import global_compiler_lock
    from numba.core.registry import CPUDispatcher

    # numba's default OpenMP layer spins, starving a busy machine's other threads; the workqueue layer yields the core
    # instead (docs/performance.md, "Numba kernels").
    numba.config.THREADING_LAYER = "workqueue"
except ImportError:  # the NumPy versions serve
    numba = None

MODES = ("wait", "background", "off")
# A kernel called fewer times than this in a process runs NumPy instead of compiling (background mode only): a
# model's shape probe calls each layer's kernels once or twice, a training step's on every step.
COMPILE_AFTER_CALLS = 3


def _mode_from_environment() -> str:
    if os.environ.get("CHAINRULE_NUMBA", "1") == "0":
        return "off"
    return _checked(os.environ.get("CHAINRULE_KERNELS", "wait"), "CHAINRULE_KERNELS")


def _checked(mode: str, name: str) -> str:
    if mode not in MODES:
        raise ValueError(f"{name}={mode!r}: expected one of {', '.join(MODES)}")
    return mode


_mode = _mode_from_environment()
_mode_on = "wait" if _mode == "off" else _mode  # what set_enabled(True) restores


def mode() -> str:
    """How the kernels run: ``'background'``, ``'wait'`` or ``'off'`` (see the module's docstring)."""
    return _mode


def set_mode(new_mode: str) -> None:
    """Set how the kernels compile and run: ``'background'``, ``'wait'`` or ``'off'``."""
    global _mode, _mode_on
    _mode = _checked(new_mode, "mode")
    if _mode != "off":
        _mode_on = _mode


def enabled() -> bool:
    """True when the numba kernels run: numba is installed, not switched off, and the backend is NumPy."""
    return _mode != "off" and numba is not None and backend.xp.__name__ == "numpy"


FLOATS = (np.dtype(np.float32), np.dtype(np.float64))  # the dtypes the kernels are compiled for


def runs_on(dtype) -> bool:
    """True when the numba kernels run on arrays of this dtype: kernels enabled, float32 or float64."""
    return enabled() and dtype in FLOATS


def set_enabled(flag: bool) -> None:
    """Switch the numba kernels on (in the mode they had) or off (tests compare both paths)."""
    set_mode(_mode_on if flag else "off")


class NotReady(Exception):
    """Raised by a kernel call while the kernel compiles in the background: the caller runs its NumPy twin."""


def falls_back_to(numpy_twin: Callable) -> Callable:
    """Decorate a function that runs a kernel: while the kernel compiles, ``numpy_twin`` (same arguments) runs."""
    def wrap(fn):
        @functools.wraps(fn)
        def run(*args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except NotReady:
                return numpy_twin(*args, **kwargs)
        return run
    return wrap


class _BackgroundCompiler:
    """Counts the calls of kernels not compiled yet, and compiles the ones called often enough in one daemon thread,
    the most recently asked first (the step running now needs it; a probe's older requests can wait)."""

    def __init__(self):
        self._lock = threading.Condition()
        self._calls: dict[tuple, int] = {}   # (kernel, argument types) -> calls so far
        self._queue: list[tuple] = []        # asked for, not started
        self._busy: set[tuple] = set()       # queued or compiling
        self._failed: set[tuple] = set()     # raised while compiling: the caller compiles again, to see the error
        self._callers = 0                    # threads compiling for themselves: they go first
        self._thread: threading.Thread | None = None

    def defer(self, kernel, argtypes: tuple) -> bool:
        """Whether this call should run NumPy: the kernel is queued or compiling, or not called often enough yet."""
        key = (kernel, argtypes)
        with self._lock:
            if key in self._failed or argtypes in kernel.overloads:
                return False
            if key not in self._busy:
                calls = self._calls[key] = self._calls.get(key, 0) + 1
                if calls < COMPILE_AFTER_CALLS:
                    return True
                self._busy.add(key)
                self._queue.append(key)
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name="chainrule-kernel-compiler", daemon=True)
                    self._thread.start()
                self._lock.notify_all()
            return True

    def _run(self) -> None:
        while True:
            with self._lock:
                while self._callers:
                    self._lock.wait()
                if not self._queue:
                    self._thread = None
                    self._lock.notify_all()
                    return
                key = self._queue.pop()
            kernel, argtypes = key
            try:
                kernel.compile(argtypes)
            except Exception:  # the next call compiles in its own thread and raises the error there
                with self._lock:
                    self._failed.add(key)
            finally:
                with self._lock:
                    self._busy.discard(key)
                    self._calls.pop(key, None)

    @contextlib.contextmanager
    def caller_compiles(self):
        """A context in which the calling thread compiles before the background thread takes its next kernel."""
        with self._lock:
            self._callers += 1
        try:
            yield
        finally:
            with self._lock:
                self._callers -= 1
                self._lock.notify_all()

    def drain(self, timeout: float | None = None) -> bool:
        """Wait until every queued kernel has compiled; False if ``timeout`` seconds pass first."""
        with self._lock:
            return self._lock.wait_for(lambda: self._thread is None, timeout)

    def stop(self) -> None:
        """Drop the queue and wait for the kernel compiling now (at exit: a thread killed inside LLVM can crash)."""
        with self._lock:
            for key in self._queue:
                self._busy.discard(key)
            self._queue.clear()
        self.drain()

    def forget(self) -> None:
        """A forked child starts with no thread: forget what the parent's was doing."""
        self.__init__()


_compiler = _BackgroundCompiler()
atexit.register(_compiler.stop)


def wait_for_compiles(timeout: float | None = None) -> bool:
    """Block until the kernels compiling in the background are ready; False if ``timeout`` seconds pass first."""
    return _compiler.drain(timeout)


_KERNELS: list = []  # every kernel made by jit, for compiled_signatures()


def compiled_signatures() -> dict[str, list]:
    """The argument types each kernel has machine code for in this process (compiled or loaded from the cache)."""
    return {k.py_func.__qualname__: list(k.overloads) for k in _KERNELS if k.overloads}


if numba is not None:
    class Kernel(CPUDispatcher):
        """A numba dispatcher that, called from Python with argument types it has no code for, compiles in the
        background and raises NotReady meanwhile (see the module's docstring); called from another kernel it is a
        plain numba function."""

        bit_exact = True

        def __call__(self, *args, **kws):
            try:
                return super().__call__(*args, **kws)
            except SystemError as error:
                raise interrupt_behind(error) or error

        def _compile_for_args(self, *args, **kws):  # numba calls this when no compiled version matches the call
            if _mode == "background" and self.bit_exact and not kws:
                argtypes = tuple(self.typeof_pyval(a) for a in args)
                if numba.types.pyobject not in argtypes and _compiler.defer(self, argtypes):
                    raise NotReady(f"{self.py_func.__qualname__} is compiling for {argtypes}")
            with _compiler.caller_compiles():
                return super()._compile_for_args(*args, **kws)

    def _fork_lock() -> None:
        global_compiler_lock.acquire()  # a child must not inherit the lock held by a thread it does not have

    def _fork_unlock() -> None:
        global_compiler_lock.release()

    def _fork_child() -> None:
        global_compiler_lock.release()
        _compiler.forget()

    os.register_at_fork(before=_fork_lock, after_in_parent=_fork_unlock, after_in_child=_fork_child)


def interrupt_behind(error: BaseException) -> KeyboardInterrupt | None:
    """The KeyboardInterrupt that ``error`` stands for, or None. A Ctrl-C whose handler runs while numba's
    dispatcher is in C code can leave the dispatcher returning with the interrupt set, which Python reports as
    ``SystemError: CPUDispatcher(...) returned a result with an exception set`` caused by the interrupt; a kernel
    call raises the interrupt itself instead, so that ``except KeyboardInterrupt`` sees it.

    >>> try:
    ...     raise SystemError("returned a result with an exception set") from KeyboardInterrupt()
    ... except SystemError as e:
    ...     type(interrupt_behind(e)).__name__
    'KeyboardInterrupt'
    """
    seen = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, KeyboardInterrupt):
            return error
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return None


_warned_no_cache = False


def _make_kernel(f, parallel: bool, error_model: str, bit_exact: bool, nogil: bool = False,
                 reassociate: bool = False):
    kernel = Kernel(py_func=f, locals={}, targetoptions={
        "nopython": True, "parallel": parallel, "fastmath": {"reassoc"} if reassociate else False,
        "error_model": error_model, "boundscheck": None, "nogil": nogil})
    kernel.bit_exact = bit_exact
    try:
        kernel.enable_caching()
    except RuntimeError as error:  # numba found no writable cache folder: compile in every process instead
        global _warned_no_cache
        if not _warned_no_cache:
            _warned_no_cache = True
            warnings.warn(f"chainrule's numba kernels compile in every process: {error}; set NUMBA_CACHE_DIR to a "
                          f"writable folder to keep them", RuntimeWarning, stacklevel=4)
    _KERNELS.append(kernel)
    return kernel


def _renamed(f, suffix: str):
    """A copy of function f under another name: numba's disk cache files a kernel under its name, not its flags."""
    g = types.FunctionType(f.__code__, f.__globals__, f.__name__ + suffix, f.__defaults__, f.__closure__)
    g.__qualname__ = f.__qualname__ + suffix
    g.__module__ = f.__module__
    return g


def jit(fn=None, *, parallel: bool = False, error_model: str = "python", bit_exact: bool = True,
        nogil: bool = False, reassociate: bool = False):
    """Compile ``fn`` with numba on its first calls (see the module's docstring), with the disk cache on, or return it
    unchanged without numba. ``error_model="numpy"``: ``x / 0`` gives inf or nan, as in NumPy. ``bit_exact=False``
    for a kernel whose results differ from its NumPy twin's in rounding. ``parallel=True`` gives the serial kernel
    with its threaded twin as ``kernel.parallel``, compiled only when :func:`launch` meets a large array.
    ``nogil=True`` releases the GIL while the kernel runs (for kernels that threads call side by side).
    ``reassociate=True`` lets the compiler reorder sums (LLVM's ``reassoc`` flag alone: NaN and inf keep their
    meaning), so that a loop adding into one variable vectorizes into several running sums; implies ``bit_exact=False``.
    """
    def wrap(f):
        if numba is None or numba.config.DISABLE_JIT:
            return f
        kernel = _make_kernel(f, False, error_model, bit_exact and not reassociate, nogil, reassociate)
        if parallel:
            kernel.parallel = _make_kernel(_renamed(f, "__parallel"), True, error_model, bit_exact)
        return kernel
    return wrap if fn is None else wrap(fn)


prange = range if numba is None else numba.prange  # a parallel loop inside a kernel (plain range without numba)
