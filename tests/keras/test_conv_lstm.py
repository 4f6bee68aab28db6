"""ConvLSTM1D/2D/3D (Keras 3's layers): outputs against a NumPy ConvLSTM, shapes, states, masks, dropout,
gradients, config, and bad input."""

import numpy as np
import pytest

from chainrule import keras
from chainrule.engine.gradcheck import check_gradients
from chainrule.engine.tensor import Tensor
from chainrule.keras import layers


def _conv2d_same(x, w):
    """NumPy 'same' 2-D convolution, stride 1: x (n, h, w, c), w (kh, kw, c, f)."""
    kh, kw = w.shape[:2]
    top, left = (kh - 1) // 2, (kw - 1) // 2
    xp = np.pad(x, ((0, 0), (top, kh - 1 - top), (left, kw - 1 - left), (0, 0)))
    windows = np.lib.stride_tricks.sliding_window_view(xp, (kh, kw), axis=(1, 2))  # (n, h, w, c, kh, kw)
    return np.einsum("nhwcij,ijcf->nhwf", windows, w)


def _reference(x, kernel, recurrent_kernel, bias, filters):
    """A ConvLSTM2D ('same' padding) in NumPy, returning every step's h and the last c."""
    sigmoid = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    n, steps, h, w, _ = x.shape
    hs, c = np.zeros((n, h, w, filters)), np.zeros((n, h, w, filters))
    out = []
    for t in range(steps):
        z = _conv2d_same(x[:, t], kernel) + bias + _conv2d_same(hs, recurrent_kernel)
        i, f, g, o = np.split(z, 4, axis=-1)
        c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
        hs = sigmoid(o) * np.tanh(c)
        out.append(hs)
    return np.stack(out, axis=1), c


