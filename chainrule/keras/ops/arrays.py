"""``keras.ops``' NumPy functions that join, split, rotate, difference and build arrays: ``array``, ``view``,
``column_stack``, ``dstack``, ``hsplit``/``vsplit``/``dsplit``, ``diagflat``, ``diff``, ``kron``, ``cross``,
``rot90``, ``vander``, ``trapezoid``, ``geomspace``, ``logspace``, ``slogdet`` and ``vectorize``. All but ``view``,
``geomspace`` and ``logspace`` (constants) are built from differentiable ops.

>>> import numpy as np
>>> from chainrule.keras import ops
>>> ops.diff(np.array([1.0, 4.0, 9.0, 16.0], "float32"), n=2).numpy()
array([2., 2.], dtype=float32)
>>> ops.kron(np.eye(2, dtype="int32"), np.array([[1, 2]], "int32")).numpy()
array([[1, 2, 0, 0],
       [0, 0, 1, 2]], dtype=int32)
>>> ops.rot90(np.array([[1, 2], [3, 4]])).numpy()
array([[2, 4],
       [1, 3]])
"""
from __future__ import annotations

import builtins
import itertools
import re
from typing import Callable

import numpy as np

from chainrule import backend
from chainrule.engine.tensor import Tensor, TensorLike
from chainrule.keras.ops import numpy as knp
from chainrule.keras.ops.core import cast, convert_to_tensor, to_float, to_tensor
from chainrule.keras.ops.symbolic import wrap_namespace
from chainrule.ops import decomposition as _decomposition
from chainrule.ops import shape as _shape
from chainrule.ops.no_gradient import no_gradient


def array(x: TensorLike, dtype=None) -> Tensor:
    """``x`` as a tensor of ``dtype`` (its own when None), as :func:`convert_to_tensor`."""
    return convert_to_tensor(x, dtype)


def _view(x, dtype):
    return x.view(dtype)


def view(x: TensorLike, dtype=None) -> Tensor:
    """The same bytes read as ``dtype`` (the last axis rescaled by the itemsizes' ratio); no gradient."""
    x = to_tensor(x)
    if dtype is None:
        return x
    target = np.dtype(knp.standardize_dtype(dtype))
    if x.ndim == 0 and target.itemsize != x.dtype.itemsize or \
            x.ndim and (x.shape[-1] * x.dtype.itemsize) % target.itemsize:
        raise ValueError(f"view: a tensor of shape {tuple(x.shape)} and dtype {x.dtype} cannot be viewed as "
                         f"{target}: the last axis's bytes must divide into {target.itemsize}-byte items")
    return no_gradient(_view, x, dtype=target.name)


def _joined(xs, name: str) -> list[Tensor]:
    return knp._same_dtype(knp._tensors(xs, name))


def column_stack(xs) -> Tensor:
    """1-D tensors as columns (others as they are) joined along axis 1."""
    tensors = _joined(xs, "xs")
    return knp.concatenate([_shape.reshape(t, (-1, 1)) if t.ndim < 2 else t for t in tensors], axis=1)


def dstack(xs) -> Tensor:
    """Joined along the third axis (1-D (n,) as (1, n, 1), 2-D (m, n) as (m, n, 1))."""
    tensors = _joined(xs, "xs")
    shaped = [_shape.reshape(t, (1, -1, 1)) if t.ndim < 2 else _shape.reshape(t, tuple(t.shape) + (1,))
              if t.ndim == 2 else t for t in tensors]
    return knp.concatenate(shaped, axis=2)


def _split_along(x: TensorLike, indices_or_sections, axis: int, least: int, fn: str) -> list[Tensor]:
    x = to_tensor(x)
    if x.ndim < least:
        raise ValueError(f"{fn} only works on arrays of {least} or more dimensions. Received: x.shape="
                         f"{tuple(x.shape)}")
    return knp.split(x, indices_or_sections, axis=axis)


def hsplit(x: TensorLike, indices_or_sections) -> list[Tensor]:
    """Split along axis 1 (axis 0 of a 1-D tensor)."""
    x = to_tensor(x)
    return _split_along(x, indices_or_sections, 1 if x.ndim > 1 else 0, 1, "hsplit")


