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
from chainrule.backend.kernels import special as special_kernels
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


def _like(values: np.ndarray, like):
    """Host ``values`` in the dtype of ``like`` (an array or Tensor of any backend), on its backend: the values of
    these functions are computed on the host (the standard has none of them), then copied over once."""
    data = like.data if isinstance(like, Tensor) else like
    values = np.asarray(values).astype(backend.numpy_dtype(data.dtype))
    return values if type(data) is np.ndarray else backend.extras_for(data).from_host(values)


def _on_host(fn, x):
    host = np.asarray(backend.to_host(x))
    with np.errstate(all="ignore"):  # NaN and inf outside the domain are the answers, not accidents
        return _like(fn(host.astype(np.float64)), x)


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
        zero = _like(backend.to_host(x.data if isinstance(x, Tensor) else x) == 0, x)
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
        step = (special_kernels.erf(y) - x) / (2.0 / math.sqrt(math.pi) * np.exp(-y * y))
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


def _on_host_binary(fn, first, second):
    """``fn`` of two arrays in float64 on the host, in the second's dtype and namespace."""
    with np.errstate(all="ignore"):  # NaN and inf outside the domain are the answers
        values = fn(np.asarray(backend.to_host(first)), np.asarray(backend.to_host(second)))
    return _like(values, second)


def _no_gradient_for_first(node: Function, name: str, what: str) -> None:
    if node.needs_input_grad[0]:
        raise NotImplementedError(f"{name}: the derivative with respect to {what} is not implemented (nor in PyTorch "
                                  f"or TensorFlow); pass it as a constant")


def _gamma_density(a, x):
    host_a, host_x = (np.asarray(backend.to_host(v), np.float64) for v in (a, x))
    density = np.exp(_log_prefactor(host_a, host_x) - np.log(host_x))
    return _like(density, x)


class GammaInc(Function):
    # y = P(a, x)   ->   dx = g x^(a-1) e^(-x) / Γ(a);  no gradient for a (as PyTorch and TensorFlow's igamma)
    def forward(self, a, x):
        return _on_host_binary(_gammainc, a, x)

    def backward(self, g):
        a, x = self.args
        _no_gradient_for_first(self, "gammainc", "the first argument (the shape a)")
        if isinstance(x, Tensor):  # (under create_graph: ops, so the gradient has a gradient in x)
            from chainrule.ops.math import exp, log

            density = exp((a - 1.0) * log(x) - x - _lgamma_constant(a))
        else:
            density = _gamma_density(a, x)
        return None, unbroadcast(g * density, self.arrays[1].shape)


def _lgamma_constant(a: Tensor) -> Tensor:
    values = np.asarray(_lgamma(np.asarray(backend.to_host(a.data))), dtype=np.float64)
    return Tensor._wrap(_like(values, a))


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
def _digamma_positive(x: np.ndarray) -> np.ndarray:
    """ψ(x) for x > 0: the recurrence ψ(x) = ψ(x + 1) - 1/x up to x >= 10, then the asymptotic series."""
    x = np.asarray(x, dtype=np.float64).copy()
    total = np.zeros_like(x)
    small = x < 10.0
    while small.any():
        total = np.where(small, total - 1.0 / x, total)
        x = np.where(small, x + 1.0, x)
        small = x < 10.0
    inv2 = 1.0 / (x * x)
    tail = np.log(x) - 0.5 / x - inv2 * (1 / 12 - inv2 * (1 / 120 - inv2 * (1 / 252 - inv2 * (1 / 240 -
                                                                                                inv2 / 132))))
    return total + tail


def _digamma(x: np.ndarray) -> np.ndarray:
    """ψ(x), with the reflection ψ(1 - x) - π cot(πx) below 1/2; NaN at the poles 0, -1, -2, ..."""
    x = np.asarray(x, dtype=np.float64)
    reflect = x < 0.5
    safe = np.where(reflect, 1.0 - x, x)
    out = _digamma_positive(safe)
    out = np.where(reflect, out - np.pi / np.tan(np.pi * x), out)
    return np.where((x <= 0) & (x == np.floor(x)), np.nan, out)


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
    # y = ψ(x)   ->   dx = g ψ'(x) = g ζ(2, x)
    def forward(self, x):
        return _on_host(_digamma, x)

    def backward(self, g):
        (x,) = self.args
        values = x.data if isinstance(x, Tensor) else x
        two = backend.array_namespace(values).full(values.shape, 2.0, dtype=values.dtype)
        return g * Zeta.apply(two, x)


