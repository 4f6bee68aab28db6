"""``keras.ops.nn``: activations, convolution and pooling (1-D, 2-D and 3-D, channels last or first), one-hot
encodings, the cross-entropies, normalizations and attention, with Keras 3's signatures and defaults (``gelu`` is the
tanh approximation unless ``approximate=False``; ``leaky_relu``'s slope is 0.2).

>>> import numpy as np
>>> from chainrule.keras import ops
>>> ops.relu6(np.array([-1.0, 3.0, 8.0], "float32")).numpy()
array([0., 3., 6.], dtype=float32)
>>> ops.one_hot(np.array([0, 2]), 3).numpy()
array([[1., 0., 0.],
       [0., 0., 1.]], dtype=float32)
"""
from __future__ import annotations

import math
import warnings
import numpy as np

from chainrule import backend, ops as _ops
from chainrule.engine.tensor import Tensor, TensorLike
from chainrule.keras import losses as _losses
from chainrule.keras.ops.core import as_axis, cast, standardize_dtype, to_float, to_tensor
from chainrule.keras.ops.symbolic import wrap_namespace
from chainrule.keras.ops.adaptive_pool import adaptive_average_pool, adaptive_max_pool
from chainrule.keras.ops.numpy import (clip, expand_dims, greater, less, less_equal, maximum, minimum, moveaxis, split,
                                       sqrt, where)
from chainrule.ops import activation as _activation
from chainrule.ops import attention as _attention
from chainrule.ops import conv as _conv
from chainrule.ops.conv3d import avg_pool3d as _avg_pool3d, conv3d as _conv3d, conv3d_transpose as _conv3d_transpose
from chainrule.ops.conv3d import max_pool3d as _max_pool3d
from chainrule.ops.conv_transpose import conv2d_transpose as _conv2d_transpose
from chainrule.ops import ctc as _ctc
from chainrule.ops.layer_norm import layer_norm as _fused_layer_norm
from chainrule.ops import nn as _nn
from chainrule.ops import pool as _pool
from chainrule.ops import reduce as _reduce
from chainrule.ops import shape as _shape
from chainrule.ops.activation import Sigmoid
from chainrule.ops.einsum import einsum as _einsum
from chainrule.ops.math import Where
from chainrule.ops.no_gradient import no_gradient

EPSILON = 1e-7  # Keras's backend.epsilon()
SELU_ALPHA, SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


# --- activations -------------------------------------------------------------------------------------------------------
def relu(x: TensorLike) -> Tensor:
    """``max(x, 0)``."""
    return _activation.relu(to_float(x))


def relu6(x: TensorLike) -> Tensor:
    """``min(max(x, 0), 6)``."""
    return clip(to_float(x), 0.0, 6.0)


def sigmoid(x: TensorLike) -> Tensor:
    """``1 / (1 + exp(-x))``."""
    return _activation.sigmoid(to_float(x))


def sparse_sigmoid(x: TensorLike) -> Tensor:
    """0 below -1, 1 above 1, ``(x + 1) / 2`` between."""
    return clip((to_float(x) + 1) * 0.5, 0.0, 1.0)


def softplus(x: TensorLike) -> Tensor:
    """``log(1 + exp(x))``, stable for large x."""
    return _activation.softplus(to_float(x))


def softsign(x: TensorLike) -> Tensor:
    """``x / (1 + |x|)``."""
    x = to_float(x)
    return x / (1 + _ops.abs(x))


def silu(x: TensorLike) -> Tensor:
    """``x * sigmoid(x)`` (swish)."""
    x = to_float(x)
    return x * _activation.sigmoid(x)


swish = silu


def log_sigmoid(x: TensorLike) -> Tensor:
    """``log(sigmoid(x)) = -softplus(-x)``."""
    return -_activation.softplus(-to_float(x))


def leaky_relu(x: TensorLike, negative_slope: float = 0.2) -> Tensor:
    """``x`` where positive, ``negative_slope * x`` elsewhere."""
    return _activation.leaky_relu(to_float(x), negative_slope)


def hard_sigmoid(x: TensorLike) -> Tensor:
    """``clip(x / 6 + 0.5, 0, 1)``."""
    return clip(to_float(x) * (1 / 6) + 0.5, 0.0, 1.0)


