"""``keras.layers.Hashing``: values to ``num_bins`` bins by a fixed hash of their text, as Keras 3 bins them.

Every value is hashed as a string (an integer as its decimal digits, a float first cast to int64) with FarmHash's
``Fingerprint64``, or with SipHash-2-4 keyed by ``salt`` when one is given: the functions TensorFlow's
``to_hash_bucket_fast`` / ``to_hash_bucket_strong`` use, so a value lands in the bin Keras gives it, on every run
and machine. With ``mask_value``, bin 0 is kept for it and the others hash into ``1..num_bins-1``.

>>> Hashing(num_bins=3)([["A"], ["B"], ["C"], ["D"], ["E"]]).numpy().ravel().tolist()
[1, 0, 1, 1, 2]
>>> Hashing(num_bins=3, salt=133)([["A"], ["B"], ["C"], ["D"], ["E"]]).numpy().ravel().tolist()
[0, 0, 2, 1, 0]
"""
from __future__ import annotations

import numpy as np

from chainrule.engine.tensor import Tensor
from chainrule.keras import backend as keras_backend
from chainrule.keras.layers.base import Layer
from chainrule.keras.layers.preprocessing.hash_functions import hash_bucket
from chainrule.keras.layers.preprocessing.index_lookup import encode_categorical
from chainrule.keras.layers.preprocessing.strings import as_string_array


class Hashing(Layer):
    """Hash strings or integers into ``num_bins`` bins; ``output_mode`` 'int', 'one_hot', 'multi_hot' or 'count'."""

    takes_text = True  # fit/evaluate/predict of a model that starts with it accept strings as x

    _traceable = False  # it computes in NumPy: a traced step runs it eagerly

    def __init__(self, num_bins, mask_value=None, salt=None, output_mode="int", sparse=False, **kwargs):
        if kwargs.get("dtype") is None:
            kwargs["dtype"] = "int64" if output_mode == "int" else keras_backend.floatx()
        super().__init__(**kwargs)
        if num_bins is None or num_bins <= 0:
            raise ValueError(f"The `num_bins` for `Hashing` cannot be `None` or non-positive values. Received: "
                             f"num_bins={num_bins}.")
        if output_mode == "int" and self.dtype not in ("int32", "int64"):
            raise ValueError(f"When `output_mode=\"int\"`, `dtype` should be an integer type, 'int32' or 'in64'. "
                             f"Received: dtype={kwargs['dtype']}")
        accepted = ("int", "one_hot", "multi_hot", "count")
        if output_mode not in accepted:
            raise ValueError(f"Invalid value for argument `output_mode`. Expected one of {accepted}. Received: "
                             f"output_mode={output_mode}")
        if sparse:
            raise ValueError("`sparse=True` can only be used with the TensorFlow backend (chainrule has no sparse "
                             "tensors).")
        self.num_bins, self.mask_value, self.output_mode, self.sparse = int(num_bins), mask_value, output_mode, False
        self.strong_hash = salt is not None
        self.salt = None
        if salt is not None:
            if isinstance(salt, (tuple, list)) and len(salt) == 2:
                self.salt = [int(s) for s in salt]
            elif isinstance(salt, int):
                self.salt = [salt, salt]
            else:
                raise ValueError(f"The `salt` argument for `Hashing` can only be a tuple of size 2 integers, or a "
                                 f"single integer. Received: salt={salt}.")
        self.built = True

    def _convert(self, inputs):
        return inputs  # call() converts: strings and ints must not become float Tensors

    def call(self, inputs):
        values = self._as_values(inputs)
        if self.output_mode == "one_hot" and values.ndim > 0 and values.shape[-1] == 1:
            values = values[..., 0]
        bins = self._hash_values_to_bins(values)
        if self.output_mode == "int":
            return Tensor._wrap(bins.astype(self.dtype))
        return Tensor._wrap(encode_categorical(bins, self.output_mode, self.num_bins, self.dtype))

    def _as_values(self, inputs) -> np.ndarray:
        array = np.asarray(inputs.numpy() if isinstance(inputs, Tensor) else inputs)
        if array.dtype.kind in "iub":
            return array.astype(np.int64)
        if array.dtype.kind == "f":
            return array.astype(np.int64)  # Keras casts floats to int64 before hashing them
        return as_string_array(array, f"Layer '{self.name}' (Hashing)")

    def _hash_values_to_bins(self, values: np.ndarray) -> np.ndarray:
        """The bin of each value; ``mask_value`` takes bin 0 and the others ``1..num_bins-1``."""
        bins = self.num_bins
        mask = None
        if self.mask_value is not None and bins > 1:
            bins -= 1
            mask = values == self.mask_value
        unique, inverse = np.unique(values.ravel(), return_inverse=True)  # each distinct value hashed once
        hashed = np.array([hash_bucket(str(v), bins, self.salt) for v in unique.tolist()], dtype=np.int64)
        out = hashed[inverse].reshape(values.shape) if values.size else np.zeros(values.shape, np.int64)
        if mask is not None:
            out = np.where(mask, 0, out + 1)
        return out

    def compute_output_shape(self, input_shape):
        if self.output_mode == "int":
            return tuple(input_shape)
        if len(input_shape) == 0:
            return (self.num_bins,)
        return tuple(input_shape[:-1]) + (self.num_bins,)

    def get_config(self) -> dict:
        return {**super().get_config(), "num_bins": self.num_bins, "salt": self.salt, "mask_value": self.mask_value,
                "output_mode": self.output_mode, "sparse": self.sparse}
