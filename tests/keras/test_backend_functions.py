"""keras.backend's Keras 2 functions (Keras 3's keras.src.legacy.backend) against NumPy, on tensors and on
keras.Input tensors, with the errors Keras gives."""
import numpy as np
import pytest

import chainrule as tf
from chainrule import keras
from chainrule.keras import backend as K

RNG = np.random.default_rng(0)
A = RNG.normal(size=(3, 4)).astype("float32")


def np_of(t):
    return np.asarray(t.numpy() if hasattr(t, "numpy") else t)


def test_tf_keras_backend_is_keras_backend():
    assert tf.keras.backend is K is keras.backend


@pytest.mark.parametrize("name, expected", [
    ("abs", np.abs(A)), ("square", A ** 2), ("exp", np.exp(A)), ("sign", np.sign(A)), ("round", np.round(A)),
    ("sin", np.sin(A)), ("cos", np.cos(A)), ("sigmoid", 1 / (1 + np.exp(-A))), ("tanh", np.tanh(A)),
    ("softplus", np.log1p(np.exp(A))), ("softsign", A / (1 + np.abs(A))),
    ("hard_sigmoid", np.clip(0.2 * A + 0.5, 0, 1)), ("flatten", A.ravel()), ("transpose", A.T),
    ("batch_flatten", A.reshape(3, -1)), ("sqrt", np.sqrt(np.maximum(A, 0))),
])
def test_elementwise_and_shape_functions(name, expected):
    np.testing.assert_allclose(np_of(getattr(K, name)(tf.constant(A))), expected, rtol=1e-5, atol=1e-6)


def test_reductions_take_keras_2_defaults():
    x = tf.constant(A)
    for name, fn in (("sum", np.sum), ("mean", np.mean), ("max", np.max), ("min", np.min), ("prod", np.prod),
                     ("var", np.var), ("std", np.std)):
        np.testing.assert_allclose(np_of(getattr(K, name)(x, axis=1, keepdims=True)),
                                   fn(A, axis=1, keepdims=True), rtol=1e-5, err_msg=name)
    np.testing.assert_array_equal(np_of(K.argmax(x)), A.argmax(-1))  # axis=-1 by default, as Keras 2
    np.testing.assert_array_equal(np_of(K.argmin(x)), A.argmin(-1))
    assert float(K.mean(tf.constant([True, False, True, True]))) == 0.75  # booleans averaged as floats
    assert bool(K.all(tf.constant([1, 1]))) and not bool(K.any(tf.constant([0, 0])))
    np.testing.assert_allclose(np_of(K.cumsum(x)), np.cumsum(A, axis=0), rtol=1e-6)
    np.testing.assert_allclose(np_of(K.log(K.exp(x))), A, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np_of(K.pow(x, 2)), A ** 2, rtol=1e-6)


def test_clip_and_comparisons():
    x = tf.constant(A)
    np.testing.assert_array_equal(np_of(K.clip(x, -0.5, 0.5)), np.clip(A, -0.5, 0.5))
    np.testing.assert_array_equal(np_of(K.clip(x, None, 0.0)), np.minimum(A, 0))
    np.testing.assert_array_equal(np_of(K.clip(x, 1.0, 0.0)), np.ones_like(A))  # a max below the min: the min
    np.testing.assert_array_equal(np_of(K.greater(x, 0)), A > 0)
    np.testing.assert_array_equal(np_of(K.maximum(x, 0.0)), np.maximum(A, 0))
    np.testing.assert_array_equal(np_of(K.switch(K.greater(x, 0), x, -x)), np.abs(A))
    per_row = K.switch(tf.constant([True, False, True]), x, tf.zeros_like(x))
    np.testing.assert_array_equal(np_of(per_row), A * np.array([[1], [0], [1]], "float32"))


