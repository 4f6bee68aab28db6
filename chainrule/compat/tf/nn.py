"""``tf.nn``: activations, convolution, pooling, dropout, normalization and the fused losses, by TensorFlow's names.

>>> import chainrule as tf
>>> tf.nn.relu(tf.constant([-1.0, 3.0])).numpy()
array([0., 3.], dtype=float32)
"""
from __future__ import annotations

from chainrule.ops import reduce as _reduce
from chainrule.ops.activation import elu, gelu, leaky_relu, log_softmax, relu, sigmoid, softmax, softplus, tanh
from chainrule.ops import conv as _conv
from chainrule.ops.conv3d import avg_pool3d as _avg_pool3d, conv3d as _conv3d, conv3d_transpose as _conv3d_transpose
from chainrule.ops.conv3d import max_pool3d as _max_pool3d
from chainrule.ops.conv_transpose import conv2d_transpose as _conv2d_transpose
from chainrule.ops import pool as _pool
from chainrule.ops.linalg import linear
from chainrule.ops import ctc as _ctc
from chainrule.compat.tf.candidate_sampling import log_uniform_candidate_sampler, uniform_candidate_sampler  # noqa: F401
from chainrule.ops.embedding import embedding_lookup as embedding_lookup_op
from chainrule.ops.shape import transpose
from chainrule.ops.nn import (batch_norm_infer, batch_norm_train, dropout, sigmoid_cross_entropy_with_logits,
                              softmax_cross_entropy_with_logits, sparse_softmax_cross_entropy_with_logits)
from chainrule.engine.tensor import Tensor, TensorLike, as_tensor


def _nhwc(data_format: str, opname: str, layout: str = "NHWC") -> None:
    if data_format not in (layout, None):
        raise NotImplementedError(f"tf.nn.{opname}: data_format={data_format!r}: chainrule computes in {layout} only "
                                  f"(transpose the input to ({', '.join(layout)}))")


def conv2d(input: TensorLike, filters: TensorLike, strides=1, padding="VALID", data_format="NHWC",  # noqa: A002
           dilations=None, name=None) -> Tensor:
    """``tf.nn.conv2d`` by its own argument names: strides and dilations as an int, (h, w) or [1, h, w, 1]."""
    _nhwc(data_format, "conv2d")
    return _conv.conv2d(input, filters, strides, padding, 1 if dilations is None else dilations)


def max_pool2d(input: TensorLike, ksize, strides=None, padding="VALID", data_format="NHWC",  # noqa: A002
               name=None) -> Tensor:
    """``tf.nn.max_pool2d``: ksize and strides as an int, (h, w) or [1, h, w, 1]; strides default to ksize."""
    _nhwc(data_format, "max_pool2d")
    return _pool.max_pool2d(input, ksize, strides, padding)


def avg_pool2d(input: TensorLike, ksize, strides=None, padding="VALID", data_format="NHWC",  # noqa: A002
               name=None) -> Tensor:
    """``tf.nn.avg_pool2d``, as :func:`max_pool2d`."""
    _nhwc(data_format, "avg_pool2d")
    return _pool.avg_pool2d(input, ksize, strides, padding)


max_pool = max_pool2d
avg_pool = avg_pool2d


def conv3d(input: TensorLike, filters: TensorLike, strides, padding, data_format="NDHWC",  # noqa: A002
           dilations=None, name=None) -> Tensor:
    """``tf.nn.conv3d``: filters (d, h, w, in, out); strides and dilations as an int, (d, h, w) or
    [1, d, h, w, 1]."""
    _nhwc(data_format, "conv3d", "NDHWC")
    return _conv3d(input, filters, strides, padding, 1 if dilations is None else dilations)


def conv3d_transpose(input: TensorLike, filters: TensorLike, output_shape, strides, padding="SAME",  # noqa: A002
                     data_format="NDHWC", dilations=None, name=None) -> Tensor:
    """``tf.nn.conv3d_transpose``: filters (d, h, w, out, in), the explicit (N, D, H, W, C_out) output_shape."""
    _nhwc(data_format, "conv3d_transpose", "NDHWC")
    return _conv3d_transpose(input, filters, strides, padding, None, 1 if dilations is None else dilations,
                             [int(n) for n in getattr(output_shape, "numpy", lambda: output_shape)()])


