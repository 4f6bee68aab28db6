"""``IndexLookup``: the vocabulary table behind ``StringLookup``, ``IntegerLookup`` and ``TextVectorization``
(Keras 3's ``keras/src/layers/preprocessing/index_lookup.py``), on NumPy arrays instead of TensorFlow tables.

The indices are laid out as Keras lays them out: ``[mask]`` (index 0, in ``output_mode='int'`` when a
``mask_token`` is set), then ``num_oov_indices`` OOV slots, then the vocabulary. An unknown token takes the single
OOV index; with several, an integer goes to ``value % num_oov_indices`` and a string to its FarmHash
``Fingerprint64`` bucket (SipHash-2-4 with a ``salt``), the buckets TensorFlow's lookup gives. ``adapt`` orders
the tokens by count, ties broken by the token in descending order, and keeps ``max_tokens``; in ``tf_idf`` mode
it learns ``idf = log(1 + documents / (1 + documents holding the token))``. The non-``int`` modes encode the last
axis as ``one_hot``/``multi_hot``/``count``/``tf_idf`` vectors of the vocabulary's size (``floatx``, the dtype
Keras's symbolic output declares). These layers compute in NumPy, outside the differentiable ops, so a traced
training step runs them eagerly.

The vocabulary is saved in the layer's config (``vocabulary``, and ``idf_weights`` in ``tf_idf`` mode), so a model
file carries it; the hidden ``has_input_vocabulary`` records whether it was given or adapted.
"""
from __future__ import annotations

import collections
import itertools
import math
import os
from collections.abc import Iterable

import numpy as np

from chainrule.engine.tensor import Tensor
from chainrule.keras import backend as keras_backend
from chainrule.keras.layers.base import Layer, _context as _call_context
from chainrule.keras.layers.preprocessing.hash_functions import hash_bucket
from chainrule.keras.layers.preprocessing.strings import as_string_array
from chainrule.utils.progbar import Progbar

OUTPUT_MODES = ("int", "one_hot", "multi_hot", "count", "tf_idf")
_DROPPED = -1  # the index a mask token takes outside 'int' mode: no bin counts it


def check_choice(value, allowed: tuple, caller: str, argument: str, allow_none: bool = False,
                 allow_callables: bool = False) -> None:
    """Keras's ``validate_string_arg``: ``value`` must be one of ``allowed`` (or None / a callable when allowed)."""
    if value is None and allow_none or callable(value) and allow_callables or value in allowed:
        return
    extra = (" None," if allow_none else "") + (" a callable," if allow_callables else "")
    raise ValueError(f"The `{argument}` argument of layer {caller} received an invalid value `{value}`. Allowed "
                     f"values are:{extra} or one of {list(allowed)}.")


def output_mode_alias(output_mode):
    """Keras's deprecated names for two output modes."""
    return {"binary": "multi_hot", "tf-idf": "tf_idf"}.get(output_mode, output_mode)


def listify(value):
    """Arrays and tensors as lists, for a JSON config."""
    if isinstance(value, Tensor):
        value = value.numpy()
    return value.tolist() if isinstance(value, np.ndarray) else value


def is_dataset_like(data) -> bool:
    """A tf.data Dataset, a generator or another iterable of batches (not one array, list or tensor)."""
    return hasattr(data, "__iter__") and not isinstance(data, (list, tuple, np.ndarray, Tensor, str, bytes))


def adapt_batches(layer, data, steps: int | None, update) -> None:
    """Feed ``data`` to ``update`` as Keras's ``adapt`` does: a Dataset or an iterable batch by batch (at most
    ``steps``), with a progress bar; anything else as one batch, a 1-D batch as a column."""
    if not is_dataset_like(data):
        if steps is not None:
            raise ValueError(f"Layer '{layer.name}': `steps` is only supported with a Dataset or another iterable of "
                             f"batches. Received: steps={steps} with data of type {type(data).__name__}")
        update(data, column=True)
        return
    if steps is None and hasattr(data, "cardinality"):
        cardinality = int(np.asarray(listify(data.cardinality())))
        steps = cardinality if cardinality >= 0 else None
    progbar = Progbar(target=steps, unit_name="step")
    seen = 0
    for seen, batch in enumerate(itertools.islice(data, steps), start=1):
        update(batch, column=False)
        progbar.update(seen, finalize=False)
    progbar.update(seen, finalize=True)


