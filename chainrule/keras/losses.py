"""Losses (``keras.losses``): classes called as ``loss(y_true, y_pred, sample_weight=None) -> scalar Tensor``, and
the functions behind them, which return one loss per sample (the mean over the last axis, as Keras's do).

Labels may be Tensors or NumPy arrays of any numeric dtype; they are cast to ``y_pred``'s dtype. A label of rank one
less than ``y_pred`` whose last axis is 1 (``(N,)`` against ``(N, 1)``) gains that axis, as in Keras.

Cross-entropies on probabilities are computed the stable way when they can be: if ``y_pred`` is the output of a
softmax (along the loss's class axis) or a sigmoid, the loss is taken from that activation's input logits with the
fused op of ``chainrule.ops.nn``, as Keras's TensorFlow backend does with ``output._keras_logits``: saturated outputs
give exact, finite losses and true gradients, the same in training and evaluation, with or without gradients.
Other probabilities are clipped to ``[1e-7, 1 - 1e-7]`` as Keras does.

>>> import numpy as np
>>> import chainrule as cr
>>> loss = SparseCategoricalCrossentropy()
>>> probs = cr.softmax(cr.Variable([[1e4, 0.0, -1e4]]))
>>> float(loss(np.array([1]), probs))
10000.0
"""
from __future__ import annotations

import warnings

import numpy as np

from chainrule import backend, ops
from chainrule.keras import configurable as _config
from chainrule.keras.configurable import serialize
from chainrule.ops.activation import Sigmoid, Softmax
from chainrule.ops import nn
from chainrule.ops.no_gradient import no_gradient
from chainrule.engine.tensor import Tensor, TensorLike, as_tensor
from chainrule.utils.naming import to_snake_case

EPSILON = 1e-7  # Keras's backend.epsilon(): how far probabilities are kept from 0 and 1
REDUCTIONS = ("sum_over_batch_size", "sum", "none", "mean", "mean_with_sample_weight")


# --- helpers shared by every loss (and by metrics) --------------------------------------------------------------------
def same_rank_shapes(shape1: tuple, shape2: tuple) -> tuple[tuple, tuple]:
    """Keras's ``squeeze_or_expand_to_same_rank`` on shapes: when the ranks differ by one and the longer shape ends
    in 1, a rank-1 partner gains a trailing 1; otherwise the longer shape drops its trailing 1."""
    shape1, shape2 = tuple(shape1), tuple(shape2)
    if len(shape1) == len(shape2) + 1 and shape1[-1] == 1:
        return (shape1, shape2 + (1,)) if len(shape2) == 1 else (shape1[:-1], shape2)
    if len(shape2) == len(shape1) + 1 and shape2[-1] == 1:
        return (shape1 + (1,), shape2) if len(shape1) == 1 else (shape1, shape2[:-1])
    return shape1, shape2


def _reshaped(x: Tensor, shape: tuple) -> Tensor:
    if x.shape == shape:
        return x
    out = ops.reshape(x, shape)
    made = getattr(x, "_from_logits", None)
    if made is not None and made[0] is Sigmoid:  # elementwise: its logits reshape alike
        out._from_logits = (Sigmoid, ops.reshape(made[1], shape), None)
    return out


def _pred_tensor(y_pred: TensorLike) -> Tensor:
    y_pred = as_tensor(y_pred)
    if y_pred.dtype.kind == "f" and y_pred.dtype.itemsize >= 4:
        return y_pred
    return ops.cast(y_pred, backend.floatx())  # integers, and float16 (Keras 3 computes losses in floatx)


def _label_tensor(y_true: TensorLike, y_pred: Tensor) -> Tensor:
    """``y_true`` as a tensor of ``y_pred``'s float dtype (a Tensor keeps its gradient; arrays are converted once)."""
    if isinstance(y_true, Tensor):
        return ops.cast(y_true, y_pred.dtype)
    return as_tensor(y_true, dtype=y_pred.dtype)


def _prepare(y_true: TensorLike, y_pred: TensorLike, name: str, same_shape: bool = False) -> tuple[Tensor, Tensor]:
    """Both as tensors of ``y_pred``'s dtype and of the same rank; shapes must broadcast (or match exactly)."""
    y_pred = _pred_tensor(y_pred)
    y_true = _label_tensor(y_true, y_pred)
    true_shape, pred_shape = same_rank_shapes(y_true.shape, y_pred.shape)
    y_true, y_pred = _reshaped(y_true, true_shape), _reshaped(y_pred, pred_shape)
    try:
        ok = np.broadcast_shapes(true_shape, pred_shape) == pred_shape and (not same_shape or true_shape == pred_shape)
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(f"{name}: y_true and y_pred have incompatible shapes: y_true.shape={y_true.shape}, "
                         f"y_pred.shape={y_pred.shape}")
    return y_true, y_pred


def _logits_of(y_pred: Tensor, op_class, axis: int | None, from_logits: bool, name: str) -> Tensor | None:
    """The logits to compute ``name`` from: the input of the ``op_class`` activation (Softmax along ``axis``, or
    Sigmoid) that made ``y_pred``, even with ``from_logits=True`` (with Keras's warning); ``y_pred`` itself for
    other outputs with ``from_logits=True``; None for other probabilities."""
    made = getattr(y_pred, "_from_logits", None)
    if made is not None and made[0] is op_class and (axis is None or made[2] == axis % y_pred.ndim):
        if from_logits:
            warnings.warn(f'"`{name}` received `from_logits=True`, but the `output` argument was produced by a '
                          f'{op_class.__name__} activation and thus does not represent logits. Was this intended?',
                          stacklevel=3)
        return made[1]
    return y_pred if from_logits else None


