"""Elementwise arithmetic: each op's forward, and its backward in one line of math.

>>> import chainrule as cr
>>> cr.maximum(cr.constant([1.0, 5.0]), 2.0).numpy()
array([2., 5.], dtype=float32)
"""
from __future__ import annotations

import math

import numpy as np

from chainrule import backend
from chainrule.backend.kernels import special as special_kernels
from chainrule.engine.function import Function, named, op
from chainrule.ops.broadcast import unbroadcast
from chainrule.ops.complex import conjugate
from chainrule.engine.tensor import Tensor, TensorLike, _to_array, as_tensor


class Add(Function):
    # y = a + b   ->   da = g,  db = g
    complex_grad = True

    def forward(self, a, b):
        return a + b

    def backward(self, g):
        a, b = self.arrays
        return unbroadcast(g, np.shape(a)), unbroadcast(g, np.shape(b))


class Sub(Function):
    # y = a - b   ->   da = g,  db = -g
    complex_grad = True

    def forward(self, a, b):
        return a - b

    def backward(self, g):
        a, b = self.arrays
        return unbroadcast(g, np.shape(a)), unbroadcast(-g, np.shape(b))


class Mul(Function):
    # y = a * b   ->   da = g * conj(b),  db = g * conj(a)   (conj: complex tensors, see ops/complex.py)
    complex_grad = True

    def forward(self, a, b):
        return a * b

    def backward(self, g):
        a, b = self.args
        need_a, need_b = self.needs_input_grad
        return (unbroadcast(g * conjugate(b), np.shape(self.arrays[0])) if need_a else None,
                unbroadcast(g * conjugate(a), np.shape(self.arrays[1])) if need_b else None)


class Div(Function):
    # y = a / b   ->   da = g / conj(b),  db = -g * conj(a / b²)
    complex_grad = True

    def forward(self, a, b):
        return a / b

    def backward(self, g):
        a, b = self.args
        need_a, need_b = self.needs_input_grad
        return (unbroadcast(g / conjugate(b), np.shape(self.arrays[0])) if need_a else None,
                unbroadcast(-g * conjugate(a / (b * b)), np.shape(self.arrays[1])) if need_b else None)


class Pow(Function):
    # y = a ** b   ->   da = g * b * a^(b-1),  db = g * y * log(a)   (taken as 0 where a = 0, as PyTorch does)
    def forward(self, a, b):
        return a ** b

    def backward(self, g):
        a, b = self.args
        need_a, need_b = self.needs_input_grad
        log_a = None
        if need_b and _is_python_number(a):  # a Python float stays weak: np.log(2.0) is a float64 that would promote g
            log_a = math.log(a) if a > 0 else 0.0 if a == 0 else math.nan
        elif need_b:
            log_a = Log.apply(Where.apply(self.arrays[0] == 0, 1, a))  # log 1 = 0 where a = 0: no 0 * -inf = nan
        return (unbroadcast(g * b * a ** (b - 1), np.shape(self.arrays[0])) if need_a else None,
                unbroadcast(g * self.output * log_a, np.shape(self.arrays[1])) if need_b else None)


class Neg(Function):
    # y = -x   ->   dx = -g
    complex_grad = True

    def forward(self, x):
        return -x

    def backward(self, g):
        return -g


class Exp(Function):
    # y = e^x   ->   dx = g * y
    def forward(self, x):
        return backend.xp.exp(x)

    def backward(self, g):
        return g * self.output


class Log(Function):
    # y = ln x   ->   dx = g / x
    def forward(self, x):
        return backend.xp.log(x)

    def backward(self, g):
        (x,) = self.args
        return g / x


class Sqrt(Function):
    # y = √x   ->   dx = g / (2y)
    def forward(self, x):
        return backend.xp.sqrt(x)

    def backward(self, g):
        return g / (2 * self.output)


class Abs(Function):
    # y = |x|   ->   dx = g * sign(x)   (z / |z| for a complex z: NumPy's sign)
    complex_grad = True

    def forward(self, x):
        return backend.xp.abs(x)

    def backward(self, g):
        x = self.arrays[0]
        if backend.dtype_kind(x.dtype) != "c":
            return g * backend.xp.sign(x)
        (z,) = self.args  # z / |z| depends on z (a second derivative sees it): built from the ops, 0 where z = 0
        return g * z / Where.apply(self.out == 0, 1, self.output)


