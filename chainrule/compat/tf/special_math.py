"""``tf.math``'s special functions and safe arithmetic: ``lgamma``, ``digamma``, ``polygamma``, ``zeta``, ``betainc``,
``igamma``/``igammac``, ``erfinv``, ``erfcinv``, ``ndtri``, ``bessel_i0``/``i1`` and their exponentially scaled
forms, ``xlogy``, ``xdivy``,
``xlog1py``, ``multiply_no_nan``, ``reciprocal_no_nan``, ``truncatediv``/``truncatemod``, ``nextafter``,
``polyval``, ``cumulative_logsumexp``, ``count_nonzero``, ``in_top_k``, ``is_non_decreasing`` and
``is_strictly_increasing``, with TensorFlow's arguments. The smooth ones are differentiable (registered ops of
chainrule/ops/special.py, or compositions whose unused branch gets no NaN gradient).

>>> import numpy as np
>>> import chainrule as tf
>>> tf.math.xlogy(np.array([0.0, 2.0], "float32"), np.array([0.0, np.e], "float32")).numpy()
array([0., 2.], dtype=float32)
>>> round(float(tf.math.lgamma(5.0)), 4)  # log(4!)
3.1781
>>> tf.math.cumulative_logsumexp(np.log(np.array([1.0, 2.0, 3.0], "float32"))).numpy().round(4)
array([0.    , 1.0986, 1.7918], dtype=float32)
"""
from __future__ import annotations

import math
import types

import numpy as np

from chainrule import ops
from chainrule.engine.tensor import Tensor, TensorLike, as_tensor
from chainrule.keras import ops as _kops
from chainrule.ops import special as _special
from chainrule.ops.no_gradient import no_gradient


def _float(x: TensorLike) -> Tensor:
    x = as_tensor(x)
    return x if x.dtype.kind == "f" else ops.cast(x, "float32")


def _pair(x: TensorLike, y: TensorLike) -> tuple[Tensor, Tensor]:
    x, y = as_tensor(x), as_tensor(y)
    if x.dtype != y.dtype:
        common = np.result_type(x.dtype, y.dtype)
        x, y = ops.cast(x, common), ops.cast(y, common)
    return x, y


def lgamma(x: TensorLike, name=None) -> Tensor:
    """log|Γ(x)|."""
    return _special.lgamma(_float(x))


def digamma(x: TensorLike, name=None) -> Tensor:
    """ψ(x), the derivative of lgamma."""
    return _special.digamma(_float(x))


def igamma(a: TensorLike, x: TensorLike, name=None) -> Tensor:
    """The regularised lower incomplete gamma function P(a, x) (differentiable in x)."""
    return _special.gammainc(*_pair(_float(a), _float(x)))


def igammac(a: TensorLike, x: TensorLike, name=None) -> Tensor:
    """The regularised upper incomplete gamma function Q(a, x) = 1 - P(a, x)."""
    return 1.0 - igamma(a, x)


def betainc(a: TensorLike, b: TensorLike, x: TensorLike, name=None) -> Tensor:
    """The regularised incomplete beta function I_x(a, b) (differentiable in x)."""
    return _special.betainc(_float(a), _float(b), _float(x))


def zeta(x: TensorLike, q: TensorLike, name=None) -> Tensor:
    """The Hurwitz zeta function ``Σ_k (q + k)^-x`` (differentiable in q)."""
    return _special.zeta(*_pair(_float(x), _float(q)))


def polygamma(a: TensorLike, x: TensorLike, name=None) -> Tensor:
    """ψ⁽ᵃ⁾(x), the a-th derivative of digamma, for integer orders a >= 0 (differentiable in x)."""
    return _special.polygamma(a, _float(x))


def lbeta(x: TensorLike, name=None) -> Tensor:
    """``log B(x)`` of the last axis: ``Σ lgamma(x_i) - lgamma(Σ x_i)``."""
    x = _float(x)
    return ops.sum(_special.lgamma(x), -1) - _special.lgamma(ops.sum(x, -1))


def erfinv(x: TensorLike, name=None) -> Tensor:
    """The inverse error function."""
    return _special.erfinv(_float(x))


def erfcinv(x: TensorLike, name=None) -> Tensor:
    """The inverse complementary error function, ``erfinv(1 - x)``."""
    return _special.erfinv(1.0 - _float(x))


def ndtri(x: TensorLike, name=None) -> Tensor:
    """The standard normal quantile function, ``√2 erfinv(2x - 1)``."""
    return math.sqrt(2.0) * _special.erfinv(2.0 * _float(x) - 1.0)


