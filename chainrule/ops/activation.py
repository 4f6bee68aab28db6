"""Activation functions: relu, leaky_relu, elu, gelu, sigmoid, tanh, softplus, softmax, log_softmax.

>>> import chainrule as cr
>>> cr.nn.relu(cr.constant([-1.0, 2.0])).numpy()
array([0., 2.], dtype=float32)
"""
from __future__ import annotations

import math

from chainrule import backend
from chainrule.backend.kernels import softmax as softmax_kernels
from chainrule.engine.function import Function, op
from chainrule.ops.math import Erf, Exp, Where, _unary
from chainrule.ops.reduce import Sum, _normalize_axis
from chainrule.engine.tensor import Tensor, TensorLike, as_tensor


class Relu(Function):
    # y = max(x, 0)   ->   dx = g where x > 0
    def forward(self, x):
        return backend.xp.maximum(x, 0)

    def backward(self, g):
        (x,) = self.arrays
        return g * backend.extras_for(x).as_numeric(x > 0, x.dtype)


class LeakyRelu(Function):
    # y = x if x > 0 else αx   ->   dx = g if x > 0 else αg
    def forward(self, x, alpha):
        self.alpha = alpha
        return backend.xp.where(x > 0, x, x * alpha)

    def backward(self, g):
        return Where.apply(self.arrays[0] > 0, g, g * self.alpha)


class Elu(Function):
    # y = x if x > 0 else α(eˣ - 1)   ->   dx = g if x > 0 else g(y + α)
    def forward(self, x, alpha):
        self.alpha = alpha
        return backend.xp.where(x > 0, x, alpha * backend.xp.expm1(backend.xp.minimum(x, 0)))

    def backward(self, g):
        return Where.apply(self.arrays[0] > 0, g, g * (self.output + self.alpha))


class Sigmoid(Function):
    # y = 1 / (1 + e^-x)   ->   dx = g y (1 - y)
    def forward(self, x):
        return backend.xp.exp(-backend.xp.logaddexp(0, -x))

    def backward(self, g):
        y = self.output
        return g * y * (1 - y)


class Tanh(Function):
    # y = tanh x   ->   dx = g (1 - y²)
    def forward(self, x):
        return backend.xp.tanh(x)

    def backward(self, g):
        y = self.output
        return g * (1 - y * y)


class Softplus(Function):
    # y = log(1 + eˣ)   ->   dx = g sigmoid(x)
    def forward(self, x):
        return backend.xp.logaddexp(0, x)

    def backward(self, g):
        return g * Sigmoid.apply(self.args[0])


class Softmax(Function):
    # y = e^x / Σ e^x   ->   dx = y (g - Σ g y)
    def forward(self, x, axis):
        self.axis = axis
        return softmax_kernels.softmax(x) if axis == x.ndim - 1 else softmax_kernels.softmax_numpy(x, axis)

    def backward(self, g):
        y = self.output
        return y * (g - Sum.apply(g * y, axes=(self.axis,), keepdims=True))


class LogSoftmax(Function):
    # y = x - log Σ e^x   ->   dx = g - e^y Σ g
    def forward(self, x, axis):
        self.axis = axis
        return softmax_kernels.log_softmax_numpy(x, axis)

    def backward(self, g):
        return g - Exp.apply(self.output) * Sum.apply(g, axes=(self.axis,), keepdims=True)


relu = _unary(Relu, "relu")
tanh = _unary(Tanh, "tanh")
softplus = _unary(Softplus, "softplus")


@op
def leaky_relu(x: TensorLike, alpha: float = 0.2) -> Tensor:
    """``x`` where positive, ``alpha * x`` elsewhere (TensorFlow's default alpha is 0.2)."""
    return LeakyRelu.apply(as_tensor(x), alpha=float(alpha))  # a Python float: np.float64 would promote float32


@op
def elu(x: TensorLike, alpha: float = 1.0) -> Tensor:
    """``x`` where positive, ``alpha * (exp(x) - 1)`` elsewhere."""
    return Elu.apply(as_tensor(x), alpha=float(alpha))


@op
def gelu(x: TensorLike, approximate: bool = False) -> Tensor:
    """Gaussian error linear unit: ``x * Φ(x)``; ``approximate=True`` uses the tanh formula.

    Built from differentiable ops, so its higher-order gradients come for free.
    """
    x = as_tensor(x)
    if approximate:
        inner = (x + 0.044715 * x * x * x) * math.sqrt(2 / math.pi)
        return 0.5 * x * (1 + Tanh.apply(inner))
    return 0.5 * x * (1 + Erf.apply(x * (1 / math.sqrt(2))))


# A sigmoid's or softmax's output remembers its input, whatever the grad mode (Keras's `output._keras_logits`): the
# cross-entropy losses then compute from the logits, the same stable formula in training, evaluation and no_grad.
@op
def sigmoid(x: TensorLike) -> Tensor:
    """Elementwise ``1 / (1 + exp(-x))``, e.g. ``chainrule.sigmoid(x)``."""
    x = as_tensor(x)
    out = Sigmoid.apply(x)
    out._from_logits = (Sigmoid, x, None)
    return out


@op
def softmax(x: TensorLike, axis: int = -1) -> Tensor:
    """Probabilities along ``axis``: ``exp(x) / sum(exp(x))``, computed stably."""
    x = as_tensor(x)
    axis = _normalize_axis(axis, x.ndim, "softmax")[0]
    out = Softmax.apply(x, axis=axis)
    out._from_logits = (Softmax, x, axis)
    return out


@op
def log_softmax(x: TensorLike, axis: int = -1) -> Tensor:
    """``x - logsumexp(x)`` along ``axis``, stable for large inputs."""
    x = as_tensor(x)
    return LogSoftmax.apply(x, axis=_normalize_axis(axis, x.ndim, "log_softmax")[0])