def _clip_probabilities(p: Tensor) -> Tensor:
    return ops.clip(p, EPSILON, 1.0 - EPSILON)


# --- per-sample loss functions ----------------------------------------------------------------------------------------
def mean_squared_error(y_true: TensorLike, y_pred: TensorLike) -> Tensor:
    """``mean((y_pred - y_true)², axis=-1)``."""
    y_true, y_pred = _prepare(y_true, y_pred, "mean_squared_error")
    return nn.mean_squared_error(y_true, y_pred)


def mean_absolute_error(y_true: TensorLike, y_pred: TensorLike) -> Tensor:
    """``mean(|y_pred - y_true|, axis=-1)``."""
    y_true, y_pred = _prepare(y_true, y_pred, "mean_absolute_error")
    return ops.mean(ops.abs(y_pred - y_true), axis=-1)


def mean_absolute_percentage_error(y_true: TensorLike, y_pred: TensorLike) -> Tensor:
    """``100 * mean(|y_true - y_pred| / max(|y_true|, eps), axis=-1)``."""
    y_true, y_pred = _prepare(y_true, y_pred, "mean_absolute_percentage_error")
    return ops.mean(ops.abs((y_true - y_pred) / ops.maximum(ops.abs(y_true), EPSILON)), axis=-1) * 100.0


def mean_squared_logarithmic_error(y_true: TensorLike, y_pred: TensorLike) -> Tensor:
    """``mean((log(max(y_pred, eps) + 1) - log(max(y_true, eps) + 1))², axis=-1)``."""
    y_true, y_pred = _prepare(y_true, y_pred, "mean_squared_logarithmic_error")
    diff = ops.log(ops.maximum(y_pred, EPSILON) + 1.0) - ops.log(ops.maximum(y_true, EPSILON) + 1.0)
    return ops.mean(diff * diff, axis=-1)


def huber(y_true: TensorLike, y_pred: TensorLike, delta: float = 1.0) -> Tensor:
    """Mean over the last axis of ``e²/2`` where ``|e| <= delta``, else ``delta |e| - delta²/2`` (``e = y_pred - y_true``)."""
    y_true, y_pred = _prepare(y_true, y_pred, "huber")
    error = y_pred - y_true
    abs_error = ops.abs(error)
    quadratic = error * error * 0.5
    linear = abs_error * delta - 0.5 * delta * delta
    return ops.mean(ops.where(abs_error.data <= delta, quadratic, linear), axis=-1)


def log_cosh(y_true: TensorLike, y_pred: TensorLike) -> Tensor:
    """``mean(log(cosh(y_pred - y_true)), axis=-1)``, computed as ``e + softplus(-2e) - log 2`` (no overflow)."""
    y_true, y_pred = _prepare(y_true, y_pred, "log_cosh")
    error = y_pred - y_true
    return ops.mean(error + ops.softplus(error * -2.0) - float(np.log(2.0)), axis=-1)


def poisson(y_true: TensorLike, y_pred: TensorLike) -> Tensor:
    """``mean(y_pred - y_true * log(y_pred + eps), axis=-1)``."""
    y_true, y_pred = _prepare(y_true, y_pred, "poisson")
    return ops.mean(y_pred - y_true * ops.log(y_pred + EPSILON), axis=-1)


def kl_divergence(y_true: TensorLike, y_pred: TensorLike) -> Tensor:
    """``sum(y_true * log(y_true / y_pred), axis=-1)``, both clipped to ``[eps, 1]``."""
    y_true, y_pred = _prepare(y_true, y_pred, "kl_divergence")
    y_true, y_pred = ops.clip(y_true, EPSILON, 1.0), ops.clip(y_pred, EPSILON, 1.0)
    return ops.sum(y_true * ops.log(y_true / y_pred), axis=-1)


def _signed_labels(y_true: Tensor) -> Tensor:
    """Hinge losses take labels in {-1, 1}; labels given in {0, 1} are mapped there, as Keras does."""
    return y_true * 2.0 - 1.0 if _all_zero_or_one(y_true.data) else y_true


def _all_zero_or_one(data) -> bool:
    """Whether every label of an array (of any backend) is 0 or 1."""
    return bool(backend.array_namespace(data).all((data == 0) | (data == 1)))


def hinge(y_true: TensorLike, y_pred: TensorLike) -> Tensor:
    """``mean(max(1 - y_true * y_pred, 0), axis=-1)``, labels in {-1, 1} (or {0, 1})."""
    y_true, y_pred = _prepare(y_true, y_pred, "hinge")
    return ops.mean(ops.maximum(1.0 - _signed_labels(y_true) * y_pred, 0.0), axis=-1)


def squared_hinge(y_true: TensorLike, y_pred: TensorLike) -> Tensor:
    """``mean(max(1 - y_true * y_pred, 0)², axis=-1)``, labels in {-1, 1} (or {0, 1})."""
    y_true, y_pred = _prepare(y_true, y_pred, "squared_hinge")
    margin = ops.maximum(1.0 - _signed_labels(y_true) * y_pred, 0.0)
    return ops.mean(margin * margin, axis=-1)


def categorical_hinge(y_true: TensorLike, y_pred: TensorLike) -> Tensor:
    """``max(max((1 - y_true) * y_pred) - sum(y_true * y_pred) + 1, 0)`` over the last axis, for one-hot labels."""
    y_true, y_pred = _prepare(y_true, y_pred, "categorical_hinge")
    positive = ops.sum(y_true * y_pred, axis=-1)
    negative = ops.max((1.0 - y_true) * y_pred, axis=-1)
    return ops.maximum(negative - positive + 1.0, 0.0)


def _l2_normalize(x: Tensor, axis: int) -> Tensor:
    return x * ops.sum(x * x, axis=axis, keepdims=True).maximum(1e-12) ** -0.5