def bessel_i0(x: TensorLike, name=None) -> Tensor:
    """The modified Bessel function I0."""
    return _special.bessel_i0(_float(x))


def bessel_i1(x: TensorLike, name=None) -> Tensor:
    """The modified Bessel function I1."""
    return _special.bessel_i1(_float(x))


def bessel_i0e(x: TensorLike, name=None) -> Tensor:
    """``exp(-|x|) I0(x)``."""
    x = _float(x)
    return ops.exp(-ops.abs(x)) * _special.bessel_i0(x)


def bessel_i1e(x: TensorLike, name=None) -> Tensor:
    """``exp(-|x|) I1(x)``."""
    x = _float(x)
    return ops.exp(-ops.abs(x)) * _special.bessel_i1(x)


def xlogy(x: TensorLike, y: TensorLike, name=None) -> Tensor:
    """``x * log(y)``, 0 where x is 0 (even where y is 0)."""
    x, y = _pair(x, y)
    zero = _kops.equal(x, 0)
    return ops.where(zero, 0.0, x * ops.log(ops.where(zero, 1.0, y)))


def xlog1py(x: TensorLike, y: TensorLike, name=None) -> Tensor:
    """``x * log1p(y)``, 0 where x is 0."""
    x, y = _pair(x, y)
    zero = _kops.equal(x, 0)
    return ops.where(zero, 0.0, x * ops.log1p(ops.where(zero, 0.0, y)))


def xdivy(x: TensorLike, y: TensorLike, name=None) -> Tensor:
    """``x / y``, 0 where x is 0."""
    x, y = _pair(x, y)
    zero = _kops.equal(x, 0)
    return ops.where(zero, 0.0, x / ops.where(zero, 1.0, y))


def multiply_no_nan(x: TensorLike, y: TensorLike, name=None) -> Tensor:
    """``x * y``, 0 where y is 0 (even where x is inf or NaN)."""
    x, y = _pair(x, y)
    zero = _kops.equal(y, 0)
    return ops.where(zero, 0.0, ops.where(zero, 0.0, x) * y)


def reciprocal_no_nan(x: TensorLike, name=None) -> Tensor:
    """``1 / x``, 0 where x is 0."""
    x = _float(x)
    zero = _kops.equal(x, 0)
    return ops.where(zero, 0.0, 1.0 / ops.where(zero, 1.0, x))


def truncatediv(x: TensorLike, y: TensorLike, name=None) -> Tensor:
    """Integer division rounding toward zero (C's ``/``); no gradient."""
    x, y = _pair(x, y)
    return no_gradient(_truncated_division, x, y)


def _truncated_division(x, y):
    quotient = np.trunc(np.true_divide(x, y))
    return quotient.astype(x.dtype) if x.dtype.kind in "iu" else quotient


def truncatemod(x: TensorLike, y: TensorLike, name=None) -> Tensor:
    """The remainder of :func:`truncatediv` (the sign of x, C's ``%``)."""
    return _kops.fmod(*_pair(x, y))


def nextafter(x1: TensorLike, x2: TensorLike, name=None) -> Tensor:
    """The next representable value after x1 towards x2; no gradient."""
    return _kops.nextafter(x1, x2)


def rint(x: TensorLike, name=None) -> Tensor:
    """The nearest integer, halves to even (as a float); no gradient."""
    return _kops.round(x)


def scalar_mul(scalar, x: TensorLike, name=None) -> Tensor:
    """``scalar * x`` for a number ``scalar``."""
    if np.ndim(scalar.numpy() if isinstance(scalar, Tensor) else scalar) != 0:
        raise ValueError(f"tf.math.scalar_mul: scalar must be a 0-D value, got shape {np.shape(scalar)}")
    return as_tensor(x) * scalar


def accumulate_n(inputs, shape=None, tensor_dtype=None, name=None) -> Tensor:
    """The elementwise sum of tensors of one shape, as ``tf.add_n``."""
    from chainrule.compat.tf.api import add_n

    return add_n(inputs)


def approx_max_k(operand: TensorLike, k: int, reduction_dimension: int = -1, recall_target: float = 0.95,
                 reduction_input_size_override: int = -1, aggregate_to_topk: bool = True, name=None):
    """``(values, indices)`` of the ``k`` largest entries along ``reduction_dimension`` (computed exactly)."""
    return _top_k_along(operand, k, reduction_dimension, largest=True)


def approx_min_k(operand: TensorLike, k: int, reduction_dimension: int = -1, recall_target: float = 0.95,
                 reduction_input_size_override: int = -1, aggregate_to_topk: bool = True, name=None):
    """``(values, indices)`` of the ``k`` smallest entries along ``reduction_dimension`` (computed exactly)."""
    return _top_k_along(operand, k, reduction_dimension, largest=False)


