"""Connectionist Temporal Classification: the CTC loss (a registered op) and greedy and beam-search decoding.

The loss is ``-log p(labels | logits)``, the probability summed over every alignment of the labels to the time steps
(blanks between and around them, repeats merged), computed by the forward-backward recursions in log space
(chainrule/backend/kernels/ctc.py); its gradient comes from the same pass. ``logits`` are unnormalized (a log-softmax
is taken inside, as ``tf.nn.ctc_loss`` and Keras 3 do), batch-major ``(batch, time, classes)``.

>>> import numpy as np
>>> loss = ctc_loss(np.array([[1, 2]]), np.zeros((1, 3, 3), "float32"), [2], [3], blank_index=0)
>>> np.round(np.exp(-loss.numpy()), 6)   # 5 of the 27 paths of 3 steps over 3 classes give (1, 2)
array([0.185185], dtype=float32)
"""
from __future__ import annotations

import heapq
import math

import numpy as np

from chainrule import backend
from chainrule.backend.kernels.ctc import ctc
from chainrule.backend.kernels.softmax import log_softmax_numpy
from chainrule.engine.function import Function, op
from chainrule.engine.tensor import Tensor, TensorLike, as_tensor
from chainrule.ops.math import cast


class CTCLoss(Function):
    # loss_b = -log Σ_paths Π_t softmax(logits)[b, t, path_t]
    # ->  dlogits[b, t, c] = g_b * (softmax[b, t, c] - Σ_{s: l'_s = c} alpha[t, s] beta[t, s] / p_b)   (t < T_b)
    def forward(self, logits, labels, label_length, logit_length, blank):
        # checked here, not in ctc_loss: a traced step's replay checks each batch's values too
        _check_range(label_length, labels.shape[1], "label_length", "the labels' padded length")
        _check_range(logit_length, logits.shape[1], "logit_length", "the number of time steps")
        _check_labels(labels, label_length, logits.shape[-1], blank)
        lp = log_softmax_numpy(logits, axis=-1)
        if type(lp) is np.ndarray:  # (the numba kernel reads C order)
            lp = np.ascontiguousarray(lp)
        loss, self.grad = ctc(lp, labels, label_length, logit_length, blank)
        return loss

    def backward(self, g):
        if self.graph_out is not None:
            raise NotImplementedError("ctc_loss has no second derivative: its gradient is computed by the "
                                      "forward-backward pass, not by differentiable ops (create_graph=True)")
        return self.grad * g[:, None, None], None, None, None


def _check_labels(labels, label_length, classes: int, blank: int) -> None:
    """The labels within their lengths must be classes other than the blank (TensorFlow refuses them too); on any
    backend's arrays (one bool read back; the host finds the culprit only when there is one)."""
    xp = backend.array_namespace(labels)
    used = xp.arange(labels.shape[1])[None, :] < label_length[:, None]
    bad = used & ((labels < 0) | (labels >= classes) | (labels == blank))
    if bool(xp.any(bad)):
        b, i = (int(k) for k in np.argwhere(backend.to_host(bad))[0])
        raise ValueError(f"ctc_loss: labels[{b}, {i}] = {int(backend.to_host(labels)[b, i])} must be a class in "
                         f"[0, {classes}) other than the blank index {blank}")


def _check_range(lengths, limit: int, name: str, limit_name: str) -> None:
    xp = backend.array_namespace(lengths)
    if lengths.size and (bool(xp.min(lengths) < 0) or bool(xp.max(lengths) > limit)):
        raise ValueError(f"ctc_loss: `{name}` must lie in [0, {limit}] ({limit_name}), got values from "
                         f"{int(xp.min(lengths))} to {int(xp.max(lengths))}")


def _lengths(value, batch: int, name: str) -> Tensor:
    lengths = as_tensor([value] * batch if isinstance(value, (int, np.integer)) else value)
    if lengths.dtype.kind not in "iu":
        lengths = cast(lengths, "int64")
    if lengths.shape != (batch,):
        raise ValueError(f"ctc_loss: `{name}` must have shape ({batch},) (one length per sequence), got "
                         f"{tuple(lengths.shape)}")
    return lengths


