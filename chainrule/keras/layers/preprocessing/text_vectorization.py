"""``keras.layers.TextVectorization``: strings to token indices or token-count vectors, as Keras 3 makes them.

Each string is standardized (``'lower_and_strip_punctuation'`` by default: ASCII lower-casing, as
``tf.strings.lower``, then Keras's punctuation pattern removed; or ``'lower'``, ``'strip_punctuation'``, None, or a
callable that gets and returns a string Tensor), split (``'whitespace'``, ``'character'``, None, or a callable that
gets a 1-D string array and returns one list of tokens per string), joined into ``ngrams``, then looked up in a
StringLookup whose mask token is ``''`` (index 0, the padding) and whose OOV token is ``'[UNK]'`` (index 1).
``output_mode='int'`` pads the token indices with 0 to the longest string of the batch, or pads and truncates them
to ``output_sequence_length``; ``'multi_hot'``, ``'count'`` and ``'tf_idf'`` give one vector per string.

Inputs are strings: a list, a NumPy str/bytes/object array or a string Tensor of shape ``(batch,)`` or
``(batch, 1)``, as in a ``tf.data`` pipeline (``dataset.map(layer)``) or after ``keras.Input(shape=(1,),
dtype="string")``. The layer computes in NumPy, so a traced training step runs it eagerly.

>>> layer = TextVectorization(max_tokens=5000, output_mode="int", output_sequence_length=4)
>>> layer.adapt(["foo bar", "bar baz", "baz bada boom"])
>>> layer([["foo qux bar"], ["qux baz"]]).numpy()
array([[4, 1, 3, 0],
       [1, 2, 0, 0]])
>>> TextVectorization(vocabulary=["earth", "wind", "and", "fire"]).get_vocabulary()
['', '[UNK]', 'earth', 'wind', 'and', 'fire']
"""
from __future__ import annotations

import numpy as np

from chainrule.engine.tensor import Tensor
from chainrule.keras import backend as keras_backend
from chainrule.keras.layers.base import Layer
from chainrule.keras.layers.preprocessing import strings
from chainrule.keras.layers.preprocessing.index_lookup import (adapt_batches, check_choice, listify,
                                                               output_mode_alias)
from chainrule.keras.layers.preprocessing.ragged_rows import ragged_rows
from chainrule.keras.layers.preprocessing.string_lookup import StringLookup


