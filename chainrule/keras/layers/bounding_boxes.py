"""MaxNumBoundingBoxes (``keras.layers.MaxNumBoundingBoxes``): give every image of a batch exactly ``max_number``
bounding boxes (the extra ones dropped, missing ones padded with ``fill_value``), so that batches of detection data
stack; images, labels and segmentation masks pass unchanged.

>>> import numpy as np
>>> data = {"images": np.zeros((1, 8, 8, 3)), "bounding_boxes": {"boxes": np.ones((1, 2, 4)),
...                                                               "labels": np.array([[1, 2]])}}
>>> out = MaxNumBoundingBoxes(max_number=3)(data)
>>> out["bounding_boxes"]["labels"].tolist()
[[1, 2, -1]]
"""
from __future__ import annotations

import numbers

import numpy as np

from chainrule.engine.tensor import Tensor
from chainrule.keras.layers.base import Layer


def _padded(values: np.ndarray, count: int, fill_value: int) -> np.ndarray:
    """The first ``count`` items along axis 1, padded with ``fill_value`` up to ``count``."""
    kept = values[:, :count]
    widths = [(0, 0), (0, count - kept.shape[1])] + [(0, 0)] * (values.ndim - 2)
    return np.pad(kept, widths, constant_values=fill_value)


class MaxNumBoundingBoxes(Layer):
    """``max_number`` boxes (batch, max_number, 4) and labels (batch, max_number) per image."""

    _traceable = False  # it computes in NumPy: a traced step runs it eagerly

    def __init__(self, max_number: int, fill_value: int = -1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(max_number, bool) or not isinstance(max_number, numbers.Integral) or max_number < 1:
            raise ValueError(f"MaxNumBoundingBoxes: `max_number` must be a positive int. Received: "
                             f"max_number={max_number!r}")
        self.max_number, self.fill_value = int(max_number), int(fill_value)
        self.built = True

    def _convert(self, inputs):
        return inputs  # a dict of images and boxes, converted in call

    def call(self, inputs, training=True):
        if not isinstance(inputs, dict) or "bounding_boxes" not in inputs:
            return inputs  # images alone: nothing to change
        boxes = dict(inputs["bounding_boxes"])
        extra = set(boxes) - {"boxes", "labels"}
        if extra:
            raise KeyError(f"There are unsupported keys in `bounding_boxes`: {sorted(extra)}. Only `boxes` and "
                           f"`labels` are supported.")
        arrays = {key: np.asarray(value.numpy() if isinstance(value, Tensor) else value)
                  for key, value in boxes.items()}
        if arrays["boxes"].ndim != 3 or arrays["boxes"].shape[-1] != 4 or arrays["labels"].shape != \
                arrays["boxes"].shape[:2]:
            raise ValueError(f"MaxNumBoundingBoxes: expected boxes of shape (batch, num_boxes, 4) and labels of "
                             f"shape (batch, num_boxes). Received: boxes.shape={arrays['boxes'].shape}, "
                             f"labels.shape={arrays['labels'].shape}")
        padded = {key: _padded(value, self.max_number, self.fill_value) for key, value in arrays.items()}
        return {**inputs, "bounding_boxes": padded}

    def compute_output_shape(self, input_shape):
        if isinstance(input_shape, dict) and "bounding_boxes" in input_shape:
            shapes = dict(input_shape["bounding_boxes"])
            batch = tuple(shapes["boxes"])[0]
            shapes["boxes"], shapes["labels"] = (batch, self.max_number, 4), (batch, self.max_number)
            return {**input_shape, "bounding_boxes": shapes}
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "max_number": self.max_number, "fill_value": self.fill_value}
