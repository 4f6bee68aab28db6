"""``keras.ops.numpy``: NumPy's functions on chainrule Tensors, with Keras 3's names, defaults and dtype rules
(integer inputs of float functions become floatx; ``argmax`` and friends give int32). Every function that Keras
differentiates is built from registered ops, so gradients flow; comparisons, rounding and index functions run as
recorded ops without a gradient, so a traced training step replays them.

>>> import numpy as np
>>> from chainrule.keras import ops
>>> x = ops.convert_to_tensor(np.array([[3.0, 1.0], [2.0, 5.0]], "float32"))
>>> ops.sort(x, axis=-1).numpy()
array([[1., 3.],
       [2., 5.]], dtype=float32)
>>> ops.argmax(x, axis=1).numpy()
array([0, 1], dtype=int32)
>>> ops.einsum("ij,ij->i", x, x).numpy()
array([10., 29.], dtype=float32)
"""
from __future__ import annotations

import builtins
import math
from typing import Callable, Sequence

import numpy as np

from chainrule import backend, ops as _ops
from chainrule.engine.function import named, replayed
from chainrule.engine.tensor import Tensor, TensorLike
from chainrule.keras.ops.core import as_axis, cast, standardize_dtype, to_float, to_tensor
from chainrule.keras.ops.symbolic import wrap_namespace
from chainrule.keras.layers.base import _context as _call_context
from chainrule.ops import activation as _activation
from chainrule.ops import creation as _creation
from chainrule.ops import indexing as _indexing
from chainrule.ops import math as _math
from chainrule.ops import reduce as _reduce
from chainrule.ops import shape as _shape
from chainrule.ops import transcendental as _trig
from chainrule.ops.cumulative import cumprod as _cumprod
from chainrule.ops.cumulative import cumsum as _cumsum
from chainrule.ops.einsum import einsum as _einsum
from chainrule.ops.math import Where, _is_python_number, _operands
from chainrule.ops.no_gradient import no_gradient

_SMALL_INTS = {"bool", "int8", "int16", "uint8", "uint16"}  # Keras sums and multiplies these as (u)int32


# --- helpers ---------------------------------------------------------------------------------------------------------
def _float_unary(op: Callable, name: str, doc: str) -> Callable:
    def f(x: TensorLike) -> Tensor:
        return op(to_float(x))
    return named(f, name, doc)


def _no_grad_unary(fn: Callable, name: str, doc: str, floats: bool = False) -> Callable:
    def f(x: TensorLike) -> Tensor:
        return no_gradient(fn, to_float(x) if floats else to_tensor(x))
    return named(f, name, doc)


def _no_grad_binary(fn: Callable, name: str, doc: str) -> Callable:
    def f(x1: TensorLike, x2: TensorLike) -> Tensor:
        return no_gradient(fn, *_pair(x1, x2))
    return named(f, name, doc)


def _numpy_or(numpy_fn: Callable, other: Callable, name: str) -> Callable:
    """``numpy_fn`` on NumPy arrays (unchanged), ``other`` on another backend's, for the no-gradient functions below:
    a device's arrays stay there."""
    def on_namespace(*arrays):
        return numpy_fn(*arrays) if backend.extras_for(*arrays).name == "numpy" else other(*arrays)
    on_namespace.__name__ = name
    return on_namespace


def _standard(name: str, logical: bool = False) -> Callable:
    """NumPy's function ``name``, or the array API's of that name on the operands' namespace (a Python number made
    an array of the other operand's dtype where it fits, as NumPy's weak scalars; ``logical``: operands as bools, as
    NumPy takes nonzero for True)."""
    def other(*operands):
        ref = next(a for a in operands if backend.is_array(a))
        xp, kind = backend.array_namespace(ref), backend.dtype_kind(ref.dtype)
        arrays = [a if backend.is_array(a) else xp.asarray(a, dtype=ref.dtype) if isinstance(a, bool) or (
            isinstance(a, int) and kind in "iuf") or (isinstance(a, float) and kind in "fc") else xp.asarray(a)
                  for a in operands]
        if logical:
            arrays = [a if backend.dtype_kind(a.dtype) == "b" else a != 0 for a in arrays]
        return getattr(xp, name)(*arrays)
    return _numpy_or(getattr(np, name), other, name)


def _inf_of_sign(name: str, positive: bool) -> Callable:
    """NumPy's isposinf/isneginf; elsewhere isinf and the sign (the standard has neither)."""
    return _numpy_or(getattr(np, name), lambda x: backend.array_namespace(x).isinf(x) & ((x > 0) if positive
                                                                                      else (x < 0)), name)


def _pair(x1, x2) -> tuple:
    """Two operands as the ops take them: tensors, and Python numbers left as they are (they adapt to the other).
    A NumPy scalar, list or array next to a float tensor takes that tensor's dtype (no silent float64)."""
    a, b = _converted(x1, "x1"), _converted(x2, "x2")
    return _adapted(a, x1, b), _adapted(b, x2, a)


def _converted(x, name: str):
    return x if isinstance(x, (Tensor, np.generic)) or _is_python_number(x) else to_tensor(x, name)


def _adapted(value, given, other):
    if isinstance(given, Tensor) or not (isinstance(other, Tensor) and other.dtype.kind == "f"):
        return value
    if isinstance(value, np.generic):
        return other.dtype.type(value) if value.dtype.kind in "fiub" else value  # a constant a replay can repeat
    if isinstance(value, Tensor) and value.dtype.kind == "f" and value.dtype != other.dtype:
        return cast(value, other.dtype)
    return value


def _binary(op: Callable, name: str, doc: str) -> Callable:
    def f(x1: TensorLike, x2: TensorLike) -> Tensor:
        x1, x2 = _pair(x1, x2)
        if not isinstance(x1, Tensor) and not isinstance(x2, Tensor):
            x1 = to_tensor(x1, "x1")
        return op(x1, x2)
    return named(f, name, doc)


def _is_float(x) -> bool:
    return type(x) is float or isinstance(x, Tensor) and x.dtype.kind == "f"


def _both_float(x1, x2) -> tuple:
    """Operands of a true division: when neither is floating point, the tensors become floatx (Keras's rule)."""
    x1, x2 = _pair(x1, x2)
    if not (_is_float(x1) or _is_float(x2)):
        x1 = to_float(x1) if isinstance(x1, Tensor) else float(x1)
        x2 = to_float(x2) if isinstance(x2, Tensor) else float(x2)
    if not isinstance(x1, Tensor) and not isinstance(x2, Tensor):
        x1 = to_tensor(x1, "x1")
    return x1, x2


def _int_result(x: Tensor, like: str) -> Tensor:
    """A sum's or product's dtype as Keras gives it: small integers and booleans as (u)int32, others as they came."""
    target = ("uint32" if like.startswith("u") else "int32") if like in _SMALL_INTS else like
    return x if x.dtype.name == target else cast(x, target)


def _axes_of(axis, ndim: int, name: str) -> tuple[int, ...]:
    return _reduce._normalize_axis(as_axis(axis), ndim, name)


def _flat(x: Tensor) -> Tensor:
    return x if x.ndim == 1 else _shape.reshape(x, (-1,))


def _same_dtype(tensors: list[Tensor]) -> list[Tensor]:
    """Tensors joined together (concatenate, stack) take their common dtype."""
    dtypes = {t.dtype for t in tensors}
    if len(dtypes) <= 1:
        return tensors
    common = np.result_type(*dtypes)
    return [t if t.dtype == common else cast(t, common) for t in tensors]