def cosine_similarity(y_true: TensorLike, y_pred: TensorLike, axis: int = -1) -> Tensor:
    """``-sum(normalize(y_true) * normalize(y_pred), axis)``: -1 when the vectors point the same way."""
    y_true, y_pred = _prepare(y_true, y_pred, "cosine_similarity")
    return -ops.sum(_l2_normalize(y_true, axis) * _l2_normalize(y_pred, axis), axis=axis)


def binary_crossentropy(y_true: TensorLike, y_pred: TensorLike, from_logits: bool = False,
                        label_smoothing: float = 0.0, axis: int = -1) -> Tensor:
    """``mean(-(t log p + (1 - t) log(1 - p)), axis)``; labels smoothed toward 0.5 by ``label_smoothing``."""
    y_true, y_pred = _prepare(y_true, y_pred, "binary_crossentropy", same_shape=True)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    logits = _logits_of(y_pred, Sigmoid, None, from_logits, "binary_crossentropy")
    if logits is not None:
        return ops.mean(nn.sigmoid_cross_entropy_with_logits(y_true, logits), axis=axis)
    p = _clip_probabilities(y_pred)
    return -ops.mean(y_true * ops.log(p) + (1.0 - y_true) * ops.log(1.0 - p), axis=axis)


def binary_focal_crossentropy(y_true: TensorLike, y_pred: TensorLike, apply_class_balancing: bool = False,
                              alpha: float = 0.25, gamma: float = 2.0, from_logits: bool = False,
                              label_smoothing: float = 0.0, axis: int = -1) -> Tensor:
    """``mean((1 - p_t)^gamma * bce, axis)`` with ``p_t = t p + (1 - t)(1 - p)``, the binary cross-entropy down-weighted
    where the prediction is already right (Lin et al., 2017); ``apply_class_balancing`` weighs positives by
    ``alpha`` and negatives by ``1 - alpha``. The cross-entropy is taken from the logits when there are any."""
    y_true, y_pred = _prepare(y_true, y_pred, "binary_focal_crossentropy", same_shape=True)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    logits = _logits_of(y_pred, Sigmoid, None, from_logits, "binary_focal_crossentropy")
    if logits is not None:
        p = ops.sigmoid(logits) if from_logits and logits is y_pred else y_pred
        bce = nn.sigmoid_cross_entropy_with_logits(y_true, logits)
    else:
        p = y_pred
        clipped = _clip_probabilities(y_pred)
        bce = -(y_true * ops.log(clipped) + (1.0 - y_true) * ops.log(1.0 - clipped))
    p_t = y_true * p + (1.0 - y_true) * (1.0 - p)
    focal = (1.0 - p_t) ** float(gamma) * bce
    if apply_class_balancing:
        focal = (y_true * alpha + (1.0 - y_true) * (1.0 - alpha)) * focal
    return ops.mean(focal, axis=axis)


