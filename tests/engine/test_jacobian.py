"""GradientTape.jacobian and batch_jacobian (chainrule/engine/tape.py) against torch.autograd.functional.jacobian:
shapes target.shape + source.shape, several and nested sources, unconnected sources, per-example jacobians, the
Hessian of TensorFlow's guide (a jacobian of a gradient), a jacobian taken inside another tape and differentiated,
and TensorFlow's rules for non-persistent tapes."""
import numpy as np
import pytest
import torch
from torch.autograd.functional import jacobian as torch_jacobian

import chainrule as tf

RNG = np.random.default_rng(0)
W = RNG.standard_normal((3, 4))


def _f_ours(x):
    return tf.tanh(tf.matmul(x, tf.constant(W))) * tf.reduce_sum(x * x)


def _f_torch(x):
    return torch.tanh(x @ torch.tensor(W)) * (x * x).sum()


@pytest.mark.parametrize("shape", [(3,), (2, 3)], ids=str)
def test_jacobian_matches_torch(shape):
    x0 = RNG.standard_normal(shape)
    x = tf.constant(x0)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = _f_ours(x)
    j = tape.jacobian(y, x)
    expected = torch_jacobian(_f_torch, torch.tensor(x0))
    assert j.shape == y.shape + x.shape == tuple(expected.shape)
    np.testing.assert_allclose(j.numpy(), expected.numpy(), rtol=1e-10, atol=1e-12)


def test_jacobian_of_several_nested_sources_and_an_unconnected_one():
    a0, b0 = RNG.standard_normal((2, 2)), RNG.standard_normal(2)
    a, b = tf.Variable(a0, name="a"), tf.Variable(b0, name="b")
    unused = tf.Variable([1.0, 2.0], name="unused")
    with tf.GradientTape(persistent=True) as tape:
        y = tf.matmul(a, tf.reshape(b, (2, 1))) ** 2  # shape (2, 1)
    result = tape.jacobian(y, {"a": a, "nested": [b, unused]})
    ja, jb = torch_jacobian(lambda a, b: (a @ b.reshape(2, 1)) ** 2, (torch.tensor(a0), torch.tensor(b0)))
    np.testing.assert_allclose(result["a"].numpy(), ja.numpy(), rtol=1e-10)
    np.testing.assert_allclose(result["nested"][0].numpy(), jb.numpy(), rtol=1e-10)
    assert result["nested"][1] is None
    zeros = tape.jacobian(y, unused, unconnected_gradients="zero")
    assert zeros.shape == (2, 1, 2) and not zeros.numpy().any()


def test_batch_jacobian_matches_torch_per_example():
    x0 = RNG.standard_normal((4, 3))
    x = tf.constant(x0)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reshape(tf.sigmoid(tf.matmul(x, tf.constant(W))) * x[:, :1], (4, 2, 2))
    bj = tape.batch_jacobian(y, x)

    def row(xi):
        return (torch.sigmoid(xi @ torch.tensor(W)) * xi[:1]).reshape(2, 2)

    expected = torch.stack([torch_jacobian(row, torch.tensor(xi)) for xi in x0])
    assert bj.shape == (4, 2, 2, 3) == tuple(expected.shape)
    np.testing.assert_allclose(bj.numpy(), expected.numpy(), rtol=1e-10, atol=1e-12)


def test_batch_jacobian_of_an_unconnected_source_is_zeros_and_batches_must_match():
    x, other = tf.constant(np.ones((2, 3))), tf.constant(np.ones((2, 5)))
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([x, other])
        y = x * 2.0
    assert tape.batch_jacobian(y, other).shape == (2, 3, 5) and not tape.batch_jacobian(y, other).numpy().any()
    with pytest.raises(ValueError, match=r"Need first dimension of target shape \(\(2, 3\)\) and source shape "
                                         r"\(\(3, 1\)\) to match"):
        tape.batch_jacobian(y, tf.constant(np.ones((3, 1))))


def test_hessian_as_a_jacobian_of_a_gradient_matches_torch():
    """TensorFlow's guide 'Advanced automatic differentiation': the Hessian of a loss from nested tapes."""
    x0 = RNG.standard_normal(3)
    x = tf.Variable(x0)
    with tf.GradientTape() as outer:
        with tf.GradientTape() as inner:
            loss = tf.reduce_sum(tf.exp(x) * tf.sin(x)) + tf.reduce_sum(x) ** 3
        g = inner.gradient(loss, x)
    h = outer.jacobian(g, x)
    expected = torch.autograd.functional.hessian(lambda t: (t.exp() * t.sin()).sum() + t.sum() ** 3,
                                                 torch.tensor(x0))
    np.testing.assert_allclose(h.numpy(), expected.numpy(), rtol=1e-10)


def test_a_jacobian_taken_inside_another_tape_is_differentiable():
    x0 = RNG.standard_normal(3)
    x = tf.Variable(x0)
    with tf.GradientTape() as outer:
        with tf.GradientTape() as inner:
            y = tf.sin(x) * tf.reduce_sum(x * x)
        j = inner.jacobian(y, x)
        total = tf.reduce_sum(j * j)
    ours = outer.gradient(total, x)
    t = torch.tensor(x0, requires_grad=True)
    tj = torch_jacobian(lambda v: v.sin() * (v * v).sum(), t, create_graph=True)
    (theirs,) = torch.autograd.grad((tj * tj).sum(), t)
    np.testing.assert_allclose(j.numpy(), tj.detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-9)


def test_a_layer_jacobian_with_respect_to_its_kernel():
    layer = tf.keras.layers.Dense(2, activation="tanh")
    x0 = RNG.standard_normal((1, 3)).astype(np.float32)
    with tf.GradientTape() as tape:
        y = layer(x0)
    j = tape.jacobian(y, layer.kernel)
    kernel, bias = (torch.tensor(w.numpy()) for w in layer.weights)
    expected = torch_jacobian(lambda k: torch.tanh(torch.tensor(x0) @ k + bias), kernel)
    assert j.dtype == np.float32 and j.shape == (1, 2, 3, 2)
    np.testing.assert_allclose(j.numpy(), expected.numpy(), rtol=1e-5, atol=1e-6)


def test_a_non_persistent_tape_gives_one_jacobian_as_tensorflow():
    x = tf.constant([1.0, 2.0])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    tape.jacobian(y, x)
    with pytest.raises(RuntimeError, match="non-persistent GradientTape can only be used"):
        tape.gradient(y, x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    with pytest.raises(RuntimeError, match="must be created with persistent=True to compute the jacobian"):
        tape.jacobian(y, x, experimental_use_pfor=False)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = x * x
    np.testing.assert_array_equal(tape.jacobian(y, x, experimental_use_pfor=False).numpy(), [[2, 0], [0, 4]])
    np.testing.assert_array_equal(tape.gradient(y, x).numpy(), [2, 4])


def test_a_constant_target_has_no_jacobian():
    x = tf.constant([1.0, 2.0])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.constant([3.0])
    assert tape.jacobian(y, x) is None
    with pytest.raises(TypeError, match="target must be a Tensor"):
        tape.jacobian([1.0], x)
