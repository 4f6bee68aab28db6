"""``tf.image``'s non-max suppression: ``non_max_suppression`` (and ``_with_scores`` with soft-NMS, ``_overlaps``,
``_padded``) and ``combined_non_max_suppression``, the box selection of object detectors (RetinaNet, SSD).

Boxes are rows [y1, x1, y2, x2] of any two opposite corners. Selection is greedy in descending score (ties to the
lower index, as TensorFlow's priority queue); a box is dropped when its IoU with a kept box is above
``iou_threshold``, and only boxes scoring above ``score_threshold`` are candidates. Indices are not differentiable,
so these work on arrays and return int32 indices, as TensorFlow does.

>>> import chainrule as tf
>>> boxes = [[0, 0, 1, 1], [0, 0.1, 1, 1.1], [0, 2, 1, 3]]
>>> tf.image.non_max_suppression(boxes, [0.9, 0.8, 0.7], max_output_size=3).numpy()
array([0, 2], dtype=int32)
"""
from __future__ import annotations

import heapq

import numpy as np

from chainrule.engine.tensor import Tensor, TensorLike, as_tensor
from chainrule.compat.tf.errors import invalid_argument


def _array(x: TensorLike, dtype=None) -> np.ndarray:
    return np.asarray(x.numpy() if isinstance(x, Tensor) else x, dtype=dtype)


def _scalar_int(value, name: str, fn: str) -> int:
    array = _array(value)
    if array.ndim != 0:
        raise invalid_argument(f"tf.image.{fn}: {name} must be 0-D, got shape {list(array.shape)}")
    return int(array)


def _iou_threshold(iou_threshold, fn: str) -> float:
    value = float(_array(iou_threshold))
    if not 0.0 <= value <= 1.0:
        raise invalid_argument(f"tf.image.{fn}: iou_threshold must be in [0, 1], got {value}")
    return value


def _boxes_and_scores(boxes: TensorLike, scores: TensorLike, fn: str) -> tuple[np.ndarray, np.ndarray]:
    boxes, scores = _array(boxes, np.float64), _array(scores, np.float64)
    if boxes.ndim != 2:
        raise invalid_argument(f"tf.image.{fn}: boxes must be 2-D [num_boxes, 4], got shape {list(boxes.shape)}")
    if boxes.shape[1] != 4:
        raise invalid_argument(f"tf.image.{fn}: boxes must have 4 columns, got shape {list(boxes.shape)}")
    if scores.ndim != 1 or scores.shape[0] != boxes.shape[0]:
        raise invalid_argument(f"tf.image.{fn}: scores has incompatible shape {list(scores.shape)}: expected "
                                   f"[{boxes.shape[0]}], one score per box")
    return boxes, scores


class BoxOverlaps:
    """IoU of box i with boxes idx, corners put in order and areas computed once (a box of no area overlaps
    nothing)."""

    def __init__(self, boxes: np.ndarray):
        self.lo = np.minimum(boxes[:, :2], boxes[:, 2:])
        self.hi = np.maximum(boxes[:, :2], boxes[:, 2:])
        self.area = np.prod(self.hi - self.lo, axis=1)

    def __call__(self, i: int, idx: np.ndarray) -> np.ndarray:
        inter = np.prod(np.clip(np.minimum(self.hi[i], self.hi[idx]) - np.maximum(self.lo[i], self.lo[idx]), 0.0,
                                None), axis=1)
        areas = self.area[idx]
        with np.errstate(divide="ignore", invalid="ignore"):
            iou = inter / (self.area[i] + areas - inter)
        return np.where((self.area[i] > 0) & (areas > 0), iou, 0.0)