def categorical_focal_crossentropy(y_true: TensorLike, y_pred: TensorLike, alpha: float = 0.25, gamma: float = 2.0,
                                   from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1) -> Tensor:
    """``sum(alpha (1 - p)^gamma * -y_true log(p), axis)`` over renormalized, clipped probabilities ``p`` (softmax of
    the logits with ``from_logits``), as Keras computes it: the categorical cross-entropy down-weighted on classes
    predicted with confidence."""
    if isinstance(axis, bool):
        raise ValueError(f"`axis` must be of type `int`. Received: axis={axis} of type {type(axis)}")
    y_pred = _pred_tensor(y_pred)
    if y_pred.ndim == 0:
        raise ValueError("categorical_focal_crossentropy: y_pred must have a class axis, got a scalar")
    if y_pred.shape[axis] == 1:
        warnings.warn(f"In loss categorical_focal_crossentropy, expected y_pred.shape to be (batch_size, num_classes) "
                      f"with num_classes > 1. Received: y_pred.shape={y_pred.shape}. Consider using "
                      f"'binary_crossentropy' if you only have 2 classes.", SyntaxWarning, stacklevel=2)
    _check_one_hot(y_true, y_pred, axis)
    y_true = _label_tensor(y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / y_pred.shape[axis]
    if from_logits:
        y_pred = ops.softmax(y_pred, axis)
    p = _clip_probabilities(y_pred / ops.sum(y_pred, axis=axis, keepdims=True))
    return ops.sum((1.0 - p) ** float(gamma) * alpha * (-y_true * ops.log(p)), axis=axis)


def _check_one_hot(y_true: TensorLike, y_pred: Tensor, axis: int) -> None:
    """Reject class-id labels given to a categorical (one-hot) cross-entropy, naming the two fixes."""
    true_shape, pred_shape = tuple(np.shape(y_true)), y_pred.shape
    data = y_true.data if isinstance(y_true, Tensor) else np.asarray(y_true)
    classes = pred_shape[axis] if pred_shape else 1
    looks_like_ids = (len(true_shape) == len(pred_shape) - 1
                      or (true_shape[:-1] == pred_shape[:-1] and true_shape[-1:] == (1,) and classes > 1))
    if true_shape == pred_shape:
        looks_like_ids = backend.dtype_kind(data.dtype) in "iub" and not _all_zero_or_one(data)
        if not looks_like_ids:
            return
    if looks_like_ids:
        raise ValueError(
            f"categorical_crossentropy expects one-hot labels shaped like y_pred {pred_shape}, but got labels of "
            f"shape {true_shape} and dtype {data.dtype} that look like integer class ids. Either one-hot encode "
            f"them with keras.utils.to_categorical(y, num_classes={classes}), or use "
            f"SparseCategoricalCrossentropy (loss='sparse_categorical_crossentropy') for integer labels.")
    raise ValueError(f"categorical_crossentropy: y_true and y_pred must have the same shape, got "
                     f"y_true.shape={true_shape} and y_pred.shape={pred_shape}")


def categorical_crossentropy(y_true: TensorLike, y_pred: TensorLike, from_logits: bool = False,
                             label_smoothing: float = 0.0, axis: int = -1) -> Tensor:
    """``-sum(y_true * log(p), axis)`` for one-hot (or soft) labels; probabilities are renormalized to sum to 1
    and clipped, as Keras does. ``label_smoothing`` moves labels toward ``1 / classes``."""
    y_pred = _pred_tensor(y_pred)
    if y_pred.ndim == 0:
        raise ValueError("categorical_crossentropy: y_pred must have a class axis, got a scalar")
    _check_one_hot(y_true, y_pred, axis)
    y_true = _label_tensor(y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / y_pred.shape[axis]
    logits = _logits_of(y_pred, Softmax, axis, from_logits, "categorical_crossentropy")
    if logits is not None:
        return nn.softmax_cross_entropy_with_logits(y_true, logits, axis=axis)
    p = _clip_probabilities(y_pred / ops.sum(y_pred, axis=axis, keepdims=True))
    return -ops.sum(y_true * ops.log(p), axis=axis)


def _class_ids(y_true: TensorLike, y_pred: Tensor) -> np.ndarray:
    """Integer labels of shape ``y_pred.shape[:-1]`` (a trailing axis of 1 is dropped); float labels are cast to
    integers, truncated toward zero, as Keras's ``cast(target, "int64")`` does (keras-io's DeepLabV3+ example trains
    on bilinearly resized masks, whose edge pixels are fractional)."""
    labels = y_true.data if isinstance(y_true, Tensor) else backend.xp.asarray(y_true)
    xp = backend.array_namespace(labels)
    if labels.ndim == y_pred.ndim and labels.shape[-1:] == (1,):
        labels = xp.reshape(labels, labels.shape[:-1])
    if labels.shape != y_pred.shape[:-1]:
        hint = (" They look one-hot: use CategoricalCrossentropy (loss='categorical_crossentropy'), or pass "
                "argmax(y, axis=-1)." if labels.shape == y_pred.shape else "")
        raise ValueError(f"sparse_categorical_crossentropy expects integer labels of shape {y_pred.shape[:-1]} (or "
                         f"{y_pred.shape[:-1] + (1,)}) for y_pred of shape {y_pred.shape}, got labels of shape "
                         f"{labels.shape}.{hint}")
    kind = backend.dtype_kind(labels.dtype)
    if kind == "f":
        return xp.astype(labels, np.int64)
    if kind not in "iu":
        raise TypeError(f"sparse_categorical_crossentropy: labels must be integer class ids, got dtype {labels.dtype}")
    return labels


def _sparse_crossentropy(y_true: TensorLike, y_pred: TensorLike, from_logits: bool, ignore_class: int | None):
    """(per-sample losses, the mask of labels that count, or None)."""
    y_pred = _pred_tensor(y_pred)
    if y_pred.ndim == 0:
        raise ValueError("sparse_categorical_crossentropy: y_pred must have a class axis, got a scalar")
    labels = _class_ids(y_true, y_pred)
    valid = None
    if ignore_class is not None:
        valid = labels != ignore_class
        labels = backend.xp.where(valid, labels, 0)
    logits = _logits_of(y_pred, Softmax, -1, from_logits, "sparse_categorical_crossentropy")
    if logits is not None:
        loss = nn.sparse_softmax_cross_entropy_with_logits(labels, logits)
    else:
        classes = y_pred.shape[-1]
        xp = backend.array_namespace(labels)
        low, high = (int(xp.min(labels)), int(xp.max(labels))) if labels.size else (0, 0)
        if low < 0 or high >= classes:
            raise ValueError(f"sparse_categorical_crossentropy: labels must be in [0, {classes}) for y_pred of shape "
                             f"{y_pred.shape}, got values from {low} to {high}")
        one_hot = xp.astype(labels[..., None] == xp.arange(classes, dtype=labels.dtype), y_pred.dtype)
        p = _clip_probabilities(y_pred / ops.sum(y_pred, axis=-1, keepdims=True))
        loss = -ops.sum(ops.log(p) * one_hot, axis=-1)
    if valid is not None:
        loss = ops.where(valid, loss, 0.0)
    return loss, valid


def sparse_categorical_crossentropy(y_true: TensorLike, y_pred: TensorLike, from_logits: bool = False,
                                    ignore_class: int | None = None, axis: int = -1) -> Tensor:
    """Cross-entropy against integer class ids (shape ``y_pred.shape[:-1]``, or with a trailing 1);
    labels equal to ``ignore_class`` get zero loss."""
    if axis not in (-1, np.ndim(y_pred) - 1):
        raise NotImplementedError("sparse_categorical_crossentropy: only the last axis can be the class axis")
    return _sparse_crossentropy(y_true, y_pred, from_logits, ignore_class)[0]


# the short names Keras exports
mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kullback_leibler_divergence = kl_divergence
logcosh = log_cosh


# --- reduction --------------------------------------------------------------------------------------------------------
class Reduction:
    """tf.keras 2's names for the loss reductions (``tf.keras.losses.Reduction.NONE``), the strings Keras 3 takes.

    >>> Reduction.NONE, Reduction.validate("sum")
    ('none', None)
    """

    AUTO = "auto"
    NONE = "none"
    SUM = "sum"
    SUM_OVER_BATCH_SIZE = "sum_over_batch_size"

    @classmethod
    def all(cls) -> tuple:
        return (cls.AUTO, cls.NONE, cls.SUM, cls.SUM_OVER_BATCH_SIZE)

    @classmethod
    def validate(cls, key: str) -> None:
        if key not in cls.all():
            raise ValueError(f'Invalid Reduction Key: {key}. Expected keys are "{cls.all()}"')


def _standardize_reduction(reduction: str | None) -> str:
    reduction = "none" if reduction is None else str(reduction).lower()
    if reduction == "auto":
        reduction = "sum_over_batch_size"
    if reduction not in REDUCTIONS:
        raise ValueError(f"invalid loss reduction {reduction!r}; expected one of {REDUCTIONS} or None")
    return reduction


def _mask_to_weight(sample_weight, mask, reduction: str, dtype):
    """Fold a mask of the entries that count into the sample weights; averaging reductions then divide by the
    number of entries that count rather than by all of them (Keras's ``apply_mask``)."""
    weight = mask.astype(dtype)
    if reduction in ("sum_over_batch_size", "mean"):
        weight *= weight.size / (weight.sum() + EPSILON)
    if sample_weight is None:
        return weight
    sample_weight = as_tensor(sample_weight, dtype=None if isinstance(sample_weight, Tensor) else dtype)
    w_shape, s_shape = same_rank_shapes(weight.shape, sample_weight.shape)
    return _reshaped(sample_weight, s_shape) * weight.reshape(w_shape)


def reduce_weighted_values(values: Tensor, sample_weight: TensorLike | None = None,
                           reduction: str = "sum_over_batch_size") -> Tensor:
    """Weight per-sample losses and reduce them: 'sum_over_batch_size' (sum / number of entries), 'sum', 'none',
    or 'mean_with_sample_weight' (sum / sum of the weights)."""
    reduction = _standardize_reduction(reduction)
    if sample_weight is not None:
        weight = sample_weight if isinstance(sample_weight, Tensor) else as_tensor(sample_weight, dtype=values.dtype)
        weight = ops.cast(weight, values.dtype)
        v_shape, w_shape = same_rank_shapes(values.shape, weight.shape)
        try:
            np.broadcast_shapes(v_shape, w_shape)
        except ValueError:
            raise ValueError(f"sample_weight of shape {weight.shape} does not match the losses of shape "
                             f"{values.shape}") from None
        values = _reshaped(values, v_shape) * _reshaped(weight, w_shape)
        sample_weight = weight
    if reduction == "none" or values.ndim == 0 or values.shape == (0,):
        return values
    if reduction == "sum":
        return ops.sum(values)
    if reduction == "mean_with_sample_weight" and sample_weight is not None:
        divisor = float(sample_weight.data.sum())
    else:
        divisor = float(values.size)
    return ops.mean(values) if divisor == values.size else ops.sum(values) * (1.0 / divisor if divisor else 0.0)


# --- loss classes -----------------------------------------------------------------------------------------------------
class Loss(_config.Configurable):
    """Base class. Subclass it and define ``call(y_true, y_pred)`` returning per-sample losses (Tensors in, ``y_true``
    already cast to ``y_pred``'s dtype); ``__call__`` weights and reduces them."""

    def __init__(self, name: str | None = None, reduction: str | None = "sum_over_batch_size", dtype=None):
        self.name = name or to_snake_case(type(self).__name__)
        self.reduction = _standardize_reduction(reduction)
        self.dtype = dtype

    def call(self, y_true, y_pred) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} must define call(y_true, y_pred)")

    def _losses(self, y_true, y_pred):
        """(per-sample losses, mask of the entries that count or None)."""
        y_pred = _pred_tensor(y_pred)
        return self.call(_label_tensor(y_true, y_pred), y_pred), None

    def __call__(self, y_true: TensorLike, y_pred: TensorLike, sample_weight: TensorLike | None = None) -> Tensor:
        if self.dtype is not None:
            y_pred = ops.cast(as_tensor(y_pred), self.dtype)
        values, mask = self._losses(y_true, y_pred)
        if mask is not None:
            sample_weight = _mask_to_weight(sample_weight, mask, self.reduction, values.dtype)
        return reduce_weighted_values(values, sample_weight, self.reduction)

    def get_config(self) -> dict:
        return {"name": self.name, "reduction": self.reduction, "dtype": self.dtype}

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r} reduction={self.reduction!r}>"