def hard_silu(x: TensorLike) -> Tensor:
    """``x * hard_sigmoid(x)`` (hard swish)."""
    x = to_float(x)
    return x * hard_sigmoid(x)


hard_swish = hard_silu


def elu(x: TensorLike, alpha: float = 1.0) -> Tensor:
    """``x`` where positive, ``alpha * (exp(x) - 1)`` elsewhere."""
    return _activation.elu(to_float(x), alpha)


def selu(x: TensorLike) -> Tensor:
    """``scale * elu(x, alpha)`` with the self-normalizing constants."""
    return _activation.elu(to_float(x), SELU_ALPHA) * SELU_SCALE


def gelu(x: TensorLike, approximate: bool = True) -> Tensor:
    """Gaussian error linear unit; Keras 3 uses the tanh approximation by default."""
    return _activation.gelu(to_float(x), approximate=approximate)


def celu(x: TensorLike, alpha: float = 1.0) -> Tensor:
    """``max(x, 0) + alpha * (exp(min(x, 0) / alpha) - 1)``."""
    x = to_float(x)
    return _activation.relu(x) + alpha * _ops.expm1(minimum(x, 0.0) * (1 / alpha))


def glu(x: TensorLike, axis: int = -1) -> Tensor:
    """``a * sigmoid(b)`` for the two halves a, b of ``x`` along ``axis``."""
    x = to_float(x)
    a = _reduce._normalize_axis(axis, x.ndim, "glu")[0]
    if x.shape[a] % 2:
        raise ValueError(f"axis size must be divisible by 2. Received: x.shape={x.shape} with axis={axis}")
    first, second = split(x, 2, a)
    return first * _activation.sigmoid(second)


def tanh(x: TensorLike) -> Tensor:
    """Hyperbolic tangent."""
    return _activation.tanh(to_float(x))


def tanh_shrink(x: TensorLike) -> Tensor:
    """``x - tanh(x)``."""
    x = to_float(x)
    return x - _activation.tanh(x)


def hard_tanh(x: TensorLike) -> Tensor:
    """``clip(x, -1, 1)``."""
    return clip(to_float(x), -1.0, 1.0)


def soft_shrink(x: TensorLike, threshold: float = 0.5) -> Tensor:
    """``x - threshold`` above ``threshold``, ``x + threshold`` below ``-threshold``, 0 between."""
    x = to_float(x)
    return where(greater(x, threshold), x - threshold, where(less(x, -threshold), x + threshold, 0.0))


def hard_shrink(x: TensorLike, threshold: float = 0.5) -> Tensor:
    """``x`` where ``|x| > threshold``, else 0."""
    x = to_float(x)
    return where(greater(_ops.abs(x), threshold), x, 0.0)


def threshold(x: TensorLike, threshold: float, default_value: float) -> Tensor:
    """``x`` where ``x > threshold``, else ``default_value``."""
    x = to_float(x)
    return where(greater(x, threshold), x, default_value)


def sparse_plus(x: TensorLike) -> Tensor:
    """0 below -1, ``x`` above 1, ``(x + 1)² / 4`` between."""
    x = to_float(x)
    return where(less_equal(x, -1), 0.0, where(less(x, 1), (x + 1) * (x + 1) * 0.25, x))


def squareplus(x: TensorLike, b: float = 4) -> Tensor:
    """``(x + sqrt(x² + b)) / 2``."""
    x = to_float(x)
    return (x + sqrt(x * x + b)) * 0.5


def _sparsemax_support(x: np.ndarray, axis: int) -> np.ndarray:
    """1 where sparsemax keeps an entry (``x > tau``), else 0: the k largest entries, k the largest with
    ``1 + k z_(k) > z_(1) + ... + z_(k)`` (Martins and Astudillo, 2016)."""
    xp = backend.array_namespace(x)
    z = -xp.sort(-x, axis=axis)
    cumulative = xp.cumsum(z, axis=axis)
    shape = [1] * x.ndim
    shape[axis] = x.shape[axis]
    ks = xp.reshape(xp.arange(1, x.shape[axis] + 1, dtype=x.dtype), shape)
    k = xp.sum(1 + ks * z > cumulative, axis=axis, keepdims=True)
    tau = (xp.take_along_axis(cumulative, k - 1, axis=axis) - 1) / k
    return (x > tau).astype(x.dtype)


