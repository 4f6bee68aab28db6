"""Keras 2's word2vec helpers, kept in ``tf.keras.preprocessing.sequence``: ``skipgrams`` (the (word, context) pairs
of a sentence's windows, with random negative pairs) and ``make_sampling_table`` (how likely a word of each frequency
rank is kept, so that frequent words are subsampled).

They draw from Python's ``random`` module as Keras does, so ``random.seed`` and ``seed=`` repeat a run; index 0
stands for padding and is never a word.

>>> import random
>>> random.seed(0)
>>> pairs, labels = skipgrams([1, 2, 3], vocabulary_size=4, window_size=1, negative_samples=0, shuffle=False)
>>> pairs, labels
([[1, 2], [2, 1], [2, 3], [3, 2]], [1, 1, 1, 1])
>>> make_sampling_table(4).round(4)
array([0.0032, 0.0032, 0.0055, 0.0074])
"""
from __future__ import annotations

import random
from typing import Sequence

import numpy as np

_EULER_GAMMA = 0.577  # (Keras's rounding of the Euler-Mascheroni constant, kept for the same table)


def make_sampling_table(size: int, sampling_factor: float = 1e-5) -> np.ndarray:
    """``table[i]``: the probability of keeping the i-th most frequent word, word2vec's
    ``min(1, sqrt(f / sampling_factor) / (f / sampling_factor))`` with Zipf's law for the frequency ``f`` of rank i:
    ``f ~ 1 / (i * (log(i) + gamma) + 1/2 - 1/(12 i))`` (rank 0, padding, as rank 1)."""
    rank = np.arange(size)
    rank[:1] = 1
    inverse_frequency = rank * (np.log(rank) + _EULER_GAMMA) + 0.5 - 1.0 / (12.0 * rank)
    scaled = sampling_factor * inverse_frequency
    return np.minimum(1.0, scaled / np.sqrt(scaled))


def skipgrams(sequence: Sequence[int], vocabulary_size: int, window_size: int = 4, negative_samples: float = 1.0,
              shuffle: bool = True, categorical: bool = False, sampling_table=None,
              seed: int | None = None) -> tuple[list, list]:
    """``(couples, labels)``: ``[word, context]`` for every context word within ``window_size`` of each word of
    ``sequence`` (label 1; word ids of 0 skipped, a word kept with probability ``sampling_table[word]``), then
    ``int(negative_samples * positives)`` couples of a word and a random id in ``[1, vocabulary_size)`` (label 0).
    ``categorical=True`` labels ``[0, 1]`` / ``[1, 0]``; ``shuffle`` shuffles couples and labels alike."""
    positive, negative = ([0, 1], [1, 0]) if categorical else (1, 0)
    couples: list[list[int]] = []
    for i, word in enumerate(sequence):
        if not word or sampling_table is not None and sampling_table[word] < random.random():
            continue
        for j in range(max(0, i - window_size), min(len(sequence), i + window_size + 1)):
            if j != i and sequence[j]:
                couples.append([word, sequence[j]])
    labels = [positive] * len(couples)
    if negative_samples > 0:
        count = int(len(couples) * negative_samples)
        words = [pair[0] for pair in couples]
        random.shuffle(words)
        couples += [[words[k % len(words)], random.randint(1, vocabulary_size - 1)] for k in range(count)]
        labels += [negative] * count
    if shuffle:  # one seed for both lists, so that each couple keeps its label
        seed = random.randint(0, int(10e6)) if seed is None else seed
        for items in (couples, labels):
            random.seed(seed)
            random.shuffle(items)
    return couples, labels


__all__ = ["make_sampling_table", "skipgrams"]