class LossFunctionWrapper(Loss):
    """A loss class around a per-sample function ``fn(y_true, y_pred, **kwargs)``.

    As in Keras, labels and predictions whose ranks differ by a trailing axis of 1 are first brought to the same
    rank (``(n,)`` labels against ``(n, 1)`` outputs would otherwise broadcast to ``(n, n)``); other labels reach
    the function as they are (CTC's padded label matrices, for one).

    >>> mean_error = LossFunctionWrapper(lambda t, p: ops.mean(ops.abs(t - p), axis=-1))
    >>> float(mean_error(np.array([0.0, 1.0]), np.array([[0.5], [0.5]])))
    0.5
    """

    def __init__(self, fn, reduction: str | None = "sum_over_batch_size", name: str | None = None, dtype=None,
                 **kwargs):
        super().__init__(name=name or getattr(fn, "__name__", None), reduction=reduction, dtype=dtype)
        self.fn = fn
        self._fn_kwargs = kwargs

    def _losses(self, y_true, y_pred):
        if hasattr(y_true, "shape") and hasattr(y_pred, "shape"):
            true_shape, pred_shape = same_rank_shapes(y_true.shape, y_pred.shape)
            if true_shape != tuple(y_true.shape):
                y_true = _reshaped(as_tensor(y_true), true_shape)
            if pred_shape != tuple(y_pred.shape):
                y_pred = _reshaped(as_tensor(y_pred), pred_shape)
        return self.fn(y_true, y_pred, **self._fn_kwargs), None

    def get_config(self) -> dict:
        config = super().get_config()
        if type(self) is LossFunctionWrapper:
            config["fn"] = getattr(self.fn, "__name__", repr(self.fn))
        return {**config, **self._fn_kwargs}

    @classmethod
    def from_config(cls, config: dict) -> "Loss":
        if cls is LossFunctionWrapper:
            config = dict(config)
            config["fn"] = _FUNCTIONS[config["fn"]]
        return cls(**config)


