"""tf.random.log_uniform_candidate_sampler / uniform_candidate_sampler (also tf.nn): the ids' distribution, unique
draws, the expected counts of TensorFlow's formula, and bad arguments."""

import numpy as np
import pytest

import chainrule as tf


def _log_uniform(range_max):
    k = np.arange(range_max)
    return np.log((k + 2.0) / (k + 1.0)) / np.log(range_max + 1.0)


def test_log_uniform_ids_follow_the_distribution():
    tf.random.set_seed(0)
    counts = np.zeros(10)
    for _ in range(3000):
        ids, _, _ = tf.random.log_uniform_candidate_sampler([[1]], 1, 4, False, 10)
        np.add.at(counts, ids.numpy(), 1)
    np.testing.assert_allclose(counts / counts.sum(), _log_uniform(10), atol=0.02)  # (4 standard deviations)


def test_uniform_ids_are_uniform():
    tf.random.set_seed(0)
    counts = np.zeros(5)
    for _ in range(2000):
        ids, _, _ = tf.random.uniform_candidate_sampler([[0]], 1, 5, False, 5)
        np.add.at(counts, ids.numpy(), 1)
    np.testing.assert_allclose(counts / counts.sum(), np.full(5, 0.2), atol=0.03)  # (4 standard deviations)


def test_expected_counts_without_unique_are_p_times_num_sampled():
    ids, true_expected, sampled_expected = tf.nn.log_uniform_candidate_sampler(
        true_classes=[[0, 3], [2, 9]], num_true=2, num_sampled=6, unique=False, range_max=10)
    assert ids.dtype == np.int64 and ids.shape == (6,) and true_expected.dtype == np.float32
    np.testing.assert_allclose(true_expected.numpy(), 6 * _log_uniform(10)[[[0, 3], [2, 9]]], rtol=1e-6)
    np.testing.assert_allclose(sampled_expected.numpy(), 6 * _log_uniform(10)[ids.numpy()], rtol=1e-6)


def test_unique_draws_are_distinct_and_counts_follow_the_number_of_tries():
    for seed in range(20):
        ids, true_expected, sampled_expected = tf.random.log_uniform_candidate_sampler(
            [[1]], 1, 8, True, 10, seed=seed)
        values = ids.numpy()
        assert len(set(values.tolist())) == 8 and values.min() >= 0 and values.max() < 10
        p = _log_uniform(10)
        if not np.allclose(sampled_expected.numpy(), 8 * p[values]):  # some draws repeated: 1 - (1 - p)^tries
            tries = np.log1p(-sampled_expected.numpy()[0]) / np.log1p(-p[values[0]])
            assert tries > 8 and abs(tries - round(tries)) < 1e-3
            np.testing.assert_allclose(sampled_expected.numpy(), -np.expm1(round(tries) * np.log1p(-p[values])),
                                       rtol=1e-5)
            np.testing.assert_allclose(true_expected.numpy(), -np.expm1(round(tries) * np.log1p(-p[[[1]]])), rtol=1e-5)


def test_a_global_seed_repeats_the_draws():
    tf.random.set_seed(3)
    first = tf.random.log_uniform_candidate_sampler([[1]], 1, 4, True, 50, seed=7)[0].numpy()
    tf.random.set_seed(3)
    assert first.tolist() == tf.random.log_uniform_candidate_sampler([[1]], 1, 4, True, 50, seed=7)[0].numpy().tolist()


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="true_classes"):
        tf.random.log_uniform_candidate_sampler([1, 2], 1, 4, True, 10)
    with pytest.raises(ValueError, match="num_true=2"):
        tf.random.log_uniform_candidate_sampler([[1]], 2, 4, True, 10)
    with pytest.raises(ValueError, match="cannot exceed"):
        tf.random.uniform_candidate_sampler([[1]], 1, 11, True, 10)