def sparsemax(x: TensorLike, axis: int = -1) -> Tensor:
    """The Euclidean projection of ``x`` onto the probability simplex along ``axis``: ``max(x - tau, 0)``, summing
    to 1, with exact zeros (Martins and Astudillo, 2016).

    ``tau = (sum of the kept entries - 1) / their count``, the kept set found without a gradient, so the gradient is
    exact: ``dx = g - mean of g over the kept entries``, on them only.

    >>> sparsemax([[1.0, 2.0, 0.0], [0.3, 0.3, 0.3]]).numpy().round(4)
    array([[0.    , 1.    , 0.    ],
           [0.3333, 0.3333, 0.3333]], dtype=float32)
    """
    x = to_float(x)
    a = _reduce._normalize_axis(axis, x.ndim, "sparsemax")[0]
    support = no_gradient(_sparsemax_support, x, axis=a)
    tau = (_ops.sum(x * support, axis=a, keepdims=True) - 1.0) / _ops.sum(support, axis=a, keepdims=True)
    return _activation.relu(x - tau)


def _moved_last(x: Tensor, axes: tuple[int, ...]) -> tuple[Tensor, tuple[int, ...]]:
    """``x`` with ``axes`` merged into one last axis, and the permutation that did it."""
    rest = [d for d in range(x.ndim) if d not in axes]
    perm = tuple(rest) + tuple(axes)
    moved = _shape.transpose(x, perm)
    return _shape.reshape(moved, tuple(x.shape[d] for d in rest) + (-1,)), perm


def _over_axes(fn, x: Tensor, axis):
    """Apply a last-axis function over several axes at once (Keras's softmax over a tuple of axes)."""
    axes = _reduce._normalize_axis(as_axis(axis), x.ndim, fn.__name__)
    merged, perm = _moved_last(x, axes)
    out = fn(merged, -1)
    moved_shape = tuple(x.shape[d] for d in perm)
    return _shape.transpose(_shape.reshape(out, moved_shape), tuple(int(d) for d in np.argsort(perm)))


def _warn_size_one(x: Tensor, axis) -> None:
    if isinstance(axis, int) and -x.ndim <= axis < x.ndim and x.shape[axis] == 1:
        warnings.warn(f"You are using a softmax over axis {axis} of a tensor of shape {x.shape}. This axis has size 1. "
                      f"The softmax operation will always return the value 1, which is likely not what you intended. "
                      f"Did you mean to use a sigmoid instead?", stacklevel=3)


def softmax(x: TensorLike, axis=-1) -> Tensor:
    """``exp(x) / sum(exp(x))`` along ``axis`` (an int or a tuple of axes)."""
    x = to_float(x)
    _warn_size_one(x, axis)
    return _over_axes(_activation.softmax, x, axis) if isinstance(axis, (tuple, list)) else \
        _activation.softmax(x, axis)


def log_softmax(x: TensorLike, axis=-1) -> Tensor:
    """``x - logsumexp(x)`` along ``axis`` (an int or a tuple of axes)."""
    x = to_float(x)
    return _over_axes(_activation.log_softmax, x, axis) if isinstance(axis, (tuple, list)) else \
        _activation.log_softmax(x, axis)


# --- convolution and pooling --------------------------------------------------------------------------------------------
def _data_format(data_format) -> str:
    data_format = "channels_last" if data_format is None else str(data_format).lower()
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f"The `data_format` argument must be one of {{'channels_first', 'channels_last'}}. "
                         f"Received: data_format={data_format}")
    return data_format


def _padding(padding) -> str:
    padding = str(padding).lower()
    if padding not in ("valid", "same"):
        raise ValueError(f"The `padding` argument must be one of 'valid', 'same'. Received: padding={padding}")
    return padding