def _loss_class(name: str, fn, default_name: str, doc: str, **options):
    """A Keras loss class around ``fn`` whose constructor takes ``options`` (with these defaults)."""
    def __init__(self, *args, reduction="sum_over_batch_size", name=default_name, dtype=None, **kwargs):
        settings = dict(options)
        settings.update(zip(options, args))
        unknown = set(kwargs) - set(options)
        if unknown or len(args) > len(options):
            raise TypeError(f"{type(self).__name__}() got unexpected arguments {sorted(unknown) or args}")
        settings.update(kwargs)
        LossFunctionWrapper.__init__(self, fn, reduction=reduction, name=name, dtype=dtype, **settings)
    return type(name, (LossFunctionWrapper,), {"__init__": __init__, "__doc__": doc, "__module__": __name__,
                                               "function": staticmethod(fn)})


MeanSquaredError = _loss_class("MeanSquaredError", mean_squared_error, "mean_squared_error",
                               "Mean of the squared errors.")
MeanAbsoluteError = _loss_class("MeanAbsoluteError", mean_absolute_error, "mean_absolute_error",
                                "Mean of the absolute errors.")
MeanAbsolutePercentageError = _loss_class("MeanAbsolutePercentageError", mean_absolute_percentage_error,
                                          "mean_absolute_percentage_error", "Mean absolute percentage error.")
MeanSquaredLogarithmicError = _loss_class("MeanSquaredLogarithmicError", mean_squared_logarithmic_error,
                                          "mean_squared_logarithmic_error", "Mean squared logarithmic error.")
Huber = _loss_class("Huber", huber, "huber_loss", "Quadratic for errors up to ``delta``, linear beyond.", delta=1.0)
LogCosh = _loss_class("LogCosh", log_cosh, "log_cosh", "Mean of log(cosh(error)).")
Poisson = _loss_class("Poisson", poisson, "poisson", "Poisson negative log-likelihood (up to a constant).")
KLDivergence = _loss_class("KLDivergence", kl_divergence, "kl_divergence", "Kullback-Leibler divergence.")
Hinge = _loss_class("Hinge", hinge, "hinge", "Hinge loss for labels in {-1, 1} (or {0, 1}).")
SquaredHinge = _loss_class("SquaredHinge", squared_hinge, "squared_hinge", "Squared hinge loss.")
CategoricalHinge = _loss_class("CategoricalHinge", categorical_hinge, "categorical_hinge",
                               "Hinge loss between the true class's score and the best other one.")
CosineSimilarity = _loss_class("CosineSimilarity", cosine_similarity, "cosine_similarity",
                               "Negative cosine similarity along ``axis``.", axis=-1)
BinaryCrossentropy = _loss_class(
    "BinaryCrossentropy", binary_crossentropy, "binary_crossentropy",
    "Cross-entropy for 0/1 labels against probabilities (``from_logits=False``) or logits.",
    from_logits=False, label_smoothing=0.0, axis=-1)
CategoricalCrossentropy = _loss_class(
    "CategoricalCrossentropy", categorical_crossentropy, "categorical_crossentropy",
    "Cross-entropy for one-hot labels; integer class ids need SparseCategoricalCrossentropy.",
    from_logits=False, label_smoothing=0.0, axis=-1)
BinaryFocalCrossentropy = _loss_class(
    "BinaryFocalCrossentropy", binary_focal_crossentropy, "binary_focal_crossentropy",
    "Binary cross-entropy scaled by ``(1 - p_t)^gamma`` (and by alpha / 1 - alpha with ``apply_class_balancing``).",
    apply_class_balancing=False, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1)
CategoricalFocalCrossentropy = _loss_class(
    "CategoricalFocalCrossentropy", categorical_focal_crossentropy, "categorical_focal_crossentropy",
    "Categorical cross-entropy scaled by ``alpha (1 - p)^gamma`` per class.",
    alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1)


class SparseCategoricalCrossentropy(LossFunctionWrapper):
    """Cross-entropy for integer class ids; ``ignore_class`` labels count neither in the loss nor in the average."""

    function = staticmethod(sparse_categorical_crossentropy)

    def __init__(self, from_logits: bool = False, ignore_class: int | None = None,
                 reduction: str | None = "sum_over_batch_size", name: str = "sparse_categorical_crossentropy",
                 dtype=None):
        super().__init__(sparse_categorical_crossentropy, reduction=reduction, name=name, dtype=dtype,
                         from_logits=from_logits, ignore_class=ignore_class)

    def _losses(self, y_true, y_pred):
        return _sparse_crossentropy(y_true, y_pred, self._fn_kwargs["from_logits"], self._fn_kwargs["ignore_class"])


def _label_counts(labels, mask_index: int):
    return (labels != mask_index).sum(axis=-1)


