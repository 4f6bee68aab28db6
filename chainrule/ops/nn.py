"""Neural-network ops that always come together, fused: dropout, batch normalization and the losses (softmax, sparse
softmax and sigmoid cross-entropy with logits; mean squared error).

Fusing saves passes over the data and keeps the math stable: the cross-entropies never take ``log(softmax(x))`` or
``log(sigmoid(x))``, so logits of ±1e4 give finite losses and gradients. Each backward has a fast path on arrays (it
reuses what forward saved) and, under ``create_graph=True``, recomputes those intermediates from the inputs with
differentiable ops, so gradients of gradients are right.

>>> import numpy as np
>>> labels = np.array([[0.0, 1.0], [1.0, 0.0]])
>>> logits = np.array([[0.0, 0.0], [1e4, -1e4]])
>>> softmax_cross_entropy_with_logits(labels, logits).numpy()
array([0.69314718, 0.        ])
>>> sparse_softmax_cross_entropy_with_logits(np.array([1, 0]), logits).numpy()
array([0.69314718, 0.        ])
"""
from __future__ import annotations

import numpy as np

from chainrule import backend
from chainrule.backend.kernels import softmax as softmax_kernels
from chainrule.ops.activation import LogSoftmax, Sigmoid, Softmax
from chainrule.engine.function import Function, op
from chainrule.ops.broadcast import unbroadcast
from chainrule.ops.math import Exp, cast
from chainrule.ops.reduce import _kept_shape, _normalize_axis
from chainrule.engine.tensor import Tensor, TensorLike, as_tensor


# --- argument checks --------------------------------------------------------------------------------------------------
def _float_tensor(x: TensorLike, opname: str, role: str) -> Tensor:
    x = as_tensor(x)
    if x.dtype.kind != "f":
        raise TypeError(f"{opname}: {role} must be a floating-point tensor, got dtype {x.dtype}")
    return x


def _like(x: TensorLike, ref: Tensor) -> Tensor:
    """``x`` as a tensor of ``ref``'s float dtype (a float-to-float cast keeps the gradient), as Keras casts y_true."""
    if isinstance(x, Tensor):
        return cast(x, ref.dtype)
    return as_tensor(x, dtype=ref.dtype)


def _same_shape(labels: Tensor, logits: Tensor, opname: str) -> None:
    if labels.shape != logits.shape:
        raise ValueError(f"{opname}: labels and logits must have the same shape, got labels {labels.shape} "
                         f"and logits {logits.shape}")


# --- dropout ----------------------------------------------------------------------------------------------------------
class Dropout(Function):
    # y = x * scale,  scale = (u >= rate) / (1 - rate) with u ~ U[0, 1) drawn here   ->   dx = g * scale
    # (the mask is drawn in forward, so a replayed training step draws a new one: chainrule/engine/tracer.py)
    def forward(self, x, rate, noise_shape, seed):
        generator, shape = _mask_generator(seed), _noise_shape(x.shape, noise_shape)
        if type(x) is not np.ndarray:  # drawn where x lives, from a seed the host's sequence gives (no copy over)
            owner = backend.extras_for(x)
            draws = owner.random_generator(int(generator.integers(2**63))).random(shape, dtype=np.float32)
            keep = (owner.from_host(draws) if isinstance(draws, np.ndarray) else draws) >= rate
            self.scale = scale = owner.xp.astype(keep, x.dtype) * (1.0 / (1.0 - rate))
            return x * scale
        keep = generator.random(shape, dtype=np.float32) >= rate
        scale = keep.astype(x.dtype)
        scale *= 1.0 / (1.0 - rate)
        self.scale = scale
        return x * scale

    def backward(self, g):
        return g * self.scale


def _noise_shape(shape: tuple[int, ...], noise_shape) -> tuple[int, ...]:
    """TensorFlow's noise_shape: one entry per axis, each 1 (share the mask along it), the axis's size, or None."""
    if noise_shape is None:
        return shape
    noise = tuple(int(shape[i]) if n is None else int(n) for i, n in enumerate(noise_shape)) \
        if len(noise_shape) == len(shape) else None
    if noise is None or any(n not in (1, s) for n, s in zip(noise, shape)):
        raise ValueError(f"dropout: noise_shape {tuple(noise_shape)} must have one entry per axis of x {shape}, "
                         f"each 1 or that axis's size")
    return noise