def greedy_nms(boxes: np.ndarray, scores: np.ndarray, max_output_size: int, iou_threshold: float,
               score_threshold: float, soft_nms_sigma: float = 0.0,
               overlap=None) -> tuple[np.ndarray, np.ndarray]:
    """The selected indices and their (soft-NMS-decayed) scores; ``overlap(i, idx)`` replaces box IoU."""
    overlap = overlap or BoxOverlaps(boxes)
    if soft_nms_sigma > 0.0:
        return _soft_nms(scores, max_output_size, iou_threshold, score_threshold, soft_nms_sigma, overlap)
    # hard NMS: keep the best remaining box, drop every remaining box overlapping it too much
    remaining = np.flatnonzero(scores > score_threshold)
    remaining = remaining[np.argsort(-scores[remaining], kind="stable")]
    selected = []
    while remaining.size and len(selected) < max_output_size:
        best, remaining = remaining[0], remaining[1:]
        selected.append(best)
        remaining = remaining[overlap(best, remaining) <= iou_threshold]
    selected = np.asarray(selected, dtype=np.int64)
    return selected, scores[selected]


def _soft_nms(scores, max_output_size, iou_threshold, score_threshold, sigma, overlap):
    # TensorFlow's soft-NMS: a candidate's score decays by exp(-iou^2 / (2 sigma)) for each kept box, and it goes
    # back on the queue until it is the best unchanged score (or falls to score_threshold)
    scale = -0.5 / sigma
    queue = [(-scores[i], i, 0) for i in np.flatnonzero(scores > score_threshold)]
    heapq.heapify(queue)
    selected, selected_scores = [], []
    while queue and len(selected) < max_output_size:
        negative, i, begin = heapq.heappop(queue)
        score = original = -negative
        for j in range(len(selected) - 1, begin - 1, -1):
            similarity = overlap(i, np.asarray([selected[j]]))[0]
            score *= np.exp(scale * similarity * similarity)
            if score <= score_threshold:
                break
        if score == original:
            selected.append(i)
            selected_scores.append(score)
        elif score > score_threshold:
            heapq.heappush(queue, (-score, i, len(selected)))
    return np.asarray(selected, dtype=np.int64), np.asarray(selected_scores, dtype=np.float64)


def non_max_suppression(boxes: TensorLike, scores: TensorLike, max_output_size, iou_threshold: float = 0.5,
                        score_threshold: float = float("-inf"), name=None) -> Tensor:
    """Indices (int32, at most ``max_output_size``) of the boxes kept by greedy non-max suppression."""
    return non_max_suppression_with_scores(boxes, scores, max_output_size, iou_threshold, score_threshold,
                                           _fn="non_max_suppression")[0]


def non_max_suppression_with_scores(boxes: TensorLike, scores: TensorLike, max_output_size,
                                    iou_threshold: float = 0.5, score_threshold: float = float("-inf"),
                                    soft_nms_sigma: float = 0.0, name=None,
                                    _fn: str = "non_max_suppression_with_scores") -> tuple[Tensor, Tensor]:
    """(selected_indices, selected_scores); with ``soft_nms_sigma`` > 0 overlapping boxes have their scores decayed
    (Gaussian soft-NMS, Bodla et al.) instead of being dropped, and ``selected_scores`` are the decayed scores.

    >>> import chainrule as tf
    >>> idx, kept = tf.image.non_max_suppression_with_scores([[0, 0, 1, 1], [0, 0, 1, 1]], [0.9, 0.8], 2,
    ...                                                        soft_nms_sigma=0.5)
    >>> idx.numpy(), kept.numpy().round(4)
    (array([0, 1], dtype=int32), array([0.9   , 0.2943], dtype=float32))
    """
    boxes_a, scores_a = _boxes_and_scores(boxes, scores, _fn)
    size = _scalar_int(max_output_size, "max_output_size", _fn)
    sigma = float(_array(soft_nms_sigma))
    if sigma < 0:
        raise invalid_argument(f"tf.image.{_fn}: soft_nms_sigma must be non-negative, got {sigma}")
    selected, kept = greedy_nms(boxes_a, scores_a, size, _iou_threshold(iou_threshold, _fn),
                                float(_array(score_threshold)), sigma)
    dtype = np.float64 if getattr(scores, "dtype", None) == np.float64 else np.float32  # lists give float32
    return as_tensor(selected.astype(np.int32)), as_tensor(kept.astype(dtype))


