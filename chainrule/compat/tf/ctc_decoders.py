"""``tf.nn.ctc_beam_search_decoder`` and ``tf.nn.ctc_greedy_decoder``: TensorFlow's CTC decoders, time-major logits
(max_time, batch, num_classes) with the blank the last class, each decoded path a ``tf.sparse.SparseTensor``
(batch, longest). The searches are chainrule's (``keras.ops.ctc_decode``'s prefix beam search over the log-softmax,
and best-path decoding); this module only speaks TensorFlow's layout.

>>> import numpy as np, chainrule as tf
>>> logits = np.log(np.array([[[0.1, 0.8, 0.1]], [[0.1, 0.1, 0.8]], [[0.8, 0.1, 0.1]]], np.float32))
>>> (decoded,), log_probability = tf.nn.ctc_beam_search_decoder(logits, [3], beam_width=4)
>>> tf.sparse.to_dense(decoded).numpy()
array([[1, 0]])
"""
from __future__ import annotations

import numpy as np

from chainrule.compat.tf.sparse import SparseTensor
from chainrule.engine.tensor import Tensor
from chainrule.ops import ctc as _ctc


def _batch_major(inputs, name: str) -> np.ndarray:
    x = np.asarray(inputs.numpy() if isinstance(inputs, Tensor) else inputs)
    if x.ndim != 3:
        raise ValueError(f"tf.nn.{name}: `inputs` must have shape (max_time, batch_size, num_classes), got {x.shape}")
    return np.transpose(x, (1, 0, 2))


def _sparse(paths: np.ndarray) -> SparseTensor:
    """A (batch, time) path array padded with -1 as TensorFlow's SparseTensor (int64 ids, dense width the longest)."""
    indices = np.argwhere(paths >= 0)
    width = int(indices[:, 1].max()) + 1 if len(indices) else 0
    return SparseTensor(indices, Tensor._wrap(paths[paths >= 0].astype(np.int64)), [paths.shape[0], width])


def ctc_beam_search_decoder(inputs, sequence_length, beam_width: int = 100, top_paths: int = 1
                            ) -> tuple[list[SparseTensor], Tensor]:
    """``(decoded, log_probability)``: the ``top_paths`` most likely labellings (a list of SparseTensors, best
    first) and their log probabilities (batch, top_paths)."""
    x = _batch_major(inputs, "ctc_beam_search_decoder")
    paths, scores = _ctc.ctc_decode(x, sequence_length, "beam_search", beam_width, top_paths, mask_index=-1)
    return [_sparse(p) for p in paths.numpy()], scores


def ctc_greedy_decoder(inputs, sequence_length, merge_repeated: bool = True, blank_index: int | None = None
                       ) -> tuple[list[SparseTensor], Tensor]:
    """``([decoded], neg_sum_logits)``: the best path (the most likely class per step, repeats merged when
    ``merge_repeated``, blanks dropped; ``blank_index`` defaults to the last class, negative counts from the end) and
    minus the sum of each step's largest logit (batch, 1)."""
    x = _batch_major(inputs, "ctc_greedy_decoder")
    paths, scores = _ctc.ctc_decode(x, sequence_length, "greedy", merge_repeated=merge_repeated,
                                    mask_index=-1 if blank_index is None else blank_index)
    return [_sparse(paths.numpy()[0])], scores


__all__ = ["ctc_beam_search_decoder", "ctc_greedy_decoder"]