@op
def lgamma(x: TensorLike) -> Tensor:
    """log|Γ(x)|, elementwise (+inf at the poles 0, -1, -2, ...)."""
    return Lgamma.apply(_float(x, "lgamma"))


@op
def digamma(x: TensorLike) -> Tensor:
    """ψ(x) = d/dx log Γ(x), elementwise (NaN at the poles)."""
    return Digamma.apply(_float(x, "digamma"))


# --- betainc -------------------------------------------------------------------------------------------------------
def _log_beta(a, b):
    return (np.asarray(_lgamma(a), np.float64) + np.asarray(_lgamma(b), np.float64)
            - np.asarray(_lgamma(a + b), np.float64))


def _beta_fraction(a, b, x):
    """The continued fraction of I_x(a, b) (Lentz's method, Numerical Recipes' betacf), elementwise."""
    tiny = 1e-300
    c = np.ones_like(x)
    d = 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / np.where(np.abs(d) < tiny, tiny, d)
    h = d.copy()
    for m in range(1, _GAMMA_STEPS):
        for numerator in (m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
                          -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))):
            d = 1.0 + numerator * d
            d = 1.0 / np.where(np.abs(d) < tiny, tiny, d)
            c = 1.0 + numerator / c
            c = np.where(np.abs(c) < tiny, tiny, c)
            h = h * d * c
    return h


