"""tf.keras.preprocessing.sequence.skipgrams and make_sampling_table (Keras 2's word2vec helpers, kept by tf.keras)."""

import random

import numpy as np

import chainrule as tf

sequence = tf.keras.preprocessing.sequence


def test_positive_pairs_of_the_word2vec_tutorial():
    example = [1, 2, 3, 4, 5, 1, 6, 7]  # "the wide road shimmered in the hot sun"
    pairs, labels = sequence.skipgrams(example, vocabulary_size=8, window_size=2, negative_samples=0)
    assert len(pairs) == 26 and labels == [1] * 26
    expected = {(example[i], example[j]) for i in range(8) for j in range(max(0, i - 2), min(8, i + 3)) if i != j}
    assert {tuple(p) for p in pairs} == expected


def test_padding_is_skipped_and_negatives_are_labelled_zero():
    random.seed(1)
    pairs, labels = sequence.skipgrams([0, 3, 0, 4], vocabulary_size=10, window_size=3, negative_samples=2.0,
                                       shuffle=False)
    assert pairs[:2] == [[3, 4], [4, 3]] and labels == [1, 1, 0, 0, 0, 0]
    assert all(w in (3, 4) and 1 <= c < 10 for w, c in pairs[2:])


def test_shuffle_keeps_each_pair_with_its_label_and_a_seed_repeats():
    one = sequence.skipgrams(list(range(1, 9)), 20, window_size=2, negative_samples=1.0, seed=5)
    random.seed(0)
    positives = {tuple(p) for p, y in zip(*one) if y == 1}
    plain = sequence.skipgrams(list(range(1, 9)), 20, window_size=2, negative_samples=0, shuffle=False)[0]
    assert positives == {tuple(p) for p in plain}
    assert sequence.skipgrams(list(range(1, 9)), 20, window_size=2, negative_samples=0, seed=5) == \
        sequence.skipgrams(list(range(1, 9)), 20, window_size=2, negative_samples=0, seed=5)


def test_categorical_labels():
    _, labels = sequence.skipgrams([1, 2], 5, window_size=1, negative_samples=1.0, categorical=True, shuffle=False)
    assert labels == [[0, 1], [0, 1], [1, 0], [1, 0]]


def test_sampling_table_values_and_subsampling():
    table = sequence.make_sampling_table(size=10)
    np.testing.assert_allclose(table[:4], [0.00315225, 0.00315225, 0.00547597, 0.00741556], rtol=1e-5)
    assert (np.diff(table[1:]) > 0).all() and sequence.make_sampling_table(10**6, 1e-5)[-1] == 1.0
    random.seed(0)
    keep_none = np.zeros(10)
    pairs, _ = sequence.skipgrams([1, 2, 3, 4], 10, negative_samples=0, sampling_table=keep_none)
    assert pairs == []