def test_shapes_and_rearrangements():
    x = tf.constant(RNG.normal(size=(2, 3, 4)).astype("float32"))
    assert K.int_shape(x) == (2, 3, 4) and K.ndim(x) == 3 and K.dtype(x) == "float32"
    assert np_of(K.shape(x)).tolist() == [2, 3, 4] and K.shape(x).dtype == np.int32
    assert K.int_shape(keras.Input((5, None))) == (None, 5, None)
    assert K.shape(keras.Input((5,))) == (None, 5)
    assert K.count_params(K.variable(np.zeros((3, 5)))) == 15
    np.testing.assert_array_equal(np_of(K.permute_dimensions(x, (2, 0, 1))), np.transpose(np_of(x), (2, 0, 1)))
    np.testing.assert_array_equal(np_of(K.reshape(x, (6, 4))), np_of(x).reshape(6, 4))
    assert K.int_shape(K.expand_dims(x)) == (2, 3, 4, 1)  # axis=-1 by default, as Keras 2
    assert K.int_shape(K.squeeze(K.expand_dims(x, 1), 1)) == (2, 3, 4)
    assert K.int_shape(K.stack([x, x])) == (2, 2, 3, 4)
    np.testing.assert_array_equal(np_of(K.concatenate([x, x])), np.concatenate([np_of(x)] * 2, axis=-1))
    np.testing.assert_array_equal(np_of(K.repeat(tf.constant(A), 2)), np.repeat(A[:, None], 2, axis=1))
    np.testing.assert_array_equal(np_of(K.repeat_elements(x, 2, axis=1)), np.repeat(np_of(x), 2, axis=1))
    np.testing.assert_array_equal(np_of(K.reverse(x, 1)), np_of(x)[:, ::-1])
    np.testing.assert_array_equal(np_of(K.tile(x, (1, 2, 1))), np.tile(np_of(x), (1, 2, 1)))
    np.testing.assert_array_equal(np_of(K.gather(tf.constant(A), [2, 0])), A[[2, 0]])
    np.testing.assert_array_equal(np_of(K.one_hot(tf.constant([1, 0]), 3)), np.eye(3)[[1, 0]])
    with pytest.raises(ValueError, match="Expected input `x` to have rank 2"):
        K.repeat(x, 2)


def test_dot_and_batch_dot_as_keras_2():
    x, y = RNG.normal(size=(2, 3)).astype("float32"), RNG.normal(size=(4, 3, 5)).astype("float32")
    out = K.dot(tf.constant(x), tf.constant(y))
    assert K.int_shape(out) == (2, 4, 5)
    np.testing.assert_allclose(np_of(out), np.dot(x, y), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np_of(K.dot(tf.constant(A), tf.constant(A.T))), A @ A.T, rtol=1e-5)
    # Keras 2's docstring example: (32, 20, 1) and (32, 30, 20) over axes (1, 2) -> (32, 1, 30)
    xb, yb = RNG.normal(size=(32, 20, 1)).astype("float32"), RNG.normal(size=(32, 30, 20)).astype("float32")
    out = K.batch_dot(tf.constant(xb), tf.constant(yb), axes=(1, 2))
    assert K.int_shape(out) == (32, 1, 30)
    np.testing.assert_allclose(np_of(out), np.einsum("bki,bjk->bij", xb, yb), rtol=1e-4, atol=1e-5)
    u, v = RNG.normal(size=(5, 3)).astype("float32"), RNG.normal(size=(5, 3)).astype("float32")
    out = K.batch_dot(tf.constant(u), tf.constant(v), axes=1)  # two matrices: one number per sample
    assert K.int_shape(out) == (5, 1)
    np.testing.assert_allclose(np_of(out)[:, 0], (u * v).sum(1), rtol=1e-5)
    w = RNG.normal(size=(5, 3, 4)).astype("float32")
    np.testing.assert_allclose(np_of(K.batch_dot(tf.constant(u), tf.constant(w))), np.einsum("bi,bij->bj", u, w),
                               rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="Cannot perform batch_dot over axis 0"):
        K.batch_dot(tf.constant(u), tf.constant(v), axes=0)
    with pytest.raises(ValueError, match="with different batch sizes"):
        K.batch_dot(tf.constant(u), tf.constant(w[:2]))
    with pytest.raises(ValueError, match=r"x.shape\[1\] != y.shape\[1\] \(3 != 4\)"):
        K.batch_dot(tf.constant(u), tf.constant(np.ones((5, 4), "float32")), axes=1)


