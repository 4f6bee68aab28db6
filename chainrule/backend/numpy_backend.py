"""The NumPy backend: NumPy arrays on the CPU; its fast paths are the numba kernels of ``backend/kernels``.

>>> import numpy as np
>>> from chainrule.backend.numpy_backend import NUMPY
>>> NUMPY.sliding_window_view(np.arange(4), (2,), (0,)).tolist()
[[0, 1], [1, 2], [2, 3]]
"""
from __future__ import annotations

from types import ModuleType

import numpy as np
import numpy.fft  # noqa: F401  (loaded on first import only: the namespace copied below needs it as np.fft)

from chainrule.backend.extras import Backend


def _method_namespace() -> ModuleType:
    """NumPy's namespace with the standard's hottest functions calling the ndarray methods: ``np.sum`` and
    ``np.reshape`` pass through Python wrappers that cost a microsecond or two per call, the methods do not."""
    namespace = ModuleType("numpy", "numpy, its reductions and reshapes through the ndarray methods")
    namespace.__dict__.update({k: v for k, v in vars(np).items() if not k.startswith("__")})

    def sum(x, /, *, axis=None, dtype=None, keepdims=False):  # noqa: A001 - the standard's name
        return x.sum(axis=axis, dtype=dtype, keepdims=keepdims)

    def max(x, /, *, axis=None, keepdims=False):  # noqa: A001
        return x.max(axis=axis, keepdims=keepdims)

    def min(x, /, *, axis=None, keepdims=False):  # noqa: A001
        return x.min(axis=axis, keepdims=keepdims)

    def reshape(x, /, shape, *, copy=None):
        return x.reshape(shape) if copy is None else np.reshape(x, shape, copy=copy)

    def permute_dims(x, /, axes):
        return x.transpose(axes)

    def matrix_transpose(x, /):
        return x.swapaxes(-1, -2)

    def astype(x, dtype, /, *, copy=True):
        return x.astype(dtype, copy=copy)

    for fn in (sum, max, min, reshape, permute_dims, matrix_transpose, astype):
        namespace.__dict__[fn.__name__] = fn
    return namespace


class NumpyBackend(Backend):
    name = "numpy"
    methods = _method_namespace()

    @property
    def xp(self):
        return np

    @property
    def namespace(self):
        return self.methods

    def owns(self, array) -> bool:
        return isinstance(array, (np.ndarray, np.generic))

    def sliding_window_view(self, x, window_shape, axis):
        return np.lib.stride_tricks.sliding_window_view(x, tuple(window_shape), axis=tuple(axis))  # a view, no copy

    def scatter_add(self, target, indices, values):
        np.add.at(target, indices, values)
        return target

    def put_along_axis(self, target, indices, values, axis):
        np.put_along_axis(target, indices, values, axis=axis)
        return target

    def pad(self, x, pads, value=0.0):
        return np.pad(x, pads, constant_values=value)

    def matmul_into(self, a, b, out):
        return np.matmul(a, b, out=out)

    def random_generator(self, seed=None):
        return np.random.default_rng(seed)

    def as_numeric(self, mask, dtype):
        return mask  # the ufuncs cast bools inside their loop: no converted copy

    def to_host(self, x):
        return x if isinstance(x, np.ndarray) else np.asarray(x)

    def from_host(self, x):
        return x



NUMPY = NumpyBackend()