def vsplit(x: TensorLike, indices_or_sections) -> list[Tensor]:
    """Split along axis 0 (rows)."""
    return _split_along(x, indices_or_sections, 0, 2, "vsplit")


def dsplit(x: TensorLike, indices_or_sections) -> list[Tensor]:
    """Split along axis 2 (depth)."""
    return _split_along(x, indices_or_sections, 2, 3, "dsplit")


def diagflat(x: TensorLike, k: int = 0) -> Tensor:
    """A square matrix with the flattened ``x`` on its ``k``-th diagonal."""
    return knp.diag(knp.ravel(to_tensor(x)), k)


def diff(a: TensorLike, n: int = 1, axis: int = -1) -> Tensor:
    """The ``n``-th differences ``a[i + 1] - a[i]`` along ``axis`` (booleans: ``!=``)."""
    a = to_tensor(a, "a")
    if not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"diff: order `n` must be a non-negative int. Received: n={n!r}")
    if a.ndim == 0:
        raise ValueError("diff requires input that is at least one dimensional")
    ax = knp._axes_of(axis, a.ndim, "diff")[0]
    lead = (builtins.slice(None),) * ax
    for _ in range(int(n)):
        later, earlier = a[lead + (builtins.slice(1, None),)], a[lead + (builtins.slice(None, -1),)]
        a = knp.not_equal(later, earlier) if a.dtype.kind == "b" else later - earlier
    return a


def kron(x1: TensorLike, x2: TensorLike) -> Tensor:
    """The Kronecker product: each element of ``x1`` times the whole of ``x2``, blocks laid out as ``x1``."""
    x1, x2 = knp._product_operands(x1, x2)
    rank = builtins.max(x1.ndim, x2.ndim)
    s1, s2 = (1,) * (rank - x1.ndim) + tuple(x1.shape), (1,) * (rank - x2.ndim) + tuple(x2.shape)
    a = _shape.reshape(x1, tuple(v for n in s1 for v in (n, 1)))    # (a0, 1, a1, 1, ...)
    b = _shape.reshape(x2, tuple(v for n in s2 for v in (1, n)))    # (1, b0, 1, b1, ...)
    return _shape.reshape(a * b, tuple(p * q for p, q in zip(s1, s2)))


def cross(x1: TensorLike, x2: TensorLike, axisa: int = -1, axisb: int = -1, axisc: int = -1, axis=None) -> Tensor:
    """The cross product of 3-vectors (2-vectors count a z of 0; two 2-vectors give the z component alone) along
    ``axisa``/``axisb`` (``axis`` sets all three), the result's vector axis at ``axisc``."""
    x1, x2 = knp._product_operands(x1, x2)
    if axis is not None:
        axisa = axisb = axisc = axis
    a, b = knp.moveaxis(x1, axisa, -1), knp.moveaxis(x2, axisb, -1)
    if a.shape[-1] not in (2, 3) or b.shape[-1] not in (2, 3):
        raise ValueError(f"Both input arrays must be (arrays of) 2 or 3-dimensional vectors, but they are "
                         f"{a.shape[-1]} and {b.shape[-1]} dimensional instead.")
    if a.shape[-1] == 2 and b.shape[-1] == 2:
        return a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]
    a0, a1 = a[..., 0], a[..., 1]
    b0, b1 = b[..., 0], b[..., 1]
    a2 = a[..., 2] if a.shape[-1] == 3 else None
    b2 = b[..., 2] if b.shape[-1] == 3 else None
    parts = [(a1 * b2 if b2 is not None else 0) - (a2 * b1 if a2 is not None else 0),
             (a2 * b0 if a2 is not None else 0) - (a0 * b2 if b2 is not None else 0),
             a0 * b1 - a1 * b0]
    shape = np.broadcast_shapes(tuple(a.shape[:-1]), tuple(b.shape[:-1]))
    parts = [p if isinstance(p, Tensor) else knp.zeros(shape, x1.dtype) - p for p in parts]
    parts = [knp.broadcast_to(p, shape) for p in parts]
    return knp.moveaxis(knp.stack(parts, axis=-1), -1, axisc)