def _mask_generator(seed) -> np.random.Generator:
    """None: the global generator; an int: that op seed's sequence (``backend.op_rng``: a new mask per call, the
    same masks per run); a Generator: a generator seeded by its next draw (the Dropout layer's own sequence)."""
    if seed is None:
        return backend.rng()
    if isinstance(seed, np.random.Generator):
        return np.random.default_rng(int(seed.integers(2**62)))
    return backend.op_rng(seed)


@op
def dropout(x: TensorLike, rate: float, training: bool = True, noise_shape=None,
            seed: int | np.random.Generator | None = None) -> Tensor:
    """Zero a random fraction ``rate`` of ``x`` and scale the rest by ``1 / (1 - rate)`` (``tf.nn.dropout``).

    ``noise_shape`` shares one mask draw along the axes where it is 1; ``seed`` draws the mask from its own generator
    (same seed, same mask), otherwise from ``chainrule.backend.rng()``. ``training=False`` or ``rate=0`` return ``x``.
    """
    x = _float_tensor(x, "dropout", "x")
    rate = float(rate)
    if not 0.0 <= rate < 1.0:
        raise ValueError(f"dropout: rate must be in [0, 1), got {rate}")
    if not training or rate == 0.0:
        return x
    _noise_shape(x.shape, noise_shape)  # a bad noise_shape fails here, naming dropout
    return Dropout.apply(x, rate=rate, noise_shape=noise_shape, seed=seed)


# --- batch normalization ----------------------------------------------------------------------------------------------
def _channels(x: Tensor, axis: int, opname: str) -> tuple[tuple[int, ...], tuple[int, ...], int]:
    """(the axes the statistics run over, the shape a per-channel vector broadcasts as, the number of channels)."""
    if x.ndim < 1:
        raise ValueError(f"{opname}: x must have at least one dimension, got shape {x.shape}")
    (axis,) = _normalize_axis(axis, x.ndim, opname)
    axes = tuple(i for i in range(x.ndim) if i != axis)
    return axes, _kept_shape(x.shape, axes), x.shape[axis]


def _per_channel(v: TensorLike | None, x: Tensor, channels: int, opname: str, role: str) -> Tensor | None:
    if v is None:
        return None
    v = as_tensor(v, dtype=None if isinstance(v, Tensor) else x.dtype)
    if v.shape != (channels,):
        raise ValueError(f"{opname}: {role} must have shape ({channels},) (one value per channel of x {x.shape}), "
                         f"got {v.shape}")
    if v.dtype != x.dtype:
        raise TypeError(f"{opname}: {role} has dtype {v.dtype} but x has {x.dtype}")
    return v


class Standardizing(Function):
    """A normalization node that keeps x̂ and 1/√(σ² + ε) (``xhat``, ``inv_std``) from forward, over ``axes``."""

    def _normalized(self):
        """(x̂, 1/√(σ² + ε)): saved on the fast path; rebuilt from x with differentiable ops under create_graph,
        where they must carry their dependence on x."""
        if self.graph_out is None:
            return self.xhat, self.inv_std
        x, axes = self.args[0], self.axes
        centered = x - x.mean(axis=axes, keepdims=True)
        inv_std = ((centered * centered).mean(axis=axes, keepdims=True) + self.epsilon) ** -0.5
        return centered * inv_std, inv_std


class BatchNormTrain(Standardizing):
    # x̂ = (x - μ) / √(σ² + ε),  y = γ x̂ + β   (μ, σ²: the batch mean and biased variance over `axes`, N values each)
    # ->  dx = γ/√(σ² + ε) (g - (Σg + x̂ Σ(g x̂)) / N),  dγ = Σ(g x̂),  dβ = Σg
    def forward(self, x, gamma, beta, moments, axes, epsilon):
        xp = backend.array_namespace(x)
        kept = _kept_shape(x.shape, axes)
        mean, var = xp.reshape(moments[0, ...], kept), xp.reshape(moments[1, ...], kept)
        self.axes, self.epsilon, self.channels = axes, epsilon, (mean.size,)
        self.inv_std = 1.0 / xp.sqrt(var + epsilon)
        self.xhat = (x - mean) * self.inv_std
        y = self.xhat if gamma is None else self.xhat * xp.reshape(gamma, kept)
        return y if beta is None else y + xp.reshape(beta, kept)

    def backward(self, g):
        gamma = self.args[1]
        need_x, need_gamma, need_beta, _ = self.needs_input_grad
        xhat, inv_std = self._normalized()
        axes, channels = self.axes, self.channels
        if self.graph_out is None:  # arrays: through their namespace
            xp = backend.array_namespace(g)
            total, reshape = (lambda a: xp.sum(a, axis=axes, keepdims=True)), xp.reshape
        else:  # Tensors: through the differentiable ops
            total, reshape = (lambda a: a.sum(axis=axes, keepdims=True)), (lambda a, shape: a.reshape(shape))
        g_sum = total(g)
        gx_sum = total(g * xhat) if need_x or need_gamma else None
        dx = None
        if need_x:
            n = self.xhat.size // channels[0]
            scale = inv_std if gamma is None else reshape(gamma, inv_std.shape) * inv_std
            dx = scale * (g - (g_sum + xhat * gx_sum) * (1.0 / n))
        return (dx,
                reshape(gx_sum, channels) if need_gamma else None,
                reshape(g_sum, channels) if need_beta else None,
                None)  # the moments: constants here, their dependence on x is in dx above