def non_max_suppression_overlaps(overlaps: TensorLike, scores: TensorLike, max_output_size,
                                 overlap_threshold: float = 0.5, score_threshold: float = float("-inf"),
                                 name=None) -> Tensor:
    """As :func:`non_max_suppression`, with a precomputed [num_boxes, num_boxes] ``overlaps`` matrix for IoU."""
    fn = "non_max_suppression_overlaps"
    overlaps_a, scores_a = _array(overlaps, np.float64), _array(scores, np.float64)
    if overlaps_a.ndim != 2 or overlaps_a.shape[0] != overlaps_a.shape[1]:
        raise invalid_argument(f"tf.image.{fn}: overlaps must be a square 2-D matrix, got shape "
                                   f"{list(overlaps_a.shape)}")
    if scores_a.shape != (overlaps_a.shape[0],):
        raise invalid_argument(f"tf.image.{fn}: scores has incompatible shape {list(scores_a.shape)}")
    selected, _ = greedy_nms(None, scores_a, _scalar_int(max_output_size, "max_output_size", fn),
                             float(_array(overlap_threshold)), float(_array(score_threshold)),
                             overlap=lambda i, idx: overlaps_a[i, idx])
    return as_tensor(selected.astype(np.int32))


def non_max_suppression_padded(boxes: TensorLike, scores: TensorLike, max_output_size,
                               iou_threshold: float = 0.5, score_threshold: float = float("-inf"),
                               pad_to_max_output_size: bool = False, name=None, sorted_input: bool = False,
                               canonicalized_coordinates: bool = False,
                               tile_size: int = 512) -> tuple[Tensor, Tensor]:
    """(selected_indices, valid_outputs): boxes [..., num_boxes, 4] and scores [..., num_boxes], the leading axes
    a batch; with ``pad_to_max_output_size`` the indices are zero-padded to [..., max_output_size] (required for a
    batch), else the one image's valid indices."""
    fn = "non_max_suppression_padded"
    boxes_a, scores_a = _array(boxes, np.float64), _array(scores, np.float64)
    if boxes_a.ndim < 2 or boxes_a.shape[-1] != 4:
        raise invalid_argument(f"tf.image.{fn}: boxes must have shape [..., num_boxes, 4], got "
                                   f"{list(boxes_a.shape)}")
    if boxes_a.ndim > 2 and not pad_to_max_output_size:
        raise ValueError(f"'pad_to_max_output_size' (value {pad_to_max_output_size}) must be True for batched input")
    if scores_a.shape != boxes_a.shape[:-1]:
        raise invalid_argument(f"tf.image.{fn}: scores has incompatible shape {list(scores_a.shape)}: expected "
                                   f"{list(boxes_a.shape[:-1])}")
    size = _scalar_int(max_output_size, "max_output_size", fn)
    threshold, floor = _iou_threshold(iou_threshold, fn), float(_array(score_threshold))
    batch = boxes_a.shape[:-2]
    flat_boxes, flat_scores = boxes_a.reshape(-1, *boxes_a.shape[-2:]), scores_a.reshape(-1, scores_a.shape[-1])
    indices = np.zeros((len(flat_boxes), size), dtype=np.int32)
    valid = np.zeros(len(flat_boxes), dtype=np.int32)
    for b, (image_boxes, image_scores) in enumerate(zip(flat_boxes, flat_scores)):
        selected, _ = greedy_nms(image_boxes, image_scores, size, threshold, floor)
        indices[b, :len(selected)], valid[b] = selected, len(selected)
    if not pad_to_max_output_size:
        return as_tensor(indices[0, :valid[0]]), as_tensor(valid[0])
    return as_tensor(indices.reshape(*batch, size)), as_tensor(valid.reshape(batch))


