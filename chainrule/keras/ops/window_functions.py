"""``keras.ops``' window functions for signal processing: ``bartlett``, ``blackman``, ``hamming``, ``hanning`` and
``kaiser``, each of length ``x`` (NumPy's definitions, symmetric), as floatx constants.

>>> from chainrule.keras import ops
>>> ops.hamming(4).numpy()
array([0.08, 0.77, 0.77, 0.08], dtype=float32)
"""
from __future__ import annotations

import numbers

import numpy as np

from chainrule import backend
from chainrule.engine.tensor import Tensor, TensorLike


def _length(x, fn: str) -> int:
    value = x.numpy() if isinstance(x, Tensor) else np.asarray(x)
    if value.ndim != 0 or value.dtype.kind not in "iu" and not (value.dtype.kind == "f" and float(value).is_integer()):
        raise ValueError(f"{fn}: `x` must be the window's length, an integer scalar. Received: x={x!r}")
    return int(value)


def _window(values: np.ndarray) -> Tensor:
    return Tensor._wrap(backend.xp.asarray(values.astype(backend.floatx())))


def bartlett(x: TensorLike) -> Tensor:
    """The triangular (Bartlett) window of ``x`` points."""
    return _window(np.bartlett(_length(x, "bartlett")))


def blackman(x: TensorLike) -> Tensor:
    """The Blackman window of ``x`` points."""
    return _window(np.blackman(_length(x, "blackman")))


def hamming(x: TensorLike) -> Tensor:
    """The Hamming window of ``x`` points."""
    return _window(np.hamming(_length(x, "hamming")))


def hanning(x: TensorLike) -> Tensor:
    """The Hann window of ``x`` points."""
    return _window(np.hanning(_length(x, "hanning")))


def kaiser(x: TensorLike, beta: float) -> Tensor:
    """The Kaiser window of ``x`` points and shape ``beta``."""
    if not isinstance(beta, numbers.Real) and not isinstance(beta, Tensor):
        raise TypeError(f"kaiser: `beta` must be a number. Received: beta={beta!r}")
    return _window(np.kaiser(_length(x, "kaiser"), float(beta)))


__all__ = ["bartlett", "blackman", "hamming", "hanning", "kaiser"]
