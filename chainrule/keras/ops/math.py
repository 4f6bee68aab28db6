"""``keras.ops.math``: ``logsumexp``, ``top_k``, ``in_top_k``, the segment reductions, ``erf``, ``erfinv``,
``gammainc``, ``logdet``, ``rsqrt`` and ``cdist``.

>>> import numpy as np
>>> from chainrule.keras import ops
>>> values, indices = ops.top_k(np.array([[1.0, 5.0, 3.0]], "float32"), k=2)
>>> values.numpy(), indices.numpy()
(array([[5., 3.]], dtype=float32), array([[1, 2]], dtype=int32))
>>> ops.segment_sum(np.array([1.0, 2.0, 3.0], "float32"), np.array([0, 0, 1]), num_segments=2).numpy()
array([3., 3.], dtype=float32)
"""
from __future__ import annotations

import numpy as np

from chainrule import backend, ops as _ops
from chainrule.engine.tensor import Tensor, TensorLike
from chainrule.keras.ops.core import as_axis, to_float, to_tensor
from chainrule.keras.ops.symbolic import wrap_namespace
from chainrule.ops import decomposition as _decomposition
from chainrule.ops import indexing as _indexing
from chainrule.ops import special as _special
from chainrule.ops import reduce as _reduce
from chainrule.ops.no_gradient import no_gradient


def logsumexp(x: TensorLike, axis=None, keepdims: bool = False) -> Tensor:
    """``log(sum(exp(x)))`` over ``axis``, without overflow."""
    return _reduce.logsumexp(to_float(x), as_axis(axis), keepdims)


def _top_k_indices(x, k):
    # the order of a stable descending sort (ties: the lower index first), as Keras's reverse-argsort-reverse
    xp = backend.array_namespace(x)
    order = xp.flip(xp.argsort(xp.flip(x, axis=-1), axis=-1, stable=True), axis=-1)
    return xp.astype(x.shape[-1] - 1 - order[..., :k], xp.int32)


def top_k(x: TensorLike, k: int, sorted: bool = True, is_stable: bool = True) -> tuple[Tensor, Tensor]:  # noqa: A002
    """The ``k`` largest values along the last axis, largest first, and their int32 indices (ties: lower index
    first); the values pass the gradient back to where they came from."""
    x = to_tensor(x)
    if x.ndim == 0:
        raise ValueError("top_k: `x` must have at least one axis")
    if not isinstance(k, (int, np.integer)) or not 0 <= k <= x.shape[-1]:
        raise ValueError(f"top_k: `k` must be an integer in [0, {x.shape[-1]}] for x of shape {x.shape}, got {k!r}")
    indices = no_gradient(_top_k_indices, x, k=int(k))
    return _indexing.take_along_axis(x, indices, axis=-1), indices


def _in_top_k(targets, predictions, k):
    picked = backend.xp.take_along_axis(predictions, targets[..., None].astype(np.int64), axis=-1)
    kth = -backend.xp.sort(-predictions, axis=-1)[..., k - 1:k]
    return (picked >= kth)[..., 0]


def in_top_k(targets: TensorLike, predictions: TensorLike, k: int) -> Tensor:
    """Whether each target class is among the ``k`` highest predictions of its row (a tie with the k-th counts)."""
    targets, predictions = to_tensor(targets, "targets"), to_tensor(predictions, "predictions")
    if targets.dtype.kind not in "iu":
        raise TypeError(f"in_top_k: `targets` must be integer class ids, got dtype {targets.dtype}")
    if predictions.ndim < 1 or targets.shape != predictions.shape[:-1]:
        raise ValueError(f"in_top_k: `targets` must have the shape of `predictions` without its last axis: got "
                         f"targets {targets.shape} and predictions {predictions.shape}")
    if not isinstance(k, (int, np.integer)) or not 1 <= k <= predictions.shape[-1]:
        raise ValueError(f"in_top_k: `k` must be an integer in [1, {predictions.shape[-1]}], got {k!r}")
    return no_gradient(_in_top_k, targets, predictions, k=int(k))


def segment_sum(data: TensorLike, segment_ids: TensorLike, num_segments: int | None = None,
                sorted: bool = False) -> Tensor:  # noqa: A002
    """Row sums per segment id (ids outside ``[0, num_segments)`` dropped); ``sorted`` only promises sorted ids."""
    return _indexing.segment_sum(to_tensor(data, "data"), to_tensor(segment_ids, "segment_ids"), num_segments)


def _segment_extreme(data, ids, num_segments, largest):
    fill = -np.inf if largest else np.inf
    if data.dtype.kind in "iu":
        fill = np.iinfo(data.dtype).min if largest else np.iinfo(data.dtype).max
    out = backend.xp.full((num_segments,) + data.shape[1:], fill, dtype=data.dtype)
    kept = (ids >= 0) & (ids < num_segments)
    (backend.xp.maximum if largest else backend.xp.minimum).at(out, ids[kept], data[kept])
    return out


