"""``keras.layers.StringLookup``: strings to vocabulary indices (or back with ``invert=True``); see index_lookup.py.

>>> layer = StringLookup(vocabulary=["a", "b", "c", "d"])
>>> layer([["a", "c", "d"], ["d", "z", "b"]]).numpy()
array([[1, 3, 4],
       [4, 0, 2]])
>>> StringLookup(vocabulary=["a", "b", "c", "d"], invert=True)([[1, 0]]).numpy()
array([[b'a', b'[UNK]']], dtype=object)
"""
from __future__ import annotations

from chainrule.keras.layers.preprocessing.index_lookup import IndexLookup


class StringLookup(IndexLookup):
    """Keras 3's StringLookup: ``num_oov_indices=1``, ``oov_token='[UNK]'``, no mask token by default."""

    takes_text = True  # fit/evaluate/predict of a model that starts with it accept strings as x

    def __init__(self, max_tokens=None, num_oov_indices=1, mask_token=None, oov_token="[UNK]", vocabulary=None,
                 idf_weights=None, invert=False, output_mode="int", pad_to_max_tokens=False, sparse=False,
                 encoding="utf-8", name=None, salt=None, **kwargs):
        kwargs.pop("vocabulary_dtype", None)
        if encoding.lower().replace("-", "") != "utf8":
            raise ValueError(f"StringLookup reads text as UTF-8 in chainrule. Received: encoding={encoding!r}")
        self.encoding = encoding
        super().__init__(max_tokens=max_tokens, num_oov_indices=num_oov_indices, mask_token=mask_token,
                         oov_token=oov_token, vocabulary=vocabulary, idf_weights=idf_weights, invert=invert,
                         output_mode=output_mode, pad_to_max_tokens=pad_to_max_tokens, sparse=sparse, name=name,
                         salt=salt, vocabulary_dtype="string", **kwargs)

    def get_config(self) -> dict:
        config = super().get_config()
        del config["vocabulary_dtype"]
        return {**config, "encoding": self.encoding}