def ctc(y_true: TensorLike, y_pred: TensorLike) -> Tensor:
    """The CTC loss per sequence, as Keras 3's ``keras.losses.ctc``: ``y_true`` (batch, max_length) integer labels
    padded with 0, which is also the blank class; ``y_pred`` (batch, steps, classes), every step counting. Keras 3
    takes ``y_pred`` as logits (a log-softmax is applied); the output of a softmax is taken from its logits, so that
    its log-probabilities are ``log(y_pred)``."""
    y_pred = _pred_tensor(y_pred)
    y_true = as_tensor(y_true)
    if y_true.ndim != 2:
        raise ValueError(f"Targets `y_true` are expected to be a tensor of shape `(batch_size, max_length)` in "
                         f"integer format. Received: y_true.shape={tuple(y_true.shape)}")
    if y_pred.ndim != 3:
        raise ValueError(f"Logits `y_pred` are expected to be a tensor of shape `(batch_size, max_length, "
                         f"num_classes)`. Received: y_pred.shape={tuple(y_pred.shape)}")
    logits = _logits_of(y_pred, Softmax, -1, False, "ctc")
    labels = y_true if y_true.dtype.kind in "iu" else ops.cast(y_true, "int32")
    label_length = no_gradient(_label_counts, labels, mask_index=0)
    return ops.ctc_loss(labels, y_pred if logits is None else logits, label_length, y_pred.shape[1], blank_index=0)


class CTC(LossFunctionWrapper):
    """CTC (Connectionist Temporal Classification) loss: :func:`ctc` averaged over the batch by default."""

    function = staticmethod(ctc)

    def __init__(self, reduction: str | None = "sum_over_batch_size", name: str = "ctc", dtype=None):
        super().__init__(ctc, reduction=reduction, name=name, dtype=dtype)


def categorical_generalized_cross_entropy(y_true: TensorLike, y_pred: TensorLike, q: float) -> Tensor:
    """Generalized cross-entropy (Zhang and Sabuncu, 2018) for integer labels against probabilities:
    ``(1 - p^q) / q``, ``p`` the true class's probability; towards cross-entropy as q -> 0 and mean absolute error
    at q = 1, robust to noisy labels.

    >>> categorical_generalized_cross_entropy(np.array([1]), np.array([[0.2, 0.8]]), q=0.5).numpy().round(4)
    array([0.2111])
    """
    y_pred = _pred_tensor(y_pred)
    labels = _class_ids(y_true, y_pred)
    one_hot = (labels[..., None] == backend.xp.arange(y_pred.shape[-1])).astype(y_pred.dtype)
    p = ops.sum(y_pred * one_hot, axis=-1)
    return (1.0 - ops.pow(p, q)) * (1.0 / q)


def dice(y_true: TensorLike, y_pred: TensorLike, axis=None) -> Tensor:
    """``1 - 2 Σ y_true y_pred / (Σ y_true + Σ y_pred + epsilon)``, the sums over ``axis`` (all axes when None, a
    scalar then; ``(1, 2, 3)`` gives one loss per image).

    >>> y_true = np.array([[1.0, 1.0, 0.0, 0.0], [1.0, 1.0, 0.0, 0.0]])
    >>> y_pred = np.array([[0.0, 1.0, 0.0, 1.0], [0.4, 0.0, 0.0, 0.9]])
    >>> dice(y_true, y_pred, axis=1).numpy().round(4)
    array([0.5   , 0.7576])
    """
    y_true, y_pred = _prepare(y_true, y_pred, "dice")
    intersection = ops.sum(y_true * y_pred, axis=axis)
    return 1.0 - 2.0 * intersection / (ops.sum(y_true, axis=axis) + ops.sum(y_pred, axis=axis) + EPSILON)


def tversky(y_true: TensorLike, y_pred: TensorLike, alpha: float = 0.5, beta: float = 0.5, axis=None) -> Tensor:
    """``1 - TP / (TP + alpha FP + beta FN + epsilon)`` with soft counts over ``axis`` (Salehi et al., 2017); alpha
    and beta weigh false positives and false negatives (0.5 each gives the Dice loss)."""
    y_true, y_pred = _prepare(y_true, y_pred, "tversky")
    true_positives = ops.sum(y_true * y_pred, axis=axis)
    false_positives = ops.sum((1.0 - y_true) * y_pred, axis=axis)
    false_negatives = ops.sum(y_true * (1.0 - y_pred), axis=axis)
    return 1.0 - true_positives / (true_positives + false_positives * alpha + false_negatives * beta + EPSILON)


def _pair_masks(labels: np.ndarray, ref_labels: np.ndarray, remove_diagonal: bool) -> np.ndarray:
    """(2, n, m): pairs of the same label (without each query's own pair with ``remove_diagonal``), then the others."""
    labels, ref_labels = labels.reshape(-1, 1), ref_labels.reshape(1, -1)
    same = labels == ref_labels
    different = ~same
    if remove_diagonal:
        same = same & ~np.eye(same.shape[0], same.shape[1], dtype=bool)
    return np.stack([same, different])