def _top_k_along(operand: TensorLike, k: int, axis: int, largest: bool):
    x = as_tensor(operand)
    moved = _kops.moveaxis(x, axis, -1)
    values, indices = _kops.top_k(moved if largest else -moved, k)
    values = values if largest else -values
    return _kops.moveaxis(values, -1, axis), _kops.moveaxis(indices, -1, axis)


def polyval(coeffs, x: TensorLike, name=None) -> Tensor:
    """``coeffs[0] x^(n-1) + ... + coeffs[n-1]`` by Horner's rule (a list of tensors or numbers)."""
    if not isinstance(coeffs, (list, tuple)):
        raise ValueError(f"Argument coeffs must be list type found {type(coeffs)}.")
    x = as_tensor(x)
    if not coeffs:
        return _kops.zeros_like(x)
    total = coeffs[0] + _kops.zeros_like(x)
    for c in coeffs[1:]:
        total = total * x + c
    return total


def cumulative_logsumexp(x: TensorLike, axis: int = 0, exclusive: bool = False, reverse: bool = False,
                         name=None) -> Tensor:
    """``log(cumsum(exp(x)))`` along ``axis`` without overflow (``exclusive``: the running total before each
    element, -inf first; ``reverse``: from the end)."""
    x = _float(x)
    if reverse:
        x = _kops.flip(x, axis)
    shift = _kops.stop_gradient(_kops.max(x, axis=axis, keepdims=True))
    shift = ops.where(_kops.isfinite(shift), shift, 0.0)
    out = ops.log(_kops.cumsum(ops.exp(x - shift), axis=axis)) + shift
    if exclusive:
        ax = axis % x.ndim
        first = _kops.full(tuple(1 if d == ax else n for d, n in enumerate(x.shape)), -np.inf, x.dtype)
        out = _kops.concatenate([first, _kops.take(out, np.arange(x.shape[ax] - 1), axis=ax)], axis=ax)
    return _kops.flip(out, axis) if reverse else out


def count_nonzero(input: TensorLike, axis=None, keepdims=None, dtype="int64", name=None) -> Tensor:  # noqa: A002
    """How many values along ``axis`` are not zero (or not empty strings), as ``dtype``."""
    x = as_tensor(input)
    counted = _kops.count_nonzero(x, axis=axis)
    if keepdims:
        axes = range(x.ndim) if axis is None else [axis] if isinstance(axis, int) else axis
        counted = ops.reshape(counted, tuple(1 if d in [a % x.ndim for a in axes] else n
                                             for d, n in enumerate(x.shape)))
    return ops.cast(counted, dtype)


def in_top_k(targets: TensorLike, predictions: TensorLike, k: int, name=None) -> Tensor:
    """Whether each target class is among the ``k`` largest predictions of its row (TensorFlow 2's order:
    targets first)."""
    return _kops.in_top_k(targets, predictions, k)


def _monotonic(x, strict):
    flat = np.ravel(x)
    steps = np.diff(flat)
    return np.asarray(bool(np.all(steps > 0) if strict else np.all(steps >= 0)))


def is_non_decreasing(x: TensorLike, name=None) -> Tensor:
    """Whether the values, in row-major order, never decrease."""
    return no_gradient(_monotonic, as_tensor(x), strict=False)


def is_strictly_increasing(x: TensorLike, name=None) -> Tensor:
    """Whether the values, in row-major order, always increase."""
    return no_gradient(_monotonic, as_tensor(x), strict=True)


__all__ = ["accumulate_n", "approx_max_k", "approx_min_k", "bessel_i0", "bessel_i0e", "bessel_i1", "bessel_i1e",
           "betainc", "count_nonzero", "cumulative_logsumexp", "digamma", "erfcinv", "erfinv", "igamma",
           "igammac", "in_top_k", "is_non_decreasing", "is_strictly_increasing", "lbeta", "lgamma",
           "multiply_no_nan", "ndtri", "nextafter", "polygamma", "polyval", "reciprocal_no_nan", "rint",
           "scalar_mul", "truncatediv", "truncatemod", "xdivy", "xlog1py", "xlogy", "zeta"]


# tf.math.special: the special functions TensorFlow also lists there
special = types.SimpleNamespace(bessel_i0=bessel_i0, bessel_i0e=bessel_i0e, bessel_i1=bessel_i1, bessel_i1e=bessel_i1e)
__all__ += ["special"]