class BatchMoments(Function):
    # the per-channel (μ, σ²) over `axes`, as rows of a (2, channels) array; taken as constants (no gradient)
    def forward(self, x, axes):
        xp = backend.array_namespace(x)
        return xp.reshape(xp.stack([xp.mean(x, axis=axes), xp.var(x, axis=axes)]), (2, -1))


class MovingAverage(Function):
    # moving = moving * momentum + value * (1 - momentum), in place: BatchNormalization's moving statistics (an
    # update, not differentiated; an op so that a replayed training step repeats it)
    def forward(self, moving, value, momentum):
        moving *= momentum
        moving += value * (1.0 - momentum)
        return moving


@op
def batch_norm_train(x: TensorLike, gamma: TensorLike | None = None, beta: TensorLike | None = None, axis: int = -1,
                     epsilon: float = 1e-3) -> tuple[Tensor, Tensor, Tensor]:
    """Batch normalization in training mode: normalize with this batch's statistics, then scale and shift.

    The statistics run over every axis but the channel ``axis`` (channels-last by default, as Keras). ``gamma`` and
    ``beta`` have one value per channel, or are None (no scale / no shift). Returns ``(y, mean, variance)``: ``mean``
    and the biased ``variance`` per channel are constants, for the layer's moving averages (Keras updates
    ``moving = moving * momentum + batch * (1 - momentum)`` with this same biased variance).
    """
    x = _float_tensor(x, "batch_norm_train", "x")
    axes, _, channels = _channels(x, axis, "batch_norm_train")
    gamma = _per_channel(gamma, x, channels, "batch_norm_train", "gamma")
    beta = _per_channel(beta, x, channels, "batch_norm_train", "beta")
    if x.size == 0:
        raise ValueError(f"batch_norm_train: x of shape {x.shape} is empty: no batch statistics")
    # the statistics, for the caller too: an op of their own on x without its gradient, taken as constants
    moments = BatchMoments.apply(Tensor._wrap(x.data), axes=axes)
    y = BatchNormTrain.apply(x, gamma, beta, moments, axes=axes, epsilon=float(epsilon))
    return y, moments[0, ...], moments[1, ...]


@op
def batch_norm_infer(x: TensorLike, gamma: TensorLike | None, beta: TensorLike | None, mean: TensorLike,
                     var: TensorLike, axis: int = -1, epsilon: float = 1e-3) -> Tensor:
    """Batch normalization in inference mode: ``(x - mean) * gamma / sqrt(var + epsilon) + beta`` per channel.

    ``mean`` and ``var`` are the moving statistics (one value per channel along ``axis``); ``gamma``/``beta`` may be
    None. Built from differentiable ops on the per-channel vectors, so all of them get gradients of every order.
    """
    x = _float_tensor(x, "batch_norm_infer", "x")
    _, kept, channels = _channels(x, axis, "batch_norm_infer")
    gamma, beta, mean, var = (_per_channel(v, x, channels, "batch_norm_infer", role)
                              for v, role in ((gamma, "gamma"), (beta, "beta"), (mean, "mean"), (var, "var")))
    if mean is None or var is None:
        raise ValueError("batch_norm_infer: mean and var are required")
    scale = (var + float(epsilon)) ** -0.5
    if gamma is not None:
        scale = gamma * scale
    y = (x - mean.reshape(kept)) * scale.reshape(kept)
    return y if beta is None else y + beta.reshape(kept)