def circle(y_true: TensorLike, y_pred: TensorLike, ref_labels=None, ref_embeddings=None,
           remove_diagonal: bool = True, gamma: float = 80.0, margin: float = 0.4) -> Tensor:
    """Circle loss (Sun et al., 2020) of L2-normalised embeddings ``y_pred`` (n, d) with integer labels ``y_true``,
    against themselves or ``ref_embeddings``/``ref_labels``: per query, ``softplus(logsumexp over positives of
    -gamma a_p (margin - d) + logsumexp over negatives of gamma a_n (1 - margin - d))``, ``d`` the cosine distance,
    ``a_p = max(margin + d, 0)``, ``a_n = max(1 + margin - d, 0)``. A query without positives (or negatives) gets 0."""
    y_pred = _pred_tensor(y_pred)
    labels = ops.cast(as_tensor(y_true), "int64")
    if y_pred.ndim != 2 or labels.ndim not in (1, 2) or labels.size != y_pred.shape[0]:
        raise ValueError(f"circle: expected integer labels of shape (batch,) or (batch, 1) and embeddings of shape "
                         f"(batch, dim). Received: y_true.shape={tuple(labels.shape)}, "
                         f"y_pred.shape={tuple(y_pred.shape)}")
    reference = y_pred if ref_embeddings is None else as_tensor(ref_embeddings, dtype=y_pred.dtype)
    ref_labels = labels if ref_labels is None else ops.cast(as_tensor(ref_labels), "int64")
    masks = no_gradient(_pair_masks, labels, ref_labels, remove_diagonal=bool(remove_diagonal))
    positive, negative = masks[0], masks[1]
    distance = ops.maximum(1.0 - ops.matmul(y_pred, ops.transpose(reference)), 0.0)
    pos_weights = ops.maximum((margin + distance) * ops.cast(positive, y_pred.dtype), 0.0)
    neg_weights = ops.maximum((1.0 + margin - distance) * ops.cast(negative, y_pred.dtype), 0.0)
    # a finite floor instead of Keras's -inf outside each mask: the same losses, and no NaN gradient for a query
    # whose mask is empty (its loss is softplus(floor + ...) = 0)
    floor = float(np.finfo(y_pred.dtype).min) / 4
    pos_loss = ops.logsumexp(ops.where(positive, -gamma * pos_weights * (margin - distance), floor), axis=1)
    neg_loss = ops.logsumexp(ops.where(negative, gamma * neg_weights * (1.0 - margin - distance), floor), axis=1)
    return ops.softplus(pos_loss + neg_loss)


class CategoricalGeneralizedCrossEntropy(LossFunctionWrapper):
    """Generalized cross-entropy (:func:`categorical_generalized_cross_entropy`) with ``q`` in (0, 1)."""

    function = staticmethod(categorical_generalized_cross_entropy)

    def __init__(self, q: float = 0.5, reduction: str | None = "sum_over_batch_size",
                 name: str = "categorical_generalized_cross_entropy", dtype=None):
        if isinstance(q, bool) or not isinstance(q, (int, float)) or not 0 < q < 1:
            raise ValueError("q must be in the interval (0, 1)")
        super().__init__(categorical_generalized_cross_entropy, reduction=reduction, name=name, dtype=dtype, q=q)
        self.q = q


Dice = _loss_class("Dice", dice, "dice", "The Dice loss (:func:`dice`) over ``axis`` (None: all axes).", axis=None)
Tversky = _loss_class("Tversky", tversky, "tversky", "The Tversky loss (:func:`tversky`).", alpha=0.5, beta=0.5,
                      axis=None)


class Circle(LossFunctionWrapper):
    """Circle loss (:func:`circle`) of L2-normalised embeddings against integer labels; the average counts only the
    queries with a positive loss (those with both a positive and a negative pair), as Keras masks it."""

    function = staticmethod(circle)

    def __init__(self, gamma: float = 80.0, margin: float = 0.4, remove_diagonal: bool = True,
                 reduction: str | None = "sum_over_batch_size", name: str = "circle", dtype=None):
        super().__init__(circle, reduction=reduction, name=name, dtype=dtype, gamma=gamma, margin=margin,
                         remove_diagonal=remove_diagonal)

    def __call__(self, y_true, y_pred, sample_weight=None):
        if self.dtype is not None:
            y_pred = ops.cast(as_tensor(y_pred), self.dtype)
        values = circle(y_true, y_pred, **self._fn_kwargs)
        counted = ops.cast(no_gradient(np.greater, values, 0.0), values.dtype)
        if self.reduction in ("sum_over_batch_size", "mean"):  # Keras's apply_mask: the average of those counted
            counted = counted * (values.size / (ops.sum(counted) + EPSILON))
        if sample_weight is not None:
            counted = counted * as_tensor(sample_weight, dtype=values.dtype)
        return reduce_weighted_values(values, counted, self.reduction)


ALL_LOSSES = {cls.__name__: cls for cls in (
    MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError, MeanSquaredLogarithmicError, Huber, LogCosh,
    Poisson, KLDivergence, Hinge, SquaredHinge, CategoricalHinge, CosineSimilarity, BinaryCrossentropy, CategoricalCrossentropy,
    SparseCategoricalCrossentropy, BinaryFocalCrossentropy, CategoricalFocalCrossentropy, CTC, Dice, Tversky, Circle,
    CategoricalGeneralizedCrossEntropy)}
_FUNCTIONS = {cls.function.__name__: cls.function for cls in ALL_LOSSES.values()}
ALIASES = {"mse": MeanSquaredError, "mae": MeanAbsoluteError, "mape": MeanAbsolutePercentageError,
           "msle": MeanSquaredLogarithmicError, "kld": KLDivergence, "kullback_leibler_divergence": KLDivergence,
           "logcosh": LogCosh, "huber_loss": Huber, **{cls.function.__name__: cls for cls in ALL_LOSSES.values()}}


def deserialize(config: dict, custom_objects: dict | None = None) -> Loss:
    known = {**ALL_LOSSES, "LossFunctionWrapper": LossFunctionWrapper}
    cls, config = _config.resolve(config, known, "loss", custom_objects)
    return cls.from_config(config)


def _from_function(fn) -> Loss:
    cls = ALIASES.get(getattr(fn, "__name__", "")) if fn in _FUNCTIONS.values() else None
    return cls() if cls is not None else LossFunctionWrapper(fn)


def get(identifier) -> Loss | None:
    """A :class:`Loss` object from a name ('mse', 'categorical_crossentropy', 'Huber', ...), a config dict, a class,
    an instance, or a per-sample function ``f(y_true, y_pred)`` (wrapped so it reduces like a Keras loss).

    Unlike Keras, a name always gives the loss *object* (callable with ``sample_weight``, returning the reduced
    scalar); the per-sample functions are this module's functions (``losses.mean_squared_error``)."""
    return _config.lookup(identifier, "loss", Loss, {**ALL_LOSSES, **ALIASES}, deserialize, _from_function)