def _betainc(a: np.ndarray, b: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The regularised incomplete beta function I_x(a, b): the continued fraction where it converges fast, else
    through the symmetry I_x(a, b) = 1 - I_(1-x)(b, a); NaN outside a, b > 0, 0 <= x <= 1."""
    a, b, x = np.broadcast_arrays(*(np.asarray(v, np.float64) for v in (a, b, x)))
    inside = (a > 0) & (b > 0) & (x > 0) & (x < 1)
    sa, sb, sx = np.where(inside, a, 1.0), np.where(inside, b, 1.0), np.where(inside, x, 0.5)
    flip = sx > (sa + 1.0) / (sa + sb + 2.0)
    pa, pb, px = np.where(flip, sb, sa), np.where(flip, sa, sb), np.where(flip, 1.0 - sx, sx)
    front = np.exp(pa * np.log(px) + pb * np.log1p(-px) - _log_beta(pa, pb)) / pa
    value = front * _beta_fraction(pa, pb, px)
    out = np.where(flip, 1.0 - value, value)
    out = np.where((x == 0) & (a > 0) & (b > 0), 0.0, out)
    out = np.where((x == 1) & (a > 0) & (b > 0), 1.0, out)
    return np.where(inside | ((x == 0) | (x == 1)) & (a > 0) & (b > 0), out, np.nan)


def _on_host_ternary(fn, a, b, x):
    with np.errstate(all="ignore"):
        values = fn(*(np.asarray(backend.to_host(v)) for v in (a, b, x)))
    return _like(values, x)


def _log_beta_constant(a, b, like):
    values = _log_beta(np.asarray(backend.to_host(a.data if isinstance(a, Tensor) else a), np.float64),
                       np.asarray(backend.to_host(b.data if isinstance(b, Tensor) else b), np.float64))
    return _like(values, like)


class BetaInc(Function):
    # y = I_x(a, b)   ->   dx = g x^(a-1) (1-x)^(b-1) / B(a, b);  no gradient for a, b (as TensorFlow's betainc)
    def forward(self, a, b, x):
        return _on_host_ternary(_betainc, a, b, x)

    def backward(self, g):
        a, b, x = self.args
        if self.needs_input_grad[0] or self.needs_input_grad[1]:
            raise NotImplementedError("betainc: the derivatives with respect to a and b are not implemented (nor in "
                                      "TensorFlow); pass them as constants")
        if isinstance(x, Tensor):  # (under create_graph: ops, so the gradient has a gradient in x)
            from chainrule.ops.math import exp, log
            from chainrule.ops.transcendental import log1p
        else:
            xp = backend.array_namespace(x)
            exp, log, log1p = xp.exp, xp.log, xp.log1p
        density = exp((a - 1.0) * log(x) + (b - 1.0) * log1p(-x) - _log_beta_constant(a, b, x))
        return None, None, unbroadcast(g * density, self.arrays[2].shape)


@op
def betainc(a: TensorLike, b: TensorLike, x: TensorLike) -> Tensor:
    """The regularised incomplete beta function ``I_x(a, b)`` for a, b > 0 and 0 <= x <= 1 (NaN elsewhere),
    broadcast; differentiable with respect to ``x``."""
    a, b, x = _float(a, "betainc"), _float(b, "betainc"), _float(x, "betainc")
    common = np.result_type(a.dtype, b.dtype, x.dtype)
    if {a.dtype, b.dtype, x.dtype} != {common}:
        from chainrule.ops.math import cast

        a, b, x = (v if v.dtype == common else cast(v, common) for v in (a, b, x))
    return BetaInc.apply(a, b, x)


# --- Hurwitz zeta --------------------------------------------------------------------------------------------------
# B_2j / (2j)! for j = 1..12: the Euler-Maclaurin corrections' coefficients
_BERNOULLI_OVER_FACTORIAL = [b / math.factorial(2 * j) for j, b in enumerate(
    [1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510, 43867 / 798, -174611 / 330,
     854513 / 138, -236364091 / 2730], start=1)]


def _hurwitz_zeta(s: np.ndarray, q: np.ndarray) -> np.ndarray:
    """ζ(s, q) = Σ_k (q + k)^-s for s > 1: the terms up to q + n >= 10 summed, the rest by Euler-Maclaurin
    (12 corrections); negative q is allowed for integer s (polygamma's), NaN for s <= 1 or q a pole."""
    s, q = np.broadcast_arrays(np.asarray(s, np.float64), np.asarray(q, np.float64))
    steps = np.maximum(np.ceil(10.0 - q), 9.0)
    steps = np.where(np.isfinite(steps), steps, 9.0)
    total = np.zeros(s.shape)
    for k in range(int(steps.max(initial=9.0))):
        total = total + np.where(k < steps, np.power(q + k, -s), 0.0)
    tail_base = q + steps
    tail = np.power(tail_base, 1.0 - s) / (s - 1.0) + 0.5 * np.power(tail_base, -s)
    rising, power = s.copy(), np.power(tail_base, -s - 1.0)
    for j, coefficient in enumerate(_BERNOULLI_OVER_FACTORIAL):
        tail = tail + coefficient * rising * power
        rising = rising * (s + 2 * j + 1) * (s + 2 * j + 2)
        power = power / (tail_base * tail_base)
    out = total + tail
    bad = (s <= 1.0) | ((q <= 0) & (q == np.floor(q))) | ((q < 0) & (s != np.floor(s)))
    return np.where(bad, np.where(s == 1.0, np.inf, np.nan), out)


class Zeta(Function):
    # y = ζ(s, q)   ->   dq = -g s ζ(s + 1, q);  no gradient for s (as PyTorch and TensorFlow)
    def forward(self, s, q):
        return _on_host_binary(_hurwitz_zeta, s, q)

    def backward(self, g):
        s, q = self.args
        _no_gradient_for_first(self, "zeta", "the exponent (the first argument)")
        return None, unbroadcast(-(g * s) * Zeta.apply(s + 1.0, q), self.arrays[1].shape)


@op
def zeta(s: TensorLike, q: TensorLike) -> Tensor:
    """The Hurwitz zeta function ``ζ(s, q) = Σ_k (q + k)^-s`` (s > 1), broadcast; differentiable in ``q``."""
    s, q = _float(s, "zeta"), _float(q, "zeta")
    if s.dtype != q.dtype:
        from chainrule.ops.math import cast

        common = np.result_type(s.dtype, q.dtype)
        s, q = cast(s, common), cast(q, common)
    return Zeta.apply(s, q)


def polygamma(n: TensorLike, x: TensorLike) -> Tensor:
    """ψ⁽ⁿ⁾(x) for integer n >= 0: digamma for n = 0, else ``(-1)^(n+1) n! ζ(n + 1, x)`` (differentiable in x)."""
    orders = np.asarray(backend.to_host(as_tensor(n).data), dtype=np.float64)
    if (orders < 0).any() or (orders != np.floor(orders)).any():
        raise ValueError(f"polygamma: the order n must hold non-negative integers, got {orders.tolist()}")
    x = _float(x, "polygamma")
    if orders.size == 1 and orders.reshape(-1)[0] == 0:
        return digamma(x)
    sign_factorial = np.vectorize(lambda k: (-1.0) ** (k + 1) * math.factorial(int(k)))(orders).astype(x.dtype)
    out = zeta(np.asarray(orders + 1.0, dtype=x.dtype), x) * sign_factorial
    if (orders == 0).any():
        from chainrule.ops.math import where

        out = where(np.asarray(orders == 0), digamma(x), out)
    return out


__all__ = ["bessel_i0", "bessel_i1", "betainc", "cbrt", "digamma", "erfinv", "gammainc", "lgamma", "polygamma", "zeta"]