class IndexLookup(Layer):
    """Maps tokens to indices (or back, with ``invert``) through a vocabulary given or learnt by ``adapt``."""

    _traceable = False  # it computes in NumPy: a traced step runs it eagerly

    def __init__(self, max_tokens, num_oov_indices, mask_token, oov_token, vocabulary_dtype, vocabulary=None,
                 idf_weights=None, invert=False, output_mode="int", sparse=False, pad_to_max_tokens=False,
                 oov_method="floormod", name=None, salt=None, **kwargs):
        if max_tokens is not None and max_tokens <= 1:
            raise ValueError(f"If set, `max_tokens` must be greater than 1. Received: max_tokens={max_tokens}")
        if pad_to_max_tokens and max_tokens is None:
            raise ValueError(f"If pad_to_max_tokens is True, must set `max_tokens`. Received: "
                             f"max_tokens={max_tokens}")
        if num_oov_indices < 0:
            raise ValueError(f"`num_oov_indices` must be greater than or equal to 0. Received: "
                             f"num_oov_indices={num_oov_indices}")
        check_choice(oov_method, ("floormod", "farmhash"), type(self).__name__, "oov_method")
        if salt is not None:
            if vocabulary_dtype != "string" and oov_method != "farmhash":
                raise ValueError(f"`salt` can only be used when `oov_method='farmhash'`. Received: "
                                 f"oov_method={oov_method}")
            if isinstance(salt, (tuple, list)) and len(salt) == 2:
                salt = [int(s) for s in salt]
            elif isinstance(salt, int):
                salt = [salt, salt]
            else:
                raise ValueError(f"The `salt` argument for `IndexLookup` can only be a tuple of 2 integers, or a "
                                 f"single integer. Received: salt={salt}.")
        output_mode = output_mode_alias(output_mode)
        check_choice(output_mode, OUTPUT_MODES, type(self).__name__, "output_mode")
        if invert and output_mode != "int":
            raise ValueError(f"`output_mode` must be `'int'` when `invert` is true. Received: "
                             f"output_mode={output_mode}")
        if sparse:
            raise ValueError("`sparse=True` can only be used with the TensorFlow backend (chainrule has no sparse "
                             "tensors).")
        if idf_weights is not None and output_mode != "tf_idf":
            raise ValueError(f"`idf_weights` should only be set if `output_mode` is `'tf_idf'`. Received: "
                             f"idf_weights={idf_weights} and output_mode={output_mode}")
        frozen_size = kwargs.pop("vocabulary_size", None)
        self._has_input_vocabulary = kwargs.pop("has_input_vocabulary", vocabulary is not None)
        kwargs.pop("trainable", None)
        kwargs.pop("dtype", None)
        if kwargs:
            raise ValueError(f"Unrecognized keyword argument(s): {kwargs}")
        super().__init__(name=name, trainable=False)
        self.invert, self.max_tokens, self.num_oov_indices = bool(invert), max_tokens, int(num_oov_indices)
        self.mask_token, self.oov_token = mask_token, oov_token
        self.output_mode, self.sparse, self.pad_to_max_tokens = output_mode, False, bool(pad_to_max_tokens)
        self.vocabulary_dtype, self.oov_method, self.salt = vocabulary_dtype, oov_method, salt
        self.input_vocabulary = vocabulary if not isinstance(vocabulary, str) else None
        self.input_idf_weights = idf_weights
        self._frozen_vocab_size = frozen_size
        self._tokens: list = []
        self._index: dict = {}
        self.idf_weights = None
        self.reset_state()
        if output_mode == "tf_idf" and self._has_input_vocabulary and idf_weights is None:
            raise ValueError("When specifying the `vocabulary` argument, in TF-IDF output mode, the `idf_weights` "
                             "argument must also be provided.")
        if vocabulary is not None:
            self.set_vocabulary(vocabulary, idf_weights)
        self.built = True

    # --- the index layout ---------------------------------------------------------------------------------------
    def _oov_start_index(self) -> int:
        return 1 if self.mask_token is not None and self.output_mode == "int" else 0

    def _token_start_index(self) -> int:
        return self._oov_start_index() + self.num_oov_indices

    def vocabulary_size(self) -> int:
        """The size of the vocabulary, mask and OOV indices included."""
        return self._token_start_index() + len(self._tokens)

    def get_vocabulary(self, include_special_tokens: bool = True) -> list:
        """The vocabulary, a term's position its index (with the mask and OOV tokens unless told otherwise)."""
        specials = [self.mask_token] * self._oov_start_index() + [self.oov_token] * self.num_oov_indices
        vocabulary = specials + list(self._tokens)
        return vocabulary if include_special_tokens else vocabulary[self._token_start_index():]

    def _record_vocabulary_size(self) -> None:
        if self.output_mode != "int" and not self.pad_to_max_tokens and self._frozen_vocab_size is not None \
                and self.vocabulary_size() != self._frozen_vocab_size:
            raise RuntimeError(f"When using `output_mode={self.output_mode}` and `pad_to_max_tokens=False`, the "
                               f"vocabulary size cannot be changed after the layer is called. Old vocab size is "
                               f"{self._frozen_vocab_size}, new vocab size is {self.vocabulary_size()}")
        self._frozen_vocab_size = self.vocabulary_size()

    # --- tokens in, as arrays -----------------------------------------------------------------------------------
    def _as_keys(self, value) -> np.ndarray:
        """Inputs of the forward lookup: strings, or int64 for an IntegerLookup."""
        if self.vocabulary_dtype == "string":
            return as_string_array(value, f"Layer '{self.name}' ({type(self).__name__})")
        return self._integers(value, "integer inputs (vocabulary_dtype='int64')")

    def _as_indices(self, value) -> np.ndarray:
        return self._integers(value, "integer indices (invert=True)")

    def _integers(self, value, what: str) -> np.ndarray:
        array = np.asarray(value.numpy() if isinstance(value, Tensor) else value)
        if array.dtype.kind not in "iub":
            raise TypeError(f"Layer '{self.name}' ({type(self).__name__}) expects {what}; received an array of dtype "
                            f"{array.dtype}")
        return array.astype(np.int64)

    def _vocabulary_array(self, values) -> np.ndarray:
        if isinstance(values, Tensor):
            values = values.numpy()
        if self.vocabulary_dtype == "string":
            return as_string_array(list(values) if isinstance(values, tuple) else values,
                                   f"Layer '{self.name}' vocabulary")
        return np.asarray(values, dtype=np.int64)

    def _convert(self, inputs):
        return inputs  # call() converts: strings and ints must not become float Tensors

    # --- setting the vocabulary ---------------------------------------------------------------------------------
    def set_vocabulary(self, vocabulary, idf_weights=None) -> None:
        """Set the vocabulary (a list, array, tensor or the path of a file of one term per line) and, in
        ``tf_idf`` mode, the idf weights; special tokens may lead the vocabulary, in their order."""
        if self.output_mode == "tf_idf":
            if idf_weights is None:
                raise ValueError("`idf_weights` must be set if output_mode is 'tf_idf'.")
        elif idf_weights is not None:
            raise ValueError(f"`idf_weights` should only be set if output_mode is `'tf_idf'`. Received: "
                             f"output_mode={self.output_mode} and idf_weights={idf_weights}")
        if isinstance(vocabulary, (str, os.PathLike)):
            if not os.path.exists(vocabulary):
                raise ValueError(f"Vocabulary file {vocabulary} does not exist.")
            if self.output_mode == "tf_idf":
                raise ValueError("output_mode `'tf_idf'` does not support loading a vocabulary from file.")
            with open(vocabulary, encoding="utf-8") as file:
                lines = file.read().splitlines()
            vocabulary = lines if self.vocabulary_dtype == "string" else [int(line) for line in lines]
        vocabulary = self._vocabulary_array(vocabulary)
        if vocabulary.size == 0:
            raise ValueError(f"Cannot set an empty vocabulary. Received: vocabulary={vocabulary}")
        if vocabulary.ndim != 1:
            raise ValueError(f"The vocabulary must be 1-D. Received shape {vocabulary.shape}")
        token_start = self._token_start_index()
        special_tokens = [self.mask_token] * self._oov_start_index() + [self.oov_token] * self.num_oov_indices
        found_special_tokens = vocabulary[:token_start].tolist() == special_tokens
        tokens = vocabulary[token_start:] if found_special_tokens else vocabulary
        tokens_list = tokens.tolist()
        repeated = [item for item, count in collections.Counter(tokens_list).items() if count > 1]
        if repeated:
            raise ValueError(f"The passed vocabulary has at least one repeated term. Please uniquify your dataset. "
                             f"The repeated terms are: {repeated}")
        for token, what, check in ((self.mask_token, "mask", True), (self.oov_token, "OOV", self.invert)):
            if check and token is not None and token in tokens_list:
                raise ValueError(f"Found reserved {what} token at unexpected location in `vocabulary`. Note that "
                                 f"passed `vocabulary` does not need to include the OOV and mask tokens. Either "
                                 f"remove all mask and OOV tokens, or include them only at the start of the "
                                 f"vocabulary in precisely this order: {special_tokens}. Received: "
                                 f"{'mask_token' if what == 'mask' else 'oov_token'}={token} at vocabulary index "
                                 f"{int(np.flatnonzero(vocabulary == token)[-1])}")
        if self.max_tokens is not None and token_start + len(tokens_list) > self.max_tokens:
            raise ValueError(f"Attempted to set a vocabulary larger than the maximum vocab size. Received vocabulary "
                             f"size is {token_start + len(tokens_list)}; `max_tokens` is {self.max_tokens}.")
        self._set_tokens(tokens_list)
        if self.output_mode == "tf_idf":
            weights = np.asarray(listify(idf_weights), dtype=np.float64)
            if weights.ndim != 1:
                raise ValueError(f"TF-IDF data must be a 1-index array. Received: type(idf_weights)="
                                 f"{type(idf_weights)}")
            if len(weights) != len(vocabulary):
                raise ValueError(f"`idf_weights` must be the same length as vocabulary. len(idf_weights) is "
                                 f"{len(weights)}; len(vocabulary) is {len(vocabulary)}")
            front = 0 if found_special_tokens else token_start  # no document counts for OOV: their mean stands in
            self._set_idf(np.concatenate([np.full(front, weights.mean() if weights.size else 0.0), weights]))

    def _set_tokens(self, tokens: list) -> None:
        self._tokens = list(tokens)
        start = self._token_start_index()
        self._index = {token: start + i for i, token in enumerate(self._tokens)}
        self._record_vocabulary_size()

    def _set_idf(self, weights: np.ndarray) -> None:
        if self.pad_to_max_tokens and self.max_tokens is not None:
            weights = np.pad(weights, (0, max(0, self.max_tokens - len(weights))))
        self.idf_weights = weights.astype(keras_backend.floatx())

    # --- adapt ----------------------------------------------------------------------------------------------------
    def reset_state(self) -> None:
        """Forget the counts of an unfinished adapt."""
        self._token_counts: collections.Counter = collections.Counter()
        self._document_counts: collections.Counter = collections.Counter()
        self._num_documents = 0

    def adapt(self, data, steps: int | None = None) -> None:
        """Learn the vocabulary (and idf weights) from ``data``: a list, an array, a tensor, a Dataset or another
        iterable of batches."""
        self.reset_state()
        adapt_batches(self, data, steps, lambda batch, column: self.update_state(batch))
        self.finalize_state()

    def update_state(self, data) -> None:
        """Count the tokens of one batch (each row one document)."""
        array = self._as_keys(data)
        if array.ndim == 0:
            array = array.reshape(1)
        if array.ndim == 1:
            array = array[None]  # a 1-D batch is one document
        self.update_rows(array.reshape(array.shape[0], -1).tolist())

    def update_rows(self, rows: Iterable[list]) -> None:
        """Count the tokens of documents given as lists of tokens (TextVectorization's split text)."""
        if self._has_input_vocabulary:
            raise ValueError(f"Cannot adapt layer '{self.name}' after setting a static vocabulary via `vocabulary` "
                             f"argument or `set_vocabulary()` method.")
        for row in rows:
            self._token_counts.update(row)
            if self.output_mode == "tf_idf":
                self._document_counts.update(set(row))
                self._num_documents += 1

    def finalize_state(self) -> None:
        """Turn the counts into the vocabulary: most frequent first, ties by the token, descending."""
        if self._has_input_vocabulary or not self._token_counts:
            self._record_vocabulary_size()
            return
        for special in (self.mask_token, self.oov_token):
            self._token_counts.pop(special, None)
        tokens = list(self._token_counts)
        counts = np.array([self._token_counts[t] for t in tokens], dtype=np.int64)
        order = np.lexsort((self._vocabulary_array(tokens), counts))[::-1]
        if self.max_tokens:
            order = order[:self.max_tokens - self._token_start_index()]
        kept = [tokens[i] for i in order]
        self._set_tokens(kept)
        if self.output_mode == "tf_idf":
            document_counts = np.array([self._document_counts[t] for t in kept], dtype=np.float64)
            idf = np.log1p(self._num_documents / (1.0 + document_counts))
            self._set_idf(np.concatenate([np.full(self._token_start_index(), idf.mean() if idf.size else 0.0), idf]))
        self.reset_state()

    # --- calling --------------------------------------------------------------------------------------------------
    def lookup(self, keys: np.ndarray) -> np.ndarray:
        """The int64 index of each key (same shape), masks and OOV as laid out above."""
        flat = keys.ravel().tolist()
        missing = -2
        indices = np.fromiter((self._index.get(key, missing) for key in flat), dtype=np.int64, count=len(flat))
        if self.mask_token is not None:
            mask_value = 0 if self.output_mode == "int" else _DROPPED
            indices[keys.ravel() == self.mask_token] = mask_value
        oov = np.flatnonzero(indices == missing)
        if oov.size:
            if self.num_oov_indices == 0 and not _call_context.probing:
                raise ValueError(f"When `num_oov_indices=0` all inputs should be in vocabulary, found OOV values "
                                 f"{sorted(set(flat[i] for i in oov))}, consider setting `num_oov_indices=1`.")
            start = self._oov_start_index()
            if self.num_oov_indices == 0:  # a symbolic call's probe: its values are made up, any valid index will do
                indices[oov] = self._token_start_index()
            elif self.num_oov_indices == 1:
                indices[oov] = start
            elif self.vocabulary_dtype != "string" and self.oov_method == "floormod":
                indices[oov] = start + np.mod(keys.ravel()[oov], self.num_oov_indices)
            else:
                indices[oov] = [start + hash_bucket(str(flat[i]), self.num_oov_indices, self.salt) for i in oov]
        return indices.reshape(keys.shape)

    def call(self, inputs):
        if hasattr(inputs, "flat_values") and hasattr(inputs, "with_flat_values"):  # a tf.RaggedTensor: its rows kept
            if self.output_mode == "int" or self.invert:
                return inputs.with_flat_values(self.call(inputs.flat_values))
            if self.output_mode == "one_hot" or inputs.ragged_rank != 1:
                raise ValueError(f"Layer '{self.name}' ({type(self).__name__}) takes a RaggedTensor with "
                                 f"output_mode='int', or 2-D ones (a batch of rows) with 'multi_hot', 'count' or "
                                 f"'tf_idf'; received output_mode={self.output_mode!r} and a RaggedTensor of rank "
                                 f"{1 + inputs.ragged_rank}")
            return Tensor._wrap(self.encode(self._padded_rows(inputs)))
        if self.invert:
            return Tensor._wrap(self._invert(self._as_indices(inputs)))
        return Tensor._wrap(self.encode(self.lookup(self._as_keys(inputs))))

    def _padded_rows(self, inputs) -> np.ndarray:
        """The indices of a 2-D RaggedTensor's rows, padded to the longest with an index no bin counts, so that each
        row encodes to one multi-hot/count vector (TensorFlow's StringLookup(output_mode='multi_hot') on ragged
        label lists)."""
        indices = self.lookup(self._as_keys(inputs.flat_values)).reshape(-1)
        lengths = np.asarray(inputs.row_lengths(), dtype=np.int64)
        padded = np.full((len(lengths), int(lengths.max(initial=0))), _DROPPED, dtype=np.int64)
        starts = np.cumsum(lengths) - lengths
        positions = np.arange(len(indices)) - np.repeat(starts, lengths)
        padded[np.repeat(np.arange(len(lengths)), lengths), positions] = indices
        return padded

    def _invert(self, indices: np.ndarray) -> np.ndarray:
        table = self._vocabulary_array(self.get_vocabulary())
        valid = (indices >= 0) & (indices < len(table))
        out = table[np.where(valid, indices, 0)] if len(table) else np.empty(indices.shape, table.dtype)
        if (~valid).any():
            out = np.where(valid, out, self.oov_token)
        return out

    def encode(self, indices: np.ndarray) -> np.ndarray:
        """The output of ``output_mode`` for looked-up indices."""
        if self.output_mode == "int":
            return indices
        if not self.pad_to_max_tokens and self._frozen_vocab_size is None:
            raise RuntimeError(f"When using `output_mode={self.output_mode}` and `pad_to_max_tokens=False`, you "
                               f"must set the layer's vocabulary before calling it. Either pass a `vocabulary` "
                               f"argument to the layer, or call `adapt` with some sample data.")
        depth = self.max_tokens if self.pad_to_max_tokens else self._frozen_vocab_size
        out = encode_categorical(indices, self.output_mode, depth, keras_backend.floatx())
        if self.output_mode == "tf_idf":
            out = out * self.idf_weights[:depth].astype(out.dtype)
        return out

    def compute_output_shape(self, input_shape):
        if self.output_mode == "int":
            return tuple(input_shape)
        depth = self.max_tokens if self.pad_to_max_tokens else self._frozen_vocab_size
        input_shape = tuple(input_shape)
        if self.output_mode == "one_hot":
            if len(input_shape) > 1 and input_shape[-1] == 1:
                return input_shape[:-1] + (depth,)
            return input_shape + (depth,)
        return input_shape[:-1] + (depth,)

    def compute_output_spec(self, inputs):
        """The symbolic output, from the rules above rather than a probe on made-up values (which a layer with
        ``num_oov_indices=0`` would refuse as out of vocabulary), as Keras 3's lookup layers."""
        from chainrule.keras.graph import KerasTensor

        if self.invert:
            return KerasTensor(tuple(inputs.shape), "string" if self.vocabulary_dtype == "string" else "int64")
        dtype = "int64" if self.output_mode == "int" else keras_backend.floatx()
        return KerasTensor(self.compute_output_shape(inputs.shape), dtype)

    def get_config(self) -> dict:
        """Keras's config, with the vocabulary (and idf weights) it holds, given or adapted."""
        vocabulary, idf = self._saved_vocabulary()
        config = {"invert": self.invert, "max_tokens": self.max_tokens, "num_oov_indices": self.num_oov_indices,
                  "oov_token": self.oov_token, "mask_token": self.mask_token, "output_mode": self.output_mode,
                  "sparse": False, "pad_to_max_tokens": self.pad_to_max_tokens,
                  "vocabulary_dtype": self.vocabulary_dtype, "idf_weights": idf, "vocabulary": vocabulary,
                  "vocabulary_size": self._frozen_vocab_size, "oov_method": self.oov_method, "salt": self.salt,
                  "has_input_vocabulary": self._has_input_vocabulary}
        return {**super().get_config(), **config}

    def _saved_vocabulary(self) -> tuple:
        """The vocabulary and idf weights for the config: as given, else the adapted ones (None before adapt)."""
        if not self._tokens:
            return listify(self.input_vocabulary), listify(self.input_idf_weights)
        vocabulary = [v.item() if isinstance(v, np.generic) else v for v in self.get_vocabulary()]
        idf = None
        if self.output_mode == "tf_idf":
            idf = self.idf_weights[:len(vocabulary)].astype(float).tolist()
        return vocabulary, idf