class Erf(Function):
    # y = erf(x)   ->   dx = g * 2/√π * e^(-x²)
    def forward(self, x):
        if type(x) is np.ndarray:
            return special_kernels.erf(x)
        fused = backend.extras_for(x).fused("erf")  # (CuPy's erf: one kernel)
        if fused is not None:
            return fused(x)
        return special_kernels.erf_namespace(x, backend.array_namespace(x))  # (the standard has no erf)

    def backward(self, g):
        (x,) = self.args
        return g * (2 / math.sqrt(math.pi)) * Exp.apply(-(x * x))


class Where(Function):
    # y = c ? a : b   ->   da = c ? g : 0,  db = c ? 0 : g   (c carries no gradient)
    def forward(self, c, a, b):
        return backend.xp.where(c, a, b)

    def backward(self, g):
        c, a, b = self.arrays
        return (None,
                unbroadcast(Where.apply(c, g, 0), np.shape(a)),
                unbroadcast(Where.apply(c, 0, g), np.shape(b)))


class Mod(Function):
    # y = a - b floor(a / b)   (the sign of b: Python's %, tf.math.floormod, torch.remainder)
    # ->  da = g,  db = -g floor(a / b)
    def forward(self, a, b):
        return backend.array_namespace(a, b).remainder(a, b)  # (NumPy's mod by the standard's name)

    def backward(self, g):
        need_a, need_b = self.needs_input_grad
        a, b = self.arrays
        return (unbroadcast(g, np.shape(a)) if need_a else None,
                unbroadcast(-g * backend.array_namespace(a, b).floor(a / b), np.shape(b)) if need_b else None)


class Maximum(Function):
    # y = max(a, b)   ->   the larger input gets g; a tie splits it in half (as PyTorch does)
    def forward(self, a, b):
        return backend.xp.maximum(a, b)

    def backward(self, g):
        a, b = self.arrays
        return _split_by_winner(g, a, b, a > b)


class Minimum(Function):
    # y = min(a, b)   ->   the smaller input gets g; a tie splits it in half
    def forward(self, a, b):
        return backend.xp.minimum(a, b)

    def backward(self, g):
        a, b = self.arrays
        return _split_by_winner(g, a, b, a < b)


def _split_by_winner(g, a, b, a_wins):
    owner = backend.extras_for(a, b)
    share_a = owner.namespace.astype(owner.as_numeric(a_wins, g.dtype) + 0.5 * owner.as_numeric(a == b, g.dtype),
                                     g.dtype)
    return unbroadcast(g * share_a, np.shape(a)), unbroadcast(g * (1 - share_a), np.shape(b))


class Clip(Function):
    # y = min(max(x, lo), hi)   ->   dx = g where lo <= x <= hi, else 0
    def forward(self, x, lo, hi):
        self.inside = backend.array_namespace(x).ones(x.shape, dtype=bool)
        if lo is not None:
            self.inside &= x >= lo
        if hi is not None:
            self.inside &= x <= hi
        return backend.array_namespace(x).clip(x, lo, hi)

    def backward(self, g):
        return g * backend.extras_for(self.inside).as_numeric(self.inside, self.arrays[0].dtype)


class Cast(Function):
    # y = x as dtype   ->   dx = g as x's dtype   (complex to real keeps the real part, as TensorFlow's cast)
    complex_grad = True

    def forward(self, x, dtype):
        xp = backend.array_namespace(x)
        if backend.dtype_kind(x.dtype) == "c" and backend.numpy_dtype(dtype).kind != "c":
            return xp.astype(xp.real(x), dtype)
        return xp.astype(x, dtype)

    def backward(self, g):
        return Cast.apply(g, dtype=self.arrays[0].dtype)


def _operands(a: TensorLike, b: TensorLike):
    """Turn constants into arrays of the tensor's float dtype, so a list or NumPy float64 never promotes float32."""
    ref = a if isinstance(a, Tensor) else b if isinstance(b, Tensor) else None
    if ref is None:
        return as_tensor(a), b
    if isinstance(a, Tensor) and isinstance(b, Tensor) and (a.dtype.kind in "fc") != (b.dtype.kind in "fc"):
        # a float tensor and an integer or bool one: the float's dtype, as PyTorch (NumPy would give float64)
        return (a, cast(b, a.dtype)) if a.dtype.kind in "fc" else (cast(a, b.dtype), b)
    dtype = ref.dtype if ref.dtype.kind in "fc" else None
    if dtype is None and any(type(v) is float for v in (a, b)):  # int tensor and a Python float: floatx, as PyTorch
        a, b = (cast(v, backend.floatx()) if isinstance(v, Tensor) else v for v in (a, b))
    return (a if isinstance(a, Tensor) else _constant(a, dtype)), (b if isinstance(b, Tensor) else _constant(b, dtype))


