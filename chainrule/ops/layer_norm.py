"""Layer normalization as one node: each example normalized over its feature axes, then scaled and shifted.

One node instead of the eight ops of the composite (mean, subtract, square, mean, add, rsqrt, multiply, add): the
forward keeps x̂ and 1/σ for the backward, which is a closed formula over the same axes.

>>> import numpy as np
>>> y = layer_norm(np.array([[1.0, 2.0, 3.0]]), epsilon=0.0)
>>> np.round(y.numpy(), 4)
array([[-1.2247,  0.    ,  1.2247]])
"""
from __future__ import annotations

import numpy as np

from chainrule import backend
from chainrule.backend.kernels import layer_norm as ln_kernels
from chainrule.engine.function import op
from chainrule.engine.tensor import Tensor, TensorLike, as_tensor
from chainrule.ops.math import cast
from chainrule.ops.nn import Standardizing
from chainrule.ops.reduce import _normalize_axis


def _affine_shape(x_shape: tuple[int, ...], axes: tuple[int, ...]) -> tuple[int, ...]:
    """The shape gamma and beta broadcast as: the normalized axes kept, every other axis 1."""
    return tuple(n if d in axes else 1 for d, n in enumerate(x_shape))


class LayerNorm(Standardizing):
    # x̂ = (x - μ) / √(σ² + ε),  y = γ x̂ + β   (μ, σ²: mean and biased variance over `axes`, N values each)
    # ->  dx = (ĝ - mean(ĝ) - x̂ mean(ĝ x̂)) / √(σ² + ε) with ĝ = γ g,  dγ = Σ g x̂,  dβ = Σ g  (Σ over the other axes)
    def forward(self, x, gamma, beta, axes, epsilon):
        xp = backend.xp
        self.axes, self.epsilon = axes, epsilon
        self.others = tuple(d for d in range(x.ndim) if d not in axes)
        self.affine = _affine_shape(x.shape, axes)
        if type(x) is not np.ndarray:
            self.rows = False
            return self._forward_namespace(x, gamma, beta)
        # the trailing axes (the usual case): (rows, features) through the row kernels, keeping only μ and 1/σ
        self.rows = axes == tuple(range(x.ndim - len(axes), x.ndim)) and x.ndim > len(axes)
        if self.rows:
            features = int(np.prod(x.shape[x.ndim - len(axes):]))
            self.x2 = xp.ascontiguousarray(x).reshape(-1, features)
            y, self.mean, self.inv = ln_kernels.layer_norm(self.x2, _flat(gamma), _flat(beta), epsilon)
            return y.reshape(x.shape)
        centered = x - x.mean(axis=axes, keepdims=True)
        var = xp.mean(centered * centered, axis=axes, keepdims=True)
        self.inv_std = 1.0 / xp.sqrt(var + epsilon)
        self.xhat = centered
        self.xhat *= self.inv_std
        y = self.xhat * gamma.reshape(self.affine) if gamma is not None else self.xhat.copy()
        if beta is not None:
            y += beta.reshape(self.affine)
        return y

    def backward(self, g):
        gamma = self.args[1]
        need_x, need_gamma, need_beta = self.needs_input_grad
        if self.rows and self.graph_out is None:
            dx, dgamma, dbeta = ln_kernels.layer_norm_grad(backend.xp.ascontiguousarray(g).reshape(self.x2.shape),
                                                           self.x2, _flat(gamma), self.mean, self.inv)
            return (dx.reshape(g.shape) if need_x else None,
                    dgamma.reshape(self.arrays[1].shape) if need_gamma else None,
                    dbeta.reshape(self.arrays[2].shape) if need_beta else None)
        if self.graph_out is None and type(g) is not np.ndarray:
            return self._backward_namespace(g, need_x, need_gamma, need_beta)
        xhat, inv_std = self._normalized()
        shape = self.arrays[1].shape if gamma is not None else None
        dgamma = (g * xhat).sum(axis=self.others).reshape(shape) if need_gamma else None
        dbeta = g.sum(axis=self.others).reshape(self.arrays[2].shape) if need_beta else None
        dx = None
        if need_x:
            gh = g if gamma is None else g * gamma.reshape(self.affine)
            dx = (gh - gh.mean(axis=self.axes, keepdims=True)
                  - xhat * (gh * xhat).mean(axis=self.axes, keepdims=True)) * inv_std
        return dx, dgamma, dbeta

    def _forward_namespace(self, x, gamma, beta):
        """The forward on any backend's arrays (the standard's functions), keeping x̂ and 1/σ."""
        xp = backend.array_namespace(x)
        centered = x - xp.mean(x, axis=self.axes, keepdims=True)
        self.inv_std = 1.0 / xp.sqrt(xp.mean(centered * centered, axis=self.axes, keepdims=True) + self.epsilon)
        self.xhat = y = centered * self.inv_std
        if gamma is not None:
            y = y * xp.reshape(gamma, self.affine)
        return y if beta is None else y + xp.reshape(beta, self.affine)

    def _backward_namespace(self, g, need_x, need_gamma, need_beta):
        """The backward on any backend's arrays: the formula above, with the standard's functions."""
        xp = backend.array_namespace(g)
        gamma, xhat, axes = self.arrays[1], self.xhat, self.axes
        dgamma = xp.reshape(xp.sum(g * xhat, axis=self.others), gamma.shape) if need_gamma else None
        dbeta = xp.reshape(xp.sum(g, axis=self.others), self.arrays[2].shape) if need_beta else None
        dx = None
        if need_x:
            gh = g if gamma is None else g * xp.reshape(gamma, self.affine)
            dx = (gh - xp.mean(gh, axis=axes, keepdims=True)
                  - xhat * xp.mean(gh * xhat, axis=axes, keepdims=True)) * self.inv_std
        return dx, dgamma, dbeta