# --- losses -----------------------------------------------------------------------------------------------------------
class SoftmaxCrossEntropy(Function):
    # loss = -Σ labels · log_softmax(logits)   (Σ along `axis`)
    # ->  dlogits = g (softmax(logits) Σlabels - labels),  dlabels = -g log_softmax(logits)
    def forward(self, labels, logits, axis):
        self.axis = axis
        last = axis == logits.ndim - 1  # the kernel's case (softmax_kernels.softmax_xent); else NumPy on any axis
        loss, self.log_probs, self.probs, self.label_sums = (
            softmax_kernels.softmax_xent(labels, logits) if last
            else softmax_kernels.softmax_xent_numpy(labels, logits, axis))
        return loss

    def backward(self, g):
        labels, logits = self.args
        need_labels, need_logits = self.needs_input_grad
        kept = self.log_probs.shape[:self.axis] + (1,) + self.log_probs.shape[self.axis + 1:]
        g = backend.array_namespace(g).reshape(g, kept) if self.graph_out is None else g.reshape(kept)
        if self.graph_out is None:
            log_probs, probs, label_sums = self.log_probs, self.probs, self.label_sums
        else:  # differentiable: through ops
            log_probs = LogSoftmax.apply(logits, self.axis)
            probs, label_sums = Exp.apply(log_probs), labels.sum(axis=self.axis, keepdims=True)
        return (-g * log_probs if need_labels else None), (g * (probs * label_sums - labels) if need_logits else None)


@op
def softmax_cross_entropy_with_logits(labels: TensorLike, logits: TensorLike, axis: int = -1) -> Tensor:
    """Per-example ``-sum(labels * log_softmax(logits), axis)`` (``tf.nn.softmax_cross_entropy_with_logits``).

    ``labels`` are probabilities (one-hot or soft; they need not sum to 1) of the same shape as ``logits``; both get
    gradients. Stable for any finite logits.
    """
    name = "softmax_cross_entropy_with_logits"
    logits = _float_tensor(logits, name, "logits")
    labels = _like(labels, logits)
    _same_shape(labels, logits, name)
    if logits.ndim == 0:
        raise ValueError(f"{name}: logits must have a class axis, got a scalar")
    (axis,) = _normalize_axis(axis, logits.ndim, name)
    return SoftmaxCrossEntropy.apply(labels, logits, axis=axis)


class SparseSoftmaxCrossEntropy(Function):
    # loss = logsumexp(logits) - logits[label]   ->   dlogits = g (softmax(logits) - onehot(label))
    def forward(self, logits, labels):
        self.owner = owner = backend.extras_for(logits)
        xp = owner.namespace
        self.index = labels[..., None]
        shifted = logits - xp.max(logits, axis=-1, keepdims=True)
        self.exp = xp.exp(shifted)
        self.total = xp.sum(self.exp, axis=-1, keepdims=True)
        picked = xp.take_along_axis(shifted, self.index, axis=-1)
        return (xp.log(self.total) - picked)[..., 0]

    def backward(self, g):
        owner, xp = self.owner, self.owner.namespace
        g = xp.reshape(g, g.shape + (1,)) if self.graph_out is None else g.reshape(tuple(g.shape) + (1,))
        if self.graph_out is None:
            d = self.exp / self.total
            d = owner.put_along_axis(d, self.index, xp.take_along_axis(d, self.index, axis=-1) - 1, axis=-1)
            return g * d, None
        onehot = owner.put_along_axis(xp.zeros(self.exp.shape, dtype=self.exp.dtype), self.index, 1, axis=-1)
        return g * (Softmax.apply(self.args[0], -1) - onehot), None


