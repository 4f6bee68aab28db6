"""``tf.nn.sampled_softmax_loss`` and ``tf.nn.nce_loss``: a loss over ``num_classes`` classes computed on the true
classes and ``num_sampled`` sampled ones only, for large vocabularies (word2vec, language models).

Both follow TensorFlow's ``_compute_sampled_logits``: the logits of the true and the sampled classes
(``inputs @ weights[ids].T + biases[ids]``), a sampled class equal to a true one masked out
(``remove_accidental_hits``: its logit lowered by float32's largest value), and the log of each class's expected
count subtracted (the sampler's correction). The sampled softmax loss is the softmax cross-entropy with the true
classes' share ``1 / num_true``; NCE is the sigmoid cross-entropy of each logit, summed. They are built from
differentiable ops, so gradients reach ``weights``, ``biases`` and ``inputs``; the ids come from
``tf.random.log_uniform_candidate_sampler`` unless ``sampled_values`` gives them.

>>> import numpy as np, chainrule as tf
>>> weights, biases = tf.constant(np.eye(4, 3, dtype=np.float32)), tf.zeros([4])
>>> loss = tf.nn.sampled_softmax_loss(weights, biases, labels=[[0], [1]], inputs=tf.ones([2, 3]), num_sampled=2,
...                                   num_classes=4, seed=1)
>>> loss.shape
TensorShape([2])
"""
from __future__ import annotations

import numpy as np

from chainrule import ops
from chainrule.compat.tf.candidate_sampling import log_uniform_candidate_sampler
from chainrule.engine.tensor import Tensor, TensorLike, as_tensor
from chainrule.ops.nn import sigmoid_cross_entropy_with_logits, softmax_cross_entropy_with_logits

_FLOAT32_MAX = float(np.finfo(np.float32).max)


def _table(params, name: str, what: str) -> Tensor:
    """``weights`` or ``biases``: a tensor, or a list of shards split along the classes (concatenated, TF 2's
    'div' partitioning)."""
    if isinstance(params, (list, tuple)):
        if not params:
            raise ValueError(f"{name}: `{what}` is an empty list")
        return ops.concat([as_tensor(p) for p in params], axis=0) if len(params) > 1 else as_tensor(params[0])
    return as_tensor(params)


def _sampled_logits(weights, biases, labels, inputs, num_sampled: int, num_classes: int, num_true: int,
                    sampled_values, remove_accidental_hits: bool, seed, name: str) -> tuple[Tensor, np.ndarray]:
    """The logits (batch, num_true + num_sampled) of the true then the sampled classes, and their target
    probabilities (``1 / num_true`` on the true classes)."""
    weights, biases, inputs = _table(weights, name, "weights"), _table(biases, name, "biases"), as_tensor(inputs)
    label_ids = np.asarray(labels.numpy() if isinstance(labels, Tensor) else labels)
    if label_ids.dtype.kind not in "iu":
        raise TypeError(f"{name}: `labels` must be integer class ids, got dtype {label_ids.dtype}")
    batch = inputs.shape[0]
    if inputs.ndim != 2 or weights.ndim != 2 or inputs.shape[1] != weights.shape[1]:
        raise ValueError(f"{name}: `inputs` must be (batch, dim) and `weights` (num_classes, dim) with the same dim, "
                         f"got {tuple(inputs.shape)} and {tuple(weights.shape)}")
    if biases.shape != (weights.shape[0],):
        raise ValueError(f"{name}: `biases` must be ({weights.shape[0]},), one per row of `weights`, got "
                         f"{tuple(biases.shape)}")
    label_ids = label_ids.reshape(batch, -1).astype(np.int64)
    if label_ids.shape[1] != num_true:
        raise ValueError(f"{name}: `labels` must be (batch, num_true) = ({batch}, {num_true}), got "
                         f"{tuple(label_ids.shape)}")
    if label_ids.size and (label_ids.min() < 0 or label_ids.max() >= num_classes):
        raise ValueError(f"{name}: `labels` must be class ids in [0, {num_classes}), got {label_ids.min()} .. "
                         f"{label_ids.max()}")
    if sampled_values is None:
        sampled_values = log_uniform_candidate_sampler(label_ids, num_true, num_sampled, True, num_classes, seed)
    sampled, true_expected, sampled_expected = (np.asarray(v.numpy() if isinstance(v, Tensor) else v)
                                                for v in sampled_values)
    sampled = sampled.astype(np.int64).reshape(-1)
    if sampled.shape != (num_sampled,):
        raise ValueError(f"{name}: `sampled_values` must hold {num_sampled} sampled ids, got {sampled.shape}")
    ids = np.concatenate([label_ids.reshape(-1), sampled])
    rows, row_biases = ops.gather(weights, ids, axis=0), ops.gather(biases, ids, axis=0)
    true_rows = ops.reshape(rows[:batch * num_true], (batch, num_true, -1))
    true_logits = ops.sum(ops.mul(ops.expand_dims(inputs, 1), true_rows), axis=-1) + ops.reshape(
        row_biases[:batch * num_true], (batch, num_true))
    sampled_logits = ops.matmul(inputs, ops.transpose(rows[batch * num_true:])) + row_biases[batch * num_true:]
    if remove_accidental_hits:  # a sampled id that is one of the row's true classes is no negative
        hits = (sampled[None, None, :] == label_ids[:, :, None]).any(axis=1)
        sampled_logits = sampled_logits + Tensor._wrap(np.where(hits, -_FLOAT32_MAX, 0.0).astype(inputs.dtype))
    true_logits = true_logits - Tensor._wrap(np.log(np.asarray(true_expected, np.float64)).reshape(batch, num_true)
                                             .astype(inputs.dtype))
    sampled_logits = sampled_logits - Tensor._wrap(np.log(np.asarray(sampled_expected, np.float64)).reshape(-1)
                                                   .astype(inputs.dtype))
    targets = np.concatenate([np.full((batch, num_true), 1.0 / num_true), np.zeros((batch, num_sampled))], axis=1)
    return ops.concat([true_logits, sampled_logits], axis=1), targets.astype(inputs.dtype)


def sampled_softmax_loss(weights: TensorLike, biases: TensorLike, labels, inputs: TensorLike, num_sampled: int,
                         num_classes: int, num_true: int = 1, sampled_values=None,
                         remove_accidental_hits: bool = True, seed=None, name: str = "sampled_softmax_loss") -> Tensor:
    """The per-example (batch,) softmax cross-entropy over the true and ``num_sampled`` sampled classes."""
    logits, targets = _sampled_logits(weights, biases, labels, inputs, int(num_sampled), int(num_classes),
                                      int(num_true), sampled_values, remove_accidental_hits, seed, name)
    return softmax_cross_entropy_with_logits(Tensor._wrap(targets), logits)


def nce_loss(weights: TensorLike, biases: TensorLike, labels, inputs: TensorLike, num_sampled: int,
             num_classes: int, num_true: int = 1, sampled_values=None, remove_accidental_hits: bool = False,
             name: str = "nce_loss") -> Tensor:
    """The per-example (batch,) noise-contrastive estimation loss: the sigmoid cross-entropy of the true classes'
    logits (target ``1 / num_true``) and the sampled ones' (target 0), summed."""
    logits, targets = _sampled_logits(weights, biases, labels, inputs, int(num_sampled), int(num_classes),
                                      int(num_true), sampled_values, remove_accidental_hits, None, name)
    return ops.sum(sigmoid_cross_entropy_with_logits(Tensor._wrap(targets), logits), axis=1)


__all__ = ["nce_loss", "sampled_softmax_loss"]
