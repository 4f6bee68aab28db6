"""``keras.layers.Discretization``: continuous values to the index of the range (bin) they fall in, with the bins
given (``bin_boundaries``) or learnt as approximate quantiles by ``adapt`` (``num_bins``, ``epsilon``), as Keras 3.

``bin_boundaries=[0., 1., 2.]`` makes the bins ``(-inf, 0)``, ``[0, 1)``, ``[1, 2)`` and ``[2, inf)``. ``adapt``
keeps Keras's quantile summary (sorted values with weights, compressed to about ``1 / epsilon`` entries and merged
batch by batch), so the boundaries it learns are Keras's.

>>> import numpy as np
>>> x = np.array([[-1.5, 1.0, 3.4, .5], [0.0, 3.0, 1.3, 0.0]])
>>> Discretization(bin_boundaries=[0., 1., 2.])(x).numpy()
array([[0, 2, 3, 1],
       [1, 3, 2, 1]], dtype=int32)
>>> layer = Discretization(num_bins=4, epsilon=0.01)
>>> layer.adapt(x)
>>> layer(x).numpy()
array([[0, 2, 3, 2],
       [1, 3, 3, 1]], dtype=int32)
"""
from __future__ import annotations

import numpy as np

from chainrule import backend
from chainrule.engine.tensor import Tensor
from chainrule.keras.layers.base import Layer
from chainrule.keras.layers.preprocessing.index_lookup import adapt_batches, encode_categorical

_OUTPUT_MODES = ("int", "one_hot", "multi_hot", "count")