def combined_non_max_suppression(boxes: TensorLike, scores: TensorLike, max_output_size_per_class,
                                 max_total_size, iou_threshold: float = 0.5, score_threshold: float = float("-inf"),
                                 pad_per_class: bool = False, clip_boxes: bool = True,
                                 name=None) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Per image, NMS within each class, then the best ``max_total_size`` across classes: boxes
    [batch, num_boxes, q, 4] (q = 1 shares boxes over classes, else q = num_classes), scores
    [batch, num_boxes, num_classes] -> (nmsed_boxes [batch, d, 4], nmsed_scores [batch, d], nmsed_classes
    [batch, d] (float), valid_detections [batch] int32), zero-padded; d = max_total_size, or with ``pad_per_class``
    min(max_output_size_per_class * num_classes, max_total_size). ``clip_boxes`` clips the output to [0, 1].

    >>> import chainrule as tf
    >>> out = tf.image.combined_non_max_suppression([[[[0, 0, 1, 1]], [[0, 0, 1, 0.9]]]], [[[0.9, 0.1], [0.8, 0.7]]],
    ...                                             max_output_size_per_class=2, max_total_size=3)
    >>> out[1].numpy(), out[2].numpy(), out[3].numpy()
    (array([[0.9, 0.7, 0. ]], dtype=float32), array([[0., 1., 0.]], dtype=float32), array([2], dtype=int32))
    """
    fn = "combined_non_max_suppression"
    boxes_a, scores_a = _array(boxes, np.float32), _array(scores, np.float32)
    if boxes_a.ndim != 4 or boxes_a.shape[-1] != 4:
        raise invalid_argument(f"tf.image.{fn}: boxes must be 4-D [batch_size, num_boxes, q, 4], got shape "
                                   f"{list(boxes_a.shape)}")
    if scores_a.ndim != 3 or scores_a.shape[:2] != boxes_a.shape[:2]:
        raise invalid_argument(f"tf.image.{fn}: scores must be 3-D [batch_size, num_boxes, num_classes] matching "
                                   f"boxes {list(boxes_a.shape)}, got shape {list(scores_a.shape)}")
    num_classes, q = scores_a.shape[2], boxes_a.shape[2]
    if q not in (1, num_classes):
        raise invalid_argument(f"tf.image.{fn}: third dimension of boxes must be either 1 or num classes "
                                   f"({num_classes}), got {q}")
    per_class = _scalar_int(max_output_size_per_class, "max_output_size_per_class", fn)
    total = _scalar_int(max_total_size, "max_total_size", fn)
    if total <= 0:
        raise invalid_argument(f"tf.image.{fn}: max_total_size must be > 0, got {total}")
    threshold, floor = _iou_threshold(iou_threshold, fn), float(_array(score_threshold))
    detections = min(per_class * num_classes, total) if pad_per_class else total
    batch = boxes_a.shape[0]
    out_boxes = np.zeros((batch, detections, 4), np.float32)
    out_scores = np.zeros((batch, detections), np.float32)
    out_classes = np.zeros((batch, detections), np.float32)
    valid = np.zeros(batch, np.int32)
    for b in range(batch):
        found = []  # (score, class, box index)
        shared = BoxOverlaps(boxes_a[b, :, 0].astype(np.float64)) if q == 1 else None  # one set for all classes
        for c in range(num_classes):
            overlap = shared or BoxOverlaps(boxes_a[b, :, c].astype(np.float64))
            selected, kept = greedy_nms(None, scores_a[b, :, c].astype(np.float64), per_class, threshold, floor,
                                        overlap=overlap)
            found += [(s, c, i) for s, i in zip(kept, selected)]
        found.sort(key=lambda item: -item[0])  # stable: equal scores stay in class order
        found = found[:detections]
        valid[b] = len(found)
        for k, (s, c, i) in enumerate(found):
            out_boxes[b, k] = boxes_a[b, i, 0 if q == 1 else c]
            out_scores[b, k], out_classes[b, k] = s, c
    if clip_boxes:
        out_boxes = np.clip(out_boxes, 0.0, 1.0)
    return as_tensor(out_boxes), as_tensor(out_scores), as_tensor(out_classes), as_tensor(valid)


__all__ = ["combined_non_max_suppression", "non_max_suppression", "non_max_suppression_overlaps",
           "non_max_suppression_padded", "non_max_suppression_with_scores"]