@op
def ctc_loss(labels: TensorLike, logits: TensorLike, label_length, logit_length, blank_index: int = 0) -> Tensor:
    """The CTC loss per sequence, shape ``(batch,)``: ``labels`` (batch, max_label_length) integer classes padded
    after ``label_length``; ``logits`` (batch, time, classes) unnormalized, of which the first ``logit_length`` steps
    count; ``blank_index`` the blank class (negative counts from the end). A labelling that cannot fit its steps has
    an infinite loss and no gradient."""
    logits = as_tensor(logits)
    if logits.dtype.kind != "f":
        logits = cast(logits, backend.floatx())
    labels = as_tensor(labels)
    if logits.ndim != 3:
        raise ValueError(f"ctc_loss: `logits` must have shape (batch, time, classes), got {tuple(logits.shape)}")
    if labels.ndim != 2 or labels.shape[0] != logits.shape[0] or labels.dtype.kind not in "iu":
        raise ValueError(f"ctc_loss: `labels` must be integers of shape (batch={logits.shape[0]}, max_label_length), "
                         f"got {labels.dtype} of shape {tuple(labels.shape)}")
    batch, _, classes = logits.shape
    blank = int(blank_index)
    if not -classes <= blank < classes:
        raise ValueError(f"ctc_loss: `blank_index` {blank_index} is not a class of the {classes} in `logits`")
    label_length, logit_length = _lengths(label_length, batch, "label_length"), _lengths(logit_length, batch,
                                                                                          "logit_length")
    return CTCLoss.apply(logits, labels, label_length, logit_length, blank=blank % classes)


# --- decoding (no gradient) -------------------------------------------------------------------------------------------
def _collapse(path, merge_repeated: bool, blank: int) -> list[int]:
    out, previous = [], None
    for c in path:
        if c != blank and not (merge_repeated and c == previous):
            out.append(int(c))
        previous = c
    return out


def _padded(sequences: list[list[int]], length: int):
    out = np.full((len(sequences), length), -1, dtype=np.int32)
    for i, seq in enumerate(sequences):
        out[i, :len(seq)] = seq
    return out


def ctc_greedy_decode(inputs, sequence_lengths, merge_repeated: bool = True, mask_index: int = 0):
    """Best path decoding, as Keras 3's: the most likely class per step, repeats merged (``merge_repeated``),
    blanks (``mask_index``) dropped. Returns ``(decoded, scores)``: decoded ``(1, batch, time)`` padded with -1,
    scores ``(batch, 1)``, minus the sum of each step's largest input."""
    x = np.asarray(inputs)
    lengths = np.asarray(sequence_lengths).reshape(-1)
    best = x.argmax(-1)
    decoded = [_collapse(best[b, :lengths[b]], merge_repeated, mask_index) for b in range(len(x))]
    steps = np.arange(x.shape[1])[None, :] < lengths[:, None]
    scores = -(x.max(-1) * steps).sum(-1, keepdims=True)
    return _padded(decoded, x.shape[1])[None], scores.astype(np.result_type(x.dtype, np.float32))


def ctc_beam_search_decode(inputs, sequence_lengths, beam_width: int = 100, top_paths: int = 1,
                           mask_index: int = 0):
    """Prefix beam search over the log-softmax of ``inputs``: each kept prefix holds the probability of its
    alignments ending in a blank and ending in its last label; the ``beam_width`` most likely prefixes survive each
    step. Returns ``(decoded, log_probabilities)``: decoded ``(top_paths, batch, time)`` padded with -1, the log
    probabilities ``(batch, top_paths)``, best first."""
    x = np.asarray(inputs)
    lp = log_softmax_numpy(x.astype(np.result_type(x.dtype, np.float32)), axis=-1)
    lengths = np.asarray(sequence_lengths).reshape(-1)
    batch, steps, classes = lp.shape
    paths = np.full((top_paths, batch, steps), -1, dtype=np.int32)
    scores = np.full((batch, top_paths), -np.inf, dtype=lp.dtype)
    for b in range(batch):
        best = _beam_search(lp[b, :lengths[b]], beam_width, mask_index)[:top_paths]
        for k, (prefix, score) in enumerate(best):
            paths[k, b, :len(prefix)] = prefix
            scores[b, k] = score
    return paths, scores


