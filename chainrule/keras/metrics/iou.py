"""Intersection-over-union metrics (Keras 3's ``iou_metrics``): a confusion matrix of class ids accumulated over
batches, and ``TP / (TP + FP + FN)`` per class, averaged over the target classes that occur.

``IoU`` and ``MeanIoU`` take class ids (or, with ``sparse_y_true``/``sparse_y_pred`` False, scores whose argmax
along ``axis`` is the class); ``OneHotIoU``/``OneHotMeanIoU`` take one-hot labels; ``BinaryIoU`` thresholds
probabilities into classes 0 and 1. Labels or predictions outside ``[0, num_classes)``, and labels equal to
``ignore_class``, are left out.

>>> m = MeanIoU(num_classes=2)
>>> m.update_state([0, 0, 1, 1], [0, 1, 0, 1])
>>> round(float(m.result()), 6)  # Keras's documented example
0.333333
"""
from __future__ import annotations

import numpy as np

from chainrule import backend
from chainrule.engine.tensor import Tensor
from chainrule.keras.losses import EPSILON
from chainrule.keras.metrics.confusion import confusion_matrix
from chainrule.keras.metrics.metric import Metric
from chainrule.keras.metrics.metrics_utils import on_host, to_state_device
from chainrule.keras.metrics.reduction import STATE_DTYPE


class _IoUBase(Metric):
    """The confusion matrix ``total_cm`` of (true class, predicted class), weighted by ``sample_weight``."""

    def __init__(self, num_classes: int, name: str | None = None, dtype=None, ignore_class: int | None = None,
                 sparse_y_true: bool = True, sparse_y_pred: bool = True, axis: int = -1):
        super().__init__(name=name, dtype=dtype)
        self.num_classes, self.ignore_class, self.axis = int(num_classes), ignore_class, axis
        self.sparse_y_true, self.sparse_y_pred = sparse_y_true, sparse_y_pred
        self.total_cm = self.add_variable((self.num_classes, self.num_classes), "zeros", dtype=STATE_DTYPE,
                                          name="total_confusion_matrix")

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        y_true, y_pred, *weight = to_state_device(y_true, y_pred, *(() if sample_weight is None else (sample_weight,)))
        xp = backend.array_namespace(y_true, y_pred)
        if not self.sparse_y_true:
            y_true = xp.argmax(y_true, axis=self.axis)
        if not self.sparse_y_pred:
            y_pred = xp.argmax(y_pred, axis=self.axis)
        y_true, y_pred = (xp.astype(xp.reshape(y, (-1,)), np.int64) for y in (y_true, y_pred))
        if y_true.shape != y_pred.shape:
            raise ValueError(f"{self.name}: y_true has {y_true.shape[0]} entries, y_pred {y_pred.shape[0]}; they "
                             f"must match")
        weight = xp.ones(y_true.shape, dtype=np.float64) if sample_weight is None else \
            xp.broadcast_to(xp.reshape(xp.astype(weight[0], np.float64), (-1,)), y_true.shape)
        counted = (y_true >= 0) & (y_true < self.num_classes) & (y_pred >= 0) & (y_pred < self.num_classes)
        if self.ignore_class is not None:
            counted &= y_true != self.ignore_class
        if type(y_true) is np.ndarray:
            self.total_cm.data += confusion_matrix(np.where(counted, y_true, 0), np.where(counted, y_pred, 0),
                                                   self.num_classes, np.where(counted, weight, 0.0),
                                                   dtype=np.float64).numpy()
            return
        # on a device: the matrix as a product of the one-hot true classes (weighted) and predicted classes, no
        # histogram (the array API has no bincount) and no copy to the host
        classes = xp.arange(self.num_classes, dtype=np.int64)
        true_hot = xp.astype(y_true[:, None] == classes, np.float64) * xp.where(counted, weight, 0.0)[:, None]
        self.total_cm.data += xp.matmul(xp.matrix_transpose(true_hot), xp.astype(y_pred[:, None] == classes,
                                                                                 np.float64))

    def _iou(self, target_class_ids) -> Tensor:
        """The mean IoU of ``target_class_ids`` over those whose union is not empty."""
        cm = on_host(self.total_cm)[0]  # a few divisions and a mask: read once per result
        true_positives = np.diag(cm)
        union = cm.sum(axis=0) + cm.sum(axis=1) - true_positives
        ids = np.asarray(target_class_ids, dtype=np.int64)
        true_positives, union = true_positives[ids], union[ids]
        valid = union > 1e-9
        iou = np.where(valid, true_positives / (union + EPSILON), 0.0)
        return self._value(iou.sum() / (valid.sum() + EPSILON))

    def get_config(self) -> dict:
        return {**super().get_config(), "num_classes": self.num_classes, "ignore_class": self.ignore_class,
                "sparse_y_true": self.sparse_y_true, "sparse_y_pred": self.sparse_y_pred, "axis": self.axis}