@replayed
def _constant(values: tuple, dtype: str) -> Tensor:
    """A small constant made from Python values (index tables): made anew by each replay of a traced step."""
    return Tensor._wrap(backend.xp.asarray(values, dtype=dtype))


def _index_constant(indices: np.ndarray) -> Tensor:
    return _constant(tuple(indices.ravel().tolist()), "int64") if indices.ndim == 1 else \
        _shape.reshape(_constant(tuple(indices.ravel().tolist()), "int64"), indices.shape)


# --- arithmetic --------------------------------------------------------------------------------------------------------
add = _binary(_ops.add, "add", "``x1 + x2`` with broadcasting.")
subtract = _binary(_ops.sub, "subtract", "``x1 - x2`` with broadcasting.")
multiply = _binary(_ops.mul, "multiply", "``x1 * x2`` with broadcasting.")
power = _binary(_ops.pow, "power", "``x1 ** x2`` with broadcasting.")
maximum = _binary(_ops.maximum, "maximum", "Elementwise maximum; a tie shares the gradient.")
minimum = _binary(_ops.minimum, "minimum", "Elementwise minimum; a tie shares the gradient.")
mod = _binary(_ops.mod, "mod", "Remainder with the sign of the divisor (Python's ``%``).")


def divide(x1: TensorLike, x2: TensorLike) -> Tensor:
    """``x1 / x2``; integer operands give floatx, as in Keras."""
    return _ops.div(*_both_float(x1, x2))


true_divide = named(lambda x1, x2: divide(x1, x2), "true_divide", "Alias of :func:`divide`.")


def divide_no_nan(x1: TensorLike, x2: TensorLike) -> Tensor:
    """``x1 / x2``, and 0 where ``x2`` is 0 (with a finite gradient there too)."""
    x1, x2 = _both_float(x1, x2)
    zero = equal(x2, 0)
    safe = where(zero, 1, x2)
    return where(zero, 0, _ops.div(x1, safe))


floor_divide = _no_grad_binary(_standard("floor_divide"), "floor_divide", "``x1 // x2`` (no gradient, as TensorFlow).")


def negative(x: TensorLike) -> Tensor:
    """``-x``."""
    return _ops.neg(to_tensor(x))


def abs(x: TensorLike) -> Tensor:  # noqa: A001  (Keras's name)
    """``|x|``."""
    return _ops.abs(to_tensor(x))


absolute = named(lambda x: abs(x), "absolute", "Alias of :func:`abs`.")
fabs = _float_unary(_ops.abs, "fabs", "``|x|`` as a float.")


def square(x: TensorLike) -> Tensor:
    """``x * x`` (booleans as int32)."""
    x = to_tensor(x)
    x = cast(x, "int32") if x.dtype == np.bool_ else x
    return x * x


sqrt = _float_unary(_ops.sqrt, "sqrt", "``√x``; integers become floatx.")
exp = _float_unary(_ops.exp, "exp", "``eˣ``; integers become floatx.")
expm1 = _float_unary(_trig.expm1, "expm1", "``eˣ - 1``, exact for small x.")
log = _float_unary(_ops.log, "log", "Natural logarithm; integers become floatx.")
log1p = _float_unary(_trig.log1p, "log1p", "``ln(1 + x)``, exact for small x.")
sin = _float_unary(_trig.sin, "sin", "Sine.")
cos = _float_unary(_trig.cos, "cos", "Cosine.")
tan = _float_unary(_trig.tan, "tan", "Tangent.")
arcsin = _float_unary(_trig.arcsin, "arcsin", "Inverse sine.")
arccos = _float_unary(_trig.arccos, "arccos", "Inverse cosine.")
arctan = _float_unary(_trig.arctan, "arctan", "Inverse tangent.")
sinh = _float_unary(_trig.sinh, "sinh", "Hyperbolic sine.")
cosh = _float_unary(_trig.cosh, "cosh", "Hyperbolic cosine.")
tanh = _float_unary(_activation.tanh, "tanh", "Hyperbolic tangent.")
arcsinh = _float_unary(_trig.arcsinh, "arcsinh", "Inverse hyperbolic sine.")
arccosh = _float_unary(_trig.arccosh, "arccosh", "Inverse hyperbolic cosine.")
arctanh = _float_unary(_trig.arctanh, "arctanh", "Inverse hyperbolic tangent.")


def exp2(x: TensorLike) -> Tensor:
    """``2 ** x``."""
    return _ops.pow(2.0, to_float(x))


def log2(x: TensorLike) -> Tensor:
    """Base-2 logarithm."""
    return _ops.log(to_float(x)) * (1 / math.log(2))


def log10(x: TensorLike) -> Tensor:
    """Base-10 logarithm."""
    return _ops.log(to_float(x)) * (1 / math.log(10))


def reciprocal(x: TensorLike) -> Tensor:
    """``1 / x``."""
    return _ops.div(1.0, to_float(x))


def deg2rad(x: TensorLike) -> Tensor:
    """Degrees to radians."""
    return to_float(x) * (math.pi / 180)


def rad2deg(x: TensorLike) -> Tensor:
    """Radians to degrees."""
    return to_float(x) * (180 / math.pi)


def arctan2(x1: TensorLike, x2: TensorLike) -> Tensor:
    """The angle of the point (x2, x1), in (-π, π]."""
    x1, x2 = _both_float(x1, x2)
    return _trig.arctan2(x1, x2)


def hypot(x1: TensorLike, x2: TensorLike) -> Tensor:
    """``√(x1² + x2²)``."""
    x1, x2 = _both_float(x1, x2)
    return _ops.sqrt(x1 * x1 + x2 * x2)


def logaddexp(x1: TensorLike, x2: TensorLike) -> Tensor:
    """``log(exp(x1) + exp(x2))`` without overflow."""
    x1, x2 = _both_float(x1, x2)
    larger = _ops.maximum(x1, x2)
    return larger + _trig.log1p(_ops.exp(-_ops.abs(x1 - x2)))


def clip(x: TensorLike, x_min, x_max) -> Tensor:
    """Clamp into ``[x_min, x_max]`` (either may be None); values outside get no gradient."""
    x = to_tensor(x)
    x = cast(x, "int32") if x.dtype == np.bool_ else x
    return _ops.clip(x, x_min, x_max)


def copy(x: TensorLike) -> Tensor:
    """A new tensor with the same values; the gradient passes through."""
    return to_tensor(x) * 1


# --- no-gradient elementwise functions ---------------------------------------------------------------------------------
def _round(x, decimals):
    return backend.xp.round(x, decimals)


def round(x: TensorLike, decimals: int = 0) -> Tensor:  # noqa: A001
    """Round half to even to ``decimals`` places (no gradient)."""
    return no_gradient(_round, to_tensor(x), decimals=int(decimals))