def test_variables_and_values():
    v = K.variable([[1, 2]], name="v", constraint=keras.constraints.NonNeg())
    assert isinstance(v, tf.Variable) and v.dtype == np.float32 and v.name == "v"
    assert isinstance(v.constraint, keras.constraints.NonNeg)
    K.set_value(v, [[3, 4]])
    np.testing.assert_array_equal(K.get_value(v), [[3, 4]])
    K.batch_set_value([(v, [[5, 6]])])
    assert [a.tolist() for a in K.batch_get_value([v])] == [[[5, 6]]]
    K.update_add(v, [[1, 1]])
    np.testing.assert_array_equal(K.eval(v), [[6, 7]])
    K.moving_average_update(v, np.array([[0.0, 0.0]]), 0.5)
    np.testing.assert_array_equal(K.eval(v), [[3, 3.5]])
    assert isinstance(K.zeros((2, 3)), tf.Variable) and K.get_value(K.ones((2,), dtype="int32")).dtype == np.int32
    np.testing.assert_array_equal(K.eval(K.eye(3)), np.eye(3))
    np.testing.assert_array_equal(np_of(K.ones_like(tf.constant(A))), np.ones_like(A))
    c = K.constant(2, shape=(2, 2))
    assert c.dtype == np.float32 and np_of(c).tolist() == [[2, 2], [2, 2]]
    assert K.cast_to_floatx([1, 2]).dtype == np.float32
    assert K.is_keras_tensor(keras.Input((3,))) and not K.is_keras_tensor(tf.constant(A))
    with pytest.raises(RuntimeError, match="keras.Input"):
        K.placeholder(shape=(None, 3))


def test_epsilon_floatx_and_formats():
    assert K.epsilon() == 1e-7 and K.floatx() == "float32" and K.image_data_format() == "channels_last"
    try:
        K.set_epsilon(1e-5)
        assert K.epsilon() == 1e-5 and keras.config.epsilon() == 1e-5
    finally:
        K.set_epsilon(1e-7)
    K.set_image_data_format("channels_last")
    with pytest.raises(ValueError, match="channels-last"):
        K.set_image_data_format("channels_first")
    with pytest.raises(ValueError, match="must be one of"):
        K.set_image_data_format("nhwc")


def test_activations():
    x = tf.constant(A)
    np.testing.assert_allclose(np_of(K.relu(x)), np.maximum(A, 0))
    np.testing.assert_allclose(np_of(K.relu(x, alpha=0.1)), np.where(A > 0, A, 0.1 * A), rtol=1e-6)
    np.testing.assert_allclose(np_of(K.relu(x, max_value=0.5)), np.clip(A, 0, 0.5))
    np.testing.assert_allclose(np_of(K.relu(x, threshold=0.2)), np.where(A > 0.2, A, 0), rtol=1e-6)
    e = np.exp(A - A.max(-1, keepdims=True))
    np.testing.assert_allclose(np_of(K.softmax(x)), e / e.sum(-1, keepdims=True), rtol=1e-5)
    with pytest.raises(ValueError, match="Cannot apply softmax to a tensor that is 1D"):
        K.softmax(tf.constant([1.0, 2.0]))
    np.testing.assert_allclose(np_of(K.l2_normalize(x, axis=1)), A / np.linalg.norm(A, axis=1, keepdims=True),
                               rtol=1e-5)
    np.testing.assert_allclose(np_of(K.elu(x, 0.5)), np.where(A > 0, A, 0.5 * (np.exp(A) - 1)), rtol=1e-5)
    np.testing.assert_allclose(np_of(K.bias_add(x, tf.constant([1.0, 2.0, 3.0, 4.0]))), A + [1, 2, 3, 4])


def test_losses_are_keras_2_formulas():
    eps = 1e-7
    p = RNG.uniform(0.01, 0.99, size=(3, 4)).astype("float32")
    t = (RNG.uniform(size=(3, 4)) > 0.5).astype("float32")
    expected = -(t * np.log(p + eps) + (1 - t) * np.log(1 - p + eps))
    np.testing.assert_allclose(np_of(K.binary_crossentropy(tf.constant(t), tf.constant(p))), expected, rtol=1e-5)
    logits = np.log(p / (1 - p))
    np.testing.assert_allclose(np_of(K.binary_crossentropy(t, tf.constant(logits), from_logits=True)),
                               -(t * np.log(p) + (1 - t) * np.log(1 - p)), rtol=1e-4)
    probs = p / p.sum(-1, keepdims=True)
    onehot = np.eye(4, dtype="float32")[[0, 3, 1]]
    np.testing.assert_allclose(np_of(K.categorical_crossentropy(tf.constant(onehot), tf.constant(probs))),
                               -np.log(probs[[0, 1, 2], [0, 3, 1]]), rtol=1e-5)
    np.testing.assert_allclose(np_of(K.categorical_crossentropy(onehot, tf.constant(A), from_logits=True)),
                               -np.log(np.exp(A) / np.exp(A).sum(-1, keepdims=True))[[0, 1, 2], [0, 3, 1]],
                               rtol=1e-5)
    ids = np.array([0, 3, 1])
    np.testing.assert_allclose(np_of(K.sparse_categorical_crossentropy(ids, tf.constant(probs))),
                               -np.log(probs[[0, 1, 2], ids]), rtol=1e-5)
    ignored = K.sparse_categorical_crossentropy(np.array([0, 3, 3]), tf.constant(A), from_logits=True,
                                                ignore_class=3)
    assert np_of(ignored)[1:].tolist() == [0.0, 0.0] and np_of(ignored)[0] > 0
    with pytest.raises(ValueError, match="incompatible"):
        K.categorical_crossentropy(tf.constant(onehot[:, :3]), tf.constant(probs))