class IoU(_IoUBase):
    """The mean IoU of the classes in ``target_class_ids`` (one class alone for its own IoU)."""

    def __init__(self, num_classes: int, target_class_ids, name: str | None = None, dtype=None,
                 ignore_class: int | None = None, sparse_y_true: bool = True, sparse_y_pred: bool = True,
                 axis: int = -1):
        super().__init__(num_classes, name=name, dtype=dtype, ignore_class=ignore_class, sparse_y_true=sparse_y_true,
                         sparse_y_pred=sparse_y_pred, axis=axis)
        self.target_class_ids = list(target_class_ids)
        if max(self.target_class_ids) >= num_classes:
            raise ValueError(f"Target class id {max(self.target_class_ids)} is out of range, which is "
                             f"[0, {num_classes}).")

    def result(self) -> Tensor:
        return self._iou(self.target_class_ids)

    def get_config(self) -> dict:
        return {**super().get_config(), "target_class_ids": self.target_class_ids}


class MeanIoU(_IoUBase):
    """The mean IoU over all ``num_classes`` classes."""

    def result(self) -> Tensor:
        return self._iou(range(self.num_classes))


class BinaryIoU(IoU):
    """IoU of binary predictions: a probability of at least ``threshold`` is class 1, else class 0."""

    def __init__(self, target_class_ids=(0, 1), threshold: float = 0.5, name: str | None = None, dtype=None):
        super().__init__(num_classes=2, target_class_ids=target_class_ids, name=name, dtype=dtype)
        self.threshold = threshold

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        y_true, y_pred = to_state_device(y_true, y_pred)
        xp = backend.array_namespace(y_true, y_pred)
        super().update_state(y_true, xp.astype(xp.astype(y_pred, np.float32) >= self.threshold, np.int64),
                             sample_weight)

    def get_config(self) -> dict:
        return {"target_class_ids": self.target_class_ids, "threshold": self.threshold, "name": self.name,
                "dtype": self.dtype}


class OneHotIoU(IoU):
    """IoU of the ``target_class_ids`` for one-hot labels and predicted scores (argmax along ``axis``)."""

    def __init__(self, num_classes: int, target_class_ids, name: str | None = None, dtype=None,
                 ignore_class: int | None = None, sparse_y_pred: bool = False, axis: int = -1):
        super().__init__(num_classes, target_class_ids, name=name, dtype=dtype, ignore_class=ignore_class,
                         sparse_y_true=False, sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self) -> dict:
        config = super().get_config()
        del config["sparse_y_true"]
        return config


class OneHotMeanIoU(MeanIoU):
    """The mean IoU over all classes for one-hot labels and predicted scores (argmax along ``axis``)."""

    def __init__(self, num_classes: int, name: str | None = None, dtype=None, ignore_class: int | None = None,
                 sparse_y_pred: bool = False, axis: int = -1):
        super().__init__(num_classes, name=name, dtype=dtype, ignore_class=ignore_class, sparse_y_true=False,
                         sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self) -> dict:
        config = super().get_config()
        del config["sparse_y_true"]
        return config


__all__ = ["BinaryIoU", "IoU", "MeanIoU", "OneHotIoU", "OneHotMeanIoU"]
