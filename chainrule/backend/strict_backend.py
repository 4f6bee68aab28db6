"""The strict backend: ``array-api-strict``, the array API standard and nothing more, on the CPU.

It exists to prove the ops: a run on it fails on any NumPy-only call (a method, a keyword, ``out=``, a NumPy function
on its arrays) outside the extras, which it implements with standard functions only. Its arrays live on
array-api-strict's second device, as a GPU's would: NumPy cannot read them (no silent ``__array__``), only
:meth:`StrictBackend.to_host` can; its namespace makes new arrays there, as CuPy's makes them on the current GPU, and
takes NumPy's dtypes for its own, as CuPy does (a Tensor's ``dtype`` is a NumPy dtype on every backend).
Slow by design; never a default.

>>> from chainrule.backend.strict_backend import STRICT
>>> xp = STRICT.xp
>>> STRICT.to_host(STRICT.scatter_add(xp.zeros(3), xp.asarray([0, 2, 0]), xp.ones(3))).tolist()
[2.0, 0.0, 1.0]
"""
from __future__ import annotations

import functools
import math
from types import ModuleType

import numpy as np

from chainrule.backend.extras import Backend


def _strict():
    try:
        import array_api_strict
    except ImportError:
        raise ImportError("the 'strict' backend needs array-api-strict: pip install -e '.[test]' "
                          "(or pip install array-api-strict)") from None
    return array_api_strict


_CREATION = ("asarray", "zeros", "ones", "empty", "full", "arange", "eye", "linspace")


@functools.cache
def device_namespace() -> ModuleType:
    """array-api-strict's functions, its creation functions making arrays on its 'device1' unless told a device."""
    strict = _strict()
    namespace = ModuleType("array_api_strict", "array-api-strict, new arrays on its second device")
    dtypes = {name: value for name, value in vars(strict).items() if type(value) is type(strict.float32)}
    for name, value in vars(strict).items():
        if not name.startswith("_"):
            namespace.__dict__[name] = _taking_numpy_dtypes(value, dtypes) if callable(value) and \
                not isinstance(value, type) and name not in dtypes else value
    namespace.device = strict.Device("device1")
    for name in _CREATION:
        namespace.__dict__[name] = _on_device(namespace.__dict__[name], namespace.device)
    for extension in ("linalg", "fft"):  # behind the module's __getattr__ (its extension flags), not in vars()
        module = getattr(strict, extension)
        functions = ModuleType(f"array_api_strict.{extension}", f"array-api-strict's {extension} extension")
        for name in module.__all__:
            functions.__dict__[name] = _taking_numpy_dtypes(getattr(module, name), dtypes)
        for name in ("fftfreq", "rfftfreq"):  # (the extension's creation functions)
            if name in functions.__dict__:
                functions.__dict__[name] = _on_device(functions.__dict__[name], namespace.device)
        namespace.__dict__[extension] = functions
    return namespace


def _on_device(make, device):
    @functools.wraps(make)
    def make_on_device(*args, device=device, **kwargs):
        return make(*args, device=device, **kwargs)
    return make_on_device


def _taking_numpy_dtypes(fn, dtypes: dict):
    """``fn`` with NumPy dtypes (np.float32, np.dtype('int64'), 'float32') among its arguments turned into strict's."""
    def as_strict(value):
        if value is bool:  # Python's bool names the bool dtype in NumPy and CuPy
            return dtypes["bool"]
        if isinstance(value, np.dtype) or (isinstance(value, type) and issubclass(value, np.generic)):
            return dtypes[np.dtype(value).name]
        if isinstance(value, str) and value in dtypes:
            return dtypes[value]
        return value

    @functools.wraps(fn)
    def with_numpy_dtypes(*args, **kwargs):
        return fn(*map(as_strict, args), **{k: as_strict(v) for k, v in kwargs.items()})
    return with_numpy_dtypes


def numpy_dtype(dtype) -> np.dtype:
    """The NumPy dtype of one of array-api-strict's dtypes (they share names)."""
    return np.dtype(str(dtype).rsplit(".", 1)[-1])


class StrictBackend(Backend):
    name = "strict"
    takes_out = False  # the standard has no out=

    @property
    def xp(self):
        return device_namespace()

    def owns(self, array) -> bool:
        return type(array).__module__.startswith("array_api_strict")

    def sliding_window_view(self, x, window_shape, axis):
        # one strided slice per window tap, stacked on new trailing axes: the standard has no strided views
        xp = self.xp
        for size, ax in zip(window_shape, axis):
            ax = ax % x.ndim
            n = x.shape[ax] - size + 1
            taps = [x[(slice(None),) * ax + (slice(k, k + n), ...)] for k in range(size)]
            x = xp.stack(taps, axis=x.ndim)
        return x

    def scatter_add(self, target, indices, values):
        # sum rows that share an index through a one-hot matrix product: standard functions only
        xp = self.xp
        indices = xp.reshape(indices, (-1,))
        rows = target.shape[0]
        one_hot = xp.astype(indices[:, None] == xp.arange(rows, dtype=indices.dtype)[None, :], target.dtype)
        row = math.prod(values.shape[1:]) if values.ndim else 1
        flat = xp.reshape(values, (indices.shape[0], row)) if values.ndim else \
            xp.broadcast_to(values, (indices.shape[0], 1))
        added = xp.reshape(xp.matmul(xp.permute_dims(one_hot, (1, 0)), flat), target.shape)
        return target + added

    def matmul_into(self, a, b, out):
        return self.xp.matmul(a, b)  # strict arrays have no out=: a new array

    def random_generator(self, seed=None):
        return np.random.default_rng(seed)  # draws on the host; from_host moves them over

    def to_host(self, x):
        return np.from_dlpack(x.to_device(_strict().Device("CPU_DEVICE")))  # the standard's way out

    def from_host(self, x):
        return self.xp.asarray(np.ascontiguousarray(x) if np.ndim(x) else np.asarray(x))  # (0-d stays 0-d)


STRICT = StrictBackend()