@op
def sparse_softmax_cross_entropy_with_logits(labels: TensorLike, logits: TensorLike) -> Tensor:
    """Per-example cross-entropy against integer class ``labels`` (``tf.nn.sparse_softmax_cross_entropy_with_logits``).

    ``labels`` has the shape of ``logits`` without its last (class) axis and values in ``[0, classes)``; the gradient
    flows to ``logits`` only.
    """
    name = "sparse_softmax_cross_entropy_with_logits"
    logits = _float_tensor(logits, name, "logits")
    labels = as_tensor(labels).data
    if backend.dtype_kind(labels.dtype) not in "iu":
        raise TypeError(f"{name}: labels must be integer class indices, got dtype {backend.numpy_dtype(labels.dtype)} "
                        f"(use softmax_cross_entropy_with_logits for probabilities, or cast to int)")
    if logits.ndim == 0 or labels.shape != logits.shape[:-1]:
        raise ValueError(f"{name}: labels must have the shape of logits without the class axis: got labels "
                         f"{labels.shape} and logits {logits.shape}")
    classes = logits.shape[-1]
    xp = backend.array_namespace(labels)
    if labels.size and (int(xp.min(labels)) < 0 or int(xp.max(labels)) >= classes):
        raise ValueError(f"{name}: labels must be in [0, {classes}) for logits {logits.shape}, got values from "
                         f"{int(xp.min(labels))} to {int(xp.max(labels))}")
    return SparseSoftmaxCrossEntropy.apply(logits, labels)  # labels: an input without a gradient


class SigmoidCrossEntropy(Function):
    # loss = max(x, 0) - x z + log(1 + e^-|x|)   (x: logits, z: labels)   ->   dx = g (sigmoid(x) - z),  dz = -g x
    def forward(self, labels, logits):
        self.exp_neg_abs = backend.xp.exp(-backend.xp.abs(logits))
        return backend.xp.maximum(logits, 0) - logits * labels + backend.xp.log1p(self.exp_neg_abs)

    def backward(self, g):
        labels, logits = self.args
        need_labels, need_logits = self.needs_input_grad
        d_logits = None
        if need_logits:
            if self.graph_out is None:
                e = self.exp_neg_abs  # sigmoid(x) = 1 / (1 + e^-x) for x >= 0, e^x / (1 + e^x) below: never overflows
                probs = backend.xp.where(logits >= 0, 1, e) / (1 + e)
            else:
                probs = Sigmoid.apply(logits)
            d_logits = g * (probs - labels)
        return (-g * logits if need_labels else None), d_logits


@op
def sigmoid_cross_entropy_with_logits(labels: TensorLike, logits: TensorLike) -> Tensor:
    """Elementwise ``-z log(sigmoid(x)) - (1 - z) log(1 - sigmoid(x))``, computed stably as TensorFlow does:
    ``max(x, 0) - x z + log(1 + exp(-|x|))`` (``tf.nn.sigmoid_cross_entropy_with_logits``). Same shapes."""
    name = "sigmoid_cross_entropy_with_logits"
    logits = _float_tensor(logits, name, "logits")
    labels = _like(labels, logits)
    _same_shape(labels, logits, name)
    return SigmoidCrossEntropy.apply(labels, logits)


class MeanSquaredError(Function):
    # loss = mean((p - t)²) over the last axis (n values)   ->   dp = g 2(p - t)/n,  dt = -dp   (then unbroadcast)
    def forward(self, y_true, y_pred):
        self.diff = y_pred - y_true
        xp = backend.array_namespace(self.diff)
        return xp.asarray(xp.mean(self.diff * self.diff, axis=-1))

    def backward(self, g):
        y_true, y_pred = self.args
        diff = self.diff if self.graph_out is None else y_pred - y_true
        kept = tuple(g.shape) + (1,)
        d_pred = (backend.array_namespace(g).reshape(g, kept) if self.graph_out is None else g.reshape(kept)) * diff * \
            (2.0 / self.diff.shape[-1])
        need_true, need_pred = self.needs_input_grad
        return (unbroadcast(-d_pred, np.shape(self.arrays[0])) if need_true else None,
                unbroadcast(d_pred, np.shape(self.arrays[1])) if need_pred else None)


@op
def mean_squared_error(y_true: TensorLike, y_pred: TensorLike) -> Tensor:
    """Per-example ``mean(square(y_pred - y_true), axis=-1)``, as ``keras.losses.mean_squared_error``.

    The two broadcast against each other; ``y_true`` is cast to ``y_pred``'s dtype.
    """
    name = "mean_squared_error"
    y_pred = _float_tensor(y_pred, name, "y_pred")
    y_true = _like(y_true, y_pred)
    try:
        shape = np.broadcast_shapes(y_true.shape, y_pred.shape)
    except ValueError:
        raise ValueError(f"{name}: y_true {y_true.shape} and y_pred {y_pred.shape} cannot be broadcast "
                         f"together") from None
    if len(shape) == 0:
        raise ValueError(f"{name}: needs at least one axis to average over, got scalars")
    return MeanSquaredError.apply(y_true, y_pred)
