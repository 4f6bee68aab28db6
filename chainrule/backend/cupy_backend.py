"""The CuPy backend: CuPy arrays on an NVIDIA GPU (``pip install -e '.[gpu]'`` installs cupy-cuda12x; CuPy for CUDA
13, cupy-cuda13x, serves as well).

CuPy mirrors NumPy's API (and the array API standard's names), so the ops run unchanged on its arrays; the extras
use CuPy's own functions, and its ``ElementwiseKernel`` where one pass replaces several (:data:`FUSED`, the pieces
``Backend.fused`` names: the optimizers' updates, the formulas of chainrule/backend/kernels/optim.py; bias + relu and
relu's gradient; the window-major max pooling of chainrule/backend/kernels/pooling.py). The scatter-add of integer
indices uses ``cupyx``. Importing this module needs no CuPy: choosing the backend does.

>>> from chainrule.backend.cupy_backend import CUPY
>>> CUPY.name
'cupy'
"""
from __future__ import annotations

import functools
from types import ModuleType
from typing import Callable

import numpy as np

from chainrule.backend.extras import Backend

INSTALL_HINT = "pip install -e '.[gpu]'"


def cupy_module():
    """The ``cupy`` module, or an ImportError that says how to install it."""
    try:
        import cupy
    except ImportError:
        raise ImportError(f"the 'cupy' backend needs CuPy with CUDA 12: {INSTALL_HINT} (installs cupy-cuda12x)") \
            from None
    return cupy


def gpu_count() -> int:
    """How many CUDA devices CuPy sees (0 without CuPy, a driver or a GPU)."""
    try:
        import cupy
        return int(cupy.cuda.runtime.getDeviceCount())
    except Exception:  # no CuPy, no driver, no device: CuPy raises its own runtime errors for each
        return 0


def standard_namespace(module: ModuleType) -> ModuleType:
    """``module`` (CuPy) with the array API standard's spellings it may lack: ``argsort``/``sort`` taking ``stable``
    and ``descending``, ``bool``, ``cumulative_sum``/``cumulative_prod``, ``vecdot``; any other name is the module's.

    >>> import numpy as np
    >>> xp = standard_namespace(np)
    >>> xp.argsort(np.array([3, 1, 2]), descending=True, stable=True).tolist(), xp.sum is np.sum
    ([0, 2, 1], True)
    """
    namespace = ModuleType(module.__name__, f"{module.__name__} with the array API standard's spellings")
    namespace.__dict__.update({k: v for k, v in vars(module).items() if not k.startswith("__")})
    namespace.__dict__["__getattr__"] = lambda name: getattr(module, name)  # (submodules imported later)

    def argsort(x, /, *, axis=-1, descending=False, stable=True):  # stable: CuPy's sorts are (radix / merge)
        order = module.argsort(-x if descending and x.dtype.kind in "fi" else x, axis=axis)
        return module.flip(order, axis=axis) if descending and x.dtype.kind not in "fi" else order

    def sort(x, /, *, axis=-1, descending=False, stable=True):
        ordered = module.sort(x, axis=axis)
        return module.flip(ordered, axis=axis) if descending else ordered

    def cumulative_sum(x, /, *, axis=None, dtype=None, include_initial=False):
        return _cumulative(module.cumsum, 0, x, axis, dtype, include_initial)

    def cumulative_prod(x, /, *, axis=None, dtype=None, include_initial=False):
        return _cumulative(module.cumprod, 1, x, axis, dtype, include_initial)

    def _cumulative(run, start, x, axis, dtype, include_initial):
        axis = 0 if axis is None and x.ndim <= 1 else axis
        out = run(x, axis=axis, dtype=dtype)
        if include_initial:
            shape = list(out.shape)
            shape[axis] = 1
            out = module.concatenate([module.full(shape, start, dtype=out.dtype), out], axis=axis)
        return out

    def vecdot(x1, x2, /, *, axis=-1):
        return module.sum(module.conj(x1) * x2, axis=axis)

    for fn in (argsort, sort, vecdot):
        namespace.__dict__[fn.__name__] = fn
    for fn in (cumulative_sum, cumulative_prod):
        namespace.__dict__.setdefault(fn.__name__, fn)
    namespace.__dict__.setdefault("bool", getattr(module, "bool_", bool))
    return namespace


