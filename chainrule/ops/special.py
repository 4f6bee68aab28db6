"""Special functions NumPy lacks or that need their own gradient: the modified Bessel functions I0 and I1
(``tf.math.bessel_i0``/``bessel_i1``, ``keras.ops.i0``; each the other's derivative), the real cube root ``cbrt``,
the inverse error function ``erfinv`` and the regularised lower incomplete gamma function ``gammainc``. Values are
computed in float64 on the host; each backward is written with ops, so higher derivatives flow where they exist.

I1 is summed from its power series ``Σ (x/2)^(2k+1) / (k! (k+1)!)``, whose terms are all of one sign (no
cancellation); I0 is NumPy's ``i0``.

>>> import chainrule as cr
>>> [round(v, 6) for v in bessel_i0(cr.constant([0.0, 1.0])).numpy().tolist()]
[1.0, 1.266066]
>>> [round(v, 6) for v in bessel_i1(cr.constant([0.0, 1.0])).numpy().tolist()]
[0.0, 0.565159]
"""
from __future__ import annotations

import math

import numpy as np

from chainrule import backend
from chainrule.engine.function import Function, op
from chainrule.engine.tensor import Tensor, TensorLike, as_tensor
from chainrule.ops.broadcast import unbroadcast


def _i1_series(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    quarter_square = (x / 2.0) ** 2
    term = x / 2.0
    total = term.copy()
    steps = int(np.max(np.abs(x), initial=0.0)) + 40  # past the largest term (near k = |x| / 2) and its tail
    for k in range(steps):
        term = term * quarter_square / ((k + 1.0) * (k + 2.0))
        total += term
    return total


def _on_host(fn, x):
    xp = backend.array_namespace(x)
    host = np.asarray(backend.to_host(x))
    with np.errstate(all="ignore"):  # NaN and inf outside the domain are the answers, not accidents
        return xp.asarray(fn(host.astype(np.float64)).astype(host.dtype))


class BesselI0(Function):
    # y = I0(x)   ->   dx = g I1(x)
    def forward(self, x):
        return _on_host(np.i0, x)

    def backward(self, g):
        (x,) = self.args
        return g * BesselI1.apply(x)


class BesselI1(Function):
    # y = I1(x)   ->   dx = g (I0(x) - I1(x) / x),  g / 2 at x = 0
    def forward(self, x):
        return _on_host(_i1_series, x)

    def backward(self, g):
        (x,) = self.args
        zero = np.asarray(backend.to_host(x.data if isinstance(x, Tensor) else x) == 0, dtype=x.dtype)
        ratio = self.output / (x + zero) * (1.0 - zero) + 0.5 * zero
        return g * (BesselI0.apply(x) - ratio)


def _float(x: TensorLike, name: str) -> Tensor:
    x = as_tensor(x)
    if x.dtype.kind != "f":
        raise TypeError(f"{name}: expected a float tensor, got dtype {x.dtype}")
    return x


@op
def bessel_i0(x: TensorLike) -> Tensor:
    """I0(x), elementwise."""
    return BesselI0.apply(_float(x, "bessel_i0"))


@op
def bessel_i1(x: TensorLike) -> Tensor:
    """I1(x), elementwise."""
    return BesselI1.apply(_float(x, "bessel_i1"))


# --- cbrt ----------------------------------------------------------------------------------------------------------
class Cbrt(Function):
    # y = ∛x   ->   dx = g / (3 y²)
    def forward(self, x):
        return _on_host(np.cbrt, x)

    def backward(self, g):
        y = self.output
        return g / (3.0 * y * y)


@op
def cbrt(x: TensorLike) -> Tensor:
    """The real cube root, elementwise (NumPy's ``cbrt``: exact for perfect cubes)."""
    return Cbrt.apply(_float(x, "cbrt"))


# --- erfinv --------------------------------------------------------------------------------------------------------
_erf = np.frompyfunc(math.erf, 1, 1)


def _erfinv(x: np.ndarray) -> np.ndarray:
    """Giles's (2010) single-precision approximation refined by Newton steps on erf; ±inf at ±1, NaN outside."""
    x = np.asarray(x, dtype=np.float64)
    w = -np.log(np.clip((1.0 - x) * (1.0 + x), 1e-300, None))
    central = w - 2.5
    p_central = np.polyval([2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087,
                            -0.00125372503, -0.00417768164, 0.246640727, 1.50140941], central)
    tail = np.sqrt(np.maximum(w, 5.0)) - 3.0
    p_tail = np.polyval([-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773,
                         -0.0076224613, 0.00943887047, 1.00167406, 2.83297682], tail)
    inside = np.abs(x) < 1
    y = np.where(w < 5.0, p_central, p_tail) * np.where(inside, x, 0.0)
    for _ in range(3):
        step = (np.asarray(_erf(y), dtype=np.float64) - x) / (2.0 / math.sqrt(math.pi) * np.exp(-y * y))
        y = np.where(inside, y - step, y)
    y = np.where(np.abs(x) == 1, np.sign(x) * np.inf, y)
    return np.where(np.abs(x) > 1, np.nan, y)


class Erfinv(Function):
    # y = erf⁻¹(x)   ->   dx = g √π / 2 · e^(y²)
    def forward(self, x):
        return _on_host(_erfinv, x)

    def backward(self, g):
        y = self.output
        return g * (math.sqrt(math.pi) / 2.0) * _exp(y * y)


def _exp(x):
    from chainrule.ops.math import exp

    return exp(x) if isinstance(x, Tensor) else backend.array_namespace(x).exp(x)


@op
def erfinv(x: TensorLike) -> Tensor:
    """The inverse error function on (-1, 1) (±inf at ±1, NaN beyond), elementwise."""
    return Erfinv.apply(_float(x, "erfinv"))


# --- gammainc ------------------------------------------------------------------------------------------------------
def _lgamma_scalar(v: float) -> float:
    try:
        return math.lgamma(v)
    except ValueError:  # a pole: 0, -1, -2, ...
        return math.inf


_lgamma = np.frompyfunc(_lgamma_scalar, 1, 1)
_GAMMA_STEPS = 400  # enough for the series (x < a + 1) and the continued fraction (x >= a + 1) to converge


def _log_prefactor(a, x):
    """log(x^a e^-x / Γ(a)), the factor both expansions share."""
    with np.errstate(divide="ignore"):
        return a * np.log(x) - x - np.asarray(_lgamma(a), dtype=np.float64)


def _gammainc(a: np.ndarray, x: np.ndarray) -> np.ndarray:
    """P(a, x) by the power series below a + 1 and Lentz's continued fraction for Q = 1 - P above (Numerical
    Recipes' gser/gcf), elementwise in float64."""
    a, x = np.broadcast_arrays(np.asarray(a, np.float64), np.asarray(x, np.float64))
    safe_a = np.where(a > 0, a, 1.0)
    safe_x = np.where(x > 0, x, 1.0)
    log_front = _log_prefactor(safe_a, safe_x)
    # series: P = front / a · Σ x^n / ((a+1)...(a+n))
    term = 1.0 / safe_a
    total = term.copy()
    for n in range(1, _GAMMA_STEPS):
        term = term * safe_x / (safe_a + n)
        total = total + term
    series = total * np.exp(log_front)
    # continued fraction for Q
    tiny = 1e-300
    b = safe_x + 1.0 - safe_a
    c = np.full_like(b, 1.0 / tiny)
    d = 1.0 / np.where(np.abs(b) < tiny, tiny, b)
    h = d.copy()
    for i in range(1, _GAMMA_STEPS):
        an = -i * (i - safe_a)
        b = b + 2.0
        d = an * d + b
        d = 1.0 / np.where(np.abs(d) < tiny, tiny, d)
        c = b + an / c
        c = np.where(np.abs(c) < tiny, tiny, c)
        h = h * d * c
    fraction = 1.0 - np.exp(log_front) * h
    out = np.where(safe_x < safe_a + 1.0, series, fraction)
    out = np.where(x == 0, 0.0, out)
    out = np.where(np.isinf(x) & (x > 0), 1.0, out)
    return np.where((a <= 0) | (x < 0) | np.isnan(a) | np.isnan(x), np.nan, out)


def _gammainc_host(a, x):
    xp = backend.array_namespace(x)
    with np.errstate(all="ignore"):
        values = _gammainc(np.asarray(backend.to_host(a)), np.asarray(backend.to_host(x)))
    return xp.asarray(values.astype(x.dtype))


def _gamma_density(a, x):
    density = np.exp(_log_prefactor(np.asarray(a, np.float64), np.asarray(x, np.float64)) - np.log(x))
    return backend.array_namespace(x).asarray(density.astype(x.dtype))


class GammaInc(Function):
    # y = P(a, x)   ->   dx = g x^(a-1) e^(-x) / Γ(a);  no gradient for a (as PyTorch and TensorFlow's igamma)
    def forward(self, a, x):
        return _gammainc_host(a, x)

    def backward(self, g):
        a, x = self.args
        if self.needs_input_grad[0]:
            raise NotImplementedError("gammainc: the derivative with respect to the first argument (the shape a) is "
                                      "not implemented (nor in PyTorch or TensorFlow); pass it as a constant")
        if isinstance(x, Tensor):  # (under create_graph: ops, so the gradient has a gradient in x)
            from chainrule.ops.math import exp, log

            density = exp((a - 1.0) * log(x) - x - _lgamma_constant(a))
        else:
            density = _gamma_density(a, x)
        return None, unbroadcast(g * density, self.arrays[1].shape)


def _lgamma_constant(a: Tensor) -> Tensor:
    values = np.asarray(_lgamma(np.asarray(backend.to_host(a.data))), dtype=np.float64)
    return Tensor._wrap(backend.array_namespace(a.data).asarray(values.astype(a.dtype)))


@op
def gammainc(a: TensorLike, x: TensorLike) -> Tensor:
    """The regularised lower incomplete gamma function ``P(a, x) = γ(a, x) / Γ(a)`` for a > 0, x >= 0 (NaN
    elsewhere), broadcast; differentiable with respect to ``x``."""
    a, x = _float(a, "gammainc"), _float(x, "gammainc")
    if a.dtype != x.dtype:
        common = np.result_type(a.dtype, x.dtype)
        from chainrule.ops.math import cast

        a, x = cast(a, common), cast(x, common)
    return GammaInc.apply(a, x)


# --- lgamma and digamma -------------------------------------------------------------------------------------------
def _polygamma_series(x: np.ndarray, order: int) -> np.ndarray:
    """ψ (order 0) or ψ' (order 1) for x > 0: the recurrence up to x >= 10, then the asymptotic series."""
    x = np.asarray(x, dtype=np.float64).copy()
    total = np.zeros_like(x)
    small = x < 10.0
    while small.any():
        total = np.where(small, total - (1.0 / x if order == 0 else -1.0 / (x * x)), total)
        x = np.where(small, x + 1.0, x)
        small = x < 10.0
    inv2 = 1.0 / (x * x)
    if order == 0:
        tail = np.log(x) - 0.5 / x - inv2 * (1 / 12 - inv2 * (1 / 120 - inv2 * (1 / 252 - inv2 * (1 / 240 -
                                                                                                    inv2 / 132))))
    else:
        tail = 1.0 / x + 0.5 * inv2 + (1.0 / x) * inv2 * (1 / 6 - inv2 * (1 / 30 - inv2 * (1 / 42 - inv2 / 30)))
    return total + tail


def _digamma(x: np.ndarray) -> np.ndarray:
    """ψ(x), with the reflection ψ(1 - x) - π cot(πx) below 1/2; NaN at the poles 0, -1, -2, ..."""
    x = np.asarray(x, dtype=np.float64)
    reflect = x < 0.5
    safe = np.where(reflect, 1.0 - x, x)
    out = _polygamma_series(safe, 0)
    out = np.where(reflect, out - np.pi / np.tan(np.pi * x), out)
    return np.where((x <= 0) & (x == np.floor(x)), np.nan, out)


def _trigamma(x: np.ndarray) -> np.ndarray:
    """ψ'(x), with the reflection π² / sin²(πx) - ψ'(1 - x) below 1/2."""
    x = np.asarray(x, dtype=np.float64)
    reflect = x < 0.5
    safe = np.where(reflect, 1.0 - x, x)
    out = _polygamma_series(safe, 1)
    out = np.where(reflect, (np.pi / np.sin(np.pi * x)) ** 2 - out, out)
    return np.where((x <= 0) & (x == np.floor(x)), np.inf, out)


def _lgamma_values(x: np.ndarray) -> np.ndarray:
    return np.asarray(_lgamma(np.asarray(x, dtype=np.float64)), dtype=np.float64)


class Lgamma(Function):
    # y = log|Γ(x)|   ->   dx = g ψ(x)
    def forward(self, x):
        return _on_host(_lgamma_values, x)

    def backward(self, g):
        (x,) = self.args
        return g * Digamma.apply(x)


class Digamma(Function):
    # y = ψ(x)   ->   dx = g ψ'(x)   (ψ' as a constant of the graph: no third derivative of lgamma)
    def forward(self, x):
        return _on_host(_digamma, x)

    def backward(self, g):
        (x,) = self.args
        values = x.data if isinstance(x, Tensor) else x
        return g * _on_host(_trigamma, values)


@op
def lgamma(x: TensorLike) -> Tensor:
    """log|Γ(x)|, elementwise (+inf at the poles 0, -1, -2, ...)."""
    return Lgamma.apply(_float(x, "lgamma"))


@op
def digamma(x: TensorLike) -> Tensor:
    """ψ(x) = d/dx log Γ(x), elementwise (NaN at the poles)."""
    return Digamma.apply(_float(x, "digamma"))


__all__ = ["bessel_i0", "bessel_i1", "cbrt", "digamma", "erfinv", "gammainc", "lgamma"]
