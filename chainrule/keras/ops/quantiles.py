"""``keras.ops``' order statistics: ``quantile``, ``percentile`` and their NaN-ignoring forms ``nanquantile``,
``nanpercentile`` and ``nanmedian`` (NumPy's methods 'linear', 'lower', 'higher', 'midpoint' and 'nearest'). The
values are gathered from a sorted copy, so the gradient goes to the one or two values each quantile interpolates.

>>> import numpy as np
>>> from chainrule.keras import ops
>>> x = np.array([[1.0, 2.0, 3.0, 4.0], [4.0, np.nan, 0.0, 2.0]], "float32")
>>> ops.quantile(x[0], [0.25, 0.5]).numpy()
array([1.75, 2.5 ], dtype=float32)
>>> ops.nanmedian(x, axis=1).numpy()
array([2.5, 2. ], dtype=float32)
>>> float(ops.percentile(x[0], 50, method="lower"))
2.0
"""
from __future__ import annotations

import numpy as np

from chainrule import backend
from chainrule.engine.tensor import Tensor, TensorLike
from chainrule.keras.ops.core import cast, to_float, to_tensor
from chainrule.keras.ops.numpy import _axes_last, _axes_of, _kept, moveaxis, sort, take_along_axis, where
from chainrule.keras.ops.symbolic import wrap_namespace
from chainrule.ops import shape as _shape
from chainrule.ops.no_gradient import no_gradient

METHODS = ("linear", "lower", "higher", "midpoint", "nearest")


def _positions(merged, q: tuple, ignore_nan: bool):
    """Where each quantile falls among the sorted values of each row, as a float index (rows, ..., len(q))."""
    xp = backend.array_namespace(merged)
    count = xp.sum(~xp.isnan(merged), axis=-1) if ignore_nan else xp.full(merged.shape[:-1], merged.shape[-1])
    return xp.maximum(xp.asarray(q, dtype=xp.float64) * (count[..., None] - 1.0), 0.0)


def _rounded(positions, how: str):
    xp = backend.array_namespace(positions)
    return {"floor": xp.floor, "ceil": xp.ceil, "round": xp.round}[how](positions).astype(np.int64)


def _fraction(positions):
    return positions - backend.array_namespace(positions).floor(positions)


def _empty_rows(merged, ignore_nan: bool):
    """Rows whose answer is NaN: any NaN (``quantile``), only NaNs (``nanquantile``)."""
    xp = backend.array_namespace(merged)
    nan = xp.isnan(merged)
    return xp.all(nan, axis=-1) if ignore_nan else xp.any(nan, axis=-1)


def _quantile(x: TensorLike, q, axis, method: str, keepdims: bool, ignore_nan: bool, scale: float,
              fn: str) -> Tensor:
    if method not in METHODS:
        raise ValueError(f"{fn}: Invalid `method`: expected one of {METHODS}. Received: method={method!r}")
    x = to_tensor(x)
    x = cast(x, backend.floatx()) if x.dtype.kind in "biu" else to_float(x)
    fractions = np.asarray(q.numpy() if isinstance(q, Tensor) else q, dtype=np.float64) / scale
    if fractions.ndim > 1 or np.isnan(fractions).any() or (fractions < 0).any() or (fractions > 1).any():
        raise ValueError(f"{fn}: `q` must be a number or a 1-D list of numbers in [0, {scale:g}]. Received: q={q!r}")
    axes = _axes_of(axis, x.ndim, fn)
    merged = _axes_last(x, axes)                                   # (rest..., n)
    ordered = sort(merged, axis=-1)                                # NaNs sort last
    positions = no_gradient(_positions, merged, q=tuple(fractions.reshape(-1).tolist()), ignore_nan=ignore_nan)
    pick = {"lower": ("floor",), "higher": ("ceil",), "nearest": ("round",)}.get(method, ("floor", "ceil"))
    values = [take_along_axis(ordered, no_gradient(_rounded, positions, how=how), axis=-1) for how in pick]
    if method == "linear":
        out = values[0] + (values[1] - values[0]) * cast(no_gradient(_fraction, positions), x.dtype)
    elif method == "midpoint":
        out = (values[0] + values[1]) * 0.5
    else:
        out = values[0]
    out = where(no_gradient(_empty_rows, merged, ignore_nan=ignore_nan)[..., None], np.nan, out)
    if keepdims:
        out = _shape.reshape(out, _kept(x.shape, axes, True) + (out.shape[-1],))
    out = moveaxis(out, -1, 0)                                     # the quantiles first, as NumPy
    return _shape.reshape(out, out.shape[1:]) if fractions.ndim == 0 else out


def quantile(x: TensorLike, q, axis=None, method: str = "linear", keepdims: bool = False) -> Tensor:
    """The ``q``-th quantiles (``q`` in [0, 1], a number or a 1-D list: its axis comes first) over ``axis``."""
    return _quantile(x, q, axis, method, keepdims, False, 1.0, "quantile")


def percentile(x: TensorLike, q, axis=None, method: str = "linear", keepdims: bool = False) -> Tensor:
    """The ``q``-th percentiles (``q`` in [0, 100]) over ``axis``."""
    return _quantile(x, q, axis, method, keepdims, False, 100.0, "percentile")


def nanquantile(x: TensorLike, q, axis=None, method: str = "linear", keepdims: bool = False) -> Tensor:
    """As :func:`quantile`, NaNs left out (NaN where a row holds nothing else)."""
    return _quantile(x, q, axis, method, keepdims, True, 1.0, "nanquantile")


def nanpercentile(x: TensorLike, q, axis=None, method: str = "linear", keepdims: bool = False) -> Tensor:
    """As :func:`percentile`, NaNs left out."""
    return _quantile(x, q, axis, method, keepdims, True, 100.0, "nanpercentile")


def nanmedian(x: TensorLike, axis=None, keepdims: bool = False) -> Tensor:
    """The median over ``axis``, NaNs left out."""
    return _quantile(x, 0.5, axis, "linear", keepdims, True, 1.0, "nanmedian")


__all__ = ["nanmedian", "nanpercentile", "nanquantile", "percentile", "quantile"]
wrap_namespace(globals(), __all__, "keras.ops.")