class TextVectorization(Layer):
    """Standardize, split, n-gram and index text (Keras 3's arguments and defaults)."""

    takes_text = True  # fit/evaluate/predict of a model that starts with it accept strings as x

    _traceable = False  # it computes in NumPy: a traced step runs it eagerly

    def __init__(self, max_tokens=None, standardize="lower_and_strip_punctuation", split="whitespace", ngrams=None,
                 output_mode="int", output_sequence_length=None, pad_to_max_tokens=False, vocabulary=None,
                 idf_weights=None, sparse=False, ragged=False, encoding="utf-8", name=None, **kwargs):
        if sparse:
            raise ValueError("`sparse=True` can only be used with the TensorFlow backend (chainrule has no sparse "
                             "tensors).")
        caller = type(self).__name__
        check_choice(standardize, ("lower_and_strip_punctuation", "lower", "strip_punctuation"), caller,
                     "standardize", allow_none=True, allow_callables=True)
        check_choice(split, ("whitespace", "character"), caller, "split", allow_none=True, allow_callables=True)
        output_mode = output_mode_alias(output_mode)
        check_choice(output_mode, ("int", "one_hot", "multi_hot", "count", "tf_idf"), caller, "output_mode")
        if not (ngrams is None or isinstance(ngrams, int)
                or isinstance(ngrams, tuple) and all(isinstance(item, int) for item in ngrams)):
            raise ValueError(f"`ngrams` must be None, an integer, or a tuple of integers. Received: ngrams={ngrams}")
        if output_mode == "int" and not (isinstance(output_sequence_length, int) or output_sequence_length is None):
            raise ValueError(f"`output_sequence_length` must be either None or an integer when `output_mode` is "
                             f"'int'. Received: output_sequence_length={output_sequence_length}")
        if ragged and output_mode != "int":  # (Keras's message, its negation slip kept)
            raise ValueError(f"`ragged` must not be true if `output_mode` is `'int'`. Received: ragged={ragged} and "
                             f"output_mode={output_mode}")
        if output_mode != "int" and output_sequence_length is not None:
            raise ValueError(f"`output_sequence_length` must not be set if `output_mode` is not 'int'. Received "
                             f"output_sequence_length={output_sequence_length}.")
        self._standardize, self._split, self._ngrams_arg = standardize, split, ngrams
        self._ngrams = tuple(range(1, ngrams + 1)) if isinstance(ngrams, int) else ngrams
        self._output_mode, self._output_sequence_length = output_mode, output_sequence_length
        self._ragged = bool(ragged)
        self._encoding = encoding
        has_input_vocabulary = kwargs.pop("has_input_vocabulary", vocabulary is not None)
        vocabulary_size = kwargs.pop("vocabulary_size", None)
        kwargs.pop("dtype", None)
        super().__init__(name=name, **kwargs)
        self._lookup_layer = StringLookup(max_tokens=max_tokens, vocabulary=vocabulary, idf_weights=idf_weights,
                                          pad_to_max_tokens=pad_to_max_tokens, mask_token="",
                                          output_mode=output_mode, encoding=encoding,
                                          has_input_vocabulary=has_input_vocabulary,
                                          vocabulary_size=vocabulary_size)
        self.built = True

    def _convert(self, inputs):
        return inputs  # call() converts: strings must not become float Tensors

    # --- the vocabulary -----------------------------------------------------------------------------------------
    def adapt(self, data, batch_size=None, steps=None) -> None:
        """Learn the vocabulary (and idf weights) from text: a list of strings, a NumPy array, a string tensor, or
        a Dataset / iterable of batches of strings."""
        self.reset_state()
        adapt_batches(self, data, steps, lambda batch, column: self.update_state(batch))
        self.finalize_state()

    def update_state(self, data) -> None:
        if isinstance(data, tuple):  # (texts, labels) batches: Keras's guides map them to the texts first
            raise TypeError(f"Layer '{self.name}' (TextVectorization): adapt() takes batches of text, but a batch is a "
                            f"tuple of {len(data)} (texts and labels?). Adapt on the texts only: "
                            f"layer.adapt(dataset.map(lambda x, y: x))")
        self._lookup_layer.update_rows(self._tokenize(data))

    def finalize_state(self) -> None:
        self._lookup_layer.finalize_state()

    def reset_state(self) -> None:
        self._lookup_layer.reset_state()

    def get_vocabulary(self, include_special_tokens: bool = True) -> list:
        """The vocabulary, a term's position its index (with '' and '[UNK]' unless told otherwise)."""
        return self._lookup_layer.get_vocabulary(include_special_tokens)

    def vocabulary_size(self) -> int:
        """The size of the vocabulary, padding and OOV indices included."""
        return self._lookup_layer.vocabulary_size()

    def set_vocabulary(self, vocabulary, idf_weights=None) -> None:
        """Set the vocabulary (and, in ``tf_idf`` mode, the idf weights) instead of adapting."""
        self._lookup_layer.set_vocabulary(vocabulary, idf_weights=idf_weights)

    # --- text to tokens -----------------------------------------------------------------------------------------
    def _standardized(self, inputs) -> np.ndarray:
        text = strings.as_string_array(inputs, f"Layer '{self.name}' (TextVectorization)")
        if self._standardize in ("lower", "lower_and_strip_punctuation"):
            text = strings.lower(text)
        if self._standardize in ("strip_punctuation", "lower_and_strip_punctuation"):
            text = strings.regex_replace(text, strings.PUNCTUATION_PATTERN, "")
        if callable(self._standardize):
            result = strings.as_string_array(self._standardize(Tensor._wrap(text)),
                                             f"The `standardize` callable of layer '{self.name}'")
            if result.size != text.size:
                raise ValueError(f"The `standardize` callable of layer '{self.name}' must return one string per "
                                 f"string it is given: it got shape {text.shape} and returned shape {result.shape}")
            text = result.reshape(text.shape)
        return text

    def _tokenize(self, inputs) -> list[list[str]]:
        """One list of tokens per input string (per row when not splitting), n-grams included."""
        text = self._standardized(inputs)
        if text.ndim == 0:
            text = text.reshape(1)
        if self._split is None:
            rows = (text[:, None] if text.ndim == 1 else text.reshape(text.shape[0], -1)).tolist()
        else:
            if text.ndim > 1:
                if text.shape[-1] != 1 or text.ndim > 2:
                    raise ValueError(f"When using `TextVectorization` to tokenize strings, the input rank must be 1 "
                                     f"or the last shape dimension must be 1. Received: inputs.shape={text.shape} "
                                     f"with rank={text.ndim}")
                text = text[:, 0]
            if self._split == "whitespace":
                rows = strings.split_whitespace(text)
            elif self._split == "character":
                rows = strings.split_characters(text)
            else:
                rows = self._split_with_callable(text)
        if self._ngrams is not None:
            rows = [strings.ngrams(row, self._ngrams) for row in rows]
        return rows

    def _split_with_callable(self, text: np.ndarray) -> list[list[str]]:
        result = self._split(Tensor._wrap(text))
        if isinstance(result, Tensor):
            result = result.numpy()
        rows = [[t.decode("utf-8") if isinstance(t, bytes) else str(t) for t in np.asarray(row).ravel().tolist()]
                for row in result]
        if len(rows) != len(text):
            raise ValueError(f"The `split` callable of layer '{self.name}' must return one sequence of tokens per "
                             f"string: got {len(rows)} for {len(text)} strings")
        return rows

    # --- calling --------------------------------------------------------------------------------------------------
    def call(self, inputs):
        rows = self._tokenize(inputs)
        lookup = self._lookup_layer
        if self._output_mode != "int":
            indices = [lookup.lookup(np.array(row, dtype=str)) for row in rows]
            return Tensor._wrap(self._encode_rows(indices))
        length = self._output_sequence_length
        if length is None:
            length = max((len(row) for row in rows), default=0)
        rows = [row[:length] for row in rows]
        sizes = np.array([len(row) for row in rows], dtype=np.int64)
        # one lookup for the whole batch, then each row's indices into its padded line (or its ragged row)
        flat = lookup.lookup(np.array([token for row in rows for token in row], dtype=str)) if sizes.sum() else \
            np.zeros(0, np.int64)
        if self._ragged:
            return ragged_rows(Tensor._wrap(np.asarray(flat, np.int64)), sizes,
                               f"Layer '{self.name}' (TextVectorization, ragged=True)")
        out = np.zeros((len(rows), length), np.int64)
        out[np.arange(length) < sizes[:, None]] = flat
        return Tensor._wrap(out)

    def _encode_rows(self, indices: list[np.ndarray]) -> np.ndarray:
        """multi_hot / count / tf_idf vectors for rows of different lengths (one row at a time)."""
        lookup = self._lookup_layer
        depth = lookup.max_tokens if lookup.pad_to_max_tokens else lookup.vocabulary_size()
        if not indices:
            return np.zeros((0, depth), keras_backend.floatx())
        return np.stack([lookup.encode(row) for row in indices])

    def compute_output_shape(self, input_shape):
        if self._output_mode == "int":
            return (input_shape[0], self._output_sequence_length)
        lookup = self._lookup_layer
        depth = lookup.max_tokens if lookup.pad_to_max_tokens else lookup.vocabulary_size()
        return (input_shape[0], depth)

    def compute_output_spec(self, inputs):
        """The symbolic output: int64 indices of ``(batch, output_sequence_length)`` (None: the longest text of
        each batch), or float vectors of the vocabulary's size."""
        from chainrule.keras.graph import KerasTensor

        dtype = "int64" if self._output_mode == "int" else keras_backend.floatx()
        return KerasTensor(self.compute_output_shape(inputs.shape), dtype)

    def get_config(self) -> dict:
        lookup = self._lookup_layer
        vocabulary, idf = lookup._saved_vocabulary()
        config = {"max_tokens": lookup.max_tokens, "standardize": self._standardize, "split": self._split,
                  "ngrams": self._ngrams_arg, "output_mode": self._output_mode,
                  "output_sequence_length": self._output_sequence_length,
                  "pad_to_max_tokens": lookup.pad_to_max_tokens, "sparse": False, "ragged": self._ragged,
                  "vocabulary": listify(vocabulary), "idf_weights": listify(idf), "encoding": self._encoding,
                  "vocabulary_size": self.vocabulary_size(),
                  "has_input_vocabulary": lookup._has_input_vocabulary}
        if callable(self._standardize) or callable(self._split):
            from chainrule.keras.saving.object_registration import get_registered_name

            for key in ("standardize", "split"):
                if callable(config[key]):
                    config[key] = get_registered_name(config[key])
        return {**super().get_config(), **config}

    @classmethod
    def from_config(cls, config: dict) -> "TextVectorization":
        config = dict(config)
        for key in ("standardize", "split"):
            value = config.get(key)
            if isinstance(value, str) and value not in ("lower_and_strip_punctuation", "lower", "strip_punctuation",
                                                        "whitespace", "character"):
                from chainrule.keras.saving.object_registration import get_registered_object

                function = get_registered_object(value)
                if function is None:
                    raise ValueError(f"TextVectorization.from_config: the `{key}` function '{value}' is not "
                                     f"registered; decorate it with @keras.saving.register_keras_serializable() or "
                                     f"pass it in custom_objects")
                config[key] = function
        if isinstance(config.get("ngrams"), list):
            config["ngrams"] = tuple(config["ngrams"])
        return cls(**config)