class CupyBackend(Backend):
    name = "cupy"
    device_type = "GPU"

    @property
    def xp(self):
        return cupy_module()

    @property
    def namespace(self):
        return _namespace()

    def device_count(self) -> int:
        return gpu_count()

    def owns(self, array) -> bool:
        return type(array).__module__.startswith("cupy")

    def sliding_window_view(self, x, window_shape, axis):
        from cupy.lib.stride_tricks import sliding_window_view
        return sliding_window_view(x, tuple(window_shape), axis=tuple(axis))  # a view, as NumPy's

    def scatter_add(self, target, indices, values):
        import cupyx
        cupyx.scatter_add(target, indices, values)  # atomic adds: repeated indices sum
        return target

    def put_along_axis(self, target, indices, values, axis):
        self.xp.put_along_axis(target, indices, values, axis=axis)
        return target

    def pad(self, x, pads, value=0.0):
        return self.xp.pad(x, pads, constant_values=value)

    def matmul_into(self, a, b, out):
        return self.xp.matmul(a, b, out=out)  # cuBLAS writes into the buffer

    def random_generator(self, seed=None):
        return self.xp.random.default_rng(seed)  # draws on the device

    def as_numeric(self, mask, dtype):
        return mask  # the ufuncs cast bools inside their loop: no converted copy

    def to_host(self, x):
        return x.get() if self.owns(x) else np.asarray(x)

    def from_host(self, x):
        return self.xp.asarray(x)

    def fused(self, name):
        make = FUSED.get(name)
        return None if make is None else make()

    def read_later(self, x):
        cupy = self.xp
        stream = cupy.cuda.get_current_stream()
        host = _pinned_scalar(x.dtype)
        x.reshape(-1)[:1].get(stream=stream, out=host, blocking=False)  # queued behind the step's kernels
        done = stream.record()
        def value() -> float:
            done.synchronize()
            return float(host[0])
        return value


@functools.cache
def _namespace() -> ModuleType:
    return standard_namespace(cupy_module())


def _pinned_scalar(dtype) -> np.ndarray:
    """A one-element NumPy array in page-locked memory, which a device copy can fill without blocking the host."""
    import cupy
    memory = cupy.cuda.alloc_pinned_memory(np.dtype(dtype).itemsize)
    return np.frombuffer(memory, dtype=dtype, count=1)


# --- the fused kernels: CuPy ElementwiseKernels (parameters, outputs, body) -------------------------------------------
# The optimizers' updates are the numba kernels' formulas (chainrule/backend/kernels/optim.py), in the same order of
# operations: each reads the gradient, the weight and the slots once and writes them back once. ``ok`` is the array
# whose first value must be finite (the step's loss, or a constant 1), so a skipped step needs no read on the host.
# The activation and pooling kernels propagate NaN as np.maximum does: a NaN input gives NaN, and a window's argmax
# stays where the first NaN came (chainrule/backend/kernels/activation.py, pooling.py).
_SKIP_UNLESS_FINITE = "if (!isfinite((double)ok[0])) continue;"
_ADAM_STEP = ("T gs = g * gscale;  T mi = m + (gs - m) * c1;  m = mi;  T vi = v + (gs * gs - v) * c2;  v = vi;")
_ADAM_IN = "T g, T alpha, T c1, T c2, T eps, T keep, T gscale, raw O ok"
_SGD_IN = "T g, T lr, T momentum, T keep, T gscale, raw O ok"
_SGD_MOMENTUM = "T step = g * gscale * lr;  T mi = m * momentum - step;  m = mi;"