def conv2d_transpose(input: TensorLike, filters: TensorLike, output_shape, strides, padding="SAME",  # noqa: A002
                     data_format="NHWC", dilations=None, name=None) -> Tensor:
    """``tf.nn.conv2d_transpose``: filters (h, w, out, in), the explicit (N, H, W, C_out) output_shape."""
    _nhwc(data_format, "conv2d_transpose")
    return _conv2d_transpose(input, filters, strides, str(padding).lower(), None,
                             1 if dilations is None else dilations,
                             [int(n) for n in getattr(output_shape, "numpy", lambda: output_shape)()])


def max_pool3d(input: TensorLike, ksize, strides, padding, data_format="NDHWC", name=None) -> Tensor:  # noqa: A002
    """``tf.nn.max_pool3d``: ksize and strides as an int, (d, h, w) or [1, d, h, w, 1]."""
    _nhwc(data_format, "max_pool3d", "NDHWC")
    return _max_pool3d(input, ksize, strides, padding)


def avg_pool3d(input: TensorLike, ksize, strides, padding, data_format="NDHWC", name=None) -> Tensor:  # noqa: A002
    """``tf.nn.avg_pool3d``, as :func:`max_pool3d` ('SAME' windows average their real voxels only)."""
    _nhwc(data_format, "avg_pool3d", "NDHWC")
    return _avg_pool3d(input, ksize, strides, padding)


def batch_normalization(x: TensorLike, mean: TensorLike, variance: TensorLike, offset: TensorLike | None,
                        scale: TensorLike | None, variance_epsilon: float) -> Tensor:
    """``tf.nn.batch_normalization``: ``(x - mean) * scale / sqrt(variance + eps) + offset`` over the last axis."""
    return batch_norm_infer(x, scale, offset, mean, variance, axis=-1, epsilon=variance_epsilon)


def moments(x: TensorLike, axes, keepdims: bool = False) -> tuple[Tensor, Tensor]:
    """Mean and (biased) variance of ``x`` over ``axes``, as ``tf.nn.moments``."""
    x = as_tensor(x)
    return _reduce.mean(x, axes, keepdims), _reduce.var(x, axes, keepdims)


def l2_loss(t: TensorLike) -> Tensor:
    """``sum(t ** 2) / 2``, as ``tf.nn.l2_loss``."""
    t = as_tensor(t)
    return _reduce.sum(t * t) * 0.5


def embedding_lookup(params, ids: TensorLike, max_norm: float | None = None, name=None) -> Tensor:
    """Rows of ``params`` at the integer ``ids`` (in ``[0, len(params))``), as ``tf.nn.embedding_lookup``; with
    ``max_norm`` each row is scaled down to at most that L2 norm.

    >>> import chainrule as tf
    >>> tf.nn.embedding_lookup(tf.constant([[1.0, 2.0], [3.0, 4.0]]), [1, 0]).numpy()
    array([[3., 4.],
           [1., 2.]], dtype=float32)
    """
    if isinstance(params, (list, tuple)):
        if len(params) != 1:  # TF's partition_strategy splits the table over several tensors
            raise NotImplementedError(f"tf.nn.embedding_lookup: params sharded over {len(params)} tensors; pass the "
                                      f"whole table as one tensor")
        params = params[0]
    rows = embedding_lookup_op(params, ids, caller="tf.nn.embedding_lookup")
    if max_norm is None:
        return rows
    from chainrule.compat.tf.api import clip_by_norm  # (api's helpers import nothing from nn)

    return clip_by_norm(rows, max_norm, axes=tuple(range(rows.ndim - as_tensor(params).ndim + 1, rows.ndim)))