def rot90(array: TensorLike, k: int = 1, axes=(0, 1)) -> Tensor:  # noqa: A002  (Keras's name)
    """``array`` rotated by 90 degrees ``k`` times in the plane of ``axes`` (from the first towards the second)."""
    x = to_tensor(array, "array")
    if x.ndim < 2:
        raise ValueError(f"Input array must have at least 2 dimensions. Received: array.ndim={x.ndim}")
    axes = tuple(axes)
    if len(axes) != 2 or axes[0] == axes[1] or (axes[0] - axes[1]) % x.ndim == 0:
        raise ValueError(f"Invalid axes: {axes}. Axes must be a tuple of two different dimensions.")
    a0, a1 = knp._axes_of(axes[0], x.ndim, "rot90")[0], knp._axes_of(axes[1], x.ndim, "rot90")[0]
    k = int(k) % 4
    if k == 0:
        return x
    if k == 2:
        return knp.flip(x, (a0, a1))
    perm = list(range(x.ndim))
    perm[a0], perm[a1] = perm[a1], perm[a0]
    return knp.transpose(knp.flip(x, a1), perm) if k == 1 else knp.flip(knp.transpose(x, perm), a1)


def vander(x: TensorLike, N: int | None = None, increasing: bool = False) -> Tensor:  # noqa: N803
    """The Vandermonde matrix of a 1-D ``x``: columns ``x^(N-1) ... x^0`` (ascending with ``increasing``), in x's
    dtype (integers computed exactly)."""
    x = to_tensor(x)
    if x.ndim != 1:
        raise ValueError(f"vander: `x` must be 1-D. Received: x.shape={tuple(x.shape)}")
    n = x.shape[0] if N is None else int(N)
    if n < 0:
        raise ValueError(f"vander: `N` must be non-negative. Received: N={N}")
    powers = np.arange(n) if increasing else np.arange(n - 1, -1, -1)
    columns = [knp.ones_like(x) if p == 0 else x if p == 1 else None for p in powers]
    column = x
    for p in range(2, int(powers.max(initial=0)) + 1):  # repeated products: exact for integers, and differentiable
        column = column * x
        for i, q in enumerate(powers):
            if q == p:
                columns[i] = column
    if not columns:
        return knp.zeros((x.shape[0], 0), x.dtype)
    return knp.stack(columns, axis=1)


def trapezoid(y: TensorLike, x=None, dx: float = 1.0, axis: int = -1) -> Tensor:
    """The integral of ``y`` along ``axis`` by the trapezoidal rule, at sample points ``x`` (or spacing ``dx``)."""
    y = to_float(y, "y")
    ax = knp._axes_of(axis, y.ndim, "trapezoid")[0]
    lead = (builtins.slice(None),) * ax
    later, earlier = y[lead + (builtins.slice(1, None),)], y[lead + (builtins.slice(None, -1),)]
    if x is None:
        spacing = dx if not isinstance(dx, Tensor) else cast(dx, y.dtype)
    else:
        x = cast(to_float(x, "x"), y.dtype)
        if x.ndim == 1:
            d = x[1:] - x[:-1]
            spacing = _shape.reshape(d, tuple(-1 if i == ax else 1 for i in range(y.ndim)))
        else:
            xl = (builtins.slice(None),) * knp._axes_of(axis, x.ndim, "trapezoid")[0]
            spacing = x[xl + (builtins.slice(1, None),)] - x[xl + (builtins.slice(None, -1),)]
    return knp.sum((later + earlier) * spacing, axis=ax) * 0.5


def geomspace(start, stop, num: int = 50, endpoint: bool = True, dtype=None, axis: int = 0) -> Tensor:
    """``num`` numbers spaced evenly on a log scale from ``start`` to ``stop`` (floatx by default)."""
    start, stop = knp._value(start), knp._value(stop)
    if np.any(np.asarray(start) == 0) or np.any(np.asarray(stop) == 0):
        raise ValueError("geomspace: `start` and `stop` must be non-zero (a geometric sequence cannot include 0)")
    kind = knp.standardize_dtype(dtype) if dtype is not None else backend.floatx()
    return Tensor._wrap(backend.xp.asarray(np.geomspace(start, stop, int(num), endpoint=endpoint, dtype=kind,
                                                        axis=axis)))


