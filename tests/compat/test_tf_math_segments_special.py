"""tf.math's segment reductions, bincount, special functions and safe arithmetic: values against NumPy, SciPy and
PyTorch, TensorFlow's empty-segment values, gradients against finite differences."""
import numpy as np
import pytest
import scipy.special
import torch

import chainrule as tf
from chainrule.engine.gradcheck import check_gradients

RNG = np.random.default_rng(5)
DATA = RNG.standard_normal((6, 3))
SORTED = np.array([0, 0, 1, 3, 3, 3])
UNSORTED = np.array([2, 0, -1, 2, 4, 0])


def _reference(data, ids, n, reduce, empty):
    out = np.full((n,) + data.shape[1:], empty, dtype=float)
    for s in range(n):
        rows = data[ids == s]
        if len(rows):
            out[s] = reduce(rows)
    return out


@pytest.mark.parametrize("name, reduce, empty", [
    ("segment_sum", lambda r: r.sum(0), 0.0), ("segment_mean", lambda r: r.mean(0), 0.0),
    ("segment_max", lambda r: r.max(0), 0.0), ("segment_min", lambda r: r.min(0), 0.0),
    ("segment_prod", lambda r: r.prod(0), 1.0)])
def test_sorted_segment_reductions(name, reduce, empty):
    out = getattr(tf.math, name)(DATA, SORTED).numpy()
    np.testing.assert_allclose(out, _reference(DATA, SORTED, 4, reduce, empty), rtol=1e-12)
    check_gradients(lambda d: getattr(tf.math, name)(d, SORTED), DATA)


@pytest.mark.parametrize("name, reduce, empty", [
    ("unsorted_segment_sum", lambda r: r.sum(0), 0.0), ("unsorted_segment_mean", lambda r: r.mean(0), 0.0),
    ("unsorted_segment_sqrt_n", lambda r: r.sum(0) / np.sqrt(len(r)), 0.0),
    ("unsorted_segment_prod", lambda r: r.prod(0), 1.0),
    ("unsorted_segment_max", lambda r: r.max(0), np.finfo(np.float64).min),
    ("unsorted_segment_min", lambda r: r.min(0), np.finfo(np.float64).max)])
def test_unsorted_segment_reductions(name, reduce, empty):
    out = getattr(tf.math, name)(DATA, UNSORTED, num_segments=6).numpy()
    np.testing.assert_allclose(out, _reference(DATA, UNSORTED, 6, reduce, empty), rtol=1e-12)
    filled = [0, 2, 4]  # (the empty segments' huge fill values would swamp the finite differences)
    check_gradients(lambda d: tf.gather(getattr(tf.math, name)(d, UNSORTED, 6), filled), DATA)


def test_unsorted_segment_ids_of_rank_two_and_tied_maxima():
    data = RNG.standard_normal((2, 3, 4))
    ids = np.array([[0, 1, 0], [2, 1, 0]])
    out = tf.math.unsorted_segment_sum(data, ids, 3).numpy()
    np.testing.assert_allclose(out, _reference(data.reshape(6, 4), ids.ravel(), 3, lambda r: r.sum(0), 0.0))
    tied = tf.Variable(np.array([2.0, 2.0, 1.0]))
    with tf.GradientTape() as tape:
        top = tf.math.unsorted_segment_max(tied, [0, 0, 0], 1)
    np.testing.assert_allclose(tape.gradient(top, tied).numpy(), [0.5, 0.5, 0.0])  # shared among ties
    with pytest.raises(ValueError, match="sorted"):
        tf.math.segment_sum(DATA, [1, 0, 0, 0, 0, 0])
    with pytest.raises(ValueError, match="prefix"):
        tf.math.unsorted_segment_sum(DATA, [0, 1], 2)


def test_bincount_like_tensorflow():
    values = np.array([[1, 2, 2], [0, 5, 1]])
    np.testing.assert_array_equal(tf.math.bincount(values).numpy(), np.bincount(values.ravel()))
    assert tf.math.bincount(values).dtype == np.int32
    np.testing.assert_array_equal(tf.math.bincount(values, minlength=8, maxlength=4).numpy(), [1, 2, 2, 0])
    np.testing.assert_array_equal(tf.math.bincount(values, axis=-1).numpy(), [[0, 1, 2, 0, 0, 0], [1, 1, 0, 0, 0, 1]])
    np.testing.assert_array_equal(tf.math.bincount(values, binary_output=True).numpy(), [1, 1, 1, 0, 0, 1])
    weights = RNG.standard_normal((2, 3))
    np.testing.assert_allclose(tf.math.bincount(values, weights=weights).numpy(),
                               np.bincount(values.ravel(), weights=weights.ravel()))