def test_random_draws():
    assert K.int_shape(K.random_normal((2, 3))) == (2, 3)
    bern = np_of(K.random_bernoulli((1000,), p=0.3, seed=1))
    assert set(np.unique(bern)) <= {0.0, 1.0} and 0.25 < bern.mean() < 0.35
    trunc = np_of(K.truncated_normal((1000,), stddev=1.0, seed=2))
    assert np.abs(trunc).max() <= 2.0
    v = K.random_uniform_variable((2, 2), 0.0, 1.0, seed=3)
    assert isinstance(v, tf.Variable) and np.all((K.eval(v) >= 0) & (K.eval(v) < 1))
    kept = np_of(K.dropout(tf.constant(np.ones((1000,), "float32")), 0.5, seed=4))
    assert set(np.unique(kept)) <= {0.0, 2.0}


def test_vae_sampling_lambda_on_functional_inputs():
    """The Keras 2 VAE example's sampling function: K.shape, K.int_shape, K.random_normal and K.exp in a Lambda."""
    def sampling(args):
        z_mean, z_log_var = args
        batch = K.shape(z_mean)[0]
        dim = K.int_shape(z_mean)[1]
        epsilon = K.random_normal(shape=(batch, dim))
        return z_mean + K.exp(0.5 * z_log_var) * epsilon

    inputs = keras.Input((4,))
    z_mean = keras.layers.Dense(2)(inputs)
    z_log_var = keras.layers.Dense(2)(inputs)
    z = keras.layers.Lambda(sampling, output_shape=(2,))([z_mean, z_log_var])
    model = keras.Model(inputs, z)
    assert model.predict(np.ones((3, 4), "float32"), verbose=0).shape == (3, 2)
    # K.mean on keras.Input tensors becomes a layer of the functional model
    pooled = K.mean(inputs, axis=1, keepdims=True)
    assert K.is_keras_tensor(pooled) and K.int_shape(pooled) == (None, 1)


def test_learning_phase_follows_training():
    seen = []

    class Probe(keras.layers.Layer):
        def call(self, inputs, training=None):
            seen.append(K.learning_phase())
            return inputs

    probe = Probe()
    probe(np.ones((1, 1), "float32"), training=True)
    probe(np.ones((1, 1), "float32"))
    assert seen == [1, 0] and K.learning_phase() == 0