def _spatial(value, rank: int, name: str, minimum: int = 1) -> tuple[int, ...]:
    values = (value,) * rank if isinstance(value, (int, np.integer)) else tuple(value)
    if len(values) != rank or not all(isinstance(v, (int, np.integer)) and v >= minimum for v in values):
        kind = "positive" if minimum == 1 else "non-negative"
        raise ValueError(f"The `{name}` argument must be a {kind} int or a tuple of {rank} {kind} ints. "
                         f"Received: {name}={value}")
    return tuple(int(v) for v in values)


def _channels_last(inputs: Tensor, data_format: str, opname: str) -> tuple[Tensor, int]:
    """The input channels last, for the 2-D kernels (a 1-D input gains a height of 1) or the 3-D ops, and its
    spatial rank."""
    rank = inputs.ndim - 2
    if rank not in (1, 2, 3):
        raise ValueError(f"{opname}: `inputs` must be 3-D (batch, steps, channels), 4-D (batch, height, width, "
                         f"channels) or 5-D (batch, depth, height, width, channels), got shape {inputs.shape}")
    if data_format == "channels_first":
        inputs = moveaxis(inputs, 1, -1)
    if rank == 1:
        inputs = expand_dims(inputs, 1)
    return inputs, rank


def _restore(out: Tensor, rank: int, data_format: str) -> Tensor:
    if rank == 1:
        out = _shape.reshape(out, (out.shape[0],) + out.shape[2:])
    return moveaxis(out, -1, 1) if data_format == "channels_first" else out


def _lift_1d(rank: int, *per_axis):
    """A 1-D op's kernel (or None) and per-axis arguments with the height of 1 the 2-D kernels see; others as
    they are."""
    if rank != 1:
        return per_axis
    kernel, *rest = per_axis
    return (None if kernel is None else expand_dims(kernel, 0), *((1,) + tuple(values) for values in rest))


def _conv_with(conv_fns, opname: str, channels: str, inputs, kernel, strides, padding, data_format, dilation_rate,
               *extra) -> Tensor:
    """Run a 1-D / 2-D (``conv_fns[0]``) or 3-D (``conv_fns[1]``) convolution op channels last, and restore the
    layout; ``channels`` names the kernel's last two axes, ``extra`` follow padding in the op's arguments."""
    data_format, padding = _data_format(data_format), _padding(padding)
    inputs, kernel = to_float(inputs, "inputs"), to_float(kernel, "kernel")
    x, rank = _channels_last(inputs, data_format, opname)
    if kernel.ndim != rank + 2:
        raise ValueError(f"{opname}: `kernel` must have rank {rank + 2} (*kernel_size, {channels}) for inputs of "
                         f"shape {inputs.shape}, got shape {kernel.shape}")
    strides, dilations = _spatial(strides, rank, "strides"), _spatial(dilation_rate, rank, "dilation_rate")
    kernel, strides, dilations = _lift_1d(rank, kernel, strides, dilations)
    return _restore(conv_fns[rank == 3](x, kernel, strides, padding, *extra, dilations), rank, data_format)


def conv(inputs: TensorLike, kernel: TensorLike, strides=1, padding: str = "valid", data_format=None,
         dilation_rate=1) -> Tensor:
    """1-D, 2-D or 3-D convolution: ``inputs`` (batch, *spatial, channels) (channels first with ``data_format=
    'channels_first'``), ``kernel`` (*kernel_size, in_channels, out_channels); no bias. A 3-D kernel with fewer
    input channels than ``inputs`` is a grouped convolution."""
    return _conv_with((_conv.conv2d, _conv3d), "conv", "in_channels, out_channels", inputs, kernel, strides, padding,
                      data_format, dilation_rate)


def conv_transpose(inputs: TensorLike, kernel: TensorLike, strides=1, padding: str = "valid", output_padding=None,
                   data_format=None, dilation_rate=1) -> Tensor:
    """1-D, 2-D or 3-D transposed convolution: ``kernel`` (*kernel_size, out_channels, in_channels); output sizes
    as Keras's (``output_padding``: None or one int per spatial axis, each less than its stride)."""
    if output_padding is not None:
        rank = np.ndim(inputs) - 2
        output_padding = (0,) * (rank == 1) + _spatial(output_padding, rank, "output_padding", minimum=0)
    return _conv_with((_conv2d_transpose, _conv3d_transpose), "conv_transpose", "out_channels, in_channels", inputs,
                      kernel, strides, padding, data_format, dilation_rate, output_padding)