def logspace(start, stop, num: int = 50, endpoint: bool = True, base=10, dtype=None, axis: int = 0) -> Tensor:
    """``base ** linspace(start, stop, num)`` (the weak float dtype of the ends by default: floatx for numbers)."""
    start, stop = knp._value(start), knp._value(stop)
    kind = knp.standardize_dtype(dtype) if dtype is not None else knp._weak_dtype(start, stop, 0.0)
    return Tensor._wrap(backend.xp.asarray(np.logspace(start, stop, int(num), endpoint=endpoint, base=base,
                                                       dtype=kind, axis=axis)))


def slogdet(x: TensorLike) -> tuple[Tensor, Tensor]:
    """The sign and the log of the absolute value of each square matrix's determinant; the log is differentiable."""
    return _decomposition.slogdet(to_float(x))


# --- vectorize -----------------------------------------------------------------------------------------------------
_CORE = re.compile(r"\(([\w, ]*)\)")


def _core_dims(signature: str) -> tuple[list[tuple[str, ...]], list[tuple[str, ...]]]:
    """A generalised-ufunc signature "(m,n),(n)->(m)" as its inputs' and outputs' core dimension names."""
    if "->" not in signature:
        raise ValueError(f"vectorize: not a valid gufunc signature: {signature!r}")
    sides = signature.replace(" ", "").split("->")
    parse = lambda side: [tuple(d for d in group.split(",") if d) for group in _CORE.findall(side)]  # noqa: E731
    return parse(sides[0]), parse(sides[1])


def vectorize(pyfunc: Callable, *, excluded=None, signature: str | None = None) -> Callable:
    """``pyfunc`` applied over the broadcast leading (loop) axes of its tensor arguments, the results stacked, as
    ``numpy.vectorize``: with a ``signature`` such as "(n),(n)->()" each call sees the core axes; without one it sees
    scalars. Positions or names in ``excluded`` pass through unchanged. Each call is made of ops, so gradients flow
    (one Python call per element: for small loops)."""
    excluded = set(excluded or ())
    core_in, core_out = _core_dims(signature) if signature else (None, None)

    def wrapper(*args, **kwargs):
        vectorized = [i for i in range(len(args)) if i not in excluded]
        tensors = {i: to_tensor(args[i], f"args[{i}]") for i in vectorized}
        cores = core_in if core_in is not None else [()] * len(vectorized)
        if len(cores) != len(vectorized):
            raise ValueError(f"vectorize: the signature {signature!r} has {len(cores)} inputs, the call gives "
                             f"{len(vectorized)} vectorized arguments")
        loops = [tuple(tensors[i].shape[:tensors[i].ndim - len(c)]) for i, c in zip(vectorized, cores)]
        loop_shape = np.broadcast_shapes(*loops) if loops else ()
        broadcast = {i: knp.broadcast_to(tensors[i], loop_shape + tuple(tensors[i].shape[len(loop):]))
                     for i, loop in zip(vectorized, loops)}
        results = []
        for index in itertools.product(*(range(n) for n in loop_shape)):
            call = [broadcast[i][index] if i in broadcast else a for i, a in enumerate(args)]
            results.append(pyfunc(*call, **kwargs))
        if not results:
            raise ValueError("vectorize: nothing to loop over (a loop axis of size 0)")
        outputs = len(core_out) if core_out is not None and len(core_out) > 1 else 0
        if outputs:
            return tuple(_stacked([to_tensor(r[k]) for r in results], loop_shape) for k in range(outputs))
        return _stacked([to_tensor(r) for r in results], loop_shape)

    wrapper.__name__ = getattr(pyfunc, "__name__", "vectorized")
    wrapper.__doc__ = pyfunc.__doc__
    return wrapper


def _stacked(parts: list[Tensor], loop_shape: tuple) -> Tensor:
    out = knp.stack(parts, axis=0)
    return _shape.reshape(out, tuple(loop_shape) + tuple(out.shape[1:])) if loop_shape else out[0]


__all__ = ["array", "column_stack", "cross", "diagflat", "diff", "dsplit", "dstack", "geomspace", "hsplit", "kron",
           "logspace", "rot90", "slogdet", "trapezoid", "vander", "vectorize", "view", "vsplit"]
wrap_namespace(globals(), [n for n in __all__ if n != "vectorize"], "keras.ops.")
