"""Keras layers and initializers on the strict backend (array-api-strict's arrays, which NumPy cannot read): what
sits above the ops must not call NumPy-only methods on a device's arrays (issue 17)."""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("array_api_strict")

from chainrule import backend, keras  # noqa: E402
from chainrule.engine.tensor import Tensor  # noqa: E402


@pytest.mark.parametrize("name", ["zeros", "ones", "glorot_uniform", "he_normal", "truncated_normal", "orthogonal",
                                  "identity"])
def test_initializers_return_tensors_on_the_device(strict, name):
    value = keras.initializers.get(name)((3, 3))
    assert isinstance(value, Tensor) and strict.owns(value.data)
    assert value.numpy().shape == (3, 3)


def test_initializer_values_equal_numpys(strict):
    on_strict = keras.initializers.GlorotUniform(seed=3)((4, 5)).numpy()
    backend.set_backend("numpy")
    assert np.array_equal(on_strict, keras.initializers.GlorotUniform(seed=3)((4, 5)).numpy())


def test_masking_on_the_device(strict):
    x = np.array([[[1.0, 2.0], [0.0, 0.0], [3.0, 0.0]]], "float32")
    out = keras.layers.Masking(mask_value=0.0)(backend.to_device(x))
    assert strict.owns(out.data) and strict.owns(out._keras_mask.data)
    assert backend.to_host(out._keras_mask.data).tolist() == [[True, False, True]]
    assert out.numpy().tolist() == x.tolist()


def test_seed_generator_state_on_the_device(strict):
    gen = keras.random.SeedGenerator(seed=42)
    assert gen.next().tolist() == [42, 0] and gen.next(ordered=False).tolist() == [42, 1]
    assert backend.to_host(gen.state.data).tolist() == [(43 * 5387 % 933199), (2 * 5387 % 933199)]
    draws = keras.random.normal((2, 3), seed=keras.random.SeedGenerator(7)).numpy()
    backend.set_backend("numpy")
    assert np.array_equal(draws, keras.random.normal((2, 3), seed=keras.random.SeedGenerator(7)).numpy())


@pytest.mark.parametrize("draw", ["normal", "uniform", "randint", "gamma", "beta", "binomial", "categorical"])
def test_keras_random_draws_land_on_the_device(strict, draw):
    args = {"normal": ((2, 3),), "uniform": ((2, 3),), "randint": ((2, 3), 0, 5), "gamma": ((2, 3), 2.0),
            "beta": ((2, 3), 2.0, 3.0), "binomial": ((2, 3), 5, 0.5),
            "categorical": (backend.to_device(np.zeros((2, 4), "float32")), 3)}[draw]
    value = getattr(keras.random, draw)(*args, seed=5)
    assert strict.owns(value.data)
    on_strict = value.numpy()
    backend.set_backend("numpy")
    args = tuple(backend.to_host(a) if backend.is_array(a) else a for a in args)
    assert np.array_equal(on_strict, getattr(keras.random, draw)(*args, seed=5).numpy())


@pytest.mark.parametrize("layer", [lambda: keras.layers.RandomFlip(seed=1),
                                   lambda: keras.layers.RandomRotation(0.2, seed=1),
                                   lambda: keras.layers.RandomContrast(0.5, seed=1),
                                   lambda: keras.layers.RandomBrightness(0.3, seed=1)])
def test_augmentation_draws_on_the_device(strict, layer):
    images = np.random.default_rng(0).random((2, 6, 6, 3)).astype("float32")
    out = layer()(backend.to_device(images), training=True)
    assert strict.owns(out.data)
    on_strict = out.numpy()
    backend.set_backend("numpy")
    np.testing.assert_allclose(on_strict, layer()(images, training=True).numpy(), rtol=1e-5, atol=1e-6)


def test_text_stays_on_the_host(strict):
    """No device array holds strings: text tensors keep NumPy's arrays, numbers go to the device."""
    import chainrule as tf

    text = tf.constant(["a cat", "a dog"])
    assert type(text.data) is np.ndarray and text.numpy().tolist() == [b"a cat", b"a dog"]
    assert strict.owns(tf.constant([1.0, 2.0]).data)
    assert type(tf.constant(np.str_("one")).data) is np.ndarray
    inputs = keras.Input(shape=(), dtype="string")
    lengths = keras.layers.Lambda(lambda s: tf.strings.length(s))(inputs)
    assert keras.Model(inputs, lengths)(np.array(["ab", "abc"])).numpy().tolist() == [2, 3]


def test_array_to_img_reads_a_device_array(strict):
    pytest.importorskip("PIL")
    image = keras.utils.array_to_img(backend.to_device(np.zeros((4, 5, 3), "float32")))
    assert image.size == (5, 4)


def test_tf_random_categorical_reads_device_logits(strict):
    import chainrule as tf

    logits = tf.constant([[0.0, 20.0, 0.0], [20.0, 0.0, 0.0]])
    assert strict.owns(logits.data)
    assert tf.random.categorical(logits, 4, seed=1).numpy().tolist() == [[1] * 4, [0] * 4]


def test_a_device_scalar_formats_and_reads_as_python(strict):
    import chainrule as tf

    loss = tf.constant(0.25)
    assert strict.owns(loss.data)
    assert f"{loss:.3f}" == "0.250" and loss.item() == 0.25
    assert tf.constant([1, 2]).tolist() == [1, 2]


def test_variable_assign_casts_and_moves_on_the_device(strict):
    import chainrule as tf

    v = tf.Variable([1.0, 2.0])
    v.assign(tf.constant([3, 4]))  # int32 into float32, as NumPy's setitem casts
    assert strict.owns(v.data) and v.numpy().tolist() == [3.0, 4.0] and v.dtype == np.float32
    v.assign(np.array([5.0, 6.0]))
    assert strict.owns(v.data) and v.numpy().tolist() == [5.0, 6.0]
    v.assign_add(tf.constant([1, 1]))
    v.assign_sub(np.array([0.5, 0.5]))
    assert strict.owns(v.data) and v.numpy().tolist() == [5.5, 6.5] and v.dtype == np.float32
    host = tf.Variable([0.0])
    host.data = np.zeros(1, "float32")  # a variable kept on the host takes a device's value there
    host.assign(tf.constant([7.0]))
    assert type(host.data) is np.ndarray and host.numpy().tolist() == [7.0]