def _pool_with(pool_fns, opname: str, inputs, pool_size, strides, padding, data_format) -> Tensor:
    data_format, padding = _data_format(data_format), _padding(padding)
    inputs = to_float(inputs, "inputs")
    x, rank = _channels_last(inputs, data_format, opname)
    pool = _spatial(pool_size, rank, "pool_size")
    strides = pool if strides is None else _spatial(strides, rank, "strides")
    _, pool, strides = _lift_1d(rank, None, pool, strides)
    return _restore(pool_fns[rank == 3](x, pool, strides, padding), rank, data_format)


def max_pool(inputs: TensorLike, pool_size, strides=None, padding: str = "valid", data_format=None) -> Tensor:
    """Max pooling over 1-D, 2-D or 3-D windows; ``strides`` default to ``pool_size``."""
    return _pool_with((_pool.max_pool2d, _max_pool3d), "max_pool", inputs, pool_size, strides, padding,
                      data_format)


def average_pool(inputs: TensorLike, pool_size, strides=None, padding: str = "valid", data_format=None) -> Tensor:
    """Average pooling over 1-D, 2-D or 3-D windows ('same' averages over the real values only, as TensorFlow)."""
    return _pool_with((_pool.avg_pool2d, _avg_pool3d), "average_pool", inputs, pool_size, strides, padding,
                      data_format)


# --- encodings ---------------------------------------------------------------------------------------------------------
def _one_hot(x, num_classes, axis, dtype):
    valid = (x >= 0) & (x < num_classes)
    xp = backend.array_namespace(x)
    out = (x[..., None] == xp.arange(num_classes, dtype=x.dtype)) & valid[..., None]
    out = xp.astype(out, dtype)
    return out if axis == -1 else xp.moveaxis(out, -1, axis)


def _class_ids(x: TensorLike) -> Tensor:
    x = to_tensor(x)
    if x.dtype.kind not in "iub":
        if x.dtype.kind != "f" or not bool(np.all(np.mod(x.data, 1) == 0)):
            raise TypeError(f"one_hot: `x` must hold integer class ids, got dtype {x.dtype}")
        x = cast(x, "int64")
    return x


def one_hot(x: TensorLike, num_classes: int, axis: int = -1, dtype=None, sparse: bool = False) -> Tensor:
    """Class ids as one-hot vectors of ``num_classes`` along a new axis (ids out of range give all zeros)."""
    if sparse:
        raise ValueError("Unsupported value `sparse=True`: chainrule tensors are dense")
    x = _class_ids(x)
    if not isinstance(num_classes, (int, np.integer)) or num_classes <= 0:
        raise ValueError(f"Argument `num_classes` must be a positive integer. Received: num_classes={num_classes}")
    axis = int(axis)
    if not -x.ndim - 1 <= axis <= x.ndim:
        raise ValueError(f"one_hot: axis {axis} is out of range for a result of rank {x.ndim + 1}")
    return no_gradient(_one_hot, x, num_classes=int(num_classes), axis=axis, dtype=standardize_dtype(dtype))


def multi_hot(inputs: TensorLike, num_classes: int | None = None, axis: int = -1, dtype=None, sparse: bool = False,
              **kwargs) -> Tensor:
    """The union of one-hot vectors: 1 for every class id present in a row of ``inputs`` (a 1-D input is one row)."""
    if num_classes is None and "num_tokens" in kwargs:
        num_classes = kwargs.pop("num_tokens")
    if num_classes is None:
        raise ValueError("Argument `num_classes` must be specified.")
    if kwargs:
        raise TypeError(f"multi_hot: unexpected keyword arguments {sorted(kwargs)}")
    encoded = one_hot(inputs, num_classes, axis=axis, dtype=dtype, sparse=sparse)
    return _reduce.max(encoded, 1 if encoded.ndim > 2 else 0)


