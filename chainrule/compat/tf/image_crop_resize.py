"""``tf.image.crop_and_resize``: crops of a batch of images at normalized boxes, each resampled to one
``crop_size`` (corner-aligned bilinear or nearest), the RoI pooling of two-stage detectors (Faster R-CNN, Mask R-CNN).

Built from gathers and arithmetic on tensors, so gradients flow to the image and (bilinear) to the boxes, as in
TensorFlow.

>>> import numpy as np
>>> import chainrule as tf
>>> image = tf.constant(np.arange(16.0, dtype="float32").reshape(1, 4, 4, 1))
>>> tf.image.crop_and_resize(image, [[0.0, 0.0, 1.0, 1.0]], [0], (2, 2)).numpy()[0, ..., 0]
array([[ 0.,  3.],
       [12., 15.]], dtype=float32)
"""
from __future__ import annotations

import numpy as np

from chainrule import ops
from chainrule.engine.tensor import Tensor, TensorLike, as_tensor
from chainrule.compat.tf.errors import invalid_argument


def _sample_points(low: Tensor, high: Tensor, size: int, extent: int) -> Tensor:
    """Pixel coordinates (num_boxes, size) of ``size`` corner-aligned samples from ``low`` to ``high``."""
    if size == 1:  # one sample sits at the box centre
        return ops.reshape((low + high) * (0.5 * (extent - 1)), (-1, 1))
    steps = as_tensor(np.arange(size, dtype=low.dtype) / (size - 1))
    return ops.reshape(low * (extent - 1), (-1, 1)) + ops.reshape((high - low) * (extent - 1), (-1, 1)) * steps


def crop_and_resize(image: TensorLike, boxes: TensorLike, box_indices: TensorLike, crop_size,
                    method: str = "bilinear", extrapolation_value: float = 0.0, name=None) -> Tensor:
    """Crops (num_boxes, crop_height, crop_width, depth), float32 (float64 for a float64 image): box i, rows
    [y1, x1, y2, x2] in [0, 1] coordinates (y maps to y * (height - 1); y1 > y2 flips the crop), taken from image
    ``box_indices[i]``; samples outside the image are ``extrapolation_value``."""
    fn = "tf.image.crop_and_resize"
    image = as_tensor(image)
    if image.ndim != 4:
        raise invalid_argument(f"{fn}: input image must be 4-D [batch, height, width, depth], got shape "
                                   f"{list(image.shape)}")
    if image.dtype not in (np.float32, np.float64):
        image = ops.cast(image, np.float32)
    batch, height, width, depth = image.shape
    if height <= 0 or width <= 0:
        raise invalid_argument(f"{fn}: image dimensions must be positive, got {list(image.shape)}")
    boxes = as_tensor(boxes)
    boxes = boxes if boxes.dtype == image.dtype else ops.cast(boxes, image.dtype)
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise invalid_argument(f"{fn}: boxes must be 2-D [num_boxes, 4], got shape {list(boxes.shape)}")
    index = np.asarray(box_indices.numpy() if isinstance(box_indices, Tensor) else box_indices)
    if index.shape != (boxes.shape[0],) or (index.size and index.dtype.kind not in "iu"):
        raise invalid_argument(f"{fn}: box_indices has incompatible shape {list(index.shape)}: expected "
                                   f"[{boxes.shape[0]}] integers")
    index = index.astype(np.int64)
    if index.size and (index.min() < 0 or index.max() >= batch):
        raise invalid_argument(f"{fn}: box_indices has values outside [0, batch_size) = [0, {batch})")
    size = np.asarray(crop_size.numpy() if isinstance(crop_size, Tensor) else crop_size).reshape(-1)
    if size.shape != (2,) or (size <= 0).any():
        raise invalid_argument(f"{fn}: crop_size must be two positive integers [crop_height, crop_width], got "
                                   f"{size.tolist()}")
    if method not in ("bilinear", "nearest"):
        raise ValueError(f"{fn}: method must be 'bilinear' or 'nearest', got {method!r}")
    crop_h, crop_w = int(size[0]), int(size[1])
    ys = _sample_points(boxes[:, 0], boxes[:, 2], crop_h, height)  # (n, crop_h)
    xs = _sample_points(boxes[:, 1], boxes[:, 3], crop_w, width)  # (n, crop_w)
    y, x = ys.numpy(), xs.numpy()
    inside = (((y >= 0) & (y <= height - 1))[:, :, None] & ((x >= 0) & (x <= width - 1))[:, None, :])[..., None]
    flat = ops.reshape(image, (batch * height * width, depth))
    base = (index * height * width)[:, None, None]

    def pixels(rows: np.ndarray, cols: np.ndarray) -> Tensor:
        rows, cols = np.clip(rows, 0, height - 1).astype(np.int64), np.clip(cols, 0, width - 1).astype(np.int64)
        return ops.gather(flat, base + rows[:, :, None] * width + cols[:, None, :], axis=0)  # (n, ch, cw, depth)

    if method == "nearest":
        # TensorFlow rounds half away from zero (std::round)
        crops = pixels(np.floor(y + 0.5), np.floor(x + 0.5))
    else:
        top, left = np.floor(y), np.floor(x)
        y_lerp = ops.reshape(ys - as_tensor(top.astype(y.dtype)), (*y.shape, 1, 1))
        x_lerp = ops.reshape(xs - as_tensor(left.astype(x.dtype)), (x.shape[0], 1, x.shape[1], 1))
        upper_left, upper_right = pixels(top, left), pixels(top, np.ceil(x))
        lower_left, lower_right = pixels(np.ceil(y), left), pixels(np.ceil(y), np.ceil(x))
        upper = upper_left + (upper_right - upper_left) * x_lerp
        lower = lower_left + (lower_right - lower_left) * x_lerp
        crops = upper + (lower - upper) * y_lerp
    return ops.where(inside, crops, as_tensor(np.asarray(extrapolation_value, dtype=crops.dtype)))


__all__ = ["crop_and_resize"]
