"""What the metrics share: inputs as NumPy arrays, labels and predictions brought to the same rank, weights
broadcast to the predictions, and division that gives 0 where the divisor is 0 (Keras's ``metrics_utils``)."""
from __future__ import annotations

import numpy as np

from chainrule import backend
from chainrule.engine.tensor import Tensor, TensorLike
from chainrule.keras.losses import same_rank_shapes


def as_array(x: TensorLike) -> np.ndarray:
    """The values as a NumPy array (a Tensor's data without copying; off the GPU if need be)."""
    if isinstance(x, Tensor):
        return x.numpy()
    return x if isinstance(x, np.ndarray) else np.asarray(x)


def as_values(*xs: TensorLike) -> list:
    """The values as arrays where they live: a Tensor's data on its device, so that a metric accumulating on a GPU
    reads nothing back; when any of them is on a device, the others are copied there (NumPy arrays stay NumPy).

    >>> [type(a).__name__ for a in as_values([1, 2], Tensor([3.0]))]
    ['ndarray', 'ndarray']
    """
    values = [x.data if isinstance(x, Tensor) else x if backend.is_array(x) else np.asarray(x) for x in xs]
    if all(type(v) is np.ndarray for v in values):
        return values
    return [backend.to_device(v) for v in values]


def to_state_device(*xs: TensorLike) -> list:
    """The values as arrays on the current backend, where a metric's state variables live: a NumPy array (a list
    given to ``update_state``) is copied over once when the backend is a device's; nothing moves on NumPy.

    >>> [type(a).__name__ for a in to_state_device([1, 2], np.ones(2))]
    ['ndarray', 'ndarray']
    """
    return [backend.to_device(v) for v in as_values(*xs)]


def on_host(*states) -> list[np.ndarray]:
    """Metric state (Variables, arrays or numbers) as NumPy arrays, for a result's few host-side steps (searches,
    branches, divisions by zero): one copy per result off NumPy, none on it.

    >>> on_host(np.ones(2), 0.0)
    [array([1., 1.]), array(0.)]
    """
    return [backend.to_host(s.data if isinstance(s, Tensor) else s) if backend.is_array(getattr(s, "data", s))
            else np.asarray(s) for s in states]


def same_rank(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    true_shape, pred_shape = same_rank_shapes(y_true.shape, y_pred.shape)
    xp = backend.array_namespace(y_true, y_pred)
    return xp.reshape(y_true, true_shape), xp.reshape(y_pred, pred_shape)


def as_float32(mask):
    """A comparison's booleans as float32 0/1 values, on their device."""
    return backend.array_namespace(mask).astype(mask, np.float32)


def divide_no_nan(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return np.divide(a, b, out=np.zeros(np.broadcast_shapes(a.shape, b.shape)), where=b != 0)


def broadcast_weight(sample_weight, shape: tuple) -> np.ndarray | None:
    """``sample_weight`` (per sample, or shaped like the predictions) broadcast to ``shape``."""
    if sample_weight is None:
        return None
    weight = to_state_device(sample_weight)[0]
    xp = backend.array_namespace(weight)
    weight, given = xp.astype(weight, np.float64), weight.shape
    shape_w, _ = same_rank_shapes(weight.shape, shape)
    weight = xp.reshape(weight, shape_w)
    weight = xp.reshape(weight, weight.shape + (1,) * (len(shape) - weight.ndim))
    try:
        return xp.broadcast_to(weight, shape)
    except ValueError:
        raise ValueError(f"sample_weight of shape {tuple(given)} does not match predictions of shape "
                         f"{shape}") from None