sign = _no_grad_unary(_math.sign_values, "sign", "-1, 0 or 1 by the sign of x (no gradient).")
floor = _no_grad_unary(_standard("floor"), "floor", "Largest integer ≤ x, as a float (no gradient).", floats=True)
ceil = _no_grad_unary(_standard("ceil"), "ceil", "Smallest integer ≥ x, as a float (no gradient).", floats=True)
trunc = _no_grad_unary(_standard("trunc"), "trunc", "x rounded toward 0 (no gradient).")
isnan = _no_grad_unary(_standard("isnan"), "isnan", "Whether each value is NaN.")
isinf = _no_grad_unary(_standard("isinf"), "isinf", "Whether each value is ±inf.")
isfinite = _no_grad_unary(_standard("isfinite"), "isfinite", "Whether each value is finite.")
isposinf = _no_grad_unary(_inf_of_sign("isposinf", True), "isposinf", "Whether each value is +inf.")
isneginf = _no_grad_unary(_inf_of_sign("isneginf", False), "isneginf", "Whether each value is -inf.")
signbit = _no_grad_unary(_standard("signbit"), "signbit", "Whether the sign bit is set (negative values, -0.0).")
logical_not = _no_grad_unary(_standard("logical_not", logical=True), "logical_not", "Elementwise not.")
equal = _no_grad_binary(_standard("equal"), "equal", "``x1 == x2``.")
not_equal = _no_grad_binary(_standard("not_equal"), "not_equal", "``x1 != x2``.")
greater = _no_grad_binary(_standard("greater"), "greater", "``x1 > x2``.")
greater_equal = _no_grad_binary(_standard("greater_equal"), "greater_equal", "``x1 >= x2``.")
less = _no_grad_binary(_standard("less"), "less", "``x1 < x2``.")
less_equal = _no_grad_binary(_standard("less_equal"), "less_equal", "``x1 <= x2``.")
logical_and = _no_grad_binary(_standard("logical_and", logical=True), "logical_and", "Elementwise and.")
logical_or = _no_grad_binary(_standard("logical_or", logical=True), "logical_or", "Elementwise or.")
logical_xor = _no_grad_binary(_standard("logical_xor", logical=True), "logical_xor", "Elementwise exclusive or.")


def _isclose(x1, x2, rtol, atol, equal_nan):
    return backend.xp.isclose(x1, x2, rtol=rtol, atol=atol, equal_nan=equal_nan)


def isclose(x1: TensorLike, x2: TensorLike, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False) -> Tensor:
    """``|x1 - x2| <= atol + rtol * |x2|`` elementwise."""
    return no_gradient(_isclose, *_pair(x1, x2), rtol=float(rtol), atol=float(atol), equal_nan=bool(equal_nan))


def _allclose(x1, x2, rtol, atol, equal_nan):
    return backend.xp.all(_isclose(x1, x2, rtol, atol, equal_nan))


def allclose(x1: TensorLike, x2: TensorLike, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False) -> Tensor:
    """Whether :func:`isclose` holds everywhere, as a 0-d boolean tensor."""
    return no_gradient(_allclose, *_pair(x1, x2), rtol=float(rtol), atol=float(atol), equal_nan=bool(equal_nan))


def nan_to_num(x: TensorLike, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None) -> Tensor:
    """NaN, +inf and -inf replaced by ``nan``, ``posinf`` and ``neginf`` (the dtype's largest magnitudes by
    default); the gradient passes through the finite values."""
    x = to_tensor(x)
    if x.dtype.kind != "f":
        return x
    big = np.finfo(x.dtype).max
    kind = x.dtype.type
    x = Where.apply(isnan(x), kind(nan), x)
    x = Where.apply(isposinf(x), kind(big if posinf is None else posinf), x)
    return Where.apply(isneginf(x), kind(-big if neginf is None else neginf), x)


