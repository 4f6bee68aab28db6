"""``tf.image.draw_bounding_boxes``: one-pixel box outlines drawn on a copy of a batch of images (TensorBoard's
detection previews). Drawing has no gradient in TensorFlow, so it works on arrays.

>>> import numpy as np
>>> import chainrule as tf
>>> canvas = tf.image.draw_bounding_boxes(np.zeros((1, 4, 5, 1), "float32"), [[[0.0, 0.0, 1.0, 0.5]]], [[1.0]])
>>> canvas.numpy()[0, ..., 0]
array([[1., 1., 1., 0., 0.],
       [1., 0., 1., 0., 0.],
       [1., 0., 1., 0., 0.],
       [1., 1., 1., 0., 0.]], dtype=float32)
"""
from __future__ import annotations

import numpy as np

from chainrule.engine.tensor import Tensor, TensorLike, as_tensor
from chainrule.compat.tf.errors import invalid_argument

# TensorFlow's colours (RGBA) for boxes drawn without a colour table, cycled over the boxes
DEFAULT_COLORS = ((1, 1, 0, 1), (0, 0, 1, 1), (1, 0, 0, 1), (0, 1, 0, 1), (0.5, 0, 0.5, 1), (0.5, 0.5, 0, 1),
                  (0.5, 0, 0, 1), (0, 0, 0.5, 1), (0, 1, 1, 1), (1, 0, 1, 1))


def draw_bounding_boxes(images: TensorLike, boxes: TensorLike, colors: TensorLike | None = None,
                        name=None) -> Tensor:
    """``images`` (batch, height, width, depth) with depth 1, 3 or 4; ``boxes`` (batch, num_boxes, 4) rows
    [y_min, x_min, y_max, x_max] in [0, 1] (y maps to row int(y * (height - 1))); box i drawn in
    ``colors[i % len(colors)]`` (rows of at least depth values; TensorFlow's palette when None or empty).
    Inverted boxes and boxes wholly outside the image are skipped; edges outside the image are not drawn."""
    fn = "tf.image.draw_bounding_boxes"
    canvas = np.array(images.numpy() if isinstance(images, Tensor) else images)
    if canvas.dtype.kind != "f":
        canvas = canvas.astype(np.float32)
    if canvas.ndim != 4:
        raise invalid_argument(f"{fn}: The rank of the images should be 4, got shape {list(canvas.shape)}")
    batch, height, width, depth = canvas.shape
    if depth not in (1, 3, 4):
        raise invalid_argument(f"{fn}: Channel depth should be either 1 (GRY), 3 (RGB), or 4 (RGBA), got {depth}")
    boxes_a = np.asarray(boxes.numpy() if isinstance(boxes, Tensor) else boxes, dtype=np.float32)
    if boxes_a.ndim != 3 or boxes_a.shape[0] != batch or boxes_a.shape[2] != 4:
        raise invalid_argument(f"{fn}: boxes must be 3-D [batch, num_bounding_boxes, 4] with batch {batch}, got shape "
                               f"{list(boxes_a.shape)}")
    table = np.asarray(colors.numpy() if isinstance(colors, Tensor) else colors if colors is not None else [],
                       dtype=np.float64)
    if table.size == 0:
        table = np.asarray(DEFAULT_COLORS)
    if table.ndim != 2 or table.shape[1] < depth:
        raise invalid_argument(f"{fn}: colors must be 2-D [num_colors, channels] with at least {depth} channels, got "
                               f"shape {list(table.shape)}")
    for b in range(batch):
        for k, (y_min, x_min, y_max, x_max) in enumerate(boxes_a[b]):
            # C++'s float-to-int64 cast truncates toward zero
            top, bottom = int(y_min * (height - 1)), int(y_max * (height - 1))
            left, right = int(x_min * (width - 1)), int(x_max * (width - 1))
            if top > bottom or left > right or top >= height or bottom < 0 or left >= width or right < 0:
                continue
            color = table[k % len(table), :depth]
            rows = slice(max(top, 0), min(bottom, height - 1) + 1)
            cols = slice(max(left, 0), min(right, width - 1) + 1)
            if top >= 0:
                canvas[b, top, cols] = color
            if bottom < height:
                canvas[b, bottom, cols] = color
            if left >= 0:
                canvas[b, rows, left] = color
            if right < width:
                canvas[b, rows, right] = color
    return as_tensor(canvas)


__all__ = ["draw_bounding_boxes"]
