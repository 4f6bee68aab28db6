"""keras.ops' associative_scan, rearrange, segment_prod, erfinv, gammainc and logdet: values against NumPy, SciPy
and PyTorch, gradients against finite differences, errors."""
import numpy as np
import pytest
import scipy.special
import torch

import chainrule as cr
from chainrule import keras
from chainrule.engine.gradcheck import check_gradients
from chainrule.keras import ops

RNG = np.random.default_rng(1)


@pytest.mark.parametrize("n", [1, 2, 5, 8, 13])
@pytest.mark.parametrize("reverse", [False, True])
def test_associative_scan_matches_a_sequential_scan(n, reverse):
    x = RNG.standard_normal((3, n))
    expected = np.flip(np.cumsum(np.flip(x, 1), 1), 1) if reverse else np.cumsum(x, 1)
    np.testing.assert_allclose(ops.associative_scan(lambda a, b: a + b, x, reverse=reverse, axis=1).numpy(),
                               expected, rtol=1e-12)


def test_associative_scan_of_a_structure_with_a_non_commutative_function():
    """Composing affine maps x -> a x + b in order (a linear recurrence), as jax.lax.associative_scan."""
    a, b = RNG.uniform(0.5, 1.5, 9), RNG.standard_normal(9)

    def compose(first, second):
        return {"a": first["a"] * second["a"], "b": second["a"] * first["b"] + second["b"]}

    out = ops.associative_scan(compose, {"a": a, "b": b})
    h, hs = 0.0, []
    for ai, bi in zip(a, b):
        h = ai * h + bi
        hs.append(h)
    np.testing.assert_allclose(out["b"].numpy(), hs, rtol=1e-12)
    np.testing.assert_allclose(out["a"].numpy(), np.cumprod(a), rtol=1e-12)
    check_gradients(lambda t: ops.associative_scan(lambda p, q: p * q, t), RNG.uniform(0.5, 2.0, 6))


def test_rearrange_matches_numpy_reshapes_and_carries_gradients():
    x = RNG.standard_normal((2, 4, 6, 3))
    np.testing.assert_array_equal(ops.rearrange(x, "b h w c -> b c h w").numpy(), x.transpose(0, 3, 1, 2))
    np.testing.assert_array_equal(ops.rearrange(x, "b h w c -> (b h) w c").numpy(), x.reshape(8, 6, 3))
    np.testing.assert_array_equal(ops.rearrange(x, "b h w c -> h (b w) c").numpy(),
                                  x.transpose(1, 0, 2, 3).reshape(4, 12, 3))
    s2d = ops.rearrange(x, "b (h h1) (w w1) c -> b h w (c h1 w1)", h1=2, w1=3).numpy()
    expected = x.reshape(2, 2, 2, 2, 3, 3).transpose(0, 1, 3, 5, 2, 4).reshape(2, 2, 2, 18)
    np.testing.assert_array_equal(s2d, expected)
    check_gradients(lambda t: ops.rearrange(t, "b (h1 h) w c -> (b h1) c h w", h1=2), x)
    y = ops.rearrange(keras.Input((4, 6, 3)), "b h w c -> b (h w) c")
    assert tuple(y.shape) == (None, 24, 3)


@pytest.mark.parametrize("pattern, lengths, message", [
    ("b h w -> b h w", {}, "input side has 3 axes"),
    ("b h w c -> b h w", {}, "same axes"),
    ("b (h h1) w c -> b h h1 w c", {}, "all but one"),
    ("b (h h1) w c -> b h h1 w c", {"h1": 3}, "does not split"),
    ("b h w c - b h w c", {}, "one '->'"),
])
def test_rearrange_errors(pattern, lengths, message):
    with pytest.raises(ValueError, match=message):
        ops.rearrange(np.zeros((2, 4, 6, 3)), pattern, **lengths)


def test_segment_prod_matches_numpy_with_zeros_and_empty_segments():
    data = RNG.standard_normal((6, 2))
    data[3, 1] = 0.0
    ids = np.array([0, 2, 0, 2, 2, 5])
    out = ops.segment_prod(data, ids, num_segments=6).numpy()
    expected = np.ones((6, 2))
    for i, row in zip(ids, data):
        expected[i] *= row
    np.testing.assert_allclose(out, expected, rtol=1e-12)
    assert ops.segment_prod(data, ids).shape == (6, 2)
    check_gradients(lambda d: ops.segment_prod(d, ids, num_segments=6), data)


def test_erfinv_gammainc_and_logdet_values_and_dtypes():
    x = np.array([-0.9, 0.0, 0.3, 0.99], "float32")
    out = ops.erfinv(x)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.numpy(), torch.special.erfinv(torch.tensor(x)).numpy(), rtol=1e-6)
    assert ops.erfinv(np.array([0])).dtype == np.float32
    a, z = np.array([0.5, 2.0, 7.0]), np.array([1.0, 3.0, 2.0])
    np.testing.assert_allclose(ops.gammainc(a, z).numpy(), scipy.special.gammainc(a, z), rtol=1e-12)
    assert ops.gammainc(np.array([2], "int32"), np.array([3], "int32")).dtype == np.float32
    m = RNG.standard_normal((2, 3, 3))
    spd = m @ m.transpose(0, 2, 1) + 3 * np.eye(3)
    np.testing.assert_allclose(ops.logdet(spd).numpy(), np.linalg.slogdet(spd)[1], rtol=1e-12)
    check_gradients(ops.logdet, spd)
    t = cr.Tensor(z, requires_grad=True)
    (g,) = cr.grad(ops.sum(ops.gammainc(a, t)), [t])
    ta = torch.tensor(z, requires_grad=True)
    (tg,) = torch.autograd.grad(torch.special.gammainc(torch.tensor(a), ta).sum(), ta)
    np.testing.assert_allclose(g.numpy(), tg.numpy(), rtol=1e-10)
