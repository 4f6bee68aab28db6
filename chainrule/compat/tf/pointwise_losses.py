"""``tf.nn``'s elementwise losses beyond the cross-entropies: ``weighted_cross_entropy_with_logits`` (the positive
term scaled by ``pos_weight``) and ``log_poisson_loss`` (with Stirling's term for ``compute_full_loss``), built
from differentiable ops.

>>> import numpy as np
>>> import chainrule as tf
>>> round(float(tf.nn.weighted_cross_entropy_with_logits(np.float32(1.0), np.float32(0.0), 3.0)), 4)  # 3 log 2
2.0794
>>> float(tf.nn.log_poisson_loss(np.float32(2.0), np.float32(0.0)))  # e^0 - 2 * 0
1.0
"""
from __future__ import annotations

import math

from chainrule import ops
from chainrule.engine.tensor import Tensor, TensorLike, as_tensor


def weighted_cross_entropy_with_logits(labels: TensorLike, logits: TensorLike, pos_weight, name=None) -> Tensor:
    """``(1 - z) x + (1 + (q - 1) z) log(1 + e^-x)`` for labels z, logits x and ``pos_weight`` q (no overflow)."""
    labels, logits = as_tensor(labels), as_tensor(logits)
    log_weight = 1.0 + (pos_weight - 1.0) * labels
    return (1.0 - labels) * logits + log_weight * ops.softplus(-logits)  # softplus(-x) = log(1 + e^-x)


def log_poisson_loss(targets: TensorLike, log_input: TensorLike, compute_full_loss: bool = False,
                     name=None) -> Tensor:
    """``exp(c) - z c`` for log-rates c and counts z; with ``compute_full_loss`` Stirling's approximation of
    ``log z!``, ``z log z - z + ½ log(2πz)``, added where z > 1."""
    targets, log_input = as_tensor(targets), as_tensor(log_input)
    loss = ops.exp(log_input) - log_input * targets
    if compute_full_loss:
        above_one = targets > 1
        safe = ops.where(above_one, targets, 1.0)
        stirling = safe * ops.log(safe) - safe + 0.5 * ops.log(2.0 * math.pi * safe)
        loss = loss + ops.where(above_one, stirling, 0.0)
    return loss


__all__ = ["log_poisson_loss", "weighted_cross_entropy_with_logits"]