# --- losses ------------------------------------------------------------------------------------------------------------
def categorical_crossentropy(target: TensorLike, output: TensorLike, from_logits: bool = False, axis: int = -1) -> Tensor:
    """``-sum(target * log(output), axis)``: ``output`` is renormalized and clipped to [ε, 1 - ε], or taken as
    logits; the output of a softmax is computed from its logits, as Keras's TensorFlow backend does."""
    target, output = to_tensor(target, "target"), to_float(output, "output")
    if target.shape != output.shape:
        raise ValueError(f"Arguments `target` and `output` must have the same shape. Received: "
                         f"target.shape={target.shape}, output.shape={output.shape}")
    if output.ndim < 1:
        raise ValueError(f"Arguments `target` and `output` must be at least rank 1. Received: "
                         f"target.shape={target.shape}, output.shape={output.shape}")
    return _losses.categorical_crossentropy(target, output, from_logits=from_logits, axis=axis)


def sparse_categorical_crossentropy(target: TensorLike, output: TensorLike, from_logits: bool = False,
                                    axis: int = -1) -> Tensor:
    """Cross-entropy against integer class ids (``target`` of shape ``output.shape[:-1]``, or with a trailing 1)."""
    target, output = to_tensor(target, "target"), to_float(output, "output")
    if output.ndim < 1:
        raise ValueError(f"Argument `output` must be at least rank 1. Received: output.shape={output.shape}")
    ids_shape = target.shape[:-1] if target.ndim == output.ndim and target.shape[-1:] == (1,) else target.shape
    if ids_shape != output.shape[:-1]:
        raise ValueError(f"Arguments `target` and `output` must have the same shape up until the last dimension: "
                         f"target.shape={target.shape}, output.shape={output.shape}")
    return _losses.sparse_categorical_crossentropy(target, output, from_logits=from_logits, axis=axis)


def binary_crossentropy(target: TensorLike, output: TensorLike, from_logits: bool = False) -> Tensor:
    """Elementwise ``-(t log p + (1 - t) log(1 - p))`` with p clipped to [ε, 1 - ε], or from logits stably; the
    output of a sigmoid is computed from its logits."""
    target, output = to_tensor(target, "target"), to_float(output, "output")
    if target.shape != output.shape:
        raise ValueError(f"Arguments `target` and `output` must have the same shape. Received: "
                         f"target.shape={target.shape}, output.shape={output.shape}")
    target = cast(target, output.dtype)
    logits = _losses._logits_of(output, Sigmoid, None, from_logits, "binary_crossentropy")
    if logits is not None:
        return _nn.sigmoid_cross_entropy_with_logits(target, logits)
    p = _ops.clip(output, EPSILON, 1.0 - EPSILON)
    return -(target * _ops.log(p) + (1.0 - target) * _ops.log(1.0 - p))


# --- normalization -----------------------------------------------------------------------------------------------------
def moments(x: TensorLike, axes, keepdims: bool = False, synchronized: bool = False) -> tuple[Tensor, Tensor]:
    """Mean and (biased) variance over ``axes`` (``synchronized`` changes nothing on one process)."""
    x = to_float(x)
    axes = as_axis(axes, "axes")
    return _reduce.mean(x, axes, keepdims), _reduce.var(x, axes, keepdims)


def batch_normalization(x: TensorLike, mean: TensorLike, variance: TensorLike, axis: int, offset=None, scale=None,
                        epsilon: float = 1e-3) -> Tensor:
    """``(x - mean) / sqrt(variance + epsilon) * scale + offset``, the per-channel vectors along ``axis``."""
    x = to_float(x)
    return _nn.batch_norm_infer(x, _vector(scale, x), _vector(offset, x), _vector(mean, x), _vector(variance, x),
                                axis=axis, epsilon=epsilon)


def _vector(v, x: Tensor):
    if v is None:
        return None
    v = to_tensor(v)
    v = v if v.dtype == x.dtype else cast(v, x.dtype)
    return _shape.reshape(v, (-1,)) if v.ndim != 1 else v