def test_convolutions_pooling_and_padding():
    x = RNG.normal(size=(2, 7, 3)).astype("float32")
    kernel = RNG.normal(size=(3, 3, 4)).astype("float32")
    causal = np_of(K.conv1d(tf.constant(x), tf.constant(kernel), padding="causal"))
    padded = np.pad(x, ((0, 0), (2, 0), (0, 0)))
    expected = np.stack([np.einsum("bkc,kco->bo", padded[:, t:t + 3], kernel) for t in range(7)], axis=1)
    np.testing.assert_allclose(causal, expected, rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(np_of(K.temporal_padding(tf.constant(x), (1, 2))),
                                  np.pad(x, ((0, 0), (1, 2), (0, 0))))
    images = RNG.normal(size=(1, 4, 4, 2)).astype("float32")
    np.testing.assert_array_equal(np_of(K.spatial_2d_padding(tf.constant(images))),
                                  np.pad(images, ((0, 0), (1, 1), (1, 1), (0, 0))))
    pooled = np_of(K.pool2d(tf.constant(images), (2, 2), strides=(2, 2)))
    np.testing.assert_array_equal(pooled, images.reshape(1, 2, 2, 2, 2, 2).max(axis=(2, 4)))
    assert K.int_shape(K.pool2d(tf.constant(images), (2, 2))) == (1, 3, 3, 2)  # strides (1, 1) by default
    big = np_of(K.resize_images(tf.constant(images), 2, 3, "channels_last"))
    np.testing.assert_array_equal(big, images.repeat(2, axis=1).repeat(3, axis=2))
    w2 = RNG.normal(size=(3, 3, 2, 5)).astype("float32")
    assert K.int_shape(K.conv2d(tf.constant(images), tf.constant(w2), padding="same")) == (1, 4, 4, 5)
    with pytest.raises(ValueError, match="Invalid pooling mode"):
        K.pool2d(tf.constant(images), (2, 2), pool_mode="min")
    with pytest.raises(ValueError, match="channels_first"):
        K.conv2d(tf.constant(images), tf.constant(w2), data_format="channels_first")


def test_ctc_batch_cost_matches_torch():
    torch = pytest.importorskip("torch")
    probs = RNG.uniform(0.1, 1.0, size=(2, 6, 5)).astype("float32")
    probs /= probs.sum(-1, keepdims=True)
    labels = np.array([[1, 2, 0], [3, 3, 1]])
    label_length, input_length = np.array([[2], [3]]), np.array([[6], [5]])
    got = np_of(K.ctc_batch_cost(labels, tf.constant(probs), input_length, label_length))
    assert got.shape == (2, 1)
    log_probs = torch.log_softmax(torch.log(torch.tensor(probs) + 1e-7), -1).transpose(0, 1)
    want = torch.nn.functional.ctc_loss(log_probs, torch.tensor(labels), torch.tensor(input_length[:, 0]),
                                        torch.tensor(label_length[:, 0]), blank=4, reduction="none")
    np.testing.assert_allclose(got[:, 0], want.numpy(), rtol=1e-4)
    decoded, _ = K.ctc_decode(tf.constant(np.eye(5, dtype="float32")[[[1, 1, 4, 2, 2, 4]]]), np.array([6]))
    assert np_of(decoded[0])[0, :2].tolist() == [1, 2] and np.all(np_of(decoded[0])[0, 2:] == -1)


def test_loops_dtypes_uids_and_refusals():
    x = tf.constant(A)
    np.testing.assert_allclose(np_of(K.map_fn(lambda row: row * 2, x)), A * 2)
    assert float(K.foldl(lambda acc, row: acc + K.sum(row), x, initializer=0.0)) == pytest.approx(A.sum(), 1e-5)
    assert np_of(K.foldr(lambda acc, row: row, x)).tolist() == A[0].tolist()  # right to left: row 0 comes last
    np.testing.assert_allclose(np_of(K.batch_normalization(x, 1.0, 4.0, 0.5, 2.0, epsilon=0.0)),
                               (A - 1) / 2 * 2 + 0.5, rtol=1e-5)
    assert K.standardize_dtype(np.float16) == "float16" and K.is_float_dtype("float64") and K.is_int_dtype("uint8")
    assert not K.is_float_dtype("int32") and K.to_dense(x) is x
    K.clear_session()
    assert [K.get_uid("dense"), K.get_uid("dense"), K.get_uid("conv")] == [1, 2, 1]
    K.clear_session()
    assert K.get_uid("dense") == 1
    with pytest.raises(RuntimeError, match="GradientTape"):
        K.gradients(K.sum(x), [x])
    p = np.array([[0.9, 0.2]], "float32")
    t = np.array([[1.0, 0.0]], "float32")
    bce = -(t * np.log(p + 1e-7) + (1 - t) * np.log(1 - p + 1e-7))
    p_t = t * p + (1 - t) * (1 - p)
    np.testing.assert_allclose(np_of(K.binary_focal_crossentropy(t, tf.constant(p))), (1 - p_t) ** 2 * bce,
                               rtol=1e-5)


def test_depthwise_and_separable_convolutions_match_the_layers():
    images = RNG.normal(size=(2, 5, 5, 3)).astype("float32")
    layer = keras.layers.SeparableConv2D(4, 3, depth_multiplier=2, use_bias=False)
    expected = layer(images).numpy()
    depthwise_kernel, pointwise_kernel = layer.get_weights()
    got = K.separable_conv2d(tf.constant(images), tf.constant(depthwise_kernel), tf.constant(pointwise_kernel))
    np.testing.assert_allclose(np_of(got), expected, rtol=1e-5, atol=1e-5)
    depthwise = keras.layers.DepthwiseConv2D(3, padding="same", use_bias=False)
    expected = depthwise(images).numpy()
    got = K.depthwise_conv2d(tf.constant(images), tf.constant(depthwise.get_weights()[0]), padding="same")
    np.testing.assert_allclose(np_of(got), expected, rtol=1e-5, atol=1e-5)