def test_conv_lstm2d_matches_a_numpy_conv_lstm():
    x = np.random.rand(2, 4, 6, 5, 3).astype("float32")
    layer = layers.ConvLSTM2D(4, (3, 3), padding="same", return_sequences=True, return_state=True,
                              bias_initializer="random_normal")
    seq, h, c = layer(x)
    kernel, recurrent_kernel, bias = layer.get_weights()
    assert kernel.shape == (3, 3, 3, 16) and recurrent_kernel.shape == (3, 3, 4, 16) and bias.shape == (16,)
    expected_seq, expected_c = _reference(x.astype("float64"), kernel, recurrent_kernel, bias, 4)
    np.testing.assert_allclose(seq.numpy(), expected_seq, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(h.numpy(), expected_seq[:, -1], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(c.numpy(), expected_c, rtol=1e-4, atol=1e-5)


def test_unit_forget_bias_and_shapes_of_the_three_ranks():
    layer = layers.ConvLSTM2D(3, 2)
    layer.build((None, 5, 7, 7, 2))
    np.testing.assert_array_equal(layer.cell.bias.numpy(), [0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0])
    assert layer.compute_output_shape((None, 5, 7, 7, 2)) == (None, 6, 6, 3)  # 'valid' padding
    assert tuple(layers.ConvLSTM1D(2, 3, strides=2, padding="same")(np.ones((2, 3, 9, 1), "float32")).shape) == \
        (2, 5, 2)
    out = layers.ConvLSTM3D(2, 2, return_sequences=True)(np.ones((1, 3, 4, 4, 4, 1), "float32"))
    assert tuple(out.shape) == (1, 3, 3, 3, 3, 2)
    first = layers.ConvLSTM2D(2, 3, padding="same", data_format="channels_first")
    assert tuple(first(np.ones((2, 3, 1, 5, 6), "float32")).shape) == (2, 2, 5, 6)


def test_in_a_functional_model_with_an_unknown_number_of_frames_it_trains():
    inp = layers.Input(shape=(None, 8, 8, 1))
    x = layers.ConvLSTM2D(4, (3, 3), padding="same", return_sequences=True, activation="relu")(inp)
    x = layers.BatchNormalization()(x)
    x = layers.Conv3D(1, (3, 3, 3), activation="sigmoid", padding="same")(x)
    model = keras.Model(inp, x)
    assert model.output_shape == (None, None, 8, 8, 1)
    data = np.random.rand(4, 5, 8, 8, 1).astype("float32")
    model.compile(loss="binary_crossentropy", optimizer="adam")
    history = model.fit(data[:, :-1], data[:, 1:], epochs=3, batch_size=2, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert model.predict(data[:1, :3], verbose=0).shape == (1, 3, 8, 8, 1)


def test_masked_steps_keep_the_state_and_dropout_draws_a_mask_per_gate():
    x = np.random.rand(2, 3, 4, 4, 1).astype("float32")
    mask = np.array([[True, True, False], [True, True, True]])
    layer = layers.ConvLSTM2D(2, 3, padding="same")
    masked = layer(x, mask=mask).numpy()
    np.testing.assert_allclose(masked[0], layer(x[:, :2]).numpy()[0], rtol=1e-5)
    drop = layers.ConvLSTM2D(2, 3, padding="same", dropout=0.5, recurrent_dropout=0.5, seed=1)
    out = drop(x, training=True)
    assert np.isfinite(out.numpy()).all()
    assert drop.cell.get_dropout_mask(Tensor(x[:, 0])).shape == (4, 2, 4, 4, 1)  # drawn anew: four gates' masks
    np.testing.assert_allclose(drop(x).numpy(), drop(x, training=False).numpy())


def test_gradients_against_finite_differences():
    layer = layers.ConvLSTM1D(2, 2, padding="same", return_sequences=True, dtype="float64")
    assert check_gradients(lambda x: layer(x), np.random.rand(2, 3, 4, 1))
    kernel = layer.cell.kernel
    x = Tensor(np.random.rand(2, 3, 4, 1))
    with _tape() as tape:
        y = layer(x)
        loss = (y * y).sum()
    (g,) = tape.gradient(loss, [kernel])
    eps, k0 = 1e-6, kernel.numpy().copy()
    numeric = np.zeros_like(k0)
    for index in np.ndindex(k0.shape):
        for sign in (1, -1):
            k = k0.copy()
            k[index] += sign * eps
            kernel.assign(k)
            numeric[index] += sign * float((layer(x).numpy() ** 2).sum()) / (2 * eps)
    kernel.assign(k0)
    np.testing.assert_allclose(g.numpy(), numeric, rtol=1e-5, atol=1e-7)


def _tape():
    import chainrule as tf

    return tf.GradientTape()


def test_config_round_trip_and_errors():
    layer = layers.ConvLSTM2D(5, (3, 1), strides=(2, 1), padding="same", activation="relu", return_sequences=True,
                              dropout=0.25, name="clstm")
    config = layer.get_config()
    assert config["filters"] == 5 and config["kernel_size"] == (3, 1) and config["strides"] == (2, 1)
    assert config["return_sequences"] and config["dropout"] == 0.25 and "cell" not in config
    clone = layers.ConvLSTM2D.from_config(config)
    assert clone.filters == 5 and clone.padding == "same" and clone.activation is layer.activation
    x = np.random.rand(1, 2, 6, 3, 2).astype("float32")
    model = keras.Sequential([layers.Input((2, 6, 3, 2)), layer])
    restored = keras.models.model_from_json(model.to_json())
    restored.set_weights(model.get_weights())
    np.testing.assert_allclose(restored(x).numpy(), model(x).numpy(), rtol=1e-6)
    with pytest.raises(ValueError, match="rank 5"):
        layers.ConvLSTM2D(2, 3)(np.ones((2, 3, 4, 1), "float32"))
    with pytest.raises(ValueError, match="strides > 1"):
        layers.ConvLSTM2D(2, 3, strides=2, dilation_rate=2)