def _flat(v):
    """gamma or beta as one contiguous row of features (None stays None)."""
    return None if v is None else backend.xp.ascontiguousarray(v).reshape(-1)


def _affine_weight(v: TensorLike | None, x: Tensor, axes: tuple[int, ...], role: str) -> Tensor | None:
    """gamma or beta as a tensor of x's dtype, shaped as the normalized axes (or already broadcastable as them)."""
    if v is None:
        return None
    v = as_tensor(v, dtype=None if isinstance(v, Tensor) else x.dtype)
    normalized = tuple(x.shape[d] for d in axes)
    if v.shape not in (normalized, _affine_shape(x.shape, axes)):
        raise ValueError(f"layer_norm: {role} must have shape {normalized} (the sizes of x {x.shape} along axes "
                         f"{axes}), got {v.shape}")
    return v if v.dtype == x.dtype else cast(v, x.dtype)


@op
def layer_norm(x: TensorLike, gamma: TensorLike | None = None, beta: TensorLike | None = None,
               axis: int | tuple[int, ...] = -1, epsilon: float = 1e-3) -> Tensor:
    """``(x - mean) / sqrt(var + epsilon) * gamma + beta`` with the mean and biased variance over ``axis`` (an int or
    a tuple of axes), for each example on its own; ``gamma``/``beta`` are shaped as those axes, or None.

    The same as ``torch.nn.functional.layer_norm`` over the trailing axes and ``keras.ops.layer_normalization``.
    """
    x = as_tensor(x)
    if x.dtype.kind != "f":
        raise TypeError(f"layer_norm: x must be a floating-point tensor, got dtype {x.dtype}")
    axes = tuple(sorted(_normalize_axis(axis, x.ndim, "layer_norm")))
    if len(set(axes)) != len(axes):
        raise ValueError(f"layer_norm: duplicate axes are not allowed, got axis={axis}")
    epsilon = float(epsilon)
    if epsilon < 0:
        raise ValueError(f"layer_norm: epsilon must be >= 0, got {epsilon}")
    gamma = _affine_weight(gamma, x, axes, "gamma")
    beta = _affine_weight(beta, x, axes, "beta")
    return LayerNorm.apply(x, gamma, beta, axes=axes, epsilon=epsilon)