def _beam_search(lp, beam_width: int, blank: int) -> list[tuple[tuple, float]]:
    """The most likely prefixes of one sequence's log-probabilities ``lp`` (time, classes), best first."""
    beams = {(): (0.0, -math.inf)}  # prefix -> (log p ending in blank, log p ending in its last label)
    for row in lp:
        grown: dict[tuple, list[float]] = {}

        def add(prefix, blank_part, label_part):
            entry = grown.setdefault(prefix, [-math.inf, -math.inf])
            entry[0] = np.logaddexp(entry[0], blank_part)
            entry[1] = np.logaddexp(entry[1], label_part)

        for prefix, (p_blank, p_label) in beams.items():
            total = np.logaddexp(p_blank, p_label)
            add(prefix, total + row[blank], -math.inf)  # a blank: the prefix stays
            if prefix:  # the last label repeated without a blank between: merged into the prefix
                add(prefix, -math.inf, p_label + row[prefix[-1]])
            for c in range(len(row)):
                if c == blank:
                    continue
                # after a blank a repeated label is a new one; right after the same label only p_blank extends
                extend = p_blank if prefix and c == prefix[-1] else total
                add(prefix + (c,), -math.inf, extend + row[c])
        beams = dict(heapq.nlargest(beam_width, ((p, tuple(v)) for p, v in grown.items()),
                                    key=lambda item: np.logaddexp(*item[1])))
    ranked = sorted(((p, float(np.logaddexp(*v))) for p, v in beams.items()), key=lambda item: -item[1])
    return ranked


def _on_host(value) -> np.ndarray:
    """A Tensor's, any backend's array's or a nested list's values as a NumPy array: decoding runs on the host (a
    Python search over the steps), as TensorFlow's CTC decoders run on the CPU."""
    if isinstance(value, Tensor):
        return value.numpy()
    return backend.to_host(value) if backend.is_array(value) else np.asarray(value)


def ctc_decode(inputs, sequence_lengths, strategy: str = "greedy", beam_width: int = 100, top_paths: int = 1,
               merge_repeated: bool = True, mask_index: int = 0):
    """``keras.ops.ctc_decode``: 'greedy' (:func:`ctc_greedy_decode`) or 'beam_search'
    (:func:`ctc_beam_search_decode`) over ``inputs`` (batch, time, classes)."""
    x = _on_host(inputs)
    if x.ndim != 3:
        raise ValueError(f"ctc_decode: `inputs` must have shape (batch, time, classes), got {x.shape}")
    lengths = _on_host(sequence_lengths)
    if lengths.shape != (x.shape[0],) or (lengths.size and (lengths.min() < 0 or lengths.max() > x.shape[1])):
        raise ValueError(f"ctc_decode: `sequence_lengths` must be {x.shape[0]} lengths in [0, {x.shape[1]}], got "
                         f"{lengths!r}")
    mask_index = int(mask_index) % x.shape[-1]
    if strategy == "greedy":
        decoded, scores = ctc_greedy_decode(x, lengths, merge_repeated=merge_repeated, mask_index=mask_index)
    elif strategy == "beam_search":
        if int(beam_width) < 1 or not 1 <= int(top_paths) <= int(beam_width):
            raise ValueError(f"ctc_decode: need 1 <= top_paths ({top_paths}) <= beam_width ({beam_width})")
        decoded, scores = ctc_beam_search_decode(x, lengths, beam_width=int(beam_width), top_paths=int(top_paths),
                                                 mask_index=mask_index)
    else:
        raise ValueError(f"Invalid strategy {strategy}. Supported values are 'greedy' and 'beam_search'.")
    return Tensor(decoded), Tensor(scores)
