"""What a backend provides beyond its array namespace: the short, named list of pieces the array API standard lacks.

Every op is written on the array namespace of its inputs (``backend.array_namespace(*arrays)``); where it needs one
of the pieces below it asks the backend of those arrays (``backend.extras_for(*arrays)``). A new backend subclasses
:class:`Backend` and fills in each of them (docs/architecture.md, "Backends").

>>> import numpy as np
>>> from chainrule.backend.numpy_backend import NUMPY
>>> NUMPY.scatter_add(np.zeros(3), np.array([0, 2, 0]), np.ones(3))
array([2., 0., 1.])
"""
from __future__ import annotations

from types import ModuleType
from typing import Any, Callable, Sequence

import numpy as np

EXTRAS = ("sliding_window_view", "scatter_add", "put_along_axis", "pad", "matmul_into", "random_generator",
          "to_host", "from_host", "as_numeric", "fused", "read_later")


class Backend:
    """One array backend: its name, its array namespace ``xp``, its devices, and the extras in :data:`EXTRAS`."""

    name: str = ""
    device_type: str = "CPU"  # what tf.config.list_physical_devices calls its devices
    takes_out: bool = True  # its functions write into a buffer (``out=``), as NumPy's and CuPy's do

    @property
    def xp(self) -> ModuleType:
        raise NotImplementedError(f"backend {self.name!r} must name its array namespace")

    @property
    def namespace(self) -> ModuleType:
        """The namespace the ops call (``xp``, or a faster equivalent of it on the same arrays)."""
        return self.xp

    def device_count(self) -> int:
        """How many devices of ``device_type`` this backend sees."""
        return 1

    def owns(self, array) -> bool:
        """True when ``array`` is one of this backend's arrays."""
        raise NotImplementedError

    # --- the extras ---------------------------------------------------------------------------------------------
    def sliding_window_view(self, x, window_shape: Sequence[int], axis: Sequence[int]):
        """Every window of ``window_shape`` over ``axis`` of ``x``, the window axes appended at the end (NumPy's
        ``sliding_window_view``): the im2col of convolution and pooling."""
        raise NotImplementedError

    def scatter_add(self, target, indices, values):
        """``target[indices] += values`` with repeated indices summed (NumPy's ``add.at``) along axis 0; returns the
        result (``target`` itself where the backend can write in place)."""
        raise NotImplementedError

    def put_along_axis(self, target, indices, values, axis: int):
        """``target`` with ``values`` written at ``indices`` along ``axis`` (NumPy's ``put_along_axis``); returns the
        result (``target`` itself where the backend writes in place)."""
        xp = self.xp
        axis = axis % target.ndim
        positions = xp.reshape(xp.arange(target.shape[axis], dtype=indices.dtype),
                               (1,) * axis + (-1,) + (1,) * (target.ndim - axis - 1))
        values = xp.broadcast_to(xp.asarray(values, dtype=target.dtype), indices.shape)
        for k in range(indices.shape[axis]):  # one masked select per index along the axis: standard functions only
            pick = (slice(None),) * axis + (slice(k, k + 1),)
            target = xp.where(positions == indices[pick], values[pick], target)
        return target

    def pad(self, x, pads, value=0.0):
        """``x`` with ``pads[i] = (before, after)`` elements of ``value`` around axis i (NumPy's ``pad``, constant
        mode); here one concatenation per padded axis: standard functions only."""
        xp = self.xp
        for axis, (before, after) in enumerate(pads):
            if before or after:
                border = lambda n: xp.full(x.shape[:axis] + (n,) + x.shape[axis + 1:], value, dtype=x.dtype)  # noqa: E731
                x = xp.concat([border(before), x, border(after)], axis=axis)
        return x

    def matmul_into(self, a, b, out):
        """``a @ b``, written into ``out`` where the backend can (returns the result, which may be a new array)."""
        raise NotImplementedError

    def random_generator(self, seed: int | None = None) -> Any:
        """A random stream with NumPy Generator's methods (``normal``, ``uniform``, ``integers``, ``permutation``)
        whose draws are this backend's arrays, or NumPy arrays that :meth:`from_host` moves over."""
        raise NotImplementedError

    def to_host(self, x) -> np.ndarray:
        """``x``'s values as a NumPy array (no copy where it already lives on the host)."""
        raise NotImplementedError

    def from_host(self, x: np.ndarray):
        """A NumPy array's values as this backend's array (one copy to the device where there is one)."""
        return self.xp.asarray(x)

    def as_numeric(self, mask, dtype):
        """A boolean mask as an operand of arithmetic with ``dtype`` arrays (the standard has no bool arithmetic)."""
        return self.xp.astype(mask, dtype)

    def fused(self, name: str) -> Callable | None:
        """The backend's one-pass kernel ``name`` for a piece that NumPy's formula does in several passes, or None
        (the formula then runs). The pieces, each taking its NumPy formula's arguments:

        - 'adam', 'sgd': an optimizer's update (its formula's arguments: variable, gradient, slots, scratch, constants,
          keep, gscale) plus ``only_if_finite``, an array whose first value must be finite for the update to happen
          (a training step on a device skips a non-finite loss's update without reading the loss);
        - 'bias_relu' (y, b), in place; 'relu_grad' (g, y) -> g * (y > 0);
        - 'tap_max' (z, y, argmax) and 'tap_spread' (g, argmax, out): the window-major max pooling of
          chainrule/backend/kernels/pooling.py;
        - 'erf' (x) -> erf(x), which the array API lacks (its series then runs: kernels/special.erf_namespace).
        """
        return None

    def read_later(self, x) -> Callable[[], float]:
        """A function returning ``float(x)`` (a one-element array) when called: on a device the copy to the host
        starts now and the call waits only for it, so a training loop reads a step's loss after launching the next
        step instead of waiting for the device at every step."""
        value = float(self.to_host(x).reshape(-1)[0])
        return lambda: value

    def __repr__(self) -> str:
        return f"<chainrule backend {self.name!r}>"
