"""The Reuters newswire topics dataset, as ``keras.datasets.reuters``: 11,228 newswires as sequences of word
indices (by frequency), labelled with one of 46 topics (``get_label_names``), split into training and test data by
``test_split`` after a seeded shuffle.

The files come from Keras's bucket (or ``sources``), checked against Keras's published hashes, and are cached in
``$CHAINRULE_HOME/datasets/reuters/``; the sequences are prepared exactly as Keras prepares them
(word_sequences.py).

>>> get_label_names()[:3]
('cocoa', 'grain', 'veg-oil')
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from chainrule.data.datasets import word_sequences
from chainrule.data.datasets.sources import Source

HASHES = {
    "reuters.npz": "d6586e694ee56d7a4e65172e12b3e987c03096cb01eab99753921ef915959916",  # SHA-256, as Keras publishes
    "reuters_word_index.json": "4d44cc38712099c9e383dc6e5f11a921",  # MD5, as Keras publishes
}
LABEL_NAMES = ("cocoa", "grain", "veg-oil", "earn", "acq", "wheat", "copper", "housing", "money-supply", "coffee",
               "sugar", "trade", "reserves", "ship", "cotton", "carcass", "crude", "nat-gas", "cpi", "money-fx",
               "interest", "gnp", "meal-feed", "alum", "oilseed", "gold", "tin", "strategic-metal", "livestock",
               "retail", "ipi", "iron-steel", "rubber", "heat", "jobs", "lei", "bop", "zinc", "orange", "pet-chem",
               "dlr", "gas", "silver", "wpi", "hog", "lead")


def load_data(path: str = "reuters.npz", num_words: int | None = None, skip_top: int = 0,
              maxlen: int | None = None, test_split: float = 0.2, seed: int = 113, start_char: int | None = 1,
              oov_char: int | None = 2, index_from: int = 3, sources: Sequence[Source] | None = None):
    """``(x_train, y_train), (x_test, y_test)``: object arrays of lists of word indices and int topic labels; the
    last ``test_split`` of the shuffled newswires is the test data. The other arguments are imdb.load_data's."""
    if not 0 <= test_split <= 1:
        raise ValueError(f"`test_split` must be between 0 and 1. Received: test_split={test_split}")
    f = word_sequences.load_npz("reuters", path, "reuters.npz", HASHES["reuters.npz"], sources)
    xs, labels = word_sequences.shuffled(np.random.RandomState(seed), f["x"], f["y"])
    xs, labels = word_sequences.prepare(xs, labels, num_words, skip_top, maxlen, start_char, oov_char, index_from)
    idx = int(len(xs) * (1 - test_split))
    labels = np.asarray(labels, dtype=f["y"].dtype)
    return ((word_sequences.as_object_array(xs[:idx]), labels[:idx]),
            (word_sequences.as_object_array(xs[idx:]), labels[idx:]))


def get_word_index(path: str = "reuters_word_index.json",
                   sources: Sequence[Source] | None = None) -> dict[str, int]:
    """Word -> index (1 the most frequent); add ``index_from`` to match the sequences of ``load_data``."""
    return word_sequences.load_word_index("reuters", path, "reuters_word_index.json",
                                          HASHES["reuters_word_index.json"], sources)


def get_label_names() -> tuple[str, ...]:
    """The 46 topic names, a label's name at its index."""
    return LABEL_NAMES