def ctc_loss(labels: TensorLike, logits: TensorLike, label_length, logit_length, logits_time_major: bool = True,
             unique=None, blank_index: int | None = None, name=None) -> Tensor:
    """``tf.nn.ctc_loss``: the CTC loss per sequence of dense padded ``labels`` (batch, max_label_length) against
    unnormalized ``logits``, (time, batch, classes) when ``logits_time_major`` else (batch, time, classes);
    ``blank_index`` defaults to 0 (negative counts from the last class)."""
    if label_length is None:
        raise NotImplementedError("tf.nn.ctc_loss: sparse labels (label_length=None) are not supported; pass dense "
                                  "padded labels and their label_length")
    if unique is not None:
        raise NotImplementedError("tf.nn.ctc_loss: `unique` (a TPU optimization) is not supported; pass None")
    logits = as_tensor(logits)
    if logits_time_major:
        if logits.ndim != 3:
            raise ValueError(f"tf.nn.ctc_loss: `logits` must have shape (time, batch, classes), got {logits.shape}")
        logits = transpose(logits, (1, 0, 2))
    return _ctc.ctc_loss(labels, logits, label_length, logit_length, blank_index=0 if blank_index is None
                         else blank_index)


def bias_add(value: TensorLike, bias: TensorLike) -> Tensor:
    """Add a per-channel bias along the last axis."""
    return as_tensor(value) + bias


# tf.nn's names for activations and helpers that live elsewhere: the keras.ops activations and tf.math's functions
from chainrule.keras.ops import relu6, selu, softsign  # noqa: E402
from chainrule.compat.tf.math import l2_normalize, top_k  # noqa: E402
from chainrule.compat.tf.replica_losses import compute_average_loss, scale_regularization_loss  # noqa: E402,F401


def silu(features: TensorLike, beta: float = 1.0, name=None) -> Tensor:
    """``features * sigmoid(beta * features)``, also named ``tf.nn.swish``."""
    features = as_tensor(features)
    return features * sigmoid(features * beta)


swish = silu


from chainrule.compat.tf.array_search import depth_to_space, space_to_depth  # noqa: E402,F401
from chainrule.ops.depthwise import depthwise_conv2d as _depthwise_conv2d  # noqa: E402
from chainrule.ops.depthwise import separable_conv2d as _separable_conv2d  # noqa: E402
from chainrule.compat.tf.nn_moments import (normalize_moments, sufficient_statistics,  # noqa: E402,F401
                                             weighted_moments, zero_fraction)
from chainrule.compat.tf.pointwise_losses import log_poisson_loss, weighted_cross_entropy_with_logits  # noqa


def depthwise_conv2d(input: TensorLike, filter: TensorLike, strides, padding, data_format=None,  # noqa: A002
                     dilations=None, name=None) -> Tensor:
    """Each input channel convolved with its own filters: ``filter`` (kh, kw, in_channels, multiplier), output
    channels in_channels * multiplier (channel c * multiplier + m from input channel c)."""
    _nhwc(data_format or "NHWC", "depthwise_conv2d")
    return _depthwise_conv2d(input, filter, strides, str(padding).lower(), 1 if dilations is None else dilations)


def separable_conv2d(input: TensorLike, depthwise_filter: TensorLike, pointwise_filter: TensorLike,  # noqa: A002
                     strides, padding, data_format=None, dilations=None, name=None) -> Tensor:
    """A depthwise convolution, then a 1x1 convolution with ``pointwise_filter`` (1, 1, in * multiplier, out)."""
    _nhwc(data_format or "NHWC", "separable_conv2d")
    return _separable_conv2d(input, depthwise_filter, pointwise_filter, strides, str(padding).lower(),
                             1 if dilations is None else dilations)



from chainrule.compat.tf.ctc_decoders import ctc_beam_search_decoder, ctc_greedy_decoder  # noqa: E402,F401
from chainrule.compat.tf.sampled_losses import nce_loss, sampled_softmax_loss  # noqa: E402,F401
from chainrule.compat.tf.nn_conv_pool import conv1d, convolution, max_pool_with_argmax, pool  # noqa: E402,F401
from chainrule.compat.tf.nn_lrn import local_response_normalization, lrn  # noqa: E402,F401
from chainrule.compat.tf.space_batch import batch_to_space, space_to_batch, space_to_batch_nd  # noqa: E402,F401
from chainrule.compat.tf.nn_morphology import dilation2d, erosion2d  # noqa: E402,F401
from chainrule.compat.tf.nn_conv_pool import avg_pool, avg_pool1d, max_pool, max_pool1d  # noqa: E402,F401
