"""Small synthetic stand-in for ``keras.datasets.imdb.load_data()`` (no download).

Like IMDB's: object arrays of Python lists of word ids (1 = start of review, ids from 4 up,
below ``num_words``) of varying lengths, and 0/1 labels. A review's words are drawn from a
common pool, with a few from a positive or a negative pool, so that the sentiment is
learnable from which words occur, wherever they are in the review.
"""

import numpy as np


def _reviews(n, num_words, rng):
    labels = rng.integers(0, 2, n)
    pools = [np.arange(4, 8), np.arange(8, 12)]  # negative, positive words
    reviews = []
    for label in labels:
        length = int(rng.integers(20, 300))
        words = rng.integers(12, num_words, length)
        marked = rng.random(length) < 0.3
        words[marked] = rng.choice(pools[label], marked.sum())
        reviews.append([1] + words.tolist())
    out = np.empty(n, dtype=object)
    out[:] = reviews
    return out, labels.astype(np.int64)


def load_data(num_words=20000, n_train=128, n_test=64, seed=0):
    """Returns ``(x_train, y_train), (x_test, y_test)`` shaped like IMDB's, but small."""
    rng = np.random.default_rng(seed)
    return _reviews(n_train, num_words, rng), _reviews(n_test, num_words, rng)