POINTS = np.array([0.3, 1.0, 2.5, 7.0])
SPECIAL = {
    "lgamma": (tf.math.lgamma, lambda x: scipy.special.gammaln(x)),
    "digamma": (tf.math.digamma, scipy.special.digamma),
    "erfinv": (lambda x: tf.math.erfinv(x / 8), lambda x: scipy.special.erfinv(x / 8)),
    "erfcinv": (lambda x: tf.math.erfcinv(x / 8), lambda x: scipy.special.erfcinv(x / 8)),
    "ndtri": (lambda x: tf.math.ndtri(x / 8), lambda x: scipy.special.ndtri(x / 8)),
    "bessel_i0": (tf.math.bessel_i0, scipy.special.i0),
    "bessel_i1": (tf.math.bessel_i1, scipy.special.i1),
    "bessel_i0e": (tf.math.bessel_i0e, scipy.special.i0e),
    "bessel_i1e": (tf.math.bessel_i1e, scipy.special.i1e),
    "igamma": (lambda x: tf.math.igamma(2.0, x), lambda x: scipy.special.gammainc(2.0, x)),
    "igammac": (lambda x: tf.math.igammac(2.0, x), lambda x: scipy.special.gammaincc(2.0, x)),
    "cumulative_logsumexp": (tf.math.cumulative_logsumexp, lambda x: np.logaddexp.accumulate(x)),
    "polyval": (lambda x: tf.math.polyval([2.0, -1.0, 3.0], x), lambda x: np.polyval([2.0, -1.0, 3.0], x)),
    "zeta": (lambda x: tf.math.zeta(np.full_like(x, 3.0), x), lambda x: scipy.special.zeta(3.0, x)),
    "betainc": (lambda x: tf.math.betainc(np.full_like(x, 2.5), np.full_like(x, 1.5), x / 8),
                lambda x: scipy.special.betainc(2.5, 1.5, x / 8)),
    "polygamma": (lambda x: tf.math.polygamma(np.full_like(x, 2.0), x), lambda x: scipy.special.polygamma(2, x)),
}


@pytest.mark.parametrize("name", sorted(SPECIAL))
def test_special_functions_match_scipy_and_carry_gradients(name):
    ours, theirs = SPECIAL[name]
    np.testing.assert_allclose(ours(POINTS).numpy(), theirs(POINTS), rtol=1e-10)
    check_gradients(ours, POINTS)


def test_cumulative_logsumexp_exclusive_and_reverse():
    x = RNG.standard_normal((3, 4))
    ref = torch.logcumsumexp(torch.tensor(x).flip(1), 1).flip(1).numpy()
    np.testing.assert_allclose(tf.math.cumulative_logsumexp(x, axis=1, reverse=True).numpy(), ref, rtol=1e-12)
    exclusive = tf.math.cumulative_logsumexp(x, axis=1, exclusive=True).numpy()
    assert np.isneginf(exclusive[:, 0]).all()
    np.testing.assert_allclose(exclusive[:, 1:], np.logaddexp.accumulate(x, axis=1)[:, :-1], rtol=1e-12)


def test_safe_arithmetic_and_predicates():
    x, y = np.array([0.0, 2.0, 0.0, -3.0]), np.array([0.0, 4.0, np.inf, 0.0])
    np.testing.assert_allclose(tf.math.xlogy(x, y).numpy(), [0.0, 2 * np.log(4.0), 0.0, np.inf])
    np.testing.assert_allclose(tf.math.xdivy(x, y).numpy(), [0.0, 0.5, 0.0, -np.inf])
    np.testing.assert_allclose(tf.math.xlog1py(x, y).numpy(), [0.0, 2 * np.log1p(4.0), 0.0, 0.0])
    np.testing.assert_allclose(tf.math.multiply_no_nan(np.array([np.inf, np.nan, 2.0]), np.array([0.0, 0.0, 3.0]))
                               .numpy(), [0.0, 0.0, 6.0])
    np.testing.assert_allclose(tf.math.reciprocal_no_nan(np.array([0.0, 4.0])).numpy(), [0.0, 0.25])
    t = tf.Variable(np.array([0.0, 2.0]))
    with tf.GradientTape() as tape:
        z = tf.reduce_sum(tf.math.xlogy(t, np.array([0.0, 3.0])))
    np.testing.assert_allclose(tape.gradient(z, t).numpy(), [0.0, np.log(3.0)])  # no NaN from log(0)
    np.testing.assert_array_equal(tf.math.truncatediv(np.array([-7, 7]), np.array([2, 2])).numpy(), [-3, 3])
    np.testing.assert_array_equal(tf.math.truncatemod(np.array([-7, 7]), np.array([2, 2])).numpy(), [-1, 1])
    assert tf.math.nextafter(np.float32(1.0), np.float32(2.0)).numpy() == np.nextafter(np.float32(1), np.float32(2))
    counted = tf.math.count_nonzero(np.array([[0, 1, 2], [0, 0, 3]]), axis=1, keepdims=True)
    assert counted.dtype == np.int64 and counted.numpy().tolist() == [[2], [1]]
    np.testing.assert_array_equal(tf.math.in_top_k(np.array([2, 0]), np.array([[0.1, 0.2, 0.7], [0.5, 0.3, 0.9]]), 1)
                                  .numpy(), [True, False])
    assert bool(tf.math.is_non_decreasing([1, 1, 2])) and not bool(tf.math.is_strictly_increasing([1, 1, 2]))