def _constant(value, dtype):
    """A non-Tensor operand or bound: Python numbers stay as they are (they adapt to the tensor's dtype); lists,
    arrays and NumPy scalars become arrays of ``dtype`` (the tensor's float dtype, or None to keep their own)."""
    if value is None or _is_python_number(value):
        return value
    return _to_array(value, dtype if _is_numeric(value) else None)


def _is_python_number(x) -> bool:
    """A Python int, float or complex adapts to the tensor's dtype; a NumPy scalar (np.float64 subclasses float)
    does not."""
    return isinstance(x, (int, float, complex)) and not isinstance(x, np.generic)


def _is_numeric(x) -> bool:
    if backend.is_array(x):  # (any backend's: a device array cannot become a NumPy one here)
        return backend.dtype_kind(x.dtype) in "fiub"
    return np.asarray(x).dtype.kind in "fiub"


def _check_broadcast(a, b, name: str) -> None:
    shape_a, shape_b = (tuple(v.shape) if hasattr(v, "shape") else np.shape(v) for v in (a, b))
    try:
        np.broadcast_shapes(shape_a, shape_b)
    except ValueError:
        raise ValueError(f"{name}: shapes {shape_a} and {shape_b} cannot be broadcast together") from None


def _binary(fn_class, name):
    def f(a: TensorLike, b: TensorLike) -> Tensor:
        a, b = _operands(a, b)
        try:
            return fn_class.apply(a, b)
        except ValueError:
            _check_broadcast(a, b, name)
            raise
    return op(named(f, name, f"Elementwise {name} with broadcasting, e.g. ``chainrule.{name}(x, y)``."))


add = _binary(Add, "add")
sub = _binary(Sub, "sub")
mul = _binary(Mul, "mul")
div = _binary(Div, "div")
pow = _binary(Pow, "pow")
mod = _binary(Mod, "mod")
maximum = _binary(Maximum, "maximum")
minimum = _binary(Minimum, "minimum")


def _unary(fn_class, name):
    def f(x: TensorLike) -> Tensor:
        return fn_class.apply(as_tensor(x))
    return op(named(f, name, f"Elementwise {name}, e.g. ``chainrule.{name}(x)``."))


neg = _unary(Neg, "neg")
exp = _unary(Exp, "exp")
log = _unary(Log, "log")
sqrt = _unary(Sqrt, "sqrt")
abs = _unary(Abs, "abs")
erf = _unary(Erf, "erf")


def sign_values(x):
    """-1, 0 or 1 by the sign of each element of an array of any backend (NaN stays NaN), as ``numpy.sign``: the
    values of the no-gradient ``sign`` op.

    >>> sign_values(np.array([-2.0, 0.0, 3.0])).tolist()
    [-1.0, 0.0, 1.0]
    """
    return backend.array_namespace(x).sign(x)


@op
def where(condition: TensorLike, x: TensorLike, y: TensorLike) -> Tensor:
    """Pick ``x`` where ``condition`` holds, else ``y`` (broadcasting); the condition carries no gradient."""
    c = _to_array(condition)
    xp = backend.array_namespace(c)
    c = xp.astype(c, xp.bool)
    x, y = _operands(x, y)
    _check_broadcast(c, x, "where")
    _check_broadcast(c, y, "where")
    return Where.apply(c, x, y)


@op
def clip(x: TensorLike, min: float | None = None, max: float | None = None) -> Tensor:
    """Clamp into [min, max] (TensorFlow: ``clip_by_value``); values outside get no gradient."""
    if min is None and max is None:
        raise ValueError("clip: give at least one of min and max")
    x = as_tensor(x)
    dtype = x.dtype if x.dtype.kind == "f" else None  # float64 bounds must not promote a float32 x
    return Clip.apply(x, lo=_constant(min, dtype), hi=_constant(max, dtype))


def cast(x: TensorLike, dtype) -> Tensor:
    """Convert to ``dtype``; float to float keeps the gradient, to integer or bool cuts it."""
    x, dtype = as_tensor(x), backend.numpy_dtype(dtype)  # (any backend's dtype: Tensors carry NumPy's)
    return x if x.dtype == dtype else Cast.apply(x, dtype=dtype)