class Discretization(Layer):
    """Bucket values by ranges: ``bin_boundaries`` (a sorted list), or ``num_bins`` learnt by ``adapt`` within
    ``epsilon``; ``output_mode`` 'int' (the bin indices, int32), 'one_hot', 'multi_hot' or 'count'."""

    _traceable = False  # it computes in NumPy: a traced step runs it eagerly

    def __init__(self, bin_boundaries=None, num_bins: int | None = None, epsilon: float = 0.01,
                 output_mode: str = "int", sparse: bool = False, dtype=None, name: str | None = None, **kwargs):
        super().__init__(name=name, dtype=dtype, **kwargs)
        if sparse:
            raise ValueError(f"`sparse=True` cannot be used with backend chainrule (it has no sparse tensors; "
                             f"received sparse={sparse} and output_mode={output_mode!r})")
        if not isinstance(output_mode, str) or output_mode not in _OUTPUT_MODES:
            raise ValueError(f"Unknown value for `output_mode` argument of Discretization. Allowed values are: "
                             f"{_OUTPUT_MODES}. Received: output_mode={output_mode}")
        if num_bins is not None and num_bins < 0:
            raise ValueError(f"`num_bins` must be greater than or equal to 0. Received: `num_bins={num_bins}`")
        if num_bins is not None and bin_boundaries is not None:
            raise ValueError(f"Both `num_bins` and `bin_boundaries` should not be set. Received: "
                             f"`num_bins={num_bins}` and `bin_boundaries={bin_boundaries}`")
        if num_bins is None and bin_boundaries is None:
            raise ValueError("You need to set either `num_bins` or `bin_boundaries`.")
        self.bin_boundaries = None if bin_boundaries is None else _boundaries(bin_boundaries, self.name)
        self.num_bins = num_bins
        self.epsilon = epsilon
        self.output_mode = output_mode
        self.sparse = False
        self.summary = None if self.bin_boundaries else np.array([[], []], dtype="float32")
        self.built = True

    @property
    def input_dtype(self) -> str:
        """Keras 3 reads its inputs as floatx."""
        return backend.floatx()

    @property
    def output_dtype(self) -> str:
        return "int32" if self.output_mode == "int" else self.compute_dtype

    # --- adapt ------------------------------------------------------------------------------------------------------
    def adapt(self, data, steps: int | None = None) -> None:
        """Learn ``num_bins`` quantile boundaries from ``data`` (an array, a Tensor, a batched Dataset or an iterable
        of batches; ``steps`` batches at most)."""
        if self.num_bins is None:
            raise ValueError("Cannot adapt a Discretization layer that has been initialized with `bin_boundaries`, "
                             "use `num_bins` instead.")
        self.reset_state()
        adapt_batches(self, data, steps, lambda batch, column: self.update_state(batch))
        self.finalize_state()

    def update_state(self, data) -> None:
        """Merge a batch's values into the quantile summary."""
        values = np.array(data.numpy() if isinstance(data, Tensor) else data).astype("float32")
        self.summary = merge_summaries(summarize(values, self.epsilon), self.summary, self.epsilon)

    def finalize_state(self) -> None:
        if self.num_bins is not None:
            self.bin_boundaries = get_bin_boundaries(self.summary, self.num_bins).tolist()

    def reset_state(self) -> None:
        if self.num_bins is not None:
            self.summary = np.array([[], []], dtype="float32")

    # --- call -------------------------------------------------------------------------------------------------------
    def call(self, inputs):
        if self.bin_boundaries is None:
            raise ValueError("You need to either pass the `bin_boundaries` argument at construction time or call "
                             "`adapt(dataset)` before you can start using the `Discretization` layer.")
        values = inputs.numpy() if isinstance(inputs, Tensor) else np.asarray(inputs)
        indices = np.digitize(values, self.bin_boundaries)
        if self.output_mode == "int":
            return Tensor._wrap(backend.xp.asarray(indices.astype(np.int32)))
        depth = len(self.bin_boundaries) + 1
        return Tensor._wrap(backend.xp.asarray(encode_categorical(indices, self.output_mode, depth,
                                                                  self.output_dtype)))

    def compute_output_shape(self, input_shape):
        if self.output_mode == "int":
            return tuple(input_shape)
        depth = len(self.bin_boundaries) + 1 if self.bin_boundaries is not None else self.num_bins
        if self.output_mode == "one_hot":
            if input_shape and input_shape[-1] == 1 and len(input_shape) > 1:
                return tuple(input_shape[:-1]) + (depth,)
            return tuple(input_shape) + (depth,)
        if input_shape and len(input_shape) >= 2:
            return (input_shape[0],) + tuple(input_shape[2:]) + (depth,)
        return (depth,)

    def get_config(self) -> dict:
        return {"bin_boundaries": self.bin_boundaries, "num_bins": self.num_bins, "epsilon": self.epsilon,
                "output_mode": self.output_mode, "sparse": self.sparse, "name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> "Discretization":
        config = dict(config)
        if config.get("bin_boundaries") is not None and config.get("num_bins") is not None:
            # an adapted layer's config has both, which the constructor refuses: the boundaries are set after
            boundaries = config.pop("bin_boundaries")
            layer = cls(**config)
            layer.bin_boundaries = _boundaries(boundaries, layer.name)
            return layer
        return cls(**config)


def _boundaries(values, name: str) -> list:
    """``bin_boundaries`` as a list of floats, checked to be sorted (np.digitize needs them monotonic)."""
    bounds = np.asarray(values, dtype="float64").ravel()
    if bounds.size > 1 and np.any(np.diff(bounds) < 0):
        raise ValueError(f"Layer '{name}' (Discretization): `bin_boundaries` must be sorted in increasing order. "
                         f"Received: bin_boundaries={list(values)}")
    return bounds.tolist()


# --- Keras's quantile summary: row 0 the values, row 1 their weights (counts) ----------------------------------------
def summarize(values: np.ndarray, epsilon: float) -> np.ndarray:
    """Every ``len(values) * epsilon``-th sorted value, each weighted by that step (all of them when fewer)."""
    values = np.sort(np.reshape(values, [-1]))
    step = max(np.size(values) / (1.0 / epsilon), 1)
    boundaries = values[int(step - 1)::int(step)]
    return np.stack([boundaries, np.ones_like(boundaries) * step])


def merge_summaries(prev_summary: np.ndarray, next_summary: np.ndarray, epsilon: float) -> np.ndarray:
    """The two summaries sorted together by value, compressed to ``epsilon``."""
    merged = np.concatenate((prev_summary, next_summary), axis=1)
    merged = np.take(merged, np.argsort(merged[0]), axis=1)
    return compress_summary(merged, epsilon)


def get_bin_boundaries(summary: np.ndarray, num_bins: int) -> np.ndarray:
    return compress_summary(summary, 1.0 / num_bins)[0, :-1]


def compress_summary(summary: np.ndarray, epsilon: float) -> np.ndarray:
    """About ``1 / epsilon`` entries at evenly spaced cumulative weights, interpolated from ``summary``."""
    if summary.shape[1] * epsilon < 1:
        return summary
    percents = epsilon + np.arange(0.0, 1.0, epsilon)
    cum_weights = summary[1].cumsum()
    cum_weight_percents = cum_weights / cum_weights[-1]
    new_bins = np.interp(percents, cum_weight_percents, summary[0])
    cum_weights = np.interp(percents, cum_weight_percents, cum_weights)
    new_weights = cum_weights - np.concatenate((np.array([0]), cum_weights[:-1]))
    return np.stack((new_bins, new_weights)).astype("float32")


__all__ = ["Discretization"]