KERNELS: dict[str, tuple[str, str, str]] = {
    "adam": (_ADAM_IN, "T w, T m, T v",
             _SKIP_UNLESS_FINITE + _ADAM_STEP + "w = w * keep - mi / (sqrt(vi) + eps) * alpha;"),
    "adam_amsgrad": (_ADAM_IN, "T w, T m, T v, T vh",
                     _SKIP_UNLESS_FINITE + _ADAM_STEP +
                     "if (vi > vh || vi != vi) vh = vi;  w = w * keep - mi / (sqrt(vh) + eps) * alpha;"),
    "sgd": (_SGD_IN, "T w", _SKIP_UNLESS_FINITE + "w = w * keep - g * gscale * lr;"),
    "sgd_momentum": (_SGD_IN, "T w, T m", _SKIP_UNLESS_FINITE + _SGD_MOMENTUM + "w = w * keep + mi;"),
    "sgd_nesterov": (_SGD_IN, "T w, T m",
                     _SKIP_UNLESS_FINITE + _SGD_MOMENTUM + "w = (w * keep - step) + mi * momentum;"),
    "bias_relu": ("raw T b, int64 f", "T y", "T v = y + b[i % f];  y = (v > (T)0 || v != v) ? v : (T)0;"),
    "relu_grad": ("T g, T y", "T gm", "gm = y > (T)0 ? g : g * (T)0;"),
    "tap_max": ("raw T z, int64 m, int64 taps", "T y, U argmax",
                "T best = z[i];  int k = 0;"
                "for (int t = 1; t < taps; ++t) {"
                "    T v = z[t * m + i];"
                "    if (v > best) { best = v;  k = t; } else if (v != v) { best = v; }"
                "}"
                "y = best;  argmax = k;"),
    "tap_spread": ("raw T g, raw U argmax, int64 m", "T out",
                   "long long e = i % m;  out = argmax[e] == (U)(i / m) ? g[e] : g[e] * (T)0;"),
}
"""Kernel name -> (CuPy's in_params, out_params, operation): the CUDA code of every fused piece."""


@functools.cache
def _elementwise(name: str):
    import cupy
    params, outputs, body = KERNELS[name]
    return cupy.ElementwiseKernel(params, outputs, body, f"chainrule_{name}")


def _finite_flag(only_if_finite):
    """The array a kernel's ``ok`` reads: the given one, or a device 1.0 made once."""
    return _one() if only_if_finite is None else only_if_finite


@functools.cache
def _one():
    return cupy_module().ones(1, dtype=np.float32)


@functools.cache
def _adam() -> Callable:
    def update(var, grad, m, v, v_hat, scratch, alpha, c1, c2, eps, keep=1.0, gscale=1.0, only_if_finite=None):
        f = var.dtype.type
        constants = (f(alpha), f(c1), f(c2), f(eps), f(keep), f(gscale), _finite_flag(only_if_finite))
        if v_hat is None:
            _elementwise("adam")(grad, *constants, var, m, v)
        else:
            _elementwise("adam_amsgrad")(grad, *constants, var, m, v, v_hat)
    return update


@functools.cache
def _sgd() -> Callable:
    def update(var, grad, m, scratch, learning_rate, momentum, nesterov, keep=1.0, gscale=1.0, only_if_finite=None):
        f = var.dtype.type
        args = (grad, f(learning_rate), f(momentum), f(keep), f(gscale), _finite_flag(only_if_finite), var)
        if m is None:
            _elementwise("sgd")(*args)
        else:
            _elementwise("sgd_nesterov" if nesterov else "sgd_momentum")(*args, m)
    return update


@functools.cache
def _bias_relu() -> Callable:
    def bias_relu_(y, b) -> None:
        if b is None:
            cupy_module().maximum(y, 0, out=y)  # a plain relu: CuPy's maximum, in place
        else:
            _elementwise("bias_relu")(b, np.int64(b.size), y)
    return bias_relu_


@functools.cache
def _relu_grad() -> Callable:
    return lambda g, y: _elementwise("relu_grad")(g, y)


@functools.cache
def _tap_max() -> Callable:
    def tap_max(z, y, argmax) -> None:
        _elementwise("tap_max")(z, np.int64(y.size), np.int64(z.shape[0]), y, argmax)
    return tap_max


@functools.cache
def _tap_spread() -> Callable:
    def tap_spread(g, argmax, out) -> None:
        _elementwise("tap_spread")(g, argmax, np.int64(g.size), out)
    return tap_spread


def _erf() -> Callable:
    from cupyx.scipy import special
    return special.erf


FUSED: dict[str, Callable[[], Callable]] = {"adam": _adam, "sgd": _sgd, "bias_relu": _bias_relu,
                                            "relu_grad": _relu_grad, "tap_max": _tap_max, "tap_spread": _tap_spread,
                                            "erf": _erf}
"""Piece name (``Backend.fused``) -> a function making its kernel (compiled by CuPy on first use)."""



CUPY = CupyBackend()
