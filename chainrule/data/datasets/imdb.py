"""The IMDB movie-review sentiment dataset, as ``keras.datasets.imdb``: 25,000 training and 25,000 test reviews
as sequences of word indices (by frequency), labels 0 (negative) and 1 (positive).

The files come from Keras's bucket (or ``sources``), checked against Keras's published hashes, and are cached in
``$CHAINRULE_HOME/datasets/imdb/``; the sequences are prepared exactly as Keras prepares them
(word_sequences.py).

>>> (x_train, y_train), (x_test, y_test) = load_data(num_words=10000)  # doctest: +SKIP
>>> x_train[0][:4]  # doctest: +SKIP
[1, 14, 22, 16]
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from chainrule.data.datasets import word_sequences
from chainrule.data.datasets.sources import Source

HASHES = {
    "imdb.npz": "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f",  # SHA-256, as Keras publishes
    "imdb_word_index.json": "bfafd718b763782e994055a2d397834f",  # MD5, as Keras publishes
}


def load_data(path: str = "imdb.npz", num_words: int | None = None, skip_top: int = 0, maxlen: int | None = None,
              seed: int = 113, start_char: int | None = 1, oov_char: int | None = 2, index_from: int = 3,
              sources: Sequence[Source] | None = None, **kwargs):
    """``(x_train, y_train), (x_test, y_test)``: object arrays of lists of word indices and int labels.

    ``num_words`` keeps the most frequent words (others become ``oov_char``), ``skip_top`` drops the most frequent
    ones too, ``maxlen`` drops sequences of that many words or more; ``start_char`` marks each start, and real words
    start at ``index_from``. ``sources`` replaces Keras's bucket (tried after the cache).
    """
    if kwargs:
        raise TypeError(f"Unrecognized keyword arguments: {kwargs}.")
    f = word_sequences.load_npz("imdb", path, "imdb.npz", HASHES["imdb.npz"], sources)
    rng = np.random.RandomState(seed)  # one generator shuffles both splits, in turn, as in Keras
    x_train, labels_train = word_sequences.shuffled(rng, f["x_train"], f["y_train"])
    x_test, labels_test = word_sequences.shuffled(rng, f["x_test"], f["y_test"])
    splits = [word_sequences.without_long(maxlen, word_sequences.shifted(x, start_char, index_from), y)
              for x, y in ((x_train, labels_train), (x_test, labels_test))]
    if maxlen and (not splits[0][0] or not splits[1][0]):
        raise ValueError(f"After filtering for sequences shorter than maxlen={maxlen}, no sequence was kept. "
                         f"Increase maxlen.")
    xs = word_sequences.limited(splits[0][0] + splits[1][0], num_words, skip_top, oov_char)
    labels = np.concatenate([np.asarray(splits[0][1], dtype=f["y_train"].dtype),
                             np.asarray(splits[1][1], dtype=f["y_test"].dtype)])
    idx = len(splits[0][0])
    return ((word_sequences.as_object_array(xs[:idx]), labels[:idx]),
            (word_sequences.as_object_array(xs[idx:]), labels[idx:]))


def get_word_index(path: str = "imdb_word_index.json", sources: Sequence[Source] | None = None) -> dict[str, int]:
    """Word -> index (1 the most frequent); add ``index_from`` to match the sequences of ``load_data``."""
    return word_sequences.load_word_index("imdb", path, "imdb_word_index.json", HASHES["imdb_word_index.json"],
                                          sources)