# --- reductions ----------------------------------------------------------------------------------------------------------
def sum(x: TensorLike, axis=None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Sum over ``axis`` (all axes when None); booleans and small integers sum as int32."""
    x = to_tensor(x)
    out = _reduce.sum(x, as_axis(axis), keepdims)
    return out if x.dtype.kind == "f" else _int_result(out, x.dtype.name)


def mean(x: TensorLike, axis=None, keepdims: bool = False) -> Tensor:
    """Average over ``axis``; integers average as floatx."""
    return _reduce.mean(to_float(x), as_axis(axis), keepdims)


def _extreme(x: TensorLike, axis, keepdims: bool, initial, reduce: Callable, bound: Callable, name: str) -> Tensor:
    x = to_tensor(x)
    if x.size == 0 and initial is not None:
        return full(_kept(x.shape, _axes_of(axis, x.ndim, name), keepdims), initial, x.dtype)
    out = reduce(x, as_axis(axis), keepdims)
    return out if initial is None else bound(out, initial)


def max(x: TensorLike, axis=None, keepdims: bool = False, initial=None) -> Tensor:  # noqa: A001
    """Largest value over ``axis`` (at least ``initial`` when given); tied maxima share the gradient."""
    return _extreme(x, axis, keepdims, initial, _reduce.max, _ops.maximum, "max")


def min(x: TensorLike, axis=None, keepdims: bool = False, initial=None) -> Tensor:  # noqa: A001
    """Smallest value over ``axis`` (at most ``initial`` when given)."""
    return _extreme(x, axis, keepdims, initial, _reduce.min, _ops.minimum, "min")


amax = named(lambda x, axis=None, keepdims=False: max(x, axis, keepdims), "amax", "Alias of :func:`max`.")
amin = named(lambda x, axis=None, keepdims=False: min(x, axis, keepdims), "amin", "Alias of :func:`min`.")


def _kept(shape: tuple, axes: tuple, keepdims: bool) -> tuple:
    return tuple(1 if i in axes else n for i, n in enumerate(shape)) if keepdims else \
        tuple(n for i, n in enumerate(shape) if i not in axes)


def _axes_last(x: Tensor, axes: tuple[int, ...]) -> Tensor:
    """``x`` with ``axes`` moved to the end and merged into one (for reductions that run along one axis)."""
    rest = [d for d in range(x.ndim) if d not in axes]
    moved = _shape.transpose(x, rest + list(axes))
    return _shape.reshape(moved, tuple(x.shape[d] for d in rest) + (math.prod(x.shape[d] for d in axes),))


def prod(x: TensorLike, axis=None, keepdims: bool = False, dtype=None) -> Tensor:
    """Product over ``axis`` (the last entry of a running product, so a zero factor gets its exact gradient)."""
    x = to_tensor(x)
    if dtype is not None:
        x = cast(x, dtype)
    like = x.dtype.name
    if like in _SMALL_INTS:
        x = cast(x, "uint32" if like.startswith("u") else "int32")
    axes = _axes_of(axis, x.ndim, "prod")
    if x.size == 0 or not axes:
        out = ones(_kept(x.shape, axes, keepdims), x.dtype) if x.size == 0 else x
        return out
    merged = _axes_last(x, axes)
    out = _shape.getitem(_cumprod(merged, axis=-1), (Ellipsis, -1))
    return _shape.reshape(out, _kept(x.shape, axes, True)) if keepdims else out


def var(x: TensorLike, axis=None, keepdims: bool = False) -> Tensor:
    """Population variance (ddof 0) over ``axis``."""
    return _reduce.var(to_float(x), as_axis(axis), keepdims)


def std(x: TensorLike, axis=None, keepdims: bool = False) -> Tensor:
    """Population standard deviation over ``axis``."""
    return _ops.sqrt(var(x, axis, keepdims))


def ptp(x: TensorLike, axis=None, keepdims: bool = False) -> Tensor:
    """``max - min`` over ``axis``."""
    x = to_tensor(x)
    return max(x, axis, keepdims) - min(x, axis, keepdims)


def average(x: TensorLike, axis=None, weights=None) -> Tensor:
    """Weighted mean over ``axis``: ``weights`` has x's shape, or is 1-D along ``axis``."""
    x = to_float(x)
    if weights is None:
        return mean(x, axis)
    w = cast(to_tensor(weights, "weights"), x.dtype)
    if w.shape != x.shape:
        if axis is None or w.ndim != 1:
            raise ValueError(f"`weights` must have the same shape as `x` when `axis=None`, but received "
                             f"`weights.shape={w.shape}` and `x.shape={x.shape}`.")
        (a,) = _axes_of(axis, x.ndim, "average")
        if w.shape[0] != x.shape[a]:
            raise ValueError(f"`weights` must have the same size as `x` at axis={axis} but received "
                             f"`weights.shape={w.shape}` while x.shape at axis={axis} is `{x.shape[a]}`.")
        w = _shape.reshape(w, tuple(-1 if d == a else 1 for d in range(x.ndim)))
    return sum(x * w, axis) / sum(_ops.broadcast_to(w, x.shape) if w.shape != x.shape else w, axis)


def median(x: TensorLike, axis=None, keepdims: bool = False) -> Tensor:
    """The middle value (the mean of the two middle values for an even count) over ``axis``."""
    x = to_float(x)
    axes = _axes_of(axis, x.ndim, "median")
    merged = sort(_axes_last(x, axes), axis=-1)
    n = merged.shape[-1]
    middle = _shape.getitem(merged, (Ellipsis, builtins.slice((n - 1) // 2, n // 2 + 1)))
    out = _reduce.mean(middle, -1)
    return _shape.reshape(out, _kept(x.shape, axes, True)) if keepdims else out


def _any(x, axis, keepdims):
    return backend.xp.any(x, axis=axis, keepdims=keepdims)


def _all(x, axis, keepdims):
    return backend.xp.all(x, axis=axis, keepdims=keepdims)


def any(x: TensorLike, axis=None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Whether any value over ``axis`` is true (non-zero)."""
    return no_gradient(_any, to_tensor(x), axis=as_axis(axis), keepdims=bool(keepdims))


def all(x: TensorLike, axis=None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Whether every value over ``axis`` is true (non-zero)."""
    return no_gradient(_all, to_tensor(x), axis=as_axis(axis), keepdims=bool(keepdims))


def _argmax(x, axis, keepdims):
    xp = backend.array_namespace(x)
    return xp.astype(xp.argmax(x, axis=axis, keepdims=keepdims), xp.int32)


def _argmin(x, axis, keepdims):
    xp = backend.array_namespace(x)
    return xp.astype(xp.argmin(x, axis=axis, keepdims=keepdims), xp.int32)


def argmax(x: TensorLike, axis: int | None = None, keepdims: bool = False) -> Tensor:
    """Index of the largest value along ``axis`` (of the flattened tensor when None), int32."""
    x = to_tensor(x)
    axis = None if axis is None else _axes_of(axis, x.ndim, "argmax")[0]
    return no_gradient(_argmax, x, axis=axis, keepdims=bool(keepdims))


def argmin(x: TensorLike, axis: int | None = None, keepdims: bool = False) -> Tensor:
    """Index of the smallest value along ``axis`` (of the flattened tensor when None), int32."""
    x = to_tensor(x)
    axis = None if axis is None else _axes_of(axis, x.ndim, "argmin")[0]
    return no_gradient(_argmin, x, axis=axis, keepdims=bool(keepdims))


def _count_nonzero(x, axis):
    return backend.xp.asarray(backend.xp.count_nonzero(x, axis=axis), dtype=np.int32)


def count_nonzero(x: TensorLike, axis=None) -> Tensor:
    """How many values over ``axis`` are not zero, int32."""
    return no_gradient(_count_nonzero, to_tensor(x), axis=as_axis(axis))


def cumsum(x: TensorLike, axis: int | None = None, dtype=None) -> Tensor:
    """Running sum along ``axis`` (of the flattened tensor when None); booleans sum as int32."""
    x = to_tensor(x)
    x = cast(x, dtype) if dtype is not None else cast(x, "int32") if x.dtype == np.bool_ else x
    return _cumsum(x, axis)


def cumprod(x: TensorLike, axis: int | None = None, dtype=None) -> Tensor:
    """Running product along ``axis`` (of the flattened tensor when None)."""
    x = to_tensor(x)
    x = cast(x, dtype) if dtype is not None else cast(x, "int32") if x.dtype == np.bool_ else x
    return _cumprod(x, axis)


# --- shapes ------------------------------------------------------------------------------------------------------------
def size(x: TensorLike) -> int:
    """The number of elements."""
    return int(to_tensor(x).size)


def ndim(x: TensorLike) -> int:
    """The number of axes."""
    return to_tensor(x).ndim


def reshape(x: TensorLike, newshape) -> Tensor:
    """``x`` with a new shape (one entry may be -1).

    In a functional model's shape probe, whose unknown sizes are made up, a fully given shape that the made-up
    values cannot fill (a program's fixed tokens-per-batch) gives zeros of that shape: TensorFlow's graph checks such
    a reshape only when it runs, on the real batch.

    >>> tuple(reshape(np.arange(6.0), (2, -1)).shape)
    (2, 3)
    """
    x = to_tensor(x)
    unfillable = _unfillable(x.shape, newshape) if _call_context.made_up_sizes else None
    if unfillable is not None:
        return _creation.zeros(unfillable, dtype=x.dtype)
    return _shape.reshape(x, newshape)


def _unfillable(shape: tuple, newshape) -> tuple | None:
    """``newshape`` as ints when every size is given (no -1) and it holds a different number of values than
    ``shape``; else None."""
    try:
        sizes = tuple(int(n) for n in (newshape if isinstance(newshape, (tuple, list)) else [newshape]))
    except TypeError:  # a shape tensor of several sizes: the reshape itself reads it
        return None
    return sizes if builtins.all(n >= 0 for n in sizes) and math.prod(sizes) != math.prod(shape) else None


def ravel(x: TensorLike) -> Tensor:
    """``x`` flattened."""
    return _flat(to_tensor(x))


def transpose(x: TensorLike, axes=None) -> Tensor:
    """Axes permuted (reversed when None)."""
    return _shape.transpose(to_tensor(x), None if axes is None else as_axis(axes, "axes"))


def swapaxes(x: TensorLike, axis1: int, axis2: int) -> Tensor:
    """Two axes swapped."""
    x = to_tensor(x)
    perm = list(range(x.ndim))
    a, b = _axes_of(axis1, x.ndim, "swapaxes")[0], _axes_of(axis2, x.ndim, "swapaxes")[0]
    perm[a], perm[b] = perm[b], perm[a]
    return _shape.transpose(x, perm)


def moveaxis(x: TensorLike, source, destination) -> Tensor:
    """Axes moved from ``source`` to ``destination`` positions, the others keeping their order."""
    x = to_tensor(x)
    src = (source,) if isinstance(source, (int, np.integer)) else tuple(source)
    dst = (destination,) if isinstance(destination, (int, np.integer)) else tuple(destination)
    if len(src) != len(dst):
        raise ValueError(f"`source` and `destination` arguments must have the same number of elements, but received "
                         f"`source={source}` and `destination={destination}`.")
    src = [_axes_of(a, x.ndim, "moveaxis")[0] for a in src]
    dst = [_axes_of(a, x.ndim, "moveaxis")[0] for a in dst]
    order = [d for d in range(x.ndim) if d not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return _shape.transpose(x, order)


def expand_dims(x: TensorLike, axis) -> Tensor:
    """Axes of size 1 inserted at ``axis`` (an int, or a tuple of positions in the result)."""
    x = to_tensor(x)
    if not isinstance(axis, (int, np.integer, list, tuple)) or isinstance(axis, bool):
        raise ValueError(f"The `axis` argument to `expand_dims` should be an integer, tuple or list. "
                         f"Received axis={axis}")
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out_ndim = x.ndim + len(axes)
    positions = set(_reduce._normalize_axis(axes, out_ndim, "expand_dims"))
    sizes = iter(x.shape)
    return _shape.reshape(x, tuple(1 if d in positions else next(sizes) for d in range(out_ndim)))


def squeeze(x: TensorLike, axis=None) -> Tensor:
    """Axes of size 1 removed (all of them when ``axis`` is None)."""
    x = to_tensor(x)
    if axis is None:
        return _shape.reshape(x, tuple(n for n in x.shape if n != 1))
    axes = _axes_of(axis, x.ndim, "squeeze")
    for a in axes:
        if x.shape[a] != 1:
            raise ValueError(f"Cannot squeeze axis {a} of x with shape {x.shape}: its size is {x.shape[a]}, not 1")
    return _shape.reshape(x, tuple(n for d, n in enumerate(x.shape) if d not in axes))


def broadcast_to(x: TensorLike, shape) -> Tensor:
    """``x`` repeated along its size-1 and missing leading axes to reach ``shape``."""
    return _shape.broadcast_to(to_tensor(x), shape)


def _tensors(xs, name: str) -> list[Tensor]:
    if isinstance(xs, (Tensor, np.ndarray)) or not isinstance(xs, (list, tuple)):
        raise TypeError(f"Argument `{name}` must be a list or tuple of tensors. Received: {name}={xs!r}")
    return [to_tensor(x, name) for x in xs]


def concatenate(xs, axis: int | None = 0) -> Tensor:
    """Tensors joined along an existing axis (flattened first when ``axis`` is None)."""
    tensors = _same_dtype(_tensors(xs, "xs"))
    if axis is None:
        tensors, axis = [_flat(t) for t in tensors], 0
    if not tensors:
        raise ValueError("concatenate: `xs` holds no tensor")
    a = _axes_of(axis, tensors[0].ndim, "concatenate")[0]
    first = tensors[0].shape
    for t in tensors[1:]:
        if t.ndim != len(first) or t.shape[:a] + t.shape[a + 1:] != first[:a] + first[a + 1:]:
            raise ValueError(f"Every value in `xs` must have the same shape except on the `axis` dim. But found "
                             f"element of shape {t.shape}, which is different from the first element's shape {first}.")
    return _shape.concat(tensors, a)


def append(x1: TensorLike, x2: TensorLike, axis: int | None = None) -> Tensor:
    """``x2`` appended to ``x1`` along ``axis`` (both flattened when None)."""
    return concatenate([x1, x2], axis)


def stack(x, axis: int = 0) -> Tensor:
    """Same-shaped tensors joined along a new axis."""
    tensors = _same_dtype(_tensors(x, "x"))
    for t in tensors[1:]:
        if t.shape != tensors[0].shape:
            raise ValueError(f"Every value in `x` must have the same shape. But found element of shape {t.shape}, "
                             f"which is different from the first element's shape {tensors[0].shape}.")
    return _shape.stack(tensors, axis)


def hstack(xs) -> Tensor:
    """Joined along axis 1 (axis 0 for 1-D tensors)."""
    tensors = _tensors(xs, "xs")
    return concatenate(tensors, 0 if tensors and tensors[0].ndim == 1 else 1)


def vstack(xs) -> Tensor:
    """Joined along axis 0, 1-D tensors as rows."""
    return concatenate([t if t.ndim > 1 else _shape.reshape(t, (1, -1)) for t in _tensors(xs, "xs")], 0)


def split(x: TensorLike, indices_or_sections, axis: int = 0) -> list[Tensor]:
    """Equal parts (an int that divides the axis), or parts cut at the given indices, as ``numpy.split``."""
    x = to_tensor(x)
    a = _axes_of(axis, x.ndim, "split")[0]
    n = x.shape[a]
    if isinstance(indices_or_sections, (int, np.integer)):
        if n % int(indices_or_sections):
            raise ValueError(f"`x` size on given `axis` must be divisible by `indices_or_sections` when "
                             f"`indices_or_sections` is an int. But received {n} and {indices_or_sections}.")
        return _shape.split(x, int(indices_or_sections), a)
    cuts = [builtins.min(builtins.max(int(i) if i >= 0 else n + int(i), 0), n) for i in indices_or_sections]
    bounds = [0] + cuts + [n]
    lead = (builtins.slice(None),) * a
    return [_shape.getitem(x, lead + (builtins.slice(lo, builtins.max(lo, hi)),)) for lo, hi in zip(bounds, bounds[1:])]


def array_split(x: TensorLike, indices_or_sections, axis: int = 0) -> list[Tensor]:
    """As :func:`split`, but an int need not divide the axis: the first parts are one longer."""
    x = to_tensor(x)
    if not isinstance(indices_or_sections, (int, np.integer)):
        return split(x, indices_or_sections, axis)
    k = int(indices_or_sections)
    n = x.shape[_axes_of(axis, x.ndim, "array_split")[0]]
    sizes = [n // k + 1] * (n % k) + [n // k] * (k - n % k)
    return split(x, list(np.cumsum(sizes)[:-1]), axis)


def tile(x: TensorLike, repeats) -> Tensor:
    """``x`` repeated ``repeats[i]`` times along axis i, as ``numpy.tile`` (a broadcast, so the gradient sums the
    copies)."""
    x = to_tensor(x)
    reps = (int(repeats),) if isinstance(repeats, (int, np.integer)) else tuple(int(r) for r in repeats)
    if builtins.any(r < 0 for r in reps):
        raise ValueError(f"tile: `repeats` must be non-negative, got {repeats}")
    ndim_ = builtins.max(len(reps), x.ndim)
    reps = (1,) * (ndim_ - len(reps)) + reps
    shape_ = (1,) * (ndim_ - x.ndim) + x.shape
    interleaved = _shape.reshape(x, tuple(v for n in shape_ for v in (1, n)))
    spread = _shape.broadcast_to(interleaved, tuple(v for r, n in zip(reps, shape_) for v in (r, n)))
    return _shape.reshape(spread, tuple(r * n for r, n in zip(reps, shape_)))


def repeat(x: TensorLike, repeats, axis: int | None = None) -> Tensor:
    """Each element repeated ``repeats`` times (an int, or one count per element) along ``axis`` (of the flattened
    tensor when None), as ``numpy.repeat``."""
    x = to_tensor(x)
    if axis is None:
        x, axis = _flat(x), 0
    a = _axes_of(axis, x.ndim, "repeat")[0]
    if isinstance(repeats, Tensor):
        repeats = repeats.numpy()
    counts = np.asarray(repeats, dtype=np.int64).reshape(-1)
    if counts.size == 1:
        r = int(counts[0])
        spread = _shape.broadcast_to(_shape.reshape(x, x.shape[:a + 1] + (1,) + x.shape[a + 1:]),
                                     x.shape[:a + 1] + (r,) + x.shape[a + 1:])
        return _shape.reshape(spread, x.shape[:a] + (x.shape[a] * r,) + x.shape[a + 1:])
    if counts.size != x.shape[a]:
        raise ValueError(f"Size of `repeats` and dimensions of `axis {axis} of x` should be compatible. Received: "
                         f"{counts.size} and {x.shape}")
    return _indexing.take(x, _index_constant(np.repeat(np.arange(x.shape[a]), counts)), axis=a)


def flip(x: TensorLike, axis=None) -> Tensor:
    """The order of the values reversed along ``axis`` (all axes when None)."""
    x = to_tensor(x)
    axes = _axes_of(axis, x.ndim, "flip")
    return _shape.getitem(x, tuple(builtins.slice(None, None, -1) if d in axes else builtins.slice(None)
                                   for d in range(x.ndim)))


def fliplr(x: TensorLike) -> Tensor:
    """Reversed along axis 1."""
    x = to_tensor(x)
    if x.ndim < 2:
        raise ValueError(f"`fliplr` requires input with 2 or more dimensions. Received: x.shape={x.shape}")
    return flip(x, 1)


def flipud(x: TensorLike) -> Tensor:
    """Reversed along axis 0."""
    x = to_tensor(x)
    if x.ndim < 1:
        raise ValueError(f"`flipud` requires input with 1 or more dimensions. Received: x.shape={x.shape}")
    return flip(x, 0)


def roll(x: TensorLike, shift, axis=None) -> Tensor:
    """Values shifted by ``shift`` places along ``axis`` (of the flattened tensor when None), wrapping around."""
    x = to_tensor(x)
    if axis is None:
        return _shape.reshape(roll(_flat(x), shift, 0), x.shape)
    shifts = (shift,) if isinstance(shift, (int, np.integer)) else tuple(shift)
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    if len(shifts) == 1:
        shifts = shifts * len(axes)
    if len(shifts) != len(axes):
        raise ValueError(f"roll: `shift` {shift} and `axis` {axis} must have the same length")
    for s, a in zip(shifts, axes):
        a = _axes_of(a, x.ndim, "roll")[0]
        n = x.shape[a]
        s = int(s) % n if n else 0
        if s:
            lead = (builtins.slice(None),) * a
            x = _shape.concat([_shape.getitem(x, lead + (builtins.slice(n - s, None),)),
                               _shape.getitem(x, lead + (builtins.slice(0, n - s),))], a)
    return x


def _pad_pairs(pad_width, ndim_: int) -> tuple[tuple[int, int], ...]:
    pw = np.asarray(pad_width, dtype=np.int64)
    if pw.ndim == 0:
        pw = np.full((ndim_, 2), int(pw))
    elif pw.ndim == 1 and pw.size in (1, 2):
        pw = np.tile(np.resize(pw, 2), (ndim_, 1))
    elif pw.ndim == 2 and pw.shape[1] == 1:
        pw = np.repeat(pw, 2, axis=1)
    if pw.shape != (ndim_, 2):
        raise ValueError(f"`pad_width` must have the same length as `x.shape`. Received: pad_width={pad_width} "
                         f"(of length {len(pad_width) if hasattr(pad_width, '__len__') else 1}) and a tensor of rank "
                         f"{ndim_}")
    if (pw < 0).any():
        raise ValueError(f"pad: `pad_width` must be non-negative, got {pad_width}")
    return tuple((int(lo), int(hi)) for lo, hi in pw)


_INDEX_PAD_MODES = ("edge", "reflect", "symmetric", "wrap")


def pad(x: TensorLike, pad_width, mode: str = "constant", constant_values=None) -> Tensor:
    """A border around ``x``: ``pad_width`` is an int, one (before, after) pair for every axis, or a pair per axis.
    Modes: 'constant' (``constant_values``, 0 by default), 'edge', 'reflect', 'symmetric', 'wrap' (the border
    copies values of x, so they get gradient too)."""
    x = to_tensor(x)
    pairs = _pad_pairs(pad_width, x.ndim)
    if constant_values is not None and mode != "constant":
        raise ValueError(f"Argument `constant_values` can only be provided when `mode == 'constant'`. "
                         f"Received: mode={mode}")
    if mode == "constant":
        return _shape.pad(x, pairs, 0 if constant_values is None else constant_values)
    if mode not in _INDEX_PAD_MODES:
        raise ValueError(f"pad: mode {mode!r} is not supported; use 'constant' or one of {list(_INDEX_PAD_MODES)}")
    for a, (lo, hi) in enumerate(pairs):
        if lo or hi:
            x = _indexing.take(x, _index_constant(np.pad(np.arange(x.shape[a]), (lo, hi), mode=mode)), axis=a)
    return x


def diagonal(x: TensorLike, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
    """The diagonal of the (``axis1``, ``axis2``) planes, as the last axis (``numpy.diagonal``)."""
    x = to_tensor(x)
    if x.ndim < 2:
        raise ValueError(f"`diagonal` requires an array of at least two dimensions, but `x` is of shape {x.shape}.")
    a1, a2 = _axes_of(axis1, x.ndim, "diagonal")[0], _axes_of(axis2, x.ndim, "diagonal")[0]
    if a1 == a2:
        raise ValueError(f"`axis1` and `axis2` cannot be the same. Received: axis1={axis1}, axis2={axis2}")
    rest = [d for d in range(x.ndim) if d not in (a1, a2)]
    rows, cols = x.shape[a1], x.shape[a2]
    planes = _shape.reshape(_shape.transpose(x, rest + [a1, a2]), tuple(x.shape[d] for d in rest) + (rows * cols,))
    k = int(offset)
    start, count = (k, builtins.min(rows, cols - k)) if k >= 0 else (-k * cols, builtins.min(rows + k, cols))
    picked = builtins.slice(start, start + (count - 1) * (cols + 1) + 1, cols + 1) if count > 0 else builtins.slice(0, 0)
    return _shape.getitem(planes, (Ellipsis, picked))


def diag(x: TensorLike, k: int = 0) -> Tensor:
    """A 1-D tensor's values on the ``k``-th diagonal of a square matrix, or a 2-D tensor's ``k``-th diagonal."""
    x = to_tensor(x)
    if x.ndim == 2:
        return diagonal(x, k)
    if x.ndim != 1:
        raise ValueError(f"`x` must be 1-D or 2-D, but received shape {x.shape}.")
    n, k = x.shape[0], int(k)
    m = n + builtins.abs(k)
    coords = np.stack([np.arange(n) + builtins.max(-k, 0), np.arange(n) + builtins.max(k, 0)], axis=-1)
    return _indexing.scatter(_index_constant(coords), x, (m, m))


def trace(x: TensorLike, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
    """The sum along a diagonal."""
    return sum(diagonal(x, offset, axis1, axis2), axis=-1)


def _triangle(x: TensorLike, k: int, lower: bool) -> Tensor:
    x = to_tensor(x)
    if x.ndim < 2:
        raise ValueError(f"{'tril' if lower else 'triu'}: `x` must have at least 2 dimensions, got shape {x.shape}")
    rows, cols = x.shape[-2:]
    zero = False if x.dtype.kind == "b" else 0  # (a Python zero: weak, on any backend)
    if lower:
        return Where.apply(tri(rows, cols, int(k), "bool"), x, zero)
    return Where.apply(tri(rows, cols, int(k) - 1, "bool"), zero, x)


def tril(x: TensorLike, k: int = 0) -> Tensor:
    """The lower triangle of the last two axes (on and below the ``k``-th diagonal); zeros above."""
    return _triangle(x, k, lower=True)


def triu(x: TensorLike, k: int = 0) -> Tensor:
    """The upper triangle of the last two axes (on and above the ``k``-th diagonal); zeros below."""
    return _triangle(x, k, lower=False)


def take(x: TensorLike, indices: TensorLike, axis: int | None = None) -> Tensor:
    """Values at integer ``indices`` along ``axis`` (of the flattened tensor when None)."""
    return _indexing.take(to_tensor(x), to_tensor(indices, "indices"), axis)


def take_along_axis(x: TensorLike, indices: TensorLike, axis: int | None = None) -> Tensor:
    """``numpy.take_along_axis``: values at ``indices`` along ``axis``, matched up on the other axes."""
    return _indexing.take_along_axis(to_tensor(x), to_tensor(indices, "indices"), axis)


def get_item(x: TensorLike, key) -> Tensor:
    """``x[key]``."""
    return _shape.getitem(to_tensor(x), key)


def _as_condition(condition) -> Tensor:
    c = to_tensor(condition, "condition")
    return c if c.dtype == np.bool_ else not_equal(c, 0)


def where(condition: TensorLike, x1=None, x2=None):
    """``x1`` where ``condition`` holds, else ``x2`` (broadcasting); with the condition alone, :func:`nonzero`."""
    if x1 is None and x2 is None:
        return nonzero(condition)
    if x1 is None or x2 is None:
        raise ValueError("`x1` and `x2` either both should be `None` or both should have non-None value.")
    c = _as_condition(condition)
    if _is_python_number(x1) and _is_python_number(x2):
        kind = np.dtype(backend.floatx()) if _is_float(x1) or _is_float(x2) else np.dtype("int32")
        x1, x2 = kind.type(x1), kind.type(x2)
    else:
        x1, x2 = _operands(*_pair(x1, x2))
    try:
        np.broadcast_shapes(c.shape, np.shape(x1), np.shape(x2))
    except ValueError:
        raise ValueError(f"where: `condition` {c.shape}, `x1` {np.shape(x1)} and `x2` {np.shape(x2)} cannot be "
                         f"broadcast together") from None
    return Where.apply(c, x1, x2)


def _nonzero(x):
    return backend.xp.stack(backend.xp.nonzero(x)).astype(np.int32).reshape(x.ndim, -1)


def nonzero(x: TensorLike) -> tuple[Tensor, ...]:
    """The coordinates of the non-zero values, one int32 tensor per axis."""
    coords = no_gradient(_nonzero, to_tensor(x))
    return tuple(_shape.getitem(coords, d) for d in range(coords.shape[0]))


def _argsort(x, axis):
    xp = backend.array_namespace(x)
    return xp.astype(xp.argsort(x, axis=axis, stable=True), xp.int32)


def argsort(x: TensorLike, axis: int | None = -1) -> Tensor:
    """The indices that sort ``x`` along ``axis`` (a stable sort), int32."""
    x = to_tensor(x)
    if axis is None:
        x, axis = _flat(x), 0
    return no_gradient(_argsort, x, axis=_axes_of(axis, x.ndim, "argsort")[0])


def sort(x: TensorLike, axis: int | None = -1) -> Tensor:
    """``x`` sorted along ``axis``; each value's gradient goes back to where it came from."""
    x = to_tensor(x)
    if axis is None:
        x, axis = _flat(x), 0
    if x.ndim == 0:
        return x
    return _indexing.take_along_axis(x, argsort(x, axis), axis)


def select(condlist: Sequence, choicelist: Sequence, default=0) -> Tensor:
    """The value of the first choice whose condition holds, else ``default`` (``numpy.select``)."""
    if len(condlist) != len(choicelist):
        raise ValueError(f"select: `condlist` ({len(condlist)}) and `choicelist` ({len(choicelist)}) must have the "
                         f"same length")
    result = to_tensor(default, "default") if not _is_python_number(default) else default
    for c, choice in reversed(list(zip(condlist, choicelist))):
        result = where(c, choice, result)
    return result if isinstance(result, Tensor) else to_tensor(result)


def meshgrid(*x, indexing: str = "xy") -> list[Tensor]:
    """Coordinate grids from 1-D tensors ('xy': the first two axes swapped, as NumPy; 'ij': matrix order)."""
    if indexing not in ("xy", "ij"):
        raise ValueError(f"Valid values for `indexing` are 'xy' and 'ij', but received {indexing}.")
    vectors = [_flat(to_tensor(v, "x")) for v in x]
    sizes = [v.shape[0] for v in vectors]
    if indexing == "xy" and len(sizes) > 1:
        sizes[0], sizes[1] = sizes[1], sizes[0]
    grids = []
    for i, v in enumerate(vectors):
        position = (1 - i if i < 2 else i) if indexing == "xy" and len(vectors) > 1 else i
        shaped = _shape.reshape(v, tuple(-1 if d == position else 1 for d in range(len(vectors))))
        grids.append(_shape.broadcast_to(shaped, tuple(sizes)))
    return grids


# --- products --------------------------------------------------------------------------------------------------------
def _product_operands(x1, x2) -> tuple[Tensor, Tensor]:
    x1, x2 = to_tensor(x1, "x1"), to_tensor(x2, "x2")
    common = np.result_type(x1.dtype, x2.dtype)
    return (x1 if x1.dtype == common else cast(x1, common)), (x2 if x2.dtype == common else cast(x2, common))


def matmul(x1: TensorLike, x2: TensorLike) -> Tensor:
    """Matrix product with NumPy's rules (batched over leading axes, 1-D operands as vectors)."""
    return _ops.matmul(*_product_operands(x1, x2))


def tensordot(x1: TensorLike, x2: TensorLike, axes=2) -> Tensor:
    """Sum of products over ``axes``: the last ``axes`` of x1 with the first of x2 (an int), or the listed pairs."""
    x1, x2 = _product_operands(x1, x2)
    if isinstance(axes, (int, np.integer)):
        a1, a2 = list(range(x1.ndim - int(axes), x1.ndim)), list(range(int(axes)))
    else:
        a1, a2 = axes
        a1 = [a1] if isinstance(a1, (int, np.integer)) else list(a1)
        a2 = [a2] if isinstance(a2, (int, np.integer)) else list(a2)
    a1 = [_axes_of(a, x1.ndim, "tensordot")[0] for a in a1]
    a2 = [_axes_of(a, x2.ndim, "tensordot")[0] for a in a2]
    if [x1.shape[a] for a in a1] != [x2.shape[a] for a in a2]:
        raise ValueError(f"Shape mismatch on `x1[axes[0]]` and `x2[axes[1]]`, received "
                         f"{[x1.shape[a] for a in a1]} and {[x2.shape[a] for a in a2]}.")
    free1 = [d for d in range(x1.ndim) if d not in a1]
    free2 = [d for d in range(x2.ndim) if d not in a2]
    summed = math.prod(x1.shape[a] for a in a1)
    left = _shape.reshape(_shape.transpose(x1, free1 + a1), (math.prod(x1.shape[d] for d in free1), summed))
    right = _shape.reshape(_shape.transpose(x2, a2 + free2), (summed, math.prod(x2.shape[d] for d in free2)))
    return _shape.reshape(_ops.matmul(left, right), tuple(x1.shape[d] for d in free1) + tuple(x2.shape[d] for d in free2))


def dot(x1: TensorLike, x2: TensorLike) -> Tensor:
    """``numpy.dot``: scalars multiply; otherwise the sum over x1's last axis and x2's second-to-last (only) one."""
    x1, x2 = _product_operands(x1, x2)
    if x1.ndim == 0 or x2.ndim == 0:
        return x1 * x2
    if x1.ndim <= 2 and x2.ndim <= 2 or x2.ndim == 1 or x1.ndim == 1:
        if x1.shape[-1] != x2.shape[-2 if x2.ndim > 1 else 0]:
            raise ValueError(f"Shape must match on the last axis of `x1` and second last axis of `x2` when `x1` is "
                             f"N-d array while `x2` is M-D, but received `x1.shape={x1.shape}` and "
                             f"x2.shape=`{x2.shape}`.")
        return _ops.matmul(x1, x2)
    return tensordot(x1, x2, ([x1.ndim - 1], [x2.ndim - 2]))


def inner(x1: TensorLike, x2: TensorLike) -> Tensor:
    """Sum of products over the last axes of both."""
    x1, x2 = _product_operands(x1, x2)
    if x1.ndim == 0 or x2.ndim == 0:
        return x1 * x2
    if x1.shape[-1] != x2.shape[-1]:
        raise ValueError(f"`inner` requires the last dimension of `x1` and `x2` to match. Received: "
                         f"x1.shape={x1.shape}, x2.shape={x2.shape}.")
    return tensordot(x1, x2, ([x1.ndim - 1], [x2.ndim - 1]))


def vdot(x1: TensorLike, x2: TensorLike) -> Tensor:
    """The dot product of the flattened tensors."""
    x1, x2 = _product_operands(x1, x2)
    return _reduce.sum(_flat(x1) * _flat(x2))


def outer(x1: TensorLike, x2: TensorLike) -> Tensor:
    """``x1[i] * x2[j]`` for the flattened tensors."""
    x1, x2 = _product_operands(x1, x2)
    return _shape.reshape(_flat(x1), (-1, 1)) * _shape.reshape(_flat(x2), (1, -1))


def einsum(subscripts: str, *operands, **kwargs) -> Tensor:
    """Einstein summation (``numpy.einsum``'s notation, '...' included); NumPy's ``optimize=`` is accepted."""
    unknown = set(kwargs) - {"optimize"}
    if unknown:
        raise TypeError(f"einsum: unexpected keyword arguments {sorted(unknown)}")
    return _einsum(subscripts, *[to_tensor(x, "operands") for x in operands])


# --- tensors made from a shape or a range ------------------------------------------------------------------------------
def _weak_dtype(*values) -> np.dtype:
    """Keras's dtype for Python numbers and tensors together: floats win (floatx for a Python float), Python ints
    are int32."""
    strong = [backend.xp.asarray(v).dtype for v in values if v is not None and not _is_python_number(v)]
    weak_float = builtins.any(type(v) is float for v in values)
    if strong:
        kind = np.result_type(*strong)
        return np.dtype(backend.floatx()) if weak_float and kind.kind in "iub" else kind
    return np.dtype(backend.floatx() if weak_float else "int32")


def _value(v):
    return v.numpy() if isinstance(v, Tensor) else v


@replayed
def arange(start, stop=None, step=None, dtype=None) -> Tensor:
    """Evenly spaced values in [start, stop); Python ints give int32, floats floatx (Keras's dtypes)."""
    start, stop, step = _value(start), _value(stop), _value(step)
    kind = standardize_dtype(dtype) if dtype is not None else _weak_dtype(start, stop, step)
    if stop is None:
        start, stop = 0, start
    if step is not None and step == 0:
        raise ValueError("arange: `step` must not be 0")
    return Tensor._wrap(backend.xp.arange(start, stop, 1 if step is None else step, dtype=kind))


@replayed
def linspace(start, stop, num: int = 50, endpoint: bool = True, retstep: bool = False, dtype=None, axis: int = 0):
    """``num`` evenly spaced values from start to stop (stop included when ``endpoint``); with ``retstep``, also the
    spacing."""
    start, stop = _value(start), _value(stop)
    if int(num) < 0:
        raise ValueError(f"linspace: `num` must be non-negative, got {num}")
    kind = standardize_dtype(dtype) if dtype is not None else _weak_dtype(start, stop, 0.0)
    out = backend.xp.linspace(start, stop, int(num), endpoint=endpoint, retstep=retstep, dtype=kind, axis=axis)
    return (Tensor._wrap(out[0]), out[1]) if retstep else Tensor._wrap(out)


def zeros(shape, dtype=None) -> Tensor:
    """Zeros of ``shape`` (floatx by default)."""
    return _creation.zeros(shape, None if dtype is None else standardize_dtype(dtype))


def ones(shape, dtype=None) -> Tensor:
    """Ones of ``shape`` (floatx by default)."""
    return _creation.ones(shape, None if dtype is None else standardize_dtype(dtype))


def zeros_like(x: TensorLike, dtype=None) -> Tensor:
    """Zeros of x's shape (and dtype, unless given)."""
    return _creation.zeros_like(to_tensor(x), None if dtype is None else standardize_dtype(dtype))


def ones_like(x: TensorLike, dtype=None) -> Tensor:
    """Ones of x's shape (and dtype, unless given)."""
    return _creation.ones_like(to_tensor(x), None if dtype is None else standardize_dtype(dtype))


empty = named(lambda shape, dtype=None: zeros(shape, dtype), "empty", "As :func:`zeros` (Keras's numpy backend "
              "leaves the values unset; chainrule zeroes them).")
empty_like = named(lambda x, dtype=None: zeros_like(x, dtype), "empty_like", "As :func:`zeros_like`.")


@replayed
def full(shape, fill_value, dtype=None) -> Tensor:
    """``fill_value`` everywhere in a tensor of ``shape`` (floatx unless ``dtype`` says otherwise)."""
    value = _value(fill_value)
    return Tensor._wrap(backend.xp.full(_creation._shape(shape), value, dtype=standardize_dtype(dtype)))


@replayed
def full_like(x: TensorLike, fill_value, dtype=None) -> Tensor:
    """``fill_value`` everywhere in a tensor of x's shape (and dtype, unless given)."""
    x = to_tensor(x)
    return Tensor._wrap(backend.xp.full(x.shape, _value(fill_value),
                                        dtype=x.dtype if dtype is None else standardize_dtype(dtype)))


@replayed
def eye(N: int, M: int | None = None, k: int = 0, dtype=None) -> Tensor:  # noqa: N803  (Keras's names)
    """Ones on the ``k``-th diagonal of an N × M matrix, zeros elsewhere."""
    # k is keyword-only in the array API
    return Tensor._wrap(backend.xp.eye(int(N), None if M is None else int(M), k=int(k), dtype=standardize_dtype(dtype)))


def identity(n: int, dtype=None) -> Tensor:
    """The n × n identity matrix."""
    return eye(n, dtype=dtype)


@replayed
def tri(N: int, M: int | None = None, k: int = 0, dtype=None) -> Tensor:  # noqa: N803
    """Ones on and below the ``k``-th diagonal of an N × M matrix."""
    xp = backend.xp  # (the standard has no tri: the lower triangle of ones)
    ones = xp.ones((int(N), int(N) if M is None else int(M)), dtype=standardize_dtype(dtype))
    return Tensor._wrap(xp.tril(ones, k=int(k)))


__all__ = sorted(name for name, value in list(globals().items())
                 if not name.startswith("_") and callable(value) and getattr(value, "__module__", None) == __name__)
wrap_namespace(globals(), __all__, "keras.ops.")

# NumPy's functions kept in topic modules of their own (they use the helpers above), under keras.ops.numpy's names
from chainrule.keras.ops import (arrays, bitwise, counting, elementwise, nan_reductions, quantiles,  # noqa: E402
                                 window_functions)
from chainrule.keras.ops.arrays import *  # noqa: E402,F401,F403
from chainrule.keras.ops.bitwise import *  # noqa: E402,F401,F403
from chainrule.keras.ops.counting import *  # noqa: E402,F401,F403
from chainrule.keras.ops.elementwise import *  # noqa: E402,F401,F403
from chainrule.keras.ops.nan_reductions import *  # noqa: E402,F401,F403
from chainrule.keras.ops.quantiles import *  # noqa: E402,F401,F403
from chainrule.keras.ops.window_functions import *  # noqa: E402,F401,F403

__all__ = sorted({*__all__, *arrays.__all__, *bitwise.__all__, *counting.__all__, *elementwise.__all__,
                  *nan_reductions.__all__, *quantiles.__all__, *window_functions.__all__})
del arrays, bitwise, counting, elementwise, nan_reductions, quantiles, window_functions
