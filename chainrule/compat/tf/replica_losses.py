"""``tf.nn.compute_average_loss`` and ``tf.nn.scale_regularization_loss``: a replica's share of the loss.

In a ``tf.distribute`` custom loop each replica's loss is divided by the global batch (its batch times the number
of replicas), so that summing the replicas' gradients gives the gradient of the whole batch's mean.

>>> import chainrule as tf
>>> float(tf.nn.compute_average_loss(tf.constant([1.0, 2.0, 3.0, 6.0])))
3.0
>>> float(tf.nn.compute_average_loss(tf.constant([1.0, 2.0]), global_batch_size=4))
0.75
"""
from __future__ import annotations

import numbers

import numpy as np

from chainrule.compat.tf import distribute
from chainrule.engine.tensor import Tensor, TensorLike, as_tensor
from chainrule.ops import reduce as _reduce


def _check_replica_context(name: str) -> None:
    if distribute.has_strategy() and distribute.in_cross_replica_context():
        raise RuntimeError(f"You are calling `{name}` in cross replica context, while it was expected to be called "
                           "in replica context.")


def compute_average_loss(per_example_loss: TensorLike, sample_weight: TensorLike | None = None,
                         global_batch_size: int | None = None) -> Tensor:
    """The sum of ``per_example_loss`` (times ``sample_weight``) over ``global_batch_size``, by default this
    replica's batch (the first axis) times the replicas in sync."""
    per_example_loss = as_tensor(per_example_loss)
    if per_example_loss.ndim == 0:
        raise ValueError("Invalid value passed for `per_example_loss`. Expected a tensor with at least rank 1, "
                         f"got a scalar {per_example_loss}.")
    if sample_weight is not None:
        per_example_loss = (per_example_loss * as_tensor(sample_weight)).astype(per_example_loss.dtype)
    if global_batch_size is None:
        _check_replica_context("compute_average_loss")
        global_batch_size = per_example_loss.shape[0] * distribute.get_strategy().num_replicas_in_sync
    size = np.asarray(global_batch_size.numpy() if isinstance(global_batch_size, Tensor) else global_batch_size)
    if size.ndim != 0 or not isinstance(size.item(), numbers.Integral):
        raise TypeError(f"global_batch_size must be an integer scalar, got {global_batch_size!r}")
    if size.item() <= 0:
        raise ValueError(f"global_batch_size must be positive, got {size.item()}")
    return _reduce.sum(per_example_loss) / np.asarray(size.item(), dtype=per_example_loss.dtype)


def scale_regularization_loss(regularization_loss: TensorLike) -> Tensor:
    """The sum of ``regularization_loss`` over the replicas in sync (each replica adds its share)."""
    _check_replica_context("scale_regularization_loss")
    loss = as_tensor(regularization_loss)
    return _reduce.sum(loss) / np.asarray(distribute.get_strategy().num_replicas_in_sync, dtype=loss.dtype)
