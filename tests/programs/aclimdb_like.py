"""Small synthetic stand-in for the extracted IMDB reviews archive ``aclImdb_v1.tar.gz`` (no download).

Writes the archive's layout, ``aclImdb/{train,test}/{pos,neg}/<id>_<rating>.txt`` and ``aclImdb/train/unsup/``,
with short reviews whose words carry the sentiment and which contain the ``<br />`` tags and punctuation the
tutorials strip. The first positive training review is named ``1181_9.txt``, the file TensorFlow's tutorial prints.
"""

import os

import numpy as np

POSITIVE = ["great", "wonderful", "loved", "brilliant", "moving", "superb", "enjoyable", "fantastic"]
NEGATIVE = ["awful", "boring", "hated", "terrible", "dull", "waste", "poor", "worst"]
NEUTRAL = ["the", "movie", "film", "plot", "actors", "story", "was", "and", "a", "scene", "director", "music"]


def review(label, rng) -> str:
    """One review: 20 neutral words and 4 of the label's ("pos", "neg", or "unsup": both), a <br /> tag between."""
    words = POSITIVE if label == "pos" else NEGATIVE if label == "neg" else POSITIVE + NEGATIVE
    body = list(rng.choice(NEUTRAL, size=20)) + list(rng.choice(words, size=4))
    rng.shuffle(body)
    return " ".join(body[:12]).capitalize() + ".<br /><br />" + " ".join(body[12:]) + "!"


def load_reviews(n, seed=0):
    """``n`` reviews and their 0/1 labels (1: positive), as tensorflow_datasets' ``imdb_reviews`` gives them."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n)
    return np.array([review("pos" if y else "neg", rng) for y in labels]), labels.astype(np.int64)


def _write_reviews(folder, label, count, rng, first_name=None):
    os.makedirs(folder)
    for i in range(count):
        text = review(label, rng)
        name = first_name if i == 0 and first_name else f"{i}_{rng.integers(1, 11)}.txt"
        with open(os.path.join(folder, name), "w", encoding="utf-8") as f:
            f.write(text)


def write_archive(root, n_train=80, n_test=32, n_unsup=10, seed=0) -> str:
    """Writes ``root/aclImdb`` (``n_train``/``n_test`` reviews per class) and returns its path."""
    rng = np.random.default_rng(seed)
    base = os.path.join(root, "aclImdb")
    for split, count in (("train", n_train), ("test", n_test)):
        for label in ("pos", "neg"):
            first = "1181_9.txt" if (split, label) == ("train", "pos") else None
            _write_reviews(os.path.join(base, split, label), label, count, rng, first)
    _write_reviews(os.path.join(base, "train", "unsup"), "unsup", n_unsup, rng)
    return base
