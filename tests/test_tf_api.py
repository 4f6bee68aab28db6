"""TensorFlow's top-level spellings (chainrule/tf_api.py), tf.nn's argument names, and the tensor operators and
PyTorch-named methods a custom training loop uses."""
import numpy as np
import pytest

import chainrule as tf
from chainrule.engine.gradcheck import check_gradients

RNG = np.random.default_rng(0)


def test_matmul_transposes_either_operand():
    a, b = RNG.standard_normal((2, 3, 4)).astype("float32"), RNG.standard_normal((2, 5, 4)).astype("float32")
    np.testing.assert_allclose(tf.matmul(a, b, transpose_b=True).numpy(), a @ b.transpose(0, 2, 1), rtol=1e-6)
    np.testing.assert_allclose(tf.matmul(a, a, transpose_a=True).numpy(), a.transpose(0, 2, 1) @ a, rtol=1e-5)
    check_gradients(lambda x, y: tf.matmul(x, y, transpose_a=True, transpose_b=True),
                    RNG.standard_normal((3, 2)), RNG.standard_normal((4, 3)))


def test_clip_by_value_takes_tensorflows_keywords():
    out = tf.clip_by_value(tf.constant([1.0, 5.0, 3.0]), clip_value_min=2.0, clip_value_max=4.0)
    np.testing.assert_array_equal(out.numpy(), [2.0, 4.0, 3.0])


def test_where_with_the_condition_alone_gives_coordinates():
    cond = np.array([[True, False], [False, True]])
    np.testing.assert_array_equal(tf.where(cond).numpy(), [[0, 0], [1, 1]])
    assert tf.where(cond).dtype == np.int64
    np.testing.assert_array_equal(tf.where(cond, 1.0, 0.0).numpy(), [[1, 0], [0, 1]])
    with pytest.raises(ValueError, match="both x and y, or neither"):
        tf.where(cond, 1.0)


def test_reshape_takes_a_shape_tensor():
    assert tf.reshape(tf.ones((2, 3)), tf.shape(tf.zeros((3, 2)))).shape == (3, 2)


def test_identity_passes_the_gradient_and_stop_gradient_blocks_it():
    w = tf.Variable([1.0, 2.0])
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(tf.identity(w) * tf.stop_gradient(w))
    np.testing.assert_array_equal(tape.gradient(y, w).numpy(), [1.0, 2.0])  # d/dw (w * const) = const
    frozen = tf.stop_gradient(w)
    w.assign([5.0, 5.0])
    np.testing.assert_array_equal(frozen.numpy(), [1.0, 2.0])


def test_introspection_and_logic():
    x = tf.ones((2, 3, 4))
    assert int(tf.size(x)) == 24 and int(tf.rank(x)) == 3
    assert tf.is_tensor(x) and tf.is_tensor(tf.Variable(1.0)) and not tf.is_tensor(np.ones(2))
    a, b = tf.constant([True, False, True]), tf.constant([True, True, False])
    np.testing.assert_array_equal(tf.logical_not(a).numpy(), [False, True, False])
    np.testing.assert_array_equal(tf.logical_xor(a, b).numpy(), [False, True, True])
    assert not bool(tf.reduce_all(a)) and bool(tf.reduce_any(a))
    np.testing.assert_array_equal(tf.reduce_all(tf.constant([[True, True], [True, False]]), axis=1).numpy(),
                                  [True, False])
    assert tf.bool is np.bool_ and float(tf.math.square(3.0)) == 9.0


def test_print_shows_values(capsys):
    tf.print("loss:", tf.constant(1.5), 3)
    assert capsys.readouterr().out == "loss: 1.5 3\n"


def test_clip_by_norm_and_global_norm():
    t = RNG.standard_normal((3, 4))
    norm = np.linalg.norm(t)
    np.testing.assert_allclose(tf.clip_by_norm(t, 1.0).numpy(), t / norm, rtol=1e-12)
    np.testing.assert_allclose(tf.clip_by_norm(t, 2 * norm).numpy(), t, rtol=1e-12)
    rows = tf.clip_by_norm(t, 0.5, axes=[1]).numpy()
    np.testing.assert_allclose(np.linalg.norm(rows, axis=1), np.minimum(np.linalg.norm(t, axis=1), 0.5), rtol=1e-12)
    check_gradients(lambda x: tf.clip_by_norm(x, 1.0), t)
    u = RNG.standard_normal(5)
    clipped, found = tf.clip_by_global_norm([t, None, u], 1.0)
    total = np.sqrt((t ** 2).sum() + (u ** 2).sum())
    assert float(found) == pytest.approx(total) and clipped[1] is None
    np.testing.assert_allclose(clipped[0].numpy(), t / total, rtol=1e-12)
    np.testing.assert_allclose(clipped[2].numpy(), u / total, rtol=1e-12)
    assert np.isnan(tf.clip_by_global_norm([np.array([np.inf, 1.0])], 1.0)[0][0].numpy()).all()  # as TensorFlow


def test_nn_takes_tensorflows_names_and_nhwc_strides():
    x = RNG.standard_normal((2, 8, 8, 3)).astype("float32")
    k = RNG.standard_normal((3, 3, 3, 4)).astype("float32")
    np.testing.assert_array_equal(tf.nn.conv2d(input=x, filters=k, strides=[1, 2, 2, 1], padding="SAME").numpy(),
                                  tf.nn.conv2d(x, k, 2, "same").numpy())
    np.testing.assert_array_equal(tf.nn.max_pool2d(x, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="VALID").numpy(),
                                  tf.nn.max_pool2d(x, 2).numpy())
    assert tf.nn.avg_pool2d(x, ksize=2, strides=2, padding="VALID").shape == (2, 4, 4, 3)
    with pytest.raises(NotImplementedError, match="NHWC only"):
        tf.nn.conv2d(x, k, 1, "VALID", data_format="NCHW")
    with pytest.raises(ValueError, match=r"\[1, h, w, 1\]"):
        tf.nn.conv2d(x, k, [2, 2, 2, 2], "VALID")


def test_operators_without_gradient():
    t = tf.constant([[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_array_equal((t // 2).numpy(), [[0, 1], [1, 2]])
    assert (t // 2).dtype == np.float32 and int(tf.shape(t)[0] // 2) == 1
    np.testing.assert_array_equal((7 // t).numpy(), [[7, 3], [2, 1]])
    a, b = tf.constant([True, False]), tf.constant([True, True])
    np.testing.assert_array_equal((a & b).numpy(), [True, False])
    np.testing.assert_array_equal((a | b).numpy(), [True, True])
    np.testing.assert_array_equal((a ^ b).numpy(), [False, True])
    np.testing.assert_array_equal((~a).numpy(), [False, True])


def test_reductions_take_pytorch_and_numpy_arguments():
    t = tf.constant([[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_array_equal(t.sum(dim=1, keepdim=True).numpy(), [[3.0], [7.0]])
    assert float(np.mean(t)) == 2.5 and float(np.sum(t)) == 10.0
    with pytest.raises(TypeError, match="unsupported arguments"):
        t.mean(out=np.empty(()))


def test_pytorch_shape_methods():
    w = tf.Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    assert w.view(4).shape == (4,) and w.view(1, 4).shape == (1, 4)
    assert w.unsqueeze(0).shape == (1, 2, 2)
    np.testing.assert_array_equal(w.permute(1, 0).numpy(), [[1.0, 3.0], [2.0, 4.0]])
    copy = w.clone()
    copy.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), np.ones((2, 2)))
