"""The CuPy backend: CuPy arrays on an NVIDIA GPU (``pip install -e '.[gpu]'``, CUDA 12).

CuPy mirrors NumPy's API, so the ops run unchanged on its arrays; the extras use CuPy's own functions, and its
``ElementwiseKernel`` where one pass replaces several (the scatter-add of integer indices uses ``cupyx``). Importing
this module needs no CuPy: choosing the backend does.

>>> from chainrule.backend.cupy_backend import CUPY
>>> CUPY.name
'cupy'
"""
from __future__ import annotations

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


class CupyBackend(Backend):
    name = "cupy"
    device_type = "GPU"

    @property
    def xp(self):
        return cupy_module()

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



CUPY = CupyBackend()
