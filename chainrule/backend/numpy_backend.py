"""The NumPy backend: NumPy arrays on the CPU; its fast paths are the numba kernels of ``backend/kernels``.

>>> import numpy as np
>>> from chainrule.backend.numpy_backend import NUMPY
>>> NUMPY.sliding_window_view(np.arange(4), (2,), (0,)).tolist()
[[0, 1], [1, 2], [2, 3]]
"""
from __future__ import annotations

import numpy as np

from chainrule.backend.extras import Backend


class NumpyBackend(Backend):
    name = "numpy"

    @property
    def xp(self):
        return np

    def owns(self, array) -> bool:
        return isinstance(array, (np.ndarray, np.generic))

    def sliding_window_view(self, x, window_shape, axis):
        return np.lib.stride_tricks.sliding_window_view(x, tuple(window_shape), axis=tuple(axis))  # a view, no copy

    def scatter_add(self, target, indices, values):
        np.add.at(target, indices, values)
        return target

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
