"""tf.nn.conv2d_transpose, weighted_cross_entropy_with_logits, log_poisson_loss, the moment helpers and
zero_fraction; tf.math.lbeta, rint, scalar_mul, accumulate_n, approx_max_k/min_k, tf.math.special; and
tf.extract_volume_patches: values against PyTorch, SciPy and NumPy, gradients against finite differences."""
import numpy as np
import pytest
import scipy.special
import torch
import torch.nn.functional as F

import chainrule as tf
from chainrule.engine.gradcheck import check_gradients
from chainrule.keras import ops

RNG = np.random.default_rng(7)


@pytest.mark.parametrize("padding, stride, out_hw", [("SAME", 2, (8, 10)), ("VALID", 2, (9, 11)), ("SAME", 1, (4, 5))])
def test_conv2d_transpose_matches_torch(padding, stride, out_hw):
    x = RNG.standard_normal((2, 4, 5, 3))
    filters = RNG.standard_normal((3, 3, 2, 3))  # (h, w, out, in)
    out = tf.nn.conv2d_transpose(x, filters, (2, *out_hw, 2), strides=[1, stride, stride, 1], padding=padding)
    assert out.shape == (2, *out_hw, 2)
    full = F.conv_transpose2d(torch.tensor(x).permute(0, 3, 1, 2), torch.tensor(filters).permute(3, 2, 0, 1),
                              stride=stride)  # every output position, then TensorFlow's crop
    total_h, total_w = full.shape[2] - out_hw[0], full.shape[3] - out_hw[1]
    top, left = total_h // 2, total_w // 2
    ref = full[:, :, top:top + out_hw[0], left:left + out_hw[1]].permute(0, 2, 3, 1).numpy()
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-12, atol=1e-12)


def test_pointwise_losses():
    z, x = RNG.uniform(size=6), RNG.standard_normal(6) * 5
    loss = tf.nn.weighted_cross_entropy_with_logits(z, x, pos_weight=2.5).numpy()
    sig = 1 / (1 + np.exp(-x))
    np.testing.assert_allclose(loss, -(2.5 * z * np.log(sig) + (1 - z) * np.log(1 - sig)), rtol=1e-10)
    assert np.isfinite(tf.nn.weighted_cross_entropy_with_logits(np.float64(1.0), np.float64(-800.0), 2.0).numpy())
    check_gradients(lambda t: tf.nn.weighted_cross_entropy_with_logits(z, t, 2.5), x)
    counts, rates = np.array([0.0, 1.0, 3.0, 10.0]), RNG.standard_normal(4)
    np.testing.assert_allclose(tf.nn.log_poisson_loss(counts, rates).numpy(), np.exp(rates) - rates * counts)
    full = tf.nn.log_poisson_loss(counts, rates, compute_full_loss=True).numpy()
    ref = F.poisson_nll_loss(torch.tensor(rates), torch.tensor(counts), log_input=True, full=True,
                             reduction="none").numpy()
    np.testing.assert_allclose(full, ref, rtol=1e-12)


def test_moment_helpers_and_zero_fraction():
    x = RNG.standard_normal((4, 3))
    count, total, squares, shift = tf.nn.sufficient_statistics(x, [0], shift=0.5)
    assert float(count) == 4.0 and float(shift) == 0.5
    mean, variance = tf.nn.normalize_moments(count, total, squares, 0.5)
    np.testing.assert_allclose(mean.numpy(), x.mean(0), rtol=1e-12)
    np.testing.assert_allclose(variance.numpy(), x.var(0), rtol=1e-10)
    weights = np.array([[1.0], [2.0], [0.0], [3.0]])
    wmean, wvar = tf.nn.weighted_moments(x, 0, weights)
    expected_mean = (weights * x).sum(0) / weights.sum()
    np.testing.assert_allclose(wmean.numpy(), expected_mean, rtol=1e-12)
    np.testing.assert_allclose(wvar.numpy(), (weights * (x - expected_mean) ** 2).sum(0) / weights.sum(), rtol=1e-12)
    assert tf.nn.weighted_moments(x, [0, 1], 1.0, keepdims=True)[0].shape == (1, 1)
    assert float(tf.nn.zero_fraction(np.array([[0, 1], [0, 0]]))) == 0.75


def test_math_extras():
    x = RNG.uniform(0.5, 4.0, (3, 4))
    np.testing.assert_allclose(tf.math.lbeta(x).numpy(),
                               scipy.special.gammaln(x).sum(-1) - scipy.special.gammaln(x.sum(-1)), rtol=1e-12)
    check_gradients(tf.math.lbeta, x)
    np.testing.assert_array_equal(tf.math.rint(np.array([0.5, 1.5, -2.5, 2.6])).numpy(), [0.0, 2.0, -2.0, 3.0])
    np.testing.assert_allclose(tf.math.scalar_mul(3.0, x).numpy(), 3 * x)
    np.testing.assert_allclose(tf.math.accumulate_n([x, x, x]).numpy(), 3 * x)
    values, indices = tf.math.approx_max_k(x, 2, reduction_dimension=0)
    np.testing.assert_allclose(values.numpy(), -np.sort(-x, axis=0)[:2])
    np.testing.assert_array_equal(indices.numpy(), np.argsort(-x, axis=0)[:2])
    low, _ = tf.math.approx_min_k(x, 1)
    np.testing.assert_allclose(low.numpy()[:, 0], x.min(1))
    np.testing.assert_allclose(tf.math.special.bessel_i1e(x).numpy(), scipy.special.i1e(x), rtol=1e-12)
    with pytest.raises(ValueError, match="0-D"):
        tf.math.scalar_mul(np.ones(2), x)


def test_extract_volume_patches():
    v = RNG.standard_normal((2, 4, 6, 6, 3))
    out = tf.extract_volume_patches(v, [1, 2, 3, 3, 1], [1, 2, 3, 3, 1], "VALID")
    np.testing.assert_array_equal(out.numpy(), ops.image.extract_patches_3d(v, (2, 3, 3)).numpy())
    same = tf.extract_volume_patches(v, [1, 3, 3, 3, 1], [1, 2, 2, 2, 1], "SAME")
    assert same.shape == (2, 2, 3, 3, 81)
    with pytest.raises(ValueError, match=r"\[1, d, h, w, 1\]"):
        tf.extract_volume_patches(v, [2, 2, 2], [1, 1, 1], "VALID")