def normalize(x: TensorLike, axis: int = -1, order: int = 2, epsilon: float | None = None) -> Tensor:
    """``x`` divided by its ``order``-norm along ``axis`` (at least ``epsilon``)."""
    if not isinstance(order, int) or isinstance(order, bool) or order < 1:
        raise ValueError(f"Argument `order` must be an int >= 1. Received: order={order}")
    x = to_float(x)
    if x.ndim == 0:
        x = _shape.reshape(x, (1,))
    epsilon = EPSILON if epsilon is None else epsilon
    if order == 2:
        squares = _reduce.sum(x * x, axis, keepdims=True)
        return x / _ops.sqrt(maximum(squares, epsilon * epsilon))
    from chainrule.keras.ops.linalg import norm

    return x / maximum(norm(x, ord=order, axis=axis, keepdims=True), epsilon)


def layer_normalization(x: TensorLike, gamma=None, beta=None, axis=-1, epsilon: float | None = None,
                        **kwargs) -> Tensor:
    """``(x - mean) / sqrt(var + epsilon) * gamma + beta`` with the statistics over ``axis``: one fused node
    (``chainrule.ops.layer_norm``). Keras's deprecated ``rms_scaling=True`` divides by ``sqrt(var + epsilon)`` without
    centering and ignores ``beta``, with Keras's warning."""
    rms_scaling = kwargs.pop("rms_scaling", False)
    if kwargs:
        raise TypeError(f"layer_normalization: unexpected keyword arguments {sorted(kwargs)}")
    x = to_float(x)
    axes = tuple(sorted(_reduce._normalize_axis(as_axis(axis), x.ndim, "layer_normalization")))
    epsilon = EPSILON if epsilon is None else epsilon
    if rms_scaling:
        warnings.warn("You passed `rms_scaling=True`, which is deprecated. This argument incorrectly scales the input "
                      "by the variance, not the root mean square. To correctly use RMS Normalization, please use "
                      "`keras.layers.RMSNormalization` instead.", stacklevel=2)
        return _scaled(x / _ops.sqrt(_reduce.var(x, axes, keepdims=True) + epsilon), axes, gamma, None)
    gamma, beta = (None if v is None else cast(to_tensor(v), x.dtype) for v in (gamma, beta))
    return _fused_layer_norm(x, gamma, beta, axes, epsilon)


def rms_normalization(x: TensorLike, scale=None, axis=-1, epsilon: float | None = None) -> Tensor:
    """``x / sqrt(mean(x²) + epsilon) * scale`` with the mean over ``axis``."""
    x = to_float(x)
    axes = _reduce._normalize_axis(as_axis(axis), x.ndim, "rms_normalization")
    out = x / _ops.sqrt(_reduce.mean(x * x, axes, keepdims=True) + (EPSILON if epsilon is None else epsilon))
    return _scaled(out, axes, scale, None)


def _scaled(out: Tensor, axes: tuple[int, ...], gamma, beta) -> Tensor:
    """``out * gamma + beta``, each given for the normalized axes (broadcast back along the others)."""
    shape = tuple(n if d in axes else 1 for d, n in enumerate(out.shape))
    for v, add in ((gamma, False), (beta, True)):
        if v is not None:
            v = cast(to_tensor(v), out.dtype)
            v = v if v.ndim == out.ndim else _shape.reshape(v, shape)
            out = out + v if add else out * v
    return out


def psnr(x1: TensorLike, x2: TensorLike, max_val: float) -> Tensor:
    """Peak signal-to-noise ratio in dB: ``20 log10(max_val) - 10 log10(mean((x1 - x2)²))``."""
    x1, x2 = to_float(x1, "x1"), to_float(x2, "x2")
    if x1.shape != x2.shape:
        raise ValueError(f"Input shapes {x1.shape} and {x2.shape} must match for PSNR calculation.")
    mse = _reduce.mean((x1 - x2) * (x1 - x2))
    return 20 * math.log10(max_val) - 10 / math.log(10) * _ops.log(mse)