def encode_categorical(indices: np.ndarray, output_mode: str, depth: int, dtype,
                       count_weights: np.ndarray | None = None) -> np.ndarray:
    """``one_hot`` (a trailing axis of 1 replaced), or ``multi_hot``/``count``/``tf_idf`` counts over the last axis
    (a 1-D input is one sample; ``count_weights``, of the indices' shape, weigh each count); indices outside
    ``[0, depth)`` (a dropped mask) count nowhere.

    >>> encode_categorical(np.array([[1, 1, 3], [0, -1, 2]]), "count", 4, "float32")
    array([[0., 2., 0., 1.],
           [1., 0., 1., 0.]], dtype=float32)
    """
    if indices.ndim == 0:
        indices = indices.reshape(1)
    if output_mode == "one_hot":
        if indices.ndim > 1 and indices.shape[-1] == 1:
            indices = indices[..., 0]
        out = np.zeros(indices.shape + (depth,), dtype)
        valid = (indices >= 0) & (indices < depth)
        np.put_along_axis(out, np.where(valid, indices, 0)[..., None], valid[..., None].astype(dtype), axis=-1)
        return out
    rows = indices.reshape(math.prod(indices.shape[:-1]), indices.shape[-1])  # -1 fails on an empty row
    out = np.zeros((rows.shape[0], depth), dtype)
    valid = (rows >= 0) & (rows < depth)
    row_ids = np.broadcast_to(np.arange(rows.shape[0])[:, None], rows.shape)
    weights = 1 if count_weights is None else np.asarray(count_weights, dtype).reshape(rows.shape)[valid]
    np.add.at(out, (row_ids[valid], rows[valid]), weights)
    if output_mode == "multi_hot":
        out = np.minimum(out, 1)
    return out.reshape(indices.shape[:-1] + (depth,))


__all__ = ["IndexLookup", "encode_categorical"]
