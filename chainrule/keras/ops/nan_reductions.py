"""``keras.ops``' NaN-ignoring reductions: ``nansum``, ``nanprod``, ``nanmean``, ``nanvar``, ``nanstd``, ``nanmax``,
``nanmin``, ``nanargmax``, ``nanargmin``, ``nancumsum`` and ``nancumprod``. Each replaces the NaNs by the reduction's
neutral value and reduces with the ordinary (differentiable) function, so a NaN gets a zero gradient.

>>> import numpy as np
>>> from chainrule.keras import ops
>>> x = np.array([[1.0, np.nan, 3.0], [np.nan, np.nan, np.nan]], "float32")
>>> ops.nansum(x, axis=1).numpy(), float(ops.nanmean(x[0]))
(array([4., 0.], dtype=float32), 2.0)
>>> ops.nanargmax(x, axis=1).numpy()
array([ 2, -1], dtype=int32)
"""
from __future__ import annotations

import numpy as np

from chainrule import backend
from chainrule.engine.tensor import Tensor, TensorLike
from chainrule.keras.ops.core import as_axis, cast, to_float, to_tensor
from chainrule.keras.ops import numpy as knp
from chainrule.keras.ops.symbolic import wrap_namespace
from chainrule.ops.no_gradient import no_gradient


def _filled(x: Tensor, value: float) -> Tensor:
    """``x`` with its NaNs replaced by ``value`` (floats only: other dtypes hold no NaN)."""
    return knp.where(knp.isnan(x), value, x) if x.dtype.kind == "f" else x


def _count(x: Tensor, axis, keepdims: bool) -> Tensor:
    return knp.sum(knp.logical_not(knp.isnan(x)), axis=axis, keepdims=keepdims)


def nansum(x: TensorLike, axis=None, keepdims: bool = False) -> Tensor:
    """Sum over ``axis`` with NaNs counted as 0 (small integers sum as int32, as :func:`sum`)."""
    return knp.sum(_filled(to_tensor(x), 0.0), axis, keepdims)


def nanprod(x: TensorLike, axis=None, keepdims: bool = False) -> Tensor:
    """Product over ``axis`` with NaNs counted as 1."""
    return knp.prod(_filled(to_tensor(x), 1.0), axis, keepdims)


def nanmean(x: TensorLike, axis=None, keepdims: bool = False) -> Tensor:
    """Mean of the values that are not NaN (NaN where there are none); integers average as floatx."""
    x = to_float(x)
    return knp.sum(_filled(x, 0.0), axis, keepdims) / cast(_count(x, axis, keepdims), x.dtype)


def nanvar(x: TensorLike, axis=None, keepdims: bool = False) -> Tensor:
    """Population variance of the values that are not NaN."""
    x = to_float(x)
    centred = _filled(x - nanmean(x, axis, keepdims=True), 0.0)
    return knp.sum(centred * centred, axis, keepdims) / cast(_count(x, axis, keepdims), x.dtype)


def nanstd(x: TensorLike, axis=None, keepdims: bool = False) -> Tensor:
    """Population standard deviation of the values that are not NaN."""
    return knp.sqrt(nanvar(x, axis, keepdims))


def _extreme(x: TensorLike, axis, keepdims: bool, reduce, fill: float) -> Tensor:
    x = to_tensor(x)
    if x.dtype.kind != "f":
        return reduce(x, axis, keepdims)
    out = reduce(_filled(x, fill), axis, keepdims)
    return knp.where(knp.all(knp.isnan(x), axis=axis, keepdims=keepdims), np.nan, out)


def nanmax(x: TensorLike, axis=None, keepdims: bool = False) -> Tensor:
    """Largest value that is not NaN (NaN where all are)."""
    return _extreme(x, axis, keepdims, knp.max, -np.inf)


def nanmin(x: TensorLike, axis=None, keepdims: bool = False) -> Tensor:
    """Smallest value that is not NaN (NaN where all are)."""
    return _extreme(x, axis, keepdims, knp.min, np.inf)


def _nan_arg(x, axis, keepdims, largest: bool):
    xp = backend.array_namespace(x)
    nan = xp.isnan(x)
    filled = xp.where(nan, -xp.inf if largest else xp.inf, x)
    found = (xp.argmax if largest else xp.argmin)(filled, axis=axis, keepdims=keepdims)
    return xp.where(xp.all(nan, axis=axis, keepdims=keepdims), -1, found).astype(np.int32)


def _arg(x: TensorLike, axis, keepdims: bool, largest: bool, name: str) -> Tensor:
    x = to_tensor(x)
    if x.dtype.kind != "f":
        return (knp.argmax if largest else knp.argmin)(x, axis, keepdims)
    axis = None if axis is None else knp._axes_of(axis, x.ndim, name)[0]
    return no_gradient(_nan_arg, x, axis=axis, keepdims=bool(keepdims), largest=largest)


def nanargmax(x: TensorLike, axis=None, keepdims: bool = False) -> Tensor:
    """Index of the largest value that is not NaN, int32 (-1 where all are NaN, as Keras)."""
    return _arg(x, axis, keepdims, True, "nanargmax")


def nanargmin(x: TensorLike, axis=None, keepdims: bool = False) -> Tensor:
    """Index of the smallest value that is not NaN, int32 (-1 where all are NaN)."""
    return _arg(x, axis, keepdims, False, "nanargmin")


def nancumsum(x: TensorLike, axis=None, dtype=None) -> Tensor:
    """Running sum with NaNs counted as 0."""
    return knp.cumsum(_filled(to_tensor(x), 0.0), as_axis(axis), dtype)


def nancumprod(x: TensorLike, axis=None, dtype=None) -> Tensor:
    """Running product with NaNs counted as 1."""
    return knp.cumprod(_filled(to_tensor(x), 1.0), as_axis(axis), dtype)


__all__ = ["nanargmax", "nanargmin", "nancumprod", "nancumsum", "nanmax", "nanmean", "nanmin", "nanprod", "nanstd",
           "nansum", "nanvar"]
wrap_namespace(globals(), __all__, "keras.ops.")