def dot_product_attention(query: TensorLike, key: TensorLike, value: TensorLike, bias=None, mask=None, scale=None,
                          is_causal: bool = False, flash_attention=None, attn_logits_soft_cap=None) -> Tensor:
    """``softmax(q kᵀ * scale + bias, masked) v`` over (batch, steps, heads, head_dim) tensors; ``scale`` defaults
    to ``1 / sqrt(head_dim)``; masked positions (``mask`` False, or later keys with ``is_causal``) are left out."""
    if flash_attention:
        raise ValueError("Flash attention is not supported by chainrule.")
    if attn_logits_soft_cap is not None:
        raise ValueError("attn_logits_soft_cap is only supported for JAX on TPU. Set attn_logits_soft_cap=None.")
    q, k, v = to_float(query, "query"), to_float(key, "key"), to_float(value, "value")
    if q.ndim != 4:
        raise ValueError(f"`dot_product_attention` only supports 4D inputs. Received: query.shape={q.shape}, "
                         f"key.shape={k.shape}, value.shape={v.shape}.")
    if bias is not None and mask is not None:  # the fused op takes one of them: fold the boolean mask into the bias
        bias = cast(to_tensor(bias, "bias"), np.result_type(q.dtype, k.dtype, v.dtype))
        keep = cast(to_tensor(mask, "mask"), "bool")
        bias, mask = Where.apply(keep, bias, _attention.masked_score(bias.dtype)), None
    elif mask is not None:
        mask = cast(to_tensor(mask, "mask"), "bool")
    # (batch, steps, heads, head_dim) -> (batch, heads, steps, head_dim): the fused op's layout, and back
    heads_first = [_shape.transpose(t, (0, 2, 1, 3)) for t in (q, k, v)]
    out = _attention.scaled_dot_product_attention(*heads_first, mask=bias if mask is None else mask, scale=scale,
                                                   is_causal=is_causal)
    return _shape.transpose(out, (0, 2, 1, 3))


def ctc_loss(target: TensorLike, output: TensorLike, target_length, output_length, mask_index: int = 0) -> Tensor:
    """The CTC loss per sequence: ``target`` (batch, max_length) integer labels, ``output`` (batch, steps, classes)
    logits (a log-softmax is taken inside), the lengths per sequence, ``mask_index`` the blank class."""
    target = to_tensor(target, "target")
    if target.dtype.kind not in "iu":
        target = cast(target, "int32")
    output = to_float(output, "output")
    return _ctc.ctc_loss(target, output, target_length, output_length, blank_index=mask_index)


def ctc_decode(inputs: TensorLike, sequence_lengths, strategy: str = "greedy", beam_width: int = 100,
               top_paths: int = 1, merge_repeated: bool = True, mask_index: int = 0) -> tuple[Tensor, Tensor]:
    """Decode CTC outputs (batch, steps, classes): 'greedy' gives ``(1, batch, steps)`` labels padded with -1 and
    ``(batch, 1)`` scores (minus the sum of each step's largest input); 'beam_search' gives the ``top_paths`` best
    labellings ``(top_paths, batch, steps)`` and their log-probabilities ``(batch, top_paths)``."""
    return _ctc.ctc_decode(inputs, sequence_lengths, strategy=strategy, beam_width=beam_width, top_paths=top_paths,
                           merge_repeated=merge_repeated, mask_index=mask_index)


__all__ = ["adaptive_average_pool", "adaptive_max_pool", "average_pool", "batch_normalization", "binary_crossentropy", "categorical_crossentropy", "celu", "conv",
           "conv_transpose", "ctc_decode", "ctc_loss",
           "dot_product_attention", "elu", "gelu", "glu", "hard_shrink", "hard_sigmoid", "hard_silu", "hard_swish",
           "hard_tanh", "layer_normalization", "leaky_relu", "log_sigmoid", "log_softmax", "max_pool", "moments",
           "multi_hot", "normalize", "one_hot", "psnr", "relu", "relu6", "rms_normalization", "selu", "sigmoid",
           "silu", "soft_shrink", "softmax", "softplus", "softsign", "sparse_categorical_crossentropy",
           "sparse_plus", "sparse_sigmoid", "sparsemax", "squareplus", "swish", "tanh", "tanh_shrink", "threshold"]
wrap_namespace(globals(), __all__, "keras.ops.")

# the spatial functions kept in a module of their own (they use the helpers above), under keras.ops.nn's names
from chainrule.keras.ops import nn_spatial  # noqa: E402
from chainrule.keras.ops.nn_spatial import *  # noqa: E402,F401,F403

__all__ = sorted({*__all__, *nn_spatial.__all__})
del nn_spatial