def _segment(data, segment_ids, num_segments, largest: bool, name: str) -> Tensor:
    data, ids = to_tensor(data, "data"), to_tensor(segment_ids, "segment_ids")
    if num_segments is None:
        num_segments = int(ids.numpy().max()) + 1 if ids.size else 0
    if ids.ndim != 1 or data.ndim == 0 or ids.shape[0] != data.shape[0]:
        raise ValueError(f"{name}: `segment_ids` must be 1-D with one id per row of `data`, got shape {ids.shape} "
                         f"for data of shape {data.shape}")
    return no_gradient(_segment_extreme, data, ids, num_segments=int(num_segments), largest=largest)


def segment_max(data: TensorLike, segment_ids: TensorLike, num_segments: int | None = None,
                sorted: bool = False) -> Tensor:  # noqa: A002
    """Row maxima per segment id (-inf for an empty segment); no gradient."""
    return _segment(data, segment_ids, num_segments, True, "segment_max")


def segment_min(data: TensorLike, segment_ids: TensorLike, num_segments: int | None = None,
                sorted: bool = False) -> Tensor:  # noqa: A002
    """Row minima per segment id (+inf for an empty segment); no gradient."""
    return _segment(data, segment_ids, num_segments, False, "segment_min")


def erf(x: TensorLike) -> Tensor:
    """The error function."""
    return _ops.erf(to_float(x))


def erfc(x: TensorLike) -> Tensor:
    """``1 - erf(x)``."""
    return 1.0 - _ops.erf(to_float(x))


def rsqrt(x: TensorLike) -> Tensor:
    """``1 / sqrt(x)``."""
    return _ops.div(1.0, _ops.sqrt(to_float(x)))


def cdist(x: TensorLike, y: TensorLike) -> Tensor:
    """Euclidean distances between the rows of ``x`` and of ``y`` (batched over leading axes)."""
    x, y = to_float(x, "x"), to_float(y, "y")
    if x.ndim < 2 or y.ndim < 2:
        raise ValueError("`cdist` inputs must have rank >= 2")
    if x.shape[-1] != y.shape[-1]:
        raise ValueError("Last dimension of inputs to `cdist` must match")
    diff = _ops.expand_dims(x, -2) - _ops.expand_dims(y, -3)
    return _ops.sqrt(_reduce.sum(diff * diff, -1))


def segment_prod(data: TensorLike, segment_ids: TensorLike, num_segments: int | None = None,
                 sorted: bool = False) -> Tensor:  # noqa: A002
    """Row products per segment id (1 for an empty segment; ids outside ``[0, num_segments)`` dropped). Each
    segment multiplies its rows masked from the whole of ``data`` (a (segments, rows, ...) product, exact with zeros
    and differentiable)."""
    from chainrule.keras.ops.numpy import prod, where

    data, ids = to_tensor(data, "data"), to_tensor(segment_ids, "segment_ids")
    if ids.ndim != 1 or data.ndim == 0 or ids.shape[0] != data.shape[0]:
        raise ValueError(f"segment_prod: `segment_ids` must be 1-D with one id per row of `data`, got shape "
                         f"{ids.shape} for data of shape {data.shape}")
    if num_segments is None:
        num_segments = int(ids.numpy().max()) + 1 if ids.size else 0
    members = no_gradient(_members, ids, num_segments=int(num_segments), rest=data.ndim - 1)
    return prod(where(members, _ops.expand_dims(data, 0), 1), axis=1)


def _members(ids, num_segments, rest):
    """(segments, rows, 1, ...) booleans: whether row j belongs to segment i."""
    xp = backend.array_namespace(ids)
    inside = xp.arange(num_segments)[:, None] == ids[None, :]
    return xp.reshape(inside, inside.shape + (1,) * rest)


def erfinv(x: TensorLike) -> Tensor:
    """The inverse error function on (-1, 1); integers become floatx."""
    return _special.erfinv(to_float(x))


def gammainc(x1: TensorLike, x2: TensorLike) -> Tensor:
    """The regularised lower incomplete gamma function ``P(x1, x2)``, differentiable with respect to ``x2``."""
    x1, x2 = to_float(x1, "x1"), to_float(x2, "x2")
    if x1.dtype != x2.dtype:
        common = np.result_type(x1.dtype, x2.dtype)
        x1, x2 = _ops.cast(x1, common), _ops.cast(x2, common)
    return _special.gammainc(x1, x2)


def logdet(x: TensorLike) -> Tensor:
    """The log of the determinant of each (symmetric positive-definite) matrix: ``log|det x|``, differentiable."""
    return _decomposition.slogdet(to_float(x))[1]


__all__ = ["cdist", "erf", "erfc", "erfinv", "gammainc", "in_top_k", "logdet", "logsumexp", "rsqrt", "segment_max",
           "segment_min", "segment_prod", "segment_sum", "top_k"]
wrap_namespace(globals(), __all__, "keras.ops.")
